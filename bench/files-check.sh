#!/bin/sh
# bench/files-check.sh - time a full files-layer check of this host
# (`jefe status --layer files`, read-only, the shipped 60-files.conf)
# against the same work done by standard tools in the same run: find(1)
# for set-id files in suid_dirs and world-writable entries in
# world_writable_dirs (same depth and one filesystem), stat(1) of every
# [files.perms] path, sha256sum(1) of the baseline files.  Prints the
# ratio, and the walk's entry count.
#
#   bench/files-check.sh [BUILDDIR]     (default: _build)
#
# Read-only on the host: status never writes, and mode = report.  jefe
# exits 2 here (this host has drift: no baseline, /tmp options), hence -i.
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
cp "$srcdir/policies/policy.d/60-files.conf" "$T/policy.d/"

# The policy's lists, joined from its continuation lines.
val() {
	awk -v k="$1" '
		$0 ~ "^" k " *=" { sub("^[^=]*= *", ""); v = $0; on = 1; next }
		on && /^[ \t]/ { sub("^[ \t]+", ""); v = v " " $0; next }
		{ on = 0 }
		END { print v }' "$T/policy.d/60-files.conf"
}
suid_dirs=$(val suid_dirs)
ww_dirs=$(val world_writable_dirs)
baseline=$(val baseline; val baseline_managed)
perms=$(sed -n '/^\[files.perms\]/,$ s|^\(/[^ ]*\) = .*|\1|p' "$T/policy.d/60-files.conf" | tr '\n' ' ')

cat >"$T/tools.sh" <<SH
find $suid_dirs -xdev -maxdepth 4 -type f \\( -perm -4000 -o -perm -2010 \\) 2>/dev/null >/dev/null
find $ww_dirs -xdev -maxdepth 4 \\( -type f -perm -0002 -o -type d -perm -0002 ! -perm -1000 \\) 2>/dev/null >/dev/null
stat -c '%a %u %g' $perms >/dev/null 2>&1
sha256sum $baseline >/dev/null 2>&1
exit 0
SH

set +e
"$jefe" --direct --config "$T/jefe.conf" status --layer files --json >"$T/out.json"
rc=$?
set -e
[ "$rc" -le 2 ] || { echo "jefe status --layer files failed (exit $rc)" >&2; exit 1; }
entries=$(python3 -c 'import json,sys; f={x["id"]:x for x in json.load(open(sys.argv[1]))["findings"]}; print(f.get("files:world-writable",{}).get("actual","?"))' "$T/out.json")

hyperfine -N -i --warmup 3 --runs 30 --export-json "$T/h.json" \
	-n 'find + stat + sha256sum' "sh $T/tools.sh" \
	-n 'jefe status --layer files' \
	"$jefe --direct --config $T/jefe.conf status --layer files" >"$T/h.txt"
python3 - "$T/h.json" "$entries" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
base, jefe = r[0], r[1]
print(f"world-writable walk: {sys.argv[2]}")
print(f"find + stat + sha256sum:       mean {base['mean']*1e3:.1f} ms (sd {base['stddev']*1e3:.1f})")
print(f"jefe status --layer files:     mean {jefe['mean']*1e3:.1f} ms (sd {jefe['stddev']*1e3:.1f})")
print(f"ratio jefe/tools:              {jefe['mean']/base['mean']:.2f}x")
PY
