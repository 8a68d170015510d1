-- 0022_calcom_bookings: the bookings of the Cal.com API v2 dialect (issue 16,
-- src/api/compat/calcom_bookings.c). Every booking is made and changed by the one booking core
-- (src/api/book.c and the native write functions); this file only keeps what Cal.com's booking
-- carries and slotd's does not (metadata, guests, the attendee's language, the chosen location,
-- the host's absence), and prints a booking the way Cal.com's BookingOutput_2024_08_13 does.
--
-- Seats. A slotd booking of a seated event type is one seat (with its own uid, tokens and
-- invitee); Cal.com shows one booking per seated time with one attendee per seat. The Cal.com
-- booking is the group of seated bookings of one event type, host and start: its id and uid are
-- the group's first booking's (lowest id, whatever its status, so they never change while the
-- group exists), each attendee's seatUid is that seat's own slotd uid.

CREATE TABLE calcom_bookings (
  booking_id      bigint PRIMARY KEY REFERENCES bookings ON DELETE CASCADE,
  metadata        jsonb NOT NULL DEFAULT '{}',    -- Cal.com's metadata (<= 50 keys, checked in C)
  guests          text[] NOT NULL DEFAULT '{}',   -- guest e-mails (stored, not invited: slotd mails the invitee)
  language        text,                           -- the attendee's language
  location        text,                           -- the location the booker picked, as Cal.com prints it
  absent_host     boolean NOT NULL DEFAULT false, -- mark-absent {host: true}
  reassign_reason text
);

-- Erasure (api.customer_erase) drops who made a booking: their guests and metadata go with them.
CREATE FUNCTION api.calcom_booking_erased() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM calcom_bookings WHERE booking_id = NEW.id;
  RETURN NULL;
END $$;
CREATE TRIGGER bookings_calcom_erased AFTER UPDATE OF invitee_email ON bookings FOR EACH ROW
  WHEN (NEW.invitee_email IS NULL AND OLD.invitee_email IS NOT NULL) EXECUTE FUNCTION api.calcom_booking_erased();

-- JavaScript's toISOString.
CREATE FUNCTION api.calcom_iso(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- The seated group a booking belongs to (itself when not seated), first booking first.
CREATE FUNCTION api.calcom_group(b bookings) RETURNS SETOF bookings LANGUAGE sql STABLE AS $$
  SELECT k.* FROM bookings k
  WHERE b.seated AND k.seated AND k.parent_id IS NULL AND k.event_type_id = b.event_type_id
    AND k.host_id = b.host_id AND k.start_at = b.start_at
  UNION ALL SELECT b.* WHERE NOT b.seated
  ORDER BY id
$$;

-- Cal.com's status of a group: accepted while a seat is confirmed, pending while one waits
-- (for the host's confirmation or a payment), rejected when every seat was declined, else
-- cancelled (cancelled and expired bookings).
CREATE FUNCTION api.calcom_status(p_statuses text[]) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN 'confirmed' = ANY (p_statuses) THEN 'accepted'
              WHEN p_statuses && ARRAY['pending', 'pending_payment'] THEN 'pending'
              WHEN 'declined' = ALL (p_statuses) THEN 'rejected'
              ELSE 'cancelled' END
$$;

CREATE FUNCTION api.calcom_host_json(u users) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', u.id, 'name', u.name, 'email', u.email::text, 'displayEmail', u.email::text,
           'username', coalesce((SELECT p.slug::text FROM booking_pages p WHERE p.user_id = u.id), ''),
           'timeZone', u.timezone)
$$;

-- A seated group's public uid: derived one way from its first seat's own uid, so holding the
-- group's uid (every attendee's answer, the public slots' bookingUid) never grants that seat's
-- own capability (its uid is its seatUid). Other bookings' uid is their own.
CREATE FUNCTION api.calcom_group_uid(u uuid) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
  SELECT md5('calcom-seat-group:' || u::text)::uuid
$$;
CREATE INDEX bookings_calcom_group_uid ON bookings (api.calcom_group_uid(uid)) WHERE seated AND parent_id IS NULL;

CREATE FUNCTION api.calcom_public_uid(b bookings) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN b.seated THEN api.calcom_group_uid(b.uid) ELSE b.uid END
$$;

-- Cal.com's bookingFieldsResponses of one booking: its own fields under Cal.com's default field
-- names, then the answers to the event type's questions (by question id).
CREATE FUNCTION api.calcom_responses(b bookings, x calcom_bookings) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_strip_nulls(jsonb_build_object('name', b.invitee_name, 'email', b.invitee_email, 'notes', b.notes,
           'attendeePhoneNumber', b.phone,
           'guests', CASE WHEN cardinality(x.guests) > 0 THEN to_jsonb(x.guests) END)) || b.answers
$$;

CREATE FUNCTION api.calcom_attendee(b bookings, x calcom_bookings) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_strip_nulls(jsonb_build_object('name', coalesce(b.invitee_name, ''),
           'email', coalesce(b.invitee_email, ''), 'displayEmail', coalesce(b.invitee_email, ''),
           'timeZone', b.invitee_timezone, 'absent', b.no_show, 'language', coalesce(x.language, 'en'),
           'phoneNumber', b.phone))
$$;

-- A booking (by the id of any of its rows: a seat, a collective booking's shadow) as Cal.com's
-- BookingOutput_2024_08_13, or its seated variants. p_host: the caller is one of its hosts or an
-- admin of its org (a seated booking's attendees are shown only to them); p_seat: the seat the
-- caller just made or moved (a seated output names it in seatUid and shows that attendee);
-- p_domain names the deployment in icsUid (as the invitation files do).
CREATE FUNCTION api.calcom_booking_json(p_id bigint, p_host boolean, p_seat bigint, p_domain text)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  b bookings;
  lead bookings;
  e event_types;
  x calcom_bookings;
  h users;
  j jsonb;
  statuses text[];
  updated timestamptz;
  st text;
BEGIN
  SELECT * INTO b FROM bookings k WHERE k.id = p_id;
  IF b.id IS NULL THEN RETURN NULL; END IF;
  IF b.parent_id IS NOT NULL THEN SELECT * INTO b FROM bookings k WHERE k.id = b.parent_id; END IF;
  SELECT * INTO lead FROM api.calcom_group(b) LIMIT 1;
  SELECT array_agg(g.status), max(g.updated_at) INTO statuses, updated FROM api.calcom_group(b) g;
  SELECT * INTO e FROM event_types t WHERE t.id = lead.event_type_id;
  SELECT * INTO x FROM calcom_bookings c WHERE c.booking_id = lead.id;
  SELECT * INTO h FROM users u WHERE u.id = lead.host_id;
  st := api.calcom_status(statuses);
  j := jsonb_build_object(
    'id', lead.id, 'uid', api.calcom_public_uid(lead),
    'title', CASE WHEN lead.seated THEN e.name
                  ELSE e.name || ' between ' || h.name || ' and ' || coalesce(lead.invitee_name, 'an attendee') END,
    'description', CASE WHEN lead.seated THEN '' ELSE coalesce(lead.notes, '') END,
    'hosts', (SELECT jsonb_agg(api.calcom_host_json(u) ORDER BY u.id <> lead.host_id, u.id) FROM users u
              WHERE u.id = lead.host_id OR u.id IN (SELECT s.host_id FROM bookings s WHERE s.parent_id = lead.id)),
    'status', st,
    'cancellationReason', CASE WHEN st IN ('cancelled', 'rejected') THEN lead.reason END,
    'cancelledByEmail', CASE WHEN st = 'cancelled' AND NOT lead.seated THEN
                          CASE lead.cancelled_by WHEN 'host' THEN h.email::text
                                                 WHEN 'invitee' THEN lead.invitee_email::text END END,
    'reschedulingReason', lead.reschedule_reason,
    -- a seated group's first seat is one attendee: its own e-mail, links and settings are only
    -- its hosts' to see (the links would be that seat's capabilities)
    'rescheduledByEmail', CASE WHEN NOT lead.seated OR p_host THEN
                            CASE lead.rescheduled_by WHEN 'host' THEN h.email::text
                                                     WHEN 'invitee' THEN lead.invitee_email::text END END,
    'rescheduledFromUid', CASE WHEN NOT lead.seated OR p_host THEN
                            (SELECT p.uid FROM bookings p WHERE p.id = lead.rescheduled_from) END,
    'rescheduledToUid', CASE WHEN NOT lead.seated OR p_host THEN
                          (SELECT n.uid FROM bookings n WHERE n.id = lead.rescheduled_to) END,
    'recurringBookingUid', lead.recurring_uid,
    'start', api.calcom_iso(lead.start_at), 'end', api.calcom_iso(lead.end_at),
    'duration', (extract(epoch FROM lead.end_at - lead.start_at) / 60)::int,
    'eventTypeId', e.id, 'eventType', jsonb_build_object('id', e.id, 'slug', e.slug),
    'location', CASE WHEN lead.seated AND NOT p_host THEN coalesce(e.location_value, e.location_type, '')
                     ELSE coalesce(x.location, e.location_value, e.location_type, '') END,
    'absentHost', coalesce(x.absent_host, false),
    'createdAt', api.calcom_iso(lead.created_at), 'updatedAt', api.calcom_iso(updated),
    'metadata', CASE WHEN lead.seated AND NOT p_host THEN '{}'::jsonb ELSE coalesce(x.metadata, '{}') END,
    'icsUid', api.calcom_public_uid(lead) || '@' || p_domain);
  IF NOT lead.seated THEN
    RETURN jsonb_strip_nulls(j) || jsonb_build_object(
      'attendees', jsonb_build_array(api.calcom_attendee(lead, x)),
      'guests', to_jsonb(coalesce(x.guests, '{}')),
      'bookingFieldsResponses', api.calcom_responses(lead, x));
  END IF;
  RETURN jsonb_strip_nulls(j)
    || CASE WHEN p_seat IS NULL THEN '{}'::jsonb
            ELSE jsonb_build_object('seatUid', (SELECT s.uid FROM bookings s WHERE s.id = p_seat)) END
    || jsonb_build_object('attendees', coalesce((
         SELECT jsonb_agg(api.calcom_attendee(g, c) || jsonb_build_object('seatUid', g.uid,
                  'bookingFieldsResponses', api.calcom_responses(g, c), 'metadata', coalesce(c.metadata, '{}'),
                  'createdAt', api.calcom_iso(g.created_at)) ORDER BY g.id)
         FROM api.calcom_group(b) g LEFT JOIN calcom_bookings c ON c.booking_id = g.id
         WHERE g.status IN ('pending', 'confirmed', 'pending_payment') AND (p_host OR g.id = p_seat)), '[]'));
END $$;

-- What an operation on /v2/bookings/{uid} needs to know first. The uid may be a booking's, a
-- seat's (its group is addressed) or a collective shadow's (its primary). 404 when unknown.
--   id:       the addressed booking (the seat itself for a seat's uid)
--   lead:     the Cal.com booking's row (the seated group's first booking)
--   is_host:  p_user hosts it (the native core's host check: the booking's host or a co-host)
--   can_view: is_host, or p_user is an owner or admin of the event type's org
--   seats:    a seated group's live seats (pending, confirmed, pending_payment), first first
--   pending:  those of them waiting for the host's confirmation
CREATE FUNCTION api.calcom_booking_ref(p_uid uuid, p_user bigint)
RETURNS TABLE (id bigint, lead bigint, seated boolean, is_host boolean, can_view boolean, seats bigint[],
               pending bigint[])
LANGUAGE plpgsql STABLE AS $$
DECLARE
  b bookings;
  l bookings;
  org bigint;
  host boolean;
BEGIN
  SELECT * INTO b FROM bookings k WHERE k.uid = p_uid;
  IF b.id IS NULL THEN  -- a seated group by its public uid
    SELECT * INTO b FROM bookings k WHERE api.calcom_group_uid(k.uid) = p_uid AND k.seated AND k.parent_id IS NULL;
  END IF;
  IF b.id IS NULL THEN PERFORM api.fail(404, 'booking not found'); END IF;
  IF b.parent_id IS NOT NULL THEN SELECT * INTO b FROM bookings k WHERE k.id = b.parent_id; END IF;
  SELECT * INTO l FROM api.calcom_group(b) LIMIT 1;
  host := p_user IS NOT NULL AND (b.host_id = p_user
            OR EXISTS (SELECT 1 FROM bookings s WHERE s.parent_id = b.id AND s.host_id = p_user));
  SELECT t.org_id INTO org FROM event_types t WHERE t.id = b.event_type_id;
  RETURN QUERY SELECT b.id, l.id, b.seated, host,
    host OR (org IS NOT NULL AND p_user IS NOT NULL AND api.org_role(org, p_user, NULL) IN ('owner', 'admin')),
    ARRAY(SELECT g.id FROM api.calcom_group(b) g WHERE g.status IN ('pending', 'confirmed', 'pending_payment')
          ORDER BY g.id),
    ARRAY(SELECT g.id FROM api.calcom_group(b) g WHERE g.status = 'pending' ORDER BY g.id);
END $$;

-- GET /v2/bookings/{uid}: anyone holding the uid (as in Cal.com); a seated booking's attendees
-- only for its hosts and its org's admins.
CREATE FUNCTION api.calcom_booking_get(p_uid uuid, p_user bigint, p_domain text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT api.calcom_booking_json(r.id, r.can_view, NULL, p_domain) FROM api.calcom_booking_ref(p_uid, p_user) r
$$;

-- After the core made bookings p_ids (one, or a recurring series in order): what Cal.com's booking
-- carries besides, and the answer (an array for a series).
CREATE FUNCTION api.calcom_booking_created(p_ids bigint[], p_metadata jsonb, p_guests text[], p_language text,
                                           p_location text, p_domain text, p_series boolean)
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO calcom_bookings (booking_id, metadata, guests, language, location)
  SELECT i, coalesce(p_metadata, '{}'), coalesce(p_guests, '{}'), p_language, p_location FROM unnest(p_ids) i;
  IF p_series THEN
    RETURN (SELECT jsonb_agg(api.calcom_booking_json(k.id, false, CASE WHEN k.seated THEN k.id END, p_domain)
                             ORDER BY k.start_at)
            FROM bookings k WHERE k.id = ANY (p_ids));
  END IF;
  RETURN (SELECT api.calcom_booking_json(k.id, false, CASE WHEN k.seated THEN k.id END, p_domain)
          FROM bookings k WHERE k.id = p_ids[1]);
END $$;

-- After the core rebooked p_old as p_new (Cal.com's reschedule): the new booking keeps what
-- Cal.com's carried, and is the answer (a seat: the moved attendee alone, with its new seatUid).
CREATE FUNCTION api.calcom_booking_rebooked(p_old bigint, p_new bigint, p_domain text) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO calcom_bookings (booking_id, metadata, guests, language, location)
  SELECT p_new, c.metadata, c.guests, c.language, c.location FROM calcom_bookings c WHERE c.booking_id = p_old
  ON CONFLICT (booking_id) DO NOTHING;
  RETURN (SELECT api.calcom_booking_json(k.id, false, CASE WHEN k.seated THEN k.id END, p_domain)
          FROM bookings k WHERE k.id = p_new);
END $$;

-- GET /v2/bookings/{recurringBookingUid}: every occurrence of a series, in order (NULL when the
-- uid names no series: then it is a booking's).
CREATE FUNCTION api.calcom_series_get(p_uid uuid, p_user bigint, p_domain text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_agg(api.calcom_booking_json(k.id, r.can_view, NULL, p_domain) ORDER BY k.start_at)
  FROM bookings k CROSS JOIN LATERAL api.calcom_booking_ref(k.uid, p_user) r
  WHERE k.recurring_uid = p_uid AND k.parent_id IS NULL
$$;

-- The earliest live occurrence of a series (cancelling a recurringBookingUid cancels it and every
-- later one), or NULL.
CREATE FUNCTION api.calcom_series_first(p_uid uuid) RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT k.uid FROM bookings k WHERE k.recurring_uid = p_uid AND k.parent_id IS NULL
    AND k.status IN ('pending', 'confirmed') ORDER BY k.start_at LIMIT 1
$$;

-- mark-absent {host}: the host's absence, for the booking's hosts once it has started (as the
-- core's no-show of an attendee).
CREATE FUNCTION api.calcom_host_absent(p_id bigint, p_user bigint, p_absent boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE b bookings;
BEGIN
  SELECT * INTO b FROM bookings k WHERE k.id = p_id AND k.parent_id IS NULL
    AND (k.host_id = p_user OR EXISTS (SELECT 1 FROM bookings s WHERE s.parent_id = k.id AND s.host_id = p_user));
  IF b.id IS NULL THEN PERFORM api.fail(404, 'booking not found'); END IF;
  IF b.start_at > now() THEN PERFORM api.fail(409, 'the booking has not started yet', 'status:' || b.status); END IF;
  INSERT INTO calcom_bookings (booking_id, absent_host) VALUES (p_id, p_absent)
  ON CONFLICT (booking_id) DO UPDATE SET absent_host = EXCLUDED.absent_host;
  UPDATE bookings SET updated_at = now() WHERE id = p_id;
END $$;

-- After the core reassigned booking p_id: the reason kept, the booking and whom it went to.
CREATE FUNCTION api.calcom_booking_reassigned(p_id bigint, p_reason text, p_domain text) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  IF p_reason IS NOT NULL THEN
    INSERT INTO calcom_bookings (booking_id, reassign_reason) VALUES (p_id, p_reason)
    ON CONFLICT (booking_id) DO UPDATE SET reassign_reason = EXCLUDED.reassign_reason;
  END IF;
  RETURN api.calcom_booking_json(p_id, true, NULL, p_domain)
    || (SELECT jsonb_build_object('reassignedTo', jsonb_build_object('id', u.id, 'name', u.name,
                 'email', u.email::text, 'displayEmail', u.email::text))
        FROM bookings k JOIN users u ON u.id = k.host_id WHERE k.id = p_id);
END $$;

-- The time left on the earliest live hold of someone else overlapping [p_start, p_start + the
-- length booked (p_minutes, or the type's default)) on the event type's host (for Cal.com's 409
-- message), or NULL.
CREATE FUNCTION api.calcom_hold_left(p_event_type bigint, p_slug text, p_event_slug text, p_start bigint,
                                     p_mine uuid, p_minutes integer)
RETURNS integer LANGUAGE sql STABLE AS $$
  SELECT ceil(extract(epoch FROM min(r.expires_at) - now()))::int
  FROM api.event_type_for(p_event_type, p_slug, p_event_slug, true) e
  JOIN reservations r ON r.host_id = e.user_id
  WHERE r.expires_at > now() AND (p_mine IS NULL OR r.uid <> p_mine)
    AND tstzrange(r.start_at, r.end_at) && tstzrange(to_timestamp(p_start),
                                                    to_timestamp(p_start) + make_interval(mins => coalesce(p_minutes, e.duration_minutes)))
$$;

-- GET /v2/bookings: the caller's bookings as a host (a collective booking's co-hosts included)
-- and the bookings of the event types of the orgs the caller owns or administers, one entry per
-- Cal.com booking (a seated group once), filtered and sorted as Cal.com's query says.
CREATE FUNCTION api.calcom_bookings_list(p_user bigint, p_status text[], p_email text, p_name text, p_uid uuid,
  p_event_types bigint[], p_teams bigint[], p_after_start timestamptz, p_before_end timestamptz,
  p_after_created timestamptz, p_before_created timestamptz, p_after_updated timestamptz,
  p_before_updated timestamptz, p_sort text, p_desc boolean, p_limit integer, p_offset integer, p_domain text)
RETURNS TABLE (body jsonb, total bigint) LANGUAGE sql STABLE AS $$
  WITH v AS (
    SELECT b.* FROM bookings b JOIN event_types e ON e.id = b.event_type_id
    WHERE b.parent_id IS NULL
      AND (b.host_id = p_user OR EXISTS (SELECT 1 FROM bookings s WHERE s.parent_id = b.id AND s.host_id = p_user)
           OR (e.org_id IS NOT NULL AND EXISTS (SELECT 1 FROM org_members m WHERE m.org_id = e.org_id
                                                  AND m.user_id = p_user AND m.role IN ('owner', 'admin'))))),
  g AS (SELECT DISTINCT (SELECT k.id FROM api.calcom_group(v) k LIMIT 1) AS id FROM v),
  x AS (
    SELECT l AS bk, l.id, l.uid, l.event_type_id, l.start_at, l.end_at, l.created_at, t.org_id,
           l.recurring_uid IS NOT NULL AS recurring,
           s.status AS cstatus, s.updated AS cupdated
    FROM g JOIN bookings l ON l.id = g.id JOIN event_types t ON t.id = l.event_type_id
    CROSS JOIN LATERAL (SELECT api.calcom_status(array_agg(m.status)) AS status, max(m.updated_at) AS updated
                        FROM api.calcom_group(l) m) s),
  f AS (
    SELECT x.id, x.start_at, x.end_at, x.created_at, x.cupdated FROM x
    WHERE (p_status IS NULL
           OR ('upcoming' = ANY (p_status) AND x.end_at >= now() AND x.cstatus IN ('accepted', 'pending'))
           OR ('unconfirmed' = ANY (p_status) AND x.end_at >= now() AND x.cstatus = 'pending')
           OR ('past' = ANY (p_status) AND x.end_at < now() AND x.cstatus IN ('accepted', 'pending'))
           OR ('cancelled' = ANY (p_status) AND x.cstatus IN ('cancelled', 'rejected'))
           OR ('recurring' = ANY (p_status) AND x.recurring AND x.end_at >= now() AND x.cstatus IN ('accepted', 'pending')))
      AND (p_email IS NULL OR EXISTS (SELECT 1 FROM api.calcom_group(x.bk) m
                                      WHERE lower(m.invitee_email) = lower(p_email)))
      AND (p_name IS NULL OR EXISTS (SELECT 1 FROM api.calcom_group(x.bk) m
                                     WHERE strpos(lower(m.invitee_name), lower(p_name)) > 0))
      AND (p_uid IS NULL OR x.uid = p_uid OR api.calcom_group_uid(x.uid) = p_uid
           OR EXISTS (SELECT 1 FROM api.calcom_group(x.bk) m WHERE m.uid = p_uid))
      AND (p_event_types IS NULL OR x.event_type_id = ANY (p_event_types))
      AND (p_teams IS NULL OR x.org_id = ANY (p_teams))
      AND (p_after_start IS NULL OR x.start_at >= p_after_start)
      AND (p_before_end IS NULL OR x.end_at <= p_before_end)
      AND (p_after_created IS NULL OR x.created_at >= p_after_created)
      AND (p_before_created IS NULL OR x.created_at <= p_before_created)
      AND (p_after_updated IS NULL OR x.cupdated >= p_after_updated)
      AND (p_before_updated IS NULL OR x.cupdated <= p_before_updated)),
  o AS (
    SELECT f.id, row_number() OVER (ORDER BY
             CASE WHEN p_desc THEN CASE p_sort WHEN 'end' THEN f.end_at WHEN 'created' THEN f.created_at
                                               WHEN 'updated' THEN f.cupdated ELSE f.start_at END END DESC,
             CASE WHEN NOT p_desc THEN CASE p_sort WHEN 'end' THEN f.end_at WHEN 'created' THEN f.created_at
                                                   WHEN 'updated' THEN f.cupdated ELSE f.start_at END END ASC,
             f.id) AS n
    FROM f)
  SELECT coalesce((SELECT jsonb_agg(api.calcom_booking_json(p.id, true, NULL, p_domain) ORDER BY p.n)
                   FROM (SELECT * FROM o ORDER BY o.n LIMIT p_limit OFFSET p_offset) p), '[]'),
         (SELECT count(*) FROM f)
$$;
