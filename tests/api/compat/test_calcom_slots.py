"""Cal.com API v2 dialect (issue 16), slots and reservations (cal-api-version 2024-09-04):
GET /v2/slots and /v2/slots/reservations[/{uid}], every answer validated against Cal.com's own
OpenAPI subset by calcom_util.V2.

Cal.com's e2e behaviours (SUMMARY.md §6 items 1-6) on its own setup -- a 60-minute event with a
Europe/Rome Mon-Fri 09:00-17:00 schedule, a Monday-Friday window -- but a few weeks ahead
instead of 2050 (slotd's booking horizon is at most 3650 days), with the expected UTC instants
computed for those dates' Rome offset.
"""

import datetime as dt
import threading
import zoneinfo

import pytest

from accounts_util import call, new_user
from booking_util import UTC, UUID_RE, Host, count_rows, env, unique  # noqa: F401 (env: module fixture)
from calcom_util import V2, err, group_uid, ok, validate
from team_util import Org

ROME = zoneinfo.ZoneInfo("Europe/Rome")
WEEKDAYS_9_17 = [{"day": d, "start": "09:00", "end": "17:00"} for d in range(1, 6)]
RESERVED = "This time slot is already reserved by another user. Please choose a different time."
BOOKED = "Can't reserve a slot if the event is already booked."
RANGE = "Invalid time range given - check the 'start' and 'end' query parameters."


def monday(weeks=3):
    d = dt.datetime.now(UTC).date() + dt.timedelta(days=7 * weeks)
    return d - dt.timedelta(days=d.weekday())


def js(t):
    """toISOString of an aware datetime."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def luxon(t, tz):
    """Luxon's toISO of t in tz."""
    return t.astimezone(tz).isoformat(timespec="milliseconds")


def rome_day(d):
    """The Rome 09:00-16:00 starts of date d, as UTC datetimes."""
    return [dt.datetime(d.year, d.month, d.day, h, tzinfo=ROME).astimezone(UTC) for h in range(9, 17)]


@pytest.fixture(scope="module")
def rome(env):
    """The e2e setup: a host in Rome, Mon-Fri 09-17, a 60-minute event type open far ahead."""
    h = Host(env.s, env.db, open_all_week=False)
    h.set_rules(WEEKDAYS_9_17, tz="Europe/Rome")
    et = h.et(duration_minutes=60, max_future_days=3650)
    return h, et


def key_of(user):
    """A test user's API key (cal_...), sent as Bearer by V2."""
    return user.key


def week(v2, et, mon, **q):
    fri = mon + dt.timedelta(days=4)
    return ok(v2.get("/v2/slots", eventTypeId=et["id"], start=mon.isoformat(), end=fri.isoformat(), **q))


def starts(data):
    return {day: [x["start"] for x in v] for day, v in data.items()}


def full_grid(mon):
    return {(mon + dt.timedelta(days=i)).isoformat(): [js(t) for t in rome_day(mon + dt.timedelta(days=i))]
            for i in range(5)}


# ----------------------------------------------------------------------------- GET /v2/slots (§6.1)


def test_slot_grid_and_zones(env, rome):
    h, et = rome
    v2 = V2(env.s)
    mon = monday()
    data = week(v2, et, mon)
    assert starts(data) == full_grid(mon)
    assert all(set(x) == {"start"} for v in data.values() for x in v)
    # the same instants in Rome: 09:00..16:00 local, Luxon's offset form
    local = week(v2, et, mon, timeZone="Europe/Rome")
    assert starts(local) == {d: [luxon(t, ROME) for t in rome_day(dt.date.fromisoformat(d))] for d in data}
    assert local[mon.isoformat()][0]["start"].endswith("T09:00:00.000+02:00") or \
        local[mon.isoformat()][0]["start"].endswith("T09:00:00.000+01:00")
    # keys are local dates: in Honolulu (UTC-10) Monday's first slots fall on Sunday evening
    hnl = zoneinfo.ZoneInfo("Pacific/Honolulu")
    far = week(v2, et, mon, timeZone="Pacific/Honolulu")
    everything = [t for i in range(5) for t in rome_day(mon + dt.timedelta(days=i))]
    expect = {}
    for t in everything:
        expect.setdefault(t.astimezone(hnl).date().isoformat(), []).append(luxon(t, hnl))
    assert starts(far) == expect and (mon - dt.timedelta(days=1)).isoformat() in far
    assert far[(mon - dt.timedelta(days=1)).isoformat()][0]["start"].endswith("-10:00")
    # a start with a time drops the slots before it; an end with a time those from it on
    first = rome_day(mon)
    fri = mon + dt.timedelta(days=4)
    cut = ok(v2.get("/v2/slots", eventTypeId=et["id"], start=js(first[2]), end=js(rome_day(fri)[5])))
    assert cut[mon.isoformat()] == [{"start": js(t)} for t in first[2:]]
    assert cut[fri.isoformat()] == [{"start": js(t)} for t in rome_day(fri)[:5]]
    # range: the same slots with their ends
    rng = week(v2, et, mon, format="range")
    assert {d: [(x["start"], x["end"]) for x in v] for d, v in rng.items()} == \
        {d: [(s, js(dt.datetime.fromisoformat(s.replace("Z", "+00:00")) + dt.timedelta(hours=1))) for s in v]
         for d, v in full_grid(mon).items()}
    # by username (the booking page's slug) and event slug: the same answer
    assert ok(v2.get("/v2/slots", username=h.slug, eventTypeSlug=et["slug"], start=mon.isoformat(),
                     end=fri.isoformat())) == data
    # an end at midnight is that whole day, as a date alone is
    assert ok(v2.get("/v2/slots", eventTypeId=et["id"], start=mon.isoformat(), end=f"{mon.isoformat()}T00:00:00Z")) \
        == {mon.isoformat(): data[mon.isoformat()]}
    # nothing in the window: {}
    sat = mon + dt.timedelta(days=5)
    assert ok(v2.get("/v2/slots", eventTypeId=et["id"], start=sat.isoformat(), end=sat.isoformat())) == {}


def test_slots_refusals(env, rome):
    h, et = rome
    v2 = V2(env.s)
    mon = monday()
    d = mon.isoformat()
    base = {"eventTypeId": et["id"], "start": d, "end": d}
    err(v2.get("/v2/slots", **{**base, "end": (mon - dt.timedelta(days=1)).isoformat()}), 400, RANGE)
    err(v2.get("/v2/slots", **{**base, "end": (mon + dt.timedelta(days=63)).isoformat()}), 400, "62 days")
    ok(v2.get("/v2/slots", **{**base, "end": (mon + dt.timedelta(days=61)).isoformat()}))
    err(v2.get("/v2/slots", eventTypeId=et["id"], end=d), 400, "start")
    err(v2.get("/v2/slots", eventTypeId=et["id"], start=d), 400, "end")
    err(v2.get("/v2/slots", **{**base, "start": "next monday"}), 400, "start")
    err(v2.get("/v2/slots", **{**base, "start": "2026-02-30"}), 400, "start")
    err(v2.get("/v2/slots", **base, timeZone="Mars/Olympus"), 400, "timeZone")
    err(v2.get("/v2/slots", **base, format="ical"), 400, "format")
    err(v2.get("/v2/slots", **base, duration="abc"), 400, "duration")
    err(v2.get("/v2/slots", **base, duration=30), 400, "duration")
    assert ok(v2.get("/v2/slots", **base, duration=60)) == ok(v2.get("/v2/slots", **base))
    err(v2.get("/v2/slots", start=d, end=d, usernames=f"{h.slug},someone"), 400, "not supported")
    err(v2.get("/v2/slots", start=d, end=d), 400, "eventTypeId")
    err(v2.get("/v2/slots", start=d, end=d, eventTypeSlug=et["slug"]), 400)
    err(v2.get("/v2/slots", start=d, end=d, username=h.slug), 400)
    err(v2.get("/v2/slots", start=d, end=d, eventTypeId="x1"), 400, "eventTypeId")
    err(v2.get("/v2/slots", start=d, end=d, eventTypeId=10**12), 404)
    err(v2.get("/v2/slots", start=d, end=d, username="nobody-here", eventTypeSlug=et["slug"]), 404)
    err(v2.get("/v2/slots", start=d, end=d, username=h.slug, eventTypeSlug="nope"), 404)
    err(v2.get("/v2/slots", start=d, end=d, username=h.slug, eventTypeSlug=et["slug"], organizationSlug="no-org"),
        404)
    err(v2.get("/v2/slots", start=d, end=d, teamSlug="no-such-team", eventTypeSlug=et["slug"]), 404)
    # the version header: absent is this version; another one is refused
    assert ok(v2.get("/v2/slots", version=None, **base)) == ok(v2.get("/v2/slots", **base))
    err(v2.get("/v2/slots", version="2024-04-15", **base), 400, "2024-09-04")
    # a bad credential on a public route is still a bad credential
    err(v2.get("/v2/slots", key="cal_" + "0" * 64, **base), 401)


def test_hidden_event_type_by_id_for_its_owner(env):
    h = Host(env.s, env.db)
    et = h.et(duration_minutes=30, is_secret=True)
    d = monday().isoformat()
    q = {"eventTypeId": et["id"], "start": d, "end": d}
    err(V2(env.s).get("/v2/slots", **q), 404)
    stranger = new_user(env.s, f"{unique('s')}@example.com", key=True)
    err(V2(env.s, key_of(stranger)).get("/v2/slots", **q), 404)
    mine = ok(V2(env.s, key_of(h.user)).get("/v2/slots", **q))
    assert len(mine[d]) == 48
    # by its page and slug (the link a hidden type is shared by), as the native endpoint serves it
    assert ok(V2(env.s).get("/v2/slots", username=h.slug, eventTypeSlug=et["slug"], start=d, end=d)) == mine


def test_team_slug_is_an_org(env):
    o = Org(env.s)
    et = o.event_type(name="Consult", duration_minutes=30)
    v2 = V2(env.s)
    mon = monday()
    d = mon.isoformat()
    data = ok(v2.get("/v2/slots", teamSlug=o.slug, eventTypeSlug=et["slug"], start=d, end=d))
    assert data[d][0] == {"start": f"{d}T09:00:00.000Z"} and len(data[d]) == 16
    assert ok(v2.get("/v2/slots", eventTypeId=et["id"], start=d, end=d)) == data
    assert ok(v2.get("/v2/slots", teamSlug=o.slug, organizationSlug=o.slug, eventTypeSlug=et["slug"], start=d,
                     end=d)) == data
    err(v2.get("/v2/slots", teamSlug=o.slug, organizationSlug="elsewhere", eventTypeSlug=et["slug"], start=d, end=d),
        404)
    # an org's type is not a user's
    err(v2.get("/v2/slots", username=o.slug, eventTypeSlug=et["slug"], start=d, end=d), 404)
    # holds on an org's event types are not offered by the booking core (a hold would pick hosts)
    before = count_rows(env.db, "reservations")
    err(v2.post("/v2/slots/reservations", {"eventTypeId": et["id"], "slotStart": f"{d}T09:00:00Z"}), 400,
        "organisation")
    assert count_rows(env.db, "reservations") == before


# ----------------------------------------------------------------------------- reservations (§6.2-6.5)


def reserve(v2, et, t, **extra):
    return v2.post("/v2/slots/reservations", {"eventTypeId": et["id"], "slotStart": js(t), **extra})


def near(s, expected, slack=3):
    got = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    return abs((got - expected).total_seconds()) <= slack


def test_reservation_hides_the_slot_then_patch_and_delete(env, rome):
    h, et = rome
    v2 = V2(env.s)
    mon = monday(4)
    slot = rome_day(mon)[2]
    before = dt.datetime.now(UTC)
    res = ok(reserve(v2, et, slot), 201)
    assert UUID_RE.fullmatch(res["reservationUid"]), res
    assert res["eventTypeId"] == et["id"] and res["slotStart"] == js(slot)
    assert res["slotEnd"] == js(slot + dt.timedelta(hours=1)) and res["slotDuration"] == 60
    assert res["reservationDuration"] == 5 and near(res["reservationUntil"], before + dt.timedelta(minutes=5))
    # the slot is gone for everyone, and only that one
    grid = full_grid(mon)
    grid[mon.isoformat()].remove(js(slot))
    assert starts(week(v2, et, mon)) == grid
    # the reservation, without reservationDuration
    got = ok(v2.get(f"/v2/slots/reservations/{res['reservationUid']}"))
    assert got == {k: v for k, v in res.items() if k != "reservationDuration"}

    # §6.3: 15 minutes later, 15 earlier, 10 inside: reserved by another
    rows = count_rows(env.db, "reservations")
    for delta in (15, -15, 10):
        err(reserve(v2, et, slot + dt.timedelta(minutes=delta)), 422, RESERVED)
    err(reserve(v2, et, slot), 422, RESERVED)
    assert count_rows(env.db, "reservations") == rows

    # §6.4: PATCH moves it (same uid), its clock restarted from now; the old start comes back
    to = rome_day(mon)[5]
    before = dt.datetime.now(UTC)
    moved = ok(v2.patch(f"/v2/slots/reservations/{res['reservationUid']}",
                        {"eventTypeId": et["id"], "slotStart": js(to)}))
    assert moved["reservationUid"] == res["reservationUid"] and moved["slotStart"] == js(to)
    assert moved["slotEnd"] == js(to + dt.timedelta(hours=1)) and moved["reservationDuration"] == 5
    assert near(moved["reservationUntil"], before + dt.timedelta(minutes=5))
    grid = full_grid(mon)
    grid[mon.isoformat()].remove(js(to))
    assert starts(week(v2, et, mon)) == grid
    assert count_rows(env.db, "reservations") == rows
    assert ok(v2.get(f"/v2/slots/reservations/{res['reservationUid']}"))["slotStart"] == js(to)
    # a PATCH onto a time another hold covers is refused and changes nothing
    other = ok(reserve(v2, et, rome_day(mon)[0]), 201)
    err(v2.patch(f"/v2/slots/reservations/{res['reservationUid']}",
                 {"eventTypeId": et["id"], "slotStart": js(rome_day(mon)[0])}), 422, RESERVED)
    assert ok(v2.get(f"/v2/slots/reservations/{res['reservationUid']}"))["slotStart"] == js(to)
    # a PATCH onto a time the engine refuses (outside the hours) keeps the old hold
    err(v2.patch(f"/v2/slots/reservations/{res['reservationUid']}",
                 {"eventTypeId": et["id"], "slotStart": f"{mon.isoformat()}T03:00:00Z"}), 400, "slotStart")
    assert ok(v2.get(f"/v2/slots/reservations/{res['reservationUid']}"))["slotStart"] == js(to)

    # DELETE: the full grid again
    assert v2.delete(f"/v2/slots/reservations/{res['reservationUid']}").json() == {"status": "success"}
    assert v2.delete(f"/v2/slots/reservations/{other['reservationUid']}").status == 200
    assert starts(week(v2, et, mon)) == full_grid(mon)
    assert ok(v2.get(f"/v2/slots/reservations/{res['reservationUid']}")) is None
    err(v2.delete(f"/v2/slots/reservations/{res['reservationUid']}"), 404)
    err(v2.patch(f"/v2/slots/reservations/{res['reservationUid']}", {"eventTypeId": et["id"], "slotStart": js(to)}),
        404)


def test_custom_reservation_duration(env, rome):
    h, et = rome
    mon = monday(5)
    slot = rome_day(mon)[1]
    rows = count_rows(env.db, "reservations")
    err(reserve(V2(env.s), et, slot, reservationDuration=15), 401)
    stranger = new_user(env.s, f"{unique('s')}@example.com", key=True)
    err(reserve(V2(env.s, key_of(stranger)), et, slot, reservationDuration=15), 403)
    assert count_rows(env.db, "reservations") == rows
    owner = V2(env.s, key_of(h.user))
    err(reserve(owner, et, slot, reservationDuration=61), 400, "reservationDuration")
    err(reserve(owner, et, slot, reservationDuration=0), 400, "reservationDuration")
    before = dt.datetime.now(UTC)
    res = ok(reserve(owner, et, slot, reservationDuration=15), 201)
    assert res["reservationDuration"] == 15 and near(res["reservationUntil"], before + dt.timedelta(minutes=15))
    assert near(ok(owner.get(f"/v2/slots/reservations/{res['reservationUid']}"))["reservationUntil"],
                before + dt.timedelta(minutes=15))
    # the same rules on PATCH
    err(V2(env.s).patch(f"/v2/slots/reservations/{res['reservationUid']}",
                        {"eventTypeId": et["id"], "slotStart": js(rome_day(mon)[3]), "reservationDuration": 30}), 401)
    moved = ok(owner.patch(f"/v2/slots/reservations/{res['reservationUid']}",
                           {"eventTypeId": et["id"], "slotStart": js(rome_day(mon)[3]), "reservationDuration": 30}))
    assert moved["reservationDuration"] == 30 and near(moved["reservationUntil"],
                                                       dt.datetime.now(UTC) + dt.timedelta(minutes=30))
    assert ok(owner.delete(f"/v2/slots/reservations/{res['reservationUid']}"), 200) is None


def test_reservation_bad_input_changes_nothing(env, rome):
    h, et = rome
    v2 = V2(env.s)
    mon = monday(6)
    slot = rome_day(mon)[0]
    rows = count_rows(env.db, "reservations")
    path = "/v2/slots/reservations"
    for body, field in [({"slotStart": js(slot)}, "eventTypeId"),
                        ({"eventTypeId": et["id"]}, "slotStart"),
                        ({"eventTypeId": str(et["id"]), "slotStart": js(slot)}, "eventTypeId"),
                        ({"eventTypeId": et["id"], "slotStart": 12}, "slotStart"),
                        ({"eventTypeId": et["id"], "slotStart": "tomorrow"}, "slotStart"),
                        ({"eventTypeId": et["id"], "slotStart": js(slot), "slotDuration": "6o"}, "slotDuration"),
                        ({"eventTypeId": et["id"], "slotStart": js(slot), "slotDuration": 30}, "slotDuration"),
                        ({"eventTypeId": 1.5, "slotStart": js(slot)}, "eventTypeId")]:
        e = err(v2.post(path, body), 400)
        assert field in e["message"] or e["details"].get("field") == field, (body, e)
    ok(reserve(v2, et, slot, slotDuration=60), 201)  # its own length is fine
    rows += 1
    err(reserve(v2, et, slot.replace(year=slot.year + 20)), 400)  # beyond the horizon: the engine's
    err(reserve(v2, et, slot - dt.timedelta(days=60)), 400)  # in the past
    err(reserve(v2, et, rome_day(mon)[3] + dt.timedelta(minutes=30)), 400, "slotStart")  # off the grid
    err(v2.post(path, {"eventTypeId": 10**12, "slotStart": js(slot)}), 404)
    secret = h.et(duration_minutes=60, is_secret=True, max_future_days=3650)
    err(v2.post(path, {"eventTypeId": secret["id"], "slotStart": js(slot)}), 404)
    # malformed JSON, a non-object, no body
    for raw in (b"{", b"[1]", b""):
        r = call(env.s, "POST", path, raw=raw, headers={"cal-api-version": "2024-09-04"})
        assert r.status == 400, r
        validate("POST", path, r.status, r.json())
    err(v2.post(path, {"eventTypeId": et["id"], "slotStart": js(slot)}, version="2024-08-13"), 400, "2024-09-04")
    # unknown and malformed uids
    assert ok(v2.get(f"{path}/00000000-0000-4000-8000-000000000000")) is None
    assert ok(v2.get(f"{path}/not-a-uid")) is None
    err(v2.patch(f"{path}/not-a-uid", {"eventTypeId": et["id"], "slotStart": js(slot)}), 404)
    err(v2.patch(f"{path}/00000000-0000-4000-8000-000000000000", {"eventTypeId": et["id"], "slotStart": js(slot)}),
        404)
    err(v2.delete(f"{path}/00000000-0000-4000-8000-000000000000"), 404)
    err(v2.delete(f"{path}/not-a-uid"), 404)
    err(v2.get(f"{path}/00000000-0000-4000-8000-000000000000", version="2024-06-14"), 400)
    assert count_rows(env.db, "reservations") == rows


# ----------------------------------------------------------------------------- bookings and seats (§6.6)


def test_booking_blocks_and_reschedule_keeps_its_own_time(env, rome):
    h, et = rome
    v2 = V2(env.s)
    mon = monday(7)
    at = rome_day(mon)[2]
    b = h.book(et, at)
    grid = full_grid(mon)
    grid[mon.isoformat()].remove(js(at))
    assert starts(week(v2, et, mon)) == grid
    err(reserve(v2, et, at), 422, BOOKED)
    # rescheduling it: its own time is offered again (only for a booking of this event type)
    assert starts(week(v2, et, mon, bookingUidToReschedule=b["uid"])) == full_grid(mon)
    assert starts(week(v2, et, mon, bookingUidToReschedule="00000000-0000-4000-8000-000000000000")) == grid
    assert starts(week(v2, et, mon, bookingUidToReschedule="not-a-uid")) == grid
    other = h.et(duration_minutes=60, max_future_days=3650)
    assert starts(week(v2, other, mon, bookingUidToReschedule=b["uid"])) == grid


def test_seated_slots(env):
    h = Host(env.s, env.db, open_all_week=False)
    h.set_rules(WEEKDAYS_9_17, tz="Europe/Rome")
    et = h.et(duration_minutes=60, max_future_days=3650, seats=5)
    v2 = V2(env.s)
    mon = monday(3)
    d = mon.isoformat()
    at = rome_day(mon)[2]
    b = h.book(et, at)
    data = ok(v2.get("/v2/slots", eventTypeId=et["id"], start=d, end=d))
    assert [x["start"] for x in data[d]] == [js(t) for t in rome_day(mon)]
    for x in data[d]:
        if x["start"] == js(at):
            assert x == {"start": js(at), "seatsBooked": 1, "seatsRemaining": 4, "seatsTotal": 5,
                         "bookingUid": group_uid(b["uid"])}  # the group's public uid, never a seat's own
        else:
            assert x == {"start": x["start"], "seatsBooked": 0, "seatsRemaining": 5, "seatsTotal": 5}
    rng = ok(v2.get("/v2/slots", eventTypeId=et["id"], start=d, end=d, format="range", timeZone="Europe/Rome"))
    x = [x for x in rng[d] if x["start"] == luxon(at, ROME)][0]
    assert x == {"start": luxon(at, ROME), "end": luxon(at + dt.timedelta(hours=1), ROME), "seatsBooked": 1,
                 "seatsRemaining": 4, "seatsTotal": 5, "bookingUid": group_uid(b["uid"])}
    # a second seat: the first booking stays the slot's bookingUid
    h.book(et, at, email="second@example.com")
    x = [x for x in ok(v2.get("/v2/slots", eventTypeId=et["id"], start=d, end=d))[d] if x["start"] == js(at)][0]
    assert (x["seatsBooked"], x["seatsRemaining"], x["bookingUid"]) == (2, 3, group_uid(b["uid"]))
    # the group's uid, as clients read it from here, names the booking to reschedule too
    y = [y for y in ok(v2.get("/v2/slots", eventTypeId=et["id"], start=d, end=d,
                              bookingUidToReschedule=group_uid(b["uid"])))[d] if y["start"] == js(at)][0]
    assert y["seatsBooked"] == 1
    # rescheduling the first: its seat is free again, and the slot names the other booking
    x = [x for x in ok(v2.get("/v2/slots", eventTypeId=et["id"], start=d, end=d,
                              bookingUidToReschedule=b["uid"]))[d] if x["start"] == js(at)][0]
    assert x["seatsBooked"] == 1 and x["bookingUid"] != b["uid"]
    # reservations of a seated time with seats left are made; a full one is refused in Cal.com's words
    ok(reserve(v2, et, at), 201)
    for i in range(2):
        h.book(et, at, email=f"more{i}@example.com")
    x = [x for x in ok(v2.get("/v2/slots", eventTypeId=et["id"], start=d, end=d))[d] if x["start"] == js(at)]
    assert x == [], x  # 4 seats booked and one held: full
    h.book(et, rome_day(mon)[4], seats=5)
    err(reserve(v2, et, rome_day(mon)[4]), 422, "has no more seats left")


# ----------------------------------------------------------------------------- several lengths


def test_lengths(env):
    h = Host(env.s, env.db, open_all_week=False)
    h.set_rules(WEEKDAYS_9_17, tz="Europe/Rome")
    et = h.et(duration_minutes=60, durations=[30, 60], slot_interval_minutes=30, max_future_days=3650)
    v2 = V2(env.s)
    mon = monday(8)
    d = mon.isoformat()
    first = rome_day(mon)[0]
    half = ok(v2.get("/v2/slots", eventTypeId=et["id"], start=d, end=d, duration=30, format="range"))[d]
    assert half[0] == {"start": js(first), "end": js(first + dt.timedelta(minutes=30))} and len(half) == 16
    assert len(ok(v2.get("/v2/slots", eventTypeId=et["id"], start=d, end=d))[d]) == 15  # 09:00..16:00 local
    err(v2.get("/v2/slots", eventTypeId=et["id"], start=d, end=d, duration=45), 400, "30, 60")
    res = ok(reserve(v2, et, first, slotDuration=30), 201)
    assert (res["slotDuration"], res["slotEnd"]) == (30, js(first + dt.timedelta(minutes=30)))
    assert ok(v2.get(f"/v2/slots/reservations/{res['reservationUid']}"))["slotDuration"] == 30
    err(reserve(v2, et, first + dt.timedelta(minutes=30), slotDuration=45), 400, "slotDuration")
    # the 30-minute hold leaves the next half hour free for a 30-minute slot, not for an hour
    half = ok(v2.get("/v2/slots", eventTypeId=et["id"], start=d, end=d, duration=30))[d]
    assert half[0] == {"start": js(first + dt.timedelta(minutes=30))}
    err(reserve(v2, et, first), 422, RESERVED)


# ----------------------------------------------------------------------------- the engine decides


def test_engine_refusals_in_calcom_terms(env):
    h = Host(env.s, env.db, open_all_week=False)
    h.set_rules(WEEKDAYS_9_17, tz="Europe/Rome")
    et = h.et(duration_minutes=60, max_future_days=3650, limit_per_day=1)
    v2 = V2(env.s)
    mon = monday(9)
    h.book(et, rome_day(mon)[0])
    # the day's limit is reached: no slot left that day, and a hold is refused in the engine's words
    assert mon.isoformat() not in ok(v2.get("/v2/slots", eventTypeId=et["id"], start=mon.isoformat(),
                                            end=mon.isoformat()))
    err(reserve(v2, et, rome_day(mon)[3]), 422, "limit")


def test_concurrent_reservations_one_wins(env):
    h = Host(env.s, env.db, open_all_week=False)
    h.set_rules(WEEKDAYS_9_17, tz="Europe/Rome")
    et = h.et(duration_minutes=60, max_future_days=3650)
    mon = monday(10)
    at = rome_day(mon)[4]
    barrier = threading.Barrier(6)
    out = []

    def one():
        v2 = V2(env.s)
        barrier.wait()
        out.append(reserve(v2, et, at))

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in out) == [201] + [422] * 5, [(r.status, r.body[:200]) for r in out]
    for r in out:
        if r.status == 422:
            err(r, 422, RESERVED)
    assert count_rows(env.db, "reservations", f"host_id = {h.id}") == 1


def test_patch_to_another_hosts_event_type(env, rome):
    h, et = rome
    other = Host(env.s, env.db, open_all_week=False)
    other.set_rules(WEEKDAYS_9_17, tz="Europe/Rome")
    et2 = other.et(duration_minutes=30, max_future_days=3650)
    v2 = V2(env.s)
    mon = monday(11)
    d = mon.isoformat()
    at = rome_day(mon)[1]
    res = ok(reserve(v2, et, at), 201)
    moved = ok(v2.patch(f"/v2/slots/reservations/{res['reservationUid']}",
                        {"eventTypeId": et2["id"], "slotStart": js(at)}))
    assert (moved["eventTypeId"], moved["slotDuration"], moved["reservationUid"]) == \
        (et2["id"], 30, res["reservationUid"])
    # the first host's time is free again, the second's is held: both hosts' answers changed
    assert js(at) in [x["start"] for x in ok(v2.get("/v2/slots", eventTypeId=et["id"], start=d, end=d))[d]]
    assert js(at) not in [x["start"] for x in ok(v2.get("/v2/slots", eventTypeId=et2["id"], start=d, end=d))[d]]
    assert count_rows(env.db, "reservations", f"host_id = {h.id} AND start_at = '{js(at)}'") == 0
    assert count_rows(env.db, "reservations", f"host_id = {other.id}") == 1


def test_the_seeds_reservation_example(env, rome):
    """Seed 003's request as written -- slotDuration the string "30", reservationDuration 5, the
    version header -- on a 30-minute event type of ours (the seed's id and its 2024 date are the
    only substitutions), with the owner's key since it names a reservationDuration."""
    h, _ = rome
    et = h.et(duration_minutes=30, max_future_days=3650)
    mon = monday()
    start = rome_day(mon)[0]
    v2 = V2(env.s, key=h.user.key)
    body = {"eventTypeId": et["id"], "slotStart": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "slotDuration": "30",
            "reservationDuration": 5}
    r = v2.post("/v2/slots/reservations", body)
    data = ok(r, 201)
    assert data["eventTypeId"] == et["id"] and data["slotDuration"] == 30 and data["reservationDuration"] == 5
    assert data["slotStart"] == js(start) and data["slotEnd"] == js(start + dt.timedelta(minutes=30))
    assert UUID_RE.fullmatch(data["reservationUid"])
    for bad in ("30.5", "", "abc", "-30"):
        err(v2.post("/v2/slots/reservations", {**body, "slotDuration": bad}), 400, "slotDuration")
