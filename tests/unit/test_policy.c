/* SPDX-License-Identifier: MIT */
/* Policy parsing: good input, every kind of bad input with its message, merging. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
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
	return policy_load(&f->policy, f->root_fd, "/", TU_MAIN_FILE, &f->errs);
}

/* As the agent loads a policy: the core's and every layer's validation. */
static int load_all(struct fixture *f)
{
	struct jefe_env env = { .root = "/", .root_fd = f->root_fd, .policy_dir = TU_POLICY_DIR };
	struct layer_set set;
	int err = layer_policy_load(&f->policy, &set, &env, TU_MAIN_FILE, NULL, 0, &f->errs);

	if (err == 0)
		layer_set_free(&set);
	return err;
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
	assert_int_equal(load_all(f), -JEFE_EPOLICY);
	/* Nothing is kept of a policy with errors. */
	assert_null(f->policy);
	/* Every error, each once, in file and line order. */
	assert_int_equal(f->errs.n, 7);
	assert_string_equal(f->errs.msgs[0],
			    "/etc/jefe/jefe.conf line 2: invalid value 'sometimes' for mode: expected enforce or report "
			    "(enforce (repair drift) or report (only report it); a layer's own `mode` wins)");
	assert_string_equal(f->errs.msgs[1],
			    "/etc/jefe/jefe.conf line 3: invalid value '-5' for check_interval: expected a number from 1 to 86400 "
			    "(seconds between full checks, the backstop behind event-driven checks (1-86400))");
	assert_string_equal(f->errs.msgs[2], "/etc/jefe/jefe.conf line 4: unknown key 'colour' in [agent]");
	assert_string_equal(f->errs.msgs[3], "/etc/jefe/jefe.conf line 5: unknown section [frobnicate]");
	assert_string_equal(f->errs.msgs[4], "/etc/jefe/jefe.conf line 9: duplicate key 'kernel.a' in [sysctl] "
			    "(first set at line 8)");
	assert_string_equal(f->errs.msgs[5], "/etc/jefe/jefe.conf line 10: invalid mode 'loud' for [sysctl]: "
			    "enforce or report");
	assert_string_equal(f->errs.msgs[6], "/etc/jefe/jefe.conf line 11: syntax error (expected [section] or "
			    "key = value)");
	assert_true(has_error(f, "/etc/jefe/jefe.conf line 11: syntax error (expected [section] or "
			      "key = value)"));
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
	assert_int_equal(layer_policy_show(f->policy, mem), 0);
	fclose(mem);
	assert_non_null(strstr(out, "check_interval = 9"));
	assert_non_null(strstr(out, "mode = enforce\t# default"));
	/* Every key of a layer's table, the defaults marked, then its free-form keys. */
	assert_non_null(strstr(out, "[sysctl]\nmode = enforce\t# default: [agent] mode\n"));
	assert_non_null(strstr(out, "persist = yes\t# default\n"));
	assert_non_null(strstr(out, "persist_file = /etc/sysctl.d/90-jefe.conf\t# default\n"));
	assert_non_null(strstr(out, "\nkernel.x = 2\t# "));
	assert_non_null(strstr(out, "log_facility = daemon\t# default\n"));
	assert_non_null(strstr(out, "# [firewall]: not in the policy, the layer is off\n"));
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

/*
 * Write access to a policy file is root code execution: a file or any
 * directory above it that others than root can change is refused, with
 * the path and the offending mode or owner, and nothing of it is used.
 */
static void chmod_in(const struct fixture *f, const char *rel, mode_t mode)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/%s", f->root, rel);
	assert_int_equal(chmod(p, mode), 0);
}

static void write_good(const struct fixture *f)
{
	tu_write(f->root, "etc/jefe/jefe.conf", "[agent]\nmode = report\n");
	tu_write(f->root, "etc/jefe/policy.d/10-sysctl.conf", "[sysctl]\nkernel.kptr_restrict = 2\n");
}

static void test_untrusted_file_mode(void **state)
{
	struct fixture *f = *state;

	write_good(f);
	chmod_in(f, "etc/jefe/policy.d/10-sysctl.conf", 0666);
	assert_int_equal(load(f), -JEFE_EPOLICY);
	assert_true(has_error(f, "/etc/jefe/policy.d/10-sysctl.conf: refused: "
			      "/etc/jefe/policy.d/10-sysctl.conf has mode 0666 (writable by others); "
			      "policy files and every directory above them must be owned by root and writable by root alone"));
	/* Nothing of the refused file was read. */
	assert_null(policy_get(f->policy, "sysctl", "kernel.kptr_restrict"));
}

static void test_untrusted_file_owner(void **state)
{
	struct fixture *f = *state;
	char p[4096];

	if (geteuid() != 0)
		fail_msg("this test gives a file to uid 65534: run the unit tests as root (make check does in CI)");
	write_good(f);
	snprintf(p, sizeof(p), "%s/etc/jefe/policy.d/10-sysctl.conf", f->root);
	assert_int_equal(chown(p, 65534, 65534), 0);
	assert_int_equal(load(f), -JEFE_EPOLICY);
	assert_true(tu_error_contains(&f->errs, "refused: /etc/jefe/policy.d/10-sysctl.conf is owned by uid 65534 (only root may own it)"));
}

static void test_untrusted_directories(void **state)
{
	struct fixture *f = *state;

	write_good(f);
	chmod_in(f, "etc/jefe/policy.d", 0777);
	assert_int_equal(load(f), -JEFE_EPOLICY);
	assert_true(tu_error_contains(&f->errs, "/etc/jefe/policy.d: refused: /etc/jefe/policy.d has mode 0777 (writable by others)"));
	policy_free(f->policy);
	f->policy = NULL;
	policy_errors_free(&f->errs);

	/* An empty world-writable policy.d is refused too: anyone could fill it. */
	chmod_in(f, "etc/jefe/policy.d", 01777);
	{
		char p[4096];

		snprintf(p, sizeof(p), "%s/etc/jefe/policy.d/10-sysctl.conf", f->root);
		assert_int_equal(unlink(p), 0);
	}
	assert_int_equal(load(f), -JEFE_EPOLICY);
	assert_true(tu_error_contains(&f->errs, "/etc/jefe/policy.d has mode 1777 (writable by others)"));
	policy_free(f->policy);
	f->policy = NULL;
	policy_errors_free(&f->errs);

	/* A group-writable directory higher up: /etc. */
	chmod_in(f, "etc/jefe/policy.d", 0755);
	chmod_in(f, "etc", 0775);
	assert_int_equal(load(f), -JEFE_EPOLICY);
	assert_true(has_error(f, "/etc/jefe/jefe.conf: refused: /etc has mode 0775 (writable by its group); "
			      "policy files and every directory above them must be owned by root and writable by root alone"));
}

static void test_dropin_symlinks(void **state)
{
	struct fixture *f = *state;
	char p[4096];

	write_good(f);
	/* Below the policy directory: followed. */
	tu_write(f->root, "etc/jefe/shared/audit.conf", "[audit]\nmode = report\n");
	snprintf(p, sizeof(p), "%s/etc/jefe/policy.d/30-audit.conf", f->root);
	assert_int_equal(symlink("../shared/audit.conf", p), 0);
	assert_int_equal(load(f), 0);
	assert_non_null(policy_get(f->policy, "audit", "mode"));
	policy_free(f->policy);
	f->policy = NULL;

	/* Outside /etc/jefe: refused, even with good modes. */
	tu_write(f->root, "srv/out.conf", "[sshd]\nsshd_path = /srv/evil\n");
	snprintf(p, sizeof(p), "%s/etc/jefe/policy.d/40-out.conf", f->root);
	assert_int_equal(symlink("/srv/out.conf", p), 0);
	assert_int_equal(load(f), -JEFE_EPOLICY);
	assert_true(has_error(f, "/etc/jefe/policy.d/40-out.conf: refused: a symbolic link to /srv/out.conf, "
			      "outside /etc/jefe (policy.d links must stay below it)"));
	assert_null(policy_get(f->policy, "sshd", "sshd_path"));
}

/*
 * 100,000 keys load, each findable (loading is linear: bench/policy-load.sh
 * measures it; the quadratic loader before it took 86 s here).
 */
static void test_many_keys(void **state)
{
	struct fixture *f = *state;
	char path[4096], *files[1], key[64];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/many.conf", f->root);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("[files.perms]\n", fp);
	for (int i = 0; i < 100000; i++)
		fprintf(fp, "/etc/many/f%d = 0644\n", i);
	assert_int_equal(fclose(fp), 0);
	files[0] = path;
	assert_int_equal(policy_load_files(&f->policy, files, 1, &f->errs), 0);
	assert_int_equal(f->policy->n_entries, 100000);
	for (int i = 0; i < 100000; i += 9999) {
		const struct policy_entry *e;

		snprintf(key, sizeof(key), "/etc/many/f%d", i);
		e = policy_get(f->policy, "files.perms", key);
		assert_non_null(e);
		assert_int_equal(e->line, i + 2);
	}
	assert_null(policy_get(f->policy, "files.perms", "/etc/many/f100000"));
}

/* A NUL byte is named as such, with its line; the lines around it still count. */
static void test_nul_byte(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "[agent]\nmode = re\0port\n\0\ncheck_interval = 0\n";
	char path[4096], *files[1];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/nul.conf", f->root);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, sizeof(text) - 1, fp), sizeof(text) - 1);
	assert_int_equal(fclose(fp), 0);
	files[0] = path;
	assert_int_equal(policy_load_files(&f->policy, files, 1, &f->errs), -JEFE_EPOLICY);
	snprintf(path, sizeof(path), "%s/nul.conf line 2: NUL byte in the line (policy files are text)", f->root);
	assert_true(has_error(f, path));
	snprintf(path, sizeof(path), "%s/nul.conf line 3: NUL byte in the line (policy files are text)", f->root);
	assert_true(has_error(f, path));
	assert_false(tu_error_contains(&f->errs, "too long"));
	/* Line 4 is still line 4. */
	assert_true(tu_error_contains(&f->errs, "nul.conf line 4: invalid value '0' for check_interval"));
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
		cmocka_unit_test_setup_teardown(test_untrusted_file_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_untrusted_file_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_untrusted_directories, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dropin_symlinks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
