#!/bin/sh
# jefe-install of a --secure-boot own image (dm-verity root, signed UKI),
# under OVMF's Secure Boot build with the snakeoil key enrolled (the key
# tests/iso/secure-boot-own.sh signs with), one firmware variable store
# kept across the boots: the ISO booted with a blank qcow2 disk, the
# install over ssh (the firmware entry it makes, first in BootOrder), then
# the disk booted: the firmware starts slot A's signed UKI (no GRUB), the
# initramfs opens the slot only through dm-verity with the signed root
# hash and reads every block, unlock on the serial line, `jefe-verity
# status jefe-root` valid, the table's root hash the signed one, the root
# read-only.  Then an update A -> B with the same image from the CD drive
# (B's entry first in BootOrder) and a boot of B; then one byte of B's
# squashfs changed on the disk: the boot stops with the initramfs' FATAL
# dm-verity message, no shell, no passphrase asked, OpenRC never starts.
# Five boots under TCG: make check-verity (or check-install-extra), not make check.
. "$abs_top_srcdir/tests/install/lib.sh"

need qemu-io xorriso
log=$INST_STATE/build-own.log
iso_build_own >"$log" 2>&1 || { tail -n 60 "$log" >&2; fail "the --secure-boot own build failed"; }
ISO=$(iso_file)

# A copy of the ISO whose verity tree no longer gives the UKI's root hash
# (one byte of live/root.verity changed): every update from it is refused.
BAD=$INST_STATE/verity-bad-tree.iso
lba=$(xorriso -indev "$ISO" -find /live/root.verity -exec report_lba -- 2>/dev/null |
	awk -F'[:,]' '/File data lba/ { gsub(/ /, ""); print $3; exit }')
[ -n "$lba" ] || fail "no extent of /live/root.verity in $ISO"
cp "$ISO" "$BAD"
byte=$(od -An -tu1 -j $((lba * 2048 + 100)) -N 1 "$BAD" | tr -d ' ')
printf "$(printf '\\%03o' $(((byte + 1) % 256)))" |
	dd of="$BAD" bs=1 seek=$((lba * 2048 + 100)) conv=notrunc status=none || fail "cannot patch $BAD"
cmp -s "$ISO" "$BAD" && fail "the copy of the ISO was not changed"
inst_disk verity 6G
t_start=$(date +%s)
t_last=$t_start
phase() {
	now=$(date +%s)
	echo "# time: $1 $((now - t_last)) s"
	t_last=$now
}

code=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd
VARS=$INST_STATE/verity.vars
[ -f "$code" ] && [ -f /usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd ] ||
	fail "no OVMF Secure Boot firmware with the snakeoil key (package ovmf)"
cp /usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd "$VARS"

# sb_boot NAME [qemu args]: Secure Boot on (q35, SMM, flash writable only
# from SMM), the snakeoil key in db, this test's variables (the entries
# jefe-install makes persist in them), $DISK as vda.
sb_boot() {
	n=$1
	shift
	inst_boot bios "$n" -machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on \
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$code" \
		-drive "if=pflash,format=raw,unit=1,file=$VARS" "$@"
}

# entry_first SLOT: BootOrder starts with the entry "JefeLinux slot SLOT",
# which starts \EFI\jefe\slot.efi.
entry_first() {
	entries=$(vm_ssh doas efibootmgr -v) || fail "efibootmgr -v failed"
	printf "%s\n" "$entries" | sed 's/^/# efibootmgr: /'
	label="JefeLinux slot $(echo "$1" | tr ab AB)"
	num=$(printf "%s\n" "$entries" | sed -n "s/^Boot\([0-9A-F]\{4\}\)\*\{0,1\} $label[[:space:]].*/\1/p")
	[ -n "$num" ] || fail "no firmware entry '$label'"
	printf "%s\n" "$entries" | grep "^Boot$num" | grep -qiF "\\EFI\\jefe\\$1.efi" ||
		fail "Boot$num does not start \\EFI\\jefe\\$1.efi"
	[ "$(printf "%s\n" "$entries" | sed -n 's/^BootOrder: //p' | cut -d, -f1)" = "$num" ] ||
		fail "BootOrder does not start with Boot$num ($label)"
}

# check_verity_root SLOT: booted from the disk by the firmware's entry for
# SLOT: the signed UKI (no GRUB), Secure Boot on, the root on the verity
# device with the signed root hash, valid, read-only.
check_verity_root() {
	grep -qa "jefe-init: dm-verity: slot $1 verified" "$SERIAL" || fail "slot $1 was not verified"
	if grep -qa 'GNU GRUB' "$SERIAL"; then
		fail "GRUB ran: the firmware should start the slot's UKI"
	fi
	sb=$(vm_ssh od -An -tx1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c |
		awk '{print $5}')
	[ "$sb" = 01 ] || fail "SecureBoot is not 1 in the guest ($sb)"
	cmdline=$(vm_ssh cat /proc/cmdline)
	case " $cmdline " in
	*" jefe.slot="*) fail "the command line is not the UKI's signed one: $cmdline" ;;
	esac
	roothash=$(echo "$cmdline" | tr ' ' '\n' | sed -n 's/^jefe.verity.roothash=//p')
	[ ${#roothash} = 64 ] || fail "no root hash on the command line: $cmdline"
	status=$(vm_ssh doas jefe-verity status jefe-root) || fail "jefe-verity status failed"
	table=$(vm_ssh doas jefe-verity table jefe-root) || fail "jefe-verity table failed"
	echo "# status: $status"
	echo "# table: $table"
	echo "$status" | grep -qE '^0 [0-9]+ verity V$' || fail "the verity device is not valid: $status"
	echo "$table" | grep -q " sha256 $roothash " || fail "the table's root hash is not the signed one"
	mounts=$(vm_ssh cat /proc/mounts)
	echo "$mounts" | grep -qE '^/dev/dm-[0-9]+ /live/ro squashfs ro[, ]' ||
		fail "the slot's squashfs is not mounted from the verity device:
$mounts"
	echo "$mounts" | grep -qE '^/dev/dm-[0-9]+ /usr squashfs ro[, ]' ||
		fail "/usr is not the verified squashfs, read-only:
$mounts"
	if vm_ssh doas touch /usr/jefe-write-test 2>/dev/null; then
		fail "/usr is writable"
	fi
	if vm_ssh doas touch /live/ro/jefe-write-test 2>/dev/null; then
		fail "the slot's squashfs is writable"
	fi
	echo "# slot $1: signed UKI, SecureBoot 1, root on dm-verity ($roothash), read-only"
}

# --- the ISO under Secure Boot: dry run, install ---
sb_boot verity-iso -cdrom "$ISO"
wait_ssh "$ISO_BOOT_TIMEOUT"
phase "ISO boot (Secure Boot, own keys) to ssh"
dry=$(inst_ssh_long doas jefe-install --dry-run /dev/vda 2>&1) || { echo "$dry" >&2; fail "jefe-install --dry-run failed"; }
echo "$dry" | sed 's/^/# dry-run: /'
for want in 'checking live/root.verity against the root hash' 'Secure Boot (own keys)' \
	'+ veritysetup verify --no-superblock' 'oflag=seek_bytes' 'EFI/jefe/a.efi.new' \
	'verity.cfg.new' '+ efibootmgr' 'nothing was changed'; do
	echo "$dry" | grep -qF -- "$want" || fail "--dry-run does not show '$want'"
done
[ -z "$(vm_ssh doas wipefs --no-act --noheadings /dev/vda)" ] || fail "--dry-run wrote to /dev/vda"
printf '%s\n' "$INST_PASS" | inst_ssh_long doas jefe-install /dev/vda >"$INST_STATE/verity.install" 2>&1 || {
	cat "$INST_STATE/verity.install" >&2
	fail "jefe-install /dev/vda failed"
}
sed 's/^/# install: /' "$INST_STATE/verity.install"
grep -q 'slot a) is first in BootOrder' "$INST_STATE/verity.install" || fail "no firmware entry made first"
entry_first a
inst_stop
phase "jefe-install"

# --- the disk: the firmware starts slot A's UKI (the ISO still in its
# drive, for the update: the entry decides, not the medium; the copy with
# the changed tree in a second drive, /dev/sr1) ---
sb_boot verity-a -cdrom "$ISO" \
	-drive "if=none,id=badcd,media=cdrom,readonly=on,format=raw,file=$BAD" -device ide-cd,drive=badcd,bus=ide.3
wait_serial 'jefe-init: installed system, slot a' "$ISO_BOOT_TIMEOUT"
wait_serial 'jefe-init: dm-verity: slot a verified' "$ISO_BOOT_TIMEOUT"
inst_unlock
wait_serial 'jefe-init: data partition unlocked' 300
wait_ssh "$ISO_BOOT_TIMEOUT"
phase "disk boot, slot A, to ssh"
check_verity_root a
check_compliant

# the drives by their AHCI port: -cdrom is port 2 (ata3), the copy port 3 (ata4)
cd_on() {
	vm_ssh "for b in /sys/block/sr*; do case \$(readlink -f \$b) in */ata$1/*) echo /dev/\${b##*/} ;; esac; done"
}
good_cd=$(cd_on 3) bad_cd=$(cd_on 4)
[ -n "$good_cd" ] && [ -n "$bad_cd" ] || fail "no CD drives on ata3 and ata4 ('$good_cd', '$bad_cd')"
echo "# the ISO is $good_cd, the copy with the changed tree $bad_cd"

# --- an image whose tree does not match its UKI: refused, nothing written ---
if out=$(inst_ssh_long doas jefe-install --update "$bad_cd" 2>&1); then
	echo "$out" >&2
	fail "jefe-install --update took an image whose verity tree does not match its UKI"
fi
echo "$out" | sed 's/^/# bad tree: /'
echo "$out" | grep -q 'live/root.verity does not give the root hash of its signed UKI' ||
	fail "the refusal does not say why"
echo "$out" | grep -q 'writing the update into slot' && fail "the bad image got as far as the slot"
rm -f "$BAD"

# --- update A -> B with the same image, from the CD drive ---
inst_ssh_long doas jefe-install --update "$good_cd" >"$INST_STATE/verity.update" 2>&1 || {
	cat "$INST_STATE/verity.update" >&2
	fail "jefe-install --update $good_cd failed"
}
sed 's/^/# update: /' "$INST_STATE/verity.update"
# the new slot is on trial: one boot as the firmware's BootNext, slot A
# still first in BootOrder (the fallback if B does not come up)
for want in 'writing the update into slot b' '+ veritysetup verify --no-superblock' \
	'switching the boot entry to slot b' 'slot b) is BootNext'; do
	grep -qF -- "$want" "$INST_STATE/verity.update" || fail "the update does not show '$want'"
done
entry_first a
start_b=$(vm_ssh cat /sys/block/vda/vda4/start)
inst_stop
phase "update A -> B"

sb_boot verity-b
wait_serial 'jefe-init: installed system, slot b' "$ISO_BOOT_TIMEOUT"
wait_serial 'jefe-init: dm-verity: slot b verified' "$ISO_BOOT_TIMEOUT"
inst_unlock
wait_serial 'jefe-init: data partition unlocked' 300
wait_ssh "$ISO_BOOT_TIMEOUT"
phase "disk boot, slot B, to ssh"
check_verity_root b
# jefe-boot-ok (once jefe and ssh run) marks the trial good: B first
i=0
until vm_ssh doas jefe-install --status 2>/dev/null | grep -q 'trial: *no'; do
	i=$((i + 1))
	[ "$i" -lt 60 ] || fail "jefe-boot-ok did not mark slot b good: $(vm_ssh doas jefe-install --status 2>&1)"
	sleep 5
done
entry_first b
blocks=$(echo "$cmdline" | tr ' ' '\n' | sed -n 's/^jefe.verity.blocks=//p')
inst_stop

# --- one byte in the middle of slot B's squashfs changed on the disk ---
[ -n "$start_b" ] && [ -n "$blocks" ] || fail "no start of slot B ($start_b) or block count ($blocks)"
off=$((start_b * 512 + blocks * 4096 / 2))
byte=$(qemu-io -f qcow2 -c "read -v $off 1" "$DISK" | sed -n 's/^[0-9a-f]*:  *\([0-9a-f][0-9a-f]\) .*/\1/p')
[ -n "$byte" ] || fail "cannot read the byte at $off of $DISK"
qemu-io -f qcow2 -c "write -P $((0x$byte ^ 0xff)) $off 1" "$DISK" >/dev/null || fail "qemu-io write"
echo "# slot B: byte $off of the disk changed (0x$byte)"
sb_boot verity-bad
wait_serial 'jefe-init: FATAL: dm-verity' "$ISO_BOOT_TIMEOUT"
sleep 5
grep -qa 'device-mapper: verity.*is corrupted' "$SERIAL" || fail "no dm-verity corruption report from the kernel"
grep -qa 'the boot stops here' "$SERIAL" || fail "the initramfs did not stop"
# (it reboots after 10 s, to the same slot: an own slot has no other
# slot's root hash to fall back to; the checks above are of the first try)
if grep -qaE 'OpenRC [0-9.]+ is starting up|Passphrase for the JefeLinux data partition|dropping to a shell' "$SERIAL"; then
	fail "the boot went on past the corrupt slot"
fi
{ grep -a 'device-mapper: verity.*is corrupted' "$SERIAL" | head -1
  grep -a 'jefe-init: FATAL' "$SERIAL" | head -1; } | tr -d '\r' | sed 's/^/# /'
inst_kill
phase "corrupt slot B: fail closed"

QEMU_PID=
echo "# time: total $(($(date +%s) - t_start)) s (after the own ISO build)"
echo "PASS: own-mode install and update: signed UKI per slot from its firmware entry, dm-verity root, fail closed"
