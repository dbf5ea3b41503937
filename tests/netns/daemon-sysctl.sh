#!/bin/sh
# SPDX-License-Identifier: MIT
# daemon-sysctl.sh - jefe-setup end to end on the real kernel, in a private
# network namespace: the start enforces a policy of net.* keys, a
# `sysctl -w` behind its back is seen through inotify, logged as one drift
# line and repaired; SIGHUP with a broken policy keeps the old one (and
# status reports the refusal as an error until a reload succeeds);
# `jefe status` talks to the daemon; SIGTERM exits 0 and removes the socket.
# sysctl(8) is the independent witness of every value.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/daemon-env.sh"
env_enter_ns "$@"

# Keys whose fresh-namespace defaults differ from the policy, or are set
# wrong below before the start, so the first pass has work to do.
KEYS="net.ipv4.tcp_syncookies=1
net.ipv4.conf.all.rp_filter=1
net.ipv4.conf.default.rp_filter=1
net.ipv4.icmp_echo_ignore_broadcasts=1
net.ipv4.conf.all.accept_redirects=0
net.ipv4.conf.default.accept_redirects=0
net.ipv4.conf.all.send_redirects=0
net.ipv4.conf.all.log_martians=1"

# A check interval far above the wait below: a repair within it proves
# event-driven detection, not the backstop timer.
# Only [sysctl] enforces: every other layer only checks (see daemon-env.sh).
env_setup_root "mode = report
check_interval = 120" "mode = enforce
$(echo "$KEYS" | sed 's/=/ = /')"

sysctl -qw net.ipv4.tcp_syncookies=0 net.ipv4.conf.all.rp_filter=0 \
	net.ipv4.conf.all.accept_redirects=1
[ "$(sysctl -n net.ipv4.tcp_syncookies)" = 0 ] || fail "could not prepare tcp_syncookies=0"

env_start_daemon --debug

# 1. The start enforced every key (read back by sysctl(8), not by the agent).
for kv in $KEYS; do
	k=${kv%%=*} v=${kv#*=}
	got=$(sysctl -n "$k")
	[ "$got" = "$v" ] || fail "after start: $k = $got, expected $v"
done
note "start: all $(echo "$KEYS" | wc -l) keys enforced"
grep -qF "started version=" "$LOG" || fail "no 'started' line"
grep -qE "applied layer=sysctl items=[1-9]" "$LOG" ||
	fail "the start did not log one applied line for sysctl"
! grep -q "drift layer=sysctl" "$LOG" || fail "the start logged its first application as drift"
grep -qF "compliant layer=sysctl items=" "$LOG" || fail "no 'compliant' line after the start"

# 2. Drift behind the daemon's back: detected through inotify and repaired.
n=$(log_lines)
t0=$(now_ms)
sysctl -qw net.ipv4.tcp_syncookies=0
wait_log "$n" "drift layer=sysctl item=net.ipv4.tcp_syncookies expected=1 actual=0 action=repaired" 10 ||
	fail "no drift line within 10 s of sysctl -w (check_interval is 120 s)"
t1=$(now_ms)
wait_sysctl net.ipv4.tcp_syncookies 1 5 || fail "tcp_syncookies not repaired (sysctl -n says $(sysctl -n net.ipv4.tcp_syncookies))"
note "drift detection latency: $((t1 - t0)) ms (sysctl -w to drift line)"
wait_log "$n" "compliant layer=sysctl items=" 5 || fail "no 'compliant' line after the repair"
[ "$(tail -n +"$((n + 1))" "$LOG" | grep -c 'drift layer=')" = 1 ] ||
	fail "one change should give one drift line: $(tail -n +"$((n + 1))" "$LOG")"

# 3. jefe status goes through the daemon's socket (the request is logged:
# started with --debug, the daemon logs routine status requests too).
# Only the sysctl layer is this test's business: the other layers of the
# table run on the temporary root with their defaults.
[ -S "$T/run/jefe/jefe.sock" ] || fail "no socket at $T/run/jefe/jefe.sock"
n=$(log_lines)
src=0
"$JEFE" status --root "$T" --layer sysctl > "$T/status.out" 2>&1 || src=$?
[ "$src" = 0 ] || fail "jefe status --root exited $src: $(cat "$T/status.out")"
wait_log "$n" "request uid=0 command=status layer=sysctl" 5 || fail "jefe status did not go through the daemon"
n=$(log_lines)
src=0
"$JEFE" --socket "$T/run/jefe/jefe.sock" --root "$T" status --layer sysctl --json > "$T/status.json" || src=$?
[ "$src" = 0 ] || fail "jefe status --json via --socket exited $src"
"$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["compliant"] is True, d' "$T/status.json" ||
	fail "status JSON from the daemon does not say compliant"
wait_log "$n" "request uid=0 command=status" 5 || fail "jefe --socket did not reach the daemon"
note "jefe status via the daemon: exit 0, compliant"

# 4. SIGHUP with an invalid policy file: errors logged, old policy kept and enforced.
cat > "$T/etc/jefe/policy.d/50-broken.conf" <<'POL'
[agent]
mode = sometimes
[no-such-layer]
key = value
POL
# jefe reload (IPC) is refused with the errors, file and line, in its output.
rrc=0
"$JEFE" reload --root "$T" > "$T/reload.out" 2>&1 || rrc=$?
[ "$rrc" != 0 ] || fail "jefe reload of a broken policy exited 0"
grep -q "50-broken.conf line 2" "$T/reload.out" ||
	fail "jefe reload does not show the error with file and line: $(cat "$T/reload.out")"
n=$(log_lines)
kill -HUP "$DAEMON_PID"
wait_log "$n" "policy error file=" 5 || fail "no 'policy error' line after SIGHUP with a broken file"
wait_log "$n" "reload failed" 5 || fail "no 'reload failed' line"
tail -n +"$((n + 1))" "$LOG" | grep "policy error" | grep -qF "50-broken.conf" ||
	fail "the policy error does not name the broken file"
tail -n +"$((n + 1))" "$LOG" | grep -q "policy error .*line=2 " ||
	fail "the policy error does not name the line"
alive "$DAEMON_PID" || fail "jefe-setup died on a broken policy"
n=$(log_lines)
sysctl -qw net.ipv4.conf.all.rp_filter=0
wait_log "$n" "drift layer=sysctl item=net.ipv4.conf.all.rp_filter expected=1 actual=0 action=repaired" 10 ||
	fail "not enforcing after a refused reload"
wait_sysctl net.ipv4.conf.all.rp_filter 1 5 || fail "rp_filter not repaired after a refused reload"
# jefe status says the running policy is not the one on disk, as an error.
src=0
"$JEFE" status --root "$T" --layer sysctl > "$T/status.out" 2>&1 || src=$?
[ "$src" = 1 ] || fail "jefe status after a refused reload exited $src, expected 1: $(cat "$T/status.out")"
grep -q "running policy differs from disk (refused: .*50-broken.conf line [0-9]*: " "$T/status.out" ||
	fail "jefe status does not report the refused reload with file and line: $(cat "$T/status.out")"
# The daemon's status.json, which a fleet collects, says the same.
grep -q '"id": *"policy:disk"' "$T/var/lib/jefe/status.json" ||
	fail "status.json does not carry the refused reload"
note "SIGHUP with a broken policy: errors logged, old policy still enforced, status exit 1"

# 5. A good reload (jefe reload, then SIGHUP) takes a new key, and events
# still work on the new watches.
rm "$T/etc/jefe/policy.d/50-broken.conf"
echo "net.ipv4.conf.all.secure_redirects = 0" >> "$T/etc/jefe/policy.d/10-sysctl.conf"
sysctl -qw net.ipv4.conf.all.secure_redirects=1
n=$(log_lines)
rrc=0
"$JEFE" reload --root "$T" > "$T/reload.out" 2>&1 || rrc=$?
[ "$rrc" = 0 ] || fail "jefe reload exited $rrc: $(cat "$T/reload.out")"
wait_log "$n" "reloaded policy files=2" 5 || fail "no 'reloaded policy files=2' line after jefe reload"
n=$(log_lines)
kill -HUP "$DAEMON_PID"
wait_log "$n" "reloaded policy files=2" 5 || fail "no 'reloaded policy files=2' line after SIGHUP"
wait_sysctl net.ipv4.conf.all.secure_redirects 0 5 || fail "the reloaded policy was not enforced"
n=$(log_lines)
sysctl -qw net.ipv4.conf.all.secure_redirects=1
wait_log "$n" "drift layer=sysctl item=net.ipv4.conf.all.secure_redirects expected=0 actual=1 action=repaired" 10 ||
	fail "no event-driven repair after a reload (watches not re-registered?)"
src=0
"$JEFE" status --root "$T" --layer sysctl > "$T/status.out" 2>&1 || src=$?
[ "$src" = 0 ] || fail "jefe status after a good reload exited $src: $(cat "$T/status.out")"
if grep -q "running policy differs" "$T/status.out"; then
	fail "the refused reload is still reported after a good one"
fi
note "SIGHUP with a good policy: new key enforced, watches re-registered, refusal cleared"

# 6. SIGTERM: exit 0, socket removed, 'stopping' logged.
n=$(log_lines)
stop_daemon
[ ! -e "$T/run/jefe/jefe.sock" ] || fail "socket left behind after SIGTERM"
wait_log "$n" "stopping" 2 || fail "no 'stopping' line"
# No daemon now: the CLI falls back to acting directly.
src=0
"$JEFE" status --root "$T" --layer sysctl > "$T/status2.out" 2>&1 || src=$?
[ "$src" = 0 ] || fail "jefe status without a daemon exited $src: $(cat "$T/status2.out")"
note "SIGTERM: exit 0, socket removed"

# 7. Start on an invalid policy: exit 1, every error printed, nothing applied.
cat > "$T/etc/jefe/policy.d/50-broken.conf" <<'POL'
[agent]
check_interval = 0
[no-such-layer]
key = value
POL
sysctl -qw net.ipv4.conf.all.rp_filter=0
src=0
timeout 30 "$JEFE_SETUP" --root "$T" --foreground --log-socket "$T/log.sock" \
	>"$T/bad.out" 2>&1 || src=$?
[ "$src" = 1 ] || fail "start on an invalid policy exited $src, expected 1: $(cat "$T/bad.out")"
grep -q "policy error file=.*50-broken.conf line=3 " "$T/bad.out" ||
	fail "the unknown section error (line 3) is not printed: $(cat "$T/bad.out")"
grep -q "policy error file=.*50-broken.conf line=2 " "$T/bad.out" ||
	fail "the check_interval error (line 2) is not printed: $(cat "$T/bad.out")"
[ "$(sysctl -n net.ipv4.conf.all.rp_filter)" = 0 ] || fail "a refused start changed rp_filter"
[ ! -e "$T/run/jefe/jefe.sock" ] || fail "a refused start left a socket"
rm "$T/etc/jefe/policy.d/50-broken.conf"
note "start on an invalid policy: exit 1, all errors printed, nothing changed"

# 8. Usage: bad options exit 2, --version and --help exit 0.
src=0; "$JEFE_SETUP" --no-such-option >/dev/null 2>&1 || src=$?
[ "$src" = 2 ] || fail "unknown option exited $src, expected 2"
src=0; "$JEFE_SETUP" --ready-fd 987 --foreground >/dev/null 2>&1 || src=$?
[ "$src" = 2 ] || fail "--ready-fd of a closed fd exited $src, expected 2"
"$JEFE_SETUP" --version | grep -q "^jefe-setup [0-9]" || fail "--version"
"$JEFE_SETUP" --help | grep -q -- "--log-socket" || fail "--help"
sed "s/^/# log: /" "$LOG"
echo "PASS: daemon-sysctl"
