#!/bin/sh
# SPDX-License-Identifier: MIT
# firewall-daemon.sh - jefe-setup keeps table inet jefe in a private network
# namespace: each tamper (nft flush ruleset, nft delete rule, nft add rule
# ... accept, a chain policy changed, the table set dormant) raises an
# NFNLGRP_NFTABLES event, is logged as one drift line with its item and
# repaired; nft(8) witnesses the repair.  A base chain in another table
# is logged at once, once, as cannot-fix, and that table is left alone.  Prints the measured latencies.  The daemon's own repair
# must not wake it again, and it must sit idle (no CPU) in between.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/daemon-env.sh"
. "$srcdir/tests/netns/firewall-lib.sh"
env_enter_ns "$@"
fw_need
ip link set lo up
[ -z "$(nft list ruleset)" ] || fail "the new network namespace already has a ruleset"

# Other layers only report (they check T, read only); the firewall enforces.
# check_interval far above every wait: repairs come from events, not the timer.
env_setup_root "mode = report
check_interval = 120" ""
cp "$srcdir/policies/policy.d/30-firewall.conf" "$T/etc/jefe/policy.d/"
printf 'mode = enforce\n' >> "$T/etc/jefe/policy.d/30-firewall.conf"
[ ! -f "$srcdir/policies/audit.rules" ] || cp "$srcdir/policies/audit.rules" "$T/etc/jefe/"

env_start_daemon
fw_golden firewall-default.json
grep -qE 'applied layer=firewall items=[1-9]' "$LOG" ||
	fail "the start did not log the creation of the table"
note "start: table inet jefe created, matches the golden dump"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat"; }

# tamper ITEM CMD...: one drift line for ITEM with action=repaired, and nft
# shows the golden ruleset again.
SUMMARY=
tamper() {
	item=$1
	shift
	sleep 0.2	# let the previous repair's events settle
	n=$(log_lines)
	t0=$(now_ms)
	"$@" || fail "tamper '$*' failed"
	t1=$(now_ms)
	wait_log "$n" "drift layer=firewall item=$item" 5 ||
		fail "no drift line for $item within 5 s of '$*' (check_interval is 120 s)"
	t2=$(now_ms)
	deadline=$((t2 + 5000))
	until fw_json jefe | cmp -s "$GOLDEN/firewall-default.json" -; do
		[ "$(now_ms)" -lt "$deadline" ] || fail "'$*': nft does not show the repaired ruleset within 5 s"
		sleep 0.005
	done
	t3=$(now_ms)
	tail -n +"$((n + 1))" "$LOG" | grep -F "drift layer=firewall item=$item" | grep -qF "action=repaired" ||
		fail "'$*': drift logged but not repaired: $(tail -n +"$((n + 1))" "$LOG")"
	sleep 0.3
	lines=$(tail -n +"$((n + 1))" "$LOG" | grep -c 'drift layer=firewall' || :)
	[ "$lines" = 1 ] || fail "'$*' gave $lines drift lines, expected 1 (own transaction not ignored?):
$(tail -n +"$((n + 1))" "$LOG")"
	note "'$*': drift line (logged after the repair was read back) in $((t2 - t1)) ms; nft(8) confirmed the repair by $((t3 - t1)) ms (includes its own polling)"
	SUMMARY="$SUMMARY $((t2 - t1))"
	[ $((t2 - t1)) -lt 2000 ] || fail "'$*': reported only after $((t2 - t1)) ms"
}

h=$(fw_handle input "tcp dport 22")
tamper '"chain input rule 16"' nft delete rule inet jefe input handle "$h"
tamper '"chain input unexpected rule handle' nft add rule inet jefe input accept
tamper '"chain input policy"' nft chain inet jefe input '{ policy accept; }'
tamper '"table flags"' nft add table inet jefe '{ flags dormant; }'
tamper 'table' nft flush ruleset

# Idle in between: no CPU time used over one quiet second.
c0=$(cpu_ticks)
sleep 1
c1=$(cpu_ticks)
[ $((c1 - c0)) -le 1 ] || fail "jefe-setup used $((c1 - c0)) ticks of CPU while idle (busy polling?)"
note "idle: $((c1 - c0)) CPU ticks in 1 s"

# Changes to other tables are not the firewall's business: no drift line.
n=$(log_lines)
nft add table ip other
nft add chain ip other c
sleep 0.3
! tail -n +"$((n + 1))" "$LOG" | grep -q 'drift layer=firewall' ||
	fail "a regular chain in another table was reported as firewall drift"

# A base chain there sees our packets: an event, one drift line naming it,
# cannot-fix (jefe never changes another table), not repeated by the next
# event, and the chain is still there.
n=$(log_lines)
t0=$(now_ms)
nft add chain ip other in '{ type filter hook input priority -10; policy accept; }'
wait_log "$n" 'drift layer=firewall item="foreign:ip other/in"' 5 ||
	fail "no drift line for another table's base chain within 5 s (check_interval is 120 s)"
t1=$(now_ms)
tail -n +"$((n + 1))" "$LOG" | grep -F 'item="foreign:ip other/in"' | grep -qF 'action=cannot-fix' ||
	fail "the foreign chain was not logged as cannot-fix: $(tail -n +"$((n + 1))" "$LOG")"
nft add chain ip other c2
sleep 0.5
lines=$(tail -n +"$((n + 1))" "$LOG" | grep -c 'foreign:ip other/in' || :)
[ "$lines" = 1 ] || fail "the foreign chain was logged $lines times, expected once:
$(tail -n +"$((n + 1))" "$LOG")"
nft list chain ip other in >/dev/null || fail "the daemon removed another table's chain"
fw_json jefe | cmp -s "$GOLDEN/firewall-default.json" - || fail "table inet jefe changed"
note "foreign base chain: logged once as cannot-fix in $((t1 - t0)) ms, left in place"

stop_daemon
note "detection latencies (ms):$SUMMARY"
echo "PASS: firewall-daemon"
