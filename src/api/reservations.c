/* reservations.c — short holds on a slot (Cal.com's reservations): a live hold removes the slot
 * from everyone else's availability until it expires (by timestamp; a timer deletes old rows)
 * or is consumed by the booking that names it. Creating one runs through the booking core. */
#include <stdio.h>
#include <string.h>

#include "../core/timeutil.h"
#include "authn.h"
#include "book.h"
#include "bookings.h"
#include "dispatch.h"
#include "query.h"
#include "respond.h"
#include "validate.h"

static void on_json_list(void *data, const db_result_t *r) { api_respond_db(data, r, 200); }

static void hold_now(http_req_t *req) { book_hold(req, api_ctx(req)->flow, &book_native_plain); }

/* {slug, event_slug} or {event_type_id}, start_time, minutes (the host only). */
int reservations_create(http_req_t *req) {
  char key[96];
  snprintf(key, sizeof key, "hold:%s", api_ctx(req)->client_ip);
  if (!api_rate_limit(req, key, api_app(req)->cfg->rate_limit_holds, 0)) return 0;
  if (api_body_object(req)) return 0;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  book_hold_t *h = arena_calloc(req->arena, sizeof *h);
  long long id = 0, minutes = 0;
  api_v_int(&v, "event_type_id", 1, INT64_MAX / 2, 0, NULL, &id);
  h->target.event_type_id = id;
  if (!id) {
    h->target.slug = api_v_str(&v, "slug", 1, 1, 60);
    h->target.event_slug = api_v_str(&v, "event_slug", 1, 1, 60);
  }
  const char *st = api_v_str(&v, "start_time", 1, 1, 40);
  if (st && time_parse_rfc3339(st, &h->start) != 0)
    api_v_fail(&v, "start_time", "start_time must be an RFC 3339 date-time");
  api_v_int(&v, "minutes", 1, 60, 0, NULL, &minutes);
  h->minutes = (int)minutes;
  if (v.failed) return api_v_respond(&v);
  api_ctx(req)->flow = h;
  if (h->minutes) api_authenticate(req, hold_now); /* only the host may choose the length */
  else hold_now(req);
  return 0;
}

int reservations_list(http_req_t *req) {
  const char *params[1] = {api_ctx(req)->user_id_str};
  api_query(req, "reservations_list", 1, params, on_json_list);
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
