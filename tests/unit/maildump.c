/* maildump — prints the e-mail slotd composes for one kind: `maildump KIND [FIELD=VALUE...]`.
 * A sample booking (2026-12-03 14:30-15:00 UTC, shown in Europe/London) fills every field;
 * arguments replace string fields of mail_msg_t by name (to_name, host_name, notes, cancel_url,
 * ...; an empty value means NULL), "to_tz", "brand_color", "previous_start", "now", and
 * "ics=0" leaves the invitation out. Kinds that carry an invitation get one from ics_render
 * (METHOD:CANCEL for the cancelled ones). Exit 1 if mail_compose refuses, 2 on a bad argument.
 * Used by tests/api/test_mail_compose.py, which parses the output with Python's email package
 * and python3-icalendar. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/compose.h"
#include "mail/ics.h"

#define START INT64_C(1796308200) /* 2026-12-03T14:30:00Z, a Thursday */

static int set_field(mail_msg_t *m, int *with_ics, const char *arg) {
  const char *eq = strchr(arg, '=');
  if (!eq) return -1;
  size_t n = (size_t)(eq - arg);
  const char *v = eq + 1, *s = *v ? v : NULL;
#define FIELD(f, value)                                \
  do {                                                 \
    if (n == strlen(#f) && strncmp(arg, #f, n) == 0) { \
      m->f = (value);                                  \
      return 0;                                        \
    }                                                  \
  } while (0)
  FIELD(to_email, s);
  FIELD(to_name, s);
  FIELD(to_tz, s);
  FIELD(from_email, s);
  FIELD(from_name, s);
  FIELD(reply_to, s);
  FIELD(brand_name, s);
  FIELD(brand_color, s);
  FIELD(event_name, s);
  FIELD(invitee_name, s);
  FIELD(invitee_email, s);
  FIELD(host_name, s);
  FIELD(host_email, s);
  FIELD(location, s);
  FIELD(notes, s);
  FIELD(reason, s);
  FIELD(confirmation_number, s);
  FIELD(cancel_url, s);
  FIELD(reschedule_url, s);
  FIELD(manage_url, s);
  FIELD(confirm_url, s);
  FIELD(decline_url, s);
  FIELD(ics_url, s);
  FIELD(google_url, s);
  FIELD(outlook_url, s);
  FIELD(message_id_domain, s);
  FIELD(previous_start, strtoll(v, NULL, 10));
  FIELD(now, strtoll(v, NULL, 10));
#undef FIELD
  if (strncmp(arg, "ics=", 4) == 0) {
    *with_ics = atoi(v);
    return 0;
  }
  return -1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: maildump KIND [FIELD=VALUE...]\n");
    return 2;
  }
  const char *kind = argv[1];
  int host = strncmp(kind, "host_", 5) == 0;
  int cancel = strstr(kind, "cancelled") != NULL;
  int with_ics = strcmp(kind, "booked") == 0 || strcmp(kind, "confirmed") == 0 || strstr(kind, "rescheduled") ||
                 cancel || strcmp(kind, "host_new") == 0;
  mail_msg_t m = {
      .kind = kind,
      .to = host ? MAIL_HOST : MAIL_INVITEE,
      .to_email = host ? "ann@slotd.example" : "bob@example.org",
      .to_name = host ? "Ann Host" : "Bob Guest",
      .to_tz = "Europe/London",
      .from_email = "bookings@slotd.example",
      .from_name = "Acme Bookings",
      .reply_to = host ? NULL : "ann@slotd.example",
      .brand_name = "Acme",
      .brand_color = "#0a7d3b",
      .event_name = "Intro call",
      .duration_minutes = 30,
      .start = START,
      .end = START + 1800,
      .previous_start = strstr(kind, "rescheduled") ? START - 86400 : 0,
      .invitee_name = "Bob Guest",
      .invitee_email = "bob@example.org",
      .host_name = "Ann Host",
      .host_email = "ann@slotd.example",
      .location = "Main St. 1, Room \"A\"",
      .notes = "Looking forward to it.\nSecond line & more.",
      .reason = cancel || strcmp(kind, "declined") == 0 ? "Something came up" : NULL,
      .confirmation_number = "SLT-7F3A",
      .cancel_url = "https://slotd.example/b/7f3a/cancel?token=abc&x=1",
      .reschedule_url = "https://slotd.example/b/7f3a/reschedule?token=abc",
      .manage_url = "https://slotd.example/b/7f3a?token=abc",
      .confirm_url = host ? "https://slotd.example/api/bookings/confirm?token=c0ff33" : NULL,
      .decline_url = host ? "https://slotd.example/api/bookings/decline?token=dec1" : NULL,
      .ics_url = "https://slotd.example/api/bookings/7f3a/ics?token=abc",
      .google_url = "https://calendar.google.com/calendar/render?action=TEMPLATE&text=Intro",
      .outlook_url = "https://outlook.live.com/calendar/0/deeplink/compose?subject=Intro",
      .message_id_domain = "slotd.example",
      .now = START - 7 * 86400,
  };
  for (int i = 2; i < argc; i++)
    if (set_field(&m, &with_ics, argv[i]) != 0) {
      fprintf(stderr, "maildump: bad argument %s\n", argv[i]);
      return 2;
    }
  char *ics = NULL;
  if (with_ics) {
    ics_event_t e = {
        .uid = "b-7f3a@slotd.example",
        .sequence = m.previous_start ? 1 : cancel ? 2 : 0,
        .method = cancel ? "CANCEL" : "REQUEST",
        .start = m.start,
        .end = m.end,
        .stamp = m.now,
        .summary = "Intro call between Ann Host and Bob Guest",
        .description = m.manage_url,
        .location = m.location,
        .organizer_name = "Ann Host",
        .organizer_email = "ann@slotd.example",
        .attendee_name = "Bob Guest",
        .attendee_email = "bob@example.org",
        .cancelled = cancel,
    };
    ics = ics_render(&e, &m.ics_len);
    if (!ics) {
      fprintf(stderr, "maildump: ics_render refused the sample event\n");
      return 2;
    }
    m.ics = ics;
  }
  size_t len;
  char *msg = mail_compose(&m, &len);
  free(ics);
  if (!msg) return 1;
  fwrite(msg, 1, len, stdout);
  free(msg);
  return 0;
}
