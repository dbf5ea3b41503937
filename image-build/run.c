/* SPDX-License-Identifier: MIT */
/*
 * External commands: fork + execvp with an explicit argv, never a shell
 * string, so a package name or a path with a space stays one argument.
 * Output goes to the stage's log; a failure records the command line so the
 * pipeline can name it and show the end of its output.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ib.h"

static void run_cmdline_format(char *buf, size_t size, char *const argv[])
{
	size_t used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; argv[i] && used + 1 < size; i++) {
		bool quote = argv[i][0] == '\0' || strpbrk(argv[i], " \t\"'$") != NULL;
		int n = snprintf(buf + used, size - used, "%s%s%s%s", i ? " " : "",
				 quote ? "'" : "", argv[i], quote ? "'" : "");

		if (n < 0)
			break;
		used += (size_t)n;
	}
	if (used >= size && size > 4)
		memcpy(buf + size - 4, "...", 4);
}

/*
 * In the child: a private mount namespace, so the /dev and /proc mounts a
 * chroot needs vanish with the last process in it, even after kill -9.
 */
static int run_chroot_enter(const char *root)
{
	char path[PATH_MAX];

	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	if (IB_PATH(path, root, "dev") < 0)
		return -ENAMETOOLONG;
	if (mount("/dev", path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	if (IB_PATH(path, root, "proc") < 0)
		return -ENAMETOOLONG;
	if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	if (chroot(root) < 0 || chdir("/") < 0)
		return -errno;
	return 0;
}

static void run_child(struct ib_stage_ctx *ctx, const struct ib_run_opts *o,
		      char *const argv[], const sigset_t *oldmask)
{
	int fd, err;
	size_t i;

	setpgid(0, 0);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	fd = open(o->stdin_path ? o->stdin_path : "/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || dup2(fd, 0) < 0)
		_exit(126);
	fd = open(ctx->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || dup2(fd, 2) < 0)
		_exit(126);
	if (o->stdout_path)
		fd = open(o->stdout_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || dup2(fd, 1) < 0)
		_exit(126);
	for (i = 0; o->env && o->env[i]; i++)
		putenv(o->env[i]);
	if (o->chroot) {
		/* The host's PATH may lack the sbin directories. */
		setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
		err = run_chroot_enter(o->chroot);
		if (err < 0) {
			fprintf(stderr, "chroot %s: %s\n", o->chroot, strerror(-err));
			_exit(126);
		}
	}
	execvp(argv[0], argv);
	fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int run_cmd(struct ib_stage_ctx *ctx, const struct ib_run_opts *o,
	    char *const argv[])
{
	static const struct ib_run_opts none;
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	char line[4096];
	sigset_t oldmask;
	pid_t pid;
	int status, sig;
	FILE *log;

	if (!o)
		o = &none;
	run_cmdline_format(line, sizeof(line), argv);
	log = fopen(ctx->log_path, "ae");
	if (log) {
		if (!o->no_log)
			fprintf(log, "+ %s%s%s\n", o->chroot ? "(chroot) " : "", line,
				o->stdout_path ? " >file" : "");
		fclose(log);
	}
	sigprocmask(SIG_BLOCK, NULL, &oldmask);
	sigdelset(&oldmask, SIGINT);
	sigdelset(&oldmask, SIGTERM);
	sigdelset(&oldmask, SIGHUP);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		run_child(ctx, o, argv, &oldmask);

	/* Wait, but wake up for an interrupt: the child runs in its own
	 * process group, so we forward it and clean up ourselves. */
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -errno;
		sig = sigtimedwait(ctx->sigs, NULL, &tick);
		if (sig > 0) {
			kill(-pid, SIGTERM);
			waitpid(pid, &status, 0);
			/* Leave it pending for the pipeline to see. */
			raise(sig);
			snprintf(ctx->failed, sizeof(ctx->failed), "%s", line);
			return -EINTR;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		snprintf(ctx->failed, sizeof(ctx->failed),
			 "`%.900s` exited with status %d", line, WEXITSTATUS(status));
	else
		snprintf(ctx->failed, sizeof(ctx->failed),
			 "`%.900s` was killed by signal %d", line,
			 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return -IB_ECOMMAND;
}

static bool run_tool_exists(const char *name)
{
	static const char *const extra[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };
	char path[PATH_MAX];
	const char *p, *env;
	size_t i;

	if (name[0] == '/')
		return access(name, F_OK) == 0;
	env = getenv("PATH");
	for (p = env ? env : ""; *p;) {
		size_t len = strcspn(p, ":");

		if (len && (size_t)snprintf(path, sizeof(path), "%.*s/%s",
					    (int)len, p, name) < sizeof(path) &&
		    access(path, X_OK) == 0)
			return true;
		p += len;
		if (*p == ':')
			p++;
	}
	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", extra[i], name);
		if (access(path, X_OK) == 0)
			return true;
	}
	return false;
}

int run_tools_check(const struct ib_tool *tools, size_t n)
{
	int missing = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (run_tool_exists(tools[i].name))
			continue;
		fprintf(stderr, "jefe-image-build: missing host tool '%s' "
			"(install the package '%s')\n", tools[i].name, tools[i].package);
		missing++;
	}
	return missing ? -IB_ENOTOOL : 0;
}
