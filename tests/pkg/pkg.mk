# tests/pkg: the agent as admins install it.  deb.sh builds the Debian
# package (./build.sh --target deb), lints it and installs, upgrades,
# removes and purges it in a throwaway Debian root (mmdebstrap, cached in
# tests/pkg/state); apkbuild.sh checks contrib/alpine/APKBUILD against
# configure.ac and `make install`.  deb.sh needs root and fails, never
# skips, without it or its tools.
TESTS += tests/pkg/deb.sh tests/pkg/apkbuild.sh
EXTRA_DIST += tests/pkg/deb.sh tests/pkg/apkbuild.sh

clean-local: clean-local-pkg
clean-local-pkg:
	-rm -rf tests/pkg/state
.PHONY: clean-local-pkg
