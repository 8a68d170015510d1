#include "migrate.h"

#include <dirent.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/crypto.h"
#include "../core/log.h"
#include "../core/util.h"

#define MIGRATE_LOCK_KEY "7364373301" /* any constant bigint; "slotd" in spirit */

typedef struct {
  db_migration_t *items;
  int n;
} mlist_t;

static void mlist_free(mlist_t *m, int owned) {
  if (owned)
    for (int i = 0; i < m->n; i++) {
      free((char *)m->items[i].name);
      free((char *)m->items[i].sql);
    }
  free(m->items);
}

static int cmp_migration(const void *a, const void *b) {
  return ((const db_migration_t *)a)->version - ((const db_migration_t *)b)->version;
}

static int read_file(const char *path, char **out) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  buf_t b = BUF_INIT;
  char tmp[8192];
  size_t n;
  while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) buf_append(&b, tmp, n);
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    buf_free(&b);
    return -1;
  }
  buf_putc(&b, '\0');
  *out = b.data;
  return 0;
}

static int load_dir(const char *dir, mlist_t *m, char *err, size_t errlen) {
  DIR *d = opendir(dir);
  if (!d) {
    snprintf(err, errlen, "SLOTD_MIGRATIONS_DIR: cannot open %s", dir);
    return -1;
  }
  struct dirent *e;
  int cap = 0;
  while ((e = readdir(d)) != NULL) {
    const char *nm = e->d_name;
    size_t len = strlen(nm);
    if (len < 10 || strcmp(nm + len - 4, ".sql") != 0) continue;
    int ok = nm[4] == '_';
    for (int i = 0; i < 4; i++) ok = ok && nm[i] >= '0' && nm[i] <= '9';
    if (!ok) continue;
    if (m->n == cap) {
      cap = cap ? cap * 2 : 16;
      m->items = xrealloc(m->items, (size_t)cap * sizeof *m->items);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, nm);
    char *sql;
    if (read_file(path, &sql) != 0) {
      snprintf(err, errlen, "cannot read migration %s", path);
      closedir(d);
      return -1;
    }
    m->items[m->n].version = atoi(nm);
    m->items[m->n].name = xstrdup(nm);
    m->items[m->n].sql = sql;
    m->n++;
  }
  closedir(d);
  qsort(m->items, (size_t)m->n, sizeof *m->items, cmp_migration);
  for (int i = 1; i < m->n; i++)
    if (m->items[i].version == m->items[i - 1].version) {
      snprintf(err, errlen, "two migrations share version %04d", m->items[i].version);
      return -1;
    }
  return 0;
}

static int exec_ok(PGconn *c, const char *sql, char *err, size_t errlen, const char *what) {
  PGresult *r = PQexec(c, sql);
  ExecStatusType st = PQresultStatus(r);
  int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  if (!ok) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) msg[--n] = '\0';
    snprintf(err, errlen, "%s: %s", what, msg);
  }
  PQclear(r);
  return ok ? 0 : -1;
}

static PGconn *connect_wait(const char *url, uint64_t wait_ms, char *err, size_t errlen) {
  uint64_t deadline = now_mono_ns() / 1000000 + wait_ms;
  for (int attempt = 0;; attempt++) {
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) == CONNECTION_OK) return c;
    snprintf(err, errlen, "cannot connect to the database: %s", PQerrorMessage(c));
    size_t n = strlen(err);
    while (n && (err[n - 1] == '\n' || err[n - 1] == ' ')) err[--n] = '\0';
    PQfinish(c);
    if (now_mono_ns() / 1000000 >= deadline) return NULL;
    if (attempt == 0) log_kv(LOG_WARN, "waiting for the database", "error", err, NULL);
    usleep(250 * 1000);
  }
}

static int apply(PGconn *c, const db_migration_t *list, int n, char *err, size_t errlen) {
  if (exec_ok(c,
              "CREATE TABLE IF NOT EXISTS schema_migrations ("
              " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
              " applied_at timestamptz NOT NULL DEFAULT now())",
              err, errlen, "creating schema_migrations"))
    return -1;
  PGresult *r = PQexec(c, "SELECT version, checksum, name FROM schema_migrations ORDER BY version");
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    snprintf(err, errlen, "reading schema_migrations: %s", PQresultErrorMessage(r));
    PQclear(r);
    return -1;
  }
  int applied = 0;
  for (int i = 0; i < n; i++) {
    const db_migration_t *m = &list[i];
    char sum[65];
    crypto_sha256_hex(m->sql, strlen(m->sql), sum);
    int done = 0;
    for (int row = 0; row < PQntuples(r); row++) {
      if (atoi(PQgetvalue(r, row, 0)) != m->version) continue;
      done = 1;
      if (strcmp(PQgetvalue(r, row, 1), sum) != 0) {
        snprintf(err, errlen, "migration %s was changed after it was applied (checksum differs); add a new migration instead",
                 m->name);
        PQclear(r);
        return -1;
      }
    }
    if (done) continue;
    char what[300];
    snprintf(what, sizeof what, "migration %s failed", m->name);
    if (exec_ok(c, "BEGIN", err, errlen, what)) {
      PQclear(r);
      return -1;
    }
    if (exec_ok(c, m->sql, err, errlen, what)) {
      PQclear(PQexec(c, "ROLLBACK"));
      PQclear(r);
      return -1;
    }
    char version[16];
    snprintf(version, sizeof version, "%d", m->version);
    const char *params[3] = {version, m->name, sum};
    PGresult *ins = PQexecParams(c, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                                 3, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(ins) == PGRES_COMMAND_OK;
    if (!ok) snprintf(err, errlen, "%s: %s", what, PQresultErrorMessage(ins));
    PQclear(ins);
    if (!ok || exec_ok(c, "COMMIT", err, errlen, what)) {
      PQclear(PQexec(c, "ROLLBACK"));
      PQclear(r);
      return -1;
    }
    applied++;
    log_kv(LOG_INFO, "migration applied", "name", m->name, NULL);
  }
  PQclear(r);
  return applied;
}

int db_migrate(const config_t *cfg, uint64_t wait_ms, char *err, size_t errlen) {
  mlist_t m = {NULL, 0};
  int owned = cfg->migrations_dir != NULL;
  if (owned) {
    if (load_dir(cfg->migrations_dir, &m, err, errlen) != 0) {
      mlist_free(&m, 1);
      return -1;
    }
  } else {
    int n = 0;
    while (db_embedded_migrations[n].version) n++;
    m.items = xmalloc(sizeof *m.items * (size_t)(n ? n : 1));
    memcpy(m.items, db_embedded_migrations, sizeof *m.items * (size_t)n);
    m.n = n;
  }
  PGconn *c = connect_wait(cfg->database_url, wait_ms, err, errlen);
  if (!c) {
    mlist_free(&m, owned);
    return -1;
  }
  PQclear(PQexec(c, "SET client_min_messages = warning"));
  int rc = exec_ok(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", err, errlen, "taking the migration lock");
  if (rc == 0) {
    rc = apply(c, m.items, m.n, err, errlen) < 0 ? -1 : 0;
    PQclear(PQexec(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")"));
  }
  PQfinish(c);
  mlist_free(&m, owned);
  return rc;
}
