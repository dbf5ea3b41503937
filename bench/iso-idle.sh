#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/iso-idle.sh [BUILDDIR] [SECONDS] - jefe-setup's CPU while the booted
# ISO (tests/iso's shared build, BIOS, qemu -accel tcg) idles: the daemon's
# utime+stime from /proc/PID/stat over SECONDS (default 60) once `jefe
# status` is compliant, as a share of one vCPU, beside the whole guest's
# busy share (/proc/stat) over the same window as the baseline.  Goal
# (issue 12): the daemon <= 0.1 % idle.
#
#   sudo sh bench/iso-idle.sh [BUILDDIR] [SECONDS]
set -eu
abs_top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
abs_top_builddir=$(cd "${1:-$abs_top_srcdir/_build}" && pwd)
export abs_top_builddir abs_top_srcdir
SECS=${2:-60}
: "${ISO_BOOT_TIMEOUT:=1800}"
. "$abs_top_srcdir/tests/iso/lib.sh"

iso_build >"$ISO_STATE/bench-idle.build.log" 2>&1 ||
	{ tail -n 40 "$ISO_STATE/bench-idle.build.log" >&2; fail "ISO build failed"; }
iso_boot bios bench-idle
wait_ssh "$ISO_BOOT_TIMEOUT"
check_compliant
# Both samples in one guest shell: ticks of the daemon and of the whole
# machine, SECS apart (USER_HZ ticks; the guest's own clock).
vm_ssh "doas sh -s $SECS" <<'GUEST' >"$ISO_STATE/bench-idle.out" || fail "sampling in the guest failed"
set -e
pid=$(pidof jefe-setup)
secs=$1
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
d() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
m() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat; }
d0=$(d); set -- $(m); b0=$1 i0=$2
u0=$(cut -d' ' -f1 /proc/uptime)
sleep "$secs"
d1=$(d); set -- $(m); b1=$1 i1=$2
u1=$(cut -d' ' -f1 /proc/uptime)
awk -v d="$((d1 - d0))" -v b="$((b1 - b0))" -v i="$((i1 - i0))" -v hz="$hz" -v u0="$u0" -v u1="$u1" 'BEGIN {
	t = u1 - u0
	printf "window %.1f s (guest clock)\n", t
	printf "jefe-setup %.2f %% of one vCPU (%d ticks)\n", 100 * d / hz / t, d
	printf "guest busy %.2f %% of all vCPUs (baseline: everything else idling)\n", 100 * b / (b + i)
}'
GUEST
cat "$ISO_STATE/bench-idle.out"
iso_cleanup
