-- Hardening (issue 10): caps that hold under concurrency, and holds nobody can hoard.
--
-- Caps: a count followed by an insert lets concurrent requests overshoot under READ COMMITTED
-- (501-503 event types against 500). Each capped insert goes through one trigger that
-- takes the owner's row lock first and counts after it, so the count sees every committed row.
-- Rows a user can no longer see (soft-deleted event types, revoked keys) count against a
-- larger total cap, so they cannot grow without bound either.

CREATE FUNCTION api.cap_rows() RETURNS trigger LANGUAGE plpgsql AS $$
-- TG_ARGV: owner column, total cap, message, [live predicate, live cap]
DECLARE
  owner bigint;
  n bigint;
BEGIN
  EXECUTE format('SELECT ($1).%I', TG_ARGV[0]) INTO owner USING NEW;
  PERFORM 1 FROM users WHERE id = owner FOR UPDATE;  -- one capped insert per owner at a time
  EXECUTE format('SELECT count(*) FROM %I WHERE %I = $1', TG_TABLE_NAME, TG_ARGV[0]) INTO n USING owner;
  IF n >= TG_ARGV[1]::bigint THEN PERFORM api.fail(409, TG_ARGV[2] || ' (including removed ones)'); END IF;
  IF TG_NARGS > 3 THEN
    EXECUTE format('SELECT count(*) FROM %I WHERE %I = $1 AND (%s)', TG_TABLE_NAME, TG_ARGV[0], TG_ARGV[3])
      INTO n USING owner;
    IF n >= TG_ARGV[4]::bigint THEN PERFORM api.fail(409, TG_ARGV[2]); END IF;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER event_types_cap BEFORE INSERT ON event_types FOR EACH ROW
  EXECUTE FUNCTION api.cap_rows('user_id', '5000', 'too many event types', 'is_active', '500');
CREATE TRIGGER api_keys_cap BEFORE INSERT ON api_keys FOR EACH ROW
  EXECUTE FUNCTION api.cap_rows('user_id', '1000', 'too many API keys; revoke one first', 'revoked_at IS NULL', '100');
CREATE TRIGGER webhooks_cap BEFORE INSERT ON webhooks FOR EACH ROW
  EXECUTE FUNCTION api.cap_rows('user_id', '50', 'too many webhooks');
CREATE TRIGGER availability_schedules_cap BEFORE INSERT ON availability_schedules FOR EACH ROW
  EXECUTE FUNCTION api.cap_rows('user_id', '100', 'too many schedules');

-- Holds: who asked ('u:<user id>' or 'ip:<address>'), so one client cannot hold every slot.
ALTER TABLE reservations ADD COLUMN client text;
CREATE INDEX reservations_client ON reservations (client, expires_at);

DROP FUNCTION api.reservation_create(bigint, bigint, bigint, bigint, bigint, integer);

-- p_max_per_host / p_max_total: live holds one client may have on this host / anywhere; the
-- host holding its own calendar is not capped (p_client NULL).
CREATE FUNCTION api.reservation_create(p_host bigint, p_version bigint, p_event_type bigint, p_start bigint,
                                       p_end bigint, p_minutes integer, p_client text, p_max_per_host integer,
                                       p_max_total integer)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  r reservations;
  v bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(p_host);
  SELECT u.version INTO v FROM users u WHERE u.id = p_host FOR UPDATE;
  IF v IS DISTINCT FROM p_version THEN RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN; END IF;
  IF p_client IS NOT NULL THEN
    IF (SELECT count(*) FROM reservations x WHERE x.client = p_client AND x.host_id = p_host
        AND x.expires_at > now()) >= p_max_per_host THEN
      PERFORM api.fail(409, 'you already hold ' || p_max_per_host || ' of this host''s slots; book or release one first');
    END IF;
    IF (SELECT count(*) FROM reservations x WHERE x.client = p_client AND x.expires_at > now()) >= p_max_total THEN
      PERFORM api.fail(409, 'you already hold ' || p_max_total || ' slots; book or release one first');
    END IF;
  END IF;
  INSERT INTO reservations (host_id, event_type_id, start_at, end_at, expires_at, client)
  VALUES (p_host, p_event_type, to_timestamp(p_start), to_timestamp(p_end), now() + make_interval(mins => p_minutes),
          p_client)
  RETURNING * INTO r;
  RETURN QUERY SELECT api.reservation_json(r), ARRAY[p_host], false;
END $$;

-- The host's view of the live holds on its calendar (to see and release them).
CREATE FUNCTION api.reservations_list(p_user bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(jsonb_agg(api.reservation_json(r) ORDER BY r.start_at, r.id), '[]')
  FROM reservations r WHERE r.host_id = p_user AND r.expires_at > now()
$$;
