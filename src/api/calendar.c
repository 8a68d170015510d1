/* calendar.c — see calendar.h. */
#include "calendar.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/crypto.h"
#include "../mail/ics.h"
#include "../mail/links.h"
#include "authn.h"
#include "ctx.h"
#include "query.h"
#include "respond.h"
#include "validate.h"

typedef struct {
  int links; /* answer the links (JSON), not the file */
  const char *ref;
  char hash[65]; /* the invitee token's SHA-256, or "": the host's credentials */
  char ics_url[512];
} cal_t;

static void answer(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (api_db_failed(req, r)) return;
  cal_t *c = api_ctx(req)->flow;
  json_t *b = json_loads(PQgetvalue(r->res, 0, 0), 0, NULL);
  const char *s = NULL;
  char uid[320], domain[256];
  mail_domain(api_app(req)->cfg->public_url, domain, sizeof domain);
  snprintf(uid, sizeof uid, "%s@%s", (s = json_string_value(json_object_get(b, "uid"))) ? s : "", domain);
  int cancelled = (s = json_string_value(json_object_get(b, "status"))) && strcmp(s, "cancelled") == 0;
  ics_event_t ev = {.uid = uid, .sequence = (int)json_integer_value(json_object_get(b, "sequence")),
                    .method = cancelled ? "CANCEL" : "PUBLISH", .start = json_integer_value(json_object_get(b, "start")),
                    .end = json_integer_value(json_object_get(b, "end")), .stamp = (int64_t)time(NULL),
                    .summary = json_string_value(json_object_get(b, "event_name")),
                    .location = json_string_value(json_object_get(b, "location")),
                    .organizer_name = json_string_value(json_object_get(b, "host_name")),
                    .organizer_email = json_string_value(json_object_get(b, "host_email")),
                    .attendee_name = json_string_value(json_object_get(b, "invitee_name")),
                    .attendee_email = json_string_value(json_object_get(b, "invitee_email")), .cancelled = cancelled};
  if (c->links) {
    json_t *out = json_object();
    if (calendar_links(&ev, c->ics_url, out) != 0) {
      json_decref(out);
      api_error(req, 500, E_INTERNAL, "internal error");
    } else {
      api_respond_json(req, 200, out); /* takes the reference */
    }
  } else {
    size_t len = 0;
    char *ics = ics_render(&ev, &len);
    if (!ics) {
      api_error(req, 500, E_INTERNAL, "internal error");
    } else {
      http_set_header(req, "Content-Disposition", "attachment; filename=\"invite.ics\"");
      http_set_header(req, "Cache-Control", "no-store");
      http_respond(req, 200, "text/calendar; charset=utf-8", ics, len);
    }
    free(ics);
  }
  json_decref(b);
}

static void query(http_req_t *req) {
  cal_t *c = api_ctx(req)->flow;
  const char *params[3] = {c->ref, c->hash[0] ? NULL : api_ctx(req)->user_id_str, c->hash[0] ? c->hash : NULL};
  api_query(req, "booking_calendar", 3, params, answer);
}

static int serve(http_req_t *req, int links) {
  const char *ref = http_req_param(req, "id");
  const char *token = api_query_param(req, "token");
  api_ctx_t *ctx = api_ctx(req);
  cal_t *c = arena_calloc(req->arena, sizeof *c);
  c->links = links;
  ctx->flow = c;
  if (!ref || strlen(ref) > 40) {
    api_error(req, 404, E_NOT_FOUND, "booking not found");
    return 0;
  }
  c->ref = ref;
  const char *base = api_app(req)->cfg->public_url;
  if (token) {
    if (strlen(token) != 64) {
      api_error(req, 404, E_NOT_FOUND, "booking not found");
      return 0;
    }
    crypto_sha256_hex(token, 64, c->hash);
    snprintf(c->ics_url, sizeof c->ics_url, "%s/api/bookings/%s/ics?token=%s", base, ref, token);
    query(req);
  } else {
    snprintf(c->ics_url, sizeof c->ics_url, "%s/api/bookings/%s/ics", base, ref);
    api_authenticate(req, query); /* one of its hosts (401 without credentials) */
  }
  return 0;
}

int calendar_ics(http_req_t *req) { return serve(req, 0); }
int calendar_links_get(http_req_t *req) { return serve(req, 1); }
