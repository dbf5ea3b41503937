# Guest half of bench/vm-audit.sh (runs in the VM, see tests/vm/run-vm.sh).
N=${N:-20}
# 100 rules: the 65 shipped ones plus watches on 35 more files.
cp /etc/jefe/audit.rules /run/bench.rules
i=0
while [ $i -lt 35 ]; do
	echo "-w /etc/bench$i -p wa -k bench" >>/run/bench.rules
	i=$((i + 1))
done
mkdir -p /etc/jefe/policy.d
printf '[audit]\nrules = /run/bench.rules\n[agent]\ncheck_interval = 3600\n' >/etc/jefe/policy.d/99-bench.conf
jefe enforce --layer audit >/dev/null 2>&1
vm_expect_eq "jefe status --layer audit after enforce" 0 "$(jefe status --layer audit >/dev/null 2>&1; echo $?)"
loaded=$(auditctl -l | grep -c 'jefe$')
vm_note "rules loaded: $loaded"

t0=$(vm_ms); i=0
while [ $i -lt $N ]; do auditctl -l >/dev/null; i=$((i + 1)); done
t_auditctl=$(( $(vm_ms) - t0 ))
t0=$(vm_ms); i=0
while [ $i -lt $N ]; do jefe status --layer audit >/dev/null; i=$((i + 1)); done
t_jefe=$(( $(vm_ms) - t0 ))
# What any jefe command costs before it does anything (process start, nine
# shared libraries under TCG), to read the figure above against.
t0=$(vm_ms); i=0
while [ $i -lt $N ]; do jefe --version >/dev/null; i=$((i + 1)); done
t_start=$(( $(vm_ms) - t0 ))
vm_note "BENCH auditctl_l_ms_per_run $((t_auditctl / N))"
vm_note "BENCH jefe_version_ms_per_run $((t_start / N))"
vm_note "BENCH jefe_status_audit_ms_per_run $((t_jefe / N))"
vm_pass "timed $N runs each"

# Detection and repair latency of auditctl -D with the daemon running.
LOG=/run/daemon.log
jefe-setup --foreground --ready-fd 3 3>/run/ready 2>"$LOG" &
dpid=$!
vm_wait_for 60 /run/ready '^$' >/dev/null && vm_pass "daemon ready" || vm_fail "daemon not ready"
k=0
while [ $k -lt 5 ]; do
	lines=$(wc -l <"$LOG")
	t0=$(vm_ms)
	auditctl -D >/dev/null
	t1=$(vm_ms)
	end=$((t0 + 30000)); first=; fixed=
	while [ "$(vm_ms)" -lt "$end" ]; do
		new=$(tail -n +"$((lines + 1))" "$LOG")
		[ -z "$first" ] && echo "$new" | grep -q 'drift layer=audit' && first=$(vm_ms)
		if [ "$(auditctl -l | grep -c 'jefe$')" = "$loaded" ]; then fixed=$(vm_ms); break; fi
		usleep 20000
	done
	if [ -n "$fixed" ]; then
		vm_note "BENCH auditctl_D_run_ms $((t1 - t0))"
		vm_note "BENCH auditctl_D_to_drift_line_ms $((first - t0))"
		vm_note "BENCH auditctl_D_to_all_rules_back_ms $((fixed - t0))"
		vm_pass "round $k repaired"
	else
		vm_fail "round $k: rules not back in 30 s"
	fi
	k=$((k + 1))
done
kill $dpid
