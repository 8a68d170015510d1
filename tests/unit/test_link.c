/* Database link states: the legal-move table (through the pure link_move_ok, so an illegal move
 * is checked without aborting), then real links on a real loop against a port where nothing
 * listens and a name that needs resolving: refused attempts back off and retry, resets and
 * closes in every state, and a clean loop close afterwards. Every move on the loop goes through
 * link_set_state's assert, so a move missing from the table aborts this test. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "db/link.c"

static const char *const names[DB_LINK_NSTATES] = {"IDLE", "RESOLVING", "CONNECTING", "READY", "BACKOFF", "CLOSED"};

/* The moves documented in link.h, written out independently of link_moves[]. */
static const char *const legal[] = {
    "IDLE>RESOLVING",       "IDLE>CONNECTING",    "IDLE>BACKOFF",     "IDLE>CLOSED",
    "RESOLVING>CONNECTING", "RESOLVING>BACKOFF",  "RESOLVING>CLOSED", "CONNECTING>READY",
    "CONNECTING>BACKOFF",   "CONNECTING>CLOSED",  "READY>BACKOFF",    "READY>CLOSED",
    "BACKOFF>RESOLVING",    "BACKOFF>CONNECTING", "BACKOFF>BACKOFF",  "BACKOFF>CLOSED",
};

static int documented(int from, int to) {
  char pair[32];
  snprintf(pair, sizeof pair, "%s>%s", names[from], names[to]);
  for (size_t i = 0; i < ARRAY_SIZE(legal); i++)
    if (strcmp(legal[i], pair) == 0) return 1;
  return 0;
}

static void check_table(void) {
  int mismatches = 0, nlegal = 0;
  for (int f = 0; f < DB_LINK_NSTATES; f++)
    for (int t = 0; t < DB_LINK_NSTATES; t++) {
      nlegal += link_move_ok(f, t);
      if (link_move_ok(f, t) != documented(f, t)) {
        printf("# %s -> %s: table says %d, link.h says %d\n", names[f], names[t], link_move_ok(f, t), documented(f, t));
        mismatches++;
      }
    }
  CHECK(mismatches == 0);
  CHECK(nlegal == (int)ARRAY_SIZE(legal));
  /* a few by name */
  CHECK(link_move_ok(DB_LINK_CONNECTING, DB_LINK_READY));
  CHECK(!link_move_ok(DB_LINK_IDLE, DB_LINK_READY));       /* READY only after connecting */
  CHECK(!link_move_ok(DB_LINK_READY, DB_LINK_CONNECTING)); /* a lost link backs off first */
  CHECK(!link_move_ok(DB_LINK_READY, DB_LINK_READY));
  CHECK(!link_move_ok(DB_LINK_BACKOFF, DB_LINK_READY));
  CHECK(!link_move_ok(DB_LINK_CLOSED, DB_LINK_BACKOFF) && !link_move_ok(DB_LINK_CLOSED, DB_LINK_CLOSED));
  CHECK(!link_move_ok(DB_LINK_READY, DB_LINK_IDLE) && !link_move_ok(DB_LINK_BACKOFF, DB_LINK_IDLE));
  CHECK(!link_move_ok(-1, DB_LINK_IDLE) && !link_move_ok(DB_LINK_IDLE, DB_LINK_NSTATES));
}

/* ------------------------------------------------------------------ links on a loop */

static uv_loop_t loop;
static int events[4], closed_calls;

static void on_link(db_link_t *l, int ev) {
  (void)l;
  events[ev]++;
}

static void on_closed(uv_handle_t *h) {
  (void)h;
  closed_calls++;
}

/* A loopback port where nothing listens (bound, then closed without listening). */
static int dead_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0) abort();
  close(fd);
  return ntohs(a.sin_port);
}

typedef struct {
  uv_timer_t t;
  db_link_t *link;
  int want_attempts; /* close once the link has failed this often */
  uint64_t deadline;
} waiter_t;

static void on_wait(uv_timer_t *t) {
  waiter_t *w = t->data;
  if (w->link->attempts >= w->want_attempts || uv_now(&loop) >= w->deadline) {
    db_link_close(w->link, on_closed);
    uv_close((uv_handle_t *)&w->t, NULL);
  }
}

/* Runs the loop until the link has failed `attempts` times (or 10 s pass), closes it, runs the
 * loop until nothing is left, and returns the number of failed attempts. */
static int run_until_attempts(db_link_t *l, int attempts) {
  waiter_t w = {.link = l, .want_attempts = attempts, .deadline = uv_now(&loop) + 10000};
  uv_timer_init(&loop, &w.t);
  w.t.data = &w;
  uv_timer_start(&w.t, on_wait, 5, 5);
  uv_run(&loop, UV_RUN_DEFAULT);
  return l->attempts;
}

int main(void) {
  log_init(LOG_ERROR, "test");
  check_table();

  CHECK(uv_loop_init(&loop) == 0);
  char conninfo[160], err[256];
  int port = dead_port();

  /* 1. An address: IDLE -> CONNECTING (or straight to BACKOFF if libpq fails at once), refused,
   *    BACKOFF, retried from the backoff timer, closed while backing off or connecting. */
  snprintf(conninfo, sizeof conninfo, "host=127.0.0.1 port=%d dbname=x user=x", port);
  db_params_t *p = db_params_new(conninfo, 1000, err, sizeof err);
  CHECK(p != NULL);
  db_link_t a;
  db_link_init(&a, &loop, p, "test-addr", on_link, NULL);
  CHECK(a.state == DB_LINK_IDLE);
  db_link_connect(&a);
  CHECK(a.state == DB_LINK_CONNECTING || a.state == DB_LINK_BACKOFF);
  CHECK(run_until_attempts(&a, 3) >= 3);
  CHECK(a.state == DB_LINK_CLOSED);
  CHECK(closed_calls == 1);

  /* 2. A name: IDLE -> RESOLVING -> CONNECTING -> BACKOFF -> RESOLVING ... */
  snprintf(conninfo, sizeof conninfo, "host=localhost port=%d dbname=x user=x", port);
  db_params_t *pn = db_params_new(conninfo, 1000, err, sizeof err);
  CHECK(pn != NULL);
  db_link_t b;
  db_link_init(&b, &loop, pn, "test-name", on_link, NULL);
  db_link_connect(&b);
  CHECK(b.state == DB_LINK_RESOLVING);
  CHECK(run_until_attempts(&b, 2) >= 2);
  CHECK(b.state == DB_LINK_CLOSED && closed_calls == 2);

  /* 3. Reset while resolving (the lookup is cancelled; its late callback is ignored), then a
   *    retry that may find the cancelled lookup still pending (BACKOFF -> BACKOFF). */
  db_link_init(&b, &loop, pn, "test-reset", on_link, NULL);
  db_link_connect(&b);
  CHECK(b.state == DB_LINK_RESOLVING);
  db_link_reset(&b, "test reset");
  CHECK(b.state == DB_LINK_BACKOFF && b.attempts == 1);
  db_link_reset(&b, "ignored while backing off");
  CHECK(b.state == DB_LINK_BACKOFF && b.attempts == 1);
  CHECK(run_until_attempts(&b, 2) >= 2);
  CHECK(closed_calls == 3);

  /* 4. Close while resolving: the close callback waits for the lookup to report back. */
  db_link_init(&b, &loop, pn, "test-close-resolving", on_link, NULL);
  db_link_connect(&b);
  db_link_close(&b, on_closed);
  CHECK(b.state == DB_LINK_CLOSED);
  while (uv_run(&loop, UV_RUN_ONCE)) {
  }
  CHECK(closed_calls == 4);

  /* 5. Close before connecting; reset and connect after close are no-ops. */
  db_link_init(&a, &loop, p, "test-idle", on_link, NULL);
  db_link_reset(&a, "ignored while idle");
  CHECK(a.state == DB_LINK_IDLE);
  db_link_close(&a, on_closed);
  CHECK(a.state == DB_LINK_CLOSED);
  db_link_reset(&a, "ignored after close");
  db_link_connect(&a);
  CHECK(a.state == DB_LINK_CLOSED);
  while (uv_run(&loop, UV_RUN_ONCE)) {
  }
  CHECK(closed_calls == 5);

  CHECK(events[DB_EV_READY] == 0 && events[DB_EV_LOST] == 0); /* never READY, so never LOST */
  CHECK(uv_loop_close(&loop) == 0);
  db_params_free(p);
  db_params_free(pn);
  return check_done();
}
