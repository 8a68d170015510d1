"""The Calendesk dialect (issue 18) on a real slotd and PostgreSQL: requests carrying X-Tenant
(an org slug, or a booking-page slug as a one-employee tenant) on Calendesk's paths. Every body
is validated against calendesk_schemas (from seed 000 and ../shared/vendors/README.md §2).
Covers the seed's four calls, every endpoint and error shape, the Laravel paginator's
arithmetic, slot times in a customer zone across a DST change, a race for one employee and
time, customer search by an e-mail fragment, booking.paid after a full payment,
customer.created after a new customer's first booking, the tenant/key matrix, and that the
native API is untouched (the same paths without X-Tenant answer as slotd answers a path it does
not route)."""

import datetime as dt
import urllib.parse

import pytest

from accounts_util import NO_LIMITS, call, new_user, xkey
from booking_util import OPEN_ALL_WEEK, Host, concurrently
from calendesk_schemas import (BOOKING, DELETED, EMPLOYEE, LABEL, LABELS, PAYMENT, SERVICE, SLOTS, USER, err, ok,
                               page_of)
from org_util import add_member, make_org, org_key
from team_util import next_monday


@pytest.fixture
def s(slotd_factory):
    return slotd_factory(env=NO_LIMITS)


class Tenant:
    """An org (slug cdesk<n>, zone tz) with two members hosting a round-robin "Consultation"
    (60 minutes, 100.00 EUR); members' default schedules are Mon-Fri 09:00-17:00 in their zones."""

    def __init__(self, s, n=1, tz="Europe/Warsaw", zones=("Europe/Warsaw", "Europe/Warsaw"), **service):
        self.s = s
        self.owner = new_user(s, f"cdowner{n}@example.com", name=f"Owner {n}")
        self.slug = f"cdesk{n}"
        self.org = make_org(s, self.owner.session, name=f"Desk {n}", slug=self.slug, timezone=tz)
        self.id = self.org["id"]
        self.members = [add_member(s, self.id, self.owner.session, f"emp{n}-{i}@example.com",
                                   name=f"Emp{i} Person{n}", timezone=z) for i, z in enumerate(zones)]
        self.emp = [m["user_id"] for m in self.members]
        self.key_id, self.key = org_key(s, self.id, self.owner.session)
        body = {"name": "Consultation", "scheduling": "round_robin", "hosts": [{"user_id": i} for i in self.emp],
                "duration_minutes": 60, "price": 100, "currency": "EUR", "min_notice_hours": 0,
                "max_future_days": 365, **service}
        r = call(s, "POST", f"/api/orgs/{self.id}/event-types", body, auth=self.owner.session)
        assert r.status == 201, r
        self.service = r.json()

    def h(self, key=True, tenant=None):
        h = {"X-Tenant": tenant or self.slug}
        if key:
            h.update(self.key if key is True else key)
        return h

    def get(self, path, key=True, **params):
        q = ("?" + urllib.parse.urlencode(params)) if params else ""
        return call(self.s, "GET", path + q, headers=self.h(key))

    def send(self, method, path, body=None, key=True):
        return call(self.s, method, path, body, headers=self.h(key))

    def customer(self, name="Jane", surname="Smith", email="jane@example.com", **extra):
        r = self.send("POST", "/api/admin/users", {"name": name, "surname": surname, "email": email, **extra})
        return ok(r, USER, 201)

    def book(self, employee, customer, day, hm, **extra):
        body = {"employee_id": employee, "user_id": customer, "service_id": self.service["id"],
                "start_date": day.isoformat(), "start_time": hm, "status": "approved",
                "description": "Initial consultation", **extra}
        return self.send("POST", "/api/bookings", body)


def monday():
    return next_monday(2)


# ----------------------------------------------------------------------------- the seed's calls


def test_seed_calls(s, db):
    t = Tenant(s)
    day = monday()
    # 1. available slots (X-Tenant only), keyed by employee, on the customer's wall clock
    r = call(s, "GET", f"/api/available-slots?service_id={t.service['id']}&start_date={day.isoformat()}"
                       "&number_of_days=7&customer_time_zone=Europe/Warsaw", headers={"X-Tenant": t.slug})
    slots = ok(r, SLOTS)
    assert sorted(slots) == sorted(str(e) for e in t.emp)
    mine = slots[str(t.emp[0])]
    assert sorted(mine) == [(day + dt.timedelta(days=i)).isoformat() for i in range(5)]  # Mon-Fri only
    assert mine[day.isoformat()] == ["09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]
    # 4. customer search by e-mail
    jane = t.customer()
    r = t.get("/api/admin/users", query="jane@example.com", limit=10)
    page = ok(r, page_of(USER))
    assert page["current_page"] == 1 and page["total"] == 1
    assert page["data"][0]["id"] == jane["id"] and page["data"][0]["email"] == "jane@example.com"
    assert page["data"][0]["name"] == "Jane" and page["data"][0]["surname"] == "Smith"
    assert page["data"][0]["status"] == "active"
    # 2. create a booking: exactly the seed's object
    r = t.book(t.emp[0], jane["id"], day + dt.timedelta(days=14), "10:00")
    b = ok(r, BOOKING, 201)
    assert b == {"id": b["id"], "employee_id": t.emp[0], "user_id": jane["id"], "service_id": t.service["id"],
                 "start_date": (day + dt.timedelta(days=14)).isoformat(), "start_time": "10:00", "end_time": "11:00",
                 "status": "approved",
                 "service": {"id": t.service["id"], "name": "Consultation", "duration": 60, "price": 10000}}
    row = db.sql(f"SELECT host_id, status, notes, customer_id, start_at AT TIME ZONE 'Europe/Warsaw' FROM bookings "
                 f"WHERE id = {b['id']}")[0]
    assert row[:4] == [str(t.emp[0]), "confirmed", "Initial consultation", str(jane["id"])]
    assert row[4].endswith("10:00:00")
    # 3. register a webhook
    r = t.send("POST", "/api/admin/webhooks", {"url": "https://your-app.com/webhooks", "events": [
        "booking_created", "booking_updated", "booking_paid", "user_created"]})
    assert r.status == 201, r
    assert r.json()["events"] == ["booking_created", "booking_updated", "booking_paid", "user_created"]


# ----------------------------------------------------------------------------- selection


def test_without_x_tenant_native_answers(s):
    t = Tenant(s)
    for method, path in [("GET", "/api/available-slots?service_id=1"), ("GET", "/api/admin/users"),
                         ("GET", "/api/admin/bookings"), ("GET", "/api/admin/services"),
                         ("POST", "/api/admin/payments/bookings"), ("GET", "/api/admin/employees/1")]:
        r = call(s, method, path, {} if method == "POST" else None, auth=t.key)
        assert r.status == 404, (path, r)
        assert r.json() == {"error": "no such resource", "code": "NOT_FOUND"}
        r = call(s, method, path, {} if method == "POST" else None)
        assert r.status == 404 and r.json()["code"] == "NOT_FOUND"
    # POST /api/bookings shares its path with the native GET: the router's 405
    r = call(s, "POST", "/api/bookings", {"employee_id": 1}, auth=t.key)
    assert r.status == 405, r
    assert r.json() == {"error": "method not allowed for this resource", "code": "METHOD_NOT_ALLOWED"}
    assert r.header("Allow") == "GET, HEAD, OPTIONS"
    # and the native GET /api/bookings is still the native list
    r = call(s, "GET", "/api/bookings", auth=t.owner.session)
    assert r.status == 200, r
    assert "message" not in r.json()


def test_tenant_key_matrix(s):
    a, b = Tenant(s, 1), Tenant(s, 2)
    solo = new_user(s, "solo@example.com", name="Solo Person", key=True)
    other = new_user(s, "other@example.com", name="Other Person", key=True)
    paths = {"/api/admin/users": page_of(USER), "/api/admin/bookings": page_of(BOOKING),
             "/api/admin/employees": page_of(EMPLOYEE), "/api/admin/tags": LABELS}
    for p, schema in paths.items():
        ok(call(s, "GET", p, headers={"X-Tenant": a.slug, **a.key}), schema)
        err(call(s, "GET", p, headers={"X-Tenant": a.slug, **b.key}), 403)           # another org's key
        err(call(s, "GET", p, headers={"X-Tenant": a.slug, **solo.api_key}), 403)   # a personal key
        err(call(s, "GET", p, headers={"X-Tenant": a.slug, **a.owner.session}), 403)  # the owner's session
        err(call(s, "GET", p, headers={"X-Tenant": a.slug}), 401)                   # no key
        err(call(s, "GET", p, headers={"X-Tenant": a.slug, **xkey("cal_" + "0" * 64)}), 401)
        err(call(s, "GET", p, headers={"X-Tenant": "nobody-here", **a.key}), 404)   # unknown tenant
        # a booking page as a one-employee tenant: its user's own key only
        ok(call(s, "GET", p, headers={"X-Tenant": solo.slug, **solo.api_key}), schema)
        err(call(s, "GET", p, headers={"X-Tenant": solo.slug, **other.api_key}), 403)
        err(call(s, "GET", p, headers={"X-Tenant": solo.slug, **a.key}), 403)
    # X-Tenant alone is enough for slots and services
    ok(call(s, "GET", "/api/admin/services", headers={"X-Tenant": a.slug}), page_of(SERVICE))
    r = call(s, "GET", f"/api/available-slots?service_id={a.service['id']}&start_date={monday()}",
             headers={"X-Tenant": a.slug})
    ok(r, SLOTS)
    # another tenant's service is not found there
    r = call(s, "GET", f"/api/available-slots?service_id={a.service['id']}&start_date={monday()}",
             headers={"X-Tenant": b.slug})
    err(r, 404)
    err(call(s, "GET", f"/api/admin/services/{a.service['id']}", headers={"X-Tenant": b.slug}), 404)
    # the one-employee tenant
    emps = ok(call(s, "GET", "/api/admin/employees", headers={"X-Tenant": solo.slug, **solo.api_key}),
              page_of(EMPLOYEE))
    assert [e["id"] for e in emps["data"]] == [solo.id] and emps["data"][0]["name"] == "Solo"
    assert emps["data"][0]["surname"] == "Person"


# ----------------------------------------------------------------------------- slots


def test_slots_customer_zone_across_dst(s):
    # employees work 09:00-17:00 UTC; Warsaw moves from UTC+1 to UTC+2 on Sunday 2027-03-28
    t = Tenant(s, zones=("UTC",))
    q = f"/api/available-slots?service_id={t.service['id']}&start_date=2027-03-26&number_of_days=4"
    warsaw = ok(call(s, "GET", q + "&customer_time_zone=Europe/Warsaw", headers=t.h(False)), SLOTS)
    days = warsaw[str(t.emp[0])]
    assert sorted(days) == ["2027-03-26", "2027-03-29"]  # the weekend has no slots and is left out
    assert days["2027-03-26"] == [f"{h}:00" for h in range(10, 18)]
    assert days["2027-03-29"] == [f"{h}:00" for h in range(11, 19)]
    # the default zone is the tenant's (the org's: Warsaw)
    assert ok(call(s, "GET", q, headers=t.h(False)), SLOTS) == warsaw
    utc = ok(call(s, "GET", q + "&customer_time_zone=UTC", headers=t.h(False)), SLOTS)[str(t.emp[0])]
    assert utc["2027-03-26"] == utc["2027-03-29"] == [f"{h:02d}:00" for h in range(9, 17)]
    # a day in Tokyo starts at 15:00 UTC the day before: Thursday's last slots open the 26th there,
    # and Friday's last ones fall on Saturday
    tokyo = ok(call(s, "GET", q + "&customer_time_zone=Asia/Tokyo", headers=t.h(False)), SLOTS)[str(t.emp[0])]
    assert tokyo["2027-03-26"] == ["00:00", "01:00"] + [f"{h}:00" for h in range(18, 24)]
    assert tokyo["2027-03-27"] == ["00:00", "01:00"]


def test_slots_params_and_errors(s):
    t = Tenant(s)
    day = monday()
    base = f"/api/available-slots?service_id={t.service['id']}&start_date={day}"
    one = ok(call(s, "GET", base + f"&number_of_days=1&employee_ids={t.emp[1]}", headers=t.h(False)), SLOTS)
    assert list(one) == [str(t.emp[1])] and list(one[str(t.emp[1])]) == [day.isoformat()]
    both = ok(call(s, "GET", base + f"&employee_ids={t.emp[0]},{t.emp[1]}", headers=t.h(False)), SLOTS)
    assert sorted(both) == sorted(map(str, t.emp))
    # a booked hour is gone for that employee only
    jane = t.customer()
    ok(t.book(t.emp[0], jane["id"], day, "10:00"), BOOKING, 201)
    after = ok(call(s, "GET", base + "&number_of_days=1", headers=t.h(False)), SLOTS)
    assert "10:00" not in after[str(t.emp[0])][day.isoformat()]
    assert "10:00" in after[str(t.emp[1])][day.isoformat()]
    for q, field in [("/api/available-slots?start_date=2030-01-01", "service_id"),
                     (f"/api/available-slots?service_id=x&start_date={day}", "service_id"),
                     (f"/api/available-slots?service_id={t.service['id']}", "start_date"),
                     (base.replace(str(day), "2030-02-30"), "start_date"),
                     (base + "&number_of_days=0", "number_of_days"), (base + "&number_of_days=63", "number_of_days"),
                     (base + "&customer_time_zone=Mars/Olympus", "customer_time_zone"),
                     (base + "&employee_ids=1,x", "employee_ids")]:
        err(call(s, "GET", q, headers=t.h(False)), 422, field)
    ok(call(s, "GET", base + "&number_of_days=62", headers=t.h(False)), SLOTS)
    err(call(s, "GET", f"/api/available-slots?service_id=999999&start_date={day}", headers=t.h(False)), 404)


# ----------------------------------------------------------------------------- bookings


def test_booking_race_one_wins(s, db):
    t = Tenant(s)
    jane = t.customer()
    day = monday()
    body = {"employee_id": t.emp[0], "user_id": jane["id"], "service_id": t.service["id"], "start_date": str(day),
            "start_time": "11:00", "status": "approved"}
    rs = concurrently(s, [("POST", "/api/bookings", body, t.h())] * 2)
    assert sorted(r.status for r in rs) == [201, 409], rs
    won = [r for r in rs if r.status == 201][0]
    lost = [r for r in rs if r.status == 409][0]
    ok(won, BOOKING, 201)
    err(lost, 409)
    assert int(db.sql("SELECT count(*) FROM bookings WHERE status = 'confirmed'")[0][0]) == 1
    # the other employee is free at that time
    b = ok(t.book(t.emp[1], jane["id"], day, "11:00"), BOOKING, 201)
    assert b["employee_id"] == t.emp[1]


def test_booking_create_errors_change_nothing(s, db):
    t = Tenant(s)
    other = Tenant(s, 2)
    jane = t.customer()
    stranger = other.customer(email="stranger@example.com")
    day = monday()
    good = {"employee_id": t.emp[0], "user_id": jane["id"], "service_id": t.service["id"], "start_date": str(day),
            "start_time": "10:00", "status": "approved"}
    before = db.sql("SELECT count(*) FROM bookings")[0][0]
    r = call(s, "POST", "/api/bookings", raw=b'{"employee_id": 1,', headers=t.h())
    err(r, 400)
    for change, field in [({"employee_id": "ten"}, "employee_id"), ({"employee_id": None}, "employee_id"),
                          ({"service_id": 999999}, "service_id"), ({"service_id": other.service["id"]}, "service_id"),
                          ({"employee_id": other.emp[0]}, "employee_id"), ({"user_id": 999999}, "user_id"),
                          ({"user_id": stranger["id"]}, "user_id"), ({"start_date": "2030-02-30"}, "start_date"),
                          ({"start_time": "25:00"}, "start_time"), ({"start_time": "10:00:00"}, "start_time"),
                          ({"status": "paid"}, "status"), ({"status": "pending"}, "status"),
                          ({"description": 5}, "description")]:
        err(call(s, "POST", "/api/bookings", {**good, **change}, headers=t.h()), 422, field)
    body = dict(good)
    del body["user_id"]
    err(call(s, "POST", "/api/bookings", body, headers=t.h()), 422, "user_id")
    err(call(s, "POST", "/api/bookings", {**body, "customer": {"name": "No Mail"}}, headers=t.h()), 422, "customer.email")
    # a Saturday 03:00 is no working time: taken/unavailable is 409
    sat = day - dt.timedelta(days=2)
    err(call(s, "POST", "/api/bookings", {**good, "start_date": str(sat), "start_time": "03:00"}, headers=t.h()), 409)
    # a wall time skipped by the clock change does not exist
    err(call(s, "POST", "/api/bookings", {**good, "start_date": "2027-03-28", "start_time": "02:30"}, headers=t.h()),
        422, "start_time")
    # keys: none, another tenant's
    err(call(s, "POST", "/api/bookings", good, headers=t.h(False)), 401)
    err(call(s, "POST", "/api/bookings", good, headers=t.h(other.key)), 403)
    assert db.sql("SELECT count(*) FROM bookings")[0][0] == before


def test_booking_with_inline_customer_fires_customer_created(s, db):
    t = Tenant(s)
    day = monday()
    body = {"employee_id": t.emp[0], "service_id": t.service["id"], "start_date": str(day), "start_time": "09:00",
            "customer": {"name": "Nina", "surname": "New", "email": "Nina.New@example.com", "phone": "+48 600 100 200"},
            "send_notifications": False}
    b = ok(call(s, "POST", "/api/bookings", body, headers=t.h()), BOOKING, 201)
    assert b["status"] == "approved" and b["user_id"]
    u = ok(t.get(f"/api/admin/users/{b['user_id']}"), USER)
    assert (u["name"], u["surname"], u["email"]) == ("Nina", "New", "nina.new@example.com")  # the core folds e-mail
    assert u["default_phone"] == {"e164": "+48600100200"}
    ev = db.sql(f"SELECT count(*) FROM events WHERE type = 'customer.created' AND customer_id = {b['user_id']}")
    assert ev[0][0] == "1"
    # the same person again: the same customer, no second customer.created
    b2 = ok(call(s, "POST", "/api/bookings", {**body, "start_time": "12:00",
                                               "customer": {"email": "nina.new@example.com"}}, headers=t.h()), BOOKING, 201)
    assert b2["user_id"] == b["user_id"]
    assert db.sql("SELECT count(*) FROM events WHERE type = 'customer.created'")[0][0] == "1"


def test_admin_bookings_list_pagination_filters(s):
    t = Tenant(s)
    jane, joe = t.customer(), t.customer(name="Joe", surname="Doe", email="joe@example.com")
    day = monday()
    made = [ok(t.book(t.emp[0], jane["id"], day, "09:00"), BOOKING, 201),
            ok(t.book(t.emp[1], joe["id"], day, "10:00"), BOOKING, 201),
            ok(t.book(t.emp[0], jane["id"], day + dt.timedelta(days=1), "15:00"), BOOKING, 201)]
    p1 = ok(t.get("/api/admin/bookings", limit=2), page_of(BOOKING))
    assert [b["id"] for b in p1["data"]] == [made[0]["id"], made[1]["id"]]
    assert (p1["current_page"], p1["per_page"], p1["total"], p1["last_page"], p1["from"], p1["to"]) == (1, 2, 3, 2, 1, 2)
    assert p1["next_page_url"].endswith("/api/admin/bookings?page=2") and p1["prev_page_url"] is None
    assert p1["first_page_url"].endswith("?page=1") and p1["last_page_url"].endswith("?page=2")
    assert p1["path"].endswith("/api/admin/bookings")
    p2 = ok(t.get("/api/admin/bookings", limit=2, page=2), page_of(BOOKING))
    assert [b["id"] for b in p2["data"]] == [made[2]["id"]]
    assert (p2["from"], p2["to"], p2["next_page_url"]) == (3, 3, None) and p2["prev_page_url"].endswith("?page=1")
    p3 = ok(t.get("/api/admin/bookings", limit=2, page=3), page_of(BOOKING))
    assert p3["data"] == [] and p3["from"] is None and p3["to"] is None and p3["total"] == 3
    capped = ok(t.get("/api/admin/bookings", limit=500), page_of(BOOKING))
    assert capped["per_page"] == 100
    desc = ok(t.get("/api/admin/bookings", order_by="id", ascending=0), page_of(BOOKING))
    assert [b["id"] for b in desc["data"]] == sorted((b["id"] for b in made), reverse=True)
    ids = lambda **q: [b["id"] for b in ok(t.get("/api/admin/bookings", **q), page_of(BOOKING))["data"]]  # noqa: E731
    assert ids(employee_ids=str(t.emp[1])) == [made[1]["id"]]
    assert ids(employee_ids=f"{t.emp[0]},{t.emp[1]}") == [b["id"] for b in made]
    assert ids(service_ids=str(t.service["id"])) == [b["id"] for b in made]
    assert ids(user_id=jane["id"]) == [made[0]["id"], made[2]["id"]]
    assert ids(**{"from": str(day + dt.timedelta(days=1))}) == [made[2]["id"]]
    assert ids(to=str(day)) == [made[0]["id"], made[1]["id"]]
    assert ids(status="cancelled") == []
    for q, field in [({"limit": 0}, "limit"), ({"page": "x"}, "page"), ({"order_by": "price"}, "order_by"),
                     ({"ascending": "maybe"}, "ascending"), ({"status": "lost"}, "status"), ({"from": "soon"}, "from"),
                     ({"employee_ids": "a"}, "employee_ids"), ({"user_id": "x"}, "user_id")]:
        err(t.get("/api/admin/bookings", **q), 422, field)
    # the customer's own history
    h = ok(t.get(f"/api/admin/users/{jane['id']}/bookings"), page_of(BOOKING))
    assert [b["id"] for b in h["data"]] == [made[2]["id"], made[0]["id"]] and h["total"] == 2


def test_admin_booking_get_move_status_delete(s, db):
    t = Tenant(s)
    other = Tenant(s, 2)
    jane = t.customer()
    day = monday()
    b = ok(t.book(t.emp[0], jane["id"], day, "09:00"), BOOKING, 201)
    blocker = ok(t.book(t.emp[0], jane["id"], day, "14:00"), BOOKING, 201)
    assert ok(t.get(f"/api/admin/bookings/{b['id']}"), BOOKING) == b
    err(t.get("/api/admin/bookings/999999"), 404)
    err(t.get("/api/admin/bookings/abc"), 404)
    err(other.get(f"/api/admin/bookings/{b['id']}"), 404)                      # another tenant's booking
    err(call(s, "GET", f"/api/admin/bookings/{b['id']}", headers=t.h(other.key)), 403)
    # move
    moved = ok(t.send("PUT", f"/api/admin/bookings/{b['id']}", {"start_date": str(day), "start_time": "11:00"}), BOOKING)
    assert (moved["id"], moved["start_time"], moved["end_time"]) == (b["id"], "11:00", "12:00")
    assert db.sql(f"SELECT to_char(start_at AT TIME ZONE 'Europe/Warsaw', 'HH24:MI') FROM bookings WHERE id = {b['id']}"
                  )[0][0] == "11:00"
    # onto a taken hour: 409, nothing moves
    err(t.send("PUT", f"/api/admin/bookings/{b['id']}", {"start_date": str(day), "start_time": "14:00"}), 409)
    assert ok(t.get(f"/api/admin/bookings/{b['id']}"), BOOKING)["start_time"] == "11:00"
    for body, field in [({}, "start_date"), ({"start_date": str(day)}, "start_time"), ({"status": "paid"}, "status"),
                        ({"start_date": str(day), "start_time": "12:00", "status": "cancelled"}, "status"),
                        ({"start_date": str(day), "start_time": "7pm"}, "start_time")]:
        err(t.send("PUT", f"/api/admin/bookings/{b['id']}", body), 422, field)
    err(other.send("PUT", f"/api/admin/bookings/{b['id']}", {"status": "cancelled"}), 404)
    # status change, then DELETE
    c = ok(t.send("PUT", f"/api/admin/bookings/{blocker['id']}", {"status": "cancelled"}), BOOKING)
    assert c["status"] == "cancelled"
    err(t.send("PUT", f"/api/admin/bookings/{blocker['id']}", {"status": "approved"}), 409)
    d = ok(t.send("DELETE", f"/api/admin/bookings/{b['id']}"), BOOKING)
    assert d["status"] == "cancelled"
    assert db.sql(f"SELECT status FROM bookings WHERE id = {b['id']}")[0][0] == "cancelled"
    err(other.send("DELETE", f"/api/admin/bookings/{b['id']}"), 404)


def test_pending_service_confirm_and_reject(s, db):
    t = Tenant(s, requires_confirmation=True)
    jane = t.customer()
    day = monday()
    err(t.book(t.emp[0], jane["id"], day, "09:00"), 422, "status")  # approved is not what this service gives
    b = ok(t.book(t.emp[0], jane["id"], day, "09:00", status="pending"), BOOKING, 201)
    assert b["status"] == "pending"
    assert ok(t.send("PUT", f"/api/admin/bookings/{b['id']}", {"status": "approved"}), BOOKING)["status"] == "approved"
    b2 = ok(t.book(t.emp[0], jane["id"], day, "13:00", status="pending"), BOOKING, 201)
    assert ok(t.send("PUT", f"/api/admin/bookings/{b2['id']}", {"status": "rejected"}), BOOKING)["status"] == "rejected"
    assert db.sql(f"SELECT status FROM bookings WHERE id = {b2['id']}")[0][0] == "declined"


# ----------------------------------------------------------------------------- employees, services


def test_employees_and_services(s):
    t = Tenant(s, location_type="in_person", location_value="Main street 1", description="First talk")
    extra = call(s, "POST", f"/api/orgs/{t.id}/event-types",
                 {"name": "Hidden", "scheduling": "round_robin", "hosts": [{"user_id": t.emp[0]}], "is_secret": True},
                 auth=t.owner.session)
    assert extra.status == 201
    emps = ok(t.get("/api/admin/employees"), page_of(EMPLOYEE))
    assert [e["id"] for e in emps["data"]] == sorted(t.emp) and emps["total"] == 2
    e0 = ok(t.get(f"/api/admin/employees/{t.emp[0]}"), EMPLOYEE)
    assert e0 == {"id": t.emp[0], "name": "Emp0", "surname": "Person1", "email": "emp1-0@example.com",
                  "services": [t.service["id"]]}  # the secret type is not a service
    err(t.get("/api/admin/employees/999999"), 404)
    err(t.get(f"/api/admin/employees/{t.owner.reg['user']['id']}"), 404)  # the owner hosts nothing
    svc = ok(call(s, "GET", "/api/admin/services", headers=t.h(False)), page_of(SERVICE))
    assert [x["id"] for x in svc["data"]] == [t.service["id"]]
    one = ok(call(s, "GET", f"/api/admin/services/{t.service['id']}", headers=t.h(False)), SERVICE)
    assert (one["name"], one["duration"], one["price"], one["currency"], one["description"]) == (
        "Consultation", 60, 10000, "EUR", "First talk")
    assert sorted(e["id"] for e in one["employees"]) == sorted(t.emp)
    assert one["locations"] == [{"type": "in_person", "data": "Main street 1"}]
    err(call(s, "GET", f"/api/admin/services/{extra.json()['id']}", headers=t.h(False)), 404)
    err(call(s, "GET", "/api/admin/services/0", headers=t.h(False)), 404)


# ----------------------------------------------------------------------------- customers


def test_customers_tags_groups(s, db):
    t = Tenant(s)
    other = Tenant(s, 2)
    jane = t.customer(tags=["VIP"], groups=["Team A"], default_phone={"e164": "+48600000001"}, time_zone="Europe/Warsaw")
    assert [x["name"] for x in jane["tags"]] == ["VIP"] and [x["name"] for x in jane["groups"]] == ["Team A"]
    assert jane["default_phone"] == {"e164": "+48600000001"} and jane["time_zone"] == "Europe/Warsaw"
    t.customer(name="John", surname="Doe", email="john.doe@corp.example")
    t.customer(name="Ann", surname="Other", email="ann@elsewhere.example")
    other.customer(email="jane.twin@example.com")
    # search by an e-mail fragment, any case; never another tenant's customers
    found = ok(t.get("/api/admin/users", query="@EXAMPLE.com"), page_of(USER))
    assert [u["email"] for u in found["data"]] == ["jane@example.com"] and found["total"] == 1
    found = ok(t.get("/api/admin/users", query="corp.ex"), page_of(USER))
    assert [u["name"] for u in found["data"]] == ["John"]
    everyone = ok(t.get("/api/admin/users", order_by="name"), page_of(USER))
    assert [u["name"] for u in everyone["data"]] == ["Ann", "Jane", "John"]
    assert [u["name"] for u in ok(t.get("/api/admin/users", order_by="name", ascending=0), page_of(USER))["data"]] == [
        "John", "Jane", "Ann"]
    # assignment of tags and groups (names or ids) through PUT
    tag = ok(t.send("POST", "/api/admin/tags", {"name": "Regular"}), LABEL, 201)
    grp = ok(t.send("POST", "/api/admin/groups", {"name": "Team B"}), LABEL, 201)
    err(t.send("POST", "/api/admin/tags", {"name": "regular"}), 409)
    err(t.send("POST", "/api/admin/groups", {"name": ""}), 422, "name")
    u = ok(t.send("PUT", f"/api/admin/users/{jane['id']}", {"tags": [tag["id"], "VIP"], "groups": [grp["id"]],
                                                            "surname": "Smith-Jones"}), USER)
    assert sorted(x["name"] for x in u["tags"]) == ["Regular", "VIP"] and [x["name"] for x in u["groups"]] == ["Team B"]
    assert u["surname"] == "Smith-Jones"
    tags = ok(t.get("/api/admin/tags"), LABELS)
    assert {x["name"]: x["customers"] for x in tags} == {"Regular": 1, "VIP": 1}
    assert [x["name"] for x in ok(t.get("/api/admin/groups"), LABELS)] == ["Team A", "Team B"]
    assert ok(other.get("/api/admin/tags"), LABELS) == []
    # errors
    err(t.send("POST", "/api/admin/users", {"name": "X", "email": "not-an-email"}), 422, "email")
    err(t.send("POST", "/api/admin/users", {"name": "X"}), 422, "email")
    err(t.send("POST", "/api/admin/users", {"email": "jane@example.com"}), 409)
    err(t.send("POST", "/api/admin/users", {"email": "x@example.com", "default_phone": "abc"}), 422, "default_phone")
    err(t.send("POST", "/api/admin/users", {"email": "x@example.com", "tags": "VIP"}), 422, "tags")
    err(t.send("PUT", f"/api/admin/users/{jane['id']}", {"status": "gone"}), 422, "status")
    err(other.get(f"/api/admin/users/{jane['id']}"), 404)
    err(other.send("PUT", f"/api/admin/users/{jane['id']}", {"name": "Hijack"}), 404)
    err(other.send("DELETE", f"/api/admin/users/{jane['id']}"), 404)
    err(t.get("/api/admin/users/999999"), 404)
    # delete erases
    ok(t.send("DELETE", f"/api/admin/users/{jane['id']}"), DELETED)
    err(t.get(f"/api/admin/users/{jane['id']}"), 404)
    assert db.sql(f"SELECT count(*) FROM customers WHERE id = {jane['id']}")[0][0] == "0"


# ----------------------------------------------------------------------------- payments


def test_payments_and_booking_paid(s, db):
    t = Tenant(s)
    jane = t.customer()
    b = ok(t.book(t.emp[0], jane["id"], monday(), "09:00"), BOOKING, 201)
    p = ok(t.send("POST", "/api/admin/payments/bookings",
                  {"booking_id": b["id"], "amount": 4000, "payment_method": "cash", "status": "approved",
                   "is_paid": True, "transaction_id": "tx-1"}), PAYMENT)
    assert p["status"] == "approved"  # part of it
    assert db.sql(f"SELECT count(*) FROM events WHERE type = 'booking.paid' AND booking_id = {b['id']}")[0][0] == "0"
    # the same transaction again is the same record
    again = ok(t.send("POST", "/api/admin/payments/bookings",
                      {"booking_id": b["id"], "amount": 4000, "transaction_id": "tx-1"}), PAYMENT)
    assert again["id"] == p["id"]
    full = ok(t.send("POST", "/api/admin/payments/bookings",
                     {"booking_id": b["id"], "amount": 6000, "payment_method": "card", "transaction_id": "tx-2"}), PAYMENT)
    assert full["status"] == "paid"
    row = db.sql(f"SELECT amount_paid, payment_status FROM bookings WHERE id = {b['id']}")[0]
    assert row == ["100.00", "paid"]
    assert db.sql(f"SELECT count(*) FROM events WHERE type = 'booking.paid' AND booking_id = {b['id']}")[0][0] == "1"
    assert db.sql(f"SELECT method FROM payments WHERE booking_id = {b['id']} ORDER BY id") == [["cash"], ["card"]]
    # refusals record nothing
    n = db.sql("SELECT count(*) FROM payments")[0][0]
    other = Tenant(s, 2)
    for body, status, field in [({"amount": 100}, 422, "booking_id"), ({"booking_id": b["id"]}, 422, "amount"),
                                ({"booking_id": b["id"], "amount": -5}, 422, "amount"),
                                ({"booking_id": b["id"], "amount": 100, "is_paid": False}, 422, "is_paid"),
                                ({"booking_id": b["id"], "amount": 100, "status": "pending"}, 422, "status"),
                                ({"booking_id": 999999, "amount": 100}, 404, None)]:
        err(t.send("POST", "/api/admin/payments/bookings", body), status, field)
    err(other.send("POST", "/api/admin/payments/bookings", {"booking_id": b["id"], "amount": 100}), 404)
    free = Tenant(s, 3, price=None, currency=None)
    fb = ok(free.book(free.emp[0], free.customer()["id"], monday(), "09:00"), BOOKING, 201)
    err(free.send("POST", "/api/admin/payments/bookings", {"booking_id": fb["id"], "amount": 100}), 422, "booking_id")
    assert db.sql("SELECT count(*) FROM payments")[0][0] == n


# ----------------------------------------------------------------------------- webhooks


WEBHOOK = {"type": "object", "required": ["id", "url", "events", "is_active", "created_at"],
           "properties": {"id": {"type": "integer"}, "url": {"type": "string"},
                          "events": {"type": "array", "items": {"type": "string"}}, "is_active": {"type": "boolean"},
                          "created_at": {"type": "string"}, "secret": {"type": "string"}},
           "additionalProperties": False}


def test_webhook_subscriptions(s, db):
    t = Tenant(s)
    other = Tenant(s, 2)
    events = ["booking_created", "booking_updated", "booking_paid", "user_created"]
    w = ok(t.send("POST", "/api/admin/webhooks", {"url": "https://your-app.com/webhooks", "events": events}),
           WEBHOOK, 201)
    assert w["events"] == events and w["secret"].startswith("whsec_")
    row = db.sql(f"SELECT org_id, format, array_to_string(events, ','), array_to_string(calendesk_events, ',') "
                 f"FROM webhooks WHERE id = {w['id']}")[0]
    assert row[0] == str(t.id) and row[1] == "calendesk" and row[3] == ",".join(events)
    assert set(row[2].split(",")) == {"booking.created", "booking.requested", "booking.rescheduled", "booking.confirmed",
                                      "booking.declined", "booking.reassigned", "booking.no_show", "booking.paid",
                                      "customer.created"}
    lst = ok(t.get("/api/admin/webhooks"), page_of(WEBHOOK))
    assert [x["id"] for x in lst["data"]] == [w["id"]] and "secret" not in lst["data"][0]
    assert ok(other.get("/api/admin/webhooks"), page_of(WEBHOOK))["total"] == 0
    # the native fan-out reaches it: a new customer's first booking queues booking_created and user_created
    b = ok(call(s, "POST", "/api/bookings", {"employee_id": t.emp[0], "service_id": t.service["id"],
                                             "start_date": str(monday()), "start_time": "09:00",
                                             "customer": {"email": "hook@example.com", "name": "Hook"}},
                headers=t.h()), BOOKING, 201)
    assert b["id"]
    queued = db.sql(f"SELECT event FROM webhook_deliveries WHERE webhook_id = {w['id']} ORDER BY id")
    assert sorted(x[0] for x in queued) == ["booking.created", "customer.created"]
    for body, field in [({"url": "https://x.example/h", "events": ["booking_exploded"]}, "events"),
                        ({"url": "https://x.example/h", "events": []}, "events"),
                        ({"url": "ftp://x.example/h", "events": ["booking_paid"]}, "url"),
                        ({"events": ["booking_paid"]}, "url")]:
        err(t.send("POST", "/api/admin/webhooks", body), 422, field)
    err(other.send("DELETE", f"/api/admin/webhooks/{w['id']}"), 404)
    err(call(s, "POST", "/api/admin/webhooks", {"url": "https://x.example/h", "events": ["booking_paid"]},
             headers=t.h(other.key)), 403)
    ok(t.send("DELETE", f"/api/admin/webhooks/{w['id']}"), DELETED)
    err(t.send("DELETE", f"/api/admin/webhooks/{w['id']}"), 404)
    assert db.sql(f"SELECT count(*) FROM webhooks WHERE id = {w['id']}")[0][0] == "0"


# ----------------------------------------------------------------------------- a booking page as tenant


def test_booking_page_tenant(s, db):
    host = Host(s, db)  # open all week, UTC
    host.set_rules(OPEN_ALL_WEEK, tz="Europe/Warsaw")
    et = host.et(name="Consultation", duration_minutes=30, price=50, currency="EUR")
    h = {"X-Tenant": host.slug, **host.auth}
    day = monday()
    slots = ok(call(s, "GET", f"/api/available-slots?service_id={et['id']}&start_date={day}&number_of_days=1",
                    headers={"X-Tenant": host.slug}), SLOTS)
    # one employee, the page's user; the tenant's zone is their schedule's (Warsaw): midnight first
    assert list(slots) == [str(host.id)] and slots[str(host.id)][str(day)][:2] == ["00:00", "00:30"]
    svc = ok(call(s, "GET", "/api/admin/services", headers={"X-Tenant": host.slug}), page_of(SERVICE))
    assert [(x["id"], x["price"], x["duration"]) for x in svc["data"]] == [(et["id"], 5000, 30)]
    cust = ok(call(s, "POST", "/api/admin/users", {"name": "Pat", "email": "pat@example.com"}, headers=h), USER, 201)
    assert db.sql(f"SELECT user_id, org_id IS NULL FROM customers WHERE id = {cust['id']}")[0] == [str(host.id), "t"]
    body = {"employee_id": host.id, "user_id": cust["id"], "service_id": et["id"], "start_date": str(day),
            "start_time": "10:30", "status": "approved", "send_notifications": False}
    b = ok(call(s, "POST", "/api/bookings", body, headers=h), BOOKING, 201)
    assert (b["start_time"], b["end_time"], b["service"]["price"]) == ("10:30", "11:00", 5000)
    assert db.sql(f"SELECT to_char(start_at AT TIME ZONE 'Europe/Warsaw', 'HH24:MI') FROM bookings WHERE id = {b['id']}"
                  )[0][0] == "10:30"
    assert [x["id"] for x in ok(call(s, "GET", "/api/admin/bookings", headers=h), page_of(BOOKING))["data"]] == [b["id"]]
    paid = ok(call(s, "POST", "/api/admin/payments/bookings", {"booking_id": b["id"], "amount": 5000}, headers=h),
              PAYMENT)
    assert paid["status"] == "paid"
    assert db.sql(f"SELECT count(*) FROM events WHERE type = 'booking.paid' AND booking_id = {b['id']}")[0][0] == "1"
    # another user's key is not this tenant's
    stranger = new_user(s, "stranger@example.com", key=True)
    err(call(s, "POST", "/api/bookings", {**body, "start_time": "12:00"}, headers={"X-Tenant": host.slug,
                                                                                   **stranger.api_key}), 403)
    err(call(s, "GET", f"/api/admin/bookings/{b['id']}", headers={"X-Tenant": stranger.slug, **stranger.api_key}), 404)
    ok(call(s, "DELETE", f"/api/admin/bookings/{b['id']}", headers=h), BOOKING)
    assert db.sql(f"SELECT status FROM bookings WHERE id = {b['id']}")[0][0] == "cancelled"


def test_idempotency_key_replays_and_erasure_forgets(s, db):
    t = Tenant(s)
    h = {**t.h(), "Idempotency-Key": "cd-create-1"}
    c1 = call(s, "POST", "/api/admin/users", {"name": "Ida", "email": "ida@example.com"}, headers=h)
    c2 = call(s, "POST", "/api/admin/users", {"name": "Ida", "email": "ida@example.com"}, headers=h)
    u = ok(c1, USER, 201)
    assert ok(c2, USER, 201) == u
    assert db.sql("SELECT count(*) FROM customers WHERE email = 'ida@example.com'")[0][0] == "1"
    body = {"employee_id": t.emp[0], "user_id": u["id"], "service_id": t.service["id"], "start_date": str(monday()),
            "start_time": "09:00", "status": "approved"}
    hb = {**t.h(), "Idempotency-Key": "cd-book-1"}
    b1 = ok(call(s, "POST", "/api/bookings", body, headers=hb), BOOKING, 201)
    assert ok(call(s, "POST", "/api/bookings", body, headers=hb), BOOKING, 201) == b1
    assert db.sql("SELECT count(*) FROM bookings")[0][0] == "1"
    # the stored answers name whom they describe; erasing the customer drops them
    assert db.sql(f"SELECT count(*) FROM idempotency_keys WHERE customer_id = {u['id']}")[0][0] == "1"
    assert db.sql(f"SELECT count(*) FROM idempotency_keys WHERE booking_id = {b1['id']}")[0][0] == "1"
    ok(t.send("DELETE", f"/api/admin/users/{u['id']}"), DELETED)
    assert db.sql(f"SELECT count(*) FROM idempotency_keys WHERE customer_id = {u['id']} OR booking_id = {b1['id']}"
                  )[0][0] == "0"


def test_preflight_and_head(s):
    t = Tenant(s)
    r = call(s, "OPTIONS", "/api/available-slots", headers={"Origin": "https://widget.example",
                                                              "Access-Control-Request-Method": "GET"})
    assert r.status == 204 and "GET" in r.header("Allow")
    r = call(s, "HEAD", f"/api/available-slots?service_id={t.service['id']}&start_date={monday()}")
    assert r.status == 404  # no X-Tenant: unrouted
    r = call(s, "HEAD", f"/api/available-slots?service_id={t.service['id']}&start_date={monday()}",
             headers={"X-Tenant": t.slug})
    assert r.status == 200


def test_rate_limit_shape(slotd_factory):
    s = slotd_factory(env={**NO_LIMITS, "SLOTD_RATE_LIMIT_PUBLIC": "3"})
    path = "/api/available-slots?service_id=1&start_date=2030-01-07"
    seen = [call(s, "GET", path, headers={"X-Tenant": "nobody"}) for _ in range(4)]
    assert [r.status for r in seen] == [404, 404, 404, 429]
    err(seen[0], 404)
    assert err(seen[3], 429) == {"message": "Too Many Attempts."}
    assert int(seen[3].header("Retry-After")) > 0
