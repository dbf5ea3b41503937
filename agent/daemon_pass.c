/* SPDX-License-Identifier: MIT */
/*
 * jefe-setup's passes: check each layer and, in enforce mode, repair it;
 * log what changed (drift, noncompliant, applied, compliant) once; keep
 * what each layer's latest pass found; count a repair that something
 * keeps undoing as a fight instead of logging it every time.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "daemon_pass.h"
#include "daemon_publish.h"
#include "errors.h"
#include "finding.h"
#include "layer.h"
#include "log.h"
#include "policy.h"
#include "util.h"

/*
 * A fight: this many repairs of one item, each less than a window apart,
 * make it "contested"; a window without a repair ends the fight.  The
 * summary of a fight that goes on is logged at most once a window.  An
 * admin trying things out repairs an item a few times a minute (the
 * tests of the sshd layer do); a process undoing a repair in a loop, tens
 * of times a second.  The start and reload passes do not count.
 */
#define DAEMON_FIGHT_REPAIRS	5
#define DAEMON_FIGHT_WINDOW_MS	60000

/* The daemon's short name for log_kv(), used on every line. */
static const char *kv(char *buf, size_t size, const char *s)
{
	return log_kv(buf, size, s);
}

enum policy_mode daemon_layer_mode(const struct daemon *d, unsigned int i)
{
	enum policy_mode m = d->set.mode[i];

	return m == POLICY_MODE_INHERIT ? d->policy->mode : m;
}

/*
 * Log one drift item.  A repair is an event and is always logged; drift
 * that stays (report mode, cannot-fix, failed) is logged when it first
 * appears or changes, not at every backstop tick: `seen` collects this
 * pass's keys, `old` holds the previous pass's.
 */
static void daemon_drift_key(char *key, size_t size, const struct finding *f, const char *action)
{
	snprintf(key, size, "%s\x1f%s\x1f%s\x1f%s\x1f%d", f->item,
		 f->expected ? f->expected : "", f->actual ? f->actual : "",
		 action, (int)f->state);
}

/* ---- fights: a repair that something keeps undoing ------------------- */

static struct daemon_fight *daemon_fight_find(struct daemon *d, unsigned int i, const char *item)
{
	struct daemon_fights *fs = &d->fights[i];

	for (size_t k = 0; k < fs->n; k++)
		if (strcmp(fs->v[k].item, item) == 0)
			return &fs->v[k];
	return NULL;
}

static void daemon_fight_ended(struct daemon *d, unsigned int i, const struct daemon_fight *f)
{
	char b[512];

	log_msg(&d->log, LOG_NOTICE,
		"contested layer=%s item=%s repairs=%lu seconds=%lld since_last_line=%lu state=ended",
		jefe_layers[i]->name, kv(b, sizeof(b), f->item), f->repairs,
		(f->last_ms - f->first_ms) / 1000, f->unlogged);
}

/*
 * Forget fights whose last repair is a window old; the ones that had
 * become contested say so once.  Called before every pass.
 */
static void daemon_fights_expire(struct daemon *d)
{
	long long now = clock_ms();

	for (unsigned int i = 0; i < DAEMON_MAX_LAYERS; i++) {
		struct daemon_fights *fs = &d->fights[i];

		for (size_t k = 0; k < fs->n;) {
			struct daemon_fight *f = &fs->v[k];

			if (now - f->last_ms <= DAEMON_FIGHT_WINDOW_MS) {
				k++;
				continue;
			}
			if (f->contested)
				daemon_fight_ended(d, i, f);
			free(f->item);
			fs->v[k] = fs->v[--fs->n];
		}
	}
}

/*
 * Count a repair of one item.  Returns true when its drift line is to be
 * logged as usual: the first repairs of a run are; once the item is
 * contested, one `contested` line says so and then a summary at most
 * once a window carries the count.
 */
static bool daemon_fight_repaired(struct daemon *d, unsigned int i, const char *item)
{
	struct daemon_fights *fs = &d->fights[i];
	struct daemon_fight *f = daemon_fight_find(d, i, item);
	long long now = clock_ms();
	char b[512];

	if (f == NULL) {
		struct daemon_fight *v = array_grow(fs->v, fs->n, &fs->cap, sizeof(*fs->v));
		char *copy = strdup(item);

		if (v == NULL || copy == NULL) {
			free(copy);
			if (v != NULL)
				fs->v = v;
			return true;	/* no memory to count: log as usual */
		}
		fs->v = v;
		f = &fs->v[fs->n++];
		*f = (struct daemon_fight){ .item = copy };
	} else if (now - f->last_ms > DAEMON_FIGHT_WINDOW_MS) {
		if (f->contested)
			daemon_fight_ended(d, i, f);
		*f = (struct daemon_fight){ .item = f->item };
	}
	if (f->repairs++ == 0)
		f->first_ms = now;
	f->last_ms = now;
	if (!f->contested) {
		if (f->repairs < DAEMON_FIGHT_REPAIRS)
			return true;
		f->contested = true;
		f->logged_ms = now;
		f->unlogged = 0;
		log_msg(&d->log, LOG_WARNING,
			"contested layer=%s item=%s repairs=%lu seconds=%lld msg=%s",
			jefe_layers[i]->name, kv(b, sizeof(b), item), f->repairs,
			(now - f->first_ms) / 1000,
			"\"something keeps undoing this repair; still repairing, one summary a minute\"");
		return false;
	}
	f->unlogged++;
	if (now - f->logged_ms >= DAEMON_FIGHT_WINDOW_MS) {
		log_msg(&d->log, LOG_WARNING,
			"contested layer=%s item=%s repairs=%lu seconds=%lld since_last_line=%lu state=ongoing",
			jefe_layers[i]->name, kv(b, sizeof(b), item), f->repairs,
			(now - f->first_ms) / 1000, f->unlogged);
		f->logged_ms = now;
		f->unlogged = 0;
	}
	return false;
}

bool daemon_fights_any(const struct daemon *d)
{
	long long now = clock_ms();

	for (unsigned int i = 0; i < DAEMON_MAX_LAYERS; i++)
		for (size_t k = 0; k < d->fights[i].n; k++)
			if (d->fights[i].v[k].contested &&
			    now - d->fights[i].v[k].last_ms <= DAEMON_FIGHT_WINDOW_MS)
				return true;
	return false;
}

/* Mark the findings of a status reply whose item is being fought over. */
void daemon_fights_mark(struct daemon *d, struct findings *fs)
{
	long long now = clock_ms();

	for (size_t k = 0; k < fs->n; k++) {
		struct finding *f = &fs->v[k];

		for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++) {
			const struct daemon_fight *fight;

			if (strcmp(jefe_layers[i]->name, f->layer) != 0)
				continue;
			fight = daemon_fight_find(d, i, f->item);
			if (fight != NULL && fight->contested &&
			    now - fight->last_ms <= DAEMON_FIGHT_WINDOW_MS)
				f->contested = fight->repairs;
			break;
		}
	}
}

/*
 * True when every drifted item of this check is one the last pass already
 * found impossible to fix (a lockdown level that only a reboot lowers):
 * applying again would be futile, and must not turn into a loop.
 */
static bool daemon_drift_all_cannot_fix(const struct daemon *d, unsigned int i,
					const struct findings *chk)
{
	char key[2048];
	size_t drift = 0;

	for (size_t k = 0; k < chk->n; k++) {
		if (chk->v[k].state != FINDING_DRIFT)
			continue;
		drift++;
		daemon_drift_key(key, sizeof(key), &chk->v[k], "cannot-fix");
		if (!strv_contains(&d->noted[i], key))
			return false;
	}
	return drift > 0;
}

/*
 * Returns true when a line was logged.  fight: a pass after the first one
 * (not the start or a reload): its lines are `drift`, and a repair counts
 * towards a fight; the first pass's are `noncompliant`.
 */
static bool daemon_log_drift(struct daemon *d, unsigned int i, const struct finding *f,
			     const char *action, const struct strv *old, struct strv *seen,
			     bool fight)
{
	/* A pass after the first one sees changes; the first one, the state. */
	const char *word = fight ? "drift" : "noncompliant";
	char b1[512], b2[512], b3[512], b4[512], b5[512], key[2048], refs[256];
	bool repaired = strcmp(action, "repaired") == 0;

	if (!repaired) {
		daemon_drift_key(key, sizeof(key), f, action);
		(void)strv_push(seen, key);
		if (strv_contains(old, key))
			return false;
	} else if (fight && !daemon_fight_repaired(d, i, f->item)) {
		return false;
	}
	if (f->state == FINDING_ERROR) {
		log_msg(&d->log, LOG_ERR, "error layer=%s item=%s msg=%s",
			jefe_layers[i]->name, kv(b1, sizeof(b1), f->item),
			kv(b2, sizeof(b2), f->note ? f->note : "unknown error"));
		return true;
	}
	log_msg(&d->log, repaired ? LOG_NOTICE : LOG_WARNING,
		"%s layer=%s item=%s expected=%s actual=%s action=%s%s%s%s%s",
		word, jefe_layers[i]->name, kv(b1, sizeof(b1), f->item),
		kv(b2, sizeof(b2), f->expected), kv(b3, sizeof(b3), f->actual), action,
		f->refs.n ? " ref=" : "",
		f->refs.n ? kv(b5, sizeof(b5), finding_refs_format(&f->refs, refs, sizeof(refs))) : "",
		f->note && !repaired ? " note=" : "",
		f->note && !repaired ? kv(b4, sizeof(b4), f->note) : "");
	return true;
}

/* Count one drifted item's outcome (metrics); the first pass's are `applied`. */
static void daemon_count_outcome(struct daemon *d, unsigned int i, const char *action,
				 bool first_pass)
{
	static const char *const results[] = { "repaired", "failed", "cannot-fix" };

	if (!first_pass)
		d->drift_total[i]++;
	for (size_t r = 0; r < ARRAY_SIZE(results); r++)
		if (strcmp(action, results[r]) == 0 && !(first_pass && r == 0))
			d->repairs_total[i][r]++;
}

/*
 * The outcome of one drifted item of an enforce pass, decided by the
 * check made after the repair, not by apply's own list: one change can
 * fix several items (a chmod fixes a file's mode and its o+w finding),
 * and apply names only the one it acted on.
 */
static const char *daemon_repair_outcome(const struct finding *app, const struct finding *re)
{
	/* Absent after the repair: the offending thing is gone (a rule, a file). */
	if (re == NULL || re->state == FINDING_COMPLIANT)
		return "repaired";
	if (app != NULL && (app->action == FINDING_ACTION_CANNOT_FIX ||
			    app->action == FINDING_ACTION_FAILED))
		return finding_action_name(app->action);
	return "failed";
}

/*
 * Check one layer and, in enforce mode, repair it: check first so that a
 * compliant layer is never written to, and so the drift line carries the
 * value found before the repair; check again after the repair to decide
 * each item's outcome.  force_apply (start, reload) applies an
 * enforce-mode layer even when the check found nothing, so that whatever
 * apply does beyond the checked items (persistence files) happens too.
 *
 * `drift` is a change found after the first pass (force_apply: start,
 * reload): an item the agent had seen compliant that changed, or a new
 * offending item (a set-id file, a foreign rule).  The first pass is the
 * policy being applied, not tampering: its repairs are one `applied
 * layer=L items=N` line per layer, and what it leaves wrong is
 * `noncompliant`, so that a log collector can tell a boot from an attack.
 */
static int daemon_layer_pass(struct daemon *d, unsigned int i, bool force_apply,
			     enum daemon_verified how)
{
	const struct layer_ops *ops = jefe_layers[i];
	struct findings chk = { 0 }, app = { 0 }, re = { 0 };
	struct strv seen = { 0 };
	bool enforce = daemon_layer_mode(d, i) == POLICY_MODE_ENFORCE;
	bool futile = false, applied_now = false;
	time_t when = time(NULL);
	long long start_ms = clock_ms();
	size_t drift = 0, bad = 0, repairs_logged = 0, applied = 0;
	int rc;

	if (d->set.state[i] == NULL) {
		findings_free(&d->last[i]);
		free(d->last_json[i]);
		d->last_json[i] = NULL;
		return 0;
	}
	rc = layer_set_check(&d->set, LAYER_BIT(i), &chk);
	if (rc < 0)
		goto out;
	for (size_t k = 0; k < chk.n; k++)
		if (chk.v[k].state == FINDING_DRIFT)
			drift++;
	if (enforce && !force_apply)
		futile = daemon_drift_all_cannot_fix(d, i, &chk);
	if (enforce && !futile && (drift > 0 || force_apply)) {
		d->env.unattended = true;
		rc = layer_set_apply(&d->set, LAYER_BIT(i), false, true, &app);
		d->env.unattended = false;
		if (rc < 0)
			goto out;
		rc = layer_set_check(&d->set, LAYER_BIT(i), &re);
		if (rc < 0)
			goto out;
		applied_now = true;
	}

	for (size_t k = 0; k < chk.n; k++) {
		const struct finding *f = &chk.v[k];
		const struct finding *a = NULL;
		struct finding shown;
		const char *action;

		if (f->state == FINDING_ERROR) {
			bad++;
			daemon_log_drift(d, i, f, "none", &d->noted[i], &seen, false);
			continue;
		}
		if (f->state != FINDING_DRIFT)
			continue;
		if (!enforce) {
			action = "reported";
		} else if (futile) {
			action = "cannot-fix";
		} else {
			a = findings_find(&app, f->item);
			action = daemon_repair_outcome(a, findings_find(&re, f->item));
		}
		daemon_count_outcome(d, i, action, force_apply);
		if (strcmp(action, "repaired") != 0) {
			bad++;
		} else if (force_apply) {
			applied++;
			continue;
		}
		/* The value found by the check, the reason given by apply. */
		shown = *f;
		if (shown.note == NULL && a != NULL)
			shown.note = a->note;
		if (daemon_log_drift(d, i, &shown, action, &d->noted[i], &seen, !force_apply) &&
		    strcmp(action, "repaired") == 0)
			repairs_logged++;
	}
	/* Whatever apply did that the check had not flagged (persistence files). */
	for (size_t k = 0; k < app.n; k++) {
		const struct finding *a = &app.v[k];
		const struct finding *f = findings_find(&chk, a->item);

		if (f != NULL && (f->state == FINDING_DRIFT || f->state == FINDING_ERROR))
			continue;
		if (a->action == FINDING_ACTION_REPAIRED) {
			if (force_apply)
				applied++;
			else if (daemon_log_drift(d, i, a, "repaired", &d->noted[i], &seen, true))
				repairs_logged++;
		} else if (a->action == FINDING_ACTION_FAILED ||
			   a->action == FINDING_ACTION_CANNOT_FIX || a->state == FINDING_ERROR) {
			bad++;
			daemon_log_drift(d, i, a, finding_action_name(a->action),
					 &d->noted[i], &seen, !force_apply);
		}
	}

	d->applied_total[i] += applied;
	findings_free(&d->last[i]);
	free(d->last_json[i]);
	d->last_json[i] = NULL;
	d->last[i] = applied_now ? re : chk;
	if (applied_now)
		re = (struct findings){ 0 };
	else
		chk = (struct findings){ 0 };
	d->last_at[i] = when;
	d->verified_by[i] = how;
	if (applied > 0)
		log_msg(&d->log, LOG_NOTICE, "applied layer=%s items=%zu", ops->name, applied);
	/* A repair of a contested item is not news: its summary says it. */
	if (bad == 0 && (d->drifted[i] || repairs_logged > 0 || applied > 0))
		log_msg(&d->log, LOG_NOTICE, "compliant layer=%s items=%zu", ops->name, chk.n);
	d->drifted[i] = bad > 0;
	strv_free(&d->noted[i]);
	d->noted[i] = seen;
	seen = (struct strv){ 0 };
out:
	if (rc < 0)
		log_msg(&d->log, LOG_ERR, "error layer=%s item=layer msg=%s", ops->name,
			jefe_strerror(rc));
	d->pass_end_ms[i] = clock_ms();
	d->pass_ms[i] = d->pass_end_ms[i] - start_ms;
	log_msg(&d->log, LOG_DEBUG, "checked layer=%s by=%s ms=%lld", ops->name,
		daemon_verified_name(how), d->pass_ms[i]);
	strv_free(&seen);
	findings_free(&chk);
	findings_free(&app);
	findings_free(&re);
	return rc;
}

int daemon_pass_layers(struct daemon *d, uint32_t only, bool force_apply,
		       enum daemon_verified how)
{
	int rc = 0;

	daemon_fights_expire(d);
	for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++) {
		int r;

		if (!layer_mask_has(only, i))
			continue;
		r = daemon_layer_pass(d, i, force_apply, how);
		if (r == -ENOMEM)
			return r;
		if (r < 0 && rc == 0)
			rc = r;
		d->dirty[i] = false;
	}
	daemon_debounce_schedule(d);
	return daemon_publish(d) == -ENOMEM ? -ENOMEM : rc;
}

int daemon_pass_all(struct daemon *d, bool force_apply, enum daemon_verified how)
{
	return daemon_pass_layers(d, 0, force_apply, how);
}

int daemon_pass_dirty(struct daemon *d)
{
	bool any = false;

	for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++)
		any = any || d->dirty[i];
	/* A request ran the check the debounce timer was armed for. */
	if (!any)
		return 0;
	daemon_fights_expire(d);
	for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++) {
		if (!d->dirty[i])
			continue;
		d->dirty[i] = false;
		if (daemon_layer_pass(d, i, false, d->dirty_by[i]) == -ENOMEM)
			return -ENOMEM;
	}
	daemon_debounce_schedule(d);
	return daemon_publish(d) == -ENOMEM ? -ENOMEM : 0;
}

int daemon_pass_due(struct daemon *d)
{
	bool any = false;

	daemon_fights_expire(d);
	for (;;) {
		long long now = clock_ms();
		unsigned int best = DAEMON_MAX_LAYERS;

		/* The cheapest due layer first: one slow layer waits, not all. */
		for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++)
			if (d->dirty[i] && daemon_layer_due(d, i) <= now &&
			    (best == DAEMON_MAX_LAYERS || d->pass_ms[i] < d->pass_ms[best]))
				best = i;
		if (best == DAEMON_MAX_LAYERS)
			break;
		d->dirty[best] = false;
		if (daemon_layer_pass(d, best, false, d->dirty_by[best]) == -ENOMEM)
			return -ENOMEM;
		any = true;
		/*
		 * What happened during that pass: a quiet layer's change is then
		 * due before a busy layer's next turn, which its backoff delays.
		 */
		daemon_events_drain(d);
	}
	if (any)
		d->publish_pending = true;
	/*
	 * Each write of the status file and the metrics is two fsyncs: under
	 * a burst of events, at most one every DAEMON_PUBLISH_MIN_MS, and the
	 * debounce timer brings the last one.
	 */
	if (d->publish_pending && clock_ms() - d->publish_ms >= DAEMON_PUBLISH_MIN_MS)
		return daemon_publish(d) == -ENOMEM ? -ENOMEM : 0;
	return 0;
}

int daemon_state_findings(const struct daemon *d, uint32_t only, struct findings *out)
{
	for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++) {
		int rc;

		if (d->set.state[i] == NULL || !layer_mask_has(only, i))
			continue;
		rc = findings_append(out, &d->last[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

const char *daemon_verified_name(enum daemon_verified v)
{
	switch (v) {
	case DAEMON_VERIFIED_START:
		return "start";
	case DAEMON_VERIFIED_RELOAD:
		return "reload";
	case DAEMON_VERIFIED_EVENT:
		return "event";
	case DAEMON_VERIFIED_TIMER:
		return "timer";
	case DAEMON_VERIFIED_REQUEST:
		return "request";
	case DAEMON_VERIFIED_ENFORCE:
		return "enforce";
	case DAEMON_VERIFIED_NONE:
		break;
	}
	return "none";
}

void daemon_pass_fini(struct daemon *d)
{
	for (unsigned int i = 0; i < DAEMON_MAX_LAYERS; i++) {
		findings_free(&d->last[i]);
		free(d->last_json[i]);
		d->last_json[i] = NULL;
		strv_free(&d->noted[i]);
		for (size_t k = 0; k < d->fights[i].n; k++)
			free(d->fights[i].v[k].item);
		free(d->fights[i].v);
		d->fights[i] = (struct daemon_fights){ 0 };
	}
}
