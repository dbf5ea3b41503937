/* SPDX-License-Identifier: MIT */
/*
 * jefe-setup: apply the policy, then keep the host on it.
 *
 * One epoll loop, no threads: signalfd for SIGHUP/SIGTERM/SIGINT, a timerfd
 * backstop (changes made inside the kernel raise no event), a debounce
 * timerfd (a burst of inotify events costs one check), each layer's event
 * sources, and the IPC socket.  Everything the loop needs is in one
 * struct daemon owned by main(); only main() exits.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "daemon.h"
#include "errors.h"
#include "finding.h"
#include "ipc.h"
#include "layer.h"
#include "log.h"
#include "policy.h"
#include "report.h"
#include "rootfs.h"
#include "util.h"

/*
 * inotify on /proc/sys raises one event per write, and `sysctl -p` writes
 * dozens of keys in a row: wait this long after the first event so a burst
 * costs one check, while keeping detection latency far below a second.
 */
#define DAEMON_DEBOUNCE_MS	10
/* A client that connected has this long to send its request. */
#define DAEMON_CLIENT_TIMEOUT_MS 2000
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
/*
 * Status requests of a non-root peer: a burst of this many, then this many
 * a second.  A monitoring tool polls every few seconds; a check of every
 * layer costs tens of ms, so this bounds what a status-group member can
 * take from the repair loop.  Root is not limited: it can stop us anyway.
 */
#define DAEMON_RATE_BURST	10
#define DAEMON_RATE_PER_S	2
#define DAEMON_RATE_LOG_MS	60000
/* Socket mode: the status group may connect; others cannot even do that. */
#define DAEMON_SOCKET_MODE_GROUP 0660
#define DAEMON_SOCKET_MODE_ROOT	0600

/* What an epoll event is about, packed in its 64-bit cookie. */
enum daemon_ev {
	EV_SIGNAL = 1,
	EV_TIMER,
	EV_DEBOUNCE,
	EV_LISTEN,
	EV_CLIENT,
	EV_WATCH,
};

static uint64_t ev_pack(enum daemon_ev kind, unsigned int layer, unsigned int gen, int fd)
{
	return (uint64_t)kind | (uint64_t)(layer & 0xff) << 8 |
	       (uint64_t)(gen & 0xffff) << 16 | (uint64_t)(uint32_t)fd << 32;
}

static enum daemon_ev ev_kind(uint64_t v) { return (enum daemon_ev)(v & 0xff); }
static unsigned int ev_layer(uint64_t v) { return (v >> 8) & 0xff; }
static unsigned int ev_gen(uint64_t v) { return (v >> 16) & 0xffff; }
static int ev_fd(uint64_t v) { return (int)(uint32_t)(v >> 32); }

/* The daemon's short name for log_kv(), used on every line. */
static const char *kv(char *buf, size_t size, const char *s)
{
	return log_kv(buf, size, s);
}

/* A line that must also reach the terminal of whoever started us. */
static void daemon_say(struct daemon *d, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void daemon_say(struct daemon *d, int prio, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* With --foreground the logger copies every line to stderr already. */
	if (!d->log_open || !d->log.to_stderr)
		fprintf(stderr, "jefe-setup: %s\n", msg);
	if (d->log_open)
		log_msg(&d->log, prio, "%s", msg);
}

/*
 * "FILE line N: msg" (policy_errors) becomes
 * `policy error file=FILE line=N msg="msg"`; anything else is logged whole.
 */
static void daemon_log_policy_errors(struct daemon *d, const struct policy_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++) {
		const char *m = errs->msgs[i];
		const char *p = m;
		char b1[PATH_MAX + 8], b2[1024];
		bool done = false;

		while ((p = strstr(p, " line ")) != NULL) {
			const char *q = p + 6;
			char *end;
			long line = strtol(q, &end, 10);
			char file[PATH_MAX];
			size_t flen = (size_t)(p - m);

			if (end != q && end[0] == ':' && end[1] == ' ' && flen < sizeof(file)) {
				memcpy(file, m, flen);
				file[flen] = '\0';
				daemon_say(d, LOG_ERR, "policy error file=%s line=%ld msg=%s",
					   kv(b1, sizeof(b1), file), line,
					   kv(b2, sizeof(b2), end + 2));
				done = true;
				break;
			}
			p = q;
		}
		if (!done)
			daemon_say(d, LOG_ERR, "policy error msg=%s", kv(b2, sizeof(b2), m));
	}
}

/* ---- status group ---------------------------------------------------- */

static int daemon_group_resolve(const char *name, gid_t *out)
{
	struct group grp, *res = NULL;
	char buf[4096];
	char *end;
	unsigned long v;

	if (getgrnam_r(name, &grp, buf, sizeof(buf), &res) == 0 && res != NULL) {
		*out = res->gr_gid;
		return 0;
	}
	errno = 0;
	v = strtoul(name, &end, 10);
	if (*name != '\0' && *end == '\0' && errno == 0 && v < (gid_t)-1) {
		*out = (gid_t)v;
		return 0;
	}
	return -ENOENT;
}

/* Resolve [agent] status_group and give the socket to that group. */
static void daemon_status_group_update(struct daemon *d)
{
	const char *name = d->policy->status_group;
	char b[256];

	d->status_gid_valid = false;
	if (name != NULL && *name != '\0') {
		if (daemon_group_resolve(name, &d->status_gid) == 0)
			d->status_gid_valid = true;
		else
			log_msg(&d->log, LOG_WARNING,
				"policy warning msg=%s", kv(b, sizeof(b), "unknown status_group, status is for root only"));
	}
	if (!d->socket_bound)
		return;
	if (d->status_gid_valid) {
		if (chown(d->socket_path, (uid_t)-1, d->status_gid) < 0 ||
		    chmod(d->socket_path, DAEMON_SOCKET_MODE_GROUP) < 0)
			log_msg(&d->log, LOG_WARNING, "socket error path=%s msg=%s",
				kv(b, sizeof(b), d->socket_path), strerror(errno));
	} else if (chmod(d->socket_path, DAEMON_SOCKET_MODE_ROOT) < 0) {
		log_msg(&d->log, LOG_WARNING, "socket error path=%s msg=%s",
			kv(b, sizeof(b), d->socket_path), strerror(errno));
	}
}

/* ---- checking and repairing ------------------------------------------ */

static enum policy_mode daemon_layer_mode(const struct daemon *d, unsigned int i)
{
	enum policy_mode m = d->set.mode[i];

	return m == POLICY_MODE_INHERIT ? d->policy->mode : m;
}

static const struct finding *findings_lookup(const struct findings *fs, const char *item)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].item, item) == 0)
			return &fs->v[i];
	return NULL;
}

static const char *daemon_action_word(enum finding_action a)
{
	switch (a) {
	case FINDING_ACTION_REPAIRED:
		return "repaired";
	case FINDING_ACTION_FAILED:
		return "failed";
	case FINDING_ACTION_CANNOT_FIX:
		return "cannot-fix";
	case FINDING_ACTION_WOULD_REPAIR:
		return "would-repair";
	case FINDING_ACTION_NONE:
		break;
	}
	return "none";
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

/* Mark the findings of a status reply whose item is being fought over. */
static void daemon_fights_mark(struct daemon *d, struct findings *fs)
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
		return daemon_action_word(app->action);
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
static int daemon_layer_pass(struct daemon *d, unsigned int i, bool force_apply)
{
	const struct layer_ops *ops = jefe_layers[i];
	struct findings chk = { 0 }, app = { 0 }, re = { 0 };
	struct strv seen = { 0 };
	bool enforce = daemon_layer_mode(d, i) == POLICY_MODE_ENFORCE;
	bool futile = false, applied_now = false;
	time_t when = time(NULL);
	size_t drift = 0, bad = 0, repairs_logged = 0, applied = 0;
	int rc;

	if (d->set.state[i] == NULL) {
		findings_free(&d->last[i]);
		return 0;
	}
	rc = layer_set_check(&d->set, ops->name, &chk);
	if (rc < 0)
		goto out;
	for (size_t k = 0; k < chk.n; k++)
		if (chk.v[k].state == FINDING_DRIFT)
			drift++;
	if (enforce && !force_apply)
		futile = daemon_drift_all_cannot_fix(d, i, &chk);
	if (enforce && !futile && (drift > 0 || force_apply)) {
		d->env.unattended = true;
		rc = layer_set_apply(&d->set, ops->name, false, true, &app);
		d->env.unattended = false;
		if (rc < 0)
			goto out;
		rc = layer_set_check(&d->set, ops->name, &re);
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
			a = findings_lookup(&app, f->item);
			action = daemon_repair_outcome(a, findings_lookup(&re, f->item));
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
		const struct finding *f = findings_lookup(&chk, a->item);

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
			daemon_log_drift(d, i, a, daemon_action_word(a->action),
					 &d->noted[i], &seen, !force_apply);
		}
	}

	d->applied_total[i] += applied;
	findings_free(&d->last[i]);
	d->last[i] = applied_now ? re : chk;
	if (applied_now)
		re = (struct findings){ 0 };
	else
		chk = (struct findings){ 0 };
	d->last_at[i] = when;
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
	strv_free(&seen);
	findings_free(&chk);
	findings_free(&app);
	findings_free(&re);
	return rc;
}

static int daemon_publish(struct daemon *d);

static int daemon_pass_all(struct daemon *d, bool force_apply)
{
	int rc = 0;

	daemon_fights_expire(d);
	for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++) {
		int r = daemon_layer_pass(d, i, force_apply);

		if (r == -ENOMEM)
			return r;
		if (r < 0 && rc == 0)
			rc = r;
		d->dirty[i] = false;
	}
	return daemon_publish(d) == -ENOMEM ? -ENOMEM : rc;
}

static int daemon_pass_dirty(struct daemon *d)
{
	daemon_fights_expire(d);
	for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++) {
		if (!d->dirty[i])
			continue;
		d->dirty[i] = false;
		if (daemon_layer_pass(d, i, false) == -ENOMEM)
			return -ENOMEM;
	}
	return daemon_publish(d) == -ENOMEM ? -ENOMEM : 0;
}

/* ---- event sources --------------------------------------------------- */

static int daemon_epoll_add(struct daemon *d, int fd, uint32_t events, uint64_t cookie)
{
	struct epoll_event ev = { .events = events, .data.u64 = cookie };

	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

/* Ask every layer of the current set for its fds and poll them. */
static void daemon_watches_add(struct daemon *d)
{
	for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++) {
		const struct layer_ops *ops = jefe_layers[i];
		struct watch_set *ws = &d->watches[i];
		int rc;

		memset(ws, 0, sizeof(*ws));
		if (d->set.state[i] == NULL || ops->watch == NULL)
			continue;
		rc = ops->watch(d->set.state[i], ws);
		if (rc < 0)
			log_msg(&d->log, LOG_WARNING,
				"watch error layer=%s msg=%s action=timer-only", ops->name,
				kv((char[256]){ 0 }, 256, jefe_strerror(rc)));
		for (unsigned int k = 0; k < ws->n; k++) {
			rc = daemon_epoll_add(d, ws->fds[k], ws->events[k],
					      ev_pack(EV_WATCH, i, d->generation, ws->fds[k]));
			if (rc < 0) {
				log_msg(&d->log, LOG_WARNING, "watch error layer=%s msg=%s",
					ops->name, kv((char[256]){ 0 }, 256, strerror(-rc)));
				ws->fds[k] = -1;
			}
		}
	}
}

/* The layer set owns these fds: take them out of epoll before it is freed. */
static void daemon_watches_remove(struct daemon *d)
{
	for (unsigned int i = 0; i < DAEMON_MAX_LAYERS; i++) {
		struct watch_set *ws = &d->watches[i];

		for (unsigned int k = 0; k < ws->n; k++)
			if (ws->fds[k] >= 0 && d->epfd >= 0)
				(void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, ws->fds[k], NULL);
		memset(ws, 0, sizeof(*ws));
	}
	d->generation++;
}

static int daemon_timer_arm(int fd, unsigned int interval_s, unsigned int once_ms)
{
	struct itimerspec its = { 0 };

	if (interval_s > 0) {
		its.it_value.tv_sec = interval_s;
		its.it_interval.tv_sec = interval_s;
	} else if (once_ms > 0) {
		its.it_value.tv_sec = once_ms / 1000;
		its.it_value.tv_nsec = (long)(once_ms % 1000) * 1000000L;
	}
	if (timerfd_settime(fd, 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

static void daemon_timer_drain(int fd)
{
	uint64_t n;

	while (read(fd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
}

/* ---- policy ------------------------------------------------------------ */

/* Load a policy and a layer set for it; nothing is kept when either fails. */
static int daemon_policy_load(struct daemon *d, struct policy **pout, struct layer_set *sout,
			      struct policy_errors *errs)
{
	return layer_policy_load(pout, sout, &d->env, d->config, NULL, 0, errs);
}

static void daemon_log_reopen(struct daemon *d, int facility)
{
	int rc;

	if (d->log.facility == facility)
		return;
	log_close(&d->log);
	rc = log_open(&d->log, "jefe-setup", facility, d->log_socket, d->foreground);
	if (rc < 0) {
		/* Keep logging somewhere: the facility we had worked. */
		(void)log_open(&d->log, "jefe-setup", LOG_DAEMON, d->log_socket, d->foreground);
		log_msg(&d->log, LOG_ERR, "log error msg=%s",
			kv((char[256]){ 0 }, 256, jefe_strerror(rc)));
	}
}

/*
 * SIGHUP or `jefe reload`: an invalid new policy is logged and the running
 * one kept.  errs_out, when given, receives the errors for the IPC reply.
 */
static int daemon_reload(struct daemon *d, struct policy_errors *errs_out)
{
	struct policy_errors errs = { 0 };
	struct policy *p = NULL;
	struct layer_set set;
	int rc;

	rc = daemon_policy_load(d, &p, &set, &errs);
	if (rc < 0) {
		char *first = strdup(errs.n > 0 ? errs.msgs[0] : jefe_strerror(rc));

		/* Kept for `jefe status` until a reload succeeds. */
		if (first != NULL) {
			free(d->reload_refused);
			d->reload_refused = first;
		}
		daemon_log_policy_errors(d, &errs);
		log_msg(&d->log, LOG_ERR, "reload failed errors=%zu msg=%s", errs.n,
			kv((char[256]){ 0 }, 256, "keeping the running policy"));
		/* status.json says so too, as `jefe status` does. */
		(void)daemon_publish(d);
		if (errs_out != NULL)
			*errs_out = errs;
		else
			policy_errors_free(&errs);
		return rc;
	}
	policy_errors_free(&errs);
	free(d->reload_refused);
	d->reload_refused = NULL;

	daemon_watches_remove(d);
	layer_set_free(&d->set);
	policy_free(d->policy);
	d->set = set;
	d->policy = p;
	memset(d->dirty, 0, sizeof(d->dirty));
	daemon_log_reopen(d, p->log_facility);
	daemon_status_group_update(d);
	rc = daemon_timer_arm(d->timerfd, p->check_interval, 0);
	if (rc < 0)
		log_msg(&d->log, LOG_ERR, "timer error msg=%s", kv((char[256]){ 0 }, 256, strerror(-rc)));
	log_msg(&d->log, LOG_NOTICE, "reloaded policy files=%zu", p->n_files);
	rc = daemon_pass_all(d, true);
	daemon_watches_add(d);
	return rc == -ENOMEM ? rc : 0;
}

/* ---- IPC ----------------------------------------------------------------- */

static const char *ipc_command_word(uint16_t c)
{
	switch (c) {
	case IPC_CMD_STATUS:
		return "status";
	case IPC_CMD_ENFORCE:
		return "enforce";
	case IPC_CMD_RELOAD:
		return "reload";
	}
	return "unknown";
}

/*
 * chrony's rule: full access only for the privileged peer.  status is
 * also for members of [agent] status_group, primary or supplementary.
 */
static int daemon_peer_authorize(struct daemon *d, int fd, uint16_t command, uid_t *uid_out)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t groups[256];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	*uid_out = cred.uid;
	if (cred.uid == 0)
		return 0;
	if (command != IPC_CMD_STATUS || !d->status_gid_valid)
		return -EPERM;
	if (cred.gid == d->status_gid)
		return 0;
	len = sizeof(groups);
	/* ERANGE: more groups than we look at; those few are refused. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		for (size_t k = 0; k < len / sizeof(gid_t); k++)
			if (groups[k] == d->status_gid)
				return 0;
	return -EPERM;
}

/* The report document of a findings list checked at `when`. */
static int daemon_report(struct daemon *d, const struct findings *fs, const char *kind,
			 time_t when, struct json_object **doc)
{
	struct report_meta meta = { .kind = kind, .time = when,
				    .mode = policy_mode_name(d->policy->mode) };
	int rc = report_meta_host(&meta, d->env.root_fd);

	if (rc == 0)
		rc = policy_digest(d->policy, meta.policy_digest);
	if (rc == 0)
		rc = report_build(fs, doc);
	if (rc == 0) {
		rc = report_add_meta(*doc, &meta);
		if (rc < 0) {
			json_object_put(*doc);
			*doc = NULL;
		}
	}
	return rc;
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
	struct json_object *doc = NULL, *layers;
	const char *text;
	int rc = daemon_report(d, all, "status", when, &doc);

	if (rc < 0)
		return rc;
	/* Each layer was checked by its own latest pass. */
	if (json_object_object_get_ex(doc, "layers", &layers)) {
		for (size_t k = 0; k < json_object_array_length(layers); k++) {
			struct json_object *l = json_object_array_get_idx(layers, k), *name;
			char at[32];
			struct tm tm;

			if (!json_object_object_get_ex(l, "name", &name))
				continue;
			for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++) {
				if (strcmp(jefe_layers[i]->name, json_object_get_string(name)) != 0 ||
				    gmtime_r(&d->last_at[i], &tm) == NULL)
					continue;
				strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
				json_object_object_add(l, "checked_at", json_object_new_string(at));
			}
		}
	}
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
	(void)policy_digest(d->policy, digest);
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
static int daemon_reload_refused_finding(const struct daemon *d, struct findings *fs);

static int daemon_publish(struct daemon *d)
{
	struct findings all = { 0 };
	time_t when = time(NULL);
	int rc = 0;

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

/* A findings list as the report document, and the reply that carries it. */
static int daemon_reply_findings(struct daemon *d, int fd, const struct findings *fs,
				 const char *kind, time_t when)
{
	struct json_object *doc = NULL;
	const char *s;
	int rc;

	rc = daemon_report(d, fs, kind, when, &doc);
	if (rc < 0)
		return ipc_send_reply(fd, rc, NULL, 0);
	s = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	if (s == NULL)
		rc = ipc_send_reply(fd, -ENOMEM, NULL, 0);
	else
		rc = ipc_send_reply(fd, 0, s, strlen(s));
	json_object_put(doc);
	return rc;
}

static int daemon_reply_text(int fd, int32_t status, const char *text)
{
	return ipc_send_reply(fd, status, text, text ? strlen(text) : 0);
}

/*
 * A refused reload leaves the daemon on a policy that is no longer the
 * one on disk: an error in every status until a reload succeeds, so that
 * the admin who forgot to look at the log sees it.
 */
static int daemon_reload_refused_finding(const struct daemon *d, struct findings *fs)
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

/* `jefe enforce` through the daemon: one `applied` line per layer it changed. */
static void daemon_log_applied(struct daemon *d, const struct findings *fs)
{
	for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++) {
		size_t n = 0;

		for (size_t k = 0; k < fs->n; k++)
			if (fs->v[k].action == FINDING_ACTION_REPAIRED &&
			    strcmp(fs->v[k].layer, jefe_layers[i]->name) == 0)
				n++;
		if (n > 0)
			log_msg(&d->log, LOG_NOTICE, "applied layer=%s items=%zu by=enforce",
				jefe_layers[i]->name, n);
	}
}

static int daemon_dispatch(struct daemon *d, int fd, const struct ipc_request *req)
{
	const char *only = req->layer[0] ? req->layer : NULL;
	bool dry_run = (req->flags & IPC_FLAG_DRY_RUN) != 0;
	struct findings fs = { 0 };
	struct policy_errors errs = { 0 };
	time_t when = time(NULL);
	int rc;

	switch (req->command) {
	case IPC_CMD_STATUS:
		rc = layer_set_check(&d->set, only, &fs);
		if (rc == 0)
			daemon_fights_mark(d, &fs);
		if (rc == 0)
			rc = daemon_reload_refused_finding(d, &fs);
		break;
	case IPC_CMD_ENFORCE:
		rc = layer_set_apply(&d->set, only, dry_run, false, &fs);
		if (rc == 0 && !dry_run)
			daemon_log_applied(d, &fs);
		if (rc == 0 && !dry_run) {
			/* The next pass must not report what the admin just fixed as old drift. */
			for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++)
				d->dirty[i] = true;
			if (!d->debounce_armed &&
			    daemon_timer_arm(d->debouncefd, 0, DAEMON_DEBOUNCE_MS) == 0)
				d->debounce_armed = true;
		}
		break;
	case IPC_CMD_RELOAD:
		rc = daemon_reload(d, &errs);
		if (rc == -JEFE_EPOLICY || (rc < 0 && errs.n > 0)) {
			char *text = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&text, &len);

			if (f != NULL) {
				for (size_t k = 0; k < errs.n; k++)
					fprintf(f, "%s\n", errs.msgs[k]);
				fclose(f);
			}
			rc = daemon_reply_text(fd, rc, text);
			free(text);
			policy_errors_free(&errs);
			return rc;
		}
		if (rc == 0)
			rc = layer_set_check(&d->set, NULL, &fs);
		break;
	default:
		rc = -JEFE_EPROTO;
		break;
	}
	if (rc < 0)
		rc = daemon_reply_text(fd, rc, jefe_strerror(rc));
	else
		rc = daemon_reply_findings(d, fd, &fs, req->command == IPC_CMD_STATUS ? "status" :
					   dry_run ? "dry-run" : "enforce", when);
	findings_free(&fs);
	return rc;
}

/*
 * Take one request from uid's bucket; false when it is empty.  The table
 * is small and fixed: a new uid takes a free slot or the least recently
 * used one (a uid must be a status-group member to get here at all).
 */
static bool daemon_rate_take(struct daemon *d, uid_t uid, struct daemon_rate **out)
{
	long long now = clock_ms();
	struct daemon_rate *r = NULL, *lru = NULL;

	for (unsigned int k = 0; k < DAEMON_RATE_UIDS; k++) {
		struct daemon_rate *e = &d->rates[k];

		if (e->used && e->uid == uid) {
			r = e;
			break;
		}
		if (lru == NULL || !e->used || (lru->used && e->last_ms < lru->last_ms))
			lru = e;
	}
	if (r == NULL) {
		r = lru;
		*r = (struct daemon_rate){ .uid = uid, .used = true, .last_ms = now,
					   .tokens_milli = DAEMON_RATE_BURST * 1000LL };
	}
	r->tokens_milli += (now - r->last_ms) * DAEMON_RATE_PER_S;
	if (r->tokens_milli > DAEMON_RATE_BURST * 1000LL)
		r->tokens_milli = DAEMON_RATE_BURST * 1000LL;
	r->last_ms = now;
	*out = r;
	if (r->tokens_milli < 1000)
		return false;
	r->tokens_milli -= 1000;
	return true;
}

/* One line when a uid starts being limited, then one a minute with the count. */
static void daemon_rate_refused(struct daemon *d, struct daemon_rate *r)
{
	long long now = clock_ms();

	r->refused++;
	if (r->logged_ms != 0 && now - r->logged_ms < DAEMON_RATE_LOG_MS)
		return;
	log_msg(&d->log, LOG_WARNING,
		"request refused uid=%ld command=- msg=\"rate limited\" refused=%lu limit=%d/s burst=%d",
		(long)r->uid, r->refused, DAEMON_RATE_PER_S, DAEMON_RATE_BURST);
	r->logged_ms = now;
	r->refused = 0;
}

/*
 * Read and answer the request on an accepted connection.  Returns 1 when
 * the request has not arrived yet (the fd stays open), else 0 and the
 * connection is closed: one request per connection.
 */
static int daemon_client_serve(struct daemon *d, int fd)
{
	uint8_t buf[IPC_REQUEST_SIZE];
	struct ipc_request req = { 0 };
	char b1[256], b2[256];
	char why[128] = "";
	uid_t uid = (uid_t)-1;
	ssize_t n;
	int rc;

	/* MSG_TRUNC: learn the real size of an oversized request. */
	do
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 1;
	if (n <= 0) {
		close(fd);
		return 0;
	}

	/*
	 * Every request of a non-root peer costs a token, whatever it asks:
	 * refused and malformed ones would flood the log otherwise.
	 */
	{
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct daemon_rate *r;

		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid != 0 &&
		    !daemon_rate_take(d, cred.uid, &r)) {
			daemon_rate_refused(d, r);
			snprintf(why, sizeof(why),
				 "uid %ld may make %d requests a second (bursts of %d); try again shortly",
				 (long)cred.uid, DAEMON_RATE_PER_S, DAEMON_RATE_BURST);
			(void)daemon_reply_text(fd, -JEFE_ERATE, why);
			close(fd);
			return 0;
		}
	}

	if ((size_t)n != IPC_REQUEST_SIZE) {
		rc = -JEFE_EPROTO;
		snprintf(why, sizeof(why), "request of %zd bytes, expected %d", n,
			 IPC_REQUEST_SIZE);
	} else {
		rc = ipc_request_decode(buf, (size_t)n, &req);
		if (rc == -JEFE_EVERSION)
			snprintf(why, sizeof(why), "protocol version %u, expected %d",
				 (unsigned int)(buf[4] | buf[5] << 8), IPC_VERSION);
		else if (rc < 0)
			snprintf(why, sizeof(why), "bad magic, command, flags or layer");
	}
	if (rc == 0) {
		rc = daemon_peer_authorize(d, fd, req.command, &uid);
		if (rc < 0)
			snprintf(why, sizeof(why), "%s is for root only", ipc_command_word(req.command));
	} else {
		struct ucred cred;
		socklen_t len = sizeof(cred);

		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
			uid = cred.uid;
	}
	if (rc < 0) {
		log_msg(&d->log, LOG_WARNING, "request refused uid=%ld command=%s msg=%s",
			uid == (uid_t)-1 ? -1L : (long)uid,
			rc == -EPERM ? ipc_command_word(req.command) : "-",
			kv(b1, sizeof(b1), why));
		(void)daemon_reply_text(fd, rc, why);
		close(fd);
		return 0;
	}

	/* Routine status requests (monitoring polls) only with --debug. */
	log_msg(&d->log, req.command == IPC_CMD_STATUS ? LOG_DEBUG : LOG_INFO,
		"request uid=%ld command=%s layer=%s%s",
		(long)uid, ipc_command_word(req.command),
		kv(b2, sizeof(b2), req.layer[0] ? req.layer : "all"),
		req.flags & IPC_FLAG_DRY_RUN ? " dry_run=yes" : "");
	rc = daemon_dispatch(d, fd, &req);
	if (rc < 0)
		log_msg(&d->log, LOG_WARNING, "reply error uid=%ld msg=%s", (long)uid,
			kv(b1, sizeof(b1), jefe_strerror(rc)));
	close(fd);
	return 0;
}

static void daemon_client_drop(struct daemon *d, struct daemon_client *c)
{
	(void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
}

/* Park a connection whose request is late, evicting the oldest when full. */
static void daemon_client_park(struct daemon *d, int fd)
{
	struct daemon_client *slot = NULL;

	for (unsigned int i = 0; i < DAEMON_MAX_CLIENTS; i++) {
		struct daemon_client *c = &d->clients[i];

		if (c->fd < 0) {
			slot = c;
			break;
		}
		if (slot == NULL || c->deadline < slot->deadline)
			slot = c;
	}
	if (slot->fd >= 0)
		daemon_client_drop(d, slot);
	if (daemon_epoll_add(d, fd, EPOLLIN, ev_pack(EV_CLIENT, 0, 0, fd)) < 0) {
		close(fd);
		return;
	}
	slot->fd = fd;
	slot->deadline = clock_ms() + DAEMON_CLIENT_TIMEOUT_MS;
}

static void daemon_client_ready(struct daemon *d, int fd)
{
	for (unsigned int i = 0; i < DAEMON_MAX_CLIENTS; i++) {
		struct daemon_client *c = &d->clients[i];

		if (c->fd != fd)
			continue;
		(void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
		c->fd = -1;
		if (daemon_client_serve(d, fd) == 1)
			daemon_client_park(d, fd);
		return;
	}
}

static void daemon_accept(struct daemon *d)
{
	for (;;) {
		int fd = accept4(d->listenfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_msg(&d->log, LOG_WARNING, "socket error msg=%s",
					kv((char[256]){ 0 }, 256, strerror(errno)));
			return;
		}
		/* The CLI sends right after connecting: usually it is here already. */
		if (daemon_client_serve(d, fd) == 1)
			daemon_client_park(d, fd);
	}
}

/* Close connections that never sent a request; returns ms to the next deadline. */
static int daemon_clients_expire(struct daemon *d)
{
	long long now = clock_ms(), next = -1;

	for (unsigned int i = 0; i < DAEMON_MAX_CLIENTS; i++) {
		struct daemon_client *c = &d->clients[i];

		if (c->fd < 0)
			continue;
		if (c->deadline <= now) {
			daemon_client_drop(d, c);
			continue;
		}
		if (next < 0 || c->deadline - now < next)
			next = c->deadline - now;
	}
	return (int)next;
}

/* ---- signals --------------------------------------------------------------- */

static void daemon_signals(struct daemon *d)
{
	struct signalfd_siginfo si;

	for (;;) {
		ssize_t n = read(d->sigfd, &si, sizeof(si));

		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(si))
			return;
		switch (si.ssi_signo) {
		case SIGHUP:
			(void)daemon_reload(d, NULL);
			break;
		case SIGTERM:
		case SIGINT:
			d->stop = true;
			break;
		}
	}
}

/* ---- lifecycle --------------------------------------------------------------- */

void daemon_init(struct daemon *d)
{
	memset(d, 0, sizeof(*d));
	d->root = "/";
	d->ready_fd = -1;
	d->env.root_fd = -1;
	d->epfd = d->sigfd = d->timerfd = d->debouncefd = d->listenfd = -1;
	for (unsigned int i = 0; i < DAEMON_MAX_CLIENTS; i++)
		d->clients[i].fd = -1;
}

static const char *daemon_layer_names(const struct daemon *d, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++) {
		int n;

		if (d->set.state[i] == NULL)
			continue;
		n = snprintf(buf + o, size - o, "%s%s%s", o ? "," : "", jefe_layers[i]->name,
			     daemon_layer_mode(d, i) == POLICY_MODE_REPORT ? ":report" : "");
		if (n < 0 || (size_t)n >= size - o)
			break;
		o += (size_t)n;
	}
	return o ? buf : "none";
}

static void daemon_sigmask(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGHUP);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
}

/*
 * After fork: a signalfd polled through epoll wakes the waiters of the
 * process that registered it, so the parent's registration would never
 * wake the child.  Make a new signalfd in the child and poll that.
 */
static int daemon_signals_reopen(struct daemon *d)
{
	sigset_t mask;
	int fd, rc;

	daemon_sigmask(&mask);
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	(void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->sigfd, NULL);
	close(d->sigfd);
	d->sigfd = fd;
	rc = daemon_epoll_add(d, fd, EPOLLIN, ev_pack(EV_SIGNAL, 0, 0, fd));
	return rc;
}

/*
 * Everything up to the first pass: signals, log, policy, layers, socket,
 * timers.  Any failure here stops the start with a message.
 */
int daemon_start(struct daemon *d)
{
	struct policy_errors errs = { 0 };
	sigset_t mask;
	char names[512];
	int rc;

	/* Only signalfd sees these; SIGPIPE from a vanished client is ignored. */
	daemon_sigmask(&mask);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0)
		return -errno;

	d->log.debug = d->debug;
	rc = log_open(&d->log, "jefe-setup", LOG_DAEMON, d->log_socket, d->foreground);
	if (rc < 0) {
		fprintf(stderr, "jefe-setup: log socket %s: %s\n",
			d->log_socket ? d->log_socket : "syslog", jefe_strerror(rc));
		return rc;
	}
	d->log_open = true;

	d->env.root = d->root;
	rc = policy_dir_of(d->config ? d->config : POLICY_MAIN_FILE, d->policy_dir,
			   sizeof(d->policy_dir));
	if (rc < 0)
		return rc;
	d->env.policy_dir = d->policy_dir;
	d->env.root_fd = open(d->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->env.root_fd < 0) {
		rc = -errno;
		daemon_say(d, LOG_ERR, "start failed root=%s msg=%s",
			   kv((char[PATH_MAX + 8]){ 0 }, PATH_MAX + 8, d->root), strerror(-rc));
		return rc;
	}

	rc = daemon_policy_load(d, &d->policy, &d->set, &errs);
	if (rc < 0) {
		daemon_log_policy_errors(d, &errs);
		daemon_say(d, LOG_ERR, "start failed errors=%zu msg=%s", errs.n,
			   kv((char[256]){ 0 }, 256, jefe_strerror(rc)));
		policy_errors_free(&errs);
		return rc;
	}
	policy_errors_free(&errs);
	d->set_loaded = true;
	daemon_log_reopen(d, d->policy->log_facility);

	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	d->debouncefd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->epfd < 0 || d->timerfd < 0 || d->debouncefd < 0) {
		rc = -errno;
		daemon_say(d, LOG_ERR, "start failed msg=%s", kv(names, sizeof(names), strerror(-rc)));
		return rc;
	}

	/* Bind before touching the system: a second daemon stops here. */
	rc = ipc_listen(d->socket_path, DAEMON_SOCKET_MODE_ROOT, -1, &d->listenfd);
	if (rc < 0) {
		daemon_say(d, LOG_ERR, "start failed socket=%s msg=%s",
			   kv((char[PATH_MAX + 8]){ 0 }, PATH_MAX + 8, d->socket_path),
			   kv(names, sizeof(names), rc == -EADDRINUSE ?
			      "another jefe-setup answers on this socket" : jefe_strerror(rc)));
		return rc;
	}
	d->socket_bound = true;
	daemon_status_group_update(d);

	if ((rc = daemon_epoll_add(d, d->sigfd, EPOLLIN, ev_pack(EV_SIGNAL, 0, 0, d->sigfd))) < 0 ||
	    (rc = daemon_epoll_add(d, d->timerfd, EPOLLIN, ev_pack(EV_TIMER, 0, 0, d->timerfd))) < 0 ||
	    (rc = daemon_epoll_add(d, d->debouncefd, EPOLLIN,
				   ev_pack(EV_DEBOUNCE, 0, 0, d->debouncefd))) < 0 ||
	    (rc = daemon_epoll_add(d, d->listenfd, EPOLLIN,
				   ev_pack(EV_LISTEN, 0, 0, d->listenfd))) < 0) {
		daemon_say(d, LOG_ERR, "start failed msg=%s", kv(names, sizeof(names), strerror(-rc)));
		return rc;
	}

	log_msg(&d->log, LOG_NOTICE, "started version=%s layers=%s mode=%s", PACKAGE_VERSION,
		daemon_layer_names(d, names, sizeof(names)), policy_mode_name(d->policy->mode));
	/*
	 * Watch before the first pass: a change made while it runs must raise
	 * an event, or it would wait for the backstop timer.  Our own writes
	 * raise events too; they cost one re-check that finds compliance.
	 */
	daemon_watches_add(d);
	rc = daemon_pass_all(d, true);
	if (rc == -ENOMEM)
		return rc;
	rc = daemon_timer_arm(d->timerfd, d->policy->check_interval, 0);
	if (rc < 0) {
		daemon_say(d, LOG_ERR, "start failed msg=%s", kv(names, sizeof(names), strerror(-rc)));
		return rc;
	}
	return 0;
}

int daemon_run(struct daemon *d)
{
	struct epoll_event evs[32];

	while (!d->stop) {
		int timeout = daemon_clients_expire(d);
		int n = epoll_wait(d->epfd, evs, 32, timeout);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_msg(&d->log, LOG_ERR, "loop error msg=%s",
				kv((char[256]){ 0 }, 256, strerror(errno)));
			return -errno;
		}
		for (int k = 0; k < n && !d->stop; k++) {
			uint64_t c = evs[k].data.u64;
			unsigned int i = ev_layer(c);
			bool recheck = false;
			int rc;

			switch (ev_kind(c)) {
			case EV_SIGNAL:
				daemon_signals(d);
				break;
			case EV_TIMER:
				daemon_timer_drain(d->timerfd);
				if (daemon_pass_all(d, false) == -ENOMEM)
					return -ENOMEM;
				break;
			case EV_DEBOUNCE:
				daemon_timer_drain(d->debouncefd);
				d->debounce_armed = false;
				if (daemon_pass_dirty(d) == -ENOMEM)
					return -ENOMEM;
				break;
			case EV_LISTEN:
				daemon_accept(d);
				break;
			case EV_CLIENT:
				daemon_client_ready(d, ev_fd(c));
				break;
			case EV_WATCH:
				/* An event queued before a reload swapped the layer set. */
				if (ev_gen(c) != (d->generation & 0xffff) || i >= DAEMON_MAX_LAYERS)
					break;
				rc = jefe_layers[i]->on_event(d->set.state[i], ev_fd(c),
							      evs[k].events, &recheck);
				if (rc < 0) {
					/* Never spin on a broken fd: the backstop timer remains. */
					(void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, ev_fd(c), NULL);
					log_msg(&d->log, LOG_WARNING,
						"watch error layer=%s msg=%s action=timer-only",
						jefe_layers[i]->name,
						kv((char[256]){ 0 }, 256, jefe_strerror(rc)));
					recheck = true;
				}
				if (recheck) {
					d->dirty[i] = true;
					if (!d->debounce_armed &&
					    daemon_timer_arm(d->debouncefd, 0, DAEMON_DEBOUNCE_MS) == 0)
						d->debounce_armed = true;
				}
				break;
			}
		}
	}
	log_msg(&d->log, LOG_NOTICE, "stopping");
	return 0;
}

void daemon_fini(struct daemon *d)
{
	for (unsigned int i = 0; i < DAEMON_MAX_CLIENTS; i++)
		if (d->clients[i].fd >= 0)
			close(d->clients[i].fd);
	if (d->listenfd >= 0)
		close(d->listenfd);
	if (d->socket_bound)
		(void)unlink(d->socket_path);
	if (d->pidfile_written)
		(void)unlink(d->pidfile);
	if (d->set_loaded) {
		daemon_watches_remove(d);
		layer_set_free(&d->set);
	}
	policy_free(d->policy);
	for (unsigned int i = 0; i < DAEMON_MAX_LAYERS; i++) {
		findings_free(&d->last[i]);
		strv_free(&d->noted[i]);
		for (size_t k = 0; k < d->fights[i].n; k++)
			free(d->fights[i].v[k].item);
		free(d->fights[i].v);
	}
	free(d->reload_refused);
	if (d->timerfd >= 0)
		close(d->timerfd);
	if (d->debouncefd >= 0)
		close(d->debouncefd);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->env.root_fd >= 0)
		close(d->env.root_fd);
	if (d->log_open)
		log_close(&d->log);
}

/* ---- pidfile and daemonizing ------------------------------------------------ */

/*
 * O_EXCL so two daemons never both think they own the file; a file left by
 * a dead daemon (its pid no longer runs) is removed and we try once more.
 */
static int daemon_pidfile_write(struct daemon *d)
{
	char buf[32];
	char *slash;

	slash = strrchr(d->pidfile, '/');
	if (slash != NULL && slash != d->pidfile) {
		*slash = '\0';
		(void)mkdir(d->pidfile, 0755);
		*slash = '/';
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = open(d->pidfile, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		ssize_t n;
		long pid;

		if (fd >= 0) {
			int len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

			n = write(fd, buf, (size_t)len);
			if (n != len || close(fd) < 0) {
				(void)unlink(d->pidfile);
				return n < 0 ? -errno : -EIO;
			}
			d->pidfile_written = true;
			return 0;
		}
		if (errno != EEXIST)
			return -errno;
		fd = open(d->pidfile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		pid = strtol(buf, NULL, 10);
		if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
			return -EEXIST;
		if (unlink(d->pidfile) < 0 && errno != ENOENT)
			return -errno;
	}
	return -EEXIST;
}

/*
 * Fork; the parent waits until the child has written its pidfile, so that
 * the exit status of `jefe-setup` tells the service manager whether the
 * daemon really started.  Returns 0 in the child, or 1 in the parent with
 * *exit_code set.
 */
static int daemon_detach(struct daemon *d, int *exit_code)
{
	int pfd[2], fd, rc;
	pid_t pid;
	char c;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return rc;
	}
	if (pid > 0) {
		ssize_t n;

		close(pfd[1]);
		do
			n = read(pfd[0], &c, 1);
		while (n < 0 && errno == EINTR);
		close(pfd[0]);
		if (n == 1) {
			/* The child owns the socket, pidfile and layer state now. */
			d->socket_bound = false;
			*exit_code = 0;
		} else {
			int st;

			(void)waitpid(pid, &st, 0);
			d->socket_bound = false;
			*exit_code = 1;
		}
		return 1;
	}

	close(pfd[0]);
	if (setsid() < 0 || chdir("/") < 0) {
		rc = -errno;
		goto fail;
	}
	rc = daemon_pidfile_write(d);
	if (rc < 0) {
		daemon_say(d, LOG_ERR, "start failed pidfile=%s msg=%s",
			   kv((char[PATH_MAX + 8]){ 0 }, PATH_MAX + 8, d->pidfile),
			   rc == -EEXIST ? "\"another jefe-setup is running\"" :
			   kv((char[256]){ 0 }, 256, strerror(-rc)));
		goto fail;
	}
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto fail;
	}
	(void)dup2(fd, STDIN_FILENO);
	(void)dup2(fd, STDOUT_FILENO);
	(void)dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	rc = daemon_signals_reopen(d);
	if (rc < 0)
		goto fail;
	c = '\n';
	(void)write(pfd[1], &c, 1);
	close(pfd[1]);
	return 0;
fail:
	close(pfd[1]);
	return rc;
}

/*
 * systemd's readiness protocol (sd_notify(3)) without libsystemd: one
 * datagram such as "READY=1" to the unix socket named by $NOTIFY_SOCKET,
 * an abstract one when the name starts with '@'.
 */
static int daemon_sd_notify(const char *path, const char *state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	socklen_t sa_len;
	ssize_t n;
	int fd, err = 0;

	if ((path[0] != '/' && path[0] != '@') || len < 2 || len >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	do
		n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, sa_len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

static void daemon_notify_systemd(struct daemon *d, const char *state)
{
	int err;

	if (!d->notify_socket[0])
		return;
	err = daemon_sd_notify(d->notify_socket, state);
	if (err < 0)
		log_msg(&d->log, LOG_WARNING, "ready error socket=%s msg=%s",
			kv((char[256]){ 0 }, 256, d->notify_socket),
			kv((char[256]){ 0 }, 256, strerror(-err)));
}

/*
 * Ready once the policy is applied and watched: OpenRC's notify=fd:N (one
 * newline) and systemd's Type=notify (READY=1), whichever started us.
 */
static void daemon_notify_ready(struct daemon *d)
{
	ssize_t n;

	daemon_notify_systemd(d, "READY=1");
	if (d->ready_fd < 0)
		return;
	do
		n = write(d->ready_fd, "\n", 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		log_msg(&d->log, LOG_WARNING, "ready error fd=%d msg=%s", d->ready_fd,
			kv((char[256]){ 0 }, 256, strerror(errno)));
	close(d->ready_fd);
	d->ready_fd = -1;
}

/* ---- main ------------------------------------------------------------------------ */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: jefe-setup [OPTION]...\n"
		"Apply the JefeLinux hardening policy and keep the host on it.\n"
		"\n"
		"  --root DIR         act on the tree below DIR (default /)\n"
		"  --config FILE      main policy file below root (default %s)\n"
		"  --socket PATH      control socket (default ROOT%s)\n"
		"  --pidfile PATH     pidfile when daemonizing (default ROOT/run/jefe-setup.pid)\n"
		"  --foreground       do not daemonize; copy log lines to stderr\n"
		"  --debug            also log routine lines (every status request)\n"
		"  --log-socket PATH  send log lines to this unix datagram socket, not syslog\n"
		"  --ready-fd N       write a newline to fd N when ready (OpenRC notify=fd:N)\n"
		"                     (under systemd, READY=1 goes to $NOTIFY_SOCKET)\n"
		"  --version          print the version and exit\n"
		"  --help             print this help and exit\n"
		"\n"
		"Signals: SIGHUP reloads the policy, SIGTERM and SIGINT stop.\n"
		"Exit status: 0 stopped cleanly, 1 error, 2 usage error.\n",
		POLICY_MAIN_FILE, IPC_SOCKET_PATH);
}

static int join_root(char *buf, size_t size, const char *root, const char *path)
{
	int n;

	if (strcmp(root, "/") == 0)
		n = snprintf(buf, size, "%s", path);
	else
		n = snprintf(buf, size, "%s%s%s", root,
			     root[strlen(root) - 1] == '/' ? "" : "/", path + 1);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int main(int argc, char **argv)
{
	enum { OPT_ROOT = 256, OPT_CONFIG, OPT_SOCKET, OPT_PIDFILE, OPT_FOREGROUND,
	       OPT_LOG_SOCKET, OPT_READY_FD, OPT_DEBUG, OPT_VERSION, OPT_HELP };
	static const struct option opts[] = {
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "pidfile", required_argument, NULL, OPT_PIDFILE },
		{ "foreground", no_argument, NULL, OPT_FOREGROUND },
		{ "log-socket", required_argument, NULL, OPT_LOG_SOCKET },
		{ "ready-fd", required_argument, NULL, OPT_READY_FD },
		{ "debug", no_argument, NULL, OPT_DEBUG },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d;
	const char *socket_opt = NULL, *pidfile_opt = NULL;
	int c, rc, exit_code = 0;

	daemon_init(&d);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;
		long v;

		switch (c) {
		case OPT_ROOT:
			d.root = optarg;
			break;
		case OPT_CONFIG:
			d.config = optarg;
			break;
		case OPT_SOCKET:
			socket_opt = optarg;
			break;
		case OPT_PIDFILE:
			pidfile_opt = optarg;
			break;
		case OPT_FOREGROUND:
			d.foreground = true;
			break;
		case OPT_DEBUG:
			d.debug = true;
			break;
		case OPT_LOG_SOCKET:
			d.log_socket = optarg;
			break;
		case OPT_READY_FD:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno || v < 0 || v > INT_MAX ||
			    fcntl((int)v, F_GETFD) < 0) {
				fprintf(stderr, "jefe-setup: --ready-fd %s: not an open file descriptor\n",
					optarg);
				return 2;
			}
			d.ready_fd = (int)v;
			break;
		case OPT_VERSION:
			printf("jefe-setup %s\n", PACKAGE_VERSION);
			return 0;
		case OPT_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "jefe-setup: unexpected argument: %s\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (d.root[0] != '/') {
		fprintf(stderr, "jefe-setup: --root %s: must be an absolute path\n", d.root);
		return 2;
	}
	rc = socket_opt ? (snprintf(d.socket_path, sizeof(d.socket_path), "%s", socket_opt) <
			   (int)sizeof(d.socket_path) ? 0 : -ENAMETOOLONG)
			: join_root(d.socket_path, sizeof(d.socket_path), d.root, IPC_SOCKET_PATH);
	if (rc == 0 && !d.foreground)
		rc = pidfile_opt ? (snprintf(d.pidfile, sizeof(d.pidfile), "%s", pidfile_opt) <
				    (int)sizeof(d.pidfile) ? 0 : -ENAMETOOLONG)
				 : join_root(d.pidfile, sizeof(d.pidfile), d.root, "/run/jefe-setup.pid");
	if (rc < 0) {
		fprintf(stderr, "jefe-setup: path too long\n");
		return 2;
	}
	if (d.ready_fd >= 0)
		(void)fcntl(d.ready_fd, F_SETFD, FD_CLOEXEC);
	/* Ours alone: the programs the layers run (sshd -T, ...) must not
	 * inherit it and speak for us. */
	if (getenv("NOTIFY_SOCKET")) {
		if (snprintf(d.notify_socket, sizeof(d.notify_socket), "%s",
			     getenv("NOTIFY_SOCKET")) >= (int)sizeof(d.notify_socket)) {
			fprintf(stderr, "jefe-setup: NOTIFY_SOCKET: path too long\n");
			return 2;
		}
		unsetenv("NOTIFY_SOCKET");
	}

	rc = daemon_start(&d);
	if (rc == 0 && !d.foreground) {
		rc = daemon_detach(&d, &exit_code);
		if (rc == 1) {
			/*
			 * The parent: the child carries on with everything.
			 * The epoll instance is shared with the child, so
			 * close it before daemon_fini() could take the
			 * child's registrations out of it.
			 */
			close(d.epfd);
			d.epfd = -1;
			d.pidfile_written = false;
			daemon_fini(&d);
			return exit_code;
		}
	}
	if (rc == 0) {
		daemon_notify_ready(&d);
		rc = daemon_run(&d);
		daemon_notify_systemd(&d, "STOPPING=1");
	}
	daemon_fini(&d);
	return rc < 0 ? 1 : 0;
}
