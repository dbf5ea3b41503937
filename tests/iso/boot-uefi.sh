#!/bin/sh
# The same ISO boots on UEFI (OVMF, the EFI image with BOOTX64.EFI),
# starts the jefe services and reports every layer compliant.
. "$abs_top_srcdir/tests/iso/lib.sh"

iso_build >"$abs_top_builddir/tests/iso/build-uefi.log" 2>&1 || {
	cat "$abs_top_builddir/tests/iso/build-uefi.log" >&2
	fail "the ISO build failed"
}
iso_boot uefi uefi
wait_serial 'OpenRC [0-9.]+ is starting up' "$ISO_BOOT_TIMEOUT"
grep -qa 'EFI v' "$SERIAL" || grep -qa 'efi: EFI' "$SERIAL" ||
	fail "the kernel did not boot through UEFI"
wait_serial 'Starting Jefe Application Manager' "$ISO_BOOT_TIMEOUT"
wait_ssh "$ISO_BOOT_TIMEOUT"
check_compliant
check_root_overlay
echo "PASS: UEFI boot"
