# Layer 5: kernel audit rules (libaudit over the audit netlink socket).
libjefe_a_SOURCES += agent/layer_audit.c agent/audit_rules.c agent/audit_rules.h
# after policies/policies.mk, which defines jefeconfdir and jefepolicydir
dist_jefepolicy_DATA += policies/policy.d/50-audit.conf
dist_jefeconf_DATA += policies/audit.rules

check_PROGRAMS += tests/unit/test_audit
TESTS += tests/unit/test_audit
tests_unit_test_audit_SOURCES = tests/unit/test_audit.c
tests_unit_test_audit_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_audit_LDADD = $(UNIT_LDADD)
