/* vendor_webhooks.c — webhooks in the vendors' own shapes (issues 17 and 18).
 *
 * No routes: neither vendor publishes a webhook-management API. SchedKit configures webhooks in
 * its dashboard ("Kit Config → Webhooks"; its /v1 route list has no webhook endpoint) and
 * Kordless only in its UI ("Calendar → Settings → Webhooks"; "there is no webhook-management
 * API"). Their subscriptions are native ones made with "format": "schedkit" | "kordless"
 * (POST/PUT /api/webhooks and /api/orgs/:id/webhooks, src/api/webhooks.c), through the
 * statements registered here; Calendesk's are made by its dialect (/api/admin/webhooks). The
 * bodies are written in SQL (0026_vendor_webhooks.sql) and signed by the channel
 * (src/jobs/webhooks.c). */
#include "../../app.h"
#include "../query.h"

static const api_stmt_t statements[] = {
    {"vendor_webhook_create", "SELECT api.vendor_webhook_create($1, $2, $3, $4, $5)", 1},
    {"org_vendor_webhook_create", "SELECT api.org_vendor_webhook_create($1, $2, $3, $4, $5, $6, $7)", 1},
    {"vendor_webhook_update", "SELECT api.vendor_webhook_update($1, $2, $3)", 1},
    {"org_vendor_webhook_update", "SELECT api.org_vendor_webhook_update($1, $2, $3, $4, $5)", 1},
    {NULL, NULL, 0},
};

static void register_statements(void) { api_register_statements(statements); }

const app_module_t api_vendor_webhooks_module = {"vendor-webhooks", NULL, 0, register_statements};
