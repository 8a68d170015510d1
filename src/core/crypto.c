#include "crypto.h"

#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <stdlib.h>

#include "util.h"

void crypto_sha256(const void *data, size_t len, unsigned char out[32]) {
  if (mbedtls_sha256_ret(data, len, out, 0) != 0) abort();
}

void crypto_sha256_hex(const void *data, size_t len, char out[65]) {
  unsigned char h[32];
  crypto_sha256(data, len, h);
  hex_encode(h, sizeof h, out);
}

void crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len, unsigned char out[32]) {
  const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  if (!md || mbedtls_md_hmac(md, key, keylen, data, len, out) != 0) abort();
}

int crypto_equal(const void *a, const void *b, size_t n) {
  const volatile unsigned char *x = a, *y = b;
  unsigned char d = 0;
  for (size_t i = 0; i < n; i++) d |= (unsigned char)(x[i] ^ y[i]);
  return d == 0;
}
