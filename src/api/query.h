/* query.h — the API's statements and how a handler sends one.
 *
 * Each module registers its statements (name, SQL, whether it may write) in a static table
 * before the pool starts; api_prepare_statements() prepares every registered one on each
 * connection. (jobs/ prepare their own: they are not part of the API.)
 *
 * api_query() sends a statement for a request and follows server.h's orphan policy: the
 * handler's callback gets the request back, unless the client has gone and nothing has been
 * written yet, in which case the result is dropped and the request released (see server.h). */
#ifndef SLOTD_API_QUERY_H
#define SLOTD_API_QUERY_H

#include <jansson.h>

#include "../db/pool.h"
#include "../http/server.h"

typedef struct {
  const char *name;
  const char *sql;
  int writes; /* 1: may change data (after it was sent, a failure leaves the outcome unknown) */
} api_stmt_t;

/* list ends with a {NULL} entry and must be static. At most API_MAX_MODULES lists. */
#define API_MAX_MODULES 32
void api_register_statements(const api_stmt_t *list);
void api_prepare_statements(db_pool_t *db);
/* 1 if the registered statement may write (unknown names count as writes). */
int api_stmt_writes(const char *name);

void api_query(http_req_t *req, const char *stmt, int n, const char *const *params, db_cb cb);
/* Like api_query, on the streaming replica (app->replica must be set; stmt must not write). */
void api_query_replica(http_req_t *req, const char *stmt, int n, const char *const *params, db_cb cb);
/* Prepares the statements that do not write on a replica's pool. */
void api_prepare_reads(db_pool_t *db);
/* Like api_query, but the callback is called for an orphan too and must apply the policy itself
 * (api_orphan_release): for a statement whose result says what must be undone. */
void api_query_always(http_req_t *req, const char *stmt, int n, const char *const *params, db_cb cb);
/* Drops an orphan that wrote nothing: releases its Idempotency-Key placeholder (if it owns one)
 * and frees the request. Nothing may touch req afterwards. */
void api_orphan_release(http_req_t *req);

/* The end of a create/update handler: responds 400 if v failed; otherwise runs stmt with
 * (user id, [id,] patch as JSON text), with_id saying whether id (which may be NULL, SQL NULL)
 * is passed. Takes the patch reference. Returns 0. */
struct api_v_s;
int api_save_patch(http_req_t *req, struct api_v_s *v, json_t *patch, const char *stmt, int with_id, const char *id,
                   db_cb cb);

/* Requests whose result was dropped because the client had gone (for /metrics and tests). */
unsigned long long api_orphans_dropped(void);
unsigned long long api_orphans_completed(void);

#endif
