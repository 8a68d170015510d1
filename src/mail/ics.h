/* ics.h — one booking as an iCalendar object (RFC 5545, iTIP methods of RFC 5546), built with
 * libical so that escaping, RFC 6868 parameter quoting and line folding are the library's, not
 * ours. Pure: no I/O, no loop, no global state of slotd's; safe to call from any thread.
 * Used by the mail templates (the invitation attached as text/calendar; method=...) and by the
 * endpoint that serves GET /api/bookings/:uid/ics; links.h reads the same struct. */
#ifndef SLOTD_MAIL_ICS_H
#define SLOTD_MAIL_ICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

/* 2999-12-31T23:59:59Z: libical 3.0 writes a later DATE-TIME as "00000000T000000". */
#define ICS_MAX_TIME INT64_C(32503679999)

/* Every string is UTF-8 and borrowed for the duration of the call. */
typedef struct {
  const char *uid;         /* stable per booking, e.g. "<booking uid>@<host name>": the caller decides */
  int sequence;            /* 0 at creation, +1 per reschedule/cancel; >= 0 */
  const char *method;      /* "REQUEST", "CANCEL" or "PUBLISH" */
  int64_t start, end;      /* Unix seconds, start <= end; written as UTC (DTSTART:...Z) */
  int64_t stamp;           /* DTSTAMP, Unix seconds */
  const char *summary;     /* event name (+ with whom: the caller composes it) */
  const char *description; /* free text incl. the manage links; may be NULL */
  const char *location;    /* may be NULL */
  const char *url;         /* may be NULL; no control characters */
  const char *organizer_name, *organizer_email; /* name may be NULL; email required unless PUBLISH */
  const char *attendee_name, *attendee_email;   /* may be NULL (no ATTENDEE without an email) */
  int cancelled;                                /* STATUS:CANCELLED (send with METHOD:CANCEL); else STATUS:CONFIRMED */
} ics_event_t;

/* The VCALENDAR text: PRODID, VERSION 2.0, CALSCALE, METHOD and one VEVENT. CRLF line ends,
 * folded at 75 octets by libical (never inside a UTF-8 sequence). Malloc'd and NUL-terminated;
 * the caller frees it with free(). *len (if len is not NULL) gets its length.
 * NULL when the event is unusable: a required field missing, an unknown method, a negative
 * sequence, end before start, a time outside years 1970-2999, or a control character in an
 * e-mail address or the URL (values libical writes verbatim, where a CR/LF would start a new
 * property) or in the UID. Text fields and names may hold any UTF-8 text: libical escapes
 * ',', ';', '\\' and newlines and drops CRs in text; in a CN it RFC 6868-encodes '"' and
 * newlines and writes a CR as a space. Other control characters pass through as they are:
 * callers hand in validated input. */
char *ics_render(const ics_event_t *e, size_t *len) WARN_UNUSED;

#endif
