#!/bin/sh
# configure's directories are the programs' directories: a tree configured
# with a non-default --prefix (and its own --sysconfdir, --localstatedir
# and --runstatedir), installed with DESTDIR into a temporary root, reads
# the policy it installed there (run with --root: a policy under /tmp
# itself would rightly be refused, /tmp being writable by others).
# Built from the release file list (make distdir), so an in-tree build of
# the source and this second build never share a directory.
. "$abs_top_srcdir/tests/lib/common.sh"
need_cmd make
make_root

make -s -C "$abs_top_builddir" distdir distdir="$T/src" >"$T/distdir.log" 2>&1 ||
	fail "make distdir failed: $(tail -n 20 "$T/distdir.log")"
mkdir -p "$T/build"
D=$T/root
inst=$D/opt/jefe
(cd "$T/build" && "$T/src/configure" --prefix=/opt/jefe --sysconfdir=/opt/jefe/conf \
	--localstatedir=/srv/jefe --runstatedir=/srv/jefe/run >"$T/configure.log" 2>&1) ||
	fail "configure failed: $(tail -n 20 "$T/configure.log")"
# Only the CLI and the shipped policy: what `jefe policy show` needs.
make -s -C "$T/build" jefe >"$T/make.log" 2>&1 || fail "make jefe failed: $(tail -n 30 "$T/make.log")"
make -s -C "$T/build" install-sbinPROGRAMS sbin_PROGRAMS=jefe install-dist_jefeconfDATA \
	install-dist_jefepolicyDATA install-openrcinitSCRIPTS DESTDIR="$D" >>"$T/make.log" 2>&1 ||
	fail "make install failed: $(tail -n 30 "$T/make.log")"
[ -x "$inst/sbin/jefe" ] || fail "no $inst/sbin/jefe after make install"
[ -f "$inst/conf/jefe/jefe.conf" ] || fail "the policy was not installed into --sysconfdir"

# The installed program reads the installed policy: every key's origin is there.
"$inst/sbin/jefe" --root "$D" --direct policy show >"$T/show" 2>"$T/err" ||
	fail "the installed jefe policy show failed: $(cat "$T/err")"
grep -q "$inst/conf/jefe/jefe.conf" "$T/show" ||
	fail "policy show does not name $inst/conf/jefe/jefe.conf: $(head -n 5 "$T/show")"
grep -q "$inst/conf/jefe/policy.d/10-sysctl.conf" "$T/show" ||
	fail "policy show does not read the installed policy.d"
pass "the installed jefe reads the policy from --sysconfdir"

# The socket is below --runstatedir, the state below --localstatedir.
"$inst/sbin/jefe" --help | grep -qF "/srv/jefe/run/jefe/jefe.sock" ||
	fail "jefe --help does not show the socket below --runstatedir: $("$inst/sbin/jefe" --help | grep socket)"
grep -qF 'checkpath -d -m 0755 -o root:root /srv/jefe/run/jefe' "$inst/conf/init.d/jefe" ||
	fail "the installed OpenRC script does not use --runstatedir: $(grep -n run "$inst/conf/init.d/jefe")"
grep -qF 'command="/opt/jefe/sbin/jefe-setup"' "$inst/conf/init.d/jefe" ||
	fail "the installed OpenRC script does not name the installed jefe-setup"
pass "the socket path and the OpenRC script follow --runstatedir and --prefix"

# And the installed policy moved, the program says so: missing, not invalid.
mv "$inst/conf/jefe/jefe.conf" "$inst/conf/jefe/jefe.conf.away"
expect_exit 1 "$inst/sbin/jefe" --root "$D" --direct policy show >/dev/null 2>"$T/err"
grep -q "the policy is missing: $inst/conf/jefe/jefe.conf does not exist" "$T/err" ||
	fail "a missing policy is not called missing: $(cat "$T/err")"
pass "a missing installed policy is reported as missing"
