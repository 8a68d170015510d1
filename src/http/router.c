#include "router.h"

#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *text; /* static segment (points into the pattern), or an owned copy of the
                       parameter name without ':' */
  size_t len;
  int is_param;
} segment_t;

typedef struct {
  const http_route_t *route;
  int pattern_idx;
  int nseg;
  segment_t seg[ROUTER_MAX_SEGMENTS];
} entry_t;

struct router_s {
  entry_t *entries;
  int n;
  const char **patterns; /* distinct patterns, indexed by pattern_idx */
  int npatterns;
};

static int split(const char *path, size_t len, const char **starts, size_t *lens, int max) {
  if (len == 0 || path[0] != '/') return -1;
  if (len == 1) return 0; /* "/" */
  int n = 0;
  size_t i = 1;
  while (i <= len) {
    size_t j = i;
    while (j < len && path[j] != '/') j++;
    if (n == max) return -1;
    starts[n] = path + i;
    lens[n] = j - i;
    n++;
    i = j + 1;
  }
  return n;
}

router_t *router_new(const http_route_t *routes, int n) {
  router_t *r = xcalloc(1, sizeof *r);
  r->entries = xcalloc((size_t)n, sizeof *r->entries);
  r->patterns = xcalloc((size_t)n, sizeof *r->patterns);
  r->n = n;
  for (int i = 0; i < n; i++) {
    entry_t *e = &r->entries[i];
    e->route = &routes[i];
    const char *starts[ROUTER_MAX_SEGMENTS];
    size_t lens[ROUTER_MAX_SEGMENTS];
    e->nseg = split(routes[i].pattern, strlen(routes[i].pattern), starts, lens, ROUTER_MAX_SEGMENTS);
    int nparams = 0;
    if (e->nseg < 0) abort();
    for (int s = 0; s < e->nseg; s++) {
      if (lens[s] == 0) abort();
      e->seg[s].is_param = starts[s][0] == ':';
      e->seg[s].text = starts[s] + e->seg[s].is_param;
      e->seg[s].len = lens[s] - (size_t)e->seg[s].is_param;
      if (e->seg[s].is_param) e->seg[s].text = xstrndup(e->seg[s].text, e->seg[s].len); /* owned */
      if (e->seg[s].is_param && ++nparams > ROUTER_MAX_PARAMS) abort();
    }
    e->pattern_idx = -1;
    for (int p = 0; p < r->npatterns; p++)
      if (strcmp(r->patterns[p], routes[i].pattern) == 0) e->pattern_idx = p;
    if (e->pattern_idx < 0) {
      e->pattern_idx = r->npatterns;
      r->patterns[r->npatterns++] = routes[i].pattern;
    }
  }
  return r;
}

void router_free(router_t *r) {
  if (!r) return;
  for (int i = 0; i < r->n; i++)
    for (int s = 0; s < r->entries[i].nseg; s++)
      if (r->entries[i].seg[s].is_param) free((char *)r->entries[i].seg[s].text);
  free(r->entries);
  free(r->patterns);
  free(r);
}

int router_npatterns(const router_t *r) { return r->npatterns; }
const char *const *router_patterns(const router_t *r) { return r->patterns; }

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char *router_decode(arena_t *arena, const char *s, size_t n) {
  char *out = arena_alloc(arena, n + 1);
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= n) return NULL;
      int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
      if (h < 0 || l < 0) return NULL;
      c = (char)(h * 16 + l);
      i += 2;
    }
    if (c == '\0') return NULL;
    out[o++] = c;
  }
  out[o] = '\0';
  return out;
}

static int segments_match(const entry_t *e, int nseg, const char **starts, const size_t *lens) {
  if (e->nseg != nseg) return 0;
  for (int s = 0; s < nseg; s++) {
    if (e->seg[s].is_param) {
      if (lens[s] == 0) return 0;
    } else if (e->seg[s].len != lens[s] || memcmp(e->seg[s].text, starts[s], lens[s]) != 0) {
      return 0;
    }
  }
  return 1;
}

int router_match(const router_t *r, int method, const char *path, size_t len, arena_t *arena,
                 router_match_t *m) {
  memset(m, 0, sizeof *m);
  m->pattern_idx = -1;
  const char *starts[ROUTER_MAX_SEGMENTS];
  size_t lens[ROUTER_MAX_SEGMENTS];
  int nseg = split(path, len, starts, lens, ROUTER_MAX_SEGMENTS);
  if (nseg < 0) return ROUTER_NOT_FOUND;
  unsigned want = M(method);
  if (method == HTTP_HEAD) want |= M(HTTP_GET);
  const entry_t *hit = NULL;
  for (int i = 0; i < r->n && !hit; i++) { /* the first entry serving the method wins */
    const entry_t *e = &r->entries[i];
    if ((e->route->flags & ROUTE_FALLBACK) || !segments_match(e, nseg, starts, lens)) continue;
    if (m->pattern_idx < 0) m->pattern_idx = e->pattern_idx;
    m->allow |= e->route->methods;
    m->flags |= e->route->flags;
    if (e->route->methods & want) hit = e; /* HEAD falls back to GET */
  }
  if (!hit) /* 405 or OPTIONS: every method the path has, and its flags */
    for (int i = 0; i < r->n; i++) {
      const entry_t *e = &r->entries[i];
      if ((e->route->flags & ROUTE_FALLBACK) || !segments_match(e, nseg, starts, lens)) continue;
      m->allow |= e->route->methods;
      m->flags |= e->route->flags;
    }
  if (m->pattern_idx < 0) /* no pattern of its own: a fallback serving the method, if any */
    for (int i = 0; i < r->n && !hit; i++) {
      const entry_t *e = &r->entries[i];
      if (!(e->route->flags & ROUTE_FALLBACK) || !(e->route->methods & want) ||
          !segments_match(e, nseg, starts, lens))
        continue;
      hit = e;
      m->pattern_idx = e->pattern_idx;
      m->allow = e->route->methods;
      m->flags = e->route->flags;
    }
  if (m->allow & M(HTTP_GET)) m->allow |= M(HTTP_HEAD);
  if (m->pattern_idx < 0) return ROUTER_NOT_FOUND;
  if (!hit) return ROUTER_BAD_METHOD;
  m->route = hit->route;
  m->pattern_idx = hit->pattern_idx;
  for (int s = 0; s < nseg; s++) {
    if (!hit->seg[s].is_param) continue;
    char *v = router_decode(arena, starts[s], lens[s]);
    if (!v) return ROUTER_BAD_PATH;
    m->names[m->nparams] = hit->seg[s].text; /* router-owned copy of the name */
    m->values[m->nparams] = v;
    m->nparams++;
  }
  return ROUTER_FOUND;
}

void router_allow_string(unsigned allow, char *out, size_t outlen) {
  static const int order[] = {HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_PATCH, HTTP_DELETE, HTTP_OPTIONS};
  size_t used = 0;
  out[0] = '\0';
  allow |= M(HTTP_OPTIONS);
  for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
    if (!(allow & M(order[i]))) continue;
    int n = snprintf(out + used, outlen - used, "%s%s", used ? ", " : "",
                     llhttp_method_name((llhttp_method_t)order[i]));
    if (n < 0 || (size_t)n >= outlen - used) break;
    used += (size_t)n;
  }
}
