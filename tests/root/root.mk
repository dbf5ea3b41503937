# Temporary-root tests of layers 2 and 6 through the jefe CLI.
# files-daemon.sh needs root (namespaces) and fails, never skips, without it.
TESTS += tests/root/modules-root.sh tests/root/files-root.sh tests/root/files-daemon.sh tests/root/daemon-signal.sh \
	tests/root/files-watch.sh
EXTRA_DIST += tests/root/modules-root.sh tests/root/files-root.sh tests/root/files-daemon.sh tests/root/daemon-signal.sh \
	tests/root/files-watch.sh
