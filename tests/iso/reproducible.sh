#!/bin/sh
# Two builds from the same tree, package versions and SOURCE_DATE_EPOCH
# give a byte-identical ISO: the second runs every stage again
# (--no-cache) and writes to another out directory.
. "$abs_top_srcdir/tests/iso/lib.sh"

log=$ISO_STATE/repro.log
iso_build >"$log" 2>&1 || { cat "$log" >&2; fail "first build failed"; }
a=$(iso_file)
suma=$(sha256sum "$a" | cut -d' ' -f1)
cp "$a" "$ISO_STATE/repro-first.iso"

ISO_OUT=$ISO_STATE/out-repro
iso_build --no-cache >"$log" 2>&1 || { cat "$log" >&2; fail "second build failed"; }
cat "$log"
[ "$(grep -c '\.\.\. OK (' "$log")" = 5 ] || fail "--no-cache did not run all five stages"
b=$(iso_file)
sumb=$(sha256sum "$b" | cut -d' ' -f1)
if [ "$suma" != "$sumb" ]; then
	cmp -l "$ISO_STATE/repro-first.iso" "$b" | head -20 >&2
	fail "two builds differ: $suma vs $sumb"
fi
rm -f "$ISO_STATE/repro-first.iso"
echo "# both builds: $suma"
echo "PASS: reproducible ISO"
