/* SPDX-License-Identifier: MIT */
/* The files layer's baseline reader (sha256sum format) and its perms values. */
#include "fuzz.h"
#include "layer_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	struct files_baseline b = { 0 };
	struct files_perm_spec spec;

	if (files_baseline_parse(text, &b) == 0) {
		for (size_t i = 0; i < b.paths.n; i++)
			(void)files_baseline_get(&b, b.paths.v[i]);
		files_baseline_free(&b);
	}
	(void)files_perm_parse(text, &spec);
	free(text);
	return 0;
}
