#!/bin/sh
# jefe-install --tpm2 end to end, with a software TPM2 (swtpm) attached to
# the guest as a TIS device: the firmware (SeaBIOS, OVMF) measures into it
# as into a real one.  One install, two boots of the disk:
#   1. BIOS, the TPM of the install: the data partition unlocks by itself
#      (no passphrase asked), `jefe status` compliant; the keyslot and the
#      jefe-tpm2 token are there; --tpm2-enroll on the installed system
#      seals a new key against this boot's PCRs 0, 4 and 7 and replaces the
#      first enrollment;
#   2. UEFI (OVMF), the same TPM: PCR 7 (the Secure Boot state) and PCR 0
#      differ, the initramfs says so, asks the passphrase on the serial
#      line and unlocks with it; --tpm2-remove kills the keyslot and
#      removes the token.
# Three boots under TCG: make check-tpm (or check-install-extra), not make check.
. "$abs_top_srcdir/tests/install/lib.sh"

need swtpm
TPM_DIR=$INST_STATE/tpm
SWTPM_PID=

# tpm_start NAME: a swtpm for the next boot, its state in $TPM_DIR/NAME
# (kept between boots: the same TPM); sets INST_QEMU_ARGS.  --terminate:
# it ends with qemu's connection.
tpm_start() {
	tpm_stop
	mkdir -p "$TPM_DIR/$1"
	sock=$TPM_DIR/$1.sock
	rm -f "$sock"
	swtpm socket --tpm2 --tpmstate "dir=$TPM_DIR/$1" --ctrl "type=unixio,path=$sock" \
		--log "file=$TPM_DIR/$1.log" --terminate &
	SWTPM_PID=$!
	tries=0
	until [ -S "$sock" ]; do
		tries=$((tries + 1))
		[ "$tries" -lt 50 ] || fail "swtpm did not make $sock (see $TPM_DIR/$1.log)"
		kill -0 "$SWTPM_PID" 2>/dev/null || fail "swtpm exited (see $TPM_DIR/$1.log)"
		sleep 0.2
	done
	INST_QEMU_ARGS="-chardev socket,id=chrtpm,path=$sock -tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0"
}

tpm_stop() {
	[ -n "$SWTPM_PID" ] || return 0
	kill "$SWTPM_PID" 2>/dev/null || true
	wait "$SWTPM_PID" 2>/dev/null || true
	SWTPM_PID=
}

tpm_cleanup() {
	iso_cleanup
	tpm_stop
}
trap tpm_cleanup EXIT INT TERM

# tpm_luks: the data partition's keyslots and tokens, from the guest.
tpm_luks() {
	vm_ssh doas cryptsetup luksDump /dev/vda5 | sed -n '/^Keyslots:/,/^Digests:/p'
}

# tpm_pcrs: the guest's PCRs 0, 4 and 7 (SHA-256), as the kernel reads them.
tpm_pcrs() {
	for n in 0 4 7; do
		echo "# PCR $n: $(vm_ssh cat /sys/class/tpm/tpm0/pcr-sha256/$n)"
	done
}

# tpm_wait_unlock: the boot unlocked the data partition.
tpm_wait_unlock() {
	wait_serial 'jefe-init: data partition unlocked' "$ISO_BOOT_TIMEOUT"
}

inst_build_iso
inst_disk tpm 6G
rm -rf "$TPM_DIR"
t_start=$(date +%s)
t_last=$t_start
tpm_phase() {
	now=$(date +%s)
	echo "# time: $1 $((now - t_last)) s"
	t_last=$now
}

# --- the install, on the live ISO with the machine's TPM ---
tpm_start machine
inst_install tpm-iso --tpm2
grep -q 'TPM2: the data partition.s keyslot 1 is sealed against PCRs 7 ' "$INST_STATE/tpm-iso.install" ||
	fail "jefe-install --tpm2 did not say it sealed keyslot 1 against PCR 7"
tpm_phase "ISO boot and jefe-install --tpm2"

# --- 1. BIOS, the same TPM: unlocks by itself ---
tpm_start machine
inst_boot bios tpm-bios
tpm_wait_unlock
grep -qa 'jefe-init: data partition unlocked with the key sealed in the TPM2 (PCRs 7 of sha256)' "$SERIAL" || {
	tail -c 3000 "$SERIAL" >&2
	fail "the data partition was not unlocked by the TPM2"
}
[ "$(serial_count 'Passphrase for the JefeLinux data partition')" = 0 ] ||
	fail "the passphrase was asked although the TPM2 unlocked"
echo "# BIOS boot: unlocked by the TPM2, no passphrase asked"
wait_ssh "$ISO_BOOT_TIMEOUT"
tpm_phase "BIOS disk boot to ssh (TPM2 unlock)"
check_compliant
vm_ssh test -c /dev/tpmrm0 || fail "no /dev/tpmrm0 on the installed system"
tpm_pcrs
luks=$(tpm_luks) || fail "cryptsetup luksDump /dev/vda5"
echo "$luks" | sed 's/^/# luks: /' | grep -E '^# luks: +[0-9]+:|PBKDF|Keyslot:|Iterations'
echo "$luks" | grep -qE '^  0: jefe-tpm2$' || fail "no jefe-tpm2 token in the LUKS2 header"
echo "$luks" | sed -n '/^  1: luks2/,/^  [0-9]/p' | grep -qE 'PBKDF:[[:space:]]+pbkdf2' ||
	fail "keyslot 1 (the TPM2's) is not PBKDF2"
echo "$luks" | sed -n '/^  0: luks2/,/^  [0-9]/p' | grep -qE 'PBKDF:[[:space:]]+argon2id' ||
	fail "keyslot 0 (the passphrase's) is not argon2id any more"
# the token holds the sealed object, never the key: no 64-hex-digit
# string (the key's form) but the PCR values
token=$(vm_ssh doas cryptsetup token export --token-id 0 /dev/vda5) || fail "token export"
for f in jefe-tpm2-public jefe-tpm2-private jefe-tpm2-pcr-values; do
	echo "$token" | grep -q "\"$f\":\"[^\"]" || fail "the token has no $f: $token"
done
if echo "$token" | sed 's/"jefe-tpm2-pcr-values":"[^"]*"//' | grep -qE '[0-9a-f]{64}'; then
	fail "the token holds a 64-hex-digit string other than a PCR value: $token"
fi
# re-seal on the installed system against its own boot chain: a wrong
# passphrase is refused, the right one replaces the enrollment
if out=$(echo "not the passphrase" | vm_ssh doas jefe-install --tpm2-enroll --tpm2-pcrs 0,4,7 2>&1); then
	fail "--tpm2-enroll accepted a wrong passphrase: $out"
fi
echo "$out" | grep -q 'the passphrase does not open' || fail "--tpm2-enroll with a wrong passphrase: $out"
out=$(printf '%s\n' "$INST_PASS" | vm_ssh doas jefe-install --tpm2-enroll --tpm2-pcrs 0,4,7 2>&1) || {
	echo "$out" >&2
	fail "jefe-install --tpm2-enroll failed"
}
echo "$out" | sed 's/^/# enroll: /'
echo "$out" | grep -q 'keyslot 2 is sealed against PCRs 0,4,7 ' || fail "--tpm2-enroll did not seal keyslot 2"
echo "$out" | grep -q 'removed token 0 and keyslot 1' || fail "--tpm2-enroll did not replace the first enrollment"
luks=$(tpm_luks) || fail "cryptsetup luksDump /dev/vda5"
[ "$(echo "$luks" | grep -cE '^  [0-9]+: jefe-tpm2$')" = 1 ] || fail "not one jefe-tpm2 token after --tpm2-enroll:
$luks"
echo "$luks" | grep -qE '^  1: luks2' && fail "keyslot 1 is still there after --tpm2-enroll"
vm_ssh doas sync
inst_stop
tpm_phase "BIOS checks, --tpm2-enroll, power-off"

# --- 2. UEFI, the same TPM: other PCRs, the passphrase ---
tpm_start machine
inst_boot uefi tpm-uefi
inst_unlock
tpm_wait_unlock
grep -aE 'jefe-init: TPM2: ' "$SERIAL" | tr -d '\r' | sed 's/^/# serial: /'
grep -qaE 'jefe-init: TPM2: PCR [0-9 ]*7 of sha256 changed since the enrollment.*asking for the passphrase' "$SERIAL" ||
	fail "the UEFI boot did not say PCR 7 changed"
grep -qa 'unlocked with the key sealed in the TPM2' "$SERIAL" && fail "the TPM2 unsealed under other PCRs"
wait_ssh "$ISO_BOOT_TIMEOUT"
vm_ssh test -d /sys/firmware/efi || fail "the UEFI boot is not a UEFI boot"
tpm_pcrs
check_compliant
out=$(printf '%s\n' "$INST_PASS" | vm_ssh doas jefe-install --tpm2-remove 2>&1) || {
	echo "$out" >&2
	fail "jefe-install --tpm2-remove failed"
}
echo "$out" | sed 's/^/# remove: /'
luks=$(tpm_luks) || fail "cryptsetup luksDump /dev/vda5"
echo "$luks" | grep -qE 'jefe-tpm2' && fail "a jefe-tpm2 token is left after --tpm2-remove:
$luks"
[ "$(echo "$luks" | grep -cE '^  [0-9]+: luks2')" = 1 ] || fail "not only the passphrase's keyslot after --tpm2-remove:
$luks"
echo "# --tpm2-remove: only keyslot 0 (the passphrase) and no token are left"
inst_stop
tpm_phase "UEFI disk boot (PCRs changed, passphrase), --tpm2-remove"
tpm_stop

iso_cleanup
QEMU_PID=
echo "# time: total $(($(date +%s) - t_start)) s (after the shared ISO build)"
echo "PASS: jefe-install --tpm2: unattended unlock, passphrase fallback on changed PCRs, re-enroll, remove"
