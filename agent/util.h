/* SPDX-License-Identifier: MIT */
/*
 * Small helpers shared by the agent's modules: paths relative to a root
 * directory, string lists, names ("did you mean"), unified diffs.  File
 * access below a root is rootfs.h's; this file depends on nothing else
 * of the agent.
 */
#ifndef JEFE_UTIL_H
#define JEFE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Where the agent's files live, below --root: configure's --sysconfdir,
 * --localstatedir and --runstatedir (Makefile.am passes them), so the
 * programs read what `make install` installed.  The fallbacks are the
 * default configuration's.
 */
#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif
#define JEFE_STATE_DIR	LOCALSTATEDIR "/lib/jefe"	/* baseline, last status */
#define JEFE_RUN_DIR	RUNSTATEDIR "/jefe"		/* the daemon's socket */

/*
 * Strip the leading '/' of an absolute path so it can be used with *at()
 * calls.  To open or read a file below a root, use rootfs_open() and
 * root_read_file() (rootfs.h), which never leave the root; writing and
 * mkdir -p are rootfs.h's too.
 */
const char *root_rel(const char *path);

/* Join root and path for messages ("/tmp/t" + "/etc/x" -> "/tmp/t/etc/x"). */
int root_join(char *buf, size_t size, const char *root, const char *path);

/* Trim white space at both ends, in place; returns s. */
char *str_trim(char *s);

/*
 * Room for element n of a growable array of elem-sized items that has
 * *cap slots: returns arr itself while n < *cap, else the array doubled
 * (16 slots at first) with *cap updated, or NULL, arr untouched, when
 * memory runs out or the size would overflow.  The caller stores the
 * result back: v = array_grow(a->v, a->n, &a->cap, sizeof(*a->v)).
 */
void *array_grow(void *arr, size_t n, size_t *cap, size_t elem);

/* A growable list of owned strings. */
struct strv {
	char **v;
	size_t n;
	size_t cap;
};

int strv_push(struct strv *sv, const char *s);
bool strv_contains(const struct strv *sv, const char *s);
void strv_free(struct strv *sv);
/* Split s on any of the separators, skipping empty pieces, trimmed. */
int strv_split(struct strv *sv, const char *s, const char *separators);

/*
 * "Did you mean ...?": the edit distance between two names (optimal string
 * alignment: insert, delete, replace, or swap two neighbours, each 1;
 * SIZE_MAX for names longer than STR_SUGGEST_MAX), and the closest of a
 * set of candidates offered one by one.  best stays NULL when no
 * candidate is within two typos of word (and a third of its length).
 */
#define STR_SUGGEST_MAX 128
size_t str_distance(const char *a, const char *b);
struct str_suggest {
	const char *best;
	size_t distance;
};
void str_suggest_consider(struct str_suggest *s, const char *word, const char *candidate);

/*
 * An option getopt_long() did not take (opterr = 0; opt is what it
 * returned, '?' or ':'; arg is argv[optind - 1]): print "PROG: unknown
 * option '--word'; did you mean '--name'?" or "missing value for option".
 */
struct option;
void option_unknown(FILE *out, const char *prog, const struct option *options,
		    const char *arg, int opt);

/*
 * A unified diff (3 lines of context) from old_text to new_text, both
 * labelled path; old_text NULL for a file that does not exist yet
 * ("--- /dev/null").  What `jefe enforce --dry-run` shows for every file
 * it would write.  *out is malloc'ed, without a trailing newline.
 */
int diff_unified(const char *path, const char *old_text, const char *new_text, char **out);

/* Monotonic clock in milliseconds. */
long long clock_ms(void);

#endif
