/* SPDX-License-Identifier: MIT */
/*
 * Layer 6: filesystem permissions and integrity.
 *
 * - Modes and owners of critical files ([files.perms]), enforced and
 *   watched with inotify.  A mode in the policy is the most a file may
 *   have (CIS: "0640 or more restrictive"), so a stricter file is left
 *   alone and repair only takes bits away.
 * - SUID/SGID files in the usual binary directories against an
 *   allowlist: a bounded walk, not the whole disk.
 * - World-writable files, and world-writable directories without the
 *   sticky bit, in configured directories.
 * - Mount options of /tmp, /dev/shm, /var/tmp, and a read-only root where
 *   the image is immutable: report-only, they change with fstab/remount.
 * - A SHA-256 baseline of chosen files (sha256sum format, so sha256sum -c
 *   can check it without the agent), kept below the root in
 *   /var/lib/jefe: an edit outside the agent is drift even when mode and
 *   owner are intact.
 *
 * Every path is opened through rootfs_open() (RESOLVE_IN_ROOT) and
 * changed through the fd it returned, never by name: a symlink swapped in
 * between check and repair cannot redirect a chmod.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "files_cis.h"
#include "files_index.h"
#include "layer.h"
#include "layer_files.h"
#include "layers.h"
#include "rootfs.h"
#include "util.h"

#define FILES_LAYER	"files"
#define FILES_MOUNTS	"/proc/self/mounts"

struct files_perm {
	char *path;		/* absolute; the last component may be a glob */
	struct files_perm_spec spec;
};

/* A directory of the set-id or world-writable walk, watched for new entries. */
struct files_wdir {
	int wd;
	int depth;		/* as the walk counts: 1 for a configured directory */
	char *path;
};

/*
 * A watched directory and the entry of it that a check reads (a managed
 * path's last component, maybe a pattern); name NULL: the directory is
 * itself a managed path and every entry is news.  Anything else written
 * there (the daemon's own status.json beside files.sha256, an editor's
 * swap file beside /etc/passwd) changes no finding of this layer.
 */
struct files_wname {
	int wd;
	char *name;
};

struct files_state {
	const struct jefe_env *env;
	struct files_perm *perms;
	size_t n_perms;
	struct strv suid_allow;
	struct strv suid_dirs;
	bool suid_remove;
	struct strv ww_dirs;
	bool ww_remove;
	struct strv tmp_mounts;
	struct strv tmp_options;
	bool readonly_root;
	struct strv banners;		/* login banners that must not name the OS */
	bool accounts;			/* check passwd/shadow (report-only) */
	struct strv login_defs;		/* "KEY=VALUE" wanted in /etc/login.defs */
	bool core_limit;		/* "* hard core 0" in limits.conf or limits.d */
	char profile_umask[8];		/* octal umask the login shells' profile sets, "" unchecked */
	bool kernel_log;		/* rsyslog loads imklog: kernel messages reach syslog */
	struct strv ntp_servers;	/* chrony's sources (files_cis.c) */
	bool time_sync;			/* the running kernel's clock is synchronised */
	struct strv log_rotate;		/* logs a logrotate stanza must match */
	char root_umask[8];		/* octal umask root's start-up files may not weaken, "" unchecked */
	struct strv baseline;		/* edits are never accepted by apply */
	struct strv baseline_managed;	/* written by the agent: re-recorded by apply */
	bool active;			/* the policy has a files section */
	int inotify_fd;
	struct files_wdir *wdirs;	/* the walks' directories under watch */
	size_t n_wdirs;
	size_t cap_wdirs;
	bool wdirs_full;		/* the rest is left to the backstop walk */
	struct files_wname *wnames;	/* the entries the managed paths' watches are for */
	size_t n_wnames;
	size_t cap_wnames;
	unsigned long rehash_interval;	/* seconds; 0: hash on every check */
	struct files_index index;	/* the baseline files' hashes by identity */
};

/* ---- the [files] keyword table: parsing and defaults ---- */

struct files_settings {
	const char *suid_allowlist;
	const char *suid_dirs;
	bool suid_remove;
	const char *world_writable_dirs;
	bool world_writable_remove;
	const char *tmp_mounts;
	const char *tmp_mount_options;
	bool readonly_root;
	const char *baseline;
	const char *banners;
	bool accounts;
	const char *login_defs;
	bool core_limit;
	const char *profile_umask;
	bool kernel_log;
	const char *ntp_servers;
	bool time_sync;
	const char *log_rotate;
	const char *root_umask;
	const char *baseline_managed;
	unsigned long rehash_interval;
};

#define FS struct files_settings
static const struct policy_key files_keys[] = {
	PK_LIST("suid_allowlist", FS, suid_allowlist,
		"/usr/bin/passwd /usr/bin/chsh /usr/bin/chfn /usr/bin/gpasswd /usr/bin/newgrp "
		"/usr/bin/su /bin/su /usr/bin/mount /usr/bin/umount /bin/mount /bin/umount "
		"/usr/bin/sudo /usr/bin/chage /usr/bin/expiry /usr/bin/crontab /usr/bin/wall "
		"/usr/sbin/unix_chkpwd /sbin/unix_chkpwd /usr/lib/openssh/ssh-keysign "
		"/usr/libexec/ssh-keysign /usr/lib/dbus-1.0/dbus-daemon-launch-helper "
		"/bin/bbsuid",
		"set-id programs that may stay set-id (absolute paths, a pattern in the last component)", "CIS 7.1.13"),
	PK_LIST("suid_dirs", FS, suid_dirs,
		"/bin /sbin /usr/bin /usr/sbin /usr/local/bin /usr/local/sbin /usr/lib /usr/libexec",
		"directories walked for set-id files", ""),
	PK_BOOL("suid_remove", FS, suid_remove, "no",
		"apply removes the set-id bits of programs not in suid_allowlist", ""),
	PK_LIST("world_writable_dirs", FS, world_writable_dirs,
		"/etc /bin /sbin /usr/bin /usr/sbin /usr/local /opt /boot",
		"directories walked for world-writable files", ""),
	PK_BOOL("world_writable_remove", FS, world_writable_remove, "yes",
		"apply removes the world-write bit found there", ""),
	PK_LIST("tmp_mounts", FS, tmp_mounts, "/tmp /dev/shm /var/tmp",
		"mount points that must carry tmp_mount_options", "CIS 1.1.2"),
	PK_LIST("tmp_mount_options", FS, tmp_mount_options, "nodev nosuid noexec",
		"options of those mounts: nodev, nosuid, noexec, ro", ""),
	PK_BOOL("readonly_root", FS, readonly_root, "no",
		"the root file system must be mounted read-only", ""),
	PK_LIST("banners", FS, banners, "",
		"login banners (/etc/issue, ...) that must not name the OS, its version or the kernel", ""),
	PK_BOOL("accounts", FS, accounts, "no",
		"check passwd and shadow: one uid 0, root locked, no empty password, system accounts without a shell", ""),
	PK_LIST("login_defs", FS, login_defs, "",
		"KEY=VALUE settings /etc/login.defs must carry (PASS_MAX_DAYS<=365, ENCRYPT_METHOD=SHA512, ...)", ""),
	PK_BOOL("core_limit", FS, core_limit, "no",
		"a hard core limit of 0 for every user (* hard core 0) in /etc/security/limits.conf or limits.d/*.conf", ""),
	PK_STRING("profile_umask", FS, profile_umask, "",
		"octal umask /etc/profile, /etc/profile.d/*.sh and /etc/bash.bashrc set at least as strictly (empty: unchecked)", ""),
	PK_BOOL("kernel_log", FS, kernel_log, "no",
		"rsyslog loads imklog (/etc/rsyslog.conf or rsyslog.d/*.conf): kernel messages reach syslog", "CIS 6.2.3.3"),
	PK_LIST("ntp_servers", FS, ntp_servers, "",
		"the NTP servers chrony uses, no other; enforce writes /etc/chrony/sources.d/jefe.sources", "CIS 2.3.3.1"),
	PK_BOOL("time_sync", FS, time_sync, "no",
		"the running kernel's clock is synchronised by an NTP client (adjtimex)", "CIS 2.3.1.1"),
	PK_LIST("log_rotate", FS, log_rotate, "",
		"log files a logrotate stanza must match; logrotate runs daily from cron", "CIS 6.2.3.8"),
	PK_STRING("root_umask", FS, root_umask, "",
		"octal umask no umask line of root's .profile, .bash_profile, .bash_login or .bashrc may weaken (empty: unchecked)", "CIS 5.4.2.6"),
	PK_LIST("baseline", FS, baseline, "",
		"files whose SHA-256 is recorded and watched; an edit is drift apply never accepts", ""),
	PK_LIST("baseline_managed", FS, baseline_managed, "",
		"files the agent itself writes: apply records their new hash", ""),
	PK_UINT("rehash_interval", FS, rehash_interval, 0, 31536000, "3600",
		"seconds between full re-hashes of unchanged baseline files (0: every check)", ""),
	PK_END,
};
#undef FS

/* [files.perms] takes paths as keys: the layer's own parser reads them. */
static const char *const files_subsections[] = { "perms", NULL };

static bool files_free_key(const char *section, const char *key)
{
	return strcmp(section, FILES_LAYER ".perms") == 0;
}

/* ---- small parsers (exported for the unit tests) ---- */

static bool files_id_valid(const char *s)
{
	if (!*s || strlen(s) >= 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

int files_perm_parse(const char *value, struct files_perm_spec *out)
{
	struct strv w = { 0 };
	char *end;
	unsigned long mode;
	int err;

	memset(out, 0, sizeof(*out));
	err = strv_split(&w, value, " \t");
	if (err)
		return err;
	err = -EINVAL;
	if (w.n < 1 || w.n > 3)
		goto out;
	errno = 0;
	mode = strtoul(w.v[0], &end, 8);
	if (errno || *end || end == w.v[0] || mode > 07777)
		goto out;
	out->max_mode = (mode_t)mode;
	if (w.n > 1 && strcmp(w.v[1], "-") != 0) {
		if (!files_id_valid(w.v[1]))
			goto out;
		strcpy(out->owner, w.v[1]);
	}
	if (w.n > 2 && strcmp(w.v[2], "-") != 0) {
		if (!files_id_valid(w.v[2]))
			goto out;
		strcpy(out->group, w.v[2]);
	}
	err = 0;
out:
	strv_free(&w);
	return err;
}

int files_id_lookup(int root_fd, const char *db, const char *name, unsigned int *id)
{
	struct rootfs_accounts accounts;
	const struct rootfs_account *a;
	char *end;
	unsigned long v;
	int err;

	/* A number is an id as it is, as chown(1) takes it. */
	errno = 0;
	v = strtoul(name, &end, 10);
	if (!errno && *name && !*end && v < 0xffffffffUL) {
		*id = (unsigned int)v;
		return 0;
	}
	err = rootfs_accounts_read(root_fd, strcmp(db, "/etc/group") == 0 ? ROOTFS_GROUP :
				   ROOTFS_PASSWD, &accounts);
	if (err)
		return err;
	a = rootfs_account_find(&accounts, name);
	if (a)
		*id = (unsigned int)a->id;
	rootfs_accounts_free(&accounts);
	return a ? 0 : -ENOENT;
}

bool files_suid_allowed(const struct strv *allow, const char *path)
{
	for (size_t i = 0; i < allow->n; i++)
		if (strcmp(allow->v[i], path) == 0 ||
		    fnmatch(allow->v[i], path, FNM_PATHNAME) == 0)
			return true;
	return false;
}

void files_baseline_free(struct files_baseline *b)
{
	strv_free(&b->paths);
	strv_free(&b->hashes);
}

int files_baseline_parse(const char *text, struct files_baseline *out)
{
	const char *line = text;

	memset(out, 0, sizeof(*out));
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[4200];
		size_t i;
		int err;

		if (len > 0 && line[0] != '#') {
			if (len >= sizeof(buf) || len < 67)
				goto bad;
			memcpy(buf, line, len);
			buf[len] = '\0';
			for (i = 0; i < 64; i++)
				if (!isxdigit((unsigned char)buf[i]))
					goto bad;
			/* sha256sum writes two spaces (text mode) or " *" (binary). */
			if (buf[64] != ' ' || (buf[65] != ' ' && buf[65] != '*') || buf[66] != '/')
				goto bad;
			buf[64] = '\0';
			err = strv_push(&out->hashes, buf);
			if (!err)
				err = strv_push(&out->paths, buf + 66);
			if (err) {
				files_baseline_free(out);
				return err;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
bad:
	files_baseline_free(out);
	return -EINVAL;
}

const char *files_baseline_get(const struct files_baseline *b, const char *path)
{
	for (size_t i = b->paths.n; i > 0; i--)
		if (strcmp(b->paths.v[i - 1], path) == 0)
			return b->hashes.v[i - 1];
	return NULL;
}

/* ---- load ---- */

static void files_state_free(void *p)
{
	struct files_state *st = p;

	if (!st)
		return;
	for (size_t i = 0; i < st->n_perms; i++)
		free(st->perms[i].path);
	free(st->perms);
	strv_free(&st->suid_allow);
	strv_free(&st->suid_dirs);
	strv_free(&st->ww_dirs);
	strv_free(&st->tmp_mounts);
	strv_free(&st->tmp_options);
	strv_free(&st->baseline);
	strv_free(&st->baseline_managed);
	strv_free(&st->banners);
	strv_free(&st->login_defs);
	strv_free(&st->ntp_servers);
	strv_free(&st->log_rotate);
	if (st->inotify_fd >= 0)
		close(st->inotify_fd);
	files_index_free(&st->index);
	for (size_t i = 0; i < st->n_wdirs; i++)
		free(st->wdirs[i].path);
	free(st->wdirs);
	for (size_t i = 0; i < st->n_wnames; i++)
		free(st->wnames[i].name);
	free(st->wnames);
	free(st);
}

/* An absolute path without "." or ".." components; a glob only in the last one. */
static bool files_path_valid(const char *path, bool glob_ok)
{
	const char *last = strrchr(path, '/');

	if (path[0] != '/' || strlen(path) >= 4096 || strstr(path, "//"))
		return false;
	if (strstr(path, "/./") || strstr(path, "/../") ||
	    !strcmp(last, "/.") || !strcmp(last, "/.."))
		return false;
	if (strpbrk(path, "*?[") && (!glob_ok || strpbrk(path, "*?[") < last))
		return false;
	return true;
}

/* e is where the list was set, NULL for the table's default. */
static int files_load_list(struct strv *sv, const struct policy_entry *e, const char *value,
			   bool paths, bool glob_ok, struct policy_errors *errs, int *bad)
{
	struct strv w = { 0 };
	int err = strv_split(&w, value, " \t,");

	strv_free(sv);
	for (size_t i = 0; !err && i < w.n; i++) {
		if (paths && !files_path_valid(w.v[i], glob_ok)) {
			err = policy_error_at(errs, e, "'%s' is not an absolute path%s", w.v[i],
					      glob_ok ? " (a pattern only in its last component)" : "");
			(*bad)++;
			continue;
		}
		err = strv_push(sv, w.v[i]);
	}
	strv_free(&w);
	return err;
}

static int files_load_perm(struct files_state *st, const struct policy_entry *e,
			   struct policy_errors *errs, int *bad)
{
	struct files_perm *v;

	if (!files_path_valid(e->key, true)) {
		(*bad)++;
		return policy_error_at(errs, e,
				       "'%s' is not an absolute path (a pattern only in its last component)",
				       e->key);
	}
	/* "-" drops an entry a shipped file set: later files override keys. */
	if (strcmp(e->value, "-") == 0)
		return 0;
	v = realloc(st->perms, (st->n_perms + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	st->perms = v;
	if (files_perm_parse(e->value, &v[st->n_perms].spec) < 0) {
		(*bad)++;
		return policy_error_at(errs, e,
				       "invalid value '%s' for %s: expected MODE [OWNER [GROUP]], MODE in octal (0640), '-' for any owner or group",
				       e->value, e->key);
	}
	v[st->n_perms].path = strdup(e->key);
	if (!v[st->n_perms].path)
		return -ENOMEM;
	st->n_perms++;
	return 0;
}

/* An octal umask key into out ("027"); "" when unset. */
static int files_load_umask(const struct policy *policy, const char *key, const char *value,
			    char out[8], struct policy_errors *errs, int *bad)
{
	char *end;
	unsigned long m;

	out[0] = '\0';
	if (!value || !*value)
		return 0;
	errno = 0;
	m = strtoul(value, &end, 8);
	if (!isdigit((unsigned char)*value) || m > 0777 || errno || *end) {
		(*bad)++;
		return policy_error_at(errs, policy_get(policy, FILES_LAYER, key),
				       "%s: '%s' is not an octal umask (027, 077)", key, value);
	}
	snprintf(out, 8, "%03lo", m);
	return 0;
}

static int files_load(void **state, const struct jefe_env *env,
		      const struct policy *policy, const void *settings,
		      struct policy_errors *errs)
{
	const struct files_settings *set = settings;
	struct files_state *st = calloc(1, sizeof(*st));
	const struct policy_entry *e;
	int err = 0, bad = 0;

	if (!st)
		return -ENOMEM;
	st->env = env;
	st->inotify_fd = -1;
	files_index_init(&st->index, env->root_fd);
	/*
	 * No [files] or [files.perms] section: the layer has nothing to do,
	 * rather than walk directories with defaults nobody asked for (the
	 * shipped policy.d/60-files.conf is what turns it on).
	 */
	for (size_t i = 0; i < policy->n_entries; i++)
		if (strcmp(policy->entries[i].section, FILES_LAYER) == 0 ||
		    strncmp(policy->entries[i].section, FILES_LAYER ".", 6) == 0)
			st->active = true;
	st->suid_remove = set->suid_remove;
	st->ww_remove = set->world_writable_remove;
	st->readonly_root = set->readonly_root;
	st->rehash_interval = set->rehash_interval;
	st->accounts = set->accounts;
	st->core_limit = set->core_limit;
	st->kernel_log = set->kernel_log;
	st->time_sync = set->time_sync;
	err = files_load_umask(policy, "profile_umask", set->profile_umask, st->profile_umask,
			       errs, &bad);
	if (!err)
		err = files_load_umask(policy, "root_umask", set->root_umask, st->root_umask,
				       errs, &bad);
	if (st->active) {
		const struct {
			const char *key;
			const char *value;
			struct strv *sv;
			bool paths, glob_ok;
		} lists[] = {
			{ "suid_allowlist", set->suid_allowlist, &st->suid_allow, true, true },
			{ "suid_dirs", set->suid_dirs, &st->suid_dirs, true, false },
			{ "world_writable_dirs", set->world_writable_dirs, &st->ww_dirs, true, false },
			{ "tmp_mounts", set->tmp_mounts, &st->tmp_mounts, true, false },
			{ "tmp_mount_options", set->tmp_mount_options, &st->tmp_options, false, false },
			{ "baseline", set->baseline, &st->baseline, true, true },
			{ "baseline_managed", set->baseline_managed, &st->baseline_managed, true, true },
			{ "banners", set->banners, &st->banners, true, false },
			{ "login_defs", set->login_defs, &st->login_defs, false, false },
			{ "ntp_servers", set->ntp_servers, &st->ntp_servers, false, false },
			{ "log_rotate", set->log_rotate, &st->log_rotate, true, true },
		};

		for (size_t i = 0; !err && i < ARRAY_SIZE(lists); i++)
			err = files_load_list(lists[i].sv, policy_get(policy, FILES_LAYER, lists[i].key),
					      lists[i].value, lists[i].paths, lists[i].glob_ok,
					      errs, &bad);
	}
	for (size_t i = 0; !err && i < st->tmp_options.n; i++) {
		const char *o = st->tmp_options.v[i];

		if (strcmp(o, "nodev") && strcmp(o, "nosuid") && strcmp(o, "noexec") &&
		    strcmp(o, "ro")) {
			e = policy_get(policy, FILES_LAYER, "tmp_mount_options");
			err = policy_error_at(errs, e, "unknown mount option '%s' (nodev, nosuid, noexec, ro)", o);
			bad++;
		}
	}
	for (size_t i = 0; !err && i < st->login_defs.n; i++) {
		char why[160];

		if (files_login_defs_cmp(st->login_defs.v[i], NULL, why, sizeof(why)) == -EINVAL) {
			e = policy_get(policy, FILES_LAYER, "login_defs");
			err = policy_error_at(errs, e, "login_defs: %s", why);
			bad++;
		}
	}
	for (size_t i = 0; !err && i < policy->n_entries; i++) {
		e = &policy->entries[i];
		if (strcmp(e->section, "files.perms") == 0)
			err = files_load_perm(st, e, errs, &bad);
	}
	if (err || bad) {
		files_state_free(st);
		return err ? err : -JEFE_EPOLICY;
	}
	*state = st;
	return 0;
}

/* ---- findings ---- */

struct files_run {
	struct files_state *st;
	bool apply;
	bool dry_run;
	struct findings *out;
	/*
	 * /etc/passwd and /etc/group, read once per run for the owners of
	 * [files.perms] (index 0 passwd, 1 group): one lookup per path read
	 * them 80 times in a check of the shipped policy.
	 */
	struct rootfs_accounts ids[2];
	int ids_err[2];
	bool ids_read[2];
};

/* files_id_lookup() of a [files.perms] owner or group, from the run's copy. */
static int files_run_id(struct files_run *r, bool group, const char *name, unsigned int *id)
{
	const struct rootfs_account *a;
	char *end;
	unsigned long v;
	int k = group ? 1 : 0;

	/* A number is an id as it is, as chown(1) takes it. */
	errno = 0;
	v = strtoul(name, &end, 10);
	if (!errno && *name && !*end && v < 0xffffffffUL) {
		*id = (unsigned int)v;
		return 0;
	}
	if (!r->ids_read[k]) {
		r->ids_err[k] = rootfs_accounts_read(r->st->env->root_fd,
						     group ? ROOTFS_GROUP : ROOTFS_PASSWD, &r->ids[k]);
		r->ids_read[k] = true;
	}
	if (r->ids_err[k])
		return r->ids_err[k];
	a = rootfs_account_find(&r->ids[k], name);
	if (a)
		*id = (unsigned int)a->id;
	return a ? 0 : -ENOENT;
}

int files_finding_add(struct findings *out, const char *item, const char *expected,
		      const char *actual, enum finding_state state, enum finding_action action,
		      const struct finding_refs *refs, const char *note)
{
	return findings_add(out, &(struct finding){
		.layer = FILES_LAYER,
		.item = item,
		.expected = expected,
		.actual = actual,
		.refs = refs ? *refs : REFS_NONE,
		.note = note,
		.state = state,
		.action = action,
	});
}

static int files_add(struct files_run *r, const char *item, const char *expected,
		     const char *actual, enum finding_state state, enum finding_action action,
		     const struct finding_refs *refs, const char *note)
{
	return files_finding_add(r->out, item, expected, actual, state, action, refs, note);
}

/* The action for drift that apply may repair. */
static enum finding_action files_fix_action(const struct files_run *r)
{
	if (!r->apply)
		return FINDING_ACTION_NONE;
	return r->dry_run ? FINDING_ACTION_WOULD_REPAIR : FINDING_ACTION_REPAIRED;
}

/* Expand a path whose last component may be a pattern, below root. */
static int files_expand(int root_fd, const char *path, struct strv *out)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	DIR *d;
	struct dirent *de;
	int err;

	if (!strpbrk(slash, "*?["))
		return strv_push(out, path);
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	err = rootfs_opendir(root_fd, dir[0] ? dir : "/", &d);
	if (err == -ENOENT || err == -ENOTDIR)
		return 0;
	if (err < 0)
		return err;
	while (!err && (de = readdir(d))) {
		char full[4096];

		if (de->d_name[0] == '.' && slash[1] != '.')
			continue;
		if (fnmatch(slash + 1, de->d_name, FNM_PERIOD) != 0)
			continue;
		if (snprintf(full, sizeof(full), "%s/%s", dir, de->d_name) >= (int)sizeof(full))
			continue;
		err = strv_push(out, full);
	}
	closedir(d);
	return err;
}

/* ---- modes and owners ---- */

/* CIS Debian Linux 12 v1.0.1 sections of the paths the shipped policy names. */
static const struct {
	const char *path;	/* as written in [files.perms] */
	struct finding_refs refs;
} files_perm_refs[] = {
	{ "/etc/passwd", REFS_INIT(REF_CIS("7.1.1")) },
	{ "/etc/passwd-", REFS_INIT(REF_CIS("7.1.2")) },
	{ "/etc/group", REFS_INIT(REF_CIS("7.1.3")) },
	{ "/etc/group-", REFS_INIT(REF_CIS("7.1.4")) },
	{ "/etc/shadow", REFS_INIT(REF_CIS("7.1.5")) },
	{ "/etc/shadow-", REFS_INIT(REF_CIS("7.1.6")) },
	{ "/etc/gshadow", REFS_INIT(REF_CIS("7.1.7")) },
	{ "/etc/gshadow-", REFS_INIT(REF_CIS("7.1.8")) },
	{ "/etc/shells", REFS_INIT(REF_CIS("7.1.9")) },
	{ "/etc/security/opasswd", REFS_INIT(REF_CIS("7.1.10")) },
	{ "/etc/ssh/sshd_config", REFS_INIT(REF_CIS("5.1.1")) },
	{ "/etc/ssh/ssh_host_*_key", REFS_INIT(REF_CIS("5.1.2")) },
	{ "/etc/ssh/ssh_host_*_key.pub", REFS_INIT(REF_CIS("5.1.3")) },
	{ "/etc/crontab", REFS_INIT(REF_CIS("2.4.1.2")) },
	{ "/etc/cron.hourly", REFS_INIT(REF_CIS("2.4.1.3")) },
	{ "/etc/cron.daily", REFS_INIT(REF_CIS("2.4.1.4")) },
	{ "/etc/cron.weekly", REFS_INIT(REF_CIS("2.4.1.5")) },
	{ "/etc/cron.monthly", REFS_INIT(REF_CIS("2.4.1.6")) },
	{ "/etc/cron.d", REFS_INIT(REF_CIS("2.4.1.7")) },
	{ "/etc/motd", REFS_INIT(REF_CIS("1.6.4")) },
	{ "/etc/issue", REFS_INIT(REF_CIS("1.6.5")) },
	{ "/etc/issue.net", REFS_INIT(REF_CIS("1.6.6")) },
	{ "/etc/audit/auditd.conf", REFS_INIT(REF_CIS("6.3.4.5"), REF_CIS("6.3.4.6"),
					      REF_CIS("6.3.4.7")) },
	{ "/etc/audit/audit.rules", REFS_INIT(REF_CIS("6.3.4.5"), REF_CIS("6.3.4.6"),
					      REF_CIS("6.3.4.7")) },
	{ "/etc/audit/rules.d", REFS_INIT(REF_CIS("6.3.4.5"), REF_CIS("6.3.4.6"),
					  REF_CIS("6.3.4.7")) },
};

static const struct finding_refs *files_perm_refs_find(const char *path)
{
	for (size_t i = 0; i < ARRAY_SIZE(files_perm_refs); i++)
		if (strcmp(files_perm_refs[i].path, path) == 0)
			return &files_perm_refs[i].refs;
	return NULL;
}

/* /tmp, /dev/shm and /var/tmp: separate partition, nodev, nosuid, noexec. */
static const struct {
	const char *target;
	struct finding_refs refs;
} files_mount_refs_table[] = {
	{ "/tmp", REFS_INIT(REF_CIS("1.1.2.1.1"), REF_CIS("1.1.2.1.2"),
			    REF_CIS("1.1.2.1.3"), REF_CIS("1.1.2.1.4")) },
	{ "/dev/shm", REFS_INIT(REF_CIS("1.1.2.2.1"), REF_CIS("1.1.2.2.2"),
				REF_CIS("1.1.2.2.3"), REF_CIS("1.1.2.2.4")) },
	{ "/var/tmp", REFS_INIT(REF_CIS("1.1.2.5.1"), REF_CIS("1.1.2.5.2"),
				REF_CIS("1.1.2.5.3"), REF_CIS("1.1.2.5.4")) },
};

static const struct finding_refs *files_mount_refs(const char *target)
{
	for (size_t i = 0; i < ARRAY_SIZE(files_mount_refs_table); i++)
		if (strcmp(files_mount_refs_table[i].target, target) == 0)
			return &files_mount_refs_table[i].refs;
	return NULL;
}

static void files_mode_str(char *buf, size_t size, mode_t mode, const char *owner,
			   const char *group)
{
	snprintf(buf, size, "%04o %s:%s", (unsigned int)(mode & 07777), owner, group);
}

static int files_perm_one(struct files_run *r, const struct files_perm *p, const char *path)
{
	int root_fd = r->st->env->root_fd;
	const struct finding_refs *refs = files_perm_refs_find(p->path);
	char item[4200], expected[200], actual[200], note[256];
	char owner_s[32], group_s[32];
	unsigned int uid = 0, gid = 0;
	bool want_uid = p->spec.owner[0], want_gid = p->spec.group[0];
	bool bad_mode, bad_uid, bad_gid;
	struct stat sb;
	mode_t new_mode;
	int fd, err;

	snprintf(item, sizeof(item), "perm:%s", path);
	snprintf(expected, sizeof(expected), "at most %04o %s:%s", (unsigned int)p->spec.max_mode,
		 want_uid ? p->spec.owner : "*", want_gid ? p->spec.group : "*");
	if (want_uid) {
		err = files_run_id(r, false, p->spec.owner, &uid);
		if (err) {
			snprintf(note, sizeof(note), "user '%s' not in /etc/passwd: %s",
				 p->spec.owner, jefe_strerror(err));
			return files_add(r, item, expected, NULL, FINDING_ERROR,
					 FINDING_ACTION_NONE, refs, note);
		}
	}
	if (want_gid) {
		err = files_run_id(r, true, p->spec.group, &gid);
		if (err) {
			snprintf(note, sizeof(note), "group '%s' not in /etc/group: %s",
				 p->spec.group, jefe_strerror(err));
			return files_add(r, item, expected, NULL, FINDING_ERROR,
					 FINDING_ACTION_NONE, refs, note);
		}
	}
	/* O_PATH: works on any file type and opens nothing that could block. */
	fd = rootfs_open(root_fd, path, O_PATH | O_NOFOLLOW);
	if (fd == -ENOENT)
		return files_add(r, item, expected, "absent", FINDING_UNSUPPORTED,
				 FINDING_ACTION_NONE, refs, "not on this system");
	if (fd < 0)
		return files_add(r, item, expected, NULL, FINDING_ERROR, FINDING_ACTION_NONE,
				 refs, jefe_strerror(fd));
	if (fstat(fd, &sb) < 0) {
		err = -errno;
		close(fd);
		return files_add(r, item, expected, NULL, FINDING_ERROR, FINDING_ACTION_NONE,
				 refs, jefe_strerror(err));
	}
	snprintf(owner_s, sizeof(owner_s), "%u", (unsigned int)sb.st_uid);
	snprintf(group_s, sizeof(group_s), "%u", (unsigned int)sb.st_gid);
	files_mode_str(actual, sizeof(actual), sb.st_mode, owner_s, group_s);
	if (S_ISLNK(sb.st_mode)) {
		close(fd);
		return files_add(r, item, expected, "symlink", FINDING_DRIFT,
				 r->apply ? FINDING_ACTION_CANNOT_FIX : FINDING_ACTION_NONE, refs,
				 "a symlink where a file is expected: not followed, replace it by hand");
	}
	bad_mode = (sb.st_mode & 07777 & ~p->spec.max_mode) != 0;
	bad_uid = want_uid && sb.st_uid != uid;
	bad_gid = want_gid && sb.st_gid != gid;
	if (!bad_mode && !bad_uid && !bad_gid) {
		close(fd);
		return files_add(r, item, expected, actual, FINDING_COMPLIANT,
				 FINDING_ACTION_NONE, refs, NULL);
	}
	if (!r->apply || r->dry_run) {
		close(fd);
		return files_add(r, item, expected, actual, FINDING_DRIFT,
				 files_fix_action(r), refs, NULL);
	}
	/*
	 * Through the O_PATH fd's /proc link: fchmod/fchown do not take O_PATH
	 * fds, and reopening by name would follow a swapped-in symlink.
	 * Owner first: chown clears the set-id bits, chmod then sets the mode.
	 */
	err = 0;
	{
		char link[64];

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		if ((bad_uid || bad_gid) &&
		    fchownat(AT_FDCWD, link, bad_uid ? uid : (uid_t)-1,
			     bad_gid ? gid : (gid_t)-1, 0) < 0)
			err = -errno;
		new_mode = sb.st_mode & 07777 & p->spec.max_mode;
		if (!err && fchmodat(AT_FDCWD, link, new_mode, 0) < 0)
			err = -errno;
		/* Read back through the same fd: what the system has now. */
		if (!err && fstat(fd, &sb) < 0)
			err = -errno;
		if (!err && ((sb.st_mode & 07777 & ~p->spec.max_mode) ||
			     (want_uid && sb.st_uid != uid) || (want_gid && sb.st_gid != gid)))
			err = -EIO;
	}
	close(fd);
	if (!err) {
		snprintf(owner_s, sizeof(owner_s), "%u", (unsigned int)sb.st_uid);
		snprintf(group_s, sizeof(group_s), "%u", (unsigned int)sb.st_gid);
		files_mode_str(note, sizeof(note), sb.st_mode, owner_s, group_s);
		return files_add(r, item, expected, actual, FINDING_DRIFT,
				 FINDING_ACTION_REPAIRED, refs, note);
	}
	return files_add(r, item, expected, actual, FINDING_DRIFT, FINDING_ACTION_FAILED,
			 refs, jefe_strerror(err));
}

static int files_perms_run(struct files_run *r)
{
	int err = 0;

	for (size_t i = 0; !err && i < r->st->n_perms; i++) {
		const struct files_perm *p = &r->st->perms[i];
		struct strv paths = { 0 };

		err = files_expand(r->st->env->root_fd, p->path, &paths);
		for (size_t j = 0; !err && j < paths.n; j++)
			err = files_perm_one(r, p, paths.v[j]);
		strv_free(&paths);
	}
	return err;
}

/* ---- bounded walks: set-id files, world-writable files ---- */

enum files_walk_kind { FILES_WALK_SUID, FILES_WALK_WW };

struct files_walk {
	struct files_run *r;
	enum files_walk_kind kind;
	dev_t dev;
	size_t seen;
	size_t found;		/* set-id files seen / world-writable offenders */
	size_t offenders;
	bool truncated;
};

static int files_walk_hit(struct files_walk *w, int dirfd, const char *name,
			  const char *path, const struct stat *sb)
{
	struct files_run *r = w->r;
	char item[4200], actual[32], expected[32], note[160];
	mode_t clear, mode = sb->st_mode & 07777;
	bool sgid = (sb->st_mode & S_ISGID) && (sb->st_mode & S_IXGRP);
	enum finding_action action;
	int fd, err = 0;

	if (w->kind == FILES_WALK_SUID) {
		/* S_ISGID without group execute is mandatory locking, not set-gid. */
		if (!(sb->st_mode & S_ISUID) && !sgid)
			return 0;
		w->found++;
		if (files_suid_allowed(&r->st->suid_allow, path))
			return 0;
		snprintf(item, sizeof(item), "suid:%s", path);
		snprintf(expected, sizeof(expected), "no set-id bits");
		clear = S_ISUID | S_ISGID;
		if (!r->st->suid_remove) {
			w->offenders++;
			return files_add(r, item, expected, (snprintf(actual, sizeof(actual), "%04o",
					 (unsigned int)mode), actual), FINDING_DRIFT,
					 r->apply ? FINDING_ACTION_CANNOT_FIX : FINDING_ACTION_NONE,
					 &REFS(REF_CIS("7.1.13")),
					 "not in suid_allowlist; suid_remove = no: add it to the allowlist or remove the bits by hand");
		}
	} else {
		if (!(sb->st_mode & S_IWOTH))
			return 0;
		if (S_ISDIR(sb->st_mode) && (sb->st_mode & S_ISVTX))
			return 0;
		snprintf(item, sizeof(item), "%s:%s", S_ISDIR(sb->st_mode) ?
			 "world-writable-dir" : "world-writable", path);
		snprintf(expected, sizeof(expected), S_ISDIR(sb->st_mode) ?
			 "not o+w without sticky" : "not o+w");
		clear = S_IWOTH;
		if (!r->st->ww_remove) {
			w->offenders++;
			return files_add(r, item, expected, (snprintf(actual, sizeof(actual), "%04o",
					 (unsigned int)mode), actual), FINDING_DRIFT,
					 r->apply ? FINDING_ACTION_CANNOT_FIX : FINDING_ACTION_NONE,
					 &REFS(REF_CIS("7.1.11")),
					 "world_writable_remove = no: fix it by hand");
		}
	}
	w->offenders++;
	snprintf(actual, sizeof(actual), "%04o", (unsigned int)mode);
	action = files_fix_action(r);
	if (r->apply && !r->dry_run) {
		struct stat now;

		fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			err = -errno;
		} else {
			char link[64];

			snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
			if (fstat(fd, &now) < 0 || now.st_ino != sb->st_ino)
				err = -ESTALE;	/* replaced since we looked: next check */
			else if (fchmodat(AT_FDCWD, link, (now.st_mode & 07777) & ~clear, 0) < 0)
				err = -errno;
			else if (fstat(fd, &now) < 0 || (now.st_mode & clear))
				err = -EIO;
			close(fd);
		}
		action = err ? FINDING_ACTION_FAILED : FINDING_ACTION_REPAIRED;
		if (!err)
			snprintf(note, sizeof(note), "now %04o", (unsigned int)(now.st_mode & 07777));
	}
	return files_add(r, item, expected, actual, FINDING_DRIFT, action,
			 w->kind == FILES_WALK_SUID ? &REFS(REF_CIS("7.1.13")) : &REFS(REF_CIS("7.1.11")),
			 err ? jefe_strerror(err) : (action == FINDING_ACTION_REPAIRED ? note : NULL));
}

static int files_walk_dir(struct files_walk *w, int dir_fd, const char *path, int depth)
{
	DIR *d;
	struct dirent *de;
	int err = 0;

	d = fdopendir(dir_fd);
	if (!d) {
		err = -errno;
		close(dir_fd);
		return err;
	}
	while (!err && (de = readdir(d))) {
		char child[4096];
		struct stat sb;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (++w->seen > FILES_WALK_MAX) {
			w->truncated = true;
			break;
		}
		if (snprintf(child, sizeof(child), "%s/%s", strcmp(path, "/") ? path : "",
			     de->d_name) >= (int)sizeof(child))
			continue;
		if (fstatat(dir_fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue;	/* gone since readdir */
		if (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
			continue;
		err = files_walk_hit(w, dir_fd, de->d_name, child, &sb);
		/* Stay on one filesystem and within the depth bound. */
		if (!err && S_ISDIR(sb.st_mode) && depth < FILES_WALK_DEPTH && sb.st_dev == w->dev) {
			int fd = openat(dir_fd, de->d_name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (fd >= 0)
				err = files_walk_dir(w, fd, child, depth + 1);
		}
	}
	closedir(d);
	return err;
}

static int files_walk_run(struct files_run *r, enum files_walk_kind kind)
{
	const struct strv *dirs = kind == FILES_WALK_SUID ? &r->st->suid_dirs : &r->st->ww_dirs;
	const char *summary = kind == FILES_WALK_SUID ? "suid" : "world-writable";
	struct files_walk w = { .r = r, .kind = kind };
	char actual[96], note[256];
	int err = 0;

	if (dirs->n == 0)
		return 0;

	for (size_t i = 0; !err && i < dirs->n; i++) {
		struct stat sb;
		/* A symlinked /bin (merged /usr) is walked as its target, not twice. */
		int fd = rootfs_open(r->st->env->root_fd, dirs->v[i],
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW);

		if (fd < 0)
			continue;
		if (fstat(fd, &sb) < 0) {
			close(fd);
			continue;
		}
		w.dev = sb.st_dev;
		err = files_walk_dir(&w, fd, dirs->v[i], 1);
	}
	if (err)
		return err;
	if (w.truncated) {
		snprintf(note, sizeof(note), "walk stopped after %d entries: narrow %s",
			 FILES_WALK_MAX, kind == FILES_WALK_SUID ? "suid_dirs" : "world_writable_dirs");
		return files_add(r, summary, NULL, NULL, FINDING_ERROR, FINDING_ACTION_NONE,
				 NULL, note);
	}
	if (w.offenders)
		return 0;	/* each one is its own finding */
	if (kind == FILES_WALK_SUID)
		snprintf(actual, sizeof(actual), "%zu set-id files, all allowlisted", w.found);
	else
		snprintf(actual, sizeof(actual), "none in %zu entries", w.seen);
	return files_add(r, summary, kind == FILES_WALK_SUID ? "allowlisted only" : "none",
			 actual, FINDING_COMPLIANT, FINDING_ACTION_NONE,
			 kind == FILES_WALK_SUID ? &REFS(REF_CIS("7.1.13")) : &REFS(REF_CIS("7.1.11")), NULL);
}

/* ---- mounts (report-only) ---- */

static int files_mounts_run(struct files_run *r)
{
	struct rootfs_mounts mounts;
	enum finding_action cannot = FINDING_ACTION_CANNOT_FIX;
	char *text = NULL;
	int err;

	if (r->st->tmp_mounts.n == 0 && !r->st->readonly_root)
		return 0;
	err = root_read_file_alloc(r->st->env->root_fd, FILES_MOUNTS, &text, NULL);
	if (err)
		return files_add(r, "mounts", NULL, NULL, FINDING_ERROR, FINDING_ACTION_NONE,
				 NULL, jefe_strerror(err));
	err = rootfs_mounts_parse(text, &mounts);
	free(text);
	if (err)
		return err;
	for (size_t i = 0; !err && i < r->st->tmp_mounts.n; i++) {
		const char *target = r->st->tmp_mounts.v[i];
		const struct rootfs_mount *m = rootfs_mounts_find(&mounts, target);
		char item[4200], expected[128] = "", missing[128] = "", note[512];

		snprintf(item, sizeof(item), "mount:%s", target);
		for (size_t j = 0; j < r->st->tmp_options.n; j++) {
			const char *o = r->st->tmp_options.v[j];
			size_t el = strlen(expected), ml = strlen(missing);

			snprintf(expected + el, sizeof(expected) - el, "%s%s", el ? "," : "", o);
			if (m && !rootfs_option_has(m->options, o))
				snprintf(missing + ml, sizeof(missing) - ml, "%s%s", ml ? "," : "", o);
		}
		if (!m) {
			snprintf(note, sizeof(note),
				 "not a separate filesystem: add a tmpfs line with %s for %s to /etc/fstab, then mount it",
				 expected, target);
			err = files_add(r, item, expected, "not a mount point", FINDING_DRIFT,
					cannot, files_mount_refs(target), note);
		} else if (missing[0]) {
			snprintf(note, sizeof(note),
				 "add %s to the options of %s in /etc/fstab, then `mount -o remount %s`",
				 missing, target, target);
			err = files_add(r, item, expected, m->options, FINDING_DRIFT, cannot,
					files_mount_refs(target), note);
		} else {
			err = files_add(r, item, expected, m->options, FINDING_COMPLIANT,
					FINDING_ACTION_NONE, files_mount_refs(target), NULL);
		}
	}
	if (!err && r->st->readonly_root) {
		const struct rootfs_mount *m = rootfs_mounts_find(&mounts, "/");

		if (m && rootfs_option_has(m->options, "ro"))
			err = files_add(r, "mount:/", "ro", m->options, FINDING_COMPLIANT,
					FINDING_ACTION_NONE, NULL, NULL);
		else
			err = files_add(r, "mount:/", "ro", m ? m->options : "not listed",
					FINDING_DRIFT, cannot, NULL,
					"the image is declared immutable (readonly_root = yes) but / is writable: boot the read-only image or mount / ro in /etc/fstab");
	}
	rootfs_mounts_free(&mounts);
	return err;
}

/* ---- content baseline ---- */

static int files_baseline_render(const struct strv *paths, const struct strv *hashes,
				 char **out, size_t *len_out)
{
	size_t cap = 128, len = 0;
	char *buf;

	for (size_t i = 0; i < paths->n; i++)
		cap += strlen(paths->v[i]) + 68;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	len = (size_t)snprintf(buf, cap,
			       "# jefe files layer: SHA-256 baseline (sha256sum -c format)\n");
	for (size_t i = 0; i < paths->n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s  %s\n",
					hashes->v[i], paths->v[i]);
	*out = buf;
	*len_out = len;
	return 0;
}

static int files_baseline_write(int root_fd, const struct strv *paths,
				const struct strv *hashes)
{
	size_t len = 0;
	char *buf = NULL;
	int err = files_baseline_render(paths, hashes, &buf, &len);

	if (!err)
		err = rootfs_mkdir_p(root_fd, JEFE_STATE_DIR, 0700);
	if (!err)
		err = rootfs_write_atomic(root_fd, FILES_BASELINE_FILE, buf, len, 0600);
	free(buf);
	return err;
}

static int files_baseline_run(struct files_run *r)
{
	int root_fd = r->st->env->root_fd;
	struct files_baseline old = { 0 };
	struct strv new_paths = { 0 }, new_hashes = { 0 };
	bool have_old = false, changed = false;
	char *text = NULL;
	size_t first = r->out->n;
	int err;

	if (r->st->baseline.n == 0 && r->st->baseline_managed.n == 0)
		return 0;
	err = root_read_file_alloc(root_fd, FILES_BASELINE_FILE, &text, NULL);
	if (!err) {
		err = files_baseline_parse(text, &old);
		/* Kept for a dry run's diff of the file. */
		if (!r->dry_run) {
			free(text);
			text = NULL;
		}
		if (err == -EINVAL)
			free(text);
		if (err == -EINVAL)
			return files_add(r, "baseline", "a valid baseline", "corrupt", FINDING_DRIFT,
					 r->apply ? FINDING_ACTION_CANNOT_FIX : FINDING_ACTION_NONE, NULL,
					 "not in sha256sum format: restore it, or remove it to record a new one");
		if (err) {
			free(text);
			return err;
		}
		have_old = true;
	} else if (err != -ENOENT) {
		return files_add(r, "baseline", NULL, NULL, FINDING_ERROR, FINDING_ACTION_NONE,
				 NULL, jefe_strerror(err));
	}
	err = 0;	/* no baseline yet: everything is new */

	for (int pass = 0; !err && pass < 2; pass++) {
		const struct strv *list = pass ? &r->st->baseline_managed : &r->st->baseline;

		for (size_t i = 0; !err && i < list->n; i++) {
			struct strv paths = { 0 };

			err = files_expand(root_fd, list->v[i], &paths);
			for (size_t j = 0; !err && j < paths.n; j++) {
				const char *path = paths.v[j];
				const char *rec = files_baseline_get(&old, path);
				char hex[ROOTFS_SHA256_HEX], item[4200], note[4400];
				const char *keep;
				int herr;

				if (strv_contains(&new_paths, path))
					continue;
				snprintf(item, sizeof(item), "sha256:%s", path);
				herr = files_index_sha256(&r->st->index, path,
							  r->st->rehash_interval, hex);
				if (herr == -ENOENT && !rec)
					continue;	/* optional and absent: nothing to protect */
				if (herr == -ENOENT) {
					/* Recorded, now gone: keep the record as evidence. */
					err = strv_push(&new_paths, path);
					if (!err)
						err = strv_push(&new_hashes, rec);
					if (!err)
						err = files_add(r, item, rec, "absent", FINDING_DRIFT,
								r->apply ? FINDING_ACTION_CANNOT_FIX : FINDING_ACTION_NONE,
								NULL, "deleted outside the agent");
					continue;
				}
				if (herr) {
					err = files_add(r, item, rec, NULL, FINDING_ERROR,
							FINDING_ACTION_NONE, NULL, jefe_strerror(herr));
					continue;
				}
				keep = hex;
				if (rec && strcmp(rec, hex) == 0) {
					err = files_add(r, item, rec, hex, FINDING_COMPLIANT,
							FINDING_ACTION_NONE, NULL, NULL);
				} else if (!rec && pass == 0 && have_old &&
					   (!r->apply || r->st->env->unattended)) {
					/*
					 * A file that appeared where the baseline already
					 * covers (a new policy.d file) is for the admin to
					 * review: the daemon never records it by itself.
					 */
					snprintf(note, sizeof(note),
						 "new file, not in the baseline: review it, then `jefe baseline accept %s`",
						 path);
					err = files_add(r, item, "recorded", hex, FINDING_DRIFT,
							r->apply ? FINDING_ACTION_CANNOT_FIX : FINDING_ACTION_NONE,
							NULL, note);
					continue;
				} else if (!rec || pass == 1) {
					/*
					 * New entries are recorded; files the agent writes itself
					 * are re-recorded, since their layer ran before this one.
					 */
					changed = true;
					err = files_add(r, item, rec ? rec : "recorded", hex, FINDING_DRIFT,
							files_fix_action(r), NULL,
							rec ? "rewritten by the agent: re-recorded"
							    : "not in the baseline yet");
				} else {
					keep = rec;
					snprintf(note, sizeof(note),
						 "edited outside the agent: review it, then `jefe baseline accept %s`",
						 path);
					err = files_add(r, item, rec, hex, FINDING_DRIFT,
							r->apply ? FINDING_ACTION_CANNOT_FIX : FINDING_ACTION_NONE,
							NULL, note);
				}
				if (!err)
					err = strv_push(&new_paths, path);
				if (!err)
					err = strv_push(&new_hashes, keep);
			}
			strv_free(&paths);
		}
	}
	if (!err && !have_old) {
		changed = true;
		err = files_add(r, "baseline", "recorded", "absent", FINDING_DRIFT,
				files_fix_action(r), NULL, FILES_BASELINE_FILE);
	}
	if (!err && changed && r->apply && r->dry_run) {
		char *want = NULL, *patch = NULL;
		size_t len;

		err = files_baseline_render(&new_paths, &new_hashes, &want, &len);
		if (!err)
			err = diff_unified(FILES_BASELINE_FILE, text, want, &patch);
		if (!err)
			err = files_add(r, FILES_BASELINE_FILE, "written by jefe",
					have_old ? "differs" : "missing", FINDING_DRIFT,
					FINDING_ACTION_WOULD_REPAIR, NULL, patch);
		free(want);
		free(patch);
	}
	if (!err && changed && r->apply && !r->dry_run) {
		int werr = files_baseline_write(root_fd, &new_paths, &new_hashes);

		/* The findings said REPAIRED: make them say what really happened. */
		for (size_t i = first; werr && i < r->out->n; i++)
			if (r->out->v[i].action == FINDING_ACTION_REPAIRED)
				r->out->v[i].action = FINDING_ACTION_FAILED;
	}
	files_baseline_free(&old);
	strv_free(&new_paths);
	strv_free(&new_hashes);
	free(text);
	return err;
}

/*
 * `jefe baseline accept PATH`: the admin has reviewed PATH, record what
 * it holds now (or, when it is gone, forget it).  Only a path the policy
 * puts under the baseline, and only once a baseline exists: the first
 * one is recorded whole by `jefe enforce --layer files` or the daemon's
 * start.  why gets a sentence for the admin on error.
 */
int files_baseline_accept(void *state, const char *path, char hex[ROOTFS_SHA256_HEX],
			  char *why, size_t why_len)
{
	struct files_state *st = state;
	int root_fd = st->env->root_fd;
	struct files_baseline b = { 0 };
	struct strv paths = { 0 }, hashes = { 0 };
	bool covered = false, found = false;
	char *text = NULL;
	int err = 0, herr;

	for (int pass = 0; !err && !covered && pass < 2; pass++) {
		const struct strv *list = pass ? &st->baseline_managed : &st->baseline;

		for (size_t i = 0; !err && !covered && i < list->n; i++) {
			struct strv exp = { 0 };

			err = files_expand(root_fd, list->v[i], &exp);
			covered = !err && strv_contains(&exp, path);
			/* A recorded file that is gone no longer matches a glob. */
			if (!err && !covered && strpbrk(list->v[i], "*?[") &&
			    fnmatch(list->v[i], path, FNM_PATHNAME | FNM_PERIOD) == 0)
				covered = true;
			strv_free(&exp);
		}
	}
	if (err)
		return err;
	if (!covered) {
		snprintf(why, why_len, "%s is not under [files] baseline or baseline_managed in the policy",
			 path);
		return -ENOENT;
	}
	err = root_read_file_alloc(root_fd, FILES_BASELINE_FILE, &text, NULL);
	if (err == -ENOENT) {
		snprintf(why, why_len, "no baseline recorded yet in %s: `jefe enforce --layer files` records the first one",
			 FILES_BASELINE_FILE);
		return err;
	}
	if (err)
		return err;
	err = files_baseline_parse(text, &b);
	free(text);
	if (err) {
		snprintf(why, why_len, "%s is not in sha256sum format: restore it, or remove it to record a new one",
			 FILES_BASELINE_FILE);
		return err;
	}
	herr = rootfs_sha256(root_fd, path, hex);
	if (herr && herr != -ENOENT) {
		snprintf(why, why_len, "%s: %s", path, jefe_strerror(herr));
		err = herr;
		goto out;
	}
	if (herr == -ENOENT)
		hex[0] = '\0';
	for (size_t i = 0; !err && i < b.paths.n; i++) {
		bool me = strcmp(b.paths.v[i], path) == 0;

		if (me)
			found = true;
		if (me && herr == -ENOENT)
			continue;	/* accepted as deleted: forgotten */
		err = strv_push(&paths, b.paths.v[i]);
		if (!err)
			err = strv_push(&hashes, me ? hex : b.hashes.v[i]);
	}
	if (!err && herr == -ENOENT && !found) {
		snprintf(why, why_len, "%s: no such file, and not in the baseline", path);
		err = -ENOENT;
	}
	if (!err && !found) {
		err = strv_push(&paths, path);
		if (!err)
			err = strv_push(&hashes, hex);
	}
	if (!err)
		err = files_baseline_write(root_fd, &paths, &hashes);
out:
	files_baseline_free(&b);
	strv_free(&paths);
	strv_free(&hashes);
	return err;
}

/* ---- login banners (report-only) ---- */

int files_banner_leak(const char *text, const struct strv *os_words, char *what, size_t size)
{
	/* agetty's escapes for the OS (\s), release (\r), version (\v), machine (\m). */
	static const char esc[] = "srvm";

	for (const char *p = strchr(text, '\\'); p; p = strchr(p + 1, '\\'))
		if (p[1] && strchr(esc, p[1])) {
			snprintf(what, size, "the escape \\%c", p[1]);
			return 1;
		}
	for (size_t i = 0; i < os_words->n; i++)
		if (strlen(os_words->v[i]) >= 3 && strcasestr(text, os_words->v[i])) {
			snprintf(what, size, "'%s' (os-release)", os_words->v[i]);
			return 1;
		}
	return 0;
}

/* ID, NAME and VERSION_ID of the root's os-release: what a banner must not tell. */
static int files_os_words(int root_fd, struct strv *out)
{
	static const char *const keys[] = { "ID=", "NAME=", "VERSION_ID=" };
	char *text = NULL;
	int err = root_read_file_alloc(root_fd, "/etc/os-release", &text, NULL);

	if (err == -ENOENT)
		err = root_read_file_alloc(root_fd, "/usr/lib/os-release", &text, NULL);
	if (err)
		return err == -ENOENT ? 0 : err;
	for (char *line = strtok(text, "\n"); line && !err; line = strtok(NULL, "\n"))
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
			char *v;
			size_t len;

			if (strncmp(line, keys[i], strlen(keys[i])) != 0)
				continue;
			v = line + strlen(keys[i]);
			len = strlen(v);
			if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
				v[len - 1] = '\0';
				v++;
			}
			if (*v && !strv_contains(out, v))
				err = strv_push(out, v);
		}
	free(text);
	return err;
}

static const struct {
	const char *path;
	struct finding_refs refs;
} files_banner_refs[] = {
	{ "/etc/motd", REFS_INIT(REF_CIS("1.6.1")) },
	{ "/etc/issue", REFS_INIT(REF_CIS("1.6.2")) },
	{ "/etc/issue.net", REFS_INIT(REF_CIS("1.6.3")) },
};

static int files_banners_run(struct files_run *r)
{
	int root_fd = r->st->env->root_fd;
	struct strv words = { 0 };
	int err = 0;

	if (r->st->banners.n == 0)
		return 0;
	err = files_os_words(root_fd, &words);
	for (size_t i = 0; !err && i < r->st->banners.n; i++) {
		const char *path = r->st->banners.v[i];
		const struct finding_refs *refs = NULL;
		char item[4200], what[128], note[256], *text = NULL;
		int rd;

		for (size_t j = 0; j < ARRAY_SIZE(files_banner_refs); j++)
			if (strcmp(files_banner_refs[j].path, path) == 0)
				refs = &files_banner_refs[j].refs;
		snprintf(item, sizeof(item), "banner:%s", path);
		rd = root_read_file_alloc(root_fd, path, &text, NULL);
		if (rd == -ENOENT) {
			err = files_add(r, item, "no OS name or version", "absent", FINDING_UNSUPPORTED,
					FINDING_ACTION_NONE, refs, "not on this system");
		} else if (rd < 0) {
			err = files_add(r, item, "no OS name or version", NULL, FINDING_ERROR,
					FINDING_ACTION_NONE, refs, jefe_strerror(rd));
		} else if (files_banner_leak(text, &words, what, sizeof(what))) {
			/* The legal text is the site's: reported, never rewritten. */
			snprintf(note, sizeof(note), "the banner tells %s: write a legal notice without it", what);
			err = files_add(r, item, "no OS name or version", what, FINDING_DRIFT,
					r->apply ? FINDING_ACTION_CANNOT_FIX : FINDING_ACTION_NONE,
					refs, note);
		} else {
			err = files_add(r, item, "no OS name or version", "none", FINDING_COMPLIANT,
					FINDING_ACTION_NONE, refs, NULL);
		}
		free(text);
	}
	strv_free(&words);
	return err;
}

/* ---- accounts and login.defs (report-only) ---- */

/* How a login.defs value compares with the policy's: the benchmark's sense of "at least". */
enum files_defs_cmp { DEFS_AT_MOST, DEFS_AT_LEAST, DEFS_EQUAL, DEFS_UMASK };

static const struct {
	const char *key;
	enum files_defs_cmp cmp;
	struct finding_refs refs;
} files_login_defs_keys[] = {
	{ "PASS_MAX_DAYS", DEFS_AT_MOST, REFS_INIT(REF_CIS("5.4.1.1")) },
	{ "PASS_MIN_DAYS", DEFS_AT_LEAST, REFS_INIT(REF_CIS("5.4.1.2")) },
	{ "PASS_WARN_AGE", DEFS_AT_LEAST, REFS_INIT(REF_CIS("5.4.1.3")) },
	{ "ENCRYPT_METHOD", DEFS_EQUAL, REFS_INIT(REF_CIS("5.4.1.4")) },
	{ "SHA_CRYPT_MIN_ROUNDS", DEFS_AT_LEAST, REFS_INIT(REF_CIS("5.4.1.4")) },
	{ "SHA_CRYPT_MAX_ROUNDS", DEFS_AT_LEAST, REFS_INIT(REF_CIS("5.4.1.4")) },
	{ "UMASK", DEFS_UMASK, REFS_INIT(REF_CIS("5.4.3.3")) },
};

static bool files_defs_number(const char *s, int base, unsigned long *out)
{
	char *end;

	if (!*s || !isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*out = strtoul(s, &end, base);
	return errno == 0 && *end == '\0';
}

int files_login_defs_cmp(const char *want, const char *have, char *why, size_t why_len)
{
	const char *eq = strchr(want, '=');
	size_t klen = eq ? (size_t)(eq - want) : 0;
	unsigned long w, h;

	for (size_t i = 0; eq && i < ARRAY_SIZE(files_login_defs_keys); i++) {
		enum files_defs_cmp cmp = files_login_defs_keys[i].cmp;
		const char *v = eq + 1;

		if (strlen(files_login_defs_keys[i].key) != klen ||
		    strncmp(files_login_defs_keys[i].key, want, klen) != 0)
			continue;
		if (cmp != DEFS_EQUAL && !files_defs_number(v, cmp == DEFS_UMASK ? 8 : 10, &w)) {
			snprintf(why, why_len, "%s needs a number, not '%s'", files_login_defs_keys[i].key, v);
			return -EINVAL;
		}
		if (cmp == DEFS_EQUAL && !*v) {
			snprintf(why, why_len, "%s needs a value", files_login_defs_keys[i].key);
			return -EINVAL;
		}
		if (!have)
			return 0;	/* validation only */
		if (cmp == DEFS_EQUAL)
			return strcasecmp(v, have) == 0 ? 0 : 1;
		if (!files_defs_number(have, cmp == DEFS_UMASK ? 8 : 10, &h))
			return 1;
		switch (cmp) {
		case DEFS_AT_MOST:
			return h <= w ? 0 : 1;
		case DEFS_AT_LEAST:
			return h >= w ? 0 : 1;
		case DEFS_UMASK:	/* every bit the policy masks is masked */
			return (h & w) == w ? 0 : 1;
		default:
			return 1;
		}
	}
	snprintf(why, why_len, "'%s' is not KEY=VALUE with KEY one of PASS_MAX_DAYS, PASS_MIN_DAYS, PASS_WARN_AGE, ENCRYPT_METHOD, SHA_CRYPT_MIN_ROUNDS, SHA_CRYPT_MAX_ROUNDS, UMASK",
		 want);
	return -EINVAL;
}

/* The value of KEY in login.defs text (the last line that sets it wins, as in shadow's getdef), or NULL. */
static char *files_login_defs_get(const char *text, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	char *found = NULL;

	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *p = line;

		while (p < line + len && isspace((unsigned char)*p))
			p++;
		if ((size_t)(line + len - p) > klen && strncmp(p, key, klen) == 0 &&
		    isspace((unsigned char)p[klen])) {
			const char *v = p + klen, *ve = line + len;

			while (v < ve && isspace((unsigned char)*v))
				v++;
			while (ve > v && isspace((unsigned char)ve[-1]))
				ve--;
			snprintf(buf, size, "%.*s", (int)(ve - v), v);
			found = buf;
		}
		line = end ? end + 1 : NULL;
	}
	return found;
}

static int files_login_defs_run(struct files_run *r)
{
	char *text = NULL;
	int err = 0, rd;

	if (r->st->login_defs.n == 0)
		return 0;
	rd = root_read_file_alloc(r->st->env->root_fd, "/etc/login.defs", &text, NULL);
	for (size_t i = 0; !err && i < r->st->login_defs.n; i++) {
		const char *want = r->st->login_defs.v[i], *eq = strchr(want, '=');
		const struct finding_refs *refs = NULL;
		char key[64], item[96], buf[128], why[160], note[256];
		const char *have;

		snprintf(key, sizeof(key), "%.*s", (int)(eq - want), want);
		for (size_t j = 0; j < ARRAY_SIZE(files_login_defs_keys); j++)
			if (strcmp(files_login_defs_keys[j].key, key) == 0)
				refs = &files_login_defs_keys[j].refs;
		snprintf(item, sizeof(item), "login.defs:%s", key);
		if (rd < 0) {
			err = files_add(r, item, eq + 1, NULL, rd == -ENOENT ? FINDING_UNSUPPORTED : FINDING_ERROR,
					FINDING_ACTION_NONE, refs,
					rd == -ENOENT ? "no /etc/login.defs" : jefe_strerror(rd));
			continue;
		}
		have = files_login_defs_get(text, key, buf, sizeof(buf));
		if (have && files_login_defs_cmp(want, have, why, sizeof(why)) == 0) {
			err = files_add(r, item, eq + 1, have, FINDING_COMPLIANT, FINDING_ACTION_NONE,
					refs, NULL);
			continue;
		}
		/* Report-only: shadow's tools read this file; the image ships it right. */
		snprintf(note, sizeof(note), "set %s %s (or stricter) in /etc/login.defs", key, eq + 1);
		err = files_add(r, item, eq + 1, have ? have : "unset", FINDING_DRIFT,
				r->apply ? FINDING_ACTION_CANNOT_FIX : FINDING_ACTION_NONE, refs, note);
	}
	free(text);
	return err;
}

/* ---- core dump limit and the profile's umask (report-only) ---- */

int files_limits_core(const char *text, char *val, size_t size)
{
	int found = 0;

	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[256], dom[64], type[16], item[32], value[32];

		snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) ? len : sizeof(buf) - 1), line);
		/* pam_limits: "<domain> <type> <item> <value>"; a later line for "*" overrides. */
		if (strchr(buf, '#'))
			*strchr(buf, '#') = '\0';
		if (sscanf(buf, "%63s %15s %31s %31s", dom, type, item, value) == 4 &&
		    strcmp(dom, "*") == 0 && (strcmp(type, "hard") == 0 || strcmp(type, "-") == 0) &&
		    strcmp(item, "core") == 0) {
			snprintf(val, size, "%s", value);
			found = 1;
		}
		line = end ? end + 1 : NULL;
	}
	return found;
}

int files_profile_umask(const char *text, unsigned long want, char *weak, size_t size)
{
	int found = 0;

	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[256], word[16], value[32];
		unsigned long have;

		snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) ? len : sizeof(buf) - 1), line);
		if (strchr(buf, '#'))
			*strchr(buf, '#') = '\0';
		if (sscanf(buf, "%15s %31s", word, value) == 2 && strcmp(word, "umask") == 0) {
			/* Symbolic modes (u=rwx,g=rx) are not read: reported as weaker. */
			if (!files_defs_number(value, 8, &have) || (have & want) != want) {
				snprintf(weak, size, "%s", value);
				return -1;
			}
			found = 1;
		}
		line = end ? end + 1 : NULL;
	}
	return found;
}

static const struct finding_refs files_ref_core = REFS_INIT(REF_CIS("1.5.3"));
static const struct finding_refs files_ref_umask = REFS_INIT(REF_CIS("5.4.3.3"));

static int files_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Append the files of DIR whose names end in SUFFIX to out, sorted among
 * themselves (pam_limits' and sh's order); a missing DIR adds nothing.
 */
int files_dir_list(int root_fd, const char *dir, const char *suffix, struct strv *out)
{
	size_t first = out->n;
	struct dirent *de;
	DIR *d;
	int err = rootfs_opendir(root_fd, dir, &d);

	if (err < 0)
		return err == -ENOENT ? 0 : err;
	while (!err && (de = readdir(d))) {
		size_t n = strlen(de->d_name), sl = strlen(suffix);
		char path[4096];

		if (de->d_name[0] == '.' || n <= sl || strcmp(de->d_name + n - sl, suffix) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		err = strv_push(out, path);
	}
	closedir(d);
	if (!err && out->n - first > 1)
		qsort(out->v + first, out->n - first, sizeof(*out->v), files_strcmp_p);
	return err;
}

static int files_core_limit_run(struct files_run *r)
{
	int root_fd = r->st->env->root_fd;
	struct strv paths = { 0 };
	char value[32] = "unset", why[256];
	bool set = false;
	int err;

	if (!r->st->core_limit)
		return 0;
	err = strv_push(&paths, "/etc/security/limits.conf");
	if (!err)
		err = files_dir_list(root_fd, "/etc/security/limits.d", ".conf", &paths);
	for (size_t i = 0; !err && i < paths.n; i++) {
		char *text = NULL;

		if (root_read_file_alloc(root_fd, paths.v[i], &text, NULL) == 0 &&
		    files_limits_core(text, value, sizeof(value)))
			set = true;
		free(text);
	}
	strv_free(&paths);
	if (err)
		return files_add(r, "limits:core", "0", NULL, FINDING_ERROR, FINDING_ACTION_NONE,
				 &files_ref_core, jefe_strerror(err));
	if (set && strcmp(value, "0") == 0)
		return files_add(r, "limits:core", "0", value, FINDING_COMPLIANT, FINDING_ACTION_NONE,
				 &files_ref_core, NULL);
	/* Report-only: pam_limits reads these files at every login; the image ships them right. */
	snprintf(why, sizeof(why), "add '* hard core 0' to /etc/security/limits.d/10-jefe-core.conf");
	return files_add(r, "limits:core", "0", value, FINDING_DRIFT,
			 r->apply ? FINDING_ACTION_CANNOT_FIX : FINDING_ACTION_NONE, &files_ref_core, why);
}

static int files_profile_umask_run(struct files_run *r)
{
	int root_fd = r->st->env->root_fd;
	const char *want = r->st->profile_umask;
	struct strv paths = { 0 };
	char actual[320] = "unset", weak[32], note[256];
	unsigned long w = strtoul(want, NULL, 8);
	bool found = false, bad = false;
	int err;

	if (!*want)
		return 0;
	err = strv_push(&paths, "/etc/profile");
	if (!err)
		err = files_dir_list(root_fd, "/etc/profile.d", ".sh", &paths);
	if (!err)
		err = strv_push(&paths, "/etc/bash.bashrc");
	for (size_t i = 0; !err && !bad && i < paths.n; i++) {
		char *text = NULL;
		int k = 0;

		if (root_read_file_alloc(root_fd, paths.v[i], &text, NULL) == 0)
			k = files_profile_umask(text, w, weak, sizeof(weak));
		free(text);
		if (k < 0) {
			snprintf(actual, sizeof(actual), "%s in %s", weak, paths.v[i]);
			bad = true;
		} else if (k > 0 && !found) {
			snprintf(actual, sizeof(actual), "%s", want);
			found = true;
		}
	}
	strv_free(&paths);
	if (err)
		return files_add(r, "profile:umask", want, NULL, FINDING_ERROR, FINDING_ACTION_NONE,
				 &files_ref_umask, jefe_strerror(err));
	if (found && !bad)
		return files_add(r, "profile:umask", want, actual, FINDING_COMPLIANT, FINDING_ACTION_NONE,
				 &files_ref_umask, NULL);
	snprintf(note, sizeof(note), "set 'umask %s' in /etc/profile and no weaker umask in /etc/profile.d/*.sh or /etc/bash.bashrc", want);
	return files_add(r, "profile:umask", want, actual, FINDING_DRIFT,
			 r->apply ? FINDING_ACTION_CANNOT_FIX : FINDING_ACTION_NONE, &files_ref_umask, note);
}

int files_rsyslog_klog(const char *text)
{
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[512], *p = buf, *hash;

		snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) ? len : sizeof(buf) - 1), line);
		hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		while (isspace((unsigned char)*p))
			p++;
		/* RainerScript module(load="imklog" ...) or the legacy $ModLoad imklog. */
		if ((strncmp(p, "module(", 7) == 0 && strstr(p, "load=\"imklog\"")) ||
		    (strncasecmp(p, "$ModLoad", 8) == 0 && strstr(p + 8, "imklog")))
			return 1;
		line = end ? end + 1 : NULL;
	}
	return 0;
}

/* No journald: rsyslog's own inputs are how logs reach it. */
static const struct finding_refs files_ref_klog = REFS_INIT(REF_CIS("6.2.3.3"));

static int files_kernel_log_run(struct files_run *r)
{
	int root_fd = r->st->env->root_fd;
	struct strv paths = { 0 };
	const char *where = NULL;
	int err;

	if (!r->st->kernel_log)
		return 0;
	err = strv_push(&paths, "/etc/rsyslog.conf");
	if (!err)
		err = files_dir_list(root_fd, "/etc/rsyslog.d", ".conf", &paths);
	for (size_t i = 0; !err && !where && i < paths.n; i++) {
		char *text = NULL;

		if (root_read_file_alloc(root_fd, paths.v[i], &text, NULL) == 0 && files_rsyslog_klog(text))
			where = paths.v[i];
		free(text);
	}
	if (err) {
		strv_free(&paths);
		return files_add(r, "syslog:kernel", "imklog loaded", NULL, FINDING_ERROR,
				 FINDING_ACTION_NONE, &files_ref_klog, jefe_strerror(err));
	}
	if (where) {
		char actual[300];

		snprintf(actual, sizeof(actual), "loaded in %s", where);
		strv_free(&paths);
		return files_add(r, "syslog:kernel", "imklog loaded", actual, FINDING_COMPLIANT,
				 FINDING_ACTION_NONE, &files_ref_klog, NULL);
	}
	strv_free(&paths);
	/* Report-only: rsyslog's configuration is the site's (forwarding, files). */
	return files_add(r, "syslog:kernel", "imklog loaded", "not loaded", FINDING_DRIFT,
			 r->apply ? FINDING_ACTION_CANNOT_FIX : FINDING_ACTION_NONE, &files_ref_klog,
			 "add module(load=\"imklog\") to /etc/rsyslog.conf");
}

size_t files_db_fields(char *line, char **f, size_t max)
{
	size_t n = 0;

	while (n < max) {
		f[n++] = line;
		line = strchr(line, ':');
		if (!line)
			break;
		*line++ = '\0';
	}
	return n;
}

static bool files_shell_nologin(const char *shell)
{
	static const char *const ok[] = {
		"/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false",
	};

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (strcmp(shell, ok[i]) == 0)
			return true;
	return false;
}

int files_accounts_scan(const char *passwd, const char *shadow, struct files_accounts *out)
{
	char *pw = strdup(passwd), *sh = strdup(shadow ? shadow : "");
	char *save = NULL;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (!pw || !sh) {
		err = -ENOMEM;
		goto out;
	}
	for (char *line = strtok_r(pw, "\n", &save); line && !err; line = strtok_r(NULL, "\n", &save)) {
		char *f[7];
		unsigned long uid;
		char *end;

		if (files_db_fields(line, f, 7) != 7 || *f[0] == '#')
			continue;
		errno = 0;
		uid = strtoul(f[2], &end, 10);
		if (errno || *end)
			continue;
		if (uid == 0 && strcmp(f[0], "root") != 0)
			err = strv_push(&out->uid0, f[0]);
		if (!err && strcmp(f[1], "x") != 0)
			err = strv_push(&out->unshadowed, f[0]);
		/* CIS 5.4.2.7's own exceptions: root, and the shutdown helpers. */
		if (!err && uid < 1000 && strcmp(f[0], "root") && strcmp(f[0], "sync") &&
		    strcmp(f[0], "shutdown") && strcmp(f[0], "halt") && !files_shell_nologin(f[6]))
			err = strv_push(&out->login_shell, f[0]);
	}
	save = NULL;
	for (char *line = strtok_r(sh, "\n", &save); line && !err; line = strtok_r(NULL, "\n", &save)) {
		char *f[9];

		if (files_db_fields(line, f, 9) < 2 || *f[0] == '#')
			continue;
		if (*f[1] == '\0')
			err = strv_push(&out->empty_password, f[0]);
		if (!err && strcmp(f[0], "root") == 0)
			out->root_locked = f[1][0] == '!' || f[1][0] == '*';
	}
out:
	free(pw);
	free(sh);
	if (err)
		files_accounts_free(out);
	return err;
}

void files_accounts_free(struct files_accounts *a)
{
	strv_free(&a->uid0);
	strv_free(&a->unshadowed);
	strv_free(&a->login_shell);
	strv_free(&a->empty_password);
}

static const struct finding_refs files_ref_uid0 = REFS_INIT(REF_CIS("5.4.2.1"));
static const struct finding_refs files_ref_root = REFS_INIT(REF_CIS("5.4.2.4"));
static const struct finding_refs files_ref_shells = REFS_INIT(REF_CIS("5.4.2.7"));
static const struct finding_refs files_ref_shadowed = REFS_INIT(REF_CIS("7.2.1"));
static const struct finding_refs files_ref_empty = REFS_INIT(REF_CIS("7.2.2"));

static int files_accounts_item(struct files_run *r, const char *item, const char *expected,
			       const struct strv *offenders, const struct finding_refs *refs,
			       const char *fix)
{
	char actual[512] = "none";
	size_t len = 0;

	for (size_t i = 0; i < offenders->n && len < sizeof(actual) - 1; i++) {
		int n = snprintf(actual + len, sizeof(actual) - len, "%s%s", i ? " " : "",
				 offenders->v[i]);

		len = n < 0 ? sizeof(actual) : len + (size_t)n;
	}
	if (offenders->n == 0)
		return files_add(r, item, expected, actual, FINDING_COMPLIANT, FINDING_ACTION_NONE,
				 refs, NULL);
	/* Accounts are the admin's to change: the agent never edits passwd or shadow. */
	return files_add(r, item, expected, actual, FINDING_DRIFT,
			 r->apply ? FINDING_ACTION_CANNOT_FIX : FINDING_ACTION_NONE, refs, fix);
}

static int files_accounts_run(struct files_run *r)
{
	int root_fd = r->st->env->root_fd;
	struct files_accounts a;
	char *passwd = NULL, *shadow = NULL;
	int err, rd;

	if (!r->st->accounts)
		return 0;
	err = root_read_file_alloc(root_fd, "/etc/passwd", &passwd, NULL);
	if (err)
		return files_add(r, "accounts", "readable /etc/passwd", NULL,
				 err == -ENOENT ? FINDING_UNSUPPORTED : FINDING_ERROR,
				 FINDING_ACTION_NONE, NULL, jefe_strerror(err));
	rd = root_read_file_alloc(root_fd, "/etc/shadow", &shadow, NULL);
	err = files_accounts_scan(passwd, rd ? NULL : shadow, &a);
	free(passwd);
	free(shadow);
	if (err)
		return err;
	err = files_accounts_item(r, "account:uid0", "root alone", &a.uid0, &files_ref_uid0,
				  "give these accounts their own uid, or remove them (userdel)");
	if (!err)
		err = files_accounts_item(r, "account:shadowed", "every password in /etc/shadow",
					  &a.unshadowed, &files_ref_shadowed, "run pwconv");
	if (!err)
		err = files_accounts_item(r, "account:system-shells", "nologin for every system account",
					  &a.login_shell, &files_ref_shells,
					  "usermod -s /usr/sbin/nologin for each of them");
	if (!err && rd == 0)
		err = files_accounts_item(r, "account:empty-passwords", "none", &a.empty_password,
					  &files_ref_empty, "lock them (passwd -l) or set a password");
	if (!err && rd == 0)
		err = files_add(r, "account:root", "locked", a.root_locked ? "locked" : "a password",
				a.root_locked ? FINDING_COMPLIANT : FINDING_DRIFT,
				a.root_locked || !r->apply ? FINDING_ACTION_NONE : FINDING_ACTION_CANNOT_FIX,
				&files_ref_root,
				a.root_locked ? NULL : "passwd -l root: the admin reaches root through doas");
	if (!err && rd != 0)
		err = files_add(r, "account:empty-passwords", "none", NULL,
				rd == -ENOENT ? FINDING_UNSUPPORTED : FINDING_ERROR,
				FINDING_ACTION_NONE, &files_ref_empty, jefe_strerror(rd));
	files_accounts_free(&a);
	if (!err)
		err = files_login_defs_run(r);
	return err;
}

/* ---- the NTP client, log rotation and root's umask (files_cis.c) ---- */

static int files_cis_all(struct files_run *r)
{
	const struct files_cis_run c = {
		.env = r->st->env, .apply = r->apply, .dry_run = r->dry_run, .out = r->out,
	};
	int err;

	err = files_time_servers_run(&c, &r->st->ntp_servers);
	if (!err && r->st->time_sync)
		err = files_time_sync_run(&c);
	if (!err)
		err = files_logrotate_run(&c, &r->st->log_rotate);
	if (!err)
		err = files_root_umask_run(&c, r->st->root_umask);
	if (!err && r->st->accounts)
		err = files_id_rules_run(&c);
	return err;
}

/* ---- the layer ---- */

static int files_run_all(struct files_state *st, bool apply, bool dry_run, struct findings *out)
{
	struct files_run r = { .st = st, .apply = apply, .dry_run = dry_run, .out = out };
	int err;

	err = files_perms_run(&r);
	if (!err)
		err = files_walk_run(&r, FILES_WALK_SUID);
	if (!err)
		err = files_walk_run(&r, FILES_WALK_WW);
	if (!err)
		err = files_mounts_run(&r);
	if (!err)
		err = files_banners_run(&r);
	if (!err)
		err = files_accounts_run(&r);
	if (!err)
		err = files_core_limit_run(&r);
	if (!err)
		err = files_profile_umask_run(&r);
	if (!err)
		err = files_kernel_log_run(&r);
	if (!err)
		err = files_cis_all(&r);
	/* Last: after the perms repair, and after every other layer's apply. */
	if (!err)
		err = files_baseline_run(&r);
	/*
	 * An index that cannot be written is only a slower next run; a dry
	 * run leaves every file as it was, the index too, and a check makes
	 * no directory (cache_save()).
	 */
	if (!dry_run)
		(void)files_index_save(&st->index, apply);
	rootfs_accounts_free(&r.ids[0]);
	rootfs_accounts_free(&r.ids[1]);
	return err;
}

static int files_check(void *state, struct findings *out)
{
	return files_run_all(state, false, false, out);
}

static int files_apply(void *state, bool dry_run, struct findings *out)
{
	return files_run_all(state, true, dry_run, out);
}

#define FILES_WATCH_MASK (IN_ATTRIB | IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | \
			  IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)

/* Remember that watch wd is there for its entry name (NULL: all of them). */
static int files_wname_add(struct files_state *st, int wd, const char *name)
{
	struct files_wname *v = array_grow(st->wnames, st->n_wnames, &st->cap_wnames,
					   sizeof(*st->wnames));
	char *copy = NULL;

	if (!v)
		return -ENOMEM;
	st->wnames = v;
	if (name && !(copy = strdup(name)))
		return -ENOMEM;
	st->wnames[st->n_wnames++] = (struct files_wname){ .wd = wd, .name = copy };
	return 0;
}

/*
 * Watch the directory of each managed path (and the path itself when it
 * is a directory): a directory watch sees chmod/chown/writes of its
 * entries and also the rename an editor does when it saves, which a watch
 * on the file's old inode would miss.  Each watch remembers which entry
 * it is for (files_event_news()); entries: a directory's entries are read
 * by a check (limits.d), so every one of them is news, where a directory
 * of [files.perms] is only checked itself.
 */
static int files_watch_entry(struct files_state *st, struct strv *seen, const char *path,
			     bool entries)
{
	char dir[4096], key[4100];
	const char *slash = strrchr(path, '/');
	struct stat sb;
	int err = 0, wd;

	snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	/* Absent directory: nothing to watch yet. */
	wd = rootfs_watch_add(st->inotify_fd, st->env->root_fd, dir, FILES_WATCH_MASK);
	if (wd >= 0)
		err = files_wname_add(st, wd, slash + 1);
	snprintf(key, sizeof(key), "%c%s", entries ? '+' : '-', path);
	if (!err && !strpbrk(path, "*?[") && !strv_contains(seen, key) &&
	    rootfs_stat(st->env->root_fd, path, &sb, false) == 0 &&
	    S_ISDIR(sb.st_mode)) {
		err = strv_push(seen, key);
		wd = err ? -1 : rootfs_watch_add(st->inotify_fd, st->env->root_fd, path,
						 FILES_WATCH_MASK);
		/* Without entries, only the directory's own events (no name) count. */
		if (wd >= 0 && entries)
			err = files_wname_add(st, wd, NULL);
	}
	return err;
}

static int files_watch_path(struct files_state *st, struct strv *seen, const char *path)
{
	return files_watch_entry(st, seen, path, true);
}

/*
 * The walks' directories: a set-id bit or an o+w mode is a chmod (IN_ATTRIB
 * on the directory that holds the file), a new file is IN_CREATE or
 * IN_MOVED_TO.  Watched down to the walk's depth, on the walk's
 * filesystem.  IN_MASK_ADD: a directory of a managed path keeps its mask.
 */
#define FILES_WALK_WATCH_MASK	(IN_ATTRIB | IN_CREATE | IN_MOVED_TO | IN_MASK_ADD)
/*
 * Past this many directories (or the kernel's max_user_watches, ENOSPC),
 * the rest is seen by the backstop walk only.  A Debian root has a few
 * hundred directories in the default walks.
 */
#define FILES_WALK_WATCH_MAX	4096

static int files_watch_tree(struct files_state *st, int dir_fd, const char *path, int depth,
			    dev_t dev)
{
	struct files_wdir *v;
	char link[64];
	DIR *d;
	struct dirent *de;
	int wd, err = 0;

	if (st->wdirs_full || st->n_wdirs >= FILES_WALK_WATCH_MAX) {
		st->wdirs_full = true;
		close(dir_fd);
		return 0;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dir_fd);
	wd = inotify_add_watch(st->inotify_fd, link, FILES_WALK_WATCH_MASK);
	if (wd < 0) {
		err = -errno;
		close(dir_fd);
		if (err == -ENOSPC) {
			st->wdirs_full = true;
			return 0;
		}
		return err == -EACCES || err == -ENOENT ? 0 : err;
	}
	v = array_grow(st->wdirs, st->n_wdirs, &st->cap_wdirs, sizeof(*st->wdirs));
	if (!v) {
		close(dir_fd);
		return -ENOMEM;
	}
	st->wdirs = v;
	st->wdirs[st->n_wdirs] = (struct files_wdir){ .wd = wd, .depth = depth, .path = strdup(path) };
	if (!st->wdirs[st->n_wdirs].path) {
		close(dir_fd);
		return -ENOMEM;
	}
	st->n_wdirs++;
	if (depth >= FILES_WALK_DEPTH) {
		close(dir_fd);
		return 0;
	}
	d = fdopendir(dir_fd);
	if (!d) {
		err = -errno;
		close(dir_fd);
		return err;
	}
	while (!err && (de = readdir(d))) {
		char child[4096];
		struct stat sb;
		int fd;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(sb.st_mode) || sb.st_dev != dev)
			continue;
		if (snprintf(child, sizeof(child), "%s/%s", strcmp(path, "/") ? path : "",
			     de->d_name) >= (int)sizeof(child))
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			err = files_watch_tree(st, fd, child, depth + 1, dev);
	}
	closedir(d);
	return err;
}

static int files_watch_walks(struct files_state *st)
{
	struct strv seen = { 0 };
	int err = 0;

	for (int pass = 0; !err && pass < 2; pass++) {
		const struct strv *dirs = pass ? &st->ww_dirs : &st->suid_dirs;

		for (size_t i = 0; !err && i < dirs->n; i++) {
			struct stat sb;
			int fd;

			if (strv_contains(&seen, dirs->v[i]))
				continue;
			err = strv_push(&seen, dirs->v[i]);
			if (err)
				break;
			/* As the walk opens it: a symlinked /bin is not walked, nor watched. */
			fd = rootfs_open(st->env->root_fd, dirs->v[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
			if (fd < 0)
				continue;
			if (fstat(fd, &sb) < 0) {
				close(fd);
				continue;
			}
			err = files_watch_tree(st, fd, dirs->v[i], 1, sb.st_dev);
		}
	}
	strv_free(&seen);
	return err;
}

static int files_watch(void *state, struct watch_set *ws)
{
	struct files_state *st = state;
	struct strv seen = { 0 };
	int err = 0;

	if (!st->active)
		return 0;
	if (st->inotify_fd < 0) {
		st->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (st->inotify_fd < 0)
			return -errno;
		for (size_t i = 0; !err && i < st->n_perms; i++)
			err = files_watch_entry(st, &seen, st->perms[i].path, false);
		for (size_t i = 0; !err && i < st->baseline.n; i++)
			err = files_watch_entry(st, &seen, st->baseline.v[i], false);
		for (size_t i = 0; !err && i < st->baseline_managed.n; i++)
			err = files_watch_entry(st, &seen, st->baseline_managed.v[i], false);
		/* The files the banner, account and login.defs checks read. */
		for (size_t i = 0; !err && i < st->banners.n; i++)
			err = files_watch_entry(st, &seen, st->banners.v[i], false);
		if (!err && st->accounts)
			err = files_watch_path(st, &seen, "/etc/passwd");
		if (!err && st->accounts)
			err = files_watch_path(st, &seen, "/etc/shadow");
		if (!err && st->login_defs.n)
			err = files_watch_path(st, &seen, "/etc/login.defs");
		if (!err && st->core_limit)
			err = files_watch_path(st, &seen, "/etc/security/limits.conf");
		if (!err && st->core_limit)
			err = files_watch_path(st, &seen, "/etc/security/limits.d");
		if (!err && st->profile_umask[0])
			err = files_watch_path(st, &seen, "/etc/profile");
		if (!err && st->profile_umask[0])
			err = files_watch_path(st, &seen, "/etc/profile.d");
		if (!err && st->kernel_log)
			err = files_watch_path(st, &seen, "/etc/rsyslog.conf");
		if (!err && st->kernel_log)
			err = files_watch_path(st, &seen, "/etc/rsyslog.d");
		for (size_t i = 0; !err && st->ntp_servers.n && files_cis_time_paths[i]; i++)
			err = files_watch_path(st, &seen, files_cis_time_paths[i]);
		for (size_t i = 0; !err && st->log_rotate.n && files_cis_logrotate_paths[i]; i++)
			err = files_watch_path(st, &seen, files_cis_logrotate_paths[i]);
		for (size_t i = 0; !err && st->accounts && files_cis_account_paths[i]; i++)
			err = files_watch_path(st, &seen, files_cis_account_paths[i]);
		/*
		 * Root's start-up files by name, not every entry of /root:
		 * root's shell history and editors write there all the time.
		 */
		if (!err && st->root_umask[0])
			err = files_watch_entry(st, &seen, FILES_ROOT_HOME, false);
		for (size_t i = 0; !err && st->root_umask[0] && files_cis_root_paths[i]; i++)
			err = files_watch_entry(st, &seen, files_cis_root_paths[i], false);
		/*
		 * Read by the checks without being managed paths: the owners
		 * and groups of [files.perms] by name, the OS a banner must
		 * not tell, the umask of bash's own startup file.
		 */
		if (!err && st->n_perms)
			err = files_watch_entry(st, &seen, "/etc/passwd", false);
		if (!err && st->n_perms)
			err = files_watch_entry(st, &seen, "/etc/group", false);
		if (!err && st->banners.n)
			err = files_watch_entry(st, &seen, "/etc/os-release", false);
		if (!err && st->banners.n)
			err = files_watch_entry(st, &seen, "/usr/lib/os-release", false);
		if (!err && st->profile_umask[0])
			err = files_watch_entry(st, &seen, "/etc/bash.bashrc", false);
		/* An accepted file (jefe baseline accept) is news for the daemon. */
		if (!err && (st->baseline.n || st->baseline_managed.n))
			err = files_watch_path(st, &seen, FILES_BASELINE_FILE);
		strv_free(&seen);
		if (!err)
			err = files_watch_walks(st);
		if (err) {
			close(st->inotify_fd);
			st->inotify_fd = -1;
			return err;
		}
	}
	return watch_set_add(ws, st->inotify_fd, EPOLLIN);
}

/*
 * Whether an event can change a finding of this layer: an event on a
 * watched object itself, a lost queue, a chmod, a new or a removed entry
 * in a walk's directory (a write changes no mode), or any event about an
 * entry a check reads.  A watch
 * the layer does not know (none should exist) is news too.
 */
static bool files_event_news(const struct files_state *st, const struct inotify_event *ev)
{
	bool known = false;

	if (ev->len == 0 || (ev->mask & IN_Q_OVERFLOW))
		return true;
	for (size_t i = 0; i < st->n_wdirs; i++)
		if (st->wdirs[i].wd == ev->wd) {
			if (ev->mask & (IN_ATTRIB | IN_CREATE | IN_MOVED_TO | IN_DELETE |
					IN_MOVED_FROM))
				return true;
			known = true;
			break;
		}
	for (size_t i = 0; i < st->n_wnames; i++) {
		const struct files_wname *w = &st->wnames[i];

		if (w->wd != ev->wd)
			continue;
		known = true;
		/* FNM_PERIOD: as the check expands a pattern. */
		if (!w->name || fnmatch(w->name, ev->name, FNM_PERIOD) == 0)
			return true;
	}
	return !known;
}

/*
 * A directory made or moved into a watched one is watched too (to the
 * walk's depth).  Returns whether the event asks for a re-check.
 */
static bool files_on_inotify(void *ctx, const struct inotify_event *ev)
{
	struct files_state *st = ctx;

	if (!(ev->mask & IN_ISDIR) || !(ev->mask & (IN_CREATE | IN_MOVED_TO)) || ev->len == 0)
		return files_event_news(st, ev);
	for (size_t i = 0; i < st->n_wdirs; i++) {
		struct files_wdir *w = &st->wdirs[i];
		char child[4096];
		struct stat sb;
		int fd;

		if (w->wd != ev->wd)
			continue;
		if (w->depth >= FILES_WALK_DEPTH ||
		    snprintf(child, sizeof(child), "%s/%s", strcmp(w->path, "/") ? w->path : "",
			     ev->name) >= (int)sizeof(child))
			break;
		fd = rootfs_open(st->env->root_fd, child, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
		if (fd < 0)
			break;
		/* Its files are checked by the re-check this event asks for. */
		if (fstat(fd, &sb) == 0)
			(void)files_watch_tree(st, fd, child, w->depth + 1, sb.st_dev);
		else
			close(fd);
		break;
	}
	return files_event_news(st, ev);
}

static int files_on_event(void *state, int fd, uint32_t events, bool *recheck)
{
	return layer_inotify_drain(fd, files_on_inotify, state, recheck);
}

const struct layer_ops layer_files_ops = {
	.name = FILES_LAYER,
	.title = "filesystem permissions and integrity",
	.keys = files_keys,
	.settings_size = sizeof(struct files_settings),
	.subsections = files_subsections,
	.free_key = files_free_key,
	.load = files_load,
	.check = files_check,
	.apply = files_apply,
	.watch = files_watch,
	.on_event = files_on_event,
	.free = files_state_free,
};
