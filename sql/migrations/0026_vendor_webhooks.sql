-- 0026_vendor_webhooks: deliveries in SchedKit's, Kordless's and Calendesk's own shapes (issues
-- 17 and 18). As for Cal.com (0020), a vendor subscription is a native webhook with a format:
-- same table, same fan-out (the native event names in `events` pick it), same outbox, retries,
-- delivery log and redelivery. A BEFORE INSERT trigger on webhook_deliveries rewrites such a
-- delivery's body, in the transaction of the change it announces, into the vendor's body, which
-- names the event in the vendor's words (or drops it when the vendor has no word for that
-- event); the row keeps "the exact bytes sent and signed" and its native event name (the
-- delivery log lists what the subscription asked for), and the channel (src/jobs/webhooks.c)
-- signs the bytes the vendor's way.
--   schedkit  {event, timestamp, payload}; x-schedkit-signature (made through POST /api/webhooks)
--   kordless  {event, timestamp, webhookId, data {booking}}; X-Kordless-* (POST /api/webhooks)
--   calendesk {event, data}; the native signature headers (made through /api/admin/webhooks, 0027)

ALTER TABLE webhooks DROP CONSTRAINT webhooks_format_check,
  ADD CONSTRAINT webhooks_format_check CHECK (format IN ('native', 'calcom', 'schedkit', 'kordless', 'calendesk'));

-- The native events a format has a word for (what a subscription of that format may ask for).
-- Calendesk's subscriptions are made by its dialect, which picks the native events itself.
CREATE FUNCTION api.vendor_webhooks_carried(p_format text) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE p_format
    WHEN 'schedkit' THEN ARRAY['booking.created', 'booking.confirmed', 'booking.cancelled', 'booking.rescheduled', 'ping']
    WHEN 'kordless' THEN ARRAY['booking.created', 'booking.requested', 'booking.rescheduled', 'booking.cancelled',
                               'booking.declined', 'ping'] END
$$;

-- The vendor's name for native event p_event about a booking in status p_status, or NULL (not
-- sent). SchedKit documents booking.confirmed (a booking that stands: made confirmed, or a
-- request the host confirmed), booking.cancelled and booking.rescheduled. Kordless documents
-- booking.created (pending requests too: its status says so), booking.updated ("a booking was
-- rescheduled", in place or as a new booking) and booking.cancelled (a declined request is
-- canceled in Kordless's words). Calendesk's names are the inverse of its dialect's mapping
-- (api.calendesk_native_events in 0027): created, updated, deleted, paid, user_created.
CREATE FUNCTION api.vendor_webhooks_event(p_format text, p_event text, p_status text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_event = 'ping' THEN 'ping' ELSE CASE p_format
    WHEN 'schedkit' THEN CASE p_event
      WHEN 'booking.created' THEN CASE WHEN p_status = 'confirmed' THEN 'booking.confirmed' END
      WHEN 'booking.confirmed' THEN 'booking.confirmed'
      WHEN 'booking.cancelled' THEN 'booking.cancelled'
      WHEN 'booking.rescheduled' THEN 'booking.rescheduled' END
    WHEN 'kordless' THEN CASE p_event
      WHEN 'booking.created' THEN 'booking.created'
      WHEN 'booking.requested' THEN 'booking.created'
      WHEN 'booking.rescheduled' THEN 'booking.updated'
      WHEN 'booking.cancelled' THEN 'booking.cancelled'
      WHEN 'booking.declined' THEN 'booking.cancelled' END
    WHEN 'calendesk' THEN CASE p_event
      WHEN 'booking.created' THEN 'booking_created'
      WHEN 'booking.requested' THEN 'booking_created'
      WHEN 'booking.rescheduled' THEN 'booking_updated'
      WHEN 'booking.confirmed' THEN 'booking_updated'
      WHEN 'booking.declined' THEN 'booking_updated'
      WHEN 'booking.reassigned' THEN 'booking_updated'
      WHEN 'booking.no_show' THEN 'booking_updated'
      WHEN 'booking.cancelled' THEN 'booking_deleted'
      WHEN 'booking.expired' THEN 'booking_deleted'
      WHEN 'booking.paid' THEN 'booking_paid'
      WHEN 'customer.created' THEN 'user_created' END END END
$$;

-- The tenant's wall clock of a Calendesk subscription: its org's zone, or for a booking-page
-- tenant its user's default schedule's zone, else the user's (as the dialect reads times).
CREATE FUNCTION api.vendor_webhooks_calendesk_tz(w webhooks) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT o.timezone FROM orgs o WHERE o.id = w.org_id),
                  (SELECT s.timezone FROM availability_schedules s WHERE s.user_id = w.user_id AND s.is_default),
                  (SELECT u.timezone FROM users u WHERE u.id = w.user_id), 'UTC')
$$;

-- The data of one delivery: the booking row as the change left it (b), its event type (e), the
-- native event's own object (native: a customer for customer.created).
CREATE FUNCTION api.vendor_webhooks_data(w webhooks, p_event text, b bookings, e event_types, native jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  tz text;
  c jsonb := native #> '{data,customer}';
BEGIN
  IF w.format = 'schedkit' THEN  -- the documented payload, with the booking's status (SchedKit's spelling)
    RETURN jsonb_build_object('id', b.id, 'attendee_name', b.invitee_name, 'attendee_email', b.invitee_email,
                              'start_time', api.rfc3339(b.start_at), 'end_time', api.rfc3339(b.end_at),
                              'event_type', e.name, 'status', b.status);
  ELSIF w.format = 'kordless' THEN  -- ids and spellings as the Kordless dialect shows the booking
    RETURN jsonb_build_object('booking', jsonb_build_object(
      'id', b.uid, 'confirmation_number', b.confirmation_number, 'serviceId', e.slug,
      'startsAt', api.rfc3339(b.start_at), 'endsAt', api.rfc3339(b.end_at),
      'status', CASE WHEN b.status IN ('cancelled', 'declined') THEN 'canceled' ELSE b.status END,
      'contact', jsonb_build_object('name', b.invitee_name, 'email', b.invitee_email, 'phone', b.phone)));
  END IF;
  IF p_event = 'customer.created' THEN  -- Calendesk's user, as its dialect shows customers
    RETURN jsonb_build_object('id', c->'id', 'name', c->'name', 'surname', c->'surname', 'email', c->'email',
      'status', c->'status', 'time_zone', c->'time_zone', 'created_at', c->'created_at',
      'default_phone', CASE WHEN c->>'phone' IS NOT NULL THEN jsonb_build_object('e164', c->'phone') END,
      'tags', c->'tags', 'groups', c->'groups');
  END IF;
  -- Calendesk's booking as its dialect shows it (api.calendesk_booking_json, 0027: resolved when
  -- this runs, after every migration), with the seed's smaller service {id, name}.
  tz := api.vendor_webhooks_calendesk_tz(w);
  RETURN (api.calendesk_booking_json(b, e, tz) - 'service_id')
         || jsonb_build_object('service', jsonb_build_object('id', e.id, 'name', e.name));
END $$;

-- The body's bytes, keys in the vendor's documented order. p_id: the delivery's id (Kordless's
-- webhookId, also sent as X-Kordless-Webhook-Id).
CREATE FUNCTION api.vendor_webhooks_text(p_format text, p_event text, p_ts text, p_id bigint, p_data jsonb)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT '{"event":' || to_json(p_event)::text || CASE p_format
    WHEN 'schedkit' THEN ',"timestamp":' || to_json(p_ts)::text || ',"payload":' || p_data::text
    WHEN 'kordless' THEN ',"timestamp":' || to_json(p_ts)::text || ',"webhookId":' || to_json('whk_' || p_id)::text
                         || ',"data":' || p_data::text
    ELSE ',"data":' || p_data::text END || '}'
$$;

-- One delivery in the format of w: (event, body), or event NULL when the vendor has no word for
-- it. native: the native event's body; its created_at is the vendor's timestamp, so a rewrite of
-- the same delivery (erasure) keeps it.
CREATE FUNCTION api.vendor_webhooks_render(w webhooks, p_event text, native jsonb, p_event_id bigint, p_id bigint,
                                           OUT event text, OUT body text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  b bookings;
  e event_types;
  data jsonb;
BEGIN
  IF p_event = 'ping' THEN  -- the native test delivery (POST /api/webhooks/:id/ping), in the vendor's envelope
    data := CASE w.format WHEN 'kordless' THEN jsonb_build_object('webhook', w.id)
                          ELSE jsonb_build_object('webhook_id', w.id) END;
  ELSIF p_event LIKE 'booking.%' THEN
    SELECT k.* INTO b FROM bookings k
    WHERE k.id = coalesce((SELECT v.booking_id FROM events v WHERE v.id = p_event_id),
                          (native #>> '{data,booking,id}')::bigint);
    IF b.id IS NULL THEN RETURN; END IF;
    -- status and times as the event saw them (a rewrite runs later, on a row since changed)
    b.status := coalesce(native #>> '{data,booking,status}', b.status);
    b.start_at := coalesce((native #>> '{data,booking,start}')::timestamptz, b.start_at);
    b.end_at := coalesce((native #>> '{data,booking,end}')::timestamptz, b.end_at);
    SELECT t.* INTO e FROM event_types t WHERE t.id = b.event_type_id;
  ELSIF p_event <> 'customer.created' THEN
    RETURN;
  END IF;
  event := api.vendor_webhooks_event(w.format, p_event, b.status);
  IF event IS NULL THEN RETURN; END IF;
  IF data IS NULL THEN data := api.vendor_webhooks_data(w, p_event, b, e, native); END IF;
  body := api.vendor_webhooks_text(w.format, event, coalesce(native->>'created_at', api.rfc3339(now())), p_id, data);
END $$;

-- The rewrite (see the top). A body that is not a native event (no created_at) is a redelivery
-- (api.delivery_redeliver copies event and payload): kept, except that Kordless's webhookId
-- names the new delivery, as the native webhook-id does. A failure here must never undo the
-- change that emitted the event: it is logged and the delivery dropped.
CREATE FUNCTION api.vendor_webhooks_delivery() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  w webhooks;
  j jsonb;
  r record;
BEGIN
  SELECT * INTO w FROM webhooks x WHERE x.id = NEW.webhook_id;
  IF w.format IS NULL OR w.format NOT IN ('schedkit', 'kordless', 'calendesk') THEN RETURN NEW; END IF;
  BEGIN
    j := NEW.payload::jsonb;
    IF NOT j ? 'created_at' THEN
      IF w.format = 'kordless' THEN
        NEW.payload := api.vendor_webhooks_text('kordless', j->>'event', j->>'timestamp', NEW.id, j->'data');
      END IF;
      RETURN NEW;
    END IF;
    r := api.vendor_webhooks_render(w, NEW.event, j, NEW.event_id, NEW.id);
    IF r.event IS NULL THEN RETURN NULL; END IF;
    NEW.payload := r.body;  -- event stays the native name: the delivery log lists what was subscribed to
    RETURN NEW;
  EXCEPTION WHEN OTHERS THEN
    RAISE WARNING '% webhook %: delivery of % dropped: %', w.format, w.id, NEW.event, SQLERRM;
    RETURN NULL;
  END;
END $$;

CREATE TRIGGER webhook_deliveries_vendor BEFORE INSERT ON webhook_deliveries
  FOR EACH ROW EXECUTE FUNCTION api.vendor_webhooks_delivery();

-- Erasure (api.customer_erase) overwrites the stored payload of every delivery about the
-- customer with the erased native event: a vendor delivery is written again in the vendor's
-- words from it (same event, timestamp and webhookId), so what may still be sent or redelivered
-- keeps its format and nothing erased. The channel never updates payload.
CREATE FUNCTION api.vendor_webhooks_rewritten() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  w webhooks;
  j jsonb;
  r record;
BEGIN
  SELECT * INTO w FROM webhooks x WHERE x.id = NEW.webhook_id;
  IF w.format IS NULL OR w.format NOT IN ('schedkit', 'kordless', 'calendesk') OR NEW.event_id IS NULL THEN
    RETURN NEW;
  END IF;
  BEGIN
    j := NEW.payload::jsonb;
    IF NOT j ? 'created_at' THEN RETURN NEW; END IF;
    r := api.vendor_webhooks_render(w, j->>'event', j, NEW.event_id, NEW.id);
    IF r.event IS NOT NULL THEN
      NEW.payload := r.body;
    END IF;
    RETURN NEW;
  EXCEPTION WHEN OTHERS THEN  -- the erased native event then stays: it holds nothing erased either
    RAISE WARNING '% webhook %: delivery % not rewritten: %', w.format, w.id, NEW.id, SQLERRM;
    RETURN NEW;
  END;
END $$;

CREATE TRIGGER webhook_deliveries_vendor_rewrite BEFORE UPDATE OF payload ON webhook_deliveries
  FOR EACH ROW WHEN (OLD.payload IS DISTINCT FROM NEW.payload) EXECUTE FUNCTION api.vendor_webhooks_rewritten();

-- ---------------------------------------------------------------- native subscriptions with a format

-- The events a subscription of format p_format asks for must be ones it carries (400 naming them).
CREATE FUNCTION api.vendor_webhooks_check(p_format text, p_events text[]) RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_format IN ('schedkit', 'kordless') AND NOT p_events <@ api.vendor_webhooks_carried(p_format) THEN
    PERFORM api.fail(400, format('format %s carries only the events %s', p_format,
                                 array_to_string(api.vendor_webhooks_carried(p_format), ', ')), 'events');
  END IF;
END $$;

CREATE FUNCTION api.vendor_webhooks_json(w webhooks, j jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN w.format = 'native' THEN j ELSE j || jsonb_build_object('format', w.format) END
$$;

-- POST /api/webhooks (and the org's) with "format": the native create, then the format set.
CREATE FUNCTION api.vendor_webhook_create(p_user bigint, p_url text, p_events text[], p_secret text, p_format text,
                                          p_org bigint DEFAULT NULL) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  j jsonb;
  w webhooks;
BEGIN
  PERFORM api.vendor_webhooks_check(p_format, p_events);
  j := api.webhook_create(p_user, p_url, p_events, p_secret, p_org);
  UPDATE webhooks x SET format = p_format WHERE x.id = (j->>'id')::bigint RETURNING * INTO w;
  RETURN api.vendor_webhooks_json(w, j);
END $$;

CREATE FUNCTION api.org_vendor_webhook_create(p_org bigint, p_user bigint, p_key_org bigint, p_url text,
                                              p_events text[], p_secret text, p_format text) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  RETURN api.vendor_webhook_create(NULL, p_url, p_events, p_secret, p_format, p_org);
END $$;

-- PUT /api/webhooks/:id (and the org's) with "format" or "events": a Cal.com or Calendesk subscription keeps
-- its dialect's format (400); the events, old or new, must be ones the resulting format carries.
CREATE FUNCTION api.vendor_webhook_update(p_user bigint, p_id bigint, p jsonb, p_org bigint DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  w webhooks;
  fmt text;
  j jsonb;
BEGIN
  SELECT * INTO w FROM webhooks x WHERE x.id = p_id AND api.webhook_owned(x, p_user, p_org) FOR UPDATE;
  IF w.id IS NULL THEN PERFORM api.fail(404, 'webhook not found'); END IF;
  fmt := coalesce(p->>'format', w.format);
  IF w.format IN ('calcom', 'calendesk') AND fmt IS DISTINCT FROM w.format THEN
    PERFORM api.fail(400, format('this webhook was made through the %s dialect and keeps its format', w.format),
                     'format');
  END IF;
  PERFORM api.vendor_webhooks_check(fmt,
    coalesce((SELECT array_agg(x) FROM jsonb_array_elements_text(p->'events') x), w.events));
  j := api.webhook_update(p_user, p_id, p - 'format', p_org);
  UPDATE webhooks x SET format = fmt WHERE x.id = p_id RETURNING * INTO w;
  RETURN api.vendor_webhooks_json(w, j);
END $$;

CREATE FUNCTION api.org_vendor_webhook_update(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint, p jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  RETURN api.vendor_webhook_update(NULL, p_id, p, p_org);
END $$;
