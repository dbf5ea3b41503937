/* SPDX-License-Identifier: MIT */
/*
 * The audit layer without a kernel: rules parsed into the kernel's rule
 * structures (checked field by field against what auditctl builds),
 * file:line errors, structural comparison with a rule as the kernel lists
 * it back, the owner key, and the shipped policy (50-audit.conf plus
 * audit.rules) loaded through the layer.  Nothing here sends a netlink
 * message: applying audit rules is for tests/vm only.
 */
#include <errno.h>
#include <fcntl.h>
#include <libaudit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "audit_rules.h"
#include "errors.h"
#include "layer.h"
#include "layers.h"
#include "policy.h"
#include "util.h"

static int parse(struct audit_ruleset *rs, const char *text, struct policy_errors *errs)
{
	return audit_rules_parse(rs, "test.rules", text, "jefe", -1, errs);
}

/* The string of the idx-th string field. */
static const char *rule_string(const struct audit_rule_data *r, uint32_t field, char *buf,
			       size_t size)
{
	size_t off = 0;

	for (uint32_t i = 0; i < r->field_count; i++) {
		bool str = r->fields[i] == AUDIT_WATCH || r->fields[i] == AUDIT_DIR ||
			r->fields[i] == AUDIT_FILTERKEY;

		if (r->fields[i] == field && str) {
			snprintf(buf, size, "%.*s", (int)r->values[i], r->buf + off);
			return buf;
		}
		if (str)
			off += r->values[i];
	}
	return NULL;
}

static int field_index(const struct audit_rule_data *r, uint32_t field)
{
	for (uint32_t i = 0; i < r->field_count; i++)
		if (r->fields[i] == field)
			return (int)i;
	return -1;
}

static void test_watch_rule(void **state)
{
	struct audit_ruleset rs = { 0 };
	struct policy_errors errs = { 0 };
	const struct audit_rule_data *r;
	char buf[300];
	int i;

	assert_int_equal(parse(&rs, "-w /etc/shadow -p wa -k shadow_changes\n", &errs), 0);
	assert_int_equal(rs.n, 1);
	r = rs.v[0].data;
	assert_int_equal(r->flags, AUDIT_FILTER_EXIT);
	assert_int_equal(r->action, AUDIT_ALWAYS);
	assert_string_equal(rule_string(r, AUDIT_WATCH, buf, sizeof(buf)), "/etc/shadow");
	i = field_index(r, AUDIT_PERM);
	assert_true(i >= 0);
	assert_int_equal(r->values[i], AUDIT_PERM_WRITE | AUDIT_PERM_ATTR);
	/* The owner key rides along as a second key, \001-separated like auditctl -k a -k b. */
	assert_string_equal(rule_string(r, AUDIT_FILTERKEY, buf, sizeof(buf)),
			    "shadow_changes\001jefe");
	assert_true(audit_rule_has_key(r, "jefe"));
	assert_true(audit_rule_has_key(r, "shadow_changes"));
	assert_false(audit_rule_has_key(r, "shadow"));
	assert_string_equal(rs.v[0].item, "shadow_changes/1");
	assert_int_equal(rs.v[0].line, 1);
	audit_ruleset_free(&rs);
}

static void test_syscall_rule_and_b32_twin(void **state)
{
	struct audit_ruleset rs = { 0 };
	struct policy_errors errs = { 0 };
	int m64 = audit_determine_machine("b64"), m32 = audit_determine_machine("b32");
	int execve64 = audit_name_to_syscall("execve", m64);
	int execve32 = audit_name_to_syscall("execve", m32);
	const struct audit_rule_data *a, *b;
	char text[512];

	assert_int_equal(parse(&rs, "# ref: CIS 6.3.3.2\n"
			       "-a always,exit -F arch=b64 -S execve -k exec_log\n"
			       "\n"
			       "-a exit,always -F arch=b32 -S execve -k exec_log\n", &errs), 0);
	assert_int_equal(rs.n, 2);
	a = rs.v[0].data;
	b = rs.v[1].data;
	assert_int_equal(execve64, 59);
	assert_int_equal(execve32, 11);
	assert_true(a->mask[AUDIT_WORD(execve64)] & AUDIT_BIT(execve64));
	assert_false(a->mask[AUDIT_WORD(execve32)] & AUDIT_BIT(execve32));
	assert_true(b->mask[AUDIT_WORD(execve32)] & AUDIT_BIT(execve32));
	assert_int_equal(a->values[field_index(a, AUDIT_ARCH)], AUDIT_ARCH_X86_64);
	assert_int_equal(b->values[field_index(b, AUDIT_ARCH)], AUDIT_ARCH_I386);
	assert_false(audit_rule_equal(a, b));
	assert_int_equal(rs.v[0].refs.n, 1);
	assert_string_equal(rs.v[0].refs.v[0].benchmark, "CIS Debian Linux 12");
	assert_string_equal(rs.v[0].refs.v[0].version, "1.0.1");
	assert_string_equal(rs.v[0].refs.v[0].id, "6.3.3.2");
	assert_string_equal(rs.v[1].item, "exec_log/2");
	assert_int_equal(rs.v[1].line, 4);
	assert_int_equal(audit_rule_format(a, text, sizeof(text)), 0);
	assert_string_equal(text, "-a always,exit -F arch=b64 -S execve -k exec_log -k jefe");
	audit_ruleset_free(&rs);
	assert_int_equal(parse(&rs, "-a always,exit -F arch=b32 -C euid!=uid -F auid!=unset "
			       "-S execve -k user_emulation\n", &errs), 0);
	assert_int_equal(audit_rule_format(rs.v[0].data, text, sizeof(text)), 0);
	/* libaudit stores euid!=uid as its canonical pair uid!=euid, like auditctl -l. */
	assert_string_equal(text, "-a always,exit -F arch=b32 -S execve -C uid!=euid "
			    "-F auid!=unset -k user_emulation -k jefe");
	audit_ruleset_free(&rs);
}

static void test_fields(void **state)
{
	struct audit_ruleset rs = { 0 };
	struct policy_errors errs = { 0 };
	const struct audit_rule_data *r;
	int i;

	assert_int_equal(parse(&rs, "-a always,exit -F arch=b64 -S open,openat "
			       "-F exit=-EACCES -F auid>=1000 -F auid!=unset -k access\n",
			       &errs), 0);
	r = rs.v[0].data;
	i = field_index(r, AUDIT_EXIT);
	assert_int_equal((int32_t)r->values[i], -EACCES);
	i = field_index(r, AUDIT_LOGINUID);
	assert_int_equal(r->values[i], 1000);
	assert_int_equal(r->fieldflags[i], AUDIT_GREATER_THAN_OR_EQUAL);
	assert_int_equal(r->values[i + 1], 4294967295u);
	assert_int_equal(r->fieldflags[i + 1], AUDIT_NOT_EQUAL);
	audit_ruleset_free(&rs);
}

/* The kernel lists rules back with its own field order and without class bits. */
static void test_equal_as_kernel_lists(void **state)
{
	struct audit_ruleset rs = { 0 }, other = { 0 };
	struct policy_errors errs = { 0 };
	struct audit_rule_data *k;
	uint32_t f0, v0, o0;

	assert_int_equal(parse(&rs, "-w /etc/passwd -p wa -k passwd_changes\n", &errs), 0);
	k = audit_rule_dup(rs.v[0].data);
	assert_non_null(k);
	/* Swap the first two (non-string, string) fields: order must not matter. */
	assert_int_equal(k->fields[0], AUDIT_WATCH);
	f0 = k->fields[0]; v0 = k->values[0]; o0 = k->fieldflags[0];
	k->fields[0] = k->fields[1]; k->values[0] = k->values[1];
	k->fieldflags[0] = k->fieldflags[1];
	k->fields[1] = f0; k->values[1] = v0; k->fieldflags[1] = o0;
	/* -S all comes back with the syscall-class selector bits cleared. */
	k->mask[AUDIT_BITMASK_SIZE - 1] &= 0x0000ffffu;
	assert_true(audit_rule_equal(rs.v[0].data, k));

	/* A different permission is a different rule. */
	k->values[field_index(k, AUDIT_PERM)] = AUDIT_PERM_WRITE;
	assert_false(audit_rule_equal(rs.v[0].data, k));
	free(k);

	/* Same watch, no owner key: not ours, and not equal. */
	assert_int_equal(audit_rules_parse(&other, "x", "-w /etc/passwd -p wa -k passwd_changes\n",
					   NULL, -1, &errs), 0);
	assert_false(audit_rule_has_key(other.v[0].data, "jefe"));
	assert_false(audit_rule_equal(rs.v[0].data, other.v[0].data));
	audit_ruleset_free(&other);
	audit_ruleset_free(&rs);
}

static void test_errors_have_file_and_line(void **state)
{
	struct audit_ruleset rs = { 0 };
	struct policy_errors errs = { 0 };
	static const struct {
		const char *line;
		const char *needle;
	} bad[] = {
		{ "-a always,exit -S execve -k x", "need -F arch" },
		{ "-a always,exit -F arch=b64 -S no_such_call", "unknown syscall 'no_such_call'" },
		{ "-a always,exit -S execve -F arch=b64", "must come before -S" },
		{ "-w etc/shadow -p wa", "not absolute" },
		{ "-w /etc/shadow -p wz", "permissions are r, w, x, a" },
		{ "-a sometimes,exit -F arch=b64 -S execve", "unknown list or action" },
		{ "-e 2", "is a setting" },
		{ "-D", "is a setting" },
		{ "-a always,exit -F arch=b64 -S execve -F bogus=1", "unknown field 'bogus'" },
		{ "-a always,exit -F arch=b64 -S execve -F exit=-ENOTANERRNO", "unknown errno" },
		{ "-w /etc/x -p", "needs an argument" },
		{ "hello", "unexpected 'hello'" },
		{ "-a always,exit -F arch=b64", "needs -S" },
		{ "# ref: CIS Ubuntu 22.04 4.1.3.2", "ref: reference 'CIS' needs one id" },
		{ "# ref: JefeLinux design", "ref: unknown benchmark 'JefeLinux'" },
	};
	char text[2048] = "";
	char want[64];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		strcat(text, bad[i].line);
		strcat(text, "\n");
	}
	/* A good line in between, and a duplicate of it. */
	strcat(text, "-w /etc/group -p wa -k identity\n-w /etc/group -p wa -k identity\n");
	assert_int_equal(parse(&rs, text, &errs), -JEFE_EPOLICY);
	assert_int_equal(errs.n, ARRAY_SIZE(bad) + 1);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(want, sizeof(want), "test.rules line %zu: ", i + 1);
		if (strncmp(errs.msgs[i], want, strlen(want)) != 0 ||
		    strstr(errs.msgs[i], bad[i].needle) == NULL)
			fail_msg("line %zu: got '%s', want '%s...%s'", i + 1, errs.msgs[i], want,
				 bad[i].needle);
	}
	assert_non_null(strstr(errs.msgs[ARRAY_SIZE(bad)], "same rule as test.rules line"));
	policy_errors_free(&errs);
	audit_ruleset_free(&rs);
}

/* -w on a directory of the root is a tree watch (AUDIT_DIR), as auditctl does. */
static void test_watch_dir_below_root(void **state)
{
	char *root = tu_mkdtemp();
	int fd;
	struct audit_ruleset rs = { 0 };
	struct policy_errors errs = { 0 };
	char buf[64];

	tu_write(root, "etc/sudoers.d/README", "x\n");
	tu_write(root, "etc/sudoers", "x\n");
	fd = open(root, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(audit_rules_parse(&rs, "t", "-w /etc/sudoers.d/ -p wa -k scope\n"
					   "-w /etc/sudoers -p wa -k scope\n", "jefe", fd,
					   &errs), 0);
	assert_string_equal(rule_string(rs.v[0].data, AUDIT_DIR, buf, sizeof(buf)),
			    "/etc/sudoers.d");
	assert_null(rule_string(rs.v[1].data, AUDIT_DIR, buf, sizeof(buf)));
	assert_non_null(rule_string(rs.v[1].data, AUDIT_WATCH, buf, sizeof(buf)));
	assert_string_equal(rs.v[1].item, "scope/2");
	close(fd);
	audit_ruleset_free(&rs);
	tu_rmtree(root);
	free(root);
}

/* The shipped policy through the layer's load(): no errors, >= 20 referenced groups. */
static void test_shipped_policy(void **state)
{
	const char *src = getenv("abs_top_srcdir");
	char *root = tu_mkdtemp(), path[4096], *text;
	const struct layer_ops *ops = layer_find("audit");
	struct policy_errors errs = { 0 };
	struct policy *policy = NULL;
	struct jefe_env env = { 0 };
	struct audit_ruleset rs = { 0 };
	struct strv refs = { 0 };
	void *st = NULL;
	FILE *f;
	long len;
	size_t b32 = 0;

	assert_non_null(ops);
	assert_non_null(src);
	snprintf(path, sizeof(path), "%s/policies/audit.rules", src);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	tu_write(root, "etc/jefe/audit.rules", text);
	snprintf(path, sizeof(path), "%s/policies/policy.d/50-audit.conf", src);
	f = fopen(path, "r");
	assert_non_null(f);
	{
		char conf[8192] = "";
		size_t n = fread(conf, 1, sizeof(conf) - 1, f);

		conf[n] = '\0';
		tu_write(root, "etc/jefe/policy.d/50-audit.conf", conf);
	}
	fclose(f);
	tu_write(root, "etc/jefe/jefe.conf", "[agent]\nmode = enforce\n");

	env.root = root;
	env.root_fd = open(root, O_RDONLY | O_DIRECTORY);
	env.policy_dir = TU_POLICY_DIR;
	assert_int_equal(policy_load(&policy, env.root_fd, root, TU_MAIN_FILE, &errs), 0);
	if (layer_load(ops, &st, &env, policy, &errs) != 0)
		fail_msg("shipped audit policy refused: %s", errs.n ? errs.msgs[0] : "?");
	/*
	 * With a temporary root the layer must not touch the (host's)
	 * kernel: check reports it unsupported, watch adds no fd.  apply
	 * has the same guard (audit_env_is_host) but is deliberately not
	 * called here: if the guard ever broke, this test would change the
	 * host's audit rules.  Only check, which merely reads, is.
	 */
	{
		struct findings out = { 0 };
		struct watch_set ws = { 0 };

		assert_int_equal(ops->check(st, &out), 0);
		assert_int_equal(out.n, 1);
		assert_string_equal(out.v[0].item, "kernel");
		assert_non_null(strstr(out.v[0].note, "--root /"));
		assert_int_equal(out.n, 1);
		assert_int_equal(out.v[0].state, FINDING_UNSUPPORTED);
		findings_free(&out);
		assert_int_equal(ops->watch(st, &ws), 0);
		assert_int_equal(ws.n, 0);
	}
	ops->free(st);

	assert_int_equal(audit_rules_parse(&rs, "audit.rules", text, "jefe", -1, &errs), 0);
	assert_true(rs.n >= 60);
	for (size_t i = 0; i < rs.n; i++) {
		/* One benchmark version throughout; JefeLinux's own rules carry none. */
		for (size_t j = 0; j < rs.v[i].refs.n; j++) {
			assert_string_equal(rs.v[i].refs.v[j].benchmark, "CIS Debian Linux 12");
			assert_string_equal(rs.v[i].refs.v[j].version, "1.0.1");
			if (!strv_contains(&refs, rs.v[i].refs.v[j].id))
				assert_int_equal(strv_push(&refs, rs.v[i].refs.v[j].id), 0);
		}
		if (strstr(rs.v[i].text, "arch=b32"))
			b32++;
	}
	assert_true(refs.n >= 19);	/* 6.3.3.1 to 6.3.3.19 */
	assert_true(b32 >= 9);
	/* The design's three rules are there, verbatim. */
	assert_true(strstr(text, "-w /etc/shadow -p wa -k shadow_changes\n") != NULL);
	assert_true(strstr(text, "-w /etc/passwd -p wa -k passwd_changes\n") != NULL);
	assert_true(strstr(text, "-a always,exit -F arch=b64 -S execve -k exec_log\n") != NULL);

	/*
	 * Round trip: every shipped rule, printed the way the layer shows a
	 * kernel rule (audit_rule_format) and parsed again, is the same rule.
	 * The owner key is printed as a key, so parse without adding it.
	 */
	for (size_t i = 0; i < rs.n; i++) {
		struct audit_ruleset again = { 0 };
		char line[4096];

		assert_int_equal(audit_rule_format(rs.v[i].data, line, sizeof(line)), 0);
		if (audit_rules_parse(&again, "formatted", line, NULL, -1, &errs) != 0 ||
		    again.n != 1 || !audit_rule_equal(rs.v[i].data, again.v[0].data))
			fail_msg("%s line %d: '%s' formatted as '%s' does not parse back "
				 "to the same rule (%s)", rs.v[i].file, rs.v[i].line,
				 rs.v[i].text, line, errs.n ? errs.msgs[errs.n - 1] : "differs");
		audit_ruleset_free(&again);
	}

	strv_free(&refs);
	audit_ruleset_free(&rs);
	free(text);
	policy_free(policy);
	close(env.root_fd);
	tu_rmtree(root);
	free(root);
}

static void test_policy_key_errors(void **state)
{
	char *root = tu_mkdtemp();
	const struct layer_ops *ops = layer_find("audit");
	struct policy_errors errs = { 0 };
	struct policy *policy = NULL;
	struct jefe_env env = { 0 };
	void *st = NULL;
	bool bad_line = false, bad_key = false, bad_fail = false;

	tu_write(root, "etc/jefe/jefe.conf", "[agent]\nmode = enforce\n");
	tu_write(root, "etc/jefe/policy.d/50-audit.conf",
		 "[audit]\nrules = /etc/jefe/my.rules\nfailure_mode = loud\nbogus = 1\n");
	tu_write(root, "etc/jefe/my.rules", "-w /etc/shadow -p wa -k s\n-w /etc/x -p q\n");
	env.root = root;
	env.root_fd = open(root, O_RDONLY | O_DIRECTORY);
	env.policy_dir = TU_POLICY_DIR;
	assert_int_equal(policy_load(&policy, env.root_fd, root, TU_MAIN_FILE, &errs), 0);
	assert_int_equal(layer_load(ops, &st, &env, policy, &errs), -JEFE_EPOLICY);
	assert_null(st);
	for (size_t i = 0; i < errs.n; i++) {
		if (strstr(errs.msgs[i], "/etc/jefe/my.rules line 2: "))
			bad_line = true;
		if (strstr(errs.msgs[i], "50-audit.conf line 4: ") &&
		    strstr(errs.msgs[i], "bogus"))
			bad_key = true;
		if (strstr(errs.msgs[i], "50-audit.conf line 3: "))
			bad_fail = true;
	}
	if (!bad_line || !bad_key || !bad_fail)
		fail_msg("errors: %zu, first '%s'", errs.n, errs.n ? errs.msgs[0] : "");
	policy_errors_free(&errs);
	policy_free(policy);
	close(env.root_fd);
	tu_rmtree(root);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watch_rule),
		cmocka_unit_test(test_syscall_rule_and_b32_twin),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_equal_as_kernel_lists),
		cmocka_unit_test(test_errors_have_file_and_line),
		cmocka_unit_test(test_watch_dir_below_root),
		cmocka_unit_test(test_shipped_policy),
		cmocka_unit_test(test_policy_key_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
