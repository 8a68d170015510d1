#include "replica.h"

#include <inttypes.h>
#include <stdlib.h>

#include "../core/log.h"
#include "../core/util.h"

#define CHECK_MS 1000
#define STALE_MS 3000   /* no good check for this long: unusable */
#define MARGIN_MS 1000

struct db_replica_s {
  uv_loop_t *loop;
  config_t cfg; /* a copy naming the replica as its database (pool settings shared) */
  db_pool_t *pool, *primary;
  uv_timer_t timer;
  uint64_t max_lag_ms;
  int usable, checking, beating;
  double lag_s;               /* the last measured lag (-1: none yet) */
  uint64_t last_ok_ms;        /* loop time of the last good check */
  uint64_t reads_replica, reads_primary, failures;
};

db_replica_t *db_replica_new(uv_loop_t *loop, const config_t *cfg, char *err, size_t errlen) {
  db_replica_t *r = xcalloc(1, sizeof *r);
  r->loop = loop;
  r->cfg = *cfg;
  r->cfg.database_url = cfg->replica_url;
  r->cfg.smtp_url = NULL; /* nothing is written there */
  r->max_lag_ms = cfg->replica_max_lag_ms;
  r->lag_s = -1;
  r->pool = db_pool_new(loop, &r->cfg, err, errlen);
  if (!r->pool) {
    free(r);
    return NULL;
  }
  db_pool_prepare(r->pool, "replica_lag",
                  "SELECT extract(epoch FROM clock_timestamp() - at)::float8 FROM replica_heartbeat WHERE id = 1");
  return r;
}

db_pool_t *db_replica_pool(db_replica_t *r) { return r->pool; }

void db_replica_prepare_primary(db_pool_t *primary) {
  db_pool_prepare(primary, "replica_heartbeat", "UPDATE replica_heartbeat SET at = clock_timestamp() WHERE id = 1");
}

static void set_usable(db_replica_t *r, int usable, const char *why) {
  if (usable == r->usable) return;
  r->usable = usable;
  if (usable) log_kv(LOG_INFO, "replica in use for availability reads", NULL);
  else log_kv(LOG_WARN, "replica not used: reads go to the primary", "why", why, NULL);
}

static void on_lag(void *data, const db_result_t *res) {
  db_replica_t *r = data;
  r->checking = 0;
  if (!res->ok || PQntuples(res->res) != 1 || PQgetisnull(res->res, 0, 0)) {
    r->lag_s = -1;
    set_usable(r, 0, res->ok ? "no heartbeat on the replica yet" : "unreachable");
    return;
  }
  r->lag_s = strtod(PQgetvalue(res->res, 0, 0), NULL);
  r->last_ok_ms = uv_now(r->loop);
  set_usable(r, r->lag_s * 1000.0 <= (double)r->max_lag_ms, "lag beyond SLOTD_REPLICA_MAX_LAG");
}

static void on_beat(void *data, const db_result_t *res) {
  db_replica_t *r = data;
  r->beating = 0;
  (void)res; /* the primary down: the replica's heartbeat ages, which the check sees */
}

static void on_timer(uv_timer_t *t) {
  db_replica_t *r = t->data;
  if (r->usable && uv_now(r->loop) > r->last_ok_ms + STALE_MS) set_usable(r, 0, "no answer from the replica");
  if (!r->beating) {
    r->beating = 1;
    db_query(r->primary, "replica_heartbeat", 0, NULL, on_beat, r);
  }
  if (!r->checking) {
    r->checking = 1;
    db_query(r->pool, "replica_lag", 0, NULL, on_lag, r);
  }
}

void db_replica_start(db_replica_t *r, db_pool_t *primary) {
  r->primary = primary;
  db_pool_start(r->pool);
  uv_timer_init(r->loop, &r->timer);
  r->timer.data = r;
  uv_timer_start(&r->timer, on_timer, 100, CHECK_MS);
}

typedef struct {
  db_replica_t *r;
  void (*done)(void *);
  void *data;
} closing_t;

static void on_pool_closed(void *data) {
  closing_t *c = data;
  void (*done)(void *) = c->done;
  void *d = c->data;
  free(c->r);
  free(c);
  if (done) done(d);
}

static void on_timer_closed(uv_handle_t *h) {
  closing_t *c = h->data;
  db_pool_close(c->r->pool, on_pool_closed, c);
}

void db_replica_close(db_replica_t *r, void (*done)(void *), void *data) {
  closing_t *c = xcalloc(1, sizeof *c);
  c->r = r;
  c->done = done;
  c->data = data;
  r->timer.data = c;
  uv_close((uv_handle_t *)&r->timer, on_timer_closed);
}

int db_replica_usable(const db_replica_t *r) { return r->usable; }

uint64_t db_replica_window_ms(const db_replica_t *r) { return r->max_lag_ms + CHECK_MS + MARGIN_MS; }

void db_replica_count(db_replica_t *r, int on_replica) {
  if (on_replica) r->reads_replica++;
  else r->reads_primary++;
}

void db_replica_failed(db_replica_t *r) {
  r->failures++;
  set_usable(r, 0, "a read failed on it");
}

void db_replica_metrics(buf_t *out, void *data) {
  db_replica_t *r = data;
  db_pool_stats_t s;
  db_pool_stats(r->pool, &s);
  buf_printf(out,
             "# TYPE slotd_replica_usable gauge\nslotd_replica_usable %d\n"
             "# TYPE slotd_replica_lag_seconds gauge\nslotd_replica_lag_seconds %.3f\n"
             "# TYPE slotd_replica_reads_total counter\n"
             "slotd_replica_reads_total{target=\"replica\"} %" PRIu64 "\n"
             "slotd_replica_reads_total{target=\"primary\"} %" PRIu64 "\n"
             "# TYPE slotd_replica_read_failures_total counter\nslotd_replica_read_failures_total %" PRIu64 "\n"
             "# TYPE slotd_replica_pool_ready gauge\nslotd_replica_pool_ready %d\n",
             r->usable, r->lag_s, r->reads_replica, r->reads_primary, r->failures, s.ready);
}
