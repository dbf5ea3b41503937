# Layer 6: filesystem permissions and integrity, and rootfs.c, the
# below-root file access it shares with layer 2.  SHA-256 comes from
# OpenSSL's libcrypto rather than a hand-written digest.
libjefe_a_SOURCES += agent/layer_files.c agent/layer_files.h \
	agent/rootfs.c agent/rootfs.h
AM_CFLAGS += $(LIBCRYPTO_CFLAGS)
JEFE_LDADD += $(LIBCRYPTO_LIBS)
# after policies/policies.mk, which defines jefepolicydir
dist_jefepolicy_DATA += policies/policy.d/60-files.conf

check_PROGRAMS += tests/unit/test_files
TESTS += tests/unit/test_files
tests_unit_test_files_SOURCES = tests/unit/test_files.c
tests_unit_test_files_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_files_LDADD = $(UNIT_LDADD)
EXTRA_DIST += bench/files-check.sh docs/policy-files.md
