/* webhooks.h — the delivery dispatcher every instance runs.
 *
 * Due deliveries are claimed in the database (FOR UPDATE SKIP LOCKED, with a lease, the attempt
 * counted at claim), so with N instances each attempt is made once; a crashed instance's
 * claims expire and are retried (at least once overall; webhook-id lets receivers de-duplicate).
 * It wakes on NOTIFY slotd_webhooks, on a uv timer armed from the earliest persisted
 * next_attempt_at (so retries survive restarts), and every 30 s regardless. At most
 * SLOTD_WEBHOOK_CONCURRENCY deliveries are in flight; each is signed with the subscription's
 * secret (X-Slotd-Signature: hex HMAC-SHA256 of the body; Standard Webhooks' webhook-id,
 * webhook-timestamp and webhook-signature). */
#ifndef SLOTD_JOBS_WEBHOOKS_H
#define SLOTD_JOBS_WEBHOOKS_H

#include "../app.h"

/* Registers the dispatcher's statements (before the pool starts). */
void jobs_webhooks_prepare(db_pool_t *db);
int jobs_webhooks_start(app_t *app, char *err, size_t errlen) WARN_UNUSED;
/* Stops claiming and aborts what is in flight (unrecorded: the lease expires and the attempt is
 * made again). */
void jobs_webhooks_stop(app_t *app);
/* After the loop has ended. */
void jobs_webhooks_free(app_t *app);

/* The signatures of one delivery (exposed for unit tests). hex: 65 bytes; v1: 64 bytes. */
void webhook_sign(const char *secret, const char *msg_id, long long ts, const char *body, size_t len, char *hex,
                  char *v1);

#endif
