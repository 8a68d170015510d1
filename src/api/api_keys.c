#include "api_keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/crypto.h"
#include "../core/timeutil.h"
#include "authn.h"
#include "query.h"
#include "respond.h"
#include "validate.h"

#define KEY_PREFIX "cal_"


static void on_created(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  char extra[120]; /* the key itself: the only time it is shown */
  snprintf(extra, sizeof extra, ",\"key\":\"%s\"", (const char *)api_ctx(req)->flow);
  http_set_header(req, "Cache-Control", "no-store");
  api_respond_pg_extended(req, 201, PQgetvalue(r->res, 0, 0), (size_t)PQgetlength(r->res, 0, 0), extra);
}

int api_keys_create_with(http_req_t *req, const char *stmt, int nlead, const char *const *lead) {
  if (api_body_object(req)) return 0;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  const char *label = api_v_line(&v, "label", 1, 1, 100);
  int present;
  const char *exp = api_v_str_or_null(&v, "expires_at", 64, &present);
  char exp_utc[32] = "";
  if (exp) {
    int64_t t;
    if (time_parse_rfc3339(exp, &t) != 0)
      api_v_fail(&v, "expires_at", "expires_at must be an RFC 3339 date-time, e.g. 2026-12-31T23:59:59Z");
    else
      time_format_utc(t, exp_utc, sizeof exp_utc);
  }
  if (v.failed) return api_v_respond(&v);
  /* cal_ + 64 hex characters: 32 bytes from the kernel CSPRNG. */
  char *key = arena_alloc(req->arena, sizeof KEY_PREFIX + 64);
  memcpy(key, KEY_PREFIX, sizeof KEY_PREFIX - 1);
  crypto_token_hex(32, key + sizeof KEY_PREFIX - 1);
  api_ctx(req)->flow = key;
  char hash[65], prefix[16], last4[8];
  crypto_sha256_hex(key, strlen(key), hash);
  snprintf(prefix, sizeof prefix, "%.8s", key);
  snprintf(last4, sizeof last4, "%s", key + strlen(key) - 4);
  const char *params[API_KEYS_MAX_LEAD + 5];
  for (int i = 0; i < nlead; i++) params[i] = lead[i];
  params[nlead] = label;
  params[nlead + 1] = hash;
  params[nlead + 2] = prefix;
  params[nlead + 3] = last4;
  params[nlead + 4] = exp ? exp_utc : NULL;
  api_query(req, stmt, nlead + 5, params, on_created);
  return 0;
}

int api_keys_create(http_req_t *req) {
  const char *lead[1] = {api_ctx(req)->user_id_str};
  return api_keys_create_with(req, "api_key_create", 1, lead);
}

static void on_list(void *data, const db_result_t *r) { api_respond_db(data, r, 200); }

int api_keys_list(http_req_t *req) {
  const char *params[1] = {api_ctx(req)->user_id_str};
  api_query(req, "api_keys_list", 1, params, on_list);
  return 0;
}

static void on_revoked(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  api_authn_forget_user(api_app(req), api_ctx(req)->user_id);
  api_respond_body(req, 200, "{\"ok\":true}", 11);
}

int api_keys_revoke(http_req_t *req) {
  const char *id = api_id_param(req, "id", "API key not found");
  if (!id) return 0;
  const char *params[2] = {api_ctx(req)->user_id_str, id};
  api_query(req, "api_key_revoke", 2, params, on_revoked);
  return 0;
}
