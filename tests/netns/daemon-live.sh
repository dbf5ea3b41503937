#!/bin/sh
# SPDX-License-Identifier: MIT
# daemon-live.sh - `jefe status` through jefe-setup answers from the
# daemon's live state, and that state never predates a change made before
# the request.  In a private network namespace over a temporary root, with
# every layer in report mode (nothing is repaired, so each change stays):
# - a net.* key written by sysctl(8) and, at once, `jefe status --json`:
#   the answer shows the new value, 20 times in a row, each write followed
#   by the request without any wait (the debounce timer alone would answer
#   10 ms late; the request drains the pending inotify events first);
# - the same for the firewall: `nft add rule` into table inet jefe, then at
#   once `jefe status --layer firewall` shows the drift (netlink event);
# - without a change, two answers come from the same pass (checked_at and
#   verified_by unchanged, no new check); `--fresh` re-checks (verified_by
#   "request", checked_at no older than the request);
# - every layer of every answer carries checked_at and verified_by, and the
#   documents are valid against docs/jefe-report.schema.json.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/daemon-env.sh"
. "$srcdir/tests/netns/firewall-lib.sh"
env_enter_ns "$@"
fw_need
ip link set lo up

CHECK="$PYTHON $srcdir/tests/netns/report_check.py"
SCHEMA=$srcdir/docs/jefe-report.schema.json
KEY=net.ipv4.tcp_syncookies

env_setup_root "mode = report
check_interval = 3600" "net.ipv4.tcp_syncookies = 1
net.ipv4.conf.all.rp_filter = 1"
cp "$srcdir/policies/policy.d/30-firewall.conf" "$T/etc/jefe/policy.d/"
echo live-node > "$T/etc/hostname"
MID=00112233445566778899aabbccddeeff
echo "$MID" > "$T/etc/machine-id"
sysctl -qw "$KEY=1" net.ipv4.conf.all.rp_filter=1
# The firewall only reports here: give it its table, then watch it.
"$JEFE" --direct --root "$T" enforce --layer firewall >/dev/null || fail "direct enforce of the firewall failed"
DIGEST=$("$JEFE" policy show --root "$T" | sed -n 's/^# policy_digest \([0-9a-f]\{64\}\)$/\1/p')

env_start_daemon --debug

# field FILE LAYER KEY: a layer's field of a report document.
field() {
	"$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print([l for l in d["layers"] if l["name"] == sys.argv[2]][0][sys.argv[3]])' "$1" "$2" "$3"
}
# item_state FILE ID: the state of one finding ("absent" when there is none).
item_state() {
	"$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(([f["state"] for f in d["findings"] if f["id"] == sys.argv[2]] or ["absent"])[0])' "$1" "$2"
}
status_json() { "$JEFE" status --root "$T" --json "$@" > "$OUT" || [ $? = 2 ] || fail "jefe status $* failed"; }

# 1. Answers from the state: no check per request.
OUT=$T/s-start.json
status_json
[ "$(field "$OUT" sysctl verified_by)" = start ] ||
	fail "sysctl verified_by $(field "$OUT" sysctl verified_by), expected start"
at0=$(field "$OUT" sysctl checked_at)
cp "$OUT" "$T/s-first.json"
sleep 1.1
OUT=$T/s-again.json
status_json
[ "$(field "$OUT" sysctl checked_at)" = "$at0" ] ||
	fail "a status without a change re-checked: checked_at $at0 -> $(field "$OUT" sysctl checked_at)"
[ "$(field "$OUT" sysctl verified_by)" = start ] || fail "verified_by changed without a change"
note "two answers without a change: same pass (checked_at $at0, verified_by start)"

# 2. A change made just before the request is in the answer, every time.
i=0
while [ $i -lt 20 ]; do
	v=$((i % 2)); want=drift; [ $v = 1 ] && want=compliant
	OUT=$T/s-race.json
	sysctl -qw "$KEY=$v"
	"$JEFE" status --root "$T" --layer sysctl --json > "$OUT" || [ $? = 2 ] || fail "status failed"
	got=$(item_state "$OUT" "sysctl:$KEY")
	[ "$got" = "$want" ] || fail "round $i: $KEY=$v written before the request, status says $got (want $want)"
	[ "$(field "$OUT" sysctl verified_by)" = event ] ||
		fail "round $i: verified_by $(field "$OUT" sysctl verified_by), expected event"
	i=$((i + 1))
done
cp "$OUT" "$T/s-event.json"
note "20 writes each followed at once by jefe status: every answer had the new value (verified_by event)"

# The same while the daemon is busy: request A waits in the socket's
# backlog before the write, request B after it.  The daemon then sees the
# listening socket ready before the inotify event and serves both requests
# before returning to epoll: B must still show the write (the request
# drains the queued events itself).
for v in 0 1; do
	want=drift; [ $v = 1 ] && want=compliant
	kill -STOP "$DAEMON_PID"
	"$JEFE" status --root "$T" --layer sysctl --json > "$T/s-busy-a.json" 2>&1 &
	pa=$!
	sleep 0.3
	sysctl -qw "$KEY=$v"
	"$JEFE" status --root "$T" --layer sysctl --json > "$T/s-busy-b.json" 2>&1 &
	pb=$!
	sleep 0.3
	kill -CONT "$DAEMON_PID"
	wait "$pa" || [ $? = 2 ] || fail "request A failed: $(cat "$T/s-busy-a.json")"
	wait "$pb" || [ $? = 2 ] || fail "request B failed: $(cat "$T/s-busy-b.json")"
	got=$(item_state "$T/s-busy-b.json" "sysctl:$KEY")
	[ "$got" = "$want" ] ||
		fail "busy daemon: $KEY=$v written before request B, B says $got (want $want)"
done
note "busy daemon: a request queued behind another still saw the write made before it"

# The firewall's netlink events: drift at once, and back.
OUT=$T/s-fw.json
nft add rule inet jefe input tcp dport 4444 accept || fail "nft add rule failed"
status_json --layer firewall
[ "$(field "$OUT" firewall state)" = drift ] ||
	fail "nft add rule just before the request: firewall is $(field "$OUT" firewall state)"
[ "$(field "$OUT" firewall verified_by)" = event ] || fail "firewall verified_by is not event"
cp "$OUT" "$T/s-fw-drift.json"
h=$(nft -a list chain inet jefe input | sed -n 's/.*dport 4444 accept # handle \([0-9]*\)/\1/p')
nft delete rule inet jefe input handle "$h" || fail "nft delete rule failed"
status_json --layer firewall
[ "$(field "$OUT" firewall state)" = compliant ] ||
	fail "the stray rule deleted just before the request: firewall is $(field "$OUT" firewall state)"
note "firewall: a rule added and deleted, each just before a request, shown at once"

# 3. --fresh re-checks now.
sleep 1.1
n=$(log_lines)
before=$(date -u +%Y-%m-%dT%H:%M:%SZ)
OUT=$T/s-fresh.json
status_json --fresh
[ "$(field "$OUT" sysctl verified_by)" = request ] || fail "--fresh: verified_by $(field "$OUT" sysctl verified_by)"
[ "$(field "$OUT" firewall verified_by)" = request ] || fail "--fresh: firewall not re-checked"
at=$(field "$OUT" sysctl checked_at)
[ "$at" \> "$before" ] || [ "$at" = "$before" ] || fail "--fresh: checked_at $at predates the request ($before)"
tail -n +"$((n + 1))" "$LOG" | grep -q 'command=status layer=all fresh=yes' ||
	fail "the daemon did not log the --fresh request"
"$JEFE" enforce --root "$T" --fresh >/dev/null 2>&1 && fail "enforce --fresh accepted"
[ $? = 64 ] || fail "enforce --fresh: exit status is not the usage error"
note "--fresh: verified_by request, checked_at $at (request at $before)"

# 4. The documents are valid reports, each layer with its own checked_at and verified_by.
$CHECK schema "$SCHEMA" live-node "$MID" "$DIGEST" "$T"/s-first.json "$T"/s-again.json \
	"$T"/s-event.json "$T"/s-fw-drift.json "$T"/s-fresh.json "$T/var/lib/jefe/status.json" ||
	fail "a live answer does not match the schema"
stop_daemon
echo "PASS: daemon-live"
