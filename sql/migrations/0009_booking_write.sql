-- Performance (issue 11): the booking write, measured statement by statement with pgbench.
--
-- api.ts and api.rfc3339 were declared IMMUTABLE around a STABLE body (to_char), so the planner
-- never inlined them: each call site ran through the SQL-function executor, which parses and
-- plans the body once per call site per query -- six parses per booking rendering, ~110 us of
-- PostgreSQL CPU per booking written. STABLE (what the body is) lets them inline.
ALTER FUNCTION api.ts(timestamptz) STABLE;
ALTER FUNCTION api.rfc3339(timestamptz) STABLE;

-- The host's version is checked and bumped by one UPDATE (which waits for any uncommitted change
-- of the host and re-reads the row after it, so a concurrent change makes it match nothing), in
-- place of SELECT ... FOR UPDATE here followed by the trigger's UPDATE. The transaction then
-- tells the bookings INSERT trigger which hosts it bumped itself (slotd.bumped: their ids,
-- comma-separated): every other writer of bookings, a plain INSERT included, still bumps through
-- the trigger. The WHEN clause uses built-in functions only: a trigger's WHEN is executed from
-- its stored expression, never planned, so a SQL function there would not be inlined but parsed
-- and planned for every INSERT statement (~40 us of PostgreSQL CPU per booking, measured).
DROP TRIGGER bookings_host_changed ON bookings;
CREATE TRIGGER bookings_host_changed AFTER UPDATE OR DELETE ON bookings
  FOR EACH ROW EXECUTE FUNCTION api.host_changed();
CREATE TRIGGER bookings_host_inserted AFTER INSERT ON bookings
  FOR EACH ROW WHEN (NOT coalesce(NEW.host_id::text = ANY (string_to_array(current_setting('slotd.bumped', true), ',')),
                                  false))
  EXECUTE FUNCTION api.host_changed();

-- Positional parameters instead of one jsonb document (no jsonb parse, no key lookups); the
-- outbox rows written by one statement; a confirmation-number collision is the only conflict
-- ON CONFLICT absorbs (C draws again) -- with the version matched under the host's lock the
-- exclusion constraint cannot fire unless something bypassed the protocol, and then it raises
-- 23P01, which the API answers 409 "time slot taken".
DROP FUNCTION api.booking_create(jsonb);
CREATE FUNCTION api.booking_create(p_host bigint, p_version bigint, p_event_type bigint, p_start bigint, p_end bigint,
  p_status text, p_seats integer, p_seated boolean, p_name text, p_email text, p_timezone text, p_notes text,
  p_phone text, p_answers jsonb, p_number text, p_cancel_hash text, p_reschedule_hash text, p_confirm_hash text,
  p_reservation uuid, p_confirm_url text, p_decline_url text)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean)
LANGUAGE plpgsql AS $$
DECLARE
  b bookings;
  bj jsonb;
  ty text;
BEGIN
  PERFORM pg_advisory_xact_lock(p_host);
  UPDATE users u SET version = u.version + 1 WHERE u.id = p_host AND u.version = p_version;
  IF NOT FOUND THEN RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN; END IF;
  PERFORM set_config('slotd.bumped', p_host::text, true);
  IF p_reservation IS NOT NULL THEN
    DELETE FROM reservations r
    WHERE r.uid = p_reservation AND r.expires_at > now() AND r.host_id = p_host
      AND r.event_type_id = p_event_type AND r.start_at = to_timestamp(p_start);
    IF NOT FOUND THEN
      PERFORM api.fail(409, 'the reservation has expired or is for another time', 'reservation_uid');
    END IF;
  END IF;
  INSERT INTO bookings (host_id, event_type_id, start_at, end_at, status, seats, seated, invitee_name,
                        invitee_email, invitee_timezone, notes, phone, answers, confirmation_number,
                        cancel_token_hash, reschedule_token_hash, confirm_token_hash)
  VALUES (p_host, p_event_type, to_timestamp(p_start), to_timestamp(p_end), p_status, p_seats, p_seated, p_name,
          p_email, p_timezone, p_notes, p_phone, coalesce(p_answers, '{}'), p_number, p_cancel_hash,
          p_reschedule_hash, p_confirm_hash)
  ON CONFLICT (confirmation_number) DO NOTHING
  RETURNING * INTO b;
  IF b.id IS NULL THEN  -- a confirmation number collided: C reads and draws again
    PERFORM pg_notify('slotd_host', p_host::text);
    RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN;
  END IF;
  SELECT api.booking_json_with(b, e) INTO bj FROM event_types e WHERE e.id = b.event_type_id;
  ty := CASE WHEN b.status = 'pending' THEN 'booking.requested' ELSE 'booking.created' END;
  WITH ev AS (
    INSERT INTO events (host_id, type, booking_id, payload)
    VALUES (p_host, ty, b.id, jsonb_build_object('event', ty, 'created_at', api.rfc3339(now()),
            'data', jsonb_build_object('booking', bj || jsonb_build_object('event_type', bj->'event_name')
              || CASE WHEN b.status = 'pending' AND p_confirm_url IS NOT NULL THEN jsonb_build_object(
                   'confirm_url', p_confirm_url, 'decline_url', p_decline_url) ELSE '{}' END)))
    RETURNING id, payload)
  INSERT INTO webhook_deliveries (webhook_id, event_id, event, payload)
  SELECT w.id, ev.id, ty, ev.payload::text FROM ev, webhooks w
  WHERE w.user_id = p_host AND w.is_active AND ty = ANY (w.events);
  IF FOUND THEN PERFORM pg_notify('slotd_webhooks', ''); END IF;
  PERFORM pg_notify('slotd_host', p_host::text);
  RETURN QUERY SELECT bj, ARRAY[p_host], false;
END $$;
