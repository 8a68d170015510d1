/* chat.h — the assistant's pure decisions and words (issue 15): which event type a reading
 * names, and how days, clock times and zones are said in a reply. No I/O, no clock, no
 * allocation that survives a call; the endpoint (api/ai_chat.c) owns the conversation. */
#ifndef SLOTD_ASSISTANT_CHAT_H
#define SLOTD_ASSISTANT_CHAT_H

#include <stddef.h>
#include <stdint.h>

#include "nlu.h"

typedef struct {
  const char *slug, *name, *description;
  int duration; /* minutes */
} chat_type_t;

#define CHAT_NONE (-1)      /* the reading names no event type */
#define CHAT_AMBIGUOUS (-2) /* several fit equally: their indexes are in tied[] */

/* The event type a reading names. A duration in the message keeps only the types of that length
 * (and alone selects the one type of that length). The reading's content words then score each
 * candidate: a word of its name or slug 2, of its description 1 (a trailing "s" ignored on both
 * sides). The best score wins; a tie at the top -> CHAT_AMBIGUOUS with the tied indexes in
 * tied[] (room for ntypes), *ntied set; no signal -> CHAT_NONE. */
int chat_match_type(const nlu_t *n, const chat_type_t *types, size_t ntypes, int *tied, size_t *ntied);

/* "Tuesday, December 8" for a civil day (days since 1970-01-01). */
void chat_day_label(int64_t day, char *out, size_t outlen);
/* "1:00 PM", "12:30 PM", "12:00 AM" for minutes after midnight. */
void chat_clock_label(int minutes, char *out, size_t outlen);
/* How a zone is named in a sentence: "New York time", "London time", "UTC", "UTC+2" (Etc/GMT-2),
 * "UTC-5:30"-style names for offsets, else the last part of the IANA name. */
void chat_zone_label(const char *zone, char *out, size_t outlen);
/* "HH:MM" (24-hour) for minutes after midnight, as the API's preferred_time carries it. */
void chat_hhmm(int minutes, char out[6]);
/* The civil date "YYYY-MM-DD" of a day. */
void chat_date(int64_t day, char out[11]);

#endif
