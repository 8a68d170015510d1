-- Booking-core features issue 16 (Cal.com v2) needs, for every dialect:
--   * a reschedule that makes a NEW booking (new uid, new tokens and confirmation number) and
--     cancels the old one, linked both ways, in one transaction (Cal.com's model; the native
--     reschedule still moves a booking in place);
--   * several lengths per event type (Cal.com's lengthInMinutesOptions): event_types.durations,
--     the lengths an invitee may pick (duration_minutes is the default and always among them).

ALTER TABLE bookings
  ADD COLUMN rescheduled_from  bigint REFERENCES bookings ON DELETE SET NULL,
  ADD COLUMN rescheduled_to    bigint REFERENCES bookings ON DELETE SET NULL,
  ADD COLUMN reschedule_reason text,
  ADD COLUMN rescheduled_by    text;

ALTER TABLE event_types
  ADD COLUMN durations integer[] CHECK (durations IS NULL OR (cardinality(durations) BETWEEN 1 AND 12
    AND 0 < ALL (durations) AND 1440 >= ALL (durations) AND duration_minutes = ANY (durations)));

-- The native booking object, with the links of a reschedule that made a new booking.
CREATE OR REPLACE FUNCTION api.booking_json_with(b bookings, e event_types) RETURNS jsonb LANGUAGE sql STABLE AS $$
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
    'location_type', e.location_type, 'location_value', e.location_value, 'customer_id', b.customer_id,
    'payment_status', b.payment_status, 'amount_due', b.amount_due,
    'amount_paid', CASE WHEN b.amount_due IS NOT NULL THEN b.amount_paid END,
    'amount_refunded', CASE WHEN b.amount_due IS NOT NULL THEN b.amount_refunded END,
    'currency', b.currency, 'payment_expires_at', api.rfc3339(b.payment_expires_at),
    'created_at', api.ts(b.created_at), 'created_at_rfc3339', api.rfc3339(b.created_at))
  || CASE WHEN b.rescheduled_from IS NULL AND b.rescheduled_to IS NULL THEN '{}'::jsonb
          ELSE jsonb_build_object(
            'rescheduled_from_uid', (SELECT p.uid FROM bookings p WHERE p.id = b.rescheduled_from),
            'rescheduled_to_uid', (SELECT n.uid FROM bookings n WHERE n.id = b.rescheduled_to),
            'reschedule_reason', b.reschedule_reason, 'rescheduled_by', b.rescheduled_by) END
  || CASE WHEN e.org_id IS NULL THEN '{}'::jsonb ELSE api.booking_org_json(b, e) END
$$;

-- A reschedule as a new booking. C has decided the new time on the host's data at p_version
-- (api.booking_inputs with the booking's own time excluded, as for a move); here, under the
-- host's lock: the version check (stale: C reads and decides again), the transition rule, the
-- old booking cancelled (its time freed first, so a move by less than its length works), the
-- new one inserted with the old one's invitee, answers, seats, customer and money fields and new
-- tokens, both linked, one booking.rescheduled event (about the new booking, naming the old),
-- and the mails: the old booking's cancellation (its invitation withdrawn) and the new one's
-- invitation with its new links (p_mail: the sealed tokens, as for a new booking).
CREATE FUNCTION api.booking_rebook(p_id bigint, p_version bigint, p_start bigint, p_end bigint, p_tz text,
  p_reason text, p_by text, p_number text, p_cancel_hash text, p_reschedule_hash text, p_confirm_hash text,
  p_mail text)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  b bookings;
  n bookings;
  e event_types;
  v bigint;
  why text;
  bj jsonb;
BEGIN
  SELECT * INTO b FROM bookings k WHERE k.id = p_id;
  IF b.id IS NULL OR b.parent_id IS NOT NULL THEN PERFORM api.fail(404, 'booking not found'); END IF;
  IF EXISTS (SELECT 1 FROM bookings s WHERE s.parent_id = p_id) THEN
    PERFORM api.fail(409, 'a booking with several hosts cannot be moved; cancel it and book a new time');
  END IF;
  PERFORM pg_advisory_xact_lock(b.host_id);
  SELECT u.version INTO v FROM users u WHERE u.id = b.host_id FOR UPDATE;
  IF v IS DISTINCT FROM p_version THEN RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN; END IF;
  SELECT * INTO b FROM bookings k WHERE k.id = p_id;
  why := api.transition_refusal(b.status, 'reschedule');
  IF why IS NOT NULL THEN PERFORM api.fail(409, why, 'status:' || b.status); END IF;
  UPDATE bookings SET status = 'cancelled', cancelled_by = coalesce(p_by, 'invitee'),
    reason = coalesce(p_reason, 'rescheduled'), updated_at = now()
  WHERE id = p_id;
  BEGIN
    INSERT INTO bookings (host_id, event_type_id, start_at, end_at, status, seats, seated, invitee_name,
                          invitee_email, invitee_timezone, notes, phone, answers, confirmation_number,
                          cancel_token_hash, reschedule_token_hash, confirm_token_hash, customer_id, amount_due,
                          currency, payment_status, notify_invitee, rescheduled_from, reschedule_reason,
                          rescheduled_by)
    SELECT b.host_id, b.event_type_id, to_timestamp(p_start), to_timestamp(p_end), b.status, b.seats, b.seated,
           b.invitee_name, b.invitee_email, coalesce(p_tz, b.invitee_timezone), b.notes, b.phone, b.answers, p_number,
           p_cancel_hash, p_reschedule_hash, CASE WHEN b.status = 'pending' THEN p_confirm_hash END, b.customer_id,
           b.amount_due, b.currency, b.payment_status, b.notify_invitee, b.id, p_reason, p_by
    ON CONFLICT (confirmation_number) DO NOTHING
    RETURNING * INTO n;
  EXCEPTION WHEN exclusion_violation THEN PERFORM api.fail(409, 'time slot taken');
  END;
  IF n.id IS NULL THEN  -- a confirmation number collided: C draws again (the cancel rolls back)
    RAISE EXCEPTION USING ERRCODE = 'SL409', MESSAGE = 'confirmation number collision, retry';
  END IF;
  UPDATE bookings SET rescheduled_to = n.id WHERE id = p_id;
  SELECT * INTO e FROM event_types t WHERE t.id = n.event_type_id;
  bj := api.booking_json_with(n, e);
  PERFORM api.emit_json(n.host_id, 'booking.rescheduled', n.id,
                        bj || jsonb_build_object('previous_start', api.rfc3339(b.start_at),
                                                 'previous_end', api.rfc3339(b.end_at)));
  IF current_setting('slotd.mail', true) = 'on' THEN PERFORM api.mail_created(n, p_mail); END IF;
  RETURN QUERY SELECT bj, ARRAY[n.host_id], false;
END $$;
