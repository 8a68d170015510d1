/* calcom_bookings.c — Cal.com API v2 bookings (cal-api-version 2024-08-13; issue 16).
 *
 * Every booking is made and changed by the one booking core (book.h) with this file's presenter:
 * POST /v2/bookings is book_create, cancel/confirm/decline/mark-absent are book_change, reassign
 * is book_reassign. What is Cal.com's only (metadata, guests, the attendee's language, the picked
 * location, the host's absence) lives in calcom_bookings (0022_calcom_bookings.sql), which also
 * prints a booking as BookingOutput_2024_08_13 (api.calcom_booking_json: one place, the list uses
 * it too).
 *
 * Reschedule is the core's rebook (a new booking, the old one cancelled and linked both ways), a
 * recurring event type's booking the core's series, cancelSubsequentBookings its cancel_following.
 *
 * Addressing: /v2/bookings/{uid} takes a booking's uid, a seat's uid (its seated group is meant),
 * a collective booking's, or (GET, cancel) a series' recurringBookingUid. api.calcom_booking_ref
 * resolves it first; the core then checks access itself (the caller's id as `user` for host
 * actions: another host's booking is 404).
 *
 * Public operations, as in Cal.com: POST /v2/bookings, GET /v2/bookings/{uid}, .../cancel and
 * .../reschedule work without credentials (the uid, 122 random bits, is the capability). A Bearer key, when present,
 * is checked (401 if bad) and makes the caller a host where it is one. Session cookies are never
 * looked at on these routes (a browser would attach them by itself). */
#include <inttypes.h>
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../../app.h"
#include "../../core/json.h"
#include "../../mail/ics.h"
#include "../../mail/links.h"
#include "../authn.h"
#include "../book.h"
#include "../query.h"
#include "../respond.h"
#include "../validate.h"
#include "calcom.h"

#define MAX_GUESTS 30

enum {
  OP_CREATE,
  OP_GET,
  OP_CANCEL,
  OP_RESCHEDULE,
  OP_CONFIRM,
  OP_DECLINE,
  OP_ABSENT,
  OP_REASSIGN,
  OP_LINKS,
  OP_REFERENCES
};

/* One request's state (api_ctx(req)->flow, in the arena). */
typedef struct {
  int op;
  char domain[256]; /* names the deployment in icsUid */
  const char *uid;  /* the path's booking uid */
  const char *user; /* the caller's id as text, or NULL (public, no key) */
  /* api.calcom_booking_ref */
  char id[24], lead[24];
  int seated, is_host, can_view;
  int64_t *seats; /* a seated group's live seats (a host cancels them one by one; arena) */
  size_t nseats, next_seat;
  /* create */
  book_request_t b;
  char *meta_text, *guests_literal;
  const char *language, *location;
  long long length;
  int result_status; /* 200, or 201 for creations */
  /* changes */
  const char *reason, *seat_uid;
  char seat_id[24];
  int subsequent;    /* cancel: cancelSubsequentBookings */
  int series;        /* the uid named a recurring series (cancel: all of its live occurrences) */
  int64_t new_start; /* reschedule */
  json_t *absent;    /* mark-absent attendees (borrowed from the body) */
  size_t absent_i;
  int host_given, host_absent;
  long long reassign_to;
  long long take, skip;           /* the list's page */
  struct failure_copy_s *refusal; /* create: the core's refusal, reworded */
} cb_t;

static cb_t *flow(http_req_t *req) { return api_ctx(req)->flow; }

static cb_t *flow_new(http_req_t *req, int op) {
  cb_t *f = arena_calloc(req->arena, sizeof *f);
  f->op = op;
  f->result_status = 200;
  mail_domain(api_app(req)->cfg->public_url, f->domain, sizeof f->domain);
  api_ctx(req)->flow = f;
  return f;
}

static void decref_cleanup(void *p) { json_decref(p); }

/* ------------------------------------------------------------------ answers */

static void on_json(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  if (PQntuples(r->res) < 1 || PQgetisnull(r->res, 0, 0)) {
    calcom_fail(req, 404, "booking not found", NULL);
    return;
  }
  calcom_ok_text(req, flow(req)->result_status, PQgetvalue(r->res, 0, 0), (size_t)PQgetlength(r->res, 0, 0));
}

/* The answer of every change: the booking as Cal.com prints it, seen by this caller. */
static void answer_booking(http_req_t *req, const char *id, const char *seat) {
  cb_t *f = flow(req);
  const char *params[4] = {id, f->can_view ? "true" : "false", seat, f->domain};
  api_query(req, "calcom_booking_json", 4, params, on_json);
}

/* ------------------------------------------------------------------ common steps */

/* The version header, then the path's uid (404 when it cannot be one). 0, or -1 after answering. */
static int start_uid(http_req_t *req, cb_t *f) {
  if (calcom_version(req, CALCOM_V_BOOKINGS)) return -1;
  f->uid = http_req_param(req, "uid");
  if (!f->uid || !api_valid_uuid(f->uid)) {
    calcom_fail(req, 404, "booking not found", NULL);
    return -1;
  }
  return 0;
}

/* An optional JSON body: 0 with ctx->body (or none), -1 after answering 400. */
static int optional_body(http_req_t *req) {
  if (!req->body.len) return 0;
  return api_body_object(req) ? -1 : 0;
}

/* Public routes: a Bearer key is checked when present (Cal.com's optional Authorization); the
 * session cookie never counts here. */
static void maybe_authenticate(http_req_t *req, void (*next)(http_req_t *req)) {
  const char *authz = http_req_header(req, "Authorization"), *xkey = http_req_header(req, "X-API-Key");
  const char *token = authz && strncasecmp(authz, "Bearer ", 7) == 0 ? authz + 7 + strspn(authz + 7, " ") : "";
  if ((authz && !*token) || (xkey && !*xkey)) {
    calcom_fail(req, 401, "Authorization must be Bearer <API key>", NULL);
    return;
  }
  if (authz || xkey) api_authenticate(req, next);
  else next(req);
}

static const char *caller(http_req_t *req) {
  api_ctx_t *ctx = api_ctx(req);
  return ctx->user_id ? ctx->user_id_str : NULL;
}

static void ref_done(http_req_t *req);

static void on_ref(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  cb_t *f = flow(req);
  const PGresult *res = r->res;
  if (PQntuples(res) < 1) {
    calcom_fail(req, 404, "booking not found", NULL);
    return;
  }
  snprintf(f->id, sizeof f->id, "%s", PQgetvalue(res, 0, 0));
  snprintf(f->lead, sizeof f->lead, "%s", PQgetvalue(res, 0, 1));
  f->seated = PQgetvalue(res, 0, 2)[0] == 't';
  f->is_host = PQgetvalue(res, 0, 3)[0] == 't';
  f->can_view = PQgetvalue(res, 0, 4)[0] == 't';
  f->series = PQnfields(res) > 6 && PQgetvalue(res, 0, 6)[0] == 't';
  /* a host's change of a whole seated group goes seat by seat: the live ones (cancel), or those
   * waiting for confirmation (confirm, decline) */
  int confirming = f->op == OP_CONFIRM || f->op == OP_DECLINE;
  const char *s = PQgetvalue(res, 0, confirming && PQnfields(res) > 7 ? 7 : 5); /* "{1,2,3}" */
  size_t n = 1;
  for (const char *p = s; *p; p++) n += *p == ',';
  f->seats = arena_calloc(req->arena, n * sizeof *f->seats);
  f->nseats = 0;
  for (const char *p = s; *p && f->nseats < n;) {
    while (*p && (*p < '0' || *p > '9')) p++;
    if (!*p) break;
    char *end;
    f->seats[f->nseats++] = strtoll(p, &end, 10);
    p = end;
  }
  ref_done(req);
}

/* The caller is known (or public): resolve the uid. */
static void resolve(http_req_t *req) {
  cb_t *f = flow(req);
  f->user = caller(req);
  const char *params[3] = {f->uid, f->user, f->domain};
  if (f->op == OP_GET) /* a booking's uid, or a series' (recurringBookingUid: every occurrence) */
    api_query(req, "calcom_booking_get", 3, params, on_json);
  else /* cancel may name a series too: its first live occurrence and every later one */
    api_query(req, f->op == OP_CANCEL ? "calcom_booking_ref_series" : "calcom_booking_ref", 2, params, on_ref);
}

/* ------------------------------------------------------------------ the core's presenter */

static void changed(http_req_t *req, const book_result_t *res);
static void change_failed(http_req_t *req, const api_failure_t *fl);
static const book_presenter_t changed_presenter = {changed, change_failed};

/* ------------------------------------------------------------------ POST /v2/bookings */

static const char *const LANGUAGES[] = {"ar", "ca", "de", "es", "eu",    "he",    "id",     "ja", "lv",    "pl", "ro",
                                        "sr", "th", "vi", "az", "cs",    "el",    "es-419", "fi", "hr",    "it", "km",
                                        "nl", "pt", "ru", "sv", "tr",    "zh-CN", "bg",     "da", "en",    "et", "fr",
                                        "hu", "iw", "ko", "no", "pt-BR", "sk",    "ta",     "uk", "zh-TW", "bn", NULL};

static const char *const LOCATION_TYPES[] = {"address",       "attendeeAddress",      "attendeeDefined",
                                             "attendeePhone", "integration",          "link",
                                             "phone",         "organizersDefaultApp", NULL};

static int in_list(const char *const *list, const char *s) {
  for (; *list; list++)
    if (strcmp(*list, s) == 0) return 1;
  return 0;
}

/* attendee {name*, timeZone*, email, phoneNumber, language}: errors name "attendee.<field>". */
static void parse_attendee(http_req_t *req, api_v_t *v, cb_t *f) {
  json_t *a = json_object_get(v->obj, "attendee");
  if (!json_is_object(a)) {
    api_v_fail(v, "attendee", "attendee is required: {name, timeZone, email}");
    return;
  }
  api_v_t s;
  api_v_init(&s, req, a);
  f->b.name = api_v_line(&s, "name", 1, 1, 200);
  f->b.timezone = api_v_str(&s, "timeZone", 1, 1, 64);
  if (f->b.timezone && !tz_get(f->b.timezone)) api_v_fail(&s, "timeZone", "timeZone must be an IANA time zone name");
  if (!s.failed && !api_v_present(&s, "email"))
    api_v_fail(&s, "email", "email is required: slotd needs the attendee's e-mail address for every booking");
  f->b.email = api_v_str(&s, "email", 0, 3, 254);
  if (f->b.email && !api_valid_email(f->b.email)) api_v_fail(&s, "email", "email must be a valid email address");
  f->b.phone = api_v_str(&s, "phoneNumber", 0, 1, 32);
  if (f->b.phone && !api_valid_phone(f->b.phone)) api_v_fail(&s, "phoneNumber", "phoneNumber must be a phone number");
  f->language = api_v_str(&s, "language", 0, 2, 6);
  if (f->language && !in_list(LANGUAGES, f->language))
    api_v_fail(&s, "language", "language must be one of Cal.com's languages (en, de, fr, ...)");
  if (s.failed && !v->failed) {
    char field[64];
    snprintf(field, sizeof field, "attendee.%s", s.field ? s.field : "");
    api_v_fail(v, arena_strdup(req->arena, field), "attendee.%s", s.message);
  }
}

/* guests: e-mails, into a PostgreSQL array literal (each one quoted). */
static void add_guest(http_req_t *req, api_v_t *v, buf_t *lit, json_t *g, int *n) {
  const char *s = json_string_value(g);
  if (!s || json_string_length(g) > 254 || !api_valid_email(s)) {
    api_v_fail(v, "guests", "guests must be a list of email addresses");
    return;
  }
  if (++*n > MAX_GUESTS) {
    api_v_fail(v, "guests", "at most %d guests", MAX_GUESTS);
    return;
  }
  char *folded = arena_strdup(req->arena, s);
  api_email_fold(folded);
  buf_puts(lit, lit->len > 1 ? ",\"" : "\"");
  buf_puts(lit, folded); /* a valid e-mail holds no quote or backslash */
  buf_putc(lit, '"');
}

static void parse_guests(http_req_t *req, api_v_t *v, cb_t *f, json_t *extra) {
  json_t *g = json_object_get(v->obj, "guests");
  if (g && !json_is_array(g)) api_v_fail(v, "guests", "guests must be a list of email addresses");
  if (extra && !json_is_array(extra))
    api_v_fail(v, "bookingFieldsResponses.guests", "bookingFieldsResponses.guests must be a list of email addresses");
  if (v->failed) return;
  buf_t lit = BUF_INIT;
  buf_putc(&lit, '{');
  int n = 0;
  size_t i;
  json_t *e;
  json_array_foreach(g, i, e) add_guest(req, v, &lit, e, &n);
  json_array_foreach(extra, i, e) add_guest(req, v, &lit, e, &n);
  buf_putc(&lit, '}');
  f->guests_literal = arena_strndup(req->arena, lit.data, lit.len);
  buf_free(&lit);
}

/* location: one of Cal.com's location objects, kept as the text Cal.com prints: what the
 * attendee gave (address, phone, their own location), "integrations:<app>", or for the
 * organiser's own kinds nothing (the event type's location is shown). */
static void parse_location(http_req_t *req, api_v_t *v, cb_t *f) {
  json_t *l = json_object_get(v->obj, "location");
  const char *meeting = api_v_str(v, "meetingUrl", 0, 1, 2000);
  if (!l || json_is_null(l)) {
    f->location = meeting;
    return;
  }
  if (json_is_string(l)) { /* the deprecated string form */
    f->location = api_v_str(v, "location", 0, 1, 500);
    return;
  }
  const char *type = json_string_value(json_object_get(l, "type"));
  if (!json_is_object(l) || !type || !in_list(LOCATION_TYPES, type)) {
    api_v_fail(v, "location",
               "location must be a location object {type: address|attendeeAddress|attendeeDefined|"
               "attendeePhone|integration|link|phone|organizersDefaultApp, ...}");
    return;
  }
  api_v_t s;
  api_v_init(&s, req, l);
  const char *val = NULL;
  if (strcmp(type, "attendeeAddress") == 0) val = api_v_line(&s, "address", 1, 1, 500);
  else if (strcmp(type, "attendeeDefined") == 0) val = api_v_line(&s, "location", 1, 1, 500);
  else if (strcmp(type, "attendeePhone") == 0) {
    val = api_v_str(&s, "phone", 1, 1, 32);
    if (val && !api_valid_phone(val)) api_v_fail(&s, "phone", "phone must be a phone number");
  } else if (strcmp(type, "integration") == 0) {
    const char *app = api_v_str(&s, "integration", 1, 1, 60);
    if (app) val = arena_printf(req->arena, "integrations:%s", app);
  }
  if (s.failed) {
    api_v_fail(v, "location", "location.%s", s.message);
    return;
  }
  f->location = val ? val : meeting;
}

/* bookingFieldsResponses: Cal.com's default fields go to the booking's own (notes, phone,
 * guests; name and email come from attendee), everything else is an answer to the event type's
 * question of that id (the core checks them). */
static json_t *parse_responses(http_req_t *req, api_v_t *v, cb_t *f, json_t **guests) {
  json_t *r = json_object_get(v->obj, "bookingFieldsResponses");
  *guests = NULL;
  if (!r || json_is_null(r)) return NULL;
  if (!json_is_object(r)) {
    api_v_fail(v, "bookingFieldsResponses", "bookingFieldsResponses must be an object {field: response}");
    return NULL;
  }
  json_t *answers = json_object();
  arena_on_destroy(req->arena, decref_cleanup, answers);
  const char *key;
  json_t *val;
  json_object_foreach(r, key, val) {
    if (strcmp(key, "name") == 0 || strcmp(key, "email") == 0 || strcmp(key, "location") == 0 ||
        strcmp(key, "title") == 0 || strcmp(key, "rescheduleReason") == 0) {
      continue; /* attendee.name/email and location say these; a new booking has no reschedule reason */
    } else if (strcmp(key, "notes") == 0) {
      if (!json_is_string(val) || json_string_length(val) > 5000)
        api_v_fail(v, "bookingFieldsResponses.notes",
                   "bookingFieldsResponses.notes must be a string of at most 5000 characters");
      else if (json_string_length(val)) f->b.notes = arena_strdup(req->arena, json_string_value(val));
    } else if (strcmp(key, "attendeePhoneNumber") == 0) {
      const char *p = json_string_value(val);
      if (!p || !api_valid_phone(p))
        api_v_fail(v, "bookingFieldsResponses.attendeePhoneNumber", "attendeePhoneNumber must be a phone number");
      else if (!f->b.phone) f->b.phone = arena_strdup(req->arena, p);
    } else if (strcmp(key, "guests") == 0) {
      *guests = val;
    } else {
      json_object_set(answers, key, val);
    }
  }
  return answers;
}

/* metadata: at most 50 keys of at most 40 characters; values strings (<= 500 characters),
 * numbers or booleans (Cal.com's limits). */
static void parse_metadata(http_req_t *req, api_v_t *v, cb_t *f) {
  json_t *m = json_object_get(v->obj, "metadata");
  if (!m || json_is_null(m)) return;
  if (!json_is_object(m) || json_object_size(m) > 50) {
    api_v_fail(v, "metadata", "metadata must be an object of at most 50 keys");
    return;
  }
  const char *key;
  json_t *val;
  json_object_foreach(m, key, val) {
    if (strlen(key) > 40 || !*key) {
      api_v_fail(v, "metadata", "metadata keys must have 1 to 40 characters");
      return;
    }
    if (!(json_is_string(val) && json_string_length(val) <= 500) && !json_is_number(val) && !json_is_boolean(val)) {
      api_v_fail(v, "metadata", "metadata values must be strings of at most 500 characters, numbers or booleans");
      return;
    }
  }
  char *text = json_dumps(m, JSON_COMPACT);
  f->meta_text = arena_strdup(req->arena, text);
  free(text);
}

/* The reserved slot: reservedSlotUid in the body, else Cal.com's reserved-slot cookie ("uid"). */
static const char *reserved_slot(http_req_t *req, api_v_t *v) {
  const char *uid = api_v_str(v, "reservedSlotUid", 0, 36, 36);
  if (uid && !api_valid_uuid(uid)) api_v_fail(v, "reservedSlotUid", "reservedSlotUid must be a reservation's uid");
  if (uid || v->failed) return uid;
  const char *c = http_req_header(req, "Cookie");
  while (c && *c) { /* "a=b; uid=UUID; c=d" */
    while (*c == ' ' || *c == ';') c++;
    const char *end = strchr(c, ';');
    size_t n = end ? (size_t)(end - c) : strlen(c);
    if (n == 40 && strncmp(c, "uid=", 4) == 0) {
      char *u = arena_strndup(req->arena, c + 4, 36);
      if (api_valid_uuid(u)) return u;
    }
    c = end;
  }
  return NULL;
}

/* The core's field names in Cal.com's words. */
static const char *calcom_field(http_req_t *req, const char *field) {
  if (!field) return NULL;
  if (strcmp(field, "start_time") == 0) return "start";
  if (strcmp(field, "duration_minutes") == 0) return "lengthInMinutes";
  if (strcmp(field, "recurrence_count") == 0) return "recurrenceCount";
  if (strcmp(field, "reservation_uid") == 0) return "reservedSlotUid";
  if (strncmp(field, "answers.", 8) == 0) return arena_printf(req->arena, "bookingFieldsResponses.%s", field + 8);
  return field;
}

/* A message that starts with the core's field name says Cal.com's instead. */
static const char *calcom_message(http_req_t *req, const api_failure_t *fl, const char *field) {
  size_t n = fl->field ? strlen(fl->field) : 0;
  if (!n || !fl->message || field == fl->field || strncmp(fl->message, fl->field, n) != 0 || fl->message[n] != ' ')
    return fl->message;
  return arena_printf(req->arena, "%s%s", field, fl->message + n);
}

static void change_failed(http_req_t *req, const api_failure_t *fl) {
  api_failure_t g = *fl;
  g.field = calcom_field(req, fl->field);
  g.message = calcom_message(req, fl, g.field);
  api_fail(req, &g);
}

static void create_failed(http_req_t *req, const api_failure_t *fl);
static void created(http_req_t *req, const book_result_t *res);
static const book_presenter_t create_presenter = {created, create_failed};

static void on_created(void *data, const db_result_t *r) { on_json(data, r); }

static void created(http_req_t *req, const book_result_t *res) {
  cb_t *f = flow(req);
  buf_t ids = BUF_INIT; /* the booking's id, or a series' ids in order, as an array literal */
  buf_putc(&ids, '{');
  if (res->series) {
    json_t *arr = json_loadb(res->body, res->len, 0, NULL);
    size_t i;
    json_t *b;
    json_array_foreach(arr, i, b)
        buf_printf(&ids, "%s%" JSON_INTEGER_FORMAT, i ? "," : "", json_integer_value(json_object_get(b, "id")));
    json_decref(arr);
  } else {
    buf_printf(&ids, "%" PRId64, api_jsonb_id(res->body, res->len));
  }
  buf_putc(&ids, '}');
  char *lit = arena_strndup(req->arena, ids.data, ids.len);
  buf_free(&ids);
  f->result_status = 201;
  const char *params[7] = {
      lit, f->meta_text, f->guests_literal, f->language, f->location, f->domain, res->series ? "true" : "false"};
  api_query(req, "calcom_booking_created", 7, params, on_created);
}

/* A taken slot: Cal.com's words. Someone else's earlier live reservation of it is named with
 * the seconds until it is freed, as Cal.com does; any other conflict is Cal.com's "no available
 * users" message. The engine decided; this only reads which words fit. */
typedef struct failure_copy_s {
  api_failure_t f;
  char msg[400];
} failure_copy_t;

static void on_hold_left(void *data, const db_result_t *r) {
  http_req_t *req = data;
  failure_copy_t *c = flow(req)->refusal;
  if (r->ok && PQntuples(r->res) > 0 && !PQgetisnull(r->res, 0, 0)) {
    snprintf(c->msg, sizeof c->msg,
             "Someone else reserved this booking time slot before you. This time slot will be freed up in %s "
             "seconds.",
             PQgetvalue(r->res, 0, 0));
  }
  c->f.message = c->msg;
  api_fail(req, &c->f);
}

static void create_failed(http_req_t *req, const api_failure_t *fl) {
  cb_t *f = flow(req);
  if (fl->status != 409 || fl->retry_after || strstr(fl->message ? fl->message : "", "occurrence")) {
    change_failed(req, fl); /* a series names its taken dates: the core's words are the useful ones */
    return;
  }
  failure_copy_t *c = arena_calloc(req->arena, sizeof *c);
  c->f = *fl;
  c->f.next_slots = NULL;
  c->f.field = calcom_field(req, c->f.field);
  snprintf(c->msg, sizeof c->msg, "%s",
           strstr(fl->message ? fl->message : "", "seats")
               ? "Booking seats are full"
               : (strstr(fl->message ? fl->message : "", "limit")
                      ? fl->message
                      : "User either already has booking at this time or is not available"));
  f->refusal = c;
  char et[24] = "", st[24], mins[16] = "";
  if (f->b.target.event_type_id) snprintf(et, sizeof et, "%" PRId64, f->b.target.event_type_id);
  snprintf(st, sizeof st, "%" PRId64, f->b.start);
  if (f->b.duration) snprintf(mins, sizeof mins, "%d", f->b.duration);
  const char *params[6] = {et[0] ? et : NULL,    f->b.target.slug,     f->b.target.event_slug, st,
                           f->b.reservation_uid, mins[0] ? mins : NULL};
  api_query(req, "calcom_hold_left", 6, params, on_hold_left);
}

static void create_go(http_req_t *req) { book_create(req, &flow(req)->b, &create_presenter); }

static int bookings_create(http_req_t *req) {
  if (calcom_version(req, CALCOM_V_BOOKINGS)) return 0;
  if (api_body_object(req)) return 0;
  cb_t *f = flow_new(req, OP_CREATE);
  json_t *body = api_ctx(req)->body;
  api_v_t v;
  api_v_init(&v, req, body);
  int instant = 0;
  api_v_bool(&v, "instant", &instant);
  if (instant) api_v_fail(&v, "instant", "instant bookings are not supported");
  long long count = 0;
  api_v_int(&v, "recurrenceCount", 1, BOOK_MAX_SERIES, 0, NULL, &count);
  f->b.recurrence_count = (int)count;
  if (api_v_present(&v, "routing")) api_v_fail(&v, "routing", "routing forms are not supported");
  const char *start = api_v_str(&v, "start", 1, 1, 40);
  if (start && calcom_parse_time(start, 0, 0, &f->b.start) != 0)
    api_v_fail(&v, "start", "start must be an ISO 8601 date-time in UTC, e.g. 2024-08-13T09:00:00Z");
  parse_attendee(req, &v, f);
  long long et = 0;
  api_v_int(&v, "eventTypeId", 1, INT64_MAX / 2, 0, NULL, &et);
  const char *slug = api_v_str(&v, "eventTypeSlug", 0, 1, 60);
  const char *username = api_v_str(&v, "username", 0, 1, 60);
  const char *team = api_v_str(&v, "teamSlug", 0, 1, 60);
  api_v_str(&v, "organizationSlug", 0, 1, 60); /* slugs are global in slotd: it adds nothing */
  if (!v.failed && !et && !(slug && (username || team)))
    api_v_fail(&v, "eventTypeId", "eventTypeId, or eventTypeSlug with username or teamSlug, is required");
  if (!v.failed && !et && username && team) api_v_fail(&v, "teamSlug", "give username or teamSlug, not both");
  f->b.target.event_type_id = et;
  if (!et) {
    f->b.target.slug = username ? username : team;
    f->b.target.event_slug = slug;
  }
  json_t *more_guests = NULL;
  json_t *answers = parse_responses(req, &v, f, &more_guests);
  parse_guests(req, &v, f, more_guests);
  parse_location(req, &v, f);
  parse_metadata(req, &v, f);
  api_v_int(&v, "lengthInMinutes", 1, 1440, 0, NULL, &f->length);
  f->b.duration = (int)f->length;
  f->b.reservation_uid = reserved_slot(req, &v);
  api_v_str(&v, "emailVerificationCode", 0, 1, 100); /* slotd verifies no e-mail: nothing to check */
  if (v.failed) return api_v_respond(&v);
  f->b.answers = answers;
  f->b.seats = 1;
  maybe_authenticate(req, create_go);
  return 0;
}

/* ------------------------------------------------------------------ GET /v2/bookings */

/* A comma list of positive ids into a PostgreSQL array literal (appended to lit); 0 or -1. */
static int id_list(const char *s, buf_t *lit) {
  if (!s) return 0;
  if (!*s) return -1;
  while (*s) {
    const char *end = strchr(s, ',');
    size_t n = end ? (size_t)(end - s) : strlen(s);
    char one[24];
    if (n == 0 || n >= sizeof one) return -1;
    memcpy(one, s, n);
    one[n] = 0;
    long long id = api_parse_id(one);
    if (!id) return -1;
    buf_printf(lit, "%s%lld", lit->len > 1 ? "," : "", id);
    s = end ? end + 1 : s + n;
    if (end && !*s) return -1;
  }
  return 0;
}

static const char *array_of(http_req_t *req, api_v_t *v, const char *list_name, const char *one_name) {
  buf_t lit = BUF_INIT;
  buf_putc(&lit, '{');
  if (id_list(api_query_param(req, list_name), &lit))
    api_v_fail(v, list_name, "%s must be a comma-separated list of ids", list_name);
  if (id_list(api_query_param(req, one_name), &lit)) api_v_fail(v, one_name, "%s must be an id", one_name);
  buf_putc(&lit, '}');
  const char *out = lit.len > 2 ? arena_strndup(req->arena, lit.data, lit.len) : NULL;
  buf_free(&lit);
  return out;
}

/* A time filter: ISO 8601 date-time, or a date (its start, or for the before* filters its end). */
static const char *time_param(http_req_t *req, api_v_t *v, const char *name, int end_of_day) {
  const char *s = api_query_param(req, name);
  int64_t t;
  if (!s) return NULL;
  if (calcom_parse_time(s, 1, end_of_day, &t) != 0) {
    api_v_fail(v, name, "%s must be an ISO 8601 date or date-time", name);
    return NULL;
  }
  char iso[32];
  calcom_iso(t, iso);
  return arena_strdup(req->arena, iso);
}

static void on_list(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  cb_t *p = flow(req);
  long long total = strtoll(PQgetvalue(r->res, 0, 1), NULL, 10);
  long long returned = total - p->skip;
  if (returned < 0) returned = 0;
  if (returned > p->take) returned = p->take;
  long long remaining = total - p->skip - returned;
  if (remaining < 0) remaining = 0;
  buf_t b = BUF_INIT;
  buf_puts(&b, "{\"status\":\"success\",\"data\":");
  json_compact_append(&b, PQgetvalue(r->res, 0, 0), (size_t)PQgetlength(r->res, 0, 0));
  buf_printf(&b,
             ",\"pagination\":{\"totalItems\":%lld,\"remainingItems\":%lld,\"returnedItems\":%lld,"
             "\"itemsPerPage\":%lld,\"currentPage\":%lld,\"totalPages\":%lld,\"hasNextPage\":%s,"
             "\"hasPreviousPage\":%s}}",
             total, remaining, returned, p->take, p->skip / p->take + 1, (total + p->take - 1) / p->take,
             p->skip + returned < total ? "true" : "false", p->skip > 0 ? "true" : "false");
  api_respond_body(req, 200, b.data, b.len);
  buf_free(&b);
}

static int bookings_list(http_req_t *req) {
  if (calcom_version(req, CALCOM_V_BOOKINGS)) return 0;
  cb_t *f = flow_new(req, OP_GET);
  api_v_t v;
  api_v_init(&v, req, NULL);
  /* status: a comma list of upcoming, recurring, past, cancelled, unconfirmed */
  const char *status = api_query_param(req, "status");
  buf_t st = BUF_INIT;
  buf_putc(&st, '{');
  if (status) {
    static const char *const statuses[] = {"upcoming", "recurring", "past", "cancelled", "unconfirmed", NULL};
    const char *s = status;
    do {
      const char *end = strchr(s, ',');
      size_t n = end ? (size_t)(end - s) : strlen(s);
      char one[16];
      if (n == 0 || n >= sizeof one) {
        api_v_fail(&v, "status", "status must be a comma list of upcoming, recurring, past, cancelled, unconfirmed");
        break;
      }
      memcpy(one, s, n);
      one[n] = 0;
      if (!in_list(statuses, one)) {
        api_v_fail(&v, "status", "status must be a comma list of upcoming, recurring, past, cancelled, unconfirmed");
        break;
      }
      buf_printf(&st, "%s%s", st.len > 1 ? "," : "", one);
      s = end ? end + 1 : s + n;
    } while (*s);
  }
  buf_putc(&st, '}');
  const char *statuses = status ? arena_strndup(req->arena, st.data, st.len) : NULL;
  buf_free(&st);
  const char *email = api_query_param(req, "attendeeEmail");
  const char *name = api_query_param(req, "attendeeName");
  if (email && strlen(email) > 254) api_v_fail(&v, "attendeeEmail", "attendeeEmail is too long");
  if (name && strlen(name) > 200) api_v_fail(&v, "attendeeName", "attendeeName is too long");
  const char *uid = api_query_param(req, "bookingUid");
  if (uid && !api_valid_uuid(uid)) api_v_fail(&v, "bookingUid", "bookingUid must be a booking uid");
  const char *ets = array_of(req, &v, "eventTypeIds", "eventTypeId");
  const char *teams = array_of(req, &v, "teamsIds", "teamId");
  const char *after_start = time_param(req, &v, "afterStart", 0);
  const char *before_end = time_param(req, &v, "beforeEnd", 1);
  const char *after_created = time_param(req, &v, "afterCreatedAt", 0);
  const char *before_created = time_param(req, &v, "beforeCreatedAt", 1);
  const char *after_updated = time_param(req, &v, "afterUpdatedAt", 0);
  const char *before_updated = time_param(req, &v, "beforeUpdatedAt", 1);
  /* the first sort given wins; without one, by start ascending */
  static const char *const sorts[][2] = {
      {"sortStart", "start"}, {"sortEnd", "end"}, {"sortCreated", "created"}, {"sortUpdatedAt", "updated"}};
  const char *sort = "start", *desc = "false";
  int sorted = 0;
  for (size_t i = 0; i < sizeof sorts / sizeof sorts[0]; i++) {
    const char *d = api_query_param(req, sorts[i][0]);
    if (!d) continue;
    if (strcmp(d, "asc") != 0 && strcmp(d, "desc") != 0) {
      api_v_fail(&v, sorts[i][0], "%s must be asc or desc", sorts[i][0]);
      continue;
    }
    if (sorted++) continue;
    sort = sorts[i][1];
    desc = strcmp(d, "desc") == 0 ? "true" : "false";
  }
  cb_t *p = f;
  p->take = 100;
  p->skip = 0;
  const char *take = api_query_param(req, "take"), *skip = api_query_param(req, "skip");
  char *end;
  if (take && ((p->take = strtoll(take, &end, 10)) < 1 || p->take > 250 || *end || !*take))
    api_v_fail(&v, "take", "take must be an integer from 1 to 250");
  if (skip && ((p->skip = strtoll(skip, &end, 10)) < 0 || p->skip > 1000000000 || *end || !*skip))
    api_v_fail(&v, "skip", "skip must be a non-negative integer");
  if (v.failed) return api_v_respond(&v);
  char take_s[24], skip_s[24];
  snprintf(take_s, sizeof take_s, "%lld", p->take);
  snprintf(skip_s, sizeof skip_s, "%lld", p->skip);
  const char *params[18] = {api_ctx(req)->user_id_str,
                            statuses,
                            email,
                            name,
                            uid,
                            ets,
                            teams,
                            after_start,
                            before_end,
                            after_created,
                            before_created,
                            after_updated,
                            before_updated,
                            sort,
                            desc,
                            take_s,
                            skip_s,
                            f->domain};
  api_query(req, "calcom_bookings_list", 18, params, on_list);
  return 0;
}

/* ------------------------------------------------------------------ /v2/bookings/{uid} ... */

static void next_seat(http_req_t *req);

static void change(http_req_t *req, const char *action, const char *id, const char *by) {
  cb_t *f = flow(req);
  book_change_t c = {
      .action = action, .user = f->is_host ? f->user : NULL, .reason = f->reason, .by = by, .new_start = f->new_start};
  snprintf(c.booking_id, sizeof c.booking_id, "%s", id);
  book_change(req, &c, &changed_presenter);
}

static void on_seat(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  cb_t *f = flow(req);
  if (PQntuples(r->res) < 1 || PQgetisnull(r->res, 0, 0)) {
    calcom_fail(req, 404, "seatUid is not a seat of this booking", "seatUid");
    return;
  }
  snprintf(f->seat_id, sizeof f->seat_id, "%s", PQgetvalue(r->res, 0, 0));
  change(req, f->op == OP_RESCHEDULE ? "rebook" : "cancel", f->seat_id, f->is_host ? "host" : "invitee");
}

/* reschedule: Cal.com's model, a new booking at the new time and the old one cancelled (the
 * core's rebook); a seated booking moves one seat, named by seatUid. */
static void reschedule_resolved(http_req_t *req) {
  cb_t *f = flow(req);
  if (!f->seated) {
    change(req, "rebook", f->id, f->is_host ? "host" : "invitee");
    return;
  }
  if (!f->seat_uid) {
    calcom_fail(req, 400,
                "this is a seated booking: each attendee has a seat of their own, so give seatUid (the seat to move; "
                "the booking's attendees list each seatUid) in the request body",
                "seatUid");
    return;
  }
  const char *params[2] = {f->lead, f->seat_uid};
  api_query(req, "calcom_seat_id", 2, params, on_seat);
}

/* cancel: a booking, one seat (seatUid, anyone holding it), or every seat (a host, with a reason). */
static void cancel_resolved(http_req_t *req) {
  cb_t *f = flow(req);
  if (!f->seated) { /* a series, or cancelSubsequentBookings: the core's cancel_following */
    change(req, f->series || f->subsequent ? "cancel_following" : "cancel", f->id, f->is_host ? "host" : "invitee");
    return;
  }
  if (f->seat_uid) {
    const char *params[2] = {f->lead, f->seat_uid};
    api_query(req, "calcom_seat_id", 2, params, on_seat);
    return;
  }
  if (!f->is_host) {
    calcom_fail(req, 400, "seatUid is required to cancel a seat of a seated booking", "seatUid");
    return;
  }
  if (!f->reason) { /* Cal.com's rule for a host cancelling every seat */
    calcom_fail(req, 400, "Cancellation reason is required", "cancellationReason");
    return;
  }
  if (f->nseats == 0) {
    calcom_fail(req, 409, "the booking is cancelled", NULL);
    return;
  }
  f->next_seat = 0;
  next_seat(req);
}

/* A host's change of a seated group: its seats one after another, each through the core (each
 * its own transaction, events and mails). */
static void next_seat(http_req_t *req) {
  cb_t *f = flow(req);
  char id[24];
  snprintf(id, sizeof id, "%" PRId64, f->seats[f->next_seat++]);
  change(req, f->op == OP_CONFIRM ? "confirm" : f->op == OP_DECLINE ? "decline" : "cancel", id, "host");
}

static void absent_next(http_req_t *req);

static void on_host_absent(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  answer_booking(req, flow(req)->lead, NULL);
}

/* mark-absent, after each attendee's no-show: the host's absence, then the answer. */
static void absent_host(http_req_t *req) {
  cb_t *f = flow(req);
  if (!f->host_given) {
    answer_booking(req, f->lead, NULL);
    return;
  }
  const char *params[3] = {f->lead, f->user, f->host_absent ? "true" : "false"};
  api_query(req, "calcom_host_absent", 3, params, on_host_absent);
}

static void on_absent_seat(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  cb_t *f = flow(req);
  json_t *a = json_array_get(f->absent, f->absent_i - 1);
  int absent = json_is_true(json_object_get(a, "absent"));
  if (PQntuples(r->res) < 1 || PQgetisnull(r->res, 0, 0)) {
    char field[48];
    snprintf(field, sizeof field, "attendees[%zu].email", f->absent_i - 1);
    calcom_fail(req, 400, "attendees names an e-mail that is not an attendee of this booking",
                arena_strdup(req->arena, field));
    return;
  }
  int already = PQgetvalue(r->res, 0, 1)[0] == 't';
  if (!absent) {
    if (already) {
      calcom_fail(req, 400, "an attendee marked absent cannot be marked present again (not supported)",
                  "attendees.absent");
      return;
    }
    absent_next(req);
    return;
  }
  if (already) {
    absent_next(req);
    return;
  }
  char id[24];
  snprintf(id, sizeof id, "%s", PQgetvalue(r->res, 0, 0));
  change(req, "no_show", id, "host");
}

/* Each attendee {email, absent} in turn: its booking (the seat with that e-mail), then the
 * core's no-show. */
static void absent_next(http_req_t *req) {
  cb_t *f = flow(req);
  if (f->absent_i >= json_array_size(f->absent)) {
    absent_host(req);
    return;
  }
  json_t *a = json_array_get(f->absent, f->absent_i++);
  const char *params[2] = {f->lead, json_string_value(json_object_get(a, "email"))};
  api_query(req, "calcom_attendee_seat", 2, params, on_absent_seat);
}

static void on_links(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  cb_t *f = flow(req);
  json_t *b = json_loads(PQgetvalue(r->res, 0, 0), 0, NULL);
  const char *s;
  char uid[320], ics_url[512];
  snprintf(uid, sizeof uid, "%s@%s", (s = json_string_value(json_object_get(b, "uid"))) ? s : "", f->domain);
  snprintf(ics_url, sizeof ics_url, "%s/api/bookings/%s/ics", api_app(req)->cfg->public_url, s ? s : "");
  int cancelled = (s = json_string_value(json_object_get(b, "status"))) && strcmp(s, "cancelled") == 0;
  ics_event_t ev = {.uid = uid,
                    .sequence = (int)json_integer_value(json_object_get(b, "sequence")),
                    .method = cancelled ? "CANCEL" : "PUBLISH",
                    .start = json_integer_value(json_object_get(b, "start")),
                    .end = json_integer_value(json_object_get(b, "end")),
                    .stamp = (int64_t)time(NULL),
                    .summary = json_string_value(json_object_get(b, "event_name")),
                    .location = json_string_value(json_object_get(b, "location")),
                    .organizer_name = json_string_value(json_object_get(b, "host_name")),
                    .organizer_email = json_string_value(json_object_get(b, "host_email")),
                    .attendee_name = json_string_value(json_object_get(b, "invitee_name")),
                    .attendee_email = json_string_value(json_object_get(b, "invitee_email")),
                    .cancelled = cancelled};
  json_t *links = json_object();
  if (!b || calendar_links(&ev, ics_url, links) != 0) {
    json_decref(links);
    json_decref(b);
    calcom_fail(req, 500, "internal error", NULL);
    return;
  }
  /* Cal.com's labels for the native links */
  static const char *const labels[][2] = {{"Google Calendar", "google"},
                                          {"Microsoft Office", "office365"},
                                          {"Microsoft Outlook", "outlook"},
                                          {"ICS", "ics"}};
  json_t *out = json_array();
  for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
    json_array_append_new(out,
                          json_pack("{s:s, s:O}", "label", labels[i][0], "link", json_object_get(links, labels[i][1])));
  json_decref(links);
  json_decref(b);
  calcom_ok(req, 200, out);
}

/* What each operation does once the uid is resolved. */
static void ref_done(http_req_t *req) {
  cb_t *f = flow(req);
  switch (f->op) {
    case OP_GET: answer_booking(req, f->id, NULL); return;
    case OP_CANCEL: cancel_resolved(req); return;
    case OP_RESCHEDULE: reschedule_resolved(req); return;
    case OP_CONFIRM:
    case OP_DECLINE:
      if (!f->is_host) break;
      if (f->seated) { /* each seat waits for its own confirmation: all of them */
        if (f->nseats == 0) {
          calcom_fail(req, 409, "no seat of this booking is waiting for confirmation", NULL);
          return;
        }
        f->next_seat = 0;
        next_seat(req);
        return;
      }
      change(req, f->op == OP_CONFIRM ? "confirm" : "decline", f->id, "host");
      return;
    case OP_ABSENT:
      if (!f->is_host) break;
      absent_next(req);
      return;
    case OP_REASSIGN: {
      book_reassign_t r = {.booking_id = api_parse_id(f->id), .host = f->reassign_to, .user = f->user};
      book_reassign(req, &r, &changed_presenter);
      return;
    }
    case OP_LINKS: {
      if (!f->is_host) break;
      const char *params[3] = {f->uid, f->user, NULL};
      api_query(req, "booking_calendar", 3, params, on_links);
      return;
    }
    case OP_REFERENCES:
      if (!f->can_view) break;
      calcom_ok(req, 200, json_array()); /* slotd keeps no external calendar or video references */
      return;
  }
  calcom_fail(req, 404, "booking not found", NULL); /* another host's booking: never a leak */
}

static void on_reassigned(void *data, const db_result_t *r) { on_json(data, r); }

/* The core changed a booking: the next seat to cancel, the next attendee, or the answer. */
static void changed(http_req_t *req, const book_result_t *res) {
  cb_t *f = flow(req);
  if ((f->op == OP_CANCEL || f->op == OP_CONFIRM || f->op == OP_DECLINE) && f->seated && !f->seat_uid &&
      f->next_seat < f->nseats) {
    next_seat(req);
    return;
  }
  if (f->op == OP_ABSENT) {
    absent_next(req);
    return;
  }
  if (f->op == OP_RESCHEDULE) { /* the new booking carries what the old one had */
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, api_jsonb_id(res->body, res->len));
    f->result_status = 201;
    const char *params[3] = {f->seated ? f->seat_id : f->id, id, f->domain};
    api_query(req, "calcom_booking_rebooked", 3, params, on_json);
    return;
  }
  if (f->op == OP_CANCEL && f->series) { /* every occurrence, as Cal.com answers a series */
    const char *params[3] = {f->uid, f->user, f->domain};
    api_query(req, "calcom_series_get", 3, params, on_json);
    return;
  }
  if (f->op == OP_REASSIGN) {
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, api_jsonb_id(res->body, res->len));
    const char *params[3] = {id, f->reason, f->domain};
    api_query(req, "calcom_booking_reassigned", 3, params, on_reassigned);
    return;
  }
  answer_booking(req, f->lead, NULL);
}

/* ------------------------------------------------------------------ the handlers */

static int bookings_get(http_req_t *req) {
  cb_t *f = flow_new(req, OP_GET);
  if (start_uid(req, f)) return 0;
  maybe_authenticate(req, resolve);
  return 0;
}

static int bookings_cancel(http_req_t *req) {
  cb_t *f = flow_new(req, OP_CANCEL);
  if (start_uid(req, f) || optional_body(req)) return 0;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  f->reason = api_v_str(&v, "cancellationReason", 0, 1, 2000);
  api_v_bool(&v, "cancelSubsequentBookings", &f->subsequent);
  f->seat_uid = api_v_str(&v, "seatUid", 0, 36, 36);
  if (f->seat_uid && !api_valid_uuid(f->seat_uid)) api_v_fail(&v, "seatUid", "seatUid must be a seat's uid");
  if (v.failed) return api_v_respond(&v);
  maybe_authenticate(req, resolve);
  return 0;
}

/* reschedule {start*, reschedulingReason, rescheduledBy, seatUid}: public with the uid, as cancel. */
static int bookings_reschedule(http_req_t *req) {
  cb_t *f = flow_new(req, OP_RESCHEDULE);
  if (start_uid(req, f) || api_body_object(req)) return 0;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  const char *start = api_v_str(&v, "start", 1, 1, 40);
  if (start && calcom_parse_time(start, 0, 0, &f->new_start) != 0)
    api_v_fail(&v, "start", "start must be an ISO 8601 date-time in UTC, e.g. 2024-08-13T10:00:00Z");
  f->reason = api_v_str(&v, "reschedulingReason", 0, 1, 2000);
  const char *by = api_v_str(&v, "rescheduledBy", 0, 3, 254); /* who asked: recorded as host or attendee */
  if (by && !api_valid_email(by)) api_v_fail(&v, "rescheduledBy", "rescheduledBy must be an email address");
  f->seat_uid = api_v_str(&v, "seatUid", 0, 36, 36);
  if (f->seat_uid && !api_valid_uuid(f->seat_uid)) api_v_fail(&v, "seatUid", "seatUid must be a seat's uid");
  api_v_str(&v, "emailVerificationCode", 0, 1, 100);
  if (v.failed) return api_v_respond(&v);
  maybe_authenticate(req, resolve);
  return 0;
}

static int host_op(http_req_t *req, int op) {
  cb_t *f = flow_new(req, op);
  if (start_uid(req, f) || optional_body(req)) return 0;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  if (op == OP_DECLINE || op == OP_REASSIGN) f->reason = api_v_str(&v, "reason", 0, 1, 2000);
  if (v.failed) return api_v_respond(&v);
  resolve(req);
  return 0;
}

static int bookings_confirm(http_req_t *req) { return host_op(req, OP_CONFIRM); }
static int bookings_decline(http_req_t *req) { return host_op(req, OP_DECLINE); }
static int bookings_reassign(http_req_t *req) { return host_op(req, OP_REASSIGN); }
static int bookings_links(http_req_t *req) { return host_op(req, OP_LINKS); }

static int bookings_reassign_to(http_req_t *req) {
  const char *id = http_req_param(req, "userId");
  long long to = id ? api_parse_id(id) : 0;
  if (!to) {
    if (calcom_version(req, CALCOM_V_BOOKINGS)) return 0;
    calcom_fail(req, 400, "userId must be a user id", "userId");
    return 0;
  }
  int r = host_op(req, OP_REASSIGN);
  flow(req)->reassign_to = to;
  return r;
}

static int bookings_references(http_req_t *req) {
  const char *type = api_query_param(req, "type");
  static const char *const types[] = {"google_calendar", "office365_calendar", "daily_video", "google_video",
                                      "office365_video", "zoom_video",         NULL};
  if (type && !in_list(types, type)) {
    if (calcom_version(req, CALCOM_V_BOOKINGS)) return 0;
    calcom_fail(req, 400,
                "type must be one of google_calendar, office365_calendar, daily_video, google_video, "
                "office365_video, zoom_video",
                "type");
    return 0;
  }
  return host_op(req, OP_REFERENCES);
}

/* mark-absent {host?, attendees?: [{email*, absent*}]}: the booking's hosts. */
static int bookings_mark_absent(http_req_t *req) {
  cb_t *f = flow_new(req, OP_ABSENT);
  if (start_uid(req, f) || optional_body(req)) return 0;
  json_t *body = api_ctx(req)->body;
  api_v_t v;
  api_v_init(&v, req, body);
  f->host_given = api_v_bool(&v, "host", &f->host_absent);
  json_t *att = json_object_get(body, "attendees");
  if (att && !json_is_array(att)) api_v_fail(&v, "attendees", "attendees must be a list of {email, absent}");
  size_t i;
  json_t *a;
  json_array_foreach(att, i, a) {
    const char *email = json_string_value(json_object_get(a, "email"));
    if (!json_is_object(a) || !email || !api_valid_email(email) || !json_is_boolean(json_object_get(a, "absent"))) {
      api_v_fail(&v, "attendees", "attendees[%zu] must be {email, absent: boolean}", i);
      break;
    }
  }
  if (json_array_size(att) > 100) api_v_fail(&v, "attendees", "at most 100 attendees");
  if (v.failed) return api_v_respond(&v);
  f->absent = json_is_array(att) ? att : NULL;
  resolve(req);
  return 0;
}

/* ------------------------------------------------------------------ module */

static const http_route_t routes[] = {
    {M(HTTP_POST), "/v2/bookings", CALCOM_PUB(bookings_create)},
    {M(HTTP_GET), "/v2/bookings", CALCOM_AUTH(bookings_list)},
    {M(HTTP_GET), "/v2/bookings/:uid", CALCOM_PUB(bookings_get)},
    {M(HTTP_POST), "/v2/bookings/:uid/cancel", CALCOM_PUB(bookings_cancel)},
    {M(HTTP_POST), "/v2/bookings/:uid/reschedule", CALCOM_PUB(bookings_reschedule)},
    {M(HTTP_POST), "/v2/bookings/:uid/mark-absent", CALCOM_AUTH(bookings_mark_absent)},
    {M(HTTP_POST), "/v2/bookings/:uid/reassign", CALCOM_AUTH(bookings_reassign)},
    {M(HTTP_POST), "/v2/bookings/:uid/reassign/:userId", CALCOM_AUTH(bookings_reassign_to)},
    {M(HTTP_POST), "/v2/bookings/:uid/confirm", CALCOM_AUTH(bookings_confirm)},
    {M(HTTP_POST), "/v2/bookings/:uid/decline", CALCOM_AUTH(bookings_decline)},
    {M(HTTP_GET), "/v2/bookings/:uid/calendar-links", CALCOM_AUTH(bookings_links)},
    {M(HTTP_GET), "/v2/bookings/:uid/references", CALCOM_AUTH(bookings_references)},
};

static const api_stmt_t statements[] = {
    {"calcom_booking_ref",
     "SELECT id, lead, seated, is_host, can_view, seats, NULL AS series, pending "
     "FROM api.calcom_booking_ref($1, $2)",
     0},
    {"calcom_booking_ref_series",
     "SELECT r.id, r.lead, r.seated, r.is_host, r.can_view, r.seats, s IS NOT NULL, r.pending "
     "FROM api.calcom_series_first($1) s, api.calcom_booking_ref(coalesce(s, $1), $2) r",
     0},
    {"calcom_booking_get", "SELECT coalesce(api.calcom_series_get($1, $2, $3), api.calcom_booking_get($1, $2, $3))", 0},
    {"calcom_series_get", "SELECT api.calcom_series_get($1, $2, $3)", 0},
    {"calcom_booking_rebooked", "SELECT api.calcom_booking_rebooked($1, $2, $3)", 1},
    {"calcom_booking_json", "SELECT api.calcom_booking_json($1, $2, $3, $4)", 0},
    {"calcom_booking_created", "SELECT api.calcom_booking_created($1, $2, $3, $4, $5, $6, $7)", 1},
    {"calcom_bookings_list",
     "SELECT body, total FROM api.calcom_bookings_list($1, $2, $3, $4, $5, $6, $7, $8, $9, "
     "$10, $11, $12, $13, $14, $15, $16, $17, $18)",
     0},
    {"calcom_seat_id", "SELECT g.id FROM bookings l, api.calcom_group(l) g WHERE l.id = $1 AND g.uid = $2", 0},
    {"calcom_attendee_seat",
     "SELECT g.id, g.no_show FROM bookings l, api.calcom_group(l) g WHERE l.id = $1 "
     "AND lower(g.invitee_email) = lower($2) ORDER BY g.status IN ('pending', 'confirmed', 'pending_payment') DESC, "
     "g.id LIMIT 1",
     0},
    {"calcom_host_absent", "SELECT api.calcom_host_absent($1, $2, $3)", 1},
    {"calcom_booking_reassigned", "SELECT api.calcom_booking_reassigned($1, $2, $3)", 1},
    {"calcom_hold_left", "SELECT api.calcom_hold_left($1, $2, $3, $4, $5, $6)", 0},
    {NULL, NULL, 0},
};

static void register_statements(void) { api_register_statements(statements); }

const app_module_t api_calcom_bookings_module = {"calcom-bookings", routes, (int)(sizeof routes / sizeof routes[0]),
                                                 register_statements};
