#!/bin/sh
# jefe-install --update: the new image into the inactive slot, read back
# against its SHA-256, the boot entry switched only after that.  The power
# is pulled (qemu killed) while the slot is written, while it is read
# back, and just after the switch: the disk boots each time, the old slot
# before the switch, the new one after it.  Then slot B is corrupted (its
# SHA-256 no longer matches): the initramfs says so on the console, sends
# the boot entry back to slot A and reboots into it.
#
# Starts from the shared preinstalled disk (disk-lib.sh: one
# ./build.sh --target disk for every test), under a qcow2 overlay; the
# update's source is the tests' ISO in the CD drive.
. "$abs_top_srcdir/tests/install/disk-lib.sh"

inst_build_iso
disk_image
disk_overlay update

# The boots whose update is killed in the write or in the read-back get a
# disk throttled to 16 MB/s (qemu's throttling): slot B's ~90 MB then take
# at least 5 s each way, so the power is pulled inside the step however
# fast the host is (an idle host wrote, read back and switched within the
# 3 s the kill waits).
SLOW_DISK=throttling.bps-read=16777216,throttling.bps-write=16777216

# update_boot NAME [DISK-OPTS]: boot the disk (BIOS) with the ISO as a CD
# (/dev/sr0), unlock, wait for ssh; SLOT is the slot it booted.
update_boot() {
	INST_DISK_OPTS=${2:-} inst_boot bios "$1" -cdrom "$(iso_file)"
	inst_unlock "$KEY"
	wait_serial 'jefe-init: data partition unlocked' 300
	wait_ssh "$ISO_BOOT_TIMEOUT"
	SLOT=$(disk_slot)
	echo "# $1: booted slot $SLOT"
}

# update_killed NAME PATTERN [SECONDS]: start the update, pull the power
# SECONDS (default 0) after its output shows PATTERN.  The output is kept
# in NAME.update.
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

# first boot: the data partition is encrypted, its passphrase shown once
INST_DISK_OPTS=$SLOW_DISK inst_boot bios update-first -cdrom "$(iso_file)"
disk_first_key
wait_ssh "$ISO_BOOT_TIMEOUT"
SLOT=$(disk_slot)
[ "$SLOT" = a ] || fail "a fresh disk booted slot $SLOT"
start_b=$(vm_ssh cat /sys/block/vda/vda4/start)
[ -n "$start_b" ] || fail "no start sector of slot B (vda4)"

# 1. the power goes while slot B is being written: A boots
update_killed update-write '+ dd if=' 3
grep -q 'writing the update into slot b' "$INST_STATE/update-write.update" ||
	fail "the update did not go to the inactive slot b"
grep -q 'switching the boot entry' "$INST_STATE/update-write.update" &&
	fail "the update switched the boot entry before it was killed in the write"
update_boot update-killed-write "$SLOW_DISK"
[ "$SLOT" = a ] || fail "an update killed while writing slot B booted slot $SLOT"
grep -qa 'jefe-init: checking slot a' "$SERIAL" || fail "the boot did not check slot a's SHA-256"

# 2. the power goes while slot B is read back: written, not switched: A boots
update_killed update-verify 'reading slot b back' 1
grep -q 'switching the boot entry' "$INST_STATE/update-verify.update" &&
	fail "the update switched the boot entry before it was killed in the read-back"
update_boot update-killed-verify
[ "$SLOT" = a ] || fail "an update killed while reading slot B back booted slot $SLOT"

# 3. the power goes just after the switch: the new slot B boots, whole
update_killed update-switch 'the next boot starts slot b'
update_boot update-b
[ "$SLOT" = b ] || fail "after the update the disk booted slot $SLOT, not b"
grep -qa 'jefe-init: checking slot b' "$SERIAL" || fail "the boot did not check slot b's SHA-256"
vm_ssh cat /proc/mounts | grep -q '^/dev/vda4 /live/ro squashfs' || fail "slot B's partition is not the root"
check_compliant
echo "# updated: slot a -> slot b"
disk_stop

# 4. slot B corrupted: its hash no longer matches; the boot goes back to A
need qemu-io
qemu-io -f qcow2 -c "write -P 0x5a $((start_b * 512 + 8388608)) 65536" "$DISK" >/dev/null ||
	fail "qemu-io could not corrupt slot b"
inst_boot bios update-corrupt
wait_serial 'slot b does not match its SHA-256' "$ISO_BOOT_TIMEOUT"
wait_serial 'the boot entry goes back to slot a; rebooting' 600
inst_wait_reset 120 "no reboot after the fallback"
update_boot update-fallback
[ "$SLOT" = a ] || fail "after slot b was corrupted the disk booted slot $SLOT, not a"
check_compliant
echo "# fallback: slot b corrupt, slot a booted"
disk_stop
echo "PASS: jefe-install --update: power pulled in the write, the read-back and after the switch; fallback from a corrupt slot"
