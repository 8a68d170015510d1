-- Scheduling core (issue 4): event types, the tables busy time comes from (bookings and
-- reservations; the booking issue adds their remaining columns), a per-host version bumped by
-- every change that can alter availability (with NOTIFY slotd_host so every instance drops its
-- cached results), and the single query the slot engine reads.

CREATE TABLE event_types (
  id                    bigserial PRIMARY KEY,
  user_id               bigint NOT NULL REFERENCES users ON DELETE CASCADE,
  name                  text NOT NULL,
  slug                  text NOT NULL,
  duration_minutes      integer NOT NULL DEFAULT 30 CHECK (duration_minutes BETWEEN 5 AND 720),
  description           text,
  color                 text NOT NULL DEFAULT '#0069ff',
  location_type         text CHECK (location_type IN ('google_meet', 'zoom', 'phone', 'in_person', 'custom')),
  location_value        text,
  questions             jsonb NOT NULL DEFAULT '[]',
  is_secret             boolean NOT NULL DEFAULT false,
  requires_confirmation boolean NOT NULL DEFAULT false,
  buffer_before         integer NOT NULL DEFAULT 0 CHECK (buffer_before BETWEEN 0 AND 720),
  buffer_after          integer NOT NULL DEFAULT 0 CHECK (buffer_after BETWEEN 0 AND 720),
  min_notice_hours      integer NOT NULL DEFAULT 4 CHECK (min_notice_hours BETWEEN 0 AND 8760),
  max_future_days       integer NOT NULL DEFAULT 60 CHECK (max_future_days BETWEEN 1 AND 3650),
  slot_interval_minutes integer CHECK (slot_interval_minutes BETWEEN 5 AND 720),   -- NULL: the duration
  schedule_id           bigint REFERENCES availability_schedules ON DELETE SET NULL, -- NULL: the default
  price                 numeric(12, 2) CHECK (price >= 0),
  currency              text,
  seats                 integer NOT NULL DEFAULT 1 CHECK (seats BETWEEN 1 AND 1000),
  limit_per_day         integer CHECK (limit_per_day >= 1),
  limit_per_week        integer CHECK (limit_per_week >= 1),
  is_active             boolean NOT NULL DEFAULT true,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX event_types_slug ON event_types (user_id, slug) WHERE is_active;
CREATE INDEX event_types_user ON event_types (user_id);

CREATE TABLE bookings (
  id               bigserial PRIMARY KEY,
  uid              uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  host_id          bigint NOT NULL REFERENCES users ON DELETE CASCADE,
  event_type_id    bigint NOT NULL REFERENCES event_types,
  start_at         timestamptz NOT NULL,
  end_at           timestamptz NOT NULL CHECK (end_at > start_at),
  status           text NOT NULL CHECK (status IN ('pending', 'confirmed', 'cancelled', 'declined')),
  seats            integer NOT NULL DEFAULT 1 CHECK (seats >= 1),
  invitee_name     text NOT NULL,
  invitee_email    text NOT NULL,
  invitee_timezone text NOT NULL DEFAULT 'UTC',
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bookings_host_active ON bookings (host_id, start_at) WHERE status IN ('pending', 'confirmed');
CREATE INDEX bookings_event_type ON bookings (event_type_id);

CREATE TABLE reservations (
  id            bigserial PRIMARY KEY,
  uid           uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  host_id       bigint NOT NULL REFERENCES users ON DELETE CASCADE,
  event_type_id bigint NOT NULL REFERENCES event_types,
  start_at      timestamptz NOT NULL,
  end_at        timestamptz NOT NULL CHECK (end_at > start_at),
  expires_at    timestamptz NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reservations_host ON reservations (host_id, start_at);

-- Any change that can alter a host's availability bumps users.version and tells every
-- instance (payload: the host id) to drop that host's cached availability.
CREATE FUNCTION api.host_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE h bigint;
BEGIN
  IF TG_TABLE_NAME IN ('bookings', 'reservations') THEN
    h := CASE WHEN TG_OP = 'DELETE' THEN OLD.host_id ELSE NEW.host_id END;
  ELSE
    h := CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END;
  END IF;
  UPDATE users SET version = version + 1 WHERE id = h;
  PERFORM pg_notify('slotd_host', h::text);
  RETURN NULL;
END $$;

CREATE TRIGGER bookings_host_changed AFTER INSERT OR UPDATE OR DELETE ON bookings
  FOR EACH ROW EXECUTE FUNCTION api.host_changed();
CREATE TRIGGER reservations_host_changed AFTER INSERT OR UPDATE OR DELETE ON reservations
  FOR EACH ROW EXECUTE FUNCTION api.host_changed();
CREATE TRIGGER event_types_host_changed AFTER INSERT OR UPDATE OR DELETE ON event_types
  FOR EACH ROW EXECUTE FUNCTION api.host_changed();
CREATE TRIGGER schedules_host_changed AFTER INSERT OR UPDATE OR DELETE ON availability_schedules
  FOR EACH ROW EXECUTE FUNCTION api.host_changed();

-- Cached availability is keyed by the page's slug: a new slug must drop it (no version bump:
-- the host's bookable times did not change).
CREATE FUNCTION api.page_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('slotd_host', NEW.user_id::text);
  RETURN NULL;
END $$;
CREATE TRIGGER booking_pages_slug_changed AFTER UPDATE OF slug ON booking_pages
  FOR EACH ROW WHEN (OLD.slug IS DISTINCT FROM NEW.slug) EXECUTE FUNCTION api.page_changed();

-- ---------------------------------------------------------------- event types
-- Writes that change what a host offers add "_host": <id> to their result: the instance that
-- made the change forgets that host's cached availability before it answers (C strips the
-- key); NOTIFY slotd_host tells the other instances.

CREATE FUNCTION api.event_type_json(e event_types) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', e.id, 'name', e.name, 'slug', e.slug, 'duration_minutes', e.duration_minutes,
    'description', e.description, 'color', e.color, 'location_type', e.location_type,
    'location_value', e.location_value, 'questions', e.questions, 'is_secret', e.is_secret,
    'requires_confirmation', e.requires_confirmation, 'buffer_before', e.buffer_before,
    'buffer_after', e.buffer_after, 'min_notice_hours', e.min_notice_hours,
    'max_future_days', e.max_future_days,
    'slot_interval_minutes', coalesce(e.slot_interval_minutes, e.duration_minutes),
    'schedule_id', e.schedule_id, 'price', e.price, 'currency', e.currency, 'seats', e.seats,
    'limit_per_day', e.limit_per_day, 'limit_per_week', e.limit_per_week,
    'is_active', CASE WHEN e.is_active THEN 1 ELSE 0 END,
    'created_at', api.ts(e.created_at), 'created_at_rfc3339', api.rfc3339(e.created_at))
$$;

CREATE FUNCTION api.event_types_list(p_user bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(jsonb_agg(api.event_type_json(e) ORDER BY e.id), '[]')
  FROM event_types e WHERE e.user_id = p_user AND e.is_active
$$;

CREATE FUNCTION api.event_type_get(p_user bigint, p_id bigint) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE e event_types;
BEGIN
  SELECT * INTO e FROM event_types WHERE id = p_id AND user_id = p_user AND is_active;
  IF e.id IS NULL THEN PERFORM api.fail(404, 'event type not found'); END IF;
  RETURN api.event_type_json(e);
END $$;

-- Shared by create and update: p is the validated patch (only given fields).
CREATE FUNCTION api.event_type_apply(e event_types, p jsonb) RETURNS event_types LANGUAGE plpgsql AS $$
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
  RETURN e;
END $$;

CREATE FUNCTION api.event_type_create(p_user bigint, p jsonb, p_slug_base text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  e event_types;
  n integer := 1;
BEGIN
  e.user_id := p_user;
  e := api.event_type_apply(e, p);
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
  IF (SELECT count(*) FROM event_types WHERE user_id = p_user AND is_active) >= 500 THEN
    PERFORM api.fail(409, 'too many event types');
  END IF;
  IF e.slug IS NOT NULL THEN
    IF EXISTS (SELECT 1 FROM event_types WHERE user_id = p_user AND slug = e.slug AND is_active) THEN
      PERFORM api.fail(409, 'you already have an event type with this slug', 'slug');
    END IF;
  ELSE
    LOOP  -- from the name, made unique with a suffix
      e.slug := CASE WHEN n = 1 THEN p_slug_base ELSE p_slug_base || '-' || n END;
      EXIT WHEN NOT EXISTS (SELECT 1 FROM event_types WHERE user_id = p_user AND slug = e.slug AND is_active);
      n := n + 1;
    END LOOP;
  END IF;
  INSERT INTO event_types SELECT e.*;
  RETURN api.event_type_json(e) || jsonb_build_object('_host', p_user);
EXCEPTION WHEN unique_violation THEN
  PERFORM api.fail(409, 'you already have an event type with this slug', 'slug');
  RETURN NULL;
END $$;

CREATE FUNCTION api.event_type_update(p_user bigint, p_id bigint, p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE e event_types;
BEGIN
  SELECT * INTO e FROM event_types WHERE id = p_id AND user_id = p_user AND is_active FOR UPDATE;
  IF e.id IS NULL THEN PERFORM api.fail(404, 'event type not found'); END IF;
  e := api.event_type_apply(e, p);
  e.updated_at := now();
  UPDATE event_types SET (name, slug, duration_minutes, description, color, location_type, location_value,
      questions, is_secret, requires_confirmation, buffer_before, buffer_after, min_notice_hours,
      max_future_days, slot_interval_minutes, schedule_id, price, currency, seats, limit_per_day,
      limit_per_week, updated_at)
    = (e.name, e.slug, e.duration_minutes, e.description, e.color, e.location_type, e.location_value,
      e.questions, e.is_secret, e.requires_confirmation, e.buffer_before, e.buffer_after, e.min_notice_hours,
      e.max_future_days, e.slot_interval_minutes, e.schedule_id, e.price, e.currency, e.seats, e.limit_per_day,
      e.limit_per_week, e.updated_at)
  WHERE id = p_id;
  RETURN api.event_type_json(e) || jsonb_build_object('_host', p_user);
EXCEPTION WHEN unique_violation THEN
  PERFORM api.fail(409, 'you already have an event type with this slug', 'slug');
  RETURN NULL;
END $$;

CREATE FUNCTION api.event_type_delete(p_user bigint, p_id bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  UPDATE event_types SET is_active = false, updated_at = now()
  WHERE id = p_id AND user_id = p_user AND is_active;
  IF NOT FOUND THEN PERFORM api.fail(404, 'event type not found'); END IF;
  RETURN jsonb_build_object('ok', true, '_host', p_user);
END $$;

-- ---------------------------------------------------------------- schedules

CREATE FUNCTION api.schedule_json(s availability_schedules) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', s.id, 'name', s.name, 'timezone', s.timezone, 'rules', s.rules,
                            'overrides', s.overrides, 'is_default', CASE WHEN s.is_default THEN 1 ELSE 0 END,
                            'created_at', api.ts(s.created_at), 'created_at_rfc3339', api.rfc3339(s.created_at))
$$;

CREATE FUNCTION api.schedules_list(p_user bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(jsonb_agg(api.schedule_json(s) ORDER BY s.id), '[]')
  FROM availability_schedules s WHERE s.user_id = p_user
$$;

CREATE FUNCTION api.schedule_get(p_user bigint, p_id bigint) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE s availability_schedules;
BEGIN
  SELECT * INTO s FROM availability_schedules WHERE id = p_id AND user_id = p_user;
  IF s.id IS NULL THEN PERFORM api.fail(404, 'schedule not found'); END IF;
  RETURN api.schedule_json(s);
END $$;

-- p: validated name, timezone, rules, overrides, is_default (only given fields).
CREATE FUNCTION api.schedule_save(p_user bigint, p_id bigint, p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE s availability_schedules;
BEGIN
  PERFORM 1 FROM users WHERE id = p_user FOR UPDATE;  -- one writer per user: "exactly one default"
  IF p_id IS NULL THEN
    IF (SELECT count(*) FROM availability_schedules WHERE user_id = p_user) >= 100 THEN
      PERFORM api.fail(409, 'too many schedules');
    END IF;
    INSERT INTO availability_schedules (user_id, name, timezone, rules, overrides, is_default)
    VALUES (p_user, p->>'name', coalesce(p->>'timezone', 'America/Los_Angeles'), coalesce(p->'rules', '[]'),
            coalesce(p->'overrides', '[]'), false)
    RETURNING * INTO s;
    -- the first schedule is the default; asking for default moves it here
    IF coalesce((p->>'is_default')::boolean, false)
       OR NOT EXISTS (SELECT 1 FROM availability_schedules WHERE user_id = p_user AND is_default) THEN
      UPDATE availability_schedules SET is_default = false WHERE user_id = p_user AND is_default;
      UPDATE availability_schedules SET is_default = true WHERE id = s.id RETURNING * INTO s;
    END IF;
  ELSE
    SELECT * INTO s FROM availability_schedules WHERE id = p_id AND user_id = p_user;
    IF s.id IS NULL THEN PERFORM api.fail(404, 'schedule not found'); END IF;
    IF p ? 'is_default' AND NOT (p->>'is_default')::boolean AND s.is_default THEN
      PERFORM api.fail(409, 'a user always has one default schedule: make another one the default instead',
                       'is_default');
    END IF;
    IF coalesce((p->>'is_default')::boolean, false) AND NOT s.is_default THEN
      UPDATE availability_schedules SET is_default = false WHERE user_id = p_user AND is_default;
    END IF;
    UPDATE availability_schedules SET
      name = coalesce(p->>'name', name),
      timezone = coalesce(p->>'timezone', timezone),
      rules = coalesce(p->'rules', rules),
      overrides = coalesce(p->'overrides', overrides),
      is_default = is_default OR coalesce((p->>'is_default')::boolean, false),
      updated_at = now()
    WHERE id = p_id RETURNING * INTO s;
  END IF;
  RETURN api.schedule_json(s) || jsonb_build_object('_host', p_user);
END $$;

CREATE FUNCTION api.schedule_delete(p_user bigint, p_id bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE s availability_schedules;
BEGIN
  PERFORM 1 FROM users WHERE id = p_user FOR UPDATE;
  SELECT * INTO s FROM availability_schedules WHERE id = p_id AND user_id = p_user;
  IF s.id IS NULL THEN PERFORM api.fail(404, 'schedule not found'); END IF;
  IF s.is_default THEN
    IF NOT EXISTS (SELECT 1 FROM availability_schedules WHERE user_id = p_user AND id <> p_id) THEN
      PERFORM api.fail(409, 'the only schedule cannot be deleted');
    END IF;
    -- the oldest remaining schedule becomes the default
    DELETE FROM availability_schedules WHERE id = p_id;
    UPDATE availability_schedules SET is_default = true
    WHERE id = (SELECT min(id) FROM availability_schedules WHERE user_id = p_user);
  ELSE
    DELETE FROM availability_schedules WHERE id = p_id;
  END IF;
  RETURN jsonb_build_object('ok', true, '_host', p_user);
END $$;

-- ---------------------------------------------------------------- availability

-- Everything the slot engine needs for one event type and window, in one round trip.
-- busy rows: [start, end, buffer_before_s, buffer_after_s, event_type_id, ref, seats, kind(1 booking, 2 hold),
-- pending(0/1)].
CREATE FUNCTION api.availability_data(p_slug text, p_event_slug text, p_from timestamptz, p_to timestamptz,
                                      p_exclude_reservation uuid DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  b booking_pages;
  e event_types;
  s availability_schedules;
  lo timestamptz;
  hi timestamptz;
  v bigint;
BEGIN
  SELECT * INTO b FROM booking_pages WHERE slug = p_slug;
  IF b.id IS NULL THEN PERFORM api.fail(404, 'booking page not found'); END IF;
  SELECT * INTO e FROM event_types WHERE user_id = b.user_id AND slug = p_event_slug AND is_active;
  IF e.id IS NULL THEN PERFORM api.fail(404, 'event type not found'); END IF;
  SELECT * INTO s FROM availability_schedules
  WHERE user_id = b.user_id AND (id = e.schedule_id OR (e.schedule_id IS NULL AND is_default));
  SELECT version INTO v FROM users WHERE id = b.user_id;
  -- Busy time that can touch a slot starting in the window: a slot lasts at most 12 h and each
  -- side's buffer adds at most 12 h, so 37 h either way; with limits, whole weeks around it are
  -- needed to count bookings per day and week.
  IF e.limit_per_day IS NOT NULL OR e.limit_per_week IS NOT NULL THEN
    lo := p_from - interval '9 days'; hi := p_to + interval '9 days';
  ELSE
    lo := p_from - interval '37 hours'; hi := p_to + interval '37 hours';
  END IF;
  RETURN jsonb_build_object(
    'host_id', b.user_id, 'version', v,
    'event', jsonb_build_object('id', e.id, 'name', e.name, 'duration', e.duration_minutes,
             'interval', coalesce(e.slot_interval_minutes, e.duration_minutes),
             'buffer_before', e.buffer_before, 'buffer_after', e.buffer_after,
             'min_notice_hours', e.min_notice_hours, 'max_future_days', e.max_future_days,
             'seats', e.seats, 'limit_per_day', e.limit_per_day, 'limit_per_week', e.limit_per_week,
             'requires_confirmation', e.requires_confirmation, 'questions', e.questions),
    'schedule', CASE WHEN s.id IS NULL THEN NULL ELSE
                jsonb_build_object('id', s.id, 'timezone', s.timezone, 'rules', s.rules, 'overrides', s.overrides) END,
    'busy', coalesce((
      SELECT jsonb_agg(jsonb_build_array(extract(epoch FROM x.start_at)::bigint, extract(epoch FROM x.end_at)::bigint,
                                         x.bb * 60, x.ba * 60, x.event_type_id, x.ref, x.seats, x.kind, x.pending))
      FROM (
        SELECT k.start_at, k.end_at, t.buffer_before AS bb, t.buffer_after AS ba, k.event_type_id, k.id AS ref,
               k.seats, 1 AS kind, (k.status = 'pending')::int AS pending
        FROM bookings k JOIN event_types t ON t.id = k.event_type_id
        WHERE k.host_id = b.user_id AND k.status IN ('pending', 'confirmed') AND k.start_at < hi AND k.end_at > lo
        UNION ALL
        SELECT r.start_at, r.end_at, t.buffer_before, t.buffer_after, r.event_type_id, r.id, 1, 2, 0
        FROM reservations r JOIN event_types t ON t.id = r.event_type_id
        WHERE r.host_id = b.user_id AND r.expires_at > now() AND r.start_at < hi AND r.end_at > lo
          AND r.uid IS DISTINCT FROM p_exclude_reservation
      ) x), '[]'::jsonb),
    'next_expiry', (SELECT extract(epoch FROM min(r.expires_at))::bigint FROM reservations r
                    WHERE r.host_id = b.user_id AND r.expires_at > now() AND r.start_at < hi AND r.end_at > lo));
END $$;

-- The public page now lists the host's active, non-secret event types.
CREATE OR REPLACE FUNCTION api.public_page(p_slug text) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE b booking_pages;
BEGIN
  SELECT * INTO b FROM booking_pages WHERE slug = p_slug;
  IF b.id IS NULL THEN PERFORM api.fail(404, 'booking page not found'); END IF;
  RETURN jsonb_build_object('slug', b.slug::text, 'display_name', b.display_name, 'bio', b.bio,
    'brand_color', b.brand_color, 'welcome_message', b.welcome_message,
    'event_types', coalesce((SELECT jsonb_agg(jsonb_build_object('name', e.name, 'slug', e.slug,
        'duration_minutes', e.duration_minutes, 'description', e.description, 'color', e.color,
        'location_type', e.location_type, 'requires_confirmation', e.requires_confirmation,
        'price', e.price, 'currency', e.currency, 'seats', e.seats) ORDER BY e.id)
      FROM event_types e WHERE e.user_id = b.user_id AND e.is_active AND NOT e.is_secret), '[]'::jsonb));
END $$;
