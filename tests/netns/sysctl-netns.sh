#!/bin/sh
# The sysctl layer on the real kernel: in a private network namespace,
# enforce a policy of net.* keys and read them back with the independent
# `sysctl` command; a key that the kernel refuses rolls the apply back.
. "$abs_top_srcdir/tests/lib/common.sh"
need_root
need_cmd unshare sysctl mount
make_root

mkdir -p "$T/etc/jefe/policy.d"
printf '[agent]\nmode = enforce\n' >"$T/etc/jefe/jefe.conf"
cat >"$T/etc/jefe/policy.d/10-sysctl.conf" <<'CONF'
[sysctl]
net.ipv4.tcp_syncookies = 1
net.ipv4.conf.all.rp_filter = 1
net.ipv4.conf.default.rp_filter = 1
net.ipv4.conf.all.accept_redirects = 0
net.ipv4.conf.all.send_redirects = 0
net.ipv4.conf.all.log_martians = 1
net.ipv4.icmp_echo_ignore_broadcasts = 1
net.ipv4.ip_local_port_range = 40000 50000
net.ipv6.conf.all.accept_ra = 0
CONF

export T JEFE
unshare -n -m sh -eu -c '
	. "$abs_top_srcdir/tests/lib/netns-root.sh"
	. "$abs_top_srcdir/tests/lib/common.sh"
	# Start from values that differ from the policy.
	sysctl -qw net.ipv4.tcp_syncookies=0 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.all.send_redirects=1 net.ipv4.ip_local_port_range="32768 60999"
	expect_exit 2 "$JEFE" --root "$T" --direct status >/dev/null
	expect_exit 0 "$JEFE" --root "$T" --direct enforce >"$T/enforce.out"
	grep -q "repaired *sysctl:net.ipv4.tcp_syncookies: 0 -> 1" "$T/enforce.out" || fail "no repair line"
	# The independent witness.
	[ "$(sysctl -n net.ipv4.tcp_syncookies)" = 1 ] || fail "tcp_syncookies not 1"
	[ "$(sysctl -n net.ipv4.conf.all.rp_filter)" = 1 ] || fail "rp_filter not 1"
	[ "$(sysctl -n net.ipv4.conf.all.send_redirects)" = 0 ] || fail "send_redirects not 0"
	[ "$(sysctl -n net.ipv4.ip_local_port_range | tr -s "\t " " ")" = "40000 50000" ] || fail "port range"
	expect_exit 0 "$JEFE" --root "$T" --direct status >/dev/null
	pass "net.* keys enforced in the namespace and read back with sysctl -n"

	# A value the kernel refuses (a port range whose low end is above its
	# high end gets EINVAL), written after tcp_syncookies: the whole apply is undone.
	sysctl -qw net.ipv4.tcp_syncookies=0
	printf "[sysctl]\nnet.ipv4.ip_local_port_range = 60000 50000\n" >"$T/etc/jefe/policy.d/20-bad.conf"
	expect_exit 1 "$JEFE" --root "$T" --direct enforce >"$T/enforce.out"
	grep -q "FAILED *sysctl:net.ipv4.ip_local_port_range" "$T/enforce.out" || fail "no failure line: $(cat "$T/enforce.out")"
	[ "$(sysctl -n net.ipv4.tcp_syncookies)" = 0 ] || fail "a refused apply left tcp_syncookies changed"
	[ "$(sysctl -n net.ipv4.ip_local_port_range | tr -s "\t " " ")" = "40000 50000" ] || fail "port range changed"
	pass "a value the kernel refuses rolls the whole apply back"

	# The read-only bind really protects the host: kernel.* cannot be written from here.
	if sh -c "echo 1 > \"$T/proc/sys/kernel/sysrq\"" 2>/dev/null; then
		fail "kernel.* writable through the test root"
	fi
	pass "kernel.* is read-only in the test root"
'
