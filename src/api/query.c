#include "query.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "../core/map.h"
#include "../db/replica.h"
#include "ctx.h"
#include "idempotency.h"
#include "validate.h"

/* Statements per name, for api_stmt_writes: every query a request sends looks its statement up,
 * and a scan of every registered list cost a strcmp per statement before it. Never freed (the
 * lists are static too); the cap is far above any real count, so map_put never clears it. */
#define STMT_MAP_MAX 4096
static const api_stmt_t *modules[API_MAX_MODULES];
static int nmodules;
static map_t *by_name; /* name -> const api_stmt_t *, the first registered of that name */
static unsigned long long dropped, completed;

void api_register_statements(const api_stmt_t *list) {
  for (int i = 0; i < nmodules; i++)
    if (modules[i] == list) return;
  if (nmodules == API_MAX_MODULES) abort();
  modules[nmodules++] = list;
  if (!by_name) by_name = map_new(sizeof(const api_stmt_t *), STMT_MAP_MAX);
  for (const api_stmt_t *s = list; s->name; s++) {
    if (map_size(by_name) + 1 >= STMT_MAP_MAX) abort();
    int created;
    const api_stmt_t **slot = map_put(by_name, s->name, &created);
    if (created) *slot = s;
  }
}

void api_prepare_statements(db_pool_t *db) {
  for (int i = 0; i < nmodules; i++)
    for (const api_stmt_t *s = modules[i]; s->name; s++) db_pool_prepare(db, s->name, s->sql);
}

int api_stmt_writes(const char *name) {
  const api_stmt_t **s = by_name ? map_get(by_name, name) : NULL;
  return s ? (*s)->writes : 1;
}

unsigned long long api_orphans_dropped(void) { return dropped; }
unsigned long long api_orphans_completed(void) { return completed; }

/* One query of a request: the handler's callback, reached through on_result. Lives in the
 * request's arena, which outlives the query (an orphaned request waits for its callbacks). */
typedef struct {
  http_req_t *req;
  db_cb cb;
  int always; /* delivered to an orphan too: the callback applies the policy itself */
} api_op_t;

static void on_released(void *data, const db_result_t *r) {
  (void)r;
  http_req_t *req = data;
  req->respond_hook = NULL; /* nothing is stored for a request that did nothing */
  http_respond(req, 499, NULL, NULL, 0); /* discarded: frees the orphaned request */
}

static void on_result(void *data, const db_result_t *r) {
  api_op_t *op = data;
  http_req_t *req = op->req;
  api_ctx_t *ctx = req->ctx;
  if (req->orphaned && ctx && !ctx->wrote && !op->always) {
    /* The orphan policy for reads: no further work for a client that has gone. An
     * Idempotency-Key placeholder is released so that a retry runs at once. */
    api_orphan_release(req);
    return;
  }
  if (req->orphaned && ctx && !ctx->orphan_counted && op->cb != on_released && !op->always) {
    ctx->orphan_counted = 1; /* once per request */
    completed++;
  }
  op->cb(req, r);
}

int api_save_patch(http_req_t *req, api_v_t *v, json_t *patch, const char *stmt, int with_id, const char *id,
                   db_cb cb) {
  if (v->failed) {
    json_decref(patch);
    return api_v_respond(v);
  }
  /* Reals (a price) with 17 significant digits: numeric(12,2) rounds them back exactly. */
  char *text = json_dumps(patch, JSON_COMPACT);
  json_decref(patch);
  const char *params[3] = {api_ctx(req)->user_id_str, with_id ? id : text, text};
  api_query(req, stmt, with_id ? 3 : 2, params, cb);
  free(text);
  return 0;
}

static void send_query(http_req_t *req, db_pool_t *pool, const char *stmt, int n, const char *const *params, db_cb cb,
                       int always) {
  api_ctx_t *ctx = req->ctx;
  if (ctx && api_stmt_writes(stmt)) ctx->wrote = 1;
  api_op_t *op = arena_alloc(req->arena, sizeof *op);
  op->req = req;
  op->cb = cb;
  op->always = always;
  db_query(pool, stmt, n, params, on_result, op);
}

void api_query(http_req_t *req, const char *stmt, int n, const char *const *params, db_cb cb) {
  send_query(req, api_app(req)->db, stmt, n, params, cb, 0);
}

void api_query_always(http_req_t *req, const char *stmt, int n, const char *const *params, db_cb cb) {
  send_query(req, api_app(req)->db, stmt, n, params, cb, 1);
}

void api_query_replica(http_req_t *req, const char *stmt, int n, const char *const *params, db_cb cb) {
  assert(api_app(req)->replica && !api_stmt_writes(stmt));
  send_query(req, db_replica_pool(api_app(req)->replica), stmt, n, params, cb, 0);
}

void api_prepare_reads(db_pool_t *db) {
  for (int m = 0; m < nmodules; m++)
    for (const api_stmt_t *s = modules[m]; s->name; s++)
      if (!s->writes) db_pool_prepare(db, s->name, s->sql);
}

void api_orphan_release(http_req_t *req) {
  api_ctx_t *ctx = req->ctx;
  dropped++;
  if (ctx) ctx->wrote = 1; /* what follows is the request's last statement */
  idem_release(req, on_released);
}
