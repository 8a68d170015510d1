#include "availability.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/log.h"
#include "../core/map.h"
#include "../core/metrics.h"
#include "../core/timeutil.h"
#include "authn.h"
#include "inputs.h"
#include "query.h"
#include "respond.h"
#include "schedules.h"
#include "validate.h"

#define MAX_DAYS 62
#define CACHE_MAX 50000

typedef struct {
  int64_t host_id;
  uint64_t epoch;     /* the invalidation epoch when its data was read */
  int64_t expires_ms; /* wall clock */
  char etag[24];
  char *body;
  size_t len;
} entry_t;

/* Invalidation is O(1): a host's change records the (incremented) global epoch for that host;
 * an entry is valid only if its data was read at or after that epoch. This also discards a
 * response whose read started before a concurrent change and finished after it. */
typedef struct avail_state_s {
  map_t *cache;
  map_t *changed; /* host id -> epoch of its last change */
  uint64_t epoch;
  uint64_t floor; /* reads before this epoch are stale for every host (after forget_all) */
  uint64_t hits, misses;
} avail_state_t;

static avail_state_t *st(app_t *app) { return app->avail_state; }

static void entry_free(void *v) { free(((entry_t *)v)->body); }

#define CHANGED_MAX 100000

static void forget_all(avail_state_t *s) {
  map_clear(s->cache);
  map_clear(s->changed);
  s->floor = ++s->epoch; /* reads still in flight must not come back as valid */
}

static void forget_host(void *data, long long host) {
  avail_state_t *s = st(data);
  if (map_size(s->changed) >= CHANGED_MAX) forget_all(s); /* bounded: start over */
  char key[24];
  snprintf(key, sizeof key, "%lld", host);
  *(uint64_t *)map_put(s->changed, key, NULL) = ++s->epoch;
}

static int entry_valid(avail_state_t *s, const entry_t *e) {
  char key[24];
  snprintf(key, sizeof key, "%" PRId64, e->host_id);
  uint64_t *changed = map_get(s->changed, key);
  return e->epoch >= s->floor && (!changed || e->epoch >= *changed) && e->expires_ms > now_wall_ms();
}

static void on_host_notify(void *data, const char *channel, const char *payload) {
  app_t *app = data;
  (void)channel;
  if (!payload) {
    forget_all(st(app));
    return;
  }
  forget_host(app, strtoll(payload, NULL, 10));
}

static void collect(buf_t *out, void *data) {
  app_t *app = data;
  buf_printf(out,
             "# TYPE slotd_availability_cache_hits_total counter\nslotd_availability_cache_hits_total %" PRIu64
             "\n# TYPE slotd_availability_cache_misses_total counter\nslotd_availability_cache_misses_total %" PRIu64
             "\n# TYPE slotd_availability_cache_entries gauge\nslotd_availability_cache_entries %zu\n",
             st(app)->hits, st(app)->misses, map_size(st(app)->cache));
}

int availability_init(app_t *app) {
  avail_state_t *s = xcalloc(1, sizeof *s);
  s->cache = map_new(sizeof(entry_t), CACHE_MAX);
  s->changed = map_new(sizeof(uint64_t), CHANGED_MAX + 1);
  map_set_destructor(s->cache, entry_free);
  app->avail_state = s;
  app->host_changed = forget_host;
  metrics_add_collector(collect, app);
  return db_listen_subscribe(app->listen, "slotd_host", on_host_notify, app);
}

void availability_free(app_t *app) {
  avail_state_t *s = st(app);
  if (!s) return;
  map_free(s->cache);
  map_free(s->changed);
  free(s);
  app->avail_state = NULL;
}

/* ------------------------------------------------------------------ formatting */

/* "2026-03-10" and "09:00" of instant t in zone tz. */
static void local_parts(const tz_t *tz, int64_t t, char date[11], char hm[6]) {
  char iso[32];
  time_format_utc(t + tz_offset(tz, t), iso, sizeof iso);
  memcpy(date, iso, 10);
  date[10] = 0;
  memcpy(hm, iso + 11, 5);
  hm[5] = 0;
}

static void rfc3339_local(buf_t *b, const tz_t *tz, int64_t t) {
  char s[48];
  tz_format_rfc3339(tz, t, s, sizeof s);
  buf_printf(b, "\"%s\"", s);
}

typedef struct {
  char date[11];
  char hm[6]; /* the slot's local start, formatted once */
  size_t idx;
} dated_t;

static int cmp_dated(const void *a, const void *b) {
  const dated_t *x = a, *y = b;
  int c = strcmp(x->date, y->date);
  return c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

/* {"slots": {date: [...]}} in the invitee's zone; format 0: "HH:MM", 1: {start, end, seats_remaining}. */
static void format_slots(buf_t *b, const sched_slots_t *slots, const tz_t *itz, int range) {
  dated_t *d = xcalloc(slots->n ? slots->n : 1, sizeof *d);
  size_t n = 0;
  for (size_t i = 0; i < slots->n; i++) {
    if (slots->v[i].reason != SLOT_FREE) continue;
    local_parts(itz, slots->v[i].start, d[n].date, d[n].hm);
    d[n].idx = i;
    n++;
  }
  qsort(d, n, sizeof *d, cmp_dated); /* stable by index: local dates can step back on a DST night */
  buf_puts(b, "{\"slots\":{");
  for (size_t i = 0; i < n; i++) {
    int first_of_day = i == 0 || strcmp(d[i].date, d[i - 1].date) != 0;
    if (first_of_day) buf_printf(b, "%s\"%s\":[", i ? "]," : "", d[i].date);
    else buf_putc(b, ',');
    const sched_slot_t *s = &slots->v[d[i].idx];
    if (range) {
      buf_puts(b, "{\"start\":");
      rfc3339_local(b, itz, s->start);
      buf_puts(b, ",\"end\":");
      rfc3339_local(b, itz, s->end);
      buf_printf(b, ",\"seats_remaining\":%d}", s->seats_left);
    } else {
      buf_printf(b, "\"%s\"", d[i].hm);
    }
  }
  buf_puts(b, n ? "]}}" : "}}");
  free(d);
}

static void format_explain(buf_t *b, const sched_slots_t *slots, const tz_t *itz) {
  buf_puts(b, ",\"explain\":[");
  for (size_t i = 0; i < slots->n; i++) {
    const sched_slot_t *s = &slots->v[i];
    buf_puts(b, i ? ",{\"start\":" : "{\"start\":");
    rfc3339_local(b, itz, s->start);
    buf_puts(b, ",\"end\":");
    rfc3339_local(b, itz, s->end);
    buf_printf(b, ",\"offered\":%s,\"reason\":\"%s\"", s->reason == SLOT_FREE ? "true" : "false",
               sched_reason_name(s->reason));
    if (s->reason == SLOT_BOOKED || s->reason == SLOT_BUFFER) buf_printf(b, ",\"booking_id\":%" PRId64, s->ref);
    if (s->reason == SLOT_RESERVED) buf_printf(b, ",\"reservation_id\":%" PRId64, s->ref);
    if (s->reason == SLOT_FREE || s->reason == SLOT_NO_SEATS) buf_printf(b, ",\"seats_remaining\":%d", s->seats_left);
    buf_putc(b, '}');
  }
  buf_putc(b, ']');
}

/* ------------------------------------------------------------------ handler */

typedef struct {
  const char *event_type_id; /* addressed by id, or (NULL) by the slug pair */
  const char *slug, *event_slug, *tzname;
  const tz_t *itz;
  int64_t from, to; /* window of slot starts */
  int range, explain;
  char key[400];
  char from_s[32], to_s[32];
  uint64_t epoch; /* when the read started */
} avail_req_t;

static void etag_of(const char *body, size_t len, char out[24]) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)body[i];
    h *= 1099511628211ull;
  }
  snprintf(out, 24, "\"%016" PRIx64 "\"", h);
}

static void respond_body(http_req_t *req, const char *etag, const char *body, size_t len) {
  http_set_header(req, "ETag", etag);
  http_set_header(req, "Cache-Control", "no-cache");
  const char *inm = http_req_header(req, "If-None-Match");
  if (inm && (strstr(inm, etag) || strcmp(inm, "*") == 0)) {
    http_respond(req, 304, NULL, NULL, 0);
    return;
  }
  api_respond_body(req, 200, body, len);
}

static void on_data(void *data, const db_result_t *r) {
  http_req_t *req = data;
  avail_req_t *a = api_ctx(req)->flow;
  if (api_db_failed(req, r)) return;
  inputs_t in;
  if (inputs_decode(r->res, &in) != 0) {
    log_req(req, LOG_ERROR, "availability: unreadable engine inputs", NULL);
    api_error(req, 500, E_INTERNAL, "internal error");
    return;
  }
  if (a->explain && api_ctx(req)->user_id != in.host_id) {
    inputs_free(&in);
    api_error(req, 403, E_FORBIDDEN, "explain=1 is for the host of this event type");
    return;
  }
  int64_t now = (int64_t)time(NULL);
  sched_slots_t slots;
  sched_compute(&in.schedule, &in.event, in.busy, in.nbusy, now, a->from, a->to, a->explain, &slots);
  buf_t body = BUF_INIT;
  format_slots(&body, &slots, a->itz, a->range);
  if (a->explain) {
    body.data[--body.len] = '\0'; /* reopen the outer object */
    format_explain(&body, &slots, a->itz);
    buf_putc(&body, '}');
  }
  char etag[24];
  etag_of(body.data, body.len, etag);
  if (!a->explain) {
    entry_t *en = map_put(st(api_app(req))->cache, a->key, NULL);
    free(en->body);
    en->host_id = in.host_id;
    en->epoch = a->epoch;
    int64_t wall = now_wall_ms();
    en->expires_ms = (wall / 60000 + 1) * 60000; /* next minute boundary */
    if (in.next_expiry && in.next_expiry * 1000 < en->expires_ms) en->expires_ms = in.next_expiry * 1000;
    memcpy(en->etag, etag, sizeof etag);
    en->body = xmalloc(body.len);
    memcpy(en->body, body.data, body.len);
    en->len = body.len;
  }
  respond_body(req, etag, body.data, body.len);
  buf_free(&body);
  sched_slots_free(&slots);
  inputs_free(&in);
}

static void fetch(http_req_t *req) {
  avail_req_t *a = api_ctx(req)->flow;
  char reach[2][24];
  inputs_reach_params(reach);
  const char *params[8] = {a->event_type_id, a->event_type_id ? NULL : a->slug,
                           a->event_type_id ? NULL : a->event_slug, a->from_s, a->to_s, reach[0], reach[1], NULL};
  api_query(req, "engine_inputs", 8, params, on_data);
}

/* The slots of a, from the cache or the engine. */
static int run(http_req_t *req, avail_req_t *a) {
  api_v_t v;
  api_v_init(&v, req, NULL);
  const char *start = api_query_param(req, "start"), *end = api_query_param(req, "end");
  a->tzname = api_query_param(req, "timezone");
  const char *format = api_query_param(req, "format");
  const char *explain = api_query_param(req, "explain");
  int64_t d0 = 0, d1 = 0;
  if (!start) api_v_fail(&v, "start", "start is required (YYYY-MM-DD)");
  else if (parse_date(start, &d0)) api_v_fail(&v, "start", "start must be a date YYYY-MM-DD");
  if (!end) api_v_fail(&v, "end", "end is required (YYYY-MM-DD)");
  else if (parse_date(end, &d1)) api_v_fail(&v, "end", "end must be a date YYYY-MM-DD");
  if (!v.failed && d1 < d0) api_v_fail(&v, "end", "end must not be before start");
  if (!v.failed && d1 - d0 + 1 > MAX_DAYS) api_v_fail(&v, "end", "the range may span at most %d days", MAX_DAYS);
  if (!a->tzname || !*a->tzname) a->tzname = "UTC";
  a->itz = tz_get(a->tzname);
  if (!a->itz) api_v_fail(&v, "timezone", "timezone must be an IANA time zone name");
  if (format && strcmp(format, "range") != 0 && strcmp(format, "times") != 0)
    api_v_fail(&v, "format", "format must be range or times");
  if (explain && strcmp(explain, "1") != 0 && strcmp(explain, "true") != 0 && strcmp(explain, "0") != 0 &&
      strcmp(explain, "false") != 0)
    api_v_fail(&v, "explain", "explain must be 1 or 0");
  if (v.failed) return api_v_respond(&v);
  a->range = format && strcmp(format, "range") == 0;
  a->explain = explain && (strcmp(explain, "1") == 0 || strcmp(explain, "true") == 0);
  /* The invitee's dates: [start 00:00, end + 1 00:00) on their wall clock. */
  a->from = tz_local_to_utc(a->itz, d0 * 86400);
  a->to = tz_local_to_utc(a->itz, (d1 + 1) * 86400);
  time_format_utc(a->from, a->from_s, sizeof a->from_s);
  time_format_utc(a->to, a->to_s, sizeof a->to_s);
  if (a->explain) {
    api_authenticate(req, fetch);
    return 0;
  }
  /* Field separator 0x1f cannot occur in a decoded slug of ours nor in a zone name. */
  if (a->event_type_id)
    snprintf(a->key, sizeof a->key, "#%s\x1f%s\x1f%s\x1f%s\x1f%d", a->event_type_id, start, end, a->tzname, a->range);
  else
    snprintf(a->key, sizeof a->key, "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%d", a->slug, a->event_slug, start, end,
             a->tzname, a->range);
  avail_state_t *s = st(api_app(req));
  entry_t *en = map_get(s->cache, a->key);
  a->epoch = s->epoch;
  if (en && entry_valid(s, en)) {
    s->hits++;
    respond_body(req, en->etag, en->body, en->len);
    return 0;
  }
  s->misses++;
  fetch(req);
  return 0;
}

int availability_get(http_req_t *req) {
  avail_req_t *a = arena_calloc(req->arena, sizeof *a);
  api_ctx(req)->flow = a;
  a->slug = http_req_param(req, "slug");
  a->event_slug = http_req_param(req, "event_slug");
  if (strlen(a->slug) > 60 || strlen(a->event_slug) > 60) {
    api_error(req, 404, E_NOT_FOUND, "event type not found");
    return 0;
  }
  return run(req, a);
}

int availability_get_by_id(http_req_t *req) {
  const char *id = api_id_param(req, "id", "event type not found");
  if (!id) return 0;
  avail_req_t *a = arena_calloc(req->arena, sizeof *a);
  api_ctx(req)->flow = a;
  a->event_type_id = id;
  return run(req, a);
}
