-- Webhooks (issue 6): subscriptions, and deliveries written in the same transaction as the
-- change they announce (the outbox): api.emit now fans each event out to the host's matching
-- subscriptions and NOTIFYs slotd_webhooks. Every instance runs a dispatcher that claims due
-- deliveries with FOR UPDATE SKIP LOCKED under a lease, so each attempt is made once.

CREATE TABLE webhooks (
  id         bigserial PRIMARY KEY,
  user_id    bigint NOT NULL REFERENCES users ON DELETE CASCADE,
  url        text NOT NULL,
  events     text[] NOT NULL,
  secret     text NOT NULL,     -- needed to sign; never returned after creation
  is_active  boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_user ON webhooks (user_id);

CREATE TABLE webhook_deliveries (
  id              bigserial PRIMARY KEY,
  webhook_id      bigint NOT NULL REFERENCES webhooks ON DELETE CASCADE,
  event_id        bigint REFERENCES events ON DELETE SET NULL,
  event           text NOT NULL,
  payload         text NOT NULL,  -- the exact bytes sent and signed
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivering', 'delivered', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_until     timestamptz,
  last_status     integer,
  last_error      text,
  last_duration_ms integer,
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_attempt_at timestamptz,
  delivered_at    timestamptz
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status IN ('pending', 'delivering');
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id DESC);

-- The outbox: the event row and one delivery per matching active subscription, same transaction.
CREATE OR REPLACE FUNCTION api.emit(p_host bigint, p_type text, b bookings, p_extra jsonb DEFAULT '{}') RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  bj jsonb := api.booking_json(b) || p_extra;
  ev events;
BEGIN
  INSERT INTO events (host_id, type, booking_id, payload)
  VALUES (p_host, p_type, b.id, jsonb_build_object('event', p_type, 'created_at', api.rfc3339(now()),
          'data', jsonb_build_object('booking', bj || jsonb_build_object('event_type', bj->'event_name'))))
  RETURNING * INTO ev;
  INSERT INTO webhook_deliveries (webhook_id, event_id, event, payload)
  SELECT w.id, ev.id, p_type, ev.payload::text FROM webhooks w
  WHERE w.user_id = p_host AND w.is_active AND p_type = ANY (w.events);
  IF FOUND THEN PERFORM pg_notify('slotd_webhooks', ''); END IF;
END $$;

CREATE FUNCTION api.webhook_json(w webhooks) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', w.id, 'url', w.url, 'events', to_jsonb(w.events), 'is_active', w.is_active,
                            'secret_hint', left(w.secret, 6) || '...' || right(w.secret, 4),
                            'created_at', api.ts(w.created_at), 'created_at_rfc3339', api.rfc3339(w.created_at))
$$;

CREATE FUNCTION api.webhooks_list(p_user bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(jsonb_agg(api.webhook_json(w) ORDER BY w.id), '[]') FROM webhooks w WHERE w.user_id = p_user
$$;

CREATE FUNCTION api.webhook_create(p_user bigint, p_url text, p_events text[], p_secret text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE w webhooks;
BEGIN
  IF (SELECT count(*) FROM webhooks WHERE user_id = p_user) >= 50 THEN
    PERFORM api.fail(409, 'too many webhooks');
  END IF;
  INSERT INTO webhooks (user_id, url, events, secret) VALUES (p_user, p_url, p_events, p_secret) RETURNING * INTO w;
  RETURN api.webhook_json(w) || jsonb_build_object('secret', w.secret);  -- shown this once
END $$;

CREATE FUNCTION api.webhook_update(p_user bigint, p_id bigint, p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE w webhooks;
BEGIN
  UPDATE webhooks SET
    url = coalesce(p->>'url', url),
    events = coalesce((SELECT array_agg(x) FROM jsonb_array_elements_text(p->'events') x), events),
    secret = coalesce(p->>'secret', secret),
    is_active = coalesce((p->>'is_active')::boolean, is_active),
    updated_at = now()
  WHERE id = p_id AND user_id = p_user RETURNING * INTO w;
  IF w.id IS NULL THEN PERFORM api.fail(404, 'webhook not found'); END IF;
  RETURN api.webhook_json(w);
END $$;

CREATE FUNCTION api.webhook_delete(p_user bigint, p_id bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM webhooks WHERE id = p_id AND user_id = p_user;
  IF NOT FOUND THEN PERFORM api.fail(404, 'webhook not found'); END IF;
  RETURN '{"ok": true}';
END $$;

CREATE FUNCTION api.webhook_ping(p_user bigint, p_id bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  w webhooks;
  d webhook_deliveries;
BEGIN
  SELECT * INTO w FROM webhooks WHERE id = p_id AND user_id = p_user;
  IF w.id IS NULL THEN PERFORM api.fail(404, 'webhook not found'); END IF;
  INSERT INTO webhook_deliveries (webhook_id, event, payload)
  VALUES (w.id, 'ping', jsonb_build_object('event', 'ping', 'created_at', api.rfc3339(now()),
                                           'data', jsonb_build_object('webhook_id', w.id))::text)
  RETURNING * INTO d;
  PERFORM pg_notify('slotd_webhooks', '');
  RETURN jsonb_build_object('ok', true, 'delivery_id', d.id);
END $$;

CREATE FUNCTION api.delivery_json(d webhook_deliveries) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', d.id, 'event', d.event, 'status', d.status, 'attempts', d.attempts,
    'last_status', d.last_status, 'last_error', d.last_error, 'last_duration_ms', d.last_duration_ms,
    'created_at', api.rfc3339(d.created_at), 'last_attempt_at', api.rfc3339(d.last_attempt_at),
    'next_attempt_at', CASE WHEN d.status IN ('pending', 'delivering') THEN api.rfc3339(d.next_attempt_at) END,
    'delivered_at', api.rfc3339(d.delivered_at))
$$;

CREATE FUNCTION api.deliveries_list(p_user bigint, p_id bigint, p_limit integer, p_offset integer) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhooks WHERE id = p_id AND user_id = p_user) THEN
    PERFORM api.fail(404, 'webhook not found');
  END IF;
  RETURN jsonb_build_object('total', (SELECT count(*) FROM webhook_deliveries WHERE webhook_id = p_id),
    'items', coalesce((SELECT jsonb_agg(api.delivery_json(d) ORDER BY d.id DESC)
                       FROM (SELECT * FROM webhook_deliveries WHERE webhook_id = p_id
                             ORDER BY id DESC LIMIT p_limit OFFSET p_offset) d), '[]'));
END $$;

-- A new delivery of the same bytes (fresh attempts; a new webhook-id, as it is a new message).
CREATE FUNCTION api.delivery_redeliver(p_user bigint, p_hook bigint, p_delivery bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE d webhook_deliveries;
BEGIN
  INSERT INTO webhook_deliveries (webhook_id, event_id, event, payload)
  SELECT o.webhook_id, o.event_id, o.event, o.payload FROM webhook_deliveries o JOIN webhooks w ON w.id = o.webhook_id
  WHERE o.id = p_delivery AND o.webhook_id = p_hook AND w.user_id = p_user
  RETURNING * INTO d;
  IF d.id IS NULL THEN PERFORM api.fail(404, 'delivery not found'); END IF;
  PERFORM pg_notify('slotd_webhooks', '');
  RETURN jsonb_build_object('ok', true, 'delivery_id', d.id);
END $$;

-- ---------------------------------------------------------------- dispatcher

-- Claims up to p_limit due deliveries for p_lease seconds; the attempt counts from here.
CREATE FUNCTION api.webhook_claim(p_limit integer, p_lease integer)
RETURNS TABLE (id bigint, url text, secret text, event text, payload text, attempts integer)
LANGUAGE sql AS $$
  WITH due AS (
    SELECT d.id FROM webhook_deliveries d
    WHERE d.status IN ('pending', 'delivering') AND d.next_attempt_at <= now()
      AND (d.lease_until IS NULL OR d.lease_until < now())
    ORDER BY d.next_attempt_at LIMIT p_limit FOR UPDATE SKIP LOCKED)
  UPDATE webhook_deliveries d SET status = 'delivering', attempts = d.attempts + 1,
    lease_until = now() + make_interval(secs => p_lease), last_attempt_at = now()
  FROM due, webhooks w
  WHERE d.id = due.id AND w.id = d.webhook_id AND w.is_active
  RETURNING d.id, w.url, w.secret, d.event, d.payload, d.attempts
$$;

-- Records attempt p_attempt. p_schedule: retry delays in seconds after attempt 1, 2, ...; when
-- they are used up the delivery fails. A result for an attempt that is no longer the current
-- claim (its lease ran out and the row was claimed again) is ignored. Returns seconds until this
-- delivery's next attempt, or NULL.
CREATE FUNCTION api.webhook_result(p_id bigint, p_attempt integer, p_ok boolean, p_status integer, p_error text,
                                   p_ms integer, p_schedule integer[])
RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE d webhook_deliveries;
BEGIN
  SELECT * INTO d FROM webhook_deliveries WHERE id = p_id FOR UPDATE;
  IF d.id IS NULL OR d.status <> 'delivering' OR d.attempts <> p_attempt THEN RETURN NULL; END IF;
  IF p_ok THEN
    UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), lease_until = NULL,
      last_status = p_status, last_error = NULL, last_duration_ms = p_ms WHERE id = p_id;
    RETURN NULL;
  END IF;
  IF d.attempts > coalesce(array_length(p_schedule, 1), 0) THEN
    UPDATE webhook_deliveries SET status = 'failed', lease_until = NULL, last_status = p_status,
      last_error = p_error, last_duration_ms = p_ms WHERE id = p_id;
    RETURN NULL;
  END IF;
  UPDATE webhook_deliveries SET status = 'pending', lease_until = NULL, last_status = p_status, last_error = p_error,
    last_duration_ms = p_ms, next_attempt_at = now() + make_interval(secs => p_schedule[d.attempts])
  WHERE id = p_id;
  RETURN p_schedule[d.attempts]::double precision;
END $$;

-- Seconds until the earliest delivery is due (0 if one is due now), or NULL if none waits.
CREATE FUNCTION api.webhook_next_due() RETURNS double precision LANGUAGE sql STABLE AS $$
  SELECT greatest(0, extract(epoch FROM min(greatest(next_attempt_at, coalesce(lease_until, next_attempt_at))) - now()))
  FROM webhook_deliveries WHERE status IN ('pending', 'delivering')
$$;
