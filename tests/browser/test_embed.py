"""Issue 19: /embed.js on parent pages served from other origins (own 127.0.0.1 ports): the inline
iframe sizes itself to its content, the parent hears slotd:booked and schedkit:booked with the
booking's fields (compared with the database), the popup opens, closes, and books in its dialog
(the parent hears slotd:booked), a framed manage page tells its parent of a reschedule and a
cancellation, and a page that frames the event page claiming another parent origin (or '*')
hears nothing at all."""

import json
import urllib.parse

from web_util import booking_by_uid, day_in, dumps, event_type, instant, parse, rfc3339, uid_of_manage_link, web_host

# every message event the parent page sees: its origin, data, and whether it came from one of its iframes
RECORDER = """<script>
window.__msgs = [];
addEventListener('message', function (e) {
  var d; try { d = JSON.parse(JSON.stringify(e.data)); } catch (x) { d = String(e.data); }
  var frames = Array.prototype.slice.call(document.querySelectorAll('iframe'));
  window.__msgs.push({origin: e.origin, data: d, from_iframe: frames.some(function (f) { return f.contentWindow === e.source; })});
});
</script>"""


def parent_page(title, body):
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>{RECORDER}'
            f'</head><body><h1>{title}</h1><p>Some text of the parent page.</p>{body}<p>Footer</p></body></html>')


def test_embed_inline_popup_and_forged_origin(site, browser, page_server):
    h = web_host(site)
    et = event_type(h, name="Embedded chat")
    parent, forger = page_server(), page_server()
    assert parent.origin != site.base and forger.origin not in (site.base, parent.origin)
    data_slotd = f"{h.slug}/{et['slug']}"
    parent.pages["/inline.html"] = parent_page("Inline embed", (
        f'<div id="box" style="width:600px"><script src="{site.base}/embed.js" data-slotd="{data_slotd}" '
        'data-mode="inline" data-theme="#7c3aed" data-hide-header="true"></script></div>'))
    # the popup's parent also listens for the DOM event embed.js dispatches on its iframe
    parent.pages["/popup.html"] = parent_page("Popup embed", (
        "<script>window.__dom = []; document.addEventListener('slotd:booked', function (e) {"
        " window.__dom.push({type: e.type, target: e.target.className, detail: JSON.parse(JSON.stringify(e.detail))});"
        " });</script>"
        f'<script src="{site.base}/embed.js" data-slotd="{data_slotd}" data-mode="popup" '
        'data-button-text="Book a meeting"></script>'))
    ev = f"{site.base}/{h.slug}/{et['slug']}?embed=1&embed_origin="
    forger.pages["/forged.html"] = parent_page("Forged origin", (
        f'<iframe title="forged a" width="600" height="700" src="{ev}{urllib.parse.quote(parent.origin, safe="")}">'
        f'</iframe><iframe title="forged b" width="600" height="700" src="{ev}%2A"></iframe>'))

    date = day_in("UTC", 2)
    target, forged_target = instant(date, "11:00", "UTC"), instant(date, "12:00", "UTC")
    popup_target = instant(date, "13:30", "UTC")
    # a booking made beforehand, managed from a page of the parent's origin that frames its manage page
    managed = h.book(et, instant(date, "16:00", "UTC"), name="Max Managed", email="max@example.com")
    manage_new = instant(date, "17:30", "UTC")
    manage_src = (f"{site.base}/booking/{managed['uid']}?token={managed['cancel_token']}"
                  f"&reschedule_token={managed['reschedule_token']}&embed=1"
                  f"&embed_origin={urllib.parse.quote(parent.origin, safe='')}")
    parent.pages["/manage.html"] = parent_page("Manage embed", (
        f'<iframe title="Your booking" width="600" height="900" src="{manage_src}"></iframe>'))
    res = browser.run("embed", {
        "base": site.base, "inline_url": f"{parent.origin}/inline.html", "popup_url": f"{parent.origin}/popup.html",
        "forged_url": f"{forger.origin}/forged.html", "manage_url": f"{parent.origin}/manage.html",
        "manage_new_start": rfc3339(manage_new), "date": date, "start": rfc3339(target),
        "forged_start": rfc3339(forged_target), "popup_start": rfc3339(popup_target),
        "popup_invitee": {"name": "Pia Popup", "email": "pia@example.com"},
        "invitee": {"name": "Emma Embed", "email": "emma@example.com"},
        "forged_invitee": {"name": "Fred Forged", "email": "fred@example.com"},
    })

    # the iframe: after the script tag, the slotd origin's event page with the parent's origin and options
    fr = res["iframe"]
    assert fr["afterScript"] and fr["title"] and fr["scrolling"] == "no", fr
    assert abs(fr["width"] - fr["parentWidth"]) <= 1, fr
    src = urllib.parse.urlsplit(fr["src"])
    assert f"{src.scheme}://{src.netloc}" == site.base and src.path == f"/{h.slug}/{et['slug']}", fr["src"]
    q = dict(urllib.parse.parse_qsl(src.query))
    assert q.get("embed") == "1" and q.get("embed_origin") == parent.origin and q.get("hide_header") == "1", q
    assert q.get("theme", "").lstrip("#").lower() == "7c3aed", q
    assert res["in_frame"] == {"header_visible": False, "brand": "#7c3aed"}, res["in_frame"]

    # it sizes itself: at every view the document fits the iframe (no inner scroll bar), and the
    # height followed the content through resize messages
    for k in ("fit_slots", "fit_form", "fit_conf"):
        f = res[k]
        assert f["scrollHeight"] <= f["iframe"] + 1 and abs(f["iframe"] - f["last"]) <= 1 and f["iframe"] > 150, (k, f)
    msgs = res["inline_msgs"]
    assert msgs and all(m["origin"] == site.base and m["from_iframe"] for m in msgs), dumps(msgs)
    resizes = [m["data"]["height"] for m in msgs if m["data"]["type"] == "slotd:resize"]
    assert all(isinstance(x, int) and x > 0 for x in resizes) and len(set(resizes)) >= 2, resizes
    assert {m["data"]["type"] for m in msgs} == {"slotd:resize", "slotd:booked", "schedkit:booked"}, dumps(msgs)

    # the booked messages carry the booking as the database has it, and no token
    uid, cancel, resched = uid_of_manage_link(res["conf"]["manage"])
    b = booking_by_uid(h, uid)
    assert parse(b["start"]) == target
    booked = [m["data"] for m in msgs if m["data"]["type"] == "slotd:booked"]
    sk = [m["data"] for m in msgs if m["data"]["type"] == "schedkit:booked"]
    assert len(booked) == 1 and len(sk) == 1, dumps(msgs)
    text = json.dumps(booked + sk)
    assert cancel not in text and resched not in text and "token" not in text, text
    mb = booked[0]["booking"]
    for k in ("uid", "status", "timezone", "event_name", "invitee_name", "invitee_email", "confirmation_number",
              "start_time", "end_time"):
        assert mb[k] == b[k], (k, mb.get(k), b[k])
    assert parse(mb["start"]) == parse(b["start"]) and parse(mb["end"]) == parse(b["end"]), mb
    assert mb["requires_confirmation"] is False, mb
    p, d = sk[0]["payload"], sk[0]["data"]
    assert p == {"id": uid, "status": "confirmed", "requires_confirmation": False, "attendee_name": "Emma Embed",
                 "start_time": p["start_time"]}, p
    assert p["start_time"].endswith("Z") and parse(p["start_time"]) == target, p
    assert (d["uid"], d["attendee_name"], d["attendee_email"], d["attendee_timezone"], d["status"],
            d["requires_confirmation"]) == (uid, "Emma Embed", "emma@example.com", b["timezone"], "confirmed", False), d
    assert parse(d["start_time"]) == target, d

    # the popup: a button, a modal dialog holding the iframe, Escape closes it and focus comes back
    assert res["popup_button"] == "Book a meeting" and res["popup_frames_before"] == 0, res
    assert res["overlay"] == {"role": "dialog", "modal": "true", "has_iframe": True, "close": True}, res["overlay"]
    assert urllib.parse.urlsplit(res["popup_src"]).path == f"/{h.slug}/{et['slug']}", res["popup_src"]
    assert res["popup_focus_back"] is True
    pm = res["popup_msgs"]
    assert pm and all(m["origin"] == site.base and m["data"]["type"] == "slotd:resize" for m in pm), dumps(pm)

    # opened again and booked inside the dialog: the parent hears slotd:booked (as a message from
    # slotd's origin and its iframe, and as a DOM event on the iframe), with the stored booking and
    # no token; the close button closes it and focus returns to the button
    assert res["popup_conf"]["status"] == "confirmed", res["popup_conf"]
    puid, pcancel, presched = uid_of_manage_link(res["popup_conf"]["manage"])
    pb = booking_by_uid(h, puid)
    assert parse(pb["start"]) == popup_target and pb["invitee_email"] == "pia@example.com", pb
    later = res["popup_all_msgs"][len(pm):]
    assert all(m["origin"] == site.base and m["from_iframe"] for m in later), dumps(later)
    pbooked = [m["data"] for m in later if m["data"]["type"] == "slotd:booked"]
    assert len(pbooked) == 1, dumps(later)
    pmb = pbooked[0]["booking"]
    assert (pmb["uid"], pmb["status"], pmb["invitee_email"]) == (puid, "confirmed", "pia@example.com"), pmb
    assert parse(pmb["start"]) == popup_target, pmb
    assert len([m for m in later if m["data"]["type"] == "schedkit:booked"]) == 1, dumps(later)
    text = json.dumps(later)
    assert pcancel not in text and presched not in text and "token" not in text, text
    dom = res["popup_dom_events"]
    assert [d["type"] for d in dom] == ["slotd:booked"] and dom[0]["target"] == "slotd-embed", dumps(dom)
    assert dom[0]["detail"]["booking"]["uid"] == puid, dumps(dom)
    assert res["popup_focus_back_button"] is True

    # the framed manage page told its parent of the move and of the cancellation, without tokens
    # (the parent page was reloaded between the two, so each list holds one action's messages)
    for k, kind in (("manage_resched_msgs", "slotd:rescheduled"), ("manage_msgs", "slotd:cancelled")):
        assert all(m["origin"] == site.base and m["from_iframe"] for m in res[k]), dumps(res[k])
        told = [m["data"] for m in res[k] if m["data"]["type"] != "slotd:resize"]
        assert [m["type"] for m in told] == [kind], dumps(told)
        text = json.dumps(told)
        assert managed["cancel_token"] not in text and managed["reschedule_token"] not in text and "token" not in text
    moved = [m["data"] for m in res["manage_resched_msgs"] if m["data"]["type"] == "slotd:rescheduled"][0]["booking"]
    assert moved["uid"] == managed["uid"] and parse(moved["start"]) == manage_new, moved
    cancelled = [m["data"] for m in res["manage_msgs"] if m["data"]["type"] == "slotd:cancelled"][0]
    assert cancelled["booking"] == {"uid": managed["uid"], "status": "cancelled"}, cancelled
    mb2 = booking_by_uid(h, managed["uid"])
    assert mb2["status"] == "cancelled" and parse(mb2["start"]) == manage_new, mb2

    # framed by an origin other than the one it was told: it works, and nothing is posted to anyone
    assert res["forged_conf"]["status"] == "confirmed", res["forged_conf"]
    fuid, _, _ = uid_of_manage_link(res["forged_conf"]["manage"])
    assert parse(booking_by_uid(h, fuid)["start"]) == forged_target
    assert res["forged_msgs"] == [], dumps(res["forged_msgs"])
