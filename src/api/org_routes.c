/* org_routes.c — the organisation routes of the native API (issue 12) and their statements: a
 * module of its own (app.c's app_modules[]). Org routes take org API keys (API_ORG); the
 * personal time-off routes, like every personal route, refuse them. */
#include <llhttp.h>

#include "../app.h"
#include "dispatch.h"
#include "orgs.h"
#include "query.h"
#include "respond.h"
#include "teams.h"
#include "time_off.h"

#define AUTH(fn) api_dispatch, 0, &(const api_handler_t){fn, API_AUTH, &api_native_dialect}
#define ORG(fn) api_dispatch, 0, &(const api_handler_t){fn, API_AUTH | API_ORG, &api_native_dialect}

static const http_route_t routes[] = {
    {M(HTTP_POST), "/api/orgs", AUTH(orgs_create)},
    {M(HTTP_GET), "/api/orgs", ORG(orgs_list)},
    {M(HTTP_GET), "/api/orgs/:id", ORG(orgs_get)},
    {M(HTTP_PUT), "/api/orgs/:id", ORG(orgs_update)},
    {M(HTTP_DELETE), "/api/orgs/:id", ORG(orgs_delete)},

    {M(HTTP_POST), "/api/orgs/:id/members", ORG(orgs_members_add)},
    {M(HTTP_GET), "/api/orgs/:id/members", ORG(orgs_members_list)},
    {M(HTTP_PUT), "/api/orgs/:id/members/:user_id", ORG(orgs_members_update)},
    {M(HTTP_DELETE), "/api/orgs/:id/members/:user_id", ORG(orgs_members_remove)},

    {M(HTTP_GET), "/api/orgs/:id/members/:user_id/schedules", ORG(orgs_schedules_list)},
    {M(HTTP_POST), "/api/orgs/:id/members/:user_id/schedules", ORG(orgs_schedules_create)},
    {M(HTTP_GET), "/api/orgs/:id/members/:user_id/schedules/:schedule_id", ORG(orgs_schedules_get)},
    {M(HTTP_PUT), "/api/orgs/:id/members/:user_id/schedules/:schedule_id", ORG(orgs_schedules_update)},
    {M(HTTP_DELETE), "/api/orgs/:id/members/:user_id/schedules/:schedule_id", ORG(orgs_schedules_delete)},

    {M(HTTP_GET), "/api/orgs/:id/members/:user_id/time-off", ORG(time_off_org_list)},
    {M(HTTP_POST), "/api/orgs/:id/members/:user_id/time-off", ORG(time_off_org_create)},
    {M(HTTP_DELETE), "/api/orgs/:id/members/:user_id/time-off/:time_off_id", ORG(time_off_org_delete)},

    {M(HTTP_POST), "/api/orgs/:id/api-keys", ORG(orgs_keys_create)},
    {M(HTTP_GET), "/api/orgs/:id/api-keys", ORG(orgs_keys_list)},
    {M(HTTP_DELETE), "/api/orgs/:id/api-keys/:key_id", ORG(orgs_keys_revoke)},

    {M(HTTP_POST), "/api/orgs/:id/teams", ORG(teams_create)},
    {M(HTTP_GET), "/api/orgs/:id/teams", ORG(teams_list)},
    {M(HTTP_GET), "/api/orgs/:id/teams/:team_id", ORG(teams_get)},
    {M(HTTP_PUT), "/api/orgs/:id/teams/:team_id", ORG(teams_update)},
    {M(HTTP_DELETE), "/api/orgs/:id/teams/:team_id", ORG(teams_delete)},

    {M(HTTP_POST), "/api/time-off", AUTH(time_off_create)},
    {M(HTTP_GET), "/api/time-off", AUTH(time_off_list)},
    {M(HTTP_DELETE), "/api/time-off/:id", AUTH(time_off_delete)},
};

static const api_stmt_t statements[] = {
    {"org_create", "SELECT api.org_create($1, $2)", 1},
    {"orgs_list", "SELECT api.orgs_list($1, $2)", 0},
    {"org_get", "SELECT api.org_get($1, $2, $3)", 0},
    {"org_update", "SELECT body, host_ids, stale FROM api.org_update($1, $2, $3, $4)", 1},
    {"org_delete", "SELECT body, host_ids, stale FROM api.org_delete($1, $2, $3)", 1},
    {"org_member_add", "SELECT api.org_member_add($1, $2, $3, $4)", 1},
    {"org_members_list", "SELECT body, total FROM api.org_members_list($1, $2, $3, $4, $5)", 0},
    {"org_member_update", "SELECT api.org_member_update($1, $2, $3, $4, $5)", 1},
    {"org_member_remove", "SELECT api.org_member_remove($1, $2, $3, $4)", 1},
    {"org_schedules_list", "SELECT api.org_schedules_list($1, $2, $3, $4)", 0},
    {"org_schedule_get", "SELECT api.org_schedule_get($1, $2, $3, $4, $5)", 0},
    {"org_schedule_save", "SELECT body, host_ids, stale FROM api.org_schedule_save($1, $2, $3, $4, $5, $6)", 1},
    {"org_schedule_delete", "SELECT body, host_ids, stale FROM api.org_schedule_delete($1, $2, $3, $4, $5)", 1},
    {"org_api_key_create", "SELECT api.org_api_key_create($1, $2, $3, $4, $5, $6, $7, $8)", 1},
    {"org_api_keys_list", "SELECT api.org_api_keys_list($1, $2, $3)", 0},
    {"org_api_key_revoke", "SELECT api.org_api_key_revoke($1, $2, $3, $4)", 1},
    {"team_create", "SELECT api.team_create($1, $2, $3, $4, $5)", 1},
    {"teams_list", "SELECT api.teams_list($1, $2, $3)", 0},
    {"team_get", "SELECT api.team_get($1, $2, $3, $4)", 0},
    {"team_update", "SELECT api.team_update($1, $2, $3, $4, $5)", 1},
    {"team_delete", "SELECT api.team_delete($1, $2, $3, $4)", 1},
    {"time_off_add", "SELECT body, host_ids, stale FROM api.time_off_add($1, $2, $3, $4, $1)", 1},
    {"time_off_list", "SELECT body, total FROM api.time_off_list($1, $2, $3)", 0},
    {"time_off_delete", "SELECT body, host_ids, stale FROM api.time_off_delete($1, $2)", 1},
    {"org_time_off_add", "SELECT body, host_ids, stale FROM api.org_time_off_add($1, $2, $3, $4, $5, $6, $7)", 1},
    {"org_time_off_list", "SELECT body, total FROM api.org_time_off_list($1, $2, $3, $4, $5, $6)", 0},
    {"org_time_off_delete", "SELECT body, host_ids, stale FROM api.org_time_off_delete($1, $2, $3, $4, $5)", 1},
    {NULL, NULL, 0},
};

static void register_statements(void) { api_register_statements(statements); }

const app_module_t api_orgs_module = {"orgs", routes, (int)(sizeof routes / sizeof routes[0]), register_statements};
