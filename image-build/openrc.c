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
 * (openrc_boot_install), so no boot computes it.
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
	{ "machine-id", "boot" },	/* this machine's id; in parallel too */
	{ "auditd", "default" },	/* before jefe */
	{ "ssh", "default" },		/* after jefe */
	{ "chrony", "default" },	/* after jefe: its servers are the policy's */
	{ "cron", "default" },		/* logrotate's daily run */
	/* Hyper-V's guest daemons: each a no-op without a VMBus.  Enabled
	 * here, not as links in the overlay: a link to /etc/init.d/... is
	 * dangling in the source tree, and `make dist`'s tar warned of it.
	 * hyperv (boot) marks the three started where there is no VMBus, so
	 * the default runlevel does not start them one by one for nothing. */
	{ "hyperv", "boot" },
	{ "hv-kvp-daemon", "default" },
	{ "hv-vss-daemon", "default" },
	{ "hv-fcopy-daemon", "default" },
	/* once jefe and ssh run: an installed disk's slot on trial is marked good */
	{ "jefe-boot-ok", "default" },
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

int openrc_runlevels_reset(int root_fd)
{
	char rel[64];
	size_t r;
	int err = 0;

	for (r = 0; !err && r < ARRAY_LEN(openrc_runlevels); r++) {
		struct dirent *e;
		DIR *d;

		snprintf(rel, sizeof(rel), "etc/runlevels/%s", openrc_runlevels[r]);
		err = fs_root_opendir(root_fd, rel, &d);
		if (err < 0) {
			if (err == -ENOENT)
				err = 0;
			continue;
		}
		while (!err && (e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			if (unlinkat(dirfd(d), e->d_name, 0) < 0)
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

static int openrc_script_check(struct ib_stage_ctx *ctx, int root_fd,
			       const char *runlevel, const char *service)
{
	char rel[PATH_MAX];
	char *data;
	size_t line;
	int err;

	snprintf(rel, sizeof(rel), "etc/init.d/%s", service);
	err = fs_root_read(root_fd, rel, &data, NULL);
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

static int openrc_boot_enable(int root_fd)
{
	char rel[PATH_MAX], target[PATH_MAX];
	size_t i;
	int err = 0;

	for (i = 0; !err && i < ARRAY_LEN(openrc_boot_set); i++) {
		snprintf(rel, sizeof(rel), "etc/runlevels/%s", openrc_boot_set[i].runlevel);
		err = fs_root_mkdir_p(root_fd, rel, 0755);
		snprintf(rel, sizeof(rel), "etc/runlevels/%s/%s", openrc_boot_set[i].runlevel,
			 openrc_boot_set[i].service);
		snprintf(target, sizeof(target), "/etc/init.d/%s", openrc_boot_set[i].service);
		if (!err)
			err = fs_root_symlink(root_fd, target, rel);
	}
	return err;
}

/* Every service of every runlevel, whoever enabled it (stage 3, this
 * file, an --overlay's links): an OpenRC script that exists. */
static int openrc_runlevels_check(struct ib_stage_ctx *ctx, int root_fd)
{
	char rel[64];
	size_t r;
	int err = 0;

	for (r = 0; !err && r < ARRAY_LEN(openrc_runlevels); r++) {
		struct dirent **names;
		DIR *d;
		int i, n;

		snprintf(rel, sizeof(rel), "etc/runlevels/%s", openrc_runlevels[r]);
		err = fs_root_opendir(root_fd, rel, &d);
		if (err < 0) {
			if (err == -ENOENT)
				err = 0;
			continue;
		}
		n = scandirat(dirfd(d), ".", &names, NULL, alphasort);
		if (n < 0)
			err = -errno;
		closedir(d);
		if (n < 0)
			break;
		for (i = 0; i < n; i++) {
			if (!err && names[i]->d_name[0] != '.')
				err = openrc_script_check(ctx, root_fd, openrc_runlevels[r],
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
static int openrc_sysvinit_remove(int root_fd)
{
	static const char *const rcdirs[] = {
		"etc/rc0.d", "etc/rc1.d", "etc/rc2.d", "etc/rc3.d", "etc/rc4.d",
		"etc/rc5.d", "etc/rc6.d", "etc/rcS.d",
	};
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;
	size_t i;
	int err;

	for (i = 0; i < ARRAY_LEN(rcdirs); i++) {
		err = fs_root_rm_rf(root_fd, rcdirs[i]);
		if (err < 0 && err != -ENOENT)
			return err;
	}
	err = fs_root_opendir(root_fd, "etc/init.d", &d);
	if (err < 0)
		return err == -ENOENT ? 0 : err;
	while (!err && (e = readdir(d))) {
		struct stat st;
		char *data;

		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "etc/init.d/%s", e->d_name) >= (int)sizeof(path) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		err = fs_root_read(root_fd, path, &data, NULL);
		if (err < 0)
			break;
		if (!openrc_is_script(data) && unlinkat(dirfd(d), e->d_name, 0) < 0)
			err = -errno;
		free(data);
	}
	closedir(d);
	return err;
}

/* RC_LIBEXECDIR of the image's OpenRC (where its rc-depend is), or NULL
 * with ctx->failed set. */
static const char *openrc_libexec_find(struct ib_stage_ctx *ctx)
{
	char rel[PATH_MAX];
	size_t i;

	for (i = 0; i < ARRAY_LEN(openrc_libexec_dirs); i++) {
		struct stat st;

		snprintf(rel, sizeof(rel), "%s/bin/rc-depend", openrc_libexec_dirs[i]);
		if (fs_root_stat(ctx->root_fd, rel, &st, true) == 0 && S_ISREG(st.st_mode) &&
		    (st.st_mode & 0111))
			return openrc_libexec_dirs[i];
	}
	snprintf(ctx->failed, sizeof(ctx->failed),
		 "no OpenRC rc-depend in the image (looked in /usr/libexec/rc, "
		 "/usr/lib/rc, /lib/rc)");
	return NULL;
}

/* OpenRC's init.sh copies RC_LIBEXECDIR/cache/ into /run/openrc at sysinit
 * (when cache/softlevel exists; savecache is what fills it on a disk
 * system), keeping each file's mode.  The cache stays valid as long as no
 * file under /etc/init.d, /etc/conf.d or /etc/rc.conf is newer than it:
 * stage 5 gives every file of the root the same time, and nothing at boot
 * writes there.
 *
 * OpenRC 0.45 (Debian 12's) recomputes the cache at every sysinit even
 * when it is valid (its do_sysinit loads it with force; later releases
 * load it unless a file is newer), unless it may not write it: then it
 * loads it as it is.  So the deptree is kept read-only (0444) and the
 * inittab runs `openrc sysinit` without CAP_DAC_OVERRIDE (the overlay's
 * /etc/inittab): root cannot open it for writing there, and sysinit uses
 * the build's cache.  The later runlevels, with every capability, check
 * the mtimes as usual and recompute it when a file is newer. */
static int openrc_deptree_cache(struct ib_stage_ctx *ctx, const char *root)
{
	static const char *const cached[] = { "deptree", "depconfig" };
	char cache[64], from[64], to[PATH_MAX], rel[PATH_MAX];
	const char *found;
	size_t i;
	int err;

	found = openrc_libexec_find(ctx);
	if (!found)
		return -IB_EINPUT;
	snprintf(rel, sizeof(rel), "/%s/bin/rc-depend", found);
	{
		char *argv[] = { rel, "--update", NULL };
		struct ib_run_opts o = { .chroot = root };

		err = run_cmd(ctx, &o, argv);
	}
	/* the build's /run/openrc is not the machine's: only the cache stays */
	snprintf(cache, sizeof(cache), "%s/cache", found);
	if (!err)
		err = fs_root_rm_rf(ctx->root_fd, cache);
	if (!err)
		err = fs_root_mkdir_p(ctx->root_fd, cache, 0755);
	for (i = 0; !err && i < ARRAY_LEN(cached); i++) {
		char *data;
		size_t len;

		snprintf(from, sizeof(from), "run/openrc/%s", cached[i]);
		snprintf(to, sizeof(to), "%s/%s", cache, cached[i]);
		err = fs_root_read(ctx->root_fd, from, &data, &len);
		if (err == -ENOENT) {
			err = 0;
			if (i == 0) {
				snprintf(ctx->failed, sizeof(ctx->failed),
					 "rc-depend --update wrote no /run/openrc/deptree");
				err = -IB_ECOMMAND;
			}
			continue;	/* depconfig: only when a service names one */
		}
		if (err < 0)
			break;
		err = fs_root_write(ctx->root_fd, to, data, len, i == 0 ? 0444 : 0644);
		free(data);
	}
	/* init.sh restores the cache only when this one is there; it then
	 * writes the real softlevel itself */
	snprintf(to, sizeof(to), "%s/softlevel", cache);
	if (!err)
		err = fs_root_write(ctx->root_fd, to, "sysinit\n", 8, 0644);
	if (!err)
		err = fs_root_rm_rf(ctx->root_fd, "run/openrc");
	return err;
}

/* OpenRC's rc-cgroup.sh, which openrc-run.sh sources for every service
 * action when it exists: its functions find out, with three to five
 * programs each time (grep of /proc/1/mountinfo and /proc/filesystems in
 * subshells, mountinfo), that no cgroup filesystem is mounted, which on
 * this image is always so (nothing mounts one; the `cgroups` service is in
 * no runlevel).  Without the file openrc-run.sh skips them all. */
static int openrc_cgroup_helpers_remove(struct ib_stage_ctx *ctx)
{
	const char *libexec = openrc_libexec_find(ctx);
	char rel[PATH_MAX];
	int err;

	if (!libexec)
		return -IB_EINPUT;
	snprintf(rel, sizeof(rel), "%s/sh/rc-cgroup.sh", libexec);
	err = fs_root_unlink(ctx->root_fd, rel);
	return err == -ENOENT ? 0 : err;
}

/* ifupdown's own hooks for what the image lacks: `ifup -a` (networking,
 * on the way to every default-runlevel service) runs if-up.d once per
 * interface and address family, three times a boot, and each hook is a
 * shell started to find out there is nothing to do.  mountnfs mounts the
 * _netdev NFS entries of /etc/fstab, with a mount.nfs the image does not
 * have; resolved hands DNS to systemd-resolved through systemctl, which
 * it does not have either.  Removed only when what they serve is absent
 * (an --overlay that brings it keeps them); chrony's hook stays. */
static const struct {
	const char *hook;
	const char *needs[2];	/* the hook does something when one exists */
} openrc_ifupdown_idle_hooks[] = {
	{ "etc/network/if-up.d/mountnfs", { "sbin/mount.nfs", "usr/sbin/mount.nfs" } },
	{ "etc/network/if-up.d/resolved", { "bin/systemctl", "usr/bin/systemctl" } },
	{ "etc/network/if-down.d/resolved", { "bin/systemctl", "usr/bin/systemctl" } },
};

static int openrc_ifupdown_hooks_remove(int root_fd)
{
	size_t i, j;
	int err = 0;

	for (i = 0; !err && i < ARRAY_LEN(openrc_ifupdown_idle_hooks); i++) {
		bool needed = false;
		struct stat st;

		for (j = 0; j < ARRAY_LEN(openrc_ifupdown_idle_hooks[i].needs); j++)
			if (fs_root_stat(root_fd, openrc_ifupdown_idle_hooks[i].needs[j], &st,
					 true) == 0)
				needed = true;
		if (needed)
			continue;
		err = fs_root_unlink(root_fd, openrc_ifupdown_idle_hooks[i].hook);
		if (err == -ENOENT)
			err = 0;
	}
	return err;
}

int openrc_boot_install(struct ib_stage_ctx *ctx, const char *root)
{
	int err;

	err = openrc_boot_enable(ctx->root_fd);
	if (!err)
		err = openrc_ifupdown_hooks_remove(ctx->root_fd);
	if (!err)
		err = openrc_runlevels_check(ctx, ctx->root_fd);
	if (!err)
		err = openrc_sysvinit_remove(ctx->root_fd);
	if (!err)
		err = openrc_cgroup_helpers_remove(ctx);
	if (!err)
		err = openrc_deptree_cache(ctx, root);
	return err;
}
