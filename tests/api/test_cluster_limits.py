"""Rate limits hold across instances (issue 20): deploy/run-cluster 3 (PostgreSQL, three slotd,
haproxy). A key limited to 60 a minute gets 60 (±10%) in total through the balancer, not 180,
paced or in a burst; with PostgreSQL down each instance falls back to counting alone — a limit
per instance, never no limit, and never a 503 for a rate-limit reason.

Every phase uses keys of its own (another API key's user, another client address), so all run in
one minute window."""

import http.client
import json
import subprocess
import threading
import time

import pytest

from test_cluster import PGBIN, Cluster, _get, _get_from, pytestmark  # noqa: F401 (skips without root/haproxy)

LIMIT = 60


@pytest.fixture
def three():
    c = Cluster(3, env={"SLOTD_RATE_LIMIT_PUBLIC": str(LIMIT), "SLOTD_RATE_LIMIT_AUTH": str(LIMIT)}, metrics=True)
    try:
        c.start()
        yield c
    finally:
        c.destroy()


def _call(port, method, path, body=None, headers=None, source="127.0.0.1"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=15, source_address=(source, 0))
    try:
        h = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        body = r.read()
        return r.status, body, r.msg  # headers, case-insensitive
    finally:
        c.close()


def _api_key(c, email):
    """A user and an API key, made through the balancer from an address of its own."""
    st, body, _ = _call(c.lb_port, "POST", "/api/auth/register",
                        {"email": email, "password": "correct horse battery", "name": "Kay"}, source="127.0.0.9")
    assert st == 201, body
    st, body, h = _call(c.lb_port, "POST", "/api/auth/login", {"email": email, "password": "correct horse battery"},
                        source="127.0.0.9")
    assert st == 200, body
    cookie = h["Set-Cookie"].split(";")[0]
    st, body, _ = _call(c.lb_port, "POST", "/api/api-keys", {"label": "limits"}, {"Cookie": cookie}, source="127.0.0.9")
    assert st == 201, body
    return json.loads(body)["key"]


def _sync_metric(c, i):
    st, body = _get(c.metrics_port(i), "/metrics")
    assert st == 200
    text = body.decode()
    ok = [l for l in text.splitlines() if l.startswith('slotd_rate_limit_syncs_total{result="ok"}')]
    live = [l for l in text.splitlines() if l.startswith("slotd_rate_limit_instances ")]
    return float(ok[0].split()[-1]), int(float(live[0].split()[-1]))


def test_limits_are_cluster_wide(three):
    c = three
    key = _api_key(c, "kay@example.com")
    for i in (1, 2, 3):  # every instance syncs and sees the other two
        deadline = time.monotonic() + 10
        while _sync_metric(c, i)[1] != 3:
            assert time.monotonic() < deadline, f"instance {i} does not see 3 live instances"
            time.sleep(0.1)
    # one window for all three phases (each with keys of its own): at least 35 s left in it
    left = 60 - time.time() % 60
    if left < 35:
        time.sleep(left + 0.1)
    window = int(time.time() // 60)

    # 1. an API key's user, paced: 120 requests over ~10 s, spread by haproxy over three instances
    statuses = []
    for n in range(120):
        st, _, h = _call(c.lb_port, "GET", "/api/event-types", headers={"X-API-Key": key}, source="127.0.0.2")
        statuses.append(st)
        if st == 429:
            assert int(h["Retry-After"]) >= 1
        time.sleep(0.08)
    admitted = statuses.count(200)
    print(f"paced: {admitted} of 120 admitted (limit {LIMIT}/min over 3 instances)")
    assert set(statuses) <= {200, 429}, statuses
    assert LIMIT * 0.9 <= admitted <= LIMIT * 1.1, statuses

    # 2. a client address, in a burst: 150 requests from 30 threads at once
    results = []
    lock = threading.Lock()

    def burst():
        for _ in range(5):
            st, _ = _get_from("127.0.0.3", c.lb_port, "/api/public/nobody")
            with lock:
                results.append(st)

    threads = [threading.Thread(target=burst) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    admitted = results.count(404)
    print(f"burst: {admitted} of 150 admitted")
    assert set(results) <= {404, 429}, results
    assert 1 <= admitted <= LIMIT * 1.1, results

    # 3. PostgreSQL down: each instance counts alone — per instance, not unlimited, no 503 from the limiter
    pgdata = c.state / "pgdata"
    subprocess.run(["runuser", "-u", "postgres", "--", f"{PGBIN}/pg_ctl", "-D", str(pgdata), "-m", "immediate",
                    "-w", "stop"], cwd="/", check=True, capture_output=True, timeout=60)
    time.sleep(0.5)  # the next syncs fail: every instance is alone
    assert all(_sync_metric(c, i)[1] == 1 for i in (1, 2, 3))
    per = {1: [], 2: [], 3: []}
    for n in range(80):  # straight to each instance (haproxy would take them out: /readyz fails)
        for i in (1, 2, 3):
            st, _, h = _call(c.instance_port(i), "GET", "/api/public/nobody", source="127.0.0.4")
            per[i].append((st, h.get("Retry-After")))
    assert int(time.time() // 60) == window, "the phases ran over the minute: rerun"
    for i, rs in per.items():
        codes = [st for st, _ in rs]
        limited = codes.count(429)
        assert set(codes) <= {503, 429}, codes  # 503: admitted, the database is down
        assert LIMIT - 1 <= codes.count(503) <= LIMIT + 1, (i, codes)  # its own limit, not none
        assert limited >= 80 - LIMIT - 1 and all(ra for st, ra in rs if st == 429)
