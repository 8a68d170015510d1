/* idempotency.c — Idempotency-Key on any POST (README "Idempotency"): the first response is
 * stored, sealed, before it is sent, and replayed for the same key and request; requests with a
 * key still running wait for it. */
#include "idempotency.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llhttp.h>

#include "../core/crypto.h"
#include "../core/util.h"
#include "dispatch.h"
#include "query.h"
#include "respond.h"

#define IDEM_WAIT_MS 50
#define IDEM_WAIT_MAX 200 /* 10 s */

typedef struct idem_s {
  char scope[80];
  char key[65];              /* SHA-256 of the Idempotency-Key: the key itself is never stored */
  unsigned char seal[32];    /* encrypts the stored response; derived from the key itself */
  char hash[65];
  int waits;
  int status;
  char *ctype, *body;
  size_t len;
  int owned; /* this request inserted the placeholder (state "run") */
} idem_t;

static void idem_begin(http_req_t *req);

typedef struct {
  uv_timer_t timer;
  http_req_t *req;
} idem_wait_t;

static void on_wait_closed(uv_handle_t *h) { free(h->data); }

static void on_wait(uv_timer_t *t) {
  idem_wait_t *w = t->data;
  http_req_t *req = w->req;
  uv_close((uv_handle_t *)&w->timer, on_wait_closed);
  idem_begin(req);
}

static void send_stored(void *data, const db_result_t *r) {
  http_req_t *req = data;
  idem_t *i = api_ctx(req)->idem;
  (void)r; /* if storing failed the client still gets its answer; a retry after a minute reruns */
  http_respond(req, i->status, i->ctype, i->body, i->len);
}

/* The handler's response: stored (or the key released after a 5xx) before it is sent. */
static void idem_hook(http_req_t *req, int status, const char *ctype, const char *body, size_t len) {
  idem_t *i = api_ctx(req)->idem;
  i->status = status;
  i->ctype = ctype ? arena_strdup(req->arena, ctype) : NULL;
  i->body = arena_strndup(req->arena, body ? body : "", len);
  i->len = len;
  if (status >= 500) { /* nothing written: the key is free again; else the outcome is unknown */
    const char *params[2] = {i->scope, i->key};
    api_query(req, api_ctx(req)->wrote ? "idem_unknown" : "idem_abort", 2, params, send_stored);
    return;
  }
  char st[16];
  snprintf(st, sizeof st, "%d", status);
  /* Sealed: the response may hold secrets shown once (a booking's invitee tokens). Only a
   * caller presenting the same key can have it opened again. */
  char *sealed = crypto_seal(i->seal, i->body, i->len);
  char booking[24], customer[24]; /* so that erasing the customer can delete this record too */
  api_ctx_t *c = api_ctx(req);
  if (c->booking_id > 0) *put_i64(booking, c->booking_id) = '\0';
  if (c->customer_id > 0) *put_i64(customer, c->customer_id) = '\0';
  const char *params[6] = {i->scope, i->key, st, sealed, c->booking_id > 0 ? booking : NULL,
                           c->customer_id > 0 ? customer : NULL};
  api_query(req, "idem_finish", 6, params, send_stored);
  free(sealed);
}

static void call_handler(http_req_t *req) {
  const api_handler_t *h = req->match.route->ctx;
  if (h->fn(req) != 0 && !req->responded) api_error(req, 500, E_INTERNAL, "internal error");
}

static void on_idem_begin(void *data, const db_result_t *r) {
  http_req_t *req = data;
  idem_t *i = api_ctx(req)->idem;
  if (api_db_failed(req, r)) return;
  json_t *doc = json_loads(PQgetvalue(r->res, 0, 0), 0, NULL);
  const char *state = json_string_value(json_object_get(doc, "state"));
  if (req->orphaned) { /* the client left meanwhile: nothing ran, so a placeholder of ours is freed at once */
    i->owned = state && strcmp(state, "run") == 0;
    json_decref(doc);
    api_orphan_release(req);
    return;
  }
  if (state && strcmp(state, "run") == 0) {
    i->owned = 1; /* the placeholder is this request's */
    req->respond_hook = idem_hook;
    call_handler(req);
  } else if (state && strcmp(state, "replay") == 0) {
    const char *sealed = json_string_value(json_object_get(doc, "body"));
    size_t len = 0;
    char *body = sealed ? crypto_open(i->seal, sealed, &len) : NULL;
    if (!body) {
      api_error(req, 500, E_INTERNAL, "stored response cannot be read");
    } else {
      http_set_header(req, "Idempotent-Replayed", "true");
      http_set_header(req, "Cache-Control", "no-store");
      http_respond(req, (int)json_integer_value(json_object_get(doc, "status")), "application/json", body, len);
      free(body);
    }
  } else if (state && strcmp(state, "unknown") == 0) {
    api_error(req, 409, "IDEMPOTENCY_OUTCOME_UNKNOWN",
              "the first request with this Idempotency-Key failed after it was sent to the database, so it may "
              "have taken effect; check (e.g. list your bookings) before retrying with a new key");
  } else if (state && strcmp(state, "mismatch") == 0) {
    api_error(req, 422, "IDEMPOTENCY_KEY_REUSED", "this Idempotency-Key was used with a different request");
  } else if (state && strcmp(state, "running") == 0 && ++i->waits < IDEM_WAIT_MAX) {
    idem_wait_t *w = xcalloc(1, sizeof *w); /* the first request is still at work: ask again shortly */
    w->req = req;
    uv_timer_init(api_app(req)->loop, &w->timer);
    w->timer.data = w;
    uv_timer_start(&w->timer, on_wait, IDEM_WAIT_MS, 0);
  } else {
    http_set_header(req, "Retry-After", "1");
    api_error(req, 409, E_CONFLICT, "a request with this Idempotency-Key is still in progress");
  }
  json_decref(doc);
}

static void idem_begin(http_req_t *req) {
  idem_t *i = api_ctx(req)->idem;
  const char *params[3] = {i->scope, i->key, i->hash};
  api_query_always(req, "idem_begin", 3, params, on_idem_begin);
}

void api_run_handler(http_req_t *req) {
  const char *key = http_req_header(req, "Idempotency-Key");
  if (req->method != HTTP_POST || !key) {
    call_handler(req);
    return;
  }
  size_t n = strlen(key);
  int ok = n >= 1 && n <= 255;
  for (size_t k = 0; ok && k < n; k++) ok = key[k] >= 0x20 && key[k] < 0x7f;
  if (!ok) {
    api_error_field(req, 400, E_VALIDATION, "Idempotency-Key must be 1-255 printable ASCII characters",
                    "Idempotency-Key");
    return;
  }
  api_ctx_t *ctx = api_ctx(req);
  idem_t *i = arena_calloc(req->arena, sizeof *i);
  ctx->idem = i;
  const char *authz = http_req_header(req, "Authorization"), *xkey = http_req_header(req, "X-API-Key");
  const char *vendor = ctx->dialect && ctx->dialect->key_header ? http_req_header(req, ctx->dialect->key_header) : NULL;
  if (ctx->auth_kind == AUTH_API_KEY) snprintf(i->scope, sizeof i->scope, "k:%" PRId64, ctx->api_key_id);
  else if (ctx->user_id) snprintf(i->scope, sizeof i->scope, "u:%" PRId64, ctx->user_id);
  else if (authz || xkey || vendor) {
    /* A public route that checks a credential inside its handler (MCP's host tools, a dialect's
     * optional key): the record belongs to that credential, so no other caller from the same
     * address — without it, or with another — ever replays the answer it was given. */
    buf_t c = BUF_INIT;
    buf_printf(&c, "%s\n%s\n%s", authz ? authz : "", xkey ? xkey : "", vendor ? vendor : "");
    char hex[65];
    crypto_sha256_hex(c.data, c.len, hex);
    buf_free(&c);
    snprintf(i->scope, sizeof i->scope, "c:%s", hex);
  } else snprintf(i->scope, sizeof i->scope, "ip:%s", ctx->client_ip);
  crypto_sha256_hex(key, n, i->key);
  buf_t sk = BUF_INIT;
  buf_puts(&sk, "slotd idempotency seal v1\n");
  buf_puts(&sk, i->scope);
  buf_putc(&sk, '\n');
  buf_append(&sk, key, n);
  crypto_sha256(sk.data, sk.len, i->seal);
  buf_free(&sk);
  buf_t h = BUF_INIT; /* the request: method, path and exact body bytes */
  buf_printf(&h, "%s %s?%s\n", req->method_name, req->path, req->query ? req->query : "");
  if (req->body.len) buf_append(&h, req->body.data, req->body.len);
  crypto_sha256_hex(h.data, h.len, i->hash);
  buf_free(&h);
  idem_begin(req);
}


void idem_release(http_req_t *req, db_cb cb) {
  idem_t *i = api_ctx(req)->idem;
  req->respond_hook = NULL;
  if (!i || !i->owned) {
    cb(req, NULL);
    return;
  }
  const char *params[2] = {i->scope, i->key};
  api_query(req, "idem_abort", 2, params, cb);
}

static const api_stmt_t statements[] = {
    {"idem_begin", "SELECT api.idem_begin($1, $2, $3)", 0}, /* its placeholder is released by idem_abort */
    {"idem_finish", "SELECT api.idem_finish($1, $2, $3, $4, $5, $6)", 0},
    {"idem_abort", "SELECT api.idem_abort($1, $2)", 0},
    {"idem_unknown", "SELECT api.idem_unknown($1, $2)", 0},
    {NULL, NULL, 0},
};

void api_idempotency_register(void) { api_register_statements(statements); }
