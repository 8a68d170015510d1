/* tls.h — TLS client sessions over memory buffers (mbedtls 2.28 today; keeping every mbedtls
 * call behind this header means a move to 3.6 touches one file).
 *
 * One tls_ctx_t per process: the CA chain (system bundle plus an optional extra file) is
 * loaded once, with the random generator and the shared configuration (TLS 1.2 minimum,
 * certificate and host name verification required). A tls_conn_t is one session: the caller
 * feeds it ciphertext it read from the socket, drives the handshake, writes and reads
 * plaintext, and sends whatever ciphertext tls_conn_out() holds. No socket I/O happens here. */
#ifndef SLOTD_HTTP_TLS_H
#define SLOTD_HTTP_TLS_H

#include <stddef.h>

#include "../core/util.h"

typedef struct tls_ctx_s tls_ctx_t;
typedef struct tls_conn_s tls_conn_t;

/* Debian's CA bundle (ca-certificates), the trust every outbound TLS client starts from. */
#define TLS_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

enum { TLS_OK = 0, TLS_WANT = 1, TLS_CLOSED = 2 }; /* negative: an error, see tls_conn_error */

/* ca_file: the system bundle; extra_ca: one more PEM file or NULL. NULL and err on failure. */
tls_ctx_t *tls_ctx_new(const char *ca_file, const char *extra_ca, char *err, size_t errlen);
void tls_ctx_free(tls_ctx_t *ctx);

/* hostname: for SNI and the certificate name check (always set). */
tls_conn_t *tls_conn_new(tls_ctx_t *ctx, const char *hostname);
void tls_conn_free(tls_conn_t *c);
/* Ciphertext from the peer. */
void tls_conn_feed(tls_conn_t *c, const char *data, size_t len);
/* TLS_OK when done, TLS_WANT for more input, or < 0. */
int tls_conn_handshake(tls_conn_t *c);
/* Plaintext to send: TLS_OK (all queued as ciphertext) or < 0. */
int tls_conn_write(tls_conn_t *c, const char *data, size_t len);
/* Plaintext received: n > 0 bytes, 0 for "need more input", TLS_CLOSED as -TLS_CLOSED... see
 * below, or < 0 for an error. Returns -1000 when the peer closed the session cleanly. */
#define TLS_READ_CLOSED (-1000)
int tls_conn_read(tls_conn_t *c, char *buf, size_t len);
/* Ciphertext waiting to be sent; call tls_conn_consumed after handing it to the socket. */
const char *tls_conn_out(tls_conn_t *c, size_t *len);
void tls_conn_consumed(tls_conn_t *c, size_t n);
/* A readable message for an error code of this session ("certificate verify failed: ..."). */
void tls_conn_error(tls_conn_t *c, int rc, char *buf, size_t len);

#endif
