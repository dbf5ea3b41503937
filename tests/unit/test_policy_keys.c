/* SPDX-License-Identifier: MIT */
/*
 * The core owns the policy keys: one descriptor table per section drives
 * parsing, validation and defaults; the core rejects unknown keys and
 * sections with "did you mean", handles `mode` for every layer, and the
 * errors of the core and of the layers come out in file and line order.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "errors.h"
#include "layer.h"
#include "layers.h"
#include "policy.h"

struct fixture {
	char *root;
	int root_fd;
	struct jefe_env env;
	struct policy_errors errs;
	struct policy *policy;
	struct layer_set set;
	bool loaded;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	/* No /proc/sys below this root: sysctl names are taken as written. */
	f->root = tu_mkdtemp();
	f->root_fd = open(f->root, O_RDONLY | O_DIRECTORY);
	f->env.root = "/";
	f->env.root_fd = f->root_fd;
	f->env.policy_dir = TU_POLICY_DIR;
	tu_write(f->root, "etc/jefe/audit.rules", "-w /etc/shadow -p wa -k jefe\n");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->loaded)
		layer_set_free(&f->set);
	policy_free(f->policy);
	policy_errors_free(&f->errs);
	close(f->root_fd);
	tu_rmtree(f->root);
	free(f->root);
	free(f);
	return 0;
}

/* The main file, then policy.d/50-x.conf when second is not NULL. */
static int load(struct fixture *f, const char *main, const char *second)
{
	int err;

	tu_write(f->root, "etc/jefe/jefe.conf", main);
	if (second)
		tu_write(f->root, "etc/jefe/policy.d/50-x.conf", second);
	err = layer_policy_load(&f->policy, &f->set, &f->env, TU_MAIN_FILE, NULL, 0, &f->errs);
	f->loaded = err == 0;
	return err;
}

static void test_unknown_key_suggests(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f,
			      "[agent]\n"
			      "check_intervall = 5\n"		/* 2 */
			      "[sysctl]\n"
			      "persit = no\n"			/* 4 */
			      "[sshd]\n"
			      "PermitRootLogn = no\n"		/* 6 */
			      "[audit]\n"
			      "failure = panic\n"		/* 8 */
			      "[firewall.service.web]\n"
			      "ports = 80\n"
			      "port = 81\n"			/* 11 */
			      "mode = report\n", NULL),		/* 12: a layer's key, not a service's */
			 -JEFE_EPOLICY);
	assert_null(f->policy);
	assert_int_equal(f->errs.n, 6);
	assert_string_equal(f->errs.msgs[0], "/etc/jefe/jefe.conf line 2: unknown key 'check_intervall' "
			    "in [agent] (did you mean 'check_interval'?)");
	assert_string_equal(f->errs.msgs[1], "/etc/jefe/jefe.conf line 4: unknown key 'persit' in "
			    "[sysctl] (did you mean 'persist'?)");
	assert_string_equal(f->errs.msgs[2], "/etc/jefe/jefe.conf line 6: unknown key 'PermitRootLogn' "
			    "in [sshd] (did you mean 'PermitRootLogin'?)");
	assert_string_equal(f->errs.msgs[3], "/etc/jefe/jefe.conf line 8: unknown key 'failure' in "
			    "[audit]");
	assert_string_equal(f->errs.msgs[4], "/etc/jefe/jefe.conf line 11: unknown key 'port' in "
			    "[firewall.service.web] (did you mean 'ports'?)");
	assert_string_equal(f->errs.msgs[5], "/etc/jefe/jefe.conf line 12: unknown key 'mode' in "
			    "[firewall.service.web]");
}

static void test_unknown_key_in_layer_without_suggestion(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "[modules]\ncolour = blue\nblacklst = cramfs\n", NULL), -JEFE_EPOLICY);
	assert_int_equal(f->errs.n, 2);
	assert_string_equal(f->errs.msgs[0], "/etc/jefe/jefe.conf line 2: unknown key 'colour' in [modules]");
	assert_string_equal(f->errs.msgs[1], "/etc/jefe/jefe.conf line 3: unknown key 'blacklst' in "
			    "[modules] (did you mean 'blacklist'?)");
}

static void test_unknown_section_suggests(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f,
			      "[sysclt]\n"			/* 1 */
			      "kernel.x = 1\n"
			      "[firewall.servce.web]\n"		/* 3 */
			      "ports = 80\n"
			      "[files.perm]\n"			/* 5 */
			      "/etc/shadow = 0640\n"
			      "[frobnicate]\n"			/* 7 */
			      "[sysctl.extra]\n", NULL),	/* 8 */
			 -JEFE_EPOLICY);
	assert_int_equal(f->errs.n, 5);
	assert_string_equal(f->errs.msgs[0], "/etc/jefe/jefe.conf line 1: unknown section [sysclt] "
			    "(did you mean [sysctl]?)");
	assert_string_equal(f->errs.msgs[1], "/etc/jefe/jefe.conf line 3: unknown section "
			    "[firewall.servce.web] (did you mean [firewall.service.web]?)");
	assert_string_equal(f->errs.msgs[2], "/etc/jefe/jefe.conf line 5: unknown section [files.perm] "
			    "(did you mean [files.perms]?)");
	assert_string_equal(f->errs.msgs[3], "/etc/jefe/jefe.conf line 7: unknown section [frobnicate]");
	/* The layer has no subsections: [sysctl.extra] is a typo of nothing. */
	assert_string_equal(f->errs.msgs[4], "/etc/jefe/jefe.conf line 8: unknown section [sysctl.extra] "
			    "(did you mean [sysctl]?)");
}

/* A table of every type, as a layer would have it. */
static const char *const colours[] = { "red", "green", "blue", NULL };

struct demo_settings {
	bool flag;
	unsigned long count;
	int colour;
	const char *path;
	const char *words;
	const char *name;
	const char *unset;
};

static const struct policy_key demo_keys[] = {
	PK_BOOL("flag", struct demo_settings, flag, "yes", "a flag", ""),
	PK_UINT("count", struct demo_settings, count, 1, 10, "3", "a count", ""),
	PK_ENUM("colour", struct demo_settings, colour, colours, "green", "a colour", ""),
	PK_PATH("path", struct demo_settings, path, 0, "/etc/x", "a path", ""),
	PK_LIST("words", struct demo_settings, words, "a b", "words", ""),
	PK_NAME("name", struct demo_settings, name, "wheel", "a name", ""),
	PK_UINT("unset", struct demo_settings, unset, 0, 5, NULL, "no default", ""),
	PK_END,
};

static void test_defaults_applied(void **state)
{
	struct fixture *f = *state;
	struct demo_settings s;
	char path[4096], *files[1];

	snprintf(path, sizeof(path), "%s/demo.conf", f->root);
	files[0] = path;
	/* No value: every key has its default. */
	tu_write(f->root, "demo.conf", "[demo]\n");
	assert_int_equal(policy_load_files(&f->policy, files, 1, &f->errs), 0);
	memset(&s, 0xff, sizeof(s));
	s.unset = NULL;
	assert_int_equal(policy_keys_load(f->policy, "demo", demo_keys, &s, &f->errs), 0);
	assert_true(s.flag);
	assert_int_equal(s.count, 3);
	assert_int_equal(s.colour, 1);
	assert_string_equal(s.path, "/etc/x");
	assert_string_equal(s.words, "a b");
	assert_string_equal(s.name, "wheel");
	assert_null(s.unset);
	policy_free(f->policy);
	f->policy = NULL;

	/* Values override; a bad value is reported and the default stays. */
	tu_write(f->root, "demo.conf",
		 "[demo]\nflag = off\ncount = 11\ncolour = blue\npath = rel/x\nname = a b\n");
	assert_int_equal(policy_load_files(&f->policy, files, 1, &f->errs), 0);
	assert_int_equal(policy_keys_load(f->policy, "demo", demo_keys, &s, &f->errs), -JEFE_EPOLICY);
	assert_false(s.flag);
	assert_int_equal(s.count, 3);
	assert_int_equal(s.colour, 2);
	assert_string_equal(s.path, "/etc/x");
	assert_int_equal(f->errs.n, 3);
	assert_non_null(strstr(f->errs.msgs[0], "demo.conf line 3: invalid value '11' for count: "
			       "expected a number from 1 to 10 (a count)"));
	assert_non_null(strstr(f->errs.msgs[1], "demo.conf line 5: invalid value 'rel/x' for path: "
			       "expected an absolute path without '..' (a path)"));
	assert_non_null(strstr(f->errs.msgs[2], "demo.conf line 6: invalid value 'a b' for name: "
			       "expected one name (no spaces or '/')"));
}

/* A layer's defaults reach it without a line of its own, and show marks them. */
static void test_layer_defaults_shown(void **state)
{
	struct fixture *f = *state;
	char *out = NULL;
	size_t len = 0;
	FILE *mem;

	assert_int_equal(load(f, "[agent]\nmode = report\n[modules]\nblock_usb_storage = yes\n", NULL), 0);
	mem = open_memstream(&out, &len);
	assert_int_equal(layer_policy_show(f->policy, mem), 0);
	fclose(mem);
	assert_non_null(strstr(out, "\n[modules]\nmode = report\t# default: [agent] mode\n"
				    "blacklist = cramfs freevxfs hfs hfsplus jffs2 udf dccp sctp rds tipc\t# default\n"
				    "block_usb_storage = yes\t# /etc/jefe/jefe.conf:4\n"
				    "verify_unloaded = yes\t# default\n"));
	assert_non_null(strstr(out, "\n[agent]\nmode = report\t# /etc/jefe/jefe.conf:2\n"
				    "check_interval = 300\t# default\n"));
	assert_non_null(strstr(out, "# [sshd]: not in the policy, the layer is off\n"));
	free(out);
}

/* `mode` is the core's in every layer section: no layer parses it. */
static void test_mode_handled_by_core(void **state)
{
	struct fixture *f = *state;
	size_t modules = 0, sysctl = 0;

	for (unsigned int i = 0; i < jefe_layers_count; i++) {
		if (jefe_layers[i] == &layer_modules_ops)
			modules = i;
		if (jefe_layers[i] == &layer_sysctl_ops)
			sysctl = i;
	}
	assert_int_equal(load(f, "[agent]\nmode = enforce\n[modules]\nmode = report\n[sysctl]\n", NULL), 0);
	assert_int_equal(f->set.mode[modules], POLICY_MODE_REPORT);
	assert_int_equal(f->set.mode[sysctl], POLICY_MODE_ENFORCE);
	layer_set_free(&f->set);
	f->loaded = false;
	policy_free(f->policy);
	f->policy = NULL;

	assert_int_equal(load(f, "[modules]\nmode = loud\n[audit]\nmode = enforced\n", NULL), -JEFE_EPOLICY);
	assert_int_equal(f->errs.n, 2);
	assert_string_equal(f->errs.msgs[0], "/etc/jefe/jefe.conf line 2: invalid mode 'loud' for "
			    "[modules]: enforce or report");
	assert_string_equal(f->errs.msgs[1], "/etc/jefe/jefe.conf line 4: invalid mode 'enforced' for "
			    "[audit]: enforce or report");
}

/*
 * The core finds some errors, each layer others, in its own order: what
 * the admin reads is file by file (in the order they are read), line by line.
 */
static void test_errors_in_file_and_line_order(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f,
			      "[sysctl]\n"
			      "kernel.x = 1=2\n"		/* 2: the layer's */
			      "persist = perhaps\n"		/* 3: the core's */
			      "[agent]\n"
			      "check_interval = 0\n",		/* 5: the core's, found first */
			      "[modules]\n"
			      "blacklist = squashfs\n"		/* 2: the layer's */
			      "[bogus]\n"),			/* 3: the core's */
			 -JEFE_EPOLICY);
	assert_int_equal(f->errs.n, 5);
	assert_non_null(strstr(f->errs.msgs[0], "jefe.conf line 2: invalid value '1=2' for kernel.x"));
	assert_non_null(strstr(f->errs.msgs[1], "jefe.conf line 3: invalid value 'perhaps' for persist"));
	assert_non_null(strstr(f->errs.msgs[2], "jefe.conf line 5: invalid value '0' for check_interval"));
	assert_non_null(strstr(f->errs.msgs[3], "50-x.conf line 2: refusing to block module 'squashfs'"));
	assert_non_null(strstr(f->errs.msgs[4], "50-x.conf line 3: unknown section [bogus]"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unknown_key_suggests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key_in_layer_without_suggestion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_section_suggests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults_applied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layer_defaults_shown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_handled_by_core, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_in_file_and_line_order, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
