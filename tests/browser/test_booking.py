"""Issue 19, in a real browser: a person books through the hosted pages (zone switch, required
question, confirmation), two browsers race for one slot, a keyboard-only booking, a 375 px wide
screen (with a booking that awaits the host). Hosts are open around the clock in UTC with no minimum notice, so the days chosen (a few
days ahead) always have free slots; every expectation about times is computed here from
instants with zoneinfo, not read back from the page."""

import datetime as dt

from web_util import (XSS_LABEL, XSS_NAME, booking_by_uid, check_manage_link, day_in, day_instants, dumps,
                      event_type, host_bookings, instant, label_matches, parse, rfc3339, uid_of_manage_link, web_host)

TOKYO = "Asia/Tokyo"
NEW_YORK = "America/New_York"


def test_person_books_in_their_zone(site, browser):
    h = web_host(site, display_name=XSS_NAME, bio="Talks about <b>scheduling</b>")
    et = event_type(h, name="Intro <script>window.__xss=3</script>", questions=[
        {"id": "company", "label": XSS_LABEL, "type": "text", "required": True},
        {"id": "size", "label": "Team size", "type": "select", "options": ["1-5", "6+"], "required": False},
        {"id": "agree", "label": "Send me notes", "type": "checkbox", "required": False},
    ])
    date = day_in(TOKYO, 3)
    target = instant(date, "10:00", TOKYO)
    answers = {"company": "Acme <b>Corp</b>", "size": "6+", "agree": True}
    res = browser.run("person", {
        "base": site.base, "slug": h.slug, "event_slug": et["slug"], "browser_tz": NEW_YORK,
        "zone": TOKYO, "zone_typed": "Tokyo", "zone_offset": "+09:00", "date": date, "start": rfc3339(target),
        "name": "Ada Lovelace", "email": "ada@example.com", "required_id": "company",
        "answers": answers, "answers_without_required": {"size": "6+", "agree": True},
    })

    # the booking page: the display name as text, its event type linked; nothing injected
    assert XSS_NAME in (res["page"]["header"] or ""), dumps(res["page"])
    assert {"href": f"/{h.slug}/{et['slug']}"} in [{"href": x["href"]} for x in res["page"]["links"]], res["page"]
    assert et["name"] in res["page"]["links"][0]["text"] and "30 min" in res["page"]["links"][0]["text"]
    assert res["event_name"] == et["name"]
    for k in ("page_injected", "form_injected", "conf_injected"):
        assert res[k] == {"imgs": 0, "xss": None}, (k, res[k])

    # before the switch: the browser's own zone; every label is its slot's time in New York
    assert res["tz_before"] == NEW_YORK
    assert res["labels_before"], res
    for s in res["labels_before"]:
        assert label_matches(s["label"], parse(s["start"]), NEW_YORK), s
    assert res["status_before"]["live"] == "polite" and str(len(res["labels_before"])) in res["status_before"]["text"], \
        res["status_before"]

    # after the switch: fetched again in Tokyo's zone; the chosen day is exactly the 48 half hours of
    # that Tokyo date, each labelled with its Tokyo time
    assert res["tz_after"] == TOKYO
    assert any("timezone=Asia%2FTokyo" in u or "timezone=Asia/Tokyo" in u for u in res["requests_after_zone"]), \
        res["requests_after_zone"]
    got = [parse(s["start"]) for s in res["day_labels"]]
    assert got == day_instants(date, TOKYO), dumps(res["day_labels"][:5])
    for s in res["day_labels"]:
        assert s["start"].endswith("+09:00") and label_matches(s["label"], parse(s["start"]), TOKYO), s
    assert label_matches(res["picked"]["label"], target, TOKYO) and "10:00" in res["picked"]["label"], res["picked"]
    # the live region announces the day's slots (their number)
    assert str(len(got)) in res["status_day"]["text"], res["status_day"]

    # the question's label is text; the required one is marked so
    assert any(XSS_LABEL in lab["text"] and lab["for"] == "q-company" for lab in res["form_labels"]), res["form_labels"]
    assert res["required"] == {"required": True, "aria": "true"}, res["required"]

    # the empty required answer: an error in words on the control, focused, and no booking request
    assert res["missing"]["focused"] and res["missing"]["error"], res["missing"]
    assert not res["missing"]["confirmation"] and res["posts_after_missing"] == 0, res["missing"]

    # the confirmation: Tokyo's wall clock and zone, calendar links, the manage link
    conf = res["conf"]
    assert conf["status"] == "confirmed", conf
    assert "10:00" in conf["when"] and "10:30" in conf["when"] and "Tokyo" in conf["when"], conf["when"]
    assert conf["google"].startswith("https://calendar.google.com/"), conf
    assert conf["outlook"] and conf["outlook"].startswith("https://"), conf
    uid, _, _ = uid_of_manage_link(conf["manage"])
    assert f"/api/bookings/{uid}/ics" in conf["ics"], conf

    # through the host's API: one booking, at the right instant, with the answers and the zone
    bookings = host_bookings(h)
    assert len(bookings) == 1, dumps(bookings)
    b = booking_by_uid(h, uid)
    assert parse(b["start"]) == target and parse(b["end"]) == target + dt.timedelta(minutes=30), b
    assert b["timezone"] == TOKYO and b["status"] == "confirmed", b
    assert (b["invitee_name"], b["invitee_email"]) == ("Ada Lovelace", "ada@example.com"), b
    assert b["answers"] == answers, b["answers"]
    assert b["confirmation_number"] in conf["text"], conf["text"]
    check_manage_link(site, conf["manage"], uid)


def test_two_browsers_race_for_one_slot(site, browser):
    h = web_host(site)
    et = event_type(h)
    date = day_in("UTC", 2)
    target = instant(date, "09:00", "UTC")
    res = browser.run("race", {
        "base": site.base, "slug": h.slug, "event_slug": et["slug"], "date": date, "start": rfc3339(target),
        "a": {"name": "Alice A", "email": "alice@example.com"},
        "b": {"name": "Bruno B", "email": "bruno@example.com"},
    }, allow_status=(409,))
    # exactly one of them booked, the other was told in words and shown the day's fresh slots
    assert sorted([res["a"], res["b"]]) == ["booked", "taken"], (res["a"], res["b"])
    assert "taken" in res["error"].lower(), res["error"]
    fresh = [parse(s) for s in res["fresh"]]
    assert target not in fresh and fresh, res["fresh"]
    assert set(fresh) == set(day_instants(date, "UTC")) - {target}, res["fresh"]
    rows = site.db.sql(f"SELECT invitee_email FROM bookings WHERE host_id = {h.id} AND start_at = '{rfc3339(target)}' "
                       "AND status = 'confirmed'")
    assert len(rows) == 1, rows
    winner = "alice@example.com" if res["a"] == "booked" else "bruno@example.com"
    assert rows[0][0] == winner
    assert len(host_bookings(h)) == 1


def test_keyboard_only_booking(site, browser):
    h = web_host(site)
    et = event_type(h, questions=[
        {"id": "topic", "label": "Topic", "type": "text", "required": True},
        {"id": "consent", "label": "I agree", "type": "checkbox", "required": True},
    ])
    date = day_in(TOKYO, 2)
    target = instant(date, "01:00", TOKYO)
    res = browser.run("keyboard", {
        "base": site.base, "slug": h.slug, "event_slug": et["slug"], "zone": TOKYO, "zone_typed": TOKYO,
        "zone_offset": "+09:00", "date": date, "start": rfc3339(target), "name": "Kim Keys",
        "email": "kim@example.com", "text_q": "topic", "text_answer": "Roadmap", "check_q": "consent",
    })
    # visible focus at every step: an outline (or a ring drawn with box-shadow) on the focused control
    for what, f in res["focus"].items():
        assert f and f["focusVisible"], (what, f)
        ring = (f["outlineStyle"] != "none" and float(f["outlineWidth"].rstrip("px") or 0) >= 1) or \
            f["boxShadow"] not in ("none", "")
        assert ring, (what, f)
    assert res["focus"]["day"]["date"] == date and parse(res["focus"]["slot"]["start"]) == target, res["focus"]
    assert res["focus"]["submit"]["id"] == "book-submit"
    assert res["status"]["live"] == "polite" and "48" in res["status"]["text"], res["status"]  # 48 half hours
    assert res["checked"] is True
    assert res["unlabelled"] == [], res["unlabelled"]
    assert res["conf"]["status"] == "confirmed" and "Tokyo" in res["conf"]["when"], res["conf"]
    uid, _, _ = uid_of_manage_link(res["conf"]["manage"])
    b = booking_by_uid(h, uid)
    assert parse(b["start"]) == target and b["timezone"] == TOKYO, b
    assert b["answers"] == {"topic": "Roadmap", "consent": True}, b["answers"]


def test_narrow_screen_and_pending_booking(site, browser):
    h = web_host(site, bio="A rather long biography line that must wrap on a phone instead of widening the page")
    et = event_type(h, requires_confirmation=True, description="Agenda: https://example.com/meetings/agenda/2026/quarterly-review-and-planning-notes"
                                   "-for-the-whole-team.pdf and a few words after it")
    date = day_in("UTC", 2)
    target = instant(date, "14:30", "UTC")
    res = browser.run("narrow", {
        "base": site.base, "slug": h.slug, "event_slug": et["slug"], "date": date, "start": rfc3339(target),
        "invitee": {"name": "Nina Narrow", "email": "nina@example.com"},
    })
    for view, w in res["widths"].items():
        assert w["innerWidth"] == 375 and w["scrollWidth"] <= 375, (view, w)
    # the host confirms this type's bookings: the confirmation says it awaits the host
    conf = res["conf"]
    assert conf["status"] == "pending", conf
    assert "awaits the host" in conf["text"] or "waiting for the host" in conf["text"], conf["text"]
    uid, _, _ = uid_of_manage_link(conf["manage"])
    b = booking_by_uid(h, uid)
    assert parse(b["start"]) == target and b["status"] == "pending", b
