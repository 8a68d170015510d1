/* orgs.h — organisations (issue 12): orgs, their members, members' schedules and the org's API
 * keys; teams.h and time_off.h hold the rest, org_routes.c the route table (api_orgs_module).
 *
 * Every org route is flagged API_AUTH | API_ORG (dispatch.h): a session, a personal key or an
 * API key of the org. Handlers pass org_params_t first to an api.org_* function, which resolves
 * the caller's role with api.org_role(p_org, p_user, p_key_org) in the same statement: an org
 * the caller cannot see is 404 'organisation not found', a role too low for the action 403. */
#ifndef SLOTD_API_ORGS_H
#define SLOTD_API_ORGS_H

#include <jansson.h>

#include "../core/util.h"
#include "../db/pool.h"
#include "../http/server.h"

/* The three leading parameters of every org statement, (p_org, p_user, p_key_org). Borrowed:
 * valid for the request. */
typedef struct {
  const char *org;     /* the route's :id (a positive integer as text) */
  const char *user;    /* the caller (api_ctx(req)->user_id_str; an org key's creator, never an identity) */
  const char *key_org; /* the org of an org API key, else NULL (SQL NULL) */
} org_params_t;

/* Fills out from the request: 0, or -1 after responding 404 'organisation not found' when :id
 * is not an id. */
int org_params(http_req_t *req, org_params_t *out) WARN_UNUSED;
/* Sends stmt with (org, user, key_org) followed by the n (<= ORG_MAX_REST) parameters of rest. */
#define ORG_MAX_REST 8
void org_query(http_req_t *req, const char *stmt, const org_params_t *op, int n, const char *const *rest, db_cb cb);
/* The end of a write handler: 400 if v failed; otherwise stmt with (org, user, key_org, rest...,
 * patch as JSON text), n < ORG_MAX_REST. Takes the patch reference. Returns 0. */
struct api_v_s;
int org_save_patch(http_req_t *req, struct api_v_s *v, json_t *patch, const char *stmt, const org_params_t *op, int n,
                   const char *const *rest, db_cb cb);
/* A path parameter that must be an id, or NULL after a 404 with message `what` (like
 * api_id_param). */
const char *org_id_param(http_req_t *req, const char *name, const char *what);

/* Callbacks answering a statement's one row: 200 / 201 with its body (api_respond_db). */
void org_on_ok(void *data, const db_result_t *r);
void org_on_created(void *data, const db_result_t *r);
/* A list's (body, total) row; api_ctx(req)->flow is its api_page_t. */
void org_on_list(void *data, const db_result_t *r);

int orgs_create(http_req_t *req);
int orgs_list(http_req_t *req);
int orgs_get(http_req_t *req);
int orgs_update(http_req_t *req);
int orgs_delete(http_req_t *req);

int orgs_members_add(http_req_t *req);
int orgs_members_list(http_req_t *req);
int orgs_members_update(http_req_t *req);
int orgs_members_remove(http_req_t *req);

int orgs_schedules_list(http_req_t *req);
int orgs_schedules_create(http_req_t *req);
int orgs_schedules_get(http_req_t *req);
int orgs_schedules_update(http_req_t *req);
int orgs_schedules_delete(http_req_t *req);

int orgs_keys_create(http_req_t *req);
int orgs_keys_list(http_req_t *req);
int orgs_keys_revoke(http_req_t *req);

#endif
