#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/status.sh BUILDDIR - what a full `jefe status` of the shipped policy
# costs, through jefe-setup (answered from its live state) and directly,
# each layer and all, against the CLI way measured in the same run:
# `sysctl -n` once per key of the shipped [sysctl] section,
# `nft -j list ruleset`, `auditctl -l` and `sshd -T`, one after another.
#
#   sudo sh bench/status.sh [BUILDDIR] [RUNS] [BASE_BUILDDIR]    (default: _build, 30)
#
# BASE_BUILDDIR: the jefe of another build (the tree before a change): its
# `--direct status` and `--direct status --layer sysctl` are measured in
# the same round-robin, on the same root, and counted by callgrind too.
#
# Runs itself in a private mount + network namespace over a temporary root
# holding the whole shipped policy, sshd and the firewall enforced
# (tests/lib/shipped-env.sh).  Whole-process wall time, medians, the
# commands run round-robin (bench/interleave.py).  Then the daemon's side alone
# (bench/status_reply.py: round trips from one process, CPU per request,
# for the text view `jefe status` asks for, the JSON view and the report
# document), which no process start is part of.
set -eu
abs_top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
abs_top_builddir=$(cd "${1:-$abs_top_srcdir/_build}" && pwd)
export abs_top_builddir abs_top_srcdir
RUNS=${2:-30}
BASE_JEFE=${3:+$(cd "$3" && pwd)/jefe}
. "$abs_top_srcdir/tests/sshd/sshd-env.sh"
sshd_enter_ns "$@"
. "$srcdir/tests/lib/daemon-env.sh"
. "$srcdir/tests/lib/shipped-env.sh"
for tool in nft auditctl sysctl; do
	command -v "$tool" >/dev/null || fail "$tool not found"
done

shipped_setup

# The CLI way: the same facts with the standard tools.
keys=$(sed -n 's/^\([a-z][a-z0-9_.]*\) *= .*/\1/p' "$srcdir/policies/policy.d/10-sysctl.conf" |
	grep -v '^\(required\|optional\|mode\|persist\|persist_file\|kernel\.lockdown\)$')
nkeys=$(echo "$keys" | wc -l)
{
	echo '#!/bin/sh'
	for k in $keys; do echo "sysctl -n $k >/dev/null 2>&1"; done
	echo 'nft -j list ruleset >/dev/null'
	echo 'auditctl -l >/dev/null 2>&1'
	echo "$SSHD -T -f /etc/ssh/sshd_config >/dev/null"
	echo 'exit 0'
} > "$T/cliway.sh"
# What auditctl says here (audit netlink belongs to the initial network namespace).
note "auditctl -l in this namespace: $(auditctl -l 2>&1 | head -n 1)"

LOG=$T/daemon.log
: > "$LOG"
env_start_daemon

S="$JEFE --root $T"
# The floors, same run: /bin/true (starting any process through the same
# spawn: fork, exec, libc) and jefe --version (starting jefe alone: exec
# and the dynamic linking of its libraries), below every jefe figure.
set -- "sh $T/cliway.sh" "/bin/true" "$JEFE --version" "$S status" "$S status --json" "$S status --fresh" "$S --direct status"
for l in sysctl modules firewall sshd audit files; do
	set -- "$@" "$S status --layer $l" "$S --direct status --layer $l"
done
if [ -n "$BASE_JEFE" ]; then
	[ -x "$BASE_JEFE" ] || fail "$BASE_JEFE not built"
	set -- "$@" "$BASE_JEFE --root $T --direct status" "$BASE_JEFE --root $T --direct status --layer sysctl"
fi
# Round-robin (bench/interleave.py): the load of a shared machine weighs on
# every command alike.  jefe exits 2 on drift (kernel.* keys out of reach).
"$PYTHON" "$srcdir/bench/interleave.py" "$RUNS" 3 "$@" > "$T/h.json" || fail "interleave.py failed"
alive "$DAEMON_PID" || fail "jefe-setup died during the runs"
"$PYTHON" - "$T/h.json" "$nkeys" "$RUNS" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
med = {r["command"]: r["median"] * 1e3 for r in res}
cmds = [r["command"] for r in res]
base = med[cmds[0]]
print(f"CLI way ({sys.argv[2]} x sysctl -n, nft -j list ruleset, auditctl -l, sshd -T): "
      f"p50 {base:.2f} ms   ({sys.argv[3]} runs each, whole-process medians)")
p90 = {r["command"]: r["p90"] * 1e3 for r in res}
floor = med[cmds[2]]
true = med["/bin/true"]
print(f"{'command':<58} {'p50 ms':>8} {'p90 ms':>8} {'vs CLI way':>11} {'over --version':>15} {'/ true':>7}")
for c in cmds[1:]:
    if c == "/bin/true":
        name = "/bin/true (starting any process)"
    elif " --root " in c and not c.startswith(cmds[2].split()[0]):
        name = "base: jefe " + c.split(" --root ")[1].split(" ", 1)[1]
    elif " --root " in c:
        name = "jefe " + c.split(" --root ")[1].split(" ", 1)[1]
    else:
        name = "jefe --version (starting jefe alone)"
    print(f"{name:<58} {med[c]:8.2f} {p90[c]:8.2f} {base / med[c]:10.1f}x {med[c] - floor:14.2f} {med[c] / true:6.2f}x")
PY
"$PYTHON" "$srcdir/bench/status_reply.py" "$T/run/jefe/jefe.sock" "$DAEMON_PID" 500
# Instructions, which the load does not change: the process start alone,
# and a full status through the daemon (the client's side only).
if command -v valgrind >/dev/null; then
	ir() {
		valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
			sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
	}
	v=$(ir "$JEFE" --version)
	st=$(ir "$JEFE" --root "$T" status)
	sj=$(ir "$JEFE" --root "$T" status --json)
	echo "instructions (callgrind): jefe --version $v, jefe status through the daemon $st, jefe status --json $sj"
	d=$(ir "$JEFE" --root "$T" --direct status)
	ds=$(ir "$JEFE" --root "$T" --direct status --layer sysctl)
	echo "instructions (callgrind): jefe --direct status $d, --direct status --layer sysctl $ds"
	if [ -n "$BASE_JEFE" ]; then
		d=$(ir "$BASE_JEFE" --root "$T" --direct status)
		ds=$(ir "$BASE_JEFE" --root "$T" --direct status --layer sysctl)
		echo "instructions (callgrind), base: jefe --direct status $d, --direct status --layer sysctl $ds"
	fi
fi
stop_daemon
