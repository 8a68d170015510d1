/* validate.h — request input: JSON bodies, field validation with errors that name the field,
 * query parameters, ids, pagination, and the value rules every dialect shares (e-mail, phone,
 * slug, colour, URL, uuid). Nothing here talks to the database. */
#ifndef SLOTD_API_VALIDATE_H
#define SLOTD_API_VALIDATE_H

#include <jansson.h>
#include <stddef.h>

#include "../http/server.h"
#include "ctx.h"

#define API_JSON_MAX_DEPTH 32
#define API_PAGE_MAX 1000000

/* Parses data as a JSON object: 0 and a new reference in *out, or -1 with a message. Rejects
 * empty or non-object bodies, malformed JSON, invalid UTF-8, NUL characters, duplicate keys,
 * nesting deeper than API_JSON_MAX_DEPTH. Pure: the fuzz target calls it directly. */
int api_json_object_parse(const char *data, size_t len, json_t **out, char *err, size_t errlen) WARN_UNUSED;
/* The request body through api_json_object_parse into ctx->body (freed with the request). On
 * failure responds 400 and returns -1. */
int api_body_object(http_req_t *req) WARN_UNUSED;

/* Field validation: the first failure is kept; handlers check v.failed once at the end. */
typedef struct api_v_s {
  http_req_t *req;
  json_t *obj;
  int failed;
  const char *field;
  char message[400];
} api_v_t;

void api_v_init(api_v_t *v, http_req_t *req, json_t *obj);
void api_v_fail(api_v_t *v, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Unknown fields are ignored. Each getter returns "absent" (NULL / 0) when the field is
 * missing (and fails if required), fails on a wrong type, and validates lengths in characters. */
const char *api_v_str(api_v_t *v, const char *field, int required, size_t minlen, size_t maxlen);
/* A one-line text (names, labels): like api_v_str, and neither blank nor holding line breaks
 * or tabs. */
const char *api_v_line(api_v_t *v, const char *field, int required, size_t minlen, size_t maxlen);
/* Like api_v_str but JSON null is allowed: returns NULL. *present = field given. */
const char *api_v_str_or_null(api_v_t *v, const char *field, size_t maxlen, int *present);
int api_v_present(api_v_t *v, const char *field);
/* Integer field in [min, max]. Returns 1 and sets *out when given and valid; 0 when absent;
 * with nullable, JSON null returns 0 and sets *is_null. Fails on fractions, strings, range. */
int api_v_int(api_v_t *v, const char *field, long long min, long long max, int nullable, int *is_null,
              long long *out);
/* Fails when field is present as JSON null (for fields that may be left out but not cleared). */
void api_v_not_null(api_v_t *v, const char *field);
/* Boolean field: 1 and *out when given. */
int api_v_bool(api_v_t *v, const char *field, int *out);
/* Responds 400 naming v's field (through the request's dialect). Returns 0. */
int api_v_respond(api_v_t *v);

/* Money in major units (a price, a payment): a JSON number or a decimal string with at most two
 * decimals, from 0 (or above 0 when positive) to 1,000,000,000. Written to out as exact decimal
 * text (a number is read back with 15 significant digits, which every such amount survives).
 * 1 when given and valid (null counts when nullable: *is_null set); 0 when absent or after
 * failing v. */
int api_v_money(api_v_t *v, const char *field, int positive, int nullable, int *is_null, char out[32]);
/* Currency field: an active ISO 4217 code (upper case, as the standard writes it) into
 * out. 1 when given and valid (null counts when nullable); 0 when absent or after failing v. */
int api_v_currency(api_v_t *v, const char *field, int nullable, int *is_null, char out[4]);

/* Value rules. */
int api_valid_email(const char *s);
void api_email_fold(char *email);          /* the one folding rule: ASCII lower case, in place */
int api_valid_phone(const char *s);        /* 6-32 of digits and "+-() .", at least 6 digits */
int api_valid_color(const char *s);        /* #RRGGBB */
int api_valid_slug(const char *s);         /* [a-z0-9-], 1..60, no leading/trailing '-' */
int api_valid_http_url(const char *s);     /* absolute http(s) URL without spaces */
int api_valid_uuid(const char *s);         /* 8-4-4-4-12 hex */
/* Slug from a display name: lower-case ASCII letters and digits, '-' between words. */
void api_slugify(const char *name, char *out, size_t outlen);
/* A slug a booking page or an organisation may not take: it would shadow one of slotd's own
 * top-level paths (/api, /v2, /booking, /assets, …; app.c checks at start that every route's
 * first segment is listed). */
int api_reserved_slug(const char *s);
/* api_slugify for a top-level slug (a booking page's, an org's): a reserved result gets "-1". */
void api_slugify_top(const char *name, char *out, size_t outlen);

/* The whole query string, checked once before any API handler runs (api_dispatch): every
 * name and value must percent-decode ('+' is a space) to UTF-8 without control characters (so
 * no %00, no bad escape). 0, or -1 with *bad the first offending parameter's name (decoded;
 * as written if the name itself is malformed; NULL if that is not printable ASCII), in the
 * arena. A malformed parameter is refused, never mistaken for an absent one. */
int api_query_check(http_req_t *req, const char **bad) WARN_UNUSED;
/* A query-string parameter, percent-decoded ('+' is a space) into the arena; NULL if absent.
 * (A malformed one cannot reach a handler: api_query_check refused the request first; outside
 * the API front door it would read as NULL too.) */
const char *api_query_param(http_req_t *req, const char *name);

/* A positive database id (1..10^18-1) from text; 0 if it is not one. */
long long api_parse_id(const char *s);
/* A positive integer path parameter, or NULL after a 404 with message `what`. */
const char *api_id_param(http_req_t *req, const char *name, const char *what);

/* The one pagination rule of every list: ?limit= (1..max, default) & page= (1..API_PAGE_MAX). */
typedef struct {
  long long limit, page;
  char limit_s[24], offset_s[24]; /* as query parameters */
} api_page_t;
/* Fails v (field limit or page) on a bad value; -1 then. */
int api_page_parse(api_v_t *v, long long default_limit, long long max_limit, api_page_t *out);
/* X-Total-Count and an RFC 8288 Link header (first, prev, next, last) for this request's path,
 * keeping its other query parameters. */
void api_page_headers(http_req_t *req, const api_page_t *p, long long total);

#endif
