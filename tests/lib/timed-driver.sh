#!/bin/sh
# tests/lib/timed-driver.sh - automake's test driver with one line more at
# the end of every test's log, whatever the test is (a cmocka binary, a
# shell script, a VM or ISO test) and however it ends:
#   # duration: 12.34 s (tests/vm/layers.sh)
# tests/durations.sh lists a finished run's slowest tests from those lines.
# Makefile.am: LOG_DRIVER = $(SHELL) tests/lib/timed-driver.sh DRIVER, then
# automake appends the driver's own options (--log-file ... -- TEST).
# The driver's exit status is passed on unchanged.
driver=${1:?usage: timed-driver.sh DRIVER DRIVER-OPTIONS...}
shift
log= name=
prev=
for arg in "$@"; do
	case "$prev" in
	--log-file) log=$arg ;;
	--test-name) name=$arg ;;
	esac
	[ "$arg" = -- ] && break
	prev=$arg
done

# seconds since the epoch with the fraction date gives (%N is GNU and
# BusyBox; a date without it gives whole seconds)
now() {
	t=$(date +%s.%N 2>/dev/null)
	case "$t" in
	*[!0-9.]*|'') date +%s ;;
	*) echo "$t" ;;
	esac
}

start=$(now)
rc=0
"$driver" "$@" || rc=$?
end=$(now)
if [ -n "$log" ] && [ -f "$log" ]; then
	awk -v s="$start" -v e="$end" -v n="${name:-$log}" \
		'BEGIN { printf "# duration: %.2f s (%s)\n", e - s, n }' >>"$log"
fi
exit "$rc"
