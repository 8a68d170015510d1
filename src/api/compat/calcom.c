#include "calcom.h"

#include <stdio.h>
#include <string.h>

#include "../../core/json.h"
#include "../../core/timeutil.h"
#include "../schedules.h"

/* Nest's exception class for a status, and its reason phrase (details.error). */
static void nest_names(int status, const char **code, const char **error) {
  switch (status) {
    case 400: *code = "BadRequestException", *error = "Bad Request"; return;
    case 401: *code = "UnauthorizedException", *error = "Unauthorized"; return;
    case 403: *code = "ForbiddenException", *error = "Forbidden"; return;
    case 404: *code = "NotFoundException", *error = "Not Found"; return;
    case 405: *code = "MethodNotAllowedException", *error = "Method Not Allowed"; return;
    case 409: *code = "ConflictException", *error = "Conflict"; return;
    case 413: *code = "PayloadTooLargeException", *error = "Payload Too Large"; return;
    case 415: *code = "UnsupportedMediaTypeException", *error = "Unsupported Media Type"; return;
    case 422: *code = "UnprocessableEntityException", *error = "Unprocessable Entity"; return;
    case 429: *code = "ThrottlerException", *error = "Too Many Requests"; return;
    case 503: *code = "ServiceUnavailableException", *error = "Service Unavailable"; return;
    default:
      if (status >= 500) *code = "InternalServerErrorException", *error = "Internal Server Error";
      else *code = "HttpException", *error = "Error";
  }
}

static void calcom_error(const api_failure_t *f, buf_t *out) {
  const char *code, *error;
  nest_names(f->status, &code, &error);
  char ts[32];
  calcom_iso(now_wall_ms() / 1000, ts);
  memcpy(ts + 20, "000Z", 5); /* whole seconds: the clock's milliseconds are nobody's business */
  const char *message = f->message ? f->message : error;
  if (f->status == 429)
    message = "ThrottlerException: Too Many Requests";
  buf_puts(out, "{\"status\":\"error\",\"timestamp\":");
  buf_json_str(out, ts);
  buf_puts(out, ",\"path\":");
  if (f->path) {
    char path[512];
    size_t n = f->path_len < sizeof path - 1 ? f->path_len : sizeof path - 1;
    memcpy(path, f->path, n);
    path[n] = '\0';
    buf_json_str(out, path);
  } else {
    buf_puts(out, "null");
  }
  buf_puts(out, ",\"error\":{\"code\":");
  buf_json_str(out, code);
  buf_puts(out, ",\"message\":");
  buf_json_str(out, message);
  buf_puts(out, ",\"details\":{\"message\":");
  buf_json_str(out, message);
  buf_puts(out, ",\"error\":");
  buf_json_str(out, error);
  buf_printf(out, ",\"statusCode\":%d", f->status);
  if (f->field && *f->field) {
    buf_puts(out, ",\"field\":");
    buf_json_str(out, f->field);
  }
  if (f->current_status) {
    buf_puts(out, ",\"bookingStatus\":");
    buf_json_str(out, f->current_status);
  }
  buf_puts(out, "}}}");
}

const api_dialect_t calcom_dialect = {"calcom", calcom_error, NULL};

int calcom_version(http_req_t *req, const char *version) {
  if (!version) return 0;
  const char *v = http_req_header(req, "cal-api-version");
  if (!v || strcmp(v, version) == 0) return 0;
  char msg[160];
  snprintf(msg, sizeof msg, "this endpoint supports cal-api-version %s only", version);
  api_failure_t f = {.status = 400, .code = E_VALIDATION, .message = msg, .field = "cal-api-version"};
  api_fail(req, &f);
  return -1;
}

void calcom_ok_text(http_req_t *req, int status, const char *json, size_t len) {
  buf_t b = BUF_INIT;
  buf_puts(&b, "{\"status\":\"success\",\"data\":");
  json_compact_append(&b, json, len);
  buf_putc(&b, '}');
  api_respond_body(req, status, b.data, b.len);
  buf_free(&b);
}

void calcom_ok(http_req_t *req, int status, json_t *data) {
  json_t *env = json_pack("{s:s, s:o}", "status", "success", "data", data ? data : json_null());
  api_respond_json(req, status, env);
}

void calcom_ok_bare(http_req_t *req, int status) { api_respond_body(req, status, "{\"status\":\"success\"}", 20); }

void calcom_fail(http_req_t *req, int status, const char *message, const char *field) {
  api_error_field(req, status, api_code_for_status(status), message, field);
}

void calcom_iso(int64_t t, char out[32]) {
  char s[48];
  time_format_utc(t, s, sizeof s); /* "2030-01-08T15:00:00Z" */
  size_t n = strlen(s);
  if (n && s[n - 1] == 'Z') s[n - 1] = '\0';
  snprintf(out, 32, "%.24s.000Z", s);
}

static int utc_zone(const char *name) {
  return strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0 || strcmp(name, "GMT") == 0 ||
         strcmp(name, "Etc/GMT") == 0 || strcmp(name, "Etc/Universal") == 0 || strcmp(name, "Universal") == 0 ||
         strcmp(name, "Zulu") == 0 || strcmp(name, "Etc/Zulu") == 0;
}

void calcom_iso_tz(const tz_t *tz, int64_t t, char out[40]) {
  if (!tz || utc_zone(tz_name(tz))) {
    calcom_iso(t, out);
    return;
  }
  int32_t off = tz_offset(tz, t);
  char s[48];
  time_format_utc(t + off, s, sizeof s);
  size_t n = strlen(s);
  if (n && s[n - 1] == 'Z') s[n - 1] = '\0';
  int32_t a = off < 0 ? -off : off;
  snprintf(out, 40, "%.24s.000%c%02d:%02d", s, off < 0 ? '-' : '+', (int)(a / 3600), (int)(a / 60 % 60));
}

int calcom_parse_time(const char *s, int date_ok, int end_of_day, int64_t *out) {
  if (!s) return -1;
  size_t n = strlen(s);
  if (n == 10) {
    int64_t day;
    if (!date_ok || parse_date(s, &day) != 0) return -1;
    *out = day * 86400 + (end_of_day ? 86399 : 0);
    return 0;
  }
  return time_parse_rfc3339(s, out);
}
