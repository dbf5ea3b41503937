# tests/install/lib.sh - shared by the install tests: the ISO of tests/iso
# (the same cached build), a blank qcow2 disk, qemu (-accel tcg) booting
# the ISO or the installed disk on BIOS or UEFI, its serial line both
# logged and writable (a socket), so a test types the data partition's
# passphrase where an admin would.
. "$abs_top_srcdir/tests/iso/lib.sh"

INST_STATE=$abs_top_builddir/tests/install/state
INST_PASS="correct horse battery staple"
mkdir -p "$INST_STATE"

inst_build_iso() {
	iso_build >"$INST_STATE/build.log" 2>&1 || {
		tail -n 60 "$INST_STATE/build.log" >&2
		fail "the ISO build failed"
	}
}

# inst_disk NAME SIZE: a blank qcow2 disk; sets DISK (the guest's vda,
# in format DISK_FORMAT, qcow2 unless set).
inst_disk() {
	need qemu-img
	DISK=$INST_STATE/$1.qcow2
	rm -f "$DISK"
	qemu-img create -q -f qcow2 "$DISK" "$2" || fail "qemu-img create $DISK"
}

# inst_boot iso|bios|uefi NAME [extra qemu args]: iso boots the ISO (BIOS)
# with $DISK attached; bios and uefi boot $DISK alone.  Sets SERIAL, SOCK,
# PORT, QEMU_PID.  INST_QEMU_ARGS: more qemu arguments for every boot of
# a test (tpm.sh's TPM).
inst_boot() {
	mode=$1 name=$2
	shift 2
	need qemu-system-x86_64 python3
	iso_boot_lock
	SERIAL=$INST_STATE/$name.serial
	SOCK=$INST_STATE/$name.sock
	PORT=$(iso_free_port)
	rm -f "$SERIAL" "$SOCK"
	INST_ANSWERED=0	# passphrase prompts answered on this boot
	case "$mode" in
	iso)
		set -- -cdrom "$(iso_file)" -boot d "$@" ;;
	bios)
		set -- "$@" ;;
	uefi)
		code=/usr/share/OVMF/OVMF_CODE_4M.fd vars=/usr/share/OVMF/OVMF_VARS_4M.fd
		[ -f "$code" ] && [ -f "$vars" ] || fail "no OVMF firmware (package ovmf)"
		cp "$vars" "$INST_STATE/$name.vars"
		set -- -drive "if=pflash,format=raw,readonly=on,file=$code" \
			-drive "if=pflash,format=raw,file=$INST_STATE/$name.vars" "$@" ;;
	*) fail "inst_boot: unknown mode $mode" ;;
	esac
	qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -display none -monitor none \
		-chardev "socket,id=ser0,path=$SOCK,server=on,wait=off,logfile=$SERIAL" \
		-serial chardev:ser0 -no-reboot \
		-nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$PORT-:22" \
		-drive "if=virtio,format=${DISK_FORMAT:-qcow2},file=$DISK${INST_DISK_OPTS:+,$INST_DISK_OPTS}" \
		"$@" ${INST_QEMU_ARGS:-} >"$INST_STATE/$name.qemu" 2>&1 &
	QEMU_PID=$!
	echo "# $name: qemu pid $QEMU_PID ($mode), serial $SERIAL, ssh port $PORT"
}

# serial_type TEXT: a line typed on the guest's serial console.
serial_type() {
	python3 - "$SOCK" "$1" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
for ch in sys.argv[2] + "\r":
    s.sendall(ch.encode())
    time.sleep(0.02)
time.sleep(0.5)
s.close()
PY
}

# serial_count REGEX: how many lines of the console match; 0 while qemu
# has not yet created the console log (callers compare it as a number).
serial_count() {
	count=$(grep -caE "$1" "$SERIAL" 2>/dev/null) || true
	echo "${count:-0}"
}

# inst_unlock [PASSPHRASE]: wait for the initramfs' next prompt, answer it.
inst_unlock() {
	n=$INST_ANSWERED
	deadline=$(($(date +%s) + ISO_BOOT_TIMEOUT))
	while [ "$(serial_count 'Passphrase for the JefeLinux data partition')" -le "$n" ]; do
		[ "$(date +%s)" -lt "$deadline" ] || { tail -c 3000 "$SERIAL" >&2; fail "no passphrase prompt"; }
		kill -0 "$QEMU_PID" 2>/dev/null || { tail -c 3000 "$SERIAL" >&2; fail "qemu exited before the prompt"; }
		sleep 0.5
	done
	sleep 1
	serial_type "${1:-$INST_PASS}"
	INST_ANSWERED=$((INST_ANSWERED + 1))
}

# inst_stop: power off the guest cleanly (its disk stays consistent):
# BusyBox's poweroff signals its init, which runs OpenRC's shutdown.
inst_stop() {
	vm_ssh doas /bin/busybox poweroff >/dev/null 2>&1 || true
	ssh -o ControlPath="$ISO_STATE/ssh-$PORT.ctl" -O exit x 2>/dev/null || true
	deadline=$(($(date +%s) + 300))
	while kill -0 "$QEMU_PID" 2>/dev/null; do
		[ "$(date +%s)" -lt "$deadline" ] || { kill "$QEMU_PID"; break; }
		sleep 0.5
	done
	wait "$QEMU_PID" 2>/dev/null || true
	QEMU_PID=
	flock -u 8
}

# inst_wait_reset SECONDS WHAT: the guest resets by itself within SECONDS
# (qemu runs with -no-reboot, so a reset ends it); else fail with WHAT and
# the end of the console.
inst_wait_reset() {
	deadline=$(($(date +%s) + $1))
	while kill -0 "$QEMU_PID" 2>/dev/null; do
		[ "$(date +%s)" -lt "$deadline" ] ||
			{ tail -c 3000 "$SERIAL" >&2; fail "$2"; }
		sleep 2
	done
	wait "$QEMU_PID" 2>/dev/null || true
	QEMU_PID=
	flock -u 8
}

# inst_kill: pull the power.
inst_kill() {
	ssh -o ControlPath="$ISO_STATE/ssh-$PORT.ctl" -O exit x 2>/dev/null || true
	kill -9 "$QEMU_PID" 2>/dev/null || true
	wait "$QEMU_PID" 2>/dev/null || true
	QEMU_PID=
	flock -u 8
}

# inst_ssh_long CMD...: vm_ssh for a long command (an install, an update:
# argon2id and whole-slot writes under TCG take minutes, not vm_ssh's 120 s).
inst_ssh_long() {
	# shellcheck disable=SC2086
	timeout 1800 ssh $SSH_OPTS -o ControlMaster=auto -o ControlPersist=900 \
		-o ControlPath="$ISO_STATE/ssh-$PORT.ctl" -i "$ISO_KEY" -p "$PORT" \
		admin@127.0.0.1 "$@"
}

# inst_install NAME [jefe-install options]: boot the ISO with $DISK,
# install over ssh (passphrase on stdin), power off.
inst_install() {
	name=$1
	shift
	inst_boot iso "$name"
	wait_ssh "$ISO_BOOT_TIMEOUT"
	printf '%s\n' "$INST_PASS" | inst_ssh_long doas jefe-install "$@" /dev/vda >"$INST_STATE/$name.install" 2>&1 || {
		cat "$INST_STATE/$name.install" >&2
		fail "jefe-install /dev/vda failed"
	}
	cat "$INST_STATE/$name.install"
	inst_stop
}
