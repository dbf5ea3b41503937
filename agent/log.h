/* SPDX-License-Identifier: MIT */
/*
 * Where the daemon's lines go: syslog(3), or, for tests, a unix datagram
 * socket given on the command line (so a test reads the daemon's output
 * without touching the host's syslog).  With --foreground the lines are
 * also copied to stderr.
 */
#ifndef JEFE_LOG_H
#define JEFE_LOG_H

#include <stdbool.h>
#include <syslog.h>

struct logger {
	const char *ident;
	int facility;
	int sock_fd;		/* -1: use syslog(3) */
	bool to_stderr;
	/* LOG_DEBUG lines (routine status requests) are dropped unless set. */
	bool debug;
};

int log_open(struct logger *lg, const char *ident, int facility,
	     const char *socket_path, bool to_stderr);
void log_close(struct logger *lg);
__attribute__((format(printf, 3, 4)))
void log_msg(struct logger *lg, int priority, const char *fmt, ...);

/* "daemon" -> LOG_DAEMON etc.; -EINVAL for an unknown name. */
int log_facility_parse(const char *name);
const char *log_facility_name(int facility);

#endif
