"""Issue 19, in a real browser, the event page's options and the booking page's chat panel:
`?month=` and `?date=` deep links; a zone switch that carries the chosen day into the next month;
an event type with several lengths (the slots and the booking follow the chosen length); a seated
type (places booked and the places left afterwards); and a conversation with the booking assistant
from a request to a booking. The four event-page pieces share one browser (one scenario, run once
for the module), each judged by its own test; every expectation is computed here from instants
with zoneinfo and checked against the database or the public API."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from accounts_util import call
from conftest import Browser
from web_util import (booking_by_uid, day_in, day_instants, dumps, event_type, instant, label_matches, parse,
                      rfc3339, uid_of_manage_link, web_host)

UTC = dt.timezone.utc
NEW_YORK, TOKYO = "America/New_York", "Asia/Tokyo"
WINDOW = 120  # days ahead an event type here may be booked (the dates below reach ~62 days)


def months_ahead(n):
    t = dt.datetime.now(UTC).date().replace(day=1)
    for _ in range(n):
        t = (t + dt.timedelta(days=32)).replace(day=1)
    return t


def starts(state):
    return [parse(s["start"]) for s in state["slots"]]


@pytest.fixture(scope="module")
def options(site, node_bin):
    """The scene (four hosts, each open as its piece needs) and what the browser saw in it."""
    sc = {}
    # deep links: a host open around the clock
    h = web_host(site)
    et = event_type(h, name="Deep link", max_future_days=WINDOW)
    month = months_ahead(2).isoformat()[:7]
    sc["deep"] = {"slug": h.slug, "event_slug": et["slug"], "month": month, "date": day_in("UTC", 40)}

    # the zone switch: open only 23:00-24:00 UTC, and only on the weekday of the last day of next
    # month. In New York that day has the two evening slots; in Tokyo they are on the next day, the
    # first of the month after, and the last day itself has none.
    last = months_ahead(2) - dt.timedelta(days=1)
    hz = web_host(site)
    hz.set_rules([{"day": (last.weekday() + 1) % 7, "start": "23:00", "end": "24:00"}])
    etz = event_type(hz, name="Night owl", max_future_days=WINDOW)
    sc["zone"] = {"slug": hz.slug, "event_slug": etz["slug"], "date": last.isoformat(), "from": NEW_YORK,
                  "to": TOKYO, "to_typed": "Tokyo", "to_offset": "+09:00"}

    # several lengths: a 30-minute booking at 11:00 makes the day partly busy
    hl = web_host(site)
    etl = event_type(hl, name="Lengths", durations=[15, 30, 60], duration_minutes=30, max_future_days=WINDOW)
    dl = day_in("UTC", 3)
    busy = hl.book(etl, instant(dl, "11:00", "UTC"), name="Busy Body", email="busy@example.com")
    sc["lengths"] = {"slug": hl.slug, "event_slug": etl["slug"], "date": dl, "start": rfc3339(instant(dl, "10:00", "UTC")),
                     "invitee": {"name": "Len Long", "email": "len@example.com"}}

    # seats: three places a time, two of them booked in one booking
    hs = web_host(site)
    ets = event_type(hs, name="Workshop", seats=3, max_future_days=WINDOW)
    ds = day_in("UTC", 3)
    sc["seats"] = {"slug": hs.slug, "event_slug": ets["slug"], "date": ds, "start": rfc3339(instant(ds, "10:00", "UTC")),
                   "count": 2, "invitee": {"name": "Sam Seats", "email": "sam@example.com"}}

    res = Browser(node_bin, "options").run("options", {"base": site.base, **sc})
    return {"res": res, "sc": sc, "hosts": {"deep": h, "zone": hz, "lengths": hl, "seats": hs},
            "types": {"lengths": etl, "seats": ets}, "busy": busy}


def test_deep_links_open_month_and_day(options):
    res, sc = options["res"], options["sc"]["deep"]
    # ?month=: that month, its first free day chosen (the host is open around the clock: the 1st)
    m = res["deep_month"]
    first = sc["month"] + "-01"
    assert m["month"] == sc["month"] and m["pressed"] == [first], dumps(m)
    assert starts(m) == day_instants(first, "UTC"), dumps(m["slots"][:3])
    # ?date=: that day chosen, in its month, with that day's slots
    d = res["deep_date"]
    assert d["month"] == sc["date"][:7] and d["pressed"] == [sc["date"]], dumps(d)
    assert starts(d) == day_instants(sc["date"], "UTC"), dumps(d["slots"][:3])


def test_zone_switch_follows_the_day_into_next_month(options):
    res, sc = options["res"], options["sc"]["zone"]
    last = dt.date.fromisoformat(sc["date"])
    evening = [instant(sc["date"], "23:00", "UTC"), instant(sc["date"], "23:30", "UTC")]
    b = res["zone_before"]
    assert b["month"] == sc["date"][:7] and b["pressed"] == [sc["date"]] and starts(b) == evening, dumps(b)
    for s in b["slots"]:
        assert label_matches(s["label"], parse(s["start"]), NEW_YORK), s
    # in Tokyo those instants are on the next day, the first of the next month: that month is shown
    # with that day chosen (the last day of the old month has nothing left in Tokyo)
    nxt = (last + dt.timedelta(days=1)).isoformat()
    a = res["zone_after"]
    assert nxt.endswith("-01") and all(t.astimezone(ZoneInfo(TOKYO)).date().isoformat() == nxt for t in evening)
    assert a["month"] == nxt[:7] and a["pressed"] == [nxt], dumps(a)
    assert starts(a) == evening, dumps(a)
    for s in a["slots"]:
        assert s["start"].endswith("+09:00") and label_matches(s["label"], parse(s["start"]), TOKYO), s
    # the live region says so, with the day's count
    st = res["zone_status"]
    assert "Tokyo" in st["text"] and "2 times" in st["text"], st


def test_several_lengths_change_slots_and_booking(options):
    res, sc, h = options["res"], options["sc"]["lengths"], options["hosts"]["lengths"]
    busy_start = instant(sc["date"], "11:00", "UTC")
    busy_end = busy_start + dt.timedelta(minutes=30)

    def free(length):
        return [t for t in day_instants(sc["date"], "UTC", duration=length)
                if not (t < busy_end and t + dt.timedelta(minutes=length) > busy_start)]

    assert [o["value"] for o in res["len_options"]] == ["15", "30", "60"], res["len_options"]
    assert res["len_selected"] == "30"
    assert starts(res["len_default"]) == free(30), dumps(res["len_default"]["slots"][20:25])
    # 60 minutes: 10:30 (it would run into the busy half hour) and 23:30 (past midnight) are gone
    got60 = starts(res["len_60"])
    assert got60 == free(60), dumps(res["len_60"]["slots"][18:24])
    assert instant(sc["date"], "10:30", "UTC") not in got60 and instant(sc["date"], "10:30", "UTC") in free(30)
    assert res["len_duration_text"] == "60 min", res["len_duration_text"]
    assert "10:00" in res["len_when"] and "11:00" in res["len_when"], res["len_when"]
    assert [p.get("duration_minutes") for p in res["len_posts"]] == [60], res["len_posts"]
    uid, _, _ = uid_of_manage_link(res["len_conf"]["manage"])
    b = booking_by_uid(h, uid)
    target = parse(sc["start"])
    assert parse(b["start"]) == target and parse(b["end"]) == target + dt.timedelta(minutes=60), b
    assert b["duration_minutes"] == 60 and b["status"] == "confirmed", b
    rows = h.db.sql(f"SELECT extract(epoch FROM end_at - start_at)::int FROM bookings WHERE uid = '{uid}'")
    assert rows == [["3600"]], rows


def test_seats_booked_and_places_left(options):
    res, sc, h = options["res"], options["sc"]["seats"], options["hosts"]["seats"]
    target = parse(sc["start"])

    def label_at(state, t):
        found = [s["label"] for s in state["slots"] if parse(s["start"]) == t]
        assert len(found) == 1, (t, dumps(state["slots"][:4]))
        return found[0]

    assert "3 places left" in label_at(res["seats_before"], target), dumps(res["seats_before"]["slots"][18:22])
    si = res["seats_input"]
    assert si["type"] == "number" and si["min"] == "1" and si["max"] == "3" and si["value"] == "1" and si["label"], si
    assert res["seats_conf"]["status"] == "confirmed", res["seats_conf"]
    uid, _, _ = uid_of_manage_link(res["seats_conf"]["manage"])
    b = booking_by_uid(h, uid)
    assert parse(b["start"]) == target and b["seats"] == 2 and b["invitee_email"] == "sam@example.com", b
    rows = h.db.sql(f"SELECT seats, status FROM bookings WHERE host_id = {h.id}")
    assert rows == [["2", "confirmed"]], rows
    # afterwards the time shows one place left; the next one still three
    assert "1 place left" in label_at(res["seats_after"], target), dumps(res["seats_after"]["slots"][18:22])
    assert "3 places left" in label_at(res["seats_after"], target + dt.timedelta(minutes=30))
    r = call(h.s, "GET", f"/api/availability/{h.slug}/{sc['event_slug']}?start={sc['date']}&end={sc['date']}"
                         "&timezone=UTC&format=range")
    assert r.status == 200, r
    api = {parse(s["start"]): s["seats_remaining"] for s in r.json()["slots"][sc["date"]]}
    assert api[target] == 1, api[target]


def test_chat_panel_books(site, browser):
    h = web_host(site)
    et = event_type(h, name="Chatty call")
    request, details = "a 30 minute call tomorrow afternoon", "I'm Clara Jones, clara@example.com"
    # "tomorrow" is the assistant's, read in the browser's zone when the message is sent: the day
    # after New York's today now, or (past midnight meanwhile) the one after
    days = {day_in(NEW_YORK, 1)}
    r = call(site.s, "GET", f"/api/availability/{h.slug}/{et['slug']}?start={day_in(NEW_YORK, 1)}&end={day_in(NEW_YORK, 2)}"
                            f"&timezone={NEW_YORK}&format=range")
    assert r.status == 200, r
    offered = {parse(s["start"]) for d in r.json()["slots"].values() for s in d}
    res = browser.run("chat", {"base": site.base, "slug": h.slug, "browser_tz": NEW_YORK, "request": request,
                               "pick": 1, "details": details})
    days.add(day_in(NEW_YORK, 1))

    assert (res["hidden_before"], res["expanded_before"], res["expanded_after"]) == (True, "false", "true"), res
    assert res["input_label"] and res["input_focused"], res
    # the suggestions: the afternoon (12:00-17:00 New York) of tomorrow, each a slot the engine offers
    sug = res["suggested"]
    assert 2 <= len(sug) <= 5, dumps(sug)
    sdays = set()
    for s in sug:
        t = parse(s["start"])
        w = t.astimezone(ZoneInfo(NEW_YORK))
        sdays.add(w.date().isoformat())
        assert 12 <= w.hour < 17 and t in offered, s
        assert label_matches(s["text"], t, NEW_YORK) and "New York" in s["label"], s
    assert len(sdays) == 1 and sdays <= days, (sdays, days)
    # the clicked one (the second) was booked, after the details were given in a message
    assert res["clicked"] == sug[1]["start"]
    users = [m["text"] for m in res["log"] if m["who"] == "user"]
    assert len(users) == 3 and request in users[0] and "second" in users[1] and details in users[2], dumps(res["log"])
    posts = res["chat_posts"]
    assert len(posts) == 3 and all(p["booking_page_slug"] == h.slug and p["timezone"] == NEW_YORK for p in posts), posts
    assert "session_id" not in posts[0] and posts[1]["session_id"] and posts[2]["session_id"] == posts[1]["session_id"]
    conf = res["conf"]
    assert conf["status"] == "confirmed" and res["event_types_hidden"], conf
    clicked = parse(res["clicked"])
    assert label_matches(conf["when"], clicked, NEW_YORK) and "New York" in conf["when"], conf["when"]
    uid, _, _ = uid_of_manage_link(conf["manage"])
    b = booking_by_uid(h, uid)
    assert parse(b["start"]) == clicked and parse(b["end"]) == clicked + dt.timedelta(minutes=30), b
    assert (b["invitee_name"], b["invitee_email"], b["timezone"], b["status"]) == \
        ("Clara Jones", "clara@example.com", NEW_YORK, "confirmed"), b
    assert len(h.list().json()) == 1
