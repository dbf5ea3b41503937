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
 * A cache file is JSON: {"format", "kind", "agent_version", "data"}.  It is
 * ignored (never an error) when it does not parse, is not a regular file
 * owned by root and writable by root alone, or was written by another
 * agent version or for another kind.  It is replaced atomically.
 */
#ifndef JEFE_CACHE_H
#define JEFE_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

/* The local state directory below the root; cache files live there. */
#define CACHE_DIR		"/var/lib/jefe"
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

/* Identities and times as JSON values, and back (false: malformed). */
struct json_object *cache_fileid_to_json(const struct cache_fileid *id);
bool cache_fileid_from_json(struct json_object *o, struct cache_fileid *id);
struct json_object *cache_time_to_json(const struct timespec *ts);
bool cache_time_from_json(struct json_object *o, struct timespec *ts);

/*
 * Read the cache file path (below root_fd) of this kind.  Returns 0 with
 * *data (a new reference: json_object_put it), or, to be ignored:
 * -ENOENT, -JEFE_EUNTRUSTED (not a root-only regular file), -ESTALE
 * (another format, kind or agent version), -EINVAL (corrupt), -errno.
 */
int cache_load(int root_fd, const char *path, const char *kind, struct json_object **data);

/*
 * Replace the cache file atomically with data (not consumed), mode 0600,
 * CACHE_DIR made 0700 if missing.  Only root keeps caches: for anyone
 * else this is a no-op that returns 0.
 */
int cache_save(int root_fd, const char *path, const char *kind, struct json_object *data);

#endif
