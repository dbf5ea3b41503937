#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/sshd.sh BUILDDIR - what the sshd layer costs, against sshd itself.
#
#   1. a full check (`jefe status --layer sshd`: sshd -T, one sshd -T -C
#      per Match block, modes, reload) vs one `sshd -T` (hyperfine -N);
#   2. the daemon: N tampers (chmod 666 sshd_config, then the drop-in
#      deleted, in turn), time from the tamper to the drift line
#      that says it was repaired;
#   3. the same in report mode: time to the drift line (detection alone).
#
# Runs as root in a private mount+network namespace (tests/sshd/sshd-env.sh);
# the host's /etc and sshd are never touched.
set -eu
abs_top_builddir=$(cd "${1:?usage: bench/sshd.sh BUILDDIR}" && pwd)
abs_top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
export abs_top_builddir abs_top_srcdir
. "$abs_top_srcdir/tests/sshd/sshd-env.sh"
sshd_enter_ns "$@"
. "$srcdir/tests/lib/daemon-env.sh"
command -v hyperfine >/dev/null || fail "hyperfine not installed"
N=${N:-20}
sshd_setup
jefe_sshd enforce > /dev/null
printf 'Match User %s\n\tX11Forwarding no\n' "$TUSER" >> /etc/ssh/sshd_config
jefe_sshd enforce > /dev/null

echo "== 1. full check vs sshd -T"
hyperfine -N -w 3 -r 30 --export-json "$T/h.json" \
	"$SSHD -T -f /etc/ssh/sshd_config" \
	"$JEFE --root $T --direct status --layer sshd" > /dev/null
"$PYTHON" - "$T/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
b, j = r[0]["mean"] * 1e3, r[1]["mean"] * 1e3
print(f"sshd -T: {b:.1f} ms   jefe status --layer sshd: {j:.1f} ms   ratio {j / b:.2f}x")
PY

echo "== 2. daemon: tamper -> repaired drift line, $N tampers"
printf '[agent]\nmode = report\ncheck_interval = 120\n' > "$T/etc/jefe/jefe.conf"
printf '[sshd]\nmode = enforce\n' > "$T/etc/jefe/policy.d/45-sshd-mode.conf"
LOG=$T/daemon.log
: > "$LOG"
sysctl -qw net.unix.max_dgram_qlen=1024
env_start_daemon
# The CLI enforced it already: the start has nothing to repair.
: > "$T/lat"
i=0
while [ $i -lt "$N" ]; do
	n=$(log_lines); t0=$(now_ms)
	if [ $((i % 2)) = 0 ]; then
		chmod 666 /etc/ssh/sshd_config; item=mode:/etc/ssh/sshd_config
	else
		rm /etc/ssh/sshd_config.d/00-jefe.conf; item=/etc/ssh/sshd_config.d/00-jefe.conf
	fi
	wait_log "$n" "drift layer=sshd item=$item " 10 || fail "tamper $i not seen"
	echo $(( $(now_ms) - t0 )) >> "$T/lat"
	wait_log "$n" "compliant layer=sshd" 10 || fail "tamper $i not repaired"
	i=$((i + 1))
done
sort -n "$T/lat" | awk '{ v[NR] = $1 } END {
	printf "p50 %d ms  p90 %d ms  max %d ms  (n=%d)\n", v[int(NR * 0.5 + 0.5)], v[int(NR * 0.9 + 0.5)], v[NR], NR }'
stop_daemon

echo "== 3. daemon in report mode: tamper -> drift line (detection alone), $N tampers"
printf '[sshd]\nmode = report\n' > "$T/etc/jefe/policy.d/45-sshd-mode.conf"
: > "$LOG"
rm -f "$T/ready"
env_start_daemon
: > "$T/lat"
i=0
while [ $i -lt "$N" ]; do
	n=$(log_lines); t0=$(now_ms)
	chmod 666 /etc/ssh/sshd_config
	wait_log "$n" "drift layer=sshd item=mode:/etc/ssh/sshd_config " 10 || fail "tamper $i not seen"
	echo $(( $(now_ms) - t0 )) >> "$T/lat"
	n=$(log_lines)
	chmod 600 /etc/ssh/sshd_config
	wait_log "$n" "compliant layer=sshd" 10 || fail "undo $i not seen"
	i=$((i + 1))
done
sort -n "$T/lat" | awk '{ v[NR] = $1 } END {
	printf "p50 %d ms  p90 %d ms  max %d ms  (n=%d)\n", v[int(NR * 0.5 + 0.5)], v[int(NR * 0.9 + 0.5)], v[NR], NR }'
stop_daemon
