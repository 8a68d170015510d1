/* libFuzzer target: bytes from a client through the real HTTP server (src/http/server.c with its
 * llhttp settings, head checks, size limits, pipelining, chunked bodies and Expect handling) and
 * the router (src/http/router.c), on a real libuv loop over a real loopback socket, like
 * tests/unit/test_http.c. Nothing of the server is re-implemented here.
 *
 * Input: two control bytes (a big-endian split offset) and then the bytes the client sends. The
 * client connects, writes the bytes in two writes split at that offset (the loop runs in between,
 * so spans arrive in pieces), half-closes and reads until the server closes. Per input the client
 * waits at most CLIENT_WAIT_MS for that; after it closes its socket the server must drop the
 * connection within SERVER_CLOSE_MS.
 *
 * Checked (abort on failure, so libFuzzer keeps the input):
 *  - the server closes every connection once the client is gone (no leaked connection);
 *  - what came back is a clean sequence of HTTP/1.1 responses: a status line, header lines of
 *    "Name: value" without stray CR, LF or NUL, a Content-Length that matches the body (a response
 *    to HEAD has none), nothing after a "Connection: close" response;
 *  - sanitizers: ASan, UBSan and LeakSanitizer over the server's allocations.
 * The server logs at debug level, so the request log line and the "bad request" reasons see the
 * bytes too; tests/fuzz/run passes -close_fd_mask=2 to send those lines nowhere (this file's own
 * messages and the sanitizers' reports still reach the original stderr). */
#include <errno.h>
#include <fcntl.h>
#include <llhttp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/router.h"
#include "http/server.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CLIENT_WAIT_MS 20    /* per input: how long the client waits for the server to finish */
#define SERVER_CLOSE_MS 2000 /* after the client closed: the server must have closed by then */
#define RESP_CAP (4u << 20)  /* response bytes kept for the checks; more are read and dropped */

static int dump;       /* FUZZ_HTTP_DUMP=1: print what the server answered (replaying one input) */
static int err_fd = 2; /* stderr as it was at start: -close_fd_mask=2 silences the server's log lines only */
static uv_loop_t loop;
static config_t cfg;
static http_server_t *srv;
static int port;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  dprintf(err_fd, "fuzz_http: ");
  vdprintf(err_fd, fmt, ap);
  dprintf(err_fd, "\n");
  va_end(ap);
  abort();
}

/* ------------------------------------------------------------------ handlers */

/* Echo bodies start with '{', never with "HTTP/", which the response check relies on. */
static int h_ok(http_req_t *req) {
  http_respond_json_raw(req, 200, "{\"ok\":true}", 11);
  return 0;
}

static int h_empty(http_req_t *req) {
  http_respond(req, 204, NULL, NULL, 0);
  return 0;
}

/* Path parameters and a request header back to the client; the header also as a response header
 * (http_set_header must drop CR and LF). */
static int h_item(http_req_t *req) {
  buf_t b = BUF_INIT;
  buf_puts(&b, "{\"id\":");
  buf_json_str(&b, http_req_param(req, "id"));
  buf_puts(&b, ",\"name\":");
  buf_json_str(&b, http_req_param(req, "name"));
  buf_puts(&b, ",\"query\":");
  buf_json_str(&b, req->query);
  buf_puts(&b, "}");
  const char *echo = http_req_header(req, "X-Echo");
  if (echo) http_set_header(req, "X-Echo", echo);
  log_req(req, LOG_DEBUG, "item", "echo", echo, "query", req->query, NULL); /* any bytes, one JSON line */
  http_respond_json_raw(req, 200, b.data, b.len);
  buf_free(&b);
  return 0;
}

static int h_body(http_req_t *req) {
  buf_t b = BUF_INIT;
  buf_puts(&b, "{\"body\":");
  buf_json_strn(&b, req->body.data ? req->body.data : "", req->body.len);
  buf_puts(&b, "}");
  http_respond_json_raw(req, 200, b.data, b.len);
  buf_free(&b);
  return 0;
}

static int h_fail(http_req_t *req) {
  UNUSED(req);
  return -1; /* no response: the server answers 500 */
}

/* Answers later: /async from the next loop iteration (pipelined bytes wait meanwhile), /slow
 * after SLOW_MS, by when the client has usually half-closed, so the request is orphaned and its
 * response discarded. */
#define SLOW_MS 3

typedef struct {
  uv_timer_t t;
  http_req_t *req;
} later_t;

static int later_pending; /* handlers still to answer; an input ends only when none is left */

static void on_later_closed(uv_handle_t *h) {
  free(h->data);
  later_pending--;
}

static void on_later(uv_timer_t *t) {
  later_t *l = t->data;
  http_respond_json_raw(l->req, 202, "{\"later\":true}", 14);
  uv_close((uv_handle_t *)&l->t, on_later_closed);
}

static int answer_later(http_req_t *req, uint64_t ms) {
  later_t *l = xcalloc(1, sizeof *l);
  l->req = req;
  uv_timer_init(&loop, &l->t);
  l->t.data = l;
  uv_timer_start(&l->t, on_later, ms, 0);
  later_pending++;
  return 0;
}

static int h_async(http_req_t *req) { return answer_later(req, 0); }
static int h_slow(http_req_t *req) { return answer_later(req, SLOW_MS); }

static const http_route_t routes[] = {
    {M(HTTP_GET), "/healthz", h_ok, ROUTE_PUBLIC, NULL},
    {M(HTTP_GET), "/empty", h_empty, 0, NULL},
    {M(HTTP_GET) | M(HTTP_PUT) | M(HTTP_DELETE), "/items/:id", h_item, 0, NULL},
    {M(HTTP_GET), "/items/:id/sub/:name", h_item, ROUTE_PUBLIC, NULL},
    {M(HTTP_POST) | M(HTTP_PUT) | M(HTTP_PATCH), "/echo", h_body, 0, NULL},
    {M(HTTP_GET) | M(HTTP_POST), "/async", h_async, 0, NULL},
    {M(HTTP_GET) | M(HTTP_POST), "/slow", h_slow, 0, NULL},
    {M(HTTP_POST), "/fail", h_fail, 0, NULL},
    {M(HTTP_PUT), "/only-put", h_ok, 0, NULL}, /* any other method: 405 (OPTIONS: 204) */
};

/* ------------------------------------------------------------------ set-up, once per process */

static const char *env_get(const char *name) {
  if (strcmp(name, "SLOTD_LISTEN") == 0) return "127.0.0.1:0";
  if (strcmp(name, "SLOTD_MAX_BODY") == 0) return "4096"; /* small enough for the fuzzer to reach 413 */
  if (strcmp(name, "SLOTD_CORS_ORIGINS") == 0) return "https://app.example.com";
  return NULL; /* defaults: timeouts of seconds never fire within one input */
}

/* Called by libFuzzer before it parses its flags (and before -close_fd_mask=2 takes stderr). */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  UNUSED(argc), UNUSED(argv);
  char err[256];
  err_fd = dup(2);
  if (err_fd < 0) err_fd = 2;
  dump = getenv("FUZZ_HTTP_DUMP") != NULL;
  signal(SIGPIPE, SIG_IGN); /* as in main.c: a peer that closed early is an EPIPE, not a signal */
  if (config_load(&cfg, env_get, err, sizeof err) != 0) fail("config: %s", err);
  log_init(LOG_DEBUG, "fuzz"); /* request lines and "bad request" reasons: that code sees the bytes too */
  if (uv_loop_init(&loop) != 0) abort();
  srv = http_server_new(&loop, &cfg, routes, (int)ARRAY_SIZE(routes), NULL);
  const router_t *r = http_server_router(srv);
  metrics_init(router_npatterns(r), router_patterns(r));
  if (http_server_listen(srv) != 0) abort();
  port = http_server_port(srv);
  if (port <= 0) abort();
  return 0;
}

/* ------------------------------------------------------------------ the client, per input */

typedef struct {
  int fd;
  uv_poll_t poll;
  uv_timer_t deadline;
  buf_t resp;
  int eof, timed_out, closed, truncated;
} client_t;

static void on_client_readable(uv_poll_t *p, int status, int events) {
  client_t *c = p->data;
  UNUSED(events);
  if (status < 0) {
    c->eof = 1;
    uv_poll_stop(p);
    return;
  }
  char tmp[65536];
  for (;;) {
    ssize_t n = recv(c->fd, tmp, sizeof tmp, 0);
    if (n > 0) {
      if (c->resp.len + (size_t)n <= RESP_CAP) buf_append(&c->resp, tmp, (size_t)n);
      else c->truncated = 1;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && errno == EINTR) continue;
    c->eof = 1; /* 0: the server closed; error: it reset */
    uv_poll_stop(p);
    return;
  }
}

static void on_deadline(uv_timer_t *t) {
  client_t *c = t->data;
  c->timed_out = 1;
}

static void on_client_handle_closed(uv_handle_t *h) {
  client_t *c = h->data;
  c->closed++;
}

/* Writes all of data, running the loop whenever the socket is full (the server then reads). */
static void client_write(client_t *c, const uint8_t *data, size_t len) {
  while (len > 0) {
    ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      len -= (size_t)n;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      uv_run(&loop, UV_RUN_ONCE);
    } else {
      return; /* the server closed (a rejected request): the rest is not read anyway */
    }
  }
}

/* The server's answer must be a clean run of responses (see the comment at the top). */
static void check_responses(const char *p, size_t len) {
  const char *end = p + len;
  int closed = 0;
  while (p < end) {
    if (closed) {
      fail("bytes after a Connection: close response");
    }
    const char *head_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
    if (!head_end) {
      fail("cut-off response head: %.*s", (int)(end - p > 200 ? 200 : end - p), p);
    }
    if (end - p < 13 || memcmp(p, "HTTP/1.1 ", 9) != 0 || p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' ||
        p[11] < '0' || p[11] > '9' || p[12] != ' ') {
      fail("bad status line: %.*s", 40, p);
    }
    int status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    long long clen = -1;
    const char *line = (const char *)memmem(p, (size_t)(head_end + 2 - p), "\r\n", 2) + 2; /* after the status line */
    while (line < head_end + 2) {
      const char *eol = memmem(line, (size_t)(head_end + 2 - line), "\r\n", 2);
      size_t n = (size_t)(eol - line);
      const char *colon = memchr(line, ':', n);
      if (!colon || colon == line || colon + 1 >= eol || colon[1] != ' ' || memchr(line, '\r', n) ||
          memchr(line, '\n', n) || memchr(line, '\0', n)) {
        fail("bad header line: %.*s", (int)n, line);
      }
      for (const char *q = line; q < colon; q++)
        if (!((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '-')) {
          fail("bad header name: %.*s", (int)n, line);
        }
      size_t nlen = (size_t)(colon - line);
      if (nlen == 14 && strncasecmp(line, "Content-Length", 14) == 0) clen = strtoll(colon + 2, NULL, 10);
      if (nlen == 10 && strncasecmp(line, "Connection", 10) == 0 && (size_t)(eol - colon - 2) == 5 &&
          strncasecmp(colon + 2, "close", 5) == 0)
        closed = 1;
      line = eol + 2;
    }
    p = head_end + 4;
    if (status < 200 || status == 204 || status == 304) {
      if (clen > 0) {
        fail("Content-Length on a %d response", status);
      }
      if (status < 200 && closed) {
        fail("Connection: close on an interim response");
      }
      continue;
    }
    if (clen < 0) {
      fail("%d response without Content-Length", status);
    }
    /* A response to HEAD keeps Content-Length and has no body: then the next response or the
     * end follows at once. Bodies here start with '{' (handlers above, JSON errors). */
    if (p == end || (end - p >= 5 && memcmp(p, "HTTP/", 5) == 0)) continue;
    if (clen > end - p) {
      fail("body cut off: Content-Length %lld, %zu bytes left", clen, (size_t)(end - p));
    }
    p += clen;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  size_t split = ((size_t)data[0] << 8 | data[1]) % (size - 1);
  data += 2;
  size -= 2;

  client_t c = {.fd = socket(AF_INET, SOCK_STREAM, 0), .resp = BUF_INIT};
  if (c.fd < 0) abort();
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c.fd, (struct sockaddr *)&a, sizeof a) != 0) abort(); /* lands in the backlog at once */
  if (fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK) != 0) abort();
  if (uv_poll_init(&loop, &c.poll, c.fd) != 0) abort();
  c.poll.data = &c;
  uv_poll_start(&c.poll, UV_READABLE, on_client_readable);
  uv_timer_init(&loop, &c.deadline);
  c.deadline.data = &c;

  client_write(&c, data, split);
  if (split > 0 && split < size) {
    /* accept, start reading, read the first part: a few turns of the loop */
    for (int i = 0; i < 4; i++) uv_run(&loop, UV_RUN_NOWAIT);
  }
  client_write(&c, data + split, size - split);
  shutdown(c.fd, SHUT_WR);

  uv_update_time(&loop);
  uv_timer_start(&c.deadline, on_deadline, CLIENT_WAIT_MS, 0);
  while (!c.eof && !c.timed_out) uv_run(&loop, UV_RUN_ONCE);
  int complete = c.eof;

  uv_timer_stop(&c.deadline);
  uv_poll_stop(&c.poll);
  uv_close((uv_handle_t *)&c.poll, on_client_handle_closed);
  uv_close((uv_handle_t *)&c.deadline, on_client_handle_closed);
  while (c.closed < 2) uv_run(&loop, UV_RUN_ONCE);
  close(c.fd);

  /* The client is gone: the server must let go of the connection, and orphaned requests end
   * when their handlers answer. */
  uint64_t give_up = uv_now(&loop) + SERVER_CLOSE_MS;
  while (http_server_open_connections(srv) > 0 || later_pending > 0) {
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_update_time(&loop);
    if (uv_now(&loop) > give_up)
      fail("%d ms after the client closed: %d connections open, %d handlers unanswered", SERVER_CLOSE_MS,
           http_server_open_connections(srv), later_pending);
    if (http_server_open_connections(srv) > 0 || later_pending > 0) usleep(100);
  }

  log_flush();
  if (dump)
    dprintf(err_fd, "fuzz_http: %zu response bytes%s:\n%.*s\n", c.resp.len,
            complete ? "" : " (the server had not closed)", (int)c.resp.len, c.resp.data ? c.resp.data : "");
  if (complete && !c.truncated) check_responses(c.resp.data ? c.resp.data : "", c.resp.len);
  buf_free(&c.resp);
  return 0;
}
