/* app.h — the process-wide services a handler reaches through req->app. */
#ifndef SLOTD_API_APP_H
#define SLOTD_API_APP_H

#include <uv.h>

#include "../core/config.h"
#include "../db/listen.h"
#include "../db/pool.h"
#include "../http/server.h"

typedef struct {
  uv_loop_t *loop;
  const config_t *cfg;
  http_server_t *http;
  db_pool_t *db;
  db_listen_t *listen;
  int draining; /* SIGTERM received: /readyz answers 503 */
  struct api_state_s *api_state; /* authn.c: rate limiter and credential cache */
  struct jobs_sweep_s *sweep;    /* jobs/sweep.c */
  struct avail_state_s *avail_state; /* availability.c: result cache */
  struct jobs_webhooks_s *webhooks;  /* jobs/webhooks.c: the dispatcher */
  /* Called when a write of this instance changed a host (availability.c drops its cache). */
  void (*host_changed)(void *app, long long host_id);
} app_t;

/* The route table of the whole API and the statements it prepares on every connection. */
extern const http_route_t api_routes[];
extern const int api_nroutes;
void api_prepare_statements(db_pool_t *db);

#endif
