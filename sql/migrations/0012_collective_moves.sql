-- A booking with several hosts (collective, issue 12) is not moved: its new time would have to
-- be judged on every host (schedules in their zones, time off, holds, limits), not on the
-- primary alone. api.booking_inputs refuses it before the move (0011); the write refuses it too.
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
