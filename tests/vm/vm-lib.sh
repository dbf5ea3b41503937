# vm-lib.sh - assertion helpers for scripts run by run-vm.sh inside the VM.
# Every result is a line on the serial console that run-vm.sh parses:
# "JEFE-VM: PASS ...", "JEFE-VM: FAIL ...", "JEFE-VM: NOTE ...", and the
# final "JEFE-VM: END rc=N pass=P fail=F".  Counters live in files so they
# survive subshells.

VM_STATE=/run/vm-lib
mkdir -p "$VM_STATE"

vm_count() {
	n=$(cat "$VM_STATE/$1" 2>/dev/null || echo 0)
	echo $((n + 1)) >"$VM_STATE/$1"
}

vm_pass() {
	echo "JEFE-VM: PASS $*"
	vm_count pass
}

vm_fail() {
	echo "JEFE-VM: FAIL $*"
	vm_count fail
}

vm_note() {
	echo "JEFE-VM: NOTE $*"
}

# vm_check DESC CMD [ARGS...]: PASS when CMD exits 0; on failure its output
# is shown.
vm_check() {
	_d=$1
	shift
	if _out=$("$@" 2>&1); then
		vm_pass "$_d"
	else
		_rc=$?
		vm_fail "$_d (rc=$_rc: $*)"
		[ -n "$_out" ] && printf '%s\n' "$_out" | sed 's/^/    /'
	fi
	return 0
}

# vm_check_fails DESC CMD [ARGS...]: PASS when CMD exits non-zero.
vm_check_fails() {
	_d=$1
	shift
	if _out=$("$@" 2>&1); then
		vm_fail "$_d (unexpectedly succeeded: $*)"
	else
		vm_pass "$_d"
	fi
	return 0
}

# vm_expect_eq DESC WANT GOT
vm_expect_eq() {
	if [ "$2" = "$3" ]; then
		vm_pass "$1 = $3"
	else
		vm_fail "$1: expected '$2', got '$3'"
	fi
}

# vm_wait_for SECONDS FILE PATTERN: poll (10 ms steps) until FILE has a
# line matching the extended regex PATTERN; prints the line.
vm_wait_for() {
	_end=$(( $(vm_ms) + $1 * 1000 ))
	while [ "$(vm_ms)" -lt "$_end" ]; do
		if _l=$(grep -E -m1 "$3" "$2" 2>/dev/null); then
			printf '%s\n' "$_l"
			return 0
		fi
		usleep 10000
	done
	return 1
}

# Milliseconds since boot (monotonic clock of the guest).
vm_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# vm_tamper LOG NAME LAYER ITEM-REGEX ACTION COMMAND...: run the command,
# wait (30 s) for jefe-setup's drift line for that item with that action
# in LOG (the daemon's stderr), and say how long it took.
vm_tamper() {
	_log=$1 _name=$2 _layer=$3 _item=$4 _action=$5
	shift 5
	_lines=$(wc -l <"$_log")
	_t0=$(vm_ms)
	"$@" >/dev/null 2>&1 || vm_fail "$_name: the tampering command failed: $*"
	_t1=$(vm_ms)
	_end=$((_t0 + 30000))
	_found=
	while [ "$(vm_ms)" -lt "$_end" ]; do
		_found=$(tail -n +"$((_lines + 1))" "$_log" |
			grep -E -m1 "drift layer=$_layer item=\"?$_item\"? .*action=$_action")
		[ -n "$_found" ] && break
		# One vCPU: a tight poll would steal it from the daemon it times.
		usleep 20000
	done
	if [ -n "$_found" ]; then
		_t2=$(vm_ms)
		vm_pass "$_name: drift seen ($_action) in $((_t2 - _t0)) ms"
		echo "    $_found"
		# auditctl -D deletes rule by rule while the daemon already repairs:
		# say how long the command itself ran.
		vm_note "latency $_name $((_t2 - _t0)) ms (the command ran $((_t1 - _t0)) ms, drift line $((_t2 - _t1)) ms after it returned)"
	else
		vm_fail "$_name: no 'drift layer=$_layer item=$_item ... action=$_action' within 30 s"
		tail -n +"$((_lines + 1))" "$_log" | sed 's/^/    /'
	fi
}

vm_end() {
	_p=$(cat "$VM_STATE/pass" 2>/dev/null || echo 0)
	_f=$(cat "$VM_STATE/fail" 2>/dev/null || echo 0)
	_rc=$1
	[ "$_f" = 0 ] || [ "$_rc" != 0 ] || _rc=1
	echo "JEFE-VM: END rc=$_rc pass=$_p fail=$_f"
}
