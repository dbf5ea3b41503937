#!/bin/sh
# The agent's OpenRC services in a qemu VM, booted the way JefeLinux boots:
# busybox init runs the real OpenRC (Debian's openrc package, unpacked into
# the initramfs) through sysinit, boot and default.  Checked inside
# (guest/openrc-boot.sh): jefe-boot applies the firewall before the network
# service starts, rc-status shows jefe started, kill -9 of jefe-setup is
# followed by a restart within 2 s, rc-service jefe stop stops it cleanly,
# and a chmod 666 /etc/shadow is reported and repaired.  Then layer 2 on
# the real kernel: sctp (loaded at boot, blocked by the policy) reported,
# and kernel.modules_disabled=1 refusing every later module load.  The
# module list is run-vm.sh's default set (the firewall's) plus sctp.
here=$(cd "$(dirname "$0")" && pwd)
probe=${abs_top_builddir:?run through make check}/tests/vm/services-status
[ -x "$probe" ] || { echo "openrc-boot.sh: $probe not built (make check builds it)" >&2; exit 1; }
# no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer
# check can fail and panic ("IO-APIC + timer doesn't work!"); seen once here.
exec sh "$here/run-vm.sh" --timeout 900 --deb openrc \
	--append "lockdown=integrity slab_nomerge init_on_alloc=1 page_alloc.shuffle=1 no_timer_check" \
	--module nf_tables --module nft_ct --module nft_limit --module nft_reject_inet \
	--module nft_log --module nft_fib_inet --module sctp \
	--bin "$probe" --extra-file "$probe:/usr/bin/jefe-services-status" \
	--init "$here/guest/openrc-init.sh" "$here/guest/openrc-boot.sh"
