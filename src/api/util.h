/* util.h — what every API handler shares: the per-request context, JSON bodies and field
 * validation with errors that name the field, responses, and the mapping of database
 * outcomes to HTTP (SQLSTATE 'SLnnn' raised by api.* functions becomes status nnn). */
#ifndef SLOTD_API_UTIL_H
#define SLOTD_API_UTIL_H

#include <jansson.h>
#include <stdint.h>

#include "../db/pool.h"
#include "../http/server.h"
#include "app.h"

/* Error codes of the native API ({"error": message, "code": CODE}). */
#define E_VALIDATION "VALIDATION_FAILED"
#define E_UNAUTHORIZED "UNAUTHORIZED"
#define E_FORBIDDEN "FORBIDDEN"
#define E_NOT_FOUND "NOT_FOUND"
#define E_CONFLICT "CONFLICT"
#define E_UNAVAILABLE "SERVICE_UNAVAILABLE"
#define E_INTERNAL "INTERNAL"
#define E_BAD_REQUEST "BAD_REQUEST"

enum { AUTH_NONE = 0, AUTH_SESSION = 1, AUTH_API_KEY = 2 };

/* Lives in the request arena (req->ctx). */
typedef struct {
  int64_t user_id;      /* 0 unless authenticated */
  int auth_kind;        /* AUTH_* */
  int64_t api_key_id;
  char cred_hash[65];   /* hex SHA-256 of the presented credential */
  char cache_key[68];   /* "s:" or "k:" (cookie or header) + cred_hash */
  char client_ip[64];   /* for public rate limits and logs */
  json_t *body;         /* parsed JSON body (freed with the request), or NULL */
  char user_id_str[24]; /* user_id as text, for query parameters */
  void *flow;           /* a handler's own state across callbacks (arena) */
  void (*auth_next)(http_req_t *req); /* api_authenticate's continuation */
  struct idem_s *idem;  /* Idempotency-Key state (authn.c) */
  int wrote;            /* a statement that may change data was sent (api_query) */
} api_ctx_t;

static inline api_ctx_t *api_ctx(http_req_t *req) { return req->ctx; }
static inline app_t *api_app(http_req_t *req) { return req->app; }

/* Parses the body as a JSON object into ctx->body. On failure responds 400 and returns -1.
 * Rejects: empty or non-object bodies, malformed JSON, invalid UTF-8, NUL characters,
 * duplicate keys, nesting deeper than 32. */
int api_body_object(http_req_t *req) WARN_UNUSED;

/* Field validation: the first failure is kept; handlers check v.failed once at the end. */
typedef struct {
  http_req_t *req;
  json_t *obj;
  int failed;
  const char *field;
  char message[400];
} api_v_t;

void api_v_init(api_v_t *v, http_req_t *req, json_t *obj);
void api_v_fail(api_v_t *v, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Unknown fields are ignored. Each getter returns "absent" (NULL / 0) when the field is
 * missing (and fails if required), fails on a wrong type, and validates lengths in characters. */
const char *api_v_str(api_v_t *v, const char *field, int required, size_t minlen, size_t maxlen);
/* A one-line text (names, labels): like api_v_str, and neither blank nor holding line breaks
 * or tabs. */
const char *api_v_line(api_v_t *v, const char *field, int required, size_t minlen, size_t maxlen);
/* Like api_v_str but JSON null is allowed: *is_null set, returns NULL. present = field given. */
const char *api_v_str_or_null(api_v_t *v, const char *field, size_t maxlen, int *present);
int api_v_present(api_v_t *v, const char *field);
/* Integer field in [min, max]. Returns 1 and sets *out when given and valid; 0 when absent;
 * with nullable, JSON null returns 0 and sets *is_null. Fails on fractions, strings, range. */
int api_v_int(api_v_t *v, const char *field, long long min, long long max, int nullable, int *is_null,
              long long *out);
/* Fails when field is present as JSON null (for fields that may be left out but not cleared). */
void api_v_not_null(api_v_t *v, const char *field);
/* Boolean field: 1 and *out when given. */
int api_v_bool(api_v_t *v, const char *field, int *out);
/* Responds 400 with {"error", "code": VALIDATION_FAILED, "field"}. Returns 0. */
int api_v_respond(api_v_t *v);

/* Validators. */
int api_valid_email(const char *s);
int api_valid_color(const char *s);       /* #RRGGBB */
int api_valid_slug(const char *s);        /* [a-z0-9-], 1..60, no leading/trailing '-' */
int api_valid_http_url(const char *s);    /* absolute http(s) URL without spaces */
int api_valid_uuid(const char *s);        /* 8-4-4-4-12 hex */
/* Slug from a display name: lower-case ASCII letters and digits, '-' between words. */
void api_slugify(const char *name, char *out, size_t outlen);

/* A query-string parameter, percent-decoded ('+' is a space) into the arena; NULL if absent
 * or malformed. */
const char *api_query_param(http_req_t *req, const char *name);

/* Responses. */
void api_respond_json(http_req_t *req, int status, json_t *value); /* steals the reference */
void api_respond_text_json(http_req_t *req, int status, const char *json, size_t len);
void api_error(http_req_t *req, int status, const char *code, const char *message);
void api_error_field(http_req_t *req, int status, const char *code, const char *message, const char *field);
const char *api_code_for_status(int status);

/* A write's result may carry "_host": the host it changed. Tells the app (which drops that
 * host's cached availability now, before answering) and returns the text without the key:
 * text itself when there was none, else *owned (free it). */
const char *api_take_host_hint(http_req_t *req, const char *text, size_t *len, char **owned);

/* Database outcome -> response. For ok results with one jsonb/json text column, responds
 * `status` with that text as the body (a NULL value is 404). Errors: 'SLnnn' -> nnn with the
 * function's message and HINT as field; unavailable -> 503; anything else -> 500 (logged). */
void api_respond_db(http_req_t *req, const db_result_t *r, int status);
/* For handlers that look at the rows themselves: responds to a failed result and returns 1,
 * or returns 0 when r->ok. */
int api_db_failed(http_req_t *req, const db_result_t *r);

/* The end of an update handler: responds 400 if v failed; otherwise runs stmt with
 * (user id, [id,] patch as JSON text), with_id saying whether id (which may be NULL, SQL NULL)
 * is passed. Takes the patch reference. Returns 0. */
int api_save_patch(http_req_t *req, api_v_t *v, json_t *patch, const char *stmt, int with_id, const char *id,
                   db_cb cb);
/* A {"total", "items"} result: sets X-Total-Count and returns the items (new reference), or
 * NULL after responding to a failure. */
json_t *api_paged_items(http_req_t *req, const db_result_t *r, long long *total);

/* A positive database id (1..10^18-1) from text; 0 if it is not one. */
long long api_parse_id(const char *s);
/* A positive integer path parameter, or NULL after a 404 with message `what`. */
const char *api_id_param(http_req_t *req, const char *name, const char *what);

/* Queries the pool for this request: the callback gets the request back. */
void api_query(http_req_t *req, const char *stmt, int n, const char *const *params, db_cb cb);

#endif
