/* SPDX-License-Identifier: MIT */
/*
 * The sshd layer's pure parts: the keyword table, value normalisation as
 * sshd means the values, the parser of `sshd -T` output, the reader of
 * sshd_config and its Include files (below a root), and the text the
 * layer writes.  No process is run here, so the unit tests cover it all.
 */
#ifndef JEFE_SSHD_CONF_H
#define JEFE_SSHD_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "finding.h"
#include "util.h"

#define SSHD_CONFIG		"/etc/ssh/sshd_config"
#define SSHD_DROPIN_DIR		"/etc/ssh/sshd_config.d"
#define SSHD_DROPIN		"/etc/ssh/sshd_config.d/00-jefe.conf"
#define SSHD_DROPIN_GLOB	"/etc/ssh/sshd_config.d/*.conf"
/* Relative Include paths are relative to this, as in sshd (SSHDIR). */
#define SSHD_SSHDIR		"/etc/ssh"

enum sshd_vtype {
	SSHD_V_BOOL,		/* yes | no */
	SSHD_V_UINT,		/* decimal */
	SSHD_V_TIME,		/* sshd time format (1m30s); -T prints seconds */
	SSHD_V_ENUM,		/* one of values[], case-insensitive, with aliases */
	SSHD_V_ALGOS,		/* comma list of algorithms, compared as a set */
	SSHD_V_STARTUPS,	/* start[:rate:full] */
	SSHD_V_WORDS,		/* white-space list, compared as a set (AllowUsers) */
	SSHD_V_STRING,		/* compared exactly (Banner) */
};

struct sshd_keyword {
	const char *name;		/* as sshd_config(5) spells it */
	enum sshd_vtype type;
	const char *query;		/* SSHD_V_ALGOS: the `ssh -Q` class */
	const char *const *values;	/* SSHD_V_ENUM: "canon" or "alias>canon" */
	bool in_match;			/* sshd accepts it inside a Match block */
	struct finding_refs refs;	/* benchmark references */
};

extern const struct sshd_keyword sshd_keywords[];
extern const size_t sshd_keywords_count;

/*
 * Why algo of `ssh -Q` class query is weak, or NULL when it is not: CBC
 * ciphers, SHA-1 and MD5 MACs, SHA-1 key exchanges, NIST-curve, DSA and
 * SHA-1 RSA (ssh-rsa) keys and signatures.
 */
const char *sshd_algorithm_weakness(const char *query, const char *algo);

/*
 * A public key line ("TYPE BASE64 [comment]", as in ssh_host_*_key.pub):
 * the type the key blob names, and its size in bits (the RSA modulus's
 * length, 256 for ed25519, 0 for other types).  0 or -EINVAL.
 */
int sshd_pubkey_info(const char *text, char *type, size_t type_len, unsigned *bits);

/* Case-insensitive, as sshd reads keywords; also knows sshd's aliases. */
const struct sshd_keyword *sshd_keyword_find(const char *name);

/*
 * Normalise a value the way sshd means it ("1m" -> "60", "All" -> "yes",
 * "without-password" -> "prohibit-password").  Returns 0 with *out
 * malloc'ed, or -EINVAL with a reason in why.
 */
int sshd_value_normalize(const struct sshd_keyword *k, const char *value,
			 char **out, char *why, size_t why_len);

/* expected is normalised; actual is raw (from sshd -T or a file). */
bool sshd_value_equal(const struct sshd_keyword *k, const char *expected,
		      const char *actual);

/* The output of `sshd -T`: lower-case keyword, value; repeated keywords
 * (hostkey, allowusers) are joined with a space. */
struct sshd_dump {
	struct strv keys;
	struct strv values;
};

int sshd_dump_parse(struct sshd_dump *d, const char *text);
const char *sshd_dump_get(const struct sshd_dump *d, const char *keyword);
void sshd_dump_free(struct sshd_dump *d);

/* Split one config line into keyword and arguments ("Key value", "Key=value").
 * Returns 1 with *kw and *args malloc'ed, 0 for a blank or comment line. */
int sshd_line_split(const char *line, char **kw, char **args);

/* One directive of the configuration, in the order sshd reads it. */
struct sshd_cfgline {
	char *file;		/* path as sshd sees it ("/etc/ssh/sshd_config") */
	int line;
	char *keyword;
	char *args;
	char *match;		/* the Match arguments in force, NULL: global */
	bool ours;		/* read from the jefe drop-in */
	bool before_ours;	/* sshd reads it before the jefe drop-in */
};

struct sshd_conf {
	struct sshd_cfgline *v;
	size_t n, cap;
	bool ours_included;
	struct strv files;	/* every file read, main first */
};

/*
 * Read the configuration below root the way sshd would: main_text is the
 * main file's content (NULL: read main_path), Include globs expanded in
 * name order, relative ones below /etc/ssh.  ours_text, when not NULL,
 * replaces the content of the jefe drop-in (a candidate).
 */
int sshd_conf_read(struct sshd_conf *c, int root_fd, const char *root,
		   const char *main_path, const char *main_text,
		   const char *ours_path, const char *ours_text);
void sshd_conf_free(struct sshd_conf *c);

/*
 * The text handed to `sshd -t/-T -f /dev/stdin`: main_text with each
 * Include rewritten to the explicit list of files it matches below root
 * (so a temporary root is honoured), ours replaced by subst_path when not
 * NULL (the candidate drop-in).  *out is malloc'ed.
 */
int sshd_conf_render_top(int root_fd, const char *root, const char *main_text,
			 const char *ours_path, const char *subst_path, char **out);

/* A growable string. */
struct sshd_buf {
	char *p;
	size_t n, cap;
};
__attribute__((format(printf, 2, 3)))
int sshd_buf_printf(struct sshd_buf *b, const char *fmt, ...);
void sshd_buf_free(struct sshd_buf *b);

/* One managed setting: a keyword and its normalised value. */
struct sshd_setting {
	const struct sshd_keyword *kw;
	char *value;
};

/* How values are written: keyword, a space, the value (algorithms joined by ','). */
int sshd_dropin_render(const struct sshd_setting *s, size_t n,
		       const bool *supported, const bool *in_match_all,
		       char **out);

/* The managed settings, for the rules below. */
struct sshd_want_set {
	const struct sshd_setting *s;
	size_t n;
};

/* The managed keyword (aliases too) and its index in w, or NULL. */
const struct sshd_keyword *sshd_want_find(const struct sshd_want_set *w, const char *name,
					  size_t *idx);

/* A directive that sets a managed keyword to another value than the policy's. */
bool sshd_line_conflicts(const struct sshd_want_set *w, const struct sshd_cfgline *l);

/* out[i] (i indexes w): some Match block outside our drop-in overrides it. */
void sshd_match_overrides(const struct sshd_want_set *w, const struct sshd_conf *c, bool *out);

/*
 * The sshd_config that keeps our drop-in (with content dropin_new) first,
 * changed as little as possible: the directory's Include moved (or added)
 * to the top; when a file that sorts before ours defeats it, an explicit
 * Include of ours above that.  *out NULL: no change needed; *note says why.
 */
int sshd_plan_main(const struct sshd_want_set *w, int root_fd, const char *root,
		   const char *main_text, const char *dropin_new,
		   char **out, char *note, size_t note_len);

/*
 * The connection (`sshd -T -C` spec) that enters a Match block:
 * "user=U,host=H,addr=A[,laddr=..,lport=..,rdomain=..]".  Group criteria
 * take a member from root's /etc/group.  Returns 0, or -ENOTSUP for a
 * block no test connection can enter (only negations).
 */
int sshd_match_spec(int root_fd, const char *match_args, char *buf, size_t size);

/* Validate a `check_connections` spec. */
int sshd_spec_validate(const char *spec, char *why, size_t why_len);

#endif
