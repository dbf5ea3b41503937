#!/bin/sh
# SPDX-License-Identifier: MIT
# files-daemon.sh - jefe-setup keeps layer 6 in place by itself: against a
# temporary root (in private net + mount namespaces, see daemon-env.sh),
# a `chmod 666 /etc/shadow` and an edit of the modprobe.d file behind the
# daemon's back are seen through inotify well before the backstop timer,
# logged as drift and repaired.  stat(1) and cmp(1) are the witnesses.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/daemon-env.sh"
env_enter_ns "$@"

# check_interval far above the waits below: a repair within them is the
# inotify watch, not the timer.  Every other layer only checks.
env_setup_root "mode = report
check_interval = 600" ""
cat >"$T/etc/jefe/policy.d/20-modules.conf" <<'P'
[modules]
mode = enforce
blacklist = cramfs udf
verify_unloaded = no
P
cat >"$T/etc/jefe/policy.d/60-files.conf" <<'P'
[files]
mode = enforce
suid_dirs =
world_writable_dirs =
tmp_mounts =
[files.perms]
/etc/shadow = 0640
/etc/ssh/ssh_host_*_key = 0600
P
printf 'root:*:19000:0:99999:7:::\n' >"$T/etc/shadow"
chmod 0644 "$T/etc/shadow"	# wrong from the start: the start repairs it
mkdir -p "$T/etc/ssh"
printf 'k\n' >"$T/etc/ssh/ssh_host_ed25519_key"
chmod 0600 "$T/etc/ssh/ssh_host_ed25519_key"

env_start_daemon
[ "$(stat -c %a "$T/etc/shadow")" = 640 ] || fail "the start did not repair /etc/shadow ($(stat -c %a "$T/etc/shadow"))"
[ -f "$T/etc/modprobe.d/jefe-blacklist.conf" ] || fail "the start did not write the modprobe.d file"
cp "$T/etc/modprobe.d/jefe-blacklist.conf" "$T/mp.good"

# wait_mode PATH MODE SECONDS
wait_mode() {
	deadline=$(( $(now_ms) + $3 * 1000 ))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		[ "$(stat -c %a "$1")" = "$2" ] && return 0
		sleep 0.01
	done
	return 1
}

# 1. chmod 666 /etc/shadow behind the daemon's back.
n=$(log_lines)
t0=$(now_ms)
chmod 666 "$T/etc/shadow"
wait_mode "$T/etc/shadow" 640 10 || fail "chmod 666 /etc/shadow not repaired within 10 s"
note "chmod 666 /etc/shadow repaired in $(( $(now_ms) - t0 )) ms"
wait_log "$n" "item=perm:/etc/shadow" 5 || fail "the repair of /etc/shadow was not logged"

# 2. A host key made readable, in a directory that existed at start.
t0=$(now_ms)
chmod 644 "$T/etc/ssh/ssh_host_ed25519_key"
wait_mode "$T/etc/ssh/ssh_host_ed25519_key" 600 10 || fail "host key mode not repaired within 10 s"
note "host key chmod repaired in $(( $(now_ms) - t0 )) ms"

# 3. The managed modprobe.d file emptied: rewritten.
t0=$(now_ms)
: >"$T/etc/modprobe.d/jefe-blacklist.conf"
deadline=$(( $(now_ms) + 10000 ))
until cmp -s "$T/etc/modprobe.d/jefe-blacklist.conf" "$T/mp.good"; do
	[ "$(now_ms)" -lt "$deadline" ] || fail "emptied modprobe.d file not restored within 10 s"
	sleep 0.01
done
note "emptied modprobe.d file restored in $(( $(now_ms) - t0 )) ms"

stop_daemon
echo "PASS: files-daemon"
