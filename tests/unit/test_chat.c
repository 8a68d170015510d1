/* The assistant's pure parts (src/assistant/chat.c): which event type a reading names, and the
 * words a reply uses for days, clock times and zones. Readings come from the real reader. */
#include "assistant/chat.h"
#include "check.h"
#include "core/timeutil.h"

static const chat_type_t TYPES[] = {
    {"30-minute-call", "30 Minute Call", "A quick call to get to know each other.", 30},
    {"intro-call", "Intro Call", "First conversation about your project.", 15},
    {"strategy-session", "Strategy Session", "Deep dive into roadmap and pricing strategy.", 60},
    {"consultation", "Consultation", "Tax and accounting consultation.", 45},
    {"workshops", "Workshops", "Hands-on team training.", 90},
};
#define NT (sizeof TYPES / sizeof TYPES[0])

static int match(const char *msg, int *tied, size_t *ntied) {
  nlu_t n;
  nlu_read(msg, strlen(msg), time_days_from_civil(2026, 12, 2), &n);
  return chat_match_type(&n, TYPES, NT, tied, ntied);
}

static void expect_type(const char *msg, int want) {
  int tied[NT];
  size_t nt;
  int got = match(msg, tied, &nt);
  ++check_n;
  if (got == want) printf("ok %d - %s -> %d\n", check_n, msg, got);
  else {
    printf("not ok %d - %s -> %d, want %d\n", check_n, msg, got, want);
    check_failed++;
  }
}

int main(void) {
  expect_type("intro call tomorrow", 1);         /* name words 2+2 beat "call" 2 */
  expect_type("a call tomorrow", CHAT_AMBIGUOUS); /* the two Calls tie */
  expect_type("half an hour on Friday", 0);      /* duration alone */
  expect_type("an hour", 2);
  expect_type("45 min", 3);
  expect_type("90 minutes", 4);
  expect_type("tax advice", 3);                  /* description word */
  expect_type("a workshop", 4);                  /* singular against the plural slug and name */
  expect_type("roadmap review", 2);
  expect_type("next Tuesday afternoon", CHAT_NONE);
  expect_type("a 20 minute call", CHAT_AMBIGUOUS); /* no type of that length: the words decide */
  expect_type("a quick call", 0);                  /* the description breaks the tie */
  int tied[NT];
  size_t nt;
  CHECK(match("a call", tied, &nt) == CHAT_AMBIGUOUS && nt == 2 && tied[0] == 0 && tied[1] == 1);
  CHECK(chat_match_type(&(nlu_t){.duration = 30}, TYPES, 0, tied, &nt) == CHAT_NONE && nt == 0); /* no types */

  char s[64];
  chat_day_label(time_days_from_civil(2026, 12, 8), s, sizeof s);
  CHECK_STR(s, "Tuesday, December 8");
  chat_day_label(time_days_from_civil(1969, 12, 31), s, sizeof s);
  CHECK_STR(s, "Wednesday, December 31"); /* before 1970: the weekday still right */
  chat_day_label(time_days_from_civil(2028, 2, 29), s, sizeof s);
  CHECK_STR(s, "Tuesday, February 29");
  chat_clock_label(13 * 60, s, sizeof s);
  CHECK_STR(s, "1:00 PM");
  chat_clock_label(0, s, sizeof s);
  CHECK_STR(s, "12:00 AM");
  chat_clock_label(12 * 60 + 30, s, sizeof s);
  CHECK_STR(s, "12:30 PM");
  chat_clock_label(9 * 60 + 5, s, sizeof s);
  CHECK_STR(s, "9:05 AM");
  chat_zone_label("America/New_York", s, sizeof s);
  CHECK_STR(s, "New York time");
  chat_zone_label("America/Argentina/Buenos_Aires", s, sizeof s);
  CHECK_STR(s, "Buenos Aires time");
  chat_zone_label("UTC", s, sizeof s);
  CHECK_STR(s, "UTC");
  chat_zone_label("Etc/GMT-2", s, sizeof s);
  CHECK_STR(s, "UTC+2");
  chat_zone_label("Etc/GMT+10", s, sizeof s);
  CHECK_STR(s, "UTC-10");
  char small[8];
  chat_zone_label("America/Los_Angeles", small, sizeof small);
  CHECK(strlen(small) == 7); /* truncated, terminated */
  char hm[6];
  chat_hhmm(15 * 60 + 30, hm);
  CHECK_STR(hm, "15:30");
  char d[11];
  chat_date(time_days_from_civil(2027, 1, 5), d);
  CHECK_STR(d, "2027-01-05");
  printf("1..%d\n", check_n);
  return check_failed != 0;
}
