-- Bookings (issue 5): the rest of the booking row, the last line of defence against double
-- booking, the event log every state change writes in its own transaction (webhook deliveries
-- fan out from it), idempotency keys, and the write functions.
--
-- Never double-book (DESIGN.md): C reads the host's data and version, the slot engine decides,
-- then one function here takes the host's advisory lock, compares the version and writes, or
-- answers {"stale": true} and C reads and decides again. The rules live only in C. The version
-- is read FOR UPDATE: a schedule or event type change that has bumped it but not yet committed
-- holds that row, so the check waits and then sees the new version.

ALTER TABLE bookings
  ADD COLUMN seated                boolean NOT NULL DEFAULT false,  -- of a seated event type (seats > 1)
  ADD COLUMN during                tstzrange GENERATED ALWAYS AS (tstzrange(start_at, end_at)) STORED,
  ADD COLUMN notes                 text,
  ADD COLUMN phone                 text,
  ADD COLUMN answers               jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN confirmation_number   text UNIQUE,
  ADD COLUMN cancel_token_hash     text UNIQUE,
  ADD COLUMN reschedule_token_hash text UNIQUE,
  ADD COLUMN confirm_token_hash    text UNIQUE,
  ADD COLUMN previous_start_at     timestamptz,
  ADD COLUMN previous_end_at       timestamptz,
  ADD COLUMN reason                text,          -- cancellation or decline reason
  ADD COLUMN cancelled_by          text CHECK (cancelled_by IN ('host', 'invitee')),
  ADD COLUMN no_show               boolean NOT NULL DEFAULT false;

ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap
  EXCLUDE USING gist (host_id WITH =, during WITH &&) WHERE (status IN ('pending', 'confirmed') AND NOT seated);

-- Every state change of a booking, in the transaction that made it. Webhook deliveries are
-- derived from these rows (same transaction), so an event exists exactly when its change does.
CREATE TABLE events (
  id         bigserial PRIMARY KEY,
  host_id    bigint NOT NULL REFERENCES users ON DELETE CASCADE,
  type       text NOT NULL,
  booking_id bigint REFERENCES bookings ON DELETE CASCADE,
  payload    jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_host ON events (host_id, id);

CREATE TABLE idempotency_keys (
  scope        text NOT NULL,      -- 'k:<api key id>', 'u:<user id>' or 'ip:<address>'
  key          text NOT NULL,      -- SHA-256 of the Idempotency-Key (the key is never stored)
  request_hash text NOT NULL,
  status       integer,            -- NULL while the first request runs
  body         text,               -- the response sealed with a key derived from the Idempotency-Key
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- ---------------------------------------------------------------- shapes

-- Local "YYYY-MM-DD HH:MM:SS" of t in zone z (the seed's booking times are the invitee's wall clock).
CREATE FUNCTION api.local_ts(t timestamptz, z text) RETURNS text LANGUAGE sql STABLE AS
$$ SELECT to_char(t AT TIME ZONE z, 'YYYY-MM-DD HH24:MI:SS') $$;

CREATE FUNCTION api.booking_json(b bookings) RETURNS jsonb LANGUAGE sql STABLE AS $$
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
  FROM event_types e WHERE e.id = b.event_type_id
$$;

-- Appends to the event log (webhook deliveries are added to this in the webhooks migration).
CREATE FUNCTION api.emit(p_host bigint, p_type text, b bookings, p_extra jsonb DEFAULT '{}') RETURNS void
LANGUAGE plpgsql AS $$
DECLARE bj jsonb := api.booking_json(b) || p_extra;
BEGIN
  INSERT INTO events (host_id, type, booking_id, payload)
  VALUES (p_host, p_type, b.id, jsonb_build_object('event', p_type, 'created_at', api.rfc3339(now()),
          'data', jsonb_build_object('booking', bj || jsonb_build_object('event_type', bj->'event_name'))));
END $$;

-- ---------------------------------------------------------------- reads

-- availability_data for an existing booking's event type, without that booking's own time.
-- p_user: the host, when the caller is one (others: 404); NULL when access was proven otherwise.
CREATE FUNCTION api.booking_data(p_booking bigint, p_user bigint, p_from timestamptz, p_to timestamptz)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  b bookings;
  d jsonb;
BEGIN
  SELECT * INTO b FROM bookings WHERE id = p_booking AND (p_user IS NULL OR host_id = p_user);
  IF b.id IS NULL THEN PERFORM api.fail(404, 'booking not found'); END IF;
  -- no window given: the booking's own time (a confirmation re-checks just that)
  SELECT api.availability_data(p.slug::text, e.slug, coalesce(p_from, b.start_at), coalesce(p_to, b.end_at)) INTO d
  FROM booking_pages p, event_types e WHERE p.user_id = b.host_id AND e.id = b.event_type_id;
  IF d IS NULL THEN  -- the event type was deleted since: its settings still apply to this booking
    PERFORM api.fail(409, 'the event type of this booking no longer exists');
  END IF;
  -- drop the booking itself from busy time (ref = id, kind 1)
  d := jsonb_set(d, '{busy}', coalesce((SELECT jsonb_agg(x) FROM jsonb_array_elements(d->'busy') x
                                        WHERE NOT ((x->>5)::bigint = p_booking AND (x->>7)::int = 1)), '[]'));
  RETURN d || jsonb_build_object('booking', api.booking_json(b), 'booking_status', b.status,
                                 'booking_start', extract(epoch FROM b.start_at)::bigint,
                                 'booking_end', extract(epoch FROM b.end_at)::bigint,
                                 'booking_seats', b.seats, 'booking_timezone', b.invitee_timezone);
END $$;

-- A booking id for each way of addressing one: host (user id), invitee token, confirmation
-- number + contact. Unknown, foreign, wrong contact: all the same 404.
CREATE FUNCTION api.booking_id_for_host(p_user bigint, p_id bigint) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE r bigint;
BEGIN
  SELECT id INTO r FROM bookings WHERE id = p_id AND host_id = p_user;
  IF r IS NULL THEN PERFORM api.fail(404, 'booking not found'); END IF;
  RETURN r;
END $$;

-- kind: cancel | reschedule | confirm. Tokens stop working once the booking is cancelled,
-- declined or over.
CREATE FUNCTION api.booking_id_for_token(p_kind text, p_hash text) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE r bigint;
BEGIN
  SELECT id INTO r FROM bookings
  WHERE CASE p_kind WHEN 'cancel' THEN cancel_token_hash WHEN 'reschedule' THEN reschedule_token_hash
                    ELSE confirm_token_hash END = p_hash
    AND status IN ('pending', 'confirmed') AND end_at > now();
  IF r IS NULL THEN PERFORM api.fail(404, 'link is invalid or no longer valid'); END IF;
  RETURN r;
END $$;

CREATE FUNCTION api.digits(s text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT regexp_replace(s, '[^0-9]', '', 'g') $$;

-- p_change: the caller wants to cancel or reschedule, which a booking that has ended refuses.
CREATE FUNCTION api.booking_id_for_number(p_number text, p_contact text, p_change boolean) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE r bigint;
BEGIN
  SELECT id INTO r FROM bookings
  WHERE confirmation_number = upper(p_number) AND (NOT p_change OR end_at > now())
    AND (lower(invitee_email) = lower(p_contact)
         OR (phone IS NOT NULL AND length(api.digits(p_contact)) >= 6 AND api.digits(phone) = api.digits(p_contact)));
  IF r IS NULL THEN PERFORM api.fail(404, 'booking not found'); END IF;
  RETURN r;
END $$;

CREATE FUNCTION api.booking_get(p_id bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT api.booking_json(b) FROM bookings b WHERE b.id = p_id
$$;

-- Host list: newest start first; filters; {"total", "items"} (C moves total to headers).
CREATE FUNCTION api.bookings_list(p_user bigint, p_status text, p_from timestamptz, p_to timestamptz,
                                  p_event_type bigint, p_limit integer, p_offset integer)
RETURNS jsonb LANGUAGE sql STABLE AS $$
  WITH f AS (
    SELECT b.* FROM bookings b
    WHERE b.host_id = p_user AND (p_status IS NULL OR b.status = p_status)
      AND (p_from IS NULL OR b.start_at >= p_from) AND (p_to IS NULL OR b.start_at < p_to)
      AND (p_event_type IS NULL OR b.event_type_id = p_event_type))
  SELECT jsonb_build_object('total', (SELECT count(*) FROM f),
    'items', coalesce((SELECT jsonb_agg(api.booking_json(p) ORDER BY p.start_at DESC, p.id DESC)
                       FROM (SELECT * FROM f ORDER BY start_at DESC, id DESC LIMIT p_limit OFFSET p_offset) p), '[]'))
$$;

-- ---------------------------------------------------------------- writes

-- Creates a booking if the host's data is still what C decided on. p: host_id, version,
-- event_type_id, start, end (epoch seconds), status, seats, seated, name, email, timezone,
-- notes, phone, answers, confirmation_number, cancel_hash, reschedule_hash, confirm_hash,
-- reservation_uid. Returns {"stale": true} or {"booking": ...}.
CREATE FUNCTION api.booking_create(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  b bookings;
  h bigint := (p->>'host_id')::bigint;
  v bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(h);
  SELECT version INTO v FROM users WHERE id = h FOR UPDATE;  -- waits for an uncommitted change's bump
  IF v IS DISTINCT FROM (p->>'version')::bigint THEN RETURN '{"stale": true}'; END IF;
  IF p->>'reservation_uid' IS NOT NULL THEN
    DELETE FROM reservations
    WHERE uid = (p->>'reservation_uid')::uuid AND expires_at > now() AND host_id = h
      AND event_type_id = (p->>'event_type_id')::bigint AND start_at = to_timestamp((p->>'start')::bigint);
    IF NOT FOUND THEN
      PERFORM api.fail(409, 'the reservation has expired or is for another time', 'reservation_uid');
    END IF;
  END IF;
  BEGIN
    INSERT INTO bookings (host_id, event_type_id, start_at, end_at, status, seats, seated, invitee_name,
                          invitee_email, invitee_timezone, notes, phone, answers, confirmation_number,
                          cancel_token_hash, reschedule_token_hash, confirm_token_hash)
    VALUES (h, (p->>'event_type_id')::bigint, to_timestamp((p->>'start')::bigint), to_timestamp((p->>'end')::bigint),
            p->>'status', (p->>'seats')::int, (p->>'seated')::boolean, p->>'name', p->>'email', p->>'timezone',
            p->>'notes', p->>'phone', coalesce(p->'answers', '{}'), p->>'confirmation_number',
            p->>'cancel_hash', p->>'reschedule_hash', p->>'confirm_hash')
    RETURNING * INTO b;
  EXCEPTION
    WHEN exclusion_violation THEN PERFORM api.fail(409, 'time slot taken');
    WHEN unique_violation THEN RETURN '{"stale": true}';  -- a confirmation number collided: C draws again
  END;
  PERFORM api.emit(h, CASE WHEN b.status = 'pending' THEN 'booking.requested' ELSE 'booking.created' END, b,
                   CASE WHEN b.status = 'pending' AND p ? 'confirm_url' THEN jsonb_build_object(
                     'confirm_url', p->>'confirm_url', 'decline_url', p->>'decline_url') ELSE '{}' END);
  RETURN jsonb_build_object('booking', api.booking_json(b), '_host', h);
END $$;

-- Moves a booking (same uid) after C checked the new time; records the previous one.
CREATE FUNCTION api.booking_reschedule(p_id bigint, p_version bigint, p_start bigint, p_end bigint, p_tz text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  b bookings;
  v bigint;
BEGIN
  SELECT * INTO b FROM bookings WHERE id = p_id;
  PERFORM pg_advisory_xact_lock(b.host_id);
  SELECT version INTO v FROM users WHERE id = b.host_id FOR UPDATE;
  IF v IS DISTINCT FROM p_version THEN RETURN '{"stale": true}'; END IF;
  SELECT * INTO b FROM bookings WHERE id = p_id;
  IF b.status NOT IN ('pending', 'confirmed') THEN
    PERFORM api.fail(409, 'a ' || b.status || ' booking cannot be rescheduled', 'status:' || b.status);
  END IF;
  BEGIN
    UPDATE bookings SET previous_start_at = start_at, previous_end_at = end_at,
      start_at = to_timestamp(p_start), end_at = to_timestamp(p_end),
      invitee_timezone = coalesce(p_tz, invitee_timezone), updated_at = now()
    WHERE id = p_id RETURNING * INTO b;
  EXCEPTION WHEN exclusion_violation THEN PERFORM api.fail(409, 'time slot taken');
  END;
  PERFORM api.emit(b.host_id, 'booking.rescheduled', b);
  RETURN jsonb_build_object('booking', api.booking_json(b), '_host', b.host_id);
END $$;

-- Status changes. confirm needs the version C checked (it re-decides the slot); the others do
-- not, as they only free time. Illegal moves: 409 naming the current status.
CREATE FUNCTION api.booking_transition(p_id bigint, p_user bigint, p_action text, p_version bigint, p_reason text,
                                       p_by text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  b bookings;
  v bigint;
BEGIN
  SELECT * INTO b FROM bookings WHERE id = p_id AND (p_user IS NULL OR host_id = p_user);
  IF b.id IS NULL THEN PERFORM api.fail(404, 'booking not found'); END IF;
  PERFORM pg_advisory_xact_lock(b.host_id);
  IF p_action = 'confirm' THEN
    SELECT version INTO v FROM users WHERE id = b.host_id FOR UPDATE;
    IF v IS DISTINCT FROM p_version THEN RETURN '{"stale": true}'; END IF;
  END IF;
  SELECT * INTO b FROM bookings WHERE id = p_id FOR UPDATE;
  IF (p_action IN ('confirm', 'decline') AND b.status <> 'pending')
     OR (p_action = 'cancel' AND b.status NOT IN ('pending', 'confirmed'))
     OR (p_action = 'no_show' AND b.status <> 'confirmed') THEN
    PERFORM api.fail(409, 'the booking is ' || b.status, 'status:' || b.status);
  END IF;
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
  PERFORM api.emit(b.host_id, CASE p_action WHEN 'confirm' THEN 'booking.confirmed' WHEN 'decline' THEN 'booking.declined'
                                            WHEN 'cancel' THEN 'booking.cancelled' ELSE 'booking.no_show' END, b);
  RETURN jsonb_build_object('booking', api.booking_json(b), '_host', b.host_id);
END $$;

-- ---------------------------------------------------------------- reservations

CREATE FUNCTION api.reservation_json(r reservations) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('reservation_uid', r.uid, 'event_type_id', r.event_type_id,
                            'start', api.rfc3339(r.start_at), 'end', api.rfc3339(r.end_at),
                            'reserved_until', api.rfc3339(r.expires_at))
$$;

CREATE FUNCTION api.reservation_create(p_host bigint, p_version bigint, p_event_type bigint, p_start bigint,
                                       p_end bigint, p_minutes integer)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  r reservations;
  v bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(p_host);
  SELECT version INTO v FROM users WHERE id = p_host FOR UPDATE;
  IF v IS DISTINCT FROM p_version THEN RETURN '{"stale": true}'; END IF;
  INSERT INTO reservations (host_id, event_type_id, start_at, end_at, expires_at)
  VALUES (p_host, p_event_type, to_timestamp(p_start), to_timestamp(p_end), now() + make_interval(mins => p_minutes))
  RETURNING * INTO r;
  RETURN api.reservation_json(r) || jsonb_build_object('_host', p_host);
END $$;

CREATE FUNCTION api.reservation_get(p_uid uuid) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE r reservations;
BEGIN
  SELECT * INTO r FROM reservations WHERE uid = p_uid AND expires_at > now();
  IF r.id IS NULL THEN PERFORM api.fail(404, 'reservation not found or expired'); END IF;
  RETURN api.reservation_json(r);
END $$;

CREATE FUNCTION api.reservation_delete(p_uid uuid) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE h bigint;
BEGIN
  DELETE FROM reservations WHERE uid = p_uid AND expires_at > now() RETURNING host_id INTO h;
  IF h IS NULL THEN PERFORM api.fail(404, 'reservation not found or expired'); END IF;
  RETURN jsonb_build_object('ok', true, '_host', h);
END $$;

-- ---------------------------------------------------------------- idempotency

-- First sight of (scope, key): a placeholder and 'run'. Seen: the stored response, 'running'
-- while the first request is still at work (an abandoned one is taken over after a minute), or
-- 'mismatch' for a different request under the same key.
CREATE FUNCTION api.idem_begin(p_scope text, p_key text, p_hash text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE k idempotency_keys;
BEGIN
  INSERT INTO idempotency_keys (scope, key, request_hash) VALUES (p_scope, p_key, p_hash)
  ON CONFLICT (scope, key) DO NOTHING;
  IF FOUND THEN RETURN '{"state": "run"}'; END IF;
  SELECT * INTO k FROM idempotency_keys WHERE scope = p_scope AND key = p_key FOR UPDATE;
  IF k.created_at < now() - interval '24 hours' OR (k.status IS NULL AND k.created_at < now() - interval '1 minute') THEN
    UPDATE idempotency_keys SET request_hash = p_hash, status = NULL, body = NULL, created_at = now()
    WHERE scope = p_scope AND key = p_key;
    RETURN '{"state": "run"}';
  END IF;
  IF k.request_hash <> p_hash THEN RETURN '{"state": "mismatch"}'; END IF;
  IF k.status IS NULL THEN RETURN '{"state": "running"}'; END IF;
  IF k.status = 0 THEN RETURN '{"state": "unknown"}'; END IF;
  RETURN jsonb_build_object('state', 'replay', 'status', k.status, 'body', k.body);
END $$;

CREATE FUNCTION api.idem_finish(p_scope text, p_key text, p_status integer, p_body text) RETURNS void
LANGUAGE sql AS $$
  UPDATE idempotency_keys SET status = p_status, body = p_body WHERE scope = p_scope AND key = p_key
$$;

-- The first request failed after its write was sent: whether it took effect is unknown, so
-- the key must never run the request again (status 0: every retry is told so, for 24 h).
CREATE FUNCTION api.idem_unknown(p_scope text, p_key text) RETURNS void LANGUAGE sql AS $$
  UPDATE idempotency_keys SET status = 0 WHERE scope = p_scope AND key = p_key AND status IS NULL
$$;

-- A failed attempt (5xx) before any write releases the key so a retry runs again.
CREATE FUNCTION api.idem_abort(p_scope text, p_key text) RETURNS void LANGUAGE sql AS $$
  DELETE FROM idempotency_keys WHERE scope = p_scope AND key = p_key AND status IS NULL
$$;

-- ---------------------------------------------------------------- housekeeping

CREATE FUNCTION api.sweep_reservations() RETURNS integer LANGUAGE sql AS $$
  WITH d AS (DELETE FROM reservations WHERE expires_at < now() - interval '1 minute' RETURNING 1)
  SELECT count(*)::integer FROM d
$$;

CREATE FUNCTION api.sweep_idempotency() RETURNS integer LANGUAGE sql AS $$
  WITH d AS (DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours' RETURNING 1)
  SELECT count(*)::integer FROM d
$$;
