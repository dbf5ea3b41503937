/* SPDX-License-Identifier: MIT */
/*
 * Audit rules in auditctl syntax, parsed into the kernel's own rule
 * layout (struct audit_rule_data, built with libaudit), compared
 * structurally with what the kernel lists, and printed back.
 *
 * Nothing here talks to the kernel: the audit layer (layer_audit.c) does,
 * and the unit tests exercise this file without any privilege.
 */
#ifndef JEFE_AUDIT_RULES_H
#define JEFE_AUDIT_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "finding.h"
#include "policy.h"

struct audit_rule_data;

/* One rule of the policy. */
struct audit_rule_spec {
	struct audit_rule_data *data;	/* malloc'ed, sizeof + buflen bytes */
	char *text;			/* the line as written, trimmed */
	char *item;			/* finding id: "<first key>/<n>" */
	struct finding_refs refs;	/* owned; from the "# ref:" line above it */
	char *file;
	int line;
};

struct audit_ruleset {
	struct audit_rule_spec *v;
	size_t n;
	size_t cap;
};

/*
 * Parse a rules file (its whole text).  Each rule is one line of auditctl
 * syntax (-w PATH [-p PERMS] [-k KEY]... | -a LIST,ACTION [-F F<op>V]...
 * [-C F<op>F]... [-S SYSCALL[,SYSCALL]]... [-k KEY]...); '#' starts a
 * comment line, and "# ref: CIS 6.3.3.1, STIG V-1" sets the benchmark
 * references of the rules that follow (finding_refs_parse(); an unknown
 * benchmark is an error of that line, "# ref:" alone clears them).  owner_key (may be NULL or "") is added as one more
 * key of every rule, so the agent can tell its own rules from others'.
 * root_fd (or -1) is used to tell a watched directory from a file, as
 * auditctl does with stat().
 * Every problem is added to errs as "FILE line N: ..."; returns 0, or
 * -JEFE_EPOLICY when errs got entries, or -ENOMEM.
 */
int audit_rules_parse(struct audit_ruleset *rs, const char *file, const char *text,
		      const char *owner_key, int root_fd, struct policy_errors *errs);
void audit_ruleset_free(struct audit_ruleset *rs);

/* A copy of a rule as the kernel sent it (sizeof + buflen bytes). */
struct audit_rule_data *audit_rule_dup(const struct audit_rule_data *r);
size_t audit_rule_size(const struct audit_rule_data *r);

/*
 * Structural equality as the kernel sees rules: list and action, the
 * syscall mask (the kernel folds syscall-class bits, so those are
 * ignored), and the fields as a set of (field, op, value or string),
 * whatever their order.
 */
bool audit_rule_equal(const struct audit_rule_data *a, const struct audit_rule_data *b);

/* True when one of the rule's keys (separated by \001) is key. */
bool audit_rule_has_key(const struct audit_rule_data *r, const char *key);

/* Render a rule in auditctl syntax ("-a always,exit -F arch=b64 -S execve -k x"). */
int audit_rule_format(const struct audit_rule_data *r, char *buf, size_t size);

#endif
