#!/bin/sh
# The CLI never says green when it does not know: a layer asked for but
# not in the policy, a missing policy, a bad name (with "did you mean"),
# all errors; --verbose, --color and NO_COLOR; enforce --dry-run shows a
# unified diff of each file it would write and counts only what would
# change; the shipped policy reports no fact from two layers.
. "$abs_top_srcdir/tests/lib/common.sh"
need_cmd python3
make_root

# No policy at all: "missing", exit 1, not "invalid policy".
expect_exit 1 "$JEFE" --root "$T" --direct status >/dev/null 2>"$T/err"
grep -qF "the policy is missing: $P/jefe.conf does not exist" "$T/err" ||
	fail "a missing policy is not called missing: $(cat "$T/err")"
grep -q "invalid policy" "$T/err" && fail "a missing policy is called invalid"
expect_exit 1 "$JEFE" --root "$T" policy show >/dev/null 2>"$T/err"
grep -qF "the policy is missing" "$T/err" || fail "policy show: $(cat "$T/err")"
pass "a missing policy is reported as missing"

mkdir -p "$P/policy.d" "$T/proc/sys/kernel"
printf '0\n' >"$T/proc/sys/kernel/kptr_restrict"
printf '1\n' >"$T/proc/sys/kernel/dmesg_restrict"
printf '[agent]\nmode = enforce\n' >"$P/jefe.conf"
cat >"$P/policy.d/10-sysctl.conf" <<'CONF'
[sysctl]
kernel.kptr_restrict = 2
kernel.dmesg_restrict = 1
CONF

# A layer asked for but not in the policy: exit 1 naming the policy files.
expect_exit 1 "$JEFE" --root "$T" status --layer audit >"$T/out" 2>"$T/err"
grep -qF "layer audit is not in the policy: no [audit] section" "$T/err" ||
	fail "status --layer audit: $(cat "$T/err")"
grep -qF "$P/jefe.conf $P/policy.d/10-sysctl.conf" "$T/err" ||
	fail "the error does not name the policy files: $(cat "$T/err")"
grep -q COMPLIANT "$T/out" && fail "a layer not in the policy printed a verdict"
expect_exit 1 "$JEFE" --root "$T" enforce --dry-run --layer sysctl --layer files >/dev/null 2>"$T/err"
grep -qF "layer files is not in the policy" "$T/err" || fail "enforce --layer files: $(cat "$T/err")"
pass "a layer not in the policy is an error naming the policy files"

# One parser of layer names: five (or all six) names never overflow, an
# empty name is refused the same way wherever it stands.
expect_exit 1 "$JEFE" --root "$T" status --layer sysctl,modules,firewall,sshd,audit,files \
	>/dev/null 2>"$T/err"
grep -qF "layers modules,firewall,sshd,audit,files are not in the policy" "$T/err" ||
	fail "six layers: $(cat "$T/err")"
grep -q "too many" "$T/err" && fail "six layers overflow"
for bad in ',sysctl' 'sysctl,' 'sysctl,,files'; do
	expect_exit 64 "$JEFE" --root "$T" status --layer "$bad" 2>"$T/err"
	grep -qF "empty layer name" "$T/err" || fail "--layer '$bad': $(cat "$T/err")"
done
expect_exit 2 "$JEFE" --root "$T" status --layer sysctl --layer sysctl,sysctl >/dev/null
pass "layer names: one parser, any number of layers, empty names refused"

# "Did you mean": commands, options, layers, subcommands.
expect_exit 64 "$JEFE" --root "$T" stauts 2>"$T/err"
grep -qF "unknown command 'stauts'; did you mean 'status'?" "$T/err" || fail "command: $(cat "$T/err")"
expect_exit 64 "$JEFE" --root "$T" status --jsno 2>"$T/err"
grep -qF "unknown option '--jsno'; did you mean '--json'?" "$T/err" || fail "option: $(cat "$T/err")"
expect_exit 2 "$JEFE_SETUP" --root "$T" --foregrund 2>"$T/err"
grep -qF "jefe-setup: unknown option '--foregrund'; did you mean '--foreground'?" "$T/err" ||
	fail "jefe-setup option: $(cat "$T/err")"
expect_exit 2 "$JEFE_SETUP" --root 2>"$T/err"
grep -qF "jefe-setup: missing value for option '--root'" "$T/err" ||
	fail "jefe-setup missing value: $(cat "$T/err")"
expect_exit 64 "$JEFE" --root "$T" status --layer sysclt 2>"$T/err"
grep -qF "unknown layer 'sysclt'; did you mean 'sysctl'?" "$T/err" || fail "layer: $(cat "$T/err")"
expect_exit 64 "$JEFE" --root "$T" status --layer zzzzzz 2>"$T/err"
grep -q "did you mean" "$T/err" && fail "a suggestion for a name like no other: $(cat "$T/err")"
expect_exit 64 "$JEFE" --root "$T" policy chekc 2>"$T/err"
grep -qF "did you mean 'check'?" "$T/err" || fail "policy subcommand: $(cat "$T/err")"
pass "did you mean: commands, options, layers, subcommands"

# Drift (kptr_restrict) and a compliant item (dmesg_restrict): --verbose lists both.
expect_exit 2 "$JEFE" --root "$T" status >"$T/out"
grep -q 'sysctl:kernel.dmesg_restrict' "$T/out" && fail "a compliant item without --verbose"
expect_exit 2 "$JEFE" --root "$T" status --verbose >"$T/out"
grep -q '^  compliant *sysctl:kernel.dmesg_restrict: 1 -> 1' "$T/out" ||
	fail "--verbose does not list the compliant item: $(cat "$T/out")"
pass "--verbose lists compliant items"

# Colour: never on a pipe by default, always when asked, NO_COLOR wins over auto.
esc=$(printf '\033')
expect_exit 2 "$JEFE" --root "$T" status >"$T/out"
grep -q "$esc" "$T/out" && fail "colour on a pipe"
expect_exit 2 "$JEFE" --root "$T" status --color=always >"$T/out"
grep -q "$esc\[31mdrift" "$T/out" || fail "--color=always: no colour"
expect_exit 2 "$JEFE" --root "$T" status --color=always --json >"$T/out"
grep -q "$esc" "$T/out" && fail "colour in --json"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" || fail "--json with --color"
# A terminal: script(1) gives the CLI one; NO_COLOR turns auto off.
if command -v script >/dev/null 2>&1; then
	script -qec "\"$JEFE\" --root \"$T\" status" /dev/null >"$T/tty" || :
	grep -q "$esc\[" "$T/tty" || fail "no colour on a terminal"
	NO_COLOR=1 script -qec "\"$JEFE\" --root \"$T\" status" /dev/null >"$T/tty" || :
	grep -q "$esc\[3" "$T/tty" && fail "NO_COLOR not honoured"
else
	fail "script(1) (bsdutils) is needed to give the CLI a terminal"
fi
expect_exit 2 "$JEFE" --root "$T" status --color=never >"$T/out"
grep -q "$esc" "$T/out" && fail "--color=never coloured"
expect_exit 64 "$JEFE" --root "$T" status --color=sometimes 2>/dev/null
pass "--color=auto|always|never and NO_COLOR"

# The dry run: a unified diff of the file it would write, only changes
# counted, and an unsupported item (no /proc/sys file) hidden unless --verbose.
# (optional: a name this kernel may lack; the fake proc/sys has none)
printf 'kernel.yama.ptrace_scope = 1\noptional = kernel.yama.ptrace_scope\n' \
	>>"$P/policy.d/10-sysctl.conf"
expect_exit 2 "$JEFE" --root "$T" --json status >"$T/st.json"
python3 - "$T/st.json" <<'PY' || fail "yama.ptrace_scope is not unsupported in the report"
import json, sys
f = {x["id"]: x for x in json.load(open(sys.argv[1]))["findings"]}
assert f["sysctl:kernel.yama.ptrace_scope"]["state"] == "unsupported", f
PY
expect_exit 2 "$JEFE" --root "$T" enforce --dry-run >"$T/dry"
grep -qxF '      --- /dev/null' "$T/dry" || fail "no diff header: $(cat "$T/dry")"
grep -qxF '      +++ /etc/sysctl.d/90-jefe.conf (as jefe would write it)' "$T/dry" || fail "no +++ line"
grep -qxF '      +kernel.kptr_restrict = 2' "$T/dry" || fail "the diff lacks the new line"
grep -q 'yama' "$T/dry" && fail "an unsupported item shown without --verbose: $(cat "$T/dry")"
grep -qxF 'dry run: 2 item(s) would change, nothing was changed' "$T/dry" ||
	fail "the dry run counts more than what would change: $(tail -n 1 "$T/dry")"
[ ! -e "$T/etc/sysctl.d/90-jefe.conf" ] || fail "the dry run wrote the file"
expect_exit 2 "$JEFE" --root "$T" enforce --dry-run --verbose >"$T/dry"
grep -q 'unsupported *sysctl:kernel.yama.ptrace_scope' "$T/dry" || fail "--verbose hides unsupported"
grep -qxF 'dry run: 2 item(s) would change, nothing was changed' "$T/dry" || fail "--verbose changed the count"
# After an enforce, a changed policy gives a diff with context and both sides.
"$JEFE" --root "$T" enforce >/dev/null || :
sed -i 's/kptr_restrict = 2/kptr_restrict = 1/' "$P/policy.d/10-sysctl.conf"
expect_exit 2 "$JEFE" --root "$T" enforce --dry-run >"$T/dry"
grep -qxF '      -kernel.kptr_restrict = 2' "$T/dry" || fail "no - line: $(cat "$T/dry")"
grep -qxF '      +kernel.kptr_restrict = 1' "$T/dry" || fail "no + line"
grep -qxF '       kernel.dmesg_restrict = 1' "$T/dry" || fail "no context line"
grep -q '^      @@ -1,[0-9]* +1,[0-9]* @@$' "$T/dry" || fail "no hunk header"
pass "enforce --dry-run: unified diffs, only changes counted, unsupported with --verbose"

# The shipped policy: a fact the sshd layer reports (mode:PATH) is not also
# a files layer perm:PATH item.
"$JEFE" policy check "$abs_top_srcdir/policies/jefe.conf" "$abs_top_srcdir"/policies/policy.d/*.conf >/dev/null ||
	fail "the shipped policy does not validate"
for p in /etc/ssh/sshd_config /etc/ssh/sshd_config.d '/etc/ssh/ssh_host_\*_key'; do
	grep -q "^$p = " "$abs_top_srcdir/policies/policy.d/60-files.conf" &&
		fail "60-files.conf checks $p, which the sshd layer already reports"
done
pass "no fact of the sshd layer is also a files layer item in the shipped policy"
