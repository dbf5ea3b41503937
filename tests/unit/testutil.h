/* SPDX-License-Identifier: MIT */
/* Helpers for unit tests: temporary trees and files. */
#ifndef JEFE_TESTUTIL_H
#define JEFE_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

/* mkdtemp under $TMPDIR; the caller removes it with tu_rmtree. */
char *tu_mkdtemp(void);
void tu_rmtree(const char *dir);
/* Write a file below dir, creating parent directories. */
void tu_write(const char *dir, const char *rel, const char *content);
/* Read a file below dir into a static buffer ("" when missing). */
const char *tu_read(const char *dir, const char *rel);

#endif
