# cmocka tests of the IPC codec and socket helpers (agent/ipc.c).
check_PROGRAMS += tests/unit/test_ipc
TESTS += tests/unit/test_ipc
tests_unit_test_ipc_SOURCES = tests/unit/test_ipc.c
tests_unit_test_ipc_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_ipc_LDADD = $(JEFE_LDADD) $(CMOCKA_LIBS)
