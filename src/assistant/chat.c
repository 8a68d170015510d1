#include "chat.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "../core/timeutil.h"

#define WORD_MAX 32

/* Copies the next word (ASCII letters and digits, lower-cased, a trailing "s" dropped when the
 * word is longer than three letters) of *s into w; advances *s. 0 at the end. */
static int next_word(const char **s, char w[WORD_MAX]) {
  const char *p = *s;
  while (*p && !isalnum((unsigned char)*p)) p++;
  if (!*p) return 0;
  size_t n = 0;
  while (*p && isalnum((unsigned char)*p)) {
    if (n < WORD_MAX - 1) w[n++] = (char)tolower((unsigned char)*p);
    p++;
  }
  if (n > 3 && w[n - 1] == 's') n--;
  w[n] = '\0';
  *s = p;
  return 1;
}

/* Does text contain the (normalised) word? */
static int has_word(const char *text, const char *word) {
  char w[WORD_MAX];
  while (text && next_word(&text, w))
    if (strcmp(w, word) == 0) return 1;
  return 0;
}

int chat_match_type(const nlu_t *n, const chat_type_t *types, size_t ntypes, int *tied, size_t *ntied) {
  *ntied = 0;
  int cand_by_duration = 0;
  if (n->duration > 0)
    for (size_t i = 0; i < ntypes; i++) cand_by_duration += types[i].duration == n->duration;
  int best = 0;
  for (size_t i = 0; i < ntypes; i++) {
    if (cand_by_duration && types[i].duration != n->duration) continue;
    int score = 0;
    for (int k = 0; k < n->nwords; k++) {
      const char *text = n->words[k];
      char w[WORD_MAX];
      if (!next_word(&text, w)) continue;
      if (has_word(types[i].name, w) || has_word(types[i].slug, w)) score += 2;
      else if (has_word(types[i].description, w)) score += 1;
    }
    if (score > best) {
      best = score;
      *ntied = 0;
    }
    if (score == best && (score > 0 || cand_by_duration)) tied[(*ntied)++] = (int)i;
  }
  if (*ntied == 1) return tied[0];
  if (*ntied > 1) return CHAT_AMBIGUOUS;
  return CHAT_NONE;
}

static const char *const WEEKDAYS[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
static const char *const MONTHS[] = {"January", "February", "March",     "April",   "May",      "June",
                                     "July",    "August",   "September", "October", "November", "December"};

void chat_date(int64_t day, char out[11]) {
  char iso[48];
  time_format_utc(day * 86400, iso, sizeof iso);
  snprintf(out, 11, "%.10s", iso);
}

void chat_day_label(int64_t day, char *out, size_t outlen) {
  char iso[48];
  time_format_utc(day * 86400, iso, sizeof iso);
  int m = 0, d = 0;
  if (strlen(iso) < 10 || sscanf(iso + 5, "%2d-%2d", &m, &d) != 2 || m < 1 || m > 12) {
    snprintf(out, outlen, "%.10s", iso);
    return;
  }
  int wd = (int)(((day % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
  snprintf(out, outlen, "%s, %s %d", WEEKDAYS[wd], MONTHS[m - 1], d);
}

void chat_clock_label(int minutes, char *out, size_t outlen) {
  int h = minutes / 60 % 24, m = minutes % 60;
  snprintf(out, outlen, "%d:%02d %s", h % 12 ? h % 12 : 12, m, h < 12 ? "AM" : "PM");
}

void chat_hhmm(int minutes, char out[6]) {
  int h = minutes / 60 % 24, m = minutes % 60;
  out[0] = (char)('0' + h / 10);
  out[1] = (char)('0' + h % 10);
  out[2] = ':';
  out[3] = (char)('0' + m / 10);
  out[4] = (char)('0' + m % 10);
  out[5] = '\0';
}

void chat_zone_label(const char *zone, char *out, size_t outlen) {
  if (!zone || !*zone || strcmp(zone, "UTC") == 0 || strcmp(zone, "Etc/UTC") == 0 || strcmp(zone, "GMT") == 0 ||
      strcmp(zone, "Etc/GMT") == 0) {
    snprintf(out, outlen, "UTC");
    return;
  }
  if (strncmp(zone, "Etc/GMT", 7) == 0 && (zone[7] == '+' || zone[7] == '-')) { /* POSIX sign: GMT-2 is UTC+2 */
    snprintf(out, outlen, "UTC%c%s", zone[7] == '-' ? '+' : '-', zone + 8);
    return;
  }
  const char *city = strrchr(zone, '/');
  city = city ? city + 1 : zone;
  size_t n = 0;
  for (; *city && n + 1 < outlen; city++) out[n++] = *city == '_' ? ' ' : *city;
  out[n] = '\0';
  if (n + 6 < outlen) memcpy(out + n, " time", 6);
}
