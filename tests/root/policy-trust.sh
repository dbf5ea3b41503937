#!/bin/sh
# SPDX-License-Identifier: MIT
# policy-trust.sh - write access to a policy file is root code execution
# ([sshd] sshd_path names a program run as root), so the agent trusts a
# policy file, its directories and the programs it runs only when root
# alone can change them.  Against a temporary root T in private net +
# mount namespaces (daemon-env.sh): a 0666 file owned by nobody, a 0777
# policy.d, a group-writable /etc, a policy.d symlink out of /etc/jefe and
# a group-writable sshd_path are each refused with the path and its owner
# or mode, and nothing is applied (the sysctl the policy wants stays
# wrong, the program never runs).  A daemon refuses the same on SIGHUP and
# keeps enforcing the running policy.  A program the agent does run sees
# only fds 0-2.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/daemon-env.sh"
env_enter_ns "$@"

env_setup_root "mode = report
check_interval = 600" "mode = enforce
net.ipv4.conf.all.rp_filter = 1"
sysctl -qw net.ipv4.conf.all.rp_filter=0
P=$T/etc/jefe/policy.d/10-sysctl.conf

# refused TEXT: jefe enforce exits 1 naming TEXT; rp_filter is still 0.
refused() {
	rc=0
	"$JEFE" --root "$T" --direct enforce >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = 1 ] || fail "enforce exited $rc, expected 1 (refused): $(cat "$T/err")"
	grep -qF -- "$1" "$T/err" || fail "enforce did not say '$1': $(cat "$T/err")"
	[ "$(sysctl -n net.ipv4.conf.all.rp_filter)" = 0 ] || fail "a refused policy was applied"
}

chmod 0666 "$P"
chown 65534:65534 "$P"
refused "$P: refused: $P is owned by uid 65534 (only root may own it)"
chown 0:0 "$P"
refused "$P: refused: $P has mode 0666 (writable by others)"
chmod 0644 "$P"
note "a 0666 policy file owned by nobody: refused, nothing applied"

chmod 0777 "$T/etc/jefe/policy.d"
refused "$T/etc/jefe/policy.d has mode 0777 (writable by others)"
chmod 0755 "$T/etc/jefe/policy.d"
chmod 0775 "$T/etc"
refused "$T/etc has mode 0775 (writable by its group)"
chmod 0755 "$T/etc"
note "a 0777 policy.d and a group-writable /etc: refused"

# A link to a file outside /etc/jefe (H stands for a host directory).
H=$(mktemp -d /tmp/jefe-host.XXXXXX)
printf '[sysctl]\nnet.ipv4.ip_forward = 1\n' >"$H/out.conf"
ln -s "$H/out.conf" "$T/etc/jefe/policy.d/50-out.conf"
refused "50-out.conf: refused: a symbolic link to $H/out.conf, outside /etc/jefe"
rm -f "$T/etc/jefe/policy.d/50-out.conf"
rm -rf "$H"
note "a policy.d symlink out of /etc/jefe: refused"

# sshd_path: a group-writable program in otherwise trusted directories
# (a tmpfs over /mnt, visible in this mount namespace only).
mount -t tmpfs -o mode=0755 jefe-test /mnt
mkdir -m 0755 /mnt/bin
cat >/mnt/bin/sshd <<EOF
#!$PYTHON
# The fds this process was started with (the listing's own is closed
# by the time it is looked at); python, unlike a shell, keeps none.
import os
fds = []
for fd in os.listdir("/proc/self/fd"):
    try:
        fds.append(fd + " " + os.readlink("/proc/self/fd/" + fd))
    except OSError:
        pass
with open("$T/sshd-fds", "a") as f:
    f.write("\\n".join(fds) + "\\n")
raise SystemExit(1)
EOF
chmod 0775 /mnt/bin/sshd
printf '[sshd]\nsshd_path = /mnt/bin/sshd\nPermitRootLogin = no\n' >"$T/etc/jefe/policy.d/40-sshd.conf"
refused "sshd_path /mnt/bin/sshd refused: /mnt/bin/sshd has mode 0775 (writable by its group)"
grep -qF "40-sshd.conf line 2:" "$T/err" || fail "the sshd_path error does not name its file and line"
[ ! -e "$T/sshd-fds" ] || fail "the untrusted sshd_path was run"
note "a group-writable sshd_path: refused, never run"

# Trusted now: it runs, and sees only fds 0-2 although jefe itself has
# fd 7 open without close-on-exec (as a leaked netlink socket would be).
chmod 0755 /mnt/bin/sshd
mkdir -p "$T/etc/ssh"
printf 'Include /etc/ssh/sshd_config.d/*.conf\n' >"$T/etc/ssh/sshd_config"
"$JEFE" --root "$T" --direct status --layer sshd >/dev/null 2>&1 7</dev/null || :
[ -s "$T/sshd-fds" ] || fail "the fake sshd did not run"
bad=$(grep -v '^[012] ' "$T/sshd-fds" || :)
[ -z "$bad" ] || fail "a child of the agent inherited fds beyond 0-2: $bad"
rm -f "$T/etc/jefe/policy.d/40-sshd.conf"
umount /mnt
note "a program the agent runs sees fds 0-2 only"

# The daemon: SIGHUP with a 0777 policy.d is refused and logged; the
# running policy is kept and still enforced.
env_start_daemon
[ "$(sysctl -n net.ipv4.conf.all.rp_filter)" = 1 ] || fail "the daemon did not apply the trusted policy"
chmod 0777 "$T/etc/jefe/policy.d"
n=$(log_lines)
kill -HUP "$DAEMON_PID"
wait_log "$n" "reload failed" 5 || fail "no 'reload failed' line after SIGHUP with a 0777 policy.d"
tail -n +"$((n + 1))" "$LOG" | grep "policy error" | grep -qF "policy.d has mode 0777" ||
	fail "the daemon's log does not say why the reload was refused"
alive "$DAEMON_PID" || fail "jefe-setup died on an untrusted policy"
n=$(log_lines)
sysctl -qw net.ipv4.conf.all.rp_filter=0
wait_sysctl net.ipv4.conf.all.rp_filter 1 10 || fail "not enforcing the running policy after a refused reload"
note "SIGHUP with a 0777 policy.d: refused and logged, the running policy kept"
echo "PASS: policy-trust"
