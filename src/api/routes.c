/* routes.c — the API's route table and prepared statements, in one place. */
#include <llhttp.h>

#include "app.h"
#include "ops.h"

const http_route_t api_routes[] = {
    {M(HTTP_GET), "/healthz", ops_healthz, ROUTE_PUBLIC},
    {M(HTTP_GET), "/readyz", ops_readyz, ROUTE_PUBLIC},
    {M(HTTP_GET), "/metrics", ops_metrics, 0},
};
const int api_nroutes = (int)(sizeof api_routes / sizeof api_routes[0]);

void api_prepare_statements(db_pool_t *db) { db_pool_prepare(db, "ping", "SELECT api.ping()"); }
