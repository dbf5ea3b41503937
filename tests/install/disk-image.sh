#!/bin/sh
# ./build.sh --target disk --format vhdx: the ISO installs itself to a
# blank disk under qemu; the VHDX passes `qemu-img check` and boots in
# qemu, read directly (under a qcow2 overlay, so the image stays as built).
# Its first boot (BIOS) encrypts the data partition and shows the new
# passphrase once; the second boot (UEFI) asks for it.
. "$abs_top_srcdir/tests/install/disk-lib.sh"

inst_build_iso
disk_image
vhdx=$DISK_IMAGE
qemu-img check "$vhdx" || fail "qemu-img check $vhdx"
qemu-img info "$vhdx" | grep -q '^file format: vhdx' || fail "$vhdx is not a VHDX"
echo "# $(basename "$vhdx"): qemu-img check passed"

disk_overlay disk-image
inst_boot bios disk-first
disk_first_key
echo "# first boot: the data partition was encrypted; passphrase shown once"
wait_ssh "$ISO_BOOT_TIMEOUT"
[ "$(disk_slot)" = a ] || fail "the disk image did not boot slot a"
check_compliant
vm_ssh doas cryptsetup luksDump /dev/vda5 >"$INST_STATE/disk-first.luks" ||
	fail "cryptsetup luksDump /dev/vda5"
grep -qE '^Version:[[:space:]]+2' "$INST_STATE/disk-first.luks" ||
	fail "the first boot's data partition is not LUKS2"
grep -qE 'PBKDF:[[:space:]]+argon2id' "$INST_STATE/disk-first.luks" ||
	fail "the first boot's data partition does not use argon2id"
disk_stop

inst_boot uefi disk-second
inst_unlock "$KEY"
wait_serial 'jefe-init: data partition unlocked' 300
wait_ssh "$ISO_BOOT_TIMEOUT"
check_compliant
[ "$(serial_count 'shown this once')" = 0 ] || fail "the second boot showed a passphrase again"
disk_stop
echo "PASS: ./build.sh --target disk --format vhdx: qemu-img check, boots (BIOS, then UEFI), encrypted on first boot"
