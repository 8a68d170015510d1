"""Helpers shared by the booking tests (issue 5): a module-wide slotd, hosts whose calendar is
open around the clock in UTC (so any future half hour is a bookable slot), public booking,
host actions, concurrency with a start barrier, and the database invariant checks.

Everything goes through the real HTTP API; the database is used only to look at rows, to
read the host's confirm link from the event log, and to move bookings into the past.
"""

import datetime as dt
import http.client
import itertools
import json
import re
import threading
import time

import pytest

from accounts_util import NO_LIMITS, assert_error, call, new_user  # noqa: F401 (re-exported)
from conftest import Response, Slotd

UTC = dt.timezone.utc
HEX64 = re.compile(r"[0-9a-f]{64}")
CONF_RE = re.compile(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SEED_TS = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)")
OPEN_ALL_WEEK = [{"day": d, "start": "00:00", "end": "24:00"} for d in range(7)]

_seq = itertools.count(1)


def unique(prefix="x"):
    return f"{prefix}{int(time.time() * 1000) % 10**8}{next(_seq)}"


# ----------------------------------------------------------------------------
# a slotd + database shared by the tests of one module


class Env:
    pass


def make_env(pg, tmp_path_factory, name, extra=None):
    db = pg.create_db(name)
    s = Slotd(tmp_path_factory.mktemp("slotd"), db.url, env={**NO_LIMITS, "SLOTD_DB_POOL": "8", **(extra or {})},
              name=name)
    s.start()
    e = Env()
    e.s, e.db = s, db
    return e


def close_env(e):
    try:
        e.s.check_clean_exit()
    finally:
        e.s.kill()
        e.db.drop()


@pytest.fixture(scope="module")
def env(pg, tmp_path_factory, request):
    """One slotd (no rate limits, pool of 8) on a fresh database for the whole module."""
    e = make_env(pg, tmp_path_factory, request.module.__name__.split(".")[-1])
    try:
        yield e
    finally:
        close_env(e)


# ----------------------------------------------------------------------------
# time


def day_at(days=3, hour=10, minute=0):
    """A UTC instant `days` days from today at hour:minute (whole days keep it on the grid)."""
    d = dt.datetime.now(UTC).date() + dt.timedelta(days=days)
    return dt.datetime(d.year, d.month, d.day, tzinfo=UTC) + dt.timedelta(hours=hour, minutes=minute)


def iso(t):
    """aware datetime or Unix seconds -> '2026-03-10T19:00:00Z'."""
    if not isinstance(t, dt.datetime):
        t = dt.datetime.fromtimestamp(t, UTC)
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(s):
    assert RFC3339.fullmatch(s), s
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


# ----------------------------------------------------------------------------
# hosts


class Host:
    """A registered user (timezone UTC) with an API key, whose default schedule is open
    00:00-24:00 every day unless open_all_week=False."""

    def __init__(self, s, db, open_all_week=True, timezone="UTC"):
        self.s = s
        self.db = db
        tag = unique("b")
        self.email = f"{tag}@example.com"
        self.user = new_user(s, self.email, name=f"Host {tag}", timezone=timezone, key=True)
        self.auth = self.user.api_key
        self.session = self.user.session
        self.id = self.user.id
        self.slug = self.user.slug
        if open_all_week:
            self.set_rules(OPEN_ALL_WEEK)

    def call(self, method, path, body=None, auth=None, **kw):
        return call(self.s, method, path, body, auth=auth or self.auth, **kw)

    def schedules(self):
        r = self.call("GET", "/api/availability-schedules")
        assert r.status == 200, r
        return r.json()

    def set_rules(self, rules, tz="UTC"):
        sid = [x for x in self.schedules() if x["is_default"] in (1, True)][0]["id"]
        r = self.call("PUT", f"/api/availability-schedules/{sid}", {"rules": rules, "timezone": tz})
        assert r.status == 200, r

    def et(self, **fields):
        fields.setdefault("name", unique("Meeting "))
        fields.setdefault("min_notice_hours", 0)
        r = self.call("POST", "/api/event-types", fields)
        assert r.status == 201, r
        return r.json()

    def et_put(self, et_id, **fields):
        r = self.call("PUT", f"/api/event-types/{et_id}", fields)
        assert r.status == 200, r
        return r.json()

    # -- public booking --
    def book_path(self, et):
        return f"/api/book/{self.slug}/{et['slug']}"

    def book_req(self, et, start, headers=None, **fields):
        body = {"name": "Bob Johnson", "email": "bob@example.com"}
        if start is not None:
            body["start_time"] = iso(start)
        body.update(fields)
        return call(self.s, "POST", self.book_path(et), body, headers=headers)

    def book(self, et, start, **fields):
        r = self.book_req(et, start, **fields)
        assert r.status == 201, r
        return r.json()["booking"]

    # -- host side --
    def get(self, bid, auth=None):
        return self.call("GET", f"/api/bookings/{bid}", auth=auth)

    def booking(self, bid):
        r = self.get(bid)
        assert r.status == 200, r
        return r.json()

    def act(self, bid, action, body=None, auth=None, **kw):
        return self.call("POST", f"/api/bookings/{bid}/{action}", body, auth=auth, **kw)

    def list(self, query="", auth=None):
        return self.call("GET", "/api/bookings" + (f"?{query}" if query else ""), auth=auth)

    # -- database --
    def confirm_token(self, booking_id):
        """The host's confirm/decline token of a pending booking, from its booking.requested event."""
        rows = self.db.sql(
            "SELECT payload->'data'->'booking'->>'confirm_url', payload->'data'->'booking'->>'decline_url' "
            f"FROM events WHERE booking_id = {int(booking_id)} AND type = 'booking.requested'")
        assert len(rows) == 1, rows
        curl, durl = rows[0]
        m = re.fullmatch(r"https?://[^/]+/api/bookings/([0-9a-f]{64})/confirm", curl)
        assert m, curl
        assert durl == curl[: -len("confirm")] + "decline", (curl, durl)
        return m.group(1)

    def move(self, booking_id, start, end):
        """Move a booking in time behind the API's back (e.g. into the past)."""
        self.db.sql(f"UPDATE bookings SET start_at = '{iso(start)}', end_at = '{iso(end)}' WHERE id = {int(booking_id)}")


def status_of(db, booking_id):
    return db.sql(f"SELECT status FROM bookings WHERE id = {int(booking_id)}")[0][0]


def count_rows(db, table, where="true"):
    return int(db.sql(f"SELECT count(*) FROM {table} WHERE {where}")[0][0])


# ----------------------------------------------------------------------------
# invariants


def overlapping_active(db):
    """Pairs of active (pending/confirmed) non-seated bookings of one host whose times overlap."""
    return db.sql(
        "SELECT a.host_id, a.id, b.id, a.start_at, a.end_at, b.start_at, b.end_at FROM bookings a JOIN bookings b "
        "ON a.host_id = b.host_id AND a.id < b.id "
        "AND a.start_at < b.end_at AND b.start_at < a.end_at "
        "JOIN event_types ea ON ea.id = a.event_type_id JOIN event_types eb ON eb.id = b.event_type_id "
        "WHERE a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed') "
        "AND NOT (a.seated AND b.seated AND a.event_type_id = b.event_type_id AND a.start_at = b.start_at)")


def assert_no_double_booking(db):
    pairs = overlapping_active(db)
    assert pairs == [], f"overlapping active bookings: {pairs}"
    # seated slots never hold more seats than the event type offers
    over = db.sql(
        "SELECT b.event_type_id, b.start_at, sum(b.seats), max(e.seats) FROM bookings b "
        "JOIN event_types e ON e.id = b.event_type_id WHERE b.status IN ('pending', 'confirmed') AND b.seated "
        "GROUP BY b.event_type_id, b.start_at HAVING sum(b.seats) > max(e.seats)")
    assert over == [], f"over-sold seated slots: {over}"


# ----------------------------------------------------------------------------
# concurrency


def concurrently(s, requests, timeout=30):
    """Send requests [(method, path, body or None, headers or None[, target Slotd])] at once:
    each on its own connection (to `s` unless the request names another instance), opened
    before a barrier that releases them together. Returns the Responses in order."""
    n = len(requests)
    barrier = threading.Barrier(n)
    out = [None] * n

    def worker(i, method, path, body, headers, target=None):
        c = None
        target = target or s
        try:
            c = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
            c.connect()
            h = dict(headers or {})
            data = None
            if body is not None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                h.setdefault("Content-Type", "application/json")
            elif method == "POST":
                data = b""
            barrier.wait(timeout)
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            out[i] = Response(r.status, r.reason, list(r.getheaders()), r.read())
        except Exception as e:  # noqa: BLE001 - reported by the caller
            out[i] = e
        finally:
            if c:
                c.close()

    threads = [threading.Thread(target=worker, args=(i, *req)) for i, req in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 10)
    errors = [x for x in out if not isinstance(x, Response)]
    assert not errors, f"requests failed: {errors[:3]}"
    return out


def statuses(responses):
    d = {}
    for r in responses:
        d[r.status] = d.get(r.status, 0) + 1
    return d


# ----------------------------------------------------------------------------
# client addresses: the self-service routes allow 10 attempts a minute per IP, so every test
# that uses them speaks from a loopback address of its own (127.0.0.0/8 all reaches the server)

_ips = itertools.count(1)


def next_ip():
    n = next(_ips)
    return f"127.{(n >> 8) & 255}.{n & 255}.{(n % 200) + 2}"


def wait_until_gone(db, table, where, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if count_rows(db, table, where) == 0:
            return
        time.sleep(0.25)
    raise AssertionError(f"rows of {table} where {where} still there after {timeout}s")


# ----------------------------------------------------------------------------
# holding a host's advisory lock from outside, to stop a write between its decision and its
# SQL function (the function waits on pg_advisory_xact_lock(host)), and change things meanwhile


class HostLock:
    """A psql session holding pg_advisory_lock(host_id) until release(sql)."""

    def __init__(self, db, host_id):
        import subprocess
        from conftest import PGBIN
        c = db.cluster
        self.db = db
        self.host_id = int(host_id)
        self.p = subprocess.Popen(
            [f"{PGBIN}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", c.host, "-p", str(c.port), "-U", "postgres",
             "-d", db.name], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._run(f"SELECT pg_advisory_lock({self.host_id});", "locked")

    def _run(self, sql, marker):
        self.p.stdin.write(f"{sql}\n\\echo {marker}\n")
        self.p.stdin.flush()
        out = []
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise AssertionError(f"psql ended: {''.join(out)}")
            if line.strip() == marker:
                return "".join(out)
            out.append(line)

    def waiters(self):
        """Sessions waiting for this lock."""
        return int(self.db.sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            f"AND objid = {self.host_id & 0xffffffff} AND classid = {self.host_id >> 32}")[0][0])

    def wait_for_waiter(self, n=1, timeout=10):
        deadline = time.monotonic() + timeout
        while self.waiters() < n:
            if time.monotonic() > deadline:
                raise AssertionError("nobody queued on the host's lock")
            time.sleep(0.02)

    def release(self, sql=""):
        out = self._run(f"{sql}\nSELECT pg_advisory_unlock({self.host_id});", "released")
        self.close()
        return out

    def close(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            self.p.wait(10)


def in_thread(fn):
    """Run fn() in a thread; returns a join() that gives its result (or raises its exception)."""
    box = {}

    def run():
        try:
            box["v"] = fn()
        except BaseException as e:  # noqa: BLE001
            box["e"] = e

    t = threading.Thread(target=run)
    t.start()

    def join(timeout=30):
        t.join(timeout)
        assert not t.is_alive(), "request did not finish"
        if "e" in box:
            raise box["e"]
        return box["v"]

    return join
