/* SPDX-License-Identifier: MIT */
/*
 * The files layer's index of content hashes (files_index.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sha2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files_index.h"
#include "rootfs.h"
#include "util.h"

void files_index_init(struct files_index *ix, int root_fd)
{
	memset(ix, 0, sizeof(*ix));
	ix->root_fd = root_fd;
}

void files_index_free(struct files_index *ix)
{
	for (size_t i = 0; i < ix->n; i++)
		free(ix->v[i].path);
	free(ix->v);
	ix->v = NULL;
	ix->n = ix->cap = 0;
}

static struct files_index_entry *index_find(struct files_index *ix, const char *path)
{
	for (size_t i = 0; i < ix->n; i++)
		if (strcmp(ix->v[i].path, path) == 0)
			return &ix->v[i];
	return NULL;
}

static struct files_index_entry *index_add(struct files_index *ix, const char *path)
{
	struct files_index_entry *v = array_grow(ix->v, ix->n, &ix->cap, sizeof(*ix->v));

	if (!v)
		return NULL;
	ix->v = v;
	memset(&v[ix->n], 0, sizeof(v[ix->n]));
	v[ix->n].path = strdup(path);
	if (!v[ix->n].path)
		return NULL;
	return &v[ix->n++];
}

static bool hex_valid(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* {"entries": [[path, id, hex, [hashed_at]], ...]}; one bad entry and none is used. */
static void index_file_read(struct files_index *ix)
{
	struct json_object *data = NULL, *entries;
	size_t n;

	ix->loaded = true;
	if (cache_load(ix->root_fd, FILES_INDEX_FILE, FILES_INDEX_KIND, &data))
		return;
	if (!json_object_object_get_ex(data, "entries", &entries) ||
	    !json_object_is_type(entries, json_type_array))
		goto out;
	n = json_object_array_length(entries);
	for (size_t i = 0; i < n && i < FILES_INDEX_MAX; i++) {
		struct json_object *o = json_object_array_get_idx(entries, i);
		struct json_object *path, *hex;
		struct files_index_entry *e;
		struct cache_fileid id;
		struct timespec at;

		if (!json_object_is_type(o, json_type_array) || json_object_array_length(o) != 4)
			goto bad;
		path = json_object_array_get_idx(o, 0);
		hex = json_object_array_get_idx(o, 2);
		if (!json_object_is_type(path, json_type_string) ||
		    json_object_get_string(path)[0] != '/' ||
		    !json_object_is_type(hex, json_type_string) ||
		    !hex_valid(json_object_get_string(hex)) ||
		    !cache_fileid_from_json(json_object_array_get_idx(o, 1), &id) || !id.present ||
		    !cache_time_from_json(json_object_array_get_idx(o, 3), &at) ||
		    index_find(ix, json_object_get_string(path)))
			goto bad;
		e = index_add(ix, json_object_get_string(path));
		if (!e)
			goto bad;
		e->id = id;
		e->hashed_at = at;
		memcpy(e->hex, json_object_get_string(hex), 65);
	}
	goto out;
bad:
	files_index_free(ix);
out:
	json_object_put(data);
}

int files_index_save(struct files_index *ix)
{
	struct json_object *data, *entries;
	int err = 0;

	if (!ix->dirty)
		return 0;
	data = json_object_new_object();
	entries = json_object_new_array();
	if (!data || !entries || json_object_object_add(data, "entries", entries)) {
		json_object_put(data);
		json_object_put(entries);
		return -ENOMEM;
	}
	for (size_t i = 0; !err && i < ix->n; i++) {
		const struct files_index_entry *e = &ix->v[i];
		struct json_object *o;

		if (!e->seen)
			continue;	/* no longer under the baseline */
		o = json_object_new_array_ext(4);
		if (!o || json_object_array_add(o, json_object_new_string(e->path)) ||
		    json_object_array_add(o, cache_fileid_to_json(&e->id)) ||
		    json_object_array_add(o, json_object_new_string(e->hex)) ||
		    json_object_array_add(o, cache_time_to_json(&e->hashed_at)) ||
		    json_object_array_add(entries, o)) {
			json_object_put(o);
			err = -ENOMEM;
		}
	}
	if (!err)
		err = cache_save(ix->root_fd, FILES_INDEX_FILE, FILES_INDEX_KIND, data);
	json_object_put(data);
	if (!err)
		ix->dirty = false;
	return err;
}

static int sha256_fd(int fd, char hex[65])
{
	unsigned char buf[65536];
	SHA2_CTX ctx;

	SHA256Init(&ctx);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		SHA256Update(&ctx, buf, (size_t)n);
	}
	SHA256End(&ctx, hex);
	return 0;
}

int files_index_sha256(struct files_index *ix, const char *path,
		       unsigned long rehash_interval, char hex[65])
{
	struct files_index_entry *e;
	struct cache_fileid id;
	struct timespec now;
	struct stat sb;
	int fd, err = 0;

	if (!ix->loaded)
		index_file_read(ix);
	/* Before the open: a change after this moment is never settled. */
	cache_now(&now);
	fd = rootfs_open(ix->root_fd, path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fd;
	/* A FIFO or a device planted at a managed path must not block us. */
	if (fstat(fd, &sb) < 0)
		err = -errno;
	else if (!S_ISREG(sb.st_mode))
		err = -EINVAL;
	if (err) {
		close(fd);
		return err;
	}
	cache_fileid_from_stat(&sb, &id);
	e = index_find(ix, path);
	if (e && cache_fileid_equal(&e->id, &id) && cache_fileid_settled(&e->id, &e->hashed_at) &&
	    rehash_interval > 0 && now.tv_sec >= e->hashed_at.tv_sec &&
	    (unsigned long)(now.tv_sec - e->hashed_at.tv_sec) < rehash_interval) {
		close(fd);
		e->seen = true;
		memcpy(hex, e->hex, 65);
		return 0;
	}
	err = sha256_fd(fd, hex);
	close(fd);
	if (err)
		return err;
	ix->hashed++;
	if (!e) {
		e = index_add(ix, path);
		if (!e)
			return -ENOMEM;
	}
	e->id = id;
	e->hashed_at = now;
	e->seen = true;
	memcpy(e->hex, hex, 65);
	ix->dirty = true;
	return 0;
}
