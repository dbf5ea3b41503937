# tests/install: the preinstalled disk (./build.sh --target disk) and
# jefe-install --update on it, under qemu (-accel tcg), on the ISO that
# tests/iso builds; both start from one disk build (disk-lib.sh).
# Not in `make check`: the whole check must stay under 50 minutes on a
# 2-core machine, and tests/install/install.sh (one install, a BIOS and a
# UEFI boot of the disk) already takes about 8 of them.  Each has its own
# target below; docs/install.md lists them.
EXTRA_DIST += tests/install/disk-image.sh tests/install/disk-lib.sh tests/install/lib.sh \
	tests/install/update.mk tests/install/update.sh tests/install/disk-key.sh \
	tests/install/rollback.sh tests/install/grub-counting-uefi.sh

# jefe-install --update with three power losses and a fallback: seven
# boots under TCG, too slow for `make check`; run it with
#   make check-update
check-update: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS=tests/install/update.sh
.PHONY: check-update

# the disk image: a disk build, qemu-img check, a BIOS first boot that
# encrypts the data partition and a UEFI boot with the passphrase shown;
# run it with
#   make check-disk
check-disk: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS=tests/install/disk-image.sh
.PHONY: check-disk

# --data-key-file: a second disk build and a boot; run it with
#   make check-disk-key
check-disk-key: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS=tests/install/disk-key.sh
.PHONY: check-disk-key

# boot counting: a slot that never comes up rolled back by GRUB, a good
# one marked good (two failing boots, eight boots in all), and GRUB's
# counting on UEFI; run it with
#   make check-rollback
check-rollback: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS="tests/install/grub-counting-uefi.sh tests/install/rollback.sh"
.PHONY: check-rollback

clean-local: clean-local-install-disk
clean-local-install-disk:
	-rm -rf tests/install/state
.PHONY: clean-local-install-disk
