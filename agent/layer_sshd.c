/* SPDX-License-Identifier: MIT */
/*
 * Layer 4: sshd.
 *
 * The truth is what sshd itself says (`sshd -T`, and `sshd -T -C` for a
 * connection that enters each Match block): files alone lie, because sshd
 * keeps the first value it reads, and Match blocks override the global
 * section.  The layer manages one drop-in that sshd must read first
 * (/etc/ssh/sshd_config.d/00-jefe.conf) and edits sshd_config only as far
 * as needed to keep it first.
 *
 * Paths and --root: every file is read and written below the root fd.
 * sshd is run as `sshd -T -f /dev/stdin` on a generated top-level file:
 * the main config with each Include rewritten to the explicit files it
 * matches below root, and the candidate drop-in in place of ours.  This
 * validates a candidate before it is installed (sshd -t) without a
 * temporary file that sshd's glob would also pick up, and honours a
 * temporary root, where sshd_config's absolute "Include /etc/ssh/..."
 * would otherwise read the host's files.  Limits with a root other than
 * "/": Include lines inside included files, HostKey and other paths that
 * sshd opens are still the host's (tests bind-mount over /etc/ssh in a
 * private mount namespace so both views agree).
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rc.h>

#include "errors.h"
#include "layer.h"
#include "layers.h"
#include "openrc_lib.h"
#include "policy.h"
#include "sshd_cache.h"
#include "sshd_conf.h"
#include "rootfs.h"
#include "util.h"

#define SSHD_RUN_TIMEOUT_MS	10000
#define SSHD_MAX_SPECS		32
#define SSHD_CANDIDATE		SSHD_DROPIN ".jefe-candidate"

struct sshd_want {
	char *value;		/* normalised; NULL: not managed */
	char *file;		/* where the policy set it */
	int line;
};

/* sshd's default PidFile, which eval_reload() reads unless sshd -T names another. */
#define SSHD_PIDFILE_DIR	"/run"
#define SSHD_PIDFILE_NAME	"sshd.pid"

struct sshd_state {
	char *root;
	bool is_host;		/* jefe_env's: the root is this running host */
	int root_fd;
	char *sshd_path;
	char *ssh_path;
	char *service;
	bool allow_lockout;
	struct sshd_want want[64];
	struct strv specs;	/* check_connections */
	int ino_fd;
	int wd_etc;
	int wd_dropin;
	int wd_run;		/* SSHD_PIDFILE_DIR: sshd's start and stop */
	int (*ssh_query)(const char *query, char **out);	/* jefe_env's seam */
	struct sshd_cache *cache;	/* answers of ssh -Q and sshd -T; NULL: none */
};

/* ---- running sshd ------------------------------------------------------ */

struct run_result {
	int status;		/* exit code, or -1 when killed/timed out */
	char *out;
	char *err;
};

static void run_result_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

static int buf_append(char **buf, size_t *len, const char *data, size_t n)
{
	char *p = realloc(*buf, *len + n + 1);

	if (!p)
		return -ENOMEM;
	memcpy(p + *len, data, n);
	*len += n;
	p[*len] = '\0';
	*buf = p;
	return 0;
}

/*
 * Run argv with input on stdin (a memfd: sshd reads -f /dev/stdin with
 * fopen/fstat), collect stdout and stderr, kill it after timeout_ms.
 */
static int run_prog(char *const argv[], const char *input, int timeout_ms,
		    struct run_result *res)
{
	static char *const envp[] = {
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL,
	};
	int in_fd, out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 };
	size_t out_len = 0, err_len = 0;
	long long deadline = clock_ms() + timeout_ms;
	int r = 0, wst;
	char why[512];
	pid_t pid;

	memset(res, 0, sizeof(*res));
	res->status = -1;
	/* Checked at load too; again here, as late as possible before exec. */
	r = rootfs_check_program(argv[0], why, sizeof(why));
	if (r)
		return r;
	in_fd = memfd_create("jefe-sshd-input", MFD_CLOEXEC);
	if (in_fd < 0)
		return -errno;
	if (input) {
		size_t len = strlen(input);
		const char *p = input;

		while (len) {
			ssize_t n = write(in_fd, p, len);

			if (n < 0) {
				r = -errno;
				goto out;
			}
			p += n;
			len -= (size_t)n;
		}
		lseek(in_fd, 0, SEEK_SET);
	}
	if (pipe2(out_p, O_CLOEXEC) < 0 || pipe2(err_p, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0) {
		dup2(in_fd, 0);
		dup2(out_p[1], 1);
		dup2(err_p[1], 2);
		/*
		 * Only 0-2 cross the exec: every fd of ours is close-on-exec,
		 * and this also covers one a library opened without it.
		 */
		if (close_range(3, ~0U, 0) < 0)
			for (int fd = 3; fd < 1024; fd++)
				close(fd);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(out_p[1]);
	close(err_p[1]);
	out_p[1] = err_p[1] = -1;
	while (out_p[0] >= 0 || err_p[0] >= 0) {
		struct pollfd pfd[2] = {
			{ .fd = out_p[0], .events = POLLIN },
			{ .fd = err_p[0], .events = POLLIN },
		};
		long long left = deadline - clock_ms();
		int n;

		if (left <= 0) {
			kill(pid, SIGKILL);
			r = -ETIMEDOUT;
			break;
		}
		n = poll(pfd, 2, (int)left);
		if (n < 0 && errno != EINTR) {
			r = -errno;
			kill(pid, SIGKILL);
			break;
		}
		for (int i = 0; i < 2; i++) {
			int *fd = i == 0 ? &out_p[0] : &err_p[0];
			char chunk[4096];
			ssize_t got;

			if (*fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = read(*fd, chunk, sizeof(chunk));
			if (got <= 0) {
				close(*fd);
				*fd = -1;
				continue;
			}
			if (buf_append(i == 0 ? &res->out : &res->err,
				       i == 0 ? &out_len : &err_len, chunk, (size_t)got)) {
				r = -ENOMEM;
			}
		}
	}
	while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
		;
	if (!r && WIFEXITED(wst))
		res->status = WEXITSTATUS(wst);
	if (!r && !res->out)
		r = buf_append(&res->out, &out_len, "", 0);
	if (!r && !res->err)
		r = buf_append(&res->err, &err_len, "", 0);
out:
	close(in_fd);
	for (int i = 0; i < 2; i++) {
		if (out_p[i] >= 0)
			close(out_p[i]);
		if (err_p[i] >= 0)
			close(err_p[i]);
	}
	if (r)
		run_result_free(res);
	return r;
}

/* The first line of sshd's complaint, for a finding's note. */
static void first_line(const char *text, char *buf, size_t size)
{
	while (*text == '\n')
		text++;
	snprintf(buf, size, "%.*s", (int)strcspn(text, "\n"), text);
	if (!*buf)
		snprintf(buf, size, "no message");
}

/*
 * run_prog, unless the layer's cache holds the answer and nothing it
 * depends on changed since (sshd_cache.h).  config_files: the run is
 * `sshd -T` on the configuration made of these files (sshd_conf.files);
 * NULL: it depends on its program alone (ssh -Q).
 */
static int run_prog_cached(const struct sshd_state *st, char *const argv[], const char *input,
			   const struct strv *config_files, struct run_result *res)
{
	struct sshd_cache_record *rec = NULL;
	char why[512];
	int r;

	/*
	 * An answer only stands for a program the agent would run: one that
	 * root alone can change, every directory above it included (a chmod
	 * of /usr/sbin does not change sshd's identity).  run_prog() says why
	 * not.
	 */
	if (!st->cache || rootfs_check_program(argv[0], why, sizeof(why)))
		return run_prog(argv, input, SSHD_RUN_TIMEOUT_MS, res);
	memset(res, 0, sizeof(*res));
	r = sshd_cache_lookup(st->cache, argv, input, &res->status, &res->out, &res->err);
	if (r)
		return r < 0 ? r : 0;
	r = sshd_cache_record_begin(st->cache, argv, input, &rec);
	if (!r && config_files)
		r = sshd_cache_record_config(rec, config_files);
	if (!r)
		r = run_prog(argv, input, SSHD_RUN_TIMEOUT_MS, res);
	else
		res->status = -1;
	if (!r && config_files)
		r = sshd_cache_record_output(rec, res->out);
	if (!r)
		r = sshd_cache_commit(st->cache, rec, res->status, res->out, res->err);
	sshd_cache_record_free(rec);
	if (r)
		run_result_free(res);
	return r;
}

/*
 * `sshd -T` (or -t when test_only) on a top-level text, with an optional
 * -C spec; through the cache when the configuration's files are given.
 */
static int sshd_run_config(const struct sshd_state *st, const char *top, const char *spec,
			   bool test_only, const struct strv *config_files, struct run_result *res)
{
	char *argv[8];
	int n = 0;

	argv[n++] = st->sshd_path;
	argv[n++] = test_only ? "-t" : "-T";
	argv[n++] = "-f";
	argv[n++] = "/dev/stdin";
	if (spec) {
		argv[n++] = "-C";
		argv[n++] = (char *)spec;
	}
	argv[n] = NULL;
	if (config_files && !test_only)
		return run_prog_cached(st, argv, top, config_files, res);
	return run_prog(argv, top, SSHD_RUN_TIMEOUT_MS, res);
}

static bool sshd_installed(const struct sshd_state *st)
{
	return access(st->sshd_path, X_OK) == 0;
}

/* ---- load ---------------------------------------------------------------- */

/* The layer's own settings; every other key of [sshd] is an sshd_config keyword. */
struct sshd_settings {
	const char *sshd_path;
	const char *ssh_path;
	const char *service;
	bool allow_lockout;
	bool allow_weak;
	const char *check_connections;
};

static const struct policy_key sshd_keys[] = {
	PK_PATH("sshd_path", struct sshd_settings, sshd_path, 0, "/usr/sbin/sshd",
		"the sshd binary: `sshd -T` and `sshd -t` validate what is written", ""),
	PK_PATH("ssh_path", struct sshd_settings, ssh_path, 0, "/usr/bin/ssh",
		"the ssh client: `ssh -Q` lists the algorithms the installed OpenSSH supports", ""),
	PK_NAME("service", struct sshd_settings, service, "sshd",
		"OpenRC service reloaded after a repair", ""),
	PK_BOOL("allow_lockout", struct sshd_settings, allow_lockout, "no",
		"accept a policy that lets no key-based login in", ""),
	PK_BOOL("allow_weak", struct sshd_settings, allow_weak, "no",
		"accept weak algorithms the installed OpenSSH still supports (CBC ciphers, SHA-1 or MD5 MACs, SHA-1 key exchange, NIST-curve, DSA or ssh-rsa keys)", ""),
	PK_STRING("check_connections", struct sshd_settings, check_connections, "",
		  "sshd -T -C specs (user=,host=,addr=) whose effective settings are checked too, separated by ';' or spaces", ""),
	PK_END,
};

static bool sshd_free_key(const char *section, const char *key)
{
	return sshd_keyword_find(key) != NULL;
}

static const char *sshd_free_key_name(const void *ctx, size_t i)
{
	return i < sshd_keywords_count ? sshd_keywords[i].name : NULL;
}

static void sshd_free(void *state)
{
	struct sshd_state *st = state;

	if (!st)
		return;
	for (size_t i = 0; i < sshd_keywords_count; i++) {
		free(st->want[i].value);
		free(st->want[i].file);
	}
	strv_free(&st->specs);
	sshd_cache_free(st->cache);
	if (st->ino_fd >= 0)
		close(st->ino_fd);
	free(st->root);
	free(st->sshd_path);
	free(st->ssh_path);
	free(st->service);
	free(st);
}

/* Every algorithm must be one the installed OpenSSH knows (`ssh -Q class`). */
static int check_algorithms(struct sshd_state *st, const struct sshd_keyword *k,
			    const struct policy_entry *e, const char *value,
			    struct policy_errors *errs)
{
	char *argv[] = { st->ssh_path, "-Q", (char *)k->query, NULL };
	struct run_result res;
	struct strv known = { 0 }, want = { 0 };
	int r, bad = 0;

	if (st->ssh_query) {
		memset(&res, 0, sizeof(res));
		r = st->ssh_query(k->query, &res.out);
		if (r)
			return r;
	} else {
		if (access(st->ssh_path, X_OK) != 0)
			return 0;	/* no client: sshd -t still refuses a bad candidate */
		r = run_prog_cached(st, argv, NULL, NULL, &res);
		if (r)
			return r;
	}
	if (res.status != 0) {
		policy_error_at(errs, e, "%s: cannot list supported algorithms (%s -Q %s failed)",
				k->name, st->ssh_path, k->query);
		run_result_free(&res);
		return -JEFE_EPOLICY;
	}
	r = strv_split(&known, res.out, "\n");
	if (!r)
		r = strv_split(&want, value, ",");
	for (size_t i = 0; !r && i < want.n; i++) {
		if (!strv_contains(&known, want.v[i])) {
			policy_error_at(errs, e, "%s: '%s' is not supported by the installed OpenSSH (ssh -Q %s)",
					k->name, want.v[i], k->query);
			bad = 1;
		}
	}
	strv_free(&known);
	strv_free(&want);
	run_result_free(&res);
	if (r)
		return r;
	return bad ? -JEFE_EPOLICY : 0;
}

/*
 * Weak choices the installed OpenSSH may still support are refused unless
 * [sshd] allow_weak = yes.  Returns true when one was found (reported).
 */
static bool check_weak_algorithms(const struct sshd_keyword *k, const struct policy_entry *e,
				  const char *value, struct policy_errors *errs)
{
	bool weak = false;

	for (const char *p = value; *p; ) {
		size_t len = strcspn(p, ",");
		char algo[128];
		const char *why;

		snprintf(algo, sizeof(algo), "%.*s", (int)len, p);
		why = sshd_algorithm_weakness(k->query, algo);
		if (why) {
			policy_error_at(errs, e, "%s: '%s' is weak (%s); refused unless [sshd] allow_weak = yes",
					k->name, algo, why);
			weak = true;
		}
		p += len;
		p += *p == ',';
	}
	return weak;
}

static int sshd_load(void **state, const struct jefe_env *env, const struct policy *policy,
		     const void *settings, struct policy_errors *errs)
{
	const struct sshd_settings *set = settings;
	const struct policy_entry *e;
	struct sshd_state *st;
	size_t it = 0;
	bool any = false;
	int r = 0, bad = 0;

	*state = NULL;
	if (sshd_keywords_count > ARRAY_SIZE(st->want))
		return -EINVAL;	/* grow want[] with the table */
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->ino_fd = -1;
	st->wd_etc = st->wd_dropin = st->wd_run = -1;
	st->root_fd = env->root_fd;
	st->is_host = env->is_host;
	st->ssh_query = env->ssh_query;
	/* The fuzz harnesses' seam answers ssh -Q itself: nothing to remember. */
	if (!env->ssh_query && sshd_cache_new(&st->cache, env->root_fd)) {
		sshd_free(st);
		return -ENOMEM;
	}
	st->root = strdup(env->root ? env->root : "/");
	st->sshd_path = strdup(set->sshd_path);
	st->ssh_path = strdup(set->ssh_path);
	st->service = strdup(set->service);
	st->allow_lockout = set->allow_lockout;
	if (!st->root || !st->sshd_path || !st->ssh_path || !st->service) {
		sshd_free(st);
		return -ENOMEM;
	}
	any = policy_next(policy, "sshd", &it) != NULL;

	for (int i = 0; i < 2; i++) {
		const char *key = i == 0 ? "sshd_path" : "ssh_path";
		const char *path = i == 0 ? st->sshd_path : st->ssh_path;
		const struct policy_entry *pe = policy_get(policy, "sshd", key);
		char why[PATH_MAX + 128];
		int t = rootfs_check_program(path, why, sizeof(why));

		if (t == 0 || t == -ENOENT)
			continue;	/* a missing program is reported where it is needed */
		if (t == -JEFE_EUNTRUSTED && pe)
			policy_error_at(errs, pe, "%s %s refused: %s; a program the agent runs as root must be writable by root alone, as every directory above it",
					key, path, why);
		else if (t == -JEFE_EUNTRUSTED)
			policy_errors_add(errs, "[sshd]", 0, "%s %s refused: %s", key, path, why);
		else
			policy_errors_add(errs, "[sshd]", 0, "%s %s: cannot check who may change it: %s",
					  key, path, strerror(-t));
		bad = 1;
	}
	e = policy_get(policy, "sshd", "check_connections");
	if (e) {
		struct strv specs = { 0 };
		char why[256];

		r = strv_split(&specs, set->check_connections, " \t;");
		for (size_t i = 0; !r && i < specs.n; i++) {
			if (sshd_spec_validate(specs.v[i], why, sizeof(why))) {
				policy_error_at(errs, e, "check_connections: %s", why);
				bad = 1;
			} else {
				r = strv_push(&st->specs, specs.v[i]);
			}
		}
		strv_free(&specs);
		if (r)
			goto fail;
	}
	it = 0;
	while ((e = policy_next(policy, "sshd", &it))) {
		const struct sshd_keyword *k;
		char why[256], *norm = NULL;
		size_t idx;

		k = sshd_keyword_find(e->key);
		if (!k)
			continue;	/* the table's, or the core's (mode) */
		idx = (size_t)(k - sshd_keywords);
		/* "unmanaged" lets a later policy file drop a shipped key. */
		if (strcasecmp(e->value, "unmanaged") == 0) {
			free(st->want[idx].value);
			st->want[idx].value = NULL;
			continue;
		}
		r = sshd_value_normalize(k, e->value, &norm, why, sizeof(why));
		if (r == -ENOMEM)
			goto fail;
		if (r) {
			policy_error_at(errs, e, "%s", why);
			bad = 1;
			continue;
		}
		if (k->type == SSHD_V_ALGOS && !set->allow_weak &&
		    check_weak_algorithms(k, e, norm, errs)) {
			bad = 1;
			free(norm);
			continue;
		}
		/*
		 * Asking the installed OpenSSH is for runs that check or apply
		 * this layer: `jefe status --layer sysctl` runs no ssh.
		 */
		if (k->type == SSHD_V_ALGOS && layer_mask_selects(env->only, "sshd")) {
			r = check_algorithms(st, k, e, norm, errs);
			if (r == -JEFE_EPOLICY) {
				bad = 1;
				free(norm);
				continue;
			}
			if (r) {
				free(norm);
				goto fail;
			}
		}
		free(st->want[idx].value);
		free(st->want[idx].file);
		st->want[idx].value = norm;
		st->want[idx].file = strdup(e->file ? e->file : "?");
		st->want[idx].line = e->line;
		if (!st->want[idx].file) {
			r = -ENOMEM;
			goto fail;
		}
	}
	if (bad) {
		sshd_free(st);
		return -JEFE_EPOLICY;
	}
	if (!any) {
		/* No [sshd] section: this layer has nothing to do. */
		sshd_free(st);
		return 0;
	}
	/*
	 * The ssh -Q answers are written with the check's or apply's (a dry
	 * run writes nothing, and load cannot know it is one).
	 */
	*state = st;
	return 0;
fail:
	sshd_free(st);
	return r;
}

/* ---- evaluation ------------------------------------------------------------ */

/* What the system looks like against the policy, and what apply would do. */
struct sshd_eval {
	struct findings f;		/* items in this order, state set */
	char *main_text;		/* current sshd_config */
	char *main_new;			/* desired sshd_config, NULL: unchanged */
	char *dropin_text;		/* current drop-in, NULL: missing */
	char *dropin_new;		/* desired drop-in */
	bool config_change;		/* main_new or drop-in differs */
	struct strv chmod_paths;	/* files whose mode/owner drift */
	struct strv chmod_modes;	/* the most a path may allow, octal */
	bool reload_pending;
	bool sshd_running;
	char pidfile[256];		/* sshd's, from sshd -T */
};

static void eval_free(struct sshd_eval *ev)
{
	findings_free(&ev->f);
	free(ev->main_text);
	free(ev->main_new);
	free(ev->dropin_text);
	free(ev->dropin_new);
	strv_free(&ev->chmod_paths);
	strv_free(&ev->chmod_modes);
	memset(ev, 0, sizeof(*ev));
}

static int add_finding(struct findings *fs, const char *item, const char *expected,
		       const char *actual, const struct finding_refs *refs, const char *note,
		       enum finding_state state)
{
	return findings_add(fs, &(struct finding){
		.layer = "sshd", .item = item, .expected = expected, .actual = actual,
		.refs = refs ? *refs : REFS_NONE, .note = note, .state = state, .action = FINDING_ACTION_NONE,
	});
}


/* Mode and owner: at most `max` permission bits, owned by root. */
static int eval_mode(const struct sshd_state *st, struct sshd_eval *ev, const char *path,
		     mode_t max, const struct finding_refs *ref)
{
	char item[512], expected[64], actual[64];
	struct stat sb;
	bool ok;
	int r;

	snprintf(item, sizeof(item), "mode:%s", path);
	snprintf(expected, sizeof(expected), "owner root, mode %04o or stricter", (unsigned)max);
	r = rootfs_stat(st->root_fd, path, &sb, false);
	if (r < 0) {
		if (r == -ENOENT)
			return 0;
		return add_finding(&ev->f, item, expected, strerror(-r), ref, NULL, FINDING_ERROR);
	}
	snprintf(actual, sizeof(actual), "uid %u gid %u mode %04o", (unsigned)sb.st_uid,
		 (unsigned)sb.st_gid, (unsigned)(sb.st_mode & 07777));
	ok = sb.st_uid == 0 && (sb.st_mode & 07777 & ~max) == 0 && !S_ISLNK(sb.st_mode);
	if (!ok) {
		char m[16];

		snprintf(m, sizeof(m), "%o", (unsigned)max);
		if (strv_push(&ev->chmod_paths, path) || strv_push(&ev->chmod_modes, m))
			return -ENOMEM;
	}
	return add_finding(&ev->f, item, expected, actual, ref,
			   S_ISLNK(sb.st_mode) ? "a symbolic link" : NULL,
			   ok ? FINDING_COMPLIANT : FINDING_DRIFT);
}

/*
 * The public key's path and text, on the heap: in eval_hostkey()'s frame,
 * inlined into sshd_evaluate(), they made that frame 24 KB, six stack
 * pages that gcc's -fstack-clash-protection probes in every check.
 */
struct hostkey_buf {
	char pub[PATH_MAX];
	char text[16384];
};

/*
 * The host keys sshd offers: ed25519, or RSA of at least 3072 bits.  An
 * ECDSA (NIST curve) or DSA key, or a short RSA key, is drift the agent
 * cannot fix: a host key is the machine's identity, only an admin replaces
 * it.  The type and size come from the public half (.pub): the blob's own
 * type string and, for RSA, the modulus's length.
 */
static int eval_hostkey(const struct sshd_state *st, struct sshd_eval *ev, const char *path)
{
	static const char expected[] = "ed25519, or rsa of 3072 bits or more";
	char item[512], type[64], actual[96];
	struct hostkey_buf *b;
	struct stat sb;
	unsigned bits;
	bool ok;
	ssize_t n;

	if (rootfs_stat(st->root_fd, path, &sb, false) < 0)
		return 0;	/* sshd skips a HostKey that does not exist */
	b = malloc(sizeof(*b));
	if (!b)
		return -ENOMEM;
	snprintf(item, sizeof(item), "hostkey:%s", path);
	snprintf(b->pub, sizeof(b->pub), "%s.pub", path);
	n = root_read_file(st->root_fd, b->pub, b->text, sizeof(b->text));
	if (n < 0 || sshd_pubkey_info(b->text, type, sizeof(type), &bits) < 0) {
		free(b);
		return add_finding(&ev->f, item, expected, n < 0 ? "no readable .pub" : "an unreadable .pub",
				   NULL, "its type and size are read from the public key next to it",
				   FINDING_DRIFT);
	}
	free(b);
	if (bits)
		snprintf(actual, sizeof(actual), "%s, %u bits", type, bits);
	else
		snprintf(actual, sizeof(actual), "%s", type);
	ok = strcmp(type, "ssh-ed25519") == 0 || (strcmp(type, "ssh-rsa") == 0 && bits >= 3072);
	return add_finding(&ev->f, item, expected, actual, NULL,
			   ok ? NULL : "remove it (and its HostKey line), or make a new one: ssh-keygen -t ed25519",
			   ok ? FINDING_COMPLIANT : FINDING_DRIFT);
}

/* Is the sshd of the pidfile running, and older than its newest config file? */
/* The running sshd's pid from its pidfile below the root; 0: none. */
static long sshd_pid_read(const struct sshd_state *st, const char *pidfile, struct stat *pst)
{
	char buf[32], comm[64], path[64];
	ssize_t n;
	long pid;
	int fd;

	n = root_read_file(st->root_fd, pidfile, buf, sizeof(buf));
	if (n <= 0 || rootfs_stat(st->root_fd, pidfile, pst, true) != 0 ||
	    (pid = strtol(buf, NULL, 10)) <= 1)
		return 0;
	/* A stale pidfile may name a recycled pid: it must be sshd. */
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	comm[n > 0 ? n : 0] = '\0';
	return strncmp(comm, "sshd", 4) == 0 ? pid : 0;
}

static int eval_reload(const struct sshd_state *st, struct sshd_eval *ev,
		       const struct sshd_dump *d, const struct sshd_conf *c)
{
	const char *pidfile = sshd_dump_get(d, "pidfile");
	char note[256];
	struct stat pst = { 0 }, sb;
	struct timespec newest = { 0, 0 };
	long pid;

	if (!pidfile || strcmp(pidfile, "none") == 0)
		pidfile = SSHD_PIDFILE_DIR "/" SSHD_PIDFILE_NAME;
	snprintf(ev->pidfile, sizeof(ev->pidfile), "%s", pidfile);
	pid = sshd_pid_read(st, pidfile, &pst);
	ev->sshd_running = pid > 0;
	if (!ev->sshd_running)
		return add_finding(&ev->f, "reload", "running sshd has read its config",
				   "sshd not running", NULL, NULL, FINDING_COMPLIANT);
	/* sshd re-executes itself on SIGHUP and rewrites its pidfile then. */
	for (size_t i = 0; i < c->files.n; i++) {
		if (rootfs_stat(st->root_fd, c->files.v[i], &sb, true) == 0 &&
		    (sb.st_mtim.tv_sec > newest.tv_sec ||
		     (sb.st_mtim.tv_sec == newest.tv_sec && sb.st_mtim.tv_nsec > newest.tv_nsec)))
			newest = sb.st_mtim;
	}
	ev->reload_pending = newest.tv_sec > pst.st_mtim.tv_sec ||
			     (newest.tv_sec == pst.st_mtim.tv_sec &&
			      newest.tv_nsec > pst.st_mtim.tv_nsec);
	snprintf(note, sizeof(note), "sshd pid %ld (pidfile %s)", pid, pidfile);
	return add_finding(&ev->f, "reload", "running sshd has read its config",
			   ev->reload_pending ? "config changed after sshd (re)started" : "up to date",
			   NULL, note, ev->reload_pending ? FINDING_DRIFT : FINDING_COMPLIANT);
}

/* The first spec under which sshd's value differs from the policy, per keyword. */
static int eval_effective(const struct sshd_state *st, struct sshd_eval *ev,
			  const struct sshd_dump *global, const struct sshd_conf *c,
			  const char *top)
{
	char *actual[64] = { 0 }, *where[64] = { 0 };
	struct strv specs = { 0 }, origins = { 0 };
	int r = 0;

	for (size_t j = 0; j < c->n && !r && specs.n < SSHD_MAX_SPECS; j++) {
		const struct sshd_cfgline *l = &c->v[j];
		char spec[512], origin[1400];

		if (strcasecmp(l->keyword, "Match") != 0 || l->ours)
			continue;
		if (sshd_match_spec(st->root_fd, l->args, spec, sizeof(spec)))
			continue;	/* only negations: no test connection enters it */
		if (strv_contains(&specs, spec))
			continue;
		snprintf(origin, sizeof(origin), "for %s (Match %s at %s line %d)", spec, l->args,
			 l->file, l->line);
		r = strv_push(&specs, spec);
		if (!r)
			r = strv_push(&origins, origin);
	}
	for (size_t j = 0; j < st->specs.n && !r; j++) {
		char origin[512];

		snprintf(origin, sizeof(origin), "for %s (check_connections)", st->specs.v[j]);
		r = strv_push(&specs, st->specs.v[j]);
		if (!r)
			r = strv_push(&origins, origin);
	}
	for (size_t i = 0; i < sshd_keywords_count && !r; i++) {
		const char *v;

		if (!st->want[i].value)
			continue;
		v = sshd_dump_get(global, sshd_keywords[i].name);
		if (v && !sshd_value_equal(&sshd_keywords[i], st->want[i].value, v)) {
			actual[i] = strdup(v);
			where[i] = NULL;	/* the global section: nothing to add */
			if (!actual[i])
				r = -ENOMEM;
		}
	}
	for (size_t s = 0; s < specs.n && !r; s++) {
		struct run_result res;
		struct sshd_dump d;

		r = sshd_run_config(st, top, specs.v[s], false, &c->files, &res);
		if (r)
			break;
		if (res.status != 0 || sshd_dump_parse(&d, res.out)) {
			char msg[256];

			first_line(res.err, msg, sizeof(msg));
			r = add_finding(&ev->f, "match", "sshd -T -C succeeds", msg, NULL,
					origins.v[s], FINDING_ERROR);
			run_result_free(&res);
			continue;
		}
		run_result_free(&res);
		for (size_t i = 0; i < sshd_keywords_count && !r; i++) {
			const char *v;

			if (!st->want[i].value || actual[i])
				continue;
			v = sshd_dump_get(&d, sshd_keywords[i].name);
			if (v && !sshd_value_equal(&sshd_keywords[i], st->want[i].value, v)) {
				actual[i] = strdup(v);
				where[i] = strdup(origins.v[s]);
				if (!actual[i] || !where[i])
					r = -ENOMEM;
			}
		}
		sshd_dump_free(&d);
	}
	for (size_t i = 0; i < sshd_keywords_count && !r; i++) {
		const struct sshd_keyword *k = &sshd_keywords[i];
		const char *v;

		if (!st->want[i].value)
			continue;
		v = sshd_dump_get(global, k->name);
		if (!v)
			r = add_finding(&ev->f, k->name, st->want[i].value, NULL, &k->refs,
					"not supported by this sshd", FINDING_UNSUPPORTED);
		else if (actual[i])
			r = add_finding(&ev->f, k->name, st->want[i].value, actual[i], &k->refs,
					where[i], FINDING_DRIFT);
		else
			r = add_finding(&ev->f, k->name, st->want[i].value, v, &k->refs, NULL,
					FINDING_COMPLIANT);
	}
	for (size_t i = 0; i < 64; i++) {
		free(actual[i]);
		free(where[i]);
	}
	strv_free(&specs);
	strv_free(&origins);
	return r;
}

static int sshd_evaluate(const struct sshd_state *st, struct sshd_eval *ev)
{
	struct settings_buf {
		struct sshd_setting s[64];
		bool supported[64];
		bool in_match[64];
		size_t n;
	} sb;
	struct sshd_want_set want;
	struct sshd_conf c = { 0 };
	struct sshd_dump global = { 0 };
	struct run_result res = { 0 };
	char *top = NULL, note[512], msg[512];
	bool have_dump = false, outside = false;
	size_t len;
	int r;

	memset(ev, 0, sizeof(*ev));
	memset(&sb, 0, sizeof(sb));
	if (!sshd_installed(st))
		return add_finding(&ev->f, "sshd", "installed", NULL, NULL, "not installed",
				   FINDING_UNSUPPORTED);

	r = root_read_file_alloc(st->root_fd, SSHD_CONFIG, &ev->main_text, &len);
	if (r == -ENOENT) {
		ev->main_text = strdup("");
		r = ev->main_text ? 0 : -ENOMEM;
	}
	if (r)
		return r;
	r = root_read_file_alloc(st->root_fd, SSHD_DROPIN, &ev->dropin_text, &len);
	if (r && r != -ENOENT)
		return r;

	/* What sshd makes of the configuration as it is now. */
	r = sshd_conf_read(&c, st->root_fd, st->root, SSHD_CONFIG, ev->main_text, SSHD_DROPIN, NULL);
	if (!r)
		r = sshd_conf_render_top(st->root_fd, st->root, ev->main_text, SSHD_DROPIN, NULL, &top);
	if (r == -EXDEV) {
		/* sshd would read another tree's file: it is not asked at all. */
		snprintf(msg, sizeof(msg), "an Include of %s leads outside %s (a symlink to another tree?)",
			 SSHD_CONFIG, st->root);
		r = add_finding(&ev->f, "sshd_config", "Include paths inside the root", msg, NULL,
				"sshd -T not run", FINDING_ERROR);
		if (r)
			goto out;
		outside = true;
	} else if (!r) {
		r = sshd_run_config(st, top, NULL, false, &c.files, &res);
	}
	if (r)
		goto out;
	if (outside) {
		/* reported above */
	} else if (res.status == 0 && sshd_dump_parse(&global, res.out) == 0) {
		have_dump = true;
	} else {
		first_line(res.err, msg, sizeof(msg));
		/* Also a missing privilege separation directory, or no host key. */
		r = add_finding(&ev->f, "sshd_config", "accepted by sshd -T", msg, NULL,
				"sshd -T fails on the current configuration", FINDING_ERROR);
		if (r)
			goto out;
	}

	/* The drop-in this policy wants, given the Match blocks present. */
	for (size_t i = 0; i < sshd_keywords_count; i++) {
		if (!st->want[i].value)
			continue;
		sb.s[sb.n].kw = &sshd_keywords[i];
		sb.s[sb.n].value = st->want[i].value;
		sb.supported[sb.n] = !have_dump || sshd_dump_get(&global, sshd_keywords[i].name);
		sb.n++;
	}
	want = (struct sshd_want_set){ sb.s, sb.n };
	sshd_match_overrides(&want, &c, sb.in_match);
	r = sshd_dropin_render(sb.s, sb.n, sb.supported, sb.in_match, &ev->dropin_new);
	if (r)
		goto out;
	r = add_finding(&ev->f, SSHD_DROPIN, "written from the policy",
			!ev->dropin_text ? "missing" :
			strcmp(ev->dropin_text, ev->dropin_new) ? "differs" : "as written",
			NULL, NULL,
			ev->dropin_text && !strcmp(ev->dropin_text, ev->dropin_new) ?
			FINDING_COMPLIANT : FINDING_DRIFT);
	if (r)
		goto out;
	r = sshd_plan_main(&want, st->root_fd, st->root, ev->main_text, ev->dropin_new,
			   &ev->main_new, note, sizeof(note));
	if (r)
		goto out;
	r = add_finding(&ev->f, "include", "drop-in read before any conflicting directive",
			ev->main_new ? note : "read first", NULL, NULL,
			ev->main_new ? FINDING_DRIFT : FINDING_COMPLIANT);
	if (r)
		goto out;
	ev->config_change = ev->main_new || !ev->dropin_text ||
			    strcmp(ev->dropin_text, ev->dropin_new) != 0;

	if (have_dump) {
		r = eval_effective(st, ev, &global, &c, top);
		if (r)
			goto out;
	}

	/* CIS 5.1.1 and 5.1.2: config and private keys 0600 root. */
	r = eval_mode(st, ev, SSHD_CONFIG, 0600, &REFS(REF_CIS("5.1.1")));
	if (!r)
		r = eval_mode(st, ev, SSHD_DROPIN_DIR, 0755, &REFS(REF_CIS("5.1.1")));
	for (size_t i = 0; i < c.files.n && !r; i++)
		if (strcmp(c.files.v[i], SSHD_CONFIG) != 0)
			r = eval_mode(st, ev, c.files.v[i], 0644, &REFS(REF_CIS("5.1.1")));
	if (!r && have_dump) {
		const char *keys = sshd_dump_get(&global, "hostkey");
		struct strv hk = { 0 };

		r = keys ? strv_split(&hk, keys, " ") : 0;
		for (size_t i = 0; i < hk.n && !r; i++)
			r = eval_mode(st, ev, hk.v[i], 0600, &REFS(REF_CIS("5.1.2")));
		/* The default names of the weak types: present but not offered is still drift. */
		if (!r && !strv_contains(&hk, "/etc/ssh/ssh_host_ecdsa_key"))
			r = strv_push(&hk, "/etc/ssh/ssh_host_ecdsa_key");
		if (!r && !strv_contains(&hk, "/etc/ssh/ssh_host_dsa_key"))
			r = strv_push(&hk, "/etc/ssh/ssh_host_dsa_key");
		for (size_t i = 0; i < hk.n && !r; i++)
			r = eval_hostkey(st, ev, hk.v[i]);
		strv_free(&hk);
	}
	if (!r && have_dump)
		r = eval_reload(st, ev, &global, &c);
out:
	free(top);
	sshd_conf_free(&c);
	sshd_dump_free(&global);
	run_result_free(&res);
	return r;
}

/* ---- check --------------------------------------------------------------- */

static int sshd_check(void *state, struct findings *out)
{
	struct sshd_state *st = state;
	struct sshd_eval ev;
	int r;

	r = sshd_evaluate(st, &ev);
	if (!r)
		r = findings_append(out, &ev.f);
	eval_free(&ev);
	/* A cache that cannot be written is only a slower next run. */
	(void)sshd_cache_save(st->cache, false);
	return r;
}

/* ---- apply --------------------------------------------------------------- */

static bool user_in_groups(int root_fd, const char *user, unsigned long gid,
			   const char *groups, bool *listed)
{
	struct strv pats = { 0 };
	struct rootfs_accounts grp;
	bool hit = false;

	*listed = groups && *groups;
	if (!*listed || strv_split(&pats, groups, " ") ||
	    rootfs_accounts_read(root_fd, ROOTFS_GROUP, &grp)) {
		strv_free(&pats);
		return false;
	}
	for (size_t i = 0; i < grp.n && !hit; i++)
		for (size_t p = 0; p < pats.n && !hit; p++)
			if (fnmatch(pats.v[p], grp.v[i].name, 0) == 0)
				hit = grp.v[i].gid == gid ||
				      rootfs_account_is_member(&grp.v[i], user);
	rootfs_accounts_free(&grp);
	strv_free(&pats);
	return hit;
}

static bool user_matches(const char *user, const char *list)
{
	struct strv pats = { 0 };
	bool hit = false;

	if (!list || strv_split(&pats, list, " "))
		return false;
	for (size_t i = 0; i < pats.n && !hit; i++) {
		char *at = strchr(pats.v[i], '@');

		if (at)
			*at = '\0';	/* user@host: the host part needs a connection */
		hit = fnmatch(pats.v[i], user, 0) == 0;
	}
	strv_free(&pats);
	return hit;
}

/* Does home/AuthorizedKeysFile of this user hold at least one key? */
static bool user_has_key(int root_fd, const struct rootfs_account *u, const char *akf)
{
	struct strv files = { 0 };
	bool found = false;

	if (!akf || strv_split(&files, akf, " "))
		return false;
	for (size_t i = 0; i < files.n && !found; i++) {
		struct sshd_buf path = { 0 };
		char *text = NULL;
		size_t len;

		if (strcmp(files.v[i], "none") == 0)
			continue;
		if (files.v[i][0] != '/' && files.v[i][0] != '%')
			sshd_buf_printf(&path, "%s/", u->home);
		for (const char *c = files.v[i]; *c; c++) {
			if (c[0] == '%' && c[1]) {
				c++;
				if (*c == 'h')
					sshd_buf_printf(&path, "%s", u->home);
				else if (*c == 'u')
					sshd_buf_printf(&path, "%s", u->name);
				else if (*c == 'U')
					sshd_buf_printf(&path, "%lu", u->id);
				else
					sshd_buf_printf(&path, "%c", *c);
			} else {
				sshd_buf_printf(&path, "%c", *c);
			}
		}
		if (path.p && root_read_file_alloc(root_fd, path.p, &text, &len) == 0) {
			for (char *line = strtok(text, "\n"); line && !found; line = strtok(NULL, "\n")) {
				line = str_trim(line);
				found = *line && *line != '#';
			}
			free(text);
		}
		sshd_buf_free(&path);
	}
	strv_free(&files);
	return found;
}

/*
 * Could this user log in with a password today?  Only then does turning
 * passwords off take a way in away: a locked password ("!", "*"; the
 * image's admin has one) is no way in before the change either.  An
 * unreadable shadow file, no line for the user or an empty password: it
 * could (the refusal stands).
 */
#define SSHD_SHADOW	"/etc/shadow"

static bool user_password_usable(int root_fd, const char *name)
{
	size_t nlen = strlen(name);
	char *text = NULL, *save = NULL;
	bool usable = true;

	if (root_read_file_alloc(root_fd, SSHD_SHADOW, &text, NULL) != 0)
		return true;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, name, nlen) != 0 || line[nlen] != ':')
			continue;
		usable = line[nlen + 1] != '!' && line[nlen + 1] != '*';
		break;
	}
	free(text);
	return usable;
}

static bool method_on(const struct sshd_dump *d, const char *kw)
{
	const char *v = sshd_dump_get(d, kw);

	return v && strcmp(v, "yes") == 0;
}

/*
 * Would the candidate leave the admin outside?  *why says how.  Only the
 * global section is judged; Match blocks that open a way for some users
 * are not counted as a way in.
 */
static int lockout_check(const struct sshd_state *st, const struct sshd_dump *d,
			 char *why, size_t why_len)
{
	bool pubkey = method_on(d, "pubkeyauthentication");
	bool password = method_on(d, "passwordauthentication") ||
			method_on(d, "kbdinteractiveauthentication");
	bool other = method_on(d, "hostbasedauthentication") ||
		     method_on(d, "gssapiauthentication");
	const char *akc = sshd_dump_get(d, "authorizedkeyscommand");
	const char *ca = sshd_dump_get(d, "trustedusercakeys");
	const char *prl = sshd_dump_get(d, "permitrootlogin");
	struct rootfs_accounts pw;
	int users = 0, stranded = 0;
	bool read = false;

	why[0] = '\0';
	if (!pubkey && !password && !other) {
		snprintf(why, why_len, "no authentication method would be left");
		return 1;
	}
	if (password || other || !pubkey)
		return 0;
	if ((akc && strcmp(akc, "none") != 0) || (ca && strcmp(ca, "none") != 0))
		return 0;	/* keys come from elsewhere: not ours to judge */
	if (rootfs_accounts_read(st->root_fd, ROOTFS_PASSWD, &pw) == 0) {
		read = true;
		for (size_t i = 0; i < pw.n; i++) {
			const struct rootfs_account *u = &pw.v[i];
			bool listed;

			if (!u->shell || !u->home)
				continue;
			if (strstr(u->shell, "nologin") || strstr(u->shell, "/false") ||
			    strstr(u->shell, "/sync"))
				continue;
			if (u->id == 0 ? (prl && strcmp(prl, "no") == 0) : u->id < 1000 || u->id >= 65534)
				continue;
			if (user_matches(u->name, sshd_dump_get(d, "denyusers")))
				continue;
			if (sshd_dump_get(d, "allowusers") &&
			    !user_matches(u->name, sshd_dump_get(d, "allowusers")))
				continue;
			if (user_in_groups(st->root_fd, u->name, u->gid, sshd_dump_get(d, "denygroups"),
					   &listed))
				continue;
			if (!user_in_groups(st->root_fd, u->name, u->gid, sshd_dump_get(d, "allowgroups"),
					    &listed) && listed)
				continue;
			users++;
			if (user_has_key(st->root_fd, u, sshd_dump_get(d, "authorizedkeysfile"))) {
				rootfs_accounts_free(&pw);
				return 0;
			}
			if (user_password_usable(st->root_fd, u->name))
				stranded++;
		}
		rootfs_accounts_free(&pw);
	}
	/* Nobody logs in with a password today: passwords off strand no one. */
	if (read && stranded == 0)
		return 0;
	snprintf(why, why_len,
		 "passwords would be off and none of the %d allowed login user(s) has an authorized key",
		 users);
	return 1;
}

/* How long a repair waits for a restart of sshd already under way. */
#define SSHD_SETTLE_MS	5000

/* Whether the process ignores SIGHUP now (/proc/PID/status SigIgn). */
static bool proc_ignores_sighup(long pid)
{
	char path[64], buf[2048], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strstr(buf, "\nSigIgn:");
	return p && (strtoull(p + 8, NULL, 16) & (1ULL << (SIGHUP - 1)));
}

static bool sshd_service_started(const struct sshd_state *st)
{
	struct openrc_lib rc;
	char why[256];
	bool started;

	if (access(RC_SVCDIR "/softlevel", F_OK) != 0 || openrc_lib_open(&rc, why, sizeof(why)))
		return false;
	started = rc.service_state(st->service) & RC_SERVICE_STARTED;
	openrc_lib_close(&rc);
	return started;
}

/*
 * Before the reload that follows a repair, let a restart of sshd already
 * under way finish (someone else's SIGHUP, seen on the booted ISO when an
 * admin's `rc-service ssh reload` and our repair met): from the moment
 * sshd re-executes itself until the new image is ready for the next
 * SIGHUP it has no pidfile and ignores SIGHUP, and it reads its
 * configuration in between, possibly before our repair.  A SIGHUP sent
 * then is lost, and that sshd, whose pidfile ends up newer than our file,
 * would pass for up to date.  Returns whether an sshd is running, ready
 * for the signal; bounded, the reload goes ahead after SSHD_SETTLE_MS.
 */
static bool sshd_wait_settled(const struct sshd_state *st, const char *pidfile)
{
	struct stat pst;
	long pid = 0;

	for (int waited = 0; waited < SSHD_SETTLE_MS; waited += 20) {
		pid = sshd_pid_read(st, pidfile, &pst);
		if (pid > 0 && !proc_ignores_sighup(pid))
			return true;
		(void)poll(NULL, 0, 20);
	}
	return pid > 0;
}

/* OpenRC knows the service and it is started: ask its script to reload. */
static int sshd_reload(const struct sshd_state *st, char *note, size_t note_len)
{
	char *argv[3] = { NULL, "reload", NULL };
	struct run_result res;
	struct openrc_lib rc;
	RC_SERVICE state;
	char msg[256];
	int r;

	if (!st->is_host) {
		snprintf(note, note_len, "reload not done: the root is %s, not this host", st->root);
		return -ENOTSUP;
	}
	if (access(RC_SVCDIR "/softlevel", F_OK) != 0) {
		snprintf(note, note_len, "reload not done: OpenRC is not running on this host");
		return -ENOTSUP;
	}
	if (openrc_lib_open(&rc, msg, sizeof(msg))) {
		snprintf(note, note_len, "reload not done: %s", msg);
		return -ENOTSUP;
	}
	state = rc.service_state(st->service);
	argv[0] = state & RC_SERVICE_STARTED ? rc.service_resolve(st->service) : NULL;
	openrc_lib_close(&rc);
	if (!(state & RC_SERVICE_STARTED)) {
		snprintf(note, note_len, "reload not done: service %s is not started (never started by jefe)",
			 st->service);
		return -ENOTSUP;
	}
	if (!argv[0]) {
		snprintf(note, note_len, "reload not done: no init script for %s", st->service);
		return -ENOENT;
	}
	r = rootfs_check_program(argv[0], msg, sizeof(msg));
	if (r == -JEFE_EUNTRUSTED) {
		snprintf(note, note_len, "reload not done, the init script is not trusted: %s", msg);
		free(argv[0]);
		return r;
	}
	r = run_prog(argv, NULL, 30000, &res);
	free(argv[0]);
	if (r) {
		snprintf(note, note_len, "reload of %s failed: %s", st->service, jefe_strerror(r));
		return r;
	}
	first_line(res.err, msg, sizeof(msg));
	snprintf(note, note_len, res.status == 0 ? "reloaded through OpenRC (%s)" :
		 "reload of %s failed", st->service);
	if (res.status != 0) {
		size_t l = strlen(note);

		snprintf(note + l, note_len - l, ": %s", msg);
	}
	r = res.status == 0 ? 0 : -EIO;
	run_result_free(&res);
	return r;
}

/* Strip the bits above max and give the file to root, without following links. */
static int fix_mode(const struct sshd_state *st, const char *path, mode_t max)
{
	struct stat sb;
	int fd, r = 0;

	fd = rootfs_open(st->root_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return fd;
	if (fstat(fd, &sb) < 0)
		r = -errno;
	if (!r && (sb.st_uid != 0 || (sb.st_gid != 0 && (sb.st_mode & 070))) &&
	    fchown(fd, 0, 0) < 0)
		r = -errno;
	if (!r && (sb.st_mode & 07777 & ~max) && fchmod(fd, sb.st_mode & 07777 & max) < 0)
		r = -errno;
	close(fd);
	return r;
}

/*
 * What was found before apply, with what apply did, judged by reading the
 * system back: a drift item is repaired only if it is compliant after.
 * Items that got worse meanwhile (a config change makes a reload pending)
 * are reported as they are now.
 */
static const struct finding *finding_find(const struct findings *fs, const char *item)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].item, item) == 0)
			return &fs->v[i];
	return NULL;
}

static int merge_actions(const struct findings *before, const struct findings *after,
			 const char *skip, struct findings *out)
{
	for (size_t i = 0; i < before->n; i++) {
		struct finding f = before->v[i];
		const struct finding *now = finding_find(after, f.item);

		if (skip && strcmp(f.item, skip) == 0)
			continue;
		if (f.state == FINDING_DRIFT && strncmp(f.item, "hostkey:", 8) == 0) {
			f.action = FINDING_ACTION_CANNOT_FIX;	/* the admin's: eval_hostkey */
		} else if (f.state == FINDING_DRIFT) {
			f.action = !now || now->state == FINDING_COMPLIANT ?
				   FINDING_ACTION_REPAIRED : FINDING_ACTION_FAILED;
			if (now && now->state != FINDING_COMPLIANT && now->note)
				f.note = now->note;
		}
		if (findings_add(out, &f))
			return -ENOMEM;
	}
	for (size_t i = 0; i < after->n; i++) {
		const struct finding *was = finding_find(before, after->v[i].item);

		if (skip && strcmp(after->v[i].item, skip) == 0)
			continue;
		if (after->v[i].state == FINDING_COMPLIANT ||
		    (was && was->state != FINDING_COMPLIANT))
			continue;
		if (findings_add(out, &after->v[i]))
			return -ENOMEM;
	}
	return 0;
}

/* Write the candidate next to the drop-in, where sshd's glob does not see it. */
static int write_candidate(const struct sshd_state *st, const char *text)
{
	return rootfs_write_atomic(st->root_fd, SSHD_CANDIDATE, text, strlen(text), 0600);
}

/*
 * Validate and install the configuration change: candidate drop-in in a
 * temporary file, sshd -t on the whole candidate, lockout check, then
 * atomic renames.  On refusal nothing is installed and *why says why.
 */
static int install_config(const struct sshd_state *st, const struct sshd_eval *ev,
			  char *why, size_t why_len, enum finding_state *refusal)
{
	const char *main_text = ev->main_new ? ev->main_new : ev->main_text;
	struct run_result res = { 0 };
	struct sshd_dump d = { 0 };
	char *top = NULL, msg[256];
	int r;

	*refusal = FINDING_COMPLIANT;
	r = rootfs_mkdir_p(st->root_fd, SSHD_DROPIN_DIR, 0755);
	if (!r)
		r = write_candidate(st, ev->dropin_new);
	if (r) {
		snprintf(why, why_len, "cannot write the candidate: %s", jefe_strerror(r));
		return r;
	}
	r = sshd_conf_render_top(st->root_fd, st->root, main_text, SSHD_DROPIN, SSHD_CANDIDATE, &top);
	if (r == -EXDEV) {
		snprintf(why, why_len, "refused, nothing installed: an Include path of %s leads outside %s (a symlink to another tree?)",
			 SSHD_CONFIG, st->root);
		goto out;
	}
	if (!r)
		r = sshd_run_config(st, top, NULL, true, NULL, &res);
	if (r) {
		snprintf(why, why_len, "cannot validate the candidate: %s", jefe_strerror(r));
		goto out;
	}
	if (res.status != 0) {
		first_line(res.err, msg, sizeof(msg));
		snprintf(why, why_len, "sshd -t rejected the candidate, nothing installed: %s", msg);
		*refusal = FINDING_ERROR;
		r = -JEFE_EVALIDATE;
		goto out;
	}
	run_result_free(&res);
	r = sshd_run_config(st, top, NULL, false, NULL, &res);
	if (r)
		goto out;
	if (res.status != 0 || sshd_dump_parse(&d, res.out)) {
		first_line(res.err, msg, sizeof(msg));
		snprintf(why, why_len, "sshd -T failed on the candidate, nothing installed: %s", msg);
		*refusal = FINDING_ERROR;
		r = -JEFE_EVALIDATE;
		goto out;
	}
	if (lockout_check(st, &d, msg, sizeof(msg)) && !st->allow_lockout) {
		snprintf(why, why_len, "refused, nothing installed: %s (set allow_lockout = yes to force)",
			 msg);
		*refusal = FINDING_ERROR;
		r = -EPERM;
		goto out;
	}
	r = rootfs_rename(st->root_fd, SSHD_CANDIDATE, SSHD_DROPIN);
	if (r) {
		snprintf(why, why_len, "cannot install the drop-in: %s", strerror(-r));
		goto out;
	}
	if (ev->main_new) {
		/* The admin's file as it was before our edit, and the very first one. */
		struct stat sb;

		if (rootfs_stat(st->root_fd, SSHD_CONFIG ".jefe-orig", &sb, false) < 0)
			rootfs_write_atomic(st->root_fd, SSHD_CONFIG ".jefe-orig", ev->main_text,
					       strlen(ev->main_text), 0600);
		r = rootfs_write_atomic(st->root_fd, SSHD_CONFIG ".jefe-bak", ev->main_text,
					   strlen(ev->main_text), 0600);
		if (!r)
			r = rootfs_write_atomic(st->root_fd, SSHD_CONFIG, ev->main_new,
						   strlen(ev->main_new), 0600);
		if (r)
			snprintf(why, why_len, "cannot write %s: %s", SSHD_CONFIG, jefe_strerror(r));
	}
out:
	rootfs_unlink(st->root_fd, SSHD_CANDIDATE);
	free(top);
	sshd_dump_free(&d);
	run_result_free(&res);
	return r;
}

/* The dry run shows each file it would write (the drop-in, sshd_config) as a diff. */
static int sshd_dry_run_diffs(const struct sshd_eval *ev, struct findings *out)
{
	const struct {
		const char *path, *have, *want;
	} files[] = {
		{ SSHD_DROPIN, ev->dropin_text, ev->dropin_new },
		{ SSHD_CONFIG, ev->main_text, ev->main_new },
	};
	int r = 0;

	for (size_t i = 0; !r && i < ARRAY_SIZE(files); i++) {
		char *patch = NULL;

		if (!files[i].want || (files[i].have && strcmp(files[i].have, files[i].want) == 0))
			continue;
		r = diff_unified(files[i].path, files[i].have, files[i].want, &patch);
		if (!r)
			r = findings_add(out, &(struct finding){
				.layer = "sshd", .item = files[i].path,
				.expected = "written by jefe",
				.actual = files[i].have ? "differs" : "missing",
				.note = patch, .state = FINDING_DRIFT,
				.action = FINDING_ACTION_WOULD_REPAIR,
			});
		free(patch);
	}
	return r;
}

static int sshd_apply(void *state, bool dry_run, struct findings *out)
{
	struct sshd_state *st = state;
	struct sshd_eval before, after;
	char why[768] = "", note[512] = "";
	enum finding_state refusal = FINDING_COMPLIANT;
	bool changed = false, reloaded = false;
	int r;

	r = sshd_evaluate(st, &before);
	if (r)
		goto out_before;
	if (!sshd_installed(st) || dry_run) {
		for (size_t i = 0; i < before.f.n; i++) {
			struct finding f = before.f.v[i];

			if (dry_run && f.state == FINDING_DRIFT)
				f.action = strncmp(f.item, "hostkey:", 8) == 0 ?
					   FINDING_ACTION_CANNOT_FIX : FINDING_ACTION_WOULD_REPAIR;
			r = findings_add(out, &f);
			if (r)
				break;
		}
		if (!r && dry_run && sshd_installed(st) && before.config_change)
			r = sshd_dry_run_diffs(&before, out);
		goto out_before;
	}

	if (before.config_change) {
		r = install_config(st, &before, why, sizeof(why), &refusal);
		if (r == -ENOMEM)
			goto out_before;
		if (r) {
			r = findings_add(out, &(struct finding){
				.layer = "sshd", .item = "candidate", .expected = "installed",
				.actual = "refused", .note = why,
				.state = refusal == FINDING_COMPLIANT ? FINDING_ERROR : refusal,
				.action = FINDING_ACTION_FAILED,
			});
			if (r)
				goto out_before;
		} else {
			changed = true;
		}
	}
	for (size_t i = 0; i < before.chmod_paths.n; i++) {
		mode_t max = (mode_t)strtoul(before.chmod_modes.v[i], NULL, 8);
		int e = fix_mode(st, before.chmod_paths.v[i], max);

		if (e && e != -ENOENT) {
			r = findings_add(out, &(struct finding){
				.layer = "sshd", .item = before.chmod_paths.v[i],
				.note = strerror(-e), .state = FINDING_ERROR,
				.action = FINDING_ACTION_FAILED,
			});
			if (r)
				goto out_before;
		}
	}
	/* Only on this host: /proc and OpenRC are the running system's. */
	if (changed && st->is_host &&
	    (before.sshd_running || sshd_service_started(st)))
		before.sshd_running = sshd_wait_settled(st, before.pidfile) || before.sshd_running;
	if ((changed || before.reload_pending) && before.sshd_running) {
		int e = sshd_reload(st, note, sizeof(note));

		r = findings_add(out, &(struct finding){
			.layer = "sshd", .item = "reload", .expected = "sshd reloaded",
			.actual = e ? "not reloaded" : "reloaded", .note = note,
			.state = e && e != -ENOTSUP ? FINDING_ERROR : FINDING_DRIFT,
			.action = e == -ENOTSUP ? FINDING_ACTION_CANNOT_FIX :
				  e ? FINDING_ACTION_FAILED : FINDING_ACTION_REPAIRED,
		});
		if (r)
			goto out_before;
		reloaded = true;
	}

	/* Read back: sshd, not our own bookkeeping, says what changed. */
	r = sshd_evaluate(st, &after);
	if (!r)
		r = merge_actions(&before.f, &after.f, reloaded ? "reload" : NULL, out);
	eval_free(&after);
out_before:
	eval_free(&before);
	if (!dry_run)	/* a dry run leaves every file as it was, caches too */
		(void)sshd_cache_save(st->cache, true);
	return r;
}

/* ---- watch --------------------------------------------------------------- */

#define SSHD_INOTIFY_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
			   IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | \
			   IN_ONLYDIR)

static void watch_dropin_dir(struct sshd_state *st)
{
	if (st->wd_dropin >= 0)
		return;
	st->wd_dropin = rootfs_watch_add(st->ino_fd, st->root_fd, SSHD_DROPIN_DIR, SSHD_INOTIFY_MASK);
}

static int sshd_watch(void *state, struct watch_set *ws)
{
	struct sshd_state *st = state;

	if (st->ino_fd < 0) {
		st->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (st->ino_fd < 0)
			return -errno;
		/* No /etc/ssh: nothing to watch until sshd is installed (timer). */
		st->wd_etc = rootfs_watch_add(st->ino_fd, st->root_fd, SSHD_SSHDIR, SSHD_INOTIFY_MASK);
		watch_dropin_dir(st);
		/*
		 * The reload item depends on sshd running (its pidfile): at boot
		 * the agent's first pass comes before sshd starts, and without
		 * this its "sshd not running" stood until the backstop.  Only the
		 * default pidfile's name wakes the layer (a PidFile elsewhere is
		 * seen by the backstop); the rest of /run's traffic is dropped in
		 * sshd_event().
		 */
		st->wd_run = rootfs_watch_add(st->ino_fd, st->root_fd, SSHD_PIDFILE_DIR,
					      IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM |
					      IN_CLOSE_WRITE | IN_ONLYDIR);
	}
	return watch_set_add(ws, st->ino_fd, POLLIN);
}

static bool sshd_event(void *ctx, const struct inotify_event *ev)
{
	struct sshd_state *st = ctx;
	const char *name = ev->len ? ev->name : "";

	if (ev->mask & IN_IGNORED) {
		if (ev->wd == st->wd_dropin)
			st->wd_dropin = -1;
		if (ev->wd == st->wd_etc)
			st->wd_etc = -1;
		if (ev->wd == st->wd_run)
			st->wd_run = -1;
		return false;
	}
	if (ev->wd == st->wd_run)
		return strcmp(name, SSHD_PIDFILE_NAME) == 0;
	if (ev->wd == st->wd_etc && strcmp(name, "sshd_config.d") == 0)
		watch_dropin_dir(st);
	/* Our own candidate and temporary files are not changes. */
	return !strstr(name, ".jefe-candidate") && !strstr(name, ".jefe-tmp.");
}

static int sshd_on_event(void *state, int fd, uint32_t events, bool *recheck)
{
	return layer_inotify_drain(fd, sshd_event, state, recheck);
}

const struct layer_ops layer_sshd_ops = {
	.name = "sshd",
	.title = "SSH server configuration",
	.keys = sshd_keys,
	.settings_size = sizeof(struct sshd_settings),
	.free_key = sshd_free_key,
	.free_key_name = sshd_free_key_name,
	.load = sshd_load,
	.check = sshd_check,
	.apply = sshd_apply,
	.watch = sshd_watch,
	.on_event = sshd_on_event,
	.free = sshd_free,
	.runs_programs = true,
};
