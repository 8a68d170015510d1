-- Org event types ("services") and multi-host scheduling (issue 12).
--
-- An org event type belongs to an org (user_id NULL, org_id set) and is booked on its hosts
-- (event_type_hosts): round robin (a slot is offered when at least one host is free; a booking
-- goes to one of them) or collective (a slot is offered when every host is free; a booking
-- occupies all of them).
--
-- Occupancy stays in one table. A round-robin booking is an ordinary row whose host_id is the
-- host it went to. A collective booking is a primary row (host_id: the lowest host id) plus one
-- shadow row per other host (parent_id: the primary), with the same time and status, so that
-- the per-host exclusion constraint of bookings covers every host of every booking -- personal,
-- round robin and collective alike -- and the engine's busy read (bookings of a host) needs no
-- second source. Shadows carry no tokens or confirmation number; lists and reads show the
-- primary; a change of the primary's status or time is copied to its shadows by a trigger.
--
-- Versions: a team write takes the advisory lock of every involved host in ascending id order
-- and checks and bumps each host's version (api.booking_create_team). Configuration: a change of
-- an org event type or its hosts bumps the config_version of every host involved, so each
-- instance's cached configuration of the type (keyed by the type) is read again.

-- ---------------------------------------------------------------- schema

ALTER TABLE event_types ALTER COLUMN user_id DROP NOT NULL,
  ADD COLUMN org_id bigint REFERENCES orgs ON DELETE CASCADE,
  ADD COLUMN team_id bigint REFERENCES teams ON DELETE SET NULL,
  ADD COLUMN scheduling text CHECK (scheduling IN ('round_robin', 'collective')),
  ADD CONSTRAINT event_types_owner CHECK ((user_id IS NULL) = (org_id IS NOT NULL)
                                          AND (org_id IS NULL) = (scheduling IS NULL));
CREATE UNIQUE INDEX event_types_org_slug ON event_types (org_id, slug) WHERE is_active AND org_id IS NOT NULL;
CREATE INDEX event_types_org ON event_types (org_id) WHERE org_id IS NOT NULL;

CREATE TABLE event_type_hosts (
  event_type_id bigint NOT NULL REFERENCES event_types ON DELETE CASCADE,
  user_id       bigint NOT NULL REFERENCES users ON DELETE CASCADE,
  priority      integer NOT NULL DEFAULT 2 CHECK (priority BETWEEN 0 AND 4),
  weight        integer NOT NULL DEFAULT 100 CHECK (weight BETWEEN 1 AND 1000),
  PRIMARY KEY (event_type_id, user_id)
);
CREATE INDEX event_type_hosts_user ON event_type_hosts (user_id);

ALTER TABLE bookings ADD COLUMN parent_id bigint REFERENCES bookings ON DELETE CASCADE;
CREATE INDEX bookings_parent ON bookings (parent_id) WHERE parent_id IS NOT NULL;
-- One index for both uses of a booking's event type: the foreign key's lookups and the
-- round-robin rule "fewest bookings of this type in the trailing 30 days" (a host's bookings of a
-- type by creation); a second index would cost every booking write ~12 us (measured).
DROP INDEX bookings_event_type;
CREATE INDEX bookings_event_type_host ON bookings (event_type_id, host_id, created_at);

-- Caps: org event types count against their org.
DROP TRIGGER event_types_cap ON event_types;
CREATE TRIGGER event_types_cap BEFORE INSERT ON event_types FOR EACH ROW WHEN (NEW.org_id IS NULL)
  EXECUTE FUNCTION api.cap_rows('user_id', '5000', 'too many event types', 'is_active', '500');
CREATE TRIGGER event_types_org_cap BEFORE INSERT ON event_types FOR EACH ROW WHEN (NEW.org_id IS NOT NULL)
  EXECUTE FUNCTION api.cap_org_rows('org_id', '5000', 'too many event types', 'is_active', '500');

-- ---------------------------------------------------------------- versions and notifications

-- What bookings depend on moved for these hosts: both versions, and every instance is told.
CREATE FUNCTION api.hosts_changed(p_hosts bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE h bigint;
BEGIN
  UPDATE users SET version = version + 1, config_version = config_version + 1 WHERE id = ANY (p_hosts);
  FOREACH h IN ARRAY coalesce(p_hosts, '{}') LOOP PERFORM pg_notify('slotd_host', h::text); END LOOP;
END $$;

-- event_types' trigger: a personal type bumps its host; an org type every host it has.
CREATE OR REPLACE FUNCTION api.event_type_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r event_types := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
BEGIN
  IF r.user_id IS NOT NULL THEN
    UPDATE users SET version = version + 1, config_version = config_version + 1 WHERE id = r.user_id;
    PERFORM pg_notify('slotd_host', r.user_id::text);
  ELSE
    PERFORM api.hosts_changed(ARRAY(SELECT h.user_id FROM event_type_hosts h WHERE h.event_type_id = r.id));
  END IF;
  RETURN NULL;
END $$;
DROP TRIGGER event_types_host_changed ON event_types;
CREATE TRIGGER event_types_host_changed AFTER INSERT OR UPDATE OR DELETE ON event_types
  FOR EACH ROW EXECUTE FUNCTION api.event_type_changed();

CREATE FUNCTION api.event_type_hosts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM api.hosts_changed(ARRAY[CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END]);
  RETURN NULL;
END $$;
CREATE TRIGGER event_type_hosts_changed AFTER INSERT OR UPDATE OR DELETE ON event_type_hosts
  FOR EACH ROW EXECUTE FUNCTION api.event_type_hosts_changed();

-- A member who leaves an org stops hosting its event types.
CREATE FUNCTION api.org_member_left() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM event_type_hosts h USING event_types e
  WHERE h.user_id = OLD.user_id AND e.id = h.event_type_id AND e.org_id = OLD.org_id;
  RETURN NULL;
END $$;
CREATE TRIGGER org_members_left AFTER DELETE ON org_members FOR EACH ROW EXECUTE FUNCTION api.org_member_left();

-- A collective booking's shadows follow their primary's status and time.
CREATE FUNCTION api.booking_shadows_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE bookings s SET status = NEW.status, start_at = NEW.start_at, end_at = NEW.end_at,
                        updated_at = NEW.updated_at
  WHERE s.parent_id = NEW.id;
  RETURN NULL;
END $$;
CREATE TRIGGER bookings_shadows_follow AFTER UPDATE OF status, start_at, end_at ON bookings
  FOR EACH ROW WHEN (NEW.parent_id IS NULL AND (OLD.status, OLD.start_at, OLD.end_at)
                     IS DISTINCT FROM (NEW.status, NEW.start_at, NEW.end_at))
  EXECUTE FUNCTION api.booking_shadows_follow();

-- ---------------------------------------------------------------- org event types

CREATE FUNCTION api.org_event_type_json(e event_types) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT api.event_type_json(e) || jsonb_build_object('org_id', e.org_id, 'team_id', e.team_id,
    'scheduling', e.scheduling,
    'hosts', coalesce((SELECT jsonb_agg(jsonb_build_object('user_id', h.user_id, 'name', u.name,
                                                           'priority', h.priority, 'weight', h.weight)
                                        ORDER BY h.user_id)
                       FROM event_type_hosts h JOIN users u ON u.id = h.user_id WHERE h.event_type_id = e.id), '[]'))
$$;

-- hosts: p->'hosts' [{user_id, priority?, weight?}] (shape checked by C), else the team's
-- members when p has team_id; every host must be a member of the org.
CREATE FUNCTION api.org_event_type_set_hosts(e event_types, p jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE bad bigint;
BEGIN
  IF p ? 'hosts' THEN
    SELECT (x->>'user_id')::bigint INTO bad FROM jsonb_array_elements(p->'hosts') x
    WHERE NOT EXISTS (SELECT 1 FROM org_members m WHERE m.org_id = e.org_id AND m.user_id = (x->>'user_id')::bigint)
    LIMIT 1;
    IF FOUND THEN PERFORM api.fail(400, format('hosts: user %s is not a member of this organisation', bad), 'hosts'); END IF;
    DELETE FROM event_type_hosts h WHERE h.event_type_id = e.id
      AND h.user_id NOT IN (SELECT (x->>'user_id')::bigint FROM jsonb_array_elements(p->'hosts') x);
    INSERT INTO event_type_hosts (event_type_id, user_id, priority, weight)
    SELECT e.id, (x->>'user_id')::bigint, coalesce((x->>'priority')::int, 2), coalesce((x->>'weight')::int, 100)
    FROM jsonb_array_elements(p->'hosts') x
    ON CONFLICT (event_type_id, user_id) DO UPDATE SET priority = EXCLUDED.priority, weight = EXCLUDED.weight
    WHERE (event_type_hosts.priority, event_type_hosts.weight) IS DISTINCT FROM (EXCLUDED.priority, EXCLUDED.weight);
  ELSIF p ? 'team_id' AND e.team_id IS NOT NULL THEN
    DELETE FROM event_type_hosts h WHERE h.event_type_id = e.id
      AND h.user_id NOT IN (SELECT t.user_id FROM team_members t WHERE t.team_id = e.team_id);
    INSERT INTO event_type_hosts (event_type_id, user_id)
    SELECT e.id, t.user_id FROM team_members t WHERE t.team_id = e.team_id
    ON CONFLICT DO NOTHING;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM event_type_hosts h WHERE h.event_type_id = e.id) THEN
    PERFORM api.fail(400, 'an organisation event type needs at least one host (hosts, or a team with members)', 'hosts');
  END IF;
END $$;

CREATE FUNCTION api.org_event_type_apply(e event_types, p jsonb) RETURNS event_types LANGUAGE plpgsql AS $$
BEGIN
  IF p ? 'schedule_id' AND p->>'schedule_id' IS NOT NULL THEN
    PERFORM api.fail(400, 'an organisation event type uses each host''s default schedule; schedule_id must be null',
                     'schedule_id');
  END IF;
  IF p ? 'team_id' AND p->>'team_id' IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM teams t WHERE t.id = (p->>'team_id')::bigint AND t.org_id = e.org_id) THEN
    PERFORM api.fail(400, 'team_id does not name a team of this organisation', 'team_id');
  END IF;
  e := api.event_type_apply(e, p - 'schedule_id');
  IF p ? 'team_id' THEN e.team_id := (p->>'team_id')::bigint; END IF;
  IF p ? 'scheduling' THEN e.scheduling := p->>'scheduling'; END IF;
  RETURN e;
END $$;

CREATE FUNCTION api.org_event_type_create(p_org bigint, p_user bigint, p_key_org bigint, p jsonb, p_slug_base text)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  e event_types;
  n integer := 1;
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  e.org_id := p_org;
  e.scheduling := 'round_robin';
  e := api.org_event_type_apply(e, p);
  e.id := nextval('event_types_id_seq');
  e.duration_minutes := coalesce(e.duration_minutes, 30);
  e.color := coalesce(e.color, '#0069ff');
  e.questions := coalesce(e.questions, '[]');
  e.is_secret := coalesce(e.is_secret, false);
  e.requires_confirmation := coalesce(e.requires_confirmation, false);
  e.buffer_before := coalesce(e.buffer_before, 0);
  e.buffer_after := coalesce(e.buffer_after, 0);
  e.min_notice_hours := coalesce(e.min_notice_hours, 4);
  e.max_future_days := coalesce(e.max_future_days, 60);
  e.seats := coalesce(e.seats, 1);
  e.is_active := true;
  e.created_at := now();
  e.updated_at := now();
  IF e.slug IS NOT NULL THEN
    IF EXISTS (SELECT 1 FROM event_types WHERE org_id = p_org AND slug = e.slug AND is_active) THEN
      PERFORM api.fail(409, 'this organisation already has an event type with this slug', 'slug');
    END IF;
  ELSE
    LOOP
      e.slug := CASE WHEN n = 1 THEN p_slug_base ELSE p_slug_base || '-' || n END;
      EXIT WHEN NOT EXISTS (SELECT 1 FROM event_types WHERE org_id = p_org AND slug = e.slug AND is_active);
      n := n + 1;
    END LOOP;
  END IF;
  INSERT INTO event_types SELECT e.*;
  PERFORM api.org_event_type_set_hosts(e, CASE WHEN p ? 'hosts' OR p ? 'team_id' THEN p ELSE p END);
  RETURN QUERY SELECT api.org_event_type_json(e),
                      ARRAY(SELECT h.user_id FROM event_type_hosts h WHERE h.event_type_id = e.id), false;
EXCEPTION WHEN unique_violation THEN
  PERFORM api.fail(409, 'this organisation already has an event type with this slug', 'slug');
  RETURN;
END $$;

CREATE FUNCTION api.org_event_type_find(p_org bigint, p_id bigint) RETURNS event_types LANGUAGE plpgsql STABLE AS $$
DECLARE e event_types;
BEGIN
  SELECT * INTO e FROM event_types t WHERE t.id = p_id AND t.org_id = p_org AND t.is_active;
  IF e.id IS NULL THEN PERFORM api.fail(404, 'event type not found'); END IF;
  RETURN e;
END $$;

CREATE FUNCTION api.org_event_type_update(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint, p jsonb)
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
       SELECT 1 FROM bookings k WHERE k.event_type_id = e.id AND k.status IN ('pending', 'confirmed')
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

CREATE FUNCTION api.org_event_type_delete(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE e event_types;
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  e := api.org_event_type_find(p_org, p_id);
  UPDATE event_types SET is_active = false, updated_at = now() WHERE id = e.id;
  RETURN QUERY SELECT '{"ok": true}'::jsonb,
                      ARRAY(SELECT h.user_id FROM event_type_hosts h WHERE h.event_type_id = e.id), false;
END $$;

CREATE FUNCTION api.org_event_type_get(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org);
  RETURN api.org_event_type_json(api.org_event_type_find(p_org, p_id));
END $$;

CREATE FUNCTION api.org_event_types_list(p_org bigint, p_user bigint, p_key_org bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org);
  RETURN coalesce((SELECT jsonb_agg(api.org_event_type_json(e) ORDER BY e.id)
                   FROM event_types e WHERE e.org_id = p_org AND e.is_active), '[]');
END $$;

-- ---------------------------------------------------------------- the engine's inputs

-- The event type an engine read is for: as before, and by org slug + event slug (org slugs
-- share the booking pages' namespace, so a slug is one or the other).
CREATE OR REPLACE FUNCTION api.event_type_for(p_event_type bigint, p_slug text, p_event_slug text, p_include_secret boolean)
RETURNS event_types LANGUAGE plpgsql STABLE AS $$
DECLARE
  e event_types;
  pg bigint;
  og bigint;
BEGIN
  IF p_event_type IS NOT NULL THEN
    SELECT * INTO e FROM event_types t WHERE t.id = p_event_type AND t.is_active AND (p_include_secret OR NOT t.is_secret);
  ELSE
    SELECT b.user_id INTO pg FROM booking_pages b WHERE b.slug = p_slug::citext;  -- citext: the unique index
    IF pg IS NOT NULL THEN
      SELECT * INTO e FROM event_types t WHERE t.user_id = pg AND t.slug = p_event_slug AND t.is_active;
    ELSE
      SELECT o.id INTO og FROM orgs o WHERE o.slug = p_slug::citext;
      IF og IS NULL THEN PERFORM api.fail(404, 'booking page not found'); END IF;
      SELECT * INTO e FROM event_types t WHERE t.org_id = og AND t.slug = p_event_slug AND t.is_active;
    END IF;
  END IF;
  IF e.id IS NULL THEN PERFORM api.fail(404, 'event type not found'); END IF;
  RETURN e;
END $$;

-- api.engine_config, for org event types too: one row per host (ascending id) with that host's
-- default schedule, config_version, priority and weight; the event type's columns repeat.
-- Personal types: one row as before. type_*: the buffers of every event type a personal host's
-- busy rows can name -- its own and the org types it hosts (team reads carry buffers per row).
DROP FUNCTION api.engine_config(bigint, text, text, boolean);
CREATE FUNCTION api.engine_config(p_event_type bigint, p_slug text, p_event_slug text,
                                             p_include_secret boolean DEFAULT false)
RETURNS TABLE (host_id bigint, config_version bigint, event_type_id bigint, event_name text, duration integer,
               slot_interval integer, buffer_before integer, buffer_after integer, min_notice_hours integer,
               max_future_days integer, seats integer, limit_per_day integer, limit_per_week integer,
               requires_confirmation boolean, questions jsonb, schedule_timezone text, week_spans integer[],
               override_spans integer[], type_ids bigint[], type_buffer_before integer[],
               type_buffer_after integer[], scheduling text, org_id bigint, priority integer, weight integer,
               host_name text)
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
           s.timezone, s.week_spans, s.override_spans, t.ids, t.bb, t.ba, NULL::text, NULL::bigint, 2, 100, u.name
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
           e.scheduling, e.org_id, coalesce(h.priority, 2), coalesce(h.weight, 100), u.name
    FROM (SELECT 1) one  -- a type without hosts: one row with host_id NULL (nothing is offered)
    LEFT JOIN event_type_hosts h ON h.event_type_id = e.id
    LEFT JOIN users u ON u.id = h.user_id
    LEFT JOIN availability_schedules a ON a.user_id = h.user_id AND a.is_default
    ORDER BY h.user_id;
  END IF;
END $$;

-- engine_inputs for a booking's own changes (api.booking_inputs): an org type's booking is
-- judged on its host (p_host: the booking's host_id) and that host's default schedule. A
-- collective booking is judged on its primary host; its shadows follow it, and the exclusion
-- constraint refuses (409) a move onto another host's booking.
DROP FUNCTION api.booking_inputs(bigint, bigint, text, timestamptz, timestamptz, integer, integer);
DROP FUNCTION api.engine_inputs(bigint, text, text, timestamptz, timestamptz, integer, integer, uuid, bigint, boolean);
CREATE FUNCTION api.engine_inputs(p_event_type bigint, p_slug text, p_event_slug text, p_from timestamptz,
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
    WHERE k.host_id = h AND k.status IN ('pending', 'confirmed') AND k.start_at < hi AND k.end_at > lo
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

-- A booking a host may act on: its primary row when p_user is its host or one of a collective
-- booking's other hosts (a shadow's id is not a booking of its own).
CREATE OR REPLACE FUNCTION api.booking_id_for_host(p_user bigint, p_id bigint) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE r bigint;
BEGIN
  SELECT b.id INTO r FROM bookings b
  WHERE b.id = p_id AND b.parent_id IS NULL
    AND (b.host_id = p_user OR EXISTS (SELECT 1 FROM bookings s WHERE s.parent_id = b.id AND s.host_id = p_user));
  IF r IS NULL THEN PERFORM api.fail(404, 'booking not found'); END IF;
  RETURN r;
END $$;

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
               refusal text)
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
         api.transition_refusal(b.status, p_action)
  FROM api.engine_inputs(b.event_type_id, NULL, NULL, coalesce(p_from, b.start_at), coalesce(p_to, b.end_at),
                         p_reach, p_reach_limits, NULL, b.id, true, b.host_id) i;
END $$;

-- Host lists: a collective booking appears, as its primary, to each of its hosts.
CREATE OR REPLACE FUNCTION api.bookings_list(p_user bigint, p_status text, p_from timestamptz, p_to timestamptz,
                                             p_event_type bigint, p_limit integer, p_offset integer)
RETURNS TABLE (body jsonb, total bigint) LANGUAGE sql STABLE AS $$
  WITH f AS (
    SELECT b.* FROM bookings b
    WHERE b.host_id = p_user AND b.parent_id IS NULL AND (p_status IS NULL OR b.status = p_status)
      AND (p_from IS NULL OR b.start_at >= p_from) AND (p_to IS NULL OR b.start_at < p_to)
      AND (p_event_type IS NULL OR b.event_type_id = p_event_type)
    UNION ALL
    SELECT b.* FROM bookings s JOIN bookings b ON b.id = s.parent_id
    WHERE s.host_id = p_user AND s.parent_id IS NOT NULL AND (p_status IS NULL OR b.status = p_status)
      AND (p_from IS NULL OR b.start_at >= p_from) AND (p_to IS NULL OR b.start_at < p_to)
      AND (p_event_type IS NULL OR b.event_type_id = p_event_type))
  SELECT coalesce((SELECT jsonb_agg(api.booking_json_with(p, e) ORDER BY p.start_at DESC, p.id DESC)
                   FROM (SELECT * FROM f ORDER BY start_at DESC, id DESC LIMIT p_limit OFFSET p_offset) p
                   JOIN event_types e ON e.id = p.event_type_id), '[]'),
         (SELECT count(*) FROM f)
$$;

-- ---------------------------------------------------------------- bookings of org event types

-- What a booking of an org type adds to its JSON: the org, and its host (round robin) or hosts
-- (collective).
CREATE FUNCTION api.booking_org_json(b bookings, e event_types) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN e.scheduling = 'collective' THEN
    jsonb_build_object('org_id', e.org_id, 'scheduling', e.scheduling,
      'host', (SELECT jsonb_build_object('id', u.id, 'name', u.name, 'email', u.email::text) FROM users u WHERE u.id = b.host_id),
      'hosts', (SELECT jsonb_agg(jsonb_build_object('id', u.id, 'name', u.name, 'email', u.email::text) ORDER BY u.id)
                FROM users u WHERE u.id = b.host_id OR u.id IN (SELECT s.host_id FROM bookings s WHERE s.parent_id = b.id)))
  ELSE
    jsonb_build_object('org_id', e.org_id, 'scheduling', e.scheduling,
      'host', (SELECT jsonb_build_object('id', u.id, 'name', u.name, 'email', u.email::text) FROM users u WHERE u.id = b.host_id))
  END
$$;

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
    'location_type', e.location_type, 'location_value', e.location_value,
    'created_at', api.ts(b.created_at), 'created_at_rfc3339', api.rfc3339(b.created_at))
  || CASE WHEN e.org_id IS NULL THEN '{}'::jsonb ELSE api.booking_org_json(b, e) END
$$;

-- A collective booking: every host's advisory lock and row lock in ascending id order (C sends
-- p_hosts ascending), every version checked before any is bumped, then the primary row (the
-- lowest host id) with the tokens, and one shadow per other host; one event per host.
CREATE FUNCTION api.booking_create_team(p_hosts bigint[], p_versions bigint[], p_event_type bigint, p_start bigint,
  p_end bigint, p_status text, p_seats integer, p_seated boolean, p_name text, p_email text, p_timezone text,
  p_notes text, p_phone text, p_answers jsonb, p_number text, p_cancel_hash text, p_reschedule_hash text,
  p_confirm_hash text, p_reservation uuid, p_confirm_url text, p_decline_url text)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean)
LANGUAGE plpgsql AS $$
DECLARE
  b bookings;
  bj jsonb;
  ty text;
  h bigint;
  org bigint;
BEGIN
  IF p_reservation IS NOT NULL THEN PERFORM api.fail(400, 'holds are not supported here', 'reservation_uid'); END IF;
  FOREACH h IN ARRAY p_hosts LOOP PERFORM pg_advisory_xact_lock(h); END LOOP;
  PERFORM 1 FROM users u WHERE u.id = ANY (p_hosts) ORDER BY u.id FOR UPDATE;
  IF (SELECT count(*) FROM unnest(p_hosts, p_versions) x(id, v) JOIN users u ON u.id = x.id AND u.version = x.v)
     <> cardinality(p_hosts) THEN
    RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN;
  END IF;
  UPDATE users u SET version = u.version + 1 WHERE u.id = ANY (p_hosts);
  PERFORM set_config('slotd.bumped', array_to_string(p_hosts, ','), true);
  INSERT INTO bookings (host_id, event_type_id, start_at, end_at, status, seats, seated, invitee_name,
                        invitee_email, invitee_timezone, notes, phone, answers, confirmation_number,
                        cancel_token_hash, reschedule_token_hash, confirm_token_hash)
  VALUES (p_hosts[1], p_event_type, to_timestamp(p_start), to_timestamp(p_end), p_status, p_seats, p_seated, p_name,
          p_email, p_timezone, p_notes, p_phone, coalesce(p_answers, '{}'), p_number, p_cancel_hash,
          p_reschedule_hash, p_confirm_hash)
  ON CONFLICT (confirmation_number) DO NOTHING
  RETURNING * INTO b;
  IF b.id IS NULL THEN  -- a confirmation number collided: C reads and draws again
    FOREACH h IN ARRAY p_hosts LOOP PERFORM pg_notify('slotd_host', h::text); END LOOP;
    RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN;
  END IF;
  INSERT INTO bookings (host_id, event_type_id, start_at, end_at, status, seats, seated, invitee_name,
                        invitee_email, invitee_timezone, answers, parent_id)
  SELECT x, p_event_type, b.start_at, b.end_at, b.status, b.seats, b.seated, b.invitee_name, b.invitee_email,
         b.invitee_timezone, '{}', b.id
  FROM unnest(p_hosts[2:]) x;
  SELECT api.booking_json_with(b, e), e.org_id INTO bj, org FROM event_types e WHERE e.id = b.event_type_id;
  ty := CASE WHEN b.status = 'pending' THEN 'booking.requested' ELSE 'booking.created' END;
  WITH ev AS (
    INSERT INTO events (host_id, type, booking_id, payload)
    SELECT x, ty, b.id, jsonb_build_object('event', ty, 'created_at', api.rfc3339(now()),
            'data', jsonb_build_object('booking', bj || jsonb_build_object('event_type', bj->'event_name')
              || CASE WHEN b.status = 'pending' AND p_confirm_url IS NOT NULL THEN jsonb_build_object(
                   'confirm_url', p_confirm_url, 'decline_url', p_decline_url) ELSE '{}' END))
    FROM unnest(p_hosts) x
    RETURNING id, host_id, payload)
  INSERT INTO webhook_deliveries (webhook_id, event_id, event, payload)
  SELECT w.id, ev.id, ty, ev.payload::text FROM ev JOIN webhooks w
    ON w.user_id = ev.host_id OR (w.org_id = org AND ev.host_id = p_hosts[1])  -- the org hears it once
  WHERE w.is_active AND ty = ANY (w.events);
  IF FOUND THEN PERFORM pg_notify('slotd_webhooks', ''); END IF;
  FOREACH h IN ARRAY p_hosts LOOP PERFORM pg_notify('slotd_host', h::text); END LOOP;
  RETURN QUERY SELECT bj, p_hosts, false;
END $$;

-- Status changes of a collective booking: any of its hosts acts on the primary (the shadows
-- follow by trigger), after every host's advisory lock and row lock in ascending id order (a
-- shadow's version bump without its host's lock could deadlock against a booking on that
-- host); every host's webhooks hear it (the org's once), and every host's caches drop.
CREATE OR REPLACE FUNCTION api.booking_transition(p_id bigint, p_user bigint, p_action text, p_version bigint, p_reason text,
                                       p_by text)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  hosts bigint[];
  h bigint;
  b bookings;
  e event_types;
  v bigint;
  why text;
  bj jsonb;
BEGIN
  SELECT * INTO b FROM bookings k WHERE k.id = p_id AND k.parent_id IS NULL
    AND (p_user IS NULL OR k.host_id = p_user OR EXISTS (SELECT 1 FROM bookings s WHERE s.parent_id = k.id AND s.host_id = p_user));
  IF b.id IS NULL THEN PERFORM api.fail(404, 'booking not found'); END IF;
  hosts := b.host_id || ARRAY(SELECT s.host_id FROM bookings s WHERE s.parent_id = b.id ORDER BY s.host_id);
  FOREACH h IN ARRAY (SELECT array_agg(x ORDER BY x) FROM unnest(hosts) x) LOOP PERFORM pg_advisory_xact_lock(h); END LOOP;
  IF cardinality(hosts) > 1 THEN  -- the shadows' hosts' rows too, in the same order
    PERFORM 1 FROM users u WHERE u.id = ANY (hosts) ORDER BY u.id FOR UPDATE;
  END IF;
  IF p_action = 'confirm' THEN
    SELECT u.version INTO v FROM users u WHERE u.id = b.host_id FOR UPDATE;
    IF v IS DISTINCT FROM p_version THEN RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN; END IF;
  END IF;
  SELECT * INTO b FROM bookings k WHERE k.id = p_id FOR UPDATE;
  why := api.transition_refusal(b.status, p_action);
  IF why IS NOT NULL THEN PERFORM api.fail(409, why, 'status:' || b.status); END IF;
  IF p_action = 'no_show' AND b.start_at > now() THEN
    PERFORM api.fail(409, 'the booking has not started yet', 'status:' || b.status);
  END IF;
  UPDATE bookings SET
    status = CASE p_action WHEN 'confirm' THEN 'confirmed' WHEN 'decline' THEN 'declined'
                           WHEN 'cancel' THEN 'cancelled' ELSE status END,
    no_show = no_show OR p_action = 'no_show',
    reason = CASE WHEN p_action IN ('cancel', 'decline') THEN p_reason ELSE reason END,
    cancelled_by = CASE WHEN p_action = 'cancel' THEN coalesce(p_by, 'host') ELSE cancelled_by END,
    updated_at = now()
  WHERE id = p_id RETURNING * INTO b;
  SELECT * INTO e FROM event_types t WHERE t.id = b.event_type_id;
  bj := api.booking_json_with(b, e);
  FOREACH h IN ARRAY hosts LOOP  -- every host hears it; the org once (with the primary's)
    PERFORM api.emit_json(h, CASE p_action WHEN 'confirm' THEN 'booking.confirmed' WHEN 'decline' THEN 'booking.declined'
                                           WHEN 'cancel' THEN 'booking.cancelled' ELSE 'booking.no_show' END, b.id, bj,
                          '{}', h = b.host_id);
  END LOOP;
  RETURN QUERY SELECT bj, hosts, false;
END $$;

-- GET /api/public/:slug for an org slug too: the org's listed event types with their hosts.
CREATE OR REPLACE FUNCTION api.public_page(p_slug text) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  b booking_pages;
  o orgs;
BEGIN
  SELECT * INTO b FROM booking_pages WHERE slug = p_slug::citext;
  IF b.id IS NOT NULL THEN
    RETURN jsonb_build_object('slug', b.slug::text, 'display_name', b.display_name, 'bio', b.bio,
      'brand_color', b.brand_color, 'welcome_message', b.welcome_message,
      'event_types', coalesce((SELECT jsonb_agg(jsonb_build_object('name', e.name, 'slug', e.slug,
          'duration_minutes', e.duration_minutes, 'description', e.description, 'color', e.color,
          'location_type', e.location_type, 'requires_confirmation', e.requires_confirmation,
          'price', e.price, 'currency', e.currency, 'seats', e.seats) ORDER BY e.id)
        FROM event_types e WHERE e.user_id = b.user_id AND e.is_active AND NOT e.is_secret), '[]'::jsonb));
  END IF;
  SELECT * INTO o FROM orgs WHERE slug = p_slug::citext;
  IF o.id IS NULL THEN PERFORM api.fail(404, 'booking page not found'); END IF;
  RETURN jsonb_build_object('slug', o.slug::text, 'display_name', o.name, 'kind', 'org', 'timezone', o.timezone,
    'event_types', coalesce((SELECT jsonb_agg(jsonb_build_object('id', e.id, 'name', e.name, 'slug', e.slug,
        'duration_minutes', e.duration_minutes, 'description', e.description, 'color', e.color,
        'location_type', e.location_type, 'requires_confirmation', e.requires_confirmation,
        'price', e.price, 'currency', e.currency, 'seats', e.seats, 'scheduling', e.scheduling,
        'hosts', coalesce((SELECT jsonb_agg(jsonb_build_object('id', u.id, 'name', u.name) ORDER BY u.id)
                           FROM event_type_hosts h JOIN users u ON u.id = h.user_id WHERE h.event_type_id = e.id), '[]'))
        ORDER BY e.id)
      FROM event_types e WHERE e.org_id = o.id AND e.is_active AND NOT e.is_secret), '[]'::jsonb));
END $$;

-- ---------------------------------------------------------------- the org's side of its bookings

-- GET /api/orgs/:id/bookings (owners, admins, org keys): every booking of the org's event types,
-- as their primaries; filters as /api/bookings plus host_id (a host of it, collective included).
CREATE FUNCTION api.org_bookings_list(p_org bigint, p_user bigint, p_key_org bigint, p_host bigint, p_status text,
                                      p_from timestamptz, p_to timestamptz, p_event_type bigint, p_limit integer,
                                      p_offset integer)
RETURNS TABLE (body jsonb, total bigint) LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  RETURN QUERY
  WITH f AS (
    SELECT b.* FROM bookings b JOIN event_types t ON t.id = b.event_type_id
    WHERE t.org_id = p_org AND b.parent_id IS NULL AND (p_status IS NULL OR b.status = p_status)
      AND (p_from IS NULL OR b.start_at >= p_from) AND (p_to IS NULL OR b.start_at < p_to)
      AND (p_event_type IS NULL OR b.event_type_id = p_event_type)
      AND (p_host IS NULL OR b.host_id = p_host
           OR EXISTS (SELECT 1 FROM bookings s WHERE s.parent_id = b.id AND s.host_id = p_host)))
  SELECT coalesce((SELECT jsonb_agg(api.booking_json_with(p, e) ORDER BY p.start_at DESC, p.id DESC)
                   FROM (SELECT * FROM f ORDER BY start_at DESC, id DESC LIMIT p_limit OFFSET p_offset) p
                   JOIN event_types e ON e.id = p.event_type_id), '[]'),
         (SELECT count(*) FROM f);
END $$;

-- ---------------------------------------------------------------- reassignment

-- What C needs to re-decide a round-robin booking's host, after the access check: the org's
-- owners, admins and keys, or the booking's host. Anything else: 404 (no leak).
CREATE FUNCTION api.booking_reassign_info(p_booking bigint, p_user bigint, p_key_org bigint)
RETURNS TABLE (event_type_id bigint, start_epoch bigint, host_id bigint, seats integer, invitee_timezone text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  b bookings;
  e event_types;
  r text;
BEGIN
  SELECT * INTO b FROM bookings k WHERE k.id = p_booking AND k.parent_id IS NULL;
  IF b.id IS NOT NULL THEN SELECT * INTO e FROM event_types t WHERE t.id = b.event_type_id; END IF;
  IF e.org_id IS NOT NULL THEN r := api.org_role(e.org_id, p_user, p_key_org); END IF;
  IF b.id IS NULL OR NOT (coalesce(r IN ('owner', 'admin'), false)
                          OR (p_key_org IS NULL AND b.host_id = p_user AND r IS NOT NULL)) THEN
    PERFORM api.fail(404, 'booking not found');
  END IF;
  IF e.scheduling IS DISTINCT FROM 'round_robin' OR EXISTS (SELECT 1 FROM bookings s WHERE s.parent_id = b.id) THEN
    PERFORM api.fail(409, 'only bookings of round-robin event types can be reassigned');
  END IF;
  IF b.status NOT IN ('pending', 'confirmed') THEN
    PERFORM api.fail(409, 'only pending or confirmed bookings can be reassigned', 'status:' || b.status);
  END IF;
  RETURN QUERY SELECT b.event_type_id, extract(epoch FROM b.start_at)::bigint, b.host_id, b.seats, b.invitee_timezone;
END $$;

-- Moves the booking to p_host if that host's version is still what C decided on and the booking
-- still has p_old as its host at p_start (else stale: C decides again); both hosts' versions
-- move, both hosts' webhooks hear booking.reassigned (with previous_host), the org's once.
CREATE FUNCTION api.booking_reassign(p_booking bigint, p_host bigint, p_version bigint, p_old bigint,
                                      p_start bigint)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  b bookings;
  bj jsonb;
  prev jsonb;
BEGIN
  PERFORM pg_advisory_xact_lock(least(p_host, p_old));
  PERFORM pg_advisory_xact_lock(greatest(p_host, p_old));
  UPDATE users u SET version = u.version + 1 WHERE u.id = p_host AND u.version = p_version;
  IF NOT FOUND THEN RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN; END IF;
  UPDATE bookings k SET host_id = p_host, updated_at = now()
  WHERE k.id = p_booking AND k.host_id = p_old AND k.status IN ('pending', 'confirmed')
    AND k.start_at = to_timestamp(p_start) AND k.parent_id IS NULL
  RETURNING * INTO b;
  IF b.id IS NULL THEN RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN; END IF;
  UPDATE users u SET version = u.version + 1 WHERE u.id = p_old;  -- the old host's time is free again
  PERFORM pg_notify('slotd_host', p_old::text);
  SELECT api.booking_json_with(b, e) INTO bj FROM event_types e WHERE e.id = b.event_type_id;
  SELECT jsonb_build_object('previous_host', jsonb_build_object('id', u.id, 'name', u.name, 'email', u.email::text))
    INTO prev FROM users u WHERE u.id = p_old;
  PERFORM api.emit_json(p_host, 'booking.reassigned', b.id, bj, prev);
  PERFORM api.emit_json(p_old, 'booking.reassigned', b.id, bj, prev, false);
  RETURN QUERY SELECT bj, ARRAY[p_host, p_old], false;
END $$;

-- ---------------------------------------------------------------- org webhooks

-- /api/orgs/:id/webhooks, the same shapes as /api/webhooks, receiving
-- the events of the org's event types. An org webhook has org_id set and no user (user_id
-- NULL), so every personal function's `user_id = p_user` leaves it out; the personal functions
-- gain a trailing p_org that, when given, addresses the org's webhooks instead, and the org
-- variants check the caller's role first (owners, admins, the org's keys).

ALTER TABLE webhooks ALTER COLUMN user_id DROP NOT NULL,
  ADD COLUMN org_id bigint REFERENCES orgs ON DELETE CASCADE,
  ADD CONSTRAINT webhooks_owner CHECK ((user_id IS NULL) <> (org_id IS NULL));
CREATE INDEX webhooks_org ON webhooks (org_id) WHERE org_id IS NOT NULL;
DROP TRIGGER webhooks_cap ON webhooks;
CREATE TRIGGER webhooks_cap BEFORE INSERT ON webhooks FOR EACH ROW WHEN (NEW.org_id IS NULL)
  EXECUTE FUNCTION api.cap_rows('user_id', '50', 'too many webhooks');
CREATE TRIGGER webhooks_org_cap BEFORE INSERT ON webhooks FOR EACH ROW WHEN (NEW.org_id IS NOT NULL)
  EXECUTE FUNCTION api.cap_org_rows('org_id', '50', 'too many webhooks');

CREATE FUNCTION api.webhook_owned(w webhooks, p_user bigint, p_org bigint) RETURNS boolean LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN p_org IS NULL THEN w.user_id = p_user AND w.org_id IS NULL ELSE w.org_id = p_org END $$;

DROP FUNCTION api.webhooks_list(bigint);
CREATE FUNCTION api.webhooks_list(p_user bigint, p_org bigint DEFAULT NULL) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(jsonb_agg(api.webhook_json(w) ORDER BY w.id), '[]') FROM webhooks w
  WHERE CASE WHEN p_org IS NULL THEN w.user_id = p_user ELSE w.org_id = p_org END
$$;

DROP FUNCTION api.webhook_create(bigint, text, text[], text);
CREATE FUNCTION api.webhook_create(p_user bigint, p_url text, p_events text[], p_secret text, p_org bigint DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE w webhooks;
BEGIN
  INSERT INTO webhooks (user_id, org_id, url, events, secret)
  VALUES (CASE WHEN p_org IS NULL THEN p_user END, p_org, p_url, p_events, p_secret) RETURNING * INTO w;
  RETURN api.webhook_json(w) || jsonb_build_object('secret', w.secret);  -- shown this once
END $$;

DROP FUNCTION api.webhook_update(bigint, bigint, jsonb);
CREATE FUNCTION api.webhook_update(p_user bigint, p_id bigint, p jsonb, p_org bigint DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE w webhooks;
BEGIN
  UPDATE webhooks x SET
    url = coalesce(p->>'url', x.url),
    events = coalesce((SELECT array_agg(e) FROM jsonb_array_elements_text(p->'events') e), x.events),
    secret = coalesce(p->>'secret', x.secret),
    is_active = coalesce((p->>'is_active')::boolean, x.is_active),
    updated_at = now()
  WHERE x.id = p_id AND api.webhook_owned(x, p_user, p_org) RETURNING * INTO w;
  IF w.id IS NULL THEN PERFORM api.fail(404, 'webhook not found'); END IF;
  RETURN api.webhook_json(w);
END $$;

DROP FUNCTION api.webhook_delete(bigint, bigint);
CREATE FUNCTION api.webhook_delete(p_user bigint, p_id bigint, p_org bigint DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM webhooks x WHERE x.id = p_id AND api.webhook_owned(x, p_user, p_org);
  IF NOT FOUND THEN PERFORM api.fail(404, 'webhook not found'); END IF;
  RETURN '{"ok": true}';
END $$;

DROP FUNCTION api.webhook_ping(bigint, bigint);
CREATE FUNCTION api.webhook_ping(p_user bigint, p_id bigint, p_org bigint DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  w webhooks;
  d webhook_deliveries;
BEGIN
  SELECT * INTO w FROM webhooks x WHERE x.id = p_id AND api.webhook_owned(x, p_user, p_org);
  IF w.id IS NULL THEN PERFORM api.fail(404, 'webhook not found'); END IF;
  INSERT INTO webhook_deliveries (webhook_id, event, payload)
  VALUES (w.id, 'ping', jsonb_build_object('event', 'ping', 'created_at', api.rfc3339(now()),
                                           'data', jsonb_build_object('webhook_id', w.id))::text)
  RETURNING * INTO d;
  PERFORM pg_notify('slotd_webhooks', '');
  RETURN jsonb_build_object('ok', true, 'delivery_id', d.id);
END $$;

DROP FUNCTION api.deliveries_list(bigint, bigint, integer, integer);
CREATE FUNCTION api.deliveries_list(p_user bigint, p_id bigint, p_limit integer, p_offset integer,
                                    p_org bigint DEFAULT NULL)
RETURNS TABLE (body jsonb, total bigint) LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = p_id AND api.webhook_owned(w, p_user, p_org)) THEN
    PERFORM api.fail(404, 'webhook not found');
  END IF;
  RETURN QUERY
  SELECT coalesce((SELECT jsonb_agg(api.delivery_json(d) ORDER BY d.id DESC)
                   FROM (SELECT * FROM webhook_deliveries x WHERE x.webhook_id = p_id
                         ORDER BY x.id DESC LIMIT p_limit OFFSET p_offset) d), '[]'),
         (SELECT count(*) FROM webhook_deliveries x WHERE x.webhook_id = p_id);
END $$;

DROP FUNCTION api.delivery_redeliver(bigint, bigint, bigint);
CREATE FUNCTION api.delivery_redeliver(p_user bigint, p_hook bigint, p_delivery bigint, p_org bigint DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE d webhook_deliveries;
BEGIN
  INSERT INTO webhook_deliveries (webhook_id, event_id, event, payload)
  SELECT o.webhook_id, o.event_id, o.event, o.payload FROM webhook_deliveries o JOIN webhooks w ON w.id = o.webhook_id
  WHERE o.id = p_delivery AND o.webhook_id = p_hook AND api.webhook_owned(w, p_user, p_org)
  RETURNING * INTO d;
  IF d.id IS NULL THEN PERFORM api.fail(404, 'delivery not found'); END IF;
  PERFORM pg_notify('slotd_webhooks', '');
  RETURN jsonb_build_object('ok', true, 'delivery_id', d.id);
END $$;

-- The org variants: (p_org, p_user, p_key_org, ...) as every org statement.
CREATE FUNCTION api.org_webhooks_list(p_org bigint, p_user bigint, p_key_org bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  RETURN api.webhooks_list(NULL, p_org);
END $$;
CREATE FUNCTION api.org_webhook_create(p_org bigint, p_user bigint, p_key_org bigint, p_url text, p_events text[],
                                       p_secret text) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  RETURN api.webhook_create(NULL, p_url, p_events, p_secret, p_org);
END $$;
CREATE FUNCTION api.org_webhook_update(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint, p jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  RETURN api.webhook_update(NULL, p_id, p, p_org);
END $$;
CREATE FUNCTION api.org_webhook_delete(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  RETURN api.webhook_delete(NULL, p_id, p_org);
END $$;
CREATE FUNCTION api.org_webhook_ping(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  RETURN api.webhook_ping(NULL, p_id, p_org);
END $$;
CREATE FUNCTION api.org_deliveries_list(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint, p_limit integer,
                                        p_offset integer) RETURNS TABLE (body jsonb, total bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  RETURN QUERY SELECT * FROM api.deliveries_list(NULL, p_id, p_limit, p_offset, p_org);
END $$;
CREATE FUNCTION api.org_delivery_redeliver(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint,
                                           p_delivery bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  RETURN api.delivery_redeliver(NULL, p_id, p_delivery, p_org);
END $$;

-- ---------------------------------------------------------------- emission

-- The event of a booking of an org type also goes to the org's webhooks (p_org_too: false for
-- the second of two events about one change, e.g. a reassignment's previous host).
DROP FUNCTION api.emit_json(bigint, text, bigint, jsonb, jsonb);
CREATE FUNCTION api.emit_json(p_host bigint, p_type text, p_booking bigint, bj jsonb, p_extra jsonb DEFAULT '{}',
                              p_org_too boolean DEFAULT true)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  ev events;
  org bigint;
BEGIN
  IF p_org_too THEN
    SELECT t.org_id INTO org FROM bookings b JOIN event_types t ON t.id = b.event_type_id WHERE b.id = p_booking;
  END IF;
  INSERT INTO events (host_id, type, booking_id, payload)
  VALUES (p_host, p_type, p_booking, jsonb_build_object('event', p_type, 'created_at', api.rfc3339(now()),
          'data', jsonb_build_object('booking', bj || p_extra || jsonb_build_object('event_type', bj->'event_name'))))
  RETURNING * INTO ev;
  INSERT INTO webhook_deliveries (webhook_id, event_id, event, payload)
  SELECT w.id, ev.id, p_type, ev.payload::text FROM webhooks w
  WHERE (w.user_id = p_host OR w.org_id = org) AND w.is_active AND p_type = ANY (w.events);
  IF FOUND THEN PERFORM pg_notify('slotd_webhooks', ''); END IF;
END $$;

-- booking_create's outbox statement: the org's webhooks too.
CREATE OR REPLACE FUNCTION api.booking_create(p_host bigint, p_version bigint, p_event_type bigint, p_start bigint, p_end bigint,
  p_status text, p_seats integer, p_seated boolean, p_name text, p_email text, p_timezone text, p_notes text,
  p_phone text, p_answers jsonb, p_number text, p_cancel_hash text, p_reschedule_hash text, p_confirm_hash text,
  p_reservation uuid, p_confirm_url text, p_decline_url text)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean)
LANGUAGE plpgsql AS $$
DECLARE
  b bookings;
  bj jsonb;
  ty text;
  org bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(p_host);
  UPDATE users u SET version = u.version + 1 WHERE u.id = p_host AND u.version = p_version;
  IF NOT FOUND THEN RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN; END IF;
  PERFORM set_config('slotd.bumped', p_host::text, true);
  IF p_reservation IS NOT NULL THEN
    DELETE FROM reservations r
    WHERE r.uid = p_reservation AND r.expires_at > now() AND r.host_id = p_host
      AND r.event_type_id = p_event_type AND r.start_at = to_timestamp(p_start);
    IF NOT FOUND THEN
      PERFORM api.fail(409, 'the reservation has expired or is for another time', 'reservation_uid');
    END IF;
  END IF;
  INSERT INTO bookings (host_id, event_type_id, start_at, end_at, status, seats, seated, invitee_name,
                        invitee_email, invitee_timezone, notes, phone, answers, confirmation_number,
                        cancel_token_hash, reschedule_token_hash, confirm_token_hash)
  VALUES (p_host, p_event_type, to_timestamp(p_start), to_timestamp(p_end), p_status, p_seats, p_seated, p_name,
          p_email, p_timezone, p_notes, p_phone, coalesce(p_answers, '{}'), p_number, p_cancel_hash,
          p_reschedule_hash, p_confirm_hash)
  ON CONFLICT (confirmation_number) DO NOTHING
  RETURNING * INTO b;
  IF b.id IS NULL THEN  -- a confirmation number collided: C reads and draws again
    PERFORM pg_notify('slotd_host', p_host::text);
    RETURN QUERY SELECT NULL::jsonb, NULL::bigint[], true; RETURN;
  END IF;
  SELECT api.booking_json_with(b, e), e.org_id INTO bj, org FROM event_types e WHERE e.id = b.event_type_id;
  ty := CASE WHEN b.status = 'pending' THEN 'booking.requested' ELSE 'booking.created' END;
  WITH ev AS (
    INSERT INTO events (host_id, type, booking_id, payload)
    VALUES (p_host, ty, b.id, jsonb_build_object('event', ty, 'created_at', api.rfc3339(now()),
            'data', jsonb_build_object('booking', bj || jsonb_build_object('event_type', bj->'event_name')
              || CASE WHEN b.status = 'pending' AND p_confirm_url IS NOT NULL THEN jsonb_build_object(
                   'confirm_url', p_confirm_url, 'decline_url', p_decline_url) ELSE '{}' END)))
    RETURNING id, payload)
  INSERT INTO webhook_deliveries (webhook_id, event_id, event, payload)
  SELECT w.id, ev.id, ty, ev.payload::text FROM ev, webhooks w
  WHERE (w.user_id = p_host OR w.org_id = org) AND w.is_active AND ty = ANY (w.events);
  IF FOUND THEN PERFORM pg_notify('slotd_webhooks', ''); END IF;
  PERFORM pg_notify('slotd_host', p_host::text);
  RETURN QUERY SELECT bj, ARRAY[p_host], false;
END $$;

