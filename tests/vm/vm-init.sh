#!/bin/sh
# /init of the test VM (run-vm.sh): mount the kernel file systems, load
# the modules, run /test/run.sh with the assertion helpers, print the END
# marker on the serial console and power off.  A custom --init should keep
# the marker protocol of vm-lib.sh.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t securityfs securityfs /sys/kernel/security
mount -t tmpfs -o mode=0755,nodev,nosuid tmpfs /run
# The mount options a hardened fstab gives these (CIS 1.1.2.x): the files
# layer checks them.
mount -t tmpfs -o mode=1777,nodev,nosuid,noexec tmpfs /tmp
mkdir -p /dev/pts /dev/shm /var/tmp
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777,nodev,nosuid,noexec tmpfs /dev/shm
mount -t tmpfs -o mode=1777,nodev,nosuid,noexec tmpfs /var/tmp
# /etc/shadow and gshadow: root:shadow (gid 42 in /etc/group); cpio -R 0:0
# made every file root's.
chgrp 42 /etc/shadow /etc/gshadow 2>/dev/null
mkdir -p /run/jefe
hostname jefe-vm

# Modules first: once a test raises lockdown, loading is restricted.
while read -r m; do
	insmod "$m" 2>/tmp/insmod.err ||
		echo "JEFE-VM: NOTE insmod $m failed: $(cat /tmp/insmod.err)"
done </etc/modules.load

. /vm-lib.sh
echo; echo "JEFE-VM: BOOTED uptime=$(cut -d' ' -f1 /proc/uptime)"
# The script runs in a subshell of this shell so the counters in vm-lib.sh
# come back through the files it keeps in /run.
sh -c '. /vm-lib.sh; . /test/run.sh'
rc=$?
vm_end "$rc"
sync
poweroff -f
# poweroff -f does not return; if it does, make the kernel stop anyway
# (panic=-1 with -no-reboot ends qemu).
echo o >/proc/sysrq-trigger
