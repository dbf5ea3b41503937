/* SPDX-License-Identifier: MIT */
/*
 * Service status for `jefe status`.  The agent only reports here: which
 * runlevel a service belongs to is the admin's decision (rc-update), and
 * starting or stopping services is OpenRC's job, not a hardening layer's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "openrc_lib.h"
#include "services.h"
#include "util.h"

struct services_want {
	const char *names[3];	/* the init script's name, with the other bases' spelling */
	const char *runlevel;	/* where it must be */
	bool ours;		/* absent is drift, not "not installed" */
};

static const struct services_want services_wanted[] = {
	/* The firewall and kernel parameters, before any interface is up. */
	{ { "jefe-boot" }, "boot", true },
	/* The daemon, supervised. */
	{ { "jefe" }, "default", true },
	/* Alpine and Gentoo call it sshd, Debian's scripts ssh. */
	{ { "sshd", "ssh" }, "default", false },
	{ { "auditd" }, "default", false },
};

static const char *services_state_name(unsigned int st)
{
	if (st & RC_SERVICE_CRASHED)
		return "crashed";
	if (st & RC_SERVICE_STARTED)
		return "started";
	if (st & RC_SERVICE_STARTING)
		return "starting";
	if (st & RC_SERVICE_STOPPING)
		return "stopping";
	if (st & RC_SERVICE_INACTIVE)
		return "inactive";
	if (st & RC_SERVICE_FAILED)
		return "failed";
	return "stopped";
}

static int services_one(const struct services_probe *p, const struct services_want *w,
			struct findings *out)
{
	static const char *const levels[] = { "sysinit", "boot", "default" };
	const char *name = NULL, *level = NULL;
	char expected[64], actual[96], note[160];
	unsigned int st;
	bool ok;

	for (size_t i = 0; i < ARRAY_SIZE(w->names) && w->names[i]; i++) {
		if (p->exists(w->names[i])) {
			name = w->names[i];
			break;
		}
	}
	snprintf(expected, sizeof(expected), "in %s, started", w->runlevel);
	if (!name) {
		snprintf(note, sizeof(note), "no /etc/init.d/%s", w->names[0]);
		return findings_add(out, &(struct finding){
			.layer = SERVICES_LAYER,
			.item = w->names[0],
			.expected = expected,
			.actual = "not installed",
			.note = note,
			.state = w->ours ? FINDING_DRIFT : FINDING_UNSUPPORTED,
		});
	}
	for (size_t i = 0; i < ARRAY_SIZE(levels); i++) {
		if (p->in_runlevel(name, levels[i])) {
			level = levels[i];
			break;
		}
	}
	st = p->state(name);
	snprintf(actual, sizeof(actual), "%s%s, %s", level ? "in " : "not in a runlevel",
		 level ? level : "", services_state_name(st));
	ok = level && strcmp(level, w->runlevel) == 0 &&
	     (st & RC_SERVICE_STARTED) && !(st & RC_SERVICE_CRASHED);
	note[0] = '\0';
	if (!level || strcmp(level, w->runlevel) != 0)
		snprintf(note, sizeof(note), "rc-update add %s %s", name, w->runlevel);
	else if (!ok)
		snprintf(note, sizeof(note), "rc-service %s %s", name,
			 st & RC_SERVICE_CRASHED ? "restart" : "start");
	return findings_add(out, &(struct finding){
		.layer = SERVICES_LAYER,
		.item = name,
		.expected = expected,
		.actual = actual,
		.note = note[0] ? note : NULL,
		.state = ok ? FINDING_COMPLIANT : FINDING_DRIFT,
	});
}

int services_status_probe(const struct services_probe *p, struct findings *out)
{
	int err = 0;

	if (!p->openrc_booted())
		return findings_add(out, &(struct finding){
			.layer = SERVICES_LAYER,
			.item = "openrc",
			.expected = "booted with OpenRC",
			.actual = "no OpenRC state in " RC_SVCDIR,
			.note = "not an OpenRC system: service status not available",
			.state = FINDING_UNSUPPORTED,
		});
	for (size_t i = 0; !err && i < ARRAY_SIZE(services_wanted); i++)
		err = services_one(p, &services_wanted[i], out);
	return err;
}

/* ---- librc ---- */

static bool librc_booted(void)
{
	/* OpenRC writes the current runlevel here once it has booted. */
	return access(RC_SVCDIR "/softlevel", F_OK) == 0;
}

int services_status(struct findings *out)
{
	struct services_probe librc = { .openrc_booted = librc_booted };
	struct openrc_lib lib;
	char why[256];
	int err;

	/* Not booted with OpenRC: said without loading librc. */
	if (!librc_booted())
		return services_status_probe(&librc, out);
	err = openrc_lib_open(&lib, why, sizeof(why));
	if (err)
		return findings_add(out, &(struct finding){
			.layer = SERVICES_LAYER,
			.item = "openrc",
			.expected = "service status from librc",
			.actual = why,
			.state = FINDING_ERROR,
		});
	librc.exists = lib.service_exists;
	librc.in_runlevel = lib.service_in_runlevel;
	librc.state = lib.service_state;
	err = services_status_probe(&librc, out);
	openrc_lib_close(&lib);
	return err;
}
