# SPDX-License-Identifier: MIT
# tests/lib/shipped-env.sh - sourced by bench/status.sh, bench/daemon-idle.sh,
# bench/daemon-burst.sh and tests/root/daemon-burst.sh after tests/sshd/sshd-env.sh's sshd_enter_ns
# and tests/lib/daemon-env.sh.
#
# shipped_setup: the whole shipped policy over a temporary root T in the
# private mount + network namespace: a temporary /etc/ssh over the real
# one (sshd_setup), T/proc/sys a read-only bind of /proc/sys with only
# net.* writable (as tests/lib/daemon-env.sh does), [agent] mode = report
# and check_interval = 3600, sshd and the firewall enforced (applied once
# here, directly), a test sshd listening on 127.0.0.1.  kernel.* keys are
# out of reach here; audit rules are not per namespace, so the audit layer
# reports "unsupported" for a root other than /.
shipped_setup() {
	sshd_setup
	# sshd_cleanup (trap of sshd_setup) runs after ours: unmount /proc/sys first.
	trap 'bench_cleanup; sshd_cleanup' EXIT
	mkdir -p "$T/proc/sys"
	mount --bind /proc/sys "$T/proc/sys"
	mount -o remount,bind,ro "$T/proc/sys"
	mount --bind /proc/sys/net "$T/proc/sys/net"
	if ( echo 2 > "$T/proc/sys/kernel/kptr_restrict" ) 2>/dev/null; then
		fail "$T/proc/sys is writable outside net.*: refusing to run"
	fi

	# The shipped policy, whole; report by default, sshd and firewall enforced.
	cp "$srcdir"/policies/policy.d/*.conf "$T/etc/jefe/policy.d/"
	cp "$srcdir/policies/audit.rules" "$T/etc/jefe/"
	sed 's/^mode = enforce$/mode = report/; s/^check_interval = .*/check_interval = 3600/' \
		"$srcdir/policies/jefe.conf" > "$T/etc/jefe/jefe.conf"
	printf '[sshd]\nmode = enforce\n' > "$T/etc/jefe/policy.d/45-sshd-mode.conf"
	printf '[firewall]\nmode = enforce\n' > "$T/etc/jefe/policy.d/35-firewall-mode.conf"
	"$JEFE" --root "$T" --direct enforce --layer sshd --layer firewall > /dev/null ||
		fail "the first enforce of sshd and the firewall failed"
	sshd_start
}

# sshd_cleanup (sshd_setup's trap) runs after this: unmount /proc/sys first,
# then return the script's status for it to exit with (an exit here would
# skip it and leave the test sshd, the log sink and T behind).
bench_cleanup() {
	rc=$?
	umount "$T/proc/sys/net" 2>/dev/null || :
	umount "$T/proc/sys" 2>/dev/null || :
	return "$rc"
}
