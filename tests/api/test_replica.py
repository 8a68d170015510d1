"""Read replicas (issue 20): deploy/run-cluster 3 --replica — a primary, a streaming replica made
by pg_basebackup, three slotd with SLOTD_DATABASE_REPLICA_URL, haproxy. Availability is read from
the replica (the instances' metrics count it) while bookings go through the primary; a booking on
one instance disappears from the others' availability within the lag bound; racing bookings
never double-book; killing the replica in the middle of a stream of availability requests loses
none of them (reads fall back to the primary, /readyz stays ready, the metric says so)."""

import datetime as dt
import http.client
import subprocess
import threading
import time

import pytest

from booking_util import Host
from conftest import Response
from test_cluster import PGBIN, Cluster, _get, pytestmark  # noqa: F401 (skips without root/haproxy)

MAX_LAG = 2


class Port:
    """Enough of conftest.Slotd for the API helpers: requests to one address."""

    def __init__(self, port):
        self.host, self.port = "127.0.0.1", port

    def request(self, method, path, headers=None, body=None, timeout=15):
        c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return Response(r.status, r.reason, list(r.getheaders()), r.read())
        finally:
            c.close()

    def get(self, path, headers=None, timeout=15):
        return self.request("GET", path, headers=headers, timeout=timeout)


@pytest.fixture
def replicated():
    c = Cluster(3, env={"SLOTD_REPLICA_MAX_LAG": str(MAX_LAG), "SLOTD_CACHE_MAX_BYTES": "0",
                        "SLOTD_RATE_LIMIT_PUBLIC": "1000000", "SLOTD_RATE_LIMIT_AUTH": "1000000"},
                metrics=True, args=["--replica"])
    try:
        c.start()
        yield c
    finally:
        c.destroy()


def metrics(c, i):
    st, body = _get(c.metrics_port(i), "/metrics")
    assert st == 200
    out = {}
    for line in body.decode().splitlines():
        if line.startswith("slotd_replica_"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def starts(r):
    """The slot starts of an availability answer (format=range: {date: [{start, end, ...}]})."""
    v = r.json()["slots"]
    return [x["start"] for day in sorted(v) for x in v[day]] if isinstance(v, dict) else [x["start"] for x in v]


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_availability_from_the_replica(replicated):
    c = replicated
    lb = Port(c.lb_port)
    h = Host(lb, None)
    et = h.et(duration_minutes=30)
    day = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)).date().isoformat()
    path = f"/api/availability/{h.slug}/{et['slug']}?start={day}&end={day}&timezone=UTC&format=range"

    for i in (1, 2, 3):
        wait_for(lambda: metrics(c, i).get("slotd_replica_usable") == 1, 15, f"instance {i}: replica never usable")
    # the host changed just now (its event type): its reads stay on the primary for the lag
    # window, then go to the replica
    before = {i: metrics(c, i) for i in (1, 2, 3)}
    time.sleep(MAX_LAG + 2.5)
    slots = {}
    for i in (1, 2, 3):
        r = Port(c.instance_port(i)).get(path)
        assert r.status == 200, r
        slots[i] = starts(r)
        after = metrics(c, i)
        assert after['slotd_replica_reads_total{target="replica"}'] > \
            before[i]['slotd_replica_reads_total{target="replica"}'], (i, before[i], after)
    assert slots[1] == slots[2] == slots[3] and len(slots[1]) == 48

    # book through instance 1 while instances 2 and 3 keep reading: the slot leaves their
    # answers within the lag bound (at once, in fact: a host that just changed is read from the
    # primary)
    target = slots[1][10]
    stop = threading.Event()
    seen = {2: [], 3: []}

    def reader(i):
        p = Port(c.instance_port(i))
        while not stop.is_set():
            r = p.get(path)
            assert r.status == 200, r
            seen[i].append((time.monotonic(), target in starts(r)))

    threads = [threading.Thread(target=reader, args=(i,)) for i in (2, 3)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    booked_at = time.monotonic()
    r = Port(c.instance_port(1)).request("POST", f"/api/book/{h.slug}/{et['slug']}", headers={
        "Content-Type": "application/json"}, body=(
        '{"name": "Ann", "email": "ann@example.com", "timezone": "UTC", "start_time": "%s"}' % target).encode())
    done_at = time.monotonic()
    assert r.status == 201, r
    time.sleep(MAX_LAG + 1.5)
    stop.set()
    for t in threads:
        t.join()
    for i in (2, 3):
        offered_after = [t for t, offered in seen[i] if offered and t > done_at]
        last = max(offered_after) - done_at if offered_after else 0.0
        print(f"instance {i}: {len(seen[i])} reads, the booked slot last offered {last:.3f} s after the 201")
        assert last <= MAX_LAG + 1, seen[i]
        assert any(t > done_at and not offered for t, offered in seen[i])
    assert booked_at  # (the 201's time bounds the race from the other side)

    # racing bookings of one slot through the balancer: exactly one wins
    other = slots[1][20]
    results = []

    def book(n):
        rr = lb.request("POST", f"/api/book/{h.slug}/{et['slug']}", headers={"Content-Type": "application/json"},
                        body=('{"name": "R%d", "email": "r%d@example.com", "timezone": "UTC", "start_time": "%s"}'
                              % (n, n, other)).encode())
        results.append(rr.status)

    racers = [threading.Thread(target=book, args=(n,)) for n in range(8)]
    for t in racers:
        t.start()
    for t in racers:
        t.join()
    assert sorted(results) == [201] + [409] * 7, results
    r = h.call("GET", "/api/bookings")
    active = [b for b in r.json() if b["status"] in ("confirmed", "pending")]
    assert len(active) == 2 and len({b["start"] for b in active}) == 2

    # kill the replica in the middle of a stream of availability requests: none is lost
    time.sleep(MAX_LAG + 2.5)  # the host's reads are on the replica again
    before = {i: metrics(c, i) for i in (1, 2, 3)}
    stop.clear()
    statuses = []
    lock = threading.Lock()

    def hammer():
        p = Port(c.lb_port)
        while not stop.is_set():
            st = p.get(path).status
            with lock:
                statuses.append(st)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    with lock:
        n_before_kill = len(statuses)
    subprocess.run(["runuser", "-u", "postgres", "--", f"{PGBIN}/pg_ctl", "-D", str(c.state / "replica"), "-m",
                    "immediate", "-w", "stop"], cwd="/", check=True, capture_output=True, timeout=60)
    time.sleep(4.0)
    stop.set()
    for t in threads:
        t.join()
    print(f"availability through the kill: {len(statuses)} requests ({n_before_kill} before it), "
          f"statuses {sorted(set(statuses))}")
    assert statuses and set(statuses) == {200}, [s for s in statuses if s != 200][:10]
    assert len(statuses) > n_before_kill + 20
    for i in (1, 2, 3):
        m = metrics(c, i)
        assert m["slotd_replica_usable"] == 0, m
        assert m['slotd_replica_reads_total{target="primary"}'] > before[i]['slotd_replica_reads_total{target="primary"}']
        assert m['slotd_replica_reads_total{target="replica"}'] >= before[i]['slotd_replica_reads_total{target="replica"}']
        assert _get(c.instance_port(i), "/readyz")[0] == 200
    assert _get(c.lb_port, "/readyz")[0] == 200
    rc = c.stop()
    assert rc == 0, c.log()
