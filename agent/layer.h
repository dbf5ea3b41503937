/* SPDX-License-Identifier: MIT */
/*
 * The one interface every hardening layer implements.
 *
 * A layer keeps its desired state in a private object made by load() from
 * the policy.  The core makes a fresh set of layer objects for each policy
 * it loads and only swaps them in when every layer accepted it, so a bad
 * reload never leaves a layer half-configured.
 *
 * `jefe status` and the daemon both call check(); `jefe enforce` and the
 * daemon's repair both call apply().  One code path per verb.
 */
#ifndef JEFE_LAYER_H
#define JEFE_LAYER_H

#include <stdbool.h>
#include <stdint.h>

#include "finding.h"
#include "policy.h"

/* What every layer gets to know about its surroundings. */
struct jefe_env {
	const char *root;	/* "/" on a host, a temporary tree in tests */
	int root_fd;		/* O_DIRECTORY fd of root */
	/* Directory of the main policy file, below root: relative paths in
	 * the policy point there (layer_policy_path).  NULL: POLICY_DIR. */
	const char *policy_dir;
	/*
	 * Set by the daemon around its own repair pass: nobody is there to
	 * review, so a layer must not accept anything only an admin may
	 * (a new file in a baselined directory).  `jefe enforce` clears it.
	 */
	bool unattended;
	/*
	 * The layers this run checks or applies, as the layer mask
	 * layer_set_check() takes (0: all).  load() validates every layer's
	 * policy, but what needs an external program (the sshd layer's
	 * `ssh -Q`) only for these: `jefe status --layer sysctl` runs no ssh.
	 */
	uint32_t only;
	/*
	 * This process loads the policy to check it once, right after, and
	 * exits (`jefe --direct status`): a layer may hand that one check
	 * what its load has just read of the system (the sysctl values its
	 * validation reads) instead of reading it a second time.  The
	 * daemon, whose checks come later, and every apply leave it false.
	 */
	bool single_check;
	/*
	 * The fuzz harnesses' seam: what `ssh -Q query` prints (malloc'ed
	 * into *out, 0 or -errno), so no program runs per input.  NULL, as
	 * everywhere else: the sshd layer runs ssh_path -Q.
	 */
	int (*ssh_query)(const char *query, char **out);
	/*
	 * The root is this running host's "/" (jefe_env_init decides it once):
	 * only then may a layer touch kernel-wide state (audit), OpenRC or
	 * running daemons.  Every layer asks this field, never the spelling
	 * of root.
	 */
	bool is_host;
};

/* Fill env for root (its O_DIRECTORY fd) and decide is_host.  0 or -errno. */
int jefe_env_init(struct jefe_env *env, const char *root, int root_fd, const char *policy_dir);
/* The daemon's socket below root (IPC_SOCKET_PATH): the one join of it. */
int jefe_socket_path(char *buf, size_t size, const char *root);

/*
 * A path given in the policy, as a path below root: absolute paths stay,
 * relative ones ("audit.rules") are taken from env->policy_dir, so a
 * policy and its companion files move together (an installed copy under
 * another --root, or the source tree's policies/).  -EINVAL for "" or "..".
 */
int layer_policy_path(const struct jefe_env *env, const char *value, char **out);

/* Event sources a layer hands the daemon's epoll loop. */
#define WATCH_MAX_FDS 16
struct watch_set {
	int fds[WATCH_MAX_FDS];
	uint32_t events[WATCH_MAX_FDS];
	unsigned int n;
};
int watch_set_add(struct watch_set *ws, int fd, uint32_t events);

struct inotify_event;

/*
 * Drain a non-blocking inotify fd, as most layers' on_event() does.  With
 * each == NULL every event asks for a re-check; otherwise each() sees every
 * event (it may re-arm a watch) and returns true when the event is a change
 * worth a re-check.  Returns 0 or -errno.
 */
int layer_inotify_drain(int fd, bool (*each)(void *ctx, const struct inotify_event *ev),
			void *ctx, bool *recheck);

struct layer_ops {
	const char *name;	/* "sysctl"; also its policy section */
	const char *title;	/* "kernel parameters", for humans */

	/*
	 * The keys of [name], one table line each (policy.h): the core
	 * rejects keys no table has, parses and validates the values, applies
	 * the defaults into a settings struct of settings_size bytes and hands
	 * it to load().  `mode` is the core's and in no table.
	 */
	const struct policy_key *keys;
	size_t settings_size;
	/*
	 * Subsections the layer takes as fnmatch patterns after "name.",
	 * NULL-terminated ("service.*" for [firewall.service.web], "perms"
	 * for [files.perms]), and the key table of those sections.
	 */
	const char *const *subsections;
	const struct policy_key *sub_keys;
	/*
	 * Free-form keys, read by the layer's own parser: true when the layer
	 * takes key in section although no table has it (sysctl names,
	 * sshd_config keywords, the paths of [files.perms]).  NULL: none.
	 * free_key_name lists the free names the layer knows, for "did you
	 * mean" (ctx unused; NULL at the end), and may be NULL.
	 */
	bool (*free_key)(const char *section, const char *key);
	const char *(*free_key_name)(const void *ctx, size_t i);

	/*
	 * Build the desired state from the policy and the validated settings
	 * (the struct keys describes): validate what is the layer's own (its
	 * free-form keys, how settings combine), adding every problem to errs
	 * with its file and line.  Returns 0 with *state set, or
	 * -JEFE_EPOLICY when errs got entries, or -errno.  Must not touch the
	 * system.  Called through layer_load().
	 */
	int (*load)(void **state, const struct jefe_env *env,
		    const struct policy *policy, const void *settings,
		    struct policy_errors *errs);

	/* Read-only: compare the system with the desired state. */
	int (*check)(void *state, struct findings *out);

	/*
	 * Bring the system to the desired state, all or nothing where the
	 * target allows it, and report each item with its action.  With
	 * dry_run, report FINDING_ACTION_WOULD_REPAIR and change nothing.
	 */
	int (*apply)(void *state, bool dry_run, struct findings *out);

	/* Optional: add fds the daemon should poll for this layer. */
	int (*watch)(void *state, struct watch_set *ws);

	/*
	 * Optional: an fd from watch() is ready.  Drain it and set *recheck
	 * when the layer should be checked again (the core debounces).
	 */
	int (*on_event)(void *state, int fd, uint32_t events, bool *recheck);

	void (*free)(void *state);

	/*
	 * check() and apply() run external programs (the sshd layer's `sshd
	 * -T`, `sshd -t`, its reload through OpenRC), which take tens of
	 * milliseconds to seconds: the daemon runs this layer's passes in a
	 * child process and reads their findings from a pipe in its loop, so
	 * the other layers' events are handled meanwhile (child.h).  Such a
	 * layer keeps nothing in memory that a pass must hand to the next one
	 * (the sshd layer's answers live in its cache file).
	 */
	bool runs_programs;
};

/* The explicit table of layers, in apply order (layers.c). */
extern const struct layer_ops *const jefe_layers[];
extern const unsigned int jefe_layers_count;

const struct layer_ops *layer_find(const char *name);

/*
 * Which layers a command is about: one bitmask of indices into
 * jefe_layers, the same from the command line through the socket to the
 * daemon.  0 selects every layer the policy loads; a set bit names that
 * layer, which the policy must then configure (layer_set_unloaded).
 */
#define LAYER_BIT(i) (UINT32_C(1) << (i))
bool layer_mask_has(uint32_t mask, unsigned int i);
/* Every bit that names a layer of the table. */
uint32_t layer_mask_valid(void);

/*
 * The one parser of layer names: a comma-separated list ("sysctl,firewall")
 * ORed into *mask.  -EINVAL for an empty name (",sysctl"), -ENOENT for an
 * unknown one; either way bad (bad_size bytes) receives the offending
 * name ("" for an empty one) and *mask is left alone.
 */
int layer_mask_parse(const char *list, uint32_t *mask, char *bad, size_t bad_size);

/* Names of the layers in mask, comma-separated, into buf ("all" for 0). */
int layer_mask_names(uint32_t mask, char *buf, size_t size);

/* Does mask select the layer called name (0 selects every layer)? */
bool layer_mask_selects(uint32_t mask, const char *name);

/* The closest layer name to a mistyped one, or NULL ("did you mean"). */
const char *layer_suggest(const char *name);

/* True for "agent", a layer's "name", and "name.<sub>" of a subsection it takes. */
bool layer_owns_section(const char *section);

/*
 * Load one layer as the core does: reject keys of its sections that
 * neither a table nor its own parser knows ("did you mean"), validate
 * `mode`, parse its table into its settings with defaults, and call its
 * load().  Returns as load().
 */
int layer_load(const struct layer_ops *ops, void **state, const struct jefe_env *env,
	       const struct policy *policy, struct policy_errors *errs);

/* Report every [section] header no layer owns, with "did you mean". */
int layer_policy_check_sections(const struct policy *policy, struct policy_errors *errs);

/*
 * `jefe policy show`: the merged policy as INI, [agent] then each layer
 * in apply order, every key of the tables with its value and where it was
 * set, or "# default"; free-form keys and subsections after them.
 */
int layer_policy_show(const struct policy *policy, FILE *out);

/* A loaded set: one state per layer in the table. */
#define LAYER_MAX 16
struct layer_set {
	void *state[LAYER_MAX];
	enum policy_mode mode[LAYER_MAX];
	const struct jefe_env *env;
};

/*
 * The layers of mask the policy does not configure (not loaded), as a
 * mask: asking for a layer that is not there is an error, never an empty
 * and therefore "compliant" report.
 */
uint32_t layer_set_unloaded(const struct layer_set *set, uint32_t mask);
/* "layer audit is not in the policy (files read: A, B)" for the layers of missing. */
int layer_unloaded_message(const struct policy *policy, uint32_t missing, char *buf, size_t size);

/* Load every layer from policy; on any error nothing is kept. */
int layer_set_load(struct layer_set *set, const struct jefe_env *env,
		   const struct policy *policy, struct policy_errors *errs);
void layer_set_free(struct layer_set *set);

/*
 * The one way to get a usable policy: parse it (the default files below
 * env->root, main_file if not NULL, or exactly `files` when n_files > 0),
 * then let every layer validate it, so all errors of the core and of every
 * layer are reported together.  Returns 0 with *policy and *set ready, or
 * -JEFE_EPOLICY with errs filled and nothing kept, or -errno.
 */
int layer_policy_load(struct policy **policy, struct layer_set *set,
		      const struct jefe_env *env, const char *main_file,
		      char *const *files, size_t n_files, struct policy_errors *errs);

/*
 * Run check or apply on every loaded layer (or only those in the mask
 * `only`; a selected layer the policy does not configure is skipped, so
 * callers refuse such a request first with layer_set_unloaded).
 * A check of all layers on the real root also reports the OpenRC
 * services around the agent (services.h, layer "services").
 * A layer that fails adds an error finding and the others carry on; the
 * return value is 0 unless something fatal (-ENOMEM) happened.
 * enforce_only: apply only the layers whose mode is enforce (the daemon);
 * `jefe enforce` applies whatever it is asked.
 */
int layer_set_check(struct layer_set *set, uint32_t only, struct findings *out);
int layer_set_apply(struct layer_set *set, uint32_t only, bool dry_run,
		    bool enforce_only, struct findings *out);

#endif
