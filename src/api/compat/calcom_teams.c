/* calcom_teams.c — Cal.com API v2 teams, memberships, team event types and team schedules
 * (issue 16) on slotd's organisations: a Cal.com team is an org (teamId = org id, its slug the
 * org slug), a membership an org member (membershipId = the member's user id), a team event
 * type an org event type. C checks the request's shape; every access rule and write is the
 * native api.org_* SQL, reached through the api.calcom_team_* functions of
 * 0021_calcom_teams.sql, so strangers get 404 and members 403 exactly as on /api/orgs.
 *
 * These routes take org API keys too (API_ORG: a key acts as an admin of its own org), except
 * POST /v2/teams, which makes its caller the new team's owner and so needs a person.
 *
 * A team event type's body is translated into the native org event-type patch, which the native
 * event_type_fields validates (a refusal names the Cal.com field) and api.org_event_type_create/
 * update apply with their host checks; its answer is the event types area's
 * api.calcom_event_type_json plus the team fields. schedulingType roundRobin|collective =
 * round_robin|collective (managed: 400), host priority lowest..highest = the native 0-4,
 * assignAllTeamMembers = every member (and members added later) hosts it. Settings that have no
 * native field are refused by name rather than accepted and ignored. */
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../app.h"
#include "../../http/router.h"
#include "../../sched/tzif.h"
#include "../authn.h"
#include "../ctx.h"
#include "../event_types.h"
#include "../orgs.h"
#include "../query.h"
#include "../respond.h"
#include "../validate.h"
#include "calcom.h"
#include "calcom_schedules.h"

#define CALCOM_ORG(fn) \
  api_dispatch, 0, &(const api_handler_t) { fn, API_AUTH | API_ORG, &calcom_dialect }

#define TEAM_NAME_MAX 200
#define TEXT_MAX 2000
#define META_KEYS_MAX 50
#define META_KEY_MAX 40
#define META_VALUE_MAX 500
#define EMAILS_MAX 20

/* ------------------------------------------------------------------ shared */

/* Teams and memberships: the native field a refusal names, as the client sent it (team event
 * types use the event types' map, calcom_event_type_fields). */
static const calcom_field_map_t TEAM_FIELDS[] = {
    {"email", "userId"}, /* a membership is made by user id, natively by e-mail */
    {"timezone", "timeZone"},
    {NULL, NULL},
};

static void on_ok(void *data, const db_result_t *r) { calcom_respond_write(data, r, 200, TEAM_FIELDS); }
static void on_created(void *data, const db_result_t *r) { calcom_respond_write(data, r, 201, TEAM_FIELDS); }
static void et_on_ok(void *data, const db_result_t *r) { calcom_respond_write(data, r, 200, calcom_event_type_fields); }
static void et_on_created(void *data, const db_result_t *r) {
  calcom_respond_write(data, r, 201, calcom_event_type_fields);
}

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

static const char *const WEEKDAYS[] = {"Sunday",   "Monday", "Tuesday",  "Wednesday",
                                       "Thursday", "Friday", "Saturday", NULL};

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
    else if (api_reserved_slug(s)) api_v_fail(v, "slug", "slug \"%s\" is reserved: it would shadow one of slotd's own paths", s);
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
  static const char *const texts[] = {"logoUrl", "calVideoLogo", "appLogo",    "appIconLogo",    "bannerUrl",
                                      "bio",     "theme",        "brandColor", "darkBrandColor", NULL};
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
  api_slugify_top(json_string_value(json_object_get(p, "name")), base, sizeof base);
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

/* The emails filter: every `emails=` of the query (Cal.com's comma-separated list, or the
 * parameter repeated as Nest reads arrays), each folded as accounts store them, at most 20, as a
 * JSON array text; NULL without the parameter. 0, or -1 after a 400. */
static int emails_filter(http_req_t *req, char **out) {
  *out = NULL;
  json_t *arr = NULL;
  for (const char *q = req->query; q && *q;) {
    const char *amp = strchr(q, '&');
    size_t len = amp ? (size_t)(amp - q) : strlen(q);
    if (len >= 7 && strncmp(q, "emails=", 7) == 0) {
      char *raw = arena_strndup(req->arena, q + 7, len - 7);
      for (char *c = raw; *c; c++)
        if (*c == '+') *c = ' ';
      char *list = router_decode(req->arena, raw, strlen(raw)), *save = NULL;
      if (!arr) arr = json_array();
      for (char *e = list ? strtok_r(list, ",", &save) : NULL; e; e = strtok_r(NULL, ",", &save)) {
        while (*e == ' ') e++;
        if (!*e) continue;
        if (json_array_size(arr) == EMAILS_MAX || !api_valid_email(e)) {
          json_decref(arr);
          calcom_fail(req, 400, "emails must be at most 20 comma-separated e-mail addresses", "emails");
          return -1;
        }
        api_email_fold(e);
        json_array_append_new(arr, json_string(e));
      }
    }
    q = amp ? amp + 1 : NULL;
  }
  if (arr && json_array_size(arr) == 0) { /* emails= with nothing in it filters nothing */
    json_decref(arr);
    arr = NULL;
  }
  if (arr) {
    char *text = json_dumps(arr, JSON_COMPACT);
    *out = arena_strdup(req->arena, text);
    free(text);
    json_decref(arr);
  }
  return 0;
}

static int memberships_list(http_req_t *req) {
  org_params_t op;
  if (team_params(req, &op)) return 0;
  char take[24], skip[24], *filter;
  if (query_int(req, "take", 1, 250, 250, take) || query_int(req, "skip", 0, 1000000000, 0, skip) ||
      emails_filter(req, &filter))
    return 0;
  const char *rest[3] = {take, skip, filter};
  org_query(req, "calcom_memberships_list", &op, 3, rest, on_ok);
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

/* ------------------------------------------------------------------ team event types */

/* Cal.com settings of team event types that slotd's organisation event types do not have:
 * refused with 400 rather than accepted and ignored (the rest is the event types' translation). */
static const char *const UNSUPPORTED[] = {"recurrence", "emailSettings", NULL};

/* The team event type's body -> the native body nb and the Cal.com part c, through the one
 * translation personal event types use; what only team types refuse first. */
static void translate(api_v_t *v, json_t *nb, json_t *c, int create) {
  for (const char *const *f = UNSUPPORTED; *f; f++)
    if (json_object_get(v->obj, *f)) {
      api_v_fail(v, *f, "%s is not supported for team event types", *f);
      return;
    }
  if (json_object_get(v->obj, "scheduleId")) {
    api_v_fail(v, "scheduleId", "a team event type uses each host's default schedule; scheduleId is not supported");
    return;
  }
  calcom_event_type_translate(v, v->obj, create, nb, c);
}

/* Host [{userId*, mandatory, priority}] -> the native hosts [{user_id, priority 0-4}]. */
static void translate_hosts(api_v_t *v, json_t *arr, int round_robin, json_t *p) {
  static const char *const PRIORITIES[] = {"lowest", "low", "medium", "high", "highest", NULL};
  if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 100) {
    api_v_fail(v, "hosts", "hosts must be an array of 1-100 hosts");
    return;
  }
  json_t *out = json_array(), *h;
  size_t i;
  json_array_foreach(arr, i, h) {
    json_t *uid = json_object_get(h, "userId"), *prio = json_object_get(h, "priority"),
           *mand = json_object_get(h, "mandatory");
    int pr = 2;
    if (prio) {
      pr = -1;
      for (int k = 0; json_is_string(prio) && PRIORITIES[k]; k++)
        if (strcmp(json_string_value(prio), PRIORITIES[k]) == 0) pr = k;
    }
    long long id = json_is_integer(uid) ? json_integer_value(uid) : 0;
    if (!json_is_object(h) || id < 1 || id > INT64_MAX / 2 || pr < 0 || (mand && !json_is_boolean(mand))) {
      api_v_fail(v, "hosts",
                 "hosts[%zu] must be {userId, mandatory: boolean, priority: lowest|low|medium|high|highest}", i);
      break;
    }
    if (round_robin && json_is_true(mand)) {
      api_v_fail(v, "hosts", "mandatory hosts of a round-robin event type are not supported");
      break;
    }
    for (size_t k = 0; k < i; k++)
      if (json_integer_value(json_object_get(json_array_get(out, k), "user_id")) == id) {
        api_v_fail(v, "hosts", "user %lld is listed twice", id);
        break;
      }
    if (v->failed) break;
    json_array_append_new(out, json_pack("{s:I, s:i}", "user_id", (json_int_t)id, "priority", pr));
  }
  if (v->failed) json_decref(out);
  else json_object_set_new(p, "hosts", out);
}

typedef struct {
  char *patch, *calcom;   /* the native patch; the Cal.com part */
  const char *assign_all; /* "true", "false" or NULL */
} et_input_t;

/* The body into the native patch (and assignAllTeamMembers); -1 after a 400. */
static int team_et_input(http_req_t *req, int create, et_input_t *out) {
  if (api_body_object(req)) return -1;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  no_nulls(&v);
  json_t *nb = json_object(), *p = json_object(), *c = json_object();
  if (!v.failed) translate(&v, nb, c, create);
  if (!v.failed && create) {
    if (!json_object_get(nb, "slug")) api_v_fail(&v, "slug", "slug is required");
    else if (!json_object_get(nb, "duration_minutes")) api_v_fail(&v, "lengthInMinutes", "lengthInMinutes is required");
  }
  if (!v.failed) {
    api_v_t nv;
    api_v_init(&nv, req, nb);
    event_type_fields(&nv, p, create);
    if (nv.failed) {
      nv.field = calcom_field_name(calcom_event_type_fields, nv.field);
      v = nv;
      v.obj = api_ctx(req)->body;
    }
  }
  const char *st = v.failed ? NULL : api_v_str(&v, "schedulingType", create, 1, 16);
  int rr = 1;
  if (st) {
    if (strcmp(st, "managed") == 0)
      api_v_fail(&v, "schedulingType", "managed event types are not supported (slotd has round robin and collective)");
    else if (strcmp(st, "roundRobin") == 0) json_object_set_new(p, "scheduling", json_string("round_robin"));
    else if (strcmp(st, "collective") == 0) json_object_set_new(p, "scheduling", json_string("collective")), rr = 0;
    else api_v_fail(&v, "schedulingType", "schedulingType must be roundRobin or collective");
  }
  int all = 0, has_all = !v.failed && api_v_bool(&v, "assignAllTeamMembers", &all);
  json_t *hosts = json_object_get(v.obj, "hosts");
  if (!v.failed && hosts && all) api_v_fail(&v, "hosts", "give hosts or assignAllTeamMembers: true, not both");
  if (!v.failed && hosts) translate_hosts(&v, hosts, rr, p);
  if (!v.failed && create && !hosts && !all)
    api_v_fail(&v, "hosts", "give hosts, or assignAllTeamMembers: true for every member of the team");
  int b;
  if (!v.failed) api_v_bool(&v, "rescheduleWithSameRoundRobinHost", &b); /* type check: slotd always keeps the host */
  json_decref(nb);
  if (v.failed) {
    json_decref(p);
    json_decref(c);
    api_v_respond(&v);
    return -1;
  }
  out->assign_all = has_all ? (all ? "true" : "false") : NULL;
  char *text = json_dumps(p, JSON_COMPACT);
  out->patch = arena_strdup(req->arena, text);
  free(text);
  text = json_dumps(c, JSON_COMPACT);
  out->calcom = arena_strdup(req->arena, text);
  free(text);
  json_decref(p);
  json_decref(c);
  return 0;
}

static const char *public_base(http_req_t *req) {
  const char *b = api_app(req)->cfg->public_url;
  return b ? b : "";
}

static int team_et_create(http_req_t *req) {
  org_params_t op;
  et_input_t in;
  if (team_params(req, &op) || team_et_input(req, 1, &in)) return 0;
  const char *rest[5] = {NULL, in.patch, in.calcom, in.assign_all, public_base(req)};
  org_query(req, "calcom_team_event_type_save", &op, 5, rest, et_on_created);
  return 0;
}

/* :team_id and :event_type_id; NULL after a 404. */
static const char *event_type_of(http_req_t *req, org_params_t *op) {
  if (team_params(req, op)) return NULL;
  return api_id_param(req, "event_type_id", "event type not found");
}

static int team_et_update(http_req_t *req) {
  org_params_t op;
  et_input_t in;
  const char *id = event_type_of(req, &op);
  if (!id || team_et_input(req, 0, &in)) return 0;
  const char *rest[5] = {id, in.patch, in.calcom, in.assign_all, public_base(req)};
  org_query(req, "calcom_team_event_type_save", &op, 5, rest, et_on_ok);
  return 0;
}

static int team_et_get(http_req_t *req) {
  org_params_t op;
  const char *id = event_type_of(req, &op);
  if (!id) return 0;
  const char *rest[2] = {id, public_base(req)};
  org_query(req, "calcom_team_event_type_get", &op, 2, rest, et_on_ok);
  return 0;
}

static int team_et_delete(http_req_t *req) {
  org_params_t op;
  const char *id = event_type_of(req, &op);
  if (!id) return 0;
  const char *rest[1] = {id};
  org_query(req, "calcom_team_event_type_delete", &op, 1, rest, et_on_ok);
  return 0;
}

/* The public list, after the optional credential (members and keys see hidden types too). */
static void team_et_list_run(http_req_t *req) {
  api_ctx_t *c = api_ctx(req);
  org_params_t op;
  if (team_params(req, &op)) return;
  if (!c->user_id) op.user = NULL;
  char limit[24];
  const char *hl = api_query_param(req, "hostsLimit");
  if (query_int(req, "hostsLimit", 0, 1000, 0, limit)) return;
  const char *sort = api_query_param(req, "sortCreatedAt");
  if (sort && strcmp(sort, "asc") != 0 && strcmp(sort, "desc") != 0) {
    calcom_fail(req, 400, "sortCreatedAt must be asc or desc", "sortCreatedAt");
    return;
  }
  const char *slug = api_query_param(req, "eventSlug");
  const char *rest[4] = {slug, hl ? limit : NULL, sort, public_base(req)};
  org_query(req, "calcom_team_event_types_list", &op, 4, rest, et_on_ok);
}

static int team_et_list(http_req_t *req) {
  if (http_req_header(req, "Authorization") || http_req_header(req, "X-API-Key"))
    api_authenticate(req, team_et_list_run);
  else team_et_list_run(req);
  return 0;
}

/* ------------------------------------------------------------------ team schedules */

static int team_schedules(http_req_t *req) {
  org_params_t op;
  if (team_params(req, &op)) return 0;
  org_query(req, "calcom_team_schedules", &op, 0, NULL, on_ok);
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

    {M(HTTP_GET), "/v2/teams/:team_id/event-types", CALCOM_PUB(team_et_list)},
    {M(HTTP_POST), "/v2/teams/:team_id/event-types", CALCOM_ORG(team_et_create)},
    {M(HTTP_GET), "/v2/teams/:team_id/event-types/:event_type_id", CALCOM_ORG(team_et_get)},
    {M(HTTP_PATCH), "/v2/teams/:team_id/event-types/:event_type_id", CALCOM_ORG(team_et_update)},
    {M(HTTP_DELETE), "/v2/teams/:team_id/event-types/:event_type_id", CALCOM_ORG(team_et_delete)},

    {M(HTTP_GET), "/v2/teams/:team_id/schedules", CALCOM_ORG(team_schedules)},
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
    {"calcom_membership_update", "SELECT body, host_ids, stale FROM api.calcom_membership_update($1, $2, $3, $4, $5)",
     1},
    {"calcom_membership_delete", "SELECT body, host_ids, stale FROM api.calcom_membership_delete($1, $2, $3, $4)", 1},
    {"calcom_team_event_type_save",
     "SELECT body, host_ids, stale FROM api.calcom_team_event_type_save($1, $2, $3, $4, $5, $6, $7, $8)", 1},
    {"calcom_team_event_type_get", "SELECT api.calcom_team_event_type_get($1, $2, $3, $4, $5)", 0},
    {"calcom_team_event_types_list", "SELECT api.calcom_team_event_types_list($1, $2, $3, $4, $5, $6, $7)", 0},
    {"calcom_team_event_type_delete",
     "SELECT body, host_ids, stale FROM api.calcom_team_event_type_delete($1, $2, $3, $4)", 1},
    {"calcom_team_schedules", "SELECT api.calcom_team_schedules($1, $2, $3)", 0},
    {NULL, NULL, 0},
};

static void register_statements(void) { api_register_statements(statements); }

const app_module_t api_calcom_teams_module = {"calcom-teams", routes, (int)(sizeof routes / sizeof routes[0]),
                                              register_statements};
