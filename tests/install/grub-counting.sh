#!/bin/sh
# GRUB's boot counting on its own, in seconds rather than a disk's boots:
# the grub.cfg and grubenv jefe-install writes (its own write_grub_cfg and
# write_grubenv, taken from the script), run by Debian's GRUB (a
# grub-mkrescue CD) under qemu (-accel tcg), on BIOS (in `make check`;
# grub-counting-uefi.sh runs it on UEFI, OVMF), with grubenv on a FAT disk that GRUB's save_env writes in place.  Each
# menu entry, instead of a kernel, prints its slot and reboots (which ends
# qemu: -no-reboot).  Checked: a slot on trial with 2 tries boots twice,
# a try taken each time; the third boot is the other slot, with the
# console message; GRUB's block is then byte for byte the layout
# jefe-install and the initramfs write (a - b); a permanent slot boots
# with no counting and no write.
set -eu
: "${abs_top_srcdir:?run from make check}"
: "${abs_top_builddir:?run from make check}"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
for t in grub-mkrescue mcopy mkfs.vfat qemu-system-x86_64 xorriso; do
	command -v "$t" >/dev/null 2>&1 || fail "missing $t (see build.sh's package list)"
done

SCRIPT=$abs_top_srcdir/image-build/overlay/usr/sbin/jefe-install
FIRMWARE=${GRUB_COUNTING_FIRMWARE:-bios}
W=$abs_top_builddir/tests/install/state/grub-counting-$FIRMWARE
rm -rf "$W"
mkdir -p "$W/cd/boot/grub"
start=$(date +%s)

# jefe-install's two writers, as they are in the script
sed -n '/^write_grub_cfg() {$/,/^CFG$/p' "$SCRIPT" >"$W/fns.sh"
echo '}' >>"$W/fns.sh"
sed -n '/^write_grubenv() {$/,/^}$/p' "$SCRIPT" >>"$W/fns.sh"
grep -q '^write_grubenv() {' "$W/fns.sh" && grep -q 'save_env' "$W/fns.sh" ||
	fail "$SCRIPT has no write_grub_cfg with save_env or no write_grubenv"
# shellcheck disable=SC1091
. "$W/fns.sh"

# The installed disk's grub.cfg with the environment on the FAT disk
# (hd0) instead of the ESP's prefix, no menu delay, and entries that say
# which slot they boot.
write_grub_cfg "panic=10" | sed \
	-e 's/^set timeout=3$/set timeout=0/' \
	-e 's|^load_env |load_env -f (hd0)/grubenv |' \
	-e 's|^\(\t*\)save_env |\1save_env -f (hd0)/grubenv |' \
	-e 's|^\tlinux /jefe/\(.\)/vmlinuz .*|\techo "BOOTING-SLOT-\1"|' \
	-e 's|^\tinitrd .*|\treboot|' >"$W/cd/boot/grub/grub.cfg"
for want in 'set timeout=0' 'load_env -f (hd0)/grubenv' 'save_env -f (hd0)/grubenv' \
	'BOOTING-SLOT-a' 'BOOTING-SLOT-b'; do
	grep -qF "$want" "$W/cd/boot/grub/grub.cfg" ||
		fail "the test's rewrite of write_grub_cfg's output lost '$want'"
done
grub-mkrescue -o "$W/grub.iso" "$W/cd" >"$W/mkrescue.log" 2>&1 ||
	{ cat "$W/mkrescue.log" >&2; fail "grub-mkrescue"; }

# env_disk SLOT TRY ROLLBACK: a FAT disk holding only grubenv.
env_disk() {
	rm -f "$W/env.img"
	truncate -s 34M "$W/env.img"
	mkfs.vfat -F 32 "$W/env.img" >/dev/null || fail "mkfs.vfat"
	write_grubenv "$1" "$2" "$3" >"$W/grubenv"
	mcopy -i "$W/env.img" "$W/grubenv" ::/grubenv || fail "mcopy grubenv"
}

# boot bios|uefi NAME: one boot, up to GRUB's reboot; BOOTED is the slot.
boot() {
	fwargs=
	if [ "$1" = uefi ]; then
		code=/usr/share/OVMF/OVMF_CODE_4M.fd vars=/usr/share/OVMF/OVMF_VARS_4M.fd
		[ -f "$code" ] && [ -f "$vars" ] || fail "no OVMF firmware (package ovmf)"
		cp "$vars" "$W/vars.fd"
		fwargs="-drive if=pflash,format=raw,readonly=on,file=$code -drive if=pflash,format=raw,file=$W/vars.fd"
	fi
	SERIAL=$W/$2.serial
	# shellcheck disable=SC2086
	timeout 600 qemu-system-x86_64 -accel tcg -m 256 -display none -monitor none \
		-no-reboot -serial "file:$SERIAL" $fwargs -boot d -cdrom "$W/grub.iso" \
		-drive "file=$W/env.img,format=raw,if=ide,index=0" >"$W/$2.qemu" 2>&1 ||
		{ cat "$W/$2.qemu" >&2; fail "$2: qemu did not end by GRUB's reboot"; }
	BOOTED=$(grep -aoE 'BOOTING-SLOT-[ab]' "$SERIAL" | tail -n 1 | sed 's/.*-//')
	[ -n "$BOOTED" ] || { tail -c 2000 "$SERIAL" >&2; fail "$2: GRUB booted no entry"; }
	echo "# $2: slot $BOOTED"
}

# env_is SLOT TRY ROLLBACK: GRUB left exactly jefe-install's block.
env_is() {
	mcopy -o -i "$W/env.img" ::/grubenv "$W/got" || fail "mcopy grubenv back"
	write_grubenv "$1" "$2" "$3" >"$W/want"
	cmp -s "$W/got" "$W/want" ||
		fail "$4: grubenv is not jefe_slot=$1 jefe_try=$2 jefe_rollback=$3: $(head -c 64 "$W/got" | tr '\n' ' ')"
}

# serial_has NAME REGEX
serial_has() {
	grep -qaE "$2" "$SERIAL" || { tail -c 2000 "$SERIAL" >&2; fail "$1: no /$2/ on the console"; }
}

for fw in $FIRMWARE; do
	env_disk b 2 -
	boot "$fw" "$fw-try1"
	[ "$BOOTED" = b ] || fail "$fw-try1: booted slot $BOOTED, not the slot on trial"
	serial_has "$fw-try1" 'jefe: slot b is on trial: this boot takes a try \(1 left after it\)'
	env_is b 1 - "$fw-try1"
	boot "$fw" "$fw-try2"
	[ "$BOOTED" = b ] || fail "$fw-try2: booted slot $BOOTED, not the slot on trial"
	serial_has "$fw-try2" 'this boot takes a try \(0 left after it\)'
	env_is b 0 - "$fw-try2"
	boot "$fw" "$fw-rollback"
	[ "$BOOTED" = a ] || fail "$fw-rollback: booted slot $BOOTED with no try left, not the previous slot"
	serial_has "$fw-rollback" 'jefe: slot b did not come up in its boot tries: rolling back to slot a'
	env_is a - b "$fw-rollback"
	boot "$fw" "$fw-after"
	[ "$BOOTED" = a ] || fail "$fw-after: booted slot $BOOTED after the rollback"
	grep -qaE 'on trial|rolling back' "$SERIAL" && fail "$fw-after: GRUB still counts"
	env_is a - b "$fw-after"
done
echo "PASS: GRUB's boot counting ($FIRMWARE): two tries, then the rollback to the previous slot, with jefe-install's grubenv layout ($(($(date +%s) - start)) s)"
