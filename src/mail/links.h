/* links.h — "Add to Calendar" links for one booking (what Cal.com serves next to its .ics):
 * Google Calendar, Outlook.com, Office 365 and Yahoo compose pages pre-filled from an
 * ics_event_t. Pure: no I/O. */
#ifndef SLOTD_MAIL_LINKS_H
#define SLOTD_MAIL_LINKS_H

#include <jansson.h>

#include "core/util.h"
#include "mail/ics.h"

/* Sets "google", "outlook", "office365", "yahoo" and, when ics_url is not NULL, "ics" (ics_url
 * as given) on the object out; existing keys of those names are replaced, others kept.
 * Read from e: summary (required), description, location, start, end; the rest is ignored.
 * Each user string is percent-encoded as a URI component (url_encode: RFC 3986 unreserved
 * kept, every other UTF-8 byte as %XX); the times are UTC, written literally ('/', ':' and
 * digits are legal in a query). NULL description or location: the parameter is left out.
 * 0, or -EINVAL (summary missing, end before start, a time outside years 1970-2999 as in
 * ics_render, ics_url not UTF-8); out is unchanged on failure. */
int calendar_links(const ics_event_t *e, const char *ics_url, json_t *out) WARN_UNUSED;

/* The host part of public_url (SLOTD_PUBLIC_URL), or "localhost": it names this deployment in
 * invitation UIDs ("<booking uid>@<domain>", the same in every mail and served file) and in
 * Message-IDs. */
void mail_domain(const char *public_url, char *out, size_t n);

#endif
