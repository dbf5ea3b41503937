/* SPDX-License-Identifier: MIT */
/*
 * What jefe-setup tells the world besides its log: the report document
 * of a findings list (for the socket and the status file), the status
 * file and node_exporter metrics written after each pass.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "daemon.h"
#include "daemon_pass.h"
#include "daemon_publish.h"
#include "errors.h"
#include "finding.h"
#include "layer.h"
#include "log.h"
#include "policy.h"
#include "report.h"
#include "rootfs.h"
#include "util.h"

/* The running policy's digest: the policy never changes, a reload swaps it. */
static const char *daemon_policy_digest(struct daemon *d)
{
	if (d->digest_of != d->policy || d->digest_gen != d->generation) {
		(void)policy_digest(d->policy, d->policy_digest);
		d->digest_of = d->policy;
		d->digest_gen = d->generation;
	}
	return d->policy_digest;
}

/* The report document of parts made at `when`; live: see daemon_report(). */
int daemon_report_parts(struct daemon *d, const struct report_part *parts, size_t n,
			       const char *kind, time_t when, bool live,
			       struct json_object **doc)
{
	struct report_meta meta = { .kind = kind, .time = when,
				    .mode = policy_mode_name(d->policy->mode) };
	int rc;

	*doc = NULL;
	rc = report_meta_host(&meta, d->env.root_fd);
	snprintf(meta.policy_digest, sizeof(meta.policy_digest), "%s", daemon_policy_digest(d));
	if (rc == 0)
		rc = report_build_parts(parts, n, doc);
	if (rc == 0)
		rc = report_add_meta(*doc, &meta);
	for (unsigned int i = 0; live && rc == 0 && i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++)
		if (d->set.state[i] != NULL && d->verified_by[i] != DAEMON_VERIFIED_NONE)
			rc = report_layer_verified(*doc, jefe_layers[i]->name, d->last_at[i],
						   daemon_verified_name(d->verified_by[i]));
	if (rc < 0 && *doc != NULL) {
		json_object_put(*doc);
		*doc = NULL;
	}
	return rc;
}

/*
 * The report document of a findings list made at `when`.  live: the
 * findings are the daemon's live state, so each layer carries the time
 * and the cause of its own latest pass instead of `when`.
 */
int daemon_report(struct daemon *d, const struct findings *fs, const char *kind,
		  time_t when, bool live, struct json_object **doc)
{
	return daemon_report_parts(d, &(struct report_part){ .fs = fs }, 1, kind, when, live, doc);
}

int daemon_state_parts(struct daemon *d, uint32_t only, const struct findings *extra,
		       enum daemon_rendered rendered, struct report_part *parts, size_t *n)
{
	*n = 0;
	for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++) {
		char **text = rendered == DAEMON_RENDERED_PLAIN ? &d->last_json[i] :
			      rendered == DAEMON_RENDERED_PRETTY ? &d->last_json_pretty[i] : NULL;
		int rc;

		if (d->set.state[i] == NULL || !layer_mask_has(only, i))
			continue;
		if (text != NULL && *text == NULL) {
			rc = rendered == DAEMON_RENDERED_PLAIN ?
			     report_findings_render(&d->last[i], text) :
			     report_findings_render_pretty(&d->last[i], text);
			if (rc < 0)
				return rc;
		}
		parts[(*n)++] = (struct report_part){ .fs = &d->last[i],
						      .rendered = text ? *text : NULL };
	}
	parts[(*n)++] = (struct report_part){ .fs = extra };
	return 0;
}

/* Write below the root, making the directory first. */
static int daemon_write_file(struct daemon *d, const char *path, const char *data, size_t len,
			     unsigned int mode)
{
	char dir[PATH_MAX];
	char *slash;
	int rc;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		rc = rootfs_mkdir_p(d->env.root_fd, dir, 0755);
		if (rc < 0)
			return rc;
	}
	return rootfs_write_atomic(d->env.root_fd, path, data, len, mode);
}

/*
 * The last full report, for a collector that reads files: root and
 * status_group may read it, as they may ask the daemon.
 */
static int daemon_write_status(struct daemon *d, const struct findings *all, time_t when)
{
	struct json_object *doc = NULL;
	const char *text;
	int rc = daemon_report(d, all, "status", when, true, &doc);

	if (rc < 0)
		return rc;
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY);
	if (text == NULL)
		rc = -ENOMEM;
	else
		rc = daemon_write_file(d, DAEMON_STATUS_FILE, text, strlen(text), 0640);
	if (rc == 0 && d->status_gid_valid) {
		int fd = rootfs_open(d->env.root_fd, DAEMON_STATUS_FILE, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fchown(fd, 0, d->status_gid) < 0)
			rc = fd < 0 ? fd : -errno;
		if (fd >= 0)
			close(fd);
	}
	json_object_put(doc);
	return rc;
}

/* node_exporter's textfile collector format; names as Prometheus wants them. */
static int daemon_write_metrics(struct daemon *d, const char *path)
{
	static const char *const results[] = { "repaired", "failed", "cannot-fix" };
	static const enum finding_state states[] = {
		FINDING_COMPLIANT, FINDING_DRIFT, FINDING_ERROR, FINDING_UNSUPPORTED,
	};
	char digest[POLICY_DIGEST_HEX], *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc;

	if (f == NULL)
		return -ENOMEM;
	snprintf(digest, sizeof(digest), "%s", daemon_policy_digest(d));
#define EACH_LAYER(i) \
	for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++) \
		if (d->set.state[i] != NULL)
	fprintf(f, "# HELP jefe_info The running agent and the digest of its merged policy.\n"
		"# TYPE jefe_info gauge\n"
		"jefe_info{agent_version=\"%s\",policy_digest=\"%s\"} 1\n",
		PACKAGE_VERSION, digest);
	fprintf(f, "# HELP jefe_layer_compliant 1 when the layer's latest check found no drift and no error.\n"
		"# TYPE jefe_layer_compliant gauge\n");
	EACH_LAYER(i) {
		struct findings_count c = findings_count(&d->last[i], NULL);

		fprintf(f, "jefe_layer_compliant{layer=\"%s\"} %d\n", jefe_layers[i]->name,
			c.drift == 0 && c.error == 0);
	}
	fprintf(f, "# HELP jefe_findings Items of the layer's latest check, by state.\n"
		"# TYPE jefe_findings gauge\n");
	EACH_LAYER(i) {
		for (size_t s = 0; s < ARRAY_SIZE(states); s++) {
			size_t n = 0;

			for (size_t k = 0; k < d->last[i].n; k++)
				n += d->last[i].v[k].state == states[s];
			fprintf(f, "jefe_findings{layer=\"%s\",state=\"%s\"} %zu\n",
				jefe_layers[i]->name, finding_state_name(states[s]), n);
		}
	}
	fprintf(f, "# HELP jefe_drift_total Drifted items found after the first pass, since the agent started.\n"
		"# TYPE jefe_drift_total counter\n");
	EACH_LAYER(i)
		fprintf(f, "jefe_drift_total{layer=\"%s\"} %lu\n", jefe_layers[i]->name,
			d->drift_total[i]);
	fprintf(f, "# HELP jefe_repairs_total Outcomes of repairs of drift, by result, since the agent started.\n"
		"# TYPE jefe_repairs_total counter\n");
	EACH_LAYER(i) {
		for (size_t r = 0; r < ARRAY_SIZE(results); r++)
			fprintf(f, "jefe_repairs_total{layer=\"%s\",result=\"%s\"} %lu\n",
				jefe_layers[i]->name, results[r], d->repairs_total[i][r]);
	}
	fprintf(f, "# HELP jefe_applied_total Items changed by the first application of the policy (start, reload).\n"
		"# TYPE jefe_applied_total counter\n");
	EACH_LAYER(i)
		fprintf(f, "jefe_applied_total{layer=\"%s\"} %lu\n", jefe_layers[i]->name,
			d->applied_total[i]);
	fprintf(f, "# HELP jefe_last_check_timestamp_seconds When the layer was last checked (Unix time).\n"
		"# TYPE jefe_last_check_timestamp_seconds gauge\n");
	EACH_LAYER(i)
		fprintf(f, "jefe_last_check_timestamp_seconds{layer=\"%s\"} %lld\n",
			jefe_layers[i]->name, (long long)d->last_at[i]);
#undef EACH_LAYER
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	rc = daemon_write_file(d, path, text, len, 0644);
	free(text);
	return rc;
}

/*
 * After each pass: the full report and the metrics, each replaced
 * atomically so a reader never sees half of one.  A failure is logged
 * once per kind of failure and does not stop the daemon.
 */
int daemon_publish(struct daemon *d)
{
	struct findings all = { 0 };
	time_t when = time(NULL);
	int rc = 0;

	d->publish_ms = clock_ms();
	d->publish_pending = false;

	for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS && rc == 0; i++)
		rc = findings_append(&all, &d->last[i]);
	/* What `jefe status` through the daemon would add: fights, a refused reload. */
	if (rc == 0) {
		daemon_fights_mark(d, &all);
		rc = daemon_reload_refused_finding(d, &all);
	}
	if (rc == 0)
		rc = daemon_write_status(d, &all, when);
	findings_free(&all);
	if (rc < 0 && rc != d->publish_error)
		log_msg(&d->log, LOG_ERR, "error item=status-file path=%s msg=%s",
			DAEMON_STATUS_FILE, jefe_strerror(rc));
	d->publish_error = rc;
	if (rc == -ENOMEM || d->policy->metrics_file == NULL || d->policy->metrics_file[0] == '\0')
		return rc;
	rc = daemon_write_metrics(d, d->policy->metrics_file);
	if (rc < 0 && rc != d->metrics_error)
		log_msg(&d->log, LOG_ERR, "error item=metrics-file path=%s msg=%s",
			d->policy->metrics_file, jefe_strerror(rc));
	d->metrics_error = rc;
	return rc;
}

/*
 * A refused reload leaves the daemon on a policy that is no longer the
 * one on disk: an error in every status until a reload succeeds, so that
 * the admin who forgot to look at the log sees it.
 */
int daemon_reload_refused_finding(const struct daemon *d, struct findings *fs)
{
	char note[1200];

	if (d->reload_refused == NULL)
		return 0;
	snprintf(note, sizeof(note),
		 "running policy differs from disk (refused: %s); fix the files, then `rc-service jefe reload`",
		 d->reload_refused);
	return findings_add(fs, &(struct finding){
		.layer = "policy",
		.item = "disk",
		.expected = "the policy on disk",
		.actual = "refused at reload",
		.state = FINDING_ERROR,
		.note = note,
	});
}
