#include "inputs.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"

static const char *text(const PGresult *res, const char *col) {
  int k = PQfnumber(res, col);
  return k < 0 || PQgetisnull(res, 0, k) ? NULL : PQgetvalue(res, 0, k);
}

static int64_t num(const PGresult *res, const char *col) {
  const char *s = text(res, col);
  return s ? strtoll(s, NULL, 10) : 0;
}

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

void inputs_reach_params(char reach[2][24]) {
  snprintf(reach[0], 24, "%" PRId64, sched_reach(0));
  snprintf(reach[1], 24, "%" PRId64, sched_reach(1));
}

void inputs_free(inputs_t *in) {
  free(in->busy);
  in->busy = NULL;
  in->nbusy = 0;
  free(in->schedule.overrides);
  in->schedule.overrides = NULL;
  in->schedule.noverrides = 0;
}

static int decode_schedule(const PGresult *res, sched_schedule_t *s) {
  memset(s, 0, sizeof *s);
  const char *zone = text(res, "schedule_timezone");
  s->tz = tz_get(zone ? zone : "UTC"); /* no schedule: nothing is open */
  if (!s->tz) return -1;
  if (!zone) return 0;
  const char *week = text(res, "week_spans"), *over = text(res, "override_spans");
  size_t n = array_len(week);
  int64_t *v = xcalloc(n ? n : 1, sizeof *v);
  if (array_get(week, v, n) != n || n % 3) {
    free(v);
    return -1;
  }
  for (size_t i = 0; i < n; i += 3) {
    if (v[i] < 0 || v[i] > 6 || v[i + 1] < 0 || v[i + 2] > 1440) continue;
    sched_add_span(s->week[v[i]], &s->nweek[v[i]], (int16_t)v[i + 1], (int16_t)v[i + 2]);
  }
  free(v);
  n = array_len(over);
  v = xcalloc(n ? n : 1, sizeof *v);
  if (array_get(over, v, n) != n || n % 3) {
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

static const char *const busy_cols[] = {"busy_start", "busy_end",  "busy_buffer_before", "busy_buffer_after",
                                        "busy_event_type", "busy_ref", "busy_seats", "busy_kind", "busy_pending"};

int inputs_decode(const PGresult *res, inputs_t *in) {
  memset(in, 0, sizeof *in);
  if (PQntuples(res) < 1 || PQfnumber(res, "host_id") < 0) return -1;
  in->host_id = num(res, "host_id");
  in->version = num(res, "version");
  sched_event_t *e = &in->event;
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
  if (e->duration <= 0 || e->interval <= 0 || e->seats < 1) return -1;
  const char *rc = text(res, "requires_confirmation");
  in->requires_confirmation = rc && rc[0] == 't';
  in->event_name = text(res, "event_name");
  in->questions = text(res, "questions");
  in->next_expiry = num(res, "next_expiry");
  in->booking_status = text(res, "booking_status");
  in->booking_timezone = text(res, "booking_timezone");
  in->refusal = text(res, "refusal");
  in->booking_start = num(res, "booking_start");
  in->booking_seats = (int)num(res, "booking_seats");
  if (decode_schedule(res, &in->schedule) != 0) {
    inputs_free(in);
    return -1;
  }
  /* Busy time: parallel arrays of one length. */
  size_t n = array_len(text(res, "busy_start"));
  int64_t *col = xcalloc(n ? n : 1, sizeof *col);
  in->busy = xcalloc(n ? n : 1, sizeof *in->busy);
  in->nbusy = n;
  for (size_t c = 0; c < sizeof busy_cols / sizeof busy_cols[0]; c++) {
    const char *arr = text(res, busy_cols[c]);
    if (array_len(arr) != n || array_get(arr, col, n) != n) {
      free(col);
      inputs_free(in);
      return -1;
    }
    for (size_t i = 0; i < n; i++) {
      sched_busy_t *b = &in->busy[i];
      switch (c) {
        case 0: b->start = col[i]; break;
        case 1: b->end = col[i]; break;
        case 2: b->buffer_before = col[i]; break;
        case 3: b->buffer_after = col[i]; break;
        case 4: b->event_type_id = col[i]; break;
        case 5: b->ref = col[i]; break;
        case 6: b->seats = (int)col[i]; break;
        case 7: b->kind = (int)col[i]; break;
        default: b->pending = (int)col[i];
      }
    }
  }
  free(col);
  return 0;
}
