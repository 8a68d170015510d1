"""Webhook subscriptions (issue 6): create/list/update/delete, validation, generated secrets,
owner scoping (the cross-user 404 matrix), the delivery log's paging, and the SSRF guard at
creation time.

The module's slotd runs with the defaults that matter here: https required
(SLOTD_WEBHOOK_ALLOW_HTTP unset) and private addresses refused (SLOTD_WEBHOOK_ALLOW_PRIVATE unset).
No test in this module sends traffic anywhere: the one webhook that gets deliveries points at
"127.1" (resolved numerically to 127.0.0.1, refused by the guard before any connect; refused at creation
too since issue 10, so those rows are put in behind the API's back, as if created before).
"""

import base64
import re

import pytest

from conftest import wait_until
from webhook_util import BASE_ENV, VALID_EVENTS, WEnv, WHost, assert_error, call, count, delivery_rows


@pytest.fixture(scope="module")
def env(pg, tmp_path_factory):
    e = WEnv(pg, tmp_path_factory.mktemp("wh-api"), "wh_api", BASE_ENV)
    yield e
    e.close()


@pytest.fixture
def host(env):
    return WHost(env.s, open_all_week=False)


HOOK = "https://hooks.example.com/slotd"


# ----------------------------------------------------------------------------
# create / list / update / delete


def test_create_with_secret_and_list(env, host):
    r = host.hook_req(HOOK, ["booking.created", "booking.cancelled"], secret="whsec_your_secret_123")
    assert r.status == 201, r
    assert "no-store" in (r.header("Cache-Control") or "")
    j = r.json()
    assert isinstance(j["id"], int)
    assert j["url"] == HOOK
    assert j["events"] == ["booking.created", "booking.cancelled"]
    assert j["secret"] == "whsec_your_secret_123"
    assert j["is_active"] in (True, 1)
    # listed, without the secret
    r = host.call("GET", "/api/webhooks")
    assert r.status == 200, r
    items = r.json()
    assert [w["id"] for w in items] == [j["id"]]
    assert "secret" not in items[0], items[0]
    assert "whsec_your_secret_123" not in r.body.decode()
    assert items[0]["url"] == HOOK and items[0]["events"] == j["events"]


def test_generated_secret(env, host):
    secrets = set()
    for _ in range(3):
        j = host.hook(HOOK, ["booking.created"])
        s = j["secret"]
        m = re.fullmatch(r"whsec_([A-Za-z0-9+/]+={0,2})", s)
        assert m, s
        assert len(base64.b64decode(m.group(1), validate=True)) == 24, s
        secrets.add(s)
    assert len(secrets) == 3, "generated secrets repeat"
    body = host.call("GET", "/api/webhooks").body.decode()
    for s in secrets:
        assert s not in body and s[6:] not in body, "a generated secret is shown again in the list"


def test_update_and_delete(env, host):
    j = host.hook(HOOK, ["booking.created"])
    hid = j["id"]
    r = host.call("PUT", f"/api/webhooks/{hid}",
                  {"events": ["booking.created", "booking.cancelled", "booking.rescheduled"]})
    assert r.status == 200, r
    u = r.json()
    assert u["events"] == ["booking.created", "booking.cancelled", "booking.rescheduled"]
    assert u["url"] == HOOK
    assert "secret" not in u
    r = host.call("PUT", f"/api/webhooks/{hid}", {"url": "https://other.example.com/x", "is_active": False})
    assert r.status == 200, r
    assert r.json()["url"] == "https://other.example.com/x" and r.json()["is_active"] in (False, 0)
    # a new secret is stored (the signing key), never echoed
    r = host.call("PUT", f"/api/webhooks/{hid}", {"secret": "a-brand-new-secret-value"})
    assert r.status == 200, r
    assert "a-brand-new-secret-value" not in r.body.decode()
    assert env.db.sql(f"SELECT secret FROM webhooks WHERE id = {hid}")[0][0] == "a-brand-new-secret-value"
    # invalid updates change nothing
    for bad in ({"events": ["booking.exploded"]}, {"events": []}, {"url": "ftp://x.example.com/"},
                {"url": "http://plain.example.com/"}, {"url": "https://10.0.0.1/"}, {"secret": "short"}):
        r = host.call("PUT", f"/api/webhooks/{hid}", bad)
        assert_error(r, 400, "VALIDATION_FAILED")
    got = [w for w in host.call("GET", "/api/webhooks").json() if w["id"] == hid][0]
    assert got["url"] == "https://other.example.com/x"
    assert got["events"] == ["booking.created", "booking.cancelled", "booking.rescheduled"]
    # delete
    r = host.call("DELETE", f"/api/webhooks/{hid}")
    assert r.status == 200, r
    assert hid not in [w["id"] for w in host.call("GET", "/api/webhooks").json()]
    for method, path in (("DELETE", f"/api/webhooks/{hid}"), ("PUT", f"/api/webhooks/{hid}"),
                         ("POST", f"/api/webhooks/{hid}/ping"), ("GET", f"/api/webhooks/{hid}/deliveries")):
        r = host.call(method, path, {"events": ["ping"]} if method == "PUT" else None)
        assert_error(r, 404, "NOT_FOUND")


def test_every_event_name_accepted(env, host):
    j = host.hook(HOOK, list(VALID_EVENTS))
    assert j["events"] == VALID_EVENTS


# ----------------------------------------------------------------------------
# validation


def test_unknown_event_lists_valid_ones(env, host):
    before = count(env.db, "webhooks")
    r = host.hook_req(HOOK, ["booking.created", "booking.exploded"])
    j = assert_error(r, 400, "VALIDATION_FAILED")
    assert "booking.exploded" in j["error"], j
    for name in VALID_EVENTS:
        assert name in j["error"], f"valid event {name} not listed in {j['error']!r}"
    assert j.get("field") == "events", j
    assert count(env.db, "webhooks") == before


@pytest.mark.parametrize("events", [[], "booking.created", [1], [None], ["booking.created", "booking.created"],
                                    ["BOOKING.CREATED"], ["booking.*"], {"a": 1}])
def test_bad_events(env, host, events):
    r = host.hook_req(HOOK, events)
    assert_error(r, 400, "VALIDATION_FAILED")


def test_events_required(env, host):
    r = host.call("POST", "/api/webhooks", {"url": HOOK})
    assert_error(r, 400, "VALIDATION_FAILED")


@pytest.mark.parametrize("url", [
    None, "", 42, "hooks.example.com/x", "//hooks.example.com/x", "ftp://hooks.example.com/x",
    "https://", "https:///x", "https://user:pw@hooks.example.com/x", "https://hooks.example.com/x#frag",
    "https://hooks.example.com:0/x", "https://hooks.example.com:99999/x", "https://hooks.example.com/a b",
    "https://exa mple.com/", "javascript:alert(1)", "https://[::1/x", "https://hooks.example.com:port/x",
])
def test_bad_urls(env, host, url):
    body = {"events": ["ping"]}
    if url is not None:
        body["url"] = url
    r = host.call("POST", "/api/webhooks", body)
    assert_error(r, 400, "VALIDATION_FAILED")


def test_http_refused_without_allow_http(env, host):
    r = host.hook_req("http://hooks.example.com/x", ["ping"])
    j = assert_error(r, 400, "VALIDATION_FAILED")
    assert "https" in j["error"], j


@pytest.mark.parametrize("secret", ["", "short", "x" * 15, "y" * 257, 12345678901234567, ["whsec_abcdefghijklmnop"]])
def test_bad_secret(env, host, secret):
    r = host.hook_req(HOOK, ["ping"], secret=secret)
    assert_error(r, 400, "VALIDATION_FAILED")


def test_body_must_be_an_object(env, host):
    for raw in (b"[]", b"not json", b'"x"'):
        r = call(env.s, "POST", "/api/webhooks", raw=raw, auth=host.auth)
        assert r.status == 400, r


def test_limit_of_webhooks_per_user(env):
    h = WHost(env.s, open_all_week=False)
    for i in range(50):
        h.hook(f"{HOOK}/{i}", ["ping"], secret="whsec_" + "A" * 32)
    r = h.hook_req(f"{HOOK}/51", ["ping"])
    assert r.status in (400, 409), r
    assert count(env.db, "webhooks", f"user_id = {h.id}") == 50


# ----------------------------------------------------------------------------
# SSRF at creation: literal private addresses are refused (no traffic is sent anywhere)


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/h", "https://127.0.0.1:8443/h", "https://10.0.0.1/h", "https://[::1]/h",
    "https://169.254.169.254/latest/meta-data", "https://0.0.0.0/h", "https://192.168.1.1/h",
    "https://172.16.0.1/h", "https://100.64.0.1/h", "https://224.0.0.1/h", "https://255.255.255.255/h",
    "https://[::]/h", "https://[::ffff:127.0.0.1]/h", "https://[::ffff:10.0.0.1]/h", "https://[fe80::1]/h",
    "https://[fc00::1]/h", "https://[fd12:3456::1]/h", "https://[ff02::1]/h", "https://[64:ff9b::a9fe:a9fe]/h",
    "https://localhost/h", "https://localhost:8443/h", "https://api.localhost/h",
])
def test_private_literal_refused_at_creation(env, host, url):
    r = host.hook_req(url, ["ping"])
    j = assert_error(r, 400, "VALIDATION_FAILED")
    assert j.get("field") == "url", j
    assert re.search(r"private|loopback|link-local", j["error"]), j
    # and through PUT
    hid = host.hook(HOOK, ["ping"])["id"]
    r = host.call("PUT", f"/api/webhooks/{hid}", {"url": url})
    assert_error(r, 400, "VALIDATION_FAILED")


def test_public_literal_accepted(env, host):
    # documentation-free public addresses are fine at creation (nothing is sent in this test)
    for url in ("https://93.184.216.34/h", "https://[2606:4700:4700::1111]/h"):
        r = host.hook_req(url, ["booking.created"])
        assert r.status == 201, r


# ----------------------------------------------------------------------------
# authentication and owner scoping


def test_unauthenticated(env):
    for method, path in (("GET", "/api/webhooks"), ("POST", "/api/webhooks"), ("PUT", "/api/webhooks/1"),
                         ("DELETE", "/api/webhooks/1"), ("POST", "/api/webhooks/1/ping"),
                         ("GET", "/api/webhooks/1/deliveries"), ("POST", "/api/webhooks/1/deliveries/1/redeliver")):
        r = call(env.s, method, path, {"url": HOOK, "events": ["ping"]} if method in ("POST", "PUT") else None)
        assert_error(r, 401, "UNAUTHORIZED")
        r = call(env.s, method, path, None, auth={"X-API-Key": "cal_" + "0" * 64})
        assert r.status == 401, r


def guarded_hook(env, owner, url, events):
    """A hook whose URL the delivery guard refuses: created with a public name, then pointed at
    127.1 behind the API's back (creation refuses that spelling of loopback)."""
    j = owner.hook("https://hooks.example.com/placeholder", events)
    env.db.sql(f"UPDATE webhooks SET url = '{url}' WHERE id = {int(j['id'])}")
    j["url"] = url
    return j


def test_cross_user_404_matrix(env):
    a = WHost(env.s, open_all_week=False)
    b = WHost(env.s, open_all_week=False)
    # "127.1" resolves numerically to loopback: the delivery guard refuses it
    ha = guarded_hook(env, a, "https://127.1:9/a", ["ping", "booking.created"])
    hb = guarded_hook(env, b, "https://127.1:9/b", ["ping"])
    da = a.ping(ha["id"])
    db_ = b.ping(hb["id"])
    snapshot = env.db.sql(f"SELECT id, url, events::text, secret, is_active FROM webhooks WHERE id = {ha['id']}")
    n_deliveries = count(env.db, "webhook_deliveries")
    matrix = [
        ("PUT", f"/api/webhooks/{ha['id']}", {"url": "https://evil.example.com/x"}),
        ("PUT", f"/api/webhooks/{ha['id']}", {"is_active": False}),
        ("DELETE", f"/api/webhooks/{ha['id']}", None),
        ("POST", f"/api/webhooks/{ha['id']}/ping", None),
        ("GET", f"/api/webhooks/{ha['id']}/deliveries", None),
        ("POST", f"/api/webhooks/{ha['id']}/deliveries/{da}/redeliver", None),
        # b's own webhook with a's delivery, and a's webhook with b's delivery
        ("POST", f"/api/webhooks/{hb['id']}/deliveries/{da}/redeliver", None),
        ("POST", f"/api/webhooks/{ha['id']}/deliveries/{db_}/redeliver", None),
        # ids that do not exist or are not ids at all
        ("PUT", "/api/webhooks/999999999", {"events": ["ping"]}),
        ("DELETE", "/api/webhooks/999999999", None),
        ("POST", "/api/webhooks/999999999/ping", None),
        ("GET", "/api/webhooks/999999999/deliveries", None),
        ("POST", f"/api/webhooks/{hb['id']}/deliveries/999999999/redeliver", None),
        ("PUT", "/api/webhooks/abc", {"events": ["ping"]}),
        ("DELETE", "/api/webhooks/-1", None),
        ("POST", "/api/webhooks/0/ping", None),
        ("GET", "/api/webhooks/1e3/deliveries", None),
        ("POST", f"/api/webhooks/{hb['id']}/deliveries/x/redeliver", None),
        ("DELETE", "/api/webhooks/99999999999999999999999", None),
    ]
    for method, path, body in matrix:
        r = b.call(method, path, body)
        assert_error(r, 404, "NOT_FOUND")
        assert not r.has_header("X-Total-Count"), (path, r)
    # a's list shows only a's webhook, b's only b's
    assert [w["id"] for w in a.call("GET", "/api/webhooks").json()] == [ha["id"]]
    assert [w["id"] for w in b.call("GET", "/api/webhooks").json()] == [hb["id"]]
    # nothing changed
    assert env.db.sql(f"SELECT id, url, events::text, secret, is_active FROM webhooks WHERE id = {ha['id']}") == snapshot
    assert count(env.db, "webhook_deliveries") == n_deliveries
    # and the owner still can
    assert a.call("GET", f"/api/webhooks/{ha['id']}/deliveries").status == 200
    r = a.call("POST", f"/api/webhooks/{ha['id']}/deliveries/{da}/redeliver")
    assert r.status == 202, r


# ----------------------------------------------------------------------------
# the delivery log: newest first, paginated, X-Total-Count


def test_delivery_log_paging(env, host):
    hid = guarded_hook(env, host, "https://127.1:9/log", ["ping"])["id"]
    ids = [host.ping(hid) for _ in range(7)]
    assert ids == sorted(ids) and len(set(ids)) == 7
    r = host.call("GET", f"/api/webhooks/{hid}/deliveries")
    assert r.status == 200, r
    assert r.header("X-Total-Count") == "7", r
    items = r.json()
    assert [d["id"] for d in items] == ids[::-1], "not newest first"
    for d in items:
        assert d["event"] == "ping"
        assert d["status"] in ("pending", "delivering", "delivered", "failed")
        for k in ("attempts", "last_status", "last_error", "last_duration_ms", "created_at", "last_attempt_at",
                  "next_attempt_at", "delivered_at"):
            assert k in d, (k, d)
    r = host.call("GET", f"/api/webhooks/{hid}/deliveries?limit=3&page=2")
    assert r.status == 200 and r.header("X-Total-Count") == "7", r
    assert [d["id"] for d in r.json()] == ids[::-1][3:6]
    r = host.call("GET", f"/api/webhooks/{hid}/deliveries?limit=3&page=3")
    assert [d["id"] for d in r.json()] == ids[:1]
    r = host.call("GET", f"/api/webhooks/{hid}/deliveries?limit=3&page=9")
    assert r.status == 200 and r.json() == [] and r.header("X-Total-Count") == "7"
    for q in ("limit=0", "limit=201", "limit=x", "page=0", "page=-1", "limit=-5"):
        r = host.call("GET", f"/api/webhooks/{hid}/deliveries?{q}")
        assert_error(r, 400, "VALIDATION_FAILED")
    # an empty log
    hid2 = guarded_hook(env, host, "https://127.1:9/empty", ["ping"])["id"]
    r = host.call("GET", f"/api/webhooks/{hid2}/deliveries")
    assert r.status == 200 and r.json() == [] and r.header("X-Total-Count") == "0", r


def test_redeliver_copies_payload(env, host):
    hid = guarded_hook(env, host, "https://127.1:9/re", ["ping"])["id"]
    did = host.ping(hid)
    r = host.call("POST", f"/api/webhooks/{hid}/deliveries/{did}/redeliver")
    assert r.status == 202, r
    j = r.json()
    assert j.get("ok") is True and isinstance(j.get("delivery_id"), int) and j["delivery_id"] != did, j
    rows = {d["id"]: d for d in delivery_rows(env.db, f"webhook_id = {hid}")}
    assert rows[j["delivery_id"]]["payload"] == rows[did]["payload"]
    assert rows[j["delivery_id"]]["event"] == "ping"


def test_deleting_webhook_deletes_its_log(env, host):
    hid = guarded_hook(env, host, "https://127.1:9/del", ["ping"])["id"]
    host.ping(hid)
    assert count(env.db, "webhook_deliveries", f"webhook_id = {hid}") == 1
    assert host.call("DELETE", f"/api/webhooks/{hid}").status == 200
    assert count(env.db, "webhook_deliveries", f"webhook_id = {hid}") == 0


def test_refused_at_delivery_before_connecting(env, host):
    """The 127.1 deliveries of this module fail at the guard (its own wording, no HTTP status),
    never with a connect error: nothing is sent."""
    hid = guarded_hook(env, host, "https://127.1:9/guard", ["ping"])["id"]
    did = host.ping(hid)
    d = wait_until(lambda: (lambda x: x if x["attempts"] >= 1 and x["last_error"] else None)(host.delivery(hid, did)),
                   10, interval=0.1, what="first attempt")
    assert re.search(r"private|reserved", d["last_error"]), d
    assert "connect" not in d["last_error"], d
    assert d["last_status"] is None, d
