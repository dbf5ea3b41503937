/* SPDX-License-Identifier: MIT */
/* Layer 6, filesystem permissions and integrity: the pieces the unit tests reach. */
#ifndef JEFE_LAYER_FILES_H
#define JEFE_LAYER_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "finding.h"
#include "util.h"

#define FILES_BASELINE_FILE	JEFE_STATE_DIR "/files.sha256"
#define FILES_WALK_DEPTH	4	/* below each configured directory */
#define FILES_WALK_MAX		200000	/* entries per walk, then stop and say so */

/*
 * A [files.perms] value: "MODE [OWNER [GROUP]]", MODE octal and the
 * most a file may have, OWNER/GROUP a name or a number, "-" for any.
 */
struct files_perm_spec {
	mode_t max_mode;
	char owner[64];
	char group[64];
};
int files_perm_parse(const char *value, struct files_perm_spec *out);

/* Look up a user or group name in a passwd/group file below root. */
int files_id_lookup(int root_fd, const char *db, const char *name, unsigned int *id);

/* Is an SUID/SGID file allowed (exact path or fnmatch pattern)? */
bool files_suid_allowed(const struct strv *allow, const char *path);

/* A sha256sum(1)-format baseline: "HEX  PATH" per line. */
struct files_baseline {
	struct strv paths;
	struct strv hashes;
};
/*
 * Does a login banner tell the OS (CIS 1.6.1-1.6.3)?  1 with what it tells
 * in what ("the escape \\r", "'jefelinux' (os-release)"): agetty's \\s \\r
 * \\v \\m escapes, or a word of os_words (its ID, NAME, VERSION_ID; any
 * case, words under 3 characters ignored); 0 when it tells neither.
 */
int files_banner_leak(const char *text, const struct strv *os_words, char *what, size_t size);

/*
 * Is a login.defs value what the policy asks?  want is "KEY=VALUE" of the
 * policy; have is the file's value (NULL: only validate want).  0 yes,
 * 1 no, -EINVAL for a want that is not KEY=VALUE with a known KEY (why
 * says so).  PASS_MAX_DAYS is at most, PASS_MIN_DAYS, PASS_WARN_AGE and
 * SHA_CRYPT_*_ROUNDS at least, UMASK masks at least the same bits,
 * ENCRYPT_METHOD is equal (any case).
 */
/* The value of the last "* hard core" (or "* - core") line of limits.conf TEXT: 1 found, 0 none. */
int files_limits_core(const char *text, char *val, size_t size);
/* umask lines of a profile TEXT against WANT: 1 all at least as strict, 0 none, -1 a weaker one (in WEAK). */
int files_profile_umask(const char *text, unsigned long want, char *weak, size_t size);
/* rsyslog configuration TEXT loads imklog (uncommented): 1, else 0. */
int files_rsyslog_klog(const char *text);
/*
 * Append the files of DIR (below root) whose names end in SUFFIX to out,
 * sorted among themselves; a missing DIR adds nothing.  0 or -errno.
 */
int files_dir_list(int root_fd, const char *dir, const char *suffix, struct strv *out);
/* Split a colon-separated database line (passwd, shadow, group) in place
 * into at most max fields; how many. */
size_t files_db_fields(char *line, char **f, size_t max);
/* Add one finding of the files layer to out; refs may be NULL.  0 or -errno. */
int files_finding_add(struct findings *out, const char *item, const char *expected,
		      const char *actual, enum finding_state state, enum finding_action action,
		      const struct finding_refs *refs, const char *note);
int files_login_defs_cmp(const char *want, const char *have, char *why, size_t why_len);

/* What /etc/passwd and /etc/shadow say of the benchmark's account rules. */
struct files_accounts {
	struct strv uid0;		/* uid 0 but not root */
	struct strv unshadowed;		/* passwd's field is not "x" */
	struct strv login_shell;	/* uid < 1000, not root/sync/shutdown/halt, no nologin */
	struct strv empty_password;	/* shadow's field is empty */
	bool root_locked;		/* root's shadow field starts with ! or * */
};

/* shadow may be NULL (unreadable): then only the passwd rules are filled in. */
int files_accounts_scan(const char *passwd, const char *shadow, struct files_accounts *out);
void files_accounts_free(struct files_accounts *a);

int files_baseline_parse(const char *text, struct files_baseline *out);
const char *files_baseline_get(const struct files_baseline *b, const char *path);
void files_baseline_free(struct files_baseline *b);

/*
 * Record PATH's current content in the baseline (forget it when it is
 * gone): `jefe baseline accept`.  state is the files layer's, from a
 * loaded layer set.  hex gets the new hash ("" for a forgotten file);
 * on error why says what the admin should know.
 */
int files_baseline_accept(void *state, const char *path, char hex[65],
			  char *why, size_t why_len);

#endif
