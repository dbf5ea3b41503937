/* SPDX-License-Identifier: MIT */
/*
 * The policy: INI files read with inih.  The core parses every file into
 * one merged list of (section, key, value, file, line) entries; later files
 * override earlier keys.  Keys are described by tables (struct policy_key)
 * that drive parsing, validation, defaults and `jefe policy show`; this
 * file has the [agent] table and the machinery, layer.c the layers'
 * (which sections and keys exist is the layer table's to say).  Errors
 * carry the entry's file and line.  A policy with any error is refused
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
/* configure --localstatedir, as the agent's own state (JEFE_STATE_DIR) */
#define POLICY_METRICS_FILE	LOCALSTATEDIR "/lib/node_exporter/textfile_collector/jefe.prom"

struct policy_errors;

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

/* A [section] header as written: where unknown sections are reported. */
struct policy_header {
	char *name;
	const char *file;	/* interned in policy->files */
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
	struct strv sections;		/* every [section] name seen */
	struct policy_header *headers;	/* every [section] header, in file order */
	size_t n_headers;
	size_t cap_headers;

	/* [agent], filled from policy_agent_keys by the core */
	enum policy_mode mode;
	unsigned long check_interval;	/* seconds, backstop timer */
	int log_facility;		/* LOG_DAEMON, LOG_AUTHPRIV, ... */
	const char *status_group;	/* may run `jefe status` via the daemon */
	const char *metrics_file;	/* textfile-collector file, "" for none */
};

/*
 * One policy key, one line of a table (OpenSSH's servconf keyword table):
 * the line drives parsing, validation, the default, `jefe policy show`
 * and the test that holds the tables against jefe.conf(5).  The parsed
 * value goes to `offset` in the settings struct the table belongs to.
 */
enum policy_key_type {
	POLICY_KEY_BOOL,	/* bool: yes/no, true/false, on/off, 1/0 */
	POLICY_KEY_UINT,	/* unsigned long, min..max */
	POLICY_KEY_STRING,	/* const char *, any text */
	POLICY_KEY_NAME,	/* const char *, one word without '/' (a group, a service) */
	POLICY_KEY_PATH,	/* const char *, absolute without ".."; min 1: "" allowed */
	POLICY_KEY_RELPATH,	/* const char *, no ".."; relative to the policy directory */
	POLICY_KEY_LIST,	/* const char *, words separated by spaces or commas */
	POLICY_KEY_ENUM,	/* int: index of the value in allowed */
	POLICY_KEY_MODE,	/* enum policy_mode: enforce or report */
	POLICY_KEY_CUSTOM,	/* parse() fills the field: a type of the layer's own */
	POLICY_KEY_OWN,		/* no field: the layer's own parser reads the value */
};

struct policy_entry;
struct policy_key;
/* POLICY_KEY_CUSTOM: parse e->value into settings, report errors at e; 0 or -errno. */
typedef int (*policy_key_parse_fn)(const struct policy_key *k, const struct policy_entry *e,
				   void *settings, struct policy_errors *errs);

struct policy_key {
	const char *name;
	enum policy_key_type type;
	size_t offset;			/* of the field in the settings struct */
	unsigned long min, max;		/* UINT: range; PATH: min 1 allows "" */
	const char *const *allowed;	/* ENUM: NULL-terminated */
	const char *default_value;	/* as a policy would write it; NULL: unset */
	const char *doc;		/* one line, for `policy show` and errors */
	const char *ref;		/* benchmark reference, "" for none */
	policy_key_parse_fn parse;	/* POLICY_KEY_CUSTOM */
};

/* One table line each: PK_BOOL("persist", struct s, persist, "yes", "doc", "ref"). */
#define PK_BOOL(n, st, f, def, doc, ref) \
	{ n, POLICY_KEY_BOOL, offsetof(st, f), 0, 0, NULL, def, doc, ref, NULL }
#define PK_UINT(n, st, f, lo, hi, def, doc, ref) \
	{ n, POLICY_KEY_UINT, offsetof(st, f), lo, hi, NULL, def, doc, ref, NULL }
#define PK_STRING(n, st, f, def, doc, ref) \
	{ n, POLICY_KEY_STRING, offsetof(st, f), 0, 0, NULL, def, doc, ref, NULL }
#define PK_NAME(n, st, f, def, doc, ref) \
	{ n, POLICY_KEY_NAME, offsetof(st, f), 0, 0, NULL, def, doc, ref, NULL }
#define PK_PATH(n, st, f, empty_ok, def, doc, ref) \
	{ n, POLICY_KEY_PATH, offsetof(st, f), empty_ok, 0, NULL, def, doc, ref, NULL }
#define PK_RELPATH(n, st, f, def, doc, ref) \
	{ n, POLICY_KEY_RELPATH, offsetof(st, f), 0, 0, NULL, def, doc, ref, NULL }
#define PK_LIST(n, st, f, def, doc, ref) \
	{ n, POLICY_KEY_LIST, offsetof(st, f), 0, 0, NULL, def, doc, ref, NULL }
#define PK_ENUM(n, st, f, values, def, doc, ref) \
	{ n, POLICY_KEY_ENUM, offsetof(st, f), 0, 0, values, def, doc, ref, NULL }
#define PK_MODE(n, st, f, def, doc, ref) \
	{ n, POLICY_KEY_MODE, offsetof(st, f), 0, 0, NULL, def, doc, ref, NULL }
#define PK_CUSTOM(n, st, f, fn, def, doc, ref) \
	{ n, POLICY_KEY_CUSTOM, offsetof(st, f), 0, 0, NULL, def, doc, ref, fn }
#define PK_OWN(n, def, doc, ref) \
	{ n, POLICY_KEY_OWN, 0, 0, 0, NULL, def, doc, ref, NULL }
#define PK_END { NULL, POLICY_KEY_OWN, 0, 0, 0, NULL, NULL, NULL, NULL, NULL }

/* The [agent] table: its settings struct is struct policy itself. */
extern const struct policy_key policy_agent_keys[];

const struct policy_key *policy_key_find(const struct policy_key *keys, const char *name);

/*
 * Parse value for key k into settings (the struct the table describes).
 * Returns 0, -EINVAL with what was expected in why, or -ENOMEM; a
 * POLICY_KEY_CUSTOM key needs its entry: policy_keys_load() does that.
 * String values point into value: it must outlive settings.
 */
int policy_key_parse(const struct policy_key *k, const char *value, void *settings,
		     char *why, size_t why_len);

/*
 * Fill settings from section: every key of the table gets its default,
 * then the policy's value, each error reported at its file and line.
 * Keys the table does not have are the caller's.  Returns 0,
 * -JEFE_EPOLICY when errs got entries, or -ENOMEM.
 */
int policy_keys_load(const struct policy *p, const char *section,
		     const struct policy_key *keys, void *settings,
		     struct policy_errors *errs);

/*
 * The closest name to word (optimal string alignment distance, at most
 * one edit per three characters, at least one), or NULL: "did you mean".
 * name_at(ctx, i) lists the candidates until it returns NULL.
 */
const char *policy_suggest(const char *word,
			   const char *(*name_at)(const void *ctx, size_t i),
			   const void *ctx);
/* The same over a key table. */
const char *policy_suggest_key(const char *word, const struct policy_key *keys);

/* Collected "FILE line N: message" strings, with where each one points. */
struct policy_errors {
	char **msgs;
	size_t n;
	size_t cap;
	char **files;		/* files[i], lines[i]: the file and line of msgs[i] */
	int *lines;
	size_t cap_at;
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
 * Order the errors by file (in the order p read its files; other files,
 * such as an audit rules file, after them) and by line, keeping the order
 * of errors on one line: what the admin reads top to bottom.
 */
int policy_errors_sort(struct policy_errors *errs, const struct policy *p);

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

/* Parse helpers for layers' own parsers: they report the error themselves. */
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

/*
 * `key = value\t# file:line`, escaped as the daemon's log does: a control
 * character in a policy never reaches the terminal raw.  origin NULL
 * prints "# default".  `jefe policy show` (layer_policy_show) is made of it.
 */
void policy_show_line(FILE *out, const char *key, const char *value, const char *file,
		      int line);
/* The show header: files read and the digest. */
void policy_show_header(const struct policy *p, FILE *out);

#endif
