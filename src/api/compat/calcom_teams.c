/* calcom_teams.c — Cal.com API v2 teams, memberships, team event types and team schedules
 * (issue 16) on slotd's organisations: a Cal.com team is an org (teamId = org id, its slug the
 * org slug), a membership an org member (membershipId = the member's user id), a team event
 * type an org event type. C checks the request's shape; every access rule and write is the
 * native api.org_* SQL, reached through the api.calcom_team_* functions of
 * 0021_calcom_teams.sql, so strangers get 404 and members 403 exactly as on /api/orgs.
 *
 * These routes take org API keys too (API_ORG: a key acts as an admin of its own org), except
 * POST /v2/teams, which makes its caller the new team's owner and so needs a person. */
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../app.h"
#include "../../sched/tzif.h"
#include "../authn.h"
#include "../ctx.h"
#include "../orgs.h"
#include "../query.h"
#include "../validate.h"
#include "calcom.h"

#define CALCOM_ORG(fn) api_dispatch, 0, &(const api_handler_t){fn, API_AUTH | API_ORG, &calcom_dialect}

#define TEAM_NAME_MAX 200
#define TEXT_MAX 2000
#define META_KEYS_MAX 50
#define META_KEY_MAX 40
#define META_VALUE_MAX 500
#define EMAILS_MAX 20

/* ------------------------------------------------------------------ shared */

static void on_write(http_req_t *req, const db_result_t *r, int status) {
  api_write_t w;
  if (api_db_write(req, r, &w) != 0) return;
  calcom_ok_text(req, status, w.body, w.len);
}
static void on_ok(void *data, const db_result_t *r) { on_write(data, r, 200); }
static void on_created(void *data, const db_result_t *r) { on_write(data, r, 201); }

/* The route's :team_id as the org statements' leading parameters; -1 after a 404. */
static int team_params(http_req_t *req, org_params_t *op) {
  op->org = api_id_param(req, "team_id", "team not found");
  op->user = api_ctx(req)->user_id_str;
  op->key_org = api_key_org(req);
  return op->org ? 0 : -1;
}

/* Cal.com's metadata: an object of at most 50 keys of at most 40 characters, each value a
 * string of at most 500 characters, a number or a boolean. */
static void check_metadata(api_v_t *v, json_t *into) {
  json_t *m = json_object_get(v->obj, "metadata");
  if (!m) return;
  if (!json_is_object(m) || json_object_size(m) > META_KEYS_MAX) {
    api_v_fail(v, "metadata", "metadata must be an object of at most %d keys", META_KEYS_MAX);
    return;
  }
  const char *k;
  json_t *x;
  json_object_foreach(m, k, x) {
    if (strlen(k) > META_KEY_MAX) {
      api_v_fail(v, "metadata", "metadata keys must be at most %d characters", META_KEY_MAX);
      return;
    }
    if (json_is_string(x) ? json_string_length(x) > META_VALUE_MAX : !(json_is_number(x) || json_is_boolean(x))) {
      api_v_fail(v, "metadata", "metadata values must be strings of at most %d characters, numbers or booleans",
                 META_VALUE_MAX);
      return;
    }
  }
  json_object_set(into, "metadata", m);
}

/* Cal.com's inputs here declare no nullable field: a JSON null is refused, never read as absent. */
static void no_nulls(api_v_t *v) {
  const char *k;
  json_t *x;
  json_object_foreach(v->obj, k, x) {
    if (json_is_null(x)) {
      api_v_fail(v, k, "%s must not be null", k);
      return;
    }
  }
}

/* ------------------------------------------------------------------ teams */

static const char *const WEEKDAYS[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                                       NULL};

static int one_of(const char *s, const char *const *set) {
  for (; *set; set++)
    if (strcmp(s, *set) == 0) return 1;
  return 0;
}

/* CreateTeamInput / UpdateOrgTeamDto into p: name, slug and timezone for the native org, the
 * rest (stored and returned) under calcom. */
static json_t *team_patch(http_req_t *req, api_v_t *v, int create) {
  api_v_init(v, req, api_ctx(req)->body);
  json_t *p = json_object(), *cc = json_object();
  const char *s;
  int b;
  no_nulls(v); /* none of Cal.com's team fields is nullable */
  if ((s = api_v_line(v, "name", create, 1, TEAM_NAME_MAX))) json_object_set_new(p, "name", json_string(s));
  if ((s = api_v_str(v, "slug", 0, 1, 60))) {
    if (!api_valid_slug(s)) api_v_fail(v, "slug", "slug must be 1-60 lower-case letters, digits and inner hyphens");
    json_object_set_new(p, "slug", json_string(s));
  }
  if ((s = api_v_str(v, "timeZone", 0, 1, 64))) {
    if (!tz_get(s)) api_v_fail(v, "timeZone", "timeZone must be an IANA time zone name");
    json_object_set_new(p, "timezone", json_string(s));
  }
  if ((s = api_v_str(v, "weekStart", 0, 1, 16))) {
    if (!one_of(s, WEEKDAYS)) api_v_fail(v, "weekStart", "weekStart must be a day of the week, e.g. Monday");
    json_object_set_new(cc, "weekStart", json_string(s));
  }
  static const char *const texts[] = {"logoUrl", "calVideoLogo", "appLogo", "appIconLogo", "bannerUrl", "bio",
                                      "theme",   "brandColor",   "darkBrandColor", NULL};
  for (const char *const *f = texts; *f; f++)
    if ((s = api_v_str(v, *f, 0, 0, TEXT_MAX))) json_object_set_new(cc, *f, json_string(s));
  static const char *const flags[] = {"hideBranding", "isPrivate", "hideBookATeamMember", NULL};
  for (const char *const *f = flags; *f; f++)
    if (api_v_bool(v, *f, &b)) json_object_set_new(cc, *f, json_boolean(b));
  long long n;
  if (api_v_int(v, "timeFormat", 12, 24, 0, NULL, &n)) {
    if (n != 12 && n != 24) api_v_fail(v, "timeFormat", "timeFormat must be 12 or 24");
    json_object_set_new(cc, "timeFormat", json_integer(n));
  }
  check_metadata(v, cc);
  if (create) {
    if (api_v_bool(v, "autoAcceptCreator", &b)) json_object_set_new(p, "autoAcceptCreator", json_boolean(b));
  } else {
    if ((s = api_v_str(v, "bookingLimits", 0, 0, TEXT_MAX))) json_object_set_new(cc, "bookingLimits", json_string(s));
    if (api_v_bool(v, "includeManagedEventsInLimits", &b))
      json_object_set_new(cc, "includeManagedEventsInLimits", json_boolean(b));
  }
  json_object_set_new(p, "calcom", cc);
  return p;
}

static int teams_list(http_req_t *req) {
  const char *params[2] = {api_ctx(req)->user_id_str, api_key_org(req)};
  api_query(req, "calcom_teams_list", 2, params, on_ok);
  return 0;
}

static int teams_create(http_req_t *req) {
  if (api_body_object(req)) return 0;
  api_v_t v;
  json_t *p = team_patch(req, &v, 1);
  if (v.failed) {
    json_decref(p);
    return api_v_respond(&v);
  }
  char base[64];
  api_slugify(json_string_value(json_object_get(p, "name")), base, sizeof base);
  if (strcmp(base, "user") == 0) strcpy(base, "team"); /* api_slugify's word for "nothing usable" */
  char *text = json_dumps(p, JSON_COMPACT);
  json_decref(p);
  const char *params[3] = {api_ctx(req)->user_id_str, text, base};
  api_query(req, "calcom_team_create", 3, params, on_created);
  free(text);
  return 0;
}

static int teams_get(http_req_t *req) {
  org_params_t op;
  if (team_params(req, &op)) return 0;
  org_query(req, "calcom_team_get", &op, 0, NULL, on_ok);
  return 0;
}

static int teams_update(http_req_t *req) {
  org_params_t op;
  if (team_params(req, &op) || api_body_object(req)) return 0;
  api_v_t v;
  json_t *p = team_patch(req, &v, 0);
  return org_save_patch(req, &v, p, "calcom_team_update", &op, 0, NULL, on_ok);
}

/* A team gone: its org's keys stop working on this instance before the answer leaves (NOTIFY
 * tells the others), as for DELETE /api/orgs/:id. */
static void on_team_deleted(void *data, const db_result_t *r) {
  http_req_t *req = data;
  api_write_t w;
  if (api_db_write(req, r, &w) != 0) return;
  api_authn_forget_org(api_app(req), strtoll(api_ctx(req)->flow, NULL, 10));
  calcom_ok_text(req, 200, w.body, w.len);
}

static int teams_delete(http_req_t *req) {
  org_params_t op;
  if (team_params(req, &op)) return 0;
  api_ctx(req)->flow = (void *)op.org;
  org_query(req, "calcom_team_delete", &op, 0, NULL, on_team_deleted);
  return 0;
}

/* ------------------------------------------------------------------ memberships */

/* role MEMBER|ADMIN|OWNER -> the native lower-case role in p. */
static void check_role(api_v_t *v, json_t *p) {
  const char *s = api_v_str(v, "role", 0, 1, 16);
  if (!s) return;
  if (strcmp(s, "MEMBER") == 0) json_object_set_new(p, "role", json_string("member"));
  else if (strcmp(s, "ADMIN") == 0) json_object_set_new(p, "role", json_string("admin"));
  else if (strcmp(s, "OWNER") == 0) json_object_set_new(p, "role", json_string("owner"));
  else api_v_fail(v, "role", "role must be MEMBER, ADMIN or OWNER");
}

static void check_flags(api_v_t *v, json_t *p) {
  int b;
  if (api_v_bool(v, "accepted", &b)) json_object_set_new(p, "accepted", json_boolean(b));
  if (api_v_bool(v, "disableImpersonation", &b)) json_object_set_new(p, "disableImpersonation", json_boolean(b));
}

/* A whole-number query parameter in [min, max] (def when absent): 0, or -1 after a 400. */
static int query_int(http_req_t *req, const char *name, long long min, long long max, long long def, char out[24]) {
  const char *s = api_query_param(req, name);
  long long n = def;
  if (s) {
    char *end;
    n = strtoll(s, &end, 10);
    if (!*s || *end || n < min || n > max || strlen(s) > 12) {
      char msg[120];
      snprintf(msg, sizeof msg, "%s must be a whole number from %lld to %lld", name, min, max);
      calcom_fail(req, 400, msg, name);
      return -1;
    }
  }
  snprintf(out, 24, "%lld", n);
  return 0;
}

static int memberships_list(http_req_t *req) {
  org_params_t op;
  if (team_params(req, &op)) return 0;
  char take[24], skip[24];
  if (query_int(req, "take", 1, 250, 250, take) || query_int(req, "skip", 0, 1000000000, 0, skip)) return 0;
  const char *emails = api_query_param(req, "emails");
  char *filter = NULL;
  if (emails) {
    /* a comma-separated list (Cal.com's example), each folded as accounts store them */
    json_t *arr = json_array();
    char *copy = arena_strdup(req->arena, emails), *save = NULL;
    for (char *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
      while (*e == ' ') e++;
      if (!*e) continue;
      if (json_array_size(arr) == EMAILS_MAX || !api_valid_email(e)) {
        json_decref(arr);
        calcom_fail(req, 400, "emails must be at most 20 comma-separated e-mail addresses", "emails");
        return 0;
      }
      api_email_fold(e);
      json_array_append_new(arr, json_string(e));
    }
    filter = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
  }
  const char *rest[3] = {take, skip, filter};
  org_query(req, "calcom_memberships_list", &op, 3, rest, on_ok);
  free(filter);
  return 0;
}

static int memberships_create(http_req_t *req) {
  org_params_t op;
  if (team_params(req, &op) || api_body_object(req)) return 0;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  json_t *p = json_object();
  no_nulls(&v);
  long long uid;
  if (api_v_int(&v, "userId", 1, INT64_MAX / 2, 0, NULL, &uid)) json_object_set_new(p, "userId", json_integer(uid));
  else if (!v.failed) api_v_fail(&v, "userId", "userId is required");
  check_role(&v, p);
  check_flags(&v, p);
  return org_save_patch(req, &v, p, "calcom_membership_add", &op, 0, NULL, on_created);
}

/* :team_id and :membership_id; NULL after a 404. */
static const char *membership_of(http_req_t *req, org_params_t *op) {
  if (team_params(req, op)) return NULL;
  return api_id_param(req, "membership_id", "membership not found");
}

static int memberships_get(http_req_t *req) {
  org_params_t op;
  const char *id = membership_of(req, &op);
  if (!id) return 0;
  const char *rest[1] = {id};
  org_query(req, "calcom_membership_get", &op, 1, rest, on_ok);
  return 0;
}

static int memberships_update(http_req_t *req) {
  org_params_t op;
  const char *id = membership_of(req, &op);
  if (!id || api_body_object(req)) return 0;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  json_t *p = json_object();
  no_nulls(&v);
  check_role(&v, p);
  check_flags(&v, p);
  const char *rest[1] = {id};
  return org_save_patch(req, &v, p, "calcom_membership_update", &op, 1, rest, on_ok);
}

static int memberships_delete(http_req_t *req) {
  org_params_t op;
  const char *id = membership_of(req, &op);
  if (!id) return 0;
  const char *rest[1] = {id};
  org_query(req, "calcom_membership_delete", &op, 1, rest, on_ok);
  return 0;
}

/* ------------------------------------------------------------------ the module */

static const http_route_t routes[] = {
    {M(HTTP_GET), "/v2/teams", CALCOM_ORG(teams_list)},
    {M(HTTP_POST), "/v2/teams", CALCOM_AUTH(teams_create)},
    {M(HTTP_GET), "/v2/teams/:team_id", CALCOM_ORG(teams_get)},
    {M(HTTP_PATCH), "/v2/teams/:team_id", CALCOM_ORG(teams_update)},
    {M(HTTP_DELETE), "/v2/teams/:team_id", CALCOM_ORG(teams_delete)},

    {M(HTTP_GET), "/v2/teams/:team_id/memberships", CALCOM_ORG(memberships_list)},
    {M(HTTP_POST), "/v2/teams/:team_id/memberships", CALCOM_ORG(memberships_create)},
    {M(HTTP_GET), "/v2/teams/:team_id/memberships/:membership_id", CALCOM_ORG(memberships_get)},
    {M(HTTP_PATCH), "/v2/teams/:team_id/memberships/:membership_id", CALCOM_ORG(memberships_update)},
    {M(HTTP_DELETE), "/v2/teams/:team_id/memberships/:membership_id", CALCOM_ORG(memberships_delete)},
};

static const api_stmt_t statements[] = {
    {"calcom_teams_list", "SELECT api.calcom_teams_list($1, $2)", 0},
    {"calcom_team_create", "SELECT api.calcom_team_create($1, $2, $3)", 1},
    {"calcom_team_get", "SELECT api.calcom_team_get($1, $2, $3)", 0},
    {"calcom_team_update", "SELECT body, host_ids, stale FROM api.calcom_team_update($1, $2, $3, $4)", 1},
    {"calcom_team_delete", "SELECT body, host_ids, stale FROM api.calcom_team_delete($1, $2, $3)", 1},
    {"calcom_memberships_list", "SELECT api.calcom_memberships_list($1, $2, $3, $4, $5, $6)", 0},
    {"calcom_membership_add", "SELECT body, host_ids, stale FROM api.calcom_membership_add($1, $2, $3, $4)", 1},
    {"calcom_membership_get", "SELECT api.calcom_membership_get($1, $2, $3, $4)", 0},
    {"calcom_membership_update",
     "SELECT body, host_ids, stale FROM api.calcom_membership_update($1, $2, $3, $4, $5)", 1},
    {"calcom_membership_delete", "SELECT body, host_ids, stale FROM api.calcom_membership_delete($1, $2, $3, $4)", 1},
    {NULL, NULL, 0},
};

static void register_statements(void) { api_register_statements(statements); }

const app_module_t api_calcom_teams_module = {"calcom-teams", routes, (int)(sizeof routes / sizeof routes[0]),
                                              register_statements};
