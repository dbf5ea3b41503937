/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "sha256.h"

void sha256_init(struct sha256 *h)
{
	SHA256Init(&h->ctx);
}

void sha256_update(struct sha256 *h, const void *data, size_t len)
{
	SHA256Update(&h->ctx, data, len);
}

void sha256_final(struct sha256 *h, uint8_t out[SHA256_LEN])
{
	SHA256Final(out, &h->ctx);
}

void sha256_update_str(struct sha256 *h, const char *s)
{
	sha256_update(h, s ? s : "", strlen(s ? s : "") + 1);
}

void sha256_hex(const uint8_t md[SHA256_LEN], char out[2 * SHA256_LEN + 1])
{
	for (int i = 0; i < SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}
