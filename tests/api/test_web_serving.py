"""The hosted booking pages as HTTP (issue 19): the HTML shells, the assets compiled into the
binary (fingerprints, ETag, gzip, caching), the Content-Security-Policy, the public JSON read of
one event type, reserved slugs, and that the page routes shadow none of slotd's own paths.
What the pages do in a browser is tests/browser's."""

import gzip
import json
import os
import re

import pytest

from accounts_util import NO_LIMITS, assert_error, call, new_user
from conftest import run_slotd
from org_util import make_org

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
WEB = os.path.join(ROOT, "web")


@pytest.fixture
def s(slotd_factory):
    return slotd_factory(env=NO_LIMITS)


def make_type(s, u, **body):
    r = call(s, "POST", "/api/event-types", {"name": "Intro Call", "duration_minutes": 30, **body}, auth=u.session)
    assert r.status == 201, r
    return r.json()


def assets_of(html):
    css = re.findall(r'<link rel="stylesheet" href="(/assets/app\.[0-9a-f]{8}\.css)">', html)
    js = re.findall(r'<script src="(/assets/app\.[0-9a-f]{8}\.js)" defer></script>', html)
    assert len(css) == 1 and len(js) == 1, html
    return css[0], js[0]


def assert_shell(r, status=200):
    assert r.status == status, r
    assert r.header("Content-Type") == "text/html; charset=utf-8", r
    csp = r.header("Content-Security-Policy")
    assert csp and "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "default-src 'none'" in csp, csp
    assert r.header("X-Content-Type-Options") == "nosniff"
    assert r.header("Referrer-Policy") == "no-referrer"
    html = r.body.decode()
    # nothing inline: every script has a src, no style element or attribute, no event handler
    assert not re.search(r"<script(?![^>]*\ssrc=)", html), html
    assert "<style" not in html and not re.search(r"\sstyle=", html), html
    assert not re.search(r"\son[a-z]+=", html), html
    return html


def test_person_page_and_event_page_shells(s):
    u = new_user(s, "jane@example.com", name="Jane Smith")
    r = call(s, "PUT", "/api/booking-page", {"display_name": 'Jane <script>alert("x")</script> & Co',
                                             "bio": "Designer \"quoted\" <b>bold</b>", "slug": "jane"},
             auth=u.session)
    assert r.status == 200, r
    et = make_type(s, u, description="A <i>quick</i> call")
    html = assert_shell(s.get("/jane"))
    assert "<title>Jane &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co</title>" in html, html
    assert "<script>alert" not in html and "<b>bold" not in html, html
    assert '<meta name="description" content="Designer &quot;quoted&quot; &lt;b&gt;bold&lt;/b&gt;">' in html
    assert 'data-view="page"' in html and 'data-slug="jane"' in html
    assert 'noindex' not in html

    html = assert_shell(s.get(f"/jane/{et['slug']}"))
    assert 'data-view="event"' in html and f'data-event-slug="{et["slug"]}"' in html
    assert "<title>Intro Call · Jane &lt;script&gt;" in html, html
    assert 'content="A &lt;i&gt;quick&lt;/i&gt; call"' in html
    # the slug in the path is matched case-insensitively by the page; HEAD has the headers only
    r = s.request("HEAD", "/jane")
    assert r.status == 200 and r.body == b"" and r.header("Content-Security-Policy")


def test_unknown_pages_are_404_pages(s):
    u = new_user(s, "jane@example.com", name="Jane Smith")
    et = make_type(s, u)
    for path in ("/nobody-here", f"/{u.slug}/no-such-type", f"/{u.slug}/Bad_Slug", "/nobody/x", "/Jane_Smith",
                 "/favicon.ico"):
        html = assert_shell(s.get(path), 404)
        assert 'data-view="notfound"' in html and "noindex" in html, path
    # a deleted (inactive) event type is gone from its page too
    assert call(s, "DELETE", f"/api/event-types/{et['id']}", auth=u.session).status in (200, 204)
    assert_shell(s.get(f"/{u.slug}/{et['slug']}"), 404)


def test_secret_types_have_pages_but_are_not_listed(s):
    u = new_user(s, "jane@example.com")
    make_type(s, u, name="Open Call")
    secret = make_type(s, u, name="Secret Call", is_secret=True)
    assert_shell(s.get(f"/{u.slug}/{secret['slug']}"))
    listed = call(s, "GET", f"/api/public/{u.slug}").json()["event_types"]
    assert [e["name"] for e in listed] == ["Open Call"]
    one = call(s, "GET", f"/api/public/{u.slug}/{secret['slug']}")
    assert one.status == 200 and one.json()["event_type"]["name"] == "Secret Call"


def test_public_event_read_has_what_the_form_needs(s):
    u = new_user(s, "jane@example.com", name="Jane Smith")
    questions = [{"id": "company", "label": "Company", "type": "text", "required": True},
                 {"id": "size", "label": "Team size", "type": "select", "options": ["1-10", "11+"]},
                 {"id": "agree", "label": "I agree", "type": "checkbox", "required": True}]
    et = make_type(s, u, questions=questions, durations=[15, 30, 60], duration_minutes=30)
    r = call(s, "GET", f"/api/public/{u.slug}/{et['slug']}")
    assert r.status == 200, r
    j = r.json()
    assert j["page"]["slug"] == u.slug and j["page"]["display_name"] == "Jane Smith"
    assert "event_types" not in j["page"]
    e = j["event_type"]
    assert e["id"] == et["id"] and e["durations"] == [15, 30, 60] and e["duration_minutes"] == 30
    assert [q["id"] for q in e["questions"]] == ["company", "size", "agree"]
    assert e["questions"][1]["options"] == ["1-10", "11+"] and e["questions"][0]["required"] is True
    # nothing private: no location value, no owner id or e-mail
    text = json.dumps(j)
    assert "jane@example.com" not in text and "location_value" not in e and "user_id" not in e
    # the listing carries the same per-type object
    listed = call(s, "GET", f"/api/public/{u.slug}").json()["event_types"]
    assert listed == [e]
    # another person's type through this page is not found
    v = new_user(s, "vic@example.com", name="Vic")
    vet = make_type(s, v, name="Vic Call")
    assert_error(call(s, "GET", f"/api/public/{u.slug}/{vet['slug']}"), 404, "NOT_FOUND")
    assert_error(call(s, "GET", "/api/public/nobody/x"), 404, "NOT_FOUND")


def test_org_pages_name_hosts_and_scheduling(s):
    owner = new_user(s, "owner@example.com", name="Olive Owner")
    org = make_org(s, owner.session, name="Acme <Inc>", slug="acme")
    r = call(s, "POST", f"/api/orgs/{org['id']}/event-types",
             {"name": "Sales Call", "duration_minutes": 30, "scheduling": "round_robin", "hosts": [{"user_id": owner.id}]},
             auth=owner.session)
    assert r.status == 201, r
    html = assert_shell(s.get("/acme"))
    assert "<title>Acme &lt;Inc&gt;</title>" in html
    assert_shell(s.get("/acme/sales-call"))
    e = call(s, "GET", "/api/public/acme/sales-call").json()["event_type"]
    assert e["scheduling"] == "round_robin" and e["hosts"] == [{"id": owner.id, "name": "Olive Owner"}]


def test_assets_fingerprinted_cached_and_compressed(s):
    new_user(s, "jane@example.com")
    css, js = assets_of(s.get("/jane-smith").body.decode())
    for path, name, ctype in ((js, "app.js", "text/javascript"), (css, "app.css", "text/css")):
        with open(os.path.join(WEB, name), "rb") as f:
            source = f.read()
        r = s.get(path)
        assert r.status == 200 and r.body == source, path
        assert r.header("Content-Type") == f"{ctype}; charset=utf-8"
        assert r.header("Cache-Control") == "public, max-age=31536000, immutable"
        assert r.header("X-Content-Type-Options") == "nosniff"
        etag = r.header("ETag")
        assert re.fullmatch(r'"[0-9a-f]{32}"', etag), etag
        assert path.split(".")[-2] == etag[1:9]  # the name's fingerprint is the content's
        r = s.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert r.header("Content-Encoding") == "gzip" and gzip.decompress(r.body) == source
        assert r.header("Vary") == "Accept-Encoding"
        r = s.get(path, headers={"Accept-Encoding": "gzip;q=0, identity"})
        assert r.header("Content-Encoding") is None and r.body == source
        r = s.get(path, headers={"If-None-Match": etag})
        assert r.status == 304 and r.body == b"" and r.header("ETag") == etag
        r = s.get(path, headers={"If-None-Match": 'W/' + etag})
        assert r.status == 304
        r = s.get(path, headers={"If-None-Match": '"0000"'})
        assert r.status == 200
    r = s.get("/assets/app.00000000.js")
    assert r.status == 404 and r.header("Cache-Control") == "no-cache"
    assert s.get("/assets/../embed.js").status in (400, 404)


def test_embed_script_stable_name(s):
    with open(os.path.join(WEB, "embed.js"), "rb") as f:
        source = f.read()
    r = s.get("/embed.js")
    assert r.status == 200 and r.body == source
    assert s.get("/embed.js?v=2").body == source  # a cache-busting query changes nothing
    assert r.header("Content-Type") == "text/javascript; charset=utf-8"
    assert r.header("Cache-Control") == "public, max-age=300"
    assert r.header("Cross-Origin-Resource-Policy") == "cross-origin"
    assert s.get("/embed.js", headers={"If-None-Match": r.header("ETag")}).status == 304


def test_event_page_under_60_kb_gzip(s):
    """The issue's budget: the event page's whole transfer (shell + script + style, gzip)."""
    u = new_user(s, "jane@example.com")
    et = make_type(s, u)
    shell = s.get(f"/{u.slug}/{et['slug']}", headers={"Accept-Encoding": "gzip"})
    css, js = assets_of(shell.body.decode())
    total = len(gzip.compress(shell.body)) + sum(len(s.get(p, headers={"Accept-Encoding": "gzip"}).body)
                                                  for p in (css, js))
    print(f"event page transfer: {total} bytes gzip")
    assert total < 60 * 1024, total


def test_manage_page_shell(s):
    html = assert_shell(s.get("/booking/0f8fad5b-d9cb-469f-a165-70867728950e?token=" + "a" * 64))
    r = s.get("/booking/0f8fad5b-d9cb-469f-a165-70867728950e")
    assert r.header("Cache-Control") == "no-store"
    assert 'data-view="manage"' in html and 'data-uid="0f8fad5b-d9cb-469f-a165-70867728950e"' in html
    assert "noindex" in html
    assert_shell(s.get("/booking/not-a-uid"), 404)


def test_page_routes_shadow_nothing(s):
    """The /:slug routes are fallbacks: slotd's own paths answer as before, unrouted paths under
    an API's prefix answer in that API's words, and other methods on a page path are 404."""
    assert s.get("/healthz").status == 200
    assert s.get("/readyz").status == 200
    assert_error(s.get("/api/nothing"), 404, "NOT_FOUND")
    assert_error(s.get("/api/nothing/here"), 404, "NOT_FOUND")
    r = s.get("/v2/nothing")
    assert r.status == 404 and r.json().get("status") == "error", r  # Cal.com's envelope
    r = s.get("/v1/nothing")
    assert r.status == 404 and "application/json" in r.header("Content-Type"), r
    new_user(s, "jane@example.com")
    r = s.request("POST", "/jane-smith", body=b"")
    assert r.status == 404, r
    r = s.request("DELETE", "/jane-smith/x")
    assert r.status == 404, r
    # a reserved first segment is never a page, even without a route of its own
    for path in ("/booking", "/assets", "/admin", "/mcp/x"):
        r = s.get(path)
        assert r.status in (404, 405) and "text/html" not in (r.header("Content-Type") or ""), (path, r)


RESERVED = ("api", "v1", "v2", "mcp", "healthz", "readyz", "metrics", "booking", "assets", "embed")


def test_reserved_slugs_refused(s):
    u = new_user(s, "jane@example.com")
    before = call(s, "GET", "/api/booking-page", auth=u.session).json()
    for slug in RESERVED:
        assert_error(call(s, "PUT", "/api/booking-page", {"slug": slug}, auth=u.session), 400, field="slug")
        assert_error(call(s, "POST", "/api/orgs", {"name": "X", "slug": slug}, auth=u.session), 400, field="slug")
    assert call(s, "GET", "/api/booking-page", auth=u.session).json() == before
    org = make_org(s, u.session, name="Fine", slug="fine-org")
    assert_error(call(s, "PUT", f"/api/orgs/{org['id']}", {"slug": "metrics"}, auth=u.session), 400, field="slug")
    assert call(s, "GET", f"/api/orgs/{org['id']}", auth=u.session).json()["slug"] == "fine-org"
    # a name that would make a reserved slug gets another one
    for name, slug in (("Metrics", "metrics-1"), ("API", "api-1"), ("Booking", "booking-1")):
        r = call(s, "POST", "/api/auth/register", {"email": f"{slug}@example.com", "password": "correct horse battery",
                                                   "name": name})
        assert r.status == 201 and r.json()["bookingSlug"] == slug, r


def test_reserved_slugs_refused_in_calcom_teams(s):
    u = new_user(s, "jane@example.com", key=True)
    h = {"Authorization": f"Bearer {u.key}", "Content-Type": "application/json"}
    r = s.request("POST", "/v2/teams", headers=h, body=json.dumps({"name": "T", "slug": "assets"}).encode())
    assert r.status == 400, r
    assert r.json()["status"] == "error"
    r = s.request("POST", "/v2/teams", headers=h, body=json.dumps({"name": "Healthz"}).encode())
    assert r.status == 201, r
    assert r.json()["data"]["slug"] == "healthz-1"


def test_embed_origins_setting(slotd_factory):
    s = slotd_factory(env={**NO_LIMITS, "SLOTD_EMBED_ORIGINS": "https://a.example,http://127.0.0.1:9999"})
    new_user(s, "jane@example.com")
    csp = s.get("/jane-smith").header("Content-Security-Policy")
    assert csp.endswith("frame-ancestors https://a.example http://127.0.0.1:9999"), csp
    default = slotd_factory(env=NO_LIMITS)
    assert default.get("/nobody").header("Content-Security-Policy").endswith("frame-ancestors *")


@pytest.mark.parametrize("bad", ["https://a.example; script-src *", "javascript:alert(1)", "https://a.example/path",
                                 "https://a b.example"])
def test_embed_origins_malformed_refused(bad, db):
    r = run_slotd(["serve"], env={"SLOTD_DATABASE_URL": db.url, "SLOTD_EMBED_ORIGINS": bad})
    assert r.returncode != 0 and "SLOTD_EMBED_ORIGINS" in r.stderr, r
