#include "availability.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/log.h"
#include "../core/map.h"
#include "../core/metrics.h"
#include "../core/timeutil.h"
#include "../db/replica.h"
#include "../sched/team.h"
#include "authn.h"
#include "inputs.h"
#include "query.h"
#include "respond.h"
#include "schedules.h"
#include "validate.h"

#define MAX_DAYS 62
#define CACHE_BODY_SHARE 64 /* a body over budget / 64 is not cached */
#define CACHE_MIN_ENTRY 256 /* bytes an entry costs at least: budget / this caps the count */
#define CACHE_MAX_ENTRIES (1u << 21)
#define BODY_OVERHEAD 16 /* the allocator's per-block overhead of a body (core/map.c counts its own) */
#define CHANGED_MAX 100000
/* Estimated work (engine_cost(), in "times" slots) above which the engine and the formatting
 * leave the loop thread. A release build spends about 45 ns of loop time per "times" slot
 * (engine, text, ETag) and 165 per "range" one (counted as 4), so this is about 0.25 ms: a
 * week of working hours stays inline, 62 days of 5-minute slots around the clock (17856 slots)
 * go to the threadpool. Below it a handoff would cost more than it saves. */
#define OFFLOOP_COST 5000

typedef struct {
  int64_t host_id;    /* a personal type's host; for an org type, 0 and hosts */
  int64_t *hosts;     /* an org type's hosts (owned): the entry dies when any of them changes */
  size_t nhosts;
  uint64_t epoch;     /* the invalidation epoch when its data was read */
  int64_t expires_ms; /* wall clock */
  char etag[24];
  char *body; /* owned */
  size_t len;
} entry_t;

typedef struct job_s job_t;

typedef struct {
  uint64_t epoch;     /* the invalidation epoch of the host's last change */
  uint64_t at_ms;     /* and when it was heard of (loop time), for the replica's lag window */
} change_t;

/* Invalidation is O(1): a host's change records the (incremented) global epoch for that host;
 * an entry is valid only if its data was read at or after that epoch. This also discards a
 * response whose read started before a concurrent change and finished after it. */
typedef struct avail_state_s {
  map_t *cache;   /* key -> entry_t, in recency order */
  map_t *changed; /* host id -> change_t: its last change */
  uint64_t epoch;
  uint64_t floor; /* reads before this epoch are stale for every host (after forget_all) */
  uint64_t all_changed_ms; /* loop time of the last forget_all (start, LISTEN reconnect): any host may have changed */
  uint64_t hits, misses;
  size_t budget;      /* SLOTD_CACHE_MAX_BYTES; 0: no cache */
  size_t max_body;    /* budget / CACHE_BODY_SHARE */
  size_t max_entries; /* the map's cap, never reached: entries are evicted first */
  uint64_t evicted_budget, evicted_expired, evicted_stale, refused;
  /* Engine jobs on the threadpool: at most `threads` queued to libuv, the rest wait here. */
  uv_loop_t *loop;
  int threads, running;
  job_t *head, *tail; /* FIFO of jobs not yet handed to libuv */
  size_t waiting;
  uint64_t jobs_inline, jobs_pool, jobs_dropped;
} avail_state_t;

static avail_state_t *st(app_t *app) { return app->avail_state; }

static void entry_free(void *v) {
  free(((entry_t *)v)->body);
  free(((entry_t *)v)->hosts);
}

static void forget_all(avail_state_t *s) {
  s->evicted_stale += map_size(s->cache);
  map_clear(s->cache);
  map_clear(s->changed);
  s->floor = ++s->epoch; /* reads still in flight must not come back as valid */
  s->all_changed_ms = uv_now(s->loop);
}

/* v in decimal in key, terminated (for a host, its key in s->changed). */
static const char *int_text(int64_t v, char key[24]) {
  *put_i64(key, v) = '\0';
  return key;
}

static void forget_host(void *data, long long host) {
  avail_state_t *s = st(data);
  if (map_size(s->changed) >= CHANGED_MAX) forget_all(s); /* bounded: start over */
  char key[24];
  change_t *c = map_put(s->changed, int_text(host, key), NULL);
  c->epoch = ++s->epoch;
  c->at_ms = uv_now(s->loop);
}

/* Was data of host read at epoch still current? */
static int fresh(avail_state_t *s, int64_t host, uint64_t epoch) {
  char key[24];
  change_t *changed = map_get(s->changed, int_text(host, key));
  return epoch >= s->floor && (!changed || epoch >= changed->epoch);
}

/* May the busy time of these hosts be read from the streaming replica? Only when it is usable
 * (its measured lag within SLOTD_REPLICA_MAX_LAG) and none of the hosts changed within the lag
 * window: any change older than that is on the replica already, so what it answers is what the
 * primary would. A change this instance has not heard of yet is a read racing a write, as on the
 * primary; the epochs keep such a result out of the cache. */
static int replica_ok(http_req_t *req, const int64_t *hosts, size_t n) {
  app_t *app = api_app(req);
  if (!app->replica || !db_replica_usable(app->replica)) return 0;
  avail_state_t *s = st(app);
  uint64_t now = uv_now(s->loop), window = db_replica_window_ms(app->replica);
  if (now < s->all_changed_ms + window) return 0;
  char key[24];
  for (size_t i = 0; i < n; i++) {
    change_t *c = map_get(s->changed, int_text(hosts[i], key));
    if (c && now < c->at_ms + window) return 0;
  }
  return 1;
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

/* Were the data of every host of an entry (or of a read) read at epoch still current? */
static int fresh_all(avail_state_t *s, int64_t host, const int64_t *hosts, size_t nhosts, uint64_t epoch) {
  if (!hosts) return fresh(s, host, epoch);
  for (size_t i = 0; i < nhosts; i++)
    if (!fresh(s, hosts[i], epoch)) return 0;
  return epoch >= s->floor;
}

/* ------------------------------------------------------------------ the cache */

/* Frees the expired entries at the old end of the recency list. An entry lives at most until
 * the minute boundary after it was stored, and using a dead entry removes it, so every entry
 * not used since the last boundary is dead and lies behind every live one: after a boundary,
 * the first sweep frees them all, each in O(1). (Entries dead earlier, by a hold's expiry or a
 * host's change, are freed when met or at that boundary.) */
static void sweep(avail_state_t *s, int64_t now_ms) {
  entry_t *e;
  while ((e = map_oldest(s->cache)) && e->expires_ms <= now_ms) {
    map_remove(s->cache, e);
    s->evicted_expired++;
  }
}

/* The live entry for key (now the most recently used), or NULL; a dead one is freed. */
static entry_t *cache_get(avail_state_t *s, const char *key) {
  if (!s->budget) return NULL;
  int64_t now = now_wall_ms();
  sweep(s, now);
  entry_t *e = map_get(s->cache, key);
  if (!e) return NULL;
  if (e->expires_ms <= now || !fresh_all(s, e->host_id, e->hosts, e->nhosts, e->epoch)) {
    if (e->expires_ms <= now) s->evicted_expired++;
    else s->evicted_stale++;
    map_remove(s->cache, e);
    return NULL;
  }
  map_touch(s->cache, e);
  return e;
}

/* Stores body (malloc'd, len bytes) under key and takes it, evicting the least recently used
 * entries to stay within the budget; returns the body as stored (answer from that: it may have
 * moved). Or returns NULL and leaves body to the caller: no cache, a body over its share of the
 * budget, or data already dead. */
static const char *cache_put(avail_state_t *s, const char *key, int64_t host, const int64_t *hosts, size_t nhosts,
                             uint64_t epoch, int64_t expires_ms, const char *etag, char *body, size_t len) {
  if (!s->budget) return NULL;
  if (len > s->max_body) {
    s->refused++;
    return NULL;
  }
  int64_t now = now_wall_ms();
  if (expires_ms <= now || !fresh_all(s, host, hosts, nhosts, epoch)) return NULL;
  sweep(s, now);
  entry_t *old = map_get(s->cache, key);
  if (old) map_remove(s->cache, old); /* a concurrent miss of the same key got here first */
  size_t extra = hosts ? nhosts * sizeof *hosts + BODY_OVERHEAD : 0; /* an org type's host list */
  size_t cost = map_entry_bytes(s->cache, key) + len + BODY_OVERHEAD + extra;
  while (map_size(s->cache) && (map_bytes(s->cache) + cost > s->budget || map_size(s->cache) + 2 > s->max_entries)) {
    map_remove(s->cache, map_oldest(s->cache));
    s->evicted_budget++;
  }
  if (map_bytes(s->cache) + cost > s->budget) return NULL; /* a budget smaller than the table itself */
  entry_t *e = map_put(s->cache, key, NULL);
  e->host_id = host;
  e->hosts = NULL;
  e->nhosts = 0;
  if (hosts) {
    e->hosts = xmalloc((nhosts ? nhosts : 1) * sizeof *hosts);
    memcpy(e->hosts, hosts, nhosts * sizeof *hosts);
    e->nhosts = nhosts;
  }
  e->epoch = epoch;
  e->expires_ms = expires_ms;
  memcpy(e->etag, etag, sizeof e->etag);
  /* No slack from the buffer's doubling, and a copy, not a realloc in place: shrinking left each
   * body where its growing buffer had been, with a hole behind it that the next buffer could not
   * use, and under a load that keeps the cache full RSS grew to twice the budget. Freed whole,
   * the buffer is reused by the next computation; the exact copy fills an evicted entry's hole. */
  if (len) {
    char *copy = xmalloc(len);
    memcpy(copy, body, len);
    free(body);
    body = copy;
  }
  e->body = body;
  e->len = len;
  map_set_weight(s->cache, e, len + BODY_OVERHEAD + extra);
  return e->body;
}

static void collect(buf_t *out, void *data) {
  avail_state_t *s = st(data);
  if (s->budget) sweep(s, now_wall_ms()); /* a scrape frees what expired while idle */
  buf_printf(out,
             "# TYPE slotd_availability_cache_hits_total counter\nslotd_availability_cache_hits_total %" PRIu64
             "\n# TYPE slotd_availability_cache_misses_total counter\nslotd_availability_cache_misses_total %" PRIu64
             "\n# TYPE slotd_availability_cache_entries gauge\nslotd_availability_cache_entries %zu\n",
             s->hits, s->misses, map_size(s->cache));
  buf_printf(out,
             "# TYPE slotd_availability_cache_bytes gauge\nslotd_availability_cache_bytes %zu\n"
             "# TYPE slotd_availability_cache_max_bytes gauge\nslotd_availability_cache_max_bytes %zu\n",
             s->budget ? map_bytes(s->cache) : 0, s->budget);
  buf_printf(out,
             "# TYPE slotd_availability_cache_evictions_total counter\n"
             "slotd_availability_cache_evictions_total{reason=\"budget\"} %" PRIu64 "\n"
             "slotd_availability_cache_evictions_total{reason=\"expired\"} %" PRIu64 "\n"
             "slotd_availability_cache_evictions_total{reason=\"stale\"} %" PRIu64 "\n"
             "# TYPE slotd_availability_cache_refused_total counter\nslotd_availability_cache_refused_total %" PRIu64
             "\n",
             s->evicted_budget, s->evicted_expired, s->evicted_stale, s->refused);
  buf_printf(out,
             "# TYPE slotd_availability_engine_jobs_total counter\n"
             "slotd_availability_engine_jobs_total{where=\"loop\"} %" PRIu64 "\n"
             "slotd_availability_engine_jobs_total{where=\"threadpool\"} %" PRIu64 "\n"
             "# TYPE slotd_availability_engine_dropped_total counter\nslotd_availability_engine_dropped_total %" PRIu64
             "\n# TYPE slotd_availability_engine_running gauge\nslotd_availability_engine_running %d\n"
             "# TYPE slotd_availability_engine_waiting gauge\nslotd_availability_engine_waiting %zu\n",
             s->jobs_inline, s->jobs_pool, s->jobs_dropped, s->running, s->waiting);
}

int availability_init(app_t *app) {
  avail_state_t *s = xcalloc(1, sizeof *s);
  s->budget = app->cfg->cache_max_bytes;
  s->max_body = s->budget / CACHE_BODY_SHARE;
  s->max_entries = s->budget / CACHE_MIN_ENTRY + 2;
  if (s->max_entries > CACHE_MAX_ENTRIES) s->max_entries = CACHE_MAX_ENTRIES;
  s->cache = map_new(sizeof(entry_t), s->max_entries);
  s->changed = map_new(sizeof(change_t), CHANGED_MAX + 1);
  map_set_destructor(s->cache, entry_free);
  s->loop = app->loop;
  s->all_changed_ms = uv_now(s->loop); /* what changed before this instance started is unknown */
  s->threads = app->cfg->engine_threads;
  if (s->threads <= 0) {
    int n = (int)uv_available_parallelism() - 1;
    s->threads = n < 1 ? 1 : n;
  }
  app->avail_state = s;
  app->host_changed = forget_host;
  metrics_add_collector(collect, app);
  return db_listen_subscribe(app->listen, "slotd_host", on_host_notify, app);
}

void availability_free(app_t *app) {
  avail_state_t *s = st(app);
  if (!s) return;
  assert(!s->head && !s->running); /* each job holds a uv_work_t: the loop ran until they ended */
  map_free(s->cache);
  map_free(s->changed);
  free(s);
  app->avail_state = NULL;
}

/* ------------------------------------------------------------------ formatting
 *
 * Pure: runs on the loop thread or on a worker, and reads only zones already loaded. The
 * writers below produce what time_format_utc() and tz_format_rfc3339() print, byte for byte,
 * without printf: a slot's local date is formatted once per day and a zone offset's text once
 * per offset; an instant whose year has other than four digits goes through those functions. */

#define RFC_ROOM 52 /* a quoted RFC 3339 instant, at most (tz_format_rfc3339's 48 + quotes) */

typedef struct {
  const tz_t *tz;
  int64_t memo_t; /* the last instant looked up (a slot's end is often the next one's start) */
  int32_t memo_off;
  int memo;
  int64_t day; /* the last local date formatted */
  char date[11];
  int have_day, date_ok; /* date_ok: a four-digit year, the fast path applies */
  int32_t off; /* the last offset formatted */
  char offs[32];
  size_t offlen;
  int have_off;
} fmt_t;

static int32_t fmt_offset(fmt_t *f, int64_t t) {
  if (!f->memo || f->memo_t != t) {
    f->memo_t = t;
    f->memo_off = tz_offset(f->tz, t);
    f->memo = 1;
  }
  return f->memo_off;
}

/* "YYYY-MM-DD" of a local day, as time_format_utc prints it; 1 if its year has four digits. */
static int fmt_date(fmt_t *f, int64_t day) {
  if (!f->have_day || f->day != day) {
    char iso[48];
    time_format_utc(day * 86400, iso, sizeof iso);
    f->date_ok = strlen(iso) == 20 && iso[10] == 'T';
    memcpy(f->date, iso, 10);
    f->date[10] = '\0';
    f->day = day;
    f->have_day = 1;
  }
  return f->date_ok;
}

/* tz_format_rfc3339's offset: "Z", or "+05:45" (seconds dropped). */
static void fmt_offtext(fmt_t *f, int32_t off) {
  if (f->have_off && f->off == off) return;
  f->off = off;
  f->have_off = 1;
  int32_t a = off < 0 ? -off : off;
  if (off == 0) snprintf(f->offs, sizeof f->offs, "Z");
  else snprintf(f->offs, sizeof f->offs, "%c%02d:%02d", off < 0 ? '-' : '+', (int)(a / 3600), (int)(a / 60 % 60));
  f->offlen = strlen(f->offs);
}

static char *put2(char *p, int v) {
  p[0] = (char)('0' + v / 10);
  p[1] = (char)('0' + v % 10);
  return p + 2;
}

static char *put_str(char *p, const char *s, size_t n) {
  memcpy(p, s, n);
  return p + n;
}
#define PUT_LIT(p, lit) put_str(p, lit, sizeof lit - 1)

/* "\"" RFC 3339 of t on f's zone, whose offset there is off "\"" (RFC_ROOM bytes at most). */
static char *put_rfc3339(fmt_t *f, char *p, int64_t t, int32_t off) {
  int64_t local = t + off, day = sched_day_of(local);
  *p++ = '"';
  if (fmt_date(f, day)) {
    int sod = (int)(local - day * 86400);
    p = put_str(p, f->date, 10);
    *p++ = 'T';
    p = put2(p, sod / 3600);
    *p++ = ':';
    p = put2(p, sod / 60 % 60);
    *p++ = ':';
    p = put2(p, sod % 60);
    fmt_offtext(f, off);
    p = put_str(p, f->offs, f->offlen);
  } else {
    char s[48];
    tz_format_rfc3339(f->tz, t, s, sizeof s);
    p = put_str(p, s, strlen(s));
  }
  *p++ = '"';
  return p;
}

/* Makes room for n more bytes and returns where they go; buf_end() sets the length. */
static char *buf_at(buf_t *b, size_t n) {
  buf_reserve(b, n);
  return b->data + b->len;
}

static void buf_end(buf_t *b, char *p) {
  b->len = (size_t)(p - b->data);
  b->data[b->len] = '\0';
}

typedef struct {
  int64_t day; /* the slot's local date in the invitee's zone (days since 1970-01-01) */
  size_t idx;  /* into the slots */
  int32_t sod; /* its local start, seconds after midnight */
  int32_t off; /* the zone's offset at its start */
} dated_t;

static int cmp_dated(const void *a, const void *b) {
  const dated_t *x = a, *y = b;
  if (x->day != y->day) return x->day < y->day ? -1 : 1;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* {"slots": {date: [...]}} in the invitee's zone; format 0: "HH:MM", 1: {start, end, seats_remaining},
 * and for an org type (team, with host_ids mapping its host indexes) also "hosts": [ids free].
 * Starts lie within the requested dates (years 1970-9999) give or take a DST night, so their
 * dates have four digits, and ordering them as numbers orders their text. */
static void format_slots(buf_t *b, const sched_slots_t *slots, const tz_t *itz, int range,
                         const sched_team_slots_t *team, const inputs_host_t *hosts) {
  fmt_t f = {.tz = itz};
  dated_t *d = xcalloc(slots->n ? slots->n : 1, sizeof *d);
  size_t n = 0;
  int sorted = 1;
  for (size_t i = 0; i < slots->n; i++) {
    if (slots->v[i].reason != SLOT_FREE) continue;
    int64_t t = slots->v[i].start;
    int32_t off = fmt_offset(&f, t);
    int64_t local = t + off;
    d[n] = (dated_t){sched_day_of(local), i, 0, off};
    d[n].sod = (int32_t)(local - d[n].day * 86400);
    if (n && d[n].day < d[n - 1].day) sorted = 0;
    n++;
  }
  if (!sorted) qsort(d, n, sizeof *d, cmp_dated); /* stable by index: local dates can step back on a DST night */
  size_t room = range ? 24 + 2 * RFC_ROOM + 48 : 32; /* one slot's text at most, with its date's */
  buf_reserve(b, 16 + n * (room - 16));
  char *p = buf_at(b, 16);
  p = PUT_LIT(p, "{\"slots\":{");
  buf_end(b, p);
  for (size_t i = 0; i < n; i++) {
    const sched_slot_t *s = &slots->v[d[i].idx];
    const sched_team_slot_t *ts = team ? &team->v[d[i].idx] : NULL;
    p = buf_at(b, room + (ts ? 16 + ts->nhosts * 21 : 0));
    if (i == 0 || d[i].day != d[i - 1].day) {
      if (i) p = PUT_LIT(p, "],");
      fmt_date(&f, d[i].day);
      *p++ = '"';
      p = put_str(p, f.date, 10);
      p = PUT_LIT(p, "\":[");
    } else {
      *p++ = ',';
    }
    if (range) {
      p = PUT_LIT(p, "{\"start\":");
      p = put_rfc3339(&f, p, s->start, d[i].off);
      p = PUT_LIT(p, ",\"end\":");
      /* the end's offset: the next slot's start when they meet, else looked up */
      int32_t end_off = i + 1 < n && slots->v[d[i + 1].idx].start == s->end ? d[i + 1].off : fmt_offset(&f, s->end);
      p = put_rfc3339(&f, p, s->end, end_off);
      p = PUT_LIT(p, ",\"seats_remaining\":");
      p = put_i64(p, s->seats_left);
      if (ts) {
        p = PUT_LIT(p, ",\"hosts\":[");
        for (uint32_t k = 0; k < ts->nhosts; k++) {
          if (k) *p++ = ',';
          p = put_i64(p, hosts[team->hosts[ts->off + k].host].host_id);
        }
        *p++ = ']';
      }
      *p++ = '}';
    } else if (fmt_date(&f, d[i].day)) {
      *p++ = '"';
      p = put2(p, d[i].sod / 3600);
      *p++ = ':';
      p = put2(p, d[i].sod / 60 % 60);
      *p++ = '"';
    } else { /* as it was: the "HH:MM" at offset 11 of time_format_utc's text */
      char iso[48];
      time_format_utc(s->start + d[i].off, iso, sizeof iso);
      *p++ = '"';
      p = put_str(p, iso + 11, 5);
      *p++ = '"';
    }
    buf_end(b, p);
  }
  p = buf_at(b, 4);
  p = n ? PUT_LIT(p, "]}}") : PUT_LIT(p, "}}");
  buf_end(b, p);
  free(d);
}

static void format_explain(buf_t *b, const sched_slots_t *slots, const tz_t *itz) {
  fmt_t f = {.tz = itz};
  buf_reserve(b, 16 + slots->n * (2 * RFC_ROOM + 112));
  char *p = buf_at(b, 16);
  p = PUT_LIT(p, ",\"explain\":[");
  buf_end(b, p);
  for (size_t i = 0; i < slots->n; i++) {
    const sched_slot_t *s = &slots->v[i];
    const char *reason = sched_reason_name(s->reason);
    p = buf_at(b, 2 * RFC_ROOM + 112 + strlen(reason));
    p = i ? PUT_LIT(p, ",{\"start\":") : PUT_LIT(p, "{\"start\":");
    p = put_rfc3339(&f, p, s->start, fmt_offset(&f, s->start));
    p = PUT_LIT(p, ",\"end\":");
    p = put_rfc3339(&f, p, s->end, fmt_offset(&f, s->end));
    p = s->reason == SLOT_FREE ? PUT_LIT(p, ",\"offered\":true,\"reason\":\"")
                               : PUT_LIT(p, ",\"offered\":false,\"reason\":\"");
    p = put_str(p, reason, strlen(reason));
    *p++ = '"';
    if (s->reason == SLOT_BOOKED || s->reason == SLOT_BUFFER) {
      p = PUT_LIT(p, ",\"booking_id\":");
      p = put_i64(p, s->ref);
    }
    if (s->reason == SLOT_RESERVED) {
      p = PUT_LIT(p, ",\"reservation_id\":");
      p = put_i64(p, s->ref);
    }
    if (s->reason == SLOT_FREE || s->reason == SLOT_NO_SEATS) {
      p = PUT_LIT(p, ",\"seats_remaining\":");
      p = put_i64(p, s->seats_left);
    }
    *p++ = '}';
    buf_end(b, p);
  }
  buf_putc(b, ']');
}

static void etag_of(const char *body, size_t len, char out[24]) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)body[i];
    h *= 1099511628211ull;
  }
  snprintf(out, 24, "\"%016" PRIx64 "\"", h);
}

/* ------------------------------------------------------------------ engine jobs */

/* One computation: handed everything it reads, so it can run on a worker thread. */
struct job_s {
  uv_work_t work;   /* libuv's request while on the threadpool */
  job_t *next;      /* waiting in the state's FIFO */
  avail_state_t *s;
  http_req_t *req;  /* alive until finish() responds: an orphan waits for its handler (server.h) */
  inputs_t in;      /* owned; its text columns are not read (they point into the freed PGresult) */
  const tz_t *itz;  /* resolved on the loop thread */
  int64_t now;      /* Unix seconds, read on the loop thread */
  int64_t now_ms;
  int64_t from, to; /* window of slot starts */
  int range, explain;
  int64_t host_filter; /* host_id=: only slots this host is free for (0: any) */
  int seats;           /* seats=: party size, only slots it fits (<= 1: any) */
  buf_t body;       /* the answer, made by compute() */
  char etag[24];
};

/* Slot-formatting units (a "times" slot is 1) the job will cost, estimated from the schedule
 * before computing: days x (working seconds a day / interval), every grid time for explain=1. */
static uint64_t schedule_cost(const job_t *j, const sched_schedule_t *sc) {
  int64_t week = 0, most = 0; /* working seconds a week; the longest override day */
  for (int d = 0; d < 7; d++)
    for (int k = 0; k < sc->nweek[d]; k++) week += (int64_t)(sc->week[d][k].end - sc->week[d][k].start) * 60;
  for (int o = 0; o < sc->noverrides; o++) {
    int64_t day = 0;
    for (int k = 0; k < sc->overrides[o].nspans; k++)
      day += (int64_t)(sc->overrides[o].spans[k].end - sc->overrides[o].spans[k].start) * 60;
    if (day > most) most = day;
  }
  int64_t per_day = j->explain ? 86400 : (week / 7 > most ? week / 7 : most);
  uint64_t days = (uint64_t)((j->to - j->from) / 86400 + 2);
  uint64_t slots = days * (uint64_t)(per_day / j->in.event.interval + 1);
  return slots * (j->range || j->explain ? 4 : 1);
}

static uint64_t engine_cost(const job_t *j) {
  if (!j->in.team) return schedule_cost(j, &j->in.schedule);
  uint64_t sum = 0;
  for (size_t i = 0; i < j->in.nhosts; i++) sum += schedule_cost(j, &j->in.hosts[i].schedule);
  return sum;
}

/* The party-size and host filters on a personal type's free slots, in place. */
static void filter_personal(job_t *j, sched_slots_t *slots) {
  size_t k = 0;
  for (size_t i = 0; i < slots->n; i++) {
    if (slots->v[i].reason != SLOT_FREE) {
      slots->v[k++] = slots->v[i]; /* explain keeps every candidate */
      continue;
    }
    if (j->host_filter && j->host_filter != j->in.host_id) continue;
    if (j->seats > 1 && slots->v[i].seats_left < j->seats) continue;
    slots->v[k++] = slots->v[i];
  }
  slots->n = k;
}

/* The host index of the host_id= filter (-2: not a host of this type; -1: no filter). */
static int host_index(const inputs_t *in, int64_t host_filter) {
  if (!host_filter) return -1;
  for (size_t i = 0; i < in->nhosts; i++)
    if (in->hosts[i].host_id == host_filter) return (int)i;
  return -2;
}

/* An org type: each host's free slots from the one engine, combined (team.h), filtered. */
static void compute_team(job_t *j) {
  sched_team_slots_t t;
  int idx = host_index(&j->in, j->host_filter);
  inputs_team_slots(&j->in, j->now, j->from, j->to, idx < 0 ? -1 : idx, j->seats, &t);
  if (idx == -2) t.n = 0;
  sched_slots_t flat = {.v = xcalloc(t.n ? t.n : 1, sizeof *flat.v), .n = t.n, .cap = t.n};
  for (size_t i = 0; i < t.n; i++)
    flat.v[i] = (sched_slot_t){.start = t.v[i].start, .end = t.v[i].end, .seats_left = t.v[i].seats_left,
                               .reason = SLOT_FREE};
  format_slots(&j->body, &flat, j->itz, j->range, &t, j->in.hosts);
  etag_of(j->body.data, j->body.len, j->etag);
  sched_slots_free(&flat);
  sched_team_slots_free(&t);
}

static void compute(job_t *j) { /* any thread */
  if (j->in.team) {
    compute_team(j);
    return;
  }
  sched_slots_t slots;
  sched_compute(&j->in.schedule, &j->in.event, j->in.busy, j->in.nbusy, j->now, j->from, j->to, j->explain, &slots);
  if (j->host_filter || j->seats > 1) filter_personal(j, &slots);
  format_slots(&j->body, &slots, j->itz, j->range, NULL, NULL);
  if (j->explain) {
    j->body.data[--j->body.len] = '\0'; /* reopen the outer object */
    format_explain(&j->body, &slots, j->itz);
    buf_putc(&j->body, '}');
  }
  etag_of(j->body.data, j->body.len, j->etag);
  sched_slots_free(&slots);
}

typedef struct {
  const char *event_type_id; /* addressed by id, or (NULL) by the slug pair */
  const char *slug, *event_slug, *tzname;
  const tz_t *itz;
  int64_t from, to; /* window of slot starts */
  int range, explain;
  int64_t host_filter;
  int seats;
  int duration; /* minutes, 0: the default length */
  char key[400];
  uint64_t epoch; /* when the read started */
} avail_req_t;

static void respond_body(http_req_t *req, const char *etag, const char *body, size_t len) {
  /* Both header lines at once: etag_of's text is 18 safe bytes. */
  char lines[80];
  size_t n = strlen(etag);
  memcpy(lines, "ETag: ", 6);
  memcpy(lines + 6, etag, n);
  memcpy(lines + 6 + n, "\r\nCache-Control: no-cache\r\n", 27);
  http_add_header_lines(req, lines, 6 + n + 27);
  const char *inm = http_req_header(req, "If-None-Match");
  if (inm && (strstr(inm, etag) || strcmp(inm, "*") == 0)) {
    http_respond(req, 304, NULL, NULL, 0);
    return;
  }
  api_respond_body(req, 200, body, len);
}

/* Loop thread: caches and sends the answer (to nobody if the client has gone: the response of
 * an orphan is discarded and the request freed), then frees the job. */
static void finish(job_t *j) {
  http_req_t *req = j->req;
  avail_req_t *a = api_ctx(req)->flow;
  const char *kept = NULL;
  if (!j->explain) {
    int64_t expires = (j->now_ms / 60000 + 1) * 60000; /* the minute boundary after the engine's `now` */
    if (j->in.next_expiry && j->in.next_expiry * 1000 < expires) expires = j->in.next_expiry * 1000;
    int64_t *hosts = NULL;
    if (j->in.team) {
      hosts = xmalloc((j->in.nhosts ? j->in.nhosts : 1) * sizeof *hosts);
      for (size_t i = 0; i < j->in.nhosts; i++) hosts[i] = j->in.hosts[i].host_id;
    }
    kept = cache_put(j->s, a->key, j->in.host_id, hosts, j->in.nhosts, a->epoch, expires, j->etag, j->body.data,
                     j->body.len);
    free(hosts);
  }
  respond_body(req, j->etag, kept ? kept : j->body.data, j->body.len);
  if (!kept) buf_free(&j->body);
  inputs_free(&j->in);
  free(j);
}

static void work_cb(uv_work_t *w) { compute(container_of(w, job_t, work)); } /* threadpool */

static void start_waiting(avail_state_t *s);

static void after_work_cb(uv_work_t *w, int status) { /* loop thread */
  job_t *j = container_of(w, job_t, work);
  avail_state_t *s = j->s;
  s->running--;
  start_waiting(s);
  if (status != 0) { /* cancelled (nothing cancels today): no answer was made */
    buf_free(&j->body);
    api_error(j->req, 503, E_UNAVAILABLE, "service unavailable");
    inputs_free(&j->in);
    free(j);
    return;
  }
  finish(j);
}

/* Hands waiting jobs to libuv while fewer than s->threads run. A job whose client left while
 * it waited is not computed (server.h's policy for reads): its orphaned request is released. */
static void start_waiting(avail_state_t *s) {
  while (s->head && s->running < s->threads) {
    job_t *j = s->head;
    s->head = j->next;
    if (!s->head) s->tail = NULL;
    s->waiting--;
    if (j->req->orphaned) {
      s->jobs_dropped++;
      j->req->respond_hook = NULL; /* nothing to store for a request that did nothing */
      http_respond(j->req, 499, NULL, NULL, 0); /* discarded: frees the orphaned request */
      inputs_free(&j->in);
      free(j);
      continue;
    }
    s->running++;
    if (uv_queue_work(s->loop, &j->work, work_cb, after_work_cb) != 0) abort(); /* fails only for a NULL work_cb */
  }
}

/* ------------------------------------------------------------------ handler */

static void on_data(http_req_t *req, inputs_t *in, const db_result_t *err) {
  avail_req_t *a = api_ctx(req)->flow;
  if (!in) {
    if (err) {
      api_db_failed(req, err);
    } else {
      log_req(req, LOG_ERROR, "availability: unreadable engine inputs", NULL);
      api_error(req, 500, E_INTERNAL, "internal error");
    }
    return;
  }
  job_t *j = xcalloc(1, sizeof *j);
  j->in = *in; /* the job owns its allocations */
  if (inputs_pick_duration(&j->in, a->duration) != 0) {
    inputs_free(&j->in);
    free(j);
    api_error_field(req, 400, E_VALIDATION, "duration must be one of the event type's lengths (durations)", "duration");
    return;
  }
  if (a->explain && j->in.team) {
    inputs_free(&j->in);
    free(j);
    api_error_field(req, 400, E_VALIDATION, "explain=1 is for personal event types", "explain");
    return;
  }
  if (a->explain && api_ctx(req)->user_id != j->in.host_id) {
    inputs_free(&j->in);
    free(j);
    api_error(req, 403, E_FORBIDDEN, "explain=1 is for the host of this event type");
    return;
  }
  avail_state_t *s = st(api_app(req));
  j->s = s;
  j->req = req;
  j->itz = a->itz;
  j->now_ms = now_wall_ms();
  j->now = j->now_ms / 1000;
  j->from = a->from;
  j->to = a->to;
  j->range = a->range;
  j->explain = a->explain;
  j->host_filter = a->host_filter;
  j->seats = a->seats;
  if (engine_cost(j) < OFFLOOP_COST) {
    s->jobs_inline++;
    compute(j);
    finish(j);
    return;
  }
  s->jobs_pool++;
  if (s->tail) s->tail->next = j;
  else s->head = j;
  s->tail = j;
  s->waiting++;
  start_waiting(s);
}

static void fetch(http_req_t *req) {
  avail_req_t *a = api_ctx(req)->flow;
  inputs_query_t q = {.event_type_id = a->event_type_id ? api_parse_id(a->event_type_id) : 0,
                      .slug = a->slug, .event_slug = a->event_slug, .from = a->from, .to = a->to,
                      .replica_ok = replica_ok};
  inputs_fetch(req, &q, on_data);
}

/* Writes a cache key piece by piece, truncated at its end like snprintf (without printf: every
 * request builds one). */
typedef struct {
  char *p, *end;
} key_writer_t;

static void key_str(key_writer_t *k, const char *s) {
  size_t n = strlen(s), room = (size_t)(k->end - k->p);
  if (n > room) n = room;
  memcpy(k->p, s, n);
  k->p += n;
}

static void key_int(key_writer_t *k, int64_t v) {
  char t[24];
  key_str(k, "\x1f");
  key_str(k, int_text(v, t));
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
  a->itz = tz_get(a->tzname); /* loaded here, on the loop thread: the engine's work only reads it */
  if (!a->itz) api_v_fail(&v, "timezone", "timezone must be an IANA time zone name");
  if (format && strcmp(format, "range") != 0 && strcmp(format, "times") != 0)
    api_v_fail(&v, "format", "format must be range or times");
  if (explain && strcmp(explain, "1") != 0 && strcmp(explain, "true") != 0 && strcmp(explain, "0") != 0 &&
      strcmp(explain, "false") != 0)
    api_v_fail(&v, "explain", "explain must be 1 or 0");
  const char *host = api_query_param(req, "host_id"), *seats = api_query_param(req, "seats");
  const char *duration = api_query_param(req, "duration");
  if (duration) {
    char *e;
    long n = strtol(duration, &e, 10);
    if (*duration < '0' || *duration > '9' || *e || n < 1 || n > 1440)
      api_v_fail(&v, "duration", "duration must be a length in minutes (1-1440)");
    else a->duration = (int)n;
  }
  if (host && (a->host_filter = api_parse_id(host)) <= 0) api_v_fail(&v, "host_id", "host_id must be a user id");
  if (seats) {
    char *e;
    long n = strtol(seats, &e, 10);
    if (*seats < '0' || *seats > '9' || *e || n < 1 || n > 1000) api_v_fail(&v, "seats", "seats must be 1-1000");
    else a->seats = (int)n;
  }
  if (v.failed) return api_v_respond(&v);
  a->range = format && strcmp(format, "range") == 0;
  a->explain = explain && (strcmp(explain, "1") == 0 || strcmp(explain, "true") == 0);
  /* The invitee's dates: [start 00:00, end + 1 00:00) on their wall clock. */
  a->from = tz_local_to_utc(a->itz, d0 * 86400);
  a->to = tz_local_to_utc(a->itz, (d1 + 1) * 86400);
  if (a->explain) {
    api_authenticate(req, fetch);
    return 0;
  }
  /* Field separator 0x1f cannot occur in a decoded slug of ours nor in a zone name. */
  key_writer_t k = {a->key, a->key + sizeof a->key - 1};
  if (a->event_type_id) { /* "#id", or "slug\x1f event slug"; then start, end, zone, range, host, seats */
    key_str(&k, "#");
    key_str(&k, a->event_type_id);
  } else {
    key_str(&k, a->slug);
    key_str(&k, "\x1f");
    key_str(&k, a->event_slug);
  }
  const char *text[] = {start, end, a->tzname};
  for (int i = 0; i < 3; i++) {
    key_str(&k, "\x1f");
    key_str(&k, text[i]);
  }
  key_int(&k, a->range);
  key_int(&k, a->host_filter);
  key_int(&k, a->seats);
  key_int(&k, a->duration);
  *k.p = '\0';
  avail_state_t *s = st(api_app(req));
  entry_t *en = cache_get(s, a->key);
  a->epoch = s->epoch;
  if (en) {
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

/* ------------------------------------------------------------------ slotd's own callers */

typedef struct {
  avail_query_t q;
  avail_slots_cb cb;
  void *data;
} own_read_t;

static void own_data(http_req_t *req, inputs_t *in, const db_result_t *err) {
  own_read_t *o = api_ctx(req)->avail;
  api_ctx(req)->avail = NULL;
  if (!in) {
    o->cb(req, o->data, NULL, NULL, 0, err);
    return;
  }
  if (inputs_pick_duration(in, o->q.duration) != 0) { /* answered like a database refusal */
    inputs_free(in);
    db_result_t bad = {.ok = 0, .sqlstate = "SL400", .message = "duration is not one of the event type's lengths"};
    o->cb(req, o->data, NULL, NULL, 0, &bad);
    return;
  }
  int64_t now = now_wall_ms() / 1000;
  avail_slot_t *v = NULL;
  size_t n = 0;
  if (in->team) {
    sched_team_slots_t t;
    int idx = host_index(in, o->q.host_filter);
    inputs_team_slots(in, now, o->q.from, o->q.to, idx < 0 ? -1 : idx, o->q.seats, &t);
    if (idx == -2) t.n = 0;
    v = xcalloc(t.n ? t.n : 1, sizeof *v);
    for (size_t i = 0; i < t.n; i++) v[n++] = (avail_slot_t){t.v[i].start, t.v[i].end, t.v[i].best_seats};
    sched_team_slots_free(&t);
  } else {
    sched_slots_t slots;
    sched_compute(&in->schedule, &in->event, in->busy, in->nbusy, now, o->q.from, o->q.to, 0, &slots);
    v = xcalloc(slots.n ? slots.n : 1, sizeof *v);
    for (size_t i = 0; i < slots.n; i++) {
      const sched_slot_t *s = &slots.v[i];
      if (s->reason != SLOT_FREE || (o->q.host_filter && o->q.host_filter != in->host_id) ||
          (o->q.seats > 1 && s->seats_left < o->q.seats))
        continue;
      v[n++] = (avail_slot_t){s->start, s->end, s->seats_left};
    }
    sched_slots_free(&slots);
  }
  o->cb(req, o->data, in, v, n, NULL);
  free(v);
  inputs_free(in);
}

void availability_slots(http_req_t *req, const avail_query_t *q, avail_slots_cb cb, void *data) {
  own_read_t *o = arena_calloc(req->arena, sizeof *o);
  o->q = *q;
  if (o->q.to - o->q.from > (int64_t)AVAIL_MAX_DAYS * 86400) o->q.to = o->q.from + (int64_t)AVAIL_MAX_DAYS * 86400;
  if (o->q.to < o->q.from) o->q.to = o->q.from;
  o->cb = cb;
  o->data = data;
  api_ctx(req)->avail = o;
  inputs_query_t iq = {.event_type_id = o->q.event_type_id, .slug = o->q.slug, .event_slug = o->q.event_slug,
                       .from = o->q.from, .to = o->q.to, .exclude_booking = o->q.exclude_booking,
                       .include_secret = o->q.include_secret};
  inputs_fetch(req, &iq, own_data);
}
