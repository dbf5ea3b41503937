/* SPDX-License-Identifier: MIT */
/*
 * Layer 1: kernel parameters.
 *
 * Each key is read, compared, written and read back through /proc/sys
 * below the root fd, so tests point the layer at a temporary tree (or at a
 * bind mount of /proc/sys/net inside a private network namespace).
 *
 * kernel.lockdown is not a sysctl: it lives in securityfs and can only be
 * raised.  A level below the policy that the kernel refuses to raise is
 * drift that only a reboot fixes; we say so once and never loop on it.
 *
 * Writes of one apply are all or nothing: if the kernel rejects a value,
 * the keys already written in that apply get their old values back.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "layer.h"
#include "layers.h"
#include "rootfs.h"
#include "util.h"

#define SYSCTL_LAYER		"sysctl"
#define SYSCTL_PERSIST_FILE	"/etc/sysctl.d/90-jefe.conf"
#define LOCKDOWN_KEY		"kernel.lockdown"
#define LOCKDOWN_PATH		"/sys/kernel/security/lockdown"
#define VALUE_MAX		256

/*
 * Benchmark references for the keys we know: a CIS Debian Linux 12
 * v1.0.1 section, or, with cis NULL, the Kernel Self Protection
 * Project's recommended settings, which name a setting by the key itself.
 */
static const struct {
	const char *key;	/* a prefix ending in '.' or '_' matches a family */
	const char *cis;
} sysctl_refs[] = {
	{ "kernel.randomize_va_space", "1.5.1" },
	{ "kernel.yama.ptrace_scope", "1.5.2" },
	{ "fs.suid_dumpable", "1.5.3" },
	{ "kernel.core_pattern", "1.5.3" },
	{ "net.ipv4.ip_forward", "3.3.1" },
	{ "net.ipv6.conf.all.forwarding", "3.3.1" },
	{ "net.ipv4.conf.all.send_redirects", "3.3.2" },
	{ "net.ipv4.conf.default.send_redirects", "3.3.2" },
	{ "net.ipv4.icmp_ignore_bogus_error_responses", "3.3.3" },
	{ "net.ipv4.icmp_echo_ignore_broadcasts", "3.3.4" },
	{ "net.ipv4.conf.all.accept_redirects", "3.3.5" },
	{ "net.ipv4.conf.default.accept_redirects", "3.3.5" },
	{ "net.ipv6.conf.all.accept_redirects", "3.3.5" },
	{ "net.ipv6.conf.default.accept_redirects", "3.3.5" },
	{ "net.ipv4.conf.all.secure_redirects", "3.3.6" },
	{ "net.ipv4.conf.default.secure_redirects", "3.3.6" },
	{ "net.ipv4.conf.all.rp_filter", "3.3.7" },
	{ "net.ipv4.conf.default.rp_filter", "3.3.7" },
	{ "net.ipv4.conf.all.accept_source_route", "3.3.8" },
	{ "net.ipv4.conf.default.accept_source_route", "3.3.8" },
	{ "net.ipv6.conf.all.accept_source_route", "3.3.8" },
	{ "net.ipv6.conf.default.accept_source_route", "3.3.8" },
	{ "net.ipv4.conf.all.log_martians", "3.3.9" },
	{ "net.ipv4.conf.default.log_martians", "3.3.9" },
	{ "net.ipv4.tcp_syncookies", "3.3.10" },
	{ "net.ipv6.conf.all.accept_ra", "3.3.11" },
	{ "net.ipv6.conf.default.accept_ra", "3.3.11" },
	{ "kernel.", NULL },
	{ "fs.protected_", NULL },
	{ "vm.", NULL },
	{ "dev.tty.", NULL },
	{ "net.core.bpf_jit_harden", NULL },
};

enum sysctl_kind {
	SYSCTL_KIND_PROC,	/* a file under /proc/sys */
	SYSCTL_KIND_LOCKDOWN,	/* the securityfs lockdown file */
};

struct sysctl_item {
	char *key;		/* as the admin wrote it */
	char *path;		/* "/proc/sys/net/ipv4/..." */
	char *value;		/* normalized desired value */
	struct finding_ref ref;	/* id points into key or the table */
	size_t n_refs;
	enum sysctl_kind kind;
	bool required;
	int wd;			/* inotify watch, -1 when none */
	bool present;		/* the check's read found the key (see read_present) */
	/* The value load read, normalized, for the one check of a
	 * single_check run; NULL once used and everywhere else. */
	char *loaded;
};

struct sysctl_state {
	const struct jefe_env *env;
	bool kernel_known;	/* /proc/sys below the root: names are checked */
	/* The check being made has just read every item: `present` is now. */
	bool read_present;
	struct sysctl_item *items;
	size_t n_items;
	size_t cap_items;	/* items allocated (array_grow()) */
	bool persist;
	char *persist_file;
	int inotify_fd;
};

/* The layer's own settings; every other key of [sysctl] is a sysctl name. */
struct sysctl_settings {
	const char *required;
	const char *optional;
	bool persist;
	const char *persist_file;
};

static const struct policy_key sysctl_keys[] = {
	PK_LIST("required", struct sysctl_settings, required, "",
		"names that must exist on this kernel: an absent one is an error at check, not unsupported", ""),
	PK_LIST("optional", struct sysctl_settings, optional, "",
		"names this kernel may lack (reported unsupported); any other unknown name is a policy error", ""),
	PK_BOOL("persist", struct sysctl_settings, persist, "yes",
		"also write the values to persist_file, so the boot applies them before the agent", ""),
	PK_PATH("persist_file", struct sysctl_settings, persist_file, 0, SYSCTL_PERSIST_FILE,
		"the sysctl.d file persist writes", ""),
	PK_END,
};

/* Keys without a dot or slash are the layer's settings; the rest are sysctl names. */
static bool sysctl_free_key(const char *section, const char *key)
{
	return strchr(key, '.') || strchr(key, '/');
}

static const char *const lockdown_levels[] = { "none", "integrity", "confidentiality" };

static int lockdown_level(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(lockdown_levels); i++)
		if (strcmp(lockdown_levels[i], name) == 0)
			return (int)i;
	return -1;
}

/* Sets it->ref from the table; it->key must be set. */
static void sysctl_ref(struct sysctl_item *it)
{
	for (size_t i = 0; i < ARRAY_SIZE(sysctl_refs); i++) {
		const char *k = sysctl_refs[i].key;
		size_t len = strlen(k);

		if (k[len - 1] == '.' || k[len - 1] == '_' ?
		    strncmp(it->key, k, len) == 0 : strcmp(it->key, k) == 0) {
			it->ref = sysctl_refs[i].cis ?
				(struct finding_ref)REF_CIS(sysctl_refs[i].cis) :
				(struct finding_ref)REF_KSPP(it->key);
			it->n_refs = 1;
			return;
		}
	}
}

static struct finding_refs sysctl_item_refs(const struct sysctl_item *it)
{
	return (struct finding_refs){ &it->ref, it->n_refs };
}

/*
 * "net.ipv4.conf.all.rp_filter" -> "/proc/sys/net/ipv4/conf/all/rp_filter".
 * A key may also be written with slashes, which is the only way to name an
 * interface whose own name has a dot, such as the VLAN "eth0.100":
 * "net/ipv4/conf/eth0.100/rp_filter" (busybox sysctl.c has the same rule).
 */
static int sysctl_key_to_path(const char *key, char *buf, size_t size)
{
	bool slashes = strchr(key, '/') != NULL;
	size_t len = strlen("/proc/sys/");

	if (snprintf(buf, size, "/proc/sys/%s", key) >= (int)size)
		return -ENAMETOOLONG;
	if (!slashes)
		for (char *p = buf + len; *p; p++)
			if (*p == '.')
				*p = '/';
	return 0;
}

static bool sysctl_key_valid(const char *key)
{
	if (!*key || key[0] == '.' || key[0] == '/' || strstr(key, "..") || strstr(key, "//"))
		return false;
	for (const char *p = key; *p; p++)
		if (!(( *p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-' ||
		      *p == '/' || *p == '@' || *p == ':'))
			return false;
	return strchr(key, '.') || strchr(key, '/');
}

/* Collapse runs of white space to one space: "32768\t60999\n" -> "32768 60999". */
static void value_normalize(const char *in, char *out, size_t size)
{
	size_t o = 0;
	bool space = false;

	while (*in == ' ' || *in == '\t' || *in == '\n')
		in++;
	for (; *in && o + 1 < size; in++) {
		if (*in == ' ' || *in == '\t' || *in == '\n') {
			space = true;
			continue;
		}
		if (space && o + 2 < size)
			out[o++] = ' ';
		space = false;
		out[o++] = *in;
	}
	out[o] = '\0';
}

static void sysctl_state_free(void *p)
{
	struct sysctl_state *st = p;

	if (!st)
		return;
	for (size_t i = 0; i < st->n_items; i++) {
		free(st->items[i].key);
		free(st->items[i].path);
		free(st->items[i].value);
		free(st->items[i].loaded);
	}
	free(st->items);
	free(st->persist_file);
	if (st->inotify_fd >= 0)
		close(st->inotify_fd);
	free(st);
}

/* Does value look like an integer, as the kernel prints one? */
static bool sysctl_is_integer(const char *s, size_t len)
{
	size_t i = s[0] == '-' ? 1 : 0;

	if (i >= len)
		return false;
	for (; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/*
 * The kernel's current value says the type: when it is integers, the
 * policy's value must be as many integers (a vector keeps its width:
 * ip_local_port_range takes two).  Text values (tcp_congestion_control,
 * core_pattern) take any text.  Returns true when value fits.
 */
static bool sysctl_value_fits(const char *current, const char *value, char *why, size_t why_len)
{
	size_t n_cur = 0, n_val = 0;
	bool ints = true;

	for (const char *p = current; *p; ) {
		size_t len = strcspn(p, " ");

		ints &= sysctl_is_integer(p, len);
		n_cur++;
		p += len;
		p += *p == ' ';
	}
	if (!n_cur || !ints)
		return true;
	for (const char *p = value; *p; ) {
		size_t len = strcspn(p, " ");

		if (!sysctl_is_integer(p, len)) {
			snprintf(why, why_len, "'%.*s' is not an integer", (int)len, p);
			return false;
		}
		n_val++;
		p += len;
		p += *p == ' ';
	}
	if (n_val != n_cur) {
		snprintf(why, why_len, "this kernel's value has %zu integer%s ('%s'), the policy gives %zu",
			 n_cur, n_cur == 1 ? "" : "s", current, n_val);
		return false;
	}
	return true;
}

struct sysctl_names {
	struct strv names;	/* the entries of one /proc/sys directory */
};

static const char *sysctl_name_at(const void *ctx, size_t i)
{
	const struct sysctl_names *sn = ctx;

	return i < sn->names.n ? sn->names.v[i] : NULL;
}

/*
 * "did you mean" for a name /proc/sys does not have: at the first
 * component that is missing, the closest entry of its directory, with
 * the rest of the name after it ("kernel.kptr_restict" ->
 * "kernel.kptr_restrict", "kernal.yama.ptrace_scope" -> "kernel.yama...").
 * Returns a malloc'ed name or NULL.
 */
static char *sysctl_suggest(int root_fd, const char *key)
{
	char sep = strchr(key, '/') ? '/' : '.';
	char dir[PATH_MAX] = "/proc/sys";
	const char *comp = key;
	char *result = NULL;

	while (*comp) {
		size_t len = strcspn(comp, sep == '/' ? "/" : ".");
		char path[PATH_MAX];
		struct stat sb;

		if (snprintf(path, sizeof(path), "%s/%.*s", dir, (int)len, comp) >= (int)sizeof(path))
			return NULL;
		if (rootfs_stat(root_fd, path, &sb, false) < 0) {
			struct sysctl_names sn = { 0 };
			char word[256];
			const char *near;
			struct dirent *de;
			DIR *d;

			if (rootfs_opendir(root_fd, dir, &d) < 0)
				return NULL;
			while ((de = readdir(d)))
				if (de->d_name[0] != '.' && strv_push(&sn.names, de->d_name))
					break;
			closedir(d);
			snprintf(word, sizeof(word), "%.*s", (int)len, comp);
			near = policy_suggest(word, sysctl_name_at, &sn);
			if (near && asprintf(&result, "%.*s%s%s", (int)(comp - key), key, near,
					     comp + len) < 0)
				result = NULL;
			strv_free(&sn.names);
			return result;
		}
		snprintf(dir, sizeof(dir), "%s", path);
		comp += len;
		if (*comp)
			comp++;
	}
	return NULL;
}

/*
 * Is the name one the target kernel has?  /proc/sys below the root says;
 * an absent name is an error unless [sysctl] optional lists it.  A root
 * with no /proc/sys at all (an image tree, not a running system) has no
 * kernel to ask: names are then taken as written.  Returns 0 when the
 * item is kept, 1 when refused (reported), or -ENOMEM.
 */
static int sysctl_name_check(const struct sysctl_state *st, const struct policy_entry *e,
			     const char *path, const struct strv *optional,
			     struct policy_errors *errs)
{
	struct stat sb;
	char *near;
	int err;

	if (!st->kernel_known)
		return 0;
	/* lstat: a name is there even when its file is a link leading nowhere. */
	if (rootfs_stat(st->env->root_fd, path, &sb, false) == 0 || strv_contains(optional, e->key))
		return 0;
	near = sysctl_suggest(st->env->root_fd, e->key);
	if (near)
		err = policy_error_at(errs, e, "unknown sysctl '%s': this kernel has no %s (did you mean '%s'? a name it may lack goes in [sysctl] optional)",
				      e->key, path, near);
	else
		err = policy_error_at(errs, e, "unknown sysctl '%s': this kernel has no %s (a name it may lack goes in [sysctl] optional)",
				      e->key, path);
	free(near);
	return err ? err : 1;
}

/*
 * A value below /proc/sys, read as root_read_file() does, but in one
 * read(2) when it can be: procfs makes a sysctl's whole text, newline
 * included, for the first read of a file (proc_sys_call_handler), so a
 * read that ends in a newline and left room in the buffer has it all,
 * and the read that would return 0 is one system call per key saved.
 * Anything else (a test tree's file without its newline) goes on
 * reading to the end.
 */
static ssize_t sysctl_read_raw(int root_fd, const char *path, char *buf, size_t size)
{
	int fd = rootfs_open(root_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return fd;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n > 0 && (size_t)n < size - 1 && buf[n - 1] == '\n') {
		buf[n] = '\0';
		return n;
	}
	return root_read_file(root_fd, path, buf, size);
}

/*
 * The load's two page-sized buffers, allocated once for all keys: in
 * sysctl_item_add()'s frame they made it 17.5 KB, each page of which
 * gcc's -fstack-clash-protection probes (a new stack page apiece).
 */
struct sysctl_scratch {
	char path[PATH_MAX];
	char raw[4096];
};

static int sysctl_item_add(struct sysctl_state *st, const struct policy_entry *e,
			   const struct strv *optional, struct sysctl_scratch *sc,
			   struct policy_errors *errs)
{
	char *path = sc->path, *raw = sc->raw;
	char value[VALUE_MAX], current[VALUE_MAX] = "";
	bool have_current = false;
	struct sysctl_item *it, *v;
	enum sysctl_kind kind = SYSCTL_KIND_PROC;
	ssize_t n;
	int err;

	if (!sysctl_key_valid(e->key))
		return policy_error_at(errs, e, "'%s' is not a sysctl name (a.b.c or a/b/c)", e->key);
	value_normalize(e->value, value, sizeof(value));
	if (!*value)
		return policy_error_at(errs, e, "%s has an empty value", e->key);

	if (strcmp(e->key, LOCKDOWN_KEY) == 0) {
		if (lockdown_level(value) < 0)
			return policy_error_at(errs, e,
					       "invalid value '%s' for kernel.lockdown: none, integrity or confidentiality",
					       value);
		kind = SYSCTL_KIND_LOCKDOWN;
		snprintf(path, sizeof(sc->path), "%s", LOCKDOWN_PATH);
	} else {
		/* /proc/sys values are numbers or short words; reject what cannot be one. */
		for (const char *p = value; *p; p++)
			if (*p == '=' || *p == '\\' || (unsigned char)*p < 0x20)
				return policy_error_at(errs, e, "invalid value '%s' for %s",
						       e->value, e->key);
		if (sysctl_key_to_path(e->key, path, sizeof(sc->path)))
			return policy_error_at(errs, e, "sysctl name too long: %s", e->key);
		/*
		 * A value read proves the name: the lstat of the name check
		 * (three system calls) only for a key that could not be read.
		 */
		n = sysctl_read_raw(st->env->root_fd, path, raw, sizeof(sc->raw));
		err = n >= 0 ? 0 : sysctl_name_check(st, e, path, optional, errs);
		if (err)
			return err < 0 ? err : 0;
		if (n >= 0) {
			char why[VALUE_MAX + 96];

			value_normalize(raw, current, sizeof(current));
			if (!sysctl_value_fits(current, value, why, sizeof(why)))
				return policy_error_at(errs, e, "invalid value '%s' for %s: %s",
						       e->value, e->key, why);
			have_current = true;
		}
	}

	v = array_grow(st->items, st->n_items, &st->cap_items, sizeof(*v));
	if (!v)
		return -ENOMEM;
	st->items = v;
	it = &st->items[st->n_items];
	memset(it, 0, sizeof(*it));
	it->wd = -1;
	it->kind = kind;
	it->key = strdup(e->key);
	it->path = strdup(path);
	it->value = strdup(value);
	if (have_current && st->env->single_check)
		it->loaded = strdup(current);
	if (!it->key || !it->path || !it->value ||
	    (have_current && st->env->single_check && !it->loaded)) {
		free(it->key);
		free(it->path);
		free(it->value);
		free(it->loaded);
		return -ENOMEM;
	}
	sysctl_ref(it);
	st->n_items++;
	return 0;
}

static struct sysctl_item *sysctl_item_find(struct sysctl_state *st, const char *key)
{
	for (size_t i = 0; i < st->n_items; i++)
		if (strcmp(st->items[i].key, key) == 0)
			return &st->items[i];
	return NULL;
}

static int sysctl_load(void **state, const struct jefe_env *env, const struct policy *policy,
		       const void *settings, struct policy_errors *errs)
{
	const struct sysctl_settings *set = settings;
	struct sysctl_state *st = calloc(1, sizeof(*st));
	const struct policy_entry *e;
	struct strv optional = { 0 }, keys = { 0 };
	struct sysctl_scratch *sc = malloc(sizeof(*sc));
	size_t errs_before = errs->n, it = 0;
	struct stat sb;
	int err = 0;

	if (!st || !sc) {
		free(st);
		free(sc);
		return -ENOMEM;
	}
	st->env = env;
	st->inotify_fd = -1;
	st->kernel_known = rootfs_stat(env->root_fd, "/proc/sys", &sb, true) == 0 &&
			   S_ISDIR(sb.st_mode);
	st->persist = set->persist;
	st->persist_file = strdup(set->persist_file);
	if (!st->persist_file || strv_split(&optional, set->optional, ", \t")) {
		err = -ENOMEM;
		goto out;
	}

	while ((e = policy_next(policy, SYSCTL_LAYER, &it))) {
		if (!sysctl_free_key(SYSCTL_LAYER, e->key))
			continue;	/* the table's, or the core's (mode) */
		err = sysctl_item_add(st, e, &optional, sc, errs);
		if (err)
			goto out;
	}

	e = policy_get(policy, SYSCTL_LAYER, "required");
	err = strv_split(&keys, set->required, ", \t");
	for (size_t i = 0; !err && i < keys.n; i++) {
		struct sysctl_item *item = sysctl_item_find(st, keys.v[i]);

		if (item)
			item->required = true;
		else if (!policy_get(policy, SYSCTL_LAYER, keys.v[i]))	/* else reported already */
			policy_error_at(errs, e, "required key '%s' has no value in [sysctl]", keys.v[i]);
	}
	if (err)
		goto out;
	/* A typo in the list would make a name silently optional: none there. */
	e = policy_get(policy, SYSCTL_LAYER, "optional");
	for (size_t i = 0; i < optional.n; i++)
		if (!policy_get(policy, SYSCTL_LAYER, optional.v[i]))
			policy_error_at(errs, e, "optional key '%s' has no value in [sysctl]",
					optional.v[i]);
	if (errs->n > errs_before)
		err = -JEFE_EPOLICY;
out:
	free(sc);
	strv_free(&optional);
	strv_free(&keys);
	if (err) {
		sysctl_state_free(st);
		return err;
	}
	*state = st;
	return 0;
}

/* Read the current value.  For lockdown, the bracketed level of "none [integrity] confidentiality". */
static int sysctl_item_read(const struct sysctl_state *st, const struct sysctl_item *it,
			    char *out, size_t size)
{
	char raw[4096];
	ssize_t n = sysctl_read_raw(st->env->root_fd, it->path, raw, sizeof(raw));

	if (n < 0)
		return (int)n;
	if (it->kind == SYSCTL_KIND_LOCKDOWN) {
		char *open = strchr(raw, '['), *close = open ? strchr(open, ']') : NULL;

		if (!open || !close)
			return -EBADMSG;
		*close = '\0';
		snprintf(out, size, "%s", open + 1);
		return 0;
	}
	value_normalize(raw, out, size);
	return 0;
}

static int sysctl_item_write(const struct sysctl_state *st, const struct sysctl_item *it,
			     const char *value)
{
	/* O_TRUNC as sysctl(8) does (fopen "w"); procfs ignores it, a test tree needs it. */
	int fd = rootfs_open(st->env->root_fd, it->path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	size_t len = strlen(value);
	ssize_t n;
	int err = 0;

	if (fd < 0)
		return fd;
	/* /proc/sys takes one write(2) per value; a short write is an error. */
	n = write(fd, value, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}

/* Is the current lockdown level at least the wanted one? */
static bool lockdown_satisfied(const char *actual, const char *wanted)
{
	return lockdown_level(actual) >= lockdown_level(wanted);
}

static bool sysctl_item_compliant(const struct sysctl_item *it, const char *actual)
{
	if (it->kind == SYSCTL_KIND_LOCKDOWN)
		return lockdown_satisfied(actual, it->value);
	return strcmp(actual, it->value) == 0;
}

/* The finding for an item that could not be read. */
static int sysctl_report_unreadable(const struct sysctl_item *it, int err, struct findings *out)
{
	bool absent = err == -ENOENT;
	char note[160];

	if (absent)
		snprintf(note, sizeof(note), "%s on this kernel%s",
			 it->kind == SYSCTL_KIND_LOCKDOWN ? "no lockdown LSM" : "not present",
			 it->required ? " (required by the policy)" : "");
	else
		snprintf(note, sizeof(note), "cannot read %s: %s", it->path, jefe_strerror(err));
	return findings_add(out, &(struct finding){
		.layer = SYSCTL_LAYER,
		.item = it->key,
		.expected = it->value,
		.refs = sysctl_item_refs(it),
		.note = note,
		.state = absent && !it->required ? FINDING_UNSUPPORTED : FINDING_ERROR,
	});
}

/* ---- persistence: /etc/sysctl.d, so early boot gets the values before the agent runs ---- */

static int sysctl_persist_render(const struct sysctl_state *st, char **out)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	if (!fp)
		return -ENOMEM;
	fprintf(fp, "# Written by jefe (JefeLinux agent) from its policy; edits are drift.\n"
		    "# Applied at boot by sysctl before the agent starts.\n");
	for (size_t i = 0; i < st->n_items; i++) {
		const struct sysctl_item *it = &st->items[i];

		/* Lockdown is raised by the agent (or lockdown= on the command line). */
		if (it->kind == SYSCTL_KIND_LOCKDOWN)
			continue;
		/*
		 * A key this kernel lacks would make `sysctl -p` fail at boot.
		 * A check has just read every key and knows; otherwise ask.
		 */
		if (st->read_present) {
			if (!it->present)
				continue;
		} else {
			int fd = rootfs_open(st->env->root_fd, it->path, O_PATH | O_CLOEXEC);

			if (fd < 0)
				continue;
			close(fd);
		}
		fprintf(fp, "%s = %s\n", it->key, it->value);
	}
	if (fclose(fp) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	return 0;
}

static int sysctl_persist(struct sysctl_state *st, bool apply, bool dry_run, struct findings *out)
{
	char *want = NULL, *have = NULL, *diff = NULL, item[PATH_MAX + 16];
	struct finding f = { .layer = SYSCTL_LAYER };
	int err;

	if (!st->persist)
		return 0;
	err = sysctl_persist_render(st, &want);
	if (err)
		return err;
	snprintf(item, sizeof(item), "persist:%s", st->persist_file);
	f.item = item;
	err = root_read_file_alloc(st->env->root_fd, st->persist_file, &have, NULL);
	if (err && err != -ENOENT) {
		f.state = FINDING_ERROR;
		f.note = "cannot read the persistence file";
		goto add;
	}
	if (have && strcmp(have, want) == 0) {
		f.state = FINDING_COMPLIANT;
		goto add;
	}
	f.state = FINDING_DRIFT;
	f.expected = "written by jefe";
	f.actual = have ? "modified" : "missing";
	if (!apply)
		goto add;
	if (dry_run) {
		f.action = FINDING_ACTION_WOULD_REPAIR;
		/* What would be written, as a diff: the dry run shows every file. */
		err = diff_unified(st->persist_file, have, want, &diff);
		if (err)
			goto out;
		f.note = diff;
		goto add;
	}
	{
		char dir[PATH_MAX];
		char *slash;

		snprintf(dir, sizeof(dir), "%s", st->persist_file);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			err = rootfs_mkdir_p(st->env->root_fd, dir, 0755);
		} else {
			err = 0;
		}
	}
	if (!err)
		err = rootfs_write_atomic(st->env->root_fd, st->persist_file, want,
					     strlen(want), 0644);
	f.action = err ? FINDING_ACTION_FAILED : FINDING_ACTION_REPAIRED;
	if (err)
		f.note = jefe_strerror(err);
add:
	err = findings_add(out, &f);
out:
	free(want);
	free(have);
	free(diff);
	return err;
}

static int sysctl_check(void *state, struct findings *out)
{
	struct sysctl_state *st = state;
	int err;

	for (size_t i = 0; i < st->n_items; i++) {
		struct sysctl_item *it = &st->items[i];
		char actual[VALUE_MAX];

		if (it->loaded) {
			/* Read by this run's load a moment ago (single_check). */
			snprintf(actual, sizeof(actual), "%s", it->loaded);
			free(it->loaded);
			it->loaded = NULL;
			err = 0;
		} else {
			err = sysctl_item_read(st, it, actual, sizeof(actual));
		}

		/* What an O_PATH open would say: a key that is there but not readable is there. */
		it->present = err == 0 || (err != -ENOENT && err != -ENOTDIR && err != -ELOOP &&
					   err != -EXDEV);
		if (err) {
			err = sysctl_report_unreadable(it, err, out);
		} else {
			bool ok = sysctl_item_compliant(it, actual);

			err = findings_add(out, &(struct finding){
				.layer = SYSCTL_LAYER,
				.item = it->key,
				.expected = it->value,
				.actual = actual,
				.refs = sysctl_item_refs(it),
				.state = ok ? FINDING_COMPLIANT : FINDING_DRIFT,
			});
		}
		if (err)
			return err;
	}
	st->read_present = true;
	err = sysctl_persist(st, false, false, out);
	st->read_present = false;
	return err;
}

struct sysctl_undo {
	const struct sysctl_item *item;
	char old[VALUE_MAX];
};

static int sysctl_apply(void *state, bool dry_run, struct findings *out)
{
	struct sysctl_state *st = state;
	struct findings local = { 0 };
	struct sysctl_undo *undo;
	size_t n_undo = 0;
	const struct sysctl_item *failed = NULL;
	int err = 0, failed_err = 0;

	undo = calloc(st->n_items ? st->n_items : 1, sizeof(*undo));
	if (!undo)
		return -ENOMEM;

	/* Plain sysctls first: they can be undone if a later one is refused. */
	for (size_t i = 0; i < st->n_items && !failed; i++) {
		const struct sysctl_item *it = &st->items[i];
		char actual[VALUE_MAX], after[VALUE_MAX];
		struct finding f = {
			.layer = SYSCTL_LAYER, .item = it->key, .expected = it->value,
			.refs = sysctl_item_refs(it), .state = FINDING_DRIFT,
		};

		if (it->kind != SYSCTL_KIND_PROC)
			continue;
		err = sysctl_item_read(st, it, actual, sizeof(actual));
		if (err) {
			err = sysctl_report_unreadable(it, err, &local);
			if (err)
				goto out;
			continue;
		}
		f.actual = actual;
		if (strcmp(actual, it->value) == 0) {
			f.state = FINDING_COMPLIANT;
		} else if (dry_run) {
			f.action = FINDING_ACTION_WOULD_REPAIR;
		} else {
			err = sysctl_item_write(st, it, it->value);
			if (!err)
				err = sysctl_item_read(st, it, after, sizeof(after));
			if (!err && strcmp(after, it->value) != 0)
				err = -EINVAL;	/* the kernel clamped or ignored it */
			if (err) {
				failed = it;
				failed_err = err;
				/* A partial write may have changed it: undo it with the rest. */
				undo[n_undo].item = it;
				snprintf(undo[n_undo++].old, VALUE_MAX, "%s", actual);
				break;
			}
			undo[n_undo].item = it;
			snprintf(undo[n_undo++].old, VALUE_MAX, "%s", actual);
			f.action = FINDING_ACTION_REPAIRED;
		}
		err = findings_add(&local, &f);
		if (err)
			goto out;
	}

	if (failed) {
		char note[320];

		/* All or nothing: put back what this apply changed. */
		for (size_t i = n_undo; i-- > 0;)
			(void)sysctl_item_write(st, undo[i].item, undo[i].old);
		findings_reset(&local);
		snprintf(note, sizeof(note),
			 "the kernel refused %s = %s (%s); the %zu other value(s) written by this apply were restored",
			 failed->key, failed->value, jefe_strerror(failed_err), n_undo - 1);
		err = findings_add(&local, &(struct finding){
			.layer = SYSCTL_LAYER, .item = failed->key, .expected = failed->value,
			.refs = sysctl_item_refs(failed), .state = FINDING_DRIFT,
			.action = FINDING_ACTION_FAILED, .note = note,
		});
		if (err)
			goto out;
		/* The other items are as check() sees them after the rollback. */
		for (size_t i = 0; i < st->n_items; i++) {
			const struct sysctl_item *it = &st->items[i];
			char actual[VALUE_MAX];

			if (it == failed || it->kind != SYSCTL_KIND_PROC)
				continue;
			err = sysctl_item_read(st, it, actual, sizeof(actual));
			err = err ? sysctl_report_unreadable(it, err, &local) :
				findings_add(&local, &(struct finding){
					.layer = SYSCTL_LAYER, .item = it->key,
					.expected = it->value, .actual = actual, .refs = sysctl_item_refs(it),
					.state = strcmp(actual, it->value) ? FINDING_DRIFT : FINDING_COMPLIANT,
				});
			if (err)
				goto out;
		}
	}

	/* Lockdown last: it cannot be undone, so only once the rest went in. */
	for (size_t i = 0; i < st->n_items; i++) {
		const struct sysctl_item *it = &st->items[i];
		char actual[VALUE_MAX], after[VALUE_MAX];
		struct finding f = {
			.layer = SYSCTL_LAYER, .item = it->key, .expected = it->value,
			.refs = sysctl_item_refs(it), .state = FINDING_DRIFT,
		};

		if (it->kind != SYSCTL_KIND_LOCKDOWN)
			continue;
		err = sysctl_item_read(st, it, actual, sizeof(actual));
		if (err) {
			err = sysctl_report_unreadable(it, err, &local);
			if (err)
				goto out;
			continue;
		}
		f.actual = actual;
		if (lockdown_satisfied(actual, it->value)) {
			f.state = FINDING_COMPLIANT;
		} else if (failed) {
			f.action = FINDING_ACTION_FAILED;
			f.note = "not raised: another key of this apply was refused";
		} else if (dry_run) {
			f.action = FINDING_ACTION_WOULD_REPAIR;
		} else {
			err = sysctl_item_write(st, it, it->value);
			if (!err)
				err = sysctl_item_read(st, it, after, sizeof(after));
			if (!err && lockdown_satisfied(after, it->value)) {
				f.action = FINDING_ACTION_REPAIRED;
			} else {
				/* The kernel only lets lockdown go up, and some kernels not even that. */
				f.action = FINDING_ACTION_CANNOT_FIX;
				f.note = "the kernel refused to raise lockdown; boot with lockdown=<level> on the command line";
			}
		}
		err = findings_add(&local, &f);
		if (err)
			goto out;
	}

	err = sysctl_persist(st, !failed, dry_run, &local);
	if (!err)
		err = findings_append(out, &local);
out:
	findings_free(&local);
	free(undo);
	return err;
}

static int sysctl_watch(void *state, struct watch_set *ws)
{
	struct sysctl_state *st = state;

	if (st->inotify_fd < 0) {
		st->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (st->inotify_fd < 0)
			return -errno;
	}
	/*
	 * A write(2) to a /proc/sys file raises IN_MODIFY like any other
	 * file (vfs_write calls fsnotify_modify), so `sysctl -w` is seen at
	 * once.  Changes made inside the kernel are not: the backstop timer
	 * catches those.
	 */
	for (size_t i = 0; i < st->n_items; i++) {
		struct sysctl_item *it = &st->items[i];
		int wd;

		if (it->wd >= 0)
			continue;
		wd = rootfs_watch_add(st->inotify_fd, st->env->root_fd, it->path, IN_MODIFY);
		/* An absent key has nothing to watch: check reports it. */
		it->wd = wd >= 0 ? wd : -1;
	}
	return watch_set_add(ws, st->inotify_fd, EPOLLIN);
}

static int sysctl_on_event(void *state, int fd, uint32_t events, bool *recheck)
{
	return layer_inotify_drain(fd, NULL, NULL, recheck);
}

const struct layer_ops layer_sysctl_ops = {
	.name = SYSCTL_LAYER,
	.title = "kernel parameters",
	.keys = sysctl_keys,
	.settings_size = sizeof(struct sysctl_settings),
	.free_key = sysctl_free_key,
	.load = sysctl_load,
	.check = sysctl_check,
	.apply = sysctl_apply,
	.watch = sysctl_watch,
	.on_event = sysctl_on_event,
	.free = sysctl_state_free,
};
