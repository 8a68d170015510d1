/* client.h — outbound HTTP/1.1 requests (webhook deliveries) on the server's loop: non-blocking
 * DNS (uv_getaddrinfo), a refusal of private addresses after resolving (SSRF guard), connect,
 * TLS through tls.h for https, llhttp for the response, one overall timeout, response bodies
 * read but capped. One connection per request ("Connection: close"); redirects are never
 * followed (a 3xx is just a status). */
#ifndef SLOTD_HTTP_CLIENT_H
#define SLOTD_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "tls.h"

typedef struct http_client_s http_client_t;

typedef struct {
  int https;
  char host[256]; /* without brackets */
  int port;
  char path[2048]; /* path and query, "/" at least */
  int host_is_ip;
} http_url_t;

/* Absolute http(s) URL without user info or fragment. 0 or -1. */
int http_url_parse(const char *url, http_url_t *out);
/* 1 for addresses a webhook must not reach: loopback, private, link-local, unique-local,
 * CGNAT, multicast, unspecified, reserved, documentation; v4-mapped and NAT64 v6 judged by
 * their v4 address. */
int http_addr_forbidden(const struct sockaddr *sa);

typedef struct {
  int status;          /* the response's status, 0 if there was none */
  const char *error;   /* NULL when a complete response arrived */
  const char *body;    /* the first max_body bytes of the response body */
  size_t body_len;
  uint64_t duration_ms;
} http_client_result_t;

typedef void (*http_client_cb)(void *data, const http_client_result_t *r);

typedef struct {
  const char *url;
  const char *const *headers; /* "Name: value" lines, CR/LF-free */
  int nheaders;
  const char *body;
  size_t body_len;
  uint64_t timeout_ms;
  int allow_private;
  size_t max_body;
} http_client_opts_t;

/* tls may be NULL (https then fails). */
http_client_t *http_client_new(uv_loop_t *loop, tls_ctx_t *tls, const char *user_agent);
/* Aborts what is in flight (each callback fires once, with an error) and frees the client
 * once its handles are closed. */
void http_client_close(http_client_t *c);
/* POSTs; cb fires exactly once, later (never inside this call). Inputs are copied. */
void http_client_post(http_client_t *c, const http_client_opts_t *o, http_client_cb cb, void *data);
int http_client_inflight(const http_client_t *c);

#endif
