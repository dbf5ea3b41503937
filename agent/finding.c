/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "util.h"

static const char *const state_names[] = {
	[FINDING_COMPLIANT] = "compliant",
	[FINDING_DRIFT] = "drift",
	[FINDING_ERROR] = "error",
	[FINDING_UNSUPPORTED] = "unsupported",
};

static const char *const action_names[] = {
	[FINDING_ACTION_NONE] = "none",
	[FINDING_ACTION_REPAIRED] = "repaired",
	[FINDING_ACTION_WOULD_REPAIR] = "would-repair",
	[FINDING_ACTION_FAILED] = "failed",
	[FINDING_ACTION_CANNOT_FIX] = "cannot-fix",
};

const char *finding_state_name(enum finding_state s)
{
	return (unsigned int)s < sizeof(state_names) / sizeof(state_names[0]) ?
		state_names[s] : "?";
}

const char *finding_action_name(enum finding_action a)
{
	return (unsigned int)a < sizeof(action_names) / sizeof(action_names[0]) ?
		action_names[a] : "?";
}

int finding_state_parse(const char *name, enum finding_state *out)
{
	for (unsigned int i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (strcmp(state_names[i], name) == 0) {
			*out = (enum finding_state)i;
			return 0;
		}
	return -EINVAL;
}

int finding_action_parse(const char *name, enum finding_action *out)
{
	for (unsigned int i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
		if (strcmp(action_names[i], name) == 0) {
			*out = (enum finding_action)i;
			return 0;
		}
	return -EINVAL;
}

static int dup_opt(const char *in, const char **out);

/* The benchmarks a reference may name, with the short word of their text form. */
static const struct {
	const char *word;
	const char *benchmark;
	const char *version;
} ref_sources[] = {
	{ "CIS", REF_CIS_BENCHMARK, REF_CIS_VERSION },
	{ "KSPP", REF_KSPP_BENCHMARK, NULL },
	{ "STIG", REF_STIG_BENCHMARK, REF_STIG_VERSION },
};

const char *finding_refs_format(const struct finding_refs *refs, char *buf, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < refs->n; i++) {
		const struct finding_ref *r = &refs->v[i];
		const char *word = r->benchmark ? r->benchmark : "?";
		int n;

		for (size_t j = 0; j < ARRAY_SIZE(ref_sources); j++)
			if (r->benchmark && strcmp(r->benchmark, ref_sources[j].benchmark) == 0)
				word = ref_sources[j].word;
		n = snprintf(buf + len, size - len, "%s%s %s", i ? ", " : "", word,
			     r->id ? r->id : "?");
		if (n < 0 || (size_t)n >= size - len) {
			buf[len] = '\0';	/* cut at a whole reference */
			break;
		}
		len += (size_t)n;
	}
	return buf;
}

void finding_refs_free(struct finding_refs *refs)
{
	struct finding_ref *v = (struct finding_ref *)refs->v;

	for (size_t i = 0; i < refs->n; i++) {
		free((char *)v[i].benchmark);
		free((char *)v[i].version);
		free((char *)v[i].id);
	}
	free(v);
	refs->v = NULL;
	refs->n = 0;
}

int finding_refs_copy(const struct finding_refs *in, struct finding_refs *out)
{
	struct finding_ref *v;

	out->v = NULL;
	out->n = 0;
	if (in->n == 0)
		return 0;
	v = calloc(in->n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	out->v = v;
	for (size_t i = 0; i < in->n; i++) {
		const struct finding_ref *r = &in->v[i];

		out->n = i + 1;
		if (dup_opt(r->benchmark, &v[i].benchmark) || dup_opt(r->version, &v[i].version) ||
		    dup_opt(r->id, &v[i].id)) {
			finding_refs_free(out);
			return -ENOMEM;
		}
	}
	return 0;
}

int finding_refs_parse(const char *text, struct finding_refs *out, char *why, size_t why_len)
{
	struct finding_ref v[16];
	struct finding_refs tmp = { v, 0 };
	char *copy = strdup(text), *save = NULL;
	int err = 0;

	out->v = NULL;
	out->n = 0;
	if (!copy)
		return -ENOMEM;
	for (char *tok = strtok_r(copy, ",", &save); tok && !err;
	     tok = strtok_r(NULL, ",", &save)) {
		char *word = str_trim(tok), *id = word + strcspn(word, " \t");
		size_t j;

		if (*word == '\0')
			continue;
		if (*id)
			*id++ = '\0';
		id = str_trim(id);
		for (j = 0; j < ARRAY_SIZE(ref_sources); j++)
			if (strcmp(word, ref_sources[j].word) == 0)
				break;
		if (j == ARRAY_SIZE(ref_sources)) {
			snprintf(why, why_len, "unknown benchmark '%s' (known: CIS, KSPP, STIG)", word);
			err = -EINVAL;
		} else if (*id == '\0' || strpbrk(id, " \t")) {
			snprintf(why, why_len, "reference '%s' needs one id after the benchmark", word);
			err = -EINVAL;
		} else if (tmp.n == ARRAY_SIZE(v)) {
			snprintf(why, why_len, "more than %zu references", ARRAY_SIZE(v));
			err = -EINVAL;
		} else {
			v[tmp.n++] = (struct finding_ref){ ref_sources[j].benchmark,
							   ref_sources[j].version, id };
		}
	}
	if (!err)
		err = finding_refs_copy(&tmp, out);
	free(copy);
	return err;
}

static int dup_opt(const char *in, const char **out)
{
	if (!in) {
		*out = NULL;
		return 0;
	}
	*out = strdup(in);
	return *out ? 0 : -ENOMEM;
}

static void finding_clear(struct finding *f)
{
	free((char *)f->layer);
	free((char *)f->item);
	free((char *)f->expected);
	free((char *)f->actual);
	finding_refs_free(&f->refs);
	free((char *)f->note);
}

int findings_add(struct findings *fs, const struct finding *f)
{
	struct finding *n;

	if (!f->layer || !f->item)
		return -EINVAL;

	struct finding *v = array_grow(fs->v, fs->n, &fs->cap, sizeof(*fs->v));

	if (!v)
		return -ENOMEM;
	fs->v = v;
	n = &fs->v[fs->n];
	memset(n, 0, sizeof(*n));
	n->state = f->state;
	n->action = f->action;
	n->contested = f->contested;
	if (dup_opt(f->layer, &n->layer) || dup_opt(f->item, &n->item) ||
	    dup_opt(f->expected, &n->expected) || dup_opt(f->actual, &n->actual) ||
	    finding_refs_copy(&f->refs, &n->refs) || dup_opt(f->note, &n->note)) {
		finding_clear(n);
		return -ENOMEM;
	}
	fs->n++;
	return 0;
}

int findings_append(struct findings *dst, const struct findings *src)
{
	for (size_t i = 0; i < src->n; i++) {
		int err = findings_add(dst, &src->v[i]);

		if (err)
			return err;
	}
	return 0;
}

const struct finding *findings_find(const struct findings *fs, const char *item)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].item, item) == 0)
			return &fs->v[i];
	return NULL;
}

void findings_reset(struct findings *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		finding_clear(&fs->v[i]);
	fs->n = 0;
}

void findings_free(struct findings *fs)
{
	findings_reset(fs);
	free(fs->v);
	fs->v = NULL;
	fs->cap = 0;
}

struct findings_count findings_count(const struct findings *fs, const char *layer)
{
	struct findings_count c = { 0 };

	for (size_t i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->v[i];

		if (layer && strcmp(f->layer, layer) != 0)
			continue;
		if (f->contested)
			c.contested++;
		switch (f->state) {
		case FINDING_COMPLIANT:
			c.compliant++;
			break;
		case FINDING_DRIFT:
			c.drift++;
			break;
		case FINDING_ERROR:
			c.error++;
			break;
		case FINDING_UNSUPPORTED:
			c.unsupported++;
			break;
		}
	}
	return c;
}
