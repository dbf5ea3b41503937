#!/bin/sh
# SPDX-License-Identifier: MIT
# firewall-enforce.sh - the firewall layer on the real kernel, in a private
# network namespace: dry run changes nothing; enforce makes table inet jefe,
# read back by nft(8) and compared with a stored golden dump; each tamper
# is reported as drift with its item id, and repaired; a Docker-like table
# beside ours is never touched; a broken policy changes nothing.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/firewall-lib.sh"
fw_need
fw_enter_netns "$@"
fw_make_root enforce

# Someone else's table (Docker makes ip filter/nat): must survive everything.
nft -f - <<'NFT'
table ip filter {
	chain DOCKER-USER { counter return; }
	chain FORWARD { type filter hook forward priority 0; policy accept; jump DOCKER-USER; }
}
table ip nat {
	chain POSTROUTING { type nat hook postrouting priority 100; oifname "docker0" masquerade; }
}
NFT
fw_json others > "$T/others.json"
others_same() {
	fw_json others | diff -u "$T/others.json" - >&2 || fail "another table changed: $1"
}

# 0. Their base chains see our packets: drift that jefe reports and never
#    fixes (status 2, enforce "cannot fix", the tables untouched) until the
#    admin lists the tables in foreign_allow, as a Docker host would.
run_jefe 2 status --layer firewall
echo "$OUT" | grep -qF "firewall:foreign:ip filter/FORWARD" ||
	fail "status does not name Docker's forward chain: $OUT"
echo "$OUT" | grep -qF "firewall:foreign:ip nat/POSTROUTING" ||
	fail "status does not name Docker's nat chain: $OUT"
cat > "$T/etc/jefe/policy.d/35-docker.conf" <<'POL'
[firewall]
foreign_allow = ip filter, ip nat
POL
others_same "status"
note "foreign base chains reported until allowed"

# 1. Dry run: prints the ruleset and the difference, the kernel validates
#    the batch (no end marker), nothing is created.
run_jefe 2 enforce --dry-run --layer firewall
echo "$OUT" | grep -qF "firewall:table" || fail "dry run does not name the missing table: $OUT"
echo "$OUT" | grep -qF "tcp dport 22 ct state new limit rate 3/minute burst 3 packets accept" ||
	fail "dry run does not print the ruleset in nft syntax: $OUT"
echo "$OUT" | grep -qF "validated by the kernel" || fail "dry run did not validate: $OUT"
if nft list table inet jefe >/dev/null 2>&1; then
	fail "the dry run created table inet jefe"
fi
others_same "dry run"
note "dry run: drift shown, kernel validated, nothing created"

# 2. Enforce; nft is the witness.
run_jefe 0 enforce --layer firewall
echo "$OUT" | grep -qF "firewall:table" || fail "enforce did not report the table: $OUT"
fw_golden firewall-default.json
nft list table inet jefe > "$T/list.nft"
diff -u "$srcdir/tests/unit/golden/firewall-default.nft" "$T/list.nft" >&2 ||
	fail "nft list table differs from the agent's own rendering (tests/unit/golden)"
others_same "enforce"
run_jefe 0 status --layer firewall
note "enforce: nft -j matches golden firewall-default.json; nft list matches the agent's rendering"
run_jefe 0 enforce --layer firewall
echo "$OUT" | grep -q "repaired" && fail "a second enforce on a compliant ruleset changed something: $OUT"

# 3. Tampers: each is drift with its item id, then repaired.
tamper() {
	desc=$1 item=$2
	shift 2
	"$@" || fail "tamper '$desc' could not be made"
	run_jefe 2 status --layer firewall
	echo "$OUT" | grep -qF -- "firewall:$item" || fail "$desc: status does not name '$item':
$OUT"
	run_jefe 0 enforce --layer firewall
	echo "$OUT" | grep -F -- "firewall:$item" | grep -q repaired ||
		fail "$desc: enforce did not repair '$item':
$OUT"
	run_jefe 0 status --layer firewall
	fw_golden firewall-default.json
	note "tamper '$desc': drift item '$item', repaired"
}
h=$(fw_handle input "tcp dport 22")
[ -n "$h" ] || fail "no ssh rule handle"
tamper "nft delete rule (ssh)" "chain input rule 16" nft delete rule inet jefe input handle "$h"
tamper "nft add rule inet jefe input accept" "chain input unexpected rule handle" \
	nft add rule inet jefe input accept
tamper "nft insert rule (first)" "chain input unexpected rule handle" \
	nft insert rule inet jefe input tcp dport 8080 accept
tamper "nft chain input policy accept" "chain input policy" \
	nft chain inet jefe input '{ policy accept; }'
tamper "nft delete chain forward" "chain forward" nft delete chain inet jefe forward
h=$(fw_handle input 'iif "lo" accept')
tamper "nft replace rule (lo -> drop)" "chain input rule 3" \
	nft replace rule inet jefe input handle "$h" iif lo drop
tamper "nft add chain (regular)" "chain sneaky" nft add chain inet jefe sneaky
tamper "nft add set" "set sneaky" nft add set inet jefe sneaky '{ type ipv4_addr; }'
tamper "nft add counter" "object sneaky" nft add counter inet jefe sneaky
tamper "nft add table ... flags dormant" "table flags" \
	nft add table inet jefe '{ flags dormant; }'
others_same "tampers"
tamper "nft flush ruleset" "table" nft flush ruleset

# 4. Services with allowed sources, in sets.
nft -f - <<'NFT'
table ip filter {
	chain DOCKER-USER { counter return; }
}
NFT
fw_json others > "$T/others.json"
cat > "$T/etc/jefe/policy.d/40-services.conf" <<'POL'
[firewall]
log = yes
[firewall.service.web]
ports = 80, 443, 8000-8080
proto = tcp
rate = 100/second burst 200
sources = 10.0.0.0/8, 192.168.1.0/24, 192.168.0.0/24, 10.1.0.0/16, 2001:db8::/32, 203.0.113.7
[firewall.service.dns]
ports = 53
proto = udp,tcp
POL
run_jefe 0 enforce --layer firewall
fw_golden_services() {
	fw_json jefe > "$T/got.json"
	[ -z "${FW_GOLDEN_UPDATE:-}" ] || cp "$T/got.json" "$GOLDEN/firewall-services.json"
	diff -u "$GOLDEN/firewall-services.json" "$T/got.json" >&2 ||
		fail "services: nft -j differs from golden firewall-services.json"
}
fw_golden_services
nft list set inet jefe web_v4 | grep -qF "10.0.0.0/8, 192.168.0.0/23" ||
	fail "nft does not show the merged source ranges: $(nft list set inet jefe web_v4)"
nft delete element inet jefe web_v4 '{ 10.0.0.0/8 }'
nft add element inet jefe web_v6 '{ 2001:db8:ffff::/48 }' 2>/dev/null ||
	nft add element inet jefe web_v4 '{ 172.16.0.0/12 }'
run_jefe 2 status --layer firewall
echo "$OUT" | grep -qF "firewall:set web_v4 element 10.0.0.0/8" || fail "removed element not reported: $OUT"
run_jefe 0 enforce --layer firewall
fw_golden_services
others_same "services"
note "services: sets with merged sources match golden firewall-services.json; element drift repaired"

# 5. A broken policy: clear error with file and line, nothing changed.
fw_json jefe > "$T/before.json"
cat > "$T/etc/jefe/policy.d/50-broken.conf" <<'POL'
[firewall.service.bad]
ports = 80
sources = 10.0.0.1/8
POL
run_jefe 1 enforce --layer firewall
echo "$OUT" | grep -q "50-broken.conf.*line 3.*10.0.0.1/8" ||
	fail "the error does not name the file, line and value: $OUT"
fw_json jefe | diff -u "$T/before.json" - >&2 || fail "a refused policy changed the ruleset"
note "broken policy: refused with file:line, ruleset unchanged"
rm "$T/etc/jefe/policy.d/50-broken.conf"

# 6. A policy the kernel refuses (a limit whose token bucket overflows:
#    1/day with a burst of a million): the batch fails as a whole, the
#    error names the rule that caused it, the old ruleset stays.
cat > "$T/etc/jefe/policy.d/60-overflow.conf" <<'POL'
[firewall.service.over]
ports = 9999
rate = 1/day burst 1000000
POL
run_jefe 1 enforce --dry-run --layer firewall
echo "$OUT" | grep -q "firewall:batch" || fail "dry run: no batch error: $OUT"
echo "$OUT" | grep -qF "tcp dport 9999 ct state new limit rate 1/day burst 1000000 packets accept)" ||
	fail "dry run: the kernel's refusal does not name the rule: $OUT"
run_jefe 1 enforce --layer firewall
echo "$OUT" | grep -q "chain input rule [0-9]* (tcp dport 9999 .*): Value too large" ||
	fail "enforce: the kernel's refusal does not name the rule and the reason: $OUT"
fw_json jefe | diff -u "$T/before.json" - >&2 || fail "a refused batch changed the ruleset"
others_same "refused batch"
note "kernel-refused batch: error names the rule, old ruleset kept"
echo "PASS: firewall-enforce"
