/* SPDX-License-Identifier: MIT */
/* Files and trees: reading lists, hashing inputs, copying results. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ib.h"
#include "rootfs.h"

int fs_path_join(char *buf, size_t size, const char *a, const char *b)
{
	int n;

	while (b[0] == '/')
		b++;
	n = snprintf(buf, size, "%s/%s", a, b);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

static int fs_rm_at(int dirfd, const char *name)
{
	const char *base = strrchr(name, '/');
	struct dirent *de;
	DIR *d;
	int fd, err = 0;

	base = base ? base + 1 : name;
	if (!strcmp(base, ".") || !strcmp(base, ".."))
		return -EINVAL;

	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while (!err && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		err = fs_rm_at(fd, de->d_name);
	}
	closedir(d);
	if (!err && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		err = -errno;
	return err;
}

int fs_rm_rf(const char *path)
{
	return fs_rm_at(AT_FDCWD, path);
}

int fs_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int fs_copy_tree(struct ib_stage_ctx *ctx, const char *from, const char *to)
{
	char src[PATH_MAX + 2];
	char *argv[] = { "cp", "-a", src, (char *)to, NULL };

	/* "from/." copies the contents, whether or not "to" exists. */
	if (snprintf(src, sizeof(src), "%s/.", from) >= (int)sizeof(src))
		return -ENAMETOOLONG;
	return run_cmd(ctx, NULL, argv);
}

int fs_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	const char *p = data;
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.ib-tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (!err && fchmod(fd, mode) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	/* rename, never rewrite in place: the target may be a hard link */
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int fs_read_file(const char *path, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -errno;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	if (len)
		*len = got;
	return 0;
}

int fs_copy_file(const char *from, const char *to, mode_t mode)
{
	char *data;
	size_t len;
	int err;

	err = fs_read_file(from, &data, &len);
	if (err < 0)
		return err;
	err = fs_write_file(to, data, len, mode);
	free(data);
	return err;
}

int fs_file_hash(const char *path, struct sha256 *h)
{
	char buf[65536];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sha256_update(h, buf, (size_t)n);
	close(fd);
	return n < 0 ? -errno : 0;
}

/*
 * The one walk of a host tree, for the hash and the overlay copy: the
 * entries of top/rel in name order (alphasort, so a hash never depends on
 * readdir order), "." and ".." left out, each lstat'ed (links are never
 * followed) and handed to visit with its host path and its path below top;
 * a directory is entered after visit accepted it (returned 0).  Stops at
 * the first error.
 */
typedef int (*fs_tree_walk_fn)(void *arg, const char *path, const char *sub,
			       const struct stat *st);

static int fs_tree_walk(const char *top, const char *rel, fs_tree_walk_fn visit, void *arg)
{
	struct dirent **names;
	char path[PATH_MAX], sub[PATH_MAX];
	int i, n, err = 0;

	if (snprintf(path, sizeof(path), "%s%s%s", top, *rel ? "/" : "", rel) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		struct stat st;

		if (err || !strcmp(name, ".") || !strcmp(name, ".."))
			goto next;
		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", name) >=
		    (int)sizeof(sub) ||
		    snprintf(path, sizeof(path), "%s/%s", top, sub) >= (int)sizeof(path)) {
			err = -ENAMETOOLONG;
			goto next;
		}
		if (lstat(path, &st) < 0) {
			err = -errno;
			goto next;
		}
		err = visit(arg, path, sub, &st);
		if (!err && S_ISDIR(st.st_mode))
			err = fs_tree_walk(top, sub, visit, arg);
next:
		free(names[i]);
	}
	free(names);
	return err;
}

/* Each entry's relative path and mode; a link's target, a file's content. */
static int fs_tree_hash_visit(void *arg, const char *path, const char *sub,
			      const struct stat *st)
{
	struct sha256 *h = arg;
	char mode[16], target[PATH_MAX];

	sha256_update_str(h, sub);
	snprintf(mode, sizeof(mode), "%o", (unsigned)st->st_mode);
	sha256_update_str(h, mode);
	if (S_ISLNK(st->st_mode)) {
		ssize_t len = readlink(path, target, sizeof(target) - 1);

		if (len < 0)
			return -errno;
		target[len] = '\0';
		sha256_update_str(h, target);
	} else if (S_ISREG(st->st_mode)) {
		return fs_file_hash(path, h);
	}
	return 0;
}

int fs_tree_hash(const char *path, struct sha256 *h)
{
	return fs_tree_walk(path, "", fs_tree_hash_visit, h);
}

void fs_list_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int fs_list_read(const char *path, char ***out, size_t *n)
{
	char *data, *line, *save = NULL;
	char **v = NULL;
	size_t count = 0;
	int err;

	err = fs_read_file(path, &data, NULL);
	if (err < 0)
		return err;
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(line, '#');
		char *end, *word;
		char **nv;

		if (hash)
			*hash = '\0';
		word = line + strspn(line, " \t");
		end = word + strlen(word);
		while (end > word && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		if (!*word)
			continue;
		if (strpbrk(word, " \t")) {
			fprintf(stderr, "%s: '%s': one package a line\n", path, word);
			err = -IB_EINPUT;
			break;
		}
		nv = realloc(v, (count + 1) * sizeof(*v));
		if (!nv || !(nv[count] = strdup(word))) {
			v = nv ? nv : v;
			err = -ENOMEM;
			break;
		}
		v = nv;
		count++;
	}
	free(data);
	if (err < 0) {
		fs_list_free(v, count);
		return err;
	}
	*out = v;
	*n = count;
	return 0;
}

/*
 * The image root, through one O_DIRECTORY fd.  Every lookup below it goes
 * through rootfs_open (openat2 RESOLVE_IN_ROOT): a symlink a package or an
 * overlay left in the image (/etc/foo -> /etc/host-file, ../../../x) is
 * resolved as if the root were "/", so the builder, running as root on the
 * build host, can never write, chmod or unlink a host file through it.
 */
int fs_root_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* "/rel": the rootfs helpers want an absolute path below the root. */
static int fs_root_abs(char *buf, size_t size, const char *rel)
{
	while (rel[0] == '/')
		rel++;
	if (!*rel || snprintf(buf, size, "/%s", rel) >= (int)size)
		return *rel ? -ENAMETOOLONG : -EINVAL;
	return 0;
}

/* The directory of rel, opened inside the root; *name is its last part. */
static int fs_root_parent(int root_fd, const char *rel, char *buf, size_t size,
			  const char **name)
{
	char *slash;
	int err = fs_root_abs(buf, size, rel);

	if (err < 0)
		return err;
	slash = strrchr(buf, '/');
	*name = slash + 1;
	if (!**name || !strcmp(*name, ".") || !strcmp(*name, ".."))
		return -EINVAL;
	*slash = '\0';
	return rootfs_open(root_fd, *buf ? buf : "/", O_PATH | O_DIRECTORY);
}

int fs_root_write(int root_fd, const char *rel, const void *data, size_t len, mode_t mode)
{
	char abs[PATH_MAX];
	int err = fs_root_abs(abs, sizeof(abs), rel);

	return err < 0 ? err : rootfs_write_atomic(root_fd, abs, data, len, mode);
}

int fs_root_copy_file(int root_fd, const char *from, const char *rel, mode_t mode)
{
	char *data;
	size_t len;
	int err;

	err = fs_read_file(from, &data, &len);
	if (err < 0)
		return err;
	err = fs_root_write(root_fd, rel, data, len, mode);
	free(data);
	return err;
}

int fs_root_read(int root_fd, const char *rel, char **out, size_t *len)
{
	char abs[PATH_MAX];
	size_t n;
	int err = fs_root_abs(abs, sizeof(abs), rel);

	if (!err)
		err = root_read_file_alloc(root_fd, abs, out, &n);
	if (!err && len)
		*len = n;
	return err;
}

int fs_root_mkdir_p(int root_fd, const char *rel, mode_t mode)
{
	char abs[PATH_MAX];
	int err = fs_root_abs(abs, sizeof(abs), rel);

	return err < 0 ? err : rootfs_mkdir_p(root_fd, abs, mode);
}

/* chmod and chown follow a final symlink, inside the root. */
int fs_root_chmod(int root_fd, const char *rel, mode_t mode)
{
	char link[64];
	int fd, err = 0;

	fd = rootfs_open(root_fd, rel, O_PATH);
	if (fd < 0)
		return fd;
	/* fchmod() refuses O_PATH fds; the magic link names the same inode. */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if (chmod(link, mode) < 0)
		err = -errno;
	close(fd);
	return err;
}

int fs_root_chown(int root_fd, const char *rel, uid_t uid, gid_t gid)
{
	int fd, err = 0;

	fd = rootfs_open(root_fd, rel, O_PATH);
	if (fd < 0)
		return fd;
	if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* The link itself, never what it points to. */
int fs_root_lchown(int root_fd, const char *rel, uid_t uid, gid_t gid)
{
	char buf[PATH_MAX];
	const char *name;
	int dfd, err = 0;

	dfd = fs_root_parent(root_fd, rel, buf, sizeof(buf), &name);
	if (dfd < 0)
		return dfd;
	if (fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		err = -errno;
	close(dfd);
	return err;
}

/* Replaces whatever is at rel (not a directory). */
int fs_root_symlink(int root_fd, const char *target, const char *rel)
{
	char buf[PATH_MAX];
	const char *name;
	int dfd, err = 0;

	dfd = fs_root_parent(root_fd, rel, buf, sizeof(buf), &name);
	if (dfd < 0)
		return dfd;
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		err = -errno;
	if (!err && symlinkat(target, dfd, name) < 0)
		err = -errno;
	close(dfd);
	return err;
}

int fs_root_unlink(int root_fd, const char *rel)
{
	char abs[PATH_MAX];
	int err = fs_root_abs(abs, sizeof(abs), rel);

	return err < 0 ? err : rootfs_unlink(root_fd, abs);
}

int fs_root_stat(int root_fd, const char *rel, struct stat *st, bool follow)
{
	char abs[PATH_MAX];
	int err = fs_root_abs(abs, sizeof(abs), rel);

	return err < 0 ? err : rootfs_stat(root_fd, abs, st, follow);
}

struct fs_copy {
	int root_fd;
	const char *rel;	/* where the tree goes in the image */
	uid_t uid;
	gid_t gid;
};

static int fs_root_copy_visit(void *arg, const char *s, const char *sub,
			      const struct stat *st)
{
	const struct fs_copy *c = arg;
	char d[PATH_MAX], target[PATH_MAX];
	struct stat dst_st;
	int err = 0;

	if (snprintf(d, sizeof(d), "%s/%s", c->rel, sub) >= (int)sizeof(d))
		return -ENAMETOOLONG;
	if (S_ISDIR(st->st_mode)) {
		if (fs_root_stat(c->root_fd, d, &dst_st, true) < 0) {
			err = fs_root_mkdir_p(c->root_fd, d, 0755);
			if (!err)
				err = fs_root_chown(c->root_fd, d, c->uid, c->gid);
			if (!err)
				err = fs_root_chmod(c->root_fd, d, 0755);
		}
	} else if (S_ISLNK(st->st_mode)) {
		ssize_t len = readlink(s, target, sizeof(target) - 1);

		if (len < 0)
			return -errno;
		target[len] = '\0';
		err = fs_root_symlink(c->root_fd, target, d);
		if (!err)
			err = fs_root_lchown(c->root_fd, d, c->uid, c->gid);
	} else if (S_ISREG(st->st_mode)) {
		mode_t mode = st->st_mode & 0111 ? 0755 : 0644;

		err = fs_root_copy_file(c->root_fd, s, d, mode);
		if (!err)
			err = fs_root_lchown(c->root_fd, d, c->uid, c->gid);
	} else {
		fprintf(stderr, "jefe-image-build: overlay %s: not a file, "
			"directory or symlink\n", s);
		return -IB_EINPUT;
	}
	if (err < 0)
		fprintf(stderr, "jefe-image-build: %s -> image %s: %s\n", s, d,
			strerror(-err));
	return err;
}

/*
 * Copy the host tree src over rel in the image, everything owned by
 * uid:gid (directories and executables 0755, other files 0644), symlinks copied
 * as links.  Each destination is looked up inside the root: an image
 * symlink (/lib -> usr/lib) is followed, but never out of the root.
 */
int fs_root_copy_tree(int root_fd, const char *src, const char *rel, uid_t uid, gid_t gid)
{
	struct fs_copy c = { .root_fd = root_fd, .rel = rel, .uid = uid, .gid = gid };

	return fs_tree_walk(src, "", fs_root_copy_visit, &c);
}

/* A directory of the image, for readdir (closedir closes the fd). */
int fs_root_opendir(int root_fd, const char *rel, DIR **out)
{
	char abs[PATH_MAX];
	int err = fs_root_abs(abs, sizeof(abs), rel);

	return err < 0 ? err : rootfs_opendir(root_fd, abs, out);
}

int fs_root_rename(int root_fd, const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];
	int err = fs_root_abs(a, sizeof(a), from);

	if (!err)
		err = fs_root_abs(b, sizeof(b), to);
	return err < 0 ? err : rootfs_rename(root_fd, a, b);
}

/* rm -rf below the root; a missing path is not an error. */
int fs_root_rm_rf(int root_fd, const char *rel)
{
	char buf[PATH_MAX];
	const char *name;
	int dfd, err;

	dfd = fs_root_parent(root_fd, rel, buf, sizeof(buf), &name);
	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return dfd;
	err = fs_rm_at(dfd, name);
	close(dfd);
	return err;
}

/* rmdir below the root: only an empty directory goes. */
int fs_root_rmdir(int root_fd, const char *rel)
{
	char buf[PATH_MAX];
	const char *name;
	int dfd, err = 0;

	dfd = fs_root_parent(root_fd, rel, buf, sizeof(buf), &name);
	if (dfd < 0)
		return dfd;
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0)
		err = -errno;
	close(dfd);
	return err;
}
