/* time_off.c — time off (see time_off.h). C checks the instants; the statements store them and
 * report the user whose availability changed. */
#include "time_off.h"

#include "../core/timeutil.h"
#include "orgs.h"
#include "query.h"
#include "respond.h"
#include "validate.h"

#define TIME_OFF_MAX_SECONDS (366LL * 86400)
#define REASON_MAX 500

typedef struct {
  char start[32], end[32]; /* UTC, RFC 3339 */
  const char *reason;      /* or NULL */
} time_off_in_t;

/* {start, end, reason}: 0, or -1 after a 400 naming the field. */
static int parse_body(http_req_t *req, time_off_in_t *in) {
  if (api_body_object(req)) return -1;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  const char *s = api_v_str(&v, "start", 1, 1, 64);
  const char *e = api_v_str(&v, "end", 1, 1, 64);
  int present;
  in->reason = api_v_str_or_null(&v, "reason", REASON_MAX, &present);
  int64_t ts = 0, te = 0;
  if (s && time_parse_rfc3339(s, &ts) != 0)
    api_v_fail(&v, "start", "start must be an RFC 3339 date-time with an offset, e.g. 2026-07-01T09:00:00Z");
  else if (e && time_parse_rfc3339(e, &te) != 0)
    api_v_fail(&v, "end", "end must be an RFC 3339 date-time with an offset, e.g. 2026-07-08T17:00:00Z");
  else if (!v.failed && te <= ts) api_v_fail(&v, "end", "end must be after start");
  else if (!v.failed && te - ts > TIME_OFF_MAX_SECONDS) api_v_fail(&v, "end", "time off may last at most 366 days");
  if (v.failed) {
    api_v_respond(&v);
    return -1;
  }
  time_format_utc(ts, in->start, sizeof in->start);
  time_format_utc(te, in->end, sizeof in->end);
  return 0;
}

static int page_of(http_req_t *req, api_page_t **out) {
  api_v_t v;
  api_v_init(&v, req, NULL);
  api_page_t *page = arena_calloc(req->arena, sizeof *page);
  if (api_page_parse(&v, 50, 200, page) != 0) {
    api_v_respond(&v);
    return -1;
  }
  api_ctx(req)->flow = page;
  *out = page;
  return 0;
}

/* ------------------------------------------------------------------ one's own */

int time_off_create(http_req_t *req) {
  time_off_in_t in;
  if (parse_body(req, &in)) return 0;
  const char *params[4] = {api_ctx(req)->user_id_str, in.start, in.end, in.reason};
  api_query(req, "time_off_add", 4, params, org_on_created);
  return 0;
}

int time_off_list(http_req_t *req) {
  api_page_t *page;
  if (page_of(req, &page)) return 0;
  const char *params[3] = {api_ctx(req)->user_id_str, page->limit_s, page->offset_s};
  api_query(req, "time_off_list", 3, params, org_on_list);
  return 0;
}

int time_off_delete(http_req_t *req) {
  const char *id = api_id_param(req, "id", "time off not found");
  if (!id) return 0;
  const char *params[2] = {api_ctx(req)->user_id_str, id};
  api_query(req, "time_off_delete", 2, params, org_on_ok);
  return 0;
}

/* ------------------------------------------------------------------ an org's members' */

static const char *member_of(http_req_t *req, org_params_t *op) {
  if (org_params(req, op)) return NULL;
  return org_id_param(req, "user_id", "member not found");
}

int time_off_org_create(http_req_t *req) {
  org_params_t op;
  const char *member = member_of(req, &op);
  time_off_in_t in;
  if (!member || parse_body(req, &in)) return 0;
  const char *rest[4] = {member, in.start, in.end, in.reason};
  org_query(req, "org_time_off_add", &op, 4, rest, org_on_created);
  return 0;
}

int time_off_org_list(http_req_t *req) {
  org_params_t op;
  const char *member = member_of(req, &op);
  api_page_t *page;
  if (!member || page_of(req, &page)) return 0;
  const char *rest[3] = {member, page->limit_s, page->offset_s};
  org_query(req, "org_time_off_list", &op, 3, rest, org_on_list);
  return 0;
}

int time_off_org_delete(http_req_t *req) {
  org_params_t op;
  const char *member = member_of(req, &op);
  if (!member) return 0;
  const char *id = org_id_param(req, "time_off_id", "time off not found");
  if (!id) return 0;
  const char *rest[2] = {member, id};
  org_query(req, "org_time_off_delete", &op, 2, rest, org_on_ok);
  return 0;
}
