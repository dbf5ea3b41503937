#!/bin/sh
# SPDX-License-Identifier: MIT
# root-confine.sh - `jefe --root T enforce` never changes anything outside
# T, whatever symlinks T holds.  H, a second temporary tree, stands for the
# host: every directory a layer writes below T (/proc/sys/kernel,
# /etc/sysctl.d, /etc/modprobe.d, /etc/ssh/sshd_config.d, /var/lib/jefe)
# is an absolute symlink into H, and H holds a planted sshd candidate as a
# host could.  The same paths also exist inside T (T/H/...), so a layer
# that resolves inside the root has somewhere to write.  Every layer that
# writes files is enforced; H must be byte for byte what it was.
# A private mount namespace gives the real sshd its privilege separation
# directory (a tmpfs over /run) without touching the host's /run.
set -eu
. "$abs_top_srcdir/tests/lib/common.sh"
need_root
need_cmd unshare mount ssh-keygen sha256sum find
[ -x /usr/sbin/sshd ] || fail "/usr/sbin/sshd not found (install openssh-server; build.sh does)"
if [ -z "${JEFE_CONFINE_IN_NS:-}" ]; then
	JEFE_CONFINE_IN_NS=1 exec unshare --mount --propagation private -- /bin/sh "$0" "$@"
fi
mount -t tmpfs -o mode=0755 jefe-run /run
mkdir -m 0755 /run/sshd

make_root
H=$(mktemp -d /tmp/jefe-host.XXXXXX)
trap 'rm -rf "$T" "$H"' EXIT

# The "host" directories, with content of their own.
for d in procsys sysctl.d modprobe.d sshd_config.d jefe-lib; do
	mkdir -p "$H/$d" "$T$H/$d"
	printf 'host file, must stay\n' >"$H/$d/host.conf"
done
printf '0\n' >"$H/procsys/kptr_restrict"
printf '0\n' >"$T$H/procsys/kptr_restrict"
printf 'PermitRootLogin yes\n' >"$H/sshd_config.d/00-jefe.conf.jefe-candidate"
printf 'PermitRootLogin yes\n' >"$H/sshd_config.d/00-jefe.conf"
# A host.conf inside the root too: sshd's view (the host's) and the root's differ.
printf 'PermitRootLogin no\n' >"$T$H/sshd_config.d/host.conf"

mkdir -p "$T/etc/jefe/policy.d" "$T/proc/sys" "$T/etc/ssh" "$T/var/lib" "$T/sys/module/nf_tables"
ln -s "$H/procsys" "$T/proc/sys/kernel"
ln -s "$H/sysctl.d" "$T/etc/sysctl.d"
ln -s "$H/modprobe.d" "$T/etc/modprobe.d"
ln -s "$H/sshd_config.d" "$T/etc/ssh/sshd_config.d"
ln -s "$H/jefe-lib" "$T/var/lib/jefe"
ssh-keygen -q -t ed25519 -N '' -f "$T/etc/ssh/ssh_host_ed25519_key" >/dev/null
printf 'HostKey %s/etc/ssh/ssh_host_ed25519_key\nInclude /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication yes\n' \
	"$T" >"$T/etc/ssh/sshd_config"
printf 'sctp 434176 2 - Live 0x0\n' >"$T/proc/modules"
printf 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro\n' >"$T/proc/cmdline"
printf 'root:*:19000:0:99999:7:::\n' >"$T/etc/shadow"
chmod 0600 "$T/etc/shadow"
printf '[agent]\nmode = enforce\n' >"$T/etc/jefe/jefe.conf"
cat >"$T/etc/jefe/policy.d/10-all.conf" <<'P'
[sysctl]
kernel.kptr_restrict = 2
[modules]
blacklist = cramfs udf
verify_unloaded = no
[sshd]
PasswordAuthentication = no
allow_lockout = yes
[files]
suid_dirs =
world_writable_dirs =
tmp_mounts =
baseline = /etc/shadow
[files.perms]
/etc/shadow = 0640
P

host_state() {
	( cd "$H" && find . -printf '%p %y %m %s\n' | sort &&
	  find . -type f -exec sha256sum {} + | sort )
}
before=$(host_state)

for layer in sysctl modules sshd files; do
	"$JEFE" --root "$T" --direct enforce --layer "$layer" >"$T/$layer.out" 2>&1 || :
	now=$(host_state)
	if [ "$now" != "$before" ]; then
		echo "--- jefe enforce --layer $layer said:" >&2
		cat "$T/$layer.out" >&2
		printf '%s\n' "$before" >"$T/before"
		printf '%s\n' "$now" >"$T/after"
		diff -u "$T/before" "$T/after" >&2 || :
		fail "enforce --layer $layer changed files outside the root"
	fi
	pass "enforce --layer $layer: nothing outside the root changed"
done

# The sshd layer said why it did not install: the Include path sshd would
# open names another file than the root does.
grep -q "refused, nothing installed: an Include path of /etc/ssh/sshd_config leads outside $T" "$T/sshd.out" ||
	fail "the sshd layer did not report its refusal: $(cat "$T/sshd.out")"
grep -q "an Include of /etc/ssh/sshd_config leads outside $T" "$T/sshd.out" ||
	fail "the sshd layer's check did not name the Include leading outside: $(cat "$T/sshd.out")"
# Writes that resolve inside the root did land there.
[ "$(cat "$T$H/procsys/kptr_restrict")" = 2 ] || fail "kernel.kptr_restrict was not written inside the root"
[ -f "$T$H/modprobe.d/jefe-blacklist.conf" ] || fail "the modprobe.d file was not written inside the root"
pass "writes below symlinked directories stay inside the root"
