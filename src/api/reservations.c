/* reservations.c — short holds on a slot (Cal.com's reservations): a live hold removes the slot
 * from everyone else's availability until it expires (by timestamp; a timer deletes old rows)
 * or is consumed by the booking that names it. Creating one follows the same read, decide,
 * versioned-write path as a booking. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/timeutil.h"
#include "authn.h"
#include "bookings.h"
#include "util.h"

#define DEFAULT_MINUTES 5

typedef struct {
  const char *slug, *event_slug;
  int64_t start;
  long long minutes; /* 0: default */
  int attempts;
  char start_s[32], to_s[32];
} hold_t;

static void fetch(http_req_t *req);

static void on_created(void *data, const db_result_t *r) {
  http_req_t *req = data;
  hold_t *h = api_ctx(req)->flow;
  if (api_db_failed(req, r)) return;
  const char *v = PQgetvalue(r->res, 0, 0);
  switch (bookings_stale(req, v, &h->attempts)) {
    case 1: fetch(req);
    /* fall through */
    case -1: return;
  }
  size_t len = (size_t)PQgetlength(r->res, 0, 0);
  char *owned;
  v = api_take_host_hint(req, v, &len, &owned);
  api_respond_text_json(req, 201, v, len);
  free(owned);
}

static void on_data(void *data, const db_result_t *r) {
  http_req_t *req = data;
  hold_t *h = api_ctx(req)->flow;
  if (api_db_failed(req, r)) return;
  json_t *doc = json_loads(PQgetvalue(r->res, 0, 0), 0, NULL);
  if (!doc) {
    api_error(req, 500, E_INTERNAL, "internal error");
    return;
  }
  int64_t host = json_integer_value(json_object_get(doc, "host_id"));
  if (h->minutes && api_ctx(req)->user_id != host) {
    json_decref(doc);
    api_error_field(req, 403, E_FORBIDDEN, "only the host may choose a reservation's length", "minutes");
    return;
  }
  decision_t d;
  if (bookings_decide(doc, h->start, 1, 0, "UTC", &d) != 0) {
    json_decref(doc);
    api_error(req, 500, E_INTERNAL, "internal error");
    return;
  }
  if (d.verdict != DECIDE_OK) {
    json_decref(doc);
    bookings_respond_decision(req, &d);
    return;
  }
  char host_s[24], version[24], et[24], st[24], en[24], mins[8];
  snprintf(host_s, sizeof host_s, "%" PRId64, host);
  snprintf(version, sizeof version, "%" PRId64, (int64_t)json_integer_value(json_object_get(doc, "version")));
  snprintf(et, sizeof et, "%" PRId64,
           (int64_t)json_integer_value(json_object_get(json_object_get(doc, "event"), "id")));
  snprintf(st, sizeof st, "%" PRId64, h->start);
  snprintf(en, sizeof en, "%" PRId64, d.end);
  snprintf(mins, sizeof mins, "%lld", h->minutes ? h->minutes : DEFAULT_MINUTES);
  json_decref(doc);
  const char *params[6] = {host_s, version, et, st, en, mins};
  api_query(req, "reservation_create", 6, params, on_created);
}

static void fetch(http_req_t *req) {
  hold_t *h = api_ctx(req)->flow;
  const char *params[5] = {h->slug, h->event_slug, h->start_s, h->to_s, NULL};
  api_query(req, "availability_data_excl", 5, params, on_data);
}

int reservations_create(http_req_t *req) {
  if (api_body_object(req)) return 0;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  hold_t *h = arena_calloc(req->arena, sizeof *h);
  api_ctx(req)->flow = h;
  h->slug = api_v_str(&v, "slug", 1, 1, 60);
  h->event_slug = api_v_str(&v, "event_slug", 1, 1, 60);
  const char *st = api_v_str(&v, "start_time", 1, 1, 40);
  if (st && time_parse_rfc3339(st, &h->start) != 0)
    api_v_fail(&v, "start_time", "start_time must be an RFC 3339 date-time");
  api_v_int(&v, "minutes", 1, 60, 0, NULL, &h->minutes);
  if (v.failed) return api_v_respond(&v);
  time_format_utc(h->start, h->start_s, sizeof h->start_s);
  time_format_utc(h->start + 14 * 86400, h->to_s, sizeof h->to_s);
  if (h->minutes) api_authenticate(req, fetch); /* only the host may choose the length */
  else fetch(req);
  return 0;
}

static int uid_param(http_req_t *req, const char **uid) {
  *uid = http_req_param(req, "uid");
  int ok = api_valid_uuid(*uid);
  if (!ok) api_error(req, 404, E_NOT_FOUND, "reservation not found or expired");
  return ok;
}

static void on_json(void *data, const db_result_t *r) { api_respond_db(data, r, 200); }

int reservations_get(http_req_t *req) {
  const char *uid;
  if (!uid_param(req, &uid)) return 0;
  const char *params[1] = {uid};
  api_query(req, "reservation_get", 1, params, on_json);
  return 0;
}

int reservations_delete(http_req_t *req) {
  const char *uid;
  if (!uid_param(req, &uid)) return 0;
  const char *params[1] = {uid};
  api_query(req, "reservation_delete", 1, params, on_json);
  return 0;
}
