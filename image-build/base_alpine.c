/* SPDX-License-Identifier: MIT */
/*
 * The alpine base, for builders on Alpine hosts: apk-tools creates the
 * root itself (apk --root --initdb) from the 3.19 repositories, checked
 * with the keys of the host's alpine-keys package.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ib.h"

static int alpine_repos_write(const struct ib_config *cfg, const char *root,
			      char *path, size_t size)
{
	char text[2048];
	int n, err, root_fd;

	if (snprintf(path, size, "%s/etc/apk/repositories", root) >= (int)size)
		return -ENAMETOOLONG;
	n = snprintf(text, sizeof(text), "%s/%s/main\n%s/%s/community\n",
		     cfg->mirror, cfg->suite, cfg->mirror, cfg->suite);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -E2BIG;
	/* stage 1 has no root fd yet: this one, for this write */
	root_fd = fs_root_open(root);
	if (root_fd < 0)
		return root_fd;
	err = fs_root_mkdir_p(root_fd, "etc/apk", 0755);
	if (!err)
		err = fs_root_write(root_fd, "etc/apk/repositories", text, (size_t)n, 0644);
	close(root_fd);
	return err;
}

static int alpine_add(struct ib_stage_ctx *ctx, const char *root, bool initdb,
		      char *const *pkgs, size_t n)
{
	const struct ib_config *cfg = ctx->cfg;
	char repos[PATH_MAX], sde[64];
	char *env[] = { sde, NULL };
	struct ib_run_opts o = { .env = env };
	char **argv;
	size_t a = 0, i;
	int err;

	if (access(cfg->apk_keys, R_OK) != 0) {
		fprintf(stderr, "jefe-image-build: no repository keys in %s "
			"(install the package 'alpine-keys')\n", cfg->apk_keys);
		return -IB_ENOTOOL;
	}
	err = alpine_repos_write(cfg, root, repos, sizeof(repos));
	if (err < 0)
		return err;
	snprintf(sde, sizeof(sde), "SOURCE_DATE_EPOCH=%lld", cfg->source_date_epoch);
	argv = calloc(n + 16, sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	argv[a++] = "apk";
	argv[a++] = "--root";
	argv[a++] = (char *)root;
	if (initdb)
		argv[a++] = "--initdb";
	argv[a++] = "--arch";
	argv[a++] = (char *)cfg->arch;
	argv[a++] = "--repositories-file";
	argv[a++] = repos;
	argv[a++] = "--keys-dir";
	argv[a++] = (char *)cfg->apk_keys;
	argv[a++] = "--no-cache";
	argv[a++] = "--no-progress";
	argv[a++] = "add";
	for (i = 0; i < n; i++)
		argv[a++] = pkgs[i];
	argv[a] = NULL;
	err = run_cmd(ctx, &o, argv);
	free(argv);
	return err;
}

static int alpine_bootstrap(struct ib_stage_ctx *ctx, const char *root,
			    char *const *pkgs, size_t n)
{
	int err = fs_mkdir_p(root, 0755);

	return err < 0 ? err : alpine_add(ctx, root, true, pkgs, n);
}

static int alpine_install(struct ib_stage_ctx *ctx, const char *root,
			  char *const *pkgs, size_t n)
{
	return alpine_add(ctx, root, false, pkgs, n);
}

/* "busybox-1.36.1-r15" -> "busybox 1.36.1-r15": the version is the last
 * two dash-separated fields (version and release). */
static int alpine_manifest(struct ib_stage_ctx *ctx, const char *root, const char *path)
{
	char raw[PATH_MAX];
	char *argv[] = { "apk", "--root", (char *)root, "info", "-v", NULL };
	struct ib_run_opts o = { .stdout_path = raw };
	char **lines, *text = NULL;
	size_t n, i, used = 0;
	int err;

	if (snprintf(raw, sizeof(raw), "%s.raw", path) >= (int)sizeof(raw))
		return -ENAMETOOLONG;
	err = run_cmd(ctx, &o, argv);
	if (!err)
		err = fs_list_read(raw, &lines, &n);
	unlink(raw);
	if (err < 0)
		return err;
	text = calloc(n, 256);
	if (!text && n) {
		fs_list_free(lines, n);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		char *rel = strrchr(lines[i], '-');
		char *ver = NULL;

		if (rel) {
			*rel = '\0';
			ver = strrchr(lines[i], '-');
			*rel = '-';
		}
		if (ver) {
			*ver = '\0';
			used += (size_t)snprintf(text + used, 256, "%.120s %.120s\n",
						 lines[i], ver + 1);
		}
	}
	err = fs_write_file(path, text ? text : "", used, 0644);
	free(text);
	fs_list_free(lines, n);
	return err;
}

static const char *const alpine_pm_paths[] = {
	"sbin/apk", "etc/apk", "lib/apk", "var/cache/apk", "usr/share/apk",
	"usr/share/doc", "usr/share/man", "usr/share/info",
	NULL,
};

static const struct ib_tool alpine_tools[] = {
	{ "apk", "apk-tools" },
};

/* Alpine's CDN; its security fixes are in the same repositories. */
static int alpine_default_mirrors(const char *suite, char *main_url, size_t main_size,
				  char *sec_url, size_t sec_size)
{
	(void)suite;
	snprintf(main_url, main_size, "https://dl-cdn.alpinelinux.org/alpine");
	if (sec_size)
		sec_url[0] = '\0';
	return 0;
}

const struct ib_base base_alpine = {
	.name = "alpine",
	.bootstrap = alpine_bootstrap,
	.install = alpine_install,
	.manifest = alpine_manifest,
	.pm_paths = alpine_pm_paths,
	.default_suite = "v3.19",
	.default_mirrors = alpine_default_mirrors,
	.locks = false,
	.tools = alpine_tools,
	.n_tools = ARRAY_LEN(alpine_tools),
};

const struct ib_base *base_find(const char *name)
{
	if (!strcmp(name, "debian"))
		return &base_debian;
	if (!strcmp(name, "alpine"))
		return &base_alpine;
	return NULL;
}
