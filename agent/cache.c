/* SPDX-License-Identifier: MIT */
/*
 * File identities and root-only cache files (cache.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
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

/* Room for `more` bytes and a NUL after b->n. */
static void cache_buf_blob_room(struct cache_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (b->failed)
		return;
	if (b->n + more + 1 <= b->cap)
		return;
	while (cap < b->n + more + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->failed = true;
		return;
	}
	b->p = p;
	b->cap = cap;
}

void cache_now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

void cache_buf_printf(struct cache_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		size_t room = b->cap - b->n;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->n : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if ((size_t)n < room) {
			b->n += (size_t)n;
			return;
		}
		cache_buf_blob_room(b, (size_t)n + 1);
		if (b->failed)
			return;
	}
}

void cache_buf_blob(struct cache_buf *b, const char *data, size_t len)
{
	cache_buf_blob_room(b, len + 2);
	if (b->failed)
		return;
	memcpy(b->p + b->n, data, len);
	b->n += len;
	b->p[b->n++] = '\n';
	b->p[b->n] = '\0';
}

void cache_buf_fileid(struct cache_buf *b, const struct cache_fileid *id)
{
	if (!id->present) {
		cache_buf_printf(b, " A");
		return;
	}
	cache_buf_printf(b, " P %" PRIu64 " %" PRIu64 " %" PRId64 " %lld %ld %lld %ld",
			 id->dev, id->ino, id->size, (long long)id->mtime.tv_sec, id->mtime.tv_nsec,
			 (long long)id->ctime.tv_sec, id->ctime.tv_nsec);
}

void cache_buf_free(struct cache_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int64_t cache_read_int(struct cache_reader *r)
{
	bool neg = false;
	uint64_t v = 0;
	int digits = 0;

	if (r->bad)
		return 0;
	if (r->p < r->end && *r->p == '-') {
		neg = true;
		r->p++;
	}
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9' && digits < 19) {
		v = v * 10 + (uint64_t)(*r->p++ - '0');
		digits++;
	}
	/* 19 digits at most: no overflow of int64_t (a device number fits too). */
	if (!digits || r->p >= r->end || (*r->p != ' ' && *r->p != '\n')) {
		r->bad = true;
		return 0;
	}
	r->p++;
	return neg ? -(int64_t)v : (int64_t)v;
}

const char *cache_read_word(struct cache_reader *r, size_t *len)
{
	const char *w = r->p;

	if (r->bad)
		return NULL;
	while (r->p < r->end && *r->p != ' ' && *r->p != '\n')
		r->p++;
	if (r->p == w || r->p >= r->end) {
		r->bad = true;
		return NULL;
	}
	*len = (size_t)(r->p - w);
	r->p++;
	return w;
}

const char *cache_read_blob(struct cache_reader *r, size_t len)
{
	const char *b = r->p;

	if (r->bad || (size_t)(r->end - r->p) < len + 1 || r->p[len] != '\n') {
		r->bad = true;
		return NULL;
	}
	r->p += len + 1;
	return b;
}

void cache_read_fileid(struct cache_reader *r, struct cache_fileid *id)
{
	size_t len;
	const char *w = cache_read_word(r, &len);

	memset(id, 0, sizeof(*id));
	if (!w || len != 1 || (*w != 'A' && *w != 'P')) {
		r->bad = true;
		return;
	}
	if (*w == 'A')
		return;
	id->present = true;
	id->dev = (uint64_t)cache_read_int(r);
	id->ino = (uint64_t)cache_read_int(r);
	id->size = cache_read_int(r);
	id->mtime.tv_sec = (time_t)cache_read_int(r);
	id->mtime.tv_nsec = (long)cache_read_int(r);
	id->ctime.tv_sec = (time_t)cache_read_int(r);
	id->ctime.tv_nsec = (long)cache_read_int(r);
	if (id->mtime.tv_nsec < 0 || id->mtime.tv_nsec >= 1000000000L ||
	    id->ctime.tv_nsec < 0 || id->ctime.tv_nsec >= 1000000000L)
		r->bad = true;
}

bool cache_read_done(const struct cache_reader *r)
{
	return !r->bad && r->p == r->end;
}

int cache_load(int root_fd, const char *path, const char *kind, char **body, size_t *body_len)
{
	char header[128];
	struct stat sb;
	char *text = NULL, *nl;
	size_t len = 0;
	int fd, err = 0;

	*body = NULL;
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
			break;	/* shrank meanwhile: the body will not parse */
		else
			len += (size_t)n;
	}
	close(fd);
	if (err) {
		free(text);
		return err;
	}
	text[len] = '\0';
	snprintf(header, sizeof(header), "%s %s %s\n", CACHE_FORMAT, kind, PACKAGE_VERSION);
	nl = memchr(text, '\n', len);
	if (!nl || memchr(text, '\0', len))
		err = -EINVAL;
	else if ((size_t)(nl + 1 - text) != strlen(header) || memcmp(text, header, strlen(header)))
		err = -ESTALE;	/* another agent may mean other things by it */
	if (err) {
		free(text);
		return err;
	}
	len -= (size_t)(nl + 1 - text);
	memmove(text, nl + 1, len + 1);
	*body = text;
	*body_len = len;
	return 0;
}

int cache_save(int root_fd, const char *path, const char *kind, const struct cache_buf *body,
	       bool create_dir)
{
	struct cache_buf all = { 0 };
	int err;

	if (geteuid() != 0)
		return 0;	/* root-only files: nobody else keeps one */
	if (body->failed)
		return -ENOMEM;
	cache_buf_printf(&all, "%s %s %s\n", CACHE_FORMAT, kind, PACKAGE_VERSION);
	cache_buf_blob_room(&all, body->n + 1);
	if (!all.failed && body->n) {
		memcpy(all.p + all.n, body->p, body->n);
		all.n += body->n;
		all.p[all.n] = '\0';
	}
	err = all.failed ? -ENOMEM : create_dir ? rootfs_mkdir_p(root_fd, CACHE_DIR, 0700) : 0;
	if (!err)
		err = rootfs_write_atomic(root_fd, path, all.p, all.n, 0600);
	cache_buf_free(&all);
	return err;
}
