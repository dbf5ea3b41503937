# tests/iso/lib.sh - shared by the ISO tests: build the ISO once (with a
# test key, cached by jefe-image-build), boot it under qemu with software
# emulation (-accel tcg, never KVM), talk to it over ssh on a loopback port.
# Sourced by the tests; needs root (the build chroots) and qemu.
set -eu

: "${abs_top_builddir:?run from make check}"
: "${abs_top_srcdir:?run from make check}"

ISO_STATE=$abs_top_builddir/tests/iso/state
ISO_KEY=$ISO_STATE/key/id
ISO_OUT=$ISO_STATE/out
ISO_WORK=$ISO_STATE/work
ISO_TOOL=$abs_top_builddir/jefe-image-build
# A boot under TCG on 2 busy cores: be generous, but bounded.
: "${ISO_BOOT_TIMEOUT:=600}"
: "${ISO_BUILD_TIMEOUT:=1800}"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

need() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || fail "missing $t (see build.sh's package list)"
	done
}

# The image's SOURCE_DATE_EPOCH: the time of the last commit that can
# change the image.  Commits of tests and benchmarks only leave it (and so
# every cached stage keyed on it) as it was: a test fix does not rebuild a
# current ISO.
iso_sde() {
	t=$(git -C "$abs_top_srcdir" log -1 --format=%ct -- . ':(exclude)tests' ':(exclude)bench' \
		2>/dev/null) || t=
	echo "${t:-1700000000}"
}

# The agent the image ships: its Debian package (what tests/pkg lints,
# installs and purges), unpacked by ./build.sh --target deb --destdir, as
# ./build.sh --target iso does.  Built again only when the programs or a
# packaged source changed since, so the ISO cache keeps its hits.
# The stamp holds a content hash of those inputs taken *before* the build:
# a source edited while the package builds no longer matches it, so the
# next test builds again instead of booting a stale ISO (a timestamp taken
# after the build could not tell).
iso_agent_inputs_hash() {
	find "$abs_top_builddir/jefe" "$abs_top_builddir/jefe-setup" \
		"$abs_top_srcdir/agent" "$abs_top_srcdir/Makefile.am" \
		"$abs_top_srcdir/configure.ac" "$abs_top_srcdir/policies" "$abs_top_srcdir/openrc" \
		"$abs_top_srcdir/contrib/debian" "$abs_top_srcdir/docs/man" \
		"$abs_top_srcdir/image-build/jefe-commit.in" "$abs_top_srcdir/image-build/persist.list" \
		-type f -print0 2>/dev/null | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}

iso_agent_tree() {
	stamp=$ISO_STATE/agent.stamp
	inputs=$(iso_agent_inputs_hash)
	if [ -d "$ISO_STATE/agent" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$inputs" ]; then
		return 0
	fi
	rm -f "$stamp"
	DEB_BUILD_OPTIONS="nocheck noautodbgsym" "$abs_top_srcdir/build.sh" --target deb --no-deps \
		--builddir "$abs_top_builddir" --deb-outdir "$ISO_STATE/deb" \
		--destdir "$ISO_STATE/agent" >"$ISO_STATE/deb.log" 2>&1 ||
		{ tail -n 40 "$ISO_STATE/deb.log" >&2; fail "./build.sh --target deb failed"; }
	echo "$inputs" >"$stamp"
}

# A test CA, and a collector certificate it signed for the host as the
# guest sees it (qemu's user network: 10.0.2.2) and as itself (127.0.0.1).
# Made once per state directory, so the shared build keeps its cache.
ISO_SYSLOG_PKI=$ISO_STATE/syslog-pki
iso_syslog_pki() {
	[ -s "$ISO_SYSLOG_PKI/server.pem" ] && return 0
	need certtool
	d=$ISO_SYSLOG_PKI
	rm -rf "$d" && mkdir -p "$d"
	printf '%s\n' 'cn = "JefeLinux test log CA"' ca cert_signing_key \
		'expiration_days = 3650' >"$d/ca.tmpl"
	printf '%s\n' 'cn = "10.0.2.2"' 'dns_name = "10.0.2.2"' 'ip_address = "10.0.2.2"' \
		'ip_address = "127.0.0.1"' tls_www_server encryption_key signing_key \
		'expiration_days = 3650' >"$d/server.tmpl"
	certtool --generate-privkey --key-type=ecdsa --outfile "$d/ca.key" 2>/dev/null &&
	certtool --generate-self-signed --load-privkey "$d/ca.key" \
		--template "$d/ca.tmpl" --outfile "$d/ca.pem" 2>/dev/null &&
	certtool --generate-privkey --key-type=ecdsa --outfile "$d/server.key" 2>/dev/null &&
	certtool --generate-certificate --load-privkey "$d/server.key" \
		--load-ca-certificate "$d/ca.pem" --load-ca-privkey "$d/ca.key" \
		--template "$d/server.tmpl" --outfile "$d/server.pem.tmp" 2>/dev/null &&
	mv "$d/server.pem.tmp" "$d/server.pem" || fail "certtool could not make the test CA"
}

# iso_build [jefe-image-build options]: the agent from this build tree,
# the test key, the shared cache; one build at a time.  Every ISO test
# shares one image, built with the test CA (--syslog-ca) but no collector:
# it logs locally unless booted with jefe.syslog= (tests/iso/syslog-tls.sh).
iso_build() {
	[ "$(id -u)" = 0 ] || fail "the ISO build needs root (chroots, file owners)"
	need ssh-keygen flock timeout
	[ -x "$ISO_TOOL" ] || fail "no $ISO_TOOL (make first)"
	mkdir -p "$ISO_STATE/key"
	exec 9>"$ISO_STATE/lock"
	flock -w "$ISO_BUILD_TIMEOUT" 9 || fail "another ISO build holds $ISO_STATE/lock"
	[ -f "$ISO_KEY" ] || ssh-keygen -q -t ed25519 -N '' -C jefe-iso-test -f "$ISO_KEY"
	iso_agent_tree
	iso_syslog_pki
	timeout "$ISO_BUILD_TIMEOUT" "$ISO_TOOL" --srcdir "$abs_top_srcdir" \
		--workdir "$ISO_WORK" --outdir "$ISO_OUT" \
		--agent-destdir "$ISO_STATE/agent" --agent-revision test \
		--authorized-keys "$ISO_KEY.pub" --source-date-epoch "$(iso_sde)" \
		--syslog-ca "$ISO_SYSLOG_PKI/ca.pem" "$@"
	rc=$?
	flock -u 9
	exec 9>&-
	return $rc
}

# The test key of --secure-boot own: Debian's ovmf ships the snakeoil key
# (enrolled in OVMF_VARS_4M.snakeoil.fd) with the passphrase "snakeoil";
# sbsign wants it without one.
SNAKEOIL_CERT=/usr/share/ovmf/PkKek-1-snakeoil.pem
SNAKEOIL_KEY=$ISO_STATE/snakeoil.key
iso_snakeoil_key() {
	need openssl
	[ -f "$SNAKEOIL_CERT" ] || fail "no $SNAKEOIL_CERT (package ovmf)"
	mkdir -p "$ISO_STATE"
	(umask 077 && openssl pkey -in /usr/share/ovmf/PkKek-1-snakeoil.key \
		-passin pass:snakeoil -out "$SNAKEOIL_KEY") ||
		fail "cannot decrypt the snakeoil key"
}

# iso_build_own: the --secure-boot own ISO, signed with the snakeoil key,
# in its own out directory, which becomes ISO_OUT (the cache is shared:
# stage 5 is rebuilt when the other mode built last).
iso_build_own() {
	iso_snakeoil_key
	ISO_OUT=$ISO_STATE/out-own
	iso_build --secure-boot own --sign-key "$SNAKEOIL_KEY" --sign-cert "$SNAKEOIL_CERT"
}

iso_file() {
	set -- "$ISO_OUT"/jefelinux-*-x86_64.iso
	[ -f "$1" ] || fail "no ISO in $ISO_OUT"
	echo "$1"
}

iso_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

QEMU_PID=
iso_cleanup() {
	if [ -n "${PORT:-}" ] && [ -S "$ISO_STATE/ssh-$PORT.ctl" ]; then
		ssh -o ControlPath="$ISO_STATE/ssh-$PORT.ctl" -O exit x 2>/dev/null || true
	fi
	if [ -n "$QEMU_PID" ]; then
		kill "$QEMU_PID" 2>/dev/null || true
		wait "$QEMU_PID" 2>/dev/null || true
	fi
}
trap iso_cleanup EXIT INT TERM

# iso_boot_lock: one of the two guest slots of this build tree, held on
# fd 8 until the test lets it go (flock -u 8) or ends.  Two ISO guests at
# a time, not one: a booting TCG guest keeps about one of the 2 cores busy
# (GRUB, the firmware and most of the boot run on one vCPU), and one that
# answers a test's ssh commands hardly any, so with one guest at a time
# `make -j2 check` left a core idle through the ISO and install tiers.
# Not more: a third guest would only share the same two cores.
# bench/boot.sh takes both slots (a figure wants the machine alone).
ISO_BOOT_SLOTS="0 1"
iso_boot_lock() {
	need flock
	deadline=$(($(date +%s) + ISO_BOOT_TIMEOUT))
	while :; do
		for slot in $ISO_BOOT_SLOTS; do
			exec 8>"$ISO_STATE/boot.lock.$slot"
			flock -n 8 && return 0
		done
		exec 8>&-
		[ "$(date +%s)" -lt "$deadline" ] ||
			fail "both ISO guest slots ($ISO_STATE/boot.lock.*) stayed taken for $ISO_BOOT_TIMEOUT s"
		sleep 1
	done
}

# iso_boot bios|uefi|disk|append|uefi-sb-ms|uefi-sb-own NAME [ISO]: start
# qemu in the background; sets SERIAL (the console log) and PORT (ssh on
# 127.0.0.1).  append: BIOS with extra kernel arguments ($ISO_APPEND).  The
# uefi-sb-* modes boot OVMF's Secure Boot build (q35 with SMM, the flash
# writable only from SMM) with Secure Boot on and Microsoft's keys (ms) or
# Debian's snakeoil test key (own) enrolled.
iso_boot() {
	mode=$1 name=$2
	need qemu-system-x86_64 python3
	iso_boot_lock
	iso=${3:-$(iso_file)}
	SERIAL=$ISO_STATE/$name.serial
	PORT=$(iso_free_port)
	rm -f "$SERIAL"
	set --
	case "$mode" in
	uefi-sb-ms|uefi-sb-own)
		code=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd
		vars=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
		[ "$mode" = uefi-sb-own ] && vars=/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd
		[ -f "$code" ] && [ -f "$vars" ] || fail "no OVMF Secure Boot firmware (package ovmf)"
		cp "$vars" "$ISO_STATE/$name.vars"
		set -- -machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on \
			-drive "if=pflash,format=raw,unit=0,readonly=on,file=$code" \
			-drive "if=pflash,format=raw,unit=1,file=$ISO_STATE/$name.vars" \
			-cdrom "$iso" ;;
	bios)
		set -- -cdrom "$iso" ;;
	append)
		# BIOS, with GRUB's kernel and arguments plus $ISO_APPEND: qemu
		# loads the ISO's own kernel and initramfs (-kernel) so a test
		# can add kernel arguments (jefe.syslog=...) to an unchanged ISO.
		need xorriso
		kdir=$ISO_STATE/$name.kernel
		rm -rf "$kdir" && mkdir -p "$kdir"
		xorriso -osirrox on -indev "$iso" -extract /boot/vmlinuz "$kdir/vmlinuz" \
			-extract /boot/initrd.img "$kdir/initrd.img" \
			-extract /boot/grub/grub.cfg "$kdir/grub.cfg" >"$kdir/xorriso.log" 2>&1 ||
			fail "could not extract the kernel from $iso (see $kdir/xorriso.log)"
		args=$(sed -n 's/^[[:space:]]*linux \/boot\/vmlinuz //p' "$kdir/grub.cfg" | head -n 1)
		[ -n "$args" ] || fail "no kernel arguments in the ISO's grub.cfg"
		set -- -kernel "$kdir/vmlinuz" -initrd "$kdir/initrd.img" \
			-append "$args ${ISO_APPEND:-}" -cdrom "$iso" ;;
	uefi)
		code=/usr/share/OVMF/OVMF_CODE_4M.fd vars=/usr/share/OVMF/OVMF_VARS_4M.fd
		[ -f "$code" ] && [ -f "$vars" ] || fail "no OVMF firmware (package ovmf)"
		cp "$vars" "$ISO_STATE/$name.vars"
		set -- -drive "if=pflash,format=raw,readonly=on,file=$code" \
			-drive "if=pflash,format=raw,file=$ISO_STATE/$name.vars" \
			-cdrom "$iso" ;;
	disk)
		# The same file as a USB stick's disk: the hybrid MBR path.
		# snapshot=on: the guest's writes never reach the file.
		set -- -device qemu-xhci -drive "if=none,id=stick,format=raw,snapshot=on,file=$iso" \
			-device usb-storage,drive=stick,bootindex=0 ;;
	*) fail "iso_boot: unknown mode $mode" ;;
	esac
	# ISO_QEMU_ARGS: more arguments (a test's disks, boot order).
	# ISO_SERIAL_SOCKET: the serial line on that unix socket as well, so a
	# test can type on it (serial_type), still logged to $SERIAL.
	# shellcheck disable=SC2086 # ISO_QEMU_ARGS is a list of words
	set -- "$@" ${ISO_QEMU_ARGS:-}
	if [ -n "${ISO_SERIAL_SOCKET:-}" ]; then
		rm -f "$ISO_SERIAL_SOCKET"
		set -- "$@" -chardev "socket,id=serial0,path=$ISO_SERIAL_SOCKET,server=on,wait=off,logfile=$SERIAL" \
			-serial chardev:serial0
	else
		set -- "$@" -serial "file:$SERIAL"
	fi
	qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -display none -monitor none \
		-no-reboot \
		-nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$PORT-:22" \
		"$@" >"$ISO_STATE/$name.qemu" 2>&1 &
	QEMU_PID=$!
	echo "# $name: qemu pid $QEMU_PID, serial $SERIAL, ssh port $PORT"
}

# serial_type TEXT: TEXT and a carriage return (the Enter key) on the
# serial line of a guest booted with ISO_SERIAL_SOCKET.
serial_type() {
	python3 - "$ISO_SERIAL_SOCKET" "$1" <<'PY' || fail "cannot type on the serial line"
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\r")
s.close()
PY
}

# wait_serial REGEX SECONDS: until the console shows it (or qemu dies).
wait_serial() {
	deadline=$(($(date +%s) + $2))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		grep -qaE "$1" "$SERIAL" 2>/dev/null && return 0
		kill -0 "$QEMU_PID" 2>/dev/null || {
			tail -c 3000 "$SERIAL" >&2
			fail "qemu exited before the console showed /$1/"
		}
		# a grep of the console log is cheap: look again soon
		sleep 0.5
	done
	tail -c 4000 "$SERIAL" >&2
	fail "no /$1/ on the console within $2 s"
}

SSH_OPTS="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=20 -o LogLevel=ERROR"

# One TCP connection for all of a test's commands (a master, multiplexed):
# the firewall admits 3 new ssh connections a minute.
vm_ssh() {
	# shellcheck disable=SC2086
	timeout 120 ssh $SSH_OPTS -o ControlMaster=auto -o ControlPersist=900 \
		-o ControlPath="$ISO_STATE/ssh-$PORT.ctl" -i "$ISO_KEY" -p "$PORT" \
		admin@127.0.0.1 "$@"
}

# A fresh connection that must be refused: "Permission denied" within a
# few tries (a try that times out met the firewall's rate limit).
ssh_refused() {
	for try in 1 2 3 4; do
		# shellcheck disable=SC2086
		out=$(timeout 60 ssh $SSH_OPTS -o ControlMaster=no -o ControlPath=none "$@" true 2>&1) &&
			return 1
		case "$out" in
		*"Permission denied"*) echo "$out"; return 0 ;;
		esac
		sleep 25
	done
	echo "$out"
	return 1
}

# What the console shows once sshd listens: OpenRC's line for the ssh
# service, or the getty's prompt (BusyBox init starts it after the
# default runlevel, sshd included).
ISO_SSH_READY='Starting ssh \.\.\. \[ ok \]|login: '

# iso_ssh_pause SECONDS: the pause between two ssh tries, cut short when
# the console newly shows ISO_SSH_READY (an event, not a fixed sleep);
# the firewall admits 3 new connections a minute, so the tries themselves
# stay SECONDS apart otherwise.
iso_ssh_pause() {
	seen=$(grep -caE "$ISO_SSH_READY" "$SERIAL" 2>/dev/null) || seen=0
	until_s=$(($(date +%s) + $1))
	while [ "$(date +%s)" -lt "$until_s" ]; do
		sleep 0.5
		now_seen=$(grep -caE "$ISO_SSH_READY" "$SERIAL" 2>/dev/null) || now_seen=0
		[ "$now_seen" -le "$seen" ] || return 0
	done
}

wait_ssh() {
	deadline=$(($(date +%s) + $1))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		vm_ssh true 2>/dev/null && return 0
		kill -0 "$QEMU_PID" 2>/dev/null || fail "qemu exited before ssh came up"
		iso_ssh_pause 10
	done
	tail -c 4000 "$SERIAL" >&2
	fail "ssh as admin did not come up within $1 s"
}

# The product's own verdict: every layer that reports is compliant.
check_compliant() {
	# exit 2 is "drift": the JSON says what; judged below
	rc=0
	out=$(vm_ssh doas jefe status --json) || rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 2 ] || {
		echo "$out" >&2
		fail "doas jefe status --json failed ($rc)"
	}
	echo "$out" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
layers = doc.get("layers", [])
bad = [l["name"] + "=" + l["state"] for l in layers if l["state"] != "compliant"]
drift = [f["id"] + ": expected " + str(f.get("expected")) + ", actual " + str(f.get("actual"))
         for f in doc.get("findings", []) if f.get("state") not in ("compliant", "unsupported")]
print("# layers:", ", ".join(l["name"] + "=" + l["state"] for l in layers))
if not layers:
    sys.exit("no layers reported")
if bad or doc.get("compliant") is not True:
    sys.exit("not compliant: " + ", ".join(bad) + "\n" + "\n".join(drift))
' || fail "jefe status: not every layer compliant"
}

# The root is the squashfs, read-only, under a tmpfs overlay.
check_root_overlay() {
	mounts=$(vm_ssh cat /proc/mounts)
	echo "$mounts" | grep -qE '^overlay / overlay .*lowerdir=/mnt/ro' ||
		echo "$mounts" | grep -qE '^overlay / overlay ' || fail "/ is not an overlay:
$mounts"
	echo "$mounts" | grep -qE '^/dev/loop[0-9]+ /live/ro squashfs ro[, ]' ||
		fail "the squashfs is not mounted read-only at /live/ro:
$mounts"
	echo "$mounts" | grep -qE '^tmpfs /live/rw tmpfs ' || fail "no tmpfs upper layer"
	if vm_ssh doas touch /live/ro/jefe-write-test 2>/dev/null; then
		fail "the squashfs lower layer is writable"
	fi
}

# check_hyperv_services: on a booted BIOS guest (qemu: no VMBus), the
# image's Hyper-V guest daemons (Debian's hyperv-daemons: KVP, VSS, file
# copy) are OpenRC services in the default runlevel that start only on a
# VMBus: each is installed and enabled, said at boot it had nothing to
# start, runs no daemon, is not crashed, and stops cleanly.  Run last: it
# stops the services.  (boot-bios.sh's boot: a boot of its own would only
# repeat that one.)
check_hyperv_services() {
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
}
