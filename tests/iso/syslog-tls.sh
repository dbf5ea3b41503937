#!/bin/sh
# Drift leaves the machine: the ISO (built with the test CA, no collector)
# booted with jefe.syslog=10.0.2.2:PORT on the kernel command line sends
# its logs as RFC 5424 over TCP with TLS to a private rsyslogd this test
# runs on the host (127.0.0.1:PORT; qemu's user network maps the guest's
# 10.0.2.2 to it), whose certificate the test CA signed for 10.0.2.2.
# A tamper's `drift ... action=repaired` line arrives; one made while the
# collector is down arrives once it is back (the disk-assisted queue).
. "$abs_top_srcdir/tests/iso/lib.sh"
need rsyslogd certtool python3

iso_build >"$abs_top_builddir/tests/iso/build-syslog.log" 2>&1 || {
	cat "$abs_top_builddir/tests/iso/build-syslog.log" >&2
	fail "the ISO build failed"
}

# The collector: a private rsyslogd, its own config, pid file and work
# directory under the state directory; never the host's service.
COL=$ISO_STATE/collector
rm -rf "$COL" && mkdir -p "$COL/work"
COL_PORT=$(iso_free_port)
RECEIVED=$COL/received.log
cat >"$COL/rsyslog.conf" <<CONF
global(workDirectory="$COL/work" DefaultNetstreamDriver="gtls"
       DefaultNetstreamDriverCAFile="$ISO_SYSLOG_PKI/ca.pem"
       DefaultNetstreamDriverCertFile="$ISO_SYSLOG_PKI/server.pem"
       DefaultNetstreamDriverKeyFile="$ISO_SYSLOG_PKI/server.key")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1"
       StreamDriver.AuthMode="anon")
input(type="imtcp" address="127.0.0.1" port="$COL_PORT")
template(name="raw" type="string" string="%rawmsg%\n")
action(type="omfile" file="$RECEIVED" template="raw")
CONF
rsyslogd -N1 -f "$COL/rsyslog.conf" >"$COL/check.log" 2>&1 ||
	{ cat "$COL/check.log" >&2; fail "the collector's config is refused"; }
COL_PID=
collector_start() {
	rm -f "$COL/rsyslogd.pid"
	rsyslogd -n -f "$COL/rsyslog.conf" -i "$COL/rsyslogd.pid" >>"$COL/rsyslogd.out" 2>&1 &
	COL_PID=$!
	i=0
	until python3 -c "import socket; socket.create_connection(('127.0.0.1', $COL_PORT), 1)" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 30 ] || fail "the collector does not listen on 127.0.0.1:$COL_PORT"
		sleep 1
	done
}
collector_stop() {
	[ -n "$COL_PID" ] || return 0
	kill "$COL_PID" 2>/dev/null || true
	wait "$COL_PID" 2>/dev/null || true
	COL_PID=
}
syslog_cleanup() {
	collector_stop
	iso_cleanup
}
trap syslog_cleanup EXIT INT TERM

# wait_received REGEX SECONDS
wait_received() {
	deadline=$(($(date +%s) + $2))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		grep -qaE "$1" "$RECEIVED" 2>/dev/null && return 0
		sleep 2
	done
	return 1
}

collector_start
ISO_APPEND="jefe.syslog=10.0.2.2:$COL_PORT"
iso_boot append syslog
wait_serial 'Forwarding logs to 10\.0\.2\.2:[0-9]+ over TLS' "$ISO_BOOT_TIMEOUT"
wait_serial 'Starting Jefe Application Manager' "$ISO_BOOT_TIMEOUT"
wait_ssh "$ISO_BOOT_TIMEOUT"
echo "# the guest's rsyslog forwards to the kernel command line's collector"

# RFC 5424 (version 1 after the priority), TLS (the collector takes
# nothing else), from the guest: the kernel's own lines come too (imklog).
wait_received '^<[0-9]+>1 [0-9T:.+-]+ [^ ]+ jefe-setup ' 120 ||
	{ tail -n 20 "$RECEIVED" >&2; fail "no RFC 5424 line of jefe-setup reached the collector"; }
wait_received '^<[0-9]+>1 [^ ]+ [^ ]+ kernel ' 60 ||
	{ head -n 20 "$RECEIVED" >&2; fail "no kernel message reached the collector"; }
echo "# collector received $(wc -l <"$RECEIVED") RFC 5424 lines over TLS, the kernel's among them"
vm_ssh 'doas test -s /var/log/syslog' || fail "the local /var/log/syslog is gone with forwarding on"

# tamper NAME: a world-writable file in /usr/local/bin, which the
# running daemon sees at once (it watches the walked directories) and
# repairs (world_writable_remove = yes).
tamper() {
	vm_ssh "doas sh -c 'touch /usr/local/bin/$1 && chmod 0646 /usr/local/bin/$1'" ||
		fail "the tamper ($1) failed in the guest"
}
line() {
	echo "drift layer=files item=world-writable:/usr/local/bin/$1 .*action=repaired"
}

tamper bb-fwd-live
wait_received "$(line bb-fwd-live)" 120 || {
	grep -a 'bb-fwd-live' "$RECEIVED" >&2
	fail "the tamper's drift ... action=repaired line did not reach the collector"
}
echo "# a tamper's repaired line reached the collector: $(grep -aE "$(line bb-fwd-live)" "$RECEIVED" | head -n 1)"

# The collector goes away; the tamper happens; the collector comes back.
collector_stop
n=$(wc -l <"$RECEIVED")
# a first line after the loss lets rsyslog notice the closed connection
vm_ssh 'logger -t jefe-syslog-test collector-gone'
sleep 5
tamper bb-fwd-queued
vm_ssh 'i=0; until doas grep -q "world-writable:/usr/local/bin/bb-fwd-queued .*action=repaired" /var/log/syslog; do
	i=$((i + 1)); [ $i -le 60 ] || exit 1; sleep 1; done' ||
	fail "no local drift line for the tamper made while the collector was down"
sleep 3
tail -n +"$((n + 1))" "$RECEIVED" | grep -qa bb-fwd-queued &&
	fail "the line arrived while the collector was stopped: the test proves nothing"
vm_ssh 'doas ls -l /var/spool/rsyslog' || true
collector_start
wait_received "$(line bb-fwd-queued)" 180 || {
	tail -n 20 "$COL/rsyslogd.out" >&2
	fail "the line logged while the collector was down never arrived (no queue)"
}
echo "# the tamper made while the collector was down arrived once it was back: $(grep -aE "$(line bb-fwd-queued)" "$RECEIVED" | head -n 1)"
vm_ssh 'doas rm -f /usr/local/bin/bb-fwd-live /usr/local/bin/bb-fwd-queued'
echo "PASS: logs forwarded over TLS, queued through a collector outage"
