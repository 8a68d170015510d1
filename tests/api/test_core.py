"""The api/ core (issue 9): one response path and one booking core.

- Every native JSON response (success and error) leaves in one byte format (compact JSON, as
  jansson's JSON_COMPACT writes it) and numbers round-trip exactly: a price of 19.99 reads
  19.99 from POST, PUT and GET alike, in the raw bytes.
- A CHECK constraint the request breaks is a 400 naming the column, never a 500, and changes
  nothing.
- Availability and booking can address an event type by id, with the same answers as the
  slug pair.
- The orphan policy of src/http/server.h: a read whose client has gone is dropped; a write
  runs to completion and its Idempotency-Key replays the outcome.
"""

import datetime as dt
import json
import os
import socket
import subprocess
import time

from booking_util import Host, call, count_rows, day_at, env, iso, unique  # noqa: F401 (env is a fixture)
from conftest import PGBIN, metric_value, request_bytes, wait_until


def insignificant_whitespace(raw):
    """Offsets of whitespace outside JSON strings (the one byte format has none)."""
    out, in_str, esc = [], False, False
    for i, c in enumerate(raw.decode()):
        if in_str:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in " \t\r\n":
            out.append(i)
    return out


def assert_one_format(r):
    assert r.header("Content-Type", "").startswith("application/json"), r
    json.loads(r.body)  # valid
    assert insignificant_whitespace(r.body) == [], r.body
    # and the same bytes jansson's JSON_COMPACT would write (Python's compact dump, where the
    # numbers print alike)
    if b"." not in r.body:
        assert r.body == json.dumps(json.loads(r.body), separators=(",", ":"), ensure_ascii=False).encode(), r.body


# ----------------------------------------------------------------------------- byte format


def test_price_round_trips_exactly_in_raw_bytes(env):
    h = Host(env.s, env.db)
    r = h.call("POST", "/api/event-types", {"name": unique("Paid "), "price": 19.99, "currency": "USD"})
    assert r.status == 201, r
    assert b'"price":19.99,' in r.body, r.body
    assert_one_format(r)
    et = r.json()
    r = h.call("PUT", f"/api/event-types/{et['id']}", {"price": 0.1, "description": "x"})
    assert r.status == 200 and b'"price":0.10,' in r.body, r.body
    assert_one_format(r)
    r = h.call("PUT", f"/api/event-types/{et['id']}", {"price": 19.99})
    assert r.status == 200 and b'"price":19.99,' in r.body, r.body
    r = h.call("GET", f"/api/event-types/{et['id']}")
    assert r.status == 200 and b'"price":19.99,' in r.body, r.body
    assert_one_format(r)
    r = h.call("GET", "/api/event-types")
    assert r.status == 200 and b'"price":19.99,' in r.body, r.body
    assert_one_format(r)
    r = call(env.s, "GET", f"/api/public/{h.slug}")
    assert r.status == 200 and b'"price":19.99,' in r.body, r.body
    assert_one_format(r)


def test_every_kind_of_response_has_one_format(env):
    h = Host(env.s, env.db)
    et = h.et(name=unique("Fmt "), questions=[{"id": "q1", "label": "Why? \u00e9\u4e2d", "type": "text"}])
    start = day_at(3, 10)
    responses = [
        h.call("GET", "/api/auth/me"),
        h.call("GET", "/api/availability-schedules"),
        h.call("GET", "/api/booking-page"),
        h.call("POST", "/api/availability-schedules", {"name": "Second", "rules": [
            {"day": 1, "start": "09:00", "end": "12:00"}, {"day": 1, "start": "11:00", "end": "13:00"}]}),
        call(env.s, "GET", f"/api/availability/{h.slug}/{et['slug']}?start={start:%Y-%m-%d}&end={start:%Y-%m-%d}"),
        call(env.s, "GET", f"/api/availability/{h.slug}/{et['slug']}?start=2026-01-01&end=bad"),  # 400
        call(env.s, "GET", "/api/availability/nobody-here/x?start=2026-01-01&end=2026-01-02"),  # 404
        h.book_req(et, start, answers={"q1": "because \u00e9"}),
        h.book_req(et, start),  # 409 with next_slots
        h.call("GET", "/api/bookings"),
        h.call("POST", "/api/event-types", {"name": ""}),  # 400 naming the field
        call(env.s, "GET", "/api/no/such/route"),
        h.call("POST", "/api/webhooks", {"url": "ftp://x", "events": ["booking.created"]}),
    ]
    statuses = [r.status for r in responses]
    assert statuses[:5] == [200, 200, 200, 201, 200], responses
    assert statuses[5:7] == [400, 404], responses
    assert statuses[7:] == [201, 409, 200, 400, 404, 400], responses
    for r in responses:
        assert_one_format(r)
    assert responses[8].json()["next_slots"], responses[8]


# ----------------------------------------------------------------------------- CHECK -> 400


def test_check_constraint_becomes_400_naming_the_column(env):
    h = Host(env.s, env.db)
    et = h.et(name=unique("Check "))
    # A rule only the database knows: the API must answer 400 naming the column, not 500.
    cname = f"event_types_description_check_{os.getpid()}"
    env.db.sql(f"ALTER TABLE event_types ADD CONSTRAINT event_types_description_check "
               f"CHECK (description IS NULL OR length(description) < 10) NOT VALID")
    try:
        r = h.call("PUT", f"/api/event-types/{et['id']}", {"description": "far too long a description"})
        assert r.status == 400, r
        assert_one_format(r)
        e = r.json()
        assert e["code"] == "VALIDATION_FAILED" and e["field"] == "description", e
        got = env.db.sql(f"SELECT coalesce(description, '<null>') FROM event_types WHERE id = {et['id']}")
        assert got == [["<null>"]], got  # nothing changed
        r = h.call("PUT", f"/api/event-types/{et['id']}", {"description": "short"})
        assert r.status == 200, r
    finally:
        env.db.sql("ALTER TABLE event_types DROP CONSTRAINT event_types_description_check")
    assert cname  # (the constraint name PostgreSQL reports is the one above)


# ----------------------------------------------------------------------------- by event type id


def test_availability_and_booking_by_event_type_id(env):
    h = Host(env.s, env.db)
    et = h.et(name=unique("ById "))
    start = day_at(4, 9)
    q = f"start={start:%Y-%m-%d}&end={start:%Y-%m-%d}&timezone=Europe/Warsaw&format=range"
    by_slug = call(env.s, "GET", f"/api/availability/{h.slug}/{et['slug']}?{q}")
    by_id = call(env.s, "GET", f"/api/event-types/{et['id']}/slots?{q}")
    assert by_slug.status == 200 and by_id.status == 200, (by_slug, by_id)
    assert by_id.body == by_slug.body
    assert by_id.header("ETag") == by_slug.header("ETag")
    assert len(by_id.json()["slots"]) >= 1
    r = call(env.s, "POST", f"/api/event-types/{et['id']}/book",
             {"name": "Ann", "email": "Ann@Example.com", "start_time": iso(start)})
    assert r.status == 201, r
    b = r.json()["booking"]
    assert b["event_type_id"] == et["id"] and b["invitee_email"] == "ann@example.com", b
    assert len(b["cancel_token"]) == 64 and len(b["reschedule_token"]) == 64
    # the slot is gone from both views at once
    again = call(env.s, "GET", f"/api/event-types/{et['id']}/slots?{q}")
    starts = [dt.datetime.fromisoformat(x["start"]) for day in again.json()["slots"].values() for x in day]
    assert start not in starts and start + dt.timedelta(minutes=30) in starts, starts
    r = call(env.s, "POST", f"/api/event-types/{et['id']}/book",
             {"name": "Ann", "email": "ann@example.com", "start_time": iso(start)})
    assert r.status == 409 and r.json()["next_slots"], r
    # a hold by id
    r = call(env.s, "POST", "/api/reservations", {"event_type_id": et["id"], "start_time": iso(day_at(4, 11))})
    assert r.status == 201, r
    # unknown, malformed and deleted ids: 404, nothing written
    n = count_rows(env.db, "bookings")
    for path in ("/api/event-types/999999999/slots?" + q, "/api/event-types/abc/slots?" + q):
        assert call(env.s, "GET", path).status == 404
    r = call(env.s, "POST", "/api/event-types/999999999/book",
             {"name": "Ann", "email": "ann@example.com", "start_time": iso(start)})
    assert r.status == 404, r
    assert h.call("DELETE", f"/api/event-types/{et['id']}").status == 200
    assert call(env.s, "GET", f"/api/event-types/{et['id']}/slots?{q}").status == 404
    assert count_rows(env.db, "bookings") == n


# ----------------------------------------------------------------------------- orphan policy


class Locker:
    """A psql session holding a table lock until release()."""

    def __init__(self, db, table):
        cl = db.cluster
        cmd = [f"{PGBIN}/psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", cl.host, "-p", str(cl.port),
               "-U", "postgres", "-d", db.name]
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        self.p.stdin.write(f"BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE; SELECT 'locked';\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline().strip()
        if line != "locked":
            self.p.kill()
            raise AssertionError(f"could not lock {table}: {line!r}")

    def release(self):
        self.p.stdin.write("COMMIT;\n")
        self.p.stdin.close()
        self.p.wait(timeout=30)


def send_and_leave(s, method, path, body=None, headers=None):
    """Sends a request and closes the connection without reading the answer."""
    data = json.dumps(body).encode() if body is not None else b""
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    sock.sendall(request_bytes(method, path, headers=hdrs, body=data))
    time.sleep(0.3)  # let the server read it and send its query
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()


def leave_while_locked(env, table, method, path, body=None, headers=None, hold=0.0):
    """Sends a request whose statement waits behind a lock on `table`, resets the connection
    while it waits (hold: seconds more before the lock goes), then lets the statement run."""
    lock = Locker(env.db, table)
    try:
        send_and_leave(env.s, method, path, body, headers=headers)
        time.sleep(hold)
    finally:
        lock.release()


def orphans(s, outcome):
    return metric_value(s.metrics(), "slotd_orphaned_requests_total", outcome=outcome) or 0


def test_orphaned_read_is_dropped(env):
    h = Host(env.s, env.db)
    et = h.et(name=unique("Orphan "))
    day = day_at(5, 0)
    before = orphans(env.s, "dropped")
    # the engine's read waits behind a lock on event_types
    leave_while_locked(env, "event_types", "GET",
                       f"/api/availability/{h.slug}/{et['slug']}?start={day:%Y-%m-%d}&end={day:%Y-%m-%d}")
    wait_until(lambda: orphans(env.s, "dropped") > before, 10, what="the read to be dropped")
    # the server is fine and the cache holds nothing from the dropped read
    r = call(env.s, "GET", f"/api/availability/{h.slug}/{et['slug']}?start={day:%Y-%m-%d}&end={day:%Y-%m-%d}")
    assert r.status == 200, r


def test_orphaned_write_completes_and_its_key_replays(env):
    h = Host(env.s, env.db)
    et = h.et(name=unique("OrphanW "))
    start = day_at(6, 14)
    key = unique("idem-")
    body = {"name": "Zed", "email": "zed@example.com", "start_time": iso(start)}
    before = orphans(env.s, "completed")
    # only the write (its event row) waits behind a lock on events
    leave_while_locked(env, "events", "POST", h.book_path(et), body, headers={"Idempotency-Key": key}, hold=0.5)
    wait_until(lambda: orphans(env.s, "completed") > before, 10, what="the write to complete")
    rows = env.db.sql(f"SELECT id FROM bookings WHERE event_type_id = {et['id']}")
    assert len(rows) == 1, rows
    # the client comes back with the same key: the answer it missed
    r = call(env.s, "POST", h.book_path(et), body, headers={"Idempotency-Key": key})
    assert r.status == 201 and r.header("Idempotent-Replayed") == "true", r
    assert r.json()["booking"]["id"] == int(rows[0][0])


def test_orphaned_read_releases_its_idempotency_key(env):
    h = Host(env.s, env.db)
    et = h.et(name=unique("OrphanK "))
    start = day_at(7, 15)
    key = unique("idem-")
    body = {"name": "Kay", "email": "kay@example.com", "start_time": iso(start)}
    # the booking's read waits behind a lock on event_types; nothing is written
    leave_while_locked(env, "event_types", "POST", h.book_path(et), body, headers={"Idempotency-Key": key})
    wait_until(lambda: count_rows(env.db, "idempotency_keys", "status IS NULL") == 0, 10,
               what="the placeholder to be released")
    # a retry runs at once (no "still in progress", no stored 499) and books
    r = call(env.s, "POST", h.book_path(et), body, headers={"Idempotency-Key": key})
    assert r.status == 201 and r.header("Idempotent-Replayed") is None, r


def test_orphan_during_idempotency_begin_releases_the_key(env):
    h = Host(env.s, env.db)
    et = h.et(name=unique("OrphanI "))
    start = day_at(8, 16)
    key = unique("idem-")
    body = {"name": "Ida", "email": "ida@example.com", "start_time": iso(start)}
    # idem_begin's insert waits behind a lock on idempotency_keys
    leave_while_locked(env, "idempotency_keys", "POST", h.book_path(et), body, headers={"Idempotency-Key": key})
    wait_until(lambda: count_rows(env.db, "idempotency_keys", "status IS NULL") == 0, 10,
               what="the placeholder to be released")
    t0 = time.monotonic()
    r = call(env.s, "POST", h.book_path(et), body, headers={"Idempotency-Key": key})
    assert r.status == 201 and time.monotonic() - t0 < 5, r


def test_half_closed_client_still_gets_its_whole_answer(env):
    h = Host(env.s, env.db)
    et = h.et(name=unique("Half "), slot_interval_minutes=5, duration_minutes=5)
    day = day_at(2, 0)
    path = f"/api/availability/{h.slug}/{et['slug']}?start={day:%Y-%m-%d}&end={day + dt.timedelta(days=20):%Y-%m-%d}&format=range"
    full = call(env.s, "GET", path)
    assert full.status == 200 and len(full.body) > 100000, len(full.body)
    sock = socket.create_connection(("127.0.0.1", env.s.port), timeout=10)
    sock.sendall(request_bytes("GET", path, headers={"Connection": "close"}))
    sock.shutdown(socket.SHUT_WR)  # done sending; still waiting for the answer
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    head, _, got = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:100]
    assert got == full.body


def test_secret_event_types_are_not_reachable_by_id(env):
    h = Host(env.s, env.db)
    et = h.et(name=unique("Secret "), is_secret=True, location_type="zoom", location_value="https://zoom.example/j/1")
    start = day_at(5, 9)
    q = f"start={start:%Y-%m-%d}&end={start:%Y-%m-%d}"
    assert call(env.s, "GET", f"/api/event-types/{et['id']}/slots?{q}").status == 404
    r = call(env.s, "POST", f"/api/event-types/{et['id']}/book",
             {"name": "Eve", "email": "eve@example.com", "start_time": iso(start)})
    assert r.status == 404, r
    r = call(env.s, "POST", "/api/reservations", {"event_type_id": et["id"], "start_time": iso(start)})
    assert r.status == 404, r
    # its link (the slug pair) still works, and so do its bookings' own flows
    assert call(env.s, "GET", f"/api/availability/{h.slug}/{et['slug']}?{q}").status == 200
    b = h.book(et, start)
    r = h.act(b["id"], "reschedule", {"start_time": iso(start + dt.timedelta(hours=1))})
    assert r.status == 200, r


def test_cached_configuration_never_outlives_a_change_made_elsewhere(pg, db, slotd_factory):
    """Each instance caches an event type's configuration (settings, schedule) and reads only busy
    time on a miss; the busy read returns the host's config_version from the same snapshot, so a
    schedule changed through another instance is seen at once, whatever NOTIFY's timing."""
    from accounts_util import NO_LIMITS
    a = slotd_factory(env=NO_LIMITS, name="a")
    b = slotd_factory(env=NO_LIMITS, name="b")
    h = Host(a, db)
    et = h.et(name=unique("Cfg "))
    start = day_at(6, 10)
    q = f"start={start:%Y-%m-%d}&end={start:%Y-%m-%d}&timezone=UTC"
    r = call(a, "GET", f"/api/availability/{h.slug}/{et['slug']}?{q}")
    assert r.status == 200 and "10:00" in r.json()["slots"][f"{start:%Y-%m-%d}"], r
    hits = metric_value(a.metrics(), "slotd_engine_config_cache_hits_total")
    r = call(a, "GET", f"/api/availability/{h.slug}/{et['slug']}?start={start:%Y-%m-%d}&end={start:%Y-%m-%d}&timezone=Asia/Tokyo")
    assert r.status == 200 and metric_value(a.metrics(), "slotd_engine_config_cache_hits_total") == hits + 1
    # close the host's hours through instance b, then book through a at a formerly free time
    sid = [x for x in h.schedules() if x["is_default"] in (1, True)][0]["id"]
    r = call(b, "PUT", f"/api/availability-schedules/{sid}", {"rules": [{"day": 0, "start": "00:00", "end": "01:00"}]},
             auth=h.auth)
    assert r.status == 200, r
    r = call(a, "POST", f"/api/book/{h.slug}/{et['slug']}",
             {"name": "Cy", "email": "cy@example.com", "start_time": iso(start)})
    assert r.status == 400 and r.json()["field"] == "start_time", r
    assert count_rows(db, "bookings", f"event_type_id = {et['id']}") == 0
