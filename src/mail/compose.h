/* compose.h — the notification e-mails of issue 14 as complete RFC 5322 messages. Pure: no
 * I/O of its own, no database, no SMTP (the outbox calls mail_compose and hands the text to
 * smtp.h). The only outside state read is the time zone cache of sched/tzif.h (tz_get loads
 * a zone's file on its first use, and its cache belongs to the loop thread: call
 * mail_compose there) and the CSPRNG (boundaries, Message-ID).
 *
 * Layout (what Gmail and Outlook read as an invitation):
 *   multipart/mixed
 *     multipart/alternative
 *       text/plain; charset=UTF-8              quoted-printable
 *       text/html; charset=UTF-8               quoted-printable
 *       text/calendar; method=M; charset=UTF-8 base64   (only with ics)
 *     application/ics; name="invite.ics"       base64, attachment (only with ics)
 * Every body part is quoted-printable or base64, so no line exceeds 76 octets and the
 * boundaries ("=_" + 32 random hex digits), which quoted-printable and base64 cannot produce,
 * never occur in the content.
 *
 * Texts come from src/mail/templates/ (one file per kind: a Subject line, a blank line, the
 * text body; an HTML layout around the body), compiled into the binary. The HTML part is the
 * same body with every string HTML-escaped, paragraphs as <p>, links as <a href> and buttons
 * in brand_color.
 *
 * Times are shown on the recipient's wall clock through sched/tzif.h (never the C library's
 * TZ): "Thursday, 3 December 2026, 14:30–15:00 (Europe/London, GMT)", the zone named by its
 * IANA name and its UTC offset in effect ("GMT", "GMT+1", "GMT+5:30"; tzif.h keeps offsets, not
 * abbreviations such as BST), or "(UTC)" when to_tz is NULL or unknown.
 *
 * Headers: From, To, Reply-To (when given), Subject, Date, Message-ID, MIME-Version,
 * Content-Type, Auto-Submitted: auto-generated. Names and the subject with non-ASCII text (or
 * "=?", or too long to fit a line) are RFC 2047 encoded-words (=?UTF-8?B?...?=, each at most
 * 75 characters, one per folded line); other display names with specials are quoted strings.
 * Control characters (CR, LF, TAB, DEL, C1) and malformed UTF-8 are removed from every user
 * string before it reaches a header; bodies keep the newlines of notes and reasons. */
#ifndef SLOTD_MAIL_COMPOSE_H
#define SLOTD_MAIL_COMPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

typedef enum { MAIL_INVITEE, MAIL_HOST } mail_to_t;

/* Every string is UTF-8, borrowed for the duration of the call; NULL means "not given". */
typedef struct {
  const char *kind; /* invitee: "booked", "pending", "pending_payment", "confirmed", "declined",
                       "cancelled", "rescheduled", "reminder"; host: "host_new", "host_pending",
                       "host_cancelled", "host_rescheduled" (must agree with `to`) */
  mail_to_t to;
  const char *to_email, *to_name;     /* the recipient; to_email required */
  const char *to_tz;                  /* IANA zone the times are shown in; NULL/unknown -> UTC */
  const char *from_email, *from_name; /* SLOTD_MAIL_FROM; from_email required */
  const char *reply_to;               /* may be NULL (invitee mails: the host's address) */
  const char *brand_name;             /* the booking page's display name (or org name); may be NULL */
  const char *brand_color;            /* "#rrggbb"; NULL or anything else -> #0069ff */
  const char *event_name;             /* required */
  int duration_minutes;               /* 0: taken from end - start */
  int64_t start, end;                 /* Unix seconds, start <= end */
  int64_t previous_start;             /* rescheduled: the old start, else 0 */
  const char *invitee_name, *invitee_email, *host_name, *host_email;
  const char *location;               /* may be NULL */
  const char *notes, *reason;         /* the invitee's notes; a cancel/decline reason; may be NULL */
  const char *confirmation_number;    /* may be NULL */
  /* Absolute http(s) URLs; any may be NULL and then that part of the mail is left out. */
  const char *cancel_url, *reschedule_url, *manage_url, *confirm_url, *decline_url, *ics_url;
  const char *google_url, *outlook_url; /* add-to-calendar links (calendar_links) */
  const char *ics;                      /* the invitation (ics_render output) or NULL */
  size_t ics_len;
  const char *ics_method;        /* "REQUEST", "CANCEL" or "PUBLISH"; NULL: the METHOD of ics,
                                    else CANCEL for the cancelled kinds and REQUEST for the rest;
                                    must agree with the METHOD of ics */
  const char *message_id_domain; /* Message-ID: <random@domain>; NULL: from_email's domain */
  int64_t now;                   /* Date: header, Unix seconds */
} mail_msg_t;

/* The whole message (headers, blank line, body) with CRLF line ends, malloc'd and
 * NUL-terminated; the caller frees it. *len (if len is not NULL) gets its length.
 * NULL when a field cannot be used: unknown kind or one that disagrees with `to`, a missing
 * or malformed to_email/from_email/reply_to (an address needs one '@' and no spaces, control
 * characters or <>()[],;:\" ), no event_name, end before start, a link that is not an
 * http(s) URL of printable ASCII without spaces or any of "<>\^`{|}, a bad
 * ics_method (or one that disagrees with the calendar's METHOD) or message_id_domain. */
char *mail_compose(const mail_msg_t *m, size_t *len) WARN_UNUSED;

#endif
