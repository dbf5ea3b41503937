/* SPDX-License-Identifier: MIT */
/*
 * Stage 3, Security: the jefe agent (--agent-destdir: for the Debian base,
 * build.sh unpacks there the agent's Debian package, the one tests/pkg
 * installs and purges; for Alpine, a `make install` tree) with its
 * policies and OpenRC services in their runlevels; SUID/SGID bits outside
 * the allowlist removed; root
 * locked; an admin user without a password whose SSH keys come from
 * --authorized-keys, allowed to become root with doas.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ib.h"
#include "rootfs.h"

#define ADMIN_USER "admin"
#define ADMIN_ID 1000

/* The only set-id program left: how the admin becomes root. */
static const char *const security_suid_allow[] = {
	"/usr/bin/doas",
};

/* OpenRC services and the runlevel each starts in: the agent's, and the
 * network after the boot-time firewall (Debian puts ifupdown in sysinit,
 * before anything; the overlay's networking script provides "net"). */
static const struct {
	const char *service;
	const char *runlevel;
} security_services[] = {
	{ "jefe-boot", "boot" },
	{ "jefe", "default" },
	{ "networking", "boot" },
};

static const char *const security_runlevels[] = {
	"sysinit", "boot", "default",
};

int stage_security_key(const struct ib_config *cfg, struct sha256 *h)
{
	char sde[32];
	int err;

	snprintf(sde, sizeof(sde), "%lld", cfg->source_date_epoch);
	sha256_update_str(h, sde);
	sha256_update_str(h, "agent");
	err = fs_tree_hash(cfg->agent_destdir, h);
	if (err < 0) {
		fprintf(stderr, "jefe-image-build: agent tree %s: %s\n",
			cfg->agent_destdir, strerror(-err));
		return err;
	}
	sha256_update_str(h, "keys");
	err = fs_file_hash(cfg->authorized_keys, h);
	if (err < 0)
		fprintf(stderr, "jefe-image-build: --authorized-keys %s: %s\n",
			cfg->authorized_keys, strerror(-err));
	return err;
}

static int security_suid_strip(const char *root, int root_fd, int *removed)
{
	char cmdout[PATH_MAX];
	char **paths;
	size_t n, i, j;
	int err;

	/* find(1) lists the candidates; we decide and chmod here. */
	if (snprintf(cmdout, sizeof(cmdout), "%s.suid", root) >= (int)sizeof(cmdout))
		return -ENAMETOOLONG;
	err = fs_list_read(cmdout, &paths, &n);
	if (err < 0)
		return err;
	*removed = 0;
	for (i = 0; i < n; i++) {
		const char *rel = paths[i] + strlen(root);
		struct stat st;
		bool allowed = false;

		for (j = 0; j < ARRAY_LEN(security_suid_allow); j++)
			allowed |= !strcmp(paths[i] + strlen(root), security_suid_allow[j]);
		if (allowed)
			continue;
		if (strncmp(paths[i], root, strlen(root)) != 0 ||
		    fs_root_stat(root_fd, rel, &st, false) < 0 || !S_ISREG(st.st_mode))
			continue;
		err = fs_root_chmod(root_fd, rel, st.st_mode & 0777 & ~(mode_t)(S_ISUID | S_ISGID));
		if (err < 0)
			break;
		(*removed)++;
	}
	fs_list_free(paths, n);
	unlink(cmdout);
	return err;
}

static int security_suid_find(struct ib_stage_ctx *ctx, const char *root)
{
	char out[PATH_MAX];
	char *argv[] = { "find", (char *)root, "-xdev", "-type", "f", "(",
			 "-perm", "-4000", "-o", "-perm", "-2000", ")", NULL };
	struct ib_run_opts o = { .stdout_path = out };

	if (snprintf(out, sizeof(out), "%s.suid", root) >= (int)sizeof(out))
		return -ENAMETOOLONG;
	return run_cmd(ctx, &o, argv);
}

/* Rewrite a colon-separated account file: fix(line) may edit a copy of each
 * line; extra is appended. */
static int security_accounts_edit(int root_fd, const char *file,
				  int (*fix)(char *line, size_t size, long days),
				  const char *extra, long days)
{
	char line[1024];
	char *data, *p, *out;
	size_t len, used = 0;
	int err;

	err = fs_root_read(root_fd, file, &data, &len);
	if (err < 0)
		return err;
	out = malloc(len + strlen(extra) + 4096);
	if (!out) {
		free(data);
		return -ENOMEM;
	}
	for (p = data; *p;) {
		size_t l = strcspn(p, "\n");

		snprintf(line, sizeof(line), "%.*s", (int)l, p);
		p += l + (p[l] == '\n');
		/* an earlier run of this stage never exists (fresh copy), but
		 * an overlay could have added the admin: keep one */
		if (!strncmp(line, ADMIN_USER ":", strlen(ADMIN_USER) + 1))
			continue;
		if (fix)
			err = fix(line, sizeof(line), days);
		if (err < 0)
			break;
		used += (size_t)sprintf(out + used, "%s\n", line);
	}
	if (!err) {
		used += (size_t)sprintf(out + used, "%s", extra);
		err = fs_root_write(root_fd, file, out, used, !strcmp(file, "etc/passwd") ||
				    !strcmp(file, "etc/group") ? 0644 : 0640);
	}
	free(out);
	free(data);
	return err;
}

/* shadow: root locked ("!": sshd refuses even its keys), every "last
 * changed" day from SOURCE_DATE_EPOCH instead of the build's date. */
static int security_shadow_fix(char *line, size_t size, long days)
{
	char name[256], rest[768];
	char *f[9];
	char *p = line;
	int i;

	for (i = 0; i < 9; i++) {
		f[i] = p;
		p = strchr(p, ':');
		if (!p) {
			if (i != 8)
				return 0;	/* not a shadow line: leave it */
			break;
		}
		*p++ = '\0';
	}
	snprintf(name, sizeof(name), "%s", f[0]);
	snprintf(rest, sizeof(rest), "%s:%s:%s:%s:%s:%s", f[3], f[4], f[5], f[6],
		 f[7], f[8]);
	snprintf(line, size, "%s:%s:%ld:%s", name,
		 !strcmp(name, "root") ? "!" : f[1], days, rest);
	return 0;
}

static int security_accounts(const struct ib_config *cfg, int root_fd)
{
	long days = (long)(cfg->source_date_epoch / 86400);
	char passwd[256], shadow[256], group[128], gshadow[128];
	int err;

	snprintf(passwd, sizeof(passwd), "%s:x:%d:%d:JefeLinux admin:/home/%s:/bin/sh\n",
		 ADMIN_USER, ADMIN_ID, ADMIN_ID, ADMIN_USER);
	/* "*": no password can match, yet the account is not locked, so
	 * sshd accepts the admin's key. */
	snprintf(shadow, sizeof(shadow), "%s:*:%ld:0:99999:7:::\n", ADMIN_USER, days);
	snprintf(group, sizeof(group), "%s:x:%d:\n", ADMIN_USER, ADMIN_ID);
	snprintf(gshadow, sizeof(gshadow), "%s:!::\n", ADMIN_USER);
	err = security_accounts_edit(root_fd, "etc/passwd", NULL, passwd, days);
	if (!err)
		err = security_accounts_edit(root_fd, "etc/shadow", security_shadow_fix,
					     shadow, days);
	if (!err)
		err = security_accounts_edit(root_fd, "etc/group", NULL, group, days);
	if (!err)
		err = security_accounts_edit(root_fd, "etc/gshadow", NULL, gshadow, days);
	return err;
}

static int security_admin_home(const struct ib_config *cfg, int root_fd)
{
	static const char doas[] = "# JefeLinux: the admin becomes root with doas\n"
				   "permit nopass " ADMIN_USER " as root\n";
	static const char home[] = "home/" ADMIN_USER;
	static const char ssh[] = "home/" ADMIN_USER "/.ssh";
	static const char keys[] = "home/" ADMIN_USER "/.ssh/authorized_keys";
	int err;

	err = fs_root_mkdir_p(root_fd, ssh, 0700);
	if (!err)
		err = fs_root_copy_file(root_fd, cfg->authorized_keys, keys, 0600);
	if (!err)
		err = fs_root_chown(root_fd, home, ADMIN_ID, ADMIN_ID);
	if (!err)
		err = fs_root_chmod(root_fd, home, 0750);
	if (!err)
		err = fs_root_chown(root_fd, ssh, ADMIN_ID, ADMIN_ID);
	if (!err)
		err = fs_root_chmod(root_fd, ssh, 0700);
	if (!err)
		err = fs_root_chown(root_fd, keys, ADMIN_ID, ADMIN_ID);
	if (!err)
		err = fs_root_write(root_fd, "etc/doas.conf", doas, sizeof(doas) - 1, 0400);
	return err;
}

/* The agent must run with the image's libraries: ldd inside the root. */
static int security_agent_check(struct ib_stage_ctx *ctx, const char *root)

{
	static const char *const bins[] = { "/usr/sbin/jefe", "/usr/sbin/jefe-setup" };
	char out[PATH_MAX];
	char *data;
	size_t i;
	int err;

	if (snprintf(out, sizeof(out), "%s.ldd", root) >= (int)sizeof(out))
		return -ENAMETOOLONG;
	for (i = 0; i < ARRAY_LEN(bins); i++) {
		char *argv[] = { "ldd", (char *)bins[i], NULL };
		struct ib_run_opts o = { .chroot = root, .stdout_path = out };
		struct stat st;

		if (fs_root_stat(ctx->root_fd, bins[i], &st, true) < 0 ||
		    !S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
			snprintf(ctx->failed, sizeof(ctx->failed),
				 "the agent has no %s: --agent-destdir must hold the agent as the image"
				 " lays it out (its Debian package unpacked, or `make install DESTDIR=DIR`"
				 " of a tree configured with --prefix=/usr)",
				 bins[i]);
			return -IB_EINPUT;
		}
		err = run_cmd(ctx, &o, argv);
		if (!err)
			err = fs_read_file(out, &data, NULL);
		if (err < 0)
			break;
		if (strstr(data, "not found")) {
			snprintf(ctx->failed, sizeof(ctx->failed),
				 "%s lacks libraries in the image:\n%.800s", bins[i], data);
			err = -IB_ECOMMAND;
		}
		free(data);
		if (err < 0)
			break;
	}
	unlink(out);
	return err;
}

static int security_services_enable(int root_fd)
{
	char link[PATH_MAX], target[PATH_MAX];
	size_t i;
	int err = 0;

	for (i = 0; !err && i < ARRAY_LEN(security_services); i++) {
		struct stat st;

		snprintf(target, sizeof(target), "/etc/init.d/%s",
			 security_services[i].service);
		if (fs_root_stat(root_fd, target, &st, false) < 0)
			continue;	/* not (yet) shipped by the agent */
		/* one runlevel per service */
		for (size_t r = 0; r < ARRAY_LEN(security_runlevels); r++) {
			snprintf(link, sizeof(link), "etc/runlevels/%s/%s",
				 security_runlevels[r], security_services[i].service);
			fs_root_unlink(root_fd, link);
		}
		snprintf(link, sizeof(link), "etc/runlevels/%s",
			 security_services[i].runlevel);
		err = fs_root_mkdir_p(root_fd, link, 0755);
		if (!err && snprintf(link, sizeof(link), "etc/runlevels/%s/%s",
				     security_services[i].runlevel,
				     security_services[i].service) >= (int)sizeof(link))
			err = -ENAMETOOLONG;
		if (!err)
			err = fs_root_symlink(root_fd, target, link);
	}
	return err;
}

/*
 * The image's own files in the state the shipped policy's [files.perms]
 * asks (policies/policy.d/60-files.conf), so that the agent's first pass
 * on a clean boot has nothing to repair: shadow and gshadow owned by group
 * shadow, sshd_config 0600, the cron files root only (Debian's packages
 * leave /etc/cron.daily 0755), the kernel's System.map root only.  A file
 * the base does not have is skipped; the agent reports it as it is.
 */
static int security_hardened_modes(int root_fd)
{
	static const struct {
		const char *path;
		mode_t mode;
		bool shadow_group;
	} files[] = {
		{ "etc/shadow", 0640, true },
		{ "etc/gshadow", 0640, true },
		{ "etc/shadow-", 0640, true },
		{ "etc/gshadow-", 0640, true },
		{ "etc/ssh/sshd_config", 0600, false },
		{ "etc/crontab", 0600, false },
		{ "etc/cron.d", 0700, false },
		{ "etc/cron.hourly", 0700, false },
		{ "etc/cron.daily", 0700, false },
		{ "etc/cron.weekly", 0700, false },
		{ "etc/cron.monthly", 0700, false },
	};
	char *group = NULL, *p;
	long shadow_gid = -1;
	DIR *d;
	struct dirent *de;
	int err, fd;

	err = fs_root_read(root_fd, "etc/group", &group, NULL);
	if (err < 0)
		return err;
	/* "shadow:x:42:" */
	for (p = group; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, "shadow:", 7) && (p = strchr(p + 7, ':')) != NULL) {
			shadow_gid = strtol(p + 1, NULL, 10);
			break;
		}
	free(group);
	for (size_t i = 0; i < ARRAY_LEN(files) && !err; i++) {
		struct stat st;

		if (fs_root_stat(root_fd, files[i].path, &st, false) < 0 ||
		    !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
			continue;
		if (files[i].shadow_group && shadow_gid >= 0)
			err = fs_root_chown(root_fd, files[i].path, 0, (gid_t)shadow_gid);
		if (!err)
			err = fs_root_chmod(root_fd, files[i].path, files[i].mode);
		if (err < 0)
			fprintf(stderr, "jefe-image-build: image /%s: %s\n", files[i].path,
				strerror(-err));
	}
	if (err < 0)
		return err;
	fd = rootfs_open(root_fd, "/boot", O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d)) != NULL && !err) {
		char map[PATH_MAX];

		if (strncmp(de->d_name, "System.map-", 11) != 0)
			continue;
		if (snprintf(map, sizeof(map), "boot/%s", de->d_name) >= (int)sizeof(map))
			continue;
		err = fs_root_chmod(root_fd, map, 0600);
	}
	closedir(d);
	return err;
}

int stage_security_run(struct ib_stage_ctx *ctx)
{
	static const struct ib_tool tools[] = {
		{ "cp", "coreutils" },
		{ "find", "findutils" },
	};
	/* What dpkg's path-excludes keep out of the base's own packages. */
	static const char *const docs[] = { "usr/share/man", "usr/share/doc",
					    "usr/share/lintian", NULL };
	char root[PATH_MAX], prev[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
	int err, removed = 0;

	err = run_tools_check(tools, ARRAY_LEN(tools));
	if (!err)
		err = IB_PATH(root, ctx->out, IB_ROOTFS);
	if (!err)
		err = IB_PATH(prev, ctx->prev, IB_ROOTFS);
	if (err < 0)
		return err;
	err = fs_copy_tree(ctx, prev, root);
	if (!err)
		err = IB_PATH(from, ctx->prev, IB_PACKAGES);
	if (!err)
		err = IB_PATH(to, ctx->out, IB_PACKAGES);
	if (!err)
		err = fs_copy_file(from, to, 0644);
	if (!err)
		err = fs_copy_tree(ctx, ctx->cfg->agent_destdir, root);
	if (!err)
		err = ctx->root_fd = fs_root_open(root);
	if (err >= 0)
		err = packages_glob_remove(ctx->root_fd, root, root, docs);
	if (!err)
		err = security_agent_check(ctx, root);
	/* the packages' sysvinit scripts out of every runlevel (openrc.c) */
	if (!err)
		err = openrc_runlevels_reset(ctx->root_fd);
	if (!err)
		err = security_services_enable(ctx->root_fd);
	if (!err)
		err = security_accounts(ctx->cfg, ctx->root_fd);
	if (!err)
		err = security_admin_home(ctx->cfg, ctx->root_fd);
	if (!err)
		err = security_suid_find(ctx, root);
	if (!err)
		err = security_suid_strip(root, ctx->root_fd, &removed);
	if (!err)
		err = security_hardened_modes(ctx->root_fd);
	return err;
}
