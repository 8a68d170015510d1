/* calcom_event_types.c — Cal.com API v2 event types (cal-api-version 2024-06-14) on the native
 * event types, and the routes of the schedules (calcom_schedules.c): one module.
 *
 * A write translates Cal.com's body into the native patch, which the native event_type_fields
 * validates (one set of rules: a refusal names the Cal.com field), and into the Cal.com-only
 * part kept in event_types.calcom; api.calcom_event_type_save runs the native create/update and
 * stores that part in one transaction, and every answer is api.calcom_event_type_json
 * (sql/migrations/0019_calcom_event_types.sql). The mapping:
 *
 *   title, lengthInMinutes, slug, description     name, duration_minutes, slug, description
 *   slotInterval, before/afterEventBuffer         slot_interval_minutes, buffer_before/after
 *   minimumBookingNotice (minutes)                min_notice_hours: whole hours only
 *   scheduleId, hidden                            schedule_id, is_secret
 *   bookingLimitsCount {day, week}                limit_per_day, limit_per_week
 *   bookingWindow {calendarDays, value}           max_future_days (disabled: 3650, its maximum)
 *   seats {seatsPerTimeSlot, ...}                 seats
 *   confirmationPolicy {always} / requiresConfirmation   requires_confirmation
 *   locations (the first one)                     location_type, location_value
 *   bookingFields (custom ones)                   questions
 *   color.lightThemeHex, price (minor units), currency   color, price, currency
 *   lengthInMinutesOptions                        durations
 *   recurrence {frequency, interval, occurrences} recurrence (weekly or monthly)
 *
 * Settings that only change what Cal.com's own booking page shows are stored and returned
 * (extras); settings that would change who may book, cancel or reschedule, or which times are
 * offered, are refused unless they are off: accepting them without acting on them would be a
 * success that is not one. */
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../app.h"
#include "../authn.h"
#include "../dispatch.h"
#include "../event_types.h"
#include "../query.h"
#include "../respond.h"
#include "../validate.h"
#include "calcom.h"
#include "calcom_schedules.h"

const calcom_field_map_t calcom_event_type_fields[] = {
    {"name", "title"},
    {"duration_minutes", "lengthInMinutes"},
    {"slug", "slug"},
    {"description", "description"},
    {"color", "color"},
    {"location_type", "locations"},
    {"location_value", "locations"},
    {"questions", "bookingFields"},
    {"is_secret", "hidden"},
    {"requires_confirmation", "confirmationPolicy"},
    {"buffer_before", "beforeEventBuffer"},
    {"buffer_after", "afterEventBuffer"},
    {"min_notice_hours", "minimumBookingNotice"},
    {"max_future_days", "bookingWindow"},
    {"slot_interval_minutes", "slotInterval"},
    {"schedule_id", "scheduleId"},
    {"price", "price"},
    {"currency", "currency"},
    {"seats", "seats"},
    {"limit_per_day", "bookingLimitsCount"},
    {"limit_per_week", "bookingLimitsCount"},
    {"durations", "lengthInMinutesOptions"},
    {"recurrence", "recurrence"},
    {"scheduling", "schedulingType"}, /* team event types */
    {NULL, NULL},
};

#define MAX_BOOKING_WINDOW 3650 /* days: the native maximum, standing for "no window" */

static int is_disabled(json_t *o) { return json_is_object(o) && json_is_true(json_object_get(o, "disabled")); }

static int one_of(const char *s, const char *const *list) {
  for (; s && *list; list++)
    if (strcmp(s, *list) == 0) return 1;
  return 0;
}

/* A string member of o (NULL when absent; fails v when of another type or too long). */
static const char *member_str(api_v_t *v, json_t *o, const char *key, const char *where, size_t max) {
  json_t *j = json_object_get(o, key);
  if (!j) return NULL;
  if (!json_is_string(j) || json_string_length(j) > max) {
    api_v_fail(v, where, "%s.%s must be a string of at most %zu characters", where, key, max);
    return NULL;
  }
  return json_string_value(j);
}

/* A boolean member: 1/0, or dflt when absent (fails v on another type). */
static int member_bool(api_v_t *v, json_t *o, const char *key, const char *where, int dflt) {
  json_t *j = json_object_get(o, key);
  if (!j) return dflt;
  if (!json_is_boolean(j)) {
    api_v_fail(v, where, "%s.%s must be true or false", where, key);
    return dflt;
  }
  return json_is_true(j);
}

/* ------------------------------------------------------------------ locations */

static const char *const LOC_TYPES[] = {"address",         "link",          "integration",     "phone",
                                        "attendeeAddress", "attendeePhone", "attendeeDefined", NULL};

static int integration_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 64) return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-')) return 0;
  return 1;
}

/* locations -> the first one as the native location, all of them (normalised) into c. */
static void locations_of(api_v_t *v, json_t *arr, json_t *n, json_t *c) {
  if (!json_is_array(arr) || json_array_size(arr) > 10) {
    api_v_fail(v, "locations", "locations must be an array of at most 10 locations");
    return;
  }
  json_t *out = json_array();
  size_t i;
  json_t *l;
  json_array_foreach(arr, i, l) {
    const char *type = json_is_object(l) ? json_string_value(json_object_get(l, "type")) : NULL;
    if (!type || !one_of(type, LOC_TYPES)) {
      api_v_fail(v, "locations",
                 "locations[%zu].type must be address, link, integration, phone, attendeeAddress, attendeePhone or "
                 "attendeeDefined (organizersDefaultApp is for team event types)",
                 i);
      break;
    }
    const char *ntype = NULL, *nvalue = NULL;
    json_t *o = json_pack("{s:s}", "type", type);
    int pub = member_bool(v, l, "public", "locations", 1);
    if (strcmp(type, "address") == 0) {
      nvalue = member_str(v, l, "address", "locations", 500);
      ntype = "in_person";
      if (!v->failed && (!nvalue || !*nvalue)) api_v_fail(v, "locations", "locations[%zu].address is required", i);
      else json_object_set_new(o, "address", json_string(nvalue)), json_object_set_new(o, "public", json_boolean(pub));
    } else if (strcmp(type, "link") == 0) {
      nvalue = member_str(v, l, "link", "locations", 500);
      ntype = "custom";
      if (!v->failed && (!nvalue || !api_valid_http_url(nvalue)))
        api_v_fail(v, "locations", "locations[%zu].link must be an http(s) URL", i);
      else json_object_set_new(o, "link", json_string(nvalue)), json_object_set_new(o, "public", json_boolean(pub));
    } else if (strcmp(type, "phone") == 0) {
      nvalue = member_str(v, l, "phone", "locations", 32);
      ntype = "phone";
      if (!v->failed && (!nvalue || !api_valid_phone(nvalue)))
        api_v_fail(v, "locations", "locations[%zu].phone must be a phone number", i);
      else json_object_set_new(o, "phone", json_string(nvalue)), json_object_set_new(o, "public", json_boolean(pub));
    } else if (strcmp(type, "integration") == 0) {
      const char *in = member_str(v, l, "integration", "locations", 64);
      if (!v->failed && (!in || !integration_ok(in))) {
        api_v_fail(v, "locations", "locations[%zu].integration must name an integration, e.g. cal-video", i);
      } else if (!v->failed) {
        json_object_set_new(o, "integration", json_string(in));
        /* slotd makes no meetings: Google Meet and Zoom are its own location kinds; any other
           app is recorded by name as a custom location */
        if (strcmp(in, "google-meet") == 0) ntype = "google_meet";
        else if (strcmp(in, "zoom") == 0) ntype = "zoom";
        else ntype = "custom", nvalue = in;
      }
    } else if (strcmp(type, "attendeeAddress") == 0) {
      ntype = "in_person";
    } else if (strcmp(type, "attendeePhone") == 0) {
      ntype = "phone";
    } else {
      ntype = "custom";
    }
    if (v->failed) {
      json_decref(o);
      break;
    }
    json_array_append_new(out, o);
    if (i == 0) {
      json_object_set_new(n, "location_type", json_string(ntype));
      json_object_set_new(n, "location_value", nvalue ? json_string(nvalue) : json_null());
    }
  }
  if (v->failed) {
    json_decref(out);
    return;
  }
  if (json_array_size(out) == 0) {
    json_object_set_new(n, "location_type", json_null());
    json_object_set_new(n, "location_value", json_null());
  }
  json_object_set_new(c, "locations", out);
}

/* ------------------------------------------------------------------ booking fields */

static const char *const DEFAULT_SLUGS[] = {"name", "email", "title", "location", "notes", "guests", "rescheduleReason",
                                            NULL};
/* Cal.com's custom field types and the native question type each becomes (NULL: none). */
static const char *const CUSTOM_TYPES[][2] = {
    {"text", "text"},         {"address", "text"},   {"number", "text"},   {"url", "text"},
    {"textarea", "textarea"}, {"phone", "phone"},    {"select", "select"}, {"radio", "select"},
    {"boolean", "checkbox"},  {"multiselect", NULL}, {"multiemail", NULL}, {"checkbox", NULL},
};

/* A default field's settings: what slotd's booking does is fixed, so only its words may change. */
static void default_field(api_v_t *v, json_t *f, const char *slug, size_t i, json_t *defaults) {
  json_t *d = json_object();
  static const char *const words[] = {"label", "placeholder", NULL};
  for (const char *const *k = words; *k; k++) {
    const char *s = member_str(v, f, *k, "bookingFields", 500);
    if (s) json_object_set_new(d, *k, json_string(s));
  }
  json_t *jr = json_object_get(f, "required"), *jh = json_object_get(f, "hidden"),
         *jp = json_object_get(f, "disableOnPrefill");
  if ((jr && !json_is_boolean(jr)) || (jh && !json_is_boolean(jh)) || (jp && !json_is_boolean(jp)))
    api_v_fail(v, "bookingFields", "bookingFields[%zu]: required, hidden and disableOnPrefill must be booleans", i);
  int req = json_is_true(jr), notreq = json_is_false(jr), hid = json_is_true(jh), shown = json_is_false(jh);
  const char *why = NULL;
  if ((strcmp(slug, "name") == 0 || strcmp(slug, "email") == 0) && (notreq || hid))
    why = "slotd's bookings always ask for the booker's name and e-mail";
  else if (strcmp(slug, "title") == 0 && shown) why = "slotd's bookings have no title field";
  else if (strcmp(slug, "guests") == 0 && (shown || req)) why = "slotd's bookings have no guests";
  else if ((strcmp(slug, "notes") == 0 || strcmp(slug, "rescheduleReason") == 0) && req)
    why = "slotd does not require notes or a reschedule reason";
  if (why && !v->failed) api_v_fail(v, "bookingFields", "bookingFields[%zu] (%s): %s", i, slug, why);
  if (jp && json_is_boolean(jp)) json_object_set(d, "disableOnPrefill", jp);
  if (v->failed || json_object_size(d) == 0) json_decref(d);
  else json_object_set_new(defaults, slug, d);
}

/* bookingFields -> native questions (custom fields), their Cal.com form and the defaults' words. */
static void fields_of(api_v_t *v, json_t *arr, json_t *n, json_t *c) {
  if (!json_is_array(arr) || json_array_size(arr) > 60) {
    api_v_fail(v, "bookingFields", "bookingFields must be an array of at most 60 fields");
    return;
  }
  json_t *questions = json_array(), *custom = json_array(), *defaults = json_object();
  size_t i;
  json_t *f;
  json_array_foreach(arr, i, f) {
    if (!json_is_object(f)) {
      api_v_fail(v, "bookingFields", "bookingFields[%zu] must be an object", i);
      break;
    }
    const char *type = json_string_value(json_object_get(f, "type"));
    const char *slug = json_string_value(json_object_get(f, "slug"));
    const char *def = NULL;
    if (type && (strcmp(type, "name") == 0 || strcmp(type, "email") == 0) && (!slug || strcmp(slug, type) == 0))
      def = type;
    else if (slug && one_of(slug, DEFAULT_SLUGS)) def = slug;
    if (def) {
      if (json_object_get(defaults, def)) {
        api_v_fail(v, "bookingFields", "bookingFields[%zu]: %s is given twice", i, def);
        break;
      }
      default_field(v, f, def, i, defaults);
      if (v->failed) break;
      continue;
    }
    const char *ntype = NULL;
    int known = 0;
    for (size_t k = 0; type && k < sizeof CUSTOM_TYPES / sizeof CUSTOM_TYPES[0]; k++)
      if (strcmp(type, CUSTOM_TYPES[k][0]) == 0) known = 1, ntype = CUSTOM_TYPES[k][1];
    if (!known) {
      api_v_fail(v, "bookingFields", "bookingFields[%zu].type must be a Cal.com booking field type", i);
      break;
    }
    if (!ntype) {
      api_v_fail(v, "bookingFields",
                 "bookingFields[%zu]: %s fields are not supported by slotd (one answer per "
                 "field: text, textarea, phone, address, number, url, select, radio or boolean)",
                 i, type);
      break;
    }
    const char *label = member_str(v, f, "label", "bookingFields", 500);
    const char *ph = member_str(v, f, "placeholder", "bookingFields", 500);
    int required = member_bool(v, f, "required", "bookingFields", 0);
    int hidden = member_bool(v, f, "hidden", "bookingFields", 0);
    int prefill = member_bool(v, f, "disableOnPrefill", "bookingFields", 0);
    if (!v->failed && (!slug || !label || !*label))
      api_v_fail(v, "bookingFields", "bookingFields[%zu]: slug and label are required", i);
    if (v->failed) break;
    /* A hidden field is not shown to the booker, so it cannot be required of them. */
    json_t *q =
        json_pack("{s:s, s:s, s:s, s:b}", "id", slug, "label", label, "type", ntype, "required", required && !hidden);
    json_t *out = json_pack("{s:b, s:s, s:s, s:s, s:b, s:s, s:b, s:b}", "isDefault", 0, "type", type, "slug", slug,
                            "label", label, "required", required, "placeholder", ph ? ph : "", "hidden", hidden,
                            "disableOnPrefill", prefill);
    json_t *opts = json_object_get(f, "options");
    if (strcmp(ntype, "select") == 0) {
      json_object_set(q, "options", opts ? opts : json_null()); /* the native rules check them */
      if (json_is_array(opts)) json_object_set(out, "options", opts);
    }
    json_array_append_new(questions, q);
    json_array_append_new(custom, out);
  }
  if (v->failed) {
    json_decref(questions);
    json_decref(custom);
    json_decref(defaults);
    return;
  }
  json_object_set_new(n, "questions", questions);
  json_object_set_new(c, "customFields", custom);
  json_object_set_new(c, "defaultFields", defaults);
}

/* ------------------------------------------------------------------ the rest */

/* Cal.com settings slotd keeps and returns without acting on them: they only change what
 * Cal.com's booking page shows. Kinds: b boolean, s string, u URL, o object. */
static const struct {
  const char *name;
  char kind;
} EXTRAS[] = {
    {"lockTimeZoneToggleOnBookingPage", 'b'},
    {"hideCalendarNotes", 'b'},
    {"hideCalendarEventDetails", 'b'},
    {"hideOrganizerEmail", 'b'},
    {"useDestinationCalendarEmail", 'b'},
    {"forwardParamsSuccessRedirect", 'b'},
    {"customName", 's'},
    {"interfaceLanguage", 's'},
    {"successRedirectUrl", 'u'},
    {"bookerLayouts", 'o'},
    {"destinationCalendar", 'o'},
    {"calVideoSettings", 'o'},
    {"metadata", 'o'},
};

/* Settings that change who may book, cancel or reschedule, or which times are offered: only
 * their "off" value is taken (b: false; o: {"disabled": true} or, for the disable* ones,
 * {"disabled": false}; n: 0). */
static const struct {
  const char *name;
  char kind;
} OFF_ONLY[] = {
    {"bookingRequiresAuthentication", 'b'},
    {"requiresBookerEmailVerification", 'b'},
    {"onlyShowFirstAvailableSlot", 'b'},
    {"allowReschedulingPastBookings", 'b'},
    {"allowReschedulingCancelledBookings", 'b'},
    {"showOptimizedSlots", 'b'},
    {"offsetStart", 'n'},
    {"bookerActiveBookingsLimit", 'o'},
    {"bookingLimitsDuration", 'o'},
    {"disableCancelling", 'd'},
    {"disableRescheduling", 'd'},
};

static void extras_of(api_v_t *v, json_t *b, json_t *c) {
  json_t *extras = json_object();
  for (size_t k = 0; k < sizeof EXTRAS / sizeof EXTRAS[0] && !v->failed; k++) {
    const char *name = EXTRAS[k].name;
    json_t *j = json_object_get(b, name);
    if (!j) continue;
    int ok = json_is_null(j) || (EXTRAS[k].kind == 'b' && json_is_boolean(j)) ||
             (EXTRAS[k].kind == 's' && json_is_string(j) && json_string_length(j) <= 500) ||
             (EXTRAS[k].kind == 'u' && json_is_string(j) && api_valid_http_url(json_string_value(j)) &&
              json_string_length(j) <= 2000) ||
             (EXTRAS[k].kind == 'o' && json_is_object(j));
    if (ok && EXTRAS[k].kind == 'o') {
      char *text = json_dumps(j, JSON_COMPACT);
      ok = text && strlen(text) <= 4096;
      free(text);
    }
    if (!ok) {
      api_v_fail(v, name, "%s must be %s", name,
                 EXTRAS[k].kind == 'b'   ? "true or false"
                 : EXTRAS[k].kind == 's' ? "a string of at most 500 characters"
                 : EXTRAS[k].kind == 'u' ? "an http(s) URL"
                                         : "an object (at most 4096 characters of JSON)");
      break;
    }
    json_object_set(extras, name, j); /* null removes a stored one */
  }
  for (size_t k = 0; k < sizeof OFF_ONLY / sizeof OFF_ONLY[0] && !v->failed; k++) {
    const char *name = OFF_ONLY[k].name;
    json_t *j = json_object_get(b, name);
    if (!j || json_is_null(j)) continue;
    int off = (OFF_ONLY[k].kind == 'b' && json_is_false(j)) ||
              (OFF_ONLY[k].kind == 'n' && json_is_number(j) && json_number_value(j) == 0) ||
              (OFF_ONLY[k].kind == 'o' && (is_disabled(j) || (json_is_object(j) && json_object_size(j) == 0))) ||
              (OFF_ONLY[k].kind == 'd' && json_is_object(j) && !json_is_true(json_object_get(j, "disabled")));
    if (!off) api_v_fail(v, name, "%s is not supported by slotd: only its default (off) is accepted", name);
  }
  if (v->failed) json_decref(extras);
  else json_object_set_new(c, "extras", extras);
}

void calcom_event_type_translate(api_v_t *v, json_t *b, int create, json_t *n, json_t *c) {
  const char *s;
  long long x;
  int null, flag;
  json_t *j;
  static const char *const not_null[] = {"lengthInMinutes", "title", "slug", "locations", "bookingFields", NULL};
  for (const char *const *f = not_null; *f; f++) api_v_not_null(v, *f);
  if (create && !v->failed)
    for (const char *const *f = not_null; f < not_null + 3; f++)
      if (!api_v_present(v, *f)) api_v_fail(v, *f, "%s is required", *f);
  if (api_v_int(v, "lengthInMinutes", 1, 100000, 0, NULL, &x))
    json_object_set_new(n, "duration_minutes", json_integer(x));
  if ((s = api_v_str(v, "title", 0, 0, 100000))) json_object_set_new(n, "name", json_string(s));
  if ((s = api_v_str(v, "slug", 0, 0, 100000))) json_object_set_new(n, "slug", json_string(s));
  int present;
  s = api_v_str_or_null(v, "description", 100000, &present);
  if (present && !v->failed) json_object_set_new(n, "description", s ? json_string(s) : json_null());
  /* Several lengths: the native durations (the default length always among them). */
  if (!v->failed && (j = json_object_get(b, "lengthInMinutesOptions"))) {
    json_t *d = json_array();
    size_t i;
    json_t *o;
    if (!json_is_array(j) && !json_is_null(j))
      api_v_fail(v, "lengthInMinutesOptions", "lengthInMinutesOptions must be an array of lengths in minutes");
    json_array_foreach(j, i, o) {
      char *end = NULL;
      double m = json_is_number(o) ? json_number_value(o) : json_is_string(o) ? strtod(json_string_value(o), &end) : -1;
      if ((end && (*end || end == json_string_value(o))) || !(m >= 1 && m <= 1440) || m != (double)(long long)m) {
        api_v_fail(v, "lengthInMinutesOptions", "lengthInMinutesOptions must be whole minutes (1-1440)");
        break;
      }
      json_array_append_new(d, json_integer((long long)m));
    }
    if (v->failed) json_decref(d);
    else json_object_set_new(n, "durations", json_array_size(d) ? d : (json_decref(d), json_null()));
  }
  /* Recurrence: the native one has Cal.com's three fields (yearly is refused by the native rules). */
  if (!v->failed && (j = json_object_get(b, "recurrence"))) {
    if (json_is_null(j) || is_disabled(j)) json_object_set_new(n, "recurrence", json_null());
    else if (!json_is_object(j)) api_v_fail(v, "recurrence", "recurrence must be {interval, occurrences, frequency}");
    else {
      json_t *r = json_object();
      static const char *const keys[] = {"frequency", "interval", "occurrences", NULL};
      for (const char *const *k = keys; *k; k++)
        if (json_object_get(j, *k)) json_object_set(r, *k, json_object_get(j, *k));
      json_object_set_new(n, "recurrence", r);
    }
  }
  if (!v->failed && (j = json_object_get(b, "locations"))) locations_of(v, j, n, c);
  if (!v->failed && (j = json_object_get(b, "bookingFields"))) fields_of(v, j, n, c);
  if (api_v_bool(v, "disableGuests", &flag) && !flag)
    api_v_fail(v, "disableGuests", "slotd's bookings have no guests: disableGuests can only be true");
  if (api_v_int(v, "slotInterval", 1, 100000, 1, &null, &x) || null)
    json_object_set_new(n, "slot_interval_minutes", null ? json_null() : json_integer(x));
  if (api_v_int(v, "minimumBookingNotice", 0, 8760 * 60, 0, NULL, &x)) {
    if (x % 60)
      api_v_fail(v, "minimumBookingNotice",
                 "minimumBookingNotice must be whole hours (a multiple of 60 "
                 "minutes): slotd keeps the notice in hours");
    else json_object_set_new(n, "min_notice_hours", json_integer(x / 60));
  } else if (create && !v->failed) {
    json_object_set_new(n, "min_notice_hours", json_integer(2)); /* Cal.com's default: 120 minutes */
  }
  if (api_v_int(v, "beforeEventBuffer", 0, 100000, 0, NULL, &x))
    json_object_set_new(n, "buffer_before", json_integer(x));
  if (api_v_int(v, "afterEventBuffer", 0, 100000, 0, NULL, &x)) json_object_set_new(n, "buffer_after", json_integer(x));
  if (api_v_int(v, "scheduleId", 1, INT64_MAX / 2, 1, &null, &x) || null)
    json_object_set_new(n, "schedule_id", null ? json_null() : json_integer(x));
  if (!v->failed && (j = json_object_get(b, "bookingLimitsCount")) && !json_is_null(j)) {
    if (!json_is_object(j)) api_v_fail(v, "bookingLimitsCount", "bookingLimitsCount must be an object");
    else if (json_object_get(j, "month") || json_object_get(j, "year"))
      api_v_fail(v, "bookingLimitsCount", "bookingLimitsCount: only day and week limits are supported by slotd");
    else {
      int off = is_disabled(j);
      static const char *const keys[][2] = {{"day", "limit_per_day"}, {"week", "limit_per_week"}};
      for (int k = 0; k < 2; k++) {
        json_t *lim = json_object_get(j, keys[k][0]);
        if (lim && !json_is_integer(lim) && !json_is_null(lim))
          api_v_fail(v, "bookingLimitsCount", "bookingLimitsCount.%s must be a whole number", keys[k][0]);
        json_object_set(n, keys[k][1], off || !json_is_integer(lim) ? json_null() : lim);
      }
    }
  }
  json_t *window = json_object_get(b, "bookingWindow");
  if (!v->failed && window && !json_is_null(window)) {
    const char *type = json_string_value(json_object_get(window, "type"));
    json_t *value = json_object_get(window, "value");
    if (is_disabled(window)) {
      json_object_set_new(n, "max_future_days", json_integer(MAX_BOOKING_WINDOW));
      json_object_set_new(c, "windowDisabled", json_true());
    } else if (!type || strcmp(type, "calendarDays") != 0) {
      api_v_fail(v, "bookingWindow", "bookingWindow: only {type: \"calendarDays\", value} is supported by slotd");
    } else if (json_is_true(json_object_get(window, "rolling"))) {
      api_v_fail(v, "bookingWindow", "bookingWindow: a rolling window is not supported by slotd");
    } else if (!json_is_integer(value)) {
      api_v_fail(v, "bookingWindow", "bookingWindow.value must be a whole number of days");
    } else {
      json_object_set(n, "max_future_days", value);
      json_object_set_new(c, "windowDisabled", json_false());
    }
  } else if (create && !v->failed) { /* Cal.com's default: no window */
    json_object_set_new(n, "max_future_days", json_integer(MAX_BOOKING_WINDOW));
    json_object_set_new(c, "windowDisabled", json_true());
  }
  if (api_v_bool(v, "requiresConfirmation", &flag)) json_object_set_new(n, "requires_confirmation", json_boolean(flag));
  json_t *policy = json_object_get(b, "confirmationPolicy");
  if (!v->failed && policy && !json_is_null(policy)) {
    const char *type = json_string_value(json_object_get(policy, "type"));
    if (is_disabled(policy)) json_object_set_new(n, "requires_confirmation", json_false());
    else if (!type || strcmp(type, "always") != 0)
      api_v_fail(v, "confirmationPolicy", "confirmationPolicy: only {type: \"always\"} is supported by slotd");
    else if (json_is_false(json_object_get(policy, "blockUnconfirmedBookingsInBooker")))
      api_v_fail(v, "confirmationPolicy",
                 "confirmationPolicy: an unconfirmed booking always holds its time in slotd "
                 "(blockUnconfirmedBookingsInBooker is true)");
    else json_object_set_new(n, "requires_confirmation", json_true());
  }
  json_t *seats = json_object_get(b, "seats");
  if (!v->failed && seats && !json_is_null(seats)) {
    json_t *per = json_object_get(seats, "seatsPerTimeSlot");
    if (is_disabled(seats)) {
      json_object_set_new(n, "seats", json_integer(1));
      json_object_set_new(c, "seatsMeta", json_null());
    } else if (!json_is_object(seats) || !json_is_integer(per)) {
      api_v_fail(v, "seats", "seats must be {seatsPerTimeSlot, showAttendeeInfo, showAvailabilityCount}");
    } else {
      json_object_set(n, "seats", per);
      int info = member_bool(v, seats, "showAttendeeInfo", "seats", 0);
      int count = member_bool(v, seats, "showAvailabilityCount", "seats", 1);
      json_object_set_new(c, "seatsMeta",
                          json_pack("{s:b, s:b}", "showAttendeeInfo", info, "showAvailabilityCount", count));
    }
  }
  if (api_v_bool(v, "hidden", &flag)) json_object_set_new(n, "is_secret", json_boolean(flag));
  json_t *color = json_object_get(b, "color");
  if (!v->failed && color && !json_is_null(color)) {
    const char *light = member_str(v, color, "lightThemeHex", "color", 7);
    const char *dark = member_str(v, color, "darkThemeHex", "color", 7);
    if (!v->failed && (!light || !dark || !api_valid_color(light) || !api_valid_color(dark)))
      api_v_fail(v, "color", "color must be {lightThemeHex, darkThemeHex} as #RRGGBB");
    else if (!v->failed) json_object_set_new(n, "color", json_string(light));
  }
  /* price in the currency's minor unit, as Cal.com keeps it; slotd's in major units */
  if (api_v_int(v, "price", 0, 100000000000LL, 1, &null, &x) || null) {
    char money[32] = "0";
    if (!null) snprintf(money, sizeof money, "%lld.%02lld", x / 100, x % 100);
    json_object_set_new(n, "price", null ? json_null() : json_string(money));
  }
  s = api_v_str_or_null(v, "currency", 3, &present);
  if (present && !v->failed) {
    char cur[4] = {0};
    for (int k = 0; s && k < 3 && s[k]; k++) cur[k] = (char)(s[k] >= 'a' && s[k] <= 'z' ? s[k] - 32 : s[k]);
    json_object_set_new(n, "currency", s ? json_string(cur) : json_null());
  }
  if (!v->failed) extras_of(v, b, c);
  if (!v->failed && color && !json_is_null(color))
    json_object_set(json_object_get(c, "extras"), "colorDark", json_object_get(color, "darkThemeHex"));
}

/* The native validation's failure, in Cal.com's field names. */
static void respond_native(api_v_t *nv) {
  const char *cal = calcom_field_name(calcom_event_type_fields, nv->field);
  if (cal && nv->field && strcmp(cal, nv->field) != 0) {
    size_t fl = strlen(nv->field);
    char msg[sizeof nv->message + 64];
    if (strncmp(nv->message, nv->field, fl) == 0) snprintf(msg, sizeof msg, "%s%s", cal, nv->message + fl);
    else snprintf(msg, sizeof msg, "%s: %s", cal, nv->message);
    size_t ml = strlen(msg) < sizeof nv->message - 1 ? strlen(msg) : sizeof nv->message - 1;
    memcpy(nv->message, msg, ml);
    nv->message[ml] = '\0';
    nv->field = cal;
  }
  api_v_respond(nv);
}

static void on_created(void *data, const db_result_t *r) { calcom_respond_write(data, r, 201, calcom_event_type_fields); }
static void on_saved(void *data, const db_result_t *r) { calcom_respond_write(data, r, 200, calcom_event_type_fields); }

static void on_read(void *data, const db_result_t *r) {
  http_req_t *req = data;
  if (calcom_db_failed(req, r, calcom_event_type_fields)) return;
  if (PQntuples(r->res) < 1 || PQgetisnull(r->res, 0, 0)) {
    calcom_fail(req, 404, "not found", NULL);
    return;
  }
  calcom_ok_text(req, 200, PQgetvalue(r->res, 0, 0), (size_t)PQgetlength(r->res, 0, 0));
}

static const char *base_url(http_req_t *req) {
  const char *u = api_app(req)->cfg->public_url;
  return u ? u : "";
}

static int save(http_req_t *req, const char *id) {
  if (calcom_version(req, CALCOM_V_EVENT_TYPES)) return 0;
  if (api_body_object(req)) return 0;
  int create = id == NULL;
  api_v_t v;
  api_v_init(&v, req, api_ctx(req)->body);
  json_t *n = json_object(), *c = json_object();
  calcom_event_type_translate(&v, api_ctx(req)->body, create, n, c);
  if (v.failed) {
    json_decref(n);
    json_decref(c);
    return api_v_respond(&v);
  }
  api_v_t nv;
  api_v_init(&nv, req, n);
  json_t *p = json_object();
  event_type_fields(&nv, p, create);
  json_decref(n);
  if (nv.failed) {
    json_decref(p);
    json_decref(c);
    respond_native(&nv);
    return 0;
  }
  char *pt = json_dumps(p, JSON_COMPACT), *ct = json_dumps(c, JSON_COMPACT);
  json_decref(p);
  json_decref(c);
  const char *params[5] = {api_ctx(req)->user_id_str, id, pt, ct, base_url(req)};
  api_query(req, "calcom_event_type_save", 5, params, create ? on_created : on_saved);
  free(pt);
  free(ct);
  return 0;
}

static int et_create(http_req_t *req) { return save(req, NULL); }

static int et_update(http_req_t *req) {
  const char *id = api_id_param(req, "eventTypeId", "event type not found");
  return id ? save(req, id) : 0;
}

static int et_get(http_req_t *req) {
  if (calcom_version(req, CALCOM_V_EVENT_TYPES)) return 0;
  const char *id = api_id_param(req, "eventTypeId", "event type not found");
  if (!id) return 0;
  const char *params[3] = {api_ctx(req)->user_id_str, id, base_url(req)};
  api_query(req, "calcom_event_type_get", 3, params, on_read);
  return 0;
}

static void on_deleted(void *data, const db_result_t *r) { calcom_respond_write(data, r, 200, calcom_event_type_fields); }

static int et_delete(http_req_t *req) {
  if (calcom_version(req, CALCOM_V_EVENT_TYPES)) return 0;
  const char *id = api_id_param(req, "eventTypeId", "event type not found");
  if (!id) return 0;
  const char *params[2] = {api_ctx(req)->user_id_str, id};
  api_query(req, "calcom_event_type_delete", 2, params, on_deleted);
  return 0;
}

/* GET /v2/event-types: public by username (hidden types only to their owner, when the caller
 * authenticates as them); with a credential and no username, the caller's own. */
static void list_query(http_req_t *req) {
  api_ctx_t *ctx = api_ctx(req);
  const char *username = api_query_param(req, "username");
  if (!username && !ctx->user_id) {
    calcom_fail(req, 401, "username is required without authentication", "username");
    return;
  }
  const char *sort = api_query_param(req, "sortCreatedAt");
  const char *params[5] = {ctx->user_id ? ctx->user_id_str : NULL, username, api_query_param(req, "eventSlug"), sort,
                           base_url(req)};
  api_query(req, "calcom_event_types_list", 5, params, on_read);
}

static int et_list(http_req_t *req) {
  if (calcom_version(req, CALCOM_V_EVENT_TYPES)) return 0;
  const char *username = api_query_param(req, "username"), *slug = api_query_param(req, "eventSlug");
  const char *sort = api_query_param(req, "sortCreatedAt");
  if (api_query_param(req, "usernames")) {
    calcom_fail(req, 400, "dynamic event types (usernames) are not supported by slotd", "usernames");
    return 0;
  }
  if (api_query_param(req, "orgSlug") || api_query_param(req, "orgId")) {
    calcom_fail(req, 400, "orgSlug and orgId are not supported: usernames are unique in slotd", "orgSlug");
    return 0;
  }
  if (slug && !username) {
    calcom_fail(req, 400, "eventSlug requires username", "eventSlug");
    return 0;
  }
  if (sort && strcmp(sort, "asc") != 0 && strcmp(sort, "desc") != 0) {
    calcom_fail(req, 400, "sortCreatedAt must be asc or desc", "sortCreatedAt");
    return 0;
  }
  if (http_req_header(req, "authorization")) api_authenticate(req, list_query);
  else list_query(req);
  return 0;
}

#define AUTH CALCOM_AUTH
#define PUB CALCOM_PUB

static const http_route_t routes[] = {
    {M(HTTP_GET), "/v2/event-types", PUB(et_list)},
    {M(HTTP_POST), "/v2/event-types", AUTH(et_create)},
    {M(HTTP_GET), "/v2/event-types/:eventTypeId", AUTH(et_get)},
    {M(HTTP_PATCH), "/v2/event-types/:eventTypeId", AUTH(et_update)},
    {M(HTTP_DELETE), "/v2/event-types/:eventTypeId", AUTH(et_delete)},
    {M(HTTP_GET), "/v2/schedules", AUTH(calcom_schedules_list)},
    {M(HTTP_POST), "/v2/schedules", AUTH(calcom_schedules_create)},
    {M(HTTP_GET), "/v2/schedules/default", AUTH(calcom_schedules_default)}, /* before /:scheduleId */
    {M(HTTP_GET), "/v2/schedules/:scheduleId", AUTH(calcom_schedules_get)},
    {M(HTTP_PATCH), "/v2/schedules/:scheduleId", AUTH(calcom_schedules_update)},
    {M(HTTP_DELETE), "/v2/schedules/:scheduleId", AUTH(calcom_schedules_delete)},
};

static const api_stmt_t statements[] = {
    {"calcom_event_type_save", "SELECT body, host_ids, stale FROM api.calcom_event_type_save($1, $2, $3, $4, $5)", 1},
    {"calcom_event_type_get", "SELECT api.calcom_event_type_get($1, $2, $3)", 0},
    {"calcom_event_types_list", "SELECT api.calcom_event_types_list($1, $2, $3, $4, $5)", 0},
    {"calcom_event_type_delete", "SELECT body, host_ids, stale FROM api.calcom_event_type_delete($1, $2)", 1},
    /* the schedules' (calcom_schedules.c) */
    {"calcom_schedules_list", "SELECT api.calcom_schedules_list($1)", 0},
    {"calcom_schedule_get", "SELECT api.calcom_schedule_get($1, $2)", 0},
    {"calcom_schedule_save", "SELECT body, host_ids, stale FROM api.calcom_schedule_save($1, $2, $3)", 1},
    {"calcom_schedule_delete", "SELECT body, host_ids, stale FROM api.schedule_delete($1, $2)", 1},
    {NULL, NULL, 0},
};

static void register_statements(void) { api_register_statements(statements); }

const app_module_t api_calcom_event_types_module = {"calcom-event_types", routes,
                                                    (int)(sizeof routes / sizeof routes[0]), register_statements};
