#!/bin/sh
# The same file as a USB stick (a disk, not a CD): BIOS boots its hybrid
# MBR, the initramfs finds the whole disk by the ISO's label.
. "$abs_top_srcdir/tests/iso/lib.sh"

iso_build >"$abs_top_builddir/tests/iso/build-disk.log" 2>&1 || {
	cat "$abs_top_builddir/tests/iso/build-disk.log" >&2
	fail "the ISO build failed"
}
iso_boot disk disk
wait_serial 'jefe-init: medium /dev/sd[a-z][[:space:]]' "$ISO_BOOT_TIMEOUT"
wait_serial 'Starting Jefe Application Manager' "$ISO_BOOT_TIMEOUT"
wait_ssh "$ISO_BOOT_TIMEOUT"
check_compliant
check_root_overlay
echo "PASS: boot from the ISO as a USB disk"
