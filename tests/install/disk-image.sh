#!/bin/sh
# ./build.sh --target disk --format vhdx: the ISO installs itself to a
# blank disk under qemu; the VHDX passes `qemu-img check` and boots in
# qemu directly.  Its first boot encrypts the data partition and shows the
# new passphrase once; the second boot asks for it.
. "$abs_top_srcdir/tests/install/lib.sh"

inst_build_iso
need qemu-img
outdir=$INST_STATE/disk-out
rm -rf "$outdir"
"$abs_top_srcdir/build.sh" --target disk --format vhdx --iso "$(iso_file)" \
	--disk-outdir "$outdir" --disk-size 4G >"$INST_STATE/disk-build.log" 2>&1 || {
	tail -n 60 "$INST_STATE/disk-build.log" >&2
	fail "./build.sh --target disk --format vhdx failed"
}
set -- "$outdir"/*.vhdx
[ -f "$1" ] || fail "no .vhdx in $outdir"
vhdx=$1
qemu-img check "$vhdx" || fail "qemu-img check $vhdx"
qemu-img info "$vhdx" | grep -q '^file format: vhdx' || fail "$vhdx is not a VHDX"
echo "# $(basename "$vhdx"): qemu-img check passed"

# the guest's disk is the VHDX itself (qemu reads and writes it)
DISK=$vhdx
DISK_FORMAT=vhdx
inst_boot_vhdx() {
	inst_boot bios "$1"
}

inst_boot_vhdx disk-first
wait_serial 'its passphrase, shown this once' "$ISO_BOOT_TIMEOUT"
sleep 2
key=$(grep -a -A2 'its passphrase, shown this once' "$SERIAL" | sed -n 's/^[[:space:]]*\([0-9a-f-]\{40,\}\)[[:space:]]*$/\1/p' | head -n 1 | tr -d '\r')
[ -n "$key" ] || fail "no passphrase shown on the first boot"
echo "# first boot: the data partition was encrypted; passphrase shown once"
wait_ssh "$ISO_BOOT_TIMEOUT"
check_compliant
vm_ssh doas cryptsetup luksDump /dev/vda5 | grep -qE 'PBKDF:[[:space:]]+argon2id' ||
	fail "the first boot's data partition is not LUKS2 argon2id"
inst_stop

inst_boot_vhdx disk-second
inst_unlock "$key"
wait_serial 'jefe-init: data partition unlocked' 300
wait_ssh "$ISO_BOOT_TIMEOUT"
check_compliant
[ "$(serial_count 'shown this once')" = 0 ] || fail "the second boot showed a passphrase again"
inst_stop
echo "PASS: ./build.sh --target disk --format vhdx: checked, boots, encrypted on first boot"
