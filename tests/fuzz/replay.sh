#!/bin/sh
# Replay every harness over its committed seed corpus (tests/fuzz/corpus/
# NAME/): each input runs once under ASan and UBSan, so a crash the fuzzer
# once found, kept there as a regression seed, can never come back.
. "$abs_top_srcdir/tests/lib/common.sh"

n=0
for h in policy sshd_dump sshd_conf audit_rules modules files_baseline ipc netlink; do
	bin=$abs_top_builddir/tests/fuzz/fuzz_$h
	dir=$abs_top_srcdir/tests/fuzz/corpus/$h
	[ -x "$bin" ] || fail "$bin not built (configure --enable-fuzz with clang)"
	[ -d "$dir" ] || fail "no seed corpus $dir"
	set -- "$dir"/*
	[ -f "$1" ] || fail "empty seed corpus $dir"
	"$bin" -runs=1 "$@" >"$abs_top_builddir/tests/fuzz/replay-$h.out" 2>&1 || {
		tail -n 40 "$abs_top_builddir/tests/fuzz/replay-$h.out" >&2
		fail "fuzz_$h crashed on its corpus"
	}
	n=$((n + $#))
	pass "fuzz_$h: $# seed(s) replayed"
done
pass "$n seeds replayed, no crash"
