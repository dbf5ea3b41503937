/* SPDX-License-Identifier: MIT */
/*
 * The debian base: mmdebstrap from Debian's archive for the bootstrap,
 * apt-get inside the root (a private mount namespace, no daemons started)
 * for the profile's packages, dpkg-query for the manifest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ib.h"

/* Files dpkg never unpacks: documentation is not part of the image. */
static char *const debian_dpkg_excludes[] = {
	"--dpkgopt=path-exclude=/usr/share/doc/*",
	"--dpkgopt=path-include=/usr/share/doc/*/copyright",
	"--dpkgopt=path-exclude=/usr/share/man/*",
	"--dpkgopt=path-exclude=/usr/share/info/*",
	"--dpkgopt=path-exclude=/usr/share/locale/*",
	"--dpkgopt=path-exclude=/usr/share/lintian/*",
	"--dpkgopt=path-exclude=/usr/share/linda/*",
};

static int debian_env_fill(const struct ib_stage_ctx *ctx, char sde[64])
{
	snprintf(sde, 64, "SOURCE_DATE_EPOCH=%lld", ctx->cfg->source_date_epoch);
	return 0;
}

static int debian_bootstrap(struct ib_stage_ctx *ctx, const char *root,
			    char *const *pkgs, size_t n)
{
	const struct ib_config *cfg = ctx->cfg;
	char sde[64], include[8192], main_line[1024], upd_line[1024], sec_line[1024];
	char *env[] = { sde, "LC_ALL=C", NULL };
	char *argv[32 + ARRAY_LEN(debian_dpkg_excludes)];
	struct ib_run_opts o = { .env = env };
	size_t i, used = 0;
	int a = 0;

	debian_env_fill(ctx, sde);
	used = (size_t)snprintf(include, sizeof(include), "--include=");
	for (i = 0; i < n; i++) {
		int w = snprintf(include + used, sizeof(include) - used, "%s%s",
				 i ? "," : "", pkgs[i]);

		if (w < 0 || (size_t)w >= sizeof(include) - used)
			return -E2BIG;
		used += (size_t)w;
	}
	snprintf(main_line, sizeof(main_line), "deb %s %s main", cfg->mirror, cfg->suite);
	snprintf(upd_line, sizeof(upd_line), "deb %s %s-updates main", cfg->mirror, cfg->suite);
	snprintf(sec_line, sizeof(sec_line), "deb %s %s-security main",
		 cfg->security_mirror, cfg->suite);

	argv[a++] = "mmdebstrap";
	argv[a++] = "--variant=essential";
	argv[a++] = "--architectures=amd64";
	argv[a++] = "--aptopt=Apt::Install-Recommends \"false\"";
	for (i = 0; i < ARRAY_LEN(debian_dpkg_excludes); i++)
		argv[a++] = debian_dpkg_excludes[i];
	if (n)
		argv[a++] = include;
	argv[a++] = (char *)cfg->suite;
	argv[a++] = (char *)root;
	argv[a++] = main_line;
	argv[a++] = upd_line;
	if (cfg->security_mirror && *cfg->security_mirror)
		argv[a++] = sec_line;
	argv[a] = NULL;
	return run_cmd(ctx, &o, argv);
}

static int debian_install(struct ib_stage_ctx *ctx, const char *root,
			  char *const *pkgs, size_t n)
{
	static const char policy[] = "#!/bin/sh\n# no daemon starts while the image is built\nexit 101\n";
	char sde[64], path[PATH_MAX], resolv[PATH_MAX];
	char *env[] = { sde, "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive", NULL };
	struct ib_run_opts o = { .chroot = root, .env = env };
	char *update[] = { "apt-get", "-q", "update", NULL };
	char *clean[] = { "apt-get", "clean", NULL };
	char **install;
	size_t i;
	int err;

	debian_env_fill(ctx, sde);
	err = IB_PATH(path, root, "usr/sbin/policy-rc.d");
	if (!err)
		err = fs_write_file(path, policy, sizeof(policy) - 1, 0755);
	if (!err)
		err = IB_PATH(resolv, root, "etc/resolv.conf");
	if (err < 0)
		return err;
	/* apt needs the host's resolver for the mirror's name. */
	unlink(resolv);
	if (access("/etc/resolv.conf", R_OK) == 0)
		fs_copy_file("/etc/resolv.conf", resolv, 0644);

	install = calloc(n + 8, sizeof(*install));
	if (!install)
		return -ENOMEM;
	install[0] = "apt-get";
	install[1] = "-q";
	install[2] = "-y";
	install[3] = "--no-install-recommends";
	install[4] = "install";
	for (i = 0; i < n; i++)
		install[5 + i] = pkgs[i];

	err = run_cmd(ctx, &o, update);
	if (!err)
		err = run_cmd(ctx, &o, install);
	if (!err)
		err = run_cmd(ctx, &o, clean);
	free(install);
	unlink(path);
	unlink(resolv);
	return err;
}

static int debian_manifest(struct ib_stage_ctx *ctx, const char *root, const char *path)
{
	char *argv[] = { "dpkg-query", "-W", "-f", "${Package} ${Version}\\n", NULL };
	struct ib_run_opts o = { .chroot = root, .stdout_path = path };

	return run_cmd(ctx, &o, argv);
}

static const char *const debian_pm_paths[] = {
	"usr/bin/apt*", "usr/lib/apt", "usr/lib/*/libapt-*", "etc/apt", "var/lib/apt", "var/cache/apt",
	"var/log/apt", "usr/share/bug/apt",
	"usr/bin/dpkg*", "usr/sbin/dpkg*", "usr/lib/dpkg", "usr/share/dpkg",
	"etc/dpkg", "var/lib/dpkg", "var/log/dpkg.log", "usr/sbin/policy-rc.d",
	"usr/bin/debconf*", "usr/share/debconf", "var/cache/debconf",
	"usr/share/perl5/Debconf", "etc/debconf.conf",
	"usr/sbin/update-initramfs", "usr/sbin/mkinitramfs*", "etc/initramfs-tools",
	"etc/tiny-initramfs", "usr/share/initramfs-tools",
	NULL,
};

const struct ib_base base_debian = {
	.name = "debian",
	.bootstrap = debian_bootstrap,
	.install = debian_install,
	.manifest = debian_manifest,
	.pm_paths = debian_pm_paths,
};

/*
 * The mirror is the host's own (read from its apt sources), so a build
 * uses whatever archive or proxy this machine is configured for.
 */
static int debian_sources_scan(const char *path, const char *want,
			       char *out, size_t size)
{
	char *data, *line, *save = NULL;
	char uri[512] = "";
	int err, found = 0;

	err = fs_read_file(path, &data, NULL);
	if (err < 0)
		return err;
	for (line = strtok_r(data, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		char word[512], u[512], s[256];

		line += strspn(line, " \t");
		if (sscanf(line, "URIs: %511s", word) == 1) {
			snprintf(uri, sizeof(uri), "%s", word);
		} else if (!strncmp(line, "Suites:", 7) && *uri) {
			char *p = line + 7, *tok, *tsave = NULL;

			for (tok = strtok_r(p, " \t", &tsave); tok;
			     tok = strtok_r(NULL, " \t", &tsave)) {
				if (!strcmp(tok, want)) {
					snprintf(out, size, "%s", uri);
					found = 1;
				}
			}
		} else if (sscanf(line, "deb %511s %255s", u, s) == 2 && u[0] != '[' &&
			   !strcmp(s, want)) {
			snprintf(out, size, "%s", u);
			found = 1;
		} else if (!*line) {
			uri[0] = '\0';
		}
	}
	free(data);
	return found ? 0 : -ENOENT;
}

int debian_mirror_detect(const char *suite, char *main_url, size_t main_size,
			 char *sec_url, size_t sec_size)
{
	char want_main[64], want_sec[64];
	static const char *const files[] = {
		"/etc/apt/sources.list", "/etc/apt/sources.list.d/debian.sources",
	};
	size_t i;

	main_url[0] = sec_url[0] = '\0';
	snprintf(want_main, sizeof(want_main), "%s", suite);
	snprintf(want_sec, sizeof(want_sec), "%s-security", suite);
	for (i = 0; i < ARRAY_LEN(files); i++) {
		if (!*main_url)
			debian_sources_scan(files[i], want_main, main_url, main_size);
		if (!*sec_url)
			debian_sources_scan(files[i], want_sec, sec_url, sec_size);
	}
	if (!*main_url)
		snprintf(main_url, main_size, "http://deb.debian.org/debian");
	if (!*sec_url)
		snprintf(sec_url, sec_size, "http://deb.debian.org/debian-security");
	return 0;
}
