#!/bin/sh
# --secure-boot microsoft (the default ISO) under OVMF's Secure Boot build
# with Microsoft's keys: a copy of the ISO whose kernel had its signature
# removed must not boot.  GRUB's shim_lock verifier refuses it before the
# kernel runs.  (The signed chain booting, SecureBoot = 1, lockdown and
# boot:secure_boot are boot-uefi.sh's, on the same firmware.)
. "$abs_top_srcdir/tests/iso/lib.sh"

need xorriso sbattach sbverify
iso_build >"$abs_top_builddir/tests/iso/build-sb-ms.log" 2>&1 || {
	cat "$abs_top_builddir/tests/iso/build-sb-ms.log" >&2
	fail "the ISO build failed"
}
image=$(iso_file)

# The kernel without its signature, on a copy of the ISO with the same boot
# setup (xorriso replays El Torito, MBR, GPT and the EFI partition).
neg=$ISO_STATE/neg-ms
rm -rf "$neg"
mkdir -p "$neg"
xorriso -osirrox on -indev "$image" -extract /boot/vmlinuz "$neg/vmlinuz" >/dev/null 2>&1 ||
	fail "cannot extract /boot/vmlinuz"
sbverify --list "$neg/vmlinuz" | grep -q 'signature 1' || fail "the ISO's kernel is not signed"
chmod u+w "$neg/vmlinuz"
sbattach --remove "$neg/vmlinuz" || fail "sbattach --remove failed"
xorriso -indev "$image" -outdev "$neg/unsigned.iso" -boot_image any replay \
	-update "$neg/vmlinuz" /boot/vmlinuz -commit >"$neg/xorriso.log" 2>&1 ||
	{ cat "$neg/xorriso.log" >&2; fail "xorriso could not write the unsigned copy"; }

t0=$(date +%s)
iso_boot uefi-sb-ms sb-ms-unsigned "$neg/unsigned.iso"
# GRUB's own menu first: the copy still boots as far as shim and GRUB
wait_serial 'GNU GRUB' 300
wait_serial 'bad shim signature|[Ss]ecurity [Vv]iolation|Verification failed' 300
sleep 5
if grep -qa 'Linux version' "$SERIAL"; then
	fail "the unsigned kernel started"
fi
grep -aoE 'bad shim signature|[Ss]ecurity [Vv]iolation|Verification failed' "$SERIAL" | head -1 |
	sed "s/^/# refused by GRUB (shim_lock) $(($(date +%s) - t0)) s after power-on: /"
rm -rf "$neg"
echo "PASS: Secure Boot, Microsoft's keys: an unsigned kernel does not boot"
