#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/iso-cache.sh - the ISO build cache's figures, on the ISO tests'
# shared build (tests/iso/lib.sh's iso_build: the same options, key and
# cache as tests/iso/cache.sh, which asserts the cache's correctness):
# a no-change rebuild (every stage cached), RUNS times, against a rebuild
# of stage 5 alone (--from-stage 5) measured in the same run, and the
# ISO's size.  The goals: a no-change rebuild < 10 s, the ISO < 100 MB.
#
# Usage (root; a configured build tree, as the ISO tests use):
#   abs_top_builddir=$PWD/_build abs_top_srcdir=$PWD sh bench/iso-cache.sh [RUNS]
# RUNS no-change rebuilds (default 5; the median shown).  The first
# iso_build makes the image when the tests have not (a cold build).
set -eu
: "${abs_top_builddir:?set abs_top_builddir (the build tree)}"
: "${abs_top_srcdir:?set abs_top_srcdir (the source tree)}"
runs=${1:-5}
. "$abs_top_srcdir/tests/iso/lib.sh"
need bc
log=$ISO_STATE/bench-iso-cache.log

now() { date +%s.%N; }

echo "# $(date -u +%FT%TZ), $(nproc) host cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
iso_build >"$log" 2>&1 || { tail -n 30 "$log" >&2; fail "the ISO build failed"; }

# the baseline: stage 5 (squashfs, initramfs, GRUB, xorriso) rebuilt
t0=$(now)
iso_build --from-stage 5 >"$log" 2>&1 || { tail -n 30 "$log" >&2; fail "--from-stage 5 failed"; }
stage5=$(echo "$(now) - $t0" | bc)
mb=$(sed -n 's/^Total: .*(\([0-9]*\) MB)$/\1/p' "$log")
[ -n "$mb" ] || fail "no 'Total: ... (N MB)' line in $log"

i=1
: >"$ISO_STATE/bench-iso-cache.times"
while [ "$i" -le "$runs" ]; do
	t0=$(now)
	iso_build >"$log" 2>&1 || { tail -n 30 "$log" >&2; fail "no-change rebuild $i failed"; }
	t=$(echo "$(now) - $t0" | bc)
	hits=$(grep -c '^\[Stage [1-5]/5\] [A-Za-z ]*\.\.\. cached$' "$log" || true)
	echo "# run $i: ${t} s, $hits of 5 stages cached"
	echo "$t" >>"$ISO_STATE/bench-iso-cache.times"
	i=$((i + 1))
done
median=$(sort -n "$ISO_STATE/bench-iso-cache.times" | awk '{ v[NR] = $1 }
	END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')

echo
echo "== ISO build cache ($(uname -m), $(nproc) cores)"
printf 'stage 5 rebuilt (--from-stage 5)  %.1f s  (the baseline)\n' "$stage5"
printf 'no-change rebuild, median of %d   %.2f s  (%.3f x the stage 5 rebuild; goal < 10 s: %.2f x)\n' \
	"$runs" "$median" "$(echo "$median / $stage5" | bc -l)" "$(echo "$median / 10" | bc -l)"
printf 'ISO size                          %s MB  (goal < 100 MB: %.2f x)\n' \
	"$mb" "$(echo "$mb / 100" | bc -l)"
