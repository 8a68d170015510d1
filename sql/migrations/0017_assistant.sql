-- The booking assistant's conversations (issue 15): POST /api/ai/chat keeps what a follow-up
-- needs (the invitee's zone, the event type, the days and times asked for, the slots offered,
-- the chosen one, name and e-mail, the bookings made) in PostgreSQL, so any instance can
-- continue any conversation. A session belongs to one booking page's owner (a user, or an org
-- for an org page) and dies after 24 hours without a message (api.sweep_sessions). Its id is a
-- secret the client holds: only its SHA-256 is stored.

CREATE TABLE chat_sessions (
  id_hash    text PRIMARY KEY CHECK (id_hash ~ '^[0-9a-f]{64}$'),
  user_id    bigint REFERENCES users ON DELETE CASCADE,
  org_id     bigint REFERENCES orgs ON DELETE CASCADE,
  state      jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((user_id IS NULL) <> (org_id IS NULL))
);
CREATE INDEX chat_sessions_idle ON chat_sessions (updated_at);

-- What one message needs: the page (its owner, the name the assistant speaks of, its listed
-- event types with what the matcher reads) and the session's state, when p_hash names a live
-- session of the same owner (else NULL: the caller starts a new one). 404 for an unknown slug.
CREATE FUNCTION api.chat_open(p_slug text, p_hash text)
RETURNS TABLE (page jsonb, state jsonb) LANGUAGE plpgsql STABLE AS $$
DECLARE
  b booking_pages;
  o orgs;
  types jsonb;
BEGIN
  SELECT * INTO b FROM booking_pages WHERE slug = p_slug::citext;
  IF b.id IS NULL THEN
    SELECT * INTO o FROM orgs WHERE slug = p_slug::citext;
    IF o.id IS NULL THEN PERFORM api.fail(404, 'booking page not found'); END IF;
  END IF;
  SELECT coalesce(jsonb_agg(jsonb_build_object('id', e.id, 'slug', e.slug, 'name', e.name,
           'description', coalesce(e.description, ''), 'duration_minutes', e.duration_minutes,
           'requires_confirmation', e.requires_confirmation, 'requires_payment', e.requires_payment,
           'required_questions', (SELECT coalesce(jsonb_agg(q->>'label'), '[]') FROM jsonb_array_elements(e.questions) q
                                  WHERE (q->>'required')::boolean)) ORDER BY e.id), '[]')
    INTO types
    FROM event_types e
   WHERE e.is_active AND NOT e.is_secret
     AND (CASE WHEN b.id IS NOT NULL THEN e.user_id = b.user_id ELSE e.org_id = o.id END);
  RETURN QUERY
  SELECT jsonb_build_object('kind', CASE WHEN b.id IS NOT NULL THEN 'user' ELSE 'org' END,
           'owner', coalesce(b.user_id, o.id), 'slug', coalesce(b.slug, o.slug)::text,
           'name', coalesce(b.display_name, o.name), 'event_types', types),
         (SELECT c.state FROM chat_sessions c
           WHERE c.id_hash = p_hash AND c.updated_at > now() - interval '24 hours'
             AND (CASE WHEN b.id IS NOT NULL THEN c.user_id = b.user_id ELSE c.org_id = o.id END));
END $$;

-- Stores a session's state after a message (made on the first). A hash that belongs to another
-- owner is never overwritten (ids are random: this only guards against misuse).
CREATE FUNCTION api.chat_save(p_hash text, p_kind text, p_owner bigint, p_state jsonb) RETURNS boolean
LANGUAGE sql AS $$
  WITH w AS (
    INSERT INTO chat_sessions AS c (id_hash, user_id, org_id, state)
    VALUES (p_hash, CASE WHEN p_kind = 'user' THEN p_owner END, CASE WHEN p_kind = 'org' THEN p_owner END, p_state)
    ON CONFLICT (id_hash) DO UPDATE SET state = excluded.state, updated_at = now()
      WHERE c.user_id IS NOT DISTINCT FROM excluded.user_id AND c.org_id IS NOT DISTINCT FROM excluded.org_id
    RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM w)
$$;

-- Housekeeping: idle conversations go with expired sign-in sessions.
CREATE OR REPLACE FUNCTION api.sweep_sessions() RETURNS integer LANGUAGE sql AS $$
  WITH d AS (DELETE FROM sessions WHERE expires_at < now() RETURNING 1),
       c AS (DELETE FROM chat_sessions WHERE updated_at < now() - interval '24 hours' RETURNING 1)
  SELECT ((SELECT count(*) FROM d) + (SELECT count(*) FROM c))::integer
$$;

-- Erasure: a conversation that carries an erased invitee's e-mail goes with their bookings'
-- personal fields (0013's api.customer_erase nulls invitee_email on each of them).
CREATE FUNCTION api.chat_forget_invitee() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM chat_sessions WHERE lower(state->>'email') = lower(OLD.invitee_email);
  RETURN NULL;
END $$;

CREATE TRIGGER bookings_chat_erased AFTER UPDATE OF invitee_email ON bookings
  FOR EACH ROW WHEN (NEW.invitee_email IS NULL AND OLD.invitee_email IS NOT NULL)
  EXECUTE FUNCTION api.chat_forget_invitee();
