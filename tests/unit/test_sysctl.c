/* SPDX-License-Identifier: MIT */
/*
 * The sysctl layer against a temporary root: /proc/sys is a plain tree of
 * files there, so read-compare-write-readback, rollback, persistence and
 * dry runs are all observable on disk.  The real kernel is exercised by
 * tests/netns (net.*) and tests/vm (kernel.*, lockdown).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "errors.h"
#include "layer.h"
#include "layers.h"
#include "policy.h"

struct fixture {
	char *root;
	struct jefe_env env;
	struct policy_errors errs;
	struct policy *policy;
	void *layer;
	struct findings out;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->root = tu_mkdtemp();
	f->env.root = f->root;
	f->env.root_fd = open(f->root, O_RDONLY | O_DIRECTORY);
	f->env.policy_dir = TU_POLICY_DIR;
	tu_write(f->root, "proc/sys/kernel/kptr_restrict", "0\n");
	tu_write(f->root, "proc/sys/kernel/dmesg_restrict", "1\n");
	tu_write(f->root, "proc/sys/net/ipv4/ip_local_port_range", "32768\t60999\n");
	tu_write(f->root, "proc/sys/net/ipv4/conf/eth0.100/rp_filter", "0\n");
	tu_write(f->root, "sys/kernel/security/lockdown", "none [integrity] confidentiality\n");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->layer)
		layer_sysctl_ops.free(f->layer);
	findings_free(&f->out);
	policy_free(f->policy);
	policy_errors_free(&f->errs);
	close(f->env.root_fd);
	tu_rmtree(f->root);
	free(f->root);
	free(f);
	return 0;
}

static int load(struct fixture *f, const char *sysctl_section)
{
	char content[4096];
	int err;

	snprintf(content, sizeof(content), "[sysctl]\n%s", sysctl_section);
	tu_write(f->root, "etc/jefe/jefe.conf", content);
	err = policy_load(&f->policy, f->env.root_fd, "/", TU_MAIN_FILE, &f->errs);
	if (err)
		return err;
	return layer_load(&layer_sysctl_ops, &f->layer, &f->env, f->policy, &f->errs);
}

static const struct finding *find(const struct fixture *f, const char *item)
{
	return tu_finding(&f->out, item);
}

static bool has_error(const struct fixture *f, const char *msg)
{
	return tu_error_is(&f->errs, msg);
}

/* Core dumps: a pipe to /bin/false, written and read back as is, CIS 1.5.3. */
static void test_core_pattern(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;

	tu_write(f->root, "proc/sys/kernel/core_pattern", "core\n");
	tu_write(f->root, "proc/sys/fs/suid_dumpable", "2\n");
	assert_int_equal(load(f, "kernel.core_pattern = |/bin/false\nfs.suid_dumpable = 0\npersist = no\n"), 0);
	assert_int_equal(layer_sysctl_ops.apply(f->layer, false, &f->out), 0);
	x = find(f, "kernel.core_pattern");
	assert_int_equal(x->action, FINDING_ACTION_REPAIRED);
	assert_string_equal(x->actual, "core");
	assert_int_equal(x->refs.n, 1);
	assert_string_equal(x->refs.v[0].benchmark, "CIS Debian Linux 12");
	assert_string_equal(x->refs.v[0].id, "1.5.3");
	assert_string_equal(find(f, "fs.suid_dumpable")->refs.v[0].id, "1.5.3");
	assert_int_equal(strncmp(tu_read(f->root, "proc/sys/kernel/core_pattern"), "|/bin/false", 11), 0);
}

static void test_check_states(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;

	assert_int_equal(load(f,
		"required = kernel.gone_required\n"
		"optional = kernel.gone kernel.gone_required\n"
		"kernel.kptr_restrict = 2\n"
		"kernel.dmesg_restrict = 1\n"
		"kernel.gone = 1\n"
		"kernel.gone_required = 1\n"
		"net.ipv4.ip_local_port_range = 32768 60999\n"
		"persist = no\n"), 0);
	assert_int_equal(layer_sysctl_ops.check(f->layer, &f->out), 0);
	assert_int_equal(f->out.n, 5);

	x = find(f, "kernel.kptr_restrict");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_string_equal(x->expected, "2");
	assert_string_equal(x->actual, "0");
	/* KSPP names a setting by the key itself, and has no versions. */
	assert_int_equal(x->refs.n, 1);
	assert_string_equal(x->refs.v[0].benchmark, "KSPP");
	assert_null(x->refs.v[0].version);
	assert_string_equal(x->refs.v[0].id, "kernel.kptr_restrict");
	assert_int_equal(find(f, "kernel.dmesg_restrict")->state, FINDING_COMPLIANT);
	assert_int_equal(find(f, "kernel.gone")->state, FINDING_UNSUPPORTED);
	assert_int_equal(find(f, "kernel.gone_required")->state, FINDING_ERROR);
	assert_string_equal(find(f, "kernel.gone_required")->note,
			    "not present on this kernel (required by the policy)");
	/* Tabs and spaces in multi-value keys compare equal. */
	assert_int_equal(find(f, "net.ipv4.ip_local_port_range")->state, FINDING_COMPLIANT);
	/* check never writes. */
	assert_string_equal(tu_read(f->root, "proc/sys/kernel/kptr_restrict"), "0\n");
}

static void test_apply_writes_reads_back_and_persists(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f,
		"optional = kernel.gone\n"
		"kernel.kptr_restrict = 2\n"
		"kernel.dmesg_restrict = 1\n"
		"kernel.gone = 1\n"
		"net/ipv4/conf/eth0.100/rp_filter = 1\n"), 0);
	assert_int_equal(layer_sysctl_ops.apply(f->layer, false, &f->out), 0);
	assert_int_equal(find(f, "kernel.kptr_restrict")->action, FINDING_ACTION_REPAIRED);
	assert_int_equal(find(f, "kernel.dmesg_restrict")->action, FINDING_ACTION_NONE);
	assert_int_equal(find(f, "net/ipv4/conf/eth0.100/rp_filter")->action, FINDING_ACTION_REPAIRED);
	assert_string_equal(tu_read(f->root, "proc/sys/kernel/kptr_restrict"), "2");
	/* A VLAN interface with a dot in its name, reached through the slash form. */
	assert_string_equal(tu_read(f->root, "proc/sys/net/ipv4/conf/eth0.100/rp_filter"), "1");
	assert_int_equal(find(f, "persist:/etc/sysctl.d/90-jefe.conf")->action, FINDING_ACTION_REPAIRED);
	/* Only keys this kernel has: a missing one would fail `sysctl -p` at boot. */
	assert_string_equal(tu_read(f->root, "etc/sysctl.d/90-jefe.conf"),
		"# Written by jefe (JefeLinux agent) from its policy; edits are drift.\n"
		"# Applied at boot by sysctl before the agent starts.\n"
		"kernel.kptr_restrict = 2\n"
		"kernel.dmesg_restrict = 1\n"
		"net/ipv4/conf/eth0.100/rp_filter = 1\n");

	/* Afterwards everything checks compliant. */
	findings_reset(&f->out);
	assert_int_equal(layer_sysctl_ops.check(f->layer, &f->out), 0);
	for (size_t i = 0; i < f->out.n; i++)
		assert_true(f->out.v[i].state != FINDING_DRIFT);

	/* An edit of the persisted file is drift. */
	tu_write(f->root, "etc/sysctl.d/90-jefe.conf", "kernel.kptr_restrict = 0\n");
	findings_reset(&f->out);
	assert_int_equal(layer_sysctl_ops.check(f->layer, &f->out), 0);
	assert_int_equal(find(f, "persist:/etc/sysctl.d/90-jefe.conf")->state, FINDING_DRIFT);
}

static void test_dry_run_changes_nothing(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "kernel.kptr_restrict = 2\n"), 0);
	assert_int_equal(layer_sysctl_ops.apply(f->layer, true, &f->out), 0);
	assert_int_equal(find(f, "kernel.kptr_restrict")->action, FINDING_ACTION_WOULD_REPAIR);
	assert_int_equal(find(f, "persist:/etc/sysctl.d/90-jefe.conf")->action,
			 FINDING_ACTION_WOULD_REPAIR);
	assert_string_equal(tu_read(f->root, "proc/sys/kernel/kptr_restrict"), "0\n");
	assert_string_equal(tu_read(f->root, "etc/sysctl.d/90-jefe.conf"), "");
}

/*
 * A symlink in the tree that points outside it is resolved inside the
 * root (RESOLVE_IN_ROOT), never followed out: the file it names outside
 * stays untouched.  (Rollback of a refused value needs a kernel that
 * refuses: tests/netns/sysctl-netns.sh.)
 */
static void test_symlink_out_of_root_not_followed(void **state)
{
	struct fixture *f = *state;
	char *outside = tu_mkdtemp(), link[4096], target[4096];

	tu_write(outside, "value", "0\n");
	snprintf(target, sizeof(target), "%s/value", outside);
	snprintf(link, sizeof(link), "%s/proc/sys/kernel/escape", f->root);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(load(f, "kernel.kptr_restrict = 2\nkernel.escape = 1\npersist = no\n"), 0);
	assert_int_equal(layer_sysctl_ops.apply(f->layer, false, &f->out), 0);
	assert_int_equal(find(f, "kernel.escape")->state, FINDING_UNSUPPORTED);
	assert_int_equal(find(f, "kernel.kptr_restrict")->action, FINDING_ACTION_REPAIRED);
	assert_string_equal(tu_read(outside, "value"), "0\n");
	tu_rmtree(outside);
	free(outside);
}

static void test_lockdown(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;

	assert_int_equal(load(f, "kernel.lockdown = confidentiality\npersist = no\n"), 0);
	assert_int_equal(layer_sysctl_ops.check(f->layer, &f->out), 0);
	x = find(f, "kernel.lockdown");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_string_equal(x->actual, "integrity");

	/*
	 * A plain file does not behave like securityfs: after the write it
	 * no longer shows a bracketed level, which is how a kernel that
	 * refuses the raise looks to us.  The layer says so once.
	 */
	findings_reset(&f->out);
	assert_int_equal(layer_sysctl_ops.apply(f->layer, false, &f->out), 0);
	x = find(f, "kernel.lockdown");
	assert_int_equal(x->action, FINDING_ACTION_CANNOT_FIX);
	assert_non_null(strstr(x->note, "lockdown="));
}

static void test_lockdown_stricter_is_compliant(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "kernel.lockdown = none\npersist = no\n"), 0);
	assert_int_equal(layer_sysctl_ops.check(f->layer, &f->out), 0);
	assert_int_equal(find(f, "kernel.lockdown")->state, FINDING_COMPLIANT);
}

static void test_bad_policy(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f,
		"kernel.lockdown = maximum\n"
		"colour = blue\n"
		"kernel.x = 1=2\n"
		"required = kernel.nothere\n"
		"persist = perhaps\n"), -JEFE_EPOLICY);
	assert_null(f->layer);
	assert_true(has_error(f, "/etc/jefe/jefe.conf line 2: invalid value 'maximum' for kernel.lockdown: "
			      "none, integrity or confidentiality"));
	assert_true(has_error(f, "/etc/jefe/jefe.conf line 3: unknown key 'colour' in [sysctl]"));
	assert_true(has_error(f, "/etc/jefe/jefe.conf line 4: invalid value '1=2' for kernel.x"));
	assert_true(has_error(f, "/etc/jefe/jefe.conf line 5: required key 'kernel.nothere' has no value "
			      "in [sysctl]"));
	assert_true(has_error(f, "/etc/jefe/jefe.conf line 6: invalid value 'perhaps' for persist: "
			      "expected yes or no (also write the values to persist_file, so the boot "
			      "applies them before the agent)"));
}

static void test_shipped_policy_loads(void **state)
{
	struct fixture *f = *state;
	char path[4096];
	const char *srcdir = getenv("abs_top_srcdir");
	char *files[2];
	/* An image tree: no /proc/sys below the root, no kernel to ask. */
	char *image = tu_mkdtemp();
	struct jefe_env env = { .root = "/", .root_fd = open(image, O_RDONLY | O_DIRECTORY), .policy_dir = TU_POLICY_DIR };
	size_t keys = 0, it = 0;

	assert_non_null(srcdir);
	snprintf(path, sizeof(path), "%s/policies/policy.d/10-sysctl.conf", srcdir);
	files[0] = path;
	assert_int_equal(policy_load_files(&f->policy, files, 1, &f->errs), 0);
	assert_int_equal(layer_load(&layer_sysctl_ops, &f->layer, &env, f->policy, &f->errs), 0);
	while (policy_next(f->policy, "sysctl", &it))
		keys++;
	/* The eight keys of the design plus the hardening references: at least 40. */
	assert_true(keys >= 40);
	assert_string_equal(policy_get(f->policy, "sysctl", "kernel.lockdown")->value, "confidentiality");
	assert_string_equal(policy_get(f->policy, "sysctl", "net.ipv4.conf.all.rp_filter")->value, "1");
	close(env.root_fd);
	tu_rmtree(image);
	free(image);
}

/*
 * The names are the target kernel's: /proc/sys below the root.  A typo is
 * an error with the closest name beside it, unless [sysctl] optional lists it.
 */
static void test_unknown_name_suggests(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "kernel.kptr_restict = 2\n"
				 "kernal.dmesg_restrict = 1\n"
				 "kernel.nothing_like_it = 1\n"), -JEFE_EPOLICY);
	assert_null(f->layer);
	assert_int_equal(f->errs.n, 3);
	assert_true(has_error(f, "/etc/jefe/jefe.conf line 2: unknown sysctl 'kernel.kptr_restict': "
			      "this kernel has no /proc/sys/kernel/kptr_restict (did you mean "
			      "'kernel.kptr_restrict'? a name it may lack goes in [sysctl] optional)"));
	assert_true(has_error(f, "/etc/jefe/jefe.conf line 3: unknown sysctl 'kernal.dmesg_restrict': "
			      "this kernel has no /proc/sys/kernal/dmesg_restrict (did you mean "
			      "'kernel.dmesg_restrict'? a name it may lack goes in [sysctl] optional)"));
	assert_true(has_error(f, "/etc/jefe/jefe.conf line 4: unknown sysctl 'kernel.nothing_like_it': "
			      "this kernel has no /proc/sys/kernel/nothing_like_it (a name it may "
			      "lack goes in [sysctl] optional)"));
}

static void test_optional_name_is_unsupported(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "optional = kernel.unprivileged_userns_clone\n"
				 "kernel.unprivileged_userns_clone = 0\n"), 0);
	assert_int_equal(layer_sysctl_ops.check(f->layer, &f->out), 0);
	assert_int_equal(find(f, "kernel.unprivileged_userns_clone")->state, FINDING_UNSUPPORTED);
}

/* A typo in optional would make a name silently optional: it names a key of the section. */
static void test_optional_names_a_key(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "optional = kernel.kptr_restict\nkernel.kptr_restrict = 2\n"),
			 -JEFE_EPOLICY);
	assert_int_equal(f->errs.n, 1);
	assert_string_equal(f->errs.msgs[0], "/etc/jefe/jefe.conf line 2: optional key "
			    "'kernel.kptr_restict' has no value in [sysctl]");
}

/* The kernel's current value gives the type: integers stay integers. */
static void test_value_type_mismatch(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "kernel.kptr_restrict = banana\n"
				 "kernel.dmesg_restrict = two\n"), -JEFE_EPOLICY);
	assert_null(f->layer);
	assert_int_equal(f->errs.n, 2);
	assert_string_equal(f->errs.msgs[0], "/etc/jefe/jefe.conf line 2: invalid value 'banana' for "
			    "kernel.kptr_restrict: 'banana' is not an integer");
	assert_string_equal(f->errs.msgs[1], "/etc/jefe/jefe.conf line 3: invalid value 'two' for "
			    "kernel.dmesg_restrict: 'two' is not an integer");
}

/* A vector keeps its width: ip_local_port_range takes two integers. */
static void test_vector_width(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "net.ipv4.ip_local_port_range = 1024\n"), -JEFE_EPOLICY);
	assert_true(has_error(f, "/etc/jefe/jefe.conf line 2: invalid value '1024' for "
			      "net.ipv4.ip_local_port_range: this kernel's value has 2 integers "
			      "('32768 60999'), the policy gives 1"));
	policy_free(f->policy);
	f->policy = NULL;
	policy_errors_free(&f->errs);
	assert_int_equal(load(f, "net.ipv4.ip_local_port_range = 1024\t65000\n"), 0);
	assert_int_equal(f->errs.n, 0);
}

/* A text value (tcp_congestion_control) takes any word. */
static void test_text_value_any_word(void **state)
{
	struct fixture *f = *state;

	tu_write(f->root, "proc/sys/net/ipv4/tcp_congestion_control", "cubic\n");
	assert_int_equal(load(f, "net.ipv4.tcp_congestion_control = bbr\n"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_check_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_name_suggests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_optional_name_is_unsupported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_optional_names_a_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_value_type_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vector_width, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_value_any_word, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core_pattern, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_writes_reads_back_and_persists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_out_of_root_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lockdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lockdown_stricter_is_compliant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shipped_policy_loads, setup, teardown),
	};

	return cmocka_run_group_tests_name("sysctl", tests, NULL, NULL);
}
