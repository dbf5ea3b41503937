#!/bin/sh
# SPDX-License-Identifier: MIT
# daemon-notify.sh - jefe-setup's systemd readiness (Type=notify): the
# datagram READY=1 to $NOTIFY_SOCKET once the policy is applied and
# watched, STOPPING=1 on SIGTERM; a path socket and an abstract one
# ('@' name, private to this network namespace).  The listener is a
# plain python3 datagram socket, not the agent's own code.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/daemon-env.sh"
env_enter_ns "$@"

env_setup_root "mode = report" "net.ipv4.tcp_syncookies = 1"

# notify_listen ADDRESS OUT: receive datagrams, one line each, into OUT.
notify_listen() {
	"$PYTHON" - "$1" "$2" <<'PY' >/dev/null 2>&1 &
import socket, sys
addr, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
open(out + ".bound", "w").close()
with open(out, "a") as f:
    while True:
        f.write(s.recv(4096).decode() + "\n")
        f.flush()
PY
	NOTIFY_PID=$!
	# env_cleanup reads the exit status from $?: hand it on, errexit off.
	trap 'rc=$?; set +e; kill "$NOTIFY_PID" 2>/dev/null; (exit $rc); env_cleanup' EXIT
	i=0
	while [ ! -e "$2.bound" ]; do
		i=$((i + 1)); [ $i -le 500 ] || fail "notify listener on $1 did not start"
		sleep 0.01
	done
}

# wait_file FILE LINE SECONDS
wait_file() {
	deadline=$(( $(now_ms) + $3 * 1000 ))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		grep -qx -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.01
	done
	return 1
}

for addr in "$T/notify.sock" "@jefe-notify-test-$$"; do
	out=$T/notify.$(echo "$addr" | tr -c 'a-z0-9\n' _).txt
	notify_listen "$addr" "$out"
	# env_start_daemon returns once the OpenRC fd said ready: by then
	# the datagram, sent just before, is queued for the listener.
	export NOTIFY_SOCKET="$addr"
	env_start_daemon
	unset NOTIFY_SOCKET
	wait_file "$out" "READY=1" 5 || fail "no READY=1 on $addr (got: $(cat "$out"))"
	[ "$(head -n 1 "$out")" = "READY=1" ] || fail "first datagram on $addr: $(head -n 1 "$out")"
	note "READY=1 on $addr"
	stop_daemon
	wait_file "$out" "STOPPING=1" 5 || fail "no STOPPING=1 on $addr after SIGTERM"
	[ "$(wc -l < "$out")" = 2 ] || fail "datagrams on $addr: $(cat "$out")"
	note "STOPPING=1 on $addr after SIGTERM"
	kill "$NOTIFY_PID"
	wait "$NOTIFY_PID" 2>/dev/null || :
done

# A NOTIFY_SOCKET that is neither a path nor '@name' is refused as such,
# not sent anywhere: readiness is still given on the OpenRC fd and the
# daemon logs why systemd heard nothing.
export NOTIFY_SOCKET=relative.sock
env_start_daemon
unset NOTIFY_SOCKET
wait_log 0 "ready error socket=relative.sock" 5 || fail "no 'ready error' line for a relative NOTIFY_SOCKET"
stop_daemon
echo "PASS: daemon-notify"
