#include "mail.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../core/crypto.h"
#include "../core/log.h"
#include "../mail/compose.h"
#include "../mail/ics.h"
#include "../mail/links.h"
#include "../mail/smtp.h"
#include "outbox.h"

#define LEASE_PHASES 12 /* a send's phases, each bounded by SLOTD_SMTP_TIMEOUT_MS: resolve ... the data's end */
#define LEASE_MARGIN 10 /* seconds more, so a claim outlives the slowest send (no mail is sent twice) */
#define MAX_RCPT 32

typedef struct jobs_mail_s {
  app_t *app;
  outbox_channel_t ch;
  outbox_t *outbox;
  tls_ctx_t *tls;
  smtp_client_t *smtp;
  char schedule[128];  /* Postgres array literal of retry delays */
  char domain[256];    /* for UIDs and Message-IDs: SLOTD_PUBLIC_URL's host */
} mailer_t;

/* Columns of api.mail_claim. */
enum {
  C_ID, C_ATTEMPTS, C_KIND, C_SECRETS, C_TO, C_TO_NAME, C_TO_TZ, C_BOOKING, C_UID, C_SEQUENCE, C_START, C_END,
  C_PREVIOUS, C_HOST_NAME, C_HOST_EMAIL, C_BRAND_NAME, C_BRAND_COLOR, C_EVENT, C_LOCATION, C_NUMBER,
  C_INVITEE_NAME, C_INVITEE_EMAIL, C_NOTES, C_REASON
};

static const char *col(const PGresult *res, int row, int c) {
  return PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
}

static int64_t col_i64(const PGresult *res, int row, int c) {
  return PQgetisnull(res, row, c) ? 0 : strtoll(PQgetvalue(res, row, c), NULL, 10);
}

/* The elements of a text[] literal ({a,"b c",NULL}) into out (at most max), in place. */
static int text_array(char *s, char **out, int max) {
  int n = 0;
  if (*s != '{') return 0;
  s++;
  while (*s && *s != '}' && n < max) {
    char *start = s, *w = s;
    if (*s == '"') {
      s++;
      while (*s && *s != '"') {
        if (*s == '\\' && s[1]) s++;
        *w++ = *s++;
      }
      if (*s == '"') s++;
      *w = '\0';
      out[n++] = start;
    } else {
      while (*s && *s != ',' && *s != '}') s++;
      char end = *s;
      *s = '\0';
      if (strcmp(start, "NULL") != 0) out[n++] = start;
      *s = end;
      if (*s == '}') {
        *s = '\0';
        break;
      }
    }
    if (*s == ',') *s++ = '\0';
  }
  return n;
}

static int is_host_kind(const char *kind) { return strncmp(kind, "host_", 5) == 0; }

static const char *json_str(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

typedef struct {
  mailer_t *m;
} send_t;

static void record(outbox_job_t *j, const char *outcome, int code, const char *reply) {
  mailer_t *m = ((send_t *)j->data)->m;
  free(j->data);
  j->data = NULL;
  char c[16];
  snprintf(c, sizeof c, "%d", code);
  log_kv(strcmp(outcome, "ok") == 0 ? LOG_DEBUG : LOG_INFO, "mail attempt", "mail", j->id, "outcome", outcome,
         "reply", reply ? reply : "", NULL);
  const char *params[6] = {j->id, j->attempt, outcome, code ? c : NULL, reply, m->schedule};
  outbox_record(j, strcmp(outcome, "ok") == 0, 6, params);
}

static void on_sent(void *data, const smtp_result_t *r) {
  outbox_job_t *j = data;
  mailer_t *m = ((send_t *)j->data)->m;
  if (outbox_stopping(m->outbox)) { /* not recorded: the lease runs out and the attempt is made again */
    free(j->data);
    outbox_abandon(j);
    return;
  }
  record(j, r->ok ? "ok" : r->temporary ? "temporary" : "permanent", r->code, r->reply);
}

/* base + "/api/bookings/" + token + "/" + action, into out ("" when the token is missing). */
static void link_url(char *out, size_t n, const char *base, const char *token, const char *action) {
  if (!token) out[0] = '\0';
  else snprintf(out, n, "%s/api/bookings/%s/%s", base, token, action);
}

static void deliver(outbox_job_t *j, const PGresult *res, int row, void *ctx) {
  mailer_t *m = ctx;
  const config_t *cfg = m->app->cfg;
  send_t *s = xcalloc(1, sizeof *s);
  s->m = m;
  j->data = s;
  const char *kind = col(res, row, C_KIND);
  int host = is_host_kind(kind);
  char *to_list = xstrdup(col(res, row, C_TO) ? col(res, row, C_TO) : "{}");
  char *rcpt[MAX_RCPT];
  int nrcpt = text_array(to_list, rcpt, MAX_RCPT);
  if (nrcpt == 0) { /* an erased invitee: nobody to send to */
    free(to_list);
    record(j, "dropped", 0, "no recipient");
    return;
  }
  /* the links' tokens, sealed by the request that made them */
  json_t *tokens = NULL;
  if (col(res, row, C_SECRETS)) {
    size_t len = 0;
    char *plain = crypto_open(cfg->secret_key, col(res, row, C_SECRETS), &len);
    if (plain) tokens = json_loadb(plain, len, 0, NULL);
    free(plain);
  }
  const char *base = cfg->public_url;
  char confirm[400], decline[400], ics_url[400], uid[300];
  const char *confirm_tok = host ? json_str(tokens, "confirm") : NULL;
  link_url(confirm, sizeof confirm, base, confirm_tok, "confirm");
  link_url(decline, sizeof decline, base, confirm_tok, "decline");
  const char *cancel_tok = host ? NULL : json_str(tokens, "cancel");
  const char *resched_tok = host ? NULL : json_str(tokens, "reschedule");
  char cancel[400], resched[400];
  if (resched_tok) snprintf(resched, sizeof resched, "%s/api/reschedule/%s", base, resched_tok);
  else resched[0] = '\0';
  char manage[600];
  manage[0] = '\0';
  if (cancel_tok && resched_tok && strcmp(kind, "pending_payment") != 0) /* its manage_url is the payment's */
    snprintf(manage, sizeof manage, "%s/booking/%s?token=%s&reschedule_token=%s", base, col(res, row, C_UID),
             cancel_tok, resched_tok);
  if (cancel_tok) {
    snprintf(cancel, sizeof cancel, "%s/api/cancel/%s", base, cancel_tok);
    snprintf(ics_url, sizeof ics_url, "%s/api/bookings/%s/ics?token=%s", base, col(res, row, C_UID), cancel_tok);
  } else {
    cancel[0] = ics_url[0] = '\0';
  }
  snprintf(uid, sizeof uid, "%s@%s", col(res, row, C_UID), m->domain);

  int cancelled = strcmp(kind, "cancelled") == 0 || strcmp(kind, "host_cancelled") == 0;
  int with_ics = !host && strcmp(kind, "pending") != 0 && strcmp(kind, "pending_payment") != 0 &&
                 strcmp(kind, "declined") != 0 && strcmp(kind, "reminder") != 0;
  const char *invitee_email = col(res, row, C_INVITEE_EMAIL), *invitee_name = col(res, row, C_INVITEE_NAME);
  ics_event_t ev = {.uid = uid, .sequence = (int)col_i64(res, row, C_SEQUENCE),
                    .method = cancelled ? "CANCEL" : "REQUEST", .start = col_i64(res, row, C_START),
                    .end = col_i64(res, row, C_END), .stamp = (int64_t)time(NULL),
                    .summary = col(res, row, C_EVENT), .location = col(res, row, C_LOCATION),
                    .organizer_name = col(res, row, C_HOST_NAME), .organizer_email = col(res, row, C_HOST_EMAIL),
                    .attendee_name = invitee_name, .attendee_email = invitee_email, .cancelled = cancelled};
  size_t ics_len = 0;
  char *ics = with_ics ? ics_render(&ev, &ics_len) : NULL;
  json_t *links = json_object();
  if (with_ics && !cancelled && calendar_links(&ev, ics_url[0] ? ics_url : NULL, links) != 0)
    json_object_clear(links); /* no add-to-calendar links: the mail still goes */
  mail_msg_t msg = {
      .kind = kind, .to = host ? MAIL_HOST : MAIL_INVITEE, .to_email = rcpt[0], .to_name = col(res, row, C_TO_NAME),
      .to_tz = col(res, row, C_TO_TZ), .from_email = cfg->mail_from, .from_name = cfg->mail_from_name,
      .reply_to = host ? invitee_email : col(res, row, C_HOST_EMAIL), .brand_name = col(res, row, C_BRAND_NAME),
      .brand_color = col(res, row, C_BRAND_COLOR), .event_name = col(res, row, C_EVENT), .start = ev.start,
      .end = ev.end, .previous_start = col_i64(res, row, C_PREVIOUS), .invitee_name = invitee_name,
      .invitee_email = invitee_email, .host_name = col(res, row, C_HOST_NAME),
      .host_email = col(res, row, C_HOST_EMAIL), .location = ev.location, .notes = col(res, row, C_NOTES),
      .reason = col(res, row, C_REASON), .confirmation_number = col(res, row, C_NUMBER),
      .confirm_url = confirm[0] ? confirm : NULL, .decline_url = decline[0] ? decline : NULL,
      .cancel_url = cancel[0] ? cancel : NULL, .reschedule_url = resched[0] ? resched : NULL,
      .manage_url = manage[0] ? manage : NULL,
      .ics_url = ics_url[0] ? ics_url : NULL, .google_url = json_str(links, "google"),
      .outlook_url = json_str(links, "outlook"), .ics = ics, .ics_len = ics_len, .message_id_domain = m->domain,
      .now = (int64_t)time(NULL)};
  size_t len = 0;
  char *text = mail_compose(&msg, &len);
  json_decref(links);
  json_decref(tokens);
  free(ics);
  if (!text) {
    free(to_list);
    record(j, "permanent", 0, "the message could not be composed from this booking");
    return;
  }
  smtp_send(m->smtp, cfg->mail_from, (const char *const *)rcpt, nrcpt, text, len, (int)cfg->smtp_timeout_ms,
            on_sent, j);
  free(text);
  free(to_list);
}

static const outbox_channel_t channel = {
    .name = "mail",
    .notify = "slotd_mail",
    .claim = "mail_claim",
    .result = "mail_result",
    .next_due = "mail_next_due",
    .claim_sql = "SELECT * FROM api.mail_claim($1, $2)",
    .result_sql = "SELECT api.mail_result($1, $2, $3, $4, $5, $6)",
    .next_due_sql = "SELECT api.mail_next_due()",
    .attempt_col = C_ATTEMPTS,
};

void jobs_mail_prepare(db_pool_t *db, const config_t *cfg) {
  if (cfg->smtp_url) outbox_prepare(db, &channel);
}

int jobs_mail_start(app_t *app, char *err, size_t errlen) {
  const config_t *cfg = app->cfg;
  if (!cfg->smtp_url) return 0; /* e-mail is off: nothing is queued either */
  if (!cfg->has_secret_key) {
    snprintf(err, errlen, "SLOTD_SECRET_KEY (64 hex digits) is required when SLOTD_SMTP_URL is set");
    return -1;
  }
  mailer_t *m = xcalloc(1, sizeof *m);
  m->app = app;
  m->tls = tls_ctx_new(TLS_SYSTEM_CA, cfg->smtp_ca_file, err, errlen);
  if (!m->tls && cfg->smtp_ca_file) {
    free(m);
    return -1;
  }
  if (!m->tls) log_kv(LOG_WARN, "mail: no CA bundle, TLS to the SMTP server will fail", "error", err, NULL);
  /* the public URL's host names this instance in EHLO, UIDs and Message-IDs */
  mail_domain(cfg->public_url, m->domain, sizeof m->domain);
  m->smtp = smtp_client_new(app->loop, m->tls, cfg->smtp_url, m->domain, err, errlen);
  if (!m->smtp) {
    tls_ctx_free(m->tls);
    free(m);
    return -1;
  }
  outbox_schedule(cfg->mail_retry, cfg->mail_nretry, m->schedule, sizeof m->schedule);
  m->ch = channel;
  m->ch.concurrency = 8;
  m->ch.lease_seconds = (int)((cfg->smtp_timeout_ms * LEASE_PHASES + 999) / 1000) + LEASE_MARGIN;
  m->ch.deliver = deliver;
  m->ch.ctx = m;
  app->mail = m;
  m->outbox = outbox_start(app, &m->ch);
  if (!m->outbox) {
    snprintf(err, errlen, "cannot listen on slotd_mail");
    return -1;
  }
  return 0;
}

void jobs_mail_stop(app_t *app) {
  mailer_t *m = app->mail;
  if (!m || !m->outbox || outbox_stopping(m->outbox)) return;
  outbox_stop(m->outbox);
  smtp_client_close(m->smtp); /* callbacks fire now, "aborted": abandoned, not recorded */
  m->smtp = NULL;
}

void jobs_mail_free(app_t *app) {
  mailer_t *m = app->mail;
  if (!m) return;
  outbox_free(m->outbox);
  tls_ctx_free(m->tls);
  free(m);
  app->mail = NULL;
}
