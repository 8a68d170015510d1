#include "webhooks.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/crypto.h"
#include "../core/log.h"
#include "../http/client.h"
#include "outbox.h"

#define LEASE_MARGIN 30 /* seconds a claim outlives the attempt's own timeout */

typedef struct jobs_webhooks_s {
  app_t *app;
  outbox_channel_t ch;
  outbox_t *outbox;
  tls_ctx_t *tls;
  http_client_t *client;
  char schedule[128];      /* Postgres array literal of retry delays */
} disp_t;

typedef struct {
  disp_t *d;
  char *payload;
} hook_t;

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

/* ------------------------------------------------------------------ one delivery */

static void on_delivered(void *data, const http_client_result_t *res) {
  outbox_job_t *j = data;
  hook_t *h = j->data;
  disp_t *d = h->d;
  free(h->payload);
  free(h);
  if (outbox_stopping(d->outbox)) { /* not recorded: the lease runs out and the attempt is made again */
    outbox_abandon(j);
    return;
  }
  int ok = !res->error && res->status >= 200 && res->status < 300;
  char status[16], ms[24], err[300];
  snprintf(status, sizeof status, "%d", res->status);
  snprintf(ms, sizeof ms, "%" PRIu64, res->duration_ms);
  if (res->error) snprintf(err, sizeof err, "%s", res->error);
  else if (!ok) snprintf(err, sizeof err, "HTTP %d", res->status);
  log_kv(ok ? LOG_DEBUG : LOG_INFO, "webhook attempt", "delivery", j->id, "status", status, "error",
         ok ? "" : err, NULL);
  const char *params[7] = {j->id, j->attempt, ok ? "t" : "f", res->status ? status : NULL, ok ? NULL : err, ms,
                           d->schedule};
  outbox_record(j, ok, 7, params);
}

/* Row (id, url, secret, event, payload, attempts, format, content_type) of a claim. A Cal.com
 * subscription (format 'calcom', issue 16) gets Cal.com's headers instead of slotd's: its body's
 * content type and X-Cal-Signature-256, the hex HMAC-SHA256 of the body under the secret as it
 * is -- the same digest as X-Slotd-Signature -- or "no-secret-provided" when it has none, as
 * Cal.com sends it. SchedKit's (issue 17): x-schedkit-signature, that same digest, as its docs
 * define it. Kordless's: X-Kordless-Timestamp (Unix seconds at sending), X-Kordless-Signature,
 * the hex HMAC-SHA256 under the secret as it is of "<timestamp>.<body>" (slotd's choice: the
 * signed string is not in Kordless's published docs), and X-Kordless-Webhook-Id, the body's
 * webhookId ("whk_" and the delivery's id, 0026_vendor_webhooks.sql). Calendesk's bodies are
 * signed like native deliveries. */
static void deliver(outbox_job_t *j, const PGresult *res, int row, void *ctx) {
  disp_t *d = ctx;
  hook_t *hk = xcalloc(1, sizeof *hk);
  hk->d = d;
  j->data = hk;
  const char *url = PQgetvalue(res, row, 1), *secret = PQgetvalue(res, row, 2);
  const char *event = PQgetvalue(res, row, 3);
  size_t len = (size_t)PQgetlength(res, row, 4);
  hk->payload = xstrndup(PQgetvalue(res, row, 4), len);
  const char *format = PQgetvalue(res, row, 6);
  int calcom = strcmp(format, "calcom") == 0;
  char msg_id[40], hex[65], v1[64];
  snprintf(msg_id, sizeof msg_id, "msg_%s", j->id);
  long long ts = (long long)time(NULL);
  webhook_sign(secret, msg_id, ts, hk->payload, len, hex, v1);
  char h[6][160];
  int nh = 6;
  if (strcmp(format, "schedkit") == 0) {
    snprintf(h[0], sizeof h[0], "Content-Type: application/json");
    snprintf(h[1], sizeof h[1], "x-schedkit-signature: %s", hex);
    nh = 2;
  } else if (strcmp(format, "kordless") == 0) {
    unsigned char mac[32];
    char khex[65];
    buf_t m = BUF_INIT;
    buf_printf(&m, "%lld.", ts);
    buf_append(&m, hk->payload, len);
    crypto_hmac_sha256(secret, strlen(secret), m.data, m.len, mac);
    buf_free(&m);
    hex_encode(mac, sizeof mac, khex);
    snprintf(h[0], sizeof h[0], "Content-Type: application/json");
    snprintf(h[1], sizeof h[1], "X-Kordless-Signature: %s", khex);
    snprintf(h[2], sizeof h[2], "X-Kordless-Timestamp: %lld", ts);
    snprintf(h[3], sizeof h[3], "X-Kordless-Webhook-Id: whk_%s", j->id);
    nh = 4;
  } else if (calcom) {
    const char *ct = PQgetisnull(res, row, 7) ? "application/json" : PQgetvalue(res, row, 7);
    snprintf(h[0], sizeof h[0], "Content-Type: %s", ct);
    snprintf(h[1], sizeof h[1], "X-Cal-Signature-256: %s", *secret ? hex : "no-secret-provided");
    nh = 2;
  } else {
    snprintf(h[0], sizeof h[0], "Content-Type: application/json");
    snprintf(h[1], sizeof h[1], "X-Slotd-Signature: %s", hex);
    snprintf(h[2], sizeof h[2], "X-Slotd-Event: %s", event);
    snprintf(h[3], sizeof h[3], "webhook-id: %s", msg_id);
    snprintf(h[4], sizeof h[4], "webhook-timestamp: %lld", ts);
    snprintf(h[5], sizeof h[5], "webhook-signature: %s", v1);
  }
  const char *headers[6] = {h[0], h[1], h[2], h[3], h[4], h[5]};
  const config_t *cfg = d->app->cfg;
  http_client_opts_t o = {.url = url, .headers = headers, .nheaders = nh, .body = hk->payload, .body_len = len,
                          .timeout_ms = cfg->webhook_timeout_ms, .allow_private = cfg->webhook_allow_private,
                          .max_body = 4096};
  http_client_post(d->client, &o, on_delivered, j);
}

/* ------------------------------------------------------------------ lifecycle */

static const outbox_channel_t channel = {
    .name = "webhook",
    .notify = "slotd_webhooks",
    .claim = "webhook_claim",
    .result = "webhook_result",
    .next_due = "webhook_next_due",
    .claim_sql = "SELECT id, url, secret, event, payload, attempts, format, content_type "
                 "FROM api.webhook_claim_formatted($1, $2)",
    .result_sql = "SELECT api.webhook_result($1, $2, $3, $4, $5, $6, $7)",
    .next_due_sql = "SELECT api.webhook_next_due()",
    .attempt_col = 5,
};

void jobs_webhooks_prepare(db_pool_t *db) { outbox_prepare(db, &channel); }

int jobs_webhooks_start(app_t *app, char *err, size_t errlen) {
  disp_t *d = xcalloc(1, sizeof *d);
  d->app = app;
  const config_t *cfg = app->cfg;
  d->tls = tls_ctx_new(TLS_SYSTEM_CA, cfg->webhook_ca_file, err, errlen);
  if (!d->tls && cfg->webhook_ca_file) { /* an explicitly configured CA must work */
    free(d);
    return -1;
  }
  if (!d->tls) log_kv(LOG_WARN, "webhooks: no CA bundle, https deliveries will fail", "error", err, NULL);
  char ua[48];
  snprintf(ua, sizeof ua, "slotd/%s", SLOTD_VERSION);
  d->client = http_client_new(app->loop, d->tls, ua);
  outbox_schedule(cfg->webhook_retry, cfg->webhook_nretry, d->schedule, sizeof d->schedule);
  d->ch = channel;
  d->ch.concurrency = cfg->webhook_concurrency;
  /* A claim must outlive its attempt, or a slow attempt would be made twice at once. */
  d->ch.lease_seconds = (int)(cfg->webhook_timeout_ms / 1000) + LEASE_MARGIN;
  d->ch.deliver = deliver;
  d->ch.ctx = d;
  app->webhooks = d;
  d->outbox = outbox_start(app, &d->ch);
  if (!d->outbox) {
    snprintf(err, errlen, "cannot listen on slotd_webhooks");
    return -1;
  }
  return 0;
}

void jobs_webhooks_stop(app_t *app) {
  disp_t *d = app->webhooks;
  if (!d || !d->outbox || outbox_stopping(d->outbox)) return;
  outbox_stop(d->outbox);
  http_client_close(d->client); /* callbacks fire now, with "aborted": abandoned, not recorded */
  d->client = NULL;
}

void jobs_webhooks_free(app_t *app) {
  disp_t *d = app->webhooks;
  if (!d) return;
  outbox_free(d->outbox);
  tls_ctx_free(d->tls); /* after the loop: sessions that referenced it are gone */
  free(d);
  app->webhooks = NULL;
}
