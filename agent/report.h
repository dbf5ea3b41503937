/* SPDX-License-Identifier: MIT */
/*
 * The one printer.  Findings become a JSON document (json-c), and the text
 * table is rendered from that same document, so `--json` and the table can
 * never disagree.  `jefe --direct` prints its own findings; through the
 * daemon, the daemon prints the view the client asked for with these same
 * functions and the client writes the bytes out (ipc.h, IPC_FLAG_VIEW).
 */
#ifndef JEFE_REPORT_H
#define JEFE_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "finding.h"

struct json_object;

/* The report document: {"version":1, "compliant":..., "layers":[...], "findings":[...]} */
int report_build(const struct findings *fs, struct json_object **out);
/*
 * The objects of fs as the document's "findings" array holds them,
 * comma-separated, without the brackets (malloc'ed): rendered once, for a
 * document made many times from the same findings (the daemon's live
 * state, rendered again only when a layer's findings change).
 */
int report_findings_render(const struct findings *fs, char **text);
/*
 * The same as report_print(REPORT_JSON) prints them (`jefe status
 * --json`): pretty, each object indented as an element of the document's
 * "findings" array.
 */
int report_findings_render_pretty(const struct findings *fs, char **text);
/*
 * The same document from several findings lists, in order; a part whose
 * `rendered` is report_findings_render() of its findings is written as
 * that text.  Such a document is only for json_object_to_json_string_ext()
 * with JSON_C_TO_STRING_PLAIN, or, when every `rendered` is
 * report_findings_render_pretty()'s, for report_print(REPORT_JSON): its
 * findings cannot be read back.
 */
struct report_part {
	const struct findings *fs;
	const char *rendered;		/* NULL: render fs now */
};
int report_build_parts(const struct report_part *parts, size_t n, struct json_object **out);
int report_parse(const char *text, struct json_object **out);
/* findings <- document (a document read back; `jefe` no longer parses the daemon's reply). */
int report_to_findings(struct json_object *doc, struct findings *fs);

/*
 * Who and when: what a report collected from many hosts must say about
 * itself.  Every document the CLI or the daemon prints carries these
 * (docs/jefe-report.schema.json).
 */
#define REPORT_SCHEMA "jefe-report/2"

struct report_meta {
	char hostname[256];
	char machine_id[64];		/* "" when the root has none */
	char policy_digest[65];		/* policy_digest() */
	const char *mode;		/* the policy's [agent] mode */
	const char *kind;		/* "status", "enforce" or "dry-run" */
	time_t time;			/* when the layers were checked */
};

/*
 * The host of the root: /etc/hostname and /etc/machine-id below it (the
 * root is a mounted system image, or the host itself); the kernel's node
 * name when the root has no /etc/hostname.
 */
int report_meta_host(struct report_meta *m, int root_fd);
/*
 * Add schema, host, agent_version, policy_digest, mode, kind, time, and per
 * layer checked_at (= time) and verified_by ("request": checked for this
 * report).
 */
int report_add_meta(struct json_object *doc, const struct report_meta *m);
/*
 * A layer of the document was verified at another time than the report
 * was made (the daemon answers from its live state): its own checked_at
 * and how it was verified ("start", "reload", "event", "timer", "request",
 * "enforce").  0 also when the document has no such layer.
 */
int report_layer_verified(struct json_object *doc, const char *layer, time_t at,
			  const char *verified_by);

enum report_format {
	REPORT_TEXT,
	REPORT_JSON,
};

enum report_verb {
	REPORT_STATUS,		/* summary per layer, then every non-compliant item */
	REPORT_ENFORCE,		/* what changed, what could not */
	REPORT_DRY_RUN,		/* what would change */
};

/* How the text is shown; NULL for the plain defaults. */
struct report_style {
	bool verbose;		/* also compliant and unsupported items */
	bool color;		/* ANSI colours (the CLI decides: --color, NO_COLOR, a tty) */
};

int report_print(FILE *out, struct json_object *doc, enum report_format fmt,
		 enum report_verb verb, const struct report_style *style);
/*
 * What report_print(REPORT_JSON) prints of doc, but its final newline
 * (owned by doc; NULL without memory): for a process that sends the text
 * on rather than printing it (the daemon's JSON view).
 */
const char *report_json_text(struct json_object *doc, size_t *len);

/*
 * The text view for a process that has the findings at hand (`jefe
 * --direct`): doc is report_build_head() of fs (summary, layers, and
 * report_add_meta()'s), and each finding is made into its document
 * object (the one --json prints), printed as report_print() would and
 * freed before the next, so a text report never holds a json-c object
 * per finding at once: hundreds of them were most of the pages a full
 * status touched.
 */
int report_build_head(const struct findings *fs, struct json_object **out);
int report_print_text(FILE *out, struct json_object *doc, const struct findings *fs,
		      enum report_verb verb, const struct report_style *style);
/*
 * The same from several findings lists, in order (the daemon's live
 * state: each layer's latest findings, then the services): the text view
 * the daemon prints for `jefe status` (IPC_FLAG_VIEW), byte for byte what
 * report_print() makes of the document of the same parts.  A part's
 * `rendered` text is not used.
 */
int report_build_head_parts(const struct report_part *parts, size_t n, struct json_object **out);
int report_print_text_parts(FILE *out, struct json_object *doc, const struct report_part *parts,
			    size_t n, enum report_verb verb, const struct report_style *style);

/* The exit code of `jefe status`: 0 compliant, 2 drift, 1 error. */
int report_exit_code(const struct findings *fs);
/* The same over several findings lists: an error outweighs drift. */
int report_parts_exit_code(const struct report_part *parts, size_t n);

#endif
