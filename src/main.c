/* slotd — scheduling API server. main parses the command line and environment, migrates,
 * starts the database pool, the LISTEN connection and the HTTP server on one libuv loop, and
 * stops them in order on SIGTERM/SIGINT: stop accepting and report not-ready, let in-flight
 * requests finish (bounded by SLOTD_SHUTDOWN_TIMEOUT), then close the database side. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <llhttp.h>
#include <uv.h>

#include "app.h"
#include "api/authn.h"
#include "api/dispatch.h"
#include "api/inputs.h"
#include "api/query.h"
#include "api/respond.h"
#include "api/availability.h"
#include "sched/tzif.h"
#include "core/crypto.h"
#include "api/ops.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "db/listen.h"
#include "db/migrate.h"
#include "db/replica.h"
#include "db/pool.h"
#include "jobs/mail.h"
#include "jobs/payments.h"
#include "jobs/rlsync.h"
#include "jobs/sweep.h"
#include "jobs/webhooks.h"
#include "http/client.h"
#include "http/server.h"
#include "mail/smtp.h"

#define MIGRATE_WAIT_MS 30000

static const char usage[] =
    "usage: slotd [serve | migrate | routes | send-test-mail <to> [-] | --help | --version]\n"
    "\n"
    "  serve      apply pending migrations, then serve HTTP (the default)\n"
    "  migrate    apply pending migrations and exit\n"
    "  routes     print the router's routes, \"METHOD PATTERN\" a line (in matching order;\n"
    "             what openapi/openapi.json must document), and exit\n"
    "  send-test-mail <to> [-]\n"
    "             send a test message (with -: the message read from stdin) through\n"
    "             SLOTD_SMTP_URL, print the outcome, exit 0 if the server accepted it\n"
    "  --help     this text\n"
    "  --version  print the version\n"
    "\n"
    "Configuration comes from the environment (defaults in parentheses):\n";

typedef struct {
  app_t app;
  uv_signal_t sigterm, sigint;
  uv_timer_t log_timer;
  http_server_t *metrics_http; /* SLOTD_METRICS_LISTEN's listener (only /metrics, /healthz), or NULL */
  config_t metrics_cfg;        /* a copy of the configuration with that address: borrowed pointers, never freed */
  int undrained;               /* servers still draining after a signal */
} process_t;

static const char *env_get(const char *name) { return getenv(name); }

static void on_log_timer(uv_timer_t *t) {
  (void)t;
  log_flush();
}

static void on_pool_closed(void *data) {
  process_t *p = data;
  uv_close((uv_handle_t *)&p->sigterm, NULL);
  uv_close((uv_handle_t *)&p->sigint, NULL);
  /* Closing the watchers restores the default action; a second signal during the last steps
   * of a graceful stop must not turn exit 0 into death by signal. */
  signal(SIGTERM, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  uv_close((uv_handle_t *)&p->log_timer, NULL);
}

static process_t *g_proc; /* for the drained callback, which only gets the server */

static void close_primary(void *data) {
  process_t *p = data;
  p->app.replica = NULL; /* closed and freed */
  db_pool_close(p->app.db, on_pool_closed, p); /* fails anything still queued: orphans answer */
}

/* Both servers drain at once (one SLOTD_SHUTDOWN_TIMEOUT bounds the stop); the database side
 * closes once neither has a connection left, and /metrics (ops_collect reads app->http) cannot
 * run after the main server is gone. */
static void on_server_drained(http_server_t *srv) {
  (void)srv;
  process_t *p = g_proc;
  if (--p->undrained > 0) return;
  log_kv(LOG_INFO, "drained: closing database connections", NULL);
  http_server_close(p->app.http);
  if (p->metrics_http) http_server_close(p->metrics_http);
  jobs_sweep_stop(&p->app);
  jobs_rlsync_stop(&p->app);
  jobs_webhooks_stop(&p->app);
  jobs_payments_stop(&p->app);
  jobs_mail_stop(&p->app);
  db_listen_close(p->app.listen);
  /* The replica first: reads it fails are retried on the primary, which closes next. */
  if (p->app.replica) db_replica_close(p->app.replica, close_primary, p);
  else close_primary(p);
}

static void on_signal(uv_signal_t *s, int signum) {
  process_t *p = s->data;
  if (p->app.draining) return;
  log_kv(LOG_INFO, "shutting down", "signal", signum == SIGTERM ? "SIGTERM" : "SIGINT", NULL);
  p->app.draining = 1;
  p->undrained = p->metrics_http ? 2 : 1; /* before draining: the callback may fire at once */
  if (p->metrics_http) http_server_drain(p->metrics_http, on_server_drained);
  http_server_drain(p->app.http, on_server_drained);
}

static void walk_cb(uv_handle_t *h, void *arg) {
  (void)arg;
  fprintf(stderr, "{\"level\":\"error\",\"msg\":\"handle left open at exit\",\"type\":\"%s\"}\n",
          uv_handle_type_name(uv_handle_get_type(h)));
}

static int serve(const config_t *cfg) {
  char err[512];
  if (db_migrate(cfg, MIGRATE_WAIT_MS, err, sizeof err) != 0) {
    log_kv(LOG_ERROR, "migration failed", "error", err, NULL);
    return 1;
  }
  process_t proc;
  memset(&proc, 0, sizeof proc);
  g_proc = &proc;
  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0) return 1;
  app_t *app = &proc.app;
  app->loop = &loop;
  app->cfg = cfg;
  app->db = db_pool_new(&loop, cfg, err, sizeof err);
  if (!app->db) {
    log_kv(LOG_ERROR, "bad SLOTD_DATABASE_URL", "error", err, NULL);
    return 1;
  }
  if (cfg->replica_url && !(app->replica = db_replica_new(&loop, cfg, err, sizeof err))) {
    log_kv(LOG_ERROR, "bad SLOTD_DATABASE_REPLICA_URL", "error", err, NULL);
    return 1;
  }
  app->listen = db_listen_new(&loop, cfg, err, sizeof err);
  int nroutes;
  const http_route_t *routes = app_routes(&nroutes); /* registers every module's statements too */
  api_prepare_statements(app->db);
  if (app->replica) {
    api_prepare_reads(db_replica_pool(app->replica));
    db_replica_prepare_primary(app->db);
  }
  jobs_sweep_prepare(app->db);
  jobs_rlsync_prepare(app->db);
  jobs_webhooks_prepare(app->db);
  jobs_payments_prepare(app->db);
  jobs_mail_prepare(app->db, cfg);
  (void)crypto_password_dummy(); /* computed once now, not during the first login */
  if (tz_preload() == 0) log_kv(LOG_WARN, "no time zones found under /usr/share/zoneinfo (install tzdata)", NULL);
  if (cfg->password_concurrency) crypto_password_concurrency(cfg->password_concurrency);
  app->http = http_server_new(&loop, cfg, routes, nroutes, app);
  http_server_on_unrouted(app->http, api_unrouted);
  http_server_on_error_body(app->http, api_server_error_body); /* every error body through api/respond.c */
  const router_t *router = http_server_router(app->http);
  metrics_init(router_npatterns(router), router_patterns(router));
  metrics_add_collector(ops_collect, app);
  metrics_add_collector(db_pool_metrics, app->db);
  if (app->replica) metrics_add_collector(db_replica_metrics, app->replica);
  metrics_add_collector(inputs_collect, NULL);
  if (api_authn_init(app) != 0 || availability_init(app) != 0) return 1;

  if (cfg->metrics_host) {
    proc.metrics_cfg = *cfg;
    proc.metrics_cfg.listen_host = cfg->metrics_host;
    proc.metrics_cfg.listen_port = cfg->metrics_port;
    proc.metrics_http = http_server_new(&loop, &proc.metrics_cfg, ops_metrics_routes(routes, nroutes), nroutes, app);
    http_server_on_error_body(proc.metrics_http, api_server_error_body);
  }

  int rc = http_server_listen(app->http);
  if (rc != 0) {
    char addr[128];
    snprintf(addr, sizeof addr, "%s:%d", cfg->listen_host, cfg->listen_port);
    log_kv(LOG_ERROR, "cannot listen", "addr", addr, "error", uv_strerror(rc), NULL);
    return 1;
  }
  if (proc.metrics_http && (rc = http_server_listen(proc.metrics_http)) != 0) {
    char addr[128];
    snprintf(addr, sizeof addr, "%s:%d", cfg->metrics_host, cfg->metrics_port);
    log_kv(LOG_ERROR, "cannot listen", "addr", addr, "variable", "SLOTD_METRICS_LISTEN", "error", uv_strerror(rc),
           NULL);
    return 1;
  }
  db_pool_start(app->db);
  if (app->replica) db_replica_start(app->replica, app->db);
  db_listen_start(app->listen);
  jobs_sweep_start(app);
  jobs_rlsync_start(app);
  if (jobs_webhooks_start(app, err, sizeof err) != 0) {
    log_kv(LOG_ERROR, "webhooks", "error", err, NULL);
    return 1;
  }
  if (jobs_mail_start(app, err, sizeof err) != 0) {
    log_kv(LOG_ERROR, "mail", "error", err, NULL);
    return 1;
  }
  if (jobs_payments_start(app) != 0) {
    log_kv(LOG_ERROR, "cannot listen for payment windows", NULL);
    return 1;
  }

  uv_signal_init(&loop, &proc.sigterm);
  uv_signal_init(&loop, &proc.sigint);
  proc.sigterm.data = proc.sigint.data = &proc;
  uv_signal_start(&proc.sigterm, on_signal, SIGTERM);
  uv_signal_start(&proc.sigint, on_signal, SIGINT);
  uv_timer_init(&loop, &proc.log_timer);
  uv_timer_start(&proc.log_timer, on_log_timer, 100, 100);
  uv_unref((uv_handle_t *)&proc.log_timer);

  char addr[128];
  snprintf(addr, sizeof addr, strchr(cfg->listen_host, ':') ? "[%s]:%d" : "%s:%d", cfg->listen_host,
           cfg->listen_port);
  log_kv(LOG_INFO, "listening", "addr", addr, "version", SLOTD_VERSION, NULL);
  if (proc.metrics_http) {
    snprintf(addr, sizeof addr, strchr(cfg->metrics_host, ':') ? "[%s]:%d" : "%s:%d", cfg->metrics_host,
             http_server_port(proc.metrics_http));
    log_kv(LOG_INFO, "metrics listening", "addr", addr, NULL);
  }
  log_flush();

  uv_run(&loop, UV_RUN_DEFAULT);
  metrics_shutdown();
  api_authn_free(app);
  arena_cache_free();
  jobs_webhooks_free(app);
  jobs_payments_free(app);
  jobs_mail_free(app);
  availability_free(app);
  inputs_cache_free();
  tz_cache_free();
  if (uv_loop_close(&loop) != 0) {
    uv_walk(&loop, walk_cb, NULL);
    return 1;
  }
  log_kv(LOG_INFO, "stopped", NULL);
  log_flush();
  return 0;
}

typedef struct {
  smtp_client_t *client;
  int rc;
} test_mail_t;

static void on_test_mail(void *data, const smtp_result_t *r) {
  test_mail_t *t = data;
  if (r->ok) printf("accepted: %d %s (%llu ms)\n", r->code, r->reply, (unsigned long long)r->duration_ms);
  else if (r->code) printf("failed (%s): %d %s\n", r->temporary ? "temporary" : "permanent", r->code, r->reply);
  else printf("failed (%s): %s\n", r->temporary ? "temporary" : "permanent", r->reply);
  t->rc = r->ok ? 0 : 1;
}

/* The operator's check of the mail settings: one message through SLOTD_SMTP_URL on a loop of
 * its own, the outcome on one line. Without stdin_msg a short text/plain message is built. */
static int send_test_mail(const config_t *cfg, const char *to, int stdin_msg) {
  char err[512];
  if (!cfg->smtp_url) {
    fprintf(stderr, "slotd: SLOTD_SMTP_URL is not set: e-mail is off\n");
    return 1;
  }
  buf_t msg = BUF_INIT;
  if (stdin_msg) {
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0 && msg.len <= SMTP_MAX_MESSAGE) buf_append(&msg, chunk, n);
  } else {
    char date[64], id[33];
    unsigned char rnd[16];
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", gmtime_r(&now, &tm));
    random_bytes(rnd, sizeof rnd);
    hex_encode(rnd, sizeof rnd, id);
    if (cfg->mail_from_name) { /* RFC 2047 encoded: the name may be UTF-8 */
      char b64[512];
      if (crypto_base64_encode(cfg->mail_from_name, strlen(cfg->mail_from_name), b64, sizeof b64) < 0) b64[0] = '\0';
      buf_printf(&msg, "From: =?UTF-8?B?%s?= <%s>\r\n", b64, cfg->mail_from);
    } else {
      buf_printf(&msg, "From: <%s>\r\n", cfg->mail_from);
    }
    buf_printf(&msg,
               "To: <%s>\r\nSubject: slotd test message\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\n"
               "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
               "This is a test message from slotd %s (%s), sent with `slotd send-test-mail`.\r\n"
               "If you can read it, the mail settings work.\r\n",
               to, date, id, strchr(cfg->mail_from, '@') + 1, SLOTD_VERSION, cfg->instance);
  }
  tls_ctx_t *tls = tls_ctx_new(TLS_SYSTEM_CA, cfg->smtp_ca_file, err, sizeof err);
  if (!tls) {
    fprintf(stderr, "slotd: TLS: %s\n", err);
    buf_free(&msg);
    return 1;
  }
  http_url_t pub; /* EHLO with the public host name */
  const char *helo = http_url_parse(cfg->public_url, &pub) == 0 ? pub.host : NULL;
  uv_loop_t loop;
  test_mail_t t = {NULL, 1};
  int rc = 1;
  if (uv_loop_init(&loop) != 0) goto fail_loop;
  t.client = smtp_client_new(&loop, tls, cfg->smtp_url, helo, err, sizeof err);
  if (!t.client) {
    fprintf(stderr, "slotd: %s\n", err);
    goto fail_client;
  }
  const char *rcpt[] = {to};
  smtp_send(t.client, cfg->mail_from, rcpt, 1, msg.data ? msg.data : "", msg.len, (int)cfg->smtp_timeout_ms,
            on_test_mail, &t);
  uv_run(&loop, UV_RUN_DEFAULT); /* until the send's QUIT is answered and its handles are closed */
  rc = t.rc;
  smtp_client_close(t.client);
fail_client:
  if (uv_loop_close(&loop) != 0) {
    uv_walk(&loop, walk_cb, NULL);
    rc = 1;
  }
fail_loop:
  tls_ctx_free(tls);
  buf_free(&msg);
  return rc;
}

/* `slotd routes`: every route of app_routes(), one "METHOD PATTERN" line per method, in the
 * router's matching order (tests/api/test_contract.py checks them against openapi/openapi.json). */
static int print_routes(void) {
  int n;
  const http_route_t *routes = app_routes(&n);
  for (int i = 0; i < n; i++)
    for (int m = 0; m < 32; m++)
      if (routes[i].methods & (1u << m))
        printf("%s %s\n", llhttp_method_name((llhttp_method_t)m), routes[i].pattern);
  return 0;
}

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "serve";
  int test_mail = strcmp(cmd, "send-test-mail") == 0;
  if (test_mail ? argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "-") != 0) : argc > 2) {
    fputs(usage, stderr);
    return 2;
  }
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    fputs(usage, stdout);
    fputs(config_help, stdout);
    return 0;
  }
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0 || strcmp(cmd, "version") == 0) {
    printf("slotd %s\n", SLOTD_VERSION);
    return 0;
  }
  if (strcmp(cmd, "routes") == 0) return print_routes();
  if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "migrate") != 0 && !test_mail) {
    fprintf(stderr, "slotd: unknown command \"%s\"\n", cmd);
    fputs(usage, stderr);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  config_t cfg;
  char err[512];
  if (config_load(&cfg, env_get, err, sizeof err) != 0) {
    fprintf(stderr, "slotd: invalid configuration: %s\n", err);
    config_free(&cfg);
    return 2;
  }
  log_init(cfg.log_level, cfg.instance);
  int rc;
  if (strcmp(cmd, "migrate") == 0) {
    rc = db_migrate(&cfg, MIGRATE_WAIT_MS, err, sizeof err) == 0 ? 0 : 1;
    if (rc) log_kv(LOG_ERROR, "migration failed", "error", err, NULL);
    else log_kv(LOG_INFO, "migrations up to date", NULL);
  } else if (test_mail) {
    rc = send_test_mail(&cfg, argv[2], argc == 4);
  } else {
    rc = serve(&cfg);
  }
  log_flush();
  config_free(&cfg);
  return rc;
}
