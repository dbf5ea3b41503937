#!/bin/sh
# The build's cache and error contracts, on the shared test build:
# - an unchanged build reuses every stage (printed "cached"), gives the
#   same ISO, byte for byte, and leaves no jefelinux-*.iso.tmp beside it;
# - --from-stage 4 rebuilds stages 4-5 only, and gives the same ISO;
# - an interrupted stage leaves no half-written entry and no mount, and
#   the next build is fully cached again;
# - the output line reads "Total: ... | Output: jefelinux-...iso (N MB)",
#   with a .sha256 and a manifest (package + version, revision).
# How long the rebuild takes and how big the ISO is are figures, not pass
# marks: bench/iso-cache.sh measures them (docs/BENCHMARKS.md).
. "$abs_top_srcdir/tests/iso/lib.sh"

log=$ISO_STATE/cache.log
iso_build >"$log" 2>&1 || { cat "$log" >&2; fail "first build failed"; }
first=$(sha256sum "$(iso_file)" | cut -d' ' -f1)

start=$(date +%s)
iso_build >"$log" 2>&1 || { cat "$log" >&2; fail "rebuild failed"; }
took=$(($(date +%s) - start))
cat "$log"
[ "$(grep -c '^\[Stage [1-5]/5\] [A-Za-z ]*\.\.\. cached$' "$log")" = 5 ] ||
	fail "an unchanged rebuild did not reuse all five stages"
[ "$(sha256sum "$(iso_file)" | cut -d' ' -f1)" = "$first" ] ||
	fail "an unchanged rebuild gave another ISO"
# The rebuild found out/ holding the cached ISO's inode already: nothing
# may be left beside it under a temporary name.
if ls "$ISO_OUT"/*.tmp 2>/dev/null; then
	fail "a rebuild left a temporary file in $ISO_OUT"
fi
line=$(grep '^Total: ' "$log")
echo "$line" | grep -qE '^Total: ([0-9]+m)?[0-9]+s \| Output: jefelinux-[0-9.]+-x86_64\.iso \([0-9]+ MB\)$' ||
	fail "bad summary line: $line"
mb=$(echo "$line" | sed 's/.*(\([0-9]*\) MB)$/\1/')
iso=$(iso_file)
(cd "$ISO_OUT" && sha256sum -c "$(basename "$iso").sha256") || fail ".sha256 does not match"
manifest=${iso%.iso}.manifest
grep -q '^agent-revision test$' "$manifest" || fail "manifest lacks the agent revision"
grep -qE '^openrc [0-9]' "$manifest" || fail "manifest lacks openrc with its version"
grep -qE '^linux-image-[0-9].* [0-9]' "$manifest" || fail "manifest lacks the kernel package"
echo "# no-change rebuild: ${took}s, ISO $mb MB (figures: bench/iso-cache.sh)"

# --from-stage 4: 1-3 cached, 4-5 rebuilt, same bytes (reproducible).
iso_build --from-stage 4 >"$log" 2>&1 || { cat "$log" >&2; fail "--from-stage 4 failed"; }
cat "$log"
[ "$(grep -c '\.\.\. cached$' "$log")" = 3 ] || fail "--from-stage 4 did not reuse stages 1-3"
grep -qE '^\[Stage 4/5\] Overlay\.\.\. OK \(' "$log" || fail "stage 4 not rebuilt"
grep -qE '^\[Stage 5/5\] ISO Creation\.\.\. OK \(' "$log" || fail "stage 5 not rebuilt"
again=$(sha256sum "$(iso_file)" | cut -d' ' -f1)
[ "$again" = "$first" ] || fail "stages 4-5 rebuilt from the same inputs gave another ISO"

# Interrupt stage 5 half-way: nothing half-written, nothing mounted.
exec 9>"$ISO_STATE/lock"
flock -w "$ISO_BUILD_TIMEOUT" 9 || fail "lock"
"$ISO_TOOL" --srcdir "$abs_top_srcdir" --workdir "$ISO_WORK" --outdir "$ISO_STATE/out-int" \
	--agent-destdir "$ISO_STATE/agent" --agent-revision test \
	--authorized-keys "$ISO_KEY.pub" --source-date-epoch "$(iso_sde)" \
	--syslog-ca "$ISO_SYSLOG_PKI/ca.pem" --from-stage 5 >"$log" 2>&1 &
pid=$!
i=0
until ls -d "$ISO_WORK"/cache/.tmp-5-* >/dev/null 2>&1 || [ $i -ge 100 ]; do
	sleep 0.2
	i=$((i + 1))
done
sleep 3
if ! kill -INT "$pid" 2>/dev/null; then
	wait "$pid" || true
	cat "$log"
	fail "the stage 5 build ended before it could be interrupted (its options must be iso_build's)"
fi
rc=0
wait "$pid" || rc=$?
flock -u 9
exec 9>&-
cat "$log"
[ "$rc" = 130 ] || fail "interrupted build exited $rc, not 130"
grep -q 'INTERRUPTED' "$log" || fail "the interrupted stage was not reported"
if ls -d "$ISO_WORK"/cache/.tmp-* 2>/dev/null; then
	fail "an interrupted stage left its half-written entry"
fi
if grep -q "$ISO_WORK" /proc/mounts; then
	fail "mounts left behind: $(grep "$ISO_WORK" /proc/mounts)"
fi
iso_build >"$log" 2>&1 || { cat "$log" >&2; fail "build after the interrupt failed"; }
[ "$(grep -c '\.\.\. cached$' "$log")" = 5 ] || fail "the interrupt damaged the cache"
echo "PASS: cache reuse, --from-stage, interrupt"
