/* SPDX-License-Identifier: MIT */
/*
 * The one printer.  Findings become a JSON document (json-c), and the text
 * table is rendered from that same document, so `--json` and the table can
 * never disagree, whether the findings came from a local check or over the
 * daemon's socket.
 */
#ifndef JEFE_REPORT_H
#define JEFE_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "finding.h"

struct json_object;

/* The report document: {"version":1, "compliant":..., "layers":[...], "findings":[...]} */
int report_build(const struct findings *fs, struct json_object **out);
int report_parse(const char *text, struct json_object **out);
/* findings <- document (the CLI rebuilds findings from a daemon reply). */
int report_to_findings(struct json_object *doc, struct findings *fs);

enum report_format {
	REPORT_TEXT,
	REPORT_JSON,
};

enum report_verb {
	REPORT_STATUS,		/* summary per layer, then every non-compliant item */
	REPORT_ENFORCE,		/* what changed, what could not */
	REPORT_DRY_RUN,		/* what would change */
};

int report_print(FILE *out, struct json_object *doc, enum report_format fmt,
		 enum report_verb verb);

/* The exit code of `jefe status`: 0 compliant, 2 drift, 1 error. */
int report_exit_code(const struct findings *fs);

#endif
