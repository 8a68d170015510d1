#include "inputs.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/map.h"
#include "../core/timeutil.h"
#include "../core/util.h"
#include "../db/replica.h"
#include "ctx.h"
#include "query.h"

static const char *text_at(const PGresult *res, int row, const char *col) {
  int k = PQfnumber(res, col);
  return k < 0 || PQgetisnull(res, row, k) ? NULL : PQgetvalue(res, row, k);
}

static int64_t num_at(const PGresult *res, int row, const char *col) {
  const char *s = text_at(res, row, col);
  return s ? strtoll(s, NULL, 10) : 0;
}

static const char *text(const PGresult *res, const char *col) { return text_at(res, 0, col); }
static int64_t num(const PGresult *res, const char *col) { return num_at(res, 0, col); }

/* Elements of an integer array's text "{1,2,3}" (NULL or "{}": none). */
static size_t array_len(const char *s) {
  if (!s || s[0] != '{' || s[1] == '}') return 0;
  size_t n = 1;
  for (; *s; s++) n += *s == ',';
  return n;
}

/* Decodes up to n integers; returns how many were read. */
static size_t array_get(const char *s, int64_t *out, size_t n) {
  size_t k = 0;
  if (!s || *s != '{') return 0;
  s++;
  while (k < n && *s && *s != '}') {
    char *end;
    out[k++] = strtoll(s, &end, 10);
    if (end == s) return k - 1; /* not a number (NULL element): stop */
    s = *end == ',' ? end + 1 : end;
  }
  return k;
}

/* An integer array column of a row, malloc'd (free it), with its length; NULL if malformed. */
static int64_t *int_array_at(const PGresult *res, int row, const char *col, size_t *n) {
  const char *arr = text_at(res, row, col);
  *n = array_len(arr);
  int64_t *v = xcalloc(*n ? *n : 1, sizeof *v);
  if (array_get(arr, v, *n) != *n) {
    free(v);
    return NULL;
  }
  return v;
}

static int64_t *int_array(const PGresult *res, const char *col, size_t *n) { return int_array_at(res, 0, col, n); }

static int flag(const PGresult *res, const char *col) {
  const char *v = text(res, col);
  return v && v[0] == 't';
}

void inputs_reach_params(char reach[2][24]) {
  snprintf(reach[0], 24, "%" PRId64, sched_reach(0));
  snprintf(reach[1], 24, "%" PRId64, sched_reach(1));
}

void inputs_team_slots(const inputs_t *in, int64_t now, int64_t from, int64_t to, int host, int seats,
                       sched_team_slots_t *out) {
  sched_slots_t *per = xcalloc(in->nhosts ? in->nhosts : 1, sizeof *per);
  for (size_t i = 0; i < in->nhosts; i++) {
    inputs_host_t *h = &in->hosts[i];
    sched_compute(&h->schedule, &in->event, h->busy, h->nbusy, now, from, to, 0, &per[i]);
  }
  if (in->team == TEAM_COLLECTIVE) sched_team_intersect(per, in->nhosts, out);
  else sched_team_union(per, in->nhosts, out);
  for (size_t i = 0; i < in->nhosts; i++) sched_slots_free(&per[i]);
  free(per);
  if (host >= 0) sched_team_keep_host(out, host);
  if (seats > 1) sched_team_keep_seats(out, seats);
}

int inputs_pick_duration(inputs_t *in, int minutes) {
  if (minutes <= 0 || minutes * 60 == in->event.duration) return 0;
  for (int i = 0; i < in->ndurations; i++)
    if (in->durations[i] == minutes) {
      in->event.duration = minutes * 60;
      return 0;
    }
  return -1;
}

void inputs_free(inputs_t *in) {
  for (size_t i = 0; i < in->nhosts; i++) {
    free(in->hosts[i].busy);
    free(in->hosts[i].schedule.overrides);
  }
  free(in->hosts);
  in->hosts = NULL;
  in->nhosts = 0;
  free(in->busy);
  in->busy = NULL;
  in->nbusy = 0;
  free(in->schedule.overrides);
  in->schedule.overrides = NULL;
  in->schedule.noverrides = 0;
}

static int decode_schedule_at(const PGresult *res, int row, sched_schedule_t *s) {
  memset(s, 0, sizeof *s);
  const char *zone = text_at(res, row, "schedule_timezone");
  s->tz = tz_get(zone ? zone : "UTC"); /* no schedule: nothing is open */
  if (!s->tz) return -1;
  if (!zone) return 0;
  size_t n;
  int64_t *v = int_array_at(res, row, "week_spans", &n);
  if (!v || n % 3) {
    free(v);
    return -1;
  }
  for (size_t i = 0; i < n; i += 3) {
    if (v[i] < 0 || v[i] > 6 || v[i + 1] < 0 || v[i + 2] > 1440) continue;
    sched_add_span(s->week[v[i]], &s->nweek[v[i]], (int16_t)v[i + 1], (int16_t)v[i + 2]);
  }
  free(v);
  v = int_array_at(res, row, "override_spans", &n);
  if (!v || n % 3) {
    free(v);
    return -1;
  }
  s->overrides = xcalloc(n / 3 + 1, sizeof *s->overrides);
  for (size_t i = 0; i < n; i += 3) { /* sorted by day; a closed day is (day, 0, 0) */
    if (s->noverrides == 0 || s->overrides[s->noverrides - 1].day != v[i]) {
      s->overrides[s->noverrides].day = v[i];
      s->noverrides++;
    }
    sched_override_t *o = &s->overrides[s->noverrides - 1];
    if (v[i + 1] >= 0 && v[i + 2] <= 1440) sched_add_span(o->spans, &o->nspans, (int16_t)v[i + 1], (int16_t)v[i + 2]);
  }
  free(v);
  return 0;
}

static int decode_schedule(const PGresult *res, sched_schedule_t *s) { return decode_schedule_at(res, 0, s); }

/* Busy time: parallel arrays of one length, by column name. The buffer columns are optional
 * (the configuration cache supplies buffers by event type instead). */
static const struct {
  const char *col;
  int optional;
} busy_cols[] = {{"busy_start", 0}, {"busy_end", 0}, {"busy_buffer_before", 1}, {"busy_buffer_after", 1},
                 {"busy_event_type", 0}, {"busy_ref", 0}, {"busy_seats", 0}, {"busy_kind", 0}, {"busy_pending", 0}};

static void set_busy(sched_busy_t *b, size_t field, int64_t v) {
  switch (field) {
    case 0: b->start = v; break;
    case 1: b->end = v; break;
    case 2: b->buffer_before = v; break;
    case 3: b->buffer_after = v; break;
    case 4: b->event_type_id = v; break;
    case 5: b->ref = v; break;
    case 6: b->seats = (int)v; break;
    case 7: b->kind = (int)v; break;
    default: b->pending = (int)v;
  }
}

/* The row order of engine_busy's "busy" as set_busy fields (no buffers: the cache has them),
 * and of engine_team_busy's (buffers included). */
static const size_t busy_field[7] = {0, 1, 4, 5, 6, 7, 8};
static const size_t team_busy_field[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};

static int decode_busy(const PGresult *res, inputs_t *in) {
  size_t n = array_len(text(res, "busy_start"));
  in->busy = xcalloc(n ? n : 1, sizeof *in->busy);
  in->nbusy = n;
  for (size_t c = 0; c < sizeof busy_cols / sizeof busy_cols[0]; c++) {
    if (busy_cols[c].optional && PQfnumber(res, busy_cols[c].col) < 0) continue;
    size_t got;
    int64_t *col = int_array(res, busy_cols[c].col, &got);
    if (!col || got != n) {
      free(col);
      return -1;
    }
    for (size_t i = 0; i < n; i++) set_busy(&in->busy[i], c, col[i]);
    free(col);
  }
  return 0;
}

/* Busy time as one two-dimensional array column: {{...},...} rows of `width` numbers, number k
 * of a row going to set_busy field fields[k]; NULL for none. */
static int decode_busy_rows(const char *arr, const size_t *fields, size_t width, sched_busy_t **out, size_t *nout) {
  size_t n = array_len(arr); /* numbers in all rows: commas + 1 */
  *out = NULL;
  *nout = 0;
  if (n % width) return -1;
  *nout = n / width;
  *out = xcalloc(*nout ? *nout : 1, sizeof **out);
  size_t k = 0;
  for (const char *p = arr; p && *p && k < n;) {
    if (*p == '{' || *p == '}' || *p == ',') {
      p++;
      continue;
    }
    char *end;
    int64_t v = strtoll(p, &end, 10);
    if (end == p) return -1; /* not a number (a NULL element) */
    set_busy(&(*out)[k / width], fields[k % width], v);
    k++;
    p = end;
  }
  return k == n ? 0 : -1;
}

/* The event type's settings (columns shared by engine_inputs and engine_config). */
static int decode_event(const PGresult *res, sched_event_t *e) {
  memset(e, 0, sizeof *e);
  e->id = num(res, "event_type_id");
  e->duration = num(res, "duration") * 60;
  e->interval = num(res, "slot_interval") * 60;
  e->buffer_before = num(res, "buffer_before") * 60;
  e->buffer_after = num(res, "buffer_after") * 60;
  e->min_notice = num(res, "min_notice_hours") * 3600;
  e->max_future = num(res, "max_future_days") * 86400;
  e->seats = (int)num(res, "seats");
  e->limit_day = (int)num(res, "limit_per_day");
  e->limit_week = (int)num(res, "limit_per_week");
  return e->duration <= 0 || e->interval <= 0 || e->seats < 1 ? -1 : 0;
}

int inputs_decode(const PGresult *res, inputs_t *in) {
  memset(in, 0, sizeof *in);
  if (PQntuples(res) < 1 || PQfnumber(res, "host_id") < 0) return -1;
  in->host_id = num(res, "host_id");
  in->version = num(res, "version");
  if (decode_event(res, &in->event) != 0) return -1;
  in->requires_confirmation = flag(res, "requires_confirmation");
  in->event_name = text(res, "event_name");
  in->questions = text(res, "questions");
  in->next_expiry = num(res, "next_expiry");
  in->booking_status = text(res, "booking_status");
  in->booking_timezone = text(res, "booking_timezone");
  in->refusal = text(res, "refusal");
  in->booking_start = num(res, "booking_start");
  in->booking_end = num(res, "booking_end");
  in->booking_seats = (int)num(res, "booking_seats");
  if (decode_schedule(res, &in->schedule) != 0) {
    inputs_free(in);
    return -1;
  }
  if (decode_busy(res, in) != 0) {
    inputs_free(in);
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------ configuration cache + busy time */

#define CONFIG_MAX 10000 /* cached event type configurations per instance (a full cache starts over) */

typedef struct {
  int refs;                     /* the cache's and each request's that uses it */
  int64_t host_id, config_version;
  sched_event_t event;
  sched_schedule_t schedule; /* overrides malloc'd */
  int requires_confirmation;
  int durations[INPUTS_MAX_DURATIONS], ndurations;
  int rec_freq, rec_interval, rec_count;
  char *event_name, *questions; /* malloc'd */
  size_t ntypes;                /* the host's event types, sorted by id: their buffers */
  int64_t *type_ids, *type_bb, *type_ba;
  /* organisation event types: TEAM_*, and each host's configuration (ascending id) */
  int team;
  int64_t org_id;
  size_t nhosts;
  struct config_host_s {
    int64_t host_id, config_version;
    sched_schedule_t schedule; /* overrides malloc'd */
    int priority, weight;
    char *name; /* malloc'd */
  } *hosts;
  char *host_list; /* "{id,id,...}": the team busy read's parameter (malloc'd) */
} engine_config_t;

static map_t *g_configs; /* key -> engine_config_t * (a reference) */
static uint64_t g_hits, g_misses, g_refetches;

static void engine_config_free(void *v) {
  engine_config_t *c = v;
  for (size_t i = 0; i < c->nhosts; i++) {
    free(c->hosts[i].schedule.overrides);
    free(c->hosts[i].name);
  }
  free(c->hosts);
  free(c->host_list);
  free(c->schedule.overrides);
  free(c->event_name);
  free(c->questions);
  free(c->type_ids);
  free(c->type_bb);
  free(c->type_ba);
}

static void config_unref(engine_config_t *c) {
  if (c && --c->refs == 0) {
    engine_config_free(c);
    free(c);
  }
}

static void entry_unref(void *v) { config_unref(*(engine_config_t **)v); }
static void arena_unref(void *p) { config_unref(p); }

static map_t *configs(void) {
  if (!g_configs) {
    g_configs = map_new(sizeof(engine_config_t *), CONFIG_MAX);
    map_set_destructor(g_configs, entry_unref);
  }
  return g_configs;
}

static engine_config_t *cached(const char *key) {
  engine_config_t **p = map_get(configs(), key);
  return p ? *p : NULL;
}

void inputs_cache_free(void) {
  map_free(g_configs);
  g_configs = NULL;
}

void inputs_collect(buf_t *out, void *data) {
  (void)data;
  buf_printf(out,
             "# TYPE slotd_engine_config_cache_hits_total counter\nslotd_engine_config_cache_hits_total %" PRIu64
             "\n# TYPE slotd_engine_config_cache_misses_total counter\nslotd_engine_config_cache_misses_total %" PRIu64
             "\n# TYPE slotd_engine_config_cache_refetches_total counter\nslotd_engine_config_cache_refetches_total %"
             PRIu64 "\n",
             g_hits, g_misses, g_refetches);
}

/* An organisation event type's hosts, one row each (a type without hosts: one row, host_id NULL). */
static int config_decode_team(const PGresult *res, engine_config_t *c) {
  const char *sch = text(res, "scheduling");
  c->team = strcmp(sch, "collective") == 0 ? TEAM_COLLECTIVE : TEAM_ROUND_ROBIN;
  c->org_id = num(res, "org_id");
  int rows = PQntuples(res);
  c->hosts = xcalloc((size_t)rows, sizeof *c->hosts);
  buf_t list = BUF_INIT;
  buf_putc(&list, '{');
  for (int r = 0; r < rows; r++) {
    if (!text_at(res, r, "host_id")) continue;
    struct config_host_s *h = &c->hosts[c->nhosts];
    h->host_id = num_at(res, r, "host_id");
    h->config_version = num_at(res, r, "config_version");
    h->priority = (int)num_at(res, r, "priority");
    h->weight = (int)num_at(res, r, "weight");
    const char *name = text_at(res, r, "host_name");
    h->name = xstrdup(name ? name : "");
    c->nhosts++; /* counted before the schedule, so a failure frees what was made */
    if (decode_schedule_at(res, r, &h->schedule) != 0) {
      buf_free(&list);
      return -1;
    }
    buf_printf(&list, "%s%" PRId64, c->nhosts > 1 ? "," : "", h->host_id);
  }
  buf_putc(&list, '}');
  c->host_list = xstrdup(list.data);
  buf_free(&list);
  return 0;
}

static int config_decode(const PGresult *res, engine_config_t *c) {
  memset(c, 0, sizeof *c);
  if (PQntuples(res) < 1 || PQfnumber(res, "config_version") < 0) return -1;
  c->host_id = num(res, "host_id");
  c->config_version = num(res, "config_version");
  c->event_name = xstrdup(text(res, "event_name") ? text(res, "event_name") : "");
  c->questions = xstrdup(text(res, "questions") ? text(res, "questions") : "[]");
  if (decode_event(res, &c->event) != 0) return -1;
  c->requires_confirmation = flag(res, "requires_confirmation");
  if (text(res, "durations")) {
    size_t n;
    int64_t *d = int_array(res, "durations", &n);
    if (!d || n > INPUTS_MAX_DURATIONS) {
      free(d);
      return -1;
    }
    for (size_t i = 0; i < n; i++) c->durations[i] = (int)d[i];
    c->ndurations = (int)n;
    free(d);
  }
  const char *rec = text(res, "recurrence");
  if (rec) { /* {"frequency", "interval", "occurrences"}: the table's CHECK keeps the bounds */
    json_t *r = json_loads(rec, 0, NULL);
    const char *f = json_string_value(json_object_get(r, "frequency"));
    c->rec_freq = !f ? 0 : strcmp(f, "weekly") == 0 ? INPUTS_WEEKLY : strcmp(f, "monthly") == 0 ? INPUTS_MONTHLY : 0;
    c->rec_interval = (int)json_integer_value(json_object_get(r, "interval"));
    c->rec_count = (int)json_integer_value(json_object_get(r, "occurrences"));
    json_decref(r);
    if (!c->rec_freq || c->rec_interval < 1 || c->rec_count < 2) return -1;
  }
  if (text(res, "scheduling")) return config_decode_team(res, c);
  if (decode_schedule(res, &c->schedule) != 0) return -1;
  size_t n1, n2, n3;
  c->type_ids = int_array(res, "type_ids", &n1);
  c->type_bb = int_array(res, "type_buffer_before", &n2);
  c->type_ba = int_array(res, "type_buffer_after", &n3);
  c->ntypes = n1;
  if (!c->type_ids || !c->type_bb || !c->type_ba || n1 != n2 || n1 != n3) return -1;
  return 0;
}

typedef struct {
  inputs_query_t q;
  inputs_cb cb;
  char key[160];
  engine_config_t *cfg; /* the configuration the busy query read for (a reference, dropped with the arena) */
  int reads;            /* configuration reads so far */
  int on_replica;       /* the busy read in flight went to the streaming replica */
  int primary_only;     /* the replica failed this request once: the primary from now on */
} fetch_t;

/* The request keeps c alive (a reference) until its arena dies. */
static void hold_config(http_req_t *req, fetch_t *f, engine_config_t *c) {
  c->refs++;
  arena_on_destroy(req->arena, arena_unref, c);
  f->cfg = c;
}

static void read_config(http_req_t *req, fetch_t *f);
static void config_moved(http_req_t *req, fetch_t *f, engine_config_t *c);
static void send_busy(http_req_t *req, fetch_t *f, engine_config_t *c);

/* The busy read on the replica when the query allows it for these hosts (q.replica_ok). */
static void busy_query(http_req_t *req, fetch_t *f, const char *stmt, int n, const char *const *params, db_cb cb,
                       const int64_t *hosts, size_t nhosts) {
  app_t *app = api_app(req);
  f->on_replica = !f->primary_only && f->q.replica_ok && f->q.replica_ok(req, hosts, nhosts);
  if (app->replica) db_replica_count(app->replica, f->on_replica);
  if (f->on_replica) api_query_replica(req, stmt, n, params, cb);
  else api_query(req, stmt, n, params, cb);
}

/* A replica read that failed or answered for another configuration: the replica is down or
 * behind; the same read again on the primary (no request is lost to the replica). Returns 1
 * when it did so. */
static int replica_retry(http_req_t *req, fetch_t *f, int failed) {
  if (!f->on_replica) return 0;
  if (failed) db_replica_failed(api_app(req)->replica);
  f->primary_only = 1;
  send_busy(req, f, f->cfg);
  return 1;
}

static void on_busy(void *data, const db_result_t *r) {
  http_req_t *req = data;
  fetch_t *f = api_ctx(req)->inputs;
  if (!r->ok) {
    if (!replica_retry(req, f, 1)) f->cb(req, NULL, r);
    return;
  }
  const PGresult *res = r->res;
  engine_config_t *c = f->cfg;
  if (PQntuples(res) < 1 || num(res, "config_version") != c->config_version) {
    if (!replica_retry(req, f, 0)) config_moved(req, f, c);
    return;
  }
  inputs_t in;
  memset(&in, 0, sizeof in);
  in.host_id = c->host_id;
  in.version = num(res, "version");
  in.event = c->event;
  in.schedule = c->schedule;
  in.schedule.overrides = NULL;
  if (c->schedule.noverrides) {
    in.schedule.overrides = xmalloc((size_t)c->schedule.noverrides * sizeof *in.schedule.overrides);
    memcpy(in.schedule.overrides, c->schedule.overrides,
           (size_t)c->schedule.noverrides * sizeof *in.schedule.overrides);
  }
  in.requires_confirmation = c->requires_confirmation;
  memcpy(in.durations, c->durations, sizeof in.durations);
  in.ndurations = c->ndurations;
  in.rec_freq = c->rec_freq;
  in.rec_interval = c->rec_interval;
  in.rec_count = c->rec_count;
  in.event_name = arena_strdup(req->arena, c->event_name);
  in.questions = arena_strdup(req->arena, c->questions);
  in.next_expiry = num(res, "next_expiry");
  if (decode_busy_rows(text(res, "busy"), busy_field, 7, &in.busy, &in.nbusy) != 0) {
    inputs_free(&in);
    f->cb(req, NULL, NULL);
    return;
  }
  size_t n = in.nbusy;
  for (size_t i = 0; i < n; i++) { /* each busy row's buffers: its own event type's */
    size_t lo = 0, hi = c->ntypes;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (c->type_ids[mid] < in.busy[i].event_type_id) lo = mid + 1;
      else hi = mid;
    }
    if (lo < c->ntypes && c->type_ids[lo] == in.busy[i].event_type_id) {
      in.busy[i].buffer_before = c->type_bb[lo];
      in.busy[i].buffer_after = c->type_ba[lo];
    }
  }
  f->cb(req, &in, NULL);
}

/* The configuration moved since it was read: read it again (a few times at most). */
static void config_moved(http_req_t *req, fetch_t *f, engine_config_t *c) {
  g_refetches++;
  if (cached(f->key) == c) map_del(configs(), f->key);
  if (f->reads >= 4) {
    f->cb(req, NULL, NULL);
    return;
  }
  read_config(req, f);
}

static void schedule_copy(sched_schedule_t *dst, const sched_schedule_t *src) {
  *dst = *src;
  dst->overrides = NULL;
  if (src->noverrides) {
    dst->overrides = xmalloc((size_t)src->noverrides * sizeof *dst->overrides);
    memcpy(dst->overrides, src->overrides, (size_t)src->noverrides * sizeof *dst->overrides);
  }
}

/* engine_team_busy's rows, one per host in the configuration's order. */
static void on_team_busy(void *data, const db_result_t *r) {
  http_req_t *req = data;
  fetch_t *f = api_ctx(req)->inputs;
  if (!r->ok) {
    if (!replica_retry(req, f, 1)) f->cb(req, NULL, r);
    return;
  }
  const PGresult *res = r->res;
  engine_config_t *c = f->cfg;
  if ((size_t)PQntuples(res) != c->nhosts) {
    if (!replica_retry(req, f, 0)) config_moved(req, f, c); /* a host is gone */
    return;
  }
  for (size_t i = 0; i < c->nhosts; i++)
    if (num_at(res, (int)i, "host_id") != c->hosts[i].host_id ||
        num_at(res, (int)i, "config_version") != c->hosts[i].config_version) {
      if (!replica_retry(req, f, 0)) config_moved(req, f, c);
      return;
    }
  inputs_t in;
  memset(&in, 0, sizeof in);
  in.event = c->event;
  in.requires_confirmation = c->requires_confirmation;
  memcpy(in.durations, c->durations, sizeof in.durations);
  in.ndurations = c->ndurations;
  in.rec_freq = c->rec_freq;
  in.rec_interval = c->rec_interval;
  in.rec_count = c->rec_count;
  in.event_name = arena_strdup(req->arena, c->event_name);
  in.questions = arena_strdup(req->arena, c->questions);
  in.team = c->team;
  in.org_id = c->org_id;
  in.hosts = xcalloc(c->nhosts ? c->nhosts : 1, sizeof *in.hosts);
  for (size_t i = 0; i < c->nhosts; i++) {
    inputs_host_t *h = &in.hosts[i];
    in.nhosts++;
    h->host_id = c->hosts[i].host_id;
    h->version = num_at(res, (int)i, "version");
    h->priority = c->hosts[i].priority;
    h->weight = c->hosts[i].weight;
    h->recent = num_at(res, (int)i, "recent");
    h->last_assigned = num_at(res, (int)i, "last_assigned");
    h->name = arena_strdup(req->arena, c->hosts[i].name);
    schedule_copy(&h->schedule, &c->hosts[i].schedule);
    int64_t exp = num_at(res, (int)i, "next_expiry");
    if (exp && (!in.next_expiry || exp < in.next_expiry)) in.next_expiry = exp;
    if (decode_busy_rows(text_at(res, (int)i, "busy"), team_busy_field, 9, &h->busy, &h->nbusy) != 0) {
      inputs_free(&in);
      f->cb(req, NULL, NULL);
      return;
    }
  }
  f->cb(req, &in, NULL);
}

static void read_team_busy(http_req_t *req, fetch_t *f, engine_config_t *c) {
  int64_t reach = sched_reach(c->event.limit_day || c->event.limit_week);
  char lo[32], hi[32], excl[24], et[24];
  time_format_utc(f->q.from - reach, lo, sizeof lo);
  time_format_utc(f->q.to + reach, hi, sizeof hi);
  snprintf(excl, sizeof excl, "%" PRId64, f->q.exclude_booking);
  snprintf(et, sizeof et, "%" PRId64, c->event.id);
  const char *params[7] = {c->host_list, lo, hi, f->q.exclude_reservation, f->q.exclude_booking ? excl : NULL, et,
                           f->q.assign ? "t" : "f"};
  int64_t *ids = NULL; /* the hosts' ids, only when the replica might take the read */
  if (api_app(req)->replica && f->q.replica_ok) {
    ids = arena_alloc(req->arena, (c->nhosts ? c->nhosts : 1) * sizeof *ids);
    for (size_t i = 0; i < c->nhosts; i++) ids[i] = c->hosts[i].host_id;
  }
  busy_query(req, f, "engine_team_busy", 7, params, on_team_busy, ids, c->nhosts);
}

static void read_busy(http_req_t *req, fetch_t *f, engine_config_t *c) {
  hold_config(req, f, c);
  send_busy(req, f, c);
}

static void send_busy(http_req_t *req, fetch_t *f, engine_config_t *c) {
  if (c->team) {
    read_team_busy(req, f, c);
    return;
  }
  int64_t reach = sched_reach(c->event.limit_day || c->event.limit_week);
  char host[24], lo[32], hi[32], excl[24];
  snprintf(host, sizeof host, "%" PRId64, c->host_id);
  time_format_utc(f->q.from - reach, lo, sizeof lo);
  time_format_utc(f->q.to + reach, hi, sizeof hi);
  snprintf(excl, sizeof excl, "%" PRId64, f->q.exclude_booking);
  const char *params[5] = {host, lo, hi, f->q.exclude_reservation, f->q.exclude_booking ? excl : NULL};
  busy_query(req, f, "engine_busy", 5, params, on_busy, &c->host_id, 1);
}

static void on_config(void *data, const db_result_t *r) {
  http_req_t *req = data;
  fetch_t *f = api_ctx(req)->inputs;
  if (!r->ok) {
    f->cb(req, NULL, r);
    return;
  }
  engine_config_t *c = xmalloc(sizeof *c);
  if (config_decode(r->res, c) != 0) {
    engine_config_free(c);
    free(c);
    f->cb(req, NULL, NULL);
    return;
  }
  c->refs = 1; /* the cache's */
  engine_config_t **slot = map_put(configs(), f->key, NULL);
  if (*slot) config_unref(*slot); /* replaced: requests still using the old one keep it */
  *slot = c;
  read_busy(req, f, c);
}

static void read_config(http_req_t *req, fetch_t *f) {
  g_misses++;
  f->reads++;
  char id[24];
  snprintf(id, sizeof id, "%" PRId64, f->q.event_type_id);
  const char *params[4] = {f->q.event_type_id ? id : NULL, f->q.event_type_id ? NULL : f->q.slug,
                           f->q.event_type_id ? NULL : f->q.event_slug, f->q.include_secret ? "t" : "f"};
  api_query(req, "engine_config", 4, params, on_config);
}

void inputs_fetch(http_req_t *req, const inputs_query_t *q, inputs_cb cb) {
  fetch_t *f = arena_calloc(req->arena, sizeof *f);
  f->q = *q;
  f->cb = cb;
  if (q->event_type_id) snprintf(f->key, sizeof f->key, "i:%" PRId64 ":%d", q->event_type_id, q->include_secret);
  else snprintf(f->key, sizeof f->key, "s:%.60s\x1f%.60s", q->slug ? q->slug : "", q->event_slug ? q->event_slug : "");
  api_ctx(req)->inputs = f;
  engine_config_t *c = q->fresh ? NULL : cached(f->key);
  if (c) {
    g_hits++;
    read_busy(req, f, c);
  } else {
    read_config(req, f); /* a fresh read replaces the cached one */
  }
}

static const api_stmt_t statements[] = {
    {"engine_config", "SELECT * FROM api.engine_config($1, $2, $3, $4)", 0},
    /* One aggregate of (start, end, event type, ref, seats, kind, pending) rows, decoded by
     * decode_busy_rows: seven parallel array_aggs cost PostgreSQL ~9 us more per read. Instants
     * as date_part (float8, exact for whole seconds below 2^53): extract() computes a numeric,
     * ~5 us more per read at 30 rows. */
    {"engine_busy",
     "SELECT u.version, u.config_version, x.busy, x.next_expiry FROM users u, LATERAL ("
     "SELECT array_agg(ARRAY[b.s, b.e, b.et, b.ref, b.seats, b.kind, b.pending]) AS busy, "
     "extract(epoch FROM min(b.exp))::bigint AS next_expiry "
     "FROM (SELECT date_part('epoch', k.start_at)::bigint AS s, date_part('epoch', k.end_at)::bigint AS e, "
     "k.event_type_id AS et, k.id AS ref, k.seats::bigint AS seats, 1::bigint AS kind, "
     "(k.status = 'pending')::integer::bigint AS pending, NULL::timestamptz AS exp FROM bookings k "
     "WHERE k.host_id = $1 AND k.status IN ('pending', 'confirmed', 'pending_payment') "
     "AND k.start_at < $3 AND k.end_at > $2 AND k.id IS DISTINCT FROM $5::bigint "
     "UNION ALL SELECT date_part('epoch', r.start_at)::bigint, date_part('epoch', r.end_at)::bigint, "
     "r.event_type_id, r.id, 1, 2, 0, r.expires_at FROM reservations r WHERE r.host_id = $1 "
     "AND r.expires_at > now() AND r.start_at < $3 AND r.end_at > $2 AND r.uid IS DISTINCT FROM $4::uuid "
     "UNION ALL SELECT date_part('epoch', t.start_at)::bigint, date_part('epoch', t.end_at)::bigint, 0, t.id, 1, 3, 0, "
     "NULL FROM time_off t WHERE t.user_id = $1 AND t.start_at < $3 AND t.end_at > $2) b) x "
     "WHERE u.id = $1",
     0},
    /* An organisation event type's hosts ($1, ascending ids): each one's versions, busy time
     * with its buffers (bookings of any type -- a collective booking's shadows included --,
     * live holds and time off) and, for a booking ($7), what round robin weighs: active
     * bookings of this type ($6) created in the trailing 30 days, and the latest one's creation.
     * One scan per table for all hosts (= ANY), grouped by host: a per-host LATERAL cost
     * PostgreSQL about 29 us per host. */
    {"engine_team_busy",
     "WITH h AS (SELECT x.id, x.n FROM unnest($1::bigint[]) WITH ORDINALITY AS x(id, n)), "
     "b AS (SELECT k.host_id AS h, date_part('epoch', k.start_at)::bigint AS s, date_part('epoch', k.end_at)::bigint AS e, "
     "t.buffer_before * 60::bigint AS bb, t.buffer_after * 60::bigint AS ba, k.event_type_id AS et, k.id AS ref, "
     "k.seats::bigint AS seats, 1::bigint AS kind, (k.status = 'pending')::integer::bigint AS pending, "
     "NULL::timestamptz AS exp FROM bookings k JOIN event_types t ON t.id = k.event_type_id "
     "WHERE k.host_id = ANY ($1::bigint[]) AND k.status IN ('pending', 'confirmed', 'pending_payment') AND k.start_at < $3 "
     "AND k.end_at > $2 AND k.id IS DISTINCT FROM $5::bigint AND coalesce(k.parent_id <> $5::bigint, true) "
     "UNION ALL SELECT r.host_id, date_part('epoch', r.start_at)::bigint, date_part('epoch', r.end_at)::bigint, "
     "t.buffer_before * 60, t.buffer_after * 60, r.event_type_id, r.id, 1, 2, 0, r.expires_at "
     "FROM reservations r JOIN event_types t ON t.id = r.event_type_id WHERE r.host_id = ANY ($1::bigint[]) "
     "AND r.expires_at > now() AND r.start_at < $3 AND r.end_at > $2 AND r.uid IS DISTINCT FROM $4::uuid "
     "UNION ALL SELECT o.user_id, date_part('epoch', o.start_at)::bigint, date_part('epoch', o.end_at)::bigint, 0, 0, "
     "0, o.id, 1, 3, 0, NULL FROM time_off o WHERE o.user_id = ANY ($1::bigint[]) AND o.start_at < $3 "
     "AND o.end_at > $2), "
     "agg AS (SELECT b.h, array_agg(ARRAY[b.s, b.e, b.bb, b.ba, b.et, b.ref, b.seats, b.kind, b.pending]) AS busy, "
     "extract(epoch FROM min(b.exp))::bigint AS next_expiry FROM b GROUP BY b.h), "
     "cnt AS (SELECT k.host_id AS h, count(*) FILTER (WHERE k.created_at > now() - interval '30 days') AS recent, "
     "extract(epoch FROM max(k.created_at))::bigint AS last_assigned FROM bookings k "
     "WHERE $7::boolean AND k.event_type_id = $6::bigint AND k.host_id = ANY ($1::bigint[]) "
     "AND k.status IN ('pending', 'confirmed', 'pending_payment') GROUP BY k.host_id) "
     "SELECT u.id AS host_id, u.version, u.config_version, agg.busy, agg.next_expiry, "
     "coalesce(cnt.recent, 0) AS recent, coalesce(cnt.last_assigned, 0) AS last_assigned "
     "FROM h JOIN users u ON u.id = h.id LEFT JOIN agg ON agg.h = h.id LEFT JOIN cnt ON cnt.h = h.id ORDER BY h.n",
     0},
    {NULL, NULL, 0},
};

void inputs_register(void) { api_register_statements(statements); }
