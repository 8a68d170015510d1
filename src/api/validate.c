#include "validate.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "respond.h"

/* Whether a parsed value nests deeper than max (recursive, but stops as soon as max is passed:
 * at most max + 1 frames). */
static int depth_exceeds(json_t *v, int max) {
  if (max < 0) return 1;
  if (json_is_object(v)) {
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) if (depth_exceeds(x, max - 1)) return 1;
  } else if (json_is_array(v)) {
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) if (depth_exceeds(x, max - 1)) return 1;
  }
  return 0;
}

/* ------------------------------------------------------------------ bodies */

int api_json_object_parse(const char *data, size_t len, json_t **out, char *err, size_t errlen) {
  *out = NULL;
  if (len == 0) {
    snprintf(err, errlen, "request body must be a JSON object");
    return -1;
  }
  json_error_t jerr;
  /* jansson rejects invalid UTF-8 and \u0000 (no JSON_ALLOW_NUL) by itself; its parser stops
   * nesting at JSON_PARSER_MAX_DEPTH (2048), ours at API_JSON_MAX_DEPTH. */
  json_t *v = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!v) {
    snprintf(err, errlen, "malformed JSON body: %s", jerr.text);
    return -1;
  }
  if (!json_is_object(v)) {
    json_decref(v);
    snprintf(err, errlen, "request body must be a JSON object");
    return -1;
  }
  if (depth_exceeds(v, API_JSON_MAX_DEPTH)) {
    json_decref(v);
    snprintf(err, errlen, "malformed JSON body: nesting deeper than %d", API_JSON_MAX_DEPTH);
    return -1;
  }
  *out = v;
  return 0;
}

static void free_json(void *p) { json_decref(p); }

int api_body_object(http_req_t *req) {
  char err[200];
  json_t *v;
  if (api_json_object_parse(req->body.data, req->body.len, &v, err, sizeof err) != 0) {
    api_error(req, 400, E_BAD_REQUEST, err);
    return -1;
  }
  arena_on_destroy(req->arena, free_json, v);
  api_ctx(req)->body = v;
  return 0;
}

/* ------------------------------------------------------------------ validation */

void api_v_init(api_v_t *v, http_req_t *req, json_t *obj) {
  memset(v, 0, sizeof *v);
  v->req = req;
  v->obj = obj;
}

void api_v_fail(api_v_t *v, const char *field, const char *fmt, ...) {
  if (v->failed) return;
  v->failed = 1;
  v->field = field;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v->message, sizeof v->message, fmt, ap);
  va_end(ap);
}

static size_t utf8_chars(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    if (((unsigned char)*s & 0xC0) != 0x80) n++;
  return n;
}

static int has_control(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t' && *s != '\r') return 1;
  return 0;
}

int api_v_present(api_v_t *v, const char *field) { return v->obj && json_object_get(v->obj, field) != NULL; }

const char *api_v_str(api_v_t *v, const char *field, int required, size_t minlen, size_t maxlen) {
  json_t *j = v->obj ? json_object_get(v->obj, field) : NULL;
  if (!j || json_is_null(j)) {
    if (required) api_v_fail(v, field, "%s is required", field);
    return NULL;
  }
  if (!json_is_string(j)) {
    api_v_fail(v, field, "%s must be a string", field);
    return NULL;
  }
  const char *s = json_string_value(j);
  size_t n = utf8_chars(s);
  if (n < minlen) {
    if (minlen <= 1) api_v_fail(v, field, "%s must not be empty", field);
    else api_v_fail(v, field, "%s must be at least %zu characters", field, minlen);
    return NULL;
  }
  if (n > maxlen) {
    api_v_fail(v, field, "%s must be at most %zu characters", field, maxlen);
    return NULL;
  }
  if (has_control(s)) {
    api_v_fail(v, field, "%s contains control characters", field);
    return NULL;
  }
  return s;
}

/* Only spaces, including Unicode's no-break, typographic and zero-width ones. */
static int blank(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    if (*p == ' ') p++;
    else if (p[0] == 0xC2 && p[1] == 0xA0) p += 2;                                          /* U+00A0 */
    else if (p[0] == 0xE2 && p[1] == 0x80 && (p[2] <= 0x8B || p[2] == 0xAF)) p += 3;        /* U+2000-200B, 202F */
    else if (p[0] == 0xE2 && p[1] == 0x81 && (p[2] == 0x9F || p[2] == 0xA0)) p += 3;        /* U+205F, 2060 */
    else if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) p += 3;                          /* U+3000 */
    else if (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) p += 3;                          /* U+FEFF */
    else return 0;
  }
  return 1;
}

const char *api_v_line(api_v_t *v, const char *field, int required, size_t minlen, size_t maxlen) {
  const char *s = api_v_str(v, field, required, minlen, maxlen);
  if (!s) return NULL;
  if (strpbrk(s, "\n\r\t")) {
    api_v_fail(v, field, "%s must be a single line", field);
    return NULL;
  }
  if (minlen > 0 && blank(s)) {
    api_v_fail(v, field, "%s must not be blank", field);
    return NULL;
  }
  return s;
}

const char *api_v_str_or_null(api_v_t *v, const char *field, size_t maxlen, int *present) {
  json_t *j = v->obj ? json_object_get(v->obj, field) : NULL;
  *present = j != NULL;
  if (!j || json_is_null(j)) return NULL;
  return api_v_str(v, field, 0, 0, maxlen);
}

int api_v_int(api_v_t *v, const char *field, long long min, long long max, int nullable, int *is_null,
              long long *out) {
  json_t *j = v->obj ? json_object_get(v->obj, field) : NULL;
  if (is_null) *is_null = 0;
  if (!j) return 0;
  if (json_is_null(j)) {
    if (!nullable) api_v_fail(v, field, "%s must not be null", field);
    else if (is_null) *is_null = 1;
    return 0;
  }
  if (!json_is_integer(j)) {
    api_v_fail(v, field, "%s must be an integer", field);
    return 0;
  }
  long long x = json_integer_value(j);
  if (x < min || x > max) {
    api_v_fail(v, field, "%s must be between %lld and %lld", field, min, max);
    return 0;
  }
  *out = x;
  return 1;
}

void api_v_not_null(api_v_t *v, const char *field) {
  json_t *j = v->obj ? json_object_get(v->obj, field) : NULL;
  if (j && json_is_null(j)) api_v_fail(v, field, "%s must not be null", field);
}

int api_v_bool(api_v_t *v, const char *field, int *out) {
  json_t *j = v->obj ? json_object_get(v->obj, field) : NULL;
  if (!j) return 0;
  if (!json_is_boolean(j)) {
    api_v_fail(v, field, "%s must be true or false", field);
    return 0;
  }
  *out = json_is_true(j);
  return 1;
}

int api_v_respond(api_v_t *v) {
  api_error_field(v->req, 400, E_VALIDATION, v->message, v->field);
  return 0;
}

int api_valid_email(const char *s) {
  size_t n = strlen(s);
  if (n < 3 || n > 254) return 0;
  const char *at = strchr(s, '@');
  if (!at || at == s || strchr(at + 1, '@') || (size_t)(at - s) > 64) return 0;
  const char *dom = at + 1;
  if (!*dom || dom[0] == '.' || !strchr(dom, '.') || s[n - 1] == '.' || strstr(dom, "..")) return 0;
  for (const char *p = s; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c <= 0x20 || c == 0x7f || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' || c == ';' ||
        c == '<' || c == '>' || c == '[' || c == '\\' || c == ']')
      return 0;
  }
  return 1;
}

/* Decimal text with 1-10 integer digits and at most two decimals. */
static int money_text(const char *s) {
  size_t i = 0, d = 0;
  while (s[i] >= '0' && s[i] <= '9') i++;
  if (i == 0 || i > 10) return 0;
  if (s[i] == '.') {
    for (d = 0; s[i + 1 + d] >= '0' && s[i + 1 + d] <= '9'; d++) {}
    if (d < 1 || d > 2) return 0;
    i += 1 + d;
  }
  return s[i] == '\0';
}

int api_v_money(api_v_t *v, const char *field, int positive, int nullable, int *is_null, char out[32]) {
  if (is_null) *is_null = 0;
  json_t *x = v->failed || !v->obj ? NULL : json_object_get(v->obj, field);
  if (!x) return 0;
  if (json_is_null(x) && nullable) {
    *is_null = 1;
    return 1;
  }
  if (json_is_string(x) && json_string_length(x) < 32) {
    snprintf(out, 32, "%s", json_string_value(x));
  } else if (json_is_integer(x) && json_integer_value(x) >= 0 && json_integer_value(x) <= 1000000000) {
    snprintf(out, 32, "%lld", (long long)json_integer_value(x));
  } else if (json_is_real(x) && json_real_value(x) >= 0 && json_real_value(x) <= 1e9) {
    snprintf(out, 32, "%.15g", json_real_value(x));
  } else {
    out[0] = '\0';
  }
  double val = money_text(out) ? strtod(out, NULL) : -1;
  if (val < 0 || val > 1e9 || (positive && val <= 0)) {
    api_v_fail(v, field, "%s must be an amount %s 1000000000 with at most two decimals, like 49.99", field,
               positive ? "above 0 and at most" : "from 0 to");
    return 0;
  }
  return 1;
}

/* The active ISO 4217 codes (and the precious metals, SDR and the testing code XTS). */
static const char ISO_4217[] =
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP "
    "GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW "
    "KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN "
    "NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL "
    "SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES "
    "VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XDR XOF XPD XPF XPT XSU XTS XUA YER ZAR ZMW ZWG ZWL";

int api_v_currency(api_v_t *v, const char *field, int nullable, int *is_null, char out[4]) {
  if (is_null) *is_null = 0;
  json_t *x = v->failed || !v->obj ? NULL : json_object_get(v->obj, field);
  if (!x) return 0;
  if (json_is_null(x) && nullable) {
    *is_null = 1;
    return 1;
  }
  const char *s = json_is_string(x) ? json_string_value(x) : "";
  int ok = strlen(s) == 3;
  for (int i = 0; ok && i < 3; i++) {
    out[i] = s[i];
    ok = out[i] >= 'A' && out[i] <= 'Z';
  }
  out[3] = '\0';
  for (const char *c = ISO_4217; ok; c += 4) {
    if (memcmp(c, out, 3) == 0) return 1;
    if (!c[3]) ok = 0;
  }
  api_v_fail(v, field, "%s must be an ISO 4217 currency code like USD", field);
  return 0;
}

int api_valid_color(const char *s) {
  if (strlen(s) != 7 || s[0] != '#') return 0;
  for (int i = 1; i < 7; i++)
    if (!isxdigit((unsigned char)s[i])) return 0;
  return 1;
}

int api_valid_slug(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 60 || s[0] == '-' || s[n - 1] == '-') return 0;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-')) return 0;
  return 1;
}

int api_valid_http_url(const char *s) {
  const char *rest;
  if (strncmp(s, "https://", 8) == 0) rest = s + 8;
  else if (strncmp(s, "http://", 7) == 0) rest = s + 7;
  else return 0;
  if (!*rest || *rest == '/' || strlen(s) > 2048) return 0;
  for (const char *p = s; *p; p++)
    if ((unsigned char)*p <= 0x20 || *p == 0x7f) return 0;
  return 1;
}

int api_valid_uuid(const char *s) {
  if (!s || strlen(s) != 36) return 0;
  for (int i = 0; i < 36; i++) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return 0;
    } else if (!isxdigit((unsigned char)c)) {
      return 0;
    }
  }
  return 1;
}

void api_slugify(const char *name, char *out, size_t outlen) {
  size_t o = 0;
  int dash = 0;
  for (const char *p = name; *p && o + 1 < outlen && o < 50; p++) {
    char c = *p;
    if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      if (dash && o > 0) out[o++] = '-';
      dash = 0;
      if (o + 1 < outlen) out[o++] = c;
    } else if (!((unsigned char)c & 0x80) || ((unsigned char)c & 0xC0) == 0xC0) {
      dash = 1; /* ASCII separator, or the first byte of a non-ASCII character */
    }
  }
  out[o] = '\0';
  if (o == 0) snprintf(out, outlen, "user");
}

int api_reserved_slug(const char *s) {
  /* slotd's own top-level paths, and a few a host would be confused to see taken by a page. */
  static const char *const reserved[] = {
      "api",    "v1",     "v2",    "mcp",   "healthz", "readyz", "metrics", "booking", "bookings",
      "assets", "embed",  "static", "admin", "login",   "logout", "signup",  "settings", "openapi",
      "docs",   "public", "www",   "auth",  "cancel",  "reschedule", "well-known", NULL};
  for (const char *const *r = reserved; *r; r++)
    if (strcmp(s, *r) == 0) return 1;
  return 0;
}

void api_slugify_top(const char *name, char *out, size_t outlen) {
  api_slugify(name, out, outlen);
  if (api_reserved_slug(out)) {
    size_t n = strlen(out);
    if (n + 3 <= outlen) memcpy(out + n, "-1", 3);
  }
}

/* Length of the well-formed UTF-8 sequence at s (n bytes left), or 0: no overlong forms, no
 * surrogates, nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  if (c < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
  if (c >= 0xC2 && c <= 0xDF) len = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;      /* overlong */
    else if (c == 0xED) hi = 0x9F; /* surrogates */
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;      /* overlong */
    else if (c == 0xF4) hi = 0x8F; /* above U+10FFFF */
  } else {
    return 0;
  }
  if (n < len || s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < len; i++)
    if ((s[i] & 0xC0) != 0x80) return 0;
  return len;
}

/* One name or value of the query string, as api_query_param decodes it ('+' is a space, then
 * percent-decoding), into the arena: NULL unless every escape is complete and the result is
 * UTF-8 without control characters (NUL, C0, DEL). */
static char *query_part(arena_t *arena, const char *s, size_t n) {
  char *tmp = arena_strndup(arena, s, n);
  for (char *p = tmp; *p; p++)
    if (*p == '+') *p = ' ';
  char *out = router_decode(arena, tmp, n); /* NULL on a bad escape or a NUL byte */
  if (!out) return NULL;
  const unsigned char *u = (const unsigned char *)out;
  size_t len = strlen(out);
  for (size_t k = 0; k < len;) {
    size_t step = utf8_seq(u + k, len - k);
    if (!step || u[k] < 0x20 || u[k] == 0x7f) return NULL;
    k += step;
  }
  return out;
}

int api_query_check(http_req_t *req, const char **bad) {
  *bad = NULL;
  const char *q = req->query;
  while (q && *q) {
    const char *amp = strchr(q, '&');
    size_t len = amp ? (size_t)(amp - q) : strlen(q);
    const char *eq = memchr(q, '=', len);
    size_t nlen = eq ? (size_t)(eq - q) : len;
    const char *name = query_part(req->arena, q, nlen);
    if (!name || (eq && !query_part(req->arena, eq + 1, len - nlen - 1))) {
      /* Name the parameter; if the name itself is what is malformed, as the client wrote it
       * when that is short printable ASCII (the error body must be valid UTF-8), else not. */
      int printable = nlen > 0 && nlen <= 64;
      for (size_t i = 0; printable && i < nlen; i++) printable = q[i] > 0x20 && q[i] < 0x7f;
      *bad = name ? name : printable ? arena_strndup(req->arena, q, nlen) : NULL;
      return -1;
    }
    q = amp ? amp + 1 : NULL;
  }
  return 0;
}

const char *api_query_param(http_req_t *req, const char *name) {
  const char *q = req->query;
  size_t nlen = strlen(name);
  while (q && *q) {
    const char *amp = strchr(q, '&');
    size_t len = amp ? (size_t)(amp - q) : strlen(q);
    if (len > nlen && q[nlen] == '=' && strncmp(q, name, nlen) == 0) {
      char *tmp = arena_strndup(req->arena, q + nlen + 1, len - nlen - 1);
      for (char *p = tmp; *p; p++)
        if (*p == '+') *p = ' ';
      return router_decode(req->arena, tmp, strlen(tmp));
    }
    if (len == nlen && strncmp(q, name, nlen) == 0) return "";
    q = amp ? amp + 1 : NULL;
  }
  return NULL;
}

long long api_parse_id(const char *s) {
  if (!s || !*s || strlen(s) > 18) return 0;
  for (const char *p = s; *p; p++)
    if (*p < '0' || *p > '9') return 0;
  long long v = strtoll(s, NULL, 10);
  return v > 0 ? v : 0;
}

const char *api_id_param(http_req_t *req, const char *name, const char *what) {
  const char *id = http_req_param(req, name);
  if (!api_parse_id(id)) {
    api_error(req, 404, E_NOT_FOUND, what);
    return NULL;
  }
  return id;
}


void api_email_fold(char *email) {
  for (char *p = email; *p; p++)
    if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
}

int api_valid_phone(const char *s) {
  size_t n = strlen(s), digits = 0;
  if (n < 6 || n > 32) return 0;
  for (const char *p = s; *p; p++) {
    if (*p >= '0' && *p <= '9') digits++;
    else if (!strchr("+-() .", *p)) return 0;
  }
  return digits >= 6;
}

int api_page_parse(api_v_t *v, long long default_limit, long long max_limit, api_page_t *out) {
  http_req_t *req = v->req;
  const char *ls = api_query_param(req, "limit"), *ps = api_query_param(req, "page");
  out->limit = default_limit;
  out->page = 1;
  if (ls && (!api_parse_id(ls) || api_parse_id(ls) > max_limit))
    api_v_fail(v, "limit", "limit must be 1 to %lld", max_limit);
  else if (ls) out->limit = api_parse_id(ls);
  if (ps && (!api_parse_id(ps) || api_parse_id(ps) > API_PAGE_MAX))
    api_v_fail(v, "page", "page must be 1 to %d", API_PAGE_MAX);
  else if (ps) out->page = api_parse_id(ps);
  snprintf(out->limit_s, sizeof out->limit_s, "%lld", out->limit);
  snprintf(out->offset_s, sizeof out->offset_s, "%lld", (out->page - 1) * out->limit);
  return v->failed ? -1 : 0;
}

void api_page_headers(http_req_t *req, const api_page_t *p, long long total) {
  char v[32];
  snprintf(v, sizeof v, "%lld", total);
  http_set_header(req, "X-Total-Count", v);
  /* RFC 8288 links keeping the caller's other query parameters. */
  buf_t link = BUF_INIT;
  long long last = total > 0 ? (total + p->limit - 1) / p->limit : 1;
  const char *rels[4] = {"first", "prev", "next", "last"};
  long long pages[4] = {1, p->page - 1, p->page + 1, last};
  for (int i = 0; i < 4; i++) {
    if (pages[i] < 1 || pages[i] > last || (i == 1 && p->page <= 1) || (i == 2 && p->page >= last)) continue;
    if (link.len) buf_puts(&link, ", ");
    buf_printf(&link, "<%s", api_app(req)->cfg->public_url);
    for (size_t k = 0; k < req->path_len; k++)
      if (req->path[k] != '<' && req->path[k] != '>' && req->path[k] != '"') buf_putc(&link, req->path[k]);
    buf_putc(&link, '?');
    const char *q = req->query ? req->query : "";
    while (*q) { /* the query without its page parameter */
      const char *amp = strchr(q, '&');
      size_t n = amp ? (size_t)(amp - q) : strlen(q);
      if (n && strncmp(q, "page=", 5) != 0) {
        for (size_t k = 0; k < n; k++)
          if (q[k] != '<' && q[k] != '>' && q[k] != '"') buf_putc(&link, q[k]);
        buf_putc(&link, '&');
      }
      q += n + (amp ? 1 : 0);
    }
    buf_printf(&link, "page=%lld>; rel=\"%s\"", pages[i], rels[i]);
  }
  if (link.len) http_set_header(req, "Link", link.data);
  buf_free(&link);
}
