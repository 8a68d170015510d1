"""Commands and configuration: --help, --version, migrate, bad configuration values."""

import pytest

from conftest import free_port, run_slotd, sanitizer_report


def assert_no_sanitizer(r):
    found = sanitizer_report(r.stderr + r.stdout)
    assert not found, f"sanitizer report {found}:\n{r.stderr[-6000:]}"


def test_version():
    r = run_slotd(["--version"])
    assert_no_sanitizer(r)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "slotd 0.1.0"


def test_help():
    r = run_slotd(["--help"])
    assert_no_sanitizer(r)
    assert r.returncode == 0, r.stderr
    text = r.stdout + r.stderr
    assert "migrate" in text and "serve" in text
    assert "SLOTD_DATABASE_URL" in text


def test_unknown_command_fails():
    r = run_slotd(["no-such-command"], env={"SLOTD_DATABASE_URL": "host=127.0.0.1 port=1 dbname=x"})
    assert_no_sanitizer(r)
    assert r.returncode != 0
    assert r.stderr.strip(), "expected a message on stderr"


def test_migrate_fresh_database(db):
    r = run_slotd(["migrate"], env={"SLOTD_DATABASE_URL": db.url})
    assert_no_sanitizer(r)
    assert r.returncode == 0, r.stderr
    rows = db.sql("SELECT count(*) FROM schema_migrations")
    assert int(rows[0][0]) >= 1


def test_migrate_fails_without_database(tmp_path):
    # nothing listens on this port
    port = free_port()
    r = run_slotd(["migrate"], env={
        "SLOTD_DATABASE_URL": f"host=127.0.0.1 port={port} dbname=nope user=postgres",
        "SLOTD_DB_CONNECT_TIMEOUT": "2",
    })
    assert_no_sanitizer(r)
    assert r.returncode != 0
    assert r.stderr.strip()


# (variable, bad value): values that are invalid by the contract's definitions
BAD_VALUES = [
    ("SLOTD_LISTEN", "not-an-address"),
    ("SLOTD_LISTEN", "127.0.0.1:99999"),
    ("SLOTD_LISTEN", "127.0.0.1:abc"),
    ("SLOTD_DB_POOL", "0"),
    ("SLOTD_DB_POOL", "257"),
    ("SLOTD_DB_POOL", "four"),
    ("SLOTD_LOG_LEVEL", "verbose"),
    ("SLOTD_MAX_BODY", "lots"),
    ("SLOTD_MAX_BODY", "-1"),
    ("SLOTD_MAX_CONNECTIONS", "many"),
    ("SLOTD_MAX_CONNECTIONS", "-3"),
    ("SLOTD_IDLE_TIMEOUT", "soon"),
    ("SLOTD_IDLE_TIMEOUT", "-1"),
    ("SLOTD_HEADER_TIMEOUT", "1x"),
    ("SLOTD_BODY_TIMEOUT", "abc"),
    ("SLOTD_SHUTDOWN_TIMEOUT", "abc"),
    ("SLOTD_DB_CONNECT_TIMEOUT", "abc"),
    ("SLOTD_DB_QUERY_TIMEOUT", "-2"),
    ("SLOTD_DB_QUEUE_TIMEOUT", "x"),
    ("SLOTD_TRUSTED_PROXIES", "not-an-ip"),
    ("SLOTD_TRUSTED_PROXIES", "10.0.0.0/99"),
    ("SLOTD_PUBLIC_URL", "not a url"),
]


@pytest.mark.parametrize("var,value", BAD_VALUES, ids=[f"{v}={x}" for v, x in BAD_VALUES])
def test_bad_config_exits_2_naming_variable(db, var, value):
    env = {"SLOTD_DATABASE_URL": db.url, "SLOTD_LISTEN": f"127.0.0.1:{free_port()}", var: value}
    r = run_slotd(["serve"], env=env, timeout=20)
    assert_no_sanitizer(r)
    assert r.returncode == 2, f"exit {r.returncode}; stderr: {r.stderr}"
    assert var in r.stderr, f"stderr does not name {var}: {r.stderr}"


def test_bad_config_with_migrate_exits_2(db):
    r = run_slotd(["migrate"], env={"SLOTD_DATABASE_URL": db.url, "SLOTD_DB_POOL": "0"})
    assert_no_sanitizer(r)
    assert r.returncode == 2, r.stderr
    assert "SLOTD_DB_POOL" in r.stderr


def test_good_config_values_accepted(slotd_factory):
    s = slotd_factory(env={
        "SLOTD_DB_POOL": "2",
        "SLOTD_LOG_LEVEL": "debug",
        "SLOTD_MAX_BODY": "2048",
        "SLOTD_MAX_CONNECTIONS": "16",
        "SLOTD_IDLE_TIMEOUT": "2.5",
        "SLOTD_HEADER_TIMEOUT": "3",
        "SLOTD_BODY_TIMEOUT": "4",
        "SLOTD_SHUTDOWN_TIMEOUT": "5",
        "SLOTD_TRUSTED_PROXIES": "10.0.0.0/8,192.168.1.1",
        "SLOTD_DB_CONNECT_TIMEOUT": "2",
        "SLOTD_DB_QUERY_TIMEOUT": "2",
        "SLOTD_DB_QUEUE_TIMEOUT": "1",
        "SLOTD_PUBLIC_URL": "http://localhost:9999",
        "SLOTD_INSTANCE": "cfg-test",
    })
    assert s.get("/healthz").status == 200


def test_database_url_as_uri(pg, db, slotd_factory):
    s = slotd_factory(env={
        "SLOTD_DATABASE_URL": f"postgresql://postgres@{pg.host}:{pg.port}/{db.name}",
    })
    assert s.get("/readyz").status == 200


def test_database_url_with_host_name(pg, db, slotd_factory):
    # host names are resolved asynchronously; "localhost" must work
    s = slotd_factory(env={
        "SLOTD_DATABASE_URL": f"host=localhost port={pg.port} dbname={db.name} user=postgres",
    })
    assert s.get("/readyz").status == 200
