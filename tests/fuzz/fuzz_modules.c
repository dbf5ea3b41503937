/* SPDX-License-Identifier: MIT */
/*
 * The modules layer's parsers: /proc/modules, the kernel command line and
 * module names.  The input's first byte picks the parser.
 */
#include "fuzz.h"
#include "layer_modules.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strv out = { 0 };
	char *text, name[256], *rendered = NULL;

	if (size < 1)
		return 0;
	text = fuzz_text(data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		if (modules_loaded_parse(text, &out) == 0 &&
		    modules_blacklist_render(&out, &rendered) == 0)
			free(rendered);
		break;
	case 1:
		if (modules_cmdline_split(text, &out) == 0) {
			const char *word;

			(void)modules_cmdline_satisfies(&out, "lockdown=integrity", &word);
			(void)modules_cmdline_satisfies(&out, "slab_nomerge", &word);
		}
		break;
	default:
		if (modules_name_normalize(text, name, sizeof(name)) == 0)
			(void)modules_name_protected(name);
		break;
	}
	strv_free(&out);
	free(text);
	return 0;
}
