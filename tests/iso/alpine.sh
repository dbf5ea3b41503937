#!/bin/sh
# The alpine base's command contract, with a stub apk on PATH (no Alpine
# mirror is reachable here): stage 1 runs `apk --root R --initdb` with the
# 3.19 repositories and the keys, stage 2 `apk --root R add` with the
# profile and `apk info -v` for the manifest; a failing apk is reported
# with its stage, command line and output; a missing apk is named with
# its package.
. "$abs_top_srcdir/tests/iso/lib.sh"

[ "$(id -u)" = 0 ] || fail "needs root"
[ -x "$ISO_TOOL" ] || fail "no $ISO_TOOL"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/keys" "$tmp/agent"
echo "ssh-ed25519 AAAA test" >"$tmp/key.pub"
touch "$tmp/keys/alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub"
cat >"$tmp/bin/apk" <<'STUB'
#!/bin/sh
# stub apk: log the call, act just enough for the pipeline to go on
echo "SDE=$SOURCE_DATE_EPOCH $*" >>"$APK_STUB_LOG"
[ -n "${APK_STUB_FAIL:-}" ] && { echo "ERROR: unable to select packages (stub)" >&2; exit 1; }
root=
while [ $# -gt 0 ]; do
	case "$1" in
	--root) root=$2; shift ;;
	--repositories-file) cp "$2" "$APK_STUB_LOG.repos" ;;
	info) printf 'busybox-1.36.1-r15\nlinux-lts-6.6.7-r0\nopenrc-0.52.1-r2\n'; exit 0 ;;
	esac
	shift
done
mkdir -p "$root/var/log" "$root/lib/modules/6.6.7-0-lts" "$root/sbin"
: >"$root/sbin/apk"
STUB
chmod 755 "$tmp/bin/apk"
export APK_STUB_LOG="$tmp/apk.log"

run() {
	"$ISO_TOOL" --base alpine --srcdir "$abs_top_srcdir" --workdir "$tmp/work" \
		--outdir "$tmp/out" --mirror http://mirror.invalid/alpine \
		--apk-keys "$tmp/keys" --agent-destdir "$tmp/agent" \
		--authorized-keys "$tmp/key.pub" --source-date-epoch 1700000000 "$@"
}

# 1. A failing apk: stage 1 fails, naming the command and its output.
rc=0
APK_STUB_FAIL=1 PATH="$tmp/bin:$PATH" run >"$tmp/out1" 2>&1 || rc=$?
cat "$tmp/out1"
[ "$rc" = 1 ] || fail "a failing apk gave exit $rc"
grep -q '^\[Stage 1/5\] Bootstrap\.\.\. FAILED' "$tmp/out1" || fail "stage 1 not reported FAILED"
grep -q "stage 1 (Bootstrap) failed: \`apk --root $tmp/work/cache/.tmp-1-[0-9]*/rootfs --initdb" "$tmp/out1" ||
	fail "the failed command is not named"
grep -q 'exited with status 1' "$tmp/out1" || fail "the exit status is not given"
grep -q 'ERROR: unable to select packages (stub)' "$tmp/out1" || fail "the command's output is not shown"
ls -d "$tmp"/work/cache/.tmp-* 2>/dev/null && fail "the failed stage left its entry"

# 2. The contract of stages 1 and 2 (stage 2 then fails on depmod: the
#    stub root has no kernel tools; that failure is named too).
: >"$APK_STUB_LOG"
rc=0
PATH="$tmp/bin:$PATH" run >"$tmp/out2" 2>&1 || rc=$?
cat "$tmp/out2"
grep -q '^\[Stage 1/5\] Bootstrap\.\.\. OK' "$tmp/out2" || fail "stage 1 failed with the stub"
grep -q 'stage 2 (Packages) failed: `(chroot) \|stage 2 (Packages) failed: `depmod' "$tmp/out2" ||
	grep -q 'stage 2 (Packages) failed' "$tmp/out2" || fail "stage 2's failure is not named"
sed -n 1p "$APK_STUB_LOG" | grep -qE "^SDE=1700000000 --root $tmp/work/cache/\.tmp-1-[0-9]+/rootfs --initdb --arch x86_64 --repositories-file $tmp/work/cache/\.tmp-1-[0-9]+/rootfs/etc/apk/repositories --keys-dir $tmp/keys --no-cache --no-progress add alpine-baselayout alpine-keys busybox musl$" ||
	fail "stage 1 apk call: $(sed -n 1p "$APK_STUB_LOG")"
printf 'http://mirror.invalid/alpine/v3.19/main\nhttp://mirror.invalid/alpine/v3.19/community\n' |
	cmp -s - "$APK_STUB_LOG.repos" || fail "repositories: $(cat "$APK_STUB_LOG.repos")"
sed -n 2p "$APK_STUB_LOG" | grep -qE "^SDE=1700000000 --root $tmp/work/cache/\.tmp-2-[0-9]+/rootfs --arch x86_64 .* add linux-lts busybox-static openrc .*openssh-server nftables audit doas" ||
	fail "stage 2 apk call: $(sed -n 2p "$APK_STUB_LOG")"
sed -n 2p "$APK_STUB_LOG" | grep -q -- '--initdb' && fail "stage 2 re-initialised the database"
sed -n 3p "$APK_STUB_LOG" | grep -qE "^SDE=[0-9]* --root $tmp/work/cache/\.tmp-2-[0-9]+/rootfs info -v$" ||
	fail "manifest apk call: $(sed -n 3p "$APK_STUB_LOG")"
ls -d "$tmp"/work/cache/1-* >/dev/null || fail "stage 1 was not cached"

# 3. No apk at all: named with its package (unless this host has one).
if ! command -v apk >/dev/null 2>&1; then
	rc=0
	run --no-cache >"$tmp/out3" 2>&1 || rc=$?
	cat "$tmp/out3"
	grep -q "missing host tool 'apk' (install the package 'apk-tools')" "$tmp/out3" ||
		fail "a missing apk is not named with its package"
fi
# 4. The base's own defaults and abilities (struct ib_base): no lock for
#    alpine, refused before any stage runs.
rc=0
run --lock "$tmp/key.pub" >"$tmp/out4" 2>&1 || rc=$?
[ "$rc" = 64 ] || fail "--lock with the alpine base exited $rc: $(cat "$tmp/out4")"
grep -q "are not supported for the alpine base" "$tmp/out4" || fail "--lock refusal: $(cat "$tmp/out4")"
grep -q '^\[Stage' "$tmp/out4" && fail "a stage ran despite the refused option"
echo "PASS: alpine base command contract"
