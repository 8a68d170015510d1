/* links.c — see links.h. Parameter names and date formats follow what the services accept
 * today (none of them is documented officially): Google's render?action=TEMPLATE takes
 * dates=START/END in basic ISO 8601 UTC, Outlook's deeplink compose takes startdt/enddt in
 * extended ISO 8601 UTC, Yahoo's v=60 takes st/et like Google. */
#include "mail/links.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/timeutil.h"

/* One service's compose page: its fixed prefix, then the names of its parameters. */
typedef struct {
  const char *key;      /* in calendar_links' object */
  const char *prefix;   /* up to and including the fixed parameters */
  const char *title;    /* parameter of the summary */
  const char *start;    /* of the start time; with end NULL, of "START/END" (Google's dates) */
  const char *end;      /* of the end time, or NULL */
  const char *details;  /* of the description */
  const char *location; /* of the location */
  int extended;         /* times as "2026-03-10T19:00:00Z", else "20260310T190000Z" */
} link_service_t;

static const link_service_t services[] = {
    {"google", "https://calendar.google.com/calendar/render?action=TEMPLATE", "text", "dates", NULL, "details",
     "location", 0},
    {"outlook", "https://outlook.live.com/calendar/0/deeplink/compose?path=/calendar/action/compose&rru=addevent",
     "subject", "startdt", "enddt", "body", "location", 1},
    {"office365", "https://outlook.office.com/calendar/0/deeplink/compose?path=/calendar/action/compose&rru=addevent",
     "subject", "startdt", "enddt", "body", "location", 1},
    {"yahoo", "https://calendar.yahoo.com/?v=60", "title", "st", "et", "desc", "in_loc", 0},
};

/* "&name=" + value percent-encoded; nothing when value is NULL. */
static void param(buf_t *b, const char *name, const char *value) {
  if (!value) return;
  char *enc = url_encode(value);
  buf_printf(b, "&%s=%s", name, enc);
  free(enc);
}

/* t as time_format_utc writes it ("2026-03-10T19:00:00Z"), or without '-' and ':'. */
static void format_time(int64_t t, int extended, char out[32]) {
  time_format_utc(t, out, 32);
  if (extended) return;
  size_t n = 0;
  for (const char *p = out; *p; p++)
    if (*p != '-' && *p != ':') out[n++] = *p;
  out[n] = '\0';
}

/* The service's link, malloc'd. */
static char *link_of(const link_service_t *s, const ics_event_t *e) {
  char start[32], end[32];
  format_time(e->start, s->extended, start);
  format_time(e->end, s->extended, end);
  buf_t b = BUF_INIT;
  buf_puts(&b, s->prefix);
  param(&b, s->title, e->summary);
  if (s->end) buf_printf(&b, "&%s=%s&%s=%s", s->start, start, s->end, end);
  else buf_printf(&b, "&%s=%s/%s", s->start, start, end);
  param(&b, s->details, e->description);
  param(&b, s->location, e->location);
  return b.data;
}

int calendar_links(const ics_event_t *e, const char *ics_url, json_t *out) {
  if (!e->summary || e->start < 0 || e->end < e->start || e->end > ICS_MAX_TIME) return -EINVAL;
  json_t *ics = NULL;
  if (ics_url && !(ics = json_string(ics_url))) return -EINVAL;
  for (size_t i = 0; i < ARRAY_SIZE(services); i++) {
    char *url = link_of(&services[i], e); /* ASCII: json_string cannot refuse it */
    json_object_set_new(out, services[i].key, json_string(url));
    free(url);
  }
  if (ics) json_object_set_new(out, "ics", ics);
  return 0;
}

void mail_domain(const char *public_url, char *out, size_t n) {
  const char *h = public_url ? strstr(public_url, "://") : NULL;
  snprintf(out, n, "%s", h ? h + 3 : "");
  out[strcspn(out, ":/?#@")] = '\0';
  if (!out[0]) snprintf(out, n, "localhost");
}
