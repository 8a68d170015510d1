-- Review fixes to multi-host scheduling (issue 12).
--
-- * A collective booking is not moved: its new time would have to be judged on every host
--   (schedules in their zones, time off, holds, limits), not on the primary alone. Refused
--   with 409 (cancel and book again) -- in the read before the move and in the write.
-- * A status change of a collective booking takes every host's advisory lock and row lock in
--   ascending id order before the shadows follow (a shadow's version bump without its host's
--   lock could deadlock against a booking on that host), and every host's webhooks hear it
--   (the org's once).
-- * An org event type's scheduling does not change while it has live bookings (a collective
--   booking's shadow rows would be left behind, and round-robin rows read as collective).
-- * A reassignment moves the booking only if it is still at the time C decided on, and only a
--   current member of the org who hosts it (or the org's admins and keys) may ask for it.


CREATE OR REPLACE FUNCTION api.booking_inputs(p_booking bigint, p_user bigint, p_action text, p_from timestamptz,
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
  SELECT * INTO b FROM bookings k WHERE k.id = p_booking AND k.parent_id IS NULL;
  IF b.id IS NULL OR (p_user IS NOT NULL AND api.booking_id_for_host(p_user, p_booking) IS NULL) THEN
    PERFORM api.fail(404, 'booking not found');
  END IF;
  IF p_action = 'reschedule' AND EXISTS (SELECT 1 FROM bookings s WHERE s.parent_id = b.id) THEN
    PERFORM api.fail(409, 'a booking with several hosts cannot be moved; cancel it and book a new time');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM event_types t WHERE t.id = b.event_type_id AND t.is_active) THEN
    -- the event type was deleted since: its settings still apply to this booking
    PERFORM api.fail(409, 'the event type of this booking no longer exists');
  END IF;
  RETURN QUERY
  SELECT i.*, b.status, extract(epoch FROM b.start_at)::bigint, b.seats, b.invitee_timezone,
         api.transition_refusal(b.status, p_action)
  FROM api.engine_inputs(b.event_type_id, NULL, NULL, coalesce(p_from, b.start_at), coalesce(p_to, b.end_at),
                         p_reach, p_reach_limits, NULL, b.id, true, b.host_id) i;
END $$;

CREATE OR REPLACE FUNCTION api.booking_reschedule(p_id bigint, p_version bigint, p_start bigint, p_end bigint, p_tz text)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  b bookings;
  e event_types;
  v bigint;
  why text;
  bj jsonb;
BEGIN
  SELECT * INTO b FROM bookings k WHERE k.id = p_id;
  IF EXISTS (SELECT 1 FROM bookings s WHERE s.parent_id = p_id) THEN
    PERFORM api.fail(409, 'a booking with several hosts cannot be moved; cancel it and book a new time');
  END IF;
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

CREATE OR REPLACE FUNCTION api.booking_transition(p_id bigint, p_user bigint, p_action text, p_version bigint, p_reason text,
                                       p_by text)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  hosts bigint[];
  h bigint;
  b bookings;
  e event_types;
  v bigint;
  why text;
  bj jsonb;
BEGIN
  SELECT * INTO b FROM bookings k WHERE k.id = p_id AND k.parent_id IS NULL
    AND (p_user IS NULL OR k.host_id = p_user OR EXISTS (SELECT 1 FROM bookings s WHERE s.parent_id = k.id AND s.host_id = p_user));
  IF b.id IS NULL THEN PERFORM api.fail(404, 'booking not found'); END IF;
  hosts := b.host_id || ARRAY(SELECT s.host_id FROM bookings s WHERE s.parent_id = b.id ORDER BY s.host_id);
  FOREACH h IN ARRAY (SELECT array_agg(x ORDER BY x) FROM unnest(hosts) x) LOOP PERFORM pg_advisory_xact_lock(h); END LOOP;
  IF cardinality(hosts) > 1 THEN  -- the shadows' hosts' rows too, in the same order
    PERFORM 1 FROM users u WHERE u.id = ANY (hosts) ORDER BY u.id FOR UPDATE;
  END IF;
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
  FOREACH h IN ARRAY hosts LOOP  -- every host hears it; the org once (with the primary's)
    PERFORM api.emit_json(h, CASE p_action WHEN 'confirm' THEN 'booking.confirmed' WHEN 'decline' THEN 'booking.declined'
                                           WHEN 'cancel' THEN 'booking.cancelled' ELSE 'booking.no_show' END, b.id, bj,
                          '{}', h = b.host_id);
  END LOOP;
  RETURN QUERY SELECT bj, hosts, false;
END $$;

CREATE OR REPLACE FUNCTION api.org_event_type_update(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint, p jsonb)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  e event_types;
  before bigint[];
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  e := api.org_event_type_find(p_org, p_id);
  PERFORM 1 FROM event_types t WHERE t.id = e.id FOR UPDATE;
  before := ARRAY(SELECT h.user_id FROM event_type_hosts h WHERE h.event_type_id = e.id);
  IF p ? 'scheduling' AND p->>'scheduling' IS DISTINCT FROM e.scheduling AND EXISTS (
       SELECT 1 FROM bookings k WHERE k.event_type_id = e.id AND k.status IN ('pending', 'confirmed')
         AND k.end_at > now()) THEN
    PERFORM api.fail(409, 'scheduling cannot change while the event type has upcoming bookings', 'scheduling');
  END IF;
  e := api.org_event_type_apply(e, p);
  e.updated_at := now();
  IF p ? 'slug' AND EXISTS (SELECT 1 FROM event_types WHERE org_id = p_org AND slug = e.slug AND is_active
                            AND id <> e.id) THEN
    PERFORM api.fail(409, 'this organisation already has an event type with this slug', 'slug');
  END IF;
  UPDATE event_types t SET name = e.name, slug = e.slug, duration_minutes = e.duration_minutes,
    description = e.description, color = e.color, location_type = e.location_type, location_value = e.location_value,
    questions = e.questions, is_secret = e.is_secret, requires_confirmation = e.requires_confirmation,
    buffer_before = e.buffer_before, buffer_after = e.buffer_after, min_notice_hours = e.min_notice_hours,
    max_future_days = e.max_future_days, slot_interval_minutes = e.slot_interval_minutes, price = e.price,
    currency = e.currency, seats = e.seats, limit_per_day = e.limit_per_day, limit_per_week = e.limit_per_week,
    team_id = e.team_id, scheduling = e.scheduling, updated_at = e.updated_at
  WHERE t.id = e.id;
  PERFORM api.org_event_type_set_hosts(e, p);
  RETURN QUERY SELECT api.org_event_type_json(e),
    ARRAY(SELECT DISTINCT x FROM unnest(before || ARRAY(SELECT h.user_id FROM event_type_hosts h
                                                        WHERE h.event_type_id = e.id)) x), false;
EXCEPTION WHEN unique_violation THEN
  PERFORM api.fail(409, 'this organisation already has an event type with this slug', 'slug');
  RETURN;
END $$;

CREATE OR REPLACE FUNCTION api.booking_reassign_info(p_booking bigint, p_user bigint, p_key_org bigint)
RETURNS TABLE (event_type_id bigint, start_epoch bigint, host_id bigint, seats integer, invitee_timezone text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  b bookings;
  e event_types;
  r text;
BEGIN
  SELECT * INTO b FROM bookings k WHERE k.id = p_booking AND k.parent_id IS NULL;
  IF b.id IS NOT NULL THEN SELECT * INTO e FROM event_types t WHERE t.id = b.event_type_id; END IF;
  IF e.org_id IS NOT NULL THEN r := api.org_role(e.org_id, p_user, p_key_org); END IF;
  IF b.id IS NULL OR NOT (coalesce(r IN ('owner', 'admin'), false)
                          OR (p_key_org IS NULL AND b.host_id = p_user AND r IS NOT NULL)) THEN
    PERFORM api.fail(404, 'booking not found');
  END IF;
  IF e.scheduling IS DISTINCT FROM 'round_robin' OR EXISTS (SELECT 1 FROM bookings s WHERE s.parent_id = b.id) THEN
    PERFORM api.fail(409, 'only bookings of round-robin event types can be reassigned');
  END IF;
  IF b.status NOT IN ('pending', 'confirmed') THEN
    PERFORM api.fail(409, 'only pending or confirmed bookings can be reassigned', 'status:' || b.status);
  END IF;
  RETURN QUERY SELECT b.event_type_id, extract(epoch FROM b.start_at)::bigint, b.host_id, b.seats, b.invitee_timezone;
END $$;

DROP FUNCTION api.booking_reassign(bigint, bigint, bigint, bigint);
CREATE FUNCTION api.booking_reassign(p_booking bigint, p_host bigint, p_version bigint, p_old bigint,
                                      p_start bigint)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  b bookings;
  bj jsonb;
  prev jsonb;
BEGIN
  PERFORM pg_advisory_xact_lock(least(p_host, p_old));
  PERFORM pg_advisory_xact_lock(greatest(p_host, p_old));
  UPDATE users u SET version = u.version + 1 WHERE u.id = p_host AND u.version = p_version;
  IF NOT FOUND THEN RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN; END IF;
  UPDATE bookings k SET host_id = p_host, updated_at = now()
  WHERE k.id = p_booking AND k.host_id = p_old AND k.status IN ('pending', 'confirmed')
    AND k.start_at = to_timestamp(p_start) AND k.parent_id IS NULL
  RETURNING * INTO b;
  IF b.id IS NULL THEN RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN; END IF;
  UPDATE users u SET version = u.version + 1 WHERE u.id = p_old;  -- the old host's time is free again
  PERFORM pg_notify('slotd_host', p_old::text);
  SELECT api.booking_json_with(b, e) INTO bj FROM event_types e WHERE e.id = b.event_type_id;
  SELECT jsonb_build_object('previous_host', jsonb_build_object('id', u.id, 'name', u.name, 'email', u.email::text))
    INTO prev FROM users u WHERE u.id = p_old;
  PERFORM api.emit_json(p_host, 'booking.reassigned', b.id, bj, prev);
  PERFORM api.emit_json(p_old, 'booking.reassigned', b.id, bj, prev, false);
  RETURN QUERY SELECT bj, ARRAY[p_host, p_old], false;
END $$;
