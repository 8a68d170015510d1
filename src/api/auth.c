#include "auth.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/crypto.h"
#include "../sched/tzif.h"
#include "authn.h"
#include "ratelimit.h"
#include "query.h"
#include "respond.h"
#include "validate.h"

#define DEFAULT_TZ "America/Los_Angeles"
#define PASSWORD_MIN 8
#define PASSWORD_MAX 256
#define NAME_MAX_CHARS 100
#define EMAIL_MAX 254

/* A multi-step handler's state, in the request arena (api_ctx(req)->flow). Passwords are
 * copied here because the JSON body may not be looked at again, and wiped when used. */
typedef struct {
  char *email, *password, *new_password, *name, *tz;
  char *stored_hash;
  char token[65];
  char token_hash[65];
} flow_t;

static flow_t *new_flow(http_req_t *req) {
  flow_t *f = arena_calloc(req->arena, sizeof *f);
  api_ctx(req)->flow = f;
  return f;
}

static flow_t *get_flow(http_req_t *req) { return api_ctx(req)->flow; }

static void wipe(char *s) {
  if (s) memset(s, 0, strlen(s));
}

static void wipe_flow(void *p) {
  flow_t *f = p;
  wipe(f->password);
  wipe(f->new_password);
  memset(f->token, 0, sizeof f->token);
}

static char *lower_dup(http_req_t *req, const char *s) {
  char *d = arena_strdup(req->arena, s);
  api_email_fold(d);
  return d;
}

/* The password hashing queue is full: 503, try again shortly. */
static void hashing_busy(http_req_t *req) {
  flow_t *f = get_flow(req);
  if (f) wipe_flow(f);
  api_failure_t fl = {.status = 503, .code = E_UNAVAILABLE, .message = "too many password checks at once; try again",
                      .retry_after = 1};
  api_fail(req, &fl);
}

/* Failed logins per account and minute (per instance), besides the per-IP limit: guessing one
 * account's password from many addresses is slowed too. Only failures count. */
#define LOGIN_FAILURES_PER_ACCOUNT 10

static void failure_key(const char *email, char *key, size_t keylen) {
  char h[65];
  crypto_sha256_hex(email, strlen(email), h);
  snprintf(key, keylen, "loginfail:%s", h);
}

static const char *check_password(api_v_t *v, const char *field) {
  /* api_v_str counts characters, not bytes, and names the field in its message. */
  return api_v_str(v, field, 1, PASSWORD_MIN, PASSWORD_MAX);
}

/* ------------------------------------------------------------------ register */

static void on_registered(void *data, const db_result_t *r) { api_respond_db(data, r, 201); }

static void on_register_hashed(void *data, int ok, const char *encoded) {
  http_req_t *req = data;
  flow_t *f = get_flow(req);
  wipe(f->password);
  if (!ok) {
    api_error(req, 500, E_INTERNAL, "internal error");
    return;
  }
  char slug[64];
  api_slugify_top(f->name, slug, sizeof slug);
  const char *params[5] = {f->email, encoded, f->name, f->tz, slug};
  api_query(req, "register", 5, params, on_registered);
}

int auth_register(http_req_t *req) {
  if (api_body_object(req)) return 0;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  const char *email = api_v_str(&v, "email", 1, 1, EMAIL_MAX);
  if (email && !api_valid_email(email)) api_v_fail(&v, "email", "email must be a valid email address");
  const char *pw = check_password(&v, "password");
  const char *name = api_v_line(&v, "name", 1, 1, NAME_MAX_CHARS);
  const char *tz = api_v_str(&v, "timezone", 0, 1, 64);
  if (tz && !tz_get(tz)) api_v_fail(&v, "timezone", "timezone must be an IANA time zone name");
  if (v.failed) return api_v_respond(&v);
  flow_t *f = new_flow(req);
  arena_on_destroy(req->arena, wipe_flow, f);
  f->email = lower_dup(req, email);
  f->password = arena_strdup(req->arena, pw);
  f->name = arena_strdup(req->arena, name);
  f->tz = arena_strdup(req->arena, tz ? tz : DEFAULT_TZ);
  if (crypto_password_hash(api_app(req)->loop, f->password, on_register_hashed, req) != 0) hashing_busy(req);
  return 0;
}

/* ------------------------------------------------------------------ login */

static void set_session_cookie(http_req_t *req, const char *token, int max_age) {
  const config_t *cfg = api_app(req)->cfg;
  char cookie[256];
  snprintf(cookie, sizeof cookie, "session=%s; HttpOnly;%s SameSite=Lax; Path=/; Max-Age=%d", token,
           cfg->cookie_secure ? " Secure;" : "", max_age);
  http_set_header(req, "Set-Cookie", cookie);
  http_set_header(req, "Cache-Control", "no-store");
}

static void on_session(void *data, const db_result_t *r) {
  http_req_t *req = data;
  flow_t *f = get_flow(req);
  if (api_db_failed(req, r)) return;
  set_session_cookie(req, f->token, api_app(req)->cfg->session_ttl);
  api_respond_pg(req, 200, PQgetvalue(r->res, 0, 0), (size_t)PQgetlength(r->res, 0, 0));
}

static void on_login_verified(void *data, int ok, const char *encoded) {
  (void)encoded;
  http_req_t *req = data;
  flow_t *f = get_flow(req);
  wipe(f->password);
  if (!ok || !f->stored_hash) { /* unknown email and wrong password look the same */
    char key[96];
    rl_result_t rr;
    failure_key(f->email, key, sizeof key);
    rl_hit(api_app(req)->rl, key, LOGIN_FAILURES_PER_ACCOUNT, (int64_t)time(NULL), &rr);
    api_error(req, 401, E_UNAUTHORIZED, "invalid email or password");
    return;
  }
  crypto_token_hex(32, f->token);
  crypto_sha256_hex(f->token, strlen(f->token), f->token_hash);
  char ttl[16];
  snprintf(ttl, sizeof ttl, "%d", api_app(req)->cfg->session_ttl);
  const char *params[3] = {api_ctx(req)->user_id_str, f->token_hash, ttl};
  api_query(req, "session_create", 3, params, on_session);
}

static void on_login_lookup(void *data, const db_result_t *r) {
  http_req_t *req = data;
  flow_t *f = get_flow(req);
  if (api_db_failed(req, r)) return;
  const char *hash = crypto_password_dummy(); /* verify against something either way */
  /* An account an organisation made has no password (NULL): it cannot log in, and is refused
   * after the same work as an unknown e-mail or a wrong password. */
  if (PQntuples(r->res) == 1 && !PQgetisnull(r->res, 0, 1)) {
    snprintf(api_ctx(req)->user_id_str, sizeof api_ctx(req)->user_id_str, "%s", PQgetvalue(r->res, 0, 0));
    f->stored_hash = arena_strdup(req->arena, PQgetvalue(r->res, 0, 1));
    hash = f->stored_hash;
  }
  if (crypto_password_verify(api_app(req)->loop, hash, f->password, on_login_verified, req) != 0) hashing_busy(req);
}

int auth_login(http_req_t *req) {
  if (api_body_object(req)) return 0;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  const char *email = api_v_str(&v, "email", 1, 1, EMAIL_MAX);
  const char *pw = api_v_str(&v, "password", 1, 1, PASSWORD_MAX);
  if (v.failed) return api_v_respond(&v);
  flow_t *f = new_flow(req);
  arena_on_destroy(req->arena, wipe_flow, f);
  f->email = lower_dup(req, email);
  f->password = arena_strdup(req->arena, pw);
  char key[96];
  rl_result_t rr;
  failure_key(f->email, key, sizeof key);
  rl_peek(api_app(req)->rl, key, LOGIN_FAILURES_PER_ACCOUNT, (int64_t)time(NULL), &rr);
  if (!rr.allowed) { /* no hash is spent on an account under attack (same answer for unknown ones) */
    wipe_flow(f);
    api_rate_limited(req, rr.retry_after);
    return 0;
  }
  const char *params[1] = {f->email};
  api_query(req, "login_lookup", 1, params, on_login_lookup);
  return 0;
}

/* ------------------------------------------------------------------ logout, me */

static void on_logout(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  api_authn_forget_user(api_app(req), api_ctx(req)->user_id);
  set_session_cookie(req, "", 0);
  api_respond_body(req, 200, "{\"ok\":true}", 11);
}

int auth_logout(http_req_t *req) {
  api_ctx_t *ctx = api_ctx(req);
  if (ctx->auth_kind != AUTH_SESSION) { /* an API key has no session to end */
    api_respond_body(req, 200, "{\"ok\":true}", 11);
    return 0;
  }
  const char *params[1] = {ctx->cred_hash};
  api_query(req, "logout", 1, params, on_logout);
  return 0;
}

static void on_me(void *data, const db_result_t *r) { api_respond_db(data, r, 200); }

int auth_me(http_req_t *req) {
  const char *params[1] = {api_ctx(req)->user_id_str};
  api_query(req, "me", 1, params, on_me);
  return 0;
}

int auth_update_me(http_req_t *req) {
  if (api_body_object(req)) return 0;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  json_t *patch = json_object();
  api_v_not_null(&v, "name");
  api_v_not_null(&v, "timezone");
  const char *name = api_v_line(&v, "name", 0, 1, NAME_MAX_CHARS);
  if (name) json_object_set_new(patch, "name", json_string(name));
  const char *tz = api_v_str(&v, "timezone", 0, 1, 64);
  if (tz && !tz_get(tz)) api_v_fail(&v, "timezone", "timezone must be an IANA time zone name");
  else if (tz) json_object_set_new(patch, "timezone", json_string(tz));
  int present;
  const char *avatar = api_v_str_or_null(&v, "avatar_url", 2048, &present);
  if (avatar && !api_valid_http_url(avatar)) api_v_fail(&v, "avatar_url", "avatar_url must be an http(s) URL");
  else if (present) json_object_set_new(patch, "avatar_url", avatar ? json_string(avatar) : json_null());
  return api_save_patch(req, &v, patch, "update_me", 0, NULL, on_me);
}

/* ------------------------------------------------------------------ password */

static void on_password_set(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  api_authn_forget_user(api_app(req), api_ctx(req)->user_id);
  api_respond_body(req, 200, "{\"ok\":true}", 11);
}

static void on_new_hashed(void *data, int ok, const char *encoded) {
  http_req_t *req = data;
  flow_t *f = get_flow(req);
  wipe(f->new_password);
  if (!ok) {
    api_error(req, 500, E_INTERNAL, "internal error");
    return;
  }
  api_ctx_t *ctx = api_ctx(req);
  const char *keep = ctx->auth_kind == AUTH_SESSION ? ctx->cred_hash : NULL;
  const char *params[4] = {ctx->user_id_str, f->stored_hash, encoded, keep};
  api_query(req, "password_set", 4, params, on_password_set);
}

static void on_current_verified(void *data, int ok, const char *encoded) {
  (void)encoded;
  http_req_t *req = data;
  flow_t *f = get_flow(req);
  wipe(f->password);
  if (!ok) {
    api_error_field(req, 400, E_VALIDATION, "current_password is incorrect", "current_password");
    return;
  }
  if (crypto_password_hash(api_app(req)->loop, f->new_password, on_new_hashed, req) != 0) hashing_busy(req);
}

static void on_password_get(void *data, const db_result_t *r) {
  http_req_t *req = data;
  flow_t *f = get_flow(req);
  if (api_db_failed(req, r)) return;
  if (PQntuples(r->res) != 1 || PQgetisnull(r->res, 0, 0)) {
    api_error(req, 401, E_UNAUTHORIZED, "authentication required");
    return;
  }
  f->stored_hash = arena_strdup(req->arena, PQgetvalue(r->res, 0, 0));
  if (crypto_password_verify(api_app(req)->loop, f->stored_hash, f->password, on_current_verified, req) != 0)
    hashing_busy(req);
}

int auth_change_password(http_req_t *req) {
  if (api_body_object(req)) return 0;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  const char *cur = api_v_str(&v, "current_password", 1, 1, PASSWORD_MAX);
  const char *pw = check_password(&v, "new_password");
  if (v.failed) return api_v_respond(&v);
  flow_t *f = new_flow(req);
  arena_on_destroy(req->arena, wipe_flow, f);
  f->password = arena_strdup(req->arena, cur);
  f->new_password = arena_strdup(req->arena, pw);
  const char *params[1] = {api_ctx(req)->user_id_str};
  api_query(req, "password_get", 1, params, on_password_get);
  return 0;
}
