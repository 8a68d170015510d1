-- The customers API (issue 13): customers, their tags and groups, history, export and erasure,
-- under /api/customers... for one's own (the owner is the caller) and /api/orgs/:id/customers...
-- for an org's (reads: members; writes: owners, admins and the org's keys). Every function takes
-- (p_org, p_user, p_key_org) first; p_org NULL means the personal scope. Tables, shapes, the
-- booking path and erasure are 0013's; C (src/api/customers.c) has checked every input's shape.
-- Another owner's customer, tag or group is "not found", exactly like one that does not exist.

-- Whose customers a request reaches: the org (api.org_require at p_need: 'member' to read,
-- 'admin' to write), or else the caller. Exactly one of o_user and o_org is set, so
-- `x.user_id = o_user OR x.org_id = o_org` is the owner test of every row.
CREATE FUNCTION api.customer_owner(p_org bigint, p_user bigint, p_key_org bigint, p_need text,
                                   OUT o_user bigint, OUT o_org bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF p_org IS NOT NULL THEN
    PERFORM api.org_require(p_org, p_user, p_key_org, p_need);
    o_org := p_org;
  ELSIF p_key_org IS NOT NULL THEN  -- dispatch refuses org keys on personal routes first
    PERFORM api.fail(403, 'this API key belongs to an organisation');
  ELSE
    o_user := p_user;
  END IF;
END $$;

-- The owner's customer p_id, or 404 'customer not found'.
CREATE FUNCTION api.customer_of(p_org bigint, p_user bigint, p_key_org bigint, p_need text, p_id bigint)
RETURNS customers LANGUAGE plpgsql STABLE AS $$
DECLARE
  o record;
  c customers;
BEGIN
  SELECT * INTO o FROM api.customer_owner(p_org, p_user, p_key_org, p_need);
  SELECT * INTO c FROM customers x WHERE x.id = p_id AND (x.user_id = o.o_user OR x.org_id = o.o_org);
  IF c.id IS NULL THEN PERFORM api.fail(404, 'customer not found'); END IF;
  RETURN c;
END $$;

-- ---------------------------------------------------------------- tags and groups

-- Tags and groups are one thing under two names: p_kind 'tag' or 'group' names the tables
-- customer_<kind>s and customer_<kind>_links (column <kind>_id).
-- The owner (as api.customer_owner) whose labels of p_kind a request reaches.
CREATE FUNCTION api.customer_label_owner(p_kind text, p_org bigint, p_user bigint, p_key_org bigint, p_need text,
                                         OUT o_user bigint, OUT o_org bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF p_kind NOT IN ('tag', 'group') THEN RAISE EXCEPTION 'unknown label kind %', p_kind; END IF;
  SELECT * INTO o_user, o_org FROM api.customer_owner(p_org, p_user, p_key_org, p_need);
END $$;

-- The ids of the owner's labels that p_items names: an integer is the id of one of the owner's
-- (otherwise 400 naming the field, tags or groups), a string a name (any case), made for the
-- owner when they have none by that name.
CREATE FUNCTION api.customer_label_ids(p_kind text, p_owner_user bigint, p_owner_org bigint, p_items jsonb)
RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
  x jsonb;
  found_id bigint;
  ids bigint[] := '{}';
  find text := format('SELECT id FROM customer_%ss t WHERE (t.user_id = $2 OR t.org_id = $3) AND %s', p_kind, '%s');
BEGIN
  FOR x IN SELECT * FROM jsonb_array_elements(p_items) LOOP
    IF jsonb_typeof(x) = 'number' THEN
      EXECUTE format(find, 't.id = $1') INTO found_id USING (x #>> '{}')::bigint, p_owner_user, p_owner_org;
      IF found_id IS NULL THEN
        PERFORM api.fail(400, format('%s %s not found', p_kind, x #>> '{}'), p_kind || 's');
      END IF;
    ELSE
      EXECUTE format(find, 'lower(t.name) = lower($1)') INTO found_id USING x #>> '{}', p_owner_user, p_owner_org;
      IF found_id IS NULL THEN  -- made now; a concurrent maker's row is found the second time
        EXECUTE format('INSERT INTO customer_%ss (user_id, org_id, name) VALUES ($2, $3, $1) ON CONFLICT DO NOTHING
                        RETURNING id', p_kind) INTO found_id USING x #>> '{}', p_owner_user, p_owner_org;
        IF found_id IS NULL THEN
          EXECUTE format(find, 'lower(t.name) = lower($1)') INTO found_id USING x #>> '{}', p_owner_user, p_owner_org;
        END IF;
      END IF;
    END IF;
    ids := ids || found_id;
  END LOOP;
  RETURN ids;
END $$;

-- Customer c's labels of p_kind become exactly those p_items names.
CREATE FUNCTION api.customer_labels_set(p_kind text, c customers, p_items jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE ids bigint[] := api.customer_label_ids(p_kind, c.user_id, c.org_id, p_items);
BEGIN
  EXECUTE format('DELETE FROM customer_%1$s_links WHERE customer_id = $1 AND NOT (%1$s_id = ANY ($2))', p_kind)
    USING c.id, ids;
  EXECUTE format('INSERT INTO customer_%1$s_links (customer_id, %1$s_id) SELECT DISTINCT $1, unnest($2)
                  ON CONFLICT DO NOTHING', p_kind) USING c.id, ids;
END $$;

CREATE FUNCTION api.customer_labels_list(p_kind text, p_org bigint, p_user bigint, p_key_org bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  o record;
  r jsonb;
BEGIN
  SELECT * INTO o FROM api.customer_label_owner(p_kind, p_org, p_user, p_key_org, 'member');
  EXECUTE format('SELECT coalesce(jsonb_agg(jsonb_build_object(''id'', t.id, ''name'', t.name,
                    ''customers'', (SELECT count(*) FROM customer_%1$s_links l WHERE l.%1$s_id = t.id),
                    ''created_at'', api.rfc3339(t.created_at)) ORDER BY lower(t.name), t.id), ''[]'')
                  FROM customer_%1$ss t WHERE t.user_id = $1 OR t.org_id = $2', p_kind)
    INTO r USING o.o_user, o.o_org;
  RETURN r;
END $$;

-- p_name: validated (1-100 characters, one line). A name the owner has already (any case): 409.
CREATE FUNCTION api.customer_label_create(p_kind text, p_org bigint, p_user bigint, p_key_org bigint, p_name text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  o record;
  r jsonb;
BEGIN
  SELECT * INTO o FROM api.customer_label_owner(p_kind, p_org, p_user, p_key_org, 'admin');
  EXECUTE format('INSERT INTO customer_%ss (user_id, org_id, name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING
                  RETURNING jsonb_build_object(''id'', id, ''name'', name, ''created_at'', api.rfc3339(created_at))',
                 p_kind) INTO r USING o.o_user, o.o_org, p_name;
  IF r IS NULL THEN PERFORM api.fail(409, format('a %s with this name exists already', p_kind), 'name'); END IF;
  RETURN r;
END $$;

CREATE FUNCTION api.customer_label_delete(p_kind text, p_org bigint, p_user bigint, p_key_org bigint, p_id bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  o record;
  n bigint;
BEGIN
  SELECT * INTO o FROM api.customer_label_owner(p_kind, p_org, p_user, p_key_org, 'admin');
  EXECUTE format('DELETE FROM customer_%ss t WHERE t.id = $1 AND (t.user_id = $2 OR t.org_id = $3)', p_kind)
    USING p_id, o.o_user, o.o_org;
  GET DIAGNOSTICS n = ROW_COUNT;  -- EXECUTE leaves FOUND alone
  IF n = 0 THEN PERFORM api.fail(404, p_kind || ' not found'); END IF;
  RETURN '{"ok": true}';
END $$;

-- ---------------------------------------------------------------- customers

-- A patch's fields onto c (those given; null clears). The phone is stored as E.164.
CREATE FUNCTION api.customer_apply(c customers, p jsonb) RETURNS customers LANGUAGE plpgsql AS $$
BEGIN
  IF p ? 'phone' AND p->>'phone' IS NOT NULL AND api.e164(p->>'phone') IS NULL THEN
    PERFORM api.fail(400, 'phone must be an international number (E.164) such as +44 20 7946 0958', 'phone');
  END IF;
  IF p ? 'name' THEN c.name := p->>'name'; END IF;
  IF p ? 'surname' THEN c.surname := p->>'surname'; END IF;
  IF p ? 'email' THEN c.email := p->>'email'; END IF;
  IF p ? 'phone' THEN c.phone := api.e164(p->>'phone'); END IF;
  IF p ? 'time_zone' THEN c.time_zone := p->>'time_zone'; END IF;
  IF p ? 'status' THEN c.status := p->>'status'; END IF;
  IF p ? 'notes' THEN c.notes := p->>'notes'; END IF;
  IF c.name IS NULL AND c.email IS NULL AND c.phone IS NULL THEN
    PERFORM api.fail(400, 'a customer needs at least one of name, email and phone', 'name');
  END IF;
  RETURN c;
END $$;

-- p: a validated patch (name, surname, email, phone, time_zone, status, notes; tags and groups:
-- arrays of ids and names, replacing the sets). p_id NULL: a new customer (customer.created).
-- The same e-mail (any case), or without one the same phone, as another of the owner's
-- customers: 409 naming the field.
CREATE FUNCTION api.customer_save(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint, p jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  o record;
  c customers;
  taken text;
BEGIN
  IF p_id IS NULL THEN
    SELECT * INTO o FROM api.customer_owner(p_org, p_user, p_key_org, 'admin');
    c.user_id := o.o_user;
    c.org_id := o.o_org;
    c.status := 'active';
    c := api.customer_apply(c, p);
    INSERT INTO customers (user_id, org_id, name, surname, email, phone, time_zone, status, notes)
    VALUES (c.user_id, c.org_id, c.name, c.surname, c.email, c.phone, c.time_zone, c.status, c.notes)
    RETURNING * INTO c;
  ELSE
    c := api.customer_apply(api.customer_of(p_org, p_user, p_key_org, 'admin', p_id), p);
    UPDATE customers SET name = c.name, surname = c.surname, email = c.email, phone = c.phone,
      time_zone = c.time_zone, status = c.status, notes = c.notes, updated_at = now()
    WHERE id = c.id RETURNING * INTO c;
    IF c.id IS NULL THEN PERFORM api.fail(404, 'customer not found'); END IF;  -- erased meanwhile
  END IF;
  IF p ? 'tags' THEN PERFORM api.customer_labels_set('tag', c, p->'tags'); END IF;
  IF p ? 'groups' THEN PERFORM api.customer_labels_set('group', c, p->'groups'); END IF;
  IF p_id IS NULL THEN PERFORM api.emit_customer('customer.created', c); END IF;
  RETURN api.customer_json(c);
EXCEPTION WHEN unique_violation THEN
  GET STACKED DIAGNOSTICS taken = CONSTRAINT_NAME;
  IF taken LIKE '%\_phone' THEN PERFORM api.fail(409, 'another customer has this phone number', 'phone'); END IF;
  PERFORM api.fail(409, 'another customer has this e-mail address', 'email');
  RETURN NULL;
END $$;

CREATE FUNCTION api.customer_get(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT api.customer_json(api.customer_of(p_org, p_user, p_key_org, 'member', p_id))
$$;

-- DELETE erases (api.customer_erase, which takes the hosts' locks before the customer's row: no
-- lock is taken here first); the hosts whose bookings lost their personal fields are reported so
-- that their cached pages are dropped.
CREATE FUNCTION api.customer_delete(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE c customers := api.customer_of(p_org, p_user, p_key_org, 'admin', p_id);
BEGIN
  RETURN QUERY SELECT '{"ok": true}'::jsonb, api.customer_erase(c.id), false;
END $$;

-- p_query: a substring of name, surname, e-mail or phone (any case), answered through the
-- trigram index customers_search; p_tag, p_group: a name (any case) or an id; p_status. Each
-- NULL: no filter. The SQL is put together per call (the owner's column, the filters given) and
-- planned with its values, so the owner's order index or the trigram index serves it.
CREATE FUNCTION api.customers_list(p_org bigint, p_user bigint, p_key_org bigint, p_query text, p_tag text,
                                   p_group text, p_status text, p_limit integer, p_offset integer)
RETURNS TABLE (body jsonb, total bigint) LANGUAGE plpgsql STABLE AS $$
DECLARE
  o record;
  w text;
  label text := ' AND EXISTS (SELECT 1 FROM customer_%1$s_links l JOIN customer_%1$ss t ON t.id = l.%1$s_id
                  WHERE l.customer_id = c.id AND (lower(t.name) = lower($%2$s) OR t.id = $%3$s))';
BEGIN
  SELECT * INTO o FROM api.customer_owner(p_org, p_user, p_key_org, 'member');
  w := CASE WHEN o.o_org IS NULL THEN 'c.user_id = $1' ELSE 'c.org_id = $1' END;
  IF p_query IS NOT NULL THEN w := w || ' AND c.search LIKE ''%'' || $2 || ''%'''; END IF;
  IF p_tag IS NOT NULL THEN w := w || format(label, 'tag', 3, 4); END IF;
  IF p_group IS NOT NULL THEN w := w || format(label, 'group', 5, 6); END IF;
  IF p_status IS NOT NULL THEN w := w || ' AND c.status = $7'; END IF;
  RETURN QUERY EXECUTE
    'SELECT coalesce((SELECT jsonb_agg(api.customer_json(c) ORDER BY c.last_booking_at DESC NULLS LAST, c.name, c.id)
                      FROM (SELECT * FROM customers c WHERE ' || w || '
                            ORDER BY c.last_booking_at DESC NULLS LAST, c.name, c.id LIMIT $8 OFFSET $9) c), ''[]''),
            (SELECT count(*) FROM customers c WHERE ' || w || ')'
    USING coalesce(o.o_user, o.o_org),
          replace(replace(replace(lower(p_query), '\', '\\'), '%', '\%'), '_', '\_'),
          p_tag, CASE WHEN p_tag ~ '^[0-9]{1,18}$' THEN p_tag::bigint END,
          p_group, CASE WHEN p_group ~ '^[0-9]{1,18}$' THEN p_group::bigint END,
          p_status, p_limit, p_offset;
END $$;

-- The customer's bookings, newest first (primary rows: a collective booking once).
CREATE FUNCTION api.customer_bookings(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint, p_limit integer,
                                      p_offset integer)
RETURNS TABLE (body jsonb, total bigint) LANGUAGE plpgsql STABLE AS $$
DECLARE c customers := api.customer_of(p_org, p_user, p_key_org, 'member', p_id);
BEGIN
  RETURN QUERY
  SELECT coalesce((SELECT jsonb_agg(api.booking_json_with(b, e) ORDER BY b.start_at DESC, b.id DESC)
                   FROM (SELECT * FROM bookings x WHERE x.customer_id = c.id AND x.parent_id IS NULL
                         ORDER BY x.start_at DESC, x.id DESC LIMIT p_limit OFFSET p_offset) b
                   JOIN event_types e ON e.id = b.event_type_id), '[]'),
         (SELECT count(*) FROM bookings x WHERE x.customer_id = c.id AND x.parent_id IS NULL);
END $$;

-- Everything held about the customer: the record, their bookings (primary rows, newest first),
-- the payments of those bookings, and the payloads of the events about them or their bookings
-- (a collective booking's shadows included). plpgsql: api.payment_json (0015) is looked up when
-- it runs.
CREATE FUNCTION api.customer_export(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  c customers := api.customer_of(p_org, p_user, p_key_org, 'member', p_id);
  ids bigint[];
BEGIN
  SELECT coalesce(array_agg(b.id), '{}') INTO ids FROM bookings b
  WHERE b.customer_id = c.id OR b.parent_id IN (SELECT k.id FROM bookings k WHERE k.customer_id = c.id);
  RETURN jsonb_build_object(
    'customer', api.customer_json(c),
    'bookings', coalesce((SELECT jsonb_agg(api.booking_json_with(b, e) ORDER BY b.start_at DESC, b.id DESC)
                          FROM bookings b JOIN event_types e ON e.id = b.event_type_id
                          WHERE b.customer_id = c.id AND b.parent_id IS NULL), '[]'),
    'payments', coalesce((SELECT jsonb_agg(api.payment_json(p) ORDER BY p.id) FROM payments p
                          WHERE p.booking_id = ANY (ids)), '[]'),
    'events', coalesce((SELECT jsonb_agg(ev.payload ORDER BY ev.id) FROM events ev
                        WHERE ev.customer_id = c.id OR ev.booking_id = ANY (ids)), '[]'),
    'exported_at', api.rfc3339(now()));
END $$;
