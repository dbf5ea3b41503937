#!/bin/sh
# SPDX-License-Identifier: MIT
# firewall-tamper.sh - every attribute of table inet jefe is compared, with
# packets as the proof.  Two network namespaces of our own joined by a veth
# pair: "a" runs the agent's firewall and listeners, "b" is the client.
# For each tamper an attacker with root could make (the table set dormant,
# the input policy set to accept, the input chain re-made at another
# priority or on another hook, a rule inserted at the top, an element added
# to a set): the port the policy closes opens (where the tamper opens it),
# `jefe status` exits 2 naming the item, `jefe enforce` repairs it, the
# port is closed again, `jefe status` exits 0, and nft(8) shows the table
# exactly as the first enforce made it.  Last, another table's dnat steers
# the closed port to the accepted ssh port: traffic gets through, status
# names the foreign chain, enforce reports it as cannot fix and leaves
# that table as it is.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/firewall-lib.sh"
fw_need
fw_make_root enforce
# A service whose allowed sources leave the client out: its set is the
# target of the element tamper.
cat > "$T/etc/jefe/policy.d/40-services.conf" <<'POL'
[firewall.service.admin]
ports = 8081
sources = 192.0.2.0/24
POL
fw_veth_pair
fw_traffic_start 300

# run_a WANT ARGS...: the CLI in namespace a, output in $OUT.
run_a() {
	want=$1; shift
	got=0
	OUT=$(cd / && ina timeout 30 "$JEFE" --root "$T" --direct "$@" 2>&1) || got=$?
	[ "$got" = "$want" ] || fail "jefe $* exited $got, expected $want:
$OUT"
}
# port PORT: one connection from b to a's PORT, "ok echo" or "timeout".
port() { inb "$PYTHON" "$T/client.py" 10.99.0.1 "$1"; }
json_a() { FW_IN="ip netns exec $A"; fw_json jefe; FW_IN=; }

for p in 8080 8081; do
	got=$(port $p)
	[ "$got" = "ok echo" ] || fail "control: $p not reachable without the firewall: $got"
done
run_a 0 enforce --layer firewall
run_a 0 status --layer firewall
json_a > "$T/want.json"
for p in 8080 8081; do
	got=$(port $p)
	[ "$got" = "timeout" ] || fail "port $p with the firewall: expected dropped, got: $got"
done
note "enforced: 8080 and 8081 dropped from b"

# retable SED: re-make table inet jefe as nft lists it, edited by SED, in
# one nft transaction (what an attacker does to change a chain's hook or
# priority, which the kernel does not change in place).
retable() {
	ina nft list table inet jefe > "$T/table.nft"
	sed "$1" "$T/table.nft" > "$T/edited.nft"
	! cmp -s "$T/table.nft" "$T/edited.nft" || fail "retable: '$1' changed nothing"
	{ echo "delete table inet jefe"; cat "$T/edited.nft"; } | ina nft -f -
}

# tamper DESC ITEM PORT CMD...: PORT ("-": none) opens after CMD.
tamper() {
	desc=$1 item=$2 p=$3
	shift 3
	"$@" || fail "tamper '$desc' could not be made"
	if [ "$p" != - ]; then
		got=$(port "$p")
		[ "$got" = "ok echo" ] || fail "$desc: port $p should be open after the tamper, got: $got"
	fi
	run_a 2 status --layer firewall
	echo "$OUT" | grep -F "drift" | grep -qF -- "firewall:$item" ||
		fail "$desc: status does not report drift of '$item':
$OUT"
	run_a 0 enforce --layer firewall
	echo "$OUT" | grep -F -- "firewall:$item" | grep -q repaired ||
		fail "$desc: enforce did not repair '$item':
$OUT"
	if [ "$p" != - ]; then
		got=$(port "$p")
		[ "$got" = "timeout" ] || fail "$desc: port $p still open after the repair: $got"
	fi
	run_a 0 status --layer firewall
	json_a | diff -u "$T/want.json" - >&2 || fail "$desc: nft shows another table after the repair"
	if [ "$p" = - ]; then
		note "'$desc': drift '$item', repaired"
	else
		note "'$desc': port $p opened; drift '$item', repaired, port closed again"
	fi
}

tamper "table dormant" "table flags" 8080 \
	ina nft add table inet jefe '{ flags dormant; }'
tamper "input policy accept" "chain input policy" 8080 \
	ina nft chain inet jefe input '{ policy accept; }'
tamper "input priority moved" "chain input priority" - \
	retable 's/hook input priority filter;/hook input priority filter + 10;/'
tamper "input hook changed to forward" "chain input hook" 8080 \
	retable 's/hook input priority filter;/hook forward priority filter;/'
tamper "a rule at the top" "chain input unexpected rule handle" 8080 \
	ina nft insert rule inet jefe input tcp dport 8080 accept
tamper "a set element added" "set admin_v4 element 10.99.0.2" 8081 \
	ina nft add element inet jefe admin_v4 '{ 10.99.0.2 }'

# Another table: 8080 steered to the ssh listener (22 is accepted, within
# its rate of 3 new connections a minute: this is the first).
ina nft -f - <<'NFT'
table ip steer {
	chain pre { type nat hook prerouting priority dstnat; tcp dport 8080 redirect to :22; }
}
NFT
got=$(port 8080)
[ "$got" = "ok echo" ] || fail "the dnat to the ssh port did not get through: $got"
run_a 2 status --layer firewall
echo "$OUT" | grep -qF "drift       firewall:foreign:ip steer/pre" ||
	fail "status does not report the steering chain: $OUT"
run_a 2 enforce --layer firewall
echo "$OUT" | grep -qF "cannot fix  firewall:foreign:ip steer/pre" ||
	fail "enforce does not report the steering chain as cannot fix: $OUT"
ina nft list chain ip steer pre | grep -qF "redirect to :22" || fail "enforce changed another table"
json_a | diff -u "$T/want.json" - >&2 || fail "table inet jefe changed"
note "a dnat in another table opens 8080 to sshd: foreign drift, cannot fix, left alone"
echo "PASS: firewall-tamper"
