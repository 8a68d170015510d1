#include "authn.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/crypto.h"
#include "../core/log.h"
#include "../core/map.h"
#include <llhttp.h>
#include "dispatch.h"
#include "idempotency.h"
#include "ratelimit.h"
#include "query.h"
#include "respond.h"

#define CACHE_TTL_MS 60000
#define CACHE_MAX 100000
#define RL_MAX_KEYS 200000

typedef struct {
  int64_t user_id;
  int64_t key_id;
  int64_t key_org; /* an org API key's org, else 0 */
  int kind;
  uint64_t valid_until; /* loop ms: min(cached + TTL, credential expiry) */
} cred_t;

typedef struct api_state_s {
  map_t *creds; /* hex hash -> cred_t */
} api_state_t;

static api_state_t *state(app_t *app) { return app->api_state; }

/* ------------------------------------------------------------------ cache invalidation */

static int match_user(const char *key, void *value, void *ctx) {
  (void)key;
  return ((cred_t *)value)->user_id == *(int64_t *)ctx;
}

void api_authn_forget_user(app_t *app, int64_t user_id) { map_filter(state(app)->creds, match_user, &user_id); }

static int match_org(const char *key, void *value, void *ctx) {
  (void)key;
  return ((cred_t *)value)->key_org == *(int64_t *)ctx;
}

void api_authn_forget_org(app_t *app, int64_t org_id) {
  if (org_id) map_filter(state(app)->creds, match_org, &org_id);
}

static void on_auth_notify(void *data, const char *channel, const char *payload) {
  app_t *app = data;
  (void)channel;
  if (!payload) { /* (re)connected: anything may have changed meanwhile */
    map_clear(state(app)->creds);
    return;
  }
  if (strncmp(payload, "h:", 2) == 0) { /* cached under its kind */
    char key[80];
    snprintf(key, sizeof key, "s:%s", payload + 2);
    map_del(state(app)->creds, key);
    key[0] = 'k';
    map_del(state(app)->creds, key);
  }
  else if (strncmp(payload, "u:", 2) == 0) api_authn_forget_user(app, strtoll(payload + 2, NULL, 10));
}

int api_authn_init(app_t *app) {
  api_state_t *s = xcalloc(1, sizeof *s);
  app->rl = rl_new(RL_MAX_KEYS);
  s->creds = map_new(sizeof(cred_t), CACHE_MAX);
  app->api_state = s;
  return db_listen_subscribe(app->listen, "slotd_auth", on_auth_notify, app);
}

void api_authn_free(app_t *app) {
  api_state_t *s = state(app);
  if (!s) return;
  rl_free(app->rl);
  app->rl = NULL;
  map_free(s->creds);
  free(s);
  app->api_state = NULL;
}

/* ------------------------------------------------------------------ credentials */

/* The presented credential, or NULL; *cookie says whether it came from the session cookie
 * (a session) or a header (an API key). */
static const char *credential(http_req_t *req, char *buf, size_t buflen, int *cookie) {
  *cookie = 0;
  const api_ctx_t *ctx = req->ctx;
  const char *vendor = ctx && ctx->dialect ? ctx->dialect->key_header : NULL;
  const char *v = vendor ? http_req_header(req, vendor) : NULL;
  if (v && *v) return v;
  const char *k = http_req_header(req, "X-API-Key");
  if (k && *k) return k;
  const char *a = http_req_header(req, "Authorization");
  if (a && strncasecmp(a, "Bearer ", 7) == 0) {
    a += 7;
    while (*a == ' ') a++;
    if (*a) return a;
  }
  *cookie = 1;
  const char *c = http_req_header(req, "Cookie");
  while (c && *c) { /* "a=b; session=TOKEN; c=d" */
    while (*c == ' ' || *c == ';') c++;
    const char *end = strchr(c, ';');
    size_t n = end ? (size_t)(end - c) : strlen(c);
    if (n > 8 && strncmp(c, "session=", 8) == 0 && n - 8 < buflen) {
      memcpy(buf, c + 8, n - 8);
      buf[n - 8] = 0;
      return buf;
    }
    c = end;
  }
  return NULL;
}

/* An org key acts as an admin of its org and nothing else, never as the person who made it
 * (ctx->user_id): only routes flagged API_ORG, which resolve the org themselves, take one. */
static int org_key_refused(http_req_t *req) {
  const api_ctx_t *ctx = api_ctx(req);
  const api_handler_t *h = req->match.route->ctx;
  if (!ctx->key_org_id || (!ctx->auth_next && (h->flags & API_ORG))) return 0;
  api_error(req, 403, E_FORBIDDEN,
            "this API key belongs to an organisation: it works only on that organisation's routes (/api/orgs/:id/...)");
  return 1;
}

static void proceed(http_req_t *req) {
  api_ctx_t *ctx = api_ctx(req);
  snprintf(ctx->user_id_str, sizeof ctx->user_id_str, "%" PRId64, ctx->user_id);
  if (ctx->key_org_id) snprintf(ctx->key_org_str, sizeof ctx->key_org_str, "%" PRId64, ctx->key_org_id);
  if (ctx->auth_next) { /* api_authenticate: the public route was already rate-limited */
    if (org_key_refused(req)) return;
    ctx->auth_next(req);
    return;
  }
  char key[40];
  if (ctx->key_org_id) snprintf(key, sizeof key, "o:%" PRId64, ctx->key_org_id); /* the org's budget */
  else snprintf(key, sizeof key, "u:%" PRId64, ctx->user_id);
  if (!api_rate_limit(req, key, api_app(req)->cfg->rate_limit_auth, 1)) return;
  if (org_key_refused(req)) return;
  api_run_handler(req);
}

static void unauthorized(http_req_t *req, const char *why) {
  /* Failed attempts count against the IP's public budget (once: api_authenticate's routes
   * were counted already). */
  if (!api_ctx(req)->auth_next && !api_limit_ip(req)) return;
  http_set_header(req, "WWW-Authenticate", "Bearer");
  api_error(req, 401, E_UNAUTHORIZED, why);
}

static void on_auth(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  if (PQntuples(r->res) < 1) {
    unauthorized(req, "invalid or expired credentials");
    return;
  }
  api_ctx_t *ctx = api_ctx(req);
  ctx->user_id = strtoll(PQgetvalue(r->res, 0, 0), NULL, 10);
  ctx->auth_kind = strcmp(PQgetvalue(r->res, 0, 1), "session") == 0 ? AUTH_SESSION : AUTH_API_KEY;
  ctx->api_key_id = PQgetisnull(r->res, 0, 2) ? 0 : strtoll(PQgetvalue(r->res, 0, 2), NULL, 10);
  ctx->key_org_id = PQgetisnull(r->res, 0, 4) ? 0 : strtoll(PQgetvalue(r->res, 0, 4), NULL, 10);
  uint64_t now = uv_now(api_app(req)->loop);
  uint64_t until = now + CACHE_TTL_MS;
  if (!PQgetisnull(r->res, 0, 3)) {
    double left = strtod(PQgetvalue(r->res, 0, 3), NULL);
    if (left * 1000 < CACHE_TTL_MS) until = now + (uint64_t)(left > 0 ? left * 1000 : 0);
  }
  cred_t *c = map_put(state(api_app(req))->creds, ctx->cache_key, NULL);
  c->user_id = ctx->user_id;
  c->key_id = ctx->api_key_id;
  c->key_org = ctx->key_org_id;
  c->kind = ctx->auth_kind;
  c->valid_until = until;
  proceed(req);
}

void api_authenticate(http_req_t *req, void (*next)(http_req_t *req)) {
  api_ctx(req)->auth_next = next;
  api_auth_start(req);
}

void api_auth_start(http_req_t *req) {
  app_t *app = api_app(req);
  api_ctx_t *ctx = api_ctx(req);
  char cookie[160];
  int from_cookie;
  const char *cred = credential(req, cookie, sizeof cookie, &from_cookie);
  if (!cred || strlen(cred) > 200) {
    unauthorized(req, "authentication required");
    return;
  }
  crypto_sha256_hex(cred, strlen(cred), ctx->cred_hash);
  snprintf(ctx->cache_key, sizeof ctx->cache_key, "%c:%s", from_cookie ? 's' : 'k', ctx->cred_hash);
  cred_t *c = map_get(state(app)->creds, ctx->cache_key);
  if (c && c->valid_until > uv_now(app->loop)) {
    ctx->user_id = c->user_id;
    ctx->api_key_id = c->key_id;
    ctx->key_org_id = c->key_org;
    ctx->auth_kind = c->kind;
    proceed(req);
    return;
  }
  if (c) map_del(state(app)->creds, ctx->cache_key);
  const char *params[2] = {ctx->cred_hash, from_cookie ? "session" : "api_key"};
  api_query(req, "auth", 2, params, on_auth);
}

static const api_stmt_t statements[] = {
    {"auth", "SELECT user_id, kind, key_id, expires_in, org_id FROM api.auth($1, $2)", 0}, /* last_used_at only */
    {NULL, NULL, 0},
};

void api_authn_register(void) { api_register_statements(statements); }
