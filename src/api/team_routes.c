/* team_routes.c — multi-host scheduling (issue 12): an organisation's event types, their public
 * pages and the host side of their bookings. A module of its own (app.c's app_modules[]); the
 * public availability and booking paths stay the native ones (/api/availability/:slug/...,
 * /api/book/:slug/...), which take an org slug too. */
#include <llhttp.h>

#include "../app.h"
#include "bookings.h"
#include "dispatch.h"
#include "org_event_types.h"
#include "query.h"
#include "respond.h"
#include "webhooks.h"

#define ORG(fn) api_dispatch, 0, &(const api_handler_t){fn, API_AUTH | API_ORG, &api_native_dialect}

static const http_route_t routes[] = {
    {M(HTTP_GET), "/api/orgs/:id/event-types", ORG(org_event_types_list)},
    {M(HTTP_POST), "/api/orgs/:id/event-types", ORG(org_event_types_create)},
    {M(HTTP_GET), "/api/orgs/:id/event-types/:event_type_id", ORG(org_event_types_get)},
    {M(HTTP_PUT), "/api/orgs/:id/event-types/:event_type_id", ORG(org_event_types_update)},
    {M(HTTP_DELETE), "/api/orgs/:id/event-types/:event_type_id", ORG(org_event_types_delete)},
    {M(HTTP_GET), "/api/orgs/:id/bookings", ORG(org_bookings_list)},
    {M(HTTP_POST), "/api/bookings/:id/reassign", ORG(bookings_reassign)},

    {M(HTTP_GET), "/api/orgs/:id/webhooks", ORG(org_webhooks_list)},
    {M(HTTP_POST), "/api/orgs/:id/webhooks", ORG(org_webhooks_create)},
    {M(HTTP_PUT), "/api/orgs/:id/webhooks/:webhook_id", ORG(org_webhooks_update)},
    {M(HTTP_DELETE), "/api/orgs/:id/webhooks/:webhook_id", ORG(org_webhooks_delete)},
    {M(HTTP_POST), "/api/orgs/:id/webhooks/:webhook_id/ping", ORG(org_webhooks_ping)},
    {M(HTTP_GET), "/api/orgs/:id/webhooks/:webhook_id/deliveries", ORG(org_webhooks_deliveries)},
    {M(HTTP_POST), "/api/orgs/:id/webhooks/:webhook_id/deliveries/:delivery_id/redeliver", ORG(org_webhooks_redeliver)},
};

static const api_stmt_t statements[] = {
    {"org_event_types_list", "SELECT api.org_event_types_list($1, $2, $3)", 0},
    {"org_event_type_create", "SELECT body, host_ids, stale FROM api.org_event_type_create($1, $2, $3, $4, $5)", 1},
    {"org_event_type_get", "SELECT api.org_event_type_get($1, $2, $3, $4)", 0},
    {"org_event_type_update", "SELECT body, host_ids, stale FROM api.org_event_type_update($1, $2, $3, $4, $5)", 1},
    {"org_event_type_delete", "SELECT body, host_ids, stale FROM api.org_event_type_delete($1, $2, $3, $4)", 1},
    {"org_bookings_list",
     "SELECT body, total FROM api.org_bookings_list($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", 0},
    {"booking_reassign_info", "SELECT * FROM api.booking_reassign_info($1, $2, $3)", 0},
    {"booking_reassign", "SELECT body, host_ids, stale FROM api.booking_reassign($1, $2, $3, $4, $5)", 1},
    {"org_webhooks_list", "SELECT api.org_webhooks_list($1, $2, $3)", 0},
    {"org_webhook_create", "SELECT api.org_webhook_create($1, $2, $3, $4, $5, $6)", 1},
    {"org_webhook_update", "SELECT api.org_webhook_update($1, $2, $3, $4, $5)", 1},
    {"org_webhook_delete", "SELECT api.org_webhook_delete($1, $2, $3, $4)", 1},
    {"org_webhook_ping", "SELECT api.org_webhook_ping($1, $2, $3, $4)", 1},
    {"org_deliveries_list", "SELECT body, total FROM api.org_deliveries_list($1, $2, $3, $4, $5, $6)", 0},
    {"org_delivery_redeliver", "SELECT api.org_delivery_redeliver($1, $2, $3, $4, $5)", 1},
    {"booking_create_team",
     "SELECT body, host_ids, stale FROM api.booking_create_team($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
     "$13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)",
     1},
    {NULL, NULL, 0},
};

static void register_statements(void) { api_register_statements(statements); }

const app_module_t api_team_module = {"team", routes, (int)(sizeof routes / sizeof routes[0]), register_statements};
