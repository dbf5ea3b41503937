/* SPDX-License-Identifier: MIT */
/*
 * The sshd layer's cache of program answers (sshd_cache.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sha2.h>

#include "sshd_cache.h"
#include "util.h"

struct sshd_cache_dep {
	char *path;
	bool below_root;
	struct cache_fileid id;
};

struct sshd_cache_entry {
	char key[SHA256_DIGEST_STRING_LENGTH];
	struct timespec at;	/* taken before the program ran */
	int status;
	char *out;
	char *err;
	struct sshd_cache_dep *deps;
	size_t n_deps, cap_deps;
};

struct sshd_cache_record {
	struct sshd_cache_entry e;
	int root_fd;
	bool unusable;		/* an identity could not be taken */
};

struct sshd_cache {
	int root_fd;
	bool loaded;		/* the file was looked at */
	bool dirty;		/* an entry was added since */
	struct cache_fileid file_id;	/* the file as last read or written */
	struct sshd_cache_entry *v;
	size_t n, cap;
};

static void entry_free(struct sshd_cache_entry *e)
{
	for (size_t i = 0; i < e->n_deps; i++)
		free(e->deps[i].path);
	free(e->deps);
	free(e->out);
	free(e->err);
	memset(e, 0, sizeof(*e));
}

int sshd_cache_new(struct sshd_cache **out, int root_fd)
{
	struct sshd_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->root_fd = root_fd;
	*out = c;
	return 0;
}

void sshd_cache_free(struct sshd_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		entry_free(&c->v[i]);
	free(c->v);
	free(c);
}

/* SHA-256 over every argument and the input, each closed by a NUL. */
static void cache_key(char *const argv[], const char *input, char key[SHA256_DIGEST_STRING_LENGTH])
{
	SHA2_CTX ctx;

	SHA256Init(&ctx);
	for (size_t i = 0; argv[i]; i++)
		SHA256Update(&ctx, (const uint8_t *)argv[i], strlen(argv[i]) + 1);
	SHA256Update(&ctx, (const uint8_t *)(input ? "<" : "-"), 2);
	if (input)
		SHA256Update(&ctx, (const uint8_t *)input, strlen(input));
	SHA256End(&ctx, key);
}

static int dep_add(struct sshd_cache_entry *e, const char *path, bool below_root,
		   const struct cache_fileid *id)
{
	struct sshd_cache_dep *v;

	for (size_t i = 0; i < e->n_deps; i++)
		if (e->deps[i].below_root == below_root && strcmp(e->deps[i].path, path) == 0)
			return 0;
	v = array_grow(e->deps, e->n_deps, &e->cap_deps, sizeof(*e->deps));
	if (!v)
		return -ENOMEM;
	e->deps = v;
	v[e->n_deps].path = strdup(path);
	if (!v[e->n_deps].path)
		return -ENOMEM;
	v[e->n_deps].below_root = below_root;
	v[e->n_deps].id = *id;
	e->n_deps++;
	return 0;
}

/* ---- the file ---- */

/*
 * Body: per entry a line "E key status at.s at.ns n_deps out_len err_len",
 * n_deps lines "D below_root path_len IDENTITY" each followed by the path,
 * then the output and the error output as blobs (cache.h).
 */
static bool entry_read(struct cache_reader *r, struct sshd_cache_entry *e)
{
	size_t len, n_deps, out_len, err_len;
	const char *w, *out, *err;

	memset(e, 0, sizeof(*e));
	w = cache_read_word(r, &len);
	if (!w || len != 1 || *w != 'E')
		return false;
	w = cache_read_word(r, &len);
	if (!w || len != sizeof(e->key) - 1)
		return false;
	memcpy(e->key, w, len);
	e->key[len] = '\0';
	e->status = (int)cache_read_int(r);
	e->at.tv_sec = (time_t)cache_read_int(r);
	e->at.tv_nsec = (long)cache_read_int(r);
	n_deps = (size_t)cache_read_int(r);
	out_len = (size_t)cache_read_int(r);
	err_len = (size_t)cache_read_int(r);
	if (r->bad || n_deps == 0 || n_deps > 4096 || e->at.tv_nsec < 0 ||
	    e->at.tv_nsec >= 1000000000L)
		return false;	/* an entry that depends on nothing would never expire */
	for (size_t i = 0; i < n_deps; i++) {
		struct cache_fileid id;
		char path[4096];
		const char *p;
		int below;

		w = cache_read_word(r, &len);
		if (!w || len != 1 || *w != 'D')
			goto bad;
		below = (int)cache_read_int(r);
		len = (size_t)cache_read_int(r);
		cache_read_fileid(r, &id);
		p = r->bad || len == 0 || len >= sizeof(path) ? NULL : cache_read_blob(r, len);
		if (!p || (below != 0 && below != 1) || memchr(p, '\0', len))
			goto bad;
		memcpy(path, p, len);
		path[len] = '\0';
		if (dep_add(e, path, below, &id))
			goto bad;
	}
	out = cache_read_blob(r, out_len);
	err = cache_read_blob(r, err_len);
	if (!out || !err)
		goto bad;
	e->out = strndup(out, out_len);
	e->err = strndup(err, err_len);
	if (e->out && e->err)
		return true;
bad:
	entry_free(e);
	return false;
}

int sshd_cache_parse(struct sshd_cache *c, const char *body, size_t len)
{
	struct cache_reader r = { body, body + len, false };

	while (r.p < r.end && c->n < SSHD_CACHE_MAX) {
		struct sshd_cache_entry e, *v;

		if (!entry_read(&r, &e)) {
			/* One bad entry: the whole file is suspect. */
			for (size_t j = 0; j < c->n; j++)
				entry_free(&c->v[j]);
			c->n = 0;
			return -EINVAL;
		}
		v = array_grow(c->v, c->n, &c->cap, sizeof(*c->v));
		if (!v) {
			entry_free(&e);
			return -ENOMEM;
		}
		c->v = v;
		c->v[c->n++] = e;
	}
	return 0;
}

/* The cache file, if it can be trusted; anything wrong with it and it is not used. */
static void cache_file_read(struct sshd_cache *c)
{
	char *body = NULL;
	size_t len = 0;

	c->loaded = true;
	if (cache_fileid_get(c->root_fd, SSHD_CACHE_FILE, &c->file_id))
		memset(&c->file_id, 0, sizeof(c->file_id));
	if (cache_load(c->root_fd, SSHD_CACHE_FILE, SSHD_CACHE_KIND, &body, &len))
		return;
	(void)sshd_cache_parse(c, body, len);
	free(body);
}

static bool timespec_after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/*
 * Another process wrote the file since we read it (the daemon's passes
 * of this layer run in child processes, each of which saves what it
 * learnt; so does every `jefe --direct`): take its answers, the newer of
 * two for one key.  An entry is only used while its dependencies keep
 * their identities, so one from another process is as good as our own.
 */
static void cache_file_refresh(struct sshd_cache *c)
{
	struct sshd_cache other = { .root_fd = c->root_fd };
	struct cache_fileid now;
	char *body = NULL;
	size_t len = 0;

	if (cache_fileid_get(c->root_fd, SSHD_CACHE_FILE, &now) ||
	    cache_fileid_equal(&now, &c->file_id))
		return;
	c->file_id = now;
	if (cache_load(c->root_fd, SSHD_CACHE_FILE, SSHD_CACHE_KIND, &body, &len))
		return;
	if (sshd_cache_parse(&other, body, len) == 0) {
		for (size_t i = 0; i < other.n; i++) {
			struct sshd_cache_entry *t = &other.v[i], *v;
			size_t k;

			for (k = 0; k < c->n; k++)
				if (strcmp(c->v[k].key, t->key) == 0)
					break;
			if (k < c->n) {
				if (timespec_after(&t->at, &c->v[k].at)) {
					entry_free(&c->v[k]);
					c->v[k] = *t;
					memset(t, 0, sizeof(*t));
				}
				continue;
			}
			if (c->n >= SSHD_CACHE_MAX)
				continue;
			v = array_grow(c->v, c->n, &c->cap, sizeof(*c->v));
			if (!v)
				break;
			c->v = v;
			c->v[c->n++] = *t;
			memset(t, 0, sizeof(*t));
		}
	}
	free(body);
	for (size_t i = 0; i < other.n; i++)
		entry_free(&other.v[i]);
	free(other.v);
}

void sshd_cache_serialize(const struct sshd_cache *c, struct cache_buf *b)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct sshd_cache_entry *e = &c->v[i];
		size_t out_len = strlen(e->out), err_len = strlen(e->err);

		cache_buf_printf(b, "E %s %d %lld %ld %zu %zu %zu\n", e->key, e->status,
				 (long long)e->at.tv_sec, e->at.tv_nsec, e->n_deps, out_len, err_len);
		for (size_t j = 0; j < e->n_deps; j++) {
			cache_buf_printf(b, "D %d %zu", e->deps[j].below_root ? 1 : 0,
					 strlen(e->deps[j].path));
			cache_buf_fileid(b, &e->deps[j].id);
			cache_buf_printf(b, "\n");
			cache_buf_blob(b, e->deps[j].path, strlen(e->deps[j].path));
		}
		cache_buf_blob(b, e->out, out_len);
		cache_buf_blob(b, e->err, err_len);
	}
}

int sshd_cache_save(struct sshd_cache *c, bool create_dir)
{
	struct cache_buf b = { 0 };
	int err;

	if (!c || !c->dirty)
		return 0;
	sshd_cache_serialize(c, &b);
	err = cache_save(c->root_fd, SSHD_CACHE_FILE, SSHD_CACHE_KIND, &b, create_dir);
	cache_buf_free(&b);
	if (!err) {
		c->dirty = false;
		/* Our own write is not news for cache_file_refresh(). */
		if (cache_fileid_get(c->root_fd, SSHD_CACHE_FILE, &c->file_id))
			memset(&c->file_id, 0, sizeof(c->file_id));
	}
	return err;
}

/* ---- lookups and records ---- */

static bool entry_valid(const struct sshd_cache *c, const struct sshd_cache_entry *e)
{
	for (size_t i = 0; i < e->n_deps; i++) {
		const struct sshd_cache_dep *d = &e->deps[i];
		struct cache_fileid now;

		if (!cache_fileid_settled(&d->id, &e->at))
			return false;	/* changed too close to the run: maybe again unseen */
		if (cache_fileid_get(d->below_root ? c->root_fd : -1, d->path, &now) ||
		    !cache_fileid_equal(&now, &d->id))
			return false;
	}
	return true;
}

int sshd_cache_lookup(struct sshd_cache *c, char *const argv[], const char *input,
		      int *status, char **out, char **err)
{
	char key[SHA256_DIGEST_STRING_LENGTH];

	if (!c->loaded)
		cache_file_read(c);
	else
		cache_file_refresh(c);
	cache_key(argv, input, key);
	for (size_t i = 0; i < c->n; i++) {
		const struct sshd_cache_entry *e = &c->v[i];

		if (strcmp(e->key, key) != 0)
			continue;
		if (!entry_valid(c, e))
			return 0;
		*out = strdup(e->out);
		*err = strdup(e->err);
		if (!*out || !*err) {
			free(*out);
			free(*err);
			*out = *err = NULL;
			return -ENOMEM;
		}
		*status = e->status;
		return 1;
	}
	return 0;
}

int sshd_cache_record_begin(struct sshd_cache *c, char *const argv[], const char *input,
			    struct sshd_cache_record **out)
{
	struct sshd_cache_record *rec = calloc(1, sizeof(*rec));
	int err;

	if (!rec)
		return -ENOMEM;
	rec->root_fd = c->root_fd;
	/* The time first: a file changed after it is never settled for this entry. */
	cache_now(&rec->e.at);
	cache_key(argv, input, rec->e.key);
	err = sshd_cache_record_dep(rec, argv[0], false);
	if (err) {
		sshd_cache_record_free(rec);
		return err;
	}
	*out = rec;
	return 0;
}

int sshd_cache_record_dep(struct sshd_cache_record *rec, const char *path, bool below_root)
{
	struct cache_fileid id;
	int err;

	err = cache_fileid_get(below_root ? rec->root_fd : -1, path, &id);
	if (err) {
		/* An identity we cannot take cannot vouch for the answer. */
		rec->unusable = true;
		return err == -ENOMEM ? err : 0;
	}
	return dep_add(&rec->e, path, below_root, &id);
}

/*
 * What `sshd -T` reads besides its configuration text, on the host (sshd
 * opens them itself): the user and group databases (the privilege
 * separation user, -C user= and group lookups), and the privilege
 * separation directory it refuses to run without (Debian's /run/sshd,
 * /var/empty elsewhere).
 */
static const char *const sshd_host_deps[] = {
	"/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/run/sshd", "/var/empty",
};

int sshd_cache_record_config(struct sshd_cache_record *rec, const struct strv *files)
{
	int err = 0;

	for (size_t i = 0; !err && i < ARRAY_SIZE(sshd_host_deps); i++)
		err = sshd_cache_record_dep(rec, sshd_host_deps[i], false);
	for (size_t i = 0; !err && i < files->n; i++) {
		char dir[4096];
		const char *slash = strrchr(files->v[i], '/');

		err = sshd_cache_record_dep(rec, files->v[i], true);
		/* A new file that an Include glob matches changes the directory. */
		if (!err && slash && slash != files->v[i] &&
		    (size_t)(slash - files->v[i]) < sizeof(dir)) {
			memcpy(dir, files->v[i], (size_t)(slash - files->v[i]));
			dir[slash - files->v[i]] = '\0';
			err = sshd_cache_record_dep(rec, dir, true);
		}
	}
	return err;
}

int sshd_cache_record_output(struct sshd_cache_record *rec, const char *out)
{
	int err = 0;

	for (const char *p = out; !err && p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		size_t len = strcspn(p, "\n"), kw;
		char path[4096];

		kw = strncmp(p, "hostkey ", 8) == 0 ? 8 :
		     strncmp(p, "hostcertificate ", 16) == 0 ? 16 : 0;
		if (!kw || len - kw >= sizeof(path) - 4)
			continue;
		memcpy(path, p + kw, len - kw);
		path[len - kw] = '\0';
		/* sshd loads the private key and, beside it, the public one. */
		err = sshd_cache_record_dep(rec, path, false);
		if (!err && kw == 8) {
			strcat(path, ".pub");
			err = sshd_cache_record_dep(rec, path, false);
		}
	}
	return err;
}

int sshd_cache_commit(struct sshd_cache *c, struct sshd_cache_record *rec, int status,
		      const char *out, const char *err)
{
	struct sshd_cache_entry *v;
	size_t slot;

	if (rec->unusable || status != 0)
		return 0;	/* only answers of successful runs are kept */
	rec->e.status = status;
	rec->e.out = strdup(out ? out : "");
	rec->e.err = strdup(err ? err : "");
	if (!rec->e.out || !rec->e.err)
		return -ENOMEM;
	if (!c->loaded)
		cache_file_read(c);
	for (slot = 0; slot < c->n; slot++)
		if (strcmp(c->v[slot].key, rec->e.key) == 0)
			break;
	if (slot == c->n && c->n == SSHD_CACHE_MAX) {
		/* Full: drop the oldest answer. */
		size_t oldest = 0;

		for (size_t i = 1; i < c->n; i++)
			if (c->v[i].at.tv_sec < c->v[oldest].at.tv_sec)
				oldest = i;
		slot = oldest;
	}
	if (slot == c->n) {
		v = array_grow(c->v, c->n, &c->cap, sizeof(*c->v));
		if (!v)
			return -ENOMEM;
		c->v = v;
		c->n++;
	} else {
		entry_free(&c->v[slot]);
	}
	c->v[slot] = rec->e;
	memset(&rec->e, 0, sizeof(rec->e));
	c->dirty = true;
	return 0;
}

void sshd_cache_record_free(struct sshd_cache_record *rec)
{
	if (!rec)
		return;
	entry_free(&rec->e);
	free(rec);
}
