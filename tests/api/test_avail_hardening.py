"""Availability under hostile load (issue 10, findings 2 and 3).

2. The cache keeps whole response bodies per (slug, event, dates, zone, format): it must stay
   within SLOTD_CACHE_MAX_BYTES however many distinct keys an anonymous client asks for, free
   what has expired, and not keep a body larger than 1/64 of the budget.
3. Slot computation must not stall the event loop: a storm of uncached dense 62-day windows
   is computed on the threadpool, so no request fails for want of the loop (the pool's queue
   deadline used to expire: 503) and /healthz keeps answering at once.

The dense host: open around the clock every day, a 5-minute event type with 5-minute slots, no
notice, a long horizon: a 62-day window holds 17856 slots (about 1.6 MB as format=range).
"""

import concurrent.futures
import datetime as dt
import json
import socket
import struct
import subprocess
import sys
import threading
import time

from conftest import metric_value, request_bytes, wait_until
from sched_util import (NO_LIMITS, Host, check_range_offsets, expected, insert_reservation, range_instants,
                        times_format, today_utc, window)

DAY = dt.timedelta(days=1)
MiB = 1024 * 1024
# Every request of a storm comes from 127.0.0.1: no per-IP request or connection limit applies.
NO_LIMITS = dict(NO_LIMITS, SLOTD_MAX_CONNECTIONS_PER_IP="1000000")
ALL_DAY = [{"day": d, "start": "00:00", "end": "24:00"} for d in range(7)]
ZONES = [
    "UTC", "Europe/London", "Europe/Warsaw", "Europe/Moscow", "Europe/Lisbon", "Europe/Helsinki",
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo",
    "America/St_Johns", "America/Havana", "America/Santiago", "America/Asuncion", "America/Halifax",
    "Asia/Tokyo", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Tehran", "Asia/Shanghai", "Asia/Dubai",
    "Asia/Singapore", "Asia/Karachi", "Asia/Yangon", "Asia/Beirut", "Asia/Gaza", "Australia/Sydney",
    "Australia/Lord_Howe", "Australia/Adelaide", "Australia/Eucla", "Pacific/Auckland", "Pacific/Chatham",
    "Pacific/Kiritimati", "Pacific/Apia", "Pacific/Honolulu", "Africa/Nairobi", "Africa/Casablanca",
    "Atlantic/Azores", "Antarctica/Troll",
]


def dense_host(s, db):
    h = Host(s, db, timezone="America/New_York")
    h.set_default_schedule(timezone="America/New_York", rules=ALL_DAY)
    et = h.et(duration_minutes=5, slot_interval_minutes=5, min_notice_hours=0, max_future_days=400)
    return h, et


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def cache_gauges(s):
    m = s.metrics()
    return {
        "bytes": metric_value(m, "slotd_availability_cache_bytes"),
        "max": metric_value(m, "slotd_availability_cache_max_bytes"),
        "entries": metric_value(m, "slotd_availability_cache_entries"),
        "budget": metric_value(m, "slotd_availability_cache_evictions_total", reason="budget"),
        "expired": metric_value(m, "slotd_availability_cache_evictions_total", reason="expired"),
        "refused": metric_value(m, "slotd_availability_cache_refused_total"),
        "hits": metric_value(m, "slotd_availability_cache_hits_total"),
        "pool": metric_value(m, "slotd_availability_engine_jobs_total", where="threadpool"),
        "loop": metric_value(m, "slotd_availability_engine_jobs_total", where="loop"),
        "dropped": metric_value(m, "slotd_availability_engine_dropped_total"),
        "waiting": metric_value(m, "slotd_availability_engine_waiting"),
        "running": metric_value(m, "slotd_availability_engine_running"),
    }


def get(s, path, timeout=60):
    return s.request("GET", path, timeout=timeout)


# ----------------------------------------------------------------------------
# 2. the cache's byte budget

BUDGET = 4 * MiB
# What the process may grow by beyond the budget during the storm: requests in flight (8
# clients, each answer up to 1.6 MB, held while it is built and again in the connection's write
# buffer), allocator slack and, in the sanitizer build, ASan's (here shrunk) quarantine.
# Measured: +9 MiB (release build), +16 MiB (sanitizers); the count-bounded cache kept every
# body and grew by 81 MiB.
RSS_MARGIN = 40 * MiB


def test_cache_stays_within_its_byte_budget_under_a_zone_scanning_storm(slotd_factory, db):
    s = slotd_factory(env=dict(NO_LIMITS, SLOTD_CACHE_MAX_BYTES=BUDGET, SLOTD_LOG_LEVEL="warn",
                               ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:quarantine_size_mb=8"))
    h, et = dense_host(s, db)
    d0 = today_utc() + 2 * DAY
    # distinct keys: every zone x 4 start dates x (small windows the cache may keep, and large
    # ones over its 1/64 share of the budget); about 13 MB of cacheable bodies, 70 MB of large
    paths = []
    for zone in ZONES:
        for k in range(4):
            start = d0 + k * DAY
            for days, fmt in ((1, "times"), (3, "times"), (7, "times"), (1, "range")):
                paths.append(h.avail_path(et["slug"], start, start + (days - 1) * DAY, zone, fmt))
        paths.append(h.avail_path(et["slug"], d0, d0 + 61 * DAY, zone, "range"))
        paths.append(h.avail_path(et["slug"], d0, d0 + 61 * DAY, zone, "times"))
    # warm-up: zones loaded, buffers grown, so that RSS measures the cache
    for zone in ZONES:
        assert get(s, h.avail_path(et["slug"], d0 - DAY, d0 - DAY, zone)).status == 200
    r = get(s, h.avail_path(et["slug"], d0 - DAY, d0 + 60 * DAY, "UTC", "range"))
    assert r.status == 200 and len(r.body) > 1_400_000, len(r.body)
    g = cache_gauges(s)
    assert g["max"] == BUDGET
    rss0 = rss_kib(s.pid)

    samples, stop = [], threading.Event()

    def monitor():
        while not stop.is_set():
            samples.append((cache_gauges(s)["bytes"], rss_kib(s.pid)))
            time.sleep(0.05)

    mon = threading.Thread(target=monitor)
    mon.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            statuses = list(ex.map(lambda p: get(s, p).status, paths))
    finally:
        stop.set()
        mon.join()
    assert statuses == [200] * len(paths)
    g = cache_gauges(s)
    samples.append((g["bytes"], rss_kib(s.pid)))
    peak_bytes = max(b for b, _ in samples)
    peak_rss = max(r for _, r in samples)
    assert peak_bytes <= BUDGET, f"cache held {peak_bytes} bytes, budget {BUDGET}"
    assert g["bytes"] > BUDGET // 2, g  # it was used, not bypassed
    assert g["budget"] > 0, f"nothing was evicted to stay within the budget: {g}"
    assert g["refused"] >= 2 * len(ZONES), f"62-day bodies (> budget/64) should not be cached: {g}"
    growth = (peak_rss - rss0) * 1024
    assert growth < BUDGET + RSS_MARGIN, \
        f"RSS grew by {growth / MiB:.1f} MiB (from {rss0 / 1024:.1f} MiB), budget {BUDGET / MiB} MiB + margin"

    # the newest keys are still served from the cache, and this instance's own write drops them
    hits = g["hits"]
    last = paths[-3]  # the last zone's last 1-day range answer
    a = get(s, last)
    assert a.status == 200 and cache_gauges(s)["hits"] == hits + 1
    h.et_put(et["id"], description="drops this host's cache")
    b = get(s, last)
    assert b.body == a.body and b.header("ETag") == a.header("ETag")
    assert cache_gauges(s)["hits"] == hits + 1


def test_expired_entries_are_freed(slotd_factory, db):
    """Entries die at the next minute boundary or when a hold in them expires; a hold expiring
    in a few seconds lets the test see them freed without waiting for a minute."""
    s = slotd_factory(env=dict(NO_LIMITS, SLOTD_CACHE_MAX_BYTES=BUDGET))
    h, et = dense_host(s, db)
    d = today_utc() + 3 * DAY
    noon = int(dt.datetime(d.year, d.month, d.day, 12, tzinfo=dt.timezone.utc).timestamp())
    expires = time.time() + 4
    insert_reservation(db, h.id, et["id"], noon, noon + 300, int(expires) + 1)
    time.sleep(0.3)  # its NOTIFY
    base = cache_gauges(s)
    paths = [h.avail_path(et["slug"], d, d, z) for z in ZONES[:20]]
    for p in paths:
        r = get(s, p)
        assert r.status == 200
    g = cache_gauges(s)
    if time.time() < expires:  # (a slow run may already be past it)
        assert g["entries"] == 20, g
        assert g["bytes"] > base["bytes"] + 20 * 2000
    while time.time() < int(expires) + 1.2:
        time.sleep(0.1)
    g = cache_gauges(s)  # a scrape sweeps
    assert g["entries"] == 0, g
    assert g["bytes"] == base["bytes"], g  # back to the empty table
    assert g["expired"] >= base["expired"] + 20, g
    # the hold is gone: the slot is back, computed afresh
    r = get(s, paths[0])
    assert "12:00" in r.json()["slots"][d.isoformat()]


def test_zero_budget_turns_the_cache_off(slotd_factory, db):
    s = slotd_factory(env=dict(NO_LIMITS, SLOTD_CACHE_MAX_BYTES=0))
    h, et = dense_host(s, db)
    d = today_utc() + 2 * DAY
    p = h.avail_path(et["slug"], d, d, "Asia/Kathmandu", "range")
    a, b = get(s, p), get(s, p)
    assert a.status == b.status == 200 and a.body == b.body and a.header("ETag") == b.header("ETag")
    g = cache_gauges(s)
    assert g["hits"] == 0 and g["entries"] == 0 and g["bytes"] == 0 and g["max"] == 0, g


def test_cache_settings_are_validated():
    from conftest import run_slotd
    for var, bad in (("SLOTD_CACHE_MAX_BYTES", "-1"), ("SLOTD_CACHE_MAX_BYTES", "64M"),
                     ("SLOTD_ENGINE_THREADS", "65"), ("SLOTD_ENGINE_THREADS", "x")):
        r = run_slotd(["serve"], env={var: bad, "SLOTD_DATABASE_URL": "host=127.0.0.1 port=1 dbname=x"})
        assert r.returncode != 0 and var in r.stderr, (var, bad, r.stderr)


# ----------------------------------------------------------------------------
# 3. the engine off the event loop

STORM = 160
HEALTHZ_P99_MS = 50
# Enough connections that the pool can have the whole storm in flight at once (16 pipelined
# queries each): this test is about the event loop. (db/pool.c sends a queued query only when
# another is queued or a connection comes up, not when a pipeline slot frees, so a burst larger
# than its capacity waits for the next request or fails after SLOTD_DB_QUEUE_TIMEOUT.)
STORM_DB_POOL = 10

# /healthz, probed from a separate process (the storm's client threads share this one's GIL):
# one keep-alive connection, a request every 5 ms until stdin closes; prints the latencies (ms).
PROBER = r"""
import http.client, json, select, sys, time
c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=30)
lat = []
while not select.select([sys.stdin], [], [], 0.005)[0]:
    t = time.monotonic()
    c.request("GET", "/healthz")
    r = c.getresponse()
    r.read()
    lat.append(((time.monotonic() - t) * 1000, r.status))
print(json.dumps(lat))
"""


def test_dense_storm_neither_fails_nor_stalls_the_loop(slotd_factory, db):
    s = slotd_factory(env=dict(NO_LIMITS, SLOTD_LOG_LEVEL="warn", SLOTD_DB_POOL=STORM_DB_POOL))
    h, et = dense_host(s, db)
    d0 = today_utc() + 2 * DAY
    # STORM distinct uncached 62-day windows: zones x start dates, 3 in 4 as format=range
    paths = []
    for i in range(STORM):
        start = d0 + (i // len(ZONES)) * DAY
        fmt = "times" if i % 4 == 3 else "range"
        paths.append(h.avail_path(et["slug"], start, start + 61 * DAY, ZONES[i % len(ZONES)], fmt))
    assert len(set(paths)) == STORM
    assert get(s, h.avail_path(et["slug"], d0, d0, "UTC")).status == 200  # warm-up
    before = cache_gauges(s)

    prober = subprocess.Popen([sys.executable, "-c", PROBER, s.host, str(s.port)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    go = threading.Barrier(STORM)

    def one(p):
        c = s.http(timeout=60)
        try:
            c.connect()
            go.wait(30)
            c.request("GET", p)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    t0 = time.monotonic()
    try:
        time.sleep(0.3)  # the prober's baseline
        with concurrent.futures.ThreadPoolExecutor(STORM) as ex:
            results = list(ex.map(one, paths))
        time.sleep(0.2)
    finally:
        out, _ = prober.communicate("stop\n", timeout=30)
    took = time.monotonic() - t0
    lat = json.loads(out)
    statuses = [st for st, _ in results]
    assert not [x for x in statuses if x >= 500], f"5xx during the storm: {sorted(statuses)}"
    assert statuses == [200] * STORM, sorted(set(statuses))
    assert all(st == 200 for _, st in lat)
    ms = sorted(x for x, _ in lat)
    assert len(ms) >= 20, f"only {len(ms)} /healthz probes in {took:.1f} s"
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    assert p99 < HEALTHZ_P99_MS, f"/healthz p99 {p99:.1f} ms during the storm (max {ms[-1]:.1f}, n {len(ms)})"
    assert took < 60, took
    g = cache_gauges(s)
    assert g["pool"] >= before["pool"] + STORM, g  # every dense window left the loop
    # byte for byte what a quiet server answers (range bodies are too large to be cached, so
    # these are computed again; no notice and a long horizon: `now` does not change them)
    for i in (0, 1, 3, STORM - 1):
        r = get(s, paths[i])
        assert r.status == 200 and r.body == results[i][1], paths[i]
    assert len(results[0][1]) > 1_400_000


def test_large_windows_computed_off_the_loop_answer_as_the_oracle(slotd_factory, db):
    """A dense 62-day window goes to the threadpool, a one-day one stays on the loop; both
    answer what the independent calculator says, and explain=1 lists every grid time."""
    s = slotd_factory(env=NO_LIMITS)
    h, et = dense_host(s, db)
    d0 = today_utc() + 2 * DAY
    d1 = d0 + 61 * DAY
    b0 = int(dt.datetime(d0.year, d0.month, d0.day, 10, tzinfo=dt.timezone.utc).timestamp()) + 5 * 86400
    booking = h.book(et["id"], b0, b0 + 300)
    hold = insert_reservation(db, h.id, et["id"], b0 + 3600, b0 + 3900, int(time.time()) + 600)
    sched = h.default_schedule()
    ev = {"id": et["id"], "duration": 5, "interval": 5, "min_notice_hours": 0, "max_future_days": 400}
    busy = [{"start": b0, "end": b0 + 300, "bb": 0, "ba": 0, "et": et["id"], "seats": 1, "kind": "booking"},
            {"start": b0 + 3600, "end": b0 + 3900, "bb": 0, "ba": 0, "et": et["id"], "seats": 1, "kind": "reservation"}]
    time.sleep(0.3)  # NOTIFY of the SQL inserts
    before = cache_gauges(s)
    for zone in ("Australia/Lord_Howe", "America/Santiago", "Asia/Kathmandu"):
        f, t = window(zone, d0, d1)
        exp = expected(sched["timezone"], sched["rules"], sched["overrides"], ev, busy, time.time(), f, t)
        assert len(exp) > 17000
        r = get(s, h.avail_path(et["slug"], d0, d1, zone))
        assert r.status == 200
        assert r.json()["slots"] == times_format([x[0] for x in exp], zone), zone
        rr = get(s, h.avail_path(et["slug"], d0, d1, zone, "range"))
        sl = rr.json()["slots"]
        check_range_offsets(sl, zone)
        assert sorted(range_instants(sl)) == [(a, b) for a, b, _ in exp], zone
        by_id = get(s, f"/api/event-types/{et['id']}/slots?start={d0}&end={d1}&timezone={zone}&format=range")
        assert by_id.body == rr.body and by_id.header("ETag") == rr.header("ETag")
    g = cache_gauges(s)
    assert g["pool"] >= before["pool"] + 9, g
    small = get(s, h.avail_path(et["slug"], d0, d0, "UTC"))
    assert small.status == 200 and cache_gauges(s)["loop"] == g["loop"] + 1

    x = h.avail(et["slug"], d0, d1, "UTC", explain=True, auth="host")
    assert x.status == 200, x
    j = x.json()
    assert set(j) == {"slots", "explain"}
    assert len(j["explain"]) == 62 * 288  # every grid time of the 62 days
    by_start = {it["start"]: it for it in j["explain"]}
    t = dt.datetime.fromtimestamp(b0, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert by_start[t]["reason"] == "booking" and by_start[t]["booking_id"] == booking
    t = dt.datetime.fromtimestamp(b0 + 3600, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert by_start[t]["reason"] == "reservation" and by_start[t]["reservation_id"] == hold
    offered = [it for it in j["explain"] if it["offered"]]
    assert len(offered) == 62 * 288 - 2 and all(it["seats_remaining"] == 1 for it in offered)
    assert j["slots"] == get(s, h.avail_path(et["slug"], d0, d1, "UTC")).json()["slots"]
    assert cache_gauges(s)["pool"] >= g["pool"] + 1


def test_clients_that_leave_while_waiting_are_not_computed_for(slotd_factory, db):
    """server.h's policy for reads: a request whose client has gone gets no further work. A
    job still waiting for an engine thread is released; one already running finishes and its
    answer is discarded; the process stays clean (the fixture checks the sanitizers' verdict)."""
    s = slotd_factory(env=dict(NO_LIMITS, SLOTD_ENGINE_THREADS=1))
    h, et = dense_host(s, db)
    d0 = today_utc() + 2 * DAY
    socks = []
    for i in range(60):
        start = d0 + (i // len(ZONES)) * DAY
        sk = s.connect()
        sk.sendall(request_bytes("GET", h.avail_path(et["slug"], start, start + 61 * DAY, ZONES[i % len(ZONES)], "range")))
        socks.append(sk)
    try:
        wait_until(lambda: cache_gauges(s)["waiting"] > 5, 20, interval=0.005, what="jobs waiting for the engine")
    finally:
        for sk in socks:  # a reset: gone (a FIN alone is a half-close that still waits for its answer)
            sk.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sk.close()
    wait_until(lambda: (lambda g: g["waiting"] == 0 and g["running"] == 0)(cache_gauges(s)), 30, what="no job left")
    g = cache_gauges(s)
    assert g["dropped"] > 0, g
    assert get(s, h.avail_path(et["slug"], d0, d0 + 61 * DAY, "UTC", "range")).status == 200
