#!/bin/sh
# bench/iso.sh - the ISO pipeline's figures on this machine:
#   cold build (every stage, --no-cache) with the time of each stage,
#   a no-change rebuild, the ISO's size, and power-on to "jefe compliant"
#   (qemu -accel tcg, BIOS, polling `doas jefe status --json` over ssh).
# Ratios are against the design's reference build (5m44s, 381 MB) and the
# goals (cold < 3 min, rebuild < 10 s, ISO < 100 MB).
#
# Usage (root): bench/iso.sh [BUILDDIR]   (default: _build, as build.sh)
set -eu
srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-$srcdir/_build}
state=$builddir/bench-iso
mkdir -p "$state"
# One SOURCE_DATE_EPOCH for the whole run: build.sh would take the last
# commit's time, and a commit landing mid-run would change stage 3's key.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$srcdir" log -1 --format=%ct)}
export SOURCE_DATE_EPOCH
[ -f "$state/id" ] || ssh-keygen -q -t ed25519 -N '' -f "$state/id"

build() {
	"$srcdir/build.sh" --target iso --arch x86_64 --builddir "$builddir" --no-deps \
		--authorized-keys "$state/id.pub" --outdir "$state/out" "$@"
}
secs() { # "1m05s" -> 65
	echo "$1" | awk '{ m = 0; s = $0; if (index(s, "m")) { split(s, a, "m"); m = a[1]; s = a[2] } sub("s", "", s); print m * 60 + s }'
}

echo "== cold build (--no-cache), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
build --no-cache | tee "$state/cold.log"
total=$(sed -n 's/^Total: \([0-9ms]*\) .*/\1/p' "$state/cold.log")
mb=$(sed -n 's/.*(\([0-9]*\) MB)$/\1/p' "$state/cold.log")

echo "== no-change rebuild"
t0=$(date +%s.%N)
build | tee "$state/warm.log"
t1=$(date +%s.%N)
warm=$(echo "$t1 - $t0" | bc)

echo "== power-on to jefe compliant (qemu -accel tcg, BIOS)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
iso=$(ls "$state"/out/jefelinux-*-x86_64.iso)
t0=$(date +%s.%N)
qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -display none -monitor none \
	-serial "file:$state/serial.log" -no-reboot \
	-nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$port-:22" -cdrom "$iso" &
qpid=$!
trap 'kill $qpid 2>/dev/null || true' EXIT
boot=timeout
deadline=$(($(date +%s) + 900))
while [ "$(date +%s)" -lt "$deadline" ]; do
	if timeout 30 ssh -i "$state/id" -p "$port" -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=10 \
		-o LogLevel=ERROR admin@127.0.0.1 doas jefe status --json 2>/dev/null |
		grep -q '"compliant":true'; then
		boot=$(echo "$(date +%s.%N) - $t0" | bc)
		break
	fi
	sleep 2
done
kill "$qpid" 2>/dev/null || true

echo
echo "== ISO pipeline figures ($(uname -m), $(nproc) cores)"
printf 'cold build            %s  (%.2f x the reference 5m44s; goal < 3m: %.2f x)\n' \
	"$total" "$(echo "$(secs "$total") / 344" | bc -l)" "$(echo "$(secs "$total") / 180" | bc -l)"
grep '^\[Stage' "$state/cold.log" | sed 's/^/  /'
printf 'no-change rebuild     %.1fs  (goal < 10 s: %.2f x)\n' "$warm" "$(echo "$warm / 10" | bc -l)"
printf 'ISO size              %s MB  (%.2f x the reference 381 MB; goal < 100 MB)\n' \
	"$mb" "$(echo "$mb / 381" | bc -l)"
printf 'power-on to compliant %ss (qemu TCG, no KVM)\n' "$boot"
