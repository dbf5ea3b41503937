/* SPDX-License-Identifier: MIT */
/*
 * Stage 2, Packages: the profile's packages, the manifest, then everything
 * an immutable appliance does not need: the package manager, documentation,
 * logs and caches of the build, machine identities (host keys, machine-id)
 * that must be created on each machine, and kernel drivers for hardware a
 * server does not have (sound, GPUs, wireless, cameras).
 */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ib.h"

/* Paths (globs) below the root removed whatever the base. */
static const char *const packages_junk[] = {
	"usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale",
	"usr/share/lintian", "usr/share/bug", "usr/share/gtk-doc",
	"var/cache/*", "var/lib/systemd",
	"boot/initrd*", "initrd.img", "initrd.img.old", "vmlinuz.old",
	"etc/ssh/ssh_host_*", "etc/machine-id", "var/lib/dbus/machine-id",
	"etc/*-", "etc/.pwd.lock", "etc/resolv.conf", "etc/hostname",
	"etc/dropbear/dropbear_*", "root/.bash_history",
	"tmp/*", "var/tmp/*", "run/*",
	/* perl's full library (linux-base pulls it in); perl-base stays */
	"usr/share/perl", "usr/lib/*/perl", "usr/lib/*/libperl.so*",
	"usr/bin/perl5*", "usr/lib/*/gconv",
	NULL,
};

/* Below lib/modules/VERSION/kernel: drivers no server needs. */
static const char *const packages_module_junk[] = {
	"sound", "drivers/gpu", "drivers/media", "drivers/net/wireless",
	"drivers/infiniband", "drivers/staging", "drivers/isdn",
	"drivers/bluetooth", "net/bluetooth", "net/wireless", "net/mac80211",
	"drivers/iio", "drivers/input/joystick", "drivers/input/touchscreen",
	"drivers/input/tablet", "drivers/nfc", "net/nfc", "drivers/atm", "net/atm",
	"drivers/mtd", "drivers/usb/gadget", "drivers/net/can", "net/can",
	"drivers/net/ieee802154", "net/ieee802154", "drivers/w1",
	"drivers/comedi", "drivers/hid/intel-ish-hid", "drivers/misc/cardreader",
	"drivers/mmc", "drivers/memstick", "drivers/leds", "drivers/platform/chrome",
	"drivers/net/wwan", "drivers/net/usb", "drivers/video/backlight",
	"drivers/accessibility", "drivers/fpga", "drivers/pcmcia",
	"fs/ocfs2", "fs/gfs2", "fs/dlm", "fs/ceph", "fs/coda", "fs/orangefs",
	"fs/ubifs", "fs/jffs2", "fs/nilfs2", "fs/reiserfs", "fs/hfs", "fs/hfsplus",
	"fs/affs", "fs/befs", "fs/ufs", "fs/omfs", "fs/qnx4", "fs/qnx6",
	"fs/romfs", "fs/sysv", "fs/minix", "fs/jfs", "fs/erofs", "fs/zonefs",
	NULL,
};

int stage_packages_key(const struct ib_config *cfg, struct sha256 *h)
{
	char path[PATH_MAX];
	int n;

	n = snprintf(path, sizeof(path), "%s/image-build/profiles/%s/packages.list",
		     cfg->srcdir, cfg->base);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	return fs_file_hash(path, h);
}

int packages_glob_remove(int root_fd, const char *root, const char *dir,
			 const char *const *globs)
{
	char pattern[PATH_MAX];
	size_t root_len = strlen(root);
	size_t i, j;
	int err = 0;

	for (i = 0; !err && globs[i]; i++) {
		glob_t g;
		int r;

		err = IB_PATH(pattern, dir, globs[i]);
		if (err < 0)
			break;
		r = glob(pattern, GLOB_NOSORT | GLOB_PERIOD, NULL, &g);
		if (r == GLOB_NOMATCH)
			continue;
		if (r != 0)
			return -ENOMEM;
		for (j = 0; !err && j < g.gl_pathc; j++) {
			const char *base = strrchr(g.gl_pathv[j], '/');

			/* GLOB_PERIOD matches "." and ".." too: never those */
			base = base ? base + 1 : g.gl_pathv[j];
			/* glob(3) walks host paths; the removal itself is
			 * resolved inside the root, so an image symlink met on
			 * the way can never make it remove a host file */
			if (strcmp(base, ".") && strcmp(base, "..") &&
			    !strncmp(g.gl_pathv[j], root, root_len))
				err = fs_root_rm_rf(root_fd, g.gl_pathv[j] + root_len);
		}
		globfree(&g);
	}
	return err;
}

/* The one kernel of the root: its version is lib/modules' only directory. */
int packages_kernel_version(int root_fd, char *out, size_t size)
{
	struct dirent *de;
	DIR *d;
	int found = 0, err;

	err = fs_root_opendir(root_fd, "lib/modules", &d);
	if (err < 0)
		return err;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(out, size, "%s", de->d_name);
		found++;
	}
	closedir(d);
	if (found != 1) {
		fprintf(stderr, "jefe-image-build: image /lib/modules: expected one kernel, "
			"found %d\n", found);
		return -IB_EINPUT;
	}
	return 0;
}

/* The build's logs go, their directories stay: auditd and syslogd
 * write into them and do not create them. */
static int packages_logs_clear(struct ib_stage_ctx *ctx, const char *root)
{
	char logs[PATH_MAX];
	char *argv[] = { "find", logs, "-xdev", "!", "-type", "d", "-delete", NULL };
	int err = IB_PATH(logs, root, "var/log");

	return err < 0 ? err : run_cmd(ctx, NULL, argv);
}

static int packages_modules_prune(struct ib_stage_ctx *ctx, const char *root)
{
	char kver[256], kdir[PATH_MAX];
	char *depmod[] = { "depmod", "-a", kver, NULL };
	struct ib_run_opts o = { .chroot = root };
	int err, n;

	err = packages_kernel_version(ctx->root_fd, kver, sizeof(kver));
	if (err < 0)
		return err;
	n = snprintf(kdir, sizeof(kdir), "%s/lib/modules/%s/kernel", root, kver);
	if (n < 0 || (size_t)n >= sizeof(kdir))
		return -ENAMETOOLONG;
	err = packages_glob_remove(ctx->root_fd, root, kdir, packages_module_junk);
	if (err < 0)
		return err;
	/* The pruned tree needs its own index, by the image's own kmod. */
	return run_cmd(ctx, &o, depmod);
}

int stage_packages_run(struct ib_stage_ctx *ctx)
{
	static const struct ib_tool tools[] = {
		{ "cp", "coreutils" },
		{ "find", "findutils" },
	};
	const struct ib_base *base = base_find(ctx->cfg->base);
	char list[PATH_MAX], root[PATH_MAX], prev_root[PATH_MAX], manifest[PATH_MAX];
	struct ib_inventory inv = { 0 };
	char **pkgs;
	size_t n;
	int err;

	if (!base)
		return -IB_EINPUT;
	err = run_tools_check(tools, ARRAY_LEN(tools));
	if (err < 0)
		return err;
	snprintf(list, sizeof(list), "%s/image-build/profiles/%s/packages.list",
		 ctx->cfg->srcdir, ctx->cfg->base);
	err = IB_PATH(root, ctx->out, IB_ROOTFS);
	if (!err)
		err = IB_PATH(prev_root, ctx->prev, IB_ROOTFS);
	if (!err)
		err = IB_PATH(manifest, ctx->out, IB_PACKAGES);
	if (!err)
		err = fs_list_read(list, &pkgs, &n);
	if (err < 0)
		return err;
	err = fs_copy_tree(ctx, prev_root, root);
	if (!err)
		err = ctx->root_fd = fs_root_open(root);
	if (err >= 0)
		err = base->install(ctx, root, pkgs, n);
	fs_list_free(pkgs, n);
	/* What was installed (for the lock) is known before the removals,
	 * what the image holds (manifest, SBOM) only after them. */
	if (!err && base->inventory)
		err = base->inventory(ctx, root, &inv);
	else if (!err)
		err = base->manifest(ctx, root, manifest);
	if (!err)
		err = packages_glob_remove(ctx->root_fd, root, root, base->pm_paths);
	if (!err)
		err = packages_glob_remove(ctx->root_fd, root, root, packages_junk);
	if (!err)
		err = packages_logs_clear(ctx, root);
	if (!err)
		err = packages_modules_prune(ctx, root);
	if (!err && base->inventory) {
		inventory_settle(&inv, root);
		err = inventory_write(&inv, ctx->out);
	}
	inventory_free(&inv);
	return err;
}
