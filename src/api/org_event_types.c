/* org_event_types.c — an organisation's event types ("services", issue 12): every native
 * event-type field (event_types.c checks them) plus scheduling (round_robin | collective),
 * hosts [{user_id, priority 0-4, weight 1-1000}] and team_id (hosts default to its members).
 * Owners, admins and the org's keys manage them; members see them. */
#include "org_event_types.h"

#include <string.h>

#include "ctx.h"
#include "event_types.h"
#include "orgs.h"
#include "query.h"
#include "respond.h"
#include "validate.h"

#define ORG_MAX_HOSTS 100

/* hosts: 1..100 distinct {user_id, priority?, weight?} -> normalised copy in p. */
static void check_hosts(api_v_t *v, json_t *p) {
  json_t *arr = json_object_get(v->obj, "hosts");
  if (!arr) return;
  if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > ORG_MAX_HOSTS) {
    api_v_fail(v, "hosts", "hosts must be an array of 1-%d hosts", ORG_MAX_HOSTS);
    return;
  }
  json_t *out = json_array();
  size_t i;
  json_t *h;
  json_array_foreach(arr, i, h) {
    api_v_t hv;
    api_v_init(&hv, v->req, h);
    long long id = 0, prio = 2, weight = 100;
    if (!json_is_object(h)) api_v_fail(&hv, "hosts", "must be an object {user_id, priority, weight}");
    else {
      if (!api_v_int(&hv, "user_id", 1, INT64_MAX / 2, 0, NULL, &id) && !hv.failed)
        api_v_fail(&hv, "user_id", "user_id is required");
      api_v_int(&hv, "priority", 0, 4, 0, NULL, &prio);
      api_v_int(&hv, "weight", 1, 1000, 0, NULL, &weight);
    }
    for (size_t k = 0; !hv.failed && k < i; k++)
      if (json_integer_value(json_object_get(json_array_get(out, k), "user_id")) == id)
        api_v_fail(&hv, "user_id", "user %lld is listed twice", id);
    if (hv.failed) {
      api_v_fail(v, "hosts", "hosts[%zu]: %s", i, hv.message);
      json_decref(out);
      return;
    }
    json_array_append_new(out, json_pack("{s:I, s:I, s:I}", "user_id", (json_int_t)id, "priority", (json_int_t)prio,
                                         "weight", (json_int_t)weight));
  }
  json_object_set_new(p, "hosts", out);
}

/* The body into a patch; NULL after responding. */
static json_t *validate(http_req_t *req, int create) {
  if (api_body_object(req)) return NULL;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  json_t *p = json_object();
  event_type_fields(&v, p, create);
  api_v_not_null(&v, "scheduling");
  const char *s = api_v_str(&v, "scheduling", 0, 1, 16);
  if (s && strcmp(s, "round_robin") != 0 && strcmp(s, "collective") != 0)
    api_v_fail(&v, "scheduling", "scheduling must be round_robin or collective");
  if (s && !v.failed) json_object_set_new(p, "scheduling", json_string(s));
  int null = 0;
  long long n;
  if (api_v_int(&v, "team_id", 1, INT64_MAX / 2, 1, &null, &n) || null)
    json_object_set_new(p, "team_id", null ? json_null() : json_integer(n));
  if (!v.failed) check_hosts(&v, p);
  if (!v.failed && create && !json_object_get(p, "hosts") && !json_integer_value(json_object_get(p, "team_id")))
    api_v_fail(&v, "hosts", "give hosts, or a team_id whose members host it");
  if (v.failed) {
    json_decref(p);
    api_v_respond(&v);
    return NULL;
  }
  return p;
}

int org_event_types_list(http_req_t *req) {
  org_params_t op;
  if (org_params(req, &op)) return 0;
  org_query(req, "org_event_types_list", &op, 0, NULL, org_on_ok);
  return 0;
}

int org_event_types_create(http_req_t *req) {
  org_params_t op;
  if (org_params(req, &op)) return 0;
  json_t *p = validate(req, 1);
  if (!p) return 0;
  char base[64];
  api_slugify(json_string_value(json_object_get(p, "name")), base, sizeof base);
  if (strcmp(base, "user") == 0) strcpy(base, "event"); /* api_slugify's word for "nothing usable" */
  char *text = json_dumps(p, JSON_COMPACT);
  json_decref(p);
  const char *rest[2] = {text, base};
  org_query(req, "org_event_type_create", &op, 2, rest, org_on_created);
  free(text);
  return 0;
}

int org_event_types_get(http_req_t *req) {
  org_params_t op;
  if (org_params(req, &op)) return 0;
  const char *id = org_id_param(req, "event_type_id", "event type not found");
  if (!id) return 0;
  const char *rest[1] = {id};
  org_query(req, "org_event_type_get", &op, 1, rest, org_on_ok);
  return 0;
}

int org_event_types_update(http_req_t *req) {
  org_params_t op;
  if (org_params(req, &op)) return 0;
  const char *id = org_id_param(req, "event_type_id", "event type not found");
  if (!id) return 0;
  json_t *p = validate(req, 0);
  if (!p) return 0;
  char *text = json_dumps(p, JSON_COMPACT);
  json_decref(p);
  const char *rest[2] = {id, text};
  org_query(req, "org_event_type_update", &op, 2, rest, org_on_ok);
  free(text);
  return 0;
}

int org_event_types_delete(http_req_t *req) {
  org_params_t op;
  if (org_params(req, &op)) return 0;
  const char *id = org_id_param(req, "event_type_id", "event type not found");
  if (!id) return 0;
  const char *rest[1] = {id};
  org_query(req, "org_event_type_delete", &op, 1, rest, org_on_ok);
  return 0;
}
