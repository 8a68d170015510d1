-- 0023_calcom_slots: Cal.com API v2 (issue 16), cal-api-version 2024-09-04: GET /v2/slots and
-- the slot reservations (src/api/compat/calcom_slots.c). Nothing here decides whether a time is
-- free: the engine does (availability_slots, book_hold). These functions only resolve Cal.com's
-- ways of naming things to slotd's ids, and say which of Cal.com's refusals applies.

-- JavaScript's toISOString of an instant, in whole seconds as the rest of the dialect prints
-- them (calcom_iso in C): '2050-09-05T07:00:00.000Z'.
CREATE FUNCTION api.calcom_slots_iso(t timestamptz) RETURNS text LANGUAGE sql STABLE AS
$$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS".000Z"') $$;

-- The event type a GET /v2/slots names: by id; by username (a booking page's slug) and event
-- slug, in organizationSlug's org when given (the user must be a member); or by teamSlug (a
-- Cal.com team is a slotd org) and event slug, where organizationSlug, when given, must be that
-- same org. Hidden types: by id only for their owner (the personal type's user, a member of an
-- org type's org), by slug for anyone, as the native public endpoints serve them. Also the id of
-- the booking being rescheduled (its own time stays offered) -- only a booking of this event
-- type, else nothing is excluded -- and the type's length, other lengths ('30, 60') and capacity.
CREATE FUNCTION api.calcom_slots_target(p_event_type bigint, p_username text, p_team_slug text, p_org_slug text,
                                        p_event_slug text, p_user bigint, p_reschedule uuid)
RETURNS TABLE (event_type_id bigint, exclude_booking bigint, duration integer, lengths text, seats integer)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  e event_types;
  pg bigint;
  og bigint;
BEGIN
  IF p_event_type IS NOT NULL THEN
    SELECT * INTO e FROM event_types t WHERE t.id = p_event_type AND t.is_active;
    IF e.is_secret AND NOT (e.user_id IS NOT DISTINCT FROM p_user OR EXISTS (
        SELECT 1 FROM org_members m WHERE m.org_id = e.org_id AND m.user_id = p_user)) THEN
      e := NULL;
    END IF;
  ELSIF p_username IS NOT NULL THEN
    SELECT b.user_id INTO pg FROM booking_pages b WHERE b.slug = p_username::citext;
    IF pg IS NOT NULL AND p_org_slug IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM org_members m JOIN orgs o ON o.id = m.org_id
        WHERE o.slug = p_org_slug::citext AND m.user_id = pg) THEN
      pg := NULL;
    END IF;
    IF pg IS NULL THEN PERFORM api.fail(404, 'User with username ' || p_username || ' not found', 'username'); END IF;
    SELECT * INTO e FROM event_types t WHERE t.user_id = pg AND t.slug = p_event_slug AND t.is_active;
  ELSE
    SELECT o.id INTO og FROM orgs o
    WHERE o.slug = p_team_slug::citext AND (p_org_slug IS NULL OR o.slug = p_org_slug::citext);
    IF og IS NULL THEN PERFORM api.fail(404, 'Team with slug ' || p_team_slug || ' not found', 'teamSlug'); END IF;
    SELECT * INTO e FROM event_types t WHERE t.org_id = og AND t.slug = p_event_slug AND t.is_active;
  END IF;
  IF e.id IS NULL THEN PERFORM api.fail(404, 'Event Type not found'); END IF;
  RETURN QUERY
  SELECT e.id, (SELECT k.id FROM bookings k WHERE (k.uid = p_reschedule OR (k.seated AND k.parent_id IS NULL
                   AND api.calcom_group_uid(k.uid) = p_reschedule)) AND k.event_type_id = e.id ORDER BY k.id LIMIT 1),
         e.duration_minutes,
         array_to_string(e.durations, ', '), e.seats;
END $$;

-- The booking at each start of a seated type's window (Cal.com's slot bookingUid): of the
-- bookings taking seats there, the first made. Active as the engine counts them; the booking
-- being rescheduled left out, as its seats are.
CREATE FUNCTION api.calcom_slot_bookings(p_event_type bigint, p_from bigint, p_to bigint, p_exclude bigint)
RETURNS TABLE (start_at bigint, uid uuid) LANGUAGE sql STABLE AS $$
  SELECT DISTINCT ON (k.start_at) extract(epoch FROM k.start_at)::bigint, api.calcom_public_uid(k)
  FROM bookings k
  WHERE k.event_type_id = p_event_type AND k.start_at >= to_timestamp(p_from) AND k.start_at < to_timestamp(p_to)
    AND k.status IN ('pending', 'confirmed', 'pending_payment') AND k.parent_id IS NULL
    AND k.id IS DISTINCT FROM p_exclude
  ORDER BY k.start_at, k.id
$$;

-- Before a reservation is made (or moved: p_uid, which must be live): the event type (public
-- ones, as holds read them) with its lengths, whether the caller may choose the reservation's
-- length (the personal type's host; a member of an org type's org), and which of Cal.com's
-- refusals the interval [start, start + p_length or the type's length) meets, in Cal.com's
-- order: 'full' (a seated time without seats left), 'booked' (another active booking of the
-- host overlaps), 'reserved' (a live hold of the host overlaps -- the moved one too, as in
-- Cal.com). NULL: none; the engine decides.
CREATE FUNCTION api.calcom_reservation_check(p_event_type bigint, p_start bigint, p_length integer, p_user bigint,
                                             p_uid uuid)
RETURNS TABLE (host_id bigint, duration integer, lengths text, related boolean, conflict text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  e event_types;
  lo timestamptz := to_timestamp(p_start);
  hi timestamptz;
  taken integer;
BEGIN
  IF p_uid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.uid = p_uid AND r.expires_at > now()) THEN
    PERFORM api.fail(404, 'Slot with uid=' || p_uid || ' not found');
  END IF;
  SELECT * INTO e FROM event_types t WHERE t.id = p_event_type AND t.is_active AND NOT t.is_secret;
  IF e.id IS NULL THEN
    PERFORM api.fail(404, 'Event Type with ID=' || p_event_type || ' not found', 'eventTypeId');
  END IF;
  hi := lo + make_interval(mins => coalesce(p_length, e.duration_minutes));
  host_id := e.user_id;
  duration := e.duration_minutes;
  lengths := array_to_string(e.durations, ', ');
  related := p_user IS NOT NULL AND (e.user_id = p_user
             OR EXISTS (SELECT 1 FROM org_members m WHERE m.org_id = e.org_id AND m.user_id = p_user));
  IF e.user_id IS NOT NULL THEN
    IF e.seats > 1 THEN
      SELECT coalesce(sum(k.seats), 0) INTO taken FROM bookings k
      WHERE k.event_type_id = e.id AND k.start_at = lo AND k.status IN ('pending', 'confirmed', 'pending_payment');
      IF taken >= e.seats THEN conflict := 'full'; END IF;
    END IF;
    IF conflict IS NULL AND EXISTS (
        SELECT 1 FROM bookings k WHERE k.host_id = e.user_id AND k.status IN ('pending', 'confirmed', 'pending_payment')
          AND k.start_at < hi AND k.end_at > lo
          AND NOT (e.seats > 1 AND k.event_type_id = e.id AND k.start_at = lo)) THEN
      conflict := 'booked';
    END IF;
    IF conflict IS NULL AND EXISTS (
        SELECT 1 FROM reservations r WHERE r.host_id = e.user_id AND r.expires_at > now()
          AND r.start_at < hi AND r.end_at > lo) THEN
      conflict := 'reserved';
    END IF;
  END IF;
  RETURN NEXT;
END $$;

-- A reservation in Cal.com's words (ReserveSlotOutput without reservationDuration, which is not
-- kept: the answers that carry it know it from the request).
CREATE FUNCTION api.calcom_reservation_json(r reservations) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('eventTypeId', r.event_type_id, 'slotStart', api.calcom_slots_iso(r.start_at),
                            'slotEnd', api.calcom_slots_iso(r.end_at),
                            'slotDuration', (extract(epoch FROM r.end_at - r.start_at) / 60)::integer,
                            'reservationUid', r.uid, 'reservationUntil', api.calcom_slots_iso(r.expires_at))
$$;

-- GET /v2/slots/reservations/{uid}: a live reservation, or NULL (Cal.com answers data: null).
CREATE FUNCTION api.calcom_reservation_get(p_uid uuid) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT api.calcom_reservation_json(r) FROM reservations r WHERE r.uid = p_uid AND r.expires_at > now()
$$;

-- PATCH /v2/slots/reservations/{uid}: the booking core has just made a new hold (p_new) at the
-- requested time, judged by the engine while the old one still held its time, so the old time
-- is never let go before the new one is secured. Here, in one transaction, the old hold goes
-- and the new one takes its uid (its clock started when it was made). The old one gone in the
-- meantime (expired, released, consumed by a booking): the new one goes too and the body is JSON
-- null (C answers 404). Both hosts' caches are told.
CREATE FUNCTION api.calcom_reservation_move(p_uid uuid, p_new uuid)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  o reservations;
  n reservations;
BEGIN
  DELETE FROM reservations r WHERE r.uid = p_uid AND r.expires_at > now() RETURNING * INTO o;
  IF o.id IS NULL THEN
    DELETE FROM reservations r WHERE r.uid = p_new RETURNING * INTO n;
    RETURN QUERY SELECT 'null'::jsonb, array_remove(ARRAY[n.host_id], NULL), false;
    RETURN;
  END IF;
  UPDATE reservations r SET uid = p_uid WHERE r.uid = p_new RETURNING * INTO n;
  IF n.id IS NULL THEN  -- the new hold is gone (nobody knew its uid): keep the old one
    PERFORM api.fail(409, 'the reservation could not be moved; try again');
  END IF;
  RETURN QUERY SELECT api.calcom_reservation_json(n), ARRAY[o.host_id, n.host_id], false;
END $$;
