#!/bin/sh
# SPDX-License-Identifier: MIT
# daemon-report.sh - jefe-setup in report mode and as a classic daemon.
#
# Report mode: drift is logged as action=reported and never repaired, and
# logged once, not at every backstop tick; `jefe enforce` through the
# daemon fixes it and the daemon then logs the layer compliant.
# Daemonized (no --foreground): the parent exits 0 once the child runs, the
# pidfile holds the child's pid, a second daemon is refused (socket and
# pidfile), a stale pidfile is replaced, SIGTERM removes both files.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/daemon-env.sh"
env_enter_ns "$@"

# check_interval = 1: many backstop passes during the test, to prove a
# standing drift is not logged again at each one.
env_setup_root "mode = report
check_interval = 1" "net.ipv4.tcp_syncookies = 1
net.ipv4.conf.all.rp_filter = 1"
sysctl -qw net.ipv4.tcp_syncookies=0 net.ipv4.conf.all.rp_filter=1

env_start_daemon
LINE="noncompliant layer=sysctl item=net.ipv4.tcp_syncookies expected=1 actual=0 action=reported"
wait_log 0 "$LINE" 5 || fail "report mode: no '$LINE'"
grep -qF "started version=" "$LOG" && grep -q "started .*mode=report" "$LOG" || fail "no 'started ... mode=report' line"
sleep 3.5
[ "$(sysctl -n net.ipv4.tcp_syncookies)" = 0 ] || fail "report mode changed tcp_syncookies"
[ ! -e "$T/etc/sysctl.d/90-jefe.conf" ] || fail "report mode wrote the persistence file"
count=$(grep -cF "$LINE" "$LOG" || :)
[ "$count" = 1 ] || fail "a standing drift was logged $count times over 3 backstop passes, expected once"
note "report mode: drift reported once over 3+ backstop passes, nothing changed"

# jefe enforce through the daemon (root): repaired, then the daemon says compliant.
n=$(log_lines)
erc=0
"$JEFE" enforce --root "$T" --layer sysctl > "$T/enforce.out" 2>&1 || erc=$?
[ "$erc" = 0 ] || fail "jefe enforce via the daemon exited $erc: $(cat "$T/enforce.out")"
wait_log "$n" "request uid=0 command=enforce layer=sysctl" 5 || fail "jefe enforce did not go through the daemon"
[ "$(sysctl -n net.ipv4.tcp_syncookies)" = 1 ] || fail "jefe enforce did not set tcp_syncookies"
wait_log "$n" "compliant layer=sysctl items=" 5 || fail "no 'compliant' line after jefe enforce"
grep -qE "applied layer=sysctl items=[1-9][0-9]* by=enforce" "$LOG" || fail "no 'applied ... by=enforce' line"

# A new drift is reported again (once), and still not repaired.
n=$(log_lines)
sysctl -qw net.ipv4.tcp_syncookies=0
DLINE="drift layer=sysctl item=net.ipv4.tcp_syncookies expected=1 actual=0 action=reported ref=\"CIS 3.3.10\""
wait_log "$n" "$DLINE" 5 || fail "new drift after compliance not reported as drift with its ref"
sleep 1.5
[ "$(sysctl -n net.ipv4.tcp_syncookies)" = 0 ] || fail "report mode repaired"
[ "$(tail -n +"$((n + 1))" "$LOG" | grep -cF "$DLINE")" = 1 ] || fail "new drift reported more than once"
note "report mode: jefe enforce via the daemon, compliant line, new drift reported again"
stop_daemon

# ---- enforce, with an item that cannot be fixed ------------------------
# A stand-in for securityfs' lockdown file below T, on a read-only bind:
# raising it fails, as on a kernel that refuses.  The cannot-fix drift is
# logged once (not at every 1 s backstop pass), the layer is not called
# compliant while it stays, and other drift in the same layer is still
# repaired at once.
mkdir -p "$T/sys/kernel/security"
echo "[none] integrity confidentiality" > "$T/sys/kernel/security/lockdown"
mount --bind "$T/sys/kernel/security/lockdown" "$T/sys/kernel/security/lockdown"
mount -o remount,bind,ro "$T/sys/kernel/security/lockdown"
cp "$T/etc/jefe/policy.d/10-sysctl.conf" "$T/sysctl.conf.saved"
printf 'mode = enforce\nkernel.lockdown = confidentiality\nnet.ipv4.conf.all.forwarding = 0\n' \
	>> "$T/etc/jefe/policy.d/10-sysctl.conf"
n=$(log_lines)
env_start_daemon
CF="noncompliant layer=sysctl item=kernel.lockdown expected=confidentiality actual=none action=cannot-fix"
wait_log "$n" "$CF" 5 || fail "no cannot-fix line for the lockdown stand-in"
sleep 3.5
[ "$(tail -n +"$((n + 1))" "$LOG" | grep -cF "$CF")" = 1 ] || fail "cannot-fix drift logged more than once"
m=$(log_lines)
sysctl -qw net.ipv4.tcp_syncookies=0
wait_log "$m" "drift layer=sysctl item=net.ipv4.tcp_syncookies expected=1 actual=0 action=repaired" 5 ||
	fail "other drift not repaired while a cannot-fix item stays"
wait_sysctl net.ipv4.tcp_syncookies 1 5 || fail "tcp_syncookies not repaired"
# A change made inside the kernel raises no inotify event: writing
# ip_forward sets conf.all.forwarding behind the watched file's back.
# Only the backstop timer (1 s here) can see it.
m=$(log_lines)
sysctl -qw net.ipv4.ip_forward=1
# No read of conf.all.forwarding here: the backstop may already have put it
# back.  The drift line below, with actual=1, is the proof that the kernel
# changed it, and that the daemon saw it without any inotify event.
wait_log "$m" "drift layer=sysctl item=net.ipv4.conf.all.forwarding expected=0 actual=1 action=repaired" 5 ||
	fail "the backstop timer did not repair a change made inside the kernel"
wait_sysctl net.ipv4.conf.all.forwarding 0 5 || fail "conf.all.forwarding not repaired"
sleep 1.5
! tail -n +"$((n + 1))" "$LOG" | grep -q ": compliant layer=sysctl" ||
	fail "layer called compliant while lockdown cannot be fixed"
[ "$(tail -n +"$((n + 1))" "$LOG" | grep -cF "$CF")" = 1 ] || fail "cannot-fix drift logged again after a repair"
stop_daemon
umount "$T/sys/kernel/security/lockdown"
cp "$T/sysctl.conf.saved" "$T/etc/jefe/policy.d/10-sysctl.conf"
note "cannot-fix: logged once over 3+ backstop passes, no false 'compliant', other drift repaired"
note "backstop: a change made inside the kernel (no event) repaired by the timer"

# ---- daemonized --------------------------------------------------------
PIDFILE=$T/run/jefe-setup.pid
SOCK=$T/run/jefe/jefe.sock
pid_gone() {
	i=0
	while [ -e "/proc/$1" ]; do
		i=$((i + 1)); [ $i -le 1000 ] || return 1
		sleep 0.01
	done
}
# Enforce now, with a backstop far away: a repair within seconds proves the
# daemonized child still gets its layer events.
printf '[agent]\nmode = report\ncheck_interval = 120\n' > "$T/etc/jefe/jefe.conf"
printf 'mode = enforce\n' >> "$T/etc/jefe/policy.d/10-sysctl.conf"
echo 999999 > "$PIDFILE"	# stale: no such process
rc=0
timeout 30 "$JEFE_SETUP" --root "$T" --log-socket "$T/log.sock" 2>"$T/daemon.err" || rc=$?
[ "$rc" = 0 ] || fail "daemonizing start exited $rc: $(cat "$T/daemon.err")"
[ -s "$PIDFILE" ] || fail "no pidfile after the parent exited"
DPID=$(cat "$PIDFILE")
# Not our child: env_cleanup stops it through DAEMON_PID if we fail below.
DAEMON_PID=$DPID
[ "$DPID" != 999999 ] || fail "stale pidfile not replaced"
alive "$DPID" || fail "pid $DPID from the pidfile is not running"
[ "$(cat "/proc/$DPID/comm")" = jefe-setup ] || fail "pid $DPID is not jefe-setup"
[ "$(awk '{print $6}' "/proc/$DPID/stat")" = "$DPID" ] || fail "the daemon is not a session leader (no setsid)"
[ "$(readlink "/proc/$DPID/cwd")" = / ] || fail "the daemon did not chdir /"
[ -S "$SOCK" ] || fail "daemonized: no socket"
n=$(log_lines)
sysctl -qw net.ipv4.tcp_syncookies=0
wait_log "$n" "drift layer=sysctl item=net.ipv4.tcp_syncookies expected=1 actual=0 action=repaired" 10 ||
	fail "daemonized: no event-driven repair"
wait_sysctl net.ipv4.tcp_syncookies 1 5 || fail "daemonized: tcp_syncookies not repaired"
note "daemonized: parent exit 0, pidfile $DPID, session leader, stale pidfile replaced, events work"

# A second daemon: the socket is taken.
rc=0
timeout 30 "$JEFE_SETUP" --root "$T" --log-socket "$T/log.sock" 2>"$T/second.err" || rc=$?
[ "$rc" = 1 ] || fail "second daemon on the same socket exited $rc, expected 1"
grep -q "another jefe-setup" "$T/second.err" || fail "second daemon: no clear message: $(cat "$T/second.err")"
# Another socket, same pidfile: the pidfile of a live daemon is not stolen.
rc=0
timeout 30 "$JEFE_SETUP" --root "$T" --socket "$T/other.sock" --log-socket "$T/log.sock" 2>"$T/third.err" || rc=$?
[ "$rc" = 1 ] || fail "second daemon with the same pidfile exited $rc, expected 1"
[ "$(cat "$PIDFILE")" = "$DPID" ] || fail "the pidfile of the running daemon was changed"
[ ! -e "$T/other.sock" ] || fail "the refused daemon left its socket behind"
alive "$DPID" || fail "the first daemon died"
note "second daemon refused (socket busy; pidfile of a live daemon)"

kill -TERM "$DPID"
pid_gone "$DPID" || fail "daemon still running 10 s after SIGTERM"
DAEMON_PID=
[ ! -e "$PIDFILE" ] || fail "pidfile left behind"
[ ! -e "$SOCK" ] || fail "socket left behind"
note "daemonized: SIGTERM removed pidfile and socket"
sed "s/^/# log: /" "$LOG"
echo "PASS: daemon-report"
