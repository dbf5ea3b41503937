#!/bin/sh
# SPDX-License-Identifier: MIT
# firewall-foreign.sh - other tables' base chains see the packets table inet
# jefe filters: a `meta mark set`, a `notrack`, a netdev ingress chain, a
# dnat in prerouting that steers a closed port to the allowed ssh port.
# Each is drift (`jefe status` exits 2 naming foreign:FAMILY TABLE/CHAIN);
# `jefe enforce` reports it as cannot-fix and never changes those tables
# (nft is the witness); foreign_allow silences the tables it names, by
# "FAMILY NAME" or by "NAME" in any family; foreign = ignore silences all;
# a regular chain (no hook) is never a finding; bad values are refused
# with file and line.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/firewall-lib.sh"
fw_need
fw_enter_netns "$@"
fw_make_root enforce

run_jefe 0 enforce --layer firewall
run_jefe 0 status --layer firewall

nft -f - <<'NFT'
table inet mangle {
	chain pre { type filter hook prerouting priority mangle; meta mark set 0x1; }
	chain helper { counter; }
}
table ip raw {
	chain pre { type filter hook prerouting priority raw; notrack; }
}
table netdev edge {
	chain lo_in { type filter hook ingress device "lo" priority 0; policy accept; }
}
table ip nat {
	chain prerouting { type nat hook prerouting priority dstnat; tcp dport 2222 dnat to 127.0.0.1:22; }
}
NFT
fw_json others > "$T/others.json"
others_same() {
	fw_json others | diff -u "$T/others.json" - >&2 || fail "another table changed: $1"
}

# expect_foreign WANT CHAIN...: status exits WANT and names exactly CHAINs.
expect_foreign() {
	want=$1; shift
	run_jefe "$want" status --layer firewall
	echo "$OUT" | grep -o 'firewall:foreign:[^:]*' | sort > "$T/got.txt"
	printf '%s\n' "$@" | sed '/^$/d; s/^/firewall:foreign:/' | sort > "$T/want.txt"
	diff -u "$T/want.txt" "$T/got.txt" >&2 || fail "foreign findings differ from the expected set:
$OUT"
}

expect_foreign 2 "inet mangle/pre" "ip raw/pre" "netdev edge/lo_in" "ip nat/prerouting"
echo "$OUT" | grep -F "firewall:foreign:ip nat/prerouting" | grep -qF "type nat hook prerouting priority -100" ||
	fail "the finding does not say what the chain is: $OUT"
echo "$OUT" | grep -F "firewall:foreign:netdev edge/lo_in" | grep -qF "hook ingress device lo" ||
	fail "the netdev finding does not name hook and device: $OUT"
echo "$OUT" | grep -qF "foreign:inet mangle/helper" && fail "a regular chain was reported: $OUT"
note "mark, notrack, netdev ingress and dnat chains: each is drift, status exits 2"

run_jefe 2 enforce --layer firewall
[ "$(echo "$OUT" | grep -c 'cannot fix  firewall:foreign:')" = 4 ] ||
	fail "enforce does not report the 4 foreign chains as cannot fix: $OUT"
echo "$OUT" | grep -q "repaired" && fail "enforce repaired something in a compliant table inet jefe: $OUT"
others_same "enforce"
note "enforce: cannot fix, other tables untouched"

# The dry run says the same: never "would repair" for another table.
run_jefe 2 enforce --dry-run --layer firewall
echo "$OUT" | grep "firewall:foreign:" | grep -qv "cannot fix" &&
	fail "the dry run would repair another table: $OUT"
others_same "dry run"

cat > "$T/etc/jefe/policy.d/35-foreign.conf" <<'POL'
[firewall]
foreign_allow = ip nat, mangle
POL
expect_foreign 2 "ip raw/pre" "netdev edge/lo_in"
note "foreign_allow = ip nat, mangle: those two silenced, the others still reported"

cat > "$T/etc/jefe/policy.d/35-foreign.conf" <<'POL'
[firewall]
foreign_allow = inet nat, ip6 mangle, ip raw, netdev edge
POL
expect_foreign 2 "inet mangle/pre" "ip nat/prerouting"
note "a family-qualified entry matches that family only"

cat > "$T/etc/jefe/policy.d/35-foreign.conf" <<'POL'
[firewall]
foreign = ignore
POL
expect_foreign 0
note "foreign = ignore: status 0"

cat > "$T/etc/jefe/policy.d/35-foreign.conf" <<'POL'
[firewall]
foreign = maybe
foreign_allow = ip nat, ipx filter, inet a b, ip bad/name
POL
run_jefe 1 status --layer firewall
for want in "35-foreign.conf line 2.*foreign: \"maybe\" is not report or ignore" \
	"35-foreign.conf line 3.*unknown family \"ipx\"" ; do
	echo "$OUT" | grep -q "$want" || fail "no error matching '$want': $OUT"
done
printf '[firewall]\nforeign_allow = ip bad/name\n' > "$T/etc/jefe/policy.d/35-foreign.conf"
run_jefe 1 status --layer firewall
echo "$OUT" | grep -q "35-foreign.conf line 2.*bad table name \"bad/name\"" ||
	fail "a bad table name is not refused with file and line: $OUT"
printf '[firewall]\nforeign_allow = inet a b\n' > "$T/etc/jefe/policy.d/35-foreign.conf"
run_jefe 1 status --layer firewall
echo "$OUT" | grep -q "35-foreign.conf line 2.*\"inet a b\" is not a table" ||
	fail "three words are not refused with file and line: $OUT"
others_same "refused policies"
note "bad foreign/foreign_allow values refused with file and line"
echo "PASS: firewall-foreign"
