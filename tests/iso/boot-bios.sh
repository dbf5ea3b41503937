#!/bin/sh
# The ISO boots on BIOS (-cdrom, El Torito), OpenRC starts the jefe
# services, and over ssh (the test key given with --authorized-keys) the
# admin finds every layer compliant, password and root logins refused, the
# root the read-only squashfs under an overlay, no package manager and no
# set-id program but doas; an sshd tamper is repaired all the way into
# the running sshd; a new set-id file is logged by the daemon at once;
# /etc/machine-id is this boot's own, none is in the image; the Hyper-V
# guest services skip without a VMBus and stop cleanly (lib.sh's
# check_hyperv_services, on this boot).
. "$abs_top_srcdir/tests/iso/lib.sh"

iso_build >"$abs_top_builddir/tests/iso/build-bios.log" 2>&1 || {
	cat "$abs_top_builddir/tests/iso/build-bios.log" >&2
	fail "the ISO build failed"
}
cat "$abs_top_builddir/tests/iso/build-bios.log"

# The image as built ships its files hardened: the agent, run on the
# image's root before any boot, finds no mode, owner, banner, account or
# login.defs item to repair (the SHA-256 baseline is recorded per machine
# at its first boot, and the mount table is the booted system's).
rootfs=$(ls -td "$ISO_WORK"/cache/4-*/rootfs | head -1)
[ -d "$rootfs" ] || fail "no stage-4 root in $ISO_WORK/cache"
rc=0
"$abs_top_builddir/jefe" --direct --root "$rootfs" status --layer files --json >"$ISO_STATE/image-files.json" || rc=$?
[ "$rc" -le 2 ] || fail "jefe status on the image's root exited $rc"
python3 - "$ISO_STATE/image-files.json" <<'PY' || fail "the image ships files the agent would repair"
import json, sys
doc = json.load(open(sys.argv[1]))
bad = [f["id"] + ": " + str(f.get("actual")) + " -> " + str(f.get("expected"))
       for f in doc["findings"]
       if f["state"] == "drift" and not f["item"].startswith(("sha256:", "baseline"))]
seen = {f["item"] for f in doc["findings"]}
for need in ("perm:/etc/shadow", "perm:/etc/gshadow", "account:root", "login.defs:UMASK", "banner:/etc/issue"):
    if need not in seen:
        sys.exit("no finding %s on the image's root" % need)
if bad:
    sys.exit("\n".join(bad))
print("# the image's root as built: no file item to repair (%d findings)" % len(doc["findings"]))
PY

iso_boot bios bios
wait_serial 'OpenRC [0-9.]+ is starting up' "$ISO_BOOT_TIMEOUT"
wait_serial 'Applying the JefeLinux firewall and kernel parameters' "$ISO_BOOT_TIMEOUT"
wait_serial 'Starting Jefe Application Manager' "$ISO_BOOT_TIMEOUT"
wait_ssh "$ISO_BOOT_TIMEOUT"
echo "# serial: OpenRC started jefe-boot and jefe; ssh is up"
if grep -aE 'JefeLinux firewall|Jefe Application Manager' "$SERIAL" | grep -qa '!!'; then
	grep -aE 'JefeLinux firewall|Jefe Application Manager' "$SERIAL" >&2
	fail "a jefe service failed to start"
fi

check_compliant
check_root_overlay

# /etc/machine-id: made by this boot (the image ships none, so the build
# stays reproducible and no two machines share one), 32 hex digits.
[ ! -e "$rootfs/etc/machine-id" ] || fail "the image's root ships /etc/machine-id"
vm_ssh 'test ! -e /live/ro/etc/machine-id' || fail "the squashfs ships /etc/machine-id"
mid=$(vm_ssh cat /etc/machine-id) || fail "no /etc/machine-id on the booted system"
echo "$mid" | grep -qxE '[0-9a-f]{32}' || fail "/etc/machine-id is not 32 hex digits: '$mid'"
[ "$(vm_ssh stat -c %a /etc/machine-id)" = 444 ] || fail "/etc/machine-id is not mode 0444"
echo "# /etc/machine-id $mid, made at boot; none in the image"

# The admin can stop and restart the machine (BusyBox init's commands).
for c in poweroff reboot halt; do
	vm_ssh "command -v $c" >/dev/null || fail "no $c command on the booted system"
done

# Password and keyboard-interactive logins: the server offers neither.
out=$(ssh_refused -o PubkeyAuthentication=no \
	-o PreferredAuthentications=password,keyboard-interactive \
	-p "$PORT" admin@127.0.0.1) || fail "password login not refused: $out"
echo "$out" | grep -q 'Permission denied (publickey)' ||
	fail "the server offers more than publickey: $out"

# Root: even with a key that works for admin, root may not log in.
vm_ssh 'doas sh -c "mkdir -p /root/.ssh && cp /home/admin/.ssh/authorized_keys /root/.ssh/ && chmod -R go-rwx /root/.ssh"' ||
	fail "could not give root the test key"
out=$(ssh_refused -i "$ISO_KEY" -p "$PORT" root@127.0.0.1) ||
	fail "root login not refused: $out"

# sshd tampered with as an attacker with root would: the jefe drop-in
# edited to allow passwords and sshd reloaded by hand.  The daemon
# rewrites the drop-in and reloads the running sshd through OpenRC (the
# image's service is ssh, and the image's policy names it): sshd -T shows
# the policy again, `jefe status` finds the running sshd up to date, and
# a new connection is offered no password.
vm_ssh 'doas sh -s' <<'TAMPER' || fail "could not tamper with sshd"
set -e
f=/etc/ssh/sshd_config.d/00-jefe.conf
sed -i 's/^[Pp]assword[Aa]uthentication .*/PasswordAuthentication yes/' "$f"
grep -q '^PasswordAuthentication yes' "$f"
rc-service ssh reload >/dev/null 2>&1
TAMPER
t0=$(date +%s)
ok=
while [ $(($(date +%s) - t0)) -lt 120 ]; do
	if vm_ssh doas jefe status --layer sshd >"$ISO_STATE/sshd-status.out" 2>&1; then
		ok=1
		break
	fi
	sleep 2
done
[ -n "$ok" ] || { cat "$ISO_STATE/sshd-status.out" >&2; fail "sshd not back to compliant (and reloaded) 120 s after the tamper"; }
echo "# sshd tamper repaired and reloaded within $(($(date +%s) - t0)) s"
vm_ssh 'doas sshd -T' | grep -qx 'passwordauthentication no' ||
	fail "sshd -T does not say passwordauthentication no after the repair"
vm_ssh 'doas grep -qi "^passwordauthentication yes" /etc/ssh/sshd_config.d/00-jefe.conf' &&
	fail "the tampered drop-in was not rewritten"
out=$(ssh_refused -o PubkeyAuthentication=no -o PreferredAuthentications=password \
	-p "$PORT" admin@127.0.0.1) || fail "password login not refused after the sshd repair: $out"
echo "$out" | grep -q 'Permission denied (publickey)' ||
	fail "the running sshd offers more than publickey after the repair: $out"
vm_ssh 'doas jefe status --layer sshd --json' | python3 -c '
import json, sys
doc = json.load(sys.stdin)
r = [f for f in doc["findings"] if f["item"] == "reload"]
assert r and r[0]["state"] == "compliant", r
' || fail "sshd:reload is not compliant after the repair"
echo "# sshd repair reached the running sshd: sshd -T and a new connection agree"

# A set-id copy of busybox dropped into /usr/local/bin: the running daemon
# logs it at once (the files layer watches the walked directories), not
# at the backstop timer minutes later.  Timed inside the guest, from the
# chmod to the drift line in the syslog; TCG runs the check ~10x slower
# than hardware, hence a bound far above the 1 s goal but far below the
# backstop.
ms=$(vm_ssh 'doas sh -s' <<'SUID'
set -e
cp /bin/busybox /usr/local/bin/bb-suid
sleep 1
cs() { read -r up _ </proc/uptime; echo "${up%.*}${up#*.}"; }
t0=$(cs)
chmod u+s /usr/local/bin/bb-suid
i=0
until cat /var/log/syslog /var/log/daemon.log /var/log/messages 2>/dev/null |
	grep -q "drift layer=files item=suid:/usr/local/bin/bb-suid "; do
	i=$((i + 1))
	[ $i -le 600 ] || { echo timeout; exit 0; }
	sleep 0.05
done
echo $(( ($(cs) - t0) * 10 ))
SUID
) || fail "the set-id check in the guest failed"
vm_ssh 'doas rm -f /usr/local/bin/bb-suid'
[ "$ms" != timeout ] || fail "no drift line for a set-id file in /usr/local/bin within 30 s"
echo "# chmod u+s in /usr/local/bin to the daemon's drift line: $ms ms (under TCG)"
[ "$ms" -le 10000 ] || fail "the set-id file was logged after $ms ms: not event-driven"

# An appliance: no package manager, no compiler, only doas is set-id.
for tool in apt apt-get dpkg apk gcc cc; do
	if vm_ssh "command -v $tool" >/dev/null 2>&1; then
		fail "the image has $tool"
	fi
done
suid=$(vm_ssh 'doas find / -xdev -type f -perm /6000' | sort)
[ "$suid" = "/usr/bin/doas" ] || fail "set-id programs besides doas: $suid"
echo "# password and root logins refused; no package manager; only doas is set-id"

# The Hyper-V guest services on this same boot (they are stopped: last).
check_hyperv_services
echo "PASS: BIOS boot"
