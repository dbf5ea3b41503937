/* SPDX-License-Identifier: MIT */
/*
 * What the agent may remember instead of recomputing it: the identity of
 * a file, and small root-only cache files below the root's state
 * directory.
 *
 * A file's identity is (device, inode, size, mtime, ctime), as git's index
 * keeps it.  Any write to a file, a chmod, a chown, a rename onto it or a
 * utimensat() that resets its mtime moves its ctime to the current time,
 * and no system call sets ctime to a chosen value: a result computed from
 * a file stays valid while its identity is the same.  One trap, git's
 * "racy" entries: timestamps have a granularity (a jiffy, or a second on
 * some filesystems), so a file changed within the same tick as the moment
 * it was read may keep its identity.  So an identity is only trusted when
 * its ctime is at least CACHE_SETTLE_SEC older than the moment the result
 * was computed (cache_fileid_settled); until then the result is
 * recomputed on every use, and recorded again.
 *
 * A cache file is a header line (format, kind, agent version) and a body
 * of its kind.  It is ignored (never an error) when it does not parse, is
 * not a regular file owned by root and writable by root alone, or was
 * written by another agent version or for another kind.  It is replaced
 * atomically.
 */
#ifndef JEFE_CACHE_H
#define JEFE_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <time.h>

#include "util.h"

/* The local state directory below the root (configure's --localstatedir); cache files live there. */
#define CACHE_DIR		JEFE_STATE_DIR
#define CACHE_FORMAT		"jefe-cache/1"
/* Older than the coarsest timestamp granularity we meet (FAT: 2 s). */
#define CACHE_SETTLE_SEC	2

struct cache_fileid {
	bool present;		/* false: the path did not exist */
	uint64_t dev;
	uint64_t ino;
	int64_t size;
	struct timespec mtime;
	struct timespec ctime;
};

struct stat;
void cache_fileid_from_stat(const struct stat *sb, struct cache_fileid *id);

/*
 * The identity of path: below root_fd (resolved as by rootfs_open,
 * symlinks followed inside the root), or on the host when root_fd < 0
 * (a program execve() runs, a file an external program opens).  A path
 * that does not exist gives present = false and 0; other errors -errno.
 */
int cache_fileid_get(int root_fd, const char *path, struct cache_fileid *id);

bool cache_fileid_equal(const struct cache_fileid *a, const struct cache_fileid *b);

/* May a result computed at `at` from this file be trusted later on? */
bool cache_fileid_settled(const struct cache_fileid *id, const struct timespec *at);

/* The wall clock, as file timestamps use it. */
void cache_now(struct timespec *ts);

/*
 * The cache files' body: lines of space-separated decimal numbers and
 * words, and length-prefixed blobs (any bytes) each followed by a newline,
 * so reading one costs little more than a copy (json-c spent more time
 * parsing the sshd answers than a check of them).
 */
struct cache_buf {
	char *p;
	size_t n, cap;
	bool failed;		/* out of memory: everything after is dropped */
};
__attribute__((format(printf, 2, 3)))
void cache_buf_printf(struct cache_buf *b, const char *fmt, ...);
/* A blob: its bytes and a newline (the length goes in the line before). */
void cache_buf_blob(struct cache_buf *b, const char *data, size_t len);
/* " A" for an absent file, else " P dev ino size mtime.s mtime.ns ctime.s ctime.ns". */
void cache_buf_fileid(struct cache_buf *b, const struct cache_fileid *id);
void cache_buf_free(struct cache_buf *b);

struct cache_reader {
	const char *p, *end;
	bool bad;		/* anything malformed: the caller drops it all */
};
/* The next number (optional '-'), then one ' ' or '\n'. */
int64_t cache_read_int(struct cache_reader *r);
/* The next word up to ' ' or '\n' (consumed), as a pointer and length. */
const char *cache_read_word(struct cache_reader *r, size_t *len);
/* len bytes and the newline after them; the bytes are not NUL-terminated. */
const char *cache_read_blob(struct cache_reader *r, size_t len);
void cache_read_fileid(struct cache_reader *r, struct cache_fileid *id);
bool cache_read_done(const struct cache_reader *r);

/*
 * Read the cache file path (below root_fd) of this kind: a first line
 * "jefe-cache/1 KIND VERSION", then the body.  Returns 0 with *body
 * (malloc'ed, NUL-terminated) and *len, or, to be ignored: -ENOENT,
 * -JEFE_EUNTRUSTED (not a regular file owned by root and writable by
 * root alone), -ESTALE (another format, kind or agent version), -EINVAL
 * (corrupt), -errno.
 */
int cache_load(int root_fd, const char *path, const char *kind, char **body, size_t *len);

/*
 * Replace the cache file atomically with the header and body, mode 0600.
 * A missing CACHE_DIR is made (0700) only with create_dir: a read-only
 * command on a host that never ran the agent leaves no trace, and one
 * where the agent keeps its state keeps its caches.  Only root keeps
 * caches: for anyone else this is a no-op that returns 0.
 */
int cache_save(int root_fd, const char *path, const char *kind, const struct cache_buf *body,
	       bool create_dir);

#endif
