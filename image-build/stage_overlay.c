/* SPDX-License-Identifier: MIT */
/*
 * Stage 4, Overlay: image-build/overlay/ then each --overlay DIR, copied
 * over the root with deterministic owners and modes: everything root:root,
 * directories and executables 0755, other files 0644, whatever the modes
 * and owners were in the checkout (git keeps only the x bit anyway).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ib.h"

/* BusyBox init's own commands, when no package brought them. */
static const char *const overlay_init_commands[] = {
	"usr/sbin/poweroff", "usr/sbin/reboot", "usr/sbin/halt",
};

/* Where the initramfs moves the live medium, the squashfs and the tmpfs. */
static const char *const overlay_live_dirs[] = {
	"live", "live/medium", "live/ro", "live/rw",
};

static int overlay_dir_path(const struct ib_config *cfg, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/image-build/overlay", cfg->srcdir);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Where the build puts the log collector's settings; /etc/init.d/rsyslog
 * (the overlay's) turns them into rsyslog's forwarding action at boot. */
#define OVERLAY_SYSLOG_CA "etc/jefe/syslog-ca.pem"
#define OVERLAY_SYSLOG_REMOTE "etc/jefe/syslog-remote"

int overlay_syslog_remote_check(const char *s)
{
	const char *colon = strrchr(s, ':');
	const char *p;
	char *end;
	long port;

	if (!colon || colon == s || colon - s > 253)
		return -IB_EINPUT;
	/* a name or an address; the boot script accepts the same set */
	for (p = s; p < colon; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789.-", *p))
			return -IB_EINPUT;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
		return -IB_EINPUT;
	return 0;
}

int overlay_syslog_ca_check(const char *file)
{
	char *pem;
	int err;

	err = fs_read_file(file, &pem, NULL);
	if (err < 0) {
		fprintf(stderr, "jefe-image-build: --syslog-ca %s: %s\n", file,
			strerror(-err));
		return err;
	}
	if (!strstr(pem, "-----BEGIN CERTIFICATE-----")) {
		fprintf(stderr, "jefe-image-build: --syslog-ca %s: no PEM certificate "
			"(-----BEGIN CERTIFICATE-----) in it\n", file);
		err = -IB_EINPUT;
	}
	free(pem);
	return err;
}

static int overlay_syslog_key(const struct ib_config *cfg, struct sha256 *h)
{
	int err = 0;

	sha256_update_str(h, "syslog-remote");
	sha256_update_str(h, cfg->syslog_remote ? cfg->syslog_remote : "");
	sha256_update_str(h, "syslog-ca");
	if (cfg->syslog_ca)
		err = fs_file_hash(cfg->syslog_ca, h);
	if (err < 0)
		fprintf(stderr, "jefe-image-build: --syslog-ca %s: %s\n",
			cfg->syslog_ca, strerror(-err));
	return err;
}

/* The CA and the build-time collector, when given; without them the
 * image logs locally only (unless a CA is there and jefe.syslog= names
 * a collector at boot). */
static int overlay_syslog_write(const struct ib_config *cfg, int root_fd)
{
	char line[300];
	int err, n;

	if (!cfg->syslog_ca)
		return 0;
	err = overlay_syslog_ca_check(cfg->syslog_ca);
	if (!err)
		err = fs_root_mkdir_p(root_fd, "etc/jefe", 0755);
	if (!err)
		err = fs_root_copy_file(root_fd, cfg->syslog_ca, OVERLAY_SYSLOG_CA, 0644);
	if (err < 0 || !cfg->syslog_remote)
		return err;
	n = snprintf(line, sizeof(line), "%s\n", cfg->syslog_remote);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -IB_EINPUT;
	return fs_root_write(root_fd, OVERLAY_SYSLOG_REMOTE, line, (size_t)n, 0644);
}

int stage_overlay_key(const struct ib_config *cfg, struct sha256 *h)
{
	char path[PATH_MAX];
	size_t i;
	int err;

	err = overlay_dir_path(cfg, path, sizeof(path));
	if (!err)
		err = fs_tree_hash(path, h);
	for (i = 0; !err && i < cfg->n_overlays; i++) {
		sha256_update_str(h, "overlay");
		err = fs_tree_hash(cfg->overlays[i], h);
		if (err < 0)
			fprintf(stderr, "jefe-image-build: --overlay %s: %s\n",
				cfg->overlays[i], strerror(-err));
	}
	if (!err)
		err = overlay_syslog_key(cfg, h);
	return err;
}

/*
 * sshd's configuration hardened in the image, by the agent itself on the
 * image's root (its own jefe and sshd, in a chroot) once the overlay's
 * policy is in place: `jefe --direct enforce --layer sshd`.  Booted, the
 * daemon's first pass then checks sshd (one `sshd -T`) and finds nothing
 * to repair, where it used to write the drop-in at every boot with four
 * runs of sshd (check, `sshd -t` and `sshd -T` of the candidate, check
 * again), about a second each under emulation and on the way to ssh's
 * start; and no sshd ever runs, even for a moment, on Debian's defaults.
 * The layer validates with `sshd -t`, which wants a host key and
 * /run/sshd: a throwaway ed25519 key is made for it where none exists
 * and removed with /run/sshd and the agent's cache (keyed by this root's
 * inodes, not the booted system's) once done; the image still carries
 * no host key.  A policy the agent refuses here (no --authorized-keys:
 * the lockout check) leaves the files as they were and the boot's pass
 * reports it, as before; the stage log has why.
 */
static int overlay_sshd_harden(struct ib_stage_ctx *ctx, const char *root)
{
	static const char script[] =
		"[ -x /usr/sbin/sshd ] && [ -x /usr/sbin/jefe ] || exit 0\n"
		"key=/etc/ssh/ssh_host_ed25519_key\n"
		"made_key= made_run=\n"
		"cleanup() {\n"
		"	[ -z \"$made_key\" ] || rm -f \"$key\" \"$key.pub\"\n"
		"	[ -z \"$made_run\" ] || rmdir /run/sshd\n"
		"	rm -f /var/lib/jefe/sshd.cache\n"
		"	rmdir /var/lib/jefe 2>/dev/null || :\n"
		"}\n"
		"trap cleanup EXIT\n"
		"if [ ! -e \"$key\" ]; then\n"
		"	ssh-keygen -q -t ed25519 -N '' -C jefe-image-build -f \"$key\" || exit 1\n"
		"	made_key=1\n"
		"fi\n"
		"if [ ! -d /run/sshd ]; then\n"
		"	mkdir -m 0755 /run/sshd || exit 1\n"
		"	made_run=1\n"
		"fi\n"
		"rc=0\n"
		"/usr/sbin/jefe --direct enforce --layer sshd || rc=$?\n"
		"[ \"$rc\" -eq 0 ] ||\n"
		"	echo \"jefe-image-build: the agent left sshd as the packages ship it (enforce exited $rc, above); the first boot's pass reports it\"\n"
		"exit 0\n";
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	struct ib_run_opts o = { .chroot = root };

	return run_cmd(ctx, &o, argv);
}

int stage_overlay_run(struct ib_stage_ctx *ctx)
{
	static const struct ib_tool tools[] = { { "cp", "coreutils" } };
	char root[PATH_MAX], prev[PATH_MAX], path[PATH_MAX];
	char from[PATH_MAX], to[PATH_MAX];
	size_t i;
	int err;

	err = run_tools_check(tools, ARRAY_LEN(tools));
	if (!err)
		err = IB_PATH(root, ctx->out, IB_ROOTFS);
	if (!err)
		err = IB_PATH(prev, ctx->prev, IB_ROOTFS);
	if (!err)
		err = fs_copy_tree(ctx, prev, root);
	if (!err)
		err = IB_PATH(from, ctx->prev, IB_PACKAGES);
	if (!err)
		err = IB_PATH(to, ctx->out, IB_PACKAGES);
	if (!err)
		err = fs_copy_file(from, to, 0644);
	if (err < 0)
		return err;
	err = ctx->root_fd = fs_root_open(root);
	if (err < 0)
		return err;
	err = overlay_dir_path(ctx->cfg, path, sizeof(path));
	if (!err)
		err = fs_root_copy_tree(ctx->root_fd, path, "", 0, 0);
	for (i = 0; !err && i < ctx->cfg->n_overlays; i++)
		err = fs_root_copy_tree(ctx->root_fd, ctx->cfg->overlays[i], "", 0, 0);
	if (!err)
		err = overlay_syslog_write(ctx->cfg, ctx->root_fd);
	for (i = 0; !err && i < ARRAY_LEN(overlay_live_dirs); i++)
		err = fs_root_mkdir_p(ctx->root_fd, overlay_live_dirs[i], 0755);
	/* BusyBox is init (its inittab runs OpenRC), unless an overlay
	 * brought another; made here, not kept as a symlink in the tree,
	 * which `make dist` did not carry. */
	if (!err) {
		struct stat st;

		err = fs_root_stat(ctx->root_fd, "usr/sbin/init", &st, false);
		if (err == -ENOENT)
			err = fs_root_symlink(ctx->root_fd, "/bin/busybox", "usr/sbin/init");
	}
	/* and BusyBox's poweroff, reboot and halt signal that init: an
	 * installed system (jefe-install) is rebooted by its admin */
	for (i = 0; !err && i < ARRAY_LEN(overlay_init_commands); i++) {
		struct stat st;

		err = fs_root_stat(ctx->root_fd, overlay_init_commands[i], &st, false);
		if (err == -ENOENT)
			err = fs_root_symlink(ctx->root_fd, "/bin/busybox", overlay_init_commands[i]);
	}
	if (!err)
		err = overlay_sshd_harden(ctx, root);
	/* last: the boot's services, and OpenRC's dependency cache of every
	 * script the packages and the overlays brought (openrc.c) */
	if (!err)
		err = openrc_boot_install(ctx, root);
	return err;
}
