"""Helpers for the multi-host scheduling tests (issue 12): an org with members whose default
schedules are Mon-Fri 09:00-17:00 in their zones, org event types, team availability and
bookings -- all through the HTTP API."""

import datetime as dt
import itertools

from accounts_util import call, new_user
from org_util import add_member, make_org, ok

UTC = dt.timezone.utc
_seq = itertools.count(1)


class Org:
    def __init__(self, s, zones=("UTC", "UTC", "UTC"), slug=None):
        n = next(_seq)
        self.s = s
        self.owner = new_user(s, f"owner{n}@team.example", name=f"Owner {n}")
        self.slug = slug or f"team{n}"
        self.org = make_org(s, self.owner.session, name=f"Team {n}", slug=self.slug)
        self.id = self.org["id"]
        self.members = [add_member(s, self.id, self.owner.session, f"m{n}-{i}@team.example", name=f"Member {n}-{i}",
                                   timezone=z) for i, z in enumerate(zones)]
        self.ids = [m["user_id"] for m in self.members]

    def event_type(self, name="Consult", scheduling="round_robin", hosts=None, **fields):
        hosts = hosts if hosts is not None else [{"user_id": i} for i in self.ids]
        body = {"name": name, "scheduling": scheduling, "hosts": hosts, "min_notice_hours": 0,
                "max_future_days": 365, **fields}
        return ok(call(self.s, "POST", f"/api/orgs/{self.id}/event-types", body, auth=self.owner.session), 201)

    def slots(self, et, start, end=None, tz="UTC", **params):
        q = f"start={start}&end={end or start}&timezone={tz}&format=range"
        for k, v in params.items():
            q += f"&{k}={v}"
        return ok(call(self.s, "GET", f"/api/availability/{self.slug}/{et['slug']}?{q}"))["slots"]

    def book(self, et, start_time, name="Ivy Invitee", email="ivy@example.com", **extra):
        body = {"name": name, "email": email, "start_time": start_time, **extra}
        return call(self.s, "POST", f"/api/book/{self.slug}/{et['slug']}", body)


def next_monday(weeks=1):
    d = dt.datetime.now(UTC).date() + dt.timedelta(days=7 * weeks)
    return d - dt.timedelta(days=d.weekday())


def at(day, hhmm):
    return f"{day.isoformat()}T{hhmm}:00Z"
