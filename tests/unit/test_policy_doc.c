/* SPDX-License-Identifier: MIT */
/*
 * The key tables against jefe.conf(5): every key of every table is
 * documented in its section, every documented key exists, and the
 * defaults agree.
 *
 * The page documents a key as a tagged paragraph (.TP) whose tag is
 * "key = VALUE" (several keys may share one: "ssh = yes | no; ssh_port =
 * PORT"), with "Default: X." or, for a shared tag, "Defaults: X, Y."
 * in its text.  An empty default reads "empty" or "none".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "layer.h"
#include "layers.h"
#include "policy.h"
#include "util.h"

#define MAX_DOC_KEYS 256

struct doc_key {
	char section[64];
	char key[64];
	char defaults[512];	/* the rendered text after "Default(s):", "" if none */
	int index;		/* position among the keys of a shared tag */
	int n_shared;
	int line;
};

struct doc {
	struct doc_key keys[MAX_DOC_KEYS];
	size_t n;
};

/* Render one roff line as text: macro arguments, fonts, escapes. */
static void roff_render(const char *line, char *out, size_t size)
{
	char args[1024];
	size_t o = 0, a = 0;
	bool alternating = false;
	const char *p = line;

	if (*p == '.') {
		size_t mlen = strcspn(p, " ");

		alternating = mlen == 3 && strchr("BIR", p[1]) && strchr("BIR", p[2]);
		if (!(mlen == 2 && (p[1] == 'B' || p[1] == 'I')) && !alternating) {
			out[0] = '\0';	/* .TP, .PP, .IP and the like carry no text */
			return;
		}
		p += mlen;
		while (*p == ' ')
			p++;
		/* Arguments: quoted or not; alternating macros join them without spaces. */
		while (*p && a + 1 < sizeof(args)) {
			bool quoted = *p == '"';

			if (quoted)
				p++;
			while (*p && (quoted ? *p != '"' : *p != ' ') && a + 1 < sizeof(args))
				args[a++] = *p++;
			if (quoted && *p == '"')
				p++;
			while (*p == ' ')
				p++;
			if (*p && !alternating && a + 1 < sizeof(args))
				args[a++] = ' ';
		}
		args[a] = '\0';
		p = args;
	}
	for (; *p && o + 1 < size; p++) {
		if (*p == '\\') {
			p++;
			if (*p == 'f' && p[1]) {
				p++;	/* \fB, \fI, \fR, \fP */
				continue;
			}
			if (*p == '(' && p[1] && p[2]) {
				p += 2;	/* \(bu */
				continue;
			}
			if (*p == '-' || *p == ' ' || *p == 'e')
				out[o++] = *p == 'e' ? '\\' : *p;
			else if (*p == '&')
				continue;
			if (!*p)
				break;
			continue;
		}
		out[o++] = *p;
	}
	out[o] = '\0';
}

/*
 * The keys a tag names: in each ';'-separated clause, the comma-separated
 * names before its '=' ("input_policy, forward_policy = accept | drop").
 */
static void doc_tag_keys(struct doc *d, const char *section, const char *tag, int line)
{
	size_t first = d->n;

	for (const char *clause = tag; *clause;) {
		size_t clen = strcspn(clause, ";");
		const char *eq = memchr(clause, '=', clen);

		for (const char *p = clause; eq && p < eq;) {
			size_t len;
			char name[64];

			while (p < eq && (*p == ' ' || *p == ','))
				p++;
			len = strcspn(p, ",=");
			if (p + len > eq)
				len = (size_t)(eq - p);
			while (len && p[len - 1] == ' ')
				len--;
			if (len && len < sizeof(name) && !memchr(p, ' ', len) && d->n < MAX_DOC_KEYS) {
				struct doc_key *k = &d->keys[d->n++];

				snprintf(name, sizeof(name), "%.*s", (int)len, p);
				memset(k, 0, sizeof(*k));
				snprintf(k->section, sizeof(k->section), "%s", section);
				snprintf(k->key, sizeof(k->key), "%s", name);
				k->line = line;
			}
			p += strcspn(p, ",=");
			if (p < eq)
				p++;
		}
		clause += clen;
		if (*clause == ';')
			clause++;
	}
	for (size_t i = first; i < d->n; i++) {
		d->keys[i].index = (int)(i - first);
		d->keys[i].n_shared = (int)(d->n - first);
	}
}

/* "Default: X." / "Defaults: X, Y." of a paragraph into its keys. */
static void doc_defaults(struct doc *d, size_t first, const char *text)
{
	const char *p = strstr(text, "Default");
	char value[512];
	size_t len;

	if (!p || first >= d->n)
		return;
	p = strchr(p, ':');
	if (!p)
		return;
	p++;
	while (*p == ' ')
		p++;
	snprintf(value, sizeof(value), "%s", p);
	/* The sentence ends at ". " or a final "."; "; more" and " (why)" are prose. */
	len = strlen(value);
	for (size_t i = 0; i < len; i++) {
		if ((value[i] == '.' && (value[i + 1] == ' ' || value[i + 1] == '\0')) ||
		    value[i] == ';' || (value[i] == ' ' && value[i + 1] == '(')) {
			value[i] = '\0';
			break;
		}
	}
	for (size_t i = first; i < d->n; i++) {
		struct doc_key *k = &d->keys[i];

		if (k->n_shared == 1) {
			snprintf(k->defaults, sizeof(k->defaults), "%s", value);
		} else {
			/* The k->index'th of the comma-separated values. */
			const char *v = value;

			for (int n = 0; n < k->index && v; n++) {
				v = strchr(v, ',');
				if (v)
					v++;
			}
			if (v) {
				while (*v == ' ')
					v++;
				snprintf(k->defaults, sizeof(k->defaults), "%.*s", (int)strcspn(v, ","), v);
			}
		}
		if (!k->defaults[0])
			snprintf(k->defaults, sizeof(k->defaults), "?");
	}
}

static void doc_read(struct doc *d, const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[2048], section[64] = "", text[8192] = "", rendered[2048];
	size_t first = 0;
	bool in_par = false, want_tag = false;
	int lineno = 0;

	if (!fp)
		fail_msg("cannot read %s", path);
	d->n = 0;
	while (fgets(line, sizeof(line), fp)) {
		bool ends = false;

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		ends = strncmp(line, ".TP", 3) == 0 || strncmp(line, ".SH", 3) == 0 ||
		       strncmp(line, ".SS", 3) == 0 || strncmp(line, ".PP", 3) == 0;
		if (ends && in_par) {
			doc_defaults(d, first, text);
			in_par = false;
		}
		if (strncmp(line, ".SH", 3) == 0 || strncmp(line, ".SS", 3) == 0) {
			const char *open = strchr(line, '['), *close = open ? strchr(open, ']') : NULL;

			if (open && close && (strncmp(line, ".SS", 3) == 0 || strstr(line, "SECTION")))
				snprintf(section, sizeof(section), "%.*s", (int)(close - open - 1), open + 1);
			else
				section[0] = '\0';
			continue;
		}
		if (strncmp(line, ".TP", 3) == 0) {
			want_tag = section[0] != '\0';
			continue;
		}
		if (want_tag) {
			want_tag = false;
			roff_render(line, rendered, sizeof(rendered));
			first = d->n;
			doc_tag_keys(d, section, rendered, lineno);
			in_par = d->n > first;
			text[0] = '\0';
			continue;
		}
		if (in_par) {
			roff_render(line, rendered, sizeof(rendered));
			if (rendered[0] && strlen(text) + strlen(rendered) + 2 < sizeof(text)) {
				if (text[0])
					strcat(text, " ");
				strcat(text, rendered);
			}
		}
	}
	if (in_par)
		doc_defaults(d, first, text);
	fclose(fp);
}

static const struct doc_key *doc_find(const struct doc *d, const char *section, const char *key)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->keys[i].section, section) == 0 && strcmp(d->keys[i].key, key) == 0)
			return &d->keys[i];
	return NULL;
}

/* Commas and runs of white space are one separator; "empty" and "none" are "". */
static void normalize(const char *in, char *out, size_t size)
{
	size_t o = 0;
	bool space = false;

	if (strncmp(in, "empty", 5) == 0 || strncmp(in, "none", 4) == 0) {
		out[0] = '\0';
		return;
	}
	for (; *in && o + 2 < size; in++) {
		if (*in == ' ' || *in == ',' || *in == '\t') {
			space = o > 0;
			continue;
		}
		if (space)
			out[o++] = ' ';
		space = false;
		out[o++] = *in;
	}
	out[o] = '\0';
}

static int failures;

/*
 * The page documents the default build's paths (/etc, /var, /run); a
 * table default below configure's directories (another --prefix, as
 * distcheck's) is compared as that build would show it.
 */
static void default_as_documented(const char *value, char *out, size_t size)
{
	static const struct {
		const char *dir, *documented;
	} dirs[] = {
		{ SYSCONFDIR, "/etc" },
		{ LOCALSTATEDIR, "/var" },
		{ RUNSTATEDIR, "/run" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		size_t n = strlen(dirs[i].dir);

		if (strncmp(value, dirs[i].dir, n) == 0 && value[n] == '/') {
			snprintf(out, size, "%s%s", dirs[i].documented, value + n);
			return;
		}
	}
	snprintf(out, size, "%s", value);
}

static void check_table(const struct doc *d, const char *section, const struct policy_key *keys)
{
	for (const struct policy_key *k = keys; k && k->name; k++) {
		const struct doc_key *dk = doc_find(d, section, k->name);
		char want[512], got[512], table[512];

		if (!dk) {
			fprintf(stderr, "jefe.conf.5: [%s] %s is not documented\n", section, k->name);
			failures++;
			continue;
		}
		if (!k->default_value)
			continue;
		default_as_documented(k->default_value, table, sizeof(table));
		normalize(table, want, sizeof(want));
		normalize(dk->defaults, got, sizeof(got));
		if (strcmp(want, got) != 0) {
			fprintf(stderr, "jefe.conf.5 line %d: [%s] %s: the page says the default is '%s', "
				"the table '%s'\n", dk->line, section, k->name, dk->defaults,
				k->default_value);
			failures++;
		}
	}
}

/* Is key of section in a table, the core's `mode`, or the layer's free-form? */
static bool key_known(const char *section, const char *key)
{
	const char *dot = strchr(section, '.');
	char layer[64];
	const struct layer_ops *ops;
	bool all_caps = true;

	if (strcmp(section, "agent") == 0)
		return policy_key_find(policy_agent_keys, key) != NULL;
	snprintf(layer, sizeof(layer), "%.*s", dot ? (int)(dot - section) : (int)strlen(section),
		 section);
	ops = layer_find(layer);
	if (!ops)
		return false;
	if (!dot && strcmp(key, "mode") == 0)
		return true;
	if (policy_key_find(dot ? ops->sub_keys : ops->keys, key))
		return true;
	/* A placeholder (PATH, NAME) or a name the layer's own parser knows. */
	for (const char *p = key; *p; p++)
		all_caps &= isupper((unsigned char)*p) || *p == '_';
	if (all_caps || (ops->free_key && ops->free_key(section, key)))
		return true;
	return false;
}

static void test_tables_match_the_page(void **state)
{
	static struct doc d;
	const char *srcdir = getenv("abs_top_srcdir");
	char path[4096];

	(void)state;
	assert_non_null(srcdir);
	snprintf(path, sizeof(path), "%s/docs/man/jefe.conf.5", srcdir);
	doc_read(&d, path);
	/* The reader must see the page's keys at all, or the test proves nothing. */
	assert_true(d.n >= 40);
	failures = 0;

	check_table(&d, "agent", policy_agent_keys);
	for (unsigned int i = 0; i < jefe_layers_count; i++) {
		const struct layer_ops *ops = jefe_layers[i];

		check_table(&d, ops->name, ops->keys);
		if (ops->sub_keys) {
			char sub[64];

			/* The page names the subsection as written: [firewall.service.NAME]. */
			for (size_t k = 0; k < d.n; k++)
				if (strncmp(d.keys[k].section, ops->name, strlen(ops->name)) == 0 &&
				    d.keys[k].section[strlen(ops->name)] == '.')
					snprintf(sub, sizeof(sub), "%s", d.keys[k].section);
			check_table(&d, sub, ops->sub_keys);
		}
	}
	for (size_t i = 0; i < d.n; i++) {
		if (!key_known(d.keys[i].section, d.keys[i].key)) {
			fprintf(stderr, "jefe.conf.5 line %d: [%s] %s is documented but no table has it\n",
				d.keys[i].line, d.keys[i].section, d.keys[i].key);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* Every table default is a valid value of its own key. */
static void test_table_defaults_parse(void **state)
{
	char settings[4096] __attribute__((aligned(16)));
	char why[512];

	(void)state;
	for (unsigned int i = 0; i <= jefe_layers_count; i++) {
		const struct policy_key *keys = i < jefe_layers_count ? jefe_layers[i]->keys
								      : policy_agent_keys;

		for (const struct policy_key *k = keys; k && k->name; k++) {
			if (!k->default_value || k->type == POLICY_KEY_OWN ||
			    k->type == POLICY_KEY_CUSTOM)
				continue;
			assert_true(k->offset < sizeof(settings) - sizeof(void *));
			if (policy_key_parse(k, k->default_value, settings, why, sizeof(why)) != 0)
				fail_msg("default '%s' of %s: %s", k->default_value, k->name, why);
			assert_non_null(k->doc);
			assert_non_null(k->ref);
		}
	}
	/* Every default, custom types too, through the core's own loader. */
	for (unsigned int i = 0; i < jefe_layers_count; i++) {
		const struct layer_ops *ops = jefe_layers[i];
		struct policy empty = { 0 };
		struct policy_errors errs = { 0 };
		void *buf = calloc(1, ops->settings_size ? ops->settings_size : 1);

		assert_non_null(buf);
		assert_int_equal(policy_keys_load(&empty, ops->name, ops->keys, buf, &errs), 0);
		if (errs.n)
			fail_msg("%s: %s", ops->name, errs.msgs[0]);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables_match_the_page),
		cmocka_unit_test(test_table_defaults_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
