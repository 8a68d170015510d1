#include "webhooks.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/crypto.h"
#include "../core/log.h"
#include "../core/metrics.h"
#include "../http/client.h"

#define LEASE_MARGIN 30 /* seconds a claim outlives the attempt's own timeout */
#define SLOW_POLL_MS 30000
#define SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

typedef struct jobs_webhooks_s {
  app_t *app;
  uv_timer_t timer;
  uint64_t wake_at;        /* loop ms the timer is set for */
  tls_ctx_t *tls;
  http_client_t *client;
  int inflight, claiming, stopping;
  char schedule[128];      /* Postgres array literal of retry delays */
  uint64_t delivered, failed_attempts;
} disp_t;

typedef struct {
  disp_t *d;
  char id[24];
  char attempt[16]; /* which claim this is: a late result of an expired claim is ignored */
  char *payload;
} job_t;

static void poll_due(disp_t *d);

/* ------------------------------------------------------------------ signing */

void webhook_sign(const char *secret, const char *msg_id, long long ts, const char *body, size_t len, char *hex,
                  char *v1) {
  unsigned char mac[32];
  crypto_hmac_sha256(secret, strlen(secret), body, len, mac); /* the seed's scheme: the secret as is */
  hex_encode(mac, sizeof mac, hex);
  /* Standard Webhooks: key = base64-decoded part after whsec_, else the secret's raw bytes;
   * signed content = id.timestamp.body. */
  unsigned char decoded[256];
  const void *key = secret;
  size_t klen = strlen(secret);
  int n = strncmp(secret, "whsec_", 6) == 0 ? crypto_base64_decode(secret + 6, decoded, sizeof decoded) : -1;
  if (n > 0) { /* never more than sizeof decoded: the decoder refuses a longer result */
    key = decoded;
    klen = (size_t)n;
  }
  buf_t m = BUF_INIT;
  buf_printf(&m, "%s.%lld.", msg_id, ts);
  buf_append(&m, body, len);
  crypto_hmac_sha256(key, klen, m.data, m.len, mac);
  buf_free(&m);
  memcpy(v1, "v1,", 3);
  crypto_base64_encode(mac, sizeof mac, v1 + 3, 61);
}

/* ------------------------------------------------------------------ timer */

static void on_timer(uv_timer_t *t) {
  disp_t *d = t->data;
  d->wake_at = 0;
  poll_due(d);
}

/* Wakes no later than delay_ms from now (keeps an earlier wake-up). */
static void arm(disp_t *d, uint64_t delay_ms) {
  if (d->stopping) return;
  uint64_t at = uv_now(d->app->loop) + delay_ms;
  if (d->wake_at && d->wake_at <= at) return;
  d->wake_at = at;
  uv_timer_start(&d->timer, on_timer, delay_ms, 0);
}

/* ------------------------------------------------------------------ one delivery */

static void on_recorded(void *data, const db_result_t *r) {
  job_t *j = data;
  disp_t *d = j->d;
  if (r->ok && !PQgetisnull(r->res, 0, 0)) {
    double next = strtod(PQgetvalue(r->res, 0, 0), NULL);
    arm(d, (uint64_t)(next * 1000) + 5); /* the retry, from what was persisted */
  }
  d->inflight--;
  free(j->payload);
  free(j);
  poll_due(d);
}

static void on_delivered(void *data, const http_client_result_t *res) {
  job_t *j = data;
  disp_t *d = j->d;
  int ok = !res->error && res->status >= 200 && res->status < 300;
  if (d->stopping) { /* not recorded: the lease runs out and the attempt is made again */
    d->inflight--;
    free(j->payload);
    free(j);
    return;
  }
  if (ok) d->delivered++;
  else d->failed_attempts++;
  char status[16], ms[24], err[300];
  snprintf(status, sizeof status, "%d", res->status);
  snprintf(ms, sizeof ms, "%" PRIu64, res->duration_ms);
  if (res->error) snprintf(err, sizeof err, "%s", res->error);
  else if (!ok) snprintf(err, sizeof err, "HTTP %d", res->status);
  log_kv(ok ? LOG_DEBUG : LOG_INFO, "webhook attempt", "delivery", j->id, "status", status, "error",
         ok ? "" : err, NULL);
  const char *params[7] = {j->id, j->attempt, ok ? "t" : "f", res->status ? status : NULL, ok ? NULL : err, ms,
                           d->schedule};
  db_query(d->app->db, "webhook_result", 7, params, on_recorded, j);
}

static void deliver(disp_t *d, PGresult *res, int row) {
  job_t *j = xcalloc(1, sizeof *j);
  j->d = d;
  snprintf(j->id, sizeof j->id, "%s", PQgetvalue(res, row, 0));
  snprintf(j->attempt, sizeof j->attempt, "%s", PQgetvalue(res, row, 5));
  const char *url = PQgetvalue(res, row, 1), *secret = PQgetvalue(res, row, 2);
  const char *event = PQgetvalue(res, row, 3);
  size_t len = (size_t)PQgetlength(res, row, 4);
  j->payload = xstrndup(PQgetvalue(res, row, 4), len);
  char msg_id[40], hex[65], v1[64];
  snprintf(msg_id, sizeof msg_id, "msg_%s", j->id);
  long long ts = (long long)time(NULL);
  webhook_sign(secret, msg_id, ts, j->payload, len, hex, v1);
  char h[6][160];
  snprintf(h[0], sizeof h[0], "Content-Type: application/json");
  snprintf(h[1], sizeof h[1], "X-Slotd-Signature: %s", hex);
  snprintf(h[2], sizeof h[2], "X-Slotd-Event: %s", event);
  snprintf(h[3], sizeof h[3], "webhook-id: %s", msg_id);
  snprintf(h[4], sizeof h[4], "webhook-timestamp: %lld", ts);
  snprintf(h[5], sizeof h[5], "webhook-signature: %s", v1);
  const char *headers[6] = {h[0], h[1], h[2], h[3], h[4], h[5]};
  const config_t *cfg = d->app->cfg;
  http_client_opts_t o = {.url = url, .headers = headers, .nheaders = 6, .body = j->payload, .body_len = len,
                          .timeout_ms = cfg->webhook_timeout_ms, .allow_private = cfg->webhook_allow_private,
                          .max_body = 4096};
  d->inflight++;
  http_client_post(d->client, &o, on_delivered, j);
}

/* ------------------------------------------------------------------ claiming */

static void on_next_due(void *data, const db_result_t *r) {
  disp_t *d = data;
  if (r->ok && PQntuples(r->res) == 1 && !PQgetisnull(r->res, 0, 0)) {
    double s = strtod(PQgetvalue(r->res, 0, 0), NULL);
    uint64_t ms = (uint64_t)(s * 1000) + 5;
    arm(d, ms < SLOW_POLL_MS ? ms : SLOW_POLL_MS);
  } else {
    arm(d, SLOW_POLL_MS);
  }
}

static void on_claimed(void *data, const db_result_t *r) {
  disp_t *d = data;
  d->claiming = 0;
  if (d->stopping) return;
  if (!r->ok) {
    arm(d, r->unavailable ? 1000 : SLOW_POLL_MS);
    return;
  }
  int n = PQntuples(r->res);
  for (int i = 0; i < n; i++) deliver(d, r->res, i);
  if (d->inflight < d->app->cfg->webhook_concurrency && n > 0) {
    poll_due(d); /* there may be more due than the batch took */
    return;
  }
  if (n == 0) db_query(d->app->db, "webhook_next_due", 0, NULL, on_next_due, d);
}

static void poll_due(disp_t *d) {
  if (d->stopping || d->claiming) return;
  int room = d->app->cfg->webhook_concurrency - d->inflight;
  if (room <= 0) return; /* a completion polls again */
  d->claiming = 1;
  char limit[16], lease[16];
  snprintf(limit, sizeof limit, "%d", room);
  /* A claim must outlive its attempt, or a slow attempt would be made twice at once. */
  snprintf(lease, sizeof lease, "%d", (int)(d->app->cfg->webhook_timeout_ms / 1000) + LEASE_MARGIN);
  const char *params[2] = {limit, lease};
  db_query(d->app->db, "webhook_claim", 2, params, on_claimed, d);
}

static void on_notify(void *data, const char *channel, const char *payload) {
  (void)channel, (void)payload; /* new deliveries, or a reconnect (payload NULL): look either way */
  poll_due(data);
}

static void collect(buf_t *out, void *data) {
  disp_t *d = data;
  buf_printf(out,
             "# TYPE slotd_webhook_inflight gauge\nslotd_webhook_inflight %d\n"
             "# TYPE slotd_webhook_delivered_total counter\nslotd_webhook_delivered_total %" PRIu64 "\n"
             "# TYPE slotd_webhook_failed_attempts_total counter\nslotd_webhook_failed_attempts_total %" PRIu64 "\n",
             d->inflight, d->delivered, d->failed_attempts);
}

/* ------------------------------------------------------------------ lifecycle */

void jobs_webhooks_prepare(db_pool_t *db) {
  db_pool_prepare(db, "webhook_claim", "SELECT id, url, secret, event, payload, attempts FROM api.webhook_claim($1, $2)");
  db_pool_prepare(db, "webhook_result", "SELECT api.webhook_result($1, $2, $3, $4, $5, $6, $7)");
  db_pool_prepare(db, "webhook_next_due", "SELECT api.webhook_next_due()");
}

int jobs_webhooks_start(app_t *app, char *err, size_t errlen) {
  disp_t *d = xcalloc(1, sizeof *d);
  d->app = app;
  const config_t *cfg = app->cfg;
  d->tls = tls_ctx_new(SYSTEM_CA, cfg->webhook_ca_file, err, errlen);
  if (!d->tls && cfg->webhook_ca_file) { /* an explicitly configured CA must work */
    free(d);
    return -1;
  }
  if (!d->tls) log_kv(LOG_WARN, "webhooks: no CA bundle, https deliveries will fail", "error", err, NULL);
  char ua[48];
  snprintf(ua, sizeof ua, "slotd/%s", SLOTD_VERSION);
  d->client = http_client_new(app->loop, d->tls, ua);
  size_t o = 0;
  o += (size_t)snprintf(d->schedule + o, sizeof d->schedule - o, "{");
  for (int i = 0; i < cfg->webhook_nretry; i++)
    o += (size_t)snprintf(d->schedule + o, sizeof d->schedule - o, "%s%d", i ? "," : "", cfg->webhook_retry[i]);
  snprintf(d->schedule + o, sizeof d->schedule - o, "}");
  uv_timer_init(app->loop, &d->timer);
  d->timer.data = d;
  app->webhooks = d;
  metrics_add_collector(collect, d);
  arm(d, 200); /* first look once the pool has connected */
  return db_listen_subscribe(app->listen, "slotd_webhooks", on_notify, d);
}

void jobs_webhooks_stop(app_t *app) {
  disp_t *d = app->webhooks;
  if (!d || d->stopping) return;
  d->stopping = 1;
  uv_close((uv_handle_t *)&d->timer, NULL);
  http_client_close(d->client); /* callbacks fire now, with "aborted" */
  d->client = NULL;
}

void jobs_webhooks_free(app_t *app) {
  disp_t *d = app->webhooks;
  if (!d) return;
  tls_ctx_free(d->tls); /* after the loop: sessions that referenced it are gone */
  free(d);
  app->webhooks = NULL;
}
