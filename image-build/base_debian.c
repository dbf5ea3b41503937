/* SPDX-License-Identifier: MIT */
/*
 * The debian base: mmdebstrap from Debian's archive for the bootstrap,
 * apt-get inside the root (a private mount namespace, no daemons started)
 * for the profile's packages, dpkg-query for the manifest.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	/* GRUB's prebuilt EFI images (15 MB), the sources of Debian's signed
	 * ones: jefe-install's grub-install builds its image from the modules. */
	"--dpkgopt=path-exclude=/usr/lib/grub/x86_64-efi/monolithic/*",
};

static int debian_env_fill(const struct ib_stage_ctx *ctx, char sde[64])
{
	snprintf(sde, 64, "SOURCE_DATE_EPOCH=%lld", ctx->cfg->source_date_epoch);
	return 0;
}

static int debian_lock_mountpoint_remove(const char *root, const char *repo);

static int debian_bootstrap(struct ib_stage_ctx *ctx, const char *root,
			    char *const *pkgs, size_t n)
{
	const struct ib_config *cfg = ctx->cfg;
	char sde[64], include[8192], main_line[PATH_MAX + 64], upd_line[1024], sec_line[1024];
	char repo[PATH_MAX];
	char *env[] = { sde, "LC_ALL=C", NULL };
	char *argv[40 + ARRAY_LEN(debian_dpkg_excludes)];
	struct ib_run_opts o = { .env = env };
	size_t i, used = 0;
	int a = 0, err;

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
	if (cfg->lock) {
		/* Only the locked .debs, verified, from a local repository:
		 * apt has nothing else to choose and needs no network. */
		err = lock_repo_dir(cfg, repo, sizeof(repo));
		if (!err)
			err = lock_repo_make(ctx, repo);
		if (err < 0)
			return err;
		snprintf(main_line, sizeof(main_line), "deb [trusted=yes] file://%s ./", repo);
	}

	if (cfg->lock) {
		/* mmdebstrap's hook bind-mounts the repository into the root
		 * and a failed run can leave that mount behind: its own mount
		 * namespace takes every mount away with it */
		argv[a++] = "unshare";
		argv[a++] = "--mount";
		argv[a++] = "--propagation=private";
		argv[a++] = "--";
	}
	argv[a++] = "mmdebstrap";
	argv[a++] = "--variant=essential";
	argv[a++] = "--architectures=amd64";
	argv[a++] = "--aptopt=Apt::Install-Recommends \"false\"";
	/* Keep the downloaded .debs in the root: stage 2 hashes them for
	 * the lock (and keeps them with --package-cache), then removes them. */
	argv[a++] = "--skip=essential/unlink,cleanup/apt/cache";
	if (cfg->lock)
		argv[a++] = "--hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount";
	for (i = 0; i < ARRAY_LEN(debian_dpkg_excludes); i++)
		argv[a++] = debian_dpkg_excludes[i];
	if (n)
		argv[a++] = include;
	argv[a++] = (char *)cfg->suite;
	argv[a++] = (char *)root;
	argv[a++] = main_line;
	if (!cfg->lock) {
		argv[a++] = upd_line;
		if (cfg->security_mirror && *cfg->security_mirror)
			argv[a++] = sec_line;
	}
	argv[a] = NULL;
	err = run_cmd(ctx, &o, argv);
	if (!err && cfg->lock)
		err = debian_lock_mountpoint_remove(root, repo);
	return err;
}

/*
 * mmdebstrap's file-mirror-automount hook mounts the repository at its own
 * path inside the root and, after unmounting, leaves the directories it
 * made (WORKDIR's path, /work/... or /home/...) in the image.  Remove them,
 * deepest first, while empty and owned by no package (/home, /tmp stay).
 */
static int debian_lock_mountpoint_remove(const char *root, const char *repo)
{
	char path[PATH_MAX], full[PATH_MAX], needle[PATH_MAX + 2];
	char *owned = NULL, *slash;
	size_t owned_len = 0;
	struct dirent *de;
	FILE *f;
	DIR *d;
	int root_fd, err;

	root_fd = fs_root_open(root);
	if (root_fd < 0)
		return root_fd;
	err = fs_root_opendir(root_fd, "var/lib/dpkg/info", &d);
	if (err < 0) {
		close(root_fd);
		return err;
	}
	f = open_memstream(&owned, &owned_len);
	if (!f) {
		closedir(d);
		close(root_fd);
		return -ENOMEM;
	}
	fputc('\n', f);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char *data;

		if (len < 6 || strcmp(de->d_name + len - 5, ".list"))
			continue;
		if (snprintf(full, sizeof(full), "var/lib/dpkg/info/%s", de->d_name) >=
		    (int)sizeof(full))
			continue;
		if (fs_root_read(root_fd, full, &data, NULL) < 0)
			continue;
		fprintf(f, "%s\n", data);
		free(data);
	}
	closedir(d);
	fclose(f);
	snprintf(path, sizeof(path), "%s", repo);
	while (*path && strcmp(path, "/")) {
		snprintf(needle, sizeof(needle), "\n%s\n", path);
		if (strstr(owned, needle) || fs_root_rmdir(root_fd, path) < 0)
			break;
		slash = strrchr(path, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	free(owned);
	close(root_fd);
	return 0;
}

/* A locked build's stage 2: the verified repository copied into the root
 * (removed with var/cache later) is apt's only source. */
static int debian_lock_sources(struct ib_stage_ctx *ctx, const char *root)
{
	static const char line[] = "deb [trusted=yes] file:/var/cache/jefe-lock-repo ./\n";
	static const char inside[] = "var/cache/jefe-lock-repo";
	char repo[PATH_MAX];
	int err;

	(void)root;
	err = lock_repo_dir(ctx->cfg, repo, sizeof(repo));
	if (!err)
		err = lock_repo_make(ctx, repo);
	if (!err)
		err = fs_root_rm_rf(ctx->root_fd, inside);
	if (!err)
		err = fs_root_mkdir_p(ctx->root_fd, inside, 0755);
	if (!err)
		err = fs_root_copy_tree(ctx->root_fd, repo, inside, 0, 0);
	if (!err)
		err = fs_root_rm_rf(ctx->root_fd, "etc/apt/sources.list.d");
	if (!err)
		err = fs_root_mkdir_p(ctx->root_fd, "etc/apt/sources.list.d", 0755);
	if (!err)
		err = fs_root_write(ctx->root_fd, "etc/apt/sources.list", line, sizeof(line) - 1,
				    0644);
	return err;
}

static int debian_install(struct ib_stage_ctx *ctx, const char *root,
			  char *const *pkgs, size_t n)
{
	static const char policy[] = "#!/bin/sh\n# no daemon starts while the image is built\nexit 101\n";
	static const char path[] = "usr/sbin/policy-rc.d", resolv[] = "etc/resolv.conf";
	char sde[64];
	char *env[] = { sde, "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive", NULL };
	struct ib_run_opts o = { .chroot = root, .env = env };
	char *update[] = { "apt-get", "-q", "update", NULL };
	char **install;
	size_t i;
	int err;

	debian_env_fill(ctx, sde);
	if (ctx->cfg->lock) {
		err = debian_lock_sources(ctx, root);
		if (err < 0)
			return err;
	}
	err = fs_root_write(ctx->root_fd, path, policy, sizeof(policy) - 1, 0755);
	if (err < 0)
		return err;
	/* apt needs the host's resolver for the mirror's name (the image's
	 * /etc/resolv.conf may be a symlink: it is replaced, not followed). */
	fs_root_unlink(ctx->root_fd, resolv);
	if (access("/etc/resolv.conf", R_OK) == 0)
		fs_root_copy_file(ctx->root_fd, "/etc/resolv.conf", resolv, 0644);

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
	/* no apt-get clean: the inventory hashes var/cache/apt/archives */
	if (!err)
		err = run_cmd(ctx, &o, install);
	free(install);
	fs_root_unlink(ctx->root_fd, path);
	fs_root_unlink(ctx->root_fd, resolv);
	return err;
}

/* The files of a package that can tell whether it is still in the image:
 * not directories (shared), not documentation (always removed). */
static int debian_pkg_files(const char *root, struct ib_pkg *p)
{
	char path[PATH_MAX], name[600], *data, *line, *next;
	size_t cap = 0;
	int err;

	snprintf(name, sizeof(name), "var/lib/dpkg/info/%s:%s.list", p->name, p->arch);
	err = IB_PATH(path, root, name);
	if (!err && access(path, R_OK) != 0) {
		snprintf(name, sizeof(name), "var/lib/dpkg/info/%s.list", p->name);
		err = IB_PATH(path, root, name);
	}
	if (!err)
		err = fs_read_file(path, &data, NULL);
	if (err < 0)
		return err == -ENOENT ? 0 : err;
	for (line = data; !err && line && *line; line = next) {
		struct stat st;
		char full[PATH_MAX];

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strncmp(line, "/usr/share/doc/", 15) || !strcmp(line, "/."))
			continue;
		/* stat, not lstat: with merged /usr, /lib and /sbin are listed
		 * as dpkg's directories and are symlinks to them */
		if (IB_PATH(full, root, line) < 0 || lstat(full, &st) < 0 ||
		    (stat(full, &st) == 0 && S_ISDIR(st.st_mode)))
			continue;
		if (p->n_files == cap) {
			char **v = realloc(p->files, (cap ? 2 * cap : 16) * sizeof(*v));

			if (!v) {
				err = -ENOMEM;
				break;
			}
			p->files = v;
			cap = cap ? 2 * cap : 16;
		}
		p->files[p->n_files] = strdup(line);
		if (!p->files[p->n_files++])
			err = -ENOMEM;
	}
	free(data);
	return err;
}

/* The .deb's hash: from the lock (a locked build installs only verified
 * .debs), else the archive apt downloaded, kept with --package-cache. */
static int debian_pkg_hash(struct ib_stage_ctx *ctx, const char *root, struct ib_pkg *p)
{
	const struct ib_config *cfg = ctx->cfg;
	char name[600], deb[PATH_MAX], kept[PATH_MAX];
	uint8_t md[SHA256_LEN];
	struct sha256 h;
	char *data = NULL;
	size_t len = 0;
	int err;

	(void)root;
	if (cfg->lock) {
		const struct ib_lock_pkg *lp = lock_find(cfg->lock, p->name, p->arch);

		if (!lp || strcmp(lp->version, p->version)) {
			fprintf(stderr, "jefe-image-build: %s %s %s was installed but is "
				"not in the lock %s\n", p->name, p->version, p->arch,
				cfg->lock_path);
			snprintf(ctx->failed, sizeof(ctx->failed), "package %.200s %.200s "
				 "is not in the lock", p->name, p->version);
			return -IB_ELOCK;
		}
		snprintf(p->sha256, sizeof(p->sha256), "%s", lp->sha256);
		return 0;
	}
	err = lock_deb_name(p->name, p->version, p->arch, name, sizeof(name));
	if (!err && snprintf(deb, sizeof(deb), "var/cache/apt/archives/%s", name) >=
	    (int)sizeof(deb))
		err = -ENAMETOOLONG;
	/* read through the root fd: an image symlink cannot put a host
	 * file into the hash or the package cache */
	if (!err)
		err = fs_root_read(ctx->root_fd, deb, &data, &len);
	sha256_init(&h);
	if (!err)
		sha256_update(&h, data, len);
	if (err < 0) {
		snprintf(ctx->failed, sizeof(ctx->failed), "no downloaded .deb for %.200s "
			 "%.200s: %.200s", p->name, p->version, strerror(-err));
		return err;
	}
	sha256_final(&h, md);
	sha256_hex(md, p->sha256);
	if (cfg->package_cache) {
		err = fs_mkdir_p(cfg->package_cache, 0755);
		if (!err)
			err = IB_PATH(kept, cfg->package_cache, name);
		if (!err && access(kept, F_OK) != 0)
			err = fs_write_file(kept, data, len, 0644);
	}
	free(data);
	return err;
}

static int debian_inventory(struct ib_stage_ctx *ctx, const char *root,
			    struct ib_inventory *inv)
{
	char list[PATH_MAX], text[1024], *data, *line, *next;
	char *argv[] = { "dpkg-query", "-W", "-f",
			 "${Package}\t${Version}\t${Architecture}\t${Maintainer}\n", NULL };
	struct ib_run_opts o = { .chroot = root, .stdout_path = list };
	int err;

	err = IB_PATH(list, ctx->out, "dpkg-query.tsv");
	if (!err)
		err = run_cmd(ctx, &o, argv);
	if (!err)
		err = fs_read_file(list, &data, NULL);
	unlink(list);
	if (err < 0)
		return err;
	for (line = data; !err && line && *line; line = next) {
		struct ib_pkg p = { 0 };
		char *f[4], *rest = line, *copyright;
		size_t nf;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		for (nf = 0; nf < 4 && rest; nf++)
			f[nf] = strsep(&rest, "\t");
		if (nf < 4) {
			fprintf(stderr, "jefe-image-build: dpkg-query: unexpected line "
				"'%s'\n", line);
			err = -IB_EINPUT;
			break;
		}
		p.name = strdup(f[0]);
		p.version = strdup(f[1]);
		p.arch = strdup(f[2]);
		p.supplier = strdup(f[3]);
		if (!p.name || !p.version || !p.arch || !p.supplier)
			err = -ENOMEM;
		if (!err)
			err = debian_pkg_hash(ctx, root, &p);
		snprintf(text, sizeof(text), "usr/share/doc/%s/copyright", f[0]);
		if (!err) {
			/* kept by dpkg's path-include; absent or free text: NOASSERTION */
			if (fs_root_read(ctx->root_fd, text, &copyright, NULL) < 0)
				copyright = NULL;
			sbom_license_from_copyright(copyright ? copyright : "", text,
						    sizeof(text));
			free(copyright);
			p.license = strdup(text);
			if (!p.license)
				err = -ENOMEM;
		}
		if (!err)
			err = debian_pkg_files(root, &p);
		if (!err)
			err = inventory_add(inv, &p);
		else {
			struct ib_inventory one = { .pkgs = &p, .n = 1 };

			inventory_free(&one);
		}
	}
	free(data);
	/* a locked package that was not installed: the lock is not this profile's */
	if (!err && ctx->cfg->lock && ctx->cfg->lock->n != inv->n) {
		const struct ib_lock *lock = ctx->cfg->lock;
		size_t i, j;

		for (i = 0; i < lock->n; i++) {
			for (j = 0; j < inv->n; j++)
				if (!strcmp(inv->pkgs[j].name, lock->pkgs[i].name) &&
				    !strcmp(inv->pkgs[j].arch, lock->pkgs[i].arch))
					break;
			if (j == inv->n) {
				fprintf(stderr, "jefe-image-build: %s: package %s %s was "
					"not installed (not needed by the profiles)\n",
					ctx->cfg->lock_path, lock->pkgs[i].name,
					lock->pkgs[i].version);
				snprintf(ctx->failed, sizeof(ctx->failed), "locked package "
					 "%.200s was not installed", lock->pkgs[i].name);
			}
		}
		err = -IB_ELOCK;
	}
	return err;
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
	/* what apt, dpkg and debconf leave besides their programs: timers,
	 * cron and logrotate jobs, completions (the inventory would
	 * otherwise count them as still in the image).  dpkg's
	 * start-stop-daemon stays: OpenRC's services run through it. */
	"etc/cron.daily/apt-compat", "etc/cron.daily/dpkg", "etc/logrotate.d/apt",
	"etc/logrotate.d/dpkg", "etc/logrotate.d/alternatives", "etc/alternatives/README",
	"lib/systemd/system/apt-daily*", "lib/systemd/system/dpkg-db-backup.*",
	"usr/lib/systemd/system/apt-daily*", "usr/lib/systemd/system/dpkg-db-backup.*",
	"usr/share/bash-completion/completions/apt*",
	"usr/share/bash-completion/completions/debconf*",
	"usr/share/bash-completion/completions/dpkg*", "usr/libexec/dpkg",
	"usr/share/polkit-1/actions/org.dpkg.*", "usr/bin/update-alternatives",
	"usr/share/perl5/Debian/DebConf", "usr/share/pixmaps/debian-logo.png",
	NULL,
};

static const struct ib_tool debian_tools[] = {
	{ "mmdebstrap", "mmdebstrap" },
};

const struct ib_base base_debian = {
	.name = "debian",
	.bootstrap = debian_bootstrap,
	.install = debian_install,
	.inventory = debian_inventory,
	.pm_paths = debian_pm_paths,
	.default_suite = "bookworm",
	.default_mirrors = debian_mirror_detect,
	.locks = true,
	.tools = debian_tools,
	.n_tools = ARRAY_LEN(debian_tools),
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
