#!/bin/sh
# bench/sysctl-check.sh - time a full sysctl-layer check of 50 keys
# (`jefe status --layer sysctl`, read-only) against the same 50 reads done
# by the sysctl command, in the same run, and print the ratio.
#
#   bench/sysctl-check.sh [BUILDDIR]     (default: _build)
#
# Read-only on the host: the policy holds each key's current value and
# persistence is off, so nothing is written anywhere.
set -eu
srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-$srcdir/_build}
jefe="$builddir/jefe"
[ -x "$jefe" ] || { echo "no $jefe: build first (./build.sh --target check)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine is not installed" >&2; exit 1; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/policy.d"
printf '[agent]\nmode = report\n' >"$T/jefe.conf"

# 50 readable keys: the shipped policy's first, then others from sysctl -a.
{
	sed -n 's/^\([a-z][a-z0-9_.]*\) = .*/\1/p' "$srcdir/policies/policy.d/10-sysctl.conf"
	sysctl -a 2>/dev/null | sed -n 's/^\([a-z][a-z0-9_.]*\) = .*/\1/p'
} | grep -v '^kernel.lockdown$' | awk '!seen[$0]++' | while read -r k; do
	v=$(sysctl -n "$k" 2>/dev/null) || continue
	[ -n "$v" ] || continue
	case "$v" in *"
"*) continue ;; esac
	printf '%s = %s\n' "$k" "$(printf '%s' "$v" | tr -s '\t ' '  ')"
done | head -n 50 >"$T/keys"
[ "$(wc -l <"$T/keys")" = 50 ] || { echo "could not find 50 readable keys" >&2; exit 1; }
{ echo '[sysctl]'; echo 'persist = no'; cat "$T/keys"; } >"$T/policy.d/10-sysctl.conf"
keys=$(cut -d' ' -f1 "$T/keys" | tr '\n' ' ')

"$jefe" --direct --config "$T/jefe.conf" status --layer sysctl >/dev/null ||
	{ echo "jefe status did not report compliance on its own values" >&2; exit 1; }

hyperfine -N --warmup 20 --runs 300 --export-json "$T/h.json" \
	-n 'sysctl -n (50 keys)' "sysctl -n $keys" \
	-n 'jefe status --layer sysctl (50 keys)' \
	"$jefe --direct --config $T/jefe.conf status --layer sysctl" >"$T/h.txt"
python3 - "$T/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
base, jefe = r[0], r[1]
for name, x in (("sysctl -n, 50 keys", base), ("jefe status, 50-key check", jefe)):
    print(f"{name + ':':30} median {x['median']*1e3:.2f} ms, min {x['min']*1e3:.2f} ms, mean {x['mean']*1e3:.2f} ms")
print(f"{'ratio jefe/sysctl (median):':30} {jefe['median']/base['median']:.2f}x")
PY

# Wall time is noisy on a shared machine; instruction counts are not.
if command -v valgrind >/dev/null; then
	ir() {
		valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
			sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
	}
	# shellcheck disable=SC2086
	base_ir=$(ir sysctl -n $keys)
	jefe_ir=$(ir "$jefe" --direct --config "$T/jefe.conf" status --layer sysctl)
	echo "instructions, sysctl -n:       $base_ir"
	echo "instructions, jefe status:     $jefe_ir"
	awk -v a="$jefe_ir" -v b="$base_ir" 'BEGIN { printf "ratio jefe/sysctl (instr.):     %.2fx\n", a / b }'
fi
