#!/bin/sh
# SPDX-License-Identifier: MIT
# sshd-cache.sh - `jefe --direct status` of an unchanged sshd runs no
# program, and runs `sshd -T` / `ssh -Q` again as soon as anything the
# answer depends on changes identity: the drop-in rewritten with the same
# size and its mtime put back (a root attacker's edit), a host key, the
# sshd and ssh binaries (a copy bind-mounted over them in this private
# mount namespace).  The root-only cache file below the root is ignored
# when corrupt, not owned by root, group-writable or from another agent
# version.  A dry run writes no cache.  A run that does not select the
# sshd layer runs no ssh.
# strace is the witness of every program run.  Same namespace set-up as
# sshd-real.sh: the host's /etc, sshd and binaries are never touched.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/sshd/sshd-env.sh"
sshd_enter_ns "$@"
command -v strace >/dev/null 2>&1 || fail "strace not found (install strace)"
sshd_setup
CACHE=$T/var/lib/jefe/sshd.cache
# A files section too, for the layer selection below.
printf '[files.perms]\n/etc/ssh = 0755 root root\n' > "$T/etc/jefe/policy.d/60-files.conf"

# runs WANT_EXIT|any ARGS...: jefe --direct ARGS under strace; sets SSHD_RUNS
# and SSH_RUNS, the number of sshd and ssh programs it started.
runs() {
	want=$1; shift
	set +e
	# LeakSanitizer cannot run under ptrace (the sanitizer tier): leaks
	# are checked by every other test; ASan and UBSan stay on.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -qq -e trace=execve -e signal=none -o "$T/trace" \
		"$JEFE" --root "$T" --direct "$@" > "$T/out" 2>&1
	got=$?
	set -e
	[ "$want" = any ] || [ "$got" = "$want" ] ||
		{ cat "$T/out" >&2; fail "'jefe $*' exited $got, expected $want"; }
	SSHD_RUNS=$(grep -c "execve(\"$SSHD\"" "$T/trace" || :)
	SSH_RUNS=$(grep -c 'execve("/usr/bin/ssh"' "$T/trace" || :)
}
# The cache only trusts files changed more than 2 s before it was filled.
settle() { sleep 3; runs "${1:-0}" status --layer sshd; }
expect_runs() {	# expect_runs SSHD SSH WHAT
	[ "$SSHD_RUNS" = "$1" ] && [ "$SSH_RUNS" = "$2" ] ||
		fail "$3: sshd ran $SSHD_RUNS times, ssh $SSH_RUNS times; expected $1 and $2"
}
expect_reran() {	# expect_reran WHAT: sshd -T ran again, ssh -Q did not
	[ "$SSHD_RUNS" -ge 1 ] && [ "$SSH_RUNS" = 0 ] ||
		fail "$1: sshd ran $SSHD_RUNS times, ssh $SSH_RUNS times; expected sshd again, no ssh"
}
cache_sane() {	# the cache was written again, root-only and valid
	[ "$(stat -c '%u %a' "$CACHE")" = "0 600" ] || fail "$1: cache is $(stat -c '%u %a' "$CACHE")"
	head -n 1 "$CACHE" | grep -q '^jefe-cache/1 sshd [^ ]*$' || fail "$1: the cache written again has no header"
	grep -q '^E [0-9a-f]\{64\} 0 ' "$CACHE" || fail "$1: the cache written again holds no answer"
}

# 1. Enforce, let it settle, fill the cache; then nothing runs.
runs 0 enforce --layer sshd
settle
[ -f "$CACHE" ] || fail "no cache written at $CACHE"
[ "$(stat -c '%u %a' "$T/var/lib/jefe")" = "0 700" ] || fail "cache dir is $(stat -c '%u %a' "$T/var/lib/jefe")"
runs 0 status --layer sshd
expect_runs 0 0 "unchanged system"
echo "# unchanged: status runs neither sshd -T nor ssh -Q"

# 2. The drop-in rewritten with the same size, mtime put back: ctime says it.
DROPIN=/etc/ssh/sshd_config.d/00-jefe.conf
grep -q '^MaxAuthTries 3$' "$DROPIN" || fail "the drop-in has no 'MaxAuthTries 3': $(cat "$DROPIN")"
cp -p "$DROPIN" "$T/ref"
sed 's/^MaxAuthTries 3$/MaxAuthTries 9/' "$T/ref" > "$T/edited"
cat "$T/edited" > "$DROPIN"
touch -r "$T/ref" "$DROPIN"
[ "$(stat -c '%s %Y' "$DROPIN")" = "$(stat -c '%s %Y' "$T/ref")" ] || fail "the edit changed size or mtime"
runs 2 status --layer sshd --json
expect_reran "same-size edit with its mtime reset"
grep -q '"item": *"MaxAuthTries"' "$T/out" || fail "no MaxAuthTries finding"
"$PYTHON" -c '
import json, sys
f = {x["item"]: x for x in json.load(open(sys.argv[1]))["findings"]}
assert f["MaxAuthTries"]["state"] == "drift" and f["MaxAuthTries"]["actual"] == "9", f["MaxAuthTries"]' "$T/out" ||
	fail "sshd -T's MaxAuthTries 9 not reported"
runs 0 enforce --layer sshd
settle
runs 0 status --layer sshd
expect_runs 0 0 "repaired and settled"
echo "# same-size edit with mtime reset: sshd -T ran again, MaxAuthTries 9 reported"

# 3. A host key replaced.
rm -f /etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key.pub
ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key > /dev/null
runs 0 status --layer sshd
expect_reran "host key replaced"
settle
echo "# host key replaced: sshd -T ran again"

# 4. Another sshd binary (a copy: new inode), then ssh.
cp -p "$SSHD" "$T/sshd-copy"
mount --bind "$T/sshd-copy" "$SSHD"
runs 0 status --layer sshd
expect_reran "sshd binary replaced"
settle
runs 0 status --layer sshd
expect_runs 0 0 "new sshd binary settled"
cp -p /usr/bin/ssh "$T/ssh-copy"
mount --bind "$T/ssh-copy" /usr/bin/ssh
runs 0 status --layer sshd
[ "$SSH_RUNS" -ge 1 ] && [ "$SSHD_RUNS" = 0 ] ||
	fail "ssh binary replaced: ssh ran $SSH_RUNS times, sshd $SSHD_RUNS; expected ssh -Q again, no sshd"
settle
umount /usr/bin/ssh "$SSHD"
settle
echo "# sshd or ssh binary replaced: that program ran again"

# 5. A cache that is corrupt, foreign-owned, group-writable or from another
# version is not believed (everything runs again), and is written anew.
runs 0 status --layer sshd
expect_runs 0 0 "before the cache tampering"
head -c 200 "$CACHE" > "$T/half"; cat "$T/half" > "$CACHE"
runs 0 status --layer sshd
[ "$SSHD_RUNS" -ge 1 ] && [ "$SSH_RUNS" -ge 1 ] || fail "corrupt cache used (sshd $SSHD_RUNS, ssh $SSH_RUNS)"
cache_sane "corrupt"
runs 0 status --layer sshd
expect_runs 0 0 "cache rewritten after corruption"
chown 4242:4242 "$CACHE"
runs 0 status --layer sshd
[ "$SSHD_RUNS" -ge 1 ] && [ "$SSH_RUNS" -ge 1 ] || fail "cache owned by uid 4242 used (sshd $SSHD_RUNS, ssh $SSH_RUNS)"
cache_sane "foreign-owned"
chmod 0620 "$CACHE"
runs 0 status --layer sshd
[ "$SSHD_RUNS" -ge 1 ] && [ "$SSH_RUNS" -ge 1 ] || fail "group-writable cache used (sshd $SSHD_RUNS, ssh $SSH_RUNS)"
cache_sane "group-writable"
sed -i '1s/ [^ ]*$/ 0.0.0-other/' "$CACHE"
grep -q '0.0.0-other' "$CACHE" || fail "could not forge the version"
runs 0 status --layer sshd
[ "$SSHD_RUNS" -ge 1 ] && [ "$SSH_RUNS" -ge 1 ] || fail "other version's cache used (sshd $SSHD_RUNS, ssh $SSH_RUNS)"
cache_sane "other version"
echo "# corrupt, foreign-owned, group-writable, other-version caches ignored and rewritten"

# 6. A dry run writes no cache, even one that ran everything.
rm -f "$CACHE"
runs 0 enforce --dry-run --layer sshd
[ "$SSHD_RUNS" -ge 1 ] && [ "$SSH_RUNS" -ge 1 ] || fail "dry run without a cache ran sshd $SSHD_RUNS, ssh $SSH_RUNS times"
[ ! -e "$CACHE" ] || fail "the dry run wrote $CACHE"
echo "# a dry run writes no cache"

# 7. Only the selected layers ask OpenSSH: no cache at all, --layer files.
runs any status --layer files
grep -q 'files' "$T/out" || { cat "$T/out" >&2; fail "status --layer files reported no files layer"; }
expect_runs 0 0 "--layer files"
echo "# status --layer files runs no ssh -Q"
echo "PASS: sshd-cache"
