/* crypto.h — hashing primitives over mbedtls (kept here so a move to mbedtls 3.x touches one
 * file). Constant-time comparison for secrets. */
#ifndef SLOTD_CORE_CRYPTO_H
#define SLOTD_CORE_CRYPTO_H

#include <stddef.h>

void crypto_sha256(const void *data, size_t len, unsigned char out[32]);
/* Lower-case hex SHA-256 into out (65 bytes). */
void crypto_sha256_hex(const void *data, size_t len, char out[65]);
void crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len, unsigned char out[32]);
/* 1 if equal; time depends only on n. */
int crypto_equal(const void *a, const void *b, size_t n);

#endif
