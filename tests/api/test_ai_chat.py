"""POST /api/ai/chat, the booking assistant (issue 15; seed 001 "AI Chat").

Against the real slotd and PostgreSQL: a phrase corpus (tests/api/chat_corpus.py) read against a
fixed "today" that only the test build honours (X-Slotd-Test-Today), with its accuracy printed
(every phrase must pass); conversations through to a real booking, continued on a second
instance; slots that are really free and really booked afterwards; sessions scoped to their page
and stored only as hashes; every kind of bad input refused without a change.
"""

import datetime as dt
import hashlib
import json
import re

import pytest

from accounts_util import NO_LIMITS, assert_error, call, new_user
from booking_util import OPEN_ALL_WEEK, Host, RFC3339, close_env, make_env, unique
from conftest import Slotd

import chat_corpus

UTC = dt.timezone.utc
SID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def env(pg, tmp_path_factory):
    e = make_env(pg, tmp_path_factory, "ai_chat")
    try:
        yield e
    finally:
        close_env(e)


def chat(s, slug, message, session=None, tz=None, today=None, ip=None, **extra):
    body = {"booking_page_slug": slug, "message": message, **extra}
    if session:
        body["session_id"] = session
    if tz:
        body["timezone"] = tz
    headers = {}
    if today:
        headers["X-Slotd-Test-Today"] = today
    if ip:
        headers["X-Forwarded-For"] = ip
    return call(s, "POST", "/api/ai/chat", body, headers=headers)


def ok(r):
    assert r.status == 200, r
    j = r.json()
    assert SID.fullmatch(j["session_id"]), j
    assert isinstance(j["message"], str) and j["message"], j
    assert j["action"]["type"] in ("suggest_booking", "clarify", "booked", "none"), j
    return j


class Convo:
    def __init__(self, s, slug, tz=None):
        self.s, self.slug, self.tz, self.sid = s, slug, tz, None

    def say(self, message, **kw):
        j = ok(chat(self.s, self.slug, message, session=self.sid, tz=kw.pop("tz", self.tz), **kw))
        if self.sid:
            assert j["session_id"] == self.sid, j
        self.sid = j["session_id"]
        return j


@pytest.fixture(scope="module")
def page(env):
    """A host open 09:00-17:00 New York time on weekdays with the corpus's event types."""
    h = Host(env.s, env.db, open_all_week=False)
    h.set_rules([{"day": d, "start": "09:00", "end": "17:00"} for d in range(1, 6)], tz="America/New_York")
    types = {}
    for t in chat_corpus.EVENT_TYPES:
        types[t["slug"]] = h.et(name=t["name"], slug=t["slug"], duration_minutes=t["duration_minutes"],
                                description=t["description"], max_future_days=365)
    h.types = types
    return h


def test_seed_example(env, page):
    """The seed's request: a 30 minute call next Tuesday afternoon -> real free slots."""
    j = ok(chat(env.s, page.slug, "I need a 30 minute call next Tuesday afternoon", tz="America/New_York"))
    a = j["action"]
    assert a["type"] == "suggest_booking", j
    assert a["event_slug"] == "30-minute-call"
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=-5))).date()
    assert a["preferred_time"] == "afternoon"
    assert len(a["preferred_dates"]) == 1
    d = dt.date.fromisoformat(a["preferred_dates"][0])
    assert d.weekday() == 1 and 1 <= (d - today).days <= 7
    assert 1 <= len(a["slots"]) <= 5
    for s in a["slots"]:
        assert RFC3339.fullmatch(s["start"]) and RFC3339.fullmatch(s["end"]), s
        st = dt.datetime.fromisoformat(s["start"])
        assert st.utcoffset() in (dt.timedelta(hours=-5), dt.timedelta(hours=-4))
        assert 12 <= st.hour < 17 and st.date() == d
    assert "(New York time)" in j["message"] and page.user.name.split()[0] in j["message"], j


def test_slots_are_the_engines(env, page):
    """Every suggested slot is one the public availability endpoint offers."""
    j = ok(chat(env.s, page.slug, "an hour on Thursday or Friday morning", tz="America/Chicago"))
    a = j["action"]
    assert a["type"] == "suggest_booking" and a["event_slug"] == "strategy-session", j
    assert a["timezone"] == "America/Chicago" and a["alternatives"] is False
    days = a["preferred_dates"]
    r = call(env.s, "GET", f"/api/availability/{page.slug}/strategy-session?start={days[0]}&end={days[-1]}"
                           "&timezone=America/Chicago&format=range")
    assert r.status == 200, r
    offered = {s["start"] for d in r.json()["slots"].values() for s in d}
    assert a["slots"] and all(s["start"] in offered for s in a["slots"]), (a["slots"], offered)
    for s in a["slots"]:
        st = dt.datetime.fromisoformat(s["start"])
        assert st.hour < 12 and st.date().isoformat() in days


def test_conversation_to_booking_across_instances(env, page, pg, tmp_path_factory):
    """Ask, narrow, pick, give details on a SECOND instance, get booked; the booking is real and
    the same slot cannot be had by another conversation."""
    other = Slotd(tmp_path_factory.mktemp("slotd2"), env.db.url, env={**NO_LIMITS}, name="ai_chat_b")
    other.start()
    try:
        c = Convo(env.s, page.slug, tz="America/New_York")
        j = c.say("hi!")
        assert j["action"]["type"] == "none" and "30 Minute Call" in j["message"], j
        j = c.say("I'd like an intro call")
        assert j["action"]["type"] == "suggest_booking" and j["action"]["event_slug"] == "intro-call", j
        j = c.say("what about next Wednesday morning?")
        a = j["action"]
        assert a["type"] == "suggest_booking" and a["preferred_time"] == "morning", j
        assert len(a["preferred_dates"]) == 1 and dt.date.fromisoformat(a["preferred_dates"][0]).weekday() == 2
        assert len(a["slots"]) >= 2, j
        second = a["slots"][1]
        c.s = other  # the next messages go to the other instance
        j = c.say("the second one")
        assert j["action"]["type"] == "clarify" and set(j["action"]["missing"]) == {"name", "email"}, j
        j = c.say("I'm Bob Smith, bob.smith@example.com")
        a = j["action"]
        assert a["type"] == "booked", j
        b = a["booking"]
        assert b["invitee_name"] == "Bob Smith" and b["invitee_email"] == "bob.smith@example.com"
        assert re.fullmatch(r"[0-9a-f]{64}", b["cancel_token"]) and re.fullmatch(r"[0-9a-f]{64}", b["reschedule_token"])
        start = dt.datetime.fromisoformat(second["start"]).astimezone(UTC)
        rows = env.db.sql(f"SELECT status, extract(epoch FROM start_at)::bigint, invitee_timezone FROM bookings "
                          f"WHERE uid = '{b['uid']}'")
        assert rows == [["confirmed", str(int(start.timestamp())), "America/New_York"]], rows
        assert "You're booked" in j["message"] and "bob.smith@example.com" in j["message"]
        # the same message again (a retry after a lost answer), on the first instance: the same
        # booking with the same tokens, not a second one and not a refusal
        c.s = env.s
        j2 = c.say("I'm Bob Smith, bob.smith@example.com")
        assert j2["action"]["type"] == "booked", j2
        assert j2["action"]["booking"] == b, (j2, b)
        assert env.db.sql(f"SELECT count(*) FROM bookings WHERE invitee_email = 'bob.smith@example.com'") == [["1"]]
        # the sealed copy in the session is not readable without the session id
        state = env.db.sql(f"SELECT state::text FROM chat_sessions WHERE id_hash = "
                           f"'{hashlib.sha256(c.sid.encode()).hexdigest()}'")[0][0]
        assert b["cancel_token"] not in state and b["reschedule_token"] not in state
        # a second conversation is not offered that slot, and cannot book it
        d2 = Convo(other, page.slug, tz="America/New_York")
        j = d2.say(f"an intro call on {start.date().isoformat()} at "
                   f"{dt.datetime.fromisoformat(second['start']).strftime('%H:%M')}")
        assert all(s["start"] != second["start"] for s in j["action"].get("slots", [])), j
        assert env.db.sql(f"SELECT count(*) FROM bookings WHERE start_at = '{start.isoformat()}' "
                          f"AND status IN ('confirmed', 'pending')") == [["1"]]
    finally:
        other.stop()
        other.check_clean_exit()


def test_taken_meanwhile_suggests_the_next(env, page):
    """A slot chosen in the chat and then booked by someone else: the next free ones, no booking."""
    c = Convo(env.s, page.slug, tz="UTC")
    j = c.say("a workshop in two weeks")
    slots = j["action"]["slots"]
    assert j["action"]["event_slug"] == "workshop" and slots, j
    j = c.say("the first one please, I'm Ann Lee ann@example.com")
    assert j["action"]["type"] == "booked", j  # chosen and booked in one message
    c2 = Convo(env.s, page.slug, tz="UTC")
    j = c2.say("a workshop in two weeks")
    assert j["action"]["slots"][0]["start"] != slots[0]["start"], j
    first = j["action"]["slots"][0]
    j = c2.say("first")
    assert j["action"]["type"] == "clarify"
    page.book(page.types["workshop"], dt.datetime.fromisoformat(first["start"]), name="Someone", email="s@example.com")
    before = env.db.sql("SELECT count(*) FROM bookings")
    j = c2.say("I'm Carl Mayer, carl@example.com")
    a = j["action"]
    assert a["type"] == "suggest_booking" and a["slots"], j
    assert all(s["start"] != first["start"] for s in a["slots"])
    assert "no longer free" in j["message"]
    assert env.db.sql("SELECT count(*) FROM bookings") == before


def test_earlier_and_later(env, page):
    c = Convo(env.s, page.slug, tz="America/New_York")
    j = c.say("a consultation next Thursday afternoon")
    first = j["action"]["slots"]
    assert first, j
    j = c.say("anything earlier?")
    earlier = j["action"]["slots"]
    assert earlier and all(s["start"] < first[0]["start"] for s in earlier), (first, earlier)
    j = c.say("later?")
    later = j["action"]["slots"]
    assert later and all(s["start"] > earlier[-1]["start"] for s in later)


def test_exact_time_choice(env, page):
    """"2:30 works" picks the offered 2:30 slot."""
    c = Convo(env.s, page.slug, tz="America/New_York")
    j = c.say("intro call next Tuesday between 2 and 4")
    starts = [dt.datetime.fromisoformat(s["start"]) for s in j["action"]["slots"]]
    assert starts and all(14 <= s.hour < 16 for s in starts), j
    want = [s for s in starts if s.minute == 30 and s.hour == 14]
    if not want:
        pytest.skip("2:30 not offered (first five slots)")
    j = c.say("2:30 works")
    assert j["action"]["type"] == "clarify" and "2:30 PM" in j["message"], j


def test_ambiguous_type_then_choice(env, page):
    c = Convo(env.s, page.slug)
    j = c.say("can I book a call tomorrow?")
    a = j["action"]
    assert a["type"] == "clarify" and a["missing"] == ["event_type"], j
    assert {o["event_slug"] for o in a["options"]} == {"30-minute-call", "intro-call"}
    assert len(a["preferred_dates"]) == 1
    j = c.say("the intro one")
    assert j["action"]["type"] == "suggest_booking" and j["action"]["event_slug"] == "intro-call", j
    assert j["action"]["preferred_dates"] == a["preferred_dates"]


def test_org_page_round_robin(env):
    """An org slug as booking_page_slug: its round-robin type, booked with one of its hosts."""
    from team_util import Org
    org = Org(env.s)
    et = org.event_type(name="Support Session", duration_minutes=30, description="Help with your account")
    c = Convo(env.s, org.slug)
    j = c.say("help with my account next Monday morning")
    a = j["action"]
    assert a["type"] == "suggest_booking" and a["event_slug"] == et["slug"] and a["slots"], j
    assert f"Team " in j["message"], j
    j = c.say("the first one. My name is Ivy Lee, ivy.lee@example.com")
    assert j["action"]["type"] == "booked", j
    b = j["action"]["booking"]
    host = env.db.sql(f"SELECT host_id FROM bookings WHERE uid = '{b['uid']}'")[0][0]
    assert int(host) in org.ids


def test_nothing_fits_gives_alternatives(env, page):
    """Saturday: the host does not work weekends -> the nearest free times, said so."""
    c = Convo(env.s, page.slug, tz="America/New_York")
    j = c.say("30 minute call on Saturday evening")
    a = j["action"]
    assert a["type"] == "suggest_booking" and a["alternatives"] is True and a["slots"], j
    assert "nothing free" in j["message"]


def test_none_for_garbage(env, page):
    for msg in ["asdf qwer zxcv", "🙂🙂🙂", "Bonjour, je voudrais un rendez-vous", "你好", "\u0000x".replace("\u0000", ""),
                "?!?!", "thanks"]:
        j = ok(chat(env.s, page.slug, msg))
        assert j["action"]["type"] == "none", (msg, j)


def test_sessions_scoped_and_hashed(env, page):
    c = Convo(env.s, page.slug)
    c.say("an intro call tomorrow")
    rows = env.db.sql(f"SELECT id_hash, user_id FROM chat_sessions WHERE id_hash = "
                      f"'{hashlib.sha256(c.sid.encode()).hexdigest()}'")
    assert rows == [[hashlib.sha256(c.sid.encode()).hexdigest(), str(page.id)]]
    assert env.db.sql(f"SELECT count(*) FROM chat_sessions WHERE id_hash = '{c.sid}'") == [["0"]]
    # the id on another page starts a new conversation there (nothing carried over)
    other = Host(env.s, env.db)
    other.et(name="Intro Call", slug="intro-call", duration_minutes=15)
    j = ok(chat(env.s, other.slug, "the first one", session=c.sid))
    assert j["session_id"] != c.sid
    # an unknown or expired session: a new one
    env.db.sql(f"UPDATE chat_sessions SET updated_at = now() - interval '25 hours' "
               f"WHERE id_hash = '{hashlib.sha256(c.sid.encode()).hexdigest()}'")
    j = ok(chat(env.s, page.slug, "the first one", session=c.sid))
    assert j["session_id"] != c.sid


def test_bad_input(env, page):
    before = env.db.sql("SELECT count(*) FROM chat_sessions")
    cases = [
        ({"message": "hi"}, "booking_page_slug"),
        ({"booking_page_slug": page.slug}, "message"),
        ({"booking_page_slug": page.slug, "message": ""}, "message"),
        ({"booking_page_slug": page.slug, "message": "x" * 2001}, "message"),
        ({"booking_page_slug": page.slug, "message": 5}, "message"),
        ({"booking_page_slug": page.slug, "message": "hi", "timezone": "Mars/Base"}, "timezone"),
        ({"booking_page_slug": page.slug, "message": "hi", "session_id": "not-a-session"}, "session_id"),
        ({"booking_page_slug": page.slug, "message": "hi", "session_id": 7}, "session_id"),
    ]
    for body, field in cases:
        r = call(env.s, "POST", "/api/ai/chat", body)
        assert_error(r, 400, field=field)
    r = call(env.s, "POST", "/api/ai/chat", {"booking_page_slug": "no-such-page-" + unique(), "message": "hi"})
    assert_error(r, 404)
    r = call(env.s, "POST", "/api/ai/chat", raw=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status == 400
    assert env.db.sql("SELECT count(*) FROM chat_sessions") == before
    # 2,000 characters of multi-byte text are fine
    j = ok(chat(env.s, page.slug, "é" * 2000))
    assert j["action"]["type"] == "none"


def test_today_override_is_test_only():
    """The clock override exists only in builds configured with -Dtest_hooks=true (tests/run);
    release builds (deploy/, the Dockerfile) never set it."""
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[2]
    opts = (root / "meson_options.txt").read_text()
    assert re.search(r"option\('test_hooks', type: 'boolean', value: false", opts)
    for f in ["Dockerfile", "deploy/lib/common.sh"]:
        assert "test_hooks" not in (root / f).read_text(), f


# ----------------------------------------------------------------------------- the phrase corpus


@pytest.fixture(scope="module")
def corpus_page(env):
    """The corpus's page: the host's hours do not matter for the reading (fields, not slots)."""
    h = Host(env.s, env.db)
    for t in chat_corpus.EVENT_TYPES:
        h.et(name=t["name"], slug=t["slug"], duration_minutes=t["duration_minutes"], description=t["description"])
    return h


def reading(action):
    a = action
    if a["type"] == "clarify" and a.get("missing") == ["event_type"]:
        event = "?"
    elif a["type"] == "suggest_booking":
        event = a["event_slug"]
    else:
        return None
    return {"event": event, "dates": a["preferred_dates"], "time": a["preferred_time"], "range": a["time_range"],
            "zone": a["timezone"]}


def test_phrase_corpus(env, corpus_page, capsys):
    """Every corpus phrase, each in a fresh conversation, read against the fixed today: the event
    type, dates, time preference, time range and zone reported must all be the expected ones."""
    cases = chat_corpus.CASES
    assert len(cases) >= 150
    wrong = []
    for case in cases:
        j = ok(chat(env.s, corpus_page.slug, case["msg"], tz=case.get("tz"), today=chat_corpus.TODAY))
        got = reading(j["action"])
        want = {k: case[k] for k in ("event", "dates", "time", "range", "zone")}
        if got != want:
            wrong.append((case["msg"], case.get("tz"), want, got, j["action"]["type"]))
    right = len(cases) - len(wrong)
    with capsys.disabled():
        print(f"\nchat phrase corpus: {right}/{len(cases)} read as expected ({100.0 * right / len(cases):.1f}%)")
    assert not wrong, "\n".join(f"{m!r} tz={tz}: want {w}, got {g} ({t})" for m, tz, w, g, t in wrong)


def test_public_rate_limit(env, page, tmp_path_factory):
    """The public per-IP limit applies (the seed's 60/min by default; 3 here), with its 429. (The
    client is an address of its own: limits are shared with the module's other instance through
    the database, and its clients' counts of 127.0.0.1 this minute would count here too.)"""
    s = Slotd(tmp_path_factory.mktemp("slotd_rl"), env.db.url,
              env={"SLOTD_RATE_LIMIT_PUBLIC": "3", "SLOTD_TRUSTED_PROXIES": "127.0.0.1",
                   # counted alone: beside the module's other instance a burst faster than a sync
                   # is admitted at this instance's share (README "Rate limits across instances")
                   "SLOTD_RATE_LIMIT_SYNC": "0"}, name="ai_chat_rl")
    s.start()
    try:
        codes = [chat(s, page.slug, "an intro call tomorrow", ip="198.51.100.77").status for _ in range(4)]
        assert codes == [200, 200, 200, 429], codes
        r = chat(s, page.slug, "an intro call tomorrow", ip="198.51.100.77")
        assert r.status == 429 and r.header("Retry-After") and r.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED", r
    finally:
        s.stop()
        s.check_clean_exit()


def test_erasure_removes_the_conversation(env, page):
    """A customer's erasure takes the conversations that carry their e-mail with it."""
    c = Convo(env.s, page.slug, tz="UTC")
    c.say("a workshop in three weeks")
    j = c.say("the first one, I'm Erin Ode, erin.ode@example.com")
    assert j["action"]["type"] == "booked", j
    h = hashlib.sha256(c.sid.encode()).hexdigest()
    assert env.db.sql(f"SELECT count(*) FROM chat_sessions WHERE id_hash = '{h}'") == [["1"]]
    cid = j["action"]["booking"]["customer_id"]
    r = page.call("DELETE", f"/api/customers/{cid}")
    assert r.status == 200, r
    assert env.db.sql(f"SELECT count(*) FROM chat_sessions WHERE id_hash = '{h}'") == [["0"]]
    assert env.db.sql("SELECT count(*) FROM chat_sessions WHERE state::text LIKE '%erin.ode%'") == [["0"]]
