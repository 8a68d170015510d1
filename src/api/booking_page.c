#include "booking_page.h"

#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "respond.h"
#include "validate.h"

#define TEXT_MAX 2000

static void on_page(void *data, const db_result_t *r) { api_respond_db(data, r, 200); }

int booking_page_get(http_req_t *req) {
  const char *params[1] = {api_ctx(req)->user_id_str};
  api_query(req, "booking_page_get", 1, params, on_page);
  return 0;
}

/* A nullable text field: copied into patch when given (null clears it). */
static void nullable(api_v_t *v, json_t *patch, const char *field, size_t maxlen, int (*valid)(const char *),
                     const char *what) {
  int present;
  const char *s = api_v_str_or_null(v, field, maxlen, &present);
  if (v->failed || !present) return;
  if (s && valid && !valid(s)) {
    api_v_fail(v, field, "%s must be %s", field, what);
    return;
  }
  json_object_set_new(patch, field, s ? json_string(s) : json_null());
}

int booking_page_update(http_req_t *req) {
  if (api_body_object(req)) return 0;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  json_t *patch = json_object();
  api_v_not_null(&v, "display_name");
  api_v_not_null(&v, "slug");
  const char *name = api_v_line(&v, "display_name", 0, 1, 100);
  if (name) json_object_set_new(patch, "display_name", json_string(name));
  const char *slug = api_v_str(&v, "slug", 0, 1, 60);
  if (slug && !api_valid_slug(slug))
    api_v_fail(&v, "slug", "slug must be 1-60 lower-case letters, digits and inner hyphens");
  else if (slug && api_reserved_slug(slug))
    api_v_fail(&v, "slug", "slug \"%s\" is reserved: it would shadow one of slotd's own paths", slug);
  else if (slug) json_object_set_new(patch, "slug", json_string(slug));
  nullable(&v, patch, "bio", TEXT_MAX, NULL, NULL);
  nullable(&v, patch, "brand_color", 7, api_valid_color, "a hex color like #2563eb");
  nullable(&v, patch, "welcome_message", TEXT_MAX, NULL, NULL);
  return api_save_patch(req, &v, patch, "booking_page_update", 0, NULL, on_page);
}

static void on_public(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (r->ok) http_set_header(req, "Cache-Control", "public, max-age=30"); /* never a cached 404 */
  api_respond_db(req, r, 200);
}

int booking_page_public_event(http_req_t *req) {
  const char *slug = http_req_param(req, "slug"), *event = http_req_param(req, "event_slug");
  if (!slug || !event || strlen(slug) > 60 || strlen(event) > 60) {
    api_error(req, 404, E_NOT_FOUND, "event type not found");
    return 0;
  }
  const char *params[2] = {slug, event};
  api_query(req, "public_event_page", 2, params, on_public);
  return 0;
}

int booking_page_public(http_req_t *req) {
  const char *slug = http_req_param(req, "slug");
  if (!slug || strlen(slug) > 60) {
    api_error(req, 404, E_NOT_FOUND, "booking page not found");
    return 0;
  }
  const char *params[1] = {slug};
  api_query(req, "public_page", 1, params, on_public);
  return 0;
}
