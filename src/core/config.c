#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

const char config_help[] =
    "  SLOTD_DATABASE_URL        libpq conninfo or URI            (dbname=slotd)\n"
    "  SLOTD_LISTEN              host:port to serve on            (127.0.0.1:8080)\n"
    "  SLOTD_METRICS_LISTEN      host:port for /metrics alone     (none: /metrics on SLOTD_LISTEN)\n"
    "  SLOTD_DB_POOL             PostgreSQL connections           (4)\n"
    "  SLOTD_LOG_LEVEL           debug|info|warn|error            (info)\n"
    "  SLOTD_MAX_BODY            request body limit in bytes      (1048576)\n"
    "  SLOTD_MAX_CONNECTIONS     open client connections          (1024)\n"
    "  SLOTD_MAX_CONNECTIONS_PER_IP open connections per client IP (64)\n"
    "  SLOTD_IDLE_TIMEOUT        keep-alive idle seconds          (60)\n"
    "  SLOTD_HEADER_TIMEOUT      seconds to send a header block   (10)\n"
    "  SLOTD_BODY_TIMEOUT        body/write inactivity seconds    (30)\n"
    "  SLOTD_REQUEST_TIMEOUT     seconds for a whole request      (60)\n"
    "  SLOTD_MIN_BODY_RATE       body bytes/second, 0: off        (1024)\n"
    "  SLOTD_MIN_BODY_RATE_GRACE seconds before the rate counts   (5)\n"
    "  SLOTD_SHUTDOWN_TIMEOUT    graceful stop seconds            (10)\n"
    "  SLOTD_DB_CONNECT_TIMEOUT  database connect seconds         (5)\n"
    "  SLOTD_DB_QUERY_TIMEOUT    database query seconds           (5)\n"
    "  SLOTD_DB_QUEUE_TIMEOUT    seconds waiting for a connection (2)\n"
    "  SLOTD_PUBLIC_URL          external base URL                (http://127.0.0.1:8080)\n"
    "  SLOTD_TRUSTED_PROXIES     proxy IPs/CIDRs, comma separated (none)\n"
    "  SLOTD_CORS_PUBLIC_ORIGINS origins for public routes        (*)\n"
    "  SLOTD_EMBED_ORIGINS       origins that may frame the pages   (*)\n"
    "  SLOTD_DATABASE_REPLICA_URL a streaming replica for availability reads (none)\n"
    "  SLOTD_REPLICA_MAX_LAG     seconds of replica lag before reads go to the primary (5)\n"
    "  SLOTD_RATE_LIMIT_SYNC     seconds between sharing limit counts with other instances (0.1; 0 off)\n"
    "  SLOTD_CORS_ORIGINS        origins for authenticated routes (none)\n"
    "  SLOTD_RATE_LIMIT_PUBLIC   requests/minute per client IP    (60)\n"
    "  SLOTD_RATE_LIMIT_AUTH     requests/minute per user         (300)\n"
    "  SLOTD_RATE_LIMIT_HOLDS    reservations/minute per client IP (10)\n"
    "  SLOTD_HOLDS_PER_HOST      live holds per client and host   (2)\n"
    "  SLOTD_HOLDS_PER_CLIENT    live holds per client in all     (10)\n"
    "  SLOTD_COOKIE_SECURE       0 drops Secure from the cookie   (1)\n"
    "  SLOTD_SESSION_TTL         session lifetime in seconds      (2592000)\n"
    "  SLOTD_PASSWORD_CONCURRENCY argon2 hashes at once (0: CPUs-1) (0)\n"
    "  SLOTD_CACHE_MAX_BYTES     availability cache budget, bytes (67108864; 0: off)\n"
    "  SLOTD_ENGINE_THREADS      slot computations off the loop at once (0: CPUs-1) (0)\n"
    "  SLOTD_WEBHOOK_ALLOW_HTTP  1 accepts http:// webhook URLs   (0)\n"
    "  SLOTD_WEBHOOK_ALLOW_PRIVATE 1 delivers to private addresses (0)\n"
    "  SLOTD_WEBHOOK_CA_FILE     extra CA (PEM) for webhook TLS   (none)\n"
    "  SLOTD_WEBHOOK_RETRY_SCHEDULE retry delays, seconds         (60,300,1800)\n"
    "  SLOTD_WEBHOOK_CONCURRENCY deliveries in flight             (16)\n"
    "  SLOTD_WEBHOOK_TIMEOUT     seconds per delivery attempt     (10)\n"
    "  SLOTD_SMTP_URL            smtp[s]://[user[:pass]@]host[:port] (none: e-mail off)\n"
    "  SLOTD_MAIL_FROM           sender address, or Name <address> (required with SLOTD_SMTP_URL)\n"
    "  SLOTD_MAIL_RETRY_SCHEDULE mail retry delays, seconds       (60,300,1800,7200,21600)\n"
    "  SLOTD_SMTP_CA_FILE        extra CA (PEM) for SMTP TLS      (none)\n"
    "  SLOTD_SMTP_TIMEOUT_MS     milliseconds per SMTP phase      (30000)\n"
    "  SLOTD_MIGRATIONS_DIR      read migrations from this dir    (built in)\n"
    "  SLOTD_INSTANCE            instance name in logs            (hostname:pid)\n";

static int fail(char *err, size_t errlen, const char *var, const char *why, const char *val) {
  snprintf(err, errlen, "%s: %s (got \"%s\")", var, why, val ? val : "");
  return -EINVAL;
}

static const char *getv(config_getenv_fn get, const char *name) {
  const char *v = get(name);
  return (v && *v) ? v : NULL;
}

static int parse_int(const char *s, long min, long max, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < min || v > max) return -EINVAL;
  *out = v;
  return 0;
}

/* Decimal seconds ("10", "0.5") to milliseconds, 1 ms .. 1 day. */
static int parse_seconds(const char *s, uint64_t *out_ms) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !isfinite(v) || v < 0.001 || v > 86400) return -EINVAL;
  *out_ms = (uint64_t)llround(v * 1000.0);
  return 0;
}

int config_parse_cidr(const char *s, config_cidr_t *out) {
  char tmp[64];
  size_t n = strlen(s);
  if (n == 0 || n >= sizeof tmp) return -EINVAL;
  memcpy(tmp, s, n + 1);
  char *slash = strchr(tmp, '/');
  if (slash) *slash = '\0';
  memset(out, 0, sizeof *out);
  int maxbits;
  if (inet_pton(AF_INET, tmp, out->addr) == 1) {
    out->family = AF_INET;
    maxbits = 32;
  } else if (inet_pton(AF_INET6, tmp, out->addr) == 1) {
    out->family = AF_INET6;
    maxbits = 128;
  } else {
    return -EINVAL;
  }
  out->prefix = maxbits;
  if (slash) {
    long p;
    if (parse_int(slash + 1, 0, maxbits, &p)) return -EINVAL;
    out->prefix = (int)p;
  }
  return 0;
}

static int prefix_match(const unsigned char *a, const unsigned char *b, int bits) {
  int full = bits / 8, rest = bits % 8;
  if (memcmp(a, b, (size_t)full) != 0) return 0;
  if (!rest) return 1;
  unsigned char mask = (unsigned char)(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

int config_cidr_match(const config_cidr_t *cidrs, int n, int family, const unsigned char *addr) {
  static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  unsigned char v4[4];
  if (family == AF_INET6 && memcmp(addr, v4mapped, 12) == 0) { /* ::ffff:a.b.c.d counts as v4 */
    memcpy(v4, addr + 12, 4);
    family = AF_INET;
    addr = v4;
  }
  for (int i = 0; i < n; i++)
    if (cidrs[i].family == family && prefix_match(cidrs[i].addr, addr, cidrs[i].prefix)) return 1;
  return 0;
}

/* Splits a comma list into trimmed, non-empty items; calls fn for each. */
static int each_item(const char *list, int (*fn)(void *ctx, const char *item), void *ctx) {
  const char *p = list;
  while (*p) {
    while (*p == ' ' || *p == ',') p++;
    if (!*p) break;
    const char *e = p;
    while (*e && *e != ',') e++;
    const char *t = e;
    while (t > p && t[-1] == ' ') t--;
    char item[512];
    size_t n = (size_t)(t - p);
    if (n >= sizeof item) return -EINVAL;
    memcpy(item, p, n);
    item[n] = '\0';
    int rc = fn(ctx, item);
    if (rc) return rc;
    p = e;
  }
  return 0;
}

static int add_cidr(void *ctx, const char *item) {
  config_t *c = ctx;
  if (c->n_trusted_proxies >= CONFIG_MAX_CIDRS) return -E2BIG;
  return config_parse_cidr(item, &c->trusted_proxies[c->n_trusted_proxies++]);
}

typedef struct {
  char **list;
  int *n;
  int allow_star;
} origin_ctx_t;

static int add_origin(void *ctx, const char *item) {
  origin_ctx_t *o = ctx;
  if (*o->n >= CONFIG_MAX_ORIGINS) return -E2BIG;
  if (strcmp(item, "*") == 0) {
    if (!o->allow_star) return -EINVAL;
  } else {
    const char *host = strstr(item, "://");
    int scheme_ok = strncmp(item, "http://", 7) == 0 || strncmp(item, "https://", 8) == 0;
    /* An origin is scheme://host[:port]: nothing after the host. */
    if (!scheme_ok || !host[3] || strchr(host + 3, '/')) return -EINVAL;
    /* Only a host's characters: the list is copied into headers (CORS, CSP frame-ancestors). */
    for (const char *p = host + 3; *p; p++)
      if (!isalnum((unsigned char)*p) && !strchr(".-:[]", *p)) return -EINVAL;
  }
  o->list[(*o->n)++] = xstrdup(item);
  return 0;
}

/* "IP:PORT" or "[IPv6]:PORT" into a new *host (no brackets; freed by config_free) and *port. */
static int parse_addr(const char *s, char **host, int *port) {
  const char *colon;
  if (s[0] == '[') {
    const char *close = strchr(s, ']');
    if (!close || close[1] != ':') return -EINVAL;
    *host = xstrndup(s + 1, (size_t)(close - s - 1));
    colon = close + 1;
  } else {
    colon = strrchr(s, ':');
    if (!colon || colon == s) return -EINVAL;
    *host = xstrndup(s, (size_t)(colon - s));
  }
  unsigned char tmp[16];
  if (inet_pton(AF_INET, *host, tmp) != 1 && inet_pton(AF_INET6, *host, tmp) != 1) return -EINVAL;
  long p;
  if (parse_int(colon + 1, 0, 65535, &p)) return -EINVAL;
  *port = (int)p;
  return 0;
}

/* "60,300,1800": up to 10 delays of 1-86400 seconds (SLOTD_WEBHOOK_RETRY_SCHEDULE, SLOTD_MAIL_RETRY_SCHEDULE). */
static int parse_schedule(const char *p, int out[10], int *n) {
  *n = 0;
  while (*p) {
    char *end;
    errno = 0;
    long x = strtol(p, &end, 10);
    if (errno || end == p || x < 1 || x > 86400 || *n == 10 || (*end && *end != ',')) return -EINVAL;
    out[(*n)++] = (int)x;
    p = *end ? end + 1 : end;
  }
  return 0;
}

/* Length of the UTF-8 sequence at s (valid, shortest form, no surrogates), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s) {
  if (s[0] < 0x80) return 1;
  size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
  if (!n || s[0] > 0xf4) return 0;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80) return 0;
  if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) || (s[0] == 0xf0 && s[1] < 0x90) ||
      (s[0] == 0xf4 && s[1] >= 0x90))
    return 0;
  return n;
}

/* Valid UTF-8 without C0 controls or DEL (so no CR/LF for header or command injection). */
static int text_ok(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    if (*p < 0x20 || *p == 0x7f) return 0;
    size_t n = utf8_seq(p);
    if (!n) return 0;
    p += n;
  }
  return 1;
}

int config_check_address(const char *s) {
  size_t len = strlen(s);
  const char *at = strrchr(s, '@');
  if (len > 254 || !at || at == s || at - s > 64 || !at[1] || !text_ok(s)) return -EINVAL;
  for (const char *p = s; *p; p++)
    if (*p == ' ' || strchr("<>()[]\\,;:\"", *p) || (*p == '@' && p != at)) return -EINVAL;
  if (s[0] == '.' || at[-1] == '.' || strstr(s, "..")) return -EINVAL;
  /* The domain: dot-separated labels of letters, digits, hyphens or UTF-8 (IDN), 1-63 bytes each. */
  for (const char *l = at + 1;;) {
    size_t n = strcspn(l, ".");
    if (n == 0 || n > 63 || l[0] == '-' || l[n - 1] == '-') return -EINVAL;
    for (size_t i = 0; i < n; i++) {
      unsigned char ch = (unsigned char)l[i];
      if (!(ch >= 0x80 || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-'))
        return -EINVAL;
    }
    if (!l[n]) break;
    l += n + 1;
  }
  return 0;
}

/* Percent-decodes s[0..n) into out (size cap); no NUL, no bad escape, valid UTF-8 without controls. */
static int pct_decode(const char *s, size_t n, char *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (ch == '%') {
      unsigned v = 0;
      for (int k = 1; k <= 2; k++) {
        char h = i + (size_t)k < n ? s[i + (size_t)k] : '\0';
        int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
        if (d < 0) return -EINVAL;
        v = v * 16 + (unsigned)d;
      }
      ch = (char)v;
      i += 2;
    }
    if (o + 1 >= cap) return -EINVAL;
    out[o++] = ch;
  }
  out[o] = '\0';
  return o == strlen(out) && text_ok(out) ? 0 : -EINVAL; /* an embedded %00 shortens strlen */
}

int config_split_host_port(const char *p, const char *end, char *host, size_t cap, int *port) {
  const char *hs = p, *he, *portp = NULL;
  if (p < end && *p == '[') {
    const char *close = memchr(p, ']', (size_t)(end - p));
    if (!close) return -EINVAL;
    hs = p + 1, he = close;
    if (close + 1 < end) {
      if (close[1] != ':') return -EINVAL;
      portp = close + 2;
    }
  } else {
    const char *colon = memchr(p, ':', (size_t)(end - p));
    he = colon ? colon : end;
    if (colon) portp = colon + 1;
  }
  size_t hl = (size_t)(he - hs);
  if (hl == 0 || hl >= cap) return -EINVAL;
  memcpy(host, hs, hl);
  host[hl] = '\0';
  if (portp) {
    long v = 0;
    if (portp == end) return -EINVAL;
    for (const char *q = portp; q < end; q++) {
      if (*q < '0' || *q > '9') return -EINVAL;
      v = v * 10 + (*q - '0');
      if (v > 65535) return -EINVAL;
    }
    if (v == 0) return -EINVAL;
    *port = (int)v;
  }
  return 0;
}

int config_parse_smtp_url(const char *url, config_smtp_url_t *u) {
  memset(u, 0, sizeof *u);
  const char *p;
  if (strncmp(url, "smtps://", 8) == 0) u->implicit_tls = 1, p = url + 8;
  else if (strncmp(url, "smtp://", 7) == 0) p = url + 7;
  else return -EINVAL;
  u->port = u->implicit_tls ? 465 : 25;
  size_t rest = strlen(p);
  if (rest && p[rest - 1] == '/') rest--; /* "smtp://host/" is fine; any other path is not */
  const char *end = p + rest;
  const char *at = NULL;
  for (const char *q = p; q < end; q++) {
    if (*q == '@') at = q; /* the last '@': a password may hold a raw one */
    if (*q == '/' || *q == '?' || *q == '#' || (unsigned char)*q <= 0x20 || *q == 0x7f) return -EINVAL;
  }
  if (at) {
    const char *colon = memchr(p, ':', (size_t)(at - p));
    const char *ue = colon ? colon : at;
    if (ue == p || pct_decode(p, (size_t)(ue - p), u->user, sizeof u->user)) goto bad;
    if (colon && pct_decode(colon + 1, (size_t)(at - colon - 1), u->password, sizeof u->password)) goto bad;
    u->has_credentials = 1;
    p = at + 1;
  }
  if (config_split_host_port(p, end, u->host, sizeof u->host, &u->port)) goto bad;
  unsigned char tmp[16];
  u->host_is_ip = inet_pton(AF_INET, u->host, tmp) == 1 || inet_pton(AF_INET6, u->host, tmp) == 1;
  if (*p == '[' && inet_pton(AF_INET6, u->host, tmp) != 1) goto bad;
  for (const char *h = u->host; *h && !u->host_is_ip; h++)
    if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') || (*h >= '0' && *h <= '9') || *h == '.' || *h == '-'))
      goto bad;
  return 0;
bad:
  explicit_bzero(u, sizeof *u);
  return -EINVAL;
}

/* SLOTD_SMTP_URL shown in an error message: the password replaced by "***". */
static void redact_url(const char *url, char *out, size_t cap) {
  const char *s = strstr(url, "://");
  const char *at = s ? strrchr(s, '@') : NULL;
  const char *colon = at ? memchr(s + 3, ':', (size_t)(at - s - 3)) : NULL;
  if (!colon) snprintf(out, cap, "%s", url);
  else snprintf(out, cap, "%.*s:***%s", (int)(colon - url), url, at);
}

/* The e-mail variables: SLOTD_SMTP_URL unset leaves e-mail off (the others are still checked). */
static int load_mail(config_t *c, config_getenv_fn get, char *err, size_t errlen) {
  const char *v = getv(get, "SLOTD_SMTP_URL");
  config_smtp_url_t u;
  if (v) {
    if (config_parse_smtp_url(v, &u)) {
      char shown[512];
      redact_url(v, shown, sizeof shown);
      return fail(err, errlen, "SLOTD_SMTP_URL", "expected smtp://[user[:password]@]host[:port] or smtps://...", shown);
    }
    explicit_bzero(&u, sizeof u);
    c->smtp_url = xstrdup(v);
  }

  v = getv(get, "SLOTD_MAIL_FROM");
  if (!v && c->smtp_url) return fail(err, errlen, "SLOTD_MAIL_FROM", "required when SLOTD_SMTP_URL is set", v);
  if (v) {
    /* "addr" or "Display Name <addr>" (the name may be in double quotes). */
    const char *lt = strrchr(v, '<');
    size_t vl = strlen(v);
    char addr[300];
    if (lt && v[vl - 1] == '>') {
      size_t al = vl - (size_t)(lt - v) - 2;
      const char *ns = v, *ne = lt;
      while (ns < ne && *ns == ' ') ns++;
      while (ne > ns && ne[-1] == ' ') ne--;
      if (ne - ns >= 2 && *ns == '"' && ne[-1] == '"') ns++, ne--;
      char *name = ne > ns ? xstrndup(ns, (size_t)(ne - ns)) : NULL;
      c->mail_from_name = name;
      if (al >= sizeof addr || (name && (!text_ok(name) || strpbrk(name, "\"<>\\"))))
        return fail(err, errlen, "SLOTD_MAIL_FROM", "expected an address, or Name <address>", v);
      memcpy(addr, lt + 1, al);
      addr[al] = '\0';
    } else if (vl < sizeof addr) {
      memcpy(addr, v, vl + 1);
    } else {
      addr[0] = '\0';
    }
    if (config_check_address(addr)) return fail(err, errlen, "SLOTD_MAIL_FROM", "expected an address, or Name <address>", v);
    c->mail_from = xstrdup(addr);
  }

  v = getv(get, "SLOTD_MAIL_RETRY_SCHEDULE");
  if (parse_schedule(v ? v : "60,300,1800,7200,21600", c->mail_retry, &c->mail_nretry))
    return fail(err, errlen, "SLOTD_MAIL_RETRY_SCHEDULE", "expected up to 10 comma-separated seconds (1-86400)", v);

  v = getv(get, "SLOTD_SMTP_CA_FILE");
  if (v && access(v, R_OK) != 0) return fail(err, errlen, "SLOTD_SMTP_CA_FILE", "cannot read the file", v);
  c->smtp_ca_file = v ? xstrdup(v) : NULL;

  long n;
  v = getv(get, "SLOTD_SMTP_TIMEOUT_MS");
  if (v && parse_int(v, 1, 86400000, &n))
    return fail(err, errlen, "SLOTD_SMTP_TIMEOUT_MS", "expected milliseconds from 1 to 86400000", v);
  c->smtp_timeout_ms = v ? (uint64_t)n : 30000;

  /* The key that seals the links' tokens a queued mail carries (the same on every instance). */
  v = getv(get, "SLOTD_SECRET_KEY");
  if (v) {
    int bad = strlen(v) != 64;
    for (int i = 0; !bad && i < 32; i++) {
      unsigned hi, lo;
      bad = sscanf(v + 2 * i, "%1x%1x", &hi, &lo) != 2;
      c->secret_key[i] = (unsigned char)(hi << 4 | lo);
    }
    if (bad) return fail(err, errlen, "SLOTD_SECRET_KEY", "expected 64 hex digits (32 random bytes)", NULL);
    c->has_secret_key = 1;
  }
  return 0;
}

int config_load(config_t *c, config_getenv_fn get, char *err, size_t errlen) {
  memset(c, 0, sizeof *c);
  const char *v;
  long n;

  v = getv(get, "SLOTD_DATABASE_URL");
  c->database_url = xstrdup(v ? v : "dbname=slotd");
  v = getv(get, "SLOTD_DATABASE_REPLICA_URL");
  c->replica_url = v && *v ? xstrdup(v) : NULL;

  v = getv(get, "SLOTD_LISTEN");
  if (parse_addr(v ? v : "127.0.0.1:8080", &c->listen_host, &c->listen_port))
    return fail(err, errlen, "SLOTD_LISTEN", "expected IP:PORT or [IPv6]:PORT", v);

  v = getv(get, "SLOTD_METRICS_LISTEN");
  if (v && (parse_addr(v, &c->metrics_host, &c->metrics_port) != 0 ||
            (c->metrics_port == c->listen_port && c->metrics_port && !strcmp(c->metrics_host, c->listen_host))))
    return fail(err, errlen, "SLOTD_METRICS_LISTEN", "expected IP:PORT or [IPv6]:PORT other than SLOTD_LISTEN", v);

#define INT_VAR(name, field, def, lo, hi)                                          \
  v = getv(get, name);                                                             \
  if (!v) n = (def);                                                               \
  else if (parse_int(v, lo, hi, &n))                                               \
    return fail(err, errlen, name, "expected an integer from " #lo " to " #hi, v); \
  c->field = n;
  INT_VAR("SLOTD_DB_POOL", db_pool, 4, 1, 256)
  INT_VAR("SLOTD_MAX_BODY", max_body, 1048576, 1024, 1073741824)
  INT_VAR("SLOTD_MAX_CONNECTIONS", max_connections, 1024, 1, 1000000)
  INT_VAR("SLOTD_MAX_CONNECTIONS_PER_IP", max_connections_per_ip, 64, 1, 1000000)
  INT_VAR("SLOTD_MIN_BODY_RATE", min_body_rate, 1024, 0, 1073741824)
  INT_VAR("SLOTD_RATE_LIMIT_PUBLIC", rate_limit_public, 60, 1, 1000000)
  INT_VAR("SLOTD_RATE_LIMIT_AUTH", rate_limit_auth, 300, 1, 1000000)
  INT_VAR("SLOTD_RATE_LIMIT_HOLDS", rate_limit_holds, 10, 1, 1000000)
  INT_VAR("SLOTD_HOLDS_PER_HOST", holds_per_host, 2, 1, 1000000)
  INT_VAR("SLOTD_HOLDS_PER_CLIENT", holds_per_client, 10, 1, 1000000)
  INT_VAR("SLOTD_COOKIE_SECURE", cookie_secure, 1, 0, 1)
  INT_VAR("SLOTD_SESSION_TTL", session_ttl, 2592000, 60, 31536000)
  INT_VAR("SLOTD_PASSWORD_CONCURRENCY", password_concurrency, 0, 0, 64)
  INT_VAR("SLOTD_CACHE_MAX_BYTES", cache_max_bytes, 67108864, 0, 1099511627776)
  INT_VAR("SLOTD_ENGINE_THREADS", engine_threads, 0, 0, 64)
  INT_VAR("SLOTD_WEBHOOK_ALLOW_HTTP", webhook_allow_http, 0, 0, 1)
  INT_VAR("SLOTD_WEBHOOK_ALLOW_PRIVATE", webhook_allow_private, 0, 0, 1)
  INT_VAR("SLOTD_WEBHOOK_CONCURRENCY", webhook_concurrency, 16, 1, 1000)
#undef INT_VAR

#define SEC_VAR(name, field, def)                                                           \
  v = getv(get, name);                                                                      \
  if (!v) c->field = (uint64_t)(def) * 1000;                                                \
  else if (parse_seconds(v, &c->field))                                                     \
    return fail(err, errlen, name, "expected seconds between 0.001 and 86400", v);
  SEC_VAR("SLOTD_IDLE_TIMEOUT", idle_timeout_ms, 60)
  SEC_VAR("SLOTD_HEADER_TIMEOUT", header_timeout_ms, 10)
  SEC_VAR("SLOTD_BODY_TIMEOUT", body_timeout_ms, 30)
  SEC_VAR("SLOTD_REQUEST_TIMEOUT", request_timeout_ms, 60)
  SEC_VAR("SLOTD_MIN_BODY_RATE_GRACE", min_body_rate_grace_ms, 5)
  SEC_VAR("SLOTD_SHUTDOWN_TIMEOUT", shutdown_timeout_ms, 10)
  SEC_VAR("SLOTD_DB_CONNECT_TIMEOUT", db_connect_timeout_ms, 5)
  SEC_VAR("SLOTD_DB_QUERY_TIMEOUT", db_query_timeout_ms, 5)
  SEC_VAR("SLOTD_DB_QUEUE_TIMEOUT", db_queue_timeout_ms, 2)
  SEC_VAR("SLOTD_WEBHOOK_TIMEOUT", webhook_timeout_ms, 10)
  SEC_VAR("SLOTD_REPLICA_MAX_LAG", replica_max_lag_ms, 5)
#undef SEC_VAR

  v = getv(get, "SLOTD_RATE_LIMIT_SYNC");
  if (v && strcmp(v, "0") == 0) c->rate_limit_sync_ms = 0;
  else if (!v) c->rate_limit_sync_ms = 100;
  else if (parse_seconds(v, &c->rate_limit_sync_ms) || c->rate_limit_sync_ms > 10000)
    return fail(err, errlen, "SLOTD_RATE_LIMIT_SYNC", "expected 0 (off) or seconds between 0.001 and 10", v);

  v = getv(get, "SLOTD_LOG_LEVEL");
  c->log_level = v ? log_parse_level(v) : LOG_INFO;
  if (c->log_level < 0) return fail(err, errlen, "SLOTD_LOG_LEVEL", "expected debug, info, warn or error", v);

  v = getv(get, "SLOTD_PUBLIC_URL");
  if (!v) v = "http://127.0.0.1:8080";
  if ((strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) || strlen(v) > 400 ||
      strchr(v, ' ') || !strstr(v, "://")[3])
    return fail(err, errlen, "SLOTD_PUBLIC_URL", "expected an absolute http:// or https:// URL", v);
  c->public_url = xstrdup(v);
  size_t ul = strlen(c->public_url);
  while (ul > 0 && c->public_url[ul - 1] == '/') c->public_url[--ul] = '\0'; /* no trailing slash */

  v = getv(get, "SLOTD_TRUSTED_PROXIES");
  if (v && each_item(v, add_cidr, c))
    return fail(err, errlen, "SLOTD_TRUSTED_PROXIES", "expected a comma list of IPs or CIDRs (at most 32)", v);

  v = get("SLOTD_CORS_PUBLIC_ORIGINS");
  origin_ctx_t oc = {c->cors_public_origins, &c->n_cors_public_origins, 1};
  if (each_item(v ? v : "*", add_origin, &oc))
    return fail(err, errlen, "SLOTD_CORS_PUBLIC_ORIGINS", "expected * or a comma list of http(s)://host[:port] origins", v);
  v = get("SLOTD_EMBED_ORIGINS");
  origin_ctx_t oc3 = {c->embed_origins, &c->n_embed_origins, 1};
  if (each_item(v ? v : "*", add_origin, &oc3))
    return fail(err, errlen, "SLOTD_EMBED_ORIGINS", "expected * or a comma list of http(s)://host[:port] origins", v);
  v = getv(get, "SLOTD_CORS_ORIGINS");
  origin_ctx_t oc2 = {c->cors_origins, &c->n_cors_origins, 0};
  if (v && each_item(v, add_origin, &oc2))
    return fail(err, errlen, "SLOTD_CORS_ORIGINS", "expected a comma list of http(s)://host[:port] origins (no *)", v);

  v = getv(get, "SLOTD_WEBHOOK_RETRY_SCHEDULE");
  if (parse_schedule(v ? v : "60,300,1800", c->webhook_retry, &c->webhook_nretry))
    return fail(err, errlen, "SLOTD_WEBHOOK_RETRY_SCHEDULE", "expected up to 10 comma-separated seconds (1-86400)", v);
  v = getv(get, "SLOTD_WEBHOOK_CA_FILE");
  if (v && access(v, R_OK) != 0) return fail(err, errlen, "SLOTD_WEBHOOK_CA_FILE", "cannot read the file", v);
  c->webhook_ca_file = v ? xstrdup(v) : NULL;

  if (load_mail(c, get, err, errlen)) return -EINVAL;

  v = getv(get, "SLOTD_MIGRATIONS_DIR");
  c->migrations_dir = v ? xstrdup(v) : NULL;

  v = getv(get, "SLOTD_INSTANCE");
  if (v) {
    if (strlen(v) > 100) return fail(err, errlen, "SLOTD_INSTANCE", "at most 100 characters", v);
    c->instance = xstrdup(v);
  } else {
    char host[64] = "slotd";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    char tmp[96];
    snprintf(tmp, sizeof tmp, "%s:%d", host, (int)getpid());
    c->instance = xstrdup(tmp);
  }
  return 0;
}

void config_free(config_t *c) {
  free(c->database_url);
  free(c->replica_url);
  free(c->listen_host);
  free(c->metrics_host);
  free(c->public_url);
  free(c->migrations_dir);
  free(c->webhook_ca_file);
  free(c->smtp_url); /* holds the SMTP password */
  free(c->mail_from);
  free(c->mail_from_name);
  free(c->smtp_ca_file);
  free(c->instance);
  for (int i = 0; i < c->n_cors_public_origins; i++) free(c->cors_public_origins[i]);
  for (int i = 0; i < c->n_embed_origins; i++) free(c->embed_origins[i]);
  for (int i = 0; i < c->n_cors_origins; i++) free(c->cors_origins[i]);
  memset(c, 0, sizeof *c);
}
