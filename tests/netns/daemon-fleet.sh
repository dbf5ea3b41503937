#!/bin/sh
# SPDX-License-Identifier: MIT
# daemon-fleet.sh - what a fleet collects from one host.  In a private
# network namespace over a temporary root: every JSON form (status,
# status --layer, enforce --dry-run, enforce; directly and through
# jefe-setup; the daemon's status.json) is valid against
# docs/jefe-report.schema.json and names the host, its machine id and the
# policy digest `jefe policy show` prints; the node_exporter textfile the
# daemon writes passes `promtool check metrics` and its counters move as
# two tampers say; contrib's dashboard and alert rules use only metrics the
# daemon writes, and `promtool check rules` accepts the rules.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/daemon-env.sh"
env_enter_ns "$@"

command -v promtool >/dev/null 2>&1 || fail "promtool not found (Debian package prometheus)"
CHECK="$PYTHON $srcdir/tests/netns/report_check.py"
SCHEMA=$srcdir/docs/jefe-report.schema.json

env_setup_root "mode = report
check_interval = 120
status_group = root" "mode = enforce
net.ipv4.tcp_syncookies = 1
net.ipv4.conf.all.rp_filter = 1"
echo fleet-node-7 > "$T/etc/hostname"
MID=0123456789abcdef0123456789abcdef
echo "$MID" > "$T/etc/machine-id"
sysctl -qw net.ipv4.tcp_syncookies=0

DIGEST=$("$JEFE" policy show --root "$T" | sed -n 's/^# policy_digest \([0-9a-f]\{64\}\)$/\1/p')
[ -n "$DIGEST" ] || fail "jefe policy show prints no policy_digest"

# 1. Directly (no daemon yet).
"$JEFE" status --root "$T" --json > "$T/d-status.json" || [ $? = 2 ] || fail "direct status failed"
"$JEFE" status --root "$T" --layer sysctl --json > "$T/d-status-layer.json" || [ $? = 2 ] ||
	fail "direct status --layer failed"
"$JEFE" enforce --root "$T" --dry-run --json > "$T/d-dry.json" || [ $? = 2 ] || fail "direct dry run failed"
"$JEFE" enforce --root "$T" --layer sysctl --json > "$T/d-enforce.json" || [ $? = 2 ] || fail "direct enforce failed"
grep -q '"kind":"dry-run"\|"kind": "dry-run"' "$T/d-dry.json" || fail "the dry run does not say kind dry-run"
sysctl -qw net.ipv4.tcp_syncookies=0

# 2. Through the daemon.
env_start_daemon
n=$(log_lines)
"$JEFE" status --root "$T" --json > "$T/s-status.json" || [ $? = 2 ] || fail "status via the daemon failed"
"$JEFE" status --root "$T" --layer sysctl --json > "$T/s-status-layer.json" || [ $? = 2 ] ||
	fail "status --layer via the daemon failed"
"$JEFE" enforce --root "$T" --dry-run --json > "$T/s-dry.json" || [ $? = 2 ] || fail "dry run via the daemon failed"
"$JEFE" enforce --root "$T" --layer sysctl --json > "$T/s-enforce.json" || [ $? = 2 ] ||
	fail "enforce via the daemon failed"
[ "$(tail -n +"$((n + 1))" "$LOG" | grep -c 'request uid=0 command=enforce')" = 2 ] ||
	fail "the enforce requests did not go through the daemon"

STATUS=$T/var/lib/jefe/status.json
[ -f "$STATUS" ] || fail "the daemon wrote no $STATUS"
[ "$(stat -c '%a %U:%G' "$STATUS")" = "640 root:root" ] ||
	fail "$STATUS is $(stat -c '%a %U:%G' "$STATUS"), expected 640 root:root"
$CHECK schema "$SCHEMA" fleet-node-7 "$MID" "$DIGEST" "$T"/d-*.json "$T"/s-*.json "$STATUS" ||
	fail "a report does not match the schema"

# 3. Metrics: two tampers, two drifts, two repairs.
PROM=$T/var/lib/node_exporter/textfile_collector/jefe.prom
[ -f "$PROM" ] || fail "the daemon wrote no $PROM"
promtool check metrics < "$PROM" || fail "promtool check metrics: $(promtool check metrics < "$PROM" 2>&1)"
metric() { $CHECK metric "$PROM" "$1" "$2"; }
d0=$(metric jefe_drift_total 'layer="sysctl"')
r0=$(metric jefe_repairs_total 'layer="sysctl",result="repaired"')
[ "$(metric jefe_info "agent_version=\"$("$JEFE" --version | cut -d' ' -f2)\",policy_digest=\"$DIGEST\"")" = 1 ] ||
	fail "jefe_info does not carry the version and digest"
for key in net.ipv4.tcp_syncookies net.ipv4.conf.all.rp_filter; do
	n=$(log_lines)
	sysctl -qw "$key=0"
	wait_log "$n" "drift layer=sysctl item=$key " 10 || fail "no drift line for $key"
	wait_sysctl "$key" 1 5 || fail "$key not repaired"
done
sleep 0.3
promtool check metrics < "$PROM" || fail "promtool check metrics after the tampers"
d1=$(metric jefe_drift_total 'layer="sysctl"')
r1=$(metric jefe_repairs_total 'layer="sysctl",result="repaired"')
[ "$((d1 - d0))" = 2 ] || fail "jefe_drift_total moved by $((d1 - d0)), expected 2"
[ "$((r1 - r0))" = 2 ] || fail "jefe_repairs_total{result=repaired} moved by $((r1 - r0)), expected 2"
[ "$(metric jefe_layer_compliant 'layer="sysctl"')" = 1 ] || fail "sysctl not compliant in the metrics"
now=$(date +%s)
t=$(metric jefe_last_check_timestamp_seconds 'layer="sysctl"')
[ $((now - t)) -le 5 ] || fail "last check is $((now - t)) s old"
note "metrics: drift $d0 -> $d1, repaired $r0 -> $r1 after two tampers"

# 4. contrib: only metrics the daemon writes; rules promtool accepts.
$CHECK contrib "$PROM" "$srcdir/contrib/grafana/jefe-dashboard.json" \
	"$srcdir/contrib/prometheus/jefe-alerts.yml" || fail "contrib uses unknown metrics"
promtool check rules "$srcdir/contrib/prometheus/jefe-alerts.yml" >/dev/null ||
	fail "promtool check rules: $(promtool check rules "$srcdir/contrib/prometheus/jefe-alerts.yml" 2>&1)"

# 5. metrics_file empty: no file.
stop_daemon
rm -f "$PROM"
printf 'metrics_file =\n' >> "$T/etc/jefe/jefe.conf"
env_start_daemon
[ -f "$STATUS" ] || fail "no status.json"
[ ! -e "$PROM" ] || fail "metrics written although metrics_file is empty"
stop_daemon
echo "PASS: daemon-fleet"
