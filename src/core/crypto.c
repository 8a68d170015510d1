#include "crypto.h"

#include <errno.h>

#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
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

/* ------------------------------------------------------------------ passwords */

#include <argon2.h>
#include <string.h>

#define PW_T_COST 2
#define PW_M_COST 19456 /* KiB: OWASP's argon2id minimum */
#define PW_PARALLELISM 1
#define PW_SALT_LEN 16
#define PW_HASH_LEN 32
#define PW_ENCODED_MAX 160

typedef struct pw_job_s {
  uv_work_t work;
  struct pw_job_s *next; /* waiting for a hashing slot */
  uv_loop_t *loop;
  crypto_pw_cb cb;
  void *data;
  int verify;
  int ok;
  char *password;
  char encoded[PW_ENCODED_MAX];
} pw_job_t;

static void pw_hash_into(const char *password, char *encoded) {
  unsigned char salt[PW_SALT_LEN];
  random_bytes(salt, sizeof salt);
  if (argon2id_hash_encoded(PW_T_COST, PW_M_COST, PW_PARALLELISM, password, strlen(password), salt, sizeof salt,
                            PW_HASH_LEN, encoded, PW_ENCODED_MAX) != ARGON2_OK)
    encoded[0] = '\0';
}

static void pw_work(uv_work_t *w) { /* threadpool */
  pw_job_t *j = container_of(w, pw_job_t, work);
  if (j->verify) {
    j->ok = argon2id_verify(j->encoded, j->password, strlen(j->password)) == ARGON2_OK;
  } else {
    pw_hash_into(j->password, j->encoded);
    j->ok = j->encoded[0] != '\0';
  }
}

/* At most g_pw_slots hashes run at once (default: one core fewer than the machine has), so
 * logins never take every core from the loop thread; the rest wait here in order. */
static int g_pw_slots, g_pw_running, g_pw_waiting;
static pw_job_t *g_pw_head, *g_pw_tail;

static void pw_done(uv_work_t *w, int status);

static void pw_start_waiting(void) {
  while (g_pw_head && g_pw_running < g_pw_slots) {
    pw_job_t *j = g_pw_head;
    g_pw_head = j->next;
    if (!g_pw_head) g_pw_tail = NULL;
    g_pw_waiting--;
    g_pw_running++;
    if (uv_queue_work(j->loop, &j->work, pw_work, pw_done) != 0) abort(); /* only fails for a NULL work_cb */
  }
}

static void pw_done(uv_work_t *w, int status) { /* loop thread */
  pw_job_t *j = container_of(w, pw_job_t, work);
  g_pw_running--;
  pw_start_waiting();
  j->cb(j->data, status == 0 && j->ok, (!j->verify && j->ok && status == 0) ? j->encoded : NULL);
  memset(j->password, 0, strlen(j->password));
  free(j->password);
  free(j);
}

static int pw_submit(uv_loop_t *loop, int verify, const char *encoded, const char *password, crypto_pw_cb cb,
                     void *data) {
  if (!g_pw_slots) {
    int n = (int)uv_available_parallelism() - 1;
    g_pw_slots = n < 1 ? 1 : n;
  }
  if (g_pw_waiting >= CRYPTO_PW_MAX_WAITING_PER_SLOT * g_pw_slots) return -EBUSY; /* bounded: the caller says 503 */
  pw_job_t *j = xcalloc(1, sizeof *j);
  j->cb = cb;
  j->data = data;
  j->verify = verify;
  j->password = xstrdup(password);
  if (encoded) snprintf(j->encoded, sizeof j->encoded, "%s", encoded);
  j->loop = loop;
  if (g_pw_tail) g_pw_tail->next = j;
  else g_pw_head = j;
  g_pw_tail = j;
  g_pw_waiting++;
  pw_start_waiting();
  return 0;
}

void crypto_password_concurrency(int n) { g_pw_slots = n; }

int crypto_password_hash(uv_loop_t *loop, const char *password, crypto_pw_cb cb, void *data) {
  return pw_submit(loop, 0, NULL, password, cb, data);
}

int crypto_password_verify(uv_loop_t *loop, const char *encoded, const char *password, crypto_pw_cb cb,
                           void *data) {
  return pw_submit(loop, 1, encoded, password, cb, data);
}

const char *crypto_password_dummy(void) {
  static char dummy[PW_ENCODED_MAX];
  if (!dummy[0]) {
    char pw[33];
    crypto_token_hex(16, pw);
    pw_hash_into(pw, dummy);
  }
  return dummy;
}

#include <mbedtls/base64.h>

int crypto_base64_encode(const void *in, size_t n, char *out, size_t outlen) {
  size_t olen = 0;
  if (mbedtls_base64_encode((unsigned char *)out, outlen, &olen, in, n) != 0) return -1;
  return (int)olen;
}

int crypto_base64_decode(const char *in, unsigned char *out, size_t outlen) {
  size_t olen = 0;
  if (mbedtls_base64_decode(out, outlen, &olen, (const unsigned char *)in, strlen(in)) != 0) return -1;
  return (int)olen;
}

#include <mbedtls/gcm.h>

char *crypto_seal(const unsigned char key[32], const void *plain, size_t len) {
  size_t raw_len = 12 + len + 16;
  unsigned char *raw = xmalloc(raw_len);
  random_bytes(raw, 12);
  mbedtls_gcm_context g;
  mbedtls_gcm_init(&g);
  if (mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 256) != 0 ||
      mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, len, raw, 12, NULL, 0, plain, raw + 12, 16, raw + 12 + len) != 0)
    abort();
  mbedtls_gcm_free(&g);
  size_t out_len = 3 + 4 * ((raw_len + 2) / 3) + 1;
  char *out = xmalloc(out_len);
  memcpy(out, "v1.", 3);
  if (crypto_base64_encode(raw, raw_len, out + 3, out_len - 3) < 0) abort();
  free(raw);
  return out;
}

char *crypto_open(const unsigned char key[32], const char *sealed, size_t *len) {
  if (strncmp(sealed, "v1.", 3) != 0) return NULL;
  size_t cap = strlen(sealed) + 1;
  unsigned char *raw = xmalloc(cap);
  int n = crypto_base64_decode(sealed + 3, raw, cap);
  char *plain = NULL;
  if (n >= 28) {
    size_t plen = (size_t)n - 28;
    plain = xmalloc(plen + 1);
    mbedtls_gcm_context g;
    mbedtls_gcm_init(&g);
    if (mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 256) != 0 ||
        mbedtls_gcm_auth_decrypt(&g, plen, raw, 12, NULL, 0, raw + 12 + plen, 16, raw + 12, (unsigned char *)plain) != 0) {
      free(plain);
      plain = NULL;
    } else {
      plain[plen] = 0;
      *len = plen;
    }
    mbedtls_gcm_free(&g);
  }
  free(raw);
  return plain;
}

void crypto_token_hex(size_t n, char *out) {
  unsigned char tmp[64];
  if (n > sizeof tmp) abort();
  random_bytes(tmp, n);
  hex_encode(tmp, n, out);
}
