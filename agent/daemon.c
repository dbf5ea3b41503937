/* SPDX-License-Identifier: MIT */
/*
 * jefe-setup: apply the policy, then keep the host on it.
 *
 * One epoll loop, no threads: signalfd for SIGHUP/SIGTERM/SIGINT, a timerfd
 * backstop (changes made inside the kernel raise no event), a debounce
 * timerfd (a burst of inotify events costs one check), each layer's event
 * sources, and the IPC socket.  Everything the loop needs is in one
 * struct daemon owned by main(); only main() exits.
 *
 * This file is the loop and its lifecycle (start, reload, stop); the
 * passes are daemon_pass.c, what is published daemon_publish.c, the
 * socket server daemon_ipc.c, main() and detaching daemon_main.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "daemon.h"
#include "daemon_ipc.h"
#include "daemon_pass.h"
#include "daemon_publish.h"
#include "errors.h"
#include "ipc.h"
#include "layer.h"
#include "log.h"
#include "policy.h"
#include "util.h"

/*
 * inotify on /proc/sys raises one event per write, and `sysctl -p` writes
 * dozens of keys in a row: wait this long after the first event so a burst
 * costs one check, while keeping detection latency far below a second.
 */
#define DAEMON_DEBOUNCE_MS	10
/* Socket mode: the status group may connect; others cannot even do that. */
#define DAEMON_SOCKET_MODE_GROUP 0660
#define DAEMON_SOCKET_MODE_ROOT	0600

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
void daemon_say(struct daemon *d, int prio, const char *fmt, ...)
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


/* ---- event sources --------------------------------------------------- */

int daemon_epoll_add(struct daemon *d, int fd, uint32_t events, uint64_t cookie)
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
					      daemon_ev_pack(EV_WATCH, i, d->generation, ws->fds[k]));
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
int daemon_reload(struct daemon *d, struct policy_errors *errs_out)
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

	/* A pass under way belongs to the running policy: its end first. */
	if (daemon_workers_wait(d) == -ENOMEM) {
		policy_free(p);
		layer_set_free(&set);
		return -ENOMEM;
	}
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
	rc = daemon_pass_all(d, true, DAEMON_VERIFIED_RELOAD);
	daemon_watches_add(d);
	return rc == -ENOMEM ? rc : 0;
}

long long daemon_layer_due(const struct daemon *d, unsigned int i)
{
	long long due = d->dirty_ms[i] + DAEMON_DEBOUNCE_MS;
	long long backoff = d->pass_end_ms[i] + d->pass_ms[i];

	return backoff > due ? backoff : due;
}

void daemon_debounce_schedule(struct daemon *d)
{
	long long next = -1, now = clock_ms();
	unsigned int ms;

	for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++)
		/* A layer whose pass is under way is scheduled when that pass ends. */
		if (d->dirty[i] && !daemon_worker_busy(d, i) &&
		    (next < 0 || daemon_layer_due(d, i) < next))
			next = daemon_layer_due(d, i);
	if (d->publish_pending && (next < 0 || d->publish_ms + DAEMON_PUBLISH_MIN_MS < next))
		next = d->publish_ms + DAEMON_PUBLISH_MIN_MS;
	if (next < 0) {
		if (d->debounce_armed && daemon_timer_arm(d->debouncefd, 0, 0) == 0)
			d->debounce_armed = false;
		return;
	}
	/* A zero it_value would disarm the timer: at least 1 ms. */
	ms = next - now < 1 ? 1 : (unsigned int)(next - now);
	if (daemon_timer_arm(d->debouncefd, 0, ms) == 0) {
		d->debounce_armed = true;
		d->debounce_due_ms = next;
	}
}

/* An event asked for a check of layer i: debounced, so a burst costs one. */
void daemon_recheck(struct daemon *d, unsigned int i, enum daemon_verified why)
{
	if (i >= DAEMON_MAX_LAYERS)
		return;
	d->dirty_by[i] = why;
	if (d->dirty[i] && d->dirty_ms[i] <= clock_ms())
		return;
	/* Dirty already, but for a retry later on (daemon_retry_after()): now. */
	d->dirty[i] = true;
	d->dirty_ms[i] = clock_ms();
	/* Only ever earlier: the timer is armed for the layer due first. */
	if (!d->debounce_armed)
		daemon_debounce_schedule(d);
	else if (daemon_layer_due(d, i) < d->debounce_due_ms)
		daemon_debounce_schedule(d);
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
	for (unsigned int i = 0; i < DAEMON_MAX_LAYERS; i++)
		child_init(&d->workers[i].child);
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
int daemon_signals_reopen(struct daemon *d)
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
	rc = daemon_epoll_add(d, fd, EPOLLIN, daemon_ev_pack(EV_SIGNAL, 0, 0, fd));
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
	/* Whether the root is this host: decided once, for every layer. */
	rc = jefe_env_init(&d->env, d->root, d->env.root_fd, d->policy_dir);
	if (rc < 0)
		return rc;

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

	if ((rc = daemon_epoll_add(d, d->sigfd, EPOLLIN, daemon_ev_pack(EV_SIGNAL, 0, 0, d->sigfd))) < 0 ||
	    (rc = daemon_epoll_add(d, d->timerfd, EPOLLIN, daemon_ev_pack(EV_TIMER, 0, 0, d->timerfd))) < 0 ||
	    (rc = daemon_epoll_add(d, d->debouncefd, EPOLLIN,
				   daemon_ev_pack(EV_DEBOUNCE, 0, 0, d->debouncefd))) < 0 ||
	    (rc = daemon_epoll_add(d, d->listenfd, EPOLLIN,
				   daemon_ev_pack(EV_LISTEN, 0, 0, d->listenfd))) < 0) {
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
	rc = daemon_pass_all(d, true, DAEMON_VERIFIED_START);
	if (rc == -ENOMEM)
		return rc;
	rc = daemon_timer_arm(d->timerfd, d->policy->check_interval, 0);
	if (rc < 0) {
		daemon_say(d, LOG_ERR, "start failed msg=%s", kv(names, sizeof(names), strerror(-rc)));
		return rc;
	}
	return 0;
}

/* One of layer i's fds is ready: let the layer drain it. */
static void daemon_watch_event(struct daemon *d, unsigned int i, int fd, uint32_t events)
{
	bool recheck = false;
	int rc = jefe_layers[i]->on_event(d->set.state[i], fd, events, &recheck);

	if (rc < 0) {
		/* Never spin on a broken fd: the backstop timer remains. */
		(void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
		for (unsigned int k = 0; k < d->watches[i].n; k++)
			if (d->watches[i].fds[k] == fd)
				d->watches[i].fds[k] = -1;
		log_msg(&d->log, LOG_WARNING, "watch error layer=%s msg=%s action=timer-only",
			jefe_layers[i]->name, kv((char[256]){ 0 }, 256, jefe_strerror(rc)));
		recheck = true;
	}
	if (recheck)
		daemon_recheck(d, i, DAEMON_VERIFIED_EVENT);
}

/*
 * The kernel queues an event when the change is made (fsnotify at the
 * write(), an nf_tables message at the commit), so a poll() that finds
 * nothing ready means no change is waiting to be seen.  The audit
 * layer's CONFIG_CHANGE records are the exception: kauditd sends them a
 * moment later, from its own thread.
 */
void daemon_events_drain(struct daemon *d)
{
	struct pollfd pfds[DAEMON_MAX_LAYERS * WATCH_MAX_FDS];
	unsigned int layer[DAEMON_MAX_LAYERS * WATCH_MAX_FDS];
	nfds_t n = 0;

	for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++) {
		if (d->set.state[i] == NULL)
			continue;
		for (unsigned int k = 0; k < d->watches[i].n; k++) {
			if (d->watches[i].fds[k] < 0)
				continue;
			pfds[n] = (struct pollfd){ .fd = d->watches[i].fds[k],
						   .events = (short)d->watches[i].events[k] };
			layer[n++] = i;
		}
	}
	if (n == 0 || poll(pfds, n, 0) <= 0)
		return;
	for (nfds_t k = 0; k < n; k++)
		if (pfds[k].revents != 0)
			daemon_watch_event(d, layer[k], pfds[k].fd, (uint32_t)pfds[k].revents);
}

int daemon_run(struct daemon *d)
{
	struct epoll_event evs[32];

	while (!d->stop) {
		int timeout = daemon_ipc_clients_expire(d);
		int wtimeout = daemon_workers_expire(d);
		int n;

		if (wtimeout == -ENOMEM)
			return -ENOMEM;
		if (wtimeout >= 0 && (timeout < 0 || wtimeout < timeout))
			timeout = wtimeout;
		n = epoll_wait(d->epfd, evs, 32, timeout);

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

			switch (ev_kind(c)) {
			case EV_SIGNAL:
				daemon_signals(d);
				break;
			case EV_TIMER:
				daemon_timer_drain(d->timerfd);
				if (daemon_pass_all(d, false, DAEMON_VERIFIED_TIMER) == -ENOMEM)
					return -ENOMEM;
				break;
			case EV_DEBOUNCE:
				daemon_timer_drain(d->debouncefd);
				d->debounce_armed = false;
				if (daemon_pass_due(d) == -ENOMEM)
					return -ENOMEM;
				daemon_debounce_schedule(d);
				break;
			case EV_LISTEN:
				daemon_ipc_accept(d);
				break;
			case EV_CLIENT:
				daemon_ipc_client_ready(d, ev_fd(c));
				break;
			case EV_WORKER:
				if (ev_gen(c) != (d->generation & 0xffff) || i >= DAEMON_MAX_LAYERS ||
				    d->workers[i].child.fd != ev_fd(c))
					break;
				if (daemon_worker_ready(d, i) == -ENOMEM)
					return -ENOMEM;
				break;
			case EV_WATCH:
				/* An event queued before a reload swapped the layer set. */
				if (ev_gen(c) != (d->generation & 0xffff) || i >= DAEMON_MAX_LAYERS)
					break;
				daemon_watch_event(d, i, ev_fd(c), evs[k].events);
				break;
			}
		}
	}
	log_msg(&d->log, LOG_NOTICE, "stopping");
	return 0;
}

void daemon_fini(struct daemon *d)
{
	/* A pass under way is killed with the programs it runs. */
	for (unsigned int i = 0; i < DAEMON_MAX_LAYERS; i++)
		child_free(&d->workers[i].child);
	daemon_ipc_fini(d);
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
	daemon_pass_fini(d);
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
