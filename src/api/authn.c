#include "authn.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/crypto.h"
#include "../core/log.h"
#include "../core/map.h"
#include <llhttp.h>
#include "ratelimit.h"
#include "util.h"

#define CACHE_TTL_MS 60000
#define CACHE_MAX 100000
#define RL_MAX_KEYS 200000

typedef struct {
  int64_t user_id;
  int64_t key_id;
  int kind;
  uint64_t valid_until; /* loop ms: min(cached + TTL, credential expiry) */
} cred_t;

typedef struct api_state_s {
  rl_t *rl;
  map_t *creds; /* hex hash -> cred_t */
} api_state_t;

static api_state_t *state(app_t *app) { return app->api_state; }

/* ------------------------------------------------------------------ cache invalidation */

static int match_user(const char *key, void *value, void *ctx) {
  (void)key;
  return ((cred_t *)value)->user_id == *(int64_t *)ctx;
}

void api_authn_forget_user(app_t *app, int64_t user_id) { map_filter(state(app)->creds, match_user, &user_id); }

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
  s->rl = rl_new(RL_MAX_KEYS);
  s->creds = map_new(sizeof(cred_t), CACHE_MAX);
  app->api_state = s;
  return db_listen_subscribe(app->listen, "slotd_auth", on_auth_notify, app);
}

void api_authn_free(app_t *app) {
  api_state_t *s = state(app);
  if (!s) return;
  rl_free(s->rl);
  map_free(s->creds);
  free(s);
  app->api_state = NULL;
}

/* ------------------------------------------------------------------ client IP */

static int parse_ip(const char *s, size_t n, int *family, unsigned char *addr) {
  char tmp[64];
  while (n && (*s == ' ' || *s == '\t')) s++, n--;
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
  if (n == 0 || n >= sizeof tmp) return -1;
  memcpy(tmp, s, n);
  tmp[n] = 0;
  if (inet_pton(AF_INET, tmp, addr) == 1) *family = AF_INET;
  else if (inet_pton(AF_INET6, tmp, addr) == 1) *family = AF_INET6;
  else return -1;
  return 0;
}

static void client_ip(http_req_t *req, char *out, size_t outlen) {
  const config_t *cfg = api_app(req)->cfg;
  int family = req->peer_addr.ss_family;
  unsigned char addr[16];
  if (family == AF_INET) memcpy(addr, &((struct sockaddr_in *)&req->peer_addr)->sin_addr, 4);
  else if (family == AF_INET6) memcpy(addr, &((struct sockaddr_in6 *)&req->peer_addr)->sin6_addr, 16);
  else {
    snprintf(out, outlen, "unknown");
    return;
  }
  const char *xff = http_req_header(req, "X-Forwarded-For");
  if (xff && config_cidr_match(cfg->trusted_proxies, cfg->n_trusted_proxies, family, addr)) {
    /* Walk from the right: the first address that is not one of our proxies is the client. */
    const char *end = xff + strlen(xff);
    while (end > xff) {
      const char *start = end;
      while (start > xff && start[-1] != ',') start--;
      int f;
      unsigned char a[16];
      if (parse_ip(start, (size_t)(end - start), &f, a) != 0) break; /* garbage: stop at the last good hop */
      family = f;
      memcpy(addr, a, sizeof a);
      if (!config_cidr_match(cfg->trusted_proxies, cfg->n_trusted_proxies, f, a)) break;
      end = start > xff ? start - 1 : xff;
    }
  }
  inet_ntop(family, addr, out, (socklen_t)outlen);
}

/* ------------------------------------------------------------------ limits */

int api_rate_limit(http_req_t *req, const char *key, int per_minute, int headers) {
  rl_result_t r;
  rl_hit(state(api_app(req))->rl, key, per_minute, (int64_t)time(NULL), &r);
  char v[32];
  if (!headers && r.allowed) return 1;
  snprintf(v, sizeof v, "%d", r.limit);
  http_set_header(req, "X-RateLimit-Limit", v);
  snprintf(v, sizeof v, "%d", r.remaining);
  http_set_header(req, "X-RateLimit-Remaining", v);
  snprintf(v, sizeof v, "%" PRId64, r.reset);
  http_set_header(req, "X-RateLimit-Reset", v);
  if (r.allowed) return 1;
  snprintf(v, sizeof v, "%d", r.retry_after);
  http_set_header(req, "Retry-After", v);
  char body[160];
  int n = snprintf(body, sizeof body,
                   "{\"error\":{\"code\":\"RATE_LIMIT_EXCEEDED\",\"message\":\"Too many requests. Please retry after "
                   "%d seconds.\"}}",
                   r.retry_after);
  http_respond(req, 429, "application/json", body, (size_t)n);
  return 0;
}

static int limit(http_req_t *req, const char *key, int per_minute) { return api_rate_limit(req, key, per_minute, 1); }

static int limit_ip(http_req_t *req) {
  char key[80];
  snprintf(key, sizeof key, "ip:%s", api_ctx(req)->client_ip);
  return limit(req, key, api_app(req)->cfg->rate_limit_public);
}

/* ------------------------------------------------------------------ credentials */

/* The presented credential, or NULL; *cookie says whether it came from the session cookie
 * (a session) or a header (an API key). */
static const char *credential(http_req_t *req, char *buf, size_t buflen, int *cookie) {
  *cookie = 0;
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

/* ------------------------------------------------------------------ idempotency */

#define IDEM_WAIT_MS 50
#define IDEM_WAIT_MAX 200 /* 10 s */

typedef struct idem_s {
  char scope[80];
  char key[65];              /* SHA-256 of the Idempotency-Key: the key itself is never stored */
  unsigned char seal[32];    /* encrypts the stored response; derived from the key itself */
  char hash[65];
  int waits;
  int status;
  char *ctype, *body;
  size_t len;
} idem_t;

static void idem_begin(http_req_t *req);

typedef struct {
  uv_timer_t timer;
  http_req_t *req;
} idem_wait_t;

static void on_wait_closed(uv_handle_t *h) { free(h->data); }

static void on_wait(uv_timer_t *t) {
  idem_wait_t *w = t->data;
  http_req_t *req = w->req;
  uv_close((uv_handle_t *)&w->timer, on_wait_closed);
  idem_begin(req);
}

static void send_stored(void *data, const db_result_t *r) {
  http_req_t *req = data;
  idem_t *i = api_ctx(req)->idem;
  (void)r; /* if storing failed the client still gets its answer; a retry after a minute reruns */
  http_respond(req, i->status, i->ctype, i->body, i->len);
}

/* The handler's response: stored (or the key released after a 5xx) before it is sent. */
static void idem_hook(http_req_t *req, int status, const char *ctype, const char *body, size_t len) {
  idem_t *i = api_ctx(req)->idem;
  i->status = status;
  i->ctype = ctype ? arena_strdup(req->arena, ctype) : NULL;
  i->body = arena_strndup(req->arena, body ? body : "", len);
  i->len = len;
  if (status >= 500) { /* nothing written: the key is free again; else the outcome is unknown */
    const char *params[2] = {i->scope, i->key};
    api_query(req, api_ctx(req)->wrote ? "idem_unknown" : "idem_abort", 2, params, send_stored);
    return;
  }
  char st[16];
  snprintf(st, sizeof st, "%d", status);
  /* Sealed: the response may hold secrets shown once (a booking's invitee tokens). Only a
   * caller presenting the same key can have it opened again. */
  char *sealed = crypto_seal(i->seal, i->body, i->len);
  const char *params[4] = {i->scope, i->key, st, sealed};
  api_query(req, "idem_finish", 4, params, send_stored);
  free(sealed);
}

static void call_handler(http_req_t *req) {
  const api_handler_t *h = req->match.route->ctx;
  if (h->fn(req) != 0 && !req->responded) api_error(req, 500, E_INTERNAL, "internal error");
}

static void on_idem_begin(void *data, const db_result_t *r) {
  http_req_t *req = data;
  idem_t *i = api_ctx(req)->idem;
  if (api_db_failed(req, r)) return;
  json_t *doc = json_loads(PQgetvalue(r->res, 0, 0), 0, NULL);
  const char *state = json_string_value(json_object_get(doc, "state"));
  if (state && strcmp(state, "run") == 0) {
    req->respond_hook = idem_hook;
    call_handler(req);
  } else if (state && strcmp(state, "replay") == 0) {
    const char *sealed = json_string_value(json_object_get(doc, "body"));
    size_t len = 0;
    char *body = sealed ? crypto_open(i->seal, sealed, &len) : NULL;
    if (!body) {
      api_error(req, 500, E_INTERNAL, "stored response cannot be read");
    } else {
      http_set_header(req, "Idempotent-Replayed", "true");
      http_set_header(req, "Cache-Control", "no-store");
      http_respond(req, (int)json_integer_value(json_object_get(doc, "status")), "application/json", body, len);
      free(body);
    }
  } else if (state && strcmp(state, "unknown") == 0) {
    api_error(req, 409, "IDEMPOTENCY_OUTCOME_UNKNOWN",
              "the first request with this Idempotency-Key failed after it was sent to the database, so it may "
              "have taken effect; check (e.g. list your bookings) before retrying with a new key");
  } else if (state && strcmp(state, "mismatch") == 0) {
    api_error(req, 422, "IDEMPOTENCY_KEY_REUSED", "this Idempotency-Key was used with a different request");
  } else if (state && strcmp(state, "running") == 0 && ++i->waits < IDEM_WAIT_MAX) {
    idem_wait_t *w = xcalloc(1, sizeof *w); /* the first request is still at work: ask again shortly */
    w->req = req;
    uv_timer_init(api_app(req)->loop, &w->timer);
    w->timer.data = w;
    uv_timer_start(&w->timer, on_wait, IDEM_WAIT_MS, 0);
  } else {
    http_set_header(req, "Retry-After", "1");
    api_error(req, 409, E_CONFLICT, "a request with this Idempotency-Key is still in progress");
  }
  json_decref(doc);
}

static void idem_begin(http_req_t *req) {
  idem_t *i = api_ctx(req)->idem;
  const char *params[3] = {i->scope, i->key, i->hash};
  api_query(req, "idem_begin", 3, params, on_idem_begin);
}

/* Runs the route's handler, through the Idempotency-Key protocol for a POST that has one. */
static void run_handler(http_req_t *req) {
  const char *key = http_req_header(req, "Idempotency-Key");
  if (req->method != HTTP_POST || !key) {
    call_handler(req);
    return;
  }
  size_t n = strlen(key);
  int ok = n >= 1 && n <= 255;
  for (size_t k = 0; ok && k < n; k++) ok = key[k] >= 0x20 && key[k] < 0x7f;
  if (!ok) {
    api_error_field(req, 400, E_VALIDATION, "Idempotency-Key must be 1-255 printable ASCII characters",
                    "Idempotency-Key");
    return;
  }
  api_ctx_t *ctx = api_ctx(req);
  idem_t *i = arena_calloc(req->arena, sizeof *i);
  ctx->idem = i;
  if (ctx->auth_kind == AUTH_API_KEY) snprintf(i->scope, sizeof i->scope, "k:%" PRId64, ctx->api_key_id);
  else if (ctx->user_id) snprintf(i->scope, sizeof i->scope, "u:%" PRId64, ctx->user_id);
  else snprintf(i->scope, sizeof i->scope, "ip:%s", ctx->client_ip);
  crypto_sha256_hex(key, n, i->key);
  buf_t sk = BUF_INIT;
  buf_puts(&sk, "slotd idempotency seal v1\n");
  buf_puts(&sk, i->scope);
  buf_putc(&sk, '\n');
  buf_append(&sk, key, n);
  crypto_sha256(sk.data, sk.len, i->seal);
  buf_free(&sk);
  buf_t h = BUF_INIT; /* the request: method, path and exact body bytes */
  buf_printf(&h, "%s %s?%s\n", req->method_name, req->path, req->query ? req->query : "");
  if (req->body.len) buf_append(&h, req->body.data, req->body.len);
  crypto_sha256_hex(h.data, h.len, i->hash);
  buf_free(&h);
  idem_begin(req);
}

static void proceed(http_req_t *req) {
  api_ctx_t *ctx = api_ctx(req);
  if (ctx->auth_next) { /* api_authenticate: the public route was already rate-limited */
    snprintf(ctx->user_id_str, sizeof ctx->user_id_str, "%" PRId64, ctx->user_id);
    ctx->auth_next(req);
    return;
  }
  char key[40];
  snprintf(key, sizeof key, "u:%" PRId64, ctx->user_id);
  snprintf(ctx->user_id_str, sizeof ctx->user_id_str, "%" PRId64, ctx->user_id);
  if (!limit(req, key, api_app(req)->cfg->rate_limit_auth)) return;
  run_handler(req);
}

static void unauthorized(http_req_t *req, const char *why) {
  /* Failed attempts count against the IP's public budget (once: api_authenticate's routes
   * were counted already). */
  if (!api_ctx(req)->auth_next && !limit_ip(req)) return;
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
  uint64_t now = uv_now(api_app(req)->loop);
  uint64_t until = now + CACHE_TTL_MS;
  if (!PQgetisnull(r->res, 0, 3)) {
    double left = strtod(PQgetvalue(r->res, 0, 3), NULL);
    if (left * 1000 < CACHE_TTL_MS) until = now + (uint64_t)(left > 0 ? left * 1000 : 0);
  }
  cred_t *c = map_put(state(api_app(req))->creds, ctx->cache_key, NULL);
  c->user_id = ctx->user_id;
  c->key_id = ctx->api_key_id;
  c->kind = ctx->auth_kind;
  c->valid_until = until;
  proceed(req);
}

static void start_auth(http_req_t *req);

void api_unrouted(http_req_t *req, int status, const char *allow) {
  (void)allow; /* the server already set the Allow header */
  if (strncmp(req->path, "/api/", 5) == 0) {
    api_ctx_t *ctx = arena_calloc(req->arena, sizeof *ctx);
    req->ctx = ctx;
    client_ip(req, ctx->client_ip, sizeof ctx->client_ip);
    if (!limit_ip(req)) return;
  }
  if (status == 405) api_error(req, 405, "METHOD_NOT_ALLOWED", "method not allowed for this resource");
  else api_error(req, 404, E_NOT_FOUND, "no such resource");
}

int api_dispatch(http_req_t *req) {
  api_ctx_t *ctx = arena_calloc(req->arena, sizeof *ctx);
  req->ctx = ctx;
  client_ip(req, ctx->client_ip, sizeof ctx->client_ip);
  const api_handler_t *h = req->match.route->ctx;
  if (!(h->flags & API_AUTH)) {
    if (!limit_ip(req)) return 0;
    run_handler(req);
    return 0;
  }
  start_auth(req);
  return 0;
}

void api_authenticate(http_req_t *req, void (*next)(http_req_t *req)) {
  api_ctx(req)->auth_next = next;
  start_auth(req);
}

static void start_auth(http_req_t *req) {
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
    ctx->auth_kind = c->kind;
    proceed(req);
    return;
  }
  if (c) map_del(state(app)->creds, ctx->cache_key);
  const char *params[2] = {ctx->cred_hash, from_cookie ? "session" : "api_key"};
  api_query(req, "auth", 2, params, on_auth);
}
