# OpenRC: the agent's service scripts (sbindir substituted at build time,
# so they name the programs where this build installs them), and the
# librc-based service status of `jefe status`.
libjefe_a_SOURCES += agent/services.c agent/services.h
# librc itself, loaded only by what asks OpenRC (agent/openrc_lib.h).
libjefe_a_SOURCES += agent/openrc_lib.c agent/openrc_lib.h

openrcinitdir = $(sysconfdir)/init.d
openrcinit_SCRIPTS = openrc/init.d/jefe openrc/init.d/jefe-boot
openrcconfdir = $(sysconfdir)/conf.d
dist_openrcconf_DATA = openrc/conf.d/jefe
EXTRA_DIST += openrc/init.d/jefe.in openrc/init.d/jefe-boot.in
CLEANFILES += $(openrcinit_SCRIPTS)

openrc_subst = sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@runstatedir[@]|$(runstatedir)|g'

openrc/init.d/jefe: $(top_srcdir)/openrc/init.d/jefe.in Makefile
	$(AM_V_GEN)$(MKDIR_P) openrc/init.d && \
	$(openrc_subst) $(top_srcdir)/openrc/init.d/jefe.in >$@.tmp && \
	chmod 755 $@.tmp && mv $@.tmp $@
openrc/init.d/jefe-boot: $(top_srcdir)/openrc/init.d/jefe-boot.in Makefile
	$(AM_V_GEN)$(MKDIR_P) openrc/init.d && \
	$(openrc_subst) $(top_srcdir)/openrc/init.d/jefe-boot.in >$@.tmp && \
	chmod 755 $@.tmp && mv $@.tmp $@

check_PROGRAMS += tests/unit/test_services
TESTS += tests/unit/test_services
tests_unit_test_services_SOURCES = tests/unit/test_services.c
tests_unit_test_services_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_services_LDADD = $(UNIT_LDADD)
EXTRA_DIST += docs/openrc.md
