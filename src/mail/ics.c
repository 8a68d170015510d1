/* ics.c — see ics.h. The VCALENDAR is a libical component tree, serialised by
 * icalcomponent_as_ical_string_r; the only text formed here is "mailto:" + address. */
#include "mail/ics.h"

#include <libical/ical.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* Values libical writes without escaping (URI, CAL-ADDRESS) must not hold a control byte:
 * a CR or LF there would end the property line. */
static int has_ctl(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f) return 1;
  return 0;
}

static int method_of(const char *m, icalproperty_method *out) {
  if (!m) return -1;
  if (strcmp(m, "REQUEST") == 0) *out = ICAL_METHOD_REQUEST;
  else if (strcmp(m, "CANCEL") == 0) *out = ICAL_METHOD_CANCEL;
  else if (strcmp(m, "PUBLISH") == 0) *out = ICAL_METHOD_PUBLISH;
  else return -1;
  return 0;
}

static int valid(const ics_event_t *e, icalproperty_method *method) {
  if (method_of(e->method, method) != 0) return 0;
  if (!e->uid || !*e->uid || has_ctl(e->uid) || !e->summary || e->sequence < 0) return 0;
  if (e->start < 0 || e->start > ICS_MAX_TIME || e->end < e->start || e->end > ICS_MAX_TIME) return 0;
  if (e->stamp < 0 || e->stamp > ICS_MAX_TIME) return 0;
  if (e->url && has_ctl(e->url)) return 0;
  if (e->organizer_email ? !*e->organizer_email || has_ctl(e->organizer_email) : *method != ICAL_METHOD_PUBLISH)
    return 0;
  if (e->attendee_email && (!*e->attendee_email || has_ctl(e->attendee_email))) return 0;
  return 1;
}

static struct icaltimetype utc(int64_t t) {
  return icaltime_from_timet_with_zone((time_t)t, 0, icaltimezone_get_utc_timezone());
}

/* ORGANIZER or ATTENDEE: "mailto:" + address, the name as CN (libical quotes it and encodes
 * '"', CR and LF per RFC 6868, so a name cannot close the parameter or the line). */
static icalproperty *cal_address(icalproperty_kind kind, const char *name, const char *email) {
  buf_t b = BUF_INIT;
  buf_puts(&b, "mailto:");
  buf_puts(&b, email);
  icalproperty *p = icalproperty_new(kind);
  icalproperty_set_value(p, icalvalue_new_caladdress(b.data));
  buf_free(&b);
  if (name && *name) icalproperty_add_parameter(p, icalparameter_new_cn(name));
  return p;
}

char *ics_render(const ics_event_t *e, size_t *len) {
  icalproperty_method method;
  if (!valid(e, &method)) return NULL;

  icalcomponent *cal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
  icalcomponent_add_property(cal, icalproperty_new_prodid("-//slotd//slotd//EN"));
  icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
  icalcomponent_add_property(cal, icalproperty_new_calscale("GREGORIAN"));
  icalcomponent_add_property(cal, icalproperty_new_method(method));

  icalcomponent *ev = icalcomponent_new(ICAL_VEVENT_COMPONENT);
  icalcomponent_add_property(ev, icalproperty_new_uid(e->uid));
  icalcomponent_add_property(ev, icalproperty_new_sequence(e->sequence));
  icalcomponent_add_property(ev, icalproperty_new_dtstamp(utc(e->stamp)));
  icalcomponent_add_property(ev, icalproperty_new_dtstart(utc(e->start)));
  icalcomponent_add_property(ev, icalproperty_new_dtend(utc(e->end)));
  icalcomponent_add_property(ev, icalproperty_new_summary(e->summary));
  if (e->description) icalcomponent_add_property(ev, icalproperty_new_description(e->description));
  if (e->location) icalcomponent_add_property(ev, icalproperty_new_location(e->location));
  if (e->url) icalcomponent_add_property(ev, icalproperty_new_url(e->url));
  if (e->organizer_email)
    icalcomponent_add_property(ev, cal_address(ICAL_ORGANIZER_PROPERTY, e->organizer_name, e->organizer_email));
  if (e->attendee_email) {
    /* The invitee chose the time by booking it: ACCEPTED, unless the booking is gone. No
     * RSVP: replies go nowhere (slotd reads no mail); changes go through the manage links. */
    icalproperty *a = cal_address(ICAL_ATTENDEE_PROPERTY, e->attendee_name, e->attendee_email);
    icalproperty_add_parameter(a, icalparameter_new_role(ICAL_ROLE_REQPARTICIPANT));
    icalproperty_add_parameter(
        a, icalparameter_new_partstat(e->cancelled ? ICAL_PARTSTAT_NEEDSACTION : ICAL_PARTSTAT_ACCEPTED));
    icalproperty_add_parameter(a, icalparameter_new_rsvp(ICAL_RSVP_FALSE));
    icalcomponent_add_property(ev, a);
  }
  icalcomponent_add_property(ev, icalproperty_new_status(e->cancelled ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED));
  icalcomponent_add_component(cal, ev);

  /* libical's buffer comes from its own allocator: copy it, so the caller's free() is right. */
  char *text = icalcomponent_as_ical_string_r(cal);
  icalcomponent_free(cal);
  if (!text) return NULL;
  size_t n = strlen(text);
  char *out = xstrndup(text, n);
  icalmemory_free_buffer(text);
  if (len) *len = n;
  return out;
}
