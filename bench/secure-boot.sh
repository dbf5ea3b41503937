#!/bin/sh
# bench/secure-boot.sh - power-on to ssh and to "jefe compliant" under qemu
# TCG (no KVM) for the same ISO with Secure Boot off and on: the default
# (--secure-boot microsoft) ISO in plain OVMF and in OVMF's Secure Boot
# build with Microsoft's keys, and the --secure-boot own ISO (snakeoil
# key, dm-verity root checked in full at boot) with the snakeoil keys.
# Uses the ISO tests' builds and helpers (tests/iso/lib.sh, cached).
#
# Usage (root): bench/secure-boot.sh [BUILDDIR]   (default: _build)
set -eu
srcdir=$(cd "$(dirname "$0")/.." && pwd)
abs_top_srcdir=$srcdir
abs_top_builddir=$(cd "${1:-$srcdir/_build}" && pwd)
export abs_top_srcdir abs_top_builddir
. "$srcdir/tests/iso/lib.sh"

# measure MODE ID LABEL ISO: prints "LABEL ssh S compliant S"
measure() {
	t0=$(date +%s)
	iso_boot "$1" "bench-$2" "$4" >/dev/null
	wait_ssh 900
	t_ssh=$(($(date +%s) - t0))
	deadline=$((t0 + 900))
	t_ok=timeout
	while [ "$(date +%s)" -lt "$deadline" ]; do
		if vm_ssh doas jefe status --json 2>/dev/null | grep -q '"compliant":true'; then
			t_ok=$(($(date +%s) - t0))
			break
		fi
		sleep 2
	done
	iso_cleanup
	QEMU_PID=
	printf '%-36s power-on to ssh %4ss   to compliant %4ss\n' "$3" "$t_ssh" "$t_ok"
}

iso_build >"$ISO_STATE/bench-build.log" 2>&1 || { cat "$ISO_STATE/bench-build.log" >&2; exit 1; }
ms_iso=$ISO_STATE/bench-microsoft.iso
cp "$(iso_file)" "$ms_iso"
iso_build_own >"$ISO_STATE/bench-build.log" 2>&1 || { cat "$ISO_STATE/bench-build.log" >&2; exit 1; }
own_iso=$(iso_file)

echo "== power-on to ssh / to compliant, qemu -accel tcg, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
measure uefi sb-off "UEFI, Secure Boot off (microsoft ISO)" "$ms_iso"
measure uefi-sb-ms sb-ms "UEFI, Secure Boot on (microsoft)" "$ms_iso"
measure uefi-sb-own sb-own "UEFI, Secure Boot on (own, dm-verity)" "$own_iso"
verify=$(grep -ac 'dm-verity: checking\|dm-verity: root verified' "$ISO_STATE/bench-sb-own.serial" || true)
[ "$verify" = 2 ] || echo "warning: the own boot did not show the verity check" >&2
rm -f "$ms_iso"
