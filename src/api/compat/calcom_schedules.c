/* calcom_schedules.c — Cal.com API v2 schedules (cal-api-version 2024-06-11): the native
 * availability schedules seen as ScheduleOutput_2024_06_11. A write is translated into the
 * native body ({name, timezone, is_default, rules, overrides}) and validated by the native
 * schedules_patch, so schedules have one set of rules; api.calcom_schedule_save runs the native
 * api.schedule_save and answers Cal.com's JSON (sql/migrations/0019_calcom_event_types.sql).
 *
 *   availability [{days: ["Monday", ...], startTime, endTime}] <-> rules [{day 0-6, start, end}]
 *   overrides [{date, startTime, endTime}] <-> overrides (00:00-00:00 = {date, unavailable})
 *   timeZone <-> timezone, isDefault <-> is_default; ownerId: the user. */
#include "calcom_schedules.h"

#include <stdlib.h>
#include <string.h>

#include "../respond.h"
#include "../schedules.h"
#include "../validate.h"
#include "calcom.h"

static const char *const DAYS[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

static const calcom_field_map_t FIELDS[] = {
    {"name", "name"},          {"timezone", "timeZone"},   {"is_default", "isDefault"},
    {"rules", "availability"}, {"overrides", "overrides"}, {NULL, NULL},
};

const char *calcom_field_name(const calcom_field_map_t *map, const char *native) {
  if (!native) return NULL;
  for (; map && map->native; map++)
    if (strcmp(map->native, native) == 0) return map->calcom;
  return native;
}

int calcom_db_failed(http_req_t *req, const db_result_t *r, const calcom_field_map_t *map) {
  if (r->ok) return 0;
  const char *st = r->sqlstate ? r->sqlstate : "";
  if (!(st[0] == 'S' && st[1] == 'L')) return api_db_failed(req, r); /* logs what C should have caught */
  api_failure_t f;
  char msg[400];
  api_db_failure(r, &f, msg, sizeof msg);
  f.field = calcom_field_name(map, f.field);
  api_fail(req, &f);
  return 1;
}

void calcom_respond_write(http_req_t *req, const db_result_t *r, int status, const calcom_field_map_t *map) {
  if (calcom_db_failed(req, r, map)) return;
  api_write_t w;
  if (api_db_write(req, r, &w) != 0) return;
  calcom_ok_text(req, status, w.body, w.len);
}

static void on_read(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (calcom_db_failed(req, r, FIELDS)) return;
  if (PQntuples(r->res) < 1 || PQgetisnull(r->res, 0, 0)) {
    calcom_fail(req, 404, "not found", NULL);
    return;
  }
  calcom_ok_text(req, 200, PQgetvalue(r->res, 0, 0), (size_t)PQgetlength(r->res, 0, 0));
}

static void on_saved(void *data, const db_result_t *r) { calcom_respond_write(data, r, 200, FIELDS); }
static void on_created(void *data, const db_result_t *r) { calcom_respond_write(data, r, 201, FIELDS); }

static void on_deleted(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (calcom_db_failed(req, r, FIELDS)) return;
  api_write_t w;
  if (api_db_write(req, r, &w) != 0) return;
  calcom_ok_bare(req, 200);
}

/* "HH:MM" as Cal.com writes it (00:00-23:59, and 24:00 for an end, which the native rules take). */
static int hhmm_ok(json_t *s) {
  const char *t = json_string_value(s);
  if (!t || strlen(t) != 5 || t[2] != ':') return 0;
  for (int i = 0; i < 5; i++)
    if (i != 2 && (t[i] < '0' || t[i] > '9')) return 0;
  return 1;
}

/* availability -> native rules, or NULL after failing v. */
static json_t *rules_of(api_v_t *v, json_t *av) {
  if (!json_is_array(av) || json_array_size(av) > 100) {
    api_v_fail(v, "availability", "availability must be an array of at most 100 {days, startTime, endTime}");
    return NULL;
  }
  json_t *rules = json_array();
  size_t i;
  json_t *a;
  json_array_foreach(av, i, a) {
    json_t *days = json_object_get(a, "days"), *st = json_object_get(a, "startTime"),
           *et = json_object_get(a, "endTime");
    if (!json_is_object(a) || !json_is_array(days) || json_array_size(days) == 0 || json_array_size(days) > 7) {
      api_v_fail(v, "availability", "availability[%zu].days must be a non-empty array of day names", i);
      break;
    }
    if (!hhmm_ok(st) || !hhmm_ok(et)) {
      api_v_fail(v, "availability", "availability[%zu]: startTime and endTime must be \"HH:MM\"", i);
      break;
    }
    size_t k;
    json_t *d;
    json_array_foreach(days, k, d) {
      int day = -1;
      for (int x = 0; x < 7 && json_is_string(d); x++)
        if (strcmp(json_string_value(d), DAYS[x]) == 0) day = x;
      if (day < 0) {
        api_v_fail(v, "availability", "availability[%zu].days: each day must be one of Monday ... Sunday", i);
        break;
      }
      json_array_append_new(rules, json_pack("{s:i, s:O, s:O}", "day", day, "start", st, "end", et));
    }
    if (v->failed) break;
  }
  if (v->failed) {
    json_decref(rules);
    return NULL;
  }
  return rules;
}

/* overrides -> native overrides (00:00-00:00: the date is unavailable), or NULL after failing v. */
static json_t *overrides_of(api_v_t *v, json_t *ov) {
  if (!json_is_array(ov) || json_array_size(ov) > 1000) {
    api_v_fail(v, "overrides", "overrides must be an array of at most 1000 {date, startTime, endTime}");
    return NULL;
  }
  json_t *out = json_array();
  size_t i;
  json_t *o;
  json_array_foreach(ov, i, o) {
    json_t *date = json_object_get(o, "date"), *st = json_object_get(o, "startTime"),
           *et = json_object_get(o, "endTime");
    if (!json_is_object(o) || !json_is_string(date) || !hhmm_ok(st) || !hhmm_ok(et)) {
      api_v_fail(v, "overrides",
                 "overrides[%zu] must be {date: \"YYYY-MM-DD\", startTime: \"HH:MM\", endTime: \"HH:MM\"}", i);
      break;
    }
    if (strcmp(json_string_value(st), "00:00") == 0 && strcmp(json_string_value(et), "00:00") == 0)
      json_array_append_new(out, json_pack("{s:O, s:b}", "date", date, "unavailable", 1));
    else json_array_append_new(out, json_pack("{s:O, s:O, s:O}", "date", date, "start", st, "end", et));
  }
  if (v->failed) {
    json_decref(out);
    return NULL;
  }
  return out;
}

/* The Cal.com body -> the native one, validated by the native schedules_patch. NULL after
 * responding 400. */
static json_t *patch_of(http_req_t *req, int create) {
  if (api_body_object(req)) return NULL;
  api_ctx_t *ctx = api_ctx(req);
  json_t *body = ctx->body;
  api_v_t v;
  api_v_init(&v, req, body);
  json_t *native = json_object();
  int b;
  static const char *const not_null[] = {"name", "timeZone", "isDefault", "availability", "overrides", NULL};
  for (const char *const *f = not_null; *f; f++) api_v_not_null(&v, *f);
  const char *s;
  if ((s = api_v_str(&v, "name", create, 0, 100000))) json_object_set_new(native, "name", json_string(s));
  if ((s = api_v_str(&v, "timeZone", create, 0, 100000))) json_object_set_new(native, "timezone", json_string(s));
  if (api_v_bool(&v, "isDefault", &b)) json_object_set_new(native, "is_default", json_boolean(b));
  else if (create && !v.failed) api_v_fail(&v, "isDefault", "isDefault is required");
  json_t *av = json_object_get(body, "availability"), *ov = json_object_get(body, "overrides");
  json_t *rules = NULL, *overrides = NULL;
  if (!v.failed && av) rules = rules_of(&v, av);
  else if (!v.failed && create) /* Cal.com's default: Monday to Friday, 09:00-17:00 */
    rules =
        json_pack("[{s:i,s:s,s:s},{s:i,s:s,s:s},{s:i,s:s,s:s},{s:i,s:s,s:s},{s:i,s:s,s:s}]", "day", 1, "start", "09:00",
                  "end", "17:00", "day", 2, "start", "09:00", "end", "17:00", "day", 3, "start", "09:00", "end",
                  "17:00", "day", 4, "start", "09:00", "end", "17:00", "day", 5, "start", "09:00", "end", "17:00");
  if (rules) json_object_set_new(native, "rules", rules);
  if (!v.failed && ov && (overrides = overrides_of(&v, ov))) json_object_set_new(native, "overrides", overrides);
  if (v.failed) {
    json_decref(native);
    api_v_respond(&v);
    return NULL;
  }
  /* The native rules see the native body; the request keeps its own. */
  ctx->body = native;
  api_v_t nv;
  json_t *p = schedules_patch(req, &nv, create);
  ctx->body = body;
  json_decref(native);
  if (nv.failed) {
    nv.field = calcom_field_name(FIELDS, nv.field);
    json_decref(p);
    api_v_respond(&nv);
    return NULL;
  }
  return p;
}

static int save(http_req_t *req, const char *id, int create) {
  json_t *p = patch_of(req, create);
  if (!p) return 0;
  char *text = json_dumps(p, JSON_COMPACT);
  json_decref(p);
  const char *params[3] = {api_ctx(req)->user_id_str, id, text};
  api_query(req, "calcom_schedule_save", 3, params, create ? on_created : on_saved);
  free(text);
  return 0;
}

int calcom_schedules_list(http_req_t *req) {
  if (calcom_version(req, CALCOM_V_SCHEDULES)) return 0;
  const char *params[1] = {api_ctx(req)->user_id_str};
  api_query(req, "calcom_schedules_list", 1, params, on_read);
  return 0;
}

int calcom_schedules_create(http_req_t *req) {
  if (calcom_version(req, CALCOM_V_SCHEDULES)) return 0;
  return save(req, NULL, 1);
}

int calcom_schedules_default(http_req_t *req) {
  if (calcom_version(req, CALCOM_V_SCHEDULES)) return 0;
  const char *params[2] = {api_ctx(req)->user_id_str, NULL};
  api_query(req, "calcom_schedule_get", 2, params, on_read);
  return 0;
}

int calcom_schedules_get(http_req_t *req) {
  if (calcom_version(req, CALCOM_V_SCHEDULES)) return 0;
  const char *id = api_id_param(req, "scheduleId", "schedule not found");
  if (!id) return 0;
  const char *params[2] = {api_ctx(req)->user_id_str, id};
  api_query(req, "calcom_schedule_get", 2, params, on_read);
  return 0;
}

int calcom_schedules_update(http_req_t *req) {
  if (calcom_version(req, CALCOM_V_SCHEDULES)) return 0;
  const char *id = api_id_param(req, "scheduleId", "schedule not found");
  return id ? save(req, id, 0) : 0;
}

int calcom_schedules_delete(http_req_t *req) {
  if (calcom_version(req, CALCOM_V_SCHEDULES)) return 0;
  const char *id = api_id_param(req, "scheduleId", "schedule not found");
  if (!id) return 0;
  const char *params[2] = {api_ctx(req)->user_id_str, id};
  api_query(req, "calcom_schedule_delete", 2, params, on_deleted);
  return 0;
}
