/* Notification e-mails (issue 14): the message mail_compose writes for every kind, its header
 * encoding (RFC 2047 words, quoting, folding, no header injection through CR/LF), the MIME
 * layout, quoted-printable, the times in the recipient's zone, HTML escaping and the
 * refusals. compose.c is included to reach its statics. The whole messages are parsed by
 * Python's email package in tests/api/test_mail_compose.py. */
#include "../../src/mail/compose.c"

#include "check.h"

#define START INT64_C(1796308200) /* Thursday 2026-12-03T14:30:00Z */
#define SUMMER INT64_C(1783002600) /* Thursday 2026-07-02T14:30:00Z */

static const char *const all_kinds[] = {"booked",   "pending",        "pending_payment", "confirmed",
                                        "declined", "cancelled",      "rescheduled",     "reminder",
                                        "host_new", "host_pending",   "host_cancelled",  "host_rescheduled"};

static mail_msg_t sample(const char *kind) {
  int host = strncmp(kind, "host_", 5) == 0;
  return (mail_msg_t){
      .kind = kind,
      .to = host ? MAIL_HOST : MAIL_INVITEE,
      .to_email = "bob@example.org",
      .to_name = "Bob Guest",
      .to_tz = "Europe/London",
      .from_email = "bookings@slotd.example",
      .from_name = "Acme Bookings",
      .brand_name = "Acme",
      .event_name = "Intro call",
      .duration_minutes = 30,
      .start = START,
      .end = START + 1800,
      .invitee_name = "Bob Guest",
      .host_name = "Ann Host",
      .cancel_url = "https://slotd.example/c?t=1&x=2",
      .confirm_url = "https://slotd.example/confirm?t=2",
      .decline_url = "https://slotd.example/decline?t=3",
      .now = START - 86400,
  };
}

/* The header block (up to the first blank line) with folding undone, malloc'd. */
static char *head_unfolded(const char *msg) {
  const char *end = strstr(msg, "\r\n\r\n");
  size_t n = end ? (size_t)(end - msg) + 2 : strlen(msg);
  char *out = xmalloc(n + 1), *o = out;
  for (size_t i = 0; i < n;) {
    if (msg[i] == '\r' && msg[i + 1] == '\n' && (msg[i + 2] == ' ' || msg[i + 2] == '\t')) i += 2;
    else *o++ = msg[i++];
  }
  *o = '\0';
  return out;
}

/* The value of header name in an unfolded head ("" if absent; a static buffer). */
static const char *header(const char *head, const char *name) {
  static char v[2048];
  size_t nl = strlen(name);
  v[0] = '\0';
  for (const char *p = head; *p;) {
    const char *eol = strstr(p, "\r\n");
    if (!eol) break;
    if ((size_t)(eol - p) > nl + 1 && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      size_t k = (size_t)(eol - p) - nl - 2;
      if (k >= sizeof v) k = sizeof v - 1;
      memcpy(v, p + nl + 2, k);
      v[k] = '\0';
      return v;
    }
    p = eol + 2;
  }
  return v;
}

/* Lines end in CRLF, no bare CR or LF, none longer than max octets (without the CRLF). */
static int lines_ok(const char *s, size_t max) {
  size_t col = 0;
  for (const char *p = s; *p; p++) {
    if (*p == '\r') {
      if (p[1] != '\n') return 0;
      p++;
      col = 0;
    } else if (*p == '\n') return 0;
    else if (++col > max) return 0;
  }
  return col == 0;
}

static char *compose(const mail_msg_t *m) {
  size_t len = 0;
  char *s = mail_compose(m, &len);
  if (s && strlen(s) != len) {
    free(s);
    return NULL;
  }
  return s;
}

/* The message and (in *head) its unfolded header block, or NULL (a failed check). */
static char *compose_head(const mail_msg_t *m, char **head) {
  char *msg = compose(m);
  CHECK(msg != NULL);
  *head = msg ? head_unfolded(msg) : NULL;
  return msg;
}

static void test_booked(void) {
  mail_msg_t m = sample("booked");
  const char ics[] = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n";
  m.ics = ics, m.ics_len = sizeof ics - 1;
  m.reply_to = "ann@slotd.example";
  m.message_id_domain = "mail.slotd.example";
  char *h, *msg = compose_head(&m, &h);
  if (!msg) return;
  static const struct {
    const char *name, *value;
  } headers[] = {
      {"From", "Acme Bookings <bookings@slotd.example>"},
      {"To", "Bob Guest <bob@example.org>"},
      {"Reply-To", "<ann@slotd.example>"},
      {"Subject", "Confirmed: Intro call with Ann Host on Thu 3 Dec 2026, 14:30 GMT"},
      {"Date", "Wed, 02 Dec 2026 14:30:00 +0000"},
      {"MIME-Version", "1.0"},
      {"Auto-Submitted", "auto-generated"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(headers); i++) CHECK_STR(header(h, headers[i].name), headers[i].value);
  char mid[128];
  snprintf(mid, sizeof mid, "%s", header(h, "Message-ID"));
  CHECK(strlen(mid) == 1 + 32 + 1 + strlen("mail.slotd.example") + 1 && mid[0] == '<' &&
        strcmp(mid + 33, "@mail.slotd.example>") == 0);
  CHECK(strncmp(header(h, "Content-Type"), "multipart/mixed; boundary=\"=_m", 30) == 0);
  /* The parts in order: the alternative (text, HTML, the calendar), then the attachment. */
  static const char *const part_heads[] = {
      "Content-Type: multipart/alternative;\r\n boundary=\"=_a",
      "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
      "Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
      "Content-Type: text/calendar; method=REQUEST; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
      "Content-Type: application/ics; name=\"invite.ics\"\r\n"
      "Content-Disposition: attachment; filename=\"invite.ics\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
  };
  const char *at = msg;
  for (size_t i = 0; i < ARRAY_SIZE(part_heads); i++) {
    const char *found = at ? strstr(at, part_heads[i]) : NULL;
    printf("# part %zu\n", i);
    CHECK(found != NULL);
    at = found;
  }
  /* The time, in the body's quoted-printable (the en dash is =E2=80=93). */
  CHECK(strstr(msg, "When: Thursday, 3 December 2026, 14:30=E2=80=9315:00 (Europe/London, GMT)") != NULL);
  CHECK(strstr(msg, "Cancel: https://slotd.example/c?t=3D1&x=3D2") != NULL);
  CHECK(strstr(msg, "href=3D\"https://slotd.example/c?t=3D1&amp;x=3D2\"") != NULL);
  CHECK(lines_ok(msg, 78));
  /* Two messages never share a boundary or a Message-ID. */
  char *again = compose(&m), *h2 = again ? head_unfolded(again) : NULL;
  CHECK(h2 && strcmp(header(h2, "Message-ID"), mid) != 0);
  free(h2);
  free(again);
  free(h);
  free(msg);
}

static void test_every_kind(void) {
  for (size_t i = 0; i < ARRAY_SIZE(all_kinds); i++) {
    mail_msg_t m = sample(all_kinds[i]);
    char *msg = compose(&m);
    printf("# kind %s\n", all_kinds[i]);
    CHECK(msg != NULL);
    CHECK(msg && lines_ok(msg, 78));
    CHECK(msg && !strstr(msg, "{{"));
    free(msg);
    m.to = m.to == MAIL_HOST ? MAIL_INVITEE : MAIL_HOST; /* a host mail to the invitee */
    CHECK(mail_compose(&m, NULL) == NULL);
  }
  mail_msg_t m = sample("invented");
  CHECK(mail_compose(&m, NULL) == NULL);
}

/* The rendered parts of a kind (through the statics, before any transfer encoding). */
typedef struct {
  char *subject;
  buf_t text, html;
} parts_t;

static int parts(const mail_msg_t *m, parts_t *p) {
  ctx_t c;
  memset(p, 0, sizeof *p);
  ctx_init(&c, m);
  int rc = c.bad ? -1 : render_kind(&c, m->kind, &p->subject, &p->text, &p->html);
  ctx_free(&c);
  return rc;
}

static void parts_free(parts_t *p) {
  free(p->subject);
  buf_free(&p->text);
  buf_free(&p->html);
}

static void test_wording(void) {
  parts_t p;
  mail_msg_t m = sample("pending");
  CHECK(parts(&m, &p) == 0);
  CHECK(strstr(p.text.data, "waiting for the host to confirm") != NULL);
  CHECK(strstr(p.text.data, "Cancel: https://slotd.example/c?t=1&x=2\n") != NULL);
  CHECK(!strstr(p.text.data, "Reschedule")); /* no reschedule_url: the button is left out */
  parts_free(&p);

  m = sample("pending_payment");
  CHECK(parts(&m, &p) == 0);
  CHECK(strstr(p.text.data, "complete the payment to keep the slot") != NULL);
  parts_free(&p);

  m = sample("declined");
  m.reason = "Fully booked\r\nthat week";
  CHECK(parts(&m, &p) == 0);
  CHECK(strstr(p.text.data, "declined") && strstr(p.text.data, "Reason given: Fully booked\nthat week\n"));
  CHECK(strstr(p.html.data, "Reason given: Fully booked<br>\nthat week") != NULL);
  parts_free(&p);

  m = sample("rescheduled");
  m.previous_start = START - 86400 - 3600;
  CHECK(parts(&m, &p) == 0);
  CHECK(strstr(p.text.data, "Previously: Wednesday, 2 December 2026, 13:30 (Europe/London, GMT)\n") != NULL);
  CHECK(strstr(p.text.data, "When: Thursday, 3 December 2026, 14:30\xE2\x80\x93" "15:00 (Europe/London, GMT)\n") != NULL);
  CHECK_STR(p.subject, "Rescheduled: Intro call with Ann Host, now on Thu 3 Dec 2026, 14:30 GMT");
  parts_free(&p);

  m = sample("host_pending");
  CHECK(parts(&m, &p) == 0);
  CHECK(strstr(p.text.data, "Confirm: https://slotd.example/confirm?t=2\nDecline: https://slotd.example/decline?t=3\n") !=
        NULL);
  /* The buttons come before the details. */
  CHECK(strstr(p.html.data, "confirm?t=2") && strstr(p.html.data, "confirm?t=2") < strstr(p.html.data, "What:"));
  CHECK(strstr(p.html.data, "background:#0069ff;color:#ffffff") != NULL);
  parts_free(&p);
  m.confirm_url = m.decline_url = NULL;
  CHECK(parts(&m, &p) == 0);
  CHECK(!strstr(p.text.data, "Confirm:") && !strstr(p.html.data, "<a "));
  parts_free(&p);

  m = sample("cancelled");
  CHECK(parts(&m, &p) == 0);
  CHECK(strstr(p.subject, "Cancelled: ") == p.subject);
  parts_free(&p);
}

static void test_html_escaping(void) {
  parts_t p;
  mail_msg_t m = sample("host_pending");
  m.invitee_name = "<script>\"&'";
  m.notes = "<b>hi</b>";
  m.brand_name = "A&B <Co>";
  m.brand_color = "#ffee00";
  m.manage_url = "https://slotd.example/m?a=1&b='2'";
  CHECK(parts(&m, &p) == 0);
  CHECK(strstr(p.html.data, "href=\"https://slotd.example/m?a=1&amp;b=&#39;2&#39;\"") != NULL);
  CHECK(!strstr(p.html.data, "<script>") && !strstr(p.html.data, "<b>hi"));
  CHECK(strstr(p.html.data, "&lt;script&gt;&quot;&amp;&#39; has requested") != NULL);
  CHECK(strstr(p.html.data, "&lt;b&gt;hi&lt;/b&gt;") != NULL);
  CHECK(strstr(p.html.data, "<title>Action needed: confirm or decline Intro call with &lt;script&gt;&quot;&amp;&#39; on") != NULL);
  CHECK(strstr(p.html.data, "A&amp;B &lt;Co&gt;</td>") != NULL);
  CHECK(strstr(p.html.data, "border-top:6px solid #ffee00;") != NULL);
  CHECK(strstr(p.html.data, "color:#1f2933;font-weight:bold") != NULL); /* dark text on yellow */
  parts_free(&p);
  /* A double quote or '<' in a URL is refused outright (RFC 3986 has them percent-encoded). */
  m.manage_url = "https://slotd.example/m?a=1&b=\"><script>";
  CHECK(mail_compose(&m, NULL) == NULL);
  m.manage_url = "https://slotd.example/m?a=1&b=2";
  m.brand_color = "red;background:url(x)";
  CHECK(parts(&m, &p) == 0);
  CHECK(strstr(p.html.data, "solid #0069ff;") != NULL && !strstr(p.html.data, "url(x)"));
  parts_free(&p);
}

static void test_header_injection(void) {
  mail_msg_t m = sample("booked");
  m.to_name = "Eve\r\nBcc: victim@example.org";
  m.from_name = "Acme\nX-Injected: 1";
  m.event_name = "Call\r\nCc: other@example.org";
  char *h, *msg = compose_head(&m, &h);
  if (!msg) return;
  CHECK(!strstr(h, "\r\nBcc:") && !strstr(h, "\r\nCc:") && !strstr(h, "\r\nX-Injected"));
  CHECK_STR(header(h, "To"), "\"Eve Bcc: victim@example.org\" <bob@example.org>");
  CHECK(strncmp(header(h, "Subject"), "Confirmed: Call Cc: other@example.org with Ann Host", 51) == 0);
  CHECK(lines_ok(msg, 78));
  free(h);
  free(msg);
  m = sample("booked");
  m.to_email = "bob@example.org\r\nBcc: x@y";
  CHECK(mail_compose(&m, NULL) == NULL);
  m.to_email = "Bob <bob@example.org>";
  CHECK(mail_compose(&m, NULL) == NULL);
  m = sample("booked");
  m.reply_to = "a@b\nc";
  CHECK(mail_compose(&m, NULL) == NULL);
}

/* Every encoded-word of the head at most 75 characters, words decoded and concatenated for
 * the header name (a static buffer). */
static const char *decoded(const char *msg, const char *name, int *words_ok) {
  static char out[1024];
  char *h = head_unfolded(msg);
  const char *v = header(h, name);
  size_t o = 0;
  *words_ok = 1;
  for (const char *p = v; (p = strstr(p, "=?UTF-8?B?")) != NULL;) {
    const char *end = strstr(p + 10, "?=");
    if (!end || end + 2 - p > 75) *words_ok = 0;
    if (!end) break;
    char b64[128];
    unsigned char bin[128];
    snprintf(b64, sizeof b64, "%.*s", (int)(end - p - 10), p + 10);
    int n = crypto_base64_decode(b64, bin, sizeof bin);
    if (n < 0 || o + (size_t)n >= sizeof out) *words_ok = 0;
    else memcpy(out + o, bin, (size_t)n), o += (size_t)n;
    p = end + 2;
  }
  out[o] = '\0';
  free(h);
  return out;
}

static void test_encoded_words(void) {
  mail_msg_t m = sample("booked");
  m.to_name = "Zoë Ünal-Straßenbahn 東京都千代田区 👩‍💻 and a long tail of words";
  m.from_name = "Agència \"Bonica\"";
  m.event_name = "Kennenlernen — Überblick über alle Möglichkeiten der Zusammenarbeit";
  m.host_name = "Jürgen";
  char *msg = compose(&m);
  CHECK(msg && lines_ok(msg, 78));
  if (!msg) return;
  int ok;
  CHECK_STR(decoded(msg, "To", &ok), m.to_name);
  CHECK(ok);
  CHECK_STR(decoded(msg, "From", &ok), "Agència \"Bonica\"");
  CHECK(ok);
  CHECK_STR(decoded(msg, "Subject", &ok),
            "Confirmed: Kennenlernen — Überblick über alle Möglichkeiten der Zusammenarbeit with Jürgen on Thu 3 "
            "Dec 2026, 14:30 GMT");
  CHECK(ok);
  free(msg);

  /* ASCII with specials: a quoted string; "=?" in a name would be decoded: encoded too. */
  m = sample("booked");
  m.to_name = "Guest, Bob (\"B\\\")";
  m.from_name = "=?UTF-8?B?SGk=?=";
  msg = compose(&m);
  char *h = msg ? head_unfolded(msg) : NULL;
  CHECK(h && strcmp(header(h, "To"), "\"Guest, Bob (\\\"B\\\\\\\")\" <bob@example.org>") == 0);
  CHECK(msg && strcmp(decoded(msg, "From", &ok), "=?UTF-8?B?SGk=?=") == 0 && ok);
  free(h);
  free(msg);

  /* A long ASCII subject is folded at spaces; each piece fits a line. */
  m = sample("booked");
  m.event_name = "A very long event name that keeps going and going well past the line limit of RFC 5322";
  msg = compose(&m);
  CHECK(msg && lines_ok(msg, 78));
  h = msg ? head_unfolded(msg) : NULL;
  CHECK(h && strstr(header(h, "Subject"), "well past the line limit of RFC 5322 with Ann Host") != NULL);
  free(h);
  free(msg);

  /* Malformed UTF-8 and C1 controls are dropped before the header. */
  char *c = clean("a\xC0\xAF" "b\xC2\x85" "c\xED\xA0\x80" "d\xF4\x90\x80\x80" "e\x7F", 0);
  CHECK_STR(c, "abcde");
  free(c);
  c = clean(" \r\n\t ", 0);
  CHECK(c == NULL);
}

static void test_qp(void) {
  buf_t b = BUF_INIT;
  char long_line[300];
  memset(long_line, 'x', sizeof long_line - 1);
  long_line[sizeof long_line - 1] = '\0';
  const char *in = "a=b caf\xC3\xA9 \n.dot\nFrom here\ntrail \t\n";
  put_qp(&b, in, strlen(in));
  CHECK(strcmp(b.data, "a=3Db caf=C3=A9=20\r\n=2Edot\r\n=46rom here\r\ntrail =09\r\n") == 0); /* CRLF: no CHECK_STR */
  buf_reset(&b);
  put_qp(&b, long_line, strlen(long_line));
  CHECK(lines_ok(b.data, 76));
  CHECK(strncmp(b.data + 75, "=\r\nx", 4) == 0);
  buf_free(&b);
}

static void test_times(void) {
  parts_t p;
  mail_msg_t m = sample("reminder");
  m.start = SUMMER, m.end = SUMMER + 3600, m.duration_minutes = 0;
  CHECK(parts(&m, &p) == 0);
  CHECK(strstr(p.text.data, "What: Intro call (1 hour)\nWhen: Thursday, 2 July 2026, 15:30\xE2\x80\x93" "16:30 (Europe/London, GMT+1)\n"));
  parts_free(&p);

  m.to_tz = "Asia/Kolkata";
  m.duration_minutes = 90;
  CHECK(parts(&m, &p) == 0);
  CHECK(strstr(p.text.data, "(1 hour 30 minutes)\nWhen: Thursday, 2 July 2026, 20:00\xE2\x80\x93" "21:00 (Asia/Kolkata, GMT+5:30)\n"));
  CHECK(strstr(p.subject, "Thu 2 Jul 2026, 20:00 GMT+5:30") != NULL);
  parts_free(&p);

  m.start = START - 15 * 3600, m.end = START - 14 * 3600 + 1800; /* 23:30 to 01:00 in London */
  m.to_tz = "Europe/London";
  m.duration_minutes = 0;
  CHECK(parts(&m, &p) == 0);
  CHECK(strstr(p.text.data, "(1 hour 30 minutes)\nWhen: Wednesday, 2 December 2026, 23:30 \xE2\x80\x93 Thursday, 3 December 2026, 01:00 (Europe/London, GMT)\n"));
  parts_free(&p);

  m.to_tz = "Not/AZone";
  CHECK(parts(&m, &p) == 0);
  CHECK(strstr(p.text.data, "23:30 \xE2\x80\x93 Thursday, 3 December 2026, 01:00 (UTC)\n"));
  CHECK(strstr(p.subject, "Wed 2 Dec 2026, 23:30 UTC") != NULL);
  parts_free(&p);
  m.to_tz = NULL;
  CHECK(parts(&m, &p) == 0 && strstr(p.text.data, "(UTC)\n"));
  parts_free(&p);
  m.to_tz = "America/New_York";
  CHECK(parts(&m, &p) == 0 && strstr(p.text.data, "18:30\xE2\x80\x93" "20:00 (America/New_York, GMT-5)\n"));
  parts_free(&p);
}

static void test_refusals(void) {
  mail_msg_t m = sample("booked");
  char *ok = compose(&m);
  CHECK(ok != NULL);
  free(ok);
  m.to_email = NULL;
  CHECK(mail_compose(&m, NULL) == NULL);
  m = sample("booked"), m.from_email = "no-at-sign";
  CHECK(mail_compose(&m, NULL) == NULL);
  m = sample("booked"), m.event_name = NULL;
  CHECK(mail_compose(&m, NULL) == NULL);
  m = sample("booked"), m.end = m.start - 1;
  CHECK(mail_compose(&m, NULL) == NULL);
  m = sample("booked"), m.cancel_url = "javascript:alert(1)";
  CHECK(mail_compose(&m, NULL) == NULL);
  m = sample("booked"), m.cancel_url = "https://x.example/a b";
  CHECK(mail_compose(&m, NULL) == NULL);
  m = sample("booked"), m.ics = "X", m.ics_len = 1, m.ics_method = "request\r\nX: y";
  CHECK(mail_compose(&m, NULL) == NULL);
  m = sample("booked"), m.message_id_domain = "a>b";
  CHECK(mail_compose(&m, NULL) == NULL);
  m = sample("booked"), m.ics = "BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\n", m.ics_len = 32, m.ics_method = "REQUEST";
  CHECK(mail_compose(&m, NULL) == NULL); /* the header would contradict the calendar */
  m.ics_method = NULL; /* taken from the calendar */
  char *msg = compose(&m);
  CHECK(msg && strstr(msg, "Content-Type: text/calendar; method=CANCEL; charset=UTF-8"));
  free(msg);
  /* Without a METHOD line, a cancellation's default is CANCEL. */
  m = sample("cancelled"), m.ics = "X", m.ics_len = 1;
  msg = compose(&m);
  CHECK(msg && strstr(msg, "Content-Type: text/calendar; method=CANCEL; charset=UTF-8"));
  free(msg);
}

int main(void) {
  test_booked();
  test_every_kind();
  test_wording();
  test_html_escaping();
  test_header_injection();
  test_encoded_words();
  test_qp();
  test_times();
  test_refusals();
  tz_cache_free();
  return check_done();
}
