/* SPDX-License-Identifier: MIT */
/*
 * The sshd layer's pure parts (see sshd_conf.h): one keyword table drives
 * policy validation, comparison with `sshd -T` and the drop-in we write.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>


#include "errors.h"
#include "rootfs.h"
#include "sshd_conf.h"
#include "util.h"

static const char *const v_permitroot[] = {
	"no", "yes", "prohibit-password", "without-password>prohibit-password",
	"forced-commands-only", NULL,
};
static const char *const v_yesno[] = { "yes", "no", NULL };
static const char *const v_tcpfwd[] = {
	"no", "yes", "all>yes", "local", "remote", NULL,
};
static const char *const v_tunnel[] = {
	"no", "yes", "point-to-point", "ethernet", NULL,
};
static const char *const v_gateway[] = { "no", "yes", "clientspecified", NULL };
static const char *const v_compression[] = { "no", "yes", "delayed>yes", NULL };
static const char *const v_loglevel[] = {
	"QUIET", "FATAL", "ERROR", "INFO", "VERBOSE", "DEBUG>DEBUG1", "DEBUG1",
	"DEBUG2", "DEBUG3", NULL,
};

/*
 * The references: CIS Debian Linux 12 v1.0.1 section 5.1 ("Configure SSH
 * Server") where it has the item (the four forwarding switches are what
 * 5.1.8's DisableForwarding turns off), and the DISA STIG id where one is
 * known.  Keys no benchmark names (keys-only login, the algorithm lists
 * of host keys, compression) carry none: they are JefeLinux's own choice.
 */
const struct sshd_keyword sshd_keywords[] = {
	{ "PermitRootLogin", SSHD_V_ENUM, NULL, v_permitroot, true, REFS_INIT(REF_CIS("5.1.20")) },
	{ "PasswordAuthentication", SSHD_V_BOOL, NULL, NULL, true, { NULL, 0 } },
	{ "KbdInteractiveAuthentication", SSHD_V_BOOL, NULL, NULL, true, { NULL, 0 } },
	{ "PubkeyAuthentication", SSHD_V_BOOL, NULL, NULL, true, { NULL, 0 } },
	{ "PermitEmptyPasswords", SSHD_V_BOOL, NULL, NULL, true, REFS_INIT(REF_CIS("5.1.19")) },
	{ "HostbasedAuthentication", SSHD_V_BOOL, NULL, NULL, true, REFS_INIT(REF_CIS("5.1.10")) },
	{ "IgnoreRhosts", SSHD_V_BOOL, NULL, NULL, true, REFS_INIT(REF_CIS("5.1.11")) },
	{ "GSSAPIAuthentication", SSHD_V_BOOL, NULL, NULL, true, REFS_INIT(REF_CIS("5.1.9")) },
	{ "PermitUserEnvironment", SSHD_V_ENUM, NULL, v_yesno, false, REFS_INIT(REF_CIS("5.1.21")) },
	{ "UsePAM", SSHD_V_BOOL, NULL, NULL, false, REFS_INIT(REF_CIS("5.1.22")) },
	{ "Ciphers", SSHD_V_ALGOS, "cipher", NULL, false, REFS_INIT(REF_CIS("5.1.6")) },
	{ "MACs", SSHD_V_ALGOS, "mac", NULL, false, REFS_INIT(REF_CIS("5.1.15")) },
	{ "KexAlgorithms", SSHD_V_ALGOS, "kex", NULL, false, REFS_INIT(REF_CIS("5.1.12")) },
	{ "HostKeyAlgorithms", SSHD_V_ALGOS, "key-sig", NULL, false, { NULL, 0 } },
	{ "PubkeyAcceptedAlgorithms", SSHD_V_ALGOS, "key-sig", NULL, true, { NULL, 0 } },
	{ "MaxAuthTries", SSHD_V_UINT, NULL, NULL, true, REFS_INIT(REF_CIS("5.1.16")) },
	{ "LoginGraceTime", SSHD_V_TIME, NULL, NULL, false, REFS_INIT(REF_CIS("5.1.13")) },
	{ "MaxSessions", SSHD_V_UINT, NULL, NULL, true, REFS_INIT(REF_CIS("5.1.17")) },
	{ "MaxStartups", SSHD_V_STARTUPS, NULL, NULL, false, REFS_INIT(REF_CIS("5.1.18")) },
	{ "ClientAliveInterval", SSHD_V_TIME, NULL, NULL, true, REFS_INIT(REF_CIS("5.1.7")) },
	{ "ClientAliveCountMax", SSHD_V_UINT, NULL, NULL, true, REFS_INIT(REF_CIS("5.1.7")) },
	{ "DisableForwarding", SSHD_V_BOOL, NULL, NULL, true, REFS_INIT(REF_CIS("5.1.8")) },
	{ "AllowTcpForwarding", SSHD_V_ENUM, NULL, v_tcpfwd, true, REFS_INIT(REF_CIS("5.1.8")) },
	{ "AllowAgentForwarding", SSHD_V_BOOL, NULL, NULL, true, REFS_INIT(REF_CIS("5.1.8")) },
	{ "AllowStreamLocalForwarding", SSHD_V_ENUM, NULL, v_tcpfwd, true, REFS_INIT(REF_CIS("5.1.8")) },
	{ "X11Forwarding", SSHD_V_BOOL, NULL, NULL, true, REFS_INIT(REF_CIS("5.1.8"), REF_STIG("V-260529")) },
	{ "PermitTunnel", SSHD_V_ENUM, NULL, v_tunnel, true, { NULL, 0 } },
	{ "GatewayPorts", SSHD_V_ENUM, NULL, v_gateway, true, { NULL, 0 } },
	{ "LogLevel", SSHD_V_ENUM, NULL, v_loglevel, true, REFS_INIT(REF_CIS("5.1.14")) },
	{ "StrictModes", SSHD_V_BOOL, NULL, NULL, false, { NULL, 0 } },
	{ "Compression", SSHD_V_ENUM, NULL, v_compression, false, { NULL, 0 } },
	{ "PrintLastLog", SSHD_V_BOOL, NULL, NULL, false, { NULL, 0 } },
	{ "UseDNS", SSHD_V_BOOL, NULL, NULL, false, { NULL, 0 } },
	{ "TCPKeepAlive", SSHD_V_BOOL, NULL, NULL, false, { NULL, 0 } },
	{ "Banner", SSHD_V_STRING, NULL, NULL, true, REFS_INIT(REF_CIS("5.1.5")) },
	{ "AllowUsers", SSHD_V_WORDS, NULL, NULL, true, REFS_INIT(REF_CIS("5.1.4")) },
	{ "AllowGroups", SSHD_V_WORDS, NULL, NULL, true, REFS_INIT(REF_CIS("5.1.4")) },
	{ "DenyUsers", SSHD_V_WORDS, NULL, NULL, true, REFS_INIT(REF_CIS("5.1.4")) },
	{ "DenyGroups", SSHD_V_WORDS, NULL, NULL, true, REFS_INIT(REF_CIS("5.1.4")) },
};
const size_t sshd_keywords_count = ARRAY_SIZE(sshd_keywords);

const char *sshd_algorithm_weakness(const char *query, const char *algo)
{
	static const struct {
		const char *query;	/* the ssh -Q class it belongs to */
		const char *pattern;	/* fnmatch */
		const char *why;
	} weak[] = {
		{ "cipher", "*-cbc", "CBC mode" },
		{ "cipher", "*-cbc@*", "CBC mode" },
		{ "cipher", "arcfour*", "RC4" },
		{ "mac", "hmac-sha1*", "SHA-1" },
		{ "mac", "hmac-md5*", "MD5" },
		{ "mac", "umac-64*", "64-bit tag" },
		{ "kex", "*-sha1", "SHA-1" },
		{ "kex", "*-sha1@*", "SHA-1" },
		{ "kex", "ecdh-sha2-nistp*", "NIST curve" },
		{ "key-sig", "ssh-dss*", "DSA" },
		{ "key-sig", "*ecdsa-sha2-nistp*", "NIST curve" },
		{ "key-sig", "ssh-rsa", "SHA-1 signature" },
		{ "key-sig", "ssh-rsa-cert-v01@openssh.com", "SHA-1 signature" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(weak); i++)
		if (strcmp(weak[i].query, query) == 0 && fnmatch(weak[i].pattern, algo, 0) == 0)
			return weak[i].why;
	return NULL;
}

/* Old names sshd still accepts for the same option. */
static const struct {
	const char *alias, *name;
} keyword_aliases[] = {
	{ "ChallengeResponseAuthentication", "KbdInteractiveAuthentication" },
	{ "PubkeyAcceptedKeyTypes", "PubkeyAcceptedAlgorithms" },
};

const struct sshd_keyword *sshd_keyword_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keyword_aliases); i++)
		if (strcasecmp(name, keyword_aliases[i].alias) == 0)
			name = keyword_aliases[i].name;
	for (size_t i = 0; i < sshd_keywords_count; i++)
		if (strcasecmp(name, sshd_keywords[i].name) == 0)
			return &sshd_keywords[i];
	return NULL;
}

/* sshd's convtime(): "90", "1m30s", "2h"; no sign, no overflow. */
static int parse_time(const char *s, unsigned long *out)
{
	unsigned long total = 0;

	if (!*s)
		return -EINVAL;
	while (*s) {
		unsigned long n = 0, mult = 1;

		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		while (isdigit((unsigned char)*s)) {
			if (n > (ULONG_MAX - 9) / 10)
				return -ERANGE;
			n = n * 10 + (unsigned long)(*s++ - '0');
		}
		switch (tolower((unsigned char)*s)) {
		case '\0': break;
		case 's': s++; break;
		case 'm': mult = 60; s++; break;
		case 'h': mult = 3600; s++; break;
		case 'd': mult = 86400; s++; break;
		case 'w': mult = 604800; s++; break;
		default: return -EINVAL;
		}
		if (n > (unsigned long)INT_MAX / mult || total + n * mult > (unsigned long)INT_MAX)
			return -ERANGE;
		total += n * mult;
	}
	*out = total;
	return 0;
}

static int parse_uint(const char *s, unsigned long *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || *out > INT_MAX)
		return -EINVAL;
	return 0;
}

static int set_why(char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int set_why(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (why && why_len) {
		va_start(ap, fmt);
		vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int normalize_enum(const struct sshd_keyword *k, const char *value, char **out,
			  char *why, size_t why_len)
{
	struct sshd_buf all = { 0 };

	for (const char *const *v = k->values; *v; v++) {
		const char *gt = strchr(*v, '>');
		size_t len = gt ? (size_t)(gt - *v) : strlen(*v);

		if (strlen(value) == len && strncasecmp(value, *v, len) == 0) {
			*out = strdup(gt ? gt + 1 : *v);
			return *out ? 0 : -ENOMEM;
		}
	}
	for (const char *const *v = k->values; *v; v++)
		if (!strchr(*v, '>'))
			sshd_buf_printf(&all, "%s%s", all.n ? ", " : "", *v);
	set_why(why, why_len, "%s must be one of %s, not '%s'", k->name,
		all.p ? all.p : "?", value);
	sshd_buf_free(&all);
	return -EINVAL;
}

int sshd_value_normalize(const struct sshd_keyword *k, const char *value,
			 char **out, char *why, size_t why_len)
{
	unsigned long n, a, b, c;
	char tail;
	int r;

	*out = NULL;
	while (isspace((unsigned char)*value))
		value++;
	if (!*value)
		return set_why(why, why_len, "%s needs a value", k->name);

	switch (k->type) {
	case SSHD_V_BOOL:
		if (strcasecmp(value, "yes") == 0)
			*out = strdup("yes");
		else if (strcasecmp(value, "no") == 0)
			*out = strdup("no");
		else
			return set_why(why, why_len, "%s must be yes or no, not '%s'",
				       k->name, value);
		break;
	case SSHD_V_UINT:
		if (parse_uint(value, &n))
			return set_why(why, why_len, "%s must be a number, not '%s'",
				       k->name, value);
		if (asprintf(out, "%lu", n) < 0)
			*out = NULL;
		break;
	case SSHD_V_TIME:
		r = parse_time(value, &n);
		if (r)
			return set_why(why, why_len,
				       "%s must be a time (120, 2m, 1h30m), not '%s'",
				       k->name, value);
		if (asprintf(out, "%lu", n) < 0)
			*out = NULL;
		break;
	case SSHD_V_ENUM:
		return normalize_enum(k, value, out, why, why_len);
	case SSHD_V_ALGOS:
		/*
		 * "+x", "-x", "^x" change sshd's built-in default, which this
		 * layer cannot see without sshd; the policy names the list.
		 */
		if (strchr("+-^", value[0]))
			return set_why(why, why_len,
				       "%s must list the algorithms, not modify the default ('%c')",
				       k->name, value[0]);
		if (strpbrk(value, " \t") || strstr(value, ",,") || value[strlen(value) - 1] == ',')
			return set_why(why, why_len, "%s must be a comma-separated list without spaces",
				       k->name);
		*out = strdup(value);
		break;
	case SSHD_V_STARTUPS:
		if (sscanf(value, "%lu:%lu:%lu%c", &a, &b, &c, &tail) == 3) {
			if (b < 1 || b > 100 || a > c)
				return set_why(why, why_len,
					       "%s: start must not exceed full, rate 1..100 ('%s')",
					       k->name, value);
		} else if (parse_uint(value, &a) == 0) {
			b = 100;
			c = a;
		} else {
			return set_why(why, why_len, "%s must be start:rate:full or a number, not '%s'",
				       k->name, value);
		}
		if (asprintf(out, "%lu:%lu:%lu", a, b, c) < 0)
			*out = NULL;
		break;
	case SSHD_V_WORDS: {
		struct strv sv = { 0 };
		struct sshd_buf buf = { 0 };

		if (strv_split(&sv, value, " \t"))
			return -ENOMEM;
		for (size_t i = 0; i < sv.n; i++)
			sshd_buf_printf(&buf, "%s%s", i ? " " : "", sv.v[i]);
		strv_free(&sv);
		*out = buf.p;
		if (!*out)
			return -ENOMEM;
		break;
	}
	case SSHD_V_STRING:
		*out = strdup(value);
		break;
	}
	return *out ? 0 : -ENOMEM;
}

/* Same members, any order: sshd's lists are sets of what it allows. */
static bool set_equal(const char *x, const char *y, const char *seps)
{
	struct strv a = { 0 }, b = { 0 };
	bool eq = false;

	if (strv_split(&a, x, seps) || strv_split(&b, y, seps))
		goto out;
	for (size_t i = 0; i < a.n; i++)
		if (!strv_contains(&b, a.v[i]))
			goto out;
	for (size_t i = 0; i < b.n; i++)
		if (!strv_contains(&a, b.v[i]))
			goto out;
	eq = true;
out:
	strv_free(&a);
	strv_free(&b);
	return eq;
}

bool sshd_value_equal(const struct sshd_keyword *k, const char *expected,
		      const char *actual)
{
	char *norm = NULL;
	bool eq;

	if (!actual)
		return false;
	if (sshd_value_normalize(k, actual, &norm, NULL, 0))
		return false;
	switch (k->type) {
	case SSHD_V_ALGOS:
		eq = set_equal(expected, norm, ",");
		break;
	case SSHD_V_WORDS:
		eq = set_equal(expected, norm, " \t");
		break;
	default:
		eq = strcmp(expected, norm) == 0;
		break;
	}
	free(norm);
	return eq;
}

int sshd_dump_parse(struct sshd_dump *d, const char *text)
{
	const char *p = text;

	memset(d, 0, sizeof(*d));
	while (*p) {
		const char *eol = strchrnul(p, '\n');
		char *line = strndup(p, (size_t)(eol - p));
		char *sp, *val;
		int r = 0;
		bool found = false;

		if (!line)
			goto nomem;
		sp = line + strcspn(line, " \t");
		val = *sp ? sp + 1 : sp;
		*sp = '\0';
		val = str_trim(val);
		for (char *c = line; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (*line) {
			for (size_t i = 0; i < d->keys.n; i++) {
				if (strcmp(d->keys.v[i], line) == 0) {
					char *joined;

					found = true;
					if (asprintf(&joined, "%s %s", d->values.v[i], val) < 0) {
						r = -ENOMEM;
						break;
					}
					free(d->values.v[i]);
					d->values.v[i] = joined;
					break;
				}
			}
			if (!found && !r) {
				r = strv_push(&d->keys, line);
				if (!r)
					r = strv_push(&d->values, val);
			}
		}
		free(line);
		if (r)
			goto nomem;
		p = *eol ? eol + 1 : eol;
	}
	return 0;
nomem:
	sshd_dump_free(d);
	return -ENOMEM;
}

const char *sshd_dump_get(const struct sshd_dump *d, const char *keyword)
{
	for (size_t i = 0; i < d->keys.n; i++)
		if (strcasecmp(d->keys.v[i], keyword) == 0)
			return d->values.v[i];
	return NULL;
}

void sshd_dump_free(struct sshd_dump *d)
{
	strv_free(&d->keys);
	strv_free(&d->values);
}

int sshd_line_split(const char *line, char **kw, char **args)
{
	const char *p = line, *k;
	size_t klen;
	char *a;

	*kw = *args = NULL;
	while (isspace((unsigned char)*p))
		p++;
	if (!*p || *p == '#')
		return 0;
	k = p;
	while (*p && !isspace((unsigned char)*p) && *p != '=')
		p++;
	klen = (size_t)(p - k);
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '=') {
		p++;
		while (isspace((unsigned char)*p))
			p++;
	}
	*kw = strndup(k, klen);
	a = strdup(p);
	if (!*kw || !a) {
		free(*kw);
		free(a);
		*kw = NULL;
		return -ENOMEM;
	}
	/* sshd ends the arguments at a word that starts with '#'. */
	for (char *c = a; *c; c++) {
		if (*c == '#' && (c == a || isspace((unsigned char)c[-1]))) {
			*c = '\0';
			break;
		}
	}
	*args = str_trim(a);
	if (*args != a) {
		memmove(a, *args, strlen(*args) + 1);
		*args = a;
	}
	return 1;
}

int sshd_buf_printf(struct sshd_buf *b, const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		return -EINVAL;
	if (b->n + (size_t)len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->n + (size_t)len + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, (size_t)len + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)len;
	return 0;
}

void sshd_buf_free(struct sshd_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* An Include argument as sshd resolves it: relative to /etc/ssh. */
static int include_path(const char *arg, char *buf, size_t size)
{
	int n;

	if (arg[0] == '/')
		n = snprintf(buf, size, "%s", arg);
	else
		n = snprintf(buf, size, "%s/%s", SSHD_SSHDIR, arg);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/*
 * Expand one Include argument below root: the files sshd would read, as
 * paths sshd sees (root stripped), in glob(3) order as sshd does.  The
 * jefe drop-in counts as present when `ours_present` (a candidate).
 */
static int include_expand(const char *root, const char *arg, const char *ours_path,
			  bool ours_present, struct strv *out)
{
	char pat[PATH_MAX], full[PATH_MAX];
	size_t rlen = strcmp(root, "/") == 0 ? 0 : strlen(root);
	glob_t g;
	bool have_ours = false;
	int r;

	r = include_path(arg, pat, sizeof(pat));
	if (r)
		return r;
	r = root_join(full, sizeof(full), root, pat);
	if (r)
		return r;
	r = glob(full, 0, NULL, &g);
	if (r != 0 && r != GLOB_NOMATCH)
		return r == GLOB_NOSPACE ? -ENOMEM : -EIO;
	for (size_t i = 0; r == 0 && i < g.gl_pathc; i++) {
		const char *p = g.gl_pathv[i] + rlen;

		if (ours_path && strcmp(p, ours_path) == 0)
			have_ours = true;
		/* The candidate goes where sorting puts it. */
		if (ours_present && !have_ours && ours_path &&
		    fnmatch(pat, ours_path, FNM_PATHNAME) == 0 && strcmp(ours_path, p) < 0) {
			if (strv_push(out, ours_path))
				goto nomem;
			have_ours = true;
		}
		if (strv_push(out, p))
			goto nomem;
	}
	if (ours_present && !have_ours && ours_path && fnmatch(pat, ours_path, FNM_PATHNAME) == 0 &&
	    strv_push(out, ours_path))
		goto nomem;
	if (r == 0)
		globfree(&g);
	return 0;
nomem:
	if (r == 0)
		globfree(&g);
	return -ENOMEM;
}

static int conf_add(struct sshd_conf *c, const char *file, int line, const char *kw,
		    const char *args, const char *match, bool ours)
{
	struct sshd_cfgline *l;
	struct sshd_cfgline *v = array_grow(c->v, c->n, &c->cap, sizeof(*c->v));

	if (!v)
		return -ENOMEM;
	c->v = v;
	l = &c->v[c->n];
	memset(l, 0, sizeof(*l));
	l->file = strdup(file);
	l->keyword = strdup(kw);
	l->args = strdup(args);
	l->match = match ? strdup(match) : NULL;
	l->line = line;
	l->ours = ours;
	l->before_ours = !c->ours_included;
	if (!l->file || !l->keyword || !l->args || (match && !l->match)) {
		free(l->file);
		free(l->keyword);
		free(l->args);
		free(l->match);
		return -ENOMEM;
	}
	c->n++;
	return 0;
}

struct conf_reader {
	struct sshd_conf *c;
	int root_fd;
	const char *root;
	const char *ours_path;
	const char *ours_text;
};

static int conf_read_text(struct conf_reader *rd, const char *file, const char *text,
			  const char *match_in, int depth);

static int conf_read_file(struct conf_reader *rd, const char *file, const char *match,
			  int depth)
{
	bool ours = rd->ours_path && strcmp(file, rd->ours_path) == 0;
	char *text = NULL;
	size_t len;
	int r;

	if (ours && rd->ours_text)
		return conf_read_text(rd, file, rd->ours_text, match, depth);
	r = root_read_file_alloc(rd->root_fd, file, &text, &len);
	if (r == -ENOENT)
		return 0;	/* sshd skips what vanished between glob and open */
	if (r)
		return r;
	r = conf_read_text(rd, file, text, match, depth);
	free(text);
	return r;
}

static int conf_read_text(struct conf_reader *rd, const char *file, const char *text,
			  const char *match_in, int depth)
{
	struct sshd_conf *c = rd->c;
	bool ours = rd->ours_path && strcmp(file, rd->ours_path) == 0;
	const char *p = text;
	int lineno = 0, r = 0;
	char *match;

	/*
	 * sshd's READCONF_MAX_DEPTH.  Checked before the Match copy below,
	 * which a refused Include loop inside a Match block used to leak.
	 */
	if (depth > 16)
		return -JEFE_EINCLUDE;
	match = match_in ? strdup(match_in) : NULL;
	if (match_in && !match)
		return -ENOMEM;
	if (!strv_contains(&c->files, file) && (r = strv_push(&c->files, file)))
		goto out;
	if (ours)
		c->ours_included = true;
	while (*p && !r) {
		const char *eol = strchrnul(p, '\n');
		char *line = strndup(p, (size_t)(eol - p));
		char *kw, *args;

		lineno++;
		p = *eol ? eol + 1 : eol;
		if (!line) {
			r = -ENOMEM;
			break;
		}
		r = sshd_line_split(line, &kw, &args);
		free(line);
		if (r <= 0)
			continue;
		r = 0;
		if (strcasecmp(kw, "Match") == 0) {
			free(match);
			match = strdup(args);
			if (!match)
				r = -ENOMEM;
		}
		if (!r)
			r = conf_add(c, file, lineno, kw, args, match, ours);
		if (!r && strcasecmp(kw, "Include") == 0) {
			struct strv words = { 0 }, files = { 0 };

			r = strv_split(&words, args, " \t");
			for (size_t i = 0; !r && i < words.n; i++)
				r = include_expand(rd->root, words.v[i], rd->ours_path,
						   rd->ours_text != NULL, &files);
			for (size_t i = 0; !r && i < files.n; i++)
				r = conf_read_file(rd, files.v[i], match, depth + 1);
			strv_free(&words);
			strv_free(&files);
		}
		free(kw);
		free(args);
	}
out:
	free(match);
	return r;
}

int sshd_conf_read(struct sshd_conf *c, int root_fd, const char *root,
		   const char *main_path, const char *main_text,
		   const char *ours_path, const char *ours_text)
{
	struct conf_reader rd = {
		.c = c, .root_fd = root_fd, .root = root,
		.ours_path = ours_path, .ours_text = ours_text,
	};
	int r;

	memset(c, 0, sizeof(*c));
	if (main_text)
		r = conf_read_text(&rd, main_path, main_text, NULL, 0);
	else
		r = conf_read_file(&rd, main_path, NULL, 0);
	if (r)
		sshd_conf_free(c);
	return r;
}

void sshd_conf_free(struct sshd_conf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].file);
		free(c->v[i].keyword);
		free(c->v[i].args);
		free(c->v[i].match);
	}
	free(c->v);
	strv_free(&c->files);
	memset(c, 0, sizeof(*c));
}

/*
 * sshd opens the host path root/f itself, following every symlink on the
 * host.  Hand it the path only when it names the very file that f names
 * inside the root (openat2 RESOLVE_IN_ROOT): a root whose sshd_config.d is
 * a symlink to a host directory gets -EXDEV, never a host file.  A file
 * absent inside the root is left out (1), as sshd skips a vanished glob
 * match.  The root's own tree is trusted not to change between this check
 * and sshd's open: it is the tree the caller chose to manage.
 */
static int include_path_confined(int root_fd, const char *f, const char *full)
{
	struct stat in_root, on_host;
	int fd, r;

	fd = rootfs_open(root_fd, f, O_PATH);
	if (fd == -ENOENT || fd == -ELOOP || fd == -ENOTDIR)
		return 1;
	if (fd < 0)
		return fd;
	r = fstat(fd, &in_root) < 0 ? -errno : 0;
	close(fd);
	if (r)
		return r;
	if (stat(full, &on_host) < 0 || on_host.st_dev != in_root.st_dev ||
	    on_host.st_ino != in_root.st_ino)
		return -EXDEV;
	return 0;
}

int sshd_conf_render_top(int root_fd, const char *root, const char *main_text,
			 const char *ours_path, const char *subst_path, char **out)
{
	struct sshd_buf b = { 0 };
	const char *p = main_text;
	int r = 0;

	*out = NULL;
	while (*p && !r) {
		const char *eol = strchrnul(p, '\n');
		char *line = strndup(p, (size_t)(eol - p));
		char *kw, *args;
		int s;

		p = *eol ? eol + 1 : eol;
		if (!line) {
			r = -ENOMEM;
			break;
		}
		s = sshd_line_split(line, &kw, &args);
		if (s < 0) {
			free(line);
			r = s;
			break;
		}
		if (s == 0 || strcasecmp(kw, "Include") != 0) {
			r = sshd_buf_printf(&b, "%s\n", line);
		} else {
			struct strv words = { 0 }, files = { 0 };
			size_t n_paths = 0;

			r = strv_split(&words, args, " \t");
			for (size_t i = 0; !r && i < words.n; i++)
				r = include_expand(root, words.v[i], ours_path, subst_path != NULL,
						   &files);
			for (size_t i = 0; !r && i < files.n; i++) {
				char full[PATH_MAX];
				const char *f = files.v[i];
				int c;

				if (subst_path && ours_path && strcmp(f, ours_path) == 0)
					f = subst_path;
				r = root_join(full, sizeof(full), root, f);
				c = r ? r : include_path_confined(root_fd, f, full);
				if (c < 0)
					r = c;
				else if (c == 0)
					r = sshd_buf_printf(&b, "%s %s", n_paths++ ? "" : "Include", full);
			}
			if (!r && n_paths == 0)
				/* Keeps line numbers; sshd ignores an empty glob too. */
				r = sshd_buf_printf(&b, "# %s (matches nothing)\n", line);
			else if (!r)
				r = sshd_buf_printf(&b, "\n");
			strv_free(&words);
			strv_free(&files);
		}
		free(line);
		if (s > 0) {
			free(kw);
			free(args);
		}
	}
	if (!r && !b.p)
		r = sshd_buf_printf(&b, "%s", "");
	if (r) {
		sshd_buf_free(&b);
		return r;
	}
	*out = b.p;
	return 0;
}

int sshd_dropin_render(const struct sshd_setting *s, size_t n,
		       const bool *supported, const bool *in_match_all, char **out)
{
	struct sshd_buf b = { 0 };
	bool any_match = false;
	int r;

	r = sshd_buf_printf(&b,
		"# Managed by jefe (the sshd layer); changes here are overwritten.\n"
		"# sshd uses the first value it reads for each keyword, so this file\n"
		"# must be read first: see jefe.conf(5), section [sshd].\n");
	for (size_t i = 0; !r && i < n; i++) {
		if (supported && !supported[i])
			continue;
		r = sshd_buf_printf(&b, "%s %s\n", s[i].kw->name, s[i].value);
		if (in_match_all && in_match_all[i])
			any_match = true;
	}
	if (!r && any_match) {
		/*
		 * A Match block elsewhere sets a managed keyword: within Match
		 * blocks the first matching block wins too, and ours is read
		 * first, so "Match all" here keeps the policy for every
		 * connection.  Only what is needed, so other Match blocks keep
		 * working for what the policy does not manage.
		 */
		r = sshd_buf_printf(&b, "# Match blocks elsewhere set managed keywords:\nMatch all\n");
		for (size_t i = 0; !r && i < n; i++)
			if (in_match_all[i] && (!supported || supported[i]))
				r = sshd_buf_printf(&b, "\t%s %s\n", s[i].kw->name, s[i].value);
	}
	if (r) {
		sshd_buf_free(&b);
		return r;
	}
	*out = b.p;
	return 0;
}

/* A name that matches an sshd pattern ("adm*", "?x"): wildcards made concrete. */
static void pattern_concrete(const char *pat, char *buf, size_t size)
{
	size_t i = 0;

	for (; *pat && i + 1 < size; pat++)
		buf[i++] = (*pat == '*' || *pat == '?') ? 'x' : *pat;
	buf[i] = '\0';
}

/* The first positive pattern of a comma list, or NULL. */
static const char *first_positive(struct strv *pats, const char *list)
{
	strv_free(pats);
	if (strv_split(pats, list, ","))
		return NULL;
	for (size_t i = 0; i < pats->n; i++)
		if (pats->v[i][0] != '!')
			return pats->v[i];
	return NULL;
}

/* A member of group name below root: listed member, else primary gid. */
static int sshd_group_member(int root_fd, const char *group, char *buf, size_t size)
{
	struct rootfs_accounts grp, pw;
	const struct rootfs_account *g;
	int r = -ENOENT;

	if (rootfs_accounts_read(root_fd, ROOTFS_GROUP, &grp))
		return -ENOENT;
	g = rootfs_account_find(&grp, group);
	if (g && *g->members) {
		snprintf(buf, size, "%.*s", (int)strcspn(g->members, ","), g->members);
		r = 0;
	} else if (g && rootfs_accounts_read(root_fd, ROOTFS_PASSWD, &pw) == 0) {
		for (size_t i = 0; r && i < pw.n; i++)
			if (pw.v[i].gid == g->gid) {
				snprintf(buf, size, "%s", pw.v[i].name);
				r = 0;
			}
		rootfs_accounts_free(&pw);
	}
	rootfs_accounts_free(&grp);
	return r;
}

int sshd_match_spec(int root_fd, const char *match_args, char *buf, size_t size)
{
	char user[128] = "jefe-check", host[256] = "jefe-check.invalid";
	char addr[64] = "192.0.2.1", laddr[64] = "", lport[16] = "", rdomain[64] = "";
	struct strv words = { 0 }, pats = { 0 };
	int r = 0, n;

	if (strv_split(&words, match_args, " \t"))
		return -ENOMEM;
	for (size_t i = 0; i < words.n && !r; i++) {
		const char *crit = words.v[i], *arg, *pos;

		if (strcasecmp(crit, "all") == 0)
			continue;
		if (i + 1 >= words.n) {
			r = -EINVAL;
			break;
		}
		arg = words.v[++i];
		pos = first_positive(&pats, arg);
		if (!pos) {
			r = -ENOTSUP;
			break;
		}
		if (strcasecmp(crit, "user") == 0) {
			pattern_concrete(pos, user, sizeof(user));
		} else if (strcasecmp(crit, "group") == 0) {
			char g[128];

			pattern_concrete(pos, g, sizeof(g));
			if (sshd_group_member(root_fd, g, user, sizeof(user)))
				r = -ENOTSUP;
		} else if (strcasecmp(crit, "host") == 0) {
			pattern_concrete(pos, host, sizeof(host));
		} else if (strcasecmp(crit, "address") == 0 ||
			   strcasecmp(crit, "localaddress") == 0) {
			char *dst = strcasecmp(crit, "address") == 0 ? addr : laddr;
			char a[64];

			/* The network address of a CIDR block is inside it. */
			snprintf(a, sizeof(a), "%.*s", (int)strcspn(pos, "/"), pos);
			for (char *c = a; *c; c++)
				if (*c == '*' || *c == '?')
					*c = '1';
			snprintf(dst, 64, "%s", a);
		} else if (strcasecmp(crit, "localport") == 0) {
			snprintf(lport, sizeof(lport), "%s", pos);
		} else if (strcasecmp(crit, "rdomain") == 0) {
			pattern_concrete(pos, rdomain, sizeof(rdomain));
		} else {
			r = -ENOTSUP;
		}
	}
	strv_free(&words);
	strv_free(&pats);
	if (r)
		return r;
	n = snprintf(buf, size, "user=%s,host=%s,addr=%s%s%s%s%s%s%s", user, host, addr,
		     *laddr ? ",laddr=" : "", laddr, *lport ? ",lport=" : "", lport,
		     *rdomain ? ",rdomain=" : "", rdomain);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int sshd_spec_validate(const char *spec, char *why, size_t why_len)
{
	static const char *const keys[] = { "user", "host", "addr", "laddr", "lport", "rdomain" };
	struct strv parts = { 0 };
	unsigned int seen = 0;
	int r = 0;

	if (strv_split(&parts, spec, ","))
		return -ENOMEM;
	for (size_t i = 0; i < parts.n && !r; i++) {
		char *eq = strchr(parts.v[i], '=');
		size_t k;

		if (!eq || eq == parts.v[i] || !eq[1] || strpbrk(eq + 1, " \t")) {
			r = set_why(why, why_len, "'%s' is not key=value", parts.v[i]);
			break;
		}
		*eq = '\0';
		for (k = 0; k < ARRAY_SIZE(keys); k++)
			if (strcmp(parts.v[i], keys[k]) == 0)
				break;
		if (k == ARRAY_SIZE(keys))
			r = set_why(why, why_len,
				    "unknown connection parameter '%s' (user, host, addr, laddr, lport, rdomain)",
				    parts.v[i]);
		else
			seen |= 1u << k;
	}
	strv_free(&parts);
	if (!r && (seen & 7u) != 7u)
		r = set_why(why, why_len, "sshd -C needs user=, host= and addr= all given");
	return r;
}

const struct sshd_keyword *sshd_want_find(const struct sshd_want_set *w, const char *name,
					  size_t *idx)
{
	const struct sshd_keyword *k = sshd_keyword_find(name);

	for (size_t i = 0; k && i < w->n; i++) {
		if (w->s[i].kw == k) {
			*idx = i;
			return k;
		}
	}
	return NULL;
}

/* A directive that, read before ours, would set a managed keyword otherwise. */
bool sshd_line_conflicts(const struct sshd_want_set *w, const struct sshd_cfgline *l)
{
	const struct sshd_keyword *k;
	size_t i;

	k = sshd_want_find(w, l->keyword, &i);
	return k && !sshd_value_equal(k, w->s[i].value, l->args);
}

/* Managed keywords that some Match block (not ours) sets otherwise. */
void sshd_match_overrides(const struct sshd_want_set *w, const struct sshd_conf *c, bool *out)
{
	for (size_t j = 0; j < c->n; j++) {
		const struct sshd_cfgline *l = &c->v[j];
		size_t i;

		if (l->ours || !l->match || strcasecmp(l->keyword, "Match") == 0)
			continue;
		if (sshd_want_find(w, l->keyword, &i) && w->s[i].kw->in_match &&
		    sshd_line_conflicts(w, l))
			out[i] = true;
	}
}

/* The first thing sshd reads before our drop-in that defeats it. */
static const struct sshd_cfgline *conflict_before(const struct sshd_want_set *w,
						 const struct sshd_conf *c, bool in_main)
{
	for (size_t j = 0; j < c->n; j++) {
		const struct sshd_cfgline *l = &c->v[j];
		bool is_main = strcmp(l->file, SSHD_CONFIG) == 0;

		if (!l->before_ours || is_main != in_main)
			continue;
		/* A Match before our Include would swallow the drop-in. */
		if ((in_main && strcasecmp(l->keyword, "Match") == 0) || sshd_line_conflicts(w, l))
			return l;
	}
	return NULL;
}

/* Insert text before the first directive of main (after the leading comments). */
static int text_insert_top(const char *main, const char *ins, char **out)
{
	const char *p = main, *at = main + strlen(main);

	while (*p) {
		const char *eol = strchrnul(p, '\n');
		char *line = strndup(p, (size_t)(eol - p)), *kw, *args;
		int s;

		if (!line)
			return -ENOMEM;
		s = sshd_line_split(line, &kw, &args);
		free(line);
		if (s < 0)
			return s;
		if (s > 0) {
			free(kw);
			free(args);
			at = p;
			break;
		}
		p = *eol ? eol + 1 : eol;
	}
	if (asprintf(out, "%.*s%s%s%s", (int)(at - main), main,
		     at > main && at[-1] != '\n' ? "\n" : "", ins, at) < 0)
		return -ENOMEM;
	return 0;
}

/* Remove line number `lineno` (1-based) from text. */
static int text_remove_line(const char *text, int lineno, char **out, char **removed)
{
	const char *p = text;

	for (int n = 1; *p && n < lineno; n++) {
		p = strchr(p, '\n');
		if (!p)
			return -ENOENT;
		p++;
	}
	{
		const char *eol = strchrnul(p, '\n');
		const char *next = *eol ? eol + 1 : eol;

		*removed = strndup(p, (size_t)(eol - p));
		if (!*removed || asprintf(out, "%.*s%s", (int)(p - text), text, next) < 0) {
			free(*removed);
			*removed = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

/*
 * The sshd_config that keeps our drop-in first, changed as little as
 * possible: the directory's Include moved (or added) to the top, and only
 * when a drop-in that sorts before ours defeats it, an explicit Include of
 * ours above that.  *note says why.  *out NULL: no change needed.
 */
int sshd_plan_main(const struct sshd_want_set *w, int root_fd, const char *root,
		   const char *main_text, const char *dropin_new,
		   char **out, char *note, size_t note_len)
{
	struct sshd_conf c;
	const struct sshd_cfgline *l;
	char *text = strdup(main_text), *next = NULL;
	int r;

	*out = NULL;
	note[0] = '\0';
	if (!text)
		return -ENOMEM;
	r = sshd_conf_read(&c, root_fd, root, SSHD_CONFIG, text, SSHD_DROPIN, dropin_new);
	if (r)
		goto out;
	l = conflict_before(w, &c, true);
	if (!c.ours_included || l) {
		int glob_line = 0;
		char *removed = NULL, *ins;

		if (l)
			snprintf(note, note_len, "%s line %d (%s) is read before the drop-in",
				 SSHD_CONFIG, l->line, l->keyword);
		else
			snprintf(note, note_len, "%s does not include the drop-in", SSHD_CONFIG);
		for (size_t j = 0; j < c.n; j++) {
			const struct sshd_cfgline *x = &c.v[j];

			if (strcmp(x->file, SSHD_CONFIG) == 0 && strcasecmp(x->keyword, "Include") == 0 &&
			    (strcmp(x->args, SSHD_DROPIN_GLOB) == 0 ||
			     strcmp(x->args, "sshd_config.d/*.conf") == 0)) {
				glob_line = x->line;
				break;
			}
		}
		if (glob_line) {
			r = text_remove_line(text, glob_line, &next, &removed);
			if (r)
				goto out_conf;
			free(text);
			text = next;
		}
		r = asprintf(&ins, "# jefe: drop-ins first; sshd keeps the first value it reads\n%s\n",
			     removed ? removed : "Include " SSHD_DROPIN_GLOB) < 0 ? -ENOMEM : 0;
		free(removed);
		if (r)
			goto out_conf;
		r = text_insert_top(text, ins, &next);
		free(ins);
		if (r)
			goto out_conf;
		free(text);
		text = next;
		sshd_conf_free(&c);
		r = sshd_conf_read(&c, root_fd, root, SSHD_CONFIG, text, SSHD_DROPIN,
				   dropin_new);
		if (r)
			goto out;
	}
	l = conflict_before(w, &c, false);
	if (l) {
		size_t len = strlen(note);

		snprintf(note + len, note_len - len, "%s%s line %d (%s) is read before the drop-in",
			 len ? "; " : "", l->file, l->line, l->keyword);
		r = text_insert_top(text,
				    "# jefe: this drop-in first, before any that sorts earlier\n"
				    "Include " SSHD_DROPIN "\n", &next);
		if (r)
			goto out_conf;
		free(text);
		text = next;
	}
	if (strcmp(text, main_text) != 0) {
		*out = text;
		text = NULL;
	}
out_conf:
	sshd_conf_free(&c);
out:
	free(text);
	return r;
}


/* ---- host public keys ---- */

static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Standard base64 of at most len characters (stops at '=' or a space); bytes written or -EINVAL. */
static ssize_t b64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
	unsigned long acc = 0;
	size_t n = 0;
	int bits = 0;

	for (size_t i = 0; i < len && in[i] != '='; i++) {
		int v = b64_value((unsigned char)in[i]);

		if (v < 0)
			return -EINVAL;
		acc = (acc << 6 | (unsigned long)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= cap)
				return -EINVAL;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return (ssize_t)n;
}

/* The SSH wire string at *p (uint32 length, bytes); false past the end. */
static bool ssh_string(const unsigned char **p, const unsigned char *end,
		       const unsigned char **s, size_t *len)
{
	size_t l;

	if (end - *p < 4)
		return false;
	l = (size_t)(*p)[0] << 24 | (size_t)(*p)[1] << 16 | (size_t)(*p)[2] << 8 | (*p)[3];
	if ((size_t)(end - *p - 4) < l)
		return false;
	*s = *p + 4;
	*len = l;
	*p += 4 + l;
	return true;
}

int sshd_pubkey_info(const char *text, char *type, size_t type_len, unsigned *bits)
{
	unsigned char blob[4096];
	const unsigned char *p = blob, *end, *s;
	const char *b64, *b64_end;
	size_t tlen, len;
	ssize_t n;

	*bits = 0;
	while (*text == ' ' || *text == '\t')
		text++;
	b64 = strpbrk(text, " \t");
	if (!b64)
		return -EINVAL;
	while (*b64 == ' ' || *b64 == '\t')
		b64++;
	b64_end = b64 + strcspn(b64, " \t\r\n");
	n = b64_decode(b64, (size_t)(b64_end - b64), blob, sizeof(blob));
	if (n < 0)
		return (int)n;
	end = blob + n;
	/* The blob names its own type: the first word of the line may lie. */
	if (!ssh_string(&p, end, &s, &tlen) || tlen == 0 || tlen >= type_len)
		return -EINVAL;
	memcpy(type, s, tlen);
	type[tlen] = '\0';
	if (strcmp(type, "ssh-ed25519") == 0) {
		*bits = 256;
		return 0;
	}
	if (strcmp(type, "ssh-rsa") != 0)
		return 0;
	/* ssh-rsa: mpint e, mpint n; the modulus's length is the key's. */
	if (!ssh_string(&p, end, &s, &len) || !ssh_string(&p, end, &s, &len))
		return -EINVAL;
	while (len && *s == 0) {
		s++;
		len--;
	}
	if (len) {
		unsigned top = *s, tb = 0;

		while (top) {
			tb++;
			top >>= 1;
		}
		*bits = (unsigned)(len - 1) * 8 + tb;
	}
	return 0;
}
