#!/bin/sh
# SPDX-License-Identifier: MIT
# apkbuild.sh - contrib/alpine/APKBUILD, checked as far as a machine
# without abuild allows: its pkgver is configure.ac's version; its
# makedepends cover every pkg-config module configure.ac requires, by
# Alpine's package names, which build.sh's Alpine list uses too; and its
# package() and openrc() functions, run against this build tree with
# abuild's amove and default_doc reproduced, split what `make install`
# produces the way the file says: OpenRC scripts in -openrc, man pages in
# -doc, programs and policy (report mode) in the main package, nothing lost.
. "$abs_top_srcdir/tests/lib/common.sh"
APKBUILD=$abs_top_srcdir/contrib/alpine/APKBUILD
[ -f "$APKBUILD" ] || fail "no $APKBUILD"
make_root

# ---- pkgver: the version AC_INIT gives.
acver=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$abs_top_srcdir/configure.ac")
[ -n "$acver" ] || fail "no version in configure.ac's AC_INIT"
# In a subshell: the APKBUILD is shell, as abuild reads it.
vars=$(cd "$T" && sh -c '. "$1"; printf "%s\n%s\n%s\n" "$pkgname" "$pkgver" "$subpackages"; echo $makedepends' sh "$APKBUILD")
pkgname=$(echo "$vars" | sed -n 1p)
pkgver=$(echo "$vars" | sed -n 2p)
subpackages=$(echo "$vars" | sed -n 3p)
makedepends=$(echo "$vars" | sed -n 4p)
[ "$pkgver" = "$acver" ] || fail "APKBUILD pkgver=$pkgver, configure.ac says $acver"
[ "$subpackages" = "$pkgname-doc $pkgname-openrc" ] || fail "APKBUILD subpackages='$subpackages'"
pass "pkgver $pkgver is configure.ac's; subpackages $subpackages"

# ---- makedepends: each pkg-config module of configure.ac, by its Alpine
# package; and build.sh installs the same names on an Alpine host.
alpine_of() {
	case "$1" in
	libmnl) echo libmnl-dev ;;
	libnftnl) echo libnftnl-dev ;;
	audit) echo audit-dev ;;
	inih) echo inih-dev ;;
	openrc) echo openrc-dev ;;
	libmd) echo libmd-dev ;;
	json-c) echo json-c-dev ;;
	cmocka) echo cmocka-dev ;;
	*) return 1 ;;
	esac
}
modules=$(sed -n 's/^PKG_CHECK_MODULES(\[[^]]*\], *\[\([^] >=]*\).*/\1/p' "$abs_top_srcdir/configure.ac")
[ "$(echo "$modules" | wc -w)" -ge 7 ] || fail "read only '$modules' from configure.ac's PKG_CHECK_MODULES"
buildsh_alpine=$(sed -n '/^alpine_packages()/,/^}/p' "$abs_top_srcdir/build.sh" | sed 's/#.*//')
for m in $modules; do
	apk=$(alpine_of "$m") || fail "configure.ac needs pkg-config module '$m': add its Alpine package to this test's map and to the APKBUILD"
	case " $makedepends " in
	*" $apk "*) ;;
	*) fail "APKBUILD makedepends lacks $apk (configure.ac: PKG_CHECK_MODULES $m)" ;;
	esac
	echo "$buildsh_alpine" | tr ' \t' '\n\n' | grep -qx "$apk" ||
		fail "build.sh's alpine_packages lacks $apk, which the APKBUILD names"
done
for tool in autoconf automake pkgconf; do
	case " $makedepends " in *" $tool "*) ;; *) fail "APKBUILD makedepends lacks $tool" ;; esac
done
pass "makedepends cover configure.ac's modules: $(echo $modules)"

# ---- package(), then openrc() and abuild's default_doc, on this build.
make -s -C "$abs_top_builddir" install DESTDIR="$T/install" >/dev/null
(cd "$T/install" && find . ! -type d | sed 's|^\./||' | sort) >"$T/installed"
grep -qx usr/sbin/jefe-setup "$T/installed" || fail "make install made no usr/sbin/jefe-setup"
(
	set -e
	# abuild's helpers, as abuild defines them: amove moves paths from
	# $pkgdir to the same place under $subpkgdir; default_doc moves
	# usr/share/{doc,man,info,...} into -doc.
	amove() {
		for p in "$@"; do
			p=${p#/}
			[ -e "$pkgdir/$p" ] || { echo "amove: no $p in \$pkgdir" >&2; return 1; }
			mkdir -p "$subpkgdir/$(dirname "$p")"
			mv "$pkgdir/$p" "$subpkgdir/$p"
		done
	}
	default_doc() {
		for p in usr/share/doc usr/share/man usr/share/info usr/share/html \
			usr/share/gtk-doc usr/share/devhelp; do
			[ ! -e "$pkgdir/$p" ] || amove "$p"
		done
	}
	srcdir=$T/src
	. "$APKBUILD"
	pkgdir=$T/pkg/$pkgname
	# package() runs in $builddir: here, this build tree.
	cd "$abs_top_builddir"
	package
	subpkgdir=$T/pkg/$pkgname-openrc
	openrc
	subpkgdir=$T/pkg/$pkgname-doc
	default_doc
) >"$T/package.log" 2>&1 || { cat "$T/package.log" >&2; fail "the APKBUILD's package()/openrc() failed"; }

list() { (cd "$T/pkg/$1" && find . ! -type d | sed 's|^\./||' | sort); }
list "$pkgname" >"$T/main"
list "$pkgname-openrc" >"$T/openrc"
list "$pkgname-doc" >"$T/doc"
# Nothing lost, nothing made up: the three together are make install's.
sort "$T/main" "$T/openrc" "$T/doc" | diff -u "$T/installed" - >&2 ||
	fail "the packages' files differ from make install's (above)"
# -openrc: exactly the init.d and conf.d files.
grep -E '^etc/(init|conf)\.d/' "$T/installed" | diff -u - "$T/openrc" >&2 ||
	fail "-openrc is not exactly make install's etc/init.d and etc/conf.d"
for f in etc/init.d/jefe etc/init.d/jefe-boot etc/conf.d/jefe; do
	grep -qx "$f" "$T/openrc" || fail "-openrc lacks $f"
done
# -doc: exactly the man pages, one for each program and the policy.
grep '^usr/share/man/' "$T/installed" | diff -u - "$T/doc" >&2 ||
	fail "-doc is not exactly make install's man pages"
for f in man8/jefe.8 man8/jefe-setup.8 man5/jefe.conf.5; do
	grep -qx "usr/share/man/$f" "$T/doc" || fail "-doc lacks $f"
done
# The main package: programs and policy, in report mode, root only.
for f in usr/sbin/jefe usr/sbin/jefe-setup etc/jefe/jefe.conf etc/jefe/audit.rules \
	etc/jefe/policy.d/10-sysctl.conf; do
	grep -qx "$f" "$T/main" || fail "$pkgname lacks $f"
done
! grep -E '^(etc/(init|conf)\.d|usr/share/man)/' "$T/main" || fail "$pkgname holds files of a subpackage (above)"
grep -qx 'mode = report' "$T/pkg/$pkgname/etc/jefe/jefe.conf" || fail "the package's jefe.conf is not in report mode"
[ "$(stat -c %a "$T/pkg/$pkgname/etc/jefe")" = 750 ] || fail "/etc/jefe is not 0750"
pass "package(): $(wc -l <"$T/main") files in $pkgname, $(wc -l <"$T/openrc") in -openrc, $(wc -l <"$T/doc") in -doc; report mode"
