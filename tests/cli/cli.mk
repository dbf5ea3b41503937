# CLI tests against temporary roots: no privileges needed.
TESTS += tests/cli/cli-status.sh tests/cli/cli-escape.sh
EXTRA_DIST += tests/cli/cli-status.sh tests/cli/cli-escape.sh tests/lib/common.sh
# Typos the policy cannot hide: sysctl names and types against a fake proc/sys, did-you-mean, error order.
TESTS += tests/cli/cli-policy-typo.sh
EXTRA_DIST += tests/cli/cli-policy-typo.sh
# A second tree configured with a non-default prefix and directories, installed and run.
TESTS += tests/cli/install-prefix.sh tests/cli/cli-honest.sh
EXTRA_DIST += tests/cli/install-prefix.sh tests/cli/cli-honest.sh
