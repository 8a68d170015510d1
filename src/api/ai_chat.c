/* ai_chat.c — POST /api/ai/chat, the booking assistant (seed 001, issue 15).
 *
 * One message: api.chat_open reads the page (its listed event types) and the conversation's
 * state; nlu_read() reads the message against the invitee's local today; the state is updated
 * (zone, event type, days and times asked for, a slot chosen, name and e-mail); then one of:
 *   - the free slots that match, from the slot engine (availability_slots): suggest_booking,
 *     or the nearest other free times when nothing matches;
 *   - a question: clarify (which event type; name and e-mail before booking);
 *   - a booking through the booking core (book_create): booked; a slot taken meanwhile leads
 *     back to suggestions;
 *   - none: small talk, or nothing usable, with what the assistant can do.
 * api.chat_save stores the state before the answer leaves, so any instance can take the next
 * message. The session id is a random secret the client holds; the database keeps its SHA-256.
 * A booking made in a conversation is kept in its state sealed with a key derived from that id
 * (like an Idempotency-Key's record), so the same slot asked again answers the same booking. */
#include "ai_chat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../assistant/chat.h"
#include "../assistant/nlu.h"
#include "../core/crypto.h"
#include "../core/log.h"
#include "../core/timeutil.h"
#include "../sched/slots.h"
#include "../sched/tzif.h"
#include "availability.h"
#include "book.h"
#include "query.h"
#include "respond.h"
#include "schedules.h"
#include "validate.h"

#define CHAT_MAX_CHARS 2000
#define CHAT_MAX_SLOTS 5      /* slots offered at once */
#define CHAT_PER_DAY 3        /* at most this many of them on one day while other days have some */
#define CHAT_LOOKAHEAD 14     /* days searched beyond those asked for (or from today) */
#define CHAT_MAX_TYPES 64     /* event types the matcher considers (a page lists fewer) */
#define CHAT_MAX_BOOKED 10    /* bookings a conversation remembers for replays */
#define CHAT_SEAL_INFO "slotd chat booking seal\n"

enum { MODE_PREFS, MODE_EARLIER, MODE_LATER };

typedef struct {
  const char *slug, *message;
  char sid[33], hash[65];
  json_t *page, *state; /* owned: released with the request */
  const char *kind, *host; /* "user" | "org"; the name the assistant speaks of */
  char owner[24];
  json_t *types;  /* page.event_types (borrowed) */
  json_t *et;     /* the conversation's event type (an entry of types), or NULL */
  const tz_t *tz;
  int64_t today;  /* the invitee's local civil day */
  nlu_t n;
  int understood; /* nlu_read's answer */
  int named;      /* the message named an event type (or several) */
  int mode;       /* MODE_*: "anything earlier/later?" */
  const char *prefix; /* a sentence said before the reply, or NULL */
  json_t *action; /* the answer's action (owned until sent) */
  char *reply;    /* the answer's message (arena) */
  int booked;     /* a booking was made by this message */
} chat_t;

static void release(void *j) { json_decref(j); }

/* ------------------------------------------------------------------ state */

static int64_t st_int(json_t *state, const char *key, int64_t dflt) {
  json_t *v = json_object_get(state, key);
  return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

static void st_set_int(json_t *state, const char *key, int64_t v) {
  if (v < 0) json_object_del(state, key);
  else json_object_set_new(state, key, json_integer(v));
}

static const char *st_str(json_t *state, const char *key) { return json_string_value(json_object_get(state, key)); }

/* The state's array under key ([] made when absent). */
static json_t *st_array(json_t *state, const char *key) {
  json_t *a = json_object_get(state, key);
  if (!json_is_array(a)) {
    a = json_array();
    json_object_set_new(state, key, a);
  }
  return a;
}

static json_t *type_by_id(chat_t *c, int64_t id) {
  size_t i;
  json_t *t;
  json_array_foreach(c->types, i, t) if (json_integer_value(json_object_get(t, "id")) == id) return t;
  return NULL;
}

static int64_t type_id(json_t *t) { return t ? (int64_t)json_integer_value(json_object_get(t, "id")) : -1; }
static const char *type_str(json_t *t, const char *k) { return json_string_value(json_object_get(t, k)); }
static int type_minutes(json_t *t) { return (int)json_integer_value(json_object_get(t, "duration_minutes")); }

/* ------------------------------------------------------------------ time on the invitee's clock */

static int64_t local_day(const tz_t *tz, int64_t t) { return sched_day_of(t + tz_offset(tz, t)); }

static int local_minute(const tz_t *tz, int64_t t) {
  int64_t local = t + tz_offset(tz, t);
  return (int)((local - sched_day_of(local) * 86400) / 60);
}

static int64_t day_start(const tz_t *tz, int64_t day) { return tz_local_to_utc(tz, day * 86400); }

/* ------------------------------------------------------------------ the answer */

static void say(chat_t *c, http_req_t *req, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(chat_t *c, http_req_t *req, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *text = arena_vprintf(req->arena, fmt, ap);
  va_end(ap);
  c->reply = c->prefix ? arena_printf(req->arena, "%s %s", c->prefix, text) : text;
}

static void on_saved(void *data, const db_result_t *r) {
  http_req_t *req = data;
  chat_t *c = api_ctx(req)->flow;
  if (!r->ok) {
    if (!c->booked) { /* nothing happened that the client must hear about: the failure it is */
      api_db_failed(req, r);
      return;
    }
    log_req(req, LOG_WARN, "chat: booked, but the conversation was not saved", NULL);
  }
  json_t *out = json_pack("{s:s, s:s, s:O}", "session_id", c->sid, "message", c->reply ? c->reply : "", "action",
                          c->action);
  http_set_header(req, "Cache-Control", "no-store");
  api_respond_json(req, 200, out);
}

/* Stores the state, then answers {session_id, message, action}. */
static void finish(http_req_t *req, chat_t *c) {
  char *state = json_dumps(c->state, JSON_COMPACT);
  const char *params[4] = {c->hash, c->kind, c->owner, arena_strdup(req->arena, state)};
  free(state);
  api_query(req, "chat_save", 4, params, on_saved);
}

static json_t *new_action(chat_t *c, const char *type) {
  json_decref(c->action);
  c->action = json_pack("{s:s}", "type", type);
  return c->action;
}

/* What the conversation asks for, as the seed's action fields: preferred_dates, preferred_time
 * ("morning"|"afternoon"|"evening"|"HH:MM"|null), time_range and timezone. */
static void add_reading(chat_t *c, json_t *a) {
  json_t *dates = json_array();
  size_t i;
  json_t *d;
  json_array_foreach(st_array(c->state, "days"), i, d) {
    char s[11];
    chat_date(json_integer_value(d), s);
    json_array_append_new(dates, json_string(s));
  }
  json_object_set_new(a, "preferred_dates", dates);
  int at = (int)st_int(c->state, "at", -1), around = (int)st_int(c->state, "around", -1);
  const char *part = st_str(c->state, "part");
  char hhmm[6];
  if (at >= 0 || around >= 0) {
    chat_hhmm(at >= 0 ? at : around, hhmm);
    json_object_set_new(a, "preferred_time", json_string(hhmm));
  } else {
    json_object_set_new(a, "preferred_time", part ? json_string(part) : json_null());
  }
  int after = (int)st_int(c->state, "after", -1), before = (int)st_int(c->state, "before", -1);
  if (after >= 0 || before >= 0) {
    json_t *r = json_object();
    char s[6];
    if (after >= 0) chat_hhmm(after, s);
    json_object_set_new(r, "after", after >= 0 ? json_string(s) : json_null());
    if (before >= 0) chat_hhmm(before, s);
    json_object_set_new(r, "before", before >= 0 ? json_string(s) : json_null());
    json_object_set_new(a, "time_range", r);
  } else {
    json_object_set_new(a, "time_range", json_null());
  }
  json_object_set_new(a, "timezone", json_string(tz_name(c->tz)));
}

/* "A (30 min), B (15 min) or C (60 min)" for the types in list. */
static char *type_list(http_req_t *req, json_t *list) {
  buf_t b = BUF_INIT;
  size_t n = json_array_size(list), i;
  json_t *t;
  json_array_foreach(list, i, t) {
    if (i) buf_puts(&b, i + 1 == n ? " or " : ", ");
    buf_printf(&b, "%s (%d min)", type_str(t, "name"), type_minutes(t));
  }
  char *s = arena_strdup(req->arena, b.data ? b.data : "");
  buf_free(&b);
  return s;
}

static void answer_none(http_req_t *req, chat_t *c) {
  new_action(c, "none");
  size_t n = json_array_size(c->types);
  if (!n) {
    say(c, req, "%s has no event types open for booking right now.", c->host);
  } else {
    json_t *first = json_array_get(c->types, 0);
    say(c, req,
        "%sI can book time with %s for you: %s. Tell me which one and when, for example \"%s tomorrow afternoon\", "
        "and I'll find free times.",
        !c->n.greeting ? "" : strcasestr(c->message, "thank") ? "You're welcome! " : "Hi! ", c->host,
        type_list(req, c->types), type_str(first, "name"));
  }
  finish(req, c);
}

static void answer_which_type(http_req_t *req, chat_t *c) {
  json_t *a = new_action(c, "clarify");
  json_t *options = json_array(), *list = json_array();
  json_t *cands = json_object_get(c->state, "cands");
  size_t i;
  json_t *t;
  json_array_foreach(c->types, i, t) {
    int listed = !json_array_size(cands);
    size_t k;
    json_t *id;
    json_array_foreach(cands, k, id) listed |= json_integer_value(id) == type_id(t);
    if (!listed) continue;
    json_array_append(list, t);
    json_array_append_new(options, json_pack("{s:s, s:s, s:i}", "event_slug", type_str(t, "slug"), "name",
                                             type_str(t, "name"), "duration_minutes", type_minutes(t)));
  }
  json_object_set_new(a, "missing", json_pack("[s]", "event_type"));
  json_object_set_new(a, "options", options);
  add_reading(c, a);
  say(c, req, "Which would you like to book with %s: %s?", c->host, type_list(req, list));
  json_decref(list);
  finish(req, c);
}

/* "Tuesday, December 8 at 1:00 PM" for a start. */
static char *when_label(http_req_t *req, chat_t *c, int64_t t) {
  char day[48], clock[16];
  chat_day_label(local_day(c->tz, t), day, sizeof day);
  chat_clock_label(local_minute(c->tz, t), clock, sizeof clock);
  return arena_printf(req->arena, "%s at %s", day, clock);
}

static char *zone_label(http_req_t *req, chat_t *c) {
  char z[96];
  chat_zone_label(tz_name(c->tz), z, sizeof z);
  return arena_strdup(req->arena, z);
}

static void answer_details(http_req_t *req, chat_t *c) {
  json_t *a = new_action(c, "clarify");
  const char *name = st_str(c->state, "name"), *email = st_str(c->state, "email");
  json_t *missing = json_array();
  if (!name) json_array_append_new(missing, json_string("name"));
  if (!email) json_array_append_new(missing, json_string("email"));
  json_object_set_new(a, "missing", missing);
  json_object_set_new(a, "options", json_array());
  json_object_set_new(a, "event_slug", json_string(type_str(c->et, "slug")));
  add_reading(c, a);
  int64_t choice = st_int(c->state, "choice", -1);
  const char *ask = !name && !email ? "What name and e-mail address should I book it under?"
                    : !email        ? "What e-mail address should the confirmation go to?"
                                    : "And what name should I book it under?";
  say(c, req, "%s on %s (%s) it is. %s", type_str(c->et, "name"), when_label(req, c, choice), zone_label(req, c), ask);
  finish(req, c);
}

/* ------------------------------------------------------------------ slots */

typedef struct {
  int64_t start, end, day;
  int minute;
} cand_t;

/* Does a slot fit the asked days and times? */
static int fits_time(chat_t *c, const cand_t *s, int by_day) {
  json_t *days = json_object_get(c->state, "days");
  if (by_day && json_array_size(days)) {
    int in = 0;
    size_t i;
    json_t *d;
    json_array_foreach(days, i, d) in |= json_integer_value(d) == s->day;
    if (!in) return 0;
  }
  const char *part = st_str(c->state, "part");
  int m = s->minute, end = m + (int)((s->end - s->start) / 60);
  if (part && strcmp(part, "morning") == 0 && (m < 360 || m >= 720)) return 0;
  if (part && strcmp(part, "afternoon") == 0 && (m < 720 || m >= 1020)) return 0;
  if (part && strcmp(part, "evening") == 0 && (m < 1020 || m >= 1260)) return 0;
  int at = (int)st_int(c->state, "at", -1), around = (int)st_int(c->state, "around", -1);
  int after = (int)st_int(c->state, "after", -1), before = (int)st_int(c->state, "before", -1);
  if (at >= 0 && m != at) return 0;
  if (around >= 0 && abs(m - around) > 60) return 0;
  if (after >= 0 && m < after) return 0;
  if (before >= 0 && end > before) return 0;
  return 1;
}

static int around_of(chat_t *c) { return (int)st_int(c->state, "around", -1); }

/* Picks up to CHAT_MAX_SLOTS of the n candidates (ascending) into out, spread over days
 * (CHAT_PER_DAY each before any day gets more); "around" prefers the nearest times. */
static size_t pick(chat_t *c, cand_t *v, size_t n, cand_t *out) {
  int around = around_of(c);
  if (around >= 0) { /* nearest first: a stable selection by distance */
    size_t k = 0;
    for (int dist = 0; dist <= 60 && k < CHAT_MAX_SLOTS; dist++)
      for (size_t i = 0; i < n && k < CHAT_MAX_SLOTS; i++)
        if (abs(v[i].minute - around) == dist) out[k++] = v[i];
    for (size_t i = 1; i < k; i++) /* back into time order */
      for (size_t j = i; j > 0 && out[j].start < out[j - 1].start; j--) {
        cand_t t = out[j];
        out[j] = out[j - 1];
        out[j - 1] = t;
      }
    return k;
  }
  size_t k = 0;
  char *taken = calloc(n ? n : 1, 1);
  for (int round = 0; round < 2 && k < CHAT_MAX_SLOTS; round++) {
    int64_t day = INT64_MIN;
    int on_day = 0;
    for (size_t i = 0; i < n && k < CHAT_MAX_SLOTS; i++) {
      if (v[i].day != day) day = v[i].day, on_day = 0;
      if (taken[i]) {
        on_day++;
        continue;
      }
      if (round == 0 && on_day >= CHAT_PER_DAY) continue;
      taken[i] = 1;
      on_day++;
      k++;
    }
  }
  size_t j = 0;
  for (size_t i = 0; i < n; i++)
    if (taken[i]) out[j++] = v[i];
  free(taken);
  return j;
}

/* "on Tuesday, December 8 at 1:00 PM, 1:30 PM or 3:00 PM and on Wednesday, ... at 9:00 AM" */
static char *slots_phrase(http_req_t *req, const cand_t *v, size_t n) {
  buf_t b = BUF_INIT;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && v[j].day == v[i].day) j++;
    char day[48];
    chat_day_label(v[i].day, day, sizeof day);
    buf_printf(&b, "%son %s at ", i ? (j == n ? " and " : ", ") : "", day);
    for (size_t k = i; k < j; k++) {
      char clock[16];
      chat_clock_label(v[k].minute, clock, sizeof clock);
      buf_printf(&b, "%s%s", k == i ? "" : k + 1 == j ? " or " : ", ", clock);
    }
    i = j;
  }
  char *s = arena_strdup(req->arena, b.data ? b.data : "");
  buf_free(&b);
  return s;
}

static void on_slots(http_req_t *req, void *data, const inputs_t *in, const avail_slot_t *v, size_t n,
                     const db_result_t *fail) {
  chat_t *c = data;
  (void)in;
  if (!in) {
    if (fail) api_db_failed(req, fail);
    else api_error(req, 500, E_INTERNAL, "internal error");
    return;
  }
  cand_t *all = calloc(n ? n : 1, sizeof *all), *hit = calloc(n ? n : 1, sizeof *hit);
  for (size_t i = 0; i < n; i++)
    all[i] = (cand_t){v[i].start, v[i].end, local_day(c->tz, v[i].start), local_minute(c->tz, v[i].start)};
  json_t *offered = st_array(c->state, "offered");
  int64_t first = st_int(c->state, "first", -1), last = st_int(c->state, "last", -1);
  size_t nhit = 0;
  for (size_t i = 0; i < n; i++) {
    int ok = c->mode == MODE_EARLIER ? all[i].start < first
             : c->mode == MODE_LATER ? all[i].start > last
                                     : fits_time(c, &all[i], 1);
    if (ok) hit[nhit++] = all[i];
  }
  cand_t chosen[CHAT_MAX_SLOTS];
  size_t k;
  int alternatives = 0;
  if (c->mode == MODE_EARLIER) { /* the nearest before the first offered */
    size_t from = nhit > CHAT_MAX_SLOTS ? nhit - CHAT_MAX_SLOTS : 0;
    for (k = 0; from + k < nhit; k++) chosen[k] = hit[from + k];
  } else {
    k = pick(c, hit, nhit, chosen);
  }
  if (!k && c->mode == MODE_PREFS && n) { /* nothing fits: the asked days at other times, else the
                                             asked times on other days, else the soonest */
    alternatives = 1;
    json_t *days = json_object_get(c->state, "days");
    size_t m = 0;
    if (json_array_size(days)) {
      for (size_t i = 0; i < n; i++) {
        int in_days = 0;
        size_t x;
        json_t *d;
        json_array_foreach(days, x, d) in_days |= json_integer_value(d) == all[i].day;
        if (in_days) hit[m++] = all[i];
      }
      k = pick(c, hit, m, chosen);
      m = 0;
      for (size_t i = 0; !k && i < n; i++)
        if (fits_time(c, &all[i], 0)) hit[m++] = all[i];
      if (!k) k = pick(c, hit, m, chosen);
    }
    if (!k) k = pick(c, all, n, chosen);
  }
  json_array_clear(offered);
  for (size_t i = 0; i < k; i++) json_array_append_new(offered, json_integer(chosen[i].start));
  st_set_int(c->state, "first", k ? chosen[0].start : -1);
  st_set_int(c->state, "last", k ? chosen[k - 1].start : -1);
  json_object_del(c->state, "choice");

  json_t *a = new_action(c, "suggest_booking");
  json_object_set_new(a, "event_slug", json_string(type_str(c->et, "slug")));
  json_object_set_new(a, "event_type_id", json_integer(type_id(c->et)));
  add_reading(c, a);
  json_t *slots = json_array();
  for (size_t i = 0; i < k; i++) {
    char s[48], e[48];
    tz_format_rfc3339(c->tz, chosen[i].start, s, sizeof s);
    tz_format_rfc3339(c->tz, chosen[i].end, e, sizeof e);
    json_array_append_new(slots, json_pack("{s:s, s:s}", "start", s, "end", e));
  }
  json_object_set_new(a, "slots", slots);
  json_object_set_new(a, "alternatives", json_boolean(alternatives));
  const char *name = type_str(c->et, "name");
  if (!k) {
    say(c, req, "%s has no free time for %s %s. Try other days?", c->host, name,
        c->mode == MODE_EARLIER ? "before those times" : "in the next two weeks from then");
  } else if (alternatives) {
    say(c, req, "%s has nothing free for %s at that time. The nearest free times are %s (%s). Would one of those work?",
        c->host, name, slots_phrase(req, chosen, k), zone_label(req, c));
  } else {
    say(c, req, "%s has %s (%d min) free %s (%s). Which one suits you?", c->host, name, type_minutes(c->et),
        slots_phrase(req, chosen, k), zone_label(req, c));
  }
  free(all);
  free(hit);
  finish(req, c);
}

static void search(http_req_t *req, chat_t *c) {
  json_t *days = json_object_get(c->state, "days");
  int64_t from = c->today, to;
  int64_t first = st_int(c->state, "first", -1), last = st_int(c->state, "last", -1);
  if (c->mode == MODE_EARLIER && first >= 0) {
    int64_t d = local_day(c->tz, first);
    from = d - CHAT_LOOKAHEAD > c->today ? d - CHAT_LOOKAHEAD : c->today;
    to = d + 1;
  } else if (c->mode == MODE_LATER && last >= 0) {
    from = local_day(c->tz, last);
    if (from < c->today) from = c->today;
    to = from + CHAT_LOOKAHEAD + 1;
  } else {
    c->mode = MODE_PREFS;
    size_t nd = json_array_size(days);
    if (nd) {
      int64_t lo = json_integer_value(json_array_get(days, 0)), hi = json_integer_value(json_array_get(days, nd - 1));
      if (lo > from) from = lo;
      to = (hi > from ? hi : from) + 1 + CHAT_LOOKAHEAD;
    } else {
      to = from + 1 + CHAT_LOOKAHEAD;
    }
  }
  if (to - from > AVAIL_MAX_DAYS) to = from + AVAIL_MAX_DAYS;
  avail_query_t q = {.event_type_id = type_id(c->et), .from = day_start(c->tz, from), .to = day_start(c->tz, to)};
  availability_slots(req, &q, on_slots, c);
}

/* ------------------------------------------------------------------ booking */

/* The key that seals a conversation's bookings: from its id, which only the client holds. */
static void seal_key(const chat_t *c, unsigned char key[32]) {
  crypto_hmac_sha256(c->sid, strlen(c->sid), CHAT_SEAL_INFO, sizeof CHAT_SEAL_INFO - 1, key);
}

static void answer_booked(http_req_t *req, chat_t *c, json_t *booking, int64_t start) {
  json_t *a = new_action(c, "booked");
  json_object_set(a, "booking", booking);
  const char *status = json_string_value(json_object_get(booking, "status"));
  const char *email = st_str(c->state, "email") ? st_str(c->state, "email") : "your e-mail address";
  if (status && strcmp(status, "pending_payment") == 0)
    say(c, req, "I've reserved %s with %s on %s (%s) for you; it is held until it is paid. Details go to %s.",
        type_str(c->et, "name"), c->host, when_label(req, c, start), zone_label(req, c), email);
  else if (status && strcmp(status, "pending") == 0)
    say(c, req, "I've requested %s with %s on %s (%s). %s will confirm it, and you'll hear at %s.",
        type_str(c->et, "name"), c->host, when_label(req, c, start), zone_label(req, c), c->host, email);
  else
    say(c, req, "You're booked: %s with %s on %s (%s). A confirmation goes to %s.", type_str(c->et, "name"), c->host,
        when_label(req, c, start), zone_label(req, c), email);
  json_object_del(c->state, "choice");
  json_array_clear(st_array(c->state, "offered"));
  json_object_del(c->state, "first");
  json_object_del(c->state, "last");
  finish(req, c);
}

static void chat_book_done(http_req_t *req, const book_result_t *res) {
  chat_t *c = api_ctx(req)->flow;
  json_t *booking = json_loadb(res->body, res->len, 0, NULL);
  if (res->series && json_is_array(booking)) { /* a recurring type: the first occurrence speaks for the series */
    json_t *first = json_incref(json_array_get(booking, 0));
    json_decref(booking);
    booking = first;
  }
  if (!json_is_object(booking)) {
    json_decref(booking);
    api_error(req, 500, E_INTERNAL, "internal error");
    return;
  }
  if (res->cancel_token) json_object_set_new(booking, "cancel_token", json_string(res->cancel_token));
  if (res->reschedule_token) json_object_set_new(booking, "reschedule_token", json_string(res->reschedule_token));
  c->booked = 1;
  /* Remembered for a replay of the same slot (sealed: the tokens are the invitee's). */
  char *text = json_dumps(booking, JSON_COMPACT);
  unsigned char key[32];
  seal_key(c, key);
  char *sealed = crypto_seal(key, text, strlen(text));
  json_t *list = st_array(c->state, "booked");
  while (json_array_size(list) >= CHAT_MAX_BOOKED) json_array_remove(list, 0);
  char msg[65];
  crypto_sha256_hex(c->message, strlen(c->message), msg);
  int64_t start = st_int(c->state, "choice", -1);
  json_array_append_new(list, json_pack("{s:I, s:I, s:s, s:s}", "et", (json_int_t)type_id(c->et), "start",
                                        (json_int_t)start, "seal", sealed, "msg", msg));
  free(text);
  free(sealed);
  answer_booked(req, c, booking, start);
  json_decref(booking);
}

static void chat_book_failed(http_req_t *req, const api_failure_t *f) {
  chat_t *c = api_ctx(req)->flow;
  if (f->status == 409 || (f->status == 400 && f->field && strcmp(f->field, "start_time") == 0)) {
    c->prefix = "Sorry, that time is no longer free.";
    json_object_del(c->state, "choice");
    c->mode = MODE_PREFS;
    search(req, c);
    return;
  }
  if (f->status == 400 && f->field && strncmp(f->field, "answers.", 8) == 0) {
    json_t *a = new_action(c, "clarify");
    json_object_set_new(a, "missing", json_pack("[s]", "answers"));
    json_object_set(a, "options", json_object_get(c->et, "required_questions"));
    json_object_set_new(a, "event_slug", json_string(type_str(c->et, "slug")));
    add_reading(c, a);
    say(c, req, "%s asks questions I can't collect in this chat. Please book it on %s's booking page.",
        type_str(c->et, "name"), c->host);
    finish(req, c);
    return;
  }
  if (f->status == 400 || f->status == 403 || f->status == 404) { /* the invitee's data, a blocked customer... */
    new_action(c, "none");
    say(c, req, "I couldn't book that: %s.", f->message);
    finish(req, c);
    return;
  }
  api_fail(req, f);
}

static const book_presenter_t chat_presenter = {chat_book_done, chat_book_failed};

/* A booking this conversation made, from its sealed copy (NULL if it cannot be opened). */
static json_t *booked_open(chat_t *c, json_t *entry) {
  unsigned char key[32];
  seal_key(c, key);
  size_t len;
  char *text = crypto_open(key, st_str(entry, "seal") ? st_str(entry, "seal") : "", &len);
  json_t *booking = text ? json_loadb(text, len, 0, NULL) : NULL;
  free(text);
  return booking;
}

/* The booking an entry of state.booked describes, answered again. 1 if it was. */
static int replay(http_req_t *req, chat_t *c, json_t *entry) {
  json_t *booking = booked_open(c, entry), *et = type_by_id(c, st_int(entry, "et", -1));
  if (!booking || !et) {
    json_decref(booking);
    return 0;
  }
  c->et = et;
  answer_booked(req, c, booking, st_int(entry, "start", -1));
  json_decref(booking);
  return 1;
}

/* The same message again (a client retrying after a lost answer) answers the booking it made. */
static int replayed_message(http_req_t *req, chat_t *c) {
  char msg[65];
  crypto_sha256_hex(c->message, strlen(c->message), msg);
  json_t *list = json_object_get(c->state, "booked");
  for (size_t i = json_array_size(list); i-- > 0;) {
    const char *m = st_str(json_array_get(list, i), "msg");
    if (m && strcmp(m, msg) == 0) return replay(req, c, json_array_get(list, i));
  }
  return 0;
}

static void book(http_req_t *req, chat_t *c) {
  int64_t choice = st_int(c->state, "choice", -1);
  size_t i;
  json_t *b;
  json_array_foreach(st_array(c->state, "booked"), i, b) /* this slot, booked before: the same booking */
    if (st_int(b, "et", -1) == type_id(c->et) && st_int(b, "start", -2) == choice && replay(req, c, b)) return;
  book_request_t r = {.target = {.event_type_id = type_id(c->et)}, .start = choice,
                      .name = st_str(c->state, "name"), .email = st_str(c->state, "email"),
                      .timezone = tz_name(c->tz), .seats = 1};
  book_create(req, &r, &chat_presenter);
}

/* ------------------------------------------------------------------ reading a message */

/* The message's day list, ascending and unique, into the state. */
static void set_days(chat_t *c) {
  int64_t d[NLU_MAX_DAYS];
  int n = c->n.ndays;
  memcpy(d, c->n.days, (size_t)n * sizeof *d);
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && d[j] < d[j - 1]; j--) {
      int64_t t = d[j];
      d[j] = d[j - 1];
      d[j - 1] = t;
    }
  json_t *a = json_array();
  for (int i = 0; i < n; i++)
    if (!i || d[i] != d[i - 1]) json_array_append_new(a, json_integer(d[i]));
  json_object_set_new(c->state, "days", a);
}

static int has_times(const nlu_t *n) {
  return n->part != PART_NONE || n->at >= 0 || n->around >= 0 || n->after >= 0 || n->before >= 0;
}

static void set_times(chat_t *c) {
  static const char *const PARTS[] = {NULL, "morning", "afternoon", "evening"};
  const nlu_t *n = &c->n;
  if (n->part != PART_NONE) json_object_set_new(c->state, "part", json_string(PARTS[n->part]));
  else json_object_del(c->state, "part");
  st_set_int(c->state, "at", n->at);
  st_set_int(c->state, "around", n->around);
  st_set_int(c->state, "after", n->after);
  st_set_int(c->state, "before", n->before);
}

/* The event type the message names (or keeps): 1 if it changed. */
static int read_type(chat_t *c) {
  chat_type_t types[CHAT_MAX_TYPES];
  int tied[CHAT_MAX_TYPES];
  size_t nt = 0, ntied = 0, i;
  json_t *t;
  json_array_foreach(c->types, i, t) {
    if (nt == CHAT_MAX_TYPES) break;
    types[nt++] = (chat_type_t){type_str(t, "slug"), type_str(t, "name"), type_str(t, "description"),
                                type_minutes(t)};
  }
  int64_t before = st_int(c->state, "et", -1);
  json_t *cands = json_object_get(c->state, "cands");
  int m = chat_match_type(&c->n, types, nt, tied, &ntied);
  c->named = m != CHAT_NONE;
  if (m == CHAT_NONE && before < 0 && c->n.ordinal > 0 && (size_t)c->n.ordinal <= json_array_size(cands)) {
    st_set_int(c->state, "et", json_integer_value(json_array_get(cands, (size_t)c->n.ordinal - 1)));
    c->n.ordinal = 0; /* spent on the type */
    c->named = 1;
  } else if (m >= 0) {
    st_set_int(c->state, "et", type_id(json_array_get(c->types, (size_t)m)));
  } else if (m == CHAT_AMBIGUOUS) {
    int keep = 0;
    json_t *list = json_array();
    for (size_t k = 0; k < ntied; k++) {
      int64_t id = type_id(json_array_get(c->types, (size_t)tied[k]));
      keep |= id == before;
      json_array_append_new(list, json_integer(id));
    }
    if (!keep) {
      json_object_set_new(c->state, "cands", list);
      json_object_del(c->state, "et");
    } else {
      json_decref(list);
    }
  }
  int64_t now = st_int(c->state, "et", -1);
  if (now >= 0) json_object_del(c->state, "cands");
  c->et = now >= 0 ? type_by_id(c, now) : NULL;
  if (now >= 0 && !c->et) json_object_del(c->state, "et"); /* no longer listed */
  return now != before;
}

/* A slot among those offered, chosen by "the second one", "2:30 works" or a lone "yes". */
static int read_choice(chat_t *c) {
  json_t *offered = json_object_get(c->state, "offered");
  size_t n = json_array_size(offered);
  if (!n) return 0;
  int64_t pick = -1;
  if (c->n.ordinal > 0 && (size_t)c->n.ordinal <= n) {
    pick = json_integer_value(json_array_get(offered, (size_t)c->n.ordinal - 1));
  } else if (c->n.ordinal < 0) {
    pick = json_integer_value(json_array_get(offered, n - 1));
  } else if (c->n.at >= 0) {
    size_t i;
    json_t *o;
    json_array_foreach(offered, i, o) {
      int64_t t = json_integer_value(o);
      int day_ok = !c->n.ndays;
      for (int k = 0; k < c->n.ndays; k++) day_ok |= c->n.days[k] == local_day(c->tz, t);
      if (day_ok && local_minute(c->tz, t) == c->n.at) {
        pick = t;
        break;
      }
    }
  } else if (c->n.yes && n == 1 && !c->n.ndays && !has_times(&c->n)) {
    pick = json_integer_value(json_array_get(offered, 0));
  }
  if (pick < 0) return 0;
  st_set_int(c->state, "choice", pick);
  return 1;
}

static void read_details(http_req_t *req, chat_t *c) {
  if (c->n.name[0]) {
    api_v_t v;
    json_t *o = json_pack("{s:s}", "name", c->n.name);
    api_v_init(&v, req, o);
    if (api_v_line(&v, "name", 1, 1, 200) && !v.failed) json_object_set_new(c->state, "name", json_string(c->n.name));
    json_decref(o);
  }
  if (c->n.email[0] && api_valid_email(c->n.email) && strlen(c->n.email) <= 254) {
    char e[256];
    snprintf(e, sizeof e, "%s", c->n.email);
    json_object_set_new(c->state, "email", json_string(e));
  }
}

/* The invitee's local today in tz (or the test build's fixed day). */
static int64_t today_in(http_req_t *req, const tz_t *tz) {
#ifdef SLOTD_TEST_HOOKS
  const char *fixed = http_req_header(req, "X-Slotd-Test-Today");
  int64_t d;
  if (fixed && parse_date(fixed, &d) == 0) return d;
#else
  (void)req;
#endif
  return local_day(tz, now_wall_ms() / 1000);
}

static void converse(http_req_t *req, chat_t *c) {
  /* The zone: the conversation's, the request's, then one the message names. */
  const char *req_tz = json_string_value(json_object_get(api_ctx(req)->body, "timezone"));
  const char *zone = req_tz ? req_tz : st_str(c->state, "tz");
  c->tz = tz_get(zone ? zone : "UTC");
  if (!c->tz) c->tz = tz_get("UTC");
  c->today = today_in(req, c->tz);
  size_t len = strlen(c->message);
  c->understood = nlu_read(c->message, len, c->today, &c->n);
  const tz_t *named = c->n.zone[0] ? tz_get(c->n.zone) : NULL;
  if (named && named != c->tz) {
    c->tz = named;
    int64_t today = today_in(req, named);
    if (today != c->today) {
      c->today = today;
      c->understood = nlu_read(c->message, len, c->today, &c->n);
    }
  }
  json_object_set_new(c->state, "tz", json_string(tz_name(c->tz)));
  if (replayed_message(req, c)) return;

  int changed = read_type(c);
  int chose = read_choice(c);
  if (!chose) {
    if (c->n.ndays) set_days(c);
    if (has_times(&c->n)) set_times(c);
    if (c->n.ndays || has_times(&c->n) || changed) json_object_del(c->state, "choice");
    if (c->n.earlier) c->mode = MODE_EARLIER;
    else if (c->n.later || (c->n.no && json_array_size(json_object_get(c->state, "offered")))) c->mode = MODE_LATER;
  }
  read_details(req, c);

  int used = c->understood || c->named || c->n.name[0] || c->n.email[0] || chose || c->n.yes || c->n.no;
  if (!used) {
    answer_none(req, c);
    return;
  }
  if (!c->et && json_array_size(c->types) == 1) {
    c->et = json_array_get(c->types, 0);
    st_set_int(c->state, "et", type_id(c->et));
  }
  if (!c->et) {
    if (!json_array_size(c->types)) answer_none(req, c);
    else answer_which_type(req, c);
    return;
  }
  if (st_int(c->state, "choice", -1) >= 0) {
    if (st_str(c->state, "name") && st_str(c->state, "email")) book(req, c);
    else answer_details(req, c);
    return;
  }
  if (c->n.name[0] || c->n.email[0]) /* details before a time: kept for the booking */
    c->prefix = st_str(c->state, "name") && c->n.name[0]
                    ? arena_printf(req->arena, "Thanks, %s.", st_str(c->state, "name"))
                    : "Thanks.";
  search(req, c);
}

static void on_open(void *data, const db_result_t *r) {
  http_req_t *req = data;
  chat_t *c = api_ctx(req)->flow;
  if (api_db_failed(req, r)) return;
  c->page = json_loads(PQgetvalue(r->res, 0, 0), 0, NULL);
  if (c->page) arena_on_destroy(req->arena, release, c->page);
  if (!PQgetisnull(r->res, 0, 1)) c->state = json_loads(PQgetvalue(r->res, 0, 1), 0, NULL);
  if (!json_is_object(c->state)) { /* a new conversation (or one unknown, expired, of another page) */
    json_decref(c->state);
    c->state = json_object();
    crypto_token_hex(16, c->sid);
    crypto_sha256_hex(c->sid, 32, c->hash);
  }
  arena_on_destroy(req->arena, release, c->state);
  c->types = json_object_get(c->page, "event_types");
  c->kind = json_string_value(json_object_get(c->page, "kind"));
  c->host = json_string_value(json_object_get(c->page, "name"));
  snprintf(c->owner, sizeof c->owner, "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(c->page, "owner")));
  if (!json_is_array(c->types) || !c->kind || !c->host) {
    api_error(req, 500, E_INTERNAL, "internal error");
    return;
  }
  converse(req, c);
}

static void release_action(void *data) {
  chat_t *c = data;
  json_decref(c->action);
}

int ai_chat(http_req_t *req) {
  if (api_body_object(req)) return 0;
  chat_t *c = arena_calloc(req->arena, sizeof *c);
  api_ctx(req)->flow = c;
  arena_on_destroy(req->arena, release_action, c);
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  c->slug = api_v_str(&v, "booking_page_slug", 1, 1, 60);
  c->message = api_v_str(&v, "message", 1, 1, CHAT_MAX_CHARS);
  int present = 0;
  const char *sid = api_v_str_or_null(&v, "session_id", 64, &present);
  const char *zone = api_v_str(&v, "timezone", 0, 1, 64);
  if (zone && !tz_get(zone)) api_v_fail(&v, "timezone", "timezone must be an IANA time zone name");
  if (sid && *sid) {
    size_t n = strlen(sid), ok = n == 32;
    for (size_t i = 0; ok && i < n; i++) ok = (sid[i] >= '0' && sid[i] <= '9') || (sid[i] >= 'a' && sid[i] <= 'f');
    if (!ok) api_v_fail(&v, "session_id", "session_id must be a session id this endpoint returned");
  }
  if (v.failed) return api_v_respond(&v);
  if (sid && *sid) {
    memcpy(c->sid, sid, 33);
    crypto_sha256_hex(c->sid, 32, c->hash);
  }
  const char *params[2] = {c->slug, c->hash[0] ? c->hash : NULL};
  api_query(req, "chat_open", 2, params, on_open);
  return 0;
}
