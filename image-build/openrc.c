/* SPDX-License-Identifier: MIT */
/*
 * The image's OpenRC boot (docs/image-build.md, "What runs at boot"):
 * OpenRC-native services in OpenRC's own runlevels, and nothing else.
 *
 * Debian's packages enable their sysvinit scripts in the runlevels when
 * they are installed (checkroot, mountall, bootclean, ...: written for a
 * writable disk root, they cost about a minute under emulation on the
 * live root and do nothing it needs).  Stage 3 empties every runlevel
 * before it enables the agent's services (openrc_runlevels_reset); stage 4,
 * once the overlay's native scripts are in place, enables the boot set
 * below, refuses a runlevel entry that is not an OpenRC script, removes
 * the sysvinit scripts, and writes OpenRC's dependency cache
 * (openrc_boot_install), so the first boot does not compute it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ib.h"

/* The base system's share of the boot, by runlevel (the agent's services,
 * jefe-boot, networking and jefe, are stage 3's).  All are the overlay's
 * own OpenRC scripts, with Alpine's names where Alpine has the service. */
static const struct {
	const char *service;
	const char *runlevel;
} openrc_boot_set[] = {
	{ "devfs", "sysinit" },		/* /dev/pts, /dev/shm, /dev/fd */
	{ "sysfs", "sysinit" },		/* securityfs, efivarfs, pstore */
	{ "hostname", "boot" },
	{ "localmount", "boot" },	/* /tmp, /var/tmp from fstab */
	{ "bootmisc", "boot" },		/* utmp, wtmp, btmp */
	{ "rsyslog", "boot" },		/* provides logger, before jefe */
	{ "ssh-hostkeys", "boot" },	/* in parallel with the rest of boot */
	{ "auditd", "default" },	/* before jefe */
	{ "ssh", "default" },		/* after jefe */
};

/* Every runlevel OpenRC or Debian's packages know; BusyBox init's inittab
 * runs sysinit, boot, default and, at power-off, shutdown. */
static const char *const openrc_runlevels[] = {
	"sysinit", "boot", "default", "shutdown", "nonetwork", "off", "recovery",
	"single",
};

/* Where OpenRC's helpers live: RC_LIBEXECDIR, by base and release. */
static const char *const openrc_libexec_dirs[] = {
	"usr/libexec/rc", "usr/lib/rc", "lib/rc",
};

int openrc_runlevels_reset(const char *root)
{
	char dir[PATH_MAX], rel[64], path[PATH_MAX];
	size_t r;
	int err = 0;

	for (r = 0; !err && r < ARRAY_LEN(openrc_runlevels); r++) {
		struct dirent *e;
		DIR *d;

		snprintf(rel, sizeof(rel), "etc/runlevels/%s", openrc_runlevels[r]);
		err = IB_PATH(dir, root, rel);
		if (err < 0)
			break;
		d = opendir(dir);
		if (!d) {
			if (errno != ENOENT)
				err = -errno;
			continue;
		}
		while (!err && (e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			err = IB_PATH(path, dir, e->d_name);
			if (!err && unlink(path) < 0)
				err = -errno;
		}
		closedir(d);
	}
	return err;
}

/* The script's first line names openrc-run: it is an OpenRC service, not
 * a sysvinit script that OpenRC would run through its LSB shim. */
static bool openrc_is_script(const char *data)
{
	size_t line = strcspn(data, "\n");

	return !strncmp(data, "#!", 2) && memmem(data, line, "openrc-run", 10);
}

static int openrc_script_check(struct ib_stage_ctx *ctx, const char *root,
			       const char *runlevel, const char *service)
{
	char rel[PATH_MAX], path[PATH_MAX];
	char *data;
	size_t line;
	int err;

	snprintf(rel, sizeof(rel), "etc/init.d/%s", service);
	err = IB_PATH(path, root, rel);
	if (!err)
		err = fs_read_file(path, &data, NULL);
	if (err == -ENOENT) {
		snprintf(ctx->failed, sizeof(ctx->failed),
			 "runlevel %s: service %s has no /etc/init.d/%s", runlevel,
			 service, service);
		return -IB_EINPUT;
	}
	if (err < 0)
		return err;
	line = strcspn(data, "\n");
	if (!openrc_is_script(data)) {
		snprintf(ctx->failed, sizeof(ctx->failed),
			 "runlevel %s: /etc/init.d/%s is not an OpenRC script (first line "
			 "\"%.*s\"); the image runs no sysvinit script at boot", runlevel,
			 service, (int)(line > 80 ? 80 : line), data);
		err = -IB_EINPUT;
	}
	free(data);
	return err;
}

static int openrc_boot_enable(const char *root)
{
	char rel[PATH_MAX], link[PATH_MAX], target[PATH_MAX];
	size_t i;
	int err = 0;

	for (i = 0; !err && i < ARRAY_LEN(openrc_boot_set); i++) {
		snprintf(rel, sizeof(rel), "etc/runlevels/%s", openrc_boot_set[i].runlevel);
		err = IB_PATH(link, root, rel);
		if (!err)
			err = fs_mkdir_p(link, 0755);
		snprintf(rel, sizeof(rel), "etc/runlevels/%s/%s", openrc_boot_set[i].runlevel,
			 openrc_boot_set[i].service);
		if (!err)
			err = IB_PATH(link, root, rel);
		if (err < 0)
			break;
		snprintf(target, sizeof(target), "/etc/init.d/%s", openrc_boot_set[i].service);
		unlink(link);
		if (symlink(target, link) < 0)
			err = -errno;
	}
	return err;
}

/* Every service of every runlevel, whoever enabled it (stage 3, this
 * file, an --overlay's links): an OpenRC script that exists. */
static int openrc_runlevels_check(struct ib_stage_ctx *ctx, const char *root)
{
	char dir[PATH_MAX], rel[64];
	size_t r;
	int err = 0;

	for (r = 0; !err && r < ARRAY_LEN(openrc_runlevels); r++) {
		struct dirent **names;
		int i, n;

		snprintf(rel, sizeof(rel), "etc/runlevels/%s", openrc_runlevels[r]);
		err = IB_PATH(dir, root, rel);
		if (err < 0)
			break;
		n = scandir(dir, &names, NULL, alphasort);
		if (n < 0) {
			if (errno != ENOENT)
				err = -errno;
			continue;
		}
		for (i = 0; i < n; i++) {
			if (!err && names[i]->d_name[0] != '.')
				err = openrc_script_check(ctx, root, openrc_runlevels[r],
							  names[i]->d_name);
			free(names[i]);
		}
		free(names);
	}
	return err;
}

/* The sysvinit scripts left in /etc/init.d (in no runlevel: checked
 * above), and the /etc/rcN.d link farms that only sysvinit's rc reads:
 * gone, so nothing can start them as a dependency and OpenRC's
 * dependency cache holds only the image's own services (Debian's
 * hostname.sh and bootmisc.sh would otherwise also provide hostname and
 * bootmisc). */
static int openrc_sysvinit_remove(const char *root)
{
	static const char *const rcdirs[] = {
		"etc/rc0.d", "etc/rc1.d", "etc/rc2.d", "etc/rc3.d", "etc/rc4.d",
		"etc/rc5.d", "etc/rc6.d", "etc/rcS.d",
	};
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *e;
	DIR *d;
	size_t i;
	int err;

	for (i = 0; i < ARRAY_LEN(rcdirs); i++) {
		err = IB_PATH(path, root, rcdirs[i]);
		if (!err)
			err = fs_rm_rf(path);
		if (err < 0 && err != -ENOENT)
			return err;
	}
	err = IB_PATH(dir, root, "etc/init.d");
	if (err < 0)
		return err;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!err && (e = readdir(d))) {
		struct stat st;
		char *data;

		if (e->d_name[0] == '.')
			continue;
		err = IB_PATH(path, dir, e->d_name);
		if (err < 0 || lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		err = fs_read_file(path, &data, NULL);
		if (err < 0)
			break;
		if (!openrc_is_script(data) && unlink(path) < 0)
			err = -errno;
		free(data);
	}
	closedir(d);
	return err;
}

/* OpenRC 0.45 (Debian 12's) recomputes its dependency cache at every
 * sysinit even when the restored one is valid (its do_sysinit loads the
 * cache with force; later releases load it unless a file is newer).  The
 * recomputation runs sh/gendepends.sh, which sources every service script
 * and conf.d file: seconds of CPU under emulation, for the result the
 * build already had.  The image's gendepends.sh answers with the build's
 * own scan (cache/gendepends) while no file it reads is newer, and runs
 * OpenRC's scan (kept as gendepends.sh.openrc) otherwise. */
static const char openrc_gendepends_wrapper[] =
	"#!/bin/sh\n"
	"# JefeLinux (image-build/openrc.c): OpenRC's dependency scan, answered\n"
	"# from the scan made when the image was built while no service script\n"
	"# or configuration is newer than it; else OpenRC's own scan.\n"
	"_scan=%s/cache/gendepends\n"
	"if [ -s \"$_scan\" ] && [ -z \"$(find /etc/init.d /etc/conf.d /etc/rc.conf \\\n"
	"\t/usr/etc/init.d /usr/etc/conf.d /usr/local/etc/init.d /usr/local/etc/conf.d \\\n"
	"\t-newer \"$_scan\" 2>/dev/null | head -n 1)\" ]; then\n"
	"\texec cat \"$_scan\"\n"
	"fi\n"
	"exec %s/sh/gendepends.sh.openrc \"$@\"\n";

static int openrc_gendepends_cache(struct ib_stage_ctx *ctx, const char *root,
				   const char *libexec_rel, const char *libexec,
				   const char *cache)
{
	char script[PATH_MAX], real[PATH_MAX], scan[PATH_MAX], inroot[PATH_MAX];
	char dir[64], env_libexec[96];
	char wrapper[sizeof(openrc_gendepends_wrapper) + 2 * sizeof(dir)];
	int err, n;

	err = IB_PATH(script, libexec, "sh/gendepends.sh");
	if (!err)
		err = IB_PATH(real, libexec, "sh/gendepends.sh.openrc");
	if (!err)
		err = IB_PATH(scan, cache, "gendepends");
	if (err < 0)
		return err;
	/* libexec_rel is one of openrc_libexec_dirs: short */
	snprintf(dir, sizeof(dir), "/%s", libexec_rel);
	snprintf(inroot, sizeof(inroot), "%s/sh/gendepends.sh", dir);
	snprintf(env_libexec, sizeof(env_libexec), "RC_LIBEXECDIR=%s", dir);
	{
		char *argv[] = { "/bin/sh", inroot, NULL };
		char *env[] = { env_libexec, "RC_UNAME=Linux", NULL };
		struct ib_run_opts o = { .chroot = root, .stdout_path = scan, .env = env };

		err = run_cmd(ctx, &o, argv);
	}
	if (err < 0)
		return err;
	n = snprintf(wrapper, sizeof(wrapper), openrc_gendepends_wrapper, dir, dir);
	if (n < 0 || (size_t)n >= sizeof(wrapper))
		return -ENAMETOOLONG;
	if (rename(script, real) < 0)
		return -errno;
	return fs_write_file(script, wrapper, (size_t)n, 0755);
}

/* OpenRC's init.sh copies RC_LIBEXECDIR/cache/ into /run/openrc at sysinit
 * (when cache/softlevel exists; savecache is what fills it on a disk
 * system).  The cache stays valid as long as no file under /etc/init.d,
 * /etc/conf.d or /etc/rc.conf is newer than it: stage 5 gives every file
 * of the root the same time, and nothing at boot writes there. */
static int openrc_deptree_cache(struct ib_stage_ctx *ctx, const char *root)
{
	static const char *const cached[] = { "deptree", "depconfig" };
	char libexec[PATH_MAX], tool[PATH_MAX], cache[PATH_MAX], rundir[PATH_MAX];
	char from[PATH_MAX], to[PATH_MAX], rel[PATH_MAX];
	const char *found = NULL;
	size_t i;
	int err;

	for (i = 0; !found && i < ARRAY_LEN(openrc_libexec_dirs); i++) {
		err = IB_PATH(libexec, root, openrc_libexec_dirs[i]);
		if (!err)
			err = IB_PATH(tool, libexec, "bin/rc-depend");
		if (err < 0)
			return err;
		if (access(tool, X_OK) == 0)
			found = openrc_libexec_dirs[i];
	}
	if (!found) {
		snprintf(ctx->failed, sizeof(ctx->failed),
			 "no OpenRC rc-depend in the image (looked in /usr/libexec/rc, "
			 "/usr/lib/rc, /lib/rc)");
		return -IB_EINPUT;
	}
	snprintf(rel, sizeof(rel), "/%s/bin/rc-depend", found);
	{
		char *argv[] = { rel, "--update", NULL };
		struct ib_run_opts o = { .chroot = root };

		err = run_cmd(ctx, &o, argv);
	}
	/* the build's /run/openrc is not the machine's: only the cache stays */
	if (!err)
		err = IB_PATH(rundir, root, "run/openrc");
	if (!err)
		err = IB_PATH(cache, libexec, "cache");
	if (!err)
		err = fs_rm_rf(cache);
	if (!err)
		err = fs_mkdir_p(cache, 0755);
	for (i = 0; !err && i < ARRAY_LEN(cached); i++) {
		err = IB_PATH(from, rundir, cached[i]);
		if (!err)
			err = IB_PATH(to, cache, cached[i]);
		if (err < 0)
			break;
		if (access(from, F_OK) != 0) {
			if (i == 0) {
				snprintf(ctx->failed, sizeof(ctx->failed),
					 "rc-depend --update wrote no /run/openrc/deptree");
				err = -IB_ECOMMAND;
			}
			continue;	/* depconfig: only when a service names one */
		}
		err = fs_copy_file(from, to, 0644);
	}
	if (!err)
		err = openrc_gendepends_cache(ctx, root, found, libexec, cache);
	/* init.sh restores the cache only when this one is there; it then
	 * writes the real softlevel itself */
	if (!err)
		err = IB_PATH(to, cache, "softlevel");
	if (!err)
		err = fs_write_file(to, "sysinit\n", 8, 0644);
	if (!err)
		err = fs_rm_rf(rundir);
	return err;
}

int openrc_boot_install(struct ib_stage_ctx *ctx, const char *root)
{
	int err;

	err = openrc_boot_enable(root);
	if (!err)
		err = openrc_runlevels_check(ctx, root);
	if (!err)
		err = openrc_sysvinit_remove(root);
	if (!err)
		err = openrc_deptree_cache(ctx, root);
	return err;
}
