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
 * A benchmark reference: which benchmark, which version of it, which of
 * its recommendations.  One version of each benchmark throughout the
 * agent: the macros below are the only place a benchmark's name and
 * version are written (jefe.conf(5), REFERENCES, says where each comes
 * from).  version is NULL for a source that has no versions (KSPP's
 * recommended settings).
 */
struct finding_ref {
	const char *benchmark;
	const char *version;
	const char *id;
};

#define REF_CIS_BENCHMARK	"CIS Debian Linux 12"
#define REF_CIS_VERSION		"1.0.1"
#define REF_KSPP_BENCHMARK	"KSPP"
#define REF_STIG_BENCHMARK	"DISA STIG Canonical Ubuntu 22.04 LTS"
#define REF_STIG_VERSION	"V2R7"

/* A CIS Debian Linux 12 v1.0.1 section ("5.1.20"). */
#define REF_CIS(id)	{ REF_CIS_BENCHMARK, REF_CIS_VERSION, (id) }
/* A KSPP recommended setting, by its name ("kernel.kptr_restrict"). */
#define REF_KSPP(id)	{ REF_KSPP_BENCHMARK, NULL, (id) }
/* A DISA STIG vulnerability id ("V-260529"). */
#define REF_STIG(id)	{ REF_STIG_BENCHMARK, REF_STIG_VERSION, (id) }

/* A list of references; v is not owned unless it sits in a findings list. */
struct finding_refs {
	const struct finding_ref *v;
	size_t n;
};

/* For static tables: .refs = REFS_INIT(REF_CIS("5.1.1"), REF_STIG("V-1")). */
#define REFS_INIT(...)	{ (const struct finding_ref[]){ __VA_ARGS__ },			\
			  sizeof((const struct finding_ref[]){ __VA_ARGS__ }) /		\
			  sizeof(struct finding_ref) }
/* The same as an expression, for function arguments. */
#define REFS(...)	((struct finding_refs)REFS_INIT(__VA_ARGS__))
#define REFS_NONE	((struct finding_refs){ NULL, 0 })

/*
 * Strings are copied in by findings_add() and owned by the list.
 * item is the layer-local id ("kernel.kptr_restrict"); the full id printed
 * to admins is "layer:item".  refs are the benchmark references (possibly
 * none: a setting of JefeLinux's own), note a short free-text reason.
 * Any of expected/actual/note may be NULL.
 */
struct finding {
	const char *layer;
	const char *item;
	const char *expected;
	const char *actual;
	struct finding_refs refs;
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

/*
 * The short text form of references, as the text view and the log show
 * them: "CIS 5.1.20, KSPP kernel.kptr_restrict".  Returns buf ("" for no
 * reference); a list that does not fit is cut at a whole reference.
 */
const char *finding_refs_format(const struct finding_refs *refs, char *buf, size_t size);
/*
 * The short form back: "CIS 6.3.3.1, STIG V-260529" -> an allocated
 * list whose strings are owned by it (finding_refs_free()).  A benchmark
 * other than CIS, KSPP or STIG is -EINVAL, with the word in why.
 */
int finding_refs_parse(const char *text, struct finding_refs *out, char *why, size_t why_len);
int finding_refs_copy(const struct finding_refs *in, struct finding_refs *out);
void finding_refs_free(struct finding_refs *refs);

const char *finding_state_name(enum finding_state s);
const char *finding_action_name(enum finding_action a);
int finding_state_parse(const char *name, enum finding_state *out);
int finding_action_parse(const char *name, enum finding_action *out);

#endif
