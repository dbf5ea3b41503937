/* SPDX-License-Identifier: MIT */
/*
 * jefe-setup's main(): options, the pidfile, detaching from the terminal,
 * and telling the service manager (OpenRC's notify=fd:N, systemd's
 * $NOTIFY_SOCKET) that the policy is applied and watched.  The only file
 * of the daemon that exits.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "errors.h"
#include "ipc.h"
#include "log.h"
#include "policy.h"
#include "util.h"

/* The daemon's short name for log_kv(), used on every line. */
static const char *kv(char *buf, size_t size, const char *s)
{
	return log_kv(buf, size, s);
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
		"  --pidfile PATH     pidfile when daemonizing (default ROOT" RUNSTATEDIR "/jefe-setup.pid)\n"
		"  --foreground       do not daemonize; copy log lines to stderr\n"
		"  --debug            also log routine lines (status requests, each layer's pass)\n"
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
	/* We name the bad option ourselves, with "did you mean". */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
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
			option_unknown(stderr, "jefe-setup", opts, argv[optind - 1], c);
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
			: jefe_socket_path(d.socket_path, sizeof(d.socket_path), d.root);
	if (rc == 0 && !d.foreground)
		rc = pidfile_opt ? (snprintf(d.pidfile, sizeof(d.pidfile), "%s", pidfile_opt) <
				    (int)sizeof(d.pidfile) ? 0 : -ENAMETOOLONG)
				 : root_join(d.pidfile, sizeof(d.pidfile), d.root, RUNSTATEDIR "/jefe-setup.pid");
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
