#!/bin/sh
# SPDX-License-Identifier: MIT
# firewall-traffic.sh - packets through the enforced ruleset: two network
# namespaces of our own joined by a veth pair; "a" runs the agent's
# firewall and listening sockets, "b" is the client.  Proves: ssh accepted
# but the 4th new connection within a minute dropped, other ports dropped
# (not refused: a listener is there), established traffic and loopback
# pass, ping and ping6 work, i.e. IPv6 neighbour discovery gets through.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/firewall-lib.sh"
fw_need ping
fw_make_root enforce
fw_veth_pair
fw_traffic_start

# Control, before the firewall: 8080 is reachable, so a later timeout is the firewall's doing.
got=$(inb "$PYTHON" "$T/client.py" 10.99.0.1 8080)
[ "$got" = "ok echo" ] || fail "control: 8080 not reachable without the firewall: $got"

( cd / && ina timeout 30 "$JEFE" --root "$T" --direct enforce --layer firewall >/dev/null ) ||
	fail "jefe enforce failed in $A"
ina nft list table inet jefe >/dev/null || fail "no table inet jefe in $A after enforce"

got=$(inb "$PYTHON" "$T/client.py" 10.99.0.1 22 4)
[ "$got" = "ok ok ok timeout echo" ] ||
	fail "ssh: expected 3 new connections accepted, the 4th dropped, established still flowing; got: $got"
note "ssh: 3 new connections accepted, 4th dropped within the minute, established traffic passes"

got=$(inb "$PYTHON" "$T/client.py" 10.99.0.1 8080)
[ "$got" = "timeout" ] || fail "port 8080 from outside: expected dropped (timeout), got: $got"
got=$(inb "$PYTHON" "$T/client.py" fd00:99::1 8080)
[ "$got" = "timeout" ] || fail "port 8080 over IPv6: expected dropped (timeout), got: $got"
note "other ports dropped (IPv4 and IPv6)"

got=$(ina "$PYTHON" "$T/client.py" 127.0.0.1 8080)
[ "$got" = "ok echo" ] || fail "loopback 127.0.0.1:8080: $got"
got=$(ina "$PYTHON" "$T/client.py" ::1 8080)
[ "$got" = "ok echo" ] || fail "loopback [::1]:8080: $got"
note "loopback passes"

inb ip -6 neigh flush dev "jfb$$"
ina ip -6 neigh flush dev "jfa$$"
inb ping -6 -c 2 -W 2 fd00:99::1 >/dev/null || fail "ping6 to the firewalled host failed (neighbour discovery blocked?)"
inb ip -6 neigh show dev "jfb$$" | grep -q "fd00:99::1 .*lladdr" ||
	fail "no neighbour entry for fd00:99::1: neighbour discovery did not complete"
inb ping -c 2 -W 2 10.99.0.1 >/dev/null || fail "ping (IPv4 echo) to the firewalled host failed"
note "ping6 with neighbour discovery, and ping, work"

# A service open to one source network (kept in a set), another to a
# network the client is not in.
cat > "$T/etc/jefe/policy.d/40-services.conf" <<'POL'
[firewall.service.web]
ports = 8080
sources = 10.99.0.0/24
[firewall.service.admin]
ports = 8081
sources = 192.0.2.0/24, fd00:1::/64
POL
( cd / && ina timeout 30 "$JEFE" --root "$T" --direct enforce --layer firewall >/dev/null ) ||
	fail "jefe enforce of the services failed in $A"
got=$(inb "$PYTHON" "$T/client.py" 10.99.0.1 8080)
[ "$got" = "ok echo" ] || fail "service web from 10.99.0.2 (in @web_v4): $got"
got=$(inb "$PYTHON" "$T/client.py" fd00:99::1 8080)
[ "$got" = "timeout" ] || fail "service web over IPv6 (no IPv6 sources): expected dropped, got: $got"
got=$(inb "$PYTHON" "$T/client.py" 10.99.0.1 8081)
[ "$got" = "timeout" ] || fail "service admin from 10.99.0.2 (not in @admin_v4): expected dropped, got: $got"
ina nft add element inet jefe admin_v4 '{ 10.99.0.2 }'
got=$(inb "$PYTHON" "$T/client.py" 10.99.0.1 8081)
[ "$got" = "ok echo" ] || fail "service admin once 10.99.0.2 is in its set: $got"
note "services: allowed sources pass, others dropped; the set decides (an added element opens it)"

# Counter-proof: without the ND rules the same ping6 fails, so the rules
# above are what let it through.
h=$(ina nft -a list chain inet jefe input | grep -F "nd-neighbor-solicit" | sed -n 's/.*# handle \([0-9]*\)$/\1/p')
[ -n "$h" ] || fail "no nd-neighbor-solicit rule"
ina nft delete rule inet jefe input handle "$h"
inb ip -6 neigh flush dev "jfb$$"
ina ip -6 neigh flush dev "jfa$$"
if inb ping -6 -c 1 -W 2 fd00:99::1 >/dev/null 2>&1; then
	fail "ping6 works even without the nd-neighbor-solicit rule: the test proves nothing"
fi
note "counter-proof: without nd-neighbor-solicit accepted, ping6 fails"
echo "PASS: firewall-traffic"
