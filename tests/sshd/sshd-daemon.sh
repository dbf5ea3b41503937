#!/bin/sh
# SPDX-License-Identifier: MIT
# sshd-daemon.sh - jefe-setup keeps sshd's configuration on the policy:
# each tamper (PasswordAuthentication before the Include, a Match block
# re-enabling passwords, a drop-in sorting before ours, chmod 666
# sshd_config) is seen through inotify, logged as drift and repaired, with
# the latency printed; `sshd -T` is the witness of every repair.  Same
# namespace set-up as sshd-real.sh; only the sshd layer enforces, the
# others run in report mode so nothing outside T is ever written.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/sshd/sshd-env.sh"
sshd_enter_ns "$@"
. "$srcdir/tests/lib/daemon-env.sh"
command -v mkfifo >/dev/null || fail "mkfifo not found"
[ -x "$JEFE_SETUP" ] || fail "$JEFE_SETUP not built"
sshd_setup
printf '[agent]\nmode = report\ncheck_interval = 120\n' > "$T/etc/jefe/jefe.conf"
printf '[sshd]\nmode = enforce\n' > "$T/etc/jefe/policy.d/45-sshd-mode.conf"
LOG=$T/daemon.log
: > "$LOG"
# jefe-setup sends its log lines with MSG_DONTWAIT; the default queue of 10
# datagrams drops lines of the first pass's burst.  This is the private
# network namespace's own setting.
sysctl -qw net.unix.max_dgram_qlen=1024

sshd_T() {
	kw=$1; shift
	"$SSHD" -T -f /etc/ssh/sshd_config "$@" | awk -v k="$kw" '$1 == k { $1 = ""; sub(/^ /, ""); print }'
}

env_start_daemon
wait_log 0 "compliant layer=sshd" 20 || fail "the start did not bring sshd to compliance"
[ "$(sshd_T passwordauthentication)" = no ] || fail "start: passwordauthentication $(sshd_T passwordauthentication)"
note "start: sshd layer enforced"

# tamper NAME ITEM: the change was made just before; wait for its drift line.
LAT=
tamper_seen() {
	name=$1 item=$2
	# 30 s: far below the backstop, so only the event can bring it, and
	# room for a pass that follows another (a burst's follow-up, at nice
	# 10) on a machine whose cores TCG guests keep busy (10 s failed so)
	wait_log "$n" "drift layer=sshd item=$item " 30 ||
		fail "$name: no drift line for $item within 30 s (check_interval is 120 s)"
	t1=$(now_ms)
	line=$(tail -n +"$((n + 1))" "$LOG" | grep -F "drift layer=sshd item=$item " | head -1)
	echo "$line" | grep -q "action=repaired" || fail "$name: not repaired: $line"
	note "$name: drift seen and repaired in $((t1 - t0)) ms: $line"
	LAT="$LAT $((t1 - t0))"
}

n=$(log_lines); t0=$(now_ms)
{ echo "PasswordAuthentication yes"; cat /etc/ssh/sshd_config; } > "$T/cfg"
cat "$T/cfg" > /etc/ssh/sshd_config
tamper_seen "PasswordAuthentication before the Include" PasswordAuthentication
[ "$(sshd_T passwordauthentication)" = no ] || fail "sshd -T still says passwordauthentication yes"

n=$(log_lines); t0=$(now_ms)
printf 'Match User %s\n\tPasswordAuthentication yes\n' "$TUSER" >> /etc/ssh/sshd_config
tamper_seen "Match block re-enabling passwords" PasswordAuthentication
[ "$(sshd_T passwordauthentication -C "user=$TUSER,host=h,addr=192.0.2.9")" = no ] ||
	fail "sshd -T -C user=$TUSER still says passwordauthentication yes"

n=$(log_lines); t0=$(now_ms)
echo "PermitRootLogin yes" > /etc/ssh/sshd_config.d/00-early.conf
tamper_seen "drop-in sorting before ours" PermitRootLogin
[ "$(sshd_T permitrootlogin)" = no ] || fail "sshd -T still says permitrootlogin yes"

n=$(log_lines); t0=$(now_ms)
chmod 666 /etc/ssh/sshd_config
tamper_seen "chmod 666 sshd_config" mode:/etc/ssh/sshd_config
[ "$(stat -c %a /etc/ssh/sshd_config)" = 600 ] || fail "sshd_config mode $(stat -c %a /etc/ssh/sshd_config)"

n=$(log_lines); t0=$(now_ms)
rm /etc/ssh/sshd_config.d/00-jefe.conf
tamper_seen "drop-in deleted" /etc/ssh/sshd_config.d/00-jefe.conf
[ "$(sshd_T maxauthtries)" = 3 ] || fail "sshd -T: maxauthtries $(sshd_T maxauthtries) after the drop-in was restored"

note "detection+repair latencies (ms):$LAT"
stop_daemon
echo "PASS: sshd-daemon"
