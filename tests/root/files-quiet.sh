#!/bin/sh
# SPDX-License-Identifier: MIT
# files-quiet.sh - the files layer's watches are for the entries its
# checks read.  What is written beside them asks for no check: the
# daemon's own status.json in /var/lib/jefe (next to files.sha256, after
# every pass) and an editor's swap file beside /etc/passwd; a change of a
# managed entry does.  Temporary root, private namespaces (daemon-env.sh),
# jefe-setup with --debug (each pass logs `checked layer=files by=...`),
# a backstop of 600 s:
# - 20 `jefe status` through the daemon: no files pass after the start's
#   (before the filter, with the whole shipped policy, each request found
#   the files layer dirty from the status.json written after the previous
#   pass, re-checked it and wrote status.json again, and an idle daemon
#   did so every 100 ms: docs/BENCHMARKS.md);
# - /etc/.passwd.swp written: no files pass (the build before the filter
#   fails here);
# - root's shell history written in /root (root_umask reads root's
#   start-up files there): no files pass (the build that watched every
#   entry of /root fails here);
# - chmod 0666 /etc/passwd (a [files.perms] path): a files pass and its
#   drift line;
# - `umask 022` appended to /etc/bash.bashrc in place (a file the umask
#   check reads, not a managed path): a files pass and its drift line;
# - `umask 022` appended to /root/.profile: a files pass and its drift line.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/daemon-env.sh"
env_enter_ns "$@"

env_setup_root "mode = report
check_interval = 600" ""
# The configured directories (distcheck's prefix is not /usr).
POLICY_D=$T${JEFE_SYSCONFDIR:-/etc}/jefe/policy.d
STATE=${JEFE_LOCALSTATEDIR:-/var}/lib/jefe
mkdir -p "$POLICY_D"
mkdir -p "$T/usr/local/bin"
echo 'root:x:0:0:root:/root:/bin/sh' > "$T/etc/passwd"
echo 'root:x:0:' > "$T/etc/group"
chmod 0644 "$T/etc/passwd" "$T/etc/group"
echo 'umask 027' > "$T/etc/profile"
echo '# bash' > "$T/etc/bash.bashrc"
mkdir -p "$T/root"
chmod 0700 "$T/root"
echo 'umask 027' > "$T/root/.profile"
cat >"$POLICY_D/60-files.conf" <<P
[files]
suid_dirs = /usr/local/bin
world_writable_dirs = /usr/local
tmp_mounts =
baseline = /etc/passwd
profile_umask = 027
root_umask = 027
[files.perms]
/etc/passwd = 0644 root root
$STATE = 0700 root root
P

files_passes() { grep -c "checked layer=files " "$LOG" || :; }

env_start_daemon --debug
# The start's pass wrote status.json: its events are queued by now.
sleep 1
[ -f "$T$STATE/status.json" ] || fail "the start wrote no status.json in $STATE"
n0=$(files_passes)
[ "$n0" -ge 1 ] || fail "no 'checked layer=files' line: is --debug logging?"

i=0
while [ $i -lt 20 ]; do
	"$JEFE" --root "$T" status > "$T/status.txt" 2>&1 || :
	grep -q "files" "$T/status.txt" || fail "jefe status gave no files layer: $(cat "$T/status.txt")"
	i=$((i + 1))
done
sleep 0.5
n1=$(files_passes)
[ "$n1" -eq "$n0" ] ||
	fail "20 status requests made $((n1 - n0)) files passes (the daemon's own status.json is no news)"

echo swap > "$T/etc/.passwd.swp"
sleep 0.5
n2=$(files_passes)
[ "$n2" -eq "$n1" ] || fail "a swap file beside /etc/passwd made $((n2 - n1)) files passes"

for h in .ash_history .bash_history .lesshst; do
	echo 'jefe status' >> "$T/root/$h"
done
sleep 0.5
nh=$(files_passes)
[ "$nh" -eq "$n2" ] || fail "root's shell history in /root made $((nh - n2)) files passes"

n=$(log_lines)
chmod 0666 "$T/etc/passwd"
wait_log "$n" "layer=files item=perm:/etc/passwd " 10 ||
	fail "chmod 0666 /etc/passwd: no drift line within 10 s (backstop: 600 s)"
n3=$(files_passes)
[ "$n3" -gt "$nh" ] || fail "chmod of /etc/passwd made no files pass"

n=$(log_lines)
echo 'umask 022' >> "$T/etc/bash.bashrc"
wait_log "$n" "layer=files item=profile:umask " 10 ||
	fail "umask 022 in /etc/bash.bashrc: no drift line within 10 s (backstop: 600 s)"
n4=$(files_passes)
[ "$n4" -gt "$n3" ] || fail "an edit of /etc/bash.bashrc made no files pass"

n=$(log_lines)
echo 'umask 022' >> "$T/root/.profile"
wait_log "$n" "layer=files item=root:umask " 10 ||
	fail "umask 022 in /root/.profile: no drift line within 10 s (backstop: 600 s)"
n5=$(files_passes)
[ "$n5" -gt "$n4" ] || fail "an edit of /root/.profile made no files pass"
alive "$DAEMON_PID" || fail "jefe-setup died"
note "status requests: $((n1 - n0)) files passes; swap file: $((n2 - n1)); root's history: $((nh - n2)); chmod: $((n3 - nh)); bash.bashrc: $((n4 - n3)); /root/.profile: $((n5 - n4))"
stop_daemon
echo "PASS: files-quiet"
