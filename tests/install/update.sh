#!/bin/sh
# jefe-install --update: the new image into the inactive slot, checked,
# the boot entry switched only after the whole write.  Power is pulled
# (qemu killed) at several points of an update and the disk must boot
# each time; a complete update boots slot B; a corrupt slot B (its
# SHA-256 no longer matches) sends the boot back to slot A.
. "$abs_top_srcdir/tests/install/lib.sh"

inst_build_iso
inst_disk update 6G
inst_install update-iso

# inst_disk_boot NAME [qemu args]: boot the disk (BIOS) with the ISO as a
# CD (the update's source, /dev/sr0), unlock, wait for ssh; SLOT is the
# slot it booted.  update_killed leaves the update's output in
# update-SLOT.update.
inst_disk_boot() {
	n=$1
	shift
	inst_boot bios "$n" -cdrom "$(iso_file)" "$@"
	inst_unlock
	wait_serial 'jefe-init: data partition unlocked' 300
	wait_ssh "$ISO_BOOT_TIMEOUT"
	SLOT=$(vm_ssh cat /proc/cmdline | sed -n 's/.*jefe\.slot=\([ab]\).*/\1/p')
	echo "# $n: booted slot $SLOT"
}

# update_killed PATTERN: start the update from the booted disk, pull the
# power when its output shows PATTERN, boot again: it must come up.
update_killed() {
	out=$INST_STATE/update-$SLOT.update
	: >"$out"
	inst_ssh_long doas jefe-install --update /dev/sr0 >"$out" 2>&1 &
	upd=$!
	deadline=$(($(date +%s) + 1200))
	until grep -qF -- "$1" "$out"; do
		[ "$(date +%s)" -lt "$deadline" ] || { cat "$out" >&2; fail "the update never showed '$1'"; }
		kill -0 "$upd" 2>/dev/null || { cat "$out" >&2; fail "the update ended before '$1'"; }
		sleep 0.5
	done
	start_a=$(vm_ssh cat /sys/block/vda/vda3/start) || start_a=
	start_b=$(vm_ssh cat /sys/block/vda/vda4/start) || start_b=
	inst_kill
	wait "$upd" 2>/dev/null || true
	sed 's/^/# update: /' "$out"
	echo "# power pulled at '$1'"
}

# slot A runs; the power goes while slot B is being written: A boots
inst_disk_boot update-a
[ "$SLOT" = a ] || fail "a fresh install booted slot $SLOT"
update_killed '+ dd if='
inst_disk_boot update-killed-write
[ "$SLOT" = a ] || fail "an update killed while writing slot B booted slot $SLOT"
check_compliant

# again, the power goes just after the switch: the new slot B boots, whole
update_killed 'the next boot starts slot b'
grep -q 'writing the update into slot b' "$INST_STATE/update-a.update" ||
	fail "the update did not go to the inactive slot b"
inst_disk_boot update-b
[ "$SLOT" = b ] || fail "after the update the disk booted slot $SLOT, not b"
vm_ssh cat /proc/mounts | grep -q '^/dev/vda4 /live/ro squashfs' || fail "slot B's partition is not the root"
check_compliant
echo "# updated: slot a -> slot b"
inst_stop

# corrupt slot B: its hash no longer matches, the boot goes back to A
[ -n "$start_b" ] || fail "no start sector of slot B"
need qemu-io
qemu-io -f qcow2 -c "write -P 0x5a $((start_b * 512 + 8388608)) 65536" "$DISK" >/dev/null ||
	fail "qemu-io could not corrupt slot b"
inst_boot bios update-corrupt
wait_serial "slot b does not match its SHA-256" "$ISO_BOOT_TIMEOUT"
wait_serial "the boot entry goes back to slot a; rebooting" 600
# -no-reboot: the reboot ends qemu
deadline=$(($(date +%s) + 120))
while kill -0 "$QEMU_PID" 2>/dev/null; do
	[ "$(date +%s)" -lt "$deadline" ] || fail "no reboot after the fallback"
	sleep 2
done
QEMU_PID=
flock -u 8
inst_disk_boot update-fallback
[ "$SLOT" = a ] || fail "after slot b was corrupted the disk booted slot $SLOT, not a"
check_compliant
echo "# fallback: slot b corrupt, slot a booted"
inst_stop
echo "PASS: jefe-install --update, power loss during and after it, fallback to the previous slot"
