#!/bin/sh
# The ISO boots on BIOS (-cdrom, El Torito), OpenRC starts the jefe
# services, and over ssh (the test key given with --authorized-keys) the
# admin finds every layer compliant, password and root logins refused, the
# root the read-only squashfs under an overlay, no package manager and no
# set-id program but doas.
. "$abs_top_srcdir/tests/iso/lib.sh"

iso_build >"$abs_top_builddir/tests/iso/build-bios.log" 2>&1 || {
	cat "$abs_top_builddir/tests/iso/build-bios.log" >&2
	fail "the ISO build failed"
}
cat "$abs_top_builddir/tests/iso/build-bios.log"

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

# An appliance: no package manager, no compiler, only doas is set-id.
for tool in apt apt-get dpkg apk gcc cc; do
	if vm_ssh "command -v $tool" >/dev/null 2>&1; then
		fail "the image has $tool"
	fi
done
suid=$(vm_ssh 'doas find / -xdev -type f -perm /6000' | sort)
[ "$suid" = "/usr/bin/doas" ] || fail "set-id programs besides doas: $suid"
echo "# password and root logins refused; no package manager; only doas is set-id"
echo "PASS: BIOS boot"
