/* SPDX-License-Identifier: MIT */
/*
 * Policy loading.  inih does the INI syntax; this file adds what inih
 * leaves out: line numbers (Debian builds inih without INI_HANDLER_LINENO,
 * so our reader counts the lines it hands over), the headers with their
 * lines, the "duplicate key in one file" rule, merging of later files over
 * earlier ones, the key tables' parser (policy_keys_load), "did you mean",
 * error ordering, and the [agent] table.  It knows no layer: layer.c
 * decides which sections exist.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <sha2.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "log.h"
#include "policy.h"
#include "rootfs.h"
#include "util.h"

/* ---- errors ---- */

static int errors_push(struct policy_errors *errs, char *msg, const char *file, int line)
{
	char **m = array_grow(errs->msgs, errs->n, &errs->cap, sizeof(*errs->msgs));
	size_t cap_at = errs->cap_at;
	char **f;
	int *l;
	char *where = strdup(file ? file : "");

	if (!m || !where) {
		free(where);
		free(msg);
		return -ENOMEM;
	}
	errs->msgs = m;
	f = array_grow(errs->files, errs->n, &cap_at, sizeof(*errs->files));
	if (!f) {
		free(where);
		free(msg);
		return -ENOMEM;
	}
	errs->files = f;
	cap_at = errs->cap_at;
	l = array_grow(errs->lines, errs->n, &cap_at, sizeof(*errs->lines));
	if (!l) {
		free(where);
		free(msg);
		return -ENOMEM;
	}
	errs->lines = l;
	errs->cap_at = cap_at;
	errs->files[errs->n] = where;
	errs->lines[errs->n] = line;
	errs->msgs[errs->n++] = msg;
	return 0;
}

static int errors_vadd(struct policy_errors *errs, const char *file, int line,
		       const char *fmt, va_list ap)
{
	char *text = NULL, *msg = NULL;
	int n;

	if (vasprintf(&text, fmt, ap) < 0)
		return -ENOMEM;
	if (line > 0)
		n = asprintf(&msg, "%s line %d: %s", file, line, text);
	else
		n = asprintf(&msg, "%s: %s", file, text);
	free(text);
	if (n < 0)
		return -ENOMEM;
	return errors_push(errs, msg, file, line);
}

int policy_errors_add(struct policy_errors *errs, const char *file, int line,
		      const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = errors_vadd(errs, file, line, fmt, ap);
	va_end(ap);
	return err;
}

int policy_error_at(struct policy_errors *errs, const struct policy_entry *e,
		    const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = errors_vadd(errs, e->file, e->line, fmt, ap);
	va_end(ap);
	return err;
}

void policy_errors_free(struct policy_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++) {
		free(errs->msgs[i]);
		free(errs->files[i]);
	}
	free(errs->msgs);
	free(errs->files);
	free(errs->lines);
	errs->msgs = NULL;
	errs->files = NULL;
	errs->lines = NULL;
	errs->n = errs->cap = errs->cap_at = 0;
}

struct error_order {
	size_t file_rank;
	int line;
	size_t seq;		/* the order it was found in: keeps the sort stable */
};

static int error_order_cmp(const void *a, const void *b)
{
	const struct error_order *x = a, *y = b;

	if (x->file_rank != y->file_rank)
		return x->file_rank < y->file_rank ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int policy_errors_sort(struct policy_errors *errs, const struct policy *p)
{
	struct error_order *order;
	char **msgs, **files;
	int *lines;
	size_t n = errs->n;

	if (n < 2)
		return 0;
	order = calloc(n, sizeof(*order));
	msgs = calloc(n, sizeof(*msgs));
	files = calloc(n, sizeof(*files));
	lines = calloc(n, sizeof(*lines));
	if (!order || !msgs || !files || !lines) {
		free(order);
		free(msgs);
		free(files);
		free(lines);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		size_t rank = (p ? p->n_files : 0) + 1;

		/* A file the policy did not read sorts after every policy file,
		 * and keeps the place its first error had among them. */
		for (size_t f = 0; p && f < p->n_files; f++)
			if (strcmp(p->files[f], errs->files[i]) == 0) {
				rank = f;
				break;
			}
		if (rank > (p ? p->n_files : 0))
			for (size_t j = 0; j < i; j++)
				if (strcmp(errs->files[j], errs->files[i]) == 0) {
					rank = order[j].file_rank;
					break;
				}
		if (rank == (p ? p->n_files : 0) + 1)
			rank += i;
		order[i] = (struct error_order){ rank, errs->lines[i], i };
	}
	qsort(order, n, sizeof(*order), error_order_cmp);
	for (size_t i = 0; i < n; i++) {
		msgs[i] = errs->msgs[order[i].seq];
		files[i] = errs->files[order[i].seq];
		lines[i] = errs->lines[order[i].seq];
	}
	memcpy(errs->msgs, msgs, n * sizeof(*msgs));
	memcpy(errs->files, files, n * sizeof(*files));
	memcpy(errs->lines, lines, n * sizeof(*lines));
	free(order);
	free(msgs);
	free(files);
	free(lines);
	return 0;
}

/* ---- key tables: parsing, validation and defaults ---- */

static const char *const bool_yes[] = { "yes", "true", "on", "1" };
static const char *const bool_no[] = { "no", "false", "off", "0" };

static int parse_bool_value(const char *value, bool *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(bool_yes); i++) {
		if (strcasecmp(value, bool_yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(value, bool_no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_mode_value(const char *value, enum policy_mode *out)
{
	if (strcmp(value, "enforce") == 0)
		*out = POLICY_MODE_ENFORCE;
	else if (strcmp(value, "report") == 0)
		*out = POLICY_MODE_REPORT;
	else
		return -EINVAL;
	return 0;
}

static int parse_uint_value(const char *value, unsigned long min, unsigned long max,
			    unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 10);
	if (errno || end == value || *end || value[0] == '-' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

const struct policy_key *policy_key_find(const struct policy_key *keys, const char *name)
{
	for (const struct policy_key *k = keys; k && k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

int policy_key_parse(const struct policy_key *k, const char *value, void *settings,
		     char *why, size_t why_len)
{
	void *field = (char *)settings + k->offset;

	switch (k->type) {
	case POLICY_KEY_BOOL:
		if (parse_bool_value(value, field) == 0)
			return 0;
		snprintf(why, why_len, "expected yes or no");
		return -EINVAL;
	case POLICY_KEY_UINT:
		if (parse_uint_value(value, k->min, k->max, field) == 0)
			return 0;
		snprintf(why, why_len, "expected a number from %lu to %lu", k->min, k->max);
		return -EINVAL;
	case POLICY_KEY_MODE:
		if (parse_mode_value(value, field) == 0)
			return 0;
		snprintf(why, why_len, "expected enforce or report");
		return -EINVAL;
	case POLICY_KEY_ENUM: {
		size_t len = 0;

		for (size_t i = 0; k->allowed[i]; i++) {
			if (strcmp(k->allowed[i], value) == 0) {
				*(int *)field = (int)i;
				return 0;
			}
		}
		len = (size_t)snprintf(why, why_len, "expected one of:");
		for (size_t i = 0; k->allowed[i] && len < why_len; i++)
			len += (size_t)snprintf(why + len, why_len - len, " %s", k->allowed[i]);
		return -EINVAL;
	}
	case POLICY_KEY_NAME:
		if (value[0] && !strpbrk(value, "/ \t")) {
			*(const char **)field = value;
			return 0;
		}
		snprintf(why, why_len, "expected one name (no spaces or '/')");
		return -EINVAL;
	case POLICY_KEY_PATH:
		if ((value[0] == '/' && !strstr(value, "..")) || (k->min && !value[0])) {
			*(const char **)field = value;
			return 0;
		}
		snprintf(why, why_len, "expected an absolute path without '..'%s",
			 k->min ? " (or empty: none)" : "");
		return -EINVAL;
	case POLICY_KEY_RELPATH:
		if (value[0] && !strstr(value, "..")) {
			*(const char **)field = value;
			return 0;
		}
		snprintf(why, why_len,
			 "expected a path without '..' (relative paths are taken from the policy directory)");
		return -EINVAL;
	case POLICY_KEY_STRING:
	case POLICY_KEY_LIST:
		*(const char **)field = value;
		return 0;
	case POLICY_KEY_CUSTOM:
		snprintf(why, why_len, "parsed with its entry (policy_keys_load)");
		return -EINVAL;
	case POLICY_KEY_OWN:
		return 0;
	}
	return -EINVAL;
}

/* A custom key's default, parsed as if a policy had written it. */
static int policy_key_default_custom(const struct policy_key *k, const char *section,
				     void *settings, struct policy_errors *errs)
{
	struct policy_entry e = {
		.section = (char *)section,
		.key = (char *)k->name,
		.value = (char *)k->default_value,
		.file = (char *)"(the default)",
		.line = 0,
	};

	return k->parse(k, &e, settings, errs);
}

int policy_keys_load(const struct policy *p, const char *section,
		     const struct policy_key *keys, void *settings,
		     struct policy_errors *errs)
{
	size_t errs_before = errs->n, it = 0;
	const struct policy_entry *e;
	char why[512];

	for (const struct policy_key *k = keys; k && k->name; k++) {
		int err;

		/* The tables' own defaults are valid: the docs test parses them. */
		if (!k->default_value)
			continue;
		if (k->type == POLICY_KEY_CUSTOM)
			err = policy_key_default_custom(k, section, settings, errs);
		else
			err = policy_key_parse(k, k->default_value, settings, why, sizeof(why));
		if (err == -ENOMEM)
			return -ENOMEM;
	}
	while ((e = policy_next(p, section, &it))) {
		const struct policy_key *k = policy_key_find(keys, e->key);
		int err;

		if (!k)
			continue;
		if (k->type == POLICY_KEY_CUSTOM) {
			/* It reports its own errors, at e. */
			if (k->parse(k, e, settings, errs) == -ENOMEM)
				return -ENOMEM;
			continue;
		}
		err = policy_key_parse(k, e->value, settings, why, sizeof(why));
		if (err == -ENOMEM)
			return err;
		if (err && policy_error_at(errs, e, "invalid value '%s' for %s: %s (%s)",
					   e->value, e->key, why, k->doc) == -ENOMEM)
			return -ENOMEM;
	}
	return errs->n > errs_before ? -JEFE_EPOLICY : 0;
}

const char *policy_suggest(const char *word,
			   const char *(*name_at)(const void *ctx, size_t i),
			   const void *ctx)
{
	size_t limit = strlen(word) / 3, best_d = SIZE_MAX;
	const char *best = NULL, *name;

	if (limit < 1)
		limit = 1;
	for (size_t i = 0; (name = name_at(ctx, i)); i++) {
		size_t dist = str_distance(word, name);	/* util.h: the one edit distance */

		if (dist <= limit && dist < best_d) {
			best = name;
			best_d = dist;
		}
	}
	return best;
}

static const char *key_name_at(const void *ctx, size_t i)
{
	const struct policy_key *keys = ctx;

	for (size_t n = 0; keys && keys[n].name; n++)
		if (n == i)
			return keys[n].name;
	return NULL;
}

const char *policy_suggest_key(const char *word, const struct policy_key *keys)
{
	return policy_suggest(word, key_name_at, keys);
}

/* ---- the [agent] table ---- */

static const char *const facility_names[] = {
	"daemon", "auth", "authpriv", "user", "local0", "local1", "local2", "local3",
	"local4", "local5", "local6", "local7", NULL,
};

#define AGENT_DOC_METRICS "node_exporter textfile-collector file the daemon writes after each pass, below the root (absolute path; empty: none)"
const struct policy_key policy_agent_keys[] = {
	PK_MODE("mode", struct policy, mode, "enforce",
		"enforce (repair drift) or report (only report it); a layer's own `mode` wins", ""),
	PK_UINT("check_interval", struct policy, check_interval, 1, 86400, "300",
		"seconds between full checks, the backstop behind event-driven checks (1-86400)", ""),
	PK_ENUM("log_facility", struct policy, log_facility, facility_names, "daemon",
		"syslog facility of the daemon's lines", ""),
	PK_STRING("status_group", struct policy, status_group, "",
		  "group whose members may run `jefe status` through the daemon (empty: root only)", ""),
	PK_PATH("metrics_file", struct policy, metrics_file, 1, POLICY_METRICS_FILE,
		AGENT_DOC_METRICS, ""),
	PK_END,
};

/* ---- entries ---- */

/* FNV-1a over section, a separator no name holds, and key. */
static size_t entry_hash(const char *section, const char *key)
{
	uint64_t h = 14695981039346656037ULL;

	for (const char *s = section; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (const char *s = key; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

/* The slot holding section/key, or the empty slot where it would go. */
static size_t *entry_slot(const struct policy *p, const char *section, const char *key)
{
	size_t mask = p->n_slots - 1;

	for (size_t i = entry_hash(section, key) & mask;; i = (i + 1) & mask) {
		const struct policy_entry *e;

		if (p->slots[i] == 0)
			return &p->slots[i];
		e = &p->entries[p->slots[i] - 1];
		if (strcmp(e->section, section) == 0 && strcmp(e->key, key) == 0)
			return &p->slots[i];
	}
}

/* Keep the table at most half full, so probes stay short. */
static int entry_index_grow(struct policy *p)
{
	size_t n = p->n_slots ? p->n_slots * 2 : 64;
	size_t *old = p->slots, old_n = p->n_slots;

	p->slots = calloc(n, sizeof(*p->slots));
	if (!p->slots) {
		p->slots = old;
		return -ENOMEM;
	}
	p->n_slots = n;
	for (size_t i = 0; i < old_n; i++) {
		if (old[i]) {
			const struct policy_entry *e = &p->entries[old[i] - 1];

			*entry_slot(p, e->section, e->key) = old[i];
		}
	}
	free(old);
	return 0;
}

static struct policy_entry *entry_find(const struct policy *p, const char *section,
				       const char *key)
{
	size_t *slot;

	if (!p->n_slots)
		return NULL;
	slot = entry_slot(p, section, key);
	return *slot ? &p->entries[*slot - 1] : NULL;
}

const struct policy_entry *policy_get(const struct policy *p, const char *section,
				      const char *key)
{
	return entry_find(p, section, key);
}

const struct policy_entry *policy_next(const struct policy *p, const char *section,
				       size_t *it)
{
	while (*it < p->n_entries) {
		const struct policy_entry *e = &p->entries[(*it)++];

		if (strcmp(e->section, section) == 0)
			return e;
	}
	return NULL;
}

static int entry_add(struct policy *p, const char *section, const char *key,
		     const char *value, char *file, int line)
{
	struct policy_entry *e;
	struct policy_entry *v = array_grow(p->entries, p->n_entries, &p->cap_entries,
					     sizeof(*p->entries));

	if (!v)
		return -ENOMEM;
	p->entries = v;
	if (2 * (p->n_entries + 1) > p->n_slots && entry_index_grow(p))
		return -ENOMEM;
	e = &p->entries[p->n_entries];
	e->section = strdup(section);
	e->key = strdup(key);
	e->value = strdup(value);
	e->file = file;
	e->line = line;
	if (!e->section || !e->key || !e->value) {
		free(e->section);
		free(e->key);
		free(e->value);
		return -ENOMEM;
	}
	*entry_slot(p, section, key) = ++p->n_entries;
	return 0;
}

static int entry_set_value(struct policy_entry *e, const char *value, char *file, int line)
{
	char *v = strdup(value);

	if (!v)
		return -ENOMEM;
	free(e->value);
	e->value = v;
	e->file = file;
	e->line = line;
	return 0;
}

/* ---- parsing one file ---- */

struct parse_ctx {
	struct policy *policy;
	struct policy_errors *errs;
	/* The file's bytes, read whole (policy_parse_fd()), and the reader's
	 * place in them; eof: a read found the end, as feof() would say. */
	const char *text;
	size_t text_len;
	size_t text_pos;
	bool eof;
	char *file;		/* interned in policy->files */
	int line;		/* line most recently handed to inih */
	bool continuation;	/* that line continues the previous value */
	bool after_key;		/* the previous content line was key = value */
	bool section_ok;	/* the current section is known */
	int err;		/* -ENOMEM and the like: stop */
	/* The value being continued, with its length and allocation, so a
	 * value of thousands of lines (10,000 firewall sources) is joined
	 * in linear time, not one copy of the whole value per line. */
	struct policy_entry *cont_entry;
	size_t cont_len;
	size_t cont_cap;
};

static int policy_header_add(struct policy *p, const char *name, const char *file, int line)
{
	struct policy_header *v = array_grow(p->headers, p->n_headers, &p->cap_headers,
					     sizeof(*p->headers));

	if (!v)
		return -ENOMEM;
	p->headers = v;
	v[p->n_headers].name = strdup(name);
	if (!v[p->n_headers].name)
		return -ENOMEM;
	v[p->n_headers].file = file;
	v[p->n_headers].line = line;
	p->n_headers++;
	return 0;
}

/* getc() on the file's bytes in memory. */
static int policy_getc(struct parse_ctx *ctx)
{
	if (ctx->text_pos >= ctx->text_len) {
		ctx->eof = true;
		return EOF;
	}
	return (unsigned char)ctx->text[ctx->text_pos++];
}

/*
 * inih calls us once per physical line; we count lines and look at each
 * one before inih does, to know its number, to validate section headers
 * with their line, and to recognize continuation lines.
 */
static char *policy_reader(char *str, int num, void *stream)
{
	struct parse_ctx *ctx = stream;
	const char *s;
	bool nul = false;
	size_t len;
	int c = EOF;

	/*
	 * fgets, but a NUL byte must not end the line: up to and with the
	 * newline, at most num - 1 bytes.  The end of the bytes is reached
	 * (eof, as getc() would find it) when the line stops short of both.
	 */
	{
		const char *start = ctx->text + ctx->text_pos;
		size_t avail = ctx->text_len - ctx->text_pos, max = (size_t)num - 1;
		const char *nl = memchr(start, '\n', avail < max ? avail : max);

		len = nl ? (size_t)(nl - start) + 1 : (avail < max ? avail : max);
		if (!nl && avail < max)
			ctx->eof = true;
		memcpy(str, start, len);
		nul = memchr(str, '\0', len) != NULL;
		ctx->text_pos += len;
	}
	if (len == 0)
		return NULL;
	str[len] = '\0';
	ctx->line++;
	if (nul) {
		policy_errors_add(ctx->errs, ctx->file, ctx->line,
				  "NUL byte in the line (policy files are text)");
		if (str[len - 1] != '\n')
			while ((c = policy_getc(ctx)) != EOF && c != '\n')
				;
		str[0] = '\0';	/* the error is ours, as for a long line */
		return str;
	}
	if (str[len - 1] != '\n' && !ctx->eof) {
		policy_errors_add(ctx->errs, ctx->file, ctx->line,
				  "line too long (at most %d characters; continue a long value on indented lines)",
				  num - 2);
		while ((c = policy_getc(ctx)) != EOF && c != '\n')
			;
		str[0] = '\0';	/* hand inih an empty line: the error is ours */
		return str;
	}

	s = str;
	ctx->continuation = (*s == ' ' || *s == '\t') && ctx->after_key;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	if (*s == '\0' || *s == '#' || *s == ';') {
		ctx->continuation = false;
		return str;
	}
	if (*s == '[') {
		char name[128];
		const char *end = strchr(s, ']');

		ctx->after_key = false;
		ctx->continuation = false;
		if (!end || (size_t)(end - s - 1) >= sizeof(name)) {
			ctx->section_ok = false;
			return str;	/* inih reports the syntax error */
		}
		memcpy(name, s + 1, (size_t)(end - s - 1));
		name[end - s - 1] = '\0';
		/* Which sections exist is the core's to say (layer.c), after
		 * parsing: this file knows no layers. */
		ctx->section_ok = true;
		ctx->err = policy_header_add(ctx->policy, name, ctx->file, ctx->line);
		if (!ctx->err && !strv_contains(&ctx->policy->sections, name) &&
		    strv_push(&ctx->policy->sections, name))
			ctx->err = -ENOMEM;
		return str;
	}
	if (!ctx->continuation)
		ctx->after_key = strchr(s, '=') || strchr(s, ':');
	return str;
}

static int policy_handler(void *user, const char *section, const char *key,
			  const char *value)
{
	struct parse_ctx *ctx = user;
	struct policy_entry *e;

	if (ctx->err)
		return 0;
	if (!ctx->continuation)
		ctx->cont_entry = NULL;	/* entries may move when the array grows */
	if (!ctx->section_ok) {
		if (section[0] == '\0')
			policy_errors_add(ctx->errs, ctx->file, ctx->line,
					  "'%s' is outside of any section", key);
		return 1;	/* the section was reported once already */
	}
	e = entry_find(ctx->policy, section, key);
	if (ctx->continuation && e && e->file == ctx->file) {
		/* An indented line continues the value: join with a space. */
		size_t add = strlen(value);

		if (ctx->cont_entry != e) {
			ctx->cont_entry = e;
			ctx->cont_len = strlen(e->value);
			ctx->cont_cap = ctx->cont_len + 1;
		}
		if (ctx->cont_len + add + 2 > ctx->cont_cap) {
			size_t cap = (ctx->cont_len + add + 2) * 2;
			char *v = realloc(e->value, cap);

			if (!v) {
				ctx->err = -ENOMEM;
				return 0;
			}
			e->value = v;
			ctx->cont_cap = cap;
		}
		e->value[ctx->cont_len++] = ' ';
		memcpy(e->value + ctx->cont_len, value, add + 1);
		ctx->cont_len += add;
		return 1;
	}
	if (e && e->file == ctx->file) {
		policy_errors_add(ctx->errs, ctx->file, ctx->line,
				  "duplicate key '%s' in [%s] (first set at line %d)",
				  key, section, e->line);
		return 1;
	}
	if (e)
		ctx->err = entry_set_value(e, value, ctx->file, ctx->line);
	else
		ctx->err = entry_add(ctx->policy, section, key, value, ctx->file, ctx->line);
	return ctx->err ? 0 : 1;
}

static int policy_intern_file(struct policy *p, const char *name, char **out)
{
	char **v = realloc(p->files, (p->n_files + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	p->files = v;
	v[p->n_files] = strdup(name);
	if (!v[p->n_files])
		return -ENOMEM;
	*out = v[p->n_files++];
	return 0;
}

/*
 * inih returned rc > 0, the line of the first line it could not parse.
 * Lines our handler rejected were reported already; one that matches no
 * report of ours is a syntax error.  Kept out of policy_parse_text()'s
 * frame: its buffer would sit on the stack under the whole parse.
 */
__attribute__((noinline))
static void policy_report_syntax(const char *name, int rc, struct policy_errors *errs)
{
	char prefix[PATH_MAX + 32];
	bool reported = false;

	snprintf(prefix, sizeof(prefix), "%s line %d:", name, rc);
	for (size_t i = 0; i < errs->n; i++)
		if (strncmp(errs->msgs[i], prefix, strlen(prefix)) == 0)
			reported = true;
	if (!reported)
		policy_errors_add(errs, name, rc,
				  "syntax error (expected [section] or key = value)");
}

/* Parse one file's bytes, text[0..len). */
static int policy_parse_text(struct policy *p, const char *text, size_t len, const char *name,
			     struct policy_errors *errs)
{
	struct parse_ctx ctx = {
		.policy = p,
		.errs = errs,
		.text = text,
		.text_len = len,
		.section_ok = false,
	};
	int rc, err;

	err = policy_intern_file(p, name, &ctx.file);
	if (err)
		return err;
	rc = ini_parse_stream(policy_reader, &ctx, policy_handler, &ctx);
	if (ctx.err)
		return ctx.err;
	if (rc > 0)
		policy_report_syntax(name, rc, errs);
	else if (rc < 0)
		return -ENOMEM;
	return 0;
}

static struct policy *policy_new(void)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	return p;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_entries; i++) {
		free(p->entries[i].section);
		free(p->entries[i].key);
		free(p->entries[i].value);
	}
	free(p->entries);
	free(p->slots);
	for (size_t i = 0; i < p->n_files; i++)
		free(p->files[i]);
	free(p->files);
	strv_free(&p->sections);
	for (size_t i = 0; i < p->n_headers; i++)
		free(p->headers[i].name);
	free(p->headers);
	free(p);
}

/* The [agent] table; the layers' sections are the core's (layer.c). */
static int policy_validate_core(struct policy *p, struct policy_errors *errs)
{
	size_t it = 0;
	const struct policy_entry *e;
	int err = policy_keys_load(p, "agent", policy_agent_keys, p, errs);

	if (err == -ENOMEM)
		return err;
	p->log_facility = log_facility_parse(facility_names[p->log_facility]);
	while ((e = policy_next(p, "agent", &it))) {
		const char *near;

		if (policy_key_find(policy_agent_keys, e->key))
			continue;
		near = policy_suggest_key(e->key, policy_agent_keys);
		if (near)
			err = policy_error_at(errs, e, "unknown key '%s' in [agent] (did you mean '%s'?)",
					      e->key, near);
		else
			err = policy_error_at(errs, e, "unknown key '%s' in [agent]", e->key);
		if (err)
			return err;
	}
	return 0;
}

static int policy_finish(struct policy *p, struct policy_errors *errs, size_t errs_before,
			 struct policy **out)
{
	int err = policy_validate_core(p, errs);

	if (err) {
		policy_free(p);
		return err;
	}
	*out = p;
	/* Still handed back, so the layers can report their errors too. */
	return errs->n > errs_before ? -JEFE_EPOLICY : 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int policy_dir_of(const char *file, char *buf, size_t size)
{
	const char *slash = strrchr(file, '/');
	int n;

	if (!slash)
		n = snprintf(buf, size, ".");
	else if (slash == file)
		n = snprintf(buf, size, "/");
	else
		n = snprintf(buf, size, "%.*s", (int)(slash - file), file);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* The drop-in directory: "policy.d" beside the main file. */
static int dropin_dir_of(const char *main_file, char *buf, size_t size)
{
	int err = policy_dir_of(main_file, buf, size);
	size_t len;

	if (err)
		return err;
	len = strcmp(buf, "/") ? strlen(buf) : 0;
	if (snprintf(buf + len, size - len, "/policy.d") >= (int)(size - len))
		return -ENAMETOOLONG;
	return 0;
}

/*
 * Write access to a policy file is root code execution ([sshd] sshd_path
 * names a program the agent runs as root): trust a file only when root
 * alone can change it and every directory above it.  Returns 1 when
 * refused (the error is recorded), 0 when trusted, or -ENOMEM.
 */
/*
 * These four are kept out of policy_load()'s frame (noinline): inlined,
 * their PATH_MAX buffers made that frame 37 KB, and a run touches each
 * page of its stack once, a page fault apiece (six of a `jefe --direct
 * status --layer sysctl`'s 128).  The buffers of the path every run takes
 * (the walk from the root of the main file and of policy.d) are on the
 * heap: gcc's -fstack-clash-protection (Debian's default) probes every
 * page of a frame, so a PATH_MAX buffer on the stack is a new page for
 * each frame that holds one, where the heap's are reused by the parse.
 */
__attribute__((noinline))
static int policy_check_trusted(int root_fd, const char *root, const char *path,
				const char *shown, struct policy_errors *errs)
{
	size_t why_len = PATH_MAX + 128;
	char *why = malloc(why_len);
	int err;

	if (!why)
		return -ENOMEM;
	err = rootfs_check_trusted(root_fd, root, path, NULL, why, why_len);
	if (err == -ENOENT)
		err = 0;	/* reported as "cannot read" where it matters */
	else if (err == -JEFE_EUNTRUSTED)
		err = policy_errors_add(errs, shown, 0,
					"refused: %s; policy files and every directory above them must be owned by root and writable by root alone",
					why) ?: 1;
	else if (err)
		err = policy_errors_add(errs, shown, 0, "refused: cannot check who may change it: %s",
					strerror(-err)) ?: 1;
	free(why);
	return err;
}

/*
 * The first hop of a symlink below root, made absolute and with "." and
 * ".." taken lexically: "/etc/jefe/policy.d/x.conf" -> "../y.conf" gives
 * "/etc/jefe/y.conf".
 */
static int policy_link_target(int root_fd, const char *path, char *out, size_t size)
{
	char target[PATH_MAX], joined[2 * PATH_MAX], *save = NULL, *comp;
	const char *slash = strrchr(path, '/');
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = rootfs_open(root_fd, path, O_PATH | O_NOFOLLOW);
	if (fd < 0)
		return fd;
	n = readlinkat(fd, "", target, sizeof(target) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	if (target[0] == '/')
		snprintf(joined, sizeof(joined), "%s", target);
	else
		snprintf(joined, sizeof(joined), "%.*s/%s", slash ? (int)(slash - path) : 0, path,
			 target);
	out[0] = '\0';
	for (comp = strtok_r(joined, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			char *last = strrchr(out, '/');

			len = last ? (size_t)(last - out) : 0;
			out[len] = '\0';
			continue;
		}
		if (len + 1 + strlen(comp) >= size)
			return -ENAMETOOLONG;
		len += (size_t)snprintf(out + len, size - len, "/%s", comp);
	}
	if (!len)
		snprintf(out, size, "/");
	return 0;
}

/*
 * A symlink in policy.d may only lead to a file below the policy
 * directory: one to /tmp/x.conf would hand the policy to whoever can
 * write there, whatever that file's mode is today.
 */
__attribute__((noinline))
static int policy_check_dropin_link(int root_fd, const char *root, const char *policy_dir,
				    const char *path, const char *shown,
				    struct policy_errors *errs)
{
	char resolved[PATH_MAX], why[PATH_MAX + 128];
	size_t dlen = strlen(policy_dir);
	struct stat sb;
	int err;

	if (rootfs_stat(root_fd, path, &sb, false) < 0 || !S_ISLNK(sb.st_mode))
		return 0;
	/* Where the link leads when every hop exists; else its own target, so a
	 * link to a missing file outside is named as such, not "cannot read". */
	err = rootfs_check_trusted(root_fd, root, path, resolved, why, sizeof(why));
	if (err && policy_link_target(root_fd, path, resolved, sizeof(resolved)))
		return 0;	/* policy_check_trusted() reports it */
	if (strncmp(resolved, policy_dir, dlen) == 0 && resolved[dlen] == '/')
		return 0;
	err = policy_errors_add(errs, shown, 0,
				"refused: a symbolic link to %s, outside %s (policy.d links must stay below it)",
				resolved, policy_dir);
	return err ? err : 1;
}

/*
 * Parse an open policy file; fd is consumed.  The file is read whole with
 * read(2) and parsed from memory: a stdio stream on the descriptor costs
 * an fcntl, an fstat and a read per 4 KB for every file of every run, and
 * one on the memory (fmemopen) an 8 KB buffer of its own, copied into.
 * size_hint: the file's size when known (0 otherwise), so one read takes it.
 */
static int policy_parse_fd(struct policy *p, int fd, off_t size_hint, const char *shown,
			   struct policy_errors *errs)
{
	size_t cap = size_hint > 0 && size_hint < (off_t)(64 << 20) ? (size_t)size_hint + 1 : 8192;
	size_t len = 0;
	char *buf = malloc(cap);
	int err = 0;

	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				err = -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = policy_errors_add(errs, shown, 0, "cannot read: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	/* An empty file is parsed too: it is one of the files read. */
	err = policy_parse_text(p, buf, len, shown, errs);
	free(buf);
	return err;
}

__attribute__((noinline))
static int policy_parse_root_file(struct policy *p, int root_fd, const char *root,
				  const char *path, struct policy_errors *errs)
{
	char *shown = malloc(PATH_MAX);
	int fd, err;

	if (!shown)
		return -ENOMEM;
	err = root_join(shown, PATH_MAX, root, path);
	if (!err)
		err = policy_check_trusted(root_fd, root, path, shown, errs);
	if (err) {
		free(shown);
		return err < 0 ? err : 0;
	}
	fd = rootfs_open(root_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		err = policy_errors_add(errs, shown, 0, "cannot read: %s", strerror(-fd));
	else
		err = policy_parse_fd(p, fd, 0, shown, errs);
	free(shown);
	return err;
}

/*
 * A drop-in of a policy.d that was itself walked from the root and found
 * trusted: only root can change the directory, so what is left to check
 * is the file itself.  It is opened by its one name relative to the
 * directory, never following a symlink, and judged by the fstat of what
 * was opened (a regular file that only root can change), not walked from
 * the root again for each file.  Returns 0 when it was parsed, 1 when it
 * is anything else (a symlink, which policy_check_dropin_link() judges,
 * an untrusted or special file, an error), for the full walk to decide
 * and word, or -ENOMEM.
 */
__attribute__((noinline))
static int policy_parse_dropin(struct policy *p, int dir_fd, const char *name,
			       const char *shown, struct policy_errors *errs)
{
	struct stat sb;
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0)
		return 1;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || !rootfs_inode_trusted(&sb)) {
		close(fd);
		return 1;
	}
	return policy_parse_fd(p, fd, sb.st_size, shown, errs);
}

/* s (malloc()ed) shrunk to its string; s itself when it cannot be. */
static char *str_fit(char *s)
{
	char *fit = realloc(s, strlen(s) + 1);

	return fit ? fit : s;
}

int policy_load(struct policy **out, int root_fd, const char *root, const char *main_file,
		struct policy_errors *errs)
{
	const char *main_path = main_file ? main_file : POLICY_MAIN_FILE;
	size_t errs_before = errs->n;
	struct strv names = { 0 };
	/*
	 * On the heap, not in this frame (see policy_check_trusted()), and
	 * fitted: a PATH_MAX buffer kept through the parse is a page the
	 * parse's own allocations cannot use.  path and shown hold a drop-in's
	 * name (at most NAME_MAX) below dir, and dir itself.
	 */
	char *dir = NULL, *policy_dir = NULL, *path = NULL, *shown = NULL;
	size_t cap;
	struct policy *p;
	DIR *d = NULL;
	bool dir_trusted = false;
	int dir_fd = -1, dir_err, err;

	*out = NULL;
	p = policy_new();
	if (!p)
		return -ENOMEM;
	err = policy_parse_root_file(p, root_fd, root, main_path, errs);
	if (err)
		goto fail;

	err = -ENOMEM;
	dir = malloc(PATH_MAX);
	policy_dir = malloc(PATH_MAX);
	if (!dir || !policy_dir)
		goto fail;
	err = dropin_dir_of(main_path, dir, PATH_MAX);
	if (!err)
		err = policy_dir_of(main_path, policy_dir, PATH_MAX);
	if (err)
		goto fail;
	dir = str_fit(dir);
	policy_dir = str_fit(policy_dir);
	cap = (root ? strlen(root) : 0) + strlen(dir) + NAME_MAX + 3;
	cap = cap < PATH_MAX ? cap : PATH_MAX;
	path = malloc(cap);
	shown = malloc(cap);
	if (!path || !shown) {
		err = -ENOMEM;
		goto fail;
	}
	dir_err = rootfs_opendir(root_fd, dir, &d);
	if (dir_err == 0) {
		struct dirent *de;

		/* An empty 0777 policy.d is refused too: anyone could fill it. */
		err = root_join(shown, cap, root, dir);
		if (!err)
			err = policy_check_trusted(root_fd, root, dir, shown, errs);
		if (err < 0)
			goto fail;
		dir_trusted = err == 0;
		while ((de = readdir(d))) {
			size_t len = strlen(de->d_name);

			/* Only *.conf, so editor backups and dpkg leftovers are ignored. */
			if (de->d_name[0] == '.' || len < 6 ||
			    strcmp(de->d_name + len - 5, ".conf") != 0)
				continue;
			err = strv_push(&names, de->d_name);
			if (err)
				goto fail;
		}
		/*
		 * The drop-ins are opened relative to the directory: keep its
		 * descriptor, not the DIR, whose 32 KB buffer would otherwise
		 * sit under every allocation of the parse (new heap pages).
		 */
		dir_fd = fcntl(dirfd(d), F_DUPFD_CLOEXEC, 0);
		if (dir_fd < 0) {
			err = -errno;
			goto fail;
		}
		closedir(d);
		d = NULL;
	} else if (dir_err != -ENOENT) {
		root_join(shown, cap, root, dir);
		policy_errors_add(errs, shown, 0, "cannot read directory: %s", strerror(-dir_err));
	}
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(*names.v), name_cmp);
	for (size_t i = 0; i < names.n; i++) {
		if (snprintf(path, cap, "%s/%s", dir, names.v[i]) >= (int)cap ||
		    root_join(shown, cap, root, path)) {
			err = -ENAMETOOLONG;
			goto fail;
		}
		if (dir_trusted) {
			err = policy_parse_dropin(p, dir_fd, names.v[i], shown, errs);
			if (err < 0)
				goto fail;
			if (err == 0)
				continue;
		}
		err = policy_check_dropin_link(root_fd, root, policy_dir, path, shown, errs);
		if (err < 0)
			goto fail;
		if (err)
			continue;
		err = policy_parse_root_file(p, root_fd, root, path, errs);
		if (err)
			goto fail;
	}
	if (dir_fd >= 0)
		close(dir_fd);
	strv_free(&names);
	free(dir);
	free(policy_dir);
	free(path);
	free(shown);
	return policy_finish(p, errs, errs_before, out);
fail:
	if (d)
		closedir(d);
	if (dir_fd >= 0)
		close(dir_fd);
	strv_free(&names);
	free(dir);
	free(policy_dir);
	free(path);
	free(shown);
	policy_free(p);
	return err;
}

int policy_load_files(struct policy **out, char *const *files, size_t n_files,
		      struct policy_errors *errs)
{
	size_t errs_before = errs->n;
	struct policy *p = policy_new();
	int err;

	*out = NULL;
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < n_files; i++) {
		int fd = open(files[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			err = policy_errors_add(errs, files[i], 0, "cannot read: %s", strerror(errno));
		else
			err = policy_parse_fd(p, fd, 0, files[i], errs);
		if (err) {
			policy_free(p);
			return err;
		}
	}
	return policy_finish(p, errs, errs_before, out);
}

/* ---- helpers for layers ---- */

int policy_parse_bool(const struct policy_entry *e, bool *out, struct policy_errors *errs)
{
	if (parse_bool_value(e->value, out) == 0)
		return 0;
	policy_error_at(errs, e, "invalid value '%s' for %s: expected yes or no", e->value, e->key);
	return -EINVAL;
}

int policy_parse_uint(const struct policy_entry *e, unsigned long min, unsigned long max,
		      unsigned long *out, struct policy_errors *errs)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(e->value, &end, 10);
	if (errno || end == e->value || *end || e->value[0] == '-' || v < min || v > max) {
		policy_error_at(errs, e, "invalid value '%s' for %s: expected a number from %lu to %lu",
				e->value, e->key, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

bool policy_has_layer(const struct policy *p, const char *layer)
{
	size_t len = strlen(layer);

	for (size_t i = 0; i < p->sections.n; i++) {
		const char *s = p->sections.v[i];

		if (strncmp(s, layer, len) == 0 && (s[len] == '\0' || s[len] == '.'))
			return true;
	}
	return false;
}

enum policy_mode policy_layer_mode(const struct policy *p, const char *layer)
{
	const struct policy_entry *e = policy_get(p, layer, "mode");
	enum policy_mode m;

	if (e && parse_mode_value(e->value, &m) == 0)
		return m;
	return p->mode;
}

const char *policy_mode_name(enum policy_mode m)
{
	switch (m) {
	case POLICY_MODE_ENFORCE:
		return "enforce";
	case POLICY_MODE_REPORT:
		return "report";
	default:
		return "inherit";
	}
}

/* ---- showing ---- */

void policy_show_line(FILE *out, const char *key, const char *value, const char *file, int line)
{
	size_t kn = 2 * strlen(key) + 3, vn = 2 * strlen(value) + 3;
	char *k = malloc(kn), *v = malloc(vn);

	if (!k || !v)
		fprintf(out, "# (out of memory)\n");
	else if (file)
		fprintf(out, "%s = %s\t# %s:%d\n", log_escape(k, kn, key, false),
			log_escape(v, vn, value, false), file, line);
	else
		fprintf(out, "%s = %s\t# default\n", log_escape(k, kn, key, false),
			log_escape(v, vn, value, false));
	free(k);
	free(v);
}

int policy_digest(const struct policy *p, char hex[POLICY_DIGEST_HEX])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA2_CTX ctx;

	SHA256Init(&ctx);
	for (size_t i = 0; i < p->n_entries; i++) {
		const struct policy_entry *e = &p->entries[i];
		const char *parts[] = { e->section, e->key, e->value, e->file };

		for (size_t k = 0; k < ARRAY_SIZE(parts); k++)
			SHA256Update(&ctx, (const unsigned char *)(parts[k] ? parts[k] : ""),
				     strlen(parts[k] ? parts[k] : "") + 1);
		SHA256Update(&ctx, (const unsigned char *)"\n", 1);
	}
	SHA256Final(md, &ctx);
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

void policy_show_header(const struct policy *p, FILE *out)
{
	char digest[POLICY_DIGEST_HEX];

	policy_digest(p, digest);
	fprintf(out, "# effective policy, merged from %zu file(s)\n", p->n_files);
	fprintf(out, "# policy_digest %s\n", digest);
	for (size_t i = 0; i < p->n_files; i++)
		fprintf(out, "#   %s\n", p->files[i]);
}
