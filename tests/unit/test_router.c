/* Router: static and parameter segments, percent-decoding, 404 vs 405, HEAD, Allow. */
#include <llhttp.h>

#include "check.h"
#include "http/router.h"

static int h(http_req_t *r) { (void)r; return 0; }
static int h2(http_req_t *r) { (void)r; return 1; }

static const http_route_t routes[] = {
    {M(HTTP_GET), "/healthz", h, ROUTE_PUBLIC},
    {M(HTTP_GET) | M(HTTP_POST), "/api/event-types", h, 0},
    {M(HTTP_GET) | M(HTTP_PUT) | M(HTTP_DELETE), "/api/event-types/:id", h2, 0},
    {M(HTTP_GET), "/api/availability/:slug/:event_slug", h, ROUTE_PUBLIC},
    {M(HTTP_POST), "/api/bookings/:id/cancel", h, 0},
    {M(HTTP_GET), "/", h, 0},
};

#define MATCH(method, path) router_match(r, method, path, strlen(path), a, &m)

int main(void) {
  router_t *r = router_new(routes, (int)(sizeof routes / sizeof routes[0]));
  arena_t *a = arena_new();
  router_match_t m;
  CHECK_EQ(router_npatterns(r), 6);
  CHECK(MATCH(HTTP_GET, "/healthz") == ROUTER_FOUND && m.route == &routes[0] && m.nparams == 0);
  CHECK(m.flags & ROUTE_PUBLIC);
  CHECK(MATCH(HTTP_HEAD, "/healthz") == ROUTER_FOUND && m.route == &routes[0]);
  CHECK_EQ(MATCH(HTTP_GET, "/healthz/"), ROUTER_NOT_FOUND);
  CHECK_EQ(MATCH(HTTP_GET, "/healthzz"), ROUTER_NOT_FOUND);
  CHECK_EQ(MATCH(HTTP_GET, "//healthz"), ROUTER_NOT_FOUND);
  CHECK(MATCH(HTTP_GET, "/") == ROUTER_FOUND && m.route == &routes[5]);
  CHECK(MATCH(HTTP_PUT, "/api/event-types/42") == ROUTER_FOUND && m.route == &routes[2]);
  CHECK_EQ(m.nparams, 1);
  CHECK_STR(m.names[0], "id");
  CHECK_STR(m.values[0], "42");
  CHECK_EQ(MATCH(HTTP_POST, "/api/event-types/42"), ROUTER_BAD_METHOD);
  CHECK_EQ(m.allow, M(HTTP_GET) | M(HTTP_HEAD) | M(HTTP_PUT) | M(HTTP_DELETE));
  char allow[96];
  router_allow_string(m.allow, allow, sizeof allow);
  CHECK_STR(allow, "GET, HEAD, PUT, DELETE, OPTIONS");
  CHECK_EQ(m.pattern_idx, 2);
  CHECK_EQ(MATCH(HTTP_GET, "/api/availability/jane%20doe/30-min"), ROUTER_FOUND);
  CHECK_STR(m.values[0], "jane doe");
  CHECK_STR(m.names[1], "event_slug");
  CHECK_STR(m.values[1], "30-min");
  CHECK_EQ(MATCH(HTTP_GET, "/api/availability/a%2/b"), ROUTER_BAD_PATH);
  CHECK_EQ(MATCH(HTTP_GET, "/api/availability/a%00/b"), ROUTER_BAD_PATH);
  CHECK_EQ(MATCH(HTTP_GET, "/api/availability/a%zz/b"), ROUTER_BAD_PATH);
  CHECK_EQ(MATCH(HTTP_GET, "/api/availability//b"), ROUTER_NOT_FOUND); /* empty parameter */
  CHECK(MATCH(HTTP_POST, "/api/bookings/7/cancel") == ROUTER_FOUND && m.route == &routes[4]);
  CHECK_EQ(MATCH(HTTP_GET, "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r"), ROUTER_NOT_FOUND); /* too deep */
  CHECK_EQ(MATCH(HTTP_GET, ""), ROUTER_NOT_FOUND);
  arena_destroy(a);
  router_free(r);
  return check_done();
}
