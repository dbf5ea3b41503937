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
#include <sched.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "child.h"
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
/* What a pass of one layer did: its check, its repair and the check after. */
struct daemon_pass_out {
	struct findings chk, app, re;
	bool applied_now;	/* app and re are this pass's */
	bool futile;		/* every drift was already found impossible to fix */
	bool follow_up;		/* a burst's pass in a child, at a lower priority */
	int rc;
};

static void daemon_pass_out_free(struct daemon_pass_out *o)
{
	findings_free(&o->chk);
	findings_free(&o->app);
	findings_free(&o->re);
}

/*
 * The work of a pass, on the system: what the loop does for most layers,
 * and a child process for a layer that runs programs.  Touches nothing of
 * the daemon but the layer's state (a child's copy of it).
 */
static void daemon_layer_work(struct daemon *d, unsigned int i, bool force_apply,
			      struct daemon_pass_out *o)
{
	bool enforce = daemon_layer_mode(d, i) == POLICY_MODE_ENFORCE;
	size_t drift = 0;

	o->rc = layer_set_check(&d->set, LAYER_BIT(i), &o->chk);
	if (o->rc < 0)
		return;
	for (size_t k = 0; k < o->chk.n; k++)
		if (o->chk.v[k].state == FINDING_DRIFT)
			drift++;
	if (enforce && !force_apply)
		o->futile = daemon_drift_all_cannot_fix(d, i, &o->chk);
	if (enforce && !o->futile && (drift > 0 || force_apply)) {
		d->env.unattended = true;
		o->rc = layer_set_apply(&d->set, LAYER_BIT(i), false, true, &o->app);
		d->env.unattended = false;
		if (o->rc < 0)
			return;
		o->rc = layer_set_check(&d->set, LAYER_BIT(i), &o->re);
		if (o->rc < 0)
			return;
		o->applied_now = true;
	}
}

/* Whether a layer's findings hold an item its pass could not check. */
static bool daemon_findings_errored(const struct findings *f)
{
	for (size_t k = 0; k < f->n; k++)
		if (f->v[k].state == FINDING_ERROR)
			return true;
	return false;
}

/*
 * A pass that could not check (sshd -T past its deadline on a machine
 * busy booting, a program briefly missing) leaves its layer in error; the
 * next event or the backstop would try again, and the backstop is minutes
 * away.  Try again after DAEMON_RETRY_MIN_MS instead, doubling the wait
 * per failed try up to the backstop interval, so a layer that keeps
 * failing costs no more than the backstop does.  An event meanwhile takes
 * the layer at once (daemon_recheck()).  A layer already dirty (an event
 * during the pass) is checked again soon anyway: no retry, and no longer
 * wait either.
 */
static void daemon_retry_after(struct daemon *d, unsigned int i, bool errored)
{
	long long cap = d->policy != NULL ? (long long)d->policy->check_interval * 1000 : 0;

	if (!errored) {
		d->retry_ms[i] = 0;
		return;
	}
	if (d->dirty[i])
		return;
	d->retry_ms[i] = d->retry_ms[i] == 0 ? DAEMON_RETRY_MIN_MS : d->retry_ms[i] * 2;
	if (cap > 0 && d->retry_ms[i] > cap)
		d->retry_ms[i] = cap;
	d->dirty[i] = true;
	d->dirty_by[i] = DAEMON_VERIFIED_TIMER;
	d->dirty_ms[i] = clock_ms() + d->retry_ms[i];
	log_msg(&d->log, LOG_INFO, "retry layer=%s in_ms=%lld", jefe_layers[i]->name,
		d->retry_ms[i]);
	daemon_debounce_schedule(d);
}

/*
 * Log and keep what a pass found: its lines, counters and fights, and the
 * layer's latest findings (`last`).  Frees o.
 */
static int daemon_layer_record(struct daemon *d, unsigned int i, bool force_apply,
			       enum daemon_verified how, time_t when, long long start_ms,
			       struct daemon_pass_out *o)
{
	const struct layer_ops *ops = jefe_layers[i];
	struct strv seen = { 0 };
	bool enforce = daemon_layer_mode(d, i) == POLICY_MODE_ENFORCE;
	size_t bad = 0, repairs_logged = 0, applied = 0;
	int rc = o->rc;

	if (rc < 0)
		goto out;
	for (size_t k = 0; k < o->chk.n; k++) {
		const struct finding *f = &o->chk.v[k];
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
		} else if (o->futile) {
			action = "cannot-fix";
		} else {
			a = findings_find(&o->app, f->item);
			action = daemon_repair_outcome(a, findings_find(&o->re, f->item));
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
	for (size_t k = 0; k < o->app.n; k++) {
		const struct finding *a = &o->app.v[k];
		const struct finding *f = findings_find(&o->chk, a->item);

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
	free(d->last_json_pretty[i]);
	d->last_json_pretty[i] = NULL;
	d->last[i] = o->applied_now ? o->re : o->chk;
	if (o->applied_now)
		o->re = (struct findings){ 0 };
	else
		o->chk = (struct findings){ 0 };
	d->last_at[i] = when;
	d->verified_by[i] = how;
	if (applied > 0)
		log_msg(&d->log, LOG_NOTICE, "applied layer=%s items=%zu", ops->name, applied);
	/* A repair of a contested item is not news: its summary says it. */
	if (bad == 0 && (d->drifted[i] || repairs_logged > 0 || applied > 0))
		log_msg(&d->log, LOG_NOTICE, "compliant layer=%s items=%zu", ops->name,
			o->applied_now ? o->chk.n : d->last[i].n);
	d->drifted[i] = bad > 0;
	strv_free(&d->noted[i]);
	d->noted[i] = seen;
	seen = (struct strv){ 0 };
out:
	if (rc < 0)
		log_msg(&d->log, LOG_ERR, "error layer=%s item=layer msg=%s", ops->name,
			jefe_strerror(rc));
	d->pass_end_ms[i] = clock_ms();
	daemon_retry_after(d, i, rc < 0 || daemon_findings_errored(&d->last[i]));
	d->pass_ms[i] = d->pass_end_ms[i] - start_ms;
	/*
	 * waited: from the loop's seeing the event to the pass's start;
	 * nice: a burst's follow-up pass (daemon_worker_start()).
	 */
	log_msg(&d->log, LOG_DEBUG, "checked layer=%s by=%s ms=%lld waited=%lld nice=%d",
		ops->name, daemon_verified_name(how), d->pass_ms[i],
		how == DAEMON_VERIFIED_EVENT && start_ms >= d->dirty_ms[i] ?
		start_ms - d->dirty_ms[i] : 0, o->follow_up ? DAEMON_WORKER_BURST_NICE : 0);
	strv_free(&seen);
	daemon_pass_out_free(o);
	return rc;
}

/* ---- a pass in a child process ------------------------------------------ */

struct daemon_worker_arg {
	struct daemon *d;
	unsigned int layer;
	bool force_apply;
	bool follow_up;
};

/* In the child: the pass, then its findings down the pipe. */
static int daemon_worker_main(void *arg, int fd)
{
	const struct daemon_worker_arg *a = arg;
	struct daemon_pass_out o = { 0 };
	struct cache_buf b = { 0 };
	int rc;

	/*
	 * The first pass after a quiet spell at the loop's priority: at nice
	 * 10, on a machine busy with other work, it and its sshd -T waited
	 * seconds for the CPU.  The follow-ups of a burst yield to the loop
	 * (SCHED_BATCH: no preemption of a waking task either); a failure
	 * leaves the loop's priority, only slower for the others.
	 */
	if (a->follow_up) {
		/* Relative: under a daemon started at nice 15 it runs at 19, not 10. */
		int got = nice(DAEMON_WORKER_BURST_NICE);

		(void)got;
		(void)sched_setscheduler(0, SCHED_BATCH, &(struct sched_param){ 0 });
	}
	daemon_layer_work(a->d, a->layer, a->force_apply, &o);
	cache_buf_printf(&b, "jefe-pass/1 %d %d %d\n", o.rc, o.applied_now, o.futile);
	child_findings_encode(&b, &o.chk);
	child_findings_encode(&b, &o.app);
	child_findings_encode(&b, &o.re);
	rc = b.failed ? -ENOMEM : child_write_all(fd, b.p, b.n);
	cache_buf_free(&b);
	daemon_pass_out_free(&o);
	return rc;
}

/* The child's output back into a pass's result; -EINVAL when malformed. */
static int daemon_worker_decode(const char *text, size_t len, unsigned int i,
				struct daemon_pass_out *o)
{
	static const char magic[] = "jefe-pass/1 ";
	struct cache_reader r = { text + sizeof(magic) - 1, text + len, false };
	int64_t rc, applied, futile;
	int e;

	if (len < sizeof(magic) - 1 || memcmp(text, magic, sizeof(magic) - 1) != 0)
		return -EINVAL;
	rc = cache_read_int(&r);
	applied = cache_read_int(&r);
	futile = cache_read_int(&r);
	if (r.bad || rc > 0 || rc < -(1 << 20) || (applied != 0 && applied != 1) ||
	    (futile != 0 && futile != 1))
		return -EINVAL;
	o->rc = (int)rc;
	o->applied_now = applied;
	o->futile = futile;
	if ((e = child_findings_decode(&r, &o->chk)) < 0 ||
	    (e = child_findings_decode(&r, &o->app)) < 0 ||
	    (e = child_findings_decode(&r, &o->re)) < 0)
		return e;
	if (!cache_read_done(&r))
		return -EINVAL;
	/* A child answers for its own layer only. */
	for (int l = 0; l < 3; l++) {
		const struct findings *fs = l == 0 ? &o->chk : l == 1 ? &o->app : &o->re;

		for (size_t k = 0; k < fs->n; k++)
			if (strcmp(fs->v[k].layer, jefe_layers[i]->name) != 0 &&
			    strcmp(fs->v[k].layer, "services") != 0)
				return -EINVAL;
	}
	return 0;
}

/*
 * The worker of layer i has ended (or failed, why set): record its pass.
 * A child that could not do its pass leaves the layer one error item
 * that names it and what went wrong, logged as any error.
 */
static int daemon_worker_complete(struct daemon *d, unsigned int i, int err, const char *why)
{
	struct daemon_worker *w = &d->workers[i];
	struct daemon_pass_out o = { 0 };
	char msg[512];
	int rc;

	if (err == 0) {
		err = daemon_worker_decode(w->child.out ? w->child.out : "", w->child.len, i, &o);
		if (err < 0)
			child_malformed(&w->child, err == -ENOMEM ? "out of memory reading it" :
					"not a pass's findings", msg, sizeof(msg));
		why = msg;
	}
	if (err < 0) {
		daemon_pass_out_free(&o);
		o = (struct daemon_pass_out){ 0 };
		rc = findings_add(&o.chk, &(struct finding){
			.layer = jefe_layers[i]->name, .item = "layer",
			.expected = "checked", .actual = "not checked",
			.state = FINDING_ERROR, .note = why,
		});
		if (rc < 0)
			o.rc = rc;
	}
	child_free(&w->child);
	o.follow_up = w->follow_up;
	return daemon_layer_record(d, i, w->force_apply, w->how, time(NULL), w->start_ms, &o);
}

static int daemon_worker_start(struct daemon *d, unsigned int i, bool force_apply,
			       enum daemon_verified how)
{
	struct daemon_worker *w = &d->workers[i];
	struct daemon_worker_arg a = { d, i, force_apply, false };
	char name[64];
	int rc;

	/*
	 * A follow-up: the layer's first event since its previous pass
	 * started came before that pass ended (dirty is cleared when a pass
	 * starts): events keep coming while it is checked, a burst.
	 */
	a.follow_up = how == DAEMON_VERIFIED_EVENT && d->pass_end_ms[i] > 0 &&
		      d->dirty_ms[i] <= d->pass_end_ms[i];
	snprintf(name, sizeof(name), "%s pass", jefe_layers[i]->name);
	w->follow_up = a.follow_up;
	w->force_apply = force_apply;
	w->how = how;
	w->start_ms = clock_ms();
	w->gen = d->generation;
	rc = child_start(&w->child, name, DAEMON_WORKER_TIMEOUT_MS, daemon_worker_main, &a);
	if (rc < 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s: cannot start its process: %s", name, strerror(-rc));
		return daemon_worker_complete(d, i, rc, why);
	}
	rc = daemon_epoll_add(d, w->child.fd, EPOLLIN,
			      daemon_ev_pack(EV_WORKER, i, d->generation, w->child.fd));
	if (rc < 0) {
		/* Not in the loop: wait for it here. */
		return daemon_worker_wait(d, i);
	}
	return 0;
}

bool daemon_worker_busy(const struct daemon *d, unsigned int i)
{
	return i < DAEMON_MAX_LAYERS && d->workers[i].child.pid > 0;
}

int daemon_worker_wait(struct daemon *d, unsigned int i)
{
	struct daemon_worker *w = &d->workers[i];
	char why[512];
	int err;

	if (!daemon_worker_busy(d, i))
		return 0;
	if (d->epfd >= 0 && w->child.fd >= 0)
		(void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, w->child.fd, NULL);
	err = child_wait(&w->child, why, sizeof(why));
	err = daemon_worker_complete(d, i, err, why);
	d->publish_pending = true;
	daemon_debounce_schedule(d);
	return err;
}

int daemon_workers_wait(struct daemon *d)
{
	int rc = 0;

	for (unsigned int i = 0; i < DAEMON_MAX_LAYERS; i++)
		if (daemon_worker_busy(d, i) && daemon_worker_wait(d, i) == -ENOMEM)
			rc = -ENOMEM;
	return rc;
}

int daemon_worker_ready(struct daemon *d, unsigned int i)
{
	struct daemon_worker *w = &d->workers[i];
	char why[512];
	int r, rc;

	if (!daemon_worker_busy(d, i))
		return 0;
	r = child_read(&w->child);
	if (r == 0)
		return 0;
	(void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, w->child.fd, NULL);
	if (r < 0) {
		snprintf(why, sizeof(why), "%s (pid %d): reading its output: %s",
			 w->child.name, (int)w->child.pid, strerror(-r));
		(void)child_kill(&w->child, (char[8]){ 0 }, 8);
	} else {
		r = child_reap(&w->child, why, sizeof(why));
	}
	rc = daemon_worker_complete(d, i, r, why);
	d->publish_pending = true;
	daemon_debounce_schedule(d);
	return rc == -ENOMEM ? rc : 0;
}

int daemon_workers_expire(struct daemon *d)
{
	long long now = clock_ms(), next = -1;
	int rc = 0;

	for (unsigned int i = 0; i < DAEMON_MAX_LAYERS; i++) {
		struct daemon_worker *w = &d->workers[i];
		char why[512];
		int err;

		if (!daemon_worker_busy(d, i))
			continue;
		if (w->child.deadline_ms > now) {
			if (next < 0 || w->child.deadline_ms < next)
				next = w->child.deadline_ms;
			continue;
		}
		if (w->child.fd >= 0)
			(void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, w->child.fd, NULL);
		err = child_kill(&w->child, why, sizeof(why));
		if (daemon_worker_complete(d, i, err, why) == -ENOMEM)
			rc = -ENOMEM;
		d->publish_pending = true;
		daemon_debounce_schedule(d);
	}
	if (rc < 0)
		return rc;
	return next < 0 ? -1 : (int)(next - now);
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
 *
 * A layer that runs programs does the work of a pass nobody waits for
 * (events, the backstop timer) in a child process (daemon_worker_start()),
 * and the loop records it when the child's output ends
 * (daemon_worker_ready()).  A pass asked for while one is under way waits
 * for that one first.
 */
static int daemon_layer_pass(struct daemon *d, unsigned int i, bool force_apply,
			     enum daemon_verified how, bool wait)
{
	struct daemon_pass_out o = { 0 };
	long long start_ms = clock_ms();
	time_t when = time(NULL);

	if (d->set.state[i] == NULL) {
		findings_free(&d->last[i]);
		free(d->last_json[i]);
		d->last_json[i] = NULL;
		free(d->last_json_pretty[i]);
		d->last_json_pretty[i] = NULL;
		return 0;
	}
	/* Never two passes of one layer at once. */
	if (daemon_worker_busy(d, i) && daemon_worker_wait(d, i) == -ENOMEM)
		return -ENOMEM;
	/*
	 * A pass the caller waits for anyway (start, reload, a request) runs
	 * here: a new process waits for a CPU behind everything else on a
	 * busy machine (tens of ms at a load of 12), the loop does not.
	 */
	if (jefe_layers[i]->runs_programs && !wait)
		return daemon_worker_start(d, i, force_apply, how);
	daemon_layer_work(d, i, force_apply, &o);
	return daemon_layer_record(d, i, force_apply, how, when, start_ms, &o);
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
		/* The backstop timer's pass leaves the loop free as events do. */
		r = daemon_layer_pass(d, i, force_apply, how, how != DAEMON_VERIFIED_TIMER);
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
	long long now = clock_ms();
	bool any = false;

	/*
	 * Only what an event asked for: a retry later on (dirty_ms ahead,
	 * daemon_retry_after()) is a layer that could not check, and a
	 * request would wait for it to fail again; the reply says its error.
	 */
	for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++)
		any = any || (d->dirty[i] && d->dirty_ms[i] <= now);
	/* A request ran the check the debounce timer was armed for. */
	if (!any)
		return 0;
	daemon_fights_expire(d);
	for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++) {
		if (!d->dirty[i] || d->dirty_ms[i] > now)
			continue;
		d->dirty[i] = false;
		if (daemon_layer_pass(d, i, false, d->dirty_by[i], true) == -ENOMEM)
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
			if (d->dirty[i] && daemon_layer_due(d, i) <= now && !daemon_worker_busy(d, i) &&
			    (best == DAEMON_MAX_LAYERS || d->pass_ms[i] < d->pass_ms[best]))
				best = i;
		if (best == DAEMON_MAX_LAYERS)
			break;
		d->dirty[best] = false;
		if (daemon_layer_pass(d, best, false, d->dirty_by[best], false) == -ENOMEM)
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
		free(d->last_json_pretty[i]);
		d->last_json_pretty[i] = NULL;
		strv_free(&d->noted[i]);
		for (size_t k = 0; k < d->fights[i].n; k++)
			free(d->fights[i].v[k].item);
		free(d->fights[i].v);
		d->fights[i] = (struct daemon_fights){ 0 };
	}
}
