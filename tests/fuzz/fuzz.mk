# The sanitizer tier and the fuzz harnesses.
#
# build.sh --target check builds a second tree (_build-san) with clang,
# -fsanitize=address,undefined and --enable-fuzz, and runs there the tiers
# that `make print-sanitizer-tests` names; any sanitizer report fails it.
# The harnesses (libFuzzer) are built only with --enable-fuzz; their seed
# corpora under tests/fuzz/corpus/NAME are replayed by replay.sh as a
# regression test; bench/fuzz.sh fuzzes each for real.
FUZZ_HARNESSES = tests/fuzz/fuzz_policy tests/fuzz/fuzz_sshd_dump tests/fuzz/fuzz_sshd_conf \
	tests/fuzz/fuzz_audit_rules tests/fuzz/fuzz_modules tests/fuzz/fuzz_files_baseline \
	tests/fuzz/fuzz_ipc tests/fuzz/fuzz_netlink
FUZZ_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer

if FUZZ
check_PROGRAMS += $(FUZZ_HARNESSES)
TESTS += tests/fuzz/replay.sh
endif
EXTRA_DIST += tests/fuzz/fuzz.h tests/fuzz/replay.sh tests/fuzz/corpus bench/fuzz.sh

tests_fuzz_fuzz_policy_SOURCES = tests/fuzz/fuzz_policy.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_policy_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_policy_LDADD = $(JEFE_LDADD)
tests_fuzz_fuzz_sshd_dump_SOURCES = tests/fuzz/fuzz_sshd_dump.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_sshd_dump_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_sshd_dump_LDADD = $(JEFE_LDADD)
tests_fuzz_fuzz_sshd_conf_SOURCES = tests/fuzz/fuzz_sshd_conf.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_sshd_conf_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_sshd_conf_LDADD = $(JEFE_LDADD)
tests_fuzz_fuzz_audit_rules_SOURCES = tests/fuzz/fuzz_audit_rules.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_audit_rules_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_audit_rules_LDADD = $(JEFE_LDADD)
tests_fuzz_fuzz_modules_SOURCES = tests/fuzz/fuzz_modules.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_modules_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_modules_LDADD = $(JEFE_LDADD)
tests_fuzz_fuzz_files_baseline_SOURCES = tests/fuzz/fuzz_files_baseline.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_files_baseline_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_files_baseline_LDADD = $(JEFE_LDADD)
tests_fuzz_fuzz_ipc_SOURCES = tests/fuzz/fuzz_ipc.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_ipc_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_ipc_LDADD = $(JEFE_LDADD)
tests_fuzz_fuzz_netlink_SOURCES = tests/fuzz/fuzz_netlink.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_netlink_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_netlink_LDADD = $(JEFE_LDADD)

# The tiers the sanitizer build runs (build.sh passes them as TESTS=...):
# everything that runs our binaries on this machine; the VM and ISO tiers
# run them in a guest, where no sanitizer report would reach CI.
print-sanitizer-tests:
	@echo $(filter tests/unit/% tests/cli/% tests/netns/% tests/root/% tests/sshd/% tests/fuzz/%,$(TESTS))

# bench/fuzz.sh builds the harnesses through this.
print-fuzz-harnesses:
	@echo $(FUZZ_HARNESSES)
