#!/bin/sh
# The checks of CIS Debian Linux 12 v1.0.1 that issue 14 added, on a real
# kernel in one qemu VM: the image's hardened files start compliant, then
# jefe-setup sees each tamper (guest/cis.sh has the details).  Time comes
# from a second chronyd in the guest, on loopback: no network is needed.
here=$(cd "$(dirname "$0")" && pwd)
src=${abs_top_srcdir:-$(cd "$here/../.." && pwd)}
ov=$src/image-build/overlay/etc
exec sh "$here/run-vm.sh" --timeout 600 \
	--extra-file "$ov/login.defs:/etc/login.defs" \
	--extra-file "$ov/security/limits.d/10-jefe-core.conf:/etc/security/limits.d/10-jefe-core.conf" \
	--extra-file "$ov/profile:/etc/profile" \
	--extra-file "$ov/init.d/ssh-hostkeys:/etc/init.d/ssh-hostkeys" \
	--extra-file "$ov/ssh/sshd_config.d/10-jefelinux.conf:/etc/ssh/sshd_config.d/10-jefelinux.conf" \
	--bin /usr/sbin/sshd --bin /usr/bin/ssh-keygen \
	--extra-file "$ov/issue:/etc/issue" \
	--extra-file "$ov/issue.net:/etc/issue.net" \
	--extra-file "$ov/motd:/etc/motd" \
	--extra-file "$ov/os-release:/etc/os-release" \
	--deb chrony --deb logrotate \
	--extra-file "$ov/chrony/chrony.conf:/etc/chrony/chrony.conf" \
	--extra-file "$ov/init.d/chrony:/etc/init.d/chrony" \
	"$here/guest/cis.sh"
