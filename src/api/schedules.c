#include "schedules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/timeutil.h"
#include "query.h"
#include "respond.h"
#include "validate.h"

#define MAX_RULES 336
#define MAX_OVERRIDES 1000

/* "HH:MM" -> minutes; end may be "24:00". -1 if malformed. */
static int parse_hhmm(const char *s, int allow_24) {
  if (!s || strlen(s) != 5 || s[2] != ':') return -1;
  for (int i = 0; i < 5; i++)
    if (i != 2 && (s[i] < '0' || s[i] > '9')) return -1;
  int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && (m != 0 || !allow_24))) return -1;
  return h * 60 + m;
}

int parse_date(const char *s, int64_t *day) {
  if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return -1;
  int y = 0, m = 0, d = 0;
  for (int i = 0; i < 10; i++) {
    if (i == 4 || i == 7) continue;
    if (s[i] < '0' || s[i] > '9') return -1;
  }
  y = atoi(s);
  m = atoi(s + 5);
  d = atoi(s + 8);
  if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > time_days_in_month(y, m)) return -1;
  *day = time_days_from_civil(y, m, d);
  return 0;
}

static int cmp_override(const void *a, const void *b) {
  const sched_override_t *x = a, *y = b;
  return x->day < y->day ? -1 : x->day > y->day;
}

static int interval_of(json_t *o, int *start, int *end, char *msg, size_t msglen, const char *where) {
  json_t *js = json_object_get(o, "start"), *je = json_object_get(o, "end");
  *start = json_is_string(js) ? parse_hhmm(json_string_value(js), 0) : -1;
  *end = json_is_string(je) ? parse_hhmm(json_string_value(je), 1) : -1;
  if (*start < 0 || *end < 0) {
    snprintf(msg, msglen, "%s: start and end must be \"HH:MM\" (end may be \"24:00\")", where);
    return -1;
  }
  if (*start >= *end) {
    snprintf(msg, msglen, "%s: start must be before end", where);
    return -1;
  }
  return 0;
}

int schedule_parse(json_t *rules, json_t *overrides, const tz_t *tz, sched_schedule_t *out, const char **field,
                   char *msg, size_t msglen) {
  memset(out, 0, sizeof *out);
  out->tz = tz;
  char where[48];
  *field = "rules";
  if (rules && !json_is_null(rules)) {
    if (!json_is_array(rules) || json_array_size(rules) > MAX_RULES) {
      snprintf(msg, msglen, "rules must be an array of at most %d {day, start, end} objects", MAX_RULES);
      return -1;
    }
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r) {
      snprintf(where, sizeof where, "rules[%zu]", i);
      json_t *jd = json_object_get(r, "day");
      if (!json_is_object(r) || !json_is_integer(jd) || json_integer_value(jd) < 0 || json_integer_value(jd) > 6) {
        snprintf(msg, msglen, "%s: day must be 0 (Sunday) to 6 (Saturday)", where);
        return -1;
      }
      int s, e, d = (int)json_integer_value(jd);
      if (interval_of(r, &s, &e, msg, msglen, where)) return -1;
      sched_add_span(out->week[d], &out->nweek[d], (int16_t)s, (int16_t)e);
    }
  }
  *field = "overrides";
  if (overrides && !json_is_null(overrides)) {
    if (!json_is_array(overrides) || json_array_size(overrides) > MAX_OVERRIDES) {
      snprintf(msg, msglen, "overrides must be an array of at most %d entries", MAX_OVERRIDES);
      return -1;
    }
    size_t n = json_array_size(overrides);
    out->overrides = xcalloc(n ? n : 1, sizeof *out->overrides);
    char *blocked = xcalloc(n ? n : 1, 1); /* an "unavailable" entry seen for that override */
    size_t i;
    json_t *o;
    json_array_foreach(overrides, i, o) {
      snprintf(where, sizeof where, "overrides[%zu]", i);
      json_t *jd = json_object_get(o, "date");
      int64_t day;
      if (!json_is_object(o) || !json_is_string(jd) || parse_date(json_string_value(jd), &day)) {
        snprintf(msg, msglen, "%s: date must be YYYY-MM-DD", where);
        free(blocked);
        return -1;
      }
      json_t *ju = json_object_get(o, "unavailable");
      if (ju && !json_is_boolean(ju)) {
        snprintf(msg, msglen, "%s: unavailable must be true or false", where);
        free(blocked);
        return -1;
      }
      int unavailable = json_is_true(ju);
      int s = 0, e = 0;
      if (!unavailable && interval_of(o, &s, &e, msg, msglen, where)) {
        free(blocked);
        return -1;
      }
      int k = 0;
      while (k < out->noverrides && out->overrides[k].day != day) k++;
      if (k == out->noverrides) {
        out->overrides[k].day = day;
        out->noverrides++;
      }
      sched_override_t *ov = &out->overrides[k];
      if ((unavailable && ov->nspans) || (!unavailable && blocked[k])) {
        snprintf(msg, msglen, "%s: a date is either unavailable or has intervals, not both", where);
        free(blocked);
        return -1;
      }
      if (unavailable) blocked[k] = 1;
      else sched_add_span(ov->spans, &ov->nspans, (int16_t)s, (int16_t)e);
    }
    free(blocked);
    qsort(out->overrides, (size_t)out->noverrides, sizeof *out->overrides, cmp_override);
  }
  return 0;
}

void sched_schedule_free(sched_schedule_t *s) {
  free(s->overrides);
  s->overrides = NULL;
  s->noverrides = 0;
}

static json_t *hhmm(int16_t minutes) {
  char b[16];
  snprintf(b, sizeof b, "%02d:%02d", minutes / 60, minutes % 60);
  return json_string(b);
}

json_t *schedule_rules_json(const sched_schedule_t *s) {
  json_t *a = json_array();
  for (int d = 0; d < 7; d++)
    for (int k = 0; k < s->nweek[d]; k++)
      json_array_append_new(a, json_pack("{s:i, s:o, s:o}", "day", d, "start", hhmm(s->week[d][k].start), "end",
                                         hhmm(s->week[d][k].end)));
  return a;
}

json_t *schedule_overrides_json(const sched_schedule_t *s) {
  json_t *a = json_array();
  for (int i = 0; i < s->noverrides; i++) {
    const sched_override_t *o = &s->overrides[i];
    char date[24];
    time_format_utc(o->day * 86400, date, sizeof date);
    date[10] = 0;
    if (o->nspans == 0) json_array_append_new(a, json_pack("{s:s, s:b}", "date", date, "unavailable", 1));
    for (int k = 0; k < o->nspans; k++)
      json_array_append_new(a, json_pack("{s:s, s:o, s:o}", "date", date, "start", hhmm(o->spans[k].start), "end",
                                         hhmm(o->spans[k].end)));
  }
  return a;
}

/* ------------------------------------------------------------------ handlers */

static void on_json(void *data, const db_result_t *r) { api_respond_db(data, r, 200); }
static void on_created(void *data, const db_result_t *r) { api_respond_db(data, r, 201); }

int schedules_list(http_req_t *req) {
  const char *params[1] = {api_ctx(req)->user_id_str};
  api_query(req, "schedules_list", 1, params, on_json);
  return 0;
}


json_t *schedules_patch(http_req_t *req, api_v_t *v, int create) {
  json_t *body = api_ctx(req)->body;
  api_v_init(v, req, body);
  json_t *p = json_object();
  api_v_not_null(v, "name");
  api_v_not_null(v, "timezone");
  const char *name = api_v_line(v, "name", create, 1, 200);
  if (name) json_object_set_new(p, "name", json_string(name));
  const char *tzname = api_v_str(v, "timezone", 0, 1, 64);
  if (tzname && !tz_get(tzname)) api_v_fail(v, "timezone", "timezone must be an IANA time zone name");
  else if (tzname) json_object_set_new(p, "timezone", json_string(tzname));
  int b;
  if (api_v_bool(v, "is_default", &b)) json_object_set_new(p, "is_default", json_boolean(b));
  json_t *rules = json_object_get(body, "rules"), *overrides = json_object_get(body, "overrides");
  if (!v->failed && (rules || overrides)) {
    sched_schedule_t s;
    const char *field;
    char msg[160];
    if (schedule_parse(rules, overrides, NULL, &s, &field, msg, sizeof msg) != 0) api_v_fail(v, field, "%s", msg);
    else {
      if (rules) json_object_set_new(p, "rules", schedule_rules_json(&s));
      if (overrides) json_object_set_new(p, "overrides", schedule_overrides_json(&s));
    }
    sched_schedule_free(&s);
  }
  return p;
}

static int save(http_req_t *req, const char *id, int create) {
  if (api_body_object(req)) return 0;
  api_v_t v;
  json_t *p = schedules_patch(req, &v, create);
  return api_save_patch(req, &v, p, "schedule_save", 1, id, create ? on_created : on_json);
}

int schedules_create(http_req_t *req) { return save(req, NULL, 1); }

int schedules_update(http_req_t *req) {
  const char *id = api_id_param(req, "id", "schedule not found");
  return id ? save(req, id, 0) : 0;
}

int schedules_get(http_req_t *req) {
  const char *id = api_id_param(req, "id", "schedule not found");
  if (!id) return 0;
  const char *params[2] = {api_ctx(req)->user_id_str, id};
  api_query(req, "schedule_get", 2, params, on_json);
  return 0;
}

int schedules_delete(http_req_t *req) {
  const char *id = api_id_param(req, "id", "schedule not found");
  if (!id) return 0;
  const char *params[2] = {api_ctx(req)->user_id_str, id};
  api_query(req, "schedule_delete", 2, params, on_json);
  return 0;
}
