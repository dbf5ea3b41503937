/* SPDX-License-Identifier: MIT */
/*
 * What the CLI stands on: the one parser of layer names (a bitmask of
 * table indices), "did you mean" by edit distance, the unified diffs of
 * a dry run, the text view's long lists as missing/extra and its
 * services row apart, jefe_env deciding once whether the root is this
 * host, and the one reader of the root's passwd and group files.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "ipc.h"
#include "layer.h"
#include "report.h"
#include "rootfs.h"
#include "util.h"

static unsigned int layer_index(const char *name)
{
	for (unsigned int i = 0; i < jefe_layers_count; i++)
		if (strcmp(jefe_layers[i]->name, name) == 0)
			return i;
	fail_msg("no layer %s", name);
	return 0;
}

static void test_layer_mask_parse(void **unused)
{
	uint32_t mask = 0;
	char bad[64];

	(void)unused;
	assert_int_equal(layer_mask_parse("sysctl", &mask, bad, sizeof(bad)), 0);
	assert_int_equal(mask, LAYER_BIT(layer_index("sysctl")));
	/* ORed in: repeated --layer options add up, duplicates are harmless. */
	assert_int_equal(layer_mask_parse("files,sysctl", &mask, bad, sizeof(bad)), 0);
	assert_int_equal(mask, LAYER_BIT(layer_index("sysctl")) | LAYER_BIT(layer_index("files")));
	/* Every layer at once: no length limit to overflow. */
	mask = 0;
	assert_int_equal(layer_mask_parse("sysctl,modules,firewall,sshd,audit,files", &mask, bad,
					  sizeof(bad)), 0);
	assert_int_equal(mask, layer_mask_valid());
	/* Empty names, wherever they stand, and unknown ones: mask untouched. */
	static const char *const empty[] = { "", ",sysctl", "sysctl,", "sysctl,,files", "," };
	for (size_t i = 0; i < ARRAY_SIZE(empty); i++) {
		mask = 7;
		assert_int_equal(layer_mask_parse(empty[i], &mask, bad, sizeof(bad)), -EINVAL);
		assert_string_equal(bad, "");
		assert_int_equal(mask, 7);
	}
	mask = 0;
	assert_int_equal(layer_mask_parse("sysctl,sysct", &mask, bad, sizeof(bad)), -ENOENT);
	assert_string_equal(bad, "sysct");
	assert_int_equal(mask, 0);
	assert_int_equal(layer_mask_parse("sysctl ", &mask, bad, sizeof(bad)), -ENOENT);
}

static void test_layer_mask_names(void **unused)
{
	char buf[128];
	uint32_t mask = LAYER_BIT(layer_index("audit")) | LAYER_BIT(layer_index("sysctl"));

	(void)unused;
	assert_int_equal(layer_mask_names(0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "all");
	assert_int_equal(layer_mask_names(mask, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sysctl,audit");	/* table order */
	assert_int_equal(layer_mask_names(mask, buf, 5), -ENOBUFS);
	assert_true(layer_mask_has(0, 3));
	assert_true(layer_mask_has(mask, layer_index("audit")));
	assert_false(layer_mask_has(mask, layer_index("files")));
	assert_false(layer_mask_has(mask, 40));
}

static void test_layer_set_unloaded(void **unused)
{
	struct layer_set set = { 0 };
	struct policy p = { 0 };
	char *files[] = { "/etc/jefe/jefe.conf", "/etc/jefe/policy.d/10-sysctl.conf" };
	char msg[512];
	unsigned int sysctl = layer_index("sysctl"), audit = layer_index("audit");

	(void)unused;
	set.state[sysctl] = &set;	/* loaded: any non-NULL state */
	assert_int_equal(layer_set_unloaded(&set, 0), 0);
	assert_int_equal(layer_set_unloaded(&set, LAYER_BIT(sysctl)), 0);
	assert_int_equal(layer_set_unloaded(&set, LAYER_BIT(sysctl) | LAYER_BIT(audit)),
			 LAYER_BIT(audit));
	p.files = files;
	p.n_files = 2;
	assert_int_equal(layer_unloaded_message(&p, LAYER_BIT(audit), msg, sizeof(msg)), 0);
	assert_string_equal(msg, "layer audit is not in the policy: no [audit] section in any of"
			    " its files; files read: /etc/jefe/jefe.conf"
			    " /etc/jefe/policy.d/10-sysctl.conf");
	assert_int_equal(layer_unloaded_message(&p, LAYER_BIT(audit), msg, 40), -ENOBUFS);
}

static void test_suggest(void **unused)
{
	struct str_suggest s = { 0 };
	static const char *const commands[] = { "status", "enforce", "policy", "reload", "baseline" };

	(void)unused;
	assert_int_equal(str_distance("status", "status"), 0);
	assert_int_equal(str_distance("stauts", "status"), 1);	/* a swap is one typo */
	assert_int_equal(str_distance("sysclt", "sysctl"), 1);
	assert_int_equal(str_distance("", "abc"), 3);
	assert_int_equal(str_distance("kitten", "sitting"), 3);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		str_suggest_consider(&s, "enforse", commands[i]);
	assert_string_equal(s.best, "enforce");
	s = (struct str_suggest){ 0 };
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		str_suggest_consider(&s, "xyzzy", commands[i]);
	assert_null(s.best);
	/* An exact name is no typo, and a short name is not "close" to anything. */
	s = (struct str_suggest){ 0 };
	str_suggest_consider(&s, "status", "status");
	str_suggest_consider(&s, "ab", "cd");
	assert_null(s.best);
	assert_string_equal(layer_suggest("firewal"), "firewall");
	assert_null(layer_suggest("network"));
}

static void test_diff_unified(void **unused)
{
	char *d = NULL;
	/* 12 lines, two changes far apart: two hunks, 3 lines of context each. */
	const char *old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n";
	const char *new = "1\nTWO\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n";

	(void)unused;
	assert_int_equal(diff_unified("/etc/x.conf", NULL, "a\nb\n", &d), 0);
	assert_string_equal(d, "--- /dev/null\n+++ /etc/x.conf (as jefe would write it)\n"
			       "@@ -0,0 +1,2 @@\n+a\n+b");
	free(d);
	assert_int_equal(diff_unified("/etc/x.conf", old, new, &d), 0);
	assert_string_equal(d, "--- /etc/x.conf\n+++ /etc/x.conf (as jefe would write it)\n"
			       "@@ -1,5 +1,5 @@\n 1\n-2\n+TWO\n 3\n 4\n 5\n"
			       "@@ -10,3 +10,4 @@\n 10\n 11\n 12\n+13");
	free(d);
	/* Close changes share one hunk. */
	assert_int_equal(diff_unified("f", "a\nb\nc\nd\n", "A\nb\nc\nD\n", &d), 0);
	assert_string_equal(d, "--- f\n+++ f (as jefe would write it)\n"
			       "@@ -1,4 +1,4 @@\n-a\n+A\n b\n c\n-d\n+D");
	free(d);
	/* A file emptied. */
	assert_int_equal(diff_unified("f", "a\n", "", &d), 0);
	assert_string_equal(d, "--- f\n+++ f (as jefe would write it)\n@@ -1,1 +0,0 @@\n-a");
	free(d);
}

static char *render(struct findings *fs, enum report_verb verb, const struct report_style *style)
{
	struct json_object *doc = NULL;
	char *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);

	assert_int_equal(report_build(fs, &doc), 0);
	assert_int_equal(report_print(mem, doc, REPORT_TEXT, verb, style), 0);
	fclose(mem);
	json_object_put(doc);
	return out;
}

static void test_text_lists_and_services(void **unused)
{
	struct findings fs = { 0 };
	struct report_style verbose = { .verbose = true };
	char *text;

	(void)unused;
	assert_int_equal(findings_add(&fs, &(struct finding){
		.layer = "sshd", .item = "ciphers", .state = FINDING_DRIFT,
		.expected = "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com",
		.actual = "chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,aes128-cbc,3des-cbc",
	}), 0);
	assert_int_equal(findings_add(&fs, &(struct finding){
		.layer = "sshd", .item = "macs", .state = FINDING_DRIFT,
		.expected = "hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com",
		.actual = "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com",
	}), 0);
	assert_int_equal(findings_add(&fs, &(struct finding){
		.layer = "sshd", .item = "x11forwarding", .state = FINDING_COMPLIANT,
		.expected = "no", .actual = "no",
	}), 0);
	assert_int_equal(findings_add(&fs, &(struct finding){
		.layer = "services", .item = "jefe-setup", .state = FINDING_COMPLIANT,
		.expected = "started", .actual = "started",
	}), 0);
	text = render(&fs, REPORT_STATUS, NULL);
	assert_non_null(strstr(text, "  drift       sshd:ciphers: missing aes256-gcm@openssh.com;"
				     " extra aes128-cbc,3des-cbc\n"));
	assert_non_null(strstr(text, "sshd:macs: the same entries in another order; wanted "
				     "hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com\n"));
	/* The long lists are not printed whole as well. */
	assert_null(strstr(text, "aes128-cbc,3des-cbc ->"));
	/* Compliant items only with --verbose. */
	assert_null(strstr(text, "x11forwarding"));
	/* The services row stands apart from the layers' table. */
	assert_non_null(strstr(text, "\nSERVICES (OpenRC services the agent relies on; not a policy"
				     " layer)\nservices   compliant"));
	assert_true(strstr(text, "SERVICES") > strstr(text, "\nsshd "));
	free(text);
	text = render(&fs, REPORT_STATUS, &verbose);
	assert_non_null(strstr(text, "  compliant   sshd:x11forwarding: no -> no\n"));
	free(text);
	findings_free(&fs);
}

static void test_env_is_host(void **unused)
{
	struct jefe_env env;
	char dir[] = "/tmp/jefe-env.XXXXXX", path[256];
	int fd;

	(void)unused;
	fd = open("/", O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(jefe_env_init(&env, "/", fd, NULL), 0);
	assert_true(env.is_host);
	close(fd);
	assert_non_null(mkdtemp(dir));
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(jefe_env_init(&env, dir, fd, "/etc/jefe"), 0);
	assert_false(env.is_host);
	assert_string_equal(env.policy_dir, "/etc/jefe");
	close(fd);
	rmdir(dir);
	/* The socket path: one join, below the root. */
	assert_int_equal(jefe_socket_path(path, sizeof(path), "/"), 0);
	assert_string_equal(path, IPC_SOCKET_PATH);
	assert_int_equal(jefe_socket_path(path, sizeof(path), "/tmp/r"), 0);
	assert_string_equal(path, "/tmp/r" IPC_SOCKET_PATH);
}

/* The one reader of the root's passwd and group files. */
static void test_accounts(void **unused)
{
	char dir[] = "/tmp/jefe-acct.XXXXXX", path[128];
	struct rootfs_accounts pw, grp;
	const struct rootfs_account *a;
	FILE *f;
	int fd;

	(void)unused;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/etc", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/etc/passwd", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("root:x:0:0:root:/root:/bin/sh\n\nbroken:x:notanumber:0::/:/bin/sh\n"
	      "short:x:12:34\nadmin:x:1000:1000:Admin:/home/admin:/bin/sh\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/etc/group", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("root:x:0:\nwheel:x:10:admin,other\nnomembers:x:11\n", f);
	fclose(f);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);

	assert_int_equal(rootfs_accounts_read(fd, ROOTFS_PASSWD, &pw), 0);
	assert_int_equal(pw.n, 3);	/* the broken line is no account */
	a = rootfs_account_find(&pw, "admin");
	assert_non_null(a);
	assert_int_equal(a->id, 1000);
	assert_int_equal(a->gid, 1000);
	assert_string_equal(a->home, "/home/admin");
	assert_string_equal(a->shell, "/bin/sh");
	a = rootfs_account_find(&pw, "short");
	assert_non_null(a);
	assert_int_equal(a->id, 12);
	assert_null(a->shell);
	assert_null(rootfs_account_find(&pw, "broken"));
	assert_null(rootfs_account_find(&pw, "roo"));
	rootfs_accounts_free(&pw);

	assert_int_equal(rootfs_accounts_read(fd, ROOTFS_GROUP, &grp), 0);
	assert_int_equal(grp.n, 3);
	a = rootfs_account_find(&grp, "wheel");
	assert_non_null(a);
	assert_int_equal(a->gid, 10);
	assert_true(rootfs_account_is_member(a, "admin"));
	assert_true(rootfs_account_is_member(a, "other"));
	assert_false(rootfs_account_is_member(a, "adm"));
	a = rootfs_account_find(&grp, "nomembers");
	assert_non_null(a);
	assert_string_equal(a->members, "");
	assert_false(rootfs_account_is_member(a, "admin"));
	rootfs_accounts_free(&grp);
	close(fd);

	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layer_mask_parse),
		cmocka_unit_test(test_layer_mask_names),
		cmocka_unit_test(test_layer_set_unloaded),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_diff_unified),
		cmocka_unit_test(test_text_lists_and_services),
		cmocka_unit_test(test_env_is_host),
		cmocka_unit_test(test_accounts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
