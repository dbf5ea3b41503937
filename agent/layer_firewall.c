/* SPDX-License-Identifier: MIT */
/*
 * Layer 3: the nftables firewall, over netlink (libnftnl/libmnl), never by
 * running nft(8).  The agent owns one table, inet jefe, and replaces it
 * whole in one atomic batch; every other table (Docker's) is left alone,
 * and its base chains are reported ([firewall] foreign) but never touched.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "errors.h"
#include "firewall.h"
#include "layer.h"
#include "layers.h"
#include "util.h"

struct fw_layer {
	struct fw_config cfg;
	struct fw_nl tx;	/* dumps and batches; its port id marks our events */
	struct fw_nl ev;	/* NFNLGRP_NFTABLES */
};

static const char *const fw_subsections[] = { "service.*", NULL };

static int fw_layer_load(void **state, const struct jefe_env *env,
			 const struct policy *policy, const void *settings,
			 struct policy_errors *errs)
{
	struct fw_layer *fw = calloc(1, sizeof(*fw));
	int ret;

	(void)env;
	if (!fw)
		return -ENOMEM;
	ret = fw_config_load(&fw->cfg, settings, policy, errs);
	if (ret < 0) {
		free(fw);
		return ret == -ENOMEM ? ret : -JEFE_EPOLICY;
	}
	*state = fw;
	return 0;
}

static int fw_add(struct findings *out, const char *item, const char *expected,
		  const char *actual, const char *note, enum finding_state state,
		  enum finding_action action)
{
	struct finding f = {
		.layer = FW_LAYER,
		.item = item,
		.expected = expected,
		.actual = actual,
		.note = note,
		.state = state,
		.action = action,
	};

	return findings_add(out, &f);
}

/*
 * Open our socket and make sure nf_tables answers.  On failure add the
 * one error finding that says why, so `jefe status` still reports the
 * other layers, and return the error.
 */
static int fw_access(struct fw_layer *fw, struct findings *out)
{
	char note[256];
	int ret = 0;

	if (!fw->tx.nl)
		ret = fw_nl_open(&fw->tx);
	if (ret == 0) {
		ret = fw_nl_probe(&fw->tx);
		if (ret < 0 && ret != -EPERM)
			fw_nl_close(&fw->tx);	/* reopen next time */
	}
	if (ret == 0)
		return 0;
	switch (ret) {
	case -EPERM:
	case -EACCES:
		snprintf(note, sizeof(note),
			 "cannot read the nftables ruleset: %s (needs CAP_NET_ADMIN; run as root)",
			 jefe_strerror(ret));
		break;
	case -EPROTONOSUPPORT:
	case -EAFNOSUPPORT:
	case -EOPNOTSUPP:
	case -EINVAL:
	case -ENOENT:
		snprintf(note, sizeof(note),
			 "the kernel has no nf_tables support (%s): the firewall cannot be checked",
			 jefe_strerror(ret));
		break;
	default:
		snprintf(note, sizeof(note), "nfnetlink: %s", jefe_strerror(ret));
	}
	fw_add(out, "nftables", "table inet " FW_TABLE, NULL, note, FINDING_ERROR,
	       FINDING_ACTION_NONE);
	return ret;
}

/* Dump and compare into out; returns drift count or -errno (with a finding). */
static int fw_check_into(struct fw_layer *fw, struct findings *out)
{
	struct fw_kernel k;
	char note[160];
	int ret;

	ret = fw_nl_dump(&fw->tx, &k, fw->cfg.foreign == FW_FOREIGN_REPORT);
	if (ret < 0) {
		snprintf(note, sizeof(note), "dumping table inet %s: %s", FW_TABLE,
			 jefe_strerror(ret));
		fw_add(out, "table", "table inet " FW_TABLE, NULL, note, FINDING_ERROR,
		       FINDING_ACTION_NONE);
		return ret;
	}
	ret = fw_compare(&fw->cfg, &k, out);
	fw_kernel_free(&k);
	return ret;
}

static int fw_layer_check(void *state, struct findings *out)
{
	struct fw_layer *fw = state;
	int ret;

	if (fw_access(fw, out) < 0)
		return 0;
	ret = fw_check_into(fw, out);
	return ret == -ENOMEM ? ret : 0;
}

int firewall_render(void *state, FILE *out)
{
	struct fw_layer *fw = state;

	return fw_render(&fw->cfg, out);
}

static char *fw_render_string(const struct fw_config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	if (fw_render(cfg, f) < 0) {
		fclose(f);
		free(text);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* jefe never changes another table: its base chains stay drift, cannot-fix. */
static void fw_mark_foreign(struct findings *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		if (fs->v[i].state == FINDING_DRIFT && fw_item_is_foreign(fs->v[i].item))
			fs->v[i].action = FINDING_ACTION_CANNOT_FIX;
}

static const struct finding *fw_find(const struct findings *fs, const char *item)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].item, item) == 0)
			return &fs->v[i];
	return NULL;
}

static int fw_dry_run(struct fw_layer *fw, const struct findings *found, int drift,
		      struct findings *out)
{
	char err[512], summary[96];
	char *text;
	size_t n_rules = 0;
	int ret;

	ret = fw_nl_replace(&fw->tx, &fw->cfg, false, err, sizeof(err));
	for (size_t i = 0; i < found->n; i++) {
		struct finding f = found->v[i];

		if (f.state == FINDING_DRIFT && f.action == FINDING_ACTION_NONE)
			f.action = FINDING_ACTION_WOULD_REPAIR;
		if (findings_add(out, &f) < 0)
			return -ENOMEM;
	}
	if (ret < 0)
		return fw_add(out, "batch", "accepted by the kernel", "refused", err,
			      FINDING_ERROR, FINDING_ACTION_FAILED);
	/* The rendered ruleset, for `jefe enforce --dry-run --layer firewall`:
	 * the findings above are the differences. */
	text = fw_render_string(&fw->cfg);
	if (!text)
		return -ENOMEM;
	for (int c = 0; c < FW_CHAIN_COUNT; c++)
		n_rules += fw->cfg.chains[c].n_rules;
	snprintf(summary, sizeof(summary), "table inet %s: %zu rules, %zu sets, validated by the kernel",
		 FW_TABLE, n_rules, fw->cfg.n_sets);
	ret = fw_add(out, "ruleset", summary, drift ? "differs" : "same", text,
		     drift ? FINDING_DRIFT : FINDING_COMPLIANT,
		     drift ? FINDING_ACTION_WOULD_REPAIR : FINDING_ACTION_NONE);
	free(text);
	return ret;
}

static int fw_layer_apply(void *state, bool dry_run, struct findings *out)
{
	struct fw_layer *fw = state;
	struct findings before = { 0 }, after = { 0 };
	char err[512];
	int drift, ret;

	if (fw_access(fw, out) < 0)
		return 0;
	drift = fw_check_into(fw, &before);
	if (drift < 0) {
		ret = findings_append(out, &before);
		goto out;
	}
	fw_mark_foreign(&before);
	if (dry_run) {
		ret = fw_dry_run(fw, &before, drift, out);
		goto out;
	}
	if (drift == 0) {
		/* nothing to do: no batch, no event for anyone */
		ret = findings_append(out, &before);
		goto out;
	}
	ret = fw_nl_replace(&fw->tx, &fw->cfg, true, err, sizeof(err));
	if (ret < 0) {
		/* the kernel refused the batch: the old ruleset is untouched */
		for (size_t i = 0; i < before.n; i++) {
			struct finding f = before.v[i];

			if (f.state == FINDING_DRIFT && f.action == FINDING_ACTION_NONE)
				f.action = FINDING_ACTION_FAILED;
			if ((ret = findings_add(out, &f)) < 0)
				goto out;
		}
		ret = fw_add(out, "batch", "accepted by the kernel", "refused", err,
			     FINDING_ERROR, FINDING_ACTION_FAILED);
		goto out;
	}
	/* read it back: "repaired" means the kernel now has it */
	ret = fw_check_into(fw, &after);
	if (ret < 0) {
		ret = findings_append(out, &after);
		goto out;
	}
	for (size_t i = 0; i < before.n; i++) {
		struct finding f = before.v[i];
		const struct finding *now = fw_find(&after, f.item);

		if (f.state == FINDING_DRIFT && f.action == FINDING_ACTION_NONE)
			f.action = !now || now->state == FINDING_COMPLIANT ?
				   FINDING_ACTION_REPAIRED : FINDING_ACTION_FAILED;
		if ((ret = findings_add(out, &f)) < 0)
			goto out;
	}
	for (size_t i = 0; i < after.n; i++) {
		struct finding f = after.v[i];

		if (fw_find(&before, f.item))
			continue;
		if (f.state == FINDING_DRIFT)
			f.action = fw_item_is_foreign(f.item) ? FINDING_ACTION_CANNOT_FIX :
				   FINDING_ACTION_FAILED;
		if ((ret = findings_add(out, &f)) < 0)
			goto out;
	}
	ret = 0;
out:
	findings_free(&before);
	findings_free(&after);
	return ret == -ENOMEM ? ret : 0;
}

static int fw_layer_watch(void *state, struct watch_set *ws)
{
	struct fw_layer *fw = state;
	int ret;

	if (!fw->ev.nl) {
		ret = fw_nl_events_open(&fw->ev);
		if (ret < 0)
			return ret;
	}
	/* open the transaction socket now, so the first repair's own events
	 * are already recognised by its port id */
	if (!fw->tx.nl && (ret = fw_nl_open(&fw->tx)) < 0)
		return ret;
	return watch_set_add(ws, fw_nl_fd(&fw->ev), EPOLLIN);
}

static int fw_layer_on_event(void *state, int fd, uint32_t events, bool *recheck)
{
	struct fw_layer *fw = state;

	(void)events;
	if (!fw->ev.nl || fd != fw_nl_fd(&fw->ev))
		return 0;
	return fw_nl_events_drain(&fw->ev, fw->tx.nl ? fw->tx.portid : 0,
				  fw->cfg.foreign == FW_FOREIGN_REPORT, recheck);
}

static void fw_layer_free(void *state)
{
	struct fw_layer *fw = state;

	if (!fw)
		return;
	fw_nl_close(&fw->tx);
	fw_nl_close(&fw->ev);
	fw_config_free(&fw->cfg);
	free(fw);
}

const struct layer_ops layer_firewall_ops = {
	.name = FW_LAYER,
	.title = "nftables firewall",
	.keys = fw_keys,
	.settings_size = sizeof(struct fw_opts),
	.subsections = fw_subsections,
	.sub_keys = fw_service_keys,
	.load = fw_layer_load,
	.check = fw_layer_check,
	.apply = fw_layer_apply,
	.watch = fw_layer_watch,
	.on_event = fw_layer_on_event,
	.free = fw_layer_free,
};
