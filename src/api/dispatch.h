/* dispatch.h — the API's front door, run before every API handler (api_dispatch):
 *   1. client IP (socket peer, or, when the peer is a trusted proxy, the right-most untrusted
 *      entry of all X-Forwarded-For headers joined in order: a proxy appends its own line after
 *      the client's);
 *   2. public routes: rate limit per IP;
 *   3. the request's shape: a malformed query parameter is 400 naming it (api_query_check), a
 *      body not declared application/json is 415 (on authenticated routes counted against the
 *      IP's public budget, like a failed authentication);
 *   4. authenticated routes: the credential (authn.h), 401 if missing or invalid (counted
 *      against the IP's public budget), then rate limit per user;
 *   5. X-RateLimit-* headers on the response, or 429 through the request's dialect;
 *   6. the handler, through the Idempotency-Key protocol (idempotency.h). */
#ifndef SLOTD_API_DISPATCH_H
#define SLOTD_API_DISPATCH_H

#include "../app.h"
#include "../http/server.h"
#include "ctx.h"

enum {
  API_PUBLIC = 1 << 0, /* no credential; per-IP limit */
  API_AUTH = 1 << 1,   /* credential required; per-user limit */
  API_ORG = 1 << 2,    /* with API_AUTH: an org API key is accepted too (org routes, which check
                          its org with api.org_role); every other route refuses one with 403 */
};

typedef int (*api_fn)(http_req_t *req);
typedef struct {
  api_fn fn;
  int flags;
  const api_dialect_t *dialect; /* NULL: native */
} api_handler_t;

/* The http handler of every API route; route->ctx is its api_handler_t. */
int api_dispatch(http_req_t *req);

/* Counts one request against key's per-minute limit. 1 to go on; 0 after responding 429.
 * headers: API_RL_HEADERS also sets the X-RateLimit-* headers from this limit; API_RL_REPLACE
 * sets them in place of any set before (a dialect's own per-key limit is the one its clients
 * read, not the dispatcher's per-user one); 0 sets none unless it answers 429. */
enum { API_RL_QUIET = 0, API_RL_HEADERS = 1, API_RL_REPLACE = 2 };
int api_rate_limit(http_req_t *req, const char *key, int per_minute, int headers);
/* The public per-IP limit (with headers). */
int api_limit_ip(http_req_t *req);

/* The server's answer for unrouted requests: under /api/ they count against the client's
 * public budget and carry the rate-limit headers like every API response. */
void api_unrouted(http_req_t *req, int status, const char *allow);

#endif
