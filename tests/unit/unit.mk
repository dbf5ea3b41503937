# cmocka unit tests of the core.  Layers add their own in their fragments.
noinst_LIBRARIES += libtestutil.a
libtestutil_a_SOURCES = tests/unit/testutil.c tests/unit/testutil.h
libtestutil_a_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)

UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -I$(top_srcdir)/tests/unit
UNIT_LDADD = libtestutil.a $(JEFE_LDADD) $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_policy tests/unit/test_report tests/unit/test_sysctl
TESTS += tests/unit/test_policy tests/unit/test_report tests/unit/test_sysctl

tests_unit_test_policy_SOURCES = tests/unit/test_policy.c
tests_unit_test_policy_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_policy_LDADD = $(UNIT_LDADD)
tests_unit_test_report_SOURCES = tests/unit/test_report.c
tests_unit_test_report_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_report_LDADD = $(UNIT_LDADD)
tests_unit_test_sysctl_SOURCES = tests/unit/test_sysctl.c
tests_unit_test_sysctl_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_sysctl_LDADD = $(UNIT_LDADD)
EXTRA_DIST += bench/policy-load.sh

# The core's policy keys: tables, unknown keys and sections, defaults, mode, error order.
check_PROGRAMS += tests/unit/test_policy_keys
TESTS += tests/unit/test_policy_keys
tests_unit_test_policy_keys_SOURCES = tests/unit/test_policy_keys.c
tests_unit_test_policy_keys_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_policy_keys_LDADD = $(UNIT_LDADD)

# The key tables against jefe.conf(5): every key documented, every documented key exists, defaults agree.
check_PROGRAMS += tests/unit/test_policy_doc
TESTS += tests/unit/test_policy_doc
tests_unit_test_policy_doc_SOURCES = tests/unit/test_policy_doc.c
tests_unit_test_policy_doc_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_policy_doc_LDADD = $(UNIT_LDADD)
# The CLI's foundations: layer masks, did-you-mean, dry-run diffs, text rendering, jefe_env.
check_PROGRAMS += tests/unit/test_cli_core
TESTS += tests/unit/test_cli_core
tests_unit_test_cli_core_SOURCES = tests/unit/test_cli_core.c
tests_unit_test_cli_core_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cli_core_LDADD = $(UNIT_LDADD)

# The image builder's writes into an image root stay inside it (fs_root_*).
check_PROGRAMS += tests/unit/test_ib_root
TESTS += tests/unit/test_ib_root
tests_unit_test_ib_root_SOURCES = tests/unit/test_ib_root.c image-build/fs.c \
	image-build/run.c image-build/sha256.c
tests_unit_test_ib_root_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/image-build
tests_unit_test_ib_root_CFLAGS = $(UNIT_CFLAGS) $(LIBMD_CFLAGS)
tests_unit_test_ib_root_LDADD = $(UNIT_LDADD) $(LIBMD_LIBS)
