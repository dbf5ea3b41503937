/* SPDX-License-Identifier: MIT */
/*
 * File identities and root-only cache files (cache.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "errors.h"
#include "rootfs.h"

/* A cache larger than this is not ours: refuse to read it into memory. */
#define CACHE_MAX_BYTES	(8u << 20)

void cache_fileid_from_stat(const struct stat *sb, struct cache_fileid *id)
{
	memset(id, 0, sizeof(*id));
	id->present = true;
	id->dev = (uint64_t)sb->st_dev;
	id->ino = (uint64_t)sb->st_ino;
	id->size = (int64_t)sb->st_size;
	id->mtime = sb->st_mtim;
	id->ctime = sb->st_ctim;
}

int cache_fileid_get(int root_fd, const char *path, struct cache_fileid *id)
{
	struct stat sb;
	int err = 0;

	memset(id, 0, sizeof(*id));
	if (root_fd < 0) {
		if (stat(path, &sb) < 0)
			err = -errno;
	} else {
		err = rootfs_stat(root_fd, path, &sb, true);
	}
	if (err == -ENOENT || err == -ENOTDIR)
		return 0;	/* absent is an identity too: it must stay absent */
	if (err)
		return err;
	cache_fileid_from_stat(&sb, id);
	return 0;
}

bool cache_fileid_equal(const struct cache_fileid *a, const struct cache_fileid *b)
{
	if (a->present != b->present)
		return false;
	if (!a->present)
		return true;
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

bool cache_fileid_settled(const struct cache_fileid *id, const struct timespec *at)
{
	if (!id->present)
		return true;	/* creating it moves the directory's ctime, and fails equal() */
	return id->ctime.tv_sec + CACHE_SETTLE_SEC < at->tv_sec ||
	       (id->ctime.tv_sec + CACHE_SETTLE_SEC == at->tv_sec &&
		id->ctime.tv_nsec <= at->tv_nsec);
}

void cache_now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

struct json_object *cache_time_to_json(const struct timespec *ts)
{
	struct json_object *a = json_object_new_array_ext(2);

	if (!a)
		return NULL;
	if (json_object_array_add(a, json_object_new_int64(ts->tv_sec)) ||
	    json_object_array_add(a, json_object_new_int64(ts->tv_nsec))) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

bool cache_time_from_json(struct json_object *o, struct timespec *ts)
{
	struct json_object *s, *ns;

	if (!json_object_is_type(o, json_type_array) || json_object_array_length(o) != 2)
		return false;
	s = json_object_array_get_idx(o, 0);
	ns = json_object_array_get_idx(o, 1);
	if (!json_object_is_type(s, json_type_int) || !json_object_is_type(ns, json_type_int))
		return false;
	ts->tv_sec = (time_t)json_object_get_int64(s);
	ts->tv_nsec = (long)json_object_get_int64(ns);
	return ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L;
}

/* [dev, ino, size, [mtime], [ctime]], or null for an absent file. */
struct json_object *cache_fileid_to_json(const struct cache_fileid *id)
{
	struct json_object *a;

	if (!id->present)
		return json_object_new_null();
	a = json_object_new_array_ext(5);
	if (!a)
		return NULL;
	if (json_object_array_add(a, json_object_new_uint64(id->dev)) ||
	    json_object_array_add(a, json_object_new_uint64(id->ino)) ||
	    json_object_array_add(a, json_object_new_int64(id->size)) ||
	    json_object_array_add(a, cache_time_to_json(&id->mtime)) ||
	    json_object_array_add(a, cache_time_to_json(&id->ctime)) ||
	    !json_object_array_get_idx(a, 3) || !json_object_array_get_idx(a, 4)) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

bool cache_fileid_from_json(struct json_object *o, struct cache_fileid *id)
{
	memset(id, 0, sizeof(*id));
	if (!o)
		return true;	/* null: absent */
	if (!json_object_is_type(o, json_type_array) || json_object_array_length(o) != 5)
		return false;
	for (size_t i = 0; i < 3; i++)
		if (!json_object_is_type(json_object_array_get_idx(o, i), json_type_int))
			return false;
	id->present = true;
	id->dev = json_object_get_uint64(json_object_array_get_idx(o, 0));
	id->ino = json_object_get_uint64(json_object_array_get_idx(o, 1));
	id->size = json_object_get_int64(json_object_array_get_idx(o, 2));
	return cache_time_from_json(json_object_array_get_idx(o, 3), &id->mtime) &&
	       cache_time_from_json(json_object_array_get_idx(o, 4), &id->ctime);
}

static const char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int cache_load(int root_fd, const char *path, const char *kind, struct json_object **data)
{
	struct json_object *doc = NULL, *d;
	const char *format, *k, *version;
	struct stat sb;
	char *text = NULL;
	size_t len = 0;
	int fd, err = 0;

	*data = NULL;
	fd = rootfs_open(root_fd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return fd == -ELOOP ? -JEFE_EUNTRUSTED : fd;
	/*
	 * Whoever can write the cache decides what the agent believes, so
	 * only a file root alone can change is read (a symlink is refused
	 * by O_NOFOLLOW above).
	 */
	if (fstat(fd, &sb) < 0)
		err = -errno;
	else if (!S_ISREG(sb.st_mode) || sb.st_uid != 0 || (sb.st_mode & 022))
		err = -JEFE_EUNTRUSTED;
	else if ((size_t)sb.st_size > CACHE_MAX_BYTES)
		err = -EINVAL;
	if (!err) {
		text = malloc((size_t)sb.st_size + 1);
		if (!text)
			err = -ENOMEM;
	}
	while (!err && len < (size_t)sb.st_size) {
		ssize_t n = read(fd, text + len, (size_t)sb.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = -errno;
		else if (n == 0)
			break;	/* shrank meanwhile: parse what is there, or fail */
		else
			len += (size_t)n;
	}
	close(fd);
	if (err) {
		free(text);
		return err;
	}
	text[len] = '\0';
	doc = json_tokener_parse(text);
	free(text);
	if (!doc || !json_object_is_type(doc, json_type_object)) {
		json_object_put(doc);
		return -EINVAL;
	}
	format = json_str(doc, "format");
	k = json_str(doc, "kind");
	version = json_str(doc, "agent_version");
	if (!format || !k || !version || !json_object_object_get_ex(doc, "data", &d))
		err = -EINVAL;
	else if (strcmp(format, CACHE_FORMAT) || strcmp(k, kind) || strcmp(version, PACKAGE_VERSION))
		err = -ESTALE;	/* another agent may mean other things by it */
	if (!err)
		*data = json_object_get(d);
	json_object_put(doc);
	return err;
}

int cache_save(int root_fd, const char *path, const char *kind, struct json_object *data)
{
	struct json_object *doc;
	const char *text;
	int err;

	if (geteuid() != 0)
		return 0;	/* root-only files: nobody else keeps one */
	doc = json_object_new_object();
	if (!doc)
		return -ENOMEM;
	if (json_object_object_add(doc, "format", json_object_new_string(CACHE_FORMAT)) ||
	    json_object_object_add(doc, "kind", json_object_new_string(kind)) ||
	    json_object_object_add(doc, "agent_version", json_object_new_string(PACKAGE_VERSION)) ||
	    json_object_object_add(doc, "data", json_object_get(data))) {
		json_object_put(doc);
		return -ENOMEM;
	}
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	err = text ? rootfs_mkdir_p(root_fd, CACHE_DIR, 0700) : -ENOMEM;
	if (!err)
		err = rootfs_write_atomic(root_fd, path, text, strlen(text), 0600);
	json_object_put(doc);
	return err;
}
