# tests/install/tpm.sh: jefe-install --tpm2 with a software TPM2 (swtpm)
# under qemu (-accel tcg), on the ISO that tests/iso builds: an install
# and two disk boots.  Not in `make check` (install.mk says why); run it
# with `make check-install-extra` (with verity.sh) or alone with
#   make check-tpm
EXTRA_DIST += tests/install/tpm.mk tests/install/tpm.sh

check-tpm: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS=tests/install/tpm.sh
.PHONY: check-tpm
