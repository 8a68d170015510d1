"""The customers API (issue 13): customers of a user (/api/customers...) and of an org
(/api/orgs/:id/customers...), their tags and groups, search, filters, pagination, history,
export and erasure, customer.created through webhooks, and who may see what (another owner's
anything is 404, never a leak).

Everything goes through the real HTTP API of a running slotd; the database is read to check
what was written, and written only to set a customer's last booking time or to load 10,000
customers at once.
"""

import contextlib
import re
import time

import pytest

from customer_util import (CUSTOMER_KEYS, base, bulk_customers, customers_snapshot, list_customers, make_customer,
                           make_label, nested_plans, ok)
from org_util import add_member, make_org, org_key
from webhook_util import LOCAL_ENV, Receiver, WEnv, WHost, call, iso, next_slot, unique

RFC3339_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture(scope="module")
def env(pg, tmp_path_factory):
    with contextlib.closing(WEnv(pg, tmp_path_factory.mktemp("slotd"), "test_customers", dict(LOCAL_ENV))) as e:
        yield e


@pytest.fixture
def host(env):
    return WHost(env.s)


def err(r, status, field=None, message=None):
    """A native error: {"error", "code"[, "field"]}."""
    assert r.status == status, f"expected {status}, got {r!r}"
    j = r.json()
    assert set(j) <= {"error", "code", "field"} and j["error"], j
    if field is not None:
        assert j.get("field") == field, j
    if message is not None:
        assert j["error"] == message, j
    return j


def org_with_roles(env, owner):
    """An org of owner's with an admin and a member (WHosts, logged in)."""
    o = make_org(env.s, owner.auth, name="Clinic", slug=unique("clinic"))
    admin, member = WHost(env.s, open_all_week=False), WHost(env.s, open_all_week=False)
    add_member(env.s, o["id"], owner.auth, admin.email, role="admin")
    add_member(env.s, o["id"], owner.auth, member.email, role="member")
    return o["id"], admin, member


# ----------------------------------------------------------------------------- lifecycle


@pytest.mark.parametrize("scope", ["personal", "org"])
def test_create_get_update_delete(env, host, scope):
    oid = org_with_roles(env, host)[0] if scope == "org" else None
    p = base(oid)
    c = make_customer(env.s, host.auth, oid, name="Ada", surname="Lovelace", email="Ada@Example.com",
                      phone="+44 (20) 7946-0958", time_zone="Europe/London", notes="likes\nmornings",
                      tags=["VIP", "Newsletter"], groups=["Wednesday"])
    assert set(c) == CUSTOMER_KEYS, c
    assert (c["user_id"], c["org_id"]) == ((host.id, None) if oid is None else (None, oid))
    assert (c["name"], c["surname"], c["email"], c["phone"], c["time_zone"], c["status"], c["notes"]) == \
        ("Ada", "Lovelace", "Ada@Example.com", "+442079460958", "Europe/London", "active", "likes\nmornings")
    assert [t["name"] for t in c["tags"]] == ["Newsletter", "VIP"] and [g["name"] for g in c["groups"]] == ["Wednesday"]
    assert c["last_booking_at"] is None and RFC3339_Z.fullmatch(c["created_at"]) and RFC3339_Z.fullmatch(c["updated_at"])
    assert ok(call(env.s, "GET", f"{p}/customers/{c['id']}", auth=host.auth)) == c
    # a patch changes what it names; tags given replace the set (by id or name, any case)
    vip = [t["id"] for t in c["tags"] if t["name"] == "VIP"][0]
    u = ok(call(env.s, "PUT", f"{p}/customers/{c['id']}", {"surname": None, "status": "blocked",
                                                            "tags": [vip, "vip", "Regular"]}, auth=host.auth))
    assert (u["name"], u["surname"], u["email"], u["status"], u["groups"]) == \
        ("Ada", None, "Ada@Example.com", "blocked", c["groups"])
    assert [t["name"] for t in u["tags"]] == ["Regular", "VIP"]
    assert u["updated_at"] >= c["updated_at"]
    u2 = ok(call(env.s, "PUT", f"{p}/customers/{c['id']}", {"phone": "0044 20 7946 0959", "groups": []},
                 auth=host.auth))
    assert (u2["phone"], u2["groups"], u2["tags"]) == ("+442079460959", [], u["tags"])
    # the tags made by name are the owner's now
    names = [t["name"] for t in ok(call(env.s, "GET", f"{p}/customer-tags", auth=host.auth))]
    assert names == ["Newsletter", "Regular", "VIP"]
    assert ok(call(env.s, "GET", f"{p}/customers", auth=host.auth)) == [u2]
    assert ok(call(env.s, "DELETE", f"{p}/customers/{c['id']}", auth=host.auth)) == {"ok": True}
    for method in ("GET", "PUT", "DELETE"):
        err(call(env.s, method, f"{p}/customers/{c['id']}", {"name": "x"} if method == "PUT" else None,
                 auth=host.auth), 404, message="customer not found")
    assert ok(call(env.s, "GET", f"{p}/customers", auth=host.auth)) == []
    assert env.db.sql(f"SELECT count(*) FROM customer_tag_links WHERE customer_id = {c['id']}") == [["0"]]


def test_minimal_customers(env, host):
    """One of name, e-mail and phone is enough; status defaults to active."""
    for fields in ({"name": "Only Name"}, {"email": "only@example.com"}, {"phone": "+15551234567"}):
        c = make_customer(env.s, host.auth, **fields)
        assert c["status"] == "active" and c["tags"] == [] and c["groups"] == []
    c = make_customer(env.s, host.auth, name="Nobody Else")
    err(call(env.s, "PUT", f"/api/customers/{c['id']}", {"name": None}, auth=host.auth), 400, "name")
    assert ok(call(env.s, "GET", f"/api/customers/{c['id']}", auth=host.auth))["name"] == "Nobody Else"


LONG = "x" * 201


@pytest.mark.parametrize("body,field", [
    ({}, "name"),
    ({"surname": "Only"}, "name"),
    ({"name": None, "email": None, "phone": None}, "name"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": LONG}, "name"),
    ({"name": "a\tb"}, "name"),
    ({"name": 7}, "name"),
    ({"name": "A", "surname": LONG}, "surname"),
    ({"name": "A", "surname": ["x"]}, "surname"),
    ({"name": "A", "email": "not-an-email"}, "email"),
    ({"name": "A", "email": "a@b"}, "email"),
    ({"name": "A", "email": 5}, "email"),
    ({"name": "A", "phone": "call me"}, "phone"),
    ({"name": "A", "phone": "12345"}, "phone"),
    ({"name": "A", "phone": "0171 2345678"}, "phone"),       # a shape of digits, but not E.164
    ({"name": "A", "phone": "+0 171 2345678"}, "phone"),
    ({"name": "A", "phone": "+1234567890123456"}, "phone"),  # 16 digits
    ({"name": "A", "time_zone": "Mars/Olympus"}, "time_zone"),
    ({"name": "A", "time_zone": 1}, "time_zone"),
    ({"name": "A", "status": "deleted"}, "status"),
    ({"name": "A", "status": None}, "status"),
    ({"name": "A", "notes": "n" * 5001}, "notes"),
    ({"name": "A", "tags": "VIP"}, "tags"),
    ({"name": "A", "tags": None}, "tags"),
    ({"name": "A", "tags": [""]}, "tags"),
    ({"name": "A", "tags": ["t" * 101]}, "tags"),
    ({"name": "A", "tags": ["two\nlines"]}, "tags"),
    ({"name": "A", "tags": [0]}, "tags"),
    ({"name": "A", "tags": [1.5]}, "tags"),
    ({"name": "A", "tags": [{"id": 1}]}, "tags"),
    ({"name": "A", "tags": [f"t{i}" for i in range(51)]}, "tags"),
    ({"name": "A", "tags": [999999999]}, "tags"),             # no such tag
    ({"name": "A", "groups": {"a": 1}}, "groups"),
    ({"name": "A", "groups": [True]}, "groups"),
    ({"name": "A", "groups": [999999999]}, "groups"),
])
def test_validation(env, host, body, field):
    c = make_customer(env.s, host.auth, name="Valid", email=f"{unique('v')}@example.com")
    before = customers_snapshot(env.db)
    err(call(env.s, "POST", "/api/customers", body, auth=host.auth), 400, field)
    if field in body:  # the same rules for a change
        err(call(env.s, "PUT", f"/api/customers/{c['id']}", body, auth=host.auth), 400, field)
    assert customers_snapshot(env.db) == before


@pytest.mark.parametrize("raw", [b"{", b"[]", b"", b'"x"', b'{"name": "a", "name": "b"}'])
def test_malformed_bodies(env, host, raw):
    c = make_customer(env.s, host.auth, name="Body")
    for method, path in (("POST", "/api/customers"), ("PUT", f"/api/customers/{c['id']}"),
                         ("POST", "/api/customer-tags"), ("POST", "/api/customer-groups")):
        r = call(env.s, method, path, raw=raw, auth=host.auth)
        assert r.status == 400 and r.json()["code"] == "BAD_REQUEST", r
    assert env.db.sql(f"SELECT count(*) FROM customers WHERE user_id = {host.id}") == [["1"]]


def test_duplicates_are_409(env, host):
    a = make_customer(env.s, host.auth, name="A", email="Same@Example.com")
    before = customers_snapshot(env.db)
    err(call(env.s, "POST", "/api/customers", {"name": "B", "email": "same@EXAMPLE.com"}, auth=host.auth), 409, "email")
    p = make_customer(env.s, host.auth, name="P", phone="+15550000001")
    before = customers_snapshot(env.db)
    # the same phone without an e-mail: 409; with an e-mail the e-mail is who they are
    err(call(env.s, "POST", "/api/customers", {"name": "Q", "phone": "+1 555 000 0001"}, auth=host.auth), 409, "phone")
    assert customers_snapshot(env.db) == before
    q = make_customer(env.s, host.auth, name="Q", phone="+15550000001", email="q@example.com")
    err(call(env.s, "PUT", f"/api/customers/{q['id']}", {"email": None}, auth=host.auth), 409, "phone")
    err(call(env.s, "PUT", f"/api/customers/{p['id']}", {"email": "SAME@example.com"}, auth=host.auth), 409, "email")
    # another owner may have the same people
    other = WHost(env.s, open_all_week=False)
    make_customer(env.s, other.auth, name="A", email="same@example.com")
    assert ok(call(env.s, "GET", f"/api/customers/{a['id']}", auth=host.auth))["email"] == "Same@Example.com"


# ----------------------------------------------------------------------------- search, filters, pages


def test_query_matches_each_field_any_case(env, host):
    a = make_customer(env.s, host.auth, name="Grace", surname="Hopper", email="admiral@navy.example",
                      phone="+12025550143")
    b = make_customer(env.s, host.auth, name="Alan", surname="Turing", email="alan@bletchley.example")
    c = make_customer(env.s, host.auth, name="100% sure_thing", email="pct@example.com")
    d = make_customer(env.s, host.auth, name="100x sure-thing back\\slash", email="x@example.com")
    cases = {"grace": [a], "GRAC": [a], "opp": [a], "HOPPER": [a], "admiral@NAVY": [a], "2025550": [a],
             "+1202": [a], "tur": [b], "bletchley.EX": [b], "example": [a, b, c, d], "%": [c], "0%": [c],
             "_": [c], "e_t": [c], "\\": [d], "k\\s": [d], "nobody": [], "a%n": []}
    for q, want in cases.items():
        ids, total, _ = list_customers(env.s, host.auth, query="query=" + q.replace("%", "%25").replace("+", "%2B")
                                       .replace("\\", "%5C"))
        assert sorted(ids) == sorted(x["id"] for x in want) and total == len(want), (q, ids)
    # an empty query is no filter; an overlong one is refused
    assert list_customers(env.s, host.auth, query="query=")[1] == 4
    err(call(env.s, "GET", "/api/customers?query=" + "q" * 201, auth=host.auth), 400, "query")


def test_tag_group_and_status_filters(env, host):
    vip = make_label(env.s, host.auth, "tags", "VIP")
    a = make_customer(env.s, host.auth, name="A", tags=[vip["id"]], groups=["Mornings"])
    b = make_customer(env.s, host.auth, name="B", tags=["vip", "Late"], status="blocked")
    c = make_customer(env.s, host.auth, name="C", groups=["mornings", "Evenings"])
    mornings = [g for g in a["groups"]][0]
    assert [g["id"] for g in c["groups"] if g["name"] == "Mornings"] == [mornings["id"]]
    cases = {f"tag={vip['id']}": [a, b], "tag=VIP": [a, b], "tag=vIp": [a, b], "tag=late": [b], "tag=none": [],
             "tag=999999999": [], f"group={mornings['id']}": [a, c], "group=MORNINGS": [a, c],
             "group=evenings": [c], "status=blocked": [b], "status=active": [a, c],
             "tag=vip&status=active": [a], "tag=vip&group=mornings": [a], "tag=vip&group=evenings": []}
    for q, want in cases.items():
        ids, total, _ = list_customers(env.s, host.auth, query=q)
        assert ids == [x["id"] for x in want] and total == len(want), (q, ids)
    # a tag named like a number answers to its name and its id
    n = make_label(env.s, host.auth, "tags", "2024")
    d = make_customer(env.s, host.auth, name="D", tags=["2024"])
    assert list_customers(env.s, host.auth, query="tag=2024")[0] == [d["id"]]
    assert list_customers(env.s, host.auth, query=f"tag={n['id']}")[0] == [d["id"]]
    for q, field in (("status=gone", "status"), ("tag=" + "t" * 101, "tag"), ("group=" + "g" * 101, "group"),
                     ("limit=0", "limit"), ("limit=201", "limit"), ("page=0", "page"), ("page=x", "page")):
        err(call(env.s, "GET", f"/api/customers?{q}", auth=host.auth), 400, field)


def test_order_and_pagination(env, host):
    names = ["delta", "alpha", "charlie", "bravo", "echo", "foxtrot", "golf"]
    made = {n: make_customer(env.s, host.auth, name=n) for n in names}
    # golf booked last, echo before it; the rest never: by name
    env.db.sql(f"UPDATE customers SET last_booking_at = now() - interval '1 day' WHERE id = {made['echo']['id']};"
               f"UPDATE customers SET last_booking_at = now() WHERE id = {made['golf']['id']}")
    want = [made[n]["id"] for n in ("golf", "echo", "alpha", "bravo", "charlie", "delta", "foxtrot")]
    assert list_customers(env.s, host.auth)[0] == want
    got = []
    for page in (1, 2, 3):
        ids, total, r = list_customers(env.s, host.auth, query=f"limit=3&page={page}")
        assert total == 7
        got += ids
        link = r.header("Link")
        assert 'rel="last"' in link and "page=3" in link, link
        assert ('rel="next"' in link) == (page < 3)
    assert got == want
    assert list_customers(env.s, host.auth, query="limit=3&page=4")[0] == []
    first = ok(call(env.s, "GET", "/api/customers?limit=1", auth=host.auth))[0]
    assert first["id"] == made["golf"]["id"] and RFC3339_Z.fullmatch(first["last_booking_at"])


# ----------------------------------------------------------------------------- tags and groups


@pytest.mark.parametrize("kind", ["tags", "groups"])
def test_labels(env, host, kind):
    one = kind[:-1]
    t = make_label(env.s, host.auth, kind, "Zeta")
    assert set(t) == {"id", "name", "created_at"} and t["name"] == "Zeta" and RFC3339_Z.fullmatch(t["created_at"])
    err(call(env.s, "POST", f"/api/customer-{kind}", {"name": "zETA"}, auth=host.auth), 409, "name")
    for body in ({}, {"name": ""}, {"name": " "}, {"name": "x" * 101}, {"name": 3}, {"name": "a\nb"}):
        err(call(env.s, "POST", f"/api/customer-{kind}", body, auth=host.auth), 400, "name")
    alpha = make_label(env.s, host.auth, kind, "alpha")
    make_customer(env.s, host.auth, name="A", **{kind: ["Zeta", "Beta"]})
    make_customer(env.s, host.auth, name="B", **{kind: [t["id"]]})
    lst = ok(call(env.s, "GET", f"/api/customer-{kind}", auth=host.auth))
    assert [(x["name"], x["customers"]) for x in lst] == [("alpha", 0), ("Beta", 1), ("Zeta", 2)]
    assert {x["id"]: x for x in lst}[alpha["id"]] == {**alpha, "customers": 0}
    assert ok(call(env.s, "DELETE", f"/api/customer-{kind}/{t['id']}", auth=host.auth)) == {"ok": True}
    err(call(env.s, "DELETE", f"/api/customer-{kind}/{t['id']}", auth=host.auth), 404, message=f"{one} not found")
    err(call(env.s, "DELETE", f"/api/customer-{kind}/abc", auth=host.auth), 404, message=f"{one} not found")
    assert [x[kind] for x in ok(call(env.s, "GET", "/api/customers", auth=host.auth))] == \
        [[{"id": lst[1]["id"], "name": "Beta"}], []]
    # the name is free again
    make_label(env.s, host.auth, kind, "zeta")


# ----------------------------------------------------------------------------- events


def test_customer_created_reaches_webhooks(env, host):
    oid, admin, _ = org_with_roles(env, host)
    rec, org_rec = Receiver(), Receiver()
    try:
        ok(host.hook_req(rec.url(), events=["customer.created"]), 201)
        ok(call(env.s, "POST", f"/api/orgs/{oid}/webhooks", {"url": org_rec.url(), "events": ["customer.created"]},
                auth=admin.auth), 201)
        c = make_customer(env.s, host.auth, name="Hooked", email="hooked@example.com", tags=["New"])
        oc = make_customer(env.s, admin.auth, oid, name="Org Hooked", phone="+15557654321")
        # an update is not a creation
        ok(call(env.s, "PUT", f"/api/customers/{c['id']}", {"notes": "x"}, auth=host.auth))
        rec.wait_count(1)
        org_rec.wait_count(1)
        time.sleep(0.5)
        for r, want in ((rec, c), (org_rec, oc)):
            got = r.snapshot()
            assert len(got) == 1, got
            assert got[0].header("X-Slotd-Event") == "customer.created"
            j = got[0].json()
            assert j["event"] == "customer.created" and j["data"]["customer"] == want, j
    finally:
        rec.close()
        org_rec.close()


# ----------------------------------------------------------------------------- bookings: history, export, erasure


def test_history_newest_first(env, host):
    et = host.et()
    slots = sorted(next_slot() for _ in range(3))
    mine = [host.book(et, t, email="Hist@Example.com", name="Hist Ory") for t in (slots[1], slots[0], slots[2])]
    other = host.book(et, next_slot(), email="someone@example.com")
    cid = mine[0]["customer_id"]
    assert cid and all(b["customer_id"] == cid for b in mine) and other["customer_id"] != cid
    r = call(env.s, "GET", f"/api/customers/{cid}/bookings", auth=host.auth)
    got = ok(r)
    assert [b["start"] for b in got] == [iso(t) for t in reversed(slots)] and r.header("X-Total-Count") == "3"
    assert got[0] == ok(call(env.s, "GET", f"/api/bookings/{got[0]['id']}", auth=host.auth))
    r = call(env.s, "GET", f"/api/customers/{cid}/bookings?limit=2&page=2", auth=host.auth)
    assert [b["start"] for b in ok(r)] == [iso(slots[0])] and r.header("X-Total-Count") == "3"
    # the booking made the customer, and dates them
    c = ok(call(env.s, "GET", f"/api/customers/{cid}", auth=host.auth))
    assert (c["email"], c["name"], c["surname"]) == ("hist@example.com", "Hist", "Ory")  # folded by the booking path and c["last_booking_at"]
    assert ok(call(env.s, "GET", "/api/customers", auth=host.auth))[0]["id"] == other["customer_id"]


def test_collective_booking_appears_once(env, host):
    oid, admin, member = org_with_roles(env, host)
    for u in (admin, member):
        ok(u.call("PUT", f"/api/availability-schedules/{default_schedule(u)}",
                  {"rules": [{"day": d, "start": "00:00", "end": "24:00"} for d in range(7)], "timezone": "UTC"}))
    et = ok(call(env.s, "POST", f"/api/orgs/{oid}/event-types",
                 {"name": "Panel", "min_notice_hours": 0, "scheduling": "collective",
                  "hosts": [{"user_id": admin.id}, {"user_id": member.id}]}, auth=host.auth), 201)
    slug = ok(call(env.s, "GET", f"/api/orgs/{oid}", auth=host.auth))["slug"]
    b = ok(call(env.s, "POST", f"/api/book/{slug}/{et['slug']}",
                {"name": "Panel Guest", "email": "panel@example.com", "start_time": iso(next_slot())}), 201)["booking"]
    assert env.db.sql(f"SELECT count(*) FROM bookings WHERE id = {b['id']} OR parent_id = {b['id']}") == [["2"]]
    got = ok(call(env.s, "GET", f"/api/orgs/{oid}/customers/{b['customer_id']}/bookings", auth=member.auth))
    assert [x["id"] for x in got] == [b["id"]]
    ex = ok(call(env.s, "GET", f"/api/orgs/{oid}/customers/{b['customer_id']}/export", auth=member.auth))
    assert [x["id"] for x in ex["bookings"]] == [b["id"]]


def default_schedule(u):
    return [x for x in ok(u.call("GET", "/api/availability-schedules")) if x["is_default"] in (1, True)][0]["id"]


def test_export_holds_everything(env, host):
    et = host.et(price="25.00", currency="EUR")
    b1 = host.book(et, next_slot(), email="export@example.com", name="Ex Port", phone="+15550001111", notes="n1")
    b2 = host.book(et, next_slot(), email="EXPORT@example.com", name="Ex Port")
    other = host.book(et, next_slot(), email="not-them@example.com")
    pay = ok(host.call("POST", f"/api/bookings/{b1['id']}/payments",
                       {"amount": "25.00", "currency": "EUR", "method": "card", "external_id": "ch_x"}), 201)
    cid = b1["customer_id"]
    ok(call(env.s, "PUT", f"/api/customers/{cid}", {"tags": ["Exported"]}, auth=host.auth))
    ex = ok(call(env.s, "GET", f"/api/customers/{cid}/export", auth=host.auth))
    assert set(ex) == {"customer", "bookings", "payments", "events", "exported_at"}
    assert ex["customer"] == ok(call(env.s, "GET", f"/api/customers/{cid}", auth=host.auth))
    assert RFC3339_Z.fullmatch(ex["exported_at"])
    assert [x["id"] for x in ex["bookings"]] == [x["id"] for x in ok(call(env.s, "GET", f"/api/customers/{cid}/bookings",
                                                                               auth=host.auth))]
    assert {x["id"] for x in ex["bookings"]} == {b1["id"], b2["id"]}
    assert ex["payments"] == [pay["payment"]]
    assert set(ex["payments"][0]) == {"id", "booking_id", "kind", "amount", "currency", "method", "external_id",
                                      "created_at"}
    kinds = [(e["event"], (e["data"].get("booking") or e["data"].get("customer"))["id"]) for e in ex["events"]]
    assert ("customer.created", cid) in kinds and ("booking.created", b1["id"]) in kinds
    assert ("booking.created", b2["id"]) in kinds and ("booking.paid", b1["id"]) in kinds
    assert all(i != other["id"] for _, i in kinds)


def test_erasure_keeps_the_slot_and_nothing_personal(env, host):
    rec = Receiver()
    try:
        ok(host.hook_req(rec.url(), events=["booking.created", "customer.created"]), 201)
        et = host.et()
        start = next_slot()
        b = host.book(et, start, email="Forget.Me@example.com", name="Forget Me", phone="+15559998888",
                      notes="secret note")
        keep = host.book(et, next_slot(), email="keep@example.com", name="Keep Me")
        cid = b["customer_id"]
        rec.wait_count(4)
        assert ok(call(env.s, "DELETE", f"/api/customers/{cid}", auth=host.auth)) == {"ok": True}
        err(call(env.s, "GET", f"/api/customers/{cid}", auth=host.auth), 404, message="customer not found")
        err(call(env.s, "GET", f"/api/customers/{cid}/export", auth=host.auth), 404)
        assert cid not in list_customers(env.s, host.auth)[0]
        # the booking keeps its time and status, and nothing of who made it
        row = env.db.sql(f"SELECT status, coalesce(invitee_name, '-'), coalesce(invitee_email, '-'), "
                         f"coalesce(phone, '-'), coalesce(notes, '-'), coalesce(customer_id::text, '-') "
                         f"FROM bookings WHERE id = {b['id']}")[0]
        assert row == ["confirmed", "-", "-", "-", "-", "-"], row
        r = call(env.s, "POST", f"/api/book/{host.slug}/{et['slug']}",
                 {"name": "Late", "email": "late@example.com", "start_time": iso(start)})
        assert r.status == 409, r
        err(call(env.s, "POST", f"/api/cancel/{b['cancel_token']}/confirm"), 404)
        for text in ("forget.me", "Forget Me", "5559998888", "secret note"):
            for table, col in (("events", "payload::text"), ("webhook_deliveries", "payload"),
                               ("bookings", "row_to_json(bookings)::text"), ("idempotency_keys", "coalesce(body, '')")):
                n = env.db.sql(f"SELECT count(*) FROM {table} WHERE {col} ILIKE '%{text}%'")
                assert n == [["0"]], (text, table)
        # another customer of the host is untouched
        assert call(env.s, "POST", f"/api/cancel/{keep['cancel_token']}/confirm").status == 200
        # a new booking with that address makes a new customer
        again = host.book(et, next_slot(), email="forget.me@example.com", name="Forget Me")
        assert again["customer_id"] not in (None, cid)
    finally:
        rec.close()


# ----------------------------------------------------------------------------- who sees what


def test_who_sees_what(env, host):
    a, b = host, WHost(env.s, open_all_week=False)
    x, x_admin, x_member = org_with_roles(env, a)
    y = make_org(env.s, b.auth, name="Other", slug=unique("other"))["id"]
    _, kx = org_key(env.s, x, a.auth)
    _, ky = org_key(env.s, y, b.auth)

    def seed(auth, org, tag):
        c = make_customer(env.s, auth, org, name=f"Cust {tag}", email=f"{tag}@example.com", tags=[f"T{tag}"],
                          groups=[f"G{tag}"])
        return {"cid": c["id"], "tid": c["tags"][0]["id"], "gid": c["groups"][0]["id"]}

    ids = {"a": seed(a.auth, None, "a"), "b": seed(b.auth, None, "b"), "x": seed(a.auth, x, "x"),
           "y": seed(b.auth, y, "y")}
    one = [("GET", "/customers/{cid}", None), ("GET", "/customers/{cid}/bookings", None),
           ("GET", "/customers/{cid}/export", None), ("PUT", "/customers/{cid}", {"notes": "pwned"}),
           ("DELETE", "/customers/{cid}", None), ("DELETE", "/customer-tags/{tid}", None),
           ("DELETE", "/customer-groups/{gid}", None)]
    coll = [("GET", "/customers", None), ("POST", "/customers", {"name": "Intruder"}),
            ("GET", "/customer-tags", None), ("POST", "/customer-tags", {"name": "Intruder"}),
            ("GET", "/customer-groups", None), ("POST", "/customer-groups", {"name": "Intruder"})]
    what = {"cid": "customer not found", "tid": "tag not found", "gid": "group not found"}
    before = customers_snapshot(env.db)

    def each(org, owner):
        for method, path, body in one:
            var = re.search(r"\{(\w+)\}", path).group(1)
            yield method, base(org) + path.format(**ids[owner]), body, what[var]

    # another owner's ids are not found, whoever asks and in whichever scope
    for auth, org, owners in ((b.auth, None, "axy"), (a.auth, None, "bxy"), (a.auth, x, "aby"),
                              (x_admin.auth, x, "aby"), (kx, x, "aby"), (x_member.auth, x, "aby")):
        for owner in owners:
            for method, path, body, msg in each(org, owner):
                if org is not None and method != "GET" and auth is x_member.auth:
                    err(call(env.s, method, path, body, auth=auth), 403)
                else:
                    err(call(env.s, method, path, body, auth=auth), 404, message=msg)
    # an org one is not in (a user or another org's key) is not found at all
    for auth in (b.auth, ky):
        for method, path, body, _ in each(x, "x"):
            err(call(env.s, method, path, body, auth=auth), 404, message="organisation not found")
        for method, path, body in coll:
            err(call(env.s, method, base(x) + path, body, auth=auth), 404, message="organisation not found")
    # an org key has no personal customers
    for method, path, body in coll:
        err(call(env.s, method, "/api" + path, body, auth=kx), 403)
    for method, path, body, _ in each(None, "x"):
        err(call(env.s, method, path, body, auth=kx), 403)
    # a member reads the org's customers but changes nothing
    for method, path, body in coll:
        r = call(env.s, method, base(x) + path, body, auth=x_member.auth)
        assert r.status == (200 if method == "GET" else 403), r
    assert customers_snapshot(env.db) == before
    lst = ok(call(env.s, "GET", f"{base(x)}/customers", auth=x_member.auth))
    assert [c["id"] for c in lst] == [ids["x"]["cid"]]
    assert [c["id"] for c in ok(call(env.s, "GET", "/api/customers", auth=b.auth))] == [ids["b"]["cid"]]
    # the org's key and admins write
    ok(call(env.s, "PUT", f"{base(x)}/customers/{ids['x']['cid']}", {"notes": "by key"}, auth=kx))
    ok(call(env.s, "DELETE", f"{base(x)}/customer-tags/{ids['x']['tid']}", auth=x_admin.auth))
    ok(call(env.s, "DELETE", f"{base(x)}/customers/{ids['x']['cid']}", auth=kx))
    ok(call(env.s, "GET", f"/api/customers/{ids['a']['cid']}", auth=a.auth))


# ----------------------------------------------------------------------------- 10,000 customers


def test_search_uses_the_trigram_index_at_10k(env, host):
    bulk_customers(env.db, "user_id", host.id, 10000)
    ids, total, _ = list_customers(env.s, host.auth, query="query=PERSON4242%40")
    assert total == 1 and len(ids) == 1
    c = ok(call(env.s, "GET", f"/api/customers/{ids[0]}", auth=host.auth))
    assert (c["email"], c["phone"]) == ("person4242@example71.com", "+491500004242")
    plans = nested_plans(env.db, f"SELECT * FROM api.customers_list(NULL, {host.id}, NULL, 'person4242@', NULL, "
                                 "NULL, NULL, 50, 0)")
    assert "customers_search" in plans and "Seq Scan on customers" not in plans, plans
    # the unfiltered first page: newest booking first (a top-N sort of the owner's customers)
    first = ok(call(env.s, "GET", "/api/customers?limit=2", auth=host.auth))
    assert [x["name"] for x in first] == ["Name3", "Name6"]


def test_erasure_forgets_an_idempotent_create(env, host):
    body, h = {"name": "Idem Potent", "email": "idem@example.com"}, {"Idempotency-Key": unique("idem")}
    c = ok(call(env.s, "POST", "/api/customers", body, auth=host.auth, headers=h), 201)
    ok(call(env.s, "DELETE", f"/api/customers/{c['id']}", auth=host.auth))
    r = call(env.s, "POST", "/api/customers", body, auth=host.auth, headers=h)
    assert r.status != 201 or r.json()["id"] != c["id"], r
