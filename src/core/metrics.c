#include "metrics.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static const double bucket_le[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                   0.1,    0.25,  0.5,    1,     2.5,   5,     10};
#define NBUCKETS ARRAY_SIZE(bucket_le)

typedef struct {
  const char *method;
  int status;
  uint64_t count;
} counter_t;

typedef struct {
  counter_t *counters;
  int ncounters, cap;
  uint64_t buckets[NBUCKETS + 1]; /* last one is +Inf */
  uint64_t count;
  double sum;
} route_stats_t;

typedef struct {
  metrics_collect_fn fn;
  void *data;
} collector_t;

static route_stats_t *g_routes; /* index 0 is "unmatched", i + 1 is route i */
static const char *const *g_names;
static int g_nroutes;
static collector_t g_collectors[16];
static int g_ncollectors;

void metrics_init(int nroutes, const char *const *route_names) {
  metrics_shutdown();
  g_nroutes = nroutes;
  g_names = route_names;
  g_routes = xcalloc((size_t)nroutes + 1, sizeof *g_routes);
}

void metrics_shutdown(void) {
  if (g_routes)
    for (int i = 0; i <= g_nroutes; i++) free(g_routes[i].counters);
  free(g_routes);
  g_routes = NULL;
  g_nroutes = 0;
  g_ncollectors = 0;
}

void metrics_http_observe(int route, const char *method, int status, uint64_t dur_ns) {
  if (!g_routes || route < -1 || route >= g_nroutes) return;
  route_stats_t *r = &g_routes[route + 1];
  counter_t *c = NULL;
  for (int i = 0; i < r->ncounters; i++)
    if (r->counters[i].method == method && r->counters[i].status == status) {
      c = &r->counters[i];
      break;
    }
  if (!c) {
    if (r->ncounters == r->cap) {
      r->cap = r->cap ? r->cap * 2 : 4;
      r->counters = xrealloc(r->counters, (size_t)r->cap * sizeof *r->counters);
    }
    c = &r->counters[r->ncounters++];
    c->method = method;
    c->status = status;
    c->count = 0;
  }
  c->count++;
  double secs = (double)dur_ns / 1e9;
  size_t b = 0;
  while (b < NBUCKETS && secs > bucket_le[b]) b++;
  r->buckets[b]++;
  r->count++;
  r->sum += secs;
}

void metrics_add_collector(metrics_collect_fn fn, void *data) {
  if (g_ncollectors < (int)ARRAY_SIZE(g_collectors))
    g_collectors[g_ncollectors++] = (collector_t){fn, data};
}

static const char *route_name(int i) { return i == 0 ? "unmatched" : g_names[i - 1]; }

void metrics_render(buf_t *out) {
  buf_puts(out,
           "# HELP slotd_http_requests_total HTTP requests answered, by route, method and status.\n"
           "# TYPE slotd_http_requests_total counter\n");
  for (int i = 0; g_routes && i <= g_nroutes; i++)
    for (int j = 0; j < g_routes[i].ncounters; j++) {
      const counter_t *c = &g_routes[i].counters[j];
      buf_printf(out, "slotd_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
                 route_name(i), c->method, c->status, (unsigned long long)c->count);
    }
  buf_puts(out,
           "# HELP slotd_http_request_duration_seconds Time from the first byte of a request to its "
           "response written.\n"
           "# TYPE slotd_http_request_duration_seconds histogram\n");
  for (int i = 0; g_routes && i <= g_nroutes; i++) {
    const route_stats_t *r = &g_routes[i];
    if (!r->count) continue;
    uint64_t cum = 0;
    for (size_t b = 0; b <= NBUCKETS; b++) {
      cum += r->buckets[b];
      if (b < NBUCKETS)
        buf_printf(out, "slotd_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                   route_name(i), bucket_le[b], (unsigned long long)cum);
      else
        buf_printf(out, "slotd_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                   route_name(i), (unsigned long long)cum);
    }
    buf_printf(out, "slotd_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route_name(i), r->sum);
    buf_printf(out, "slotd_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route_name(i),
               (unsigned long long)r->count);
  }
  for (int i = 0; i < g_ncollectors; i++) g_collectors[i].fn(out, g_collectors[i].data);
}
