"""The database goes away and comes back: /readyz follows, the process stays up."""

import time

from conftest import metric_value, request_bytes, wait_until


def test_db_outage_and_recovery(private_pg, slotd_factory):
    d = private_pg.create_db("outage")
    s = slotd_factory(database=d, env={
        "SLOTD_DB_CONNECT_TIMEOUT": "1",
        "SLOTD_DB_QUERY_TIMEOUT": "1",
        "SLOTD_DB_QUEUE_TIMEOUT": "1",
    })
    r = s.get("/readyz")
    assert r.status == 200 and r.json() == {"status": "ready"}
    # a keep-alive connection that lives through the outage
    st = s.stream()
    st.send(request_bytes("GET", "/readyz"))
    assert st.read_response().status == 200

    private_pg.stop("fast")

    def readyz_503():
        r = s.get("/readyz", timeout=5)
        return r if r.status == 503 else None
    r = wait_until(readyz_503, 10, interval=0.2, what="/readyz 503 after the database stopped")
    assert r.json() == {"error": "database unavailable", "code": "SERVICE_UNAVAILABLE"}, r.body
    assert r.header("Content-Type", "").startswith("application/json")
    assert r.header("X-Request-Id")

    # liveness is unaffected, the process stays up for a while
    assert s.get("/healthz").status == 200
    time.sleep(1.5)
    assert s.alive(), s.stderr()
    for _ in range(3):
        r = s.get("/readyz", timeout=5)
        assert r.status == 503, r
    st.send(request_bytes("GET", "/readyz"))
    r = st.read_response()
    assert r.status == 503 and r.json()["code"] == "SERVICE_UNAVAILABLE"
    wait_until(lambda: metric_value(s.metrics(), "slotd_db_pool_ready") == 0, 5, interval=0.2,
               what="slotd_db_pool_ready == 0 while the database is down")

    private_pg.start()
    wait_until(lambda: s.get("/readyz", timeout=5).status == 200, 15, interval=0.2,
               what="/readyz 200 after the database came back")
    assert s.get("/readyz").json() == {"status": "ready"}
    st.send(request_bytes("GET", "/readyz"))
    assert st.read_response().status == 200
    wait_until(lambda: metric_value(s.metrics(), "slotd_db_pool_ready") == 4, 15, interval=0.2,
               what="whole pool reconnected")
    assert s.alive()


def test_db_restart_while_idle(private_pg, slotd_factory):
    """A quick restart (connections broken under an idle pool) is noticed and healed."""
    d = private_pg.create_db("restart")
    s = slotd_factory(database=d, env={"SLOTD_DB_CONNECT_TIMEOUT": "1", "SLOTD_DB_QUERY_TIMEOUT": "1"})
    assert s.get("/readyz").status == 200
    private_pg.stop("immediate")
    private_pg.start()
    # within a bounded time every /readyz is 200 again (a few 503s in between are fine)
    wait_until(lambda: all(s.get("/readyz", timeout=5).status == 200 for _ in range(8)), 15, interval=0.2,
               what="/readyz 200 after a database restart")
    assert s.alive()


def test_sigterm_while_database_down(private_pg, slotd_factory):
    """Reconnect timers do not keep a draining process alive."""
    d = private_pg.create_db("down_stop")
    s = slotd_factory(database=d, env={"SLOTD_DB_CONNECT_TIMEOUT": "1", "SLOTD_SHUTDOWN_TIMEOUT": "10"})
    assert s.get("/readyz").status == 200
    private_pg.stop("fast")
    wait_until(lambda: s.get("/readyz", timeout=5).status == 503, 10, interval=0.2, what="/readyz 503")
    t0 = time.monotonic()
    s.signal()
    assert s.wait(10) == 0, s.stderr()[-3000:]
    assert time.monotonic() - t0 < 5
