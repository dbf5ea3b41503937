#!/bin/sh
# ./build.sh --target disk --data-key-file: the data partition is
# encrypted at build time with the file's first line; the image boots,
# asks for that passphrase (it shows none), unlocks, and is compliant.
. "$abs_top_srcdir/tests/install/disk-lib.sh"

inst_build_iso
need qemu-img
keydir=$INST_STATE/disk-key
rm -rf "$keydir" && mkdir -p "$keydir"
printf 'build time passphrase 42\n' >"$keydir/pass.txt"
# the build's install runs in a guest: one of the two slots
iso_boot_lock
"$abs_top_srcdir/build.sh" --target disk --format qcow2 --iso "$(iso_file)" \
	--disk-outdir "$keydir" --disk-size 3G --data-key-file "$keydir/pass.txt" \
	>"$INST_STATE/disk-key-build.log" 2>&1 || {
	tail -n 60 "$INST_STATE/disk-key-build.log" >&2
	fail "./build.sh --target disk --data-key-file failed"
}
flock -u 8
set -- "$keydir"/*.qcow2
[ -f "$1" ] || fail "no .qcow2 in $keydir"
DISK=$1
DISK_FORMAT=qcow2
qemu-img check "$DISK" || fail "qemu-img check $DISK"
inst_boot bios disk-key
inst_unlock "build time passphrase 42"
wait_serial 'jefe-init: data partition unlocked' 600
[ "$(serial_count 'shown this once')" = 0 ] || fail "an image encrypted at build time showed a new passphrase"
wait_ssh "$ISO_BOOT_TIMEOUT"
check_compliant
vm_ssh doas cryptsetup luksDump /dev/vda5 | grep -qE 'PBKDF:[[:space:]]+argon2id' ||
	fail "the data partition is not LUKS2 argon2id"
disk_stop
rm -rf "$keydir"
echo "PASS: ./build.sh --target disk --data-key-file: encrypted at build time, unlocks with that passphrase"
