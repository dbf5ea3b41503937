/* SPDX-License-Identifier: MIT */
/* Stage 1, Bootstrap: a minimal root filesystem from the base. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ib.h"

static int stage_list_path(const struct ib_config *cfg, const char *list,
			   char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/image-build/profiles/%s/%s",
			 cfg->srcdir, cfg->base, list);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int stage_bootstrap_key(const struct ib_config *cfg, struct sha256 *h)
{
	char path[PATH_MAX];
	int err;

	sha256_update_str(h, cfg->base);
	sha256_update_str(h, cfg->arch);
	sha256_update_str(h, cfg->suite);
	if (cfg->lock) {
		/* the lock fixes every package and its bytes: the mirror (or
		 * none, --offline) does not matter */
		sha256_update_str(h, "lock");
		sha256_update_str(h, cfg->lock->digest);
	} else {
		sha256_update_str(h, cfg->mirror);
		sha256_update_str(h, cfg->security_mirror);
	}
	/* Not SOURCE_DATE_EPOCH: it only sets file times here, and stage 5
	 * sets every time again; a new commit need not bootstrap anew.
	 * Dates inside files (shadow) are set by stage 3, which is keyed. */
	err = stage_list_path(cfg, "bootstrap.list", path, sizeof(path));
	return err < 0 ? err : fs_file_hash(path, h);
}

int stage_bootstrap_run(struct ib_stage_ctx *ctx)
{
	const struct ib_base *base = base_find(ctx->cfg->base);
	char path[PATH_MAX], root[PATH_MAX];
	char **pkgs;
	size_t n;
	int err;

	if (!base)
		return -IB_EINPUT;
	err = run_tools_check(base->tools, base->n_tools);
	if (err < 0)
		return err;
	err = stage_list_path(ctx->cfg, "bootstrap.list", path, sizeof(path));
	if (!err)
		err = IB_PATH(root, ctx->out, IB_ROOTFS);
	if (!err)
		err = fs_list_read(path, &pkgs, &n);
	if (err < 0)
		return err;
	err = base->bootstrap(ctx, root, pkgs, n);
	fs_list_free(pkgs, n);
	return err;
}
