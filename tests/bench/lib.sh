# shellcheck shell=bash disable=SC2034
# tests/bench/lib.sh: helpers shared by tests/bench/{availability,booking,scaling,connections}.
# Sourced after deploy/lib/common.sh, never executed. Everything here runs as root on Debian 12.

# bench_wait_build ROOT: someone else may be configuring or building build/release right now
# (two ninjas in one directory trip over each other): wait for them, at most 10 minutes.
# A no-op when SLOTD_BIN names a binary.
bench_wait_build() {
	local root=$1 i busy pid
	[[ -z "${SLOTD_BIN:-}" ]] || return 0
	for i in $(seq 1 600); do
		busy=0
		for pid in $(pgrep -x 'ninja|meson|samu' 2>/dev/null || true); do
			if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'build/release' ||
				[[ "$(readlink -f "/proc/$pid/cwd" 2>/dev/null)" == "$root/build/release" ]]; then
				busy=1
			fi
		done
		((busy)) || return 0
		((i == 1)) && slotd__log "waiting for another build in build/release to finish"
		sleep 1
	done
}

bench_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# bench_num NAME VALUE MIN MAX: VALUE must be an integer in [MIN, MAX].
bench_num() { [[ "$2" =~ ^[0-9]+$ ]] && (($2 >= $3 && $2 <= $4)) || slotd__die "$1: $3..$4"; }

# bench_to_ms VALUE_WITH_UNIT (wrk's "1.23ms", "850.00us", "1.02s") -> milliseconds
bench_to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
		printf "%.3f", n }'
}

# --- CPU time, in clock ticks, from /proc ------------------------------------------------
# proc_ticks PID [with-children]: utime + stime of a process (with a second argument also
# those of its reaped children). pg_ticks: the whole PostgreSQL cluster ($PGDATA) - the
# postmaster with its reaped children (backends that have exited) plus every live child.
CLK_TCK=$(getconf CLK_TCK)
proc_ticks() {
	local s f
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return 0; }
	s=${s##*) }
	read -r -a f <<<"$s"
	if [[ -n "${2:-}" ]]; then echo $((f[11] + f[12] + f[13] + f[14])); else echo $((f[11] + f[12])); fi
}
pg_ticks() {
	local pm t c
	pm=$(head -n1 "$PGDATA/postmaster.pid")
	t=$(proc_ticks "$pm" 1)
	for c in $(pgrep -P "$pm" || true); do t=$((t + $(proc_ticks "$c"))); done
	echo "$t"
}
pg_nchildren() { pgrep -P "$(head -n1 "$PGDATA/postmaster.pid")" | wc -l; }
# pg_ticks_after N: pg_ticks once the backends of a finished pgbench have exited and been
# reaped (the cluster is back to N children), so that none of their time is missed
pg_ticks_after() {
	local i
	for i in $(seq 1 50); do
		(($(pg_nchildren) <= $1)) && break
		sleep 0.1
	done
	pg_ticks
}
us_per() { # TICKS COUNT -> microseconds per item
	awk -v t="$1" -v n="$2" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }'
}

# bench_rss_kb PID: resident set size in kB (VmRSS)
bench_rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# --- the data set's hosts ------------------------------------------------------------------
# bench_hosts_sql FIRST LAST 'ZONE' ...: SQL (for psql as superuser, in the benchmark's
# database) that creates hosts FIRST..LAST: user i, booking page h<i>, a default schedule
# Mon-Fri 09:00-17:00 in ZONE[i % nzones] and one 30-minute event type "meeting" (id i,
# min_notice_hours 0, max_future_days 120). Loaded with session_replication_role = replica (no
# version bumps, no NOTIFY, no FK or cap checks per row; constraints and indexes still hold),
# except the trigger(s) that compile a schedule's rules into the columns the slot engine reads
# (api.schedule_compile, migration 0006): they are made to fire for the load and checked after.
# The caller wraps it in BEGIN/COMMIT; the temp table bench_zones (n, tz) stays for the
# session. The sequences are moved past the ids used.
bench_hosts_sql() {
	local first=$1 last=$2 zl
	shift 2
	zl=$(printf "'%s'," "$@")
	cat <<SQL
SET session_replication_role = replica;
SET TimeZone = 'UTC';
CREATE TEMP TABLE IF NOT EXISTS bench_zones (n int, tz text);
TRUNCATE bench_zones;
INSERT INTO bench_zones SELECT n - 1, tz FROM unnest(ARRAY[${zl%,}]) WITH ORDINALITY AS z (tz, n);
DO \$\$ DECLARE t record; BEGIN
  FOR t IN SELECT tgname FROM pg_trigger WHERE tgrelid = 'availability_schedules'::regclass AND NOT tgisinternal
           AND tgfoid = to_regproc('api.schedule_compile') LOOP
    EXECUTE format('ALTER TABLE availability_schedules ENABLE ALWAYS TRIGGER %I', t.tgname);
  END LOOP;
END \$\$;
INSERT INTO users (id, email, password_hash, name, timezone)
SELECT i, 'host' || i || '@bench.invalid', '\$argon2id\$v=19\$m=65536,t=2,p=1\$YmVuY2hiZW5jaA\$bm90IGEgcmVhbCBoYXNoIGF0IGFsbA',
       'Host ' || i, z.tz
FROM generate_series($first, $last) i JOIN bench_zones z ON z.n = i % (SELECT count(*) FROM bench_zones);
INSERT INTO booking_pages (id, user_id, slug, display_name)
SELECT id, id, 'h' || id, name FROM users WHERE id BETWEEN $first AND $last;
INSERT INTO availability_schedules (id, user_id, name, timezone, rules, is_default)
SELECT id, id, 'Working hours', timezone,
       '[{"day":1,"start":"09:00","end":"17:00"},{"day":2,"start":"09:00","end":"17:00"},{"day":3,"start":"09:00","end":"17:00"},{"day":4,"start":"09:00","end":"17:00"},{"day":5,"start":"09:00","end":"17:00"}]',
       true
FROM users WHERE id BETWEEN $first AND $last;
INSERT INTO event_types (id, user_id, name, slug, duration_minutes, min_notice_hours, max_future_days)
SELECT id, id, 'Meeting', 'meeting', 30, 0, 120 FROM users WHERE id BETWEEN $first AND $last;
DO \$\$ DECLARE t record; BEGIN
  FOR t IN SELECT tgname FROM pg_trigger WHERE tgrelid = 'availability_schedules'::regclass AND NOT tgisinternal
           AND tgfoid = to_regproc('api.schedule_compile') LOOP
    EXECUTE format('ALTER TABLE availability_schedules ENABLE TRIGGER %I', t.tgname);
  END LOOP;
  IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'availability_schedules'
             AND column_name = 'week_spans') THEN
    IF EXISTS (SELECT 1 FROM availability_schedules WHERE user_id BETWEEN $first AND $last AND week_spans = '{}') THEN
      RAISE EXCEPTION 'bench: schedules were loaded without their compiled week_spans';
    END IF;
  END IF;
  PERFORM setval('users_id_seq', (SELECT max(id) FROM users));
  PERFORM setval('booking_pages_id_seq', (SELECT max(id) FROM booking_pages));
  PERFORM setval('availability_schedules_id_seq', (SELECT max(id) FROM availability_schedules));
  PERFORM setval('event_types_id_seq', (SELECT max(id) FROM event_types));
END \$\$;
SQL
}

# Seconds either way of a window that slotd reads busy time for (api.engine_inputs' p_reach and
# p_reach_limits; sched_reach() in src/sched/slots.c: the longest event plus both buffers plus
# an hour, and 9 days with day/week limits). The pgbench references pass the same.
BENCH_REACH=133200
BENCH_REACH_LIMITS=777600
