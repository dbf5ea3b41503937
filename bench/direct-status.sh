#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/direct-status.sh BUILDDIR - `jefe --direct status` of the shipped
# policy against the CLI way of asking the same questions, in one run:
#
#   the CLI way   `sysctl -n` per key of [sysctl], `nft -j list ruleset`,
#                 `auditctl -l`, `sshd -T` (one shell script, hyperfine -N)
#   jefe          --direct status: all layers, then --layer sysctl,
#                 --layer sshd, --layer files, one at a time
#
# Prints the p50 (median) of each, its CPU time, and its ratio to the CLI
# way; the instruction counts of a full status and of --layer sysctl
# (callgrind: repeatable on a busy machine); how many programs an
# unchanged status ran (strace; it should be none), how many system
# calls a status and a --layer sysctl make (strace -c) and how many pages
# they fault in (wait4's rusage).  Runs as
# root in a private mount+network namespace (tests/sshd/sshd-env.sh): a
# temporary root T holds the shipped policy, Debian's stock sshd_config
# with fresh host keys bind-mounted over /etc/ssh, and a /proc/sys whose
# only writable part is the namespace's net/; sshd and the firewall are
# enforced there first, so the check finds them compliant.  The host's
# /etc, sshd, kernel.* keys and firewall are never touched.
#
#   sudo sh bench/direct-status.sh _build [BASE_BUILDDIR]     RUNS=50 (default), PRIO=rt
#
# BASE_BUILDDIR: the jefe of another build (the tree before a change) is
# measured in the same run, on the same root, and the two builds' --version,
# status and --layer sysctl are also taken in turns (RR_RUNS=100 rounds).
set -eu
abs_top_builddir=$(cd "${1:?usage: bench/direct-status.sh BUILDDIR [BASE_BUILDDIR]}" && pwd)
# Optional: another build (the tree before a change) measured in the same run.
BASE_JEFE=${2:+$(cd "$2" && pwd)/jefe}
abs_top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
export abs_top_builddir abs_top_srcdir
. "$abs_top_srcdir/tests/sshd/sshd-env.sh"
sshd_enter_ns "$@"
for tool in hyperfine nft auditctl sysctl valgrind callgrind_annotate strace; do
	command -v "$tool" >/dev/null || fail "$tool not installed"
done
RUNS=${RUNS:-50}
sshd_setup
. "$srcdir/tests/lib/netns-root.sh"
bench_cleanup() {
	rc=$?
	umount "$T/proc/sys/net" "$T/proc/sys" 2>/dev/null || :
	(exit "$rc"); sshd_cleanup
}
trap bench_cleanup EXIT
# The whole shipped policy, as installed (mode as shipped).
cp "$srcdir/policies/jefe.conf" "$T/etc/jefe/jefe.conf"
cp "$srcdir/policies/policy.d/"*.conf "$T/etc/jefe/policy.d/"
cp "$srcdir/policies/audit.rules" "$T/etc/jefe/"
J="$JEFE --root $T --direct"
$J enforce --layer sshd > /dev/null || fail "enforce --layer sshd"
$J enforce --layer firewall > /dev/null || fail "enforce --layer firewall"
$J status --layer sshd > /dev/null || fail "sshd is not compliant after enforce"
$J status --layer firewall > /dev/null || fail "the firewall is not compliant after enforce"
# The baseline of the files layer, recorded once as an admin would.
$J enforce --layer files > /dev/null 2>&1 || :
# The caches are only trusted for files that changed more than
# CACHE_SETTLE_SEC before they were filled (agent/cache.h): let the
# configuration written above settle, then fill them once.
sleep 3
$J status > /dev/null 2>&1 || :

# The CLI way: the same questions asked with each component's own tool.
keys=$(sed -n '/^\[sysctl\]/,/^\[/ s/^\([a-z][a-z0-9_.]*\) *= .*/\1/p' \
	"$T/etc/jefe/policy.d/10-sysctl.conf" | grep -v -e '^required$' -e '^kernel\.lockdown$' -e '^mode$')
{
	echo 'exec 2>/dev/null'
	for k in $keys; do echo "sysctl -n $k >/dev/null"; done
	echo 'nft -j list ruleset >/dev/null'
	echo 'auditctl -l >/dev/null'
	echo "$SSHD -T -f /etc/ssh/sshd_config >/dev/null"
	echo 'exit 0'
} > "$T/cli-way.sh"

# PRIO=rt: hyperfine and what it runs under SCHED_FIFO (chrt -f 10), so
# that other work on a shared machine does not preempt the runs.
case ${PRIO:-} in
rt) command -v chrt >/dev/null || fail "chrt not found (util-linux)"; RT="chrt -f 10" ;;
"") RT= ;;
*) fail "PRIO=$PRIO: only PRIO=rt is known" ;;
esac
$RT hyperfine -N -i -w 5 -r "$RUNS" --export-json "$T/h.json" \
	-n "CLI way" "/bin/sh $T/cli-way.sh" \
	-n "/bin/true (any process)" "/bin/true" \
	-n "jefe --version (jefe starts)" "$JEFE --version" \
	-n "jefe --direct status" "$J status" \
	-n "the CLI way's 4 layers" "$J status --layer sysctl --layer firewall --layer audit --layer sshd" \
	-n "layer sysctl" "$J status --layer sysctl" \
	-n "layer firewall" "$J status --layer firewall" \
	-n "layer sshd" "$J status --layer sshd" \
	-n "layer files" "$J status --layer files" \
	${BASE_JEFE:+-n "base: status" "$BASE_JEFE --root $T --direct status"} \
	${BASE_JEFE:+-n "base: layer sysctl" "$BASE_JEFE --root $T --direct status --layer sysctl"} \
	> /dev/null
# With a base: the same commands of both builds taken in turns (one run of
# each, RR_RUNS rounds), so a load that changes during the run weighs on
# both alike; hyperfine above measures one command after the other.
if [ -n "${BASE_JEFE:-}" ]; then
	$RT "$PYTHON" - "${RR_RUNS:-100}" \
		"/bin/true" "/bin/true" \
		"jefe --version" "$JEFE --version" "base: jefe --version" "$BASE_JEFE --version" \
		"jefe --direct status" "$J status" "base: status" "$BASE_JEFE --root $T --direct status" \
		"layer sysctl" "$J status --layer sysctl" \
		"base: layer sysctl" "$BASE_JEFE --root $T --direct status --layer sysctl" \
		> "$T/rr" <<'PY'
import os, statistics, sys, time
runs, pairs = int(sys.argv[1]), sys.argv[2:]
cmds = [(pairs[i], pairs[i + 1].split()) for i in range(0, len(pairs), 2)]
wall = {n: [] for n, _ in cmds}
cpu = {n: [] for n, _ in cmds}
null = [(os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0)]
for i in range(runs + 5):
    for name, argv in cmds:
        t = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=null)
        ru = os.wait4(pid, 0)[2]
        if i >= 5:	# warm-up rounds
            wall[name].append((time.perf_counter() - t) * 1e3)
            cpu[name].append((ru.ru_utime + ru.ru_stime) * 1e3)
print(f"round-robin, {runs} rounds:")
for name, _ in cmds:
    print(f"  {name:<24} p50 {statistics.median(wall[name]):6.2f} ms  user+sys {statistics.median(cpu[name]):5.2f} ms")
PY
fi
# Instructions (repeatable where wall time is not, on a shared machine).
for what in "" "--layer sysctl"; do
	valgrind --tool=callgrind --callgrind-out-file="$T/cg" $J status $what > /dev/null 2>&1 || :
	echo "$(callgrind_annotate "$T/cg" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')" \
		> "$T/ir${what:+.sysctl}"
done
for what in "" "--layer sysctl"; do
	[ -n "${BASE_JEFE:-}" ] || break
	valgrind --tool=callgrind --callgrind-out-file="$T/cg" $BASE_JEFE --root "$T" --direct status $what > /dev/null 2>&1 || :
	echo "$(callgrind_annotate "$T/cg" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')" \
		> "$T/ir.base${what:+.sysctl}"
done
valgrind --tool=callgrind --callgrind-out-file="$T/cg" $JEFE --version > /dev/null 2>&1 || :
callgrind_annotate "$T/cg" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }' > "$T/ir.version"
# Witness: an unchanged system runs no program.
strace -f -qq -e trace=execve -e signal=none -o "$T/exec" $J status > /dev/null 2>&1 || :
execs=$(($(grep -c execve "$T/exec") - 1))
# System calls, which the load does not change either (strace -c's total).
nsys() {
	strace -f -qq -c -o "$T/sc" "$@" > /dev/null 2>&1 || :
	awk '$NF == "total" { print $4 }' "$T/sc"
}
sys="--version $(nsys $JEFE --version), status $(nsys $J status), --layer sysctl $(nsys $J status --layer sysctl)"
if [ -n "${BASE_JEFE:-}" ]; then
	sys="$sys; base: status $(nsys $BASE_JEFE --root "$T" --direct status), --layer sysctl $(nsys $BASE_JEFE --root "$T" --direct status --layer sysctl)"
fi
# Page faults (minor, the median of 9 runs; from wait4's rusage): on a
# virtual machine each new page costs tens of microseconds, so the pages
# a run touches are, with its instructions, what its time is made of.
nflt() {
	"$PYTHON" -c '
import os, statistics, sys
runs = []
for _ in range(9):
    pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ, file_actions=[
        (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0)])
    runs.append(os.wait4(pid, 0)[2].ru_minflt)
print(int(statistics.median(runs)))' "$@"
}
flt="/bin/true $(nflt /bin/true), --version $(nflt $JEFE --version), status $(nflt $J status), --layer sysctl $(nflt $J status --layer sysctl)"
if [ -n "${BASE_JEFE:-}" ]; then
	flt="$flt; base: --version $(nflt $BASE_JEFE --version), status $(nflt $BASE_JEFE --root "$T" --direct status), --layer sysctl $(nflt $BASE_JEFE --root "$T" --direct status --layer sysctl)"
fi
echo "$flt" > "$T/flt"
"$PYTHON" - "$T/h.json" "$(echo $keys | wc -w)" "$(cat "$T/ir")" "$(cat "$T/ir.sysctl")" "$execs" "$sys" "$(cat "$T/ir.version")" \
	"$(cat "$T/ir.base" 2>/dev/null || :)" "$(cat "$T/ir.base.sysctl" 2>/dev/null || :)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
base = r[0]["median"] * 1e3
print(f"CLI way ({sys.argv[2]} x sysctl -n, nft -j list ruleset, auditctl -l, sshd -T): "
      f"p50 {base:.1f} ms, user+sys {(r[0]['user'] + r[0]['system']) * 1e3:.1f} ms")
for x in r[1:]:
    m = x["median"] * 1e3
    cpu = (x["user"] + x["system"]) * 1e3
    print(f"{x['command']:<24} p50 {m:6.2f} ms  user+sys {cpu:5.2f} ms   CLI way / jefe {base / m:5.1f}x")
print(f"instructions (callgrind): --version {int(sys.argv[7]):,}, status {int(sys.argv[3]):,}, --layer sysctl {int(sys.argv[4]):,}")
if sys.argv[8] and sys.argv[9]:
    print(f"instructions (callgrind), base: status {int(sys.argv[8]):,}, --layer sysctl {int(sys.argv[9]):,}")
print(f"programs run by an unchanged status: {sys.argv[5]}")
print(f"system calls (strace -c): {sys.argv[6]}")
print(f"page faults (minor, median of 9): {open(sys.argv[1].rsplit('/', 1)[0] + '/flt').read().strip()}")
PY
[ -z "${BASE_JEFE:-}" ] || cat "$T/rr"
