# Layer 6: filesystem permissions and integrity, and rootfs.c, the
# below-root file access it shares with layer 2.  SHA-256 comes from
# libmd (the BSD message digest library, ~50 KB) rather than a
# hand-written digest, and rather than libcrypto, whose 4.5 MB of
# relocations tripled the start-up cost of every `jefe status`.
libjefe_a_SOURCES += agent/layer_files.c agent/layer_files.h \
	agent/rootfs.c agent/rootfs.h agent/files_index.c agent/files_index.h \
	agent/files_cis.c agent/files_cis.h
AM_CFLAGS += $(LIBMD_CFLAGS)
JEFE_LDADD += $(LIBMD_LIBS)
# after policies/policies.mk, which defines jefepolicydir
dist_jefepolicy_DATA += policies/policy.d/60-files.conf

check_PROGRAMS += tests/unit/test_files
TESTS += tests/unit/test_files
tests_unit_test_files_SOURCES = tests/unit/test_files.c
tests_unit_test_files_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_files_LDADD = $(UNIT_LDADD)
EXTRA_DIST += bench/files-check.sh
