/* compose.c — see compose.h. Three steps: every user string is cleaned (control characters and
 * malformed UTF-8 out) into a table of named values; the kind's template is rendered from that
 * table once as text and once as HTML; the MIME tree is written around both.
 *
 * Template syntax (src/mail/templates/; a kind's file starts with "Subject: ...\n\n"):
 *   {{name}}                    a value (HTML-escaped in the HTML part)
 *   {{#a|b}} ... {{/a|b}}       kept when any of the values is given, else dropped
 *   {{^a}} ... {{/a}}           kept when none is given
 *   {{>name}}                   the partial _name.txt
 * A line holding nothing but one section tag or partial is dropped with its line end.
 *   {{button url|Label}}        text "Label: <url>"; HTML a button in the brand colour
 *   {{link url|Label}}          text "Label: <url>"; HTML a plain link
 * A button or link whose URL is not given renders nothing. An unknown name or tag makes
 * mail_compose fail (tests/unit/test_compose.c renders every kind). */
#include "compose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/timeutil.h"
#include "sched/tzif.h"

/* Written by src/mail/templates/embed.py at build time; ends with {NULL, NULL}. */
struct mail__template {
  const char *name; /* the file name, e.g. "booked.txt" */
  const char *text;
};
extern const struct mail__template mail__templates[];

#define MAIL_MAX_FIELD 4000 /* bytes kept of any user string (notes may be long; headers fold) */
#define MAIL_MAX_PARTIAL_DEPTH 4
#define MAIL_DEFAULT_COLOR "#0069ff"
#define MAIL_LINE 78 /* RFC 5322 2.1.1: lines SHOULD stay within 78 characters */

static const struct {
  const char *kind;
  mail_to_t to;
  int cancel; /* the invitation's default method is CANCEL */
} kinds[] = {
    {"booked", MAIL_INVITEE, 0},        {"pending", MAIL_INVITEE, 0},   {"pending_payment", MAIL_INVITEE, 0},
    {"confirmed", MAIL_INVITEE, 0},     {"declined", MAIL_INVITEE, 1},  {"cancelled", MAIL_INVITEE, 1},
    {"rescheduled", MAIL_INVITEE, 0},   {"reminder", MAIL_INVITEE, 0},  {"host_new", MAIL_HOST, 0},
    {"host_pending", MAIL_HOST, 0},     {"host_cancelled", MAIL_HOST, 1}, {"host_rescheduled", MAIL_HOST, 0},
};

static const char *template_find(const char *name) {
  for (const struct mail__template *t = mail__templates; t->name; t++)
    if (strcmp(t->name, name) == 0) return t->text;
  return NULL;
}

/* ------------------------------------------------------------------ cleaning user strings */

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 if malformed (overlong forms,
 * surrogates and code points above U+10FFFF included). */
static size_t utf8_seq(const unsigned char *s, size_t left) {
  unsigned c = s[0];
  size_t n;
  unsigned min;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) n = 2, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, min = 0x10000;
  else return 0;
  if (n > left) return 0;
  unsigned cp = c & (0x7F >> n);
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (s[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

/* s without malformed UTF-8, C0 controls, DEL and C1 controls (U+0080-U+009F), leading and
 * trailing white space trimmed, at most MAIL_MAX_FIELD bytes (cut at a character boundary).
 * multiline: LF and TAB are kept (a CR LF becomes LF), for notes and reasons shown in a body;
 * otherwise they become a space, for anything that can reach a header. Malloc'd; NULL when s
 * is NULL or nothing is left. */
static char *clean(const char *s, int multiline) {
  if (!s) return NULL;
  size_t len = strlen(s);
  char *out = xmalloc(len + 1);
  size_t o = 0;
  for (size_t i = 0; i < len;) {
    const unsigned char *p = (const unsigned char *)s + i;
    size_t n = utf8_seq(p, len - i);
    if (n == 0) {
      i++;
      continue;
    }
    if (o + n > MAIL_MAX_FIELD) break;
    i += n;
    if (n == 1 && (p[0] < 0x20 || p[0] == 0x7F)) {
      if (p[0] == '\n' || p[0] == '\t') out[o++] = multiline ? (char)p[0] : ' ';
      continue; /* CR and every other control character: dropped */
    }
    if (n == 2 && p[0] == 0xC2 && p[1] < 0xA0) continue; /* C1 */
    memcpy(out + o, p, n);
    o += n;
  }
  while (o && (out[o - 1] == ' ' || out[o - 1] == '\n' || out[o - 1] == '\t')) o--;
  size_t start = 0;
  while (start < o && (out[start] == ' ' || out[start] == '\n' || out[start] == '\t')) start++;
  if (start == o) {
    free(out);
    return NULL;
  }
  memmove(out, out + start, o - start);
  out[o - start] = '\0';
  return out;
}

/* An address for a header: one '@' with text on both sides, no white space, control
 * characters or the specials that would end or restructure an angle-addr. UTF-8 local parts
 * and domains pass (RFC 6532; the SMTP client offers SMTPUTF8). */
static int address_ok(const char *a) {
  if (!a || !*a || strlen(a) > 254) return 0;
  const char *at = strchr(a, '@');
  if (!at || at == a || !at[1] || strchr(at + 1, '@')) return 0;
  for (const unsigned char *p = (const unsigned char *)a; *p; p++)
    if (*p <= 0x20 || *p == 0x7F || strchr("<>()[],;:\\\"", *p)) return 0;
  return 1;
}

/* http(s) URL of printable ASCII without spaces or the characters RFC 3986 never allows
 * unencoded (a quote or '<' would end an attribute or a text link): safe in a text body,
 * HTML-escaped into href all the same. */
static int url_ok(const char *u) {
  if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0) return 0;
  if (strlen(u) > 2048) return 0;
  for (const unsigned char *p = (const unsigned char *)u; *p; p++)
    if (*p <= 0x20 || *p >= 0x7F || strchr("\"<>\\^`{|}", *p)) return 0;
  return 1;
}

/* A Message-ID right side: letters, digits, '-' and '.'. */
static int domain_ok(const char *d) {
  if (!*d || strlen(d) > 253) return 0;
  for (const char *p = d; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
      return 0;
  return 1;
}

static int color_ok(const char *c) {
  if (!c || c[0] != '#' || strlen(c) != 7) return 0;
  for (int i = 1; i < 7; i++)
    if (!strchr("0123456789abcdefABCDEF", c[i])) return 0;
  return 1;
}

/* ------------------------------------------------------------------ times */

static const char *const weekdays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
static const char *const months[] = {"January", "February", "March",     "April",   "May",      "June",
                                     "July",    "August",   "September", "October", "November", "December"};

typedef struct {
  int year, month, day, hour, minute, wday;
} civil_t;

/* The wall-clock fields of `local` (seconds since 1970-01-01 00:00 on the zone's clock). */
static civil_t civil(int64_t local) {
  char s[32];
  civil_t c = {0};
  int sec;
  time_format_utc(local, s, sizeof s);
  if (sscanf(s, "%d-%d-%dT%d:%d:%dZ", &c.year, &c.month, &c.day, &c.hour, &c.minute, &sec) != 6) c.month = 1;
  int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
  c.wday = (int)(((days % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
  return c;
}

typedef struct {
  const tz_t *tz; /* NULL: UTC */
  const char *name;
} zone_t;

static int32_t zone_offset(const zone_t *z, int64_t t) { return z->tz ? tz_offset(z->tz, t) : 0; }

/* "GMT", "GMT+1", "GMT-3:30": tzif.h keeps offsets, not the zones' abbreviations. */
static void gmt_label(int32_t off, char *out, size_t n) {
  if (off == 0) {
    snprintf(out, n, "GMT");
    return;
  }
  int32_t a = off < 0 ? -off : off;
  if (a % 3600) snprintf(out, n, "GMT%c%d:%02d", off < 0 ? '-' : '+', a / 3600, a % 3600 / 60);
  else snprintf(out, n, "GMT%c%d", off < 0 ? '-' : '+', a / 3600);
}

static int zone_is_utc(const zone_t *z) {
  return strcmp(z->name, "UTC") == 0 || strcmp(z->name, "Etc/UTC") == 0 || strcmp(z->name, "Etc/UCT") == 0 ||
         strcmp(z->name, "UCT") == 0 || strcmp(z->name, "Zulu") == 0 || strcmp(z->name, "Etc/Zulu") == 0;
}

/* " (Europe/London, GMT)", or " (UTC)". */
static void put_zone(buf_t *b, const zone_t *z, int64_t t) {
  char label[16];
  if (zone_is_utc(z)) {
    buf_puts(b, " (UTC)");
    return;
  }
  gmt_label(zone_offset(z, t), label, sizeof label);
  buf_printf(b, " (%s, %s)", z->name, label);
}

static void put_day(buf_t *b, const civil_t *c) {
  buf_printf(b, "%s, %d %s %d", weekdays[c->wday], c->day, months[c->month - 1], c->year);
}

/* "Tuesday, 3 December 2026, 14:30–15:00 (Europe/London, GMT)"; an end on another day is
 * written in full; no end (end <= start) leaves it out. */
static char *format_when(const zone_t *z, int64_t start, int64_t end) {
  buf_t b = BUF_INIT;
  civil_t s = civil(start + zone_offset(z, start));
  put_day(&b, &s);
  buf_printf(&b, ", %02d:%02d", s.hour, s.minute);
  if (end > start) {
    civil_t e = civil(end + zone_offset(z, end));
    if (e.year == s.year && e.month == s.month && e.day == s.day) {
      buf_printf(&b, "\xE2\x80\x93%02d:%02d", e.hour, e.minute); /* U+2013 EN DASH */
    } else {
      buf_puts(&b, " \xE2\x80\x93 ");
      put_day(&b, &e);
      buf_printf(&b, ", %02d:%02d", e.hour, e.minute);
    }
  }
  put_zone(&b, z, start);
  return b.data;
}

/* "Tue 3 Dec 2026, 14:30 GMT+1" (subjects). */
static char *format_when_short(const zone_t *z, int64_t t) {
  buf_t b = BUF_INIT;
  char label[16];
  int32_t off = zone_offset(z, t);
  civil_t c = civil(t + off);
  if (zone_is_utc(z)) snprintf(label, sizeof label, "UTC");
  else gmt_label(off, label, sizeof label);
  buf_printf(&b, "%.3s %d %.3s %d, %02d:%02d %s", weekdays[c.wday], c.day, months[c.month - 1], c.year, c.hour,
             c.minute, label);
  return b.data;
}

static char *format_duration(int minutes) {
  buf_t b = BUF_INIT;
  int h = minutes / 60, m = minutes % 60;
  if (h) buf_printf(&b, "%d hour%s", h, h == 1 ? "" : "s");
  if (m || !h) buf_printf(&b, "%s%d minute%s", h ? " " : "", m, m == 1 ? "" : "s");
  return b.data;
}

/* ------------------------------------------------------------------ values */

enum { V_TEXT, V_URL };

typedef struct {
  const char *name;
  char *value; /* cleaned, malloc'd; NULL: not given */
} var_t;

#define MAIL_MAX_VARS 32

typedef struct {
  var_t vars[MAIL_MAX_VARS];
  int nvars;
  int bad; /* a URL or other value that cannot be used */
  char color[8];
  const char *button_fg; /* text colour on a button: black or white, whichever reads better */
} ctx_t;

static void var_set(ctx_t *c, const char *name, char *value) {
  if (c->nvars == MAIL_MAX_VARS) abort(); /* a programming error: raise the constant */
  c->vars[c->nvars].name = name;
  c->vars[c->nvars].value = value;
  c->nvars++;
}

static void var_text(ctx_t *c, const char *name, const char *s, int multiline) { var_set(c, name, clean(s, multiline)); }

static void var_url(ctx_t *c, const char *name, const char *u) {
  if (u && !url_ok(u)) c->bad = 1;
  var_set(c, name, u && url_ok(u) ? xstrdup(u) : NULL);
}

/* The value of name: 1 and *out (NULL when not given) if the name is known, else 0. */
static int var_get(const ctx_t *c, const char *name, size_t n, const char **out) {
  for (int i = 0; i < c->nvars; i++)
    if (strlen(c->vars[i].name) == n && memcmp(c->vars[i].name, name, n) == 0) {
      *out = c->vars[i].value;
      return 1;
    }
  return 0;
}

static void ctx_free(ctx_t *c) {
  for (int i = 0; i < c->nvars; i++) free(c->vars[i].value);
}

static const char *first(const char *a, const char *b, const char *c) { return a && *a ? a : b && *b ? b : c; }

static void ctx_init(ctx_t *c, const mail_msg_t *m) {
  memset(c, 0, sizeof *c);
  zone_t z = {NULL, "UTC"};
  if (m->to_tz && (z.tz = tz_get(m->to_tz)) != NULL) z.name = tz_name(z.tz);
  int minutes = m->duration_minutes > 0 ? m->duration_minutes : (int)((m->end - m->start) / 60);

  var_text(c, "event", m->event_name, 0);
  var_set(c, "duration", format_duration(minutes));
  var_set(c, "when", format_when(&z, m->start, m->end));
  var_set(c, "when_short", format_when_short(&z, m->start));
  var_set(c, "previous_when", m->previous_start ? format_when(&z, m->previous_start, 0) : NULL);
  var_set(c, "zone", xstrdup(z.name));
  var_text(c, "invitee", first(m->invitee_name, m->invitee_email, "your invitee"), 0);
  var_text(c, "invitee_email", m->invitee_email, 0);
  var_text(c, "host", first(m->host_name, m->host_email, first(m->brand_name, m->from_name, "your host")), 0);
  var_text(c, "host_email", m->host_email, 0);
  var_text(c, "brand", first(m->brand_name, m->from_name, "slotd"), 0);
  var_text(c, "location", m->location, 1);
  var_text(c, "notes", m->notes, 1);
  var_text(c, "reason", m->reason, 1);
  var_text(c, "confirmation", m->confirmation_number, 0);
  var_url(c, "cancel_url", m->cancel_url);
  var_url(c, "reschedule_url", m->reschedule_url);
  var_url(c, "manage_url", m->manage_url);
  var_url(c, "confirm_url", m->confirm_url);
  var_url(c, "decline_url", m->decline_url);
  var_url(c, "ics_url", m->ics_url);
  var_url(c, "google_url", m->google_url);
  var_url(c, "outlook_url", m->outlook_url);

  snprintf(c->color, sizeof c->color, "%s", color_ok(m->brand_color) ? m->brand_color : MAIL_DEFAULT_COLOR);
  unsigned r, g, bl;
  sscanf(c->color + 1, "%2x%2x%2x", &r, &g, &bl);
  c->button_fg = 299 * r + 587 * g + 114 * bl > 160000 ? "#1f2933" : "#ffffff";
  var_set(c, "color", xstrdup(c->color));
}

/* ------------------------------------------------------------------ rendering */

typedef enum {
  R_TEXT,   /* the text/plain body and the subject: everything as it is */
  R_HTML,   /* the body as HTML: all text escaped, blank lines -> paragraphs, LF -> <br> */
  R_LAYOUT, /* layout.html: the template is HTML, values are escaped, {{content}} is not */
} rmode_t;

typedef struct {
  rmode_t mode;
  const ctx_t *c;
  buf_t *out;
  const char *content; /* R_LAYOUT: the body's HTML */
  int newlines;        /* R_HTML: line ends seen and not yet written */
  int started;         /* R_HTML: some text written (leading blank lines are dropped) */
  int depth;           /* partials */
  const char *base, *base_end; /* the template (or partial) being rendered */
} render_t;

static void html_escape(buf_t *b, const char *s, size_t n) {
  size_t from = 0;
  for (size_t i = 0; i < n; i++) {
    const char *rep;
    switch (s[i]) {
      case '&': rep = "&amp;"; break;
      case '<': rep = "&lt;"; break;
      case '>': rep = "&gt;"; break;
      case '"': rep = "&quot;"; break;
      case '\'': rep = "&#39;"; break;
      default: continue;
    }
    buf_append(b, s + from, i - from);
    buf_puts(b, rep);
    from = i + 1;
  }
  buf_append(b, s + from, n - from);
}

/* R_HTML: the pending line ends, as a paragraph break or a <br>. */
static void html_flush(render_t *r) {
  if (r->started && r->newlines == 1) buf_puts(r->out, "<br>\n");
  else if (r->started && r->newlines > 1) buf_puts(r->out, "</p>\n<p style=\"margin:0 0 14px;\">");
  r->newlines = 0;
  r->started = 1;
}

/* Text of the template (literal) or a value. */
static void emit(render_t *r, const char *s, size_t n, int literal) {
  if (r->mode == R_TEXT || (r->mode == R_LAYOUT && literal)) {
    buf_append(r->out, s, n);
    return;
  }
  if (r->mode == R_LAYOUT) {
    html_escape(r->out, s, n);
    return;
  }
  for (size_t i = 0; i < n;) {
    if (s[i] == '\n') {
      r->newlines++;
      i++;
      continue;
    }
    size_t j = i;
    while (j < n && s[j] != '\n') j++;
    html_flush(r);
    html_escape(r->out, s + i, j - i);
    i = j;
  }
}

static void emit_link(render_t *r, const char *url, const char *label, size_t label_len, int button) {
  if (r->mode != R_HTML) {
    buf_append(r->out, label, label_len);
    buf_puts(r->out, ": ");
    buf_puts(r->out, url);
    return;
  }
  html_flush(r);
  buf_puts(r->out, "<a href=\"");
  html_escape(r->out, url, strlen(url));
  if (button)
    buf_printf(r->out,
               "\" style=\"display:inline-block;margin:4px 0;padding:10px 20px;border-radius:6px;background:%s;"
               "color:%s;font-weight:bold;text-decoration:none;\">",
               r->c->color, r->c->button_fg);
  else buf_printf(r->out, "\" style=\"color:%s;\">", r->c->color);
  html_escape(r->out, label, label_len);
  buf_puts(r->out, "</a>");
}

static int render(render_t *r, const char *t, size_t n);

/* Whether any of the '|'-separated names has a value; -1 if one is unknown. */
static int any_given(const ctx_t *c, const char *names, size_t n) {
  int any = 0;
  for (size_t i = 0; i <= n;) {
    size_t j = i;
    while (j < n && names[j] != '|') j++;
    const char *v;
    if (!var_get(c, names + i, j - i, &v)) return -1;
    if (v) any = 1;
    i = j + 1;
  }
  return any;
}

/* The offset of the "{{/names}}" closing the section whose body starts at t[from], counting
 * sections of the same names opened inside; -1 if it is missing. */
static long section_end(const char *t, size_t n, size_t from, const char *names, size_t nlen) {
  int depth = 1;
  for (size_t i = from; i + 4 + nlen <= n; i++) {
    if (t[i] != '{' || t[i + 1] != '{') continue;
    char k = t[i + 2];
    if ((k != '#' && k != '^' && k != '/') || memcmp(t + i + 3, names, nlen) != 0 || t[i + 3 + nlen] != '}')
      continue;
    if (k != '/') depth++;
    else if (--depth == 0) return (long)i;
  }
  return -1;
}

/* A section or partial tag alone on its line (from open to after) takes its line end with
 * it, so that templates can put such tags on lines of their own (as Mustache does): 1 if a
 * line end follows that is to be skipped, else 0. */
static size_t standalone(const render_t *r, const char *open, const char *after) {
  return (open == r->base || open[-1] == '\n') && after < r->base_end && *after == '\n';
}

static int render_template(render_t *r, const char *t, size_t n) {
  const char *base = r->base, *base_end = r->base_end;
  r->base = t, r->base_end = t + n;
  int rc = render(r, t, n);
  r->base = base, r->base_end = base_end;
  return rc;
}

/* One tag, {{ at open, the tag text tag[0..tlen); *pos is the offset in t just past "}}"
 * and is moved past whatever the tag consumed. */
static int render_tag(render_t *r, const char *t, size_t n, size_t *pos, const char *open, const char *tag,
                      size_t tlen) {
  const char *v;
  if (tlen > 1 && (tag[0] == '#' || tag[0] == '^')) {
    int any = any_given(r->c, tag + 1, tlen - 1);
    if (any < 0) return -1;
    *pos += standalone(r, open, t + *pos);
    long end = section_end(t, n, *pos, tag + 1, tlen - 1);
    if (end < 0) return -1;
    if (any == (tag[0] == '#') && render(r, t + *pos, (size_t)end - *pos) != 0) return -1;
    *pos = (size_t)end + tlen + 4; /* past "{{/names}}" */
    *pos += standalone(r, t + end, t + *pos);
    return 0;
  }
  if (tlen > 1 && tag[0] == '>') {
    char name[64];
    if (tlen > 40 || r->depth >= MAIL_MAX_PARTIAL_DEPTH) return -1;
    snprintf(name, sizeof name, "_%.*s.txt", (int)tlen - 1, tag + 1);
    const char *p = template_find(name);
    if (!p) return -1;
    *pos += standalone(r, open, t + *pos);
    r->depth++;
    int rc = render_template(r, p, strlen(p));
    r->depth--;
    return rc;
  }
  int button = tlen > 7 && memcmp(tag, "button ", 7) == 0;
  if (button || (tlen > 5 && memcmp(tag, "link ", 5) == 0)) {
    const char *arg = tag + (button ? 7 : 5), *bar = memchr(arg, '|', tlen - (size_t)(arg - tag));
    if (!bar || !var_get(r->c, arg, (size_t)(bar - arg), &v)) return -1;
    if (v) emit_link(r, v, bar + 1, tlen - (size_t)(bar + 1 - tag), button);
    return 0;
  }
  if (r->mode == R_LAYOUT && tlen == 7 && memcmp(tag, "content", 7) == 0) {
    buf_puts(r->out, r->content);
    return 0;
  }
  if (!var_get(r->c, tag, tlen, &v)) return -1;
  if (v) emit(r, v, strlen(v), 0);
  return 0;
}

/* Renders t[0..n) (inside the template r->base) into r->out: 0, or -1 on a malformed
 * template or an unknown name. */
static int render(render_t *r, const char *t, size_t n) {
  size_t pos = 0;
  while (pos < n) {
    const char *open = memmem(t + pos, n - pos, "{{", 2);
    if (!open) {
      emit(r, t + pos, n - pos, 1);
      return 0;
    }
    emit(r, t + pos, (size_t)(open - t) - pos, 1);
    const char *tag = open + 2, *close = memmem(tag, n - (size_t)(tag - t), "}}", 2);
    if (!close || close == tag) return -1;
    pos = (size_t)(close + 2 - t);
    if (tag[0] == '/' || render_tag(r, t, n, &pos, open, tag, (size_t)(close - tag)) != 0) return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------ encodings */

/* Quoted-printable (RFC 2045 6.7) of text whose lines end in LF: CRLF line ends, soft breaks
 * before 76 columns, '=' and every byte outside printable ASCII encoded, a space or tab before
 * a line end encoded, and a '.' or "From " at a line start encoded so that no transport
 * rewrites the line. */
static void put_qp(buf_t *b, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  size_t col = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\n') {
      buf_puts(b, "\r\n");
      col = 0;
      continue;
    }
    int at_eol = i + 1 == n || s[i + 1] == '\n';
    int enc = c == '=' || c > 126 || (c < 32 && c != '\t') || ((c == ' ' || c == '\t') && at_eol);
    if (col + (enc ? 3 : 1) > 75) {
      buf_puts(b, "=\r\n");
      col = 0;
    }
    if (col == 0 && (c == '.' || (c == 'F' && n - i >= 5 && memcmp(s + i, "From ", 5) == 0))) enc = 1;
    if (enc) {
      char e[3] = {'=', hex[c >> 4], hex[c & 15]};
      buf_append(b, e, 3);
    } else buf_putc(b, (char)c);
    col += enc ? 3 : 1;
  }
  if (col) buf_puts(b, "\r\n");
}

/* Base64 in lines of 76 characters, each ended by CRLF. */
static void put_base64(buf_t *b, const void *data, size_t n) {
  const unsigned char *p = data;
  char line[80];
  for (size_t i = 0; i < n; i += 57) {
    size_t k = n - i < 57 ? n - i : 57;
    int w = crypto_base64_encode(p + i, k, line, sizeof line);
    if (w < 0) abort();
    buf_append(b, line, (size_t)w);
    buf_puts(b, "\r\n");
  }
}

/* ------------------------------------------------------------------ headers */

/* RFC 2047 encoded-words for s, starting at column col: each word at most 75 characters and
 * cut at a UTF-8 character boundary, the next one on a folded line (CRLF SP), which decoders
 * drop between adjacent encoded-words. Returns the column after the last word. */
static size_t put_encoded_words(buf_t *b, const char *s, size_t col) {
  size_t len = strlen(s), pos = 0;
  char word[80];
  while (pos < len) {
    size_t room = col + 12 < MAIL_LINE ? (MAIL_LINE - col - 12) / 4 * 3 : 0, k;
    if (room > 45) room = 45; /* 12 + 60 = 72 <= 75 */
    if (room < 4) {
      buf_puts(b, "\r\n ");
      col = 1;
      continue;
    }
    k = len - pos < room ? len - pos : room;
    while (k > 1 && pos + k < len && ((unsigned char)s[pos + k] & 0xC0) == 0x80) k--;
    int w = crypto_base64_encode(s + pos, k, word, sizeof word);
    if (w < 0) abort();
    buf_puts(b, "=?UTF-8?B?");
    buf_append(b, word, (size_t)w);
    buf_puts(b, "?=");
    pos += k;
    col += 12 + (size_t)w;
    if (pos < len) {
      buf_puts(b, "\r\n ");
      col = 1;
    }
  }
  return col;
}

/* Printable ASCII that a decoder will not mistake for an encoded-word. */
static int plain_ascii(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p < 0x20 || *p > 0x7E) return 0;
  return !strstr(s, "=?");
}

/* Unstructured text (Subject) after "Name: " at column col: folded at spaces when it is plain
 * ASCII with no word too long for a line, else encoded-words. */
static void put_unstructured(buf_t *b, const char *s, size_t col) {
  int plain = plain_ascii(s);
  for (const char *w = s; plain && *w;) {
    size_t n = strcspn(w, " ");
    if (n > MAIL_LINE - 2) plain = 0;
    w += n + (w[n] == ' ');
  }
  if (!plain) {
    put_encoded_words(b, s, col);
    return;
  }
  for (const char *w = s; *w;) {
    size_t n = strcspn(w + 1, " ") + 1; /* a word with the space before it (if any) */
    if (col + n > MAIL_LINE && w != s && *w == ' ') {
      buf_puts(b, "\r\n");
      col = 0;
    }
    buf_append(b, w, n);
    col += n;
    w += n;
  }
}

/* "Field: Display Name <addr>" CRLF. The name is written as atoms when it is plain ASCII
 * without specials, as a quoted string when it has specials, as encoded-words when it has
 * non-ASCII text or would not fit the line. */
static void put_address(buf_t *b, const char *field, const char *name_raw, const char *addr) {
  char *name = clean(name_raw, 0);
  size_t col = strlen(field) + 2;
  buf_printf(b, "%s: ", field);
  if (name) {
    size_t n = strlen(name), start = b->len;
    if (!plain_ascii(name) || col + n + 4 + strlen(addr) > MAIL_LINE) {
      col = put_encoded_words(b, name, col);
    } else if (strpbrk(name, "()<>[]:;@\\,.\"")) {
      buf_putc(b, '"');
      for (const char *p = name; *p; p++) {
        if (*p == '"' || *p == '\\') buf_putc(b, '\\');
        buf_putc(b, *p);
      }
      buf_putc(b, '"');
      col += b->len - start;
    } else {
      buf_puts(b, name);
      col += n;
    }
    buf_puts(b, col + strlen(addr) + 3 > MAIL_LINE ? "\r\n " : " ");
    free(name);
  }
  buf_printf(b, "<%s>\r\n", addr);
}

/* RFC 5322 3.3: "Tue, 03 Dec 2026 14:30:00 +0000". */
static void put_date(buf_t *b, int64_t now) {
  civil_t c = civil(now);
  int sec = (int)(((now % 60) + 60) % 60);
  buf_printf(b, "Date: %.3s, %02d %.3s %04d %02d:%02d:%02d +0000\r\n", weekdays[c.wday], c.day, months[c.month - 1],
             c.year, c.hour, c.minute, sec);
}

static void random_hex(char out[33]) {
  unsigned char r[16];
  random_bytes(r, sizeof r);
  hex_encode(r, sizeof r, out);
}

/* ------------------------------------------------------------------ the message */

static int kind_index(const mail_msg_t *m) {
  for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
    if (strcmp(kinds[i].kind, m->kind) == 0) return kinds[i].to == m->to ? (int)i : -1;
  return -1;
}

/* The METHOD property of the calendar text (a line of its own, before any fold), or "". */
static void ics_text_method(const char *ics, size_t len, char out[16]) {
  out[0] = '\0';
  for (size_t i = 0; i + 7 < len; i++)
    if ((i == 0 || ics[i - 1] == '\n') && memcmp(ics + i, "METHOD:", 7) == 0) {
      size_t k = 0;
      while (i + 7 + k < len && k < 15 && ics[i + 7 + k] != '\r' && ics[i + 7 + k] != '\n') k++;
      memcpy(out, ics + i + 7, k);
      out[k] = '\0';
      return;
    }
}

/* The method= of the text/calendar part: ics_method, else the calendar's own METHOD, else
 * CANCEL for the cancelled kinds and REQUEST for the rest. NULL when it is not one of the iTIP
 * methods slotd sends or disagrees with the calendar's METHOD (Outlook would follow the
 * calendar, other clients the header). */
static const char *ics_method(const mail_msg_t *m, int kind, char found[16]) {
  ics_text_method(m->ics, m->ics_len, found);
  const char *meth = m->ics_method ? m->ics_method : found[0] ? found : kinds[kind].cancel ? "CANCEL" : "REQUEST";
  if (found[0] && strcmp(found, meth) != 0) return NULL;
  return strcmp(meth, "REQUEST") == 0 || strcmp(meth, "CANCEL") == 0 || strcmp(meth, "PUBLISH") == 0 ? meth : NULL;
}

/* 0 and the subject and both bodies, or -1. */
static int render_kind(const ctx_t *c, const char *kind, char **subject, buf_t *text, buf_t *html) {
  char name[40];
  snprintf(name, sizeof name, "%s.txt", kind);
  const char *t = template_find(name), *layout = template_find("layout.html");
  if (!t || !layout || strncmp(t, "Subject: ", 9) != 0) return -1;
  const char *eol = strchr(t, '\n');
  if (!eol || eol[1] != '\n') return -1;
  const char *body = eol + 2;

  buf_t subj = BUF_INIT, inner = BUF_INIT;
  render_t r = {.mode = R_TEXT, .c = c, .out = &subj};
  int rc = render_template(&r, t + 9, (size_t)(eol - t - 9));
  r.out = text;
  rc |= render_template(&r, body, strlen(body));
  r = (render_t){.mode = R_HTML, .c = c, .out = &inner};
  buf_puts(&inner, "<p style=\"margin:0 0 14px;\">");
  rc |= render_template(&r, body, strlen(body));
  buf_puts(&inner, "</p>");
  *subject = clean(subj.data, 0);
  if (rc == 0 && *subject) {
    var_t extra = {"subject", *subject};
    ctx_t lc = *c; /* the layout also knows the subject */
    if (lc.nvars < MAIL_MAX_VARS) lc.vars[lc.nvars++] = extra;
    r = (render_t){.mode = R_LAYOUT, .c = &lc, .out = html, .content = inner.data};
    rc = render_template(&r, layout, strlen(layout));
  }
  buf_free(&subj);
  buf_free(&inner);
  if (rc != 0 || !*subject) {
    free(*subject);
    *subject = NULL;
    return -1;
  }
  return 0;
}

static void part_head(buf_t *b, const char *boundary, const char *type, const char *encoding) {
  buf_printf(b, "--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: %s\r\n\r\n", boundary, type, encoding);
}

char *mail_compose(const mail_msg_t *m, size_t *len) {
  if (!m || !m->kind || !m->event_name || m->end < m->start || m->start < 0 || m->end > INT64_C(253402300799) ||
      m->previous_start < 0 || m->previous_start > INT64_C(253402300799))
    return NULL;
  int kind = kind_index(m);
  if (kind < 0 || !address_ok(m->to_email) || !address_ok(m->from_email) || (m->reply_to && !address_ok(m->reply_to)))
    return NULL;
  const char *domain = m->message_id_domain ? m->message_id_domain : strchr(m->from_email, '@') + 1;
  char found[16];
  const char *method = m->ics ? ics_method(m, kind, found) : NULL;
  if (!domain_ok(domain) || (m->ics && !method)) return NULL;

  ctx_t c;
  ctx_init(&c, m);
  char *subject = NULL;
  buf_t text = BUF_INIT, html = BUF_INIT, b = BUF_INIT;
  if (c.bad || render_kind(&c, m->kind, &subject, &text, &html) != 0) {
    ctx_free(&c);
    buf_free(&text);
    buf_free(&html);
    return NULL;
  }

  char mixed[40] = "=_m", alt[40] = "=_a", id[33];
  random_hex(mixed + 3);
  random_hex(alt + 3);
  random_hex(id);

  put_address(&b, "From", m->from_name, m->from_email);
  put_address(&b, "To", m->to_name, m->to_email);
  if (m->reply_to) buf_printf(&b, "Reply-To: <%s>\r\n", m->reply_to);
  buf_puts(&b, "Subject: ");
  put_unstructured(&b, subject, 9);
  buf_puts(&b, "\r\n");
  put_date(&b, m->now);
  buf_printf(&b, "Message-ID: <%s@%s>\r\n", id, domain);
  buf_puts(&b, "MIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n");
  buf_printf(&b, "Content-Type: multipart/mixed;\r\n boundary=\"%s\"\r\n\r\n", mixed);
  buf_puts(&b, "This is a multi-part message in MIME format.\r\n\r\n");

  buf_printf(&b, "--%s\r\nContent-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n", mixed, alt);
  part_head(&b, alt, "text/plain; charset=UTF-8", "quoted-printable");
  put_qp(&b, text.data ? text.data : "", text.len);
  part_head(&b, alt, "text/html; charset=UTF-8", "quoted-printable");
  put_qp(&b, html.data ? html.data : "", html.len);
  if (m->ics) {
    char type[80];
    snprintf(type, sizeof type, "text/calendar; method=%s; charset=UTF-8", method);
    part_head(&b, alt, type, "base64");
    put_base64(&b, m->ics, m->ics_len);
  }
  buf_printf(&b, "--%s--\r\n", alt);
  if (m->ics) {
    buf_printf(&b,
               "--%s\r\nContent-Type: application/ics; name=\"invite.ics\"\r\n"
               "Content-Disposition: attachment; filename=\"invite.ics\"\r\n"
               "Content-Transfer-Encoding: base64\r\n\r\n",
               mixed);
    put_base64(&b, m->ics, m->ics_len);
  }
  buf_printf(&b, "--%s--\r\n", mixed);

  ctx_free(&c);
  free(subject);
  buf_free(&text);
  buf_free(&html);
  if (len) *len = b.len;
  return b.data;
}
