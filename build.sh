#!/bin/sh
# build.sh - the one entry point: build the agent, run every test, build the ISO.
#
#   ./build.sh --target check              install build/test packages (as root), build, run all tests
#   ./build.sh --target agent --destdir D  build and install the agent into D
#   ./build.sh --target iso --arch x86_64  build the bootable ISO into out/
#   ./build.sh --target deb                build the Debian package of the agent into out/
#   ./build.sh --target disk --format qcow2  a preinstalled disk image into out/
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
            build with -Werror and run every test tier, then the sanitizer
            tier: a clang ASan+UBSan build (BUILDDIR-san) runs the unit,
            CLI, netns, root and sshd tiers and replays the fuzz corpora
  agent     build the agent and install it into --destdir
  deps      only install the build/test packages (as root)
  iso       build the bootable hybrid BIOS/UEFI ISO into out/
  deb       build the agent's Debian package (contrib/debian) from the
            release tarball with dpkg-buildpackage into out/ (or
            --deb-outdir); DEB_BUILD_OPTIONS is passed on (nocheck, ...)
  disk      a preinstalled disk image (jefe-install's layout) into out/:
            the ISO (built first, or --iso FILE) installs itself to a
            blank disk under qemu, then qemu-img converts and checks it;
            its data partition is encrypted on the first boot, which
            shows the new passphrase once (docs/install.md), or at build
            time with --data-key-file

Options:
  --arch ARCH         target architecture (x86_64)
  --destdir DIR       install root for --target agent; with --target deb,
                      the package is also unpacked there (the ISO's agent)
  --deb-outdir DIR    where --target deb puts the .deb files (default out/)
  --deb-version VER   package version for --target deb instead of the one
                      in contrib/debian/changelog (tests build an older one)
  --builddir DIR      out-of-tree build directory (default: _build)
  --no-deps           do not install packages, even as root
  --format FMT        --target disk: raw, qcow2 or vhdx (default raw)
  --iso FILE          --target disk: install this ISO instead of building one
  --disk-size SIZE    --target disk: the image's size (default 4G)
  --disk-outdir DIR   --target disk: where the image goes (default out/)
  --data-key-file FILE  --target disk: encrypt the data partition at build
                      time; the passphrase is FILE's first line
  -h, --help          this text
USAGE
}

die() { echo "build.sh: $*" >&2; exit 1; }

# Packages for building the agent and running its tests, per host base.
# One group a line, with what needs it.
debian_packages() {
	cat <<PKGS
build-essential autoconf automake pkg-config
libnftnl-dev libmnl-dev libaudit-dev libinih-dev librc-dev libjson-c-dev libmd-dev
libcmocka-dev
procps iproute2 python3
hyperfine
nftables iputils-ping util-linux kmod
# VM tests (tests/vm): qemu, initramfs tools, the witnesses auditctl and nft
qemu-system-x86 busybox-static cpio xz-utils binutils auditd
# disk images (--target disk, tests/install): qemu-img converts and checks
qemu-utils
# sshd layer tests (tests/sshd, test_sshd): the real sshd, ssh, ssh-keygen
openssh-server openssh-client
# ISO build (image-build/): bootstrap, squashfs, GRUB images, EFI FAT, xorriso
mmdebstrap squashfs-tools xorriso grub-common grub-pc-bin grub-efi-amd64-bin mtools dosfstools cpio
# the ISO's initramfs is zstd-compressed (image-build stage 5)
zstd
# ISO tests (tests/iso): boot it under qemu (BIOS, OVMF for UEFI), ssh in
qemu-system-x86 ovmf openssh-client
# ISO log forwarding test (tests/iso/syslog-tls.sh): a private collector, test CA
rsyslog rsyslog-gnutls gnutls-bin
# Debian package (--target deb, tests/pkg): build, lint, throwaway root
debhelper dh-autoreconf dpkg-dev fakeroot lintian mmdebstrap
# package lock (image-build --lock): apt-ftparchive for the local repository;
# the SBOM's schema check in tests/iso/offline.sh
apt-utils python3-jsonschema
# Secure Boot (docs/secure-boot.md): Debian's signed shim and GRUB; the
# own-key mode's UKI stub, signing (at a fixed time), dm-verity; the tests'
# key handling
shim-signed grub-efi-amd64-signed systemd-boot-efi sbsigntool libfaketime cryptsetup-bin openssl
# tests/install/tpm.sh (make check-tpm): a software TPM2 for the guest
swtpm swtpm-tools
# jefe-install of an own image (the image's package, also on the host for
# its man page and dry runs): the firmware's boot entries
efibootmgr
# tests/root/atomic-fsync.sh: strace is the witness of the directory fsync
strace
# the sanitizer tier and tests/fuzz: clang with ASan/UBSan and libFuzzer
clang-14 libfuzzer-14-dev libclang-rt-14-dev
# fleet reports and metrics (tests/netns/daemon-fleet.sh): the JSON Schema
# validator (also above) and promtool (prometheus is never started as a service)
python3-jsonschema prometheus
# bench/direct-status.sh: instruction counts (callgrind); strace (above) is
# the witness that an unchanged status runs no program
valgrind
# tests/vm/cis.sh unpacks Debian's chrony and logrotate into the VM (--deb)
# with the host's copies of the libraries they link
libedit2 libgnutls30 libnettle8 libseccomp2 libcap2 libpopt0 libacl1 libselinux1
PKGS
}

alpine_packages() {
	cat <<PKGS
build-base autoconf automake pkgconf linux-headers
libnftnl-dev libmnl-dev audit-dev inih-dev openrc-dev json-c-dev libmd-dev
cmocka-dev
procps iproute2 python3
hyperfine
nftables iputils util-linux-misc kmod
openssh-server openssh-client
# ISO build (image-build/) and its tests
apk-tools squashfs-tools xorriso grub-bios grub-efi mtools dosfstools cpio
zstd
qemu-system-x86_64 ovmf openssh-client
# disk images (--target disk)
qemu-img
strace
clang compiler-rt
rsyslog rsyslog-tls gnutls-utils
# fleet reports and metrics: JSON Schema validator, promtool
py3-jsonschema prometheus
valgrind
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
		# Packages such as auditd and openssh-server start their daemons
		# when installed; build dependencies must not change the host's
		# audit rules or sshd.  policy-rc.d (invoke-rc.d's hook) says no
		# for the duration, unless the host already has one of its own.
		guard=
		if [ ! -e /usr/sbin/policy-rc.d ]; then
			printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
			chmod 755 /usr/sbin/policy-rc.d
			guard=/usr/sbin/policy-rc.d
		fi
		rc=0
		apt-get update -q || rc=$?
		# shellcheck disable=SC2086
		[ "$rc" != 0 ] || apt-get install -y -q --no-install-recommends $missing || rc=$?
		[ -z "$guard" ] || rm -f "$guard"
		[ "$rc" = 0 ] || die "package installation failed"
	elif command -v apk >/dev/null 2>&1; then
		# shellcheck disable=SC2046
		apk add --no-cache $(alpine_packages | sed "s/#.*//" | tr "\n" " ")
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
	# A skipped test hid a missing component: that is a failure here.
	if grep -qE '^# SKIP: *[1-9]' "$builddir/test-suite.log" 2>/dev/null; then
		echo "build.sh: some tests were skipped; every component must be present" >&2
		status=1
	fi
	# The release tarball must be complete and build on its own.  Its
	# unit and CLI tiers prove that; the tiers on namespaces, VMs and the
	# ISO ran above and are not run a second time.
	if [ "$status" = 0 ]; then
		dist_tests=$(make -s -C "$builddir" print-distcheck-tests)
		if ! make -C "$builddir" distcheck TESTS="$dist_tests" \
			DISTCHECK_CONFIGURE_FLAGS=--enable-werror >"$builddir/distcheck.out" 2>&1; then
			tail -n 60 "$builddir/distcheck.out"
			echo "build.sh: make distcheck failed" >&2
			status=1
		else
			echo "build.sh: make distcheck passed ($(ls "$builddir"/*.tar.xz 2>/dev/null | xargs -n1 basename))"
		fi
	fi
	if [ "$status" = 0 ]; then
		sanitizer_check || status=1
	fi
	summarize_tests
	[ "$status" = 0 ] || return "$status"
}

# The sanitizer tier: a second tree built by clang with AddressSanitizer,
# UndefinedBehaviorSanitizer and the libFuzzer harnesses, running every
# tier that executes our binaries on this machine.  Reports go to files
# (log_path), so one from a process a test does not wait for (a daemon, a
# child) fails the tier too.
sanitizer_check() {
	cc=
	for c in clang-14 clang; do
		command -v "$c" >/dev/null 2>&1 && { cc=$c; break; }
	done
	[ -n "$cc" ] || { echo "build.sh: clang not found: the sanitizer tier needs clang-14 and libfuzzer-14-dev" >&2; return 1; }
	sandir="$builddir-san"
	mkdir -p "$sandir"
	if [ ! -f "$sandir/Makefile" ]; then
		(cd "$sandir" && "$srcdir/configure" --enable-fuzz \
			--prefix=/usr --sysconfdir=/etc --localstatedir=/var CC="$cc" \
			CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
			LDFLAGS="-fsanitize=address,undefined") || return 1
	fi
	make -C "$sandir" -j"$jobs" || return 1
	reports="$sandir/sanitizer-reports"
	rm -rf "$reports"
	mkdir -p "$reports"
	chmod 1777 "$reports"	# tests run some commands as an unprivileged uid
	san_tests=$(make -s -C "$sandir" print-sanitizer-tests)
	san_status=0
	ASAN_OPTIONS="detect_leaks=1:log_path=$reports/report" \
	UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/report" \
		make -C "$sandir" -j"$jobs" check TESTS="$san_tests" || san_status=1
	for f in "$reports"/*; do
		[ -f "$f" ] || continue
		echo "===== sanitizer report $f"
		cat "$f"
		san_status=1
	done
	if [ "$san_status" != 0 ]; then
		for f in $(find "$sandir" -name '*.log' ! -name test-suite.log ! -name config.log); do
			trs=${f%.log}.trs
			[ -f "$trs" ] && grep -qE ':test-result: (FAIL|ERROR|SKIP|XPASS)' "$trs" &&
				{ echo "===== $f"; cat "$f"; }
		done
		echo "build.sh: the sanitizer tier failed" >&2
		return 1
	fi
	if grep -qE '^# SKIP: *[1-9]' "$sandir/test-suite.log" 2>/dev/null; then
		echo "build.sh: some sanitizer-tier tests were skipped" >&2
		return 1
	fi
	echo "build.sh: sanitizer tier passed ($(echo "$san_tests" | wc -w) tests, no sanitizer report)"
}

target_agent() {
	[ -n "$destdir" ] || die "--target agent needs --destdir DIR"
	configure_tree
	make -C "$builddir" -j"$jobs"
	make -C "$builddir" install DESTDIR="$destdir"
}

# The ISO: build the agent and jefe-image-build, install the agent into a
# staging tree, then run the five-stage pipeline (image-build/, docs/image-build.md).
# Extra options (--authorized-keys FILE, --overlay DIR, --no-cache,
# --from-stage N, --base B, --outdir DIR, ...) go to jefe-image-build.
target_iso() {
	[ "$no_deps" = 1 ] || install_deps
	configure_tree
	make -C "$builddir" -j"$jobs" >/dev/null
	make -C "$builddir" -j"$jobs" jefe-image-build >/dev/null
	agentdir="$builddir/image-agent"
	rm -rf "$agentdir"
	case " $iso_args " in
	*" --base alpine "*|*" --base=alpine "*)
		# Alpine's libc: the Debian package's programs cannot run there.
		make -C "$builddir" install DESTDIR="$agentdir" >/dev/null ;;
	*)
		# The Debian base ships the agent's Debian package, the very
		# artefact tests/pkg installs, upgrades and purges.
		destdir=$agentdir
		deb_outdir="$builddir/image-deb"
		target_deb ;;
	esac
	rev=$(git -C "$srcdir" describe --always --dirty 2>/dev/null || echo unknown)
	# Every timestamp of the image: the last commit's time unless given.
	if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
		SOURCE_DATE_EPOCH=$(git -C "$srcdir" log -1 --format=%ct 2>/dev/null || echo 0)
	fi
	export SOURCE_DATE_EPOCH
	case " $iso_args " in
	*" --authorized-keys"*) ;;
	*)
		echo "build.sh: no --authorized-keys FILE: the admin user cannot log in" >&2
		: > "$builddir/no-authorized-keys"
		iso_args="$iso_args --authorized-keys $builddir/no-authorized-keys" ;;
	esac
	# shellcheck disable=SC2086
	"$builddir/jefe-image-build" --srcdir "$srcdir" --workdir "$builddir/image" \
		--outdir "$srcdir/out" --arch "$arch" --agent-destdir "$agentdir" \
		--agent-revision "$rev" $iso_args
}

# The Debian package: from the release tarball (the file list distcheck
# proves complete), with contrib/debian as debian/, built by
# dpkg-buildpackage like any Debian package; the .deb files go to
# --deb-outdir.  With --destdir, the package's files are also unpacked
# there: the agent tree the ISO ships (target_iso, tests/iso).
target_deb() {
	[ "$no_deps" = 1 ] || install_deps
	configure_tree
	# One package build per build tree at a time (make dist's directory).
	if command -v flock >/dev/null 2>&1; then
		exec 7>"$builddir/deb.lock"
		flock -w 900 7 || die "another package build holds $builddir/deb.lock"
	fi
	version=$(sed -n 's/^PACKAGE_VERSION = //p' "$builddir/Makefile")
	[ -n "$version" ] || die "no PACKAGE_VERSION in $builddir/Makefile"
	make -C "$builddir" dist >/dev/null
	tarball="$builddir/jefelinux-$version.tar.xz"
	[ -f "$tarball" ] || die "make dist made no $tarball"
	work=$(mktemp -d "$builddir/deb.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$work'" EXIT
	tar -C "$work" -xJf "$tarball"
	src="$work/jefelinux-$version"
	cp -R "$src/contrib/debian" "$src/debian"
	# The changelog names the upstream version too: it must be AC_INIT's.
	pkgver=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
	[ "${pkgver%-*}" = "$version" ] ||
		die "contrib/debian/changelog says $pkgver, configure.ac says $version"
	if [ -n "$deb_version" ]; then
		sed -i "1s/($pkgver)/($deb_version)/" "$src/debian/changelog"
		pkgver=$deb_version
	fi
	# The orig tarball, so a source build could follow; -b builds binaries.
	cp "$tarball" "$work/jefelinux_$version.orig.tar.xz"
	(cd "$src" && dpkg-buildpackage -us -uc -b -j"$jobs") >"$work/build.log" 2>&1 || {
		tail -n 80 "$work/build.log" >&2
		die "dpkg-buildpackage failed (version $pkgver)"
	}
	mkdir -p "$deb_outdir"
	for f in "$work"/*.deb; do
		[ -f "$f" ] || die "dpkg-buildpackage made no .deb"
		cp "$f" "$deb_outdir/"
		echo "build.sh: $deb_outdir/$(basename "$f")"
	done
	rm -rf "$work"
	trap - EXIT
	[ -z "$destdir" ] || deb_unpack "$deb_outdir/jefe_${pkgver}_$(dpkg --print-architecture).deb" "$destdir"
}

# deb_unpack DEB DIR: the package's files as dpkg would place them on a
# merged-/usr root (/lib is /usr/lib there), so the tree copies onto one.
deb_unpack() {
	[ -f "$1" ] || die "no $1"
	rm -rf "$2"
	dpkg-deb -x "$1" "$2"
	if [ -d "$2/lib" ]; then
		mkdir -p "$2/usr/lib"
		cp -a "$2/lib/." "$2/usr/lib/"
		rm -rf "$2/lib"
	fi
	echo "build.sh: $(basename "$1") unpacked into $2"
}

# The preinstalled disk: the ISO booted under qemu on a blank disk, with
# jefe.install= on its kernel command line, runs jefe-install itself (the
# same script and steps as on a machine, inside the image's own kernel:
# no loop device, vfat or device-mapper needed here), leaves the data
# partition for the first boot to encrypt, and powers off; qemu-img then
# converts the disk and checks the result.
target_disk() {
	case "$disk_format" in
	raw|qcow2|vhdx) ;;
	*) die "--format $disk_format: raw, qcow2 or vhdx" ;;
	esac
	if [ -z "$disk_iso" ]; then
		target_iso
		disk_iso=$(ls "$srcdir"/out/jefelinux-*-"$arch".iso 2>/dev/null | head -n 1)
	fi
	[ -f "$disk_iso" ] || die "no ISO ${disk_iso:-in out/}"
	for t in qemu-img qemu-system-x86_64 xorriso; do
		command -v "$t" >/dev/null 2>&1 || die "$t is missing (./build.sh --target deps)"
	done
	base=$(basename "$disk_iso" .iso)
	mkdir -p "$disk_outdir"
	work=$(mktemp -d "${TMPDIR:-/tmp}/jefe-disk.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$work'" EXIT
	case "$disk_format" in
	raw) out="$disk_outdir/$base.img" ;;
	*) out="$disk_outdir/$base.$disk_format" ;;
	esac
	rm -f "$out"
	xorriso -osirrox on -indev "$disk_iso" -extract /boot/vmlinuz "$work/vmlinuz" \
		-extract /boot/initrd.img "$work/initrd.img" \
		-extract /boot/grub/grub.cfg "$work/grub.cfg" >"$work/xorriso.log" 2>&1 ||
		{ cat "$work/xorriso.log" >&2; die "cannot read the kernel from $disk_iso"; }
	args=$(sed -n 's/^[[:space:]]*linux \/boot\/vmlinuz //p' "$work/grub.cfg" | head -n 1)
	[ -n "$args" ] || die "no kernel arguments in $disk_iso's grub.cfg"
	qemu-img create -q -f raw "$work/disk.raw" "$disk_size"
	# A passphrase given now reaches the guest as a second disk (vdb),
	# never on the kernel command line (which the guest's users can read).
	keydrive=
	if [ -n "$disk_key_file" ]; then
		[ -f "$disk_key_file" ] || die "--data-key-file $disk_key_file: no such file"
		(umask 077 && head -n 1 "$disk_key_file" | tr -d '\n' >"$work/key.raw")
		keysize=$(stat -c %s "$work/key.raw")
		[ "$keysize" -ge 8 ] || die "--data-key-file $disk_key_file: the passphrase is shorter than 8 characters"
		truncate -s 1M "$work/key.raw"
		keydrive="-drive if=virtio,format=raw,readonly=on,file=$work/key.raw"
		args="$args jefe.install.keysize=$keysize"
	fi
	echo "build.sh: installing $disk_iso to a $disk_size disk under qemu (${JEFE_QEMU_ACCEL:-tcg})"
	timeout "${JEFE_DISK_TIMEOUT:-3600}" qemu-system-x86_64 -accel "${JEFE_QEMU_ACCEL:-tcg}" \
		-m 1024 -smp 2 -display none -monitor none -no-reboot -nic none \
		-serial "file:$work/serial.log" \
		-kernel "$work/vmlinuz" -initrd "$work/initrd.img" \
		-append "$args jefe.install=/dev/vda" \
		-cdrom "$disk_iso" -drive "if=virtio,format=raw,file=$work/disk.raw" $keydrive \
		>"$work/qemu.log" 2>&1 || true
	grep -q 'jefe-init: unattended install to /dev/vda: done' "$work/serial.log" || {
		tail -n 60 "$work/serial.log" >&2
		die "the unattended install failed (console above)"
	}
	case "$disk_format" in
	raw) mv "$work/disk.raw" "$out" ;;
	qcow2) qemu-img convert -f raw -O qcow2 "$work/disk.raw" "$out" ;;
	vhdx) qemu-img convert -f raw -O vhdx -o subformat=dynamic "$work/disk.raw" "$out" ;;
	esac
	rm -rf "$work"
	trap - EXIT
	if [ "$disk_format" != raw ]; then
		qemu-img check -q "$out" || die "qemu-img check $out failed"
	fi
	if [ -n "$disk_key_file" ]; then
		echo "build.sh: $out ($disk_format; the data partition is encrypted with the passphrase of $disk_key_file)"
	else
		echo "build.sh: $out ($disk_format; the first boot encrypts the data partition)"
	fi
}

no_deps=0
disk_format=raw
disk_iso=
disk_size=4G
disk_outdir="$srcdir/out"
disk_key_file=
deb_outdir="$srcdir/out"
deb_version=
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
	--deb-outdir) deb_outdir=${2:?}; shift 2 ;;
	--deb-outdir=*) deb_outdir=${1#*=}; shift ;;
	--deb-version) deb_version=${2:?}; shift 2 ;;
	--format) disk_format=${2:?}; shift 2 ;;
	--format=*) disk_format=${1#*=}; shift ;;
	--iso) disk_iso=${2:?}; shift 2 ;;
	--iso=*) disk_iso=${1#*=}; shift ;;
	--disk-size) disk_size=${2:?}; shift 2 ;;
	--disk-size=*) disk_size=${1#*=}; shift ;;
	--disk-outdir) disk_outdir=${2:?}; shift 2 ;;
	--disk-outdir=*) disk_outdir=${1#*=}; shift ;;
	--data-key-file) disk_key_file=${2:?}; shift 2 ;;
	--data-key-file=*) disk_key_file=${1#*=}; shift ;;

	--deb-version=*) deb_version=${1#*=}; shift ;;
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
deb) target_deb ;;
disk) target_disk ;;
"") usage >&2; exit 64 ;;
*) echo "build.sh: unknown target '$target'" >&2; usage >&2; exit 64 ;;
esac
