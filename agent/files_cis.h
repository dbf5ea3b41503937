/* SPDX-License-Identifier: MIT */
/*
 * The files layer's checks of other programs' configuration that the CIS
 * benchmark asks for: the NTP client (chrony) and the clock's
 * synchronisation, log rotation (logrotate) and root's shell umask.
 */
#ifndef JEFE_FILES_CIS_H
#define JEFE_FILES_CIS_H

#include <stdbool.h>
#include <stddef.h>

#include "finding.h"
#include "layer.h"
#include "util.h"

#define FILES_CHRONY_CONF	"/etc/chrony/chrony.conf"
#define FILES_CHRONY_SOURCEDIR	"/etc/chrony/sources.d"
/* The one file the agent writes for chrony: the policy's servers. */
#define FILES_CHRONY_SOURCES	FILES_CHRONY_SOURCEDIR "/jefe.sources"
#define FILES_LOGROTATE_CONF	"/etc/logrotate.conf"
#define FILES_LOGROTATE_DIR	"/etc/logrotate.d"
/* Debian's cron.daily, Alpine's periodic/daily (busybox crond) */
#define FILES_LOGROTATE_CRON	"/etc/cron.daily/logrotate"
#define FILES_LOGROTATE_PERIODIC "/etc/periodic/daily/logrotate"
#define FILES_ROOT_HOME		"/root"

/* One run of the files layer, as these checks need it. */
struct files_cis_run {
	const struct jefe_env *env;
	bool apply;
	bool dry_run;
	struct findings *out;
};

/*
 * chrony's configuration TEXT: the names of its server, pool and peer
 * lines are appended to sources, the directories of confdir lines to
 * confdirs and of sourcedir lines to sourcedirs.  0 or -ENOMEM.
 */
int files_chrony_parse(const char *text, struct strv *sources, struct strv *confdirs,
		       struct strv *sourcedirs);
/* What the agent writes to FILES_CHRONY_SOURCES for these servers (malloc'ed). */
char *files_chrony_render(const struct strv *servers);

/*
 * Is the clock synchronised, as adjtimex(2) said it (rc its return,
 * status its timex.status)?  Not when rc is TIME_ERROR or negative, or
 * STA_UNSYNC is set: the kernel sets it itself once no NTP daemon has
 * updated the clock's error estimate for a while.
 */
bool files_clock_synced(int rc, int status);

/*
 * The log patterns of a logrotate configuration TEXT (the paths before
 * each "{", directives and the blocks' contents left out), appended to out.
 */
int files_logrotate_patterns(const char *text, struct strv *out);

/*
 * The benchmark's account rules that /etc/passwd, /etc/group and
 * /etc/shells answer (the accounts key; passwd and shadow's own are
 * layer_files.c's files_accounts_scan).  Each list names the offenders.
 */
struct files_id_rules {
	struct strv gid0_users;		/* 5.4.2.2: primary gid 0, not root/sync/shutdown/halt/operator */
	struct strv gid0_groups;	/* 5.4.2.3: gid 0 but not the group root */
	struct strv missing_groups;	/* 7.2.3: "user (gid N)" without a group N */
	struct strv shadow_members;	/* 7.2.4: members of group shadow, or users whose group it is */
	struct strv dup_uids;		/* 7.2.5 */
	struct strv dup_gids;		/* 7.2.6 */
	struct strv dup_users;		/* 7.2.7 */
	struct strv dup_groups;		/* 7.2.8 */
	struct strv nologin_shells;	/* 5.4.3.1: nologin listed in /etc/shells */
};
/* Any text may be NULL (absent file): its rules find nothing.  0 or -ENOMEM. */
int files_id_rules_scan(const char *passwd, const char *group, const char *shells,
			struct files_id_rules *out);
void files_id_rules_free(struct files_id_rules *r);
/* [files] accounts: the rules above, one finding each (report-only). */
int files_id_rules_run(const struct files_cis_run *r);

/* [files] ntp_servers: chrony's sources are exactly these; enforce writes FILES_CHRONY_SOURCES. */
int files_time_servers_run(const struct files_cis_run *r, const struct strv *servers);
/* [files] time_sync: the running kernel's clock is synchronised (report-only). */
int files_time_sync_run(const struct files_cis_run *r);
/* [files] log_rotate: each log is in a logrotate stanza, and logrotate runs daily. */
int files_logrotate_run(const struct files_cis_run *r, const struct strv *logs);
/* [files] root_umask: no umask line of root's shell start-up files is weaker. */
int files_root_umask_run(const struct files_cis_run *r, const char *want);

/* The files and directories these checks read, for the layer's inotify watch. */
extern const char *const files_cis_time_paths[];
extern const char *const files_cis_logrotate_paths[];
extern const char *const files_cis_root_paths[];
extern const char *const files_cis_account_paths[];

#endif
