#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/daemon-burst.sh [BUILDDIR] [SAMPLES] - how much a burst of 1,000
# tampers on the sshd layer delays jefe-setup's detection of a firewall
# tamper: tests/root/daemon-burst.sh with more samples (default 20), the
# detection latency alone (the baseline, same run) and during the burst.
# Goal (issue 12): the burst adds at most 50 ms.  BURST_LAYERS=sshd (or
# files) runs that burst alone.
#
#   sudo sh bench/daemon-burst.sh [BUILDDIR] [SAMPLES]
set -eu
abs_top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
abs_top_builddir=$(cd "${1:-$abs_top_srcdir/_build}" && pwd)
export abs_top_builddir abs_top_srcdir
BURST_SAMPLES=${2:-20}
export BURST_SAMPLES
exec sh "$abs_top_srcdir/tests/root/daemon-burst.sh"
