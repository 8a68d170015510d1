/* The API's one response path (src/api/respond.c): the native envelope byte for byte, a
 * test-only dialect rendering other envelopes for the same calls (what a vendor dialect under
 * api/compat/ does without touching handlers), the seed's 429 body, and compaction of
 * PostgreSQL's JSON text with numbers and strings kept byte for byte. Responses are captured
 * through the request's respond hook, the seam the idempotency store uses. */
#include <stdlib.h>
#include <string.h>

#include "api/respond.h"
#include "check.h"
#include "core/json.h"

static int got_status;
static char got_body[1024];

static void capture(http_req_t *req, int status, const char *ctype, const char *body, size_t len) {
  (void)req;
  (void)ctype;
  got_status = status;
  snprintf(got_body, sizeof got_body, "%.*s", (int)len, body ? body : "");
}

static void test_error(const api_failure_t *f, buf_t *out) {
  buf_printf(out, "{\"status\":\"error\",\"http\":%d,\"detail\":", f->status);
  buf_json_str(out, f->message);
  if (f->field) {
    buf_puts(out, ",\"type\":");
    buf_json_str(out, f->field);
  }
  buf_putc(out, '}');
}

static void test_success(int status, const char *body, size_t len, buf_t *out) {
  (void)status;
  buf_puts(out, "{\"status\":\"success\",\"data\":");
  buf_append(out, body, len);
  buf_putc(out, '}');
}

static const api_dialect_t test_dialect = {"test", test_error, test_success};

typedef struct {
  http_req_t req;
  api_ctx_t ctx;
} fake_t;

static void fake_init(fake_t *f, const api_dialect_t *d) {
  memset(f, 0, sizeof *f);
  f->req.arena = arena_new();
  f->req.ctx = &f->ctx;
  f->ctx.dialect = d;
  f->req.respond_hook = capture;
  got_status = 0;
  got_body[0] = 0;
}

static void fake_free(fake_t *f) {
  buf_free(&f->req.resp_headers);
  arena_destroy(f->req.arena);
}

static buf_t cb;

static const char *compacted(const char *in) {
  buf_reset(&cb);
  json_compact_append(&cb, in, strlen(in));
  buf_putc(&cb, 0);
  return cb.data;
}

int main(void) {
  fake_t f;

  /* native errors */
  fake_init(&f, &api_native_dialect);
  api_error_field(&f.req, 400, E_VALIDATION, "name is required", "name");
  CHECK(got_status == 400);
  CHECK_STR(got_body, "{\"error\":\"name is required\",\"code\":\"VALIDATION_FAILED\",\"field\":\"name\"}");
  fake_free(&f);

  fake_init(&f, &api_native_dialect);
  api_failure_t conflict = {.status = 409, .code = E_CONFLICT, .message = "the booking is cancelled",
                            .current_status = "cancelled"};
  api_fail(&f.req, &conflict);
  CHECK_STR(got_body, "{\"error\":\"the booking is cancelled\",\"code\":\"CONFLICT\",\"status\":\"cancelled\"}");
  fake_free(&f);

  fake_init(&f, &api_native_dialect);
  api_rate_limited(&f.req, 17);
  CHECK(got_status == 429);
  CHECK_STR(got_body, "{\"error\":{\"code\":\"RATE_LIMIT_EXCEEDED\",\"message\":\"Too many requests. Please retry "
                      "after 17 seconds.\"}}");
  CHECK(f.req.resp_headers.data && strstr(f.req.resp_headers.data, "Retry-After: 17\r\n"));
  fake_free(&f);

  /* the same calls through a test-only dialect: other envelopes, handlers unchanged */
  fake_init(&f, &test_dialect);
  api_error_field(&f.req, 400, E_VALIDATION, "name is required", "name");
  CHECK(got_status == 400);
  CHECK_STR(got_body, "{\"status\":\"error\",\"http\":400,\"detail\":\"name is required\",\"type\":\"name\"}");
  fake_free(&f);

  fake_init(&f, &test_dialect);
  api_rate_limited(&f.req, 3);
  CHECK(got_status == 429);
  CHECK_STR(got_body, "{\"status\":\"error\",\"http\":429,\"detail\":\"too many requests\"}");
  fake_free(&f);

  fake_init(&f, &test_dialect);
  const char *pg1 = "{\"price\": 19.99, \"tags\": [\"a b\", \"c\\\" d\"]}";
  api_respond_pg(&f.req, 200, pg1, strlen(pg1));
  CHECK(got_status == 200);
  CHECK_STR(got_body, "{\"status\":\"success\",\"data\":{\"price\":19.99,\"tags\":[\"a b\",\"c\\\" d\"]}}");
  fake_free(&f);

  /* native success: compact, numbers as printed */
  fake_init(&f, &api_native_dialect);
  const char *pg2 = "{\"price\": 19.99, \"n\": 1e-7, \"s\": \"x : y , z\"}";
  api_respond_pg(&f.req, 201, pg2, strlen(pg2));
  CHECK(got_status == 201);
  CHECK_STR(got_body, "{\"price\":19.99,\"n\":1e-7,\"s\":\"x : y , z\"}");
  fake_free(&f);

  fake_init(&f, &api_native_dialect);
  api_respond_pg_extended(&f.req, 201, "{\"id\": 7}", 9, ",\"key\":\"cal_x\"");
  CHECK_STR(got_body, "{\"id\":7,\"key\":\"cal_x\"}");
  fake_free(&f);

  /* a render for errors the HTTP layer answers itself */
  buf_t b = BUF_INIT;
  api_render_error(&test_dialect, 503, E_UNAVAILABLE, "too many connections", &b);
  buf_putc(&b, 0);
  CHECK_STR(b.data, "{\"status\":\"error\",\"http\":503,\"detail\":\"too many connections\"}");
  buf_free(&b);

  /* compaction keeps strings (escapes, spaces, unicode) and numbers byte for byte */
  CHECK_STR(compacted("{\"a\": [1, 2.50, -0.0, 1E+3], \"b\\\\\": \"\\\\\", \"c\": \"\\u00e9 \\\" \"}"),
            "{\"a\":[1,2.50,-0.0,1E+3],\"b\\\\\":\"\\\\\",\"c\":\"\\u00E9 \\\" \"}");
  CHECK_STR(compacted(" \n\t[ ]\r\n"), "[]");
  CHECK_STR(compacted("\"  \""), "\"  \"");

  buf_free(&cb);
  arena_cache_free();
  return check_done();
}
