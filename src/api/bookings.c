#include "bookings.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/crypto.h"
#include "../core/log.h"
#include "../core/timeutil.h"
#include "../sched/slots.h"
#include "availability.h"
#include "schedules.h"
#include "util.h"

#define NEXT_WINDOW (14 * 86400)
#define CONFIRMATION_ALPHABET "23456789ABCDEFGHJKMNPQRSTUVWXYZ" /* no 0/O, 1/I/L */

/* ------------------------------------------------------------------ deciding */

static json_t *rfc3339_in(const tz_t *tz, int64_t t) {
  char out[48];
  tz_format_rfc3339(tz, t, out, sizeof out);
  return json_string(out);
}

int bookings_decide(json_t *data, int64_t start, int seats, int busy_only, const char *invitee_tz, decision_t *d) {
  memset(d, 0, sizeof *d);
  sched_schedule_t s;
  sched_event_t e;
  sched_busy_t *busy;
  size_t nbusy;
  int64_t host_id, version;
  if (availability_inputs(data, &s, &e, &busy, &nbusy, &host_id, &version) != 0) return -1;
  d->end = start + e.duration;
  int reason = SLOT_OUTSIDE_HOURS;
  int seats_left = 0;
  int64_t ref = 0;
  if (busy_only) {
    reason = sched_conflict(&e, s.tz, busy, nbusy, start, &seats_left, &ref);
  } else {
    sched_slots_t one;
    sched_compute(&s, &e, busy, nbusy, (int64_t)time(NULL), start, start + 1, 1, &one);
    for (size_t i = 0; i < one.n; i++)
      if (one.v[i].start == start) {
        reason = one.v[i].reason;
        seats_left = one.v[i].seats_left;
      }
    sched_slots_free(&one);
  }
  d->seats_left = seats_left;
  if (reason == SLOT_FREE && seats_left < seats) reason = SLOT_NO_SEATS;
  switch (reason) {
    case SLOT_FREE: d->verdict = DECIDE_OK; break;
    case SLOT_OUTSIDE_HOURS:
      d->verdict = DECIDE_INVALID;
      d->why = "start_time is not a bookable time for this event type (outside working hours or off the slot grid)";
      break;
    case SLOT_NOTICE:
      d->verdict = DECIDE_INVALID;
      d->why = "start_time is too soon: the event type requires more notice";
      break;
    case SLOT_HORIZON:
      d->verdict = DECIDE_INVALID;
      d->why = "start_time is too far in the future for this event type";
      break;
    case SLOT_NO_SEATS:
      d->verdict = DECIDE_TAKEN;
      d->why = seats_left > 0 ? "not enough seats left at this time" : "time slot taken";
      break;
    case SLOT_LIMIT_DAY:
    case SLOT_LIMIT_WEEK:
      d->verdict = DECIDE_TAKEN;
      d->why = "the host's booking limit for this period is reached";
      break;
    default: d->verdict = DECIDE_TAKEN; d->why = "time slot taken";
  }
  if (d->verdict == DECIDE_TAKEN && !busy_only) { /* up to three next free slots */
    const tz_t *itz = tz_get(invitee_tz);
    if (!itz) itz = tz_get("UTC");
    sched_slots_t next;
    sched_compute(&s, &e, busy, nbusy, (int64_t)time(NULL), start + 1, start + NEXT_WINDOW, 0, &next);
    d->next = json_array();
    for (size_t i = 0; i < next.n && json_array_size(d->next) < 3; i++)
      if (next.v[i].seats_left >= seats)
        json_array_append_new(d->next, json_pack("{s:o, s:o}", "start", rfc3339_in(itz, next.v[i].start), "end",
                                                 rfc3339_in(itz, next.v[i].end)));
    sched_slots_free(&next);
  }
  free(busy);
  sched_schedule_free(&s);
  return 0;
}

int bookings_stale(http_req_t *req, const char *result, int *attempts) {
  if (strcmp(result, "{\"stale\": true}") != 0) return 0;
  if (++*attempts < BOOK_ATTEMPTS) return 1;
  http_set_header(req, "Retry-After", "1");
  api_error(req, 409, E_CONFLICT, "the host's calendar is changing quickly; try again");
  return -1;
}

void bookings_respond_decision(http_req_t *req, decision_t *d) {
  if (d->verdict == DECIDE_INVALID) {
    api_error_field(req, 400, E_VALIDATION, d->why, "start_time");
  } else {
    json_t *body = json_pack("{s:s, s:s, s:o}", "error", d->why, "code", E_CONFLICT, "next_slots",
                             d->next ? d->next : json_array());
    d->next = NULL;
    api_respond_json(req, 409, body);
  }
  json_decref(d->next);
  d->next = NULL;
}

/* ------------------------------------------------------------------ create */

typedef struct {
  const char *slug, *event_slug;
  char *name, *email, *tz, *notes, *phone, *reservation_uid;
  json_t *answers;           /* validated against the questions once the data arrives */
  int64_t start;
  int seats;
  int attempts;
  int wide;                  /* reading two weeks, for next free slots after a refusal */
  char start_s[32], to_s[32];
  char cancel_token[65], reschedule_token[65], confirm_token[65];
} book_t;

static void fetch_for_booking(http_req_t *req);

static int valid_phone(const char *s) {
  size_t n = strlen(s), digits = 0;
  if (n < 6 || n > 32) return 0;
  for (const char *p = s; *p; p++) {
    if (*p >= '0' && *p <= '9') digits++;
    else if (!strchr("+-() .", *p)) return 0;
  }
  return digits >= 6;
}

/* Answers against the event type's questions: the validated object, or NULL after responding. */
static json_t *check_answers(http_req_t *req, json_t *questions, json_t *answers) {
  json_t *out = json_object();
  char field[96];
  const char *key;
  json_t *val;
  json_object_foreach(answers, key, val) {
    int known = 0;
    size_t i;
    json_t *q;
    json_array_foreach(questions, i, q) known |= strcmp(json_string_value(json_object_get(q, "id")), key) == 0;
    if (!known) {
      snprintf(field, sizeof field, "answers.%.64s", key);
      json_decref(out);
      api_error_field(req, 400, E_VALIDATION, "answers names a question this event type does not have", field);
      return NULL;
    }
  }
  size_t i;
  json_t *q;
  json_array_foreach(questions, i, q) {
    const char *id = json_string_value(json_object_get(q, "id"));
    const char *type = json_string_value(json_object_get(q, "type"));
    int required = json_is_true(json_object_get(q, "required"));
    json_t *a = json_object_get(answers, id);
    snprintf(field, sizeof field, "answers.%s", id);
    const char *why = NULL;
    if (!a || json_is_null(a) || (json_is_string(a) && json_string_length(a) == 0) ||
        (strcmp(type, "checkbox") == 0 && json_is_false(a))) {
      if (required) why = "this question requires an answer";
      if (!why && a && !json_is_null(a)) json_object_set(out, id, a);
    } else if (strcmp(type, "checkbox") == 0) {
      if (!json_is_boolean(a)) why = "must be true or false";
    } else if (!json_is_string(a) || json_string_length(a) > 5000) {
      why = "must be a string of at most 5000 characters";
    } else if (strcmp(type, "email") == 0 && !api_valid_email(json_string_value(a))) {
      why = "must be an email address";
    } else if (strcmp(type, "phone") == 0 && !valid_phone(json_string_value(a))) {
      why = "must be a phone number";
    } else if (strcmp(type, "select") == 0) {
      int ok = 0;
      size_t k;
      json_t *o;
      json_array_foreach(json_object_get(q, "options"), k, o) ok |= json_equal(o, a);
      if (!ok) why = "must be one of the question's options";
    }
    if (why) {
      json_decref(out);
      api_error_field(req, 400, E_VALIDATION, why, field);
      return NULL;
    }
    if (a && !json_is_null(a) && !json_object_get(out, id)) json_object_set(out, id, a);
  }
  return out;
}

static void confirmation_number(char out[9]) {
  static const char alphabet[] = CONFIRMATION_ALPHABET;
  for (int i = 0; i < 8; i++) out[i] = alphabet[random_below(sizeof alphabet - 1)];
  out[8] = 0;
}

static void on_booked(void *data, const db_result_t *r) {
  http_req_t *req = data;
  book_t *b = api_ctx(req)->flow;
  if (api_db_failed(req, r)) return;
  switch (bookings_stale(req, PQgetvalue(r->res, 0, 0), &b->attempts)) {
    case 1: fetch_for_booking(req); /* the host changed meanwhile: decide again */
    /* fall through */
    case -1: return;
  }
  json_t *doc = json_loads(PQgetvalue(r->res, 0, 0), 0, NULL);
  if (!doc) {
    api_error(req, 500, E_INTERNAL, "internal error");
    return;
  }
  json_t *host = json_object_get(doc, "_host");
  if (json_is_integer(host) && api_app(req)->host_changed)
    api_app(req)->host_changed(api_app(req), json_integer_value(host));
  json_object_del(doc, "_host");
  json_t *bk = json_object_get(doc, "booking");
  /* The invitee's tokens: shown in this response only; the database has their hashes. */
  json_object_set_new(bk, "cancel_token", json_string(b->cancel_token));
  json_object_set_new(bk, "reschedule_token", json_string(b->reschedule_token));
  http_set_header(req, "Cache-Control", "no-store");
  json_incref(doc);
  api_respond_json(req, 201, doc);
  json_decref(doc);
}

static void on_booking_data(void *data, const db_result_t *r) {
  http_req_t *req = data;
  book_t *b = api_ctx(req)->flow;
  if (api_db_failed(req, r)) return;
  json_t *doc = json_loads(PQgetvalue(r->res, 0, 0), 0, NULL);
  json_t *ev = json_object_get(doc, "event");
  if (!doc || !ev) {
    json_decref(doc);
    api_error(req, 500, E_INTERNAL, "internal error");
    return;
  }
  json_t *none = json_object();
  json_t *answers = check_answers(req, json_object_get(ev, "questions"), b->answers ? b->answers : none);
  json_decref(none);
  if (!answers) {
    json_decref(doc);
    return;
  }
  int seats_cap = (int)json_integer_value(json_object_get(ev, "seats"));
  if (b->seats > seats_cap) {
    json_decref(doc);
    json_decref(answers);
    api_error_field(req, 400, E_VALIDATION, "seats exceeds the event type's capacity", "seats");
    return;
  }
  decision_t d;
  if (bookings_decide(doc, b->start, b->seats, 0, b->tz, &d) != 0) {
    json_decref(doc);
    json_decref(answers);
    api_error(req, 500, E_INTERNAL, "internal error");
    return;
  }
  if (d.verdict == DECIDE_TAKEN && !b->wide) {
    /* The first read covers only the requested time; a refusal reads two weeks to offer the
     * next free slots (and decides again on that fresh data). */
    json_decref(d.next);
    json_decref(doc);
    json_decref(answers);
    b->wide = 1;
    fetch_for_booking(req);
    return;
  }
  if (d.verdict != DECIDE_OK) {
    json_decref(doc);
    json_decref(answers);
    bookings_respond_decision(req, &d);
    return;
  }
  int pending = json_is_true(json_object_get(ev, "requires_confirmation"));
  char num[9], ch[65], rh[65], fh[65];
  confirmation_number(num);
  crypto_sha256_hex(b->cancel_token, 64, ch);
  crypto_sha256_hex(b->reschedule_token, 64, rh);
  json_t *p = json_pack("{s:O, s:O, s:O, s:I, s:I, s:s, s:i, s:b, s:s, s:s, s:s, s:o, s:s, s:s, s:s}", "host_id",
                        json_object_get(doc, "host_id"), "version", json_object_get(doc, "version"), "event_type_id",
                        json_object_get(ev, "id"), "start", (json_int_t)b->start, "end", (json_int_t)d.end, "status",
                        pending ? "pending" : "confirmed", "seats", b->seats, "seated", seats_cap > 1, "name", b->name,
                        "email", b->email, "timezone", b->tz, "answers", answers, "confirmation_number", num,
                        "cancel_hash", ch, "reschedule_hash", rh);
  if (b->notes) json_object_set_new(p, "notes", json_string(b->notes));
  if (b->phone) json_object_set_new(p, "phone", json_string(b->phone));
  if (b->reservation_uid) json_object_set_new(p, "reservation_uid", json_string(b->reservation_uid));
  if (pending) { /* the host's links, delivered with the booking.requested event */
    crypto_sha256_hex(b->confirm_token, 64, fh);
    json_object_set_new(p, "confirm_hash", json_string(fh));
    const char *base = api_app(req)->cfg->public_url;
    char url[600];
    snprintf(url, sizeof url, "%s/api/bookings/%s/confirm", base, b->confirm_token);
    json_object_set_new(p, "confirm_url", json_string(url));
    snprintf(url, sizeof url, "%s/api/bookings/%s/decline", base, b->confirm_token);
    json_object_set_new(p, "decline_url", json_string(url));
  }
  char *text = json_dumps(p, JSON_COMPACT);
  json_decref(p);
  json_decref(doc);
  const char *params[1] = {text};
  api_query(req, "booking_create", 1, params, on_booked);
  free(text);
}

static void fetch_for_booking(http_req_t *req) {
  book_t *b = api_ctx(req)->flow;
  time_format_utc(b->start + (b->wide ? NEXT_WINDOW : 1), b->to_s, sizeof b->to_s);
  const char *params[5] = {b->slug, b->event_slug, b->start_s, b->to_s, b->reservation_uid};
  api_query(req, "availability_data_excl", 5, params, on_booking_data);
}

int bookings_create(http_req_t *req) {
  if (api_body_object(req)) return 0;
  json_t *body = api_ctx(req)->body;
  api_v_t v;
  api_v_init(&v, req, body);
  book_t *b = arena_calloc(req->arena, sizeof *b);
  api_ctx(req)->flow = b;
  b->slug = http_req_param(req, "slug");
  b->event_slug = http_req_param(req, "event_slug");
  const char *name = api_v_line(&v, "name", 1, 1, 200);
  const char *email = api_v_str(&v, "email", 1, 3, 254);
  if (email && !api_valid_email(email)) api_v_fail(&v, "email", "email must be a valid email address");
  const char *tz = api_v_str(&v, "timezone", 0, 1, 64);
  if (tz && !tz_get(tz)) api_v_fail(&v, "timezone", "timezone must be an IANA time zone name");
  const char *st = api_v_str(&v, "start_time", 1, 1, 40);
  if (st && time_parse_rfc3339(st, &b->start) != 0)
    api_v_fail(&v, "start_time", "start_time must be an RFC 3339 date-time, e.g. 2026-03-10T19:00:00Z");
  const char *notes = api_v_str(&v, "notes", 0, 0, 5000);
  const char *phone = api_v_str(&v, "phone", 0, 1, 32);
  if (phone && !valid_phone(phone)) api_v_fail(&v, "phone", "phone must be a phone number");
  long long seats = 1;
  api_v_int(&v, "seats", 1, 1000, 0, NULL, &seats);
  const char *ru = api_v_str(&v, "reservation_uid", 0, 36, 36);
  if (ru && !api_valid_uuid(ru)) api_v_fail(&v, "reservation_uid", "reservation_uid must be a reservation's uid");
  json_t *answers = json_object_get(body, "answers");
  if (answers && !json_is_null(answers) && !json_is_object(answers))
    api_v_fail(&v, "answers", "answers must be an object {question_id: answer}");
  if (v.failed) return api_v_respond(&v);
  if (strlen(b->slug) > 60 || strlen(b->event_slug) > 60) {
    api_error(req, 404, E_NOT_FOUND, "event type not found");
    return 0;
  }
  b->name = arena_strdup(req->arena, name);
  b->email = arena_strdup(req->arena, email);
  for (char *p = b->email; *p; p++)
    if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
  b->tz = arena_strdup(req->arena, tz ? tz : "UTC");
  b->notes = notes && *notes ? arena_strdup(req->arena, notes) : NULL;
  b->phone = phone ? arena_strdup(req->arena, phone) : NULL;
  b->reservation_uid = ru ? arena_strdup(req->arena, ru) : NULL;
  b->answers = answers && json_is_object(answers) ? answers : NULL; /* owned by the body */
  b->seats = (int)seats;
  time_format_utc(b->start, b->start_s, sizeof b->start_s);
  crypto_token_hex(32, b->cancel_token);
  crypto_token_hex(32, b->reschedule_token);
  crypto_token_hex(32, b->confirm_token);
  fetch_for_booking(req);
  return 0;
}

/* ------------------------------------------------------------------ host: list, get */

static void on_list(void *data, const db_result_t *r) {
  http_req_t *req = data;
  long long total;
  json_t *items = api_paged_items(req, r, &total);
  if (!items) return;
  long long *lp = api_ctx(req)->flow; /* [limit, page] */
  /* RFC 8288 links keeping the caller's filters. */
  buf_t link = BUF_INIT;
  long long last = total > 0 ? (total + lp[0] - 1) / lp[0] : 1;
  const char *rels[4] = {"first", "prev", "next", "last"};
  long long pages[4] = {1, lp[1] - 1, lp[1] + 1, last};
  for (int i = 0; i < 4; i++) {
    if (pages[i] < 1 || pages[i] > last || (i == 1 && lp[1] <= 1) || (i == 2 && lp[1] >= last)) continue;
    if (link.len) buf_puts(&link, ", ");
    buf_printf(&link, "<%s/api/bookings?", api_app(req)->cfg->public_url);
    const char *q = req->query ? req->query : "";
    while (*q) { /* the query without its page parameter */
      const char *amp = strchr(q, '&');
      size_t n = amp ? (size_t)(amp - q) : strlen(q);
      if (n && strncmp(q, "page=", 5) != 0) {
        for (size_t k = 0; k < n; k++)
          if (q[k] != '<' && q[k] != '>' && q[k] != '"') buf_putc(&link, q[k]);
        buf_putc(&link, '&');
      }
      q += n + (amp ? 1 : 0);
    }
    buf_printf(&link, "page=%lld>; rel=\"%s\"", pages[i], rels[i]);
  }
  if (link.len) http_set_header(req, "Link", link.data);
  buf_free(&link);
  api_respond_json(req, 200, items);
}

int bookings_list(http_req_t *req) {
  api_v_t v;
  api_v_init(&v, req, NULL);
  const char *status = api_query_param(req, "status");
  const char *from = api_query_param(req, "from"), *to = api_query_param(req, "to");
  const char *et = api_query_param(req, "event_type_id");
  const char *ls = api_query_param(req, "limit"), *ps = api_query_param(req, "page");
  long long *lp = arena_alloc(req->arena, 2 * sizeof *lp);
  lp[0] = 50;
  lp[1] = 1;
  if (status && strcmp(status, "pending") && strcmp(status, "confirmed") && strcmp(status, "cancelled") &&
      strcmp(status, "declined"))
    api_v_fail(&v, "status", "status must be pending, confirmed, cancelled or declined");
  char from_s[32] = "", to_s[32] = "";
  int64_t t, day;
  /* from/to: RFC 3339 instants, or dates (UTC midnight) */
  if (from && time_parse_rfc3339(from, &t) == 0) time_format_utc(t, from_s, sizeof from_s);
  else if (from && parse_date(from, &day) == 0) time_format_utc(day * 86400, from_s, sizeof from_s);
  else if (from) api_v_fail(&v, "from", "from must be YYYY-MM-DD or an RFC 3339 date-time");
  if (to && time_parse_rfc3339(to, &t) == 0) time_format_utc(t, to_s, sizeof to_s);
  else if (to && parse_date(to, &day) == 0) time_format_utc((day + 1) * 86400, to_s, sizeof to_s);
  else if (to) api_v_fail(&v, "to", "to must be YYYY-MM-DD or an RFC 3339 date-time");
  if (et && !api_parse_id(et)) api_v_fail(&v, "event_type_id", "event_type_id must be a positive integer");
  if (ls && (!api_parse_id(ls) || api_parse_id(ls) > 200)) api_v_fail(&v, "limit", "limit must be 1 to 200");
  else if (ls) lp[0] = api_parse_id(ls);
  if (ps && (!api_parse_id(ps) || api_parse_id(ps) > 1000000)) api_v_fail(&v, "page", "page must be a positive integer");
  else if (ps) lp[1] = api_parse_id(ps);
  if (v.failed) return api_v_respond(&v);
  api_ctx(req)->flow = lp;
  char limit[24], offset[24];
  snprintf(limit, sizeof limit, "%lld", lp[0]);
  snprintf(offset, sizeof offset, "%lld", (lp[1] - 1) * lp[0]);
  const char *params[7] = {api_ctx(req)->user_id_str, status, from_s[0] ? from_s : NULL, to_s[0] ? to_s : NULL,
                           et, limit, offset};
  api_query(req, "bookings_list", 7, params, on_list);
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

/* ------------------------------------------------------------------ transitions */

static void t_fetch(http_req_t *req);

static void t_finish(http_req_t *req, int status, const char *json, size_t len) {
  transition_t *t = api_ctx(req)->flow;
  if (t->done) t->done(req, status, json, len);
  else api_respond_text_json(req, status, json, len);
}

static void on_written(void *data, const db_result_t *r) {
  http_req_t *req = data;
  transition_t *t = api_ctx(req)->flow;
  if (!r->ok && t->done && !r->unavailable) { /* token pages render their own errors */
    const char *msg = r->res ? PQresultErrorField(r->res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *hint = r->res ? PQresultErrorField(r->res, PG_DIAG_MESSAGE_HINT) : NULL;
    const char *st = r->sqlstate;
    int status = st && st[0] == 'S' && st[1] == 'L' ? atoi(st + 2) : 500;
    json_t *e = json_pack("{s:s, s:s}", "error", msg ? msg : "request failed", "code", api_code_for_status(status));
    if (hint && strncmp(hint, "status:", 7) == 0) json_object_set_new(e, "status", json_string(hint + 7));
    char *s = json_dumps(e, JSON_COMPACT);
    json_decref(e);
    t->done(req, status, s, strlen(s));
    free(s);
    return;
  }
  if (api_db_failed(req, r)) return;
  const char *v = PQgetvalue(r->res, 0, 0);
  switch (bookings_stale(req, v, &t->attempts)) {
    case 1: t_fetch(req);
    /* fall through */
    case -1: return;
  }
  size_t len = (size_t)PQgetlength(r->res, 0, 0);
  char *owned;
  v = api_take_host_hint(req, v, &len, &owned);
  if (strcmp(t->action, "cancel") == 0 && !t->done) /* the seed's cancel answer */
    api_respond_text_json(req, 200, "{\"ok\":true}", 11);
  else
    t_finish(req, 200, v, len);
  free(owned);
}

static void on_t_data(void *data, const db_result_t *r) {
  http_req_t *req = data;
  transition_t *t = api_ctx(req)->flow;
  if (!r->ok && t->done) {
    on_written(data, r);
    return;
  }
  if (api_db_failed(req, r)) return;
  json_decref(t->data);
  t->data = json_loads(PQgetvalue(r->res, 0, 0), 0, NULL);
  json_t *d = t->data;
  if (!d) {
    api_error(req, 500, E_INTERNAL, "internal error");
    return;
  }
  const char *status = json_string_value(json_object_get(d, "booking_status"));
  int64_t start = json_integer_value(json_object_get(d, "booking_start"));
  int seats = (int)json_integer_value(json_object_get(d, "booking_seats"));
  int reschedule = strcmp(t->action, "reschedule") == 0;
  if (reschedule) start = t->new_start;
  if ((reschedule && strcmp(status, "pending") && strcmp(status, "confirmed")) ||
      (!reschedule && strcmp(status, "pending"))) { /* the SQL function would say the same */
    char msg[80];
    snprintf(msg, sizeof msg, "the booking is %s", status);
    json_t *e = json_pack("{s:s, s:s, s:s}", "error", msg, "code", E_CONFLICT, "status", status);
    char *s = json_dumps(e, JSON_COMPACT);
    json_decref(e);
    t_finish(req, 409, s, strlen(s));
    free(s);
    return;
  }
  const char *itz = t->new_tz ? t->new_tz : json_string_value(json_object_get(d, "booking_timezone"));
  decision_t dec;
  if (bookings_decide(d, start, seats, !reschedule, itz, &dec) != 0) {
    api_error(req, 500, E_INTERNAL, "internal error");
    return;
  }
  if (dec.verdict != DECIDE_OK) {
    if (t->done) {
      json_decref(dec.next);
      json_t *e = json_pack("{s:s, s:s}", "error", dec.why, "code", api_code_for_status(dec.verdict));
      char *s = json_dumps(e, JSON_COMPACT);
      json_decref(e);
      t_finish(req, dec.verdict, s, strlen(s));
      free(s);
    } else {
      bookings_respond_decision(req, &dec);
    }
    return;
  }
  char version[24], st[24], en[24];
  snprintf(version, sizeof version, "%" PRId64, (int64_t)json_integer_value(json_object_get(d, "version")));
  if (reschedule) {
    snprintf(st, sizeof st, "%" PRId64, start);
    snprintf(en, sizeof en, "%" PRId64, dec.end);
    const char *params[5] = {t->booking_id, version, st, en, t->new_tz};
    api_query(req, "booking_reschedule", 5, params, on_written);
  } else {
    const char *params[6] = {t->booking_id, t->user, "confirm", version, NULL, t->by};
    api_query(req, "booking_transition", 6, params, on_written);
  }
}

static void t_fetch(http_req_t *req) {
  transition_t *t = api_ctx(req)->flow;
  /* The data window: the new time plus two weeks for next free slots; for a confirmation
   * none, which means the booking's own time. */
  int confirm = strcmp(t->action, "confirm") == 0;
  char from[32], to[32];
  time_format_utc(t->new_start, from, sizeof from);
  time_format_utc(t->new_start + NEXT_WINDOW, to, sizeof to);
  const char *params[4] = {t->booking_id, t->user, confirm ? NULL : from, confirm ? NULL : to};
  api_query(req, "booking_data", 4, params, on_t_data);
}

static void cleanup_transition(void *p) { json_decref(((transition_t *)p)->data); }

void bookings_run_transition(http_req_t *req, transition_t *t) {
  api_ctx(req)->flow = t;
  arena_on_destroy(req->arena, cleanup_transition, t);
  if (strcmp(t->action, "confirm") == 0 || strcmp(t->action, "reschedule") == 0) {
    t_fetch(req);
    return;
  }
  if (strcmp(t->action, "get") == 0) {
    const char *params[1] = {t->booking_id};
    api_query(req, "booking_get", 1, params, on_written);
    return;
  }
  const char *params[6] = {t->booking_id, t->user, t->action, NULL, t->reason, t->by};
  api_query(req, "booking_transition", 6, params, on_written);
}

/* Host routes: /api/bookings/:id/<action>. */
static int host_action(http_req_t *req, const char *action) {
  const char *id = api_id_param(req, "id", "booking not found");
  if (!id) return 0;
  transition_t *t = arena_calloc(req->arena, sizeof *t);
  t->action = action;
  snprintf(t->booking_id, sizeof t->booking_id, "%s", id);
  t->user = api_ctx(req)->user_id_str;
  t->by = "host";
  if (req->body.len) { /* optional {reason} for cancel/decline; {start_time, timezone} to reschedule */
    if (api_body_object(req)) return 0;
    api_v_t v;
    api_v_init(&v, req, api_ctx(req)->body);
    const char *reason = api_v_str(&v, "reason", 0, 0, 2000);
    if (reason) t->reason = reason;
    if (strcmp(action, "reschedule") == 0) {
      const char *st = api_v_str(&v, "start_time", 1, 1, 40);
      if (st && time_parse_rfc3339(st, &t->new_start) != 0)
        api_v_fail(&v, "start_time", "start_time must be an RFC 3339 date-time");
      const char *tz = api_v_str(&v, "timezone", 0, 1, 64);
      if (tz && !tz_get(tz)) api_v_fail(&v, "timezone", "timezone must be an IANA time zone name");
      t->new_tz = tz;
    }
    if (v.failed) return api_v_respond(&v);
  } else if (strcmp(action, "reschedule") == 0) {
    api_error_field(req, 400, E_VALIDATION, "start_time is required", "start_time");
    return 0;
  }
  bookings_run_transition(req, t);
  return 0;
}

int bookings_cancel(http_req_t *req) { return host_action(req, "cancel"); }
int bookings_decline(http_req_t *req) { return host_action(req, "decline"); }
int bookings_no_show(http_req_t *req) { return host_action(req, "no_show"); }
int bookings_confirm(http_req_t *req) { return host_action(req, "confirm"); }
int bookings_reschedule(http_req_t *req) { return host_action(req, "reschedule"); }
