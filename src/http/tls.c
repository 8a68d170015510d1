#include "tls.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/buf.h"

struct tls_ctx_s {
  mbedtls_ssl_config conf;
  mbedtls_x509_crt ca;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
};

struct tls_conn_s {
  mbedtls_ssl_context ssl;
  buf_t in;      /* ciphertext received, not yet consumed by mbedtls */
  size_t in_pos;
  buf_t out;     /* ciphertext produced, not yet sent */
  size_t out_pos;
};

tls_ctx_t *tls_ctx_new(const char *ca_file, const char *extra_ca, char *err, size_t errlen) {
  tls_ctx_t *t = xcalloc(1, sizeof *t);
  mbedtls_ssl_config_init(&t->conf);
  mbedtls_x509_crt_init(&t->ca);
  mbedtls_entropy_init(&t->entropy);
  mbedtls_ctr_drbg_init(&t->drbg);
  static const unsigned char pers[] = "slotd-tls";
  int rc = mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy, pers, sizeof pers - 1);
  if (rc != 0) {
    snprintf(err, errlen, "cannot seed the random generator");
    goto fail;
  }
  /* A bundle may hold a few certificates mbedtls cannot parse (rc > 0): the rest still load. */
  int loaded = 0;
  if (ca_file && mbedtls_x509_crt_parse_file(&t->ca, ca_file) >= 0) loaded = 1;
  if (extra_ca) {
    if (mbedtls_x509_crt_parse_file(&t->ca, extra_ca) < 0) {
      snprintf(err, errlen, "cannot read CA file %s", extra_ca);
      goto fail;
    }
    loaded = 1;
  }
  if (!loaded) {
    snprintf(err, errlen, "no CA certificates could be loaded from %s", ca_file ? ca_file : "(none)");
    goto fail;
  }
  if (mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                  MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
    snprintf(err, errlen, "cannot set up TLS defaults");
    goto fail;
  }
  mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
  mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
  mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3); /* TLS 1.2+ */
  return t;
fail:
  tls_ctx_free(t);
  return NULL;
}

void tls_ctx_free(tls_ctx_t *t) {
  if (!t) return;
  mbedtls_ssl_config_free(&t->conf);
  mbedtls_x509_crt_free(&t->ca);
  mbedtls_ctr_drbg_free(&t->drbg);
  mbedtls_entropy_free(&t->entropy);
  free(t);
}

/* BIO: mbedtls reads what was fed, and writes into the out buffer (which accepts everything,
 * so a write never has to be retried). */
static int bio_send(void *p, const unsigned char *data, size_t len) {
  tls_conn_t *c = p;
  buf_append(&c->out, data, len);
  return (int)len;
}

static int bio_recv(void *p, unsigned char *data, size_t len) {
  tls_conn_t *c = p;
  size_t avail = c->in.len - c->in_pos;
  if (avail == 0) return MBEDTLS_ERR_SSL_WANT_READ;
  if (len > avail) len = avail;
  memcpy(data, c->in.data + c->in_pos, len);
  c->in_pos += len;
  if (c->in_pos == c->in.len) {
    buf_reset(&c->in);
    c->in_pos = 0;
  }
  return (int)len;
}

tls_conn_t *tls_conn_new(tls_ctx_t *t, const char *hostname) {
  tls_conn_t *c = xcalloc(1, sizeof *c);
  mbedtls_ssl_init(&c->ssl);
  if (mbedtls_ssl_setup(&c->ssl, &t->conf) != 0 || mbedtls_ssl_set_hostname(&c->ssl, hostname) != 0) {
    tls_conn_free(c);
    return NULL;
  }
  mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
  return c;
}

void tls_conn_free(tls_conn_t *c) {
  if (!c) return;
  mbedtls_ssl_free(&c->ssl);
  buf_free(&c->in);
  buf_free(&c->out);
  free(c);
}

void tls_conn_feed(tls_conn_t *c, const char *data, size_t len) { buf_append(&c->in, data, len); }

static int want(int rc) { return rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE; }

int tls_conn_handshake(tls_conn_t *c) {
  int rc = mbedtls_ssl_handshake(&c->ssl);
  if (rc == 0) return TLS_OK;
  return want(rc) ? TLS_WANT : rc;
}

int tls_conn_write(tls_conn_t *c, const char *data, size_t len) {
  size_t done = 0;
  while (done < len) {
    int rc = mbedtls_ssl_write(&c->ssl, (const unsigned char *)data + done, len - done);
    if (rc > 0) done += (size_t)rc;
    else if (!want(rc)) return rc;
  }
  return TLS_OK;
}

int tls_conn_read(tls_conn_t *c, char *buf, size_t len) {
  int rc = mbedtls_ssl_read(&c->ssl, (unsigned char *)buf, len);
  if (rc > 0) return rc;
  if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) return TLS_READ_CLOSED;
  if (want(rc)) return 0;
  return rc;
}

const char *tls_conn_out(tls_conn_t *c, size_t *len) {
  *len = c->out.len - c->out_pos;
  return c->out.data ? c->out.data + c->out_pos : NULL;
}

void tls_conn_consumed(tls_conn_t *c, size_t n) {
  c->out_pos += n;
  if (c->out_pos >= c->out.len) {
    buf_reset(&c->out);
    c->out_pos = 0;
  }
}

void tls_conn_error(tls_conn_t *c, int rc, char *buf, size_t len) {
  uint32_t flags = mbedtls_ssl_get_verify_result(&c->ssl);
  if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && flags != 0 && flags != (uint32_t)-1) {
    char info[256];
    mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
    size_t n = strlen(info); /* one line */
    for (size_t i = 0; i < n; i++)
      if (info[i] == '\n') info[i] = (i + 1 < n) ? ';' : '\0';
    snprintf(buf, len, "tls: certificate verify failed: %s", info);
    return;
  }
  char msg[160];
  mbedtls_strerror(rc, msg, sizeof msg);
  snprintf(buf, len, "tls: %s", msg);
}
