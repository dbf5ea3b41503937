/* SPDX-License-Identifier: MIT */
/* The `sshd -T` output parser: what sshd prints is read as data, never trusted. */
#include "fuzz.h"
#include "sshd_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	struct sshd_dump d = { 0 };

	if (sshd_dump_parse(&d, text) == 0) {
		(void)sshd_dump_get(&d, "permitrootlogin");
		(void)sshd_dump_get(&d, "ciphers");
		for (size_t i = 0; i < sshd_keywords_count; i++) {
			const char *v = sshd_dump_get(&d, sshd_keywords[i].name);

			if (v)
				(void)sshd_value_equal(&sshd_keywords[i], v, v);
		}
	}
	sshd_dump_free(&d);
	free(text);
	return 0;
}
