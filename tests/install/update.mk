# tests/install: one test of the installed form alone, each under its own
# target (these three are in `make check` too; docs/install.md lists them).
EXTRA_DIST += tests/install/update.mk

# update.sh alone (ten boots of the disk):
#   make check-update
check-update: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS=tests/install/update.sh
.PHONY: check-update

# disk-key.sh alone (--data-key-file: a second disk build and a boot):
#   make check-disk-key
check-disk-key: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS=tests/install/disk-key.sh
.PHONY: check-disk-key

# GRUB's boot counting on UEFI alone (grub-counting.sh under OVMF):
#   make check-rollback
check-rollback: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS=tests/install/grub-counting-uefi.sh
.PHONY: check-rollback
