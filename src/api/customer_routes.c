/* customer_routes.c — the customers routes of the native API (issue 13) and their statements:
 * a module of its own (app.c's app_modules[]). The personal routes refuse org API keys (API_AUTH
 * alone); the org routes take them (API_AUTH | API_ORG) and check their org in the statement. */
#include <llhttp.h>

#include "../app.h"
#include "customers.h"
#include "dispatch.h"
#include "query.h"
#include "respond.h"

#define AUTH(fn) api_dispatch, 0, &(const api_handler_t){fn, API_AUTH, &api_native_dialect}
#define ORG(fn) api_dispatch, 0, &(const api_handler_t){fn, API_AUTH | API_ORG, &api_native_dialect}

/* Each route twice: /api/... for one's own, /api/orgs/:id/... for an org's. */
#define BOTH(method, path, fn) {M(method), "/api" path, AUTH(fn)}, {M(method), "/api/orgs/:id" path, ORG(fn)}

static const http_route_t routes[] = {
    BOTH(HTTP_GET, "/customers", customers_list),
    BOTH(HTTP_POST, "/customers", customers_create),
    BOTH(HTTP_GET, "/customers/:customer_id", customers_get),
    BOTH(HTTP_PUT, "/customers/:customer_id", customers_update),
    BOTH(HTTP_DELETE, "/customers/:customer_id", customers_delete),
    BOTH(HTTP_GET, "/customers/:customer_id/bookings", customers_bookings),
    BOTH(HTTP_GET, "/customers/:customer_id/export", customers_export),
    BOTH(HTTP_GET, "/customer-tags", customer_tags_list),
    BOTH(HTTP_POST, "/customer-tags", customer_tags_create),
    BOTH(HTTP_DELETE, "/customer-tags/:label_id", customer_tags_delete),
    BOTH(HTTP_GET, "/customer-groups", customer_groups_list),
    BOTH(HTTP_POST, "/customer-groups", customer_groups_create),
    BOTH(HTTP_DELETE, "/customer-groups/:label_id", customer_groups_delete),
};

/* Every statement starts with (p_org, p_user, p_key_org); p_org NULL is the personal scope. */
static const api_stmt_t statements[] = {
    {"customers_list", "SELECT body, total FROM api.customers_list($1, $2, $3, $4, $5, $6, $7, $8, $9)", 0},
    {"customer_save", "SELECT api.customer_save($1, $2, $3, $4, $5)", 1},
    {"customer_get", "SELECT api.customer_get($1, $2, $3, $4)", 0},
    {"customer_delete", "SELECT body, host_ids, stale FROM api.customer_delete($1, $2, $3, $4)", 1},
    {"customer_bookings", "SELECT body, total FROM api.customer_bookings($1, $2, $3, $4, $5, $6)", 0},
    {"customer_export", "SELECT api.customer_export($1, $2, $3, $4)", 0},
    {"customer_tags_list", "SELECT api.customer_labels_list('tag', $1, $2, $3)", 0},
    {"customer_tag_create", "SELECT api.customer_label_create('tag', $1, $2, $3, $4)", 1},
    {"customer_tag_delete", "SELECT api.customer_label_delete('tag', $1, $2, $3, $4)", 1},
    {"customer_groups_list", "SELECT api.customer_labels_list('group', $1, $2, $3)", 0},
    {"customer_group_create", "SELECT api.customer_label_create('group', $1, $2, $3, $4)", 1},
    {"customer_group_delete", "SELECT api.customer_label_delete('group', $1, $2, $3, $4)", 1},
    {NULL, NULL, 0},
};

static void register_statements(void) { api_register_statements(statements); }

const app_module_t api_customers_module = {"customers", routes, (int)(sizeof routes / sizeof routes[0]),
                                           register_statements};
