/* ops.h — operations endpoints: liveness, readiness, Prometheus metrics. */
#ifndef SLOTD_API_OPS_H
#define SLOTD_API_OPS_H

#include "../core/buf.h"
#include "../http/server.h"

int ops_healthz(http_req_t *req);
int ops_readyz(http_req_t *req);
int ops_metrics(http_req_t *req);
/* Metrics collector for the HTTP server and process state (data: app_t). */
void ops_collect(buf_t *out, void *app);

#endif
