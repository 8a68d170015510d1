"""Migrations: recorded in schema_migrations, concurrent starts, failing migration rolls back."""

import re
import shutil
import subprocess

import pytest

from conftest import ROOT, free_port, SLOTD_BIN, run_slotd, sanitizer_report, slotd_env

MIGRATIONS = ROOT / "sql" / "migrations"
MIG_RE = re.compile(r"^(\d+)_(.+)\.sql$")


def builtin_migrations():
    files = sorted(p for p in MIGRATIONS.glob("*.sql") if MIG_RE.match(p.name))
    if not files:
        pytest.skip("no migrations in sql/migrations yet")
    return files


def applied(db):
    return db.sql("SELECT version::text, name, checksum::text, applied_at::text "
                  "FROM schema_migrations ORDER BY schema_migrations.version")  # numerically: 10 after 9


def assert_ok(r):
    found = sanitizer_report(r.stderr)
    assert not found, f"sanitizer report {found}:\n{r.stderr[-6000:]}"
    assert r.returncode == 0, f"exit {r.returncode}; stderr:\n{r.stderr[-4000:]}"


def test_migrate_records_every_builtin_migration(db):
    files = builtin_migrations()
    assert_ok(run_slotd(["migrate"], env={"SLOTD_DATABASE_URL": db.url}))
    rows = applied(db)
    assert [int(r[0]) for r in rows] == [int(MIG_RE.match(f.name).group(1)) for f in files]
    for (version, name, checksum, applied_at), f in zip(rows, files):
        assert MIG_RE.match(f.name).group(2) in name, (name, f.name)
        assert checksum, f"empty checksum for {f.name}"
        assert applied_at, f"no applied_at for {f.name}"
    # idempotent: a second run changes nothing
    assert_ok(run_slotd(["migrate"], env={"SLOTD_DATABASE_URL": db.url}))
    assert applied(db) == rows


def test_serve_migrates_first(slotd, db):
    files = builtin_migrations()
    rows = applied(db)
    assert len(rows) == len(files)


def test_two_instances_start_at_once_on_fresh_database(db, slotd_factory):
    builtin_migrations()
    a = slotd_factory(wait=False, name="a")
    b = slotd_factory(wait=False, name="b")
    a.wait_ready()
    b.wait_ready()
    assert a.get("/readyz").status == 200 and b.get("/readyz").status == 200
    dups = db.sql("SELECT version FROM schema_migrations GROUP BY version HAVING count(*) > 1")
    assert dups == []
    assert len(applied(db)) == len(builtin_migrations())


def test_concurrent_migrate_commands(db):
    builtin_migrations()
    env = slotd_env({"SLOTD_DATABASE_URL": db.url})
    procs = [subprocess.Popen([SLOTD_BIN, "migrate"], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert not sanitizer_report(err), err
        assert p.returncode == 0, err
    assert len(applied(db)) == len(builtin_migrations())


def _migrations_copy(tmp_path):
    d = tmp_path / "migrations"
    d.mkdir()
    for f in builtin_migrations():
        shutil.copy(f, d / f.name)
    return d


def test_failing_migration_rolls_back(db, tmp_path):
    d = _migrations_copy(tmp_path)
    (d / "9999_broken.sql").write_text(
        "CREATE TABLE broken_probe (id int);\n"
        "INSERT INTO broken_probe VALUES (1);\n"
        "SELECT 1/0;\n")
    env = {"SLOTD_DATABASE_URL": db.url, "SLOTD_MIGRATIONS_DIR": str(d)}
    r = run_slotd(["migrate"], env=env)
    assert not sanitizer_report(r.stderr), r.stderr
    assert r.returncode != 0, r.stderr
    assert "9999_broken" in r.stderr, f"stderr does not name the file:\n{r.stderr}"
    assert "division by zero" in r.stderr, f"stderr lacks the PostgreSQL error:\n{r.stderr}"
    assert db.sql("SELECT count(*) FROM pg_class WHERE relname = 'broken_probe'") == [["0"]]
    assert db.sql("SELECT count(*) FROM schema_migrations WHERE version::text::int = 9999") == [["0"]]
    # the good ones before it are applied and recorded
    assert len(applied(db)) == len(builtin_migrations())

    # serve refuses to start with the broken migration
    r = run_slotd(["serve"], env=dict(env, SLOTD_LISTEN=f"127.0.0.1:{free_port()}"), timeout=30)
    assert r.returncode != 0
    assert "9999_broken" in r.stderr

    # once fixed, it applies and is recorded
    (d / "9999_broken.sql").write_text("CREATE TABLE broken_probe (id int);\nINSERT INTO broken_probe VALUES (1);\n")
    assert_ok(run_slotd(["migrate"], env=env))
    assert db.sql("SELECT count(*) FROM pg_class WHERE relname = 'broken_probe'") == [["1"]]
    assert db.sql("SELECT count(*) FROM schema_migrations WHERE version::text::int = 9999") == [["1"]]


def test_failing_migration_in_middle_of_batch(db, tmp_path):
    """On a fresh database, the migrations before the broken one stay applied, later ones are not run."""
    d = _migrations_copy(tmp_path)
    (d / "9998_bad.sql").write_text("CREATE TABLE bad_probe (id int);\nSELECT * FROM no_such_table;\n")
    (d / "9999_after.sql").write_text("CREATE TABLE after_probe (id int);\n")
    r = run_slotd(["migrate"], env={"SLOTD_DATABASE_URL": db.url, "SLOTD_MIGRATIONS_DIR": str(d)})
    assert r.returncode != 0
    assert "9998_bad" in r.stderr and "no_such_table" in r.stderr, r.stderr
    assert db.sql("SELECT count(*) FROM pg_class WHERE relname IN ('bad_probe', 'after_probe')") == [["0"]]
    assert db.sql("SELECT count(*) FROM schema_migrations WHERE version::text::int >= 9998") == [["0"]]


def test_custom_migrations_dir_applies_extra(db, tmp_path):
    d = _migrations_copy(tmp_path)
    (d / "9000_extra.sql").write_text("CREATE TABLE extra_probe (id int PRIMARY KEY);\n")
    assert_ok(run_slotd(["migrate"], env={"SLOTD_DATABASE_URL": db.url, "SLOTD_MIGRATIONS_DIR": str(d)}))
    assert db.sql("SELECT count(*) FROM pg_class WHERE relname = 'extra_probe'") == [["1"]]
    rows = applied(db)
    assert int(rows[-1][0]) == 9000 and "extra" in rows[-1][1]
