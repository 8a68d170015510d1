/* calcom_webhooks.c — Cal.com API v2 (issue 16): webhooks, event-type webhooks (a user's own
 * event types, and an organisation's under /v2/teams/:teamId, a Cal.com team being a slotd
 * organisation), GET/PATCH /v2/me and POST /v2/api-keys/refresh.
 *
 * A Cal.com webhook is a native subscription in Cal.com's format (migration 0020): the native
 * fan-out picks it, a trigger on webhook_deliveries writes Cal.com's body, and the webhook
 * channel signs it with X-Cal-Signature-256 -- the same outbox, retries and delivery log as
 * every webhook. Here: validation in Cal.com's terms, the subscriber URL checked exactly as the
 * native API checks it (webhooks_check_url), and the api.calcom_* statements. */
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../app.h"
#include "../../core/crypto.h"
#include "../../core/timeutil.h"
#include "../../sched/tzif.h"
#include "../authn.h"
#include "../query.h"
#include "../validate.h"
#include "../webhooks.h"
#include "calcom.h"

/* clang-format off */
#define CALCOM_ORG(fn) api_dispatch, 0, &(const api_handler_t){fn, API_AUTH | API_ORG, &calcom_dialect}
/* clang-format on */

/* ------------------------------------------------------------------ answers */

static void answer(http_req_t *req, const db_result_t *r, int status) {
  if (api_db_failed(req, r)) return;
  if (PQntuples(r->res) != 1 || PQgetisnull(r->res, 0, 0)) {
    calcom_fail(req, 401, "authentication required", NULL); /* the caller's row is gone */
    return;
  }
  calcom_ok_text(req, status, PQgetvalue(r->res, 0, 0), (size_t)PQgetlength(r->res, 0, 0));
}
static void on_ok(void *data, const db_result_t *r) { answer(data, r, 200); }
static void on_created(void *data, const db_result_t *r) { answer(data, r, 201); }

/* ------------------------------------------------------------------ scope */

enum { SCOPE_USER, SCOPE_EVENT_TYPE, SCOPE_TEAM };

/* The leading (user, org, key_org, event type) of every webhook statement. */
typedef struct {
  const char *p[4];
} scope_t;

static int scope_of(http_req_t *req, int kind, scope_t *sc) {
  memset(sc, 0, sizeof *sc);
  sc->p[0] = api_ctx(req)->user_id_str;
  if (kind == SCOPE_TEAM) {
    if (!(sc->p[1] = api_id_param(req, "teamId", "team not found"))) return -1;
    sc->p[2] = api_key_org(req);
  }
  if (kind != SCOPE_USER && !(sc->p[3] = api_id_param(req, "eventTypeId", "event type not found"))) return -1;
  return 0;
}

static void scoped(http_req_t *req, const scope_t *sc, const char *stmt, int n, const char *const *rest, db_cb cb) {
  const char *params[10];
  memcpy(params, sc->p, sizeof sc->p);
  for (int i = 0; i < n && i < 6; i++) params[4 + i] = rest[i];
  api_query(req, stmt, 4 + n, params, cb);
}

/* ------------------------------------------------------------------ input */

/* Cal.com's WebhookTriggerEvents: the booking triggers slotd emits, then the ones about things
 * slotd does not have (video meetings and recordings, routing forms, out-of-office entries,
 * delegation credentials), refused by name. */
static const char *const supported[] = {"BOOKING_CREATED",     "BOOKING_PAYMENT_INITIATED", "BOOKING_PAID",
                                        "BOOKING_RESCHEDULED", "BOOKING_REQUESTED",         "BOOKING_CANCELLED",
                                        "BOOKING_REJECTED",    "BOOKING_NO_SHOW_UPDATED",   NULL};
static const char *const unsupported[] = {"FORM_SUBMITTED",
                                          "MEETING_ENDED",
                                          "MEETING_STARTED",
                                          "RECORDING_READY",
                                          "INSTANT_MEETING",
                                          "RECORDING_TRANSCRIPTION_GENERATED",
                                          "OOO_CREATED",
                                          "AFTER_HOSTS_CAL_VIDEO_NO_SHOW",
                                          "AFTER_GUESTS_CAL_VIDEO_NO_SHOW",
                                          "FORM_SUBMITTED_NO_EVENT",
                                          "DELEGATION_CREDENTIAL_ERROR",
                                          "WRONG_ASSIGNMENT_REPORT",
                                          NULL};

static int in_list(const char *const *list, const char *s) {
  for (int i = 0; list[i]; i++)
    if (strcmp(list[i], s) == 0) return 1;
  return 0;
}

/* triggers: an array of trigger names -> a Postgres array literal (repeats dropped, order kept)
 * and, in *json, the same as a JSON array; NULL after failing v. */
static char *check_triggers(api_v_t *v, json_t *arr, arena_t *arena, json_t **json) {
  if (!json_is_array(arr)) {
    api_v_fail(v, "triggers", "triggers must be an array of trigger names");
    return NULL;
  }
  buf_t lit = BUF_INIT, names = BUF_INIT;
  buf_putc(&lit, '{');
  json_t *out = json_array();
  size_t i;
  json_t *e;
  json_array_foreach(arr, i, e) {
    const char *name = json_string_value(e);
    if (!name || !(in_list(supported, name) || in_list(unsupported, name))) {
      for (int k = 0; supported[k]; k++) buf_printf(&names, "%s, ", supported[k]);
      for (int k = 0; unsupported[k]; k++) buf_printf(&names, "%s%s", k ? ", " : "", unsupported[k]);
      api_v_fail(v, "triggers", "each value in triggers must be one of the following values: %s", names.data);
      goto fail;
    }
    if (!in_list(supported, name)) {
      for (int k = 0; supported[k]; k++) buf_printf(&names, "%s%s", k ? ", " : "", supported[k]);
      api_v_fail(v, "triggers",
                 "trigger %s is not supported: slotd has no video meetings, recordings, routing forms, "
                 "out-of-office entries or delegation credentials; supported triggers: %s",
                 name, names.data);
      goto fail;
    }
    int seen = 0;
    for (size_t j = 0; j < json_array_size(out); j++)
      seen |= strcmp(json_string_value(json_array_get(out, j)), name) == 0;
    if (seen) continue;
    buf_printf(&lit, "%s%s", json_array_size(out) ? "," : "", name); /* known names need no quoting */
    json_array_append_new(out, json_string(name));
  }
  buf_putc(&lit, '}');
  char *s = arena_strdup(arena, lit.data);
  buf_free(&lit);
  *json = out;
  return s;
fail:
  buf_free(&lit);
  buf_free(&names);
  json_decref(out);
  return NULL;
}

/* payloadTemplate: Cal.com renders it with handlebars; slotd renders its substitutions,
 * {{path}} and {{{path}}} with dotted paths (organizer.name, attendees.0.name), and refuses
 * anything else handlebars would read as a helper, block, partial or comment rather than
 * send it wrong. */
static void check_template(api_v_t *v, const char *t) {
  const char *p = t;
  while ((p = strstr(p, "{{"))) {
    int triple = p[2] == '{';
    const char *start = p + (triple ? 3 : 2);
    const char *end = strstr(start, triple ? "}}}" : "}}");
    if (!end) {
      api_v_fail(v, "payloadTemplate", "payloadTemplate has a {{ without its closing braces");
      return;
    }
    while (start < end && *start == ' ') start++;
    const char *last = end;
    while (last > start && last[-1] == ' ') last--;
    int ok = last > start;
    for (const char *c = start; ok && c < last; c++)
      ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ||
           (*c == '.' && c > start && c + 1 < last && c[-1] != '.');
    if (!ok) {
      api_v_fail(v, "payloadTemplate",
                 "payloadTemplate: only {{field}} and {{{field}}} substitutions of the payload's fields "
                 "(dotted paths such as organizer.name or attendees.0.name) are supported, not \"%.*s\"",
                 (int)(end - p + (triple ? 3 : 2) > 60 ? 60 : end - p + (triple ? 3 : 2)), p);
      return;
    }
    p = end + (triple ? 3 : 2);
  }
}

/* CreateWebhookInputDto / UpdateWebhookInputDto into a patch of the given fields; required says
 * which are required (create). */
static json_t *webhook_input(http_req_t *req, api_v_t *v, int required) {
  json_t *body = api_ctx(req)->body, *p = json_object();
  api_v_init(v, req, body);
  if (!required) {
    api_v_not_null(v, "subscriberUrl");
    api_v_not_null(v, "triggers");
    api_v_not_null(v, "active");
  }
  int active;
  if (api_v_bool(v, "active", &active)) json_object_set_new(p, "active", json_boolean(active));
  else if (required && !v->failed) api_v_fail(v, "active", "active must be a boolean value");
  const char *url = api_v_str(v, "subscriberUrl", required, 1, 2048);
  if (url) {
    webhooks_check_url(v, "subscriberUrl", url);
    json_object_set_new(p, "subscriberUrl", json_string(url));
  }
  json_t *triggers = json_object_get(body, "triggers");
  if (!v->failed && (triggers || required)) {
    json_t *names = NULL;
    char *lit = check_triggers(v, triggers, req->arena, &names);
    if (lit) {
      json_object_set_new(p, "triggers", names);
      json_object_set_new(p, "_lit", json_string(lit));
    }
  }
  int present;
  const char *tpl = api_v_str_or_null(v, "payloadTemplate", 10000, &present);
  if (tpl) check_template(v, tpl);
  if (present) json_object_set_new(p, "payloadTemplate", tpl ? json_string(tpl) : json_null());
  /* secret: null is no secret (class-validator's IsOptional lets null through; on an update
   * Cal.com then stores null): deliveries say no-secret-provided. */
  const char *secret = api_v_str_or_null(v, "secret", 256, &present);
  if (secret && !*secret) api_v_fail(v, "secret", "secret must not be empty");
  else if (present) json_object_set_new(p, "secret", json_string(secret ? secret : ""));
  const char *version = api_v_str_or_null(v, "version", 32, &present);
  if (version && strcmp(version, "2021-10-20") != 0)
    api_v_fail(v, "version", "version must be one of the following values: 2021-10-20");
  return p;
}

/* ------------------------------------------------------------------ webhooks */

static int take_skip(http_req_t *req, const char **take, const char **skip) {
  static const struct {
    const char *name;
    long long min, max;
    const char *dflt;
  } q[2] = {{"take", 1, 250, "250"}, {"skip", 0, 1000000000, "0"}};
  const char **out[2] = {take, skip};
  for (int i = 0; i < 2; i++) {
    const char *s = api_query_param(req, q[i].name);
    *out[i] = q[i].dflt;
    if (!s) continue;
    char *end;
    long long n = strtoll(s, &end, 10);
    if (!*s || *end || n < q[i].min || n > q[i].max) {
      char msg[96];
      snprintf(msg, sizeof msg, "%s must be an integer from %lld to %lld", q[i].name, q[i].min, q[i].max);
      calcom_fail(req, 400, msg, q[i].name);
      return -1;
    }
    *out[i] = s;
  }
  return 0;
}

static int list(http_req_t *req, int kind) {
  scope_t sc;
  const char *take, *skip;
  if (scope_of(req, kind, &sc) || take_skip(req, &take, &skip)) return 0;
  const char *rest[2] = {take, skip};
  scoped(req, &sc, "calcom_webhooks_list", 2, rest, on_ok);
  return 0;
}

static int create(http_req_t *req, int kind) {
  scope_t sc;
  if (scope_of(req, kind, &sc) || api_body_object(req)) return 0;
  api_v_t v;
  json_t *p = webhook_input(req, &v, 1);
  if (v.failed) {
    json_decref(p);
    return api_v_respond(&v);
  }
  json_t *tpl = json_object_get(p, "payloadTemplate"), *secret = json_object_get(p, "secret");
  const char *rest[5] = {json_string_value(json_object_get(p, "subscriberUrl")),
                         json_string_value(json_object_get(p, "_lit")), secret ? json_string_value(secret) : NULL,
                         json_string_value(tpl), json_is_true(json_object_get(p, "active")) ? "t" : "f"};
  http_set_header(req, "Cache-Control", "no-store");
  scoped(req, &sc, "calcom_webhook_create", 5, rest, on_created);
  json_decref(p);
  return 0;
}

static int get(http_req_t *req, int kind) {
  scope_t sc;
  if (scope_of(req, kind, &sc)) return 0;
  const char *id = api_id_param(req, "webhookId", "webhook not found");
  if (!id) return 0;
  scoped(req, &sc, "calcom_webhook_get", 1, &id, on_ok);
  return 0;
}

static int update(http_req_t *req, int kind) {
  scope_t sc;
  if (scope_of(req, kind, &sc)) return 0;
  const char *id = api_id_param(req, "webhookId", "webhook not found");
  if (!id || api_body_object(req)) return 0;
  api_v_t v;
  json_t *p = webhook_input(req, &v, 0);
  if (v.failed) {
    json_decref(p);
    return api_v_respond(&v);
  }
  json_object_del(p, "_lit");
  char *text = json_dumps(p, JSON_COMPACT);
  json_decref(p);
  const char *rest[2] = {id, text};
  http_set_header(req, "Cache-Control", "no-store");
  scoped(req, &sc, "calcom_webhook_update", 2, rest, on_ok);
  free(text);
  return 0;
}

static int drop(http_req_t *req, int kind) {
  scope_t sc;
  if (scope_of(req, kind, &sc)) return 0;
  const char *id = api_id_param(req, "webhookId", "webhook not found");
  if (!id) return 0;
  scoped(req, &sc, "calcom_webhook_delete", 1, &id, on_ok);
  return 0;
}

static int delete_all(http_req_t *req, int kind) {
  scope_t sc;
  if (scope_of(req, kind, &sc)) return 0;
  scoped(req, &sc, "calcom_webhooks_delete_all", 0, NULL, on_ok);
  return 0;
}

#define EACH_SCOPE(op)                                                      \
  static int user_##op(http_req_t *req) { return op(req, SCOPE_USER); }     \
  static int et_##op(http_req_t *req) { return op(req, SCOPE_EVENT_TYPE); } \
  static int team_##op(http_req_t *req) { return op(req, SCOPE_TEAM); }
EACH_SCOPE(list)
EACH_SCOPE(create)
EACH_SCOPE(get)
EACH_SCOPE(update)
EACH_SCOPE(drop)
static int et_delete_all(http_req_t *req) { return delete_all(req, SCOPE_EVENT_TYPE); }
static int team_delete_all(http_req_t *req) { return delete_all(req, SCOPE_TEAM); }

/* ------------------------------------------------------------------ /v2/me */

static int me_get(http_req_t *req) {
  const char *params[1] = {api_ctx(req)->user_id_str};
  api_query(req, "calcom_me", 1, params, on_ok);
  return 0;
}

static const char *const week_days[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday",    NULL};
static const char *const locales[] = {"ar", "ca", "de", "es", "eu",    "he",    "id",     "ja", "lv",    "pl", "ro",
                                      "sr", "th", "vi", "az", "cs",    "el",    "es-419", "fi", "hr",    "it", "km",
                                      "nl", "pt", "ru", "sv", "tr",    "zh-CN", "bg",     "da", "en",    "et", "fr",
                                      "hu", "iw", "ko", "no", "pt-BR", "sk",    "ta",     "uk", "zh-TW", "bn", NULL};

/* metadata: at most 50 keys of up to 40 characters, values up to 500 (Cal.com's limits). */
static void check_metadata(api_v_t *v, json_t *m) {
  if (!json_is_object(m) || json_object_size(m) > 50) {
    api_v_fail(v, "metadata", "metadata must be an object of at most 50 keys");
    return;
  }
  const char *k;
  json_t *x;
  json_object_foreach(m, k, x) {
    int long_value = json_is_string(x) && json_string_length(x) > 500;
    if (strlen(k) > 40 || long_value || json_is_object(x) || json_is_array(x)) {
      api_v_fail(v, "metadata",
                 "metadata keys must have at most 40 characters and values must be strings of at most 500 "
                 "characters, numbers or booleans");
      return;
    }
  }
}

static int me_update(http_req_t *req) {
  if (api_body_object(req)) return 0;
  json_t *body = api_ctx(req)->body, *p = json_object();
  api_v_t v;
  api_v_init(&v, req, body);
  static const char *const not_null[] = {
      "email", "name", "timeFormat", "defaultScheduleId", "weekStart", "timeZone", "locale", "metadata", NULL};
  for (int i = 0; not_null[i]; i++) api_v_not_null(&v, not_null[i]);
  const char *email = api_v_str(&v, "email", 0, 3, 254);
  if (email && !api_valid_email(email)) api_v_fail(&v, "email", "email must be an email");
  else if (email) json_object_set_new(p, "email", json_string(email));
  const char *name = api_v_line(&v, "name", 0, 1, 100);
  if (name) json_object_set_new(p, "name", json_string(name));
  long long n;
  if (api_v_int(&v, "timeFormat", 12, 24, 0, NULL, &n)) {
    if (n != 12 && n != 24) api_v_fail(&v, "timeFormat", "timeFormat must be 12 or 24");
    json_object_set_new(p, "timeFormat", json_integer(n));
  }
  if (api_v_int(&v, "defaultScheduleId", 1, 999999999999999999LL, 0, NULL, &n))
    json_object_set_new(p, "defaultScheduleId", json_integer(n));
  const char *week = api_v_str(&v, "weekStart", 0, 1, 16);
  if (week && !in_list(week_days, week))
    api_v_fail(&v, "weekStart",
               "weekStart must be one of the following values: Monday, Tuesday, Wednesday, "
               "Thursday, Friday, Saturday, Sunday");
  else if (week) json_object_set_new(p, "weekStart", json_string(week));
  const char *tz = api_v_str(&v, "timeZone", 0, 1, 64);
  if (tz && !tz_get(tz)) api_v_fail(&v, "timeZone", "timeZone must be a valid IANA time zone");
  else if (tz) json_object_set_new(p, "timeZone", json_string(tz));
  const char *locale = api_v_str(&v, "locale", 0, 1, 8);
  if (locale && !in_list(locales, locale)) api_v_fail(&v, "locale", "locale must be one of Cal.com's locales");
  else if (locale) json_object_set_new(p, "locale", json_string(locale));
  int present;
  const char *avatar = api_v_str_or_null(&v, "avatarUrl", 2048, &present);
  if (avatar && !api_valid_http_url(avatar)) api_v_fail(&v, "avatarUrl", "avatarUrl must be an http(s) URL");
  else if (present) json_object_set_new(p, "avatarUrl", avatar ? json_string(avatar) : json_null());
  const char *bio = api_v_str_or_null(&v, "bio", 1000, &present);
  if (present) json_object_set_new(p, "bio", bio ? json_string(bio) : json_null());
  json_t *meta = json_object_get(body, "metadata");
  if (meta && !v.failed) {
    check_metadata(&v, meta);
    json_object_set(p, "metadata", meta);
  }
  return api_save_patch(req, &v, p, "calcom_update_me", 0, NULL, on_ok);
}

/* ------------------------------------------------------------------ /v2/api-keys/refresh */

#define KEY_PREFIX "cal_"

static void on_refreshed(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  api_authn_forget_user(api_app(req), api_ctx(req)->user_id); /* the old key is revoked: not cached here */
  json_t *d = json_pack("{s:s}", "apiKey", (const char *)api_ctx(req)->flow);
  http_set_header(req, "Cache-Control", "no-store");
  calcom_ok(req, 200, d);
}

static int key_refresh(http_req_t *req) {
  api_ctx_t *ctx = api_ctx(req);
  if (ctx->auth_kind != AUTH_API_KEY) {
    calcom_fail(req, 401, "pass the API key to refresh as Authorization: Bearer <key>", NULL);
    return 0;
  }
  json_t *body = NULL;
  if (req->body.len > 0) {
    if (api_body_object(req)) return 0;
    body = ctx->body;
  }
  api_v_t v;
  api_v_init(&v, req, body);
  long long days = 30;
  int never = 0;
  if (body) {
    api_v_not_null(&v, "apiKeyDaysValid");
    api_v_int(&v, "apiKeyDaysValid", 1, 36500, 0, NULL, &days);
    api_v_bool(&v, "apiKeyNeverExpires", &never);
  }
  if (v.failed) return api_v_respond(&v);
  char expires[48] = "";
  if (!never) time_format_utc((int64_t)time(NULL) + days * 86400, expires, sizeof expires);
  /* cal_ + 64 hex characters from the kernel CSPRNG, as every slotd key (api_keys.c). */
  char *key = arena_alloc(req->arena, sizeof KEY_PREFIX + 64);
  memcpy(key, KEY_PREFIX, sizeof KEY_PREFIX - 1);
  crypto_token_hex(32, key + sizeof KEY_PREFIX - 1);
  ctx->flow = key;
  char hash[65], prefix[16], last4[8], key_id[24];
  crypto_sha256_hex(key, strlen(key), hash);
  snprintf(prefix, sizeof prefix, "%.8s", key);
  snprintf(last4, sizeof last4, "%s", key + strlen(key) - 4);
  snprintf(key_id, sizeof key_id, "%lld", (long long)ctx->api_key_id);
  const char *params[6] = {ctx->user_id_str, key_id, hash, prefix, last4, never ? NULL : expires};
  api_query(req, "calcom_api_key_refresh", 6, params, on_refreshed);
  return 0;
}

/* ------------------------------------------------------------------ module */

#define ET "/v2/event-types/:eventTypeId/webhooks"
#define TEAM_ET "/v2/teams/:teamId/event-types/:eventTypeId/webhooks"

static const http_route_t routes[] = {
    {M(HTTP_GET), "/v2/webhooks", CALCOM_AUTH(user_list)},
    {M(HTTP_POST), "/v2/webhooks", CALCOM_AUTH(user_create)},
    {M(HTTP_GET), "/v2/webhooks/:webhookId", CALCOM_AUTH(user_get)},
    {M(HTTP_PATCH), "/v2/webhooks/:webhookId", CALCOM_AUTH(user_update)},
    {M(HTTP_DELETE), "/v2/webhooks/:webhookId", CALCOM_AUTH(user_drop)},
    {M(HTTP_GET), ET, CALCOM_AUTH(et_list)},
    {M(HTTP_POST), ET, CALCOM_AUTH(et_create)},
    {M(HTTP_DELETE), ET, CALCOM_AUTH(et_delete_all)},
    {M(HTTP_GET), ET "/:webhookId", CALCOM_AUTH(et_get)},
    {M(HTTP_PATCH), ET "/:webhookId", CALCOM_AUTH(et_update)},
    {M(HTTP_DELETE), ET "/:webhookId", CALCOM_AUTH(et_drop)},
    {M(HTTP_GET), TEAM_ET, CALCOM_ORG(team_list)},
    {M(HTTP_POST), TEAM_ET, CALCOM_ORG(team_create)},
    {M(HTTP_DELETE), TEAM_ET, CALCOM_ORG(team_delete_all)},
    {M(HTTP_GET), TEAM_ET "/:webhookId", CALCOM_ORG(team_get)},
    {M(HTTP_PATCH), TEAM_ET "/:webhookId", CALCOM_ORG(team_update)},
    {M(HTTP_DELETE), TEAM_ET "/:webhookId", CALCOM_ORG(team_drop)},
    {M(HTTP_GET), "/v2/me", CALCOM_AUTH(me_get)},
    {M(HTTP_PATCH), "/v2/me", CALCOM_AUTH(me_update)},
    {M(HTTP_POST), "/v2/api-keys/refresh", CALCOM_AUTH(key_refresh)},
};

/* Webhook statements take (user, org, key_org, event type) first: see api.calcom_webhook_scope. */
static const api_stmt_t statements[] = {
    {"calcom_webhooks_list", "SELECT api.calcom_webhooks_list($1, $2, $3, $4, $5, $6)", 0},
    {"calcom_webhook_get", "SELECT api.calcom_webhook_get($1, $2, $3, $4, $5)", 0},
    {"calcom_webhook_create", "SELECT api.calcom_webhook_create($1, $2, $3, $4, $5, $6, $7, $8, $9)", 1},
    {"calcom_webhook_update", "SELECT api.calcom_webhook_update($1, $2, $3, $4, $5, $6)", 1},
    {"calcom_webhook_delete", "SELECT api.calcom_webhook_delete($1, $2, $3, $4, $5)", 1},
    {"calcom_webhooks_delete_all", "SELECT api.calcom_webhooks_delete_all($1, $2, $3, $4)", 1},
    {"calcom_me", "SELECT api.calcom_me($1)", 0},
    {"calcom_update_me", "SELECT api.calcom_update_me($1, $2)", 1},
    {"calcom_api_key_refresh", "SELECT api.calcom_api_key_refresh($1, $2, $3, $4, $5, $6)", 1},
    {NULL, NULL, 0},
};

static void register_statements(void) { api_register_statements(statements); }

const app_module_t api_calcom_webhooks_module = {"calcom-webhooks", routes, (int)(sizeof routes / sizeof routes[0]),
                                                 register_statements};
