#!/bin/sh
# SPDX-License-Identifier: MIT
# hyperv-services.sh - the image ships Hyper-V's guest daemons (Debian's
# hyperv-daemons: KVP, VSS, file copy) as OpenRC services in the default
# runlevel that start only on a VMBus.  Under qemu there is none: each
# service is enabled, says it has nothing to start, runs no daemon, is not
# crashed, and stops cleanly.
. "$abs_top_srcdir/tests/iso/lib.sh"

iso_build >"$ISO_STATE/hyperv-services.build.log" 2>&1 ||
	{ tail -n 40 "$ISO_STATE/hyperv-services.build.log" >&2; fail "ISO build failed"; }
iso_boot bios hyperv-services
wait_ssh "$ISO_BOOT_TIMEOUT"

vm_ssh test ! -e /sys/bus/vmbus || fail "qemu's guest has a VMBus?"
for svc in hv-kvp-daemon:hv_kvp_daemon hv-vss-daemon:hv_vss_daemon hv-fcopy-daemon:hv_fcopy_daemon; do
	name=${svc%%:*} bin=${svc#*:}
	vm_ssh test -x "/usr/sbin/$bin" || fail "/usr/sbin/$bin is not installed"
	[ "$(vm_ssh head -n 1 "/etc/init.d/$name")" = '#!/sbin/openrc-run' ] ||
		fail "/etc/init.d/$name is not an OpenRC script"
	vm_ssh doas rc-update show default | grep -qE "^ *$name +\| +default" ||
		fail "$name is not in the default runlevel"
	grep -qa "$name: no VMBus (/sys/bus/vmbus): not a Hyper-V guest, nothing to start" "$SERIAL" ||
		fail "the boot did not say $name skipped for want of a VMBus"
	vm_ssh doas rc-service "$name" status >/dev/null || fail "$name is not started (a no-op start)"
	if vm_ssh pidof "$bin" >/dev/null; then
		fail "$bin runs without a VMBus"
	fi
	if vm_ssh doas rc-status --crashed | grep -qw "$name"; then
		fail "$name is crashed"
	fi
	vm_ssh doas rc-service "$name" stop >/dev/null 2>&1 || fail "$name does not stop cleanly"
	echo "ok - $name: installed, enabled, skipped without a VMBus, stops cleanly"
done
echo "PASS: hyperv-services"
