# tests/install: jefe-install(8) and the installed disk under qemu
# (-accel tcg), on the ISO that tests/iso builds (the same cached build and
# guest slots); docs/install.md.  install.sh installs over ssh and boots the
# disk on BIOS and UEFI; update.sh takes the preinstalled VHDX through its
# updates, power losses, rollback and fallback; grub-counting.sh (BIOS)
# and grub-counting-uefi.sh (OVMF) run the disk's GRUB counting on its own.
# update.sh is in TESTS too, first (Makefile.am): the longest test.
# disk-key.sh builds a second disk, encrypted at build time.  tpm.sh (a
# software TPM2) and verity.sh (the --secure-boot own ISO under OVMF's
# Secure Boot) are not in `make check`: with them the whole check took
# 54.6 minutes on a 2-core machine (505 and 613 s of guests), over its 50;
# `make check-install-extra` runs both (tpm.mk, verity.mk).
INSTALL_TESTS = \
	tests/install/install.sh \
	tests/install/grub-counting.sh \
	tests/install/grub-counting-uefi.sh \
	tests/install/disk-key.sh
TESTS += $(INSTALL_TESTS)
EXTRA_DIST += $(INSTALL_TESTS) tests/install/update.sh tests/install/lib.sh \
	tests/install/disk-lib.sh tests/install/install.mk

clean-local: clean-local-install
clean-local-install:
	-rm -rf tests/install/state
.PHONY: clean-local-install

# The installed form's suites outside `make check`, both at once (two
# guest slots): about 10 minutes on an idle 2-core machine.
check-install-extra: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS="tests/install/tpm.sh tests/install/verity.sh"
.PHONY: check-install-extra
