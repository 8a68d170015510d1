"""Helpers shared by the accounts / API key / booking page / rate limit tests (issue 3).

Everything goes through the real HTTP API of a running Slotd (see conftest.py); the
database is only looked at (through psql) to check what was or was not written.
"""

import hashlib
import http.client
import json
import re
import statistics
import time

from conftest import Response

# Limits high enough that tests which are not about rate limiting never hit them.
NO_LIMITS = {"SLOTD_RATE_LIMIT_PUBLIC": "1000000", "SLOTD_RATE_LIMIT_AUTH": "1000000",
             "SLOTD_RATE_LIMIT_HOLDS": "1000000", "SLOTD_HOLDS_PER_HOST": "1000000", "SLOTD_HOLDS_PER_CLIENT": "1000000"}

PASSWORD = "correct horse battery"
HEX64 = re.compile(r"[0-9a-f]{64}")
KEY_RE = re.compile(r"cal_[0-9a-f]{64}")
SEED_TS = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
RFC3339_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
SLUG_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")

ACCOUNT_TABLES = ("users", "sessions", "api_keys", "booking_pages", "availability_schedules")


def sha256_hex(s):
    return hashlib.sha256(s.encode()).hexdigest()


# ----------------------------------------------------------------------------
# requests


def call(s, method, path, body=None, auth=None, headers=None, raw=None, timeout=15):
    """One request. body: a Python value sent as JSON; raw: exact body bytes.
    auth: a dict of credential headers (see cookie(), xkey(), bearer())."""
    h = dict(headers or {})
    if auth:
        h.update(auth)
    data = None
    if raw is not None:
        data = raw
        h.setdefault("Content-Type", "application/json")
    elif body is not None:
        data = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    elif method in ("POST", "PUT", "PATCH"):
        data = b""
    return s.request(method, path, headers=h, body=data, timeout=timeout)


def call_from(s, source_ip, method, path, body=None, auth=None, headers=None, timeout=15):
    """Like call() but from another loopback source address (e.g. 127.0.0.2), so the
    server sees a different socket peer."""
    h = dict(headers or {})
    if auth:
        h.update(auth)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    c = http.client.HTTPConnection(s.host, s.port, timeout=timeout, source_address=(source_ip, 0))
    try:
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        return Response(r.status, r.reason, list(r.getheaders()), r.read())
    finally:
        c.close()


def cookie(token):
    return {"Cookie": f"session={token}"}


def xkey(key):
    return {"X-API-Key": key}


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def set_cookie_parts(r):
    """The session Set-Cookie of a response -> (value, {attribute lower-case: value or True})."""
    values = [v for v in r.header_all("Set-Cookie") if v.strip().startswith("session=")]
    assert len(values) == 1, f"expected one session Set-Cookie, got {r.header_all('Set-Cookie')!r}"
    parts = [p.strip() for p in values[0].split(";")]
    value = parts[0][len("session="):]
    attrs = {}
    for p in parts[1:]:
        if not p:
            continue
        if "=" in p:
            k, v = p.split("=", 1)
            attrs[k.strip().lower()] = v.strip()
        else:
            attrs[p.lower()] = True
    return value, attrs


# ----------------------------------------------------------------------------
# assertions


def assert_error(r, status, code=None, field=None):
    """An error response of the native API: {"error": "message", "code": "CODE"[, "field": f]}."""
    assert r.status == status, f"expected {status}, got {r!r}"
    assert (r.header("Content-Type") or "").split(";")[0].strip() == "application/json", r
    j = r.json()
    assert isinstance(j, dict), j
    assert isinstance(j.get("error"), str) and j["error"].strip(), f"no human-readable error: {j!r}"
    assert isinstance(j.get("code"), str) and re.fullmatch(r"[A-Z_]+", j["code"]), j
    assert set(j) <= {"error", "code", "field"}, f"unexpected keys in error body: {j!r}"
    if code is not None:
        if isinstance(code, (set, tuple, list)):
            assert j["code"] in code, j
        else:
            assert j["code"] == code, j
    if field is not None:
        assert j.get("field") == field, f"expected field {field!r}: {j!r}"
    return j


def assert_ratelimit_headers(r):
    for h in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert len(r.header_all(h)) == 1, f"{h} missing or repeated: {r!r}"
    limit = int(r.header("X-RateLimit-Limit"))
    remaining = int(r.header("X-RateLimit-Remaining"))
    reset = int(r.header("X-RateLimit-Reset"))
    assert limit >= 1 and 0 <= remaining <= limit, r
    now = time.time()
    assert now - 2 <= reset <= now + 61, f"X-RateLimit-Reset {reset} is not a Unix time within a minute ({now})"
    return limit, remaining, reset


# ----------------------------------------------------------------------------
# accounts


class User:
    """A registered user; .token after login(), .key after make_key()."""

    def __init__(self, s, email, password, name, reg):
        self.s = s
        self.email = email.lower()
        self.password = password
        self.name = name
        self.reg = reg
        self.id = reg["user"]["id"]
        self.slug = reg["bookingSlug"]
        self.token = None
        self.key = None
        self.key_id = None

    @property
    def session(self):
        return cookie(self.token)

    @property
    def api_key(self):
        return xkey(self.key)

    def login(self):
        r = login(self.s, self.email, self.password)
        assert r.status == 200, r
        self.token = set_cookie_parts(r)[0]
        return self.token

    def make_key(self, label="test key", **extra):
        r = call(self.s, "POST", "/api/api-keys", {"label": label, **extra}, auth=self.session)
        assert r.status == 201, r
        j = r.json()
        self.key, self.key_id = j["key"], j["id"]
        return j


def register(s, email, password=PASSWORD, name="Jane Smith", timezone=None, **extra):
    body = {"email": email, "password": password, "name": name, **extra}
    if timezone is not None:
        body["timezone"] = timezone
    return call(s, "POST", "/api/auth/register", body)


def login(s, email, password=PASSWORD):
    return call(s, "POST", "/api/auth/login", {"email": email, "password": password})


def new_user(s, email, name="Jane Smith", password=PASSWORD, timezone=None, session=True, key=False):
    r = register(s, email, password, name, timezone)
    assert r.status == 201, r
    u = User(s, email, password, name, r.json())
    if session or key:
        u.login()
    if key:
        u.make_key()
    return u


# ----------------------------------------------------------------------------
# database


def count(db, table, where="true"):
    return int(db.sql(f"SELECT count(*) FROM {table} WHERE {where}")[0][0])


def snapshot(db, tables=ACCOUNT_TABLES):
    """The full content of the account tables, for 'nothing was written' checks."""
    parts = []
    for t in tables:
        rows = db.sql(f"SELECT coalesce(string_agg(x::text, E'\\n' ORDER BY x.id), '') FROM {t} x")
        parts.append(f"-- {t}\n{rows[0][0] if rows else ''}")
    return "\n".join(parts)


def all_db_text(db):
    """Every row of every table in the public schema, as text (a pg_dump-free 'whole database')."""
    tables = [r[0] for r in db.sql(
        "SELECT quote_ident(table_name) FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")]
    out = []
    for t in tables:
        rows = db.sql(f"SELECT coalesce(string_agg(x::text, E'\\n'), '') FROM {t} x")
        out.append(rows[0][0] if rows else "")
    return "\n".join(out)


# ----------------------------------------------------------------------------
# time


def ensure_window(min_left=8.0, window=60):
    """Rate limits count in windows aligned to the minute: make sure at least min_left
    seconds remain in the current one, sleeping into the next otherwise."""
    left = window - (time.time() % window)
    if left < min_left:
        time.sleep(left + 0.05)


def timed(fn):
    t = time.perf_counter()
    r = fn()
    return time.perf_counter() - t, r


def median(xs):
    return statistics.median(xs)
