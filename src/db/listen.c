#include "listen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/buf.h"
#include "../core/log.h"
#include "link.h"

#define MAX_SUBS 32

typedef struct {
  char channel[64];
  db_notify_cb cb;
  void *data;
  int listening; /* LISTEN sent on the current connection */
} sub_t;

struct db_listen_s {
  db_link_t link;
  db_params_t *params;
  sub_t subs[MAX_SUBS];
  int nsubs;
  int busy; /* a LISTEN command is in flight */
};

static int valid_channel(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n >= 64) return 0;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) return 0;
  return 1;
}

/* Sends LISTEN for every channel not yet listened on this connection. */
static void send_listens(db_listen_t *l) {
  if (l->link.state != DB_LINK_READY || l->busy) return;
  buf_t sql = BUF_INIT;
  for (int i = 0; i < l->nsubs; i++) {
    if (l->subs[i].listening) continue;
    int dup = 0; /* several subscribers may share a channel */
    for (int j = 0; j < i; j++)
      if (strcmp(l->subs[j].channel, l->subs[i].channel) == 0) dup = 1;
    l->subs[i].listening = 1;
    if (!dup) buf_printf(&sql, "LISTEN %s;", l->subs[i].channel); /* validated identifier */
  }
  if (sql.len) {
    if (!PQsendQuery(l->link.pg, sql.data)) db_link_reset(&l->link, PQerrorMessage(l->link.pg));
    else {
      l->busy = 1;
      int rc = PQflush(l->link.pg);
      if (rc < 0) db_link_reset(&l->link, PQerrorMessage(l->link.pg));
      else db_link_want_write(&l->link, rc == 1);
    }
  }
  buf_free(&sql);
}

static void on_readable(db_listen_t *l) {
  PGconn *pg = l->link.pg;
  if (!PQconsumeInput(pg)) {
    db_link_reset(&l->link, PQerrorMessage(pg));
    return;
  }
  while (l->busy && !PQisBusy(pg)) {
    PGresult *r = PQgetResult(pg);
    if (!r) {
      l->busy = 0;
      break;
    }
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
      log_kv(LOG_ERROR, "LISTEN failed", "error", PQresultErrorMessage(r), NULL);
    PQclear(r);
  }
  PGnotify *n;
  while ((n = PQnotifies(pg)) != NULL) {
    for (int i = 0; i < l->nsubs; i++)
      if (strcmp(l->subs[i].channel, n->relname) == 0) l->subs[i].cb(l->subs[i].data, n->relname, n->extra);
    PQfreemem(n);
  }
  if (l->link.state == DB_LINK_READY && PQstatus(pg) == CONNECTION_BAD) {
    db_link_reset(&l->link, "connection lost");
    return;
  }
  send_listens(l);
}

static void on_link(db_link_t *link, int ev) {
  db_listen_t *l = link->data;
  switch (ev) {
    case DB_EV_READY:
      l->busy = 0;
      for (int i = 0; i < l->nsubs; i++) l->subs[i].listening = 0;
      send_listens(l);
      for (int i = 0; i < l->nsubs; i++) l->subs[i].cb(l->subs[i].data, l->subs[i].channel, NULL);
      break;
    case DB_EV_LOST: l->busy = 0; break;
    case DB_EV_READABLE: on_readable(l); break;
    case DB_EV_WRITABLE: {
      int rc = PQflush(link->pg);
      if (rc < 0) db_link_reset(link, PQerrorMessage(link->pg));
      else db_link_want_write(link, rc == 1);
      break;
    }
  }
}

db_listen_t *db_listen_new(uv_loop_t *loop, const config_t *cfg, char *err, size_t errlen) {
  db_params_t *params = db_params_new(cfg->database_url, cfg->db_connect_timeout_ms, err, errlen);
  if (!params) return NULL;
  db_listen_t *l = xcalloc(1, sizeof *l);
  l->params = params;
  db_link_init(&l->link, loop, params, "listen", on_link, l);
  return l;
}

int db_listen_subscribe(db_listen_t *l, const char *channel, db_notify_cb cb, void *data) {
  if (!valid_channel(channel) || l->nsubs == MAX_SUBS) return -EINVAL;
  sub_t *s = &l->subs[l->nsubs++];
  snprintf(s->channel, sizeof s->channel, "%s", channel);
  s->cb = cb;
  s->data = data;
  s->listening = 0;
  send_listens(l);
  return 0;
}

void db_listen_start(db_listen_t *l) { db_link_connect(&l->link); }

int db_listen_ready(const db_listen_t *l) { return l->link.state == DB_LINK_READY; }

static void on_closed(uv_handle_t *h) {
  db_link_t *link = h->data;
  db_listen_t *l = link->data;
  db_params_free(l->params);
  free(l);
}

void db_listen_close(db_listen_t *l) { db_link_close(&l->link, on_closed); }
