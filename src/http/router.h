/* router.h — method + path routing with ":name" parameters.
 * Patterns are static strings ("/api/event-types/:id"); a route table is built once at start
 * and is read-only afterwards. Several entries may share a pattern with different methods:
 * they share one "pattern index", which is what metrics label requests by. */
#ifndef SLOTD_HTTP_ROUTER_H
#define SLOTD_HTTP_ROUTER_H

#include <stddef.h>

#include "../core/arena.h"
#include "../core/util.h"

#define ROUTER_MAX_PARAMS 8
#define ROUTER_MAX_SEGMENTS 16

typedef struct http_req_s http_req_t;
/* Returns 0 and calls http_respond*() exactly once, now or later (STYLE.md habit 6). */
typedef int (*http_handler_fn)(http_req_t *req);

enum {
  ROUTE_PUBLIC = 1 << 0, /* called by browser widgets: CORS with SLOTD_CORS_PUBLIC_ORIGINS */
  /* Tried only for a path no other entry's pattern matches, and only for its own methods (it
   * never makes a 405): the booking pages' "/:slug", which would otherwise shadow unrouted
   * paths and turn other methods on them into 405s. */
  ROUTE_FALLBACK = 1 << 1,
};

#define M(m) (1u << (m)) /* method bit from llhttp's enum: M(HTTP_GET) | M(HTTP_POST) */

typedef struct {
  unsigned methods;
  const char *pattern;
  http_handler_fn handler;
  int flags;
  const void *ctx; /* for the handler: req->match.route->ctx */
} http_route_t;

typedef struct router_s router_t;

typedef struct {
  const http_route_t *route; /* NULL unless found */
  int pattern_idx;           /* -1 unless the path matched some pattern */
  unsigned allow;            /* methods the path supports (for 405 and OPTIONS) */
  int flags;                 /* union of flags of the path's entries */
  int nparams;
  const char *names[ROUTER_MAX_PARAMS];
  const char *values[ROUTER_MAX_PARAMS]; /* percent-decoded, in the arena */
} router_match_t;

enum { ROUTER_FOUND = 0, ROUTER_NOT_FOUND = 1, ROUTER_BAD_METHOD = 2, ROUTER_BAD_PATH = 3 };

/* routes must outlive the router. Aborts on a malformed pattern (programmer error). */
router_t *router_new(const http_route_t *routes, int n);
void router_free(router_t *r);
/* HEAD matches GET entries. Returns one of ROUTER_*. */
int router_match(const router_t *r, int method, const char *path, size_t len, arena_t *arena,
                 router_match_t *m);
int router_npatterns(const router_t *r);
const char *const *router_patterns(const router_t *r);
/* "GET, HEAD, POST" into out. */
void router_allow_string(unsigned allow, char *out, size_t outlen);
/* Percent-decodes s (len n) into the arena; returns NULL for a bad escape or a NUL byte. */
char *router_decode(arena_t *arena, const char *s, size_t n);

#endif
