#!/bin/sh
# SPDX-License-Identifier: MIT
# daemon-contested.sh - a process that keeps undoing a repair: for 10 s a
# loop writes net.ipv4.tcp_syncookies=0 behind the daemon's back.  The
# daemon keeps repairing, but logs a bounded number of lines (the first
# repairs, then one `contested` line with a count, not a line per
# repair), and `jefe status` reports the item as contested (text and
# JSON, exit 2) while the fight goes on.  sysctl(8) witnesses the repair.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/daemon-env.sh"
env_enter_ns "$@"

env_setup_root "mode = report
check_interval = 120" "mode = enforce
net.ipv4.tcp_syncookies = 1"
env_start_daemon
wait_sysctl net.ipv4.tcp_syncookies 1 5 || fail "the start did not enforce tcp_syncookies"

n=$(log_lines)
end=$(( $(now_ms) + 10000 ))
writes=0
while [ "$(now_ms)" -lt "$end" ]; do
	sysctl -qw net.ipv4.tcp_syncookies=0
	writes=$((writes + 1))
	sleep 0.02
done
# The daemon repairs the last write too.
wait_sysctl net.ipv4.tcp_syncookies 1 5 || fail "the last undo was not repaired"
sleep 0.5
fight=$(tail -n +"$((n + 1))" "$LOG")
lines=$(echo "$fight" | grep -c . || :)
repairs=$(echo "$fight" | grep -c "drift layer=sysctl item=net.ipv4.tcp_syncookies .*action=repaired" || :)
note "$writes undoing writes in 10 s; $lines log lines, $repairs of them drift lines"
[ "$lines" -le 12 ] || fail "a 10 s fight gave $lines log lines (bound: 12):
$fight"
echo "$fight" | grep -q "contested layer=sysctl item=net.ipv4.tcp_syncookies repairs=[0-9]" ||
	fail "no 'contested ... repairs=N' line:
$fight"
[ "$repairs" -ge 1 ] && [ "$repairs" -le 4 ] ||
	fail "expected the first 1-4 repairs logged before the contested line, got $repairs"
# The fight was real: the daemon repaired many times (each undo was seen).
alive "$DAEMON_PID" || fail "jefe-setup died during the fight"

# jefe status, through the daemon: contested in JSON and text, exit 2.
src=0
"$JEFE" status --root "$T" --layer sysctl --json > "$T/st.json" 2>"$T/st.err" || src=$?
[ "$src" = 2 ] || fail "jefe status --json exited $src during a fight, expected 2: $(cat "$T/st.json" "$T/st.err")"
"$PYTHON" - "$T/st.json" <<'PY' || fail "status JSON does not report the item as contested: $(cat "$T/st.json")"
import json, sys
doc = json.load(open(sys.argv[1]))
f = [x for x in doc["findings"] if x["item"] == "net.ipv4.tcp_syncookies"]
assert f and f[0].get("contested", 0) >= 5, f
assert doc["compliant"] is False
assert doc["summary"].get("contested") == 1, doc["summary"]
l = [x for x in doc["layers"] if x["name"] == "sysctl"]
assert l and l[0]["state"] == "contested", l
print("# contested: repaired %d times" % f[0]["contested"])
PY
src=0
"$JEFE" status --root "$T" --layer sysctl > "$T/st.txt" 2>&1 || src=$?
[ "$src" = 2 ] || fail "jefe status exited $src during a fight, expected 2"
grep -q "^  contested   sysctl:net.ipv4.tcp_syncookies" "$T/st.txt" ||
	fail "the text status does not show the item as contested: $(cat "$T/st.txt")"
grep -q "repaired [0-9]* times in a row: something keeps undoing it" "$T/st.txt" ||
	fail "the text status does not give the count: $(cat "$T/st.txt")"
grep -q "^NOT COMPLIANT: .*, 1 contested$" "$T/st.txt" ||
	fail "the summary does not count the contested item: $(cat "$T/st.txt")"
cat "$T/st.txt" | sed 's/^/# /'

stop_daemon
sed "s/^/# log: /" "$LOG"
echo "PASS: daemon-contested"
