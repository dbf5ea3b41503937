#!/bin/sh
# build.sh - the one entry point: build the agent, run every test, build the ISO.
#
#   ./build.sh --target check              install build/test packages (as root), build, run all tests
#   ./build.sh --target agent --destdir D  build and install the agent into D
#   ./build.sh --target iso --arch x86_64  build the bootable ISO into out/
set -eu

srcdir=$(cd "$(dirname "$0")" && pwd)
target=
arch=$(uname -m)
destdir=
builddir="$srcdir/_build"
jobs=$(nproc 2>/dev/null || echo 2)
iso_args=

usage() {
	cat <<USAGE
Usage: ./build.sh --target TARGET [options]

Targets:
  check     install missing build/test packages (when root), configure,
            build with -Werror and run every test tier
  agent     build the agent and install it into --destdir
  deps      only install the build/test packages (as root)
  iso       build the bootable hybrid BIOS/UEFI ISO into out/

Options:
  --arch ARCH         target architecture (x86_64)
  --destdir DIR       install root for --target agent
  --builddir DIR      out-of-tree build directory (default: _build)
  --no-deps           do not install packages, even as root
  -h, --help          this text
USAGE
}

die() { echo "build.sh: $*" >&2; exit 1; }

# Packages for building the agent and running its tests, per host base.
# One group a line, with what needs it.
debian_packages() {
	cat <<PKGS
build-essential autoconf automake pkg-config
libnftnl-dev libmnl-dev libaudit-dev libinih-dev librc-dev libjson-c-dev libssl-dev
libcmocka-dev
procps iproute2 python3
hyperfine
nftables iputils-ping util-linux kmod
# VM tests (tests/vm): qemu, initramfs tools, the witnesses auditctl and nft
qemu-system-x86 busybox-static cpio xz-utils binutils auditd
# sshd layer tests (tests/sshd, test_sshd): the real sshd, ssh, ssh-keygen
openssh-server openssh-client
PKGS
}

alpine_packages() {
	cat <<PKGS
build-base autoconf automake pkgconf linux-headers
libnftnl-dev libmnl-dev audit-dev inih-dev openrc-dev json-c-dev openssl-dev
cmocka-dev
procps iproute2 python3
hyperfine
nftables iputils util-linux-misc kmod
openssh-server openssh-client
PKGS
}

install_deps() {
	[ "$(id -u)" = 0 ] || { echo "build.sh: not root, not installing packages"; return 0; }
	if command -v apt-get >/dev/null 2>&1; then
		# shellcheck disable=SC2046
		pkgs=$(debian_packages | sed 's/#.*//' | tr '\n' ' ')
		missing=
		for p in $pkgs; do
			dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
				missing="$missing $p"
		done
		[ -z "$missing" ] && return 0
		echo "build.sh: installing$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q
		# shellcheck disable=SC2086
		apt-get install -y -q --no-install-recommends $missing
	elif command -v apk >/dev/null 2>&1; then
		# shellcheck disable=SC2046
		apk add --no-cache $(alpine_packages | tr '\n' ' ')
	else
		die "unknown host: install the packages listed in build.sh by hand"
	fi
}

configure_tree() {
	if [ ! -x "$srcdir/configure" ] || [ "$srcdir/configure.ac" -nt "$srcdir/configure" ] ||
	   [ "$srcdir/Makefile.am" -nt "$srcdir/Makefile.in" ]; then
		(cd "$srcdir" && autoreconf -fi)
	fi
	mkdir -p "$builddir"
	if [ ! -f "$builddir/Makefile" ]; then
		(cd "$builddir" && "$srcdir/configure" --enable-werror \
			--prefix=/usr --sysconfdir=/etc --localstatedir=/var "$@")
	fi
}

# Print the plain closing line CI reads, from automake's test-suite.log.
summarize_tests() {
	log="$builddir/test-suite.log"
	[ -f "$log" ] || { echo "0 passed, 1 failed"; return; }
	pass=$(sed -n 's/^# PASS: *//p' "$log")
	fail=$(sed -n 's/^# FAIL: *//p' "$log")
	xfail=$(sed -n 's/^# XFAIL: *//p' "$log")
	xpass=$(sed -n 's/^# XPASS: *//p' "$log")
	error=$(sed -n 's/^# ERROR: *//p' "$log")
	skip=$(sed -n 's/^# SKIP: *//p' "$log")
	echo "tests: $((pass + xfail)) passed, $((fail + xpass + error + skip)) failed"
}

target_check() {
	[ "$no_deps" = 1 ] || install_deps
	configure_tree
	make -C "$builddir" -j"$jobs"
	status=0
	make -C "$builddir" -j"$jobs" check || status=$?
	if [ "$status" != 0 ]; then
		# Show every failed test's log: CI has nothing else to read.
		for f in $(find "$builddir" -name '*.log' ! -name test-suite.log ! -name config.log); do
			trs=${f%.log}.trs
			[ -f "$trs" ] && grep -qE ':test-result: (FAIL|ERROR|SKIP|XPASS)' "$trs" &&
				{ echo "===== $f"; cat "$f"; }
		done
	fi
	summarize_tests
	# A skipped test hid a missing component: that is a failure here.
	if grep -qE '^# SKIP: *[1-9]' "$builddir/test-suite.log" 2>/dev/null; then
		echo "build.sh: some tests were skipped; every component must be present" >&2
		status=1
	fi
	return "$status"
}

target_agent() {
	[ -n "$destdir" ] || die "--target agent needs --destdir DIR"
	configure_tree
	make -C "$builddir" -j"$jobs"
	make -C "$builddir" install DESTDIR="$destdir"
}

target_iso() {
	die "--target iso: the image builder (image-build/) is not in this tree yet"
}

no_deps=0
while [ $# -gt 0 ]; do
	case "$1" in
	--target) target=${2:?}; shift 2 ;;
	--target=*) target=${1#*=}; shift ;;
	--arch) arch=${2:?}; shift 2 ;;
	--arch=*) arch=${1#*=}; shift ;;
	--destdir) destdir=${2:?}; shift 2 ;;
	--destdir=*) destdir=${1#*=}; shift ;;
	--builddir) builddir=${2:?}; shift 2 ;;
	--builddir=*) builddir=${1#*=}; shift ;;
	--no-deps) no_deps=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) iso_args="$iso_args $1"; shift ;;
	esac
done

case "$arch" in
x86_64|amd64) arch=x86_64 ;;
*) die "unsupported --arch $arch (supported: x86_64)" ;;
esac

case "$target" in
check) target_check ;;
deps) install_deps ;;
agent) target_agent ;;
iso) target_iso ;;
"") usage >&2; exit 64 ;;
*) echo "build.sh: unknown target '$target'" >&2; usage >&2; exit 64 ;;
esac
