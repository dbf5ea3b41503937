# Runs inside the VM (sourced after vm-lib.sh) once busybox init has taken
# OpenRC through sysinit, boot and default (guest/openrc-init.sh).

# wait_until SECONDS CMD...: poll every 50 ms; 0 when CMD succeeded in time.
wait_until() {
	_end=$(( $(vm_ms) + $1 * 1000 ))
	shift
	while [ "$(vm_ms)" -lt "$_end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		usleep 50000
	done
	return 1
}
daemon_pid() { pidof jefe-setup 2>/dev/null | awk '{ print $1 }'; }
has_pid() { [ -n "$(daemon_pid)" ]; }
new_pid() { _p=$(daemon_pid); [ -n "$_p" ] && [ "$_p" != "$1" ]; }
no_pid() { [ -z "$(daemon_pid)" ]; }
mode_is() { [ "$(stat -c %a "$1")" = "$2" ]; }
# "jefe  [  started 00:00:01 (1) ]": supervised services add uptime and respawns.
svc_state() { rc-status "$1" 2>/dev/null | grep -E "^ *$2 " | sed 's/.*\[ *\([a-z]*\).*/\1/'; }
svc_respawns() { rc-status "$1" 2>/dev/null | grep -E "^ *$2 " | sed -n 's/.*(\([0-9]*\)) *\].*/\1/p'; }

vm_note "openrc: $(openrc --version 2>&1 | head -n1)"
if grep -q -- '--notify' /lib/rc/sh/supervise-daemon.sh; then
	vm_note "readiness: OpenRC's own notify=fd:3"
else
	vm_note "readiness: this OpenRC has no notify=; the service's ready-file fallback"
fi

# 1. The firewall was in the kernel before the network service started.
vm_expect_eq "firewall (table inet jefe) present when the net service started" \
	up "$(cat /run/early-network.firewall 2>/dev/null || echo missing)"
vm_check "nft shows the jefe input chain with policy drop" \
	sh -c 'nft list chain inet jefe input | grep -q "policy drop"'
vm_expect_eq "jefe-boot in the boot runlevel" started "$(svc_state boot jefe-boot)"

# 2. rc-status shows jefe started, under supervise-daemon, and ready.
vm_expect_eq "rc-status: jefe" started "$(svc_state default jefe)"
rc-status default | sed 's/^/    /'
vm_check "jefe-setup runs" has_pid
vm_check "its supervisor runs" sh -c 'ps | grep -v grep | grep -q "supervise-daemon jefe"'
vm_check "the policy was applied before it said ready (modprobe.d file written)" \
	test -s /etc/modprobe.d/jefe-blacklist.conf
if ! grep -q -- '--notify' /lib/rc/sh/supervise-daemon.sh; then
	vm_check "the readiness line reached /run/jefe/ready" test -s /run/jefe/ready
fi

# services_status() (what `jefe status` shows about services), via librc.
jefe-services-status >/tmp/svc.out 2>&1
sed 's/^/    /' /tmp/svc.out
vm_check "services: jefe-boot in boot, started" grep -qx 'jefe-boot compliant in boot, started|' /tmp/svc.out
vm_check "services: jefe in default, started" grep -qx 'jefe compliant in default, started|' /tmp/svc.out
vm_check "services: no sshd in this VM, reported unsupported" grep -q '^sshd unsupported not installed|' /tmp/svc.out

# 3. chmod 666 /etc/shadow: reported (syslog) and repaired (stat).
t0=$(vm_ms)
chmod 666 /etc/shadow
if wait_until 10 mode_is /etc/shadow 640; then
	vm_pass "chmod 666 /etc/shadow repaired in $(( $(vm_ms) - t0 )) ms"
else
	vm_fail "chmod 666 /etc/shadow not repaired within 10 s (mode $(stat -c %a /etc/shadow))"
fi
if line=$(vm_wait_for 5 /var/log/messages 'drift layer=files item=perm:/etc/shadow'); then
	vm_pass "the tamper was reported: ${line#*jefe-setup}"
else
	vm_fail "no drift line for /etc/shadow in syslog"
	tail -n 20 /var/log/messages | sed 's/^/    /'
fi

# 4. kill -9: supervise-daemon starts a new jefe-setup within 2 s.
old=$(daemon_pid)
t0=$(vm_ms)
kill -9 "$old"
if wait_until 2 new_pid "$old"; then
	vm_pass "kill -9 $old: jefe-setup restarted as $(daemon_pid) in $(( $(vm_ms) - t0 )) ms"
else
	vm_fail "no new jefe-setup within 2 s of kill -9 (now: '$(daemon_pid)')"
fi
vm_expect_eq "rc-status after the crash: jefe" started "$(svc_state default jefe)"
vm_expect_eq "rc-status counts the respawn" 1 "$(svc_respawns default jefe)"
# The new one works: once it says ready (the wrapper shell truncated the
# ready file before exec), the same tamper is repaired again.
t0=$(vm_ms)
if wait_until 30 test -s /run/jefe/ready; then
	vm_pass "the restarted jefe-setup is ready again after $(( $(vm_ms) - t0 )) ms"
else
	vm_fail "the restarted jefe-setup never wrote its readiness line"
fi
chmod 666 /etc/shadow
if wait_until 20 mode_is /etc/shadow 640; then
	vm_pass "the restarted jefe-setup repairs /etc/shadow too"
else
	vm_fail "the restarted jefe-setup did not repair /etc/shadow"
fi

# 5. rc-service jefe stop: clean stop, nothing left behind.
if rc-service jefe stop >/tmp/stop.out 2>&1; then
	vm_pass "rc-service jefe stop exits 0"
else
	vm_fail "rc-service jefe stop failed: $(cat /tmp/stop.out)"
fi
if wait_until 10 no_pid; then vm_pass "no jefe-setup left"; else vm_fail "jefe-setup still runs: $(daemon_pid)"; fi
vm_check_fails "no supervise-daemon left for jefe" sh -c 'ps | grep -v grep | grep -q "supervise-daemon jefe"'
vm_check_fails "the control socket is gone (jefe-setup shut down cleanly)" test -e /run/jefe/jefe.sock
vm_expect_eq "rc-status after stop: jefe" stopped "$(svc_state default jefe)"
vm_check "services: jefe stopped is drift, with the fix" \
	sh -c 'jefe-services-status | grep -qx "jefe drift in default, stopped|rc-service jefe start"'
vm_check "no 'crashed' state" sh -c '! rc-service jefe status 2>&1 | grep -q crashed'

# 6. And it starts again, waiting for readiness.
t0=$(vm_ms)
if rc-service jefe start >/tmp/start.out 2>&1; then
	vm_pass "rc-service jefe start returned after readiness in $(( $(vm_ms) - t0 )) ms"
else
	vm_fail "rc-service jefe start failed: $(cat /tmp/start.out)"
fi
vm_expect_eq "rc-status after start: jefe" started "$(svc_state default jefe)"
# The extra command: SIGHUP through supervise-daemon, seen in syslog.
n=$(wc -l </var/log/messages)
vm_check "rc-service jefe reload" rc-service jefe reload
if wait_until 10 sh -c "tail -n +$((n + 1)) /var/log/messages | grep -q 'reloaded policy'"; then
	vm_pass "jefe-setup reloaded its policy on rc-service jefe reload"
else
	vm_fail "no 'reloaded policy' line after rc-service jefe reload"
fi
vm_expect_eq "jefe reload over the daemon's socket" "policy reloaded" "$(jefe reload 2>&1)"
# A broken policy at reload: the command fails on the terminal with the
# file and line, the daemon keeps running the old policy, and status
# says so as an error until a reload succeeds.
printf '[modules]\nblacklist = squashfs\n' >/etc/jefe/policy.d/90-bad.conf
if rc-service jefe reload >/tmp/reload.out 2>&1; then
	vm_fail "rc-service jefe reload exited 0 with a broken policy: $(cat /tmp/reload.out)"
else
	vm_pass "rc-service jefe reload fails with a broken policy"
fi
vm_check "the reload's output names the file and line" \
	grep -q "90-bad.conf line 2: refusing to block module 'squashfs'" /tmp/reload.out
vm_expect_eq "jefe-setup still runs after the refused reload" started "$(svc_state default jefe)"
rc=0
jefe status >/tmp/st.out 2>&1 || rc=$?
vm_expect_eq "jefe status exit after a refused reload" 1 "$rc"
vm_check "jefe status reports the refused reload" \
	grep -q "running policy differs from disk (refused: /etc/jefe/policy.d/90-bad.conf line 2: " /tmp/st.out
rm -f /etc/jefe/policy.d/90-bad.conf
vm_check "rc-service jefe reload succeeds once fixed" rc-service jefe reload
jefe status >/tmp/st.out 2>&1 || :
vm_check_fails "the refusal is gone from jefe status" grep -q "running policy differs" /tmp/st.out

# 7. A broken policy: start refuses with the file and line, and nothing
#    half-starts; fixed, it starts again.
rc-service jefe stop >/dev/null 2>&1
printf '[modules]\nblacklist = squashfs\n' >/etc/jefe/policy.d/90-bad.conf
if rc-service jefe start >/tmp/bad.out 2>&1; then
	vm_fail "rc-service jefe start succeeded with a broken policy"
else
	vm_pass "rc-service jefe start refuses a broken policy"
fi
vm_check "the refusal names the file and line" \
	grep -q "90-bad.conf line 2: refusing to block module 'squashfs'" /tmp/bad.out
vm_check "no jefe-setup after the refused start" no_pid
vm_expect_eq "rc-status after the refused start: jefe" stopped "$(svc_state default jefe)"
rm -f /etc/jefe/policy.d/90-bad.conf
vm_check "starts again once the policy is fixed" rc-service jefe start

# 8. Layer 2 on the real kernel (last: modules_disabled cannot be undone).
#    sctp was loaded at boot (--module sctp): blocked now, but loaded.
jefe status --layer modules >/tmp/mod.out 2>&1
vm_check "jefe status reports the loaded, blocked sctp" grep -q 'modules:module:sctp: loaded' /tmp/mod.out
vm_check_fails "cramfs (not loaded) is not reported" grep -q 'modules:module:cramfs' /tmp/mod.out
vm_check "sctp is in /proc/modules (the witness)" grep -q '^sctp ' /proc/modules
ko=$(sed -n '1p' /etc/modules.load)
before=$(insmod "$ko" 2>&1)
vm_note "insmod of a loaded module before modules_disabled: $before"
printf '[modules]\nmodules_disabled = yes\n' >/etc/jefe/policy.d/90-lock.conf
jefe reload >/dev/null 2>&1
jefe enforce --layer modules >/tmp/lock.out 2>&1
vm_expect_eq "sysctl kernel.modules_disabled after enforce" 1 "$(sysctl -n kernel.modules_disabled)"
after=$(insmod "$ko" 2>&1)
case "$before" in
*"not permitted"*) vm_fail "insmod was refused before modules_disabled: $before" ;;
esac
case "$after" in
*"not permitted"*) vm_pass "the kernel now refuses every module load: $after" ;;
*) vm_fail "insmod after modules_disabled: '$after' (expected Operation not permitted)" ;;
esac
