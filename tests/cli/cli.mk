# CLI tests against temporary roots: no privileges needed.
TESTS += tests/cli/cli-status.sh
EXTRA_DIST += tests/cli/cli-status.sh tests/lib/common.sh
