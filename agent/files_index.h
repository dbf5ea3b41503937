/* SPDX-License-Identifier: MIT */
/*
 * The files layer's index of content hashes, as git's index: for each
 * baseline file, its identity (device, inode, size, mtime, ctime; cache.h)
 * when it was last hashed, the SHA-256 it had then, and when that was.  A
 * file is hashed again only when its identity changed, when it changed
 * less than CACHE_SETTLE_SEC before it was hashed (timestamp granularity),
 * or when its hash is older than `[files] rehash_interval`, the backstop
 * for what identities cannot see (a root attacker who sets the clock back
 * or writes the block device).
 *
 * The daemon keeps it in the layer state; it is also written, root-only,
 * to CACHE_DIR/files.index below the root, so `jefe --direct` finds it.
 */
#ifndef JEFE_FILES_INDEX_H
#define JEFE_FILES_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#include "cache.h"

#define FILES_INDEX_FILE	CACHE_DIR "/files.index"
#define FILES_INDEX_KIND	"files"
#define FILES_INDEX_MAX		100000	/* entries read from the file */

struct files_index_entry {
	char *path;
	struct cache_fileid id;
	char hex[65];
	struct timespec hashed_at;	/* taken before the file was opened */
	bool seen;			/* looked up since the index was read */
};

struct files_index {
	int root_fd;
	bool loaded;		/* the file was looked at */
	bool dirty;		/* changed since */
	struct files_index_entry *v;
	size_t n, cap;
	unsigned long hashed;	/* files read and hashed (tests count them) */
};

void files_index_init(struct files_index *ix, int root_fd);
void files_index_free(struct files_index *ix);

/*
 * SHA-256 of the regular file path below root, as lower-case hex: from
 * the index while the file's identity is unchanged and settled and its
 * hash younger than rehash_interval seconds (0: always hash), else read
 * and hashed, and the index updated.  0 or -errno (-ENOENT, -EINVAL for
 * something other than a regular file), as rootfs_sha256().
 */
int files_index_sha256(struct files_index *ix, const char *path,
		       unsigned long rehash_interval, char hex[65]);

/*
 * The file's body (cache.h), written from ix and read into an empty ix
 * (-EINVAL, and ix left empty, for anything malformed).  The tests' and
 * the file's seam.
 */
void files_index_serialize(const struct files_index *ix, struct cache_buf *b);
int files_index_parse(struct files_index *ix, const char *body, size_t len);

/*
 * Write the index file if it changed (root only); entries not looked up
 * since it was read are dropped.  create_dir: make CACHE_DIR if missing
 * (cache_save()).
 */
int files_index_save(struct files_index *ix, bool create_dir);

#endif
