# Guest half of tests/vm/cis.sh.  The files the image ships hardened
# (login.defs, limits.d, profile, issue, issue.net, motd, os-release) come from the image's
# overlay; passwd/shadow/group are written here as the image builder
# leaves them (root locked, system accounts without a shell).  Then
# jefe-setup runs, and each tamper must be logged as drift: repaired
# where the agent enforces (usb/FireWire storage blocking, core dumps),
# cannot-fix where it only checks (accounts, login.defs, banners).

POLICY=/etc/jefe/policy.d
LOG=/run/jefe-setup.log

cat >/etc/passwd <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
sync:x:4:65534:sync:/bin:/bin/sync
sshd:x:100:65534::/run/sshd:/usr/sbin/nologin
_chrony:x:101:101:Chrony daemon:/var/lib/chrony:/usr/sbin/nologin
admin:x:1000:1000:JefeLinux admin:/home/admin:/bin/sh
P
cat >/etc/shadow <<'P'
root:!:19000:0:99999:7:::
daemon:*:19000:0:99999:7:::
sync:*:19000:0:99999:7:::
sshd:!:19000::::::
_chrony:!:19000::::::
admin:*:19000:0:99999:7:::
P
printf 'root:x:0:\ndaemon:x:1:\nshadow:x:42:\nutmp:x:43:\n_chrony:x:101:\nadmin:x:1000:\nnogroup:x:65534:\n' >/etc/group
printf '/bin/sh\n/usr/bin/sh\n' >/etc/shells
chmod 0640 /etc/shadow
# profile.d as a base system has it (empty here): the daemon watches it.
mkdir -p /etc/profile.d
# rsyslog's configuration as Debian's package ships it (the image's): imklog loaded.
printf 'module(load="imuxsock")\nmodule(load="imklog")   # provides kernel logging support\n' >/etc/rsyslog.conf
chgrp 42 /etc/shadow

# Time: the image's chrony.conf (from the overlay) and the test's NTP
# server on loopback, named by the policy; the clock checked from boot.
printf '[files]\nntp_servers = 127.0.0.1\ntime_sync = yes\n' >"$POLICY/70-time.conf"
# logrotate's package is unpacked (its logrotate.conf and cron.daily
# script); rsyslog's stanza as Debian's rsyslog package ships it.
mkdir -p /etc/logrotate.d /var/log /usr/lib/rsyslog
printf '%s\n' /var/log/syslog /var/log/mail.log /var/log/kern.log /var/log/auth.log \
	/var/log/user.log /var/log/cron.log '{' '	rotate 4' '	weekly' '	missingok' \
	'	notifempty' '	compress' '	delaycompress' '	sharedscripts' '	postrotate' \
	'		/usr/lib/rsyslog/rsyslog-rotate' '	endscript' '}' >/etc/logrotate.d/rsyslog
# rsyslog's rotate hook, as a witness that logrotate ran the stanza.
printf '#!/bin/sh\necho rotated >/run/rsyslog-rotated\n' >/usr/lib/rsyslog/rsyslog-rotate
chmod 0755 /usr/lib/rsyslog/rsyslog-rotate

# The image's SSH host keys, made by its own boot script (OpenRC's helpers
# stubbed): ed25519 and RSA 3072, no ECDSA.  The RSA key is made in the
# background (the boot does not wait for it): `wait` for it here.
mkdir -p /etc/ssh /run/sshd
# The layer hands sshd -T its configuration on /dev/stdin, which the
# harness's bare devtmpfs lacks (the image's devfs service makes it).
[ -e /dev/stdin ] || ln -s /proc/self/fd/0 /dev/stdin
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
printf 'Include /etc/ssh/sshd_config.d/*.conf\n' >/etc/ssh/sshd_config
chmod 0600 /etc/ssh/sshd_config
(
	ebegin() { :; }
	eend() { return "$1"; }
	checkpath() { mkdir -p /run/sshd; }
	. /etc/init.d/ssh-hostkeys
	start && wait
) || vm_fail "ssh-hostkeys: start failed"
vm_check "ssh-hostkeys made no ECDSA key" test ! -e /etc/ssh/ssh_host_ecdsa_key
jefe status --json --layer sshd >/run/sshd0.json 2>&1
for item in hostkey:/etc/ssh/ssh_host_ed25519_key hostkey:/etc/ssh/ssh_host_rsa_key; do
	state=$(awk -v it="\"item\":\"$item\"" 'index($0, it) { f = 1; next }
		f && /"state"/ { gsub(/.*"state": *"|".*/, ""); print; exit }' /run/sshd0.json)
	vm_expect_eq "$item as the image makes it" compliant "$state"
	[ "$state" = compliant ] || head -c 3000 /run/sshd0.json | sed 's/^/    /'
done

# The image's checks before enforce: all compliant (the files are the image's).
jefe status --json --layer files >/run/files0.json 2>&1
for item in account:uid0 account:root account:system-shells account:shadowed \
	account:empty-passwords login.defs:PASS_MAX_DAYS login.defs:PASS_MIN_DAYS \
	login.defs:PASS_WARN_AGE login.defs:ENCRYPT_METHOD login.defs:SHA_CRYPT_MIN_ROUNDS \
	login.defs:UMASK limits:core profile:umask syslog:kernel banner:/etc/issue banner:/etc/issue.net banner:/etc/motd \
	logrotate:/var/log/syslog logrotate:/var/log/auth.log logrotate:/var/log/kern.log logrotate:daily \
	root:umask account:gid0 account:group-gid0 account:groups account:shadow-group \
	account:duplicate-uids account:duplicate-gids account:duplicate-users \
	account:duplicate-groups shells:nologin; do
	# Pretty JSON, one key a line: the "state" line after the item's.
	state=$(awk -v it="\"item\":\"$item\"" 'index($0, it) { f = 1; next }
		f && /"state"/ { gsub(/.*"state": *"|".*/, ""); print; exit }' /run/files0.json)
	vm_expect_eq "$item as the image ships it" compliant "$state"
done

# The kernel's symbol table as a Debian kernel package leaves it: 0644.
mkdir -p /boot
echo "ffffffff81000000 T _stext" >"/boot/System.map-$(uname -r)"
chmod 0644 "/boot/System.map-$(uname -r)"

# state ITEM FILE: the "state" of a finding in a pretty-printed status.
state() {
	awk -v it="\"item\":\"$1\"" 'index($0, it) { f = 1; next }
		f && /"state"/ { gsub(/.*"state": *"|".*/, ""); print; exit }' "$2"
}
vm_expect_eq "time:servers before enforce (no jefe.sources)" drift "$(state time:servers /run/files0.json)"
# No NTP client has touched the clock since boot: the kernel says unsynchronised.
vm_expect_eq "time:sync before chronyd" drift "$(state time:sync /run/files0.json)"

rc=0
jefe enforce >/run/enforce.txt 2>&1 || rc=$?
# A healthy box (keyless users whose passwords are locked, as the image's
# admin before keys are given): drift repaired or reported, never an error.
case "$rc" in
0|2) vm_pass "jefe enforce exits $rc (0 or 2, no error)" ;;
*) vm_fail "jefe enforce exits $rc: $(grep -E 'error|FAILED' /run/enforce.txt | head -n 3)" ;;
esac
grep -A1 -E '^ *(error|FAILED) ' /run/enforce.txt | head -n 12 |
	while read -r l; do vm_note "enforce: $l"; done
vm_check "enforce wrote the policy's server for chrony" \
	grep -qx 'server 127.0.0.1 iburst' /etc/chrony/sources.d/jefe.sources
jefe status --json --layer files >/run/files1.json 2>&1
vm_expect_eq "time:servers after enforce" compliant "$(state time:servers /run/files1.json)"

# The NTP server: a chronyd that serves its own clock on loopback (local
# stratum 8) and leaves the kernel's alone (-x).  The harness leaves lo down.
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
mkdir -p /run/ntp-server
printf '%s\n' 'local stratum 8' 'allow 127.0.0.1' 'bindaddress 127.0.0.1' 'port 123' 'cmdport 0' 'bindcmdaddress /' \
	'pidfile /run/ntp-server/chronyd.pid' >/run/ntp-server/chrony.conf
/usr/sbin/chronyd -x -u root -f /run/ntp-server/chrony.conf 2>/run/ntp-server/log ||
	vm_fail "the test's NTP server did not start: $(cat /run/ntp-server/log)"
# The client as the image's OpenRC script starts it (its command line, its start_pre).
(
	checkpath() {
		while [ $# -gt 0 ]; do
			case $1 in
			-d) shift ;;
			-m) m=$2; shift 2 ;;
			-o) o=$2; shift 2 ;;
			*) mkdir -p "$1" && chmod "$m" "$1" && chown "$o" "$1"; shift ;;
			esac
		done
	}
	. /etc/init.d/chrony
	start_pre && $command $command_args
) 2>/run/chronyd.err || vm_fail "chronyd (the image's command line) did not start: $(cat /run/chronyd.err)"
t0=$(vm_ms)
synced=
while [ $(( $(vm_ms) - t0 )) -lt 180000 ]; do
	jefe --direct status --json --layer files >/run/files2.json 2>&1
	if [ "$(state time:sync /run/files2.json)" = compliant ]; then
		synced=1
		break
	fi
	sleep 2
done
if [ -n "$synced" ]; then
	vm_pass "time:sync compliant $(( ($(vm_ms) - t0) / 1000 )) s after chronyd started"
else
	vm_fail "time:sync not compliant 180 s after chronyd started"
	sed 's/^/    /' /run/chronyd.err /run/ntp-server/log
fi
vm_check "chronyd runs as _chrony" \
	sh -c 'grep -q "^Uid:[[:space:]]*101[[:space:]]" /proc/$(cat /run/chrony/chronyd.pid)/status'

# logrotate, the witness: the stanza the agent checks rotates the log.
echo "a line" >/var/log/syslog
vm_check "logrotate -f rotates /var/log/syslog" \
	sh -c '/usr/sbin/logrotate -s /run/logrotate.status -f /etc/logrotate.conf; test -s /var/log/syslog.1'
vm_check "logrotate ran rsyslog's rotate hook" test -f /run/rsyslog-rotated
vm_expect_eq "System.map mode after enforce (root only)" 600 "$(stat -c %a "/boot/System.map-$(uname -r)")"
# USB and FireWire storage blocked the way the benchmark audits it.
for m in usb_storage uas firewire_sbp2; do
	vm_check "modprobe.d: install $m /bin/false" grep -qx "install $m /bin/false" /etc/modprobe.d/jefe-blacklist.conf
	vm_check "modprobe.d: blacklist $m" grep -qx "blacklist $m" /etc/modprobe.d/jefe-blacklist.conf
done
vm_expect_eq "fs.suid_dumpable after enforce" 0 "$(sysctl -n fs.suid_dumpable)"

# The host keys the sshd tampers put in place, made now: the 30 s a tamper
# has to show up are the daemon's, not key generation's under emulation.
ssh-keygen -q -t ecdsa -N '' -f /run/ecdsa_key || vm_fail "ssh-keygen -t ecdsa failed"
ssh-keygen -q -t rsa -b 2048 -N '' -f /run/rsa2048 || vm_fail "ssh-keygen -t rsa -b 2048 failed"

printf '[agent]\ncheck_interval = 3600\n' >"$POLICY/99-vm.conf"
: >/run/ready
jefe-setup --foreground --ready-fd 3 3>/run/ready 2>"$LOG" &
dpid=$!
if vm_wait_for 60 /run/ready '^$' >/dev/null; then
	vm_pass "jefe-setup signalled readiness on --ready-fd"
else
	vm_fail "jefe-setup not ready within 60 s"
	sed 's/^/    /' "$LOG"
fi

# tamper NAME LAYER ITEM-REGEX ACTION COMMAND...: run the command, wait for
# the daemon's drift line with that action (vm_tamper, vm-lib.sh).
tamper() {
	vm_tamper "$LOG" "$@"
}

tamper "sed -i /uas/d jefe-blacklist.conf" modules /etc/modprobe.d/jefe-blacklist.conf repaired \
	sed -i '/ uas /d; / uas$/d' /etc/modprobe.d/jefe-blacklist.conf
vm_check "install uas /bin/false is back" grep -qx "install uas /bin/false" /etc/modprobe.d/jefe-blacklist.conf
tamper "chmod 0644 System.map" files "perm:/boot/System.map-[^ ]+" repaired \
	chmod 0644 "/boot/System.map-$(uname -r)"
vm_expect_eq "System.map mode after repair" 600 "$(stat -c %a "/boot/System.map-$(uname -r)")"
tamper "sysctl -w fs.suid_dumpable=2" sysctl fs.suid_dumpable repaired sysctl -w fs.suid_dumpable=2
vm_expect_eq "fs.suid_dumpable after repair" 0 "$(sysctl -n fs.suid_dumpable)"
tamper "a second uid 0 account" files account:uid0 cannot-fix \
	sh -c 'echo "toor:x:0:0::/root:/bin/sh" >>/etc/passwd'
tamper "an empty password" files account:empty-passwords cannot-fix \
	sh -c 'echo "toor::19000::::::" >>/etc/shadow'
tamper "root unlocked" files account:root cannot-fix \
	sed -i 's/^root:!:/root:$6$x$y:/' /etc/shadow
tamper "a shell for daemon" files account:system-shells cannot-fix \
	sed -i 's|^daemon:\(.*\):/usr/sbin/nologin$|daemon:\1:/bin/sh|' /etc/passwd
tamper "PASS_MAX_DAYS 99999" files login.defs:PASS_MAX_DAYS cannot-fix \
	sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS 99999/' /etc/login.defs
tamper "UMASK 022" files login.defs:UMASK cannot-fix \
	sed -i 's/^UMASK.*/UMASK 022/' /etc/login.defs
tamper "a core limit for everyone" files limits:core cannot-fix \
	sh -c 'echo "* hard core unlimited" >/etc/security/limits.d/20-dev.conf'
tamper "umask 022 in profile.d" files profile:umask cannot-fix \
	sh -c 'echo "umask 022" >/etc/profile.d/dev.sh'
tamper "imklog commented out" files syslog:kernel cannot-fix \
	sed -i 's/^module(load="imklog")/#&/' /etc/rsyslog.conf
tamper "an ECDSA host key" sshd hostkey:/etc/ssh/ssh_host_ecdsa_key cannot-fix \
	sh -c 'mv /run/ecdsa_key /etc/ssh/ssh_host_ecdsa_key && mv /run/ecdsa_key.pub /etc/ssh/ssh_host_ecdsa_key.pub'
tamper "/etc/issue tells the release" files banner:/etc/issue cannot-fix \
	sh -c 'printf "\\\\r\\n" >>/etc/issue'
tamper "nologin in /etc/shells" files shells:nologin cannot-fix \
	sh -c 'echo /usr/sbin/nologin >>/etc/shells'
tamper "a member of group shadow" files account:shadow-group cannot-fix \
	sed -i 's/^shadow:x:42:$/shadow:x:42:admin/' /etc/group
tamper "a server the policy does not name" files time:servers cannot-fix \
	sh -c 'mkdir -p /etc/chrony/conf.d && echo "server rogue.example iburst" >/etc/chrony/conf.d/local.conf'
rm -f /etc/chrony/conf.d/local.conf
tamper "jefe.sources edited" files time:servers repaired \
	sed -i 's/127.0.0.1/192.0.2.1/' /etc/chrony/sources.d/jefe.sources
vm_check "jefe.sources rewritten from the policy" \
	grep -qx 'server 127.0.0.1 iburst' /etc/chrony/sources.d/jefe.sources
tamper "auth.log out of logrotate" files logrotate:/var/log/auth.log cannot-fix \
	sed -i '\|^/var/log/auth.log$|d' /etc/logrotate.d/rsyslog
tamper "logrotate's daily run not executable" files logrotate:daily cannot-fix \
	chmod 0644 /etc/cron.daily/logrotate
tamper "umask 022 in root's .profile" files root:umask cannot-fix \
	sh -c 'mkdir -p /root && echo "umask 022" >>/root/.profile'
# Apart from the ECDSA tamper: the daemon keeps a layer out for as long as
# its last pass took (sshd -T, ~15-25 s under emulation on a loaded host),
# and two sshd tampers in a row would spend the 30 s on that wait.
tamper "an RSA host key of 2048 bits" sshd hostkey:/etc/ssh/ssh_host_rsa_key cannot-fix \
	sh -c 'mv /run/rsa2048.pub /etc/ssh/ssh_host_rsa_key.pub && mv /run/rsa2048 /etc/ssh/ssh_host_rsa_key'
vm_check "the short RSA key is reported with its size" \
	grep -q 'item=hostkey:/etc/ssh/ssh_host_rsa_key .*2048 bits' "$LOG"
# The clock: chronyd stopped and the clock set by hand (settimeofday
# clears the kernel's NTP state).  No file changes, so no event: read
# directly, as the backstop timer would.
kill "$(cat /run/chrony/chronyd.pid)"
sleep 1
date -s "$(date '+%Y-%m-%d %H:%M:%S')" >/dev/null
jefe --direct status --json --layer files >/run/files3.json 2>&1
vm_expect_eq "time:sync once chronyd stopped and the clock was set" drift "$(state time:sync /run/files3.json)"
grep -A12 '"item":"time:sync"' /run/files3.json | grep -q '"actual": *"unsynchronised' ||
	vm_fail "time:sync drift without 'unsynchronised'"
kill "$(cat /run/ntp-server/chronyd.pid)" 2>/dev/null
vm_check "report-only: passwd still has the tamper" grep -q '^toor:' /etc/passwd

kill "$dpid" 2>/dev/null
wait "$dpid" 2>/dev/null
