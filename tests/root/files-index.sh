#!/bin/sh
# The files layer re-hashes a baseline file only when its identity (dev,
# ino, size, mtime, ctime) changed, and on the rehash_interval backstop:
# strace (-y names each fd's file) is the witness of which files jefe
# reads.  A same-size edit whose mtime is put back (touch -r) is still
# caught, through ctime.  The root-only index file below the root is
# ignored when corrupt, not owned by root, group-writable or from another
# agent version; a status where the agent keeps no state yet creates
# nothing.  Against a temporary root, as root (chown, the root-only index).
. "$abs_top_srcdir/tests/lib/common.sh"
need_cmd python3 strace stat touch
need_root
make_root

mkdir -p "$T/etc/jefe/policy.d" "$T/proc/self" "$T/var/lib"
printf '[agent]\nmode = enforce\n' >"$T/etc/jefe/jefe.conf"
# Only the baseline: no walks, no mounts, so status exits 0 when all is well.
cat >"$T/etc/jefe/policy.d/60-files.conf" <<'P'
[files]
suid_dirs =
world_writable_dirs =
tmp_mounts =
baseline = /etc/passwd /etc/group
P
printf 'root:x:0:0:root:/root:/bin/sh\nadmin:x:1000:1000::/home/admin:/bin/sh\n' >"$T/etc/passwd"
printf 'root:x:0:\nadmin:x:1000:\n' >"$T/etc/group"
: >"$T/proc/self/mounts"
chmod 0644 "$T/etc/passwd" "$T/etc/group"
chmod 0750 "$T/etc/jefe" "$T/etc/jefe/policy.d"
INDEX=$T/var/lib/jefe/files.index

# reads WANT_EXIT: status --layer files under strace; PASSWD_READS and
# GROUP_READS count the read(2)s of each file's content.
reads() {
	set +e
	# LeakSanitizer cannot run under ptrace (the sanitizer tier): leaks
	# are checked by every other test; ASan and UBSan stay on.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -qq -y -e trace=read -o "$T/trace" \
		"$JEFE" --root "$T" --direct status --layer files --json >"$T/out.json" 2>"$T/err"
	got=$?
	set -e
	[ "$got" = "$1" ] || { cat "$T/out.json" "$T/err" >&2; fail "status exited $got, expected $1"; }
	PASSWD_READS=$(grep -c "^[0-9]* *read([0-9]*<$T/etc/passwd>" "$T/trace" || :)
	GROUP_READS=$(grep -c "^[0-9]* *read([0-9]*<$T/etc/group>" "$T/trace" || :)
}
state() {	# state ID: the state of one finding
	python3 -c 'import json,sys; f={x["id"]:x for x in json.load(open(sys.argv[1]))["findings"]}; print(f[sys.argv[2]]["state"] if sys.argv[2] in f else "none")' \
		"$T/out.json" "$1"
}

# 0. A check where the agent keeps no state yet leaves no trace (no cache dir).
expect_exit 2 "$JEFE" --root "$T" --direct status --layer files >/dev/null
[ ! -e "$T/var/lib/jefe" ] || fail "status created $(ls -d "$T/var/lib/jefe")"
pass "status on a root without /var/lib/jefe creates nothing"

# 1. The first enforce records the baseline; once settled, status reads neither file.
expect_exit 0 "$JEFE" --root "$T" --direct enforce --layer files >/dev/null
sleep 3		# identities only count once 2 s older than the hash (cache.h)
reads 0
[ -f "$INDEX" ] || fail "no index at $INDEX"
[ "$(stat -c '%u %a' "$INDEX")" = "0 600" ] || fail "index is $(stat -c '%u %a' "$INDEX")"
reads 0
[ "$PASSWD_READS" = 0 ] && [ "$GROUP_READS" = 0 ] ||
	fail "unchanged files hashed again ($PASSWD_READS, $GROUP_READS reads)"
[ "$(state files:sha256:/etc/passwd)" = compliant ] || fail "passwd not compliant from the index"
pass "unchanged baseline files are not read again"

# 2. Root rewrites /etc/passwd, same size, mtime put back: ctime moved.
cp -p "$T/etc/passwd" "$T/ref"
sed 's/admin:x:1000:1000/admin:x:0000:1000/' "$T/ref" >"$T/edited"
cat "$T/edited" >"$T/etc/passwd"
touch -r "$T/ref" "$T/etc/passwd"
[ "$(stat -c '%s %Y' "$T/etc/passwd")" = "$(stat -c '%s %Y' "$T/ref")" ] || fail "the edit changed size or mtime"
reads 2
[ "$PASSWD_READS" -ge 1 ] && [ "$GROUP_READS" = 0 ] ||
	fail "after the edit: passwd read $PASSWD_READS times, group $GROUP_READS (expected passwd only)"
[ "$(state files:sha256:/etc/passwd)" = drift ] || fail "same-size edit with mtime reset not caught"
cat "$T/ref" >"$T/etc/passwd"
touch -r "$T/ref" "$T/etc/passwd"
sleep 3
reads 0
reads 0
[ "$PASSWD_READS" = 0 ] || fail "restored passwd hashed again once settled"
pass "a same-size edit with its mtime reset is hashed again and caught (ctime)"

# 3. The backstop: rehash_interval = 1 hashes even unchanged files once it passed.
printf 'rehash_interval = 1\n' >>"$T/etc/jefe/policy.d/60-files.conf"
sleep 1.2
reads 0
[ "$PASSWD_READS" -ge 1 ] && [ "$GROUP_READS" -ge 1 ] ||
	fail "backstop: passwd read $PASSWD_READS times, group $GROUP_READS (expected both)"
sed -i '/^rehash_interval/d' "$T/etc/jefe/policy.d/60-files.conf"
reads 0
[ "$PASSWD_READS" = 0 ] && [ "$GROUP_READS" = 0 ] || fail "default interval: files read again"
pass "rehash_interval re-hashes unchanged files when it has passed, not before"

# 4. An index that is corrupt, foreign-owned, group-writable or from another
# version is ignored (both files hashed again) and written anew.
untrusted() {	# untrusted WHAT: the next status ignores the index
	reads 0
	[ "$PASSWD_READS" -ge 1 ] && [ "$GROUP_READS" -ge 1 ] ||
		fail "$1 index used (passwd $PASSWD_READS, group $GROUP_READS reads)"
	[ "$(stat -c '%u %a' "$INDEX")" = "0 600" ] || fail "$1: index rewritten as $(stat -c '%u %a' "$INDEX")"
	head -n 1 "$INDEX" | grep -q '^jefe-cache/1 files [^ ]*$' || fail "$1: the index written anew has no header"
	[ "$(grep -c '^[0-9a-f]\{64\} ' "$INDEX")" = 2 ] || fail "$1: the index written anew does not hold both files"
	reads 0
	[ "$PASSWD_READS" = 0 ] || fail "$1: the new index is not used"
}
head -c 100 "$INDEX" >"$T/half"; cat "$T/half" >"$INDEX"
untrusted corrupt
chown 1000:1000 "$INDEX"
untrusted foreign-owned
chmod 0660 "$INDEX"
untrusted group-writable
sed -i '1s/ [^ ]*$/ 0.0.0-other/' "$INDEX"
grep -q 0.0.0-other "$INDEX" || fail "could not forge the version"
untrusted other-version
pass "corrupt, foreign-owned, group-writable and other-version indexes are ignored and rewritten"

# 5. The key is validated like every other.
printf 'rehash_interval = soon\n' >>"$T/etc/jefe/policy.d/60-files.conf"
expect_exit 1 "$JEFE" --root "$T" --direct status --layer files >/dev/null 2>"$T/err"
grep -q "60-files.conf line 6: invalid value 'soon' for rehash_interval" "$T/err" ||
	fail "bad rehash_interval not reported with file and line: $(cat "$T/err")"
pass "rehash_interval = soon refused with file and line"
