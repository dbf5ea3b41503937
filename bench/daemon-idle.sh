#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/daemon-idle.sh BUILDDIR [SECONDS] - what jefe-setup costs while
# nothing happens: resident memory and CPU over SECONDS (default 60) of
# idling with the whole shipped policy loaded and watched (sshd and the
# firewall enforced, tests/lib/shipped-env.sh), after one full status request.
# Baseline in the same run: a `sleep` process (the smallest resident
# process there is: libc and a stack).  Goals (issue 12): RSS <= 4 MB,
# CPU <= 0.1 %.
#
#   sudo sh bench/daemon-idle.sh [BUILDDIR] [SECONDS]
set -eu
abs_top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
abs_top_builddir=$(cd "${1:-$abs_top_srcdir/_build}" && pwd)
export abs_top_builddir abs_top_srcdir
SECS=${2:-60}
. "$abs_top_srcdir/tests/sshd/sshd-env.sh"
sshd_enter_ns "$@"
. "$srcdir/tests/lib/daemon-env.sh"
. "$srcdir/tests/lib/shipped-env.sh"
shipped_setup

LOG=$T/daemon.log
: > "$LOG"
env_start_daemon
# Exit 1 or 2: this namespace cannot hold every kernel.* key or mount option.
"$JEFE" --root "$T" status > "$T/status.txt" 2>&1 || :
grep -q "COMPLIANT: [0-9]* compliant" "$T/status.txt" ||
	fail "jefe status through the daemon gave no report: $(cat "$T/status.txt")"
sleep 2
sleep "$((SECS * 3 + 30))" &
SLEEP_PID=$!

# kib PID FIELD: a field of /proc/PID/status in kB.
kib() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }
ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
hz=$(getconf CLK_TCK)
sleep 0.2
srss=$(kib "$SLEEP_PID" VmRSS)
c0=$(ticks "$DAEMON_PID")
t0=$(now_ms)
max=0
i=0
while [ $i -lt "$SECS" ]; do
	sleep 1
	r=$(kib "$DAEMON_PID" VmRSS)
	[ "$r" -gt "$max" ] && max=$r
	i=$((i + 1))
done
c1=$(ticks "$DAEMON_PID")
t1=$(now_ms)
alive "$DAEMON_PID" || fail "jefe-setup died while idle"
anon=$(kib "$DAEMON_PID" RssAnon)
file=$(kib "$DAEMON_PID" RssFile)
hwm=$(kib "$DAEMON_PID" VmHWM)
kill "$SLEEP_PID" 2>/dev/null || :
awk -v c="$((c1 - c0))" -v hz="$hz" -v ms="$((t1 - t0))" -v max="$max" -v anon="$anon" \
    -v file="$file" -v hwm="$hwm" -v srss="$srss" -v secs="$SECS" 'BEGIN {
	cpu = c / hz * 1000 / ms * 100
	printf "idle %d s: RSS max %.2f MB (anon %.2f MB, file-backed %.2f MB; peak since start %.2f MB)\n",
		secs, max / 1024, anon / 1024, file / 1024, hwm / 1024
	printf "baseline, same run: sleep(1) RSS %.2f MB; jefe-setup / sleep = %.1fx\n", srss / 1024, max / srss
	printf "CPU: %d ticks in %.1f s = %.3f %% (goal <= 0.1 %%); RSS goal <= 4 MB: %s\n",
		c, ms / 1000, cpu, max <= 4096 ? "met" : "NOT met"
}'
stop_daemon
