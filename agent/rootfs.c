/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sha2.h>

#include "errors.h"
#include "rootfs.h"
#include "util.h"

/* Is root_fd the process's own "/"?  Then no path can lead above it. */
static bool rootfs_is_slash(int root_fd)
{
	struct stat a, b;

	return fstat(root_fd, &a) == 0 && stat("/", &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * Without openat2 (kernels before 5.6, seccomp, valgrind): on the real
 * root a plain openat is already confined.  Below any other root, walk
 * the path one component at a time and refuse every symlink and "..":
 * stricter than RESOLVE_IN_ROOT, never outside the root.
 */
static int rootfs_open_fallback(int root_fd, const char *rel, int flags)
{
	char buf[4096];
	char *comp, *next;
	int dfd, fd;

	if (rootfs_is_slash(root_fd)) {
		fd = openat(root_fd, rel, flags | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	if (snprintf(buf, sizeof(buf), "%s", rel) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	dfd = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
	if (dfd < 0)
		return -errno;
	for (comp = buf;; comp = next) {
		next = strchr(comp, '/');
		if (next)
			*next++ = '\0';
		if (strcmp(comp, "..") == 0) {
			close(dfd);
			return -EXDEV;
		}
		if (!next || !*next) {
			fd = openat(dfd, comp, flags | O_NOFOLLOW | O_CLOEXEC);
			fd = fd < 0 ? -errno : fd;
			close(dfd);
			return fd;
		}
		if (*comp == '\0' || strcmp(comp, ".") == 0)
			continue;
		fd = openat(dfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(dfd);
		if (fd < 0)
			return errno == ENOTDIR ? -ELOOP : -errno;
		dfd = fd;
	}
}

int rootfs_open(int root_fd, const char *path, int flags)
{
	const char *rel = root_rel(path);
	int fd;

#ifdef SYS_openat2
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	fd = (int)syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
	if (fd >= 0)
		return fd;
	/* Kernels before 5.6 (ENOSYS) and seccomp filters (EPERM) lack it. */
	if (errno != ENOSYS && errno != EPERM)
		return -errno;
#endif
	return rootfs_open_fallback(root_fd, rel, flags);
}

int rootfs_opendir(int root_fd, const char *path, DIR **out)
{
	int fd = rootfs_open(root_fd, path, O_RDONLY | O_DIRECTORY);

	*out = NULL;
	if (fd < 0)
		return fd;
	*out = fdopendir(fd);
	if (!*out) {
		int err = -errno;

		close(fd);
		return err;
	}
	return 0;
}

int rootfs_watch_add(int inotify_fd, int root_fd, const char *path, unsigned int mask)
{
	char link[64];
	int fd, wd;

	fd = rootfs_open(root_fd, path, O_PATH);
	if (fd < 0)
		return fd;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	wd = inotify_add_watch(inotify_fd, link, mask);
	if (wd < 0)
		wd = -errno;
	close(fd);
	return wd;
}

int rootfs_mkdir_p(int root_fd, const char *path, unsigned int mode)
{
	char buf[4096];
	char *p;

	if (snprintf(buf, sizeof(buf), "/%s", root_rel(path)) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p, *slash;
			int dfd;

			*p = '\0';
			/* The parent, resolved inside the root; then one mkdirat in it. */
			slash = strrchr(buf, '/');
			*slash = '\0';
			dfd = rootfs_open(root_fd, slash == buf ? "/" : buf, O_RDONLY | O_DIRECTORY);
			*slash = '/';
			if (dfd < 0)
				return dfd;
			if (mkdirat(dfd, slash + 1, (mode_t)mode) < 0 && errno != EEXIST) {
				int err = -errno;

				close(dfd);
				return err;
			}
			close(dfd);
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

/*
 * Open the directory of path below root; *name points at the last
 * component inside path.  "/etc/ssh/x" -> fd of /etc/ssh, "x".
 */
static int rootfs_open_parent(int root_fd, const char *path, const char **name)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];

	*name = slash ? slash + 1 : path;
	if (!**name || strcmp(*name, ".") == 0 || strcmp(*name, "..") == 0 ||
	    strlen(*name) > 255)
		return -EINVAL;
	if (!slash)
		return rootfs_open(root_fd, ".", O_RDONLY | O_DIRECTORY);
	if (snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path) >=
	    (int)sizeof(dir))
		return -ENAMETOOLONG;
	return rootfs_open(root_fd, dir, O_RDONLY | O_DIRECTORY);
}

int rootfs_rename(int root_fd, const char *from, const char *to)
{
	const char *from_name, *to_name;
	int from_dfd, to_dfd, err = 0;

	from_dfd = rootfs_open_parent(root_fd, from, &from_name);
	if (from_dfd < 0)
		return from_dfd;
	to_dfd = rootfs_open_parent(root_fd, to, &to_name);
	if (to_dfd < 0) {
		close(from_dfd);
		return to_dfd;
	}
	if (renameat(from_dfd, from_name, to_dfd, to_name) < 0)
		err = -errno;
	/* The rename is durable only once its directory is on disk. */
	if (!err && fsync(to_dfd) < 0)
		err = -errno;
	close(from_dfd);
	close(to_dfd);
	return err;
}

int rootfs_unlink(int root_fd, const char *path)
{
	const char *name;
	int dfd, err = 0;

	dfd = rootfs_open_parent(root_fd, path, &name);
	if (dfd < 0)
		return dfd;
	if (unlinkat(dfd, name, 0) < 0)
		err = -errno;
	close(dfd);
	return err;
}

int rootfs_stat(int root_fd, const char *path, struct stat *st, bool follow)
{
	const char *name;
	int dfd, err = 0;

	if (follow) {
		int fd = rootfs_open(root_fd, path, O_PATH);

		if (fd < 0)
			return fd;
		if (fstat(fd, st) < 0)
			err = -errno;
		close(fd);
		return err;
	}
	dfd = rootfs_open_parent(root_fd, path, &name);
	if (dfd < 0)
		return dfd;
	if (fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
		err = -errno;
	close(dfd);
	return err;
}

int rootfs_write_atomic(int root_fd, const char *path, const void *data, size_t len,
			unsigned int mode)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	const char *p = data;
	char dir[4096], tmp[300];
	int dfd, fd, err = 0;

	if (!slash || !*name || strlen(name) > 200)
		return -EINVAL;
	snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	dfd = rootfs_open(root_fd, dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return dfd;
	snprintf(tmp, sizeof(tmp), ".%s.jefe-tmp.%ld", name, (long)getpid());
	unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		close(dfd);
		return err;
	}
	while (!err && len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno != EINTR)
				err = -errno;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	if (!err && fchmod(fd, (mode_t)mode) < 0)
		err = -errno;
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && renameat(dfd, tmp, dfd, name) < 0)
		err = -errno;
	/* Without this a crash can leave the old name, or none (ext4 data=writeback). */
	if (!err && fsync(dfd) < 0)
		err = -errno;
	if (err)
		unlinkat(dfd, tmp, 0);
	close(dfd);
	return err;
}

bool rootfs_inode_trusted(const struct stat *sb)
{
	return (sb->st_uid == 0 || sb->st_uid == geteuid()) && !(sb->st_mode & (S_IWGRP | S_IWOTH));
}

/* Is this inode one only root (or we) can change?  If not, why. */
static int trust_inode(const struct stat *sb, const char *shown_root, const char *path,
		       char *why, size_t why_len)
{
	const char *pre = shown_root && strcmp(shown_root, "/") ? shown_root : "";

	if (rootfs_inode_trusted(sb))
		return 0;
	if (sb->st_uid != 0 && sb->st_uid != geteuid()) {
		snprintf(why, why_len, "%s%s is owned by uid %u (only root may own it)",
			 pre, *path ? path : "/", (unsigned)sb->st_uid);
		return -JEFE_EUNTRUSTED;
	}
	if (sb->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, why_len, "%s%s has mode %04o (writable by %s)",
			 pre, *path ? path : "/", (unsigned)(sb->st_mode & 07777),
			 (sb->st_mode & S_IWOTH) ? "others" : "its group");
		return -JEFE_EUNTRUSTED;
	}
	return 0;
}

/*
 * The walk's names: four PATH_MAX buffers, on the heap.  On the stack they
 * made a 16.6 KB frame, and with -fstack-clash-protection (Debian's gcc
 * default) every page of a frame is touched by a probe: four new stack
 * pages for each policy file of every run, where the heap's pages are
 * reused by what the run allocates next.
 */
struct trust_walk {
	/* done: the resolved directories so far, "" or "/a/b", never a symlink. */
	char done[PATH_MAX], todo[PATH_MAX], target[PATH_MAX], rest[PATH_MAX];
};

static int trust_walk(struct trust_walk *w, int root_fd, const char *shown_root,
		      const char *path, char resolved[4096], char *why, size_t why_len)
{
	char *done = w->done, *todo = w->todo, *target = w->target;
	unsigned int links = 0;
	struct stat sb;
	char *comp;
	int err;

	done[0] = '\0';
	if (fstat(root_fd, &sb) < 0)
		return -errno;
	err = trust_inode(&sb, shown_root, "", why, why_len);
	if (err)
		return err;
	if (snprintf(todo, PATH_MAX, "%s", path) >= PATH_MAX)
		return -ENAMETOOLONG;
	comp = todo;
	while (comp) {
		char *next = strchr(comp, '/');
		size_t dlen = strlen(done);

		if (next)
			*next++ = '\0';
		if (*comp == '\0' || strcmp(comp, ".") == 0) {
			comp = next;
			continue;
		}
		if (strcmp(comp, "..") == 0) {
			/* done holds no symlink: dropping its last name is exact. */
			char *slash = strrchr(done, '/');

			if (slash)
				*slash = '\0';
			comp = next;
			continue;
		}
		if (dlen + 1 + strlen(comp) >= PATH_MAX)
			return -ENAMETOOLONG;
		snprintf(done + dlen, PATH_MAX - dlen, "/%s", comp);
		if (fstatat(root_fd, done + 1, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (S_ISLNK(sb.st_mode)) {
			ssize_t n;

			if (++links > 40)
				return -ELOOP;
			n = readlinkat(root_fd, done + 1, target, PATH_MAX - 1);
			if (n < 0)
				return -errno;
			target[n] = '\0';
			done[dlen] = '\0';
			if (target[0] == '/')
				done[0] = '\0';	/* absolute: from the root again */
			if (snprintf(w->rest, PATH_MAX, "%s%s%s", target, next ? "/" : "",
				     next ? next : "") >= PATH_MAX)
				return -ENAMETOOLONG;
			memcpy(todo, w->rest, PATH_MAX);
			comp = todo;
			continue;
		}
		err = trust_inode(&sb, shown_root, done, why, why_len);
		if (err)
			return err;
		if (next && !S_ISDIR(sb.st_mode))
			return -ENOTDIR;
		comp = next;
	}
	if (resolved)
		snprintf(resolved, 4096, "%s", *done ? done : "/");
	return 0;
}

int rootfs_check_trusted(int root_fd, const char *shown_root, const char *path,
			 char resolved[4096], char *why, size_t why_len)
{
	struct trust_walk *w = malloc(sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	err = trust_walk(w, root_fd, shown_root, path, resolved, why, why_len);
	free(w);
	return err;
}

int rootfs_check_program(const char *path, char *why, size_t why_len)
{
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	err = rootfs_check_trusted(fd, NULL, path, NULL, why, why_len);
	close(fd);
	return err;
}

int rootfs_sha256(int root_fd, const char *path, char hex[ROOTFS_SHA256_HEX])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char buf[65536], md[SHA256_DIGEST_LENGTH];
	SHA2_CTX ctx;
	struct stat st;
	int fd, err = 0;

	fd = rootfs_open(root_fd, path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fd;
	/* A FIFO or a device planted at a managed path must not block us. */
	if (fstat(fd, &st) < 0)
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	if (err) {
		close(fd);
		return err;
	}
	SHA256Init(&ctx);
	while (!err) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		SHA256Update(&ctx, buf, (size_t)n);
	}
	SHA256Final(md, &ctx);
	close(fd);
	if (err)
		return err;
	for (unsigned int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[2 * SHA256_DIGEST_LENGTH] = '\0';
	return 0;
}

/* Undo the kernel's octal escapes of space, tab, newline and backslash. */
static char *mount_field_decode(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 3 < len &&
		    s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			*o++ = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

void rootfs_mounts_free(struct rootfs_mounts *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].source);
		free(m->v[i].target);
		free(m->v[i].fstype);
		free(m->v[i].options);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

int rootfs_mounts_parse(const char *text, struct rootfs_mounts *out)
{
	size_t cap = 0;
	const char *line = text;

	memset(out, 0, sizeof(*out));
	while (line && *line) {
		const char *end = strchr(line, '\n');
		const char *f[4];
		size_t flen[4];
		const char *p = line;
		unsigned int nf = 0;

		if (!end)
			end = line + strlen(line);
		while (nf < 4 && p < end) {
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			if (p == end)
				break;
			f[nf] = p;
			while (p < end && *p != ' ' && *p != '\t')
				p++;
			flen[nf] = (size_t)(p - f[nf]);
			nf++;
		}
		/* Lines with fewer fields are not mounts (blank or garbage): skip. */
		if (nf == 4) {
			struct rootfs_mount *m;

			struct rootfs_mount *v = array_grow(out->v, out->n, &cap, sizeof(*out->v));

			if (!v)
				goto nomem;
			out->v = v;
			m = &out->v[out->n];
			m->source = mount_field_decode(f[0], flen[0]);
			m->target = mount_field_decode(f[1], flen[1]);
			m->fstype = mount_field_decode(f[2], flen[2]);
			m->options = mount_field_decode(f[3], flen[3]);
			out->n++;
			if (!m->source || !m->target || !m->fstype || !m->options)
				goto nomem;
		}
		line = *end ? end + 1 : NULL;
	}
	return 0;
nomem:
	rootfs_mounts_free(out);
	return -ENOMEM;
}

const struct rootfs_mount *rootfs_mounts_find(const struct rootfs_mounts *m,
					      const char *target)
{
	for (size_t i = m->n; i > 0; i--)
		if (strcmp(m->v[i - 1].target, target) == 0)
			return &m->v[i - 1];
	return NULL;
}

bool rootfs_option_has(const char *options, const char *opt)
{
	size_t len = strlen(opt);
	const char *p = options;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (n == len && strncmp(p, opt, len) == 0)
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

ssize_t root_read_file(int root_fd, const char *path, char *buf, size_t size)
{
	size_t len = 0;
	int fd, err = 0;

	if (size == 0)
		return -EINVAL;
	fd = rootfs_open(root_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fd;
	for (;;) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == size - 1) {
			char extra;

			/* Full buffer: only an error if there is more to read. */
			n = read(fd, &extra, 1);
			if (n > 0)
				err = -EFBIG;
			break;
		}
	}
	close(fd);
	if (err)
		return err;
	buf[len] = '\0';
	return (ssize_t)len;
}

int root_read_file_alloc(int root_fd, const char *path, char **out, size_t *len_out)
{
	size_t cap = 4096, len = 0;
	char *buf;
	int fd;

	fd = rootfs_open(root_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fd;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			int err = -errno;

			if (errno == EINTR)
				continue;
			free(buf);
			close(fd);
			return err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	if (len_out)
		*len_out = len;
	return 0;
}

/* Split line on ':' into at most max fields; returns how many. */
static size_t rootfs_fields(char *line, char **f, size_t max)
{
	size_t n = 0;

	while (line && n < max) {
		f[n++] = line;
		line = strchr(line, ':');
		if (line)
			*line++ = '\0';
	}
	return n;
}

static bool rootfs_id_parse(const char *s, unsigned long *out)
{
	char *end;

	if (!*s)
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0';
}

int rootfs_accounts_read(int root_fd, enum rootfs_account_db db, struct rootfs_accounts *out)
{
	const bool passwd = db == ROOTFS_PASSWD;
	size_t cap = 0;
	char *save = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	/* The root's own database, never the host's NSS: the root may be an image or a test tree. */
	err = root_read_file_alloc(root_fd, passwd ? "/etc/passwd" : "/etc/group", &out->text, NULL);
	if (err)
		return err;
	for (char *line = strtok_r(out->text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[7] = { 0 };
		size_t n = rootfs_fields(line, f, passwd ? 7 : 4);
		struct rootfs_account a = { .name = f[0] };
		struct rootfs_account *v;

		/* name:password:ID[:GID...]: a line without a numeric id is no account. */
		if (n < (passwd ? 4u : 3u) || !*f[0] || !rootfs_id_parse(f[2], &a.id) ||
		    (passwd && !rootfs_id_parse(f[3], &a.gid)))
			continue;
		if (passwd) {
			a.home = n > 5 ? f[5] : NULL;
			a.shell = n > 6 ? f[6] : NULL;
		} else {
			a.gid = a.id;
			a.members = n > 3 ? f[3] : "";
		}
		v = array_grow(out->v, out->n, &cap, sizeof(*out->v));
		if (!v) {
			rootfs_accounts_free(out);
			return -ENOMEM;
		}
		out->v = v;
		out->v[out->n++] = a;
	}
	return 0;
}

void rootfs_accounts_free(struct rootfs_accounts *a)
{
	free(a->v);
	free(a->text);
	memset(a, 0, sizeof(*a));
}

const struct rootfs_account *rootfs_account_find(const struct rootfs_accounts *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, name) == 0)
			return &a->v[i];
	return NULL;
}

bool rootfs_account_is_member(const struct rootfs_account *group, const char *user)
{
	const char *p = group->members;
	size_t len = strlen(user);

	while (p && *p) {
		size_t n = strcspn(p, ",");

		if (n == len && strncmp(p, user, len) == 0)
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}
