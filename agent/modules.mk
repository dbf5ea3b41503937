# Layer 2: kernel modules and boot.
libjefe_a_SOURCES += agent/layer_modules.c agent/layer_modules.h
# after policies/policies.mk, which defines jefepolicydir
dist_jefepolicy_DATA += policies/policy.d/20-modules.conf

check_PROGRAMS += tests/unit/test_modules
TESTS += tests/unit/test_modules
tests_unit_test_modules_SOURCES = tests/unit/test_modules.c
tests_unit_test_modules_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_modules_LDADD = $(UNIT_LDADD)
