#include "rlsync.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <time.h>

#include "../api/ratelimit.h"
#include "../core/buf.h"
#include "../core/crypto.h"
#include "../core/log.h"
#include "../core/metrics.h"
#include "../core/util.h"

typedef struct jobs_rlsync_s {
  uv_timer_t timer;
  app_t *app;
  char instance[33]; /* random per process: a restarted instance is a new one */
  char since[32];    /* the database's clock at the last sync (what changed after it is read) */
  int inflight;
  int64_t window;
  uint64_t ok_total, failed_total;
  uint64_t last_ok_ms;
  int live;
} rlsync_t;

static void add_delta(const char *key, int count, void *ctx) {
  buf_t *b = ctx;
  buf_putc(b, b->len ? ',' : '{');
  buf_json_str(b, key);
  buf_printf(b, ":%d", count);
}

static void on_synced(void *data, const db_result_t *r) {
  rlsync_t *s = data;
  s->inflight = 0;
  rl_t *rl = s->app->rl;
  json_t *j = r->ok && PQntuples(r->res) == 1 ? json_loads(PQgetvalue(r->res, 0, 0), 0, NULL) : NULL;
  if (!j) {
    s->failed_total++;
    s->live = 1;
    rl_synced(rl, s->window, 0, 1);
    if (!r->unavailable && r->message) log_kv(LOG_WARN, "rate limit sync failed", "error", r->message, NULL);
    return;
  }
  const char *key;
  json_t *v;
  json_object_foreach(json_object_get(j, "others"), key, v) rl_others(rl, s->window, key, (int)json_integer_value(v));
  s->live = (int)json_integer_value(json_object_get(j, "live"));
  rl_synced(rl, s->window, 1, s->live);
  snprintf(s->since, sizeof s->since, "%.6f", json_number_value(json_object_get(j, "now")));
  s->ok_total++;
  s->last_ok_ms = uv_now(s->app->loop);
  json_decref(j);
}

static void on_timer(uv_timer_t *t) {
  rlsync_t *s = t->data;
  if (s->inflight) return; /* the last one is still out: its answer comes first */
  buf_t deltas = {0};
  s->window = rl_collect(s->app->rl, (int64_t)time(NULL), add_delta, &deltas);
  if (!deltas.len) buf_putc(&deltas, '{');
  buf_putc(&deltas, '}');
  char window[24];
  snprintf(window, sizeof window, "%" PRId64, s->window);
  const char *params[4] = {s->instance, window, deltas.data, s->since};
  s->inflight = 1;
  db_query(s->app->db, "rate_limit_sync", 4, params, on_synced, s);
  buf_free(&deltas);
}

static void collect(buf_t *out, void *data) {
  rlsync_t *s = data;
  buf_printf(out,
             "# TYPE slotd_rate_limit_syncs_total counter\n"
             "slotd_rate_limit_syncs_total{result=\"ok\"} %" PRIu64 "\n"
             "slotd_rate_limit_syncs_total{result=\"failed\"} %" PRIu64 "\n"
             "# TYPE slotd_rate_limit_instances gauge\nslotd_rate_limit_instances %d\n",
             s->ok_total, s->failed_total, s->live);
}

void jobs_rlsync_prepare(db_pool_t *db) {
  db_pool_prepare(db, "rate_limit_sync", "SELECT api.rate_limit_sync($1, $2, $3, $4)");
}

void jobs_rlsync_start(app_t *app) {
  if (!app->cfg->rate_limit_sync_ms) return;
  rlsync_t *s = xcalloc(1, sizeof *s);
  s->app = app;
  s->live = 1;
  crypto_token_hex(16, s->instance);
  snprintf(s->since, sizeof s->since, "0");
  uv_timer_init(app->loop, &s->timer);
  s->timer.data = s;
  uv_timer_start(&s->timer, on_timer, app->cfg->rate_limit_sync_ms, app->cfg->rate_limit_sync_ms);
  metrics_add_collector(collect, s);
  app->rlsync = s;
}

static void on_closed(uv_handle_t *h) { free(h->data); }

void jobs_rlsync_stop(app_t *app) {
  rlsync_t *s = app->rlsync;
  if (!s) return;
  app->rlsync = NULL;
  /* a sync in flight is failed by db_pool_close right after this; the struct is freed a loop
   * iteration later, so its callback still finds it (as jobs/sweep.c) */
  uv_close((uv_handle_t *)&s->timer, on_closed);
}
