/* pool.h — SLOTD_DB_POOL nonblocking PostgreSQL connections in pipeline mode.
 *
 * Statements are registered with db_pool_prepare() before db_pool_start() and prepared on
 * every (re)connect. db_query() sends at once on the least-loaded ready connection (each query
 * followed by its own sync, so one failing query never aborts another), or waits in a FIFO up
 * to SLOTD_DB_QUEUE_TIMEOUT when every connection is at its pipeline depth. A query that runs
 * past SLOTD_DB_QUERY_TIMEOUT drops its connection (libpq 15 has no nonblocking cancel); every
 * query in flight on a lost connection fails with `unavailable` and is never replayed.
 *
 * The callback fires exactly once unless db_cancel() was called first; the PGresult belongs to
 * the pool and is cleared after the callback returns. Callbacks may issue new queries. */
#ifndef SLOTD_DB_POOL_H
#define SLOTD_DB_POOL_H

#include <libpq-fe.h>
#include <stdint.h>
#include <uv.h>

#include "../core/buf.h"
#include "../core/config.h"

typedef struct db_pool_s db_pool_t;
typedef struct db_op_s db_op_t;

typedef struct {
  int ok;              /* 1: res is PGRES_TUPLES_OK or PGRES_COMMAND_OK */
  int unavailable;     /* 1: no connection, lost, timed out or queue timeout (answer 503) */
  const char *sqlstate;/* for SQL errors, e.g. "23505"; NULL otherwise */
  const char *message; /* error text; NULL when ok */
  PGresult *res;       /* NULL unless the server answered */
} db_result_t;

typedef void (*db_cb)(void *data, const db_result_t *r);

db_pool_t *db_pool_new(uv_loop_t *loop, const config_t *cfg, char *err, size_t errlen);
/* Before db_pool_start only. name and sql must be static. */
void db_pool_prepare(db_pool_t *p, const char *name, const char *sql);
void db_pool_start(db_pool_t *p);
/* values are copied; NULL entries are SQL NULL. Returns a handle for db_cancel (valid until
 * the callback fires). Never NULL: a query that cannot be queued fails through cb, later. */
db_op_t *db_query(db_pool_t *p, const char *stmt, int nparams, const char *const *values, db_cb cb, void *data);
/* The callback will not fire; the query may still run on the server. */
void db_cancel(db_op_t *op);
/* Fails every queued and in-flight query (callbacks fire with `unavailable`), closes the
 * connections, and frees the pool in the last close callback, then calls done (may be NULL). */
void db_pool_close(db_pool_t *p, void (*done)(void *data), void *data);

typedef struct {
  int size, ready, in_use, waiting;
  uint64_t errors_total;     /* lost connections, failed connects, timeouts, SQL errors */
} db_pool_stats_t;
void db_pool_stats(const db_pool_t *p, db_pool_stats_t *out);
void db_pool_metrics(buf_t *out, void *pool); /* metrics collector */

#endif
