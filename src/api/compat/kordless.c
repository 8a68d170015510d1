/* kordless.c — Kordless's public Booking API (issue 17) under /api/calendar/v1, so a client
 * written for api.kordless.ai works against slotd by changing its base URL. The contract is
 * seed 004 first, then the vendor's documented pages (../shared/vendors/README.md §1).
 *
 *   - Organisation: a slotd organisation (services: its listed event types), or a booking page
 *     as a one-host organisation of its owner's listed event types; both by slug. The caller's
 *     x-kordless-key must belong to it (an org key to its org, a personal key to its owner's
 *     page): else 403 (api.kordless_scope).
 *   - Errors {"detail", "status", "type"} for every failure on these routes (kordless_dialect).
 *   - Limits: per key, KORDLESS_PER_MINUTE requests and KORDLESS_CREATE_PER_MINUTE booking
 *     creations, with the X-RateLimit-* headers of the limit that applies.
 *   - Self-service (lookup, cancel, reschedule) by confirmation number and the booking's e-mail
 *     or phone, without a key: the native look-up (api.booking_id_for_number, per-IP budget
 *     "conf:<ip>") and the one booking core (book_change).
 * Availability is the engine's (availability_slots); bookings are the core's (book_create). */
#include <inttypes.h>
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../app.h"
#include "../../core/timeutil.h"
#include "../../core/util.h"
#include "../../sched/team.h"
#include "../../sched/tzif.h"
#include "../availability.h"
#include "../book.h"
#include "../bookings.h"
#include "../dispatch.h"
#include "../query.h"
#include "../respond.h"
#include "../validate.h"

/* The seed's limits ("60 requests per minute per API key", "10 per minute" for booking
 * creation) at slotd's default SLOTD_RATE_LIMIT_AUTH; they scale with it ("higher limits
 * available"), so an operator who raises the native limit raises these in proportion. */
#define KORDLESS_PER_MINUTE 60
#define KORDLESS_CREATE_PER_MINUTE 10
#define KORDLESS_AUTH_DEFAULT 300

/* ------------------------------------------------------------------ errors */

static const char *error_type(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found";
    case 409: return "conflict";
    case 422: return "unprocessable_entity";
    case 429: return "rate_limit_error";
    default: return status >= 500 ? "internal_error" : "validation_error";
  }
}

static void kordless_error(const api_failure_t *f, buf_t *out) {
  const char *detail = f->message && *f->message ? f->message : "error";
  if (f->status == 401) detail = "Invalid or missing API key";
  else if (f->status == 429) detail = "Rate limit exceeded";
  buf_puts(out, "{\"detail\":");
  buf_json_str(out, detail);
  buf_printf(out, ",\"status\":%d,\"type\":", f->status);
  buf_json_str(out, error_type(f->status));
  buf_putc(out, '}');
}

static const api_dialect_t kordless_dialect = {"kordless", kordless_error, NULL, "x-kordless-key"};

static void fail(http_req_t *req, int status, const char *detail, const char *field) {
  api_error_field(req, status, api_code_for_status(status), detail, field);
}

/* ------------------------------------------------------------------ per-key limits */

static int scaled(http_req_t *req, int base) {
  long long v = (long long)api_app(req)->cfg->rate_limit_auth * base / KORDLESS_AUTH_DEFAULT;
  return v < 1 ? 1 : v > 1000000 ? 1000000 : (int)v;
}

/* 1 to go on; 0 after the 429. create: a booking creation, counted against both limits (the
 * headers are the creation limit's, the stricter one). */
static int key_limits(http_req_t *req, int create) {
  api_ctx_t *c = api_ctx(req);
  char key[64];
  if (c->api_key_id) snprintf(key, sizeof key, "kl:k:%" PRId64, c->api_key_id);
  else snprintf(key, sizeof key, "kl:u:%" PRId64, c->user_id); /* a session: the person's budget */
  /* The dispatcher counted the request against the caller's native budget and set its headers;
   * Kordless's per-key limit is the one its clients read: its headers replace those. */
  if (!api_rate_limit(req, key, scaled(req, KORDLESS_PER_MINUTE), create ? API_RL_QUIET : API_RL_REPLACE)) return 0;
  if (!create) return 1;
  key[1] = 'b'; /* "kb:...": the creations of that key */
  return api_rate_limit(req, key, scaled(req, KORDLESS_CREATE_PER_MINUTE), API_RL_REPLACE);
}

/* ------------------------------------------------------------------ the request's state */

typedef struct {
  /* the organisation and service as Kordless names them (api.kordless_service's meta, or
   * api.kordless_number's), copied into the request arena */
  const char *org_slug, *org_name, *service_slug, *service_tz;
  const char *team_id, *team_name, *team_slug; /* NULL: no team */
  const char *host_id, *host_name;             /* a personal type's owner, else NULL */
  int capacity, booking_minutes;
  int64_t event_type_id;
  /* availability */
  const char *timezone; /* echoed in each slot: the client's zone, else the service's */
  int seats;
  int64_t from, to;
  /* booking */
  book_request_t b;
  int minutes;           /* ends_at - starts_at */
  const char *host_text; /* host_id / team_id as sent, for their checks */
  const char *team_text;
  book_change_t c;
  const char *start_field; /* the start's name in this operation's body (starts_at / start_at) */
  int64_t new_end;
} kflow_t;

static kflow_t *flow(http_req_t *req) { return api_ctx(req)->flow; }

static kflow_t *new_flow(http_req_t *req) {
  kflow_t *k = arena_calloc(req->arena, sizeof *k);
  api_ctx(req)->flow = k;
  return k;
}

static const char *dup_str(http_req_t *req, json_t *o, const char *name) {
  const char *s = json_string_value(json_object_get(o, name));
  return s ? arena_strdup(req->arena, s) : NULL;
}

/* meta (JSON text from the database) into k's fields: 0, or -1 when it cannot be read. */
static int read_meta(http_req_t *req, kflow_t *k, const char *text, size_t len) {
  json_t *m = json_loadb(text, len, 0, NULL);
  if (!json_is_object(m)) {
    json_decref(m);
    return -1;
  }
  k->org_slug = dup_str(req, m, "org_slug");
  k->org_name = dup_str(req, m, "org_name");
  k->service_slug = dup_str(req, m, "service_slug");
  k->service_tz = dup_str(req, m, "timezone");
  json_t *team = json_object_get(m, "team"), *host = json_object_get(m, "host");
  k->team_id = dup_str(req, team, "id");
  k->team_name = dup_str(req, team, "name");
  k->team_slug = dup_str(req, team, "slug");
  k->host_id = dup_str(req, host, "id");
  k->host_name = dup_str(req, host, "displayName");
  k->capacity = (int)json_integer_value(json_object_get(m, "seats"));
  k->booking_minutes = (int)json_integer_value(json_object_get(m, "minutes"));
  json_decref(m);
  if (!k->org_slug) k->org_slug = "";
  if (!k->org_name) k->org_name = "";
  if (!k->service_slug) k->service_slug = "";
  return 0;
}

/* A borrowed value as a new reference, JSON null when absent (json_pack refuses NULL). */
static json_t *O(json_t *x) { return x ? json_incref(x) : json_null(); }
static json_t *S(const char *s) { return s ? json_string(s) : json_null(); }

/* The caller as the statements take it: (user id or NULL, key org or NULL). An org key is its
 * org and nobody else: its creator's id is not passed. */
static void caller(http_req_t *req, const char **user, const char **key_org) {
  *key_org = api_key_org(req);
  *user = *key_org ? NULL : api_ctx(req)->user_id_str;
}

static int slug_ok(const char *s) { return s && *s && strlen(s) <= 60; }

/* ------------------------------------------------------------------ organisation and service */

static void on_body(void *data, const db_result_t *r) { api_respond_db(data, r, 200); }

static int org_get(http_req_t *req) {
  if (!key_limits(req, 0)) return 0;
  const char *slug = http_req_param(req, "org_slug");
  if (!slug_ok(slug)) {
    fail(req, 404, "Organization not found", NULL);
    return 0;
  }
  const char *user, *key_org;
  caller(req, &user, &key_org);
  const char *p[3] = {slug, user, key_org};
  api_query(req, "kordless_org", 3, p, on_body);
  return 0;
}

static int service_get(http_req_t *req) {
  if (!key_limits(req, 0)) return 0;
  const char *slug = http_req_param(req, "org_slug"), *service = http_req_param(req, "service_slug");
  if (!slug_ok(slug) || !slug_ok(service)) {
    fail(req, 404, slug_ok(slug) ? "Service not found" : "Organization not found", NULL);
    return 0;
  }
  const char *user, *key_org;
  caller(req, &user, &key_org);
  const char *p[4] = {slug, service, user, key_org};
  api_query(req, "kordless_service_body", 4, p, on_body);
  return 0;
}

/* Resolves (org_slug, service_slug) for the caller: cb reads the row with read_service. */
static int resolve_service(http_req_t *req, const char *slug, const char *service, db_cb cb) {
  const char *user, *key_org;
  caller(req, &user, &key_org);
  const char *p[4] = {slug, service, user, key_org};
  api_query(req, "kordless_service", 4, p, cb);
  return 0;
}

/* 0 with k->event_type_id and the names from a kordless_service row; -1 after responding. */
static int read_service(http_req_t *req, const db_result_t *r) {
  if (api_db_failed(req, r)) return -1;
  kflow_t *k = flow(req);
  if (PQntuples(r->res) != 1) {
    fail(req, 404, "Service not found", NULL);
    return -1;
  }
  k->event_type_id = strtoll(PQgetvalue(r->res, 0, 0), NULL, 10);
  if (read_meta(req, k, PQgetvalue(r->res, 0, 2), (size_t)PQgetlength(r->res, 0, 2))) {
    fail(req, 500, "internal error", NULL);
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------ availability */

static json_t *iso(int64_t t) {
  char s[48];
  time_format_utc(t, s, sizeof s);
  return json_string(s);
}

static json_t *slot_json(const kflow_t *k, int64_t start, int64_t end, int left, const char *host_id,
                         const char *host_name) {
  json_t *team = k->team_id
                     ? json_pack("{s:s, s:o, s:o}", "id", k->team_id, "name", S(k->team_name), "slug", S(k->team_slug))
                     : json_null();
  json_t *host = host_id ? json_pack("{s:s, s:o}", "id", host_id, "displayName", S(host_name)) : json_null();
  return json_pack("{s:o, s:o, s:i, s:i, s:s, s:o, s:o, s:s, s:o, s:o}", "startsAt", iso(start), "endsAt", iso(end),
                   "capacity", k->capacity, "availableCapacity", left, "serviceId", k->service_slug, "hostId",
                   S(host_id), "teamId", S(k->team_id), "timezone", k->timezone, "host", host, "team", team);
}

/* One entry per start for a personal type (its owner hosts it) and for a collective one (every
 * host at once: host null, the client does not choose); one per (start, free host) for round
 * robin, which the client may pick with host_id. The round-robin hosts are the engine's own
 * team slots (inputs_team_slots, as availability_slots computed v from). */
static void on_slots(http_req_t *req, void *data, const inputs_t *in, const avail_slot_t *v, size_t n,
                     const db_result_t *failed) {
  (void)data;
  kflow_t *k = flow(req);
  if (!in) {
    if (failed && !failed->ok) api_db_failed(req, failed);
    else fail(req, 500, "internal error", NULL);
    return;
  }
  json_t *slots = json_array();
  if (in->team == TEAM_ROUND_ROBIN) {
    sched_team_slots_t t;
    inputs_team_slots(in, now_wall_ms() / 1000, k->from, k->to, -1, k->seats, &t);
    for (size_t i = 0; i < t.n; i++)
      for (uint32_t j = 0; j < t.v[i].nhosts; j++) {
        const sched_team_host_t *th = &t.hosts[t.v[i].off + j];
        const inputs_host_t *h = &in->hosts[th->host];
        if (k->seats > 1 && th->seats_left < k->seats) continue;
        char id[24];
        snprintf(id, sizeof id, "%" PRId64, h->host_id);
        json_array_append_new(slots, slot_json(k, t.v[i].start, t.v[i].end, th->seats_left, id, h->name));
      }
    sched_team_slots_free(&t);
  } else {
    for (size_t i = 0; i < n; i++) /* collective: every host at once, none to choose */
      json_array_append_new(slots, slot_json(k, v[i].start, v[i].end, v[i].seats_left, in->team ? NULL : k->host_id,
                                             in->team ? NULL : k->host_name));
  }
  api_respond_json(req, 200, json_pack("{s:o}", "slots", slots));
}

static void availability_resolved(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (read_service(req, r)) return;
  kflow_t *k = flow(req);
  if (!k->timezone) k->timezone = k->service_tz ? k->service_tz : "UTC";
  avail_query_t q = {.event_type_id = k->event_type_id, .from = k->from, .to = k->to, .seats = k->seats};
  availability_slots(req, &q, on_slots, NULL);
}

static int availability(http_req_t *req) {
  if (!key_limits(req, 0)) return 0;
  kflow_t *k = new_flow(req);
  const char *slug = api_query_param(req, "org_slug"), *service = api_query_param(req, "service_slug");
  const char *from = api_query_param(req, "from"), *to = api_query_param(req, "to");
  const char *party = api_query_param(req, "partySize");
  if (!party) party = api_query_param(req, "party_size"); /* create's spelling, as an alias */
  const char *tz = api_query_param(req, "timezone");
  struct {
    const char *name, *value;
  } req_params[] = {{"org_slug", slug}, {"service_slug", service}, {"from", from}, {"to", to}};
  for (size_t i = 0; i < sizeof req_params / sizeof req_params[0]; i++)
    if (!req_params[i].value || !*req_params[i].value) {
      char msg[64];
      snprintf(msg, sizeof msg, "%s is required", req_params[i].name);
      fail(req, 400, msg, req_params[i].name);
      return 0;
    }
  if (time_parse_rfc3339(from, &k->from) != 0) {
    fail(req, 400, "from must be an ISO 8601 date-time, e.g. 2025-12-03T00:00:00Z", "from");
    return 0;
  }
  if (time_parse_rfc3339(to, &k->to) != 0) {
    fail(req, 400, "to must be an ISO 8601 date-time, e.g. 2025-12-03T23:59:59Z", "to");
    return 0;
  }
  if (k->to < k->from) {
    fail(req, 400, "to must not be before from", "to");
    return 0;
  }
  if (k->to - k->from > (int64_t)AVAIL_MAX_DAYS * 86400) {
    char msg[80];
    snprintf(msg, sizeof msg, "from and to may be at most %d days apart", AVAIL_MAX_DAYS);
    fail(req, 400, msg, "to");
    return 0;
  }
  k->seats = 1;
  if (party) {
    long long n = api_parse_id(party);
    if (n < 1 || n > 1000) {
      fail(req, 400, "partySize must be an integer from 1 to 1000", "partySize");
      return 0;
    }
    k->seats = (int)n;
  }
  if (tz && *tz) {
    if (!tz_get(tz)) {
      fail(req, 400, "timezone must be an IANA time zone name", "timezone");
      return 0;
    }
    k->timezone = tz;
  }
  if (!slug_ok(slug) || !slug_ok(service)) {
    fail(req, 404, slug_ok(slug) ? "Service not found" : "Organization not found", NULL);
    return 0;
  }
  k->to++; /* "to" is the last instant asked for: a slot starting exactly then is included */
  return resolve_service(req, slug, service, availability_resolved);
}

/* ------------------------------------------------------------------ bookings */

static const char *status_word(const char *s) {
  if (!s) return "confirmed";
  if (strcmp(s, "cancelled") == 0 || strcmp(s, "declined") == 0) return "canceled";
  return s;
}

static const char *location_type(const char *t) {
  if (strcmp(t, "in_person") == 0) return "onsite";
  if (strcmp(t, "phone") == 0 || strcmp(t, "custom") == 0) return t;
  return "meet_url"; /* google_meet, zoom */
}

/* A booking as Kordless shows it (the full form of lookup and cancel, a superset of create's
 * and reschedule's), from the core's booking JSON and the organisation's names. */
static json_t *booking_json(const kflow_t *k, json_t *b) {
  const char *lt = json_string_value(json_object_get(b, "location_type"));
  json_t *loc =
      lt ? json_pack("{s:s, s:o}", "type", location_type(lt), "value", O(json_object_get(b, "location_value")))
         : json_null();
  return json_pack("{s:o, s:o, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:o, s:{s:o, s:o, s:o}, s:o, s:o}", "id",
                   O(json_object_get(b, "uid")), "confirmation_number", O(json_object_get(b, "confirmation_number")),
                   "status", status_word(json_string_value(json_object_get(b, "status"))), "organization_slug",
                   k->org_slug, "organization_name", k->org_name, "start_at", O(json_object_get(b, "start")), "end_at",
                   O(json_object_get(b, "end")), "service_id", k->service_slug, "service_slug", k->service_slug,
                   "service_name", O(json_object_get(b, "event_name")), "contact", "name",
                   O(json_object_get(b, "invitee_name")), "email", O(json_object_get(b, "invitee_email")), "phone",
                   O(json_object_get(b, "phone")), "location", loc, "timezone", O(json_object_get(b, "timezone")));
}

/* The core's refusals in this dialect's field names; a booking already canceled cannot be
 * changed (422, as Kordless documents for cancel and reschedule). */
static void booking_failed(http_req_t *req, const api_failure_t *f) {
  kflow_t *k = flow(req);
  api_failure_t g = *f;
  g.next_slots = NULL;
  char msg[400];
  if (g.current_status && (strcmp(g.current_status, "cancelled") == 0 || strcmp(g.current_status, "declined") == 0)) {
    g.status = 422;
    g.code = api_code_for_status(422);
    g.message = k->c.action && strcmp(k->c.action, "reschedule") == 0 ? "A canceled booking cannot be rescheduled"
                                                                      : "The booking is already canceled";
    g.current_status = NULL;
  } else if (g.field && strcmp(g.field, "duration_minutes") == 0) {
    g.field = "ends_at";
    g.message = "ends_at must be starts_at plus one of the service's durations";
  } else if (g.field && strcmp(g.field, "seats") == 0) {
    g.field = "party_size";
    g.message = "party_size exceeds the service's capacity";
  } else if (g.message && strncmp(g.message, "start_time", 10) == 0) { /* the engine's verdicts */
    snprintf(msg, sizeof msg, "%s%s", k->start_field, g.message + 10);
    g.message = msg;
    g.field = k->start_field;
  }
  api_fail(req, &g);
}

static void created(http_req_t *req, const book_result_t *res) {
  kflow_t *k = flow(req);
  json_t *all = json_loadb(res->body, res->len, 0, NULL);
  json_t *b = json_is_array(all) ? json_array_get(all, 0) : all; /* a recurring type: its first */
  const char *token = res->series ? json_string_value(json_object_get(b, "cancel_token")) : res->cancel_token;
  const char *uid = json_string_value(json_object_get(b, "uid"));
  if (!b || !uid) {
    json_decref(all);
    fail(req, 500, "internal error", NULL);
    return;
  }
  char url[512];
  snprintf(url, sizeof url, "%s/api/bookings/%s/ics?token=%s", api_app(req)->cfg->public_url, uid, token ? token : "");
  json_t *out = json_pack("{s:o, s:{s:s}}", "booking", booking_json(k, b), "calendar_invite", "ics_url", url);
  json_decref(all);
  api_respond_json(req, 201, out);
}

static const book_presenter_t created_presenter = {created, booking_failed};

static void changed(http_req_t *req, const book_result_t *res) {
  kflow_t *k = flow(req);
  json_t *b = json_loadb(res->body, res->len, 0, NULL);
  if (!b) {
    fail(req, 500, "internal error", NULL);
    return;
  }
  json_t *out = json_pack("{s:o}", "booking", booking_json(k, b));
  json_decref(b);
  api_respond_json(req, 200, out);
}

static const book_presenter_t changed_presenter = {changed, booking_failed};

static void create_resolved(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (read_service(req, r)) return;
  kflow_t *k = flow(req);
  if (k->team_text && (!k->team_id || strcmp(k->team_text, k->team_id) != 0)) {
    fail(req, 400, "team_id is not this service's team", "team_id");
    return;
  }
  if (k->host_text) {
    long long h = api_parse_id(k->host_text);
    if (!h) {
      fail(req, 400, "host_id is not a host of this service", "host_id");
      return;
    }
    k->b.preferred_host = h;
  }
  k->b.target.event_type_id = k->event_type_id;
  k->b.duration = k->minutes;
  k->b.recurrence_count = 1; /* Kordless books one appointment */
  book_create(req, &k->b, &created_presenter);
}

/* A string, or a number written as digits (ids), from the body: NULL when absent. */
static const char *id_text(api_v_t *v, http_req_t *req, const char *field) {
  json_t *x = json_object_get(v->obj, field);
  if (!x || json_is_null(x)) return NULL;
  if (json_is_integer(x)) {
    char *s = arena_alloc(req->arena, 24);
    snprintf(s, 24, "%" JSON_INTEGER_FORMAT, json_integer_value(x));
    return s;
  }
  return api_v_str(v, field, 0, 1, 40);
}

/* A start or end: the documented name, or the other operation's spelling as an alias
 * (create says starts_at/ends_at, reschedule start_at/end_at). */
static const char *time_field(api_v_t *v, const char *name, const char *alias, int64_t *out) {
  const char *field = api_v_present(v, name) || !api_v_present(v, alias) ? name : alias;
  const char *s = api_v_str(v, field, 1, 1, 40);
  if (s && time_parse_rfc3339(s, out) != 0) api_v_fail(v, field, "%s must be an ISO 8601 date-time in UTC", field);
  return s;
}

static int booking_create(http_req_t *req) {
  if (!key_limits(req, 1)) return 0;
  kflow_t *k = new_flow(req);
  k->start_field = "starts_at";
  if (api_body_object(req)) return 0;
  json_t *body = api_ctx(req)->body;
  api_v_t v;
  api_v_init(&v, req, body);
  const char *slug = api_v_str(&v, "org_slug", 1, 1, 200);
  const char *service = api_v_str(&v, "service_slug", 1, 1, 200);
  int64_t end = 0;
  time_field(&v, "starts_at", "start_at", &k->b.start);
  time_field(&v, "ends_at", "end_at", &end);
  k->b.timezone = api_v_str(&v, "timezone", 1, 1, 64);
  if (k->b.timezone && !tz_get(k->b.timezone)) api_v_fail(&v, "timezone", "timezone must be an IANA time zone name");
  json_t *contact = json_object_get(body, "contact");
  if (!v.failed && !json_is_object(contact)) api_v_fail(&v, "contact", "contact is required: {name, email, phone}");
  if (!v.failed) {
    api_v_t cv;
    api_v_init(&cv, req, contact);
    k->b.name = api_v_line(&cv, "name", 1, 1, 200);
    /* slotd mails every invitee their booking: an e-mail address is required, a phone optional */
    k->b.email = api_v_str(&cv, "email", 1, 3, 254);
    if (k->b.email && !api_valid_email(k->b.email)) api_v_fail(&cv, "email", "email must be a valid email address");
    k->b.phone = api_v_str(&cv, "phone", 0, 1, 32);
    if (k->b.phone && !api_valid_phone(k->b.phone)) api_v_fail(&cv, "phone", "phone must be a phone number");
    if (cv.failed) api_v_fail(&v, "contact", "contact.%s", cv.message);
  }
  long long party = 1;
  if (!api_v_present(&v, "party_size") && api_v_present(&v, "partySize"))
    api_v_int(&v, "partySize", 1, 1000, 0, NULL, &party); /* availability's spelling, as an alias */
  else api_v_int(&v, "party_size", 1, 1000, 0, NULL, &party);
  k->b.seats = (int)party;
  k->host_text = id_text(&v, req, "host_id");
  k->team_text = id_text(&v, req, "team_id");
  k->b.notes = api_v_str(&v, "notes", 0, 0, 5000);
  if (!v.failed && (end - k->b.start) % 60 != 0)
    api_v_fail(&v, "ends_at", "ends_at must be starts_at plus the service's duration");
  else if (!v.failed && (end <= k->b.start || end - k->b.start > 1440 * 60))
    api_v_fail(&v, "ends_at", "ends_at must be after starts_at by the service's duration");
  if (v.failed) {
    api_v_respond(&v);
    return 0;
  }
  k->minutes = (int)((end - k->b.start) / 60);
  if (!slug_ok(slug) || !slug_ok(service)) {
    fail(req, 404, slug_ok(slug) ? "Service not found" : "Organization not found", NULL);
    return 0;
  }
  return resolve_service(req, slug, service, create_resolved);
}

/* ------------------------------------------------------------------ self-service by number */

static void number_resolved(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  kflow_t *k = flow(req);
  if (PQntuples(r->res) != 1 || PQgetisnull(r->res, 0, 0)) {
    fail(req, 404, "Booking not found", NULL);
    return;
  }
  snprintf(k->c.booking_id, sizeof k->c.booking_id, "%s", PQgetvalue(r->res, 0, 0));
  if (read_meta(req, k, PQgetvalue(r->res, 0, 1), (size_t)PQgetlength(r->res, 0, 1))) {
    fail(req, 500, "internal error", NULL);
    return;
  }
  if (strcmp(k->c.action, "reschedule") == 0) {
    int minutes = k->booking_minutes;
    if (k->new_end - k->c.new_start != (int64_t)minutes * 60) { /* the booking keeps its length */
      char msg[120];
      snprintf(msg, sizeof msg, "end_at must be start_at plus the booking's duration (%d minutes)", minutes);
      fail(req, 400, msg, "end_at");
      return;
    }
  }
  book_change(req, &k->c, &changed_presenter);
}

/* The per-IP guessing budget first (as the native doors), then the look-up. The contact is
 * the query's: a phone's "+" that arrives as a space still matches (the look-up compares a
 * phone's digits). */
static int by_number(http_req_t *req, kflow_t *k) {
  char key[96];
  snprintf(key, sizeof key, "conf:%s", api_ctx(req)->client_ip);
  if (!api_rate_limit(req, key, NUMBER_ATTEMPTS_PER_MINUTE, 0)) return 0;
  const char *number = http_req_param(req, "number");
  const char *contact = api_query_param(req, "contact");
  if (!contact || !*contact) {
    fail(req, 400, "contact (the booking's email or phone) is required", "contact");
    return 0;
  }
  while (*contact == ' ') contact++;
  if (!number || strlen(number) != 8 || strlen(contact) > 254 || !*contact) {
    fail(req, 404, "Booking not found", NULL);
    return 0;
  }
  const char *p[3] = {number, contact, strcmp(k->c.action, "get") == 0 ? "f" : "t"};
  api_query(req, "kordless_number", 3, p, number_resolved);
  return 0;
}

static kflow_t *number_flow(http_req_t *req, const char *action) {
  kflow_t *k = new_flow(req);
  k->c.action = action;
  k->c.by = "invitee";
  k->start_field = "start_at";
  return k;
}

static int number_get(http_req_t *req) { return by_number(req, number_flow(req, "get")); }

static int number_cancel(http_req_t *req) {
  kflow_t *k = number_flow(req, "cancel");
  if (req->body.len) { /* no body is documented; a reason is kept if one is sent */
    if (api_body_object(req)) return 0;
    api_v_t v;
    api_v_init(&v, req, api_ctx(req)->body);
    k->c.reason = api_v_str(&v, "reason", 0, 0, 2000);
    if (v.failed) return api_v_respond(&v);
  }
  return by_number(req, k);
}

static int number_reschedule(http_req_t *req) {
  kflow_t *k = number_flow(req, "reschedule");
  if (api_body_object(req)) return 0;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  time_field(&v, "start_at", "starts_at", &k->c.new_start);
  time_field(&v, "end_at", "ends_at", &k->new_end);
  k->c.new_tz = api_v_str(&v, "timezone", 0, 1, 64); /* absent: the booking keeps its zone */
  if (k->c.new_tz && !tz_get(k->c.new_tz)) api_v_fail(&v, "timezone", "timezone must be an IANA time zone name");
  k->c.reason = api_v_str(&v, "notes", 0, 0, 2000); /* recorded as the move's reason */
  if (v.failed) return api_v_respond(&v);
  return by_number(req, k);
}

/* ------------------------------------------------------------------ module */

#define BASE "/api/calendar/v1/public"
/* Key routes: an org key (API_ORG: api.kordless_scope checks its org) or a personal credential. */
#define KEY(fn) \
  api_dispatch, 0, &(const api_handler_t) { fn, API_AUTH | API_ORG, &kordless_dialect }
/* Self-service: no key (confirmation number and contact), the public per-IP limit. */
#define PUB(fn) \
  api_dispatch, ROUTE_PUBLIC, &(const api_handler_t) { fn, API_PUBLIC, &kordless_dialect }

static const http_route_t routes[] = {
    {M(HTTP_GET), BASE "/org/:org_slug", KEY(org_get)},
    {M(HTTP_GET), BASE "/org/:org_slug/service/:service_slug", KEY(service_get)},
    {M(HTTP_GET), BASE "/availability", KEY(availability)},
    {M(HTTP_POST), BASE "/bookings", KEY(booking_create)},
    {M(HTTP_GET), BASE "/bookings/confirmation/:number", PUB(number_get)},
    {M(HTTP_POST), BASE "/bookings/confirmation/:number/cancel", PUB(number_cancel)},
    {M(HTTP_POST), BASE "/bookings/confirmation/:number/reschedule", PUB(number_reschedule)},
};

static const api_stmt_t statements[] = {
    {"kordless_org", "SELECT api.kordless_org($1, $2, $3)", 0},
    {"kordless_service_body", "SELECT body FROM api.kordless_service($1, $2, $3, $4)", 0},
    {"kordless_service", "SELECT event_type_id, body, meta FROM api.kordless_service($1, $2, $3, $4)", 0},
    {"kordless_number", "SELECT booking_id, meta FROM api.kordless_number($1, $2, $3)", 0},
    {NULL, NULL, 0},
};

static void register_statements(void) { api_register_statements(statements); }

const app_module_t api_kordless_module = {"kordless", routes, (int)(sizeof routes / sizeof routes[0]),
                                          register_statements, "/api/calendar/v1/", &kordless_dialect};
