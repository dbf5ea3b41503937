#!/bin/sh
# SPDX-License-Identifier: MIT
# daemon-burst.sh - a burst of 1,000 tampers on one layer does not keep
# jefe-setup from detecting and repairing a change on another.  The whole
# shipped policy over a temporary root in a private mount + network
# namespace (tests/lib/shipped-env.sh: a temporary /etc/ssh, a test sshd,
# sshd and the firewall enforced, the files layer reporting): while a
# thread chmods a file 1,000 times - sshd_config (the sshd layer, whose
# every check runs `sshd -T`), then /etc/shadow (the files layer) - each of
# 5 firewall tampers (`nft add rule`) is detected (the daemon's `checked
# layer=firewall by=event` line) and repaired (nft(8) witnesses it), and
# the bursting layer saw its burst.  The figures (detection alone and
# during the burst) are printed; bench/daemon-burst.sh measures them with
# more samples.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/sshd/sshd-env.sh"
sshd_enter_ns "$@"
. "$srcdir/tests/lib/daemon-env.sh"
. "$srcdir/tests/lib/shipped-env.sh"
command -v nft >/dev/null || fail "nft not found"
shipped_setup
LOG=$T/daemon.log
: > "$LOG"
env_start_daemon --debug
# BURST_LAYERS (bench/daemon-burst.sh): one of the two bursts alone.
case " ${BURST_LAYERS:-sshd files} " in *" sshd "*)
echo "== burst on the sshd layer"
"$PYTHON" "$srcdir/tests/lib/burst.py" "$LOG" /etc/ssh/sshd_config "${BURST_SAMPLES:-5}" sshd ||
	fail "burst.py (sshd) failed"
esac
case " ${BURST_LAYERS:-sshd files} " in *" files "*)
echo "== burst on the files layer"
"$PYTHON" "$srcdir/tests/lib/burst.py" "$LOG" /etc/shadow "${BURST_SAMPLES:-5}" files ||
	fail "burst.py (files) failed"
esac
alive "$DAEMON_PID" || fail "jefe-setup died during the burst"
# After the burst: sshd_config back to what the policy wants, by the daemon.
deadline=$(( $(now_ms) + 10000 ))
until [ "$(stat -c %a /etc/ssh/sshd_config)" = 644 ] || [ "$(stat -c %a /etc/ssh/sshd_config)" = 600 ]; do
	[ "$(now_ms)" -lt "$deadline" ] || fail "sshd_config left at mode $(stat -c %a /etc/ssh/sshd_config)"
	sleep 0.05
done
stop_daemon
echo "PASS: daemon-burst"
