# Tests on the real kernel inside private network namespaces (root).
TESTS += tests/netns/sysctl-netns.sh
EXTRA_DIST += tests/netns/sysctl-netns.sh tests/lib/netns-root.sh
