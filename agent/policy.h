/* SPDX-License-Identifier: MIT */
/*
 * The policy: INI files read with inih.  The core parses every file into
 * one merged list of (section, key, value, file, line) entries; later files
 * override earlier keys.  The core validates [agent] and the section names;
 * each layer validates its own section(s) in its load() and reports errors
 * against the entry's file and line.  A policy with any error is refused
 * whole: callers keep running on the last good one.
 */
#ifndef JEFE_POLICY_H
#define JEFE_POLICY_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util.h"

#define POLICY_DIR		SYSCONFDIR "/jefe"	/* configure --sysconfdir */
#define POLICY_MAIN_FILE	POLICY_DIR "/jefe.conf"
#define POLICY_DROPIN_DIR	POLICY_DIR "/policy.d"
#define POLICY_METRICS_FILE	"/var/lib/node_exporter/textfile_collector/jefe.prom"

enum policy_mode {
	POLICY_MODE_INHERIT = 0,	/* per layer: take [agent] mode */
	POLICY_MODE_ENFORCE,		/* check, and repair drift */
	POLICY_MODE_REPORT,		/* check and report only */
};

struct policy_entry {
	char *section;
	char *key;
	char *value;
	char *file;		/* where the effective value was set */
	int line;
};

struct policy {
	struct policy_entry *entries;	/* in first-seen order */
	size_t n_entries;
	size_t cap_entries;
	/* (section, key) -> entry index + 1, open addressing: a lookup per
	 * line keeps loading linear (100,000 keys), never a scan per key. */
	size_t *slots;
	size_t n_slots;			/* a power of two, or 0 */
	char **files;			/* files read, in order */
	size_t n_files;
	struct strv sections;		/* every [section] header seen */

	/* [agent], validated by the core */
	enum policy_mode mode;
	unsigned int check_interval;	/* seconds, backstop timer */
	int log_facility;		/* LOG_DAEMON, LOG_AUTHPRIV, ... */
	char *status_group;		/* may run `jefe status` via the daemon */
	char *metrics_file;		/* textfile-collector file, "" for none */
};

/* Collected "FILE line N: message" strings. */
struct policy_errors {
	char **msgs;
	size_t n;
	size_t cap;
};

__attribute__((format(printf, 4, 5)))
int policy_errors_add(struct policy_errors *errs, const char *file, int line,
		      const char *fmt, ...);
/* Report an error against an entry's file and line. */
__attribute__((format(printf, 3, 4)))
int policy_error_at(struct policy_errors *errs, const struct policy_entry *e,
		    const char *fmt, ...);
void policy_errors_free(struct policy_errors *errs);

/*
 * Load the default policy below root: POLICY_MAIN_FILE (or main_file when
 * not NULL, a path below root), then the policy.d directory beside it,
 * *.conf in name order.  Returns 0, or -errno with *out NULL, or
 * -JEFE_EPOLICY with errs filled and *out holding what could be parsed:
 * enough for the layers to report their own errors (layer_policy_load()
 * does that), never to be applied.  The caller frees *out.
 */
int policy_load(struct policy **out, int root_fd, const char *root,
		const char *main_file, struct policy_errors *errs);

/* Load exactly these files (host paths), in order: `jefe policy check FILE...`.
 * Returns as policy_load(). */
int policy_load_files(struct policy **out, char *const *files, size_t n_files,
		      struct policy_errors *errs);

void policy_free(struct policy *p);

/* The effective entry for section/key, or NULL. */
const struct policy_entry *policy_get(const struct policy *p,
				      const char *section, const char *key);

/* Iterate the entries of one section: start with *it = 0. */
const struct policy_entry *policy_next(const struct policy *p,
				       const char *section, size_t *it);

/* The directory of a policy file ("/etc/jefe/jefe.conf" -> "/etc/jefe", "x.conf" -> "."). */
int policy_dir_of(const char *file, char *buf, size_t size);

/* Parse helpers for layers: they report the error themselves. */
int policy_parse_bool(const struct policy_entry *e, bool *out,
		      struct policy_errors *errs);
int policy_parse_uint(const struct policy_entry *e, unsigned long min,
		      unsigned long max, unsigned long *out,
		      struct policy_errors *errs);

/*
 * Does the policy configure this layer at all: a [layer] or [layer.*]
 * header in any file, even with no keys under it?  A layer the policy does
 * not mention is not loaded, so removing a layer's policy file turns it off.
 */
bool policy_has_layer(const struct policy *p, const char *layer);

/* The mode a layer runs in: its own `mode` key, else [agent] mode. */
enum policy_mode policy_layer_mode(const struct policy *p, const char *layer);
const char *policy_mode_name(enum policy_mode m);

/*
 * SHA-256 (hex) of the merged effective policy: over every effective
 * entry in first-seen order, the bytes section NUL key NUL value NUL file
 * LF.  Comments, blank lines and line numbers do not count; a value or
 * the file that sets it does.
 */
#define POLICY_DIGEST_HEX 65
int policy_digest(const struct policy *p, char hex[POLICY_DIGEST_HEX]);

/* Print the merged effective policy as INI, each key with its origin. */
int policy_dump(const struct policy *p, FILE *out);

#endif
