#include "outbox.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/metrics.h"

#define SLOW_POLL_MS 30000

struct outbox_s {
  app_t *app;
  const outbox_channel_t *ch;
  uv_timer_t timer;
  uint64_t wake_at; /* loop ms the timer is set for */
  int inflight, claiming, stopping;
  uint64_t delivered, failed_attempts;
};

static void poll_due(outbox_t *o);

static void on_timer(uv_timer_t *t) {
  outbox_t *o = t->data;
  o->wake_at = 0;
  poll_due(o);
}

/* Wakes no later than delay_ms from now (keeps an earlier wake-up). */
static void arm(outbox_t *o, uint64_t delay_ms) {
  if (o->stopping) return;
  uint64_t at = uv_now(o->app->loop) + delay_ms;
  if (o->wake_at && o->wake_at <= at) return;
  o->wake_at = at;
  uv_timer_start(&o->timer, on_timer, delay_ms, 0);
}

void outbox_schedule(const int *delays, int n, char *out, size_t len) {
  size_t o = (size_t)snprintf(out, len, "{");
  for (int i = 0; i < n && o < len; i++) o += (size_t)snprintf(out + o, len - o, "%s%d", i ? "," : "", delays[i]);
  if (o < len) snprintf(out + o, len - o, "}");
}

outbox_job_t *outbox_job_new(outbox_t *o, const PGresult *res, int row) {
  outbox_job_t *j = xcalloc(1, sizeof *j);
  j->o = o;
  snprintf(j->id, sizeof j->id, "%s", PQgetvalue(res, row, 0));
  snprintf(j->attempt, sizeof j->attempt, "%s", PQgetvalue(res, row, o->ch->attempt_col));
  return j;
}

static void job_end(outbox_job_t *j) {
  j->o->inflight--;
  free(j);
}

static void on_recorded(void *data, const db_result_t *r) {
  outbox_job_t *j = data;
  outbox_t *o = j->o;
  if (r->ok && PQntuples(r->res) == 1 && !PQgetisnull(r->res, 0, 0)) {
    double next = strtod(PQgetvalue(r->res, 0, 0), NULL);
    arm(o, (uint64_t)(next * 1000) + 5); /* the retry, from what was persisted */
  }
  job_end(j);
  poll_due(o);
}

void outbox_record(outbox_job_t *j, int ok, int n, const char *const *params) {
  outbox_t *o = j->o;
  if (ok) o->delivered++;
  else o->failed_attempts++;
  db_query(o->app->db, o->ch->result, n, params, on_recorded, j);
}

void outbox_abandon(outbox_job_t *j) { job_end(j); }

static void on_next_due(void *data, const db_result_t *r) {
  outbox_t *o = data;
  if (r->ok && PQntuples(r->res) == 1 && !PQgetisnull(r->res, 0, 0)) {
    double s = strtod(PQgetvalue(r->res, 0, 0), NULL);
    uint64_t ms = (uint64_t)(s * 1000) + 5;
    arm(o, ms < SLOW_POLL_MS ? ms : SLOW_POLL_MS);
  } else {
    arm(o, SLOW_POLL_MS);
  }
}

static void on_claimed(void *data, const db_result_t *r) {
  outbox_t *o = data;
  o->claiming = 0;
  if (o->stopping) return;
  if (!r->ok) {
    arm(o, r->unavailable ? 1000 : SLOW_POLL_MS);
    return;
  }
  int n = PQntuples(r->res);
  for (int i = 0; i < n; i++) {
    o->inflight++;
    o->ch->deliver(outbox_job_new(o, r->res, i), r->res, i, o->ch->ctx);
  }
  if (o->inflight < o->ch->concurrency && n > 0) {
    poll_due(o); /* there may be more due than the batch took */
    return;
  }
  if (n == 0) db_query(o->app->db, o->ch->next_due, 0, NULL, on_next_due, o);
}

static void poll_due(outbox_t *o) {
  if (o->stopping || o->claiming) return;
  int room = o->ch->concurrency - o->inflight;
  if (room <= 0) return; /* a completion polls again */
  o->claiming = 1;
  char limit[16], lease[16];
  snprintf(limit, sizeof limit, "%d", room);
  snprintf(lease, sizeof lease, "%d", o->ch->lease_seconds);
  const char *params[2] = {limit, lease};
  db_query(o->app->db, o->ch->claim, 2, params, on_claimed, o);
}

static void on_notify(void *data, const char *channel, const char *payload) {
  (void)channel, (void)payload; /* new rows, or a reconnect (payload NULL): look either way */
  poll_due(data);
}

static void collect(buf_t *out, void *data) {
  outbox_t *o = data;
  const char *n = o->ch->name;
  buf_printf(out,
             "# TYPE slotd_%s_inflight gauge\nslotd_%s_inflight %d\n"
             "# TYPE slotd_%s_delivered_total counter\nslotd_%s_delivered_total %" PRIu64 "\n"
             "# TYPE slotd_%s_failed_attempts_total counter\nslotd_%s_failed_attempts_total %" PRIu64 "\n",
             n, n, o->inflight, n, n, o->delivered, n, n, o->failed_attempts);
}

void outbox_prepare(db_pool_t *db, const outbox_channel_t *ch) {
  db_pool_prepare(db, ch->claim, ch->claim_sql);
  db_pool_prepare(db, ch->result, ch->result_sql);
  db_pool_prepare(db, ch->next_due, ch->next_due_sql);
}

outbox_t *outbox_start(app_t *app, const outbox_channel_t *ch) {
  outbox_t *o = xcalloc(1, sizeof *o);
  o->app = app;
  o->ch = ch;
  if (db_listen_subscribe(app->listen, ch->notify, on_notify, o) != 0) {
    free(o);
    return NULL;
  }
  uv_timer_init(app->loop, &o->timer);
  o->timer.data = o;
  metrics_add_collector(collect, o);
  arm(o, 200); /* first look once the pool has connected */
  return o;
}

void outbox_stop(outbox_t *o) {
  if (!o || o->stopping) return;
  o->stopping = 1;
  uv_close((uv_handle_t *)&o->timer, NULL);
}

int outbox_stopping(const outbox_t *o) { return o->stopping; }

void outbox_free(outbox_t *o) { free(o); }
