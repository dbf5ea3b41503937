#!/bin/sh
# jefe status/enforce/policy against a temporary root: exit codes, --json
# parsed by a real JSON parser, and --dry-run changing nothing on disk.
. "$abs_top_srcdir/tests/lib/common.sh"
need_cmd python3
make_root

mkdir -p "$P/policy.d" "$T/proc/sys/kernel" "$T/proc/sys/net/ipv4"
printf '0\n' >"$T/proc/sys/kernel/kptr_restrict"
printf '1\n' >"$T/proc/sys/kernel/dmesg_restrict"
printf '1\n' >"$T/proc/sys/net/ipv4/tcp_syncookies"
cat >"$P/jefe.conf" <<'CONF'
[agent]
mode = enforce
CONF
cat >"$P/policy.d/10-sysctl.conf" <<'CONF'
[sysctl]
kernel.kptr_restrict = 2
kernel.dmesg_restrict = 1
net.ipv4.tcp_syncookies = 1
CONF

# Drift: exit 2, and the drifted item is named with both values.
expect_exit 2 "$JEFE" --root "$T" status >"$T/out"
grep -q 'sysctl:kernel.kptr_restrict: 0 -> 2' "$T/out" || fail "status text lacks the drift line"
pass "status reports drift with exit 2"

# --json parses, and says the same as the text.
expect_exit 2 "$JEFE" --root "$T" status --json >"$T/out.json"
python3 - "$T/out.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["version"] == 2 and doc["compliant"] is False, doc
items = {f["id"]: f for f in doc["findings"]}
k = items["sysctl:kernel.kptr_restrict"]
assert (k["state"], k["expected"], k["actual"]) == ("drift", "2", "0"), k
assert k["refs"] == [{"benchmark": "KSPP", "version": None, "id": "kernel.kptr_restrict"}], k
s = items["sysctl:net.ipv4.tcp_syncookies"]
assert s["refs"] == [{"benchmark": "CIS Debian Linux 12", "version": "1.0.1", "id": "3.3.10"}], s
assert items["sysctl:kernel.dmesg_restrict"]["state"] == "compliant"
layer = doc["layers"][0]
assert layer["name"] == "sysctl" and layer["state"] == "drift" and layer["drift"] == 2, layer
PY
pass "status --json is valid JSON with the same facts"

# --dry-run: shows the change, exit 2 (changes pending), touches nothing.
before=$(cd "$T" && find . -type f | sort | xargs md5sum)
expect_exit 2 "$JEFE" --root "$T" enforce --dry-run >"$T/../dry.$$" 
after=$(cd "$T" && find . -type f | sort | xargs md5sum)
[ "$before" = "$after" ] || fail "--dry-run changed files"
grep -q 'would fix *sysctl:kernel.kptr_restrict: 0 -> 2' "$T/../dry.$$" || fail "dry run lacks the change"
grep -q 'nothing was changed' "$T/../dry.$$" || fail "dry run lacks its summary"
rm -f "$T/../dry.$$"
pass "enforce --dry-run shows the diff and changes nothing"

# enforce: repairs, persists, exit 0; then status is compliant.
expect_exit 0 "$JEFE" --root "$T" enforce >/dev/null
[ "$(cat "$T/proc/sys/kernel/kptr_restrict")" = 2 ] || fail "enforce did not write kptr_restrict"
grep -qx 'kernel.kptr_restrict = 2' "$T/etc/sysctl.d/90-jefe.conf" || fail "not persisted"
expect_exit 0 "$JEFE" --root "$T" status >/dev/null
pass "enforce repairs and persists; status then exits 0"

# --layer with an unknown name, unknown command, no command: usage errors.
expect_exit 64 "$JEFE" --root "$T" status --layer nosuch 2>/dev/null
expect_exit 64 "$JEFE" --root "$T" frobnicate 2>/dev/null
expect_exit 64 "$JEFE" 2>/dev/null
expect_exit 64 "$JEFE" --root "$T" status --dry-run 2>/dev/null
pass "usage errors exit 64"

# An invalid policy: error exit 1, every problem named with file and line, nothing changed.
printf '0\n' >"$T/proc/sys/kernel/kptr_restrict"
cat >"$P/policy.d/20-bad.conf" <<'CONF'
[sysctl]
kernel.lockdown = maximum
[nosuch]
CONF
expect_exit 1 "$JEFE" --root "$T" enforce 2>"$T/err" >/dev/null
grep -q "$P/policy.d/20-bad.conf line 2: invalid value 'maximum' for kernel.lockdown" "$T/err" ||
	fail "no file:line error for the bad value: $(cat "$T/err")"
grep -q "$P/policy.d/20-bad.conf line 3: unknown section \[nosuch\]" "$T/err" ||
	fail "no file:line error for the bad section"
[ "$(cat "$T/proc/sys/kernel/kptr_restrict")" = 0 ] || fail "a refused policy changed the system"
pass "an invalid policy is refused whole with file:line errors"

# policy check on explicit files, and policy show of the merged policy.
expect_exit 1 "$JEFE" policy check "$P/policy.d/20-bad.conf" 2>/dev/null
rm "$P/policy.d/20-bad.conf"
expect_exit 0 "$JEFE" --root "$T" policy check >/dev/null
"$JEFE" --root "$T" policy show >"$T/show"
grep -q '^kernel.kptr_restrict = 2' "$T/show" || fail "policy show lacks a key"
grep -q '^check_interval = 300	# default' "$T/show" || fail "policy show lacks defaults"
expect_exit 0 "$JEFE" policy check "$abs_top_srcdir/policies/jefe.conf" \
	"$abs_top_srcdir"/policies/policy.d/*.conf >/dev/null
pass "policy check/show; the shipped policy validates"

"$JEFE" --version | grep -q '^jefe [0-9]' || fail "--version"
"$JEFE" --help | grep -q 'Exit status' || fail "--help"
pass "--version and --help"
