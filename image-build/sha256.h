/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 for cache keys and the ISO's checksum: libmd does the digest;
 * this adds the two things the pipeline needs on top of it.
 */
#ifndef IB_SHA256_H
#define IB_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include <sha2.h>

#define SHA256_LEN SHA256_DIGEST_LENGTH

struct sha256 {
	SHA2_CTX ctx;
};

void sha256_init(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *data, size_t len);
void sha256_final(struct sha256 *h, uint8_t out[SHA256_LEN]);
/* A string with its terminating NUL, so "ab","c" and "a","bc" differ. */
void sha256_update_str(struct sha256 *h, const char *s);
void sha256_hex(const uint8_t md[SHA256_LEN], char out[2 * SHA256_LEN + 1]);

#endif
