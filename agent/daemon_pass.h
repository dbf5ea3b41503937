/* SPDX-License-Identifier: MIT */
/*
 * jefe-setup's passes (daemon_pass.c): check layers, repair the ones in
 * enforce mode, log each change once, and keep each layer's latest
 * findings in struct daemon (`last`, `last_at`).
 */
#ifndef JEFE_DAEMON_PASS_H
#define JEFE_DAEMON_PASS_H

#include <stdbool.h>

#include "daemon.h"
#include "finding.h"
#include "policy.h"

/* The layer's own mode, or the policy's when the layer inherits it. */
enum policy_mode daemon_layer_mode(const struct daemon *d, unsigned int i);
/*
 * Every layer; force_apply (start, reload) applies enforce-mode layers
 * even when their check found nothing.  Publishes the result.
 */
int daemon_pass_all(struct daemon *d, bool force_apply, enum daemon_verified how);
/* The same for the layers of the mask `only` (layer_mask_has()). */
int daemon_pass_layers(struct daemon *d, uint32_t only, bool force_apply,
		       enum daemon_verified how);
/* The layers an event (or an enforce) marked dirty; nothing when none is. */
int daemon_pass_dirty(struct daemon *d);
/*
 * The debounce timer fired: the dirty layers that are due
 * (daemon_layer_due()), cheapest first, with the events queued meanwhile
 * taken between two layers.
 */
int daemon_pass_due(struct daemon *d);
/*
 * The live state: append each selected layer's latest findings, as its
 * latest pass left them (`last`, checked at `last_at`, by `verified_by`).
 */
int daemon_state_findings(const struct daemon *d, uint32_t only, struct findings *out);
/* Is any item being fought over now (daemon_fights_mark() would mark it)? */
bool daemon_fights_any(const struct daemon *d);
/* Mark the findings of a status reply whose item is being fought over. */
void daemon_fights_mark(struct daemon *d, struct findings *fs);
/*
 * Passes of layers that run programs, in child processes
 * (layer_ops.runs_programs): is one under way for layer i; wait for it
 * (or for all) here and record it; its output is ready (the loop's
 * EV_WORKER); kill and record the ones past their deadline, returning
 * the milliseconds until the next deadline (-1: none) or -ENOMEM.
 */
bool daemon_worker_busy(const struct daemon *d, unsigned int i);
int daemon_worker_wait(struct daemon *d, unsigned int i);
int daemon_workers_wait(struct daemon *d);
int daemon_worker_ready(struct daemon *d, unsigned int i);
int daemon_workers_expire(struct daemon *d);
/* Free the latest findings, logged drift and fights. */
void daemon_pass_fini(struct daemon *d);

#endif
