#!/bin/sh
# SPDX-License-Identifier: MIT
# fuzz.sh MINUTES [SANBUILDDIR] - fuzz every libFuzzer harness of tests/fuzz
# for MINUTES each (one job each, one after the other), starting from its
# committed seed corpus.  Prints, per harness: executions, executions per
# second, coverage (libFuzzer's cov: edges and ft: features) at the end,
# corpus growth and findings.  A finding is saved under
# WORK/findings/NAME/ (crash-*, leak-*, timeout-*): reproduce it with
# `tests/fuzz/fuzz_NAME FILE`, fix it, and add the file to
# tests/fuzz/corpus/NAME/ as a regression seed.
# SANBUILDDIR is a tree configured as build.sh's sanitizer tier does
# (clang, ASan+UBSan, --enable-fuzz); default: _build-san.
set -eu
minutes=${1:?usage: bench/fuzz.sh MINUTES [SANBUILDDIR]}
srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${2:-$srcdir/_build-san}
work=${FUZZ_WORKDIR:-$(mktemp -d /tmp/jefe-fuzz.XXXXXX)}
secs=$(( minutes * 60 ))
[ "$secs" -ge 1 ] || { echo "bench/fuzz.sh: MINUTES must be at least 1" >&2; exit 1; }
make -s -C "$builddir" $(cd "$builddir" && make -s -f Makefile print-fuzz-harnesses) >/dev/null

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
printf '%-15s %12s %9s %7s %7s %7s %9s\n' harness execs exec/s cov ft corpus findings
total=0
for h in policy sshd_dump sshd_conf audit_rules modules files_baseline ipc netlink; do
	bin=$builddir/tests/fuzz/fuzz_$h
	seeds=$srcdir/tests/fuzz/corpus/$h
	corpus=$work/corpus/$h
	findings=$work/findings/$h
	mkdir -p "$corpus" "$findings"
	log=$work/$h.log
	# -fork would hide nothing here: one process, stop at the first crash.
	"$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$findings/" "$corpus" "$seeds" >"$log" 2>&1 || :
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	n_corpus=$(ls "$corpus" | wc -l)
	n_find=$(ls "$findings" | wc -l)
	total=$((total + n_find))
	printf '%-15s %12s %9s %7s %7s %7s %9s\n' "$h" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
		"${ft:-?}" "$n_corpus" "$n_find"
done
echo "work directory (corpora, logs, findings): $work"
[ "$total" = 0 ] || { echo "bench/fuzz.sh: $total finding(s)" >&2; exit 1; }
