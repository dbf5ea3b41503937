/* SPDX-License-Identifier: MIT */
/*
 * Work in a child process, its result read by the parent's loop (child.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache.h"
#include "child.h"
#include "finding.h"
#include "util.h"

void child_init(struct child *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int child_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int child_start(struct child *c, const char *name, int timeout_ms,
		int (*fn)(void *arg, int fd), void *arg)
{
	int p[2];
	pid_t pid;

	child_init(c);
	snprintf(c->name, sizeof(c->name), "%s", name);
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = -errno;

		close(p[0]);
		close(p[1]);
		return e;
	}
	if (pid == 0) {
		int rc;

		close(p[0]);
		/* Its own group: a kill at the deadline takes sshd -T along. */
		(void)setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		rc = fn(arg, p[1]);
		/*
		 * No exit handlers: they belong to the parent.  The system call
		 * itself, not _exit(): AddressSanitizer intercepts _exit() and
		 * runs LeakSanitizer's whole-heap scan there, seconds per pass
		 * of a busy sanitizer build, for a copy of the parent's heap.
		 */
		syscall(SYS_exit_group, rc == 0 ? 0 : 1);
		_exit(1);	/* not reached */
	}
	/* Also from the parent: no race with a kill before the child's own. */
	(void)setpgid(pid, pid);
	close(p[1]);
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		int e = -errno;

		close(p[0]);
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return e;
	}
	c->pid = c->started = pid;
	c->fd = p[0];
	c->timeout_ms = timeout_ms;
	c->deadline_ms = clock_ms() + timeout_ms;
	return 0;
}

int child_read(struct child *c)
{
	if (c->fd < 0 || c->eof)
		return 1;
	for (;;) {
		ssize_t n;

		if (c->cap - c->len < 4096 + 1) {
			size_t cap = c->cap ? c->cap * 2 : 16384;
			char *p = realloc(c->out, cap);

			if (!p)
				return -ENOMEM;
			c->out = p;
			c->cap = cap;
		}
		n = read(c->fd, c->out + c->len, c->cap - c->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return -errno;
		if (n == 0) {
			/* Closed by child_reap(): the loop takes it out of its set first. */
			c->eof = true;
			return 1;
		}
		c->len += (size_t)n;
		c->out[c->len] = '\0';
	}
}

static int child_status_why(const struct child *c, pid_t pid, int wst, char *why, size_t size)
{
	if (WIFEXITED(wst) && WEXITSTATUS(wst) == 0)
		return 0;
	if (WIFEXITED(wst))
		snprintf(why, size, "%s (pid %d) exited with status %d", c->name, (int)pid,
			 WEXITSTATUS(wst));
	else if (WIFSIGNALED(wst))
		snprintf(why, size, "%s (pid %d) was killed by signal %d (%s)", c->name, (int)pid,
			 WTERMSIG(wst), strsignal(WTERMSIG(wst)));
	else
		snprintf(why, size, "%s (pid %d) ended with wait status %#x", c->name, (int)pid,
			 (unsigned)wst);
	return -ECHILD;
}

int child_reap(struct child *c, char *why, size_t size)
{
	pid_t pid = c->pid;
	int wst = 0;

	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	if (pid <= 0) {
		snprintf(why, size, "%s: no such child", c->name);
		return -ECHILD;
	}
	/*
	 * Its output ended: it has closed its end, which it does when it
	 * exits (the fork keeps no other copy), so this wait is short.
	 */
	siginfo_t si;

	/*
	 * A program the child started and left behind goes with it: killed
	 * while the child is a zombie not yet reaped, so its process group id
	 * cannot name anybody else's group yet.
	 */
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
	(void)kill(-pid, SIGKILL);
	while (waitpid(pid, &wst, 0) < 0) {
		if (errno != EINTR) {
			int e = -errno;

			snprintf(why, size, "%s (pid %d): waitpid: %s", c->name, (int)pid,
				 strerror(-e));
			c->pid = 0;
			return e;
		}
	}
	c->pid = 0;
	return child_status_why(c, pid, wst, why, size);
}

int child_kill(struct child *c, char *why, size_t size)
{
	pid_t pid = c->pid;

	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	if (pid <= 0)
		return 0;
	(void)kill(-pid, SIGKILL);
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	c->pid = 0;
	snprintf(why, size, "%s (pid %d) did not finish within %d ms: killed", c->name, (int)pid,
		 c->timeout_ms);
	return -ETIMEDOUT;
}

int child_wait(struct child *c, char *why, size_t size)
{
	for (;;) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		long long left = c->deadline_ms - clock_ms();
		int r = child_read(c);

		if (r < 0) {
			snprintf(why, size, "%s (pid %d): reading its output: %s", c->name,
				 (int)c->pid, strerror(-r));
			(void)child_kill(c, (char[8]){ 0 }, 8);
			return r;
		}
		if (r == 1)
			return child_reap(c, why, size);
		if (left <= 0)
			return child_kill(c, why, size);
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) {
			r = -errno;
			snprintf(why, size, "%s (pid %d): poll: %s", c->name, (int)c->pid,
				 strerror(-r));
			(void)child_kill(c, (char[8]){ 0 }, 8);
			return r;
		}
	}
}

void child_malformed(const struct child *c, const char *what, char *why, size_t size)
{
	snprintf(why, size, "%s (pid %d) sent a malformed result (%zu bytes): %s", c->name,
		 (int)c->started, c->len, what);
}

void child_free(struct child *c)
{
	if (c->pid > 0)
		(void)child_kill(c, (char[8]){ 0 }, 8);
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	child_init(c);
}

/* ---- findings through the pipe ----------------------------------------- */

/* A string: its length (-1: NULL), then its bytes as a blob. */
static void put_str(struct cache_buf *b, const char *s)
{
	if (!s) {
		cache_buf_printf(b, "-1\n");
		return;
	}
	cache_buf_printf(b, "%zu\n", strlen(s));
	cache_buf_blob(b, s, strlen(s));
}

static char *get_str(struct cache_reader *r, bool *null)
{
	int64_t len = cache_read_int(r);
	const char *p;
	char *s;

	*null = false;
	if (r->bad)
		return NULL;
	if (len == -1) {
		*null = true;
		return NULL;
	}
	if (len < 0 || len > (int64_t)(r->end - r->p)) {
		r->bad = true;
		return NULL;
	}
	p = cache_read_blob(r, (size_t)len);
	if (!p || memchr(p, '\0', (size_t)len)) {
		r->bad = true;
		return NULL;
	}
	s = strndup(p, (size_t)len);
	if (!s)
		r->bad = true;
	return s;
}

void child_findings_encode(struct cache_buf *b, const struct findings *fs)
{
	cache_buf_printf(b, "%zu\n", fs->n);
	for (size_t i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->v[i];

		cache_buf_printf(b, "%d %d %lu %zu\n", (int)f->state, (int)f->action,
				 f->contested, f->refs.n);
		put_str(b, f->layer);
		put_str(b, f->item);
		put_str(b, f->expected);
		put_str(b, f->actual);
		put_str(b, f->note);
		for (size_t k = 0; k < f->refs.n; k++) {
			put_str(b, f->refs.v[k].benchmark);
			put_str(b, f->refs.v[k].version);
			put_str(b, f->refs.v[k].id);
		}
	}
}

/* More references than any finding carries: a corrupt count. */
#define CHILD_REFS_MAX	64

int child_findings_decode(struct cache_reader *r, struct findings *fs)
{
	struct findings got = { 0 };
	int64_t n = cache_read_int(r);
	int rc = 0;

	if (r->bad || n < 0 || n > (int64_t)(r->end - r->p))
		return -EINVAL;
	for (int64_t i = 0; i < n && !r->bad && !rc; i++) {
		int64_t state = cache_read_int(r), action = cache_read_int(r);
		int64_t contested = cache_read_int(r), nrefs = cache_read_int(r);
		struct finding_ref refs[CHILD_REFS_MAX];
		char *s[5] = { 0 }, *rs[CHILD_REFS_MAX][3] = { { 0 } };
		bool null[5], rnull;

		if (r->bad || state < FINDING_COMPLIANT || state > FINDING_UNSUPPORTED ||
		    action < FINDING_ACTION_NONE || action > FINDING_ACTION_CANNOT_FIX ||
		    contested < 0 || nrefs < 0 || nrefs > CHILD_REFS_MAX) {
			r->bad = true;
			break;
		}
		for (int k = 0; k < 5; k++)
			s[k] = get_str(r, &null[k]);
		for (int64_t k = 0; k < nrefs; k++) {
			for (int j = 0; j < 3; j++)
				rs[k][j] = get_str(r, &rnull);
			refs[k] = (struct finding_ref){ rs[k][0], rs[k][1], rs[k][2] };
			if (!rs[k][0] || !rs[k][2])
				r->bad = true;	/* a benchmark and an id, always */
		}
		if (!r->bad && (!s[0] || !s[1]))
			r->bad = true;		/* layer and item, always */
		if (!r->bad)
			rc = findings_add(&got, &(struct finding){
				.layer = s[0], .item = s[1], .expected = s[2], .actual = s[3],
				.note = s[4], .refs = { refs, (size_t)nrefs },
				.state = (enum finding_state)state,
				.action = (enum finding_action)action,
				.contested = (unsigned long)contested,
			});
		for (int k = 0; k < 5; k++)
			free(s[k]);
		for (int64_t k = 0; k < nrefs; k++)
			for (int j = 0; j < 3; j++)
				free(rs[k][j]);
	}
	if (rc || r->bad) {
		findings_free(&got);
		return rc ? rc : -EINVAL;
	}
	rc = findings_append(fs, &got);
	findings_free(&got);
	return rc;
}
