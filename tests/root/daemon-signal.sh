#!/bin/sh
# SPDX-License-Identifier: MIT
# daemon-signal.sh - a signal without noise: the first pass of jefe-setup
# over a temporary root with several wrong items logs one `applied` line
# per layer and no `drift` line; a later tamper of an item the daemon had
# seen compliant logs `drift ... action=repaired`; and one `chmod 666` of a file that is both a perm and a
# world-writable finding logs two `repaired` lines and no `failed`, the
# outcome of each being decided by the check made after the repair; a
# reload that tightens the policy logs `applied`, not drift.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/daemon-env.sh"
env_enter_ns "$@"

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
world_writable_dirs = /etc
tmp_mounts =
[files.perms]
/etc/shadow = 0640
/etc/ssh/ssh_host_*_key = 0600
P
printf 'root:*:19000:0:99999:7:::\n' >"$T/etc/shadow"
chmod 0644 "$T/etc/shadow"
mkdir -p "$T/etc/ssh"
printf 'k\n' >"$T/etc/ssh/ssh_host_ed25519_key"
chmod 0644 "$T/etc/ssh/ssh_host_ed25519_key"

# 1. The first pass: three wrong items, no drift line at all.
env_start_daemon
[ "$(stat -c %a "$T/etc/shadow")" = 640 ] || fail "the start did not repair /etc/shadow"
[ "$(stat -c %a "$T/etc/ssh/ssh_host_ed25519_key")" = 600 ] || fail "the start did not repair the host key"
grep -qE "applied layer=files items=2( |$)" "$LOG" ||
	fail "no 'applied layer=files items=2' line: $(grep -E 'applied|drift' "$LOG" || :)"
grep -qE "applied layer=modules items=[1-9]" "$LOG" || fail "no 'applied layer=modules' line"
! grep -q "drift layer=" "$LOG" || fail "the first pass logged drift: $(grep 'drift layer=' "$LOG")"
note "first pass: $(grep -c 'applied layer=' "$LOG") applied lines, no drift line"

wait_mode() {
	deadline=$(( $(now_ms) + $3 * 1000 ))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		[ "$(stat -c %a "$1")" = "$2" ] && return 0
		sleep 0.01
	done
	return 1
}

# 2. A tamper of an item seen compliant is drift, repaired.
n=$(log_lines)
chmod 644 "$T/etc/ssh/ssh_host_ed25519_key"
wait_mode "$T/etc/ssh/ssh_host_ed25519_key" 600 10 || fail "host key mode not repaired"
wait_log "$n" "drift layer=files item=perm:/etc/ssh/ssh_host_ed25519_key " 5 || fail "no drift line for the host key"
line=$(tail -n +"$((n + 1))" "$LOG" | grep -F "item=perm:/etc/ssh/ssh_host_ed25519_key " | head -1)
echo "$line" | grep -q "action=repaired" || fail "host key drift not repaired: $line"
! tail -n +"$((n + 1))" "$LOG" | grep -q "applied layer=" || fail "a tamper was logged as applied"

# 3. One chmod, two findings, two repairs.
n=$(log_lines)
chmod 666 "$T/etc/shadow"
wait_mode "$T/etc/shadow" 640 10 || fail "chmod 666 /etc/shadow not repaired"
wait_log "$n" "item=world-writable:/etc/shadow " 5 || fail "no line for world-writable:/etc/shadow"
wait_log "$n" "item=perm:/etc/shadow " 5 || fail "no line for perm:/etc/shadow"
sleep 0.5
new=$(tail -n +"$((n + 1))" "$LOG")
[ "$(echo "$new" | grep -c 'drift layer=files item=\(perm\|world-writable\):/etc/shadow .*action=repaired')" = 2 ] ||
	fail "expected two repaired lines: $new"
! echo "$new" | grep -q "action=failed" || fail "a false failed: $new"

# 4. A reload that tightens the policy is the policy being applied: one
#    applied line, no drift line.
n=$(log_lines)
sed -i 's|^/etc/shadow = 0640$|/etc/shadow = 0600|' "$T/etc/jefe/policy.d/60-files.conf"
"$JEFE" reload --root "$T" >/dev/null || fail "jefe reload failed"
wait_mode "$T/etc/shadow" 600 10 || fail "the reload did not apply /etc/shadow = 0600"
wait_log "$n" "applied layer=files items=1" 5 || fail "no 'applied layer=files items=1' after the reload"
! tail -n +"$((n + 1))" "$LOG" | grep -q "drift layer=" || fail "the reload logged drift: $(tail -n +"$((n + 1))" "$LOG")"

stop_daemon
echo "PASS: daemon-signal"
