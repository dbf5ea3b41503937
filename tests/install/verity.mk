# tests/install/verity.sh: jefe-install and --update of a --secure-boot own
# image (signed UKI per slot, dm-verity root) under OVMF Secure Boot with
# the snakeoil key: the own-mode ISO (tests/iso/secure-boot-own.sh builds
# it too) and five boots under TCG.  Not in `make check` (install.mk
# says why); run it with `make check-install-extra` (with tpm.sh) or
# alone with
#   make check-verity
EXTRA_DIST += tests/install/verity.mk tests/install/verity.sh

check-verity: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS=tests/install/verity.sh
.PHONY: check-verity
