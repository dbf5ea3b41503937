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

/*
 * Body: per file a line "hex hashed_at.s hashed_at.ns path_len IDENTITY"
 * and the path (cache.h).  One bad entry and none is used.
 */
int files_index_parse(struct files_index *ix, const char *body, size_t len)
{
	struct cache_reader r = { body, body + len, false };

	while (r.p < r.end && ix->n < FILES_INDEX_MAX) {
		struct files_index_entry *e;
		struct cache_fileid id;
		struct timespec at;
		char hex[65], path[4096];
		const char *w, *p;
		size_t wlen, plen;

		w = cache_read_word(&r, &wlen);
		if (!w || wlen != 64)
			goto bad;
		memcpy(hex, w, 64);
		hex[64] = '\0';
		at.tv_sec = (time_t)cache_read_int(&r);
		at.tv_nsec = (long)cache_read_int(&r);
		plen = (size_t)cache_read_int(&r);
		cache_read_fileid(&r, &id);
		p = r.bad || plen == 0 || plen >= sizeof(path) ? NULL : cache_read_blob(&r, plen);
		if (!p || !hex_valid(hex) || !id.present || at.tv_nsec < 0 ||
		    at.tv_nsec >= 1000000000L || *p != '/' || memchr(p, '\0', plen))
			goto bad;
		memcpy(path, p, plen);
		path[plen] = '\0';
		if (index_find(ix, path))
			goto bad;
		e = index_add(ix, path);
		if (!e)
			goto bad;
		e->id = id;
		e->hashed_at = at;
		memcpy(e->hex, hex, 65);
	}
	return 0;
bad:
	files_index_free(ix);
	return -EINVAL;
}

static void index_file_read(struct files_index *ix)
{
	char *body = NULL;
	size_t len = 0;

	ix->loaded = true;
	if (cache_load(ix->root_fd, FILES_INDEX_FILE, FILES_INDEX_KIND, &body, &len))
		return;
	(void)files_index_parse(ix, body, len);
	free(body);
}

void files_index_serialize(const struct files_index *ix, struct cache_buf *b)
{
	for (size_t i = 0; i < ix->n; i++) {
		const struct files_index_entry *e = &ix->v[i];

		if (!e->seen)
			continue;	/* no longer under the baseline */
		cache_buf_printf(b, "%s %lld %ld %zu", e->hex, (long long)e->hashed_at.tv_sec,
				 e->hashed_at.tv_nsec, strlen(e->path));
		cache_buf_fileid(b, &e->id);
		cache_buf_printf(b, "\n");
		cache_buf_blob(b, e->path, strlen(e->path));
	}
}

int files_index_save(struct files_index *ix, bool create_dir)
{
	struct cache_buf b = { 0 };
	int err;

	if (!ix->dirty)
		return 0;
	files_index_serialize(ix, &b);
	err = cache_save(ix->root_fd, FILES_INDEX_FILE, FILES_INDEX_KIND, &b, create_dir);
	cache_buf_free(&b);
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
