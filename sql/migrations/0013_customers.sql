-- Customers (issue 13): a record of everyone who books, per owner (a user for personal event
-- types, an org for org event types), with tags, groups, blocking and erasure. Every booking
-- links to its owner's customer with the same e-mail (case-insensitive), or without one the same
-- phone (E.164), made on first booking. This file holds the tables and what the booking path and
-- erasure need; the API's functions are in 0014.

CREATE EXTENSION IF NOT EXISTS pg_trgm;  -- trusted since PostgreSQL 13: the database owner may create it

CREATE TABLE customers (
  id              bigserial PRIMARY KEY,
  user_id         bigint REFERENCES users ON DELETE CASCADE,
  org_id          bigint REFERENCES orgs ON DELETE CASCADE,
  name            text,
  surname         text,
  email           text,
  phone           text,   -- E.164 (+ and 7-15 digits)
  time_zone       text,
  status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked')),
  notes           text,
  email_lc        text GENERATED ALWAYS AS (lower(email)) STORED,
  -- what ?query= matches: substring, case-insensitive, through the trigram index below
  search          text GENERATED ALWAYS AS (lower(coalesce(name, '') || ' ' || coalesce(surname, '') || ' ' ||
                                                 coalesce(email, '') || ' ' || coalesce(phone, ''))) STORED,
  last_booking_at timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((user_id IS NULL) <> (org_id IS NULL))
);
CREATE UNIQUE INDEX customers_user_email ON customers (user_id, email_lc) WHERE user_id IS NOT NULL AND email_lc IS NOT NULL;
CREATE UNIQUE INDEX customers_org_email ON customers (org_id, email_lc) WHERE org_id IS NOT NULL AND email_lc IS NOT NULL;
CREATE UNIQUE INDEX customers_user_phone ON customers (user_id, phone)
  WHERE user_id IS NOT NULL AND email_lc IS NULL AND phone IS NOT NULL;
CREATE UNIQUE INDEX customers_org_phone ON customers (org_id, phone)
  WHERE org_id IS NOT NULL AND email_lc IS NULL AND phone IS NOT NULL;
-- No index covers last_booking_at: every booking of a returning customer updates it, and an
-- update that changes no indexed column is HOT (no index entry, no trigram work; fillfactor
-- leaves the room). The list sorts an owner's customers by it (a top-N sort).
ALTER TABLE customers SET (fillfactor = 70);
CREATE INDEX customers_user ON customers (user_id, name) WHERE user_id IS NOT NULL;
CREATE INDEX customers_org ON customers (org_id, name) WHERE org_id IS NOT NULL;
CREATE INDEX customers_search ON customers USING gin (search gin_trgm_ops);

-- Tags and groups: named labels of one owner (names unique per owner, case-insensitively).
CREATE TABLE customer_tags (
  id         bigserial PRIMARY KEY,
  user_id    bigint REFERENCES users ON DELETE CASCADE,
  org_id     bigint REFERENCES orgs ON DELETE CASCADE,
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((user_id IS NULL) <> (org_id IS NULL))
);
CREATE UNIQUE INDEX customer_tags_user_name ON customer_tags (user_id, lower(name)) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX customer_tags_org_name ON customer_tags (org_id, lower(name)) WHERE org_id IS NOT NULL;

CREATE TABLE customer_groups (
  id         bigserial PRIMARY KEY,
  user_id    bigint REFERENCES users ON DELETE CASCADE,
  org_id     bigint REFERENCES orgs ON DELETE CASCADE,
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((user_id IS NULL) <> (org_id IS NULL))
);
CREATE UNIQUE INDEX customer_groups_user_name ON customer_groups (user_id, lower(name)) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX customer_groups_org_name ON customer_groups (org_id, lower(name)) WHERE org_id IS NOT NULL;

CREATE TABLE customer_tag_links (
  customer_id bigint NOT NULL REFERENCES customers ON DELETE CASCADE,
  tag_id      bigint NOT NULL REFERENCES customer_tags ON DELETE CASCADE,
  PRIMARY KEY (customer_id, tag_id)
);
CREATE INDEX customer_tag_links_tag ON customer_tag_links (tag_id);

CREATE TABLE customer_group_links (
  customer_id bigint NOT NULL REFERENCES customers ON DELETE CASCADE,
  group_id    bigint NOT NULL REFERENCES customer_groups ON DELETE CASCADE,
  PRIMARY KEY (customer_id, group_id)
);
CREATE INDEX customer_group_links_group ON customer_group_links (group_id);

-- Erasure leaves a booking's times (its slot stays taken) and drops who made it.
--
-- bookings.customer_id has no foreign key: its insert-time check cost a row lock and a lookup on
-- every booking (measured with tests/bench/booking, ~70-150 us of PostgreSQL CPU per booking),
-- and it cannot fail by construction -- the booking's own transaction upserted that customer and
-- holds its row lock until commit, so the row exists when the booking does. What the key's ON
-- DELETE SET NULL did is the customers_gone trigger below.
ALTER TABLE bookings ALTER COLUMN invitee_name DROP NOT NULL,
  ALTER COLUMN invitee_email DROP NOT NULL,
  ADD COLUMN customer_id bigint;
CREATE INDEX bookings_customer ON bookings (customer_id, start_at DESC) WHERE customer_id IS NOT NULL;

-- Payments (issue 13): a priced event type's bookings carry what is due and what was paid; the
-- ledger records money an external processor took or gave back. requires_payment: a public
-- booking waits as pending_payment (holding its slot like a pending one) until paid in full, or
-- expires when its window ends.
ALTER TABLE event_types ADD COLUMN requires_payment boolean NOT NULL DEFAULT false,
  ADD COLUMN payment_window_minutes integer NOT NULL DEFAULT 15 CHECK (payment_window_minutes BETWEEN 1 AND 10080);
ALTER TABLE bookings DROP CONSTRAINT bookings_status_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_status_check
  CHECK (status IN ('pending', 'confirmed', 'cancelled', 'declined', 'pending_payment', 'expired'));
ALTER TABLE bookings ADD COLUMN amount_due numeric(12, 2),   -- the price when booked; NULL: not priced
  ADD COLUMN currency        text,
  ADD COLUMN amount_paid     numeric(12, 2) NOT NULL DEFAULT 0,  -- payments less refunds
  ADD COLUMN amount_refunded numeric(12, 2) NOT NULL DEFAULT 0,
  ADD COLUMN payment_status  text CHECK (payment_status IN ('unpaid', 'paid', 'refunded', 'partially_refunded')),
  ADD COLUMN payment_expires_at timestamptz;                -- pending_payment: when the window ends
-- pending_payment holds its slot: the overlap guard and the busy index cover it
ALTER TABLE bookings DROP CONSTRAINT bookings_no_overlap;
ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap
  EXCLUDE USING gist (host_id WITH =, during WITH &&) WHERE (status IN ('pending', 'confirmed', 'pending_payment') AND NOT seated);
DROP INDEX bookings_host_active;
CREATE INDEX bookings_host_active ON bookings (host_id, start_at) WHERE status IN ('pending', 'confirmed', 'pending_payment');
CREATE INDEX bookings_payment_due ON bookings (payment_expires_at) WHERE status = 'pending_payment';

CREATE TABLE payments (
  id          bigserial PRIMARY KEY,
  booking_id  bigint NOT NULL REFERENCES bookings ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('payment', 'refund')),
  amount      numeric(12, 2) NOT NULL CHECK (amount > 0),
  currency    text NOT NULL,
  method      text,
  external_id text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX payments_external ON payments (booking_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX payments_booking ON payments (booking_id, id);

-- Events about a customer (customer.created) belong to the customer's owner (user_id or org_id),
-- not to a host: host_id becomes optional, and the customer is named so erasure can find them.
ALTER TABLE events ALTER COLUMN host_id DROP NOT NULL,
  ADD COLUMN user_id bigint REFERENCES users ON DELETE CASCADE,
  ADD COLUMN org_id bigint REFERENCES orgs ON DELETE CASCADE,
  ADD COLUMN customer_id bigint REFERENCES customers ON DELETE SET NULL;
CREATE INDEX events_customer ON events (customer_id) WHERE customer_id IS NOT NULL;

-- An idempotency record's stored response may describe a booking or a customer (sealed, but its
-- key's holder could replay it): erasure deletes the records of the customer and their bookings.
ALTER TABLE idempotency_keys ADD COLUMN booking_id bigint, ADD COLUMN customer_id bigint;
CREATE INDEX idempotency_keys_booking ON idempotency_keys (booking_id) WHERE booking_id IS NOT NULL;
CREATE INDEX idempotency_keys_customer ON idempotency_keys (customer_id) WHERE customer_id IS NOT NULL;

DROP FUNCTION api.idem_finish(text, text, integer, text);
CREATE FUNCTION api.idem_finish(p_scope text, p_key text, p_status integer, p_body text, p_booking bigint,
                                p_customer bigint)
RETURNS void LANGUAGE sql AS $$
  UPDATE idempotency_keys SET status = p_status, body = p_body, booking_id = p_booking, customer_id = p_customer
  WHERE scope = p_scope AND key = p_key
$$;

CREATE FUNCTION api.customer_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE bookings SET customer_id = NULL WHERE customer_id = OLD.id;
  RETURN NULL;
END $$;
CREATE TRIGGER customers_gone AFTER DELETE ON customers FOR EACH ROW EXECUTE FUNCTION api.customer_gone();

-- ---------------------------------------------------------------- shapes

-- A phone number as E.164, or NULL when it is not one: spaces, dots, dashes and brackets are
-- dropped, a leading 00 becomes +.
CREATE FUNCTION api.e164(p text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN x ~ '^\+[1-9][0-9]{6,14}$' THEN x END
  FROM (SELECT regexp_replace(regexp_replace(p, '[\s.()\-]', '', 'g'), '^00', '+') AS x) s
$$;

-- plpgsql, not sql: called from plpgsql a SQL function with subqueries is planned on every call
-- (measured: 172 us per call against 21).
CREATE FUNCTION api.customer_json(c customers) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN jsonb_build_object(
    'id', c.id, 'user_id', c.user_id, 'org_id', c.org_id, 'name', c.name, 'surname', c.surname, 'email', c.email,
    'phone', c.phone, 'time_zone', c.time_zone, 'status', c.status, 'notes', c.notes,
    'tags', coalesce((SELECT jsonb_agg(jsonb_build_object('id', t.id, 'name', t.name) ORDER BY lower(t.name))
                      FROM customer_tag_links l JOIN customer_tags t ON t.id = l.tag_id WHERE l.customer_id = c.id), '[]'),
    'groups', coalesce((SELECT jsonb_agg(jsonb_build_object('id', g.id, 'name', g.name) ORDER BY lower(g.name))
                        FROM customer_group_links l JOIN customer_groups g ON g.id = l.group_id WHERE l.customer_id = c.id), '[]'),
    'last_booking_at', api.rfc3339(c.last_booking_at),
    'created_at', api.rfc3339(c.created_at), 'updated_at', api.rfc3339(c.updated_at));
END $$;

-- customer.created, to the owner's webhooks (the user's, or the org's).
CREATE FUNCTION api.emit_customer(p_type text, c customers) RETURNS void LANGUAGE plpgsql AS $$
DECLARE ev events;
BEGIN
  INSERT INTO events (user_id, org_id, customer_id, type, payload)
  VALUES (c.user_id, c.org_id, c.id, p_type, jsonb_build_object('event', p_type, 'created_at', api.rfc3339(now()),
          'data', jsonb_build_object('customer', api.customer_json(c))))
  RETURNING * INTO ev;
  INSERT INTO webhook_deliveries (webhook_id, event_id, event, payload)
  SELECT w.id, ev.id, p_type, ev.payload::text FROM webhooks w
  WHERE (w.user_id = c.user_id OR w.org_id = c.org_id) AND w.is_active AND p_type = ANY (w.events);
  IF FOUND THEN PERFORM pg_notify('slotd_webhooks', ''); END IF;
END $$;

-- ---------------------------------------------------------------- the booking path

-- A returning customer's last booking is now: (id, status) into the caller's variables, or
-- nothing. One statement per owner kind and key, each an equality on one unique index; a plain
-- procedure of statements (no set-returning call), as it runs inside every booking.
CREATE FUNCTION api.customer_touch(p_user bigint, p_org bigint, p_email text, p_phone text, OUT id bigint, OUT status text)
LANGUAGE plpgsql AS $$
BEGIN
  IF p_email IS NOT NULL AND p_user IS NOT NULL THEN
    UPDATE customers k SET last_booking_at = now() WHERE k.user_id = p_user AND k.email_lc = lower(p_email)
    RETURNING k.id, k.status INTO id, status;
  ELSIF p_email IS NOT NULL THEN
    UPDATE customers k SET last_booking_at = now() WHERE k.org_id = p_org AND k.email_lc = lower(p_email)
    RETURNING k.id, k.status INTO id, status;
  ELSIF p_user IS NOT NULL THEN
    UPDATE customers k SET last_booking_at = now()
    WHERE k.user_id = p_user AND k.phone = p_phone AND k.email_lc IS NULL RETURNING k.id, k.status INTO id, status;
  ELSE
    UPDATE customers k SET last_booking_at = now()
    WHERE k.org_id = p_org AND k.phone = p_phone AND k.email_lc IS NULL RETURNING k.id, k.status INTO id, status;
  END IF;
END $$;

-- The customer a new booking of event type e links to: the owner's customer with this e-mail
-- (or, without one, this E.164 phone), made now when there is none (customer.created). A blocked
-- customer raises 403 here, so the booking's whole transaction (its row, its events, a consumed
-- hold) is undone. A returning customer costs one index probe and one HOT update (no index
-- covers last_booking_at); a new one an INSERT, whose ON CONFLICT settles two first bookings of
-- the same person at once.
CREATE FUNCTION api.booking_customer(e event_types, p_host bigint, p_name text, p_email text, p_phone text, p_tz text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  c customers;
  cid bigint;
  st text;
  made boolean := false;
  u bigint := CASE WHEN e.org_id IS NULL THEN coalesce(e.user_id, p_host) END;
  em text := nullif(btrim(p_email), '');
  ph text;
  nm text;
BEGIN
  IF em IS NULL THEN
    ph := api.e164(p_phone);
    IF ph IS NULL THEN RETURN NULL; END IF;  -- nobody to know them by
  END IF;
  SELECT * INTO cid, st FROM api.customer_touch(u, e.org_id, em, ph);
  IF cid IS NULL THEN
    nm := btrim(p_name);
    ph := CASE WHEN p_phone IS NOT NULL THEN api.e164(p_phone) END;
    INSERT INTO customers AS k (user_id, org_id, name, surname, email, phone, time_zone, last_booking_at)
    VALUES (u, e.org_id, nullif(split_part(nm, ' ', 1), ''), nullif(btrim(substr(nm, length(split_part(nm, ' ', 1)) + 1)), ''),
            em, ph, p_tz, now())
    ON CONFLICT DO NOTHING
    RETURNING k.id, k.status INTO cid, st;
    made := cid IS NOT NULL;
    IF NOT made THEN  -- the same person's first booking on another host, committed meanwhile
      SELECT * INTO cid, st FROM api.customer_touch(u, e.org_id, em, ph);
    END IF;
  END IF;
  IF st = 'blocked' THEN PERFORM api.fail(403, 'this customer may not book', 'customer'); END IF;
  IF made THEN
    SELECT * INTO c FROM customers WHERE id = cid;
    PERFORM api.emit_customer('customer.created', c);
  END IF;
  RETURN cid;
END $$;

-- ---------------------------------------------------------------- erasure

-- What an event payload keeps of a booking once its customer is erased: everything but who.
CREATE FUNCTION api.booking_erased_json(j jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN j IS NULL OR jsonb_typeof(j) <> 'object' THEN j ELSE
    (j - 'confirm_url' - 'decline_url' - 'cancel_url' - 'reschedule_url' - 'cancel_token' - 'reschedule_token')
    || jsonb_build_object('invitee_name', NULL, 'invitee_email', NULL, 'phone', NULL, 'notes', NULL, 'answers', '{}'::jsonb,
                          'reason', NULL)
  END
$$;

CREATE FUNCTION api.event_erased_json(p jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN p->'data' ? 'booking' THEN jsonb_set(p, '{data,booking}', api.booking_erased_json(p->'data'->'booking'))
    WHEN p->'data' ? 'customer' THEN jsonb_set(p, '{data,customer}',
      jsonb_build_object('id', p->'data'->'customer'->'id', 'erased', true))
    ELSE p END
$$;

-- Erases customer p_id (access already checked by the caller): their bookings (and a collective
-- booking's shadows) keep their times and status but lose every personal field and every
-- invitee token; the events about them, the webhook deliveries' stored payloads and the
-- idempotency records of their bookings lose them too; then the customer row goes (with its
-- tag and group links). The hosts' locks come first, in ascending order, as in every booking
-- write (whose customer upsert waits on this customer's row): the order that cannot deadlock.
-- Returns the hosts whose bookings changed.
CREATE FUNCTION api.customer_erase(p_id bigint) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[];
  hosts bigint[];
  h bigint;
BEGIN
  FOREACH h IN ARRAY ARRAY(SELECT DISTINCT b.host_id FROM bookings b
                           WHERE b.customer_id = p_id OR b.parent_id IN (SELECT k.id FROM bookings k WHERE k.customer_id = p_id)
                           ORDER BY 1) LOOP
    PERFORM pg_advisory_xact_lock(h);
  END LOOP;
  PERFORM 1 FROM customers WHERE id = p_id FOR UPDATE;
  SELECT coalesce(array_agg(b.id), '{}') INTO ids FROM bookings b
  WHERE b.customer_id = p_id OR b.parent_id IN (SELECT k.id FROM bookings k WHERE k.customer_id = p_id);
  WITH u AS (
    UPDATE bookings SET invitee_name = NULL, invitee_email = NULL, phone = NULL, notes = NULL, answers = '{}',
      reason = NULL, confirmation_number = NULL, cancel_token_hash = NULL, reschedule_token_hash = NULL,
      confirm_token_hash = NULL, updated_at = now()
    WHERE id = ANY (ids) RETURNING host_id)
  SELECT coalesce(array_agg(DISTINCT host_id), '{}') INTO hosts FROM u;
  WITH ev AS (
    UPDATE events SET payload = api.event_erased_json(payload)
    WHERE booking_id = ANY (ids) OR customer_id = p_id RETURNING id, payload)
  UPDATE webhook_deliveries d SET payload = ev.payload::text FROM ev WHERE d.event_id = ev.id;
  DELETE FROM idempotency_keys WHERE booking_id = ANY (ids);
  DELETE FROM idempotency_keys WHERE customer_id = p_id;
  DELETE FROM customers WHERE id = p_id;
  RETURN hosts;
END $$;
