# tests/vm: the agent on a real (Debian) kernel in a throwaway qemu VM.
# run-vm.sh is the reusable harness (see its header and docs/testing-vm.md);
# harness.sh proves it fails on failures; layers.sh is every layer end to end.
# The kernel package is downloaded once into tests/vm/cache of the build tree.
TESTS += tests/vm/harness.sh tests/vm/layers.sh
dist_noinst_SCRIPTS += tests/vm/run-vm.sh tests/vm/harness.sh tests/vm/layers.sh
EXTRA_DIST += tests/vm/vm-init.sh tests/vm/vm-lib.sh \
	tests/vm/guest/harness.sh tests/vm/guest/layers.sh

# The cached kernel (~70 MB unpacked) survives `make clean` on purpose;
# distclean removes it so distcheck sees a clean tree.
DISTCLEANFILES_VM = tests/vm/cache
distclean-local: distclean-local-vm
distclean-local-vm:
	-rm -rf $(DISTCLEANFILES_VM)
.PHONY: distclean-local-vm
EXTRA_DIST += docs/testing-vm.md
EXTRA_DIST += bench/vm-boot.sh bench/vm-audit.sh bench/vm/audit.sh
# The CIS Debian 12 checks of issue 14 on a real kernel, one VM: the image's
# hardened files compliant, each tamper seen by jefe-setup.
TESTS += tests/vm/cis.sh
dist_noinst_SCRIPTS += tests/vm/cis.sh
EXTRA_DIST += tests/vm/guest/cis.sh
