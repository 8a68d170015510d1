/* nlu.c — rule-based reading of one English chat message; see nlu.h for the rules.
 *
 * Three steps: (1) the raw text gives the e-mail address and any typed Area/City zone, which are
 * blanked out of the scratch copy; (2) the copy is cut into tokens: lower-case words, numbers
 * (capped, so "99999999999" cannot overflow anything), and the punctuation that matters
 * (: . / - + , #); (3) matchers try each token position in a fixed priority order, each
 * consuming the tokens it understood; words nobody consumed and that are not stop words are left
 * for the caller's event type matching. */
#include "assistant/nlu.h"

#include <stdlib.h>
#include <string.h>

#include "core/timeutil.h"
#include "core/util.h"

enum { T_WORD, T_NUM, T_COLON, T_DOT, T_SLASH, T_DASH, T_PLUS, T_SEP, T_HASH };

#define NUM_CAP 999999999LL

typedef struct {
  const char *s;  /* lower-case, NUL-terminated, in the scratch pool */
  int off, len;   /* the raw bytes */
  int64_t val;    /* T_NUM: value, capped at NUM_CAP */
  unsigned char kind, used, cap, ndig; /* cap: raw first byte is an upper-case letter */
} tok_t;

typedef struct {
  const char *raw;
  tok_t *t;
  int n;
  nlu_t *o;
  int64_t today;
  int64_t ty; /* today's year, month, day and weekday (0 = Sunday) */
  int tm, td, wd;
  int sched;  /* a scheduling noun was seen */
} P;

/* ---- calendar ---- */

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int weekday(int64_t days) { /* 0 = Sunday; 1970-01-01 was a Thursday */
  int64_t w = (days + 4) % 7;
  return (int)(w < 0 ? w + 7 : w);
}

static void add_day(P *p, int64_t d) {
  nlu_t *o = p->o;
  for (int i = 0; i < o->ndays; i++)
    if (o->days[i] == d) return;
  if (o->ndays < NLU_MAX_DAYS) o->days[o->ndays++] = d;
}

static void add_range(P *p, int64_t from, int64_t to) {
  for (int64_t d = from; d <= to; d++) add_day(p, d);
}

/* A valid y-m-d, or -1. */
static int64_t civil(int64_t y, int64_t m, int64_t d) {
  if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > time_days_in_month(y, (int)m)) return -1;
  return time_days_from_civil(y, (int)m, (int)d);
}

static int64_t civil_year(int64_t days) {
  int64_t y;
  int m, d;
  civil_from_days(days, &y, &m, &d);
  return y;
}

/* m/d without a year: this year's, or next year's when past. */
static int64_t civil_next(P *p, int64_t m, int64_t d) {
  for (int64_t y = p->ty; y <= p->ty + 4; y++) { /* February 29 may need a leap year */
    int64_t r = civil(y, m, d);
    if (r >= p->today) return r;
  }
  return -1;
}

/* ---- tokens ---- */

static int tw(const P *p, int i, const char *w) {
  return i >= 0 && i < p->n && p->t[i].kind == T_WORD && strcmp(p->t[i].s, w) == 0;
}
static int tk(const P *p, int i, int kind) { return i >= 0 && i < p->n && p->t[i].kind == kind; }

/* Index of w in a NULL-terminated list, or -1. */
static int lookup(const char *const *list, const char *w) {
  for (int i = 0; list[i]; i++)
    if (strcmp(list[i], w) == 0) return i;
  return -1;
}
static int twl(const P *p, int i, const char *const *list) {
  return i >= 0 && i < p->n && p->t[i].kind == T_WORD ? lookup(list, p->t[i].s) : -1;
}

static void use(P *p, int i, int k) {
  for (int j = i; j < i + k && j < p->n; j++) p->t[j].used = 1;
}

static const char *const WEEKDAYS[] = {"sunday",   "monday",  "tuesday", "wednesday", "thursday", "friday",
                                       "saturday", "sun",     "mon",     "tue",       "wed",      "thu",
                                       "fri",      "sat",     "tues",    "weds",      "thur",     "thurs",
                                       "sundays",  "mondays", "tuesdays", "wednesdays", "thursdays", "fridays",
                                       "saturdays", NULL};
static int weekday_of(const P *p, int i) {
  int k = twl(p, i, WEEKDAYS);
  if (k < 0) return -1;
  if (k < 7) return k;
  if (k < 14) return k - 7;
  if (k < 18) return k == 14 ? 2 : k == 15 ? 3 : 4;
  return k - 18;
}

static const char *const MONTHS[] = {"january", "february", "march", "april",   "may",      "june",
                                     "july",    "august",   "september", "october", "november", "december",
                                     "jan",     "feb",      "mar",   "apr",     "jun",      "jul",
                                     "aug",     "sep",      "sept",  "oct",     "nov",      "dec", NULL};
static int month_of(const P *p, int i) {
  static const int ab[] = {1, 2, 3, 4, 6, 7, 8, 9, 9, 10, 11, 12};
  int k = twl(p, i, MONTHS);
  return k < 0 ? -1 : k < 12 ? k + 1 : ab[k - 12];
}

static const char *const NUMWORDS[] = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                                       "nine", "ten", "eleven", "twelve", NULL};
static const char *const TENS[] = {"fifteen", "twenty", "thirty", "forty", "fifty", "sixty", "ninety", NULL};
static const int TENS_V[] = {15, 20, 30, 40, 50, 60, 90};
static const char *const ORDWORDS[] = {"zeroth", "first", "second", "third",  "fourth",   "fifth",  "sixth",
                                       "seventh", "eighth", "ninth",  "tenth", "eleventh", "twelfth", NULL};

/* A count at i: digits, a number word ("forty-five" too), or with `article` "a"/"an"/"a couple
 * of". Sets *v and returns the tokens used, 0 if none. */
static int count_at(const P *p, int i, int article, int64_t *v) {
  if (tk(p, i, T_NUM)) return *v = p->t[i].val, 1;
  int k = twl(p, i, NUMWORDS);
  if (k >= 0) return *v = k, 1;
  k = twl(p, i, TENS);
  if (k >= 0) {
    *v = TENS_V[k];
    int j = i + 1 + tk(p, i + 1, T_DASH);
    int u = twl(p, j, NUMWORDS);
    if (TENS_V[k] >= 20 && u >= 1 && u <= 9) return *v += u, j - i + 1;
    return 1;
  }
  if (article && (tw(p, i, "a") || tw(p, i, "an"))) {
    if (tw(p, i + 1, "couple") && tw(p, i + 2, "of")) return *v = 2, 3;
    if (tw(p, i + 1, "few")) return *v = 3, 2;
    return *v = 1, 1;
  }
  return 0;
}

static const char *const DAYSUF[] = {"st", "nd", "rd", "th", NULL};

/* A day of the month at i: "3", "3rd", "third". */
static int daynum_at(const P *p, int i, int64_t *v) {
  if (tk(p, i, T_NUM) && p->t[i].ndig <= 2 && p->t[i].val >= 1 && p->t[i].val <= 31) {
    *v = p->t[i].val;
    return 1 + (twl(p, i + 1, DAYSUF) >= 0);
  }
  int k = twl(p, i, ORDWORDS);
  if (k >= 1) return *v = k, 1;
  return 0;
}

static int year_at(const P *p, int i, int64_t *y) {
  int j = i + tk(p, i, T_SEP);
  if (tk(p, j, T_NUM) && p->t[j].ndig == 4 && p->t[j].val >= 1970 && p->t[j].val <= 9999)
    return *y = p->t[j].val, j - i + 1;
  return 0;
}

/* ---- dates ---- */

static int m_relday(P *p, int i) {
  int j = i + tw(p, i, "the");
  if (tw(p, j, "day") && tw(p, j + 1, "after") && (tw(p, j + 2, "tomorrow") || tw(p, j + 2, "tmrw")))
    return add_day(p, p->today + 2), j - i + 3;
  static const char *const TOMORROW[] = {"tomorrow", "tmrw", "tmr", "tomorow", "tommorow", "tommorrow", NULL};
  if (twl(p, i, TOMORROW) >= 0) return add_day(p, p->today + 1), 1;
  if (tw(p, i, "today")) return add_day(p, p->today), 1;
  if (tw(p, i, "tonight")) return add_day(p, p->today), p->o->part = PART_EVENING, 1;
  return 0;
}

static int64_t next_monday(const P *p) { return p->today + (p->wd == 1 ? 7 : (8 - p->wd) % 7); }

static int m_weekday(P *p, int i) {
  int j = i, strict = 0, thisw = 0;
  for (;;) {
    if (tw(p, j, "next")) strict = 1, j++;
    else if (tw(p, j, "this")) thisw = 1, j++;
    else if (tw(p, j, "coming") || tw(p, j, "on")) j++;
    else break;
  }
  int w = weekday_of(p, j);
  if (w < 0) return 0;
  j++;
  if (!thisw && !strict && tw(p, j, "next") && tw(p, j + 1, "week")) { /* "Tuesday next week" */
    add_day(p, next_monday(p) + (w + 6) % 7);
    return j + 2 - i;
  }
  { /* "Wednesday, December 9", "Tue Jan 5", "Friday the 11th": the date that follows says the day */
    int k = j + tk(p, j, T_SEP), n = 0;
    int64_t d;
    k += tw(p, k, "the");
    if ((month_of(p, k) > 0 && daynum_at(p, k + 1 + tw(p, k + 1, "the"), &d)) || (n = daynum_at(p, k, &d)) == 2 ||
        (n == 1 && tw(p, k - 1, "the") && !tk(p, k, T_NUM)))
      return j - i;
  }
  int64_t ahead = (w - p->wd + 7) % 7;
  if (strict && ahead == 0) ahead = 7;
  int q = j + 1, w2;
  if ((tk(p, j, T_DASH) || tw(p, j, "to") || tw(p, j, "through") || tw(p, j, "thru")) && (w2 = weekday_of(p, q)) >= 0) {
    /* "Monday-Friday", "Tuesday to Thursday": every day from the first through the second */
    add_range(p, p->today + ahead, p->today + ahead + (w2 - w + 7) % 7);
    return q + 1 - i;
  }
  add_day(p, p->today + ahead);
  return j - i;
}

static int m_week(P *p, int i) {
  int64_t sunday = p->today + (7 - p->wd) % 7, mon = next_monday(p);
  if (tw(p, i, "later") && tw(p, i + 1, "this") && tw(p, i + 2, "week")) {
    if (sunday > p->today) add_range(p, p->today + 1, sunday);
    return 3;
  }
  int j = i + tw(p, i, "the");
  int next = tw(p, j, "next") || tw(p, j, "following");
  int thisw = tw(p, j, "this") || tw(p, j, "coming");
  if ((next || thisw) && tw(p, j + 1, "week")) {
    if (next) add_range(p, mon, mon + 6);
    else add_range(p, p->today, sunday);
    return j - i + 2;
  }
  int k = j + (next || thisw);
  if (tw(p, k, "weekend") || tw(p, k, "weekends")) {
    if (next) add_range(p, mon + 5, mon + 6);
    else if (p->wd == 0) add_day(p, p->today);
    else add_range(p, p->today + (6 - p->wd), p->today + (6 - p->wd) + 1);
    return k - i + 1;
  }
  return 0;
}

static int m_inrel(P *p, int i) {
  int64_t v;
  int j, k, in = tw(p, i, "in");
  j = i + in;
  if (!(k = count_at(p, j, 1, &v))) return 0;
  j += k;
  int mult;
  if (tw(p, j, "day") || tw(p, j, "days")) mult = 1;
  else if (tw(p, j, "week") || tw(p, j, "weeks")) mult = 7;
  else return 0;
  j++;
  if (!in) { /* "3 days from now" */
    if (!tw(p, j, "from") || !(tw(p, j + 1, "now") || tw(p, j + 1, "today"))) return 0;
    j += 2;
  }
  if (v * mult <= 3660) add_day(p, p->today + v * mult);
  return j - i;
}

static int m_iso(P *p, int i) {
  if (!(tk(p, i, T_NUM) && p->t[i].ndig == 4 && tk(p, i + 1, T_DASH) && tk(p, i + 2, T_NUM) &&
        tk(p, i + 3, T_DASH) && tk(p, i + 4, T_NUM)))
    return 0;
  int64_t d = civil(p->t[i].val, p->t[i + 2].val, p->t[i + 4].val);
  if (d >= 0) add_day(p, d);
  return 5;
}

static int m_slash(P *p, int i) {
  if (!(tk(p, i, T_NUM) && tk(p, i + 1, T_SLASH) && tk(p, i + 2, T_NUM) && p->t[i].ndig <= 2 && p->t[i + 2].ndig <= 2))
    return 0;
  int64_t m = p->t[i].val, d = p->t[i + 2].val, r;
  int k = 3;
  if (tk(p, i + 3, T_SLASH) && tk(p, i + 4, T_NUM) && (p->t[i + 4].ndig == 4 || p->t[i + 4].ndig == 2)) {
    int64_t y = p->t[i + 4].val;
    r = civil(y < 100 ? 2000 + y : y, m, d);
    k = 5;
  } else r = civil_next(p, m, d);
  if (r >= 0) add_day(p, r);
  return k;
}

static int m_monthday(P *p, int i) {
  int64_t d, y = -1, r;
  int j = i + tw(p, i, "the"), k, mo = month_of(p, j);
  if (mo > 0) { /* December 3, Dec 3rd, December the 3rd, Dec 3, 2026 */
    int q = j + 1 + tw(p, j + 1, "the");
    if (!(k = daynum_at(p, q, &d))) return 0;
    q += k;
    q += year_at(p, q, &y);
    j = q;
  } else { /* 3 Dec, the 3rd of December */
    if (!(k = daynum_at(p, j, &d))) return 0;
    int q = j + k;
    q += tw(p, q, "of");
    if ((mo = month_of(p, q)) < 0) return 0;
    q++;
    q += year_at(p, q, &y);
    j = q;
  }
  int64_t d2 = d;
  if (tk(p, j, T_DASH) && tk(p, j + 1, T_NUM) && p->t[j + 1].ndig <= 2 && p->t[j + 1].val > d) { /* "Dec 3-5" */
    d2 = p->t[j + 1].val;
    j += 2 + (twl(p, j + 2, DAYSUF) >= 0);
    j += year_at(p, j, &y);
  }
  r = y > 0 ? civil(y, mo, d) : civil_next(p, mo, d);
  int64_t r2 = y > 0 ? civil(y, mo, d2) : civil(r >= 0 ? civil_year(r) : 0, mo, d2);
  if (r >= 0 && r2 >= r) add_range(p, r, r2);
  else if (r >= 0) add_day(p, r);
  return j - i;
}

static const char *const CHOICE[] = {"one", "option", "slot", "choice", "time", "available", NULL};

/* "the 3rd", "on the 3rd": this month, or the next month that has that day. */
static int m_theday(P *p, int i) {
  int j = i + tw(p, i, "on");
  if (!tw(p, j, "the") || !tk(p, j + 1, T_NUM)) return 0;
  int64_t d;
  int k = daynum_at(p, j + 1, &d);
  if (k != 2 || twl(p, j + 1 + k, CHOICE) >= 0) return 0;
  int q = j + 1 + k;
  if (month_of(p, q + tw(p, q, "of")) > 0) return 0; /* "on the 3rd of January": the month's (m_monthday) */
  int64_t y = p->ty;
  int m = p->tm;
  for (int n = 0; n < 13; n++) {
    int64_t r = civil(y, m, d);
    if (r >= p->today) {
      add_day(p, r);
      break;
    }
    if (++m > 12) m = 1, y++;
  }
  return j + 1 + k - i;
}

/* ---- times ---- */

/* A clock at i: "3", "3pm", "3 p.m.", "15:30", "3:30pm", "three", "noon", "midnight". *min gets
 * the minutes after midnight with `pm_default` for a bare hour 1..7 (or -1 if impossible: 25:99);
 * *explicit says whether am/pm, a colon or a word made it unambiguous. Returns the tokens used. */
typedef struct {
  int h, m, mer, explicit_; /* mer: 0 none, 1 am, 2 pm, 3 absolute (noon/midnight) */
} clock_t_;

static int clock_at(const P *p, int i, clock_t_ *c) {
  memset(c, 0, sizeof *c);
  if (tw(p, i, "noon") || tw(p, i, "midday")) return c->h = 12, c->mer = 3, c->explicit_ = 1, 1;
  if (tw(p, i, "midnight")) return c->mer = 3, c->explicit_ = 1, 1;
  int j = i;
  int64_t h;
  if (tk(p, j, T_NUM) && p->t[j].ndig <= 2) h = p->t[j].val;
  else if ((h = twl(p, j, NUMWORDS)) < 1) return 0;
  c->h = (int)h;
  j++;
  if ((tk(p, j, T_COLON) || tk(p, j, T_DOT)) && tk(p, j + 1, T_NUM) && p->t[j + 1].ndig == 2) {
    c->m = (int)p->t[j + 1].val;
    c->explicit_ = 1;
    j += 2;
  }
  if (tw(p, j, "am") || tw(p, j, "pm")) c->mer = p->t[j].s[0] == 'a' ? 1 : 2, j++;
  else if ((tw(p, j, "a") || tw(p, j, "p")) && tw(p, j + 1, "m")) c->mer = p->t[j].s[0] == 'a' ? 1 : 2, j += 2;
  else if (tw(p, j, "oclock") || tw(p, j, "o'clock")) j++;
  else if (tw(p, j, "o") && tw(p, j + 1, "clock")) j += 2;
  if (c->mer) c->explicit_ = 1;
  return j - i;
}

static int clock_min(const clock_t_ *c, int mer) {
  int h = c->h;
  if (c->mer == 3) return h * 60;
  if (c->m > 59) return -1;
  if (mer == 1 || mer == 2) {
    if (h < 1 || h > 12) return -1;
    h = h % 12 + (mer == 2 ? 12 : 0);
  } else {
    if (h > 23) return -1;
    if (h >= 1 && h <= 7) h += 12;
  }
  return h * 60 + c->m;
}

/* "between 1 and 3", "from 2 to 4", "2-4pm". */
static int m_range(P *p, int i) {
  clock_t_ a, b;
  int j = i, ka, kb, intro = tw(p, i, "between") || tw(p, i, "from");
  j += intro;
  if (!(ka = clock_at(p, j, &a))) return 0;
  j += ka;
  if (!(tw(p, j, "and") || tw(p, j, "to") || tw(p, j, "until") || tw(p, j, "till") || tk(p, j, T_DASH))) return 0;
  j++;
  if (!(kb = clock_at(p, j, &b))) return 0;
  j += kb;
  if (!intro && !a.mer && !b.mer) return 0;
  int ma = clock_min(&a, a.mer), mb = clock_min(&b, b.mer);
  if (!a.mer && b.mer && b.mer != 3) {
    int t = clock_min(&a, b.mer);
    if (t >= 0 && t < mb) ma = t;
  } else if (a.mer && a.mer != 3 && !b.mer) {
    int t = clock_min(&b, a.mer);
    if (t > ma) mb = t;
  }
  if (ma >= 0 && mb > ma) p->o->after = ma, p->o->before = mb;
  return j - i;
}

static int m_time(P *p, int i) {
  nlu_t *o = p->o;
  clock_t_ c;
  int k, m;
  static const char *const AROUND[] = {"around", "about", "approximately", "approx", "roughly", "circa", NULL};
  static const char *const BEFORE[] = {"before", "by", "until", "till", "til", NULL};
  int *slot = NULL;
  if (tw(p, i, "at") || tw(p, i, "@")) slot = &o->at;
  else if (twl(p, i, AROUND) >= 0) /* "how about 3?" proposes a time, it does not soften one */
    slot = tw(p, i, "about") && (tw(p, i - 1, "how") || tw(p, i - 1, "what")) ? &o->at : &o->around;
  else if (tw(p, i, "after")) slot = &o->after;
  else if (twl(p, i, BEFORE) >= 0) slot = &o->before;
  if (slot) {
    if (tw(p, i + 1, "lunch") || tw(p, i + 1, "lunchtime")) {
      if (slot == &o->after) o->after = 780;
      else if (slot == &o->before) o->before = 720;
      else o->around = 720;
      return 2;
    }
    if ((k = clock_at(p, i + 1, &c))) {
      if ((m = clock_min(&c, c.mer)) >= 0) {
        if (slot == &o->at && tw(p, i + 1 + k, "ish")) slot = &o->around, k++;
        *slot = m;
      }
      return 1 + k;
    }
    return 0;
  }
  int j = i + tw(p, i, "the");
  if (tw(p, j, "end") && tw(p, j + 1, "of")) { /* "end of (the) day" */
    int q = j + 2 + tw(p, j + 2, "the");
    if (tw(p, q, "day")) return o->after = 960, q + 1 - i;
  }
  if (tw(p, i, "eod") || tw(p, i, "cob")) return o->after = 960, 1;
  if (tw(p, i, "close") && tw(p, i + 1, "of") && tw(p, i + 2, "business")) return o->after = 960, 3;
  if (tw(p, i, "lunch") || tw(p, i, "lunchtime") || tw(p, i, "noonish")) return o->around = 720, 1;
  if ((k = clock_at(p, i, &c)) && c.explicit_) { /* bare "3pm", "15:30", "noon" */
    if ((m = clock_min(&c, c.mer)) >= 0) {
      if (tw(p, i + k, "ish")) o->around = m, k++;
      else o->at = m;
    }
    return k;
  }
  if (k && tw(p, i + k, "ish")) {
    if ((m = clock_min(&c, c.mer)) >= 0) o->around = m;
    return k + 1;
  }
  return 0;
}

static int m_part(P *p, int i) {
  static const char *const PARTS[] = {"morning", "mornings", "afternoon", "afternoons", "evening", "evenings",
                                      "night", "nights", NULL};
  static const char *const GOOD[] = {"good", "gm", NULL};
  int k = twl(p, i + 1, PARTS);
  if (twl(p, i, GOOD) >= 0 && k >= 0) return p->o->greeting = 1, 2;
  int j = i + tw(p, i, "this");
  if ((k = twl(p, j, PARTS)) < 0) {
    if (tw(p, i, "first") && tw(p, i + 1, "thing")) return p->o->part = PART_MORNING, 2 + tw(p, i + 2, "in");
    return 0;
  }
  if (j > i) add_day(p, p->today);
  p->o->part = k < 2 ? PART_MORNING : k < 4 ? PART_AFTERNOON : PART_EVENING;
  return j - i + 1;
}

/* ---- durations ---- */

static int m_duration(P *p, int i) {
  static const char *const HOURS[] = {"hour", "hours", "hr", "hrs", "h", NULL};
  static const char *const MINS[] = {"minute", "minutes", "min", "mins", "mn", NULL};
  int j = i, k;
  int64_t v, frac = 0;
  if (tw(p, j, "a")) j++;
  if (tw(p, j, "half") || tw(p, j, "quarter")) {
    int q = j + 1 + tw(p, j + 1, "of");
    q += tw(p, q, "an") || tw(p, q, "a");
    if (twl(p, q, HOURS) < 0) return 0;
    p->o->duration = p->t[j].s[0] == 'h' ? 30 : 15;
    return q + 1 - i;
  }
  j = i;
  if (!(k = count_at(p, j, 1, &v))) return 0;
  j += k;
  if (tk(p, j, T_DOT) && tk(p, j + 1, T_NUM) && p->t[j + 1].ndig == 1) frac = p->t[j + 1].val * 6, j += 2;
  if (tw(p, j, "and") && (tw(p, j + 1, "a") || tw(p, j + 1, "an")) && tw(p, j + 2, "half")) frac = 30, j += 3;
  j += tk(p, j, T_DASH);
  int64_t mins;
  if (twl(p, j, HOURS) >= 0) {
    mins = v * 60 + frac;
    j++;
    if (tw(p, j, "and") && (tw(p, j + 1, "a") || tw(p, j + 1, "an")) && tw(p, j + 2, "half")) mins += 30, j += 3;
  } else if (twl(p, j, MINS) >= 0 && !frac) mins = v, j++;
  else return 0;
  if (tw(p, j, "long")) j++;
  if (!tw(p, i - 1, "in") && mins >= 1 && mins <= 1440) p->o->duration = (int)mins;
  return j - i;
}

/* ---- zones ---- */

typedef struct {
  const char *phrase; /* lower-case words separated by one space */
  const char *zone;
} zone_name_t;

static const zone_name_t ZONES[] = {
  {"pacific", "America/Los_Angeles"}, {"pst", "America/Los_Angeles"}, {"pdt", "America/Los_Angeles"},
  {"pt", "America/Los_Angeles"}, {"mountain time", "America/Denver"}, {"mountain standard", "America/Denver"},
  {"mst", "America/Denver"}, {"mdt", "America/Denver"}, {"mt", "America/Denver"},
  {"central european", "Europe/Paris"}, {"central time", "America/Chicago"},
  {"central standard", "America/Chicago"}, {"central daylight", "America/Chicago"}, {"cst", "America/Chicago"},
  {"cdt", "America/Chicago"}, {"ct", "America/Chicago"}, {"eastern european", "Europe/Athens"},
  {"eastern", "America/New_York"}, {"est", "America/New_York"}, {"edt", "America/New_York"},
  {"et", "America/New_York"}, {"alaska", "America/Anchorage"}, {"akst", "America/Anchorage"},
  {"hawaii", "Pacific/Honolulu"}, {"hst", "Pacific/Honolulu"}, {"cet", "Europe/Paris"}, {"cest", "Europe/Paris"},
  {"eet", "Europe/Athens"}, {"eest", "Europe/Athens"}, {"wet", "Europe/Lisbon"}, {"bst", "Europe/London"},
  {"british", "Europe/London"}, {"uk", "Europe/London"}, {"gmt", "Etc/GMT"}, {"utc", "UTC"}, {"zulu", "UTC"},
  {"ist", "Asia/Kolkata"}, {"jst", "Asia/Tokyo"}, {"kst", "Asia/Seoul"}, {"aest", "Australia/Sydney"},
  {"aedt", "Australia/Sydney"}, {"nzst", "Pacific/Auckland"}, {"nzdt", "Pacific/Auckland"},
  {"new york", "America/New_York"}, {"nyc", "America/New_York"}, {"boston", "America/New_York"},
  {"washington dc", "America/New_York"}, {"miami", "America/New_York"}, {"atlanta", "America/New_York"},
  {"philadelphia", "America/New_York"}, {"detroit", "America/Detroit"}, {"toronto", "America/Toronto"},
  {"montreal", "America/Toronto"}, {"chicago", "America/Chicago"}, {"dallas", "America/Chicago"},
  {"houston", "America/Chicago"}, {"austin", "America/Chicago"}, {"denver", "America/Denver"},
  {"phoenix", "America/Phoenix"}, {"arizona", "America/Phoenix"}, {"los angeles", "America/Los_Angeles"},
  {"san francisco", "America/Los_Angeles"}, {"seattle", "America/Los_Angeles"},
  {"portland", "America/Los_Angeles"}, {"california", "America/Los_Angeles"},
  {"vancouver", "America/Vancouver"}, {"anchorage", "America/Anchorage"}, {"honolulu", "Pacific/Honolulu"},
  {"mexico city", "America/Mexico_City"}, {"sao paulo", "America/Sao_Paulo"}, {"brazil", "America/Sao_Paulo"},
  {"buenos aires", "America/Argentina/Buenos_Aires"}, {"bogota", "America/Bogota"}, {"lima", "America/Lima"},
  {"santiago", "America/Santiago"}, {"london", "Europe/London"}, {"england", "Europe/London"},
  {"dublin", "Europe/Dublin"}, {"ireland", "Europe/Dublin"}, {"lisbon", "Europe/Lisbon"},
  {"portugal", "Europe/Lisbon"}, {"paris", "Europe/Paris"}, {"france", "Europe/Paris"},
  {"berlin", "Europe/Berlin"}, {"germany", "Europe/Berlin"}, {"munich", "Europe/Berlin"},
  {"madrid", "Europe/Madrid"}, {"spain", "Europe/Madrid"}, {"barcelona", "Europe/Madrid"}, {"rome", "Europe/Rome"},
  {"milan", "Europe/Rome"}, {"italy", "Europe/Rome"}, {"amsterdam", "Europe/Amsterdam"},
  {"netherlands", "Europe/Amsterdam"}, {"brussels", "Europe/Brussels"}, {"vienna", "Europe/Vienna"},
  {"zurich", "Europe/Zurich"}, {"geneva", "Europe/Zurich"}, {"stockholm", "Europe/Stockholm"},
  {"oslo", "Europe/Oslo"}, {"copenhagen", "Europe/Copenhagen"}, {"helsinki", "Europe/Helsinki"},
  {"warsaw", "Europe/Warsaw"}, {"prague", "Europe/Prague"}, {"budapest", "Europe/Budapest"},
  {"athens", "Europe/Athens"}, {"istanbul", "Europe/Istanbul"}, {"kyiv", "Europe/Kyiv"}, {"kiev", "Europe/Kyiv"},
  {"moscow", "Europe/Moscow"}, {"cairo", "Africa/Cairo"}, {"johannesburg", "Africa/Johannesburg"},
  {"cape town", "Africa/Johannesburg"}, {"lagos", "Africa/Lagos"}, {"nairobi", "Africa/Nairobi"},
  {"tel aviv", "Asia/Jerusalem"}, {"jerusalem", "Asia/Jerusalem"}, {"israel", "Asia/Jerusalem"},
  {"dubai", "Asia/Dubai"}, {"riyadh", "Asia/Riyadh"}, {"tehran", "Asia/Tehran"}, {"karachi", "Asia/Karachi"},
  {"india", "Asia/Kolkata"}, {"mumbai", "Asia/Kolkata"}, {"delhi", "Asia/Kolkata"}, {"new delhi", "Asia/Kolkata"},
  {"bangalore", "Asia/Kolkata"}, {"bengaluru", "Asia/Kolkata"}, {"kolkata", "Asia/Kolkata"},
  {"dhaka", "Asia/Dhaka"}, {"bangkok", "Asia/Bangkok"}, {"jakarta", "Asia/Jakarta"},
  {"singapore", "Asia/Singapore"}, {"kuala lumpur", "Asia/Kuala_Lumpur"}, {"manila", "Asia/Manila"},
  {"hong kong", "Asia/Hong_Kong"}, {"beijing", "Asia/Shanghai"}, {"shanghai", "Asia/Shanghai"},
  {"china", "Asia/Shanghai"}, {"taipei", "Asia/Taipei"}, {"seoul", "Asia/Seoul"}, {"korea", "Asia/Seoul"},
  {"tokyo", "Asia/Tokyo"}, {"japan", "Asia/Tokyo"}, {"osaka", "Asia/Tokyo"}, {"sydney", "Australia/Sydney"},
  {"melbourne", "Australia/Melbourne"}, {"brisbane", "Australia/Brisbane"}, {"perth", "Australia/Perth"},
  {"auckland", "Pacific/Auckland"}, {"new zealand", "Pacific/Auckland"},
};

/* How many tokens from i spell phrase (single spaces), 0 if they do not. */
static int phrase_at(const P *p, int i, const char *phrase) {
  int k = 0;
  while (*phrase) {
    const char *sp = strchr(phrase, ' ');
    size_t n = sp ? (size_t)(sp - phrase) : strlen(phrase);
    if (!(i + k < p->n && p->t[i + k].kind == T_WORD && strlen(p->t[i + k].s) == n &&
          memcmp(p->t[i + k].s, phrase, n) == 0))
      return 0;
    k++;
    phrase += n + (sp != NULL);
  }
  return k;
}

static int m_zone(P *p, int i) {
  nlu_t *o = p->o;
  if ((tw(p, i, "utc") || tw(p, i, "gmt")) && (tk(p, i + 1, T_PLUS) || tk(p, i + 1, T_DASH)) &&
      tk(p, i + 2, T_NUM)) {
    int64_t h = p->t[i + 2].val;
    int plus = p->t[i + 1].kind == T_PLUS, k = 3;
    if (tk(p, i + 3, T_COLON) && tk(p, i + 4, T_NUM)) {
      /* Etc zones are whole hours: the other offsets in use map to the zone that has them */
      static const struct {
        int plus, h, m;
        const char *zone;
      } ODD[] = {{1, 5, 30, "Asia/Kolkata"}, {1, 5, 45, "Asia/Kathmandu"}, {1, 4, 30, "Asia/Kabul"},
                 {1, 3, 30, "Asia/Tehran"},  {1, 6, 30, "Asia/Yangon"},    {1, 9, 30, "Australia/Darwin"},
                 {0, 3, 30, "America/St_Johns"}, {0, 9, 30, "Pacific/Marquesas"}};
      int64_t m = p->t[i + 4].val;
      if (m != 0) {
        for (size_t z = 0; z < ARRAY_SIZE(ODD); z++)
          if (ODD[z].plus == plus && ODD[z].h == h && ODD[z].m == m) strcpy(o->zone, ODD[z].zone);
        return 5;
      }
      k = 5;
    }
    if (h == 0) strcpy(o->zone, "UTC");
    else if (h <= (plus ? 14 : 12)) {
      char *q = o->zone;
      memcpy(q, "Etc/GMT", 7), q += 7;
      *q++ = plus ? '-' : '+';
      if (h >= 10) *q++ = (char)('0' + h / 10);
      *q++ = (char)('0' + h % 10);
      *q = 0;
    }
    return k;
  }
  int best = 0;
  const char *zone = NULL;
  for (size_t z = 0; z < ARRAY_SIZE(ZONES); z++) {
    int k = phrase_at(p, i, ZONES[z].phrase);
    if (k > best) best = k, zone = ZONES[z].zone;
  }
  if (!best) return 0;
  strcpy(o->zone, zone);
  if (tw(p, i + best, "time")) best++;
  return best;
}

/* ---- choices, answers, details ---- */

static int m_choice(P *p, int i) {
  nlu_t *o = p->o;
  int k = twl(p, i, ORDWORDS);
  int64_t v;
  if (k >= 1 && k <= 12) {
    int nx = i + 1;
    if (twl(p, nx, CHOICE) >= 0 || tw(p, i - 1, "the") || nx >= p->n || tk(p, nx, T_SEP)) {
      o->ordinal = k;
      return 1 + (twl(p, nx, CHOICE) >= 0);
    }
    return 0;
  }
  if (tw(p, i, "last") && (twl(p, i + 1, CHOICE) >= 0 || (tw(p, i - 1, "the") && (i + 1 >= p->n || tk(p, i + 1, T_SEP)))))
    return o->ordinal = -1, 1 + (twl(p, i + 1, CHOICE) >= 0);
  if ((tk(p, i, T_NUM) && (k = daynum_at(p, i, &v)) == 2 && twl(p, i + 2, CHOICE) >= 0))
    return o->ordinal = (int)v, 3;
  if ((tw(p, i, "option") || tw(p, i, "number") || tk(p, i, T_HASH)) && tk(p, i + 1, T_NUM) && p->t[i + 1].val >= 1 &&
      p->t[i + 1].val <= 20)
    return o->ordinal = (int)p->t[i + 1].val, 2;
  return 0;
}

static int m_answer(P *p, int i) {
  nlu_t *o = p->o;
  static const char *const YES[] = {"yes", "yeah", "yep", "yup", "sure", "ok", "okay", "perfect", "great",
                                    "confirm", "confirmed", "works", "fine", "absolutely", "definitely", NULL};
  static const char *const NO[] = {"no", "nope", "nah", "none", "neither", NULL};
  static const char *const NOT[] = {"doesn't", "doesnt", "don't", "dont", "not", "won't", "wont", "can't",
                                    "cant", "cannot", NULL};
  static const char *const HI[] = {"hi", "hello", "hey", "thanks", "thank", "thx", "cheers", "howdy", NULL};
  static const char *const EARLY[] = {"earlier", "sooner", "earliest", NULL};
  static const char *const LATE[] = {"later", "latest", NULL};
  if (twl(p, i, NOT) >= 0) {
    int j = i + 1;
    if (tw(p, j, "work") || tw(p, j, "works") || tw(p, j, "good")) return o->no = 1, o->yes = 0, 2;
    return 0;
  }
  if ((tw(p, i, "sounds") || tw(p, i, "looks")) && (tw(p, i + 1, "good") || tw(p, i + 1, "great") || tw(p, i + 1, "fine")))
    return o->yes = 1, 2;
  if ((tw(p, i, "book") || tw(p, i, "take")) && tw(p, i + 1, "it")) return o->yes = 1, 2;
  if (tw(p, i, "go") && tw(p, i + 1, "ahead")) return o->yes = 1, 2;
  if (tw(p, i, "that") && (tw(p, i + 1, "works") || tw(p, i + 1, "one"))) return o->yes = 1, 2;
  if (twl(p, i, YES) >= 0) return o->no ? 1 : (o->yes = 1, 1);
  if (twl(p, i, NO) >= 0) return o->no = 1, o->yes = 0, 1 + (tw(p, i, "none") && tw(p, i + 1, "of") ? 2 : 0);
  if (twl(p, i, HI) >= 0) return o->greeting = 1, 1 + tw(p, i + 1, "you");
  if (twl(p, i, EARLY) >= 0) return o->earlier = 1, 1;
  if (twl(p, i, LATE) >= 0) return o->later = 1, 1;
  return 0;
}

static const char *const STOP[] = {
  "a", "an", "the", "i", "i'm", "im", "me", "my", "we", "us", "our", "you", "your", "it", "it's", "its", "is", "are",
  "was", "be", "been", "to", "for", "of", "on", "in", "at", "by", "with", "and", "or", "but", "if", "so", "do",
  "does", "did", "can", "could", "would", "will", "should", "shall", "may", "might", "please", "pls", "want",
  "wanna", "like", "need", "looking", "look", "get", "have", "has", "had", "any", "anything", "some",
  "something", "what", "whats", "what's", "about", "how", "when", "where", "which", "there", "that", "this",
  "these", "those", "then", "than", "ones", "work", "good", "just", "also", "maybe", "possibly", "perhaps",
  "am", "pm", "let", "lets", "let's", "day", "days", "week", "weeks", "from", "until", "till", "between", "after",
  "before", "around", "next", "last", "coming", "see", "check", "set", "up", "time", "times", "minute",
  "minutes", "min", "mins", "hour", "hours", "hr", "hrs", "long", "name", "email", "e", "mail", "e-mail",
  "contact", "reach", "here", "there", "not", "very", "really", "much", "more", "less", "other", "another",
  "instead", "else", "all", "same", "only", "early", "late", "ish", "s", "t", "o", "m", "p", "d", "ll",
  "re", "ve", "know", "tell", "give", "show", "find", "make", "go", "going", "try", "able", "possible",
  "works", "one", "option", "options", "choice", "slot", "slots", "either", "thing", "things", "please",
  "book", "booking", "schedule", "scheduling", "reschedule", "arrange", "available", "availability", "free",
  "open", "spot", "spots", "opening", "openings", "cancel", "who", "why", "whenever", "sometime", "soon",
  "asap", "possible", "new", "now", "each", "every", "person", "people", "can't", "cant", "don't", "dont",
  "won't", "i'd", "id", "i'll", "we'd", "we're", "prefer", "month", NULL};

static const char *const SCHED[] = {
  "call", "meeting", "meet", "appointment", "appt", "demo", "consultation", "consult", "session", "interview",
  "chat", "sync", "book", "booking", "schedule", "reschedule", "arrange", "slot", "slots", "available",
  "availability", "free", "open", "opening", "openings", "spot", "cancel", "catch", NULL};

/* A name after "I'm", "my name is", "this is", "name:", kept as typed. */
static int m_name(P *p, int i) {
  int j, needcap;
  if (tw(p, i, "my") && tw(p, i + 1, "name") && (tw(p, i + 2, "is") || tw(p, i + 2, "name's"))) j = i + 3, needcap = 0;
  else if (tw(p, i, "my") && tw(p, i + 1, "name's")) j = i + 2, needcap = 0;
  else if (tw(p, i, "name") && (tk(p, i + 1, T_COLON) || tw(p, i + 1, "is"))) j = i + 2, needcap = 0;
  else if (tw(p, i, "i'm") || tw(p, i, "im")) j = i + 1, needcap = 1;
  else if ((tw(p, i, "i") && tw(p, i + 1, "am")) || (tw(p, i, "this") && tw(p, i + 1, "is"))) j = i + 2, needcap = 1;
  else return 0;
  int first = j, last = -1;
  for (int n = 0; n < 4; n++) {
    int q = j + (n > 0 && tk(p, j, T_DASH));
    if (!tk(p, q, T_WORD) || p->t[q].used || lookup(STOP, p->t[q].s) >= 0 || lookup(SCHED, p->t[q].s) >= 0 ||
        weekday_of(p, q) >= 0 || month_of(p, q) >= 0 || (needcap && !p->t[q].cap))
      break;
    last = q;
    j = q + 1;
    if (n == 0 && needcap && twl(p, q, NUMWORDS) >= 0) { /* "I'm five minutes late" is no name */
      last = -1;
      break;
    }
  }
  if (last < 0) return 0;
  int a = p->t[first].off, b = p->t[last].off + p->t[last].len;
  size_t n = (size_t)(b - a);
  if (n > sizeof p->o->name - 1) {
    n = sizeof p->o->name - 1;
    while (n > 0 && ((unsigned char)p->raw[a + n] & 0xC0) == 0x80) n--; /* a whole code point */
  }
  memcpy(p->o->name, p->raw + a, n);
  p->o->name[n] = 0;
  return last + 1 - i;
}

/* ---- raw text: UTF-8, e-mail, typed zone names ---- */

static int utf8_valid(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t k;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) k = 1, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) k = 2, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) k = 3, cp = c & 0x07;
    else return 0;
    if (n - i <= k) return 0;
    for (size_t j = 1; j <= k; j++) {
      if ((s[i + j] & 0xC0) != 0x80) return 0;
      cp = cp << 6 | (s[i + j] & 0x3F);
    }
    if ((k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
      return 0;
    i += k + 1;
  }
  return 1;
}

static int is_alnum(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static void find_email(const char *s, size_t n, char *blank, nlu_t *o) {
  for (size_t at = 1; at + 1 < n; at++) {
    if (s[at] != '@') continue;
    size_t a = at, b = at + 1, dot = 0;
    while (a > 0 && (is_alnum(s[a - 1]) || strchr("._%+-'", s[a - 1]) != NULL) && s[a - 1]) a--;
    while (b < n && (is_alnum(s[b]) || s[b] == '-' || s[b] == '.')) b++;
    while (b > at + 1 && s[b - 1] == '.') b--; /* the sentence's full stop */
    for (size_t k = at + 1; k < b; k++)
      if (s[k] == '.') dot = k;
    while (a < at && s[a] == '.') a++;
    if (a == at || !dot || dot + 1 >= b || b - a >= sizeof o->email) continue;
    memcpy(o->email, s + a, b - a);
    o->email[b - a] = 0;
    memset(blank + a, ' ', b - a);
    return;
  }
}

/* "Europe/London", "america/new_york": an Area/Location of a known area, with its capitals
 * restored (each part's first letter and the one after '_' or '-'). */
static void find_iana(const char *s, size_t n, char *blank, nlu_t *o) {
  static const char *const AREAS[] = {"africa", "america", "antarctica", "arctic", "asia",    "atlantic",
                                      "australia", "europe", "indian",  "pacific", "etc", NULL};
  for (size_t i = 0; i < n; i++) {
    if (!is_alpha(s[i]) || (i > 0 && (is_alnum(s[i - 1]) || s[i - 1] == '/'))) continue;
    size_t e = i;
    while (e < n && (is_alnum(s[e]) || strchr("/_+-", s[e]) != NULL) && s[e]) e++;
    const char *sl = memchr(s + i, '/', e - i);
    if (!sl || e - i >= sizeof o->zone || sl + 1 >= s + e) continue;
    char area[16];
    size_t al = (size_t)(sl - (s + i));
    if (al >= sizeof area) continue;
    for (size_t k = 0; k < al; k++) area[k] = (char)lower(s[i + k]);
    area[al] = 0;
    if (lookup(AREAS, area) < 0) continue;
    for (size_t k = 0; k < e - i; k++) {
      int c = s[i + k], start = k == 0 || strchr("/_-", s[i + k - 1]) != NULL;
      o->zone[k] = (char)(start ? (c >= 'a' && c <= 'z' ? c - 32 : c) : c);
    }
    o->zone[e - i] = 0;
    if (strcmp(area, "etc") == 0) memcpy(o->zone, "Etc", 3);
    memset(blank + i, ' ', e - i);
    return;
  }
}

/* Cuts the blanked copy into tokens; the pool holds each token's lower-case text. */
static int tokenize(const char *raw, const char *s, size_t n, tok_t *t, int max, char *pool) {
  int nt = 0;
  size_t i = 0;
  while (i < n && nt < max) {
    unsigned char c = (unsigned char)s[i];
    tok_t *k = &t[nt];
    memset(k, 0, sizeof *k);
    k->off = (int)i;
    k->s = pool;
    if (c >= '0' && c <= '9') {
      int64_t v = 0;
      size_t j = i;
      while (j < n && s[j] >= '0' && s[j] <= '9') {
        v = v > NUM_CAP / 10 ? NUM_CAP : v * 10 + (s[j] - '0');
        if (v > NUM_CAP) v = NUM_CAP;
        *pool++ = s[j++];
      }
      k->kind = T_NUM, k->val = v, k->ndig = (unsigned char)(j - i > 255 ? 255 : j - i);
      i = j;
    } else if (is_alpha(c) || (c >= 0xC2 && c < 0xF0 && !(c == 0xE2 && i + 1 < n && (unsigned char)s[i + 1] <= 0xAF))) {
      /* a word: letters, other scripts' letters (2- and 3-byte UTF-8 outside punctuation and
       * symbols), inner apostrophes ("i'm", "i’m"); 4-byte UTF-8 (emoji) separates */
      k->kind = T_WORD, k->cap = c >= 'A' && c <= 'Z';
      size_t j = i;
      while (j < n) {
        unsigned char d = (unsigned char)s[j];
        if (is_alpha(d)) *pool++ = (char)lower(d), j++;
        else if ((d == '\'' || (d == 0xE2 && j + 2 < n && (unsigned char)s[j + 1] == 0x80 &&
                                (unsigned char)s[j + 2] == 0x99)) &&
                 j + (d == '\'' ? 1 : 3) < n && is_alpha(s[j + (d == '\'' ? 1 : 3)]) && j > i)
          *pool++ = '\'', j += d == '\'' ? 1 : 3;
        else if (d >= 0xC2 && d < 0xF0 && d != 0xE2) {
          size_t cl = d < 0xE0 ? 2 : 3;
          if (j + cl > n) break;
          memcpy(pool, s + j, cl), pool += cl, j += cl;
        } else break;
      }
      if (j == i) { /* a lone symbol byte */
        i++;
        continue;
      }
      i = j;
    } else {
      size_t w = 1;
      if (c == ':') k->kind = T_COLON;
      else if (c == '.' && i > 0 && i + 1 < n && s[i - 1] >= '0' && s[i - 1] <= '9' && s[i + 1] >= '0' && s[i + 1] <= '9')
        k->kind = T_DOT;
      else if (c == '/') k->kind = T_SLASH;
      else if (c == '-') k->kind = T_DASH;
      else if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
               ((unsigned char)s[i + 2] == 0x93 || (unsigned char)s[i + 2] == 0x94))
        k->kind = T_DASH, w = 3;
      else if (c == '+') k->kind = T_PLUS;
      else if (c == '#') k->kind = T_HASH;
      else if (c == '@' && raw[i] == '@') k->kind = T_WORD, *pool++ = '@';
      else if (strchr(",;!?()", c) != NULL && c) k->kind = T_SEP;
      else {
        i += c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        continue;
      }
      i += w;
    }
    *pool++ = 0;
    k->len = (int)(i - (size_t)k->off);
    nt++;
  }
  return nt;
}

static void add_word(nlu_t *o, const char *w) {
  size_t n = strlen(w);
  if (n == 0 || n >= sizeof o->words[0] || o->nwords >= NLU_MAX_WORDS) return;
  for (int i = 0; i < o->nwords; i++)
    if (strcmp(o->words[i], w) == 0) return;
  memcpy(o->words[o->nwords++], w, n + 1);
}

static void clear(nlu_t *o) {
  memset(o, 0, sizeof *o);
  o->at = o->around = o->after = o->before = o->duration = -1;
}

int nlu_read(const char *msg, size_t len, int64_t today, nlu_t *out) {
  clear(out);
  if (!msg || len > NLU_MAX_LEN || !utf8_valid((const unsigned char *)msg, len)) return 0;
  char *blank = xmalloc(len + 1), *pool = xmalloc(2 * len + 2);
  tok_t *t = xcalloc(len + 1, sizeof *t);
  memcpy(blank, msg, len);
  blank[len] = 0;
  find_email(msg, len, blank, out);
  find_iana(blank, len, blank, out);
  P p = {.raw = msg, .t = t, .o = out, .today = today};
  p.n = tokenize(msg, blank, len, t, (int)len + 1, pool);
  civil_from_days(today, &p.ty, &p.tm, &p.td);
  p.wd = weekday(today);

  typedef int (*matcher_t)(P *, int);
  static const matcher_t M[] = {m_name,  m_relday, m_week,   m_weekday, m_iso,  m_slash, m_monthday, m_theday,
                                m_range, m_time,   m_inrel,  m_duration, m_part, m_zone, m_choice,   m_answer};
  for (int i = 0; i < p.n;) {
    int k = 0;
    if (!t[i].used)
      for (size_t m = 0; m < ARRAY_SIZE(M) && !k; m++) k = M[m](&p, i);
    if (k > 0) {
      use(&p, i, k);
      i += k;
      continue;
    }
    if (t[i].kind == T_WORD && !t[i].used) {
      if (lookup(SCHED, t[i].s) >= 0) p.sched = 1;
      if (lookup(STOP, t[i].s) < 0 && strcmp(t[i].s, "@") != 0) add_word(out, t[i].s);
    }
    i++;
  }
  free(t);
  free(pool);
  free(blank);
  return p.sched || out->ndays || out->part || out->at >= 0 || out->around >= 0 || out->after >= 0 ||
         out->before >= 0 || out->duration >= 0 || out->zone[0] || out->ordinal || out->earlier || out->later ||
         out->name[0] || out->email[0] || out->yes || out->no;
}
