-- 0024_schedkit: SchedKit's /v1 dialect (issue 17, src/api/compat/schedkit.c). Bookings, event
-- types and their rules stay the native ones (the booking core, api.event_type_*, api.bookings_list);
-- these are only the look-ups SchedKit's paths need that the native API has no statement for.

-- The event type of a team path, /v1/book/:org_slug/:team_slug/:event_slug: an active event type
-- of the organisation with that slug whose team is the one named, or, for a type without a team
-- (its hosts listed one by one), any team of the organisation that hosts it. Unknown slugs are 404
-- in SchedKit's words (its server says "Org not found", "Team not found", "Event type not found").
CREATE FUNCTION api.schedkit_team_event_type(p_org text, p_team text, p_event text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
  o bigint;
  t bigint;
  e event_types;
BEGIN
  SELECT id INTO o FROM orgs WHERE slug = p_org;
  IF o IS NULL THEN PERFORM api.fail(404, 'Org not found'); END IF;
  SELECT id INTO t FROM teams WHERE org_id = o AND slug = p_team;
  IF t IS NULL THEN PERFORM api.fail(404, 'Team not found'); END IF;
  SELECT * INTO e FROM event_types WHERE org_id = o AND slug = p_event AND is_active;
  IF e.id IS NULL OR (e.team_id IS NOT NULL AND e.team_id <> t) THEN PERFORM api.fail(404, 'Event type not found'); END IF;
  RETURN e.id;
END $$;

-- SchedKit's four location types from slotd's five.
CREATE FUNCTION api.schedkit_location(p text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE p WHEN 'google_meet' THEN 'video' WHEN 'zoom' THEN 'video' WHEN 'phone' THEN 'phone'
                WHEN 'in_person' THEN 'in_person' WHEN 'custom' THEN 'other' END
$$;

-- What GET /v1/slots says of the event type the engine has just read (by its id).
CREATE FUNCTION api.schedkit_slots_event_type(p_id bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('title', e.name, 'duration_minutes', e.duration_minutes, 'description', e.description,
                            'location_type', api.schedkit_location(e.location_type), 'location', e.location_value)
  FROM event_types e WHERE e.id = p_id
$$;

-- GET /v1/auth/me: the account with its booking-page slug (SchedKit's username).
CREATE FUNCTION api.schedkit_me(p_user bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', u.id, 'email', u.email::text, 'name', u.name, 'slug', p.slug::text,
                            'timezone', u.timezone, 'created_at', api.rfc3339(u.created_at))
  FROM users u LEFT JOIN booking_pages p ON p.user_id = u.id WHERE u.id = p_user
$$;
