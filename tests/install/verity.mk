# tests/install/verity.sh: jefe-install and --update of a --secure-boot own
# image (signed UKI per slot, dm-verity root) under OVMF Secure Boot with
# the snakeoil key.  An own-mode ISO build and five boots under TCG: not
# in `make check` (the whole check is at its 50-minute budget); run it with
#   make check-verity
EXTRA_DIST += tests/install/verity.mk tests/install/verity.sh

check-verity: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS=tests/install/verity.sh
.PHONY: check-verity
