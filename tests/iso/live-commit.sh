#!/bin/sh
# SPDX-License-Identifier: MIT
# live-commit.sh - the live ISO remembers (jefe-commit(8)): boot the ISO
# with a blank disk, make it a JEFE_DATA partition, change the local
# policy, commit, change it again without committing, cut the power.  The
# next boot restores the commit: its policy change is there, the later
# one is not, and the SSH host key is the same (read by ssh-keyscan from
# outside as well as in the guest).  Two boots: under emulation each
# takes minutes.
#
# JEFE_COMMIT_LUKS=yes: the partition is LUKS2
# (argon2id), and the boot asks for the passphrase, typed here on the
# serial line; a wrong one is refused first.  One guest at a time.
. "$abs_top_srcdir/tests/iso/lib.sh"

luks=${JEFE_COMMIT_LUKS:-no}
name=live-commit
[ "$luks" = yes ] && name=live-commit-luks
need truncate python3 ssh-keyscan ssh-keygen

iso_build >"$ISO_STATE/$name.build.log" 2>&1 ||
	{ tail -n 40 "$ISO_STATE/$name.build.log" >&2; fail "ISO build failed"; }

DISK=$ISO_STATE/$name.disk
rm -f "$DISK"
truncate -s 512M "$DISK"
# -boot order=d: the CD first, whatever the disk gets written.
ISO_QEMU_ARGS="-drive file=$DISK,format=raw,if=virtio -boot order=d"
PASS="correct horse battery $$"
if [ "$luks" = yes ]; then
	ISO_SERIAL_SOCKET=$ISO_STATE/$name.sock
	# the passphrase as jefe-commit reads it: a key file in the guest
	KEY=/run/jefe-test.key
fi

# boot N: one boot of the ISO with the disk, up to ssh; with LUKS a wrong
# passphrase first (refused, said so), then the right one.
boot() {
	iso_boot bios "$name$1"
	if [ "$luks" = yes ] && [ "$1" != 1 ]; then
		wait_serial 'Passphrase for the saved state' "$ISO_BOOT_TIMEOUT"
		serial_type "wrong $PASS"
		wait_serial 'wrong passphrase for /dev/vda1 \(try 1 of 3\)' 300
		serial_type "$PASS"
	fi
	wait_ssh "$ISO_BOOT_TIMEOUT"
	if [ "$luks" = yes ]; then
		vm_ssh "printf '%s\n' '$PASS' | doas tee $KEY >/dev/null && doas chmod 600 $KEY" ||
			fail "cannot write the key file in the guest"
	fi
}

# The host keys: the ed25519 one as a client sees it (ssh-keyscan, one
# connection: the firewall admits 3 a minute), and every key's fingerprint.
host_keys() {
	ssh-keyscan -t ed25519 -p "$PORT" -T 30 127.0.0.1 2>/dev/null | ssh-keygen -lf - |
		awk '{print "client:", $2, $NF}'
	vm_ssh 'for k in /etc/ssh/ssh_host_*_key.pub; do ssh-keygen -lf "$k"; done' | awk '{print $2, $NF}' | sort
}

commit() {
	if [ "$luks" = yes ]; then
		vm_ssh doas jefe-commit --key-file "$KEY" "$@"
	else
		vm_ssh doas jefe-commit "$@"
	fi
}

# ---- boot 1: a blank disk, nothing to restore
boot 1
st=$(vm_ssh cat /live/rw/persist.status) || fail "no /live/rw/persist.status"
[ "$st" = "none (no JEFE_DATA partition)" ] || fail "boot 1 persist status: '$st'"
pass_() { echo "ok - $*"; }
pass_ "boot 1: $st"

if [ "$luks" = yes ]; then
	vm_ssh doas jefe-commit init --luks --key-file "$KEY" /dev/vda || fail "jefe-commit init --luks failed"
	[ "$(vm_ssh doas blkid -o value -s TYPE /dev/vda1)" = crypto_LUKS ] || fail "/dev/vda1 is not LUKS"
	dump=$(vm_ssh doas cryptsetup luksDump /dev/vda1) || fail "cryptsetup luksDump failed"
	echo "$dump" | grep -qE '^Version:[[:space:]]+2$' || fail "not LUKS2:
$dump"
	echo "$dump" | grep -qE 'PBKDF:[[:space:]]+argon2id' || fail "not argon2id:
$dump"
	echo "$dump" | grep -qE '^Label:[[:space:]]+JEFE_DATA$' || fail "LUKS2 label is not JEFE_DATA"
else
	vm_ssh doas jefe-commit init /dev/vda || fail "jefe-commit init failed"
	[ "$(vm_ssh doas blkid -o value -s TYPE /dev/vda1)" = ext4 ] || fail "/dev/vda1 is not ext4"
fi
[ "$(vm_ssh doas blkid -o value -s LABEL /dev/vda1)" = JEFE_DATA ] || fail "/dev/vda1 is not labelled JEFE_DATA"
# A disk holding a partition table is not wiped unasked.
if vm_ssh doas jefe-commit init /dev/vda 2>"$ISO_STATE/$name.init2"; then
	fail "jefe-commit init overwrote a partitioned disk without --wipe"
fi
grep -q -- '--wipe' "$ISO_STATE/$name.init2" || fail "init's refusal does not say --wipe: $(cat "$ISO_STATE/$name.init2")"
pass_ "jefe-commit init made /dev/vda1 JEFE_DATA (luks=$luks); refuses a used disk without --wipe"

# The local policy: a key of its own, in the file the docs name.
vm_ssh "printf '# live-commit test %s\n[agent]\ncheck_interval = 123\n' $$ | doas tee /etc/jefe/policy.d/90-local.conf >/dev/null && doas chmod 0640 /etc/jefe/policy.d/90-local.conf" ||
	fail "cannot write 90-local.conf"
vm_ssh doas jefe policy check >/dev/null || fail "the local policy does not check"
local1=$(vm_ssh doas sha256sum /etc/jefe/policy.d/90-local.conf | cut -d' ' -f1)
meta1=$(vm_ssh doas stat -c '%a:%u:%g' /etc/jefe/policy.d/90-local.conf)
keys1=$(host_keys)
echo "$keys1" | grep -q '^client: SHA256:.*(ED25519)$' || fail "ssh-keyscan saw no ed25519 host key: $keys1"
out=$(commit) || fail "jefe-commit failed: $out"
echo "# $out"
gen1=$(echo "$out" | sed -n 's/.*(\(gen\.[^)]*\))$/\1/p')
[ -n "$gen1" ] || fail "jefe-commit did not name the saved state: $out"
pass_ "committed $gen1"

# ---- the power goes off right after the commit: it synced, that is enough
vm_ssh "printf '# live-commit test, not committed\n[agent]\ncheck_interval = 456\n' | doas tee /etc/jefe/policy.d/90-local.conf >/dev/null" ||
	fail "cannot change 90-local.conf"
kill -KILL "$QEMU_PID"
wait "$QEMU_PID" 2>/dev/null || true
QEMU_PID=

# ---- boot 2: the first commit, whole
boot 2
st=$(vm_ssh cat /live/rw/persist.status)
[ "$st" = "restored /dev/vda1 $gen1" ] || fail "boot 2 persist status: '$st' (wanted restored /dev/vda1 $gen1)"
[ "$(vm_ssh doas sha256sum /etc/jefe/policy.d/90-local.conf | cut -d' ' -f1)" = "$local1" ] ||
	fail "90-local.conf is not the committed one after the reboot"
[ "$(vm_ssh doas stat -c '%a:%u:%g' /etc/jefe/policy.d/90-local.conf)" = "$meta1" ] ||
	fail "90-local.conf's mode or owner changed across the reboot"
keys2=$(host_keys)
[ "$keys2" = "$keys1" ] || fail "the host keys changed across the reboot:
before: $keys1
after:  $keys2"
pass_ "boot 2: $st; 90-local.conf and the host keys ($(echo "$keys2" | wc -l) lines) are the commit's"
echo "PASS: $name"
