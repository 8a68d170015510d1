/* app.h — the composition root: the process-wide services (loop, configuration, HTTP server,
 * database pool, LISTEN connection, the API's and the jobs' state) that main.c assembles and a
 * handler reaches through req->app; and the API modules whose route tables make up the server's
 * one route table. */
#ifndef SLOTD_APP_H
#define SLOTD_APP_H

#include <uv.h>

#include "core/config.h"
#include "db/listen.h"
#include "db/pool.h"
#include "http/server.h"

typedef struct {
  uv_loop_t *loop;
  const config_t *cfg;
  http_server_t *http;
  db_pool_t *db;
  struct db_replica_s *replica;  /* db/replica.c: SLOTD_DATABASE_REPLICA_URL, or NULL */
  db_listen_t *listen;
  int draining; /* SIGTERM received: /readyz answers 503 */
  struct api_state_s *api_state; /* api/authn.c: credential cache */
  struct rl_s *rl;               /* api/ratelimit.c: per-IP and per-user limits */
  struct jobs_sweep_s *sweep;    /* jobs/sweep.c */
  struct jobs_rlsync_s *rlsync;  /* jobs/rlsync.c: rate-limit counts shared between instances */
  struct avail_state_s *avail_state; /* availability.c: result cache */
  struct jobs_webhooks_s *webhooks;  /* jobs/webhooks.c: the dispatcher */
  struct jobs_payments_s *payments;  /* jobs/payments.c: the payment-window timer */
  struct jobs_mail_s *mail;          /* jobs/mail.c: the e-mail channel (NULL: e-mail off) */
  /* Called when a write of this instance changed a host (availability.c drops its cache). */
  void (*host_changed)(void *app, long long host_id);
} app_t;

/* An API module: a route table (a native one, and one per vendor dialect under api/compat/)
 * and the registration of its statements. */
typedef struct {
  const char *name;
  const http_route_t *routes;
  int nroutes;
  void (*register_statements)(void);
  /* Optional: the path prefix a dialect owns ("/v2/") and its dialect (an api_dialect_t): a
   * request under it that matches no route is answered in that dialect's words. */
  const char *prefix;
  const void *dialect;
} app_module_t;

/* The modules, in matching order (api/modules.c). */
extern const app_module_t *const app_modules[];
/* One route table from every module's (static storage: it outlives the server), with every
 * module's statements registered. */
#define APP_MAX_ROUTES 512
const http_route_t *app_routes(int *n);

#endif
