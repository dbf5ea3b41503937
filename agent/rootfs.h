/* SPDX-License-Identifier: MIT */
/*
 * File access below the root for the layers that look at many paths
 * (modules, files): opening without ever leaving the root, content
 * hashes, and the mount table.
 */
#ifndef JEFE_ROOTFS_H
#define JEFE_ROOTFS_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define ROOTFS_SHA256_HEX 65	/* 64 hex digits and the NUL */

/*
 * openat() below root_fd, resolving every component as if root_fd were
 * "/" (openat2 RESOLVE_IN_ROOT): a symlink /etc -> /host/etc in a test
 * tree, or an absolute symlink planted on a host, can never lead the
 * agent outside the root it was given.  Returns an fd or -errno.
 */
int rootfs_open(int root_fd, const char *path, int flags);

/*
 * Open a directory below root for readdir (opened as by rootfs_open).
 * On success *out is the stream, for closedir(); 0 or -errno
 * (-ENOENT, -ENOTDIR as rootfs_open gives them).
 */
int rootfs_opendir(int root_fd, const char *path, DIR **out);

/*
 * Add an inotify watch on a directory or file below root (resolved as by
 * rootfs_open, then watched through its /proc/self/fd link, since
 * inotify has no *at() call).  Returns the watch descriptor or -errno.
 */
int rootfs_watch_add(int inotify_fd, int root_fd, const char *path, unsigned int mask);

/* mkdir -p below root, each parent resolved as by rootfs_open. */
int rootfs_mkdir_p(int root_fd, const char *path, unsigned int mode);

/*
 * Write path below root atomically (a temporary file beside it, fsync,
 * fchmod, rename), with its directory opened as by rootfs_open: a
 * symlinked parent directory can never send the write outside the root,
 * and a symlink at path itself is replaced, not written through.
 */
int rootfs_write_atomic(int root_fd, const char *path, const void *data, size_t len,
			unsigned int mode);

/*
 * rename, unlink and stat below root: the directory part is resolved as by
 * rootfs_open, and the last component is the name itself (never followed),
 * so a symlinked parent directory can never send the operation outside
 * the root.  rootfs_rename works within one directory of the root or
 * across two; all return 0 or -errno.
 */
int rootfs_rename(int root_fd, const char *from, const char *to);
int rootfs_unlink(int root_fd, const char *path);
struct stat;
/* follow: stat what a final symlink points to (resolved inside the root too). */
int rootfs_stat(int root_fd, const char *path, struct stat *st, bool follow);

/*
 * May only root change path?  sshd's StrictModes rule, walked from the
 * root (root_fd itself included, its ancestors on the host not) down to
 * path: every directory and the file itself must be owned by root (or by
 * the user the agent runs as, who could change them anyway) and writable
 * by neither group nor others; a sticky world-writable directory such as
 * /tmp is refused too.  Symlinks are followed inside the root and their
 * targets walked the same way.  Returns 0, or -JEFE_EUNTRUSTED with why
 * naming the offending path (as seen below root, prefixed with shown_root
 * unless that is NULL or "/") and its owner or mode, or -errno.  When
 * resolved is not NULL it receives the path with every symlink resolved.
 */
int rootfs_check_trusted(int root_fd, const char *shown_root, const char *path,
			 char resolved[4096], char *why, size_t why_len);

/*
 * rootfs_check_trusted()'s rule for one inode already at hand (an fstat of
 * an open file whose directory was walked): owned by root or by us, and
 * writable by neither group nor others.
 */
bool rootfs_inode_trusted(const struct stat *sb);

/*
 * The same for a program the agent runs as root (sshd_path, an init
 * script): walked on the host from "/", whatever root the agent manages,
 * since that is the file execve() runs.
 */
int rootfs_check_program(const char *path, char *why, size_t why_len);

/* Read a whole (small) file below root (opened as by rootfs_open) into buf,
 * NUL-terminated, trailing newline kept.  Returns the length or -errno
 * (-EFBIG if it does not fit). */
ssize_t root_read_file(int root_fd, const char *path, char *buf, size_t size);

/* Read a whole file of any size; *out is malloc'ed and NUL-terminated. */
int root_read_file_alloc(int root_fd, const char *path, char **out, size_t *len);

/*
 * The one reader of the root's /etc/passwd and /etc/group (never the
 * host's NSS: the root may be an image or a test tree).  Every layer that
 * needs a user or a group goes through it.
 */
enum rootfs_account_db {
	ROOTFS_PASSWD,
	ROOTFS_GROUP,
};

struct rootfs_account {
	const char *name;
	unsigned long id;	/* uid, or gid of a group */
	unsigned long gid;	/* passwd: primary gid; group: its gid */
	const char *home;	/* passwd; NULL when the line has none */
	const char *shell;	/* passwd; NULL when the line has none */
	const char *members;	/* group: comma-separated user names, "" for none */
};

struct rootfs_accounts {
	struct rootfs_account *v;	/* in file order; point into text */
	size_t n;
	char *text;
};

/* Lines without a name or a numeric id are skipped.  0 or -errno. */
int rootfs_accounts_read(int root_fd, enum rootfs_account_db db, struct rootfs_accounts *out);
void rootfs_accounts_free(struct rootfs_accounts *a);
/* The first entry named name, or NULL. */
const struct rootfs_account *rootfs_account_find(const struct rootfs_accounts *a, const char *name);
/* Is user a listed member of group (not counting primary groups)? */
bool rootfs_account_is_member(const struct rootfs_account *group, const char *user);

/* SHA-256 of a regular file below root, as lower-case hex. */
int rootfs_sha256(int root_fd, const char *path, char hex[ROOTFS_SHA256_HEX]);

/* One line of /proc/self/mounts, with octal escapes (\040) decoded. */
struct rootfs_mount {
	char *source;
	char *target;
	char *fstype;
	char *options;
};

struct rootfs_mounts {
	struct rootfs_mount *v;
	size_t n;
};

/* Parse a mounts table (the text of /proc/self/mounts). */
int rootfs_mounts_parse(const char *text, struct rootfs_mounts *out);
void rootfs_mounts_free(struct rootfs_mounts *m);
/* The mount that is visible at target: the last one listed for it. */
const struct rootfs_mount *rootfs_mounts_find(const struct rootfs_mounts *m,
					      const char *target);
/* True when the comma-separated options contain opt exactly. */
bool rootfs_option_has(const char *options, const char *opt);

#endif
