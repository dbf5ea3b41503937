#!/bin/sh
# The files layer through the jefe CLI against a temporary root, with the
# shipped policy file: chmod 666 /etc/shadow reported and repaired, a new
# SUID binary reported (and removed only when the policy says so), a
# world-writable file fixed, /tmp's options reported with the fix, and a
# content edit with intact mode caught by the SHA-256 baseline, which
# sha256sum -c (an independent reader) checks as well.
. "$abs_top_srcdir/tests/lib/common.sh"
need_cmd python3 sha256sum stat
need_root	# chown to root:shadow in the tree
make_root

mkdir -p "$T/etc/jefe/policy.d" "$T/etc/ssh" "$T/usr/bin" "$T/proc/self" "$T/var/lib"
printf '[agent]\nmode = enforce\n' >"$T/etc/jefe/jefe.conf"
cp "$abs_top_srcdir/policies/policy.d/60-files.conf" "$T/etc/jefe/policy.d/"
printf 'root:x:0:0:root:/root:/bin/sh\nadmin:x:1000:1000::/home/admin:/bin/sh\n' >"$T/etc/passwd"
printf 'root:x:0:\nshadow:x:42:\nadmin:x:1000:\n' >"$T/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$T/etc/shadow"
printf 'Port 22\n' >"$T/etc/ssh/sshd_config"
printf 'key\n' >"$T/etc/ssh/ssh_host_ed25519_key"
printf '127.0.0.1 localhost\n' >"$T/etc/hosts"
chown root:42 "$T/etc/shadow"
chmod 0640 "$T/etc/shadow"
chmod 0600 "$T/etc/ssh/sshd_config" "$T/etc/ssh/ssh_host_ed25519_key"
chmod 0755 "$T/etc/ssh" "$T/etc/jefe"
chmod 0644 "$T/etc/passwd" "$T/etc/group" "$T/etc/hosts"
printf 'x' >"$T/usr/bin/passwd"
chmod 4755 "$T/usr/bin/passwd"
cat >"$T/proc/self/mounts" <<'M'
/dev/vda1 / ext4 rw,relatime 0 0
tmpfs /tmp tmpfs rw,nosuid,nodev 0 0
tmpfs /dev/shm tmpfs rw,nosuid,nodev,noexec 0 0
M
# The jefe policy directory is 0750 in the policy: make it so for a clean start.
chmod 0750 "$T/etc/jefe" "$T/etc/jefe/policy.d"
chmod 0640 "$T/etc/jefe/jefe.conf"

finding() {	# finding FILE ID FIELD: one field of one finding of a --json report
	python3 -c 'import json,sys; f={x["id"]:x for x in json.load(open(sys.argv[1]))["findings"]}; print(f[sys.argv[2]][sys.argv[3]] if sys.argv[2] in f else "none")' "$@"
}

# The dry run shows the baseline it would record as a unified diff, writes nothing.
expect_exit 2 "$JEFE" --root "$T" --direct enforce --dry-run --layer files >"$T/d0.txt"
grep -qxF '      +++ /var/lib/jefe/files.sha256 (as jefe would write it)' "$T/d0.txt" ||
	fail "dry run: no diff of the baseline: $(cat "$T/d0.txt")"
grep -q '^      +[0-9a-f]\{64\}  /etc/passwd$' "$T/d0.txt" || fail "dry run: /etc/passwd not in the diff"
[ ! -e "$T/var/lib/jefe/files.sha256" ] || fail "the dry run wrote the baseline"
pass "enforce --dry-run shows the baseline as a diff and writes nothing"

# First enforce: records the baseline; the mounts stay report-only (exit 2).
expect_exit 2 "$JEFE" --root "$T" --direct enforce --layer files --json >"$T/e0.json"
[ -f "$T/var/lib/jefe/files.sha256" ] || fail "no baseline recorded"
[ "$(finding "$T/e0.json" files:mount:/tmp action)" = cannot-fix ] || fail "/tmp noexec not reported"
[ "$(finding "$T/e0.json" files:mount:/var/tmp actual)" = "not a mount point" ] || fail "/var/tmp not reported"
[ "$(finding "$T/e0.json" files:perm:/etc/shadow state)" = compliant ] || fail "clean shadow not compliant"
[ "$(finding "$T/e0.json" files:suid state)" = compliant ] || fail "allowlisted passwd reported"
# sha256sum -c reads the same baseline, relative to the tree.
sed 's|  /|  |' "$T/var/lib/jefe/files.sha256" >"$T/rel.sha256"
(cd "$T" && sha256sum --quiet -c rel.sha256) || fail "sha256sum -c disagrees with the agent's baseline"
grep -q '  /etc/passwd$' "$T/var/lib/jefe/files.sha256" || fail "/etc/passwd not in the baseline"
pass "first enforce records a baseline that sha256sum -c confirms; mounts reported with the fix"

# The tamper of the issue: chmod 666 /etc/shadow.
chmod 666 "$T/etc/shadow"
expect_exit 2 "$JEFE" --root "$T" --direct status --layer files >"$T/s1.txt"
grep -q 'files:perm:/etc/shadow' "$T/s1.txt" || fail "chmod 666 /etc/shadow not reported: $(cat "$T/s1.txt")"
[ "$(stat -c %a "$T/etc/shadow")" = 666 ] || fail "status changed the mode"
expect_exit 2 "$JEFE" --root "$T" --direct enforce --layer files --json >"$T/e1.json"
[ "$(finding "$T/e1.json" files:perm:/etc/shadow action)" = repaired ] || fail "shadow not repaired"
[ "$(stat -c '%a %U %g' "$T/etc/shadow")" = "640 root 42" ] || fail "shadow now $(stat -c '%a %U %g' "$T/etc/shadow")"
pass "chmod 666 /etc/shadow is drift; enforce makes it 0640 root:shadow"

# Owner tamper (sshd_config's owner is the sshd layer's to check, not this one's).
chown 1000:1000 "$T/etc/passwd"
expect_exit 2 "$JEFE" --root "$T" --direct enforce --layer files >/dev/null
[ "$(stat -c '%u:%g %a' "$T/etc/passwd")" = "0:0 644" ] || fail "/etc/passwd owner not repaired"
pass "chown of /etc/passwd repaired"

# A new SUID binary: reported; the shipped suid_remove = no leaves it.
printf 'x' >"$T/usr/bin/backdoor"
chmod 4755 "$T/usr/bin/backdoor"
expect_exit 2 "$JEFE" --root "$T" --direct enforce --layer files --json >"$T/e2.json"
[ "$(finding "$T/e2.json" files:suid:/usr/bin/backdoor state)" = drift ] || fail "SUID backdoor not reported"
[ "$(finding "$T/e2.json" files:suid:/usr/bin/backdoor action)" = cannot-fix ] || fail "SUID backdoor: wrong action"
[ "$(stat -c %a "$T/usr/bin/backdoor")" = 4755 ] || fail "suid_remove = no, yet the bit was removed"
printf '[files]\nsuid_remove = yes\n' >"$T/etc/jefe/policy.d/90-local.conf"
expect_exit 2 "$JEFE" --root "$T" --direct enforce --layer files >/dev/null
[ "$(stat -c %a "$T/usr/bin/backdoor")" = 755 ] || fail "suid_remove = yes did not remove the bit"
[ "$(stat -c %a "$T/usr/bin/passwd")" = 4755 ] || fail "the allowlisted passwd lost its bit"
pass "a new SUID binary is drift; its bit goes only with suid_remove = yes"

# World-writable file in /etc.
chmod 666 "$T/etc/hosts"
expect_exit 2 "$JEFE" --root "$T" --direct enforce --layer files >/dev/null
[ "$(stat -c %a "$T/etc/hosts")" = 664 ] || fail "world-writable /etc/hosts now $(stat -c %a "$T/etc/hosts")"
pass "a world-writable file in /etc loses o+w"

# Content edit with mode and owner intact: only the baseline sees it.
printf 'evil:x:0:0::/:/bin/sh\n' >>"$T/etc/passwd"
chmod 0644 "$T/etc/passwd"
(cd "$T" && sha256sum --quiet -c rel.sha256 >/dev/null 2>&1) && fail "sha256sum -c did not see the edit either"
expect_exit 2 "$JEFE" --root "$T" --direct enforce --layer files --json >"$T/e3.json"
[ "$(finding "$T/e3.json" files:perm:/etc/passwd state)" = compliant ] || fail "passwd mode changed?"
[ "$(finding "$T/e3.json" files:sha256:/etc/passwd state)" = drift ] || fail "content edit not reported"
[ "$(finding "$T/e3.json" files:sha256:/etc/passwd action)" = cannot-fix ] || fail "content edit silently accepted"
expect_exit 2 "$JEFE" --root "$T" --direct status --layer files >/dev/null
pass "an edit of /etc/passwd with intact mode is drift until an admin accepts it"

# Accepting it: delete its line, enforce re-records.
sed -i '\|  /etc/passwd$|d' "$T/var/lib/jefe/files.sha256"
"$JEFE" --root "$T" --direct enforce --layer files >/dev/null || :
[ "$(finding "$T/e3.json" files:sha256:/etc/passwd expected)" != "$(sha256sum "$T/etc/passwd" | cut -d' ' -f1)" ] || fail "test setup"
"$JEFE" --root "$T" --direct status --layer files --json >"$T/s4.json" || :
[ "$(finding "$T/s4.json" files:sha256:/etc/passwd state)" = compliant ] || fail "accepted edit still drift"
pass "deleting the baseline line accepts the edit"
