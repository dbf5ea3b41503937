# Guest half of tests/vm/layers.sh: the agent on a real kernel, checked by
# independent witnesses (busybox sysctl, securityfs, auditctl, nft), then
# jefe-setup repairing each layer after tampering, with the latency.
#
# Order matters: lockdown=confidentiality is raised by the first enforce,
# so everything that needs the kernel open (module loading: done by /init)
# happens before it.

POLICY=/etc/jefe/policy.d
LOG=/run/jefe-setup.log

# rsyslog's configuration as Debian's package ships it (the image's):
# imklog loaded, which the files layer checks and never edits.
printf 'module(load="imuxsock")\nmodule(load="imklog")\n' >/etc/rsyslog.conf
# Log rotation as the image's packages ship it (rsyslog's stanza, logrotate's
# daily run), checked and never edited; chrony.conf is the overlay's, and
# enforce writes the policy's servers to sources.d.
mkdir -p /etc/logrotate.d /etc/cron.daily
printf '/var/log/syslog\n/var/log/kern.log\n/var/log/auth.log\n{\n\trotate 4\n}\n' >/etc/logrotate.d/rsyslog
printf '#!/bin/sh\n/usr/sbin/logrotate /etc/logrotate.conf\n' >/etc/cron.daily/logrotate
chmod 0755 /etc/cron.daily/logrotate

vm_check "jefe is installed" test -x /usr/sbin/jefe
vm_check "jefe-setup is installed" test -x /usr/sbin/jefe-setup
vm_check "the default policy is installed" test -f /etc/jefe/jefe.conf
vm_check "the audit rules are installed" test -f /etc/jefe/audit.rules

# The VM starts out of policy: the agent must say so before it fixes it.
vm_expect_eq "kernel.kptr_restrict before enforce" 0 "$(sysctl -n kernel.kptr_restrict)"
vm_expect_eq "lockdown before enforce (lockdown=integrity on the command line)" \
	"none [integrity] confidentiality" "$(cat /sys/kernel/security/lockdown)"
vm_check "/proc/kcore readable before enforce" dd if=/proc/kcore of=/dev/null bs=1 count=1
vm_expect_eq "no audit rules before enforce" "No rules" "$(auditctl -l 2>&1)"
jefe status >/run/status0.txt 2>&1
vm_expect_eq "jefe status exit code before enforce (2 = drift)" 2 "$?"

# A dry run reports what it would do and changes nothing.
jefe enforce --dry-run --layer audit >/run/dry.txt 2>&1
vm_note "jefe enforce --dry-run --layer audit: exit $?"
vm_expect_eq "no audit rules after a dry run" "No rules" "$(auditctl -l 2>&1)"
vm_check "the dry run lists the shadow watch" grep -q 'shadow_changes' /run/dry.txt

t0=$(vm_ms)
jefe enforce >/run/enforce.txt 2>&1
rc=$?
vm_note "jefe enforce took $(( $(vm_ms) - t0 )) ms, exit $rc"
vm_expect_eq "jefe enforce exit code" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/    /' /run/enforce.txt

# --- sysctl: every key of the shipped policy, read back by busybox sysctl --
awk '
	/^[ \t]*\[/ { insec = ($0 ~ /^[ \t]*\[sysctl\]/); next }
	!insec || /^[ \t]*[#;]/ || !/=/ { next }
	{
		k = $0; sub(/[ \t]*=.*/, "", k); gsub(/^[ \t]+/, "", k)
		v = $0; sub(/^[^=]*=[ \t]*/, "", v); sub(/[ \t]+$/, "", v)
		if (k == "required" || k == "mode" || k == "persist_file" || k == "kernel.lockdown")
			next
		print k "\t" v
	}' "$POLICY/10-sysctl.conf" >/run/sysctl.want
nkeys=0
while IFS='	' read -r key want; do
	path=/proc/sys/$(echo "$key" | tr . /)
	if [ ! -e "$path" ]; then
		vm_note "sysctl $key is not in this kernel (reported unsupported)"
		continue
	fi
	nkeys=$((nkeys + 1))
	got=$(sysctl -n "$key" 2>&1 | tr -s ' \t' '  ')
	want=$(echo "$want" | tr -s ' \t' '  ')
	vm_expect_eq "sysctl -n $key" "$want" "$got"
done </run/sysctl.want
vm_note "$nkeys sysctl keys checked with busybox sysctl"
[ "$nkeys" -ge 10 ] && vm_pass "at least 10 sysctl keys present" ||
	vm_fail "only $nkeys sysctl keys found in the policy"

# --- lockdown ---------------------------------------------------------------
vm_expect_eq "lockdown level" "none integrity [confidentiality]" \
	"$(cat /sys/kernel/security/lockdown)"
# /proc/kcore is refused at confidentiality, not at integrity (the boot level).
vm_check_fails "lockdown refuses /proc/kcore now" dd if=/proc/kcore of=/dev/null bs=1 count=1

# --- audit: auditctl is the witness ----------------------------------------
nrules=$(grep -c '^-' /etc/jefe/audit.rules)
auditctl -l >/run/auditctl.l 2>&1
nloaded=$(grep -c ' -k jefe$\| -F key=jefe$' /run/auditctl.l)
# Watches whose directory does not exist here (no AppArmor, no sudo) are
# reported unsupported, not loaded: count them from jefe's own report.
nunsup=$(jefe status --json --layer audit 2>/dev/null | tr '{' '\n' | grep -c '"state": *"unsupported"')
vm_note "audit: $nrules policy rules, $nloaded loaded, $nunsup unsupported here"
vm_expect_eq "auditctl -l lists every supported policy rule" "$((nrules - nunsup))" "$nloaded"
[ "$nloaded" -ge 40 ] && vm_pass "at least 40 audit rules loaded" || vm_fail "only $nloaded audit rules"
vm_check "auditctl -l has the shadow watch" grep -q '^-w /etc/shadow -p wa -k shadow_changes' /run/auditctl.l
vm_check "auditctl -l has the passwd watch" grep -q '^-w /etc/passwd -p wa -k passwd_changes' /run/auditctl.l
vm_check "auditctl -l has the execve rule" grep -q '^-a always,exit -F arch=b64 -S execve -F key=exec_log\|^-a always,exit -F arch=b64 -S execve -k exec_log' /run/auditctl.l
vm_check "auditctl -l has a b32 twin" grep -q 'arch=b32 -S .*adjtimex.*time-change' /run/auditctl.l
auditctl -s >/run/auditctl.s 2>&1
vm_expect_eq "auditctl -s enabled" "enabled 1" "$(grep '^enabled' /run/auditctl.s)"
vm_expect_eq "auditctl -s backlog_limit" "backlog_limit 8192" "$(grep '^backlog_limit' /run/auditctl.s)"
vm_expect_eq "auditctl -s failure" "failure 1" "$(grep '^failure' /run/auditctl.s)"

# --- firewall: nft is the witness ------------------------------------------
if [ -f "$POLICY/30-firewall.conf" ]; then
	nft list ruleset >/run/nft.txt 2>&1
	vm_check "nft lists table inet jefe" grep -q 'table inet jefe' /run/nft.txt
	vm_check "nft: input policy drop" grep -q 'type filter hook input priority .* policy drop' /run/nft.txt
	vm_check "nft: ssh rate limited" grep -q 'tcp dport 22 .*limit rate 3/minute' /run/nft.txt
	vm_check "nft: loopback accepted" grep -q 'iif "lo" accept' /run/nft.txt
else
	vm_fail "no firewall policy installed"
fi

# --- the whole agent agrees --------------------------------------------------
jefe status >/run/status1.txt 2>&1
rc=$?
vm_expect_eq "jefe status exit code after enforce" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/    /' /run/status1.txt

# --- jefe-setup: tamper with each layer and time the repair ----------------
# The backstop timer must not be what repairs: make it longer than the test.
printf '[agent]\ncheck_interval = 3600\n' >"$POLICY/99-vm.conf"
: >/run/ready
jefe-setup --foreground --ready-fd 3 3>/run/ready 2>"$LOG" &
dpid=$!
if vm_wait_for 60 /run/ready '^$' >/dev/null; then
	vm_pass "jefe-setup signalled readiness on --ready-fd"
else
	vm_fail "jefe-setup not ready within 60 s"
	sed 's/^/    /' "$LOG"
fi

# tamper NAME LAYER ITEM-REGEX COMMAND...: run the command, wait for the
# repair line, print the latency (vm_tamper, vm-lib.sh).
tamper() {
	name=$1 layer=$2 item=$3
	shift 3
	vm_tamper "$LOG" "$name" "$layer" "$item" repaired "$@"
}

# wait_until DESC SECONDS CMD...: poll until CMD succeeds.
wait_until() {
	desc=$1 secs=$2
	shift 2
	end=$(( $(vm_ms) + secs * 1000 ))
	while [ "$(vm_ms)" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && { vm_pass "$desc"; return 0; }
		usleep 20000
	done
	vm_fail "$desc (not within $secs s)"
	return 1
}

tamper "sysctl -w kernel.kptr_restrict=0" sysctl kernel.kptr_restrict \
	sysctl -w kernel.kptr_restrict=0
vm_expect_eq "kernel.kptr_restrict after repair" 2 "$(sysctl -n kernel.kptr_restrict)"

tamper "auditctl -D" audit 'shadow_changes/1' auditctl -D
rules_back() { [ "$(auditctl -l | grep -c ' -k jefe$\| -F key=jefe$')" = "$nloaded" ]; }
wait_until "auditctl -l shows all $nloaded rules again" 20 rules_back ||
	{ auditctl -l | sed 's/^/    /'; tail -n 20 "$LOG" | sed 's/^/    /'; }

tamper "auditctl -e 0" audit enabled auditctl -e 0
vm_expect_eq "auditctl -s after repair" "enabled 1" "$(auditctl -s | grep '^enabled')"

if [ -f "$POLICY/30-firewall.conf" ]; then
	tamper "nft flush ruleset" firewall '[^ ]+' nft flush ruleset
	wait_until "nft lists table inet jefe again" 20 sh -c 'nft list ruleset | grep -q "table inet jefe"'
fi

# A foreign rule (no owner key) stays; one with the owner key but not in the
# policy is removed.
auditctl -a always,exit -F arch=b64 -S ptrace -k admin_own >/dev/null 2>&1
tamper "auditctl -a ... -k jefe (not in the policy)" audit 'extra/1' \
	auditctl -a always,exit -F arch=b64 -S reboot -k intruder -k jefe
wait_until "the owner-keyed stray rule is gone" 10 sh -c '! auditctl -l | grep -q intruder'
vm_check "the admin's own rule is kept" sh -c 'auditctl -l | grep -q admin_own'
auditctl -d always,exit -F arch=b64 -S ptrace -k admin_own >/dev/null 2>&1

kill "$dpid"
wait "$dpid" 2>/dev/null
vm_note "jefe-setup log: $(grep -c 'action=repaired' "$LOG") repair lines"

# --- a rule the kernel refuses: nothing half-way --------------------------
# The tree watch's directory does not exist (its parent does, so the
# agent cannot know in advance): the kernel answers ENOENT.
auditctl -D >/dev/null 2>&1
cp /etc/jefe/audit.rules /run/audit.rules.good
echo '-a always,exit -F dir=/etc/no-such-dir -F perm=wa -k refused_by_kernel' >>/etc/jefe/audit.rules
badline=$(grep -c '' /etc/jefe/audit.rules)
jefe enforce --layer audit >/run/refused.txt 2>&1
rc=$?
case "$rc" in
1|2) vm_pass "enforce with a refused rule fails cleanly (exit $rc)" ;;
*) vm_fail "enforce with a refused rule: exit $rc (want 1 or 2, not 0 or a crash)" ;;
esac
vm_check "the failure names the rules file and line" \
	grep -q "audit.rules line $badline" /run/refused.txt
vm_expect_eq "rules loaded after the refused apply (rolled back)" "No rules" "$(auditctl -l 2>&1)"
[ "$rc" = 0 ] || sed 's/^/    /' /run/refused.txt | grep -i 'refused\|rolled' | head -n 3
cp /run/audit.rules.good /etc/jefe/audit.rules
jefe enforce --layer audit >/dev/null 2>&1
vm_expect_eq "enforce after fixing the file" 0 "$?"
vm_expect_eq "every rule back" "$nloaded" "$(auditctl -l | grep -c ' -k jefe$\| -F key=jefe$')"

# --- exclusive: every rule not in the policy goes ------------------------
auditctl -a always,exit -F arch=b64 -S ptrace -k admin_own >/dev/null 2>&1
printf '[audit]\nexclusive = yes\n' >"$POLICY/97-vm-exclusive.conf"
jefe enforce --layer audit >/run/exclusive.txt 2>&1
vm_expect_eq "jefe enforce --layer audit with exclusive = yes" 0 "$?"
vm_check_fails "exclusive removed the admin's own rule" sh -c 'auditctl -l | grep -q admin_own'
vm_expect_eq "exclusive kept every policy rule" "$nloaded" "$(auditctl -l | grep -c ' -k jefe$\| -F key=jefe$')"
rm -f "$POLICY/97-vm-exclusive.conf"

# --- lock: -e 2, then drift is reported as cannot-fix, once, no loop -------
printf '[audit]\nlock = yes\n' >"$POLICY/98-vm-lock.conf"
jefe enforce --layer audit >/run/lock.txt 2>&1
vm_expect_eq "jefe enforce --layer audit with lock = yes" 0 "$?"
vm_expect_eq "auditctl -s after lock" "enabled 2" "$(auditctl -s | grep '^enabled')"
vm_check_fails "auditctl -D is refused once locked" auditctl -D
jefe status --layer audit >/dev/null 2>&1
vm_expect_eq "jefe status --layer audit, locked and compliant" 0 "$?"
echo '-w /etc/fstab -p wa -k fstab_added_after_lock' >>/etc/jefe/audit.rules
t0=$(vm_ms)
timeout 20 jefe enforce --layer audit >/run/locked.txt 2>&1
rc=$?
vm_note "enforce against a locked kernel: exit $rc in $(( $(vm_ms) - t0 )) ms"
[ "$rc" != 0 ] && [ "$rc" != 124 ] && vm_pass "enforce reports the locked drift (exit $rc)" ||
	vm_fail "enforce against a locked kernel: exit $rc"
vm_check "the report says it is locked until reboot" grep -qi 'locked\|cannot' /run/locked.txt
jefe status --layer audit >/run/locked-status.txt 2>&1
vm_expect_eq "jefe status --layer audit with drift it cannot fix" 2 "$?"
