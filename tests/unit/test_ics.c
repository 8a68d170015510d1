/* Calendar files and add-to-calendar links (issue 14): the lines ics_render writes (through
 * libical), its refusals, escaping, folding and the parameter quoting that keeps a hostile name
 * inside its CN; url_encode; the exact links calendar_links builds. The same output is parsed
 * by python3-icalendar in tests/api/test_ics_parse.py. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>

#include "check.h"
#include "core/util.h"
#include "mail/ics.h"
#include "mail/links.h"

#define T0 1772600000 /* 2026-03-04T04:53:20Z */

static ics_event_t sample(void) {
  return (ics_event_t){
      .uid = "b-123@slotd.example",
      .sequence = 0,
      .method = "REQUEST",
      .start = T0,
      .end = T0 + 1800,
      .stamp = T0 - 86400,
      .summary = "Intro call between Ann and Bob",
      .description = "Cancel: https://slotd.example/c?t=1",
      .location = "Room 1",
      .url = "https://slotd.example/b/123",
      .organizer_name = "Ann Host",
      .organizer_email = "ann@slotd.example",
      .attendee_name = "Bob Guest",
      .attendee_email = "bob@example.org",
  };
}

/* The text with folding undone (CRLF + one space or tab removed), malloc'd. */
static char *unfold(const char *s) {
  char *out = xmalloc(strlen(s) + 1), *o = out;
  while (*s) {
    if (s[0] == '\r' && s[1] == '\n' && (s[2] == ' ' || s[2] == '\t')) s += 3;
    else *o++ = *s++;
  }
  *o = '\0';
  return out;
}

/* The unfolded content line that starts with prefix (without its CRLF), or NULL; the second
 * of two such lines counts as absent too (a property must appear once). */
static const char *line(const char *unfolded, const char *prefix) {
  static char found[4096];
  const char *hit = NULL;
  size_t plen = strlen(prefix);
  for (const char *p = unfolded; *p;) {
    const char *eol = strstr(p, "\r\n");
    if (!eol) break;
    if (strncmp(p, prefix, plen) == 0) {
      if (hit) return NULL;
      hit = p;
      size_t n = (size_t)(eol - p) < sizeof found - 1 ? (size_t)(eol - p) : sizeof found - 1;
      memcpy(found, p, n);
      found[n] = '\0';
    }
    p = eol + 2;
  }
  return hit ? found : NULL;
}

static int count_lines_starting(const char *unfolded, const char *prefix) {
  int n = 0;
  size_t plen = strlen(prefix);
  for (const char *p = unfolded; *p;) {
    if (strncmp(p, prefix, plen) == 0) n++;
    const char *eol = strstr(p, "\r\n");
    if (!eol) break;
    p = eol + 2;
  }
  return n;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Every physical line ends with CRLF, holds no other CR or LF and is at most 75 octets; a
 * continuation line does not start inside a UTF-8 sequence. */
static int well_formed(const char *s) {
  while (*s) {
    const char *eol = strstr(s, "\r\n");
    if (!eol || eol - s > 75) return 0;
    for (const char *p = s; p < eol; p++)
      if (*p == '\r' || *p == '\n') return 0;
    if (*s == ' ' && ((unsigned char)s[1] & 0xC0) == 0x80) return 0;
    s = eol + 2;
  }
  return 1;
}

static void test_basic(void) {
  ics_event_t e = sample();
  size_t len = 0;
  char *ics = ics_render(&e, &len);
  CHECK(ics != NULL);
  if (!ics) return;
  CHECK_EQ(len, strlen(ics));
  CHECK(strncmp(ics, "BEGIN:VCALENDAR\r\n", 17) == 0);
  CHECK(ends_with(ics, "END:VEVENT\r\nEND:VCALENDAR\r\n"));
  CHECK(well_formed(ics));
  char *u = unfold(ics);
  CHECK_STR(line(u, "PRODID"), "PRODID:-//slotd//slotd//EN");
  CHECK_STR(line(u, "VERSION"), "VERSION:2.0");
  CHECK_STR(line(u, "CALSCALE"), "CALSCALE:GREGORIAN");
  CHECK_STR(line(u, "METHOD"), "METHOD:REQUEST");
  CHECK_EQ(count_lines_starting(u, "BEGIN:VEVENT\r\n"), 1);
  CHECK_STR(line(u, "UID"), "UID:b-123@slotd.example");
  CHECK_STR(line(u, "SEQUENCE"), "SEQUENCE:0");
  CHECK_STR(line(u, "DTSTAMP"), "DTSTAMP:20260303T045320Z");
  CHECK_STR(line(u, "DTSTART"), "DTSTART:20260304T045320Z");
  CHECK_STR(line(u, "DTEND"), "DTEND:20260304T052320Z");
  CHECK_STR(line(u, "SUMMARY"), "SUMMARY:Intro call between Ann and Bob");
  CHECK_STR(line(u, "DESCRIPTION"), "DESCRIPTION:Cancel: https://slotd.example/c?t=1");
  CHECK_STR(line(u, "LOCATION"), "LOCATION:Room 1");
  CHECK_STR(line(u, "URL"), "URL:https://slotd.example/b/123");
  CHECK_STR(line(u, "ORGANIZER"), "ORGANIZER;CN=Ann Host:mailto:ann@slotd.example");
  CHECK_STR(line(u, "ATTENDEE"),
            "ATTENDEE;CN=Bob Guest;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE:mailto:bob@example.org");
  CHECK_STR(line(u, "STATUS"), "STATUS:CONFIRMED");
  free(u);
  free(ics);
}

static void test_cancel_and_optional(void) {
  ics_event_t e = sample();
  e.method = "CANCEL";
  e.cancelled = 1;
  e.sequence = 2;
  char *ics = ics_render(&e, NULL);
  CHECK(ics != NULL);
  char *u = unfold(ics ? ics : "");
  CHECK_STR(line(u, "METHOD"), "METHOD:CANCEL");
  CHECK_STR(line(u, "STATUS"), "STATUS:CANCELLED");
  CHECK_STR(line(u, "SEQUENCE"), "SEQUENCE:2");
  CHECK_STR(line(u, "UID"), "UID:b-123@slotd.example");
  free(u);
  free(ics);

  /* PUBLISH needs no organizer; absent optional fields leave no property behind. */
  e = sample();
  e.method = "PUBLISH";
  e.description = e.location = e.url = NULL;
  e.organizer_name = e.organizer_email = e.attendee_name = e.attendee_email = NULL;
  ics = ics_render(&e, NULL);
  CHECK(ics != NULL);
  u = unfold(ics ? ics : "");
  CHECK_STR(line(u, "METHOD"), "METHOD:PUBLISH");
  CHECK(strstr(u, "DESCRIPTION") == NULL && strstr(u, "LOCATION") == NULL && strstr(u, "URL") == NULL);
  CHECK(strstr(u, "ORGANIZER") == NULL && strstr(u, "ATTENDEE") == NULL);
  free(u);
  free(ics);

  /* An attendee without a name: no CN. */
  e = sample();
  e.attendee_name = NULL;
  ics = ics_render(&e, NULL);
  u = unfold(ics ? ics : "");
  CHECK_STR(line(u, "ATTENDEE"), "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE:mailto:bob@example.org");
  free(u);
  free(ics);
}

static void test_refusals(void) {
  ics_event_t e;
#define REFUSED(mutation)            \
  do {                               \
    e = sample();                    \
    mutation;                        \
    char *r_ = ics_render(&e, NULL); \
    CHECK(r_ == NULL && #mutation);  \
    free(r_);                        \
  } while (0)
  REFUSED(e.method = "REPLY");
  REFUSED(e.method = NULL);
  REFUSED(e.uid = NULL);
  REFUSED(e.uid = "");
  REFUSED(e.summary = NULL);
  REFUSED(e.sequence = -1);
  REFUSED(e.end = e.start - 1);
  REFUSED(e.start = -1);
  REFUSED(e.end = ICS_MAX_TIME + 1);
  REFUSED(e.stamp = ICS_MAX_TIME + 1);
  REFUSED(e.organizer_email = NULL);
  REFUSED(e.url = "https://x/\r\nX-INJ:1");
  REFUSED(e.organizer_email = "a@x\nX-INJ:1");
  REFUSED(e.attendee_email = "b@x\r");
  REFUSED(e.attendee_email = "");
  REFUSED(e.uid = "u\n1");
#undef REFUSED
  e = sample();
  e.start = e.end = ICS_MAX_TIME;
  char *ics = ics_render(&e, NULL);
  CHECK(ics != NULL && strstr(ics, "DTSTART:29991231T235959Z\r\n") != NULL);
  free(ics);
}

static void test_escaping(void) {
  ics_event_t e = sample();
  e.summary = "a,b;c\\d\ne";
  e.description = "line 1\r\nline 2";
  e.location = "Main St. 1, Floor 2; Room \"A\"";
  char *ics = ics_render(&e, NULL);
  CHECK(ics != NULL);
  char *u = unfold(ics ? ics : "");
  CHECK_STR(line(u, "SUMMARY"), "SUMMARY:a\\,b\\;c\\\\d\\ne");
  CHECK_STR(line(u, "DESCRIPTION"), "DESCRIPTION:line 1\\nline 2"); /* libical drops the CR */
  CHECK_STR(line(u, "LOCATION"), "LOCATION:Main St. 1\\, Floor 2\\; Room \"A\"");
  CHECK(ics && well_formed(ics));
  free(u);
  free(ics);
}

static void test_folding(void) {
  char ascii[301], utf8[2 * 120 + 1];
  memset(ascii, 'x', 300);
  ascii[300] = '\0';
  for (int i = 0; i < 120; i++) memcpy(utf8 + 2 * i, "\xc3\xa9", 2); /* é */
  utf8[240] = '\0';
  ics_event_t e = sample();
  e.description = ascii;
  e.summary = utf8;
  char *ics = ics_render(&e, NULL);
  CHECK(ics != NULL);
  if (!ics) return;
  CHECK(well_formed(ics));
  CHECK(strstr(ics, "\r\n x") != NULL);        /* the description was folded */
  CHECK(strstr(ics, "\r\n \xc3\xa9") != NULL); /* the summary too, between characters */
  char *u = unfold(ics);
  char want[400];
  snprintf(want, sizeof want, "DESCRIPTION:%s", ascii);
  CHECK_STR(line(u, "DESCRIPTION"), want);
  snprintf(want, sizeof want, "SUMMARY:%s", utf8);
  CHECK_STR(line(u, "SUMMARY"), want);
  free(u);
  free(ics);
}

/* A name that tries to close the quoted CN, end the line and start a property of its own stays
 * one parameter value: '"' and the newline are RFC 6868-encoded by libical. */
static void test_hostile_names(void) {
  ics_event_t e = sample();
  e.organizer_name = "Evil\"\r\nX-INJ:1\r\nATTENDEE:mailto:x@evil";
  e.attendee_name = "Bob \"the\" Builder; ROLE=CHAIR:mailto:x@evil,\\";
  char *ics = ics_render(&e, NULL);
  CHECK(ics != NULL);
  if (!ics) return;
  CHECK(well_formed(ics));
  char *u = unfold(ics);
  CHECK_EQ(count_lines_starting(u, "X-INJ"), 0);
  CHECK_EQ(count_lines_starting(u, "ATTENDEE"), 1);
  CHECK_EQ(count_lines_starting(u, "ORGANIZER"), 1);
  const char *org = line(u, "ORGANIZER");
  CHECK(org && strncmp(org, "ORGANIZER;CN=\"Evil^'", 20) == 0);
  CHECK(org && strstr(org, "^nX-INJ:1") != NULL);
  CHECK(org && ends_with(org, "\":mailto:ann@slotd.example"));
  const char *att = line(u, "ATTENDEE");
  CHECK_STR(att,
            "ATTENDEE;CN=\"Bob ^'the^' Builder; ROLE=CHAIR:mailto:x@evil,\\\";ROLE=REQ-PARTICIPANT;"
            "PARTSTAT=ACCEPTED;RSVP=FALSE:mailto:bob@example.org");
  free(u);
  free(ics);
}

static void test_url_encode(void) {
  char *s = url_encode("aZ09-._~ &#/?=+%:é\n");
  CHECK_STR(s, "aZ09-._~%20%26%23%2F%3F%3D%2B%25%3A%C3%A9%0A");
  free(s);
  s = url_encode("");
  CHECK_STR(s, "");
  free(s);
  s = url_encode("\xf0\x9f\x93\x85"); /* U+1F4C5, four bytes */
  CHECK_STR(s, "%F0%9F%93%85");
  free(s);
}

static const char *str_of(json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }

static void test_links(void) {
  ics_event_t e = sample();
  e.summary = "Intro call & Q#1";
  e.description = "Notes: é\nhttps://slotd.example/c?t=1&x=2";
  e.location = "Room 1";
  json_t *o = json_object();
  CHECK_EQ(calendar_links(&e, "https://slotd.example/api/bookings/b-123/ics?token=t", o), 0);
  CHECK_STR(str_of(o, "google"),
            "https://calendar.google.com/calendar/render?action=TEMPLATE"
            "&text=Intro%20call%20%26%20Q%231&dates=20260304T045320Z/20260304T052320Z"
            "&details=Notes%3A%20%C3%A9%0Ahttps%3A%2F%2Fslotd.example%2Fc%3Ft%3D1%26x%3D2"
            "&location=Room%201");
  /* Outlook.com and Office 365: the same link on another host. */
  static const char outlook_tail[] =
      "/calendar/0/deeplink/compose?path=/calendar/action/compose"
      "&rru=addevent&subject=Intro%20call%20%26%20Q%231"
      "&startdt=2026-03-04T04:53:20Z&enddt=2026-03-04T05:23:20Z"
      "&body=Notes%3A%20%C3%A9%0Ahttps%3A%2F%2Fslotd.example%2Fc%3Ft%3D1%26x%3D2"
      "&location=Room%201";
  char want[512];
  snprintf(want, sizeof want, "https://outlook.live.com%s", outlook_tail);
  CHECK_STR(str_of(o, "outlook"), want);
  snprintf(want, sizeof want, "https://outlook.office.com%s", outlook_tail);
  CHECK_STR(str_of(o, "office365"), want);
  CHECK_STR(str_of(o, "yahoo"),
            "https://calendar.yahoo.com/?v=60&title=Intro%20call%20%26%20Q%231"
            "&st=20260304T045320Z&et=20260304T052320Z"
            "&desc=Notes%3A%20%C3%A9%0Ahttps%3A%2F%2Fslotd.example%2Fc%3Ft%3D1%26x%3D2"
            "&in_loc=Room%201");
  CHECK_STR(str_of(o, "ics"), "https://slotd.example/api/bookings/b-123/ics?token=t");
  CHECK_EQ(json_object_size(o), 5);
  json_decref(o);

  /* No description or location: those parameters are left out; no ics_url: no "ics"; other
   * keys of the object are kept. */
  e = sample();
  e.description = e.location = NULL;
  o = json_pack("{s:i}", "keep", 1);
  CHECK_EQ(calendar_links(&e, NULL, o), 0);
  CHECK_STR(str_of(o, "yahoo"),
            "https://calendar.yahoo.com/?v=60&title=Intro%20call%20between%20Ann%20and%20Bob"
            "&st=20260304T045320Z&et=20260304T052320Z");
  CHECK_STR(str_of(o, "google"),
            "https://calendar.google.com/calendar/render?action=TEMPLATE"
            "&text=Intro%20call%20between%20Ann%20and%20Bob"
            "&dates=20260304T045320Z/20260304T052320Z");
  CHECK(json_object_get(o, "ics") == NULL);
  CHECK_EQ(json_integer_value(json_object_get(o, "keep")), 1);
  json_decref(o);

  /* Refusals leave out untouched. */
  o = json_object();
  e = sample();
  CHECK_EQ(calendar_links(&e, "https://x/\xff", o), -EINVAL);
  e.summary = NULL;
  CHECK_EQ(calendar_links(&e, NULL, o), -EINVAL);
  e = sample();
  e.end = e.start - 1;
  CHECK_EQ(calendar_links(&e, NULL, o), -EINVAL);
  CHECK_EQ(json_object_size(o), 0);
  json_decref(o);
}

int main(void) {
  test_basic();
  test_cancel_and_optional();
  test_refusals();
  test_escaping();
  test_folding();
  test_hostile_names();
  test_url_encode();
  test_links();
  return check_done();
}
