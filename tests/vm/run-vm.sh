#!/bin/sh
# run-vm.sh - run a test script inside a throwaway qemu VM with a real
# Debian kernel, the freshly built agent and independent witnesses.
#
# Usage: tests/vm/run-vm.sh [options] SCRIPT
#
# What it builds (docs/testing-vm.md has the why): the kernel of Debian's
# linux-image-amd64, downloaded once with apt-get into the cache and booted
# through its PVH entry; an uncompressed cpio initramfs with busybox-static,
# `make install DESTDIR=` of the build tree, the witnesses auditctl and nft,
# every shared library ldd names plus the loader, the nf_tables modules
# (dependencies from .modinfo), /init (vm-init.sh) and SCRIPT.  qemu runs
# with -accel tcg under timeout; the serial console is the only channel.
#
# SCRIPT is a /bin/sh script run as root inside the VM (busybox ash), after
# /proc, /sys, /dev, securityfs, /run and /tmp are mounted and the kernel
# modules are loaded.  It reports through the helpers of vm-lib.sh, which
# /init sources first:
#     vm_pass "what held"            -> "JEFE-VM: PASS what held"
#     vm_fail "what did not"         -> "JEFE-VM: FAIL what did not"
#     vm_check "desc" CMD ARGS...    -> PASS if CMD succeeds, else FAIL
#     vm_expect_eq "desc" WANT GOT   -> PASS if equal, else FAIL
#     vm_note "text"                 -> "JEFE-VM: NOTE text" (figures, info)
# The VM prints "JEFE-VM: END rc=N pass=P fail=F" and powers off.  The run
# fails (exit 1) on any FAIL line, a non-zero rc, no PASS at all, a missing
# END marker, a timeout, or "Kernel panic" in the serial log.
#
# Options:
#   --timeout SEC       whole-run limit (default 300; TCG is slow on CI)
#   --extra-file SRC:DST  copy a host file or directory into the VM at DST
#                       (repeatable; DST is absolute inside the VM)
#   --deb PKG           apt-get download PKG (cached) and unpack it into the
#                       initramfs with dpkg-deb -x; the shared libraries its
#                       ELF files need are added from the host (repeatable)
#   --bin PATH          add a host executable and its shared libraries
#   --module NAME       load this kernel module (and its dependencies) at boot
#                       (repeatable; default set: nf_tables and friends)
#   --init FILE         use FILE as /init instead of the harness init; it
#                       still gets /vm-lib.sh and /test/run.sh, and should
#                       print the END marker itself (see vm-init.sh)
#   --append ARGS       extra kernel command line arguments
#   --no-agent          do not install the agent (harness self-tests)
#   --log FILE          keep the serial log here (default: a temp file,
#                       printed on stdout either way)
#   --keep              keep the work directory (initramfs, staging tree)
#   --mem MB            guest memory (default 512)
#   --slow-boot         boot the bzImage and a gzip'd initramfs, as a plain
#                       qemu -kernel would (bench/vm-boot.sh's baseline)
#
# Environment: abs_top_builddir (the built tree: `make install
# DESTDIR=...` of it goes into the VM) and abs_top_srcdir, as `make check`
# sets them; JEFE_VM_CACHE overrides the cache directory
# ($abs_top_builddir/tests/vm/cache), which holds the kernel package.
#
# Never KVM: /dev/kvm hangs on the build machines, so this is -accel tcg
# only, which works on any x86_64 host without privileges beyond root
# (root is needed only to keep file modes/owners in the initramfs and for
# apt-get download's cache; the VM itself touches nothing on the host).
set -eu

die() { echo "run-vm.sh: $*" >&2; exit 1; }

# The agent the VM runs reads its policy from configure's --sysconfdir
# (and keeps state and socket under --localstatedir and --runstatedir),
# and the guest tests use /etc/jefe, /var/lib/jefe and /run/jefe: a build
# tree configured with other directories gets a second tree, from its
# release file list, configured with those (the prefix it needs itself).
# Prints the build directory to install from.
agent_fhs_builddir() {
	b=$1
	conf=$(sed -n 's/^sysconfdir = //p' "$b/Makefile")
	state=$(sed -n 's/^localstatedir = //p' "$b/Makefile")
	run=$(sed -n 's/^runstatedir = //p' "$b/Makefile")
	if [ "$conf" = /etc ] && [ "$state" = /var ] && [ "$run" = /run ]; then
		echo "$b"
		return 0
	fi
	echo "run-vm.sh: the build tree uses $conf, $state and $run: building the agent again" \
		"with /etc, /var and /run for the VM" >&2
	make -s -C "$b" distdir distdir="$2/agent-src" >"$2/agent-fhs.log" 2>&1 &&
	mkdir -p "$2/agent-build" &&
	(cd "$2/agent-build" && "$2/agent-src/configure" --prefix=/usr --sysconfdir=/etc \
		--localstatedir=/var --runstatedir=/run) >>"$2/agent-fhs.log" 2>&1 &&
	make -s -C "$2/agent-build" -j"$(nproc)" >>"$2/agent-fhs.log" 2>&1 ||
		{ tail -n 40 "$2/agent-fhs.log" >&2; die "building the agent with /etc, /var and /run failed"; }
	echo "$2/agent-build"
}

here=$(cd "$(dirname "$0")" && pwd)
srcdir=${abs_top_srcdir:-$(cd "$here/../.." && pwd)}
builddir=${abs_top_builddir:-}

timeout_s=300
mem=512
extra_files=
debs=
bins=
modules=
custom_init=
append=
with_agent=1
keep=0
slow_boot=0
log=
script=

nl='
'
while [ $# -gt 0 ]; do
	case "$1" in
	--timeout) timeout_s=${2:?}; shift 2 ;;
	--extra-file|--extra-files) extra_files="$extra_files${2:?}$nl"; shift 2 ;;
	--deb) debs="$debs ${2:?}"; shift 2 ;;
	--bin) bins="$bins ${2:?}"; shift 2 ;;
	--module) modules="$modules ${2:?}"; shift 2 ;;
	--init) custom_init=${2:?}; shift 2 ;;
	--append) append="$append ${2:?}"; shift 2 ;;
	--no-agent) with_agent=0; shift ;;
	--log) log=${2:?}; shift 2 ;;
	--keep) keep=1; shift ;;
	--mem) mem=${2:?}; shift 2 ;;
	--slow-boot) slow_boot=1; shift ;;
	-h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option $1" ;;
	*) [ -z "$script" ] || die "one SCRIPT only"; script=$1; shift ;;
	esac
done
[ -n "$script" ] || die "usage: run-vm.sh [options] SCRIPT (see --help)"
[ -f "$script" ] || die "no such test script: $script"

# Every missing piece is a failure, never a skip: CI must not go green
# because the VM could not be built.
for t in qemu-system-x86_64 busybox cpio gzip xz apt-get dpkg-deb ldd ldconfig timeout flock; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found (see build.sh's package list)"
done
[ -z "$modules" ] && modules="nf_tables nft_ct nft_limit nft_reject_inet nft_log nft_fib_inet"

if [ -n "$builddir" ]; then
	cache=${JEFE_VM_CACHE:-$builddir/tests/vm/cache}
else
	cache=${JEFE_VM_CACHE:-$srcdir/tests/vm/cache}
fi
mkdir -p "$cache"

work=$(mktemp -d "${TMPDIR:-/tmp}/jefe-vm.XXXXXX")
cleanup() {
	[ -n "${qpid:-}" ] && kill "$qpid" 2>/dev/null
	if [ "$keep" = 1 ]; then
		echo "run-vm.sh: work directory kept: $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# --- the kernel: Debian's package, downloaded once ----------------------
# One lock for the cache: `make -j2 check` starts several VM tests at once.
kernel_fetch() {
	kver=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9].*-amd64\)$/\1/p' | head -n1)
	if [ -z "$kver" ] && [ "$(id -u)" = 0 ]; then
		# A fresh machine may have no package lists at all.
		apt-get update -q >&2 || true
		kver=$(apt-cache depends linux-image-amd64 2>/dev/null |
			sed -n 's/^ *Depends: linux-image-\([0-9].*-amd64\)$/\1/p' | head -n1)
	fi
	if [ -z "$kver" ]; then
		# No apt lists (apt-get update never ran): use what is cached.
		kver=$(ls "$cache" 2>/dev/null | sed -n 's/^kernel-\(.*\)$/\1/p' | sort -V | tail -n1)
		[ -n "$kver" ] || die "cannot find the version linux-image-amd64 depends on (run apt-get update)"
	fi
	kdir=$cache/kernel-$kver
	[ -f "$kdir/.complete" ] && return 0
	rm -rf "$kdir" "$cache/deb.tmp"
	mkdir -p "$cache/deb.tmp"
	echo "run-vm.sh: downloading linux-image-$kver" >&2
	(cd "$cache/deb.tmp" && apt-get -o APT::Sandbox::User=root download -q "linux-image-$kver" >&2) ||
		die "apt-get download linux-image-$kver failed"
	mkdir -p "$kdir.tmp"
	dpkg-deb -x "$cache"/deb.tmp/linux-image-"$kver"_*.deb "$kdir.tmp" ||
		die "dpkg-deb -x of the kernel package failed"
	rm -rf "$cache/deb.tmp"
	# Under TCG the kernel's own xz decompressor and SeaBIOS' real-mode
	# path cost ~4 s per boot.  The bzImage carries an ELF vmlinux with a
	# PVH entry note (CONFIG_PVH=y), which qemu -kernel starts directly:
	# unpack it once here.  If that fails, boot the bzImage as it is.
	bz=$kdir.tmp/boot/vmlinuz-$kver
	off=$(grep -abo "$(printf '\3757zXZ')" "$bz" | head -n1 | cut -d: -f1)
	if [ -n "$off" ] && tail -c +$((off + 1)) "$bz" |
		xz -dc --single-stream >"$kdir.tmp/vmlinux" 2>/dev/null &&
		readelf -n "$kdir.tmp/vmlinux" 2>/dev/null | grep -q 'Unknown note type: (0x00000012)'; then
		:
	else
		rm -f "$kdir.tmp/vmlinux"
	fi
	touch "$kdir.tmp/.complete"
	mv "$kdir.tmp" "$kdir"
}

# The kernel package ships no modules.dep (depmod makes it at install time
# and kmod is not installed here), so the dependency closure is computed
# from each module's own .modinfo "depends=" list, which is what depmod
# reads too.  Prints module paths in load order (dependencies first).
module_path() {
	p=$(find "$kmods/kernel" -name "$1.ko" -o -name "$1.ko.xz" 2>/dev/null | head -n1)
	[ -n "$p" ] || p=$(find "$kmods/kernel" -name "$(echo "$1" | tr _ -).ko" 2>/dev/null | head -n1)
	echo "$p"
}
module_deps() {
	tr '\0' '\n' <"$1" | sed -n 's/^depends=//p' | head -n1 | tr ',' ' '
}
# softdep=pre: names a module or an alias ("crc32c" for libcrc32c, which
# nf_tables needs): map an alias to the generic crypto module providing it.
module_softdeps() {
	tr '\0' '\n' <"$1" | sed -n 's/^softdep=pre: *//p' | head -n1
}
module_alias() {
	[ -n "$(module_path "$1")" ] && { echo "$1"; return 0; }
	for a in "$kmods"/kernel/crypto/*.ko; do
		if tr '\0' '\n' <"$a" | grep -qx -F "alias=crypto-$1"; then
			basename "$a" .ko
			return 0
		fi
	done
}
module_resolve() {
	# $1: module name; appends to $work/modules.order once, deps first.
	# `local` (dash, busybox ash): the recursion would clobber mp.
	local mp d
	grep -qx "$1" "$work/modules.seen" 2>/dev/null && return 0
	echo "$1" >>"$work/modules.seen"
	if grep -q "/$1.ko" "$kmods/modules.builtin" 2>/dev/null ||
	   grep -q "/$(echo "$1" | tr _ -).ko" "$kmods/modules.builtin" 2>/dev/null; then
		return 0	# built into the kernel
	fi
	mp=$(module_path "$1")
	[ -n "$mp" ] || die "kernel module $1 not found in linux-image-$kver"
	for d in $(module_softdeps "$mp"); do
		d=$(module_alias "$d")
		[ -n "$d" ] && module_resolve "$d"
	done
	for d in $(module_deps "$mp"); do
		module_resolve "$d"
	done
	echo "$mp" >>"$work/modules.order"
}

# --- the initramfs -------------------------------------------------------
root=$work/root

# Copy a host file to the same path below $root, resolving symlinks.
copy_file() {
	dst=$root$1
	[ -e "$dst" ] && return 0
	mkdir -p "$(dirname "$dst")"
	cp -L "$1" "$dst"
}

# Copy an ELF executable or library and everything `ldd` says it needs,
# including the dynamic loader.  Extra library dirs (from unpacked debs)
# come first through LD_LIBRARY_PATH.
copy_with_libs() {
	src=$1 dst=${2:-$1}
	if [ "$src" != "$dst" ] || [ ! -e "$root$dst" ]; then
		mkdir -p "$(dirname "$root$dst")"
		cp -L "$src" "$root$dst"
	fi
	libs=$(LD_LIBRARY_PATH="$root/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu" \
		ldd "$src" 2>/dev/null) || return 0	# static, or not ELF: nothing to add
	echo "$libs" | grep -q 'not found' && die "ldd $src: $(echo "$libs" | grep 'not found' | head -n1)"
	echo "$libs" | awk '/=> \//{ print $3 } /^[ \t]*\/[^ ]+ \(/{ print $1 }' |
	while read -r lib; do
		case "$lib" in
		"$root"/*) ;;	# already in the tree (unpacked deb)
		*) copy_file "$lib" ;;
		esac
	done
}

build_root() {
	mkdir -p "$root"
	(cd "$root" && mkdir -p bin sbin usr/bin usr/sbin usr/lib usr/lib64 etc proc sys dev \
		run tmp var/log var/run root test lib/modules &&
		ln -s usr/lib64 lib64 2>/dev/null || true)
	# Debian 12 has a merged /usr: ldd names /lib/x86_64-linux-gnu/...;
	# keep that path valid inside the VM through the same symlink layout.
	rmdir "$root/lib/modules" "$root/lib" 2>/dev/null || true
	ln -s usr/lib "$root/lib"
	mkdir -p "$root/usr/lib/modules"

	# busybox-static has no libraries; a dynamic busybox brings its own.
	bb=$(command -v busybox)
	copy_with_libs "$bb" /bin/busybox
	for a in $("$bb" --list-full); do
		[ -e "$root/$a" ] || ln -s /bin/busybox "$root/$a"
	done

	# The independent witnesses: they must not share code with the agent.
	for w in auditctl nft; do
		p=$(command -v "$w" 2>/dev/null || true)
		[ -n "$p" ] || p=$(ls /usr/sbin/"$w" /sbin/"$w" 2>/dev/null | head -n1)
		[ -n "$p" ] || die "$w not found (package: $( [ "$w" = nft ] && echo nftables || echo auditd))"
		rm -f "$root/usr/sbin/$w" "$root/sbin/$w"
		copy_with_libs "$p" "/usr/sbin/$w"
	done

	# Extra Debian packages (issue 6 adds openrc this way).
	for pkg in $debs; do
		deb=$(ls "$cache"/debs/"$pkg"_*.deb 2>/dev/null | head -n1)
		if [ -z "$deb" ]; then
			mkdir -p "$cache/debs"
			(cd "$cache/debs" && apt-get -o APT::Sandbox::User=root download -q "$pkg" >&2) ||
				die "apt-get download $pkg failed"
			deb=$(ls "$cache"/debs/"$pkg"_*.deb | head -n1)
		fi
		mkdir -p "$work/deb-$pkg"
		dpkg-deb -x "$deb" "$work/deb-$pkg"
		# Merge into the root, keeping the merged-/usr symlinks intact.
		for top in "$work/deb-$pkg"/*; do
			t=$(basename "$top")
			case "$t" in
			lib|bin|sbin) mkdir -p "$root/usr/$t"; cp -a "$top/." "$root/usr/$t/" ;;
			*) mkdir -p "$root/$t"; cp -a "$top/." "$root/$t/" ;;
			esac
		done
		find "$work/deb-$pkg" -type f | while read -r f; do
			case "$(head -c 4 "$f" | od -An -c | tr -d ' ')" in
			177ELF) copy_with_libs "$f" "${f#"$work/deb-$pkg"}" ;;
			esac
		done
	done
	for b in $bins; do
		copy_with_libs "$b"
	done

	if [ "$with_agent" = 1 ]; then
		[ -n "$builddir" ] && [ -f "$builddir/Makefile" ] ||
			die "abs_top_builddir is not a configured build tree (run from make check)"
		stage=$work/stage
		agentdir=$(agent_fhs_builddir "$builddir" "$work") || exit 1
		make -s -C "$agentdir" install DESTDIR="$stage" >"$work/install.log" 2>&1 ||
			{ cat "$work/install.log" >&2; die "make install DESTDIR=... failed"; }
		# The agent's binaries go through copy_with_libs so their shared
		# libraries come along; everything else is copied as installed.
		(cd "$stage" && find . -type f -o -type l) | sed 's|^\.||' | while read -r f; do
			case "$(head -c 4 "$stage$f" 2>/dev/null | od -An -c | tr -d ' ')" in
			177ELF) copy_with_libs "$stage$f" "$f" ;;
			*) mkdir -p "$(dirname "$root$f")"; cp -a "$stage$f" "$root$f" ;;
			esac
		done
		# The programs sit where --prefix put them (CI and the default:
		# /usr); tests call jefe from PATH.  The policy, state and socket
		# are /etc, /var and /run (agent_fhs_builddir saw to that).
		sbin=$(cd "$stage" && find . -type f -path '*bin/jefe' -perm -u+x | head -n1)
		[ -n "$sbin" ] || die "make install did not install jefe"
		sbin=$(dirname "${sbin#.}")
		if [ "$sbin" != /usr/sbin ]; then
			# Copies, not links: the prefix may be under /tmp, which
			# the VM mounts a tmpfs over.
			for f in "$stage$sbin"/*; do
				cp -a "$f" "$root/usr/sbin/"
			done
		fi
		# The whole sysconfdir (policy, init.d, conf.d) goes to /etc.
		etc=$(cd "$stage" && find . -type d -path '*/etc/jefe' | head -n1)
		etc=$(dirname "${etc#.}")
		if [ "$etc" != /etc ] && [ "$etc" != . ]; then
			cp -a "$stage$etc/." "$root/etc/"
		fi
		[ -x "$root$sbin/jefe" ] || die "make install did not install jefe"
	fi

	# Shared-library lookup inside the VM: a real ld.so.cache for the tree.
	printf '/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n/usr/local/lib\n' \
		>"$root/etc/ld.so.conf"
	ldconfig -r "$root" 2>/dev/null || true

	# Kernel modules, decompressed when needed, with a load list for /init.
	: >"$work/modules.order"
	: >"$work/modules.seen"
	for m in $modules; do
		module_resolve "$m"
	done
	mdir=$root/usr/lib/modules/jefe
	mkdir -p "$mdir"
	: >"$root/etc/modules.load"
	while read -r mp; do
		[ -n "$mp" ] || continue
		name=$(basename "$mp")
		case "$name" in
		*.xz) xz -dc "$mp" >"$mdir/${name%.xz}"; name=${name%.xz} ;;
		*) cp "$mp" "$mdir/$name" ;;
		esac
		echo "/lib/modules/jefe/$name" >>"$root/etc/modules.load"
	done <"$work/modules.order"

	# Extra files last, so a test can override anything.
	printf '%s' "$extra_files" | while IFS= read -r spec; do
		[ -n "$spec" ] || continue
		src=${spec%%:*} dst=${spec#*:}
		[ "$src" != "$spec" ] || die "--extra-file wants SRC:DST, got $spec"
		[ -e "$src" ] || die "--extra-file: no such file $src"
		mkdir -p "$(dirname "$root$dst")"
		rm -rf "$root$dst"
		cp -a "$src" "$root$dst"
	done

	# A minimal but ordinary /etc: the files layer checks that shadow
	# files belong to group shadow, as on Debian and Alpine.
	[ -e "$root/etc/passwd" ] || echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
	[ -e "$root/etc/group" ] || printf 'root:x:0:\nshadow:x:42:\n' >"$root/etc/group"
	for f in shadow gshadow; do
		[ -e "$root/etc/$f" ] && continue
		case $f in
		shadow) echo 'root:*:19000:0:99999:7:::' ;;
		gshadow) printf 'root:*::\nshadow:*::\n' ;;
		esac >"$root/etc/$f"
		chmod 640 "$root/etc/$f"
	done

	cp "$here/vm-lib.sh" "$root/vm-lib.sh"
	cp "$script" "$root/test/run.sh"
	if [ -n "$custom_init" ]; then
		cp "$custom_init" "$root/init"
	else
		cp "$here/vm-init.sh" "$root/init"
	fi
	chmod 755 "$root/init" "$root/test/run.sh"
}

t0=$(date +%s.%N)
exec 9>"$cache/.lock"
flock -w 600 9 || die "cache lock $cache/.lock busy for 10 minutes"
kernel_fetch
kmods=$kdir/lib/modules/$kver
vmlinuz=$kdir/boot/vmlinuz-$kver
[ -f "$vmlinuz" ] || die "no vmlinuz in linux-image-$kver"
[ -f "$kdir/vmlinux" ] && [ "$slow_boot" = 0 ] && vmlinuz=$kdir/vmlinux
build_root
exec 9>&-
# Not compressed: inflating ~10 MB under TCG costs the guest more than
# qemu spends copying the plain archive into its memory.
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$work/initrd.cpio"
if [ "$slow_boot" = 1 ]; then
	gzip -9 <"$work/initrd.cpio" >"$work/initrd.cpio.gz"
	mv "$work/initrd.cpio.gz" "$work/initrd.cpio"
fi
t1=$(date +%s.%N)
echo "run-vm.sh: initramfs $(du -k "$work/initrd.cpio" | cut -f1) KiB, built in $(echo "$t1 $t0" | awk '{ printf "%.1f", $1 - $2 }') s; kernel $kver" >&2

[ -n "$log" ] || log=$work/serial.log
: >"$log"
# quiet + loglevel=3: audit records without auditd are printk'd at
# KERN_NOTICE; on a 115200-baud emulated UART they would swamp the console
# and slow the test ten-fold.
timeout -k 5 "$timeout_s" qemu-system-x86_64 \
	-accel tcg -m "$mem" -smp 1 -nographic -nodefaults -no-user-config \
	-serial stdio -monitor none -no-reboot \
	-kernel "$vmlinuz" -initrd "$work/initrd.cpio" \
	-append "console=ttyS0 panic=-1 quiet loglevel=3 rdinit=/init$append" \
	</dev/null >"$log" 2>&1 &
qpid=$!
# Boot to first test, host wall clock from qemu's start: poll the log for
# the BOOTED marker (the guest's own uptime does not count firmware, the
# kernel's decompression or qemu's start-up).
tboot=
while kill -0 "$qpid" 2>/dev/null; do
	if [ -z "$tboot" ] && grep -q 'JEFE-VM: BOOTED' "$log" 2>/dev/null; then
		tboot=$(date +%s.%N)
	fi
	sleep 0.05
done
wait "$qpid" && qrc=0 || qrc=$?
qpid=
t2=$(date +%s.%N)

# The log has CRs from the guest's tty and the firmware's escape
# sequences; strip both so the markers start their lines.
tr -d '\r' <"$log" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' >"$work/serial.txt"
cat "$work/serial.txt"

fail=0
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "run-vm.sh: FAIL: timeout after ${timeout_s}s" >&2; fail=1
elif [ "$qrc" != 0 ]; then
	echo "run-vm.sh: FAIL: qemu exited with $qrc" >&2; fail=1
fi
if grep -q 'Kernel panic' "$work/serial.txt"; then
	echo "run-vm.sh: FAIL: kernel panic" >&2; fail=1
fi
if grep -q '^JEFE-VM: FAIL' "$work/serial.txt"; then
	echo "run-vm.sh: FAIL: $(grep -c '^JEFE-VM: FAIL' "$work/serial.txt") failed assertion(s):" >&2
	grep '^JEFE-VM: FAIL' "$work/serial.txt" >&2
	fail=1
fi
end=$(grep '^JEFE-VM: END ' "$work/serial.txt" | tail -n1 || true)
if [ -z "$end" ]; then
	echo "run-vm.sh: FAIL: no END marker on the serial console" >&2; fail=1
else
	case "$end" in
	*" rc=0 "*) ;;
	*) echo "run-vm.sh: FAIL: test script ended with: $end" >&2; fail=1 ;;
	esac
fi
npass=$(grep -c '^JEFE-VM: PASS' "$work/serial.txt" || true)
if [ "$npass" = 0 ]; then
	echo "run-vm.sh: FAIL: the test asserted nothing (no PASS line)" >&2; fail=1
fi
boot=$(sed -n 's/^JEFE-VM: BOOTED uptime=\([0-9.]*\).*/\1/p' "$work/serial.txt" | head -n1)
wall=?
[ -n "$tboot" ] && wall=$(echo "$tboot $t1" | awk '{ printf "%.2f", $1 - $2 }')
echo "run-vm.sh: boot to first test ${wall} s (guest uptime ${boot:-?} s); qemu ran $(echo "$t2 $t1" | awk '{ printf "%.1f", $1 - $2 }') s; $npass passed" >&2
exit "$fail"
