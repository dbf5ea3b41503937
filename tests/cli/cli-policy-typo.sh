#!/bin/sh
# A policy that cannot hide a typo, end to end through `jefe policy check`
# and `jefe policy show` on a temporary root whose proc/sys is a fake
# tree of files (the host's sysctls are never read or written): a name
# the target kernel lacks, a word where the kernel has an integer, a
# vector of the wrong width, an unknown section and key, and a weak sshd
# cipher are each refused with "did you mean", in file and line order.
. "$abs_top_srcdir/tests/lib/common.sh"
make_root

mkdir -p "$P/policy.d"
for kv in kernel/kptr_restrict:0 kernel/randomize_va_space:2 \
	  net/ipv4/ip_local_port_range:"32768	60999"; do
	mkdir -p "$T/proc/sys/$(dirname "${kv%%:*}")"
	printf '%s\n' "${kv#*:}" >"$T/proc/sys/${kv%%:*}"
done
printf '[agent]\nmode = report\n[sysctl]\nkernel.kptr_restrict = 2\n' >"$P/jefe.conf"
cat >"$P/policy.d/90-local.conf" <<'POL'
[sysctl]
kernel.kptr_restict = 2
kernel.randomize_va_space = two
kernel.kptr_restrict = banana
net.ipv4.ip_local_port_range = 1024
persit = no
[sysclt]
[sshd]
Ciphers = aes128-cbc
POL
F="$P/policy.d/90-local.conf"
expect_exit 1 "$JEFE" --root "$T" --direct policy check 2>"$T/err" >"$T/out"
grep -q "policy OK" "$T/out" && fail "policy check said OK: $(cat "$T/out")"
cat >"$T/want" <<WANT
$F line 2: unknown sysctl 'kernel.kptr_restict': this kernel has no /proc/sys/kernel/kptr_restict (did you mean 'kernel.kptr_restrict'? a name it may lack goes in [sysctl] optional)
$F line 3: invalid value 'two' for kernel.randomize_va_space: 'two' is not an integer
$F line 4: invalid value 'banana' for kernel.kptr_restrict: 'banana' is not an integer
$F line 5: invalid value '1024' for net.ipv4.ip_local_port_range: this kernel's value has 2 integers ('32768 60999'), the policy gives 1
$F line 6: unknown key 'persit' in [sysctl] (did you mean 'persist'?)
$F line 7: unknown section [sysclt] (did you mean [sysctl]?)
$F line 9: Ciphers: 'aes128-cbc' is weak (CBC mode); refused unless [sshd] allow_weak = yes
WANT
grep -v "^jefe: " "$T/err" >"$T/got" || :
diff -u "$T/want" "$T/got" || fail "policy check errors differ from the expected ones, in file and line order"
pass "policy check: typos refused, with suggestions, in file and line order"

# Listed in [sysctl] optional, a name this kernel lacks is allowed.
printf '[sysctl]\noptional = kernel.unprivileged_userns_clone\nkernel.unprivileged_userns_clone = 0\n' >"$F"
expect_exit 0 "$JEFE" --root "$T" --direct policy check >"$T/out" 2>&1
"$JEFE" --root "$T" --direct policy show >"$T/show" 2>&1 || fail "policy show failed: $(cat "$T/show")"
grep -qx "persist = yes	# default" "$T/show" || fail "policy show does not mark the default of persist: $(cat "$T/show")"
grep -qx "mode = report	# $P/jefe.conf:2" "$T/show" || fail "policy show lacks [agent] mode's origin: $(cat "$T/show")"
grep -qx "check_interval = 300	# default" "$T/show" || fail "policy show lacks check_interval's default"
grep -qx "kernel.unprivileged_userns_clone = 0	# $F:3" "$T/show" || fail "policy show lacks the free-form key with its origin"
pass "optional names load; policy show gives every key its value and origin, defaults marked"
