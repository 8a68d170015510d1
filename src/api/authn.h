/* authn.h — credentials and their cache: X-API-Key, Authorization: Bearer (API keys) or the
 * session cookie (sessions), hashed (SHA-256) and resolved through an in-memory cache backed
 * by api.auth(). The cache holds entries for at most CACHE_TTL seconds and drops them when a
 * NOTIFY on slotd_auth says a session ended or a key was revoked (and all of them when the
 * LISTEN connection reconnects, since notifications may have been missed). */
#ifndef SLOTD_API_AUTHN_H
#define SLOTD_API_AUTHN_H

#include <stdint.h>

#include "../app.h"
#include "../http/server.h"

/* Resolves the request's credential, then rate-limits per user and runs the handler (or calls
 * api_authenticate's continuation); 401 if there is none or it is not valid. */
void api_auth_start(http_req_t *req);

/* For public handlers that need the caller's identity for part of their answer (explain=1):
 * resolves the credential like an authenticated route, then calls next with api_ctx(req)
 * ->user_id set, or responds 401. */
void api_authenticate(http_req_t *req, void (*next)(http_req_t *req));

/* Process-wide state: limiter and credential cache; subscribes to slotd_auth. */
int api_authn_init(app_t *app) WARN_UNUSED;
void api_authn_free(app_t *app);
/* Forget cached credentials now (this instance), after logout, revoke, password change. */
void api_authn_forget_user(app_t *app, int64_t user_id);
/* Forget the cached org API keys of an org now (this instance), after a revoke or its deletion. */
void api_authn_forget_org(app_t *app, int64_t org_id);
void api_authn_register(void);

#endif
