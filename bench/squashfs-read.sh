#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/squashfs-read.sh - what the boot's reads of the root cost under
# emulation, by squashfs setting.  The image's root (stage 4's output in
# the ISO tests' build cache) is made as a squashfs with each setting; the
# ISO boots (qemu TCG, BIOS, 1 vCPU) with those attached as virtio disks;
# in the guest, the files the boot read (those with pages in the page
# cache once ssh is up, by fincore) are read cold from each, in turns.
# Prints each variant's size and the real time of each read, in ms of the
# guest's clock (one `date` start included in every figure alike).
#
# Usage (root; a build tree whose ISO tests' image is built):
#   abs_top_builddir=$PWD/_build abs_top_srcdir=$PWD sh bench/squashfs-read.sh [ROUNDS]
set -eu
: "${abs_top_builddir:?set abs_top_builddir (the build tree)}"
: "${abs_top_srcdir:?set abs_top_srcdir (the source tree)}"
rounds=${1:-3}
. "$abs_top_srcdir/tests/iso/lib.sh"
need qemu-system-x86_64 mksquashfs ssh
root=
for d in "$ISO_WORK"/cache/4-*/rootfs; do root=$d; done
[ -d "$root" ] || fail "no stage 4 root in $ISO_WORK/cache (build the ISO tests' image first)"
iso=$(iso_file)
dir=$ISO_STATE/bench-squashfs
rm -rf "$dir" && mkdir -p "$dir"
trap 'iso_cleanup; rm -rf "$dir"' EXIT INT TERM

# name and mksquashfs options; the first is the image's own (stage_iso.c)
variants="zstd-128K:-comp zstd -Xcompression-level 15 -b 128K
zstd-1M:-comp zstd -Xcompression-level 15 -b 1M
lz4hc-128K:-comp lz4 -Xhc -b 128K"
drives='' names=''
echo "# $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), root $root"
while IFS=: read -r name opts; do
	# shellcheck disable=SC2086 # opts is a list of words
	mksquashfs "$root" "$dir/$name.sfs" -noappend -no-progress -quiet $opts \
		-mkfs-time 0 -all-time 0 -wildcards -e 'boot/vmlinuz*' 'boot/initrd*' >/dev/null
	echo "size $name $(stat -c %s "$dir/$name.sfs")"
	drives="$drives -drive file=$dir/$name.sfs,if=virtio,format=raw,readonly=on"
	names="$names $name"
done <<V
$variants
V

ISO_QEMU_ARGS="-smp 1$drives" iso_boot bios bench-squashfs "$iso"
wait_ssh "${ISO_BOOT_TIMEOUT:-1800}"
# virtio disks vda, vdb, ... in the order of $names (one word each)
# shellcheck disable=SC2086
vm_ssh doas sh -s "$rounds" $names <<'G'
rounds=$1; shift
ms() { echo $(( $(date +%s%N) / 1000000 )); }
cd /live/ro
find . -xdev -type f -print0 | xargs -0 fincore -n -b -o RES,FILE 2>/dev/null |
	awk '$1 > 0 { print $2 }' >/tmp/readset
echo "readset $(wc -l </tmp/readset) files, $(xargs -a /tmp/readset du -cb | tail -n 1 | cut -f1) bytes"
modprobe virtio_blk 2>/dev/null || true
set -- "$@"
i=0
for n; do
	letter=$(printf "\\$(printf %o $((97 + i)))")
	mkdir -p "/tmp/sfs-$n" && mount -t squashfs -o ro "/dev/vd$letter" "/tmp/sfs-$n"
	i=$((i + 1))
done
# one read first, not shown: the emulator translates the guest's
# unpacking code once, and the first read would pay for it
cd "/tmp/sfs-$1"; sync; echo 3 >/proc/sys/vm/drop_caches; xargs -a /tmp/readset cat >/dev/null
r=1
while [ "$r" -le "$rounds" ]; do
	for n; do
		cd "/tmp/sfs-$n"
		sync; echo 3 >/proc/sys/vm/drop_caches
		s=$(ms); xargs -a /tmp/readset cat >/dev/null; e=$(ms)
		echo "read round $r $n $((e - s)) ms"
	done
	r=$((r + 1))
done
G
