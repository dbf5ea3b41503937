# Guest half of tests/vm/harness.sh: behaves as $1 of /test/mode says, so
# the host can prove run-vm.sh fails on each kind of failure.
mode=$(cat /test/mode)
case "$mode" in
pass)
	vm_check "proc is mounted" test -r /proc/uptime
	vm_check "securityfs is mounted" test -r /sys/kernel/security/lockdown
	vm_check "nf_tables is usable (modules loaded)" nft list ruleset
	vm_check "audit netlink answers" auditctl -s
	vm_check "busybox sysctl reads" sysctl -n kernel.ostype
	;;
fail)
	vm_pass "one assertion holds"
	vm_expect_eq "deliberately false" 1 2
	;;
hang)
	vm_pass "before the hang"
	sleep 100000
	;;
panic)
	vm_pass "before the panic"
	echo c >/proc/sysrq-trigger
	;;
silent)
	# Asserts nothing: the harness must not call that a pass.
	true
	;;
esac
