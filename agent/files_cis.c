/* SPDX-License-Identifier: MIT */
/*
 * The files layer's checks of other programs' configuration (files_cis.h):
 *
 * - time: chrony's sources are the policy's servers.  The agent owns one
 *   file, /etc/chrony/sources.d/jefe.sources, and writes it from the
 *   policy; a source named anywhere else that the policy does not list is
 *   cannot-fix (the site's file).  Whether the clock is synchronised is the
 *   running kernel's word (adjtimex(2): chronyd clears STA_UNSYNC while it
 *   keeps the clock, the kernel sets it again once nobody does), read with
 *   one system call and no program, and only when the root is the host's.
 * - log rotation: every log the policy lists is matched by a logrotate
 *   stanza, and logrotate runs daily (cron.daily).
 * - root's umask: no umask line of root's shell start-up files is weaker
 *   than the policy's (root's login shell reads /etc/profile first, which
 *   profile_umask checks).
 * - the account rules of passwd, group and shells that layer_files.c's
 *   accounts scan does not hold: gid 0, groups that exist, the shadow
 *   group empty, no duplicate ids or names, no nologin in /etc/shells.
 *
 * All of it reads a few small files below the root: no program runs and
 * nothing is hashed on the status path.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timex.h>

#include "errors.h"
#include "files_cis.h"
#include "layer_files.h"
#include "rootfs.h"

const char *const files_cis_time_paths[] = {
	FILES_CHRONY_CONF, "/etc/chrony/conf.d", FILES_CHRONY_SOURCEDIR, NULL
};
const char *const files_cis_logrotate_paths[] = {
	FILES_LOGROTATE_CONF, FILES_LOGROTATE_DIR, FILES_LOGROTATE_CRON, FILES_LOGROTATE_PERIODIC,
	NULL
};
/* What root's shells read after /etc/profile: sh and bash, login or not. */
const char *const files_cis_root_paths[] = {
	FILES_ROOT_HOME "/.profile", FILES_ROOT_HOME "/.bash_profile",
	FILES_ROOT_HOME "/.bash_login", FILES_ROOT_HOME "/.bashrc", NULL,
};
const char *const files_cis_account_paths[] = { "/etc/passwd", "/etc/group", "/etc/shells", NULL };

static const struct finding_refs files_ref_servers =
	REFS_INIT(REF_CIS("2.3.1.1"), REF_CIS("2.3.3.1"));
static const struct finding_refs files_ref_sync =
	REFS_INIT(REF_CIS("2.3.1.1"), REF_CIS("2.3.3.3"));
static const struct finding_refs files_ref_logrotate = REFS_INIT(REF_CIS("6.2.3.8"));
static const struct finding_refs files_ref_root_umask = REFS_INIT(REF_CIS("5.4.2.6"));

static int files_cis_add(const struct files_cis_run *r, const char *item, const char *expected,
			 const char *actual, enum finding_state state, enum finding_action action,
			 const struct finding_refs *refs, const char *note)
{
	return files_finding_add(r->out, item, expected, actual, state, action, refs, note);
}

/* Report-only drift: cannot-fix when applying, plain drift when checking. */
static enum finding_action files_cis_report_only(const struct files_cis_run *r)
{
	return r->apply ? FINDING_ACTION_CANNOT_FIX : FINDING_ACTION_NONE;
}

/* The next line of text into buf, comments cut; NULL at the end. */
static const char *files_cis_line(const char *text, char *buf, size_t size)
{
	const char *end;
	size_t len;
	char *hash;

	if (!text || !*text)
		return NULL;
	end = strchr(text, '\n');
	len = end ? (size_t)(end - text) : strlen(text);
	snprintf(buf, size, "%.*s", (int)(len < size ? len : size - 1), text);
	hash = strchr(buf, '#');
	if (hash)
		*hash = '\0';
	return end ? end + 1 : text + len;
}

/* ---- time: chrony's sources and the kernel's clock ---- */

int files_chrony_parse(const char *text, struct strv *sources, struct strv *confdirs,
		       struct strv *sourcedirs)
{
	char buf[1024];
	int err = 0;

	while (!err && (text = files_cis_line(text, buf, sizeof(buf)))) {
		char word[32], arg[512];

		/* chrony also takes ';' and '!' as comments. */
		buf[strcspn(buf, ";!")] = '\0';
		if (sscanf(buf, "%31s %511s", word, arg) != 2)
			continue;
		if (!strcasecmp(word, "server") || !strcasecmp(word, "pool") ||
		    !strcasecmp(word, "peer")) {
			if (!strv_contains(sources, arg))
				err = strv_push(sources, arg);
		} else if (!strcasecmp(word, "confdir") || !strcasecmp(word, "sourcedir")) {
			struct strv *dirs = tolower((unsigned char)word[0]) == 'c' ? confdirs : sourcedirs;
			/* "confdir DIR..." takes several directories. */
			err = strv_split(dirs, buf + strspn(buf, " \t") + strlen(word), " \t");
		}
	}
	return err;
}

char *files_chrony_render(const struct strv *servers)
{
	static const char head[] =
		"# Written by the JefeLinux agent from [files] ntp_servers of its policy\n"
		"# (jefe.conf(5)): change the policy, not this file.\n";
	size_t len = sizeof(head);
	char *s, *p;

	for (size_t i = 0; i < servers->n; i++)
		len += strlen(servers->v[i]) + sizeof("server  iburst\n");
	s = malloc(len);
	if (!s)
		return NULL;
	p = s + snprintf(s, len, "%s", head);
	for (size_t i = 0; i < servers->n; i++)
		p += snprintf(p, len - (size_t)(p - s), "server %s iburst\n", servers->v[i]);
	return s;
}

bool files_clock_synced(int rc, int status)
{
	return rc >= 0 && rc != TIME_ERROR && !(status & STA_UNSYNC);
}

/* The sources of one chrony file, and the directories it names. */
static int files_chrony_read(int root_fd, const char *path, struct strv *sources,
			     struct strv *confdirs, struct strv *sourcedirs)
{
	char *text = NULL;
	int err = root_read_file_alloc(root_fd, path, &text, NULL);

	if (err == 0)
		err = files_chrony_parse(text, sources, confdirs, sourcedirs);
	free(text);
	return err == -ENOENT ? 0 : err;
}

static void files_strv_join(const struct strv *sv, char *buf, size_t size, const char *none)
{
	size_t off = 0;

	snprintf(buf, size, "%s", sv->n ? "" : none);
	for (size_t i = 0; i < sv->n && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s", i ? " " : "", sv->v[i]);
}

int files_time_servers_run(const struct files_cis_run *r, const struct strv *servers)
{
	int root_fd = r->env->root_fd;
	struct strv others = { 0 }, confdirs = { 0 }, sourcedirs = { 0 }, files = { 0 };
	struct strv extra = { 0 };
	char want[512], actual[512], note[768];
	char *ours = NULL, *rendered = NULL;
	bool has_dir, ours_ok;
	struct stat sb;
	int err;

	if (!servers->n)
		return 0;
	files_strv_join(servers, want, sizeof(want), "");
	if (rootfs_stat(root_fd, FILES_CHRONY_CONF, &sb, true) < 0)
		return files_cis_add(r, "time:servers", want, "no " FILES_CHRONY_CONF,
				     FINDING_DRIFT, files_cis_report_only(r), &files_ref_servers,
				     "install chrony (the image's NTP client)");
	err = files_chrony_read(root_fd, FILES_CHRONY_CONF, &others, &confdirs, &sourcedirs);
	for (size_t i = 0; !err && i < confdirs.n; i++)
		err = files_dir_list(root_fd, confdirs.v[i], ".conf", &files);
	for (size_t i = 0; !err && i < sourcedirs.n; i++)
		err = files_dir_list(root_fd, sourcedirs.v[i], ".sources", &files);
	for (size_t i = 0; !err && i < files.n; i++)
		if (strcmp(files.v[i], FILES_CHRONY_SOURCES) != 0)
			err = files_chrony_read(root_fd, files.v[i], &others, &confdirs, &sourcedirs);
	if (!err) {
		err = root_read_file_alloc(root_fd, FILES_CHRONY_SOURCES, &ours, NULL);
		if (err == -ENOENT)
			err = 0;
	}
	rendered = err ? NULL : files_chrony_render(servers);
	if (!err && !rendered)
		err = -ENOMEM;
	for (size_t i = 0; !err && i < others.n; i++)
		if (!strv_contains(servers, others.v[i]))
			err = strv_push(&extra, others.v[i]);
	if (err) {
		err = files_cis_add(r, "time:servers", want, NULL, FINDING_ERROR, FINDING_ACTION_NONE,
				    &files_ref_servers, jefe_strerror(err));
		goto out;
	}
	has_dir = strv_contains(&sourcedirs, FILES_CHRONY_SOURCEDIR);
	ours_ok = ours && strcmp(ours, rendered) == 0;
	if (has_dir && ours_ok && !extra.n) {
		err = files_cis_add(r, "time:servers", want, want, FINDING_COMPLIANT,
				    FINDING_ACTION_NONE, &files_ref_servers, NULL);
		goto out;
	}
	/* What chronyd uses now: the other files' sources, and ours if it reads them. */
	{
		struct strv now = { 0 };
		struct strv mine = { 0 }, d1 = { 0 }, d2 = { 0 };

		for (size_t i = 0; !err && i < others.n; i++)
			err = strv_push(&now, others.v[i]);
		if (!err && has_dir && ours)
			err = files_chrony_parse(ours, &mine, &d1, &d2);
		for (size_t i = 0; !err && i < mine.n; i++)
			if (!strv_contains(&now, mine.v[i]))
				err = strv_push(&now, mine.v[i]);
		files_strv_join(&now, actual, sizeof(actual), "no server");
		strv_free(&now);
		strv_free(&mine);
		strv_free(&d1);
		strv_free(&d2);
		if (err)
			goto out;
	}
	if (!has_dir || extra.n) {
		char ex[400];

		files_strv_join(&extra, ex, sizeof(ex), "");
		if (!has_dir)
			snprintf(note, sizeof(note), "add 'sourcedir " FILES_CHRONY_SOURCEDIR "' to "
				 FILES_CHRONY_CONF "%s%s", extra.n ? "; remove the sources " : "",
				 extra.n ? ex : "");
		else
			snprintf(note, sizeof(note), "remove the sources the policy does not list "
				 "from chrony's configuration: %s", ex);
		err = files_cis_add(r, "time:servers", want, actual, FINDING_DRIFT,
				    files_cis_report_only(r), &files_ref_servers, note);
		goto out;
	}
	/* Only our file is off: write it (chronyd reads it when it starts). */
	if (r->apply && !r->dry_run) {
		err = rootfs_mkdir_p(root_fd, FILES_CHRONY_SOURCEDIR, 0755);
		if (!err)
			err = rootfs_write_atomic(root_fd, FILES_CHRONY_SOURCES, rendered,
						  strlen(rendered), 0644);
		if (err) {
			snprintf(note, sizeof(note), "writing " FILES_CHRONY_SOURCES ": %s",
				 jefe_strerror(err));
			err = files_cis_add(r, "time:servers", want, actual, FINDING_DRIFT,
					    FINDING_ACTION_FAILED, &files_ref_servers, note);
			goto out;
		}
	}
	err = files_cis_add(r, "time:servers", want, actual, FINDING_DRIFT,
			    !r->apply ? FINDING_ACTION_NONE :
			    r->dry_run ? FINDING_ACTION_WOULD_REPAIR : FINDING_ACTION_REPAIRED,
			    &files_ref_servers,
			    r->apply ? "written to " FILES_CHRONY_SOURCES "; chronyd reads it when it "
			    "starts (rc-service chrony restart, or chronyc reload sources)" :
			    "enforce writes " FILES_CHRONY_SOURCES " from the policy");
out:
	free(ours);
	free(rendered);
	strv_free(&others);
	strv_free(&confdirs);
	strv_free(&sourcedirs);
	strv_free(&files);
	strv_free(&extra);
	return err;
}

int files_time_sync_run(const struct files_cis_run *r)
{
	struct timex tx = { .modes = 0 };	/* read only: no privilege needed */
	char actual[96];
	int rc;

	/* The clock is the running kernel's: a tree below --root has none of its own. */
	if (!r->env->is_host)
		return files_cis_add(r, "time:sync", "synchronised", "not the running system",
				     FINDING_UNSUPPORTED, FINDING_ACTION_NONE, &files_ref_sync,
				     "the clock is checked on the running system only (--root /)");
	rc = adjtimex(&tx);
	if (rc < 0)
		return files_cis_add(r, "time:sync", "synchronised", NULL, FINDING_ERROR,
				     FINDING_ACTION_NONE, &files_ref_sync, jefe_strerror(-errno));
	if (files_clock_synced(rc, tx.status)) {
		snprintf(actual, sizeof(actual), "synchronised (estimated error %ld us)", tx.esterror);
		return files_cis_add(r, "time:sync", "synchronised", actual, FINDING_COMPLIANT,
				     FINDING_ACTION_NONE, &files_ref_sync, NULL);
	}
	snprintf(actual, sizeof(actual), "unsynchronised (maximum error %ld us)", tx.maxerror);
	/* Report-only: the agent does not set the clock, chronyd does. */
	return files_cis_add(r, "time:sync", "synchronised", actual, FINDING_DRIFT,
			     files_cis_report_only(r), &files_ref_sync,
			     "chronyd is not running or reaches none of its servers (chronyc sources)");
}

/* ---- log rotation ---- */

int files_logrotate_patterns(const char *text, struct strv *out)
{
	char buf[1024];
	int depth = 0, err = 0;

	while (!err && (text = files_cis_line(text, buf, sizeof(buf)))) {
		char *p = buf, *open = strchr(buf, '{');
		bool block = open != NULL;

		if (depth > 0) {
			if (strchr(buf, '}'))
				depth = 0;
			continue;
		}
		if (open)
			*open = '\0';
		while (isspace((unsigned char)*p))
			p++;
		/* A log pattern starts with '/' (or a quoted one); anything else is a directive. */
		if (*p == '/' || (*p == '"' && p[1] == '/')) {
			struct strv w = { 0 };

			err = strv_split(&w, p, " \t");
			for (size_t i = 0; !err && i < w.n; i++) {
				char *s = w.v[i];
				size_t n = strlen(s);

				if (s[0] == '"' && n >= 2 && s[n - 1] == '"') {
					s[n - 1] = '\0';
					s++;
				}
				err = strv_push(out, s);
			}
			strv_free(&w);
		}
		if (block && !strchr(open + 1, '}'))
			depth = 1;
	}
	return err;
}

int files_logrotate_run(const struct files_cis_run *r, const struct strv *logs)
{
	int root_fd = r->env->root_fd;
	struct strv paths = { 0 }, pats = { 0 };
	struct stat sb;
	int err;

	if (!logs->n)
		return 0;
	err = strv_push(&paths, FILES_LOGROTATE_CONF);
	if (!err)
		err = files_dir_list(root_fd, FILES_LOGROTATE_DIR, "", &paths);
	for (size_t i = 0; !err && i < paths.n; i++) {
		char *text = NULL;
		int k = root_read_file_alloc(root_fd, paths.v[i], &text, NULL);

		if (k == 0)
			err = files_logrotate_patterns(text, &pats);
		free(text);
	}
	for (size_t i = 0; !err && i < logs->n; i++) {
		char item[4200];
		const char *match = NULL;

		for (size_t j = 0; !match && j < pats.n; j++)
			if (fnmatch(pats.v[j], logs->v[i], FNM_PATHNAME) == 0)
				match = pats.v[j];
		snprintf(item, sizeof(item), "logrotate:%s", logs->v[i]);
		if (match)
			err = files_cis_add(r, item, "rotated", match, FINDING_COMPLIANT,
					    FINDING_ACTION_NONE, &files_ref_logrotate, NULL);
		else
			err = files_cis_add(r, item, "rotated", "in no logrotate stanza", FINDING_DRIFT,
					    files_cis_report_only(r), &files_ref_logrotate,
					    "add it to a stanza of /etc/logrotate.d/rsyslog");
	}
	if (err) {
		strv_free(&paths);
		strv_free(&pats);
		return files_cis_add(r, "logrotate:daily", "rotated", NULL, FINDING_ERROR,
				     FINDING_ACTION_NONE, &files_ref_logrotate, jefe_strerror(err));
	}
	strv_free(&paths);
	strv_free(&pats);
	/* Rotation needs a runner: logrotate's package starts it from cron's daily run. */
	for (size_t i = 0; i < 2; i++) {
		const char *runner = i ? FILES_LOGROTATE_PERIODIC : FILES_LOGROTATE_CRON;

		if (rootfs_stat(root_fd, runner, &sb, true) == 0 && S_ISREG(sb.st_mode) &&
		    (sb.st_mode & 0100))
			return files_cis_add(r, "logrotate:daily", FILES_LOGROTATE_CRON, runner,
					     FINDING_COMPLIANT, FINDING_ACTION_NONE,
					     &files_ref_logrotate, NULL);
	}
	return files_cis_add(r, "logrotate:daily", FILES_LOGROTATE_CRON, "absent or not executable",
			     FINDING_DRIFT, files_cis_report_only(r), &files_ref_logrotate,
			     "install logrotate (its cron.daily script) and run cron");
}

/* ---- root's umask ---- */

int files_root_umask_run(const struct files_cis_run *r, const char *want)
{
	const char *const *rc_files = files_cis_root_paths;
	unsigned long w = strtoul(want, NULL, 8);
	char actual[320], weak[32], note[256];

	if (!*want)
		return 0;
	for (size_t i = 0; rc_files[i]; i++) {
		char *text = NULL;
		int k = 0;

		if (root_read_file_alloc(r->env->root_fd, rc_files[i], &text, NULL) == 0)
			k = files_profile_umask(text, w, weak, sizeof(weak));
		free(text);
		if (k < 0) {
			snprintf(actual, sizeof(actual), "%s in %s", weak, rc_files[i]);
			snprintf(note, sizeof(note), "remove the umask line of %s or make it %s",
				 rc_files[i], want);
			return files_cis_add(r, "root:umask", want, actual, FINDING_DRIFT,
					     files_cis_report_only(r), &files_ref_root_umask, note);
		}
	}
	/* None weaker: root keeps /etc/profile's umask (profile:umask). */
	return files_cis_add(r, "root:umask", want, "none weaker", FINDING_COMPLIANT,
			     FINDING_ACTION_NONE, &files_ref_root_umask, NULL);
}

/* ---- passwd, group and shells ---- */

/* Push s to dups once when it is already in seen, else to seen. */
static int files_cis_dup(struct strv *seen, struct strv *dups, const char *s)
{
	if (!strv_contains(seen, s))
		return strv_push(seen, s);
	return strv_contains(dups, s) ? 0 : strv_push(dups, s);
}

int files_id_rules_scan(const char *passwd, const char *group, const char *shells,
			struct files_id_rules *out)
{
	static const char *const gid0_ok[] = { "root", "sync", "shutdown", "halt", "operator" };
	struct strv uids = { 0 }, users = { 0 }, gids = { 0 }, groups = { 0 };
	char buf[1024], shadow_gid[16] = "";
	const char *t;
	int err = 0;

	memset(out, 0, sizeof(*out));
	for (t = group; !err && (t = files_cis_line(t, buf, sizeof(buf)));) {
		char *f[4];

		if (files_db_fields(buf, f, 4) < 4 || !*f[0])
			continue;
		err = files_cis_dup(&gids, &out->dup_gids, f[2]);
		if (!err)
			err = files_cis_dup(&groups, &out->dup_groups, f[0]);
		if (!err && strcmp(f[2], "0") == 0 && strcmp(f[0], "root") != 0)
			err = strv_push(&out->gid0_groups, f[0]);
		if (!err && strcmp(f[0], "shadow") == 0) {
			snprintf(shadow_gid, sizeof(shadow_gid), "%s", f[2]);
			if (*str_trim(f[3]))
				err = strv_split(&out->shadow_members, f[3], ",");
		}
	}
	for (t = passwd; !err && (t = files_cis_line(t, buf, sizeof(buf)));) {
		char *f[7], who[320];
		bool ok = false;

		if (files_db_fields(buf, f, 7) < 7 || !*f[0])
			continue;
		err = files_cis_dup(&uids, &out->dup_uids, f[2]);
		if (!err)
			err = files_cis_dup(&users, &out->dup_users, f[0]);
		for (size_t i = 0; i < sizeof(gid0_ok) / sizeof(gid0_ok[0]); i++)
			ok |= strcmp(f[0], gid0_ok[i]) == 0;
		if (!err && strcmp(f[3], "0") == 0 && !ok)
			err = strv_push(&out->gid0_users, f[0]);
		snprintf(who, sizeof(who), "%s (gid %s)", f[0], f[3]);
		if (!err && group && !strv_contains(&gids, f[3]))
			err = strv_push(&out->missing_groups, who);
		if (!err && *shadow_gid && strcmp(f[3], shadow_gid) == 0 &&
		    !strv_contains(&out->shadow_members, f[0]))
			err = strv_push(&out->shadow_members, f[0]);
	}
	for (t = shells; !err && (t = files_cis_line(t, buf, sizeof(buf)));) {
		char *p = str_trim(buf);
		const char *base = strrchr(p, '/');

		if (strcmp(base ? base + 1 : p, "nologin") == 0)
			err = strv_push(&out->nologin_shells, p);
	}
	strv_free(&uids);
	strv_free(&users);
	strv_free(&gids);
	strv_free(&groups);
	if (err)
		files_id_rules_free(out);
	return err;
}

void files_id_rules_free(struct files_id_rules *r)
{
	strv_free(&r->gid0_users);
	strv_free(&r->gid0_groups);
	strv_free(&r->missing_groups);
	strv_free(&r->shadow_members);
	strv_free(&r->dup_uids);
	strv_free(&r->dup_gids);
	strv_free(&r->dup_users);
	strv_free(&r->dup_groups);
	strv_free(&r->nologin_shells);
}

static const struct finding_refs ref_gid0 = REFS_INIT(REF_CIS("5.4.2.2"));
static const struct finding_refs ref_group0 = REFS_INIT(REF_CIS("5.4.2.3"));
static const struct finding_refs ref_groups = REFS_INIT(REF_CIS("7.2.3"));
static const struct finding_refs ref_shadow = REFS_INIT(REF_CIS("7.2.4"));
static const struct finding_refs ref_uids = REFS_INIT(REF_CIS("7.2.5"));
static const struct finding_refs ref_gids = REFS_INIT(REF_CIS("7.2.6"));
static const struct finding_refs ref_users = REFS_INIT(REF_CIS("7.2.7"));
static const struct finding_refs ref_names = REFS_INIT(REF_CIS("7.2.8"));
static const struct finding_refs ref_shells = REFS_INIT(REF_CIS("5.4.3.1"));

int files_id_rules_run(const struct files_cis_run *r)
{
	int root_fd = r->env->root_fd;
	char *passwd = NULL, *group = NULL, *shells = NULL;
	struct files_id_rules x;
	int err;

	err = root_read_file_alloc(root_fd, "/etc/passwd", &passwd, NULL);
	if (err == 0 || err == -ENOENT)
		err = root_read_file_alloc(root_fd, "/etc/group", &group, NULL);
	if (err == 0 || err == -ENOENT)
		err = root_read_file_alloc(root_fd, "/etc/shells", &shells, NULL);
	if (err == 0 || err == -ENOENT)
		err = files_id_rules_scan(passwd, group, shells, &x);
	free(passwd);
	free(group);
	free(shells);
	if (err)
		return files_cis_add(r, "account:groups", "readable", NULL, FINDING_ERROR,
				     FINDING_ACTION_NONE, &ref_groups, jefe_strerror(err));
	{
		const struct {
			const char *item, *expected, *note;
			const struct strv *bad;
			const struct finding_refs *refs;
		} rules[] = {
			{ "account:gid0", "only root's group is gid 0", "give these accounts another primary group in /etc/passwd", &x.gid0_users, &ref_gid0 },
			{ "account:group-gid0", "only group root has gid 0", "give these groups another gid in /etc/group", &x.gid0_groups, &ref_group0 },
			{ "account:groups", "every primary group in /etc/group", "add these groups to /etc/group", &x.missing_groups, &ref_groups },
			{ "account:shadow-group", "group shadow empty", "remove these users from group shadow", &x.shadow_members, &ref_shadow },
			{ "account:duplicate-uids", "none", "give each account its own uid", &x.dup_uids, &ref_uids },
			{ "account:duplicate-gids", "none", "give each group its own gid", &x.dup_gids, &ref_gids },
			{ "account:duplicate-users", "none", "remove the duplicate lines from /etc/passwd", &x.dup_users, &ref_users },
			{ "account:duplicate-groups", "none", "remove the duplicate lines from /etc/group", &x.dup_groups, &ref_names },
			{ "shells:nologin", "no nologin in /etc/shells", "remove nologin from /etc/shells", &x.nologin_shells, &ref_shells },
		};

		for (size_t i = 0; !err && i < sizeof(rules) / sizeof(rules[0]); i++) {
			char actual[512];

			if (!rules[i].bad->n) {
				err = files_cis_add(r, rules[i].item, rules[i].expected, "none",
						    FINDING_COMPLIANT, FINDING_ACTION_NONE,
						    rules[i].refs, NULL);
				continue;
			}
			files_strv_join(rules[i].bad, actual, sizeof(actual), "");
			/* Report-only: the agent never edits the account databases. */
			err = files_cis_add(r, rules[i].item, rules[i].expected, actual, FINDING_DRIFT,
					    files_cis_report_only(r), rules[i].refs, rules[i].note);
		}
	}
	files_id_rules_free(&x);
	return err;
}
