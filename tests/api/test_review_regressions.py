"""Regressions for defects a code review found (each test failed, or crashed slotd, before its fix).

- a long non-ASCII webhook secret overflowed a fixed stack buffer while signing;
- orphaned requests (password hashes, idempotency waits) outlived the pool and server at
  shutdown (use after free);
- a booking could pass the version check while a schedule change that had bumped the version
  was still uncommitted;
- a 5xx after a booking's write was sent released the Idempotency-Key, so a retry ran again;
- the webhook deliveries page offset overflowed;
- the idempotency request hash ignored the query string.
"""
import signal
import threading
import time

from accounts_util import NO_LIMITS, PASSWORD, call, new_user
from booking_util import Host, HostLock, count_rows, day_at, env  # noqa: F401  (env: fixture)
from conftest import Slotd
from webhook_util import LOCAL_ENV, Receiver, WEnv, WHost, check_slotd_signature


def test_long_unicode_webhook_secret_is_signed(pg, tmp_path_factory):
    e = WEnv(pg, tmp_path_factory.mktemp("rr-secret"), "rr_secret", {**LOCAL_ENV})
    rcv = Receiver()
    try:
        host = WHost(e.s)
        secret = "é" * 250  # 250 characters, 500 bytes
        hook = host.hook(rcv.url(), ["ping"], secret=secret)
        host.ping(hook["id"])
        rcv.wait_count(1)
        check_slotd_signature(rcv.snapshot()[0], secret)
        assert e.s.alive()
    finally:
        rcv.close()
        e.close()  # clean exit, no sanitizer report


def test_shutdown_waits_for_orphaned_password_hashes(pg, tmp_path_factory):
    db = pg.create_db("rr_orphans")
    s = Slotd(tmp_path_factory.mktemp("rr-orphans"), db.url,
              env={**NO_LIMITS, "SLOTD_PASSWORD_CONCURRENCY": "1", "SLOTD_SHUTDOWN_TIMEOUT": "0.3"}, name="rr_orphans")
    s.start()
    try:
        user = new_user(s, "orphan@example.com", session=False)
        assert user.id
        results = []

        def login():
            try:
                results.append(call(s, "POST", "/api/auth/login", {"email": "orphan@example.com", "password": PASSWORD},
                                    timeout=30).status)
            except Exception as exc:  # the connection is closed under it: expected
                results.append(type(exc).__name__)

        threads = [threading.Thread(target=login) for _ in range(12)]
        for t in threads:
            t.start()
        time.sleep(0.3)  # hashes queued one at a time
        s.signal(signal.SIGTERM)
        for t in threads:
            t.join(60)
        s.check_clean_exit()  # exit 0 and no use-after-free report
    finally:
        s.kill()
        db.drop()


def test_booking_waits_for_an_uncommitted_schedule_change(env):
    host = Host(env.s, env.db)
    et = host.et()
    sid = [x for x in host.schedules() if x["is_default"] in (1, True)][0]["id"]
    lock = HostLock(env.db, 0)  # a psql session; the advisory lock on 0 is unrelated
    try:
        # the host closes every day, uncommitted: the trigger has bumped the version
        lock._run(f"BEGIN; UPDATE availability_schedules SET rules = '[]' WHERE id = {sid};", "updated")
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("r", host.book_req(et, day_at(3, 10))))
        t.start()
        time.sleep(1.0)
        lock._run("COMMIT;", "committed")
        t.join(30)
    finally:
        lock.release()
    r = out["r"]
    assert r.status == 400, r  # decided again on the committed change: no longer a bookable time
    assert count_rows(env.db, "bookings", f"host_id = {host.id}") == 0


def test_idempotency_outcome_unknown_is_not_run_again(pg, tmp_path_factory):
    db = pg.create_db("rr_idem")
    s = Slotd(tmp_path_factory.mktemp("rr-idem"), db.url,
              env={**NO_LIMITS, "SLOTD_DB_QUERY_TIMEOUT": "1"}, name="rr_idem")
    s.start()
    try:
        host = Host(s, db)
        et = host.et()
        start = day_at(4, 11)
        lock = HostLock(db, host.id)  # the versioned write waits on the host's lock past the query timeout
        try:
            r1 = host.book_req(et, start, headers={"Idempotency-Key": "K-unknown"})
        finally:
            time.sleep(1.5)
            lock.release()
        assert r1.status == 503, r1
        time.sleep(0.5)
        r2 = host.book_req(et, start, headers={"Idempotency-Key": "K-unknown"})
        assert r2.status == 409 and r2.json()["code"] == "IDEMPOTENCY_OUTCOME_UNKNOWN", r2
        assert count_rows(db, "bookings", f"host_id = {host.id}") <= 1
        s.check_clean_exit()
    finally:
        s.kill()
        db.drop()


def test_deliveries_page_is_bounded(env):
    host = Host(env.s, env.db)
    r = host.call("POST", "/api/webhooks", {"url": "https://example.com/h", "events": ["ping"]})
    assert r.status == 201, r
    r = host.call("GET", f"/api/webhooks/{r.json()['id']}/deliveries?limit=200&page=999999999999999999")
    assert r.status == 400 and r.json()["field"] == "page", r


def test_idempotency_hash_covers_the_query(env):
    host = Host(env.s, env.db)
    et = host.et()
    b = host.book(et, day_at(5, 9))
    num = b["confirmation_number"]
    k = {"Idempotency-Key": "K-query"}
    r1 = call(env.s, "POST", f"/api/bookings/confirmation/{num}/cancel?contact=wrong@example.com", headers=k)
    assert r1.status == 404, r1
    r2 = call(env.s, "POST", f"/api/bookings/confirmation/{num}/cancel?contact=bob@example.com", headers=k)
    assert r2.status == 422, r2  # the same key with a different request, not a replayed 404
