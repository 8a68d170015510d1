#include "payments.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../core/metrics.h"

#define BATCH "100"       /* bookings expired per pass (each its own statement) */
#define BATCH_N 100
#define SLOW_POLL_MS 30000

typedef struct jobs_payments_s {
  app_t *app;
  uv_timer_t timer;
  uint64_t wake_at; /* loop ms the timer is set for, 0: not armed */
  int polling;      /* a pass is under way (its due query or its expiries) */
  int again;        /* a notification came during the pass: look once more after it */
  int pending;      /* expiries of this pass not yet answered */
  int full;         /* the pass took a whole batch: there may be more due */
  int pass_failed;  /* an expiry of this pass failed: retry in a second, not at once */
  double next_due;  /* seconds, from the pass's due query; < 0: none */
  int stopping;
  uint64_t expired, failed;
} pay_t;

static void poll_due(pay_t *d);

static void on_timer(uv_timer_t *t) {
  pay_t *d = t->data;
  d->wake_at = 0;
  poll_due(d);
}

/* Wakes no later than delay_ms from now (keeps an earlier wake-up). */
static void arm(pay_t *d, uint64_t delay_ms) {
  if (d->stopping) return;
  uint64_t at = uv_now(d->app->loop) + delay_ms;
  if (d->wake_at && d->wake_at <= at) return;
  d->wake_at = at;
  uv_timer_start(&d->timer, on_timer, delay_ms, 0);
}

static void pass_done(pay_t *d, uint64_t retry_ms) {
  d->polling = 0;
  if (d->stopping) return;
  if (!retry_ms && (d->again || d->full)) {
    d->again = 0;
    poll_due(d);
    return;
  }
  uint64_t ms = SLOW_POLL_MS;
  if (retry_ms) ms = retry_ms;
  else if (d->next_due >= 0 && d->next_due * 1000 < SLOW_POLL_MS) ms = (uint64_t)(d->next_due * 1000) + 5;
  arm(d, ms);
}

static void on_expired(void *data, const db_result_t *r) {
  pay_t *d = data;
  if (r->ok && PQntuples(r->res) == 1 && strcmp(PQgetvalue(r->res, 0, 0), "t") == 0) d->expired++;
  else if (!r->ok) {
    d->failed++; /* a deadlock or an outage: the booking is still due, the next pass takes it */
    d->pass_failed = 1;
    if (!r->unavailable) log_kv(LOG_WARN, "payment expiry failed", "error", r->message ? r->message : "", NULL);
  }
  if (--d->pending == 0) pass_done(d, d->pass_failed ? 1000 : 0);
}

/* {id,...} of a bigint[] text: each id is sent as its own statement. */
static int expire_each(pay_t *d, const char *ids) {
  int n = 0;
  const char *p = ids;
  while (*p) {
    while (*p && (*p < '0' || *p > '9')) p++;
    if (!*p) break;
    char id[24];
    size_t k = 0;
    while (*p >= '0' && *p <= '9' && k < sizeof id - 1) id[k++] = *p++;
    id[k] = '\0';
    const char *params[1] = {id};
    d->pending++;
    n++;
    db_query(d->app->db, "payment_expire", 1, params, on_expired, d);
  }
  return n;
}

static void on_due(void *data, const db_result_t *r) {
  pay_t *d = data;
  if (d->stopping) {
    d->polling = 0;
    return;
  }
  if (!r->ok || PQntuples(r->res) != 1) {
    pass_done(d, r->unavailable ? 1000 : SLOW_POLL_MS);
    return;
  }
  d->next_due = PQgetisnull(r->res, 0, 1) ? -1 : strtod(PQgetvalue(r->res, 0, 1), NULL);
  if (d->next_due < 0 && !PQgetisnull(r->res, 0, 1)) d->next_due = 0; /* already due */
  int n = expire_each(d, PQgetvalue(r->res, 0, 0));
  d->full = n >= BATCH_N;
  if (n == 0) pass_done(d, 0);
}

static void poll_due(pay_t *d) {
  if (d->stopping) return;
  if (d->polling) {
    d->again = 1;
    return;
  }
  d->polling = 1;
  d->full = d->pass_failed = 0;
  const char *params[1] = {BATCH};
  db_query(d->app->db, "payments_due", 1, params, on_due, d);
}

static void on_notify(void *data, const char *channel, const char *payload) {
  (void)channel, (void)payload; /* a new window, or a reconnect (payload NULL): look either way */
  poll_due(data);
}

static void collect(buf_t *out, void *data) {
  pay_t *d = data;
  buf_printf(out,
             "# TYPE slotd_payment_windows_expired_total counter\nslotd_payment_windows_expired_total %" PRIu64 "\n"
             "# TYPE slotd_payment_expiry_failures_total counter\nslotd_payment_expiry_failures_total %" PRIu64 "\n",
             d->expired, d->failed);
}

void jobs_payments_prepare(db_pool_t *db) {
  db_pool_prepare(db, "payments_due", "SELECT ids, next_due FROM api.payments_due($1)");
  db_pool_prepare(db, "payment_expire", "SELECT api.booking_expire($1)");
}

int jobs_payments_start(app_t *app) {
  pay_t *d = xcalloc(1, sizeof *d);
  d->app = app;
  d->next_due = -1;
  uv_timer_init(app->loop, &d->timer);
  d->timer.data = d;
  app->payments = d;
  metrics_add_collector(collect, d);
  arm(d, 200); /* first look once the pool has connected */
  return db_listen_subscribe(app->listen, "slotd_payments", on_notify, d);
}

void jobs_payments_stop(app_t *app) {
  pay_t *d = app->payments;
  if (!d || d->stopping) return;
  d->stopping = 1;
  uv_close((uv_handle_t *)&d->timer, NULL);
}

void jobs_payments_free(app_t *app) {
  free(app->payments); /* after the loop: statements still queued were failed by db_pool_close */
  app->payments = NULL;
}
