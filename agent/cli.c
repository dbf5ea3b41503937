/* SPDX-License-Identifier: MIT */
/*
 * jefe - the admin's command.
 *
 *   jefe status   [--json] [--fresh] [--layer NAME]...   read-only audit
 *   jefe enforce  [--dry-run] [--json] [--layer NAME]...
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
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "ipc.h"
#include "layer.h"
#include "layer_files.h"
#include "log.h"
#include "policy.h"
#include "report.h"
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
	char layers[IPC_LAYER_MAX];	/* comma-separated, "" = all */
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

/* Load the policy and every layer from it; all errors are printed. */
static int cli_load(struct cli *cli, const struct jefe_env *env, struct policy **policy,
		    struct layer_set *set)
{
	struct policy_errors errs = { 0 };
	int err = layer_policy_load(policy, set, env, cli->config, NULL, 0, &errs);

	print_policy_errors(&errs);
	if (err)
		fprintf(stderr, "jefe: %s: %s\n", errs.n ? "policy refused" : "cannot load policy",
			jefe_strerror(err));
	policy_errors_free(&errs);
	return err;
}

static int cli_render(struct cli *cli, struct json_object *doc, const struct findings *fs,
		      enum report_verb verb)
{
	int err = report_print(stdout, doc, cli->json ? REPORT_JSON : REPORT_TEXT, verb);

	if (fflush(stdout) != 0 || err) {
		fprintf(stderr, "jefe: cannot write the report: %s\n", strerror(errno));
		return EXIT_ERROR;
	}
	return report_exit_code(fs);
}

/* Try the daemon.  Returns an exit code, or -1 when no daemon answered. */
static int cli_via_daemon(struct cli *cli, uint16_t command, enum report_verb verb)
{
	struct ipc_request req = { .command = command };
	char path[PATH_MAX], *payload = NULL;
	struct json_object *doc = NULL;
	struct findings fs = { 0 };
	int32_t status = 0;
	size_t len = 0;
	int fd, err, rc;

	if (cli->direct)
		return -1;
	if (cli->socket)
		snprintf(path, sizeof(path), "%s", cli->socket);
	else if (root_join(path, sizeof(path), cli->root, IPC_SOCKET_PATH))
		return -1;
	err = ipc_connect(path, &fd);
	if (err) {
		/* No daemon, or not ours to talk to: do the work here instead. */
		if (err != -ENOENT && err != -ECONNREFUSED)
			fprintf(stderr, "jefe: cannot reach the daemon at %s (%s); acting directly\n",
				path, jefe_strerror(err));
		return -1;
	}
	if (command != IPC_CMD_RELOAD) {
		req.flags = (cli->dry_run ? IPC_FLAG_DRY_RUN : 0) | (cli->fresh ? IPC_FLAG_FRESH : 0);
		memcpy(req.layer, cli->layers, sizeof(req.layer));
	}
	err = ipc_call(fd, &req, &status, &payload, &len);
	close(fd);
	if (err) {
		fprintf(stderr, "jefe: daemon at %s: %s\n", path, jefe_strerror(err));
		free(payload);
		return EXIT_ERROR;
	}
	if (status) {
		fprintf(stderr, "jefe: the daemon refused: %s%s%s\n", jefe_strerror(status),
			payload && *payload ? ": " : "", payload ? payload : "");
		free(payload);
		return EXIT_ERROR;
	}
	if (command == IPC_CMD_RELOAD) {
		printf("policy reloaded\n");
		free(payload);
		return EXIT_COMPLIANT;
	}
	err = report_parse(payload ? payload : "", &doc);
	if (!err)
		err = report_to_findings(doc, &fs);
	if (err) {
		fprintf(stderr, "jefe: malformed report from the daemon: %s\n", jefe_strerror(err));
		rc = EXIT_ERROR;
	} else {
		rc = cli_render(cli, doc, &fs, verb);
	}
	json_object_put(doc);
	findings_free(&fs);
	free(payload);
	return rc;
}

static int cli_check_or_apply(struct cli *cli, bool apply)
{
	enum report_verb verb = !apply ? REPORT_STATUS : cli->dry_run ? REPORT_DRY_RUN : REPORT_ENFORCE;
	struct jefe_env env = { .root = cli->root, .policy_dir = cli->policy_dir,
				.only = cli->layers };
	struct policy *policy = NULL;
	struct layer_set set;
	struct findings fs = { 0 };
	struct json_object *doc = NULL;
	struct report_meta meta = { .kind = !apply ? "status" : cli->dry_run ? "dry-run" : "enforce" };
	int rc, err;

	rc = cli_via_daemon(cli, apply ? IPC_CMD_ENFORCE : IPC_CMD_STATUS, verb);
	if (rc >= 0)
		return rc;

	if (cli_open_root(cli))
		return EXIT_ERROR;
	env.root_fd = cli->root_fd;
	if (cli_load(cli, &env, &policy, &set))
		return EXIT_ERROR;
	meta.time = time(NULL);
	meta.mode = policy_mode_name(policy->mode);
	if (apply)
		err = layer_set_apply(&set, cli->layers, cli->dry_run, false, &fs);
	else
		err = layer_set_check(&set, cli->layers, &fs);
	if (!err)
		err = report_meta_host(&meta, cli->root_fd);
	if (!err)
		err = policy_digest(policy, meta.policy_digest);
	if (!err)
		err = report_build(&fs, &doc);
	if (!err)
		err = report_add_meta(doc, &meta);
	if (err) {
		fprintf(stderr, "jefe: %s\n", jefe_strerror(err));
		rc = EXIT_ERROR;
	} else {
		rc = cli_render(cli, doc, &fs, verb);
	}
	json_object_put(doc);
	findings_free(&fs);
	layer_set_free(&set);
	policy_free(policy);
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
	struct jefe_env env = { .root = cli->root, .policy_dir = cli->policy_dir };
	struct layer_set set;
	bool show;
	int err;

	if (cli->n_args < 1 || (strcmp(cli->args[0], "check") && strcmp(cli->args[0], "show"))) {
		fprintf(stderr, "usage: jefe policy check [FILE...] | jefe policy show\n");
		return EXIT_USAGE;
	}
	show = strcmp(cli->args[0], "show") == 0;
	if (show && cli->n_args > 1) {
		fprintf(stderr, "jefe policy show: unexpected argument '%s'\n", cli->args[1]);
		return EXIT_USAGE;
	}
	if (cli_open_root(cli))
		return EXIT_ERROR;
	env.root_fd = cli->root_fd;
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
	rc = cli_via_daemon(cli, IPC_CMD_RELOAD, REPORT_STATUS);
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
	else if (root_join(path, sizeof(path), cli->root, IPC_SOCKET_PATH))
		return;
	if (ipc_connect(path, &fd))
		return;
	snprintf(req.layer, sizeof(req.layer), "%s", layer);
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
	/* Only the files layer is used: no other layer asks its programs. */
	struct jefe_env env = { .root = cli->root, .policy_dir = cli->policy_dir,
				.only = "files" };
	struct policy *policy = NULL;
	struct layer_set set;
	void *files = NULL;
	int rc = EXIT_COMPLIANT;

	if (cli->n_args < 2 || strcmp(cli->args[0], "accept") != 0) {
		fprintf(stderr, "usage: jefe baseline accept PATH...\n");
		return EXIT_USAGE;
	}
	for (int i = 1; i < cli->n_args; i++)
		if (cli->args[i][0] != '/') {
			fprintf(stderr, "jefe baseline accept: %s: give the absolute path (below --root)\n",
				cli->args[i]);
			return EXIT_USAGE;
		}
	if (cli_open_root(cli))
		return EXIT_ERROR;
	env.root_fd = cli->root_fd;
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
	{ "status", cmd_status, "status [--json] [--fresh] [--layer NAME]...   audit, read-only" },
	{ "enforce", cmd_enforce, "enforce [--dry-run] [--json] [--layer NAME]...   apply the policy" },
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
		"  --dry-run       enforce: show what would change, change nothing\n"
		"  --fresh         status: have jefe-setup re-check now, not answer from its live state\n"
		"  --version       print the version\n"
		"  -h, --help      this text\n"
		"\nExit status: 0 compliant, 2 drift, 1 error, 64 usage error.\n");
}

static int cli_add_layer(struct cli *cli, const char *name)
{
	const char *bad = NULL;
	size_t len = strlen(cli->layers);

	if (layer_list_check(name, &bad)) {
		fprintf(stderr, "jefe: unknown layer '%s' (layers:", bad ? bad : name);
		for (unsigned int i = 0; i < jefe_layers_count; i++)
			fprintf(stderr, " %s", jefe_layers[i]->name);
		fprintf(stderr, ")\n");
		return -EINVAL;
	}
	if (len + strlen(name) + 2 > sizeof(cli->layers)) {
		fprintf(stderr, "jefe: too many --layer names\n");
		return -E2BIG;
	}
	snprintf(cli->layers + len, sizeof(cli->layers) - len, "%s%s", len ? "," : "", name);
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_ROOT = 256, OPT_CONFIG, OPT_SOCKET, OPT_DIRECT, OPT_LAYER, OPT_JSON,
	       OPT_DRY_RUN, OPT_VERSION, OPT_FRESH };
	static const struct option options[] = {
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "direct", no_argument, NULL, OPT_DIRECT },
		{ "layer", required_argument, NULL, OPT_LAYER },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "fresh", no_argument, NULL, OPT_FRESH },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { .root = "/", .root_fd = -1 };
	const struct cli_command *cmd = NULL;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
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
		case OPT_VERSION:
			printf("jefe %s\n", PACKAGE_VERSION);
			return EXIT_COMPLIANT;
		case 'h':
			usage(stdout);
			return EXIT_COMPLIANT;
		default:
			usage(stderr);
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
		fprintf(stderr, "jefe: unknown command '%s'\n", argv[optind]);
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
