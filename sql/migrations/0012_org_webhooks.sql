-- Org webhooks (issue 12): /api/orgs/:id/webhooks, the same shapes as /api/webhooks, receiving
-- the events of the org's event types. An org webhook has org_id set and no user (user_id
-- NULL), so every personal function's `user_id = p_user` leaves it out; the personal functions
-- gain a trailing p_org that, when given, addresses the org's webhooks instead, and the org
-- variants check the caller's role first (owners, admins, the org's keys).

ALTER TABLE webhooks ALTER COLUMN user_id DROP NOT NULL,
  ADD COLUMN org_id bigint REFERENCES orgs ON DELETE CASCADE,
  ADD CONSTRAINT webhooks_owner CHECK ((user_id IS NULL) <> (org_id IS NULL));
CREATE INDEX webhooks_org ON webhooks (org_id) WHERE org_id IS NOT NULL;
DROP TRIGGER webhooks_cap ON webhooks;
CREATE TRIGGER webhooks_cap BEFORE INSERT ON webhooks FOR EACH ROW WHEN (NEW.org_id IS NULL)
  EXECUTE FUNCTION api.cap_rows('user_id', '50', 'too many webhooks');
CREATE TRIGGER webhooks_org_cap BEFORE INSERT ON webhooks FOR EACH ROW WHEN (NEW.org_id IS NOT NULL)
  EXECUTE FUNCTION api.cap_org_rows('org_id', '50', 'too many webhooks');

CREATE FUNCTION api.webhook_owned(w webhooks, p_user bigint, p_org bigint) RETURNS boolean LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN p_org IS NULL THEN w.user_id = p_user AND w.org_id IS NULL ELSE w.org_id = p_org END $$;

DROP FUNCTION api.webhooks_list(bigint);
CREATE FUNCTION api.webhooks_list(p_user bigint, p_org bigint DEFAULT NULL) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(jsonb_agg(api.webhook_json(w) ORDER BY w.id), '[]') FROM webhooks w
  WHERE CASE WHEN p_org IS NULL THEN w.user_id = p_user ELSE w.org_id = p_org END
$$;

DROP FUNCTION api.webhook_create(bigint, text, text[], text);
CREATE FUNCTION api.webhook_create(p_user bigint, p_url text, p_events text[], p_secret text, p_org bigint DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE w webhooks;
BEGIN
  INSERT INTO webhooks (user_id, org_id, url, events, secret)
  VALUES (CASE WHEN p_org IS NULL THEN p_user END, p_org, p_url, p_events, p_secret) RETURNING * INTO w;
  RETURN api.webhook_json(w) || jsonb_build_object('secret', w.secret);  -- shown this once
END $$;

DROP FUNCTION api.webhook_update(bigint, bigint, jsonb);
CREATE FUNCTION api.webhook_update(p_user bigint, p_id bigint, p jsonb, p_org bigint DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE w webhooks;
BEGIN
  UPDATE webhooks x SET
    url = coalesce(p->>'url', x.url),
    events = coalesce((SELECT array_agg(e) FROM jsonb_array_elements_text(p->'events') e), x.events),
    secret = coalesce(p->>'secret', x.secret),
    is_active = coalesce((p->>'is_active')::boolean, x.is_active),
    updated_at = now()
  WHERE x.id = p_id AND api.webhook_owned(x, p_user, p_org) RETURNING * INTO w;
  IF w.id IS NULL THEN PERFORM api.fail(404, 'webhook not found'); END IF;
  RETURN api.webhook_json(w);
END $$;

DROP FUNCTION api.webhook_delete(bigint, bigint);
CREATE FUNCTION api.webhook_delete(p_user bigint, p_id bigint, p_org bigint DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM webhooks x WHERE x.id = p_id AND api.webhook_owned(x, p_user, p_org);
  IF NOT FOUND THEN PERFORM api.fail(404, 'webhook not found'); END IF;
  RETURN '{"ok": true}';
END $$;

DROP FUNCTION api.webhook_ping(bigint, bigint);
CREATE FUNCTION api.webhook_ping(p_user bigint, p_id bigint, p_org bigint DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  w webhooks;
  d webhook_deliveries;
BEGIN
  SELECT * INTO w FROM webhooks x WHERE x.id = p_id AND api.webhook_owned(x, p_user, p_org);
  IF w.id IS NULL THEN PERFORM api.fail(404, 'webhook not found'); END IF;
  INSERT INTO webhook_deliveries (webhook_id, event, payload)
  VALUES (w.id, 'ping', jsonb_build_object('event', 'ping', 'created_at', api.rfc3339(now()),
                                           'data', jsonb_build_object('webhook_id', w.id))::text)
  RETURNING * INTO d;
  PERFORM pg_notify('slotd_webhooks', '');
  RETURN jsonb_build_object('ok', true, 'delivery_id', d.id);
END $$;

DROP FUNCTION api.deliveries_list(bigint, bigint, integer, integer);
CREATE FUNCTION api.deliveries_list(p_user bigint, p_id bigint, p_limit integer, p_offset integer,
                                    p_org bigint DEFAULT NULL)
RETURNS TABLE (body jsonb, total bigint) LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = p_id AND api.webhook_owned(w, p_user, p_org)) THEN
    PERFORM api.fail(404, 'webhook not found');
  END IF;
  RETURN QUERY
  SELECT coalesce((SELECT jsonb_agg(api.delivery_json(d) ORDER BY d.id DESC)
                   FROM (SELECT * FROM webhook_deliveries x WHERE x.webhook_id = p_id
                         ORDER BY x.id DESC LIMIT p_limit OFFSET p_offset) d), '[]'),
         (SELECT count(*) FROM webhook_deliveries x WHERE x.webhook_id = p_id);
END $$;

DROP FUNCTION api.delivery_redeliver(bigint, bigint, bigint);
CREATE FUNCTION api.delivery_redeliver(p_user bigint, p_hook bigint, p_delivery bigint, p_org bigint DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE d webhook_deliveries;
BEGIN
  INSERT INTO webhook_deliveries (webhook_id, event_id, event, payload)
  SELECT o.webhook_id, o.event_id, o.event, o.payload FROM webhook_deliveries o JOIN webhooks w ON w.id = o.webhook_id
  WHERE o.id = p_delivery AND o.webhook_id = p_hook AND api.webhook_owned(w, p_user, p_org)
  RETURNING * INTO d;
  IF d.id IS NULL THEN PERFORM api.fail(404, 'delivery not found'); END IF;
  PERFORM pg_notify('slotd_webhooks', '');
  RETURN jsonb_build_object('ok', true, 'delivery_id', d.id);
END $$;

-- The org variants: (p_org, p_user, p_key_org, ...) as every org statement.
CREATE FUNCTION api.org_webhooks_list(p_org bigint, p_user bigint, p_key_org bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  RETURN api.webhooks_list(NULL, p_org);
END $$;
CREATE FUNCTION api.org_webhook_create(p_org bigint, p_user bigint, p_key_org bigint, p_url text, p_events text[],
                                       p_secret text) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  RETURN api.webhook_create(NULL, p_url, p_events, p_secret, p_org);
END $$;
CREATE FUNCTION api.org_webhook_update(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint, p jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  RETURN api.webhook_update(NULL, p_id, p, p_org);
END $$;
CREATE FUNCTION api.org_webhook_delete(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  RETURN api.webhook_delete(NULL, p_id, p_org);
END $$;
CREATE FUNCTION api.org_webhook_ping(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  RETURN api.webhook_ping(NULL, p_id, p_org);
END $$;
CREATE FUNCTION api.org_deliveries_list(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint, p_limit integer,
                                        p_offset integer) RETURNS TABLE (body jsonb, total bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  RETURN QUERY SELECT * FROM api.deliveries_list(NULL, p_id, p_limit, p_offset, p_org);
END $$;
CREATE FUNCTION api.org_delivery_redeliver(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint,
                                           p_delivery bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  RETURN api.delivery_redeliver(NULL, p_id, p_delivery, p_org);
END $$;

-- ---------------------------------------------------------------- emission

-- The event of a booking of an org type also goes to the org's webhooks (p_org_too: false for
-- the second of two events about one change, e.g. a reassignment's previous host).
DROP FUNCTION api.emit_json(bigint, text, bigint, jsonb, jsonb);
CREATE FUNCTION api.emit_json(p_host bigint, p_type text, p_booking bigint, bj jsonb, p_extra jsonb DEFAULT '{}',
                              p_org_too boolean DEFAULT true)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  ev events;
  org bigint;
BEGIN
  IF p_org_too THEN
    SELECT t.org_id INTO org FROM bookings b JOIN event_types t ON t.id = b.event_type_id WHERE b.id = p_booking;
  END IF;
  INSERT INTO events (host_id, type, booking_id, payload)
  VALUES (p_host, p_type, p_booking, jsonb_build_object('event', p_type, 'created_at', api.rfc3339(now()),
          'data', jsonb_build_object('booking', bj || p_extra || jsonb_build_object('event_type', bj->'event_name'))))
  RETURNING * INTO ev;
  INSERT INTO webhook_deliveries (webhook_id, event_id, event, payload)
  SELECT w.id, ev.id, p_type, ev.payload::text FROM webhooks w
  WHERE (w.user_id = p_host OR w.org_id = org) AND w.is_active AND p_type = ANY (w.events);
  IF FOUND THEN PERFORM pg_notify('slotd_webhooks', ''); END IF;
END $$;

-- The writes with their own outbox statement: the org's webhooks too.
CREATE OR REPLACE FUNCTION api.booking_create(p_host bigint, p_version bigint, p_event_type bigint, p_start bigint, p_end bigint,
  p_status text, p_seats integer, p_seated boolean, p_name text, p_email text, p_timezone text, p_notes text,
  p_phone text, p_answers jsonb, p_number text, p_cancel_hash text, p_reschedule_hash text, p_confirm_hash text,
  p_reservation uuid, p_confirm_url text, p_decline_url text)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean)
LANGUAGE plpgsql AS $$
DECLARE
  b bookings;
  bj jsonb;
  ty text;
  org bigint;
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
  SELECT api.booking_json_with(b, e), e.org_id INTO bj, org FROM event_types e WHERE e.id = b.event_type_id;
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
  WHERE (w.user_id = p_host OR w.org_id = org) AND w.is_active AND ty = ANY (w.events);
  IF FOUND THEN PERFORM pg_notify('slotd_webhooks', ''); END IF;
  PERFORM pg_notify('slotd_host', p_host::text);
  RETURN QUERY SELECT bj, ARRAY[p_host], false;
END $$;

CREATE OR REPLACE FUNCTION api.booking_create_team(p_hosts bigint[], p_versions bigint[], p_event_type bigint, p_start bigint,
  p_end bigint, p_status text, p_seats integer, p_seated boolean, p_name text, p_email text, p_timezone text,
  p_notes text, p_phone text, p_answers jsonb, p_number text, p_cancel_hash text, p_reschedule_hash text,
  p_confirm_hash text, p_reservation uuid, p_confirm_url text, p_decline_url text)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean)
LANGUAGE plpgsql AS $$
DECLARE
  b bookings;
  bj jsonb;
  ty text;
  h bigint;
  org bigint;
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
  INSERT INTO bookings (host_id, event_type_id, start_at, end_at, status, seats, seated, invitee_name,
                        invitee_email, invitee_timezone, notes, phone, answers, confirmation_number,
                        cancel_token_hash, reschedule_token_hash, confirm_token_hash)
  VALUES (p_hosts[1], p_event_type, to_timestamp(p_start), to_timestamp(p_end), p_status, p_seats, p_seated, p_name,
          p_email, p_timezone, p_notes, p_phone, coalesce(p_answers, '{}'), p_number, p_cancel_hash,
          p_reschedule_hash, p_confirm_hash)
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
  SELECT api.booking_json_with(b, e), e.org_id INTO bj, org FROM event_types e WHERE e.id = b.event_type_id;
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
    ON w.user_id = ev.host_id OR (w.org_id = org AND ev.host_id = p_hosts[1])  -- the org hears it once
  WHERE w.is_active AND ty = ANY (w.events);
  IF FOUND THEN PERFORM pg_notify('slotd_webhooks', ''); END IF;
  FOREACH h IN ARRAY p_hosts LOOP PERFORM pg_notify('slotd_host', h::text); END LOOP;
  RETURN QUERY SELECT bj, p_hosts, false;
END $$;

CREATE OR REPLACE FUNCTION api.booking_reassign(p_booking bigint, p_host bigint, p_version bigint, p_old bigint)
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
