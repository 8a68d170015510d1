/* Arena and buffer: alignment, large blocks, cleanup order, JSON escaping; put_i64. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/util.h"

static int order[4], norder;
static void hook(void *data) { order[norder++] = (int)(intptr_t)data; }

int main(void) {
  arena_t *a = arena_new();
  for (int i = 0; i < 1000; i++) {
    void *p = arena_alloc(a, (size_t)(i % 37) + 1);
    if ((uintptr_t)p % 16 != 0) {
      CHECK(!"misaligned");
      break;
    }
    memset(p, 0xab, (size_t)(i % 37) + 1);
  }
  CHECK(arena_used(a) >= 1000);
  char *big = arena_alloc(a, 100000); /* own block */
  memset(big, 1, 100000);
  char *small = arena_strdup(a, "after big"); /* the current block keeps serving */
  CHECK_STR(small, "after big");
  CHECK_STR(arena_printf(a, "%d-%s", 42, "x"), "42-x");
  char *z = arena_calloc(a, 64);
  int zero = 1;
  for (int i = 0; i < 64; i++) zero &= z[i] == 0;
  CHECK(zero);
  arena_on_destroy(a, hook, (void *)1);
  arena_on_destroy(a, hook, (void *)2);
  arena_on_destroy(a, hook, (void *)3);
  arena_destroy(a);
  CHECK(norder == 3 && order[0] == 3 && order[1] == 2 && order[2] == 1);

  buf_t b = BUF_INIT;
  buf_json_str(&b, "a\"b\\c\n\x01\xc3\xa9");
  CHECK_STR(b.data, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
  buf_reset(&b);
  for (int i = 0; i < 1000; i++) buf_printf(&b, "%04d", i);
  CHECK(b.len == 4000 && memcmp(b.data + 3996, "0999", 4) == 0);
  buf_reset(&b);
  char longs[600];
  memset(longs, 'x', sizeof longs - 1);
  longs[sizeof longs - 1] = 0;
  buf_printf(&b, "[%s]", longs); /* longer than the stack buffer */
  CHECK(b.len == 601 && b.data[0] == '[' && b.data[600] == ']');
  buf_free(&b);
  /* put_i64: what printf's PRId64 writes, at the extremes too */
  const int64_t nums[] = {0, 7, -7, 1234567890123, INT64_MAX, INT64_MIN};
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
    char got[24], want[24];
    *put_i64(got, nums[i]) = '\0';
    snprintf(want, sizeof want, "%" PRId64, nums[i]);
    CHECK_STR(got, want);
  }
  return check_done();
}
