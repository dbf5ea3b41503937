/* SPDX-License-Identifier: MIT */
/*
 * The core's side of the layer interface: finding layers and sections,
 * loading a whole set from one policy, and running check/apply over it.
 */
#include <errno.h>
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

bool layer_selected(const char *only, const char *name)
{
	size_t len = strlen(name);
	const char *p = only;

	if (!only || !*only)
		return true;
	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (n == len && strncmp(p, name, len) == 0)
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

int layer_list_check(const char *only, const char **bad)
{
	char buf[256];
	char *save = NULL, *tok;

	if (!only || !*only)
		return 0;
	if (strlen(only) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, only);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!layer_find(tok)) {
			if (bad) {
				/* Point into the caller's string, not our buffer. */
				*bad = only + (tok - buf);
			}
			return -ENOENT;
		}
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

int layer_set_check(struct layer_set *set, const char *only, struct findings *out)
{
	for (unsigned int i = 0; i < jefe_layers_count; i++) {
		const struct layer_ops *ops = jefe_layers[i];
		int err;

		if (!layer_selected(only, ops->name) || !set->state[i])
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
	if ((!only || !*only) && set->env && strcmp(set->env->root, "/") == 0)
		return services_status(out);
	return 0;
}

int layer_set_apply(struct layer_set *set, const char *only, bool dry_run,
		    bool enforce_only, struct findings *out)
{
	for (unsigned int i = 0; i < jefe_layers_count; i++) {
		const struct layer_ops *ops = jefe_layers[i];
		bool report_only = enforce_only && set->mode[i] != POLICY_MODE_ENFORCE;
		int err;

		if (!layer_selected(only, ops->name) || !set->state[i])
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
