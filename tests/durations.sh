#!/bin/sh
# tests/durations.sh [BUILDDIR [N]] - the N slowest tests (default 15) of
# the last `make check` in BUILDDIR (default .), from the "# duration:"
# line tests/lib/timed-driver.sh appends to every test's .log, then the
# sum over every test that has one.  `make check-durations` runs it on the
# build tree.  The figures are wall-clock seconds: on a loaded machine they
# move, so compare one test run back to back, not across days.
set -eu
dir=${1:-.}
n=${2:-15}
[ -d "$dir" ] || { echo "durations.sh: no directory $dir" >&2; exit 1; }
# the ISO/VM tiers' state and cache trees hold images, not test logs
list=$(find "$dir" \( -name state -o -name cache \) -prune -o \
	-name '*.log' ! -name test-suite.log ! -name config.log -exec grep -H '^# duration: ' {} + 2>/dev/null |
	sed -n 's/^.*\.log:# duration: \([0-9.]*\) s (\(.*\))$/\1 \2/p' | sort -rn) || true
[ -n "$list" ] || {
	echo "durations.sh: no test log with a '# duration:' line under $dir (run make check first)" >&2
	exit 1
}
echo "$list" | awk -v n="$n" '
	{ sum += $1; if (NR <= n) printf "%9.2f s  %s\n", $1, $2 }
	END { printf "%9.2f s  total of %d tests (%.1f min)\n", sum, NR, sum / 60 }'
