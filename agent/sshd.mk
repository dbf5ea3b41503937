# Layer 4: sshd configuration.  cache.c (file identities, root-only cache
# files) serves the files layer too.
libjefe_a_SOURCES += agent/layer_sshd.c agent/sshd_conf.c agent/sshd_conf.h \
	agent/sshd_cache.c agent/sshd_cache.h agent/cache.c agent/cache.h
# after policies/policy.d/policies.mk, which defines jefepolicydir
dist_jefepolicy_DATA += policies/policy.d/40-sshd.conf

# Unit tests: sshd -T parsing, comparison rules, config reading, drop-in
# and sshd_config edits, Match connections (no sshd run, no privileges).
check_PROGRAMS += tests/unit/test_sshd
TESTS += tests/unit/test_sshd
tests_unit_test_sshd_SOURCES = tests/unit/test_sshd.c
tests_unit_test_sshd_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_sshd_LDADD = $(UNIT_LDADD)

# Unit tests of what the sshd and files layers remember (cache.c,
# sshd_cache.c, files_index.c): identities, hits and misses, the backstop.
check_PROGRAMS += tests/unit/test_cache
TESTS += tests/unit/test_cache
tests_unit_test_cache_SOURCES = tests/unit/test_cache.c
tests_unit_test_cache_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cache_LDADD = $(UNIT_LDADD)

# The real OpenSSH in a private mount+network namespace (root; never skips):
# CLI enforce/status, logins over 127.0.0.1, tampers, the daemon's repairs.
TESTS += tests/sshd/sshd-real.sh tests/sshd/sshd-daemon.sh
# What the layer remembers: no program while nothing changed (sshd-cache.sh).
TESTS += tests/sshd/sshd-cache.sh
# The daemon's sshd passes in a child process: a slow sshd -T holds no
# other layer, a killed pass is one error line naming it (sshd-worker.sh).
TESTS += tests/sshd/sshd-worker.sh
EXTRA_DIST += tests/sshd/sshd-worker.sh
EXTRA_DIST += tests/sshd/sshd-cache.sh bench/direct-status.sh
EXTRA_DIST += tests/sshd/sshd-env.sh tests/sshd/sshd-real.sh tests/sshd/sshd-daemon.sh \
	bench/sshd.sh

# The daemon's passes in a child process (agent/child.c): findings through
# the pipe, a deadline that kills the group, a killed or failing child and
# garbage output, each error naming the child.
check_PROGRAMS += tests/unit/test_child
TESTS += tests/unit/test_child
tests_unit_test_child_SOURCES = tests/unit/test_child.c
tests_unit_test_child_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_child_LDADD = $(UNIT_LDADD)
