/* SPDX-License-Identifier: MIT */
/*
 * The files layer against a temporary root: modes, owners, set-id and
 * world-writable bits are real on disk, the mount table is a plain file
 * at proc/self/mounts, and the baseline is written below the root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <unistd.h>

#include "testutil.h"
#include "errors.h"
#include "layer.h"
#include "files_cis.h"
#include "layer_files.h"
#include "layers.h"
#include "policy.h"
#include "rootfs.h"

#define HELLO_SHA256 "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"

struct fixture {
	char *root;
	char *outside;		/* a directory beside the root: must never change */
	struct jefe_env env;
	struct policy_errors errs;
	struct policy *policy;
	void *layer;
	struct findings out;
};

static void path_of(const struct fixture *f, const char *rel, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", f->root, rel);
}

static void mode_set(const struct fixture *f, const char *rel, mode_t mode)
{
	char p[4096];

	path_of(f, rel, p, sizeof(p));
	assert_int_equal(chmod(p, mode), 0);
}

static mode_t mode_of(const struct fixture *f, const char *rel)
{
	char p[4096];
	struct stat sb;

	path_of(f, rel, p, sizeof(p));
	assert_int_equal(lstat(p, &sb), 0);
	return sb.st_mode & 07777;
}

static bool exists(const struct fixture *f, const char *rel)
{
	char p[4096];

	path_of(f, rel, p, sizeof(p));
	return access(p, F_OK) == 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char line[256];

	f->root = tu_mkdtemp();
	f->outside = tu_mkdtemp();
	f->env.root = f->root;
	f->env.root_fd = open(f->root, O_RDONLY | O_DIRECTORY);
	f->env.policy_dir = TU_POLICY_DIR;
	/* Names resolve through the root's own databases; "tester" is us. */
	snprintf(line, sizeof(line), "root:x:0:0:root:/root:/bin/sh\ntester:x:%u:%u::/:/bin/sh\n",
		 (unsigned int)getuid(), (unsigned int)getgid());
	tu_write(f->root, "etc/passwd", line);
	snprintf(line, sizeof(line), "root:x:0:\nshadow:x:42:\ntesters:x:%u:\n",
		 (unsigned int)getgid());
	tu_write(f->root, "etc/group", line);
	tu_write(f->root, "etc/shadow", "root:*:19000:0:99999:7:::\n");
	mode_set(f, "etc/shadow", 0640);
	tu_write(f->root, "proc/self/mounts",
		 "/dev/sda1 / ext4 rw,relatime 0 0\n"
		 "tmpfs /tmp tmpfs rw,nosuid,nodev 0 0\n"
		 "tmpfs /dev/shm tmpfs rw,nosuid,nodev,noexec 0 0\n"
		 "tmpfs /mnt/my\\040dir tmpfs rw 0 0\n");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->layer)
		layer_files_ops.free(f->layer);
	findings_free(&f->out);
	policy_free(f->policy);
	policy_errors_free(&f->errs);
	close(f->env.root_fd);
	tu_rmtree(f->root);
	tu_rmtree(f->outside);
	free(f->root);
	free(f->outside);
	free(f);
	return 0;
}

/* Walks and mounts off unless a test asks for them: each test looks at one thing. */
static int load(struct fixture *f, const char *files, const char *perms)
{
	char content[8192];
	int err;

	snprintf(content, sizeof(content), "[files]\n%s%s%s%s\n[files.perms]\n%s",
		 strstr(files, "suid_dirs =") ? "" : "suid_dirs =\n",
		 strstr(files, "world_writable_dirs =") ? "" : "world_writable_dirs =\n",
		 strstr(files, "tmp_mounts =") ? "" : "tmp_mounts =\n",
		 files, perms);
	tu_write(f->root, "etc/jefe/jefe.conf", content);
	err = policy_load(&f->policy, f->env.root_fd, "/", TU_MAIN_FILE, &f->errs);
	if (err)
		return err;
	/* The core's check of the sections, as layer_set_load() makes it. */
	err = layer_policy_check_sections(f->policy, &f->errs);
	if (err)
		return err;
	return layer_load(&layer_files_ops, &f->layer, &f->env, f->policy, &f->errs);
}

static const struct finding *find(const struct fixture *f, const char *item)
{
	return tu_finding(&f->out, item);
}

static bool found(const struct fixture *f, const char *item)
{
	for (size_t i = 0; i < f->out.n; i++)
		if (strcmp(f->out.v[i].item, item) == 0)
			return true;
	return false;
}

static bool has_error(const struct fixture *f, const char *needle)
{
	return tu_error_contains(&f->errs, needle);
}

static void check(struct fixture *f)
{
	findings_reset(&f->out);
	assert_int_equal(layer_files_ops.check(f->layer, &f->out), 0);
}

static void apply(struct fixture *f, bool dry_run)
{
	findings_reset(&f->out);
	assert_int_equal(layer_files_ops.apply(f->layer, dry_run, &f->out), 0);
}

static void test_perm_parse(void **state)
{
	struct files_perm_spec s;

	(void)state;
	assert_int_equal(files_perm_parse("0640 root shadow", &s), 0);
	assert_int_equal(s.max_mode, 0640);
	assert_string_equal(s.owner, "root");
	assert_string_equal(s.group, "shadow");
	assert_int_equal(files_perm_parse("600", &s), 0);
	assert_int_equal(s.max_mode, 0600);
	assert_string_equal(s.owner, "");
	assert_int_equal(files_perm_parse("0730 root -", &s), 0);
	assert_string_equal(s.group, "");
	assert_int_equal(files_perm_parse("0999", &s), -EINVAL);
	assert_int_equal(files_perm_parse("17777", &s), -EINVAL);
	assert_int_equal(files_perm_parse("0640 ro/ot", &s), -EINVAL);
	assert_int_equal(files_perm_parse("0640 a b c", &s), -EINVAL);
	assert_int_equal(files_perm_parse("", &s), -EINVAL);
}

static void test_policy_errors(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "colour = blue\nsuid_remove = perhaps\nbaseline = etc/passwd\n"
				 "tmp_mount_options = nodev noatime\n",
			      "/etc/shadow = 0649 root\n"
			      "/etc/*/shadow = 0640\n"
			      "relative = 0640\n"
			      "/etc/ok = -\n"
			      "[files.bogus]\nx = 1\n"), -JEFE_EPOLICY);
	assert_null(f->layer);
	assert_true(has_error(f, "line 5: unknown key 'colour' in [files]"));
	assert_true(has_error(f, "line 6: invalid value 'perhaps' for suid_remove"));
	assert_true(has_error(f, "line 7: 'etc/passwd' is not an absolute path"));
	assert_true(has_error(f, "line 8: unknown mount option 'noatime'"));
	assert_true(has_error(f, "line 11: invalid value '0649 root' for /etc/shadow"));
	assert_true(has_error(f, "line 12: '/etc/*/shadow' is not an absolute path (a pattern only in its last component)"));
	assert_true(has_error(f, "line 13: 'relative' is not an absolute path"));
	assert_true(has_error(f, "line 15: unknown section [files.bogus]"));
	assert_int_equal(f->errs.n, 8);
}

static void test_id_lookup(void **state)
{
	struct fixture *f = *state;
	unsigned int id = 99;

	assert_int_equal(files_id_lookup(f->env.root_fd, "/etc/group", "shadow", &id), 0);
	assert_int_equal(id, 42);
	assert_int_equal(files_id_lookup(f->env.root_fd, "/etc/passwd", "tester", &id), 0);
	assert_int_equal(id, getuid());
	assert_int_equal(files_id_lookup(f->env.root_fd, "/etc/passwd", "1234", &id), 0);
	assert_int_equal(id, 1234);
	/* "roo" is a prefix of root, not a user. */
	assert_int_equal(files_id_lookup(f->env.root_fd, "/etc/passwd", "roo", &id), -ENOENT);
	assert_int_equal(files_id_lookup(f->env.root_fd, "/etc/passwd", "nobody", &id), -ENOENT);
}

static void test_mode_drift_and_repair(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;

	assert_int_equal(load(f, "", "/etc/shadow = 0640 tester testers\n/etc/absent = 0600\n"), 0);
	check(f);
	assert_int_equal(find(f, "perm:/etc/shadow")->state, FINDING_COMPLIANT);
	assert_int_equal(find(f, "perm:/etc/absent")->state, FINDING_UNSUPPORTED);

	/* The tamper of the issue: chmod 666 /etc/shadow. */
	mode_set(f, "etc/shadow", 0666);
	check(f);
	x = find(f, "perm:/etc/shadow");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_non_null(strstr(x->actual, "0666"));
	assert_non_null(strstr(x->expected, "at most 0640"));
	assert_int_equal(mode_of(f, "etc/shadow"), 0666);	/* check is read-only */

	apply(f, true);
	assert_int_equal(find(f, "perm:/etc/shadow")->action, FINDING_ACTION_WOULD_REPAIR);
	assert_int_equal(mode_of(f, "etc/shadow"), 0666);

	apply(f, false);
	assert_int_equal(find(f, "perm:/etc/shadow")->action, FINDING_ACTION_REPAIRED);
	assert_int_equal(mode_of(f, "etc/shadow"), 0640);
	check(f);
	assert_int_equal(find(f, "perm:/etc/shadow")->state, FINDING_COMPLIANT);

	/* Stricter than the policy is fine and left alone. */
	mode_set(f, "etc/shadow", 0600);
	apply(f, false);
	assert_int_equal(find(f, "perm:/etc/shadow")->state, FINDING_COMPLIANT);
	assert_int_equal(mode_of(f, "etc/shadow"), 0600);

	/* A set-uid bit beyond the maximum is removed too. */
	mode_set(f, "etc/shadow", 04640);
	apply(f, false);
	assert_int_equal(mode_of(f, "etc/shadow"), 0640);
}

static void test_owner_repair(void **state)
{
	struct fixture *f = *state;
	char p[4096];
	struct stat sb;

	/* chown to another user needs root; CI runs the tests as root. */
	assert_int_equal(getuid(), 0);
	assert_int_equal(load(f, "", "/etc/shadow = 0640 root shadow\n"), 0);
	path_of(f, "etc/shadow", p, sizeof(p));
	assert_int_equal(chown(p, 1234, 1234), 0);
	check(f);
	assert_int_equal(find(f, "perm:/etc/shadow")->state, FINDING_DRIFT);
	assert_non_null(strstr(find(f, "perm:/etc/shadow")->actual, "1234:1234"));
	apply(f, false);
	assert_int_equal(find(f, "perm:/etc/shadow")->action, FINDING_ACTION_REPAIRED);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_uid, 0);
	assert_int_equal(sb.st_gid, 42);
	assert_int_equal(sb.st_mode & 07777, 0640);
}

static void test_symlinks_never_followed(void **state)
{
	struct fixture *f = *state;
	char target[4096], link[4096];
	struct stat sb;

	/* A decoy beside the root: following any link out of the root would chmod it. */
	tu_write(f->outside, "ssh/sshd_config", "decoy\n");
	tu_write(f->outside, "gshadow", "decoy\n");
	snprintf(target, sizeof(target), "%s/ssh/sshd_config", f->outside);
	assert_int_equal(chmod(target, 0666), 0);
	snprintf(target, sizeof(target), "%s/gshadow", f->outside);
	assert_int_equal(chmod(target, 0666), 0);

	/* etc/ssh -> <outside>/ssh (a directory link), etc/gshadow -> <outside>/gshadow. */
	snprintf(target, sizeof(target), "%s/ssh", f->outside);
	path_of(f, "etc/ssh", link, sizeof(link));
	assert_int_equal(symlink(target, link), 0);
	snprintf(target, sizeof(target), "%s/gshadow", f->outside);
	path_of(f, "etc/gshadow", link, sizeof(link));
	assert_int_equal(symlink(target, link), 0);

	assert_int_equal(load(f, "", "/etc/ssh/sshd_config = 0600\n/etc/gshadow = 0640\n"), 0);
	apply(f, false);
	/* Resolved inside the root, the directory link leads nowhere (openat2),
	 * or is refused (the component-wise fallback without openat2). */
	assert_true(find(f, "perm:/etc/ssh/sshd_config")->state == FINDING_UNSUPPORTED ||
		    find(f, "perm:/etc/ssh/sshd_config")->state == FINDING_ERROR);
	assert_int_equal(find(f, "perm:/etc/gshadow")->state, FINDING_DRIFT);
	assert_string_equal(find(f, "perm:/etc/gshadow")->actual, "symlink");
	assert_int_equal(find(f, "perm:/etc/gshadow")->action, FINDING_ACTION_CANNOT_FIX);

	snprintf(target, sizeof(target), "%s/ssh/sshd_config", f->outside);
	assert_int_equal(stat(target, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0666);
	snprintf(target, sizeof(target), "%s/gshadow", f->outside);
	assert_int_equal(stat(target, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0666);
}

static void test_glob_host_keys(void **state)
{
	struct fixture *f = *state;

	tu_write(f->root, "etc/ssh/ssh_host_ed25519_key", "k\n");
	tu_write(f->root, "etc/ssh/ssh_host_ed25519_key.pub", "p\n");
	tu_write(f->root, "etc/ssh/ssh_host_rsa_key", "k\n");
	mode_set(f, "etc/ssh/ssh_host_ed25519_key", 0644);
	mode_set(f, "etc/ssh/ssh_host_rsa_key", 0600);
	mode_set(f, "etc/ssh/ssh_host_ed25519_key.pub", 0666);
	assert_int_equal(load(f, "", "/etc/ssh/ssh_host_*_key = 0600\n"
				     "/etc/ssh/ssh_host_*_key.pub = 0644\n"), 0);
	check(f);
	assert_int_equal(find(f, "perm:/etc/ssh/ssh_host_ed25519_key")->state, FINDING_DRIFT);
	assert_int_equal(find(f, "perm:/etc/ssh/ssh_host_rsa_key")->state, FINDING_COMPLIANT);
	assert_int_equal(find(f, "perm:/etc/ssh/ssh_host_ed25519_key.pub")->state, FINDING_DRIFT);
	apply(f, false);
	assert_int_equal(mode_of(f, "etc/ssh/ssh_host_ed25519_key"), 0600);
	assert_int_equal(mode_of(f, "etc/ssh/ssh_host_ed25519_key.pub"), 0644);
}

static void test_suid_allowlist(void **state)
{
	struct fixture *f = *state;
	struct strv allow = { 0 };
	const struct finding *x;

	assert_int_equal(strv_split(&allow, "/usr/bin/passwd /usr/lib/*/ssh-keysign", " "), 0);
	assert_true(files_suid_allowed(&allow, "/usr/bin/passwd"));
	assert_true(files_suid_allowed(&allow, "/usr/lib/openssh/ssh-keysign"));
	assert_false(files_suid_allowed(&allow, "/usr/lib/a/b/ssh-keysign"));
	assert_false(files_suid_allowed(&allow, "/usr/bin/passwd2"));
	strv_free(&allow);

	tu_write(f->root, "usr/bin/passwd", "x");
	tu_write(f->root, "usr/bin/evil", "x");
	tu_write(f->root, "usr/bin/sub/dir/deep-sgid", "x");
	tu_write(f->root, "usr/bin/locking", "x");
	tu_write(f->root, "usr/bin/plain", "x");
	mode_set(f, "usr/bin/passwd", 04755);
	mode_set(f, "usr/bin/evil", 04755);
	mode_set(f, "usr/bin/sub/dir/deep-sgid", 02755);
	mode_set(f, "usr/bin/locking", 02644);	/* mandatory locking, not set-gid */
	mode_set(f, "usr/bin/plain", 0755);

	assert_int_equal(load(f, "suid_dirs = /usr/bin /usr/missing\nsuid_allowlist = /usr/bin/passwd\n", ""), 0);
	check(f);
	x = find(f, "suid:/usr/bin/evil");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_string_equal(x->actual, "4755");
	assert_int_equal(find(f, "suid:/usr/bin/sub/dir/deep-sgid")->state, FINDING_DRIFT);
	assert_false(found(f, "suid:/usr/bin/passwd"));
	assert_false(found(f, "suid:/usr/bin/locking"));
	assert_false(found(f, "suid:/usr/bin/plain"));
	assert_false(found(f, "suid"));	/* the summary is only for a clean walk */

	/* suid_remove = no: reported, never touched. */
	apply(f, false);
	assert_int_equal(find(f, "suid:/usr/bin/evil")->action, FINDING_ACTION_CANNOT_FIX);
	assert_int_equal(mode_of(f, "usr/bin/evil"), 04755);
	layer_files_ops.free(f->layer);
	f->layer = NULL;
	policy_free(f->policy);
	f->policy = NULL;

	assert_int_equal(load(f, "suid_dirs = /usr/bin\nsuid_allowlist = /usr/bin/passwd\nsuid_remove = yes\n", ""), 0);
	apply(f, false);
	assert_int_equal(find(f, "suid:/usr/bin/evil")->action, FINDING_ACTION_REPAIRED);
	assert_int_equal(mode_of(f, "usr/bin/evil"), 0755);
	assert_int_equal(mode_of(f, "usr/bin/sub/dir/deep-sgid"), 0755);
	assert_int_equal(mode_of(f, "usr/bin/passwd"), 04755);
	assert_int_equal(mode_of(f, "usr/bin/locking"), 02644);
	check(f);
	x = find(f, "suid");
	assert_int_equal(x->state, FINDING_COMPLIANT);
	assert_string_equal(x->actual, "1 set-id files, all allowlisted");
}

static void test_world_writable(void **state)
{
	struct fixture *f = *state;
	char p[4096];

	tu_write(f->root, "etc/app/conf", "x");
	tu_write(f->root, "etc/app/ok", "x");
	tu_write(f->root, "etc/sticky/file", "x");
	mode_set(f, "etc/app/conf", 0666);
	mode_set(f, "etc/app/ok", 0644);
	mode_set(f, "etc/app", 0777);
	mode_set(f, "etc/sticky", 01777);
	mode_set(f, "etc/sticky/file", 0644);
	/* A symlink is always 0777: never a finding. */
	path_of(f, "etc/link", p, sizeof(p));
	assert_int_equal(symlink("/etc/app/conf", p), 0);

	assert_int_equal(load(f, "world_writable_dirs = /etc\n", ""), 0);
	check(f);
	assert_int_equal(find(f, "world-writable:/etc/app/conf")->state, FINDING_DRIFT);
	assert_int_equal(find(f, "world-writable-dir:/etc/app")->state, FINDING_DRIFT);
	assert_false(found(f, "world-writable-dir:/etc/sticky"));
	assert_false(found(f, "world-writable:/etc/link"));
	assert_false(found(f, "world-writable:/etc/app/ok"));

	apply(f, false);
	assert_int_equal(find(f, "world-writable:/etc/app/conf")->action, FINDING_ACTION_REPAIRED);
	assert_int_equal(mode_of(f, "etc/app/conf"), 0664);
	assert_int_equal(mode_of(f, "etc/app"), 0775);
	assert_int_equal(mode_of(f, "etc/sticky"), 01777);
	check(f);
	assert_int_equal(find(f, "world-writable")->state, FINDING_COMPLIANT);
}

static void test_mounts(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;

	assert_int_equal(load(f, "tmp_mounts = /tmp /dev/shm /var/tmp\nreadonly_root = yes\n", ""), 0);
	apply(f, false);
	x = find(f, "mount:/tmp");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_int_equal(x->action, FINDING_ACTION_CANNOT_FIX);
	assert_non_null(strstr(x->note, "add noexec to the options of /tmp"));
	assert_int_equal(find(f, "mount:/dev/shm")->state, FINDING_COMPLIANT);
	x = find(f, "mount:/var/tmp");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_string_equal(x->actual, "not a mount point");
	x = find(f, "mount:/");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_string_equal(x->actual, "rw,relatime");
	/* Report-only: the mount table is not "repaired". */
	assert_non_null(strstr(tu_read(f->root, "proc/self/mounts"), "tmpfs /tmp tmpfs rw,nosuid,nodev 0 0"));

	/* A later mount over / wins, as the kernel shows it. */
	tu_write(f->root, "proc/self/mounts",
		 "/dev/sda1 / ext4 rw 0 0\n/dev/loop0 / squashfs ro,relatime 0 0\n");
	check(f);
	assert_int_equal(find(f, "mount:/")->state, FINDING_COMPLIANT);
}

static void test_banner_leak(void **state)
{
	struct strv words = { 0 };
	char what[128];

	(void)state;
	assert_int_equal(strv_push(&words, "jefelinux"), 0);
	assert_int_equal(strv_push(&words, "0.1.0"), 0);
	assert_int_equal(strv_push(&words, "JL"), 0);	/* too short to mean anything */
	assert_int_equal(files_banner_leak("Authorized use only.\n", &words, what, sizeof(what)), 0);
	assert_int_equal(files_banner_leak("Welcome to \\s \\r\n", &words, what, sizeof(what)), 1);
	assert_string_equal(what, "the escape \\s");
	assert_int_equal(files_banner_leak("JefeLinux: authorized use only\n", &words, what,
					   sizeof(what)), 1);
	assert_string_equal(what, "'jefelinux' (os-release)");
	assert_int_equal(files_banner_leak("release 0.1.0\n", &words, what, sizeof(what)), 1);
	assert_int_equal(files_banner_leak("JL HOLDINGS property \\n \\l\n", &words, what,
					   sizeof(what)), 0);
	strv_free(&words);
}

/* A banner naming the OS is drift the agent cannot fix (the text is the site's). */
static void test_banners(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;

	tu_write(f->root, "etc/os-release", "NAME=\"JefeLinux\"\nID=jefelinux\nVERSION_ID=0.1.0\n");
	tu_write(f->root, "etc/issue", "JefeLinux 0.1.0 \\n \\l\n");
	tu_write(f->root, "etc/issue.net", "Authorized use only. Activity may be monitored.\n");
	assert_int_equal(load(f, "banners = /etc/issue /etc/issue.net /etc/motd\n", ""), 0);
	apply(f, false);
	x = find(f, "banner:/etc/issue");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_int_equal(x->action, FINDING_ACTION_CANNOT_FIX);
	assert_string_equal(x->actual, "'JefeLinux' (os-release)");
	assert_string_equal(x->refs.v[0].id, "1.6.2");
	assert_string_equal(tu_read(f->root, "etc/issue"), "JefeLinux 0.1.0 \\n \\l\n");
	x = find(f, "banner:/etc/issue.net");
	assert_int_equal(x->state, FINDING_COMPLIANT);
	assert_string_equal(x->refs.v[0].id, "1.6.3");
	assert_int_equal(find(f, "banner:/etc/motd")->state, FINDING_UNSUPPORTED);
	/* Fixed by hand: compliant at the next check. */
	tu_write(f->root, "etc/issue", "Authorized use only.\n");
	check(f);
	assert_int_equal(find(f, "banner:/etc/issue")->state, FINDING_COMPLIANT);
}

static void test_login_defs_cmp(void **state)
{
	char why[256];

	(void)state;
	assert_int_equal(files_login_defs_cmp("PASS_MAX_DAYS=365", "90", why, sizeof(why)), 0);
	assert_int_equal(files_login_defs_cmp("PASS_MAX_DAYS=365", "99999", why, sizeof(why)), 1);
	assert_int_equal(files_login_defs_cmp("PASS_MIN_DAYS=1", "0", why, sizeof(why)), 1);
	assert_int_equal(files_login_defs_cmp("PASS_WARN_AGE=7", "14", why, sizeof(why)), 0);
	assert_int_equal(files_login_defs_cmp("ENCRYPT_METHOD=SHA512", "sha512", why, sizeof(why)), 0);
	assert_int_equal(files_login_defs_cmp("ENCRYPT_METHOD=SHA512", "MD5", why, sizeof(why)), 1);
	assert_int_equal(files_login_defs_cmp("SHA_CRYPT_MIN_ROUNDS=5000", "65536", why, sizeof(why)), 0);
	/* UMASK: every bit of 027 masked; 077 is stricter, 022 is not. */
	assert_int_equal(files_login_defs_cmp("UMASK=027", "077", why, sizeof(why)), 0);
	assert_int_equal(files_login_defs_cmp("UMASK=027", "022", why, sizeof(why)), 1);
	assert_int_equal(files_login_defs_cmp("UMASK=027", "junk", why, sizeof(why)), 1);
	/* Validation, with the reason. */
	assert_int_equal(files_login_defs_cmp("PASS_MAX_DAYS=365", NULL, why, sizeof(why)), 0);
	assert_int_equal(files_login_defs_cmp("PASS_MAX_DAYS=never", NULL, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "PASS_MAX_DAYS needs a number, not 'never'");
	assert_int_equal(files_login_defs_cmp("MAIL_DIR=/var/mail", NULL, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "'MAIL_DIR=/var/mail' is not KEY=VALUE with KEY one of"));
}

static void test_accounts_scan(void **state)
{
	struct files_accounts a;

	(void)state;
	assert_int_equal(files_accounts_scan(
		"root:x:0:0:root:/root:/bin/sh\n"
		"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
		"sync:x:4:65534:sync:/bin:/bin/sync\n"
		"games:x:5:60:games:/usr/games:/bin/sh\n"
		"toor:x:0:0::/root:/bin/sh\n"
		"old:oldhash:1001:1001::/home/old:/bin/sh\n"
		"admin:x:1000:1000::/home/admin:/bin/sh\n",
		"root:!:19000:0:99999:7:::\nadmin:*:19000::::::\nguest::19000::::::\n", &a), 0);
	assert_int_equal(a.uid0.n, 1);
	assert_string_equal(a.uid0.v[0], "toor");
	assert_int_equal(a.unshadowed.n, 1);
	assert_string_equal(a.unshadowed.v[0], "old");
	/* games has a shell; toor is uid 0 (reported there) and has one too. */
	assert_int_equal(a.login_shell.n, 2);
	assert_string_equal(a.login_shell.v[0], "games");
	assert_int_equal(a.empty_password.n, 1);
	assert_string_equal(a.empty_password.v[0], "guest");
	assert_true(a.root_locked);
	files_accounts_free(&a);
}

/* The shipped rules against a tree: compliant, then each tamper is drift it cannot fix. */
static void test_accounts(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;

	tu_write(f->root, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
		 "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
		 "admin:x:1000:1000::/home/admin:/bin/sh\n");
	tu_write(f->root, "etc/shadow", "root:*:19000:0:99999:7:::\nadmin:!:19000::::::\n");
	tu_write(f->root, "etc/group", "root:x:0:\nshadow:x:42:\ndaemon:x:1:\nadmin:x:1000:\n");
	tu_write(f->root, "etc/login.defs", "# shadow's\nPASS_MAX_DAYS\t365\nPASS_MIN_DAYS 1\n"
		 "PASS_WARN_AGE 7\nENCRYPT_METHOD SHA512\nSHA_CRYPT_MIN_ROUNDS 65536\nUMASK 027\n");
	assert_int_equal(load(f, "accounts = yes\nlogin_defs = PASS_MAX_DAYS=365 PASS_MIN_DAYS=1 "
			      "PASS_WARN_AGE=7 ENCRYPT_METHOD=SHA512 SHA_CRYPT_MIN_ROUNDS=5000 UMASK=027\n", ""), 0);
	check(f);
	for (size_t i = 0; i < f->out.n; i++)
		if (strncmp(f->out.v[i].item, "account:", 8) == 0 ||
		    strncmp(f->out.v[i].item, "login.defs:", 11) == 0)
			assert_int_equal(f->out.v[i].state, FINDING_COMPLIANT);
	assert_string_equal(find(f, "login.defs:UMASK")->refs.v[0].id, "5.4.3.3");
	assert_string_equal(find(f, "account:uid0")->refs.v[0].id, "5.4.2.1");

	tu_write(f->root, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
		 "daemon:x:1:1:daemon:/usr/sbin:/bin/sh\n"
		 "toor:x:0:0::/root:/bin/sh\n");
	tu_write(f->root, "etc/shadow", "root:$6$salt$hash:19000:0:99999:7:::\ntoor::19000::::::\n");
	tu_write(f->root, "etc/login.defs", "PASS_MAX_DAYS 99999\nPASS_MAX_DAYS 400\nUMASK 022\n");
	apply(f, false);
	x = find(f, "account:uid0");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_int_equal(x->action, FINDING_ACTION_CANNOT_FIX);
	assert_string_equal(x->actual, "toor");
	assert_string_equal(find(f, "account:system-shells")->actual, "daemon toor");
	assert_string_equal(find(f, "account:empty-passwords")->actual, "toor");
	assert_string_equal(find(f, "account:root")->actual, "a password");
	/* The last line that sets a key wins, as shadow's tools read it. */
	assert_string_equal(find(f, "login.defs:PASS_MAX_DAYS")->actual, "400");
	assert_int_equal(find(f, "login.defs:PASS_MAX_DAYS")->state, FINDING_DRIFT);
	assert_string_equal(find(f, "login.defs:ENCRYPT_METHOD")->actual, "unset");
	assert_string_equal(find(f, "login.defs:UMASK")->actual, "022");
	/* Report-only: nothing was written. */
	assert_non_null(strstr(tu_read(f->root, "etc/passwd"), "toor"));
	assert_string_equal(tu_read(f->root, "etc/login.defs"), "PASS_MAX_DAYS 99999\nPASS_MAX_DAYS 400\nUMASK 022\n");
}

static void test_login_defs_policy_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "login_defs = PASS_MAX_DAYS=forever\n", ""), -JEFE_EPOLICY);
	assert_true(has_error(f, "line 5: login_defs: PASS_MAX_DAYS needs a number, not 'forever'"));
}

static void test_limits_core_parse(void **state)
{
	char v[32];

	(void)state;
	assert_int_equal(files_limits_core("*\thard\tcore\t0\n", v, sizeof(v)), 1);
	assert_string_equal(v, "0");
	assert_int_equal(files_limits_core("* - core 0 # all\n", v, sizeof(v)), 1);
	assert_string_equal(v, "0");
	/* A later line wins; soft limits and other domains do not count. */
	assert_int_equal(files_limits_core("* hard core 0\n* hard core unlimited\n", v, sizeof(v)), 1);
	assert_string_equal(v, "unlimited");
	assert_int_equal(files_limits_core("* soft core 0\n@adm hard core 0\n#* hard core 0\n",
					   v, sizeof(v)), 0);
	assert_int_equal(files_limits_core("", v, sizeof(v)), 0);
}

static void test_profile_umask_parse(void **state)
{
	char weak[32];

	(void)state;
	assert_int_equal(files_profile_umask("PATH=/bin\numask 027\n", 027, weak, sizeof(weak)), 1);
	assert_int_equal(files_profile_umask("  umask 077\n", 027, weak, sizeof(weak)), 1);
	assert_int_equal(files_profile_umask("# umask 022\nexport PATH\n", 027, weak, sizeof(weak)), 0);
	assert_int_equal(files_profile_umask("umask 027\numask 022\n", 027, weak, sizeof(weak)), -1);
	assert_string_equal(weak, "022");
	assert_int_equal(files_profile_umask("umask u=rwx,g=rx,o=\n", 027, weak, sizeof(weak)), -1);
}

/* core_limit and profile_umask against a tree: compliant as the image ships, then drift it cannot fix. */
static void test_core_limit_profile_umask(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;

	tu_write(f->root, "etc/security/limits.conf", "# pam_limits\n");
	tu_write(f->root, "etc/security/limits.d/10-jefe-core.conf", "*\thard\tcore\t0\n");
	tu_write(f->root, "etc/profile", "umask 027\nPATH=/bin\n");
	tu_write(f->root, "etc/profile.d/lang.sh", "LANG=C.UTF-8\n");
	assert_int_equal(load(f, "core_limit = yes\nprofile_umask = 027\n", ""), 0);
	check(f);
	x = find(f, "limits:core");
	assert_int_equal(x->state, FINDING_COMPLIANT);
	assert_string_equal(x->refs.v[0].id, "1.5.3");
	x = find(f, "profile:umask");
	assert_int_equal(x->state, FINDING_COMPLIANT);
	assert_string_equal(x->refs.v[0].id, "5.4.3.3");

	/* limits.d is read after limits.conf, in name order: the last word wins. */
	tu_write(f->root, "etc/security/limits.d/20-dev.conf", "* hard core unlimited\n");
	tu_write(f->root, "etc/profile.d/lang.sh", "umask 022\n");
	apply(f, false);
	x = find(f, "limits:core");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_int_equal(x->action, FINDING_ACTION_CANNOT_FIX);
	assert_string_equal(x->actual, "unlimited");
	x = find(f, "profile:umask");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_int_equal(x->action, FINDING_ACTION_CANNOT_FIX);
	assert_string_equal(x->actual, "022 in /etc/profile.d/lang.sh");
	/* Report-only: nothing was written. */
	assert_string_equal(tu_read(f->root, "etc/profile.d/lang.sh"), "umask 022\n");
}

static void test_profile_umask_policy_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "profile_umask = u=rwx\n", ""), -JEFE_EPOLICY);
	assert_true(has_error(f, "line 5: profile_umask: 'u=rwx' is not an octal umask (027, 077)"));
}

static void test_rsyslog_klog(void **state)
{
	(void)state;
	assert_int_equal(files_rsyslog_klog("module(load=\"imuxsock\")\nmodule(load=\"imklog\")   # kernel\n"), 1);
	assert_int_equal(files_rsyslog_klog("$ModLoad imklog\n"), 1);
	assert_int_equal(files_rsyslog_klog("#module(load=\"imklog\")\nmodule(load=\"imuxsock\")\n"), 0);
	assert_int_equal(files_rsyslog_klog(""), 0);
}

/* kernel_log against a tree: imklog in rsyslog.d counts; commented out it is drift. */
static void test_kernel_log(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;

	tu_write(f->root, "etc/rsyslog.conf", "module(load=\"imuxsock\")\n");
	tu_write(f->root, "etc/rsyslog.d/10-klog.conf", "module(load=\"imklog\")\n");
	assert_int_equal(load(f, "kernel_log = yes\n", ""), 0);
	check(f);
	x = find(f, "syslog:kernel");
	assert_int_equal(x->state, FINDING_COMPLIANT);
	assert_string_equal(x->actual, "loaded in /etc/rsyslog.d/10-klog.conf");
	assert_string_equal(x->refs.v[0].id, "6.2.3.3");
	tu_write(f->root, "etc/rsyslog.d/10-klog.conf", "#module(load=\"imklog\")\n");
	apply(f, false);
	x = find(f, "syslog:kernel");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_int_equal(x->action, FINDING_ACTION_CANNOT_FIX);
}

static void test_chrony_parse(void **state)
{
	struct strv src = { 0 }, conf = { 0 }, sdir = { 0 };
	char *text;

	(void)state;
	assert_int_equal(files_chrony_parse("# chrony.conf\n"
					    "confdir /etc/chrony/conf.d\n"
					    "pool 2.debian.pool.ntp.org iburst\n"
					    "! server commented.example\n"
					    "server ntp1.example iburst ; ntp1 again\n"
					    "Server ntp1.example\n"
					    "peer 10.0.0.2\n"
					    "sourcedir /run/chrony-dhcp\n"
					    "sourcedir /etc/chrony/sources.d\n"
					    "makestep 1 3\n", &src, &conf, &sdir), 0);
	assert_int_equal(src.n, 3);
	assert_string_equal(src.v[0], "2.debian.pool.ntp.org");
	assert_string_equal(src.v[1], "ntp1.example");
	assert_string_equal(src.v[2], "10.0.0.2");
	assert_int_equal(conf.n, 1);
	assert_string_equal(conf.v[0], "/etc/chrony/conf.d");
	assert_int_equal(sdir.n, 2);
	assert_string_equal(sdir.v[1], "/etc/chrony/sources.d");
	/* What the agent writes reads back as exactly the policy's servers. */
	text = files_chrony_render(&sdir);
	assert_non_null(strstr(text, "server /run/chrony-dhcp iburst\nserver /etc/chrony/sources.d iburst\n"));
	strv_free(&src);
	assert_int_equal(files_chrony_parse(text, &src, &conf, &sdir), 0);
	assert_int_equal(src.n, 2);
	free(text);
	strv_free(&src);
	strv_free(&conf);
	strv_free(&sdir);
}

static void test_clock_synced(void **state)
{
	(void)state;
	assert_true(files_clock_synced(TIME_OK, STA_PLL));
	assert_true(files_clock_synced(TIME_INS, STA_PLL | STA_INS));
	/* No daemon keeps the clock: the kernel's own flag, and TIME_ERROR with it. */
	assert_false(files_clock_synced(TIME_ERROR, STA_UNSYNC));
	assert_false(files_clock_synced(TIME_OK, STA_UNSYNC));
	assert_false(files_clock_synced(-1, 0));
}

static void test_logrotate_patterns(void **state)
{
	struct strv p = { 0 };

	(void)state;
	assert_int_equal(files_logrotate_patterns("weekly\nrotate 4\ninclude /etc/logrotate.d\n"
						  "/var/log/wtmp {\n    missingok\n    monthly\n}\n"
						  "/var/log/syslog\n/var/log/mail.log \"/var/log/ab.log\"\n{\n"
						  "    postrotate\n        /usr/lib/rsyslog/rsyslog-rotate\n"
						  "    endscript\n}\n"
						  "# /var/log/commented {\n"
						  "/var/log/jefe/*.log { daily }\n"
						  "/var/log/after\n{\n}\n", &p), 0);
	assert_int_equal(p.n, 6);
	assert_string_equal(p.v[0], "/var/log/wtmp");
	assert_string_equal(p.v[1], "/var/log/syslog");
	assert_string_equal(p.v[2], "/var/log/mail.log");
	assert_string_equal(p.v[3], "/var/log/ab.log");
	assert_string_equal(p.v[4], "/var/log/jefe/*.log");
	assert_string_equal(p.v[5], "/var/log/after");
	strv_free(&p);
}

/* ntp_servers against a tree: the agent owns jefe.sources; another file's source is the site's. */
static void test_time_servers(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;
	const char *written;

	tu_write(f->root, "etc/chrony/chrony.conf",
		 "pool 2.debian.pool.ntp.org iburst\nsourcedir /etc/chrony/sources.d\n");
	assert_int_equal(load(f, "ntp_servers = ntp1.example 10.0.0.1\ntime_sync = yes\n", ""), 0);
	check(f);
	x = find(f, "time:servers");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_int_equal(x->action, FINDING_ACTION_NONE);
	assert_string_equal(x->expected, "ntp1.example 10.0.0.1");
	assert_string_equal(x->actual, "2.debian.pool.ntp.org");
	assert_string_equal(x->refs.v[0].id, "2.3.1.1");
	assert_string_equal(x->refs.v[1].id, "2.3.3.1");
	/* Below --root the clock is not the tree's: said so, never compliant. */
	x = find(f, "time:sync");
	assert_int_equal(x->state, FINDING_UNSUPPORTED);

	/* The pool is in chrony.conf, the site's file: cannot-fix, and nothing written. */
	apply(f, false);
	x = find(f, "time:servers");
	assert_int_equal(x->action, FINDING_ACTION_CANNOT_FIX);
	assert_non_null(strstr(x->note, "2.debian.pool.ntp.org"));
	assert_false(exists(f, "etc/chrony/sources.d/jefe.sources"));

	/* Without it, only the agent's file is missing: a dry run says so and writes nothing. */
	tu_write(f->root, "etc/chrony/chrony.conf", "sourcedir /etc/chrony/sources.d\nmakestep 1 3\n");
	apply(f, true);
	x = find(f, "time:servers");
	assert_int_equal(x->action, FINDING_ACTION_WOULD_REPAIR);
	assert_string_equal(x->actual, "no server");
	assert_false(exists(f, "etc/chrony/sources.d/jefe.sources"));
	apply(f, false);
	x = find(f, "time:servers");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_int_equal(x->action, FINDING_ACTION_REPAIRED);
	written = tu_read(f->root, "etc/chrony/sources.d/jefe.sources");
	assert_non_null(written);
	assert_non_null(strstr(written, "server ntp1.example iburst\nserver 10.0.0.1 iburst\n"));
	assert_int_equal(mode_of(f, "etc/chrony/sources.d/jefe.sources"), 0644);
	check(f);
	x = find(f, "time:servers");
	assert_int_equal(x->state, FINDING_COMPLIANT);
	assert_string_equal(x->actual, "ntp1.example 10.0.0.1");

	/* A server added in conf.d is extra; a chrony.conf that stops reading sources.d is drift. */
	tu_write(f->root, "etc/chrony/chrony.conf",
		 "confdir /etc/chrony/conf.d\nsourcedir /etc/chrony/sources.d\n");
	tu_write(f->root, "etc/chrony/conf.d/local.conf", "server rogue.example\n");
	check(f);
	x = find(f, "time:servers");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_string_equal(x->actual, "rogue.example ntp1.example 10.0.0.1");
	tu_write(f->root, "etc/chrony/conf.d/local.conf", "makestep 1 3\n");
	tu_write(f->root, "etc/chrony/chrony.conf", "confdir /etc/chrony/conf.d\n");
	apply(f, false);
	x = find(f, "time:servers");
	assert_int_equal(x->action, FINDING_ACTION_CANNOT_FIX);
	assert_string_equal(x->actual, "no server");
	assert_non_null(strstr(x->note, "sourcedir /etc/chrony/sources.d"));
}

static void test_time_servers_no_chrony(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;

	assert_int_equal(load(f, "ntp_servers = ntp1.example\n", ""), 0);
	apply(f, false);
	x = find(f, "time:servers");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_int_equal(x->action, FINDING_ACTION_CANNOT_FIX);
	assert_string_equal(x->actual, "no /etc/chrony/chrony.conf");
	/* time_sync is off unless asked. */
	assert_false(found(f, "time:sync"));
}

/* log_rotate against a tree: a stanza per log and the daily run, report-only. */
static void test_log_rotate(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;

	tu_write(f->root, "etc/logrotate.conf", "weekly\ninclude /etc/logrotate.d\n/var/log/wtmp {\n}\n");
	tu_write(f->root, "etc/logrotate.d/rsyslog", "/var/log/messages\n/var/log/auth.log\n{\n\trotate 4\n}\n");
	tu_write(f->root, "etc/cron.daily/logrotate", "#!/bin/sh\n/usr/sbin/logrotate /etc/logrotate.conf\n");
	mode_set(f, "etc/cron.daily/logrotate", 0755);
	assert_int_equal(load(f, "log_rotate = /var/log/messages /var/log/auth.log /var/log/wtmp\n", ""), 0);
	check(f);
	x = find(f, "logrotate:/var/log/messages");
	assert_int_equal(x->state, FINDING_COMPLIANT);
	assert_string_equal(x->refs.v[0].id, "6.2.3.8");
	assert_int_equal(find(f, "logrotate:/var/log/wtmp")->state, FINDING_COMPLIANT);
	assert_int_equal(find(f, "logrotate:daily")->state, FINDING_COMPLIANT);

	tu_write(f->root, "etc/logrotate.d/rsyslog", "/var/log/messages\n{\n\trotate 4\n}\n");
	mode_set(f, "etc/cron.daily/logrotate", 0644);
	apply(f, false);
	x = find(f, "logrotate:/var/log/auth.log");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_int_equal(x->action, FINDING_ACTION_CANNOT_FIX);
	x = find(f, "logrotate:daily");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_int_equal(x->action, FINDING_ACTION_CANNOT_FIX);
	/* Report-only: the mode stays the admin's. */
	assert_int_equal(mode_of(f, "etc/cron.daily/logrotate"), 0644);
}

/* root_umask: no line of root's start-up files weaker; none at all keeps /etc/profile's. */
static void test_root_umask(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;

	assert_int_equal(load(f, "root_umask = 027\n", ""), 0);
	check(f);
	x = find(f, "root:umask");
	assert_int_equal(x->state, FINDING_COMPLIANT);
	assert_string_equal(x->refs.v[0].id, "5.4.2.6");
	tu_write(f->root, "root/.profile", "umask 077\n");
	tu_write(f->root, "root/.bashrc", "alias ll='ls -l'\numask 022\n");
	apply(f, false);
	x = find(f, "root:umask");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_int_equal(x->action, FINDING_ACTION_CANNOT_FIX);
	assert_string_equal(x->actual, "022 in /root/.bashrc");
	assert_string_equal(tu_read(f->root, "root/.bashrc"), "alias ll='ls -l'\numask 022\n");
}

static void test_root_umask_policy_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "root_umask = 0999\nlog_rotate = var/log/messages\n", ""), -JEFE_EPOLICY);
	assert_true(has_error(f, "line 5: root_umask: '0999' is not an octal umask (027, 077)"));
	assert_true(has_error(f, "line 6: 'var/log/messages' is not an absolute path"));
}

static void test_id_rules_scan(void **state)
{
	struct files_id_rules x;

	(void)state;
	assert_int_equal(files_id_rules_scan("root:x:0:0:root:/root:/bin/sh\n"
					     "sync:x:4:0:sync:/bin:/bin/sync\n"
					     "daemon:x:1:1::/:/usr/sbin/nologin\n"
					     "games:x:5:0::/:/usr/sbin/nologin\n"
					     "toor:x:0:77::/:/bin/sh\n"
					     "daemon:x:2:42::/:/usr/sbin/nologin\n"
					     "broken line\n",
					     "root:x:0:\nwheel:x:0:\ndaemon:x:1:\nshadow:x:42:admin\n"
					     "daemon:x:3:\n",
					     "/bin/sh\n# /usr/sbin/nologin\n/usr/sbin/nologin\n", &x), 0);
	assert_int_equal(x.gid0_users.n, 1);
	assert_string_equal(x.gid0_users.v[0], "games");
	assert_int_equal(x.gid0_groups.n, 1);
	assert_string_equal(x.gid0_groups.v[0], "wheel");
	assert_int_equal(x.missing_groups.n, 1);
	assert_string_equal(x.missing_groups.v[0], "toor (gid 77)");
	/* A member of shadow, and the daemon whose primary group it is. */
	assert_int_equal(x.shadow_members.n, 2);
	assert_string_equal(x.shadow_members.v[0], "admin");
	assert_string_equal(x.shadow_members.v[1], "daemon");
	assert_int_equal(x.dup_uids.n, 1);
	assert_string_equal(x.dup_uids.v[0], "0");
	assert_int_equal(x.dup_gids.n, 1);
	assert_string_equal(x.dup_gids.v[0], "0");
	assert_int_equal(x.dup_users.n, 1);
	assert_string_equal(x.dup_users.v[0], "daemon");
	assert_int_equal(x.dup_groups.n, 1);
	assert_string_equal(x.dup_groups.v[0], "daemon");
	assert_int_equal(x.nologin_shells.n, 1);
	assert_string_equal(x.nologin_shells.v[0], "/usr/sbin/nologin");
	files_id_rules_free(&x);
	/* Absent files find nothing. */
	assert_int_equal(files_id_rules_scan(NULL, NULL, NULL, &x), 0);
	assert_int_equal(x.missing_groups.n + x.dup_uids.n + x.nologin_shells.n, 0);
	files_id_rules_free(&x);
}

/* accounts = yes against a tree: the group/shells rules compliant on a clean tree, then report-only drift. */
static void test_id_rules(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;

	/* The fixture's tester is whoever runs the test (uid 0 as root): fixed ids here. */
	tu_write(f->root, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
		 "tester:x:1000:1000::/home/tester:/bin/sh\n");
	tu_write(f->root, "etc/group", "root:x:0:\nshadow:x:42:\ntesters:x:1000:\n");
	tu_write(f->root, "etc/shells", "/bin/sh\n/bin/bash\n");
	assert_int_equal(load(f, "accounts = yes\n", ""), 0);
	check(f);
	for (const char *const *it = (const char *const[]){ "account:gid0", "account:group-gid0",
		     "account:groups", "account:shadow-group", "account:duplicate-uids",
		     "account:duplicate-gids", "account:duplicate-users", "account:duplicate-groups",
		     "shells:nologin", NULL }; *it; it++) {
		x = find(f, *it);
		assert_int_equal(x->state, FINDING_COMPLIANT);
	}
	assert_string_equal(find(f, "account:groups")->refs.v[0].id, "7.2.3");
	assert_string_equal(find(f, "shells:nologin")->refs.v[0].id, "5.4.3.1");
	tu_write(f->root, "etc/shells", "/bin/sh\n/usr/sbin/nologin\n");
	tu_write(f->root, "etc/group", "root:x:0:\nshadow:x:42:tester\n");
	apply(f, false);
	x = find(f, "shells:nologin");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_int_equal(x->action, FINDING_ACTION_CANNOT_FIX);
	x = find(f, "account:shadow-group");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_string_equal(x->actual, "tester");
	x = find(f, "account:groups");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_string_equal(x->actual, "tester (gid 1000)");
	assert_string_equal(tu_read(f->root, "etc/shells"), "/bin/sh\n/usr/sbin/nologin\n");
}

static void test_mounts_parse_escapes(void **state)
{
	struct rootfs_mounts m;
	const struct rootfs_mount *x;

	(void)state;
	assert_int_equal(rootfs_mounts_parse("/dev/sda1 / ext4 rw 0 0\n"
					     "garbage\n"
					     "tmpfs /mnt/my\\040dir tmpfs rw,noexec 0 0\n"
					     "tmpfs /tmp tmpfs rw 0 0\n"
					     "tmpfs /tmp tmpfs rw,nodev,nosuid 0 0", &m), 0);
	assert_int_equal(m.n, 4);
	x = rootfs_mounts_find(&m, "/mnt/my dir");
	assert_non_null(x);
	assert_true(rootfs_option_has(x->options, "noexec"));
	assert_false(rootfs_option_has(x->options, "exec"));
	/* The last mount on a target is the one in effect. */
	x = rootfs_mounts_find(&m, "/tmp");
	assert_true(rootfs_option_has(x->options, "nosuid"));
	assert_null(rootfs_mounts_find(&m, "/var/tmp"));
	rootfs_mounts_free(&m);
}

/* rootfs_opendir lists a directory of the root, never one a link leads out to. */
static void test_rootfs_opendir(void **state)
{
	struct fixture *f = *state;
	char target[4096], link[4096];
	struct dirent *de;
	bool seen = false;
	DIR *d;

	tu_write(f->root, "etc/app.d/10-a.conf", "a\n");
	assert_int_equal(rootfs_opendir(f->env.root_fd, "/etc/app.d", &d), 0);
	while ((de = readdir(d)))
		seen |= strcmp(de->d_name, "10-a.conf") == 0;
	closedir(d);
	assert_true(seen);

	assert_int_equal(rootfs_opendir(f->env.root_fd, "/etc/none.d", &d), -ENOENT);
	assert_null(d);
	assert_int_equal(rootfs_opendir(f->env.root_fd, "/etc/app.d/10-a.conf", &d), -ENOTDIR);
	assert_null(d);

	/* etc/out.d -> <outside>: resolved inside the root, it leads nowhere
	 * (openat2) or is refused (the fallback without openat2). */
	tu_write(f->outside, "decoy.conf", "decoy\n");
	snprintf(target, sizeof(target), "%s", f->outside);
	path_of(f, "etc/out.d", link, sizeof(link));
	assert_int_equal(symlink(target, link), 0);
	assert_true(rootfs_opendir(f->env.root_fd, "/etc/out.d", &d) < 0);
	assert_null(d);
}

static void test_baseline(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;
	const char *text;

	tu_write(f->root, "etc/hosts", "hello\n");
	tu_write(f->root, "etc/modprobe.d/jefe-blacklist.conf", "install cramfs /bin/false\n");
	assert_int_equal(load(f, "baseline = /etc/hosts /etc/not-there\n"
				 "baseline_managed = /etc/modprobe.d/jefe-*.conf\n", ""), 0);
	check(f);
	x = find(f, "baseline");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_string_equal(x->actual, "absent");
	assert_false(found(f, "sha256:/etc/not-there"));

	apply(f, false);
	assert_int_equal(find(f, "baseline")->action, FINDING_ACTION_REPAIRED);
	text = tu_read(f->root, JEFE_STATE_DIR "/files.sha256");
	assert_non_null(strstr(text, HELLO_SHA256 "  /etc/hosts\n"));
	assert_non_null(strstr(text, "  /etc/modprobe.d/jefe-blacklist.conf\n"));
	assert_int_equal(mode_of(f, JEFE_STATE_DIR "/files.sha256"), 0600);
	check(f);
	assert_int_equal(find(f, "sha256:/etc/hosts")->state, FINDING_COMPLIANT);
	assert_false(found(f, "baseline"));

	/* Same mode, same owner, other content: drift, and never accepted by apply. */
	tu_write(f->root, "etc/hosts", "hellO\n");
	mode_set(f, "etc/hosts", mode_of(f, "etc/hosts"));
	check(f);
	x = find(f, "sha256:/etc/hosts");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_string_equal(x->expected, HELLO_SHA256);
	assert_non_null(strstr(x->note, "edited outside the agent"));
	apply(f, false);
	assert_int_equal(find(f, "sha256:/etc/hosts")->action, FINDING_ACTION_CANNOT_FIX);
	assert_non_null(strstr(tu_read(f->root, JEFE_STATE_DIR "/files.sha256"), HELLO_SHA256 "  /etc/hosts\n"));
	check(f);
	assert_int_equal(find(f, "sha256:/etc/hosts")->state, FINDING_DRIFT);

	/* A managed file: drift in check, re-recorded by apply (its layer rewrote it). */
	tu_write(f->root, "etc/modprobe.d/jefe-blacklist.conf", "install hfs /bin/false\n");
	check(f);
	assert_int_equal(find(f, "sha256:/etc/modprobe.d/jefe-blacklist.conf")->state, FINDING_DRIFT);
	apply(f, false);
	assert_int_equal(find(f, "sha256:/etc/modprobe.d/jefe-blacklist.conf")->action,
			 FINDING_ACTION_REPAIRED);
	check(f);
	assert_int_equal(find(f, "sha256:/etc/modprobe.d/jefe-blacklist.conf")->state,
			 FINDING_COMPLIANT);

	/* Deleted: drift, and the record stays as evidence. */
	{
		char p[4096];

		path_of(f, "etc/hosts", p, sizeof(p));
		assert_int_equal(unlink(p), 0);
	}
	apply(f, false);
	assert_string_equal(find(f, "sha256:/etc/hosts")->actual, "absent");
	assert_non_null(strstr(tu_read(f->root, JEFE_STATE_DIR "/files.sha256"), "  /etc/hosts\n"));

	/* A corrupt baseline is reported, not silently replaced. */
	tu_write(f->root, JEFE_STATE_DIR "/files.sha256", "garbage\n");
	apply(f, false);
	assert_string_equal(find(f, "baseline")->actual, "corrupt");
	assert_string_equal(tu_read(f->root, JEFE_STATE_DIR "/files.sha256"), "garbage\n");
}

static void test_baseline_parse(void **state)
{
	struct files_baseline b;

	(void)state;
	assert_int_equal(files_baseline_parse("# c\n" HELLO_SHA256 "  /etc/a b\n"
					      HELLO_SHA256 " */etc/c\n", &b), 0);
	assert_int_equal(b.paths.n, 2);
	assert_string_equal(files_baseline_get(&b, "/etc/a b"), HELLO_SHA256);
	assert_non_null(files_baseline_get(&b, "/etc/c"));
	assert_null(files_baseline_get(&b, "/etc/d"));
	files_baseline_free(&b);
	assert_int_equal(files_baseline_parse("abc  /etc/a\n", &b), -EINVAL);
	assert_int_equal(files_baseline_parse(HELLO_SHA256 "  etc/a\n", &b), -EINVAL);
}

static void test_watch_sees_chmod(void **state)
{
	struct fixture *f = *state;
	struct watch_set ws = { 0 };
	bool recheck = false;

	assert_int_equal(load(f, "", "/etc/shadow = 0640\n"), 0);
	assert_int_equal(layer_files_ops.watch(f->layer, &ws), 0);
	assert_int_equal(ws.n, 1);
	assert_int_equal(layer_files_ops.on_event(f->layer, ws.fds[0], EPOLLIN, &recheck), 0);
	assert_false(recheck);
	mode_set(f, "etc/shadow", 0666);
	assert_int_equal(layer_files_ops.on_event(f->layer, ws.fds[0], EPOLLIN, &recheck), 0);
	assert_true(recheck);
}

/* No files section: nothing is walked, nothing is written. */
static void test_inactive_without_section(void **state)
{
	struct fixture *f = *state;

	tu_write(f->root, "usr/bin/evil", "x");
	mode_set(f, "usr/bin/evil", 04755);
	mode_set(f, "etc/shadow", 0666);
	tu_write(f->root, "etc/jefe/jefe.conf", "[agent]\nmode = enforce\n");
	assert_int_equal(policy_load(&f->policy, f->env.root_fd, "/", TU_MAIN_FILE, &f->errs), 0);
	assert_int_equal(layer_load(&layer_files_ops, &f->layer, &f->env, f->policy, &f->errs), 0);
	apply(f, false);
	assert_int_equal(f->out.n, 0);
	assert_int_equal(mode_of(f, "usr/bin/evil"), 04755);
	assert_string_equal(tu_read(f->root, JEFE_STATE_DIR "/files.sha256"), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_perm_parse),
		cmocka_unit_test(test_baseline_parse),
		cmocka_unit_test_setup_teardown(test_policy_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rootfs_opendir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_drift_and_repair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_repair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinks_never_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glob_host_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_suid_allowlist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_world_writable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mounts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mounts_parse_escapes, setup, teardown),
		cmocka_unit_test(test_banner_leak),
		cmocka_unit_test(test_login_defs_cmp),
		cmocka_unit_test(test_accounts_scan),
		cmocka_unit_test_setup_teardown(test_accounts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_defs_policy_error, setup, teardown),
		cmocka_unit_test(test_limits_core_parse),
		cmocka_unit_test(test_profile_umask_parse),
		cmocka_unit_test_setup_teardown(test_core_limit_profile_umask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profile_umask_policy_error, setup, teardown),
		cmocka_unit_test(test_rsyslog_klog),
		cmocka_unit_test_setup_teardown(test_kernel_log, setup, teardown),
		cmocka_unit_test(test_chrony_parse),
		cmocka_unit_test(test_clock_synced),
		cmocka_unit_test(test_logrotate_patterns),
		cmocka_unit_test_setup_teardown(test_time_servers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_servers_no_chrony, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_rotate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_umask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_umask_policy_error, setup, teardown),
		cmocka_unit_test(test_id_rules_scan),
		cmocka_unit_test_setup_teardown(test_id_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_banners, setup, teardown),
		cmocka_unit_test_setup_teardown(test_baseline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_sees_chmod, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inactive_without_section, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
