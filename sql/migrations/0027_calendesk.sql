-- 0027_calendesk: the Calendesk dialect (issue 18). Calendesk's API names a tenant in X-Tenant:
-- here an org slug (employees: the org's members hosting its listed event types) or a
-- booking-page slug (a one-employee tenant: its user). Ids map one to one: employee = user,
-- service = event type, user = customer, booking = booking. Every function takes (p_tenant,
-- p_user, p_key_org) first and resolves the tenant and the caller in its own statement
-- (api.calendesk_scope), so one request is still one round trip; the rules themselves stay in
-- the native functions and the C booking core.

-- The tenant named p_tenant: (org, user, its zone). p_admin: the caller must hold one of its
-- keys -- an org key of that org, or the booking page's user's own personal key -- else 403.
-- An unknown tenant is 404.
CREATE FUNCTION api.calendesk_scope(p_tenant text, p_user bigint, p_key_org bigint, p_admin boolean,
                                    OUT o_org bigint, OUT o_user bigint, OUT o_tz text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  SELECT o.id, o.timezone INTO o_org, o_tz FROM orgs o WHERE o.slug = p_tenant;
  IF o_org IS NULL THEN
    SELECT p.user_id, coalesce((SELECT s.timezone FROM availability_schedules s WHERE s.user_id = p.user_id AND s.is_default),
                               u.timezone)
    INTO o_user, o_tz FROM booking_pages p JOIN users u ON u.id = p.user_id WHERE p.slug = p_tenant;
    IF o_user IS NULL THEN PERFORM api.fail(404, 'tenant not found'); END IF;
  END IF;
  IF p_admin AND NOT coalesce(CASE WHEN o_org IS NOT NULL THEN p_key_org = o_org
                                   ELSE p_key_org IS NULL AND p_user = o_user END, false) THEN
    PERFORM api.fail(403, 'this API key does not belong to this tenant');
  END IF;
END $$;

-- The tenant's listed event types (its services).
CREATE FUNCTION api.calendesk_services_of(p_org bigint, p_user bigint) RETURNS SETOF event_types
LANGUAGE sql STABLE AS $$
  SELECT * FROM event_types e
  WHERE e.is_active AND NOT e.is_secret AND (e.org_id = p_org OR (p_org IS NULL AND e.user_id = p_user))
$$;

-- The users who perform service e: its hosts (org types) or its owner.
CREATE FUNCTION api.calendesk_employee_ids(e event_types) RETURNS bigint[] LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN e.org_id IS NULL THEN ARRAY[e.user_id]
              ELSE coalesce((SELECT array_agg(h.user_id ORDER BY h.user_id) FROM event_type_hosts h
                             WHERE h.event_type_id = e.id), '{}') END
$$;

-- Prices in minor units: slotd keeps two decimals (numeric(12,2)), so the integer is cents.
CREATE FUNCTION api.calendesk_price(e event_types) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT round(coalesce(e.price, 0) * 100)::bigint
$$;

CREATE FUNCTION api.calendesk_employee_json(u users, p_services jsonb) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', u.id, 'name', split_part(u.name, ' ', 1),
    'surname', nullif(btrim(substr(u.name, length(split_part(u.name, ' ', 1)) + 1)), ''),
    'email', u.email::text, 'services', p_services)
$$;

CREATE FUNCTION api.calendesk_service_json(e event_types) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', e.id, 'name', e.name, 'duration', e.duration_minutes, 'price', api.calendesk_price(e),
    'currency', e.currency, 'description', e.description,
    'employees', coalesce((SELECT jsonb_agg(api.calendesk_employee_json(u, NULL) - 'services' - 'email' ORDER BY u.id)
                           FROM users u WHERE u.id = ANY (api.calendesk_employee_ids(e))), '[]'),
    'locations', CASE WHEN e.location_type IS NULL THEN '[]'::jsonb
                      ELSE jsonb_build_array(jsonb_build_object('type', e.location_type, 'data', e.location_value)) END)
$$;

-- Calendesk's booking: dates and times on the tenant's wall clock (p_tz).
CREATE FUNCTION api.calendesk_status(s text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE s WHEN 'confirmed' THEN 'approved' WHEN 'pending' THEN 'pending'
                WHEN 'pending_payment' THEN 'waiting_for_payment' WHEN 'declined' THEN 'rejected'
                ELSE 'cancelled' END
$$;

CREATE FUNCTION api.calendesk_booking_json(b bookings, e event_types, p_tz text) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', b.id, 'employee_id', b.host_id, 'user_id', b.customer_id, 'service_id', e.id,
    'start_date', to_char(b.start_at AT TIME ZONE p_tz, 'YYYY-MM-DD'),
    'start_time', to_char(b.start_at AT TIME ZONE p_tz, 'HH24:MI'),
    'end_time', to_char(b.end_at AT TIME ZONE p_tz, 'HH24:MI'),
    'status', api.calendesk_status(b.status),
    'service', jsonb_build_object('id', e.id, 'name', e.name, 'duration', e.duration_minutes,
                                  'price', api.calendesk_price(e)))
$$;

-- A booking of the tenant (its primary row), or 404.
CREATE FUNCTION api.calendesk_booking_of(p_org bigint, p_user bigint, p_id bigint) RETURNS bookings
LANGUAGE plpgsql STABLE AS $$
DECLARE b bookings;
BEGIN
  SELECT k.* INTO b FROM bookings k JOIN event_types e ON e.id = k.event_type_id
  WHERE k.id = p_id AND k.parent_id IS NULL
    AND (e.org_id = p_org OR (p_org IS NULL AND e.org_id IS NULL AND k.host_id = p_user));
  IF b.id IS NULL THEN PERFORM api.fail(404, 'booking not found'); END IF;
  RETURN b;
END $$;

CREATE FUNCTION api.calendesk_booking_get(p_tenant text, p_user bigint, p_key_org bigint, p_id bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  t record;
  b bookings;
  e event_types;
BEGIN
  SELECT * INTO t FROM api.calendesk_scope(p_tenant, p_user, p_key_org, true);
  b := api.calendesk_booking_of(t.o_org, t.o_user, p_id);
  SELECT * INTO e FROM event_types x WHERE x.id = b.event_type_id;
  RETURN api.calendesk_booking_json(b, e, t.o_tz);
END $$;

-- A booking just made or changed through the core, in Calendesk's shape (the caller's right
-- to it was checked before the core ran).
CREATE FUNCTION api.calendesk_booking_by_id(p_id bigint, p_tz text) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT api.calendesk_booking_json(b, e, p_tz) FROM bookings b JOIN event_types e ON e.id = b.event_type_id
  WHERE b.id = p_id
$$;

-- What the core needs for a change of booking p_id: the host acting (the booking's own host:
-- the tenant's key has been checked here, and the core's host rules then apply) and the
-- tenant's zone for times given on its wall clock.
CREATE FUNCTION api.calendesk_booking_actor(p_tenant text, p_user bigint, p_key_org bigint, p_id bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  t record;
  b bookings;
BEGIN
  SELECT * INTO t FROM api.calendesk_scope(p_tenant, p_user, p_key_org, true);
  b := api.calendesk_booking_of(t.o_org, t.o_user, p_id);
  RETURN jsonb_build_object('host', b.host_id, 'tz', t.o_tz, 'status', b.status);
END $$;

-- The Laravel paginator around one page of data.
CREATE FUNCTION api.calendesk_page(p_data jsonb, p_total bigint, p_page bigint, p_limit bigint, p_url text)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('current_page', p_page, 'data', p_data,
    'first_page_url', p_url || '?page=1',
    'from', CASE WHEN jsonb_array_length(p_data) > 0 THEN (p_page - 1) * p_limit + 1 END,
    'last_page', greatest(1, (p_total + p_limit - 1) / p_limit),
    'last_page_url', p_url || '?page=' || greatest(1, (p_total + p_limit - 1) / p_limit),
    'next_page_url', CASE WHEN p_page * p_limit < p_total THEN p_url || '?page=' || (p_page + 1) END,
    'path', p_url, 'per_page', p_limit,
    'prev_page_url', CASE WHEN p_page > 1 THEN p_url || '?page=' || (p_page - 1) END,
    'to', CASE WHEN jsonb_array_length(p_data) > 0 THEN (p_page - 1) * p_limit + jsonb_array_length(p_data) END,
    'total', p_total)
$$;

-- GET /api/admin/bookings: filters each NULL when not given; p_employees, p_services id arrays.
CREATE FUNCTION api.calendesk_bookings_list(p_tenant text, p_user bigint, p_key_org bigint, p_employees bigint[],
                                            p_services bigint[], p_customer bigint, p_status text, p_from date,
                                            p_to date, p_order text, p_asc boolean, p_page bigint, p_limit bigint,
                                            p_url text)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  t record;
  total bigint;
  data jsonb;
BEGIN
  SELECT * INTO t FROM api.calendesk_scope(p_tenant, p_user, p_key_org, true);
  WITH r AS (
    SELECT k AS b, x AS e FROM bookings k JOIN event_types x ON x.id = k.event_type_id
    WHERE k.parent_id IS NULL AND (x.org_id = t.o_org OR (t.o_org IS NULL AND x.org_id IS NULL AND k.host_id = t.o_user))
      AND (p_employees IS NULL OR k.host_id = ANY (p_employees))
      AND (p_services IS NULL OR x.id = ANY (p_services))
      AND (p_customer IS NULL OR k.customer_id = p_customer)
      AND (p_status IS NULL OR api.calendesk_status(k.status) = p_status)
      AND (p_from IS NULL OR k.start_at >= (p_from::timestamp AT TIME ZONE t.o_tz))
      AND (p_to IS NULL OR k.start_at < ((p_to + 1)::timestamp AT TIME ZONE t.o_tz))),
  pg AS (
    SELECT r.*, row_number() OVER (
      ORDER BY CASE WHEN p_asc AND p_order = 'id' THEN (r.b).id END ASC,
               CASE WHEN NOT p_asc AND p_order = 'id' THEN (r.b).id END DESC,
               CASE WHEN p_asc THEN (r.b).start_at END ASC, CASE WHEN NOT p_asc THEN (r.b).start_at END DESC,
               (r.b).id) AS n
    FROM r)
  SELECT (SELECT count(*) FROM r),
         coalesce((SELECT jsonb_agg(api.calendesk_booking_json(pg.b, pg.e, t.o_tz) ORDER BY pg.n) FROM pg
                   WHERE pg.n > (p_page - 1) * p_limit AND pg.n <= p_page * p_limit), '[]')
  INTO total, data;
  RETURN api.calendesk_page(data, total, p_page, p_limit, p_url);
END $$;

-- Services and employees.
CREATE FUNCTION api.calendesk_services(p_tenant text, p_user bigint, p_key_org bigint, p_id bigint, p_page bigint,
                                       p_limit bigint, p_url text)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  t record;
  r jsonb;
BEGIN
  SELECT * INTO t FROM api.calendesk_scope(p_tenant, p_user, p_key_org, false);
  IF p_id IS NOT NULL THEN
    SELECT api.calendesk_service_json(e) INTO r FROM api.calendesk_services_of(t.o_org, t.o_user) e WHERE e.id = p_id;
    IF r IS NULL THEN PERFORM api.fail(404, 'service not found'); END IF;
    RETURN r;
  END IF;
  RETURN api.calendesk_page(
    coalesce((SELECT jsonb_agg(api.calendesk_service_json(e) ORDER BY e.id) FROM (
      SELECT * FROM api.calendesk_services_of(t.o_org, t.o_user) x ORDER BY x.id
      LIMIT p_limit OFFSET (p_page - 1) * p_limit) e), '[]'),
    (SELECT count(*) FROM api.calendesk_services_of(t.o_org, t.o_user)), p_page, p_limit, p_url);
END $$;

-- The tenant's employees: whoever performs one of its services, with those services' ids (a
-- booking-page tenant's user is its employee even with no service listed).
CREATE FUNCTION api.calendesk_staff(p_org bigint, p_user bigint) RETURNS TABLE (uid bigint, services jsonb)
LANGUAGE sql STABLE AS $$
  SELECT x.uid, jsonb_agg(x.eid ORDER BY x.eid) FILTER (WHERE x.eid IS NOT NULL) FROM (
    SELECT unnest(api.calendesk_employee_ids(e)) AS uid, e.id AS eid FROM api.calendesk_services_of(p_org, p_user) e
    UNION ALL SELECT p_user, NULL WHERE p_org IS NULL) x
  GROUP BY x.uid
$$;

CREATE FUNCTION api.calendesk_employees(p_tenant text, p_user bigint, p_key_org bigint, p_id bigint, p_page bigint,
                                        p_limit bigint, p_url text)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  t record;
  r jsonb;
BEGIN
  SELECT * INTO t FROM api.calendesk_scope(p_tenant, p_user, p_key_org, true);
  IF p_id IS NOT NULL THEN
    SELECT api.calendesk_employee_json(u, coalesce(s.services, '[]')) INTO r
    FROM api.calendesk_staff(t.o_org, t.o_user) s JOIN users u ON u.id = s.uid WHERE s.uid = p_id;
    IF r IS NULL THEN PERFORM api.fail(404, 'employee not found'); END IF;
    RETURN r;
  END IF;
  RETURN api.calendesk_page(
    coalesce((SELECT jsonb_agg(api.calendesk_employee_json(u, coalesce(s.services, '[]')) ORDER BY u.id) FROM (
      SELECT * FROM api.calendesk_staff(t.o_org, t.o_user) x ORDER BY x.uid LIMIT p_limit OFFSET (p_page - 1) * p_limit) s
      JOIN users u ON u.id = s.uid), '[]'),
    (SELECT count(*) FROM api.calendesk_staff(t.o_org, t.o_user)), p_page, p_limit, p_url);
END $$;

-- GET /api/available-slots's set-up: the tenant's zone and the service's employees (those named
-- in p_employees when given).
CREATE FUNCTION api.calendesk_slots_info(p_tenant text, p_service bigint, p_employees bigint[]) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  t record;
  e event_types;
BEGIN
  SELECT * INTO t FROM api.calendesk_scope(p_tenant, NULL, NULL, false);
  SELECT * INTO e FROM api.calendesk_services_of(t.o_org, t.o_user) x WHERE x.id = p_service;
  IF e.id IS NULL THEN PERFORM api.fail(404, 'service not found', 'service_id'); END IF;
  RETURN jsonb_build_object('tz', t.o_tz, 'employees',
    to_jsonb(ARRAY(SELECT x FROM unnest(api.calendesk_employee_ids(e)) x
                   WHERE p_employees IS NULL OR x = ANY (p_employees) ORDER BY x)));
END $$;

-- POST /api/bookings's set-up: the tenant's zone, the service (its confirmation rule) and the
-- employee checked against it, and who books: the tenant's customer p_customer (their name,
-- e-mail and phone; the core links the booking back to them by e-mail).
CREATE FUNCTION api.calendesk_book_info(p_tenant text, p_user bigint, p_key_org bigint, p_service bigint,
                                        p_employee bigint, p_customer bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  t record;
  e event_types;
  c customers;
BEGIN
  SELECT * INTO t FROM api.calendesk_scope(p_tenant, p_user, p_key_org, true);
  SELECT * INTO e FROM api.calendesk_services_of(t.o_org, t.o_user) x WHERE x.id = p_service;
  IF e.id IS NULL THEN PERFORM api.fail(400, 'The selected service id is invalid.', 'service_id'); END IF;
  IF NOT p_employee = ANY (api.calendesk_employee_ids(e)) THEN
    PERFORM api.fail(400, 'The selected employee id is invalid.', 'employee_id');
  END IF;
  IF p_customer IS NOT NULL THEN
    SELECT * INTO c FROM customers x WHERE x.id = p_customer AND (x.org_id = t.o_org OR x.user_id = t.o_user);
    IF c.id IS NULL THEN PERFORM api.fail(400, 'The selected user id is invalid.', 'user_id'); END IF;
    IF c.email IS NULL THEN  -- the core books for an e-mail address
      PERFORM api.fail(400, 'The user has no e-mail address.', 'user_id');
    END IF;
  END IF;
  RETURN jsonb_build_object('tz', t.o_tz, 'requires_confirmation', e.requires_confirmation,
    'name', nullif(btrim(coalesce(c.name, '') || ' ' || coalesce(c.surname, '')), ''), 'email', c.email,
    'phone', c.phone, 'time_zone', c.time_zone);
END $$;

-- Customers ("users" in Calendesk's words).
CREATE FUNCTION api.calendesk_user_json(c customers) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', j->'id', 'name', j->'name', 'surname', j->'surname', 'email', j->'email',
    'status', j->'status', 'time_zone', j->'time_zone', 'created_at', j->'created_at',
    'default_phone', CASE WHEN c.phone IS NOT NULL THEN jsonb_build_object('e164', c.phone) END,
    'tags', j->'tags', 'groups', j->'groups')
  FROM (SELECT api.customer_json(c) AS j) s
$$;

-- The native customers API's owner arguments for the tenant: (org, user) as its functions take them.
CREATE FUNCTION api.calendesk_users_list(p_tenant text, p_user bigint, p_key_org bigint, p_query text,
                                         p_order text, p_asc boolean, p_page bigint, p_limit bigint, p_url text)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  t record;
  total bigint;
  data jsonb;
  q text := replace(replace(replace(lower(p_query), '\', '\\'), '%', '\%'), '_', '\_');
BEGIN
  SELECT * INTO t FROM api.calendesk_scope(p_tenant, p_user, p_key_org, true);
  SELECT count(*) INTO total FROM customers c
  WHERE (c.org_id = t.o_org OR c.user_id = t.o_user) AND (q IS NULL OR c.search LIKE '%' || q || '%');
  SELECT coalesce(jsonb_agg(api.calendesk_user_json(x) ORDER BY r.n), '[]') INTO data FROM (
    SELECT c.id, row_number() OVER (
      ORDER BY CASE WHEN p_asc THEN CASE p_order WHEN 'name' THEN lower(c.name) WHEN 'surname' THEN lower(c.surname)
                                                 WHEN 'email' THEN lower(c.email) END END ASC,
               CASE WHEN NOT p_asc THEN CASE p_order WHEN 'name' THEN lower(c.name) WHEN 'surname' THEN lower(c.surname)
                                                     WHEN 'email' THEN lower(c.email) END END DESC,
               CASE WHEN p_asc THEN c.id END ASC, CASE WHEN NOT p_asc THEN c.id END DESC) AS n
    FROM customers c
    WHERE (c.org_id = t.o_org OR c.user_id = t.o_user) AND (q IS NULL OR c.search LIKE '%' || q || '%')) r
  JOIN customers x ON x.id = r.id
  WHERE r.n > (p_page - 1) * p_limit AND r.n <= p_page * p_limit;
  RETURN api.calendesk_page(data, total, p_page, p_limit, p_url);
END $$;

-- Calendesk's user fields onto the native patch (default_phone: a string or {e164}).
CREATE FUNCTION api.calendesk_user_patch(p jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_strip_nulls(jsonb_build_object('name', p->'name', 'surname', p->'surname', 'email', p->'email',
    'time_zone', p->'time_zone', 'status', p->'status', 'tags', p->'tags', 'groups', p->'groups',
    'phone', CASE jsonb_typeof(p->'default_phone') WHEN 'object' THEN p->'default_phone'->'e164'
                                                     ELSE p->'default_phone' END))
$$;

CREATE FUNCTION api.calendesk_user_save(p_tenant text, p_user bigint, p_key_org bigint, p_id bigint, p jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  t record;
  j jsonb;
  c customers;
BEGIN
  SELECT * INTO t FROM api.calendesk_scope(p_tenant, p_user, p_key_org, true);
  -- the native save: its owner is the org (as its key) or the booking page's user
  j := api.customer_save(t.o_org, coalesce(t.o_user, p_user), p_key_org, p_id, api.calendesk_user_patch(p));
  SELECT * INTO c FROM customers x WHERE x.id = (j->>'id')::bigint;
  RETURN api.calendesk_user_json(c);
END $$;

CREATE FUNCTION api.calendesk_user_get(p_tenant text, p_user bigint, p_key_org bigint, p_id bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE t record;
BEGIN
  SELECT * INTO t FROM api.calendesk_scope(p_tenant, p_user, p_key_org, true);
  RETURN api.calendesk_user_json(api.customer_of(t.o_org, coalesce(t.o_user, p_user), p_key_org, 'member', p_id));
END $$;

CREATE FUNCTION api.calendesk_user_delete(p_tenant text, p_user bigint, p_key_org bigint, p_id bigint)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE t record;
BEGIN
  SELECT * INTO t FROM api.calendesk_scope(p_tenant, p_user, p_key_org, true);
  RETURN QUERY SELECT '{"message": "deleted"}'::jsonb, d.host_ids, d.stale
               FROM api.customer_delete(t.o_org, coalesce(t.o_user, p_user), p_key_org, p_id) d;
END $$;

CREATE FUNCTION api.calendesk_user_bookings(p_tenant text, p_user bigint, p_key_org bigint, p_id bigint,
                                            p_page bigint, p_limit bigint, p_url text)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  t record;
  c customers;
BEGIN
  SELECT * INTO t FROM api.calendesk_scope(p_tenant, p_user, p_key_org, true);
  c := api.customer_of(t.o_org, coalesce(t.o_user, p_user), p_key_org, 'member', p_id);
  RETURN api.calendesk_page(
    coalesce((SELECT jsonb_agg(api.calendesk_booking_json(b, e, t.o_tz) ORDER BY b.start_at DESC, b.id DESC)
              FROM (SELECT * FROM bookings x WHERE x.customer_id = c.id AND x.parent_id IS NULL
                    ORDER BY x.start_at DESC, x.id DESC LIMIT p_limit OFFSET (p_page - 1) * p_limit) b
              JOIN event_types e ON e.id = b.event_type_id), '[]'),
    (SELECT count(*) FROM bookings x WHERE x.customer_id = c.id AND x.parent_id IS NULL), p_page, p_limit, p_url);
END $$;

-- Tags and groups (p_kind 'tag' or 'group'): the native label functions.
CREATE FUNCTION api.calendesk_labels(p_kind text, p_tenant text, p_user bigint, p_key_org bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE t record;
BEGIN
  SELECT * INTO t FROM api.calendesk_scope(p_tenant, p_user, p_key_org, true);
  RETURN api.customer_labels_list(p_kind, t.o_org, coalesce(t.o_user, p_user), p_key_org);
END $$;

CREATE FUNCTION api.calendesk_label_create(p_kind text, p_tenant text, p_user bigint, p_key_org bigint, p_name text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE t record;
BEGIN
  SELECT * INTO t FROM api.calendesk_scope(p_tenant, p_user, p_key_org, true);
  RETURN api.customer_label_create(p_kind, t.o_org, coalesce(t.o_user, p_user), p_key_org, p_name);
END $$;

-- Payments: one record in the native ledger (api.payment_record, which fires booking.paid when
-- the booking becomes paid in full). Amounts arrive in minor units.
CREATE FUNCTION api.calendesk_payment(p_tenant text, p_user bigint, p_key_org bigint, p_booking bigint,
                                      p_amount bigint, p_method text, p_external text)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  t record;
  b bookings;
  r record;
BEGIN
  SELECT * INTO t FROM api.calendesk_scope(p_tenant, p_user, p_key_org, true);
  b := api.calendesk_booking_of(t.o_org, t.o_user, p_booking);
  IF b.currency IS NULL THEN PERFORM api.fail(400, 'This booking has no price to pay.', 'booking_id'); END IF;
  -- the ledger acts as the booking's host (personal) or the org's key: the tenant was checked above
  SELECT * INTO r FROM api.payment_record(b.id, CASE WHEN t.o_org IS NULL THEN b.host_id ELSE p_user END,
                                          p_key_org, 'payment', p_amount / 100.0, b.currency, p_method, p_external);
  SELECT * INTO b FROM bookings k WHERE k.id = b.id;
  RETURN QUERY SELECT jsonb_build_object('id', (r.body->'payment'->>'id')::bigint,
                                         'status', CASE WHEN b.payment_status = 'paid' THEN 'paid' ELSE 'approved' END,
                                         'booking_id', b.id, 'amount', p_amount),
                      r.host_ids, false;
END $$;

-- ---------------------------------------------------------------- webhooks

-- A Calendesk subscription is a native webhook of the tenant (the org's, or the booking page's
-- user's) with format 'calendesk': its Calendesk event names are kept as given
-- (calendesk_events) and translated into the native events it must hear (events), so the native
-- fan-out picks it like any webhook and the outbox retries it. Its deliveries are rewritten into
-- Calendesk's {event, data} by 0026's trigger on webhook_deliveries (api.vendor_webhooks_*, which
-- uses this file's api.calendesk_booking_json) and signed like native deliveries by the channel.
DO $$
DECLARE def text;
BEGIN
  SELECT pg_get_constraintdef(c.oid) INTO def FROM pg_constraint c
  WHERE c.conrelid = 'webhooks'::regclass AND c.contype = 'c' AND pg_get_constraintdef(c.oid) LIKE '%format%'
    AND pg_get_constraintdef(c.oid) LIKE '%native%' LIMIT 1;
  -- the allowed formats are widened by one, whatever others the migrations before this one added
  IF def IS NOT NULL AND def NOT LIKE '%calendesk%' AND def LIKE '%ARRAY[%' THEN
    EXECUTE (SELECT format('ALTER TABLE webhooks DROP CONSTRAINT %I', c.conname) FROM pg_constraint c
             WHERE c.conrelid = 'webhooks'::regclass AND pg_get_constraintdef(c.oid) = def LIMIT 1);
    EXECUTE 'ALTER TABLE webhooks ADD CONSTRAINT webhooks_format_check '
            || replace(def, 'ARRAY[', 'ARRAY[''calendesk''::text, ');
  END IF;
END $$;
ALTER TABLE webhooks ADD COLUMN calendesk_events text[],
  ADD CONSTRAINT webhooks_calendesk_only CHECK (format = 'calendesk' OR calendesk_events IS NULL);

-- Calendesk's event names (C has checked them) -> the native events they stand for.
CREATE FUNCTION api.calendesk_native_events(p_events text[]) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(array_agg(DISTINCT n ORDER BY n), '{}') FROM unnest(p_events) e, LATERAL unnest(CASE e
    WHEN 'booking_created' THEN ARRAY['booking.created', 'booking.requested']
    WHEN 'booking_updated' THEN ARRAY['booking.rescheduled', 'booking.confirmed', 'booking.declined',
                                      'booking.reassigned', 'booking.no_show']
    WHEN 'booking_deleted' THEN ARRAY['booking.cancelled', 'booking.expired']
    WHEN 'booking_paid' THEN ARRAY['booking.paid']
    WHEN 'user_created' THEN ARRAY['customer.created'] END) n
$$;

CREATE FUNCTION api.calendesk_webhook_json(w webhooks) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', w.id, 'url', w.url, 'events', to_jsonb(w.calendesk_events), 'is_active', w.is_active,
                            'created_at', api.rfc3339(w.created_at))
$$;

CREATE FUNCTION api.calendesk_webhook_create(p_tenant text, p_user bigint, p_key_org bigint, p_url text,
                                             p_events text[], p_secret text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  t record;
  j jsonb;
  w webhooks;
BEGIN
  SELECT * INTO t FROM api.calendesk_scope(p_tenant, p_user, p_key_org, true);
  j := api.webhook_create(t.o_user, p_url, api.calendesk_native_events(p_events), p_secret, t.o_org);
  UPDATE webhooks x SET format = 'calendesk', calendesk_events = p_events WHERE x.id = (j->>'id')::bigint
  RETURNING * INTO w;
  RETURN api.calendesk_webhook_json(w) || jsonb_build_object('secret', w.secret);  -- shown this once
END $$;

CREATE FUNCTION api.calendesk_webhooks(p_tenant text, p_user bigint, p_key_org bigint, p_page bigint, p_limit bigint,
                                       p_url text)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE t record;
BEGIN
  SELECT * INTO t FROM api.calendesk_scope(p_tenant, p_user, p_key_org, true);
  RETURN api.calendesk_page(
    coalesce((SELECT jsonb_agg(api.calendesk_webhook_json(w) ORDER BY w.id) FROM (
      SELECT x.* FROM webhooks x WHERE x.format = 'calendesk' AND api.webhook_owned(x, t.o_user, t.o_org)
      ORDER BY x.id LIMIT p_limit OFFSET (p_page - 1) * p_limit) w), '[]'),
    (SELECT count(*) FROM webhooks x WHERE x.format = 'calendesk' AND api.webhook_owned(x, t.o_user, t.o_org)),
    p_page, p_limit, p_url);
END $$;

CREATE FUNCTION api.calendesk_webhook_delete(p_tenant text, p_user bigint, p_key_org bigint, p_id bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE t record;
BEGIN
  SELECT * INTO t FROM api.calendesk_scope(p_tenant, p_user, p_key_org, true);
  IF NOT EXISTS (SELECT 1 FROM webhooks x WHERE x.id = p_id AND x.format = 'calendesk'
                 AND api.webhook_owned(x, t.o_user, t.o_org)) THEN
    PERFORM api.fail(404, 'webhook not found');
  END IF;
  PERFORM api.webhook_delete(t.o_user, p_id, t.o_org);
  RETURN '{"message": "deleted"}';
END $$;
