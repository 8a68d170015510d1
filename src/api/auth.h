/* auth.h — accounts: register, login/logout (session cookie), profile, password change. */
#ifndef SLOTD_API_AUTH_H
#define SLOTD_API_AUTH_H

#include "../http/server.h"

int auth_register(http_req_t *req);
int auth_login(http_req_t *req);
int auth_logout(http_req_t *req);
int auth_me(http_req_t *req);
int auth_update_me(http_req_t *req);
int auth_change_password(http_req_t *req);

#endif
