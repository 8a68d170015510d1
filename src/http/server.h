/* server.h — HTTP/1.1 server on one libuv loop: keep-alive, pipelining, chunked bodies,
 * Expect: 100-continue, limits and a timer for every phase.
 *
 * The edge (server.c has the details): every byte outside body data is checked before llhttp
 * 8.1 sees it (a CR without LF, obsolete line folding, chunk framing other than CRLF: 400; chunk
 * extensions count against the head limit: 413); a request must be complete within
 * SLOTD_REQUEST_TIMEOUT of its first byte and its body must keep SLOTD_MIN_BODY_RATE (408); a
 * peer address may hold SLOTD_MAX_CONNECTIONS_PER_IP connections (the same 503 as over
 * SLOTD_MAX_CONNECTIONS); a connection closed with input unread (an error, a 503, pipelined
 * bytes) gets a lingering close (FIN, input dropped for at most 2 s or 8 MiB), so the client
 * reads the answer instead of a reset. Trailers are checked and counted, never merged into the
 * request's headers.
 *
 * Ownership: the server owns its connections; a connection owns at most one request at a time
 * (pipelined requests wait in the connection's read buffer until the previous response is
 * written). A request owns an arena that dies with it. A handler gets the request, returns 0
 * and calls http_respond*() exactly once, now or from a later callback. If the connection dies
 * while a handler is working, the request is marked orphaned and stays alive until the handler
 * responds; that response is then discarded and the request freed (STYLE.md habit 5).
 *
 * The orphan policy (the API follows it in api/query.c, the one place that sends its queries):
 *   A client has gone when its connection is reset or a read or write fails; a half-close (FIN)
 *   after a complete request is not leaving: the answer is sent, then the connection closed.
 *   - Reads: a result that arrives after the client has gone, while the request has not sent
 *     anything that writes, is dropped: the handler's callback is not called, no further work is
 *     done (no slot computation, no next query), an Idempotency-Key placeholder the request owns
 *     is released, and the request is freed. (slotd_orphaned_requests_total{outcome="dropped"})
 *   - Writes: once a statement that may write has been sent, the request runs to completion
 *     through every step (stale re-reads and re-decisions included) and its Idempotency-Key
 *     stores the outcome, so a client that retries with the same key gets the answer it missed;
 *     only the final response is discarded. (slotd_orphaned_requests_total{outcome="completed"})
 *   - Password hashing and idempotency waits finish on their own timers; the server drains only
 *     when no orphan is left. */
#ifndef SLOTD_HTTP_SERVER_H
#define SLOTD_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "../core/arena.h"
#include "../core/buf.h"
#include "../core/config.h"
#include "router.h"

#define HTTP_MAX_URL 8192
#define HTTP_MAX_HEAD 32768
#define HTTP_MAX_HEADERS 100
#define HTTP_MAX_REQID 128

typedef struct http_server_s http_server_t;
typedef struct http_conn_s http_conn_t;

typedef struct {
  const char *name; /* as received; compare case-insensitively */
  const char *value;
  size_t value_len;
} http_header_t;

struct http_req_s {
  arena_t *arena;         /* everything below that is a pointer lives here, unless noted */
  http_conn_t *conn;      /* NULL once orphaned */
  http_server_t *server;
  void *app;              /* the server's app pointer, for handlers */
  void *ctx;              /* free for the api layer */
  int method;             /* llhttp_method_t */
  const char *method_name;/* static */
  const char *path;       /* raw path before '?' */
  size_t path_len;
  const char *query;      /* raw query after '?', or NULL */
  http_header_t *headers;
  int nheaders, headers_cap;
  buf_t body;             /* heap; freed with the request */
  router_match_t match;
  int keep_alive;         /* may the connection serve another request after this one */
  char request_id[HTTP_MAX_REQID + 1];
  char peer[64];          /* "ip:port" or "[v6]:port" */
  struct sockaddr_storage peer_addr;
  uint64_t start_ns;
  buf_t resp_headers;     /* heap; extra "Name: value\r\n" lines added with http_set_header */
  int status;             /* set when responded */
  size_t resp_bytes;
  unsigned responded : 1, orphaned : 1;
  /* If set, http_respond hands the response here instead of sending it (once: the hook is
   * cleared first); the hook later calls http_respond again with the same arguments. Used to
   * store an idempotent request's response before the client can see it. */
  void (*respond_hook)(http_req_t *req, int status, const char *content_type, const char *body, size_t len);
};

typedef void (*http_drained_cb)(http_server_t *srv);

/* cfg, routes and app must outlive the server. */
http_server_t *http_server_new(uv_loop_t *loop, const config_t *cfg, const http_route_t *routes,
                               int nroutes, void *app);
/* Binds and listens on cfg's address. 0 or a negative uv error. */
int http_server_listen(http_server_t *srv) WARN_UNUSED;
/* Stops accepting, closes idle connections, makes every later response "Connection: close";
 * after SLOTD_SHUTDOWN_TIMEOUT closes whatever is left. cb fires once no connection is open and
 * no orphaned request still waits for its handler (queries, password hashes and idempotency
 * waits all end within their own timeouts), so what handlers use may be freed from cb. */
void http_server_drain(http_server_t *srv, http_drained_cb cb);
int http_server_draining(const http_server_t *srv);
/* The bound port (useful with port 0), or -1. */
int http_server_port(const http_server_t *srv);
/* After draining (no connection left): closes the server's handles; the server is freed in
 * the last close callback, so run the loop afterwards. */
void http_server_close(http_server_t *srv);
const router_t *http_server_router(const http_server_t *srv);
/* Connections being served (not those being answered 503 over a limit). */
int http_server_open_connections(const http_server_t *srv);
/* 503s over SLOTD_MAX_CONNECTIONS or SLOTD_MAX_CONNECTIONS_PER_IP since start. */
uint64_t http_server_rejected_connections(const http_server_t *srv);

/* Optional: answers requests no route matched (status 404, or 405 with allow) instead of the
 * server's plain JSON error; it must respond. */
typedef void (*http_unrouted_fn)(http_req_t *req, int status, const char *allow);
void http_server_on_unrouted(http_server_t *srv, http_unrouted_fn fn);

/* Optional: writes the body of the errors the server answers itself (400, 404, 405, 408, 413,
 * 431, 503 over the connection limit) and of http_respond_error. req is NULL for the over-limit
 * answer, which is rendered once when the function is set: set it before listening. */
typedef void (*http_error_body_fn)(http_req_t *req, int status, const char *code, const char *message, buf_t *out);
void http_server_on_error_body(http_server_t *srv, http_error_body_fn fn);

/* Request accessors. */
const char *http_req_header(const http_req_t *req, const char *name); /* first match or NULL */
const char *http_req_param(const http_req_t *req, const char *name);  /* path parameter or NULL */

/* Response. Headers must be added before responding; name and value are copied. */
void http_set_header(http_req_t *req, const char *name, const char *value);
/* Appends header lines rendered beforehand ("Name: value\r\n" each, checked by the caller: no CR
 * or LF inside a value), copied; for a response made from a cache entry. */
void http_add_header_lines(http_req_t *req, const char *lines, size_t len);
/* Copies body. For HEAD the body is left out but Content-Length is kept. */
void http_respond(http_req_t *req, int status, const char *content_type, const char *body, size_t len);
void http_respond_json_raw(http_req_t *req, int status, const char *json, size_t len);
/* {"error": message, "code": code} */
void http_respond_error(http_req_t *req, int status, const char *code, const char *message);

const char *http_status_reason(int status);

/* A request-scoped log line (STYLE.md habit 10): msg plus string key/value pairs, NULL-terminated,
 * like log_kv, with the request's "request_id", "route" (the matched route pattern, else the raw
 * path) and "peer" added; do not pass those keys again. A NULL value is logged as null. Every key
 * and value is escaped (bytes that are not UTF-8 become U+FFFD), so the line is valid JSON for
 * any input. Usable on an orphaned request. Costs nothing below the configured level. */
void log_req(const http_req_t *req, int level, const char *msg, ...) __attribute__((sentinel));

#endif
