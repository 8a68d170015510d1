#include "link.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"

#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 2000

struct db_params_s {
  char **keys;         /* NULL-terminated; values[i] for keys[i]; owned */
  char **values;
  int n;
  int host_idx;        /* index of "host" if it is a name to resolve, else -1 */
  int hostaddr_idx;    /* slot reserved for the resolved "hostaddr" (value filled per attempt) */
  uint64_t connect_timeout_ms;
};

static int is_ip_literal(const char *s) {
  unsigned char tmp[16];
  return inet_pton(AF_INET, s, tmp) == 1 || inet_pton(AF_INET6, s, tmp) == 1;
}

db_params_t *db_params_new(const char *conninfo, uint64_t connect_timeout_ms, char *err, size_t errlen) {
  char *perr = NULL;
  PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
  if (!opts) {
    snprintf(err, errlen, "%s", perr ? perr : "invalid connection string");
    if (perr) PQfreemem(perr);
    return NULL;
  }
  int count = 0;
  for (PQconninfoOption *o = opts; o->keyword; o++) count++;
  db_params_t *p = xcalloc(1, sizeof *p);
  p->keys = xcalloc((size_t)count + 4, sizeof *p->keys);
  p->values = xcalloc((size_t)count + 4, sizeof *p->values);
  p->host_idx = p->hostaddr_idx = -1;
  p->connect_timeout_ms = connect_timeout_ms;
  int has_hostaddr = 0, has_appname = 0;
  const char *host = NULL;
  for (PQconninfoOption *o = opts; o->keyword; o++) {
    if (!o->val) continue;
    if (strcmp(o->keyword, "hostaddr") == 0) has_hostaddr = 1;
    if (strcmp(o->keyword, "application_name") == 0) has_appname = 1;
    p->keys[p->n] = xstrdup(o->keyword);
    p->values[p->n] = xstrdup(o->val);
    if (strcmp(o->keyword, "host") == 0) {
      p->host_idx = p->n;
      host = p->values[p->n]; /* our copy: opts is freed below */
    }
    p->n++;
  }
  PQconninfoFree(opts);
  if (host && strchr(host, ',')) {
    snprintf(err, errlen, "several hosts in one connection string are not supported");
    db_params_free(p);
    return NULL;
  }
  /* A host name (not a socket directory, not an address) is resolved with uv_getaddrinfo and
   * passed as hostaddr, so libpq never resolves on the loop thread. */
  if (!host || has_hostaddr || host[0] == '/' || host[0] == '@' || is_ip_literal(host)) {
    p->host_idx = -1;
  } else {
    p->hostaddr_idx = p->n;
    p->keys[p->n] = xstrdup("hostaddr");
    p->values[p->n] = NULL; /* filled per attempt */
    p->n++;
  }
  if (!has_appname) {
    p->keys[p->n] = xstrdup("application_name");
    p->values[p->n] = xstrdup("slotd");
    p->n++;
  }
  return p;
}

void db_params_set_guc(db_params_t *p, const char *name, const char *value) {
  char opt[256];
  snprintf(opt, sizeof opt, "-c %s=%s", name, value);
  for (int i = 0; i < p->n; i++) {
    if (strcmp(p->keys[i], "options") != 0) continue;
    char *joined = xcalloc(1, strlen(p->values[i]) + strlen(opt) + 2);
    sprintf(joined, "%s %s", p->values[i], opt);
    free(p->values[i]);
    p->values[i] = joined;
    return;
  }
  p->keys[p->n] = xstrdup("options"); /* db_params_new keeps room for one more key */
  p->values[p->n] = xstrdup(opt);
  p->n++;
}

void db_params_free(db_params_t *p) {
  if (!p) return;
  for (int i = 0; i < p->n; i++) {
    free(p->keys[i]);
    if (i != p->hostaddr_idx) free(p->values[i]);
  }
  free(p->keys);
  free(p->values);
  free(p);
}

/* ------------------------------------------------------------------ states */

#define LM(s) (1u << (s))
/* link_moves[from] has bit `to` set when from -> to is legal (the table in link.h). */
static const unsigned link_moves[DB_LINK_NSTATES] = {
    [DB_LINK_IDLE] = LM(DB_LINK_RESOLVING) | LM(DB_LINK_CONNECTING) | LM(DB_LINK_BACKOFF) | LM(DB_LINK_CLOSED),
    [DB_LINK_RESOLVING] = LM(DB_LINK_CONNECTING) | LM(DB_LINK_BACKOFF) | LM(DB_LINK_CLOSED),
    [DB_LINK_CONNECTING] = LM(DB_LINK_READY) | LM(DB_LINK_BACKOFF) | LM(DB_LINK_CLOSED),
    [DB_LINK_READY] = LM(DB_LINK_BACKOFF) | LM(DB_LINK_CLOSED),
    [DB_LINK_BACKOFF] = LM(DB_LINK_RESOLVING) | LM(DB_LINK_CONNECTING) | LM(DB_LINK_BACKOFF) | LM(DB_LINK_CLOSED),
    [DB_LINK_CLOSED] = 0,
};
#undef LM

/* Pure: is from -> to a legal move (for link_set_state's assert and the unit test; unused, not
 * wrong, when NDEBUG compiles the assert out). */
__attribute__((unused)) static int link_move_ok(int from, int to) {
  return from >= 0 && from < DB_LINK_NSTATES && to >= 0 && to < DB_LINK_NSTATES && (link_moves[from] >> to & 1u);
}

/* The only place that changes l->state (STYLE.md habit 7); the caller arms timers and polls. */
static void link_set_state(db_link_t *l, int s) {
  assert(link_move_ok(l->state, s));
  l->state = s;
}

/* ------------------------------------------------------------------ link */

static void on_poll(uv_poll_t *h, int status, int events);
static void start_connect(db_link_t *l);
static void on_timer(uv_timer_t *t);

void db_link_init(db_link_t *l, uv_loop_t *loop, const db_params_t *params, const char *name, db_link_cb cb,
                  void *data) {
  memset(l, 0, sizeof *l);
  l->loop = loop;
  l->params = params;
  l->name = name;
  l->cb = cb;
  l->data = data;
  l->poll_fd = -1;
  uv_timer_init(loop, &l->timer);
  l->timer.data = l;
}

static void on_poll_closed(uv_handle_t *h) {
  db_link_t *l = h->data;
  free(h);
  if (l && l->closing && --l->closes_pending == 0 && l->on_closed) l->on_closed((uv_handle_t *)&l->timer);
}

static void poll_stop(db_link_t *l) {
  if (!l->poll) return;
  uv_poll_stop(l->poll); /* before libpq may close the socket (libuv must not watch a closed fd) */
  if (l->closing) l->closes_pending++;
  else l->poll->data = NULL;
  uv_close((uv_handle_t *)l->poll, on_poll_closed);
  l->poll = NULL;
  l->poll_fd = -1;
}

/* Watches PQsocket() for events; re-creates the handle when the socket changed. */
static int poll_set(db_link_t *l, int events) {
  int fd = PQsocket(l->pg);
  if (fd < 0) return -1;
  if (l->poll && l->poll_fd != fd) poll_stop(l);
  if (!l->poll) {
    l->poll = xmalloc(sizeof *l->poll);
    if (uv_poll_init(l->loop, l->poll, fd) != 0) {
      free(l->poll);
      l->poll = NULL;
      return -1;
    }
    l->poll->data = l;
    l->poll_fd = fd;
  }
  l->poll_events = events;
  return uv_poll_start(l->poll, events, on_poll) == 0 ? 0 : -1;
}

static void drop_pg(db_link_t *l) {
  poll_stop(l);
  if (l->pg) PQfinish(l->pg);
  l->pg = NULL;
}

static void schedule_retry(db_link_t *l) {
  if (l->closing) return;
  link_set_state(l, DB_LINK_BACKOFF);
  uint64_t delay = BACKOFF_BASE_MS;
  for (int i = 1; i < l->attempts && delay < BACKOFF_CAP_MS; i++) delay *= 2;
  if (delay > BACKOFF_CAP_MS) delay = BACKOFF_CAP_MS;
  delay = delay / 2 + random_below((uint32_t)(delay / 2) + 1); /* jitter: spread N instances' retries */
  uv_timer_start(&l->timer, on_timer, delay, 0);
}

static void connect_failed(db_link_t *l, const char *why) {
  l->attempts++;
  if (l->attempts == 1 || l->attempts % 20 == 0) {
    char msg[512];
    db_one_line(why, msg, sizeof msg);
    log_kv(LOG_WARN, "database connect failed", "conn", l->name, "error", msg, NULL);
  }
  drop_pg(l);
  uv_timer_stop(&l->timer);
  schedule_retry(l);
}

void db_link_reset(db_link_t *l, const char *why) {
  if (l->closing || l->state == DB_LINK_BACKOFF || l->state == DB_LINK_IDLE) return;
  int was_ready = l->state == DB_LINK_READY;
  if (l->state == DB_LINK_RESOLVING) uv_cancel((uv_req_t *)&l->gai); /* its callback still runs */
  char msg[512];
  db_one_line(why, msg, sizeof msg);
  log_kv(LOG_WARN, "database connection lost", "conn", l->name, "error", msg, NULL);
  drop_pg(l);
  uv_timer_stop(&l->timer);
  l->attempts++;
  schedule_retry(l);
  if (was_ready) l->cb(l, DB_EV_LOST);
}

static void poll_connect(db_link_t *l) {
  PostgresPollingStatusType st = PQconnectPoll(l->pg);
  switch (st) {
    case PGRES_POLLING_READING:
      if (poll_set(l, UV_READABLE)) connect_failed(l, "cannot watch socket");
      return;
    case PGRES_POLLING_WRITING:
      if (poll_set(l, UV_WRITABLE)) connect_failed(l, "cannot watch socket");
      return;
    case PGRES_POLLING_OK:
      uv_timer_stop(&l->timer);
      if (PQsetnonblocking(l->pg, 1) != 0 || poll_set(l, UV_READABLE) != 0) {
        connect_failed(l, PQerrorMessage(l->pg));
        return;
      }
      link_set_state(l, DB_LINK_READY);
      if (l->attempts > 0) log_kv(LOG_INFO, "database connected", "conn", l->name, NULL);
      l->attempts = 0;
      l->cb(l, DB_EV_READY);
      return;
    default: connect_failed(l, l->pg ? PQerrorMessage(l->pg) : "connection failed");
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  db_link_t *l = h->data;
  if (!l) return;
  if (l->state == DB_LINK_CONNECTING) {
    poll_connect(l); /* PQconnectPoll decides; it may switch sockets (next host address) */
    return;
  }
  if (l->state != DB_LINK_READY) return;
  if (status < 0) events = UV_READABLE; /* let libpq discover the error */
  if (events & UV_WRITABLE) l->cb(l, DB_EV_WRITABLE);
  if (l->state == DB_LINK_READY && (events & UV_READABLE)) l->cb(l, DB_EV_READABLE);
}

/* libpq prints notices to stderr by default; slotd's stderr carries JSON lines only. */
static void on_notice(void *arg, const char *message) {
  const db_link_t *l = arg;
  char msg[512];
  db_one_line(message, msg, sizeof msg);
  log_kv(LOG_DEBUG, "database notice", "conn", l->name, "message", msg, NULL);
}

void db_one_line(const char *in, char *out, size_t outlen) {
  size_t o = 0;
  int space = 0;
  for (const char *p = in ? in : ""; *p && o + 1 < outlen; p++) {
    if (*p == '\n' || *p == '\t' || *p == '\r' || *p == ' ') {
      space = o > 0;
      continue;
    }
    if (space && o + 2 < outlen) out[o++] = ' ';
    space = 0;
    out[o++] = *p;
  }
  out[o] = '\0';
}

static void begin_pg(db_link_t *l) {
  const db_params_t *p = l->params;
  if (p->hostaddr_idx >= 0) p->values[p->hostaddr_idx] = l->hostaddr;
  l->pg = PQconnectStartParams((const char *const *)p->keys, (const char *const *)p->values, 0);
  if (p->hostaddr_idx >= 0) p->values[p->hostaddr_idx] = NULL;
  if (!l->pg || PQstatus(l->pg) == CONNECTION_BAD) {
    connect_failed(l, l->pg ? PQerrorMessage(l->pg) : "out of memory");
    return;
  }
  PQsetNoticeProcessor(l->pg, on_notice, l);
  link_set_state(l, DB_LINK_CONNECTING);
  uv_timer_start(&l->timer, on_timer, p->connect_timeout_ms, 0); /* libpq's connect_timeout is not enforced here */
  if (poll_set(l, UV_WRITABLE)) connect_failed(l, "cannot watch socket");
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  db_link_t *l = req->data;
  l->gai_pending = 0;
  if (l->closing || l->state != DB_LINK_RESOLVING) { /* cancelled */
    if (res) uv_freeaddrinfo(res);
    if (l->closing && --l->closes_pending == 0 && l->on_closed) l->on_closed((uv_handle_t *)&l->timer);
    return;
  }
  if (status < 0 || !res) {
    if (res) uv_freeaddrinfo(res);
    connect_failed(l, uv_strerror(status));
    return;
  }
  const void *addr = res->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr
                                                : (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
  inet_ntop(res->ai_family, addr, l->hostaddr, sizeof l->hostaddr);
  uv_freeaddrinfo(res);
  begin_pg(l);
}

static void start_connect(db_link_t *l) {
  const db_params_t *p = l->params;
  if (p->host_idx >= 0) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (l->gai_pending) { /* a cancelled lookup has not reported back yet: try again later */
      schedule_retry(l);
      return;
    }
    link_set_state(l, DB_LINK_RESOLVING);
    l->gai.data = l;
    if (uv_getaddrinfo(l->loop, &l->gai, on_resolved, p->values[p->host_idx], NULL, &hints) != 0) {
      connect_failed(l, "cannot start name resolution");
      return;
    }
    l->gai_pending = 1;
    return;
  }
  begin_pg(l);
}

static void on_timer(uv_timer_t *t) {
  db_link_t *l = t->data;
  if (l->state == DB_LINK_BACKOFF) start_connect(l);
  else if (l->state == DB_LINK_CONNECTING) connect_failed(l, "connect timeout");
}

void db_link_connect(db_link_t *l) {
  if (l->state == DB_LINK_IDLE) start_connect(l);
}

void db_link_want_write(db_link_t *l, int on) {
  if (l->state != DB_LINK_READY) return;
  int ev = UV_READABLE | (on ? UV_WRITABLE : 0);
  if (ev != l->poll_events && poll_set(l, ev) != 0) db_link_reset(l, "cannot watch socket");
}

static void on_timer_closed(uv_handle_t *h) {
  db_link_t *l = h->data;
  if (--l->closes_pending == 0 && l->on_closed) l->on_closed(h);
}

void db_link_close(db_link_t *l, uv_close_cb on_closed) {
  if (l->closing) return;
  l->closing = 1;
  l->on_closed = on_closed;
  l->closes_pending = 1; /* the timer */
  if (l->gai_pending) {
    l->closes_pending++;   /* on_resolved runs (with UV_ECANCELED or a late result) */
    uv_cancel((uv_req_t *)&l->gai);
  }
  drop_pg(l);
  link_set_state(l, DB_LINK_CLOSED);
  uv_close((uv_handle_t *)&l->timer, on_timer_closed);
}
