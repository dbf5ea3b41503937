#!/bin/sh
# jefe-install end to end, on one disk installed once: the ISO booted with
# a blank qcow2 disk, the install over ssh (passphrase on stdin), then the
# disk alone booted twice, on BIOS and on UEFI (OVMF), each unlocked
# through the serial console and logged into with the admin's key.
# Checks: --dry-run changes nothing, a partitioned disk is refused without
# --wipe, LUKS2 + argon2id (luksDump), `jefe status` compliant, the root
# read-only (a write to /usr fails; / is the slot's squashfs under a
# tmpfs), persistence across the reboot (a 90-local.conf change, the SSH
# host key, a /var/log file), no plaintext of that log's marker on the raw
# disk, a wrong passphrase refused and said so, without booting on, and
# the agent's state the installed system's own, not the live session's.
# Three boots in all (the ISO, BIOS, UEFI): the ISO/VM tier's budget.
. "$abs_top_srcdir/tests/install/lib.sh"

inst_build_iso
inst_disk install 6G
t_start=$(date +%s)
# inst_phase NAME: how long the phase since the last took (the report's figures).
t_last=$t_start
inst_phase() {
	now=$(date +%s)
	echo "# time: $1 $((now - t_last)) s"
	t_last=$now
}

# --- the live ISO: dry run, the install, the refusal of a used disk ---
inst_boot iso install-iso
wait_ssh "$ISO_BOOT_TIMEOUT"
inst_phase "ISO boot to ssh"
dry=$(vm_ssh doas jefe-install --dry-run /dev/vda 2>&1) || { echo "$dry" >&2; fail "jefe-install --dry-run failed"; }
echo "$dry" | sed 's/^/# dry-run: /'
for want in 'label: gpt' 'name="jefe-bios"' 'name="jefe-esp"' 'name="jefe-root-a"' \
	'name="jefe-root-b"' 'name="jefe-data"' '+ sfdisk' '+ mkfs.vfat' '+ grub-install --target=i386-pc' \
	'+ grub-install --target=x86_64-efi' 'cryptsetup luksFormat --batch-mode --type luks2 --pbkdf argon2id' \
	'+ mkfs.ext4' '+ dd if=' '+ ssh-keygen -q -t ed25519' 'nothing was changed'; do
	echo "$dry" | grep -qF -- "$want" || fail "--dry-run does not show '$want'"
done
[ -z "$(vm_ssh doas wipefs --no-act --noheadings /dev/vda)" ] || fail "--dry-run wrote to /dev/vda"
# The live session's own agent state (its baseline, its last status) is
# not the installed system's: a marker beside it must not reach the disk.
vm_ssh doas touch /var/lib/jefe/live-session.marker || fail "cannot mark the live session's /var/lib/jefe"
printf '%s\n' "$INST_PASS" | inst_ssh_long doas jefe-install /dev/vda >"$INST_STATE/install.out" 2>&1 || {
	cat "$INST_STATE/install.out" >&2
	fail "jefe-install /dev/vda failed"
}
sed 's/^/# install: /' "$INST_STATE/install.out"
inst_phase "jefe-install"
dump=$(vm_ssh doas cryptsetup luksDump /dev/vda5) || fail "cryptsetup luksDump /dev/vda5"
echo "$dump" | grep -qE '^Version:[[:space:]]+2$' || fail "the data partition is not LUKS2:
$dump"
echo "$dump" | grep -qE 'PBKDF:[[:space:]]+argon2id' || fail "the data partition's keyslot is not argon2id:
$dump"
echo "# luksDump: LUKS2, argon2id"
if out=$(printf '%s\n' "$INST_PASS" | vm_ssh doas jefe-install /dev/vda 2>&1); then
	fail "jefe-install overwrote a partitioned disk without --wipe"
fi
echo "$out" | grep -q 'refusing /dev/vda' || fail "no refusal message: $out"
echo "# refused without --wipe: $(echo "$out" | tail -n 1)"
inst_stop

# --- BIOS: unlock on the serial line, log in, compliant, read-only ---
inst_boot bios install-bios
wait_serial 'jefe-init: installed system, slot a' "$ISO_BOOT_TIMEOUT"
grep -qa 'jefe-init: checking slot a' "$SERIAL" || wait_serial 'jefe-init: checking slot a' "$ISO_BOOT_TIMEOUT"
inst_unlock
wait_serial 'jefe-init: data partition unlocked' 300
wait_ssh "$ISO_BOOT_TIMEOUT"
inst_phase "BIOS disk boot to ssh"
check_compliant
mounts=$(vm_ssh cat /proc/mounts)
for want in '^overlay / overlay ' '^/dev/vda3 /live/ro squashfs ro[, ]' \
	'^/dev/vda3 /usr squashfs ro[, ]' '^/dev/mapper/jefe-data /live/data ext4 ' \
	'^/dev/mapper/jefe-data /var/log ext4 ' '^overlay /etc/jefe/policy.d overlay '; do
	echo "$mounts" | grep -qE "$want" || fail "no mount /$want/:
$mounts"
done
if vm_ssh doas touch /usr/jefe-write-test 2>/dev/null; then
	fail "/usr is writable"
fi
if vm_ssh doas touch /live/ro/jefe-write-test 2>/dev/null; then
	fail "the slot's squashfs is writable"
fi
echo "# root: slot A's squashfs, /usr read-only (a write fails)"
vm_ssh doas test ! -e /var/lib/jefe/live-session.marker ||
	fail "the live session's /var/lib/jefe was copied to the installed system"
vm_ssh doas test -s /var/lib/jefe/files.sha256 ||
	fail "the installed system recorded no baseline of its own at its first boot"
echo "# /var/lib/jefe: the installed system's own (its baseline), not the live session's"
fp1=$(vm_ssh ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) || fail "no ed25519 host key"
marker="jefe-marker-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
vm_ssh "echo $marker | doas tee /var/log/jefe-marker.log >/dev/null" ||
	fail "cannot write the marker into /var/log"
printf '# a local change (tests/install)\n[agent]\nmode = enforce\n# %s-conf\n' "$marker" |
	vm_ssh doas tee /etc/jefe/policy.d/90-local.conf >/dev/null || fail "cannot write 90-local.conf"
# a new policy file is drift until the admin accepts it (jefe.conf(5),
# baseline): the record is in /var/lib/jefe, which persists too
vm_ssh doas jefe baseline accept /etc/jefe/policy.d/90-local.conf >/dev/null ||
	fail "jefe baseline accept 90-local.conf failed"
vm_ssh doas sync
inst_stop
inst_phase "BIOS checks and power-off"

# The marker is on the disk, but only encrypted.  The same scan finds the
# ESP's grub.cfg, in plaintext by design: the scan sees the disk's bytes.
# The raw image is sparse (qemu-img skips zeros) and grep, reading it as
# a binary file (no -a), seeks past its holes: seconds, not 6 GB read.
need qemu-img
raw=$INST_STATE/install.raw
qemu-img convert -O raw "$DISK" "$raw" || fail "qemu-img convert"
LC_ALL=C grep -qF 'JefeLinux installed by jefe-install' "$raw" || {
	rm -f "$raw"
	fail "the raw disk scan does not find the ESP's grub.cfg: the scan is broken"
}
if LC_ALL=C grep -qF "$marker" "$raw"; then
	rm -f "$raw"
	fail "the marker written to /var/log is in plaintext on the raw disk"
fi
rm -f "$raw"
echo "# no plaintext of $marker on the raw disk (its ESP's grub.cfg is found)"

# --- UEFI, same disk: a wrong passphrase first, then persistence ---
inst_boot uefi install-uefi
wait_serial 'jefe-init: installed system, slot a' "$ISO_BOOT_TIMEOUT"
inst_unlock "not the passphrase"
wait_serial 'jefe-init: wrong passphrase for the data partition' 600
# asked again, and nothing went on booting meanwhile
deadline=$(($(date +%s) + 600))
while [ "$(serial_count 'Passphrase for the JefeLinux data partition')" -lt 2 ]; do
	[ "$(date +%s)" -lt "$deadline" ] || { tail -c 3000 "$SERIAL" >&2; fail "not asked again after a wrong passphrase"; }
	sleep 2
done
if grep -qaE 'jefe-init: data partition unlocked|OpenRC|switch_root' "$SERIAL"; then
	fail "the system went on booting with a wrong passphrase"
fi
echo "# wrong passphrase: refused, said so, asked again, not booted"
inst_unlock
wait_serial 'jefe-init: data partition unlocked' 300
wait_ssh "$ISO_BOOT_TIMEOUT"
inst_phase "UEFI disk boot to ssh (one wrong passphrase)"
vm_ssh test -d /sys/firmware/efi || fail "the UEFI boot is not a UEFI boot (no /sys/firmware/efi)"
check_compliant
fp2=$(vm_ssh ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) || fail "no ed25519 host key after the reboot"
[ "$fp1" = "$fp2" ] || fail "the host key changed across the reboot: $fp1 -> $fp2"
echo "# host key kept: $fp2"
vm_ssh doas cat /etc/jefe/policy.d/90-local.conf | grep -qF "$marker-conf" ||
	fail "90-local.conf did not survive the reboot"
vm_ssh doas cat /var/log/jefe-marker.log | grep -qF "$marker" || fail "/var/log did not survive the reboot"
echo "# 90-local.conf and /var/log kept"
inst_stop
inst_phase "UEFI checks and power-off"

iso_cleanup
QEMU_PID=
echo "# time: total $(($(date +%s) - t_start)) s (after the shared ISO build)"
echo "PASS: jefe-install, BIOS and UEFI boots of the disk, LUKS2 data, persistence"
