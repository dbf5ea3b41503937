/* SPDX-License-Identifier: MIT */
/*
 * The service status of `jefe status` against a fake OpenRC state (the
 * real librc reads the host's /etc/runlevels and /run/openrc; tests/vm
 * checks it under a booted OpenRC).
 */
#include <rc.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "services.h"

/* The fake system: one line per service. */
struct fake_svc {
	const char *name;
	const char *runlevel;
	unsigned int state;
};

static const struct fake_svc *fake;
static size_t fake_n;
static bool fake_booted;

static const struct fake_svc *fake_find(const char *name)
{
	for (size_t i = 0; i < fake_n; i++)
		if (strcmp(fake[i].name, name) == 0)
			return &fake[i];
	return NULL;
}

static bool f_booted(void) { return fake_booted; }
static bool f_exists(const char *s) { return fake_find(s) != NULL; }
static bool f_in_runlevel(const char *s, const char *rl)
{
	const struct fake_svc *f = fake_find(s);

	return f && f->runlevel && strcmp(f->runlevel, rl) == 0;
}
static RC_SERVICE f_state(const char *s)
{
	const struct fake_svc *f = fake_find(s);

	return f ? f->state : RC_SERVICE_STOPPED;
}

static const struct services_probe probe = {
	.openrc_booted = f_booted,
	.exists = f_exists,
	.in_runlevel = f_in_runlevel,
	.state = f_state,
};

static const struct finding *find(const struct findings *fs, const char *item)
{
	return tu_finding(fs, item);
}

static void test_not_openrc(void **state)
{
	struct findings fs = { 0 };

	(void)state;
	fake_booted = false;
	fake_n = 0;
	assert_int_equal(services_status_probe(&probe, &fs), 0);
	assert_int_equal(fs.n, 1);
	assert_string_equal(fs.v[0].layer, "services");
	assert_string_equal(fs.v[0].item, "openrc");
	assert_int_equal(fs.v[0].state, FINDING_UNSUPPORTED);
	findings_free(&fs);
}

static void test_all_good(void **state)
{
	static const struct fake_svc sys[] = {
		{ "jefe-boot", "boot", RC_SERVICE_STARTED },
		{ "jefe", "default", RC_SERVICE_STARTED },
		{ "sshd", "default", RC_SERVICE_STARTED },
		{ "auditd", "default", RC_SERVICE_STARTED },
	};
	struct findings fs = { 0 };

	(void)state;
	fake = sys;
	fake_n = 4;
	fake_booted = true;
	assert_int_equal(services_status_probe(&probe, &fs), 0);
	assert_int_equal(fs.n, 4);
	for (size_t i = 0; i < fs.n; i++)
		assert_int_equal(fs.v[i].state, FINDING_COMPLIANT);
	assert_string_equal(find(&fs, "jefe-boot")->actual, "in boot, started");
	assert_string_equal(find(&fs, "jefe")->expected, "in default, started");
	findings_free(&fs);
}

static void test_drift(void **state)
{
	static const struct fake_svc sys[] = {
		{ "jefe-boot", "default", RC_SERVICE_STARTED },		/* too late for the firewall */
		{ "jefe", "default", RC_SERVICE_STARTED | RC_SERVICE_CRASHED },
		{ "ssh", NULL, RC_SERVICE_STOPPED },			/* Debian's name */
	};
	struct findings fs = { 0 };
	const struct finding *x;

	(void)state;
	fake = sys;
	fake_n = 3;
	fake_booted = true;
	assert_int_equal(services_status_probe(&probe, &fs), 0);
	assert_int_equal(fs.n, 4);

	x = find(&fs, "jefe-boot");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_string_equal(x->note, "rc-update add jefe-boot boot");
	x = find(&fs, "jefe");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_string_equal(x->actual, "in default, crashed");
	assert_string_equal(x->note, "rc-service jefe restart");
	x = find(&fs, "ssh");
	assert_int_equal(x->state, FINDING_DRIFT);
	assert_string_equal(x->actual, "not in a runlevel, stopped");
	/* Not ours and not installed: unsupported, not drift. */
	x = find(&fs, "auditd");
	assert_int_equal(x->state, FINDING_UNSUPPORTED);
	assert_string_equal(x->actual, "not installed");
	findings_free(&fs);

	/* Our own service missing is drift. */
	fake_n = 0;
	assert_int_equal(services_status_probe(&probe, &fs), 0);
	assert_int_equal(find(&fs, "jefe")->state, FINDING_DRIFT);
	assert_int_equal(find(&fs, "sshd")->state, FINDING_UNSUPPORTED);
	findings_free(&fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_openrc),
		cmocka_unit_test(test_all_good),
		cmocka_unit_test(test_drift),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
