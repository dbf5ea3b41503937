# Temporary-root tests of layers 2 and 6 through the jefe CLI.
# files-daemon.sh needs root (namespaces) and fails, never skips, without it.
TESTS += tests/root/modules-root.sh tests/root/files-root.sh tests/root/files-daemon.sh tests/root/daemon-signal.sh \
	tests/root/files-watch.sh
EXTRA_DIST += tests/root/modules-root.sh tests/root/files-root.sh tests/root/files-daemon.sh tests/root/daemon-signal.sh \
	tests/root/files-watch.sh
# Policy trust (StrictModes-style) and --root confinement of every layer
# that writes files; both need root (namespaces, chown) and never skip.
TESTS += tests/root/policy-trust.sh tests/root/root-confine.sh tests/root/atomic-fsync.sh
EXTRA_DIST += tests/root/policy-trust.sh tests/root/root-confine.sh tests/root/atomic-fsync.sh
# The files layer re-hashes only what changed identity, and on its backstop.
TESTS += tests/root/files-index.sh
EXTRA_DIST += tests/root/files-index.sh
# Burst isolation (the whole shipped policy, a test sshd): root, never skips.
TESTS += tests/root/daemon-burst.sh
EXTRA_DIST += tests/root/daemon-burst.sh tests/lib/burst.py tests/lib/shipped-env.sh
# docs/benchmark-coverage.md against the shipped policy's findings (root:
# namespaces; the audit layer's ids are read from the running kernel).
TESTS += tests/root/coverage.sh
EXTRA_DIST += tests/root/coverage.sh docs/benchmark-coverage.md
# The files layer's watches ask for a check only for what its checks read.
TESTS += tests/root/files-quiet.sh
EXTRA_DIST += tests/root/files-quiet.sh
