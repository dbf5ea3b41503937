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
admin:x:1000:1000:JefeLinux admin:/home/admin:/bin/sh
P
cat >/etc/shadow <<'P'
root:!:19000:0:99999:7:::
daemon:*:19000:0:99999:7:::
sync:*:19000:0:99999:7:::
sshd:!:19000::::::
admin:*:19000:0:99999:7:::
P
printf 'root:x:0:\nshadow:x:42:\nadmin:x:1000:\n' >/etc/group
chmod 0640 /etc/shadow
# profile.d as a base system has it (empty here): the daemon watches it.
mkdir -p /etc/profile.d
# rsyslog's configuration as Debian's package ships it (the image's): imklog loaded.
printf 'module(load="imuxsock")\nmodule(load="imklog")   # provides kernel logging support\n' >/etc/rsyslog.conf
chgrp 42 /etc/shadow

# The image's SSH host keys, made by its own boot script (OpenRC's helpers
# stubbed): ed25519 and RSA 3072, no ECDSA.
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
	start
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
	login.defs:UMASK limits:core profile:umask syslog:kernel banner:/etc/issue banner:/etc/issue.net banner:/etc/motd; do
	# Pretty JSON, one key a line: the "state" line after the item's.
	state=$(awk -v it="\"item\":\"$item\"" 'index($0, it) { f = 1; next }
		f && /"state"/ { gsub(/.*"state": *"|".*/, ""); print; exit }' /run/files0.json)
	vm_expect_eq "$item as the image ships it" compliant "$state"
done

# The kernel's symbol table as a Debian kernel package leaves it: 0644.
mkdir -p /boot
echo "ffffffff81000000 T _stext" >"/boot/System.map-$(uname -r)"
chmod 0644 "/boot/System.map-$(uname -r)"

jefe enforce >/run/enforce.txt 2>&1
vm_note "jefe enforce: exit $?"
vm_expect_eq "System.map mode after enforce (root only)" 600 "$(stat -c %a "/boot/System.map-$(uname -r)")"
# USB and FireWire storage blocked the way the benchmark audits it.
for m in usb_storage uas firewire_sbp2; do
	vm_check "modprobe.d: install $m /bin/false" grep -qx "install $m /bin/false" /etc/modprobe.d/jefe-blacklist.conf
	vm_check "modprobe.d: blacklist $m" grep -qx "blacklist $m" /etc/modprobe.d/jefe-blacklist.conf
done
vm_expect_eq "fs.suid_dumpable after enforce" 0 "$(sysctl -n fs.suid_dumpable)"

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
	ssh-keygen -q -t ecdsa -N '' -f /etc/ssh/ssh_host_ecdsa_key
tamper "an RSA host key of 2048 bits" sshd hostkey:/etc/ssh/ssh_host_rsa_key cannot-fix \
	sh -c 'ssh-keygen -q -t rsa -b 2048 -N "" -f /run/rsa2048 &&
		mv /run/rsa2048.pub /etc/ssh/ssh_host_rsa_key.pub && mv /run/rsa2048 /etc/ssh/ssh_host_rsa_key'
vm_check "the short RSA key is reported with its size" \
	grep -q 'item=hostkey:/etc/ssh/ssh_host_rsa_key .*2048 bits' "$LOG"
tamper "/etc/issue tells the release" files banner:/etc/issue cannot-fix \
	sh -c 'printf "\\\\r\\n" >>/etc/issue'
vm_check "report-only: passwd still has the tamper" grep -q '^toor:' /etc/passwd

kill "$dpid" 2>/dev/null
wait "$dpid" 2>/dev/null
