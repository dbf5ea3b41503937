#!/bin/sh
# bench/vm-boot.sh - boot to first test of the VM harness (tests/vm),
# against a baseline measured in the same run: the same initramfs booted
# the plain way (bzImage through SeaBIOS, gzip'd initramfs).
#
# Usage: bench/vm-boot.sh [RUNS]     (from a configured build tree:
#        abs_top_builddir=$PWD abs_top_srcdir=SRC sh SRC/bench/vm-boot.sh)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
runs=${1:-5}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/jefe-bench-vm.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
printf 'vm_pass "booted"\n' >"$tmp/guest.sh"

measure() {	# $1: label, rest: run-vm.sh options
	label=$1
	shift
	: >"$tmp/$label"
	i=0
	while [ "$i" -lt "$runs" ]; do
		sh "$here/../tests/vm/run-vm.sh" --no-agent "$@" "$tmp/guest.sh" >"$tmp/out" 2>&1 ||
			{ cat "$tmp/out"; exit 1; }
		sed -n 's/.*boot to first test \([0-9.]*\) s.*/\1/p' "$tmp/out" >>"$tmp/$label"
		i=$((i + 1))
	done
	sort -n "$tmp/$label" | awk -v l="$label" '{ v[NR] = $1 }
		END { printf "%-22s median %.2f s  min %.2f s  max %.2f s  (%d runs)\n",
			l, v[int((NR + 1) / 2)], v[1], v[NR], NR }'
}

echo "boot to first test, wall clock from qemu start (TCG, 1 vCPU, $(nproc) host cores)"
base=$(measure baseline --slow-boot)
fast=$(measure harness)
echo "$base"
echo "$fast"
b=$(echo "$base" | awk '{ print $3 }')
f=$(echo "$fast" | awk '{ print $3 }')
echo "ratio harness/baseline: $(echo "$f $b" | awk '{ printf "%.2f", $1 / $2 }')"
