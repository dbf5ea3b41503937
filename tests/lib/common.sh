# Shared by the shell tests.  Sourced, not run.
#
# Every test fails loudly when something it needs is missing: in CI every
# component is installed, so a missing one is a broken setup, not a skip.

set -eu

: "${abs_top_builddir:?run through make check (abs_top_builddir unset)}"
: "${abs_top_srcdir:?run through make check (abs_top_srcdir unset)}"

# configure's --sysconfdir: where jefe looks below --root (make distcheck
# configures another prefix, so it is not always /etc/jefe).
: "${JEFE_POLICY_DIR:?run through make check (JEFE_POLICY_DIR unset)}"

JEFE="$abs_top_builddir/jefe"
JEFE_SETUP="$abs_top_builddir/jefe-setup"

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "PASS: $*"; }

need_cmd() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || fail "required command '$c' is not installed"
	done
}

need_root() {
	[ "$(id -u)" = 0 ] || fail "this test needs root (it makes namespaces); run make check as root"
}

# A temporary root tree, removed on exit; $P is its policy directory.
make_root() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/jefe-test.XXXXXX")
	P=$T$JEFE_POLICY_DIR
	trap 'rm -rf "$T"' EXIT
}

# expect_exit CODE CMD...: run CMD, fail unless it exits with CODE.
expect_exit() {
	want=$1; shift
	set +e
	"$@"
	got=$?
	set -e
	[ "$got" = "$want" ] || fail "'$*' exited $got, expected $want"
}
