#!/bin/sh
# The lock, the package cache and the SBOM (issue 18):
#  1. a build with the network and --package-cache writes out/NAME.lock
#     (every installed package, version, arch, SHA-256 of its .deb, equal to
#     the cached .deb's), out/NAME.spdx.json (valid against the SPDX 2.3
#     schema in tests/iso, the same packages and hashes as the manifest and
#     the lock) and a manifest without the removed package manager;
#  2. a rebuild inside a network namespace holding only lo, from the lock and
#     the cache (--offline --no-cache, its own work directory): the same ISO,
#     lock and SBOM, byte for byte;
#  3. a lock with one hash changed fails in stage 1, naming the package,
#     before anything is installed;
#  4. with the network, a locked version the mirror does not have fails
#     stage 1 with apt's message naming the package and version;
#  5. a malformed lock is a usage error naming the file and line.
. "$abs_top_srcdir/tests/iso/lib.sh"
export abs_top_builddir abs_top_srcdir

need unshare ip cmp python3 sha256sum
log=$ISO_STATE/offline.log
debs=$ISO_STATE/debs
schema=$abs_top_srcdir/tests/iso/spdx-2.3.schema.json

iso_build --package-cache "$debs" >"$log" 2>&1 || { cat "$log" >&2; fail "network build failed"; }
cat "$log"
iso=$(iso_file)
lock=${iso%.iso}.lock
sbom=${iso%.iso}.spdx.json
manifest=${iso%.iso}.manifest
[ -s "$lock" ] || fail "no lock $lock"
[ -s "$sbom" ] || fail "no SBOM $sbom"
keep=$ISO_STATE/offline-first
rm -rf "$keep"
mkdir -p "$keep"
cp "$iso" "$lock" "$sbom" "$manifest" "$keep/"

# The lock: its header, and each package's hash is that of the kept .deb.
for key in 'base debian' 'suite ' 'arch x86_64' 'kernel-cmdline .*lockdown=integrity' \
	'overlay-sha256 [0-9a-f]{64}$' 'agent-revision test$'; do
	grep -qE "^$key" "$lock" || fail "lock header lacks /$key/"
done
n=0
while read -r name version arch sum; do
	file=$(printf '%s_%s_%s.deb' "$name" "$version" "$arch" | sed 's/:/%3a/')
	[ -f "$debs/$file" ] || fail "the package cache lacks $file"
	[ "$(sha256sum "$debs/$file" | cut -d' ' -f1)" = "$sum" ] ||
		fail "lock: $name's hash is not that of $debs/$file"
	n=$((n + 1))
done <<EOF
$(grep -E '^[a-z0-9][a-z0-9+.-]* [^ ]+ [a-z0-9]+ [0-9a-f]{64}$' "$lock")
EOF
[ "$n" -gt 100 ] || fail "lock lists only $n packages"
grep -qE '^apt ' "$lock" || fail "the lock lacks apt (installed to build, then removed)"
echo "# lock: $n packages, every hash that of the cached .deb"

# The manifest lists what the image holds: not the package manager.
for pm in apt libapt-pkg6.0 debconf; do
	! grep -qE "^$pm " "$manifest" || fail "manifest lists $pm, removed from the image"
done
grep -qE '^openrc [0-9]' "$manifest" || fail "manifest lacks openrc"

# The SBOM: the schema, then its content against the lock and the manifest.
python3 - "$schema" "$sbom" "$lock" "$manifest" "$iso" <<'PY' || fail "SBOM check failed"
import hashlib, json, sys
import jsonschema

schema, sbom, lockf, manifest, iso = sys.argv[1:]
doc = json.load(open(sbom))
jsonschema.Draft7Validator.check_schema(json.load(open(schema)))
jsonschema.validate(doc, json.load(open(schema)), cls=jsonschema.Draft7Validator)
lock = {}
for line in open(lockf):
    f = line.split()
    if len(f) == 4 and len(f[3]) == 64:
        lock[f[0]] = (f[1], f[3])
held = {}
for line in open(manifest):
    f = line.split()
    if len(f) == 2 and not line.startswith(("#", "agent-revision", "base ", "source-date", "iso-")):
        held[f[0]] = f[1]
pkgs = {p["name"]: p for p in doc["packages"]}
ids = {p["SPDXID"] for p in doc["packages"]}
for name, version in held.items():
    p = pkgs.get(name)
    assert p, "SBOM lacks %s" % name
    assert p["versionInfo"] == version, name
    assert p["checksums"][0]["checksumValue"] == lock[name][1], name + ": hash differs from the lock"
    assert p["supplier"].startswith(("Person: ", "Organization: ")), name
for name in ("apt", "libapt-pkg6.0", "debconf"):
    assert name not in pkgs, "SBOM lists " + name
debs = [p for p in doc["packages"] if p["SPDXID"].startswith("SPDXRef-deb-")]
assert len(debs) == len(held), "SBOM has %d packages, the manifest %d" % (len(debs), len(held))
image = pkgs["jefelinux"]
assert image["checksums"][0]["checksumValue"] == hashlib.sha256(open(iso, "rb").read()).hexdigest()
assert "jefe-agent" in pkgs and "jefe-image-build" in pkgs, "no agent or builder package"
rels = {(r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"]) for r in doc["relationships"]}
assert ("SPDXRef-DOCUMENT", "DESCRIBES", image["SPDXID"]) in rels
for p in debs + [pkgs["jefe-agent"]]:
    assert (image["SPDXID"], "CONTAINS", p["SPDXID"]) in rels, p["name"]
for a, _, b in rels:
    assert a in ids | {"SPDXRef-DOCUMENT"} and b in ids, (a, b)
declared = {e["licenseId"] for e in doc.get("hasExtractedLicensingInfos", [])}
for p in debs:
    for tok in p["licenseDeclared"].replace("(", " ").replace(")", " ").split():
        assert not tok.startswith("LicenseRef-") or tok in declared, tok
known = [p for p in debs if p["licenseDeclared"] != "NOASSERTION"]
assert len(known) > len(debs) // 2, "licenses for only %d of %d packages" % (len(known), len(debs))
print("# SBOM: valid SPDX 2.3, %d packages (%d with a license), agent and builder" % (len(debs), len(known)))
PY

# 2. No network at all: a namespace with only lo, its own work directory,
# every stage run again from the lock and the cache.
offline_build() {
	unshare -n -- sh -c '
		set -e
		# netlink, not /sys/class/net: sysfs still shows the host'"'"'s
		if ip -o link show | grep -v ": lo:"; then
			echo "a network interface besides lo"
			exit 99
		fi
		. "$abs_top_srcdir/tests/iso/lib.sh"
		trap - EXIT
		ISO_WORK=$ISO_STATE/work-offline ISO_OUT=$1
		shift
		iso_build "$@"' sh "$@"
}
rm -rf "$ISO_STATE/work-offline"
out2=$ISO_STATE/out-offline
offline_build "$out2" --lock "$keep/$(basename "$lock")" --package-cache "$debs" \
	--offline --no-cache >"$log" 2>&1 || { cat "$log" >&2; fail "offline rebuild failed"; }
cat "$log"
[ "$(grep -c '\.\.\. OK (' "$log")" = 5 ] || fail "the offline rebuild did not run all five stages"
for f in "$iso" "$lock" "$sbom" "$manifest"; do
	b=$(basename "$f")
	cmp "$keep/$b" "$out2/$b" || fail "offline rebuild: $b differs"
done
echo "# offline rebuild: ISO, lock, SBOM and manifest byte-identical"

# 3. One hash changed: stage 1 fails naming the package, stage 2 never runs.
bad=$ISO_STATE/offline-bad.lock
awk '$1 == "bash" && NF == 4 { $4 = "0000000000000000000000000000000000000000000000000000000000000000" } { print }' \
	"$keep/$(basename "$lock")" >"$bad"
grep -q '^bash .* 0\{64\}$' "$bad" || fail "could not alter bash's hash in the lock"
if offline_build "$ISO_STATE/out-bad" --lock "$bad" --package-cache "$debs" --offline \
	>"$log" 2>&1; then
	cat "$log" >&2
	fail "a lock with a wrong hash built"
fi
cat "$log"
grep -q 'stage 1 (Bootstrap) failed: locked package bash .*SHA-256' "$log" ||
	fail "stage 1 did not fail naming bash"
! grep -q 'Stage 2/5' "$log" || fail "stage 2 ran after a hash mismatch"
grep -qE 'package bash .*SHA-256' "$log" || fail "the failure does not name bash and its hash"
! grep -qs mmdebstrap "$ISO_STATE/work-offline/logs/stage-1.log" ||
	fail "mmdebstrap ran before the hashes were checked"

# 4. With the network, a locked version the mirror cannot supply: named.
# Every other .deb is in the cache, so only bash is asked of the mirror.
partial=$ISO_STATE/debs-partial
rm -rf "$partial"
mkdir -p "$partial"
ln "$debs"/*.deb "$partial"/
awk '$1 == "bash" && NF == 4 { $2 = "9.9.9-jefe-missing" } { print }' \
	"$keep/$(basename "$lock")" >"$bad"
if ISO_WORK=$ISO_STATE/work-offline ISO_OUT=$ISO_STATE/out-bad iso_build --lock "$bad" \
	--package-cache "$partial" >"$log" 2>&1; then
	cat "$log" >&2
	fail "a lock with a version the mirror lacks built"
fi
cat "$log"
grep -q "Version '9.9.9-jefe-missing' for 'bash' was not found" "$log" ||
	fail "apt's error naming bash's missing version is not shown"
grep -q 'stage 1 (Bootstrap) failed: the mirror .* could not supply' "$log" ||
	fail "stage 1 did not fail on the missing version"

# 5. A malformed lock is refused before any stage, with its file and line.
printf 'base debian\nsuite bookworm\narch x86_64\nbash 5.2 amd64 nothex\n' >"$bad"
rc=0
"$ISO_TOOL" --agent-destdir "$ISO_STATE/agent" --authorized-keys "$ISO_KEY.pub" \
	--source-date-epoch 1 --workdir "$ISO_STATE/work-offline" --lock "$bad" \
	>"$log" 2>&1 || rc=$?
cat "$log"
[ "$rc" = 64 ] || fail "a malformed lock: exit $rc, not 64"
grep -q "$bad line 4: package bash: 'nothex' is not a SHA-256" "$log" ||
	fail "the malformed lock's error does not name file and line"

rm -rf "$ISO_STATE/work-offline" "$out2" "$ISO_STATE/out-bad" "$bad" "$keep" "$partial"
echo "PASS: lock, offline rebuild, SBOM"
