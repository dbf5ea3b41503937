#!/bin/sh
# Control characters from a policy file never reach the terminal raw: the
# CLI escapes them as the daemon's log does (a newline as \n, any other
# control character as ?), in errors and in `jefe policy show`.  A NUL
# byte is reported as one, not as a line too long.
. "$abs_top_srcdir/tests/lib/common.sh"
need_cmd od
make_root

mkdir -p "$P/policy.d"
printf '[agent]\nmode = \033]0;owned\007\033[2Jreport\n' >"$P/jefe.conf"
expect_exit 1 "$JEFE" --root "$T" --direct policy check 2>"$T/err" >/dev/null
grep -qF "invalid value '?]0;owned??[2Jreport' for mode" "$T/err" ||
	fail "the error does not show the value escaped: $(od -c "$T/err" | head -5)"
if od -An -c "$T/err" | grep -q '033\|007'; then
	fail "control characters reached the terminal: $(od -c "$T/err" | head -5)"
fi
pass "policy check: control characters escaped in errors"

printf '[agent]\nmode = report\n[sysctl]\nkernel.kptr_restrict = 2\n' >"$P/jefe.conf"
printf '[sysctl]\nnet.ipv4.ip_forward = \0331\n' >"$P/policy.d/20-x.conf"
"$JEFE" --root "$T" --direct policy show >"$T/show" 2>&1 || :
if od -An -c "$T/show" | grep -q '033'; then
	fail "policy show printed a raw escape: $(od -c "$T/show" | head -5)"
fi
pass "policy show: control characters escaped"

printf '[agent]\nmode = re\000port\n' >"$P/jefe.conf"
rm -f "$P/policy.d/20-x.conf"
expect_exit 1 "$JEFE" --root "$T" --direct policy check 2>"$T/err" >/dev/null
grep -qF "$P/jefe.conf line 2: NUL byte in the line (policy files are text)" "$T/err" ||
	fail "a NUL byte is not named: $(cat "$T/err")"
grep -q "too long" "$T/err" && fail "a NUL byte reported as a line too long"
pass "a NUL byte is named with its line"
