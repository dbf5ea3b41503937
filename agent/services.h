/* SPDX-License-Identifier: MIT */
/*
 * `jefe status`'s view of the services around the agent: are the agent's
 * own OpenRC services, sshd and auditd in their runlevels and started?
 * Read through librc, as rc-status(8) does.
 */
#ifndef JEFE_SERVICES_H
#define JEFE_SERVICES_H

#include <rc.h>
#include <stdbool.h>

#include "finding.h"

#define SERVICES_LAYER "services"

/* What the status needs to know about a service; librc in production. */
struct services_probe {
	bool (*openrc_booted)(void);
	bool (*exists)(const char *service);
	bool (*in_runlevel)(const char *service, const char *runlevel);
	RC_SERVICE (*state)(const char *service);	/* RC_SERVICE_* bits */
};

/* One finding per service (layer "services"), from any probe. */
int services_status_probe(const struct services_probe *probe, struct findings *out);

/* The same through librc (loaded only now): the system's OpenRC state. */
int services_status(struct findings *out);

#endif
