#include "event_types.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../sched/slots.h"
#include "query.h"
#include "respond.h"
#include "validate.h"

static const char *const LOCATION_TYPES[] = {"google_meet", "zoom", "phone", "in_person", "custom", NULL};
static const char *const QUESTION_TYPES[] = {"text", "textarea", "email", "phone", "select", "checkbox", NULL};

static int one_of(const char *s, const char *const *list) {
  for (; *list; list++)
    if (strcmp(s, *list) == 0) return 1;
  return 0;
}

static int valid_question_id(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 64) return 0;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-') return 0;
  return 1;
}

/* questions: [{id, label, type, required?, options?}] -> normalised copy, or NULL after failing v. */
static json_t *check_questions(api_v_t *v, json_t *arr) {
  if (!json_is_array(arr) || json_array_size(arr) > 50) {
    api_v_fail(v, "questions", "questions must be an array of at most 50 questions");
    return NULL;
  }
  json_t *out = json_array();
  size_t i;
  json_t *q;
  json_array_foreach(arr, i, q) {
    api_v_t qv;
    api_v_init(&qv, v->req, q);
    if (!json_is_object(q)) {
      api_v_fail(v, "questions", "questions[%zu] must be an object", i);
      break;
    }
    const char *id = api_v_str(&qv, "id", 1, 1, 64);
    const char *label = api_v_str(&qv, "label", 1, 1, 500);
    const char *type = api_v_str(&qv, "type", 1, 1, 16);
    int required = 0;
    api_v_bool(&qv, "required", &required);
    if (!qv.failed && !valid_question_id(id)) api_v_fail(&qv, "id", "id may hold letters, digits, _ and -");
    if (!qv.failed && !one_of(type, QUESTION_TYPES))
      api_v_fail(&qv, "type", "type must be text, textarea, email, phone, select or checkbox");
    json_t *opts = json_object_get(q, "options");
    json_t *opts_out = NULL;
    if (!qv.failed && strcmp(type, "select") == 0) {
      if (!json_is_array(opts) || json_array_size(opts) == 0 || json_array_size(opts) > 100) {
        api_v_fail(&qv, "options", "a select question needs 1-100 options");
      } else {
        opts_out = json_array();
        size_t k;
        json_t *o;
        json_array_foreach(opts, k, o) {
          if (!json_is_string(o) || json_string_length(o) == 0 || json_string_length(o) > 200) {
            api_v_fail(&qv, "options", "options must be non-empty strings of at most 200 characters");
            break;
          }
          json_array_append(opts_out, o);
        }
      }
    } else if (!qv.failed && opts && !json_is_null(opts)) {
      api_v_fail(&qv, "options", "only select questions have options");
    }
    for (size_t k = 0; !qv.failed && k < i; k++)
      if (strcmp(json_string_value(json_object_get(json_array_get(out, k), "id")), id) == 0)
        api_v_fail(&qv, "id", "question ids must be unique");
    if (qv.failed) {
      json_decref(opts_out);
      api_v_fail(v, "questions", "questions[%zu]: %s", i, qv.message);
      break;
    }
    json_t *nq = json_pack("{s:s, s:s, s:s, s:b}", "id", id, "label", label, "type", type, "required", required);
    if (opts_out) json_object_set_new(nq, "options", opts_out);
    json_array_append_new(out, nq);
  }
  if (v->failed) {
    json_decref(out);
    return NULL;
  }
  return out;
}

void event_type_fields(api_v_t *vp, json_t *p, int create) {
  api_v_t v = *vp; /* the checks below were written against a local; copied back at the end */
  json_t *body = v.obj;
  const char *s;
  long long n;
  int null, present, b;
  static const char *const not_null[] = {"name", "slug", "color", "duration_minutes", "questions", NULL};
  for (const char *const *f = not_null; *f; f++) api_v_not_null(&v, *f);
  if ((s = api_v_line(&v, "name", create, 1, 200))) json_object_set_new(p, "name", json_string(s));
  if ((s = api_v_str(&v, "slug", 0, 1, 60))) {
    if (!api_valid_slug(s)) api_v_fail(&v, "slug", "slug must be 1-60 lower-case letters, digits and inner hyphens");
    json_object_set_new(p, "slug", json_string(s));
  }
  if (api_v_int(&v, "duration_minutes", 5, SCHED_MAX_DURATION_MIN, 0, NULL, &n)) json_object_set_new(p, "duration_minutes", json_integer(n));
  s = api_v_str_or_null(&v, "description", 5000, &present);
  if (present && !v.failed) json_object_set_new(p, "description", s ? json_string(s) : json_null());
  if ((s = api_v_str(&v, "color", 0, 7, 7))) {
    if (!api_valid_color(s)) api_v_fail(&v, "color", "color must be a hex color like #0069ff");
    json_object_set_new(p, "color", json_string(s));
  }
  s = api_v_str_or_null(&v, "location_type", 32, &present);
  if (s && !one_of(s, LOCATION_TYPES))
    api_v_fail(&v, "location_type", "location_type must be google_meet, zoom, phone, in_person or custom");
  if (present && !v.failed) json_object_set_new(p, "location_type", s ? json_string(s) : json_null());
  s = api_v_str_or_null(&v, "location_value", 500, &present);
  if (present && !v.failed) json_object_set_new(p, "location_value", s ? json_string(s) : json_null());
  json_t *qs = json_object_get(body, "questions");
  if (qs && !v.failed) {
    json_t *norm = json_is_null(qs) ? json_array() : check_questions(&v, qs);
    if (norm) json_object_set_new(p, "questions", norm);
  }
  if (api_v_bool(&v, "is_secret", &b)) json_object_set_new(p, "is_secret", json_boolean(b));
  if (api_v_bool(&v, "requires_confirmation", &b)) json_object_set_new(p, "requires_confirmation", json_boolean(b));
  if (api_v_int(&v, "buffer_before", 0, SCHED_MAX_BUFFER_MIN, 0, NULL, &n)) json_object_set_new(p, "buffer_before", json_integer(n));
  if (api_v_int(&v, "buffer_after", 0, SCHED_MAX_BUFFER_MIN, 0, NULL, &n)) json_object_set_new(p, "buffer_after", json_integer(n));
  if (api_v_int(&v, "min_notice_hours", 0, 8760, 0, NULL, &n)) json_object_set_new(p, "min_notice_hours", json_integer(n));
  if (api_v_int(&v, "max_future_days", 1, 3650, 0, NULL, &n)) json_object_set_new(p, "max_future_days", json_integer(n));
  if (api_v_int(&v, "slot_interval_minutes", 5, SCHED_MAX_DURATION_MIN, 1, &null, &n) || null)
    json_object_set_new(p, "slot_interval_minutes", null ? json_null() : json_integer(n));
  if (api_v_int(&v, "schedule_id", 1, INT64_MAX / 2, 1, &null, &n) || null)
    json_object_set_new(p, "schedule_id", null ? json_null() : json_integer(n));
  char money[32], cur[4];
  if (api_v_money(&v, "price", 0, 1, &null, money))
    json_object_set_new(p, "price", null ? json_null() : json_string(money)); /* exact: numeric reads the text */
  if (api_v_currency(&v, "currency", 1, &null, cur)) json_object_set_new(p, "currency", null ? json_null() : json_string(cur));
  if (api_v_bool(&v, "requires_payment", &b)) json_object_set_new(p, "requires_payment", json_boolean(b));
  if (api_v_int(&v, "payment_window_minutes", 1, 10080, 0, NULL, &n))
    json_object_set_new(p, "payment_window_minutes", json_integer(n));
  json_t *rem = json_object_get(body, "reminders"); /* minutes before the start a reminder mail goes */
  if (rem && !v.failed) {
    size_t i;
    json_t *x;
    int ok = json_is_array(rem) && json_array_size(rem) <= 5;
    json_array_foreach(rem, i, x) ok = ok && json_is_integer(x) && json_integer_value(x) >= 1 &&
                                      json_integer_value(x) <= 43200;
    if (!ok) api_v_fail(&v, "reminders", "reminders must be at most 5 whole minutes before the start (1-43200)");
    else json_object_set(p, "reminders", rem);
  }
  json_t *rec = json_object_get(body, "recurrence"); /* {frequency weekly|monthly, interval, occurrences} */
  if (rec && !v.failed) {
    const char *f = json_string_value(json_object_get(rec, "frequency"));
    json_t *iv = json_object_get(rec, "interval"), *oc = json_object_get(rec, "occurrences");
    int ok = json_is_null(rec) ||
             (json_is_object(rec) && json_object_size(rec) == 3 && f &&
              (strcmp(f, "weekly") == 0 || strcmp(f, "monthly") == 0) && json_is_integer(iv) &&
              json_integer_value(iv) >= 1 && json_integer_value(iv) <= 12 && json_is_integer(oc) &&
              json_integer_value(oc) >= 2 && json_integer_value(oc) <= 24);
    if (!ok)
      api_v_fail(&v, "recurrence",
                 "recurrence must be {frequency: weekly|monthly, interval: 1-12, occurrences: 2-24} or null");
    else json_object_set(p, "recurrence", rec);
  }
  json_t *dur = json_object_get(body, "durations"); /* the lengths an invitee may pick; null: the default only */
  if (dur && !v.failed) {
    size_t i;
    json_t *x;
    int ok = json_is_null(dur) || (json_is_array(dur) && json_array_size(dur) >= 1 && json_array_size(dur) <= 12);
    json_array_foreach(dur, i, x) ok = ok && json_is_integer(x) && json_integer_value(x) >= 1 &&
                                      json_integer_value(x) <= 1440;
    if (!ok) api_v_fail(&v, "durations", "durations must be 1-12 lengths in whole minutes (1-1440), or null");
    else json_object_set(p, "durations", dur);
  }
  if (api_v_int(&v, "seats", 1, 1000, 0, NULL, &n)) json_object_set_new(p, "seats", json_integer(n));
  if (api_v_int(&v, "limit_per_day", 1, 1000, 1, &null, &n) || null)
    json_object_set_new(p, "limit_per_day", null ? json_null() : json_integer(n));
  if (api_v_int(&v, "limit_per_week", 1, 5000, 1, &null, &n) || null)
    json_object_set_new(p, "limit_per_week", null ? json_null() : json_integer(n));
  *vp = v;
}

/* Validates the body into a patch of given fields; create requires name. NULL after responding. */
static json_t *validate(http_req_t *req, int create) {
  if (api_body_object(req)) return NULL;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  json_t *p = json_object();
  event_type_fields(&v, p, create);
  if (v.failed) {
    json_decref(p);
    api_v_respond(&v);
    return NULL;
  }
  return p;
}

static void on_json(void *data, const db_result_t *r) { api_respond_db(data, r, 200); }
static void on_created(void *data, const db_result_t *r) { api_respond_db(data, r, 201); }

int event_types_list(http_req_t *req) {
  const char *params[1] = {api_ctx(req)->user_id_str};
  api_query(req, "event_types_list", 1, params, on_json);
  return 0;
}

int event_types_create(http_req_t *req) {
  json_t *p = validate(req, 1);
  if (!p) return 0;
  char slug[64];
  api_slugify(json_string_value(json_object_get(p, "name")), slug, sizeof slug);
  if (strcmp(slug, "user") == 0) snprintf(slug, sizeof slug, "event");
  api_v_t valid;
  api_v_init(&valid, req, NULL);
  return api_save_patch(req, &valid, p, "event_type_create", 1, slug, on_created);
}


int event_types_get(http_req_t *req) {
  const char *id = api_id_param(req, "id", "event type not found");
  if (!id) return 0;
  const char *params[2] = {api_ctx(req)->user_id_str, id};
  api_query(req, "event_type_get", 2, params, on_json);
  return 0;
}

int event_types_update(http_req_t *req) {
  const char *id = api_id_param(req, "id", "event type not found");
  if (!id) return 0;
  json_t *p = validate(req, 0);
  if (!p) return 0;
  api_v_t valid;
  api_v_init(&valid, req, NULL);
  return api_save_patch(req, &valid, p, "event_type_update", 1, id, on_json);
}

int event_types_delete(http_req_t *req) {
  const char *id = api_id_param(req, "id", "event type not found");
  if (!id) return 0;
  const char *params[2] = {api_ctx(req)->user_id_str, id};
  api_query(req, "event_type_delete", 2, params, on_json);
  return 0;
}
