#!/bin/sh
# jefe-install end to end: the ISO booted with a blank qcow2 disk, the
# install over ssh (passphrase on stdin), then the disk alone booted on
# BIOS and on UEFI, unlocked through the serial console.  Checks the
# encryption (LUKS2, argon2id, no plaintext on the raw disk), persistence
# across the reboot (a 90-local.conf change, the SSH host key), the
# read-only /usr, and that a wrong passphrase is refused and said so (the
# initramfs stops after three; one is tried here, a boot under TCG is long).
. "$abs_top_srcdir/tests/install/lib.sh"

inst_build_iso
inst_disk install 6G

# --- the live ISO: dry run, the install, the refusal of a used disk ---
inst_boot iso install-iso
wait_ssh "$ISO_BOOT_TIMEOUT"
dry=$(vm_ssh doas jefe-install --dry-run /dev/vda 2>&1) || { echo "$dry" >&2; fail "jefe-install --dry-run failed"; }
echo "$dry" | sed 's/^/# dry-run: /'
for want in 'label: gpt' 'name="jefe-bios"' 'name="jefe-esp"' 'name="jefe-root-a"' \
	'name="jefe-root-b"' 'name="jefe-data"' '+ sfdisk' '+ mkfs.vfat' '+ grub-install --target=i386-pc' \
	'+ grub-install --target=x86_64-efi' 'cryptsetup luksFormat --batch-mode --type luks2 --pbkdf argon2id' \
	'+ mkfs.ext4' '+ dd if=' 'nothing was changed'; do
	echo "$dry" | grep -qF -- "$want" || fail "--dry-run does not show '$want'"
done
[ -z "$(vm_ssh doas wipefs --no-act --noheadings /dev/vda)" ] || fail "--dry-run wrote to /dev/vda"
printf '%s\n' "$INST_PASS" | inst_ssh_long doas jefe-install /dev/vda >"$INST_STATE/install.out" 2>&1 || {
	cat "$INST_STATE/install.out" >&2
	fail "jefe-install /dev/vda failed"
}
sed 's/^/# install: /' "$INST_STATE/install.out"
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

# --- BIOS: unlock on the serial line, log in, compliant ---
inst_boot bios install-bios
wait_serial 'jefe-init: installed system, slot a' "$ISO_BOOT_TIMEOUT"
wait_serial 'jefe-init: checking slot a' "$ISO_BOOT_TIMEOUT"
inst_unlock
wait_serial 'jefe-init: data partition unlocked' 300
wait_ssh "$ISO_BOOT_TIMEOUT"
check_compliant
mounts=$(vm_ssh cat /proc/mounts)
echo "$mounts" | grep -qE '^/dev/vda3 /live/ro squashfs ro' || fail "slot A is not the root:
$mounts"
echo "$mounts" | grep -qE '^/dev/mapper/jefe-data /live/data ext4 ' || fail "no data partition at /live/data:
$mounts"
echo "$mounts" | grep -qE '^/dev/vda3 /usr squashfs ro' || fail "/usr is not the read-only squashfs:
$mounts"
if vm_ssh doas touch /usr/jefe-write-test 2>/dev/null; then
	fail "/usr is writable"
fi
echo "# /usr: read-only"
fp1=$(vm_ssh ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) || fail "no ed25519 host key"
marker="jefe-marker-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
vm_ssh "echo $marker | doas tee /var/log/jefe-marker.log >/dev/null" ||
	fail "cannot write the marker into /var/log"
printf '# a local change (tests/install)\n[agent]\nmode = enforce\n# %s-conf\n' "$marker" |
	vm_ssh doas tee /etc/jefe/policy.d/90-local.conf >/dev/null || fail "cannot write 90-local.conf"
vm_ssh doas sync
inst_stop

# the marker is on the disk, but only encrypted
need qemu-img
qemu-img convert -O raw "$DISK" "$INST_STATE/install.raw" || fail "qemu-img convert"
if grep -qaF "$marker" "$INST_STATE/install.raw"; then
	rm -f "$INST_STATE/install.raw"
	fail "the marker written to /var/log is in plaintext on the raw disk"
fi
rm -f "$INST_STATE/install.raw"
echo "# no plaintext of $marker on the raw disk"

# --- UEFI, same disk: a wrong passphrase first, then persistence ---
inst_boot uefi install-uefi
wait_serial 'jefe-init: installed system, slot a' "$ISO_BOOT_TIMEOUT"
inst_unlock "not the passphrase"
wait_serial 'jefe-init: wrong passphrase for the data partition' 600
if grep -qaE 'jefe-init: data partition unlocked|Starting Jefe' "$SERIAL"; then
	fail "the system went on booting with a wrong passphrase"
fi
echo "# wrong passphrase: refused, said so, asked again"
inst_unlock
wait_serial 'jefe-init: data partition unlocked' 300
wait_ssh "$ISO_BOOT_TIMEOUT"
check_compliant
fp2=$(vm_ssh ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) || fail "no ed25519 host key after the reboot"
[ "$fp1" = "$fp2" ] || fail "the host key changed across the reboot: $fp1 -> $fp2"
echo "# host key kept: $fp2"
vm_ssh cat /etc/jefe/policy.d/90-local.conf | grep -qF "$marker-conf" ||
	fail "90-local.conf did not survive the reboot"
vm_ssh cat /var/log/jefe-marker.log | grep -qF "$marker" || fail "/var/log did not survive the reboot"
echo "# 90-local.conf and /var/log kept"
inst_stop

iso_cleanup
QEMU_PID=
echo "PASS: jefe-install, BIOS and UEFI boots of the disk, LUKS2 data, persistence"
