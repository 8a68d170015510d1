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

/* ---- passwords: argon2id, always computed on libuv's threadpool, never on the loop thread ---- */
#include <uv.h>

#include "util.h"

/* hash: ok=1 and encoded is the PHC string ("$argon2id$v=19$m=19456,t=2,p=1$...").
 * verify: ok=1 if the password matches, encoded NULL. Both copy their inputs; cb runs on the
 * loop thread exactly once. */
typedef void (*crypto_pw_cb)(void *data, int ok, const char *encoded);
/* The queue is bounded: when CRYPTO_PW_MAX_WAITING_PER_SLOT x concurrency hashes already wait,
 * both return -EBUSY at once and cb never runs (the caller answers 503 with Retry-After);
 * otherwise 0. */
#define CRYPTO_PW_MAX_WAITING_PER_SLOT 8
int crypto_password_hash(uv_loop_t *loop, const char *password, crypto_pw_cb cb, void *data) WARN_UNUSED;
int crypto_password_verify(uv_loop_t *loop, const char *encoded, const char *password, crypto_pw_cb cb,
                           void *data) WARN_UNUSED;
/* How many hashes may run at once (default: CPUs - 1, at least 1). */
void crypto_password_concurrency(int n);
/* A valid hash of a random password with the same cost, for verifying against when the account
 * does not exist (login takes the same time either way). Computed once, blocking: call at start. */
const char *crypto_password_dummy(void);

/* Standard base64 into out (NUL-terminated); returns the length, or -1 if out is too small. */
int crypto_base64_encode(const void *in, size_t n, char *out, size_t outlen);
/* Decodes standard base64; returns the byte count, or -1 if malformed or too long. */
int crypto_base64_decode(const char *in, unsigned char *out, size_t outlen);

/* Authenticated encryption (AES-256-GCM, random nonce): out = "v1." + base64(nonce|ct|tag),
 * heap-allocated. crypto_open returns the plaintext (heap, NUL-terminated, *len) or NULL if
 * the text was not sealed with this key or was altered. */
char *crypto_seal(const unsigned char key[32], const void *plain, size_t len);
char *crypto_open(const unsigned char key[32], const char *sealed, size_t *len);

/* n random bytes as lower-case hex into out (2n+1 bytes). */
void crypto_token_hex(size_t n, char *out);
