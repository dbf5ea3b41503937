/* SPDX-License-Identifier: MIT */
/*
 * The package lock: the exact package set of an image, one line a package
 * (name version arch sha256-of-the-.deb) after a header of "key value"
 * lines.  pipeline.c writes it after every build; --lock reads it back,
 * and the locked build installs from a flat repository holding exactly
 * those .debs, each checked against its hash before anything is
 * installed, so the mirror cannot slip in another version or other bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ib.h"

/* Header keys a lock may carry; only base, suite and arch are checked,
 * the others say what else went into the image. */
static const char *const lock_header_keys[] = {
	"format", "base", "suite", "arch", "mirror", "security-mirror",
	"kernel-cmdline", "overlay-sha256", "agent-revision", "source-date-epoch",
};

void lock_free(struct ib_lock *lock)
{
	size_t i;

	for (i = 0; i < lock->n; i++) {
		free(lock->pkgs[i].name);
		free(lock->pkgs[i].version);
		free(lock->pkgs[i].arch);
	}
	free(lock->pkgs);
	free(lock->base);
	free(lock->suite);
	free(lock->arch);
	memset(lock, 0, sizeof(*lock));
}

static bool lock_is_sha256(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return false;
	return i == 2 * SHA256_LEN;
}

static int lock_header_set(struct ib_lock *lock, const char *key, const char *value)
{
	char **field = !strcmp(key, "base") ? &lock->base :
		       !strcmp(key, "suite") ? &lock->suite :
		       !strcmp(key, "arch") ? &lock->arch : NULL;

	if (!field)
		return 0;
	free(*field);
	*field = strdup(value);
	return *field ? 0 : -ENOMEM;
}

static int lock_line_parse(struct ib_lock *lock, const char *path, int lineno,
			   char *line, size_t *cap)
{
	char *f[5], *save = NULL, *value;
	struct ib_lock_pkg *p;
	size_t i, nf = 0;

	for (i = 0; i < ARRAY_LEN(lock_header_keys); i++) {
		size_t len = strlen(lock_header_keys[i]);

		if (!strncmp(line, lock_header_keys[i], len) &&
		    (line[len] == ' ' || line[len] == '\t')) {
			value = line + len + strspn(line + len, " \t");
			return lock_header_set(lock, lock_header_keys[i], value);
		}
	}
	for (value = strtok_r(line, " \t", &save); value && nf < ARRAY_LEN(f);
	     value = strtok_r(NULL, " \t", &save))
		f[nf++] = value;
	if (nf != 4) {
		fprintf(stderr, "jefe-image-build: %s line %d: expected "
			"'name version arch sha256' or a header key\n", path, lineno);
		return -IB_EINPUT;
	}
	if (!lock_is_sha256(f[3])) {
		fprintf(stderr, "jefe-image-build: %s line %d: package %s: '%s' is not "
			"a SHA-256 (64 lower-case hex digits)\n", path, lineno, f[0], f[3]);
		return -IB_EINPUT;
	}
	if (lock_find(lock, f[0], f[2])) {
		fprintf(stderr, "jefe-image-build: %s line %d: package %s:%s twice\n",
			path, lineno, f[0], f[2]);
		return -IB_EINPUT;
	}
	if (lock->n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 256;

		p = realloc(lock->pkgs, ncap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		lock->pkgs = p;
		*cap = ncap;
	}
	p = &lock->pkgs[lock->n];
	p->name = strdup(f[0]);
	p->version = strdup(f[1]);
	p->arch = strdup(f[2]);
	snprintf(p->sha256, sizeof(p->sha256), "%s", f[3]);
	lock->n++;
	if (!p->name || !p->version || !p->arch)
		return -ENOMEM;
	return 0;
}

int lock_read(const char *path, struct ib_lock *lock)
{
	char *data, *line, *next;
	uint8_t md[SHA256_LEN];
	struct sha256 h;
	size_t cap = 0, i;
	int err, lineno = 0;

	memset(lock, 0, sizeof(*lock));
	err = fs_read_file(path, &data, NULL);
	if (err < 0) {
		fprintf(stderr, "jefe-image-build: --lock %s: %s\n", path, strerror(-err));
		return err;
	}
	for (line = data; !err && line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		line += strspn(line, " \t");
		if (*line == '#' || !*line)
			continue;
		err = lock_line_parse(lock, path, lineno, line, &cap);
	}
	free(data);
	if (!err && !lock->n) {
		fprintf(stderr, "jefe-image-build: %s: no packages\n", path);
		err = -IB_EINPUT;
	}
	if (!err && (!lock->base || !lock->suite || !lock->arch)) {
		fprintf(stderr, "jefe-image-build: %s: the header needs base, suite "
			"and arch\n", path);
		err = -IB_EINPUT;
	}
	if (err < 0) {
		lock_free(lock);
		return err;
	}
	/* The key of the package set: the package lines, in file order. */
	sha256_init(&h);
	for (i = 0; i < lock->n; i++) {
		sha256_update_str(&h, lock->pkgs[i].name);
		sha256_update_str(&h, lock->pkgs[i].version);
		sha256_update_str(&h, lock->pkgs[i].arch);
		sha256_update_str(&h, lock->pkgs[i].sha256);
	}
	sha256_final(&h, md);
	sha256_hex(md, lock->digest);
	return 0;
}

const struct ib_lock_pkg *lock_find(const struct ib_lock *lock, const char *name,
				    const char *arch)
{
	size_t i;

	for (i = 0; i < lock->n; i++)
		if (!strcmp(lock->pkgs[i].name, name) && !strcmp(lock->pkgs[i].arch, arch))
			return &lock->pkgs[i];
	return NULL;
}

int lock_deb_name(const char *name, const char *version, const char *arch,
		  char *buf, size_t size)
{
	const char *colon = strchr(version, ':');
	int n;

	/* apt stores "1:2.3" as "1%3a2.3" in a file name */
	if (colon)
		n = snprintf(buf, size, "%s_%.*s%%3a%s_%s.deb", name, (int)(colon - version),
			     version, colon + 1, arch);
	else
		n = snprintf(buf, size, "%s_%s_%s.deb", name, version, arch);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int lock_cache_dir(const struct ib_config *cfg, char *buf, size_t size)
{
	if (cfg->package_cache) {
		if (snprintf(buf, size, "%s", cfg->package_cache) >= (int)size)
			return -ENAMETOOLONG;
		return 0;
	}
	return fs_path_join(buf, size, cfg->workdir, "packages");
}

int lock_repo_dir(const struct ib_config *cfg, char *buf, size_t size)
{
	char rel[PATH_MAX];
	int err = IB_PATH(rel, cfg->workdir, "lock-repo");

	if (err < 0)
		return err;
	err = fs_mkdir_p(rel, 0755);
	if (err < 0)
		return err;
	/* absolute: it becomes a file: URI (realpath writes up to PATH_MAX) */
	if (size < PATH_MAX)
		return -ENAMETOOLONG;
	return realpath(rel, buf) ? 0 : -errno;
}

/*
 * apt-get download with a private state directory (lists, cache, an empty
 * dpkg status) against the build's mirrors: the host's apt is used only as
 * a downloader, its own configuration and state are never touched.
 * The host's keyring checks the archive's signature as for mmdebstrap.
 */
static int lock_download(struct ib_stage_ctx *ctx, const char *cache,
			 char **wanted, size_t n)
{
	const struct ib_config *cfg = ctx->cfg;
	char dir[PATH_MAX], path[PATH_MAX + 32], text[2048];
	char o_src[2 * PATH_MAX], o_parts[2 * PATH_MAX], o_state[2 * PATH_MAX];
	char o_cache[2 * PATH_MAX], o_prefs[2 * PATH_MAX], o_pparts[2 * PATH_MAX];
	char o_status[2 * PATH_MAX];
	char *common[] = {
		"-q", "-o", o_src, "-o", o_parts, "-o", o_state, "-o", o_cache,
		"-o", o_prefs, "-o", o_pparts, "-o", o_status,
		"-o", "APT::Architecture=amd64", "-o", "APT::Architectures=amd64",
		"-o", "Debug::NoLocking=true",
	};
	static const char *const subdirs[] = {
		"parts", "state/lists/partial", "cache/archives/partial",
	};
	char **argv;
	size_t a = 0, i;
	int len, err;

	err = IB_PATH(dir, cfg->workdir, "apt-download");
	if (!err)
		err = fs_rm_rf(dir);
	for (i = 0; !err && i < ARRAY_LEN(subdirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]);
		err = fs_mkdir_p(path, 0755);
	}
	if (err < 0)
		return err;
	len = snprintf(text, sizeof(text), "deb %s %s main\ndeb %s %s-updates main\n",
		       cfg->mirror, cfg->suite, cfg->mirror, cfg->suite);
	if (len < 0 || (size_t)len >= sizeof(text) / 2)
		return -E2BIG;
	if (cfg->security_mirror && *cfg->security_mirror)
		len += snprintf(text + len, sizeof(text) - (size_t)len,
				"deb %s %s-security main\n", cfg->security_mirror, cfg->suite);
	snprintf(path, sizeof(path), "%s/sources.list", dir);
	err = fs_write_file(path, text, (size_t)len, 0644);
	snprintf(o_src, sizeof(o_src), "Dir::Etc::SourceList=%s", path);
	snprintf(path, sizeof(path), "%s/status", dir);
	if (!err)
		err = fs_write_file(path, "", 0, 0644);
	if (err < 0)
		return err;
	snprintf(o_status, sizeof(o_status), "Dir::State::status=%s", path);
	snprintf(o_parts, sizeof(o_parts), "Dir::Etc::SourceParts=%s/parts", dir);
	snprintf(o_state, sizeof(o_state), "Dir::State=%s/state", dir);
	snprintf(o_cache, sizeof(o_cache), "Dir::Cache=%s/cache", dir);
	snprintf(o_prefs, sizeof(o_prefs), "Dir::Etc::Preferences=%s/none", dir);
	snprintf(o_pparts, sizeof(o_pparts), "Dir::Etc::PreferencesParts=%s/parts", dir);

	argv = calloc(n + ARRAY_LEN(common) + 8, sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	argv[a++] = "apt-get";
	for (i = 0; i < ARRAY_LEN(common); i++)
		argv[a++] = common[i];
	argv[a++] = "update";
	argv[a] = NULL;
	err = run_cmd(ctx, NULL, argv);
	if (!err) {
		/* apt-get download writes into the current directory */
		a = 0;
		argv[a++] = "sh";
		argv[a++] = "-c";
		argv[a++] = "cd \"$1\" && shift && exec apt-get \"$@\"";
		argv[a++] = "sh";
		argv[a++] = (char *)cache;
		for (i = 0; i < ARRAY_LEN(common); i++)
			argv[a++] = common[i];
		argv[a++] = "download";
		for (i = 0; i < n; i++)
			argv[a++] = wanted[i];
		argv[a] = NULL;
		err = run_cmd(ctx, NULL, argv);
	}
	free(argv);
	fs_rm_rf(dir);
	return err;
}

static int lock_fetch_missing(struct ib_stage_ctx *ctx, const char *cache)
{
	const struct ib_config *cfg = ctx->cfg;
	const struct ib_lock *lock = cfg->lock;
	char deb[PATH_MAX], name[512];
	char **wanted;
	size_t i, n = 0;
	int err = 0;

	wanted = calloc(lock->n + 1, sizeof(*wanted));
	if (!wanted)
		return -ENOMEM;
	for (i = 0; !err && i < lock->n; i++) {
		const struct ib_lock_pkg *p = &lock->pkgs[i];

		err = lock_deb_name(p->name, p->version, p->arch, name, sizeof(name));
		if (!err)
			err = IB_PATH(deb, cache, name);
		if (err < 0 || access(deb, R_OK) == 0)
			continue;
		if (cfg->offline) {
			fprintf(stderr, "jefe-image-build: %s: package %s %s %s is not in "
				"the package cache %s (--offline)\n", cfg->lock_path,
				p->name, p->version, p->arch, cache);
			if (!ctx->failed[0])
				snprintf(ctx->failed, sizeof(ctx->failed), "locked package "
					 "%.200s %.200s not in the package cache", p->name,
					 p->version);
			err = -IB_ELOCK;
			continue;
		}
		if (asprintf(&wanted[n], "%s=%s", p->name, p->version) < 0) {
			wanted[n] = NULL;
			err = -ENOMEM;
		} else {
			n++;
		}
	}
	if (!err && n) {
		err = lock_download(ctx, cache, wanted, n);
		if (err == -IB_ECOMMAND)
			snprintf(ctx->failed, sizeof(ctx->failed), "the mirror %.400s could "
				 "not supply every locked package (apt's 'E:' lines below "
				 "name them)", cfg->mirror);
	}
	for (i = 0; i < n; i++)
		free(wanted[i]);
	free(wanted);
	return err;
}

/* Every locked .deb against its hash; all mismatches are named. */
static int lock_verify(struct ib_stage_ctx *ctx, const char *cache)
{
	const struct ib_config *cfg = ctx->cfg;
	const struct ib_lock *lock = cfg->lock;
	char deb[PATH_MAX], name[512], hex[2 * SHA256_LEN + 1];
	uint8_t md[SHA256_LEN];
	size_t i;
	int err = 0;

	for (i = 0; i < lock->n; i++) {
		const struct ib_lock_pkg *p = &lock->pkgs[i];
		struct sha256 h;
		int e;

		e = lock_deb_name(p->name, p->version, p->arch, name, sizeof(name));
		if (!e)
			e = IB_PATH(deb, cache, name);
		sha256_init(&h);
		if (!e)
			e = fs_file_hash(deb, &h);
		if (e < 0) {
			fprintf(stderr, "jefe-image-build: %s: package %s %s: %s: %s\n",
				cfg->lock_path, p->name, p->version, deb, strerror(-e));
			if (!ctx->failed[0])
				snprintf(ctx->failed, sizeof(ctx->failed), "locked package "
					 "%.200s %.200s: no .deb", p->name, p->version);
			err = -IB_ELOCK;
			continue;
		}
		sha256_final(&h, md);
		sha256_hex(md, hex);
		if (strcmp(hex, p->sha256)) {
			fprintf(stderr, "jefe-image-build: %s: package %s %s: %s has SHA-256 "
				"%s, the lock says %s\n", cfg->lock_path, p->name, p->version,
				deb, hex, p->sha256);
			if (!ctx->failed[0])
				snprintf(ctx->failed, sizeof(ctx->failed), "locked package "
					 "%.200s %.200s: SHA-256 differs from the lock",
					 p->name, p->version);
			err = -IB_ELOCK;
		}
	}
	return err;
}

int lock_repo_make(struct ib_stage_ctx *ctx, const char *repo)
{
	static const struct ib_tool tools[] = {
		{ "apt-ftparchive", "apt-utils" },
		{ "apt-get", "apt" },
		{ "unshare", "util-linux" },
	};
	const struct ib_lock *lock = ctx->cfg->lock;
	char cache[PATH_MAX], from[PATH_MAX], to[PATH_MAX], name[512];
	char o_suite[160], o_codename[160];
	/* The Release file names the suite: mmdebstrap takes the essential
	 * set only from an archive whose suite or codename is the one built. */
	char *scan[] = { "sh", "-c", "cd \"$1\" && apt-ftparchive packages . >Packages && "
			 "apt-ftparchive -o \"$2\" -o \"$3\" release . >\"$1.Release\" && "
			 "mv \"$1.Release\" Release",
			 "sh", (char *)repo, o_suite, o_codename, NULL };
	size_t i;
	int err;

	err = run_tools_check(tools, ARRAY_LEN(tools));
	if (!err)
		err = lock_cache_dir(ctx->cfg, cache, sizeof(cache));
	if (!err)
		err = fs_mkdir_p(cache, 0755);
	if (!err)
		err = lock_fetch_missing(ctx, cache);
	if (!err)
		err = lock_verify(ctx, cache);
	if (!err)
		err = fs_rm_rf(repo);
	if (!err)
		err = fs_mkdir_p(repo, 0755);
	for (i = 0; !err && i < lock->n; i++) {
		const struct ib_lock_pkg *p = &lock->pkgs[i];

		err = lock_deb_name(p->name, p->version, p->arch, name, sizeof(name));
		if (!err)
			err = IB_PATH(from, cache, name);
		if (!err)
			err = IB_PATH(to, repo, name);
		if (!err && link(from, to) < 0)
			err = fs_copy_file(from, to, 0644);
	}
	snprintf(o_suite, sizeof(o_suite), "APT::FTPArchive::Release::Suite=%s",
		 ctx->cfg->suite);
	snprintf(o_codename, sizeof(o_codename), "APT::FTPArchive::Release::Codename=%s",
		 ctx->cfg->suite);
	if (!err)
		err = run_cmd(ctx, NULL, scan);
	return err;
}

int lock_write(const struct ib_config *cfg, const struct ib_inventory *inv,
	       const char *path)
{
	char cmdline[1024], overlay[2 * SHA256_LEN + 1];
	uint8_t md[SHA256_LEN];
	struct sha256 h;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f;
	int err;

	/* The verity arguments of own mode are an output (the root's hash),
	 * not an input: the lock holds the line without them. */
	err = stage_iso_cmdline(cfg, "", cmdline, sizeof(cmdline));
	if (err < 0)
		return err;
	/* the same digest stage 4 is keyed by: image-build/overlay and --overlay */
	sha256_init(&h);
	err = stage_overlay_key(cfg, &h);
	if (err < 0)
		return err;
	sha256_final(&h, md);
	sha256_hex(md, overlay);
	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "# JefeLinux package lock: jefe-image-build --lock FILE installs exactly\n"
		"# these packages and checks each .deb against its SHA-256.\n"
		"format 1\n"
		"base %s\n"
		"suite %s\n"
		"arch %s\n"
		"mirror %s\n"
		"security-mirror %s\n"
		"kernel-cmdline %s\n"
		"overlay-sha256 %s\n"
		"agent-revision %s\n"
		"source-date-epoch %lld\n"
		"# name version arch sha256-of-the-.deb\n",
		cfg->base, cfg->suite, cfg->arch, cfg->mirror,
		cfg->security_mirror && *cfg->security_mirror ? cfg->security_mirror : "-",
		cmdline, overlay, cfg->agent_revision, cfg->source_date_epoch);
	for (i = 0; i < inv->n; i++)
		fprintf(f, "%s %s %s %s\n", inv->pkgs[i].name, inv->pkgs[i].version,
			inv->pkgs[i].arch, inv->pkgs[i].sha256);
	fclose(f);
	err = fs_write_file(path, text, len, 0644);
	free(text);
	return err;
}
