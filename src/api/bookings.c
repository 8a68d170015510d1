#include "bookings.h"

#include <stdio.h>
#include <string.h>

#include "../core/timeutil.h"
#include "book.h"
#include "orgs.h"
#include "query.h"
#include "authn.h"
#include "respond.h"
#include "schedules.h"
#include "validate.h"

/* ------------------------------------------------------------------ create */

/* The native request body -> the core's request. 0, or -1 after responding 400. */
static int parse_booking(http_req_t *req, book_request_t *b) {
  if (api_body_object(req)) return -1;
  json_t *body = api_ctx(req)->body;
  api_v_t v;
  api_v_init(&v, req, body);
  b->name = api_v_line(&v, "name", 1, 1, 200);
  b->email = api_v_str(&v, "email", 1, 3, 254);
  if (b->email && !api_valid_email(b->email)) api_v_fail(&v, "email", "email must be a valid email address");
  b->timezone = api_v_str(&v, "timezone", 0, 1, 64);
  if (b->timezone && !tz_get(b->timezone)) api_v_fail(&v, "timezone", "timezone must be an IANA time zone name");
  const char *st = api_v_str(&v, "start_time", 1, 1, 40);
  if (st && time_parse_rfc3339(st, &b->start) != 0)
    api_v_fail(&v, "start_time", "start_time must be an RFC 3339 date-time, e.g. 2026-03-10T19:00:00Z");
  b->notes = api_v_str(&v, "notes", 0, 0, 5000);
  b->phone = api_v_str(&v, "phone", 0, 1, 32);
  if (b->phone && !api_valid_phone(b->phone)) api_v_fail(&v, "phone", "phone must be a phone number");
  long long seats = 1;
  api_v_int(&v, "seats", 1, 1000, 0, NULL, &seats);
  b->seats = (int)seats;
  long long host = 0; /* an org type's host to book with (round robin), else the rules pick */
  api_v_int(&v, "host_id", 1, INT64_MAX / 2, 0, NULL, &host);
  b->preferred_host = host;
  long long count = 0; /* a recurring event type: how many of its occurrences (absent: all) */
  api_v_int(&v, "recurrence_count", 1, BOOK_MAX_SERIES, 0, NULL, &count);
  b->recurrence_count = (int)count;
  long long minutes = 0; /* one of the event type's lengths (durations); absent: its default */
  api_v_int(&v, "duration_minutes", 1, 1440, 0, NULL, &minutes);
  b->duration = (int)minutes;
  int notify = 1;
  api_v_bool(&v, "notify", &notify);
  b->quiet = !notify;
  b->reservation_uid = api_v_str(&v, "reservation_uid", 0, 36, 36);
  if (b->reservation_uid && !api_valid_uuid(b->reservation_uid))
    api_v_fail(&v, "reservation_uid", "reservation_uid must be a reservation's uid");
  json_t *answers = json_object_get(body, "answers");
  if (answers && !json_is_null(answers) && !json_is_object(answers))
    api_v_fail(&v, "answers", "answers must be an object {question_id: answer}");
  b->answers = json_is_object(answers) ? answers : NULL; /* owned by the body */
  if (v.failed) {
    api_v_respond(&v);
    return -1;
  }
  return 0;
}

static void create_now(http_req_t *req) { book_create(req, api_ctx(req)->flow, &book_native_created); }

/* notify: false is the host's: the request's credentials are checked first (401 without). */
static void create(http_req_t *req, const book_request_t *b) {
  book_request_t *copy = arena_alloc(req->arena, sizeof *copy);
  *copy = *b;
  api_ctx(req)->flow = copy;
  if (b->quiet) api_authenticate(req, create_now);
  else create_now(req);
}

int bookings_create(http_req_t *req) {
  book_request_t b = {0};
  if (parse_booking(req, &b)) return 0;
  b.target.slug = http_req_param(req, "slug");
  b.target.event_slug = http_req_param(req, "event_slug");
  if (strlen(b.target.slug) > 60 || strlen(b.target.event_slug) > 60) {
    api_error(req, 404, E_NOT_FOUND, "event type not found");
    return 0;
  }
  create(req, &b);
  return 0;
}

int bookings_create_by_id(http_req_t *req) {
  const char *id = api_id_param(req, "id", "event type not found");
  if (!id) return 0;
  book_request_t b = {0};
  if (parse_booking(req, &b)) return 0;
  b.target.event_type_id = api_parse_id(id);
  create(req, &b);
  return 0;
}

/* ------------------------------------------------------------------ host: list, get */

static void on_list(void *data, const db_result_t *r) {
  http_req_t *req = data;
  api_respond_list(req, r, api_ctx(req)->flow);
}

/* The list filters of /api/bookings (and the org's list): status, from, to, event_type_id and
 * the page. 0, or -1 after failing v. */
typedef struct {
  const char *status, *et;
  char from_s[32], to_s[32];
  api_page_t *page;
} list_filters_t;

static int parse_filters(http_req_t *req, api_v_t *v, list_filters_t *f) {
  f->status = api_query_param(req, "status");
  const char *from = api_query_param(req, "from"), *to = api_query_param(req, "to");
  f->et = api_query_param(req, "event_type_id");
  f->page = arena_calloc(req->arena, sizeof *f->page);
  const char *status = f->status;
  static const char *const statuses[] = {"pending", "confirmed", "cancelled", "declined", "pending_payment", "expired",
                                         NULL};
  int known = !status;
  for (const char *const *s = statuses; status && *s && !known; s++) known = strcmp(status, *s) == 0;
  if (!known)
    api_v_fail(v, "status", "status must be pending, confirmed, cancelled, declined, pending_payment or expired");
  int64_t t, day;
  /* from/to: RFC 3339 instants, or dates (UTC midnight) */
  if (from && time_parse_rfc3339(from, &t) == 0) time_format_utc(t, f->from_s, sizeof f->from_s);
  else if (from && parse_date(from, &day) == 0) time_format_utc(day * 86400, f->from_s, sizeof f->from_s);
  else if (from) api_v_fail(v, "from", "from must be YYYY-MM-DD or an RFC 3339 date-time");
  if (to && time_parse_rfc3339(to, &t) == 0) time_format_utc(t, f->to_s, sizeof f->to_s);
  else if (to && parse_date(to, &day) == 0) time_format_utc((day + 1) * 86400, f->to_s, sizeof f->to_s);
  else if (to) api_v_fail(v, "to", "to must be YYYY-MM-DD or an RFC 3339 date-time");
  if (f->et && !api_parse_id(f->et)) api_v_fail(v, "event_type_id", "event_type_id must be a positive integer");
  api_page_parse(v, 50, 200, f->page);
  api_ctx(req)->flow = f->page;
  return v->failed ? -1 : 0;
}

int bookings_list(http_req_t *req) {
  api_v_t v;
  api_v_init(&v, req, NULL);
  list_filters_t f = {0};
  if (parse_filters(req, &v, &f)) return api_v_respond(&v);
  const char *params[7] = {api_ctx(req)->user_id_str, f.status, f.from_s[0] ? f.from_s : NULL,
                           f.to_s[0] ? f.to_s : NULL, f.et, f.page->limit_s, f.page->offset_s};
  api_query(req, "bookings_list", 7, params, on_list);
  return 0;
}

int org_bookings_list(http_req_t *req) {
  org_params_t op;
  if (org_params(req, &op)) return 0;
  api_v_t v;
  api_v_init(&v, req, NULL);
  list_filters_t f = {0};
  const char *host = api_query_param(req, "host_id");
  if (host && !api_parse_id(host)) api_v_fail(&v, "host_id", "host_id must be a user id");
  if (parse_filters(req, &v, &f)) return api_v_respond(&v);
  const char *rest[7] = {host, f.status, f.from_s[0] ? f.from_s : NULL, f.to_s[0] ? f.to_s : NULL, f.et,
                         f.page->limit_s, f.page->offset_s};
  org_query(req, "org_bookings_list", &op, 7, rest, org_on_list);
  return 0;
}

static void on_get(void *data, const db_result_t *r) { api_respond_db(data, r, 200); }

int bookings_get(http_req_t *req) {
  const char *id = api_id_param(req, "id", "booking not found");
  if (!id) return 0;
  const char *params[2] = {api_ctx(req)->user_id_str, id};
  api_query(req, "booking_get_for_host", 2, params, on_get);
  return 0;
}

/* POST /api/bookings/:id/reassign {host_id?}: an org's admins, its keys, or the host. */
int bookings_reassign(http_req_t *req) {
  const char *id = api_id_param(req, "id", "booking not found");
  if (!id) return 0;
  book_reassign_t r = {.booking_id = api_parse_id(id), .user = api_ctx(req)->user_id_str, .key_org = api_key_org(req)};
  if (req->body.len) {
    if (api_body_object(req)) return 0;
    api_v_t v;
    api_v_init(&v, req, api_ctx(req)->body);
    long long host = 0;
    api_v_int(&v, "host_id", 1, INT64_MAX / 2, 0, NULL, &host);
    if (v.failed) return api_v_respond(&v);
    r.host = host;
  }
  book_reassign(req, &r, &book_native_changed);
  return 0;
}

/* ------------------------------------------------------------------ transitions */

/* Host routes: /api/bookings/:id/<action>. */
static int host_action(http_req_t *req, const char *action) {
  const char *id = api_id_param(req, "id", "booking not found");
  if (!id) return 0;
  book_change_t c = {.action = action, .user = api_ctx(req)->user_id_str, .by = "host"};
  snprintf(c.booking_id, sizeof c.booking_id, "%s", id);
  if (req->body.len) { /* optional {reason} for cancel/decline; {start_time, timezone} to reschedule */
    if (api_body_object(req)) return 0;
    api_v_t v;
    api_v_init(&v, req, api_ctx(req)->body);
    c.reason = api_v_str(&v, "reason", 0, 0, 2000);
    int following = 0; /* cancel {following: true}: the later occurrences of its series too */
    if (strcmp(action, "cancel") == 0 && api_v_bool(&v, "following", &following) && following)
      c.action = "cancel_following";
    if (strcmp(action, "reschedule") == 0) {
      const char *st = api_v_str(&v, "start_time", 1, 1, 40);
      if (st && time_parse_rfc3339(st, &c.new_start) != 0)
        api_v_fail(&v, "start_time", "start_time must be an RFC 3339 date-time");
      c.new_tz = api_v_str(&v, "timezone", 0, 1, 64);
      if (c.new_tz && !tz_get(c.new_tz)) api_v_fail(&v, "timezone", "timezone must be an IANA time zone name");
      int fresh = 0; /* new_booking: true — a new booking at the new time, this one cancelled and linked */
      if (api_v_bool(&v, "new_booking", &fresh) && fresh) c.action = "rebook";
    }
    if (v.failed) return api_v_respond(&v);
  } else if (strcmp(action, "reschedule") == 0) {
    api_error_field(req, 400, E_VALIDATION, "start_time is required", "start_time");
    return 0;
  }
  book_change(req, &c, &book_native_changed);
  return 0;
}

int bookings_cancel(http_req_t *req) { return host_action(req, "cancel"); }
int bookings_decline(http_req_t *req) { return host_action(req, "decline"); }
int bookings_no_show(http_req_t *req) { return host_action(req, "no_show"); }
int bookings_confirm(http_req_t *req) { return host_action(req, "confirm"); }
int bookings_reschedule(http_req_t *req) { return host_action(req, "reschedule"); }
