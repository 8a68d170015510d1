#include "client.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/buf.h"
#include "../core/config.h"
#include "../core/util.h"

typedef struct creq_s creq_t;

struct http_client_s {
  uv_loop_t *loop;
  tls_ctx_t *tls;
  char user_agent[64];
  creq_t *active; /* list, for close */
  int inflight;
  int closing;
};

struct creq_s {
  creq_t *prev, *next;
  http_client_t *client;
  http_url_t url;
  uv_getaddrinfo_t gai;
  uv_tcp_t tcp;
  uv_connect_t connect;
  uv_timer_t timer;
  uv_write_t wreq;      /* the plain request */
  llhttp_t parser;
  tls_conn_t *tls;
  int handshake_done;
  buf_t request;        /* the bytes to send */
  buf_t body;           /* response body, capped */
  size_t max_body;
  int allow_private;
  int status;
  int complete;         /* a whole response was parsed */
  int finished;         /* cb fired */
  int gai_pending, tcp_open, closes_pending;
  uint64_t start_ms;
  uint64_t timeout_ms;
  http_client_cb cb;
  void *data;
  char rbuf[16384];
  char error[256];
};

static llhttp_settings_t g_settings;

/* ------------------------------------------------------------------ URLs and addresses */

int http_url_parse(const char *url, http_url_t *u) {
  memset(u, 0, sizeof *u);
  const char *p;
  if (strncmp(url, "https://", 8) == 0) u->https = 1, p = url + 8;
  else if (strncmp(url, "http://", 7) == 0) p = url + 7;
  else return -1;
  u->port = u->https ? 443 : 80;
  const char *end = p + strcspn(p, "/?#");
  if (memchr(p, '@', (size_t)(end - p))) return -1; /* no user info */
  if (config_split_host_port(p, end, u->host, sizeof u->host, &u->port) != 0) return -1;
  size_t hl = strlen(u->host);
  for (size_t i = 0; i < hl; i++) {
    char c = u->host[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
          c == ':' || c == '_'))
      return -1;
  }
  if (*end == '#' || strchr(end, '#')) return -1;
  const char *path = *end ? end : "/";
  if (strlen(path) + 2 >= sizeof u->path) return -1;
  for (const char *q = path; *q; q++)
    if ((unsigned char)*q <= 0x20 || *q == 0x7f) return -1;
  snprintf(u->path, sizeof u->path, "%s%s", *path == '?' ? "/" : "", path);
  unsigned char tmp[16];
  u->host_is_ip = inet_pton(AF_INET, u->host, tmp) == 1 || inet_pton(AF_INET6, u->host, tmp) == 1;
  if (strchr(u->host, ':') && !u->host_is_ip) return -1;
  return 0;
}

static int v4_forbidden(const unsigned char *a) {
  uint32_t x = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
  static const struct {
    uint32_t net;
    int bits;
  } nets[] = {
      {0x00000000, 8},  {0x0A000000, 8},  {0x64400000, 10}, {0x7F000000, 8},  {0xA9FE0000, 16},
      {0xAC100000, 12}, {0xC0000000, 24}, {0xC0000200, 24}, {0xC0A80000, 16}, {0xC6120000, 15},
      {0xC6336400, 24}, {0xCB007100, 24}, {0xE0000000, 4},  {0xF0000000, 4},
  };
  for (size_t i = 0; i < ARRAY_SIZE(nets); i++) {
    uint32_t mask = nets[i].bits ? 0xFFFFFFFFu << (32 - nets[i].bits) : 0;
    if ((x & mask) == nets[i].net) return 1;
  }
  return 0;
}

int http_addr_forbidden(const struct sockaddr *sa) {
  if (sa->sa_family == AF_INET) return v4_forbidden((const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr);
  if (sa->sa_family != AF_INET6) return 1;
  const unsigned char *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
  static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  static const unsigned char siit[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0}; /* ::ffff:0:a.b.c.d */
  static const unsigned char zero[12] = {0};
  if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0 || memcmp(a, siit, 12) == 0)
    return v4_forbidden(a + 12);
  if (a[0] == 0x20 && a[1] == 0x02) return v4_forbidden(a + 2);              /* 6to4 2002:a.b.c.d::/48 */
  if (a[0] == 0 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b && a[4] == 0 && a[5] == 1)
    return 1;                                                                 /* 64:ff9b:1::/48 local NAT64 */
  if (memcmp(a, zero, 12) == 0) return 1;                     /* ::, ::1 and v4-compatible */
  if ((a[0] & 0xfe) == 0xfc) return 1;                        /* fc00::/7 unique local */
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return 1;        /* fe80::/10 link local */
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return 1;        /* fec0::/10 site local */
  if (a[0] == 0xff) return 1;                                 /* multicast */
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return 1; /* documentation */
  if (a[0] == 0x01 && a[1] == 0 && a[2] == 0 && a[3] == 0) return 1;         /* 100::/64 discard */
  return 0;
}

/* ------------------------------------------------------------------ lifecycle */

static void on_closed(uv_handle_t *h) {
  creq_t *r = h->data;
  if (--r->closes_pending > 0) return;
  http_client_t *c = r->client;
  if (r->prev) r->prev->next = r->next;
  else c->active = r->next;
  if (r->next) r->next->prev = r->prev;
  tls_conn_free(r->tls);
  buf_free(&r->request);
  buf_free(&r->body);
  free(r);
  if (c->closing && !c->active) free(c);
}

/* Reports once, then releases everything (some of it in later callbacks). */
static void finish(creq_t *r, const char *error) {
  if (r->finished) return;
  r->finished = 1;
  r->client->inflight--;
  http_client_result_t res = {.status = r->status, .error = error, .body = r->body.data ? r->body.data : "",
                              .body_len = r->body.len, .duration_ms = uv_now(r->client->loop) - r->start_ms};
  r->cb(r->data, &res);
  r->closes_pending = 1 + (r->tcp_open ? 1 : 0) + (r->gai_pending ? 1 : 0);
  if (r->gai_pending) uv_cancel((uv_req_t *)&r->gai); /* its callback still runs: counted above */
  uv_close((uv_handle_t *)&r->timer, on_closed);
  if (r->tcp_open) uv_close((uv_handle_t *)&r->tcp, on_closed);
}

static void fail(creq_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(creq_t *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->error, sizeof r->error, fmt, ap);
  va_end(ap);
  finish(r, r->error);
}

static void on_timeout(uv_timer_t *t) { fail(t->data, "timeout after %s", "the overall time limit"); }

/* ------------------------------------------------------------------ writing */

typedef struct {
  uv_write_t w;
  size_t len;
  char data[];
} chunk_t;

static void on_chunk_written(uv_write_t *w, int status) {
  chunk_t *ch = container_of(w, chunk_t, w);
  creq_t *r = w->data;
  free(ch);
  if (status < 0 && !r->finished) fail(r, "write failed: %s", uv_strerror(status));
}

/* Sends the TLS session's pending ciphertext. */
static void flush_tls(creq_t *r) {
  size_t n;
  const char *out = tls_conn_out(r->tls, &n);
  if (!n) return;
  chunk_t *ch = xmalloc(sizeof *ch + n);
  memcpy(ch->data, out, n);
  ch->len = n;
  ch->w.data = r;
  tls_conn_consumed(r->tls, n);
  uv_buf_t b = uv_buf_init(ch->data, (unsigned)n);
  if (uv_write(&ch->w, (uv_stream_t *)&r->tcp, &b, 1, on_chunk_written) != 0) {
    free(ch);
    fail(r, "write failed: %s", "socket closed");
  }
}

static void on_plain_written(uv_write_t *w, int status) {
  creq_t *r = w->data;
  if (status < 0 && !r->finished) fail(r, "write failed: %s", uv_strerror(status));
}

static void send_request(creq_t *r) {
  if (r->tls) {
    int rc = tls_conn_write(r->tls, r->request.data, r->request.len);
    if (rc < 0) {
      char msg[200];
      tls_conn_error(r->tls, rc, msg, sizeof msg);
      fail(r, "%s", msg);
      return;
    }
    flush_tls(r);
    return;
  }
  uv_buf_t b = uv_buf_init(r->request.data, (unsigned)r->request.len);
  r->wreq.data = r;
  if (uv_write(&r->wreq, (uv_stream_t *)&r->tcp, &b, 1, on_plain_written) != 0) fail(r, "write failed: %s", "socket");
}

/* ------------------------------------------------------------------ reading */

static int on_body(llhttp_t *p, const char *at, size_t len) {
  creq_t *r = p->data;
  if (r->body.len < r->max_body) {
    size_t take = r->max_body - r->body.len;
    buf_append(&r->body, at, len < take ? len : take);
  }
  return 0;
}

static int on_message_complete(llhttp_t *p) {
  creq_t *r = p->data;
  if (p->status_code >= 100 && p->status_code < 200 && p->status_code != 101) {
    buf_reset(&r->body); /* an interim response (RFC 9110 15.2): the final one follows */
    return 0;
  }
  r->status = p->status_code;
  r->complete = 1;
  return HPE_PAUSED;
}

static int on_headers_complete(llhttp_t *p) {
  creq_t *r = p->data;
  r->status = p->status_code;
  return 0;
}

/* Parses response bytes; finishes when a response is complete or malformed. */
static void parse(creq_t *r, const char *data, size_t len) {
  if (r->finished || !len) return;
  llhttp_errno_t err = llhttp_execute(&r->parser, data, len);
  if (r->complete) finish(r, NULL);
  else if (err != HPE_OK) fail(r, "malformed response: %s", llhttp_get_error_reason(&r->parser));
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  (void)suggested;
  creq_t *r = h->data;
  *b = uv_buf_init(r->rbuf, sizeof r->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  creq_t *r = s->data;
  if (r->finished) return;
  if (n < 0) {
    if (n == UV_EOF && llhttp_finish(&r->parser) == HPE_OK && r->complete) finish(r, NULL);
    else if (r->complete) finish(r, NULL);
    else if (r->tls && !r->handshake_done) fail(r, "tls: connection closed during the handshake%s", "");
    else fail(r, "connection closed before a complete response%s", "");
    return;
  }
  if (n == 0) return;
  if (!r->tls) {
    parse(r, b->base, (size_t)n);
    return;
  }
  tls_conn_feed(r->tls, b->base, (size_t)n);
  if (!r->handshake_done) {
    int rc = tls_conn_handshake(r->tls);
    flush_tls(r);
    if (r->finished) return;
    if (rc == TLS_WANT) return;
    if (rc < 0) {
      char msg[200];
      tls_conn_error(r->tls, rc, msg, sizeof msg);
      fail(r, "%s", msg);
      return;
    }
    r->handshake_done = 1;
    send_request(r);
    if (r->finished) return;
  }
  char plain[16384];
  for (;;) { /* drain every record mbedtls can decrypt from what arrived */
    int got = tls_conn_read(r->tls, plain, sizeof plain);
    if (got > 0) {
      parse(r, plain, (size_t)got);
      if (r->finished) return;
      continue;
    }
    if (got == TLS_READ_CLOSED) {
      if (llhttp_finish(&r->parser) == HPE_OK && r->complete) finish(r, NULL);
      else if (r->complete) finish(r, NULL);
      else fail(r, "connection closed before a complete response%s", "");
    } else if (got < 0) {
      char msg[200];
      tls_conn_error(r->tls, got, msg, sizeof msg);
      fail(r, "%s", msg);
    }
    return;
  }
}

/* ------------------------------------------------------------------ connecting */

static void on_connect(uv_connect_t *cr, int status) {
  creq_t *r = cr->data;
  if (r->finished) return;
  if (status < 0) {
    fail(r, "connect failed: %s", uv_strerror(status));
    return;
  }
  uv_tcp_nodelay(&r->tcp, 1);
  if (uv_read_start((uv_stream_t *)&r->tcp, on_alloc, on_read) != 0) {
    fail(r, "connect failed: %s", "cannot read");
    return;
  }
  if (!r->url.https) {
    send_request(r);
    return;
  }
  if (!r->client->tls) {
    fail(r, "tls: %s", "no CA certificates loaded");
    return;
  }
  r->tls = tls_conn_new(r->client->tls, r->url.host);
  if (!r->tls) {
    fail(r, "tls: %s", "cannot start a session");
    return;
  }
  int rc = tls_conn_handshake(r->tls);
  flush_tls(r);
  if (rc < 0 && !r->finished) {
    char msg[200];
    tls_conn_error(r->tls, rc, msg, sizeof msg);
    fail(r, "%s", msg);
  }
}

static void connect_to(creq_t *r, const struct sockaddr *sa) {
  if (!r->allow_private && http_addr_forbidden(sa)) {
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof ip);
    else inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof ip);
    fail(r, "refused: the target resolves to a private or reserved address (%s)", ip);
    return;
  }
  uv_tcp_init(r->client->loop, &r->tcp);
  r->tcp.data = r;
  r->tcp_open = 1;
  r->connect.data = r;
  int rc = uv_tcp_connect(&r->connect, &r->tcp, sa, on_connect);
  if (rc != 0) fail(r, "connect failed: %s", uv_strerror(rc));
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res) {
  creq_t *r = g->data;
  r->gai_pending = 0;
  if (r->finished) { /* aborted meanwhile: this callback is one of the pending closes */
    if (res) uv_freeaddrinfo(res);
    on_closed((uv_handle_t *)&r->timer);
    return;
  }
  if (status < 0 || !res) {
    if (res) uv_freeaddrinfo(res);
    fail(r, "dns: %s", uv_strerror(status));
    return;
  }
  /* Every address of the name must be allowed: a name with one private address is refused
   * whole, so rebinding between the addresses cannot reach it. */
  for (struct addrinfo *a = res; a; a = a->ai_next) {
    if (!r->allow_private && http_addr_forbidden(a->ai_addr)) {
      connect_to(r, a->ai_addr);
      uv_freeaddrinfo(res);
      return;
    }
  }
  struct sockaddr_storage ss;
  memcpy(&ss, res->ai_addr, res->ai_addrlen);
  uv_freeaddrinfo(res);
  ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)r->url.port);
  connect_to(r, (struct sockaddr *)&ss);
}

/* ------------------------------------------------------------------ API */

http_client_t *http_client_new(uv_loop_t *loop, tls_ctx_t *tls, const char *user_agent) {
  static int init;
  if (!init) {
    init = 1;
    llhttp_settings_init(&g_settings);
    g_settings.on_body = on_body;
    g_settings.on_headers_complete = on_headers_complete;
    g_settings.on_message_complete = on_message_complete;
  }
  http_client_t *c = xcalloc(1, sizeof *c);
  c->loop = loop;
  c->tls = tls;
  snprintf(c->user_agent, sizeof c->user_agent, "%s", user_agent);
  return c;
}

static void on_start(uv_timer_t *t);

void http_client_post(http_client_t *c, const http_client_opts_t *o, http_client_cb cb, void *data) {
  creq_t *r = xcalloc(1, sizeof *r);
  r->client = c;
  r->cb = cb;
  r->data = data;
  r->allow_private = o->allow_private;
  r->max_body = o->max_body ? o->max_body : 65536;
  r->start_ms = uv_now(c->loop);
  r->next = c->active;
  if (c->active) c->active->prev = r;
  c->active = r;
  c->inflight++;
  uv_timer_init(c->loop, &r->timer);
  r->timer.data = r;
  llhttp_init(&r->parser, HTTP_RESPONSE, &g_settings);
  r->parser.data = r;
  if (http_url_parse(o->url, &r->url) != 0) {
    snprintf(r->error, sizeof r->error, "invalid URL");
  } else {
    int v6 = strchr(r->url.host, ':') != NULL;
    int default_port = r->url.port == (r->url.https ? 443 : 80);
    buf_printf(&r->request, "POST %s HTTP/1.1\r\nHost: %s%s%s", r->url.path, v6 ? "[" : "", r->url.host, v6 ? "]" : "");
    if (!default_port) buf_printf(&r->request, ":%d", r->url.port);
    buf_printf(&r->request, "\r\nUser-Agent: %s\r\nContent-Length: %zu\r\nConnection: close\r\n", c->user_agent,
               o->body_len);
    for (int i = 0; i < o->nheaders; i++) {
      buf_puts(&r->request, o->headers[i]);
      buf_puts(&r->request, "\r\n");
    }
    buf_puts(&r->request, "\r\n");
    buf_append(&r->request, o->body, o->body_len);
  }
  r->timeout_ms = o->timeout_ms ? o->timeout_ms : 10000;
  r->gai.data = r;
  /* Start from a timer callback: cb never fires inside this call. */
  uv_timer_start(&r->timer, on_start, 0, 0);
}

static void on_start(uv_timer_t *t) {
  creq_t *r = t->data;
  if (r->error[0]) {
    finish(r, r->error);
    return;
  }
  if (r->client->closing) {
    finish(r, "aborted: shutting down");
    return;
  }
  uv_timer_start(&r->timer, on_timeout, r->timeout_ms, 0);
  if (r->url.host_is_ip) {
    struct sockaddr_storage ss;
    if (strchr(r->url.host, ':')) uv_ip6_addr(r->url.host, r->url.port, (struct sockaddr_in6 *)&ss);
    else uv_ip4_addr(r->url.host, r->url.port, (struct sockaddr_in *)&ss);
    connect_to(r, (struct sockaddr *)&ss);
    return;
  }
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  char port[8];
  snprintf(port, sizeof port, "%d", r->url.port);
  r->gai_pending = 1;
  if (uv_getaddrinfo(r->client->loop, &r->gai, on_resolved, r->url.host, port, &hints) != 0) {
    r->gai_pending = 0;
    fail(r, "dns: %s", "cannot start the lookup");
  }
}

int http_client_inflight(const http_client_t *c) { return c->inflight; }

void http_client_close(http_client_t *c) {
  c->closing = 1;
  for (creq_t *r = c->active, *next; r; r = next) {
    next = r->next;
    if (!r->finished) finish(r, "aborted: shutting down");
  }
  if (!c->active) free(c);
}
