-- E-mail notifications (issue 14): the mail outbox, second channel of src/jobs/outbox.c.
--
-- Rows are written in the transaction of the change they announce -- a new booking's by the
-- booking writes, every later change's by a trigger on bookings -- only on connections where
-- slotd has e-mail on (it sets slotd.mail = on at connect when SLOTD_SMTP_URL is set: with
-- e-mail off nothing is queued). A row names its booking and what
-- happened; the message is composed when it is sent, from the booking as it is then (an erased
-- invitee's mails have nobody to go to and are dropped). The links' tokens a mail needs (the
-- invitee's cancel and reschedule tokens, the host's confirm token) exist in clear only in the
-- request that made them: C seals them (AES-GCM, SLOTD_SECRET_KEY) and passes the sealed text to
-- the booking write; the row keeps it until it is sent.
-- Reminders (event_types.reminders, 0015) are rows due before the start; a cancellation or a
-- move drops them (a move makes new ones).

ALTER TABLE bookings ADD COLUMN notify_invitee boolean NOT NULL DEFAULT true,
  ADD COLUMN ics_sequence integer NOT NULL DEFAULT 0;  -- the invitation's SEQUENCE: +1 per move or cancellation

CREATE TABLE mail_outbox (
  id              bigserial PRIMARY KEY,
  booking_id      bigint NOT NULL REFERENCES bookings ON DELETE CASCADE,
  kind            text NOT NULL CHECK (kind IN ('booked', 'pending', 'pending_payment', 'confirmed', 'declined',
                                               'cancelled', 'rescheduled', 'reminder', 'host_new', 'host_pending',
                                               'host_cancelled', 'host_rescheduled')),
  secrets         text,      -- sealed tokens for the mail's links; NULL once sent
  previous_start  timestamptz,
  status          text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'delivering', 'delivered', 'failed', 'dropped')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_until     timestamptz,
  last_code       integer,
  last_reply      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_attempt_at timestamptz,
  sent_at         timestamptz
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE status IN ('pending', 'delivering');
CREATE INDEX mail_outbox_booking ON mail_outbox (booking_id);

-- ---------------------------------------------------------------- queueing

CREATE FUNCTION api.mail_add(b bookings, p_kind text, p_secrets text, p_due timestamptz DEFAULT now(),
                             p_previous timestamptz DEFAULT NULL) RETURNS void LANGUAGE sql AS $$
  INSERT INTO mail_outbox (booking_id, kind, secrets, next_attempt_at, previous_start)
  VALUES (b.id, p_kind, p_secrets, p_due, p_previous)
$$;

CREATE FUNCTION api.mail_reminders(b bookings) RETURNS void LANGUAGE sql AS $$
  INSERT INTO mail_outbox (booking_id, kind, next_attempt_at)
  SELECT b.id, 'reminder', b.start_at - make_interval(mins => m)
  FROM event_types e, unnest(e.reminders) m
  WHERE e.id = b.event_type_id AND b.notify_invitee AND b.start_at - make_interval(mins => m) > now()
$$;

-- The mails of a new booking, called by the booking writes themselves (not by a trigger: an
-- AFTER INSERT trigger's WHEN is evaluated on every booking written, e-mail on or off -- ~30-70 us
-- of PostgreSQL CPU per booking measured with tests/bench/booking). p_secrets: the sealed tokens.
CREATE FUNCTION api.mail_created(b bookings, p_secrets text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF b.status = 'confirmed' THEN
    IF b.notify_invitee THEN PERFORM api.mail_add(b, 'booked', p_secrets); PERFORM api.mail_reminders(b); END IF;
    PERFORM api.mail_add(b, 'host_new', NULL);
  ELSIF b.status = 'pending' THEN
    IF b.notify_invitee THEN PERFORM api.mail_add(b, 'pending', p_secrets); END IF;
    PERFORM api.mail_add(b, 'host_pending', p_secrets);
  ELSIF b.status = 'pending_payment' AND b.notify_invitee THEN
    PERFORM api.mail_add(b, 'pending_payment', p_secrets);
  ELSE
    RETURN;
  END IF;
  PERFORM pg_notify('slotd_mail', '');
END $$;

-- The mails of a change of status or time, whichever function made it.
CREATE FUNCTION api.mail_queue() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  inv boolean := NEW.notify_invitee;
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status THEN
    IF NEW.status IN ('cancelled', 'declined', 'expired') THEN
      DELETE FROM mail_outbox WHERE booking_id = NEW.id AND kind = 'reminder' AND status = 'pending';
    END IF;
    IF NEW.status = 'confirmed' AND inv THEN
      PERFORM api.mail_add(NEW, 'confirmed', NULL);
      PERFORM api.mail_reminders(NEW);
    ELSIF NEW.status = 'declined' AND inv THEN
      PERFORM api.mail_add(NEW, 'declined', NULL);
    ELSIF NEW.status = 'cancelled' THEN
      IF inv THEN PERFORM api.mail_add(NEW, 'cancelled', NULL); END IF;
      PERFORM api.mail_add(NEW, 'host_cancelled', NULL);
    END IF;
  ELSIF NEW.start_at IS DISTINCT FROM OLD.start_at AND NEW.status IN ('confirmed', 'pending') THEN
    DELETE FROM mail_outbox WHERE booking_id = NEW.id AND kind = 'reminder' AND status = 'pending';
    IF inv THEN
      PERFORM api.mail_add(NEW, 'rescheduled', NULL, now(), OLD.start_at);
      IF NEW.status = 'confirmed' THEN PERFORM api.mail_reminders(NEW); END IF;
    END IF;
    PERFORM api.mail_add(NEW, 'host_rescheduled', NULL, now(), OLD.start_at);
  ELSE
    RETURN NULL;
  END IF;
  PERFORM pg_notify('slotd_mail', '');
  RETURN NULL;
END $$;

-- Built-in functions only in WHEN (a trigger's WHEN is never planned: see 0009).
CREATE TRIGGER bookings_mail AFTER UPDATE OF status, start_at ON bookings
  FOR EACH ROW WHEN (NEW.parent_id IS NULL AND current_setting('slotd.mail', true) = 'on')
  EXECUTE FUNCTION api.mail_queue();

CREATE FUNCTION api.booking_ics_sequence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.ics_sequence := OLD.ics_sequence + 1;
  RETURN NEW;
END $$;

CREATE TRIGGER bookings_ics_sequence BEFORE UPDATE OF status, start_at ON bookings
  FOR EACH ROW WHEN (NEW.parent_id IS NULL AND (NEW.start_at IS DISTINCT FROM OLD.start_at
                     OR (NEW.status = 'cancelled' AND OLD.status IS DISTINCT FROM 'cancelled')))
  EXECUTE FUNCTION api.booking_ics_sequence();

-- ---------------------------------------------------------------- the booking writes

-- api.booking_create and api.booking_create_team in their final form of issues 13 and 14: the
-- customer (0013), payment status and window (0015), and now p_notify (false: the invitee is
-- sent nothing about this booking, ever) and p_mail (the sealed tokens the first mails need),
-- and the first mails queued when e-mail is on.
DROP FUNCTION api.booking_create(bigint, bigint, bigint, bigint, bigint, text, integer, boolean, text, text, text, text,
                                 text, jsonb, text, text, text, text, uuid, text, text);
DROP FUNCTION api.booking_create_team(bigint[], bigint[], bigint, bigint, bigint, text, integer, boolean, text, text,
                                      text, text, text, jsonb, text, text, text, text, uuid, text, text);

CREATE FUNCTION api.booking_create(p_host bigint, p_version bigint, p_event_type bigint, p_start bigint, p_end bigint,
  p_status text, p_seats integer, p_seated boolean, p_name text, p_email text, p_timezone text, p_notes text,
  p_phone text, p_answers jsonb, p_number text, p_cancel_hash text, p_reschedule_hash text, p_confirm_hash text,
  p_reservation uuid, p_confirm_url text, p_decline_url text,
  p_notify boolean, p_mail text)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean)
LANGUAGE plpgsql AS $$
DECLARE
  b bookings;
  e event_types;
  bj jsonb;
  ty text;
  cust bigint;
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
  SELECT * INTO e FROM event_types t WHERE t.id = p_event_type;
  cust := api.booking_customer(e, p_host, p_name, p_email, p_phone, p_timezone);  -- 403 when blocked
  INSERT INTO bookings (host_id, event_type_id, start_at, end_at, status, seats, seated, invitee_name,
                        invitee_email, invitee_timezone, notes, phone, answers, confirmation_number,
                        cancel_token_hash, reschedule_token_hash, confirm_token_hash, customer_id, amount_due,
                        currency, payment_status, payment_expires_at, notify_invitee)
  VALUES (p_host, p_event_type, to_timestamp(p_start), to_timestamp(p_end),
          CASE WHEN e.requires_payment AND p_status = 'confirmed' THEN 'pending_payment' ELSE p_status END,
          p_seats, p_seated, p_name, p_email, p_timezone, p_notes, p_phone, coalesce(p_answers, '{}'), p_number,
          p_cancel_hash, p_reschedule_hash, p_confirm_hash, cust, nullif(e.price, 0),
          CASE WHEN e.price > 0 THEN e.currency END, CASE WHEN e.price > 0 THEN 'unpaid' END,
          CASE WHEN e.requires_payment AND p_status = 'confirmed'
               THEN now() + make_interval(mins => e.payment_window_minutes) END, coalesce(p_notify, true))
  ON CONFLICT (confirmation_number) DO NOTHING
  RETURNING * INTO b;
  IF b.id IS NULL THEN  -- a confirmation number collided: C reads and draws again
    PERFORM pg_notify('slotd_host', p_host::text);
    RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN;
  END IF;
  bj := api.booking_json_with(b, e);
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
  WHERE (w.user_id = p_host OR w.org_id = e.org_id) AND w.is_active AND ty = ANY (w.events);
  IF FOUND THEN PERFORM pg_notify('slotd_webhooks', ''); END IF;
  IF b.status = 'pending_payment' THEN PERFORM pg_notify('slotd_payments', ''); END IF;  -- the expiry timer
  IF current_setting('slotd.mail', true) = 'on' THEN PERFORM api.mail_created(b, p_mail); END IF;
  PERFORM pg_notify('slotd_host', p_host::text);
  RETURN QUERY SELECT bj, ARRAY[p_host], false;
END $$;

CREATE FUNCTION api.booking_create_team(p_hosts bigint[], p_versions bigint[], p_event_type bigint, p_start bigint,
  p_end bigint, p_status text, p_seats integer, p_seated boolean, p_name text, p_email text, p_timezone text,
  p_notes text, p_phone text, p_answers jsonb, p_number text, p_cancel_hash text, p_reschedule_hash text,
  p_confirm_hash text, p_reservation uuid, p_confirm_url text, p_decline_url text,
  p_notify boolean, p_mail text)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean)
LANGUAGE plpgsql AS $$
DECLARE
  b bookings;
  e event_types;
  bj jsonb;
  ty text;
  h bigint;
  cust bigint;
BEGIN
  IF p_reservation IS NOT NULL THEN PERFORM api.fail(400, 'holds are not supported here', 'reservation_uid'); END IF;
  FOREACH h IN ARRAY p_hosts LOOP PERFORM pg_advisory_xact_lock(h); END LOOP;
  PERFORM 1 FROM users u WHERE u.id = ANY (p_hosts) ORDER BY u.id FOR UPDATE;
  IF (SELECT count(*) FROM unnest(p_hosts, p_versions) x(id, v) JOIN users u ON u.id = x.id AND u.version = x.v)
     <> cardinality(p_hosts) THEN
    RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN;
  END IF;
  UPDATE users u SET version = u.version + 1 WHERE u.id = ANY (p_hosts);
  PERFORM set_config('slotd.bumped', array_to_string(p_hosts, ','), true);
  SELECT * INTO e FROM event_types t WHERE t.id = p_event_type;
  cust := api.booking_customer(e, p_hosts[1], p_name, p_email, p_phone, p_timezone);  -- 403 when blocked
  INSERT INTO bookings (host_id, event_type_id, start_at, end_at, status, seats, seated, invitee_name,
                        invitee_email, invitee_timezone, notes, phone, answers, confirmation_number,
                        cancel_token_hash, reschedule_token_hash, confirm_token_hash, customer_id, amount_due,
                        currency, payment_status, payment_expires_at, notify_invitee)
  VALUES (p_hosts[1], p_event_type, to_timestamp(p_start), to_timestamp(p_end),
          CASE WHEN e.requires_payment AND p_status = 'confirmed' THEN 'pending_payment' ELSE p_status END,
          p_seats, p_seated, p_name, p_email, p_timezone, p_notes, p_phone, coalesce(p_answers, '{}'), p_number,
          p_cancel_hash, p_reschedule_hash, p_confirm_hash, cust, nullif(e.price, 0),
          CASE WHEN e.price > 0 THEN e.currency END, CASE WHEN e.price > 0 THEN 'unpaid' END,
          CASE WHEN e.requires_payment AND p_status = 'confirmed'
               THEN now() + make_interval(mins => e.payment_window_minutes) END, coalesce(p_notify, true))
  ON CONFLICT (confirmation_number) DO NOTHING
  RETURNING * INTO b;
  IF b.id IS NULL THEN  -- a confirmation number collided: C reads and draws again
    FOREACH h IN ARRAY p_hosts LOOP PERFORM pg_notify('slotd_host', h::text); END LOOP;
    RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN;
  END IF;
  INSERT INTO bookings (host_id, event_type_id, start_at, end_at, status, seats, seated, invitee_name,
                        invitee_email, invitee_timezone, answers, parent_id)
  SELECT x, p_event_type, b.start_at, b.end_at, b.status, b.seats, b.seated, b.invitee_name, b.invitee_email,
         b.invitee_timezone, '{}', b.id
  FROM unnest(p_hosts[2:]) x;
  bj := api.booking_json_with(b, e);
  ty := CASE WHEN b.status = 'pending' THEN 'booking.requested' ELSE 'booking.created' END;
  WITH ev AS (
    INSERT INTO events (host_id, type, booking_id, payload)
    SELECT x, ty, b.id, jsonb_build_object('event', ty, 'created_at', api.rfc3339(now()),
            'data', jsonb_build_object('booking', bj || jsonb_build_object('event_type', bj->'event_name')
              || CASE WHEN b.status = 'pending' AND p_confirm_url IS NOT NULL THEN jsonb_build_object(
                   'confirm_url', p_confirm_url, 'decline_url', p_decline_url) ELSE '{}' END))
    FROM unnest(p_hosts) x
    RETURNING id, host_id, payload)
  INSERT INTO webhook_deliveries (webhook_id, event_id, event, payload)
  SELECT w.id, ev.id, ty, ev.payload::text FROM ev JOIN webhooks w
    ON w.user_id = ev.host_id OR (w.org_id = e.org_id AND ev.host_id = p_hosts[1])  -- the org hears it once
  WHERE w.is_active AND ty = ANY (w.events);
  IF FOUND THEN PERFORM pg_notify('slotd_webhooks', ''); END IF;
  IF b.status = 'pending_payment' THEN PERFORM pg_notify('slotd_payments', ''); END IF;  -- the expiry timer
  IF current_setting('slotd.mail', true) = 'on' THEN PERFORM api.mail_created(b, p_mail); END IF;
  FOREACH h IN ARRAY p_hosts LOOP PERFORM pg_notify('slotd_host', h::text); END LOOP;
  RETURN QUERY SELECT bj, p_hosts, false;
END $$;

-- ---------------------------------------------------------------- the channel

-- Claims due rows (lease, attempt counted) with what composing them needs: the recipient(s)
-- (the invitee; or the booking's host and a collective booking's other hosts), their zone, the
-- branding (the host's booking page, or the org), the event, the times and the sealed secrets.
CREATE FUNCTION api.mail_claim(p_limit integer, p_lease integer)
RETURNS TABLE (id bigint, attempts integer, kind text, secrets text, to_emails text[], to_name text, to_tz text,
               booking jsonb, uid uuid, sequence integer, start_at bigint, end_at bigint, previous_start bigint,
               host_name text, host_email text, brand_name text, brand_color text, event_name text,
               location text, confirmation_number text, invitee_name text, invitee_email text, notes text,
               reason text)
LANGUAGE sql AS $$
  WITH due AS (
    SELECT m.id FROM mail_outbox m
    WHERE m.status IN ('pending', 'delivering') AND m.next_attempt_at <= now()
      AND (m.lease_until IS NULL OR m.lease_until < now())
    ORDER BY m.next_attempt_at LIMIT p_limit FOR UPDATE SKIP LOCKED),
  claimed AS (
    UPDATE mail_outbox m SET status = 'delivering', attempts = m.attempts + 1,
      lease_until = now() + make_interval(secs => p_lease), last_attempt_at = now()
    FROM due WHERE m.id = due.id
    RETURNING m.*)
  SELECT c.id, c.attempts, c.kind, c.secrets,
         CASE WHEN c.kind LIKE 'host%' THEN
           ARRAY(SELECT u.email::text FROM users u WHERE u.id = b.host_id
                 UNION ALL SELECT u.email::text FROM bookings s JOIN users u ON u.id = s.host_id WHERE s.parent_id = b.id)
         ELSE ARRAY[b.invitee_email] END,
         CASE WHEN c.kind LIKE 'host%' THEN h.name ELSE b.invitee_name END,
         CASE WHEN c.kind LIKE 'host%' THEN h.timezone ELSE b.invitee_timezone END,
         api.booking_json_with(b, e), b.uid, b.ics_sequence, extract(epoch FROM b.start_at)::bigint,
         extract(epoch FROM b.end_at)::bigint, extract(epoch FROM c.previous_start)::bigint,
         h.name, h.email::text, coalesce(o.name, p.display_name, h.name), p.brand_color, e.name,
         coalesce(e.location_value, e.location_type), b.confirmation_number, b.invitee_name, b.invitee_email,
         b.notes, b.reason
  FROM claimed c JOIN bookings b ON b.id = c.booking_id JOIN event_types e ON e.id = b.event_type_id
  JOIN users h ON h.id = b.host_id LEFT JOIN booking_pages p ON p.user_id = b.host_id
  LEFT JOIN orgs o ON o.id = e.org_id
$$;

-- Records attempt p_attempt: ok → delivered (secrets dropped); permanent or out of retries →
-- failed (secrets dropped, the reply kept); temporary → retried after p_schedule[attempt];
-- dropped: nobody to send to (an erased invitee). Returns seconds until the retry, or NULL.
CREATE FUNCTION api.mail_result(p_id bigint, p_attempt integer, p_outcome text, p_code integer, p_reply text,
                                p_schedule integer[])
RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE m mail_outbox;
BEGIN
  SELECT * INTO m FROM mail_outbox WHERE id = p_id FOR UPDATE;
  IF m.id IS NULL OR m.status <> 'delivering' OR m.attempts <> p_attempt THEN RETURN NULL; END IF;
  IF p_outcome IN ('ok', 'dropped') THEN
    UPDATE mail_outbox SET status = CASE p_outcome WHEN 'ok' THEN 'delivered' ELSE 'dropped' END,
      sent_at = CASE p_outcome WHEN 'ok' THEN now() END, secrets = NULL, lease_until = NULL,
      last_code = p_code, last_reply = p_reply WHERE id = p_id;
    RETURN NULL;
  END IF;
  IF p_outcome = 'permanent' OR m.attempts > coalesce(array_length(p_schedule, 1), 0) THEN
    UPDATE mail_outbox SET status = 'failed', secrets = NULL, lease_until = NULL, last_code = p_code,
      last_reply = p_reply WHERE id = p_id;
    RETURN NULL;
  END IF;
  UPDATE mail_outbox SET status = 'pending', lease_until = NULL, last_code = p_code, last_reply = p_reply,
    next_attempt_at = now() + make_interval(secs => p_schedule[m.attempts])
  WHERE id = p_id;
  RETURN p_schedule[m.attempts]::double precision;
END $$;

CREATE FUNCTION api.mail_next_due() RETURNS double precision LANGUAGE sql STABLE AS $$
  SELECT greatest(0, extract(epoch FROM min(greatest(next_attempt_at, coalesce(lease_until, next_attempt_at))) - now()))
  FROM mail_outbox WHERE status IN ('pending', 'delivering')
$$;

-- Erasure: an erased invitee's mails, sent or not, go with them (0013's api.customer_erase
-- nulls the booking's personal fields; this drops the rows that would carry them).
CREATE FUNCTION api.mail_forget_invitee() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM mail_outbox WHERE booking_id = NEW.id AND kind NOT LIKE 'host%';
  UPDATE mail_outbox SET secrets = NULL WHERE booking_id = NEW.id AND secrets IS NOT NULL;
  RETURN NULL;
END $$;

CREATE TRIGGER bookings_mail_erased AFTER UPDATE OF invitee_email ON bookings
  FOR EACH ROW WHEN (NEW.invitee_email IS NULL AND OLD.invitee_email IS NOT NULL)
  EXECUTE FUNCTION api.mail_forget_invitee();

-- ---------------------------------------------------------------- the invitation, served

-- What GET /api/bookings/:ref/ics and /calendar-links render: by the invitee's cancel or
-- reschedule token (p_hash, its SHA-256; p_ref the booking's uid), or by one of the booking's
-- hosts (p_user; p_ref its id or uid). Anything else: 404, as if there were no such booking.
CREATE FUNCTION api.booking_calendar(p_ref text, p_user bigint, p_hash text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  b bookings;
  bid bigint;
BEGIN
  IF p_hash IS NOT NULL THEN
    SELECT k.* INTO b FROM bookings k WHERE k.cancel_token_hash = p_hash;
    IF b.id IS NULL THEN SELECT k.* INTO b FROM bookings k WHERE k.reschedule_token_hash = p_hash; END IF;
    IF b.uid::text IS DISTINCT FROM p_ref THEN b := NULL; END IF;
  ELSIF p_user IS NOT NULL THEN
    IF p_ref ~ '^[0-9]{1,18}$' THEN bid := p_ref::bigint;
    ELSIF p_ref ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
      SELECT k.id INTO bid FROM bookings k WHERE k.uid = p_ref::uuid;
    END IF;
    bid := api.booking_id_for_host(p_user, bid);
    SELECT k.* INTO b FROM bookings k WHERE k.id = bid;
  END IF;
  IF b.id IS NULL OR b.parent_id IS NOT NULL THEN PERFORM api.fail(404, 'booking not found'); END IF;
  RETURN (SELECT jsonb_build_object('uid', b.uid, 'sequence', b.ics_sequence, 'status', b.status,
            'start', extract(epoch FROM b.start_at)::bigint, 'end', extract(epoch FROM b.end_at)::bigint,
            'event_name', e.name, 'location', coalesce(e.location_value, e.location_type),
            'host_name', h.name, 'host_email', h.email::text, 'invitee_name', b.invitee_name,
            'invitee_email', b.invitee_email)
          FROM event_types e, users h WHERE e.id = b.event_type_id AND h.id = b.host_id);
END $$;
