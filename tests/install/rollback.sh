#!/bin/sh
# Boot counting (jefe-install(8), docs/install.md "Update and rollback"):
# after `jefe-install --update` GRUB boots the new slot on trial, one try
# taken per boot before the kernel runs; jefe-boot-ok marks the slot good
# once the system is up; with the tries spent GRUB goes back to the
# previous slot by itself and says so on the console.
#
#  1. a release whose kernel starts but whose system never comes up (its
#     initramfs, appended to the tests' own, fails after the slot's hash
#     check: in the initramfs's fatal path with one try left, by killing
#     init, a kernel panic, with none) is installed into slot B with
#     --tries 2: two boots fail and reboot by themselves (the fatal path's
#     delay, the kernel's panic=), the third comes back on slot A, with
#     GRUB's message, and `jefe-install --status` says why;
#  2. the tests' good ISO goes into slot B; the power is pulled as GRUB
#     takes the first try; the next boot still comes up on slot B, which
#     jefe-boot-ok marks good; two more boots take slot B with no trial.
#
# Starts from the shared preinstalled disk (disk-lib.sh), under a qcow2
# overlay; every reboot of the guest ends qemu (-no-reboot) and the test
# powers it on again, as a power cycle.
. "$abs_top_srcdir/tests/install/disk-lib.sh"

need xorriso cpio
inst_build_iso
disk_image
disk_overlay rollback
test_start=$(date +%s)

# The broken release: the tests' ISO with a second cpio appended to its
# initramfs (the kernel unpacks both; the later /init wins) whose disk
# boot fails just after the slot's hash check (before `umount /mnt/esp`,
# the ESP still mounted: it reads the try GRUB left in grubenv).
BAD=$INST_STATE/rollback-bad
BAD_ISO=$INST_STATE/rollback-bad.iso
rm -rf "$BAD" "$BAD_ISO"
mkdir -p "$BAD/initrd"
xorriso -osirrox on -indev "$(iso_file)" -extract /live "$BAD/live" \
	-extract /boot "$BAD/boot" >"$INST_STATE/rollback-bad.log" 2>&1 ||
	{ cat "$INST_STATE/rollback-bad.log" >&2; fail "cannot extract $(iso_file)"; }
chmod -R u+w "$BAD"
awk '
/^\tumount \/mnt\/esp$/ && !done {
	print "\t# rollback.sh: a release that never comes up"
	print "\tif [ \"$(dd if=/mnt/esp/boot/grub/grubenv bs=1 skip=46 count=1 2>/dev/null)\" = 1 ]; then"
	print "\t\tdisk_fail \"rollback.sh: this release does not come up\""
	print "\tfi"
	print "\techo \"jefe-init: rollback.sh: init exits\" >&2"
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
xorriso -as mkisofs -quiet -R -V JEFE_BAD -o "$BAD_ISO" "$BAD" >>"$INST_STATE/rollback-bad.log" 2>&1 ||
	{ cat "$INST_STATE/rollback-bad.log" >&2; fail "cannot make $BAD_ISO"; }
rm -rf "$BAD"
echo "# the broken release: $BAD_ISO"

# rb_status WANT...: `jefe-install --status` on the guest has each line WANT.
rb_status() {
	st=$(vm_ssh doas jefe-install --status) || fail "jefe-install --status failed"
	echo "$st" | sed 's/^/# status: /'
	for want in "$@"; do
		echo "$st" | grep -qxE "$want" || fail "jefe-install --status has no line /$want/"
	done
}

# rb_update NAME ARGS...: jefe-install --update /dev/sr0 ARGS over ssh,
# its output in $INST_STATE/NAME.update.
rb_update() {
	out=$INST_STATE/$1.update
	shift
	inst_ssh_long doas jefe-install --update /dev/sr0 "$@" >"$out" 2>&1 ||
		{ cat "$out" >&2; fail "jefe-install --update /dev/sr0 $* failed"; }
	sed 's/^/# update: /' "$out"
}

# rb_until_reset NAME: boot the disk and wait until the guest resets by
# itself (qemu ends: -no-reboot).
rb_until_reset() {
	inst_boot bios "$1"
	inst_wait_reset "$ISO_BOOT_TIMEOUT" "$1: the failing boot did not reboot by itself"
}

# rb_serial NAME REGEX: the console of boot NAME shows REGEX.
rb_serial() {
	grep -qaE "$2" "$SERIAL" || { tail -c 3000 "$SERIAL" >&2; fail "$1: no /$2/ on the console"; }
}

# --- 1. a slot that never comes up is rolled back -----------------------
phase=$(date +%s)
inst_boot bios rollback-first -cdrom "$BAD_ISO"
disk_first_key
wait_ssh "$ISO_BOOT_TIMEOUT"
[ "$(disk_slot)" = a ] || fail "a fresh disk booted slot $(disk_slot)"
vm_ssh cat /proc/cmdline | grep -qE '(^| )panic=10( |$)' ||
	fail "the installed disk's kernel command line has no panic=10: $(vm_ssh cat /proc/cmdline)"
wait_serial 'slot a is already permanent' 600
rb_status 'running slot: +a' 'default slot: +a' 'fallback slot: +b' 'trial: +no .*' 'rollback: +none'
rb_update rollback-bad --tries 2
grep -q 'slot b is on trial: 2 boots' "$INST_STATE/rollback-bad.update" ||
	fail "the update did not put slot b on trial with 2 boots"
rb_status 'default slot: +b' 'fallback slot: +a' 'trial: +slot b, on its next boot \(2 boot tries left\)'
disk_stop

rb_until_reset rollback-try1
rb_serial rollback-try1 'jefe: slot b is on trial: this boot takes a try \(1 left after it\)'
rb_serial rollback-try1 'jefe-init: checking slot b'
rb_serial rollback-try1 'jefe-init: FATAL: rollback.sh: this release does not come up'
rb_serial rollback-try1 'jefe-init: the boot stops here; rebooting in 10 seconds'
echo "# try 1: the initramfs failed after slot b's hash check and rebooted"

rb_until_reset rollback-try2
rb_serial rollback-try2 'jefe: slot b is on trial: this boot takes a try \(0 left after it\)'
rb_serial rollback-try2 'Kernel panic'
rb_serial rollback-try2 'Rebooting in 10 seconds'
echo "# try 2: init died, the kernel panicked and rebooted (panic=10)"

inst_boot bios rollback-back -cdrom "$(iso_file)"
wait_serial 'jefe: slot b did not come up in its boot tries: rolling back to slot a' "$ISO_BOOT_TIMEOUT"
inst_unlock "$KEY"
wait_serial 'jefe-init: data partition unlocked' 300
wait_ssh "$ISO_BOOT_TIMEOUT"
[ "$(disk_slot)" = a ] || fail "after slot b's tries were spent the disk booted slot $(disk_slot), not a"
rb_status 'running slot: +a' 'default slot: +a' 'fallback slot: +b' 'trial: +no .*' \
	'rollback: +slot b did not come up in its boot tries; GRUB went back to slot a'
check_compliant
echo "# rolled back: slot b failed twice, GRUB went back to slot a by itself ($(($(date +%s) - phase)) s)"

# --- 2. a good slot: the power pulled during the try, then marked good ----
phase=$(date +%s)
rb_update rollback-good
grep -q 'slot b is on trial: 3 boots' "$INST_STATE/rollback-good.update" ||
	fail "the update did not put slot b on trial with 3 boots"
disk_stop

inst_boot bios rollback-cut
wait_serial 'jefe: slot b is on trial: this boot takes a try' "$ISO_BOOT_TIMEOUT"
inst_kill
echo "# power pulled as GRUB took slot b's first try"

inst_boot bios rollback-good
wait_serial 'jefe: slot b is on trial: this boot takes a try \([12] left after it\)' "$ISO_BOOT_TIMEOUT"
grep -aoE 'this boot takes a try \([12] left' "$SERIAL" | sed 's/^/# after the power loss: /'
inst_unlock "$KEY"
wait_serial 'jefe-init: data partition unlocked' 300
wait_ssh "$ISO_BOOT_TIMEOUT"
[ "$(disk_slot)" = b ] || fail "the good update booted slot $(disk_slot), not b"
wait_serial 'slot b came up: it is permanent now' 600
rb_status 'running slot: +b' 'default slot: +b' 'fallback slot: +a' 'trial: +no .*' 'rollback: +none'
check_compliant
disk_stop

# two more boots: GRUB takes slot b with no trial, the initramfs checks it
# and asks for the passphrase (that is all GRUB decides)
for n in 1 2; do
	inst_boot bios "rollback-after$n"
	inst_unlock "$KEY"
	rb_serial "rollback-after$n" 'jefe-init: installed system, slot b'
	rb_serial "rollback-after$n" 'jefe-init: checking slot b'
	[ "$(serial_count 'on trial|rolling back')" = 0 ] ||
		fail "rollback-after$n: GRUB still counts slot b's boots"
	wait_serial 'jefe-init: data partition unlocked' 300
	inst_kill
done
echo "# slot b permanent across two more boots ($(($(date +%s) - phase)) s)"
echo "# rollback.sh: $(($(date +%s) - test_start)) s after the ISO and disk builds"
echo "PASS: boot counting: a slot that never comes up is rolled back by GRUB; a good one is marked good and stays"
