/* SPDX-License-Identifier: MIT */
/*
 * The core's side of the layer interface: finding layers and sections,
 * checking every section and key of a policy against the layers' key
 * tables, loading a whole set from one policy, `jefe policy show`, and
 * running check/apply over the set.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "layer.h"
#include "services.h"
#include "util.h"

int watch_set_add(struct watch_set *ws, int fd, uint32_t events)
{
	if (ws->n >= WATCH_MAX_FDS)
		return -ENOSPC;
	ws->fds[ws->n] = fd;
	ws->events[ws->n] = events;
	ws->n++;
	return 0;
}

int layer_inotify_drain(int fd, bool (*each)(void *ctx, const struct inotify_event *ev),
			void *ctx, bool *recheck)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		if (n == 0)
			return 0;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			p += sizeof(*ev) + ev->len;
			if (!each || each(ctx, ev))
				*recheck = true;
		}
	}
}

const struct layer_ops *layer_find(const char *name)
{
	for (unsigned int i = 0; i < jefe_layers_count; i++)
		if (strcmp(jefe_layers[i]->name, name) == 0)
			return jefe_layers[i];
	return NULL;
}

/* Does ops take [ops->name.sub]? */
static bool layer_takes_sub(const struct layer_ops *ops, const char *sub)
{
	for (size_t i = 0; ops->subsections && ops->subsections[i]; i++)
		if (fnmatch(ops->subsections[i], sub, FNM_PERIOD) == 0)
			return true;
	return false;
}

/* The layer owning section, or NULL; *sub says whether it is a subsection. */
static const struct layer_ops *layer_of_section(const char *section, bool *sub)
{
	for (unsigned int i = 0; i < jefe_layers_count; i++) {
		const char *name = jefe_layers[i]->name;
		size_t len = strlen(name);

		if (strncmp(section, name, len) != 0)
			continue;
		if (section[len] == '\0') {
			*sub = false;
			return jefe_layers[i];
		}
		if (section[len] == '.' && section[len + 1] != '\0' &&
		    layer_takes_sub(jefe_layers[i], section + len + 1)) {
			*sub = true;
			return jefe_layers[i];
		}
	}
	return NULL;
}

bool layer_owns_section(const char *section)
{
	bool sub;

	return strcmp(section, "agent") == 0 || layer_of_section(section, &sub) != NULL;
}

/* Candidates for "did you mean [...]": agent, each layer, each subsection. */
struct section_names {
	const char *word;
	char buf[LAYER_MAX * 4][128];	/* one per subsection candidate: the best is kept */
};

static const char *section_name_at(const void *ctx, size_t i)
{
	struct section_names *sn = (struct section_names *)ctx;

	if (i == 0)
		return "agent";
	i--;
	for (unsigned int l = 0; l < jefe_layers_count; l++) {
		const struct layer_ops *ops = jefe_layers[l];
		const char *rest;

		if (i == 0)
			return ops->name;
		i--;
		for (size_t s = 0; ops->subsections && ops->subsections[s]; s++, i--) {
			char *buf = sn->buf[(l * 4 + s) % ARRAY_SIZE(sn->buf)];

			if (i != 0)
				continue;
			/* "service.*" against "firewall.servce.web": "firewall.service.web". */
			rest = strrchr(sn->word, '.');
			snprintf(buf, sizeof(sn->buf[0]), "%s.%.*s%s", ops->name,
				 (int)strcspn(ops->subsections[s], "*"), ops->subsections[s],
				 strchr(ops->subsections[s], '*') ? (rest ? rest + 1 : "NAME") : "");
			return buf;
		}
	}
	return NULL;
}

/*
 * The error of a section no layer owns, with the closest known one.  Its
 * 8 KB of candidate names are made (and zeroed) only for such a section,
 * in a frame of its own: in the loop's they were zeroed for every header
 * of every policy, on stack pages every run touched.
 */
__attribute__((noinline))
static int section_unknown(const struct policy_header *h, struct policy_errors *errs)
{
	struct section_names sn = { .word = h->name };
	const char *near = policy_suggest(h->name, section_name_at, &sn);

	/* [sysctl.extra]: the layer's own section, if nothing is closer. */
	for (unsigned int l = 0; !near && l < jefe_layers_count; l++) {
		size_t len = strlen(jefe_layers[l]->name);

		if (strncmp(h->name, jefe_layers[l]->name, len) == 0 && h->name[len] == '.')
			near = jefe_layers[l]->name;
	}
	if (near)
		return policy_errors_add(errs, h->file, h->line,
					 "unknown section [%s] (did you mean [%s]?)", h->name, near);
	return policy_errors_add(errs, h->file, h->line, "unknown section [%s]", h->name);
}

int layer_policy_check_sections(const struct policy *policy, struct policy_errors *errs)
{
	int err = 0;

	for (size_t i = 0; !err && i < policy->n_headers; i++) {
		const struct policy_header *h = &policy->headers[i];

		if (!layer_owns_section(h->name))
			err = section_unknown(h, errs);
	}
	return err;
}

/* "did you mean": the table's keys, `mode`, then what the layer knows itself. */
struct key_names {
	const struct policy_key *keys;
	const struct layer_ops *ops;
	bool main;
};

static const char *key_name_at(const void *ctx, size_t i)
{
	const struct key_names *kn = ctx;
	size_t n = 0;

	while (kn->keys && kn->keys[n].name)
		n++;
	if (i < n)
		return kn->keys[i].name;
	i -= n;
	if (kn->main) {
		if (i == 0)
			return "mode";
		i--;
	}
	return kn->ops->free_key_name ? kn->ops->free_key_name(NULL, i) : NULL;
}

/* `mode` is the core's in every layer section. */
static bool layer_mode_valid(const char *value)
{
	static const struct policy_key mode_key =
		PK_MODE("mode", struct policy, mode, NULL, "", "");
	struct policy scratch;
	char why[64];

	return policy_key_parse(&mode_key, value, &scratch, why, sizeof(why)) == 0;
}

/* Every key of the layer's sections is known to a table, to the core or to the layer. */
static int layer_check_keys(const struct layer_ops *ops, const struct policy *policy,
			    struct policy_errors *errs)
{
	/* The entries of a section are mostly adjacent: ask which layer owns
	 * a section once per run of them, not once per key (the subsection
	 * patterns are fnmatch()es; 400 keys times six layers). */
	const char *last_section = NULL;
	const struct layer_ops *last_owner = NULL;
	bool last_sub = false;

	for (size_t i = 0; i < policy->n_entries; i++) {
		const struct policy_entry *e = &policy->entries[i];
		struct key_names kn = { .ops = ops };
		bool sub;
		const char *near;
		int err;

		if (!last_section || strcmp(e->section, last_section) != 0) {
			last_owner = layer_of_section(e->section, &last_sub);
			last_section = e->section;
		}
		sub = last_sub;
		if (last_owner != ops)
			continue;
		kn.main = !sub;
		kn.keys = sub ? ops->sub_keys : ops->keys;
		if (!sub && strcmp(e->key, "mode") == 0) {
			if (layer_mode_valid(e->value))
				continue;
			err = policy_error_at(errs, e, "invalid mode '%s' for [%s]: enforce or report",
					      e->value, e->section);
		} else if (policy_key_find(kn.keys, e->key) ||
			   (ops->free_key && ops->free_key(e->section, e->key))) {
			continue;
		} else if ((near = policy_suggest(e->key, key_name_at, &kn))) {
			err = policy_error_at(errs, e, "unknown key '%s' in [%s] (did you mean '%s'?)",
					      e->key, e->section, near);
		} else {
			err = policy_error_at(errs, e, "unknown key '%s' in [%s]", e->key, e->section);
		}
		if (err)
			return err;
	}
	return 0;
}

int layer_load(const struct layer_ops *ops, void **state, const struct jefe_env *env,
	       const struct policy *policy, struct policy_errors *errs)
{
	size_t errs_before = errs->n;
	void *settings;
	int err;

	*state = NULL;
	err = layer_check_keys(ops, policy, errs);
	if (err)
		return err;
	settings = calloc(1, ops->settings_size ? ops->settings_size : 1);
	if (!settings)
		return -ENOMEM;
	err = policy_keys_load(policy, ops->name, ops->keys, settings, errs);
	if (err == -ENOMEM) {
		free(settings);
		return err;
	}
	/*
	 * A run that checks or applies other layers only (`jefe status
	 * --layer sysctl`) validates this one's keys and values with the core
	 * and stops there: the layer's own load (reading every sysctl name
	 * below /proc/sys, parsing the audit rules file, asking ssh -Q) is
	 * for the layers the run is about.  The daemon and `jefe policy
	 * check` select every layer.
	 */
	if (!layer_mask_selects(env->only, ops->name)) {
		free(settings);
		err = errs->n > errs_before ? -JEFE_EPOLICY : 0;
		goto sort;
	}
	/* Also with a bad value: the layer reports its own errors too. */
	err = ops->load(state, env, policy, settings, errs);
	free(settings);
	if (!err && errs->n > errs_before) {
		if (*state)
			ops->free(*state);
		*state = NULL;
		err = -JEFE_EPOLICY;
	}
sort:
	/* The core's errors and the layer's, read top to bottom. */
	if (errs->n > errs_before && policy_errors_sort(errs, policy) == -ENOMEM)
		err = -ENOMEM;
	return err;
}

_Static_assert(LAYER_MAX <= 32, "a layer mask has 32 bits");

bool layer_mask_has(uint32_t mask, unsigned int i)
{
	return mask == 0 || (i < 32 && (mask & LAYER_BIT(i)) != 0);
}

uint32_t layer_mask_valid(void)
{
	return jefe_layers_count >= 32 ? UINT32_MAX : LAYER_BIT(jefe_layers_count) - 1;
}

int layer_mask_parse(const char *list, uint32_t *mask, char *bad, size_t bad_size)
{
	uint32_t m = 0;
	const char *p = list;

	for (;;) {
		size_t n = strcspn(p, ",");
		unsigned int i;

		for (i = 0; i < jefe_layers_count; i++)
			if (strlen(jefe_layers[i]->name) == n && strncmp(jefe_layers[i]->name, p, n) == 0)
				break;
		if (n == 0 || i == jefe_layers_count) {
			snprintf(bad, bad_size, "%.*s", (int)n, p);
			return n == 0 ? -EINVAL : -ENOENT;
		}
		m |= LAYER_BIT(i);
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	*mask |= m;
	return 0;
}

int layer_mask_names(uint32_t mask, char *buf, size_t size)
{
	size_t o = 0;

	if (size == 0)
		return -ENOBUFS;
	buf[0] = '\0';
	if (mask == 0)
		return snprintf(buf, size, "all") < (int)size ? 0 : -ENOBUFS;
	for (unsigned int i = 0; i < jefe_layers_count; i++) {
		int n;

		if (!(mask & LAYER_BIT(i)))
			continue;
		n = snprintf(buf + o, size - o, "%s%s", o ? "," : "", jefe_layers[i]->name);
		if (n < 0 || (size_t)n >= size - o)
			return -ENOBUFS;
		o += (size_t)n;
	}
	return 0;
}

bool layer_mask_selects(uint32_t mask, const char *name)
{
	for (unsigned int i = 0; i < jefe_layers_count; i++)
		if (strcmp(jefe_layers[i]->name, name) == 0)
			return layer_mask_has(mask, i);
	return false;
}

const char *layer_suggest(const char *name)
{
	struct str_suggest s = { 0 };

	for (unsigned int i = 0; i < jefe_layers_count; i++)
		str_suggest_consider(&s, name, jefe_layers[i]->name);
	return s.best;
}

uint32_t layer_set_unloaded(const struct layer_set *set, uint32_t mask)
{
	uint32_t missing = 0;

	for (unsigned int i = 0; i < jefe_layers_count; i++)
		if ((mask & LAYER_BIT(i)) && set->state[i] == NULL)
			missing |= LAYER_BIT(i);
	return missing;
}

int layer_unloaded_message(const struct policy *policy, uint32_t missing, char *buf, size_t size)
{
	char names[256];
	size_t o;
	int n, err = layer_mask_names(missing, names, sizeof(names));

	if (err)
		return err;
	if (strchr(names, ','))
		n = snprintf(buf, size, "layers %s are not in the policy: none of its files has"
			     " their sections; files read:", names);
	else
		n = snprintf(buf, size, "layer %s is not in the policy: no [%s] section in any"
			     " of its files; files read:", names, names);
	if (n < 0 || (size_t)n >= size)
		return -ENOBUFS;
	o = (size_t)n;
	for (size_t i = 0; i < policy->n_files; i++) {
		n = snprintf(buf + o, size - o, " %s", policy->files[i]);
		if (n < 0 || (size_t)n >= size - o)
			return -ENOBUFS;
		o += (size_t)n;
	}
	return 0;
}

int layer_set_load(struct layer_set *set, const struct jefe_env *env,
		   const struct policy *policy, struct policy_errors *errs)
{
	size_t errs_before;
	int first_err = 0;

	memset(set, 0, sizeof(*set));
	set->env = env;
	errs_before = errs->n;
	first_err = layer_policy_check_sections(policy, errs);
	if (first_err == -ENOMEM)
		return first_err;
	if (first_err == 0 && errs->n > errs_before)
		first_err = -JEFE_EPOLICY;
	/* Every layer gets to report its errors, not just the first one. */
	for (unsigned int i = 0; i < jefe_layers_count; i++) {
		const struct layer_ops *ops = jefe_layers[i];
		int err;

		/* A layer the policy does not mention stays off (state NULL). */
		if (!policy_has_layer(policy, ops->name))
			continue;
		err = layer_load(ops, &set->state[i], env, policy, errs);
		set->mode[i] = policy_layer_mode(policy, ops->name);
		if (err && !first_err)
			first_err = err;
		if (err == -ENOMEM)
			break;
	}
	if (first_err) {
		layer_set_free(set);
		return first_err;
	}
	return 0;
}

void layer_set_free(struct layer_set *set)
{
	for (unsigned int i = 0; i < jefe_layers_count; i++) {
		if (set->state[i])
			jefe_layers[i]->free(set->state[i]);
		set->state[i] = NULL;
	}
}

int layer_policy_path(const struct jefe_env *env, const char *value, char **out)
{
	const char *dir = env->policy_dir ? env->policy_dir : POLICY_DIR;

	if (!*value || strstr(value, ".."))
		return -EINVAL;
	if (value[0] == '/')
		*out = strdup(value);
	else if (asprintf(out, "%s/%s", strcmp(dir, "/") ? dir : "", value) < 0)
		*out = NULL;
	return *out ? 0 : -ENOMEM;
}

int layer_policy_load(struct policy **policy, struct layer_set *set,
		      const struct jefe_env *env, const char *main_file,
		      char *const *files, size_t n_files, struct policy_errors *errs)
{
	struct policy *p = NULL;
	int err, layer_err;

	memset(set, 0, sizeof(*set));
	if (n_files > 0)
		err = policy_load_files(&p, files, n_files, errs);
	else
		err = policy_load(&p, env->root_fd, env->root, main_file, errs);
	if (!p)
		return err;
	layer_err = layer_set_load(set, env, p, errs);
	if (!err)
		err = layer_err;
	if (err) {
		if (!layer_err)
			layer_set_free(set);
		/* Read top to bottom: file by file, line by line. */
		if (policy_errors_sort(errs, p) == -ENOMEM)
			err = -ENOMEM;
		policy_free(p);
		return err;
	}
	*policy = p;
	return 0;
}

/* ---- policy show ---- */

static void show_table(const struct policy *p, const char *section,
		       const struct policy_key *keys, FILE *out)
{
	for (const struct policy_key *k = keys; k && k->name; k++) {
		const struct policy_entry *e = policy_get(p, section, k->name);

		if (e)
			policy_show_line(out, e->key, e->value, e->file, e->line);
		else if (k->default_value)
			policy_show_line(out, k->name, k->default_value, NULL, 0);
		else
			fprintf(out, "# %s: not set\n", k->name);
	}
}

/* Keys of section no table has, in the order they were first set. */
static void show_free(const struct policy *p, const char *section,
		      const struct policy_key *keys, bool main, FILE *out)
{
	size_t it = 0;
	const struct policy_entry *e;

	while ((e = policy_next(p, section, &it)))
		if (!policy_key_find(keys, e->key) && !(main && strcmp(e->key, "mode") == 0))
			policy_show_line(out, e->key, e->value, e->file, e->line);
}

int layer_policy_show(const struct policy *p, FILE *out)
{
	policy_show_header(p, out);
	fprintf(out, "\n[agent]\n");
	show_table(p, "agent", policy_agent_keys, out);
	for (unsigned int l = 0; l < jefe_layers_count; l++) {
		const struct layer_ops *ops = jefe_layers[l];
		const struct policy_entry *mode;
		struct strv subs = { 0 };

		if (!policy_has_layer(p, ops->name)) {
			fprintf(out, "\n# [%s]: not in the policy, the layer is off\n", ops->name);
			continue;
		}
		fprintf(out, "\n[%s]\n", ops->name);
		mode = policy_get(p, ops->name, "mode");
		if (mode)
			policy_show_line(out, "mode", mode->value, mode->file, mode->line);
		else
			fprintf(out, "mode = %s\t# default: [agent] mode\n",
				policy_mode_name(p->mode));
		show_table(p, ops->name, ops->keys, out);
		show_free(p, ops->name, ops->keys, true, out);
		/* Its subsections, in the order first seen. */
		for (size_t i = 0; i < p->n_headers; i++) {
			const char *s = p->headers[i].name;
			size_t len = strlen(ops->name);

			if (strncmp(s, ops->name, len) == 0 && s[len] == '.' &&
			    !strv_contains(&subs, s) && strv_push(&subs, s))
				break;
		}
		for (size_t i = 0; i < subs.n; i++) {
			fprintf(out, "\n[%s]\n", subs.v[i]);
			show_table(p, subs.v[i], ops->sub_keys, out);
			show_free(p, subs.v[i], ops->sub_keys, false, out);
		}
		strv_free(&subs);
	}
	return ferror(out) ? -EIO : 0;
}

/* A layer that could not run at all still shows up, as one error item. */
static int layer_add_failure(struct findings *out, const char *layer, const char *verb, int err)
{
	char note[256];

	snprintf(note, sizeof(note), "%s failed: %s", verb, jefe_strerror(err));
	return findings_add(out, &(struct finding){
		.layer = layer,
		.item = "layer",
		.state = FINDING_ERROR,
		.note = note,
	});
}

int layer_set_check(struct layer_set *set, uint32_t only, struct findings *out)
{
	for (unsigned int i = 0; i < jefe_layers_count; i++) {
		const struct layer_ops *ops = jefe_layers[i];
		int err;

		if (!layer_mask_has(only, i) || !set->state[i])
			continue;
		err = ops->check(set->state[i], out);
		if (err == -ENOMEM)
			return err;
		if (err) {
			err = layer_add_failure(out, ops->name, "check", err);
			if (err)
				return err;
		}
	}
	/*
	 * A full status also says whether the services around the agent run
	 * (OpenRC's state, through librc).  That state belongs to the running
	 * system, so only for the real root, never for a tree under --root.
	 */
	if (only == 0 && set->env && set->env->is_host)
		return services_status(out);
	return 0;
}

int layer_set_apply(struct layer_set *set, uint32_t only, bool dry_run,
		    bool enforce_only, struct findings *out)
{
	for (unsigned int i = 0; i < jefe_layers_count; i++) {
		const struct layer_ops *ops = jefe_layers[i];
		bool report_only = enforce_only && set->mode[i] != POLICY_MODE_ENFORCE;
		int err;

		if (!layer_mask_has(only, i) || !set->state[i])
			continue;
		if (report_only)
			err = ops->check(set->state[i], out);
		else
			err = ops->apply(set->state[i], dry_run, out);
		if (err == -ENOMEM)
			return err;
		if (err) {
			err = layer_add_failure(out, ops->name, report_only ? "check" : "apply", err);
			if (err)
				return err;
		}
	}
	return 0;
}
