/* Configuration: defaults, every kind of value, errors naming the variable, CIDR matching. */
#include <arpa/inet.h>
#include <errno.h>

#include "check.h"
#include "core/config.h"

static const char *const *g_env;

static const char *fake_get(const char *name) {
  for (const char *const *e = g_env; e && *e; e += 2)
    if (strcmp(e[0], name) == 0) return e[1];
  return NULL;
}

static int load(const char *const *env, config_t *c, char *err) {
  g_env = env;
  int rc = config_load(c, fake_get, err, 256);
  return rc;
}

int main(void) {
  config_t c;
  char err[256];
  const char *none[] = {NULL};
  CHECK(load(none, &c, err) == 0);
  CHECK_STR(c.listen_host, "127.0.0.1");
  CHECK_EQ(c.listen_port, 8080);
  CHECK(c.db_pool == 4 && c.max_body == 1048576 && c.max_connections == 1024);
  CHECK(c.idle_timeout_ms == 60000 && c.header_timeout_ms == 10000 && c.shutdown_timeout_ms == 10000);
  CHECK_STR(c.database_url, "dbname=slotd");
  CHECK(c.n_cors_public_origins == 1 && strcmp(c.cors_public_origins[0], "*") == 0);
  CHECK(c.n_cors_origins == 0 && c.n_trusted_proxies == 0 && c.migrations_dir == NULL);
  config_free(&c);

  const char *good[] = {"SLOTD_LISTEN", "[::1]:9000", "SLOTD_IDLE_TIMEOUT", "0.5", "SLOTD_LOG_LEVEL", "WARN",
                        "SLOTD_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1,fd00::/8", "SLOTD_PUBLIC_URL",
                        "https://book.example.com/", "SLOTD_CORS_ORIGINS", "https://app.example.com", NULL};
  CHECK(load(good, &c, err) == 0);
  CHECK_STR(c.listen_host, "::1");
  CHECK(c.listen_port == 9000 && c.idle_timeout_ms == 500 && c.log_level == 2);
  CHECK_EQ(c.n_trusted_proxies, 3);
  CHECK_STR(c.public_url, "https://book.example.com");
  unsigned char a4[4], a6[16];
  inet_pton(AF_INET, "10.1.2.3", a4);
  CHECK(config_cidr_match(c.trusted_proxies, c.n_trusted_proxies, AF_INET, a4));
  inet_pton(AF_INET, "11.1.2.3", a4);
  CHECK(!config_cidr_match(c.trusted_proxies, c.n_trusted_proxies, AF_INET, a4));
  inet_pton(AF_INET6, "::ffff:127.0.0.1", a6); /* v4-mapped counts as v4 */
  CHECK(config_cidr_match(c.trusted_proxies, c.n_trusted_proxies, AF_INET6, a6));
  inet_pton(AF_INET6, "fd12::1", a6);
  CHECK(config_cidr_match(c.trusted_proxies, c.n_trusted_proxies, AF_INET6, a6));
  inet_pton(AF_INET6, "fe80::1", a6);
  CHECK(!config_cidr_match(c.trusted_proxies, c.n_trusted_proxies, AF_INET6, a6));
  config_free(&c);

  struct {
    const char *var, *val;
  } bad[] = {
      {"SLOTD_LISTEN", "8080"},           {"SLOTD_LISTEN", "localhost:8080"}, {"SLOTD_LISTEN", "1.2.3.4:70000"},
      {"SLOTD_DB_POOL", "0"},             {"SLOTD_DB_POOL", "4x"},            {"SLOTD_MAX_BODY", "-1"},
      {"SLOTD_IDLE_TIMEOUT", "0"},        {"SLOTD_IDLE_TIMEOUT", "abc"},      {"SLOTD_LOG_LEVEL", "loud"},
      {"SLOTD_PUBLIC_URL", "ftp://x"},    {"SLOTD_TRUSTED_PROXIES", "10.0.0.0/33"},
      {"SLOTD_TRUSTED_PROXIES", "example.com"}, {"SLOTD_CORS_ORIGINS", "*"},
      {"SLOTD_CORS_PUBLIC_ORIGINS", "https://a.example/path"}, {"SLOTD_MAX_CONNECTIONS", "1e9"},
      {"SLOTD_SHUTDOWN_TIMEOUT", "nan"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *env[] = {bad[i].var, bad[i].val, NULL};
    int rc = load(env, &c, err);
    CHECK(rc == -EINVAL && strstr(err, bad[i].var) == err);
    config_free(&c);
  }
  return check_done();
}
