/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rootfs.h"
#include "util.h"

const char *root_rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
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

int root_join(char *buf, size_t size, const char *root, const char *path)
{
	int n;

	if (!root || strcmp(root, "/") == 0)
		n = snprintf(buf, size, "%s", path);
	else
		n = snprintf(buf, size, "%s%s%s", root,
			     root[strlen(root) - 1] == '/' || path[0] == '/' ? "" : "/",
			     root[strlen(root) - 1] == '/' && path[0] == '/' ? path + 1 : path);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

char *str_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return s;
}

void *array_grow(void *arr, size_t n, size_t *cap, size_t elem)
{
	size_t want;
	void *v;

	if (n < *cap)
		return arr;
	want = *cap ? *cap * 2 : 16;
	if (want <= n)
		want = n + 1;
	if (elem && want > SIZE_MAX / elem)
		return NULL;
	v = realloc(arr, want * elem);
	if (v)
		*cap = want;
	return v;
}

int strv_push(struct strv *sv, const char *s)
{
	char *copy;

	char **v = array_grow(sv->v, sv->n + 1, &sv->cap, sizeof(*sv->v));

	if (!v)
		return -ENOMEM;
	sv->v = v;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	sv->v[sv->n++] = copy;
	sv->v[sv->n] = NULL;
	return 0;
}

bool strv_contains(const struct strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

void strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

int strv_split(struct strv *sv, const char *s, const char *separators)
{
	char *copy = strdup(s), *save = NULL, *tok;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, separators, &save); tok;
	     tok = strtok_r(NULL, separators, &save)) {
		tok = str_trim(tok);
		if (*tok == '\0')
			continue;
		err = strv_push(sv, tok);
		if (err)
			break;
	}
	free(copy);
	return err;
}

long long clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

size_t str_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	/* Three rows of the optimal-string-alignment table; names are short. */
	size_t rows[3][STR_SUGGEST_MAX + 1], *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

	if (la > STR_SUGGEST_MAX || lb > STR_SUGGEST_MAX)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = prev[j - 1] + cost;

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			/* "stauts": a swap of two neighbours is one typo, not two. */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		prev2 = prev;
		prev = cur;
		cur = rows[(size_t)(i + 2) % 3];
	}
	return prev[lb];
}

void str_suggest_consider(struct str_suggest *s, const char *word, const char *candidate)
{
	size_t d = str_distance(word, candidate);
	size_t len = strlen(candidate);

	/* Close enough to be a typo of it, and not just any short name. */
	if (d == 0 || d > 2 || d * 3 > len + 1)
		return;
	if (s->best == NULL || d < s->distance) {
		s->best = candidate;
		s->distance = d;
	}
}
