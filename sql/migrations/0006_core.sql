-- The api/ core (issue 9): one response path and one booking core.
--
-- * Write functions return their side data out of band: RETURNS TABLE (body jsonb, host_ids
--   bigint[], stale boolean). `body` is the response; `host_ids` the hosts whose availability
--   the write changed (the writing instance forgets their cached slots before it answers);
--   `stale` says the version C decided on has moved (C reads and decides again). No key is added
--   to a body only to be removed again, and no C logic depends on how PostgreSQL prints JSON.
-- * Lists return (body jsonb, total bigint): the page and the count, which C puts in headers.
-- * The slot engine's inputs are one row of named columns (api.engine_inputs), addressed by
--   event type id or by the (page slug, event slug) pair; busy time comes as parallel arrays,
--   and schedules carry their rules compiled on write (week_spans, override_spans), so a read
--   neither walks JSON nor re-validates it. The busy-time reach is a parameter computed by C
--   from the engine's limits (sched_reach()).
-- * Which status allows which action is written once (api.transition_refusal) and used both by
--   the write functions and by the read that precedes a write.

-- ---------------------------------------------------------------- compiled schedules

ALTER TABLE availability_schedules
  ADD COLUMN week_spans     integer[] NOT NULL DEFAULT '{}',  -- (weekday, start minute, end minute)*
  ADD COLUMN override_spans integer[] NOT NULL DEFAULT '{}';  -- (day number, start, end)*, by day; 0,0 = closed

CREATE FUNCTION api.minutes(hhmm text) RETURNS integer LANGUAGE sql IMMUTABLE AS
$$ SELECT split_part(hhmm, ':', 1)::integer * 60 + split_part(hhmm, ':', 2)::integer $$;

-- rules and overrides arrive validated and normalised by C (schedules.c) or written by
-- api.register; this only flattens them for the engine.
CREATE FUNCTION api.schedule_compile() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.week_spans := coalesce((
    SELECT array_agg(v ORDER BY t.ord, u.k)
    FROM jsonb_array_elements(NEW.rules) WITH ORDINALITY t(r, ord),
         unnest(ARRAY[(t.r->>'day')::integer, api.minutes(t.r->>'start'), api.minutes(t.r->>'end')])
           WITH ORDINALITY u(v, k)), '{}');
  NEW.override_spans := coalesce((
    SELECT array_agg(v ORDER BY (t.r->>'date')::date, t.ord, u.k)
    FROM jsonb_array_elements(NEW.overrides) WITH ORDINALITY t(r, ord),
         unnest(CASE WHEN coalesce((t.r->>'unavailable')::boolean, false)
                     THEN ARRAY[(t.r->>'date')::date - date '1970-01-01', 0, 0]
                     ELSE ARRAY[(t.r->>'date')::date - date '1970-01-01', api.minutes(t.r->>'start'),
                                api.minutes(t.r->>'end')] END) WITH ORDINALITY u(v, k)), '{}');
  RETURN NEW;
END $$;

CREATE TRIGGER availability_schedules_compile BEFORE INSERT OR UPDATE OF rules, overrides ON availability_schedules
  FOR EACH ROW EXECUTE FUNCTION api.schedule_compile();

-- Existing rows: the trigger fires on this no-op update (the host_changed trigger bumps versions,
-- which is harmless: nothing is cached across a migration).
UPDATE availability_schedules SET rules = rules;

-- ---------------------------------------------------------------- transition rules

-- NULL when a booking in p_status allows p_action; otherwise why not. The one copy of the rule.
CREATE FUNCTION api.transition_refusal(p_status text, p_action text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN p_action IN ('confirm', 'decline') AND p_status <> 'pending' THEN 'the booking is ' || p_status
    WHEN p_action IN ('cancel', 'reschedule') AND p_status NOT IN ('pending', 'confirmed')
      THEN 'the booking is ' || p_status
    WHEN p_action = 'no_show' AND p_status <> 'confirmed' THEN 'the booking is ' || p_status
    WHEN p_action NOT IN ('confirm', 'decline', 'cancel', 'reschedule', 'no_show', 'get')
      THEN 'unknown action ' || p_action
  END
$$;

-- ---------------------------------------------------------------- engine inputs

DROP FUNCTION api.booking_data(bigint, bigint, timestamptz, timestamptz);
DROP FUNCTION api.availability_data(text, text, timestamptz, timestamptz, uuid);

-- The event type an engine read is for: by id (the public reaches listed types only: ids are
-- sequential, a secret type's link is its slug pair; an existing booking's own flows pass
-- p_include_secret), or by page slug and event slug. Unknown: 404 as the public sees it.
CREATE FUNCTION api.event_type_for(p_event_type bigint, p_slug text, p_event_slug text, p_include_secret boolean)
RETURNS event_types LANGUAGE plpgsql STABLE AS $$
DECLARE
  e event_types;
  pg bigint;
BEGIN
  IF p_event_type IS NOT NULL THEN
    SELECT * INTO e FROM event_types t WHERE t.id = p_event_type AND t.is_active AND (p_include_secret OR NOT t.is_secret);
  ELSE
    SELECT b.user_id INTO pg FROM booking_pages b WHERE b.slug = p_slug::citext;  -- citext: the unique index
    IF pg IS NULL THEN PERFORM api.fail(404, 'booking page not found'); END IF;
    SELECT * INTO e FROM event_types t WHERE t.user_id = pg AND t.slug = p_event_slug AND t.is_active;
  END IF;
  IF e.id IS NULL THEN PERFORM api.fail(404, 'event type not found'); END IF;
  RETURN e;
END $$;

-- The schedule an event type's slots come from: its own, else its host's default (NULL if none).
CREATE FUNCTION api.schedule_for(e event_types) RETURNS availability_schedules LANGUAGE sql STABLE AS $$
  SELECT a.* FROM availability_schedules a
  WHERE a.user_id = e.user_id AND (a.id = e.schedule_id OR (e.schedule_id IS NULL AND a.is_default))
$$;

-- Everything the slot engine needs for one event type and window, by name, in one row.
-- Addressed by p_event_type (secret types only with p_include_secret), or (when it is NULL) by
-- page slug and event slug. Busy rows are
-- bookings (kind 1) and live reservations (kind 2) of the host that can touch a slot starting in
-- [p_from, p_to): p_reach seconds either way, p_reach_limits with day/week limits (C derives both
-- from the engine's limits). p_exclude_*: a reservation being consumed, a booking being moved.
CREATE FUNCTION api.engine_inputs(p_event_type bigint, p_slug text, p_event_slug text, p_from timestamptz,
                                  p_to timestamptz, p_reach integer, p_reach_limits integer,
                                  p_exclude_reservation uuid DEFAULT NULL, p_exclude_booking bigint DEFAULT NULL,
                                  p_include_secret boolean DEFAULT false)
RETURNS TABLE (host_id bigint, version bigint, event_type_id bigint, event_name text, duration integer,
               slot_interval integer, buffer_before integer, buffer_after integer, min_notice_hours integer,
               max_future_days integer, seats integer, limit_per_day integer, limit_per_week integer,
               requires_confirmation boolean, questions jsonb, schedule_timezone text, week_spans integer[],
               override_spans integer[], busy_start bigint[], busy_end bigint[], busy_buffer_before integer[],
               busy_buffer_after integer[], busy_event_type bigint[], busy_ref bigint[], busy_seats integer[],
               busy_kind integer[], busy_pending integer[], next_expiry bigint)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
  e event_types;
  s availability_schedules;
  v bigint;
  lo timestamptz;
  hi timestamptz;
BEGIN
  e := api.event_type_for(p_event_type, p_slug, p_event_slug, p_include_secret);
  s := api.schedule_for(e);
  SELECT u.version INTO v FROM users u WHERE u.id = e.user_id;
  IF e.limit_per_day IS NOT NULL OR e.limit_per_week IS NOT NULL THEN
    lo := p_from - make_interval(secs => p_reach_limits); hi := p_to + make_interval(secs => p_reach_limits);
  ELSE
    lo := p_from - make_interval(secs => p_reach); hi := p_to + make_interval(secs => p_reach);
  END IF;
  RETURN QUERY
  SELECT e.user_id, v, e.id, e.name, e.duration_minutes, coalesce(e.slot_interval_minutes, e.duration_minutes),
         e.buffer_before, e.buffer_after, e.min_notice_hours, e.max_future_days, e.seats, e.limit_per_day,
         e.limit_per_week, e.requires_confirmation, e.questions, s.timezone, s.week_spans, s.override_spans,
         coalesce(array_agg(extract(epoch FROM x.start_at)::bigint), '{}'),
         coalesce(array_agg(extract(epoch FROM x.end_at)::bigint), '{}'),
         coalesce(array_agg(x.bb * 60), '{}'), coalesce(array_agg(x.ba * 60), '{}'),
         coalesce(array_agg(x.et), '{}'), coalesce(array_agg(x.ref), '{}'), coalesce(array_agg(x.seats), '{}'),
         coalesce(array_agg(x.kind), '{}'), coalesce(array_agg(x.pending), '{}'),
         extract(epoch FROM min(x.expires_at))::bigint
  FROM (
    SELECT k.start_at, k.end_at, t.buffer_before AS bb, t.buffer_after AS ba, k.event_type_id AS et, k.id AS ref,
           k.seats, 1 AS kind, (k.status = 'pending')::integer AS pending, NULL::timestamptz AS expires_at
    FROM bookings k JOIN event_types t ON t.id = k.event_type_id
    WHERE k.host_id = e.user_id AND k.status IN ('pending', 'confirmed') AND k.start_at < hi AND k.end_at > lo
      AND k.id IS DISTINCT FROM p_exclude_booking
    UNION ALL
    SELECT r.start_at, r.end_at, t.buffer_before, t.buffer_after, r.event_type_id, r.id, 1, 2, 0, r.expires_at
    FROM reservations r JOIN event_types t ON t.id = r.event_type_id
    WHERE r.host_id = e.user_id AND r.expires_at > now() AND r.start_at < hi AND r.end_at > lo
      AND r.uid IS DISTINCT FROM p_exclude_reservation
  ) x;
END $$;

-- engine_inputs for an existing booking's event type, without that booking's own time, plus the
-- booking's own fields and whether p_action is allowed in its status (refusal NULL).
-- p_user: the host, when the caller is one (others: 404); NULL when access was proven otherwise.
-- No window given: the booking's own time (a confirmation re-checks just that).
CREATE FUNCTION api.booking_inputs(p_booking bigint, p_user bigint, p_action text, p_from timestamptz,
                                   p_to timestamptz, p_reach integer, p_reach_limits integer)
RETURNS TABLE (host_id bigint, version bigint, event_type_id bigint, event_name text, duration integer,
               slot_interval integer, buffer_before integer, buffer_after integer, min_notice_hours integer,
               max_future_days integer, seats integer, limit_per_day integer, limit_per_week integer,
               requires_confirmation boolean, questions jsonb, schedule_timezone text, week_spans integer[],
               override_spans integer[], busy_start bigint[], busy_end bigint[], busy_buffer_before integer[],
               busy_buffer_after integer[], busy_event_type bigint[], busy_ref bigint[], busy_seats integer[],
               busy_kind integer[], busy_pending integer[], next_expiry bigint,
               booking_status text, booking_start bigint, booking_seats integer, booking_timezone text,
               refusal text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE b bookings;
BEGIN
  SELECT * INTO b FROM bookings k WHERE k.id = p_booking AND (p_user IS NULL OR k.host_id = p_user);
  IF b.id IS NULL THEN PERFORM api.fail(404, 'booking not found'); END IF;
  IF NOT EXISTS (SELECT 1 FROM event_types t WHERE t.id = b.event_type_id AND t.is_active) THEN
    -- the event type was deleted since: its settings still apply to this booking
    PERFORM api.fail(409, 'the event type of this booking no longer exists');
  END IF;
  RETURN QUERY
  SELECT i.*, b.status, extract(epoch FROM b.start_at)::bigint, b.seats, b.invitee_timezone,
         api.transition_refusal(b.status, p_action)
  FROM api.engine_inputs(b.event_type_id, NULL, NULL, coalesce(p_from, b.start_at), coalesce(p_to, b.end_at),
                         p_reach, p_reach_limits, NULL, b.id, true) i;
END $$;

-- ---------------------------------------------------------------- bookings

-- A booking's JSON from its row and its event type's: one expression PostgreSQL can inline
-- (about 20 us, against 73 us for a function that looks the event type up itself).
CREATE FUNCTION api.booking_json_with(b bookings, e event_types) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', b.id, 'uid', b.uid, 'event_type_id', b.event_type_id, 'event_name', e.name,
    'event_type_name', e.name, 'duration_minutes', (extract(epoch FROM b.end_at - b.start_at) / 60)::int,
    'invitee_name', b.invitee_name, 'invitee_email', b.invitee_email, 'phone', b.phone, 'notes', b.notes,
    'answers', b.answers, 'seats', b.seats,
    'start_time', api.local_ts(b.start_at, b.invitee_timezone), 'end_time', api.local_ts(b.end_at, b.invitee_timezone),
    'start', api.rfc3339(b.start_at), 'end', api.rfc3339(b.end_at),
    'status', b.status, 'timezone', b.invitee_timezone, 'confirmation_number', b.confirmation_number,
    'previous_start', api.rfc3339(b.previous_start_at), 'previous_end', api.rfc3339(b.previous_end_at),
    'reason', b.reason, 'cancelled_by', b.cancelled_by, 'no_show', b.no_show,
    'location_type', e.location_type, 'location_value', e.location_value,
    'created_at', api.ts(b.created_at), 'created_at_rfc3339', api.rfc3339(b.created_at))
$$;

CREATE OR REPLACE FUNCTION api.booking_json(b bookings) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT api.booking_json_with(b, e) FROM event_types e WHERE e.id = b.event_type_id
$$;

-- The outbox write of api.emit for a booking whose JSON the caller already has: one rendering
-- of a booking per transaction serves the event, its deliveries and the response.
CREATE FUNCTION api.emit_json(p_host bigint, p_type text, p_booking bigint, bj jsonb, p_extra jsonb DEFAULT '{}')
RETURNS void LANGUAGE plpgsql AS $$
DECLARE ev events;
BEGIN
  INSERT INTO events (host_id, type, booking_id, payload)
  VALUES (p_host, p_type, p_booking, jsonb_build_object('event', p_type, 'created_at', api.rfc3339(now()),
          'data', jsonb_build_object('booking', bj || p_extra || jsonb_build_object('event_type', bj->'event_name'))))
  RETURNING * INTO ev;
  INSERT INTO webhook_deliveries (webhook_id, event_id, event, payload)
  SELECT w.id, ev.id, p_type, ev.payload::text FROM webhooks w
  WHERE w.user_id = p_host AND w.is_active AND p_type = ANY (w.events);
  IF FOUND THEN PERFORM pg_notify('slotd_webhooks', ''); END IF;
END $$;

DROP FUNCTION api.booking_create(jsonb);
DROP FUNCTION api.booking_reschedule(bigint, bigint, bigint, bigint, text);
DROP FUNCTION api.booking_transition(bigint, bigint, text, bigint, text, text);
DROP FUNCTION api.bookings_list(bigint, text, timestamptz, timestamptz, bigint, integer, integer);

-- Creates a booking if the host's data is still what C decided on. p: host_id, version,
-- event_type_id, start, end (epoch seconds), status, seats, seated, name, email, timezone,
-- notes, phone, answers, confirmation_number, cancel_hash, reschedule_hash, confirm_hash,
-- reservation_uid, confirm_url, decline_url.
CREATE FUNCTION api.booking_create(p jsonb) RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean)
LANGUAGE plpgsql AS $$
DECLARE
  b bookings;
  e event_types;
  h bigint := (p->>'host_id')::bigint;
  v bigint;
  bj jsonb;
BEGIN
  PERFORM pg_advisory_xact_lock(h);
  SELECT u.version INTO v FROM users u WHERE u.id = h FOR UPDATE;  -- waits for an uncommitted change's bump
  IF v IS DISTINCT FROM (p->>'version')::bigint THEN RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN; END IF;
  IF p->>'reservation_uid' IS NOT NULL THEN
    DELETE FROM reservations r
    WHERE r.uid = (p->>'reservation_uid')::uuid AND r.expires_at > now() AND r.host_id = h
      AND r.event_type_id = (p->>'event_type_id')::bigint AND r.start_at = to_timestamp((p->>'start')::bigint);
    IF NOT FOUND THEN
      PERFORM api.fail(409, 'the reservation has expired or is for another time', 'reservation_uid');
    END IF;
  END IF;
  -- No exception block (it would cost a subtransaction per booking): a conflict inserts nothing.
  INSERT INTO bookings (host_id, event_type_id, start_at, end_at, status, seats, seated, invitee_name,
                        invitee_email, invitee_timezone, notes, phone, answers, confirmation_number,
                        cancel_token_hash, reschedule_token_hash, confirm_token_hash)
  VALUES (h, (p->>'event_type_id')::bigint, to_timestamp((p->>'start')::bigint), to_timestamp((p->>'end')::bigint),
          p->>'status', (p->>'seats')::int, (p->>'seated')::boolean, p->>'name', p->>'email', p->>'timezone',
          p->>'notes', p->>'phone', coalesce(p->'answers', '{}'), p->>'confirmation_number',
          p->>'cancel_hash', p->>'reschedule_hash', p->>'confirm_hash')
  ON CONFLICT DO NOTHING
  RETURNING * INTO b;
  IF b.id IS NULL THEN
    IF EXISTS (SELECT 1 FROM bookings k WHERE k.host_id = h AND k.status IN ('pending', 'confirmed') AND NOT k.seated
               AND k.during && tstzrange(to_timestamp((p->>'start')::bigint), to_timestamp((p->>'end')::bigint))) THEN
      PERFORM api.fail(409, 'time slot taken');  -- the exclusion constraint, the last line of defence
    END IF;
    RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN;  -- a confirmation number collided: C draws again
  END IF;
  SELECT * INTO e FROM event_types t WHERE t.id = b.event_type_id;
  bj := api.booking_json_with(b, e);
  PERFORM api.emit_json(h, CASE WHEN b.status = 'pending' THEN 'booking.requested' ELSE 'booking.created' END, b.id, bj,
                   CASE WHEN b.status = 'pending' AND p ? 'confirm_url' THEN jsonb_build_object(
                     'confirm_url', p->>'confirm_url', 'decline_url', p->>'decline_url') ELSE '{}' END);
  RETURN QUERY SELECT bj, ARRAY[h], false;
END $$;

-- Moves a booking (same uid) after C checked the new time; records the previous one.
CREATE FUNCTION api.booking_reschedule(p_id bigint, p_version bigint, p_start bigint, p_end bigint, p_tz text)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  b bookings;
  e event_types;
  v bigint;
  why text;
  bj jsonb;
BEGIN
  SELECT * INTO b FROM bookings k WHERE k.id = p_id;
  PERFORM pg_advisory_xact_lock(b.host_id);
  SELECT u.version INTO v FROM users u WHERE u.id = b.host_id FOR UPDATE;
  IF v IS DISTINCT FROM p_version THEN RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN; END IF;
  SELECT * INTO b FROM bookings k WHERE k.id = p_id;
  why := api.transition_refusal(b.status, 'reschedule');
  IF why IS NOT NULL THEN PERFORM api.fail(409, why, 'status:' || b.status); END IF;
  BEGIN
    UPDATE bookings SET previous_start_at = start_at, previous_end_at = end_at,
      start_at = to_timestamp(p_start), end_at = to_timestamp(p_end),
      invitee_timezone = coalesce(p_tz, invitee_timezone), updated_at = now()
    WHERE id = p_id RETURNING * INTO b;
  EXCEPTION WHEN exclusion_violation THEN PERFORM api.fail(409, 'time slot taken');
  END;
  SELECT * INTO e FROM event_types t WHERE t.id = b.event_type_id;
  bj := api.booking_json_with(b, e);
  PERFORM api.emit_json(b.host_id, 'booking.rescheduled', b.id, bj);
  RETURN QUERY SELECT bj, ARRAY[b.host_id], false;
END $$;

-- Status changes. confirm needs the version C checked (it re-decides the slot); the others do
-- not, as they only free time. Illegal moves: 409 naming the current status.
CREATE FUNCTION api.booking_transition(p_id bigint, p_user bigint, p_action text, p_version bigint, p_reason text,
                                       p_by text)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  b bookings;
  e event_types;
  v bigint;
  why text;
  bj jsonb;
BEGIN
  SELECT * INTO b FROM bookings k WHERE k.id = p_id AND (p_user IS NULL OR k.host_id = p_user);
  IF b.id IS NULL THEN PERFORM api.fail(404, 'booking not found'); END IF;
  PERFORM pg_advisory_xact_lock(b.host_id);
  IF p_action = 'confirm' THEN
    SELECT u.version INTO v FROM users u WHERE u.id = b.host_id FOR UPDATE;
    IF v IS DISTINCT FROM p_version THEN RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN; END IF;
  END IF;
  SELECT * INTO b FROM bookings k WHERE k.id = p_id FOR UPDATE;
  why := api.transition_refusal(b.status, p_action);
  IF why IS NOT NULL THEN PERFORM api.fail(409, why, 'status:' || b.status); END IF;
  IF p_action = 'no_show' AND b.start_at > now() THEN
    PERFORM api.fail(409, 'the booking has not started yet', 'status:' || b.status);
  END IF;
  UPDATE bookings SET
    status = CASE p_action WHEN 'confirm' THEN 'confirmed' WHEN 'decline' THEN 'declined'
                           WHEN 'cancel' THEN 'cancelled' ELSE status END,
    no_show = no_show OR p_action = 'no_show',
    reason = CASE WHEN p_action IN ('cancel', 'decline') THEN p_reason ELSE reason END,
    cancelled_by = CASE WHEN p_action = 'cancel' THEN coalesce(p_by, 'host') ELSE cancelled_by END,
    updated_at = now()
  WHERE id = p_id RETURNING * INTO b;
  SELECT * INTO e FROM event_types t WHERE t.id = b.event_type_id;
  bj := api.booking_json_with(b, e);
  PERFORM api.emit_json(b.host_id, CASE p_action WHEN 'confirm' THEN 'booking.confirmed' WHEN 'decline' THEN 'booking.declined'
                                            WHEN 'cancel' THEN 'booking.cancelled' ELSE 'booking.no_show' END, b.id, bj);
  RETURN QUERY SELECT bj, ARRAY[b.host_id], false;
END $$;

-- Host list: newest start first; filters; the page and the total.
CREATE FUNCTION api.bookings_list(p_user bigint, p_status text, p_from timestamptz, p_to timestamptz,
                                  p_event_type bigint, p_limit integer, p_offset integer)
RETURNS TABLE (body jsonb, total bigint) LANGUAGE sql STABLE AS $$
  WITH f AS (
    SELECT b.* FROM bookings b
    WHERE b.host_id = p_user AND (p_status IS NULL OR b.status = p_status)
      AND (p_from IS NULL OR b.start_at >= p_from) AND (p_to IS NULL OR b.start_at < p_to)
      AND (p_event_type IS NULL OR b.event_type_id = p_event_type))
  SELECT coalesce((SELECT jsonb_agg(api.booking_json_with(p, e) ORDER BY p.start_at DESC, p.id DESC)
                   FROM (SELECT * FROM f ORDER BY start_at DESC, id DESC LIMIT p_limit OFFSET p_offset) p
                   JOIN event_types e ON e.id = p.event_type_id), '[]'),
         (SELECT count(*) FROM f)
$$;

-- ---------------------------------------------------------------- reservations

-- (reservation_create takes its out-of-band shape in 0007_hardening.sql, with the per-client caps.)
DROP FUNCTION api.reservation_delete(uuid);

CREATE FUNCTION api.reservation_delete(p_uid uuid) RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean)
LANGUAGE plpgsql AS $$
DECLARE h bigint;
BEGIN
  DELETE FROM reservations r WHERE r.uid = p_uid AND r.expires_at > now() RETURNING r.host_id INTO h;
  IF h IS NULL THEN PERFORM api.fail(404, 'reservation not found or expired'); END IF;
  RETURN QUERY SELECT '{"ok": true}'::jsonb, ARRAY[h], false;
END $$;

-- ---------------------------------------------------------------- event types, schedules, page

DROP FUNCTION api.event_type_create(bigint, jsonb, text);
DROP FUNCTION api.event_type_update(bigint, bigint, jsonb);
DROP FUNCTION api.event_type_delete(bigint, bigint);
DROP FUNCTION api.schedule_save(bigint, bigint, jsonb);
DROP FUNCTION api.schedule_delete(bigint, bigint);
DROP FUNCTION api.booking_page_update(bigint, jsonb);

CREATE FUNCTION api.event_type_create(p_user bigint, p jsonb, p_slug_base text) RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean)
LANGUAGE plpgsql AS $$
DECLARE
  e event_types;
  n integer := 1;
BEGIN
  e.user_id := p_user;
  e := api.event_type_apply(e, p);
  e.id := nextval('event_types_id_seq');
  e.duration_minutes := coalesce(e.duration_minutes, 30);
  e.color := coalesce(e.color, '#0069ff');
  e.questions := coalesce(e.questions, '[]');
  e.is_secret := coalesce(e.is_secret, false);
  e.requires_confirmation := coalesce(e.requires_confirmation, false);
  e.buffer_before := coalesce(e.buffer_before, 0);
  e.buffer_after := coalesce(e.buffer_after, 0);
  e.min_notice_hours := coalesce(e.min_notice_hours, 4);
  e.max_future_days := coalesce(e.max_future_days, 60);
  e.seats := coalesce(e.seats, 1);
  e.is_active := true;
  e.created_at := now();
  e.updated_at := now();
  IF (SELECT count(*) FROM event_types WHERE user_id = p_user AND is_active) >= 500 THEN
    PERFORM api.fail(409, 'too many event types');
  END IF;
  IF e.slug IS NOT NULL THEN
    IF EXISTS (SELECT 1 FROM event_types WHERE user_id = p_user AND slug = e.slug AND is_active) THEN
      PERFORM api.fail(409, 'you already have an event type with this slug', 'slug');
    END IF;
  ELSE
    LOOP  -- from the name, made unique with a suffix
      e.slug := CASE WHEN n = 1 THEN p_slug_base ELSE p_slug_base || '-' || n END;
      EXIT WHEN NOT EXISTS (SELECT 1 FROM event_types WHERE user_id = p_user AND slug = e.slug AND is_active);
      n := n + 1;
    END LOOP;
  END IF;
  INSERT INTO event_types SELECT e.*;
  RETURN QUERY SELECT api.event_type_json(e), ARRAY[p_user], false;
EXCEPTION WHEN unique_violation THEN
  PERFORM api.fail(409, 'you already have an event type with this slug', 'slug');
  RETURN;
END $$;

CREATE FUNCTION api.event_type_update(p_user bigint, p_id bigint, p jsonb) RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE e event_types;
BEGIN
  SELECT * INTO e FROM event_types WHERE id = p_id AND user_id = p_user AND is_active FOR UPDATE;
  IF e.id IS NULL THEN PERFORM api.fail(404, 'event type not found'); END IF;
  e := api.event_type_apply(e, p);
  e.updated_at := now();
  UPDATE event_types SET (name, slug, duration_minutes, description, color, location_type, location_value,
      questions, is_secret, requires_confirmation, buffer_before, buffer_after, min_notice_hours,
      max_future_days, slot_interval_minutes, schedule_id, price, currency, seats, limit_per_day,
      limit_per_week, updated_at)
    = (e.name, e.slug, e.duration_minutes, e.description, e.color, e.location_type, e.location_value,
      e.questions, e.is_secret, e.requires_confirmation, e.buffer_before, e.buffer_after, e.min_notice_hours,
      e.max_future_days, e.slot_interval_minutes, e.schedule_id, e.price, e.currency, e.seats, e.limit_per_day,
      e.limit_per_week, e.updated_at)
  WHERE id = p_id;
  RETURN QUERY SELECT api.event_type_json(e), ARRAY[p_user], false;
EXCEPTION WHEN unique_violation THEN
  PERFORM api.fail(409, 'you already have an event type with this slug', 'slug');
  RETURN;
END $$;

CREATE FUNCTION api.event_type_delete(p_user bigint, p_id bigint) RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
BEGIN
  UPDATE event_types SET is_active = false, updated_at = now()
  WHERE id = p_id AND user_id = p_user AND is_active;
  IF NOT FOUND THEN PERFORM api.fail(404, 'event type not found'); END IF;
  RETURN QUERY SELECT '{"ok": true}'::jsonb, ARRAY[p_user], false;
END $$;

CREATE FUNCTION api.schedule_save(p_user bigint, p_id bigint, p jsonb) RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE s availability_schedules;
BEGIN
  PERFORM 1 FROM users WHERE id = p_user FOR UPDATE;  -- one writer per user: "exactly one default"
  IF p_id IS NULL THEN
    IF (SELECT count(*) FROM availability_schedules WHERE user_id = p_user) >= 100 THEN
      PERFORM api.fail(409, 'too many schedules');
    END IF;
    INSERT INTO availability_schedules (user_id, name, timezone, rules, overrides, is_default)
    VALUES (p_user, p->>'name', coalesce(p->>'timezone', 'America/Los_Angeles'), coalesce(p->'rules', '[]'),
            coalesce(p->'overrides', '[]'), false)
    RETURNING * INTO s;
    -- the first schedule is the default; asking for default moves it here
    IF coalesce((p->>'is_default')::boolean, false)
       OR NOT EXISTS (SELECT 1 FROM availability_schedules WHERE user_id = p_user AND is_default) THEN
      UPDATE availability_schedules SET is_default = false WHERE user_id = p_user AND is_default;
      UPDATE availability_schedules SET is_default = true WHERE id = s.id RETURNING * INTO s;
    END IF;
  ELSE
    SELECT * INTO s FROM availability_schedules WHERE id = p_id AND user_id = p_user;
    IF s.id IS NULL THEN PERFORM api.fail(404, 'schedule not found'); END IF;
    IF p ? 'is_default' AND NOT (p->>'is_default')::boolean AND s.is_default THEN
      PERFORM api.fail(409, 'a user always has one default schedule: make another one the default instead',
                       'is_default');
    END IF;
    IF coalesce((p->>'is_default')::boolean, false) AND NOT s.is_default THEN
      UPDATE availability_schedules SET is_default = false WHERE user_id = p_user AND is_default;
    END IF;
    UPDATE availability_schedules SET
      name = coalesce(p->>'name', name),
      timezone = coalesce(p->>'timezone', timezone),
      rules = coalesce(p->'rules', rules),
      overrides = coalesce(p->'overrides', overrides),
      is_default = is_default OR coalesce((p->>'is_default')::boolean, false),
      updated_at = now()
    WHERE id = p_id RETURNING * INTO s;
  END IF;
  RETURN QUERY SELECT api.schedule_json(s), ARRAY[p_user], false;
END $$;

CREATE FUNCTION api.schedule_delete(p_user bigint, p_id bigint) RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE s availability_schedules;
BEGIN
  PERFORM 1 FROM users WHERE id = p_user FOR UPDATE;
  SELECT * INTO s FROM availability_schedules WHERE id = p_id AND user_id = p_user;
  IF s.id IS NULL THEN PERFORM api.fail(404, 'schedule not found'); END IF;
  IF s.is_default THEN
    IF NOT EXISTS (SELECT 1 FROM availability_schedules WHERE user_id = p_user AND id <> p_id) THEN
      PERFORM api.fail(409, 'the only schedule cannot be deleted');
    END IF;
    -- the oldest remaining schedule becomes the default
    DELETE FROM availability_schedules WHERE id = p_id;
    UPDATE availability_schedules SET is_default = true
    WHERE id = (SELECT min(id) FROM availability_schedules WHERE user_id = p_user);
  ELSE
    DELETE FROM availability_schedules WHERE id = p_id;
  END IF;
  RETURN QUERY SELECT '{"ok": true}'::jsonb, ARRAY[p_user], false;
END $$;

CREATE FUNCTION api.booking_page_update(p_user bigint, p_patch jsonb) RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE b booking_pages;
BEGIN
  UPDATE booking_pages SET
    slug = coalesce(p_patch->>'slug', slug),
    display_name = coalesce(p_patch->>'display_name', display_name),
    bio = CASE WHEN p_patch ? 'bio' THEN p_patch->>'bio' ELSE bio END,
    brand_color = CASE WHEN p_patch ? 'brand_color' THEN p_patch->>'brand_color' ELSE brand_color END,
    welcome_message = CASE WHEN p_patch ? 'welcome_message' THEN p_patch->>'welcome_message' ELSE welcome_message END,
    updated_at = now()
  WHERE user_id = p_user RETURNING * INTO b;
  IF b.id IS NULL THEN PERFORM api.fail(404, 'booking page not found'); END IF;
  RETURN QUERY SELECT api.booking_page_json(b), ARRAY[p_user], false;  -- a slug change moves its cache
EXCEPTION WHEN unique_violation THEN
  PERFORM api.fail(409, 'this slug is already taken', 'slug');
  RETURN;
END $$;

-- ---------------------------------------------------------------- webhook deliveries

DROP FUNCTION api.deliveries_list(bigint, bigint, integer, integer);
CREATE FUNCTION api.deliveries_list(p_user bigint, p_id bigint, p_limit integer, p_offset integer)
RETURNS TABLE (body jsonb, total bigint) LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = p_id AND w.user_id = p_user) THEN
    PERFORM api.fail(404, 'webhook not found');
  END IF;
  RETURN QUERY
  SELECT coalesce((SELECT jsonb_agg(api.delivery_json(d) ORDER BY d.id DESC)
                   FROM (SELECT * FROM webhook_deliveries x WHERE x.webhook_id = p_id
                         ORDER BY x.id DESC LIMIT p_limit OFFSET p_offset) d), '[]'),
         (SELECT count(*) FROM webhook_deliveries x WHERE x.webhook_id = p_id);
END $$;
