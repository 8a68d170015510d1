/* The English reader of the chat assistant: a table of phrases read against a fixed today
 * (Wednesday 2026-12-02), each with everything it must yield, then hostile inputs. Fields left
 * out of a row must come back empty (-1, 0, ""), so a row also says what must NOT be read. */
#include <stdlib.h>

#include "assistant/nlu.h"
#include "check.h"
#include "core/timeutil.h"
#include "sched/tzif.h"

/* Minutes in a row are stored plus one so that a missing field (0) means "expect -1". */
#define HM(h, m) ((h) * 60 + (m) + 1)

typedef struct {
  const char *msg;
  const char *days; /* "12-03 12-04" (2026) or "2027-01-05", in order; NULL = none */
  nlu_part_t part;
  int at, around, after, before, dur; /* HM() or minutes + 1; 0 = none */
  const char *zone, *name, *email, *words; /* words: space-separated, NULL = not checked */
  int ord, yes, no, earlier, later, greeting;
  int zero;          /* nlu_read must return 0 */
  const char *today; /* "12-06" or "2027-03-01": another today than Wednesday 2026-12-02 */
} case_t;

#define D(n) ((n) + 1)

static const case_t CASES[] = {
  /* relative days */
  {"today", "12-02"},
  {"Tomorrow?", "12-03"},
  {"tmrw works", "12-03", .yes = 1},
  {"the day after tomorrow", "12-04"},
  {"day after tomorrow in the afternoon", "12-04", PART_AFTERNOON},
  {"tonight", "12-02", PART_EVENING},
  {"this morning", "12-02", PART_MORNING},
  {"tomorrow morning", "12-03", PART_MORNING},
  {"Tomorrow afternoon please", "12-03", PART_AFTERNOON},
  {"tomorrow evening", "12-03", PART_EVENING},
  {"in 3 days", "12-05"},
  {"in three days", "12-05"},
  {"in two weeks", "12-16"},
  {"in a week", "12-09"},
  {"in a couple of days", "12-04"},
  {"5 days from now", "12-07"},
  {"in twelve days", "12-14"},
  /* weekdays */
  {"Tuesday", "12-08"},
  {"tuesday", "12-08"},
  {"this Friday", "12-04"},
  {"on friday", "12-04"},
  {"next Tuesday", "12-08"},
  {"next Wednesday", "12-09"},
  {"Wednesday", "12-02"},
  {"this coming Monday", "12-07"},
  {"Tuesday next week", "12-08"},
  {"Thursday next week", "12-10"},
  {"Monday or Tuesday", "12-07 12-08"},
  {"thu or fri", "12-03 12-04"},
  {"Saturday morning", "12-05", PART_MORNING},
  {"sunday", "12-06"},
  /* a weekday beside the date it names: the date alone (not that weekday of this week too) */
  {"Wednesday, December 9", "12-09"},
  {"Wed Dec 9", "12-09"},
  {"Friday the 11th", "12-11"},
  {"Monday, January 4", "2027-01-04"},
  {"Tue Jan 5", "2027-01-05"},
  {"Monday may be good", "12-07"},
  /* "on the Nth of <month>": that month's, not this one's */
  {"on the 3rd of January", "2027-01-03"},
  {"on the 5th of Jan at 3pm", "2027-01-05", .at = HM(15, 0)},
  {"on the 1st of March", "2027-03-01"},
  {"tues afternoon", "12-08", PART_AFTERNOON},
  {"what about Wednesday morning?", "12-02", PART_MORNING},
  {"How about Thursday at 3?", "12-03", .at = HM(15, 0)},
  {"Monday-Friday", "12-07 12-08 12-09 12-10 12-11"},
  {"tue to thu", "12-08 12-09 12-10"},
  {"Friday through Monday", "12-04 12-05 12-06 12-07"},
  {"How about 10:30 on Friday", "12-04", .at = HM(10, 30)},
  {"how about 3?", .at = HM(15, 0)},
  /* other todays: a Sunday, a Saturday, a Monday, New Year's Eve */
  {"Sunday", "12-06", .today = "12-06"},
  {"next Sunday", "12-13", .today = "12-06"},
  {"the weekend", "12-06", .today = "12-06"},
  {"this weekend", "12-05 12-06", .today = "12-05"},
  {"this week", "12-06", .today = "12-06"},
  {"next week", "12-07 12-08 12-09 12-10 12-11 12-12 12-13", .today = "12-06"},
  {"next week", "12-14 12-15 12-16 12-17 12-18 12-19 12-20", .today = "12-07"},
  {"next Monday", "12-14", .today = "12-07"},
  {"tomorrow", "2027-01-01", .today = "12-31"},
  {"January 1", "2027-01-01", .today = "12-31"},
  {"the 15th", "2027-01-15", .today = "12-31"},
  {"in two weeks", "2027-01-14", .today = "12-31"},
  {"feb 29", "2028-02-29", .today = "2027-03-01"},
  {"the 30th", "2027-03-30", .today = "2027-02-01"},
  /* weeks */
  {"next week", "12-07 12-08 12-09 12-10 12-11 12-12 12-13"},
  {"sometime next week", "12-07 12-08 12-09 12-10 12-11 12-12 12-13"},
  {"this week", "12-02 12-03 12-04 12-05 12-06"},
  {"later this week", "12-03 12-04 12-05 12-06"},
  {"the weekend", "12-05 12-06"},
  {"this weekend", "12-05 12-06"},
  {"next weekend", "12-12 12-13"},
  {"the following week", "12-07 12-08 12-09 12-10 12-11 12-12 12-13"},
  /* explicit dates */
  {"December 3", "12-03"},
  {"Dec 3rd", "12-03"},
  {"3 Dec", "12-03"},
  {"3rd of December", "12-03"},
  {"the 3rd of December", "12-03"},
  {"December the 10th", "12-10"},
  {"December first", "2027-12-01"},
  {"dec 1", "2027-12-01"},
  {"the 3rd", "12-03"},
  {"on the 15th", "12-15"},
  {"the 1st", "2027-01-01"},
  {"the 31st", "12-31"},
  {"2026-12-03", "12-03"},
  {"2027-01-15 at 10am", "2027-01-15", .at = HM(10, 0)},
  {"12/3", "12-03"},
  {"1/5", "2027-01-05"},
  {"12/24/2026", "12-24"},
  {"1/4/27", "2027-01-04"},
  {"January 5th", "2027-01-05"},
  {"Jan 5, 2027", "2027-01-05"},
  {"March 3 2027", "2027-03-03"},
  {"feb 29", "2028-02-29"},
  {"Dec 25th in the morning", "12-25", PART_MORNING},
  {"May 4", "2027-05-04"},
  {"Dec 3-5", "12-03 12-04 12-05"},
  {"Dec 29-31, 2027", "2027-12-29 2027-12-30 2027-12-31"},
  {"the 2nd", "12-02"},
  /* times */
  {"at 3pm", .at = HM(15, 0)},
  {"3 pm", .at = HM(15, 0)},
  {"3PM", .at = HM(15, 0)},
  {"3 p.m.", .at = HM(15, 0)},
  {"at 9 a.m.", .at = HM(9, 0)},
  {"15:30", .at = HM(15, 30)},
  {"3:30pm", .at = HM(15, 30)},
  {"at 3", .at = HM(15, 0)},
  {"at 10", .at = HM(10, 0)},
  {"at 12am", .at = HM(0, 0)},
  {"at 12pm", .at = HM(12, 0)},
  {"at three", .at = HM(15, 0)},
  {"at 4 o'clock", .at = HM(16, 0)},
  {"9.30am", .at = HM(9, 30)},
  {"around 10", .around = HM(10, 0)},
  {"about 2pm", .around = HM(14, 0)},
  {"10ish", .around = HM(10, 0)},
  {"at 4ish", .around = HM(16, 0)},
  {"lunchtime", .around = HM(12, 0)},
  {"noonish", .around = HM(12, 0)},
  {"after 2pm", .after = HM(14, 0)},
  {"after 2", .after = HM(14, 0)},
  {"after lunch", .after = HM(13, 0)},
  {"before noon", .before = HM(12, 0)},
  {"before 11am", .before = HM(11, 0)},
  {"by 5", .before = HM(17, 0)},
  {"between 1 and 3", .after = HM(13, 0), .before = HM(15, 0)},
  {"between 9 and 11", .after = HM(9, 0), .before = HM(11, 0)},
  {"between 10 and 2", .after = HM(10, 0), .before = HM(14, 0)},
  {"between 11am and 1pm", .after = HM(11, 0), .before = HM(13, 0)},
  {"between 11 and 1pm", .after = HM(11, 0), .before = HM(13, 0)},
  {"from 2 to 4", .after = HM(14, 0), .before = HM(16, 0)},
  {"2-4pm", .after = HM(14, 0), .before = HM(16, 0)},
  {"9am-11am", .after = HM(9, 0), .before = HM(11, 0)},
  {"noon", .at = HM(12, 0)},
  {"at noon", .at = HM(12, 0)},
  {"midnight", .at = HM(0, 0)},
  {"end of day", .after = HM(16, 0)},
  {"by the end of the day", .after = HM(16, 0)},
  {"EOD tomorrow", "12-03", .after = HM(16, 0)},
  {"morning", .part = PART_MORNING},
  {"in the afternoon", .part = PART_AFTERNOON},
  {"evenings are best", .part = PART_EVENING, .words = "best"},
  {"first thing in the morning", .part = PART_MORNING},
  {"Tuesday at 2:30pm", "12-08", .at = HM(14, 30)},
  {"Friday after 3", "12-04", .after = HM(15, 0)},
  {"tomorrow before 10am", "12-03", .before = HM(10, 0)},
  {"next Monday between 1 and 3", "12-07", .after = HM(13, 0), .before = HM(15, 0)},
  {"Dec 3rd at 2", "12-03", .at = HM(14, 0)},
  /* durations and event type words */
  {"half an hour", .dur = D(30)},
  {"a half hour chat", .dur = D(30), .words = "chat"},
  {"an hour", .dur = D(60)},
  {"one hour", .dur = D(60)},
  {"45 min", .dur = D(45)},
  {"45min", .dur = D(45)},
  {"90 minutes", .dur = D(90)},
  {"30 minute call", .dur = D(30), .words = "call"},
  {"a 30-minute call tomorrow", "12-03", .dur = D(30), .words = "call"},
  {"2 hours", .dur = D(120)},
  {"1.5 hours", .dur = D(90)},
  {"an hour and a half", .dur = D(90)},
  {"fifteen minutes", .dur = D(15)},
  {"forty-five minutes", .dur = D(45)},
  {"a quarter of an hour", .dur = D(15)},
  {"an hour long meeting", .dur = D(60), .words = "meeting"},
  {"I'd like to book an intro call", .words = "intro call"},
  {"Can I schedule a demo?", .words = "demo"},
  {"consultation next Tuesday", "12-08", .words = "consultation"},
  {"in 2 hours", .zero = 1}, /* a relative time, not a duration: nothing kept */
  /* zones */
  {"I'm in London", .zone = "Europe/London"},
  {"im in new york", .zone = "America/New_York"},
  {"Pacific time", .zone = "America/Los_Angeles"},
  {"3pm pacific", .at = HM(15, 0), .zone = "America/Los_Angeles"},
  {"10am PST", .at = HM(10, 0), .zone = "America/Los_Angeles"},
  {"2pm EST", .at = HM(14, 0), .zone = "America/New_York"},
  {"eastern time", .zone = "America/New_York"},
  {"central time", .zone = "America/Chicago"},
  {"CET", .zone = "Europe/Paris"},
  {"central european time", .zone = "Europe/Paris"},
  {"UTC+2", .zone = "Etc/GMT-2"},
  {"utc-5", .zone = "Etc/GMT+5"},
  {"GMT+10", .zone = "Etc/GMT-10"},
  {"UTC", .zone = "UTC"},
  {"2pm UTC+5:30", .at = HM(14, 0), .zone = "Asia/Kolkata"},
  {"UTC-3:30", .zone = "America/St_Johns"},
  {"UTC+5:17", .zero = 1},
  {"UTC+0", .zone = "UTC"},
  {"I'm in Tokyo", .zone = "Asia/Tokyo"},
  {"I am based in Berlin", .zone = "Europe/Berlin", .words = "based"},
  {"Los Angeles", .zone = "America/Los_Angeles"},
  {"san francisco time", .zone = "America/Los_Angeles"},
  {"Sydney", .zone = "Australia/Sydney"},
  {"hong kong", .zone = "Asia/Hong_Kong"},
  {"mountain time", .zone = "America/Denver"},
  {"my timezone is Europe/Madrid", .zone = "Europe/Madrid", .words = "timezone"},
  {"america/new_york", .zone = "America/New_York"},
  {"tomorrow at 9 in Singapore", "12-03", .at = HM(9, 0), .zone = "Asia/Singapore"},
  /* follow-ups and choices */
  {"anything earlier?", .earlier = 1},
  {"Anything later", .later = 1},
  {"sooner?", .earlier = 1},
  {"the second one", .ord = 2},
  {"first", .ord = 1},
  {"the first one please", .ord = 1},
  {"the last one", .ord = -1},
  {"the 3rd one", .ord = 3},
  {"option 2", .ord = 2},
  {"#4", .ord = 4},
  {"2:30 works", .at = HM(14, 30), .yes = 1},
  {"yes", .yes = 1},
  {"Yes please, book it", .yes = 1},
  {"sounds good!", .yes = 1},
  {"ok", .yes = 1},
  {"perfect", .yes = 1},
  {"no", .no = 1},
  {"none of these", .no = 1},
  {"that doesn't work", .no = 1},
  {"nope, anything later?", .no = 1, .later = 1},
  /* details */
  {"I'm Bob Smith, bob@example.com", .name = "Bob Smith", .email = "bob@example.com"},
  {"my name is Ann Lee", .name = "Ann Lee"},
  {"my name is ann lee", .name = "ann lee"},
  {"name: Jane Doe", .name = "Jane Doe"},
  {"This is Carlos from Acme", .name = "Carlos", .words = "acme"},
  {"email me at x@y.z", .email = "x@y.z"},
  {"my email is first.last+tag@mail.example.co.uk.", .email = "first.last+tag@mail.example.co.uk"},
  {"I am Mary-Jane Watson", .name = "Mary-Jane Watson"},
  {"I'm José García (jose@example.es)", .name = "José García", .email = "jose@example.es"},
  {"I’m Zoë", .name = "Zoë"},
  {"I'm free on Tuesday", "12-08"},
  {"I'm available tomorrow afternoon", "12-03", PART_AFTERNOON},
  {"this is great", .yes = 1},
  /* small talk and combinations */
  {"hi", .greeting = 1, .zero = 1},
  {"Hello there!", .greeting = 1, .zero = 1},
  {"thanks!", .greeting = 1, .zero = 1},
  {"thank you", .greeting = 1, .zero = 1},
  {"good morning", .greeting = 1, .zero = 1},
  {"Hi, can we meet next Tuesday afternoon around 3?", "12-08", PART_AFTERNOON, .around = HM(15, 0), .greeting = 1,
   .words = "meet"},
  {"Do you have a 30 minute slot on Dec 3rd in the morning? I'm in Paris", "12-03", PART_MORNING, .dur = D(30),
   .zone = "Europe/Paris"},
  {"Can we do Friday or Monday after 2pm CET?", "12-04 12-07", .after = HM(14, 0), .zone = "Europe/Paris"},
  {"Looking for an hour with Jane on the 10th", "12-10", .dur = D(60), .words = "jane"},
  {"what about the 9th at 11:15", "12-09", .at = HM(11, 15)},
  /* not scheduling, other languages, impossible values */
  {"hola, quiero una cita", .zero = 1, .words = "hola quiero una cita"},
  {"bonjour", .zero = 1},
  {"asdf qwerty", .zero = 1},
  {"🙂🙂🙂", .zero = 1, .words = ""},
  {"25:99", .zero = 1},
  {"February 30", .zero = 1},
  {"13/40", .zero = 1},
  {"in 99999999999 days", .zero = 1},
  {"at 99", .zero = 1},
  {"UTC+99", .zero = 1},
  {"2026-02-30", .zero = 1},
  {"", .zero = 1},
  {"...!!!???", .zero = 1},
};

static int64_t day_of(const char *s) {
  int y = 2026, m, d;
  if (sscanf(s, "%d-%d-%d", &y, &m, &d) != 3) {
    y = 2026;
    if (sscanf(s, "%d-%d", &m, &d) != 2) return -1;
  }
  return time_days_from_civil(y, m, d);
}

static void check_case(const case_t *c, int64_t today) {
  nlu_t o;
  if (c->today) today = day_of(c->today);
  int r = nlu_read(c->msg, strlen(c->msg), today, &o);
  int bad = 0;
  char want[512] = "", got[512] = "";
  int64_t wd[NLU_MAX_DAYS];
  int nwd = 0;
  if (c->days) {
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", c->days);
    for (char *q = strtok(tmp, " "); q && nwd < NLU_MAX_DAYS; q = strtok(NULL, " ")) wd[nwd++] = day_of(q);
  }
  bad |= nwd != o.ndays;
  for (int i = 0; i < nwd && !bad; i++) bad |= wd[i] != o.days[i];
  bad |= (int)c->part != (int)o.part || c->at - 1 != o.at || c->around - 1 != o.around || c->after - 1 != o.after ||
         c->before - 1 != o.before || c->dur - 1 != o.duration;
  bad |= strcmp(c->zone ? c->zone : "", o.zone) != 0 || strcmp(c->name ? c->name : "", o.name) != 0 ||
         strcmp(c->email ? c->email : "", o.email) != 0;
  bad |= c->ord != o.ordinal || c->yes != o.yes || c->no != o.no || c->earlier != o.earlier || c->later != o.later ||
         c->greeting != o.greeting || r != !c->zero;
  if (c->words) {
    size_t len = 0;
    for (int i = 0; i < o.nwords; i++) len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", i ? " " : "", o.words[i]);
    bad |= strcmp(got, c->words) != 0;
    snprintf(want, sizeof want, "%s", c->words);
  }
  ++check_n;
  if (!bad) {
    printf("ok %d - \"%s\"\n", check_n, c->msg);
    return;
  }
  check_failed++;
  printf("not ok %d - \"%s\": r=%d days=", check_n, c->msg, r);
  for (int i = 0; i < o.ndays; i++) printf("%stoday%+lld", i ? "," : "", (long long)(o.days[i] - today));
  printf(" part=%d at=%d around=%d after=%d before=%d dur=%d zone=%s ord=%d name=\"%s\" email=\"%s\" yes=%d no=%d "
         "earlier=%d later=%d greet=%d words=\"%s\" (want words \"%s\")\n",
         o.part, o.at, o.around, o.after, o.before, o.duration, o.zone, o.ordinal, o.name, o.email, o.yes, o.no,
         o.earlier, o.later, o.greeting, got, want);
}

static void hostile(int64_t today) {
  nlu_t o;
  /* over the cap: nothing, even though it is all "tomorrow" */
  size_t n = NLU_MAX_LEN + 1;
  char *big = malloc(n);
  for (size_t i = 0; i < n; i++) big[i] = "tomorrow "[i % 9];
  CHECK_EQ(nlu_read(big, n, today, &o), 0);
  CHECK_EQ(o.ndays, 0);
  CHECK_EQ(o.at, -1);
  /* exactly at the cap: read, many repeats of one day kept once */
  CHECK_EQ(nlu_read(big, NLU_MAX_LEN, today, &o), 1);
  CHECK_EQ(o.ndays, 1);
  /* at the cap, every day of a month named: the list stops at NLU_MAX_DAYS */
  size_t len = 0;
  for (int d = 1; len + 40 < NLU_MAX_LEN; d = d % 28 + 1) {
    int m = 1 + (int)(len / 40) % 12;
    len += (size_t)snprintf(big + len, n - len, "%d/%d ", m, d);
  }
  CHECK_EQ(nlu_read(big, len, today, &o), 1);
  CHECK_EQ(o.ndays, NLU_MAX_DAYS);
  /* no NUL needed: the buffer is read to len only */
  memcpy(big, "tomorrow", 8);
  CHECK_EQ(nlu_read(big, 8, today, &o), 1);
  CHECK_EQ(o.ndays, 1);
  /* random bytes (made valid or not): never a crash, never a read past len (ASan) */
  unsigned s = 12345;
  for (int round = 0; round < 3000; round++) {
    size_t k = (size_t)(s % 64);
    char *r = malloc(k ? k : 1);
    for (size_t i = 0; i < k; i++) {
      s = s * 1103515245u + 12345u;
      r[i] = round & 1 ? "0123456789:/-+.,@# apmtoday"[(s >> 16) % 27] : (char)(s >> 16);
    }
    (void)nlu_read(r, k, today, &o);
    free(r);
    s = s * 1103515245u + 12345u;
  }
  free(big);
  /* invalid UTF-8: 0 and nothing set */
  static const char *const BAD[] = {"tomorrow \xff", "at 3pm \xc0\xaf", "\xed\xa0\x80 today", "noon \xe2\x82",
                                    "\xf4\x90\x80\x80"};
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
    CHECK_EQ(nlu_read(BAD[i], strlen(BAD[i]), today, &o), 0);
    CHECK(o.ndays == 0 && o.at == -1 && o.nwords == 0);
  }
  /* an embedded NUL is a separator */
  CHECK_EQ(nlu_read("tomorrow\0at 3pm", 15, today, &o), 1);
  CHECK(o.ndays == 1 && o.at == 900);
  CHECK_EQ(nlu_read(NULL, 0, today, &o), 0);
  /* a today near the ends of time does not overflow */
  CHECK_EQ(nlu_read("next week in 12 weeks", 21, time_days_from_civil(9999, 12, 31), &o), 1);
  CHECK_EQ(nlu_read("next week", 9, 0, &o), 1);
  CHECK_EQ(o.days[0], 4); /* 1970-01-05 was a Monday */
}

/* Every zone the tables can produce exists in this system's tzdata. */
static void zones_exist(int64_t today) {
  static const char *const PHRASES[] = {"pacific", "mountain time", "central time", "eastern", "alaska", "hawaii",
                                        "cet", "eet", "wet", "bst", "gmt", "utc", "ist", "jst", "kst", "aest",
                                        "nzst", "new york", "detroit", "toronto", "chicago", "denver", "phoenix",
                                        "vancouver", "anchorage", "mexico city", "sao paulo", "buenos aires",
                                        "bogota", "lima", "santiago", "london", "dublin", "lisbon", "paris",
                                        "berlin", "madrid", "rome", "amsterdam", "brussels", "vienna", "zurich",
                                        "stockholm", "oslo", "copenhagen", "helsinki", "warsaw", "prague",
                                        "budapest", "athens", "istanbul", "kyiv", "moscow", "cairo",
                                        "johannesburg", "lagos", "nairobi", "jerusalem", "dubai", "riyadh",
                                        "tehran", "karachi", "kolkata", "dhaka", "bangkok", "jakarta", "singapore",
                                        "kuala lumpur", "manila", "hong kong", "shanghai", "taipei", "seoul",
                                        "tokyo", "sydney", "melbourne", "brisbane", "perth", "auckland",
                                        "utc+14", "utc-12", "gmt+1"};
  for (size_t i = 0; i < sizeof PHRASES / sizeof PHRASES[0]; i++) {
    nlu_t o;
    nlu_read(PHRASES[i], strlen(PHRASES[i]), today, &o);
    CHECK(o.zone[0] && tz_get(o.zone) != NULL);
    if (!o.zone[0] || !tz_get(o.zone)) printf("# %s -> \"%s\"\n", PHRASES[i], o.zone);
  }
}

int main(void) {
  int64_t today = time_days_from_civil(2026, 12, 2); /* a Wednesday */
  for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) check_case(&CASES[i], today);
  printf("# corpus: %zu phrases\n", sizeof CASES / sizeof CASES[0]);
  hostile(today);
  zones_exist(today);
  tz_cache_free();
  return check_done();
}
