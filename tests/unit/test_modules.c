/* SPDX-License-Identifier: MIT */
/*
 * The modules layer against a temporary root: /proc/modules, /proc/cmdline
 * and /proc/sys/kernel/modules_disabled are plain files there, so every
 * decision of the layer is observable on disk.  The real kernel (loading
 * a blocked module fails) is exercised in tests/vm.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "testutil.h"
#include "errors.h"
#include "layer.h"
#include "layer_modules.h"
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
	tu_write(f->root, "proc/modules",
		 "nf_tables 344064 0 - Live 0x0000000000000000\n"
		 "sctp 434176 2 - Live 0x0000000000000000\n");
	tu_write(f->root, "proc/cmdline",
		 "BOOT_IMAGE=/vmlinuz root=UUID=1234 ro quiet slab-nomerge init_on_alloc=1 lockdown=integrity\n");
	tu_write(f->root, "proc/sys/kernel/modules_disabled", "0\n");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->layer)
		layer_modules_ops.free(f->layer);
	findings_free(&f->out);
	policy_free(f->policy);
	policy_errors_free(&f->errs);
	close(f->env.root_fd);
	tu_rmtree(f->root);
	free(f->root);
	free(f);
	return 0;
}

static int load(struct fixture *f, const char *section)
{
	char content[4096];
	int err;

	snprintf(content, sizeof(content), "[modules]\n%s", section);
	tu_write(f->root, "etc/jefe/jefe.conf", content);
	err = policy_load(&f->policy, f->env.root_fd, "/", TU_MAIN_FILE, &f->errs);
	if (err)
		return err;
	return layer_load(&layer_modules_ops, &f->layer, &f->env, f->policy, &f->errs);
}

static const struct finding *find(const struct fixture *f, const char *item)
{
	return tu_finding(&f->out, item);
}

static bool has_error(const struct fixture *f, const char *needle)
{
	return tu_error_contains(&f->errs, needle);
}

static void test_name_normalize(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(modules_name_normalize("usb-storage", out, sizeof(out)), 0);
	assert_string_equal(out, "usb_storage");
	assert_int_equal(modules_name_normalize("hfsplus", out, sizeof(out)), 0);
	assert_string_equal(out, "hfsplus");
	assert_int_equal(modules_name_normalize("a/b", out, sizeof(out)), -EINVAL);
	assert_int_equal(modules_name_normalize("", out, sizeof(out)), -EINVAL);
	assert_int_equal(modules_name_normalize("x y", out, sizeof(out)), -EINVAL);
	assert_non_null(modules_name_protected("squashfs"));
	assert_null(modules_name_protected("cramfs"));
}

static void test_refuses_live_image_modules(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "blacklist = cramfs squashfs\n"
				 "block_usb_storage = maybe\n"
				 "colour = blue\n"
				 "cmdline_required = slab_nomerge =oops\n"), -JEFE_EPOLICY);
	assert_null(f->layer);
	assert_true(has_error(f, "line 2: refusing to block module 'squashfs': the live image's root filesystem is a squashfs"));
	assert_true(has_error(f, "line 3: invalid value 'maybe' for block_usb_storage"));
	assert_true(has_error(f, "line 4: unknown key 'colour' in [modules]"));
	assert_true(has_error(f, "line 5: '=oops' is not a kernel parameter"));
	assert_int_equal(f->errs.n, 4);
	/* load() must not touch the system. */
	assert_string_equal(tu_read(f->root, "etc/modprobe.d/jefe-blacklist.conf"), "");
}

static void test_refuses_isofs_overlay(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "blacklist = isofs, overlay\n"), -JEFE_EPOLICY);
	assert_true(has_error(f, "refusing to block module 'isofs'"));
	assert_true(has_error(f, "refusing to block module 'overlay'"));
}

static void test_blacklist_file(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;
	const char *text;
	char path[4096];
	struct stat sb;

	assert_int_equal(load(f, "blacklist = cramfs hfs\nblock_usb_storage = yes\n"), 0);

	assert_int_equal(layer_modules_ops.check(f->layer, &f->out), 0);
	x = find(f, MODULES_BLACKLIST_FILE);
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_string_equal(x->actual, "absent");
	assert_int_equal(x->action, FINDING_ACTION_NONE);

	/* A dry run says what it would do and does nothing. */
	findings_reset(&f->out);
	assert_int_equal(layer_modules_ops.apply(f->layer, true, &f->out), 0);
	assert_int_equal(find(f, MODULES_BLACKLIST_FILE)->action, FINDING_ACTION_WOULD_REPAIR);
	assert_string_equal(tu_read(f->root, "etc/modprobe.d/jefe-blacklist.conf"), "");

	findings_reset(&f->out);
	assert_int_equal(layer_modules_ops.apply(f->layer, false, &f->out), 0);
	assert_int_equal(find(f, MODULES_BLACKLIST_FILE)->action, FINDING_ACTION_REPAIRED);
	text = tu_read(f->root, "etc/modprobe.d/jefe-blacklist.conf");
	assert_non_null(strstr(text, "\ninstall cramfs /bin/false\nblacklist cramfs\n"
				     "install hfs /bin/false\nblacklist hfs\n"
				     "install usb_storage /bin/false\nblacklist usb_storage\n"
				     "install uas /bin/false\nblacklist uas\n"
				     "install firewire_sbp2 /bin/false\nblacklist firewire_sbp2\n"));
	assert_null(strstr(text, "sctp"));
	snprintf(path, sizeof(path), "%s/etc/modprobe.d/jefe-blacklist.conf", f->root);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0644);

	findings_reset(&f->out);
	assert_int_equal(layer_modules_ops.check(f->layer, &f->out), 0);
	assert_int_equal(find(f, MODULES_BLACKLIST_FILE)->state, FINDING_COMPLIANT);

	/* Tamper: an admin (or attacker) comments out one line. */
	tu_write(f->root, "etc/modprobe.d/jefe-blacklist.conf", "# emptied\n");
	findings_reset(&f->out);
	assert_int_equal(layer_modules_ops.check(f->layer, &f->out), 0);
	x = find(f, MODULES_BLACKLIST_FILE);
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_string_equal(x->actual, "edited outside the agent");
	findings_reset(&f->out);
	assert_int_equal(layer_modules_ops.apply(f->layer, false, &f->out), 0);
	assert_int_equal(find(f, MODULES_BLACKLIST_FILE)->action, FINDING_ACTION_REPAIRED);
	assert_string_equal(tu_read(f->root, "etc/modprobe.d/jefe-blacklist.conf"), text);

	/* A mode change alone is drift too. */
	assert_int_equal(chmod(path, 0666), 0);
	findings_reset(&f->out);
	assert_int_equal(layer_modules_ops.check(f->layer, &f->out), 0);
	assert_string_equal(find(f, MODULES_BLACKLIST_FILE)->actual, "wrong mode");
}

static void test_default_list(void **state)
{
	struct fixture *f = *state;
	const char *text;

	assert_int_equal(load(f, "verify_unloaded = no\n"), 0);
	assert_int_equal(layer_modules_ops.apply(f->layer, false, &f->out), 0);
	text = tu_read(f->root, "etc/modprobe.d/jefe-blacklist.conf");
	assert_non_null(strstr(text, "install cramfs /bin/false\n"));
	assert_non_null(strstr(text, "install tipc /bin/false\n"));
	assert_null(strstr(text, "usb_storage"));
	/* verify_unloaded = no: no module findings at all. */
	for (size_t i = 0; i < f->out.n; i++)
		assert_null(strstr(f->out.v[i].item, "module:"));
}

static void test_loaded_modules(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;

	assert_int_equal(load(f, "blacklist = cramfs sctp\n"), 0);
	assert_int_equal(layer_modules_ops.check(f->layer, &f->out), 0);
	assert_int_equal(find(f, "module:cramfs")->state, FINDING_COMPLIANT);
	x = find(f, "module:sctp");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_string_equal(x->actual, "loaded");
	assert_non_null(strstr(x->note, "modprobe -r sctp"));

	/* Apply cannot unload it: says so rather than pretend. */
	findings_reset(&f->out);
	assert_int_equal(layer_modules_ops.apply(f->layer, false, &f->out), 0);
	assert_int_equal(find(f, "module:sctp")->action, FINDING_ACTION_CANNOT_FIX);

	/* After a reboot without it: compliant. */
	tu_write(f->root, "proc/modules", "nf_tables 344064 0 - Live 0x0\n");
	findings_reset(&f->out);
	assert_int_equal(layer_modules_ops.check(f->layer, &f->out), 0);
	assert_int_equal(find(f, "module:sctp")->state, FINDING_COMPLIANT);
}

/* A module in modules.builtin is not "not loaded": modprobe.d cannot block it. */
static void test_builtin_module(void **state)
{
	struct fixture *f = *state;
	struct strv names = { 0 };
	struct utsname u;
	char path[512];
	const struct finding *x;

	assert_int_equal(modules_builtin_parse("kernel/fs/udf/udf.ko\n"
					       "kernel/drivers/usb/storage/usb-storage.ko\n"
					       "kernel/lib/crc32.ko\n", &names), 0);
	assert_int_equal(names.n, 3);
	assert_string_equal(names.v[0], "udf");
	assert_string_equal(names.v[1], "usb_storage");
	strv_free(&names);

	assert_int_equal(uname(&u), 0);
	snprintf(path, sizeof(path), "lib/modules/%s/modules.builtin", u.release);
	tu_write(f->root, path, "kernel/fs/udf/udf.ko\n");
	assert_int_equal(load(f, "blacklist = cramfs udf\n"), 0);
	assert_int_equal(layer_modules_ops.check(f->layer, &f->out), 0);
	x = find(f, "module:udf");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_string_equal(x->actual, "built into the kernel");
	assert_non_null(strstr(x->note, "built in"));
	/* Its CIS Debian Linux 12 v1.0.1 section. */
	assert_int_equal(x->refs.n, 1);
	assert_string_equal(x->refs.v[0].id, "1.1.1.8");
	x = find(f, "module:cramfs");
	assert_int_equal(x->state, FINDING_COMPLIANT);
	assert_string_equal(x->refs.v[0].id, "1.1.1.1");
	findings_reset(&f->out);
	assert_int_equal(layer_modules_ops.apply(f->layer, false, &f->out), 0);
	assert_int_equal(find(f, "module:udf")->action, FINDING_ACTION_CANNOT_FIX);
}

static void test_cmdline_split(void **state)
{
	struct strv w = { 0 };
	const char *word;

	(void)state;
	assert_int_equal(modules_cmdline_split(
		"  root=/dev/sda1 quiet  dyndbg=\"file x.c +p\" \"a b=c\" slab-nomerge\n", &w), 0);
	assert_int_equal(w.n, 5);
	assert_string_equal(w.v[0], "root=/dev/sda1");
	assert_string_equal(w.v[2], "dyndbg=file x.c +p");
	assert_string_equal(w.v[3], "a b=c");

	assert_true(modules_cmdline_satisfies(&w, "slab_nomerge", &word));
	assert_string_equal(word, "slab-nomerge");
	assert_true(modules_cmdline_satisfies(&w, "root=", &word));
	assert_true(modules_cmdline_satisfies(&w, "root=/dev/sda1", &word));
	assert_false(modules_cmdline_satisfies(&w, "root=/dev/sdb1", &word));
	assert_string_equal(word, "root=/dev/sda1");
	assert_false(modules_cmdline_satisfies(&w, "lockdown=", &word));
	assert_null(word);
	/* A prefix is not a match. */
	assert_false(modules_cmdline_satisfies(&w, "quie", &word));
	strv_free(&w);

	/* The last occurrence wins, as in the kernel. */
	assert_int_equal(modules_cmdline_split("init_on_alloc=1 init_on_alloc=0 lockdown=", &w), 0);
	assert_false(modules_cmdline_satisfies(&w, "init_on_alloc=1", &word));
	assert_string_equal(word, "init_on_alloc=0");
	/* "lockdown=" with an empty value is no lockdown. */
	assert_false(modules_cmdline_satisfies(&w, "lockdown=", &word));
	strv_free(&w);
}

static void test_cmdline_findings(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;

	assert_int_equal(load(f, "verify_unloaded = no\n"
				 "cmdline_required = lockdown= slab_nomerge init_on_alloc=1 page_alloc.shuffle=1\n"), 0);
	assert_int_equal(layer_modules_ops.apply(f->layer, false, &f->out), 0);
	assert_int_equal(find(f, "cmdline:lockdown")->state, FINDING_COMPLIANT);
	assert_string_equal(find(f, "cmdline:lockdown")->actual, "lockdown=integrity");
	assert_int_equal(find(f, "cmdline:slab_nomerge")->state, FINDING_COMPLIANT);
	assert_int_equal(find(f, "cmdline:init_on_alloc")->state, FINDING_COMPLIANT);
	x = find(f, "cmdline:page_alloc.shuffle");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_int_equal(x->action, FINDING_ACTION_CANNOT_FIX);
	assert_string_equal(x->actual, "absent");
	assert_non_null(strstr(x->note, "GRUB_CMDLINE_LINUX"));
	assert_non_null(strstr(x->note, "page_alloc.shuffle=1"));
	/* Report-only: /proc/cmdline is untouched. */
	assert_non_null(strstr(tu_read(f->root, "proc/cmdline"), "lockdown=integrity\n"));
}

static void test_modules_disabled(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;

	assert_int_equal(load(f, "verify_unloaded = no\nmodules_disabled = yes\n"), 0);
	assert_int_equal(layer_modules_ops.check(f->layer, &f->out), 0);
	x = find(f, "kernel.modules_disabled");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_non_null(strstr(x->note, "irreversible"));

	/* Not before the firewall's nf_tables is in the kernel. */
	findings_reset(&f->out);
	assert_int_equal(layer_modules_ops.apply(f->layer, false, &f->out), 0);
	x = find(f, "kernel.modules_disabled");
	assert_int_equal(x->action, FINDING_ACTION_CANNOT_FIX);
	assert_non_null(strstr(x->note, "nf_tables"));
	assert_string_equal(tu_read(f->root, "proc/sys/kernel/modules_disabled"), "0\n");

	tu_write(f->root, "sys/module/nf_tables/refcnt", "0\n");
	findings_reset(&f->out);
	assert_int_equal(layer_modules_ops.apply(f->layer, false, &f->out), 0);
	x = find(f, "kernel.modules_disabled");
	assert_int_equal(x->action, FINDING_ACTION_REPAIRED);
	assert_string_equal(x->actual, "1");
	assert_string_equal(tu_read(f->root, "proc/sys/kernel/modules_disabled"), "1\n");

	findings_reset(&f->out);
	assert_int_equal(layer_modules_ops.check(f->layer, &f->out), 0);
	assert_int_equal(find(f, "kernel.modules_disabled")->state, FINDING_COMPLIANT);
}

#define SB_VAR "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"

static const char *tpath(const char *root, const char *rel)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return path;
}

/* efivarfs content: 4 attribute bytes (NV|BS|RT), then the value. */
static void write_efivar(const char *root, const char *rel, const char *data, size_t len)
{
	char path[4096];
	int fd;

	tu_write(root, rel, "");
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_secure_boot(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;
	enum modules_secure_boot sb;

	assert_int_equal(load(f, "verify_unloaded = no\nrequire_secure_boot = yes\n"), 0);

	/* No /sys/firmware/efi: a BIOS boot, no Secure Boot possible. */
	assert_int_equal(modules_secure_boot_read(f->env.root_fd, &sb), 0);
	assert_int_equal(sb, MODULES_SB_NO_UEFI);
	assert_int_equal(layer_modules_ops.check(f->layer, &f->out), 0);
	x = find(f, "boot:secure_boot");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_int_equal(x->action, FINDING_ACTION_CANNOT_FIX);
	assert_string_equal(x->expected, "enabled");
	assert_string_equal(x->actual, "disabled");
	assert_non_null(strstr(x->note, "not booted through UEFI"));

	/* UEFI, efivarfs not mounted: unknown, never guessed. */
	tu_write(f->root, "sys/firmware/efi/fw_platform_size", "64\n");
	assert_int_equal(mkdir(tpath(f->root, "sys/firmware/efi/efivars"), 0755), 0);
	assert_int_equal(modules_secure_boot_read(f->env.root_fd, &sb), -ENOTCONN);
	findings_reset(&f->out);
	assert_int_equal(layer_modules_ops.check(f->layer, &f->out), 0);
	x = find(f, "boot:secure_boot");
	assert_int_equal(x->state, FINDING_ERROR);
	assert_non_null(strstr(x->note, "efivarfs is not mounted"));

	/* Secure Boot off; apply cannot fix it and says so. */
	write_efivar(f->root, SB_VAR, "\x06\x00\x00\x00\x00", 5);
	findings_reset(&f->out);
	assert_int_equal(layer_modules_ops.apply(f->layer, false, &f->out), 0);
	x = find(f, "boot:secure_boot");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_int_equal(x->action, FINDING_ACTION_CANNOT_FIX);
	assert_string_equal(x->actual, "disabled");
	assert_non_null(strstr(x->note, "firmware"));

	/* On. */
	write_efivar(f->root, SB_VAR, "\x06\x00\x00\x00\x01", 5);
	assert_int_equal(modules_secure_boot_read(f->env.root_fd, &sb), 0);
	assert_int_equal(sb, MODULES_SB_ENABLED);
	findings_reset(&f->out);
	assert_int_equal(layer_modules_ops.check(f->layer, &f->out), 0);
	x = find(f, "boot:secure_boot");
	assert_int_equal(x->state, FINDING_COMPLIANT);
	assert_string_equal(x->actual, "enabled");

	/* Not the variable's 5 bytes: an error, not a guess. */
	write_efivar(f->root, SB_VAR, "\x06\x00\x00\x00\x01\x01", 6);
	assert_int_equal(modules_secure_boot_read(f->env.root_fd, &sb), -EINVAL);

	/* Variable absent while efivarfs lists others: firmware without it. */
	unlink(tpath(f->root, SB_VAR));
	write_efivar(f->root, "sys/firmware/efi/efivars/BootOrder-8be4df61-93ca-11d2-aa0d-00e098032b8c",
		     "\x07\x00\x00\x00\x01\x00", 6);
	assert_int_equal(modules_secure_boot_read(f->env.root_fd, &sb), 0);
	assert_int_equal(sb, MODULES_SB_DISABLED);
}

static void test_secure_boot_not_required(void **state)
{
	struct fixture *f = *state;
	const struct finding *x;

	/* Default: reported, never drift. */
	assert_int_equal(load(f, "verify_unloaded = no\n"), 0);
	write_efivar(f->root, SB_VAR, "\x06\x00\x00\x00\x00", 5);
	assert_int_equal(layer_modules_ops.check(f->layer, &f->out), 0);
	x = find(f, "boot:secure_boot");
	assert_int_equal(x->state, FINDING_COMPLIANT);
	assert_string_equal(x->actual, "disabled");
	assert_null(x->expected);
	assert_non_null(strstr(x->note, "not required"));
}

static void test_secure_boot_bad_value(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "require_secure_boot = maybe\n"), -JEFE_EPOLICY);
	assert_true(has_error(f, "require_secure_boot"));
}

static void test_watch_sees_edit(void **state)
{
	struct fixture *f = *state;
	struct watch_set ws = { 0 };
	bool recheck = false;

	tu_write(f->root, "etc/modprobe.d/other.conf", "\n");
	assert_int_equal(load(f, "verify_unloaded = yes\n"), 0);
	assert_int_equal(layer_modules_ops.watch(f->layer, &ws), 0);
	assert_int_equal(ws.n, 1);
	assert_int_equal(layer_modules_ops.on_event(f->layer, ws.fds[0], EPOLLIN, &recheck), 0);
	assert_false(recheck);
	tu_write(f->root, "etc/modprobe.d/jefe-blacklist.conf", "# tampered\n");
	assert_int_equal(layer_modules_ops.on_event(f->layer, ws.fds[0], EPOLLIN, &recheck), 0);
	assert_true(recheck);
}

/* A symlink planted at the managed path is replaced, never written through. */
static void test_symlink_replaced(void **state)
{
	struct fixture *f = *state;
	char link[4096];
	struct stat sb;

	tu_write(f->root, "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
	tu_write(f->root, "etc/modprobe.d/other.conf", "\n");
	snprintf(link, sizeof(link), "%s/etc/modprobe.d/jefe-blacklist.conf", f->root);
	assert_int_equal(symlink("/etc/passwd", link), 0);
	assert_int_equal(load(f, "blacklist = cramfs\nverify_unloaded = no\n"), 0);
	assert_int_equal(layer_modules_ops.check(f->layer, &f->out), 0);
	assert_string_equal(find(f, MODULES_BLACKLIST_FILE)->actual, "a symlink");
	findings_reset(&f->out);
	assert_int_equal(layer_modules_ops.apply(f->layer, false, &f->out), 0);
	assert_int_equal(find(f, MODULES_BLACKLIST_FILE)->action, FINDING_ACTION_REPAIRED);
	assert_int_equal(lstat(link, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_string_equal(tu_read(f->root, "etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
}

/* /etc/modprobe.d a symlink out of the tree: the write stays inside the root. */
static void test_symlinked_dir_stays_in_root(void **state)
{
	struct fixture *f = *state;
	char *outside = tu_mkdtemp();
	char link[4096];

	snprintf(link, sizeof(link), "%s/etc", f->root);
	mkdir(link, 0755);
	snprintf(link, sizeof(link), "%s/etc/modprobe.d", f->root);
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(load(f, "blacklist = cramfs\nverify_unloaded = no\n"), 0);
	assert_int_equal(layer_modules_ops.apply(f->layer, false, &f->out), 0);
	/* Nothing may appear in the directory outside the root. */
	assert_string_equal(tu_read(outside, "jefe-blacklist.conf"), "");
	/* The same with /etc itself a link out: no directory is made there either. */
	{
		char p[4096];
		struct stat sb;

		snprintf(p, sizeof(p), "%s/etc/modprobe.d", f->root);
		assert_int_equal(unlink(p), 0);
		snprintf(p, sizeof(p), "%s/etc", f->root);
		snprintf(link, sizeof(link), "%s/etc.real", f->root);
		assert_int_equal(rename(p, link), 0);	/* the policy is loaded already */
		assert_int_equal(symlink(outside, p), 0);
		findings_reset(&f->out);
		assert_int_equal(layer_modules_ops.apply(f->layer, false, &f->out), 0);
		snprintf(p, sizeof(p), "%s/modprobe.d", outside);
		assert_int_equal(stat(p, &sb), -1);
		/* Resolved inside the root, the link names <root><outside>, which is
		 * not there: the repair fails, and says so. */
		assert_int_equal(find(f, MODULES_BLACKLIST_FILE)->action, FINDING_ACTION_FAILED);
	}
	tu_rmtree(outside);
	free(outside);
}

/* No [modules] section: the layer does nothing at all (the shipped 20-modules.conf turns it on). */
static void test_inactive_without_section(void **state)
{
	struct fixture *f = *state;
	struct watch_set ws = { 0 };

	tu_write(f->root, "etc/jefe/jefe.conf", "[agent]\nmode = enforce\n");
	assert_int_equal(policy_load(&f->policy, f->env.root_fd, "/", TU_MAIN_FILE, &f->errs), 0);
	assert_int_equal(layer_load(&layer_modules_ops, &f->layer, &f->env, f->policy, &f->errs), 0);
	assert_int_equal(layer_modules_ops.apply(f->layer, false, &f->out), 0);
	assert_int_equal(f->out.n, 0);
	assert_string_equal(tu_read(f->root, "etc/modprobe.d/jefe-blacklist.conf"), "");
	assert_int_equal(layer_modules_ops.watch(f->layer, &ws), 0);
	assert_int_equal(ws.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_normalize),
		cmocka_unit_test_setup_teardown(test_refuses_live_image_modules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_isofs_overlay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blacklist_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loaded_modules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_builtin_module, setup, teardown),
		cmocka_unit_test(test_cmdline_split),
		cmocka_unit_test_setup_teardown(test_cmdline_findings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modules_disabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secure_boot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secure_boot_not_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secure_boot_bad_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_sees_edit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inactive_without_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinked_dir_stays_in_root, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
