#!/bin/sh
# --secure-boot own, signed with the snakeoil key that OVMF_VARS_4M.snakeoil.fd
# trusts: the firmware boots the signed unified kernel image (no shim, no
# GRUB), whose initramfs opens the root squashfs only through dm-verity
# with the root hash on the signed command line.  In the guest: SecureBoot
# = 1, lockdown, the agent compliant, the root mounted from the verity
# device and its status valid.  Then three copies of the ISO that must
# not boot, each stopped where it should be:
#   - one byte of the UKI changed: the firmware refuses the image;
#   - one byte of a squashfs data block changed: dm-verity refuses the
#     block and the initramfs stops the boot with its message;
# and the build itself: deterministic with the same key, and nothing of
# the key in the output or the cache.
. "$abs_top_srcdir/tests/iso/lib.sh"

need mcopy sbverify python3
log=$abs_top_builddir/tests/iso/build-sb-own.log
iso_build_own >"$log" 2>&1 || { cat "$log" >&2; fail "the --secure-boot own build failed"; }
image=$(iso_file)
own_out=$ISO_OUT

# The key never leaves its file: no line of it in the ISO, the outputs or
# the stage cache.
keyline=$(sed -n 3p "$SNAKEOIL_KEY")
[ ${#keyline} -ge 40 ] || fail "unexpected key file layout"
if grep -rqaF "$keyline" "$ISO_OUT" "$ISO_WORK/cache"; then
	fail "a line of the signing key is in the output or the cache"
fi

# Deterministic: stage 5 again gives the same bytes (the signature too).
sum1=$(sha256sum "$image" | cut -d' ' -f1)
ISO_OUT=$ISO_STATE/out-own2
iso_build --secure-boot own --sign-key "$SNAKEOIL_KEY" --sign-cert "$SNAKEOIL_CERT" \
	--from-stage 5 >"$log" 2>&1 || { cat "$log" >&2; fail "the second own build failed"; }
sum2=$(sha256sum "$(iso_file)" | cut -d' ' -f1)
[ "$sum1" = "$sum2" ] || fail "two --secure-boot own builds differ: $sum1 vs $sum2"
rm -rf "$ISO_OUT"
ISO_OUT=$own_out
echo "# two own builds: $sum1; no key material in the output or cache"

# The UKI, out of the EFI partition (GPT partition 2).
neg=$ISO_STATE/neg-own
rm -rf "$neg"
mkdir -p "$neg"
part=$(python3 - "$image" <<'EOF'
import struct, sys
with open(sys.argv[1], "rb") as f:
    f.seek(512)
    hdr = f.read(92)
    assert hdr[:8] == b"EFI PART", "no GPT"
    lba, n, size = struct.unpack_from("<QII", hdr, 72)
    f.seek(lba * 512 + size)          # the second entry
    e = f.read(size)
    print(struct.unpack_from("<Q", e, 32)[0] * 512)
EOF
) || fail "no GPT partition 2 in the ISO"
mcopy -n -i "$image@@$part" ::/EFI/BOOT/BOOTX64.EFI "$neg/uki.efi" || fail "no UKI in the EFI partition"
sbverify --cert "$SNAKEOIL_CERT" "$neg/uki.efi" >/dev/null 2>&1 || fail "the UKI does not verify with the snakeoil certificate"

t0=$(date +%s)
iso_boot uefi-sb-own sb-own
wait_serial 'jefe-init: dm-verity: root verified' "$ISO_BOOT_TIMEOUT"
wait_ssh "$ISO_BOOT_TIMEOUT"
echo "# Secure Boot on, own keys: power-on to ssh in $(($(date +%s) - t0)) s"
grep -qa 'EFI stub: UEFI Secure Boot is enabled' "$SERIAL" ||
	grep -qa 'secureboot: Secure boot enabled' "$SERIAL" || fail "the kernel did not see Secure Boot"
if grep -qa 'GNU GRUB' "$SERIAL"; then
	fail "GRUB ran: the firmware should start the UKI itself"
fi
sb=$(vm_ssh od -An -tx1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c |
	awk '{print $5}')
[ "$sb" = 01 ] || fail "SecureBoot is not 1 in the guest ($sb)"
lockdown=$(vm_ssh cat /sys/kernel/security/lockdown)
echo "$lockdown" | grep -qE '\[(integrity|confidentiality)\]' || fail "lockdown not engaged: $lockdown"
echo "# SecureBoot 1, lockdown $lockdown"
check_compliant

# The root: the squashfs on the verity device, with the signed root hash.
cmdline=$(vm_ssh cat /proc/cmdline)
roothash=$(echo "$cmdline" | tr ' ' '\n' | sed -n 's/^jefe.verity.roothash=//p')
[ ${#roothash} = 64 ] || fail "no root hash on the command line: $cmdline"
mounts=$(vm_ssh cat /proc/mounts)
echo "$mounts" | grep -qE '^/dev/dm-[0-9]+ /live/ro squashfs ro[, ]' ||
	fail "the squashfs is not mounted from the verity device:
$mounts"
status=$(vm_ssh doas jefe-verity status jefe-root) || fail "jefe-verity status failed"
table=$(vm_ssh doas jefe-verity table jefe-root) || fail "jefe-verity table failed"
echo "# status: $status"
echo "# table: $table"
echo "$status" | grep -qE '^0 [0-9]+ verity V$' || fail "the verity device is not valid: $status"
echo "$table" | grep -q " sha256 $roothash " || fail "the table's root hash is not the signed one"
iso_cleanup
QEMU_PID=

# 1. One byte of the UKI's command line changed (the root hash): the
# firmware's signature check must refuse the image.
python3 - "$image" "$neg/uki.efi" "$neg/uki-bad.iso" <<'EOF' || fail "could not patch the UKI"
import sys
iso = open(sys.argv[1], "rb").read()
uki = open(sys.argv[2], "rb").read()
at = iso.find(uki[:1 << 20])
assert at > 0 and iso[at:at + len(uki)] == uki, "the UKI is not contiguous in the ISO"
i = uki.find(b"jefe.verity.roothash=") + len("jefe.verity.roothash=")
assert i > 100
b = bytearray(iso)
b[at + i] = ord("0") if b[at + i] != ord("0") else ord("1")
open(sys.argv[3], "wb").write(b)
EOF
iso_boot uefi-sb-own sb-own-uki "$neg/uki-bad.iso"
wait_serial 'Access Denied|Security Violation' 300
sleep 3
if grep -qa 'Linux version' "$SERIAL"; then
	fail "the firmware started the modified UKI"
fi
grep -aE 'Access Denied|Security Violation' "$SERIAL" | head -1 | tr -d '\r' | sed 's/^/# firmware: /'
iso_cleanup
QEMU_PID=
rm -f "$neg/uki-bad.iso"

# 2. One byte in the middle of the squashfs (a data block) changed, in place.
offset=$(xorriso -indev "$image" -find /live/root.sfs -exec report_lba -- 2>/dev/null |
	awk -F'[:,]' '/File data lba/ { gsub(/ /, ""); print $3; exit }')
[ -n "$offset" ] || fail "no extent of /live/root.sfs in $image"
python3 - "$image" "$neg/sfs-bad.iso" "$offset" <<'EOF' || fail "could not patch the squashfs"
import struct, sys
src, dst, lba = sys.argv[1], sys.argv[2], int(sys.argv[3])
b = bytearray(open(src, "rb").read())
start = lba * 2048
assert b[start:start + 4] == b"hsqs", "no squashfs at LBA %d" % lba
size = struct.unpack_from("<Q", b, start + 40)[0]   # bytes_used
at = start + size // 2
b[at] ^= 0xff
open(dst, "wb").write(b)
EOF
iso_boot uefi-sb-own sb-own-sfs "$neg/sfs-bad.iso"
wait_serial 'jefe-init: FATAL: dm-verity' "$ISO_BOOT_TIMEOUT"
sleep 3
grep -qa 'device-mapper: verity.*is corrupted' "$SERIAL" ||
	fail "no dm-verity corruption report from the kernel"
grep -qa 'the boot stops here' "$SERIAL" || fail "the initramfs did not stop"
if grep -qaE 'OpenRC [0-9.]+ is starting up' "$SERIAL"; then
	fail "the corrupt root was booted"
fi
{ grep -a 'device-mapper: verity.*is corrupted' "$SERIAL" | head -1
  grep -a 'jefe-init: FATAL' "$SERIAL" | head -1; } | tr -d '\r' | sed 's/^/# /'
rm -rf "$neg"
echo "PASS: Secure Boot, own keys: signed UKI and dm-verity root boot; a changed UKI or root block does not"
