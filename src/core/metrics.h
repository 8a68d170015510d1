/* metrics.h — Prometheus text exposition for request counters and latency histograms.
 * Single-threaded (loop thread only). Other modules expose their gauges through collectors
 * registered by main, so this module knows nothing of them. */
#ifndef SLOTD_CORE_METRICS_H
#define SLOTD_CORE_METRICS_H

#include <stdint.h>

#include "buf.h"

typedef void (*metrics_collect_fn)(buf_t *out, void *data);

/* route_names[i] labels route index i; index -1 is "unmatched". Copies nothing: the names
 * must outlive the registry (they are the router's static patterns). */
void metrics_init(int nroutes, const char *const *route_names);
void metrics_shutdown(void);
/* method must be a static string (llhttp_method_name). */
void metrics_http_observe(int route, const char *method, int status, uint64_t dur_ns);
void metrics_add_collector(metrics_collect_fn fn, void *data);
void metrics_render(buf_t *out);

#endif
