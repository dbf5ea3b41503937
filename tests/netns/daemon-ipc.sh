#!/bin/sh
# SPDX-License-Identifier: MIT
# daemon-ipc.sh - the daemon's socket under abuse: malformed, short,
# oversized and wrong-version requests get error replies, idle clients do
# not block it, and SO_PEERCRED authorization holds for non-root peers
# (status for the status group, enforce and reload for root only).
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/daemon-env.sh"
env_enter_ns "$@"

# 65534 is nobody/nogroup on Debian and Alpine; given as a number, it also
# tests numeric status_group.
env_setup_root "mode = report
check_interval = 120
status_group = 65534" "mode = enforce
net.ipv4.tcp_syncookies = 1
net.ipv4.conf.all.rp_filter = 1"
env_start_daemon --debug

SOCK=$T/run/jefe/jefe.sock
# The unprivileged peers must be able to read the script.
cp "$srcdir/tests/netns/daemon_ipc.py" "$T/daemon_ipc.py"
chmod 0644 "$T/daemon_ipc.py"

[ "$(stat -c '%a %g' "$SOCK")" = "660 65534" ] ||
	fail "socket mode/group is $(stat -c '%a %g' "$SOCK"), expected 660 65534"

timeout 120 "$PYTHON" "$T/daemon_ipc.py" "$SOCK" root || fail "root role"
alive "$DAEMON_PID" || fail "jefe-setup died under malformed requests"
refused=$(grep -c "request refused" "$LOG" || :)
[ "$refused" -ge 14 ] || fail "expected >= 14 'request refused' lines, got $refused"

timeout 60 setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$PYTHON" "$T/daemon_ipc.py" "$SOCK" member || fail "member role"
timeout 60 setpriv --reuid=65534 --regid=65533 --groups=65534 \
	"$PYTHON" "$T/daemon_ipc.py" "$SOCK" supplementary || fail "supplementary role"
timeout 60 setpriv --reuid=65534 --regid=65533 --clear-groups \
	"$PYTHON" "$T/daemon_ipc.py" "$SOCK" outsider || fail "outsider role"
grep -qF "request refused uid=65534 command=enforce" "$LOG" ||
	fail "the refused enforce of uid 65534 is not logged"

# The CLI as a non-root member: status through the daemon works.
n=$(log_lines)
timeout 60 setpriv --reuid=65534 --regid=65534 --clear-groups "$JEFE" status --root "$T" --layer sysctl > "$T/st.out" 2>&1 ||
	fail "jefe status as a status-group member: $(cat "$T/st.out")"
wait_log "$n" "request uid=65534 command=status" 5 || fail "member's jefe status did not reach the daemon"

# The CLI as a non-root outsider: told exactly that it is not in the
# status group, by name, and exit 1; never a report made without the policy.
group=$(getent group 65534 | cut -d: -f1)
[ -n "$group" ] || group=65534
rc=0
timeout 60 setpriv --reuid=65534 --regid=65533 --clear-groups "$JEFE" status --root "$T" \
	> "$T/out.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "outsider's jefe status exited $rc: $(cat "$T/out.out")"
grep -qF "are not in group '$group', the status_group" "$T/out.out" ||
	fail "outsider not told about the status group: $(cat "$T/out.out")"
# enforce without the privileges for it: refused before anything is tried.
rc=0
timeout 60 setpriv --reuid=65534 --regid=65534 --clear-groups "$JEFE" enforce --root "$T" \
	> "$T/en.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "non-root jefe enforce exited $rc: $(cat "$T/en.out")"
grep -qF "jefe enforce: needs root or write access to $T" "$T/en.out" ||
	fail "non-root enforce not refused up front: $(cat "$T/en.out")"
grep -q "FAILED" "$T/en.out" && fail "non-root enforce failed item by item: $(cat "$T/en.out")"
echo "ok   the CLI names the status group to an outsider; enforce refused up front"

alive "$DAEMON_PID" || fail "jefe-setup died"
stop_daemon
sed "s/^/# log: /" "$LOG" | grep -v "request uid=0 command=status" || :
echo "PASS: daemon-ipc"
