#!/bin/sh
# SPDX-License-Identifier: MIT
# firewall-nocap.sh - `jefe status` without CAP_NET_ADMIN (root with the
# capability dropped, and uid 65534): the firewall layer reports one clear
# error naming the missing capability, and the other layers still report.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/daemon-env.sh"
. "$srcdir/tests/netns/firewall-lib.sh"
env_enter_ns "$@"
fw_need setpriv
ip link set lo up
env_setup_root "mode = report" "net.ipv4.tcp_syncookies = 1"
cp "$srcdir/policies/policy.d/30-firewall.conf" "$T/etc/jefe/policy.d/"
[ ! -f "$srcdir/policies/audit.rules" ] || cp "$srcdir/policies/audit.rules" "$T/etc/jefe/"
chmod -R a+rX "$T/etc"
"$JEFE" --root "$T" --direct enforce --layer firewall >/dev/null || fail "enforce as root failed"

# check_json FILE WHO: firewall is one error about CAP_NET_ADMIN, sysctl reported.
check_json() {
	"$PYTHON" - "$1" "$2" <<'PY' || fail "$2: status JSON is not what it should be: $(cat "$1")"
import json, sys
doc = json.load(open(sys.argv[1]))
fw = [f for f in doc["findings"] if f["layer"] == "firewall"]
assert len(fw) == 1, ("firewall findings", fw)
assert fw[0]["state"] == "error", fw[0]
assert "CAP_NET_ADMIN" in (fw[0].get("note") or ""), fw[0]
others = [f for f in doc["findings"] if f["layer"] == "sysctl"]
assert others, "no sysctl findings: the other layers must still report"
assert any(f["state"] != "error" for f in others), others
print("# %s: firewall: %s; sysctl: %d findings" % (sys.argv[2], fw[0]["note"], len(others)))
PY
}

rc=0
setpriv --inh-caps=-net_admin --bounding-set=-net_admin -- \
	"$JEFE" --root "$T" --direct status --json > "$T/nocap.json" 2>"$T/nocap.err" || rc=$?
[ "$rc" = 1 ] || fail "status without CAP_NET_ADMIN exited $rc, expected 1 (error): $(cat "$T/nocap.err")"
check_json "$T/nocap.json" "root without CAP_NET_ADMIN"

rc=0
setpriv --inh-caps=-net_admin --bounding-set=-net_admin -- \
	"$JEFE" --root "$T" --direct status --layer firewall > "$T/nocap.txt" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "text status exited $rc"
grep -q "CAP_NET_ADMIN" "$T/nocap.txt" || fail "the text report does not say why: $(cat "$T/nocap.txt")"

rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups -- \
	"$JEFE" --root "$T" --direct status --json > "$T/nobody.json" 2>"$T/nobody.err" || rc=$?
[ "$rc" = 1 ] || fail "status as uid 65534 exited $rc, expected 1: $(cat "$T/nobody.err")"
check_json "$T/nobody.json" "uid 65534"

# and root with the capability is fine: the error above is the capability's
"$JEFE" --root "$T" --direct status --layer firewall >/dev/null || fail "status as root is not compliant"
echo "PASS: firewall-nocap"
