#!/bin/sh
# SPDX-License-Identifier: MIT
# coverage.sh - docs/benchmark-coverage.md against the agent: every finding
# id the matrix names exists in the shipped policy's `jefe status --json`,
# every row has a finding (enforced or checked) or a reason it does not
# apply, and every CIS section a finding carries as a reference is a row.
#
# The ids come from the real agent on the shipped policy: every layer but
# audit against a temporary root T in a private network and mount
# namespace (proc/sys the kernel's, read-only; the firewall layer sees the
# namespace's empty nftables), and the audit layer, which reads only the
# running kernel, with --root / through `status` (read-only: it lists the
# kernel's rules and changes nothing).  Its policy lies on a tmpfs of the
# private mount namespace, so nothing is written on the host.
set -eu
. "$abs_top_srcdir/tests/lib/common.sh"
need_root
need_cmd unshare mount ssh-keygen python3
[ -x /usr/sbin/sshd ] || fail "/usr/sbin/sshd not found (install openssh-server; build.sh does)"
if [ -z "${JEFE_COVERAGE_IN_NS:-}" ]; then
	JEFE_COVERAGE_IN_NS=1 exec unshare --net --mount --propagation private -- /bin/sh "$0" "$@"
fi
MATRIX=$abs_top_srcdir/docs/benchmark-coverage.md
[ -f "$MATRIX" ] || fail "$MATRIX not found"

make_root
# The mounts go first: rm must not walk into the kernel's /proc/sys.
trap 'umount -R "$T/proc/sys" 2>/dev/null; rm -rf "$T"' EXIT
. "$abs_top_srcdir/tests/lib/netns-root.sh"
mount -t tmpfs -o mode=0755 jefe-run /run
mkdir -m 0755 /run/sshd

# The shipped policy, as the package installs it.
mkdir -p "$T/etc/jefe/policy.d" "$T/etc/ssh/sshd_config.d" "$T/etc/modprobe.d" "$T/var/lib/jefe" \
	"$T/lib/modules"
cp "$abs_top_srcdir/policies/jefe.conf" "$abs_top_srcdir/policies/audit.rules" "$T/etc/jefe/"
cp "$abs_top_srcdir"/policies/policy.d/*.conf "$T/etc/jefe/policy.d/"
chmod 0750 "$T/etc/jefe" "$T/etc/jefe/policy.d"
chmod 0640 "$T/etc/jefe/jefe.conf" "$T/etc/jefe/audit.rules" "$T"/etc/jefe/policy.d/*.conf
# A server's files: Debian's stock sshd_config and the image's host key type.
cp /etc/ssh/sshd_config "$T/etc/ssh/sshd_config"
ssh-keygen -q -t ed25519 -N '' -f "$T/etc/ssh/ssh_host_ed25519_key" >/dev/null
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$T/etc/passwd"
printf 'root:*:19000:0:99999:7:::\n' >"$T/etc/shadow"
printf 'root:x:0:\nshadow:x:42:\n' >"$T/etc/group"
printf 'nf_tables 344064 0 - Live 0x0\n' >"$T/proc/modules"
printf 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro\n' >"$T/proc/cmdline"
mkdir -p "$T/proc/self"
printf '%s\n' '/dev/sda1 / ext4 rw,relatime 0 0' 'tmpfs /tmp tmpfs rw,nosuid,nodev,noexec 0 0' \
	'tmpfs /dev/shm tmpfs rw,nosuid,nodev,noexec 0 0' 'tmpfs /var/tmp tmpfs rw,nosuid,nodev,noexec 0 0' \
	>"$T/proc/self/mounts"

set +e
"$JEFE" --direct --root "$T" status --json >"$T/status.json" 2>"$T/status.err"
rc=$?
set -e
# 1 is fine too: some layer's item may be an error in a bare tree; the ids are there.
[ "$rc" -le 2 ] && [ -s "$T/status.json" ] || { cat "$T/status.err" >&2; fail "jefe status --root T exited $rc"; }

# The audit layer reads the running kernel only: its policy on a tmpfs.
P=/mnt
mount -t tmpfs -o mode=0755 jefe-policy "$P"
cp "$abs_top_srcdir/policies/audit.rules" "$P/"
cp "$abs_top_srcdir/policies/policy.d/50-audit.conf" "$P/jefe.conf"
chmod 0640 "$P/jefe.conf" "$P/audit.rules"
set +e
"$JEFE" --direct --config "$P/jefe.conf" status --layer audit --json >"$T/audit.json" 2>"$T/audit.err"
rc=$?
set -e
[ "$rc" -le 2 ] && [ -s "$T/audit.json" ] || { cat "$T/audit.err" >&2; fail "jefe status --layer audit exited $rc"; }

python3 - "$MATRIX" "$T/status.json" "$T/audit.json" <<'PY'
import json, re, sys

matrix, status, audit = sys.argv[1:4]
ids, refs = set(), {}
for path in (status, audit):
    doc = json.load(open(path))
    for f in doc["findings"]:
        if f["layer"] == "audit" and path == status:
            continue        # below --root T the audit layer only says it does not act
        if f["layer"] == "audit" and f["state"] == "error":
            sys.exit("FAIL: the audit layer could not read the kernel: %s" % f.get("note"))
        ids.add(f["id"])
        for r in f["refs"]:
            if r["benchmark"] == "CIS Debian Linux 12":
                assert r["version"] == "1.0.1", f
                refs.setdefault(r["id"], []).append(f["id"])
audit_ids = [i for i in ids if i.startswith("audit:")]
if len(audit_ids) < 20:
    sys.exit("FAIL: only %d audit findings from the running kernel" % len(audit_ids))

errors, rows, seen = [], 0, set()
row_re = re.compile(r"^\|\s*([1-7](?:\.[0-9]+)+)\s*\|")
for n, line in enumerate(open(matrix), 1):
    m = row_re.match(line)
    if not m:
        continue
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) != 6:
        errors.append("line %d: %d cells, want 6 (CIS | title | level | finding | how | reason)" % (n, len(cells)))
        continue
    sec, title, level, finding, how, reason = cells
    rows += 1
    if sec in seen:
        errors.append("line %d: %s listed twice" % (n, sec))
    seen.add(sec)
    if level not in ("L1", "L2"):
        errors.append("line %d: %s: level '%s', want L1 or L2" % (n, sec, level))
    named = re.findall(r"`([^`]+)`", finding)
    if named:
        if how not in ("enforced", "checked"):
            errors.append("line %d: %s: a finding needs 'enforced' or 'checked', not '%s'" % (n, sec, how))
        for i in named:
            if i not in ids:
                errors.append("line %d: %s: finding %s is not in jefe status --json" % (n, sec, i))
    elif finding not in ("", "-"):
        errors.append("line %d: %s: finding cell '%s' names no `id`" % (n, sec, finding))
    else:
        if how not in ("", "-"):
            errors.append("line %d: %s: '%s' without a finding" % (n, sec, how))
        if len(reason) < 10:
            errors.append("line %d: %s: neither a finding nor a reason" % (n, sec))
for sec, who in sorted(refs.items()):
    if sec not in seen:
        errors.append("CIS %s (carried by %s) is not a row of the matrix" % (sec, who[0]))
if rows < 250:
    errors.append("only %d rows: the matrix lists every recommendation" % rows)
if errors:
    sys.exit("FAIL: " + "\nFAIL: ".join(errors))
print("# %d rows, %d finding ids known, %d CIS sections referenced" % (rows, len(ids), len(refs)))
PY
pass "benchmark-coverage.md: every finding exists, every row has a finding or a reason"
