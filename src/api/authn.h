/* authn.h — the API's front door, run before every API handler (api_dispatch):
 *   1. client IP (socket peer, or the right-most untrusted X-Forwarded-For entry when the peer
 *      is a trusted proxy);
 *   2. public routes: rate limit per IP;
 *   3. authenticated routes: credential from X-API-Key, Authorization: Bearer or the session
 *      cookie, hashed (SHA-256) and resolved through an in-memory cache backed by api.auth();
 *      401 if missing or invalid (counted against the IP's public budget), then rate limit per
 *      user;
 *   4. X-RateLimit-* headers on the response, or 429 with the seed's body.
 * The credential cache holds entries for at most CACHE_TTL seconds and drops them when a
 * NOTIFY on slotd_auth says a session ended or a key was revoked (and all of them when the
 * LISTEN connection reconnects, since notifications may have been missed). */
#ifndef SLOTD_API_AUTHN_H
#define SLOTD_API_AUTHN_H

#include <stdint.h>

#include "../http/server.h"
#include "app.h"

enum {
  API_PUBLIC = 1 << 0, /* no credential; per-IP limit */
  API_AUTH = 1 << 1,   /* credential required; per-user limit */
};

typedef int (*api_fn)(http_req_t *req);
typedef struct {
  api_fn fn;
  int flags;
} api_handler_t;

/* The http handler of every API route; route->ctx is its api_handler_t. */
int api_dispatch(http_req_t *req);

/* For public handlers that need the caller's identity for part of their answer (explain=1):
 * resolves the credential like an authenticated route, then calls next with api_ctx(req)
 * ->user_id set, or responds 401. */
void api_authenticate(http_req_t *req, void (*next)(http_req_t *req));

/* Counts one request against key's per-minute limit. 1 to go on; 0 after responding 429.
 * headers: also set the X-RateLimit-* headers from this limit. */
int api_rate_limit(http_req_t *req, const char *key, int per_minute, int headers);

/* The server's answer for unrouted requests: under /api/ they count against the client's
 * public budget and carry the rate-limit headers like every API response. */
void api_unrouted(http_req_t *req, int status, const char *allow);

/* Process-wide state: limiter and credential cache; subscribes to slotd_auth. */
int api_authn_init(app_t *app) WARN_UNUSED;
void api_authn_free(app_t *app);
/* Forget cached credentials now (this instance), after logout, revoke, password change. */
void api_authn_forget_user(app_t *app, int64_t user_id);

#endif
