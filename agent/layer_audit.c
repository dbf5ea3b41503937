/* SPDX-License-Identifier: MIT */
/*
 * Layer 5: kernel audit rules and settings, over the audit netlink socket.
 *
 * The policy ([audit]) names a rules file in auditctl syntax; audit_rules.c
 * turns it into the kernel's rule structures.  check() lists the kernel's
 * rules (AUDIT_LIST_RULES) and compares them structurally, so a watch
 * written as -w comes back as the path and perm fields the kernel holds and
 * still matches.  apply() enables auditing, sets backlog, failure mode and
 * rate limit, removes the rules that carry our owner key but are not in the
 * policy (every foreign rule with `exclusive`), adds the missing ones, and
 * locks the configuration (-e 2) when the policy asks.  A failed rule change
 * undoes the rule changes of that apply.
 *
 * Once locked, the kernel refuses every change until reboot: drift is then
 * reported once as cannot-fix and never retried in a loop (the daemon only
 * re-checks on events, and a refused change makes none).
 *
 * Events: the read-only multicast group AUDIT_NLGRP_READLOG carries every
 * record; a CONFIG_CHANGE record (auditctl -D, auditctl -e 0, another
 * agent) means re-check.  We never register as the audit daemon
 * (AUDIT_SET pid): auditd keeps its unicast socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <libaudit.h>
#include <limits.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_rules.h"
#include "errors.h"
#include "layer.h"
#include "layers.h"
#include "rootfs.h"
#include "util.h"

#define AUDIT_LAYER		"audit"
#define AUDIT_RULES_DEFAULT	"audit.rules"	/* beside the policy */
#define AUDIT_OWNER_DEFAULT	"jefe"
#define AUDIT_REPLY_TIMEOUT_MS	2000
#define AUDIT_EVENTS_PER_WAKEUP	256

struct audit_state {
	const struct jefe_env *env;
	struct audit_ruleset rules;
	char *rules_file;
	char *owner_key;
	bool enabled;		/* audit_enabled should be 1 (or 2 when locked) */
	bool lock;		/* -e 2 after apply */
	bool exclusive;		/* remove every rule not in the policy */
	unsigned long backlog_limit;
	unsigned long failure_mode;	/* 0 silent, 1 printk, 2 panic */
	unsigned long rate_limit;
	bool set_backlog, set_failure, set_rate;
	int mcast_fd;		/* AUDIT_NLGRP_READLOG listener, or -1 */
};

/* The kernel's view: status and rule list. */
struct audit_kernel {
	struct audit_status status;
	struct audit_rule_data **rules;
	size_t n;
};

/*
 * audit_open() with close-on-exec guaranteed: libaudit sets it today, but
 * no child the agent runs may ever inherit the audit socket.
 */
static int audit_open_cloexec(void)
{
	int fd = audit_open();

	if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		audit_close(fd);
		return -1;
	}
	return fd;
}

static void audit_kernel_free(struct audit_kernel *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->rules[i]);
	free(k->rules);
	k->rules = NULL;
	k->n = 0;
}

/* ---- policy -------------------------------------------------------------------- */

/* failure_mode: by name or by the kernel's number (index modulo 3). */
static const char *const failure_names[] = { "silent", "printk", "panic", "0", "1", "2", NULL };

struct audit_settings {
	const char *rules;
	const char *owner_key;
	bool enabled;
	bool lock;
	bool exclusive;
	unsigned long backlog_limit;
	unsigned long rate_limit;
	int failure_mode;
};

#define AS struct audit_settings
static const struct policy_key audit_keys[] = {
	PK_RELPATH("rules", AS, rules, AUDIT_RULES_DEFAULT,
		   "the rules file, in auditctl syntax; relative to the policy directory", ""),
	PK_STRING("owner_key", AS, owner_key, AUDIT_OWNER_DEFAULT,
		  "the key (-k) that marks the rules this layer owns: one word, at most 64 bytes", ""),
	PK_BOOL("enabled", AS, enabled, "yes", "auditing on (auditctl -e 1)", ""),
	PK_BOOL("lock", AS, lock, "no",
		"lock the rules until reboot (auditctl -e 2); needs enabled = yes", "CIS 6.3.3.20"),
	PK_BOOL("exclusive", AS, exclusive, "no",
		"the kernel holds only this layer's rules: others are removed", ""),
	PK_UINT("backlog_limit", AS, backlog_limit, 0, 0x7fffffff, NULL,
		"kernel audit backlog (auditctl -b); unset: left as it is", "CIS 6.3.1.4"),
	PK_UINT("rate_limit", AS, rate_limit, 0, 0x7fffffff, NULL,
		"messages per second (auditctl -r); unset: left as it is", ""),
	PK_ENUM("failure_mode", AS, failure_mode, failure_names, NULL,
		"what the kernel does when records are lost: silent, printk or panic (0-2); unset: left as it is", ""),
	PK_END,
};
#undef AS

static void audit_state_free(void *state)
{
	struct audit_state *st = state;

	if (st == NULL)
		return;
	if (st->mcast_fd >= 0)
		close(st->mcast_fd);
	audit_ruleset_free(&st->rules);
	free(st->rules_file);
	free(st->owner_key);
	free(st);
}

static int audit_load(void **state, const struct jefe_env *env, const struct policy *policy,
		      const void *settings, struct policy_errors *errs)
{
	const struct audit_settings *set = settings;
	struct audit_state *st = calloc(1, sizeof(*st));
	const struct policy_entry *e, *rules_entry = NULL;
	size_t errs_before = errs->n;
	char *text = NULL, shown[4096];
	size_t len;
	int rc;

	if (st == NULL)
		return -ENOMEM;
	st->env = env;
	st->mcast_fd = -1;
	st->enabled = true;
	st->failure_mode = 1;
	st->owner_key = strdup(AUDIT_OWNER_DEFAULT);
	if (layer_policy_path(env, AUDIT_RULES_DEFAULT, &st->rules_file))
		st->rules_file = NULL;
	if (st->owner_key == NULL || st->rules_file == NULL) {
		audit_state_free(st);
		return -ENOMEM;
	}
	/* libaudit reports to stderr by default; our findings say it better. */
	set_aumessage_mode(MSG_QUIET, DBG_NO);

	e = policy_get(policy, AUDIT_LAYER, "rules");
	if (e) {
		char *path = NULL;

		if (layer_policy_path(env, set->rules, &path)) {
			audit_state_free(st);
			return -ENOMEM;	/* the core checked the path */
		}
		free(st->rules_file);
		st->rules_file = path;
		rules_entry = e;
	}
	e = policy_get(policy, AUDIT_LAYER, "owner_key");
	if (e && (strpbrk(set->owner_key, " \t\001") || !set->owner_key[0] ||
		  strlen(set->owner_key) > 64)) {
		policy_error_at(errs, e, "owner_key must be one word (at most 64 bytes)");
	} else if (e) {
		free(st->owner_key);
		st->owner_key = strdup(set->owner_key);
		if (st->owner_key == NULL) {
			audit_state_free(st);
			return -ENOMEM;
		}
	}
	st->enabled = set->enabled;
	st->lock = set->lock;
	st->exclusive = set->exclusive;
	st->backlog_limit = set->backlog_limit;
	st->set_backlog = policy_get(policy, AUDIT_LAYER, "backlog_limit") != NULL;
	st->rate_limit = set->rate_limit;
	st->set_rate = policy_get(policy, AUDIT_LAYER, "rate_limit") != NULL;
	st->failure_mode = (unsigned long)set->failure_mode % 3;
	st->set_failure = policy_get(policy, AUDIT_LAYER, "failure_mode") != NULL;
	if (st->lock && !st->enabled) {
		e = policy_get(policy, AUDIT_LAYER, "lock");
		policy_error_at(errs, e, "lock = yes needs enabled = yes");
	}

	root_join(shown, sizeof(shown), env->root, st->rules_file);
	rc = root_read_file_alloc(env->root_fd, st->rules_file, &text, &len);
	if (rc < 0) {
		if (rules_entry)
			policy_error_at(errs, rules_entry, "cannot read rules file %s: %s", shown,
					jefe_strerror(rc));
		else
			policy_errors_add(errs, shown, 0, "cannot read the default rules file: %s",
					  jefe_strerror(rc));
	} else if (strlen(text) != len) {
		policy_errors_add(errs, shown, 0, "the rules file contains a NUL byte");
	} else {
		rc = audit_rules_parse(&st->rules, shown, text, st->owner_key, env->root_fd,
				       errs);
		if (rc == -ENOMEM) {
			free(text);
			audit_state_free(st);
			return rc;
		}
	}
	free(text);
	if (errs->n > errs_before) {
		audit_state_free(st);
		return -JEFE_EPOLICY;
	}
	*state = st;
	return 0;
}

/* ---- the kernel ---------------------------------------------------------------- */

/*
 * Audit rules are kernel-wide, not below a root: with --root pointing at a
 * temporary tree (tests) or an image being built, applying them would
 * change the build host's kernel.  So the layer talks to the kernel only
 * when the root is the running system's "/" (same device and inode), and
 * otherwise reports itself unsupported.  Tests of the real thing run in
 * tests/vm.
 */
static bool audit_env_is_host(const struct jefe_env *env)
{
	return env->is_host;
}

#define NOTHOST_NOTE "audit rules are kernel-wide: checked and applied only with --root /"

/*
 * libaudit's audit_send() reads the ack by peeking at the next message:
 * a message left over from an earlier request (on kernels that queue a
 * status reply before its ack) would be taken for this request's ack, and
 * every later error would be blamed on the wrong rule.  Acks are queued
 * while sendto() runs, so draining before each request is enough.
 */
static void audit_drain(int fd)
{
	struct audit_reply rep;

	while (audit_get_reply(fd, &rep, GET_REPLY_NONBLOCKING, 0) > 0)
		;
}

/* Wait for the next reply; -ETIMEDOUT rather than block forever. */
static int audit_reply_next(int fd, struct audit_reply *rep)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int rc;

	for (;;) {
		rc = poll(&pfd, 1, AUDIT_REPLY_TIMEOUT_MS);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -errno;
		if (rc == 0)
			return -ETIMEDOUT;
		rc = audit_get_reply(fd, rep, GET_REPLY_NONBLOCKING, 0);
		if (rc > 0)
			return 0;
		if (rc == -EAGAIN || rc == 0)
			continue;
		return rc < 0 ? rc : -JEFE_ENETLINK;
	}
}

static int audit_kernel_read(int fd, struct audit_kernel *k)
{
	struct audit_reply rep;
	int rc;

	memset(k, 0, sizeof(*k));
	audit_drain(fd);
	rc = audit_request_status(fd);
	if (rc < 0)
		return rc;
	for (;;) {
		rc = audit_reply_next(fd, &rep);
		if (rc < 0)
			return rc;
		if (rep.type == AUDIT_GET && rep.status != NULL) {
			memcpy(&k->status, rep.status, sizeof(k->status));
			break;
		}
		if (rep.type == NLMSG_ERROR && rep.error->error != 0)
			return rep.error->error;
	}
	audit_drain(fd);
	rc = audit_request_rules_list_data(fd);
	if (rc < 0)
		return rc;
	for (;;) {
		rc = audit_reply_next(fd, &rep);
		if (rc < 0)
			goto fail;
		if (rep.type == NLMSG_DONE)
			return 0;
		if (rep.type == NLMSG_ERROR) {
			if (rep.error->error != 0) {
				rc = rep.error->error;
				goto fail;
			}
			continue;
		}
		if (rep.type != AUDIT_LIST_RULES || rep.ruledata == NULL)
			continue;
		if ((size_t)rep.len < sizeof(struct audit_rule_data) ||
		    (size_t)rep.len < audit_rule_size(rep.ruledata)) {
			rc = -JEFE_ENETLINK;
			goto fail;
		}
		{
			struct audit_rule_data **v = realloc(k->rules, (k->n + 1) * sizeof(*v));

			if (v == NULL) {
				rc = -ENOMEM;
				goto fail;
			}
			k->rules = v;
			k->rules[k->n] = audit_rule_dup(rep.ruledata);
			if (k->rules[k->n] == NULL) {
				rc = -ENOMEM;
				goto fail;
			}
			k->n++;
		}
	}
fail:
	audit_kernel_free(k);
	return rc;
}

/* ---- diff ---------------------------------------------------------------------- */

struct audit_diff {
	bool *present;		/* per policy rule */
	bool *extra;		/* per kernel rule: to be removed */
	bool *counted;		/* per kernel rule: matched a policy rule */
};

static void audit_diff_free(struct audit_diff *d)
{
	free(d->present);
	free(d->extra);
	free(d->counted);
}

static int audit_diff_make(const struct audit_state *st, const struct audit_kernel *k,
			   struct audit_diff *d)
{
	d->present = calloc(st->rules.n + 1, sizeof(bool));
	d->extra = calloc(k->n + 1, sizeof(bool));
	d->counted = calloc(k->n + 1, sizeof(bool));
	if (!d->present || !d->extra || !d->counted) {
		audit_diff_free(d);
		return -ENOMEM;
	}
	for (size_t i = 0; i < st->rules.n; i++)
		for (size_t j = 0; j < k->n; j++)
			if (!d->counted[j] && audit_rule_equal(st->rules.v[i].data, k->rules[j])) {
				d->present[i] = true;
				d->counted[j] = true;
				break;
			}
	for (size_t j = 0; j < k->n; j++)
		d->extra[j] = !d->counted[j] &&
			(st->exclusive || audit_rule_has_key(k->rules[j], st->owner_key));
	return 0;
}

/* ---- findings ------------------------------------------------------------------ */

static int add_finding(struct findings *out, const char *item, const char *expected,
		       const char *actual, const struct finding_refs *refs, const char *note,
		       enum finding_state state, enum finding_action action)
{
	return findings_add(out, &(struct finding){
		.layer = AUDIT_LAYER, .item = item, .expected = expected, .actual = actual,
		.refs = refs ? *refs : REFS_NONE, .note = note, .state = state, .action = action,
	});
}

/*
 * CIS Debian Linux 12 v1.0.1: 6.3.1.4 audit_backlog_limit; 6.3.3.20 the
 * immutable configuration (enabled = 2, [audit] lock).  The failure flag
 * and the rate limit have no recommendation of their own (6.3.2.x are
 * auditd.conf's disk-full actions).
 */
static const struct finding_refs audit_ref_backlog = REFS_INIT(REF_CIS("6.3.1.4"));
static const struct finding_refs audit_ref_lock = REFS_INIT(REF_CIS("6.3.3.20"));

struct audit_setting {
	const char *item;
	const struct finding_refs *refs;
	bool wanted;
	uint32_t want, have;
};

/* The settings the policy asks for, with the kernel's values. */
static size_t audit_settings(const struct audit_state *st, const struct audit_status *s,
			     struct audit_setting *v)
{
	size_t n = 0;

	v[n++] = (struct audit_setting){ "enabled", st->lock ? &audit_ref_lock : NULL, st->enabled,
		st->lock ? 2 : 1, s->enabled };
	v[n++] = (struct audit_setting){ "backlog_limit", &audit_ref_backlog, st->set_backlog,
		(uint32_t)st->backlog_limit, s->backlog_limit };
	v[n++] = (struct audit_setting){ "failure_mode", NULL, st->set_failure,
		(uint32_t)st->failure_mode, s->failure };
	v[n++] = (struct audit_setting){ "rate_limit", NULL, st->set_rate,
		(uint32_t)st->rate_limit, s->rate_limit };
	return n;
}

static bool audit_setting_ok(const struct audit_setting *s)
{
	if (!s->wanted)
		return true;
	/* Locked is stronger than enabled: compliant with enabled = yes. */
	if (strcmp(s->item, "enabled") == 0 && s->want == 1)
		return s->have >= 1;
	return s->want == s->have;
}

static void audit_setting_text(const struct audit_setting *s, uint32_t v, char *buf,
			       size_t size)
{
	if (strcmp(s->item, "failure_mode") == 0 && v < ARRAY_SIZE(failure_names))
		snprintf(buf, size, "%s", failure_names[v]);
	else
		snprintf(buf, size, "%u", v);
}

#define LOCKED_NOTE "audit configuration is locked (-e 2) until reboot"
#define NOPARENT_NOTE "the watched path's directory does not exist on this system"

static bool audit_rule_parent_missing(const struct audit_state *st,
				      const struct audit_rule_data *r);

/*
 * The check findings from a kernel view.  want_apply: what apply would do
 * with each drift item (NONE for a plain check).
 */
static int audit_report(const struct audit_state *st, const struct audit_kernel *k,
			const struct audit_diff *d, struct findings *out)
{
	struct audit_setting set[4];
	size_t n = audit_settings(st, &k->status, set);
	bool locked = k->status.enabled == 2;
	char want[64], have[64], text[4096], item[64];
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		bool ok = audit_setting_ok(&set[i]);

		if (!set[i].wanted)
			continue;
		audit_setting_text(&set[i], set[i].want, want, sizeof(want));
		audit_setting_text(&set[i], set[i].have, have, sizeof(have));
		rc = add_finding(out, set[i].item, want, have, set[i].refs,
				 !ok && locked ? LOCKED_NOTE : NULL,
				 ok ? FINDING_COMPLIANT : FINDING_DRIFT, FINDING_ACTION_NONE);
	}
	for (size_t i = 0; i < st->rules.n && rc == 0; i++) {
		const struct audit_rule_spec *r = &st->rules.v[i];

		/*
		 * The kernel refuses a watch whose directory is missing (no
		 * /etc/ssh without openssh): nothing to audit there, and
		 * nothing apply could do, so not drift.
		 */
		if (!d->present[i] && audit_rule_parent_missing(st, r->data)) {
			rc = add_finding(out, r->item, r->text, "missing", &r->refs, NOPARENT_NOTE,
					 FINDING_UNSUPPORTED, FINDING_ACTION_NONE);
			continue;
		}
		rc = add_finding(out, r->item, r->text, d->present[i] ? r->text : "missing",
				 &r->refs, !d->present[i] && locked ? LOCKED_NOTE : NULL,
				 d->present[i] ? FINDING_COMPLIANT : FINDING_DRIFT,
				 FINDING_ACTION_NONE);
	}
	for (size_t j = 0, x = 0; j < k->n && rc == 0; j++) {
		if (!d->extra[j])
			continue;
		if (audit_rule_format(k->rules[j], text, sizeof(text)) < 0)
			snprintf(text, sizeof(text), "(unprintable rule)");
		snprintf(item, sizeof(item), "extra/%zu", ++x);
		rc = add_finding(out, item, "absent", text, NULL,
				 locked ? LOCKED_NOTE : st->exclusive ?
				 "not in the policy (exclusive)" :
				 "carries the owner key but is not in the policy",
				 FINDING_DRIFT, FINDING_ACTION_NONE);
	}
	return rc;
}

static int audit_check(void *state, struct findings *out)
{
	struct audit_state *st = state;
	struct audit_kernel k;
	struct audit_diff d = { 0 };
	int fd, rc;

	if (!audit_env_is_host(st->env))
		return add_finding(out, "kernel", NULL, NULL, NULL, NOTHOST_NOTE,
				   FINDING_UNSUPPORTED, FINDING_ACTION_NONE);
	fd = audit_open_cloexec();
	if (fd < 0)
		return add_finding(out, "netlink", NULL, NULL, NULL,
				   "cannot open the audit netlink socket (kernel without "
				   "CONFIG_AUDIT?)", FINDING_UNSUPPORTED, FINDING_ACTION_NONE);
	rc = audit_kernel_read(fd, &k);
	audit_close(fd);
	if (rc < 0) {
		char note[160];

		snprintf(note, sizeof(note), "cannot read the kernel's audit state: %s",
			 jefe_strerror(rc));
		return add_finding(out, "netlink", NULL, NULL, NULL, note, FINDING_ERROR,
				   FINDING_ACTION_NONE);
	}
	rc = audit_diff_make(st, &k, &d);
	if (rc == 0)
		rc = audit_report(st, &k, &d, out);
	audit_diff_free(&d);
	audit_kernel_free(&k);
	return rc;
}

/* ---- apply --------------------------------------------------------------------- */

/* Set a finding's outcome by item (apply reports the check's list, updated). */
static void set_action(struct findings *fs, const char *item, enum finding_action a,
		       enum finding_state s, const char *note)
{
	for (size_t i = 0; i < fs->n; i++) {
		if (strcmp(fs->v[i].item, item) != 0)
			continue;
		fs->v[i].action = a;
		fs->v[i].state = s;
		if (note != NULL) {
			char *n = strdup(note);

			if (n != NULL) {
				free((char *)fs->v[i].note);
				fs->v[i].note = n;
			}
		}
		return;
	}
}

static int audit_set_value(int fd, const char *item, uint32_t v)
{
	audit_drain(fd);
	if (strcmp(item, "enabled") == 0)
		return audit_set_enabled(fd, v);
	if (strcmp(item, "backlog_limit") == 0)
		return audit_set_backlog_limit(fd, v);
	if (strcmp(item, "failure_mode") == 0)
		return audit_set_failure(fd, v);
	if (strcmp(item, "rate_limit") == 0)
		return audit_set_rate_limit(fd, v);
	return -EINVAL;
}

#define AUDIT_BATCH_MAX 32

/*
 * Send rule additions or deletions as batches of netlink messages, one
 * sendto() per batch, each message with its own sequence number and
 * NLM_F_ACK, and map every ack back to its rule by that number (as
 * nftables' mnl.c does).  The kernel's audit_receive() handles each
 * message of a batch in turn and acks each, failures included.  One rule
 * at a time through libaudit would cost a round trip per rule (63 of them
 * after `auditctl -D`), and its ack handling only peeks at "the next"
 * message.  results[i] gets 0 or -errno; the return value is 0 or -errno
 * for the socket itself.
 */
static int audit_batch(int fd, uint32_t *seq, uint16_t type,
		       struct audit_rule_data *const *rules, size_t n, int *results)
{
	static const size_t cap = AUDIT_BATCH_MAX * NLMSG_SPACE(sizeof(struct audit_rule_data) +
								 PATH_MAX + AUDIT_MAX_KEY_LEN);
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char *buf = malloc(cap);
	char rbuf[16384];
	int rc = 0;

	if (buf == NULL)
		return -ENOMEM;
	audit_drain(fd);
	for (size_t base = 0; base < n && rc == 0; base += AUDIT_BATCH_MAX) {
		size_t m = n - base < AUDIT_BATCH_MAX ? n - base : AUDIT_BATCH_MAX;
		size_t len = 0, pending = m;
		uint32_t first = *seq;

		for (size_t i = 0; i < m; i++) {
			size_t size = audit_rule_size(rules[base + i]);
			struct nlmsghdr *h = (struct nlmsghdr *)(buf + len);

			if (len + NLMSG_SPACE(size) > cap) {
				rc = -E2BIG;
				break;
			}
			memset(h, 0, NLMSG_SPACE(size));
			h->nlmsg_len = NLMSG_LENGTH(size);
			h->nlmsg_type = type;
			h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
			h->nlmsg_seq = (*seq)++;
			memcpy(NLMSG_DATA(h), rules[base + i], size);
			len += NLMSG_SPACE(size);
			results[base + i] = -ETIMEDOUT;
		}
		if (rc < 0)
			break;
		if (sendto(fd, buf, len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
			rc = -errno;
			break;
		}
		/* The acks were queued while sendto() ran; poll only guards against surprises. */
		while (pending > 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			ssize_t got;
			int left;

			if (poll(&pfd, 1, AUDIT_REPLY_TIMEOUT_MS) <= 0)
				break;
			got = recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);
			if (got < 0) {
				if (errno == EINTR || errno == EAGAIN)
					continue;
				rc = -errno;
				break;
			}
			left = (int)got;
			for (struct nlmsghdr *h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, left);
			     h = NLMSG_NEXT(h, left)) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				uint32_t i = h->nlmsg_seq - first;

				if (h->nlmsg_type != NLMSG_ERROR ||
				    h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) || i >= m ||
				    results[base + i] != -ETIMEDOUT)
					continue;
				results[base + i] = e->error;
				pending--;
			}
		}
	}
	free(buf);
	return rc;
}

/* Watches need their parent directory: -ENOENT for /etc/apparmor.d/x without /etc/apparmor.d. */
static bool audit_rule_parent_missing(const struct audit_state *st,
				      const struct audit_rule_data *r)
{
	size_t off = 0;

	for (uint32_t i = 0; i < r->field_count && i < AUDIT_MAX_FIELDS; i++) {
		uint32_t f = r->fields[i];

		if (f == AUDIT_WATCH || f == AUDIT_DIR) {
			char path[4096], *slash;
			struct stat sb;

			if (r->values[i] >= sizeof(path) || off + r->values[i] > r->buflen)
				return false;
			memcpy(path, r->buf + off, r->values[i]);
			path[r->values[i]] = '\0';
			slash = strrchr(path, '/');
			if (slash == NULL || slash == path)
				return false;
			*slash = '\0';
			return rootfs_stat(st->env->root_fd, path, &sb, true) < 0;
		}
		if (f == AUDIT_SUBJ_USER || f == AUDIT_SUBJ_ROLE || f == AUDIT_SUBJ_TYPE ||
		    f == AUDIT_SUBJ_SEN || f == AUDIT_SUBJ_CLR || f == AUDIT_OBJ_USER ||
		    f == AUDIT_OBJ_ROLE || f == AUDIT_OBJ_TYPE || f == AUDIT_OBJ_LEV_LOW ||
		    f == AUDIT_OBJ_LEV_HIGH || f == AUDIT_FILTERKEY || f == AUDIT_EXE)
			off += r->values[i];
	}
	return false;
}

static int audit_apply(void *state, bool dry_run, struct findings *out)
{
	struct audit_state *st = state;
	struct audit_kernel k, after;
	struct audit_diff d = { 0 }, d2 = { 0 };
	struct findings local = { 0 };
	struct audit_setting set[4];
	size_t nset;
	bool locked, rollback = false;
	size_t *added = NULL, n_added = 0, *removed = NULL, n_removed = 0;
	struct audit_rule_data **dels = NULL, **adds = NULL;
	size_t n_dels = 0, n_adds = 0, nmax;
	int *res_del = NULL, *res_add = NULL;
	uint32_t seq = 1;	/* a fresh socket per apply: its own numbering */
	char note[256];
	int fd, rc;

	if (!audit_env_is_host(st->env))
		return add_finding(out, "kernel", NULL, NULL, NULL, NOTHOST_NOTE,
				   FINDING_UNSUPPORTED, FINDING_ACTION_NONE);
	fd = audit_open_cloexec();
	if (fd < 0)
		return add_finding(out, "netlink", NULL, NULL, NULL,
				   "cannot open the audit netlink socket (kernel without "
				   "CONFIG_AUDIT?)", FINDING_UNSUPPORTED, FINDING_ACTION_NONE);
	rc = audit_kernel_read(fd, &k);
	if (rc < 0) {
		audit_close(fd);
		snprintf(note, sizeof(note), "cannot read the kernel's audit state: %s",
			 jefe_strerror(rc));
		return add_finding(out, "netlink", NULL, NULL, NULL, note, FINDING_ERROR,
				   FINDING_ACTION_NONE);
	}
	rc = audit_diff_make(st, &k, &d);
	if (rc == 0)
		rc = audit_report(st, &k, &d, &local);
	if (rc < 0)
		goto out;
	locked = k.status.enabled == 2;
	nset = audit_settings(st, &k.status, set);

	/* Mark what we will do; then do it. */
	for (size_t i = 0; i < local.n; i++) {
		if (local.v[i].state != FINDING_DRIFT)
			continue;
		local.v[i].action = dry_run ? FINDING_ACTION_WOULD_REPAIR :
			locked ? FINDING_ACTION_CANNOT_FIX : FINDING_ACTION_NONE;
	}
	if (dry_run || locked)
		goto out;

	/* Settings: failure, backlog and rate first, enabling last (-e 2 locks). */
	for (size_t i = 0; i < nset; i++) {
		if (audit_setting_ok(&set[i]) || strcmp(set[i].item, "enabled") == 0)
			continue;
		rc = audit_set_value(fd, set[i].item, set[i].want);
		snprintf(note, sizeof(note), "kernel refused: %s", jefe_strerror(rc));
		set_action(&local, set[i].item, rc < 0 ? FINDING_ACTION_FAILED :
			   FINDING_ACTION_REPAIRED, rc < 0 ? FINDING_DRIFT : FINDING_COMPLIANT,
			   rc < 0 ? note : NULL);
	}
	/* Remove first: a stale rule may collide with the policy's version of it. */
	removed = calloc(k.n + 1, sizeof(*removed));
	added = calloc(st->rules.n + 1, sizeof(*added));
	/* Sized for both directions: a rollback sends the adds as deletions and back. */
	nmax = (k.n > st->rules.n ? k.n : st->rules.n) + 1;
	dels = calloc(nmax, sizeof(*dels));
	adds = calloc(nmax, sizeof(*adds));
	res_del = calloc(nmax, sizeof(*res_del));
	res_add = calloc(nmax, sizeof(*res_add));
	if (!removed || !added || !dels || !adds || !res_del || !res_add) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t j = 0; j < k.n; j++)
		if (d.extra[j])
			dels[n_dels++] = k.rules[j];
	for (size_t i = 0; i < st->rules.n; i++)
		if (!d.present[i] && !audit_rule_parent_missing(st, st->rules.v[i].data))
			adds[n_adds++] = st->rules.v[i].data;	/* else: unsupported */

	rc = audit_batch(fd, &seq, AUDIT_DEL_RULE, dels, n_dels, res_del);
	if (rc == 0)
		rc = audit_batch(fd, &seq, AUDIT_ADD_RULE, adds, n_adds, res_add);
	if (rc == -ENOMEM)
		goto out;
	if (rc < 0) {
		/* The socket failed: nothing is known; the read-back below tells. */
		snprintf(note, sizeof(note), "audit netlink: %s", jefe_strerror(rc));
		for (size_t i = 0; i < local.n; i++)
			if (local.v[i].state == FINDING_DRIFT &&
			    local.v[i].action == FINDING_ACTION_NONE)
				set_action(&local, local.v[i].item, FINDING_ACTION_FAILED,
					   FINDING_DRIFT, note);
		rollback = true;
	}
	for (size_t j = 0, x = 0, di = 0; j < k.n && rc == 0; j++) {
		char item[64];

		if (!d.extra[j])
			continue;
		snprintf(item, sizeof(item), "extra/%zu", ++x);
		if (res_del[di] < 0) {
			snprintf(note, sizeof(note), "kernel refused the removal: %s",
				 jefe_strerror(res_del[di]));
			set_action(&local, item, FINDING_ACTION_FAILED, FINDING_DRIFT, note);
			rollback = true;
		} else {
			removed[n_removed++] = j;
			set_action(&local, item, FINDING_ACTION_REPAIRED, FINDING_COMPLIANT, NULL);
		}
		di++;
	}
	for (size_t i = 0, ai = 0; i < st->rules.n && rc == 0; i++) {
		const struct audit_rule_spec *r = &st->rules.v[i];

		if (ai >= n_adds || adds[ai] != r->data)
			continue;
		if (res_add[ai] < 0) {
			snprintf(note, sizeof(note), "kernel refused the rule (%s line %d): %s",
				 r->file, r->line, jefe_strerror(res_add[ai]));
			set_action(&local, r->item, FINDING_ACTION_FAILED, FINDING_DRIFT, note);
			rollback = true;
		} else {
			added[n_added++] = i;
			set_action(&local, r->item, FINDING_ACTION_REPAIRED, FINDING_COMPLIANT,
				   NULL);
		}
		ai++;
	}
	if (rollback) {
		/* All or nothing for the rules: undo this apply's rule changes. */
		n_dels = n_adds = 0;
		for (size_t a = 0; a < n_added; a++) {
			dels[n_dels++] = st->rules.v[added[a]].data;
			set_action(&local, st->rules.v[added[a]].item, FINDING_ACTION_FAILED,
				   FINDING_DRIFT, "rolled back: another rule of this apply failed");
		}
		for (size_t r = 0; r < n_removed; r++)
			adds[n_adds++] = k.rules[removed[r]];
		(void)audit_batch(fd, &seq, AUDIT_DEL_RULE, dels, n_dels, res_del);
		(void)audit_batch(fd, &seq, AUDIT_ADD_RULE, adds, n_adds, res_add);
		for (size_t i = 0; i < local.n; i++)
			if (strncmp(local.v[i].item, "extra/", 6) == 0 &&
			    local.v[i].action == FINDING_ACTION_REPAIRED)
				set_action(&local, local.v[i].item, FINDING_ACTION_FAILED,
					   FINDING_DRIFT,
					   "rolled back: another rule of this apply failed");
		n_added = 0;
	}

	/* Enable (or lock) last: once locked nothing else can change. */
	if (set[0].wanted && (!audit_setting_ok(&set[0]) || (st->lock && !rollback &&
							     set[0].have != 2))) {
		uint32_t want = st->lock && !rollback ? 2 : 1;

		rc = audit_set_value(fd, "enabled", want);
		snprintf(note, sizeof(note), "kernel refused: %s", jefe_strerror(rc));
		set_action(&local, "enabled", rc < 0 ? FINDING_ACTION_FAILED :
			   FINDING_ACTION_REPAIRED, rc < 0 ? FINDING_DRIFT : FINDING_COMPLIANT,
			   rc < 0 ? note : NULL);
	}

	/* Read back: what we reported repaired must now be what the kernel holds. */
	rc = audit_kernel_read(fd, &after);
	if (rc < 0) {
		snprintf(note, sizeof(note), "cannot read back: %s", jefe_strerror(rc));
		rc = add_finding(&local, "netlink", NULL, NULL, NULL, note, FINDING_ERROR,
				 FINDING_ACTION_NONE);
		goto out;
	}
	rc = audit_diff_make(st, &after, &d2);
	if (rc == 0) {
		for (size_t a = 0; a < n_added && !rollback; a++)
			if (!d2.present[added[a]])
				set_action(&local, st->rules.v[added[a]].item,
					   FINDING_ACTION_FAILED, FINDING_DRIFT,
					   "added, but the kernel does not list it");
	}
	audit_diff_free(&d2);
	audit_kernel_free(&after);
out:
	audit_close(fd);
	free(added);
	free(removed);
	free(dels);
	free(adds);
	free(res_del);
	free(res_add);
	audit_diff_free(&d);
	audit_kernel_free(&k);
	if (rc >= 0 || rc != -ENOMEM)
		rc = findings_append(out, &local);
	findings_free(&local);
	return rc;
}

/* ---- events -------------------------------------------------------------------- */

static int audit_watch(void *state, struct watch_set *ws)
{
	struct audit_state *st = state;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = 1u << (AUDIT_NLGRP_READLOG - 1) };
	int fd;

	if (!audit_env_is_host(st->env))
		return 0;	/* nothing of ours to watch: see audit_env_is_host */
	if (st->mcast_fd < 0) {
		/* Read-only multicast: needs CAP_AUDIT_READ, never displaces auditd. */
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_AUDIT);
		if (fd < 0)
			return -errno;
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		st->mcast_fd = fd;
	}
	return watch_set_add(ws, st->mcast_fd, EPOLLIN);
}

static int audit_on_event(void *state, int fd, uint32_t events, bool *recheck)
{
	struct audit_state *st = state;
	char buf[MAX_AUDIT_MESSAGE_LENGTH + NLMSG_HDRLEN];

	if (fd != st->mcast_fd)
		return 0;
	/*
	 * With an execve rule every command is a record here: drain a bounded
	 * number per wake-up (the rest wakes us again) and only a
	 * CONFIG_CHANGE asks for a check.
	 */
	for (int i = 0; i < AUDIT_EVENTS_PER_WAKEUP; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* Overrun: we may have missed a change. */
				*recheck = true;
				continue;
			}
			return -errno;
		}
		int len = (int)n;

		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len))
			if (h->nlmsg_type == AUDIT_CONFIG_CHANGE)
				*recheck = true;
	}
	return 0;
}

const struct layer_ops layer_audit_ops = {
	.name = AUDIT_LAYER,
	.title = "audit rules",
	.keys = audit_keys,
	.settings_size = sizeof(struct audit_settings),
	.load = audit_load,
	.check = audit_check,
	.apply = audit_apply,
	.watch = audit_watch,
	.on_event = audit_on_event,
	.free = audit_state_free,
};
