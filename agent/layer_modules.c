/* SPDX-License-Identifier: MIT */
/*
 * Layer 2: kernel modules and boot.
 *
 * - Modules a hardened server does not need are blocked through one
 *   managed modprobe.d file: "install X /bin/false" stops explicit
 *   modprobe and the kernel's on-demand loading (request_module), and
 *   "blacklist X" stops alias matches (udev coldplug).
 * - Those modules are verified not loaded (/proc/modules).  One that is
 *   loaded already cannot be fixed safely by us (unloading a filesystem
 *   in use fails or worse): it is reported with the fix.
 * - kernel.modules_disabled=1, only when the policy asks: irreversible
 *   until reboot, so it is the last thing done and only once the
 *   firewall's nf_tables is in the kernel.
 * - /proc/cmdline against required parameters: report-only, a command
 *   line only changes at the next boot.
 * - UEFI Secure Boot as the firmware reports it (efivarfs): report-only,
 *   since only the firmware's setup can turn it on.
 */
#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <limits.h>
#include <unistd.h>

#include "errors.h"
#include "layer.h"
#include "layer_modules.h"
#include "layers.h"
#include "rootfs.h"
#include "util.h"

#define MODULES_NAME_MAX	56	/* MODULE_NAME_LEN - 1 in the kernel */
#define MODULES_DISABLED_PATH	"/proc/sys/kernel/modules_disabled"
#define MODULES_PROC_PATH	"/proc/modules"
#define MODULES_CMDLINE_PATH	"/proc/cmdline"
#define MODULES_EFI_DIR		"/sys/firmware/efi"
#define MODULES_EFIVARS_DIR	"/sys/firmware/efi/efivars"
/* EFI_GLOBAL_VARIABLE's GUID: the variable the firmware sets at boot. */
#define MODULES_SECUREBOOT_VAR	MODULES_EFIVARS_DIR "/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"

/* block_usb_storage = yes: what a USB or FireWire disk needs. */
static const char *const modules_storage[] = { "usb_storage", "uas", "firewire_sbp2" };

/* What the live image cannot boot or run without. */
static const struct {
	const char *name;
	const char *why;
} modules_protected[] = {
	{ "squashfs", "the live image's root filesystem is a squashfs" },
	{ "isofs", "the live image is read from an ISO 9660 filesystem" },
	{ "overlay", "the live image's writable root is an overlay" },
	{ "loop", "the live image mounts its squashfs through a loop device" },
	{ "sr_mod", "the live image boots from an optical drive" },
	{ "cdrom", "the live image boots from an optical drive" },
};

struct modules_state {
	const struct jefe_env *env;
	struct strv block;		/* normalized names */
	bool verify_unloaded;
	bool modules_disabled;
	struct strv cmdline;		/* required parameters */
	bool require_secure_boot;
	bool active;			/* the policy has a [modules] section */
	int inotify_fd;
};

int modules_name_normalize(const char *name, char *out, size_t size)
{
	size_t len = strlen(name);

	if (len == 0 || len > MODULES_NAME_MAX || len >= size)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && c != '_' && c != '-')
			return -EINVAL;
		out[i] = c == '-' ? '_' : (char)c;
	}
	out[len] = '\0';
	return 0;
}

const char *modules_name_protected(const char *normalized)
{
	for (size_t i = 0; i < ARRAY_SIZE(modules_protected); i++)
		if (strcmp(modules_protected[i].name, normalized) == 0)
			return modules_protected[i].why;
	return NULL;
}

int modules_blacklist_render(const struct strv *mods, char **out)
{
	static const char header[] =
		"# Managed by jefe (layer modules): changes here are drift and are\n"
		"# overwritten.  Change the [modules] policy in /etc/jefe/ instead.\n";
	size_t cap = sizeof(header), len;
	char *buf;

	for (size_t i = 0; i < mods->n; i++)
		cap += 2 * strlen(mods->v[i]) + 40;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	len = (size_t)snprintf(buf, cap, "%s", header);
	for (size_t i = 0; i < mods->n; i++)
		len += (size_t)snprintf(buf + len, cap - len,
					"install %s /bin/false\nblacklist %s\n",
					mods->v[i], mods->v[i]);
	*out = buf;
	return 0;
}

int modules_loaded_parse(const char *text, struct strv *out)
{
	const char *line = text;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t n = strcspn(line, " \t\n");
		char name[MODULES_NAME_MAX + 1];

		if (n > 0 && n <= MODULES_NAME_MAX) {
			int err;

			memcpy(name, line, n);
			name[n] = '\0';
			err = strv_push(out, name);
			if (err)
				return err;
		}
		line = end ? end + 1 : NULL;
	}
	return 0;
}

int modules_builtin_parse(const char *text, struct strv *out)
{
	const char *line = text;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *base = memrchr(line, '/', len);
		char raw[MODULES_NAME_MAX + 1], name[MODULES_NAME_MAX + 1];
		size_t n;

		base = base ? base + 1 : line;
		n = len - (size_t)(base - line);
		if (n > 3 && memcmp(base + n - 3, ".ko", 3) == 0)
			n -= 3;
		if (n > 0 && n <= MODULES_NAME_MAX) {
			memcpy(raw, base, n);
			raw[n] = '\0';
			if (modules_name_normalize(raw, name, sizeof(name)) == 0 &&
			    !strv_contains(out, name)) {
				int err = strv_push(out, name);

				if (err)
					return err;
			}
		}
		line = end ? end + 1 : NULL;
	}
	return 0;
}

/* The running kernel's built-in modules below the root; none when unknown. */
static int modules_builtin_read(int root_fd, struct strv *out)
{
	struct utsname u;
	char path[PATH_MAX], *text = NULL;
	int err;

	if (uname(&u) < 0)
		return -errno;
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.builtin", u.release);
	err = root_read_file_alloc(root_fd, path, &text, NULL);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	err = modules_builtin_parse(text, out);
	free(text);
	return err;
}

int modules_cmdline_split(const char *cmdline, struct strv *words)
{
	size_t len = strlen(cmdline);
	char *word = malloc(len + 1);
	const char *p = cmdline;
	int err = 0;

	if (!word)
		return -ENOMEM;
	while (*p && !err) {
		bool quoted = false;
		size_t n = 0;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		/* As the kernel's next_arg(): quotes group, and are dropped. */
		for (; *p && (quoted || !isspace((unsigned char)*p)); p++) {
			if (*p == '"')
				quoted = !quoted;
			else
				word[n++] = *p;
		}
		word[n] = '\0';
		err = strv_push(words, word);
	}
	free(word);
	return err;
}

/* Compare parameter names, where the kernel takes '-' and '_' as one. */
static bool cmdline_name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		char ca = a[i] == '-' ? '_' : a[i];
		char cb = b[i] == '-' ? '_' : b[i];

		if (ca != cb)
			return false;
	}
	return true;
}

bool modules_cmdline_satisfies(const struct strv *words, const char *required,
			       const char **word)
{
	const char *req_eq = strchr(required, '=');
	size_t req_name = req_eq ? (size_t)(req_eq - required) : strlen(required);
	const char *last = NULL;

	for (size_t i = 0; i < words->n; i++) {
		const char *w = words->v[i];
		const char *eq = strchr(w, '=');
		size_t name = eq ? (size_t)(eq - w) : strlen(w);

		if (cmdline_name_eq(w, name, required, req_name))
			last = w;
	}
	*word = last;
	if (!last)
		return false;
	if (!req_eq)
		return true;
	if (req_eq[1] == '\0') {
		const char *eq = strchr(last, '=');

		return eq && eq[1] != '\0';
	}
	return strcmp(strchr(last, '=') ? strchr(last, '=') + 1 : "", req_eq + 1) == 0;
}

/* ---- load ---- */

struct modules_settings {
	const char *blacklist;
	bool block_usb_storage;
	bool verify_unloaded;
	bool modules_disabled;
	const char *cmdline_required;
	bool require_secure_boot;
};

static const struct policy_key modules_keys[] = {
	/* Default: uncommon filesystems and network protocols (CIS 1.1.1.x, 3.5.x). */
	PK_LIST("blacklist", struct modules_settings, blacklist,
		"cramfs freevxfs hfs hfsplus jffs2 udf dccp sctp rds tipc",
		"modules to block (install NAME /bin/false and blacklist NAME in modprobe.d)", "CIS 1.1.1, 3.2"),
	PK_BOOL("block_usb_storage", struct modules_settings, block_usb_storage, "no",
		"also block usb_storage", ""),
	PK_BOOL("verify_unloaded", struct modules_settings, verify_unloaded, "yes",
		"report a blocked module that is loaded", ""),
	PK_BOOL("modules_disabled", struct modules_settings, modules_disabled, "no",
		"set kernel.modules_disabled = 1 once the boot is done: no module loads after", ""),
	PK_STRING("cmdline_required", struct modules_settings, cmdline_required, "",
		  "kernel command-line parameters that must be present", ""),
	PK_BOOL("require_secure_boot", struct modules_settings, require_secure_boot, "no",
		"report a boot without UEFI Secure Boot as drift", ""),
	PK_END,
};

static void modules_state_free(void *p)
{
	struct modules_state *st = p;

	if (!st)
		return;
	strv_free(&st->block);
	strv_free(&st->cmdline);
	if (st->inotify_fd >= 0)
		close(st->inotify_fd);
	free(st);
}

static int modules_add_block(struct modules_state *st, const struct policy_entry *e,
			     const char *name, struct policy_errors *errs)
{
	char norm[MODULES_NAME_MAX + 1];
	const char *why;

	if (modules_name_normalize(name, norm, sizeof(norm)) < 0)
		return policy_error_at(errs, e, "'%s' is not a kernel module name", name) ?: 1;
	why = modules_name_protected(norm);
	if (why)
		return policy_error_at(errs, e, "refusing to block module '%s': %s", name, why) ?: 1;
	if (strv_contains(&st->block, norm))
		return 0;
	return strv_push(&st->block, norm);
}

/* e is where the list was set, NULL for the default. */
static int modules_load_list(struct modules_state *st, const struct policy_entry *e,
			     const char *list, struct policy_errors *errs, int *bad)
{
	struct strv names = { 0 };
	int err = strv_split(&names, list, " \t,");

	for (size_t i = 0; !err && i < names.n; i++) {
		err = modules_add_block(st, e, names.v[i], errs);
		if (err == 1) {
			(*bad)++;
			err = 0;
		}
	}
	strv_free(&names);
	return err;
}

static int modules_load_cmdline(struct modules_state *st, const struct policy_entry *e,
				struct policy_errors *errs, int *bad)
{
	struct strv words = { 0 };
	int err = modules_cmdline_split(e->value, &words);

	for (size_t i = 0; !err && i < words.n; i++) {
		const char *w = words.v[i];

		if (w[0] == '=' || strchr(w, '\'')) {
			err = policy_error_at(errs, e, "'%s' is not a kernel parameter", w);
			(*bad)++;
			continue;
		}
		err = strv_push(&st->cmdline, w);
	}
	strv_free(&words);
	return err;
}

static int modules_load(void **state, const struct jefe_env *env,
			const struct policy *policy, const void *settings,
			struct policy_errors *errs)
{
	const struct modules_settings *set = settings;
	struct modules_state *st = calloc(1, sizeof(*st));
	const struct policy_entry *e;
	bool usb_storage = set->block_usb_storage;
	size_t it = 0;
	int err = 0, bad = 0;

	if (!st)
		return -ENOMEM;
	st->env = env;
	st->inotify_fd = -1;
	st->verify_unloaded = set->verify_unloaded;
	st->modules_disabled = set->modules_disabled;
	st->require_secure_boot = set->require_secure_boot;
	e = policy_get(policy, "modules", "blacklist");
	err = modules_load_list(st, e, set->blacklist, errs, &bad);
	if (!err && (e = policy_get(policy, "modules", "cmdline_required")))
		err = modules_load_cmdline(st, e, errs, &bad);
	/*
	 * No [modules] section at all: the layer has nothing to do (the
	 * shipped policy.d/20-modules.conf is what turns it on).
	 */
	it = 0;
	st->active = policy_next(policy, "modules", &it) != NULL;
	if (!st->active) {
		st->verify_unloaded = false;
		strv_free(&st->block);
	}
	/* Removable mass storage: USB (the older driver and UAS) and FireWire (SBP-2). */
	for (size_t i = 0; !err && usb_storage && i < ARRAY_SIZE(modules_storage); i++)
		if (!strv_contains(&st->block, modules_storage[i]))
			err = strv_push(&st->block, modules_storage[i]);
	if (err || bad) {
		modules_state_free(st);
		return err ? err : -JEFE_EPOLICY;
	}
	*state = st;
	return 0;
}

/* ---- check and apply ---- */

/*
 * CIS Debian Linux 12 v1.0.1 "Ensure NAME kernel module is not available"
 * (1.1.1.x filesystems and USB storage, 3.2.x network protocols).
 */
static const struct {
	const char *name;	/* as /proc/modules spells it */
	struct finding_refs refs;
} modules_refs[] = {
	{ "cramfs", REFS_INIT(REF_CIS("1.1.1.1")) },
	{ "freevxfs", REFS_INIT(REF_CIS("1.1.1.2")) },
	{ "hfs", REFS_INIT(REF_CIS("1.1.1.3")) },
	{ "hfsplus", REFS_INIT(REF_CIS("1.1.1.4")) },
	{ "jffs2", REFS_INIT(REF_CIS("1.1.1.5")) },
	{ "overlay", REFS_INIT(REF_CIS("1.1.1.6")) },
	{ "squashfs", REFS_INIT(REF_CIS("1.1.1.7")) },
	{ "udf", REFS_INIT(REF_CIS("1.1.1.8")) },
	{ "usb_storage", REFS_INIT(REF_CIS("1.1.1.9")) },
	{ "dccp", REFS_INIT(REF_CIS("3.2.1")) },
	{ "tipc", REFS_INIT(REF_CIS("3.2.2")) },
	{ "rds", REFS_INIT(REF_CIS("3.2.3")) },
	{ "sctp", REFS_INIT(REF_CIS("3.2.4")) },
};

static const struct finding_refs *modules_refs_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(modules_refs); i++)
		if (strcmp(modules_refs[i].name, name) == 0)
			return &modules_refs[i].refs;
	return NULL;
}

static int modules_add(struct findings *out, const char *item, const char *expected,
		       const char *actual, enum finding_state state,
		       enum finding_action action, const struct finding_refs *refs,
		       const char *note)
{
	return findings_add(out, &(struct finding){
		.layer = "modules",
		.item = item,
		.expected = expected,
		.actual = actual,
		.refs = refs ? *refs : REFS_NONE,
		.note = note,
		.state = state,
		.action = action,
	});
}

/* The managed file: 0 equal, 1 different or absent, -errno unreadable. */
static int modules_file_differs(struct modules_state *st, const char *want, const char **actual)
{
	char *have = NULL;
	struct stat sb;
	int err, fd;

	fd = rootfs_open(st->env->root_fd, MODULES_BLACKLIST_FILE,
			 O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -ENOENT) {
		*actual = "absent";
		return 1;
	}
	/* A planted symlink is replaced by apply's rename, never written through. */
	if (fd == -ELOOP) {
		*actual = "a symlink";
		return 1;
	}
	if (fd < 0) {
		*actual = "unreadable";
		return fd;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		*actual = "not a regular file";
		return 1;
	}
	close(fd);
	err = root_read_file_alloc(st->env->root_fd, MODULES_BLACKLIST_FILE, &have, NULL);
	if (err) {
		*actual = "unreadable";
		return err;
	}
	if (strcmp(have, want) != 0) {
		*actual = "edited outside the agent";
		err = 1;
	} else if ((sb.st_mode & 07777) != 0644) {
		*actual = "wrong mode";
		err = 1;
	} else {
		*actual = "as managed";
	}
	free(have);
	return err;
}

static int modules_file_run(struct modules_state *st, bool apply, bool dry_run,
			    struct findings *out)
{
	char expected[96];
	const char *actual;
	char *want = NULL;
	int err, diff;

	err = modules_blacklist_render(&st->block, &want);
	if (err)
		return err;
	snprintf(expected, sizeof(expected), "blocks %zu modules", st->block.n);
	diff = modules_file_differs(st, want, &actual);
	if (diff < 0) {
		err = modules_add(out, MODULES_BLACKLIST_FILE, expected, actual,
				  FINDING_ERROR, FINDING_ACTION_NONE, NULL,
				  jefe_strerror(diff));
	} else if (diff == 0) {
		err = modules_add(out, MODULES_BLACKLIST_FILE, expected, actual,
				  FINDING_COMPLIANT, FINDING_ACTION_NONE, NULL, NULL);
	} else if (!apply || dry_run) {
		char *have = NULL, *patch = NULL;

		/* The dry run shows what it would write, as a diff of the file. */
		if (apply) {
			if (root_read_file_alloc(st->env->root_fd, MODULES_BLACKLIST_FILE, &have,
						 NULL) < 0)
				have = NULL;
			err = diff_unified(MODULES_BLACKLIST_FILE, have, want, &patch);
			free(have);
			if (err) {
				free(want);
				return err;
			}
		}
		err = modules_add(out, MODULES_BLACKLIST_FILE, expected, actual,
				  FINDING_DRIFT, apply ? FINDING_ACTION_WOULD_REPAIR : FINDING_ACTION_NONE,
				  NULL, patch);
		free(patch);
	} else {
		const char *now = NULL;
		int werr = rootfs_mkdir_p(st->env->root_fd, "/etc/modprobe.d", 0755);

		if (!werr)
			werr = rootfs_write_atomic(st->env->root_fd, MODULES_BLACKLIST_FILE,
						   want, strlen(want), 0644);
		/* Read back: the repair counts only if the file now is what we wrote. */
		if (!werr && modules_file_differs(st, want, &now) != 0)
			werr = -EIO;
		err = modules_add(out, MODULES_BLACKLIST_FILE, expected, werr ? actual : now,
				  FINDING_DRIFT,
				  werr ? FINDING_ACTION_FAILED : FINDING_ACTION_REPAIRED,
				  NULL, werr ? jefe_strerror(werr) : NULL);
	}
	free(want);
	return err;
}

static int modules_loaded_run(struct modules_state *st, bool apply, struct findings *out)
{
	struct strv loaded = { 0 }, builtin = { 0 };
	char *text = NULL;
	int err;

	if (!st->verify_unloaded)
		return 0;
	err = root_read_file_alloc(st->env->root_fd, MODULES_PROC_PATH, &text, NULL);
	if (err == -ENOENT) {
		/* A kernel without CONFIG_MODULES: nothing can ever be loaded. */
		return modules_add(out, "loaded", "none of the blocked modules", "none",
				   FINDING_COMPLIANT, FINDING_ACTION_NONE, NULL,
				   "no /proc/modules: kernel without loadable modules");
	}
	if (err)
		return modules_add(out, "loaded", "none of the blocked modules", NULL,
				   FINDING_ERROR, FINDING_ACTION_NONE, NULL, jefe_strerror(err));
	err = modules_loaded_parse(text, &loaded);
	free(text);
	/* Unknown (unreadable) built-ins are not fatal: /proc/modules still speaks. */
	if (!err && modules_builtin_read(st->env->root_fd, &builtin) == -ENOMEM)
		err = -ENOMEM;
	for (size_t i = 0; !err && i < st->block.n; i++) {
		const char *m = st->block.v[i];
		char item[80], note[160];

		snprintf(item, sizeof(item), "module:%s", m);
		if (strv_contains(&builtin, m)) {
			/* modprobe.d cannot reach code that is part of the kernel image. */
			err = modules_add(out, item, "not loaded", "built into the kernel",
					  FINDING_DRIFT,
					  apply ? FINDING_ACTION_CANNOT_FIX : FINDING_ACTION_NONE,
					  modules_refs_find(m),
					  "built in: no modprobe.d line can block it; only a kernel built without it can");
			continue;
		}
		if (!strv_contains(&loaded, m)) {
			err = modules_add(out, item, "not loaded", "not loaded",
					  FINDING_COMPLIANT, FINDING_ACTION_NONE,
					  modules_refs_find(m), NULL);
			continue;
		}
		/* Blocked from now on, but unloading one in use is not ours to risk. */
		snprintf(note, sizeof(note),
			 "loaded before it was blocked: run `modprobe -r %s` or reboot", m);
		err = modules_add(out, item, "not loaded", "loaded", FINDING_DRIFT,
				  apply ? FINDING_ACTION_CANNOT_FIX : FINDING_ACTION_NONE,
				  modules_refs_find(m), note);
	}
	strv_free(&loaded);
	strv_free(&builtin);
	return err;
}

static int modules_disabled_read(struct modules_state *st, char *buf, size_t size)
{
	ssize_t n = root_read_file(st->env->root_fd, MODULES_DISABLED_PATH, buf, size);

	if (n < 0)
		return (int)n;
	str_trim(buf);
	return 0;
}

static int modules_disabled_run(struct modules_state *st, bool apply, bool dry_run,
				struct findings *out)
{
	static const char warn[] =
		"irreversible: no module can be loaded until the next boot";
	const char *item = "kernel.modules_disabled";
	char value[16];
	struct stat sb;
	int err, fd;

	if (!st->modules_disabled)
		return 0;
	err = modules_disabled_read(st, value, sizeof(value));
	if (err == -ENOENT)
		return modules_add(out, item, "1", NULL, FINDING_UNSUPPORTED,
				   FINDING_ACTION_NONE, NULL, "kernel without loadable modules");
	if (err)
		return modules_add(out, item, "1", NULL, FINDING_ERROR, FINDING_ACTION_NONE,
				   NULL, jefe_strerror(err));
	if (strcmp(value, "1") == 0)
		return modules_add(out, item, "1", value, FINDING_COMPLIANT,
				   FINDING_ACTION_NONE, NULL, NULL);
	if (!apply || dry_run)
		return modules_add(out, item, "1", value, FINDING_DRIFT,
				   apply ? FINDING_ACTION_WOULD_REPAIR : FINDING_ACTION_NONE,
				   NULL, warn);
	/*
	 * The firewall layer applies after this one and needs nf_tables: set
	 * the switch only once nf_tables is in the kernel (the boot service
	 * has applied the firewall by the time the daemon runs), or the
	 * firewall could never be loaded again until reboot.
	 */
	if (rootfs_stat(st->env->root_fd, "/sys/module/nf_tables", &sb, true) < 0)
		return modules_add(out, item, "1", value, FINDING_DRIFT,
				   FINDING_ACTION_CANNOT_FIX, NULL,
				   "deferred: nf_tables is not loaded yet; apply the firewall layer first");
	fd = rootfs_open(st->env->root_fd, MODULES_DISABLED_PATH, O_WRONLY | O_NOFOLLOW);
	if (fd < 0) {
		err = fd;
	} else {
		if (write(fd, "1\n", 2) != 2)
			err = -errno;
		close(fd);
	}
	if (!err)
		err = modules_disabled_read(st, value, sizeof(value));
	if (!err && strcmp(value, "1") != 0)
		err = -EIO;
	return modules_add(out, item, "1", value, FINDING_DRIFT,
			   err ? FINDING_ACTION_FAILED : FINDING_ACTION_REPAIRED,
			   NULL, err ? jefe_strerror(err) : warn);
}

static int modules_cmdline_run(struct modules_state *st, bool apply, struct findings *out)
{
	struct strv words = { 0 };
	char *text = NULL;
	int err;

	if (st->cmdline.n == 0)
		return 0;
	err = root_read_file_alloc(st->env->root_fd, MODULES_CMDLINE_PATH, &text, NULL);
	if (err)
		return modules_add(out, "cmdline", NULL, NULL, FINDING_ERROR,
				   FINDING_ACTION_NONE, NULL, jefe_strerror(err));
	err = modules_cmdline_split(text, &words);
	free(text);
	for (size_t i = 0; !err && i < st->cmdline.n; i++) {
		const char *req = st->cmdline.v[i];
		const char *word;
		char item[128], note[256];
		bool ok = modules_cmdline_satisfies(&words, req, &word);

		snprintf(item, sizeof(item), "cmdline:%.*s", (int)strcspn(req, "="), req);
		if (ok) {
			err = modules_add(out, item, req, word, FINDING_COMPLIANT,
					  FINDING_ACTION_NONE, NULL, NULL);
			continue;
		}
		/* The command line is the boot loader's: name the fix, take effect at reboot. */
		snprintf(note, sizeof(note),
			 "add '%s%s' to GRUB_CMDLINE_LINUX in /etc/default/grub (or the ISO's boot entries), then reboot",
			 req, req[strlen(req) - 1] == '=' ? "<value>" : "");
		err = modules_add(out, item, req, word ? word : "absent", FINDING_DRIFT,
				  FINDING_ACTION_CANNOT_FIX, NULL, note);
	}
	strv_free(&words);
	return err;
}

/* Does the directory below root hold any entry?  1 yes, 0 no, -errno. */
static int modules_dir_has_entries(int root_fd, const char *path)
{
	struct dirent *de;
	DIR *d;
	int err, found = 0;

	err = rootfs_opendir(root_fd, path, &d);
	if (err < 0)
		return err;
	while (!found && (de = readdir(d)))
		found = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return found;
}

int modules_secure_boot_read(int root_fd, enum modules_secure_boot *state)
{
	char *data = NULL;
	size_t len = 0;
	int err, fd;

	err = root_read_file_alloc(root_fd, MODULES_SECUREBOOT_VAR, &data, &len);
	if (!err) {
		/* efivarfs: the variable's 4 attribute bytes, then its value. */
		if (len != 5 || data[4] > 1)
			err = -EINVAL;
		else
			*state = data[4] ? MODULES_SB_ENABLED : MODULES_SB_DISABLED;
		free(data);
		return err;
	}
	if (err != -ENOENT)
		return err;
	/* No /sys/firmware/efi: the kernel was not started by UEFI firmware. */
	fd = rootfs_open(root_fd, MODULES_EFI_DIR, O_RDONLY | O_DIRECTORY);
	if (fd == -ENOENT) {
		*state = MODULES_SB_NO_UEFI;
		return 0;
	}
	if (fd < 0)
		return fd;
	close(fd);
	/*
	 * UEFI without the variable: firmware that has no Secure Boot at all,
	 * provided efivarfs is mounted (it then lists the other variables).
	 */
	err = modules_dir_has_entries(root_fd, MODULES_EFIVARS_DIR);
	if (err < 0)
		return err;
	if (err == 0)
		return -ENOTCONN;
	*state = MODULES_SB_DISABLED;
	return 0;
}

static int modules_secure_boot_run(struct modules_state *st, struct findings *out)
{
	static const char fix[] =
		"report-only: turn Secure Boot on in the firmware's setup "
		"(the ISO boots with Microsoft's UEFI CA keys or a site's own; see jefe.conf(5))";
	const char *item = "boot:secure_boot";
	const char *expected = st->require_secure_boot ? "enabled" : NULL;
	enum modules_secure_boot sb = MODULES_SB_DISABLED;
	const char *note = NULL;
	char why[512];
	int err;

	err = modules_secure_boot_read(st->env->root_fd, &sb);
	if (err) {
		if (err == -ENOTCONN)
			snprintf(why, sizeof(why), "UEFI boot, but efivarfs is not mounted on %s",
				 MODULES_EFIVARS_DIR);
		else
			snprintf(why, sizeof(why), "%s: %s", MODULES_SECUREBOOT_VAR,
				 jefe_strerror(err));
		return modules_add(out, item, expected, NULL,
				   st->require_secure_boot ? FINDING_ERROR : FINDING_UNSUPPORTED,
				   FINDING_ACTION_NONE, NULL, why);
	}
	if (sb == MODULES_SB_ENABLED)
		return modules_add(out, item, expected, "enabled", FINDING_COMPLIANT,
				   FINDING_ACTION_NONE, NULL, NULL);
	if (sb == MODULES_SB_NO_UEFI)
		note = "not booted through UEFI (BIOS or legacy boot): no Secure Boot";
	if (!st->require_secure_boot)
		return modules_add(out, item, NULL, "disabled", FINDING_COMPLIANT,
				   FINDING_ACTION_NONE, NULL,
				   note ? note : "not required (require_secure_boot = no)");
	if (note) {
		snprintf(why, sizeof(why), "%s; %s", note, fix);
		note = why;
	}
	return modules_add(out, item, expected, "disabled", FINDING_DRIFT,
			   FINDING_ACTION_CANNOT_FIX, NULL, note ? note : fix);
}

static int modules_run(struct modules_state *st, bool apply, bool dry_run, struct findings *out)
{
	int err = 0;

	if (st->active)
		err = modules_file_run(st, apply, dry_run, out);
	if (!err)
		err = modules_loaded_run(st, apply, out);
	if (!err)
		err = modules_cmdline_run(st, apply, out);
	if (!err && st->active)
		err = modules_secure_boot_run(st, out);
	/* Last: once set, nothing else in this layer could load anything. */
	if (!err)
		err = modules_disabled_run(st, apply, dry_run, out);
	return err;
}

static int modules_check(void *state, struct findings *out)
{
	return modules_run(state, false, false, out);
}

static int modules_apply(void *state, bool dry_run, struct findings *out)
{
	return modules_run(state, true, dry_run, out);
}

static int modules_watch(void *state, struct watch_set *ws)
{
	struct modules_state *st = state;
	int wd;

	if (!st->active)
		return 0;
	if (st->inotify_fd < 0) {
		st->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (st->inotify_fd < 0)
			return -errno;
		wd = rootfs_watch_add(st->inotify_fd, st->env->root_fd, "/etc/modprobe.d",
				      IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE |
				      IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO |
				      IN_DELETE_SELF | IN_MOVE_SELF);
		/* No modprobe.d yet: watch /etc, where it would be created. */
		if (wd == -ENOENT)
			wd = rootfs_watch_add(st->inotify_fd, st->env->root_fd, "/etc",
					      IN_CREATE | IN_MOVED_TO);
		if (wd < 0) {
			close(st->inotify_fd);
			st->inotify_fd = -1;
			return wd;
		}
	}
	return watch_set_add(ws, st->inotify_fd, EPOLLIN);
}

/* Every event is a change; one also tells us modprobe.d has appeared. */
static bool modules_event(void *ctx, const struct inotify_event *ev)
{
	struct modules_state *st = ctx;

	/* modprobe.d appeared after we fell back to watching /etc. */
	if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) && ev->len &&
	    strcmp(ev->name, "modprobe.d") == 0)
		rootfs_watch_add(st->inotify_fd, st->env->root_fd, "/etc/modprobe.d",
				 IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE |
				 IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO);
	return true;
}

static int modules_on_event(void *state, int fd, uint32_t events, bool *recheck)
{
	return layer_inotify_drain(fd, modules_event, state, recheck);
}

const struct layer_ops layer_modules_ops = {
	.name = "modules",
	.title = "kernel modules and boot",
	.keys = modules_keys,
	.settings_size = sizeof(struct modules_settings),
	.load = modules_load,
	.check = modules_check,
	.apply = modules_apply,
	.watch = modules_watch,
	.on_event = modules_on_event,
	.free = modules_state_free,
};
