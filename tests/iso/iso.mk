# tests/iso: the built ISO, booted under qemu (-accel tcg) the three ways
# an admin gets it (BIOS CD, UEFI CD, USB disk), plus the build's own
# contracts (cache, reproducibility, the alpine base's apk commands), and
# both Secure Boot modes in OVMF's Secure Boot build (docs/secure-boot.md).
# They share one ISO build (tests/iso/state, serialized by a lock).
ISO_TESTS = \
	tests/iso/boot-bios.sh \
	tests/iso/boot-uefi.sh \
	tests/iso/boot-disk.sh \
	tests/iso/cache.sh \
	tests/iso/reproducible.sh \
	tests/iso/offline.sh \
	tests/iso/alpine.sh \
	tests/iso/secure-boot-microsoft.sh \
	tests/iso/secure-boot-own.sh \
	tests/iso/syslog-tls.sh \
	tests/iso/syslog-build.sh \
	tests/iso/live-commit.sh
TESTS += $(ISO_TESTS)
EXTRA_DIST += $(ISO_TESTS) tests/iso/lib.sh tests/iso/spdx-2.3.schema.json

clean-local: clean-local-iso
clean-local-iso:
	-rm -rf tests/iso/state
.PHONY: clean-local-iso
# iso_agent_tree's staleness check on a scratch tree (no root, no qemu).
TESTS += tests/iso/agent-stamp.sh
EXTRA_DIST += tests/iso/agent-stamp.sh
EXTRA_DIST += bench/iso-idle.sh
