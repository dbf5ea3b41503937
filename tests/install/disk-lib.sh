# tests/install/disk-lib.sh - for the tests that start from a preinstalled
# disk (update.sh; disk-key.sh builds its own): one preinstalled disk made by
# `./build.sh --target disk --format vhdx` from the tests' ISO, built once
# and kept while the ISO is unchanged; each test boots a qcow2 overlay of
# it (the VHDX is read directly, never written), so one build serves every
# test and every test starts from a fresh first boot.
. "$abs_top_srcdir/tests/install/lib.sh"

DISK_OUT=$INST_STATE/disk-out

# disk_image: the VHDX of the tests' ISO (built unless it is newer than
# the ISO); sets DISK_IMAGE.  One build at a time (the lock).
disk_image() {
	need qemu-img
	exec 7>"$INST_STATE/disk.lock"
	flock -w 3600 7 || fail "another test holds $INST_STATE/disk.lock"
	iso=$(iso_file)
	DISK_IMAGE=
	for f in "$DISK_OUT"/*.vhdx; do
		[ -f "$f" ] && [ "$f" -nt "$iso" ] && DISK_IMAGE=$f
	done
	if [ -z "$DISK_IMAGE" ]; then
		rm -rf "$DISK_OUT"
		start=$(date +%s)
		# the build's install runs in a guest: one of the two slots
		iso_boot_lock
		"$abs_top_srcdir/build.sh" --target disk --format vhdx --iso "$iso" \
			--disk-outdir "$DISK_OUT" --disk-size 3G >"$INST_STATE/disk-build.log" 2>&1 || {
			tail -n 60 "$INST_STATE/disk-build.log" >&2
			fail "./build.sh --target disk --format vhdx failed"
		}
		flock -u 8
		echo "# ./build.sh --target disk --format vhdx: $(($(date +%s) - start)) s"
		for f in "$DISK_OUT"/*.vhdx; do
			[ -f "$f" ] && DISK_IMAGE=$f
		done
		[ -n "$DISK_IMAGE" ] || fail "./build.sh --target disk made no .vhdx in $DISK_OUT"
	fi
	flock -u 7
	exec 7>&-
}

# disk_overlay NAME: a qcow2 overlay of the VHDX as $DISK.
disk_overlay() {
	DISK=$INST_STATE/$1.qcow2
	DISK_FORMAT=qcow2
	rm -f "$DISK"
	qemu-img create -q -f qcow2 -b "$DISK_IMAGE" -F vhdx "$DISK" ||
		fail "qemu-img create an overlay of $DISK_IMAGE"
}

# disk_first_key: the passphrase the first boot showed once (sets KEY).
disk_first_key() {
	wait_serial 'its passphrase, shown this once' "$ISO_BOOT_TIMEOUT"
	sleep 2
	KEY=$(grep -a -A2 'its passphrase, shown this once' "$SERIAL" |
		sed -n 's/^[[:space:]]*\([0-9a-f-]\{40,\}\)[[:space:]]*$/\1/p' | head -n 1 | tr -d '\r')
	[ -n "$KEY" ] || fail "no passphrase shown on the first boot"
}

# disk_slot: the slot the running guest booted (jefe.slot=).
disk_slot() {
	vm_ssh cat /proc/cmdline | sed -n 's/.*jefe\.slot=\([ab]\).*/\1/p'
}

# disk_stop: power the guest off cleanly (the image has no poweroff of
# its own: BusyBox's signals its init), then as inst_stop.
disk_stop() {
	vm_ssh doas busybox poweroff >/dev/null 2>&1 || true
	inst_stop
}
