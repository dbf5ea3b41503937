#!/bin/sh
# The agent's OpenRC services in a qemu VM, booted the way JefeLinux boots:
# busybox init runs the real OpenRC (Debian's openrc package, unpacked into
# the initramfs) through sysinit, boot and default.  Checked inside
# (guest/openrc-boot.sh): jefe-boot applies the firewall before the network
# service starts, rc-status shows jefe started, kill -9 of jefe-setup is
# followed by a restart within 2 s, rc-service jefe stop stops it cleanly,
# and a chmod 666 /etc/shadow is reported and repaired.
here=$(cd "$(dirname "$0")" && pwd)
# no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer
# check can fail and panic ("IO-APIC + timer doesn't work!"); seen once here.
exec sh "$here/run-vm.sh" --timeout 900 --deb openrc \
	--append "lockdown=integrity slab_nomerge init_on_alloc=1 page_alloc.shuffle=1 no_timer_check" \
	--init "$here/guest/openrc-init.sh" "$here/guest/openrc-boot.sh"
