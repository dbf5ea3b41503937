# SPDX-License-Identifier: MIT
# firewall-lib.sh - sourced by tests/netns/firewall-*.sh.
#
# Host safety: every test re-runs itself inside a private network
# namespace (unshare -n) before touching nftables, so the host's ruleset
# is never read or written; the policy lives in a temporary root T.
# nft(8) is only the independent witness; the agent never runs it.

srcdir=${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${abs_top_builddir:-$srcdir}
JEFE=$builddir/jefe
JEFE_SETUP=$builddir/jefe-setup
if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=$(command -v python3); fi
GOLDEN=$srcdir/tests/netns/golden

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

fw_need() {
	[ "$(id -u)" = 0 ] || fail "$(basename "$0") must run as root (network namespaces); it does not skip"
	for tool in nft unshare ip timeout "$@"; do
		command -v "$tool" >/dev/null 2>&1 || fail "$tool not found (install it: see build.sh)"
	done
	[ -n "$PYTHON" ] || fail "python3 not found"
	[ -x "$JEFE" ] || fail "$JEFE not built"
}

# Re-run the calling script in a fresh network namespace (and a private
# mount namespace, so nothing we mount leaks).
fw_enter_netns() {
	if [ -z "${JEFE_FW_IN_NS:-}" ]; then
		JEFE_FW_IN_NS=1 exec unshare --net --mount --propagation private -- \
			/bin/sh "$0" "$@"
	fi
	ip link set lo up
	# a namespace of our own starts empty: make sure of it before trusting it
	[ -z "$(nft list ruleset)" ] || fail "the new network namespace already has a ruleset"
}

# A temporary root with [agent] and the shipped firewall policy.
fw_make_root() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/jefe-fw.XXXXXX")
	chmod 0755 "$T"
	trap fw_cleanup EXIT
	mkdir -p "$T/etc/jefe/policy.d" "$T/run"
	printf '[agent]\nmode = %s\ncheck_interval = 120\n' "${1:-enforce}" > "$T/etc/jefe/jefe.conf"
	cp "$srcdir/policies/policy.d/30-firewall.conf" "$T/etc/jefe/policy.d/"
	# Every layer loads the policy; the audit layer's default names this
	# file, so T carries the shipped copy (read only, never applied here).
	if [ -f "$srcdir/policies/audit.rules" ]; then
		cp "$srcdir/policies/audit.rules" "$T/etc/jefe/"
	fi
}

fw_cleanup() {
	rc=$?
	for p in ${FW_PIDS:-}; do kill "$p" 2>/dev/null || :; done
	for ns in ${FW_NETNS:-}; do ip netns del "$ns" 2>/dev/null || :; done
	[ -n "${T:-}" ] && rm -rf --one-file-system "$T"
	exit "$rc"
}

# run_jefe WANT_EXIT ARGS...: the CLI on T, output in $OUT.
run_jefe() {
	want=$1; shift
	got=0
	OUT=$(timeout 30 "$JEFE" --root "$T" --direct "$@" 2>&1) || got=$?
	[ "$got" = "$want" ] || fail "jefe $* exited $got, expected $want:
$OUT"
}

# The JSON ruleset of one table (or all but table inet jefe with "others"),
# handles and metainfo removed, keys sorted: stable across runs.  FW_IN
# prefixes nft ("ip netns exec NS").
fw_json() {
	${FW_IN:-} nft -j list ruleset | "$PYTHON" -c '
import json, sys
want = sys.argv[1]
doc = json.load(sys.stdin)["nftables"]
out = []
for obj in doc:
    (kind, body), = obj.items()
    if kind == "metainfo":
        continue
    body = dict(body)
    body.pop("handle", None)
    fam = body.get("family")
    tab = body["name"] if kind == "table" else body.get("table")
    ours = fam == "inet" and tab == "jefe"
    if ours != (want == "jefe"):
        continue
    out.append({kind: body})
print(json.dumps(out, indent=1, sort_keys=True))
' "$1"
}

# fw_golden NAME: table inet jefe equals tests/netns/golden/NAME.
fw_golden() {
	fw_json jefe > "$T/got.json"
	if [ -n "${FW_GOLDEN_UPDATE:-}" ]; then
		cp "$T/got.json" "$GOLDEN/$1"
	fi
	diff -u "$GOLDEN/$1" "$T/got.json" >&2 ||
		fail "nft -j list ruleset differs from the golden dump $1"
}

# The handle of the first rule of inet jefe CHAIN whose text contains PATTERN.
fw_handle() {
	nft -a list chain inet jefe "$1" | grep -F -- "$2" | head -n1 |
		sed -n 's/.*# handle \([0-9]*\)$/\1/p'
}

# Two network namespaces of our own, $A (the firewalled host, 10.99.0.1,
# fd00:99::1) and $B (the client, .2), joined by a veth pair (jfa$$ in
# $A, jfb$$ in $B); ina/inb run a command in each.  Needs T (fw_make_root).
fw_veth_pair() {
	A=jefe-fw-$$-a
	B=jefe-fw-$$-b
	FW_NETNS="$A $B"
	ip netns add "$A"
	ip netns add "$B"
	ip link add "jfa$$" netns "$A" type veth peer name "jfb$$" netns "$B"
	ina ip link set lo up
	inb ip link set lo up
	ina ip addr add 10.99.0.1/24 dev "jfa$$"
	inb ip addr add 10.99.0.2/24 dev "jfb$$"
	ina ip addr add fd00:99::1/64 dev "jfa$$" nodad
	inb ip addr add fd00:99::2/64 dev "jfb$$" nodad
	ina ip link set "jfa$$" up
	inb ip link set "jfb$$" up
	[ -z "$(ina nft list ruleset)" ] || fail "namespace $A is not empty"
}
ina() { ip netns exec "$A" "$@"; }
inb() { ip netns exec "$B" "$@"; }

# Listeners in $A on 22, 8080 and 8081 (dual stack) echoing what they get,
# and $T/client.py: `client.py HOST PORT [N]` makes N connections in a
# row, kept open, and prints one word per attempt (ok / timeout /
# refused), then whether the first still carries data (echo / noecho).
fw_traffic_start() {
	cat > "$T/server.py" <<'PY'
import socket, sys, threading
def serve(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()
def echo(c):
    while True:
        d = c.recv(100)
        if not d:
            return
        c.sendall(d)
for p in (22, 8080, 8081):
    threading.Thread(target=serve, args=(p,), daemon=True).start()
open(sys.argv[1], "w").close()
threading.Event().wait(int(sys.argv[2]) if len(sys.argv) > 2 else 120)
PY
	cat > "$T/client.py" <<'PY'
import socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1
socks, words = [], []
for i in range(n):
    try:
        socks.append(socket.create_connection((host, port), timeout=2))
        words.append("ok")
    except socket.timeout:
        words.append("timeout")
    except ConnectionRefusedError:
        words.append("refused")
if socks:
    socks[0].settimeout(2)
    try:
        socks[0].sendall(b"jefe\n")
        words.append("echo" if socks[0].recv(16) == b"jefe\n" else "noecho")
    except OSError:
        words.append("noecho")
print(" ".join(words))
PY
	ina "$PYTHON" "$T/server.py" "$T/listening" "${1:-120}" &
	FW_PIDS="${FW_PIDS:-} $!"
	i=0
	while [ ! -e "$T/listening" ]; do
		i=$((i + 1)); [ $i -le 500 ] || fail "server did not start"
		sleep 0.01
	done
}
