#include "server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <llhttp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/log.h"
#include "../core/map.h"
#include "../core/metrics.h"
#include "../core/util.h"

#define RBUF_SIZE 16384
/* Free read buffers kept for reuse (RBUF_POOL x RBUF_SIZE at most): a connection holds one only
 * while it has bytes to parse, so in the steady state a few serve every connection. */
#define RBUF_POOL 64
#define CORS_ALLOW_HEADERS \
  "Content-Type, Authorization, X-API-Key, Idempotency-Key, X-Request-Id, MCP-Protocol-Version, Mcp-Session-Id, " \
  "cal-api-version, x-kordless-key, X-Tenant"
#define CORS_EXPOSE_HEADERS \
  "X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, ETag, Link, X-Total-Count"

/* Connection states (STYLE.md habit 7); conn_set_state() is the only place that changes them:
 * it checks the move against conn_moves[] (asserting on an illegal one) and arms the timer that
 * belongs to the new state (conn_due() says when it fires). A new connection starts zeroed, i.e.
 * IDLE. */
typedef enum {
  CONN_IDLE,      /* between requests: idle timer (a fresh connection: header timer from accept) */
  CONN_READ_HEAD, /* first byte of a request seen: header timer and request deadline, not reset by reads */
  CONN_READ_BODY, /* head complete: body inactivity timer, request deadline, minimum body rate */
  CONN_HANDLING,  /* a handler owns the request: no timer; reading only to notice a client that has gone */
  CONN_WRITING,   /* response queued: write timer; after an error, input is read and discarded */
  CONN_LINGER,    /* answered and FIN sent; input discarded until EOF, LINGER_MS or LINGER_MAX_BYTES */
  CONN_CLOSING    /* uv_close issued; freed in the last close callback */
} conn_state_t;
#define CONN_NSTATES (CONN_CLOSING + 1)

#define CM(s) (1u << (s))
/* conn_moves[from] has bit `to` set when from -> to is legal. Who makes each move:
 *   IDLE -> IDLE            on_connection arms the first (header) timer of a fresh connection
 *   IDLE -> READ_HEAD       on_message_begin: first byte of the next (possibly pipelined) request
 *   IDLE -> WRITING         conn_fail: bytes refused before a message began; conn_reject: the
 *                           peer's address is over SLOTD_MAX_CONNECTIONS_PER_IP (503)
 *   READ_HEAD -> READ_BODY  on_headers_complete (every request, body or not; 100-continue too)
 *   READ_HEAD -> WRITING    conn_fail: bad or oversized head, header timeout, request deadline
 *   READ_BODY -> READ_BODY  on_read re-arms the body timer after every read
 *   READ_BODY -> HANDLING   conn_dispatch after on_message_complete paused the parser
 *   READ_BODY -> WRITING    conn_fail: bad or oversized body, body timeout, deadline, too slow
 *   HANDLING -> WRITING     http_respond (synchronously from the handler, or later)
 *   WRITING -> IDLE         conn_after_write on a keep-alive connection
 *   WRITING -> LINGER       conn_finish: a closing connection whose input may be unread (an
 *                           error, a 503, pipelined bytes): lingering close, so the client reads
 *                           the answer instead of a reset
 *   any but CLOSING -> CLOSING   conn_close: EOF, read or write error, timeouts, no keep-alive,
 *                                draining (a HANDLING request is orphaned first)
 * CLOSING is final. */
static const unsigned conn_moves[CONN_NSTATES] = {
    [CONN_IDLE] = CM(CONN_IDLE) | CM(CONN_READ_HEAD) | CM(CONN_WRITING) | CM(CONN_CLOSING),
    [CONN_READ_HEAD] = CM(CONN_READ_BODY) | CM(CONN_WRITING) | CM(CONN_CLOSING),
    [CONN_READ_BODY] = CM(CONN_READ_BODY) | CM(CONN_HANDLING) | CM(CONN_WRITING) | CM(CONN_CLOSING),
    [CONN_HANDLING] = CM(CONN_WRITING) | CM(CONN_CLOSING),
    [CONN_WRITING] = CM(CONN_IDLE) | CM(CONN_LINGER) | CM(CONN_CLOSING),
    [CONN_LINGER] = CM(CONN_CLOSING),
    [CONN_CLOSING] = 0,
};
#undef CM

/* Pure: is from -> to a legal move (for conn_set_state's assert and the unit test; unused, not
 * wrong, when NDEBUG compiles the assert out). */
__attribute__((unused)) static int conn_move_ok(conn_state_t from, conn_state_t to) {
  return (unsigned)from < CONN_NSTATES && (unsigned)to < CONN_NSTATES && (conn_moves[from] >> to & 1u);
}

/* Lingering close (nginx's): after answering a connection that closes with input possibly unread,
 * send FIN, then read and drop what the client still sends, until it closes, LINGER_MS pass or
 * LINGER_MAX_BYTES were dropped, and only then close; closing a socket with unread input makes
 * the kernel send RST, and a client that is still uploading loses the answer. Both the
 * connections over SLOTD_MAX_CONNECTIONS (reject_t) and http_conn_t use these bounds. */
#define LINGER_MS 2000
#define LINGER_MAX_BYTES (8u << 20)
/* Connections of one address being answered 503 for SLOTD_MAX_CONNECTIONS_PER_IP at once; more
 * are closed without an answer. */
#define MAX_REJECTING_PER_IP 16
/* Wire bytes of a head (or of trailers), whatever llhttp reports through its callbacks: llhttp
 * 8.1 skips runs of spaces in the request line and before header values without a callback, so
 * the callbacks' counts (414, 431) alone do not bound a head. */
#define HEAD_WIRE_MAX (HTTP_MAX_URL + HTTP_MAX_HEAD + 1024)

/* The edge check (conn_guard): llhttp 8.1 is lenient where a proxy in front may not be, so every
 * byte outside body data passes here before llhttp sees it. It follows the message framing as
 * llhttp will see it and stops at each point where only llhttp knows what comes next (the end of
 * a head, of a chunk-size line, of a message); llhttp's callbacks then set the next state. */
typedef enum {
  G_HEAD,       /* request line and header lines, up to the empty line */
  G_WAIT,       /* llhttp has yet to parse up to here: on_headers_complete or on_chunk_header decides */
  G_BODY,       /* Content-Length body: g_left bytes */
  G_CHUNK_LINE, /* chunk size [; extensions] CRLF */
  G_CHUNK_DATA, /* g_left bytes of chunk data */
  G_CHUNK_END,  /* the CRLF after chunk data (g_line: bytes of it seen) */
  G_TRAILERS    /* trailer lines, up to the empty line */
} guard_state_t;

struct http_conn_s {
  uv_tcp_t tcp;           /* first: uv handles get back to us with container_of */
  uv_timer_t timer;
  uv_write_t wreq;        /* the part of a response the socket did not take at once */
  uv_shutdown_t sreq;     /* FIN before lingering */
  llhttp_t parser;
  http_server_t *srv;
  http_conn_t *prev, *next; /* server's list of open connections */
  conn_state_t state;
  http_req_t *req;        /* request being read, handled or written; owned */
  buf_t scratch;          /* span being assembled across reads (url, header name or value) */
  const char *cur_name;   /* header name waiting for its value (in req arena) */
  size_t head_bytes;      /* bytes of url + headers + chunk extensions + trailers of the current request */
  int err_status;         /* set by a parser callback or the edge check that rejects the request */
  const char *err_code, *err_msg;
  buf_t wbuf;             /* what wreq writes (a copy: the response's own bytes may be gone by
                           * then); freed after the write, so an idle connection holds none */
  int closes_pending;     /* handles still to close before the memory may be freed */
  unsigned in_drive : 1, reading : 1, fresh : 1;
  unsigned linger : 1;    /* input is no longer parsed: read and dropped (after an error or a 503) */
  unsigned peer_eof : 1;  /* the client has sent FIN after a complete request: answer, then close */
  unsigned ip_counted : 2; /* IP_NONE, IP_OPEN or IP_REJECTING: which per-address count holds us */
  size_t discarded;       /* bytes dropped since linger was set; LINGER_MAX_BYTES caps them */
  int ntrailers;          /* trailer fields of the current request (counted, never stored) */
  /* timers (loop time, ms) */
  uint64_t armed_due;     /* when the timer, if active, fires (conn_arm) */
  uint64_t accepted_at;   /* the header timer of a fresh connection runs from here */
  uint64_t phase_start;   /* when the current state was entered */
  uint64_t msg_start;     /* first byte of the current request */
  uint64_t body_start;    /* head complete */
  uint64_t last_read;     /* last bytes from the client */
  /* edge check (conn_guard) */
  guard_state_t g_state;
  uint64_t g_left;        /* G_BODY, G_CHUNK_DATA: bytes still to pass */
  size_t g_line;          /* bytes in the current line (G_CHUNK_LINE: size digits; G_CHUNK_END: CRLF bytes) */
  size_t g_lines;         /* complete lines in this head or trailer section */
  size_t g_blank;         /* empty lines before a request line */
  size_t g_bytes;         /* wire bytes of this head or trailer section (HEAD_WIRE_MAX) */
  unsigned g_ext : 1;     /* G_CHUNK_LINE: inside the extensions */
  char ipkey[48];         /* the peer's address (no port), the per-address count's key */
  char peer[64];
  struct sockaddr_storage peer_addr;
  size_t rpos, rlen;      /* unparsed bytes rbuf[rpos..rlen) (kept while a request is handled) */
  char *rbuf;             /* RBUF_SIZE bytes from the server's pool, held only while a read is
                           * under way or bytes wait in it (rbuf_get, conn_rbuf_trim): an idle
                           * connection costs no buffer */
};

struct http_server_s {
  uv_loop_t *loop;
  const config_t *cfg;
  router_t *router;
  void *app;
  uv_tcp_t listener;
  uv_timer_t drain_timer;
  http_conn_t *conns;     /* list head */
  int nconns;
  int nrejecting;         /* over-limit connections being answered 503 */
  int norphans;           /* requests whose connection died while a handler had them */
  void *rejecting;        /* their list (reject_t) */
  uint64_t rejected;
  int draining, listening;
  int closes_pending;     /* handles still to close in http_server_close */
  http_drained_cb on_drained;
  http_unrouted_fn on_unrouted;
  http_error_body_fn error_body; /* NULL: {"error", "code"} */
  buf_t reject_body;             /* the 503 for connections over the limit */
  map_t *per_ip;                 /* ipkey -> ip_count_t, for SLOTD_MAX_CONNECTIONS_PER_IP */
  char reqid_prefix[17];
  uint64_t reqid_counter;
  buf_t head;             /* the response head being rendered; reused (one loop thread) */
  char *rfree;            /* free read buffers, linked through their first bytes */
  int nrfree;
};

static llhttp_settings_t g_settings; /* llhttp keeps a pointer: one static instance */

static void conn_drive(http_conn_t *c);
static void conn_rbuf_trim(http_conn_t *c);
static void conn_close(http_conn_t *c);
static void drained(http_server_t *s);
static void conn_fail(http_conn_t *c, int status, const char *code, const char *msg);

/* ------------------------------------------------------------------ states and timers */

static void on_timer(uv_timer_t *t);

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* When the current request must be complete: SLOTD_REQUEST_TIMEOUT after its first byte. */
static uint64_t conn_request_due(const http_conn_t *c) { return c->msg_start + c->srv->cfg->request_timeout_ms; }

/* When the body falls below SLOTD_MIN_BODY_RATE: after the grace period the body must have
 * averaged that rate since the head was complete, i.e. each `rate` bytes buy one more second.
 * UINT64_MAX when the rate is off. */
static uint64_t conn_rate_due(const http_conn_t *c) {
  const config_t *cfg = c->srv->cfg;
  if (cfg->min_body_rate <= 0) return UINT64_MAX;
  size_t got = c->req ? c->req->body.len : 0;
  return c->body_start + cfg->min_body_rate_grace_ms + (uint64_t)got * 1000 / (uint64_t)cfg->min_body_rate;
}

/* When the current state's timer fires (loop time, ms), or UINT64_MAX for none. */
static uint64_t conn_due(const http_conn_t *c) {
  const config_t *cfg = c->srv->cfg;
  switch (c->state) {
    case CONN_IDLE: return c->phase_start + (c->fresh ? cfg->header_timeout_ms : cfg->idle_timeout_ms);
    case CONN_READ_HEAD: /* a fresh connection's header timer runs from accept, not from its first byte */
      return min_u64((c->fresh ? c->accepted_at : c->msg_start) + cfg->header_timeout_ms, conn_request_due(c));
    case CONN_READ_BODY:
      return min_u64(min_u64(c->last_read + cfg->body_timeout_ms, conn_request_due(c)), conn_rate_due(c));
    case CONN_WRITING: return c->phase_start + cfg->body_timeout_ms;
    case CONN_LINGER: return c->phase_start + LINGER_MS;
    case CONN_HANDLING:
    case CONN_CLOSING: break;
  }
  return UINT64_MAX;
}

/* Arms the timer for conn_due(), lazily: a timer that is armed to fire no later than that stays
 * as it is (it fires early, and on_timer, finding nothing due yet, arms it again), and a state
 * without a deadline leaves it to fire once for nothing. On a busy keep-alive connection every
 * request moves the deadlines forward, so the timer heap is touched about once per idle timeout
 * instead of several times per request. */
static void conn_arm(http_conn_t *c) {
  uint64_t due = conn_due(c);
  if (due == UINT64_MAX) return;
  if (c->armed_due <= due && uv_is_active((uv_handle_t *)&c->timer)) return;
  uint64_t now = uv_now(c->srv->loop);
  uv_timer_start(&c->timer, on_timer, due > now ? due - now : 0, 0);
  c->armed_due = due;
}

/* Inside conn_drive the timer is armed once, when it returns: a request read, answered from
 * memory and written in one read callback passes through five states and needs no timer of
 * any of them. */
static void conn_set_state(http_conn_t *c, conn_state_t s) {
  assert(conn_move_ok(c->state, s));
  uint64_t now = uv_now(c->srv->loop);
  if (s != c->state) c->phase_start = now;
  if (s == CONN_READ_HEAD) c->msg_start = now;
  if (s == CONN_READ_BODY && c->state == CONN_READ_HEAD) c->body_start = c->last_read = now;
  c->state = s;
  if (!c->in_drive) conn_arm(c);
}

static void on_timer(uv_timer_t *t) {
  http_conn_t *c = container_of(t, http_conn_t, timer);
  uint64_t now = uv_now(c->srv->loop);
  if (now < conn_due(c)) { /* armed before the last bytes moved a deadline: not yet */
    conn_arm(c);
    return;
  }
  switch (c->state) {
    case CONN_READ_HEAD:
      if (now >= conn_request_due(c)) conn_fail(c, 408, "REQUEST_TIMEOUT", "request not received in time");
      else conn_fail(c, 408, "REQUEST_TIMEOUT", "request header not received in time");
      break;
    case CONN_READ_BODY:
      if (now >= conn_request_due(c)) conn_fail(c, 408, "REQUEST_TIMEOUT", "request not received in time");
      else if (now >= conn_rate_due(c)) conn_fail(c, 408, "REQUEST_TIMEOUT", "request body sent too slowly");
      else conn_fail(c, 408, "REQUEST_TIMEOUT", "request body not received in time");
      break;
    default: conn_close(c); /* idle, a client that does not read its response, the end of lingering */
  }
}

/* ------------------------------------------------------------------ requests */

static http_req_t *req_new(http_conn_t *c) {
  arena_t *a = arena_new();
  http_req_t *r = arena_calloc(a, sizeof *r);
  r->arena = a;
  r->conn = c;
  r->server = c->srv;
  r->app = c->srv->app;
  r->start_ns = now_mono_ns();
  r->match.pattern_idx = -1;
  r->method = HTTP_GET;
  r->method_name = "GET";
  memcpy(r->peer, c->peer, sizeof r->peer);
  r->peer_addr = c->peer_addr;
  return r;
}

static void req_free(http_req_t *r) {
  buf_free(&r->body);
  buf_free(&r->resp_headers);
  arena_destroy(r->arena);
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  if (c < 0x80) return 1;
  size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (!len || len > n) return 0;
  for (size_t i = 1; i < len; i++)
    if ((s[i] & 0xc0) != 0x80) return 0;
  if (c == 0xe0 && s[1] < 0xa0) return 0; /* overlong */
  if (c == 0xed && s[1] > 0x9f) return 0; /* surrogate */
  if (c == 0xf0 && s[1] < 0x90) return 0; /* overlong */
  if (c == 0xf4 && s[1] > 0x8f) return 0; /* above U+10FFFF */
  return len;
}

/* Appends n bytes of s as a JSON string; bytes that are not well-formed UTF-8 (a client's path,
 * a header) become U+FFFD, so a log line stays valid JSON whatever the client sent. */
static void json_text(buf_t *b, const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) { /* fast path: the whole span is valid */
    size_t len = utf8_len(u + i, n - i);
    if (!len) break;
    i += len;
  }
  if (i == n) {
    buf_json_strn(b, s, n);
    return;
  }
  buf_t t = BUF_INIT;
  buf_append(&t, s, i);
  while (i < n) {
    size_t len = utf8_len(u + i, n - i);
    if (len) buf_append(&t, s + i, len);
    else buf_puts(&t, "\xEF\xBF\xBD");
    i += len ? len : 1;
  }
  buf_json_strn(b, t.data, t.len);
  buf_free(&t);
}

/* Logs and counts a request whose response is done (written, failed or discarded). */
static void req_account(http_req_t *r) {
  uint64_t dur = now_mono_ns() - r->start_ns;
  const router_t *router = r->server->router;
  const char *route = r->match.pattern_idx >= 0 ? router_patterns(router)[r->match.pattern_idx] : "unmatched";
  metrics_http_observe(r->match.pattern_idx, r->method_name, r->status, dur);
  if (!log_enabled(LOG_INFO)) return;
  buf_t f = BUF_INIT;
  buf_puts(&f, ",\"request_id\":");
  buf_json_str(&f, r->request_id);
  buf_puts(&f, ",\"method\":");
  buf_json_str(&f, r->method_name);
  buf_puts(&f, ",\"path\":");
  json_text(&f, r->path ? r->path : "", r->path ? r->path_len : 0); /* raw bytes from the client */
  buf_puts(&f, ",\"route\":");
  buf_json_str(&f, route);
  buf_printf(&f, ",\"status\":%d,\"duration_ms\":%.3f,\"bytes\":%zu,\"peer\":", r->status, (double)dur / 1e6,
             r->resp_bytes);
  buf_json_str(&f, r->peer);
  if (r->orphaned) buf_puts(&f, ",\"orphaned\":true");
  log_raw(LOG_INFO, "request", f.data, f.len);
  buf_free(&f);
}

void log_req(const http_req_t *req, int level, const char *msg, ...) {
  if (!log_enabled(level)) return;
  buf_t f = BUF_INIT;
  buf_puts(&f, ",\"request_id\":");
  json_text(&f, req->request_id, strlen(req->request_id));
  buf_puts(&f, ",\"route\":");
  if (req->match.pattern_idx >= 0) {
    const char *pattern = router_patterns(req->server->router)[req->match.pattern_idx];
    json_text(&f, pattern, strlen(pattern));
  } else {
    json_text(&f, req->path ? req->path : "", req->path ? req->path_len : 0);
  }
  buf_puts(&f, ",\"peer\":");
  json_text(&f, req->peer, strlen(req->peer));
  va_list ap;
  va_start(ap, msg);
  const char *k;
  while ((k = va_arg(ap, const char *)) != NULL) {
    const char *v = va_arg(ap, const char *);
    buf_putc(&f, ',');
    json_text(&f, k, strlen(k));
    buf_putc(&f, ':');
    if (v) json_text(&f, v, strlen(v));
    else buf_puts(&f, "null");
  }
  va_end(ap);
  log_raw(level, msg, f.data, f.len);
  buf_free(&f);
}

const char *http_req_header(const http_req_t *req, const char *name) {
  for (int i = 0; i < req->nheaders; i++)
    if (ascii_casecmp_n(req->headers[i].name, strlen(req->headers[i].name), name) == 0)
      return req->headers[i].value;
  return NULL;
}

const char *http_req_param(const http_req_t *req, const char *name) {
  for (int i = 0; i < req->match.nparams; i++)
    if (strcmp(req->match.names[i], name) == 0) return req->match.values[i];
  return NULL;
}

static int reqid_sane(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > HTTP_MAX_REQID) return 0;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
          ch == '_' || ch == '-' || ch == ':'))
      return 0;
  }
  return 1;
}

/* Writes v as 16 lower-case hex digits at out (no NUL). */
static void hex16(uint64_t v, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; i--, v >>= 4) out[i] = digits[v & 15];
}

/* The client's X-Request-Id if sane, else the server's prefix and a counter (32 hex digits). */
static void req_assign_id(http_req_t *r) {
  const char *in = http_req_header(r, "X-Request-Id");
  if (in && reqid_sane(in)) {
    memcpy(r->request_id, in, strlen(in) + 1); /* reqid_sane: at most HTTP_MAX_REQID bytes */
    return;
  }
  http_server_t *s = r->server;
  memcpy(r->request_id, s->reqid_prefix, 16);
  hex16(++s->reqid_counter, r->request_id + 16);
  r->request_id[32] = '\0';
}

/* ------------------------------------------------------------------ responses */

const char *http_status_reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

static const char *http_date(void) {
  static char date[40];
  static time_t cached = 0;
  time_t now = time(NULL);
  if (now != cached) {
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = now;
  }
  return date;
}

void http_set_header(http_req_t *req, const char *name, const char *value) {
  assert(!req->responded);
  buf_t *h = &req->resp_headers;
  size_t nlen = strlen(name), vlen = strlen(value);
  buf_reserve(h, nlen + vlen + 4);
  buf_append(h, name, nlen);
  buf_append(h, ": ", 2);
  /* A header value never carries CR or LF (response splitting). */
  size_t at = h->len;
  buf_append(h, value, vlen);
  for (char *p = h->data + at, *end = h->data + h->len; (p += strcspn(p, "\r\n")) < end; p++) *p = ' ';
  buf_append(h, "\r\n", 2);
}

void http_add_header_lines(http_req_t *req, const char *lines, size_t len) {
  assert(!req->responded);
  buf_append(&req->resp_headers, lines, len);
}

static void on_write(uv_write_t *w, int status);
static void conn_after_write(http_conn_t *c);

static void update_reading(http_conn_t *c);

/* Sends head and body (either may be gone when this returns). Usually the socket takes it all
 * at once: no copy, no write request, and reading goes on (stopping and restarting it would cost
 * two epoll_ctl calls per response). Otherwise what is left is copied to c->wbuf and queued, and
 * reading stops until it is written (but to drop an error's unread input): a half-close must not
 * cut the answer short. */
static void conn_send(http_conn_t *c, const char *head, size_t hlen, const char *body, size_t blen) {
  conn_set_state(c, CONN_WRITING);
  uv_buf_t b[2] = {uv_buf_init((char *)head, (unsigned)hlen), uv_buf_init((char *)body, (unsigned)blen)};
  int n = uv_try_write((uv_stream_t *)&c->tcp, b, blen ? 2 : 1);
  if (n >= 0 && (size_t)n == hlen + blen) {
    conn_after_write(c);
    return;
  }
  if (n < 0 && n != UV_EAGAIN) {
    conn_close(c);
    return;
  }
  size_t done = n > 0 ? (size_t)n : 0;
  buf_reset(&c->wbuf);
  if (done < hlen) {
    buf_append(&c->wbuf, head + done, hlen - done);
    done = 0;
  } else {
    done -= hlen;
  }
  buf_append(&c->wbuf, body + done, blen - done);
  update_reading(c);
  uv_buf_t w = uv_buf_init(c->wbuf.data, (unsigned)c->wbuf.len);
  if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &w, 1, on_write) != 0) conn_close(c);
}

#define BUF_LIT(b, s) buf_append((b), (s), sizeof(s) - 1)

/* Appends v in decimal. */
static void buf_put_u64(buf_t *b, uint64_t v) {
  char t[20];
  int i = (int)sizeof t;
  do t[--i] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  buf_append(b, t + i, sizeof t - (size_t)i);
}

void http_respond(http_req_t *req, int status, const char *ctype, const char *body, size_t len) {
  assert(!req->responded);
  if (req->respond_hook) {
    void (*hook)(http_req_t *, int, const char *, const char *, size_t) = req->respond_hook;
    req->respond_hook = NULL;
    hook(req, status, ctype, body, len);
    return;
  }
  req->responded = 1;
  req->status = status;
  http_conn_t *c = req->conn;
  if (!c) { /* orphaned: the client is gone; account and drop */
    http_server_t *s = req->server;
    req_account(req);
    req_free(req);
    s->norphans--;
    if (s->draining && s->nconns == 0 && s->nrejecting == 0 && s->norphans == 0 && s->on_drained) drained(s);
    return;
  }
  http_server_t *s = c->srv;
  if (s->draining) req->keep_alive = 0;
  int no_body = status == 204 || status == 304 || (status >= 100 && status < 200);
  /* The head is assembled from pieces (no printf: this runs once per response); the body is
   * written from where it is. */
  buf_t *w = &s->head;
  buf_reset(w);
  buf_reserve(w, 256 + req->resp_headers.len);
  BUF_LIT(w, "HTTP/1.1 ");
  buf_put_u64(w, (uint64_t)(status >= 100 && status <= 999 ? status : 500));
  buf_putc(w, ' ');
  buf_puts(w, http_status_reason(status));
  BUF_LIT(w, "\r\nDate: ");
  buf_puts(w, http_date());
  if (!no_body) {
    BUF_LIT(w, "\r\nContent-Type: ");
    buf_puts(w, ctype ? ctype : "application/json");
    BUF_LIT(w, "\r\nContent-Length: ");
    buf_put_u64(w, len);
  }
  BUF_LIT(w, "\r\nX-Request-Id: ");
  buf_puts(w, req->request_id[0] ? req->request_id : "-");
  BUF_LIT(w, "\r\n");
  if (!req->keep_alive) BUF_LIT(w, "Connection: close\r\n");
  else if (c->parser.http_major == 1 && c->parser.http_minor == 0) BUF_LIT(w, "Connection: keep-alive\r\n");
  if (req->resp_headers.len) buf_append(w, req->resp_headers.data, req->resp_headers.len);
  BUF_LIT(w, "\r\n");
  if (no_body || req->method == HTTP_HEAD) len = 0;
  req->resp_bytes = w->len + len;
  conn_send(c, w->data, w->len, body, len);
}

void http_respond_json_raw(http_req_t *req, int status, const char *json, size_t len) {
  http_respond(req, status, "application/json", json, len);
}

static void default_error_body(http_req_t *req, int status, const char *code, const char *message, buf_t *b) {
  UNUSED(req);
  UNUSED(status);
  buf_puts(b, "{\"error\":");
  buf_json_str(b, message);
  buf_puts(b, ",\"code\":");
  buf_json_str(b, code);
  buf_puts(b, "}");
}

void http_respond_error(http_req_t *req, int status, const char *code, const char *message) {
  buf_t b = BUF_INIT;
  http_error_body_fn render = req->server && req->server->error_body ? req->server->error_body : default_error_body;
  render(req, status, code, message, &b);
  http_respond(req, status, "application/json", b.data, b.len);
  buf_free(&b);
}

void http_server_on_error_body(http_server_t *srv, http_error_body_fn fn) {
  srv->error_body = fn;
  buf_reset(&srv->reject_body); /* the over-limit answer, rendered once */
  (fn ? fn : default_error_body)(NULL, 503, "SERVICE_UNAVAILABLE", "too many connections", &srv->reject_body);
}

static void on_write(uv_write_t *w, int status) {
  http_conn_t *c = container_of(w, http_conn_t, wreq);
  if (c->state == CONN_CLOSING) return; /* cancelled by close: close_cb frees */
  if (status < 0) {
    conn_close(c);
    return;
  }
  conn_after_write(c);
}

static void on_shutdown(uv_shutdown_t *sr, int status) { UNUSED(sr), UNUSED(status); } /* the timer ends lingering */

/* A connection that closes after its last response: lingering close when input may be unread
 * (an error or a 503 left the client's bytes unread, or pipelined bytes wait in the buffer),
 * else close at once. */
static void conn_finish(http_conn_t *c) {
  if (c->rpos < c->rlen) c->linger = 1; /* pipelined after the last request: never parsed */
  if (!c->linger || c->peer_eof) {
    conn_close(c);
    return;
  }
  c->rpos = c->rlen = 0;
  conn_rbuf_trim(c);
  conn_set_state(c, CONN_LINGER);
  c->sreq.data = c;
  if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
    conn_close(c);
    return;
  }
  update_reading(c);
}

static void conn_after_write(http_conn_t *c) {
  http_req_t *r = c->req;
  int keep = r ? r->keep_alive : 0; /* no request: conn_reject's 503 */
  c->req = NULL;
  if (r) {
    req_account(r);
    req_free(r);
  }
  buf_free(&c->wbuf); /* only a write the socket did not take at once used it */
  if (!keep || c->srv->draining) {
    conn_finish(c);
    return;
  }
  c->fresh = 0;
  conn_set_state(c, CONN_IDLE);
  conn_drive(c); /* next pipelined request, or resume reading; no-op when called inside drive */
}

/* The request being read, created if the failure came before any, with its id assigned (the
 * id its error response and log lines carry). */
static http_req_t *conn_failed_req(http_conn_t *c) {
  if (!c->req) c->req = req_new(c);
  if (!c->req->request_id[0]) req_assign_id(c->req);
  return c->req;
}

/* Responds to the request being read (creating one if the failure came before any) and closes
 * with a lingering close: from here on the client's bytes are read and dropped, not parsed. */
static void conn_fail(http_conn_t *c, int status, const char *code, const char *msg) {
  if (c->state == CONN_CLOSING || c->state == CONN_WRITING || c->state == CONN_HANDLING ||
      c->state == CONN_LINGER)
    return;
  http_req_t *r = conn_failed_req(c);
  r->keep_alive = 0;
  c->rpos = c->rlen = 0; /* nothing after a bad request can be trusted */
  conn_rbuf_trim(c);
  c->linger = 1;
  c->discarded = 0;
  http_respond_error(r, status, code, msg);
  if (c->state != CONN_CLOSING) update_reading(c);
}

/* ------------------------------------------------------------------ llhttp callbacks */

static http_conn_t *pconn(llhttp_t *p) { return p->data; }

static int reject(http_conn_t *c, int status, const char *code, const char *msg) {
  c->err_status = status;
  c->err_code = code;
  c->err_msg = msg;
  return -1; /* HPE_USER: llhttp_execute returns, conn_drive responds */
}

static int on_message_begin(llhttp_t *p) {
  http_conn_t *c = pconn(p);
  assert(c->req == NULL);
  c->req = req_new(c);
  c->head_bytes = 0;
  c->ntrailers = 0;
  c->cur_name = NULL;
  buf_reset(&c->scratch);
  conn_set_state(c, CONN_READ_HEAD);
  return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len) {
  http_conn_t *c = pconn(p);
  if (c->scratch.len + len > HTTP_MAX_URL) return reject(c, 414, "URI_TOO_LONG", "request URI too long");
  buf_append(&c->scratch, at, len);
  return 0;
}

static int on_url_complete(llhttp_t *p) {
  http_conn_t *c = pconn(p);
  http_req_t *r = c->req;
  c->head_bytes += c->scratch.len;
  const char *url = c->scratch.data ? c->scratch.data : "";
  size_t n = c->scratch.len;
  if (n == 0 || url[0] != '/') return reject(c, 400, "BAD_REQUEST", "request target must be an absolute path");
  /* llhttp 8.1 lets a tab and other control bytes into the target (RFC 9112 3.2 allows none). */
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)url[i] < 0x21 || url[i] == 0x7f)
      return reject(c, 400, "BAD_REQUEST", "control character in request target");
  const char *q = memchr(url, '?', n);
  size_t plen = q ? (size_t)(q - url) : n;
  const char *hash = memchr(url, '#', n);
  if (hash) return reject(c, 400, "BAD_REQUEST", "fragment in request target");
  r->path = arena_strndup(r->arena, url, plen);
  r->path_len = plen;
  r->query = q ? arena_strndup(r->arena, q + 1, n - plen - 1) : NULL;
  buf_reset(&c->scratch);
  return 0;
}

static int head_span(http_conn_t *c, const char *at, size_t len) {
  if (c->head_bytes + c->scratch.len + len > HTTP_MAX_HEAD)
    return reject(c, 431, "HEADERS_TOO_LARGE", "request header block too large");
  buf_append(&c->scratch, at, len);
  return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len) { return head_span(pconn(p), at, len); }
static int on_header_value(llhttp_t *p, const char *at, size_t len) { return head_span(pconn(p), at, len); }

static int on_header_field_complete(llhttp_t *p) {
  http_conn_t *c = pconn(p);
  http_req_t *r = c->req;
  if (r->nheaders + c->ntrailers >= HTTP_MAX_HEADERS)
    return reject(c, 431, "HEADERS_TOO_LARGE", "too many request headers");
  c->head_bytes += c->scratch.len + 4; /* ": " and CRLF */
  /* A field name is a token (RFC 9110 5.1); llhttp 8 lets "Host : x" through as "Host ", and
   * such names are a request-smuggling vector: refuse them. */
  static const char tchar[] = "!#$%&'*+-.^_`|~";
  if (c->scratch.len == 0) return reject(c, 400, "BAD_REQUEST", "empty header name");
  for (size_t i = 0; i < c->scratch.len; i++) {
    char ch = c->scratch.data[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || strchr(tchar, ch)) || !ch)
      return reject(c, 400, "BAD_REQUEST", "malformed header name");
  }
  c->cur_name = arena_strndup(r->arena, c->scratch.data ? c->scratch.data : "", c->scratch.len);
  buf_reset(&c->scratch);
  return 0;
}

static int on_header_value_complete(llhttp_t *p) {
  http_conn_t *c = pconn(p);
  http_req_t *r = c->req;
  c->head_bytes += c->scratch.len;
  if (c->head_bytes > HTTP_MAX_HEAD) return reject(c, 431, "HEADERS_TOO_LARGE", "request header block too large");
  size_t n = c->scratch.len;
  const char *v = c->scratch.data ? c->scratch.data : "";
  if (memchr(v, '\0', n)) return reject(c, 400, "BAD_REQUEST", "NUL byte in a header value");
  while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--; /* trailing OWS */
  if (c->state == CONN_READ_BODY) { /* a trailer: checked and counted, never merged into the headers
                                     * (a trailing X-Request-Id or credential is not the client's header) */
    c->ntrailers++;
    c->cur_name = NULL;
    buf_reset(&c->scratch);
    return 0;
  }
  if (r->nheaders == r->headers_cap) {
    int cap = r->headers_cap ? r->headers_cap * 2 : 16;
    http_header_t *h = arena_alloc(r->arena, (size_t)cap * sizeof *h);
    if (r->nheaders) memcpy(h, r->headers, (size_t)r->nheaders * sizeof *h);
    r->headers = h;
    r->headers_cap = cap;
  }
  http_header_t *h = &r->headers[r->nheaders++];
  h->name = c->cur_name ? c->cur_name : "";
  h->value = arena_strndup(r->arena, v, n);
  h->value_len = n;
  c->cur_name = NULL;
  buf_reset(&c->scratch);
  return 0;
}

static void on_continue_written(uv_write_t *w, int status) {
  UNUSED(status); /* a failure shows on the read side */
  free(w);
}

static void write_continue(http_conn_t *c) {
  static char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
  uv_buf_t b = uv_buf_init(cont, sizeof cont - 1);
  int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
  if (n == (int)(sizeof cont - 1) || (n < 0 && n != UV_EAGAIN)) return; /* sent, or the read side will see the error */
  b = uv_buf_init(cont + (n > 0 ? n : 0), (unsigned)(sizeof cont - 1 - (size_t)(n > 0 ? n : 0)));
  /* The interim response is ahead of any final one in the stream's write queue. Its request is
   * allocated here, not kept in every connection: this is rare. libuv calls back (ECANCELED at
   * the latest, when the connection closes), and that frees it. */
  uv_write_t *w = xmalloc(sizeof *w);
  if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_continue_written) != 0) free(w);
}

static int on_headers_complete(llhttp_t *p) {
  http_conn_t *c = pconn(p);
  http_req_t *r = c->req;
  r->method = llhttp_get_method(p);
  r->method_name = llhttp_method_name((llhttp_method_t)r->method);
  /* What the edge check expects next: exactly what llhttp will parse next. */
  if (p->flags & F_CHUNKED) {
    c->g_state = G_CHUNK_LINE;
    c->g_line = 0;
    c->g_ext = 0;
  } else if ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0) {
    c->g_state = G_BODY;
    c->g_left = p->content_length;
  } else {
    c->g_state = G_HEAD; /* no body: the message ends here */
  }
  if (p->http_major != 1) return reject(c, 505, "HTTP_VERSION_NOT_SUPPORTED", "only HTTP/1.x is supported");
  size_t max = c->srv->cfg->max_body;
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > max)
    return reject(c, 413, "PAYLOAD_TOO_LARGE", "request body too large");
  const char *expect = http_req_header(r, "Expect");
  if (expect) {
    if (ascii_casecmp_n(expect, strlen(expect), "100-continue") != 0)
      return reject(c, 417, "EXPECTATION_FAILED", "unsupported Expect value");
    if (p->http_minor >= 1) write_continue(c);
  }
  conn_set_state(c, CONN_READ_BODY);
  return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len) {
  http_conn_t *c = pconn(p);
  http_req_t *r = c->req;
  if (r->body.len + len > c->srv->cfg->max_body)
    return reject(c, 413, "PAYLOAD_TOO_LARGE", "request body too large");
  buf_append(&r->body, at, len);
  return 0;
}

/* After a chunk-size line; content_length holds the chunk's size (0: the last chunk, trailers follow). */
static int on_chunk_header(llhttp_t *p) {
  http_conn_t *c = pconn(p);
  if (p->content_length > 0) {
    c->g_state = G_CHUNK_DATA;
    c->g_left = p->content_length;
  } else {
    c->g_state = G_TRAILERS;
    c->g_line = c->g_lines = c->g_bytes = 0;
  }
  return 0;
}

static int on_message_complete(llhttp_t *p) {
  UNUSED(p);
  return HPE_PAUSED; /* one request at a time; conn_drive dispatches it */
}

static void settings_init(void) {
  static int done;
  if (done) return;
  done = 1;
  llhttp_settings_init(&g_settings);
  g_settings.on_message_begin = on_message_begin;
  g_settings.on_url = on_url;
  g_settings.on_url_complete = on_url_complete;
  g_settings.on_header_field = on_header_field;
  g_settings.on_header_field_complete = on_header_field_complete;
  g_settings.on_header_value = on_header_value;
  g_settings.on_header_value_complete = on_header_value_complete;
  g_settings.on_headers_complete = on_headers_complete;
  g_settings.on_body = on_body;
  g_settings.on_chunk_header = on_chunk_header;
  g_settings.on_message_complete = on_message_complete;
}

/* ------------------------------------------------------------------ dispatch */

static int origin_listed(char *const *list, int n, const char *origin, int *star) {
  *star = 0;
  for (int i = 0; i < n; i++) {
    if (strcmp(list[i], "*") == 0) *star = 1;
    else if (strcmp(list[i], origin) == 0) return 1;
  }
  return *star;
}

/* Adds CORS headers for the request's Origin when the route and configuration allow it. */
static int add_cors(http_req_t *r) {
  const char *origin = http_req_header(r, "Origin");
  if (!origin) return 0;
  const config_t *cfg = r->server->cfg;
  int star = 0;
  if (r->match.flags & ROUTE_PUBLIC) {
    if (!origin_listed(cfg->cors_public_origins, cfg->n_cors_public_origins, origin, &star)) return 0;
    http_set_header(r, "Access-Control-Allow-Origin", star ? "*" : origin);
  } else {
    if (!origin_listed(cfg->cors_origins, cfg->n_cors_origins, origin, &star)) return 0;
    http_set_header(r, "Access-Control-Allow-Origin", origin);
    http_set_header(r, "Access-Control-Allow-Credentials", "true");
  }
  if (!star) http_set_header(r, "Vary", "Origin");
  http_set_header(r, "Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
  return 1;
}

static void conn_dispatch(http_conn_t *c) {
  http_req_t *r = c->req;
  r->keep_alive = llhttp_should_keep_alive(&c->parser) && !c->parser.upgrade && !c->srv->draining;
  req_assign_id(r);
  conn_set_state(c, CONN_HANDLING); /* reading goes on: see update_reading */
  int rc = router_match(c->srv->router, r->method, r->path, r->path_len, r->arena, &r->match);
  char allow[96] = "";
  if (rc == ROUTER_BAD_METHOD) router_allow_string(r->match.allow, allow, sizeof allow); /* only these use it */
  if (rc == ROUTER_NOT_FOUND) {
    if (c->srv->on_unrouted) c->srv->on_unrouted(r, 404, NULL);
    else http_respond_error(r, 404, "NOT_FOUND", "no such resource");
    return;
  }
  if (rc == ROUTER_BAD_PATH) {
    http_respond_error(r, 400, "BAD_REQUEST", "malformed percent-encoding in path");
    return;
  }
  int cors = add_cors(r);
  if (rc == ROUTER_BAD_METHOD && r->method == HTTP_OPTIONS) {
    http_set_header(r, "Allow", allow);
    if (cors && http_req_header(r, "Access-Control-Request-Method")) {
      http_set_header(r, "Access-Control-Allow-Methods", allow);
      http_set_header(r, "Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
      http_set_header(r, "Access-Control-Max-Age", "600");
    }
    http_respond(r, 204, NULL, NULL, 0);
    return;
  }
  if (rc == ROUTER_BAD_METHOD) {
    http_set_header(r, "Allow", allow);
    if (c->srv->on_unrouted) c->srv->on_unrouted(r, 405, allow);
    else http_respond_error(r, 405, "METHOD_NOT_ALLOWED", "method not allowed for this resource");
    return;
  }
  if (r->match.route->handler(r) != 0 && !r->responded)
    http_respond_error(r, 500, "INTERNAL", "internal error");
}

/* ------------------------------------------------------------------ reading */

static char *rbuf_get(http_server_t *s) {
  if (!s->rfree) return xmalloc(RBUF_SIZE);
  char *b = s->rfree;
  memcpy(&s->rfree, b, sizeof(char *));
  s->nrfree--;
  return b;
}

static void rbuf_put(http_server_t *s, char *b) {
  if (s->nrfree >= RBUF_POOL) {
    free(b);
    return;
  }
  memcpy(b, &s->rfree, sizeof(char *));
  s->rfree = b;
  s->nrfree++;
}

/* Gives the read buffer back when no byte waits in it. */
static void conn_rbuf_trim(http_conn_t *c) {
  if (!c->rbuf || c->rpos < c->rlen) return;
  rbuf_put(c->srv, c->rbuf);
  c->rbuf = NULL;
  c->rpos = c->rlen = 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  UNUSED(suggested);
  http_conn_t *c = container_of((uv_tcp_t *)h, http_conn_t, tcp);
  if (!c->rbuf) c->rbuf = rbuf_get(c->srv); /* on_read or conn_drive gives it back once parsed */
  if (c->rpos > 0) {
    memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
    c->rlen -= c->rpos;
    c->rpos = 0;
  }
  *b = uv_buf_init(c->rbuf + c->rlen, (unsigned)(RBUF_SIZE - c->rlen));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  UNUSED(b);
  http_conn_t *c = container_of((uv_tcp_t *)s, http_conn_t, tcp);
  if (n == 0) { /* EAGAIN */
    conn_rbuf_trim(c);
    return;
  }
  if (n == UV_EOF && (c->state == CONN_HANDLING || c->state == CONN_WRITING)) {
    /* A half-close after a complete request: the client waits for its answer. Answer it, then
     * close (no further request can come). Only a reset or a failed write means it has gone. */
    c->peer_eof = 1;
    if (c->req) c->req->keep_alive = 0;
    update_reading(c);
    conn_rbuf_trim(c);
    return;
  }
  if (n < 0) { /* EOF or error: a half-received request is abandoned with the connection */
    conn_close(c);
    return;
  }
  if (c->linger) { /* answered with an error or a 503: drop the bytes, up to a cap */
    c->rpos = c->rlen = 0;
    conn_rbuf_trim(c);
    c->discarded += (size_t)n;
    if (c->discarded > LINGER_MAX_BYTES) conn_close(c);
    return;
  }
  c->rlen += (size_t)n;
  c->last_read = uv_now(c->srv->loop);
  conn_drive(c);
  if (c->state == CONN_READ_BODY) conn_set_state(c, CONN_READ_BODY); /* inactivity timer, rate */
}

static void update_reading(http_conn_t *c) {
  /* While a handler works, reading goes on (pipelined bytes wait in the buffer, unparsed) so
   * that a client's reset orphans the request at once (server.h's orphan policy) instead of
   * being noticed only when the response is written. A half-close stops reading for good. */
  int want = 0;
  switch (c->state) {
    case CONN_IDLE:
    case CONN_READ_HEAD:
    case CONN_READ_BODY:
    case CONN_HANDLING: want = c->rlen < RBUF_SIZE && !c->peer_eof; break;
    case CONN_WRITING: want = c->linger && !c->peer_eof; break; /* an error's answer: drop what still comes */
    case CONN_LINGER: want = !c->peer_eof; break;
    case CONN_CLOSING: break;
  }
  if (want && !c->reading) {
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0) c->reading = 1;
  } else if (!want && c->reading) {
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = 0;
  }
}

/* Refuses what llhttp 8.1 would accept and a proxy in front may read differently (STYLE.md,
 * llhttp facts): a CR not followed by LF anywhere outside body data (llhttp ends the header block
 * or trailers at "\r\n\rX", and takes any byte after a chunk size's CR), a header or trailer
 * line starting with a space or tab (obsolete line folding: llhttp glues it to the previous
 * field, so an indented Content-Length is no Content-Length), anything but CRLF after chunk data
 * (llhttp skips any two bytes), chunk sizes of more than 16 digits; and it counts chunk
 * extensions (the wire bytes from ';' to CR) against the head limit. Returns how many bytes of
 * data llhttp may parse now: fewer than len when a CR waits for its next byte, at the end of a
 * section after which only llhttp knows what follows (head, chunk-size line, message), or at a
 * refused byte (then c->err_status is set through reject). */
static size_t conn_guard(http_conn_t *c, const char *data, size_t len) {
  size_t i = 0;
  while (i < len) {
    unsigned char ch = (unsigned char)data[i];
    switch (c->g_state) {
      case G_HEAD:
      case G_TRAILERS: {
        if (ch != '\r' && ch != '\n' && (c->g_line > 0 || (ch != ' ' && ch != '\t'))) {
          /* The common case, a run of bytes inside a line, in one step: the same checks as
           * byte by byte below, at a fraction of the cost per byte of a head. */
          size_t j = i + 1;
          while (j < len && data[j] != '\r' && data[j] != '\n') j++;
          if (c->g_bytes + (j - i) > HEAD_WIRE_MAX) {
            reject(c, 431, "HEADERS_TOO_LARGE", "request header block too large");
            return i + (HEAD_WIRE_MAX - c->g_bytes); /* the first byte over the limit */
          }
          c->g_bytes += j - i;
          c->g_line += j - i;
          i = j;
          break;
        }
        if (++c->g_bytes > HEAD_WIRE_MAX) {
          reject(c, 431, "HEADERS_TOO_LARGE", "request header block too large");
          return i;
        }
        if (ch == '\r') {
          if (i + 1 == len) return i; /* its LF has not arrived */
          if (data[i + 1] != '\n') {
            reject(c, 400, "BAD_REQUEST", "CR not followed by LF in the request head");
            return i;
          }
          i++;
          ch = '\n';
        }
        if (ch == '\n') {
          i++;
          if (c->g_line > 0) { /* the end of a line */
            c->g_lines++;
            c->g_line = 0;
            continue;
          }
          if (c->g_state == G_HEAD && c->g_lines == 0) { /* empty lines before a request line (RFC 9112 2.2) */
            if (++c->g_blank > 8) {
              reject(c, 400, "BAD_REQUEST", "too many empty lines before the request line");
              return i - 1;
            }
            continue;
          }
          /* The empty line: the head ends (llhttp says what follows) or the trailers and message do. */
          c->g_state = c->g_state == G_HEAD ? G_WAIT : G_HEAD;
          c->g_line = c->g_lines = c->g_blank = c->g_bytes = 0;
          return i;
        }
        if (c->g_line == 0 && (ch == ' ' || ch == '\t')) {
          reject(c, 400, "BAD_REQUEST", "obsolete line folding in the request head");
          return i;
        }
        c->g_line++;
        i++;
        break;
      }
      case G_WAIT: /* llhttp parsed past a section end without saying what follows: never trust it */
        reject(c, 400, "BAD_REQUEST", "malformed HTTP request");
        return i;
      case G_BODY: {
        size_t take = len - i < c->g_left ? len - i : (size_t)c->g_left;
        i += take;
        c->g_left -= take;
        if (c->g_left == 0) { /* the message ends: the next one starts with a head */
          c->g_state = G_HEAD;
          return i;
        }
        break;
      }
      case G_CHUNK_LINE:
        if (ch == '\r') {
          if (i + 1 == len) return i;
          if (data[i + 1] != '\n') {
            reject(c, 400, "BAD_REQUEST", "CR not followed by LF in a chunk size line");
            return i;
          }
          c->g_state = G_WAIT; /* on_chunk_header: data, or the trailers after the last chunk */
          return i + 2;
        }
        if (ch == '\n') {
          reject(c, 400, "BAD_REQUEST", "LF without CR in a chunk size line");
          return i;
        }
        if (!c->g_ext && ch == ';') c->g_ext = 1;
        if (c->g_ext) {
          if (++c->head_bytes > HTTP_MAX_HEAD) {
            reject(c, 413, "PAYLOAD_TOO_LARGE", "chunk extensions too large");
            return i;
          }
        } else if (++c->g_line > 16) { /* 16 hex digits hold any 64-bit size: the rest are padding */
          reject(c, 400, "BAD_REQUEST", "chunk size too long");
          return i;
        }
        i++;
        break;
      case G_CHUNK_DATA: {
        size_t take = len - i < c->g_left ? len - i : (size_t)c->g_left;
        i += take;
        c->g_left -= take;
        if (c->g_left == 0) {
          c->g_state = G_CHUNK_END;
          c->g_line = 0;
        }
        break;
      }
      case G_CHUNK_END:
        if (ch != (c->g_line == 0 ? '\r' : '\n')) {
          reject(c, 400, "BAD_REQUEST", "chunk data not followed by CRLF");
          return i;
        }
        i++;
        if (++c->g_line == 2) {
          c->g_state = G_CHUNK_LINE;
          c->g_line = 0;
          c->g_ext = 0;
        }
        break;
    }
  }
  return i;
}

/* Feeds buffered bytes to the parser, each piece checked by conn_guard first, and dispatches
 * complete requests, one at a time. Re-entry (a handler that responds synchronously) only marks
 * progress: the loop here continues with the next pipelined request, so the stack never grows
 * with pipelining. */
static void conn_drive(http_conn_t *c) {
  if (c->in_drive || c->state == CONN_CLOSING) return;
  c->in_drive = 1;
  while (c->rpos < c->rlen &&
         (c->state == CONN_IDLE || c->state == CONN_READ_HEAD || c->state == CONN_READ_BODY)) {
    const char *data = c->rbuf + c->rpos;
    size_t len = conn_guard(c, data, c->rlen - c->rpos);
    if (c->err_status) {
      conn_fail(c, c->err_status, c->err_code, c->err_msg);
      break;
    }
    if (len == 0) break; /* a CR waits for its LF */
    llhttp_errno_t err = llhttp_execute(&c->parser, data, len);
    if (err == HPE_OK) {
      c->rpos += len;
      continue;
    }
    if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
      size_t used = (size_t)(llhttp_get_error_pos(&c->parser) - data);
      if (err == HPE_PAUSED && used != len) {
        /* conn_guard stops at every message end, so the parser pauses exactly there; one that
         * stopped elsewhere disagrees with the check about where a message ends: refuse. */
        conn_fail(c, 400, "BAD_REQUEST", "malformed HTTP request");
        break;
      }
      c->rpos += used;
      if (err == HPE_PAUSED) {
        llhttp_resume(&c->parser);
      } else {
        c->rpos = c->rlen; /* bytes after an Upgrade are not HTTP: answer, then close */
        c->linger = 1;     /* and drop what else comes, so the client still reads the answer */
      }
      conn_dispatch(c);
      continue;
    }
    int status = c->err_status ? c->err_status : 400;
    const char *code = c->err_status ? c->err_code : "BAD_REQUEST";
    const char *msg = c->err_status ? c->err_msg : "malformed HTTP request";
    if (!c->err_status && log_enabled(LOG_DEBUG))
      log_req(conn_failed_req(c), LOG_DEBUG, "bad request", "reason", llhttp_get_error_reason(&c->parser), NULL);
    conn_fail(c, status, code, msg);
    break;
  }
  if (c->state == CONN_CLOSING) c->rpos = c->rlen = 0; /* conn_close left the input to us */
  if (c->rpos == c->rlen) {
    conn_rbuf_trim(c); /* all parsed: an idle connection holds no buffer */
  } else if (c->rpos > 0 && c->rlen == RBUF_SIZE) {
    /* A full buffer whose tail is the start of the next request (a CR waiting for its LF, a
     * head cut by the buffer's end): make room, or reading would never resume. Bytes from rpos
     * on were never given to llhttp. */
    memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
    c->rlen -= c->rpos;
    c->rpos = 0;
  }
  c->in_drive = 0;
  if (c->state != CONN_CLOSING) {
    conn_arm(c); /* once, for the state the drive ended in (conn_set_state) */
    update_reading(c);
  }
}

/* ------------------------------------------------------------------ connections */

/* Open connections per peer address (SLOTD_MAX_CONNECTIONS_PER_IP). Entries live while a count
 * is above zero, so there are never more than open connections and the map's clear-at-cap rule
 * (sized above SLOTD_MAX_CONNECTIONS) never fires. */
enum { IP_NONE, IP_OPEN, IP_REJECTING };

typedef struct {
  int open;      /* connections served */
  int rejecting; /* connections being answered 503 */
} ip_count_t;

static void ip_release(http_conn_t *c) {
  if (c->ip_counted == IP_NONE) return;
  ip_count_t *n = map_get(c->srv->per_ip, c->ipkey);
  if (n) {
    if (c->ip_counted == IP_OPEN) n->open--;
    else n->rejecting--;
    if (n->open <= 0 && n->rejecting <= 0) map_del(c->srv->per_ip, c->ipkey);
  }
  c->ip_counted = IP_NONE;
}

static void on_conn_closed(uv_handle_t *h) {
  http_conn_t *c = h->data;
  if (--c->closes_pending > 0) return;
  http_server_t *s = c->srv;
  if (c->ip_counted == IP_REJECTING) s->nrejecting--; /* conn_reject moved it from nconns */
  else s->nconns--;
  ip_release(c);
  if (c->req) { /* failed mid-read or mid-write: account for it, then free */
    if (c->req->responded) req_account(c->req);
    req_free(c->req);
  }
  buf_free(&c->scratch);
  buf_free(&c->wbuf);
  if (c->rbuf) rbuf_put(s, c->rbuf);
  if (c->prev) c->prev->next = c->next;
  else s->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  free(c);
  if (s->draining && s->nconns == 0 && s->nrejecting == 0 && s->norphans == 0 && s->on_drained) drained(s);
}

static void conn_close(http_conn_t *c) {
  if (c->state == CONN_CLOSING) return;
  if (c->req && c->state == CONN_HANDLING) { /* a handler still owns it: orphan (habit 5) */
    c->req->conn = NULL;
    c->req->orphaned = 1;
    c->req = NULL;
    c->srv->norphans++; /* the server (and what handlers use) stays until it is answered */
  }
  conn_set_state(c, CONN_CLOSING); /* stops the timer */
  if (!c->in_drive) { /* (else conn_drive does it) its input is dropped: the buffer goes back at once, so
                       * many connections closing in one loop iteration do not hold one each */
    c->rpos = c->rlen = 0;
    conn_rbuf_trim(c);
  }
  c->closes_pending = 2;
  uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
  uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

static void format_peer(const struct sockaddr_storage *ss, char *out, size_t outlen) {
  char ip[INET6_ADDRSTRLEN] = "?";
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
    snprintf(out, outlen, "%s:%d", ip, ntohs(a->sin_port));
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
    snprintf(out, outlen, "[%s]:%d", ip, ntohs(a->sin6_port));
  } else {
    snprintf(out, outlen, "unknown");
  }
}

/* A connection over SLOTD_MAX_CONNECTIONS gets a 503 and a lingering close: write, send FIN, and
 * discard what the client sends until it closes, LINGER_MS pass or LINGER_MAX_BYTES came, so the
 * client reads the answer instead of a reset caused by its unread request. A small reject_t, not
 * an http_conn_t: these do not count as open connections. */
#define MAX_REJECTING 256

/* The head of the 503 for a connection over a limit (its body is s->reject_body); the same
 * bytes for SLOTD_MAX_CONNECTIONS (reject_t) and SLOTD_MAX_CONNECTIONS_PER_IP (conn_reject). */
static int reject_head(http_server_t *s, char *out, size_t cap) {
  return snprintf(out, cap,
                  "HTTP/1.1 503 Service Unavailable\r\nDate: %s\r\nContent-Type: application/json\r\n"
                  "Content-Length: %zu\r\nX-Request-Id: %s%016llx\r\nRetry-After: 1\r\nConnection: close\r\n\r\n",
                  http_date(), s->reject_body.len, s->reqid_prefix, (unsigned long long)++s->reqid_counter);
}

typedef struct {
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_write_t wreq;
  uv_shutdown_t sreq;
  http_server_t *srv;
  void *prev, *next;      /* server's list of rejecting connections */
  int closes_pending;
  size_t discarded;       /* bytes dropped; over LINGER_MAX_BYTES the connection is closed */
  char head[320];
  char sink[2048];
} reject_t;


static void on_reject_closed(uv_handle_t *h) {
  reject_t *r = h->data;
  if (--r->closes_pending > 0) return;
  http_server_t *s = r->srv;
  if (r->prev) ((reject_t *)r->prev)->next = r->next;
  else s->rejecting = r->next;
  if (r->next) ((reject_t *)r->next)->prev = r->prev;
  s->nrejecting--;
  free(r);
  if (s->draining && s->nconns == 0 && s->nrejecting == 0 && s->norphans == 0 && s->on_drained) drained(s);
}

static void reject_close(reject_t *r) {
  if (uv_is_closing((uv_handle_t *)&r->tcp)) return;
  uv_close((uv_handle_t *)&r->tcp, on_reject_closed);
  uv_close((uv_handle_t *)&r->timer, on_reject_closed);
}

static void on_reject_timer(uv_timer_t *t) { reject_close(t->data); }

static void on_reject_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  UNUSED(suggested);
  reject_t *r = h->data;
  *b = uv_buf_init(r->sink, sizeof r->sink);
}

static void on_reject_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b) {
  UNUSED(b);
  reject_t *r = st->data;
  if (n < 0 || (r->discarded += (size_t)n) > LINGER_MAX_BYTES) reject_close(r);
}

static void on_reject_shutdown(uv_shutdown_t *sr, int status) { UNUSED(sr), UNUSED(status); }

static void on_reject_written(uv_write_t *w, int status) {
  reject_t *r = w->data;
  if (status < 0 || uv_is_closing((uv_handle_t *)&r->tcp)) return;
  r->sreq.data = r;
  if (uv_shutdown(&r->sreq, (uv_stream_t *)&r->tcp, on_reject_shutdown) != 0) reject_close(r);
}

static void reject_connection(http_server_t *s) {
  reject_t *r = xcalloc(1, sizeof *r);
  r->srv = s;
  r->closes_pending = 2;
  r->next = s->rejecting;
  if (s->rejecting) ((reject_t *)s->rejecting)->prev = r;
  s->rejecting = r;
  s->nrejecting++;
  s->rejected++;
  uv_tcp_init(s->loop, &r->tcp);
  uv_timer_init(s->loop, &r->timer);
  r->tcp.data = r->timer.data = r->wreq.data = r;
  if (uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)&r->tcp) != 0 || s->nrejecting > MAX_REJECTING) {
    reject_close(r);
    return;
  }
  int n = reject_head(s, r->head, sizeof r->head);
  uv_buf_t bufs[2] = {uv_buf_init(r->head, (unsigned)n), uv_buf_init(s->reject_body.data, (unsigned)s->reject_body.len)};
  if (uv_write(&r->wreq, (uv_stream_t *)&r->tcp, bufs, 2, on_reject_written) != 0 ||
      uv_read_start((uv_stream_t *)&r->tcp, on_reject_alloc, on_reject_read) != 0) {
    reject_close(r);
    return;
  }
  uv_timer_start(&r->timer, on_reject_timer, LINGER_MS, 0);
}

/* An accepted connection whose address is at SLOTD_MAX_CONNECTIONS_PER_IP: the same 503 as over
 * SLOTD_MAX_CONNECTIONS, then a lingering close (conn_finish). Like a reject_t it counts among
 * the rejecting connections (MAX_REJECTING), not the open ones: an address at its cap cannot
 * fill SLOTD_MAX_CONNECTIONS with answers to its own excess. */
static void conn_reject(http_conn_t *c) {
  http_server_t *s = c->srv;
  s->nconns--;
  s->nrejecting++;
  if (s->nrejecting > MAX_REJECTING) {
    conn_close(c);
    return;
  }
  char head[320];
  int n = reject_head(s, head, sizeof head);
  s->rejected++;
  c->linger = 1;
  conn_send(c, head, (size_t)n, s->reject_body.data, s->reject_body.len); /* no request: no keep-alive */
  if (c->state != CONN_CLOSING) update_reading(c);
}

/* Counts c against its address's limit; 0, or -1 when it is over (the caller answers 503, or
 * closes at once when the address already has MAX_REJECTING_PER_IP answers in flight: -2).
 * SLOTD_TRUSTED_PROXIES are not counted: they carry many clients, and limit them themselves. */
static int ip_admit(http_conn_t *c) {
  http_server_t *s = c->srv;
  const struct sockaddr_storage *ss = &c->peer_addr;
  unsigned char addr[16];
  int family = ss->ss_family;
  if (family == AF_INET) {
    memcpy(addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
  } else if (family == AF_INET6) {
    memcpy(addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(addr, v4mapped, 12) == 0) { /* ::ffff:a.b.c.d is a.b.c.d */
      memmove(addr, addr + 12, 4);
      family = AF_INET;
    }
  } else {
    return 0;
  }
  const config_t *cfg = s->cfg;
  if (config_cidr_match(cfg->trusted_proxies, cfg->n_trusted_proxies, family, addr)) return 0;
  if (!inet_ntop(family, addr, c->ipkey, sizeof c->ipkey)) return 0;
  int created;
  ip_count_t *n = map_put(s->per_ip, c->ipkey, &created);
  if (n->open < cfg->max_connections_per_ip) {
    n->open++;
    c->ip_counted = IP_OPEN;
    return 0;
  }
  if (n->rejecting >= MAX_REJECTING_PER_IP) return -2;
  n->rejecting++;
  c->ip_counted = IP_REJECTING;
  return -1;
}

static void on_connection(uv_stream_t *l, int status) {
  http_server_t *s = container_of((uv_tcp_t *)l, http_server_t, listener);
  if (status < 0 || s->draining) return;
  if (s->nconns >= s->cfg->max_connections) {
    reject_connection(s);
    return;
  }
  http_conn_t *c = xcalloc(1, sizeof *c);
  c->srv = s;
  uv_tcp_init(s->loop, &c->tcp);
  uv_timer_init(s->loop, &c->timer);
  c->tcp.data = c;
  c->timer.data = c;
  c->next = s->conns;
  if (s->conns) s->conns->prev = c;
  s->conns = c;
  s->nconns++;
  if (uv_accept(l, (uv_stream_t *)&c->tcp) != 0) {
    conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  int len = sizeof c->peer_addr;
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer_addr, &len) == 0)
    format_peer(&c->peer_addr, c->peer, sizeof c->peer);
  else
    snprintf(c->peer, sizeof c->peer, "unknown");
  llhttp_init(&c->parser, HTTP_REQUEST, &g_settings);
  c->parser.data = c;
  c->fresh = 1;
  c->accepted_at = c->phase_start = uv_now(s->loop);
  conn_set_state(c, CONN_IDLE);
  int rc = ip_admit(c);
  if (rc == -2) {
    conn_close(c);
    return;
  }
  if (rc == -1) {
    conn_reject(c);
    return;
  }
  update_reading(c);
}

/* ------------------------------------------------------------------ server */

http_server_t *http_server_new(uv_loop_t *loop, const config_t *cfg, const http_route_t *routes, int nroutes,
                               void *app) {
  settings_init();
  http_server_t *s = xcalloc(1, sizeof *s);
  s->loop = loop;
  s->cfg = cfg;
  s->app = app;
  s->router = router_new(routes, nroutes);
  unsigned char rnd[8];
  random_bytes(rnd, sizeof rnd);
  hex_encode(rnd, sizeof rnd, s->reqid_prefix);
  uv_tcp_init(loop, &s->listener);
  uv_timer_init(loop, &s->drain_timer);
  http_server_on_error_body(s, NULL);
  s->per_ip = map_new(sizeof(ip_count_t), (size_t)cfg->max_connections + MAX_REJECTING + 16);
  return s;
}

int http_server_listen(http_server_t *s) {
  struct sockaddr_storage ss;
  int rc = strchr(s->cfg->listen_host, ':')
               ? uv_ip6_addr(s->cfg->listen_host, s->cfg->listen_port, (struct sockaddr_in6 *)&ss)
               : uv_ip4_addr(s->cfg->listen_host, s->cfg->listen_port, (struct sockaddr_in *)&ss);
  if (rc) return rc;
  if ((rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0)) != 0) return rc;
  if ((rc = uv_listen((uv_stream_t *)&s->listener, 511, on_connection)) != 0) return rc;
  s->listening = 1;
  return 0;
}

static void drained(http_server_t *s) {
  uv_timer_stop(&s->drain_timer);
  http_drained_cb cb = s->on_drained;
  s->on_drained = NULL;
  cb(s);
}

static void on_drain_timeout(uv_timer_t *t) {
  http_server_t *s = container_of(t, http_server_t, drain_timer);
  log_kv(LOG_WARN, "shutdown timeout: closing remaining connections", NULL);
  for (http_conn_t *c = s->conns; c; c = c->next) conn_close(c);
}

void http_server_drain(http_server_t *s, http_drained_cb cb) {
  if (s->draining) return;
  s->draining = 1;
  s->on_drained = cb;
  if (s->listening) {
    uv_close((uv_handle_t *)&s->listener, NULL);
    s->listening = 0;
  }
  for (http_conn_t *c = s->conns, *next; c; c = next) {
    next = c->next;
    if (c->state == CONN_IDLE && c->rlen == c->rpos) conn_close(c);
  }
  for (reject_t *r = s->rejecting; r; r = r->next) reject_close(r);
  for (http_conn_t *c = s->conns, *next; c; c = next) { /* conn_reject's: answered already */
    next = c->next;
    if (c->ip_counted == IP_REJECTING) conn_close(c);
  }
  if (s->nconns == 0 && s->nrejecting == 0 && s->norphans == 0) {
    drained(s);
    return;
  }
  uv_timer_start(&s->drain_timer, on_drain_timeout, s->cfg->shutdown_timeout_ms, 0);
}

int http_server_draining(const http_server_t *s) { return s->draining; }

void http_server_on_unrouted(http_server_t *s, http_unrouted_fn fn) { s->on_unrouted = fn; }

int http_server_port(const http_server_t *s) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len) != 0) return -1;
  return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
}
const router_t *http_server_router(const http_server_t *s) { return s->router; }
int http_server_open_connections(const http_server_t *s) { return s->nconns; }
uint64_t http_server_rejected_connections(const http_server_t *s) { return s->rejected; }

static void on_server_handle_closed(uv_handle_t *h) {
  http_server_t *s = h->data;
  if (--s->closes_pending > 0) return;
  router_free(s->router);
  buf_free(&s->reject_body);
  buf_free(&s->head);
  while (s->rfree) free(rbuf_get(s));
  map_free(s->per_ip);
  free(s);
}

void http_server_close(http_server_t *s) {
  assert(s->nconns == 0 && s->nrejecting == 0 && s->norphans == 0);
  s->closes_pending = 1;
  s->drain_timer.data = s;
  uv_close((uv_handle_t *)&s->drain_timer, on_server_handle_closed);
  if (s->listening || !uv_is_closing((uv_handle_t *)&s->listener)) {
    s->closes_pending++;
    s->listener.data = s;
    uv_close((uv_handle_t *)&s->listener, on_server_handle_closed);
  }
}
