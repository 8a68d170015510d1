-- 0029: rate limits shared between instances (issue 20; src/jobs/rlsync.c, src/api/ratelimit.h).
-- Each instance counts in memory and, every SLOTD_RATE_LIMIT_SYNC (0.1 s), calls
-- api.rate_limit_sync once: it adds what it counted since the last call to its own rows and reads
-- the other instances' totals for keys they changed since then, and how many instances are live.
-- An instance writes only its own rows (the instance is in the key), so syncs never wait on each
-- other. UNLOGGED: a crash of PostgreSQL forgets a minute of counts, which is what a restarted
-- instance forgets anyway; no WAL for ten writes a second per instance.

CREATE UNLOGGED TABLE rate_limit_counts (
  win        bigint NOT NULL,               -- Unix time / 60
  key        text NOT NULL,                 -- "ip:…", "u:…", the limit's own key
  instance   text NOT NULL,
  count      integer NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (win, key, instance)
);
CREATE INDEX rate_limit_counts_changed ON rate_limit_counts (win, updated_at);

CREATE UNLOGGED TABLE rate_limit_instances (
  instance text PRIMARY KEY,
  seen     timestamptz NOT NULL
);

-- p_deltas {"key": n}; p_since: this instance's last answer's "now" (0 at first). Answers
-- {now, live, others: {"key": the other instances' count in p_win}} for the keys another
-- instance changed after p_since (less a second: a change committed late is read again).
CREATE FUNCTION api.rate_limit_sync(p_instance text, p_win bigint, p_deltas jsonb, p_since double precision)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  t timestamptz := clock_timestamp();
  n_live integer;
  o jsonb;
BEGIN
  INSERT INTO rate_limit_instances AS i (instance, seen) VALUES (p_instance, t)
  ON CONFLICT (instance) DO UPDATE SET seen = EXCLUDED.seen;
  IF p_deltas <> '{}'::jsonb THEN
    INSERT INTO rate_limit_counts AS c (win, key, instance, count, updated_at)
    SELECT p_win, d.key, p_instance, d.value::integer, t FROM jsonb_each_text(p_deltas) d
    ON CONFLICT (win, key, instance) DO UPDATE SET count = c.count + EXCLUDED.count, updated_at = EXCLUDED.updated_at;
  END IF;
  SELECT count(*) INTO n_live FROM rate_limit_instances WHERE seen > t - interval '5 seconds';
  SELECT coalesce(jsonb_object_agg(x.key, x.n), '{}'::jsonb) INTO o FROM (
    SELECT c.key, sum(c.count)::integer AS n FROM rate_limit_counts c
    WHERE c.win = p_win AND c.instance <> p_instance
      AND c.key IN (SELECT k.key FROM rate_limit_counts k
                    WHERE k.win = p_win AND k.instance <> p_instance AND k.updated_at > to_timestamp(p_since - 1))
    GROUP BY c.key) x;
  IF random() < 0.01 THEN -- now and then: windows past, instances gone an hour
    DELETE FROM rate_limit_counts WHERE win < p_win - 1;
    DELETE FROM rate_limit_instances WHERE seen < t - interval '1 hour';
  END IF;
  RETURN jsonb_build_object('now', extract(epoch FROM t)::double precision, 'live', n_live, 'others', o);
END $$;
