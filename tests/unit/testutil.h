/* SPDX-License-Identifier: MIT */
/* Helpers for unit tests: temporary trees and files. */
#ifndef JEFE_TESTUTIL_H
#define JEFE_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>

#include "finding.h"
#include "policy.h"

/*
 * Where the tests put the policy below their temporary roots: the
 * installed system's paths, whatever configure's --sysconfdir says (make
 * distcheck configures another prefix).  The tests pass them explicitly;
 * the compiled-in defaults (POLICY_MAIN_FILE, POLICY_DIR) are the CLI's.
 */
#define TU_POLICY_DIR	"/etc/jefe"
#define TU_MAIN_FILE	TU_POLICY_DIR "/jefe.conf"

/* mkdtemp under $TMPDIR; the caller removes it with tu_rmtree. */
char *tu_mkdtemp(void);
void tu_rmtree(const char *dir);
/* Write a file below dir, creating parent directories. */
void tu_write(const char *dir, const char *rel, const char *content);
/* Read a file below dir into a static buffer ("" when missing). */
const char *tu_read(const char *dir, const char *rel);

/* The finding for item; fails the test, listing what there is, when absent. */
const struct finding *tu_finding(const struct findings *fs, const char *item);
/* Is one of the errors exactly msg / does one contain needle?  When not,
 * every error is printed, so a failing assertion shows what was said. */
bool tu_error_is(const struct policy_errors *errs, const char *msg);
bool tu_error_contains(const struct policy_errors *errs, const char *needle);

#endif
