/* SPDX-License-Identifier: MIT */
/*
 * Work in a child process whose result the caller's event loop reads
 * from a pipe, so that the loop never waits for it.
 *
 * The daemon runs a pass of a layer that runs external programs (the
 * sshd layer's `sshd -T`, `sshd -t`, the reload through OpenRC) this
 * way: fork, the pass in the child, its findings written to the pipe,
 * the pipe's read end polled by the loop with every other event source,
 * the pass completed when the output ends and the child has exited.  A
 * child that outlives its deadline is killed with its whole process group
 * (the programs it runs die with it).  Every error names the child and
 * what went wrong: "sshd pass (pid 123) was killed by signal 9".
 */
#ifndef JEFE_CHILD_H
#define JEFE_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cache.h"
#include "finding.h"

struct child {
	pid_t pid;		/* 0: none running */
	int fd;			/* read end of its output, non-blocking; -1: closed */
	char *out;		/* what it wrote so far, NUL-terminated */
	size_t len, cap;
	long long deadline_ms;	/* clock_ms() after which it is killed */
	int timeout_ms;
	char name[64];		/* for errors: "sshd pass" */
	pid_t started;		/* the pid it had, for errors after the reap */
	bool eof;		/* its output has ended; fd stays open until the reap */
};

/* An empty child (fd -1), as child_free() leaves it. */
void child_init(struct child *c);

/*
 * Fork; the child becomes the leader of a process group of its own, runs
 * fn(arg, fd) with fd the write end of the pipe, and exits with fn's
 * result (0: status 0, else 1) without running the parent's exit
 * handlers.  Returns 0 or -errno.
 */
int child_start(struct child *c, const char *name, int timeout_ms,
		int (*fn)(void *arg, int fd), void *arg);

/*
 * Read what the child wrote (non-blocking).  Returns 1 when its output
 * has ended (EOF), 0 when more is to come, or -errno.  The fd stays open
 * until child_reap() or child_kill(), so that an event loop removes it
 * from its set first (a forked sibling may hold a copy of it, and epoll
 * keeps reporting a closed fd whose file is still open elsewhere).
 */
int child_read(struct child *c);

/*
 * After child_read() returned 1: close the fd and reap the child.  0 when it exited with
 * status 0; else -ECHILD with why saying how it ended ("... exited with
 * status 1", "... was killed by signal 9 (Killed)").
 */
int child_reap(struct child *c, char *why, size_t size);

/*
 * The deadline has passed (or the loop is stopping): SIGKILL the child's
 * process group and reap it.  Returns -ETIMEDOUT with why saying so.
 */
int child_kill(struct child *c, char *why, size_t size);

/*
 * Wait for the child here, up to its deadline: read until EOF, then reap
 * (or kill).  0, or the error of child_reap()/child_kill() with why.
 */
int child_wait(struct child *c, char *why, size_t size);

/* Its output did not parse: "NAME (pid N) sent a malformed result (LEN bytes): what". */
void child_malformed(const struct child *c, const char *what, char *why, size_t size);

/* Kill a child still running, and free its output. */
void child_free(struct child *c);

/* Write all of buf to fd (a pipe). 0 or -errno. */
int child_write_all(int fd, const char *buf, size_t len);

/*
 * Findings through a pipe: written into b, read back from r (everything,
 * strings and references copied).  -EINVAL for anything malformed, with
 * nothing added to fs.
 */
void child_findings_encode(struct cache_buf *b, const struct findings *fs);
int child_findings_decode(struct cache_reader *r, struct findings *fs);

#endif
