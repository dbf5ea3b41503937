# tests/install: jefe-install(8) and the installed disk under qemu
# (-accel tcg), on the ISO that tests/iso builds (the same cached build and
# guest slots); docs/install.md.  install.sh installs over ssh and boots the
# disk on BIOS and UEFI; update.sh takes the preinstalled VHDX through its
# updates, power losses, rollback and fallback; grub-counting.sh (BIOS)
# and grub-counting-uefi.sh (OVMF) run the disk's GRUB counting on its own.
# update.sh is in TESTS too, first (Makefile.am): the longest test.
# disk-key.sh builds a second disk, encrypted at build time; tpm.sh
# unlocks with a software TPM2; verity.sh installs and updates the
# --secure-boot own ISO under OVMF's Secure Boot (tpm.mk, verity.mk).
INSTALL_TESTS = \
	tests/install/install.sh \
	tests/install/grub-counting.sh \
	tests/install/grub-counting-uefi.sh \
	tests/install/disk-key.sh \
	tests/install/tpm.sh \
	tests/install/verity.sh
TESTS += $(INSTALL_TESTS)
EXTRA_DIST += $(INSTALL_TESTS) tests/install/update.sh tests/install/lib.sh \
	tests/install/disk-lib.sh tests/install/install.mk

clean-local: clean-local-install
clean-local-install:
	-rm -rf tests/install/state
.PHONY: clean-local-install
