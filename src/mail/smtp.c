#include "smtp.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/buf.h"
#include "../core/config.h"
#include "../core/crypto.h"
#include "../core/util.h"

#define LINE_MAX_BYTES 2048 /* a reply line (RFC 5321 says 512; servers exceed it) */
#define REPLY_MAX_LINES 256
#define REPLY_MAX_TEXT 4096 /* text kept from one reply */
#define DEFAULT_TIMEOUT_MS 30000

typedef struct smtp_send_s smtp_send_t;

struct smtp_client_s {
  uv_loop_t *loop;
  tls_ctx_t *tls;          /* borrowed */
  config_smtp_url_t url;   /* holds the password: wiped when freed */
  char helo[300];          /* EHLO argument: a name or an address literal */
  smtp_send_t *active;     /* every send not yet freed, for close */
  int inflight;            /* sends whose callback has not run */
  int closing;
};

/* One message's connection, in the order the states are entered. */
typedef enum {
  S_START,         /* armed by smtp_send, not started */
  S_RESOLVE,       /* uv_getaddrinfo */
  S_CONNECT,       /* uv_tcp_connect to one address after another */
  S_TLS_IMPLICIT,  /* smtps:// handshake */
  S_GREETING,      /* 220 */
  S_EHLO,
  S_HELO,          /* after a 5xx to EHLO */
  S_STARTTLS,      /* 220 to STARTTLS */
  S_TLS_STARTTLS,  /* the handshake after it */
  S_AUTH_PLAIN,    /* 235 */
  S_AUTH_LOGIN,    /* 334 for the user name */
  S_AUTH_USER,     /* 334 for the password */
  S_AUTH_PASS,     /* 235 */
  S_MAIL,
  S_RCPT,
  S_DATA,          /* 354 */
  S_BODY,          /* the message is written, then its 250 */
  S_QUIT,          /* the result is reported; 221, EOF or the timer closes */
} state_t;

static const char *const phase_names[] = {
    [S_START] = "the start",
    [S_RESOLVE] = "the host name lookup",
    [S_CONNECT] = "the connection",
    [S_TLS_IMPLICIT] = "the TLS handshake",
    [S_GREETING] = "the greeting",
    [S_EHLO] = "the reply to EHLO",
    [S_HELO] = "the reply to HELO",
    [S_STARTTLS] = "the reply to STARTTLS",
    [S_TLS_STARTTLS] = "the TLS handshake",
    [S_AUTH_PLAIN] = "the reply to AUTH",
    [S_AUTH_LOGIN] = "the reply to AUTH",
    [S_AUTH_USER] = "the reply to AUTH",
    [S_AUTH_PASS] = "the reply to AUTH",
    [S_MAIL] = "the reply to MAIL FROM",
    [S_RCPT] = "the reply to RCPT TO",
    [S_DATA] = "the reply to DATA",
    [S_BODY] = "the message transfer",
    [S_QUIT] = "the reply to QUIT",
};

enum { EXT_STARTTLS = 1, EXT_AUTH_PLAIN = 2, EXT_AUTH_LOGIN = 4, EXT_SMTPUTF8 = 8, EXT_8BITMIME = 16, EXT_SIZE = 32 };

struct smtp_send_s {
  smtp_send_t *prev, *next;
  smtp_client_t *client;
  state_t state;
  uv_getaddrinfo_t gai;
  struct addrinfo *addrs, *addr; /* the lookup's answer and the address being tried */
  uv_tcp_t tcp;
  uv_connect_t connect;
  uv_timer_t timer;              /* the current phase's */
  tls_conn_t *tls;               /* NULL until TLS starts */
  int tls_on;                    /* handshake done: everything goes through tls */
  buf_t line;                    /* a reply line not yet complete */
  buf_t reply;                   /* the current reply's text */
  int reply_code, reply_lines;
  int replied;                   /* a reply completed during this read callback */
  unsigned ext;                  /* EXT_* from the last EHLO */
  char *from;
  char **rcpt;
  int nrcpt, rcpt_next;
  buf_t msg;                     /* normalized and dot-stuffed, ending with CRLF.CRLF */
  int smtputf8;                  /* an address or the header section is not ASCII */
  int eight_bit;                 /* the message is not ASCII */
  uint64_t timeout_ms;
  int writes_pending;
  int gai_pending, tcp_open, tcp_resetting, closes_pending;
  int reported, torn_down;
  uint64_t start_ms;
  smtp_cb cb;
  void *data;
  char rbuf[16384];
  char error[512];
};

/* ------------------------------------------------------------------ lifecycle */

static void client_free(smtp_client_t *c) {
  explicit_bzero(&c->url, sizeof c->url);
  free(c);
}

static void on_closed(uv_handle_t *h) {
  smtp_send_t *r = h->data;
  if (--r->closes_pending > 0) return;
  smtp_client_t *c = r->client;
  if (r->prev) r->prev->next = r->next;
  else c->active = r->next;
  if (r->next) r->next->prev = r->prev;
  if (r->addrs) uv_freeaddrinfo(r->addrs);
  tls_conn_free(r->tls);
  buf_free(&r->line);
  buf_free(&r->reply);
  buf_free(&r->msg);
  free(r->from);
  for (int i = 0; i < r->nrcpt; i++) free(r->rcpt[i]);
  free(r->rcpt);
  free(r);
  if (c->closing && !c->active) client_free(c);
}

/* Closes the handles; r is freed in the last close callback. Idempotent. */
static void teardown(smtp_send_t *r) {
  if (r->torn_down) return;
  r->torn_down = 1;
  r->closes_pending = 1 + (r->tcp_open || r->tcp_resetting) + r->gai_pending;
  if (r->gai_pending) uv_cancel((uv_req_t *)&r->gai); /* its callback still runs: counted above */
  uv_close((uv_handle_t *)&r->timer, on_closed);
  if (r->tcp_open) uv_close((uv_handle_t *)&r->tcp, on_closed);
}

/* Runs the callback once. */
static void report(smtp_send_t *r, int ok, int temporary, int code, const char *reply) {
  if (r->reported) return;
  r->reported = 1;
  r->client->inflight--;
  smtp_result_t res = {.ok = ok, .temporary = ok ? 0 : temporary, .code = code, .reply = reply,
                       .duration_ms = uv_now(r->client->loop) - r->start_ms};
  r->cb(r->data, &res);
}

/* A failure of ours (code 0): reports it and closes. */
static void fail(smtp_send_t *r, int temporary, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(smtp_send_t *r, int temporary, const char *fmt, ...) {
  if (r->torn_down) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->error, sizeof r->error, fmt, ap);
  va_end(ap);
  report(r, 0, temporary, 0, r->error);
  teardown(r);
}

/* The server's reply decides: 4xx temporary, anything else permanent. */
static void fail_reply(smtp_send_t *r) {
  int code = r->reply_code;
  report(r, 0, code >= 400 && code < 500, code, r->reply.data ? r->reply.data : "");
  teardown(r);
}

static void fail_tls(smtp_send_t *r, int rc) {
  char msg[300];
  tls_conn_error(r->tls, rc, msg, sizeof msg);
  fail(r, 1, "%s", msg);
}

static void on_timeout(uv_timer_t *t) {
  smtp_send_t *r = t->data;
  if (r->state == S_QUIT) teardown(r); /* already reported: a slow goodbye changes nothing */
  else fail(r, 1, "timeout waiting for %s", phase_names[r->state]);
}

/* Enters a phase and starts its timer. */
static void enter(smtp_send_t *r, state_t s) {
  if (r->torn_down) return;
  r->state = s;
  uv_timer_start(&r->timer, on_timeout, r->timeout_ms, 0);
}

/* ------------------------------------------------------------------ writing */

typedef struct {
  uv_write_t w;
  size_t len;
  int secret; /* wiped before it is freed */
  char data[];
} chunk_t;

static void on_written(uv_write_t *w, int status) {
  chunk_t *ch = container_of(w, chunk_t, w);
  smtp_send_t *r = w->data;
  if (ch->secret) explicit_bzero(ch->data, ch->len);
  free(ch);
  r->writes_pending--;
  if (r->torn_down) return;
  if (status < 0) fail(r, 1, "write failed: %s", uv_strerror(status));
  else if (r->state == S_BODY && r->writes_pending == 0) enter(r, S_BODY); /* now waiting for the 250 */
}

/* Queues bytes on the socket (a copy). */
static void write_raw(smtp_send_t *r, const char *p, size_t n, int secret) {
  chunk_t *ch = xmalloc(sizeof *ch + n);
  memcpy(ch->data, p, n);
  ch->len = n;
  ch->secret = secret;
  ch->w.data = r;
  r->writes_pending++;
  uv_buf_t b = uv_buf_init(ch->data, (unsigned)n);
  int rc = uv_write(&ch->w, (uv_stream_t *)&r->tcp, &b, 1, on_written);
  if (rc != 0) {
    r->writes_pending--;
    if (secret) explicit_bzero(ch->data, n);
    free(ch);
    fail(r, 1, "write failed: %s", uv_strerror(rc));
  }
}

/* Sends the TLS session's pending ciphertext. */
static void flush_tls(smtp_send_t *r) {
  size_t n;
  const char *out = tls_conn_out(r->tls, &n);
  if (!n) return;
  write_raw(r, out, n, 0);
  tls_conn_consumed(r->tls, n);
}

/* Plaintext to the server, through TLS once it is on. */
static void send_bytes(smtp_send_t *r, const char *p, size_t n, int secret) {
  if (r->torn_down) return;
  if (!r->tls_on) {
    write_raw(r, p, n, secret);
    return;
  }
  int rc = tls_conn_write(r->tls, p, n);
  if (rc < 0) fail_tls(r, rc);
  else flush_tls(r);
}

/* One command line and the phase that waits for its reply. secret: the line holds a password. */
static void command(smtp_send_t *r, state_t next, int secret, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void command(smtp_send_t *r, state_t next, int secret, const char *fmt, ...) {
  if (r->torn_down) return;
  char line[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 2, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof line - 2) {
    fail(r, 0, "command too long");
    return;
  }
  memcpy(line + n, "\r\n", 2);
  enter(r, next);
  send_bytes(r, line, (size_t)n + 2, secret);
  if (secret) explicit_bzero(line, sizeof line);
}

/* ------------------------------------------------------------------ the conversation */

static void start_tls(smtp_send_t *r, state_t s) {
  if (!r->client->tls) {
    fail(r, 1, "tls: %s", "no CA certificates loaded");
    return;
  }
  r->tls = tls_conn_new(r->client->tls, r->client->url.host);
  if (!r->tls) {
    fail(r, 1, "tls: %s", "cannot start a session");
    return;
  }
  enter(r, s);
  int rc = tls_conn_handshake(r->tls);
  flush_tls(r);
  if (rc < 0) fail_tls(r, rc);
}

static void send_ehlo(smtp_send_t *r) {
  r->ext = 0;
  command(r, S_EHLO, 0, "EHLO %s", r->client->helo);
}

static void send_auth(smtp_send_t *r) {
  const config_smtp_url_t *u = &r->client->url;
  if (r->ext & EXT_AUTH_PLAIN) {
    char raw[2 + sizeof u->user + sizeof u->password], b64[1024];
    size_t ul = strlen(u->user), pl = strlen(u->password);
    raw[0] = '\0'; /* no authorization identity */
    memcpy(raw + 1, u->user, ul);
    raw[1 + ul] = '\0';
    memcpy(raw + 2 + ul, u->password, pl);
    int n = crypto_base64_encode(raw, 2 + ul + pl, b64, sizeof b64);
    explicit_bzero(raw, sizeof raw);
    if (n >= 0) command(r, S_AUTH_PLAIN, 1, "AUTH PLAIN %s", b64);
    else fail(r, 0, "credentials too long");
    explicit_bzero(b64, sizeof b64);
  } else if (r->ext & EXT_AUTH_LOGIN) {
    command(r, S_AUTH_LOGIN, 0, "AUTH LOGIN");
  } else {
    fail(r, 1, "the server offers no AUTH mechanism slotd supports (PLAIN, LOGIN)");
  }
}

/* AUTH LOGIN's answers: the user name, then the password, each in base64. */
static void send_login_step(smtp_send_t *r, const char *value, state_t next) {
  char b64[400];
  if (crypto_base64_encode(value, strlen(value), b64, sizeof b64) < 0) fail(r, 0, "credentials too long");
  else command(r, next, 1, "%s", b64);
  explicit_bzero(b64, sizeof b64);
}

static void send_mail_from(smtp_send_t *r) {
  if (r->smtputf8 && !(r->ext & EXT_SMTPUTF8)) {
    for (int i = -1; i < r->nrcpt; i++) {
      const char *a = i < 0 ? r->from : r->rcpt[i];
      for (const char *p = a; *p; p++)
        if ((unsigned char)*p >= 0x80) {
          fail(r, 0, "the server does not support SMTPUTF8, which the address %s needs", a);
          return;
        }
    }
    r->smtputf8 = 0; /* only the headers: sent as they are */
  }
  char params[80] = "";
  int n = 0;
  if (r->eight_bit && (r->ext & EXT_8BITMIME)) n += snprintf(params + n, sizeof params - (size_t)n, " BODY=8BITMIME");
  if (r->smtputf8) n += snprintf(params + n, sizeof params - (size_t)n, " SMTPUTF8");
  if (r->ext & EXT_SIZE) snprintf(params + n, sizeof params - (size_t)n, " SIZE=%zu", r->msg.len);
  command(r, S_MAIL, 0, "MAIL FROM:<%s>%s", r->from, params);
}

/* After EHLO or HELO: STARTTLS, AUTH or the transaction, as the policy in smtp.h says. */
static void after_hello(smtp_send_t *r) {
  const config_smtp_url_t *u = &r->client->url;
  if (!r->tls_on && (r->ext & EXT_STARTTLS)) command(r, S_STARTTLS, 0, "STARTTLS");
  else if (!r->tls_on && u->has_credentials)
    fail(r, 1, "the server does not offer STARTTLS: the credentials are not sent in clear");
  else if (u->has_credentials) send_auth(r);
  else send_mail_from(r);
}

/* An EHLO line after the first: a keyword and its parameters. */
static void parse_extension(smtp_send_t *r, const char *s) {
  size_t kl = strcspn(s, " =");
  if (ascii_casecmp_n(s, kl, "STARTTLS") == 0) r->ext |= EXT_STARTTLS;
  else if (ascii_casecmp_n(s, kl, "SMTPUTF8") == 0) r->ext |= EXT_SMTPUTF8;
  else if (ascii_casecmp_n(s, kl, "8BITMIME") == 0) r->ext |= EXT_8BITMIME;
  else if (ascii_casecmp_n(s, kl, "SIZE") == 0) r->ext |= EXT_SIZE;
  else if (ascii_casecmp_n(s, kl, "AUTH") == 0) {
    for (const char *p = s + kl; *p;) {
      p += strspn(p, " =");
      size_t ml = strcspn(p, " ");
      if (ascii_casecmp_n(p, ml, "PLAIN") == 0) r->ext |= EXT_AUTH_PLAIN;
      else if (ascii_casecmp_n(p, ml, "LOGIN") == 0) r->ext |= EXT_AUTH_LOGIN;
      p += ml;
    }
  }
}

/* A complete reply (code, text) for the current state. */
static void on_reply(smtp_send_t *r) {
  int code = r->reply_code;
  static const int expect[] = {
      [S_GREETING] = 220, [S_EHLO] = 250,      [S_HELO] = 250,      [S_STARTTLS] = 220, [S_AUTH_PLAIN] = 235,
      [S_AUTH_LOGIN] = 334, [S_AUTH_USER] = 334, [S_AUTH_PASS] = 235, [S_MAIL] = 250,    [S_RCPT] = 250,
      [S_DATA] = 354,     [S_BODY] = 250,
  };
  if (r->state == S_QUIT) {
    teardown(r);
    return;
  }
  if (r->state == S_EHLO && code >= 500 && code < 600) { /* an old server: HELO has no extensions */
    command(r, S_HELO, 0, "HELO %s", r->client->helo);
    return;
  }
  int want = r->state < (int)ARRAY_SIZE(expect) ? expect[r->state] : 0;
  if (r->state == S_RCPT && code == 251) code = 250; /* "will forward" is acceptance */
  if (code >= 400) {
    fail_reply(r);
    return;
  }
  if (!want || code != want) {
    fail(r, 1, "unexpected reply while waiting for %s: %d %s", phase_names[r->state], r->reply_code,
         r->reply.data ? r->reply.data : "");
    return;
  }
  const config_smtp_url_t *u = &r->client->url;
  switch (r->state) {
  case S_GREETING: send_ehlo(r); break;
  case S_EHLO:
  case S_HELO: after_hello(r); break;
  case S_STARTTLS: start_tls(r, S_TLS_STARTTLS); break;
  case S_AUTH_LOGIN: send_login_step(r, u->user, S_AUTH_USER); break;
  case S_AUTH_USER: send_login_step(r, u->password, S_AUTH_PASS); break;
  case S_AUTH_PLAIN:
  case S_AUTH_PASS: send_mail_from(r); break;
  case S_MAIL:
  case S_RCPT:
    if (r->rcpt_next < r->nrcpt) command(r, S_RCPT, 0, "RCPT TO:<%s>", r->rcpt[r->rcpt_next++]);
    else command(r, S_DATA, 0, "DATA");
    break;
  case S_DATA:
    enter(r, S_BODY);
    send_bytes(r, r->msg.data, r->msg.len, 0);
    break;
  case S_BODY:
    report(r, 1, 0, code, r->reply.data ? r->reply.data : "");
    if (!r->torn_down) command(r, S_QUIT, 0, "QUIT");
    break;
  default: fail(r, 1, "internal: reply in state %d", (int)r->state); break;
  }
}

/* One reply line without its CRLF: "250-text", "250 text" or "250". */
static void on_line(smtp_send_t *r, const char *s, size_t n) {
  int ok = n >= 3 && s[0] >= '2' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9' &&
           (n == 3 || s[3] == ' ' || s[3] == '-');
  int code = ok ? (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0') : 0;
  if (!ok || (r->reply_lines && code != r->reply_code) || r->reply_lines >= REPLY_MAX_LINES) {
    fail(r, 1, "malformed reply from the server during %s", phase_names[r->state]);
    return;
  }
  if (r->reply_lines++ == 0) {
    r->reply_code = code;
    buf_reset(&r->reply);
    buf_puts(&r->reply, "");
  } else if (r->reply.len < REPLY_MAX_TEXT) {
    buf_putc(&r->reply, ' ');
  }
  const char *text = n > 4 ? s + 4 : "";
  size_t tl = n > 4 ? n - 4 : 0;
  if (r->reply.len < REPLY_MAX_TEXT) buf_append(&r->reply, text, tl < REPLY_MAX_TEXT ? tl : REPLY_MAX_TEXT);
  if (r->state == S_EHLO && r->reply_lines > 1 && code == 250) {
    char ext[LINE_MAX_BYTES + 1];
    memcpy(ext, text, tl);
    ext[tl] = '\0';
    parse_extension(r, ext);
  }
  if (n == 3 || s[3] == ' ') {
    r->reply_lines = 0;
    r->replied = 1;
    on_reply(r);
  }
}

/* Plaintext from the server: complete lines go to on_line. Nothing may follow a complete
 * reply in the same read: we never pipeline, so such bytes were not asked for (after STARTTLS
 * they would be injected plaintext). */
static void on_input(smtp_send_t *r, const char *p, size_t n) {
  for (size_t i = 0; i < n && !r->torn_down; i++) {
    if (r->replied && r->state != S_QUIT) {
      fail(r, 1, "unexpected data from the server after a reply (during %s)", phase_names[r->state]);
      return;
    }
    if (p[i] != '\n') {
      if (r->line.len >= LINE_MAX_BYTES) {
        fail(r, 1, "reply line longer than %d bytes", LINE_MAX_BYTES);
        return;
      }
      buf_putc(&r->line, p[i]);
      continue;
    }
    size_t ll = r->line.len;
    if (ll && r->line.data[ll - 1] == '\r') ll--;
    on_line(r, r->line.data ? r->line.data : "", ll);
    buf_reset(&r->line);
  }
}

static void on_eof(smtp_send_t *r) {
  if (r->state == S_QUIT) teardown(r);
  else fail(r, 1, "connection closed by the server during %s", phase_names[r->state]);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  (void)suggested;
  smtp_send_t *r = h->data;
  *b = uv_buf_init(r->rbuf, sizeof r->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  smtp_send_t *r = s->data;
  if (r->torn_down || n == 0) return;
  if (n < 0) {
    if (n == UV_EOF) on_eof(r);
    else fail(r, 1, "read failed during %s: %s", phase_names[r->state], uv_strerror((int)n));
    return;
  }
  r->replied = 0;
  if (!r->tls) {
    on_input(r, b->base, (size_t)n);
    return;
  }
  tls_conn_feed(r->tls, b->base, (size_t)n);
  if (!r->tls_on) {
    int rc = tls_conn_handshake(r->tls);
    flush_tls(r);
    if (r->torn_down || rc == TLS_WANT) return;
    if (rc < 0) {
      fail_tls(r, rc);
      return;
    }
    r->tls_on = 1;
    if (r->state == S_TLS_IMPLICIT) enter(r, S_GREETING);
    else send_ehlo(r); /* after STARTTLS: what was learnt in clear is forgotten */
  }
  char plain[16384];
  while (!r->torn_down) { /* every record mbedtls can decrypt from what arrived */
    int got = tls_conn_read(r->tls, plain, sizeof plain);
    if (got > 0) on_input(r, plain, (size_t)got);
    else if (got == TLS_READ_CLOSED) on_eof(r);
    else if (got < 0) fail_tls(r, got);
    if (got <= 0) break;
  }
}

/* ------------------------------------------------------------------ connecting */

static void connect_next(smtp_send_t *r);

/* The handle of a failed connect is closed: the next address gets a fresh one. */
static void on_reset(uv_handle_t *h) {
  smtp_send_t *r = h->data;
  r->tcp_resetting = 0;
  if (r->torn_down) on_closed(h); /* closed while switching addresses: this close was counted */
  else connect_next(r);
}

static void on_connect(uv_connect_t *cr, int status) {
  smtp_send_t *r = cr->data;
  if (r->torn_down) return;
  if (status < 0) {
    if (r->addr->ai_next) { /* try the next address on a fresh handle */
      r->addr = r->addr->ai_next;
      r->tcp_open = 0;
      r->tcp_resetting = 1;
      uv_close((uv_handle_t *)&r->tcp, on_reset);
      return;
    }
    fail(r, 1, "connect failed: %s", uv_strerror(status));
    return;
  }
  uv_tcp_nodelay(&r->tcp, 1);
  if (uv_read_start((uv_stream_t *)&r->tcp, on_alloc, on_read) != 0) {
    fail(r, 1, "connect failed: %s", "cannot read");
    return;
  }
  if (r->client->url.implicit_tls) start_tls(r, S_TLS_IMPLICIT);
  else enter(r, S_GREETING);
}

/* Connects to r->addr. */
static void connect_next(smtp_send_t *r) {
  uv_tcp_init(r->client->loop, &r->tcp);
  r->tcp.data = r;
  r->tcp_open = 1;
  r->connect.data = r;
  enter(r, S_CONNECT);
  int rc = uv_tcp_connect(&r->connect, &r->tcp, r->addr->ai_addr, on_connect);
  if (rc != 0) fail(r, 1, "connect failed: %s", uv_strerror(rc));
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res) {
  smtp_send_t *r = g->data;
  r->gai_pending = 0;
  r->addrs = res; /* freed with r */
  if (r->torn_down) { /* aborted meanwhile: this callback is one of the pending closes */
    on_closed((uv_handle_t *)&r->timer);
    return;
  }
  if (status < 0 || !res) {
    fail(r, 1, "dns: %s: %s", r->client->url.host, uv_strerror(status));
    return;
  }
  r->addr = res;
  connect_next(r);
}

static void on_start(uv_timer_t *t) {
  smtp_send_t *r = t->data;
  if (r->error[0]) { /* a message we cannot send: see smtp_send */
    report(r, 0, 0, 0, r->error);
    teardown(r);
    return;
  }
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = r->client->url.host_is_ip ? AI_NUMERICHOST : 0;
  char port[8];
  snprintf(port, sizeof port, "%d", r->client->url.port);
  enter(r, S_RESOLVE);
  r->gai_pending = 1;
  int rc = uv_getaddrinfo(r->client->loop, &r->gai, on_resolved, r->client->url.host, port, &hints);
  if (rc != 0) {
    r->gai_pending = 0;
    fail(r, 1, "dns: %s", uv_strerror(rc));
  }
}

/* ------------------------------------------------------------------ API */

smtp_client_t *smtp_client_new(uv_loop_t *loop, tls_ctx_t *tls, const char *url, const char *helo_name, char *err,
                               size_t errlen) {
  smtp_client_t *c = xcalloc(1, sizeof *c);
  c->loop = loop;
  c->tls = tls;
  if (config_parse_smtp_url(url, &c->url) != 0) {
    snprintf(err, errlen, "invalid SMTP URL: expected smtp://[user[:password]@]host[:port] or smtps://...");
    client_free(c);
    return NULL;
  }
  const char *h = helo_name && *helo_name ? helo_name : "localhost";
  unsigned char tmp[16];
  if (inet_pton(AF_INET, h, tmp) == 1) snprintf(c->helo, sizeof c->helo, "[%s]", h);
  else if (inet_pton(AF_INET6, h, tmp) == 1) snprintf(c->helo, sizeof c->helo, "[IPv6:%s]", h);
  else if (strlen(h) < 254 && strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == strlen(h))
    snprintf(c->helo, sizeof c->helo, "%s", h);
  else {
    snprintf(err, errlen, "invalid EHLO name \"%.100s\"", h);
    client_free(c);
    return NULL;
  }
  return c;
}

/* The message as DATA carries it: CRLF line endings, dot-stuffed, CRLF.CRLF at the end. Notes
 * whether it is ASCII, and whether its header section is. */
static void prepare_message(smtp_send_t *r, const char *msg, size_t len) {
  buf_reserve(&r->msg, len + len / 32 + 8);
  int line_start = 1, in_headers = 1;
  for (size_t i = 0; i < len; i++) {
    char ch = msg[i];
    if (ch == '\r' || ch == '\n') {
      if (ch == '\r' && i + 1 < len && msg[i + 1] == '\n') i++;
      if (line_start) in_headers = 0; /* the empty line */
      buf_append(&r->msg, "\r\n", 2);
      line_start = 1;
      continue;
    }
    if ((unsigned char)ch >= 0x80) {
      r->eight_bit = 1;
      if (in_headers) r->smtputf8 = 1;
    }
    if (line_start && ch == '.') buf_putc(&r->msg, '.');
    buf_putc(&r->msg, ch);
    line_start = 0;
  }
  if (!line_start) buf_append(&r->msg, "\r\n", 2);
  buf_append(&r->msg, ".\r\n", 3);
}

void smtp_send(smtp_client_t *c, const char *from, const char *const *rcpt, int nrcpt, const char *msg, size_t len,
               int timeout_ms, smtp_cb cb, void *data) {
  smtp_send_t *r = xcalloc(1, sizeof *r);
  r->client = c;
  r->cb = cb;
  r->data = data;
  r->start_ms = uv_now(c->loop);
  r->timeout_ms = timeout_ms > 0 ? (uint64_t)timeout_ms : DEFAULT_TIMEOUT_MS;
  r->next = c->active;
  if (c->active) c->active->prev = r;
  c->active = r;
  c->inflight++;
  uv_timer_init(c->loop, &r->timer);
  r->timer.data = r;
  r->gai.data = r;
  if (config_check_address(from) != 0) snprintf(r->error, sizeof r->error, "invalid sender address");
  else if (nrcpt < 1 || nrcpt > SMTP_MAX_RCPT)
    snprintf(r->error, sizeof r->error, "expected 1 to %d recipients", SMTP_MAX_RCPT);
  else if (len > SMTP_MAX_MESSAGE)
    snprintf(r->error, sizeof r->error, "message of %zu bytes over the limit of %u", len, SMTP_MAX_MESSAGE);
  if (!r->error[0]) {
    r->from = xstrdup(from);
    r->rcpt = xcalloc((size_t)nrcpt, sizeof *r->rcpt);
    for (; r->nrcpt < nrcpt; r->nrcpt++) {
      if (config_check_address(rcpt[r->nrcpt]) != 0) {
        snprintf(r->error, sizeof r->error, "invalid recipient address");
        break;
      }
      r->rcpt[r->nrcpt] = xstrdup(rcpt[r->nrcpt]);
    }
    for (const char *p = from; *p; p++) r->smtputf8 |= (unsigned char)*p >= 0x80;
    for (int i = 0; i < r->nrcpt; i++)
      for (const char *p = r->rcpt[i]; *p; p++) r->smtputf8 |= (unsigned char)*p >= 0x80;
  }
  if (!r->error[0]) prepare_message(r, msg, len);
  /* Start from a timer callback: cb never fires inside this call. */
  uv_timer_start(&r->timer, on_start, 0, 0);
}

int smtp_client_inflight(const smtp_client_t *c) { return c->inflight; }

void smtp_client_close(smtp_client_t *c) {
  c->closing = 1;
  for (smtp_send_t *r = c->active, *next; r; r = next) {
    next = r->next;
    report(r, 0, 1, 0, "aborted");
    teardown(r);
  }
  if (!c->active) client_free(c);
}
