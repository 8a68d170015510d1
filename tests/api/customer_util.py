"""Helpers for the customers tests (issue 13): paths of both scopes, making customers, tags and
groups through the real API, many customers at once in SQL, and the plan PostgreSQL chose for
a statement run inside a function (auto_explain, read from the NOTICEs psql prints).
"""

import os
import subprocess

from accounts_util import call

CUSTOMER_KEYS = {"id", "user_id", "org_id", "name", "surname", "email", "phone", "time_zone", "status", "notes",
                 "tags", "groups", "last_booking_at", "created_at", "updated_at"}
CUSTOMER_TABLES = ("customers", "customer_tags", "customer_groups", "customer_tag_links", "customer_group_links")


def base(org=None):
    """/api for one's own customers, /api/orgs/:id for an org's."""
    return "/api" if org is None else f"/api/orgs/{org}"


def ok(r, status=200):
    assert r.status == status, r
    return r.json()


def make_customer(s, auth, org=None, **fields):
    return ok(call(s, "POST", f"{base(org)}/customers", fields, auth=auth), 201)


def make_label(s, auth, kind, name, org=None):
    """kind: 'tags' or 'groups'."""
    return ok(call(s, "POST", f"{base(org)}/customer-{kind}", {"name": name}, auth=auth), 201)


def list_customers(s, auth, org=None, query=""):
    """(the page's ids, X-Total-Count, the response)."""
    r = call(s, "GET", f"{base(org)}/customers" + (f"?{query}" if query else ""), auth=auth)
    assert r.status == 200, r
    return [c["id"] for c in r.json()], int(r.header("X-Total-Count")), r


def customers_snapshot(db):
    """Every row of the customer tables, for "nothing was written" checks."""
    return {t: db.sql(f"SELECT coalesce(string_agg(row_to_json(x)::text, ';' ORDER BY row_to_json(x)::text), '') "
                      f"FROM {t} x") for t in CUSTOMER_TABLES}


def bulk_customers(db, owner_col, owner_id, n):
    """n customers of one owner in one INSERT: "Name<i> Surname<i>", person<i>@example<i % 97>.com,
    +4915<i as 8 digits>; every third has booked (the newest is customer 3)."""
    db.sql(f"""INSERT INTO customers ({owner_col}, name, surname, email, phone, last_booking_at)
               SELECT {int(owner_id)}, 'Name' || g, 'Surname' || g, 'person' || g || '@example' || (g % 97) || '.com',
                      '+4915' || lpad(g::text, 8, '0'),
                      CASE WHEN g % 3 = 0 THEN now() - g * interval '1 minute' END
               FROM generate_series(1, {int(n)}) g;
               ANALYZE customers""")


def nested_plans(db, query):
    """The plans of every statement query runs, functions' statements included (auto_explain at
    NOTICE level: psql prints them on stderr)."""
    env = dict(os.environ, PGCONNECT_TIMEOUT="5")
    for k in ("PGSERVICE", "PGOPTIONS", "PGPASSWORD", "PGDATABASE", "PGUSER"):
        env.pop(k, None)
    pgbin = os.environ.get("SLOTD_TEST_PGBIN") or "/usr/lib/postgresql/15/bin"
    script = ("LOAD 'auto_explain';\nSET auto_explain.log_min_duration = 0;\n"
              "SET auto_explain.log_nested_statements = on;\nSET auto_explain.log_level = 'notice';\n"
              f"{query};\n")
    c = db.cluster
    r = subprocess.run([f"{pgbin}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", c.host, "-p", str(c.port),
                        "-U", "postgres", "-d", db.name], input=script, capture_output=True, text=True, env=env,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stderr
