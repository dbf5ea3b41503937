/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

const char *root_rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
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

void option_unknown(FILE *out, const char *prog, const struct option *options,
		    const char *arg, int opt)
{
	struct str_suggest near = { 0 };
	char word[128];
	size_t n;

	if (opt != '?' || arg == NULL || strncmp(arg, "--", 2) != 0) {
		fprintf(out, "%s: %s '%s'\n", prog, opt == ':' ? "missing value for option" :
			"unknown option", arg ? arg : "?");
		return;
	}
	n = strcspn(arg + 2, "=");
	snprintf(word, sizeof(word), "%.*s", (int)n, arg + 2);
	for (const struct option *o = options; o->name; o++)
		str_suggest_consider(&near, word, o->name);
	fprintf(out, "%s: unknown option '--%s'", prog, word);
	if (near.best)
		fprintf(out, "; did you mean '--%s'?", near.best);
	fputc('\n', out);
}

/* The lines of a text, pointing into it (no copies). */
struct diff_lines {
	const char **p;
	size_t *len;
	size_t n;
};

static int diff_split(const char *text, struct diff_lines *l)
{
	size_t cap = 1;

	for (const char *s = text; *s; s++)
		if (*s == '\n')
			cap++;
	l->p = calloc(cap, sizeof(*l->p));
	l->len = calloc(cap, sizeof(*l->len));
	l->n = 0;
	if (!l->p || !l->len)
		return -ENOMEM;
	for (const char *s = text; *s;) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);

		l->p[l->n] = s;
		l->len[l->n++] = n;
		s += n + (nl ? 1 : 0);
	}
	return 0;
}

static bool diff_same(const struct diff_lines *a, size_t i, const struct diff_lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->p[i], b->p[j], a->len[i]) == 0;
}

#define DIFF_CONTEXT 3
#define DIFF_MAX_CELLS (4u << 20)	/* the LCS table; larger texts are replaced whole */

/*
 * The edit script as one op per line of the output: ' ' kept, '-' only
 * in old, '+' only in new, with the index of the line in its text.
 */
struct diff_op {
	char op;
	size_t i;	/* line in old (for ' ' and '-') */
	size_t j;	/* line in new (for ' ' and '+') */
};

static int diff_script(const struct diff_lines *a, const struct diff_lines *b,
		       struct diff_op **ops_out, size_t *n_out)
{
	size_t n = a->n, m = b->n, k = 0, i = 0, j = 0;
	struct diff_op *ops = calloc(n + m + 1, sizeof(*ops));
	unsigned int *lcs = NULL;

	if (!ops)
		return -ENOMEM;
	if ((n + 1) * (m + 1) <= DIFF_MAX_CELLS)
		lcs = calloc((n + 1) * (m + 1), sizeof(*lcs));
	if (lcs) {
		/* lcs[i][j]: the longest common subsequence of a[i..] and b[j..]. */
		for (size_t x = n + 1; x-- > 0;)
			for (size_t y = m + 1; y-- > 0;) {
				unsigned int *c = &lcs[x * (m + 1) + y];

				if (x == n || y == m)
					*c = 0;
				else if (diff_same(a, x, b, y))
					*c = lcs[(x + 1) * (m + 1) + y + 1] + 1;
				else
					*c = lcs[(x + 1) * (m + 1) + y] > lcs[x * (m + 1) + y + 1] ?
					     lcs[(x + 1) * (m + 1) + y] : lcs[x * (m + 1) + y + 1];
			}
		while (i < n && j < m) {
			if (diff_same(a, i, b, j)) {
				ops[k++] = (struct diff_op){ ' ', i++, j++ };
			} else if (lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
				ops[k++] = (struct diff_op){ '-', i++, j };
			} else {
				ops[k++] = (struct diff_op){ '+', i, j++ };
			}
		}
		free(lcs);
	}
	while (i < n)
		ops[k++] = (struct diff_op){ '-', i++, j };
	while (j < m)
		ops[k++] = (struct diff_op){ '+', i, j++ };
	*ops_out = ops;
	*n_out = k;
	return 0;
}

int diff_unified(const char *path, const char *old_text, const char *new_text, char **out)
{
	struct diff_lines a = { 0 }, b = { 0 };
	struct diff_op *ops = NULL;
	size_t n_ops = 0, len = 0;
	char *buf = NULL;
	FILE *f = NULL;
	int err;

	*out = NULL;
	err = diff_split(old_text ? old_text : "", &a);
	if (!err)
		err = diff_split(new_text, &b);
	if (!err)
		err = diff_script(&a, &b, &ops, &n_ops);
	if (!err) {
		f = open_memstream(&buf, &len);
		if (!f)
			err = -ENOMEM;
	}
	if (err)
		goto out;
	fprintf(f, "--- %s\n+++ %s (as jefe would write it)\n", old_text ? path : "/dev/null", path);
	for (size_t k = 0; k < n_ops;) {
		size_t start, end, old_n = 0, new_n = 0;

		/* The next change, then its hunk: changes closer than two contexts merge. */
		while (k < n_ops && ops[k].op == ' ')
			k++;
		if (k == n_ops)
			break;
		start = k > DIFF_CONTEXT ? k - DIFF_CONTEXT : 0;
		end = k;
		for (size_t q = k; q < n_ops; q++) {
			if (ops[q].op != ' ') {
				end = q + 1;
				continue;
			}
			if (q - end >= 2 * DIFF_CONTEXT)
				break;
		}
		end = end + DIFF_CONTEXT < n_ops ? end + DIFF_CONTEXT : n_ops;
		for (size_t q = start; q < end; q++) {
			old_n += ops[q].op != '+';
			new_n += ops[q].op != '-';
		}
		fprintf(f, "@@ -%zu,%zu +%zu,%zu @@\n", old_n ? ops[start].i + 1 : ops[start].i,
			old_n, new_n ? ops[start].j + 1 : ops[start].j, new_n);
		for (size_t q = start; q < end; q++) {
			const struct diff_lines *l = ops[q].op == '+' ? &b : &a;
			size_t line = ops[q].op == '+' ? ops[q].j : ops[q].i;

			fprintf(f, "%c%.*s\n", ops[q].op, (int)l->len[line], l->p[line]);
		}
		k = end;
	}
	if (fclose(f) != 0) {
		f = NULL;
		err = -ENOMEM;
		goto out;
	}
	f = NULL;
	/* Without a trailing newline, as notes are. */
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	*out = buf;
	buf = NULL;
out:
	if (f)
		fclose(f);
	free(buf);
	free(ops);
	free(a.p);
	free(a.len);
	free(b.p);
	free(b.len);
	return err;
}
