/* SPDX-License-Identifier: MIT */
/*
 * The pipeline: five stages in order, each reused from the cache when its
 * key (the previous key + the tool itself + the stage's own inputs) is
 * unchanged, then the outputs (ISO, .sha256, manifest) in the out dir.
 *
 * Cache layout (WORKDIR/cache):
 *   N-<key>/        a finished stage N (renamed into place when complete)
 *   .tmp-N-<pid>/   a stage at work; removed on failure or interrupt, and
 *                   by the next build if we were killed outright
 * Mounts (for chroots) live in private mount namespaces of the child
 * processes, so nothing stays mounted whatever happens to us.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ib.h"
#include "pipeline.h"

const struct ib_stage ib_stage_table[IB_STAGES] = {
	{ "Bootstrap", stage_bootstrap_key, stage_bootstrap_run },
	{ "Packages", stage_packages_key, stage_packages_run },
	{ "Security", stage_security_key, stage_security_run },
	{ "Overlay", stage_overlay_key, stage_overlay_run },
	{ "ISO Creation", stage_iso_key, stage_iso_run },
};

const char *ib_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case IB_ECOMMAND:
		return "a command failed";
	case IB_ENOTOOL:
		return "a host tool is missing";
	case IB_EINPUT:
		return "invalid input";
	case IB_ENOCACHE:
		return "no cached result for an earlier stage";
	case IB_ELOCK:
		return "a locked package is missing or differs from the lock";
	default:
		return strerror(err);
	}
}

static long long pipeline_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "28s", "3m42s" as the design prints them */
void pipeline_duration_format(long long ms, char *out, size_t size)
{
	long long s = (ms + 500) / 1000;

	if (s < 60)
		snprintf(out, size, "%llds", s);
	else
		snprintf(out, size, "%lldm%02llds", s / 60, s % 60);
}

static bool pipeline_interrupted(const sigset_t *sigs)
{
	sigset_t pending;
	int sig;

	if (sigpending(&pending) < 0)
		return false;
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(sigs, sig) && sigismember(&pending, sig))
			return true;
	return false;
}

/* Remove every entry of a stage but keep: the cache stays one build big. */
static int pipeline_cache_prune(const char *cache, int stage, const char *keep)
{
	char prefix[16], path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int err = 0;

	snprintf(prefix, sizeof(prefix), "%d-", stage);
	d = opendir(cache);
	if (!d)
		return -errno;
	while (!err && (de = readdir(d))) {
		bool stale_tmp = !strncmp(de->d_name, ".tmp-", 5) && stage == 0;

		if ((strncmp(de->d_name, prefix, strlen(prefix)) || stage == 0) && !stale_tmp)
			continue;
		if (keep && !strcmp(de->d_name, keep))
			continue;
		err = IB_PATH(path, cache, de->d_name);
		if (!err)
			err = fs_rm_rf(path);
	}
	closedir(d);
	return err;
}

static void pipeline_log_tail(const char *log, int lines)
{
	char *data, *p;
	int seen = 0;

	if (fs_read_file(log, &data, NULL) < 0)
		return;
	for (p = data + strlen(data); p > data; p--)
		if (p[-1] == '\n' && p[0] && ++seen > lines)
			break;
	fprintf(stderr, "--- last lines of %s ---\n%s", log, p);
	if (*p && p[strlen(p) - 1] != '\n')
		fputc('\n', stderr);
	fprintf(stderr, "---\n");
	free(data);
}

/*
 * Stages 3-5 are keyed by what stage 2 produced, its inventory (every
 * package with the SHA-256 of its .deb), not by how: the same packages
 * fetched from another mirror, or offline from a locked cache, give the
 * same keys for the later stages, and so the same ISO bytes (stage 5
 * derives its serials from its key).  Stage 2's rootfs is a function of
 * its packages and of the tool, whose hash is in every key.
 */
static int pipeline_content_key(const struct ib_config *cfg, const char *entry,
				char key[2 * SHA256_LEN + 1])
{
	char path[PATH_MAX];
	uint8_t md[SHA256_LEN];
	struct sha256 h;
	int err;

	err = IB_PATH(path, entry, IB_INVENTORY);
	if (err < 0 || access(path, R_OK) != 0)
		return err;	/* no inventory (alpine): the chained key stays */
	sha256_init(&h);
	sha256_update_str(&h, "packages");
	sha256_update_str(&h, cfg->base);
	sha256_update_str(&h, cfg->arch);
	err = fs_file_hash(path, &h);
	if (err < 0)
		return err;
	sha256_final(&h, md);
	sha256_hex(md, key);
	return 0;
}

/* --package-cache DIR on an unlocked build: DIR must end up with every
 * .deb of the image, so a cached stage 2 whose .debs DIR lacks is
 * rebuilt (stages 1 and 2 are where the .debs are downloaded). */
static bool pipeline_package_cache_complete(const struct ib_config *cfg, const char *entry)
{
	struct ib_inventory inv;
	char path[PATH_MAX], name[600];
	bool complete = true;
	size_t i;

	if (IB_PATH(path, entry, IB_INVENTORY) < 0 || inventory_read(path, &inv) < 0)
		return true;	/* nothing to check against: the stage decides */
	for (i = 0; complete && i < inv.n; i++) {
		const struct ib_pkg *p = &inv.pkgs[i];

		complete = lock_deb_name(p->name, p->version, p->arch, name, sizeof(name)) == 0 &&
			   IB_PATH(path, cfg->package_cache, name) == 0 &&
			   access(path, R_OK) == 0;
	}
	inventory_free(&inv);
	return complete;
}

static int pipeline_stage_key(const struct ib_config *cfg, int i, const char *prev_key,
			      char hex[2 * SHA256_LEN + 1])
{
	uint8_t md[SHA256_LEN];
	struct sha256 h;
	int err;

	sha256_init(&h);
	sha256_update_str(&h, prev_key);
	sha256_update(&h, cfg->self_hash, sizeof(cfg->self_hash));
	sha256_update_str(&h, ib_stage_table[i].name);
	err = ib_stage_table[i].key(cfg, &h);
	if (err < 0)
		return err;
	sha256_final(&h, md);
	sha256_hex(md, hex);
	return 0;
}

static int pipeline_stage_run(const struct ib_config *cfg, int i, const char *cache,
			      const char *logdir, const char *prev, const char *entry,
			      struct ib_stage_ctx *ctx)
{
	char tmp[PATH_MAX], name[64];
	int err;

	snprintf(name, sizeof(name), ".tmp-%d-%ld", i + 1, (long)getpid());
	err = IB_PATH(tmp, cache, name);
	if (!err)
		err = fs_rm_rf(tmp);
	if (!err)
		err = fs_mkdir_p(tmp, 0755);
	if (err < 0)
		return err;
	snprintf(name, sizeof(name), "stage-%d.log", i + 1);
	IB_PATH(ctx->log_path, logdir, name);
	unlink(ctx->log_path);
	ctx->cfg = cfg;
	ctx->index = i + 1;
	ctx->name = ib_stage_table[i].name;
	ctx->prev = prev;
	ctx->out = tmp;
	ctx->failed[0] = '\0';
	ctx->root_fd = -1;
	err = ib_stage_table[i].run(ctx);
	if (ctx->root_fd >= 0)
		close(ctx->root_fd);
	ctx->root_fd = -1;
	if (!err && pipeline_interrupted(ctx->sigs))
		err = -EINTR;
	if (!err) {
		/* replace any older entry with the same key (--no-cache) */
		err = fs_rm_rf(entry);
		if (!err && rename(tmp, entry) < 0)
			err = -errno;
	}
	if (err < 0)
		fs_rm_rf(tmp);
	return err;
}

/* Are a and b two names of one inode? */
static bool pipeline_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* out/NAME.lock and out/NAME.spdx.json from stage 2's inventory */
static int pipeline_lock_sbom(const struct ib_config *cfg, const char *packages_entry,
			      const char *base, const char *iso_hex)
{
	char path[PATH_MAX], agent[2 * SHA256_LEN + 1], builder[2 * SHA256_LEN + 1];
	struct sbom_meta meta = {
		.image_name = base, .iso_sha256 = iso_hex,
		.agent_sha256 = agent, .builder_sha256 = builder,
	};
	struct ib_inventory inv;
	uint8_t md[SHA256_LEN];
	struct sha256 h;
	int err;

	err = IB_PATH(path, packages_entry, IB_INVENTORY);
	if (err < 0)
		return err;
	if (access(path, R_OK) != 0) {
		printf("Note: no package inventory for the %s base: no lock, no SBOM\n",
		       cfg->base);
		return 0;
	}
	err = inventory_read(path, &inv);
	if (err < 0)
		return err;
	sha256_init(&h);
	err = fs_tree_hash(cfg->agent_destdir, &h);
	sha256_final(&h, md);
	sha256_hex(md, agent);
	sha256_hex(cfg->self_hash, builder);
	if (!err && snprintf(path, sizeof(path), "%s/%s.lock", cfg->outdir, base) >=
		    (int)sizeof(path))
		err = -ENAMETOOLONG;
	if (!err)
		err = lock_write(cfg, &inv, path);
	if (!err && snprintf(path, sizeof(path), "%s/%s.spdx.json", cfg->outdir, base) >=
		    (int)sizeof(path))
		err = -ENAMETOOLONG;
	if (!err)
		err = sbom_write(cfg, &inv, &meta, path);
	inventory_free(&inv);
	if (err < 0)
		fprintf(stderr, "jefe-image-build: %s: %s\n", path, ib_strerror(err));
	return err;
}

static int pipeline_outputs(const struct ib_config *cfg, const char *entry,
			    const char *packages_entry, long long start_ms)
{
	char base[256], iso[PATH_MAX - 8], src[PATH_MAX], tmp[PATH_MAX], path[PATH_MAX];
	char hex[2 * SHA256_LEN + 1], total[32], *packages, *text;
	uint8_t md[SHA256_LEN];
	struct sha256 h;
	struct stat st;
	size_t plen;
	int err, n;

	snprintf(base, sizeof(base), "jefelinux-%s-%s", cfg->version, cfg->arch);
	err = fs_mkdir_p(cfg->outdir, 0755);
	if (!err)
		err = IB_PATH(src, entry, IB_ISO);
	if (err < 0)
		return err;
	if (snprintf(iso, sizeof(iso), "%s/%s.iso", cfg->outdir, base) >= (int)sizeof(iso))
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.tmp", iso);
	unlink(tmp);
	/*
	 * A hard link when out/ and the cache share a filesystem.  A rebuild
	 * whose ISO came from the cache finds out/ holding that very inode
	 * already: rename(2) of two links to one file does nothing and would
	 * leave the .tmp name behind, so there is nothing to publish then.
	 */
	if (!pipeline_same_file(src, iso)) {
		if (link(src, tmp) < 0) {
			err = fs_copy_file(src, tmp, 0644);
			if (err < 0) {
				unlink(tmp);
				return err;
			}
		}
		if (rename(tmp, iso) < 0) {
			err = -errno;
			unlink(tmp);
			return err;
		}
	}

	sha256_init(&h);
	err = fs_file_hash(iso, &h);
	if (err < 0)
		return err;
	sha256_final(&h, md);
	sha256_hex(md, hex);
	text = malloc(4096);
	if (!text)
		return -ENOMEM;
	n = snprintf(text, 4096, "%s  %s.iso\n", hex, base);
	snprintf(path, sizeof(path), "%s/%s.iso.sha256", cfg->outdir, base);
	err = fs_write_file(path, text, (size_t)n, 0644);
	free(text);
	if (err < 0)
		return err;

	err = IB_PATH(src, entry, IB_PACKAGES);
	if (!err)
		err = fs_read_file(src, &packages, &plen);
	if (err < 0)
		return err;
	text = malloc(plen + 4096);
	if (!text) {
		free(packages);
		return -ENOMEM;
	}
	n = snprintf(text, 4096,
		     "# JefeLinux %s %s: what is in %s.iso\n"
		     "agent-revision %s\n"
		     "base %s %s\n"
		     "source-date-epoch %lld\n"
		     "iso-sha256 %s\n"
		     "# package version\n",
		     cfg->version, cfg->arch, base, cfg->agent_revision, cfg->base,
		     cfg->suite, cfg->source_date_epoch, hex);
	memcpy(text + n, packages, plen);
	snprintf(path, sizeof(path), "%s/%s.manifest", cfg->outdir, base);
	err = fs_write_file(path, text, (size_t)n + plen, 0644);
	free(text);
	free(packages);
	if (err < 0)
		return err;

	err = pipeline_lock_sbom(cfg, packages_entry, base, hex);
	if (err < 0)
		return err;
	if (stat(iso, &st) < 0)
		return -errno;
	pipeline_duration_format(pipeline_now_ms() - start_ms, total, sizeof(total));
	printf("Total: %s | Output: %s.iso (%lld MB)\n", total, base,
	       ((long long)st.st_size + 512 * 1024) / (1024 * 1024));
	fflush(stdout);
	return 0;
}

int pipeline_run(const struct ib_config *cfg, sigset_t *sigs)
{
	char cache[PATH_MAX], logdir[PATH_MAX], lock[PATH_MAX];
	char entries[IB_STAGES][PATH_MAX];
	char key[2 * SHA256_LEN + 1] = "";
	long long start = pipeline_now_ms();
	bool refill = false;
	int i, err, lockfd;

	err = IB_PATH(cache, cfg->workdir, "cache");
	if (!err)
		err = IB_PATH(logdir, cfg->workdir, "logs");
	if (!err)
		err = IB_PATH(lock, cfg->workdir, "lock");
	if (!err)
		err = fs_mkdir_p(cache, 0755);
	if (!err)
		err = fs_mkdir_p(logdir, 0755);
	if (err < 0)
		return err;
	lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lockfd < 0)
		return -errno;
	if (flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr, "jefe-image-build: another build is using %s\n", cfg->workdir);
		close(lockfd);
		return -EBUSY;
	}
	/* what a build killed outright (-9, power loss) left behind */
	err = pipeline_cache_prune(cache, 0, NULL);
	if (err < 0)
		fprintf(stderr, "jefe-image-build: %s: cannot remove what an earlier "
			"build left: %s\n", cache, ib_strerror(err));

	for (i = 0; !err && i < IB_STAGES; i++) {
		struct ib_stage_ctx ctx = { .sigs = sigs };
		char name[2 * SHA256_LEN + 8], took[32];
		struct stat st;
		long long t0 = pipeline_now_ms();
		bool cached, rebuild;

		if (i == 2)
			err = pipeline_content_key(cfg, entries[1], key);
		if (err < 0)
			break;
		err = pipeline_stage_key(cfg, i, key, ctx.key);
		if (err < 0) {
			fprintf(stderr, "jefe-image-build: stage %d (%s): inputs: %s\n",
				i + 1, ib_stage_table[i].name, ib_strerror(err));
			break;
		}
		snprintf(key, sizeof(key), "%s", ctx.key);
		snprintf(name, sizeof(name), "%d-%.16s", i + 1, key);
		err = IB_PATH(entries[i], cache, name);
		if (err < 0)
			break;
		cached = stat(entries[i], &st) == 0;
		if (i == 0 && cached && cfg->package_cache && !cfg->lock) {
			char k2[2 * SHA256_LEN + 1], name2[32], entry2[PATH_MAX];

			err = pipeline_stage_key(cfg, 1, key, k2);
			snprintf(name2, sizeof(name2), "2-%.16s", k2);
			if (!err)
				err = IB_PATH(entry2, cache, name2);
			if (err < 0)
				break;
			refill = stat(entry2, &st) == 0 &&
				 !pipeline_package_cache_complete(cfg, entry2);
		}
		rebuild = cfg->no_cache || (cfg->from_stage > 0 && i + 1 >= cfg->from_stage) ||
			  (refill && i < 2);
		printf("[Stage %d/%d] %s... ", i + 1, IB_STAGES, ib_stage_table[i].name);
		fflush(stdout);
		if (cached && !rebuild) {
			printf("cached\n");
			fflush(stdout);
			continue;
		}
		if (cfg->from_stage > 0 && i + 1 < cfg->from_stage) {
			printf("FAILED\n");
			fprintf(stderr, "jefe-image-build: --from-stage %d: stage %d (%s) "
				"has no cached result for these inputs\n",
				cfg->from_stage, i + 1, ib_stage_table[i].name);
			err = -IB_ENOCACHE;
			break;
		}
		err = pipeline_stage_run(cfg, i, cache, logdir, i ? entries[i - 1] : NULL,
					 entries[i], &ctx);
		pipeline_duration_format(pipeline_now_ms() - t0, took, sizeof(took));
		if (err == -EINTR) {
			printf("INTERRUPTED (%s)\n", took);
			fflush(stdout);
			break;
		}
		if (err < 0) {
			printf("FAILED (%s)\n", took);
			fflush(stdout);
			fprintf(stderr, "jefe-image-build: stage %d (%s) failed: %s\n",
				i + 1, ib_stage_table[i].name,
				ctx.failed[0] ? ctx.failed : ib_strerror(err));
			pipeline_log_tail(ctx.log_path, 25);
			break;
		}
		printf("OK (%s)\n", took);
		fflush(stdout);
		snprintf(name, sizeof(name), "%d-%.16s", i + 1, key);
		pipeline_cache_prune(cache, i + 1, name);
	}
	if (!err)
		err = pipeline_outputs(cfg, entries[IB_STAGES - 1], entries[1], start);
	close(lockfd);
	return err;
}
