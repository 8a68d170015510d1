/* HTTP server on a real loop and a real socket: request spans split across reads (one byte at a
 * time), pipelined requests in one write answered in order (with an asynchronous handler first),
 * chunked bodies, and a clean loop close afterwards (no handle or allocation left). */
#include <llhttp.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>
#include <uv.h>

#include "check.h"
#include "core/log.h"
#include "http/server.h"

static uv_loop_t loop;
static http_server_t *srv;
static uv_async_t done_async;
static int port;
static int handled, drained_calls;

static int h_echo(http_req_t *req) {
  handled++;
  buf_t b = BUF_INIT;
  buf_puts(&b, "{\"method\":");
  buf_json_str(&b, req->method_name);
  buf_puts(&b, ",\"path\":");
  buf_json_str(&b, req->path);
  buf_puts(&b, ",\"query\":");
  buf_json_str(&b, req->query);
  buf_puts(&b, ",\"x_test\":");
  buf_json_str(&b, http_req_header(req, "x-test"));
  buf_puts(&b, ",\"body\":");
  buf_json_strn(&b, req->body.data ? req->body.data : "", req->body.len);
  buf_puts(&b, "}");
  http_respond_json_raw(req, 200, b.data, b.len);
  buf_free(&b);
  return 0;
}

typedef struct {
  uv_timer_t t;
  http_req_t *req;
} later_t;

static void on_later_closed(uv_handle_t *h) { free(h->data); }
static void on_later(uv_timer_t *t) {
  later_t *l = t->data;
  http_respond_json_raw(l->req, 200, "{\"async\":true}", 14);
  uv_close((uv_handle_t *)&l->t, on_later_closed);
}

static int h_async(http_req_t *req) {
  handled++;
  later_t *l = calloc(1, sizeof *l);
  l->req = req;
  uv_timer_init(&loop, &l->t);
  l->t.data = l;
  uv_timer_start(&l->t, on_later, 30, 0);
  return 0;
}

static const http_route_t routes[] = {
    {M(HTTP_GET) | M(HTTP_POST), "/echo", h_echo, 0},
    {M(HTTP_GET), "/async", h_async, 0},
};

/* ------------------------------------------------------------------ client thread */

static char results[3][8192];

static int client_connect(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return -1;
  return fd;
}

static void read_all(int fd, char *out, size_t cap) {
  size_t n = 0;
  ssize_t r;
  while (n + 1 < cap && (r = read(fd, out + n, cap - 1 - n)) > 0) n += (size_t)r;
  out[n] = 0;
}

static void *client(void *arg) {
  (void)arg;
  /* 1: every byte in its own read */
  const char *req1 = "POST /echo?x=1 HTTP/1.1\r\nHost: a\r\nX-Test: hello world\r\nContent-Length: 5\r\n"
                     "Connection: close\r\n\r\nhello";
  int fd = client_connect();
  for (const char *p = req1; *p; p++) {
    if (write(fd, p, 1) != 1) break;
    usleep(300);
  }
  read_all(fd, results[0], sizeof results[0]);
  close(fd);
  /* 2: a chunked body, byte by byte */
  const char *req2 = "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                     "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n";
  fd = client_connect();
  for (const char *p = req2; *p; p++) {
    if (write(fd, p, 1) != 1) break;
    usleep(300);
  }
  read_all(fd, results[1], sizeof results[1]);
  close(fd);
  /* 3: three pipelined requests in one write; the first one answers later */
  const char *req3 = "GET /async HTTP/1.1\r\nHost: a\r\n\r\n"
                     "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                     "GET /echo?last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  fd = client_connect();
  if (write(fd, req3, strlen(req3)) != (ssize_t)strlen(req3)) results[2][0] = 0;
  read_all(fd, results[2], sizeof results[2]);
  close(fd);
  uv_async_send(&done_async);
  return NULL;
}

/* ------------------------------------------------------------------ main */

static void on_drained(http_server_t *s) {
  drained_calls++;
  http_server_close(s);
}

static void on_done(uv_async_t *a) {
  http_server_drain(srv, on_drained);
  uv_close((uv_handle_t *)a, NULL);
}

static const char *env_get(const char *name) {
  if (strcmp(name, "SLOTD_LISTEN") == 0) return "127.0.0.1:0";
  if (strcmp(name, "SLOTD_MAX_BODY") == 0) return "1024";
  return NULL;
}

static const char *body_of(const char *resp) {
  const char *b = strstr(resp, "\r\n\r\n");
  return b ? b + 4 : "";
}

int main(void) {
  config_t cfg;
  char err[256];
  CHECK(config_load(&cfg, env_get, err, sizeof err) == 0);
  log_init(LOG_ERROR, "test");
  CHECK(uv_loop_init(&loop) == 0);
  srv = http_server_new(&loop, &cfg, routes, 2, NULL);
  CHECK(http_server_listen(srv) == 0);
  port = http_server_port(srv);
  CHECK(port > 0);
  uv_async_init(&loop, &done_async, on_done);
  pthread_t th;
  pthread_create(&th, NULL, client, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  pthread_join(th, NULL);

  CHECK(strncmp(results[0], "HTTP/1.1 200 OK\r\n", 17) == 0);
  CHECK_STR(body_of(results[0]),
            "{\"method\":\"POST\",\"path\":\"/echo\",\"query\":\"x=1\",\"x_test\":\"hello world\",\"body\":\"hello\"}");
  CHECK(strstr(results[0], "Content-Length: 84\r\n") != NULL);
  CHECK(strstr(results[0], "X-Request-Id: ") != NULL && strstr(results[0], "Date: ") != NULL);
  CHECK_STR(body_of(results[1]),
            "{\"method\":\"POST\",\"path\":\"/echo\",\"query\":null,\"x_test\":null,\"body\":\"hello world\"}");
  /* pipelined: async answer first, then the chunked echo, then the last one */
  const char *r3 = results[2];
  const char *p1 = strstr(r3, "{\"async\":true}");
  const char *p2 = strstr(r3, "\"body\":\"abc\"");
  const char *p3 = strstr(r3, "\"query\":\"last\"");
  CHECK(p1 && p2 && p3 && p1 < p2 && p2 < p3);
  CHECK(strstr(p3, "HTTP/1.1") == NULL);
  CHECK(handled == 5);
  CHECK(drained_calls == 1);
  CHECK(uv_loop_close(&loop) == 0);
  config_free(&cfg);
  return check_done();
}
