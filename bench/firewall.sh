#!/bin/sh
# bench/firewall.sh - the firewall layer, measured in a private network
# namespace (the host's ruleset is never touched):
#
#   1. a full check (`jefe status --layer firewall`: dump table inet jefe
#      over netlink and compare it structurally) against `nft -j list
#      ruleset` of the same ruleset, both as whole commands (hyperfine);
#   2. the same with a policy of 10,000 allowed source addresses in a set;
#   3. drift detection latency of jefe-setup over 100 tampers (p50/p99,
#      tamper command returned -> drift line received on the log socket),
#      against the time of one `nft -j list ruleset` in the same run.
#
#   bench/firewall.sh [BUILDDIR]     (default: _build; run as root)
set -eu
srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=$(cd "${1:-$srcdir/_build}" && pwd)
jefe="$builddir/jefe"
jefe_setup="$builddir/jefe-setup"
[ -x "$jefe" ] && [ -x "$jefe_setup" ] || { echo "no $jefe / $jefe_setup: build first" >&2; exit 1; }
for c in hyperfine nft unshare python3; do
	command -v "$c" >/dev/null || { echo "$c is not installed" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "run as root (it makes a network namespace)" >&2; exit 1; }
if [ -z "${JEFE_BENCH_IN_NS:-}" ]; then
	JEFE_BENCH_IN_NS=1 exec unshare --net -- /bin/sh "$0" "$builddir"
fi
ip link set lo up
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
chmod 0755 "$T"
mkdir -p "$T/etc/jefe/policy.d" "$T/run"
printf '[agent]\nmode = report\ncheck_interval = 3600\n' > "$T/etc/jefe/jefe.conf"
cp "$srcdir/policies/policy.d/30-firewall.conf" "$T/etc/jefe/policy.d/"
[ ! -f "$srcdir/policies/audit.rules" ] || cp "$srcdir/policies/audit.rules" "$T/etc/jefe/"

compare() {	# LABEL: hyperfine, jefe status vs nft -j list ruleset
	"$jefe" --root "$T" --direct status --layer firewall >/dev/null ||
		{ echo "$1: jefe status is not compliant after enforce" >&2; exit 1; }
	hyperfine -N --warmup 5 --runs "${RUNS:-50}" --export-json "$T/h.json" \
		-n 'nft -j list ruleset' 'nft -j list ruleset' \
		-n 'jefe status --layer firewall' \
		"$jefe --root $T --direct status --layer firewall" >/dev/null
	"$PY" - "$T/h.json" "$1" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
b, j = r[0], r[1]
print(f"{sys.argv[2]}:")
print(f"  nft -j list ruleset:          mean {b['mean']*1e3:7.2f} ms (sd {b['stddev']*1e3:.2f})")
print(f"  jefe status --layer firewall: mean {j['mean']*1e3:7.2f} ms (sd {j['stddev']*1e3:.2f})")
print(f"  ratio jefe/nft:               {j['mean']/b['mean']:.2f}x")
PYEOF
}

"$jefe" --root "$T" --direct enforce --layer firewall >/dev/null
compare "default policy ($(nft list chain inet jefe input | grep -c -E 'accept$|drop$') rules in input)"

# 10,000 sources that do not merge into ranges: every other address.
"$PY" - > "$T/etc/jefe/policy.d/40-bench.conf" <<'PYEOF'
addrs = []
for i in range(10000):
    n = (10 << 24) + 2 * i
    addrs.append("%d.%d.%d.%d" % (n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255))
# the policy's lines are short: continue the value on indented lines
print("[firewall.service.bench]\nports = 8443\nsources = " + addrs[0] + ",")
for i in range(1, len(addrs), 8):
    print("\t" + ", ".join(addrs[i:i + 8]) + ",")
PYEOF
t0=$(date +%s%N)
"$jefe" --root "$T" --direct enforce --layer firewall >/dev/null
t1=$(date +%s%N)
echo "enforce of the 10,000-source policy (one batch): $(( (t1 - t0) / 1000000 )) ms"
[ "$(nft -j list set inet jefe bench_v4 | "$PY" -c 'import json,sys; print(len([o for o in json.load(sys.stdin)["nftables"] if "set" in o][0]["set"]["elem"]))')" = 10000 ] ||
	{ echo "the set does not hold 10,000 elements" >&2; exit 1; }
RUNS=20 compare "10,000 allowed sources in a set"
rm "$T/etc/jefe/policy.d/40-bench.conf"
"$jefe" --root "$T" --direct enforce --layer firewall >/dev/null

# 3. Detection latency: the script is jefe-setup's log sink.
printf 'mode = enforce\n' >> "$T/etc/jefe/policy.d/30-firewall.conf"
"$PY" - "$jefe_setup" "$T" <<'PYEOF'
import os, socket, subprocess, sys, time
setup, root = sys.argv[1], sys.argv[2]
sock_path = os.path.join(root, "log.sock")
log = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
log.bind(sock_path)
log.settimeout(10)
rfd, wfd = os.pipe()
d = subprocess.Popen([setup, "--root", root, "--foreground", "--log-socket", sock_path,
                      "--ready-fd", str(wfd)], pass_fds=(wfd,), stderr=subprocess.DEVNULL)
os.close(wfd)
if not os.read(rfd, 16):
    sys.exit("jefe-setup did not become ready")

def wait_line(word, deadline=10.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        line = log.recv(65536).decode(errors="replace")
        if word in line:
            return time.monotonic(), line
    sys.exit("no '%s' line" % word)

def handle(pattern):
    out = subprocess.run(["nft", "-a", "list", "chain", "inet", "jefe", "input"],
                         capture_output=True, text=True, check=True).stdout
    for l in out.splitlines():
        if pattern in l:
            return l.rsplit("# handle ", 1)[1]
    sys.exit("no rule with " + pattern)

tampers = [
    lambda: ["nft", "add", "rule", "inet", "jefe", "input", "accept"],
    lambda: ["nft", "chain", "inet", "jefe", "input", "{ policy accept; }"],
    lambda: ["nft", "delete", "rule", "inet", "jefe", "input", "handle", handle("tcp dport 22")],
    lambda: ["nft", "flush", "ruleset"],
]
# baseline: one nft -j list ruleset, same run
base = []
for _ in range(20):
    t = time.monotonic()
    subprocess.run(["nft", "-j", "list", "ruleset"], stdout=subprocess.DEVNULL, check=True)
    base.append(time.monotonic() - t)
lat, rep = [], []
for i in range(100):
    cmd = tampers[i % len(tampers)]()
    time.sleep(0.05)
    try:
        while True:
            log.settimeout(0.001)
            log.recv(65536)
    except (socket.timeout, BlockingIOError):
        pass
    log.settimeout(10)
    subprocess.run(cmd, check=True)
    t0 = time.monotonic()
    t1, line = wait_line("drift layer=firewall")
    if "action=repaired" not in line:
        sys.exit("not repaired: " + line)
    t2, _ = wait_line("compliant layer=firewall")
    lat.append(t1 - t0)
    rep.append(t2 - t0)
d.terminate()
d.wait(timeout=10)

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]
b = sorted(base)[len(base) // 2]
print("detection over 100 tampers (add rule, policy accept, delete rule, flush ruleset):")
print("  nft -j list ruleset (baseline): p50 %6.2f ms" % (b * 1e3))
print("  drift line (repaired):          p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms  (p50 %.2fx baseline)"
      % (pct(lat, 50) * 1e3, pct(lat, 99) * 1e3, max(lat) * 1e3, pct(lat, 50) / b))
print("  compliant line after repair:    p50 %6.2f ms  p99 %6.2f ms"
      % (pct(rep, 50) * 1e3, pct(rep, 99) * 1e3))
PYEOF
