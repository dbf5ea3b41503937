#!/bin/sh
# SPDX-License-Identifier: MIT
# daemon-view.sh - what `jefe` prints through jefe-setup is what it prints
# directly.  The daemon prints the view the CLI asks for (protocol 3:
# text or --json, --verbose, --color) with the same printer as --direct,
# and its reply header carries the exit code.  In a private network
# namespace over a temporary root, with drift the daemon only reports:
# `status` (plain, -v, --color=always, --layer, --fresh) and `enforce
# --dry-run` (plain, -v) give byte-identical stdout and the same exit
# code both ways; `--json` too, but for each layer's checked_at and
# verified_by and the document's time.  Then a fake daemon: an older
# one (protocol 2) and malformed replies (bad magic, an exit code no
# view has, a NUL byte, no final newline, a payload message longer than
# announced) give exit 1 and an error naming the field, never a report.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/daemon-env.sh"
env_enter_ns "$@"

env_setup_root "mode = report
check_interval = 120" "net.ipv4.tcp_syncookies = 1
net.ipv4.conf.all.rp_filter = 1
net.ipv4.conf.default.rp_filter = 1
net.ipv4.icmp_echo_ignore_broadcasts = 1"
sysctl -qw net.ipv4.tcp_syncookies=0 net.ipv4.conf.all.rp_filter=0

VIEWS="status|status -v|status --color=always|status -v --color=always|status --layer sysctl|enforce --dry-run|enforce --dry-run -v|enforce --dry-run --color=always|status --json|status --layer sysctl --json|enforce --dry-run --json"

# run NAME ARGS...: stdout to $T/NAME.out, the exit code to $T/NAME.rc.
run() {
	name=$1
	shift
	rc=0
	"$JEFE" --root "$T" "$@" > "$T/$name.out" 2> "$T/$name.err" || rc=$?
	echo "$rc" > "$T/$name.rc"
}
# The times and causes of a report's checks differ between the two ways.
untimed() {
	sed -E 's/"(time|checked_at)":"[^"]*"/"\1":"-"/; s/"verified_by":"[a-z]*"/"verified_by":"-"/' "$1"
}

i=0
IFS='|'
for v in $VIEWS; do
	i=$((i + 1))
	IFS=' '
	# shellcheck disable=SC2086
	run "direct-$i" --direct $v
	IFS='|'
done
IFS=' '

env_start_daemon --debug
n=$(log_lines)
i=0
IFS='|'
for v in $VIEWS; do
	i=$((i + 1))
	IFS=' '
	# shellcheck disable=SC2086
	run "daemon-$i" $v
	[ "$(cat "$T/daemon-$i.rc")" = "$(cat "$T/direct-$i.rc")" ] ||
		fail "jefe $v: exit $(cat "$T/daemon-$i.rc") through the daemon, $(cat "$T/direct-$i.rc") directly: $(cat "$T/daemon-$i.err")"
	case $v in
	*--json*)
		untimed "$T/daemon-$i.out" > "$T/daemon-$i.cmp"
		untimed "$T/direct-$i.out" > "$T/direct-$i.cmp"
		"$PYTHON" -c 'import json, sys; json.load(open(sys.argv[1]))' "$T/daemon-$i.out" ||
			fail "jefe $v through the daemon is not JSON"
		grep -q '"verified_by":"start"' "$T/daemon-$i.out" || [ "${v#enforce}" != "$v" ] ||
			fail "jefe $v through the daemon: no layer verified_by start"
		;;
	*)
		cp "$T/daemon-$i.out" "$T/daemon-$i.cmp"
		cp "$T/direct-$i.out" "$T/direct-$i.cmp"
		;;
	esac
	cmp -s "$T/daemon-$i.cmp" "$T/direct-$i.cmp" ||
		fail "jefe $v: the daemon's output differs from --direct's: $(diff "$T/direct-$i.cmp" "$T/daemon-$i.cmp" | head -20)"
	[ -s "$T/daemon-$i.out" ] || fail "jefe $v: empty output"
	echo "ok   jefe $v: byte-identical through the daemon, exit $(cat "$T/daemon-$i.rc")"
	IFS='|'
done
IFS=' '
[ "$(cat "$T/daemon-1.rc")" = 2 ] || fail "the drift was not exit 2"
grep -q "drift .*net.ipv4.tcp_syncookies: 0 -> 1" "$T/daemon-1.out" || fail "no drift line: $(cat "$T/daemon-1.out")"
grep -q "$(printf '\033')\[" "$T/daemon-3.out" || fail "--color=always through the daemon has no colour"
requests=$(tail -n +"$((n + 1))" "$LOG" | grep -c "request uid=0 command=" || :)
[ "$requests" = 11 ] || fail "expected 11 requests through the daemon, the log has $requests"
# --fresh: a pass now, the same view.
run fresh status --fresh
cmp -s "$T/fresh.out" "$T/direct-1.out" || fail "status --fresh differs from --direct: $(diff "$T/direct-1.out" "$T/fresh.out")"
wait_log "$n" "checked layer=sysctl by=request" 5 || fail "status --fresh did not re-check"
echo "ok   jefe status --fresh: byte-identical, re-checked"
stop_daemon

# A fake jefe-setup: an older one and malformed replies.
SOCK=$T/run/jefe/jefe.sock
mkdir -p "$T/run/jefe"
fake() {
	mode=$1
	want=$2
	rm -f "$T/fake.ready"
	"$PYTHON" "$srcdir/tests/netns/fake_daemon.py" "$SOCK" "$mode" > "$T/fake.ready" 2>&1 &
	FAKE_PID=$!
	j=0
	until grep -q ready "$T/fake.ready" 2>/dev/null; do
		j=$((j + 1)); [ $j -le 500 ] || fail "fake daemon ($mode) did not start"
		sleep 0.01
	done
	rc=0
	timeout 30 "$JEFE" --root "$T" status > "$T/fake.out" 2> "$T/fake.err" || rc=$?
	wait "$FAKE_PID" || fail "fake daemon ($mode) failed: $(cat "$T/fake.ready")"
	[ "$rc" = 1 ] || fail "$mode: exit $rc, expected 1: $(cat "$T/fake.err")"
	[ ! -s "$T/fake.out" ] || fail "$mode: printed a report: $(cat "$T/fake.out")"
	grep -qF "$want" "$T/fake.err" || fail "$mode: no '$want' in: $(cat "$T/fake.err")"
	echo "ok   $mode: exit 1, $(cat "$T/fake.err")"
}
fake old "speaks protocol version 2, this jefe 3: restart jefe-setup"
fake magic "malformed reply from the daemon at $SOCK: magic 0x4a454646, expected 0x4a454645"
fake exit "malformed reply from the daemon at $SOCK: exit code 5, expected 0, 1 or 2"
fake nul "malformed reply from the daemon at $SOCK: payload: a NUL byte at offset 5 of 13"
fake newline "malformed reply from the daemon at $SOCK: payload: 16 bytes not ending in a newline"
fake long "malformed reply from the daemon at $SOCK: payload message longer than the 4 bytes left of length 4"
echo "PASS: daemon-view"
