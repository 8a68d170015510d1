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
  char *replica_url;          /* SLOTD_DATABASE_REPLICA_URL: a streaming replica for availability reads; NULL: none */
  uint64_t replica_max_lag_ms; /* SLOTD_REPLICA_MAX_LAG: past it, reads go to the primary */
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
  char *embed_origins[CONFIG_MAX_ORIGINS]; /* who may frame the booking pages ("*" allowed) */
  int n_embed_origins;
  char *migrations_dir; /* NULL: the migrations built into the binary */
  int rate_limit_public;  /* requests per minute per client IP */
  int rate_limit_auth;    /* requests per minute per user */
  int rate_limit_holds;   /* reservations per minute per client IP */
  uint64_t rate_limit_sync_ms; /* how often counts are shared between instances; 0: never */
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
  char *smtp_url;          /* SLOTD_SMTP_URL (validated by config_parse_smtp_url), or NULL: e-mail is off */
  char *mail_from;         /* SLOTD_MAIL_FROM's address (addr-spec); set whenever smtp_url is */
  char *mail_from_name;    /* its display name ("Name <addr>" form, unquoted, UTF-8), or NULL */
  char *smtp_ca_file;      /* an extra CA for SMTP TLS, or NULL */
  int mail_retry[10];      /* seconds after attempt 1, 2, ... (SLOTD_MAIL_RETRY_SCHEDULE) */
  int mail_nretry;
  uint64_t smtp_timeout_ms; /* per SMTP phase: connect, greeting, each reply, the message */
  unsigned char secret_key[32]; /* SLOTD_SECRET_KEY: seals the tokens queued mails carry */
  int has_secret_key;
  char *instance;
} config_t;

/* SLOTD_SMTP_URL: smtp://[user[:password]@]host[:port] (port 25, STARTTLS when offered, required
 * with credentials) or smtps://... (implicit TLS, port 465). user and password are
 * percent-decoded. The struct holds the password: callers wipe it when done. */
typedef struct {
  int implicit_tls;    /* smtps:// */
  char host[256];      /* without brackets */
  int host_is_ip;
  int port;
  int has_credentials; /* a user (and maybe a password) was given */
  char user[256];
  char password[256];
} config_smtp_url_t;

typedef const char *(*config_getenv_fn)(const char *name);

/* Fills cfg; the caller calls config_free() afterwards, also after a failure. Returns 0, or -EINVAL with err set. */
int config_load(config_t *cfg, config_getenv_fn get, char *err, size_t errlen) WARN_UNUSED;
void config_free(config_t *cfg);

/* Parses "1.2.3.4", "10.0.0.0/8", "::1", "fd00::/8". Returns 0 or -EINVAL. */
int config_parse_cidr(const char *s, config_cidr_t *out) WARN_UNUSED;
/* 1 if addr (family, network bytes) lies in any of the CIDRs. */
int config_cidr_match(const config_cidr_t *cidrs, int n, int family, const unsigned char *addr);

/* The authority of a URL, p..end: "host", "host:port", "[v6]" or "[v6]:port" (port 1-65535).
 * Copies the host without brackets into host (cap bytes with the NUL) and sets *port if one is
 * given (else leaves it). No check of the host's characters. Returns 0 or -EINVAL. */
int config_split_host_port(const char *p, const char *end, char *host, size_t cap, int *port) WARN_UNUSED;
/* Parses SLOTD_SMTP_URL's syntax (above). Returns 0 or -EINVAL. */
int config_parse_smtp_url(const char *url, config_smtp_url_t *out) WARN_UNUSED;
/* 0 if s is a plain addr-spec we send mail to or from: local@domain, valid UTF-8, at most 254
 * bytes, no quoted local part, no domain literal, no spaces, controls or <>()[]\,;:". -EINVAL if not. */
int config_check_address(const char *s) WARN_UNUSED;

/* One line per variable with its default, for --help. */
extern const char config_help[];

#endif
