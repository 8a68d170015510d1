/* calcom_slots.c — Cal.com API v2 (issue 16), cal-api-version 2024-09-04: free slots and slot
 * reservations, as thin layers over slotd's cores.
 *
 *   GET    /v2/slots                        availability_slots() (the engine), public
 *   POST   /v2/slots/reservations           book_hold() (the booking core's holds)
 *   GET    /v2/slots/reservations/{uid}     a live hold, or data: null
 *   PATCH  /v2/slots/reservations/{uid}     a new hold by book_hold(), then the old one swapped
 *                                           out for it in one transaction (its uid kept)
 *   DELETE /v2/slots/reservations/{uid}     the native release (api.reservation_delete)
 *
 * What is Cal.com's and not the engine's: how the event type is named (id, username + slug,
 * teamSlug + slug: a Cal.com team is a slotd org), the window's edges (a date-only start is
 * 00:00:00Z, a date-only end -- or one at midnight -- 23:59:59Z; slots starting from start and
 * before end), the answer's keys (local dates in timeZone) and times (Luxon's toISO there), the
 * seated fields, and which of its words a refused reservation gets (SQL api.calcom_reservation_
 * check classifies; the engine still decides). */
#include <inttypes.h>
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../app.h"
#include "../../core/arena.h"
#include "../../core/json.h"
#include "../../core/timeutil.h"
#include "../authn.h"
#include "../availability.h"
#include "../book.h"
#include "../query.h"
#include "../respond.h"
#include "../validate.h"
#include "calcom.h"

#define RANGE_MESSAGE "Invalid time range given - check the 'start' and 'end' query parameters."
#define RESERVED_MESSAGE "This time slot is already reserved by another user. Please choose a different time."
#define BOOKED_MESSAGE "Can't reserve a slot if the event is already booked."
#define MAX_RESERVATION_MINUTES 60 /* the native hold's limit */
#define MAX_LENGTH_MINUTES 1440

static const char *copy(http_req_t *req, const char *s) { return s ? arena_strdup(req->arena, s) : NULL; }

/* Do the event type's other lengths ('30, 60' from api.calcom_*, or empty) include m? */
static int lengths_hold(const char *lengths, long long m) {
  for (const char *p = lengths; p && *p;) {
    while (*p && (*p < '0' || *p > '9')) p++;
    if (!*p) break;
    char *end;
    long long x = strtoll(p, &end, 10);
    if (x == m) return 1;
    p = end;
  }
  return 0;
}

/* A length asked for (the slots' duration, a reservation's slotDuration) against the event
 * type's: its own length or one of its other lengths (Cal.com's lengthInMinutesOptions) is for
 * the core to use; anything else is refused here in Cal.com's terms. 0 when fine, else responds
 * 400. */
static int length_refused(http_req_t *req, const char *field, long long asked, long long own, const char *lengths) {
  if (!asked || asked == own || lengths_hold(lengths, asked)) return 0;
  char msg[240];
  if (!lengths || !*lengths)
    snprintf(msg, sizeof msg, "%s %lld: this event type is not a variable length event type (its length is %lld)",
             field, asked, own);
  else
    snprintf(msg, sizeof msg, "%s %lld is not one of the possible lengths for the event type: %s", field, asked,
             lengths);
  calcom_fail(req, 400, msg, field);
  return 1;
}

/* ------------------------------------------------------------------ GET /v2/slots */

typedef struct {
  avail_query_t q;
  const tz_t *tz;
  int range;
  int64_t start, end; /* the window of slot starts: [start, end) */
  long long duration; /* asked for, 0: the event type's */
  const char *id, *username, *team, *org, *event_slug, *resched;
  int capacity;    /* the event type's seats per slot */
  avail_slot_t *v; /* the free slots within the window (arena) */
  size_t n;
} slots_t;

static void slots_render(http_req_t *req, const db_result_t *uids) {
  slots_t *s = api_ctx(req)->flow;
  int rows = uids ? PQntuples(uids->res) : 0, row = 0;
  json_t *data = json_object();
  json_t *day = NULL;
  char key[11] = "";
  for (size_t i = 0; i < s->n; i++) {
    char start[40], end[40];
    calcom_iso_tz(s->tz, s->v[i].start, start);
    if (strncmp(start, key, 10) != 0) { /* slots ascend, so do their local dates */
      memcpy(key, start, 10);
      key[10] = '\0';
      day = json_array();
      json_object_set_new(data, key, day);
    }
    json_t *slot = json_pack("{s:s}", "start", start);
    if (s->range) {
      calcom_iso_tz(s->tz, s->v[i].end, end);
      json_object_set_new(slot, "end", json_string(end));
    }
    if (s->capacity > 1) {
      int left = s->v[i].seats_left;
      json_object_set_new(slot, "seatsBooked", json_integer(s->capacity - left));
      json_object_set_new(slot, "seatsRemaining", json_integer(left));
      json_object_set_new(slot, "seatsTotal", json_integer(s->capacity));
      while (row < rows && strtoll(PQgetvalue(uids->res, row, 0), NULL, 10) < s->v[i].start) row++;
      if (row < rows && strtoll(PQgetvalue(uids->res, row, 0), NULL, 10) == s->v[i].start)
        json_object_set_new(slot, "bookingUid", json_string(PQgetvalue(uids->res, row, 1)));
    }
    json_array_append_new(day, slot);
  }
  calcom_ok(req, 200, data);
}

static void on_slot_uids(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  slots_render(req, r);
}

static void on_slots(http_req_t *req, void *data, const inputs_t *in, const avail_slot_t *v, size_t n,
                     const db_result_t *fail) {
  (void)data;
  slots_t *s = api_ctx(req)->flow;
  if (!in) {
    if (fail) api_db_failed(req, fail);
    else calcom_fail(req, 500, "internal error", NULL);
    return;
  }
  s->v = arena_alloc(req->arena, (n ? n : 1) * sizeof *s->v);
  s->n = 0;
  for (size_t i = 0; i < n; i++)
    if (v[i].start >= s->start && v[i].start < s->end) s->v[s->n++] = v[i];
  s->capacity = in->event.seats;
  if (s->capacity <= 1 || s->n == 0) {
    slots_render(req, NULL);
    return;
  }
  /* Seated: the booking at each start, all of the window's in one read. */
  char et[24], lo[24], hi[24], ex[24];
  snprintf(et, sizeof et, "%" PRId64, in->event.id);
  snprintf(lo, sizeof lo, "%" PRId64, s->v[0].start);
  snprintf(hi, sizeof hi, "%" PRId64, s->v[s->n - 1].start + 1);
  snprintf(ex, sizeof ex, "%" PRId64, s->q.exclude_booking);
  const char *params[4] = {et, lo, hi, s->q.exclude_booking ? ex : NULL};
  api_query(req, "calcom_slot_bookings", 4, params, on_slot_uids);
}

static void on_target(void *data, const db_result_t *r) {
  http_req_t *req = data;
  slots_t *s = api_ctx(req)->flow;
  if (api_db_failed(req, r)) return;
  if (PQntuples(r->res) < 1) {
    calcom_fail(req, 404, "Event Type not found", NULL);
    return;
  }
  s->q.event_type_id = strtoll(PQgetvalue(r->res, 0, 0), NULL, 10);
  s->q.exclude_booking = PQgetisnull(r->res, 0, 1) ? 0 : strtoll(PQgetvalue(r->res, 0, 1), NULL, 10);
  long long own = strtoll(PQgetvalue(r->res, 0, 2), NULL, 10);
  if (length_refused(req, "duration", s->duration, own, PQgetvalue(r->res, 0, 3))) return;
  s->q.include_secret = 1; /* the hidden-type rule is api.calcom_slots_target's */
  s->q.duration = (int)s->duration;
  s->q.from = s->start;
  s->q.to = s->end;
  availability_slots(req, &s->q, on_slots, NULL);
}

static void slots_target(http_req_t *req) {
  slots_t *s = api_ctx(req)->flow;
  const char *params[7] = {s->id,     s->username,   s->team,
                           s->org,    s->event_slug, api_ctx(req)->user_id ? api_ctx(req)->user_id_str : NULL,
                           s->resched};
  api_query(req, "calcom_slots_target", 7, params, on_target);
}

/* A slug-like query value (username, teamSlug, eventTypeSlug...): at most 60 characters. */
static const char *slug_param(http_req_t *req, const char *name, int *bad) {
  const char *v = api_query_param(req, name);
  if (v && (!*v || strlen(v) > 60) && !*bad) {
    char msg[120];
    snprintf(msg, sizeof msg, "%s must be 1 to 60 characters", name);
    calcom_fail(req, 400, msg, name);
    *bad = 1;
  }
  return v;
}

static int slots_get(http_req_t *req) {
  if (calcom_version(req, CALCOM_V_SLOTS)) return 0;
  slots_t *s = arena_calloc(req->arena, sizeof *s);
  api_ctx(req)->flow = s;
  if (api_query_param(req, "usernames")) {
    calcom_fail(req, 400, "usernames (dynamic events) are not supported: query one event type", "usernames");
    return 0;
  }
  int bad = 0;
  const char *id = api_query_param(req, "eventTypeId");
  s->event_slug = slug_param(req, "eventTypeSlug", &bad);
  s->username = slug_param(req, "username", &bad);
  s->team = slug_param(req, "teamSlug", &bad);
  s->org = slug_param(req, "organizationSlug", &bad);
  if (bad) return 0;
  if (id) {
    if (!api_parse_id(id)) {
      calcom_fail(req, 400, "eventTypeId must be a positive integer", "eventTypeId");
      return 0;
    }
    s->id = id;
    s->event_slug = s->username = s->team = s->org = NULL;
  } else if (!s->event_slug || (!s->username == !s->team)) {
    calcom_fail(req, 400,
                "name the event type: eventTypeId, or eventTypeSlug with either username or teamSlug "
                "(and organizationSlug)",
                s->event_slug ? "username" : "eventTypeId");
    return 0;
  }
  const char *start = api_query_param(req, "start"), *end = api_query_param(req, "end");
  if (!start || calcom_parse_time(start, 1, 0, &s->start) != 0) {
    calcom_fail(req, 400, "start must be an ISO 8601 date or date-time in UTC", "start");
    return 0;
  }
  if (!end || calcom_parse_time(end, 1, 1, &s->end) != 0) {
    calcom_fail(req, 400, "end must be an ISO 8601 date or date-time in UTC", "end");
    return 0;
  }
  if (s->end % 86400 == 0) s->end += 86399; /* Cal.com reads an end at midnight as that whole day */
  if (s->end < s->start) {
    calcom_fail(req, 400, RANGE_MESSAGE, "end");
    return 0;
  }
  if (s->end - s->start > (int64_t)AVAIL_MAX_DAYS * 86400) {
    char msg[120];
    snprintf(msg, sizeof msg, "the range from start to end may span at most %d days", AVAIL_MAX_DAYS);
    calcom_fail(req, 400, msg, "end");
    return 0;
  }
  const char *zone = api_query_param(req, "timeZone");
  s->tz = tz_get(zone ? zone : "UTC");
  if (!s->tz) {
    calcom_fail(req, 400, "timeZone must be an IANA time zone name", "timeZone");
    return 0;
  }
  const char *format = api_query_param(req, "format");
  if (format && strcmp(format, "range") != 0 && strcmp(format, "time") != 0) {
    calcom_fail(req, 400, "format must be time or range", "format");
    return 0;
  }
  s->range = format && strcmp(format, "range") == 0;
  const char *duration = api_query_param(req, "duration");
  if (duration) {
    char *e;
    s->duration = strtoll(duration, &e, 10);
    if (*duration < '0' || *duration > '9' || *e || s->duration < 1 || s->duration > MAX_LENGTH_MINUTES) {
      calcom_fail(req, 400, "duration must be a whole number of minutes from 1 to 1440", "duration");
      return 0;
    }
  }
  /* A uid that is not one of slotd's (a uuid) names no booking: nothing is excluded. */
  const char *resched = api_query_param(req, "bookingUidToReschedule");
  s->resched = resched && api_valid_uuid(resched) ? resched : NULL;
  /* Optional caller: the owner of a hidden event type may read its slots by id. */
  if (http_req_header(req, "authorization")) api_authenticate(req, slots_target);
  else slots_target(req);
  return 0;
}

/* ------------------------------------------------------------------ reservations */

typedef struct {
  book_hold_t h;
  const char *uid;     /* PATCH: the reservation moved */
  long long slot_len;  /* slotDuration asked for, 0: none */
  long long minutes;   /* reservationDuration, 0: the default */
  const char *refusal; /* the engine's words for a taken time, when Cal.com's do not apply */
  char et[24], start[24], len[24];
} reserve_t;

static void reserve_answer(http_req_t *req, int status, const char *body, size_t len) {
  reserve_t *r = api_ctx(req)->flow;
  char extra[48];
  snprintf(extra, sizeof extra, ",\"reservationDuration\":%lld", r->minutes ? r->minutes : BOOK_HOLD_MINUTES);
  buf_t b = BUF_INIT;
  buf_puts(&b, "{\"status\":\"success\",\"data\":");
  /* body is a JSON object: the reservation, to which reservationDuration is added */
  buf_append(&b, body, len - 1);
  buf_puts(&b, extra);
  buf_puts(&b, "}}");
  api_respond_body(req, status, b.data, b.len);
  buf_free(&b);
}

static void on_moved(void *data, const db_result_t *res) {
  http_req_t *req = data;
  reserve_t *r = api_ctx(req)->flow;
  api_write_t w;
  if (api_db_write(req, res, &w) != 0) return;
  if (w.len < 2 || w.body[0] != '{') { /* the old reservation went meanwhile; so did the new one */
    char msg[96];
    snprintf(msg, sizeof msg, "Slot with uid=%s not found", r->uid);
    calcom_fail(req, 404, msg, NULL);
    return;
  }
  buf_t compact = BUF_INIT;
  json_compact_append(&compact, w.body, w.len);
  reserve_answer(req, 200, compact.data, compact.len);
  buf_free(&compact);
}

/* A time member of the native reservation's JSON. 0, or -1 when missing or malformed. */
static int time_member(const json_t *j, const char *key, int64_t *t) {
  const char *s = json_string_value(json_object_get(j, key));
  return s ? time_parse_rfc3339(s, t) : -1;
}

/* The core's hold, in Cal.com's shape: POST answers it; PATCH swaps it in for the old one. */
static void held(http_req_t *req, const book_result_t *res) {
  reserve_t *r = api_ctx(req)->flow;
  json_error_t jerr;
  json_t *j = json_loadb(res->body, res->len, 0, &jerr);
  const char *uid = json_string_value(json_object_get(j, "reservation_uid"));
  int64_t start, end, until;
  if (!uid || time_member(j, "start", &start) != 0 || time_member(j, "end", &end) != 0 ||
      time_member(j, "reserved_until", &until) != 0) {
    json_decref(j);
    calcom_fail(req, 500, "internal error", NULL);
    return;
  }
  if (r->uid) {
    const char *params[2] = {r->uid, copy(req, uid)};
    json_decref(j);
    api_query(req, "calcom_reservation_move", 2, params, on_moved);
    return;
  }
  char s[32], e[32], u[32];
  calcom_iso(start, s);
  calcom_iso(end, e);
  calcom_iso(until, u);
  json_t *out = json_pack("{s:I, s:s, s:s, s:I, s:s, s:I, s:s}", "eventTypeId", (json_int_t)r->h.target.event_type_id,
                          "slotStart", s, "slotEnd", e, "slotDuration", (json_int_t)((end - start) / 60),
                          "reservationUid", uid, "reservationDuration",
                          (json_int_t)(r->minutes ? r->minutes : BOOK_HOLD_MINUTES), "reservationUntil", u);
  json_decref(j);
  calcom_ok(req, 201, out);
}

/* A refusal's words: Cal.com's for a taken time ('full', 'booked', 'reserved'), 422 in all. */
static int conflict_refused(http_req_t *req, const char *conflict) {
  reserve_t *r = api_ctx(req)->flow;
  if (!conflict || !*conflict) return 0;
  char msg[160];
  if (strcmp(conflict, "full") == 0) {
    char when[32];
    calcom_iso(r->h.start, when);
    snprintf(msg, sizeof msg, "Booking with id=%s at %s has no more seats left.", r->et, when);
  } else {
    snprintf(msg, sizeof msg, "%s", strcmp(conflict, "booked") == 0 ? BOOKED_MESSAGE : RESERVED_MESSAGE);
  }
  calcom_fail(req, 422, msg, NULL);
  return 1;
}

/* After the engine refused a time the check had let through (a hold or booking made in
 * between, a booking limit...): Cal.com's words if the check now names one, else the core's. */
static void on_reclassified(void *data, const db_result_t *res) {
  http_req_t *req = data;
  if (api_db_failed(req, res)) return;
  if (PQntuples(res->res) > 0 && conflict_refused(req, PQgetvalue(res->res, 0, 4))) return;
  reserve_t *r = api_ctx(req)->flow;
  calcom_fail(req, 422, r->refusal, NULL);
}

static void check(http_req_t *req, db_cb cb) {
  reserve_t *r = api_ctx(req)->flow;
  api_ctx_t *ctx = api_ctx(req);
  const char *params[5] = {r->et, r->start, r->slot_len ? r->len : NULL, ctx->user_id ? ctx->user_id_str : NULL,
                           r->uid};
  api_query(req, "calcom_reservation_check", 5, params, cb);
}

static void hold_failed(http_req_t *req, const api_failure_t *f) {
  if (f->status == 409 && f->next_slots) { /* the engine's "taken": say which, as Cal.com does */
    reserve_t *r = api_ctx(req)->flow;
    r->refusal = copy(req, f->message ? f->message : "time slot taken");
    check(req, on_reclassified);
    return;
  }
  api_failure_t g = *f;
  char msg[400];
  if (g.field && strcmp(g.field, "start_time") == 0) { /* the native field is slotStart here */
    g.field = "slotStart";
    if (g.message && strncmp(g.message, "start_time", 10) == 0) {
      snprintf(msg, sizeof msg, "slotStart%s", g.message + 10);
      g.message = msg;
    }
  }
  api_fail(req, &g);
}

static const book_presenter_t presenter = {held, hold_failed};

static void on_checked(void *data, const db_result_t *res) {
  http_req_t *req = data;
  reserve_t *r = api_ctx(req)->flow;
  if (api_db_failed(req, res)) return;
  if (PQntuples(res->res) < 1) {
    calcom_fail(req, 404, "Event Type not found", "eventTypeId");
    return;
  }
  if (r->minutes && PQgetvalue(res->res, 0, 3)[0] != 't') {
    calcom_fail(req, 403,
                "only the event type's host (or, for an organisation's event type, a member of the organisation) may "
                "choose reservationDuration",
                "reservationDuration");
    return;
  }
  long long own = strtoll(PQgetvalue(res->res, 0, 1), NULL, 10);
  if (length_refused(req, "slotDuration", r->slot_len, own, PQgetvalue(res->res, 0, 2))) return;
  if (conflict_refused(req, PQgetvalue(res->res, 0, 4))) return;
  r->h.minutes = (int)r->minutes;
  r->h.duration = (int)r->slot_len;
  book_hold(req, &r->h, &presenter);
}

static void reserve_checked(http_req_t *req) { check(req, on_checked); }

/* POST and PATCH: the body (ReserveSlotInput_2024_09_04), then the caller when it has a say. */
static void reserve(http_req_t *req, const char *uid) {
  if (api_body_object(req)) return;
  reserve_t *r = arena_calloc(req->arena, sizeof *r);
  r->uid = uid;
  api_ctx(req)->flow = r;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  long long id = 0;
  if (!api_v_int(&v, "eventTypeId", 1, INT64_MAX / 2, 0, NULL, &id) && !v.failed)
    api_v_fail(&v, "eventTypeId", "eventTypeId is required");
  const char *start = api_v_str(&v, "slotStart", 1, 1, 40);
  if (start && calcom_parse_time(start, 1, 0, &r->h.start) != 0)
    api_v_fail(&v, "slotStart", "slotStart must be an ISO 8601 date-time in UTC");
  /* The seed's own example sends slotDuration as a string of digits ("30"; the document's example
   * too, while it types it a number): both are read as the number. */
  json_t *sd = json_object_get(api_ctx(req)->body, "slotDuration");
  const char *sds = json_string_value(sd);
  if (sds && *sds && strlen(sds) <= 4 && strspn(sds, "0123456789") == strlen(sds))
    json_object_set_new(api_ctx(req)->body, "slotDuration", json_integer(atoi(sds)));
  api_v_int(&v, "slotDuration", 1, MAX_LENGTH_MINUTES, 0, NULL, &r->slot_len);
  api_v_int(&v, "reservationDuration", 1, MAX_RESERVATION_MINUTES, 0, NULL, &r->minutes);
  if (v.failed) {
    api_v_respond(&v);
    return;
  }
  r->h.target.event_type_id = id;
  snprintf(r->et, sizeof r->et, "%lld", id);
  snprintf(r->start, sizeof r->start, "%" PRId64, r->h.start);
  snprintf(r->len, sizeof r->len, "%lld", r->slot_len);
  int has_auth = http_req_header(req, "authorization") != NULL;
  if (r->minutes && !has_auth) {
    calcom_fail(req, 401, "reservationDuration needs an authenticated request (an API key as Bearer)",
                "reservationDuration");
    return;
  }
  /* Holds are made at the native holds' pace, from one budget per client address. */
  char key[96];
  snprintf(key, sizeof key, "hold:%s", api_ctx(req)->client_ip);
  if (!api_rate_limit(req, key, api_app(req)->cfg->rate_limit_holds, 0)) return;
  if (has_auth) api_authenticate(req, reserve_checked); /* the caller holds under its own name */
  else reserve_checked(req);
}

static int reservations_post(http_req_t *req) {
  if (calcom_version(req, CALCOM_V_SLOTS)) return 0;
  reserve(req, NULL);
  return 0;
}

/* {uid}: a reservation's uuid, or NULL (an unknown one, answered by the caller). */
static const char *uid_param(http_req_t *req) {
  const char *uid = http_req_param(req, "uid");
  return uid && api_valid_uuid(uid) ? uid : NULL;
}

static void uid_not_found(http_req_t *req) {
  char msg[120];
  snprintf(msg, sizeof msg, "Slot with uid=%.60s not found", http_req_param(req, "uid"));
  calcom_fail(req, 404, msg, NULL);
}

static int reservations_patch(http_req_t *req) {
  if (calcom_version(req, CALCOM_V_SLOTS)) return 0;
  const char *uid = uid_param(req);
  if (!uid) uid_not_found(req);
  else reserve(req, uid);
  return 0;
}

static void on_reservation(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  if (PQntuples(r->res) < 1 || PQgetisnull(r->res, 0, 0)) calcom_ok(req, 200, NULL);
  else calcom_ok_text(req, 200, PQgetvalue(r->res, 0, 0), (size_t)PQgetlength(r->res, 0, 0));
}

static int reservations_get(http_req_t *req) {
  if (calcom_version(req, CALCOM_V_SLOTS)) return 0;
  const char *uid = uid_param(req);
  if (!uid) {
    calcom_ok(req, 200, NULL); /* Cal.com: an unknown uid is data: null */
    return 0;
  }
  api_query(req, "calcom_reservation_get", 1, &uid, on_reservation);
  return 0;
}

static void on_released(void *data, const db_result_t *r) {
  http_req_t *req = data;
  api_write_t w;
  if (api_db_write(req, r, &w) != 0) return;
  calcom_ok_bare(req, 200);
}

static int reservations_delete(http_req_t *req) {
  if (calcom_version(req, CALCOM_V_SLOTS)) return 0;
  const char *uid = uid_param(req);
  if (!uid) {
    uid_not_found(req);
    return 0;
  }
  api_query(req, "reservation_delete", 1, &uid, on_released);
  return 0;
}

/* ------------------------------------------------------------------ module */

static const http_route_t routes[] = {
    {M(HTTP_GET), "/v2/slots", CALCOM_PUB(slots_get)},
    {M(HTTP_POST), "/v2/slots/reservations", CALCOM_PUB(reservations_post)},
    {M(HTTP_GET), "/v2/slots/reservations/:uid", CALCOM_PUB(reservations_get)},
    {M(HTTP_PATCH), "/v2/slots/reservations/:uid", CALCOM_PUB(reservations_patch)},
    {M(HTTP_DELETE), "/v2/slots/reservations/:uid", CALCOM_PUB(reservations_delete)},
};

static const api_stmt_t statements[] = {
    {"calcom_slots_target", "SELECT * FROM api.calcom_slots_target($1, $2, $3, $4, $5, $6, $7)", 0},
    {"calcom_slot_bookings", "SELECT start_at, uid FROM api.calcom_slot_bookings($1, $2, $3, $4)", 0},
    {"calcom_reservation_check",
     "SELECT host_id, duration, lengths, related, conflict FROM api.calcom_reservation_check($1, $2, $3, $4, $5)", 0},
    {"calcom_reservation_get", "SELECT api.calcom_reservation_get($1)", 0},
    {"calcom_reservation_move", "SELECT body, host_ids, stale FROM api.calcom_reservation_move($1, $2)", 1},
    {NULL, NULL, 0},
};

static void register_statements(void) { api_register_statements(statements); }

const app_module_t api_calcom_slots_module = {"calcom-slots", routes, (int)(sizeof routes / sizeof routes[0]),
                                              register_statements, "/v2/", &calcom_dialect};
