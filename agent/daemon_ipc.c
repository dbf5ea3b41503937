/* SPDX-License-Identifier: MIT */
/*
 * jefe-setup's socket server: accept, wait (bounded) for the one request
 * of a connection, check who asks (SO_PEERCRED) and how often (a token
 * bucket per non-root uid), dispatch to the loop, reply with the report
 * document.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "daemon.h"
#include "daemon_ipc.h"
#include "daemon_pass.h"
#include "daemon_publish.h"
#include "errors.h"
#include "finding.h"
#include "ipc.h"
#include "layer.h"
#include "log.h"
#include "policy.h"
#include "report.h"
#include "services.h"
#include "util.h"

/* A client that connected has this long to send its request. */
#define DAEMON_CLIENT_TIMEOUT_MS 2000
/*
 * Status requests of a non-root peer: a burst of this many, then this many
 * a second.  A monitoring tool polls every few seconds; a check of every
 * layer costs tens of ms, so this bounds what a status-group member can
 * take from the repair loop.  Root is not limited: it can stop us anyway.
 */
#define DAEMON_RATE_BURST	10
#define DAEMON_RATE_PER_S	2
#define DAEMON_RATE_LOG_MS	60000

/* The daemon's short name for log_kv(), used on every line. */
static const char *kv(char *buf, size_t size, const char *s)
{
	return log_kv(buf, size, s);
}

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

/* The reply that carries a report document; the document is put. */
static int daemon_reply_doc(int fd, struct json_object *doc)
{
	const char *s = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	int rc;

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
 * The view `jefe` prints (IPC_FLAG_VIEW), made here with the one printer
 * from the findings the daemon holds: the text table, or the JSON
 * document pretty-printed, with the options of the request; its exit code
 * goes in the reply header.  The client writes the bytes out and parses
 * nothing: json-c's parse of the whole document, and the free of its
 * tree, were most of a `jefe status` through the daemon.  A part of the
 * JSON view is either not rendered or rendered pretty (each layer's
 * `last_json_pretty`), as report_print() indents it.
 */
static int daemon_reply_view(struct daemon *d, int fd, const struct ipc_request *req,
			     const struct report_part *parts, size_t n, const char *kind,
			     time_t when, bool live)
{
	const struct report_style style = { .verbose = (req->flags & IPC_FLAG_VERBOSE) != 0,
					    .color = (req->flags & IPC_FLAG_COLOR) != 0 };
	enum report_verb verb = req->command != IPC_CMD_ENFORCE ? REPORT_STATUS :
				(req->flags & IPC_FLAG_DRY_RUN) ? REPORT_DRY_RUN : REPORT_ENFORCE;
	uint16_t exit_code = (uint16_t)report_parts_exit_code(parts, n);
	struct json_object *doc = NULL;
	struct iovec piece[2];
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (req->flags & IPC_FLAG_JSON) {
		/* Sent from json-c's own text and a newline: no copy of 76 KB per request. */
		rc = daemon_report_parts(d, parts, n, kind, when, live, &doc);
		piece[0].iov_base = rc == 0 ? (void *)report_json_text(doc, &len) : NULL;
		piece[0].iov_len = len;
		piece[1] = (struct iovec){ .iov_base = "\n", .iov_len = 1 };
		if (rc == 0 && piece[0].iov_base == NULL)
			rc = -ENOMEM;
	} else {
		FILE *f = open_memstream(&text, &len);

		rc = f != NULL ? 0 : -ENOMEM;
		if (rc == 0)
			rc = report_build_head_parts(parts, n, &doc);
		if (rc == 0)
			rc = report_print_text_parts(f, doc, parts, n, verb, &style);
		if (f != NULL && fclose(f) != 0 && rc == 0)
			rc = -ENOMEM;
		piece[0] = (struct iovec){ .iov_base = text, .iov_len = len };
	}
	if (rc == 0 && len + 1 > IPC_MAX_PAYLOAD)
		rc = -EMSGSIZE;
	if (rc < 0)
		rc = daemon_reply_text(fd, rc, jefe_strerror(rc));
	else
		rc = ipc_send_reply_pieces(fd, 0, exit_code, piece,
					   (req->flags & IPC_FLAG_JSON) ? 2 : 1);
	json_object_put(doc);
	free(text);
	return rc;
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

/*
 * A status answer from the live state: first the events already queued
 * (a change made before the request has raised its event by now) and the
 * checks they call for, then each selected layer's latest findings.  With
 * IPC_FLAG_FRESH the selected layers get a pass now instead, exactly as
 * if an event had asked: drift is logged and, in enforce mode, repaired.
 * The answer is the live state (daemon_state_parts(), each layer's
 * findings rendered once per pass that changed them) and `extra` (the
 * services, a refused reload); while an item is fought over its findings
 * are marked, so then they are copied into fs with extra's and marked for
 * this reply (*fought true).
 */
static int daemon_status_live(struct daemon *d, uint32_t only, bool fresh,
			      struct findings *fs, struct findings *extra, bool *fought)
{
	int rc;

	/* A pass under way was asked for by a change made before this request. */
	if (daemon_workers_wait(d) == -ENOMEM)
		return -ENOMEM;
	if (fresh) {
		rc = daemon_pass_layers(d, only, false, DAEMON_VERIFIED_REQUEST);
	} else {
		daemon_events_drain(d);
		rc = daemon_pass_dirty(d);
	}
	/* A layer whose pass failed says so in its findings; only memory is fatal. */
	if (rc == -ENOMEM)
		return rc;
	*fought = daemon_fights_any(d);
	rc = *fought ? daemon_state_findings(d, only, fs) : 0;
	/* As layer_set_check(): the services, for a full status of the real root. */
	if (rc == 0 && only == 0 && d->env.is_host)
		rc = services_status(extra);
	if (rc == 0)
		rc = daemon_reload_refused_finding(d, extra);
	if (rc == 0 && *fought) {
		rc = findings_append(fs, extra);
		if (rc == 0)
			daemon_fights_mark(d, fs);
	}
	return rc;
}

static int daemon_dispatch(struct daemon *d, int fd, const struct ipc_request *req)
{
	uint32_t only = req->layers;
	bool dry_run = (req->flags & IPC_FLAG_DRY_RUN) != 0;
	bool view = (req->flags & IPC_FLAG_VIEW) != 0;
	struct findings fs = { 0 }, extra = { 0 };
	struct policy_errors errs = { 0 };
	struct report_part parts[DAEMON_STATE_PARTS];
	struct json_object *doc = NULL;
	const char *kind = req->command == IPC_CMD_STATUS ? "status" :
			   dry_run ? "dry-run" : "enforce";
	time_t when = time(NULL);
	bool live = false, fought = false;
	size_t n = 0;
	int rc;

	/* A layer asked for by name that the policy lacks: an error, never "compliant". */
	if (req->command != IPC_CMD_RELOAD && layer_set_unloaded(&d->set, only)) {
		char why[4096];

		rc = layer_unloaded_message(d->policy, layer_set_unloaded(&d->set, only), why,
					    sizeof(why));
		return daemon_reply_text(fd, -JEFE_ENOTINPOLICY,
					 rc == 0 ? why : jefe_strerror(-JEFE_ENOTINPOLICY));
	}

	switch (req->command) {
	case IPC_CMD_STATUS:
		rc = daemon_status_live(d, only, (req->flags & IPC_FLAG_FRESH) != 0, &fs, &extra,
					&fought);
		/* The layers' times are their own; the document's is the answer's. */
		when = time(NULL);
		live = true;
		/* The documents splice each layer's text (report_build_parts()). */
		if (rc == 0 && !fought)
			rc = daemon_state_parts(d, only, &extra,
						!view ? DAEMON_RENDERED_PLAIN :
						(req->flags & IPC_FLAG_JSON) ? DAEMON_RENDERED_PRETTY :
						DAEMON_RENDERED_NONE, parts, &n);
		break;
	case IPC_CMD_ENFORCE:
		/* Never two repairs of one layer at once: a pass under way ends first. */
		rc = daemon_workers_wait(d);
		if (rc == 0)
			rc = layer_set_apply(&d->set, only, dry_run, false, &fs);
		if (rc == 0 && !dry_run)
			daemon_log_applied(d, &fs);
		if (rc == 0 && !dry_run) {
			/* The next pass must not report what the admin just fixed as old drift. */
			for (unsigned int i = 0; i < jefe_layers_count && i < DAEMON_MAX_LAYERS; i++)
				daemon_recheck(d, i, DAEMON_VERIFIED_ENFORCE);
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
		/* The reload's own pass has just checked every layer. */
		if (rc == 0)
			rc = daemon_state_findings(d, 0, &fs);
		live = true;
		break;
	default:
		rc = -JEFE_EPROTO;
		break;
	}
	if (rc >= 0 && n == 0)
		parts[n++] = (struct report_part){ .fs = &fs };
	if (rc >= 0 && !view)
		rc = daemon_report_parts(d, parts, n, kind, when, live, &doc);
	if (rc < 0)
		rc = daemon_reply_text(fd, rc, jefe_strerror(rc));
	else if (view)
		rc = daemon_reply_view(d, fd, req, parts, n, kind, when, live);
	else
		rc = daemon_reply_doc(fd, doc);
	findings_free(&fs);
	findings_free(&extra);
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

	/* The length is checked first: n may be an oversized message's (MSG_TRUNC). */
	rc = ipc_request_decode_why(buf, (size_t)n, &req, why, sizeof(why));
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
		"request uid=%ld command=%s layer=%s%s%s",
		(long)uid, ipc_command_word(req.command),
		layer_mask_names(req.layers, b2, sizeof(b2)) == 0 ? b2 : "?",
		req.flags & IPC_FLAG_DRY_RUN ? " dry_run=yes" : "",
		req.flags & IPC_FLAG_FRESH ? " fresh=yes" : "");
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
	if (daemon_epoll_add(d, fd, EPOLLIN, daemon_ev_pack(EV_CLIENT, 0, 0, fd)) < 0) {
		close(fd);
		return;
	}
	slot->fd = fd;
	slot->deadline = clock_ms() + DAEMON_CLIENT_TIMEOUT_MS;
}

void daemon_ipc_client_ready(struct daemon *d, int fd)
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

void daemon_ipc_accept(struct daemon *d)
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
int daemon_ipc_clients_expire(struct daemon *d)
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

void daemon_ipc_fini(struct daemon *d)
{
	for (unsigned int i = 0; i < DAEMON_MAX_CLIENTS; i++)
		if (d->clients[i].fd >= 0) {
			close(d->clients[i].fd);
			d->clients[i].fd = -1;
		}
}
