#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/daemon-latency.sh - how fast jefe-setup sees and repairs a sysctl
# changed behind its back (inotify -> debounce -> check -> apply), against
# the cost of the change itself measured in the same run (one `sysctl -w`
# process), and the daemon's CPU time per repair.
#
#   sudo sh bench/daemon-latency.sh [BUILDDIR] [N]   (default: _build, 50)
#
# Host safety as in tests/netns/daemon-*.sh: a private network and mount
# namespace, a temporary root whose /proc/sys is read-only except net.*.
set -eu
abs_top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
abs_top_builddir=$(cd "${1:-$abs_top_srcdir/_build}" && pwd)
export abs_top_srcdir abs_top_builddir
N=${2:-50}
# daemon-env.sh re-runs "$0" in the namespaces: keep the arguments.
. "$abs_top_srcdir/tests/lib/daemon-env.sh"
env_enter_ns "$@"

env_setup_root "mode = report
check_interval = 3600" "mode = enforce
net.ipv4.tcp_syncookies = 1"
env_start_daemon
"$PYTHON" "$abs_top_srcdir/bench/daemon_latency.py" "$LOG" "$DAEMON_PID" "$N"
stop_daemon
