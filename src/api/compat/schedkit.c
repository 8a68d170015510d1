/* schedkit.c — SchedKit's /v1 API (issue 17; seed 002 first, then docs.schedkit.net, the vendor
 * server's own spellings accepted as aliases), as a thin layer over slotd's cores:
 *
 *   POST /v1/book/:username/:event_slug            book_create (public), the seed's 201 object
 *   POST /v1/book/:org_slug/:team_slug/:event_slug  the same for an organisation's event type
 *   GET  /v1/bookings, /v1/bookings/:id            the native list and read (api.bookings_list)
 *   POST /v1/bookings/:id/reschedule               book_change "reschedule" (the host moves it)
 *   GET  /v1/bookings/:confirm_token/{confirm,decline}   the host's e-mailed links
 *   GET  /v1/cancel/:token, POST /v1/cancel/:token[/confirm]     the invitee's cancel link
 *   GET  /v1/reschedule/:token, POST /v1/reschedule/:token       the invitee's reschedule link
 *   GET  /v1/slots/:username/:event_slug[, /:org/:team/:event]  availability_slots (the engine)
 *   GET/POST /v1/event-types, GET/PATCH/DELETE /v1/event-types/:id   the native event types
 *   GET  /v1/auth/me
 *
 * Token links: a browser (no Accept: application/json) gets the native pages themselves
 * (booking_links.c's handlers, which choose HTML or JSON by Accept); an API client gets JSON in
 * SchedKit's words, resolved by the native statement booking_id_for_token and changed by the
 * core with this dialect's presenter. Errors are SchedKit's {"error": "message"} (schedkit_dialect),
 * the dispatcher's 401/415/429 included; times are RFC 3339 in UTC with Z. Webhook subscriptions
 * (SchedKit's deliveries) are another module's. */
#include <inttypes.h>
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../app.h"
#include "../../core/arena.h"
#include "../../core/buf.h"
#include "../../core/crypto.h"
#include "../../core/timeutil.h"
#include "../../sched/tzif.h"
#include "../availability.h"
#include "../book.h"
#include "../bookings.h"
#include "../dispatch.h"
#include "../event_types.h"
#include "../query.h"
#include "../respond.h"
#include "../schedules.h"
#include "../validate.h"

/* ------------------------------------------------------------------ the dialect */

/* SchedKit's error body: {"error": "<message>"}, whatever the status. */
static void schedkit_error(const api_failure_t *f, buf_t *out) {
  buf_puts(out, "{\"error\":");
  buf_json_str(out, f->message && *f->message ? f->message : "Error");
  buf_putc(out, '}');
}

static const api_dialect_t schedkit_dialect = {"schedkit", schedkit_error, NULL, NULL};

/* clang-format off */
#define PUB(fn) api_dispatch, ROUTE_PUBLIC, &(const api_handler_t){fn, API_PUBLIC, &schedkit_dialect}
#define AUTH(fn) api_dispatch, 0, &(const api_handler_t){fn, API_AUTH, &schedkit_dialect}
/* clang-format on */

static void fail(http_req_t *req, int status, const char *message) {
  api_error(req, status, api_code_for_status(status), message);
}

static int wants_json(http_req_t *req) {
  const char *a = http_req_header(req, "Accept");
  return a && strstr(a, "application/json") != NULL;
}

/* ------------------------------------------------------------------ shapes */

static json_t *str_or_null(json_t *v) { return json_is_string(v) ? json_incref(v) : json_null(); }

/* A booking in SchedKit's row shape, from the native booking JSON (api.booking_json_with). The
 * native answers {question_id: answer} are given both ways SchedKit spells them. */
static json_t *booking_row(json_t *nb) {
  json_t *o = json_object();
  json_object_set(o, "id", json_object_get(nb, "id"));
  json_object_set_new(o, "uid", str_or_null(json_object_get(nb, "uid")));
  json_object_set(o, "event_type_id", json_object_get(nb, "event_type_id"));
  json_object_set_new(o, "event_type", str_or_null(json_object_get(nb, "event_name")));
  json_object_set_new(o, "attendee_name", str_or_null(json_object_get(nb, "invitee_name")));
  json_object_set_new(o, "attendee_email", str_or_null(json_object_get(nb, "invitee_email")));
  json_object_set_new(o, "attendee_timezone", str_or_null(json_object_get(nb, "timezone")));
  json_object_set_new(o, "start_time", str_or_null(json_object_get(nb, "start")));
  json_object_set_new(o, "end_time", str_or_null(json_object_get(nb, "end")));
  json_object_set_new(o, "status", str_or_null(json_object_get(nb, "status")));
  json_object_set_new(o, "notes", str_or_null(json_object_get(nb, "notes")));
  json_t *answers = json_object_get(nb, "answers"), *list = json_array(), *map = json_object();
  const char *k;
  json_t *v;
  if (json_is_object(answers)) json_object_foreach(answers, k, v) {
      json_array_append_new(list, json_pack("{s:s, s:O}", "question_id", k, "answer", v));
      json_object_set(map, k, v);
    }
  json_object_set_new(o, "answers", list);
  json_object_set_new(o, "custom_responses", map);
  json_t *host = json_object_get(nb, "host"); /* organisation types: the host it went to */
  if (json_is_object(host)) json_object_set(o, "user_id", json_object_get(host, "id"));
  json_object_set_new(o, "created_at", str_or_null(json_object_get(nb, "created_at_rfc3339")));
  return o;
}

/* The native booking JSON text -> SchedKit's row; NULL if it is not an object. */
static json_t *booking_row_text(const char *body, size_t len) {
  json_t *nb = json_loadb(body, len, 0, NULL);
  json_t *o = json_is_object(nb) ? booking_row(nb) : NULL;
  json_decref(nb);
  return o;
}

static void respond_row(http_req_t *req, int status, const char *body, size_t len, json_t *extra) {
  json_t *o = booking_row_text(body, len);
  if (!o) {
    json_decref(extra);
    fail(req, 500, "internal error");
    return;
  }
  if (extra) json_object_update(o, extra);
  json_decref(extra);
  api_respond_json(req, status, o);
}

/* ------------------------------------------------------------------ POST /v1/book/... */

/* The seed's 201: exactly its nine fields. requires_confirmation is what the status says: a
 * booking of a type that needs the host's confirmation is made pending. */
static void created(http_req_t *req, const book_result_t *res) {
  json_t *nb = json_loadb(res->body, res->len, 0, NULL);
  const char *cancel = res->cancel_token, *resched = res->reschedule_token;
  if (res->series) { /* a recurring type, booked as one occurrence (parse_booking): its only element */
    json_t *first = json_incref(json_array_get(nb, 0));
    json_decref(nb);
    nb = first;
    cancel = json_string_value(json_object_get(nb, "cancel_token"));
    resched = json_string_value(json_object_get(nb, "reschedule_token"));
  }
  const char *status = json_string_value(json_object_get(nb, "status"));
  json_t *o = json_object();
  json_object_set(o, "id", json_object_get(nb, "id"));
  json_object_set_new(o, "status", status ? json_string(status) : json_null());
  json_object_set_new(o, "requires_confirmation", json_boolean(status && strcmp(status, "pending") == 0));
  json_object_set_new(o, "attendee_name", str_or_null(json_object_get(nb, "invitee_name")));
  json_object_set_new(o, "attendee_email", str_or_null(json_object_get(nb, "invitee_email")));
  json_object_set_new(o, "start_time", str_or_null(json_object_get(nb, "start")));
  json_object_set_new(o, "end_time", str_or_null(json_object_get(nb, "end")));
  json_object_set_new(o, "cancel_token", cancel ? json_string(cancel) : json_null());
  json_object_set_new(o, "reschedule_token", resched ? json_string(resched) : json_null());
  json_decref(nb);
  http_set_header(req, "Cache-Control", "no-store"); /* the tokens are shown this once */
  api_respond_json(req, 201, o);
}

static const book_presenter_t created_presenter = {created, NULL};

/* The seed's body (attendee_name, attendee_email, start_time, timezone, notes, answers
 * [{question_id, answer}]) and the vendor server's spellings (attendee_timezone,
 * custom_responses {id: value}) into the core's request. The answers, either way, become the
 * native {question_id: answer} object, kept in the request's body (freed with it). 0, or -1
 * after responding 400. */
static int parse_booking(http_req_t *req, book_request_t *b) {
  if (api_body_object(req)) return -1;
  json_t *body = api_ctx(req)->body;
  api_v_t v;
  api_v_init(&v, req, body);
  const char *st = api_v_str(&v, "start_time", 1, 1, 40);
  if (st && time_parse_rfc3339(st, &b->start) != 0)
    api_v_fail(&v, "start_time", "start_time must be an ISO 8601 date-time in UTC, e.g. 2026-03-20T14:00:00Z");
  b->name = api_v_line(&v, "attendee_name", 1, 1, 200);
  b->email = api_v_str(&v, "attendee_email", 1, 3, 254);
  if (b->email && !api_valid_email(b->email))
    api_v_fail(&v, "attendee_email", "attendee_email must be a valid email address");
  const char *tz = api_v_str(&v, "timezone", 0, 1, 64), *atz = api_v_str(&v, "attendee_timezone", 0, 1, 64);
  if (tz && atz && strcmp(tz, atz) != 0)
    api_v_fail(&v, "timezone", "timezone and attendee_timezone name different zones");
  b->timezone = tz ? tz : atz;
  if (!v.failed && !b->timezone) api_v_fail(&v, "timezone", "timezone is required (an IANA time zone name)");
  if (b->timezone && !tz_get(b->timezone)) api_v_fail(&v, "timezone", "timezone must be an IANA time zone name");
  b->notes = api_v_str(&v, "notes", 0, 0, 5000);
  json_t *answers = json_object_get(body, "answers"), *custom = json_object_get(body, "custom_responses");
  json_t *merged = NULL;
  if (!v.failed && answers && !json_is_null(answers)) {
    size_t i;
    json_t *a;
    if (!json_is_array(answers) || json_array_size(answers) > 50)
      api_v_fail(&v, "answers", "answers must be an array of {question_id, answer}");
    merged = json_object();
    json_array_foreach(answers, i, a) {
      const char *qid = json_string_value(json_object_get(a, "question_id"));
      json_t *ans = json_object_get(a, "answer");
      if (!json_is_object(a) || !qid || !*qid || !ans) {
        api_v_fail(&v, "answers", "answers[%zu] must be {question_id, answer}", i);
        break;
      }
      json_object_set(merged, qid, ans);
    }
  }
  if (!v.failed && custom && !json_is_null(custom)) {
    if (!json_is_object(custom)) {
      api_v_fail(&v, "custom_responses", "custom_responses must be an object {question_id: answer}");
    } else {
      if (!merged) merged = json_object();
      const char *k;
      json_t *x;
      json_object_foreach(custom, k, x) {
        json_t *had = json_object_get(merged, k);
        if (had && !json_equal(had, x)) {
          api_v_fail(&v, "custom_responses", "answers and custom_responses give %s two different answers", k);
          break;
        }
        json_object_set(merged, k, x);
      }
    }
  }
  if (v.failed) {
    json_decref(merged);
    api_v_respond(&v);
    return -1;
  }
  if (merged) {
    json_object_set_new(body, "answers", merged); /* owned by the body from here */
    b->answers = merged;
  }
  b->seats = 1;
  b->recurrence_count = 1; /* SchedKit books one meeting: a recurring type's first occurrence only */
  return 0;
}

static int book(http_req_t *req) {
  book_request_t *b = arena_calloc(req->arena, sizeof *b);
  if (parse_booking(req, b)) return 0;
  b->target.slug = http_req_param(req, "username");
  b->target.event_slug = http_req_param(req, "event_slug");
  if (strlen(b->target.slug) > 60 || strlen(b->target.event_slug) > 60) {
    fail(req, 404, "Event type not found");
    return 0;
  }
  book_create(req, b, &created_presenter);
  return 0;
}

static void on_team_type(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  book_request_t *b = api_ctx(req)->flow;
  b->target.event_type_id = api_parse_id(PQgetvalue(r->res, 0, 0));
  book_create(req, b, &created_presenter);
}

/* The team path: the organisation's event type that team hosts (api.schedkit_team_event_type). */
static int book_team(http_req_t *req) {
  book_request_t *b = arena_calloc(req->arena, sizeof *b);
  if (parse_booking(req, b)) return 0;
  const char *params[3] = {http_req_param(req, "org_slug"), http_req_param(req, "team_slug"),
                           http_req_param(req, "event_slug")};
  for (int i = 0; i < 3; i++)
    if (strlen(params[i]) > 60) {
      fail(req, 404, "Event type not found");
      return 0;
    }
  api_ctx(req)->flow = b;
  api_query(req, "schedkit_team_event_type", 3, params, on_team_type);
  return 0;
}

/* ------------------------------------------------------------------ the host's bookings */

static const char *const STATUSES[] = {"confirmed",       "pending", "cancelled", "declined",
                                       "pending_payment", "expired", NULL};

static void on_list(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  json_t *arr = json_loadb(PQgetvalue(r->res, 0, 0), (size_t)PQgetlength(r->res, 0, 0), 0, NULL);
  json_t *rows = json_array();
  size_t i;
  json_t *nb;
  json_array_foreach(arr, i, nb) json_array_append_new(rows, booking_row(nb));
  json_decref(arr);
  json_t *o =
      json_pack("{s:o, s:I}", "bookings", rows, "total", (json_int_t)strtoll(PQgetvalue(r->res, 0, 1), NULL, 10));
  api_respond_json(req, 200, o);
}

/* GET /v1/bookings?limit=50&page=1[&status=]: the caller's bookings, past and upcoming. */
static int list(http_req_t *req) {
  api_v_t v;
  api_v_init(&v, req, NULL);
  const char *status = api_query_param(req, "status");
  int known = !status;
  for (const char *const *s = STATUSES; status && *s && !known; s++) known = strcmp(status, *s) == 0;
  if (!known) api_v_fail(&v, "status", "status must be confirmed, pending, cancelled or declined");
  api_page_t *page = arena_calloc(req->arena, sizeof *page);
  api_page_parse(&v, 50, 200, page);
  if (v.failed) return api_v_respond(&v);
  const char *params[7] = {api_ctx(req)->user_id_str, status, NULL, NULL, NULL, page->limit_s, page->offset_s};
  api_query(req, "bookings_list", 7, params, on_list);
  return 0;
}

static void on_get(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  if (PQntuples(r->res) < 1 || PQgetisnull(r->res, 0, 0)) {
    fail(req, 404, "Not found");
    return;
  }
  respond_row(req, 200, PQgetvalue(r->res, 0, 0), (size_t)PQgetlength(r->res, 0, 0), NULL);
}

static int get(http_req_t *req) {
  const char *id = api_id_param(req, "id", "Not found");
  if (!id) return 0;
  const char *params[2] = {api_ctx(req)->user_id_str, id};
  api_query(req, "booking_get_for_host", 2, params, on_get);
  return 0;
}

/* A change's answer: the booking as GET shows it; a move also says ok: true, as the vendor's
 * server answers a reschedule ({ok, start_time, end_time}). */
static void changed(http_req_t *req, const book_result_t *res) {
  json_t *extra = strcmp(res->action, "reschedule") == 0 ? json_pack("{s:b}", "ok", 1) : NULL;
  respond_row(req, 200, res->body, res->len, extra);
}

static const book_presenter_t changed_presenter = {changed, NULL};

/* {start_time (required), timezone or attendee_timezone}: the new time, and optionally a new
 * zone for the attendee. 0, or -1 after responding 400. */
static int parse_move(http_req_t *req, book_change_t *c) {
  if (!req->body.len) {
    fail(req, 400, "start_time required");
    return -1;
  }
  if (api_body_object(req)) return -1;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  const char *st = api_v_str(&v, "start_time", 1, 1, 40);
  if (st && time_parse_rfc3339(st, &c->new_start) != 0)
    api_v_fail(&v, "start_time", "start_time must be an ISO 8601 date-time in UTC, e.g. 2026-03-21T15:00:00Z");
  const char *tz = api_v_str(&v, "timezone", 0, 1, 64), *atz = api_v_str(&v, "attendee_timezone", 0, 1, 64);
  if (tz && atz && strcmp(tz, atz) != 0)
    api_v_fail(&v, "timezone", "timezone and attendee_timezone name different zones");
  c->new_tz = tz ? tz : atz;
  if (c->new_tz && !tz_get(c->new_tz)) api_v_fail(&v, "timezone", "timezone must be an IANA time zone name");
  if (v.failed) return api_v_respond(&v), -1;
  return 0;
}

/* POST /v1/bookings/:id/reschedule: the host moves the booking (the same booking, its tokens
 * kept), judged by the engine like every move: 409 when the new time is not free. */
static int reschedule(http_req_t *req) {
  const char *id = api_id_param(req, "id", "Not found");
  if (!id) return 0;
  book_change_t c = {.action = "reschedule", .user = api_ctx(req)->user_id_str, .by = "host"};
  snprintf(c.booking_id, sizeof c.booking_id, "%s", id);
  if (parse_move(req, &c)) return 0;
  book_change(req, &c, &changed_presenter);
  return 0;
}

/* ------------------------------------------------------------------ token links (JSON) */

/* The JSON side of a token link: the change to make once the token names a booking. */
typedef struct {
  book_change_t c;
} link_t;

static void link_done(http_req_t *req, const book_result_t *res) {
  if (strcmp(res->action, "cancel") == 0) { /* the vendor's answer, with the booking's id */
    json_t *nb = json_loadb(res->body, res->len, 0, NULL);
    json_t *o = json_pack("{s:s, s:O, s:O}", "status", "cancelled", "id", json_object_get(nb, "id"), "uid",
                          json_object_get(nb, "uid"));
    json_decref(nb);
    api_respond_json(req, 200, o ? o : json_object());
    return;
  }
  if (strcmp(res->action, "rebook") == 0) { /* a new booking with new tokens, the old one cancelled */
    json_t *nb = json_loadb(res->body, res->len, 0, NULL);
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string("rescheduled"));
    json_object_set(o, "id", json_object_get(nb, "id"));
    json_object_set_new(o, "uid", str_or_null(json_object_get(nb, "uid")));
    json_object_set_new(o, "booking_status", str_or_null(json_object_get(nb, "status")));
    json_object_set_new(o, "start_time", str_or_null(json_object_get(nb, "start")));
    json_object_set_new(o, "end_time", str_or_null(json_object_get(nb, "end")));
    json_object_set_new(o, "cancel_token", res->cancel_token ? json_string(res->cancel_token) : json_null());
    json_object_set_new(o, "reschedule_token",
                        res->reschedule_token ? json_string(res->reschedule_token) : json_null());
    json_object_set_new(
        o, "cancel_url",
        res->cancel_token ? json_string(arena_printf(req->arena, "/v1/cancel/%s", res->cancel_token)) : json_null());
    json_object_set_new(o, "reschedule_url",
                        res->reschedule_token
                            ? json_string(arena_printf(req->arena, "/v1/reschedule/%s", res->reschedule_token))
                            : json_null());
    json_decref(nb);
    http_set_header(req, "Cache-Control", "no-store");
    api_respond_json(req, 200, o);
    return;
  }
  respond_row(req, 200, res->body, res->len, NULL);
}

static const book_presenter_t link_presenter = {link_done, NULL};

/* Resolves the path's token of a kind through the native token links (the database holds their
 * SHA-256 only), then makes l's change with this dialect's presenter. */
static int by_token(http_req_t *req, link_t *l, const char *kind) {
  links_change_by_token(req, kind, http_req_param(req, "token"), &l->c, &link_presenter, "Invalid token");
  return 0;
}

static link_t *new_link(http_req_t *req, const char *action, const char *by) {
  link_t *l = arena_calloc(req->arena, sizeof *l);
  l->c.action = action;
  l->c.by = by;
  return l;
}

/* A browser's form post (text/html, not JSON) is the native page's. */
static int browser_form(http_req_t *req) {
  const char *a = http_req_header(req, "Accept");
  return a && strstr(a, "text/html") && !strstr(a, "application/json");
}

/* GET /v1/bookings/:token/confirm|decline: the host's e-mailed links (browser-navigable). */
static int confirm_link(http_req_t *req) {
  if (!wants_json(req)) return links_confirm(req);
  return by_token(req, new_link(req, "confirm", "host"), "confirm");
}

static int decline_link(http_req_t *req) {
  if (!wants_json(req)) return links_decline(req);
  return by_token(req, new_link(req, "decline", "host"), "confirm");
}

/* GET /v1/cancel/:token: the booking (JSON), or the native page with its button. */
static int cancel_page(http_req_t *req) {
  if (!wants_json(req)) return links_cancel_page(req);
  return by_token(req, new_link(req, "get", "invitee"), "cancel");
}

/* POST /v1/cancel/:token/confirm (the seed's) and POST /v1/cancel/:token (the vendor server's):
 * an optional {reason}. */
static int cancel(http_req_t *req) {
  if (browser_form(req)) return links_cancel(req);
  link_t *l = new_link(req, "cancel", "invitee");
  if (req->body.len) {
    if (api_body_object(req)) return 0;
    api_v_t v;
    api_v_init(&v, req, api_ctx(req)->body);
    l->c.reason = api_v_str(&v, "reason", 0, 0, 2000);
    if (v.failed) return api_v_respond(&v);
  }
  return by_token(req, l, "cancel");
}

static int reschedule_page(http_req_t *req) {
  if (!wants_json(req)) return links_reschedule_page(req);
  return by_token(req, new_link(req, "get", "invitee"), "reschedule");
}

/* POST /v1/reschedule/:token {start_time, attendee_timezone | timezone}: as SchedKit's server
 * does, a new booking at the new time (new id, uid and tokens) and the old one cancelled — the
 * core's rebook, decided by the engine like a move. The native page's own button (a browser's
 * empty form post with ?start_time=) is the native handler's. */
static int reschedule_link(http_req_t *req) {
  if (!req->body.len && browser_form(req) && api_query_param(req, "start_time")) return links_reschedule(req);
  link_t *l = new_link(req, "rebook", "invitee");
  if (parse_move(req, &l->c)) return 0;
  return by_token(req, l, "reschedule");
}

/* ------------------------------------------------------------------ GET /v1/slots */

typedef struct {
  avail_query_t q;
  const char *date, *zone;
  const tz_t *tz;
  avail_slot_t *v;
  size_t n;
} slots_t;

/* "2026-03-20T09:00:00-05:00": t on the wall clock of tz with its offset. */
static void local_iso(const tz_t *tz, int64_t t, char out[40]) {
  int32_t off = tz_offset(tz, t);
  char s[48];
  time_format_utc(t + off, s, sizeof s);
  int32_t a = off < 0 ? -off : off;
  snprintf(out, 40, "%.19s%c%02d:%02d", s, off < 0 ? '-' : '+', (int)(a / 3600 % 100), (int)(a / 60 % 60));
}

static void on_slot_type(void *data, const db_result_t *r) {
  http_req_t *req = data;
  slots_t *s = api_ctx(req)->flow;
  if (api_db_failed(req, r)) return;
  if (PQntuples(r->res) < 1 || PQgetisnull(r->res, 0, 0)) {
    fail(req, 404, "Event type not found");
    return;
  }
  json_t *et = json_loads(PQgetvalue(r->res, 0, 0), 0, NULL);
  json_t *arr = json_array();
  for (size_t i = 0; i < s->n; i++) {
    char a[32], b[32], la[40], lb[40];
    time_format_utc(s->v[i].start, a, sizeof a);
    time_format_utc(s->v[i].end, b, sizeof b);
    local_iso(s->tz, s->v[i].start, la);
    local_iso(s->tz, s->v[i].end, lb);
    json_array_append_new(arr,
                          json_pack("{s:s, s:s, s:s, s:s}", "start", a, "end", b, "start_local", la, "end_local", lb));
  }
  json_t *o = json_pack("{s:s, s:s, s:o, s:o}", "date", s->date, "timezone", tz_name(s->tz), "event_type",
                        et ? et : json_object(), "slots", arr);
  api_respond_json(req, 200, o);
}

static void on_slots(http_req_t *req, void *data, const inputs_t *in, const avail_slot_t *v, size_t n,
                     const db_result_t *failure) {
  (void)data;
  slots_t *s = api_ctx(req)->flow;
  if (!in) {
    if (failure) api_db_failed(req, failure);
    else fail(req, 500, "internal error");
    return;
  }
  s->v = arena_alloc(req->arena, (n ? n : 1) * sizeof *s->v);
  s->n = 0;
  for (size_t i = 0; i < n; i++)
    if (v[i].start >= s->q.from && v[i].start < s->q.to) s->v[s->n++] = v[i];
  char *id = arena_printf(req->arena, "%" PRId64, in->event.id);
  const char *params[1] = {id};
  api_query(req, "schedkit_slots_event_type", 1, params, on_slot_type);
}

/* ?date=YYYY-MM-DD (required) & timezone= (default UTC): the slots starting on that day there. */
static slots_t *slots_window(http_req_t *req) {
  slots_t *s = arena_calloc(req->arena, sizeof *s);
  s->date = api_query_param(req, "date");
  s->zone = api_query_param(req, "timezone");
  int64_t day;
  if (!s->date || parse_date(s->date, &day) != 0) {
    fail(req, 400, "date query param required (YYYY-MM-DD)");
    return NULL;
  }
  s->tz = tz_get(s->zone && *s->zone ? s->zone : "UTC");
  if (!s->tz) {
    fail(req, 400, "timezone must be an IANA time zone name");
    return NULL;
  }
  s->q.from = tz_local_to_utc(s->tz, day * 86400);
  s->q.to = tz_local_to_utc(s->tz, (day + 1) * 86400);
  api_ctx(req)->flow = s;
  return s;
}

static int slots(http_req_t *req) {
  slots_t *s = slots_window(req);
  if (!s) return 0;
  s->q.slug = http_req_param(req, "username");
  s->q.event_slug = http_req_param(req, "event_slug");
  if (strlen(s->q.slug) > 60 || strlen(s->q.event_slug) > 60) {
    fail(req, 404, "Event type not found");
    return 0;
  }
  availability_slots(req, &s->q, on_slots, NULL);
  return 0;
}

static void on_team_slots_type(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  slots_t *s = api_ctx(req)->flow;
  s->q.event_type_id = api_parse_id(PQgetvalue(r->res, 0, 0));
  availability_slots(req, &s->q, on_slots, NULL);
}

static int team_slots(http_req_t *req) {
  slots_t *s = slots_window(req);
  if (!s) return 0;
  const char *params[3] = {http_req_param(req, "org_slug"), http_req_param(req, "team_slug"),
                           http_req_param(req, "event_slug")};
  for (int i = 0; i < 3; i++)
    if (strlen(params[i]) > 60) {
      fail(req, 404, "Event type not found");
      return 0;
    }
  api_query(req, "schedkit_team_event_type", 3, params, on_team_slots_type);
  return 0;
}

/* ------------------------------------------------------------------ event types */

/* SchedKit's location types onto slotd's: video is stored as google_meet (slotd has no generic
 * video type; the location text says which), other as custom. */
static const char *native_location(const char *s) {
  if (strcmp(s, "video") == 0) return "google_meet";
  if (strcmp(s, "phone") == 0) return "phone";
  if (strcmp(s, "in_person") == 0) return "in_person";
  if (strcmp(s, "other") == 0) return "custom";
  return NULL;
}

static const char *schedkit_location(const char *s) {
  if (!s) return NULL;
  if (strcmp(s, "google_meet") == 0 || strcmp(s, "zoom") == 0) return "video";
  if (strcmp(s, "custom") == 0) return "other";
  return s; /* phone, in_person */
}

/* The native event type JSON -> SchedKit's. custom_fields is a JSON string of
 * [{id, label, type, required[, options]}], as the vendor's rows hold it. */
static json_t *event_type_out(json_t *n) {
  json_t *o = json_object();
  json_object_set(o, "id", json_object_get(n, "id"));
  json_object_set_new(o, "title", str_or_null(json_object_get(n, "name")));
  json_object_set_new(o, "slug", str_or_null(json_object_get(n, "slug")));
  json_object_set_new(o, "description", str_or_null(json_object_get(n, "description")));
  json_object_set(o, "duration_minutes", json_object_get(n, "duration_minutes"));
  json_object_set(o, "buffer_before", json_object_get(n, "buffer_before"));
  json_object_set(o, "buffer_after", json_object_get(n, "buffer_after"));
  json_object_set_new(o, "min_notice_minutes",
                      json_integer(json_integer_value(json_object_get(n, "min_notice_hours")) * 60));
  json_t *lpd = json_object_get(n, "limit_per_day");
  json_object_set_new(o, "max_bookings_per_day", json_is_integer(lpd) ? json_incref(lpd) : json_null());
  const char *lt = schedkit_location(json_string_value(json_object_get(n, "location_type")));
  json_object_set_new(o, "location_type", lt ? json_string(lt) : json_null());
  json_object_set_new(o, "location", str_or_null(json_object_get(n, "location_value")));
  json_t *qs = json_object_get(n, "questions");
  char *cf = json_dumps(json_is_array(qs) ? qs : json_array(), JSON_COMPACT);
  json_object_set_new(o, "custom_fields", json_string(cf ? cf : "[]"));
  free(cf);
  json_object_set(o, "requires_confirmation", json_object_get(n, "requires_confirmation"));
  json_object_set_new(o, "active", json_boolean(json_integer_value(json_object_get(n, "is_active")) == 1));
  json_object_set_new(o, "created_at", str_or_null(json_object_get(n, "created_at_rfc3339")));
  return o;
}

/* Native field -> SchedKit's, for a refusal's message. */
static const char *const FIELD_NAMES[][2] = {
    {"name", "title"},
    {"min_notice_hours", "min_notice_minutes"},
    {"questions", "custom_fields"},
    {"location_value", "location"},
    {"limit_per_day", "max_bookings_per_day"},
    {NULL, NULL},
};

static void respond_native_failure(api_v_t *nv) {
  for (int i = 0; nv->field && FIELD_NAMES[i][0]; i++) {
    size_t fl = strlen(FIELD_NAMES[i][0]);
    if (strcmp(nv->field, FIELD_NAMES[i][0]) != 0) continue;
    char msg[sizeof nv->message + 64];
    if (strncmp(nv->message, nv->field, fl) == 0)
      snprintf(msg, sizeof msg, "%s%s", FIELD_NAMES[i][1], nv->message + fl);
    else snprintf(msg, sizeof msg, "%s: %s", FIELD_NAMES[i][1], nv->message);
    snprintf(nv->message, sizeof nv->message, "%.*s", (int)sizeof nv->message - 1, msg);
    nv->field = FIELD_NAMES[i][1];
    break;
  }
  api_v_respond(nv);
}

/* SchedKit's event-type body -> the native one (fields given only). Fields the vendor has that
 * slotd would not act on are refused, never stored and ignored. */
static void translate(api_v_t *v, json_t *b, int create, json_t *n) {
  static const char *const same[] = {"slug",         "duration_minutes",      "description", "buffer_before",
                                     "buffer_after", "requires_confirmation", NULL};
  static const char *const refused[] = {"webhook_url", "appointment_label", NULL};
  for (const char *const *f = refused; *f; f++)
    if (json_object_get(b, *f)) {
      api_v_fail(v, *f, "%s is not supported by slotd", *f);
      return;
    }
  json_t *active = json_object_get(b, "active");
  if (active && !json_is_true(active)) {
    api_v_fail(v, "active", "active must be true (DELETE /v1/event-types/:id removes an event type)");
    return;
  }
  for (const char *const *f = same; *f; f++) {
    json_t *x = json_object_get(b, *f);
    if (x) json_object_set(n, *f, x);
  }
  json_t *title = json_object_get(b, "title");
  if (title) json_object_set(n, "name", title);
  if (create && (!title || !json_object_get(b, "duration_minutes"))) {
    api_v_fail(v, !title ? "title" : "duration_minutes", "title and duration_minutes are required");
    return;
  }
  json_t *mn = json_object_get(b, "min_notice_minutes");
  if (mn) {
    if (!json_is_integer(mn) || json_integer_value(mn) < 0 || json_integer_value(mn) % 60 != 0) {
      api_v_fail(v, "min_notice_minutes",
                 "min_notice_minutes must be a whole number of hours in minutes (0, 60, 120, ...): slotd counts "
                 "minimum notice in hours");
      return;
    }
    json_object_set_new(n, "min_notice_hours", json_integer(json_integer_value(mn) / 60));
  }
  json_t *mb = json_object_get(b, "max_bookings_per_day");
  if (mb) json_object_set(n, "limit_per_day", mb);
  json_t *loc = json_object_get(b, "location");
  if (loc) json_object_set(n, "location_value", loc);
  json_t *lt = json_object_get(b, "location_type");
  if (lt && !json_is_null(lt)) {
    const char *m = json_is_string(lt) ? native_location(json_string_value(lt)) : NULL;
    if (!m) {
      api_v_fail(v, "location_type", "location_type must be video, phone, in_person or other");
      return;
    }
    json_object_set_new(n, "location_type", json_string(m));
  } else if (lt) {
    json_object_set_new(n, "location_type", json_null());
  }
  json_t *cf = json_object_get(b, "custom_fields"); /* an array, or the vendor's JSON string of one */
  if (cf) {
    json_t *arr = json_is_string(cf) ? json_loads(json_string_value(cf), 0, NULL) : json_incref(cf);
    if (!arr || !(json_is_array(arr) || json_is_null(arr))) {
      json_decref(arr);
      api_v_fail(v, "custom_fields",
                 "custom_fields must be an array of {id, label, type, required} (or its JSON text)");
      return;
    }
    json_object_set_new(n, "questions", arr);
  }
}

static void on_event_type(void *data, const db_result_t *r, int status) {
  http_req_t *req = data;
  api_write_t w;
  if (api_db_write(req, r, &w) != 0) return;
  if (w.stale) {
    fail(req, 503, "service unavailable");
    return;
  }
  json_t *n = json_loadb(w.body, w.len, 0, NULL);
  if (!json_is_object(n)) {
    json_decref(n);
    fail(req, 404, "Not found");
    return;
  }
  json_t *o = event_type_out(n);
  json_decref(n);
  api_respond_json(req, status, o);
}

static void on_et_created(void *data, const db_result_t *r) { on_event_type(data, r, 201); }
static void on_et_read(void *data, const db_result_t *r) { on_event_type(data, r, 200); }

static void on_et_deleted(void *data, const db_result_t *r) {
  http_req_t *req = data;
  api_write_t w;
  if (api_db_write(req, r, &w) != 0) return;
  api_respond_json(req, 200, json_pack("{s:b}", "deleted", 1));
}

static void on_et_list(void *data, const db_result_t *r) {
  http_req_t *req = data;
  api_write_t w;
  if (api_db_write(req, r, &w) != 0) return;
  json_t *arr = json_loadb(w.body, w.len, 0, NULL), *out = json_array();
  size_t i;
  json_t *n;
  json_array_foreach(arr, i, n) json_array_append_new(out, event_type_out(n));
  json_decref(arr);
  api_respond_json(req, 200, json_pack("{s:o}", "event_types", out));
}

static int et_save(http_req_t *req, const char *id) {
  if (api_body_object(req)) return 0;
  int create = id == NULL;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  json_t *n = json_object();
  translate(&v, api_ctx(req)->body, create, n);
  if (v.failed) {
    json_decref(n);
    return api_v_respond(&v);
  }
  api_v_t nv; /* the native rules, on the translated body */
  api_v_init(&nv, req, n);
  json_t *p = json_object();
  event_type_fields(&nv, p, create);
  json_decref(n);
  if (nv.failed) {
    json_decref(p);
    respond_native_failure(&nv);
    return 0;
  }
  api_v_t valid;
  api_v_init(&valid, req, NULL);
  if (!create) return api_save_patch(req, &valid, p, "event_type_update", 1, id, on_et_read);
  char slug[64]; /* the native default: from the title */
  api_slugify(json_string_value(json_object_get(p, "name")), slug, sizeof slug);
  if (strcmp(slug, "user") == 0) snprintf(slug, sizeof slug, "event");
  return api_save_patch(req, &valid, p, "event_type_create", 1, slug, on_et_created);
}

static int et_list(http_req_t *req) {
  const char *params[1] = {api_ctx(req)->user_id_str};
  api_query(req, "event_types_list", 1, params, on_et_list);
  return 0;
}

static int et_create(http_req_t *req) { return et_save(req, NULL); }

static int et_get(http_req_t *req) {
  const char *id = api_id_param(req, "id", "Not found");
  if (!id) return 0;
  const char *params[2] = {api_ctx(req)->user_id_str, id};
  api_query(req, "event_type_get", 2, params, on_et_read);
  return 0;
}

static int et_update(http_req_t *req) {
  const char *id = api_id_param(req, "id", "Not found");
  return id ? et_save(req, id) : 0;
}

static int et_delete(http_req_t *req) {
  const char *id = api_id_param(req, "id", "Not found");
  if (!id) return 0;
  const char *params[2] = {api_ctx(req)->user_id_str, id};
  api_query(req, "event_type_delete", 2, params, on_et_deleted);
  return 0;
}

/* ------------------------------------------------------------------ GET /v1/auth/me */

static void on_me(void *data, const db_result_t *r) { api_respond_db(data, r, 200); }

static int me(http_req_t *req) {
  const char *params[1] = {api_ctx(req)->user_id_str};
  api_query(req, "schedkit_me", 1, params, on_me);
  return 0;
}

/* ------------------------------------------------------------------ the module */

static const http_route_t routes[] = {
    {M(HTTP_POST), "/v1/book/:username/:event_slug", PUB(book)},
    {M(HTTP_POST), "/v1/book/:org_slug/:team_slug/:event_slug", PUB(book_team)},
    {M(HTTP_GET), "/v1/bookings", AUTH(list)},
    {M(HTTP_GET), "/v1/bookings/:id", AUTH(get)},
    {M(HTTP_POST), "/v1/bookings/:id/reschedule", AUTH(reschedule)},
    {M(HTTP_GET), "/v1/bookings/:token/confirm", PUB(confirm_link)},
    {M(HTTP_GET), "/v1/bookings/:token/decline", PUB(decline_link)},
    {M(HTTP_GET), "/v1/cancel/:token", PUB(cancel_page)},
    {M(HTTP_POST), "/v1/cancel/:token", PUB(cancel)},
    {M(HTTP_POST), "/v1/cancel/:token/confirm", PUB(cancel)},
    {M(HTTP_GET), "/v1/reschedule/:token", PUB(reschedule_page)},
    {M(HTTP_POST), "/v1/reschedule/:token", PUB(reschedule_link)},
    {M(HTTP_GET), "/v1/slots/:username/:event_slug", PUB(slots)},
    {M(HTTP_GET), "/v1/slots/:org_slug/:team_slug/:event_slug", PUB(team_slots)},
    {M(HTTP_GET), "/v1/event-types", AUTH(et_list)},
    {M(HTTP_POST), "/v1/event-types", AUTH(et_create)},
    {M(HTTP_GET), "/v1/event-types/:id", AUTH(et_get)},
    {M(HTTP_PATCH), "/v1/event-types/:id", AUTH(et_update)},
    {M(HTTP_DELETE), "/v1/event-types/:id", AUTH(et_delete)},
    {M(HTTP_GET), "/v1/auth/me", AUTH(me)},
};

static const api_stmt_t statements[] = {
    {"schedkit_team_event_type", "SELECT api.schedkit_team_event_type($1, $2, $3)", 0},
    {"schedkit_slots_event_type", "SELECT api.schedkit_slots_event_type($1)", 0},
    {"schedkit_me", "SELECT api.schedkit_me($1)", 0},
    {NULL, NULL, 0},
};

static void register_statements(void) { api_register_statements(statements); }

const app_module_t api_schedkit_module = {"schedkit", routes, (int)(sizeof routes / sizeof routes[0]),
                                          register_statements, "/v1/", &schedkit_dialect};
