#include "book.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/crypto.h"
#include "../core/json.h"
#include "../core/log.h"
#include "../core/timeutil.h"
#include "../sched/slots.h"
#include "../sched/team.h"
#include "query.h"
#include "validate.h"

/* The booking a response describes, kept with its idempotency record (erasure deletes it). */
static void note_booking(http_req_t *req, const char *body, size_t len) {
  api_ctx(req)->booking_id = api_jsonb_id(body, len);
}

#define CONFIRMATION_ALPHABET "23456789ABCDEFGHJKMNPQRSTUVWXYZ" /* no 0/O, 1/I/L */

/* ------------------------------------------------------------------ shared steps */

static void fail(http_req_t *req, const book_presenter_t *p, const api_failure_t *f) {
  if (p->failed) p->failed(req, f);
  else api_fail(req, f);
}

static void fail_simple(http_req_t *req, const book_presenter_t *p, int status, const char *message,
                        const char *field) {
  api_failure_t f = {.status = status, .code = api_code_for_status(status), .message = message, .field = field};
  fail(req, p, &f);
}

/* A database failure through the presenter. 1 if r failed. */
static int db_failed(http_req_t *req, const book_presenter_t *p, const db_result_t *r) {
  if (r->ok) return 0;
  if (!p->failed) return api_db_failed(req, r);
  api_failure_t f;
  char msg[400];
  api_db_failure(r, &f, msg, sizeof msg);
  p->failed(req, &f);
  return 1;
}

/* The versioned write's row: 1 stale (read and decide again), 0 written (*w), -1 answered. */
static int written(http_req_t *req, const book_presenter_t *p, const db_result_t *r, int *attempts, api_write_t *w) {
  if (db_failed(req, p, r)) return -1;
  if (api_db_write(req, r, w) != 0) return -1;
  if (!w->stale) return 0;
  if (++*attempts < BOOK_ATTEMPTS) return 1;
  api_failure_t f = {.status = 409, .code = E_CONFLICT,
                     .message = "the host's calendar is changing quickly; try again", .retry_after = 1};
  fail(req, p, &f);
  return -1;
}

/* The engine's inputs for a window of slot starts. fresh: after a stale write, the cached
 * configuration is not trusted. */
static void query_inputs(http_req_t *req, const book_target_t *t, int64_t from, int64_t to, const char *exclude_res,
                         int fresh, inputs_cb cb) {
  inputs_query_t q = {.event_type_id = t->event_type_id, .slug = t->slug, .event_slug = t->event_slug,
                      .from = from, .to = to, .exclude_reservation = exclude_res, .fresh = fresh, .assign = 1};
  inputs_fetch(req, &q, cb);
}

/* An inputs_fetch that failed: the database's answer, or undecodable data (500). */
static void inputs_failed(http_req_t *req, const book_presenter_t *p, const db_result_t *err) {
  if (err) db_failed(req, p, err);
  else {
    log_req(req, LOG_ERROR, "booking: unreadable engine inputs", NULL);
    fail_simple(req, p, 500, "internal error", NULL);
  }
}

/* ------------------------------------------------------------------ deciding */

enum { DECIDE_OK = 0, DECIDE_INVALID = 400, DECIDE_TAKEN = 409 };

typedef struct {
  int verdict;     /* DECIDE_* */
  const char *why; /* message for 400/409 */
  int64_t end;     /* for DECIDE_OK */
  json_t *next;    /* for DECIDE_TAKEN: up to 3 next free slots [{start, end}] (new reference) */
} decision_t;

static json_t *rfc3339_in(const tz_t *tz, int64_t t) {
  char out[48];
  tz_format_rfc3339(tz, t, out, sizeof out);
  return json_string(out);
}

/* Is `start` (with `seats`) bookable per the engine? busy_only: only conflicts with busy time
 * count (a host confirming a request). invitee_tz formats the next free slots. */
/* The engine's reason (SLOT_*) for one start on one host's inputs, with its seats left. */
static int judge(const sched_schedule_t *sc, const sched_event_t *e, sched_busy_t *busy, size_t nbusy, int64_t start,
                 int busy_only, int *seats_left) {
  int reason = SLOT_OUTSIDE_HOURS;
  int64_t ref = 0;
  *seats_left = 0;
  if (busy_only) return sched_conflict(e, sc->tz, busy, nbusy, start, seats_left, &ref);
  sched_slots_t one;
  sched_compute(sc, e, busy, nbusy, (int64_t)time(NULL), start, start + 1, 1, &one);
  for (size_t i = 0; i < one.n; i++)
    if (one.v[i].start == start) {
      reason = one.v[i].reason;
      *seats_left = one.v[i].seats_left;
    }
  sched_slots_free(&one);
  return reason;
}

/* The verdict and message of a reason (next slots are the caller's). */
static void verdict_of(int reason, int seats_left, decision_t *d) {
  switch (reason) {
    case SLOT_FREE: d->verdict = DECIDE_OK; break;
    case SLOT_OUTSIDE_HOURS:
      d->verdict = DECIDE_INVALID;
      d->why = "start_time is not a bookable time for this event type (outside working hours or off the slot grid)";
      break;
    case SLOT_NOTICE:
      d->verdict = DECIDE_INVALID;
      d->why = "start_time is too soon: the event type requires more notice";
      break;
    case SLOT_HORIZON:
      d->verdict = DECIDE_INVALID;
      d->why = "start_time is too far in the future for this event type";
      break;
    case SLOT_NO_SEATS:
      d->verdict = DECIDE_TAKEN;
      d->why = seats_left > 0 ? "not enough seats left at this time" : "time slot taken";
      break;
    case SLOT_LIMIT_DAY:
    case SLOT_LIMIT_WEEK:
      d->verdict = DECIDE_TAKEN;
      d->why = "the host's booking limit for this period is reached";
      break;
    default: d->verdict = DECIDE_TAKEN; d->why = "time slot taken";
  }
}

static void decide(inputs_t *in, int64_t start, int seats, int busy_only, const char *invitee_tz, decision_t *d) {
  memset(d, 0, sizeof *d);
  sched_event_t *e = &in->event;
  d->end = start + e->duration;
  int seats_left;
  int reason = judge(&in->schedule, e, in->busy, in->nbusy, start, busy_only, &seats_left);
  if (reason == SLOT_FREE && seats_left < seats) reason = SLOT_NO_SEATS;
  verdict_of(reason, seats_left, d);
  if (d->verdict == DECIDE_TAKEN && !busy_only) { /* up to three next free slots */
    const tz_t *itz = tz_get(invitee_tz);
    if (!itz) itz = tz_get("UTC");
    sched_slots_t next;
    sched_compute(&in->schedule, e, in->busy, in->nbusy, (int64_t)time(NULL), start + 1, start + BOOK_NEXT_WINDOW, 0,
                  &next);
    d->next = json_array();
    for (size_t i = 0; i < next.n && json_array_size(d->next) < 3; i++)
      if (next.v[i].seats_left >= seats)
        json_array_append_new(d->next, json_pack("{s:o, s:o}", "start", rfc3339_in(itz, next.v[i].start), "end",
                                                 rfc3339_in(itz, next.v[i].end)));
    sched_slots_free(&next);
  }
}

/* A refusal: 400 naming start_time, or 409 with the next free slots. Frees d->next. */
static void refuse(http_req_t *req, const book_presenter_t *p, decision_t *d) {
  api_failure_t f = {.status = d->verdict, .code = api_code_for_status(d->verdict), .message = d->why};
  if (d->verdict == DECIDE_INVALID) f.field = "start_time";
  else f.next_slots = d->next ? d->next : json_array();
  fail(req, p, &f);
  if (f.next_slots != d->next) json_decref(f.next_slots);
  json_decref(d->next);
  d->next = NULL;
}

/* ------------------------------------------------------------------ organisation event types */

/* Is `start` bookable on an org type, and by whom? Round robin: the requested host (index
 * `want`, or -1 for any) or the one sched_rr_pick chooses among the free ones (never the host
 * index `skip`: a reassignment's current host), in chosen[0];
 * collective: every host must be free (chosen = all). *nchosen = 0 unless DECIDE_OK. */
static void decide_team(inputs_t *in, int64_t start, int seats, int want, int skip, const char *invitee_tz,
                        decision_t *d, int *chosen, size_t *nchosen) {
  memset(d, 0, sizeof *d);
  *nchosen = 0;
  d->end = start + in->event.duration;
  size_t n = in->nhosts;
  sched_rr_candidate_t *cand = xcalloc(n ? n : 1, sizeof *cand);
  int *idx = xcalloc(n ? n : 1, sizeof *idx);
  size_t ncand = 0;
  int any_taken = 0, first_reason = SLOT_OUTSIDE_HOURS, first_left = 0;
  for (size_t i = 0; i < n; i++) {
    inputs_host_t *h = &in->hosts[i];
    int left;
    int reason = judge(&h->schedule, &in->event, h->busy, h->nbusy, start, 0, &left);
    if (reason == SLOT_FREE && left < seats) reason = SLOT_NO_SEATS;
    if (i == 0 || (first_reason != SLOT_FREE && reason != SLOT_OUTSIDE_HOURS)) {
      first_reason = reason;
      first_left = left;
    }
    if (reason != SLOT_FREE) {
      any_taken |= reason != SLOT_OUTSIDE_HOURS && reason != SLOT_NOTICE && reason != SLOT_HORIZON;
      continue;
    }
    if ((want >= 0 && (int)i != want) || (int)i == skip) continue;
    cand[ncand] = (sched_rr_candidate_t){.user_id = h->host_id, .recent_count = h->recent,
                                         .last_assigned = h->last_assigned, .priority = h->priority,
                                         .weight = h->weight,
                                         .partly_filled = in->event.seats > 1 && left < in->event.seats && left > 0};
    idx[ncand++] = (int)i;
  }
  if (in->team == TEAM_COLLECTIVE && ncand == n && n > 0) {
    for (size_t i = 0; i < n; i++) chosen[i] = (int)i;
    *nchosen = n;
  } else if (in->team == TEAM_ROUND_ROBIN && ncand > 0) {
    chosen[0] = idx[sched_rr_pick(cand, ncand)];
    *nchosen = 1;
  }
  free(cand);
  free(idx);
  if (*nchosen) {
    d->verdict = DECIDE_OK;
    return;
  }
  if (n == 0) first_reason = SLOT_OUTSIDE_HOURS;
  else if (any_taken || want >= 0) first_reason = first_reason == SLOT_NO_SEATS ? SLOT_NO_SEATS : SLOT_BOOKED;
  verdict_of(first_reason, first_left, d);
  if (d->verdict == DECIDE_OK) { /* free for someone, not for the requested host / every host */
    d->verdict = DECIDE_TAKEN;
    d->why = want >= 0 ? "the requested host is not free at this time" : "time slot taken";
  }
  if (d->verdict == DECIDE_TAKEN) {
    const tz_t *itz = tz_get(invitee_tz);
    if (!itz) itz = tz_get("UTC");
    sched_team_slots_t next;
    inputs_team_slots(in, (int64_t)time(NULL), start + 1, start + BOOK_NEXT_WINDOW, want, seats, &next);
    d->next = json_array();
    for (size_t i = 0; i < next.n && json_array_size(d->next) < 3; i++)
      json_array_append_new(d->next, json_pack("{s:o, s:o}", "start", rfc3339_in(itz, next.v[i].start), "end",
                                               rfc3339_in(itz, next.v[i].end)));
    sched_team_slots_free(&next);
  }
}

/* ------------------------------------------------------------------ create */

typedef struct {
  book_request_t r;
  const book_presenter_t *p;
  int attempts;
  int wide; /* reading two weeks, for next free slots after a refusal */
  char cancel_token[65], reschedule_token[65], confirm_token[65];
  int64_t series_to; /* a recurring booking: the read must reach its last occurrence */
  int nseries;       /* occurrences written (0: a single booking) */
  char (*tokens)[3][65]; /* a series' cancel, reschedule and confirm tokens per occurrence (arena) */
} create_t;

static void create_read(http_req_t *req);

/* Answers against the event type's questions: the validated object, or NULL after responding. */
static json_t *check_answers(http_req_t *req, const book_presenter_t *p, json_t *questions, json_t *answers) {
  json_t *out = json_object();
  char field[96];
  const char *key;
  json_t *val;
  json_object_foreach(answers, key, val) {
    int known = 0;
    size_t i;
    json_t *q;
    json_array_foreach(questions, i, q) known |= strcmp(json_string_value(json_object_get(q, "id")), key) == 0;
    if (!known) {
      snprintf(field, sizeof field, "answers.%.64s", key);
      json_decref(out);
      fail_simple(req, p, 400, "answers names a question this event type does not have", field);
      return NULL;
    }
  }
  size_t i;
  json_t *q;
  json_array_foreach(questions, i, q) {
    const char *id = json_string_value(json_object_get(q, "id"));
    const char *type = json_string_value(json_object_get(q, "type"));
    int required = json_is_true(json_object_get(q, "required"));
    json_t *a = json_object_get(answers, id);
    snprintf(field, sizeof field, "answers.%s", id);
    const char *why = NULL;
    if (!a || json_is_null(a) || (json_is_string(a) && json_string_length(a) == 0) ||
        (strcmp(type, "checkbox") == 0 && json_is_false(a))) {
      if (required) why = "this question requires an answer";
      if (!why && a && !json_is_null(a)) json_object_set(out, id, a);
    } else if (strcmp(type, "checkbox") == 0) {
      if (!json_is_boolean(a)) why = "must be true or false";
    } else if (!json_is_string(a) || json_string_length(a) > 5000) {
      why = "must be a string of at most 5000 characters";
    } else if (strcmp(type, "email") == 0 && !api_valid_email(json_string_value(a))) {
      why = "must be an email address";
    } else if (strcmp(type, "phone") == 0 && !api_valid_phone(json_string_value(a))) {
      why = "must be a phone number";
    } else if (strcmp(type, "select") == 0) {
      int ok = 0;
      size_t k;
      json_t *o;
      json_array_foreach(json_object_get(q, "options"), k, o) ok |= json_equal(o, a);
      if (!ok) why = "must be one of the question's options";
    }
    if (why) {
      json_decref(out);
      fail_simple(req, p, 400, why, field);
      return NULL;
    }
    if (a && !json_is_null(a) && !json_object_get(out, id)) json_object_set(out, id, a);
  }
  return out;
}

static void confirmation_number(char out[9]) {
  static const char alphabet[] = CONFIRMATION_ALPHABET;
  for (int i = 0; i < 8; i++) out[i] = alphabet[random_below(sizeof alphabet - 1)];
  out[8] = 0;
}

/* A series' bookings with each one's tokens (shown this once), as JSON text (malloc'd). */
static char *series_with_tokens(const create_t *c, const char *body, size_t len) {
  json_t *arr = json_loadb(body, len, 0, NULL);
  size_t i;
  json_t *b;
  json_array_foreach(arr, i, b) {
    if (i >= (size_t)c->nseries) break;
    json_object_set_new(b, "cancel_token", json_string(c->tokens[i][0]));
    json_object_set_new(b, "reschedule_token", json_string(c->tokens[i][1]));
  }
  char *text = json_is_array(arr) ? json_dumps(arr, JSON_COMPACT) : NULL;
  json_decref(arr);
  return text;
}

static void on_created(void *data, const db_result_t *r) {
  http_req_t *req = data;
  create_t *c = api_ctx(req)->core;
  api_write_t w;
  switch (written(req, c->p, r, &c->attempts, &w)) {
    case 1: create_read(req); /* the host changed meanwhile: decide again */
    /* fall through */
    case -1: return;
  }
  if (c->nseries) {
    char *text = series_with_tokens(c, w.body, w.len);
    if (!text) {
      fail_simple(req, c->p, 500, "internal error", NULL);
      return;
    }
    book_result_t res = {text, strlen(text), NULL, NULL, "create", 1};
    c->p->done(req, &res);
    free(text);
    return;
  }
  book_result_t res = {w.body, w.len, c->cancel_token, c->reschedule_token, "create", 0};
  note_booking(req, w.body, w.len);
  c->p->done(req, &res);
}

/* notify: false is the host's to ask: the caller must be the event type's host (or one of an org
 * type's hosts), or act for its org (an org key of that org). */
static int may_silence(http_req_t *req, const inputs_t *in) {
  api_ctx_t *ctx = api_ctx(req);
  if (in->org_id && ctx->key_org_id == in->org_id) return 1;
  if (!ctx->user_id) return 0;
  if (ctx->user_id == in->host_id) return 1;
  for (size_t i = 0; i < in->nhosts; i++)
    if (in->hosts[i].host_id == ctx->user_id) return 1;
  return 0;
}

/* The links' tokens the booking's first mails need, sealed with SLOTD_SECRET_KEY (the outbox
 * row keeps them until it is sent), or NULL when e-mail is off. malloc'd. */
static char *mail_secrets(http_req_t *req, const create_t *c, int pending) {
  const config_t *cfg = api_app(req)->cfg;
  if (!cfg->smtp_url || !cfg->has_secret_key) return NULL;
  char plain[256];
  int n = snprintf(plain, sizeof plain, "{\"cancel\":\"%s\",\"reschedule\":\"%s\"%s%s%s}", c->cancel_token,
                   c->reschedule_token, pending ? ",\"confirm\":\"" : "", pending ? c->confirm_token : "",
                   pending ? "\"" : "");
  return crypto_seal(cfg->secret_key, plain, (size_t)n);
}

/* "{"a","b",...}": a text[] parameter of n elements (NULL elements as NULL). The values here are
 * hex, base64 or URLs of our own: quoted, with " and \ escaped all the same. */
static void pg_text_array(buf_t *b, char *const *v, int n) {
  buf_putc(b, '{');
  for (int i = 0; i < n; i++) {
    if (i) buf_putc(b, ',');
    if (!v[i]) {
      buf_puts(b, "NULL");
      continue;
    }
    buf_putc(b, '"');
    for (const char *p = v[i]; *p; p++) {
      if (*p == '"' || *p == '\\') buf_putc(b, '\\');
      buf_putc(b, *p);
    }
    buf_putc(b, '"');
  }
  buf_putc(b, '}');
}

/* The starts of a series: the first at the requested instant, each next one `interval` weeks or
 * months later at the same wall-clock time in the invitee's zone (so a series keeps its hour
 * across a DST change). 0, or -1 when a monthly series meets a month without that day. */
static int series_starts(const inputs_t *in, int64_t start, const char *zone, int count, int64_t *out) {
  const tz_t *itz = tz_get(zone);
  if (!itz) itz = tz_get("UTC");
  int64_t local = start + tz_offset(itz, start), day = sched_day_of(local), sod = local - day * 86400;
  char iso[48];
  time_format_utc(day * 86400, iso, sizeof iso);
  int y = 0, m = 0, d = 0;
  if (sscanf(iso, "%d-%d-%d", &y, &m, &d) != 3) return -1;
  for (int k = 0; k < count; k++) {
    int64_t dk;
    if (in->rec_freq == INPUTS_WEEKLY) {
      dk = day + (int64_t)k * in->rec_interval * 7;
    } else {
      int months = (m - 1) + k * in->rec_interval;
      int yk = y + months / 12, mk = months % 12 + 1;
      if (d > time_days_in_month(yk, mk)) return -1;
      dk = time_days_from_civil(yk, mk, d);
    }
    out[k] = tz_local_to_utc(itz, dk * 86400 + sod);
  }
  return 0;
}

/* A recurring booking: every occurrence decided by the engine on one read, then written whole
 * by api.booking_create_series, or refused naming the dates that are not free. Consumes in and
 * answers. */
static void series_create(http_req_t *req, create_t *c, inputs_t *in, json_t *answers, int count) {
  int64_t starts[BOOK_MAX_SERIES], ends[BOOK_MAX_SERIES];
  if (series_starts(in, c->r.start, c->r.timezone, count, starts) != 0) {
    inputs_free(in);
    json_decref(answers);
    fail_simple(req, c->p, 400, "a monthly series cannot start on a day some of its months do not have",
                "start_time");
    return;
  }
  if (!c->series_to && starts[count - 1] > c->r.start) {
    c->series_to = starts[count - 1] + 1; /* read once more, reaching the last occurrence */
    inputs_free(in);
    json_decref(answers);
    create_read(req);
    return;
  }
  buf_t refused = BUF_INIT;
  const tz_t *itz = tz_get(c->r.timezone);
  for (int k = 0; k < count; k++) {
    int left; /* the engine's whole verdict on this start: hours, grid, notice, limits, busy time, seats */
    int reason = judge(&in->schedule, &in->event, in->busy, in->nbusy, starts[k], 0, &left);
    ends[k] = starts[k] + in->event.duration;
    if (reason != SLOT_FREE || left < c->r.seats) {
      char day[11];
      time_format_utc(starts[k] + tz_offset(itz ? itz : tz_get("UTC"), starts[k]), day, sizeof day);
      buf_printf(&refused, "%s%.10s", refused.len ? ", " : "", day);
    }
  }
  if (refused.len) {
    inputs_free(in);
    json_decref(answers);
    char msg[512];
    snprintf(msg, sizeof msg, "not every occurrence of the series is free: %s", refused.data);
    buf_free(&refused);
    api_failure_t f = {.status = 409, .code = E_CONFLICT, .message = msg};
    fail(req, c->p, &f);
    return;
  }
  buf_free(&refused);
  int pending = in->requires_confirmation;
  c->nseries = count;
  c->tokens = arena_calloc(req->arena, (size_t)count * sizeof *c->tokens);
  char *nums[BOOK_MAX_SERIES], *ch[BOOK_MAX_SERIES], *rh[BOOK_MAX_SERIES], *fh[BOOK_MAX_SERIES],
      *curl[BOOK_MAX_SERIES], *durl[BOOK_MAX_SERIES], *mail[BOOK_MAX_SERIES];
  buf_t st = BUF_INIT, en = BUF_INIT;
  const char *base = api_app(req)->cfg->public_url;
  for (int k = 0; k < count; k++) {
    create_t one; /* mail_secrets reads one occurrence's tokens */
    for (int t = 0; t < 3; t++) crypto_token_hex(32, c->tokens[k][t]);
    memcpy(one.cancel_token, c->tokens[k][0], 65);
    memcpy(one.reschedule_token, c->tokens[k][1], 65);
    memcpy(one.confirm_token, c->tokens[k][2], 65);
    nums[k] = arena_alloc(req->arena, 9);
    confirmation_number(nums[k]);
    ch[k] = arena_alloc(req->arena, 65);
    rh[k] = arena_alloc(req->arena, 65);
    fh[k] = arena_alloc(req->arena, 65);
    crypto_sha256_hex(c->tokens[k][0], 64, ch[k]);
    crypto_sha256_hex(c->tokens[k][1], 64, rh[k]);
    crypto_sha256_hex(c->tokens[k][2], 64, fh[k]);
    curl[k] = pending ? arena_printf(req->arena, "%s/api/bookings/%s/confirm", base, c->tokens[k][2]) : NULL;
    durl[k] = pending ? arena_printf(req->arena, "%s/api/bookings/%s/decline", base, c->tokens[k][2]) : NULL;
    char *sealed = mail_secrets(req, &one, pending);
    mail[k] = sealed ? arena_strdup(req->arena, sealed) : NULL;
    free(sealed);
    if (!pending) fh[k] = NULL;
    buf_printf(&st, "%s%" PRId64, k ? "," : "{", starts[k]);
    buf_printf(&en, "%s%" PRId64, k ? "," : "{", ends[k]);
  }
  buf_putc(&st, '}');
  buf_putc(&en, '}');
  buf_t a_num = BUF_INIT, a_ch = BUF_INIT, a_rh = BUF_INIT, a_fh = BUF_INIT, a_cu = BUF_INIT, a_du = BUF_INIT,
        a_mail = BUF_INIT;
  pg_text_array(&a_num, nums, count);
  pg_text_array(&a_ch, ch, count);
  pg_text_array(&a_rh, rh, count);
  pg_text_array(&a_fh, fh, count);
  pg_text_array(&a_cu, curl, count);
  pg_text_array(&a_du, durl, count);
  pg_text_array(&a_mail, mail, count);
  char host[24], version[24], et[24], seats[16];
  snprintf(host, sizeof host, "%" PRId64, in->host_id);
  snprintf(version, sizeof version, "%" PRId64, in->version);
  snprintf(et, sizeof et, "%" PRId64, in->event.id);
  snprintf(seats, sizeof seats, "%d", c->r.seats);
  const char *seated = in->event.seats > 1 ? "true" : "false";
  inputs_free(in);
  char *answers_text = json_dumps(answers, JSON_COMPACT);
  json_decref(answers);
  const char *params[23] = {host, version, et, st.data, en.data, pending ? "pending" : "confirmed", seats, seated,
                            c->r.name, c->r.email, c->r.timezone, c->r.notes, c->r.phone, answers_text, a_num.data,
                            a_ch.data, a_rh.data, pending ? a_fh.data : NULL, c->r.reservation_uid,
                            pending ? a_cu.data : NULL, pending ? a_du.data : NULL, c->r.quiet ? "false" : "true",
                            mail[0] ? a_mail.data : NULL};
  api_query(req, "booking_create_series", 23, params, on_created);
  free(answers_text);
  buf_t *all[] = {&st, &en, &a_num, &a_ch, &a_rh, &a_fh, &a_cu, &a_du, &a_mail};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) buf_free(all[i]);
}

static void on_create_inputs(http_req_t *req, inputs_t *got, const db_result_t *err) {
  create_t *c = api_ctx(req)->core;
  if (!got) {
    inputs_failed(req, c->p, err);
    return;
  }
  inputs_t in = *got; /* ours to free */
  json_t *questions = json_loads(in.questions ? in.questions : "[]", 0, NULL);
  json_t *none = json_object();
  json_t *answers = check_answers(req, c->p, questions ? questions : none, c->r.answers ? c->r.answers : none);
  json_decref(none);
  json_decref(questions);
  if (!answers) {
    inputs_free(&in);
    return;
  }
  if (c->r.seats > in.event.seats) {
    inputs_free(&in);
    json_decref(answers);
    fail_simple(req, c->p, 400, "seats exceeds the event type's capacity", "seats");
    return;
  }
  if (inputs_pick_duration(&in, c->r.duration) != 0) {
    inputs_free(&in);
    json_decref(answers);
    fail_simple(req, c->p, 400, "duration_minutes is not one of the event type's lengths", "duration_minutes");
    return;
  }
  int want = -1; /* the requested host's index (org types), -1: any */
  if (c->r.preferred_host) {
    for (size_t i = 0; i < in.nhosts; i++)
      if (in.hosts[i].host_id == c->r.preferred_host) want = (int)i;
    if (in.team ? want < 0 : c->r.preferred_host != in.host_id) {
      inputs_free(&in);
      json_decref(answers);
      fail_simple(req, c->p, 400, "host_id is not a host of this event type", "host_id");
      return;
    }
  }
  int count = 1; /* occurrences: a recurring type books its series */
  if (in.rec_freq) {
    count = c->r.recurrence_count ? c->r.recurrence_count : in.rec_count;
    const char *why = in.team ? "recurring organisation event types are not supported"
                      : count > in.rec_count ? "recurrence_count exceeds the event type's occurrences"
                                             : NULL;
    if (why) {
      inputs_free(&in);
      json_decref(answers);
      fail_simple(req, c->p, 400, why, "recurrence_count");
      return;
    }
  } else if (c->r.recurrence_count > 1) {
    inputs_free(&in);
    json_decref(answers);
    fail_simple(req, c->p, 400, "this event type does not recur", "recurrence_count");
    return;
  }
  if (in.team && c->r.reservation_uid) {
    inputs_free(&in);
    json_decref(answers);
    fail_simple(req, c->p, 400, "holds are not supported for organisation event types", "reservation_uid");
    return;
  }
  if (c->r.quiet && !may_silence(req, &in)) {
    inputs_free(&in);
    json_decref(answers);
    fail_simple(req, c->p, 403, "only the event type's host may book without notifying the invitee", "notify");
    return;
  }
  if (count > 1) {
    series_create(req, c, &in, answers, count);
    return;
  }
  decision_t d;
  int *chosen = xcalloc(in.nhosts ? in.nhosts : 1, sizeof *chosen);
  size_t nchosen = 0;
  if (in.team) decide_team(&in, c->r.start, c->r.seats, want, -1, c->r.timezone, &d, chosen, &nchosen);
  else decide(&in, c->r.start, c->r.seats, 0, c->r.timezone, &d);
  if (d.verdict != DECIDE_OK) free(chosen);
  if (d.verdict == DECIDE_TAKEN && !c->wide) {
    /* The first read covers only the requested time; a refusal reads two weeks to offer the
     * next free slots (and decides again on that fresh data). */
    json_decref(d.next);
    inputs_free(&in);
    json_decref(answers);
    c->wide = 1;
    create_read(req);
    return;
  }
  if (d.verdict != DECIDE_OK) {
    inputs_free(&in);
    json_decref(answers);
    refuse(req, c->p, &d);
    return;
  }
  int pending = in.requires_confirmation;
  char num[9], ch[65], rh[65], fh[65];
  confirmation_number(num);
  crypto_sha256_hex(c->cancel_token, 64, ch);
  crypto_sha256_hex(c->reschedule_token, 64, rh);
  char host[24], version[24], et[24], start[24], end[24], seats[16];
  buf_t hosts = BUF_INIT, versions = BUF_INIT; /* a collective booking's hosts and their versions */
  if (in.team == TEAM_ROUND_ROBIN) {
    in.host_id = in.hosts[chosen[0]].host_id;
    in.version = in.hosts[chosen[0]].version;
  } else if (in.team == TEAM_COLLECTIVE) {
    buf_putc(&hosts, '{');
    buf_putc(&versions, '{');
    for (size_t i = 0; i < nchosen; i++) { /* ascending ids: the configuration's order */
      buf_printf(&hosts, "%s%" PRId64, i ? "," : "", in.hosts[chosen[i]].host_id);
      buf_printf(&versions, "%s%" PRId64, i ? "," : "", in.hosts[chosen[i]].version);
    }
    buf_putc(&hosts, '}');
    buf_putc(&versions, '}');
  }
  free(chosen);
  int collective = in.team == TEAM_COLLECTIVE;
  snprintf(host, sizeof host, "%" PRId64, in.host_id);
  snprintf(version, sizeof version, "%" PRId64, in.version);
  snprintf(et, sizeof et, "%" PRId64, in.event.id);
  snprintf(start, sizeof start, "%" PRId64, c->r.start);
  snprintf(end, sizeof end, "%" PRId64, d.end);
  snprintf(seats, sizeof seats, "%d", c->r.seats);
  const char *seated = in.event.seats > 1 ? "true" : "false";
  inputs_free(&in);
  char *answers_text = json_dumps(answers, JSON_COMPACT);
  json_decref(answers);
  char confirm_url[600], decline_url[600];
  if (pending) { /* the host's links, delivered with the booking.requested event */
    crypto_sha256_hex(c->confirm_token, 64, fh);
    const char *base = api_app(req)->cfg->public_url;
    snprintf(confirm_url, sizeof confirm_url, "%s/api/bookings/%s/confirm", base, c->confirm_token);
    snprintf(decline_url, sizeof decline_url, "%s/api/bookings/%s/decline", base, c->confirm_token);
  }
  char *sealed = mail_secrets(req, c, pending);
  const char *params[23] = {collective ? hosts.data : host, collective ? versions.data : version, et, start, end,
                            pending ? "pending" : "confirmed", seats, seated, c->r.name, c->r.email, c->r.timezone,
                            c->r.notes, c->r.phone, answers_text, num, ch, rh, pending ? fh : NULL,
                            c->r.reservation_uid, pending ? confirm_url : NULL, pending ? decline_url : NULL,
                            c->r.quiet ? "false" : "true", sealed};
  api_query(req, collective ? "booking_create_team" : "booking_create", 23, params, on_created);
  free(sealed);
  buf_free(&hosts);
  buf_free(&versions);
  free(answers_text);
}

static void create_read(http_req_t *req) {
  create_t *c = api_ctx(req)->core;
  int64_t to = c->r.start + (c->wide ? BOOK_NEXT_WINDOW : 1);
  if (c->series_to > to) to = c->series_to;
  query_inputs(req, &c->r.target, c->r.start, to, c->r.reservation_uid, c->attempts > 0, on_create_inputs);
}

static const char *arena_dup(http_req_t *req, const char *s) { return s ? arena_strdup(req->arena, s) : NULL; }

void book_create(http_req_t *req, const book_request_t *r, const book_presenter_t *p) {
  create_t *c = arena_calloc(req->arena, sizeof *c);
  c->r = *r;
  c->p = p;
  c->r.target.slug = arena_dup(req, r->target.slug);
  c->r.target.event_slug = arena_dup(req, r->target.event_slug);
  c->r.name = arena_dup(req, r->name);
  char *email = arena_strdup(req->arena, r->email);
  api_email_fold(email);
  c->r.email = email;
  c->r.timezone = arena_dup(req, r->timezone ? r->timezone : "UTC");
  c->r.notes = r->notes && *r->notes ? arena_dup(req, r->notes) : NULL;
  c->r.phone = arena_dup(req, r->phone);
  c->r.reservation_uid = arena_dup(req, r->reservation_uid);
  if (c->r.seats < 1) c->r.seats = 1;
  crypto_token_hex(32, c->cancel_token);
  crypto_token_hex(32, c->reschedule_token);
  crypto_token_hex(32, c->confirm_token);
  api_ctx(req)->core = c;
  create_read(req);
}

/* ------------------------------------------------------------------ changes */

typedef struct {
  book_change_t c;
  const book_presenter_t *p;
  int attempts;
  int rebook;                                /* a reschedule that makes a new booking */
  char cancel_token[65], reschedule_token[65], confirm_token[65]; /* the new booking's (rebook) */
} change_t;

static void change_read(http_req_t *req);

static void on_changed(void *data, const db_result_t *r) {
  http_req_t *req = data;
  change_t *t = api_ctx(req)->core;
  api_write_t w;
  switch (written(req, t->p, r, &t->attempts, &w)) {
    case 1: change_read(req);
    /* fall through */
    case -1: return;
  }
  book_result_t res = {w.body, w.len, t->rebook ? t->cancel_token : NULL, t->rebook ? t->reschedule_token : NULL,
                       t->c.action};
  note_booking(req, w.body, w.len);
  t->p->done(req, &res);
}

/* The new booking of a rebook: its tokens (shown once; stored as hashes and, for its first
 * mails, sealed), a confirmation number, and the old booking's cancellation with the link. */
static void rebook_write(http_req_t *req, change_t *t, const char *version, int64_t start, int64_t end,
                         int pending) {
  char st[24], en[24], num[9], ch[65], rh[65], fh[65];
  snprintf(st, sizeof st, "%" PRId64, start);
  snprintf(en, sizeof en, "%" PRId64, end);
  confirmation_number(num);
  crypto_sha256_hex(t->cancel_token, 64, ch);
  crypto_sha256_hex(t->reschedule_token, 64, rh);
  crypto_sha256_hex(t->confirm_token, 64, fh);
  create_t tokens; /* mail_secrets reads the tokens from a create_t */
  memcpy(tokens.cancel_token, t->cancel_token, sizeof tokens.cancel_token);
  memcpy(tokens.reschedule_token, t->reschedule_token, sizeof tokens.reschedule_token);
  memcpy(tokens.confirm_token, t->confirm_token, sizeof tokens.confirm_token);
  char *sealed = mail_secrets(req, &tokens, pending);
  const char *params[12] = {t->c.booking_id, version, st, en, t->c.new_tz, t->c.reason, t->c.by, num, ch, rh, fh,
                            sealed};
  api_query(req, "booking_rebook", 12, params, on_changed);
  free(sealed);
}

static void on_change_inputs(void *data, const db_result_t *r) {
  http_req_t *req = data;
  change_t *t = api_ctx(req)->core;
  if (db_failed(req, t->p, r)) return;
  inputs_t in;
  if (inputs_decode(r->res, &in) != 0) {
    fail_simple(req, t->p, 500, "internal error", NULL);
    return;
  }
  if (in.refusal) { /* api.transition_refusal: the one copy of the rule */
    api_failure_t f = {.status = 409, .code = E_CONFLICT, .message = in.refusal, .current_status = in.booking_status};
    fail(req, t->p, &f);
    inputs_free(&in);
    return;
  }
  if (in.booking_end > in.booking_start) in.event.duration = in.booking_end - in.booking_start; /* its own length */
  int reschedule = strcmp(t->c.action, "reschedule") == 0 || t->rebook;
  int pending = in.booking_status && strcmp(in.booking_status, "pending") == 0;
  int64_t start = reschedule ? t->c.new_start : in.booking_start;
  const char *itz = t->c.new_tz ? t->c.new_tz : in.booking_timezone;
  decision_t d;
  decide(&in, start, in.booking_seats, !reschedule, itz ? itz : "UTC", &d);
  int64_t version = in.version;
  inputs_free(&in);
  if (d.verdict != DECIDE_OK) {
    refuse(req, t->p, &d);
    return;
  }
  char v[24], st[24], en[24];
  snprintf(v, sizeof v, "%" PRId64, version);
  if (t->rebook) {
    rebook_write(req, t, v, start, d.end, pending);
  } else if (reschedule) {
    snprintf(st, sizeof st, "%" PRId64, start);
    snprintf(en, sizeof en, "%" PRId64, d.end);
    const char *params[5] = {t->c.booking_id, v, st, en, t->c.new_tz};
    api_query(req, "booking_reschedule", 5, params, on_changed);
  } else {
    const char *params[6] = {t->c.booking_id, t->c.user, "confirm", v, NULL, t->c.by};
    api_query(req, "booking_transition", 6, params, on_changed);
  }
}

static void change_read(http_req_t *req) {
  change_t *t = api_ctx(req)->core;
  /* The data window: the new time plus the next-free-slots window; for a confirmation none,
   * which means the booking's own time. */
  int confirm = strcmp(t->c.action, "confirm") == 0;
  char from[32], to[32], reach[2][24];
  time_format_utc(t->c.new_start, from, sizeof from);
  time_format_utc(t->c.new_start + BOOK_NEXT_WINDOW, to, sizeof to);
  inputs_reach_params(reach);
  const char *params[7] = {t->c.booking_id, t->c.user, t->rebook ? "reschedule" : t->c.action,
                           confirm ? NULL : from, confirm ? NULL : to, reach[0], reach[1]};
  api_query(req, "booking_inputs", 7, params, on_change_inputs);
}

static void on_got(void *data, const db_result_t *r) {
  http_req_t *req = data;
  change_t *t = api_ctx(req)->core;
  if (db_failed(req, t->p, r)) return;
  api_write_t w;
  if (api_db_write(req, r, &w) != 0) return;
  book_result_t res = {w.body, w.len, NULL, NULL, "get"};
  note_booking(req, w.body, w.len);
  t->p->done(req, &res);
}

void book_change(http_req_t *req, const book_change_t *c, const book_presenter_t *p) {
  change_t *t = arena_calloc(req->arena, sizeof *t);
  t->c = *c;
  t->p = p;
  t->c.user = arena_dup(req, c->user);
  t->c.reason = arena_dup(req, c->reason);
  t->c.new_tz = arena_dup(req, c->new_tz);
  api_ctx(req)->core = t;
  t->rebook = strcmp(c->action, "rebook") == 0;
  if (t->rebook) {
    crypto_token_hex(32, t->cancel_token);
    crypto_token_hex(32, t->reschedule_token);
    crypto_token_hex(32, t->confirm_token);
  }
  if (strcmp(c->action, "confirm") == 0 || strcmp(c->action, "reschedule") == 0 || t->rebook) {
    change_read(req);
  } else if (strcmp(c->action, "get") == 0) {
    const char *params[1] = {t->c.booking_id};
    api_query(req, "booking_get", 1, params, on_got);
  } else if (strcmp(c->action, "cancel_following") == 0) { /* this one and the series' later ones */
    const char *params[4] = {t->c.booking_id, t->c.user, t->c.reason, t->c.by};
    api_query(req, "booking_cancel_following", 4, params, on_changed);
  } else { /* these only free time: no engine decision, no version */
    const char *params[6] = {t->c.booking_id, t->c.user, t->c.action, NULL, t->c.reason, t->c.by};
    api_query(req, "booking_transition", 6, params, on_changed);
  }
}

/* ------------------------------------------------------------------ reassignment */

typedef struct {
  book_reassign_t r;
  const book_presenter_t *p;
  int attempts;
  int64_t event_type, start, host; /* the booking's, from booking_reassign_info */
  int seats;
  char tz[64];
} reassign_t;

static void reassign_read(http_req_t *req);

static void on_reassigned(void *data, const db_result_t *r) {
  http_req_t *req = data;
  reassign_t *t = api_ctx(req)->core;
  api_write_t w;
  switch (written(req, t->p, r, &t->attempts, &w)) {
    case 1: reassign_read(req);
    /* fall through */
    case -1: return;
  }
  book_result_t res = {w.body, w.len, NULL, NULL, "reassign"};
  note_booking(req, w.body, w.len);
  t->p->done(req, &res);
}

static void on_reassign_inputs(http_req_t *req, inputs_t *got, const db_result_t *err) {
  reassign_t *t = api_ctx(req)->core;
  if (!got) {
    inputs_failed(req, t->p, err);
    return;
  }
  inputs_t in = *got;
  if (in.team != TEAM_ROUND_ROBIN) {
    inputs_free(&in);
    fail_simple(req, t->p, 409, "only bookings of round-robin event types can be reassigned", NULL);
    return;
  }
  int want = -1, current = -1;
  for (size_t i = 0; i < in.nhosts; i++) {
    if (in.hosts[i].host_id == t->r.host) want = (int)i;
    if (in.hosts[i].host_id == t->host) current = (int)i;
  }
  if (t->r.host && (want < 0 || t->r.host == t->host)) {
    inputs_free(&in);
    fail_simple(req, t->p, 400,
                want < 0 ? "host_id is not a host of this event type" : "host_id already hosts this booking", "host_id");
    return;
  }
  decision_t d;
  int chosen[1] = {0};
  int *pick = xcalloc(in.nhosts ? in.nhosts : 1, sizeof *pick);
  size_t n = 0;
  decide_team(&in, t->start, t->seats, want, current, t->tz, &d, pick, &n);
  chosen[0] = pick[0];
  free(pick);
  json_decref(d.next); /* a reassignment keeps the time: no other times to offer */
  d.next = NULL;
  if (d.verdict != DECIDE_OK) {
    inputs_free(&in);
    fail_simple(req, t->p, 409, t->r.host ? "the requested host is not free at this time" : "no other host is free at this time",
                NULL);
    return;
  }
  char id[24], host[24], version[24], old[24], start[24];
  snprintf(id, sizeof id, "%" PRId64, t->r.booking_id);
  snprintf(host, sizeof host, "%" PRId64, in.hosts[chosen[0]].host_id);
  snprintf(version, sizeof version, "%" PRId64, in.hosts[chosen[0]].version);
  snprintf(old, sizeof old, "%" PRId64, t->host);
  snprintf(start, sizeof start, "%" PRId64, t->start); /* moved meanwhile: stale, decide again */
  inputs_free(&in);
  const char *params[5] = {id, host, version, old, start};
  api_query(req, "booking_reassign", 5, params, on_reassigned);
}

static void on_reassign_info(void *data, const db_result_t *r) {
  http_req_t *req = data;
  reassign_t *t = api_ctx(req)->core;
  if (db_failed(req, t->p, r)) return;
  const PGresult *res = r->res;
  if (PQntuples(res) < 1 || PQnfields(res) < 5) {
    fail_simple(req, t->p, 500, "internal error", NULL);
    return;
  }
  t->event_type = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
  t->start = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
  t->host = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
  t->seats = (int)strtol(PQgetvalue(res, 0, 3), NULL, 10);
  snprintf(t->tz, sizeof t->tz, "%s", PQgetvalue(res, 0, 4));
  inputs_query_t q = {.event_type_id = t->event_type, .include_secret = 1, .from = t->start, .to = t->start + 1,
                      .exclude_booking = t->r.booking_id, .fresh = t->attempts > 0, .assign = 1};
  inputs_fetch(req, &q, on_reassign_inputs);
}

static void reassign_read(http_req_t *req) {
  reassign_t *t = api_ctx(req)->core;
  char id[24];
  snprintf(id, sizeof id, "%" PRId64, t->r.booking_id);
  const char *params[3] = {id, t->r.user, t->r.key_org};
  api_query(req, "booking_reassign_info", 3, params, on_reassign_info);
}

void book_reassign(http_req_t *req, const book_reassign_t *r, const book_presenter_t *p) {
  reassign_t *t = arena_calloc(req->arena, sizeof *t);
  t->r = *r;
  t->r.user = arena_dup(req, r->user);
  t->r.key_org = arena_dup(req, r->key_org);
  t->p = p;
  api_ctx(req)->core = t;
  reassign_read(req);
}

/* ------------------------------------------------------------------ holds */

typedef struct {
  book_hold_t h;
  const book_presenter_t *p;
  int attempts;
} hold_t;

static void hold_read(http_req_t *req);

static void on_held(void *data, const db_result_t *r) {
  http_req_t *req = data;
  hold_t *h = api_ctx(req)->core;
  api_write_t w;
  switch (written(req, h->p, r, &h->attempts, &w)) {
    case 1: hold_read(req);
    /* fall through */
    case -1: return;
  }
  book_result_t res = {w.body, w.len, NULL, NULL, "hold"};
  h->p->done(req, &res);
}

static void on_hold_inputs(http_req_t *req, inputs_t *got, const db_result_t *err) {
  hold_t *h = api_ctx(req)->core;
  if (!got) {
    inputs_failed(req, h->p, err);
    return;
  }
  inputs_t in = *got; /* ours to free */
  if (in.team) { /* a hold would have to pick its host(s) now: not offered */
    inputs_free(&in);
    fail_simple(req, h->p, 400, "holds are not supported for organisation event types", "event_type_id");
    return;
  }
  if (inputs_pick_duration(&in, h->h.duration) != 0) {
    inputs_free(&in);
    fail_simple(req, h->p, 400, "the slot's length is not one of the event type's lengths", "duration");
    return;
  }
  if (h->h.minutes && api_ctx(req)->user_id != in.host_id) {
    inputs_free(&in);
    api_failure_t f = {.status = 403, .code = E_FORBIDDEN, .message = "only the host may choose a reservation's length",
                       .field = "minutes"};
    fail(req, h->p, &f);
    return;
  }
  decision_t d;
  decide(&in, h->h.start, 1, 0, "UTC", &d);
  char host[24], version[24], et[24], st[24], en[24], mins[16], client[96], per_host[16], total[16];
  api_ctx_t *ctx = api_ctx(req);
  int own = ctx->user_id && ctx->user_id == in.host_id;
  if (ctx->user_id) snprintf(client, sizeof client, "u:%" PRId64, ctx->user_id);
  else snprintf(client, sizeof client, "ip:%s", ctx->client_ip);
  snprintf(per_host, sizeof per_host, "%d", api_app(req)->cfg->holds_per_host);
  snprintf(total, sizeof total, "%d", api_app(req)->cfg->holds_per_client);
  snprintf(host, sizeof host, "%" PRId64, in.host_id);
  snprintf(version, sizeof version, "%" PRId64, in.version);
  snprintf(et, sizeof et, "%" PRId64, in.event.id);
  inputs_free(&in);
  if (d.verdict != DECIDE_OK) {
    refuse(req, h->p, &d);
    return;
  }
  snprintf(st, sizeof st, "%" PRId64, h->h.start);
  snprintf(en, sizeof en, "%" PRId64, d.end);
  snprintf(mins, sizeof mins, "%d", h->h.minutes ? h->h.minutes : BOOK_HOLD_MINUTES);
  const char *params[9] = {host, version, et, st, en, mins, own ? NULL : client, per_host, total};
  api_query(req, "reservation_create", 9, params, on_held);
}

static void hold_read(http_req_t *req) {
  hold_t *h = api_ctx(req)->core;
  query_inputs(req, &h->h.target, h->h.start, h->h.start + BOOK_NEXT_WINDOW, NULL, h->attempts > 0, on_hold_inputs);
}

void book_hold(http_req_t *req, const book_hold_t *hr, const book_presenter_t *p) {
  hold_t *h = arena_calloc(req->arena, sizeof *h);
  h->h = *hr;
  h->p = p;
  h->h.target.slug = arena_dup(req, hr->target.slug);
  h->h.target.event_slug = arena_dup(req, hr->target.event_slug);
  api_ctx(req)->core = h;
  hold_read(req);
}

/* ------------------------------------------------------------------ native presenters */

/* {"<key>": <body>, extra} where extra is ,"k":"v"... inserted into body's object. */
static void wrap(buf_t *out, const char *key, const char *body, size_t len, const char *extra) {
  buf_t compact = BUF_INIT;
  json_compact_append(&compact, body, len);
  buf_printf(out, "{\"%s\":", key);
  if (extra && compact.len > 1) {
    buf_append(out, compact.data, compact.len - 1); /* without its closing brace */
    buf_puts(out, extra);
    buf_putc(out, '}');
  } else {
    buf_append(out, compact.data ? compact.data : "null", compact.data ? compact.len : 4);
  }
  buf_putc(out, '}');
  buf_free(&compact);
}

static void native_created(http_req_t *req, const book_result_t *res) {
  buf_t b = BUF_INIT;
  if (res->series) { /* {"booking": the first, "bookings": all}, each with its own tokens */
    json_t *arr = json_loadb(res->body, res->len, 0, NULL);
    json_t *out = json_pack("{s:O, s:o}", "booking", json_array_get(arr, 0), "bookings", arr);
    http_set_header(req, "Cache-Control", "no-store");
    api_respond_json(req, 201, out);
    return;
  }
  char extra[200];
  /* The invitee's tokens: shown in this response only; the database has their hashes. */
  snprintf(extra, sizeof extra, ",\"cancel_token\":\"%s\",\"reschedule_token\":\"%s\"", res->cancel_token,
           res->reschedule_token);
  wrap(&b, "booking", res->body, res->len, extra);
  http_set_header(req, "Cache-Control", "no-store");
  api_respond_body(req, 201, b.data, b.len);
  buf_free(&b);
}

static void native_changed(http_req_t *req, const book_result_t *res) {
  if (strcmp(res->action, "cancel") == 0) { /* the seed's cancel answer */
    api_respond_body(req, 200, "{\"ok\":true}", 11);
    return;
  }
  if (strcmp(res->action, "get") == 0) {
    api_respond_pg(req, 200, res->body, res->len);
    return;
  }
  buf_t b = BUF_INIT;
  wrap(&b, "booking", res->body, res->len, NULL);
  api_respond_body(req, 200, b.data, b.len);
  buf_free(&b);
}

static void native_plain(http_req_t *req, const book_result_t *res) {
  api_respond_pg(req, strcmp(res->action, "hold") == 0 ? 201 : 200, res->body, res->len);
}

const book_presenter_t book_native_created = {native_created, NULL};
const book_presenter_t book_native_changed = {native_changed, NULL};
const book_presenter_t book_native_plain = {native_plain, NULL};
