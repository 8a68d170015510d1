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
  /* E-mail (issue 14): off by default, the retry schedule's default, URL syntax, addresses. */
  CHECK(load(none, &c, err) == 0);
  CHECK(c.smtp_url == NULL && c.mail_from == NULL && c.smtp_ca_file == NULL);
  CHECK(c.mail_nretry == 5 && c.mail_retry[0] == 60 && c.mail_retry[4] == 21600 && c.smtp_timeout_ms == 30000);
  config_free(&c);
  const char *mail[] = {"SLOTD_SMTP_URL", "smtp://u%40x:p%3Aw@mail.example.com:2525", "SLOTD_MAIL_FROM",
                        "\"Slotd Bookings\" <bookings@example.com>", "SLOTD_MAIL_RETRY_SCHEDULE", "5, 10",
                        "SLOTD_SMTP_TIMEOUT_MS", "250", NULL};
  CHECK(load(mail, &c, err) == 0);
  CHECK_STR(c.mail_from, "bookings@example.com");
  CHECK_STR(c.mail_from_name, "Slotd Bookings");
  CHECK(c.mail_nretry == 2 && c.mail_retry[1] == 10 && c.smtp_timeout_ms == 250);
  config_smtp_url_t u;
  CHECK(config_parse_smtp_url(c.smtp_url, &u) == 0);
  CHECK(!u.implicit_tls && u.port == 2525 && u.has_credentials && !u.host_is_ip);
  CHECK_STR(u.host, "mail.example.com");
  CHECK_STR(u.user, "u@x");
  CHECK_STR(u.password, "p:w");
  config_free(&c);
  CHECK(config_parse_smtp_url("smtps://[::1]", &u) == 0 && u.implicit_tls && u.port == 465 && u.host_is_ip);
  CHECK_STR(u.host, "::1");
  CHECK(config_parse_smtp_url("smtp://127.0.0.1/", &u) == 0 && u.port == 25 && !u.has_credentials);
  CHECK(config_parse_smtp_url("smtp://user@host", &u) == 0 && u.has_credentials && u.password[0] == '\0');
  CHECK(config_parse_smtp_url("smtp://a:b@c@host", &u) == 0); /* the last '@' ends the password */
  CHECK_STR(u.password, "b@c");
  const char *bad_urls[] = {"http://host", "smtp://", "smtp://host:0", "smtp://host:99999", "smtp://host:2x",
                            "smtp://host/path", "smtp://ho st", "smtp://u:%zz@host", "smtp://u:%00@host",
                            "smtp://u:%0d%0a@host", "smtp://:pw@host", "smtp://[nothost]:25", "smtp://host_x"};
  for (size_t i = 0; i < ARRAY_SIZE(bad_urls); i++) CHECK(config_parse_smtp_url(bad_urls[i], &u) == -EINVAL);
  CHECK(config_check_address("a.b+tag@example.com") == 0);
  CHECK(config_check_address("jörg@bücher.example") == 0);
  CHECK(config_check_address("root@localhost") == 0);
  const char *bad_addrs[] = {"", "nobody", "@example.com", "a@", "a b@example.com", "a@exa mple.com",
                             "<a@example.com>", "a@b@example.com", "a\r\nRCPT TO:<x@y>@example.com",
                             "a@example.com\r\n", ".a@example.com", "a..b@example.com", "a@-x.example",
                             "a@example..com", "\"q\"@example.com", "a@[127.0.0.1]", "a\xff@example.com"};
  for (size_t i = 0; i < ARRAY_SIZE(bad_addrs); i++) CHECK(config_check_address(bad_addrs[i]) == -EINVAL);

  /* A bad URL's message never shows the password. */
  const char *secret[] = {"SLOTD_SMTP_URL", "smtp://me:hunter2@host:bad", "SLOTD_MAIL_FROM", "a@b.example", NULL};
  CHECK(load(secret, &c, err) == -EINVAL && strstr(err, "SLOTD_SMTP_URL") == err && !strstr(err, "hunter2"));
  config_free(&c);
  struct {
    const char *var, *val;
  } bad_mail[] = {
      {"SLOTD_MAIL_FROM", "not an address"}, {"SLOTD_MAIL_FROM", "Name <a@b.example"},
      {"SLOTD_MAIL_FROM", "Na\"me <a@b.example>"}, {"SLOTD_MAIL_RETRY_SCHEDULE", "60,0"},
      {"SLOTD_MAIL_RETRY_SCHEDULE", "1,2,3,4,5,6,7,8,9,10,11"}, {"SLOTD_SMTP_CA_FILE", "/nonexistent/ca.pem"},
      {"SLOTD_SMTP_TIMEOUT_MS", "0"}, {"SLOTD_SMTP_TIMEOUT_MS", "1.5"}, {"SLOTD_SMTP_URL", "smtp://host:bad"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(bad_mail); i++) {
    const char *env[] = {bad_mail[i].var, bad_mail[i].val, NULL};
    CHECK(load(env, &c, err) == -EINVAL && strstr(err, bad_mail[i].var) == err);
    config_free(&c);
  }
  const char *from_needed[] = {"SLOTD_SMTP_URL", "smtp://host", NULL};
  CHECK(load(from_needed, &c, err) == -EINVAL && strstr(err, "SLOTD_MAIL_FROM") == err);
  config_free(&c);
  return check_done();
}
