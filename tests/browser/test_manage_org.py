"""Issue 19: the invitee's manage page (reschedule to another slot, then cancel with a reason; a
bad token explained in words) and an organisation's page with a round-robin event type whose host
the invitee chooses."""

from accounts_util import call
from team_util import Org
from web_util import booking_by_uid, day_in, dumps, instant, parse, rfc3339, uid_of_manage_link, event_type, web_host

OPEN_ALL_WEEK = [{"day": d, "start": "00:00", "end": "24:00"} for d in range(7)]


def test_manage_reschedule_then_cancel(site, browser):
    h = web_host(site)
    et = event_type(h, name="Planning")
    date, new_date = day_in("UTC", 2), day_in("UTC", 4)
    first, moved = instant(date, "08:00", "UTC"), instant(new_date, "15:30", "UTC")
    res = browser.run("manage", {
        "base": site.base, "slug": h.slug, "event_slug": et["slug"], "date": date, "start": rfc3339(first),
        "new_date": new_date, "new_start": rfc3339(moved), "reason": "Double-booked, sorry",
        "invitee": {"name": "Mia Manage", "email": "mia@example.com"},
    }, allow_status=(404,))
    uid, _, _ = uid_of_manage_link(res["conf"]["manage"])
    assert res["before"]["status"] == "confirmed" and res["before"]["when"], res["before"]
    # the picker offered the booking's own event type's slots
    assert any(f"/api/event-types/{et['id']}/slots" in u for u in res["reschedule_requests"]), res["reschedule_requests"]
    assert res["after_reschedule"] and res["after_reschedule"] != res["before"]["when"], res
    assert "15:30" in res["after_reschedule"] or "3:30" in res["after_reschedule"], res["after_reschedule"]
    assert res["reason_label"], res
    assert "cancel" in res["cancelled_text"].lower(), res["cancelled_text"]
    # the database: moved (same booking), then cancelled by the invitee with the reason
    b = booking_by_uid(h, uid)
    assert parse(b["start"]) == moved and parse(b["previous_start"]) == first, b
    assert (b["status"], b["cancelled_by"], b["reason"]) == ("cancelled", "invitee", "Double-booked, sorry"), b
    # a token that is not one: words, and no action offered
    assert res["bad_token_error"] and res["bad_token_buttons"] == 0, res


def test_org_round_robin_host_choice(site, browser):
    org = Org(site.s, zones=("UTC", "UTC"))
    for uid in org.ids:
        scheds = call(site.s, "GET", f"/api/orgs/{org.id}/members/{uid}/schedules", auth=org.owner.session)
        assert scheds.status == 200, scheds
        sid = [x for x in scheds.json() if x["is_default"] in (1, True)][0]["id"]
        r = call(site.s, "PUT", f"/api/orgs/{org.id}/members/{uid}/schedules/{sid}",
                 {"rules": OPEN_ALL_WEEK, "timezone": "UTC"}, auth=org.owner.session)
        assert r.status == 200, r
    favoured, chosen = org.ids
    # round robin alone would pick the favoured host (highest priority): only the invitee's choice
    # puts the booking on the other one
    et = org.event_type(name="Consult", hosts=[{"user_id": favoured, "priority": 4}, {"user_id": chosen, "priority": 0}])
    date = day_in("UTC", 3)
    target = instant(date, "13:00", "UTC")
    chosen_name = [m["name"] for m in org.members if m["user_id"] == chosen][0]
    res = browser.run("org", {
        "base": site.base, "slug": org.slug, "event_slug": et["slug"], "host_id": chosen, "date": date,
        "start": rfc3339(target), "invitee": {"name": "Olga Org", "email": "olga@example.com"},
    })
    assert f"/{org.slug}/{et['slug']}" in res["links"], res["links"]
    assert res["hosts"][0]["value"] == "" and {"value": str(chosen), "text": chosen_name} in res["hosts"], res["hosts"]
    assert any(f"host_id={chosen}" in u for u in res["slot_requests"]), res["slot_requests"]
    uid, _, _ = uid_of_manage_link(res["conf"]["manage"])
    rows = site.db.sql(f"SELECT host_id, start_at = '{rfc3339(target)}', status FROM bookings WHERE uid = '{uid}'")
    assert rows == [[str(chosen), "t", "confirmed"]], dumps(rows)
