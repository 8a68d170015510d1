/* teams.h — teams inside an org (issue 12): a name, a slug unique in the org, and members who
 * are members of the org. Read by any member; written by owners, admins and the org's keys. */
#ifndef SLOTD_API_TEAMS_H
#define SLOTD_API_TEAMS_H

#include "../http/server.h"

int teams_create(http_req_t *req);
int teams_list(http_req_t *req);
int teams_get(http_req_t *req);
int teams_update(http_req_t *req);
int teams_delete(http_req_t *req);

#endif
