/* ops.h — operations endpoints: liveness, readiness, Prometheus metrics (optionally on a
 * listener of their own, SLOTD_METRICS_LISTEN). */
#ifndef SLOTD_API_OPS_H
#define SLOTD_API_OPS_H

#include "../core/buf.h"
#include "../http/server.h"

int ops_healthz(http_req_t *req);
int ops_readyz(http_req_t *req);
/* Prometheus text. With SLOTD_METRICS_LISTEN set it answers only on that listener (404 on the
 * main address, which a balancer exposes). */
int ops_metrics(http_req_t *req);
/* The route table of the SLOTD_METRICS_LISTEN listener, from the main table (routes, n
 * entries): the same entries in the same order, so a route's pattern index (what the request
 * counters are labelled by) names the same pattern in both servers; only /metrics and /healthz
 * work there, every other route answers 404. Static storage: it outlives both servers. */
const http_route_t *ops_metrics_routes(const http_route_t *routes, int n);
/* Metrics collector for the HTTP server and process state (data: app_t). */
void ops_collect(buf_t *out, void *app);

#endif
