# CLI tests against temporary roots: no privileges needed.
TESTS += tests/cli/cli-status.sh tests/cli/cli-escape.sh
EXTRA_DIST += tests/cli/cli-status.sh tests/cli/cli-escape.sh tests/lib/common.sh
