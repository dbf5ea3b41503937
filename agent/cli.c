/* SPDX-License-Identifier: MIT */
/*
 * jefe - the admin's command.
 *
 *   jefe status   [--json] [--fresh] [--verbose] [--layer NAME]...   read-only audit
 *   jefe enforce  [--dry-run] [--json] [--verbose] [--layer NAME]...
 *   jefe policy   check [FILE...] | show
 *   jefe reload
 *   jefe baseline accept PATH...
 *
 * When jefe-setup runs, status and enforce go through its socket (one code
 * path: the daemon runs the same check/apply); otherwise jefe acts
 * directly.  Options may stand before or after the command.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "ipc.h"
#include "layer.h"
#include "layer_files.h"
#include "log.h"
#include "policy.h"
#include "report.h"
#include "rootfs.h"
#include "util.h"

/* Exit codes (documented in jefe(8)); status follows oscap. */
enum {
	EXIT_COMPLIANT = 0,
	EXIT_ERROR = 1,
	EXIT_DRIFT = 2,
	EXIT_USAGE = 64,
};

struct cli {
	const char *root;
	const char *config;
	const char *socket;
	bool direct;
	bool json;
	bool dry_run;
	bool fresh;		/* status: the daemon re-checks instead of its live state */
	struct report_style style;
	uint32_t layers;		/* layer mask (layer.h), 0 = all */
	char policy_dir[PATH_MAX];	/* below root; see layer_policy_path() */
	char **args;		/* after the command */
	int n_args;
	int root_fd;
};

struct cli_command {
	const char *name;
	int (*run)(struct cli *cli);
	const char *usage;
};

/* Escaped as the daemon's log does: a policy file's bytes never drive the terminal. */
static void print_policy_errors(const struct policy_errors *errs)
{
	char buf[2 * PATH_MAX];

	for (size_t i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", log_escape(buf, sizeof(buf), errs->msgs[i], false));
}

static int cli_open_root(struct cli *cli)
{
	cli->root_fd = open(cli->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cli->root_fd < 0) {
		fprintf(stderr, "jefe: cannot open root %s: %s\n", cli->root, strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * Why the policy did not open (err), printed.  Kept out of the frame of
 * every run (noinline): its PATH_MAX buffer is a stack page that gcc's
 * -fstack-clash-protection probes, under every later call of the run.
 */
__attribute__((noinline))
static int cli_policy_absent(struct cli *cli, const char *main_file, int err)
{
	char shown[PATH_MAX];
	struct stat st = { 0 };

	if (root_join(shown, sizeof(shown), cli->root, main_file))
		snprintf(shown, sizeof(shown), "%s", main_file);
	if (err != -ENOENT && err != -ENOTDIR) {
		int stat_err = rootfs_stat(cli->root_fd, main_file, &st, true);

		if (stat_err == -ENOENT || stat_err == -ENOTDIR)
			err = stat_err;
	}
	if (err == -ENOENT || err == -ENOTDIR) {
		fprintf(stderr, "jefe: the policy is missing: %s does not exist%s\n", shown,
			cli->config ? "" : " (give another with --config FILE)");
		return err;
	}
	if ((err == -EACCES || err == -EPERM) && st.st_mode)
		fprintf(stderr, "jefe: cannot read the policy %s: %s (owner uid %ld, mode %04o);"
			" run as root\n", shown, strerror(-err), (long)st.st_uid,
			(unsigned int)(st.st_mode & 07777));
	else if (err == -EACCES || err == -EPERM)
		fprintf(stderr, "jefe: cannot read the policy %s: %s; run as root\n", shown,
			strerror(-err));
	else if (err)
		fprintf(stderr, "jefe: cannot read the policy %s: %s\n", shown, jefe_strerror(err));
	return err;
}

/*
 * Before parsing: is there a policy at all, and may we read it?  A missing
 * file is "missing", not an invalid policy; an unreadable one says whose
 * it is.  Returns 0, or -errno after printing why.
 */
static int cli_policy_present(struct cli *cli)
{
	const char *main_file = cli->config ? cli->config : POLICY_MAIN_FILE;
	/* Only whether it opens: never wait on a FIFO planted there.  Its
	 * owner and mode are only looked up to say why it does not. */
	int err = rootfs_open(cli->root_fd, main_file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (err >= 0) {
		close(err);
		return 0;
	}
	return cli_policy_absent(cli, main_file, err);
}

static int cli_env_init(struct cli *cli, struct jefe_env *env)
{
	int err = jefe_env_init(env, cli->root, cli->root_fd, cli->policy_dir);

	if (err)
		fprintf(stderr, "jefe: cannot tell whether %s is this host: %s\n", cli->root,
			strerror(-err));
	return err;
}

/* Load the policy and every layer from it; all errors are printed. */
static int cli_load(struct cli *cli, const struct jefe_env *env, struct policy **policy,
		    struct layer_set *set)
{
	struct policy_errors errs = { 0 };
	int err = cli_policy_present(cli);

	if (err)
		return err;
	err = layer_policy_load(policy, set, env, cli->config, NULL, 0, &errs);

	/* Only when there are any: its 8 KB frame is probed page by page. */
	if (errs.n)
		print_policy_errors(&errs);
	if (err)
		fprintf(stderr, "jefe: %s: %s\n", errs.n ? "policy refused" : "cannot load policy",
			jefe_strerror(err));
	policy_errors_free(&errs);
	return err;
}

/* apart: the findings when doc's array does not hold them (report_build_head()). */
static int cli_render(struct cli *cli, struct json_object *doc, const struct findings *apart,
		      const struct findings *fs, enum report_verb verb)
{
	int err = apart && !cli->json ?
		  report_print_text(stdout, doc, apart, verb, &cli->style) :
		  report_print(stdout, doc, cli->json ? REPORT_JSON : REPORT_TEXT, verb,
			       &cli->style);

	if (fflush(stdout) != 0 || err) {
		fprintf(stderr, "jefe: cannot write the report: %s\n", strerror(errno));
		return EXIT_ERROR;
	}
	return report_exit_code(fs);
}

/* Is the calling user a member of gid (primary or supplementary)? */
static bool cli_user_in_group(gid_t gid)
{
	gid_t groups[NGROUPS_MAX];
	int n = getgroups((int)ARRAY_SIZE(groups), groups);

	if (getegid() == gid)
		return true;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/*
 * The daemon's socket would not let us in: say exactly why.  Its mode
 * and group are the daemon's status_group setting (0660 and that group,
 * or 0600 when none is set).
 */
static int cli_refused_access(const char *path, uint16_t command, bool dry_run)
{
	struct stat st;
	struct group grp, *res = NULL;
	char buf[4096], name[64];

	if (command != IPC_CMD_STATUS) {
		fprintf(stderr, "jefe: %s needs root: jefe-setup takes it from root only\n",
			command == IPC_CMD_RELOAD ? "reload" :
			dry_run ? "enforce --dry-run" : "enforce");
		return EXIT_ERROR;
	}
	if (stat(path, &st) < 0 || !(st.st_mode & S_IRWXG) || st.st_gid == 0) {
		fprintf(stderr, "jefe: jefe-setup answers root only: the policy sets no status_group"
			" ([agent] status_group in jefe.conf); run as root\n");
		return EXIT_ERROR;
	}
	if (getgrgid_r(st.st_gid, &grp, buf, sizeof(buf), &res) == 0 && res)
		snprintf(name, sizeof(name), "%s", res->gr_name);
	else
		snprintf(name, sizeof(name), "%ld", (long)st.st_gid);
	if (cli_user_in_group(st.st_gid))
		fprintf(stderr, "jefe: %s: permission denied although you are in group '%s'"
			" (status_group): log in again for the membership to count\n", path, name);
	else
		fprintf(stderr, "jefe: you (uid %ld) are not in group '%s', the status_group that"
			" may ask jefe-setup for status: run as root, or ask an admin to add you"
			" to '%s'\n", (long)getuid(), name, name);
	return EXIT_ERROR;
}

/*
 * The daemon's answer to a view request is the very bytes to print: its
 * framing is checked (ipc_call_ex(): length, magic, version, status, exit
 * code), then that it is a view at all: text, never a NUL byte, ending in
 * a newline.  Nothing of the document is parsed here.
 */
static int cli_view_check(const char *payload, size_t len, char *why, size_t why_size)
{
	const char *nul = memchr(payload, '\0', len);

	if (len == 0) {
		snprintf(why, why_size, "payload: empty, expected the report");
		return -JEFE_EPROTO;
	}
	if (nul != NULL) {
		snprintf(why, why_size, "payload: a NUL byte at offset %zu of %zu",
			 (size_t)(nul - payload), len);
		return -JEFE_EPROTO;
	}
	if (payload[len - 1] != '\n') {
		snprintf(why, why_size, "payload: %zu bytes not ending in a newline", len);
		return -JEFE_EPROTO;
	}
	return 0;
}

/*
 * Try the daemon.  Returns an exit code, or -1 when no daemon answered.
 * status and enforce ask for the view this command prints (IPC_FLAG_VIEW,
 * with --json, --verbose and the colour decided here): the daemon holds
 * the findings and prints them with the same printer as --direct, and its
 * reply header carries the exit code.
 */
static int cli_via_daemon(struct cli *cli, uint16_t command)
{
	struct ipc_request req = { .command = command };
	struct ipc_reply_header h = { 0 };
	char path[PATH_MAX], *payload = NULL, why[256] = "";
	size_t len = 0;
	int fd, err;

	if (cli->direct)
		return -1;
	if (cli->socket)
		snprintf(path, sizeof(path), "%s", cli->socket);
	else if (jefe_socket_path(path, sizeof(path), cli->root))
		return -1;
	err = ipc_connect(path, &fd);
	if ((err == -EACCES || err == -EPERM) && geteuid() != 0)
		return cli_refused_access(path, command, cli->dry_run);
	if (err) {
		/* No daemon, or not ours to talk to: do the work here instead. */
		if (err != -ENOENT && err != -ECONNREFUSED)
			fprintf(stderr, "jefe: cannot reach the daemon at %s (%s); acting directly\n",
				path, jefe_strerror(err));
		return -1;
	}
	if (command != IPC_CMD_RELOAD) {
		req.flags = (cli->dry_run ? IPC_FLAG_DRY_RUN : 0) | (cli->fresh ? IPC_FLAG_FRESH : 0) |
			    IPC_FLAG_VIEW | (cli->json ? IPC_FLAG_JSON : 0) |
			    (cli->style.verbose ? IPC_FLAG_VERBOSE : 0) |
			    (cli->style.color && !cli->json ? IPC_FLAG_COLOR : 0);
		req.layers = cli->layers;
	}
	err = ipc_call_ex(fd, &req, &h, &payload, &len, why, sizeof(why));
	close(fd);
	if (err == -JEFE_EVERSION) {
		fprintf(stderr, "jefe: the daemon at %s speaks protocol version %u, this jefe %d:"
			" restart jefe-setup to run the installed version (or use --direct)\n",
			path, (unsigned int)h.version, IPC_VERSION);
		return EXIT_ERROR;
	}
	if (err == 0 && h.status == 0 && command != IPC_CMD_RELOAD)
		err = cli_view_check(payload, len, why, sizeof(why));
	if (err) {
		if (err == -JEFE_EPROTO && why[0])
			fprintf(stderr, "jefe: malformed reply from the daemon at %s: %s\n", path, why);
		else
			fprintf(stderr, "jefe: daemon at %s: %s\n", path, jefe_strerror(err));
		free(payload);
		return EXIT_ERROR;
	}
	if (h.status == -EPERM && geteuid() != 0) {
		free(payload);
		return cli_refused_access(path, command, cli->dry_run);
	}
	if (h.status == -JEFE_ENOTINPOLICY) {
		fprintf(stderr, "jefe: %s\n", payload && *payload ? payload : jefe_strerror(h.status));
		free(payload);
		return EXIT_ERROR;
	}
	if (h.status) {
		fprintf(stderr, "jefe: the daemon refused: %s%s%s\n", jefe_strerror(h.status),
			payload && *payload ? ": " : "", payload ? payload : "");
		free(payload);
		return EXIT_ERROR;
	}
	if (command == IPC_CMD_RELOAD) {
		free(payload);
		printf("policy reloaded\n");
		return EXIT_COMPLIANT;
	}
	errno = EIO;
	err = fwrite(payload, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : -errno;
	free(payload);
	if (err) {
		fprintf(stderr, "jefe: cannot write the report: %s\n", strerror(-err));
		return EXIT_ERROR;
	}
	return h.exit_code;
}

/*
 * enforce changes the system: without the privileges for it, refuse
 * before touching anything rather than fail item by item.  On this host
 * that takes root; below another --root, write access to that tree.
 */
static int cli_may_enforce(struct cli *cli)
{
	if (cli->dry_run || geteuid() == 0)
		return 0;
	if (strcmp(cli->root, "/") != 0 && access(cli->root, W_OK) == 0)
		return 0;
	if (strcmp(cli->root, "/") != 0)
		fprintf(stderr, "jefe enforce: needs root or write access to %s", cli->root);
	else
		fprintf(stderr, "jefe enforce: needs root");
	fprintf(stderr, ": it writes system files and kernel settings; nothing was changed"
		" (see what it would do with --dry-run)\n");
	return -EPERM;
}

/* The error of layers asked for that the policy lacks; noinline as cli_policy_absent(). */
__attribute__((noinline))
static int cli_layers_missing(const struct policy *policy, uint32_t missing)
{
	char why[4096];

	if (layer_unloaded_message(policy, missing, why, sizeof(why)))
		snprintf(why, sizeof(why), "%s", jefe_strerror(-JEFE_ENOTINPOLICY));
	fprintf(stderr, "jefe: %s\n", why);
	return -JEFE_ENOTINPOLICY;
}

/* Layers asked for by name must be in the policy: an error, never an empty "compliant". */
static int cli_layers_loaded(struct cli *cli, const struct policy *policy,
			     const struct layer_set *set)
{
	uint32_t missing = layer_set_unloaded(set, cli->layers);

	return missing ? cli_layers_missing(policy, missing) : 0;
}

static int cli_check_or_apply(struct cli *cli, bool apply)
{
	enum report_verb verb = !apply ? REPORT_STATUS : cli->dry_run ? REPORT_DRY_RUN : REPORT_ENFORCE;
	struct jefe_env env;
	struct policy *policy = NULL;
	struct layer_set set;
	struct findings fs = { 0 };
	struct json_object *doc = NULL;
	struct report_meta meta = { .kind = !apply ? "status" : cli->dry_run ? "dry-run" : "enforce" };
	int rc, err;

	if (apply && cli_may_enforce(cli))
		return EXIT_ERROR;
	rc = cli_via_daemon(cli, apply ? IPC_CMD_ENFORCE : IPC_CMD_STATUS);
	if (rc >= 0)
		return rc;

	if (cli_open_root(cli) || cli_env_init(cli, &env))
		return EXIT_ERROR;
	/* Layers outside the selection run no external program at load. */
	env.only = cli->layers;
	env.single_check = !apply;
	if (cli_load(cli, &env, &policy, &set))
		return EXIT_ERROR;
	if (cli_layers_loaded(cli, policy, &set)) {
		layer_set_free(&set);
		policy_free(policy);
		return EXIT_ERROR;
	}
	meta.time = time(NULL);
	meta.mode = policy_mode_name(policy->mode);
	if (apply)
		err = layer_set_apply(&set, cli->layers, cli->dry_run, false, &fs);
	else
		err = layer_set_check(&set, cli->layers, &fs);
	/* Only the JSON document carries them (the text view shows neither
	 * the host nor the digest); a SHA-256 of every policy file was a
	 * quarter of a `jefe --direct status --layer sysctl`. */
	if (!err && cli->json)
		err = report_meta_host(&meta, cli->root_fd);
	if (!err && cli->json)
		err = policy_digest(policy, meta.policy_digest);
	/* The report needs only fs and meta: the layers' and the policy's
	 * memory goes back first, for the report's to reuse (heap pages). */
	layer_set_free(&set);
	policy_free(policy);
	/* The text view makes each finding's object as it prints it. */
	if (!err)
		err = cli->json ? report_build(&fs, &doc) : report_build_head(&fs, &doc);
	if (!err)
		err = report_add_meta(doc, &meta);
	if (err) {
		fprintf(stderr, "jefe: %s\n", jefe_strerror(err));
		rc = EXIT_ERROR;
	} else {
		rc = cli_render(cli, doc, &fs, &fs, verb);
	}
	json_object_put(doc);
	findings_free(&fs);
	return rc;
}

static int cmd_status(struct cli *cli)
{
	if (cli->dry_run || cli->n_args) {
		fprintf(stderr, "jefe status: unexpected %s\n", cli->dry_run ? "--dry-run" : cli->args[0]);
		return EXIT_USAGE;
	}
	return cli_check_or_apply(cli, false);
}

static int cmd_enforce(struct cli *cli)
{
	if (cli->n_args) {
		fprintf(stderr, "jefe enforce: unexpected argument '%s'\n", cli->args[0]);
		return EXIT_USAGE;
	}
	return cli_check_or_apply(cli, true);
}

static int cmd_policy(struct cli *cli)
{
	struct policy_errors errs = { 0 };
	struct policy *policy = NULL;
	struct jefe_env env;
	struct layer_set set;
	bool show;
	int err;

	if (cli->n_args < 1 || (strcmp(cli->args[0], "check") && strcmp(cli->args[0], "show"))) {
		struct str_suggest near = { 0 };

		if (cli->n_args >= 1) {
			str_suggest_consider(&near, cli->args[0], "check");
			str_suggest_consider(&near, cli->args[0], "show");
			fprintf(stderr, "jefe policy: unknown subcommand '%s'", cli->args[0]);
			if (near.best)
				fprintf(stderr, "; did you mean '%s'?", near.best);
			fputc('\n', stderr);
		}
		fprintf(stderr, "usage: jefe policy check [FILE...] | jefe policy show\n");
		return EXIT_USAGE;
	}
	show = strcmp(cli->args[0], "show") == 0;
	if (show && cli->n_args > 1) {
		fprintf(stderr, "jefe policy show: unexpected argument '%s'\n", cli->args[1]);
		return EXIT_USAGE;
	}
	if (cli_open_root(cli) || cli_env_init(cli, &env))
		return EXIT_ERROR;
	if (cli->n_args == 1 && cli_policy_present(cli))
		return EXIT_ERROR;
	/* Explicit files carry their companions (audit.rules) beside the first one. */
	if (cli->n_args > 1 && policy_dir_of(cli->args[1], cli->policy_dir, sizeof(cli->policy_dir))) {
		fprintf(stderr, "jefe: path too long: %s\n", cli->args[1]);
		return EXIT_ERROR;
	}
	/* Layers validate their own sections; loading them touches nothing. */
	err = layer_policy_load(&policy, &set, &env, cli->config, cli->args + 1,
				(size_t)cli->n_args - 1, &errs);
	if (!err)
		layer_set_free(&set);
	print_policy_errors(&errs);
	if (err) {
		fprintf(stderr, "jefe: policy refused: %zu error(s)\n", errs.n);
		policy_errors_free(&errs);
		policy_free(policy);
		return EXIT_ERROR;
	}
	if (show) {
		err = layer_policy_show(policy, stdout);
	} else {
		printf("policy OK: %zu file(s), %zu key(s)\n", policy->n_files, policy->n_entries);
	}
	policy_errors_free(&errs);
	policy_free(policy);
	return err || fflush(stdout) ? EXIT_ERROR : EXIT_COMPLIANT;
}

static int cmd_reload(struct cli *cli)
{
	int rc;

	cli->direct = false;
	rc = cli_via_daemon(cli, IPC_CMD_RELOAD);
	if (rc < 0) {
		fprintf(stderr, "jefe reload: jefe-setup is not running\n");
		return EXIT_ERROR;
	}
	return rc;
}

/*
 * A running daemon answers status from its live state, and nothing raises
 * an event when the CLI itself changed what a layer reads (the files
 * baseline): ask it to re-check that layer now, as `status --fresh` does.
 * Quiet: with no daemon there is nothing to tell.
 */
static void cli_daemon_refresh(struct cli *cli, const char *layer)
{
	struct ipc_request req = { .command = IPC_CMD_STATUS, .flags = IPC_FLAG_FRESH };
	char path[PATH_MAX], *payload = NULL;
	int32_t status = 0;
	size_t len = 0;
	int fd;

	if (cli->direct)
		return;
	if (cli->socket)
		snprintf(path, sizeof(path), "%s", cli->socket);
	else if (jefe_socket_path(path, sizeof(path), cli->root))
		return;
	if (layer_mask_parse(layer, &req.layers, (char[64]){ 0 }, 64) || ipc_connect(path, &fd))
		return;
	if (ipc_call(fd, &req, &status, &payload, &len) || status)
		fprintf(stderr, "jefe: the daemon at %s did not re-check the %s layer; it will at its next check\n",
			path, layer);
	close(fd);
	free(payload);
}

/*
 * The admin reviewed these files: record them in the files layer's
 * baseline.  Acts on the files directly (root only, like the baseline
 * file); a running daemon is asked to re-check the files layer at once.
 */
static int cmd_baseline(struct cli *cli)
{
	struct jefe_env env;
	struct policy *policy = NULL;
	struct layer_set set;
	void *files = NULL;
	int rc = EXIT_COMPLIANT;

	if (cli->n_args < 2 || strcmp(cli->args[0], "accept") != 0) {
		struct str_suggest near = { 0 };

		if (cli->n_args >= 1 && strcmp(cli->args[0], "accept") != 0) {
			str_suggest_consider(&near, cli->args[0], "accept");
			fprintf(stderr, "jefe baseline: unknown subcommand '%s'%s\n", cli->args[0],
				near.best ? "; did you mean 'accept'?" : "");
		}
		fprintf(stderr, "usage: jefe baseline accept PATH...\n");
		return EXIT_USAGE;
	}
	for (int i = 1; i < cli->n_args; i++)
		if (cli->args[i][0] != '/') {
			fprintf(stderr, "jefe baseline accept: %s: give the absolute path (below --root)\n",
				cli->args[i]);
			return EXIT_USAGE;
		}
	if (cli_open_root(cli) || cli_env_init(cli, &env))
		return EXIT_ERROR;
	/* Only the files layer is used: no other layer asks its programs. */
	if (layer_mask_parse("files", &env.only, (char[64]){ 0 }, 64))
		return EXIT_ERROR;
	if (cli_load(cli, &env, &policy, &set))
		return EXIT_ERROR;
	for (unsigned int i = 0; i < jefe_layers_count; i++)
		if (strcmp(jefe_layers[i]->name, "files") == 0)
			files = set.state[i];
	if (files == NULL) {
		fprintf(stderr, "jefe baseline accept: the files layer is not loaded\n");
		rc = EXIT_ERROR;
	}
	for (int i = 1; files != NULL && i < cli->n_args; i++) {
		char hex[65], why[4400] = "";
		int err = files_baseline_accept(files, cli->args[i], hex, why, sizeof(why));

		if (err) {
			fprintf(stderr, "jefe baseline accept: %s\n",
				why[0] ? why : jefe_strerror(err));
			rc = EXIT_ERROR;
		} else if (hex[0]) {
			printf("accepted %s sha256 %s\n", cli->args[i], hex);
		} else {
			printf("accepted %s as deleted: no longer in the baseline\n", cli->args[i]);
		}
	}
	layer_set_free(&set);
	policy_free(policy);
	if (files != NULL)
		cli_daemon_refresh(cli, "files");
	return fflush(stdout) ? EXIT_ERROR : rc;
}

static const struct cli_command commands[] = {
	{ "status", cmd_status, "status [--json] [--fresh] [--verbose] [--layer NAME]...   audit, read-only" },
	{ "enforce", cmd_enforce, "enforce [--dry-run] [--json] [--verbose] [--layer NAME]...   apply the policy" },
	{ "policy", cmd_policy, "policy check [FILE...] | policy show   validate or print the policy" },
	{ "reload", cmd_reload, "reload   make jefe-setup re-read its policy" },
	{ "baseline", cmd_baseline, "baseline accept PATH...   record reviewed files in the files baseline" },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: jefe [OPTIONS] COMMAND [ARGS]\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %s\n", commands[i].usage);
	fprintf(out,
		"\nOptions:\n"
		"  --root DIR      act on the system below DIR (default /)\n"
		"  --config FILE   main policy file below root (default " POLICY_MAIN_FILE ")\n"
		"  --socket PATH   the daemon's socket (default " IPC_SOCKET_PATH " below root)\n"
		"  --direct        do not go through jefe-setup even if it runs\n"
		"  --layer NAME    only this layer (repeatable; or a comma-separated list)\n"
		"  --json          JSON output\n"
		"  --dry-run       enforce: show what would change (a diff of every file), change nothing\n"
		"  --fresh         status: have jefe-setup re-check now, not answer from its live state\n"
		"  -v, --verbose   also list compliant and unsupported items\n"
		"  --color[=WHEN]  colour the text: auto (a terminal, NO_COLOR unset), always, never\n"
		"  --version       print the version\n"
		"  -h, --help      this text\n"
		"\nExit status: 0 compliant, 2 drift, 1 error, 64 usage error.\n");
}

static int cli_add_layer(struct cli *cli, const char *list)
{
	char bad[64];
	int err = layer_mask_parse(list, &cli->layers, bad, sizeof(bad));
	const char *near;

	if (err == -EINVAL) {
		fprintf(stderr, "jefe: --layer '%s': empty layer name\n", list);
		return err;
	}
	if (err) {
		fprintf(stderr, "jefe: unknown layer '%s'", bad);
		near = layer_suggest(bad);
		if (near)
			fprintf(stderr, "; did you mean '%s'?", near);
		fprintf(stderr, " (layers:");
		for (unsigned int i = 0; i < jefe_layers_count; i++)
			fprintf(stderr, " %s", jefe_layers[i]->name);
		fprintf(stderr, ")\n");
	}
	return err;
}

/* --color=WHEN; NO_COLOR (no-color.org) turns auto off, never an explicit always. */
static int cli_set_color(struct cli *cli, const char *when)
{
	const char *no_color = getenv("NO_COLOR");

	if (!when || strcmp(when, "auto") == 0)
		cli->style.color = isatty(STDOUT_FILENO) && !(no_color && *no_color);
	else if (strcmp(when, "always") == 0)
		cli->style.color = true;
	else if (strcmp(when, "never") == 0)
		cli->style.color = false;
	else
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_ROOT = 256, OPT_CONFIG, OPT_SOCKET, OPT_DIRECT, OPT_LAYER, OPT_JSON,
	       OPT_DRY_RUN, OPT_VERSION, OPT_FRESH, OPT_COLOR };
	static const struct option options[] = {
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "direct", no_argument, NULL, OPT_DIRECT },
		{ "layer", required_argument, NULL, OPT_LAYER },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "fresh", no_argument, NULL, OPT_FRESH },
		{ "verbose", no_argument, NULL, 'v' },
		{ "color", optional_argument, NULL, OPT_COLOR },
		{ "colour", optional_argument, NULL, OPT_COLOR },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { .root = "/", .root_fd = -1 };
	const struct cli_command *cmd = NULL;
	int opt, rc;

	/* We name the bad option ourselves, with "did you mean". */
	opterr = 0;
	(void)cli_set_color(&cli, "auto");
	while ((opt = getopt_long(argc, argv, ":hv", options, NULL)) != -1) {
		switch (opt) {
		case OPT_ROOT:
			cli.root = optarg;
			break;
		case OPT_CONFIG:
			cli.config = optarg;
			break;
		case OPT_SOCKET:
			cli.socket = optarg;
			break;
		case OPT_DIRECT:
			cli.direct = true;
			break;
		case OPT_LAYER:
			if (cli_add_layer(&cli, optarg))
				return EXIT_USAGE;
			break;
		case OPT_JSON:
			cli.json = true;
			break;
		case OPT_DRY_RUN:
			cli.dry_run = true;
			break;
		case OPT_FRESH:
			cli.fresh = true;
			break;
		case 'v':
			cli.style.verbose = true;
			break;
		case OPT_COLOR:
			if (cli_set_color(&cli, optarg)) {
				fprintf(stderr, "jefe: --color=%s: give auto, always or never\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_VERSION:
			printf("jefe %s\n", PACKAGE_VERSION);
			return EXIT_COMPLIANT;
		case 'h':
			usage(stdout);
			return EXIT_COMPLIANT;
		default:
			option_unknown(stderr, "jefe", options, argv[optind - 1], opt);
			fprintf(stderr, "Try 'jefe --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, argv[optind]) == 0)
			cmd = &commands[i];
	if (!cmd) {
		struct str_suggest near = { 0 };

		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			str_suggest_consider(&near, argv[optind], commands[i].name);
		fprintf(stderr, "jefe: unknown command '%s'", argv[optind]);
		if (near.best)
			fprintf(stderr, "; did you mean '%s'?", near.best);
		fputc('\n', stderr);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cli.dry_run && cmd->run != cmd_enforce) {
		fprintf(stderr, "jefe %s: --dry-run only goes with enforce\n", cmd->name);
		return EXIT_USAGE;
	}
	/* A direct status is always fresh; through the daemon it asks for a pass now. */
	if (cli.fresh && cmd->run != cmd_status) {
		fprintf(stderr, "jefe %s: --fresh only goes with status\n", cmd->name);
		return EXIT_USAGE;
	}
	if (policy_dir_of(cli.config ? cli.config : POLICY_MAIN_FILE, cli.policy_dir,
			  sizeof(cli.policy_dir))) {
		fprintf(stderr, "jefe: --config path too long\n");
		return EXIT_USAGE;
	}
	cli.args = argv + optind + 1;
	cli.n_args = argc - optind - 1;
	rc = cmd->run(&cli);
	if (cli.root_fd >= 0)
		close(cli.root_fd);
	return rc;
}
