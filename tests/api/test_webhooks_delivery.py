"""Webhook deliveries (issue 6) to real local receivers: an HTTP one and an HTTPS one (Python
http.server + ssl, certificates from a test CA made with the openssl CLI and given to slotd via
SLOTD_WEBHOOK_CA_FILE). Both signatures are verified on every request: X-Slotd-Signature in
Python, the Standard Webhooks headers with the `standardwebhooks` npm package run by Node.js.

Covers headers and payloads, event order for create -> reschedule -> cancel, every booking event,
subscription filters, retries (500, 500, 200), a receiver that is down, TLS failures (wrong host
name, unknown CA), timeouts, redirects, slow receivers, redelivery, the SSRF guard at delivery
time, and the outbox (a rolled-back booking sends nothing).

The module's slotd: SLOTD_WEBHOOK_ALLOW_HTTP=1, SLOTD_WEBHOOK_ALLOW_PRIVATE=1 (the receivers are
local), SLOTD_WEBHOOK_RETRY_SCHEDULE=1,1,1, SLOTD_WEBHOOK_TIMEOUT=2.
"""

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import itertools
import json
import re
import socket
import threading
import time

import pytest

from conftest import wait_until
from webhook_util import (BOOKING_EVENTS, LOCAL_ENV, RFC3339, SEED_TS, VALID_EVENTS, Pki, Receiver, WEnv, WHost,
                          check_signatures, check_slotd_signature, closed_port, count, delivery_rows, ensure_standardwebhooks,
                          iso, next_slot, parse_iso, slotd_version, standard_verify, wait_attempt_logs)

SCHEDULE = [1, 1, 1]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def node():
    return ensure_standardwebhooks()


@pytest.fixture(scope="module")
def env(pg, tmp_path_factory, pki, node):
    e = WEnv(pg, tmp_path_factory.mktemp("wh-delivery"), "wh_delivery",
             {**LOCAL_ENV, "SLOTD_WEBHOOK_CA_FILE": pki.ca, "SLOTD_WEBHOOK_TIMEOUT": "2",
              "SLOTD_WEBHOOK_RETRY_SCHEDULE": ",".join(map(str, SCHEDULE))})
    yield e
    e.close()


@pytest.fixture
def host(env):
    return WHost(env.s)


@pytest.fixture
def receivers():
    made = []

    def make(**kw):
        r = Receiver(**kw)
        made.append(r)
        return r
    yield make
    for r in made:
        r.close()


def by_event(reqs, event):
    return [r for r in reqs if r.header("X-Slotd-Event") == event]


def check_common_headers(rec, event, delivery_id=None):
    assert rec.method == "POST"
    assert (rec.header("Content-Type") or "").split(";")[0].strip() == "application/json", rec.headers
    assert rec.header("User-Agent") == f"slotd/{slotd_version()}", rec.headers
    assert rec.header("X-Slotd-Event") == event, rec.headers
    assert int(rec.header("Content-Length")) == len(rec.body)
    for name in ("X-Slotd-Signature", "X-Slotd-Event", "webhook-id", "webhook-timestamp", "webhook-signature",
                 "Host", "User-Agent", "Content-Type", "Content-Length"):
        assert len(rec.header_all(name)) == 1, (name, rec.headers)
    if delivery_id is not None:
        assert rec.header("webhook-id") == f"msg_{delivery_id}", rec.headers
    j = rec.json()
    assert set(j) == {"event", "created_at", "data"}, j
    assert j["event"] == event
    assert RFC3339.fullmatch(j["created_at"]), j
    assert abs((parse_iso(j["created_at"]) - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 120
    return j


def check_booking_payload(j, booking, et_name):
    b = j["data"]["booking"]
    assert set(j["data"]) == {"booking"}, j
    for k in ("id", "uid", "invitee_name", "invitee_email", "start_time", "end_time", "status", "timezone",
              "start", "end"):
        assert k in b, (k, b)
    assert b["id"] == booking["id"] and b["uid"] == booking["uid"], (b, booking)
    assert b["event_type"] == et_name, b
    assert b["invitee_name"] == "Bob Johnson" and b["invitee_email"] == "bob@example.com", b
    assert SEED_TS.fullmatch(b["start_time"]) and SEED_TS.fullmatch(b["end_time"]), b
    assert RFC3339.fullmatch(b["start"]) and RFC3339.fullmatch(b["end"]), b
    assert b["timezone"] == booking["timezone"], b
    return b


# ----------------------------------------------------------------------------
# signatures, headers, payloads


def test_http_delivery_signed_and_complete(env, host, receivers):
    rcv = receivers()
    hook = host.hook(rcv.url("/in?src=slotd"), list(VALID_EVENTS))
    secret = hook["secret"]
    assert secret.startswith("whsec_")
    et = host.et()
    start = next_slot()
    booking = host.book(et, start)
    reqs = rcv.wait_count(1)
    assert len(reqs) == 1
    rec = reqs[0]
    assert rec.path == "/in?src=slotd"
    assert rec.header("Host") == f"127.0.0.1:{rcv.port}"
    [d] = delivery_rows(env.db, f"webhook_id = {hook['id']}")
    j = check_common_headers(rec, "booking.created", d["id"])
    b = check_booking_payload(j, booking, et["name"])
    assert b["status"] == "confirmed"
    assert parse_iso(b["start"]) == start and parse_iso(b["end"]) == start + dt.timedelta(minutes=30)
    assert rec.body == d["payload"].encode(), "the bytes sent differ from the stored payload"
    check_signatures([(rec, secret)])
    # the delivery log
    logd = host.wait_delivery(hook["id"], d["id"])
    assert logd["status"] == "delivered" and logd["attempts"] == 1 and logd["last_status"] == 200, logd
    assert logd["last_error"] is None and logd["next_attempt_at"] is None, logd
    assert RFC3339.fullmatch(logd["delivered_at"]) and isinstance(logd["last_duration_ms"], int), logd
    # the event log row carries the same payload
    ev = env.db.sql(f"SELECT type, payload::text FROM events WHERE id = {d['event_id']}")
    assert ev[0][0] == "booking.created"
    assert json.loads(ev[0][1]) == j


def test_signatures_reject_tampering(env, host, receivers):
    """The verifiers are real: a changed body, a wrong secret or a replayed id fail."""
    rcv = receivers()
    hook = host.hook(rcv.url(), ["ping"])
    host.ping(hook["id"])
    rec = rcv.wait_count(1)[0]
    check_signatures([(rec, hook["secret"])])
    hdrs = {k.lower(): v for k, v in rec.headers if k.lower().startswith("webhook-")}
    other = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
    res = standard_verify([
        ((rec.body + b" ", hdrs), hook["secret"]),
        ((rec.body, hdrs), other),
        ((rec.body, {**hdrs, "webhook-id": "msg_999999"}), hook["secret"]),
        ((rec.body, {**hdrs, "webhook-timestamp": str(int(hdrs["webhook-timestamp"]) - 3600)}), hook["secret"]),
        ((rec.body, hdrs), hook["secret"]),
    ])
    assert [r["ok"] for r in res] == [False, False, False, False, True], res


def test_ping_payload(env, host, receivers):
    rcv = receivers()
    hook = host.hook(rcv.url("/p"), ["ping"])
    did = host.ping(hook["id"])
    rec = rcv.wait_count(1)[0]
    j = check_common_headers(rec, "ping", did)
    assert j["data"] == {"webhook_id": hook["id"]}, j
    check_signatures([(rec, hook["secret"])])
    d = host.wait_delivery(hook["id"], did)
    assert d["status"] == "delivered" and d["attempts"] == 1


def test_https_delivery(env, host, receivers, pki):
    rcv = receivers(tls=pki.good)
    # a generated secret, a user whsec_ secret (base64 key) and a plain user secret (raw key)
    hooks = [host.hook(rcv.url("/gen"), ["ping"]),
             host.hook(rcv.url("/user-whsec"), ["ping"], secret="whsec_c2xvdGQgdGVzdCBrZXkgbWF0ZXJpYWwgMTIzNA=="),
             host.hook(rcv.url("/user-raw"), ["ping"], secret="my plain shared secret!")]
    dids = [host.ping(h["id"]) for h in hooks]
    reqs = rcv.wait_count(3)
    assert not rcv.tls_failures, rcv.tls_failures
    pairs = []
    for h, did in zip(hooks, dids):
        [rec] = [r for r in reqs if r.delivery_id == did]
        assert rec.path == h["url"].split(str(rcv.port), 1)[1]
        assert rec.header("Host") == f"localhost:{rcv.port}"
        check_common_headers(rec, "ping", did)
        pairs.append((rec, h["secret"]))
    check_signatures(pairs)
    for h, did in zip(hooks, dids):
        d = host.wait_delivery(h["id"], did)
        assert d["status"] == "delivered" and d["attempts"] == 1 and d["last_status"] == 200, d


def test_non_ascii_payload_signed(env, host, receivers):
    """Signatures cover the exact UTF-8 bytes, escapes and all."""
    rcv = receivers()
    hook = host.hook(rcv.url(), ["booking.created"], secret="plain secret with ünïcødé ✓")
    name = 'Zoë Ünïcødé 日本 "quoted" \\ back\u2028'
    notes = "line one\nline two\ttab </script> 🎉"
    b = host.book(host.et(name="Café ☕ call"), next_slot(), name=name, notes=notes)
    rec = rcv.wait_count(1)[0]
    j = rec.json()
    assert j["data"]["booking"]["invitee_name"] == name and j["data"]["booking"]["notes"] == notes, j
    assert j["data"]["booking"]["event_type"] == "Café ☕ call"
    assert j["data"]["booking"]["id"] == b["id"]
    check_slotd_signature(rec, hook["secret"])
    # the npm package's "raw" format takes one byte per UTF-16 unit, so it cannot express a
    # non-ASCII raw key: the Standard Webhooks check is done in Python for this secret
    key = hook["secret"].encode()
    signed = f"{rec.header('webhook-id')}.{rec.header('webhook-timestamp')}.".encode() + rec.body
    assert rec.header("webhook-signature") == "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    # and with a whsec_ secret, through the npm package as well
    hook2 = host.hook(rcv.url("/2"), ["booking.created"])
    host.book(host.et(name="Ωmega"), next_slot(), name=name, notes=notes)
    rec2 = [r for r in rcv.wait_count(1, path="/2") if r.path == "/2"][0]
    check_signatures([(rec2, hook2["secret"])])


def test_ipv6_literal_and_query(env, host, receivers):
    rcv = receivers()
    hooks = [host.hook(rcv.url("?only=query"), ["ping"])]
    v6 = len(rcv.servers) == 2  # [::1] is available on this machine
    if v6:
        hooks.append(host.hook(f"http://[::1]:{rcv.port}/v6?x=1", ["ping"]))
    dids = [host.ping(h["id"]) for h in hooks]
    reqs = rcv.wait_count(len(hooks))
    by_id = {r.delivery_id: r for r in reqs}
    assert by_id[dids[0]].path == "/?only=query", by_id[dids[0]]
    if v6:
        assert by_id[dids[1]].path == "/v6?x=1"
        assert by_id[dids[1]].header("Host") == f"[::1]:{rcv.port}", by_id[dids[1]].headers
    check_signatures([(by_id[d], h["secret"]) for d, h in zip(dids, hooks)])


# ----------------------------------------------------------------------------
# events


def test_event_order_create_reschedule_cancel(env, host, receivers):
    rcv = receivers()
    hook = host.hook(rcv.url(), ["booking.created", "booking.rescheduled", "booking.cancelled"])
    et = host.et()
    first, second = next_slot(), next_slot()
    b = host.book(et, first)
    r = host.act(b["id"], "reschedule", {"start_time": iso(second)})
    assert r.status == 200, r
    r = host.act(b["id"], "cancel", {"reason": "plans changed"})
    assert r.status == 200, r
    reqs = rcv.wait_count(3)
    assert len(reqs) == 3
    check_signatures([(x, hook["secret"]) for x in reqs])
    # delivery ids (webhook-id) and the payloads' created_at follow the order of the changes
    reqs.sort(key=lambda x: x.delivery_id)
    assert [x.header("X-Slotd-Event") for x in reqs] == ["booking.created", "booking.rescheduled",
                                                         "booking.cancelled"]
    payloads = [x.json() for x in reqs]
    assert [p["event"] for p in payloads] == ["booking.created", "booking.rescheduled", "booking.cancelled"]
    stamps = [parse_iso(p["created_at"]) for p in payloads]
    assert stamps == sorted(stamps), stamps
    bs = [p["data"]["booking"] for p in payloads]
    assert {x["uid"] for x in bs} == {b["uid"]} and {x["id"] for x in bs} == {b["id"]}
    assert parse_iso(bs[0]["start"]) == first
    assert bs[0].get("previous_start") is None
    # rescheduled: previous and new times
    assert parse_iso(bs[1]["previous_start"]) == first, bs[1]
    assert parse_iso(bs[1]["previous_end"]) == first + dt.timedelta(minutes=30), bs[1]
    assert parse_iso(bs[1]["start"]) == second and parse_iso(bs[1]["end"]) == second + dt.timedelta(minutes=30)
    assert bs[1]["status"] == "confirmed"
    assert bs[2]["status"] == "cancelled" and parse_iso(bs[2]["start"]) == second
    # the event log holds the same sequence
    types = [t for (t,) in env.db.sql(f"SELECT type FROM events WHERE booking_id = {b['id']} ORDER BY id")]
    assert types == ["booking.created", "booking.rescheduled", "booking.cancelled"]


def test_event_order_when_waiting_between_changes(env, host, receivers):
    """Done one at a time, the receiver sees the events in that order."""
    rcv = receivers()
    hook = host.hook(rcv.url(), ["booking.created", "booking.rescheduled", "booking.cancelled"])
    et = host.et()
    b = host.book(et, next_slot())
    rcv.wait_count(1)
    assert host.act(b["id"], "reschedule", {"start_time": iso(next_slot())}).status == 200
    rcv.wait_count(2)
    assert host.act(b["id"], "cancel").status == 200
    reqs = rcv.wait_count(3)
    assert [x.header("X-Slotd-Event") for x in reqs] == ["booking.created", "booking.rescheduled",
                                                         "booking.cancelled"]
    assert [x.delivery_id for x in reqs] == sorted(x.delivery_id for x in reqs)
    check_signatures([(x, hook["secret"]) for x in reqs])


def test_confirmation_events_and_filters(env, host, receivers):
    rcv = receivers()
    everything = host.hook(rcv.url("/all"), list(BOOKING_EVENTS))
    only_cancel = host.hook(rcv.url("/cancel-only"), ["booking.cancelled"])
    inactive = host.hook(rcv.url("/inactive"), list(VALID_EVENTS))
    assert host.call("PUT", f"/api/webhooks/{inactive['id']}", {"is_active": False}).status == 200
    et = host.et(requires_confirmation=True)
    b1 = host.book(et, next_slot())
    assert b1["status"] == "pending"
    assert host.act(b1["id"], "confirm").status == 200
    b2 = host.book(et, next_slot())
    assert host.act(b2["id"], "decline", {"reason": "busy"}).status == 200
    # no-show needs a booking that has started: move the confirmed one into the past
    env.db.sql(f"UPDATE bookings SET start_at = now() - interval '2 hours', end_at = now() - interval '90 minutes' "
               f"WHERE id = {b1['id']}")
    r = host.act(b1["id"], "no-show")
    assert r.status == 200, r
    expected = ["booking.requested", "booking.confirmed", "booking.requested", "booking.declined", "booking.no_show"]
    reqs = rcv.wait_count(5, path="/all")
    time.sleep(0.5)  # anything else that was going to arrive
    reqs = rcv.snapshot()
    alls = sorted([x for x in reqs if x.path == "/all"], key=lambda x: x.delivery_id)
    assert [x.header("X-Slotd-Event") for x in alls] == expected
    assert [x.path for x in reqs if x.path != "/all"] == [], "filtered or inactive webhooks got events"
    check_signatures([(x, everything["secret"]) for x in alls])
    bs = [x.json()["data"]["booking"] for x in alls]
    assert [x["status"] for x in bs] == ["pending", "confirmed", "pending", "declined", "confirmed"], bs
    assert bs[0]["id"] == b1["id"] and bs[2]["id"] == b2["id"]
    assert bs[4]["no_show"] in (True, 1), bs[4]
    # a cancellation reaches both active subscriptions
    b3 = host.book(host.et(), next_slot())
    assert host.act(b3["id"], "cancel").status == 200
    reqs = rcv.wait(lambda rs: len([x for x in rs if x.path == "/cancel-only"]) == 1
                    and len([x for x in rs if x.path == "/all" and x.header("X-Slotd-Event") == "booking.cancelled"]) == 1,
                    what="the cancellation at both")
    time.sleep(0.3)
    assert [x.path for x in rcv.snapshot() if x.path == "/inactive"] == []
    assert count(env.db, "webhook_deliveries", f"webhook_id = {inactive['id']}") == 0
    assert count(env.db, "webhook_deliveries", f"webhook_id = {only_cancel['id']}") == 1


# ----------------------------------------------------------------------------
# retries and failures


def test_retry_500_500_200(env, host, receivers):
    rcv = receivers(statuses=[500, 500])
    hook = host.hook(rcv.url(), ["ping"])
    did = host.ping(hook["id"])
    d = host.wait_delivery(hook["id"], did, timeout=20)
    assert d["status"] == "delivered", d
    assert d["attempts"] == 3, d
    assert d["last_status"] == 200 and d["last_error"] is None, d
    reqs = rcv.snapshot()
    assert [x.status for x in reqs] == [500, 500, 200], reqs
    assert {x.header("webhook-id") for x in reqs} == {f"msg_{did}"}, "webhook-id must be stable across retries"
    assert len({x.body for x in reqs}) == 1, "retries must send the same bytes"
    check_signatures([(x, hook["secret"]) for x in reqs])
    gaps = [b.t - a.t for a, b in zip(reqs, reqs[1:])]
    assert all(g >= SCHEDULE[i] - 0.2 for i, g in enumerate(gaps)), gaps
    assert all(g < SCHEDULE[i] + 5 for i, g in enumerate(gaps)), gaps
    # the failed attempts are in slotd's log
    lines = wait_attempt_logs(env.s, did, 2)
    assert len(lines) == 2 and all("500" in l.get("error", "") for l in lines), lines
    # and in the table
    [row] = delivery_rows(env.db, f"id = {did}")
    assert row["attempts"] == 3 and row["status"] == "delivered"


def test_receiver_down_fails_after_schedule(env, host):
    port = closed_port()
    hook = host.hook(f"http://127.0.0.1:{port}/down", ["ping"])
    t0 = time.monotonic()
    did = host.ping(hook["id"])
    d = host.wait_delivery(hook["id"], did, statuses=("failed",), timeout=25)
    took = time.monotonic() - t0
    assert d["attempts"] == len(SCHEDULE) + 1, d
    assert d["last_status"] is None and d["delivered_at"] is None and d["next_attempt_at"] is None, d
    assert re.search(r"connect|refused", d["last_error"] or "", re.I), d
    assert took >= sum(SCHEDULE) - 0.3, took
    lines = wait_attempt_logs(env.s, did, len(SCHEDULE) + 1)
    assert len(lines) == len(SCHEDULE) + 1, lines
    # failed stays failed: no more attempts
    time.sleep(1.5)
    assert host.delivery(hook["id"], did)["attempts"] == len(SCHEDULE) + 1


def test_non_2xx_statuses_are_failures(env, host, receivers):
    """3xx (redirects are not followed), 4xx and 1xx-less oddities count as failed attempts."""
    rcv = receivers(decide=lambda i, req: (
        (302, [("Location", "/elsewhere")], b"", 0) if req.path == "/redirect" else
        (410, [], b"gone", 0) if req.path == "/gone" else
        (200, [], b"x" * 2_000_000, 0) if req.path == "/big" else
        (204, [], b"", 0)))
    hooks = {p: host.hook(rcv.url(p), ["ping"]) for p in ("/redirect", "/gone", "/big", "/nocontent")}
    dids = {p: host.ping(h["id"]) for p, h in hooks.items()}
    big = host.wait_delivery(hooks["/big"]["id"], dids["/big"])
    assert big["status"] == "delivered" and big["last_status"] == 200, big
    nc = host.wait_delivery(hooks["/nocontent"]["id"], dids["/nocontent"])
    assert nc["status"] == "delivered" and nc["last_status"] == 204, nc
    for p, code in (("/redirect", 302), ("/gone", 410)):
        d = wait_until(lambda: (lambda x: x if x["attempts"] >= 1 and x["last_status"] else None)(
            host.delivery(hooks[p]["id"], dids[p])), 10, interval=0.1, what=f"first attempt to {p}")
        assert d["last_status"] == code and d["status"] in ("pending", "delivering", "failed"), d
        assert str(code) in (d["last_error"] or ""), d
    time.sleep(0.3)
    assert not [x for x in rcv.snapshot() if x.path == "/elsewhere"], "a redirect was followed"
    for p in ("/redirect", "/gone"):  # stop the retries
        assert host.call("DELETE", f"/api/webhooks/{hooks[p]['id']}").status == 200


def test_timeout(env, host, receivers):
    rcv = receivers(delay=4.0)
    hook = host.hook(rcv.url("/slow"), ["ping"])
    did = host.ping(hook["id"])
    d = wait_until(lambda: (lambda x: x if x["attempts"] >= 1 and x["last_error"] else None)(
        host.delivery(hook["id"], did)), 10, interval=0.1, what="first attempt")
    assert "timeout" in d["last_error"].lower(), d
    assert 1500 <= d["last_duration_ms"] <= 3500, d
    assert d["last_status"] is None
    assert host.call("DELETE", f"/api/webhooks/{hook['id']}").status == 200


def test_slow_receiver_does_not_stall_the_api(env, host, receivers):
    rcv = receivers(delay=1.5)
    hook = host.hook(rcv.url("/slow"), ["ping"])
    for _ in range(24):  # more than SLOTD_WEBHOOK_CONCURRENCY (16)
        host.ping(hook["id"])
    rcv.wait_count(10)
    worst = 0.0
    for _ in range(20):
        t = time.perf_counter()
        assert env.s.get("/healthz").status == 200
        assert host.call("GET", "/api/webhooks").status == 200
        worst = max(worst, time.perf_counter() - t)
    assert worst < 1.0, f"API stalled for {worst:.3f}s while deliveries hang"
    inflight = [v for n, l, v in env.s.metrics() if n == "slotd_webhook_inflight"]
    assert inflight and inflight[0] <= 16, inflight
    # deliveries run side by side, never more than SLOTD_WEBHOOK_CONCURRENCY (default 16) at once
    assert 2 <= rcv.max_active <= 16, rcv.max_active
    assert host.call("DELETE", f"/api/webhooks/{hook['id']}").status == 200


def test_redeliver(env, host, receivers):
    rcv = receivers()
    hook = host.hook(rcv.url(), ["booking.created"])
    b = host.book(host.et(), next_slot())
    first = rcv.wait_count(1)[0]
    did = first.delivery_id
    assert host.wait_delivery(hook["id"], did)["status"] == "delivered"
    r = host.call("POST", f"/api/webhooks/{hook['id']}/deliveries/{did}/redeliver")
    assert r.status == 202, r
    new_id = r.json()["delivery_id"]
    second = rcv.wait_count(2)[1]
    assert second.delivery_id == new_id != did
    assert second.body == first.body, "a redelivery sends the same payload bytes"
    assert second.json()["data"]["booking"]["id"] == b["id"]
    check_signatures([(first, hook["secret"]), (second, hook["secret"])])
    log = host.deliveries(hook["id"])
    assert [x["id"] for x in log] == [new_id, did]
    assert host.wait_delivery(hook["id"], new_id)["status"] == "delivered"


# ----------------------------------------------------------------------------
# TLS


def test_tls_wrong_host_and_unknown_ca(env, host, receivers, pki):
    wrong = receivers(tls=pki.wronghost)
    unknown = receivers(tls=pki.unknownca)
    hw = host.hook(wrong.url("/w"), ["ping"])
    hu = host.hook(unknown.url("/u"), ["ping"])
    dw, du = host.ping(hw["id"]), host.ping(hu["id"])
    for hook, did, rcv in ((hw, dw, wrong), (hu, du, unknown)):
        d = host.wait_delivery(hook["id"], did, statuses=("failed",), timeout=25)
        assert d["attempts"] == len(SCHEDULE) + 1, d
        assert d["last_status"] is None, d
        err = d["last_error"] or ""
        assert re.search(r"tls|certificate|x509|verify", err, re.I), d
        assert rcv.count() == 0, f"the receiver got a request over an unverified connection: {rcv.snapshot()}"
        assert rcv.connections >= 1 and rcv.tls_failures, "slotd never tried the handshake"
        lines = wait_attempt_logs(env.s, did, len(SCHEDULE) + 1)
        assert len(lines) == len(SCHEDULE) + 1 and all(re.search(r"tls|certificate", l.get("error", ""), re.I) for l in lines), lines
    # name mismatch vs untrusted issuer are told apart in the log
    ew = host.delivery(hw["id"], dw)["last_error"].lower()
    eu = host.delivery(hu["id"], du)["last_error"].lower()
    assert "name" in ew or "cn" in ew, ew
    assert "trust" in eu or "not correctly signed" in eu or "ca" in eu, eu


# ----------------------------------------------------------------------------
# SSRF at delivery time (and a name resolving to loopback)


def test_ssrf_refused_at_delivery(pg, db, slotd_factory, receivers):
    rcv = receivers()
    s = slotd_factory(env={**LOCAL_ENV, "SLOTD_WEBHOOK_ALLOW_PRIVATE": None})
    h = WHost(s, open_all_week=False)
    # literal loopback is refused at creation...
    r = h.hook_req(rcv.url(), ["ping"])
    assert r.status == 400, r
    r = h.hook_req(rcv.url(host="localhost"), ["ping"])
    assert r.status == 400, r
    # ...and so are the other spellings of a loopback address a resolver accepts (issue 10)...
    numeric = ["127.1", "2130706433", "0x7f.1"]
    for n in numeric:
        r = h.hook_req(rcv.url(f"/{n}", host=n), ["ping"])
        assert r.status == 400, r
    # ...while names that resolve to loopback are accepted there and refused at delivery; the
    # numeric spellings too, when they were stored before (put in behind the API's back)
    names = []
    try:
        if any(a[4][0].startswith("127.") for a in socket.getaddrinfo(socket.gethostname(), None)):
            names.append(socket.gethostname())
    except OSError:
        pass
    hooks = [h.hook(rcv.url(f"/{n}", host=n), ["ping"]) for n in names]
    for n in numeric:
        x = h.hook("https://hooks.example.com/placeholder", ["ping"])
        db.sql(f"UPDATE webhooks SET url = '{rcv.url(f'/{n}', host=n)}' WHERE id = {int(x['id'])}")
        hooks.append(x)
    # spellings of localhost: refused at creation, or else at delivery
    for n in ("LOCALHOST", "LocalHost"):
        r = h.hook_req(rcv.url(f"/{n}", host=n), ["ping"])
        assert r.status in (201, 400), r
        if r.status == 201:
            hooks.append(r.json())
    # "localhost" itself, put in behind the API's back (as if created while private targets were allowed)
    lh = h.hook("https://hooks.example.com/placeholder", ["ping"])
    db.sql(f"UPDATE webhooks SET url = 'http://localhost:{rcv.port}/localhost' WHERE id = {lh['id']}")
    hooks.append(lh)
    dids = [h.ping(x["id"]) for x in hooks]
    for x, did in zip(hooks, dids):
        d = h.wait_delivery(x["id"], did, statuses=("failed",), timeout=25)
        assert d["attempts"] == len(SCHEDULE) + 1, d
        assert d["last_status"] is None, d
        assert re.search(r"refused", d["last_error"] or "") and re.search(r"private|reserved", d["last_error"]), d
    assert rcv.count() == 0 and rcv.connections == 0, f"a private target was reached: {rcv.snapshot()}"


# ----------------------------------------------------------------------------
# the outbox: no event for a change that did not happen


def test_rolled_back_booking_sends_nothing(env, host, receivers):
    rcv = receivers()
    hook = host.hook(rcv.url(), list(BOOKING_EVENTS))
    et = host.et()
    slot = next_slot()
    b = host.book(et, slot)
    r = host.book_req(et, slot, email="carol@example.com")
    assert r.status == 409, r
    # a burst at one new slot: exactly one wins
    slot2 = next_slot()
    results = [None] * 6
    barrier = threading.Barrier(6)

    def go(i):
        c = http.client.HTTPConnection(env.s.host, env.s.port, timeout=15)
        c.connect()
        body = json.dumps({"name": f"Racer {i}", "email": f"racer{i}@example.com", "start_time": iso(slot2)})
        barrier.wait()
        c.request("POST", f"/api/book/{host.slug}/{et['slug']}", body=body,
                  headers={"Content-Type": "application/json"})
        resp = c.getresponse()
        results[i] = (resp.status, resp.read())
        c.close()
    ts = [threading.Thread(target=go, args=(i,)) for i in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    codes = sorted(x[0] for x in results)
    assert codes == [201] + [409] * 5, codes
    winner = json.loads([x[1] for x in results if x[0] == 201][0])["booking"]
    # a reschedule into a taken slot fails and announces nothing
    r = host.act(b["id"], "reschedule", {"start_time": iso(slot2)})
    assert r.status == 409, r
    time.sleep(1.0)  # let anything wrongly announced arrive
    reqs = rcv.wait_count(2)
    assert sorted(x.header("X-Slotd-Event") for x in reqs) == ["booking.created", "booking.created"], reqs
    assert sorted(x.json()["data"]["booking"]["id"] for x in reqs) == sorted([b["id"], winner["id"]])
    # the tables agree: one event and one delivery per booking that exists, nothing else
    ev = env.db.sql(f"SELECT type, booking_id FROM events WHERE host_id = {host.id} ORDER BY id")
    assert ev == [["booking.created", str(b["id"])], ["booking.created", str(winner["id"])]], ev
    bookings = env.db.sql(f"SELECT id FROM bookings WHERE host_id = {host.id} ORDER BY id")
    assert [int(x[0]) for x in bookings] == [b["id"], winner["id"]]
    rows = delivery_rows(env.db, f"webhook_id = {hook['id']}")
    assert len(rows) == 2 and {r_["event"] for r_ in rows} == {"booking.created"}, rows
    assert all(r_["event_id"] is not None for r_ in rows)


# ----------------------------------------------------------------------------
# odd but legal (and illegal) responses, from a raw TCP receiver


class RawReceiver:
    """Reads one HTTP request per connection and answers with the exact bytes of `replies[path]`
    (None: close without answering); `keep_open` paths leave the connection open afterwards."""

    def __init__(self, replies, keep_open=()):
        self.replies = replies
        self.keep_open = set(keep_open)
        self.paths = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.stopped = False
        self.t = threading.Thread(target=self._serve, daemon=True)
        self.t.start()

    def _serve(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(c,), daemon=True).start()

    def _one(self, c):
        try:
            c.settimeout(10)
            buf = b""
            while b"\r\n\r\n" not in buf:
                d = c.recv(65536)
                if not d:
                    c.close()
                    return
                buf += d
            head, rest = buf.split(b"\r\n\r\n", 1)
            m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            n = int(m.group(1)) if m else 0
            while len(rest) < n:
                d = c.recv(65536)
                if not d:
                    break
                rest += d
            path = head.split(b" ")[1].decode()
            self.paths.append(path)
            reply = self.replies.get(path)
            if reply is not None:
                c.sendall(reply)
            if path in self.keep_open:
                self.held.append(c)
            else:
                c.close()
        except OSError:
            c.close()

    def close(self):
        self.stopped = True
        self.sock.close()
        for c in self.held:
            c.close()


RAW_OK = {
    "/close-delimited": b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nno length, ends at close",
    "/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "/held-open": b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok",
    "/http10": b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
    # RFC 9110 15.2: a client must accept 1xx interim responses before the final one, even unasked
    "/early-hints": b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
}
RAW_BAD = {
    "/slam": (None, r"closed"),
    "/garbage": (b"THIS IS NOT HTTP\r\n\r\n", r"malformed"),
    "/truncated": (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", r"closed|complete"),
}


def test_raw_responses(env, host):
    rr = RawReceiver({**RAW_OK, **{p: b for p, (b, _) in RAW_BAD.items()}}, keep_open={"/held-open", "/chunked"})
    try:
        hooks = {p: host.hook(f"http://127.0.0.1:{rr.port}{p}", ["ping"]) for p in itertools.chain(RAW_OK, RAW_BAD)}
        dids = {p: host.ping(h["id"]) for p, h in hooks.items()}
        problems = []
        for p in RAW_OK:
            try:
                d = host.wait_delivery(hooks[p]["id"], dids[p], timeout=6)
            except AssertionError as e:
                problems.append(f"{p}: {e}")
                continue
            if d["status"] != "delivered" or d["attempts"] != 1 or not 200 <= (d["last_status"] or 0) < 300:
                problems.append(f"{p}: {d}")
            elif p == "/held-open" and d["last_duration_ms"] > 1500:
                problems.append(f"{p}: waited for the close although the response was complete: {d}")
        for p, (_, pattern) in RAW_BAD.items():
            d = wait_until(lambda: (lambda x: x if x["attempts"] >= 1 and x["last_error"] else None)(
                host.delivery(hooks[p]["id"], dids[p])), 10, interval=0.1, what=f"first attempt to {p}")
            if d["status"] == "delivered" or not re.search(pattern, d["last_error"]):
                problems.append(f"{p}: {d}")
        for h in hooks.values():  # stop the retries
            host.call("DELETE", f"/api/webhooks/{h['id']}")
        assert not problems, "\n".join(problems)
    finally:
        rr.close()
