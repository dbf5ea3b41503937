#!/bin/sh
# /init of the OpenRC boot test (run-vm.sh --init): the kernel file
# systems and modules as in vm-init.sh, the agent's services and a test
# network service put in their runlevels, then busybox init, which runs
# OpenRC through sysinit, boot and default and then /test/run.sh once.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t securityfs securityfs /sys/kernel/security
mount -t tmpfs -o mode=0755,nodev,nosuid tmpfs /run
mount -t tmpfs -o mode=1777,nodev,nosuid,noexec tmpfs /tmp
mkdir -p /dev/pts /dev/shm /var/tmp /var/log
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777,nodev,nosuid,noexec tmpfs /dev/shm
mount -t tmpfs -o mode=1777,nodev,nosuid,noexec tmpfs /var/tmp
chgrp 42 /etc/shadow /etc/gshadow 2>/dev/null
hostname jefe-vm
while read -r m; do
	insmod "$m" 2>/tmp/insmod.err ||
		echo "JEFE-VM: NOTE insmod $m failed: $(cat /tmp/insmod.err)"
done </etc/modules.load

# OpenRC's programs where service scripts expect them (#!/sbin/openrc-run);
# the deb was merged into /usr/sbin and /usr/bin.
for p in openrc openrc-run rc-service rc-update supervise-daemon; do
	[ -x "/usr/sbin/$p" ] && ln -sf "/usr/sbin/$p" "/sbin/$p"
done
[ -x /usr/bin/rc-status ] && ln -sf /usr/bin/rc-status /bin/rc-status

# Debian's OpenRC reads insserv's file for LSB names; it is not needed here.
: >/etc/insserv.conf

# The agent's services as `make install` put them (prefix /usr/local).
for d in /usr/local/etc /etc; do
	[ -f "$d/init.d/jefe" ] || continue
	mkdir -p /etc/init.d /etc/conf.d
	cp "$d/init.d/jefe" "$d/init.d/jefe-boot" /etc/init.d/ 2>/dev/null
	[ -f "$d/conf.d/jefe" ] && cp "$d/conf.d/jefe" /etc/conf.d/jefe
	break
done

# A stand-in for the network service (Alpine's "networking"): it provides
# net, brings up lo, and records whether the firewall was already in the
# kernel when it started, as seen by nft (a witness independent of jefe).
cat >/etc/init.d/early-network <<'SVC'
#!/sbin/openrc-run
description="test network (provides net)"
depend() {
	provide net
}
start() {
	ebegin "Bringing up the test network"
	if nft list table inet jefe >/dev/null 2>&1; then
		echo up >/run/early-network.firewall
	else
		echo down >/run/early-network.firewall
	fi
	ip link set lo up
	eend 0
}
SVC
chmod 755 /etc/init.d/early-network

# The network in the same runlevel as jefe-boot, as on Alpine, and named
# to sort before it: without jefe-boot's "before net", OpenRC would start
# it first (services without dependencies start in name order).
mkdir -p /etc/runlevels/sysinit /etc/runlevels/boot /etc/runlevels/default /etc/runlevels/shutdown
ln -sf /etc/init.d/early-network /etc/runlevels/boot/early-network
ln -sf /etc/init.d/jefe-boot /etc/runlevels/boot/jefe-boot
ln -sf /etc/init.d/jefe /etc/runlevels/default/jefe

# The daemon logs to syslog: keep it in a file the test can read.
syslogd -O /var/log/messages

cat >/test/once.sh <<'ONCE'
#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
. /vm-lib.sh
sh -c '. /vm-lib.sh; . /test/run.sh'
vm_end $?
sync
poweroff -f
echo o >/proc/sysrq-trigger
ONCE
chmod 755 /test/once.sh
cat >/etc/inittab <<'TAB'
::sysinit:/sbin/openrc sysinit
::wait:/sbin/openrc boot
::wait:/sbin/openrc default
::once:/test/once.sh
TAB

. /vm-lib.sh
echo; echo "JEFE-VM: BOOTED uptime=$(cut -d' ' -f1 /proc/uptime)"
exec /bin/busybox init
