/* SPDX-License-Identifier: MIT */
/*
 * Shared by the libFuzzer harnesses: each defines LLVMFuzzerTestOneInput
 * and turns the input into what its parser takes.  No harness runs a
 * program or touches the host outside a temporary directory of its own.
 */
#ifndef JEFE_FUZZ_H
#define JEFE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (parsers take C strings); free() it. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
