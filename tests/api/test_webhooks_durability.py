"""Webhook durability (issue 6): retries live in the database, not in memory, and several
instances share the work without making any attempt twice.

- kill -9 slotd while a retry is pending; start it again on the same database: the retry is made
  at its persisted time and the delivery completes (and a delivery written while no slotd ran is
  sent at start).
- Two instances on one database, events created through both, a receiver that fails some first
  attempts: every event is delivered, and the receiver's request count per webhook-id equals the
  attempts in the delivery log (no attempt made twice), and the instances' logs agree.
- SIGTERM while a receiver holds a delivery: prompt clean exit; the attempt is made again (same
  webhook-id) once its lease has run out.
- A retry that falls due while PostgreSQL is down is made when it is back.
"""

import collections
import datetime as dt
import threading
import time

from conftest import wait_until
from webhook_util import (LOCAL_ENV, Receiver, WHost, attempt_logs, check_signatures, delivery_rows, next_slot,
                          parse_iso)


def test_kill9_with_pending_retry_then_restart(db, slotd_factory):
    rcv = Receiver(statuses=[500])
    try:
        env = {**LOCAL_ENV, "SLOTD_WEBHOOK_RETRY_SCHEDULE": "3,3"}
        a = slotd_factory(env=env, name="first")
        h = WHost(a, open_all_week=False)
        hook = h.hook(rcv.url("/k"), ["ping"])
        did = h.ping(hook["id"])
        rcv.wait_count(1)
        row = wait_until(lambda: [r for r in delivery_rows(db, f"id = {did}") if r["status"] == "pending"
                                  and r["attempts"] == 1], 5, what="the first attempt recorded")[0]
        assert row["last_status"] == 500, row
        due = parse_iso(db.sql(f"SELECT to_char(next_attempt_at AT TIME ZONE 'UTC', "
                               f"'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM webhook_deliveries WHERE id = {did}")[0][0])
        assert due > dt.datetime.now(dt.timezone.utc), "the retry should still be pending"
        a.kill()  # SIGKILL: nothing is flushed, nothing cleaned up
        a.checked = True
        assert a.proc.returncode == -9
        # while no slotd runs, a delivery is written (the same SQL the API uses)
        did2 = int(db.sql(f"SELECT (api.webhook_ping({h.id}, {hook['id']}))->>'delivery_id'")[0][0])
        assert rcv.count() == 1
        b = slotd_factory(env=env, name="second")
        reqs = rcv.wait(lambda rs: {r.delivery_id for r in rs if r.status == 200} >= {did, did2}, timeout=15,
                        what="the pending retry and the new ping")
        d = h.via(b)
        first = d.wait_delivery(hook["id"], did)
        assert first["status"] == "delivered" and first["attempts"] == 2, first
        second = d.wait_delivery(hook["id"], did2)
        assert second["status"] == "delivered" and second["attempts"] == 1, second
        mine = [r for r in reqs if r.delivery_id == did]
        assert [r.status for r in mine] == [500, 200], mine
        assert mine[0].body == mine[1].body and mine[0].msg_id == mine[1].msg_id == f"msg_{did}"
        # the retry waited for its persisted time (the receiver's clock is this machine's clock)
        assert mine[1].t >= due.timestamp() - 0.05, (mine[1].t, due)
        check_signatures([(r, hook["secret"]) for r in reqs])
        assert len(reqs) == 3, reqs
    finally:
        rcv.close()


def test_two_instances_every_event_once_per_attempt(db, slotd_factory):
    tries = collections.Counter()

    def decide(i, req):
        # the first attempt of every third message fails (500); everything answers after 20 ms
        tries[req.msg_id] += 1
        fail = req.delivery_id is not None and req.delivery_id % 3 == 0 and tries[req.msg_id] == 1
        return (500 if fail else 200, [], b"ok", 0.02)

    rcv = Receiver(decide=decide)
    env = {**LOCAL_ENV, "SLOTD_WEBHOOK_CONCURRENCY": "4", "SLOTD_LOG_LEVEL": "debug"}
    try:
        a = slotd_factory(env=env, name="a")
        b = slotd_factory(env=env, name="b")
        ha = WHost(a)
        hb = WHost(b)
        hooks = [ha.hook(rcv.url("/a1")), ha.hook(rcv.url("/a2")), hb.hook(rcv.url("/b1"))]
        et_a, et_b = ha.et(), hb.et()
        expected = 0
        for i in range(12):
            # each host books through the other instance, and acts through its own
            for host, et, via, nhooks in ((ha, et_a, b, 2), (hb, et_b, a, 1)):
                bk = host.via(via).book(et, next_slot())
                expected += nhooks
                if i % 4 == 0:
                    assert host.act(bk["id"], "cancel").status == 200
                    expected += nhooks
        for hk, host in ((hooks[0], ha), (hooks[2], hb)):
            for k in range(6):
                host.via((a, b)[k % 2]).ping(hk["id"])
                expected += 1
        rows = delivery_rows(db)
        assert len(rows) == expected, (len(rows), expected)
        wait_until(lambda: int(db.sql("SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered'")[0][0])
                   == 0, 40, interval=0.2, what="every delivery delivered")
        rows = delivery_rows(db)
        reqs = rcv.snapshot()
        per_msg = collections.Counter(r.msg_id for r in reqs)
        # every event delivered...
        assert {f"msg_{r['id']}" for r in rows} == set(per_msg), "a delivery never reached the receiver"
        ok = {r.msg_id for r in reqs if r.status == 200}
        assert ok == set(per_msg)
        # ...and no attempt made twice: receiver requests == attempts in the log, per delivery
        assert sum(per_msg.values()) == sum(r["attempts"] for r in rows), "receiver requests != attempts"
        for r in rows:
            want = 2 if r["id"] % 3 == 0 else 1
            assert r["attempts"] == want and per_msg[f"msg_{r['id']}"] == want, (r, per_msg[f"msg_{r['id']}"])
        # the instances' logs (debug: successes too) agree, and both instances did some of the work
        wait_until(lambda: sum(sum(c.values()) for c in
                               [collections.Counter(l["delivery"] for l in attempt_logs(s)) for s in (a, b)])
                   >= sum(per_msg.values()), 3, what="attempt log lines")
        logs = {s.name: collections.Counter(l["delivery"] for l in attempt_logs(s)) for s in (a, b)}
        both = logs["a"] + logs["b"]
        assert sum(both.values()) == sum(per_msg.values()), logs
        for r in rows:
            assert both[str(r["id"])] == r["attempts"], (r, logs["a"][str(r["id"])], logs["b"][str(r["id"])])
        assert logs["a"] and logs["b"], f"one instance did all the work: {logs}"
        assert rcv.max_active <= 8, f"more than 2 x SLOTD_WEBHOOK_CONCURRENCY in flight: {rcv.max_active}"
        # signatures hold whichever instance signed
        secrets = {f"/{n}": h["secret"] for n, h in zip(("a1", "a2", "b1"), hooks)}
        check_signatures([(r, secrets[r.path]) for r in reqs[:20]])
    finally:
        rcv.close()


def test_sigterm_during_a_hanging_delivery(db, slotd_factory):
    """A receiver that holds the request does not hold up shutdown; the unfinished attempt is
    made again once its lease runs out (expired here behind slotd's back instead of waiting 60 s),
    with the same webhook-id."""
    release = threading.Event()
    rcv = Receiver()
    orig = rcv._decide

    def hold_first(item):
        d = orig(item)
        if len(rcv.requests) == 0:  # the first request hangs until the test lets go
            release.wait(30)
        return d
    rcv._decide = hold_first
    try:
        env = {**LOCAL_ENV, "SLOTD_WEBHOOK_TIMEOUT": "30"}
        a = slotd_factory(env=env, name="first")
        h = WHost(a, open_all_week=False)
        hook = h.hook(rcv.url("/hang"), ["ping"])
        did = h.ping(hook["id"])
        wait_until(lambda: rcv.connections >= 1, 5, what="the delivery to start")
        time.sleep(0.2)
        t = time.monotonic()
        a.check_clean_exit()  # SIGTERM, exit 0, no sanitizer report
        assert time.monotonic() - t < 8, "shutdown waited for the hanging receiver"
        row = delivery_rows(db, f"id = {did}")[0]
        assert row["status"] in ("pending", "delivering") and row["attempts"] == 1, row
        release.set()
        db.sql(f"UPDATE webhook_deliveries SET lease_until = now() - interval '1 second' WHERE id = {did}")
        b = slotd_factory(env=env, name="second")
        d = h.via(b).wait_delivery(hook["id"], did, timeout=10)
        assert d["status"] == "delivered" and d["attempts"] == 2, d
        reqs = [r for r in rcv.snapshot() if r.delivery_id == did]
        assert len(reqs) == 2 and reqs[0].msg_id == reqs[1].msg_id == f"msg_{did}", reqs
        check_signatures([(r, hook["secret"]) for r in reqs])
    finally:
        release.set()
        rcv.close()


def test_retry_due_during_a_database_outage(private_pg, slotd_factory):
    """A retry that falls due while PostgreSQL is down is made once the database is back."""
    database = private_pg.create_db("outage")
    rcv = Receiver(statuses=[500])
    try:
        s = slotd_factory(env={**LOCAL_ENV, "SLOTD_WEBHOOK_RETRY_SCHEDULE": "2"}, database=database)
        h = WHost(s, open_all_week=False)
        hook = h.hook(rcv.url("/outage"), ["ping"])
        did = h.ping(hook["id"])
        wait_until(lambda: [r for r in delivery_rows(database, f"id = {did}") if r["status"] == "pending"
                            and r["attempts"] == 1], 5, what="the first attempt recorded")
        private_pg.stop()
        try:
            time.sleep(3.5)  # the retry falls due meanwhile
            assert rcv.count() == 1
        finally:
            private_pg.start()
        d = h.wait_delivery(hook["id"], did, timeout=20)
        assert d["status"] == "delivered" and d["attempts"] == 2, d
        reqs = rcv.snapshot()
        assert [r.status for r in reqs] == [500, 200] and reqs[0].msg_id == reqs[1].msg_id, reqs
        check_signatures([(r, hook["secret"]) for r in reqs])
    finally:
        rcv.close()
