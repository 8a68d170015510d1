/* link.h — one nonblocking libpq connection driven by the loop: asynchronous name resolution,
 * PQconnectStartParams/PQconnectPoll under a connect timer, and reconnect with capped
 * exponential backoff and jitter. Shared by the pool's connections and the LISTEN connection.
 *
 * States: IDLE -> (RESOLVING ->) CONNECTING -> READY; any failure -> BACKOFF -> RESOLVING...
 * One function in link.c changes the state and asserts that the move is one of these
 * (STYLE.md habit 7; anything else is a bug):
 *   IDLE       -> RESOLVING   db_link_connect, host is a name: uv_getaddrinfo started
 *   IDLE       -> CONNECTING  db_link_connect, host is an address or socket: PQconnectStartParams
 *   IDLE       -> BACKOFF     the first attempt failed at once (libpq refused to start)
 *   RESOLVING  -> CONNECTING  the name resolved
 *   RESOLVING  -> BACKOFF     resolution failed or could not start, libpq refused to start, or
 *                             db_link_reset (the lookup is cancelled; its callback still runs)
 *   CONNECTING -> READY       PQconnectPoll said OK and the socket is watched nonblocking
 *   CONNECTING -> BACKOFF     PQconnectPoll failed, connect timer, socket watch failed, reset
 *   READY      -> BACKOFF     db_link_reset: the owner saw it fail (it hears LOST after the move)
 *   BACKOFF    -> RESOLVING   backoff timer, host is a name
 *   BACKOFF    -> CONNECTING  backoff timer, host is an address or socket
 *   BACKOFF    -> BACKOFF     backoff timer, but the attempt failed at once, or a cancelled
 *                             lookup has not reported back yet: wait again
 *   any but CLOSED -> CLOSED  db_link_close; CLOSED is final
 * The owner's callback hears READY, LOST (a READY link failed or was reset: fail what was
 * sent on it), READABLE and WRITABLE (only while READY). Callbacks may call db_link_reset. */
#ifndef SLOTD_DB_LINK_H
#define SLOTD_DB_LINK_H

#include <libpq-fe.h>
#include <uv.h>

#include "../core/util.h"

typedef struct db_params_s db_params_t;
typedef struct db_link_s db_link_t;

enum {
  DB_LINK_IDLE,
  DB_LINK_RESOLVING,
  DB_LINK_CONNECTING,
  DB_LINK_READY,
  DB_LINK_BACKOFF,
  DB_LINK_CLOSED,
  DB_LINK_NSTATES
};
enum { DB_EV_READY, DB_EV_LOST, DB_EV_READABLE, DB_EV_WRITABLE };

typedef void (*db_link_cb)(db_link_t *link, int event);

struct db_link_s {
  uv_loop_t *loop;
  const db_params_t *params;
  PGconn *pg;             /* owned; NULL unless CONNECTING or READY */
  uv_poll_t *poll;        /* heap: re-created when PQsocket() changes; freed in its close cb */
  int poll_fd;
  int poll_events;
  uv_timer_t timer;       /* connect timeout, or backoff delay */
  uv_getaddrinfo_t gai;
  int state;              /* DB_LINK_*: read freely, changed only inside link.c (see above) */
  int attempts;           /* failures since the last READY, for backoff */
  int closing;            /* db_link_close called */
  char hostaddr[64];      /* resolved address for this attempt */
  const char *name;       /* for logs: "pool[2]", "listen", static */
  db_link_cb cb;
  void *data;
  uv_close_cb on_closed;
  int closes_pending;
  int gai_pending;        /* a uv_getaddrinfo request is outstanding (gai is in use) */
};

/* Parses a conninfo string or URI. NULL and a message in err when it is invalid. */
db_params_t *db_params_new(const char *conninfo, uint64_t connect_timeout_ms, char *err, size_t errlen);
void db_params_free(db_params_t *p);
/* Sets a server setting for every connection made with p (libpq's options "-c name=value",
 * added to any the connection string has). name and value: plain identifiers/words. */
void db_params_set_guc(db_params_t *p, const char *name, const char *value);

void db_link_init(db_link_t *l, uv_loop_t *loop, const db_params_t *params, const char *name, db_link_cb cb,
                  void *data);
void db_link_connect(db_link_t *l);
/* READY only: which socket events the owner wants (readable is always on). */
void db_link_want_write(db_link_t *l, int on);
/* Drops the connection (a READY one reports LOST first) and reconnects after a backoff delay. */
void db_link_reset(db_link_t *l, const char *why);
/* Copies a libpq message with its line breaks and runs of blanks folded to single spaces. */
void db_one_line(const char *in, char *out, size_t outlen);
/* Final: closes handles; on_closed(&l->timer) fires when nothing of the link is left. */
void db_link_close(db_link_t *l, uv_close_cb on_closed);

#endif
