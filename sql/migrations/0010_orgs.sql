-- Organisations, members, teams, org API keys and time off (issue 12, the foundation that org
-- event types and multi-host scheduling build on).
--
-- Access: every org function takes (p_org, p_user, p_key_org) first and resolves the caller's
-- role with api.org_role in its own statement, so one request is still one round trip:
--   * p_key_org not null: the credential is an org API key, which acts as an admin of that org
--     and of nothing else (p_user is then only who created the key, never an identity);
--   * otherwise p_user's row in org_members.
-- An org the caller cannot see is 404 'organisation not found' (its existence is not leaked);
-- 403 is only for a member who may see the org but not do what was asked.
--
-- Org slugs and booking-page slugs share one namespace (public paths take either): a trigger on
-- both tables takes an advisory lock on the lower-cased slug and looks at the other table.

-- ---------------------------------------------------------------- tables

CREATE TABLE orgs (
  id         bigserial PRIMARY KEY,
  name       text NOT NULL,
  slug       citext NOT NULL UNIQUE,
  timezone   text NOT NULL DEFAULT 'UTC',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE org_members (
  org_id     bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
  user_id    bigint NOT NULL REFERENCES users ON DELETE CASCADE,
  role       text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, user_id)
);
CREATE INDEX org_members_user ON org_members (user_id);

CREATE TABLE teams (
  id         bigserial PRIMARY KEY,
  org_id     bigint NOT NULL REFERENCES orgs ON DELETE CASCADE,
  name       text NOT NULL,
  slug       citext NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, slug)
);

CREATE TABLE team_members (
  team_id bigint NOT NULL REFERENCES teams ON DELETE CASCADE,
  user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
  PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

-- An org key: user_id is who created it (kept for the record), org_id what it acts for.
ALTER TABLE api_keys ADD COLUMN org_id bigint REFERENCES orgs ON DELETE CASCADE;
CREATE INDEX api_keys_org ON api_keys (org_id) WHERE org_id IS NOT NULL;

-- Member accounts an org creates have no password until... never: login refuses them.
ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL;

-- Busy time of one user (the engine reads it with the bookings); host_changed bumps the user's
-- versions and tells every instance.
CREATE TABLE time_off (
  id         bigserial PRIMARY KEY,
  user_id    bigint NOT NULL REFERENCES users ON DELETE CASCADE,
  start_at   timestamptz NOT NULL,
  end_at     timestamptz NOT NULL,
  reason     text,
  created_by bigint REFERENCES users ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (end_at > start_at AND end_at - start_at <= interval '366 days'),
  CHECK (char_length(reason) <= 500)
);
CREATE INDEX time_off_user ON time_off (user_id, end_at);
CREATE TRIGGER time_off_host_changed AFTER INSERT OR UPDATE OR DELETE ON time_off
  FOR EACH ROW EXECUTE FUNCTION api.host_changed();

-- ---------------------------------------------------------------- caps (0007_hardening.sql's way)

-- Like api.cap_rows, for rows owned by an org: the org's row lock first, the count after it.
CREATE FUNCTION api.cap_org_rows() RETURNS trigger LANGUAGE plpgsql AS $$
-- TG_ARGV: owner column, total cap, message, [live predicate, live cap]
DECLARE
  owner bigint;
  n bigint;
BEGIN
  EXECUTE format('SELECT ($1).%I', TG_ARGV[0]) INTO owner USING NEW;
  PERFORM 1 FROM orgs WHERE id = owner FOR UPDATE;
  EXECUTE format('SELECT count(*) FROM %I WHERE %I = $1', TG_TABLE_NAME, TG_ARGV[0]) INTO n USING owner;
  IF n >= TG_ARGV[1]::bigint THEN PERFORM api.fail(409, TG_ARGV[2] || ' (including removed ones)'); END IF;
  IF TG_NARGS > 3 THEN
    EXECUTE format('SELECT count(*) FROM %I WHERE %I = $1 AND (%s)', TG_TABLE_NAME, TG_ARGV[0], TG_ARGV[3])
      INTO n USING owner;
    IF n >= TG_ARGV[4]::bigint THEN PERFORM api.fail(409, TG_ARGV[2]); END IF;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER org_members_cap_user BEFORE INSERT ON org_members FOR EACH ROW
  EXECUTE FUNCTION api.cap_rows('user_id', '100', 'this account belongs to too many organisations');
CREATE TRIGGER org_members_cap_org BEFORE INSERT ON org_members FOR EACH ROW
  EXECUTE FUNCTION api.cap_org_rows('org_id', '1000', 'too many members in this organisation');
CREATE TRIGGER teams_cap BEFORE INSERT ON teams FOR EACH ROW
  EXECUTE FUNCTION api.cap_org_rows('org_id', '200', 'too many teams in this organisation');
CREATE TRIGGER time_off_cap BEFORE INSERT ON time_off FOR EACH ROW
  EXECUTE FUNCTION api.cap_rows('user_id', '5000', 'too many time-off entries', 'end_at > now()', '500');
-- Personal keys keep their cap; org keys count against their org.
DROP TRIGGER api_keys_cap ON api_keys;
CREATE TRIGGER api_keys_cap BEFORE INSERT ON api_keys FOR EACH ROW WHEN (NEW.org_id IS NULL)
  EXECUTE FUNCTION api.cap_rows('user_id', '1000', 'too many API keys; revoke one first', 'revoked_at IS NULL', '100');
CREATE TRIGGER api_keys_org_cap BEFORE INSERT ON api_keys FOR EACH ROW WHEN (NEW.org_id IS NOT NULL)
  EXECUTE FUNCTION api.cap_org_rows('org_id', '1000', 'too many API keys; revoke one first', 'revoked_at IS NULL', '100');

-- ---------------------------------------------------------------- one slug namespace

-- The two-key advisory lock space does not overlap the one-key space the host locks use.
CREATE FUNCTION api.slug_namespace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7364, hashtext(lower(NEW.slug::text)));
  -- after the lock: this statement's snapshot sees a clashing row committed meanwhile
  IF TG_TABLE_NAME = 'orgs' THEN
    IF EXISTS (SELECT 1 FROM booking_pages b WHERE b.slug = NEW.slug) THEN
      PERFORM api.fail(409, 'this slug is already taken', 'slug');
    END IF;
  ELSIF EXISTS (SELECT 1 FROM orgs o WHERE o.slug = NEW.slug) THEN
    PERFORM api.fail(409, 'this slug is already taken', 'slug');
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER orgs_slug_namespace BEFORE INSERT ON orgs
  FOR EACH ROW EXECUTE FUNCTION api.slug_namespace();
CREATE TRIGGER orgs_slug_namespace_moved BEFORE UPDATE OF slug ON orgs
  FOR EACH ROW WHEN (OLD.slug IS DISTINCT FROM NEW.slug) EXECUTE FUNCTION api.slug_namespace();
CREATE TRIGGER booking_pages_slug_namespace BEFORE INSERT ON booking_pages
  FOR EACH ROW EXECUTE FUNCTION api.slug_namespace();
CREATE TRIGGER booking_pages_slug_namespace_moved BEFORE UPDATE OF slug ON booking_pages
  FOR EACH ROW WHEN (OLD.slug IS DISTINCT FROM NEW.slug) EXECUTE FUNCTION api.slug_namespace();

-- ---------------------------------------------------------------- accounts

-- The schedule every new account gets: Monday to Friday, 09:00-17:00 in its zone.
CREATE FUNCTION api.default_schedule(p_user bigint, p_tz text) RETURNS void LANGUAGE sql AS $$
  INSERT INTO availability_schedules (user_id, name, timezone, rules, is_default)
  VALUES (p_user, 'Working Hours', p_tz,
          '[{"day":1,"start":"09:00","end":"17:00"},{"day":2,"start":"09:00","end":"17:00"},
            {"day":3,"start":"09:00","end":"17:00"},{"day":4,"start":"09:00","end":"17:00"},
            {"day":5,"start":"09:00","end":"17:00"}]', true)
$$;

-- As before, and a booking-page slug an org holds is skipped like one another page holds.
CREATE OR REPLACE FUNCTION api.register(p_email text, p_hash text, p_name text, p_tz text, p_slug text)
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
    BEGIN
      INSERT INTO booking_pages (user_id, slug, display_name) VALUES (u.id, s, p_name)
      ON CONFLICT (slug) DO NOTHING;
      EXIT WHEN FOUND;
    EXCEPTION WHEN SQLSTATE 'SL409' THEN  -- an org's slug (api.slug_namespace)
      NULL;
    END;
    n := n + 1;
  END LOOP;
  PERFORM api.default_schedule(u.id, p_tz);
  RETURN jsonb_build_object('user', api.user_json(u), 'bookingSlug', s);
END $$;

-- Credentials, with the org an org API key acts for.
DROP FUNCTION api.auth(text, text);
CREATE FUNCTION api.auth(p_hash text, p_kind text)
RETURNS TABLE (user_id bigint, kind text, key_id bigint, expires_in double precision, org_id bigint)
LANGUAGE plpgsql AS $$
BEGIN
  IF p_kind = 'session' THEN
    RETURN QUERY
      SELECT s.user_id, 'session'::text, NULL::bigint, extract(epoch FROM s.expires_at - now())::float8, NULL::bigint
      FROM sessions s WHERE s.token_hash = p_hash AND s.expires_at > now();
    RETURN;
  END IF;
  RETURN QUERY
    UPDATE api_keys k SET last_used_at = CASE WHEN k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute'
                                              THEN now() ELSE k.last_used_at END
    WHERE k.key_hash = p_hash AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
    RETURNING k.user_id, 'api_key'::text, k.id, extract(epoch FROM k.expires_at - now())::float8, k.org_id;
END $$;

-- Personal keys are the ones without an org (an org's keys are listed and revoked under it).
CREATE OR REPLACE FUNCTION api.api_key_create(p_user bigint, p_label text, p_hash text, p_prefix text, p_last4 text,
                                              p_expires_at timestamptz)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE k api_keys;
BEGIN
  IF p_expires_at IS NOT NULL AND p_expires_at <= now() THEN
    PERFORM api.fail(400, 'expires_at must be in the future', 'expires_at');
  END IF;
  IF (SELECT count(*) FROM api_keys WHERE user_id = p_user AND revoked_at IS NULL AND org_id IS NULL) >= 100 THEN
    PERFORM api.fail(409, 'too many API keys; revoke one first');
  END IF;
  INSERT INTO api_keys (user_id, label, key_hash, prefix, last4, expires_at)
  VALUES (p_user, p_label, p_hash, p_prefix, p_last4, p_expires_at) RETURNING * INTO k;
  RETURN api.api_key_json(k);
END $$;

CREATE OR REPLACE FUNCTION api.api_keys_list(p_user bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(jsonb_agg(api.api_key_json(k) ORDER BY k.id), '[]')
  FROM api_keys k WHERE k.user_id = p_user AND k.revoked_at IS NULL AND k.org_id IS NULL
$$;

CREATE OR REPLACE FUNCTION api.api_key_revoke(p_user bigint, p_id bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
  UPDATE api_keys SET revoked_at = now()
  WHERE id = p_id AND user_id = p_user AND revoked_at IS NULL AND org_id IS NULL RETURNING key_hash INTO h;
  IF h IS NULL THEN PERFORM api.fail(404, 'API key not found'); END IF;
  PERFORM pg_notify('slotd_auth', 'h:' || h);
  RETURN '{"ok": true}';
END $$;

-- ---------------------------------------------------------------- access

-- The caller's role in an org: 'admin' for an API key of that org; NULL for a key of another
-- org; else the caller's row in org_members; NULL when there is none.
CREATE FUNCTION api.org_role(p_org bigint, p_user bigint, p_key_org bigint) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN p_key_org IS NOT NULL THEN
      CASE WHEN p_key_org = p_org AND EXISTS (SELECT 1 FROM orgs o WHERE o.id = p_org) THEN 'admin' END
    ELSE (SELECT m.role FROM org_members m WHERE m.org_id = p_org AND m.user_id = p_user)
  END
$$;

-- The caller's role, or a failure: 404 when the org is not the caller's to see, 403 when the
-- role is below p_need ('member', 'admin' = owners and admins, 'owner').
CREATE FUNCTION api.org_require(p_org bigint, p_user bigint, p_key_org bigint, p_need text DEFAULT 'member')
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE r text := api.org_role(p_org, p_user, p_key_org);
BEGIN
  IF r IS NULL THEN PERFORM api.fail(404, 'organisation not found'); END IF;
  IF p_need = 'admin' AND r = 'member' THEN
    PERFORM api.fail(403, 'only owners and admins of this organisation can do this');
  END IF;
  IF p_need = 'owner' AND r <> 'owner' THEN PERFORM api.fail(403, 'only owners of this organisation can do this'); END IF;
  RETURN r;
END $$;

-- For what belongs to one member (schedules, time off): owners and admins reach every member's,
-- a member only their own (403 otherwise); 404 'member not found' for someone outside the org.
CREATE FUNCTION api.org_member_check(p_org bigint, p_user bigint, p_key_org bigint, p_member bigint)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE r text := api.org_require(p_org, p_user, p_key_org);
BEGIN
  IF r = 'member' AND p_member IS DISTINCT FROM p_user THEN
    PERFORM api.fail(403, 'members manage only their own schedules and time off');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM org_members m WHERE m.org_id = p_org AND m.user_id = p_member) THEN
    PERFORM api.fail(404, 'member not found');
  END IF;
  RETURN r;
END $$;

-- Tell every instance that these hosts' public configuration moved (an org slug is part of
-- their public paths), as api.page_changed does for a booking page.
CREATE FUNCTION api.hosts_config_changed(p_hosts bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE h bigint;
BEGIN
  UPDATE users SET config_version = config_version + 1 WHERE id = ANY (p_hosts);
  FOREACH h IN ARRAY coalesce(p_hosts, '{}') LOOP PERFORM pg_notify('slotd_host', h::text); END LOOP;
END $$;

-- ---------------------------------------------------------------- orgs

CREATE FUNCTION api.org_json(o orgs, p_role text) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', o.id, 'name', o.name, 'slug', o.slug::text, 'timezone', o.timezone,
                            'created_at', api.rfc3339(o.created_at), 'role', p_role)
$$;

-- p: validated name, slug, timezone (optional).
CREATE FUNCTION api.org_create(p_user bigint, p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE o orgs;
BEGIN
  INSERT INTO orgs (name, slug, timezone) VALUES (p->>'name', p->>'slug', coalesce(p->>'timezone', 'UTC'))
  RETURNING * INTO o;
  INSERT INTO org_members (org_id, user_id, role) VALUES (o.id, p_user, 'owner');
  RETURN api.org_json(o, 'owner');
EXCEPTION WHEN unique_violation THEN
  PERFORM api.fail(409, 'this slug is already taken', 'slug');
  RETURN NULL;
END $$;

-- The caller's orgs (an org key: its own org).
CREATE FUNCTION api.orgs_list(p_user bigint, p_key_org bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN p_key_org IS NOT NULL THEN
    (SELECT coalesce(jsonb_agg(api.org_json(o, 'admin')), '[]') FROM orgs o WHERE o.id = p_key_org)
  ELSE
    (SELECT coalesce(jsonb_agg(api.org_json(o, m.role) ORDER BY o.id), '[]')
     FROM org_members m JOIN orgs o ON o.id = m.org_id WHERE m.user_id = p_user)
  END
$$;

CREATE FUNCTION api.org_get(p_org bigint, p_user bigint, p_key_org bigint) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE r text := api.org_require(p_org, p_user, p_key_org);
BEGIN
  RETURN (SELECT api.org_json(o, r) FROM orgs o WHERE o.id = p_org);
END $$;

CREATE FUNCTION api.org_members_array(p_org bigint) RETURNS bigint[] LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(m.user_id ORDER BY m.user_id), '{}') FROM org_members m WHERE m.org_id = p_org
$$;

CREATE FUNCTION api.org_update(p_org bigint, p_user bigint, p_key_org bigint, p jsonb)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  r text := api.org_require(p_org, p_user, p_key_org, 'admin');
  o orgs;
  old_slug text;
  hosts bigint[];
BEGIN
  SELECT x.slug INTO old_slug FROM orgs x WHERE x.id = p_org FOR UPDATE;
  UPDATE orgs SET
    name = coalesce(p->>'name', name),
    slug = coalesce(p->>'slug', slug),
    timezone = coalesce(p->>'timezone', timezone),
    updated_at = now()
  WHERE id = p_org RETURNING * INTO o;
  IF o.slug::text IS DISTINCT FROM old_slug THEN  -- the members' public paths moved
    hosts := api.org_members_array(p_org);
    PERFORM api.hosts_config_changed(hosts);
  END IF;
  RETURN QUERY SELECT api.org_json(o, r), hosts, false;
EXCEPTION WHEN unique_violation THEN
  PERFORM api.fail(409, 'this slug is already taken', 'slug');
  RETURN;
END $$;

CREATE FUNCTION api.org_delete(p_org bigint, p_user bigint, p_key_org bigint)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  hosts bigint[];
  h text;
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'owner');
  PERFORM 1 FROM orgs WHERE id = p_org FOR UPDATE;
  hosts := api.org_members_array(p_org);
  FOR h IN SELECT k.key_hash FROM api_keys k WHERE k.org_id = p_org AND k.revoked_at IS NULL LOOP
    PERFORM pg_notify('slotd_auth', 'h:' || h);  -- its keys stop working everywhere at once
  END LOOP;
  DELETE FROM orgs WHERE id = p_org;
  PERFORM api.hosts_config_changed(hosts);
  RETURN QUERY SELECT '{"ok": true}'::jsonb, hosts, false;
END $$;

-- ---------------------------------------------------------------- members

CREATE FUNCTION api.member_json(u users, p_role text) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('user_id', u.id, 'name', u.name, 'email', u.email::text, 'role', p_role,
                            'timezone', u.timezone)
$$;

-- p: validated email (folded), role, name and timezone (both optional). An existing account
-- with that e-mail is attached; otherwise an account without a password is made, with the
-- default schedule in its zone (the org's when none is given).
CREATE FUNCTION api.org_member_add(p_org bigint, p_user bigint, p_key_org bigint, p jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  r text := api.org_require(p_org, p_user, p_key_org, 'admin');
  v_role text := coalesce(p->>'role', 'member');
  o orgs;
  u users;
BEGIN
  IF v_role = 'owner' AND r <> 'owner' THEN
    PERFORM api.fail(403, 'only owners of this organisation can add owners', 'role');
  END IF;
  SELECT * INTO o FROM orgs WHERE id = p_org FOR UPDATE;  -- one membership change of an org at a time
  SELECT * INTO u FROM users WHERE email = (p->>'email')::citext;
  IF u.id IS NULL THEN
    IF p->>'name' IS NULL THEN
      PERFORM api.fail(400, 'name is required to create an account for a new member', 'name');
    END IF;
    INSERT INTO users (email, password_hash, name, timezone)
    VALUES (p->>'email', NULL, p->>'name', coalesce(p->>'timezone', o.timezone))
    ON CONFLICT (email) DO NOTHING RETURNING * INTO u;
    IF u.id IS NULL THEN  -- registered meanwhile: attach that account
      SELECT * INTO u FROM users WHERE email = (p->>'email')::citext;
    ELSE
      PERFORM api.default_schedule(u.id, u.timezone);
    END IF;
  END IF;
  INSERT INTO org_members (org_id, user_id, role) VALUES (p_org, u.id, v_role) ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN PERFORM api.fail(409, 'this account is already a member of the organisation', 'email'); END IF;
  RETURN api.member_json(u, v_role);
END $$;

CREATE FUNCTION api.org_members_list(p_org bigint, p_user bigint, p_key_org bigint, p_limit integer, p_offset integer)
RETURNS TABLE (body jsonb, total bigint) LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org);
  RETURN QUERY
  SELECT coalesce((SELECT jsonb_agg(api.member_json(u, m.role) ORDER BY m.user_id)
                   FROM (SELECT * FROM org_members x WHERE x.org_id = p_org ORDER BY x.user_id
                         LIMIT p_limit OFFSET p_offset) m JOIN users u ON u.id = m.user_id), '[]'),
         (SELECT count(*) FROM org_members x WHERE x.org_id = p_org);
END $$;

-- p: validated role, name, timezone (each optional). Only owners make or unmake owners; an org
-- keeps at least one owner; name and timezone only of accounts without their own login.
CREATE FUNCTION api.org_member_update(p_org bigint, p_user bigint, p_key_org bigint, p_member bigint, p jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  r text := api.org_require(p_org, p_user, p_key_org, 'admin');
  m org_members;
  u users;
BEGIN
  PERFORM 1 FROM orgs WHERE id = p_org FOR UPDATE;
  SELECT * INTO m FROM org_members x WHERE x.org_id = p_org AND x.user_id = p_member;
  IF m.user_id IS NULL THEN PERFORM api.fail(404, 'member not found'); END IF;
  IF p ? 'role' AND p->>'role' <> m.role THEN
    IF (m.role = 'owner' OR p->>'role' = 'owner') AND r <> 'owner' THEN
      PERFORM api.fail(403, 'only owners of this organisation can make or change owners', 'role');
    END IF;
    IF m.role = 'owner' AND (SELECT count(*) FROM org_members x WHERE x.org_id = p_org AND x.role = 'owner') = 1 THEN
      PERFORM api.fail(409, 'an organisation must keep at least one owner', 'role');
    END IF;
    UPDATE org_members x SET role = p->>'role' WHERE x.org_id = p_org AND x.user_id = p_member RETURNING * INTO m;
  END IF;
  SELECT * INTO u FROM users WHERE id = p_member;
  IF (p ? 'name' OR p ? 'timezone') THEN
    IF u.password_hash IS NOT NULL THEN
      PERFORM api.fail(403, 'the name and time zone of an account with its own login are changed by its holder',
                       CASE WHEN p ? 'name' THEN 'name' ELSE 'timezone' END);
    END IF;
    UPDATE users SET name = coalesce(p->>'name', name), timezone = coalesce(p->>'timezone', timezone),
                     updated_at = now()
    WHERE id = p_member RETURNING * INTO u;
  END IF;
  RETURN api.member_json(u, m.role);
END $$;

-- Owners and admins remove members (only owners remove owners); anyone may leave; the last
-- owner may not. The member leaves the org's teams too.
CREATE FUNCTION api.org_member_remove(p_org bigint, p_user bigint, p_key_org bigint, p_member bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  r text := api.org_require(p_org, p_user, p_key_org);
  self boolean := p_key_org IS NULL AND p_member = p_user;
  m org_members;
BEGIN
  IF r = 'member' AND NOT self THEN
    PERFORM api.fail(403, 'only owners and admins of this organisation can do this');
  END IF;
  PERFORM 1 FROM orgs WHERE id = p_org FOR UPDATE;
  SELECT * INTO m FROM org_members x WHERE x.org_id = p_org AND x.user_id = p_member;
  IF m.user_id IS NULL THEN PERFORM api.fail(404, 'member not found'); END IF;
  IF m.role = 'owner' AND r <> 'owner' AND NOT self THEN
    PERFORM api.fail(403, 'only owners of this organisation can remove owners');
  END IF;
  IF m.role = 'owner' AND (SELECT count(*) FROM org_members x WHERE x.org_id = p_org AND x.role = 'owner') = 1 THEN
    PERFORM api.fail(409, 'an organisation must keep at least one owner');
  END IF;
  DELETE FROM team_members t WHERE t.user_id = p_member AND t.team_id IN (SELECT id FROM teams WHERE org_id = p_org);
  DELETE FROM org_members x WHERE x.org_id = p_org AND x.user_id = p_member;
  RETURN '{"ok": true}';
END $$;

-- ---------------------------------------------------------------- member schedules
-- The personal functions, after the access check.

CREATE FUNCTION api.org_schedules_list(p_org bigint, p_user bigint, p_key_org bigint, p_member bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM api.org_member_check(p_org, p_user, p_key_org, p_member);
  RETURN api.schedules_list(p_member);
END $$;

CREATE FUNCTION api.org_schedule_get(p_org bigint, p_user bigint, p_key_org bigint, p_member bigint, p_id bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM api.org_member_check(p_org, p_user, p_key_org, p_member);
  RETURN api.schedule_get(p_member, p_id);
END $$;

CREATE FUNCTION api.org_schedule_save(p_org bigint, p_user bigint, p_key_org bigint, p_member bigint, p_id bigint,
                                      p jsonb)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
BEGIN
  PERFORM api.org_member_check(p_org, p_user, p_key_org, p_member);
  RETURN QUERY SELECT * FROM api.schedule_save(p_member, p_id, p);
END $$;

CREATE FUNCTION api.org_schedule_delete(p_org bigint, p_user bigint, p_key_org bigint, p_member bigint, p_id bigint)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
BEGIN
  PERFORM api.org_member_check(p_org, p_user, p_key_org, p_member);
  RETURN QUERY SELECT * FROM api.schedule_delete(p_member, p_id);
END $$;

-- ---------------------------------------------------------------- org API keys

CREATE FUNCTION api.org_api_key_create(p_org bigint, p_user bigint, p_key_org bigint, p_label text, p_hash text,
                                       p_prefix text, p_last4 text, p_expires_at timestamptz)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE k api_keys;
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  IF p_expires_at IS NOT NULL AND p_expires_at <= now() THEN
    PERFORM api.fail(400, 'expires_at must be in the future', 'expires_at');
  END IF;
  INSERT INTO api_keys (user_id, org_id, label, key_hash, prefix, last4, expires_at)
  VALUES (p_user, p_org, p_label, p_hash, p_prefix, p_last4, p_expires_at) RETURNING * INTO k;
  RETURN api.api_key_json(k);
END $$;

CREATE FUNCTION api.org_api_keys_list(p_org bigint, p_user bigint, p_key_org bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  RETURN (SELECT coalesce(jsonb_agg(api.api_key_json(k) ORDER BY k.id), '[]')
          FROM api_keys k WHERE k.org_id = p_org AND k.revoked_at IS NULL);
END $$;

CREATE FUNCTION api.org_api_key_revoke(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  UPDATE api_keys SET revoked_at = now()
  WHERE id = p_id AND org_id = p_org AND revoked_at IS NULL RETURNING key_hash INTO h;
  IF h IS NULL THEN PERFORM api.fail(404, 'API key not found'); END IF;
  PERFORM pg_notify('slotd_auth', 'h:' || h);
  RETURN '{"ok": true}';
END $$;

-- ---------------------------------------------------------------- teams

CREATE FUNCTION api.team_json(t teams) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', t.id, 'org_id', t.org_id, 'name', t.name, 'slug', t.slug::text,
    'member_ids', coalesce((SELECT jsonb_agg(x.user_id ORDER BY x.user_id) FROM team_members x WHERE x.team_id = t.id),
                           '[]'),
    'created_at', api.rfc3339(t.created_at))
$$;

-- p_ids: the team's members, each a member of the org (400 naming member_ids otherwise).
CREATE FUNCTION api.team_members_set(p_org bigint, p_team bigint, p_ids jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE bad bigint;
BEGIN
  SELECT min(x::bigint) INTO bad FROM jsonb_array_elements_text(p_ids) x
  WHERE NOT EXISTS (SELECT 1 FROM org_members m WHERE m.org_id = p_org AND m.user_id = x::bigint);
  IF bad IS NOT NULL THEN
    PERFORM api.fail(400, 'member_ids: user ' || bad || ' is not a member of this organisation', 'member_ids');
  END IF;
  DELETE FROM team_members WHERE team_id = p_team;
  INSERT INTO team_members (team_id, user_id)
  SELECT DISTINCT p_team, x::bigint FROM jsonb_array_elements_text(p_ids) x;
END $$;

-- p: validated name, slug (optional: p_slug_base, made unique with a suffix), member_ids.
CREATE FUNCTION api.team_create(p_org bigint, p_user bigint, p_key_org bigint, p jsonb, p_slug_base text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  t teams;
  s text := p->>'slug';
  n integer := 1;
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  PERFORM 1 FROM orgs WHERE id = p_org FOR UPDATE;  -- members cannot leave meanwhile
  IF s IS NULL THEN
    LOOP
      s := CASE WHEN n = 1 THEN p_slug_base ELSE p_slug_base || '-' || n END;
      EXIT WHEN NOT EXISTS (SELECT 1 FROM teams x WHERE x.org_id = p_org AND x.slug = s::citext);
      n := n + 1;
    END LOOP;
  END IF;
  INSERT INTO teams (org_id, name, slug) VALUES (p_org, p->>'name', s) RETURNING * INTO t;
  PERFORM api.team_members_set(p_org, t.id, coalesce(p->'member_ids', '[]'));
  RETURN api.team_json(t);
EXCEPTION WHEN unique_violation THEN
  PERFORM api.fail(409, 'this organisation already has a team with this slug', 'slug');
  RETURN NULL;
END $$;

CREATE FUNCTION api.teams_list(p_org bigint, p_user bigint, p_key_org bigint) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org);
  RETURN (SELECT coalesce(jsonb_agg(api.team_json(t) ORDER BY t.id), '[]') FROM teams t WHERE t.org_id = p_org);
END $$;

CREATE FUNCTION api.team_get(p_org bigint, p_user bigint, p_key_org bigint, p_team bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE t teams;
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org);
  SELECT * INTO t FROM teams x WHERE x.id = p_team AND x.org_id = p_org;
  IF t.id IS NULL THEN PERFORM api.fail(404, 'team not found'); END IF;
  RETURN api.team_json(t);
END $$;

CREATE FUNCTION api.team_update(p_org bigint, p_user bigint, p_key_org bigint, p_team bigint, p jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE t teams;
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  PERFORM 1 FROM orgs WHERE id = p_org FOR UPDATE;
  UPDATE teams SET name = coalesce(p->>'name', name), slug = coalesce(p->>'slug', slug), updated_at = now()
  WHERE id = p_team AND org_id = p_org RETURNING * INTO t;
  IF t.id IS NULL THEN PERFORM api.fail(404, 'team not found'); END IF;
  IF p ? 'member_ids' THEN PERFORM api.team_members_set(p_org, t.id, p->'member_ids'); END IF;
  RETURN api.team_json(t);
EXCEPTION WHEN unique_violation THEN
  PERFORM api.fail(409, 'this organisation already has a team with this slug', 'slug');
  RETURN NULL;
END $$;

CREATE FUNCTION api.team_delete(p_org bigint, p_user bigint, p_key_org bigint, p_team bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  DELETE FROM teams WHERE id = p_team AND org_id = p_org;
  IF NOT FOUND THEN PERFORM api.fail(404, 'team not found'); END IF;
  RETURN '{"ok": true}';
END $$;

-- ---------------------------------------------------------------- time off

CREATE FUNCTION api.time_off_json(t time_off) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', t.id, 'user_id', t.user_id, 'start', api.rfc3339(t.start_at),
                            'end', api.rfc3339(t.end_at), 'reason', t.reason, 'created_at', api.rfc3339(t.created_at))
$$;

-- p_start, p_end: validated instants (end after start, at most 366 days); p_by: who asked.
CREATE FUNCTION api.time_off_add(p_member bigint, p_start timestamptz, p_end timestamptz, p_reason text, p_by bigint)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE t time_off;
BEGIN
  INSERT INTO time_off (user_id, start_at, end_at, reason, created_by)
  VALUES (p_member, p_start, p_end, p_reason, p_by) RETURNING * INTO t;
  RETURN QUERY SELECT api.time_off_json(t), ARRAY[p_member], false;
END $$;

CREATE FUNCTION api.time_off_list(p_member bigint, p_limit integer, p_offset integer)
RETURNS TABLE (body jsonb, total bigint) LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT jsonb_agg(api.time_off_json(t) ORDER BY t.start_at DESC, t.id DESC)
                   FROM (SELECT * FROM time_off x WHERE x.user_id = p_member
                         ORDER BY x.start_at DESC, x.id DESC LIMIT p_limit OFFSET p_offset) t), '[]'),
         (SELECT count(*) FROM time_off x WHERE x.user_id = p_member)
$$;

CREATE FUNCTION api.time_off_delete(p_member bigint, p_id bigint)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM time_off WHERE id = p_id AND user_id = p_member;
  IF NOT FOUND THEN PERFORM api.fail(404, 'time off not found'); END IF;
  RETURN QUERY SELECT '{"ok": true}'::jsonb, ARRAY[p_member], false;
END $$;

CREATE FUNCTION api.org_time_off_add(p_org bigint, p_user bigint, p_key_org bigint, p_member bigint,
                                     p_start timestamptz, p_end timestamptz, p_reason text)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
BEGIN
  PERFORM api.org_member_check(p_org, p_user, p_key_org, p_member);
  RETURN QUERY SELECT * FROM api.time_off_add(p_member, p_start, p_end, p_reason, p_user);
END $$;

CREATE FUNCTION api.org_time_off_list(p_org bigint, p_user bigint, p_key_org bigint, p_member bigint,
                                      p_limit integer, p_offset integer)
RETURNS TABLE (body jsonb, total bigint) LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM api.org_member_check(p_org, p_user, p_key_org, p_member);
  RETURN QUERY SELECT * FROM api.time_off_list(p_member, p_limit, p_offset);
END $$;

CREATE FUNCTION api.org_time_off_delete(p_org bigint, p_user bigint, p_key_org bigint, p_member bigint, p_id bigint)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
BEGIN
  PERFORM api.org_member_check(p_org, p_user, p_key_org, p_member);
  RETURN QUERY SELECT * FROM api.time_off_delete(p_member, p_id);
END $$;
