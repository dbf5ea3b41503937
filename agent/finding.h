/* SPDX-License-Identifier: MIT */
/*
 * What a check found.  Every layer reports through findings; the CLI, the
 * daemon's log and the IPC reply are all made from them.
 */
#ifndef JEFE_FINDING_H
#define JEFE_FINDING_H

#include <stddef.h>

enum finding_state {
	FINDING_COMPLIANT,
	FINDING_DRIFT,
	FINDING_ERROR,		/* could not be checked or applied */
	FINDING_UNSUPPORTED,	/* absent on this host (kernel, package) */
};

enum finding_action {
	FINDING_ACTION_NONE,		/* check only, or nothing to do */
	FINDING_ACTION_REPAIRED,	/* apply changed it and read it back */
	FINDING_ACTION_WOULD_REPAIR,	/* dry run: apply would change it */
	FINDING_ACTION_FAILED,		/* apply tried and failed */
	FINDING_ACTION_CANNOT_FIX,	/* not fixable now (e.g. until reboot) */
};

/*
 * Strings are copied in by findings_add() and owned by the list.
 * item is the layer-local id ("kernel.kptr_restrict"); the full id printed
 * to admins is "layer:item".  ref is a benchmark reference ("CIS 3.3.8"),
 * note a short free-text reason.  Any of expected/actual/ref/note may be NULL.
 */
struct finding {
	const char *layer;
	const char *item;
	const char *expected;
	const char *actual;
	const char *ref;
	const char *note;
	enum finding_state state;
	enum finding_action action;
	/*
	 * Only from the daemon: how often it repaired this item in the
	 * current fight with something that keeps undoing it (0: none).
	 */
	unsigned long contested;
};

struct findings {
	struct finding *v;
	size_t n;
	size_t cap;
};

int findings_add(struct findings *fs, const struct finding *f);
/* Append every finding of src to dst (copies). */
int findings_append(struct findings *dst, const struct findings *src);
void findings_free(struct findings *fs);
void findings_reset(struct findings *fs);
/* The first finding about item (layer-local id), or NULL. */
const struct finding *findings_find(const struct findings *fs, const char *item);

/* Counts per state, for one layer (layer == NULL: all). */
struct findings_count {
	size_t compliant, drift, error, unsupported;
	size_t contested;	/* any state: something keeps undoing a repair */
};
struct findings_count findings_count(const struct findings *fs, const char *layer);

const char *finding_state_name(enum finding_state s);
const char *finding_action_name(enum finding_action a);
int finding_state_parse(const char *name, enum finding_state *out);
int finding_action_parse(const char *name, enum finding_action *out);

#endif
