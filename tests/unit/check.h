/* check.h — minimal TAP output for C unit tests run by `meson test` (protocol: tap). */
#ifndef SLOTD_TEST_CHECK_H
#define SLOTD_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_n, check_failed;

#define CHECK(cond)                                                                        \
  do {                                                                                     \
    ++check_n;                                                                             \
    if (cond) printf("ok %d - %s\n", check_n, #cond);                                      \
    else {                                                                                 \
      printf("not ok %d - %s (%s:%d)\n", check_n, #cond, __FILE__, __LINE__);              \
      check_failed++;                                                                      \
    }                                                                                      \
  } while (0)

#define CHECK_STR(a, b)                                                                    \
  do {                                                                                     \
    const char *a_ = (a), *b_ = (b);                                                       \
    ++check_n;                                                                             \
    if (a_ && b_ && strcmp(a_, b_) == 0) printf("ok %d - %s == \"%s\"\n", check_n, #a, b_); \
    else {                                                                                 \
      printf("not ok %d - %s: got \"%s\", want \"%s\" (%s:%d)\n", check_n, #a, a_ ? a_ : "(null)", \
             b_ ? b_ : "(null)", __FILE__, __LINE__);                                      \
      check_failed++;                                                                      \
    }                                                                                      \
  } while (0)

/* Integers: both sides are converted to long long and printed on failure. */
#define CHECK_EQ(a, b)                                                                                             \
  do {                                                                                                             \
    long long check_a_ = (long long)(a), check_b_ = (long long)(b);                                                \
    ++check_n;                                                                                                     \
    if (check_a_ == check_b_) printf("ok %d - %s == %s\n", check_n, #a, #b);                                       \
    else {                                                                                                         \
      printf("not ok %d - %s == %s: got %lld, want %lld (%s:%d)\n", check_n, #a, #b, check_a_, check_b_, __FILE__, \
             __LINE__);                                                                                            \
      check_failed++;                                                                                              \
    }                                                                                                              \
  } while (0)

static inline int check_done(void) {
  printf("1..%d\n", check_n);
  return check_failed ? 1 : 0;
}

#endif
