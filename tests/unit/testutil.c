/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

char *tu_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char *path = NULL;

	assert_true(asprintf(&path, "%s/jefe-test.XXXXXX", tmp ? tmp : "/tmp") > 0);
	assert_non_null(mkdtemp(path));
	return path;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void tu_rmtree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void tu_write(const char *dir, const char *rel, const char *content)
{
	char path[PATH_MAX];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (char *p = path + strlen(dir) + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			/* Explicit modes: the agent refuses group- or world-writable
			 * policy files, whatever umask the test runs under. */
			if (mkdir(path, 0755) == 0)
				chmod(path, 0755);
			*p = '/';
		}
	}
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(content, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, 0644), 0);
}

const struct finding *tu_finding(const struct findings *fs, const char *item)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].item, item) == 0)
			return &fs->v[i];
	for (size_t i = 0; i < fs->n; i++)
		print_message("  finding: %s %s\n", fs->v[i].item, finding_state_name(fs->v[i].state));
	fail_msg("no finding for %s", item);
	return NULL;
}

static bool tu_error_match(const struct policy_errors *errs, const char *text, bool exact)
{
	for (size_t i = 0; i < errs->n; i++)
		if (exact ? strcmp(errs->msgs[i], text) == 0 : strstr(errs->msgs[i], text) != NULL)
			return true;
	for (size_t i = 0; i < errs->n; i++)
		print_message("  got: %s\n", errs->msgs[i]);
	return false;
}

bool tu_error_is(const struct policy_errors *errs, const char *msg)
{
	return tu_error_match(errs, msg, true);
}

bool tu_error_contains(const struct policy_errors *errs, const char *needle)
{
	return tu_error_match(errs, needle, false);
}

const char *tu_read(const char *dir, const char *rel)
{
	static char buf[65536];
	char path[PATH_MAX];
	size_t n;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fp = fopen(path, "r");
	if (!fp)
		return "";
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}
