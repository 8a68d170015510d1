"""Oracle test for multi-host scheduling (issue 12): for random (hosts in different zones with
random schedules across DST changes, busy time and time off, event type, window) cases, an org
event type's slots (format=range: instants, seats_remaining and the free hosts) equal the
union (round robin) or the intersection (collective) of each host's slots computed by the
independent implementation in sched_util.expected.

Reproduce a failure with the printed seed:  SLOTD_ORACLE_SEED=<seed> pytest tests/api/test_team_oracle.py
"""

import datetime as dt
import os
import random
import time

import pytest

from org_util import make_org, ok
from accounts_util import call
from sched_util import Host, env, expected, range_instants, today_utc, window  # noqa: F401
from test_oracle import ZONES, rand_event, rand_schedule, rand_window

_seed = os.environ.get("SLOTD_ORACLE_SEED") or "20261130"
SEED = random.SystemRandom().randrange(1, 2**31) if _seed == "random" else int(_seed)
CHUNKS = 2
CASES_PER_CHUNK = 60
NHOSTS = 4


def _ts(s):
    return int(dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())


class TeamOracle:
    def __init__(self, env):
        self.env = env
        self.hosts = [Host(env.s, env.db) for _ in range(NHOSTS)]
        owner = self.hosts[0]
        self.org = make_org(env.s, owner.auth, name="Oracle Org", slug=f"oracle{SEED % 100000}")
        for h in self.hosts[1:]:
            ok(call(env.s, "POST", f"/api/orgs/{self.org['id']}/members",
                    {"email": h.user.email, "name": h.user.name}, auth=owner.auth), 201)
        self.sids = [h.default_schedule()["id"] for h in self.hosts]
        self.blockers = [h.et(name="Blocker") for h in self.hosts]

    def run_case(self, rng, label):
        db = self.env.db
        k = rng.choice([2, 2, 3, 4])
        idx = sorted(rng.sample(range(NHOSTS), k))
        hosts = [self.hosts[i] for i in idx]
        zones = [rng.choice(ZONES) for _ in hosts]
        inv_zone = rng.choice(ZONES)
        start, end, tr = rand_window(rng, zones[0], inv_zone)
        dates = [start + dt.timedelta(days=d) for d in range(-1, (end - start).days + 2)]
        scheduling = rng.choice(["round_robin", "collective"])
        together = 0.6 if scheduling == "collective" else 0.3  # shared hours make intersections non-empty
        scheds = []
        for n, (i, h) in enumerate(zip(idx, hosts)):
            rules, overrides = rand_schedule(rng, dates, tr if n == 0 else None)
            x = rng.random()
            if x < together / 2:
                rules, overrides = [{"day": d, "start": "00:00", "end": "24:00"} for d in range(7)], []
            elif x < together and n > 0:  # the first host's hours, in this host's zone
                rules, overrides = scheds[0]["rules"], scheds[0]["overrides"]
            scheds.append(h.sched_put(self.sids[i], timezone=zones[n], rules=rules, overrides=overrides))
        evb = rand_event(rng)
        r = call(self.env.s, "POST", f"/api/orgs/{self.org['id']}/event-types",
                 {"name": f"Case {label}", "scheduling": scheduling, "hosts": [{"user_id": h.id} for h in hosts], **evb},
                 auth=self.hosts[0].auth)
        assert r.status == 201, r
        et = r.json()
        ev = {"id": et["id"], "duration": et["duration_minutes"], "interval": et["slot_interval_minutes"],
              "buffer_before": et["buffer_before"], "buffer_after": et["buffer_after"],
              "min_notice_hours": et["min_notice_hours"], "max_future_days": et["max_future_days"],
              "seats": et["seats"], "limit_per_day": et["limit_per_day"], "limit_per_week": et["limit_per_week"]}
        f, t = window(inv_zone, start, end)

        # busy time per host: bookings of its own blocker type (with random buffers) and time off
        busy = {h.id: [] for h in hosts}
        rows = [f"DELETE FROM bookings WHERE host_id IN ({','.join(str(h.id) for h in self.hosts)});",
                f"DELETE FROM time_off WHERE user_id IN ({','.join(str(h.id) for h in self.hosts)});"]
        for i, h in zip(idx, hosts):
            bb, ba = rng.choice([(0, 0), (0, 0), (15, 0), (0, 30), (60, 45)])
            blk = self.blockers[i]
            rows.append(f"UPDATE event_types SET buffer_before = {bb}, buffer_after = {ba} WHERE id = {blk['id']};")
            solid = []
            for _ in range(rng.choice([0, 1, 2, 4])):
                b0 = rng.randrange(f - 86400, t + 86400) // 300 * 300
                b1 = b0 + rng.choice([15, 30, 60, 120, 300]) * 60
                if any(b0 < x1 and x0 < b1 for x0, x1 in solid):
                    continue
                solid.append((b0, b1))
                rows.append("INSERT INTO bookings (host_id, event_type_id, start_at, end_at, status, invitee_name, "
                            f"invitee_email) VALUES ({h.id}, {blk['id']}, to_timestamp({b0}), to_timestamp({b1}), "
                            "'confirmed', 'x', 'x@example.com');")
                busy[h.id].append({"start": b0, "end": b1, "bb": bb, "ba": ba, "et": blk["id"], "seats": 1,
                                   "kind": "booking"})
            if rng.random() < 0.3:
                o0 = rng.randrange(f - 86400, t) // 3600 * 3600
                o1 = o0 + rng.choice([1, 3, 8, 24, 48]) * 3600
                rows.append(f"INSERT INTO time_off (user_id, start_at, end_at) VALUES ({h.id}, to_timestamp({o0}), "
                            f"to_timestamp({o1}));")
                busy[h.id].append({"start": o0, "end": o1, "bb": 0, "ba": 0, "et": 0, "seats": 1, "kind": "booking"})
        db.sql("".join(rows))

        path = (f"/api/availability/{self.org['slug']}/{et['slug']}?start={start}&end={end}"
                f"&timezone={inv_zone}&format=range")
        before = time.time()
        r = call(self.env.s, "GET", path)
        after = time.time()
        desc = (f"case {label}: {scheduling} hosts {[h.id for h in hosts]} zones {zones}; event {evb}; invitee "
                f"{inv_zone} {start}..{end}; schedules {[(s['rules'], s['overrides']) for s in scheds]}; busy {busy}")
        call(self.env.s, "DELETE", f"/api/orgs/{self.org['id']}/event-types/{et['id']}", auth=self.hosts[0].auth)
        if r.status != 200:
            return f"{desc}\n  -> HTTP {r.status} {r.body[:300]!r}"
        sl = r.json()["slots"]
        range_instants(sl)
        got = sorted((_ts(x["start"]), _ts(x["end"]), x["seats_remaining"], tuple(x["hosts"]))
                     for v in sl.values() for x in v)
        wants = []
        for now in (before, after):
            per = {h.id: {s0: (s0, s1, seats) for s0, s1, seats in
                          expected(zones[n], scheds[n]["rules"], scheds[n]["overrides"], ev, busy[h.id], now, f, t)}
                   for n, h in enumerate(hosts)}
            starts = sorted(set().union(*[set(p) for p in per.values()]))
            want = []
            for s0 in starts:
                free = [h.id for h in hosts if s0 in per[h.id]]
                if scheduling == "collective" and len(free) != len(hosts):
                    continue
                seats = [per[hid][s0][2] for hid in free]
                want.append((s0, per[free[0]][s0][1], min(seats) if scheduling == "collective" else sum(seats),
                             tuple(sorted(free))))
            wants.append(want)
        if got not in wants:
            want = wants[0]
            return (f"{desc}\n  -> extra {sorted(set(got) - set(want))[:5]} missing {sorted(set(want) - set(got))[:5]}")
        return None


@pytest.fixture(scope="module")
def oracle(env):
    return TeamOracle(env)


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_random_team_cases_match_the_oracle(env, oracle, chunk):
    rng = random.Random(SEED * 1000 + chunk)
    failures = []
    for i in range(CASES_PER_CHUNK):
        err = oracle.run_case(rng, f"{chunk}.{i}")
        if err:
            failures.append(err)
    assert not failures, (f"SLOTD_ORACLE_SEED={SEED} (chunk {chunk}): {len(failures)} of {CASES_PER_CHUNK} cases differ\n"
                          + "\n".join(failures[:3]))
