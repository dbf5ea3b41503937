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
#include <stddef.h>
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

/*
 * Text from a policy file or the system made safe for one line of a log or
 * a terminal: a newline becomes \n, every other control character (an
 * escape sequence that would rewrite the terminal) '?'.  With quoted, also
 * \" and \\, for the inside of a "quoted" value.  Returns buf, cut to size.
 */
const char *log_escape(char *buf, size_t size, const char *s, bool quoted);

/*
 * A value for a key=value log line: as is when it has no blank, quote or
 * control character, else double-quoted and escaped as above, so one line
 * stays one item and grep/awk can split it.  Returns s or buf.
 */
const char *log_kv(char *buf, size_t size, const char *s);

/* "daemon" -> LOG_DAEMON etc.; -EINVAL for an unknown name. */
int log_facility_parse(const char *name);
const char *log_facility_name(int facility);

#endif
