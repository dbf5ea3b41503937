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

static bool entry_from_json(struct json_object *o, struct sshd_cache_entry *e)
{
	struct json_object *key, *status, *out, *err, *at, *deps;

	memset(e, 0, sizeof(*e));
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "key", &key) ||
	    !json_object_object_get_ex(o, "status", &status) ||
	    !json_object_object_get_ex(o, "out", &out) ||
	    !json_object_object_get_ex(o, "err", &err) ||
	    !json_object_object_get_ex(o, "at", &at) ||
	    !json_object_object_get_ex(o, "deps", &deps) ||
	    !json_object_is_type(key, json_type_string) ||
	    json_object_get_string_len(key) != SHA256_DIGEST_STRING_LENGTH - 1 ||
	    !json_object_is_type(status, json_type_int) ||
	    !json_object_is_type(out, json_type_string) ||
	    !json_object_is_type(err, json_type_string) ||
	    !json_object_is_type(deps, json_type_array) ||
	    !cache_time_from_json(at, &e->at))
		return false;
	memcpy(e->key, json_object_get_string(key), sizeof(e->key));
	e->status = json_object_get_int(status);
	e->out = strdup(json_object_get_string(out));
	e->err = strdup(json_object_get_string(err));
	if (!e->out || !e->err)
		goto bad;
	for (size_t i = 0; i < json_object_array_length(deps); i++) {
		struct json_object *d = json_object_array_get_idx(deps, i);
		struct json_object *path, *below;
		struct cache_fileid id;

		if (!json_object_is_type(d, json_type_array) || json_object_array_length(d) != 3)
			goto bad;
		path = json_object_array_get_idx(d, 0);
		below = json_object_array_get_idx(d, 1);
		if (!json_object_is_type(path, json_type_string) ||
		    !json_object_is_type(below, json_type_boolean) ||
		    !cache_fileid_from_json(json_object_array_get_idx(d, 2), &id) ||
		    dep_add(e, json_object_get_string(path), json_object_get_boolean(below), &id))
			goto bad;
	}
	/* An entry that depends on nothing would never be invalidated. */
	if (e->n_deps == 0)
		goto bad;
	return true;
bad:
	entry_free(e);
	return false;
}

/* The cache file, if it can be trusted; anything wrong with it and it is not used. */
static void cache_file_read(struct sshd_cache *c)
{
	struct json_object *data = NULL, *entries;

	c->loaded = true;
	if (cache_load(c->root_fd, SSHD_CACHE_FILE, SSHD_CACHE_KIND, &data))
		return;
	if (json_object_object_get_ex(data, "entries", &entries) &&
	    json_object_is_type(entries, json_type_array)) {
		size_t n = json_object_array_length(entries);

		for (size_t i = 0; i < n && c->n < SSHD_CACHE_MAX; i++) {
			struct sshd_cache_entry e, *v;

			if (!entry_from_json(json_object_array_get_idx(entries, i), &e)) {
				/* One bad entry: the whole file is suspect. */
				for (size_t j = 0; j < c->n; j++)
					entry_free(&c->v[j]);
				c->n = 0;
				break;
			}
			v = array_grow(c->v, c->n, &c->cap, sizeof(*c->v));
			if (!v) {
				entry_free(&e);
				break;
			}
			c->v = v;
			c->v[c->n++] = e;
		}
	}
	json_object_put(data);
}

static struct json_object *entry_to_json(const struct sshd_cache_entry *e)
{
	struct json_object *o = json_object_new_object(), *deps = json_object_new_array();
	bool bad = !o || !deps;

	for (size_t i = 0; !bad && i < e->n_deps; i++) {
		struct json_object *d = json_object_new_array_ext(3);
		struct json_object *id = cache_fileid_to_json(&e->deps[i].id);

		bad = !d || (e->deps[i].id.present && !id) ||
		      json_object_array_add(d, json_object_new_string(e->deps[i].path)) ||
		      json_object_array_add(d, json_object_new_boolean(e->deps[i].below_root)) ||
		      json_object_array_add(d, id) ||
		      json_object_array_add(deps, d);
		if (bad && d)
			json_object_put(d);
	}
	if (!bad)
		bad = json_object_object_add(o, "key", json_object_new_string(e->key)) ||
		      json_object_object_add(o, "status", json_object_new_int(e->status)) ||
		      json_object_object_add(o, "out", json_object_new_string(e->out)) ||
		      json_object_object_add(o, "err", json_object_new_string(e->err)) ||
		      json_object_object_add(o, "at", cache_time_to_json(&e->at)) ||
		      json_object_object_add(o, "deps", deps);
	if (bad) {
		json_object_put(o);
		json_object_put(deps);
		return NULL;
	}
	return o;
}

int sshd_cache_save(struct sshd_cache *c)
{
	struct json_object *data, *entries;
	int err = 0;

	if (!c || !c->dirty)
		return 0;
	data = json_object_new_object();
	entries = json_object_new_array();
	if (!data || !entries || json_object_object_add(data, "entries", entries)) {
		json_object_put(data);
		json_object_put(entries);
		return -ENOMEM;
	}
	for (size_t i = 0; !err && i < c->n; i++) {
		struct json_object *e = entry_to_json(&c->v[i]);

		if (!e || json_object_array_add(entries, e)) {
			json_object_put(e);
			err = -ENOMEM;
		}
	}
	if (!err)
		err = cache_save(c->root_fd, SSHD_CACHE_FILE, SSHD_CACHE_KIND, data);
	json_object_put(data);
	if (!err)
		c->dirty = false;
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
