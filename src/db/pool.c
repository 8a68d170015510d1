#include "pool.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../core/util.h"
#include "link.h"

#define PIPELINE_DEPTH 16
#define MAX_STATEMENTS 512 /* every module's prepared statements (the dialects add many) */

typedef enum { OP_QUEUED, OP_INFLIGHT } op_state_t;

struct db_op_s {
  db_op_t *prev, *next;   /* pool queue (doubly linked) or a connection's in-flight FIFO (next only) */
  db_pool_t *pool;
  op_state_t state;
  const char *stmt;       /* static statement name; NULL for an internal prepare */
  const char *prep_sql;   /* internal prepare: the SQL */
  int nparams;
  char **values;          /* copies, in the same allocation as the op */
  db_cb cb;               /* NULL once cancelled */
  void *data;
  uint64_t deadline;      /* loop ms: queue deadline while queued, query deadline in flight */
  PGresult *res;          /* first result received */
  int got_end;            /* NULL after the results seen; the sync comes next */
};

typedef struct {
  db_link_t link;
  db_pool_t *pool;
  db_op_t *head, *tail;   /* in flight, in send order */
  int inflight;
  uv_timer_t qtimer;      /* query timeout of the head */
  char name[24];
} pconn_t;

struct db_pool_s {
  uv_loop_t *loop;
  const config_t *cfg;
  db_params_t *params;
  pconn_t *conns;
  int nconns;
  db_op_t *qhead, *qtail; /* waiting for a connection */
  int nqueued;
  uv_timer_t queue_timer;
  struct {
    const char *name, *sql;
  } stmts[MAX_STATEMENTS];
  int nstmts;
  uint64_t errors;
  int closing, started;
  int closes_pending;
  void (*on_closed)(void *);
  void *on_closed_data;
};

static void dispatch(db_pool_t *p);
static void fail_conn(pconn_t *c, const char *why);

/* ------------------------------------------------------------------ ops */

static db_op_t *op_new(db_pool_t *p, const char *stmt, int nparams, const char *const *values) {
  size_t size = sizeof(db_op_t) + (size_t)nparams * sizeof(char *);
  for (int i = 0; i < nparams; i++)
    if (values[i]) size += strlen(values[i]) + 1;
  db_op_t *op = xcalloc(1, size);
  op->pool = p;
  op->stmt = stmt;
  op->nparams = nparams;
  op->values = (char **)(op + 1);
  char *dst = (char *)(op->values + nparams);
  for (int i = 0; i < nparams; i++) {
    if (!values[i]) continue;
    size_t n = strlen(values[i]) + 1;
    memcpy(dst, values[i], n);
    op->values[i] = dst;
    dst += n;
  }
  return op;
}

/* Delivers the op's outcome (unless cancelled) and frees it. */
static void op_finish(db_op_t *op, int unavailable, const char *message) {
  db_pool_t *p = op->pool;
  db_result_t r;
  memset(&r, 0, sizeof r);
  r.res = op->res;
  if (unavailable) {
    r.unavailable = 1;
    r.message = message;
  } else if (!op->res) {
    r.message = "no result";
  } else {
    ExecStatusType st = PQresultStatus(op->res);
    r.ok = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
    if (!r.ok) {
      r.sqlstate = PQresultErrorField(op->res, PG_DIAG_SQLSTATE);
      r.message = PQresultErrorMessage(op->res);
      if (!op->stmt)
        log_kv(LOG_ERROR, "prepare failed", "statement", op->prep_sql, "error", r.message, NULL);
    }
  }
  /* Errors of the database, not of the request: SQLSTATE class SL is an api.* function's
   * expected answer (404, 409, ...), which the caller turns into a response. */
  if (!r.ok && !(r.sqlstate && r.sqlstate[0] == 'S' && r.sqlstate[1] == 'L')) p->errors++;
  if (op->cb) op->cb(op->data, &r);
  if (op->res) PQclear(op->res);
  free(op);
}

static void queue_remove(db_pool_t *p, db_op_t *op) {
  if (op->prev) op->prev->next = op->next;
  else p->qhead = op->next;
  if (op->next) op->next->prev = op->prev;
  else p->qtail = op->prev;
  op->prev = op->next = NULL;
  p->nqueued--;
}

static void on_queue_timer(uv_timer_t *t);

static void arm_queue_timer(db_pool_t *p) {
  if (!p->qhead) {
    uv_timer_stop(&p->queue_timer);
    return;
  }
  uint64_t now = uv_now(p->loop);
  uint64_t d = p->qhead->deadline > now ? p->qhead->deadline - now : 0;
  uv_timer_start(&p->queue_timer, on_queue_timer, d, 0);
}

static void on_queue_timer(uv_timer_t *t) {
  db_pool_t *p = t->data;
  uint64_t now = uv_now(p->loop);
  while (p->qhead && p->qhead->deadline <= now) {
    db_op_t *op = p->qhead;
    queue_remove(p, op);
    op_finish(op, 1, "timed out waiting for a database connection");
  }
  arm_queue_timer(p);
}

/* ------------------------------------------------------------------ connections */

static int conn_usable(const pconn_t *c) { return c->link.state == DB_LINK_READY; }

static void on_qtimer(uv_timer_t *t);

static void arm_qtimer(pconn_t *c) {
  if (!c->head) {
    uv_timer_stop(&c->qtimer);
    return;
  }
  uint64_t now = uv_now(c->pool->loop);
  uint64_t d = c->head->deadline > now ? c->head->deadline - now : 0;
  uv_timer_start(&c->qtimer, on_qtimer, d, 0);
}

static void on_qtimer(uv_timer_t *t) {
  pconn_t *c = t->data;
  if (c->head && c->head->deadline <= uv_now(c->pool->loop)) fail_conn(c, "query timeout");
  else arm_qtimer(c);
}

static void flush(pconn_t *c) {
  int rc = PQflush(c->link.pg);
  if (rc < 0) fail_conn(c, PQerrorMessage(c->link.pg));
  else db_link_want_write(&c->link, rc == 1);
}

/* Sends op on c. 0, or -1 if libpq refused (the connection is broken; op was not sent). */
static int send_op(pconn_t *c, db_op_t *op) {
  PGconn *pg = c->link.pg;
  int ok = op->stmt ? PQsendQueryPrepared(pg, op->stmt, op->nparams, (const char *const *)op->values, NULL, NULL, 0)
                    : PQsendPrepare(pg, op->values[0], op->prep_sql, 0, NULL);
  if (!ok || !PQpipelineSync(pg)) return -1;
  op->state = OP_INFLIGHT;
  op->next = NULL;
  op->prev = NULL;
  op->deadline = uv_now(c->pool->loop) + c->pool->cfg->db_query_timeout_ms;
  if (c->tail) c->tail->next = op;
  else c->head = op;
  c->tail = op;
  c->inflight++;
  if (c->head == op) arm_qtimer(c);
  return 0;
}

/* Fails what was sent on c: it is never replayed, as it may have run. */
static void fail_inflight(pconn_t *c) {
  db_op_t *ops = c->head;
  c->head = c->tail = NULL;
  c->inflight = 0;
  uv_timer_stop(&c->qtimer);
  while (ops) {
    db_op_t *next = ops->next;
    op_finish(ops, 1, "database connection lost");
    ops = next;
  }
}

static void fail_conn(pconn_t *c, const char *why) {
  db_pool_t *p = c->pool;
  p->errors++;
  char reason[200];
  snprintf(reason, sizeof reason, "%s", why ? why : "connection lost");
  db_link_reset(&c->link, reason); /* a READY link reports DB_EV_LOST: fail_inflight */
  fail_inflight(c);
  dispatch(p);
}

static void read_results(pconn_t *c) {
  PGconn *pg = c->link.pg;
  if (!PQconsumeInput(pg)) {
    fail_conn(c, PQerrorMessage(pg));
    return;
  }
  int freed = 0; /* pipeline slots given back: queued queries may go now */
  while (c->head && !PQisBusy(pg)) {
    db_op_t *op = c->head;
    PGresult *r = PQgetResult(pg);
    if (!r) {
      if (op->got_end) break; /* waiting for the sync */
      op->got_end = 1;
      continue;
    }
    if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      c->head = op->next;
      if (!c->head) c->tail = NULL;
      c->inflight--;
      freed = 1;
      arm_qtimer(c);
      op_finish(op, 0, NULL); /* may send more on this connection: pg stays valid */
      if (c->link.state != DB_LINK_READY) {
        dispatch(c->pool); /* other connections may take the waiting queries */
        return;
      }
      continue;
    }
    if (!op->res) op->res = r;
    else PQclear(r);
  }
  if (c->link.state == DB_LINK_READY && PQstatus(pg) == CONNECTION_BAD) {
    fail_conn(c, "connection lost");
    return;
  }
  /* Queries waiting for a slot are sent only from here, from a new query or from a connection
   * coming up: without this a burst larger than the pipelines waited out the queue deadline. */
  if (freed) dispatch(c->pool);
}

static void on_link(db_link_t *l, int ev) {
  pconn_t *c = l->data;
  db_pool_t *p = c->pool;
  switch (ev) {
    case DB_EV_READY:
      if (!PQenterPipelineMode(l->pg)) {
        db_link_reset(l, "cannot enter pipeline mode");
        return;
      }
      for (int i = 0; i < p->nstmts; i++) {
        const char *name = p->stmts[i].name;
        db_op_t *op = op_new(p, NULL, 1, &name);
        op->prep_sql = p->stmts[i].sql;
        if (send_op(c, op) != 0) {
          free(op);
          fail_conn(c, "cannot send prepare");
          return;
        }
      }
      flush(c);
      dispatch(p);
      break;
    case DB_EV_LOST: fail_inflight(c); break;
    case DB_EV_READABLE: read_results(c); break;
    case DB_EV_WRITABLE: flush(c); break;
  }
}

/* Moves queued ops onto ready connections with room, least loaded first. */
static void dispatch(db_pool_t *p) {
  if (p->closing) return;
  while (p->qhead) {
    pconn_t *best = NULL;
    for (int i = 0; i < p->nconns; i++) {
      pconn_t *c = &p->conns[i];
      if (conn_usable(c) && c->inflight < PIPELINE_DEPTH && (!best || c->inflight < best->inflight)) best = c;
    }
    if (!best) break;
    db_op_t *op = p->qhead;
    queue_remove(p, op);
    if (send_op(best, op) != 0) {
      op->state = OP_QUEUED; /* not sent: it may go elsewhere */
      op->next = p->qhead;
      if (p->qhead) p->qhead->prev = op;
      else p->qtail = op;
      p->qhead = op;
      p->nqueued++;
      fail_conn(best, PQerrorMessage(best->link.pg));
      return; /* fail_conn dispatched again */
    }
    flush(best);
  }
  /* Nothing can serve soon: every connection is backing off after a failure. */
  int hope = 0;
  for (int i = 0; i < p->nconns; i++)
    if (p->conns[i].link.state != DB_LINK_BACKOFF) hope = 1;
  if (!hope) {
    while (p->qhead) {
      db_op_t *op = p->qhead;
      queue_remove(p, op);
      op_finish(op, 1, "database unavailable");
    }
  }
  arm_queue_timer(p);
}

/* ------------------------------------------------------------------ pool */

db_pool_t *db_pool_new(uv_loop_t *loop, const config_t *cfg, char *err, size_t errlen) {
  db_params_t *params = db_params_new(cfg->database_url, cfg->db_connect_timeout_ms, err, errlen);
  if (!params) return NULL;
  if (cfg->smtp_url) db_params_set_guc(params, "slotd.mail", "on"); /* the bookings_mail trigger queues mail */
  db_pool_t *p = xcalloc(1, sizeof *p);
  p->loop = loop;
  p->cfg = cfg;
  p->params = params;
  p->nconns = cfg->db_pool;
  p->conns = xcalloc((size_t)p->nconns, sizeof *p->conns);
  uv_timer_init(loop, &p->queue_timer);
  p->queue_timer.data = p;
  for (int i = 0; i < p->nconns; i++) {
    pconn_t *c = &p->conns[i];
    c->pool = p;
    snprintf(c->name, sizeof c->name, "pool[%d]", i);
    db_link_init(&c->link, loop, params, c->name, on_link, c);
    uv_timer_init(loop, &c->qtimer);
    c->qtimer.data = c;
  }
  return p;
}

void db_pool_prepare(db_pool_t *p, const char *name, const char *sql) {
  assert(!p->started && p->nstmts < MAX_STATEMENTS);
  p->stmts[p->nstmts].name = name;
  p->stmts[p->nstmts].sql = sql;
  p->nstmts++;
}

void db_pool_start(db_pool_t *p) {
  p->started = 1;
  for (int i = 0; i < p->nconns; i++) db_link_connect(&p->conns[i].link);
}

db_op_t *db_query(db_pool_t *p, const char *stmt, int nparams, const char *const *values, db_cb cb, void *data) {
  db_op_t *op = op_new(p, stmt, nparams, values);
  op->cb = cb;
  op->data = data;
  op->state = OP_QUEUED;
  op->deadline = uv_now(p->loop) + p->cfg->db_queue_timeout_ms;
  op->prev = p->qtail;
  if (p->qtail) p->qtail->next = op;
  else p->qhead = op;
  p->qtail = op;
  p->nqueued++;
  if (p->closing) {
    /* Fail asynchronously through the queue timer, never inside the caller. */
    op->deadline = 0;
    arm_queue_timer(p);
    return op;
  }
  dispatch(p);
  return op;
}

void db_cancel(db_op_t *op) {
  if (!op) return;
  op->cb = NULL;
  if (op->state == OP_QUEUED) {
    queue_remove(op->pool, op);
    arm_queue_timer(op->pool);
    free(op);
  }
}

static void pool_handle_done(db_pool_t *p) {
  if (--p->closes_pending > 0) return;
  void (*done)(void *) = p->on_closed;
  void *data = p->on_closed_data;
  db_params_free(p->params);
  free(p->conns);
  free(p);
  if (done) done(data);
}

static void on_handle_closed(uv_handle_t *h) { pool_handle_done(h->data); }

static void on_link_closed(uv_handle_t *h) {
  db_link_t *l = h->data; /* the link's timer */
  pconn_t *c = l->data;
  pool_handle_done(c->pool);
}

void db_pool_close(db_pool_t *p, void (*done)(void *), void *data) {
  p->closing = 1;
  p->on_closed = done;
  p->on_closed_data = data;
  while (p->qhead) {
    db_op_t *op = p->qhead;
    queue_remove(p, op);
    op_finish(op, 1, "shutting down");
  }
  p->closes_pending = 1 + 2 * p->nconns;
  for (int i = 0; i < p->nconns; i++) {
    pconn_t *c = &p->conns[i];
    fail_inflight(c);
    c->qtimer.data = p;
    uv_close((uv_handle_t *)&c->qtimer, on_handle_closed);
    db_link_close(&c->link, on_link_closed);
  }
  uv_close((uv_handle_t *)&p->queue_timer, on_handle_closed);
}

void db_pool_stats(const db_pool_t *p, db_pool_stats_t *out) {
  memset(out, 0, sizeof *out);
  out->size = p->nconns;
  for (int i = 0; i < p->nconns; i++) {
    if (conn_usable(&p->conns[i])) out->ready++;
    if (p->conns[i].inflight > 0) out->in_use++;
  }
  out->waiting = p->nqueued;
  out->errors_total = p->errors;
}

void db_pool_metrics(buf_t *out, void *pool) {
  db_pool_stats_t s;
  db_pool_stats(pool, &s);
  buf_printf(out,
             "# TYPE slotd_db_pool_size gauge\nslotd_db_pool_size %d\n"
             "# TYPE slotd_db_pool_ready gauge\nslotd_db_pool_ready %d\n"
             "# TYPE slotd_db_pool_in_use gauge\nslotd_db_pool_in_use %d\n"
             "# TYPE slotd_db_pool_waiting gauge\nslotd_db_pool_waiting %d\n"
             "# HELP slotd_db_errors_total Lost connections, failed connects, timeouts and SQL errors.\n"
             "# TYPE slotd_db_errors_total counter\nslotd_db_errors_total %llu\n",
             s.size, s.ready, s.in_use, s.waiting, (unsigned long long)s.errors_total);
}
