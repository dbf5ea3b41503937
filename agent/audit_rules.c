/* SPDX-License-Identifier: MIT */
/*
 * Audit rules: auditctl syntax -> struct audit_rule_data, and back.
 *
 * libaudit builds most of a rule (audit_add_watch_dir,
 * audit_rule_fieldpair_data, audit_name_to_syscall), but a few of its
 * helpers keep state in library globals that only auditctl resets
 * (_audit_elf, _audit_syscalladded, _audit_permadded): the key of a
 * syscall rule is refused unless a previous call set _audit_syscalladded,
 * and -F arch is refused once any rule set it.  So the fields whose
 * meaning depends on that state (arch, key, path, dir, perm) and the
 * syscall mask are built here, the way the kernel expects them, and every
 * other -F field goes through audit_rule_fieldpair_data, which is
 * stateless for them.  Rules are then independent of the order in which
 * they were parsed.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libaudit.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit_rules.h"
#include "errors.h"
#include "rootfs.h"
#include "util.h"

#define AUDIT_KEY_SEP '\001'
#define RULE_ARGS_MAX 128

size_t audit_rule_size(const struct audit_rule_data *r)
{
	return sizeof(*r) + r->buflen;
}

struct audit_rule_data *audit_rule_dup(const struct audit_rule_data *r)
{
	struct audit_rule_data *c = malloc(audit_rule_size(r));

	if (c != NULL)
		memcpy(c, r, audit_rule_size(r));
	return c;
}

static bool audit_field_is_string(uint32_t field)
{
	switch (field) {
	case AUDIT_SUBJ_USER: case AUDIT_SUBJ_ROLE: case AUDIT_SUBJ_TYPE:
	case AUDIT_SUBJ_SEN: case AUDIT_SUBJ_CLR:
	case AUDIT_OBJ_USER: case AUDIT_OBJ_ROLE: case AUDIT_OBJ_TYPE:
	case AUDIT_OBJ_LEV_LOW: case AUDIT_OBJ_LEV_HIGH:
	case AUDIT_WATCH: case AUDIT_DIR: case AUDIT_FILTERKEY: case AUDIT_EXE:
		return true;
	default:
		return false;
	}
}

/* Append a string field; the rule may move. */
static int rule_add_string(struct audit_rule_data **rp, uint32_t field, uint32_t op,
			   const char *s, size_t len)
{
	struct audit_rule_data *r = *rp, *n;

	if (r->field_count >= AUDIT_MAX_FIELDS - 1)
		return -E2BIG;
	n = realloc(r, sizeof(*r) + r->buflen + len);
	if (n == NULL)
		return -ENOMEM;
	memcpy(n->buf + n->buflen, s, len);
	n->fields[n->field_count] = field;
	n->fieldflags[n->field_count] = op;
	n->values[n->field_count] = (uint32_t)len;
	n->field_count++;
	n->buflen += (uint32_t)len;
	*rp = n;
	return 0;
}

static int rule_add_value(struct audit_rule_data *r, uint32_t field, uint32_t op, uint32_t v)
{
	if (r->field_count >= AUDIT_MAX_FIELDS - 1)
		return -E2BIG;
	r->fields[r->field_count] = field;
	r->fieldflags[r->field_count] = op;
	r->values[r->field_count] = v;
	r->field_count++;
	return 0;
}

/* ---- comparison ---------------------------------------------------------------- */

struct field_view {
	uint32_t field, op, value;
	const char *s;		/* string fields: into buf, not terminated */
};

static int field_view_cmp(const void *pa, const void *pb)
{
	const struct field_view *a = pa, *b = pb;
	int c;

	if (a->field != b->field)
		return a->field < b->field ? -1 : 1;
	if (a->op != b->op)
		return a->op < b->op ? -1 : 1;
	if (a->value != b->value)
		return a->value < b->value ? -1 : 1;
	if (a->s == NULL || b->s == NULL)
		return 0;
	c = memcmp(a->s, b->s, a->value);
	return c;
}

/* Fields of r into v (AUDIT_MAX_FIELDS), sorted; -EPROTO if buf is short. */
static int rule_fields(const struct audit_rule_data *r, struct field_view *v)
{
	size_t off = 0;

	if (r->field_count > AUDIT_MAX_FIELDS)
		return -EPROTO;
	for (uint32_t i = 0; i < r->field_count; i++) {
		v[i] = (struct field_view){ r->fields[i], r->fieldflags[i], r->values[i], NULL };
		if (audit_field_is_string(r->fields[i])) {
			if (off + r->values[i] > r->buflen)
				return -EPROTO;
			v[i].s = r->buf + off;
			off += r->values[i];
		}
	}
	qsort(v, r->field_count, sizeof(*v), field_view_cmp);
	return 0;
}

bool audit_rule_equal(const struct audit_rule_data *a, const struct audit_rule_data *b)
{
	struct field_view va[AUDIT_MAX_FIELDS], vb[AUDIT_MAX_FIELDS];

	if ((a->flags & ~AUDIT_FILTER_PREPEND) != (b->flags & ~AUDIT_FILTER_PREPEND) ||
	    a->action != b->action || a->field_count != b->field_count)
		return false;
	for (unsigned int w = 0; w < AUDIT_BITMASK_SIZE; w++) {
		uint32_t ma = a->mask[w], mb = b->mask[w];

		/*
		 * The kernel clears the top AUDIT_SYSCALL_CLASSES bits (class
		 * selectors) when it stores a rule: "-S all" comes back
		 * without them.
		 */
		if (w == AUDIT_BITMASK_SIZE - 1) {
			ma &= (1u << (32 - AUDIT_SYSCALL_CLASSES)) - 1;
			mb &= (1u << (32 - AUDIT_SYSCALL_CLASSES)) - 1;
		}
		if (ma != mb)
			return false;
	}
	if (rule_fields(a, va) < 0 || rule_fields(b, vb) < 0)
		return false;
	for (uint32_t i = 0; i < a->field_count; i++)
		if (field_view_cmp(&va[i], &vb[i]) != 0)
			return false;
	return true;
}

bool audit_rule_has_key(const struct audit_rule_data *r, const char *key)
{
	size_t off = 0, klen = strlen(key);

	for (uint32_t i = 0; i < r->field_count && i < AUDIT_MAX_FIELDS; i++) {
		if (!audit_field_is_string(r->fields[i]))
			continue;
		if (off + r->values[i] > r->buflen)
			return false;
		if (r->fields[i] == AUDIT_FILTERKEY) {
			const char *s = r->buf + off, *end = s + r->values[i];

			while (s < end) {
				const char *sep = memchr(s, AUDIT_KEY_SEP, (size_t)(end - s));
				size_t n = sep ? (size_t)(sep - s) : (size_t)(end - s);

				if (n == klen && memcmp(s, key, n) == 0)
					return true;
				s += n + 1;
			}
		}
		off += r->values[i];
	}
	return false;
}

/* ---- printing ------------------------------------------------------------------ */

struct outbuf {
	char *p;
	size_t size, len;
	bool overflow;
};

__attribute__((format(printf, 2, 3)))
static void out_add(struct outbuf *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->overflow = true;
	else
		o->len += (size_t)n;
}

static const char *perm_string(uint32_t v, char *buf)
{
	char *p = buf;

	if (v & AUDIT_PERM_READ)
		*p++ = 'r';
	if (v & AUDIT_PERM_WRITE)
		*p++ = 'w';
	if (v & AUDIT_PERM_EXEC)
		*p++ = 'x';
	if (v & AUDIT_PERM_ATTR)
		*p++ = 'a';
	*p = '\0';
	return buf;
}

/* -C pairs, indexed by AUDIT_COMPARE_* (linux/audit.h), as auditctl -l names them. */
static const char *const compare_names[][2] = {
	[AUDIT_COMPARE_UID_TO_OBJ_UID] = { "uid", "obj_uid" },
	[AUDIT_COMPARE_GID_TO_OBJ_GID] = { "gid", "obj_gid" },
	[AUDIT_COMPARE_EUID_TO_OBJ_UID] = { "euid", "obj_uid" },
	[AUDIT_COMPARE_EGID_TO_OBJ_GID] = { "egid", "obj_gid" },
	[AUDIT_COMPARE_AUID_TO_OBJ_UID] = { "auid", "obj_uid" },
	[AUDIT_COMPARE_SUID_TO_OBJ_UID] = { "suid", "obj_uid" },
	[AUDIT_COMPARE_SGID_TO_OBJ_GID] = { "sgid", "obj_gid" },
	[AUDIT_COMPARE_FSUID_TO_OBJ_UID] = { "fsuid", "obj_uid" },
	[AUDIT_COMPARE_FSGID_TO_OBJ_GID] = { "fsgid", "obj_gid" },
	[AUDIT_COMPARE_UID_TO_AUID] = { "uid", "auid" },
	[AUDIT_COMPARE_UID_TO_EUID] = { "uid", "euid" },
	[AUDIT_COMPARE_UID_TO_FSUID] = { "uid", "fsuid" },
	[AUDIT_COMPARE_UID_TO_SUID] = { "uid", "suid" },
	[AUDIT_COMPARE_AUID_TO_FSUID] = { "auid", "fsuid" },
	[AUDIT_COMPARE_AUID_TO_SUID] = { "auid", "suid" },
	[AUDIT_COMPARE_AUID_TO_EUID] = { "auid", "euid" },
	[AUDIT_COMPARE_EUID_TO_SUID] = { "euid", "suid" },
	[AUDIT_COMPARE_EUID_TO_FSUID] = { "euid", "fsuid" },
	[AUDIT_COMPARE_SUID_TO_FSUID] = { "suid", "fsuid" },
	[AUDIT_COMPARE_GID_TO_EGID] = { "gid", "egid" },
	[AUDIT_COMPARE_GID_TO_FSGID] = { "gid", "fsgid" },
	[AUDIT_COMPARE_GID_TO_SGID] = { "gid", "sgid" },
	[AUDIT_COMPARE_EGID_TO_FSGID] = { "egid", "fsgid" },
	[AUDIT_COMPARE_EGID_TO_SGID] = { "egid", "sgid" },
	[AUDIT_COMPARE_SGID_TO_FSGID] = { "sgid", "fsgid" },
};

static int rule_machine(const struct audit_rule_data *r)
{
	for (uint32_t i = 0; i < r->field_count && i < AUDIT_MAX_FIELDS; i++)
		if (r->fields[i] == AUDIT_ARCH)
			return audit_elf_to_machine(r->values[i]);
	return audit_detect_machine();
}

int audit_rule_format(const struct audit_rule_data *r, char *buf, size_t size)
{
	struct outbuf o = { buf, size, 0, false };
	struct field_view v[AUDIT_MAX_FIELDS];
	size_t off = 0;
	bool all = true, any = false;
	int machine = rule_machine(r);
	char perms[8];

	if (size == 0)
		return -ENOSPC;
	buf[0] = '\0';
	if (r->field_count > AUDIT_MAX_FIELDS)
		return -EPROTO;
	for (uint32_t i = 0; i < r->field_count; i++) {
		v[i] = (struct field_view){ r->fields[i], r->fieldflags[i], r->values[i], NULL };
		if (audit_field_is_string(r->fields[i])) {
			if (off + r->values[i] > r->buflen)
				return -EPROTO;
			v[i].s = r->buf + off;
			off += r->values[i];
		}
	}
	out_add(&o, "-a %s,%s", audit_action_to_name((int)r->action) ?: "?",
		audit_flag_to_name((int)(r->flags & ~AUDIT_FILTER_PREPEND)) ?: "?");
	/* Like auditctl -l: arch first, then the syscalls, then the fields. */
	for (uint32_t i = 0; i < r->field_count; i++)
		if (v[i].field == AUDIT_ARCH)
			out_add(&o, " -F arch=%s",
				v[i].value & __AUDIT_ARCH_64BIT ? "b64" : "b32");
	for (int nr = 0; nr < AUDIT_BITMASK_SIZE * 32 - AUDIT_SYSCALL_CLASSES; nr++) {
		if (r->mask[AUDIT_WORD(nr)] & AUDIT_BIT(nr))
			any = true;
		else
			all = false;
	}
	if (all) {
		out_add(&o, " -S all");
	} else if (any) {
		const char *sep = " -S ";

		for (int nr = 0; nr < AUDIT_BITMASK_SIZE * 32 - AUDIT_SYSCALL_CLASSES; nr++) {
			const char *name;

			if (!(r->mask[AUDIT_WORD(nr)] & AUDIT_BIT(nr)))
				continue;
			name = machine >= 0 ? audit_syscall_to_name(nr, machine) : NULL;
			if (name)
				out_add(&o, "%s%s", sep, name);
			else
				out_add(&o, "%s%d", sep, nr);
			sep = ",";
		}
	}
	for (uint32_t i = 0; i < r->field_count; i++) {
		const char *name = audit_field_to_name((int)v[i].field);
		const char *op = audit_operator_to_symbol((int)v[i].op);

		if (v[i].field == AUDIT_ARCH)
			continue;
		if (v[i].field == AUDIT_FILTERKEY) {
			const char *s = v[i].s, *end = s + v[i].value;

			while (s < end) {
				const char *sep = memchr(s, AUDIT_KEY_SEP, (size_t)(end - s));
				int n = (int)(sep ? sep - s : end - s);

				out_add(&o, " -k %.*s", n, s);
				s += n + 1;
			}
		} else if (v[i].s != NULL) {
			out_add(&o, " -F %s%s%.*s", name ?: "?", op ?: "?", (int)v[i].value, v[i].s);
		} else if (v[i].field == AUDIT_FIELD_COMPARE && v[i].value > 0 &&
			   v[i].value < ARRAY_SIZE(compare_names) &&
			   compare_names[v[i].value][0] != NULL) {
			out_add(&o, " -C %s%s%s", compare_names[v[i].value][0], op ?: "?",
				compare_names[v[i].value][1]);
		} else if (v[i].field == AUDIT_PERM) {
			out_add(&o, " -F perm=%s", perm_string(v[i].value, perms));
		} else if (v[i].field == AUDIT_EXIT && (int32_t)v[i].value < 0 &&
			   audit_errno_to_name(-(int32_t)v[i].value)) {
			out_add(&o, " -F exit=-%s", audit_errno_to_name(-(int32_t)v[i].value));
		} else if ((v[i].field == AUDIT_LOGINUID || v[i].field == AUDIT_UID ||
			    v[i].field == AUDIT_EUID) && v[i].value == 4294967295u) {
			out_add(&o, " -F %s%sunset", name ?: "?", op ?: "?");
		} else {
			out_add(&o, " -F %s%s%d", name ?: "?", op ?: "?", (int32_t)v[i].value);
		}
	}
	return o.overflow ? -ENOSPC : 0;
}

/* ---- parsing ------------------------------------------------------------------- */

struct rule_parse {
	const char *file;
	int line;
	struct policy_errors *errs;
	int root_fd;
	int machine;	/* audit_detect_machine(), once per file: it calls uname(2) */
};

__attribute__((format(printf, 2, 3)))
static int parse_error(struct rule_parse *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	policy_errors_add(p->errs, p->file, p->line, "%s", msg);
	return -JEFE_EPOLICY;
}

static int parse_perms(const char *s, uint32_t *out)
{
	uint32_t v = 0;

	if (*s == '\0' || strlen(s) > 4)
		return -EINVAL;
	for (; *s; s++) {
		switch (tolower((unsigned char)*s)) {
		case 'r': v |= AUDIT_PERM_READ; break;
		case 'w': v |= AUDIT_PERM_WRITE; break;
		case 'x': v |= AUDIT_PERM_EXEC; break;
		case 'a': v |= AUDIT_PERM_ATTR; break;
		default: return -EINVAL;
		}
	}
	*out = v;
	return 0;
}

/* Split "name<op>value" like auditctl: two-character operators first. */
static int split_pair(char *pair, char **name, uint32_t *op, char **value)
{
	static const struct {
		const char *sym;
		uint32_t op;
	} ops[] = {
		{ "!=", AUDIT_NOT_EQUAL }, { ">=", AUDIT_GREATER_THAN_OR_EQUAL },
		{ "<=", AUDIT_LESS_THAN_OR_EQUAL }, { "&=", AUDIT_BIT_TEST },
		{ "=", AUDIT_EQUAL }, { ">", AUDIT_GREATER_THAN },
		{ "<", AUDIT_LESS_THAN }, { "&", AUDIT_BIT_MASK },
	};

	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		char *at = strstr(pair, ops[i].sym);

		if (at == NULL)
			continue;
		*at = '\0';
		*name = pair;
		*op = ops[i].op;
		*value = at + strlen(ops[i].sym);
		return **name && **value ? 0 : -EINVAL;
	}
	return -EINVAL;
}

/* The path of -w, -F path=, -F dir=: absolute, no "..", trailing '/' trimmed. */
static int check_path(struct rule_parse *p, char *path)
{
	size_t len = strlen(path);

	if (path[0] != '/')
		return parse_error(p, "watch path '%s' is not absolute", path);
	if (strstr(path, "/../") || (len >= 3 && strcmp(path + len - 3, "/..") == 0))
		return parse_error(p, "watch path '%s' contains '..'", path);
	if (len >= 4096)
		return parse_error(p, "watch path too long");
	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	return 0;
}

struct rule_args {
	char *watch;		/* -w */
	char *perms;		/* -p */
	char *list_action;	/* -a */
	char *keys[16];		/* -k */
	unsigned int n_keys;
	struct {
		char opt;	/* 'F', 'C', 'S' */
		char *arg;
	} items[RULE_ARGS_MAX];
	unsigned int n_items;
};

static int parse_list_action(struct rule_parse *p, char *s, uint32_t *flags, uint32_t *action)
{
	char *comma = strchr(s, ',');
	int a, f;

	if (comma == NULL)
		return parse_error(p, "-a wants LIST,ACTION (e.g. always,exit), got '%s'", s);
	*comma = '\0';
	/* auditctl takes both orders: "always,exit" and "exit,always". */
	a = audit_name_to_action(s);
	f = audit_name_to_flag(comma + 1);
	if (a < 0 || f < 0) {
		a = audit_name_to_action(comma + 1);
		f = audit_name_to_flag(s);
	}
	if (a < 0 || f < 0) {
		*comma = ',';
		return parse_error(p, "-a %s: unknown list or action (lists: exit, user, "
				   "task, exclude, filesystem; actions: always, never)", s);
	}
	if (f == AUDIT_FILTER_ENTRY)
		return parse_error(p, "the entry list is deprecated by the kernel; use exit");
	*flags = (uint32_t)f;
	*action = (uint32_t)a;
	return 0;
}

static int rule_add_syscalls(struct rule_parse *p, struct audit_rule_data *r, char *arg,
			     int machine)
{
	char *save = NULL;

	for (char *sc = strtok_r(arg, ",", &save); sc; sc = strtok_r(NULL, ",", &save)) {
		int nr;

		if (strcmp(sc, "all") == 0) {
			for (unsigned int w = 0; w < AUDIT_BITMASK_SIZE; w++)
				r->mask[w] = ~0u;
			continue;
		}
		nr = audit_name_to_syscall(sc, machine);
		if (nr < 0 && isdigit((unsigned char)sc[0]))
			nr = (int)strtol(sc, NULL, 10);
		if (nr < 0)
			return parse_error(p, "unknown syscall '%s' for arch %s", sc,
					   audit_machine_to_name(machine) ?: "?");
		if (nr >= AUDIT_BITMASK_SIZE * 32 - AUDIT_SYSCALL_CLASSES)
			return parse_error(p, "syscall number %d out of range", nr);
		r->mask[AUDIT_WORD(nr)] |= AUDIT_BIT(nr);
	}
	return 0;
}

static int rule_add_field(struct rule_parse *p, struct audit_rule_data **rp, char *arg,
			  uint32_t flags, int *machine, bool *have_arch, bool have_syscall)
{
	char copy[4200], *name, *value;
	uint32_t op, v;
	int field, rc;

	if (strlen(arg) >= sizeof(copy))
		return parse_error(p, "-F %.40s...: too long", arg);
	strcpy(copy, arg);
	if (split_pair(copy, &name, &op, &value) < 0)
		return parse_error(p, "-F %s: expected FIELD<op>VALUE", arg);
	field = audit_name_to_field(name);
	if (field < 0)
		return parse_error(p, "-F %s: unknown field '%s'", arg, name);

	switch (field) {
	case AUDIT_ARCH:
		if (have_syscall)
			return parse_error(p, "-F arch must come before -S (the syscall "
					   "names depend on it)");
		if (op != AUDIT_EQUAL && op != AUDIT_NOT_EQUAL)
			return parse_error(p, "-F arch takes = or != only");
		*machine = audit_determine_machine(value);
		if (*machine < 0 || audit_machine_to_elf(*machine) == 0)
			return parse_error(p, "-F arch=%s: unknown architecture", value);
		*have_arch = true;
		return rule_add_value(*rp, AUDIT_ARCH, op, audit_machine_to_elf(*machine)) < 0 ?
			parse_error(p, "too many fields") : 0;
	case AUDIT_FILTERKEY:
		return parse_error(p, "write keys as -k KEY");
	case AUDIT_PERM:
		if (flags != AUDIT_FILTER_EXIT || op != AUDIT_EQUAL)
			return parse_error(p, "-F perm= is only valid with = on the exit list");
		if (parse_perms(value, &v) < 0)
			return parse_error(p, "-F perm=%s: permissions are r, w, x, a", value);
		return rule_add_value(*rp, AUDIT_PERM, op, v) < 0 ?
			parse_error(p, "too many fields") : 0;
	case AUDIT_WATCH:
	case AUDIT_DIR:
		if (flags != AUDIT_FILTER_EXIT)
			return parse_error(p, "-F %s= is only valid on the exit list", name);
		rc = check_path(p, value);
		if (rc < 0)
			return rc;
		rc = rule_add_string(rp, (uint32_t)field, op, value, strlen(value));
		return rc == -ENOMEM ? rc : rc < 0 ? parse_error(p, "too many fields") : 0;
	case AUDIT_EXE:
		/* libaudit would ask the kernel for its feature bitmap first. */
		return parse_error(p, "-F exe= is not supported by jefe; use -F path=");
	default:
		break;
	}
	if (audit_field_is_string((uint32_t)field) && flags != AUDIT_FILTER_EXIT &&
	    field >= AUDIT_OBJ_USER)
		return parse_error(p, "-F %s is only valid on the exit list", name);
	/* A fresh, writable copy: audit_rule_fieldpair_data cuts the string. */
	strcpy(copy, arg);
	rc = audit_rule_fieldpair_data(rp, copy, (int)flags);
	if (rc == -3 && *rp == NULL)
		return -ENOMEM;
	if (rc != 0)
		return parse_error(p, "-F %s: refused by libaudit (error %d: %s)", arg, rc,
				   rc == -2 ? "unknown user, group or field" :
				   rc == -7 ? "field not valid on this list" :
				   rc == -13 ? "operator not valid for this field" :
				   rc == -15 ? "unknown errno name" :
				   rc == -21 ? "value must be numeric" :
				   rc == -28 ? "too many fields" : "invalid field");
	return 0;
}

static int rule_build(struct rule_parse *p, struct rule_args *a, const char *owner_key,
		      struct audit_rule_data **out)
{
	struct audit_rule_data *r = NULL;
	uint32_t flags = AUDIT_FILTER_EXIT, action = AUDIT_ALWAYS;
	int machine = p->machine;
	bool have_arch = false, have_syscall = false, have_all = false;
	char key[AUDIT_MAX_KEY_LEN + 1];
	size_t klen = 0;
	int rc = 0;

	if (machine < 0)
		return parse_error(p, "cannot tell this machine's architecture");
	if ((a->watch != NULL) == (a->list_action != NULL))
		return parse_error(p, "a rule is either -w PATH or -a LIST,ACTION");

	if (a->watch != NULL) {
		struct stat st;
		int type = AUDIT_WATCH;

		if (a->n_items > 0)
			return parse_error(p, "-w rules take only -p and -k (use -a always,exit "
					   "-F path=... for more)");
		rc = check_path(p, a->watch);
		if (rc < 0)
			return rc;
		/* auditctl: a watch on an existing directory is a tree (AUDIT_DIR). */
		if (p->root_fd >= 0 &&
		    rootfs_stat(p->root_fd, a->watch, &st, true) == 0 &&
		    S_ISDIR(st.st_mode))
			type = AUDIT_DIR;
		r = audit_rule_create_data();
		if (r == NULL)
			return -ENOMEM;
		if (audit_add_watch_dir(type, &r, a->watch) != 0) {
			audit_rule_free_data(r);
			return parse_error(p, "-w %s: refused by libaudit", a->watch);
		}
		if (a->perms != NULL) {
			uint32_t v;

			if (parse_perms(a->perms, &v) < 0) {
				rc = parse_error(p, "-p %s: permissions are r, w, x, a", a->perms);
				goto fail;
			}
			audit_update_watch_perms(r, (int)v);
		}
	} else {
		if (a->perms != NULL)
			return parse_error(p, "-p belongs to -w rules; use -F perm=");
		rc = parse_list_action(p, a->list_action, &flags, &action);
		if (rc < 0)
			return rc;
		r = audit_rule_create_data();
		if (r == NULL)
			return -ENOMEM;
		r->flags = flags;
		r->action = action;
		for (unsigned int i = 0; i < a->n_items && rc == 0; i++) {
			char *arg = a->items[i].arg;

			switch (a->items[i].opt) {
			case 'S':
				if (flags != AUDIT_FILTER_EXIT) {
					rc = parse_error(p, "-S is only valid on the exit list");
					break;
				}
				rc = rule_add_syscalls(p, r, arg, machine);
				/* -S all means the same for every ABI. */
				if (strcmp(arg, "all") != 0)
					have_syscall = true;
				else
					have_all = true;
				break;
			case 'F':
				rc = rule_add_field(p, &r, arg, flags, &machine, &have_arch,
						    have_syscall);
				break;
			case 'C': {
				char copy[512];

				if (strlen(arg) >= sizeof(copy)) {
					rc = parse_error(p, "-C %.40s...: too long", arg);
					break;
				}
				strcpy(copy, arg);
				if (audit_rule_interfield_comp_data(&r, copy, (int)flags) != 0)
					rc = parse_error(p, "-C %s: not a valid field comparison "
							 "(exit list, = or !=)", arg);
				break;
			}
			}
		}
		if (rc < 0)
			goto fail;
		if (flags == AUDIT_FILTER_EXIT && !have_syscall && !have_all) {
			bool has_path = false;

			for (uint32_t i = 0; i < r->field_count; i++)
				if (r->fields[i] == AUDIT_WATCH || r->fields[i] == AUDIT_DIR)
					has_path = true;
			if (!has_path) {
				rc = parse_error(p, "an exit rule needs -S SYSCALL (or -F path=/dir=)");
				goto fail;
			}
			/* auditctl: a path rule without -S means all syscalls. */
			for (unsigned int w = 0; w < AUDIT_BITMASK_SIZE; w++)
				r->mask[w] = ~0u;
		}
		if (have_syscall && !have_arch)
			/*
			 * Without -F arch the kernel matches syscall numbers of
			 * any ABI: a b64 number means something else to a b32
			 * process.  auditctl warns; a policy must be exact.
			 */
			{
				rc = parse_error(p, "syscall rules need -F arch=b64 or -F arch=b32 "
						 "(numbers differ between ABIs)");
				goto fail;
			}
	}

	/* Keys: the policy's, then the owner tag, joined as the kernel does. */
	key[0] = '\0';
	for (unsigned int i = 0; i <= a->n_keys; i++) {
		const char *k = i < a->n_keys ? a->keys[i] : owner_key;
		size_t n;

		if (k == NULL || *k == '\0')
			continue;
		if (strchr(k, AUDIT_KEY_SEP) || strchr(k, ' ')) {
			rc = parse_error(p, "-k %s: keys must not contain spaces", k);
			goto fail;
		}
		n = strlen(k);
		if (klen + (klen ? 1 : 0) + n > AUDIT_MAX_KEY_LEN) {
			rc = parse_error(p, "keys longer than %d bytes together", AUDIT_MAX_KEY_LEN);
			goto fail;
		}
		if (klen)
			key[klen++] = AUDIT_KEY_SEP;
		memcpy(key + klen, k, n);
		klen += n;
		key[klen] = '\0';
	}
	if (klen > 0) {
		rc = rule_add_string(&r, AUDIT_FILTERKEY, AUDIT_EQUAL, key, klen);
		if (rc < 0) {
			if (rc != -ENOMEM)
				rc = parse_error(p, "too many fields");
			goto fail;
		}
	}
	*out = r;
	return 0;
fail:
	audit_rule_free_data(r);
	return rc;
}

/* Tokenize one line into args; the line is modified. */
static int rule_args_parse(struct rule_parse *p, char *line, struct rule_args *a)
{
	char *save = NULL, *tok;

	memset(a, 0, sizeof(*a));
	for (tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *arg;

		if (tok[0] != '-' || tok[1] == '\0' || tok[2] != '\0')
			return parse_error(p, "unexpected '%s' (options are -w -p -k -a -S -F -C)",
					   tok);
		switch (tok[1]) {
		case 'D': case 'e': case 'b': case 'f': case 'r':
			return parse_error(p, "%s is a setting, not a rule: use the [audit] keys "
					   "enabled, lock, backlog_limit, failure_mode, rate_limit",
					   tok);
		case 'A': case 'W': case 'd': case 'l': case 's': case 'R': case 'i':
		case 'c': case 'q': case 'm': case 'v': case 'h': case 'E':
			return parse_error(p, "%s is not supported in a rules file", tok);
		case 'w': case 'p': case 'k': case 'a': case 'S': case 'F': case 'C':
			break;
		default:
			return parse_error(p, "unknown option %s", tok);
		}
		arg = strtok_r(NULL, " \t", &save);
		if (arg == NULL)
			return parse_error(p, "%s needs an argument", tok);
		switch (tok[1]) {
		case 'w':
			if (a->watch)
				return parse_error(p, "one -w per rule");
			a->watch = arg;
			break;
		case 'p':
			if (a->perms)
				return parse_error(p, "one -p per rule");
			a->perms = arg;
			break;
		case 'a':
			if (a->list_action)
				return parse_error(p, "one -a per rule");
			a->list_action = arg;
			break;
		case 'k':
			if (a->n_keys >= ARRAY_SIZE(a->keys))
				return parse_error(p, "too many -k");
			a->keys[a->n_keys++] = arg;
			break;
		default:
			if (a->n_items >= RULE_ARGS_MAX)
				return parse_error(p, "too many options");
			a->items[a->n_items].opt = tok[1];
			a->items[a->n_items].arg = arg;
			a->n_items++;
			break;
		}
	}
	return 0;
}

static int ruleset_push(struct audit_ruleset *rs, struct audit_rule_spec *s)
{
	struct audit_rule_spec *v = array_grow(rs->v, rs->n, &rs->cap, sizeof(*rs->v));

	if (!v)
		return -ENOMEM;
	rs->v = v;
	rs->v[rs->n++] = *s;
	return 0;
}

static void rule_spec_free(struct audit_rule_spec *s)
{
	audit_rule_free_data(s->data);
	free(s->text);
	free(s->item);
	finding_refs_free(&s->refs);
	free(s->file);
}

void audit_ruleset_free(struct audit_ruleset *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		rule_spec_free(&rs->v[i]);
	free(rs->v);
	rs->v = NULL;
	rs->n = rs->cap = 0;
}

/* "<first key>/<n>": n counts the rules with that first key so far. */
static int rule_item_name(const struct audit_ruleset *rs, const struct rule_args *a,
			  char **out)
{
	const char *base = a->n_keys ? a->keys[0] : "nokey";
	size_t n = 1, blen = strlen(base);
	char buf[AUDIT_MAX_KEY_LEN + 16];

	for (size_t i = 0; i < rs->n; i++)
		if (strncmp(rs->v[i].item, base, blen) == 0 && rs->v[i].item[blen] == '/')
			n++;
	snprintf(buf, sizeof(buf), "%s/%zu", base, n);
	*out = strdup(buf);
	return *out ? 0 : -ENOMEM;
}

int audit_rules_parse(struct audit_ruleset *rs, const char *file, const char *text,
		      const char *owner_key, int root_fd, struct policy_errors *errs)
{
	struct rule_parse p = { .file = file, .line = 1, .errs = errs, .root_fd = root_fd,
				.machine = audit_detect_machine() };
	size_t errs_before = errs->n;
	char *copy = strdup(text);
	struct finding_refs refs = { NULL, 0 };
	int rc = 0;

	if (copy == NULL)
		return -ENOMEM;
	/* Walk the lines by hand: strtok would merge empty lines and lose the count. */
	for (char *line = copy; line != NULL && rc != -ENOMEM; p.line++) {
		char *nl = strchr(line, '\n'), *t, *linecopy;
		struct rule_args args;
		struct audit_rule_spec spec = { 0 };

		if (nl)
			*nl = '\0';
		t = str_trim(line);
		line = nl ? nl + 1 : NULL;
		if (*t == '\0')
			continue;
		if (*t == '#') {
			char *r = str_trim(t + 1);

			if (strncmp(r, "ref:", 4) == 0) {
				char why[160];
				int err;

				finding_refs_free(&refs);
				err = finding_refs_parse(r + 4, &refs, why, sizeof(why));
				if (err == -ENOMEM)
					rc = -ENOMEM;
				else if (err)
					parse_error(&p, "ref: %s", why);
			}
			continue;
		}
		linecopy = strdup(t);
		if (linecopy == NULL) {
			rc = -ENOMEM;
			break;
		}
		if (rule_args_parse(&p, t, &args) < 0 ||
		    (rc = rule_build(&p, &args, owner_key, &spec.data)) < 0) {
			free(linecopy);
			if (rc != -ENOMEM)
				rc = 0;
			continue;
		}
		for (size_t i = 0; i < rs->n; i++) {
			/*
			 * Equal rules carry the same strings, so the same buflen:
			 * a cheap test first (the watch rules all share one
			 * mask, and the full comparison sorts both field lists).
			 */
			if (rs->v[i].data->buflen == spec.data->buflen &&
			    audit_rule_equal(rs->v[i].data, spec.data)) {
				parse_error(&p, "same rule as %s line %d", rs->v[i].file,
					    rs->v[i].line);
				audit_rule_free_data(spec.data);
				spec.data = NULL;
				break;
			}
		}
		if (spec.data == NULL) {
			free(linecopy);
			continue;
		}
		spec.text = linecopy;
		spec.file = strdup(file);
		spec.line = p.line;
		if (spec.file == NULL || finding_refs_copy(&refs, &spec.refs) < 0 ||
		    rule_item_name(rs, &args, &spec.item) < 0 || ruleset_push(rs, &spec) < 0) {
			rule_spec_free(&spec);
			rc = -ENOMEM;
		}
	}
	finding_refs_free(&refs);
	free(copy);
	if (rc == -ENOMEM)
		return rc;
	return errs->n > errs_before ? -JEFE_EPOLICY : 0;
}
