/* SPDX-License-Identifier: MIT */
/*
 * Work in a child process read from a pipe (child.h), as the daemon runs
 * the passes of a layer that runs programs: the findings come back whole,
 * and a child that overruns its deadline, is killed, fails or writes
 * garbage gives an error naming it and what went wrong.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache.h"
#include "child.h"
#include "finding.h"
#include "testutil.h"

static void sample_findings(struct findings *fs)
{
	assert_int_equal(findings_add(fs, &(struct finding){
		.layer = "sshd", .item = "PermitRootLogin", .expected = "no", .actual = "yes",
		.refs = REFS(REF_CIS("5.1.20"), REF_KSPP("x\ny")), .note = "line one\nline two",
		.state = FINDING_DRIFT, .action = FINDING_ACTION_REPAIRED, .contested = 3,
	}), 0);
	assert_int_equal(findings_add(fs, &(struct finding){
		.layer = "sshd", .item = "", .state = FINDING_ERROR,
	}), 0);
}

static int write_findings(void *arg, int fd)
{
	struct cache_buf b = { 0 };
	int rc;

	(void)arg;
	struct findings fs = { 0 };

	sample_findings(&fs);
	child_findings_encode(&b, &fs);
	rc = child_write_all(fd, b.p, b.n);
	cache_buf_free(&b);
	findings_free(&fs);
	return rc;
}

static int write_text(void *arg, int fd)
{
	return child_write_all(fd, arg, strlen(arg));
}

static int sleep_long(void *arg, int fd)
{
	(void)arg;
	/*
	 * A program it started sleeps too: the kill takes the whole group.
	 * Like the programs a pass runs (0-2 only cross their exec), it does
	 * not hold the pipe.
	 */
	if (fork() == 0) {
		close(fd);
		sleep(30);
		_exit(0);
	}
	sleep(30);
	return 0;
}

static int kill_self(void *arg, int fd)
{
	(void)arg;
	(void)child_write_all(fd, "1\n", 2);
	raise(SIGKILL);
	return 0;
}

static int fail_plain(void *arg, int fd)
{
	(void)arg;
	(void)fd;
	return -EIO;
}

/*
 * A process of group pgid that is not a zombie (a killed grandchild is
 * one until whoever adopted it reaps it, which a container's init may
 * never do).
 */
static bool group_alive(pid_t pgid)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	bool alive = false;

	assert_non_null(dir);
	while (!alive && (de = readdir(dir)) != NULL) {
		char path[300], buf[512], *p, st;
		long grp = 0;
		FILE *f;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		/* "pid (comm) S ppid pgrp ..." */
		if (p && sscanf(p + 1, " %c %*d %ld", &st, &grp) == 2 && grp == pgid && st != 'Z')
			alive = true;
	}
	closedir(dir);
	return alive;
}

static void test_findings_round_trip(void **state)
{
	struct findings want = { 0 }, got = { 0 };
	struct cache_reader r;
	struct child c;
	char why[512] = "";

	(void)state;
	assert_int_equal(child_start(&c, "sshd pass", 10000, write_findings, NULL), 0);
	assert_int_equal(child_wait(&c, why, sizeof(why)), 0);
	r = (struct cache_reader){ c.out, c.out + c.len, false };
	assert_int_equal(child_findings_decode(&r, &got), 0);
	assert_true(cache_read_done(&r));
	sample_findings(&want);
	assert_int_equal(got.n, want.n);
	for (size_t i = 0; i < want.n; i++) {
		const struct finding *a = &want.v[i], *b = &got.v[i];

		assert_string_equal(a->layer, b->layer);
		assert_string_equal(a->item, b->item);
		assert_true((a->expected == NULL) == (b->expected == NULL));
		if (a->expected)
			assert_string_equal(a->expected, b->expected);
		assert_true((a->note == NULL) == (b->note == NULL));
		if (a->note)
			assert_string_equal(a->note, b->note);
		assert_int_equal(a->state, b->state);
		assert_int_equal(a->action, b->action);
		assert_int_equal(a->contested, b->contested);
		assert_int_equal(a->refs.n, b->refs.n);
		for (size_t k = 0; k < a->refs.n; k++) {
			assert_string_equal(a->refs.v[k].id, b->refs.v[k].id);
			assert_true((a->refs.v[k].version == NULL) == (b->refs.v[k].version == NULL));
		}
	}
	findings_free(&want);
	findings_free(&got);
	child_free(&c);
}

static void test_timeout_kills_the_group(void **state)
{
	struct child c;
	char why[512] = "";
	long long t0 = clock_ms();
	pid_t pid;

	(void)state;
	assert_int_equal(child_start(&c, "sshd pass", 200, sleep_long, NULL), 0);
	pid = c.pid;
	assert_int_equal(child_wait(&c, why, sizeof(why)), -ETIMEDOUT);
	assert_true(clock_ms() - t0 < 5000);
	assert_non_null(strstr(why, "sshd pass (pid "));
	assert_non_null(strstr(why, "did not finish within 200 ms: killed"));
	/* Its grandchild went with it: nothing of the group is alive. */
	for (int i = 0; i < 100 && group_alive(pid); i++)
		(void)poll(NULL, 0, 10);
	assert_false(group_alive(pid));
	assert_int_equal(c.pid, 0);
	child_free(&c);
}

static void test_killed(void **state)
{
	struct child c;
	char why[512] = "";

	(void)state;
	assert_int_equal(child_start(&c, "sshd pass", 10000, kill_self, NULL), 0);
	assert_int_equal(child_wait(&c, why, sizeof(why)), -ECHILD);
	assert_non_null(strstr(why, "sshd pass (pid "));
	assert_non_null(strstr(why, "was killed by signal 9"));
	child_free(&c);
}

static void test_killed_from_outside(void **state)
{
	struct child c;
	char why[512] = "";

	(void)state;
	assert_int_equal(child_start(&c, "sshd pass", 10000, sleep_long, NULL), 0);
	assert_int_equal(kill(c.pid, SIGTERM), 0);
	assert_int_equal(child_wait(&c, why, sizeof(why)), -ECHILD);
	assert_non_null(strstr(why, "was killed by signal 15"));
	child_free(&c);
}

static void test_failed_status(void **state)
{
	struct child c;
	char why[512] = "";

	(void)state;
	assert_int_equal(child_start(&c, "files pass", 10000, fail_plain, NULL), 0);
	assert_int_equal(child_wait(&c, why, sizeof(why)), -ECHILD);
	assert_non_null(strstr(why, "files pass (pid "));
	assert_non_null(strstr(why, "exited with status 1"));
	child_free(&c);
}

/* Garbage, a truncated list and bad values are refused, nothing added. */
static void test_bad_output(void **state)
{
#define BAD(s) { s, sizeof(s) - 1 }
	static const struct {
		const char *text;
		size_t len;
	} bad[] = {
		BAD("not a count\n"),
		BAD("2\n0 0 0 0\n4\nsshd\n"),					/* truncated */
		BAD("1\n9 0 0 0\n4\nsshd\n4\nitem\n-1\n-1\n-1\n"),		/* no such state */
		BAD("1\n0 0 0 0\n-1\n4\nitem\n-1\n-1\n-1\n"),		/* no layer */
		BAD("1\n0 0 0 0\n4\nss\0d\n4\nitem\n-1\n-1\n-1\n"),	/* a NUL */
		BAD("1\n0 0 0 999\n4\nsshd\n4\nitem\n-1\n-1\n-1\n"),	/* refs count */
		BAD("1\n0 0 0 0\n99999\nsshd\n"),				/* past the end */
	};
#undef BAD

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct findings fs = { 0 };
		struct cache_reader r = { bad[i].text, bad[i].text + bad[i].len, false };

		assert_int_equal(child_findings_decode(&r, &fs), -EINVAL);
		assert_int_equal(fs.n, 0);
	}
}

static void test_bad_output_named(void **state)
{
	struct findings fs = { 0 };
	struct cache_reader r;
	struct child c;
	char why[512] = "";

	(void)state;
	assert_int_equal(child_start(&c, "sshd pass", 10000, write_text, "garbage\n"), 0);
	assert_int_equal(child_wait(&c, why, sizeof(why)), 0);
	r = (struct cache_reader){ c.out, c.out + c.len, false };
	assert_int_equal(child_findings_decode(&r, &fs), -EINVAL);
	child_malformed(&c, "not a pass's findings", why, sizeof(why));
	assert_non_null(strstr(why, "sshd pass (pid "));
	assert_non_null(strstr(why, "sent a malformed result (8 bytes): not a pass's findings"));
	child_free(&c);
}

/* The loop's way: non-blocking reads until EOF, then the reap. */
static void test_read_until_eof(void **state)
{
	struct child c;
	char why[512] = "";
	int r;

	(void)state;
	assert_int_equal(child_start(&c, "sshd pass", 10000, write_text, "hello"), 0);
	do {
		struct pollfd pfd = { .fd = c.fd, .events = POLLIN };

		assert_true(poll(&pfd, 1, 5000) > 0);
		r = child_read(&c);
		assert_true(r >= 0);
	} while (r == 0);
	assert_string_equal(c.out, "hello");
	assert_int_equal(child_reap(&c, why, sizeof(why)), 0);
	child_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_findings_round_trip),
		cmocka_unit_test(test_timeout_kills_the_group),
		cmocka_unit_test(test_killed),
		cmocka_unit_test(test_killed_from_outside),
		cmocka_unit_test(test_failed_status),
		cmocka_unit_test(test_bad_output),
		cmocka_unit_test(test_bad_output_named),
		cmocka_unit_test(test_read_until_eof),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
