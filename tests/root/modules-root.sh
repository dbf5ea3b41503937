#!/bin/sh
# The modules layer through the jefe CLI against a temporary root, with
# the shipped policy file: the managed modprobe.d file (read back by
# kmod's own modprobe, an independent parser), a loaded blocked module,
# the kernel command line, a tamper detected and repaired, and a policy
# that would block what the live image needs refused with file:line.
. "$abs_top_srcdir/tests/lib/common.sh"
need_cmd python3 modprobe
make_root

MP=/etc/modprobe.d/jefe-blacklist.conf
mkdir -p "$T/etc/jefe/policy.d" "$T/proc/sys/kernel"
printf '[agent]\nmode = enforce\n' >"$T/etc/jefe/jefe.conf"
cp "$abs_top_srcdir/policies/policy.d/20-modules.conf" "$T/etc/jefe/policy.d/"
printf 'sctp 434176 2 - Live 0x0\nnf_tables 344064 0 - Live 0x0\n' >"$T/proc/modules"
printf 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro lockdown=integrity slab_nomerge init_on_alloc=1\n' >"$T/proc/cmdline"
printf '0\n' >"$T/proc/sys/kernel/modules_disabled"

# status: drift (exit 2), the file is absent, sctp is loaded; nothing written.
expect_exit 2 "$JEFE" --root "$T" --direct status --layer modules --json >"$T/s.json"
[ ! -e "$T$MP" ] || fail "status wrote $MP"
python3 - "$T/s.json" <<'PY'
import json, sys
f = {x["id"]: x for x in json.load(open(sys.argv[1]))["findings"]}
mp = f["modules:/etc/modprobe.d/jefe-blacklist.conf"]
assert (mp["state"], mp["actual"]) == ("drift", "absent"), mp
assert f["modules:module:sctp"]["state"] == "drift", f["modules:module:sctp"]
assert f["modules:module:cramfs"]["state"] == "compliant"
c = f["modules:cmdline:page_alloc.shuffle"]
assert (c["state"], c["action"], c["actual"]) == ("drift", "cannot-fix", "absent"), c
assert "GRUB_CMDLINE_LINUX" in c["note"], c
assert f["modules:cmdline:lockdown"]["state"] == "compliant"
assert "modules:kernel.modules_disabled" not in f   # the shipped policy leaves it off
PY
pass "status: file absent, sctp loaded, cmdline param missing with its fix named"

# The dry run shows the file it would write as a unified diff, and writes nothing.
expect_exit 2 "$JEFE" --root "$T" --direct enforce --dry-run --layer modules >"$T/d.txt"
grep -qxF "      +++ $MP (as jefe would write it)" "$T/d.txt" || fail "dry run: no diff of $MP: $(cat "$T/d.txt")"
grep -q '^      +blacklist ' "$T/d.txt" || fail "dry run: the diff lacks a blacklist line"
[ ! -e "$T$MP" ] || fail "the dry run wrote $MP"
pass "enforce --dry-run shows $MP as a diff and writes nothing"

# enforce: writes the file; what is left (loaded sctp, cmdline) keeps exit 2.
expect_exit 2 "$JEFE" --root "$T" --direct enforce --layer modules >"$T/e.txt"
[ -f "$T$MP" ] || fail "enforce did not write $MP"
[ "$(stat -c %a "$T$MP")" = 644 ] || fail "$MP mode $(stat -c %a "$T$MP")"
# kmod's modprobe reads our file: every module is blocked both ways.
for m in cramfs freevxfs hfs hfsplus jffs2 udf dccp sctp rds tipc usb_storage uas firewire_sbp2; do
	modprobe -C "$T/etc/modprobe.d" -c | grep -qx "blacklist $m" || fail "modprobe -c: no blacklist $m"
	out=$(modprobe -C "$T/etc/modprobe.d" -n -v "$m")
	[ "$out" = "install /bin/false " ] || [ "$out" = "install /bin/false" ] ||
		fail "modprobe -n -v $m: '$out' (expected the install /bin/false rule)"
done
pass "enforce writes the file; kmod's modprobe sees all 13 modules blocked (USB and FireWire storage too)"

# Tamper: someone removes a rule; status sees it, enforce restores the exact file.
cp "$T$MP" "$T/good"
sed -i '/cramfs/d' "$T$MP"
expect_exit 2 "$JEFE" --root "$T" --direct status --layer modules >"$T/t.txt"
grep -q 'modules:/etc/modprobe.d/jefe-blacklist.conf' "$T/t.txt" || fail "tamper not reported: $(cat "$T/t.txt")"
grep -q 'edited outside the agent' "$T/t.txt" || fail "tamper not explained"
expect_exit 2 "$JEFE" --root "$T" --direct enforce --layer modules >/dev/null
cmp -s "$T$MP" "$T/good" || fail "enforce did not restore the file"
pass "a removed rule is drift and enforce restores the file"

# sctp unloaded (after a reboot): only the command line is left.
printf 'nf_tables 344064 0 - Live 0x0\n' >"$T/proc/modules"
printf 'root=/dev/sda1 lockdown=integrity slab_nomerge init_on_alloc=1 page_alloc.shuffle=1\n' >"$T/proc/cmdline"
expect_exit 0 "$JEFE" --root "$T" --direct status --layer modules >/dev/null
pass "compliant once sctp is gone and the command line has every parameter"

# block_usb_storage = no and modules_disabled from a local file.
printf '[modules]\nblock_usb_storage = no\nmodules_disabled = yes\n' >"$T/etc/jefe/policy.d/90-local.conf"
mkdir -p "$T/sys/module/nf_tables"
expect_exit 0 "$JEFE" --root "$T" --direct enforce --layer modules >/dev/null
modprobe -C "$T/etc/modprobe.d" -c | grep -q 'usb_storage' && fail "usb-storage still blocked with block_usb_storage = no"
[ "$(cat "$T/proc/sys/kernel/modules_disabled")" = 1 ] || fail "modules_disabled not written"
pass "block_usb_storage = no and modules_disabled from a local policy file"

# A policy that blocks what the live image needs: refused whole, file:line, nothing changed.
cp "$T$MP" "$T/before"
printf '[modules]\nblacklist = cramfs squashfs overlay\n' >"$T/etc/jefe/policy.d/95-bad.conf"
expect_exit 1 "$JEFE" --root "$T" --direct enforce --layer modules >/dev/null 2>"$T/err"
grep -q "$T/etc/jefe/policy.d/95-bad.conf line 2: refusing to block module 'squashfs': the live image's root filesystem is a squashfs" "$T/err" ||
	fail "no file:line refusal for squashfs: $(cat "$T/err")"
grep -q "95-bad.conf line 2: refusing to block module 'overlay'" "$T/err" || fail "no refusal for overlay"
cmp -s "$T$MP" "$T/before" || fail "a refused policy changed $MP"
pass "blocking squashfs/overlay is refused with file:line; nothing changed"
