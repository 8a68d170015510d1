#include "sweep.h"

#include <stdlib.h>

#include "../core/log.h"
#include "../core/util.h"

#define SWEEP_FIRST_MS 5000
#define SWEEP_EVERY_MS 60000

static const char *const statements[] = {"sweep_sessions", "sweep_reservations", "sweep_idempotency"};

typedef struct jobs_sweep_s {
  uv_timer_t timer;
  app_t *app;
  int inflight;
} sweep_t;

static void on_swept(void *data, const db_result_t *r) {
  sweep_t *s = data;
  s->inflight--;
  if (!r->ok && !r->unavailable) log_kv(LOG_WARN, "sweep failed", "error", r->message ? r->message : "", NULL);
}

static void on_timer(uv_timer_t *t) {
  sweep_t *s = t->data;
  for (size_t i = 0; i < ARRAY_SIZE(statements); i++) {
    s->inflight++;
    db_query(s->app->db, statements[i], 0, NULL, on_swept, s);
  }
}

void jobs_sweep_prepare(db_pool_t *db) {
  db_pool_prepare(db, "sweep_sessions", "SELECT api.sweep_sessions()");
  db_pool_prepare(db, "sweep_reservations", "SELECT api.sweep_reservations()");
  db_pool_prepare(db, "sweep_idempotency", "SELECT api.sweep_idempotency()");
}

void jobs_sweep_start(app_t *app) {
  sweep_t *s = xcalloc(1, sizeof *s);
  s->app = app;
  uv_timer_init(app->loop, &s->timer);
  s->timer.data = s;
  uv_timer_start(&s->timer, on_timer, SWEEP_FIRST_MS, SWEEP_EVERY_MS);
  app->sweep = s;
}

static void on_closed(uv_handle_t *h) { free(h->data); }

void jobs_sweep_stop(app_t *app) {
  sweep_t *s = app->sweep;
  if (!s) return;
  app->sweep = NULL;
  /* Sweeps still queued or in flight are failed synchronously by db_pool_close, which main
   * calls right after this; the struct is freed only in the close callback, a loop iteration
   * later, so those callbacks still find it. */
  uv_close((uv_handle_t *)&s->timer, on_closed);
}
