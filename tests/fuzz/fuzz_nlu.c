/* libFuzzer target: the assistant's reader on any bytes (invalid UTF-8, NULs, huge numbers,
 * emoji), then the event-type matcher and the reply words on what it read. The reading's own
 * invariants must hold whatever the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "assistant/chat.h"
#include "assistant/nlu.h"
#include "core/timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const chat_type_t TYPES[] = {
    {"30-minute-call", "30 Minute Call", "A quick call.", 30},
    {"intro-call", "Intro Call", "First conversation about your project.", 15},
    {"strategy-session", "Strategy Session", "Roadmap and pricing.", 60},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int64_t today;
  if (!today) today = time_days_from_civil(2026, 12, 2);
  nlu_t n;
  nlu_read((const char *)data, size, today, &n);
  if (n.ndays < 0 || n.ndays > NLU_MAX_DAYS || n.nwords < 0 || n.nwords > NLU_MAX_WORDS) abort();
  for (int i = 0; i < n.nwords; i++)
    if (strnlen(n.words[i], sizeof n.words[i]) == sizeof n.words[i]) abort(); /* terminated */
  if (strnlen(n.zone, sizeof n.zone) == sizeof n.zone || strnlen(n.name, sizeof n.name) == sizeof n.name ||
      strnlen(n.email, sizeof n.email) == sizeof n.email)
    abort();
  int times[] = {n.at, n.around, n.after, n.before};
  for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
    if (times[i] < -1 || times[i] > 24 * 60) abort();
  int tied[3];
  size_t nt;
  int m = chat_match_type(&n, TYPES, 3, tied, &nt);
  if (m < CHAT_AMBIGUOUS || m > 2 || nt > 3) abort();
  char s[96];
  chat_zone_label(n.zone, s, sizeof s);
  for (int i = 0; i < n.ndays; i++) chat_day_label(n.days[i], s, sizeof s);
  if (n.at >= 0) chat_clock_label(n.at, s, sizeof s);
  return 0;
}
