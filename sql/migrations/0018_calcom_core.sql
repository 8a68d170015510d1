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
    AND 0 < ALL (durations) AND 1440 >= ALL (durations) AND duration_minutes = ANY (durations))),
  -- a recurring event type: booking it books the series {frequency weekly|monthly, interval,
  -- occurrences} (C checks the shape; this keeps the bounds)
  ADD COLUMN recurrence jsonb CHECK (recurrence IS NULL OR (recurrence->>'frequency' IN ('weekly', 'monthly')
    AND (recurrence->>'interval')::int BETWEEN 1 AND 12 AND (recurrence->>'occurrences')::int BETWEEN 2 AND 24));

ALTER TABLE bookings ADD COLUMN recurring_uid uuid;  -- the series a booking belongs to
CREATE INDEX bookings_recurring ON bookings (recurring_uid) WHERE recurring_uid IS NOT NULL;

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
  || CASE WHEN b.recurring_uid IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('recurring_uid', b.recurring_uid) END
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

-- ---------------------------------------------------------------- several lengths per event type

-- durations in the native event type (create, update, JSON; org types through the same apply):
-- the lengths an invitee may pick, duration_minutes (the default) among them; null = that one.
CREATE OR REPLACE FUNCTION api.event_type_apply(e event_types, p jsonb) RETURNS event_types LANGUAGE plpgsql AS $$
BEGIN
  IF p ? 'schedule_id' AND p->>'schedule_id' IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM availability_schedules WHERE id = (p->>'schedule_id')::bigint AND user_id = e.user_id) THEN
    PERFORM api.fail(400, 'schedule_id does not name one of your schedules', 'schedule_id');
  END IF;
  IF p ? 'name' THEN e.name := p->>'name'; END IF;
  IF p ? 'slug' THEN e.slug := p->>'slug'; END IF;
  IF p ? 'duration_minutes' THEN e.duration_minutes := (p->>'duration_minutes')::int; END IF;
  IF p ? 'description' THEN e.description := p->>'description'; END IF;
  IF p ? 'color' THEN e.color := p->>'color'; END IF;
  IF p ? 'location_type' THEN e.location_type := p->>'location_type'; END IF;
  IF p ? 'location_value' THEN e.location_value := p->>'location_value'; END IF;
  IF p ? 'questions' THEN e.questions := p->'questions'; END IF;
  IF p ? 'is_secret' THEN e.is_secret := (p->>'is_secret')::boolean; END IF;
  IF p ? 'requires_confirmation' THEN e.requires_confirmation := (p->>'requires_confirmation')::boolean; END IF;
  IF p ? 'buffer_before' THEN e.buffer_before := (p->>'buffer_before')::int; END IF;
  IF p ? 'buffer_after' THEN e.buffer_after := (p->>'buffer_after')::int; END IF;
  IF p ? 'min_notice_hours' THEN e.min_notice_hours := (p->>'min_notice_hours')::int; END IF;
  IF p ? 'max_future_days' THEN e.max_future_days := (p->>'max_future_days')::int; END IF;
  IF p ? 'slot_interval_minutes' THEN e.slot_interval_minutes := (p->>'slot_interval_minutes')::int; END IF;
  IF p ? 'schedule_id' THEN e.schedule_id := (p->>'schedule_id')::bigint; END IF;
  IF p ? 'price' THEN e.price := (p->>'price')::numeric; END IF;
  IF p ? 'currency' THEN e.currency := p->>'currency'; END IF;
  IF p ? 'seats' THEN e.seats := (p->>'seats')::int; END IF;
  IF p ? 'limit_per_day' THEN e.limit_per_day := (p->>'limit_per_day')::int; END IF;
  IF p ? 'limit_per_week' THEN e.limit_per_week := (p->>'limit_per_week')::int; END IF;
  IF p ? 'requires_payment' THEN e.requires_payment := (p->>'requires_payment')::boolean; END IF;
  IF p ? 'payment_window_minutes' THEN e.payment_window_minutes := (p->>'payment_window_minutes')::int; END IF;
  IF p ? 'reminders' THEN e.reminders := ARRAY(SELECT DISTINCT x::int FROM jsonb_array_elements_text(p->'reminders') x
                                               ORDER BY 1 DESC); END IF;
  IF p ? 'durations' THEN
    e.durations := CASE WHEN jsonb_typeof(p->'durations') = 'array'
                        THEN ARRAY(SELECT DISTINCT x::int FROM jsonb_array_elements_text(p->'durations') x ORDER BY 1) END;
  END IF;
  IF p ? 'recurrence' THEN
    e.recurrence := CASE WHEN jsonb_typeof(p->'recurrence') = 'object' THEN p->'recurrence' END;
  END IF;
  IF e.durations IS NOT NULL AND NOT (coalesce(e.duration_minutes, 30) = ANY (e.durations)) THEN
    PERFORM api.fail(400, 'durations must include duration_minutes (the default length)', 'durations');
  END IF;
  e.reminders := coalesce(e.reminders, '{}');
  e.requires_payment := coalesce(e.requires_payment, false);
  e.payment_window_minutes := coalesce(e.payment_window_minutes, 15);
  -- what a price needs, whichever of the fields this change touched
  IF e.price > 0 AND e.currency IS NULL THEN
    PERFORM api.fail(400, 'currency is required when price is set (above 0)', 'currency');
  END IF;
  IF e.requires_payment AND coalesce(e.price, 0) = 0 THEN
    PERFORM api.fail(400, 'requires_payment needs a price above 0', 'requires_payment');
  END IF;
  IF e.requires_payment AND e.requires_confirmation THEN
    PERFORM api.fail(400, 'an event type cannot both require payment and require confirmation', 'requires_payment');
  END IF;
  RETURN e;
END $$;

CREATE OR REPLACE FUNCTION api.event_type_json(e event_types) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', e.id, 'name', e.name, 'slug', e.slug, 'duration_minutes', e.duration_minutes,
    'description', e.description, 'color', e.color, 'location_type', e.location_type,
    'location_value', e.location_value, 'questions', e.questions, 'is_secret', e.is_secret,
    'requires_confirmation', e.requires_confirmation, 'buffer_before', e.buffer_before,
    'buffer_after', e.buffer_after, 'min_notice_hours', e.min_notice_hours,
    'max_future_days', e.max_future_days,
    'slot_interval_minutes', coalesce(e.slot_interval_minutes, e.duration_minutes),
    'schedule_id', e.schedule_id, 'price', e.price, 'currency', e.currency, 'seats', e.seats,
    'requires_payment', e.requires_payment, 'payment_window_minutes', e.payment_window_minutes,
    'reminders', to_jsonb(e.reminders),
    'durations', to_jsonb(coalesce(e.durations, ARRAY[e.duration_minutes])), 'recurrence', e.recurrence,
    'limit_per_day', e.limit_per_day, 'limit_per_week', e.limit_per_week,
    'is_active', CASE WHEN e.is_active THEN 1 ELSE 0 END,
    'created_at', api.ts(e.created_at), 'created_at_rfc3339', api.rfc3339(e.created_at))
$$;

CREATE OR REPLACE FUNCTION api.event_type_update(p_user bigint, p_id bigint, p jsonb) RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE e event_types;
BEGIN
  SELECT * INTO e FROM event_types WHERE id = p_id AND user_id = p_user AND is_active FOR UPDATE;
  IF e.id IS NULL THEN PERFORM api.fail(404, 'event type not found'); END IF;
  e := api.event_type_apply(e, p);
  e.updated_at := now();
  UPDATE event_types SET (name, slug, duration_minutes, description, color, location_type, location_value,
      questions, is_secret, requires_confirmation, buffer_before, buffer_after, min_notice_hours,
      max_future_days, slot_interval_minutes, schedule_id, price, currency, seats, limit_per_day,
      limit_per_week, requires_payment, payment_window_minutes, reminders, durations, recurrence, updated_at)
    = (e.name, e.slug, e.duration_minutes, e.description, e.color, e.location_type, e.location_value,
      e.questions, e.is_secret, e.requires_confirmation, e.buffer_before, e.buffer_after, e.min_notice_hours,
      e.max_future_days, e.slot_interval_minutes, e.schedule_id, e.price, e.currency, e.seats, e.limit_per_day,
      e.limit_per_week, e.requires_payment, e.payment_window_minutes, e.reminders, e.durations, e.recurrence, e.updated_at)
  WHERE id = p_id;
  RETURN QUERY SELECT api.event_type_json(e), ARRAY[p_user], false;
EXCEPTION WHEN unique_violation THEN
  PERFORM api.fail(409, 'you already have an event type with this slug', 'slug');
  RETURN;
END $$;

CREATE OR REPLACE FUNCTION api.org_event_type_update(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint, p jsonb)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  e event_types;
  before bigint[];
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  e := api.org_event_type_find(p_org, p_id);
  PERFORM 1 FROM event_types t WHERE t.id = e.id FOR UPDATE;
  before := ARRAY(SELECT h.user_id FROM event_type_hosts h WHERE h.event_type_id = e.id);
  IF p ? 'scheduling' AND p->>'scheduling' IS DISTINCT FROM e.scheduling AND EXISTS (
       SELECT 1 FROM bookings k WHERE k.event_type_id = e.id AND k.status IN ('pending', 'confirmed', 'pending_payment')
         AND k.end_at > now()) THEN
    PERFORM api.fail(409, 'scheduling cannot change while the event type has upcoming bookings', 'scheduling');
  END IF;
  e := api.org_event_type_apply(e, p);
  e.updated_at := now();
  IF p ? 'slug' AND EXISTS (SELECT 1 FROM event_types WHERE org_id = p_org AND slug = e.slug AND is_active
                            AND id <> e.id) THEN
    PERFORM api.fail(409, 'this organisation already has an event type with this slug', 'slug');
  END IF;
  UPDATE event_types t SET name = e.name, slug = e.slug, duration_minutes = e.duration_minutes,
    description = e.description, color = e.color, location_type = e.location_type, location_value = e.location_value,
    questions = e.questions, is_secret = e.is_secret, requires_confirmation = e.requires_confirmation,
    buffer_before = e.buffer_before, buffer_after = e.buffer_after, min_notice_hours = e.min_notice_hours,
    max_future_days = e.max_future_days, slot_interval_minutes = e.slot_interval_minutes, price = e.price,
    currency = e.currency, seats = e.seats, limit_per_day = e.limit_per_day, limit_per_week = e.limit_per_week,
    requires_payment = e.requires_payment, payment_window_minutes = e.payment_window_minutes, reminders = e.reminders,
    durations = e.durations, recurrence = e.recurrence,
    team_id = e.team_id, scheduling = e.scheduling, updated_at = e.updated_at
  WHERE t.id = e.id;
  PERFORM api.org_event_type_set_hosts(e, p);
  RETURN QUERY SELECT api.org_event_type_json(e),
    ARRAY(SELECT DISTINCT x FROM unnest(before || ARRAY(SELECT h.user_id FROM event_type_hosts h
                                                        WHERE h.event_type_id = e.id)) x), false;
EXCEPTION WHEN unique_violation THEN
  PERFORM api.fail(409, 'this organisation already has an event type with this slug', 'slug');
  RETURN;
END $$;

-- The engine's configuration carries the lengths (a request picks one: slots ?duration=, a
-- booking's duration_minutes); a booking's changes are judged at the booking's own length.
DROP FUNCTION api.engine_config(bigint, text, text, boolean);
CREATE FUNCTION api.engine_config(p_event_type bigint, p_slug text, p_event_slug text,
                                             p_include_secret boolean DEFAULT false)
RETURNS TABLE (host_id bigint, config_version bigint, event_type_id bigint, event_name text, duration integer,
               slot_interval integer, buffer_before integer, buffer_after integer, min_notice_hours integer,
               max_future_days integer, seats integer, limit_per_day integer, limit_per_week integer,
               requires_confirmation boolean, questions jsonb, schedule_timezone text, week_spans integer[],
               override_spans integer[], type_ids bigint[], type_buffer_before integer[],
               type_buffer_after integer[], scheduling text, org_id bigint, priority integer, weight integer,
               host_name text, durations integer[], recurrence jsonb)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
  e event_types;
  s availability_schedules;
BEGIN
  e := api.event_type_for(p_event_type, p_slug, p_event_slug, p_include_secret);
  IF e.org_id IS NULL THEN
    s := api.schedule_for(e);
    RETURN QUERY
    SELECT e.user_id, u.config_version, e.id, e.name, e.duration_minutes,
           coalesce(e.slot_interval_minutes, e.duration_minutes), e.buffer_before, e.buffer_after, e.min_notice_hours,
           e.max_future_days, e.seats, e.limit_per_day, e.limit_per_week, e.requires_confirmation, e.questions,
           s.timezone, s.week_spans, s.override_spans, t.ids, t.bb, t.ba, NULL::text, NULL::bigint, 2, 100, u.name,
           e.durations, e.recurrence
    FROM users u, LATERAL (
      SELECT array_agg(x.id ORDER BY x.id) AS ids, array_agg(x.buffer_before * 60 ORDER BY x.id) AS bb,
             array_agg(x.buffer_after * 60 ORDER BY x.id) AS ba
      FROM (SELECT y.id, y.buffer_before, y.buffer_after FROM event_types y WHERE y.user_id = e.user_id
            UNION
            SELECT y.id, y.buffer_before, y.buffer_after FROM event_type_hosts h JOIN event_types y
              ON y.id = h.event_type_id WHERE h.user_id = e.user_id) x) t
    WHERE u.id = e.user_id;
  ELSE
    RETURN QUERY
    SELECT h.user_id, coalesce(u.config_version, 0), e.id, e.name, e.duration_minutes,
           coalesce(e.slot_interval_minutes, e.duration_minutes), e.buffer_before, e.buffer_after, e.min_notice_hours,
           e.max_future_days, e.seats, e.limit_per_day, e.limit_per_week, e.requires_confirmation, e.questions,
           a.timezone, a.week_spans, a.override_spans, NULL::bigint[], NULL::integer[], NULL::integer[],
           e.scheduling, e.org_id, coalesce(h.priority, 2), coalesce(h.weight, 100), u.name, e.durations, e.recurrence
    FROM (SELECT 1) one  -- a type without hosts: one row with host_id NULL (nothing is offered)
    LEFT JOIN event_type_hosts h ON h.event_type_id = e.id
    LEFT JOIN users u ON u.id = h.user_id
    LEFT JOIN availability_schedules a ON a.user_id = h.user_id AND a.is_default
    ORDER BY h.user_id;
  END IF;
END $$;

DROP FUNCTION api.booking_inputs(bigint, bigint, text, timestamptz, timestamptz, integer, integer);
CREATE FUNCTION api.booking_inputs(p_booking bigint, p_user bigint, p_action text, p_from timestamptz,
                                   p_to timestamptz, p_reach integer, p_reach_limits integer)
RETURNS TABLE (host_id bigint, version bigint, event_type_id bigint, event_name text, duration integer,
               slot_interval integer, buffer_before integer, buffer_after integer, min_notice_hours integer,
               max_future_days integer, seats integer, limit_per_day integer, limit_per_week integer,
               requires_confirmation boolean, questions jsonb, schedule_timezone text, week_spans integer[],
               override_spans integer[], busy_start bigint[], busy_end bigint[], busy_buffer_before integer[],
               busy_buffer_after integer[], busy_event_type bigint[], busy_ref bigint[], busy_seats integer[],
               busy_kind integer[], busy_pending integer[], next_expiry bigint,
               booking_status text, booking_start bigint, booking_seats integer, booking_timezone text,
               refusal text, booking_end bigint)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE b bookings;
BEGIN
  SELECT * INTO b FROM bookings k WHERE k.id = p_booking AND k.parent_id IS NULL;
  IF b.id IS NULL OR (p_user IS NOT NULL AND api.booking_id_for_host(p_user, p_booking) IS NULL) THEN
    PERFORM api.fail(404, 'booking not found');
  END IF;
  IF p_action = 'reschedule' AND EXISTS (SELECT 1 FROM bookings s WHERE s.parent_id = b.id) THEN
    PERFORM api.fail(409, 'a booking with several hosts cannot be moved; cancel it and book a new time');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM event_types t WHERE t.id = b.event_type_id AND t.is_active) THEN
    -- the event type was deleted since: its settings still apply to this booking
    PERFORM api.fail(409, 'the event type of this booking no longer exists');
  END IF;
  RETURN QUERY
  SELECT i.*, b.status, extract(epoch FROM b.start_at)::bigint, b.seats, b.invitee_timezone,
         api.transition_refusal(b.status, p_action), extract(epoch FROM b.end_at)::bigint
  FROM api.engine_inputs(b.event_type_id, NULL, NULL, coalesce(p_from, b.start_at), coalesce(p_to, b.end_at),
                         p_reach, p_reach_limits, NULL, b.id, true, b.host_id) i;
END $$;

-- ---------------------------------------------------------------- recurring event types

-- A series, all or nothing: C has decided every occurrence on the host's data at p_version and
-- drawn each one's confirmation number and tokens. Each occurrence is written by api.booking_create
-- (the one write: its customer, event, webhooks and mails), the host's version moving by one each
-- time; any refusal or a stale version rolls the whole series back. Every occurrence carries the
-- series' recurring_uid. body: the bookings, in order.
CREATE FUNCTION api.booking_create_series(p_host bigint, p_version bigint, p_event_type bigint, p_starts bigint[],
  p_ends bigint[], p_status text, p_seats integer, p_seated boolean, p_name text, p_email text, p_timezone text,
  p_notes text, p_phone text, p_answers jsonb, p_numbers text[], p_cancel_hashes text[], p_reschedule_hashes text[],
  p_confirm_hashes text[], p_reservation uuid, p_confirm_urls text[], p_decline_urls text[], p_notify boolean,
  p_mail text[])
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  r record;
  ids bigint[] := '{}';
  series uuid := gen_random_uuid();
BEGIN
  BEGIN
    FOR k IN 1 .. cardinality(p_starts) LOOP
      SELECT * INTO r FROM api.booking_create(p_host, p_version + k - 1, p_event_type, p_starts[k], p_ends[k],
        p_status, p_seats, p_seated, p_name, p_email, p_timezone, p_notes, p_phone, p_answers, p_numbers[k],
        p_cancel_hashes[k], p_reschedule_hashes[k], p_confirm_hashes[k], CASE WHEN k = 1 THEN p_reservation END,
        p_confirm_urls[k], p_decline_urls[k], p_notify, p_mail[k]);
      IF r.stale THEN RAISE EXCEPTION USING ERRCODE = 'SLSTA', MESSAGE = 'stale'; END IF;
      ids := ids || (r.body->>'id')::bigint;
    END LOOP;
  EXCEPTION WHEN SQLSTATE 'SLSTA' THEN
    RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN;
  END;
  UPDATE bookings SET recurring_uid = series WHERE id = ANY (ids);
  RETURN QUERY
  SELECT jsonb_agg(api.booking_json_with(b, e) ORDER BY b.start_at), ARRAY[p_host], false
  FROM bookings b JOIN event_types e ON e.id = b.event_type_id WHERE b.id = ANY (ids);
END $$;

-- Cancels a booking and every later occurrence of its series still pending or confirmed (Cal.com's
-- cancelSubsequentBookings), each through api.booking_transition (its rules, events and mails);
-- body: the booking addressed. Outside a series it is a plain cancel.
CREATE FUNCTION api.booking_cancel_following(p_id bigint, p_user bigint, p_reason text, p_by text)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  b bookings;
  o bookings;
  hosts bigint[] := '{}';
  r record;
BEGIN
  SELECT * INTO b FROM bookings k WHERE k.id = p_id;
  SELECT * INTO r FROM api.booking_transition(p_id, p_user, 'cancel', NULL, p_reason, p_by);
  body := r.body;
  hosts := coalesce(r.host_ids, '{}');
  IF b.recurring_uid IS NOT NULL THEN
    FOR o IN SELECT * FROM bookings k WHERE k.recurring_uid = b.recurring_uid AND k.start_at > b.start_at
               AND k.status IN ('pending', 'confirmed') AND k.parent_id IS NULL ORDER BY k.start_at LOOP
      SELECT * INTO r FROM api.booking_transition(o.id, p_user, 'cancel', NULL, p_reason, p_by);
      hosts := hosts || coalesce(r.host_ids, '{}');
    END LOOP;
  END IF;
  RETURN QUERY SELECT body, ARRAY(SELECT DISTINCT x FROM unnest(hosts) x), false;
END $$;
