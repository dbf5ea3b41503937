/* SPDX-License-Identifier: MIT */
/*
 * The core's side of the layer interface: finding layers and sections,
 * loading a whole set from one policy, and running check/apply over it.
 */
#include <errno.h>
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

bool layer_owns_section(const char *section)
{
	if (strcmp(section, "agent") == 0)
		return true;
	for (unsigned int i = 0; i < jefe_layers_count; i++) {
		const char *name = jefe_layers[i]->name;
		size_t len = strlen(name);

		if (strncmp(section, name, len) != 0)
			continue;
		if (section[len] == '\0')
			return true;
		if (section[len] == '.' && section[len + 1] != '\0' && jefe_layers[i]->subsections)
			return true;
	}
	return false;
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
	int first_err = 0;

	memset(set, 0, sizeof(*set));
	set->env = env;
	/* Every layer gets to report its errors, not just the first one. */
	for (unsigned int i = 0; i < jefe_layers_count; i++) {
		const struct layer_ops *ops = jefe_layers[i];
		int err;

		/* A layer the policy does not mention stays off (state NULL). */
		if (!policy_has_layer(policy, ops->name))
			continue;
		err = ops->load(&set->state[i], env, policy, errs);
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
		policy_free(p);
		return err;
	}
	*policy = p;
	return 0;
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
