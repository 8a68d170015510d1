/* webhooks.h — webhook subscriptions (a user's or an org's), test pings, the delivery log and
 * redelivery. Delivery itself is jobs/webhooks.c. Create and update take an optional "format":
 * "schedkit" or "kordless" shape and sign deliveries the vendor's way (0026_vendor_webhooks.sql;
 * their statements are registered by api/compat/vendor_webhooks.c); absent, the request is the
 * native one, unchanged. */
#ifndef SLOTD_API_WEBHOOKS_H
#define SLOTD_API_WEBHOOKS_H

#include "../http/server.h"
#include "validate.h"

int webhooks_list(http_req_t *req);
int webhooks_create(http_req_t *req);
int webhooks_update(http_req_t *req);
int webhooks_delete(http_req_t *req);
int webhooks_ping(http_req_t *req);
int webhooks_deliveries(http_req_t *req);
int webhooks_redeliver(http_req_t *req);

/* The same under /api/orgs/:id/webhooks[/:webhook_id...] for an org's owners, admins and keys:
 * they hear the events of the org's event types (issue 12). */
int org_webhooks_list(http_req_t *req);
int org_webhooks_create(http_req_t *req);
int org_webhooks_update(http_req_t *req);
int org_webhooks_delete(http_req_t *req);
int org_webhooks_ping(http_req_t *req);
int org_webhooks_deliveries(http_req_t *req);
int org_webhooks_redeliver(http_req_t *req);

/* A subscriber URL (field names it in the failure): absolute http(s), https unless
 * SLOTD_WEBHOOK_ALLOW_HTTP, never a private, loopback or link-local address (in any spelling a
 * resolver reads as one, or localhost) unless SLOTD_WEBHOOK_ALLOW_PRIVATE. Fails v. */
void webhooks_check_url(api_v_t *v, const char *field, const char *url);

/* The event names a subscription may ask for. */
extern const char *const webhook_events[];

#endif
