#!/bin/sh
# --secure-boot microsoft (the default ISO) under OVMF's Secure Boot build
# with Microsoft's keys enrolled, as shipped firmware has them: shim ->
# Debian's signed GRUB -> Debian's signed kernel boots; the guest reads
# SecureBoot = 1 from efivarfs, the kernel is locked down, the agent
# reports boot:secure_boot enabled and every layer compliant.  Then the
# same ISO with the kernel's signature removed must not boot: GRUB's
# shim_lock verifier refuses it before the kernel runs.
. "$abs_top_srcdir/tests/iso/lib.sh"

need xorriso sbattach sbverify od
iso_build >"$abs_top_builddir/tests/iso/build-sb-ms.log" 2>&1 || {
	cat "$abs_top_builddir/tests/iso/build-sb-ms.log" >&2
	fail "the ISO build failed"
}
image=$(iso_file)

t0=$(date +%s)
iso_boot uefi-sb-ms sb-ms
wait_serial 'secureboot: Secure boot enabled' "$ISO_BOOT_TIMEOUT"
wait_ssh "$ISO_BOOT_TIMEOUT"
echo "# Secure Boot on: power-on to ssh in $(($(date +%s) - t0)) s"

# efivarfs: 4 attribute bytes, then the value
sb=$(vm_ssh od -An -tx1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c)
echo "# SecureBoot efivar:$sb"
[ "$(echo "$sb" | awk '{print $5}')" = 01 ] || fail "SecureBoot is not 1 in the guest:$sb"
lockdown=$(vm_ssh cat /sys/kernel/security/lockdown)
echo "# lockdown: $lockdown"
echo "$lockdown" | grep -qE '\[(integrity|confidentiality)\]' || fail "lockdown not engaged: $lockdown"
grep -qa "EFI stub: UEFI Secure Boot is enabled" "$SERIAL" || fail "the EFI stub did not see Secure Boot"

check_compliant
vm_ssh doas jefe status --json | python3 -c '
import json, sys
f = {x["id"]: x for x in json.load(sys.stdin)["findings"]}
x = f.get("modules:boot:secure_boot")
if not x or x.get("actual") != "enabled" or x["state"] != "compliant":
    sys.exit("boot:secure_boot: %r" % (x,))
print("# modules:boot:secure_boot: enabled")
' || fail "the agent does not report Secure Boot enabled"
iso_cleanup
QEMU_PID=

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

iso_boot uefi-sb-ms sb-ms-unsigned "$neg/unsigned.iso"
wait_serial 'bad shim signature|[Ss]ecurity [Vv]iolation|Verification failed' 300
sleep 5
if grep -qa 'Linux version' "$SERIAL"; then
	fail "the unsigned kernel started"
fi
grep -aoE 'bad shim signature|[Ss]ecurity [Vv]iolation|Verification failed' "$SERIAL" | head -1 |
	sed 's/^/# refused by GRUB (shim_lock): /'
rm -rf "$neg"
echo "PASS: Secure Boot, Microsoft's keys: the signed chain boots, an unsigned kernel does not"
