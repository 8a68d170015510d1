#include "ops.h"

#include <stdlib.h>
#include <string.h>

#include "../core/metrics.h"
#include "../app.h"
#include "query.h"

static const char HEALTHY[] = "{\"status\":\"ok\"}";
static const char READY[] = "{\"status\":\"ready\"}";

int ops_healthz(http_req_t *req) {
  http_respond_json_raw(req, 200, HEALTHY, sizeof HEALTHY - 1);
  return 0;
}

static void on_ping(void *data, const db_result_t *r) {
  http_req_t *req = data;
  app_t *app = req->app;
  if (app->draining) http_respond_error(req, 503, "SHUTTING_DOWN", "shutting down");
  else if (r->ok) http_respond_json_raw(req, 200, READY, sizeof READY - 1);
  else http_respond_error(req, 503, "SERVICE_UNAVAILABLE", "database unavailable");
}

int ops_readyz(http_req_t *req) {
  app_t *app = req->app;
  if (app->draining) {
    http_respond_error(req, 503, "SHUTTING_DOWN", "shutting down");
    return 0;
  }
  http_set_header(req, "Cache-Control", "no-store");
  db_query(app->db, "ping", 0, NULL, on_ping, req);
  return 0;
}

int ops_metrics(http_req_t *req) {
  app_t *app = req->app;
  if (app->cfg->metrics_host && req->server == app->http) { /* served on the metrics listener only */
    http_respond_error(req, 404, "NOT_FOUND", "no such resource");
    return 0;
  }
  buf_t out = BUF_INIT;
  metrics_render(&out);
  http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
  buf_free(&out);
  return 0;
}

static int not_here(http_req_t *req) {
  http_respond_error(req, 404, "NOT_FOUND", "no such resource");
  return 0;
}

const http_route_t *ops_metrics_routes(const http_route_t *routes, int n) {
  static http_route_t table[APP_MAX_ROUTES];
  if (n > APP_MAX_ROUTES) abort();
  for (int i = 0; i < n; i++) {
    table[i] = routes[i];
    if (routes[i].handler == ops_metrics || routes[i].handler == ops_healthz) continue;
    table[i].handler = not_here;
    table[i].flags = 0; /* no CORS either */
    table[i].ctx = NULL;
  }
  return table;
}

void ops_collect(buf_t *out, void *data) {
  app_t *app = data;
  buf_printf(out,
             "# TYPE slotd_http_connections_open gauge\nslotd_http_connections_open %d\n"
             "# TYPE slotd_http_connections_rejected_total counter\nslotd_http_connections_rejected_total %llu\n"
             "# TYPE slotd_draining gauge\nslotd_draining %d\n"
             "# TYPE slotd_orphaned_requests_total counter\n"
             "slotd_orphaned_requests_total{outcome=\"dropped\"} %llu\n"
             "slotd_orphaned_requests_total{outcome=\"completed\"} %llu\n",
             http_server_open_connections(app->http),
             (unsigned long long)http_server_rejected_connections(app->http), app->draining, api_orphans_dropped(),
             api_orphans_completed());
}
