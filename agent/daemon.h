/* SPDX-License-Identifier: MIT */
/*
 * jefe-setup: the resident agent.  Applies the policy at start, then runs
 * one epoll loop over signalfd (SIGHUP reload, SIGTERM/SIGINT stop), a
 * timerfd backstop, a debounce timerfd, each layer's event sources and the
 * IPC socket.  All state lives in one struct daemon that main() owns.
 *
 * The daemon's modules: daemon.c (the loop, start, reload, stop),
 * daemon_pass.c (check and repair), daemon_publish.c (report document,
 * status file, metrics), daemon_ipc.c (the socket server), daemon_main.c
 * (main, pidfile, detach, readiness).
 */
#ifndef JEFE_DAEMON_H
#define JEFE_DAEMON_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/un.h>
#include <sys/types.h>

#include "child.h"
#include "layer.h"
#include "log.h"
#include "policy.h"
#include "util.h"

#define DAEMON_MAX_LAYERS	16	/* the size of struct layer_set's arrays */
#define DAEMON_MAX_CLIENTS	16	/* connections waiting for their request */
/* At most one status file and metrics write this often (a burst's passes). */
#define DAEMON_PUBLISH_MIN_MS	100
/* The first retry of a layer whose pass could not check, in ms. */
#define DAEMON_RETRY_MIN_MS	10000
#define DAEMON_RATE_UIDS	16	/* non-root uids with a request budget */

/*
 * One item that something keeps undoing ("contested"): the daemon keeps
 * repairing it, but a fight costs one line when it starts and a summary
 * a minute, not a line per repair.
 */
struct daemon_fight {
	char *item;
	long long first_ms;	/* first repair of this run of repairs */
	long long last_ms;	/* the latest repair */
	long long logged_ms;	/* the latest contested line */
	unsigned long repairs;	/* since first_ms */
	unsigned long unlogged;	/* repairs since the latest line */
	bool contested;
};

struct daemon_fights {
	struct daemon_fight *v;
	size_t n;
	size_t cap;
};

/* A token bucket per peer uid: a status-group member cannot flood us. */
struct daemon_rate {
	uid_t uid;
	bool used;
	long long tokens_milli;	/* 1000 per request */
	long long last_ms;	/* the latest refill */
	long long logged_ms;	/* the latest "rate limited" line, 0: none */
	unsigned long refused;	/* since that line */
};

/* An accepted connection whose request has not arrived yet. */
struct daemon_client {
	int fd;			/* -1: free slot */
	long long deadline;	/* clock_ms() after which it is dropped */
};

/*
 * How a layer's latest findings were verified: what made the daemon
 * check it (`verified_by` in the report document).
 */
enum daemon_verified {
	DAEMON_VERIFIED_NONE,
	DAEMON_VERIFIED_START,		/* the first pass */
	DAEMON_VERIFIED_RELOAD,		/* the pass of a new policy */
	DAEMON_VERIFIED_EVENT,		/* a watch saw a change (inotify, netlink) */
	DAEMON_VERIFIED_TIMER,		/* the backstop timer */
	DAEMON_VERIFIED_REQUEST,	/* `jefe status --fresh` */
	DAEMON_VERIFIED_ENFORCE,	/* the re-check after `jefe enforce` */
};

const char *daemon_verified_name(enum daemon_verified v);

/*
 * A pass of a layer that runs programs (layer_ops.runs_programs), in a
 * child process: what it was started for, so that its findings are
 * recorded as the pass in the loop would have.
 */
struct daemon_worker {
	struct child child;		/* pid 0: none running */
	bool force_apply;
	enum daemon_verified how;
	long long start_ms;
	unsigned int gen;		/* the layer set it was started on */
	bool follow_up;			/* a burst's pass: at DAEMON_WORKER_BURST_NICE */
};

/*
 * What a follow-up pass adds to the loop's nice value (at most 19): a
 * pass whose events arrived while the layer's previous pass ran, that is
 * a layer under a burst of events.  Its programs (a burst of `sshd -T`) then
 * yield the CPU to the loop and the other layers' checks; the first pass
 * after a quiet spell keeps the loop's priority, so a single tamper is
 * found as fast as before.
 */
#define DAEMON_WORKER_BURST_NICE	10

/*
 * How long such a pass may take: the sshd layer's reload through OpenRC
 * may take 30 s, a restart of sshd under way 5 s more, each sshd run 10 s.
 */
#define DAEMON_WORKER_TIMEOUT_MS	60000

/* The last full report, below the root. */
#define DAEMON_STATUS_FILE JEFE_STATE_DIR "/status.json"

struct daemon {
	/* Options. */
	const char *root;
	const char *config;		/* main policy file below root, or NULL */
	const char *log_socket;		/* datagram socket instead of syslog */
	char socket_path[PATH_MAX];
	char pidfile[PATH_MAX];		/* "" with --foreground */
	char policy_dir[PATH_MAX];	/* directory of the main policy file */
	bool foreground;
	bool debug;			/* --debug: log LOG_DEBUG lines too */
	int ready_fd;			/* -1: none */
	/* systemd's $NOTIFY_SOCKET (sd_notify(3)), "" when not under it. */
	char notify_socket[sizeof(((struct sockaddr_un *)0)->sun_path)];

	struct logger log;
	bool log_open;
	struct jefe_env env;
	struct policy *policy;
	struct layer_set set;
	bool set_loaded;
	bool status_gid_valid;
	gid_t status_gid;

	int epfd;
	int sigfd;
	int timerfd;			/* backstop, every check_interval s */
	int debouncefd;			/* one-shot after a layer event */
	int listenfd;
	unsigned int generation;	/* bumped when the layer set is swapped */

	struct watch_set watches[DAEMON_MAX_LAYERS];
	bool dirty[DAEMON_MAX_LAYERS];	/* an event asked for a recheck */
	bool debounce_armed;
	/*
	 * The debounce schedule per layer (clock_ms()): when it became dirty,
	 * how long its latest pass took and when that pass ended.  A layer is
	 * due DAEMON_DEBOUNCE_MS after its first event, and no sooner than
	 * its own latest pass's duration after that pass: a layer under a
	 * burst of events takes at most half of the loop, and the others are
	 * checked in between, cheapest first.
	 */
	long long dirty_ms[DAEMON_MAX_LAYERS];
	long long pass_ms[DAEMON_MAX_LAYERS];
	long long pass_end_ms[DAEMON_MAX_LAYERS];
	long long debounce_due_ms;	/* what the armed debounce timer is for */
	long long publish_ms;		/* the latest status.json and metrics write */
	bool publish_pending;		/* a pass since then, not yet written */
	bool drifted[DAEMON_MAX_LAYERS];	/* drift left after the last pass */
	/* Items whose non-repaired drift was logged already, per layer. */
	struct strv noted[DAEMON_MAX_LAYERS];
	/* What each layer's latest pass found, and when: status.json, metrics. */
	struct findings last[DAEMON_MAX_LAYERS];
	/*
	 * last[i] rendered as a status reply's findings, once per pass that
	 * changed it (report_findings_render()); NULL until a reply needs it.
	 */
	char *last_json[DAEMON_MAX_LAYERS];
	/* The same for `jefe status --json` (report_findings_render_pretty()). */
	char *last_json_pretty[DAEMON_MAX_LAYERS];
	/* policy_digest() of the running policy, once per policy. */
	char policy_digest[POLICY_DIGEST_HEX];
	const struct policy *digest_of;		/* NULL: not computed */
	unsigned int digest_gen;		/* generation when computed */
	time_t last_at[DAEMON_MAX_LAYERS];
	enum daemon_verified verified_by[DAEMON_MAX_LAYERS];
	/*
	 * The wait before the next try of a layer whose pass could not check
	 * (a program timed out on a busy machine): 0 after a pass that could,
	 * else DAEMON_RETRY_MIN_MS, doubled per failed try up to the backstop
	 * interval (daemon_retry_after()).
	 */
	long long retry_ms[DAEMON_MAX_LAYERS];
	/* Why a dirty layer is to be checked: an event, or an enforce. */
	enum daemon_verified dirty_by[DAEMON_MAX_LAYERS];
	/* Counters since the start, per layer (metrics). */
	unsigned long drift_total[DAEMON_MAX_LAYERS];
	unsigned long applied_total[DAEMON_MAX_LAYERS];
	unsigned long repairs_total[DAEMON_MAX_LAYERS][3];	/* repaired, failed, cannot-fix */
	int publish_error;		/* last status.json write result */
	int metrics_error;		/* last metrics write result */
	/* Passes under way in a child process, per layer. */
	struct daemon_worker workers[DAEMON_MAX_LAYERS];
	struct daemon_client clients[DAEMON_MAX_CLIENTS];
	struct daemon_fights fights[DAEMON_MAX_LAYERS];
	struct daemon_rate rates[DAEMON_RATE_UIDS];
	/* The first error of the latest refused reload; NULL once one succeeds. */
	char *reload_refused;

	bool socket_bound;
	bool pidfile_written;
	bool stop;
};

/* The lifecycle, for main(). */
void daemon_init(struct daemon *d);
int daemon_start(struct daemon *d);
int daemon_run(struct daemon *d);
void daemon_fini(struct daemon *d);

/* ---- what the loop (daemon.c) offers the other modules ---- */

/* What an epoll event is about, packed in its 64-bit cookie. */
enum daemon_ev {
	EV_SIGNAL = 1,
	EV_TIMER,
	EV_DEBOUNCE,
	EV_LISTEN,
	EV_CLIENT,
	EV_WATCH,
	EV_WORKER,	/* a layer's pass in a child process has output */
};

static inline uint64_t daemon_ev_pack(enum daemon_ev kind, unsigned int layer, unsigned int gen,
				      int fd)
{
	return (uint64_t)kind | (uint64_t)(layer & 0xff) << 8 |
	       (uint64_t)(gen & 0xffff) << 16 | (uint64_t)(uint32_t)fd << 32;
}

int daemon_epoll_add(struct daemon *d, int fd, uint32_t events, uint64_t cookie);
/* An event (or an enforce) asks for a check of layer i, debounced. */
void daemon_recheck(struct daemon *d, unsigned int i, enum daemon_verified why);
/* Arm the debounce timer for the dirty layer due first (none: disarm). */
void daemon_debounce_schedule(struct daemon *d);
/* When a dirty layer i is due for its check (clock_ms()). */
long long daemon_layer_due(const struct daemon *d, unsigned int i);
/*
 * Take the events already queued on every layer's fds, as the loop would
 * (on_event, marking layers dirty), without waiting: a status request
 * calls this so that its answer includes every change made before it.
 */
void daemon_events_drain(struct daemon *d);
/*
 * SIGHUP or `jefe reload`: an invalid new policy is logged and the running
 * one kept.  errs_out, when given, receives the errors for the IPC reply.
 */
int daemon_reload(struct daemon *d, struct policy_errors *errs_out);
/* After fork: a signalfd of the child's own, polled by the loop. */
int daemon_signals_reopen(struct daemon *d);
/* A line that must also reach the terminal of whoever started us. */
void daemon_say(struct daemon *d, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
