/* web.c — what invitees see (issue 19): the hosted booking pages and the embed script, served
 * from assets compiled into the binary (web/bundle.py; no CDN, no file system at run time).
 *
 *   GET /{slug}                 a person's booking page or an organisation's page
 *   GET /{slug}/{event_slug}    an event type's page (secret ones too: the link is the key)
 *   GET /booking/{uid}          the invitee's manage page (?token=…[&reschedule_token=…])
 *   GET /assets/{name}          app.<hash>.js, app.<hash>.css: a year's cache, ETag, gzip
 *   GET /embed.js               the embed script: a stable name, a short cache, ETag, gzip
 *
 * A page is a small HTML shell (title and description from the page's data, every string
 * escaped) naming the script and style sheet; the script draws the page from the public JSON API
 * that any widget can use. One query decides the status (an unknown page is a 404 page, not a
 * 200 saying so). The shell carries a Content-Security-Policy without 'unsafe-inline' (no inline
 * script or style exists) and frame-ancestors from SLOTD_EMBED_ORIGINS. The page routes are
 * router fallbacks (ROUTE_FALLBACK): tried only for paths no other route has, and a first
 * segment that is reserved (api_reserved_slug) is answered as an unrouted path. */
#include "web.h"

#include <jansson.h>
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../app.h"
#include "../core/buf.h"
#include "dispatch.h"
#include "query.h"
#include "respond.h"
#include "validate.h"

const web_asset_t *web_asset(const char *path) {
  for (const web_asset_t *a = web_assets; a->path; a++)
    if (strcmp(a->path, path) == 0) return a;
  return NULL;
}

/* Whether the client takes gzip: a "gzip" (or "*") coding in Accept-Encoding not weighted q=0. */
static int takes_gzip(http_req_t *req) {
  const char *p = http_req_header(req, "Accept-Encoding");
  while (p && *p) {
    p += strspn(p, " \t,");
    size_t n = strcspn(p, " \t;,");
    int ours = (n == 4 && strncasecmp(p, "gzip", 4) == 0) || (n == 1 && *p == '*');
    const char *end = p + strcspn(p, ",");
    const char *q = strstr(p, "q=");
    double w = q && q < end ? strtod(q + 2, NULL) : 1.0;
    if (ours && w > 0) return 1;
    p = end;
  }
  return 0;
}

/* Whether If-None-Match names etag (weak or strong: If-None-Match compares weakly) or is "*". */
static int not_modified(http_req_t *req, const char *etag) {
  const char *inm = http_req_header(req, "If-None-Match");
  return inm && (strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL); /* 32 hex digits in quotes */
}

static int serve_asset(http_req_t *req, const web_asset_t *a) {
  http_set_header(req, "ETag", a->etag);
  http_set_header(req, "Cache-Control", a->immutable ? "public, max-age=31536000, immutable" : "public, max-age=300");
  http_set_header(req, "Vary", "Accept-Encoding");
  http_set_header(req, "X-Content-Type-Options", "nosniff");
  /* embed.js is loaded by other sites' pages, some with Cross-Origin-Embedder-Policy */
  http_set_header(req, "Cross-Origin-Resource-Policy", "cross-origin");
  if (not_modified(req, a->etag)) {
    http_respond(req, 304, NULL, NULL, 0);
    return 0;
  }
  if (takes_gzip(req)) {
    http_set_header(req, "Content-Encoding", "gzip");
    http_respond(req, 200, a->type, (const char *)a->gz, a->gz_len);
  } else {
    http_respond(req, 200, a->type, (const char *)a->body, a->len);
  }
  return 0;
}

static int asset_get(http_req_t *req) {
  const web_asset_t *a = web_asset(req->path_len < 200 ? req->path : "");
  if (a) return serve_asset(req, a);
  http_set_header(req, "Cache-Control", "no-cache"); /* an old page may ask for last build's name */
  http_respond(req, 404, "text/plain; charset=utf-8", "not found\n", 10);
  return 0;
}

/* The pages' policy, built once: nothing inline, nothing from elsewhere, framed only by
 * SLOTD_EMBED_ORIGINS. */
static const char *content_policy(http_req_t *req) {
  static char csp[2048];
  if (!csp[0]) {
    const config_t *cfg = api_app(req)->cfg;
    buf_t b = {0};
    buf_puts(&b, "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                 "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors");
    for (int i = 0; i < cfg->n_embed_origins; i++) {
      buf_putc(&b, ' ');
      buf_puts(&b, cfg->embed_origins[i]);
    }
    if (!cfg->n_embed_origins) buf_puts(&b, " 'none'");
    snprintf(csp, sizeof csp, "%.*s", (int)b.len, b.data);
    buf_free(&b);
  }
  return csp;
}

typedef struct {
  const char *view; /* page, event, manage, notfound, error */
  const char *slug, *event_slug, *uid;
} shell_t;

/* The page: head (title, description, the assets), and #app with the view for the script; a
 * heading and words for those without JavaScript. Every string is escaped. */
static void shell(http_req_t *req, int status, const shell_t *s, const char *title, const char *description,
                  const char *words) {
  buf_t b = {0};
  buf_puts(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
  buf_html(&b, title);
  buf_puts(&b, "</title>\n");
  if (description && *description) {
    buf_puts(&b, "<meta name=\"description\" content=\"");
    buf_html(&b, description);
    buf_puts(&b, "\">\n");
  }
  if (strcmp(s->view, "page") != 0 && strcmp(s->view, "event") != 0)
    buf_puts(&b, "<meta name=\"robots\" content=\"noindex\">\n");
  buf_printf(&b, "<link rel=\"icon\" href=\"data:,\">\n<link rel=\"stylesheet\" href=\"%s\">\n"
                 "<script src=\"%s\" defer></script>\n</head>\n<body>\n<div id=\"app\" data-view=\"%s\"",
             web_app_css, web_app_js, s->view);
  const char *attrs[3][2] = {{"data-slug", s->slug}, {"data-event-slug", s->event_slug}, {"data-uid", s->uid}};
  for (int i = 0; i < 3; i++) {
    if (!attrs[i][1]) continue;
    buf_printf(&b, " %s=\"", attrs[i][0]);
    buf_html(&b, attrs[i][1]);
    buf_putc(&b, '"');
  }
  buf_puts(&b, "><h1>");
  buf_html(&b, title);
  buf_puts(&b, "</h1>");
  if (words) {
    buf_puts(&b, "<p>");
    buf_html(&b, words);
    buf_puts(&b, "</p>");
  }
  buf_puts(&b, "</div>\n<noscript><p>Booking a time on this page needs JavaScript.</p></noscript>\n</body></html>\n");
  http_set_header(req, "Content-Security-Policy", content_policy(req));
  http_set_header(req, "X-Content-Type-Options", "nosniff");
  http_set_header(req, "Referrer-Policy", "no-referrer"); /* the manage page's URL holds tokens */
  http_set_header(req, "Cache-Control", strcmp(s->view, "manage") == 0 ? "no-store" : "no-cache");
  http_respond(req, status, "text/html; charset=utf-8", b.data, b.len);
  buf_free(&b);
}

static void not_found(http_req_t *req) {
  shell_t s = {.view = "notfound"};
  shell(req, 404, &s, "Page not found", NULL, "There is no booking page at this address.");
}

/* A first segment reserved for slotd's own paths is an unrouted path, answered in the words of
 * the API that owns the prefix; one that cannot be a slug is a page that does not exist. */
static int page_route(http_req_t *req) {
  const char *slug = http_req_param(req, "slug");
  if (!slug || api_reserved_slug(slug)) {
    api_unrouted(req, 404, NULL);
    return 0;
  }
  if (!api_valid_slug(slug)) {
    not_found(req);
    return 0;
  }
  return api_dispatch(req);
}

static void on_page(void *data, const db_result_t *r) {
  http_req_t *req = data;
  shell_t *s = api_ctx(req)->flow;
  api_failure_t f;
  char msg[256];
  if (api_db_failure(r, &f, msg, sizeof msg)) {
    if (f.status == 404) {
      not_found(req);
    } else {
      shell_t e = {.view = "error"};
      shell(req, f.status, &e, "This page is not available", NULL,
            f.status == 503 ? "The booking service is busy or restarting. Please try again in a moment."
                            : "Something went wrong. Please try again.");
    }
    return;
  }
  json_t *j = json_loads(PQgetvalue(r->res, 0, 0), 0, NULL);
  json_t *page = s->event_slug ? json_object_get(j, "page") : j;
  json_t *et = json_object_get(j, "event_type");
  const char *name = json_string_value(json_object_get(page, "display_name"));
  char title[400];
  const char *desc;
  if (et) {
    snprintf(title, sizeof title, "%s · %s", json_string_value(json_object_get(et, "name")), name ? name : "");
    desc = json_string_value(json_object_get(et, "description"));
  } else {
    snprintf(title, sizeof title, "%s", name ? name : "");
    desc = json_string_value(json_object_get(page, "bio"));
    if (!desc) desc = json_string_value(json_object_get(page, "welcome_message"));
  }
  char d[301];
  snprintf(d, sizeof d, "%s", desc ? desc : "");
  size_t n = strlen(d);
  while (n > 0 && ((unsigned char)d[n - 1] & 0xC0) == 0x80) d[--n] = '\0'; /* no cut character */
  if (n > 0 && (unsigned char)d[n - 1] >= 0xC0) d[--n] = '\0';
  shell(req, 200, s, title, d, "Loading the booking page…");
  json_decref(j);
}

static int page_get(http_req_t *req) {
  shell_t *s = arena_calloc(req->arena, sizeof *s);
  s->slug = http_req_param(req, "slug");
  s->event_slug = http_req_param(req, "event_slug");
  s->view = s->event_slug ? "event" : "page";
  api_ctx(req)->flow = s;
  if (s->event_slug && !api_valid_slug(s->event_slug)) {
    not_found(req);
    return 0;
  }
  const char *params[2] = {s->slug, s->event_slug};
  api_query(req, s->event_slug ? "public_event_page" : "public_page", s->event_slug ? 2 : 1, params, on_page);
  return 0;
}

/* The manage page needs no query: its script asks the token routes, which decide. */
static int manage_get(http_req_t *req) {
  const char *uid = http_req_param(req, "uid");
  if (!uid || !api_valid_uuid(uid)) {
    not_found(req);
    return 0;
  }
  shell_t s = {.view = "manage", .uid = uid};
  shell(req, 200, &s, "Your booking", NULL, "Loading your booking…");
  return 0;
}

#define PAGE(fn) &(const api_handler_t){fn, API_PUBLIC, &api_native_dialect}

static const http_route_t routes[] = {
    {M(HTTP_GET), "/embed.js", asset_get, 0, NULL},
    /* the API's OpenAPI document (openapi/openapi.json), compiled in like the assets */
    {M(HTTP_GET), "/openapi.json", asset_get, 0, NULL},
    {M(HTTP_GET), "/assets/:name", asset_get, 0, NULL},
    {M(HTTP_GET), "/booking/:uid", api_dispatch, ROUTE_PUBLIC, PAGE(manage_get)},
    {M(HTTP_GET), "/:slug", page_route, ROUTE_PUBLIC | ROUTE_FALLBACK, PAGE(page_get)},
    {M(HTTP_GET), "/:slug/:event_slug", page_route, ROUTE_PUBLIC | ROUTE_FALLBACK, PAGE(page_get)},
};

const app_module_t api_web_module = {"web", routes, (int)(sizeof routes / sizeof routes[0]), NULL};
