-- Accounts and access (issue 3): users, sessions, API keys, booking pages, and the default
-- availability schedule every new user gets.
--
-- Conventions for api.* functions (one call = one statement = one transaction):
--   * they return jsonb shaped exactly as the HTTP response body, so C passes it through;
--   * expected failures raise SQLSTATE 'SL' || http status ('SL404', 'SL409', 'SL400') with a
--     human message, and HINT naming the offending field where there is one;
--   * anything that invalidates credentials NOTIFYs slotd_auth so every instance drops its
--     cached entries ('u:<user id>').

CREATE TABLE users (
  id            bigserial PRIMARY KEY,
  email         citext NOT NULL UNIQUE,
  password_hash text NOT NULL,
  name          text NOT NULL,
  timezone      text NOT NULL DEFAULT 'America/Los_Angeles',
  avatar_url    text,
  version       bigint NOT NULL DEFAULT 0,   -- bumped by any change to what bookings depend on
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
  id           bigserial PRIMARY KEY,
  user_id      bigint NOT NULL REFERENCES users ON DELETE CASCADE,
  token_hash   text NOT NULL UNIQUE,          -- hex SHA-256 of the cookie value; never the token
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE api_keys (
  id           bigserial PRIMARY KEY,
  user_id      bigint NOT NULL REFERENCES users ON DELETE CASCADE,
  label        text NOT NULL,
  key_hash     text NOT NULL UNIQUE,          -- hex SHA-256 of the key; never the key
  prefix       text NOT NULL,                 -- first characters, for recognising a key
  last4        text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  expires_at   timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX api_keys_user ON api_keys (user_id);

CREATE TABLE booking_pages (
  id              bigserial PRIMARY KEY,
  user_id         bigint NOT NULL UNIQUE REFERENCES users ON DELETE CASCADE,
  slug            citext NOT NULL UNIQUE,
  display_name    text NOT NULL,
  bio             text,
  brand_color     text,
  welcome_message text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE availability_schedules (
  id         bigserial PRIMARY KEY,
  user_id    bigint NOT NULL REFERENCES users ON DELETE CASCADE,
  name       text NOT NULL,
  timezone   text NOT NULL,
  rules      jsonb NOT NULL DEFAULT '[]',
  overrides  jsonb NOT NULL DEFAULT '[]',
  is_default boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX availability_schedules_user ON availability_schedules (user_id);
CREATE UNIQUE INDEX availability_schedules_one_default ON availability_schedules (user_id) WHERE is_default;

-- "2026-03-07 10:00:00" in UTC, the seed's format.
CREATE FUNCTION api.ts(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') $$;
-- RFC 3339 in UTC with Z.
CREATE FUNCTION api.rfc3339(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;

CREATE FUNCTION api.fail(status integer, message text, field text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'SL' || status::text, MESSAGE = message, HINT = coalesce(field, '');
END $$;

CREATE FUNCTION api.user_json(u users) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', u.id, 'email', u.email::text, 'name', u.name, 'timezone', u.timezone,
    'avatar_url', u.avatar_url, 'created_at', api.ts(u.created_at),
    'created_at_rfc3339', api.rfc3339(u.created_at))
$$;

CREATE FUNCTION api.register(p_email text, p_hash text, p_name text, p_tz text, p_slug text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  u users;
  s text;
  n integer := 1;
BEGIN
  INSERT INTO users (email, password_hash, name, timezone) VALUES (p_email, p_hash, p_name, p_tz)
  ON CONFLICT (email) DO NOTHING RETURNING * INTO u;
  IF u.id IS NULL THEN
    PERFORM api.fail(409, 'an account with this email already exists', 'email');
  END IF;
  LOOP
    s := CASE WHEN n = 1 THEN p_slug ELSE p_slug || '-' || n END;
    INSERT INTO booking_pages (user_id, slug, display_name) VALUES (u.id, s, p_name)
    ON CONFLICT (slug) DO NOTHING;
    EXIT WHEN FOUND;
    n := n + 1;
  END LOOP;
  INSERT INTO availability_schedules (user_id, name, timezone, rules, is_default)
  VALUES (u.id, 'Working Hours', p_tz,
          '[{"day":1,"start":"09:00","end":"17:00"},{"day":2,"start":"09:00","end":"17:00"},
            {"day":3,"start":"09:00","end":"17:00"},{"day":4,"start":"09:00","end":"17:00"},
            {"day":5,"start":"09:00","end":"17:00"}]', true);
  RETURN jsonb_build_object('user', api.user_json(u), 'bookingSlug', s);
END $$;

-- Login, step 1: the stored hash (C verifies it off the loop thread). No row: unknown email.
CREATE FUNCTION api.login_lookup(p_email text) RETURNS TABLE (id bigint, password_hash text)
LANGUAGE sql STABLE AS $$ SELECT id, password_hash FROM users WHERE email = p_email $$;

-- Login, step 2: a session for a verified user.
CREATE FUNCTION api.session_create(p_user bigint, p_token_hash text, p_ttl_seconds integer)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE u users;
BEGIN
  SELECT * INTO u FROM users WHERE id = p_user;
  IF u.id IS NULL THEN PERFORM api.fail(401, 'invalid email or password'); END IF;
  DELETE FROM sessions WHERE user_id = p_user AND expires_at < now();
  INSERT INTO sessions (user_id, token_hash, expires_at)
  VALUES (p_user, p_token_hash, now() + make_interval(secs => p_ttl_seconds));
  RETURN jsonb_build_object('user', api.user_json(u) - 'avatar_url' - 'created_at' - 'created_at_rfc3339');
END $$;

-- Resolves a credential hash to its user: p_kind 'session' looks at session cookies only,
-- 'api_key' at API keys only (a session token is no API key and vice versa). Marks API keys
-- used, at most once a minute per key so a busy key does not write on every request.
CREATE FUNCTION api.auth(p_hash text, p_kind text)
RETURNS TABLE (user_id bigint, kind text, key_id bigint, expires_in double precision)
LANGUAGE plpgsql AS $$
BEGIN
  IF p_kind = 'session' THEN
    RETURN QUERY
      SELECT s.user_id, 'session'::text, NULL::bigint, extract(epoch FROM s.expires_at - now())::float8
      FROM sessions s WHERE s.token_hash = p_hash AND s.expires_at > now();
    RETURN;
  END IF;
  RETURN QUERY
    UPDATE api_keys k SET last_used_at = CASE WHEN k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute'
                                              THEN now() ELSE k.last_used_at END
    WHERE k.key_hash = p_hash AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
    RETURNING k.user_id, 'api_key'::text, k.id, extract(epoch FROM k.expires_at - now())::float8;
END $$;

CREATE FUNCTION api.logout(p_token_hash text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE uid bigint;
BEGIN
  DELETE FROM sessions WHERE token_hash = p_token_hash RETURNING user_id INTO uid;
  IF uid IS NOT NULL THEN PERFORM pg_notify('slotd_auth', 'h:' || p_token_hash); END IF;
  RETURN '{"ok": true}';
END $$;

CREATE FUNCTION api.me(p_user bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT api.user_json(u) - 'version' FROM users u WHERE u.id = p_user
$$;

-- p_patch holds only validated fields that were given: name, timezone, avatar_url (may be null).
CREATE FUNCTION api.update_me(p_user bigint, p_patch jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE u users;
BEGIN
  UPDATE users SET
    name = coalesce(p_patch->>'name', name),
    timezone = coalesce(p_patch->>'timezone', timezone),
    avatar_url = CASE WHEN p_patch ? 'avatar_url' THEN p_patch->>'avatar_url' ELSE avatar_url END,
    updated_at = now()
  WHERE id = p_user RETURNING * INTO u;
  IF u.id IS NULL THEN PERFORM api.fail(401, 'authentication required'); END IF;
  RETURN api.user_json(u);
END $$;

CREATE FUNCTION api.password_get(p_user bigint) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT password_hash FROM users WHERE id = p_user
$$;

-- New password; ends every other session of the user (p_keep: the caller's session, if any)
-- and, because a changed password is a security event, nothing else.
CREATE FUNCTION api.password_set(p_user bigint, p_old_hash text, p_new_hash text, p_keep text)
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  UPDATE users SET password_hash = p_new_hash, updated_at = now()
  WHERE id = p_user AND password_hash = p_old_hash;   -- not changed concurrently since verified
  IF NOT FOUND THEN PERFORM api.fail(409, 'password was changed concurrently; try again'); END IF;
  DELETE FROM sessions WHERE user_id = p_user AND token_hash IS DISTINCT FROM p_keep;
  PERFORM pg_notify('slotd_auth', 'u:' || p_user);
  RETURN '{"ok": true}';
END $$;

CREATE FUNCTION api.api_key_json(k api_keys) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', k.id, 'label', k.label, 'prefix', k.prefix, 'last4', k.last4,
    'created_at', api.ts(k.created_at), 'created_at_rfc3339', api.rfc3339(k.created_at),
    'last_used_at', api.rfc3339(k.last_used_at), 'expires_at', api.rfc3339(k.expires_at))
$$;

CREATE FUNCTION api.api_key_create(p_user bigint, p_label text, p_hash text, p_prefix text, p_last4 text,
                                   p_expires_at timestamptz)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE k api_keys;
BEGIN
  IF p_expires_at IS NOT NULL AND p_expires_at <= now() THEN
    PERFORM api.fail(400, 'expires_at must be in the future', 'expires_at');
  END IF;
  IF (SELECT count(*) FROM api_keys WHERE user_id = p_user AND revoked_at IS NULL) >= 100 THEN
    PERFORM api.fail(409, 'too many API keys; revoke one first');
  END IF;
  INSERT INTO api_keys (user_id, label, key_hash, prefix, last4, expires_at)
  VALUES (p_user, p_label, p_hash, p_prefix, p_last4, p_expires_at) RETURNING * INTO k;
  RETURN api.api_key_json(k);
END $$;

CREATE FUNCTION api.api_keys_list(p_user bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(jsonb_agg(api.api_key_json(k) ORDER BY k.id), '[]')
  FROM api_keys k WHERE k.user_id = p_user AND k.revoked_at IS NULL
$$;

CREATE FUNCTION api.api_key_revoke(p_user bigint, p_id bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
  UPDATE api_keys SET revoked_at = now()
  WHERE id = p_id AND user_id = p_user AND revoked_at IS NULL RETURNING key_hash INTO h;
  IF h IS NULL THEN PERFORM api.fail(404, 'API key not found'); END IF;
  PERFORM pg_notify('slotd_auth', 'h:' || h);
  RETURN '{"ok": true}';
END $$;

CREATE FUNCTION api.booking_page_json(b booking_pages) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', b.id, 'slug', b.slug::text, 'display_name', b.display_name, 'bio', b.bio,
                            'brand_color', b.brand_color, 'welcome_message', b.welcome_message)
$$;

CREATE FUNCTION api.booking_page_get(p_user bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT api.booking_page_json(b) FROM booking_pages b WHERE b.user_id = p_user
$$;

-- p_patch: validated subset of display_name, bio, brand_color, welcome_message (nullable
-- except display_name) and slug.
CREATE FUNCTION api.booking_page_update(p_user bigint, p_patch jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE b booking_pages;
BEGIN
  UPDATE booking_pages SET
    slug = coalesce(p_patch->>'slug', slug),
    display_name = coalesce(p_patch->>'display_name', display_name),
    bio = CASE WHEN p_patch ? 'bio' THEN p_patch->>'bio' ELSE bio END,
    brand_color = CASE WHEN p_patch ? 'brand_color' THEN p_patch->>'brand_color' ELSE brand_color END,
    welcome_message = CASE WHEN p_patch ? 'welcome_message' THEN p_patch->>'welcome_message' ELSE welcome_message END,
    updated_at = now()
  WHERE user_id = p_user RETURNING * INTO b;
  IF b.id IS NULL THEN PERFORM api.fail(404, 'booking page not found'); END IF;
  RETURN api.booking_page_json(b) || jsonb_build_object('_host', p_user);  -- a slug change moves its cache
EXCEPTION WHEN unique_violation THEN
  PERFORM api.fail(409, 'this slug is already taken', 'slug');
  RETURN NULL;
END $$;

-- The public page; event types join in with the scheduling migration.
CREATE FUNCTION api.public_page(p_slug text) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE b booking_pages;
BEGIN
  SELECT * INTO b FROM booking_pages WHERE slug = p_slug;
  IF b.id IS NULL THEN PERFORM api.fail(404, 'booking page not found'); END IF;
  RETURN jsonb_build_object('slug', b.slug::text, 'display_name', b.display_name, 'bio', b.bio,
                            'brand_color', b.brand_color, 'welcome_message', b.welcome_message,
                            'event_types', '[]'::jsonb);
END $$;

-- Housekeeping, run by a timer in every instance (idempotent).
CREATE FUNCTION api.sweep_sessions() RETURNS integer LANGUAGE sql AS $$
  WITH d AS (DELETE FROM sessions WHERE expires_at < now() RETURNING 1) SELECT count(*)::integer FROM d
$$;
