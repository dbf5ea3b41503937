#!/bin/sh
# SPDX-License-Identifier: MIT
# deb.sh - the Debian package tested as a package is tested.
#
# Built by ./build.sh --target deb (the release tarball, dpkg-buildpackage)
# twice: this version and an older one (the same source, an older
# changelog version).  Then: lintian clean (no error or warning left, every
# override with a comment why); in a throwaway Debian root made by
# mmdebstrap (cached under the test's state directory) the older package
# installs, nothing is enabled or started, the admin edits the policy, the
# upgrade keeps the edit, `jefe --direct status` of the installed package
# reads the installed policy (report mode), remove keeps the policy, purge
# leaves none of the package's paths and nothing the agent wrote, and
# never a file the admin added.
. "$abs_top_srcdir/tests/lib/common.sh"
need_root
need_cmd dpkg-buildpackage dpkg-deb dpkg-parsechangelog lintian mmdebstrap unshare chroot flock python3

STATE=$abs_top_builddir/tests/pkg/state
SUITE=bookworm
OLD_VERSION=0.0.9-1
mkdir -p "$STATE"
# One package build at a time (the ISO tests build it too).
exec 9>"$STATE/lock"
flock -w 900 9 || fail "another package build holds $STATE/lock"

R=
cleanup() {
	rc=$?
	set +e
	if [ -n "$R" ]; then
		umount "$R/proc" 2>/dev/null
		rm -rf --one-file-system "$R"
	fi
	rm -rf "$STATE/debs"
	exit "$rc"
}
trap cleanup EXIT INT TERM

version=$(sed -n 's/^PACKAGE_VERSION = //p' "$abs_top_builddir/Makefile")
[ -n "$version" ] || fail "no PACKAGE_VERSION in $abs_top_builddir/Makefile"
NEW_VERSION=$(dpkg-parsechangelog -l "$abs_top_srcdir/contrib/debian/changelog" -S Version)
[ "${NEW_VERSION%-*}" = "$version" ] ||
	fail "contrib/debian/changelog's $NEW_VERSION is not configure.ac's $version"

# ---- Build-Depends: each pkg-config module of configure.ac, by its Debian
# package, which build.sh's Debian list installs too.
debian_of() {
	case "$1" in
	libmnl) echo libmnl-dev ;;
	libnftnl) echo libnftnl-dev ;;
	audit) echo libaudit-dev ;;
	inih) echo libinih-dev ;;
	openrc) echo librc-dev ;;
	libmd) echo libmd-dev ;;
	json-c) echo libjson-c-dev ;;
	cmocka) echo libcmocka-dev ;;
	*) return 1 ;;
	esac
}
builddeps=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' "$abs_top_srcdir/contrib/debian/control" |
	sed 's/^Build-Depends://; /^[A-Z]/d; s/([^)]*)//g' | tr ',' '\n' | tr -d ' \t')
buildsh_debian=$(sed -n '/^debian_packages()/,/^}/p' "$abs_top_srcdir/build.sh" | sed 's/#.*//' | tr ' \t' '\n\n')
modules=$(sed -n 's/^PKG_CHECK_MODULES(\[[^]]*\], *\[\([^] >=]*\).*/\1/p' "$abs_top_srcdir/configure.ac")
[ "$(echo "$modules" | wc -w)" -ge 7 ] || fail "read only '$modules' from configure.ac"
for m in $modules; do
	deb=$(debian_of "$m") || fail "configure.ac needs pkg-config module '$m': add its Debian package to this map and to Build-Depends"
	echo "$builddeps" | grep -qx "$deb" || fail "contrib/debian/control's Build-Depends lack $deb (PKG_CHECK_MODULES $m)"
	echo "$buildsh_debian" | grep -qx "$deb" || fail "build.sh's debian_packages lacks $deb"
done
pass "Build-Depends cover configure.ac's modules: $(echo $modules)"

# ---- build (the tests' builds skip the package's own unit tests: the
# unit tier runs them in this same make check).
rm -rf "$STATE/debs"
for v in "$NEW_VERSION" "$OLD_VERSION"; do
	set -- --deb-version "$v"
	[ "$v" != "$NEW_VERSION" ] || set --
	DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=2" \
		"$abs_top_srcdir/build.sh" --target deb --no-deps \
		--builddir "$abs_top_builddir" --deb-outdir "$STATE/debs" "$@" >"$STATE/build-$v.log" 2>&1 ||
		{ tail -n 40 "$STATE/build-$v.log" >&2; fail "./build.sh --target deb ($v) failed"; }
done
arch=$(dpkg --print-architecture)
NEW_DEB=$STATE/debs/jefe_${NEW_VERSION}_$arch.deb
OLD_DEB=$STATE/debs/jefe_${OLD_VERSION}_$arch.deb
[ -f "$NEW_DEB" ] && [ -f "$OLD_DEB" ] || fail "missing $NEW_DEB or $OLD_DEB: $(ls "$STATE/debs")"
pass "built $(basename "$NEW_DEB") and $(basename "$OLD_DEB")"

# ---- what the package holds, read from the .deb itself.
dpkg-deb -c "$NEW_DEB" | awk '{print $NF}' | sed 's|^\./|/|' >"$STATE/contents"
for p in /usr/sbin/jefe /usr/sbin/jefe-setup /etc/jefe/jefe.conf \
	/etc/jefe/policy.d/10-sysctl.conf /etc/jefe/policy.d/60-files.conf /etc/jefe/audit.rules \
	/etc/init.d/jefe /etc/init.d/jefe-boot /etc/conf.d/jefe \
	/lib/systemd/system/jefe.service /lib/systemd/system/jefe-boot.service \
	/usr/share/man/man8/jefe.8.gz /usr/share/man/man8/jefe-setup.8.gz \
	/usr/share/man/man5/jefe.conf.5.gz; do
	grep -qx "$p" "$STATE/contents" || fail "the package lacks $p"
done
dpkg-deb -e "$NEW_DEB" "$STATE/control"
for f in jefe.conf policy.d/10-sysctl.conf audit.rules; do
	grep -qx "/etc/jefe/$f" "$STATE/control/conffiles" || fail "/etc/jefe/$f is not a conffile"
done
grep -qx /etc/init.d/jefe "$STATE/control/conffiles" || fail "/etc/init.d/jefe is not a conffile"
pass "the package holds the programs, the policy as conffiles, man pages, OpenRC scripts and systemd units"

# ---- lintian: no error, no warning; each override explained.
lintian --fail-on error,warning "$NEW_DEB" >"$STATE/lintian.out" 2>&1 ||
	{ cat "$STATE/lintian.out" >&2; fail "lintian found errors or warnings"; }
awk '/^#/ { why = 1; next } /^[ \t]*$/ { why = 0; next }
	{ if (!why) { print FILENAME ": line " NR ": override without a comment: " $0; bad = 1 } }
	END { exit bad }' "$abs_top_srcdir"/contrib/debian/*.lintian-overrides >&2 ||
	fail "every lintian override needs a comment saying why"
pass "lintian: no errors or warnings; every override has its reason"

# ---- the throwaway root: the package's dependencies (from the .deb) and
# systemd (to ask it whether the units are enabled, and to check them).
deps=$(dpkg-deb -f "$NEW_DEB" Depends | sed 's/([^)]*)//g; s/[[:space:]]//g')
[ -n "$deps" ] || fail "the package has no Depends"
# The host's mirror for the suite, as jefe-image-build finds it.
mirror=
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	mirror=$(awk -v s="$SUITE" '/^URIs:/ { u = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) { print u; exit } }' "$f")
	[ -z "$mirror" ] || break
done
[ -n "$mirror" ] || mirror=$(awk -v s="$SUITE" '$1 == "deb" && $2 !~ /^\[/ && $3 == s { print $2; exit }' \
	/etc/apt/sources.list 2>/dev/null)
: "${mirror:=http://deb.debian.org/debian}"
key=$(printf '%s %s %s' "$SUITE" "$deps,systemd" "$mirror" | sha256sum | cut -c1-16)
tarball=$STATE/root-$SUITE-$key.tar
if [ ! -f "$tarball" ]; then
	rm -f "$STATE"/root-*.tar
	mmdebstrap --quiet --variant=minbase --include="$deps,systemd" "$SUITE" "${tarball%.tar}.tmp.tar" \
		"deb $mirror $SUITE main" </dev/null >"$STATE/mmdebstrap.log" 2>&1 ||
		{ tail -n 30 "$STATE/mmdebstrap.log" >&2; fail "mmdebstrap of $SUITE failed"; }
	mv "${tarball%.tar}.tmp.tar" "$tarball"
fi
R=$(mktemp -d "$STATE/root.XXXXXX")
tar -C "$R" -xf "$tarball"
# Nothing in this root may start a service; each request is written down.
printf '#!/bin/sh\necho "$*" >>/var/log/policy-rc.d.log\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod 755 "$R/usr/sbin/policy-rc.d"
cp "$NEW_DEB" "$OLD_DEB" "$R/tmp/"

inroot() { chroot "$R" "$@" </dev/null; }
# In private mount and network namespaces, with a /proc of its own (not
# a pid namespace: the kernel answers audit requests only from the initial
# one; status only reads it).
inroot_proc() {
	unshare --mount --net --propagation private /bin/sh -c \
		'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$R" "$@" </dev/null
}

# ---- install the older version.
inroot dpkg -i "/tmp/$(basename "$OLD_DEB")" >"$STATE/dpkg.log" 2>&1 ||
	{ cat "$STATE/dpkg.log" >&2; fail "dpkg -i $OLD_VERSION failed"; }
[ "$(inroot dpkg-query -W -f '${Version}' jefe)" = "$OLD_VERSION" ] || fail "$OLD_VERSION not installed"
for u in jefe.service jefe-boot.service; do
	st=$(inroot systemctl is-enabled "$u" 2>&1 || :)
	[ "$st" = disabled ] || fail "systemctl is-enabled $u says '$st', expected disabled"
done
[ ! -e "$R/etc/runlevels" ] || ! find "$R/etc/runlevels" -name 'jefe*' | grep -q . ||
	fail "an OpenRC runlevel holds a jefe service"
! find "$R/etc/systemd/system" "$R/etc/rc"?.d -name '*jefe*' 2>/dev/null | grep . ||
	fail "the install enabled a jefe service (links above)"
[ ! -s "$R/var/log/policy-rc.d.log" ] || fail "the install asked to start: $(cat "$R/var/log/policy-rc.d.log")"
inroot_proc systemd-analyze verify --man=no jefe.service jefe-boot.service >"$STATE/verify.out" 2>&1 ||
	{ cat "$STATE/verify.out" >&2; fail "systemd-analyze verify found faults in the units"; }
# The unit: readiness as the daemon gives it, and no sandbox option that
# would blind the agent or stop enforce (see the unit's comments).
unit=$R/lib/systemd/system/jefe.service
grep -qx 'Type=notify' "$unit" && grep -qx 'ExecStart=/usr/sbin/jefe-setup --foreground' "$unit" ||
	fail "jefe.service is not Type=notify around jefe-setup --foreground"
if grep -nE '^(ProtectSystem|ProtectKernelTunables|ProtectKernelModules|ProtectKernelLogs|PrivateTmp|PrivateNetwork|PrivateDevices|ReadOnlyPaths|InaccessiblePaths|CapabilityBoundingSet)=' "$unit" ||
	grep -nE '^ProtectHome=(yes|tmpfs)' "$unit" ||
	{ grep -q '^RestrictAddressFamilies=' "$unit" && ! grep -q '^RestrictAddressFamilies=.*AF_NETLINK' "$unit"; }; then
	fail "jefe.service hides from the agent what it checks (above)"
fi
pass "$OLD_VERSION installs; jefe.service and jefe-boot.service are valid and disabled; no runlevel links"

# ---- the admin: an edit to the shipped policy, a file of their own.
sed -i 's/^check_interval = 300$/check_interval = 60/' "$R/etc/jefe/jefe.conf"
grep -qx 'check_interval = 60' "$R/etc/jefe/jefe.conf" || fail "could not edit jefe.conf"
printf '# the admin'"'"'s own\n[sysctl]\nkernel.kptr_restrict = 2\n' >"$R/etc/jefe/policy.d/90-local.conf"
cp "$R/etc/jefe/jefe.conf" "$STATE/jefe.conf.edited"

# ---- upgrade: no conffile question (stdin is /dev/null), the edit kept.
inroot dpkg -i "/tmp/$(basename "$NEW_DEB")" >"$STATE/dpkg.log" 2>&1 ||
	{ cat "$STATE/dpkg.log" >&2; fail "upgrade to $NEW_VERSION failed"; }
[ "$(inroot dpkg-query -W -f '${Version}' jefe)" = "$NEW_VERSION" ] || fail "$NEW_VERSION not installed"
cmp -s "$STATE/jefe.conf.edited" "$R/etc/jefe/jefe.conf" || fail "the upgrade changed the admin's jefe.conf"
[ -f "$R/etc/jefe/policy.d/90-local.conf" ] || fail "the upgrade removed the admin's 90-local.conf"
inroot /usr/sbin/jefe-setup --version | grep -qx "jefe-setup $version" || fail "jefe-setup --version is not $version"
[ ! -s "$R/var/log/policy-rc.d.log" ] || fail "the upgrade asked to start: $(cat "$R/var/log/policy-rc.d.log")"
pass "upgrade $OLD_VERSION -> $NEW_VERSION keeps the admin's edit and own file"

# ---- the installed package at work: it finds its own policy, which is
# in report mode; status is the read-only audit (0 compliant, 2 drift).
inroot_proc /usr/sbin/jefe policy show >"$STATE/policy.out" 2>&1 ||
	{ cat "$STATE/policy.out" >&2; fail "jefe policy show failed in the root"; }
grep -qE '^mode *= *report' "$STATE/policy.out" || fail "the installed policy is not in report mode: $(grep mode "$STATE/policy.out")"
grep -q 'check_interval *= *60' "$STATE/policy.out" || fail "jefe policy show does not reflect the admin's edit"
rc=0
inroot_proc /usr/sbin/jefe --direct status --json >"$STATE/status.json" 2>"$STATE/status.err" || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 2 ] || { cat "$STATE/status.err" >&2; fail "jefe --direct status exited $rc"; }
python3 - "$STATE/status.json" <<'PY' || fail "jefe --direct status --json is not the report of the six layers"
import json, sys
doc = json.load(open(sys.argv[1]))
text = json.dumps(doc)
for layer in ("sysctl", "modules", "firewall", "sshd", "audit", "files"):
    assert '"%s"' % layer in text, layer
# the admin's own policy file is part of what was checked
assert "kernel.kptr_restrict" in text
PY
pass "jefe --direct status of the installed package works in the root (exit $rc, six layers, the admin's key)"

# ---- remove: programs gone, the policy (with the edit) stays.
inroot dpkg-query -L jefe | sort >"$STATE/owned"
# What the agent writes at run time, for purge to take back; and an
# unrelated file in the same directory that purge must leave.
mkdir -p "$R/var/lib/jefe" "$R/etc/sysctl.d" "$R/etc/modprobe.d" "$R/etc/ssh/sshd_config.d"
echo baseline >"$R/var/lib/jefe/files.sha256"
echo 'kernel.kptr_restrict = 2' >"$R/etc/sysctl.d/90-jefe.conf"
echo 'install usb-storage /bin/false' >"$R/etc/modprobe.d/jefe-blacklist.conf"
echo 'PermitRootLogin no' >"$R/etc/ssh/sshd_config.d/00-jefe.conf"
echo 'vm.swappiness = 10' >"$R/etc/sysctl.d/80-admin.conf"
inroot dpkg -r jefe >"$STATE/dpkg.log" 2>&1 || { cat "$STATE/dpkg.log" >&2; fail "dpkg -r failed"; }
[ ! -e "$R/usr/sbin/jefe" ] && [ ! -e "$R/usr/sbin/jefe-setup" ] || fail "dpkg -r left the programs"
cmp -s "$STATE/jefe.conf.edited" "$R/etc/jefe/jefe.conf" || fail "dpkg -r changed the admin's jefe.conf"
[ "$(inroot dpkg-query -W -f '${db:Status-Abbrev}' jefe)" = "rc " ] || fail "not in config-files state after remove"
pass "remove: programs gone, the edited policy kept"

# ---- purge: none of the package's paths, none of the agent's files; the
# admin's own files stay (with the directories that hold them).
inroot dpkg -P jefe >"$STATE/dpkg.log" 2>&1 || { cat "$STATE/dpkg.log" >&2; fail "dpkg -P failed"; }
! inroot dpkg-query -W jefe >/dev/null 2>&1 || fail "dpkg still knows jefe after purge"
while read -r p; do
	case "$p" in
	/.|/|/etc|/etc/init.d|/etc/conf.d|/lib|/lib/systemd|/lib/systemd/system|/usr|/usr/sbin|/usr/share|/usr/share/doc|/usr/share/man|/usr/share/man/man[58]|/usr/share/lintian|/usr/share/lintian/overrides)
		continue ;;	# shared with other packages
	/etc/jefe|/etc/jefe/policy.d)
		[ -d "$R$p" ] || fail "purge removed $p, which holds the admin's 90-local.conf"
		continue ;;
	esac
	[ ! -e "$R$p" ] && [ ! -L "$R$p" ] || fail "purge left $p"
done <"$STATE/owned"
for p in /var/lib/jefe /etc/sysctl.d/90-jefe.conf /etc/modprobe.d/jefe-blacklist.conf \
	/etc/ssh/sshd_config.d/00-jefe.conf; do
	[ ! -e "$R$p" ] || fail "purge left the agent's $p"
done
[ -f "$R/etc/sysctl.d/80-admin.conf" ] || fail "purge removed an unrelated file"
[ "$(ls -A "$R/etc/jefe/policy.d")" = 90-local.conf ] || fail "purge left in policy.d: $(ls -A "$R/etc/jefe/policy.d")"
[ "$(ls -A "$R/etc/jefe")" = policy.d ] || fail "purge left in /etc/jefe: $(ls -A "$R/etc/jefe")"
pass "purge: none of the package's $(wc -l <"$STATE/owned") paths left, nor the agent's files; the admin's file kept"

# ---- without files of the admin's, purge leaves no /etc/jefe at all.
rm -rf "$R/etc/jefe"
inroot dpkg -i "/tmp/$(basename "$NEW_DEB")" >"$STATE/dpkg.log" 2>&1 &&
	inroot dpkg -P jefe >>"$STATE/dpkg.log" 2>&1 || { cat "$STATE/dpkg.log" >&2; fail "install + purge failed"; }
[ ! -e "$R/etc/jefe" ] || fail "purge left /etc/jefe: $(find "$R/etc/jefe")"
pass "install then purge leaves no /etc/jefe"
