/* SPDX-License-Identifier: MIT */
/*
 * What jefe-setup publishes (daemon_publish.c): the report document, the
 * status file and the metrics, written after each pass.
 */
#ifndef JEFE_DAEMON_PUBLISH_H
#define JEFE_DAEMON_PUBLISH_H

#include <stdbool.h>
#include <time.h>

#include "daemon.h"
#include "finding.h"
#include "report.h"

struct json_object;

/*
 * The report document of a findings list made at `when`; live: the
 * findings are the daemon's live state, each layer with its own
 * checked_at and verified_by.
 */
int daemon_report(struct daemon *d, const struct findings *fs, const char *kind, time_t when,
		  bool live, struct json_object **doc);
/* daemon_report() of several findings lists (report_build_parts()). */
int daemon_report_parts(struct daemon *d, const struct report_part *parts, size_t n,
			const char *kind, time_t when, bool live, struct json_object **doc);
/*
 * The live state as parts: each loaded layer of the mask `only`, its
 * latest findings, then `extra`.  With their text, rendered once per pass
 * that changed them: PLAIN for the compact document (`last_json`), PRETTY
 * for the JSON view (`last_json_pretty`); NONE for the text view, which
 * prints from the findings.  parts has room for DAEMON_STATE_PARTS.
 */
#define DAEMON_STATE_PARTS (DAEMON_MAX_LAYERS + 1)
enum daemon_rendered {
	DAEMON_RENDERED_NONE,
	DAEMON_RENDERED_PLAIN,
	DAEMON_RENDERED_PRETTY,
};
int daemon_state_parts(struct daemon *d, uint32_t only, const struct findings *extra,
		       enum daemon_rendered rendered, struct report_part *parts, size_t *n);
/* status.json and the metrics file from each layer's latest findings. */
int daemon_publish(struct daemon *d);
/* The `policy:disk` error of a refused reload, if there is one. */
int daemon_reload_refused_finding(const struct daemon *d, struct findings *fs);

#endif
