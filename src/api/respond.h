/* respond.h — the one response path of the API. Every error body is written by api_fail()
 * through the request's dialect (ctx->dialect: native by default; a vendor dialect under
 * compat/ renders its own envelope without touching handlers), and every success body leaves
 * through api_respond_body() in one byte format: compact JSON, strings and numbers exactly as
 * they were produced (PostgreSQL's jsonb text is compacted, never parsed and re-dumped). This
 * is also the only place that maps database outcomes (SQLSTATEs) to HTTP. */
#ifndef SLOTD_API_RESPOND_H
#define SLOTD_API_RESPOND_H

#include <jansson.h>

#include "../core/buf.h"
#include "../db/pool.h"
#include "../http/server.h"
#include "ctx.h"
#include "validate.h"

/* Error codes of the native API ({"error": message, "code": CODE}). */
#define E_VALIDATION "VALIDATION_FAILED"
#define E_UNAUTHORIZED "UNAUTHORIZED"
#define E_FORBIDDEN "FORBIDDEN"
#define E_NOT_FOUND "NOT_FOUND"
#define E_CONFLICT "CONFLICT"
#define E_UNAVAILABLE "SERVICE_UNAVAILABLE"
#define E_INTERNAL "INTERNAL"
#define E_BAD_REQUEST "BAD_REQUEST"
#define E_RATE_LIMITED "RATE_LIMIT_EXCEEDED"

/* What went wrong, before any dialect has shaped it. Pointers are borrowed. */
typedef struct {
  int status;
  const char *code;           /* one of E_* (a dialect maps them to its own words) */
  const char *message;
  const char *field;          /* the offending input, or NULL */
  const char *current_status; /* a booking's status when a transition is illegal, or NULL */
  json_t *next_slots;         /* free slots offered instead of a taken one ([{start, end}]), or NULL */
  int retry_after;            /* seconds: a Retry-After header (429, 503); 0 = none */
  const char *path;           /* the request's path (api_fail sets it; dialects that echo it read it) */
  size_t path_len;
} api_failure_t;

struct api_dialect_s {
  const char *name;
  /* Writes the body of f into out (its content type is application/json). */
  void (*error)(const api_failure_t *f, buf_t *out);
  /* Optional: wraps a success body (compact JSON) into out; NULL sends it as it is. */
  void (*success)(int status, const char *body, size_t len, buf_t *out);
  /* Optional: a vendor's own API key header (Kordless: "x-kordless-key"), read on this dialect's
   * routes before X-API-Key and Authorization: Bearer. */
  const char *key_header;
};

extern const api_dialect_t api_native_dialect;

/* The only writer of error bodies. */
void api_fail(http_req_t *req, const api_failure_t *f);
void api_error(http_req_t *req, int status, const char *code, const char *message);
void api_error_field(http_req_t *req, int status, const char *code, const char *message, const char *field);
/* Over a rate limit: 429 with Retry-After (the X-RateLimit-* headers are set by the caller). */
void api_rate_limited(http_req_t *req, int retry_after);
/* A body for an error the HTTP layer answers itself (no request, or none routed yet). */
void api_render_error(const api_dialect_t *d, int status, const char *code, const char *message, buf_t *out);
/* The server's error-body hook (http_server_on_error_body): the request's dialect, else native. */
void api_server_error_body(http_req_t *req, int status, const char *code, const char *message, buf_t *out);
const char *api_code_for_status(int status);

/* Success bodies. json is compact JSON (slotd's byte format). */
void api_respond_body(http_req_t *req, int status, const char *json, size_t len);
/* JSON text as PostgreSQL prints it, compacted on the way. */
void api_respond_pg(http_req_t *req, int status, const char *text, size_t len);
/* The id of a resource from its JSON as PostgreSQL prints jsonb ({"id": N, ...}: the shortest
 * key comes first), or 0. For the idempotency record of a response about a person (a booking, a
 * customer): erasing them deletes that record too. */
int64_t api_jsonb_id(const char *body, size_t len);
/* Like api_respond_pg for a JSON object, with extra (`,"k":v...`) added as its last members. */
void api_respond_pg_extended(http_req_t *req, int status, const char *text, size_t len, const char *extra);
/* A jansson value, dumped compactly (steals the reference). */
void api_respond_json(http_req_t *req, int status, json_t *value);

/* Database outcome -> failure. Returns 0 when r is ok; otherwise fills f (msg holds text f
 * points to): 'SLnnn' raised by api.* functions -> nnn with the message, HINT naming the field
 * or "status:<booking status>"; 23505 -> 409; 23P01 -> 409 (time taken); 23503 -> 409;
 * 23514 (a CHECK) and 23502 (NOT NULL) -> 400 naming the column; class 22 (bad data) -> 400;
 * unavailable -> 503; anything else -> 500. Pure: unit-tested. */
int api_db_failure(const db_result_t *r, api_failure_t *f, char *msg, size_t msglen);
/* Responds to a failed result (500s are logged) and returns 1, or returns 0 when r->ok. */
int api_db_failed(http_req_t *req, const db_result_t *r);

/* A write function's row, read by column name: body (jsonb), host_ids (bigint[]) and stale.
 * api_db_write tells the app about every changed host (the instance's cache forgets them before
 * the answer leaves), and returns 0 with *w filled (body points into r: valid during the
 * callback), or -1 after responding to a failure. Functions that return one plain column are
 * read as a body without hosts. */
typedef struct {
  const char *body;
  size_t len;
  int stale;
} api_write_t;
int api_db_write(http_req_t *req, const db_result_t *r, api_write_t *w) WARN_UNUSED;
/* The whole answer of a simple statement: the body with `status`; a NULL body is 404. */
void api_respond_db(http_req_t *req, const db_result_t *r, int status);
/* A list function's row (body, total): X-Total-Count, Link, and the page with 200. */
void api_respond_list(http_req_t *req, const db_result_t *r, const api_page_t *page);

#endif
