"""Helpers for the organisation tests (issue 12): orgs, members, teams, org keys, time off.

Everything goes through the real HTTP API of a running Slotd; the database is only read.
"""

from accounts_util import NO_LIMITS, call, new_user, xkey  # noqa: F401 (re-exported)

WEEKDAYS_9_17 = [{"day": d, "start": "09:00", "end": "17:00"} for d in range(1, 6)]


def ok(r, status=200):
    assert r.status == status, r
    return r.json()


def make_org(s, auth, name="Acme Inc", slug="acme", **extra):
    return ok(call(s, "POST", "/api/orgs", {"name": name, "slug": slug, **extra}, auth=auth), 201)


def add_member(s, org_id, auth, email, name="Member Person", role=None, **extra):
    body = {"email": email, "name": name, **extra}
    if role is not None:
        body["role"] = role
    return ok(call(s, "POST", f"/api/orgs/{org_id}/members", body, auth=auth), 201)


def org_key(s, org_id, auth, label="org key"):
    """A new org API key: (its id, headers that present it)."""
    j = ok(call(s, "POST", f"/api/orgs/{org_id}/api-keys", {"label": label}, auth=auth), 201)
    return j["id"], xkey(j["key"])


def make_team(s, org_id, auth, name="Support", **extra):
    return ok(call(s, "POST", f"/api/orgs/{org_id}/teams", {"name": name, **extra}, auth=auth), 201)


def add_time_off(s, auth, start, end, path="/api/time-off", **extra):
    return ok(call(s, "POST", path, {"start": start, "end": end, **extra}, auth=auth), 201)


def user_version(db, uid):
    return int(db.sql(f"SELECT version FROM users WHERE id = {uid}")[0][0])


ORG_TABLES = {
    "orgs": "SELECT coalesce(string_agg(row_to_json(x)::text, ';' ORDER BY id), '') FROM orgs x",
    "org_members": "SELECT coalesce(string_agg(row_to_json(x)::text, ';' ORDER BY org_id, user_id), '') "
                   "FROM org_members x",
    "teams": "SELECT coalesce(string_agg(row_to_json(x)::text, ';' ORDER BY id), '') FROM teams x",
    "team_members": "SELECT coalesce(string_agg(row_to_json(x)::text, ';' ORDER BY team_id, user_id), '') "
                    "FROM team_members x",
    "api_keys": "SELECT coalesce(string_agg((row_to_json(x)::jsonb - 'last_used_at')::text, ';' ORDER BY id), '') "
                "FROM api_keys x",
    "time_off": "SELECT coalesce(string_agg(row_to_json(x)::text, ';' ORDER BY id), '') FROM time_off x",
    "schedules": "SELECT coalesce(string_agg(row_to_json(x)::text, ';' ORDER BY id), '') FROM availability_schedules x",
    "users": "SELECT coalesce(string_agg(row_to_json(x)::text, ';' ORDER BY id), '') FROM users x",
    "pages": "SELECT coalesce(string_agg(row_to_json(x)::text, ';' ORDER BY id), '') FROM booking_pages x",
}


def org_snapshot(db):
    """Every row the org endpoints may write (API keys without last_used_at, which any
    authenticated request may touch)."""
    return {k: db.sql(q) for k, q in ORG_TABLES.items()}
