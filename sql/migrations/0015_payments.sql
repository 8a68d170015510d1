-- Payments and the booking path of customers (issue 13). Event types gain requires_payment and
-- payment_window_minutes (what a price needs is checked whichever field a change touches); a
-- booking links to its owner's customer (made on first booking, 403 when blocked) and carries
-- what is due and paid; a booking of a type that requires payment waits as pending_payment,
-- holding its slot like a pending booking, until paid in full (confirmed, booking.paid) or its
-- window ends (expired, booking.expired) by the expiry timer of src/jobs/payments.c. The
-- functions below that existed before are redefined whole with those additions; the booking
-- writes themselves (api.booking_create and api.booking_create_team) are redefined once, with
-- these and the mail of issue 14, in 0016_mail.sql.

-- Reminders of issue 14 (minutes before the start; mails queued by 0016_mail.sql): an event
-- type field like the payment ones, so the event-type functions below are redefined once.
ALTER TABLE event_types ADD COLUMN reminders integer[] NOT NULL DEFAULT '{}'
  CHECK (cardinality(reminders) <= 5 AND 0 < ALL (reminders) AND 43200 >= ALL (reminders));

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
      limit_per_week, requires_payment, payment_window_minutes, reminders, updated_at)
    = (e.name, e.slug, e.duration_minutes, e.description, e.color, e.location_type, e.location_value,
      e.questions, e.is_secret, e.requires_confirmation, e.buffer_before, e.buffer_after, e.min_notice_hours,
      e.max_future_days, e.slot_interval_minutes, e.schedule_id, e.price, e.currency, e.seats, e.limit_per_day,
      e.limit_per_week, e.requires_payment, e.payment_window_minutes, e.reminders, e.updated_at)
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

CREATE OR REPLACE FUNCTION api.transition_refusal(p_status text, p_action text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN p_action IN ('confirm', 'decline') AND p_status <> 'pending' THEN 'the booking is ' || p_status
    WHEN p_action = 'cancel' AND p_status NOT IN ('pending', 'confirmed', 'pending_payment')
      THEN 'the booking is ' || p_status
    WHEN p_action = 'reschedule' AND p_status NOT IN ('pending', 'confirmed')
      THEN 'the booking is ' || p_status
    WHEN p_action = 'no_show' AND p_status <> 'confirmed' THEN 'the booking is ' || p_status
    WHEN p_action NOT IN ('confirm', 'decline', 'cancel', 'reschedule', 'no_show', 'get')
      THEN 'unknown action ' || p_action
  END
$$;

CREATE OR REPLACE FUNCTION api.engine_inputs(p_event_type bigint, p_slug text, p_event_slug text, p_from timestamptz,
                                  p_to timestamptz, p_reach integer, p_reach_limits integer,
                                  p_exclude_reservation uuid DEFAULT NULL, p_exclude_booking bigint DEFAULT NULL,
                                  p_include_secret boolean DEFAULT false, p_host bigint DEFAULT NULL)
RETURNS TABLE (host_id bigint, version bigint, event_type_id bigint, event_name text, duration integer,
               slot_interval integer, buffer_before integer, buffer_after integer, min_notice_hours integer,
               max_future_days integer, seats integer, limit_per_day integer, limit_per_week integer,
               requires_confirmation boolean, questions jsonb, schedule_timezone text, week_spans integer[],
               override_spans integer[], busy_start bigint[], busy_end bigint[], busy_buffer_before integer[],
               busy_buffer_after integer[], busy_event_type bigint[], busy_ref bigint[], busy_seats integer[],
               busy_kind integer[], busy_pending integer[], next_expiry bigint)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
  e event_types;
  s availability_schedules;
  h bigint;
  v bigint;
  lo timestamptz;
  hi timestamptz;
BEGIN
  e := api.event_type_for(p_event_type, p_slug, p_event_slug, p_include_secret);
  h := coalesce(e.user_id, p_host);
  IF e.org_id IS NULL THEN
    s := api.schedule_for(e);
  ELSE
    SELECT a.* INTO s FROM availability_schedules a WHERE a.user_id = h AND a.is_default;
  END IF;
  SELECT u.version INTO v FROM users u WHERE u.id = h;
  IF e.limit_per_day IS NOT NULL OR e.limit_per_week IS NOT NULL THEN
    lo := p_from - make_interval(secs => p_reach_limits); hi := p_to + make_interval(secs => p_reach_limits);
  ELSE
    lo := p_from - make_interval(secs => p_reach); hi := p_to + make_interval(secs => p_reach);
  END IF;
  RETURN QUERY
  SELECT h, v, e.id, e.name, e.duration_minutes, coalesce(e.slot_interval_minutes, e.duration_minutes),
         e.buffer_before, e.buffer_after, e.min_notice_hours, e.max_future_days, e.seats, e.limit_per_day,
         e.limit_per_week, e.requires_confirmation, e.questions, s.timezone, s.week_spans, s.override_spans,
         coalesce(array_agg(extract(epoch FROM x.start_at)::bigint), '{}'),
         coalesce(array_agg(extract(epoch FROM x.end_at)::bigint), '{}'),
         coalesce(array_agg(x.bb * 60), '{}'), coalesce(array_agg(x.ba * 60), '{}'),
         coalesce(array_agg(x.et), '{}'), coalesce(array_agg(x.ref), '{}'), coalesce(array_agg(x.seats), '{}'),
         coalesce(array_agg(x.kind), '{}'), coalesce(array_agg(x.pending), '{}'),
         extract(epoch FROM min(x.expires_at))::bigint
  FROM (
    SELECT k.start_at, k.end_at, t.buffer_before AS bb, t.buffer_after AS ba, k.event_type_id AS et, k.id AS ref,
           k.seats, 1 AS kind, (k.status = 'pending')::integer AS pending, NULL::timestamptz AS expires_at
    FROM bookings k JOIN event_types t ON t.id = k.event_type_id
    WHERE k.host_id = h AND k.status IN ('pending', 'confirmed', 'pending_payment') AND k.start_at < hi AND k.end_at > lo
      AND k.id IS DISTINCT FROM p_exclude_booking AND coalesce(k.parent_id <> p_exclude_booking, true)
    UNION ALL
    SELECT r.start_at, r.end_at, t.buffer_before, t.buffer_after, r.event_type_id, r.id, 1, 2, 0, r.expires_at
    FROM reservations r JOIN event_types t ON t.id = r.event_type_id
    WHERE r.host_id = h AND r.expires_at > now() AND r.start_at < hi AND r.end_at > lo
      AND r.uid IS DISTINCT FROM p_exclude_reservation
    UNION ALL
    SELECT o.start_at, o.end_at, 0, 0, 0, o.id, 1, 3, 0, NULL
    FROM time_off o WHERE o.user_id = h AND o.start_at < hi AND o.end_at > lo
  ) x;
END $$;

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
  || CASE WHEN e.org_id IS NULL THEN '{}'::jsonb ELSE api.booking_org_json(b, e) END
$$;

-- ---------------------------------------------------------------- payments

CREATE FUNCTION api.payment_json(p payments) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', p.id, 'booking_id', p.booking_id, 'kind', p.kind, 'amount', p.amount,
    'currency', p.currency, 'method', p.method, 'external_id', p.external_id, 'created_at', api.rfc3339(p.created_at))
$$;

-- The booking whose ledger the caller may read or write: one of its hosts (a session or a
-- personal key), or an admin of the org of its event type (an org key of that org included).
-- Anything else is 404, as if it did not exist.
CREATE FUNCTION api.booking_for_ledger(p_booking bigint, p_user bigint, p_key_org bigint) RETURNS bookings
LANGUAGE plpgsql STABLE AS $$
DECLARE
  b bookings;
  org bigint;
BEGIN
  SELECT k.* INTO b FROM bookings k WHERE k.id = p_booking AND k.parent_id IS NULL;
  IF b.id IS NOT NULL THEN
    SELECT t.org_id INTO org FROM event_types t WHERE t.id = b.event_type_id;
    IF (p_key_org IS NULL AND (b.host_id = p_user OR EXISTS (
          SELECT 1 FROM bookings s WHERE s.parent_id = b.id AND s.host_id = p_user)))
       OR (org IS NOT NULL AND coalesce(api.org_role(org, p_user, p_key_org) IN ('owner', 'admin'), false)) THEN
      RETURN b;
    END IF;
  END IF;
  PERFORM api.fail(404, 'booking not found');
  RETURN NULL;
END $$;

CREATE FUNCTION api.payments_list(p_booking bigint, p_user bigint, p_key_org bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE b bookings := api.booking_for_ledger(p_booking, p_user, p_key_org);
BEGIN
  RETURN jsonb_build_object('payments', coalesce((SELECT jsonb_agg(api.payment_json(p) ORDER BY p.id)
                                                  FROM payments p WHERE p.booking_id = b.id), '[]'),
    'payment_status', b.payment_status, 'amount_due', b.amount_due, 'amount_paid', b.amount_paid,
    'amount_refunded', b.amount_refunded, 'currency', b.currency);
END $$;

-- A booking's hosts (its own, then a collective booking's other hosts), each host's advisory
-- lock taken in ascending id order: the order of every write that changes a booking, so a
-- payment, an expiry and a status change of one booking serialise without deadlocking.
CREATE FUNCTION api.booking_hosts_lock(b bookings) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
  hosts bigint[] := b.host_id || ARRAY(SELECT s.host_id FROM bookings s WHERE s.parent_id = b.id);
  h bigint;
BEGIN
  FOREACH h IN ARRAY (SELECT array_agg(x ORDER BY x) FROM unnest(hosts) x) LOOP PERFORM pg_advisory_xact_lock(h); END LOOP;
  RETURN hosts;
END $$;

-- Records money received (kind payment) or returned (kind refund) for a booking: C has checked
-- the shapes (amount > 0 with at most two decimals, currency ISO 4217, kind). Under every host's
-- lock, in ascending order, then the booking's row: the same order as every status change, so a
-- payment and the expiry of its window serialise and exactly one of them wins. external_id
-- makes it idempotent: the same id again answers the first record (created false); with other
-- details, 409.
CREATE FUNCTION api.payment_record(p_booking bigint, p_user bigint, p_key_org bigint, p_kind text, p_amount numeric,
                                   p_currency text, p_method text, p_external text)
RETURNS TABLE (body jsonb, host_ids bigint[], created boolean) LANGUAGE plpgsql AS $$
DECLARE
  b bookings;
  e event_types;
  p payments;
  hosts bigint[];
  h bigint;
  was text;
  bj jsonb;
BEGIN
  b := api.booking_for_ledger(p_booking, p_user, p_key_org);
  hosts := api.booking_hosts_lock(b);
  SELECT * INTO b FROM bookings k WHERE k.id = b.id FOR UPDATE;
  IF p_external IS NOT NULL THEN
    SELECT * INTO p FROM payments x WHERE x.booking_id = b.id AND x.external_id = p_external;
    IF p.id IS NOT NULL THEN
      IF p.kind <> p_kind OR p.amount <> p_amount OR p.currency <> p_currency THEN
        PERFORM api.fail(409, 'external_id was already recorded for this booking with other details', 'external_id');
      END IF;
      SELECT * INTO e FROM event_types t WHERE t.id = b.event_type_id;
      RETURN QUERY SELECT jsonb_build_object('payment', api.payment_json(p), 'booking', api.booking_json_with(b, e)),
                          hosts, false;
      RETURN;
    END IF;
  END IF;
  IF b.amount_due IS NULL THEN PERFORM api.fail(400, 'this booking has no price to pay', 'amount'); END IF;
  IF p_currency <> b.currency THEN
    PERFORM api.fail(400, 'currency must be ' || b.currency || ', the currency of the booking', 'currency');
  END IF;
  IF p_kind = 'payment' THEN
    IF b.status NOT IN ('pending_payment', 'pending', 'confirmed') THEN
      PERFORM api.fail(409, 'the booking is ' || b.status, 'status:' || b.status);
    END IF;
    IF b.status = 'pending_payment' AND b.payment_expires_at <= clock_timestamp() THEN
      PERFORM api.fail(409, 'the payment window has ended', 'status:expired');
    END IF;
  ELSIF p_amount > b.amount_paid THEN
    PERFORM api.fail(400, 'a refund cannot exceed what was paid (' || b.amount_paid || ')', 'amount');
  END IF;
  INSERT INTO payments (booking_id, kind, amount, currency, method, external_id)
  VALUES (b.id, p_kind, p_amount, p_currency, p_method, p_external) RETURNING * INTO p;
  was := b.payment_status;
  UPDATE bookings k SET
    amount_paid = k.amount_paid + CASE WHEN p_kind = 'payment' THEN p_amount ELSE -p_amount END,
    amount_refunded = k.amount_refunded + CASE WHEN p_kind = 'refund' THEN p_amount ELSE 0 END,
    updated_at = now()
  WHERE k.id = b.id RETURNING * INTO b;
  UPDATE bookings k SET
    payment_status = CASE
      WHEN b.amount_refunded > 0 THEN CASE WHEN b.amount_paid = 0 THEN 'refunded' ELSE 'partially_refunded' END
      WHEN b.amount_paid >= b.amount_due THEN 'paid' ELSE 'unpaid' END,
    status = CASE WHEN b.status = 'pending_payment' AND b.amount_paid >= b.amount_due THEN 'confirmed' ELSE b.status END,
    payment_expires_at = CASE WHEN b.status = 'pending_payment' AND b.amount_paid >= b.amount_due THEN NULL
                              ELSE b.payment_expires_at END
  WHERE k.id = b.id RETURNING * INTO b;
  SELECT * INTO e FROM event_types t WHERE t.id = b.event_type_id;
  bj := api.booking_json_with(b, e);
  IF p_kind = 'refund' OR (b.payment_status = 'paid' AND was IS DISTINCT FROM 'paid') THEN
    FOREACH h IN ARRAY hosts LOOP  -- every host hears it; the org once (with the primary's)
      PERFORM api.emit_json(h, CASE p_kind WHEN 'refund' THEN 'booking.refunded' ELSE 'booking.paid' END, b.id, bj,
                            jsonb_build_object('payment', api.payment_json(p)), h = b.host_id);
    END LOOP;
  END IF;
  RETURN QUERY SELECT jsonb_build_object('payment', api.payment_json(p), 'booking', bj), hosts, true;
END $$;

-- ---------------------------------------------------------------- the payment window

-- Up to p_limit bookings whose payment window has ended, and the seconds until the next window
-- ends (NULL: none is open). The expiry timer of every instance calls it, then api.booking_expire
-- for each id, one transaction each.
CREATE FUNCTION api.payments_due(p_limit integer) RETURNS TABLE (ids bigint[], next_due double precision)
LANGUAGE sql STABLE AS $$
  SELECT ARRAY(SELECT k.id FROM bookings k WHERE k.status = 'pending_payment' AND k.payment_expires_at <= clock_timestamp()
               ORDER BY k.payment_expires_at LIMIT p_limit),
         (SELECT extract(epoch FROM min(k.payment_expires_at) - clock_timestamp())::double precision
          FROM bookings k WHERE k.status = 'pending_payment')
$$;

-- Expires one booking whose window has ended, unpaid: its slot frees, event booking.expired to
-- every host (and the org once). Takes the locks in api.payment_record's order; a booking paid,
-- cancelled or already expired meanwhile is left alone (false).
CREATE FUNCTION api.booking_expire(p_id bigint) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  b bookings;
  e event_types;
  hosts bigint[];
  h bigint;
  bj jsonb;
BEGIN
  SELECT * INTO b FROM bookings k WHERE k.id = p_id AND k.parent_id IS NULL;
  IF b.id IS NULL OR b.status <> 'pending_payment' THEN RETURN false; END IF;
  hosts := api.booking_hosts_lock(b);
  SELECT * INTO b FROM bookings k WHERE k.id = p_id FOR UPDATE;
  IF b.status <> 'pending_payment' OR b.payment_expires_at > clock_timestamp() THEN RETURN false; END IF;
  UPDATE bookings SET status = 'expired', updated_at = now() WHERE id = p_id RETURNING * INTO b;
  SELECT * INTO e FROM event_types t WHERE t.id = b.event_type_id;
  bj := api.booking_json_with(b, e);
  FOREACH h IN ARRAY hosts LOOP
    PERFORM api.emit_json(h, 'booking.expired', b.id, bj, '{}', h = b.host_id);
  END LOOP;
  RETURN true;
END $$;

-- An invitee's links work while the booking waits for payment too (cancel; reschedule refuses).
CREATE OR REPLACE FUNCTION api.booking_id_for_token(p_kind text, p_hash text) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE r bigint;
BEGIN
  SELECT id INTO r FROM bookings
  WHERE CASE p_kind WHEN 'cancel' THEN cancel_token_hash WHEN 'reschedule' THEN reschedule_token_hash
                    ELSE confirm_token_hash END = p_hash
    AND status IN ('pending', 'confirmed', 'pending_payment') AND end_at > now();
  IF r IS NULL THEN PERFORM api.fail(404, 'link is invalid or no longer valid'); END IF;
  RETURN r;
END $$;
