#!/bin/sh
# SPDX-License-Identifier: MIT
# sshd-worker.sh - jefe-setup runs the sshd layer's passes in a child
# process whose findings its loop reads from a pipe: while a pass waits
# for a slow `sshd -T` (sshd_path is a wrapper that sleeps while
# /mnt/slow exists), a chmod of a file of the files layer is still
# logged at once; the pass killed with SIGKILL leaves one error line that
# names it and how it ended, the programs it ran die with it, and the
# next change gets a normal pass (drift logged, repaired, sshd -T the
# witness).  A burst of 20 tampers while a pass runs costs one follow-up
# pass (and the check of its own repair), not 20; the follow-ups run
# sshd -T 10 nice levels below the daemon under SCHED_BATCH (the wrapper
# reads its own /proc/PID/stat), the first pass at the daemon's, and the last
# tamper is repaired.  A pass whose sshd -T fails is tried again 10 s
# later, without an event; sshd's start (its pidfile) is an event.  Same
# namespace as sshd-daemon.sh.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/sshd/sshd-env.sh"
sshd_enter_ns "$@"
. "$srcdir/tests/lib/daemon-env.sh"
command -v mkfifo >/dev/null || fail "mkfifo not found"
command -v pgrep >/dev/null || fail "pgrep not found (procps)"
[ -x "$JEFE_SETUP" ] || fail "$JEFE_SETUP not built"
sshd_setup
# A program the agent runs as root must sit in root's directories: a
# tmpfs over /mnt of this private mount namespace.
mount -t tmpfs -o mode=0755 tmpfs /mnt
mkdir -m 0755 /mnt/bin
cat >/mnt/bin/slow-sshd <<EOF
#!/bin/sh
[ -e /mnt/fail ] && { echo "slow-sshd: failing on purpose" >&2; exit 1; }
# The stuck sshd -T: its pid in /mnt/slow.pid (exec keeps it), so the
# test finds this very process and not some other \`sleep 60' on the host.
[ -e /mnt/slow ] && { echo \$\$ > /mnt/slow.pid; exec sleep 60; }
# Its nice value and scheduling policy (fields 19 and 41), then a pause.
[ -e /mnt/pause ] && cut -d' ' -f19,41 /proc/\$\$/stat >> /mnt/prio.log && sleep 0.4
exec $SSHD "\$@"
EOF
chmod 0755 /mnt/bin/slow-sshd
printf '[agent]\nmode = report\ncheck_interval = 600\n' > "$T/etc/jefe/jefe.conf"
printf '[sshd]\nmode = enforce\nsshd_path = /mnt/bin/slow-sshd\n' > "$T/etc/jefe/policy.d/45-sshd-mode.conf"
cat > "$T/etc/jefe/policy.d/60-files.conf" <<'P'
[files]
mode = report
suid_dirs =
world_writable_dirs =
tmp_mounts =
[files.perms]
/etc/probe = 0640
P
printf 'x\n' > "$T/etc/probe"
chmod 0640 "$T/etc/probe"
LOG=$T/daemon.log
: > "$LOG"
sysctl -qw net.unix.max_dgram_qlen=1024
# The script's status reaches sshd_cleanup (its $?), which exits with
# it; set +e first: under set -e that non-zero status ended the trap
# before sshd_cleanup, and a failed run left its jefe-setup and log sink
# running.
cleanup_mnt() { rc=$?; rm -f /mnt/slow /mnt/slow.pid /mnt/pause /mnt/fail; set +e; return "$rc"; }
trap 'cleanup_mnt; sshd_cleanup' EXIT

env_start_daemon --debug
wait_log 0 "compliant layer=sshd" 20 || fail "the start did not bring sshd to compliance"

# 1. A pass stuck in sshd -T does not hold the loop.
touch /mnt/slow
n=$(log_lines)
chmod 0666 /etc/ssh/sshd_config
deadline=$(( $(now_ms) + 10000 ))
until [ -s /mnt/slow.pid ]; do
	[ "$(now_ms)" -lt "$deadline" ] || fail "no sshd pass started after chmod 666 sshd_config"
	sleep 0.05
done
PASS_PID=$(pgrep -P "$DAEMON_PID" | head -n 1)
[ -n "$PASS_PID" ] || fail "no child process of jefe-setup while the sshd pass runs"
n=$(log_lines)
t0=$(now_ms)
chmod 0644 "$T/etc/probe"
wait_log "$n" "drift layer=files " 5 || fail "the files layer's change waited for the sshd pass"
note "files drift logged in $(( $(now_ms) - t0 )) ms while the sshd pass waits for sshd -T"
alive "$PASS_PID" || fail "the sshd pass ended before it was killed"

# 2. The pass killed: one error line naming it, its programs gone.
n=$(log_lines)
kill -KILL "$PASS_PID"
wait_log "$n" "error layer=sshd item=layer msg=\"sshd pass (pid $PASS_PID) was killed by signal 9" 10 ||
	fail "no error line naming the killed sshd pass: $(tail -n +"$((n + 1))" "$LOG")"
deadline=$(( $(now_ms) + 5000 ))
SLOW_PID=$(cat /mnt/slow.pid)
while alive "$SLOW_PID"; do
	[ "$(now_ms)" -lt "$deadline" ] || fail "the killed pass left its sshd -T running"
	sleep 0.05
done
alive "$DAEMON_PID" || fail "jefe-setup died with its pass"
note "killed pass reported: $(tail -n +"$((n + 1))" "$LOG" | grep -m1 'error layer=sshd')"

# 3. The next change gets a normal pass: drift, repair, sshd -T the witness.
rm -f /mnt/slow
n=$(log_lines)
chmod 0666 /etc/ssh/sshd_config
wait_log "$n" "drift layer=sshd item=mode:/etc/ssh/sshd_config " 10 ||
	fail "no drift line for sshd_config after the killed pass: $(tail -n +"$((n + 1))" "$LOG")"
deadline=$(( $(now_ms) + 10000 ))
until [ "$(stat -c %a /etc/ssh/sshd_config)" = 600 ] || [ "$(stat -c %a /etc/ssh/sshd_config)" = 644 ]; do
	[ "$(now_ms)" -lt "$deadline" ] || fail "sshd_config left at mode $(stat -c %a /etc/ssh/sshd_config)"
	sleep 0.05
done
"$SSHD" -t -f /etc/ssh/sshd_config || fail "sshd -t refuses the repaired configuration"

# 4. A burst while a pass runs: coalesced into one follow-up, at a lower priority.
# quiet: no pass running and none logged for a second (the repair's own
# event has had its pass), so the next event starts a burst.
quiet() {
	deadline=$(( $(now_ms) + 30000 ))
	q=0
	while [ "$q" -lt 10 ]; do
		[ "$(now_ms)" -lt "$deadline" ] || fail "the sshd layer never went quiet: $(tail -n 5 "$LOG")"
		m=$(log_lines)
		sleep 0.1
		if [ -z "$(pgrep -P "$DAEMON_PID")" ] && [ "$(log_lines)" = "$m" ]; then
			q=$((q + 1))
		else
			q=0
		fi
	done
}
quiet
n=$(log_lines)
: > /mnt/prio.log
touch /mnt/pause
chmod 0666 /etc/ssh/sshd_config
deadline=$(( $(now_ms) + 10000 ))
until [ -s /mnt/prio.log ]; do
	[ "$(now_ms)" -lt "$deadline" ] || fail "no sshd pass started after chmod 666 sshd_config"
	sleep 0.01
done
for k in 1 2 3 4 5 6 7 8 9 10; do
	chmod 0644 /etc/ssh/sshd_config
	chmod 0666 /etc/ssh/sshd_config
done
# The last tamper (0666) is the one the follow-up must find and repair.
deadline=$(( $(now_ms) + 30000 ))
until tail -n +"$((n + 1))" "$LOG" | grep -q 'checked layer=sshd by=event .* nice=10' &&
      { [ "$(stat -c %a /etc/ssh/sshd_config)" = 600 ] || [ "$(stat -c %a /etc/ssh/sshd_config)" = 644 ]; }; do
	[ "$(now_ms)" -lt "$deadline" ] ||
		fail "the burst's last tamper was not repaired by a follow-up pass: mode $(stat -c %a /etc/ssh/sshd_config), $(tail -n +"$((n + 1))" "$LOG")"
	sleep 0.05
done
rm -f /mnt/pause
quiet
passes=$(tail -n +"$((n + 1))" "$LOG" | grep -c 'checked layer=sshd by=event')
first=$(tail -n +"$((n + 1))" "$LOG" | grep -m1 'checked layer=sshd by=event')
note "21 tampers, $passes sshd passes: $(tail -n +"$((n + 1))" "$LOG" | grep 'checked layer=sshd' | tr '\n' ' ')"
# The first pass, its follow-up, and the check after that one's repair.
[ "$passes" -ge 2 ] && [ "$passes" -le 3 ] ||
	fail "21 tampers during a pass gave $passes sshd passes (expected 2 or 3)"
case $first in *" nice=0"*) ;; *) fail "the first pass of the burst was not at the loop's priority: $first" ;; esac
tail -n +"$((n + 1))" "$LOG" | grep 'checked layer=sshd by=event' | tail -n +2 | grep -v ' nice=10$' &&
	fail "a follow-up pass was not at nice 10"
# The independent witness: the sshd runs themselves ("nice policy"), the
# first at the daemon's own nice value, the follow-ups 10 above it.
base=$(cut -d' ' -f19 "/proc/$DAEMON_PID/stat")
low=$(( base + 10 > 19 ? 19 : base + 10 ))
note "jefe-setup at nice $base; sshd -T priorities: $(tr '\n' ',' < /mnt/prio.log)"
head -n 1 /mnt/prio.log | grep -qx "$base 0" || fail "the first pass's sshd -T ran at $(head -n 1 /mnt/prio.log)"
grep -qx "$low 3" /mnt/prio.log || fail "no follow-up sshd -T at nice $low, SCHED_BATCH (3): $(cat /mnt/prio.log)"
grep -v -x -e "$base 0" -e "$low 3" /mnt/prio.log && fail "sshd -T at an unexpected priority"

# 5. A pass that could not check is tried again soon, not at the backstop
# (check_interval = 600 here): sshd -T fails while /mnt/fail exists; once
# it is gone (no event: nothing the layer watches changed), the retry
# alone brings the layer back to compliance.
rm -f /mnt/prio.log
quiet
n=$(log_lines)
touch /mnt/fail
chmod 0666 /etc/ssh/sshd_config
wait_log "$n" "retry layer=sshd in_ms=10000" 20 ||
	fail "no retry after a pass whose sshd -T failed: $(tail -n +"$((n + 1))" "$LOG")"
note "failed pass: $(tail -n +"$((n + 1))" "$LOG" | grep -E '(error|retry) layer=sshd' | tr '\n' ' ')"
rm -f /mnt/fail
t0=$(now_ms)
wait_log "$n" "compliant layer=sshd" 40 ||
	fail "the layer was not checked again after its failed pass: $(tail -n +"$((n + 1))" "$LOG")"
tail -n +"$((n + 1))" "$LOG" | grep -q 'checked layer=sshd by=timer' ||
	fail "the layer's compliance did not come from the retry: $(tail -n +"$((n + 1))" "$LOG")"
note "retried and compliant $(( $(now_ms) - t0 )) ms after sshd -T works again"

# 6. sshd's start is an event of the layer (its pidfile in /run): the
# reload item names the running sshd at once, not at the backstop (at
# boot the agent's first pass comes before sshd starts).
quiet
"$JEFE" status --root "$T" --layer sshd --json > "$T/s-before.json" || [ $? = 2 ] ||
	fail "jefe status --layer sshd failed"
grep -q 'sshd not running' "$T/s-before.json" || fail "no 'sshd not running' before sshd's start: $(cat "$T/s-before.json")"
n=$(log_lines)
sshd_start
wait_log "$n" "checked layer=sshd by=event" 20 ||
	fail "sshd's start did not wake the sshd layer: $(tail -n +"$((n + 1))" "$LOG")"
"$JEFE" status --root "$T" --layer sshd --json > "$T/s-after.json" || [ $? = 2 ] ||
	fail "jefe status --layer sshd failed"
grep -q "sshd pid $SSHD_PID " "$T/s-after.json" ||
	fail "after sshd's start the reload item does not name it (pid $SSHD_PID): $(cat "$T/s-after.json")"
note "sshd started (pid $SSHD_PID): the layer rechecked by its pidfile's event"
sshd_stop
stop_daemon
echo "PASS: sshd-worker"
