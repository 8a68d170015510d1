-- Performance (issue 11): lookups by slug and e-mail use their unique indexes.
--
-- booking_pages.slug and users.email are citext; compared with a text parameter, PostgreSQL
-- compares as text and cannot use the citext index, so every lookup read the whole table
-- (2.8 ms of PostgreSQL CPU per availability request at 100,000 hosts). The parameter is cast.

CREATE OR REPLACE FUNCTION api.login_lookup(p_email text) RETURNS TABLE (id bigint, password_hash text)
LANGUAGE sql STABLE AS $$ SELECT id, password_hash FROM users WHERE email = p_email::citext $$;

CREATE OR REPLACE FUNCTION api.public_page(p_slug text) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE b booking_pages;
BEGIN
  SELECT * INTO b FROM booking_pages WHERE slug = p_slug::citext;
  IF b.id IS NULL THEN PERFORM api.fail(404, 'booking page not found'); END IF;
  RETURN jsonb_build_object('slug', b.slug::text, 'display_name', b.display_name, 'bio', b.bio,
    'brand_color', b.brand_color, 'welcome_message', b.welcome_message,
    'event_types', coalesce((SELECT jsonb_agg(jsonb_build_object('name', e.name, 'slug', e.slug,
        'duration_minutes', e.duration_minutes, 'description', e.description, 'color', e.color,
        'location_type', e.location_type, 'requires_confirmation', e.requires_confirmation,
        'price', e.price, 'currency', e.currency, 'seats', e.seats) ORDER BY e.id)
      FROM event_types e WHERE e.user_id = b.user_id AND e.is_active AND NOT e.is_secret), '[]'::jsonb));
END $$;

-- The engine's inputs in two parts (DESIGN.md: host configuration cached per host version,
-- separately from busy time), so a miss on a new window reads only busy intervals:
--   * api.engine_config: the event type's settings, the schedule compiled on write, and the
--     buffers of every event type of the host (busy rows carry only their type's id). Cached by
--     each instance, keyed by event type id or slug pair, and valid while the host's
--     config_version is unchanged.
--   * the "engine_busy" statement (registered in C): one plain SELECT of the host's version,
--     config_version and the busy intervals of the window as parallel arrays. The versions come
--     from the same snapshot as the busy time: a cached configuration whose config_version no
--     longer matches is read again, and a booking's versioned write checks `version`.
-- config_version moves with schedules, event types and page slugs, not with bookings: a host's
-- configuration stays cached while it is being booked.

ALTER TABLE users ADD COLUMN config_version bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION api.host_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE h bigint;
BEGIN
  IF TG_TABLE_NAME IN ('bookings', 'reservations') THEN
    h := CASE WHEN TG_OP = 'DELETE' THEN OLD.host_id ELSE NEW.host_id END;
    UPDATE users SET version = version + 1 WHERE id = h;
  ELSE
    h := CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END;
    UPDATE users SET version = version + 1, config_version = config_version + 1 WHERE id = h;
  END IF;
  PERFORM pg_notify('slotd_host', h::text);
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION api.page_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE users SET config_version = config_version + 1 WHERE id = NEW.user_id;
  PERFORM pg_notify('slotd_host', NEW.user_id::text);
  RETURN NULL;
END $$;

CREATE FUNCTION api.engine_config(p_event_type bigint, p_slug text, p_event_slug text,
                                  p_include_secret boolean DEFAULT false)
RETURNS TABLE (host_id bigint, config_version bigint, event_type_id bigint, event_name text, duration integer,
               slot_interval integer, buffer_before integer, buffer_after integer, min_notice_hours integer,
               max_future_days integer, seats integer, limit_per_day integer, limit_per_week integer,
               requires_confirmation boolean, questions jsonb, schedule_timezone text, week_spans integer[],
               override_spans integer[], type_ids bigint[], type_buffer_before integer[],
               type_buffer_after integer[])
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
  e event_types;
  s availability_schedules;
BEGIN
  e := api.event_type_for(p_event_type, p_slug, p_event_slug, p_include_secret);
  s := api.schedule_for(e);
  RETURN QUERY
  SELECT e.user_id, u.config_version, e.id, e.name, e.duration_minutes,
         coalesce(e.slot_interval_minutes, e.duration_minutes), e.buffer_before, e.buffer_after, e.min_notice_hours,
         e.max_future_days, e.seats, e.limit_per_day, e.limit_per_week, e.requires_confirmation, e.questions,
         s.timezone, s.week_spans, s.override_spans,
         (SELECT array_agg(t.id ORDER BY t.id) FROM event_types t WHERE t.user_id = e.user_id),
         (SELECT array_agg(t.buffer_before * 60 ORDER BY t.id) FROM event_types t WHERE t.user_id = e.user_id),
         (SELECT array_agg(t.buffer_after * 60 ORDER BY t.id) FROM event_types t WHERE t.user_id = e.user_id)
  FROM users u WHERE u.id = e.user_id;
END $$;
