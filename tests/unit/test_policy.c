/* SPDX-License-Identifier: MIT */
/* Policy parsing: good input, every kind of bad input with its message, merging. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "testutil.h"
#include "errors.h"
#include "layer.h"
#include "policy.h"

struct fixture {
	char *root;
	int root_fd;
	struct policy_errors errs;
	struct policy *policy;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->root = tu_mkdtemp();
	f->root_fd = open(f->root, O_RDONLY | O_DIRECTORY);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	policy_free(f->policy);
	policy_errors_free(&f->errs);
	close(f->root_fd);
	tu_rmtree(f->root);
	free(f->root);
	free(f);
	return 0;
}

static int load(struct fixture *f)
{
	return policy_load(&f->policy, f->root_fd, "/", NULL, &f->errs);
}

/* True when one of the collected errors is exactly msg. */
static bool has_error(const struct fixture *f, const char *msg)
{
	return tu_error_is(&f->errs, msg);
}

static void test_good_policy(void **state)
{
	struct fixture *f = *state;
	const struct policy_entry *e;

	tu_write(f->root, "etc/jefe/jefe.conf",
		 "# comment\n[agent]\nmode = report\ncheck_interval = 60\nlog_facility = local3\n"
		 "status_group = wheel\n\n[sysctl]\nkernel.kptr_restrict = 2\n");
	assert_int_equal(load(f), 0);
	assert_int_equal(f->errs.n, 0);
	assert_int_equal(f->policy->mode, POLICY_MODE_REPORT);
	assert_int_equal(f->policy->check_interval, 60);
	assert_int_equal(f->policy->log_facility, LOG_LOCAL3);
	assert_string_equal(f->policy->status_group, "wheel");
	e = policy_get(f->policy, "sysctl", "kernel.kptr_restrict");
	assert_non_null(e);
	assert_string_equal(e->value, "2");
	assert_int_equal(e->line, 9);
	assert_string_equal(e->file, "/etc/jefe/jefe.conf");
}

static void test_defaults(void **state)
{
	struct fixture *f = *state;

	tu_write(f->root, "etc/jefe/jefe.conf", "[agent]\n");
	assert_int_equal(load(f), 0);
	assert_int_equal(f->policy->mode, POLICY_MODE_ENFORCE);
	assert_int_equal(f->policy->check_interval, 300);
	assert_int_equal(f->policy->log_facility, LOG_DAEMON);
}

static void test_dropins_merge_in_name_order(void **state)
{
	struct fixture *f = *state;
	const struct policy_entry *e;

	tu_write(f->root, "etc/jefe/jefe.conf", "[sysctl]\nkernel.a = 1\nkernel.b = 1\n");
	tu_write(f->root, "etc/jefe/policy.d/20-b.conf", "[sysctl]\nkernel.a = 3\n");
	tu_write(f->root, "etc/jefe/policy.d/10-a.conf", "[sysctl]\nkernel.a = 2\nkernel.c = 2\n");
	/* Not *.conf: ignored, or it would be an error. */
	tu_write(f->root, "etc/jefe/policy.d/30-c.conf.dpkg-old", "[bogus]\n");
	tu_write(f->root, "etc/jefe/policy.d/.hidden.conf", "[bogus]\n");
	assert_int_equal(load(f), 0);
	e = policy_get(f->policy, "sysctl", "kernel.a");
	assert_string_equal(e->value, "3");
	assert_string_equal(e->file, "/etc/jefe/policy.d/20-b.conf");
	assert_int_equal(e->line, 2);
	assert_string_equal(policy_get(f->policy, "sysctl", "kernel.b")->value, "1");
	assert_string_equal(policy_get(f->policy, "sysctl", "kernel.c")->value, "2");
	assert_int_equal(f->policy->n_files, 3);
	assert_string_equal(f->policy->files[1], "/etc/jefe/policy.d/10-a.conf");
}

/*
 * The digest is over the effective entries (section, key, value, file),
 * pinned here to the bytes jefe(8) documents: comments and line numbers do
 * not move it, a value or the file that sets it does.
 */
static void test_digest(void **state)
{
	struct fixture *f = *state;
	char a[POLICY_DIGEST_HEX], b[POLICY_DIGEST_HEX];

	tu_write(f->root, "etc/jefe/jefe.conf", "[sysctl]\nkernel.a = 1\n");
	assert_int_equal(load(f), 0);
	assert_int_equal(policy_digest(f->policy, a), 0);
	assert_string_equal(a, "4b8015efb8674577462d5db1f45ceb3806f2331124d4fda1a7047d661b8551c1");
	policy_free(f->policy);
	f->policy = NULL;
	tu_write(f->root, "etc/jefe/jefe.conf", "# a comment\n\n[sysctl]\n\nkernel.a = 1\n");
	assert_int_equal(load(f), 0);
	assert_int_equal(policy_digest(f->policy, b), 0);
	assert_string_equal(a, b);
	policy_free(f->policy);
	f->policy = NULL;
	tu_write(f->root, "etc/jefe/jefe.conf", "[sysctl]\nkernel.a = 2\n");
	assert_int_equal(load(f), 0);
	assert_int_equal(policy_digest(f->policy, b), 0);
	assert_string_not_equal(a, b);
	policy_free(f->policy);
	f->policy = NULL;
	tu_write(f->root, "etc/jefe/jefe.conf", "[agent]\n");
	tu_write(f->root, "etc/jefe/policy.d/10-a.conf", "[sysctl]\nkernel.a = 1\n");
	assert_int_equal(load(f), 0);
	assert_int_equal(policy_digest(f->policy, b), 0);
	assert_string_not_equal(a, b);
}

static void test_every_error_reported(void **state)
{
	struct fixture *f = *state;

	tu_write(f->root, "etc/jefe/jefe.conf",
		 "[agent]\n"			/* 1 */
		 "mode = sometimes\n"		/* 2 */
		 "check_interval = -5\n"	/* 3 */
		 "colour = blue\n"		/* 4 */
		 "[frobnicate]\n"		/* 5 */
		 "x = 1\n"			/* 6 */
		 "[sysctl]\n"			/* 7 */
		 "kernel.a = 1\n"		/* 8 */
		 "kernel.a = 2\n"		/* 9 */
		 "mode = loud\n"		/* 10 */
		 "this line has no equals\n");	/* 11 */
	assert_int_equal(load(f), -JEFE_EPOLICY);
	/* Handed back for the layers' own validation, never to be applied. */
	assert_non_null(f->policy);
	assert_true(has_error(f, "/etc/jefe/jefe.conf line 2: invalid value 'sometimes' for mode: "
			      "enforce (repair drift) or report (only report it); a layer's own `mode` wins"));
	assert_true(has_error(f, "/etc/jefe/jefe.conf line 3: invalid value '-5' for check_interval: "
			      "seconds between full checks, the backstop behind event-driven checks (1-86400)"));
	assert_true(has_error(f, "/etc/jefe/jefe.conf line 4: unknown key 'colour' in [agent]"));
	assert_true(has_error(f, "/etc/jefe/jefe.conf line 5: unknown section [frobnicate]"));
	assert_true(has_error(f, "/etc/jefe/jefe.conf line 9: duplicate key 'kernel.a' in [sysctl] "
			      "(first set at line 8)"));
	assert_true(has_error(f, "/etc/jefe/jefe.conf line 10: invalid mode 'loud' for [sysctl]: "
			      "enforce or report"));
	assert_true(has_error(f, "/etc/jefe/jefe.conf line 11: syntax error (expected [section] or "
			      "key = value)"));
	assert_int_equal(f->errs.n, 7);
}

static void test_same_key_in_two_files_is_not_duplicate(void **state)
{
	struct fixture *f = *state;

	tu_write(f->root, "etc/jefe/jefe.conf", "[agent]\nmode = enforce\n");
	tu_write(f->root, "etc/jefe/policy.d/90-local.conf", "[agent]\nmode = report\n");
	assert_int_equal(load(f), 0);
	assert_int_equal(f->policy->mode, POLICY_MODE_REPORT);
}

static void test_missing_main_file(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f), -JEFE_EPOLICY);
	assert_true(has_error(f, "/etc/jefe/jefe.conf: cannot read: No such file or directory"));
}

static void test_continuation_and_long_lines(void **state)
{
	struct fixture *f = *state;
	char longline[400];

	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "kernel.long = ", 14);
	longline[sizeof(longline) - 2] = '\n';
	longline[sizeof(longline) - 1] = '\0';
	tu_write(f->root, "etc/jefe/jefe.conf", "[sysctl]\nrequired = kernel.a\n  kernel.b\n");
	assert_int_equal(load(f), 0);
	assert_string_equal(policy_get(f->policy, "sysctl", "required")->value, "kernel.a kernel.b");
	policy_free(f->policy);
	f->policy = NULL;

	{
		char content[600];

		snprintf(content, sizeof(content), "[sysctl]\n%s", longline);
		tu_write(f->root, "etc/jefe/jefe.conf", content);
	}
	assert_int_equal(load(f), -JEFE_EPOLICY);
	assert_true(has_error(f, "/etc/jefe/jefe.conf line 2: line too long (at most 198 characters; "
			      "continue a long value on indented lines)"));
}

static void test_layer_mode(void **state)
{
	struct fixture *f = *state;

	tu_write(f->root, "etc/jefe/jefe.conf", "[agent]\nmode = enforce\n[sysctl]\nmode = report\n");
	assert_int_equal(load(f), 0);
	assert_int_equal(policy_layer_mode(f->policy, "sysctl"), POLICY_MODE_REPORT);
	assert_int_equal(policy_layer_mode(f->policy, "other"), POLICY_MODE_ENFORCE);
}

static void test_load_files_and_dump(void **state)
{
	struct fixture *f = *state;
	char a[4096], b[4096], *files[2];
	char *out = NULL;
	size_t len = 0;
	FILE *mem;

	tu_write(f->root, "a.conf", "[sysctl]\nkernel.x = 1\n");
	tu_write(f->root, "b.conf", "[sysctl]\nkernel.x = 2\n[agent]\ncheck_interval = 9\n");
	snprintf(a, sizeof(a), "%s/a.conf", f->root);
	snprintf(b, sizeof(b), "%s/b.conf", f->root);
	files[0] = a;
	files[1] = b;
	assert_int_equal(policy_load_files(&f->policy, files, 2, &f->errs), 0);
	mem = open_memstream(&out, &len);
	assert_int_equal(policy_dump(f->policy, mem), 0);
	fclose(mem);
	assert_non_null(strstr(out, "check_interval = 9"));
	assert_non_null(strstr(out, "mode = enforce\t# default"));
	assert_non_null(strstr(out, "[sysctl]\nkernel.x = 2\t# "));
	assert_non_null(strstr(out, "b.conf:2\n"));
	free(out);
}

static void test_layer_configured_by_its_sections(void **state)
{
	struct fixture *f = *state;

	/* A header alone configures the layer; no header leaves it off. */
	tu_write(f->root, "etc/jefe/jefe.conf", "[agent]\nmode = enforce\n[firewall.service.web]\n");
	assert_int_equal(load(f), 0);
	assert_true(policy_has_layer(f->policy, "firewall"));
	assert_false(policy_has_layer(f->policy, "fire"));
	assert_false(policy_has_layer(f->policy, "sysctl"));
}

static void test_section_ownership(void **state)
{
	(void)state;
	assert_true(layer_owns_section("agent"));
	assert_true(layer_owns_section("sysctl"));
	/* Only layers that take subsections own "name.*". */
	assert_false(layer_owns_section("sysctl.extra"));
	assert_true(layer_owns_section("firewall.service.web"));
	assert_false(layer_owns_section("firewall."));
	assert_false(layer_owns_section("sysctlx"));
	assert_false(layer_owns_section(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dropins_merge_in_name_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_error_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_key_in_two_files_is_not_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_main_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_continuation_and_long_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layer_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_files_and_dump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layer_configured_by_its_sections, setup, teardown),
		cmocka_unit_test(test_section_ownership),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
