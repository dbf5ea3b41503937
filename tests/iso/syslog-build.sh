#!/bin/sh
# jefe-image-build's log collector options: bad ones are refused before
# any stage runs (exit 64, the option named); good ones put the CA and
# the collector into the image (stage 4, its own cache key), where the
# rsyslog service reads them at boot (tests/iso/syslog-tls.sh boots it).
. "$abs_top_srcdir/tests/iso/lib.sh"
need unsquashfs xorriso

tmp=$ISO_STATE/syslog-build
rm -rf "$tmp" && mkdir -p "$tmp"
[ -x "$ISO_TOOL" ] || fail "no $ISO_TOOL (make first)"
iso_syslog_pki
[ -f "$ISO_KEY.pub" ] || { mkdir -p "$ISO_STATE/key"; ssh-keygen -q -t ed25519 -N '' -f "$ISO_KEY"; }
echo "not a certificate" >"$tmp/bad.pem"

# refused OPTIONS... MESSAGE: exit 64 and the message, nothing built.
refused() {
	msg=$1
	shift
	rc=0
	"$ISO_TOOL" --agent-destdir "$tmp" --authorized-keys "$ISO_KEY.pub" \
		--workdir "$tmp/work" --outdir "$tmp/out" --source-date-epoch 1 \
		"$@" >"$tmp/out.log" 2>&1 || rc=$?
	[ "$rc" = 64 ] || { cat "$tmp/out.log" >&2; fail "$* : exit $rc, not 64"; }
	grep -qF -- "$msg" "$tmp/out.log" || { cat "$tmp/out.log" >&2; fail "$* : no '$msg'"; }
	[ ! -e "$tmp/work" ] && [ ! -e "$tmp/out" ] || fail "$* : refused but wrote something"
}
ca=$ISO_SYSLOG_PKI/ca.pem
refused "--syslog-remote needs --syslog-ca" --syslog-remote logs.example.org:6514
refused "expected HOST:PORT" --syslog-remote logs.example.org --syslog-ca "$ca"
refused "expected HOST:PORT" --syslog-remote :6514 --syslog-ca "$ca"
refused "expected HOST:PORT" --syslog-remote logs.example.org:0 --syslog-ca "$ca"
refused "expected HOST:PORT" --syslog-remote logs.example.org:65536 --syslog-ca "$ca"
refused "expected HOST:PORT" --syslog-remote 'a b:514' --syslog-ca "$ca"
refused "expected HOST:PORT" --syslog-remote 'x;rm:514' --syslog-ca "$ca"
refused "no PEM certificate" --syslog-ca "$tmp/bad.pem"
refused "--syslog-ca $tmp/missing.pem: No such file" --syslog-ca "$tmp/missing.pem"
echo "# bad --syslog-remote / --syslog-ca refused before any stage"

# The shared cache: stages 1-3 are hits; stage 4 (and 5) differ by the
# collector, into their own output directory.
iso_build --syslog-remote logs.example.org:6514 --outdir "$tmp/iso" >"$tmp/build.log" 2>&1 || {
	cat "$tmp/build.log" >&2
	fail "the build with --syslog-remote failed"
}
set -- "$tmp"/iso/jefelinux-*-x86_64.iso
[ -f "$1" ] || fail "no ISO in $tmp/iso"
xorriso -osirrox on -indev "$1" -extract /live/root.sfs "$tmp/root.sfs" >"$tmp/xorriso.log" 2>&1 ||
	fail "no /live/root.sfs in the ISO"
remote=$(unsquashfs -cat "$tmp/root.sfs" etc/jefe/syslog-remote) ||
	fail "no /etc/jefe/syslog-remote in the image"
[ "$remote" = "logs.example.org:6514" ] || fail "/etc/jefe/syslog-remote is '$remote'"
unsquashfs -cat "$tmp/root.sfs" etc/jefe/syslog-ca.pem | cmp -s - "$ca" ||
	fail "/etc/jefe/syslog-ca.pem is not the --syslog-ca file"
unsquashfs -cat "$tmp/root.sfs" etc/rsyslog.d/50-jefe-forward.conf | grep -q '/run/jefe-syslog/forward.conf' ||
	fail "rsyslog does not include the boot-time forwarding config"
unsquashfs -lls "$tmp/root.sfs" etc/runlevels/boot/rsyslog | grep -q 'rsyslog -> /etc/init.d/rsyslog' ||
	fail "rsyslog is not in the boot runlevel (before jefe)"
for m in lmnsd_gtls.so imklog.so; do
	unsquashfs -l "$tmp/root.sfs" | grep -q "/rsyslog/$m\$" || fail "no rsyslog module $m in the image"
done

# The shared build (no --syslog-remote) right after, from the same cache:
# no collector in it, so the collector is part of stage 4's cache key.
iso_build >"$tmp/build-shared.log" 2>&1 || { cat "$tmp/build-shared.log" >&2; fail "the shared build failed"; }
xorriso -osirrox on -indev "$(iso_file)" -extract /live/root.sfs "$tmp/shared.sfs" >"$tmp/xorriso.log" 2>&1 ||
	fail "no /live/root.sfs in the shared ISO"
if unsquashfs -cat "$tmp/shared.sfs" etc/jefe/syslog-remote >/dev/null 2>&1; then
	fail "the build without --syslog-remote has a collector (a stale cache entry?)"
fi
unsquashfs -cat "$tmp/shared.sfs" etc/jefe/syslog-ca.pem | cmp -s - "$ca" ||
	fail "the shared build lacks the test CA"
rm -rf "$tmp/iso" "$tmp/root.sfs" "$tmp/shared.sfs"
echo "PASS: the collector options are checked and land in the image"
