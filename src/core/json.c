#include "json.h"

void json_compact_append(buf_t *out, const char *src, size_t len) {
  buf_reserve(out, len);
  size_t run = 0; /* start of the pending run of bytes to copy */
  int in_str = 0;
  for (size_t i = 0; i < len; i++) {
    char c = src[i];
    if (in_str) {
      if (c == '\\' && i + 5 < len && src[i + 1] == 'u') { /* a \u escape's hex digits in upper case, as jansson writes them */
        for (size_t k = i + 2; k < i + 6; k++)
          if (src[k] >= 'a' && src[k] <= 'f') {
            if (k > run) buf_append(out, src + run, k - run);
            buf_putc(out, (char)(src[k] - 32));
            run = k + 1;
          }
        i += 5;
      } else if (c == '\\') {
        i++; /* the escaped byte cannot end the string */
      } else if (c == '"') {
        in_str = 0;
      }
    } else if (c == '"') {
      in_str = 1;
    } else if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      if (i > run) buf_append(out, src + run, i - run);
      run = i + 1;
    }
  }
  if (len > run) buf_append(out, src + run, len - run);
}
