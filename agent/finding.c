/* SPDX-License-Identifier: MIT */
#include <errno.h>
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
	free((char *)f->ref);
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
	    dup_opt(f->ref, &n->ref) || dup_opt(f->note, &n->note)) {
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
