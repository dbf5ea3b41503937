#!/bin/sh
# An atomic write is durable only once its directory is on disk: after the
# rename that installs a file, the directory is fsync'ed (else a crash can
# leave the old name, or none).  strace, an independent witness, watches
# `jefe enforce` write the modprobe.d file below a temporary root.
. "$abs_top_srcdir/tests/lib/common.sh"
need_cmd strace
make_root

mkdir -p "$T/etc/jefe/policy.d" "$T/etc/modprobe.d" "$T/proc"
printf '[agent]\nmode = enforce\n[modules]\nblacklist = cramfs\nverify_unloaded = no\n' \
	>"$T/etc/jefe/jefe.conf"
printf '' >"$T/proc/modules"
printf 'BOOT_IMAGE=/vmlinuz ro\n' >"$T/proc/cmdline"
# LeakSanitizer cannot run under ptrace (the sanitizer build): off for
# this one traced command, every other test still checks for leaks.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
strace -f -y -e trace=renameat,renameat2,rename,fsync,fdatasync -o "$T/trace" \
	"$JEFE" --root "$T" --direct enforce --layer modules >/dev/null 2>&1 || :
[ -f "$T/etc/modprobe.d/jefe-blacklist.conf" ] || fail "enforce did not write the modprobe.d file"
# The rename into etc/modprobe.d, then an fsync of that directory.
awk -v dir="$T/etc/modprobe.d>" '
	/rename/ && index($0, dir) && /jefe-blacklist.conf"/ { renamed = 1; next }
	renamed && /fsync\(/ && index($0, dir ")") { synced = 1 }
	END { exit !(renamed && synced) }' "$T/trace" ||
	fail "no fsync of the directory after the rename: $(cat "$T/trace")"
pass "the directory is fsync'ed after the rename"
