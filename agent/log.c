/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

static const struct {
	const char *name;
	int facility;
} facilities[] = {
	{ "daemon", LOG_DAEMON }, { "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV },
	{ "user", LOG_USER }, { "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

int log_facility_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcmp(facilities[i].name, name) == 0)
			return facilities[i].facility;
	return -EINVAL;
}

const char *log_facility_name(int facility)
{
	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (facilities[i].facility == facility)
			return facilities[i].name;
	return "?";
}

int log_open(struct logger *lg, const char *ident, int facility,
	     const char *socket_path, bool to_stderr)
{
	lg->ident = ident;
	lg->facility = facility;
	lg->to_stderr = to_stderr;
	lg->sock_fd = -1;
	if (socket_path) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		int fd;

		if (strlen(socket_path) >= sizeof(sun.sun_path))
			return -ENAMETOOLONG;
		strcpy(sun.sun_path, socket_path);
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		/*
		 * Blocking sends, as syslog(3) does on /dev/log: the first pass
		 * logs a burst of lines, more than a datagram queue holds (10 by
		 * default), and none may be lost.  The timeout keeps a listener
		 * that stopped reading from wedging the daemon.
		 */
		if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO,
			       &(struct timeval){ .tv_sec = 2 }, sizeof(struct timeval)) < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		lg->sock_fd = fd;
	} else {
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
	}
	return 0;
}

void log_close(struct logger *lg)
{
	if (lg->sock_fd >= 0)
		close(lg->sock_fd);
	else
		closelog();
	lg->sock_fd = -1;
}

void log_msg(struct logger *lg, int priority, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (LOG_PRI(priority) == LOG_DEBUG && !lg->debug)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (lg->to_stderr)
		fprintf(stderr, "%s: %s\n", lg->ident, msg);
	if (lg->sock_fd >= 0) {
		char line[2200];
		int n = snprintf(line, sizeof(line), "<%d>%s[%ld]: %s",
				 lg->facility | LOG_PRI(priority), lg->ident,
				 (long)getpid(), msg);

		if (n > 0)
			/* A listener that went away must not stop the daemon: errors are dropped. */
			(void)send(lg->sock_fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1,
				   MSG_NOSIGNAL);
	} else {
		syslog(priority, "%s", msg);
	}
}

const char *log_escape(char *buf, size_t size, const char *s, bool quoted)
{
	size_t o = 0;

	if (size == 0)
		return "";
	for (const char *p = s ? s : ""; *p && o + 3 < size; p++) {
		if (quoted && (*p == '"' || *p == '\\')) {
			buf[o++] = '\\';
			buf[o++] = *p;
		} else if (*p == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else if (iscntrl((unsigned char)*p)) {
			buf[o++] = '?';
		} else {
			buf[o++] = *p;
		}
	}
	buf[o] = '\0';
	return buf;
}

const char *log_kv(char *buf, size_t size, const char *s)
{
	bool plain = true;

	if (s == NULL)
		s = "";
	if (*s == '\0')
		plain = false;
	for (const char *p = s; *p && plain; p++)
		if (isspace((unsigned char)*p) || *p == '"' || *p == '\\' || *p == '=' ||
		    iscntrl((unsigned char)*p))
			plain = false;
	if (plain)
		return s;
	if (size < 5)
		return "\"\"";
	buf[0] = '"';
	log_escape(buf + 1, size - 2, s, true);
	strcat(buf, "\"");
	return buf;
}
