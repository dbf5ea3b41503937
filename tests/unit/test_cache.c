/* SPDX-License-Identifier: MIT */
/*
 * What the agent remembers instead of recomputing: file identities
 * (cache.h), the sshd layer's program answers (sshd_cache.h) and the files
 * layer's hash index (files_index.h), in memory, against a temporary tree.
 * The root-only cache files are tested as root in tests/sshd/sshd-cache.sh
 * and tests/root/files-index.sh.
 *
 * A cached answer is only trusted for files whose ctime is more than
 * CACHE_SETTLE_SEC older than the answer, so the tree is made once and the
 * tests start after waiting that long (group setup).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "files_index.h"
#include "sshd_cache.h"
#include "testutil.h"

static char *tree;	/* the temporary root, made once */
static int tree_fd = -1;

static const char *const names[] = {
	"prog", "prog2", "id-size", "id-mtime", "id-ctime", "id-ino", "dep-same", "dep-gone",
	"dir/conf", "hash-same", "hash-edit", "hash-backstop", "hash-zero", "hash-ino",
};

static int group_setup(void **state)
{
	(void)state;
	tree = tu_mkdtemp();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		tu_write(tree, names[i], "0123456789\n");
	tree_fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* Every file above must be settled before the first answer is recorded. */
	sleep(CACHE_SETTLE_SEC + 1);
	return tree_fd < 0;
}

static int group_teardown(void **state)
{
	(void)state;
	close(tree_fd);
	tu_rmtree(tree);
	free(tree);
	return 0;
}

static char *host_path(const char *rel)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", tree, rel);
	return buf;
}

/* Rewrite rel with other bytes of the same size and put its mtime back. */
static void edit_same_size_keep_mtime(const char *rel)
{
	struct stat sb;
	struct timespec ts[2];
	int fd;

	assert_int_equal(stat(host_path(rel), &sb), 0);
	fd = open(host_path(rel), O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "9876543210\n", 11, 0), 11);
	close(fd);
	ts[0] = sb.st_atim;
	ts[1] = sb.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, host_path(rel), ts, 0), 0);
}

/* ---- identities ---- */

static void test_fileid_fields(void **state)
{
	struct cache_fileid a, b;

	(void)state;
	assert_int_equal(cache_fileid_get(tree_fd, "/id-size", &a), 0);
	assert_true(a.present);
	b = a;
	assert_true(cache_fileid_equal(&a, &b));
	/* Each field alone makes it another identity. */
	b = a; b.dev++;
	assert_false(cache_fileid_equal(&a, &b));
	b = a; b.ino++;
	assert_false(cache_fileid_equal(&a, &b));
	b = a; b.size++;
	assert_false(cache_fileid_equal(&a, &b));
	b = a; b.mtime.tv_nsec = (b.mtime.tv_nsec + 1) % 1000000000L;
	assert_false(cache_fileid_equal(&a, &b));
	b = a; b.mtime.tv_sec++;
	assert_false(cache_fileid_equal(&a, &b));
	b = a; b.ctime.tv_nsec = (b.ctime.tv_nsec + 1) % 1000000000L;
	assert_false(cache_fileid_equal(&a, &b));
	b = a; b.ctime.tv_sec++;
	assert_false(cache_fileid_equal(&a, &b));
	/* Absent is an identity: equal to absent, never to a file. */
	assert_int_equal(cache_fileid_get(tree_fd, "/no-such-file", &b), 0);
	assert_false(b.present);
	assert_false(cache_fileid_equal(&a, &b));
	assert_int_equal(cache_fileid_get(tree_fd, "/no-such-dir/x", &a), 0);
	assert_true(cache_fileid_equal(&a, &b));
}

static void test_fileid_settled(void **state)
{
	struct cache_fileid id;
	struct timespec now;

	(void)state;
	cache_now(&now);
	assert_int_equal(cache_fileid_get(tree_fd, "/prog", &id), 0);
	assert_true(cache_fileid_settled(&id, &now));
	/* Changed within CACHE_SETTLE_SEC of the answer: maybe changed again unseen. */
	id.ctime = now;
	assert_false(cache_fileid_settled(&id, &now));
	id.ctime.tv_sec = now.tv_sec - CACHE_SETTLE_SEC + 1;
	assert_false(cache_fileid_settled(&id, &now));
	id.ctime.tv_sec = now.tv_sec - CACHE_SETTLE_SEC - 1;
	assert_true(cache_fileid_settled(&id, &now));
}

static void test_fileid_serialized(void **state)
{
	struct cache_fileid a, b, absent = { 0 };
	struct cache_buf buf = { 0 };
	struct cache_reader r;
	const char *bad[] = {
		"P 1 2 x 4 5 6 7\n", "P 1 2 3 4 2000000000 6 7\n", "P 1 2 3\n", "Q\n",
		"P 1 2 3 4 5 6 7", "P 99999999999999999999 2 3 4 5 6 7\n",
	};

	(void)state;
	assert_int_equal(cache_fileid_get(tree_fd, "/prog", &a), 0);
	cache_buf_fileid(&buf, &a);
	cache_buf_fileid(&buf, &absent);
	cache_buf_printf(&buf, "\n");
	assert_false(buf.failed);
	/* The writer puts a space before each identity. */
	r = (struct cache_reader){ buf.p + 1, buf.p + buf.n, false };
	cache_read_fileid(&r, &b);
	assert_true(cache_fileid_equal(&a, &b));
	cache_read_fileid(&r, &b);
	assert_false(b.present);
	assert_true(cache_read_done(&r));
	cache_buf_free(&buf);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = (struct cache_reader){ bad[i], bad[i] + strlen(bad[i]), false };
		cache_read_fileid(&r, &b);
		assert_true(r.bad);
	}
	/* A blob must end where its length says, with a newline. */
	r = (struct cache_reader){ "abc\n", "abc\n" + 4, false };
	assert_null(cache_read_blob(&r, 2));
	r = (struct cache_reader){ "abc\n", "abc\n" + 4, false };
	assert_non_null(cache_read_blob(&r, 3));
	assert_true(cache_read_done(&r));
}

/* ---- the sshd layer's answers ---- */

/* Record one answer of `prog -Q cipher` that depends on prog and dep. */
static void record(struct sshd_cache *c, char *const argv[], const char *dep, const char *out)
{
	struct sshd_cache_record *rec;

	assert_int_equal(sshd_cache_record_begin(c, argv, "input", &rec), 0);
	if (dep)
		assert_int_equal(sshd_cache_record_dep(rec, dep, true), 0);
	assert_int_equal(sshd_cache_commit(c, rec, 0, out, "warning\n"), 0);
	sshd_cache_record_free(rec);
}

static int lookup(struct sshd_cache *c, char *const argv[], const char *input, char **out)
{
	char *err = NULL;
	int status = -1, r;

	*out = NULL;
	r = sshd_cache_lookup(c, argv, input, &status, out, &err);
	if (r == 1) {
		assert_int_equal(status, 0);
		assert_string_equal(err, "warning\n");
	}
	free(err);
	return r;
}

static void test_sshd_cache_hit(void **state)
{
	char prog[4096];
	char *argv[] = { prog, "-Q", "cipher", NULL };
	char *other[] = { prog, "-Q", "mac", NULL };
	struct sshd_cache *c;
	char *out;

	(void)state;
	snprintf(prog, sizeof(prog), "%s", host_path("prog"));
	assert_int_equal(sshd_cache_new(&c, tree_fd), 0);
	assert_int_equal(lookup(c, argv, "input", &out), 0);
	record(c, argv, "/dep-same", "aes256-ctr\n");
	assert_int_equal(lookup(c, argv, "input", &out), 1);
	assert_string_equal(out, "aes256-ctr\n");
	free(out);
	/* Other arguments, other input: other questions. */
	assert_int_equal(lookup(c, other, "input", &out), 0);
	assert_int_equal(lookup(c, argv, "other input", &out), 0);
	assert_int_equal(lookup(c, argv, NULL, &out), 0);
	sshd_cache_free(c);
}

/* A dependency whose identity changes in one way: the answer is not used. */
static void sshd_cache_miss_after(const char *dep, void (*change)(const char *rel))
{
	char prog[4096];
	char *argv[] = { prog, "-T", (char *)dep, NULL };
	struct sshd_cache *c;
	char *out;

	snprintf(prog, sizeof(prog), "%s", host_path("prog"));
	assert_int_equal(sshd_cache_new(&c, tree_fd), 0);
	record(c, argv, dep, "permitrootlogin no\n");
	assert_int_equal(lookup(c, argv, "input", &out), 1);
	free(out);
	change(dep + 1);
	assert_int_equal(lookup(c, argv, "input", &out), 0);
	sshd_cache_free(c);
}

static void grow(const char *rel)
{
	FILE *f = fopen(host_path(rel), "a");

	assert_non_null(f);
	fputs("more\n", f);
	fclose(f);
}

static void touch_mtime(const char *rel)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 1000000000, 0 } };

	assert_int_equal(utimensat(AT_FDCWD, host_path(rel), ts, 0), 0);
}

static void chmod_same(const char *rel)
{
	/* No content, size or mtime change: only ctime moves. */
	assert_int_equal(chmod(host_path(rel), 0644), 0);
}

static void replace_inode(const char *rel)
{
	char tmp[4200];
	struct stat sb;
	struct timespec ts[2];

	assert_int_equal(stat(host_path(rel), &sb), 0);
	snprintf(tmp, sizeof(tmp), "%s.new", host_path(rel));
	tu_write(tree, "id-ino.new", "0123456789\n");
	ts[0] = sb.st_atim;
	ts[1] = sb.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, tmp, ts, 0), 0);
	assert_int_equal(rename(tmp, host_path(rel)), 0);
}

static void remove_file(const char *rel)
{
	assert_int_equal(unlink(host_path(rel)), 0);
}

static void test_sshd_cache_miss_size(void **s) { (void)s; sshd_cache_miss_after("/id-size", grow); }
static void test_sshd_cache_miss_mtime(void **s) { (void)s; sshd_cache_miss_after("/id-mtime", touch_mtime); }
static void test_sshd_cache_miss_ctime(void **s) { (void)s; sshd_cache_miss_after("/id-ctime", chmod_same); }
static void test_sshd_cache_miss_ino(void **s) { (void)s; sshd_cache_miss_after("/id-ino", replace_inode); }
static void test_sshd_cache_miss_gone(void **s) { (void)s; sshd_cache_miss_after("/dep-gone", remove_file); }

/* The program itself is a dependency of every answer (the ssh -Q cache). */
static void test_sshd_cache_program_identity(void **state)
{
	char prog[4096];
	char *argv[] = { prog, "-Q", "kex", NULL };
	struct sshd_cache *c;
	char *out;

	(void)state;
	snprintf(prog, sizeof(prog), "%s", host_path("prog2"));
	assert_int_equal(sshd_cache_new(&c, tree_fd), 0);
	record(c, argv, NULL, "curve25519-sha256\n");
	assert_int_equal(lookup(c, argv, "input", &out), 1);
	free(out);
	/* An upgrade that keeps size and mtime (same package rebuilt): ctime. */
	edit_same_size_keep_mtime("prog2");
	assert_int_equal(lookup(c, argv, "input", &out), 0);
	sshd_cache_free(c);
}

/* An answer recorded right after its file changed is not trusted. */
static void test_sshd_cache_racy(void **state)
{
	char prog[4096];
	char *argv[] = { prog, "-T", NULL };
	struct sshd_cache *c;
	char *out;

	(void)state;
	snprintf(prog, sizeof(prog), "%s", host_path("prog"));
	tu_write(tree, "fresh", "just written\n");
	assert_int_equal(sshd_cache_new(&c, tree_fd), 0);
	record(c, argv, "/fresh", "x\n");
	assert_int_equal(lookup(c, argv, "input", &out), 0);
	sshd_cache_free(c);
}

/* The sshd -T dependencies: config files, their directories, host keys named by the answer. */
static void test_sshd_cache_config_deps(void **state)
{
	char prog[4096], key[4200], answer[4400];
	char *argv[] = { prog, "-T", "-f", "/dev/stdin", NULL };
	struct strv files = { 0 };
	struct sshd_cache_record *rec;
	struct sshd_cache *c;
	char *out;

	(void)state;
	snprintf(prog, sizeof(prog), "%s", host_path("prog"));
	snprintf(key, sizeof(key), "%s", host_path("hash-zero"));
	snprintf(answer, sizeof(answer), "port 22\nhostkey %s\n", key);
	assert_int_equal(strv_push(&files, "/dir/conf"), 0);
	assert_int_equal(sshd_cache_new(&c, tree_fd), 0);
	assert_int_equal(sshd_cache_record_begin(c, argv, "top", &rec), 0);
	assert_int_equal(sshd_cache_record_config(rec, &files), 0);
	assert_int_equal(sshd_cache_record_output(rec, answer), 0);
	assert_int_equal(sshd_cache_commit(c, rec, 0, answer, "warning\n"), 0);
	sshd_cache_record_free(rec);
	assert_int_equal(lookup(c, argv, "top", &out), 1);
	free(out);
	/* A new file in the directory of a config file (an Include glob may match it). */
	tu_write(tree, "dir/new.conf", "PermitRootLogin yes\n");
	assert_int_equal(lookup(c, argv, "top", &out), 0);
	/* A failed run is never kept. */
	assert_int_equal(sshd_cache_record_begin(c, argv, "top2", &rec), 0);
	assert_int_equal(sshd_cache_commit(c, rec, 255, "", "no hostkeys available\n"), 0);
	sshd_cache_record_free(rec);
	assert_int_equal(lookup(c, argv, "top2", &out), 0);
	strv_free(&files);
	sshd_cache_free(c);
}

/*
 * The file's body read back gives the same answers; every truncation and
 * every byte changed is either refused as a whole or read without reading
 * past the end (the sanitizer tier runs this too).
 */
static void test_sshd_cache_body(void **state)
{
	char prog[4096];
	char *argv[] = { prog, "-Q", "cipher", NULL };
	char *other[] = { prog, "-T", NULL };
	struct sshd_cache *c, *back;
	struct cache_buf b = { 0 };
	char *out, *body;
	size_t refused = 0;

	(void)state;
	snprintf(prog, sizeof(prog), "%s", host_path("prog"));
	assert_int_equal(sshd_cache_new(&c, tree_fd), 0);
	record(c, argv, "/dep-same", "aes256-ctr\nwith\nlines\n");
	record(c, other, "/hash-same", "");
	sshd_cache_serialize(c, &b);
	assert_false(b.failed);
	assert_int_equal(sshd_cache_new(&back, tree_fd), 0);
	assert_int_equal(sshd_cache_parse(back, b.p, b.n), 0);
	assert_int_equal(lookup(back, argv, "input", &out), 1);
	assert_string_equal(out, "aes256-ctr\nwith\nlines\n");
	free(out);
	assert_int_equal(lookup(back, other, "input", &out), 1);
	assert_string_equal(out, "");
	free(out);
	sshd_cache_free(back);
	body = malloc(b.n);
	assert_non_null(body);
	for (size_t len = 0; len < b.n; len++) {
		/* A copy of exactly len bytes: ASan sees any read past it. */
		memcpy(body, b.p, len);
		assert_int_equal(sshd_cache_new(&back, tree_fd), 0);
		if (sshd_cache_parse(back, body, len) != 0) {
			refused++;
			assert_int_equal(lookup(back, argv, "input", &out), 0);
		}
		sshd_cache_free(back);
	}
	/* Only the cut between the two entries (and none at all) reads. */
	assert_int_equal(refused, b.n - 2);
	for (size_t i = 0; i < b.n; i++) {
		memcpy(body, b.p, b.n);
		body[i] = body[i] == '\n' ? ' ' : '\n';
		assert_int_equal(sshd_cache_new(&back, tree_fd), 0);
		(void)sshd_cache_parse(back, body, b.n);
		sshd_cache_free(back);
	}
	free(body);
	cache_buf_free(&b);
	sshd_cache_free(c);
}

/* ---- the files layer's hash index ---- */

static const char *hash_of(const char *content)
{
	static char hex[65];
	char *d = tu_mkdtemp();
	int fd;
	struct files_index ix;

	tu_write(d, "f", content);
	fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	files_index_init(&ix, fd);
	assert_int_equal(files_index_sha256(&ix, "/f", 0, hex), 0);
	files_index_free(&ix);
	close(fd);
	tu_rmtree(d);
	free(d);
	return hex;
}

static void test_index_rehash_only_on_change(void **state)
{
	char hex[65], first[65];
	struct files_index ix;

	(void)state;
	files_index_init(&ix, tree_fd);
	assert_int_equal(files_index_sha256(&ix, "/hash-same", 3600, first), 0);
	assert_int_equal(ix.hashed, 1);
	assert_string_equal(first, hash_of("0123456789\n"));
	for (int i = 0; i < 3; i++) {
		assert_int_equal(files_index_sha256(&ix, "/hash-same", 3600, hex), 0);
		assert_string_equal(hex, first);
	}
	assert_int_equal(ix.hashed, 1);
	/*
	 * Root rewrites the file with the same size and puts the mtime
	 * back (touch -r): ctime moved, so it is hashed again and the edit
	 * shows.
	 */
	assert_int_equal(files_index_sha256(&ix, "/hash-edit", 3600, first), 0);
	assert_int_equal(ix.hashed, 2);
	edit_same_size_keep_mtime("hash-edit");
	assert_int_equal(files_index_sha256(&ix, "/hash-edit", 3600, hex), 0);
	assert_int_equal(ix.hashed, 3);
	assert_string_equal(hex, hash_of("9876543210\n"));
	assert_string_not_equal(hex, first);
	/* A new inode with the old size and mtime (cp -p, mv): hashed again. */
	assert_int_equal(files_index_sha256(&ix, "/id-ino", 3600, hex), 0);
	assert_int_equal(ix.hashed, 4);
	replace_inode("id-ino");
	assert_int_equal(files_index_sha256(&ix, "/id-ino", 3600, hex), 0);
	assert_int_equal(ix.hashed, 5);
	/* Gone, and not a regular file: as rootfs_sha256. */
	assert_int_equal(files_index_sha256(&ix, "/no-such", 3600, hex), -ENOENT);
	assert_int_equal(files_index_sha256(&ix, "/dir", 3600, hex), -EINVAL);
	files_index_free(&ix);
}

static void test_index_body(void **state)
{
	char hex[65], *body;
	struct files_index ix, back;
	struct cache_buf b = { 0 };
	size_t refused = 0;

	(void)state;
	files_index_init(&ix, tree_fd);
	assert_int_equal(files_index_sha256(&ix, "/hash-same", 3600, hex), 0);
	assert_int_equal(files_index_sha256(&ix, "/dir/conf", 3600, hex), 0);
	files_index_serialize(&ix, &b);
	assert_false(b.failed);
	files_index_init(&back, tree_fd);
	back.loaded = true;	/* no file below the tree: only the body */
	assert_int_equal(files_index_parse(&back, b.p, b.n), 0);
	assert_int_equal(back.n, 2);
	assert_int_equal(files_index_sha256(&back, "/hash-same", 3600, hex), 0);
	assert_int_equal(files_index_sha256(&back, "/dir/conf", 3600, hex), 0);
	assert_int_equal(back.hashed, 0);	/* both from the body */
	files_index_free(&back);
	body = malloc(b.n);
	assert_non_null(body);
	for (size_t len = 0; len < b.n; len++) {
		memcpy(body, b.p, len);
		files_index_init(&back, tree_fd);
		if (files_index_parse(&back, body, len) != 0) {
			refused++;
			assert_int_equal(back.n, 0);
		}
		files_index_free(&back);
	}
	assert_int_equal(refused, b.n - 2);
	for (size_t i = 0; i < b.n; i++) {
		memcpy(body, b.p, b.n);
		body[i] = body[i] == '\n' ? ' ' : '\n';
		files_index_init(&back, tree_fd);
		(void)files_index_parse(&back, body, b.n);
		files_index_free(&back);
	}
	free(body);
	cache_buf_free(&b);
	files_index_free(&ix);
}

static void test_index_backstop(void **state)
{
	char hex[65];
	struct files_index ix;

	(void)state;
	files_index_init(&ix, tree_fd);
	assert_int_equal(files_index_sha256(&ix, "/hash-backstop", 3600, hex), 0);
	assert_int_equal(files_index_sha256(&ix, "/hash-backstop", 3600, hex), 0);
	assert_int_equal(ix.hashed, 1);
	/* rehash_interval passed (1 s, after a 1.1 s wait): hashed again. */
	nanosleep(&(struct timespec){ 1, 100000000 }, NULL);
	assert_int_equal(files_index_sha256(&ix, "/hash-backstop", 1, hex), 0);
	assert_int_equal(ix.hashed, 2);
	/* 0: every time, as before the index existed. */
	assert_int_equal(files_index_sha256(&ix, "/hash-zero", 0, hex), 0);
	assert_int_equal(files_index_sha256(&ix, "/hash-zero", 0, hex), 0);
	assert_int_equal(ix.hashed, 4);
	files_index_free(&ix);
}

static void test_index_racy(void **state)
{
	char hex[65];
	struct files_index ix;

	(void)state;
	tu_write(tree, "hash-fresh", "just written\n");
	files_index_init(&ix, tree_fd);
	assert_int_equal(files_index_sha256(&ix, "/hash-fresh", 3600, hex), 0);
	assert_int_equal(files_index_sha256(&ix, "/hash-fresh", 3600, hex), 0);
	/* Changed within CACHE_SETTLE_SEC of its hashing: hashed each time. */
	assert_int_equal(ix.hashed, 2);
	files_index_free(&ix);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fileid_fields),
		cmocka_unit_test(test_fileid_settled),
		cmocka_unit_test(test_fileid_serialized),
		cmocka_unit_test(test_sshd_cache_hit),
		cmocka_unit_test(test_sshd_cache_miss_size),
		cmocka_unit_test(test_sshd_cache_miss_mtime),
		cmocka_unit_test(test_sshd_cache_miss_ctime),
		cmocka_unit_test(test_sshd_cache_miss_ino),
		cmocka_unit_test(test_sshd_cache_miss_gone),
		cmocka_unit_test(test_sshd_cache_program_identity),
		cmocka_unit_test(test_sshd_cache_racy),
		cmocka_unit_test(test_sshd_cache_config_deps),
		cmocka_unit_test(test_index_rehash_only_on_change),
		cmocka_unit_test(test_sshd_cache_body),
		cmocka_unit_test(test_index_body),
		cmocka_unit_test(test_index_backstop),
		cmocka_unit_test(test_index_racy),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
