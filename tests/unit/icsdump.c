/* icsdump — prints the .ics slotd renders for one event given as FIELD=VALUE arguments
 * (uid, sequence, method, start, end, stamp, summary, description, location, url,
 * organizer_name, organizer_email, attendee_name, attendee_email, cancelled; times in Unix
 * seconds), or with "links ICS_URL" first, the calendar_links object as JSON. Exit 1 if slotd
 * refuses the event, 2 on a bad argument. Used by tests/api/test_ics_parse.py, which parses
 * the output with python3-icalendar and urllib: implementations nobody here wrote. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/ics.h"
#include "mail/links.h"

static int set_field(ics_event_t *e, const char *arg) {
  const char *eq = strchr(arg, '=');
  if (!eq) return -1;
  size_t n = (size_t)(eq - arg);
  const char *v = eq + 1;
#define FIELD(f, value)                                \
  do {                                                 \
    if (n == strlen(#f) && strncmp(arg, #f, n) == 0) { \
      e->f = (value);                                  \
      return 0;                                        \
    }                                                  \
  } while (0)
  FIELD(uid, v);
  FIELD(method, v);
  FIELD(summary, v);
  FIELD(description, v);
  FIELD(location, v);
  FIELD(url, v);
  FIELD(organizer_name, v);
  FIELD(organizer_email, v);
  FIELD(attendee_name, v);
  FIELD(attendee_email, v);
  FIELD(sequence, (int)strtol(v, NULL, 10));
  FIELD(cancelled, (int)strtol(v, NULL, 10));
  FIELD(start, strtoll(v, NULL, 10));
  FIELD(end, strtoll(v, NULL, 10));
  FIELD(stamp, strtoll(v, NULL, 10));
#undef FIELD
  return -1;
}

int main(int argc, char **argv) {
  ics_event_t e = {0};
  int i = 1;
  const char *links_ics = NULL;
  if (argc > 2 && strcmp(argv[1], "links") == 0) links_ics = argv[2], i = 3;
  for (; i < argc; i++)
    if (set_field(&e, argv[i]) != 0) {
      fprintf(stderr, "icsdump: bad argument %s\n", argv[i]);
      return 2;
    }
  if (links_ics) {
    json_t *o = json_object();
    int rc = calendar_links(&e, links_ics, o);
    if (rc == 0) {
      char *s = json_dumps(o, JSON_SORT_KEYS);
      puts(s);
      free(s);
    }
    json_decref(o);
    return rc == 0 ? 0 : 1;
  }
  size_t len;
  char *ics = ics_render(&e, &len);
  if (!ics) return 1;
  fwrite(ics, 1, len, stdout);
  free(ics);
  return 0;
}
