/* customers.h — customers (issue 13): the people who book an owner (a user, or an org), with
 * tags and groups, their booking history, an export of everything held about them, and erasure.
 * customer_routes.c holds the route table (api_customers_module) and the statements; the rules
 * are the api.customer* functions of sql/migrations/0014_customers_api.sql.
 *
 * Every handler serves both scopes: under /api/orgs/:id/ the org's (reads: any member; writes:
 * owners, admins and the org's keys, decided by api.org_require in the statement), else the
 * caller's own. Another owner's customer, tag or group answers 404 like a missing one. */
#ifndef SLOTD_API_CUSTOMERS_H
#define SLOTD_API_CUSTOMERS_H

#include "../http/server.h"

int customers_list(http_req_t *req);
int customers_create(http_req_t *req);
int customers_get(http_req_t *req);
int customers_update(http_req_t *req);
int customers_delete(http_req_t *req); /* erasure */
int customers_bookings(http_req_t *req);
int customers_export(http_req_t *req);

int customer_tags_list(http_req_t *req);
int customer_tags_create(http_req_t *req);
int customer_tags_delete(http_req_t *req);
int customer_groups_list(http_req_t *req);
int customer_groups_create(http_req_t *req);
int customer_groups_delete(http_req_t *req);

#endif
