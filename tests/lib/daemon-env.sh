# SPDX-License-Identifier: MIT
# daemon-env.sh - sourced by tests/netns/daemon-*.sh.
#
# Runs jefe-setup against a temporary root T inside a private network and
# mount namespace.  Host safety: T/proc/sys is a READ-ONLY bind of
# /proc/sys, and only T/proc/sys/net is bound writable on top of it, so a
# bug in the agent can at worst write net.* keys of the private namespace;
# every kernel.*, vm.* and fs.* key stays out of reach.

srcdir=${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${abs_top_builddir:-$srcdir}
JEFE_SETUP=$builddir/jefe-setup
JEFE=$builddir/jefe
# A python3 that an unprivileged uid can run too (not a pyenv shim under /root).
if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=$(command -v python3); fi

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

# Re-run the calling script inside a fresh net + mount namespace.
env_enter_ns() {
	[ "$(id -u)" = 0 ] || fail "$(basename "$0") must run as root (unshare -n -m, bind mounts); it does not skip"
	for tool in unshare mount umount sysctl setpriv timeout mkfifo; do
		command -v "$tool" >/dev/null 2>&1 || fail "$tool not found"
	done
	[ -x "$JEFE_SETUP" ] || fail "$JEFE_SETUP not built"
	[ -x "$JEFE" ] || fail "$JEFE not built"
	[ -n "$PYTHON" ] || fail "python3 not found"
	if [ -z "${JEFE_TEST_IN_NS:-}" ]; then
		JEFE_TEST_IN_NS=1 exec unshare --net --mount --propagation private -- \
			/bin/sh "$0" "$@"
	fi
}

# The kernel's audit settings and rules are not per network namespace: a
# daemon started here would change the host's.  Tests therefore run with
# [agent] mode = report (every layer only checks) and enforce [sysctl]
# alone; this witness makes sure the host's audit state is unchanged.
host_audit_state() {
	command -v auditctl >/dev/null 2>&1 || return 0
	auditctl -s 2>&1 | grep -E '^(enabled|failure|rate_limit|backlog_limit) ' || :
	auditctl -l 2>&1 || :
}

# Make T with the mounts and the policy.  $1: [agent] lines, $2: [sysctl] lines.
env_setup_root() {
	AUDIT_BEFORE=$(host_audit_state)
	T=$(mktemp -d /tmp/jefe-daemon.XXXXXX)
	chmod 0755 "$T"
	trap env_cleanup EXIT
	mkdir -p "$T/etc/jefe/policy.d" "$T/etc/sysctl.d" "$T/proc/sys" "$T/run"
	mount --bind /proc/sys "$T/proc/sys"
	mount -o remount,bind,ro "$T/proc/sys"
	mount --bind /proc/sys/net "$T/proc/sys/net"
	# The guard itself is checked: kernel.* below T must not be writable.
	if ( echo 2 > "$T/proc/sys/kernel/kptr_restrict" ) 2>/dev/null; then
		fail "$T/proc/sys is writable outside net.*: refusing to run"
	fi
	# What a real install ships besides the policy: the audit layer's
	# rules file (empty: the audit layer only checks here, see above).
	echo "# no rules: the audit layer runs in report mode in this test" > "$T/etc/jefe/audit.rules"
	printf '[agent]\n%s\n' "$1" > "$T/etc/jefe/jefe.conf"
	printf '[sysctl]\n%s\n' "$2" > "$T/etc/jefe/policy.d/10-sysctl.conf"
	LOG=$T/log.txt
	: > "$LOG"
}

env_cleanup() {
	rc=$?
	# Clean up whatever state we fail in: no errexit here.
	set +e
	[ -n "${DAEMON_PID:-}" ] && kill "$DAEMON_PID" 2>/dev/null
	[ -n "${SINK_PID:-}" ] && kill "$SINK_PID" 2>/dev/null
	if [ "$rc" != 0 ] && [ -n "${T:-}" ]; then
		echo "--- daemon log ($LOG)" >&2
		cat "$LOG" >&2 2>/dev/null
		echo "--- daemon stderr" >&2
		cat "$T/daemon.err" >&2 2>/dev/null
	fi
	if [ -n "${AUDIT_BEFORE+set}" ] && [ "$(host_audit_state)" != "$AUDIT_BEFORE" ]; then
		echo "FAIL: the host's audit state changed during the test:" >&2
		echo "before: $AUDIT_BEFORE" >&2
		echo "after:  $(host_audit_state)" >&2
		rc=1
	fi
	if [ -n "${T:-}" ]; then
		umount "$T/sys/kernel/security/lockdown" 2>/dev/null
		umount "$T/proc/sys/net" 2>/dev/null
		umount "$T/proc/sys" 2>/dev/null
		# Never descend into a mount that is still there.
		rm -rf --one-file-system "$T"
	fi
	exit "$rc"
}

# Start the log listener and the daemon; wait (bounded) for readiness.
env_start_daemon() {
	# Its own stdio: a leftover listener must never hold the test's output open.
	if [ -z "${SINK_PID:-}" ]; then
		"$PYTHON" "$srcdir/tests/lib/logsink.py" "$T/log.sock" "$LOG" </dev/null >/dev/null 2>&1 &
		SINK_PID=$!
		i=0
		while [ ! -S "$T/log.sock" ]; do
			i=$((i + 1)); [ $i -le 500 ] || fail "log listener did not start"
			sleep 0.01
		done
	fi
	rm -f "$T/ready"
	mkfifo "$T/ready"
	# JEFE_SETUP_WRAP: e.g. "valgrind --error-exitcode=99" for a memory check by hand.
	${JEFE_SETUP_WRAP:-} "$JEFE_SETUP" --root "$T" --foreground --log-socket "$T/log.sock" --ready-fd 3 \
		"$@" 3>"$T/ready" </dev/null >"$T/daemon.out" 2>"$T/daemon.err" &
	DAEMON_PID=$!
	t0=$(now_ms)
	# EOF without a newline (the daemon died) fails the read.
	timeout 30 sh -c 'read -r line < "$1"' sh "$T/ready" ||
		fail "jefe-setup did not signal readiness within 30 s"
	note "jefe-setup ready in $(( $(now_ms) - t0 )) ms (pid $DAEMON_PID)"
	alive "$DAEMON_PID" || fail "jefe-setup died after readiness"
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

log_lines() { wc -l < "$LOG"; }

# wait_log FROM PATTERN SECONDS: a line after line FROM contains the fixed string PATTERN.
wait_log() {
	deadline=$(( $(now_ms) + $3 * 1000 ))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		tail -n +"$(( $1 + 1 ))" "$LOG" | grep -qF -- "$2" && return 0
		sleep 0.005
	done
	return 1
}

# wait_sysctl KEY VALUE SECONDS: the independent witness, sysctl(8), shows VALUE.
wait_sysctl() {
	deadline=$(( $(now_ms) + $3 * 1000 ))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		[ "$(sysctl -n "$1")" = "$2" ] && return 0
		sleep 0.01
	done
	return 1
}

# alive PID: running, not a zombie waiting to be reaped.
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	[ "$(sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f1)" != Z ]
}

# stop_daemon: SIGTERM, bounded wait, exit status 0.
stop_daemon() {
	kill -TERM "$DAEMON_PID"
	( sleep 10; kill -KILL "$DAEMON_PID" 2>/dev/null ) &
	watchdog=$!
	drc=0
	wait "$DAEMON_PID" || drc=$?
	kill "$watchdog" 2>/dev/null || :
	DAEMON_PID=
	[ "$drc" != 137 ] || fail "jefe-setup still running 10 s after SIGTERM (killed)"
	[ "$drc" = 0 ] || fail "jefe-setup exited $drc on SIGTERM, expected 0"
}
