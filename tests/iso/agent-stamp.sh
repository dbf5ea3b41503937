#!/bin/sh
# tests/iso/lib.sh's iso_agent_tree: when is the agent's package built
# again for the ISO?  On a scratch source and build tree with a stand-in
# build.sh (it counts its runs, and one run edits a source while it
# "builds", as an engineer saving a file during a slow package build):
# the first call builds, an unchanged tree does not, a source edited during
# the build makes the next call build again (the stale-ISO bug: a stamp
# touched after the build looked newer than the edit), and so does an
# edit afterwards and a changed program.  No root, no qemu.
set -eu
: "${abs_top_srcdir:?run from make check}"
real_srcdir=$abs_top_srcdir
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/src build=$tmp/build
mkdir -p "$src/agent" "$src/policies" "$src/openrc" "$src/contrib/debian" "$src/docs/man" \
	"$src/image-build" "$build"
echo 'int main(void) { return 0; }' >"$src/agent/cli.c"
echo '[agent]' >"$src/policies/jefe.conf"
: >"$src/Makefile.am" && : >"$src/configure.ac" && : >"$src/image-build/persist.list"
echo one >"$build/jefe" && echo one >"$build/jefe-setup"
# the stand-in package build: counts runs; with EDIT_DURING set, edits a
# source after it has "read" the tree, before it finishes
cat >"$src/build.sh" <<'SH'
#!/bin/sh
echo run >>"$COUNT"
if [ -n "${EDIT_DURING:-}" ]; then
	echo "/* edited during the build */" >>"$EDIT_DURING"
fi
for a in "$@"; do
	case "$prev" in --destdir) mkdir -p "$a" ;; esac
	prev=$a
done
SH
chmod +x "$src/build.sh"
COUNT=$tmp/count
export COUNT
: >"$COUNT"

abs_top_srcdir=$src abs_top_builddir=$build
. "$real_srcdir/tests/iso/lib.sh"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$ISO_STATE"
runs() { wc -l <"$COUNT" | tr -d ' '; }
expect_runs() {
	[ "$(runs)" = "$1" ] || fail "$2: expected $1 package build(s) in all, saw $(runs)"
	echo "PASS: $2 ($1 build(s) so far)"
}

iso_agent_tree
expect_runs 1 "a tree with no stamp builds"
iso_agent_tree
expect_runs 1 "an unchanged tree does not build again"

echo '# a policy change' >>"$src/policies/jefe.conf"
EDIT_DURING=$src/agent/cli.c iso_agent_tree
expect_runs 2 "a changed policy file builds"
unset EDIT_DURING
iso_agent_tree
expect_runs 3 "a source edited while the package built builds again"
iso_agent_tree
expect_runs 3 "then the tree is current"

echo '/* an edit afterwards */' >>"$src/agent/cli.c"
iso_agent_tree
expect_runs 4 "a source edited after the build builds"
echo two >"$build/jefe-setup"
iso_agent_tree
expect_runs 5 "a changed program builds"
touch "$src/agent/cli.c" "$build/jefe"
iso_agent_tree
expect_runs 5 "a touched but unchanged file does not build"
rm -rf "$ISO_STATE/agent"
iso_agent_tree
expect_runs 6 "a missing agent tree builds"
