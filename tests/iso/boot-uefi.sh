#!/bin/sh
# The same ISO boots on UEFI as shipped firmware has it: OVMF's Secure Boot
# build with Microsoft's keys enrolled and Secure Boot on (q35, SMM).  The
# default --secure-boot microsoft chain (shim -> Debian's signed GRUB ->
# Debian's signed kernel) starts the jefe services; the guest reads
# SecureBoot = 1 from efivarfs, the kernel is locked down, and the agent
# reports boot:secure_boot enabled and every layer compliant.  (The same
# binaries with Secure Boot off only skip the checks: bench/secure-boot.sh
# boots that way.)
. "$abs_top_srcdir/tests/iso/lib.sh"

iso_build >"$abs_top_builddir/tests/iso/build-uefi.log" 2>&1 || {
	cat "$abs_top_builddir/tests/iso/build-uefi.log" >&2
	fail "the ISO build failed"
}
t0=$(date +%s)
iso_boot uefi-sb-ms uefi
wait_serial 'OpenRC [0-9.]+ is starting up' "$ISO_BOOT_TIMEOUT"
grep -qa 'EFI stub: UEFI Secure Boot is enabled' "$SERIAL" ||
	fail "the kernel did not boot through UEFI with Secure Boot on"
grep -qa 'secureboot: Secure boot enabled' "$SERIAL" || fail "the kernel did not see Secure Boot"
wait_serial 'Starting Jefe Application Manager' "$ISO_BOOT_TIMEOUT"
wait_ssh "$ISO_BOOT_TIMEOUT"
echo "# Secure Boot on (Microsoft's keys): power-on to ssh in $(($(date +%s) - t0)) s"

# efivarfs: 4 attribute bytes, then the value
sb=$(vm_ssh od -An -tx1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c)
echo "# SecureBoot efivar:$sb"
[ "$(echo "$sb" | awk '{print $5}')" = 01 ] || fail "SecureBoot is not 1 in the guest:$sb"
lockdown=$(vm_ssh cat /sys/kernel/security/lockdown)
echo "# lockdown: $lockdown"
echo "$lockdown" | grep -qE '\[(integrity|confidentiality)\]' || fail "lockdown not engaged: $lockdown"

check_compliant
vm_ssh doas jefe status --json | python3 -c '
import json, sys
f = {x["id"]: x for x in json.load(sys.stdin)["findings"]}
x = f.get("modules:boot:secure_boot")
if not x or x.get("actual") != "enabled" or x["state"] != "compliant":
    sys.exit("boot:secure_boot: %r" % (x,))
print("# modules:boot:secure_boot: enabled")
' || fail "the agent does not report Secure Boot enabled"
check_root_overlay
echo "PASS: UEFI boot with Secure Boot on"
