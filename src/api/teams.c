/* teams.c — teams inside an org (see teams.h); access is api.org_require's, in each statement. */
#include "teams.h"

#include <stdlib.h>
#include <string.h>

#include "orgs.h"
#include "query.h"
#include "respond.h"
#include "validate.h"

#define TEAM_MEMBERS_MAX 1000

/* member_ids: an array of at most TEAM_MEMBERS_MAX user ids (repeats are one member). Whether
 * each is a member of the org is the statement's to say (400 naming member_ids too). */
static void check_member_ids(api_v_t *v, json_t *p) {
  json_t *ids = json_object_get(v->obj, "member_ids");
  if (!ids) return;
  if (!json_is_array(ids) || json_array_size(ids) > TEAM_MEMBERS_MAX) {
    api_v_fail(v, "member_ids", "member_ids must be an array of at most %d user ids", TEAM_MEMBERS_MAX);
    return;
  }
  size_t i;
  json_t *id;
  json_array_foreach(ids, i, id) {
    if (!json_is_integer(id) || json_integer_value(id) < 1 || json_integer_value(id) > 999999999999999999LL) {
      api_v_fail(v, "member_ids", "member_ids[%zu] must be a user id (a positive integer)", i);
      return;
    }
  }
  json_object_set(p, "member_ids", ids);
}

static json_t *team_patch(http_req_t *req, api_v_t *v, int create) {
  api_v_init(v, req, api_ctx(req)->body);
  json_t *p = json_object();
  api_v_not_null(v, "name");
  api_v_not_null(v, "slug");
  api_v_not_null(v, "member_ids");
  const char *name = api_v_line(v, "name", create, 1, 200);
  if (name) json_object_set_new(p, "name", json_string(name));
  const char *slug = api_v_str(v, "slug", 0, 1, 60);
  if (slug && !api_valid_slug(slug))
    api_v_fail(v, "slug", "slug must be 1-60 lower-case letters, digits and inner hyphens");
  else if (slug) json_object_set_new(p, "slug", json_string(slug));
  if (!v->failed) check_member_ids(v, p);
  return p;
}

int teams_create(http_req_t *req) {
  org_params_t op;
  if (org_params(req, &op) || api_body_object(req)) return 0;
  api_v_t v;
  json_t *p = team_patch(req, &v, 1);
  char base[64] = "";
  if (!v.failed) { /* a slug from the name when none is given */
    api_slugify(json_string_value(json_object_get(p, "name")), base, sizeof base);
    if (strcmp(base, "user") == 0) strcpy(base, "team"); /* api_slugify's word for "nothing usable" */
  }
  /* (org, user, key_org, patch, slug base): the patch comes before the base here */
  if (v.failed) {
    json_decref(p);
    return api_v_respond(&v);
  }
  char *text = json_dumps(p, JSON_COMPACT);
  json_decref(p);
  const char *rest[2] = {text, base};
  org_query(req, "team_create", &op, 2, rest, org_on_created);
  free(text);
  return 0;
}

int teams_list(http_req_t *req) {
  org_params_t op;
  if (org_params(req, &op)) return 0;
  org_query(req, "teams_list", &op, 0, NULL, org_on_ok);
  return 0;
}

static const char *team_of(http_req_t *req, org_params_t *op) {
  if (org_params(req, op)) return NULL;
  return org_id_param(req, "team_id", "team not found");
}

int teams_get(http_req_t *req) {
  org_params_t op;
  const char *team = team_of(req, &op);
  if (!team) return 0;
  const char *rest[1] = {team};
  org_query(req, "team_get", &op, 1, rest, org_on_ok);
  return 0;
}

int teams_update(http_req_t *req) {
  org_params_t op;
  const char *team = team_of(req, &op);
  if (!team || api_body_object(req)) return 0;
  api_v_t v;
  json_t *p = team_patch(req, &v, 0);
  const char *rest[1] = {team};
  return org_save_patch(req, &v, p, "team_update", &op, 1, rest, org_on_ok);
}

int teams_delete(http_req_t *req) {
  org_params_t op;
  const char *team = team_of(req, &op);
  if (!team) return 0;
  const char *rest[1] = {team};
  org_query(req, "team_delete", &op, 1, rest, org_on_ok);
  return 0;
}
