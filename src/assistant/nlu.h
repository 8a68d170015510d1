/* nlu.h — deterministic English understanding of one chat message (issue 15, /api/ai/chat).
 * Pure: no allocation survives the call, no I/O, no clock, no global state; the caller passes
 * the invitee's local "today" and gets a structured reading it maps onto event types, slots and
 * the session. Hand-written rules, English only; same input, same output.
 *
 * Date rules (documented choices):
 *  - "Tuesday", "this Tuesday", "on Tuesday": the first Tuesday on or after today (today itself
 *    when today is a Tuesday). "next Tuesday": the first Tuesday strictly after today (the
 *    issue's rule), so on a Wednesday "next Tuesday" is six days later, not thirteen.
 *    "Tuesday next week": the Tuesday of the Monday..Sunday week after this one.
 *  - "this week": today..Sunday; "later this week": tomorrow..Sunday; "next week": Monday..Sunday
 *    of the following week; "the weekend"/"this weekend": the coming Saturday and Sunday (only the
 *    days not yet past when today is one of them); "next weekend": Saturday and Sunday of next week.
 *  - Ranges: "Monday-Friday", "Tuesday to Thursday" (every day from the first through the second,
 *    read as above), "Dec 3-5" (the 3rd through the 5th).
 *  - "in 3 days", "in two weeks", "3 days from now": one day, today + N (weeks: 7N); N above 3660
 *    days is ignored.
 *  - Dates without a year ("December 3", "3 Dec", "12/3") are this year's, or next year's when
 *    already past. Slashes are US month/day ("12/3" = December 3, "12/3/2027"). "the 3rd" is this
 *    month's 3rd, or the next month's that has one when already past. Impossible dates
 *    ("February 30", "13/40") are ignored.
 * Time rules: an hour 1..7 without am/pm means pm (business hours: "at 3", "between 1 and 3");
 * 8..12 is morning/noon, 0 and 13..23 are 24-hour. In "between 11 and 1pm" the am/pm of one end
 * applies to the other when that keeps the range ascending. Invalid clocks ("25:99") are ignored.
 * A bare number without am/pm, a colon or a cue ("at", "around", "after", "before", "by",
 * "between", "how about") is no time: "Can we do 3?" reads nothing. */
#ifndef SLOTD_ASSISTANT_NLU_H
#define SLOTD_ASSISTANT_NLU_H

#include <stddef.h>
#include <stdint.h>

#define NLU_MAX_LEN 8000 /* bytes (2,000 characters of up to 4 bytes: the endpoint refuses longer); longer reads as nothing */
#define NLU_MAX_DAYS 31
#define NLU_MAX_WORDS 16

typedef enum {
  PART_NONE,
  PART_MORNING,   /* 06:00-12:00 */
  PART_AFTERNOON, /* 12:00-17:00 */
  PART_EVENING    /* 17:00-21:00 ("tonight" also names today) */
} nlu_part_t;

typedef struct {
  int64_t days[NLU_MAX_DAYS]; /* civil days (since 1970-01-01, as time_days_from_civil) the message
                                 names, in the order named, without repeats */
  int ndays;
  nlu_part_t part; /* part of day, PART_NONE when not given */
  /* Minutes after local midnight, -1 when not given. */
  int at;            /* exact: "at 3pm", "15:30", "noon", "2:30 works" */
  int around;        /* soft: "around 10", "10ish", "lunchtime" (720) */
  int after, before; /* "after 2pm", "before noon", "between 1 and 3" (both), "end of day" (after 960) */
  int duration;      /* minutes: "half an hour" 30, "an hour" 60, "45 min", "90 minutes"; -1 none */
  char words[NLU_MAX_WORDS][32]; /* lower-case content words left over (stop words and everything
                                    understood above removed), for matching event type names,
                                    slugs and descriptions: "intro call" -> "intro", "call" */
  int nwords;
  char zone[64]; /* IANA name: "I'm in London" -> Europe/London, "Pacific time" ->
                    America/Los_Angeles, "CET" -> Europe/Paris, "UTC+2" -> Etc/GMT-2 (POSIX sign),
                    "UTC+5:30" -> Asia/Kolkata (the zone that has that odd offset);
                    an Area/City name typed in the message is copied with its usual capitals and
                    is NOT checked here: the caller validates every zone with tz_get(). "" none */
  int ordinal;   /* choice among offered slots: "the second one" 2, "first" 1, "the last one" -1;
                    0 none */
  int earlier, later; /* "anything earlier?", "later?" */
  char name[128];     /* as typed: "I'm Bob Smith", "my name is Ann Lee", "this is Ann", "name: X";
                         "I'm"/"this is" need a capitalised name (so not "I'm in London") */
  char email[256];    /* the first address-looking a@b.c in the text, as typed */
  int yes, no;        /* "yes", "sounds good", "book it", "works" / "no", "none of these",
                         "doesn't work" */
  int greeting;       /* hi, hello, thanks, good morning: small talk (does not count for the
                         return value) */
} nlu_t;

/* Reads msg (len bytes of UTF-8, at most NLU_MAX_LEN) against today, the invitee's local civil
 * day, and fills *out completely. Returns 1 when anything scheduling-related was understood (a
 * field above other than words/greeting, or a scheduling noun such as "call", "meeting",
 * "appointment", "book", "available" among the words), 0 otherwise: garbage, emoji, other
 * languages, small talk alone. Too long or invalid UTF-8: 0 with *out empty (every int -1 or 0
 * as above, strings ""). Never reads outside msg (no NUL needed); any input is safe. Allocates
 * a scratch copy that is freed before it returns. Reentrant. */
int nlu_read(const char *msg, size_t len, int64_t today, nlu_t *out);

#endif
