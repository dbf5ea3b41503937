# tests/install: jefe-install(8) and the installed disk under qemu
# (-accel tcg), on the ISO that tests/iso builds (the same cached build and
# boot lock); docs/install.md.
INSTALL_TESTS = \
	tests/install/install.sh \
	tests/install/grub-counting.sh
TESTS += $(INSTALL_TESTS)
EXTRA_DIST += $(INSTALL_TESTS) tests/install/lib.sh tests/install/install.mk

clean-local: clean-local-install
clean-local-install:
	-rm -rf tests/install/state
.PHONY: clean-local-install
