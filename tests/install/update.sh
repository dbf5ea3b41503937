#!/bin/sh
# The preinstalled disk and its life: updates, power losses, boot counting
# and rollback, on one disk (disk-lib.sh: one `./build.sh --target disk
# --format vhdx` of the tests' ISO), booted on BIOS under a qcow2 overlay
# (the VHDX is read directly, never written), ten boots in all:
#
#  1. the VHDX passes `qemu-img check`; its first boot encrypts the data
#     partition (LUKS2, argon2id) and shows the passphrase once, boots
#     slot a (permanent), with panic=10 on its command line, compliant;
#  2. `jefe-install --update` (the tests' ISO in the CD drive) writes the
#     inactive slot b, reads it back against its SHA-256 and switches the
#     boot entry only then: the power is pulled while slot b is written,
#     then while it is read back; each time the disk boots slot a, which
#     asks for the passphrase it showed (never a new one);
#  3. a release whose kernel starts but whose system never comes up (its
#     initramfs, with a second cpio appended, fails just after the slot's
#     hash check while a try is left, then kills init: a kernel panic)
#     goes into slot b with --tries 2 from a second CD drive: two boots
#     fail and reboot by themselves (the fatal path's delay, panic=), and
#     GRUB takes slot a again on the third, says so on the console, and
#     `jefe-install --status` says why;
#  4. the good release into slot b; the power is pulled just after the
#     switch, then again as GRUB takes slot b's first try; the next boot
#     still comes up on slot b, whole (its partition the root), which
#     jefe-boot-ok marks good once jefe and sshd are up, compliant;
#  5. slot b's squashfs corrupted on the disk: GRUB takes slot b with no
#     trial, the initramfs finds its SHA-256 wrong, says so, sends the
#     boot entry back to slot a and reboots into it; slot a comes up
#     unattended, its data partition opened by a key file on a separate
#     disk (a FAT filesystem labelled JEFE_KEY; the key added with
#     cryptsetup luksAddKey, docs/install.md), no passphrase asked;
#     compliant.
. "$abs_top_srcdir/tests/install/disk-lib.sh"

need xorriso cpio qemu-io mkfs.vfat mcopy
KEY_IMG=$INST_STATE/update-key.img
inst_build_iso
disk_image
test_start=$(date +%s)
qemu-img check "$DISK_IMAGE" || fail "qemu-img check $DISK_IMAGE"
qemu-img info "$DISK_IMAGE" | grep -q '^file format: vhdx' || fail "$DISK_IMAGE is not a VHDX"
echo "# $(basename "$DISK_IMAGE"): qemu-img check passed"
disk_overlay update

# The boots whose update is killed in the write or in the read-back get a
# disk throttled to 16 MB/s (qemu's throttling): slot b's ~90 MB then take
# at least 5 s each way, so the power is pulled inside the step however
# fast the host is (an idle host wrote, read back and switched within the
# 3 s the kill waits).
SLOW_DISK=throttling.bps-read=16777216,throttling.bps-write=16777216

# The broken release: the tests' ISO with a second cpio appended to its
# initramfs (the kernel unpacks both; the later /init wins) whose disk
# boot fails just after the slot's hash check (before `umount /mnt/esp`,
# the ESP still mounted: it reads the try GRUB left in grubenv).
BAD=$INST_STATE/update-bad
BAD_ISO=$INST_STATE/update-bad.iso
rm -rf "$BAD" "$BAD_ISO"
mkdir -p "$BAD/initrd"
xorriso -osirrox on -indev "$(iso_file)" -extract /live "$BAD/live" \
	-extract /boot "$BAD/boot" >"$INST_STATE/update-bad.log" 2>&1 ||
	{ cat "$INST_STATE/update-bad.log" >&2; fail "cannot extract $(iso_file)"; }
chmod -R u+w "$BAD"
awk '
/^\tumount \/mnt\/esp$/ && !done {
	print "\t# update.sh: a release that never comes up"
	print "\tif [ \"$(dd if=/mnt/esp/boot/grub/grubenv bs=1 skip=46 count=1 2>/dev/null)\" = 1 ]; then"
	print "\t\tdisk_fail \"update.sh: this release does not come up\""
	print "\tfi"
	print "\techo \"jefe-init: update.sh: init exits\" >&2"
	print "\texit 1"
	done = 1
}
{ print }
END { exit !done }' "$abs_top_srcdir/image-build/initramfs/init" >"$BAD/initrd/init" ||
	fail "image-build/initramfs/init has no line 'umount /mnt/esp' after the slot check"
chmod 0755 "$BAD/initrd/init"
# the kernel reads the next archive at a 4-byte boundary
size=$(stat -c %s "$BAD/boot/initrd.img")
[ $((size % 4)) = 0 ] || head -c $((4 - size % 4)) /dev/zero >>"$BAD/boot/initrd.img"
(cd "$BAD/initrd" && echo init | cpio --quiet -o -H newc -R 0:0) >>"$BAD/boot/initrd.img" ||
	fail "cannot append the broken init to the initramfs"
rm -rf "$BAD/initrd"
xorriso -as mkisofs -quiet -R -V JEFE_BAD -o "$BAD_ISO" "$BAD" >>"$INST_STATE/update-bad.log" 2>&1 ||
	{ cat "$INST_STATE/update-bad.log" >&2; fail "cannot make $BAD_ISO"; }
rm -rf "$BAD"
echo "# the broken release: $BAD_ISO"

# Every boot of the disk has two CD drives: the tests' ISO (/dev/sr0) and
# the broken release (/dev/sr1).
CDS="-drive if=ide,index=2,media=cdrom,readonly=on,format=raw,file=$(iso_file)
-drive if=ide,index=3,media=cdrom,readonly=on,format=raw,file=$BAD_ISO"

t_last=$test_start
# phase WHAT: the phase's figure since the last.
phase() {
	now=$(date +%s)
	echo "# time: $1 $((now - t_last)) s"
	t_last=$now
}

# disk_boot NAME [DISK-OPTS [QEMU-ARGS...]]: boot the disk (BIOS) with
# both CDs.
disk_boot() {
	name=$1 opts=${2:-}
	shift
	[ $# = 0 ] || shift
	# shellcheck disable=SC2086
	INST_DISK_OPTS=$opts inst_boot bios "$name" $CDS "$@"
}

# up_boot NAME [DISK-OPTS]: disk_boot, unlock with the passphrase the first
# boot showed (no new one is shown), wait for ssh; SLOT is the slot booted.
up_boot() {
	disk_boot "$@"
	inst_unlock "$KEY"
	wait_serial 'jefe-init: data partition unlocked' 300
	[ "$(serial_count 'shown this once')" = 0 ] || fail "$1: a passphrase was shown again"
	wait_ssh "$ISO_BOOT_TIMEOUT"
	SLOT=$(disk_slot)
	echo "# $1: booted slot $SLOT"
}

# st_has WANT...: `jefe-install --status` on the guest has each line WANT.
st_has() {
	st=$(vm_ssh doas jefe-install --status) || fail "jefe-install --status failed"
	echo "$st" | sed 's/^/# status: /'
	for want in "$@"; do
		echo "$st" | grep -qxE "$want" || fail "jefe-install --status has no line /$want/"
	done
}

# update_run NAME CD ARGS...: a whole jefe-install --update from CD, its
# output kept in NAME.update.
update_run() {
	out=$INST_STATE/$1.update
	cd=$2
	shift 2
	inst_ssh_long doas jefe-install --update "$cd" "$@" >"$out" 2>&1 ||
		{ cat "$out" >&2; fail "jefe-install --update $cd $* failed"; }
	sed 's/^/# update: /' "$out"
}

# update_killed NAME PATTERN [SECONDS]: an update from /dev/sr0, the power
# pulled SECONDS (default 0) after its output shows PATTERN; the output
# is kept in NAME.update.
update_killed() {
	out=$INST_STATE/$1.update
	: >"$out"
	inst_ssh_long doas jefe-install --update /dev/sr0 >"$out" 2>&1 &
	upd=$!
	deadline=$(($(date +%s) + 1200))
	until grep -qF -- "$2" "$out"; do
		[ "$(date +%s)" -lt "$deadline" ] || { cat "$out" >&2; fail "the update never showed '$2'"; }
		kill -0 "$upd" 2>/dev/null || { cat "$out" >&2; fail "the update ended before '$2'"; }
		sleep 0.2
	done
	sleep "${3:-0}"
	inst_kill
	wait "$upd" 2>/dev/null || true
	sed 's/^/# update: /' "$out"
	echo "# power pulled ${3:-0} s after '$2'"
}

# serial_has NAME REGEX: the console of boot NAME shows REGEX.
serial_has() {
	grep -qaE "$2" "$SERIAL" || { tail -c 3000 "$SERIAL" >&2; fail "$1: no /$2/ on the console"; }
}

# --- 1. the first boot: encrypted, passphrase shown once, slot a --------
disk_boot update-first "$SLOW_DISK"
disk_first_key
echo "# first boot: the data partition was encrypted; passphrase shown once"
wait_ssh "$ISO_BOOT_TIMEOUT"
SLOT=$(disk_slot)
[ "$SLOT" = a ] || fail "a fresh disk booted slot $SLOT"
vm_ssh cat /proc/cmdline | grep -qE '(^| )panic=10( |$)' ||
	fail "the installed disk's kernel command line has no panic=10: $(vm_ssh cat /proc/cmdline)"
luks=$(vm_ssh doas cryptsetup luksDump /dev/vda5) || fail "cryptsetup luksDump /dev/vda5"
echo "$luks" | grep -qE '^Version:[[:space:]]+2' || fail "the first boot's data partition is not LUKS2"
echo "$luks" | grep -qE 'PBKDF:[[:space:]]+argon2id' || fail "the first boot's data partition does not use argon2id"
check_compliant
wait_serial 'slot a is already permanent' 600
st_has 'running slot: +a' 'default slot: +a' 'fallback slot: +b' 'trial: +no .*' 'rollback: +none'
start_b=$(vm_ssh cat /sys/block/vda/vda4/start)
[ -n "$start_b" ] || fail "no start sector of slot b (vda4)"
phase "first boot (LUKS2 argon2id, slot a, compliant)"

# --- 2. the power pulled in the write, then in the read-back ------------
update_killed update-write '+ dd if=' 3
grep -q 'writing the update into slot b' "$INST_STATE/update-write.update" ||
	fail "the update did not go to the inactive slot b"
grep -q 'switching the boot entry' "$INST_STATE/update-write.update" &&
	fail "the update switched the boot entry before it was killed in the write"
up_boot update-killed-write "$SLOW_DISK"
[ "$SLOT" = a ] || fail "an update killed while writing slot b booted slot $SLOT"
grep -qa 'jefe-init: checking slot a' "$SERIAL" || fail "the boot did not check slot a's SHA-256"

update_killed update-verify 'reading slot b back' 1
grep -q 'switching the boot entry' "$INST_STATE/update-verify.update" &&
	fail "the update switched the boot entry before it was killed in the read-back"
up_boot update-killed-verify
[ "$SLOT" = a ] || fail "an update killed while reading slot b back booted slot $SLOT"
phase "power pulled in the write and in the read-back: slot a each time"

# --- 3. a release that never comes up is rolled back by GRUB ------------
update_run update-bad /dev/sr1 --tries 2
grep -q 'slot b is on trial: 2 boots' "$INST_STATE/update-bad.update" ||
	fail "the update did not put slot b on trial with 2 boots"
st_has 'default slot: +b' 'fallback slot: +a' 'trial: +slot b, on its next boot \(2 boot tries left\)'
disk_stop

disk_boot update-try1
inst_wait_reset "$ISO_BOOT_TIMEOUT" "update-try1: the failing boot did not reboot by itself"
serial_has update-try1 'jefe: slot b is on trial: this boot takes a try \(1 left after it\)'
serial_has update-try1 'jefe-init: checking slot b'
serial_has update-try1 'jefe-init: FATAL: update.sh: this release does not come up'
serial_has update-try1 'jefe-init: the boot stops here; rebooting in 10 seconds'
echo "# try 1: the initramfs failed after slot b's hash check and rebooted"

disk_boot update-try2
inst_wait_reset "$ISO_BOOT_TIMEOUT" "update-try2: the failing boot did not reboot by itself"
serial_has update-try2 'jefe: slot b is on trial: this boot takes a try \(0 left after it\)'
serial_has update-try2 'Kernel panic'
serial_has update-try2 'Rebooting in 10 seconds'
echo "# try 2: init died, the kernel panicked and rebooted (panic=10)"

up_boot update-back
serial_has update-back 'jefe: slot b did not come up in its boot tries: rolling back to slot a'
[ "$SLOT" = a ] || fail "after slot b's tries were spent the disk booted slot $SLOT, not a"
st_has 'running slot: +a' 'default slot: +a' 'fallback slot: +b' 'trial: +no .*' \
	'rollback: +slot b did not come up in its boot tries; GRUB went back to slot a'
check_compliant
phase "rolled back: slot b failed twice, GRUB went back to slot a by itself"

# --- 4. the good release: power pulled after the switch and in the try ---
update_killed update-switch 'slot b is on trial: 3 boots'
grep -q 'the next boot starts slot b' "$INST_STATE/update-switch.update" ||
	fail "the update did not switch the boot entry to slot b"

disk_boot update-cut
wait_serial 'jefe: slot b is on trial: this boot takes a try' "$ISO_BOOT_TIMEOUT"
inst_kill
echo "# power pulled as GRUB took slot b's first try"

up_boot update-b
serial_has update-b 'jefe: slot b is on trial: this boot takes a try \([12] left after it\)'
grep -aoE 'this boot takes a try \([12] left' "$SERIAL" | sed 's/^/# after the power loss: /'
[ "$SLOT" = b ] || fail "after the update the disk booted slot $SLOT, not b"
serial_has update-b 'jefe-init: checking slot b'
vm_ssh cat /proc/mounts | grep -q '^/dev/vda4 /live/ro squashfs' || fail "slot b's partition is not the root"
wait_serial 'slot b came up: it is permanent now' 600
st_has 'running slot: +b' 'default slot: +b' 'fallback slot: +a' 'trial: +no .*' 'rollback: +none'
check_compliant
# The unattended unlock of docs/install.md for the last boot: a key file
# added to the data partition (the passphrase on stdin), kept on a FAT
# filesystem labelled JEFE_KEY on a separate disk.
head -c 64 /dev/urandom >"$INST_STATE/jefe-data.key"
rm -f "$KEY_IMG"
mkfs.vfat -C -n JEFE_KEY "$KEY_IMG" 1024 >/dev/null || fail "mkfs.vfat $KEY_IMG"
mcopy -i "$KEY_IMG" "$INST_STATE/jefe-data.key" ::/jefe-data.key || fail "mcopy the key file"
vm_ssh 'umask 077 && cat >/tmp/jefe-data.key' <"$INST_STATE/jefe-data.key" || fail "cannot copy the key file"
printf '%s' "$KEY" | inst_ssh_long doas cryptsetup luksAddKey --key-file=- /dev/vda5 /tmp/jefe-data.key ||
	fail "cryptsetup luksAddKey the key file"
vm_ssh rm -f /tmp/jefe-data.key
disk_stop
phase "updated: slot a -> slot b, marked good after two power losses"

# --- 5. slot b corrupt: its hash no longer matches; back to slot a ------
qemu-io -f qcow2 -c "write -P 0x5a $((start_b * 512 + 8388608)) 65536" "$DISK" >/dev/null ||
	fail "qemu-io could not corrupt slot b"
disk_boot update-corrupt
wait_serial 'slot b does not match its SHA-256' "$ISO_BOOT_TIMEOUT"
wait_serial 'the boot entry goes back to slot a; rebooting' 600
inst_wait_reset 120 "no reboot after the fallback"
serial_has update-corrupt 'jefe-init: installed system, slot b'
[ "$(serial_count 'on trial|rolling back')" = 0 ] || fail "GRUB still counts slot b's boots after it was marked good"
# slot a, unlocked by the key medium alone: no passphrase asked
disk_boot update-fallback "" -drive "if=virtio,format=raw,readonly=on,file=$KEY_IMG"
wait_serial 'jefe-init: data partition unlocked with the key file on /dev/vdb' "$ISO_BOOT_TIMEOUT"
[ "$(serial_count 'Passphrase for the JefeLinux data partition')" = 0 ] ||
	fail "the key medium was attached and the passphrase was asked all the same"
wait_ssh "$ISO_BOOT_TIMEOUT"
SLOT=$(disk_slot)
[ "$SLOT" = a ] || fail "after slot b was corrupted the disk booted slot $SLOT, not a"
check_compliant
disk_stop
phase "fallback: slot b corrupt, slot a booted, unlocked by the key medium"
echo "# time: total $(($(date +%s) - test_start)) s after the ISO and disk builds"
echo "PASS: the VHDX: qemu-img check, first boot encrypts; --update with the power pulled in the write, the read-back, after the switch and in the try; a release that never comes up rolled back by GRUB; fallback from a corrupt slot"
