/* config.h — all configuration comes from SLOTD_* environment variables.
 * config_load() validates every value; a bad one yields -EINVAL and a message naming the
 * variable. The getter is a parameter so unit tests can feed a fake environment. */
#ifndef SLOTD_CORE_CONFIG_H
#define SLOTD_CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define CONFIG_MAX_CIDRS 32
#define CONFIG_MAX_ORIGINS 16

typedef struct {
  int family;             /* AF_INET or AF_INET6 */
  unsigned char addr[16]; /* network bytes; v4 in the first 4 */
  int prefix;             /* bits */
} config_cidr_t;

typedef struct {
  char *database_url;
  char *listen_host; /* "127.0.0.1" or "::1" (no brackets) */
  int listen_port;
  char *metrics_host; /* SLOTD_METRICS_LISTEN: /metrics served only there; NULL: on the main address */
  int metrics_port;
  int db_pool;
  int log_level;
  size_t max_body;
  int max_connections;
  int max_connections_per_ip; /* open connections per peer address (SLOTD_TRUSTED_PROXIES exempt) */
  uint64_t idle_timeout_ms;
  uint64_t header_timeout_ms;
  uint64_t body_timeout_ms;
  uint64_t request_timeout_ms;     /* first byte of a request to its last */
  int min_body_rate;               /* bytes per second a body must average after the grace; 0: off */
  uint64_t min_body_rate_grace_ms;
  uint64_t shutdown_timeout_ms;
  uint64_t db_connect_timeout_ms;
  uint64_t db_query_timeout_ms;
  uint64_t db_queue_timeout_ms;
  char *public_url;
  config_cidr_t trusted_proxies[CONFIG_MAX_CIDRS];
  int n_trusted_proxies;
  char *cors_public_origins[CONFIG_MAX_ORIGINS]; /* "*" allowed */
  int n_cors_public_origins;
  char *cors_origins[CONFIG_MAX_ORIGINS]; /* exact origins, credentials allowed */
  int n_cors_origins;
  char *migrations_dir; /* NULL: the migrations built into the binary */
  int rate_limit_public;  /* requests per minute per client IP */
  int rate_limit_auth;    /* requests per minute per user */
  int rate_limit_holds;   /* reservations per minute per client IP */
  int holds_per_host;     /* live holds one client may have on one host */
  int holds_per_client;   /* live holds one client may have in all */
  int cookie_secure;      /* Secure attribute on the session cookie */
  int session_ttl;        /* seconds */
  int password_concurrency; /* argon2 hashes at once; 0 = CPUs - 1 */
  size_t cache_max_bytes;   /* availability cache budget in bytes; 0 = no cache */
  int engine_threads;       /* slot computations on the threadpool at once; 0 = CPUs - 1 */
  int webhook_allow_http;    /* accept http:// webhook URLs */
  int webhook_allow_private; /* deliver to loopback/private addresses */
  char *webhook_ca_file;     /* an extra CA for webhook TLS, or NULL */
  int webhook_retry[10];     /* seconds after attempt 1, 2, ... */
  int webhook_nretry;
  int webhook_concurrency;
  uint64_t webhook_timeout_ms;
  char *instance;
} config_t;

typedef const char *(*config_getenv_fn)(const char *name);

/* Fills cfg; the caller calls config_free() afterwards, also after a failure. Returns 0, or -EINVAL with err set. */
int config_load(config_t *cfg, config_getenv_fn get, char *err, size_t errlen) WARN_UNUSED;
void config_free(config_t *cfg);

/* Parses "1.2.3.4", "10.0.0.0/8", "::1", "fd00::/8". Returns 0 or -EINVAL. */
int config_parse_cidr(const char *s, config_cidr_t *out) WARN_UNUSED;
/* 1 if addr (family, network bytes) lies in any of the CIDRs. */
int config_cidr_match(const config_cidr_t *cidrs, int n, int family, const unsigned char *addr);

/* One line per variable with its default, for --help. */
extern const char config_help[];

#endif
