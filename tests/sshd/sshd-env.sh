# SPDX-License-Identifier: MIT
# sshd-env.sh - sourced by tests/sshd/sshd-*.sh.
#
# A private mount and network namespace in which the real OpenSSH sees
# ordinary paths that are all temporary: T/etc/ssh is bind-mounted over
# /etc/ssh, temporary copies of passwd/shadow/group (with a test user) over
# the host's, T/run over /run (privilege separation dir, pidfile) and T/log
# over /var/log (wtmp, lastlog).  The agent runs with --root T, which names the
# same files.  The host's /etc, its sshd and its network are never touched:
# the test sshd listens on 127.0.0.1 of the private network namespace.

srcdir=${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${abs_top_builddir:-$srcdir}
JEFE=$builddir/jefe
JEFE_SETUP=$builddir/jefe-setup
SSHD=/usr/sbin/sshd
if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=$(command -v python3 || :); fi
PORT=22022
TUSER=jefetest

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

sshd_enter_ns() {
	[ "$(id -u)" = 0 ] || fail "$(basename "$0") must run as root (unshare, bind mounts); it does not skip"
	for tool in unshare mount umount ssh ssh-keygen timeout ip; do
		command -v "$tool" >/dev/null 2>&1 || fail "$tool not found (install openssh-client, iproute2)"
	done
	[ -x "$SSHD" ] || fail "$SSHD not found (install openssh-server)"
	[ -x "$JEFE" ] || fail "$JEFE not built"
	[ -n "$PYTHON" ] || fail "python3 not found"
	if [ -z "${JEFE_SSHD_IN_NS:-}" ]; then
		JEFE_SSHD_IN_NS=1 exec unshare --net --mount --propagation private -- \
			/bin/sh "$0" "$@"
	fi
	ip link set lo up
}

# Build T, the mounts, a test user with a key, and the shipped sshd policy.
sshd_setup() {
	T=$(mktemp -d /tmp/jefe-sshd.XXXXXX)
	chmod 0755 "$T"
	trap sshd_cleanup EXIT
	# dash runs the EXIT trap on exit only: turn a timeout's TERM into one.
	trap 'exit 143' TERM
	trap 'exit 130' INT
	mkdir -p "$T/etc/ssh/sshd_config.d" "$T/etc/jefe/policy.d" "$T/run" "$T/log" \
		"$T/home/$TUSER/.ssh" "$T/root/.ssh" "$T/client"
	# Debian's stock sshd_config, fresh host keys as the image makes them
	# (ed25519, RSA 3072; an ECDSA key is drift): nothing of the host's.
	cp /etc/ssh/sshd_config "$T/etc/ssh/sshd_config"
	chmod 0644 "$T/etc/ssh/sshd_config"
	[ -f /etc/ssh/moduli ] && cp /etc/ssh/moduli "$T/etc/ssh/moduli"
	for t in ed25519 rsa; do
		ssh-keygen -q -t $t -b 3072 -N '' -f "$T/etc/ssh/ssh_host_${t}_key" >/dev/null ||
			fail "ssh-keygen -t $t"
	done
	# Users: copies with a test user and root's home moved into T.
	# Homes are bind-mounted (/home, /root) so sshd and the agent (--root T)
	# read the same authorized_keys.
	sed "s|^root:\([^:]*\):0:0:\([^:]*\):[^:]*:|root:\1:0:0:\2:/root:|" /etc/passwd > "$T/etc/passwd"
	grep -q "^$TUSER:" "$T/etc/passwd" && fail "$TUSER exists on this host"
	echo "$TUSER:x:4242:4242:jefe test:/home/$TUSER:/bin/sh" >> "$T/etc/passwd"
	cp /etc/group "$T/etc/group"
	echo "$TUSER:x:4242:" >> "$T/etc/group"
	cp /etc/shadow "$T/etc/shadow"
	# Password "secret": it must never be offered, let alone accepted.
	hash=$("$PYTHON" -W ignore -c 'import crypt; print(crypt.crypt("secret", crypt.mksalt(crypt.METHOD_SHA512)))')
	echo "$TUSER:$hash:19000:0:99999:7:::" >> "$T/etc/shadow"
	chmod 0640 "$T/etc/shadow"
	for f in passwd group shadow; do mount --bind "$T/etc/$f" "/etc/$f"; done
	mount --bind "$T/etc/ssh" /etc/ssh
	# T/run over /run: sshd's pidfile is where the agent (--root T) looks.
	chmod 0755 "$T/run"
	mount --bind "$T/run" /run
	mkdir -p /run/sshd
	chmod 0755 /run/sshd
	mount --bind "$T/log" /var/log
	mount --bind "$T/home" /home
	mount --bind "$T/root" /root
	# The client key, authorized for the test user and for root.
	ssh-keygen -q -t ed25519 -N '' -f "$T/client/id" >/dev/null
	cp "$T/client/id.pub" "$T/home/$TUSER/.ssh/authorized_keys"
	cp "$T/client/id.pub" "$T/root/.ssh/authorized_keys"
	chown -R 4242:4242 "$T/home/$TUSER"
	chmod 0700 "$T/home/$TUSER/.ssh" "$T/root/.ssh"
	printf 'Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n' > "$T/client/config"
	# The policy: [agent] and the shipped sshd file, as installed.
	printf '[agent]\nmode = enforce\ncheck_interval = 120\n' > "$T/etc/jefe/jefe.conf"
	cp "$srcdir/policies/policy.d/40-sshd.conf" "$T/etc/jefe/policy.d/40-sshd.conf"
	# Files other layers load from the installed tree (the audit layer's
	# rules); only the sshd layer is applied here.
	[ ! -f "$srcdir/policies/audit.rules" ] || cp "$srcdir/policies/audit.rules" "$T/etc/jefe/"
}

sshd_cleanup() {
	rc=$?
	[ -n "${SSHD_PID:-}" ] && kill "$SSHD_PID" 2>/dev/null
	[ -n "${DAEMON_PID:-}" ] && kill "$DAEMON_PID" 2>/dev/null
	[ -n "${SINK_PID:-}" ] && kill "$SINK_PID" 2>/dev/null
	if [ "$rc" != 0 ] && [ -n "${T:-}" ]; then
		for f in "$T/sshd.log" "$T/daemon.log" "$T/daemon.err"; do
			[ -s "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }
		done
	fi
	if [ -n "${T:-}" ]; then
		# Stacked mounts (sshd_root_overlay): unmount each path until bare.
		for m in /var/lib /root /home /var/log /run /etc/ssh /etc/shadow /etc/group /etc/passwd \
			 /etc /etc/ssh /etc/shadow /etc/group /etc/passwd; do
			while umount "$m" 2>/dev/null; do :; done
		done
		rm -rf --one-file-system "$T"
	fi
	exit "$rc"
}

# For --root /: an overlay over /etc (upper layer in T) so /etc/jefe can
# exist in this namespace, then the same bind mounts again on top of it.
sshd_root_overlay() {
	mkdir -p "$T/ovl/upper" "$T/ovl/work"
	mount -t overlay overlay -o "lowerdir=/etc,upperdir=$T/ovl/upper,workdir=$T/ovl/work" /etc
	for f in passwd group shadow; do mount --bind "$T/etc/$f" "/etc/$f"; done
	mount --bind "$T/etc/ssh" /etc/ssh
	mkdir -p /etc/jefe
	mount --bind "$T/etc/jefe" /etc/jefe
	# The agent's state and caches (/var/lib/jefe) land in T as well.
	mkdir -p "$T/ovl/varlib-upper" "$T/ovl/varlib-work"
	mount -t overlay overlay \
		-o "lowerdir=/var/lib,upperdir=$T/ovl/varlib-upper,workdir=$T/ovl/varlib-work" /var/lib
}

# jefe against T, only this layer, never through a daemon.
jefe_sshd() { "$JEFE" --root "$T" --direct "$@" --layer sshd; }

# Start the real sshd on the managed configuration; wait until it listens.
sshd_start() {
	"$SSHD" -D -e -f /etc/ssh/sshd_config -o "ListenAddress=127.0.0.1:$PORT" \
		>> "$T/sshd.log" 2>&1 &
	SSHD_PID=$!
	i=0
	until ssh_try -o BatchMode=yes -o PreferredAuthentications=none "$TUSER@127.0.0.1" true 2>/dev/null ||
	      grep -q "Server listening" "$T/sshd.log"; do
		i=$((i + 1)); [ $i -le 300 ] || fail "sshd did not start: $(tail -5 "$T/sshd.log")"
		kill -0 "$SSHD_PID" 2>/dev/null || fail "sshd exited: $(tail -5 "$T/sshd.log")"
		sleep 0.02
	done
}

sshd_stop() {
	[ -n "${SSHD_PID:-}" ] || return 0
	kill "$SSHD_PID" 2>/dev/null || :
	wait "$SSHD_PID" 2>/dev/null || :
	SSHD_PID=
}

# ssh_try [ssh options] USER@127.0.0.1 CMD...: one bounded connection to the test sshd.
ssh_try() {
	timeout 20 ssh -F "$T/client/config" -p "$PORT" -i "$T/client/id" -o IdentitiesOnly=yes \
		-o ConnectTimeout=10 "$@"
}
