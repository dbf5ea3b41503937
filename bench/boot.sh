#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/boot.sh - the ISO's boot under qemu -accel tcg (BIOS, 1 vCPU, no
# KVM): power-on to the login prompt and power-on to `doas jefe status
# --json` compliant over ssh, with each phase (firmware and GRUB, kernel,
# initramfs, each OpenRC runlevel and the time each service was ready),
# against the floor measured in the same run: the VM harness's kernel-only
# boot (tests/vm/run-vm.sh, a kernel and a tiny initramfs, no firmware
# menu, no OpenRC).
#
# Usage (root; a configured build tree, as the ISO tests use):
#   abs_top_builddir=$PWD/_build abs_top_srcdir=$PWD sh bench/boot.sh [RUNS] [ISO]
# RUNS boots (default 3; medians shown).  Without ISO it builds (or reuses)
# the ISO tests' shared image (tests/iso/lib.sh, with their test key); an
# ISO given must take that key (tests/iso/state/key/id.pub).
set -eu
: "${abs_top_builddir:?set abs_top_builddir (the build tree)}"
: "${abs_top_srcdir:?set abs_top_srcdir (the source tree)}"
runs=${1:-3}
# per boot; a loaded 2-core machine has taken 500 s for one
: "${BOOT_BENCH_TIMEOUT:=900}"
. "$abs_top_srcdir/tests/iso/lib.sh"
need qemu-system-x86_64 python3 ssh xorriso
if [ -n "${2:-}" ]; then
	iso=$2
else
	iso_build >"$ISO_STATE/bench-boot-build.log" 2>&1 ||
		{ tail -n 30 "$ISO_STATE/bench-boot-build.log" >&2; fail "the ISO build failed"; }
	iso=$(iso_file)
fi
[ -f "$ISO_KEY" ] || fail "no test key $ISO_KEY (build the ISO tests' image once)"
out=$ISO_STATE/bench-boot
# One bench at a time: a second one's rm -rf below emptied the first's
# directory while its boot ran, and its figures went to deleted files.
exec 7>"$ISO_STATE/bench-boot.lock"
flock -w 3600 7 || fail "another bench/boot.sh holds $ISO_STATE/bench-boot.lock"
rm -rf "$out" && mkdir -p "$out"
printf 'vm_pass "booted"\n' >"$out/guest.sh"

echo "# $(date -u +%FT%TZ), $(nproc) host cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# ISO $iso"
# what GRUB reads from the CD through BIOS calls before the kernel runs
echo "# GRUB reads: $(xorriso -indev "$iso" -lsl /boot/vmlinuz /boot/initrd.img 2>/dev/null |
	awk '$1 ~ /^-/ { f = $NF; gsub("\047", "", f); printf "%s%s %d KiB", sep, f, $5 / 1024; sep = ", " }')"
i=1
while [ "$i" -le "$runs" ]; do
	# the floor: the harness's kernel-only boot, in the same run
	sh "$abs_top_srcdir/tests/vm/run-vm.sh" --no-agent "$out/guest.sh" >"$out/floor.log" 2>&1 ||
		{ tail -n 20 "$out/floor.log" >&2; fail "the VM harness did not boot"; }
	sed -n 's/.*boot to first test \([0-9.]*\) s.*/floor \1/p' "$out/floor.log" >"$out/run-$i"
	# the machine's ISO guests to itself: both of the tests' guest slots
	# (tests/iso/lib.sh's iso_boot_lock)
	exec 8>"$ISO_STATE/boot.lock.0" 6>"$ISO_STATE/boot.lock.1"
	flock -w 1200 8 && flock -w 1200 6 || fail "an ISO test holds a guest slot ($ISO_STATE/boot.lock.*)"
	python3 "$abs_top_srcdir/bench/boot_phases.py" "$iso" "$ISO_KEY" "$ISO_STATE" "$BOOT_BENCH_TIMEOUT" \
		>>"$out/run-$i" || { cat "$out/run-$i" >&2; fail "boot $i failed (console: $ISO_STATE/bench-boot.serial)"; }
	cp "$ISO_STATE/bench-boot.serial" "$out/serial-$i"
	cp "$ISO_STATE/bench-boot.stamped" "$out/console-$i"
	exec 8>&- 6>&-
	echo "# run $i: login prompt $(sed -n 's/^login //p' "$out/run-$i") s," \
		"compliant over ssh $(sed -n 's/^compliant //p' "$out/run-$i") s," \
		"floor $(sed -n 's/^floor //p' "$out/run-$i") s," \
		"last PID at compliant $(sed -n 's/^lastpid //p' "$out/run-$i")," \
		"deptree rebuilt at boot: $(sed -n 's/^deptree-rebuilt-at-boot //p' "$out/run-$i")" \
		"(stamped console: $out/console-$i)"
	i=$((i + 1))
done

# medians over the runs: each phase's end and length, each service's time
cat "$out"/run-* | awk -v runs="$runs" '
function median(key,    n, i, j, t, v) {
	n = split(vals[key], v, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return v[int((n + 1) / 2)]
}
function add(key, val) {
	if (!(key in vals)) order[++n] = key
	vals[key] = (key in vals) ? vals[key] " " val : val
}
$1 == "phase" { add("phase " $2, $3); add("took " $2, $4) }
$1 == "service" { add("service " $2 " " $3, $4) }
$1 == "floor" || $1 == "login" || $1 == "compliant" || $1 == "lastpid" { add($1, $2) }
END {
	printf "\nmedians of %d boot(s), seconds from power-on (qemu TCG, BIOS, 1 vCPU)\n", runs
	printf "%-26s %8s %8s\n", "phase", "ends at", "takes"
	for (i = 1; i <= n; i++) {
		split(order[i], k, " ")
		if (k[1] == "phase")
			printf "%-26s %8.2f %8.2f\n", k[2], median(order[i]), median("took " k[2])
	}
	printf "\n%-10s %-22s %8s\n", "runlevel", "service ready", "at"
	for (i = 1; i <= n; i++) {
		split(order[i], k, " ")
		if (k[1] == "service")
			printf "%-10s %-22s %8.2f\n", k[2], k[3], median(order[i])
	}
	f = median("floor"); l = median("login"); c = median("compliant")
	printf "\nfloor: VM harness kernel-only boot   %6.2f s\n", f
	printf "power-on -> login prompt            %6.2f s  (%.1fx the floor)\n", l, l / f
	printf "power-on -> jefe status compliant   %6.2f s  (%.1fx the floor; goal <= 40 s: %.2fx)\n",
		c, c / f, c / 40
	if ("lastpid" in vals)
		printf "guest processes started by then     %6d    (last PID; load-independent)\n",
			median("lastpid")
}'
