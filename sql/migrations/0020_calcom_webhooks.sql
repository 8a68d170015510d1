-- 0020_calcom_webhooks: Cal.com API v2 (issue 16) -- webhooks in Cal.com's format, event-type
-- webhooks, /v2/me's settings slotd has no column for.
--
-- A Cal.com subscription is a native webhook (same table, same outbox, same retries and delivery
-- log) with format 'calcom': its Cal.com trigger names are kept as given (calcom_triggers) and
-- translated into the native event names it must hear (events), so the native fan-out (api.emit_json,
-- the booking writes) picks it exactly as it picks any webhook; event_type_id narrows it to one
-- event type's bookings; payload_template is Cal.com's handlebars-style template. A BEFORE INSERT
-- trigger on webhook_deliveries rewrites such a delivery, in the transaction of the change it
-- announces, into Cal.com's body {"triggerEvent", "createdAt", "payload"} (or the rendered
-- template), or drops it when the subscription's event type or triggers do not match. The
-- delivery keeps "the exact bytes sent and signed"; the channel signs them with
-- X-Cal-Signature-256 (src/jobs/webhooks.c).

ALTER TABLE webhooks
  ADD COLUMN format text NOT NULL DEFAULT 'native' CHECK (format IN ('native', 'calcom')),
  ADD COLUMN event_type_id bigint REFERENCES event_types ON DELETE CASCADE,
  ADD COLUMN calcom_triggers text[],
  ADD COLUMN payload_template text,
  ADD CONSTRAINT webhooks_calcom_only CHECK (format = 'calcom' OR (event_type_id IS NULL AND calcom_triggers IS NULL
                                                                   AND payload_template IS NULL));
CREATE INDEX webhooks_event_type ON webhooks (event_type_id) WHERE event_type_id IS NOT NULL;

-- NULL: application/json. A payloadTemplate that is not JSON is sent form-encoded, as Cal.com does.
ALTER TABLE webhook_deliveries ADD COLUMN content_type text;

-- /v2/me fields slotd has no column for (Cal.com's user settings), kept and returned.
CREATE TABLE calcom_user_settings (
  user_id     bigint PRIMARY KEY REFERENCES users ON DELETE CASCADE,
  time_format integer NOT NULL DEFAULT 12 CHECK (time_format IN (12, 24)),
  week_start  text NOT NULL DEFAULT 'Sunday'
              CHECK (week_start IN ('Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday')),
  locale      text,
  metadata    jsonb NOT NULL DEFAULT '{}'
);

-- ---------------------------------------------------------------- triggers and native events

-- The native events a Cal.com trigger hears. A requested booking's confirmation is Cal.com's
-- BOOKING_CREATED (its confirm handler sends that trigger); a booking created awaiting payment is
-- BOOKING_PAYMENT_INITIATED instead, and BOOKING_CREATED comes when the payment confirms it
-- (booking.paid; api.calcom_delivery decides on the rows).
CREATE FUNCTION api.calcom_trigger_events(p_triggers text[]) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(array_agg(DISTINCT ev ORDER BY ev), '{}') FROM unnest(p_triggers) t,
    unnest(CASE t WHEN 'BOOKING_CREATED' THEN ARRAY['booking.created', 'booking.confirmed', 'booking.paid']
                  WHEN 'BOOKING_PAYMENT_INITIATED' THEN ARRAY['booking.created']
                  WHEN 'BOOKING_REQUESTED' THEN ARRAY['booking.requested']
                  WHEN 'BOOKING_REJECTED' THEN ARRAY['booking.declined']
                  WHEN 'BOOKING_CANCELLED' THEN ARRAY['booking.cancelled']
                  WHEN 'BOOKING_RESCHEDULED' THEN ARRAY['booking.rescheduled']
                  WHEN 'BOOKING_PAID' THEN ARRAY['booking.paid']
                  WHEN 'BOOKING_NO_SHOW_UPDATED' THEN ARRAY['booking.no_show'] END) ev
$$;

-- ---------------------------------------------------------------- the payload

-- Minutes east of UTC in zone z at t (Cal.com's utcOffset). An unknown zone name is 0, never an
-- error: this runs inside the booking's transaction.
CREATE FUNCTION api.calcom_utc_offset(z text, t timestamptz) RETURNS integer LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (extract(epoch FROM (t AT TIME ZONE z) - (t AT TIME ZONE 'UTC')) / 60)::integer;
EXCEPTION WHEN OTHERS THEN
  RETURN 0;
END $$;

-- Cal.com's booking webhook payload (its 2021-10-20 builder: the CalendarEvent plus the event
-- type's fields and the trigger's extras), from the booking row as the change left it. native:
-- the native event's booking object (previous times of an in-place move, the payment).
CREATE FUNCTION api.calcom_booking_payload(b bookings, p_trigger text, native jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  e event_types;
  u users;
  slug text;
  st calcom_user_settings;
  old bookings;
  first text := split_part(btrim(b.invitee_name), ' ', 1);
  lead bookings;
  answers jsonb;
  p jsonb;
BEGIN
  IF p_trigger = 'BOOKING_NO_SHOW_UPDATED' THEN
    IF b.seated THEN SELECT * INTO lead FROM api.calcom_group(b) LIMIT 1; END IF;
    IF lead.id IS NULL THEN lead := b; END IF;
    RETURN jsonb_build_object('message', coalesce(b.invitee_email, 'User') || ' marked as no-show', 'bookingUid', api.calcom_public_uid(lead),
                              'bookingId', lead.id,
                              'attendees', jsonb_build_array(jsonb_build_object('email', b.invitee_email,
                                                                                'noShow', b.no_show)));
  END IF;
  -- A seat is one slotd booking; Cal.com's booking is the seated group, named by its first seat
  -- (the bookings area's rule, api.calcom_group), and the seat by attendeeSeatId.
  IF b.seated THEN SELECT * INTO lead FROM api.calcom_group(b) LIMIT 1; END IF;
  IF lead.id IS NULL THEN lead := b; END IF;
  SELECT * INTO e FROM event_types t WHERE t.id = b.event_type_id;
  SELECT * INTO u FROM users x WHERE x.id = b.host_id;
  SELECT g.slug::text INTO slug FROM booking_pages g WHERE g.user_id = u.id;
  SELECT * INTO st FROM calcom_user_settings s WHERE s.user_id = u.id;
  SELECT coalesce(jsonb_object_agg(k, jsonb_build_object('label', k, 'value', v)), '{}') INTO answers
  FROM jsonb_each(CASE WHEN jsonb_typeof(b.answers) = 'object' THEN b.answers ELSE '{}' END) x(k, v);
  p := jsonb_build_object(
    'type', e.slug,
    'title', CASE WHEN b.invitee_name IS NULL THEN e.name  -- erased (api.customer_erase)
                  ELSE e.name || ' between ' || u.name || ' and ' || b.invitee_name END,
    'description', coalesce(b.notes, ''),
    'additionalNotes', coalesce(b.notes, ''),
    'customInputs', '{}'::jsonb,
    'startTime', api.rfc3339(b.start_at),
    'endTime', api.rfc3339(b.end_at),
    'organizer', jsonb_build_object('id', u.id, 'name', u.name, 'email', u.email::text, 'username', slug,
                                    'timeZone', u.timezone,
                                    'language', jsonb_build_object('locale', coalesce(st.locale, 'en')),
                                    'timeFormat', CASE WHEN st.time_format = 24 THEN 'HH:mm' ELSE 'h:mma' END,
                                    'utcOffset', api.calcom_utc_offset(u.timezone, b.start_at)),
    'responses', jsonb_build_object('name', jsonb_build_object('label', 'your_name', 'value', b.invitee_name),
                                    'email', jsonb_build_object('label', 'email_address', 'value', b.invitee_email))
                 || CASE WHEN b.notes IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('notes',
                      jsonb_build_object('label', 'additional_notes', 'value', b.notes)) END
                 || CASE WHEN b.phone IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('attendeePhoneNumber',
                      jsonb_build_object('label', 'phone_number', 'value', b.phone)) END
                 || answers,
    'userFieldsResponses', answers,
    'attendees', jsonb_build_array(jsonb_build_object(
                   'email', b.invitee_email, 'name', b.invitee_name, 'firstName', first,
                   'lastName', btrim(substr(btrim(b.invitee_name), length(first) + 1)),
                   'timeZone', b.invitee_timezone, 'language', jsonb_build_object('locale', 'en'),
                   'utcOffset', api.calcom_utc_offset(b.invitee_timezone, b.start_at))),
    'location', coalesce(e.location_value, e.location_type),
    'destinationCalendar', NULL,
    'hideCalendarNotes', false,
    'requiresConfirmation', e.requires_confirmation,
    'eventTypeId', e.id,
    'seatsPerTimeSlot', CASE WHEN e.seats > 1 THEN e.seats END,
    'schedulingType', CASE e.scheduling WHEN 'round_robin' THEN 'ROUND_ROBIN' WHEN 'collective' THEN 'COLLECTIVE' END,
    'iCalSequence', b.ics_sequence,
    'uid', api.calcom_public_uid(lead),
    'bookingId', lead.id,
    'eventTitle', e.name,
    'eventDescription', e.description,
    'price', CASE WHEN e.price IS NULL THEN 0 ELSE round(e.price * 100)::bigint END,  -- minor units, as Cal.com
    'currency', lower(coalesce(e.currency, 'usd')),
    'length', (extract(epoch FROM b.end_at - b.start_at) / 60)::integer,
    'status', CASE p_trigger WHEN 'BOOKING_REQUESTED' THEN 'PENDING' WHEN 'BOOKING_CANCELLED' THEN 'CANCELLED'
                             WHEN 'BOOKING_REJECTED' THEN 'REJECTED' ELSE 'ACCEPTED' END,
    'metadata', '{}'::jsonb)
    || CASE WHEN b.seated THEN jsonb_build_object('attendeeSeatId', b.uid) ELSE '{}'::jsonb END
    || CASE WHEN e.org_id IS NULL THEN '{}'::jsonb
            ELSE jsonb_build_object('team', (SELECT jsonb_build_object('id', o.id, 'name', o.name)
                                             FROM orgs o WHERE o.id = e.org_id)) END;
  IF p_trigger = 'BOOKING_CANCELLED' THEN
    p := p || jsonb_build_object('cancellationReason', b.reason, 'requestReschedule', false,
                                 'cancelledBy', CASE b.cancelled_by WHEN 'host' THEN u.email::text
                                                                    WHEN 'invitee' THEN b.invitee_email END);
  ELSIF p_trigger = 'BOOKING_REJECTED' THEN
    p := p || jsonb_build_object('rejectionReason', b.reason);
  ELSIF p_trigger = 'BOOKING_RESCHEDULED' THEN
    IF b.rescheduled_from IS NOT NULL THEN  -- a reschedule that made this new booking
      SELECT * INTO old FROM bookings k WHERE k.id = b.rescheduled_from;
      p := p || jsonb_build_object('rescheduleId', old.id, 'rescheduleUid', old.uid,
                                   'rescheduleStartTime', api.rfc3339(old.start_at),
                                   'rescheduleEndTime', api.rfc3339(old.end_at),
                                   'rescheduledBy', CASE b.rescheduled_by WHEN 'host' THEN u.email::text
                                                                          WHEN 'invitee' THEN b.invitee_email
                                                                          ELSE b.rescheduled_by END);
    ELSE  -- moved in place: the same booking at its previous time
      p := p || jsonb_build_object('rescheduleId', b.id, 'rescheduleUid', b.uid,
                                   'rescheduleStartTime', native->'previous_start',
                                   'rescheduleEndTime', native->'previous_end');
    END IF;
  ELSIF p_trigger IN ('BOOKING_PAID', 'BOOKING_PAYMENT_INITIATED') THEN
    p := p || jsonb_build_object('paymentId', native #> '{payment,id}', 'paymentData', native->'payment');
  END IF;
  RETURN p;
END $$;

-- JavaScript's String(value) of a JSON value, as handlebars prints it (null: empty).
CREATE FUNCTION api.calcom_js_string(v jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE jsonb_typeof(v)
    WHEN 'string' THEN v #>> '{}'
    WHEN 'number' THEN v::text
    WHEN 'boolean' THEN v::text
    WHEN 'object' THEN '[object Object]'
    WHEN 'array' THEN (SELECT coalesce(string_agg(coalesce(api.calcom_js_string(x), ''), ',' ORDER BY i), '')
                       FROM jsonb_array_elements(v) WITH ORDINALITY a(x, i))
    ELSE '' END
$$;

-- Whether JSON.parse reads t (as PostgreSQL's parser does), and whether what it reads is
-- truthy: Cal.com sends JSON when the template itself parses to something truthy.
CREATE FUNCTION api.calcom_json_valid(t text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  PERFORM t::jsonb;
  RETURN true;
EXCEPTION WHEN OTHERS THEN
  RETURN false;
END $$;

CREATE FUNCTION api.calcom_json_truthy(t text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT api.calcom_json_valid(t) AND t::jsonb NOT IN ('false'::jsonb, '0'::jsonb, '""'::jsonb, 'null'::jsonb)
$$;

-- Cal.com's applyTemplate: handlebars over the payload plus triggerEvent and createdAt, where
-- {{path}} is HTML-escaped and {{{path}}} is not (paths are dotted: organizer.name,
-- attendees.0.name), then every &quot; turned back into '"'. The template was checked when it was
-- stored (C: only such substitutions). A JSON template gives JSON: the rendered text if it parses,
-- else false (JSON.stringify of Cal.com's failed parse).
CREATE FUNCTION api.calcom_render(p_template text, p_data jsonb, p_json boolean) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  rest text := p_template;
  out text := '';
  pos integer;
  fin integer;
  raw boolean;
  expr text;
  s text;
BEGIN
  LOOP
    pos := strpos(rest, '{{');
    EXIT WHEN pos = 0;
    out := out || left(rest, pos - 1);
    rest := substr(rest, pos);
    raw := left(rest, 3) = '{{{';
    fin := strpos(rest, CASE WHEN raw THEN '}}}' ELSE '}}' END);
    IF fin = 0 THEN EXIT; END IF;
    expr := btrim(substr(rest, CASE WHEN raw THEN 4 ELSE 3 END, fin - CASE WHEN raw THEN 4 ELSE 3 END));
    rest := substr(rest, fin + CASE WHEN raw THEN 3 ELSE 2 END);
    s := api.calcom_js_string(p_data #> string_to_array(expr, '.'));
    IF NOT raw THEN
      s := replace(replace(replace(replace(replace(replace(replace(s, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
                   '"', '&quot;'), '''', '&#x27;'), '`', '&#x60;'), '=', '&#x3D;');
    END IF;
    out := out || s;
  END LOOP;
  out := replace(out || rest, '&quot;', '"');
  IF p_json THEN
    RETURN CASE WHEN api.calcom_json_valid(out) THEN btrim(out, E' \t\r\n') ELSE 'false' END;
  END IF;
  RETURN out;
END $$;

-- The body of one Cal.com delivery: {"triggerEvent","createdAt","payload"} in that order, or
-- the webhook's payloadTemplate rendered over the payload with triggerEvent and createdAt (a
-- template that is not JSON is sent form-encoded, as Cal.com sends it). content_type NULL: JSON.
-- p_created: createdAt (default now).
CREATE FUNCTION api.calcom_delivery_body(w webhooks, p_trigger text, p_data jsonb, p_created text DEFAULT NULL,
                                         OUT body text, OUT content_type text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  created text := coalesce(p_created, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
  is_json boolean;
BEGIN
  IF w.payload_template IS NOT NULL AND p_trigger <> 'PING' THEN
    is_json := api.calcom_json_truthy(w.payload_template);
    body := api.calcom_render(w.payload_template,
                              p_data || jsonb_build_object('triggerEvent', p_trigger, 'createdAt', created), is_json);
    content_type := CASE WHEN is_json THEN NULL ELSE 'application/x-www-form-urlencoded' END;
  ELSE
    body := '{"triggerEvent":' || to_json(p_trigger)::text || ',"createdAt":' || to_json(created)::text
            || ',"payload":' || p_data::text || '}';
  END IF;
END $$;

-- The rewrite of a Cal.com subscription's delivery (see the top). One native event is at most
-- two Cal.com ones: a booking that waited for its payment is confirmed by it, and Cal.com then
-- sends BOOKING_CREATED before BOOKING_PAID (its payment-success path confirms the booking);
-- the first is inserted here as a delivery of its own, already in Cal.com's words. A failure
-- here must never undo the booking that emitted the event: it is logged and the delivery dropped.
CREATE FUNCTION api.calcom_delivery() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  w webhooks;
  b bookings;
  native jsonb;
  trigs text[];
  r record;
BEGIN
  SELECT * INTO w FROM webhooks x WHERE x.id = NEW.webhook_id;
  IF w.format IS DISTINCT FROM 'calcom' THEN RETURN NEW; END IF;  -- native: unchanged
  IF NEW.event !~ '^(booking\.|ping$)' THEN
    -- Already in Cal.com's words: a redelivery (api.delivery_redeliver copies event and payload),
    -- or the first of two deliveries inserted below. A redelivery keeps its original's content type.
    IF NEW.content_type IS NULL AND NEW.event_id IS NOT NULL THEN
      NEW.content_type := (SELECT d.content_type FROM webhook_deliveries d
                           WHERE d.webhook_id = NEW.webhook_id AND d.event_id = NEW.event_id AND d.event = NEW.event
                             AND d.payload = NEW.payload ORDER BY d.id DESC LIMIT 1);
    END IF;
    RETURN NEW;
  END IF;
  BEGIN
    IF NEW.event = 'ping' THEN  -- the native API's test delivery (POST /api/webhooks/:id/ping)
      r := api.calcom_delivery_body(w, 'PING', jsonb_build_object('type', 'Test', 'title', 'Test trigger event',
                                                                    'webhookId', w.id));
      NEW.event := 'PING';
      NEW.payload := r.body;
      RETURN NEW;
    END IF;
    native := NEW.payload::jsonb #> '{data,booking}';
    SELECT k.* INTO b FROM bookings k
    WHERE k.id = coalesce((SELECT v.booking_id FROM events v WHERE v.id = NEW.event_id), (native->>'id')::bigint);
    IF b.id IS NULL OR (w.event_type_id IS NOT NULL AND b.event_type_id IS DISTINCT FROM w.event_type_id) THEN
      RETURN NULL;
    END IF;
    -- A user's own webhook does not hear the bookings of a team's event types it hosts: Cal.com
    -- asks for the organizer's webhooks only outside teams (handleNewBooking's triggerForUser).
    IF w.event_type_id IS NULL AND w.org_id IS NULL
       AND (SELECT e.org_id FROM event_types e WHERE e.id = b.event_type_id) IS NOT NULL THEN
      RETURN NULL;
    END IF;
    trigs := CASE NEW.event
      WHEN 'booking.created' THEN ARRAY[CASE WHEN b.status = 'pending_payment' THEN 'BOOKING_PAYMENT_INITIATED'
                                             ELSE 'BOOKING_CREATED' END]
      WHEN 'booking.confirmed' THEN ARRAY['BOOKING_CREATED']
      WHEN 'booking.requested' THEN ARRAY['BOOKING_REQUESTED']
      WHEN 'booking.declined' THEN ARRAY['BOOKING_REJECTED']
      WHEN 'booking.cancelled' THEN ARRAY['BOOKING_CANCELLED']
      WHEN 'booking.rescheduled' THEN ARRAY['BOOKING_RESCHEDULED']
      WHEN 'booking.paid' THEN CASE WHEN (SELECT e.requires_payment FROM event_types e WHERE e.id = b.event_type_id)
                                    THEN ARRAY['BOOKING_CREATED', 'BOOKING_PAID'] ELSE ARRAY['BOOKING_PAID'] END
      WHEN 'booking.no_show' THEN ARRAY['BOOKING_NO_SHOW_UPDATED'] END;
    trigs := ARRAY(SELECT t FROM unnest(trigs) WITH ORDINALITY a(t, i) WHERE t = ANY (w.calcom_triggers) ORDER BY i);
    IF cardinality(trigs) = 0 THEN RETURN NULL; END IF;
    IF cardinality(trigs) = 2 THEN
      r := api.calcom_delivery_body(w, trigs[1], api.calcom_booking_payload(b, trigs[1], native));
      INSERT INTO webhook_deliveries (webhook_id, event_id, event, payload, content_type)
      VALUES (w.id, NEW.event_id, trigs[1], r.body, r.content_type);
      NEW.id := nextval(pg_get_serial_sequence('webhook_deliveries', 'id'));  -- after the first, in the log too
    END IF;
    r := api.calcom_delivery_body(w, trigs[cardinality(trigs)],
                                    api.calcom_booking_payload(b, trigs[cardinality(trigs)], native));
    NEW.event := trigs[cardinality(trigs)];
    NEW.payload := r.body;
    NEW.content_type := r.content_type;
    RETURN NEW;
  EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'calcom webhook %: delivery of % dropped: %', w.id, NEW.event, SQLERRM;
    RETURN NULL;
  END;
END $$;

CREATE TRIGGER webhook_deliveries_calcom BEFORE INSERT ON webhook_deliveries
  FOR EACH ROW EXECUTE FUNCTION api.calcom_delivery();

-- Erasure (api.customer_erase) overwrites the stored payload of every delivery about the
-- customer's bookings with the erased native event. A Cal.com delivery is written again in
-- Cal.com's words from the erased booking (same trigger, same createdAt where the body has one),
-- so what may still be sent or redelivered keeps its format and nothing erased. Only an update
-- of payload fires this (the channel's own updates never set it).
CREATE FUNCTION api.calcom_delivery_rewritten() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  w webhooks;
  b bookings;
  native jsonb;
  created text;
  r record;
BEGIN
  IF OLD.event ~ '^(booking\.|ping$)' OR NEW.event_id IS NULL THEN RETURN NEW; END IF;  -- not a Cal.com body
  SELECT * INTO w FROM webhooks x WHERE x.id = NEW.webhook_id;
  IF w.format IS DISTINCT FROM 'calcom' THEN RETURN NEW; END IF;
  BEGIN
    native := NEW.payload::jsonb;
    IF jsonb_typeof(native #> '{data,booking}') IS DISTINCT FROM 'object' THEN RETURN NEW; END IF;
    SELECT k.* INTO b FROM bookings k WHERE k.id = (SELECT v.booking_id FROM events v WHERE v.id = NEW.event_id);
    IF b.id IS NULL THEN RETURN NEW; END IF;
    IF api.calcom_json_valid(OLD.payload) AND jsonb_typeof(OLD.payload::jsonb) = 'object' THEN
      created := OLD.payload::jsonb->>'createdAt';
    END IF;
    r := api.calcom_delivery_body(w, NEW.event, api.calcom_booking_payload(b, NEW.event, native #> '{data,booking}'),
                                  created);
    NEW.payload := r.body;
    NEW.content_type := r.content_type;
    RETURN NEW;
  EXCEPTION WHEN OTHERS THEN  -- the erased native event then stays: it holds nothing erased either
    RAISE WARNING 'calcom webhook %: delivery % not rewritten: %', w.id, NEW.id, SQLERRM;
    RETURN NEW;
  END;
END $$;

CREATE TRIGGER webhook_deliveries_calcom_rewrite BEFORE UPDATE OF payload ON webhook_deliveries
  FOR EACH ROW WHEN (OLD.payload IS DISTINCT FROM NEW.payload) EXECUTE FUNCTION api.calcom_delivery_rewritten();

-- The channel's claim with what signing needs besides: the subscription's format and the
-- body's content type. Each lookup is a statement of its own, after the claim, so it sees the
-- rows the claim took (one statement joining them could miss a row committed in between).
CREATE FUNCTION api.webhook_claim_formatted(p_limit integer, p_lease integer)
RETURNS TABLE (id bigint, url text, secret text, event text, payload text, attempts integer, format text,
               content_type text)
LANGUAGE plpgsql AS $$
DECLARE c record;
BEGIN
  FOR c IN SELECT * FROM api.webhook_claim(p_limit, p_lease) LOOP
    id := c.id; url := c.url; secret := c.secret; event := c.event; payload := c.payload; attempts := c.attempts;
    SELECT w.format, d.content_type INTO format, content_type
    FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = c.id;
    RETURN NEXT;
  END LOOP;
END $$;

-- ---------------------------------------------------------------- subscriptions

-- Scopes: (p_org NULL, p_et NULL) the caller's own webhooks (/v2/webhooks); (p_org NULL, p_et)
-- an event type of the caller's (/v2/event-types/:id/webhooks); (p_org, p_et) an event type of
-- an organisation the caller owns or administers, or whose API key it is
-- (/v2/teams/:teamId/event-types/:id/webhooks). Anything else is 404.
CREATE FUNCTION api.calcom_webhook_scope(p_user bigint, p_org bigint, p_key_org bigint, p_et bigint) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF p_org IS NOT NULL THEN
    PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
    IF NOT EXISTS (SELECT 1 FROM event_types e WHERE e.id = p_et AND e.org_id = p_org AND e.is_active) THEN
      PERFORM api.fail(404, 'event type not found');
    END IF;
  ELSIF p_et IS NOT NULL THEN
    IF NOT EXISTS (SELECT 1 FROM event_types e WHERE e.id = p_et AND e.user_id = p_user AND e.is_active) THEN
      PERFORM api.fail(404, 'event type not found');
    END IF;
  END IF;
END $$;

CREATE FUNCTION api.calcom_webhook_in(w webhooks, p_user bigint, p_org bigint, p_et bigint) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT w.format = 'calcom' AND w.event_type_id IS NOT DISTINCT FROM p_et
     AND CASE WHEN p_org IS NULL THEN w.user_id = p_user AND w.org_id IS NULL ELSE w.org_id = p_org END
$$;

-- Cal.com keeps one webhook per subscriber URL in a scope (409, in its words, otherwise).
CREATE FUNCTION api.calcom_webhook_unique(p_user bigint, p_org bigint, p_et bigint, p_url text, p_except bigint)
RETURNS void LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM webhooks x WHERE api.calcom_webhook_in(x, p_user, p_org, p_et) AND x.url = p_url
             AND x.id IS DISTINCT FROM p_except) THEN
    PERFORM api.fail(409, 'Webhook with this subscriber url already exists for this '
                          || CASE WHEN p_et IS NULL THEN 'user' ELSE 'event type' END, 'subscriberUrl');
  END IF;
END $$;

CREATE FUNCTION api.calcom_webhook_json(w webhooks) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', w.id, 'payloadTemplate', w.payload_template, 'triggers', to_jsonb(w.calcom_triggers),
                            'subscriberUrl', w.url, 'active', w.is_active)
    || CASE WHEN w.event_type_id IS NOT NULL THEN jsonb_build_object('eventTypeId', w.event_type_id)
            ELSE jsonb_build_object('userId', w.user_id) END
    || CASE WHEN w.secret <> '' THEN jsonb_build_object('secret', w.secret) ELSE '{}'::jsonb END
$$;

CREATE FUNCTION api.calcom_webhooks_list(p_user bigint, p_org bigint, p_key_org bigint, p_et bigint, p_take integer,
                                         p_skip integer) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM api.calcom_webhook_scope(p_user, p_org, p_key_org, p_et);
  RETURN coalesce((SELECT jsonb_agg(api.calcom_webhook_json(w) ORDER BY w.id)
                   FROM (SELECT * FROM webhooks x WHERE api.calcom_webhook_in(x, p_user, p_org, p_et)
                         ORDER BY x.id LIMIT p_take OFFSET p_skip) w), '[]');
END $$;

CREATE FUNCTION api.calcom_webhook_get(p_user bigint, p_org bigint, p_key_org bigint, p_et bigint, p_id bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE w webhooks;
BEGIN
  PERFORM api.calcom_webhook_scope(p_user, p_org, p_key_org, p_et);
  SELECT * INTO w FROM webhooks x WHERE x.id = p_id AND api.calcom_webhook_in(x, p_user, p_org, p_et);
  IF w.id IS NULL THEN PERFORM api.fail(404, 'webhook not found'); END IF;
  RETURN api.calcom_webhook_json(w);
END $$;

-- p_secret '' is "no secret" (Cal.com then sends X-Cal-Signature-256: no-secret-provided).
CREATE FUNCTION api.calcom_webhook_create(p_user bigint, p_org bigint, p_key_org bigint, p_et bigint, p_url text,
                                          p_triggers text[], p_secret text, p_template text, p_active boolean)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE w webhooks;
BEGIN
  PERFORM api.calcom_webhook_scope(p_user, p_org, p_key_org, p_et);
  PERFORM api.calcom_webhook_unique(p_user, p_org, p_et, p_url, NULL);
  INSERT INTO webhooks (user_id, org_id, url, events, secret, is_active, format, event_type_id, calcom_triggers,
                        payload_template)
  VALUES (CASE WHEN p_org IS NULL THEN p_user END, p_org, p_url, api.calcom_trigger_events(p_triggers),
          coalesce(p_secret, ''), p_active, 'calcom', p_et, p_triggers, p_template)
  RETURNING * INTO w;
  RETURN api.calcom_webhook_json(w);
END $$;

-- p: the validated fields given: subscriberUrl, triggers, secret, payloadTemplate (null clears), active.
CREATE FUNCTION api.calcom_webhook_update(p_user bigint, p_org bigint, p_key_org bigint, p_et bigint, p_id bigint,
                                          p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  w webhooks;
  trig text[] := (SELECT array_agg(t ORDER BY i) FROM jsonb_array_elements_text(p->'triggers') WITH ORDINALITY a(t, i));
BEGIN
  PERFORM api.calcom_webhook_scope(p_user, p_org, p_key_org, p_et);
  IF p ? 'subscriberUrl' THEN PERFORM api.calcom_webhook_unique(p_user, p_org, p_et, p->>'subscriberUrl', p_id); END IF;
  UPDATE webhooks x SET
    url = coalesce(p->>'subscriberUrl', x.url),
    calcom_triggers = coalesce(trig, x.calcom_triggers),
    events = CASE WHEN trig IS NULL THEN x.events ELSE api.calcom_trigger_events(trig) END,
    secret = coalesce(p->>'secret', x.secret),  -- '' (null given): no secret
    payload_template = CASE WHEN p ? 'payloadTemplate' THEN p->>'payloadTemplate' ELSE x.payload_template END,
    is_active = coalesce((p->>'active')::boolean, x.is_active),
    updated_at = now()
  WHERE x.id = p_id AND api.calcom_webhook_in(x, p_user, p_org, p_et) RETURNING * INTO w;
  IF w.id IS NULL THEN PERFORM api.fail(404, 'webhook not found'); END IF;
  RETURN api.calcom_webhook_json(w);
END $$;

CREATE FUNCTION api.calcom_webhook_delete(p_user bigint, p_org bigint, p_key_org bigint, p_et bigint, p_id bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE w webhooks;
BEGIN
  PERFORM api.calcom_webhook_scope(p_user, p_org, p_key_org, p_et);
  DELETE FROM webhooks x WHERE x.id = p_id AND api.calcom_webhook_in(x, p_user, p_org, p_et) RETURNING * INTO w;
  IF w.id IS NULL THEN PERFORM api.fail(404, 'webhook not found'); END IF;
  RETURN api.calcom_webhook_json(w);
END $$;

-- Every webhook of an event type: Cal.com answers "<n> webhooks deleted".
CREATE FUNCTION api.calcom_webhooks_delete_all(p_user bigint, p_org bigint, p_key_org bigint, p_et bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
  PERFORM api.calcom_webhook_scope(p_user, p_org, p_key_org, p_et);
  DELETE FROM webhooks x WHERE api.calcom_webhook_in(x, p_user, p_org, p_et);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN to_jsonb(n || ' webhooks deleted');
END $$;

-- ---------------------------------------------------------------- /v2/me

-- MeOutput. username is the booking-page slug; organizationId the first organisation the user
-- belongs to (slotd allows several; Cal.com one).
CREATE FUNCTION api.calcom_me(p_user bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', u.id, 'username', g.slug::text, 'email', u.email::text, 'name', u.name, 'avatarUrl', u.avatar_url,
    'bio', g.bio, 'timeFormat', coalesce(s.time_format, 12),
    'defaultScheduleId', (SELECT a.id FROM availability_schedules a WHERE a.user_id = u.id AND a.is_default),
    'weekStart', coalesce(s.week_start, 'Sunday'), 'timeZone', u.timezone, 'locale', coalesce(s.locale, 'en'),
    'metadata', coalesce(s.metadata, '{}'),
    'organizationId', (SELECT min(m.org_id) FROM org_members m WHERE m.user_id = u.id))
    || coalesce((SELECT jsonb_build_object('organization', jsonb_build_object('isPlatform', false, 'id', min(m.org_id)))
                 FROM org_members m WHERE m.user_id = u.id HAVING count(*) > 0), '{}')
  FROM users u LEFT JOIN booking_pages g ON g.user_id = u.id LEFT JOIN calcom_user_settings s ON s.user_id = u.id
  WHERE u.id = p_user
$$;

-- UpdateManagedUserInput, validated by C (email refused there): name, timeZone, avatarUrl onto
-- api.update_me; bio onto the booking page; defaultScheduleId through api.schedule_save (404 for
-- a schedule that is not the caller's); timeFormat, weekStart, locale, metadata kept here.
CREATE FUNCTION api.calcom_update_me(p_user bigint, p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE native jsonb := '{}';
BEGIN
  IF p ? 'email' AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = p_user AND u.email = (p->>'email')::citext) THEN
    PERFORM api.fail(400, 'changing the email needs it verified first, which slotd does not do through this API',
                     'email');
  END IF;
  IF p ? 'name' THEN native := native || jsonb_build_object('name', p->'name'); END IF;
  IF p ? 'timeZone' THEN native := native || jsonb_build_object('timezone', p->'timeZone'); END IF;
  IF p ? 'avatarUrl' THEN native := native || jsonb_build_object('avatar_url', p->'avatarUrl'); END IF;
  IF native <> '{}' THEN PERFORM api.update_me(p_user, native); END IF;
  IF p ? 'bio' THEN
    PERFORM 1 FROM api.booking_page_update(p_user, jsonb_build_object('bio', p->'bio'));
  END IF;
  IF p ? 'defaultScheduleId' THEN
    PERFORM 1 FROM api.schedule_save(p_user, (p->>'defaultScheduleId')::bigint, '{"is_default": true}');
  END IF;
  IF p ?| ARRAY['timeFormat', 'weekStart', 'locale', 'metadata'] THEN
    INSERT INTO calcom_user_settings AS s (user_id, time_format, week_start, locale, metadata)
    VALUES (p_user, coalesce((p->>'timeFormat')::integer, 12), coalesce(p->>'weekStart', 'Sunday'), p->>'locale',
            coalesce(p->'metadata', '{}'))
    ON CONFLICT (user_id) DO UPDATE SET
      time_format = coalesce((p->>'timeFormat')::integer, s.time_format),
      week_start = coalesce(p->>'weekStart', s.week_start),
      locale = CASE WHEN p ? 'locale' THEN p->>'locale' ELSE s.locale END,
      metadata = coalesce(p->'metadata', s.metadata);
  END IF;
  RETURN api.calcom_me(p_user);
END $$;

-- ---------------------------------------------------------------- /v2/api-keys/refresh

-- A new key for the key presented (p_key: its id), which is revoked in the same transaction
-- (api.api_key_create, api.api_key_revoke). The new key keeps the old one's label.
CREATE FUNCTION api.calcom_api_key_refresh(p_user bigint, p_key bigint, p_hash text, p_prefix text, p_last4 text,
                                           p_expires_at timestamptz) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  k api_keys;
  out jsonb;
BEGIN
  SELECT * INTO k FROM api_keys x WHERE x.id = p_key AND x.user_id = p_user AND x.org_id IS NULL
    AND x.revoked_at IS NULL FOR UPDATE;
  IF k.id IS NULL THEN PERFORM api.fail(401, 'the API key to refresh is no longer valid'); END IF;
  PERFORM api.api_key_revoke(p_user, k.id);
  out := api.api_key_create(p_user, k.label, p_hash, p_prefix, p_last4, p_expires_at);
  RETURN out;
END $$;
