/* SPDX-License-Identifier: MIT */
/*
 * The sshd layer's memory of what its programs said: `ssh -Q CLASS` and
 * `sshd -T [-C spec]`, so that a check of an unchanged system runs no
 * program at all.
 *
 * An entry is keyed by the program's arguments and standard input (the
 * generated top-level configuration, which names every included file),
 * and holds the identity (cache.h) of every file the answer depends on:
 * the program itself, each configuration file and its directory (a new
 * file matched by an Include glob changes the directory), the host keys
 * and certificates sshd loads, the user and group databases and the
 * privilege separation directory.  It answers only while every one of
 * them has the identity it had, settled, when the program ran.  Only
 * successful runs are kept.
 *
 * The layer state keeps the cache (the daemon's lives as long as its
 * policy), and it is also written to CACHE_DIR/sshd.cache below the root,
 * so that every `jefe --direct` process, which starts empty, finds it.
 */
#ifndef JEFE_SSHD_CACHE_H
#define JEFE_SSHD_CACHE_H

#include <stdbool.h>

#include "cache.h"
#include "util.h"

#define SSHD_CACHE_FILE		CACHE_DIR "/sshd.cache"
#define SSHD_CACHE_KIND		"sshd"
#define SSHD_CACHE_MAX		64	/* entries: the global -T, one per Match, ssh -Q */

struct sshd_cache;
struct sshd_cache_record;

/* A cache for the files below root_fd; nothing is read until the first lookup. */
int sshd_cache_new(struct sshd_cache **out, int root_fd);
void sshd_cache_free(struct sshd_cache *c);

/*
 * The answer of argv (with input on stdin, NULL: none) if one is kept and
 * still valid: returns 1 with *status, *out and *err (malloc'ed), 0 when
 * the program must run, or -ENOMEM.
 */
int sshd_cache_lookup(struct sshd_cache *c, char *const argv[], const char *input,
		      int *status, char **out, char **err);

/*
 * Before a run: note the time and the identity of argv[0].  Add each
 * file the answer depends on with sshd_cache_record_dep() (before the
 * run where the file is known then, after it where only the answer names
 * it), then sshd_cache_commit() the answer, or sshd_cache_record_free().
 */
int sshd_cache_record_begin(struct sshd_cache *c, char *const argv[], const char *input,
			    struct sshd_cache_record **out);
int sshd_cache_record_dep(struct sshd_cache_record *rec, const char *path, bool below_root);
/* sshd -T: the files it reads around the configuration files (main first). */
int sshd_cache_record_config(struct sshd_cache_record *rec, const struct strv *files);
/* sshd -T: the host keys and certificates its answer names. */
int sshd_cache_record_output(struct sshd_cache_record *rec, const char *out);
int sshd_cache_commit(struct sshd_cache *c, struct sshd_cache_record *rec, int status,
		      const char *out, const char *err);
void sshd_cache_record_free(struct sshd_cache_record *rec);

/*
 * The file's body (cache.h): written from c, and read into c (after what
 * it holds; -EINVAL, and nothing added, for anything malformed).  The
 * tests' and the file's seam.
 */
void sshd_cache_serialize(const struct sshd_cache *c, struct cache_buf *b);
int sshd_cache_parse(struct sshd_cache *c, const char *body, size_t len);

/*
 * Write the cache file if anything was added since it was read (root
 * only); create_dir: make CACHE_DIR if missing (cache_save()).
 */
int sshd_cache_save(struct sshd_cache *c, bool create_dir);

#endif
