"""Issue 15: POST /mcp, the Model Context Protocol's Streamable HTTP transport (JSON-RPC 2.0, plain
JSON answers, no sessions) for AI agents.

First the official TypeScript SDK (@modelcontextprotocol/sdk from npm, installed on first use into
a cache directory and run by the machine's Node.js) drives the endpoint as a real client: initialize,
tools with and without the host's key, find_slots, book, get_booking, cancel_booking; the database
is checked for the booking and its cancellation. Then raw HTTP: protocol versions, notifications,
envelope errors, tool argument errors, refusals as isError results, the host's tools, 401/405/415,
and the self-service guessing limit as a JSON-RPC 429.

slotd here believes X-Forwarded-For from loopback, so each test speaks as a client address of its
own: the confirmation-number tools allow 10 attempts a minute per address.
"""

import datetime as dt
import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from booking_util import (CONF_RE, HEX64, UTC, Host, call, close_env, count_rows, day_at, iso, make_env,
                          next_ip, parse_iso, status_of)

PUBLIC_TOOLS = ["list_event_types", "find_slots", "book", "get_booking", "cancel_booking", "reschedule_booking"]
HOST_TOOLS = ["list_bookings", "confirm_booking", "decline_booking"]
V_NEW, V_OLD = "2025-06-18", "2025-03-26"


@pytest.fixture(scope="module")
def env(pg, tmp_path_factory):
    e = make_env(pg, tmp_path_factory, "test_mcp", {"SLOTD_TRUSTED_PROXIES": "127.0.0.1"})
    try:
        yield e
    finally:
        close_env(e)


@pytest.fixture
def host(env):
    return Host(env.s, env.db)


@pytest.fixture
def ip():
    return next_ip()


# ----------------------------------------------------------------------------
# the SDK, installed on first use (like webhook_util.ensure_standardwebhooks)

SDK_DIR = os.environ.get("SLOTD_TEST_MCP_SDK_DIR") or os.path.join(tempfile.gettempdir(), "slotd-test-mcp-sdk")
CLIENT_JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mcp_client.mjs")


def ensure_mcp_sdk():
    """@modelcontextprotocol/sdk in SDK_DIR (npm install if missing), under a lock. Fails the test
    clearly when node or npm are missing or the registry is unreachable."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("the MCP client test needs Node.js and npm (Debian: apt-get install nodejs npm)", pytrace=False)
    os.makedirs(SDK_DIR, exist_ok=True)
    marker = os.path.join(SDK_DIR, "node_modules", "@modelcontextprotocol", "sdk", "package.json")
    with open(os.path.join(SDK_DIR, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(marker):
            try:
                r = subprocess.run([npm, "install", "--prefix", SDK_DIR, "--no-audit", "--no-fund", "--loglevel=error",
                                    "@modelcontextprotocol/sdk@^1"],
                                   capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                pytest.fail("`npm install @modelcontextprotocol/sdk` timed out (is the npm registry reachable?)",
                            pytrace=False)
            if r.returncode != 0 or not os.path.exists(marker):
                pytest.fail(f"`npm install --prefix {SDK_DIR} @modelcontextprotocol/sdk` failed (is the npm registry "
                            f"reachable?):\n{r.stdout[-2000:]}{r.stderr[-2000:]}", pytrace=False)
    return node


# ----------------------------------------------------------------------------
# raw JSON-RPC


def post(s, body, ip, headers=None, auth=None, raw=None):
    h = {"X-Forwarded-For": ip, **(headers or {})}
    if auth:
        h["Authorization"] = f"Bearer {auth}"
    return call(s, "POST", "/mcp", None if raw is not None else body, headers=h, raw=raw)


def rpc(s, method, params=None, ip="127.0.0.9", id=1, version=V_NEW, auth=None, headers=None):
    msg = {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None:
        msg["params"] = params
    h = {"MCP-Protocol-Version": version} if version else {}
    return post(s, msg, ip, headers={**h, **(headers or {})}, auth=auth)


def result(r, id=1):
    assert r.status == 200 and r.header("Content-Type").startswith("application/json"), r
    j = r.json()
    assert j.get("jsonrpc") == "2.0" and j.get("id") == id and "error" not in j, j
    return j["result"]


def rpc_error(r, status, code, id=None):
    assert r.status == status, r
    assert r.header("Content-Type").startswith("application/json"), r
    j = r.json()
    assert set(j) == {"jsonrpc", "id", "error"} and j["jsonrpc"] == "2.0" and j["id"] == id, j
    assert j["error"]["code"] == code and j["error"]["message"], j
    return j["error"]


def tool(s, name, args, ip, auth=None, version=V_NEW):
    """tools/call -> (isError, the text content as JSON, structuredContent or None)."""
    res = result(rpc(s, "tools/call", {"name": name, "arguments": args}, ip=ip, auth=auth, version=version))
    assert [c["type"] for c in res["content"]] == ["text"], res
    return res["isError"], json.loads(res["content"][0]["text"]), res.get("structuredContent")


def tool_ok(s, name, args, ip, auth=None):
    err, text, structured = tool(s, name, args, ip, auth)
    assert not err, text
    assert text == structured, (text, structured)  # the same object twice
    return structured


def tool_refused(s, name, args, ip, code, field=None, auth=None):
    err, text, structured = tool(s, name, args, ip, auth)
    assert err and structured is None, (text, structured)
    assert text["code"] == code and text["error"], text
    if field:
        assert text.get("field") == field, text
    return text


def book_args(host, et, start, email="ann@example.com", **kw):
    return {"slug": host.slug, "event_slug": et["slug"], "start": start if isinstance(start, str) else iso(start),
            "name": "Ann Agent", "email": email, **kw}


# ----------------------------------------------------------------------------
# the official SDK as the client


def test_sdk_client_finds_books_looks_up_and_cancels(env, host, ip):
    node = ensure_mcp_sdk()
    et = host.et(name="Intro call", duration_minutes=30)
    day = (dt.datetime.now(UTC) + dt.timedelta(days=4)).date().isoformat()
    plan = {"url": f"http://{env.s.host}:{env.s.port}/mcp", "key": host.user.key, "headers": {"X-Forwarded-For": ip},
            "slug": host.slug, "event_slug": et["slug"], "start": day, "end": day, "timezone": "Europe/Berlin",
            "name": "Ann Agent", "email": "ann.agent@example.com"}
    p = subprocess.Popen([node, CLIENT_JS, SDK_DIR, json.dumps(plan)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()  # everything up to the booking (the client then waits)
        assert line, f"node client failed:\n{p.communicate(timeout=30)[1][-3000:]}"
        out = json.loads(line)
        booked_row = env.db.sql(f"SELECT invitee_email, status, confirmation_number, extract(epoch FROM start_at)::bigint FROM bookings "
                                f"WHERE id = {int(out['booked']['structured']['booking']['id'])}")
        rest, err = p.communicate("go\n", timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, f"node client failed:\n{rest[-3000:]}\n{err[-3000:]}"
    out = json.loads(rest)

    assert out["protocolVersion"] == V_NEW  # the SDK asks for a newer one; we answer ours
    assert out["serverInfo"]["name"] == "slotd" and out["capabilities"]["tools"] == {"listChanged": False}
    assert "find_slots" in out["instructions"]
    assert out["anonTools"] == PUBLIC_TOOLS and out["hostTools"] == PUBLIC_TOOLS + HOST_TOOLS
    assert out["toolsHaveSchemas"] is True

    assert not out["eventTypes"]["isError"]
    assert et["slug"] in [t["slug"] for t in out["eventTypes"]["structured"]["event_types"]]

    slots = out["slots"]["structured"]
    assert out["slots"]["text"] == slots and slots["timezone"] == "Europe/Berlin" and slots["more"] is False
    assert slots["event_type"] == {"name": "Intro call", "duration_minutes": 30, "requires_confirmation": False}
    assert len(slots["slots"]) == 48, len(slots["slots"])  # open all day, 30-minute slots
    first = parse_iso(slots["slots"][0]["start"])
    assert first.utcoffset() in (dt.timedelta(hours=1), dt.timedelta(hours=2))  # Berlin's wall clock
    assert first.astimezone(first.tzinfo).strftime("%Y-%m-%d %H:%M") == f"{day} 00:00"

    booked = out["booked"]
    assert not booked["isError"], booked
    b = booked["structured"]["booking"]
    assert booked["text"]["booking"] == b
    assert CONF_RE.fullmatch(b["confirmation_number"]) and HEX64.fullmatch(b["cancel_token"]), b
    assert HEX64.fullmatch(b["reschedule_token"]) and b["status"] == "confirmed", b
    assert parse_iso(b["start"]) == first and b["timezone"] == "Europe/Berlin" and b["notes"] == "booked by an agent"
    assert len(booked_row) == 1, booked_row  # in the database before the cancellation
    email, status, number, start_at = booked_row[0]
    assert (email, status, number) == ("ann.agent@example.com", "confirmed", b["confirmation_number"]), booked_row
    assert int(start_at) == int(first.timestamp()), booked_row

    assert out["got"]["structured"]["booking"]["id"] == b["id"]
    assert "cancel_token" not in out["got"]["structured"]["booking"]  # tokens are shown once
    assert out["anonHostCall"]["isError"] and out["anonHostCall"]["text"]["code"] == "UNAUTHORIZED"
    listed = out["hostList"]["structured"]
    assert b["id"] in [x["id"] for x in listed["bookings"]] and listed["total"] >= 1

    assert out["cancelled"]["structured"]["booking"]["status"] == "cancelled"
    assert out["gotAfter"]["structured"]["booking"]["status"] == "cancelled"
    assert status_of(env.db, b["id"]) == "cancelled"
    assert env.db.sql(f"SELECT reason, cancelled_by FROM bookings WHERE id = {int(b['id'])}") == \
        [["plans changed", "invitee"]]


# ----------------------------------------------------------------------------
# the transport and the envelope


@pytest.mark.parametrize("asked,answered", [(V_NEW, V_NEW), (V_OLD, V_OLD), ("2024-11-05", V_NEW),
                                            ("2099-01-01", V_NEW)])
def test_initialize_echoes_a_supported_version(env, ip, asked, answered):
    r = rpc(env.s, "initialize", {"protocolVersion": asked, "capabilities": {},
                                  "clientInfo": {"name": "raw", "version": "0"}}, ip=ip, version=None)
    res = result(r)
    assert res["protocolVersion"] == answered and res["serverInfo"]["name"] == "slotd", res
    assert res["capabilities"] == {"tools": {"listChanged": False}}, res
    assert not r.has_header("Mcp-Session-Id")  # stateless


def test_initialize_needs_a_protocol_version(env, ip):
    rpc_error(rpc(env.s, "initialize", {"capabilities": {}}, ip=ip, version=None), 200, -32602, id=1)


@pytest.mark.parametrize("msg", [
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 3}},
    {"jsonrpc": "2.0", "method": "notifications/whatever", "params": [1]},
    {"jsonrpc": "2.0", "id": 7, "result": {}},  # a client's answer to a server request
])
def test_notifications_and_responses_get_202_and_no_body(env, ip, msg):
    r = post(env.s, msg, ip, headers={"MCP-Protocol-Version": V_NEW})
    assert r.status == 202 and r.body == b"", r


@pytest.mark.parametrize("raw,status,code", [
    (b'{"jsonrpc": "2.0", "id": 1, "method": "ping"', 400, -32700),
    (b"", 400, -32700),
    (b'[{"jsonrpc": "2.0", "id": 1, "method": "ping"}]', 400, -32600),  # batches are refused
    (b'"ping"', 400, -32600),
    (b'{"jsonrpc": "1.0", "id": 1, "method": "ping"}', 400, -32600),
    (b'{"id": 1, "method": "ping"}', 400, -32600),
    (b'{"jsonrpc": "2.0", "id": null, "method": "ping"}', 400, -32600),
    (b'{"jsonrpc": "2.0", "id": 1.5, "method": "ping"}', 400, -32600),
    (b'{"jsonrpc": "2.0", "id": 1, "method": 5}', 400, -32600),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "method": "x"}', 400, -32600),  # duplicate key
    (b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": ' + b'{"a":' * 40 + b"1" + b"}" * 40 + b"}", 400,
     -32600),
])
def test_envelope_errors(env, ip, raw, status, code):
    rpc_error(post(env.s, None, ip, raw=raw), status, code)


def test_methods(env, ip):
    assert result(rpc(env.s, "ping", ip=ip, id="p-1"), id="p-1") == {}
    e = rpc_error(rpc(env.s, "resources/list", ip=ip, id="abc"), 200, -32601, id="abc")
    assert "not found" in e["message"]
    rpc_error(rpc(env.s, "tools/list", [1], ip=ip, id=2), 200, -32602, id=2)
    rpc_error(rpc(env.s, "tools/call", {"arguments": {}}, ip=ip), 200, -32602, id=1)
    rpc_error(rpc(env.s, "tools/call", {"name": "drop_tables", "arguments": {}}, ip=ip), 200, -32602, id=1)
    rpc_error(rpc(env.s, "tools/call", {"name": "find_slots", "arguments": [1]}, ip=ip), 200, -32602, id=1)
    # a large integer id comes back as it was sent
    assert result(rpc(env.s, "ping", ip=ip, id=2 ** 62), id=2 ** 62) == {}


def test_unsupported_protocol_version_header_is_400(env, ip):
    rpc_error(rpc(env.s, "tools/list", ip=ip, version="2024-01-01"), 400, -32600)
    rpc_error(rpc(env.s, "ping", ip=ip, version="2025-06-19"), 400, -32600)


def test_version_decides_structured_output(env, host, ip):
    new = result(rpc(env.s, "tools/list", ip=ip))["tools"]
    assert [t["name"] for t in new] == PUBLIC_TOOLS
    for t in new:
        assert t["inputSchema"]["type"] == "object" and t["outputSchema"]["type"] == "object", t
        assert t["annotations"]["title"] == t["title"], t
    for version in (V_OLD, None):  # no header: 2025-03-26 is meant
        old = result(rpc(env.s, "tools/list", ip=ip, version=version))["tools"]
        assert all("outputSchema" not in t for t in old), old
        res = result(rpc(env.s, "tools/call", {"name": "list_event_types", "arguments": {"slug": host.slug}}, ip=ip,
                         version=version))
        assert "structuredContent" not in res and not res["isError"], res
        assert json.loads(res["content"][0]["text"])["slug"] == host.slug


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_get_and_delete_are_405(env, ip, method):
    r = call(env.s, method, "/mcp", headers={"X-Forwarded-For": ip, "Accept": "text/event-stream"})
    assert r.header("Allow") == "POST", r
    e = rpc_error(r, 405, -32600)
    assert e["data"]["status"] == 405


def test_body_not_declared_json_is_415_as_jsonrpc(env, ip):
    r = call(env.s, "POST", "/mcp", raw=b'{"jsonrpc":"2.0","id":1,"method":"ping"}',
             headers={"Content-Type": "text/plain", "X-Forwarded-For": ip})
    e = rpc_error(r, 415, -32600)
    assert e["data"] == {"status": 415, "code": "UNSUPPORTED_MEDIA_TYPE"}, e


# ----------------------------------------------------------------------------
# tool arguments and refusals


def test_bad_arguments_are_tool_errors_naming_the_argument(env, host, ip):
    et = host.et()
    base = {"slug": host.slug, "event_slug": et["slug"], "start": "2030-01-01", "end": "2030-01-02"}
    cases = [
        ("find_slots", {k: v for k, v in base.items() if k != "end"}, "end"),
        ("find_slots", {**base, "timezone": "Mars/Olympus"}, "timezone"),
        ("find_slots", {**base, "start": "01/01/2030"}, "start"),
        ("find_slots", {**base, "end": "2029-12-31"}, "end"),
        ("find_slots", {**base, "end": "2030-03-05"}, "end"),  # 64 days
        ("find_slots", {**base, "slug": 42}, "slug"),
        ("book", book_args(host, et, day_at(3, 10), email="not-an-email"), "email"),
        ("book", book_args(host, et, "tomorrow at ten"), "start"),
        ("book", {**book_args(host, et, day_at(3, 10)), "name": "  "}, "name"),
        ("get_booking", {"confirmation_number": "ABCDEFGH"}, "contact"),
    ]
    for name, args, field in cases:
        tool_refused(env.s, name, args, ip, "VALIDATION_FAILED", field)
    assert count_rows(env.db, "bookings", f"host_id = {host.id}") == 0
    # the longest window is fine: 62 days of dates
    d0 = dt.date.today() + dt.timedelta(days=1)
    got = tool_ok(env.s, "find_slots", {**base, "start": d0.isoformat(), "end": (d0 + dt.timedelta(days=61)).isoformat()},
                  ip)
    assert got["more"] is True and len(got["slots"]) == 200  # at most 200, then more: true


def test_find_slots_takes_instants(env, host, ip):
    et = host.et(duration_minutes=60)
    t0 = day_at(5, 9)
    got = tool_ok(env.s, "find_slots", {"slug": host.slug, "event_slug": et["slug"], "start": iso(t0),
                                        "end": iso(t0 + dt.timedelta(hours=3)), "timezone": "America/New_York"}, ip)
    starts = [parse_iso(x["start"]) for x in got["slots"]]
    assert starts == [t0 + dt.timedelta(hours=h) for h in range(3)], got  # end is exclusive
    assert all(x["start"].endswith(("-05:00", "-04:00")) for x in got["slots"]), got


def test_unknown_page_and_event_type_are_not_found(env, host, ip):
    tool_refused(env.s, "list_event_types", {"slug": "no-such-page-here"}, ip, "NOT_FOUND")
    tool_refused(env.s, "find_slots", {"slug": host.slug, "event_slug": "nope", "start": "2030-01-01",
                                       "end": "2030-01-01"}, ip, "NOT_FOUND")
    tool_refused(env.s, "book", book_args(host, {"slug": "nope"}, day_at(3, 10)), ip, "NOT_FOUND")


def test_taken_slot_is_an_error_with_the_next_free_slots(env, host, ip):
    et = host.et(duration_minutes=30)
    t = day_at(6, 10)
    taken = host.book(et, t)
    text = tool_refused(env.s, "book", book_args(host, et, t, timezone="Asia/Tokyo"), ip, "CONFLICT")
    assert "taken" in text["error"], text
    nxt = text["next_slots"]
    assert len(nxt) == 3 and all(x["start"].endswith("+09:00") for x in nxt), nxt
    assert parse_iso(nxt[0]["start"]) == t + dt.timedelta(minutes=30), nxt
    assert count_rows(env.db, "bookings", f"host_id = {host.id}") == 1
    # and the offered slot books
    b = tool_ok(env.s, "book", book_args(host, et, nxt[0]["start"]), ip)["booking"]
    assert b["id"] != taken["id"] and status_of(env.db, b["id"]) == "confirmed"


def test_other_bookings_numbers_are_not_found(env, host, ip):
    other = Host(env.s, env.db)
    et, et2 = host.et(), other.et()
    mine = tool_ok(env.s, "book", book_args(host, et, day_at(3, 11), email="mine@example.com"), ip)["booking"]
    theirs = other.book(et2, day_at(3, 11))  # bob@example.com
    # another tenant's number with my contact, my number with their contact, a number of the wrong shape
    for number, contact in [(theirs["confirmation_number"], "mine@example.com"),
                            (mine["confirmation_number"], "bob@example.com"), ("ABC", "mine@example.com")]:
        text = tool_refused(env.s, "get_booking", {"confirmation_number": number, "contact": contact}, ip, "NOT_FOUND")
        assert text["error"] == "booking not found", text
    tool_refused(env.s, "cancel_booking", {"confirmation_number": theirs["confirmation_number"],
                                           "contact": "mine@example.com"}, ip, "NOT_FOUND")
    assert status_of(env.db, theirs["id"]) == "confirmed"
    # the host's tools: another host's booking id is not found either
    text = tool_refused(env.s, "confirm_booking", {"booking_id": theirs["id"]}, ip, "NOT_FOUND", auth=host.user.key)
    assert status_of(env.db, theirs["id"]) == "confirmed", text


def test_reschedule_by_number(env, host, ip):
    et = host.et(duration_minutes=30)
    t = day_at(7, 9)
    b = tool_ok(env.s, "book", book_args(host, et, t, phone="+1 (555) 010-2030"), ip)["booking"]
    moved = tool_ok(env.s, "reschedule_booking", {"confirmation_number": b["confirmation_number"].lower(),
                                                  "contact": "15550102030", "start": iso(t + dt.timedelta(hours=2)),
                                                  "timezone": "Europe/Paris"}, ip)["booking"]
    assert moved["id"] == b["id"] and parse_iso(moved["start"]) == t + dt.timedelta(hours=2), moved
    assert moved["timezone"] == "Europe/Paris" and parse_iso(moved["previous_start"]) == t, moved
    assert env.db.sql(f"SELECT start_at = '{iso(t + dt.timedelta(hours=2))}' FROM bookings WHERE id = {b['id']}") == \
        [["t"]]
    # onto a taken time: refused with the next free slots, nothing moved
    other = host.book(et, t + dt.timedelta(hours=4))
    text = tool_refused(env.s, "reschedule_booking", {"confirmation_number": b["confirmation_number"],
                                                      "contact": "ann@example.com", "start": other["start"]}, ip,
                        "CONFLICT")
    assert text["next_slots"], text


def test_self_service_guessing_limit_is_a_jsonrpc_429(env, ip):
    from accounts_util import ensure_window
    args = {"confirmation_number": "ZZZZZZZZ", "contact": "guess@example.com"}
    ensure_window()  # the limit counts in windows aligned to the minute
    for _ in range(10):
        tool_refused(env.s, "get_booking", args, ip, "NOT_FOUND")
    r = rpc(env.s, "tools/call", {"name": "get_booking", "arguments": args}, ip=ip)
    e = rpc_error(r, 429, -32000)
    assert e["data"]["code"] == "RATE_LIMIT_EXCEEDED" and int(r.header("Retry-After")) >= 1, (e, r)
    # other tools are not limited by it
    tool_refused(env.s, "list_event_types", {"slug": "none-such"}, ip, "NOT_FOUND")


# ----------------------------------------------------------------------------
# the host's key


def test_invalid_credentials_are_401(env, host, ip):
    session = {"Cookie": f"session={host.user.token}"}
    for h in ({"Authorization": "Bearer cal_" + "0" * 64}, {"Authorization": "Basic YTpi"},
              {"X-API-Key": "cal_nope"}, {"Authorization": "Bearer  ", **session}, {"X-API-Key": "", **session}):
        r = rpc(env.s, "tools/list", ip=ip, headers=h)
        e = rpc_error(r, 401, -32000)
        assert e["data"]["code"] == "UNAUTHORIZED" and r.header("WWW-Authenticate") == "Bearer", (e, r)
    # a session cookie is not a credential here: the public tools only
    names = [t["name"] for t in result(rpc(env.s, "tools/list", ip=ip, headers=session))["tools"]]
    assert names == PUBLIC_TOOLS
    # X-API-Key works like the Bearer header
    names = [t["name"] for t in result(rpc(env.s, "tools/list", ip=ip, headers={"X-API-Key": host.user.key}))["tools"]]
    assert names == PUBLIC_TOOLS + HOST_TOOLS
    # an organisation's key acts only on its org's routes
    from org_util import make_org, org_key
    org = make_org(env.s, host.auth, slug=f"org-{host.slug}")
    _, okey = org_key(env.s, org["id"], host.auth)
    e = rpc_error(rpc(env.s, "tools/list", ip=ip, auth=okey["X-API-Key"]), 403, -32000)
    assert e["data"]["code"] == "FORBIDDEN", e


def test_host_tools_list_confirm_and_decline(env, host, ip):
    key = host.user.key
    et = host.et(requires_confirmation=True, duration_minutes=30)
    a = tool_ok(env.s, "book", book_args(host, et, day_at(8, 10)), ip)["booking"]
    b = tool_ok(env.s, "book", book_args(host, et, day_at(8, 11)), ip)["booking"]
    assert a["status"] == b["status"] == "pending"
    for name in HOST_TOOLS:  # without the key: a tool error that says so
        text = tool_refused(env.s, name, {"booking_id": a["id"]}, ip, "UNAUTHORIZED")
        assert "API key" in text["error"], text

    listed = tool_ok(env.s, "list_bookings", {"status": "pending", "limit": 1}, ip, auth=key)
    assert listed["total"] == 2 and [x["id"] for x in listed["bookings"]] == [b["id"]], listed  # newest start first
    day = day_at(8).date().isoformat()
    listed = tool_ok(env.s, "list_bookings", {"from": day, "to": day}, ip, auth=key)
    assert sorted(x["id"] for x in listed["bookings"]) == sorted([a["id"], b["id"]]), listed
    tool_refused(env.s, "list_bookings", {"status": "maybe"}, ip, "VALIDATION_FAILED", "status", auth=key)
    tool_refused(env.s, "list_bookings", {"limit": 0}, ip, "VALIDATION_FAILED", "limit", auth=key)

    got = tool_ok(env.s, "confirm_booking", {"booking_id": a["id"]}, ip, auth=key)["booking"]
    assert got["status"] == "confirmed" and status_of(env.db, a["id"]) == "confirmed"
    got = tool_ok(env.s, "decline_booking", {"booking_id": b["id"], "reason": "out of office"}, ip, auth=key)["booking"]
    assert got["status"] == "declined" and status_of(env.db, b["id"]) == "declined"
    assert env.db.sql(f"SELECT reason FROM bookings WHERE id = {b['id']}") == [["out of office"]]
    # again: the booking's status names why not
    text = tool_refused(env.s, "confirm_booking", {"booking_id": b["id"]}, ip, "CONFLICT", auth=key)
    assert text["status"] == "declined", text
    tool_refused(env.s, "confirm_booking", {"booking_id": "1"}, ip, "VALIDATION_FAILED", "booking_id", auth=key)
    tool_refused(env.s, "decline_booking", {}, ip, "VALIDATION_FAILED", "booking_id", auth=key)


# ----------------------------------------------------------------------------
# the database away: 503 with a JSON-RPC error, never a 500; the process stays up


def test_database_outage_is_503_with_a_jsonrpc_error(private_pg, slotd_factory):
    from accounts_util import NO_LIMITS
    from conftest import wait_until
    s = slotd_factory(database=private_pg.create_db("mcp_outage"), env={
        **NO_LIMITS, "SLOTD_DB_CONNECT_TIMEOUT": "1", "SLOTD_DB_QUERY_TIMEOUT": "1", "SLOTD_DB_QUEUE_TIMEOUT": "1"})
    h = Host(s, None)
    et = h.et()
    args = {"slug": h.slug, "event_slug": et["slug"], "start": day_at(2).date().isoformat(),
            "end": day_at(2).date().isoformat()}
    assert tool_ok(s, "find_slots", args, "127.0.0.9")["slots"]
    private_pg.stop("fast")
    wait_until(lambda: s.get("/readyz", timeout=5).status == 503, 10, interval=0.2, what="/readyz 503")
    for name, a in [("find_slots", args), ("list_event_types", {"slug": h.slug}),
                    ("book", book_args(h, et, day_at(2, 10))),
                    ("get_booking", {"confirmation_number": "ABCDEFGH", "contact": "a@example.com"})]:
        r = rpc(s, "tools/call", {"name": name, "arguments": a}, id=f"{name}-1")
        e = rpc_error(r, 503, -32000, id=f"{name}-1")
        assert e["data"]["code"] == "SERVICE_UNAVAILABLE" and r.header("Retry-After"), (name, e)
    assert [t["name"] for t in result(rpc(s, "tools/list"))["tools"]] == PUBLIC_TOOLS  # needs no database
    private_pg.start()
    wait_until(lambda: s.get("/readyz", timeout=5).status == 200, 15, interval=0.2, what="/readyz 200 again")
    assert tool_ok(s, "find_slots", args, "127.0.0.9")["slots"]
    assert s.alive()


def test_origin_must_be_an_allowed_public_origin(env, slotd_factory, ip):
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    # by default (SLOTD_CORS_PUBLIC_ORIGINS=*) any page may call it: no credential of the browser's counts
    r = post(env.s, ping, ip, headers={"Origin": "https://anywhere.example"})
    assert result(r) == {} and r.header("Access-Control-Allow-Origin") == "*", r
    s = slotd_factory(env={"SLOTD_CORS_PUBLIC_ORIGINS": "https://ok.example"})
    r = post(s, ping, ip, headers={"Origin": "https://evil.example"})
    e = rpc_error(r, 403, -32000)
    assert e["data"]["code"] == "FORBIDDEN", e
    r = post(s, ping, ip, headers={"Origin": "https://ok.example"})
    assert result(r) == {} and r.header("Access-Control-Allow-Origin") == "https://ok.example", r
    assert result(post(s, ping, ip)) == {}  # not a browser


def test_idempotency_key_never_replays_a_host_answer_to_another_caller(env, host, ip):
    """A host tool's answer stored under an Idempotency-Key belongs to the credential that got it:
    the same key and body from the same address without it, or with another host's key, is not
    answered from that record (found in review)."""
    key = host.user.key
    et = host.et(duration_minutes=30)
    tool_ok(env.s, "book", book_args(host, et, day_at(9, 10), email="victim@example.com"), ip)
    msg = {"name": "list_bookings", "arguments": {}}
    h = {"Idempotency-Key": "k-review-1"}
    first = result(rpc(env.s, "tools/call", msg, ip=ip, auth=key, headers=h))
    assert "victim@example.com" in first["content"][0]["text"]
    anon = rpc(env.s, "tools/call", msg, ip=ip, headers=h)
    assert "victim@example.com" not in anon.body.decode(), anon
    other = Host(env.s, env.db)
    theirs = rpc(env.s, "tools/call", msg, ip=ip, auth=other.user.key, headers=h)
    assert "victim@example.com" not in theirs.body.decode(), theirs
    again = result(rpc(env.s, "tools/call", msg, ip=ip, auth=key, headers=h))  # the same caller: replayed
    assert again == first
