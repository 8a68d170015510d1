"""slotd's TZif reader against PostgreSQL and zoneinfo (issue 4).

1. UTC -> local: for every zone in pg_timezone_names (less posix/, right/ and the non-zones
   Factory, localtime, posixrules, which slotd rejects on purpose), at instants from 1970 to
   2100 every 2 weeks + 12345 s, slotd's UTC offset (tests/unit/tzdump) equals PostgreSQL's.
   PostgreSQL's AT TIME ZONE reads CET, EET, MET and WET as fixed abbreviations, so those are
   compared under SET timezone. One psql process streams into one tzdump process.
2. local -> UTC: around the transitions of a sample of zones, tzdump -l gives what Python's
   zoneinfo gives with fold=0 (first occurrence; nonexistent times shifted forward).
"""

import datetime as dt
import os
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import PGBIN, ROOT, SLOTD_BIN

TZDUMP = os.environ.get("SLOTD_TZDUMP") or str(Path(SLOTD_BIN).parent / "tests" / "unit" / "tzdump")
if not os.access(TZDUMP, os.X_OK):
    TZDUMP = str(ROOT / "build" / "test" / "tests" / "unit" / "tzdump")

END = 4102444800          # 2100-01-01
STEP = 14 * 86400 + 12345
ABBREV_ZONES = ("CET", "EET", "MET", "WET")
NOT_ZONES = ("Factory", "localtime", "posixrules")
SAMPLE_ZONES = (
    "America/New_York", "Europe/Warsaw", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Chatham",
    "Pacific/Kiritimati", "Pacific/Apia", "America/Santiago", "America/Havana", "Asia/Gaza", "Africa/Casablanca",
    "Europe/Dublin", "Antarctica/Troll", "America/Asuncion", "Asia/Tehran", "America/Nuuk", "America/Scoresbysund",
    "Australia/Eucla", "America/St_Johns", "Europe/Moscow", "Asia/Almaty", "America/Mexico_City", "Pacific/Fiji",
    "CET", "EET", "MET", "WET", "EST5EDT", "Europe/Kyiv", "America/Sao_Paulo", "Africa/Cairo", "Asia/Jerusalem",
)


@pytest.fixture(scope="module")
def tzdump():
    if not os.access(TZDUMP, os.X_OK):
        pytest.fail(f"tzdump helper not found at {TZDUMP} (build build/test)")
    return TZDUMP


def psql_args(pg):
    return [f"{PGBIN}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", pg.host, "-p", str(pg.port), "-U", "postgres",
            "-d", "postgres"]


def zone_names(pg):
    rows = pg.sql("SELECT name FROM pg_timezone_names ORDER BY name")
    return [r[0] for r in rows]


def comparable(names):
    return [n for n in names if not n.startswith(("posix/", "right/")) and n not in NOT_ZONES]


@pytest.fixture(scope="module")
def offsets(pg, tzdump, tmp_path_factory):
    """Runs the bulk comparison once: returns (zones, pg_lines path, tzdump_lines path)."""
    d = tmp_path_factory.mktemp("tz")
    zones = comparable(zone_names(pg))
    series = f"generate_series(0::bigint, {END}, {STEP}) t"
    excl = ", ".join(f"'{z}'" for z in ABBREV_ZONES + NOT_ZONES)
    main = ("COPY (SELECT z.name || ' ' || t || ' ' || extract(epoch FROM (to_timestamp(t) AT TIME ZONE z.name)"
            " - (to_timestamp(t) AT TIME ZONE 'UTC'))::int"
            f" FROM (SELECT name FROM pg_timezone_names WHERE name !~ '^(posix|right)/' AND name NOT IN ({excl})"
            f" ORDER BY name) z, {series}) TO STDOUT")
    cmds = ["-c", main]
    for z in ABBREV_ZONES:
        cmds += ["-c", f"SET timezone TO '{z}'",
                 "-c", f"COPY (SELECT '{z} ' || t || ' ' || extract(timezone FROM to_timestamp(t))::int FROM {series})"
                       " TO STDOUT"]
    pg_out, tz_out = d / "pg.txt", d / "slotd.txt"
    script = ("set -o pipefail; " + " ".join(_q(a) for a in psql_args(pg) + cmds) +
              f" | tee {_q(str(pg_out))} | cut -d' ' -f1,2 | {_q(tzdump)} > {_q(str(tz_out))}")
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=110)
    assert r.returncode == 0, f"pipeline failed: {r.stderr[-2000:]}"
    yield zones, pg_out, tz_out
    pg_out.unlink(missing_ok=True)  # ~64 MB each
    tz_out.unlink(missing_ok=True)


def _q(s):
    return "'" + s.replace("'", "'\\''") + "'"


def test_every_zone_utc_offset_matches_postgresql(offsets):
    zones, pg_out, tz_out = offsets
    assert len(zones) > 550, len(zones)
    a, b = pg_out.read_bytes(), tz_out.read_bytes()
    n = a.count(b"\n")
    assert n >= len(zones) * (END // STEP), n  # every zone, every instant
    if a == b:
        return
    diffs = []
    seen = set()
    for x, y in zip(a.decode().splitlines(), b.decode().splitlines()):
        if x != y:
            zone = x.split()[0]
            if zone not in seen:
                seen.add(zone)
                t = int(x.split()[1])
                diffs.append(f"{zone} at {t} ({dt.datetime.fromtimestamp(t, dt.timezone.utc):%Y-%m-%d %H:%M:%S}Z): "
                             f"PostgreSQL {x.split()[2]}, slotd {y.split()[-1]}")
    assert a.count(b"\n") == b.count(b"\n"), "tzdump output has a different number of lines"
    assert not diffs, f"{len(seen)} zones differ (first instant each):\n" + "\n".join(diffs[:40])


def test_every_postgresql_zone_is_known_and_non_zones_are_rejected(pg, tzdump):
    names = zone_names(pg)
    zones = comparable(names)
    inp = "".join(f"{z} 0\n" for z in zones + list(NOT_ZONES) + ["posix/CET", "Mars/Olympus"])
    r = subprocess.run([tzdump], input=inp, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    out = {line.split()[0]: line.split()[2] for line in r.stdout.splitlines()}
    unknown = [z for z in zones if out.get(z) in (None, "?")]
    assert not unknown, f"slotd does not know {unknown[:20]}"
    for z in NOT_ZONES + ("posix/CET", "Mars/Olympus"):
        assert out[z] == "?", (z, out[z])


def _zoneinfo_transitions(z, lo, hi):
    """Exact transition instants of zone z in (lo, hi], by bisection with zoneinfo."""
    def off(t):
        return dt.datetime.fromtimestamp(t, z).utcoffset()
    out = []
    o_lo = off(lo)
    step = 6 * 3600
    t = lo
    while t < hi:
        n = min(t + step, hi)
        o_n = off(n)
        if o_n != o_lo:
            a, b = t, n
            while b - a > 1:
                m = (a + b) // 2
                if off(m) == o_lo:
                    a = m
                else:
                    b = m
            out.append((b, int(o_lo.total_seconds()), int(o_n.total_seconds())))
            o_lo = o_n
            t = b
            continue
        t = n
    return out


def test_local_to_utc_matches_zoneinfo_fold0(pg, tzdump, offsets):
    """Around every transition the 2-week samples reveal for a sample of zones (every 7th
    zone plus DST-heavy and odd ones), local wall times just before/after/inside the gap or
    overlap map to the instant zoneinfo gives with fold=0."""
    zones, pg_out, _ = offsets
    sample = set(zones[::7]) | {z for z in SAMPLE_ZONES if z in zones}
    # the 2-week samples where the offset changes, per zone
    brackets = {}
    prev = {}
    with open(pg_out) as f:
        for line in f:
            z, t, o = line.split()
            if z not in sample:
                continue
            t = int(t)
            if z in prev and prev[z][1] != o:
                brackets.setdefault(z, []).append((prev[z][0], t))
            prev[z] = (t, o)
    lines, want = [], []
    for zname in sorted(brackets):
        z = ZoneInfo(zname)
        for lo, hi in brackets[zname]:
            for T, o1, o2 in _zoneinfo_transitions(z, lo, hi):
                lo_o, hi_o = min(o1, o2), max(o1, o2)
                for L in {T + o1 - 1, T + o1, T + o1 + 1, T + o2 - 1, T + o2, T + o2 + 1, T + (o1 + o2) // 2,
                          T + lo_o - 3600, T + hi_o + 3600, T + lo_o + 1799}:
                    naive = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=L)
                    lines.append(f"{zname} {L}\n")
                    want.append(int(naive.replace(tzinfo=z, fold=0).timestamp()))
    assert len(lines) > 5000, len(lines)
    r = subprocess.run([tzdump, "-l"], input="".join(lines), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    got = r.stdout.splitlines()
    assert len(got) == len(lines)
    bad = []
    for line, g, w in zip(lines, got, want):
        zname, L = line.split()
        if int(g.split()[2]) != w:
            wall = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(L))
            bad.append(f"{zname} local {wall:%Y-%m-%d %H:%M:%S}: slotd {g.split()[2]}, zoneinfo fold=0 {w} "
                       f"(diff {int(g.split()[2]) - w:+d} s)")
    assert not bad, f"{len(bad)} of {len(lines)} differ:\n" + "\n".join(bad[:30])
