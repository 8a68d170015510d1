/* HTTP server on a real loop and a real socket: request spans split across reads (one byte at a
 * time), pipelined requests in one write answered in order (with an asynchronous handler first),
 * chunked bodies, Expect: 100-continue, a request llhttp refuses, and a clean loop close
 * afterwards (no handle or allocation left). server.c is included to reach its statics: the
 * connection's legal-move table is checked through the pure conn_move_ok (an illegal move is
 * checked without aborting), and every move the flows make goes through conn_set_state's assert.
 * log_req's lines are captured from stderr and checked. An idle keep-alive connection holds no
 * read or write buffer (issue 11: memory per idle connection), checked from a handler. */
#include <fcntl.h>
#include <llhttp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "check.h"
#include "core/log.h"
#include "http/server.c"

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

/* Counts the other connections that are idle between requests, and those of them holding no
 * read or write buffer. */
static int h_probe(http_req_t *req) {
  handled++;
  int idle = 0, bare = 0;
  for (http_conn_t *c = srv->conns; c; c = c->next) {
    if (c == req->conn || c->state != CONN_IDLE) continue;
    idle++;
    bare += !c->rbuf && c->rpos == 0 && c->rlen == 0 && c->wbuf.cap == 0;
  }
  char b[64];
  int n = snprintf(b, sizeof b, "{\"idle\":%d,\"bare\":%d}", idle, bare);
  http_respond_json_raw(req, 200, b, (size_t)n);
  return 0;
}

static const http_route_t routes[] = {
    {M(HTTP_GET) | M(HTTP_POST), "/echo", h_echo, 0},
    {M(HTTP_GET), "/async", h_async, 0},
    {M(HTTP_GET), "/probe", h_probe, 0},
};

/* ------------------------------------------------------------------ client thread */

static char results[7][8192];

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
  /* 4: Expect: 100-continue: the body is sent only after the interim response */
  const char *req4 =
      "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n"
      "Connection: close\r\n\r\n";
  fd = client_connect();
  if (write(fd, req4, strlen(req4)) == (ssize_t)strlen(req4)) {
    size_t n = 0; /* byte by byte: read nothing past the interim response */
    while (n + 1 < sizeof results[3] && !strstr(results[3], "\r\n\r\n") && read(fd, results[3] + n, 1) == 1)
      results[3][++n] = 0;
    if (write(fd, "abc", 3) == 3) read_all(fd, results[3] + n, sizeof results[3] - n);
  }
  close(fd);
  /* 5: a request llhttp refuses (a control byte in the method): 400, logged with its id */
  fd = client_connect();
  const char *req5 = "GE\x01T / HTTP/1.1\r\n\r\n";
  if (write(fd, req5, strlen(req5)) == (ssize_t)strlen(req5)) read_all(fd, results[4], sizeof results[4]);
  close(fd);
  /* 6: a path that is not UTF-8 (llhttp lets it through): 404, and a valid JSON access log line */
  fd = client_connect();
  const char *req6 = "GET /echo\xff HTTP/1.1\r\nConnection: close\r\n\r\n";
  if (write(fd, req6, strlen(req6)) == (ssize_t)strlen(req6)) read_all(fd, results[5], sizeof results[5]);
  close(fd);
  /* 7: a keep-alive connection answered and left idle; another one asks the server about it */
  int idle_fd = client_connect();
  const char *req7 = "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n";
  char answer[2048] = "";
  if (write(idle_fd, req7, strlen(req7)) == (ssize_t)strlen(req7)) {
    size_t n = 0; /* the echo's body ends the answer with its closing brace */
    ssize_t r;
    while (n + 1 < sizeof answer && (r = read(idle_fd, answer + n, sizeof answer - 1 - n)) > 0) {
      answer[n += (size_t)r] = 0;
      if (strstr(answer, "\r\n\r\n") && answer[n - 1] == '}') break;
    }
  }
  fd = client_connect();
  const char *req8 = "GET /probe HTTP/1.1\r\nConnection: close\r\n\r\n";
  if (write(fd, req8, strlen(req8)) == (ssize_t)strlen(req8)) read_all(fd, results[6], sizeof results[6]);
  close(fd);
  close(idle_fd);
  uv_async_send(&done_async);
  return NULL;
}

/* ------------------------------------------------------------------ transition table */

static const char *const state_names[CONN_NSTATES] = {"IDLE",    "READ_HEAD", "READ_BODY", "HANDLING",
                                                      "WRITING", "LINGER",    "CLOSING"};

/* The moves documented above conn_moves[] in server.c, written out independently. */
static const char *const legal_moves[] = {
    "IDLE>IDLE",         "IDLE>READ_HEAD",    "IDLE>WRITING",        "IDLE>CLOSING",       "READ_HEAD>READ_BODY",
    "READ_HEAD>WRITING", "READ_HEAD>CLOSING", "READ_BODY>READ_BODY", "READ_BODY>HANDLING", "READ_BODY>WRITING",
    "READ_BODY>CLOSING", "HANDLING>WRITING",  "HANDLING>CLOSING",    "WRITING>IDLE",       "WRITING>CLOSING",
    "WRITING>LINGER",    "LINGER>CLOSING",
};

static int documented(int from, int to) {
  char pair[40];
  snprintf(pair, sizeof pair, "%s>%s", state_names[from], state_names[to]);
  for (size_t i = 0; i < ARRAY_SIZE(legal_moves); i++)
    if (strcmp(legal_moves[i], pair) == 0) return 1;
  return 0;
}

static void check_table(void) {
  int mismatches = 0, nlegal = 0;
  for (int f = 0; f < CONN_NSTATES; f++)
    for (int t = 0; t < CONN_NSTATES; t++) {
      int ok = conn_move_ok((conn_state_t)f, (conn_state_t)t);
      nlegal += ok;
      if (ok != documented(f, t)) {
        printf("# %s -> %s: table says %d, documented %d\n", state_names[f], state_names[t], ok, documented(f, t));
        mismatches++;
      }
    }
  CHECK(mismatches == 0);
  CHECK(nlegal == (int)ARRAY_SIZE(legal_moves));
  CHECK(conn_move_ok(CONN_WRITING, CONN_IDLE));        /* keep-alive */
  CHECK(!conn_move_ok(CONN_READ_HEAD, CONN_HANDLING)); /* a handler gets a complete head */
  CHECK(!conn_move_ok(CONN_HANDLING, CONN_IDLE));      /* only through WRITING */
  CHECK(!conn_move_ok(CONN_HANDLING, CONN_READ_HEAD)); /* no reading while a handler works */
  CHECK(!conn_move_ok(CONN_WRITING, CONN_READ_HEAD));  /* back to IDLE first */
  CHECK(!conn_move_ok(CONN_CLOSING, CONN_CLOSING) && !conn_move_ok(CONN_CLOSING, CONN_IDLE));
  /* lingering ends in a close */
  CHECK(!conn_move_ok(CONN_LINGER, CONN_IDLE) && !conn_move_ok(CONN_LINGER, CONN_READ_HEAD));
  CHECK(!conn_move_ok((conn_state_t)CONN_NSTATES, CONN_IDLE));
}

/* ------------------------------------------------------------------ the edge check */

static http_conn_t *guard_conn(guard_state_t st, uint64_t left) {
  static http_conn_t *c;
  if (!c) c = malloc(sizeof *c);
  memset(c, 0, offsetof(http_conn_t, rbuf));
  c->g_state = st;
  c->g_left = left;
  return c;
}

static size_t guard_str(http_conn_t *c, const char *s) { return conn_guard(c, s, strlen(s)); }

/* conn_guard alone: where it stops, what it refuses, with the states llhttp's callbacks would set
 * written by hand. */
static void check_guard(void) {
  http_conn_t *c = guard_conn(G_HEAD, 0);
  /* a head passes up to its empty line, then waits for llhttp to say what follows */
  CHECK_EQ(guard_str(c, "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next"), 29);
  CHECK(c->g_state == G_WAIT && c->err_status == 0);
  c = guard_conn(G_HEAD, 0);
  CHECK_EQ(guard_str(c, "GET / HTTP/1.1\r\nHost: a\r\n\n"), 26); /* a bare LF ends it too, as in llhttp */
  CHECK(c->g_state == G_WAIT);
  /* CVE-2025-23167: "\r\n\rX" ends nothing, it is refused at the CR */
  c = guard_conn(G_HEAD, 0);
  CHECK_EQ(guard_str(c, "GET / HTTP/1.1\r\nHost: a\r\n\rXGET /m HTTP/1.1\r\n\r\n"), 25);
  CHECK_EQ(c->err_status, 400);
  /* a CR that ends the bytes waits for the next one */
  c = guard_conn(G_HEAD, 0);
  CHECK_EQ(guard_str(c, "GET / HTTP/1.1\r"), 14);
  CHECK(c->err_status == 0 && c->g_state == G_HEAD);
  CHECK_EQ(guard_str(c, "\r\nHost: a\r\n\r\n"), 13);
  CHECK(c->g_state == G_WAIT && c->err_status == 0);
  /* obsolete line folding, in the head and in trailers */
  c = guard_conn(G_HEAD, 0);
  CHECK_EQ(guard_str(c, "POST / HTTP/1.1\r\nX: 1\r\n Content-Length: 3\r\n\r\n"), 23);
  CHECK_EQ(c->err_status, 400);
  c = guard_conn(G_TRAILERS, 0);
  CHECK_EQ(guard_str(c, "T: 1\r\n\tmore\r\n\r\n"), 6);
  CHECK_EQ(c->err_status, 400);
  /* trailers end the message: the next head starts */
  c = guard_conn(G_TRAILERS, 0);
  CHECK_EQ(guard_str(c, "T: 1\r\n\r\nGET"), 8);
  CHECK(c->g_state == G_HEAD && c->err_status == 0);
  /* a Content-Length body passes whole, CRs and all, and ends the message */
  c = guard_conn(G_BODY, 5);
  CHECK_EQ(guard_str(c, "\rX\r\rGET"), 5);
  CHECK(c->g_state == G_HEAD && c->err_status == 0);
  /* chunk data, its CRLF, the next size line (then llhttp's on_chunk_header decides) */
  c = guard_conn(G_CHUNK_DATA, 3);
  CHECK_EQ(guard_str(c, "a\rc\r\n5;x=\"y z\"\r\nhello"), 16);
  CHECK(c->g_state == G_WAIT && c->err_status == 0);
  CHECK_EQ(c->head_bytes, 8); /* ";x=\"y z\"" counts against the head limit */
  c = guard_conn(G_CHUNK_DATA, 3);
  CHECK_EQ(guard_str(c, "abcXY0\r\n\r\n"), 3); /* llhttp skips any two bytes after chunk data */
  CHECK_EQ(c->err_status, 400);
  c = guard_conn(G_CHUNK_LINE, 0);
  CHECK_EQ(guard_str(c, "5\rXhello"), 1);
  CHECK_EQ(c->err_status, 400);
  c = guard_conn(G_CHUNK_LINE, 0);
  CHECK_EQ(guard_str(c, "00000000000000005\r\n"), 16); /* 17 digits */
  CHECK_EQ(c->err_status, 400);
  /* chunk extensions share the head limit: 413 */
  c = guard_conn(G_CHUNK_LINE, 0);
  c->head_bytes = HTTP_MAX_HEAD - 10;
  CHECK_EQ(guard_str(c, "1;eeeeeeeeeeeeeeeeeeee"), 11);
  CHECK_EQ(c->err_status, 413);
  /* a head padded where llhttp reports nothing */
  c = guard_conn(G_HEAD, 0);
  char *pad = malloc(HEAD_WIRE_MAX + 64);
  memset(pad, ' ', HEAD_WIRE_MAX + 63);
  memcpy(pad, "GET", 3);
  pad[HEAD_WIRE_MAX + 63] = 0;
  CHECK_EQ(guard_str(c, pad), HEAD_WIRE_MAX);
  CHECK_EQ(c->err_status, 431);
  free(pad);
  /* G_WAIT at the start of a piece: llhttp did not say what follows; refused, never trusted */
  c = guard_conn(G_WAIT, 0);
  CHECK_EQ(guard_str(c, "x"), 0);
  CHECK_EQ(c->err_status, 400);
  free(c);
}

/* ------------------------------------------------------------------ stderr capture for log_req */

static int saved_stderr = -1;
static char log_path[64];

static void capture_stderr(void) {
  snprintf(log_path, sizeof log_path, "/tmp/slotd-test-http-log.XXXXXX");
  int fd = mkstemp(log_path);
  if (fd < 0) abort();
  printf("# stderr goes to %s until checked (kept if the test dies)\n", log_path);
  fflush(stderr);
  saved_stderr = dup(STDERR_FILENO);
  dup2(fd, STDERR_FILENO);
  close(fd);
}

/* Restores stderr and returns what was logged (malloc'd). */
static char *captured_stderr(void) {
  log_flush();
  fflush(stderr);
  dup2(saved_stderr, STDERR_FILENO);
  close(saved_stderr);
  FILE *f = fopen(log_path, "rb");
  char *out = calloc(1, 1 << 20);
  if (f) {
    size_t n = fread(out, 1, (1 << 20) - 1, f);
    out[n] = 0;
    fclose(f);
  }
  unlink(log_path);
  return out;
}

/* The line of log containing needle, copied into out (empty if none). */
static const char *log_line(const char *log, const char *needle, char *out, size_t cap) {
  const char *p = strstr(log, needle);
  out[0] = 0;
  if (!p) return out;
  const char *b = p, *e = strchr(p, '\n');
  while (b > log && b[-1] != '\n') b--;
  size_t n = e ? (size_t)(e - b) : strlen(b);
  if (n >= cap) n = cap - 1;
  memcpy(out, b, n);
  out[n] = 0;
  return out;
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

/* The X-Request-Id of a response. */
static const char *resp_reqid(const char *resp, char *out, size_t cap) {
  const char *p = strstr(resp, "X-Request-Id: ");
  out[0] = 0;
  if (!p) return out;
  p += 14;
  size_t n = strcspn(p, "\r");
  if (n >= cap) n = cap - 1;
  memcpy(out, p, n);
  out[n] = 0;
  return out;
}

/* log_req on hand-made requests: the added fields, a matched route, and values no JSON parser
 * would take raw (quotes, control bytes, bytes that are not UTF-8). */
static void check_log_req(void) {
  http_req_t r;
  memset(&r, 0, sizeof r);
  r.server = srv;
  r.match.pattern_idx = -1;
  snprintf(r.request_id, sizeof r.request_id, "rid-1");
  snprintf(r.peer, sizeof r.peer, "[::1]:5");
  r.path = "/x\"y\xff\xc3\xa9";
  r.path_len = strlen(r.path);
  capture_stderr();
  log_req(&r, LOG_WARN, "plain", "k", "v\n\x01\xe2\x82", "nothing", NULL, NULL);
  r.match.pattern_idx = 1; /* "/async" */
  log_req(&r, LOG_WARN, "routed", NULL);
  log_init(LOG_ERROR, "test");
  log_req(&r, LOG_WARN, "below the level", NULL);
  log_init(LOG_DEBUG, "test");
  char *log = captured_stderr();
  char line[1024];
  /* route falls back to the raw path; the invalid bytes become U+FFFD, valid UTF-8 stays */
  CHECK(strstr(log_line(log, "\"plain\"", line, sizeof line),
               ",\"request_id\":\"rid-1\",\"route\":\"/x\\\"y\xef\xbf\xbd\xc3\xa9\",\"peer\":\"[::1]:5\","
               "\"k\":\"v\\n\\u0001\xef\xbf\xbd\xef\xbf\xbd\",\"nothing\":null}") != NULL); /* one per bad byte */
  printf("# %s\n", line);
  CHECK(strstr(log_line(log, "\"routed\"", line, sizeof line),
               ",\"request_id\":\"rid-1\",\"route\":\"/async\",\"peer\":\"[::1]:5\"}") != NULL);
  CHECK(strstr(log, "below the level") == NULL);
  free(log);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0); /* TAP lines survive an assert */
  check_table();
  check_guard();
  config_t cfg;
  char err[256];
  CHECK(config_load(&cfg, env_get, err, sizeof err) == 0);
  log_init(LOG_DEBUG, "test"); /* debug: the refused request's log line */
  CHECK(uv_loop_init(&loop) == 0);
  srv = http_server_new(&loop, &cfg, routes, (int)ARRAY_SIZE(routes), NULL);
  CHECK(http_server_listen(srv) == 0);
  port = http_server_port(srv);
  CHECK(port > 0);
  check_log_req();
  uv_async_init(&loop, &done_async, on_done);
  pthread_t th;
  capture_stderr();
  pthread_create(&th, NULL, client, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  pthread_join(th, NULL);
  char *log = captured_stderr();

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
  /* 100-continue: the interim response, then the final one with the body sent after it */
  CHECK(strncmp(results[3], "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", 42) == 0);
  CHECK(strstr(results[3], "\"body\":\"abc\"") != NULL);
  /* the refused request: 400, and a debug line carrying the id the client got */
  CHECK(strncmp(results[4], "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
  char id[HTTP_MAX_REQID + 1], line[1024], want[256];
  resp_reqid(results[4], id, sizeof id);
  log_line(log, "\"bad request\"", line, sizeof line);
  printf("# %s\n", line);
  snprintf(want, sizeof want, "\"request_id\":\"%s\",\"route\":\"\",\"peer\":\"127.0.0.1:", id);
  CHECK(id[0] && strstr(line, want) != NULL);
  CHECK(strstr(line, "\"reason\":\"") != NULL && strstr(line, "\"level\":\"debug\"") != NULL);
  CHECK(strncmp(results[5], "HTTP/1.1 404 Not Found\r\n", 24) == 0);
  CHECK(strstr(log, "\"path\":\"/echo\xef\xbf\xbd\",\"route\":\"unmatched\"") != NULL);
  CHECK(strstr(log, "\xff") == NULL);
  free(log);
  /* the idle keep-alive connection holds neither buffer */
  CHECK_STR(body_of(results[6]), "{\"idle\":1,\"bare\":1}");
  CHECK(handled == 8);
  CHECK(drained_calls == 1);
  CHECK(uv_loop_close(&loop) == 0);
  config_free(&cfg);
  return check_done();
}
