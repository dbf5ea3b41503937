#!/bin/sh
# SPDX-License-Identifier: MIT
# policy-load.sh [BUILDDIR] - how policy loading scales with the number of
# keys: `jefe policy check` on one generated file of 1,000, 10,000 and
# 100,000 [files.perms] keys (the core parser and a layer's validation),
# best of 3 each.  The baseline, measured in the same run, is `wc -l` on
# the same file (the cost of reading it at all); linear loading keeps
# the time per key flat from 10,000 to 100,000 keys.
set -eu
builddir=${1:-${abs_top_builddir:-$(cd "$(dirname "$0")/.." && pwd)/_build}}
JEFE=$builddir/jefe
[ -x "$JEFE" ] || { echo "bench/policy-load.sh: $JEFE not built" >&2; exit 1; }
command -v python3 >/dev/null || { echo "bench/policy-load.sh: python3 needed" >&2; exit 1; }
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT

# best_ms CMD...: the fastest of three runs, in milliseconds.
best_ms() {
	best=
	for _ in 1 2 3; do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1 || { echo "bench/policy-load.sh: '$*' failed" >&2; exit 1; }
		t=$(( ($(date +%s%N) - t0) / 1000000 ))
		[ -z "$best" ] || [ "$t" -lt "$best" ] && best=$t
	done
	echo "$best"
}

printf '%8s %10s %10s %14s\n' keys jefe_ms wc_ms us_per_key
for n in 1000 10000 100000; do
	python3 -c "
import sys
print('[files.perms]')
for i in range(int(sys.argv[1])):
    print(f'/etc/bench/f{i} = 0644')
" "$n" >"$D/p.conf"
	j=$(best_ms "$JEFE" policy check "$D/p.conf")
	w=$(best_ms wc -l "$D/p.conf")
	printf '%8d %10d %10d %14s\n' "$n" "$j" "$w" \
		"$(python3 -c "print(f'{$j * 1000 / $n:.2f}')")"
done
