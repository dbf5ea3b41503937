#!/bin/sh
# The VM harness tested against itself: a passing guest script passes, and
# a failed assertion, a hang (timeout), a kernel panic and a script that
# asserts nothing each make run-vm.sh fail.  Without this a broken parser
# could turn every VM test green.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/jefe-vm-harness.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
rc=0

run() {
	mode=$1 want=$2 timeout=$3
	echo "$mode" >"$tmp/mode"
	start=$(date +%s)
	sh "$here/run-vm.sh" --no-agent --timeout "$timeout" \
		--extra-file "$tmp/mode:/test/mode" "$here/guest/harness.sh" >"$tmp/$mode.log" 2>&1
	got=$?
	echo "harness: mode=$mode exit=$got (want $want) in $(( $(date +%s) - start )) s"
	if { [ "$want" = 0 ] && [ "$got" != 0 ]; } || { [ "$want" != 0 ] && [ "$got" = 0 ]; }; then
		echo "harness: FAIL: mode=$mode"; sed 's/^/    /' "$tmp/$mode.log"; rc=1
	fi
	grep '^run-vm.sh:' "$tmp/$mode.log" | sed 's/^/    /'
}

run pass 0 300
run fail 1 300
run hang 1 25
run panic 1 300
run silent 1 300

# Each failure must be reported for the right reason.
grep -q 'FAIL: 1 failed assertion' "$tmp/fail.log" || { echo "harness: FAIL: failed assertion not named"; rc=1; }
grep -q 'FAIL: timeout' "$tmp/hang.log" || { echo "harness: FAIL: timeout not named"; rc=1; }
grep -q 'FAIL: kernel panic' "$tmp/panic.log" || { echo "harness: FAIL: panic not named"; rc=1; }
grep -q 'asserted nothing' "$tmp/silent.log" || { echo "harness: FAIL: empty test not named"; rc=1; }
boot=$(sed -n 's/.*boot to first test \([0-9.]*\) s.*/\1/p' "$tmp/pass.log")
echo "harness: boot to first test ${boot:-?} s (goal < 10 s)"
exit $rc
