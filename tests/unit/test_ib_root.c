/* SPDX-License-Identifier: MIT */
/*
 * The image builder's writes into an image root (fs_root_* in
 * image-build/fs.c) stay inside it: a fake root holds /etc/evil, an
 * absolute symlink to a file outside it, and /etc/rel, a relative one
 * climbing out with ../../..; every helper and an overlay copy run
 * through them, and the outside files must be untouched while the
 * writes land inside the root.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ib.h"

struct fixture {
	char top[PATH_MAX];		/* the test's temporary directory */
	char root[PATH_MAX];		/* top/root: the image root */
	char outside[PATH_MAX];		/* top/OUTSIDE-file */
	char outdir[PATH_MAX];		/* top/OUTSIDE-dir */
	int root_fd;
};

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void path2(char *buf, const char *a, const char *b)
{
	assert_true(snprintf(buf, PATH_MAX, "%s/%s", a, b) < PATH_MAX);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char p[PATH_MAX];
	const char *tmp = getenv("TMPDIR");

	if (!f)
		return -1;
	snprintf(f->top, sizeof(f->top), "%s/ibroot.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(f->top))
		return -1;
	path2(f->root, f->top, "root");
	path2(f->outside, f->top, "OUTSIDE-file");
	path2(f->outdir, f->top, "OUTSIDE-dir");
	if (mkdir(f->root, 0755) < 0 || mkdir(f->outdir, 0755) < 0)
		return -1;
	path2(p, f->root, "etc");
	if (mkdir(p, 0755) < 0)
		return -1;
	put(f->outside, "host\n");
	if (chmod(f->outside, 0600) < 0)
		return -1;
	/* absolute: as a package or an overlay could leave it */
	path2(p, f->root, "etc/evil");
	if (symlink(f->outside, p) < 0)
		return -1;
	/* relative, climbing above the root: root/etc/../../OUTSIDE-file */
	path2(p, f->root, "etc/rel");
	if (symlink("../../OUTSIDE-file", p) < 0)
		return -1;
	/* a directory link out of the root, and a deep relative one */
	path2(p, f->root, "etc/evildir");
	if (symlink(f->outdir, p) < 0)
		return -1;
	path2(p, f->root, "etc/reldir");
	if (symlink("../../../../../../../../OUTSIDE-dir", p) < 0)
		return -1;
	f->root_fd = fs_root_open(f->root);
	if (f->root_fd < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	close(f->root_fd);
	fs_rm_rf(f->top);
	free(f);
	return 0;
}

/* The host's file keeps its content and mode, and the host's directory
 * stays empty. */
static void assert_outside_untouched(const struct fixture *f)
{
	char *data;
	struct stat st;
	int n = 0;
	char p[PATH_MAX];

	assert_int_equal(fs_read_file(f->outside, &data, NULL), 0);
	assert_string_equal(data, "host\n");
	free(data);
	assert_int_equal(lstat(f->outside, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	path2(p, f->outdir, "x");
	n += access(p, F_OK) == 0;
	path2(p, f->outdir, "sub");
	n += access(p, F_OK) == 0;
	path2(p, f->outdir, "file");
	n += access(p, F_OK) == 0;
	assert_int_equal(n, 0);
}

static void assert_inside(const struct fixture *f, const char *rel, const char *text)
{
	char p[PATH_MAX], *data;

	path2(p, f->root, rel);
	assert_int_equal(fs_read_file(p, &data, NULL), 0);
	assert_string_equal(data, text);
	free(data);
}

static void test_write_replaces_link(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	char p[PATH_MAX];

	assert_int_equal(fs_root_write(f->root_fd, "etc/evil", "image\n", 6, 0644), 0);
	assert_int_equal(fs_root_write(f->root_fd, "/etc/rel", "image\n", 6, 0644), 0);
	assert_outside_untouched(f);
	assert_inside(f, "etc/evil", "image\n");
	assert_inside(f, "etc/rel", "image\n");
	path2(p, f->root, "etc/evil");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

/* A directory link is resolved as if the root were "/": the write lands
 * in the root's own /<target> (created on demand), never on the host. */
static void test_write_through_dir_link(void **state)
{
	struct fixture *f = *state;
	char p[PATH_MAX];
	const char *outdir_rel = f->outdir + 1;	/* its path, below the root */

	path2(p, f->root, outdir_rel);
	assert_int_equal(fs_mkdir_p(p, 0755), 0);
	path2(p, f->root, "OUTSIDE-dir");
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(fs_root_write(f->root_fd, "etc/evildir/x", "in\n", 3, 0644), 0);
	assert_int_equal(fs_root_mkdir_p(f->root_fd, "etc/evildir/sub/deep", 0755), 0);
	assert_int_equal(fs_root_copy_file(f->root_fd, f->outside, "etc/reldir/file", 0644), 0);
	assert_outside_untouched(f);
	path2(p, outdir_rel, "x");
	assert_inside(f, p, "in\n");
	/* ../../../.. stops at the root: root/OUTSIDE-dir */
	assert_inside(f, "OUTSIDE-dir/file", "host\n");
}

static void test_chmod_chown_unlink_symlink(void **state)
{
	struct fixture *f = *state;
	char target[PATH_MAX], p[PATH_MAX];
	struct stat st;
	ssize_t n;

	/* the links resolve inside the root, where there is no such file */
	assert_int_equal(fs_root_chmod(f->root_fd, "etc/evil", 0777), -ENOENT);
	assert_int_equal(fs_root_chmod(f->root_fd, "etc/rel", 0777), -ENOENT);
	assert_int_equal(fs_root_chown(f->root_fd, "etc/evil", 0, 0), -ENOENT);
	assert_int_equal(fs_root_chown(f->root_fd, "etc/rel", 0, 0), -ENOENT);
	assert_int_equal(fs_root_lchown(f->root_fd, "etc/evil", getuid(), getgid()), 0);
	assert_int_equal(fs_root_unlink(f->root_fd, "etc/evil"), 0);
	assert_int_equal(fs_root_symlink(f->root_fd, "/bin/busybox", "etc/rel"), 0);
	assert_int_equal(fs_root_symlink(f->root_fd, "x", "etc/evildir/l"), -ENOENT);
	assert_outside_untouched(f);
	path2(p, f->root, "etc/evil");
	assert_int_equal(lstat(p, &st), -1);
	path2(p, f->root, "etc/rel");
	n = readlink(p, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "/bin/busybox");
	/* and reads go through the root too */
	path2(p, f->root, "etc/hello");
	put(p, "hi\n");
	assert_int_equal(fs_root_symlink(f->root_fd, "/etc/hello", "etc/l"), 0);
	{
		char *data;

		assert_int_equal(fs_root_read(f->root_fd, "etc/l", &data, NULL), 0);
		assert_string_equal(data, "hi\n");
		free(data);
		assert_int_equal(fs_root_chmod(f->root_fd, "etc/l", 0600), 0);
		assert_int_equal(lstat(p, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
		assert_int_equal(fs_root_read(f->root_fd, "etc/reldir/../../../evil", &data, NULL),
				 -ENOENT);
	}
}

/* An --overlay whose tree names the image's links: its files replace
 * them, its directories follow them only inside the root. */
static void test_overlay_copy(void **state)
{
	struct fixture *f = *state;
	char ov[PATH_MAX], p[PATH_MAX];

	/* where the links lead inside the root */
	path2(p, f->root, f->outdir + 1);
	assert_int_equal(fs_mkdir_p(p, 0755), 0);
	path2(p, f->root, "OUTSIDE-dir");
	assert_int_equal(mkdir(p, 0755), 0);
	path2(ov, f->top, "overlay");
	path2(p, ov, "etc/evildir");
	assert_int_equal(fs_mkdir_p(p, 0755), 0);
	path2(p, ov, "etc/evildir/x");
	put(p, "overlay\n");
	path2(p, ov, "etc/evil");
	put(p, "overlay\n");
	path2(p, ov, "etc/rel");
	put(p, "overlay\n");
	path2(p, ov, "etc/reldir");
	assert_int_equal(fs_mkdir_p(p, 0755), 0);
	path2(p, ov, "etc/reldir/sub");
	assert_int_equal(fs_mkdir_p(p, 0755), 0);
	path2(p, ov, "etc/reldir/sub/file");
	put(p, "overlay\n");
	assert_int_equal(fs_root_copy_tree(f->root_fd, ov, "", getuid(), getgid()), 0);
	assert_outside_untouched(f);
	assert_inside(f, "etc/evil", "overlay\n");
	assert_inside(f, "etc/rel", "overlay\n");
	path2(p, f->outdir + 1, "x");
	assert_inside(f, p, "overlay\n");
	assert_inside(f, "OUTSIDE-dir/sub/file", "overlay\n");
	/* modes as the overlay stage sets them */
	{
		struct stat st;

		path2(p, f->root, "OUTSIDE-dir/sub");
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0755);
		path2(p, f->root, "OUTSIDE-dir/sub/file");
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0644);
		assert_int_equal(st.st_uid, getuid());
	}
}

/* A tree's hash as the cache keys take it. */
static void tree_hash_hex(const char *path, char hex[2 * SHA256_LEN + 1])
{
	struct sha256 h;
	uint8_t md[SHA256_LEN];

	sha256_init(&h);
	assert_int_equal(fs_tree_hash(path, &h), 0);
	sha256_final(&h, md);
	sha256_hex(md, hex);
}

/* Build the same small tree (a file, a subdirectory, a symlink) at dir,
 * creating its entries in the given order. */
static void tree_make(const char *dir, bool reverse)
{
	char p[PATH_MAX];

	assert_int_equal(fs_mkdir_p(dir, 0755), 0);
	for (int i = 0; i < 2; i++) {
		if (i == (reverse ? 1 : 0)) {
			path2(p, dir, "a.conf");
			put(p, "a\n");
			assert_int_equal(chmod(p, 0644), 0);
		} else {
			path2(p, dir, "sub");
			assert_int_equal(mkdir(p, 0755), 0);
			assert_int_equal(chmod(p, 0755), 0);
			path2(p, dir, "sub/b");
			put(p, "b\n");
			assert_int_equal(chmod(p, 0755), 0);
			path2(p, dir, "sub/link");
			assert_int_equal(symlink("../a.conf", p), 0);
		}
	}
	assert_int_equal(chmod(dir, 0755), 0);
}

/*
 * The cache keys' tree hash: the same tree built elsewhere, in another
 * order, hashes the same; a byte of content, a mode, a symlink's target
 * or a name changes it.
 */
static void test_tree_hash(void **state)
{
	struct fixture *f = *state;
	char a[PATH_MAX], b[PATH_MAX], p[PATH_MAX];
	char ha[2 * SHA256_LEN + 1], hb[2 * SHA256_LEN + 1];

	path2(a, f->top, "tree-a");
	path2(b, f->top, "tree-b");
	tree_make(a, false);
	tree_make(b, true);
	tree_hash_hex(a, ha);
	tree_hash_hex(b, hb);
	assert_string_equal(ha, hb);

	path2(p, b, "sub/b");
	put(p, "B\n");
	tree_hash_hex(b, hb);
	assert_string_not_equal(ha, hb);
	put(p, "b\n");
	tree_hash_hex(b, hb);
	assert_string_equal(ha, hb);

	assert_int_equal(chmod(p, 0644), 0);
	tree_hash_hex(b, hb);
	assert_string_not_equal(ha, hb);
	assert_int_equal(chmod(p, 0755), 0);

	path2(p, b, "sub/link");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("b", p), 0);
	tree_hash_hex(b, hb);
	assert_string_not_equal(ha, hb);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("../a.conf", p), 0);
	tree_hash_hex(b, hb);
	assert_string_equal(ha, hb);

	path2(p, b, "a.conf");
	path2(a, b, "c.conf");
	assert_int_equal(rename(p, a), 0);
	tree_hash_hex(b, hb);
	assert_string_not_equal(ha, hb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_replaces_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_through_dir_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chmod_chown_unlink_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlay_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tree_hash, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
