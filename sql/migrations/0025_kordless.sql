-- 0025_kordless: Kordless's public Booking API (issue 17), read-only views over the native tables.
--
-- A Kordless "organization" is a slotd organisation (its services: its listed event types) or a
-- booking page (a one-host organisation of that user's listed event types); both are addressed
-- by their slug, which share one namespace (0010_orgs.sql). The caller's key must belong to the
-- organisation in the request: an org API key to its org, a personal credential to its owner's
-- own booking page; anything else is 403 (the slugs themselves are public: /api/public/:slug).
-- Nothing here writes: bookings go through the native core (book.h) from C.

-- The organisation a slug names, checked against the caller: (kind 'org' | 'page', org id, page
-- owner, timezone, the Kordless organization object). 404 for no such slug, 403 for a key of
-- someone else.
CREATE FUNCTION api.kordless_scope(p_slug text, p_user bigint, p_key_org bigint,
  OUT kind text, OUT org_id bigint, OUT owner_id bigint, OUT timezone text, OUT organization jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  b booking_pages;
  o orgs;
  u users;
BEGIN
  SELECT * INTO b FROM booking_pages WHERE slug = p_slug::citext;
  IF b.id IS NOT NULL THEN
    IF p_key_org IS NOT NULL OR p_user IS DISTINCT FROM b.user_id THEN
      PERFORM api.fail(403, 'API key doesn''t match the organization');
    END IF;
    SELECT * INTO u FROM users WHERE id = b.user_id;
    kind := 'page';
    owner_id := b.user_id;
    timezone := coalesce((SELECT s.timezone FROM availability_schedules s WHERE s.user_id = b.user_id AND s.is_default
                          ORDER BY s.id LIMIT 1), u.timezone);
    organization := jsonb_build_object('id', 'page_' || b.id, 'name', b.display_name, 'slug', b.slug::text,
      'tagline', b.bio, 'branding', jsonb_build_object('primaryColor', b.brand_color, 'logo', u.avatar_url,
      'companyName', b.display_name));
    RETURN;
  END IF;
  SELECT * INTO o FROM orgs WHERE slug = p_slug::citext;
  IF o.id IS NULL THEN PERFORM api.fail(404, 'Organization not found'); END IF;
  IF p_key_org IS DISTINCT FROM o.id THEN PERFORM api.fail(403, 'API key doesn''t match the organization'); END IF;
  kind := 'org';
  org_id := o.id;
  timezone := o.timezone;
  organization := jsonb_build_object('id', 'org_' || o.id, 'name', o.name, 'slug', o.slug::text, 'tagline', NULL,
    'branding', jsonb_build_object('primaryColor', NULL, 'logo', NULL, 'companyName', o.name));
END $$;

-- A listed event type as a Kordless service. category: its team's name (org types), else null;
-- metadata: what slotd knows beyond Kordless's fields (its id, lengths, seats, scheduling).
CREATE FUNCTION api.kordless_service_json(e event_types) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('key', e.slug, 'name', e.name, 'slug', e.slug, 'description', e.description,
    'category', (SELECT t.name FROM teams t WHERE t.id = e.team_id), 'duration', e.duration_minutes,
    'price', e.price, 'currency', e.currency, 'isBookablePublic', true,
    'metadata', jsonb_strip_nulls(jsonb_build_object('eventTypeId', e.id,
      'durations', CASE WHEN cardinality(e.durations) > 1 THEN to_jsonb(e.durations) END, 'seats', e.seats,
      'scheduling', e.scheduling, 'requiresConfirmation', e.requires_confirmation)))
$$;

-- slotd's location kinds in Kordless's words (onsite | phone | meet_url | custom), or null.
CREATE FUNCTION api.kordless_location(p_type text, p_value text) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_type IS NULL THEN NULL ELSE jsonb_build_object('type',
    CASE p_type WHEN 'in_person' THEN 'onsite' WHEN 'phone' THEN 'phone' WHEN 'custom' THEN 'custom'
                ELSE 'meet_url' END, 'value', p_value) END
$$;

-- GET /public/org/:org_slug
CREATE FUNCTION api.kordless_org(p_slug text, p_user bigint, p_key_org bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE s record;
BEGIN
  SELECT * INTO s FROM api.kordless_scope(p_slug, p_user, p_key_org);
  RETURN jsonb_build_object('organization', s.organization,
    'services', coalesce((SELECT jsonb_agg(api.kordless_service_json(e) ORDER BY e.id) FROM event_types e
                          WHERE e.is_active AND NOT e.is_secret
                            AND (CASE WHEN s.kind = 'org' THEN e.org_id = s.org_id ELSE e.user_id = s.owner_id END)),
                         '[]'::jsonb));
END $$;

-- One service of an organisation: its id, the body of GET /public/org/:org_slug/service/:slug,
-- and what the availability and booking handlers need (meta: the organisation's slug and name,
-- the service's slug, capacity and timezone, its team, and the page owner as its host).
CREATE FUNCTION api.kordless_service(p_slug text, p_service text, p_user bigint, p_key_org bigint,
  OUT event_type_id bigint, OUT body jsonb, OUT meta jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  s record;
  e event_types;
  tz text;
BEGIN
  SELECT * INTO s FROM api.kordless_scope(p_slug, p_user, p_key_org);
  SELECT * INTO e FROM event_types t WHERE t.is_active AND NOT t.is_secret AND t.slug = p_service
    AND (CASE WHEN s.kind = 'org' THEN t.org_id = s.org_id ELSE t.user_id = s.owner_id END);
  IF e.id IS NULL THEN PERFORM api.fail(404, 'Service not found'); END IF;
  tz := CASE WHEN s.kind = 'org' THEN s.timezone
             ELSE coalesce((SELECT a.timezone FROM availability_schedules a WHERE a.id = e.schedule_id), s.timezone) END;
  event_type_id := e.id;
  body := jsonb_build_object('organization', s.organization, 'service', api.kordless_service_json(e),
    'calendarSettings', jsonb_build_object('duration_minutes', e.duration_minutes,
      'slot_interval_minutes', coalesce(e.slot_interval_minutes, e.duration_minutes),
      'buffer_before', e.buffer_before, 'buffer_after', e.buffer_after, 'booking_window_days', e.max_future_days,
      'timezone', tz, 'location', api.kordless_location(e.location_type, e.location_value),
      'max_parallel_bookings', e.seats,
      -- slotd asks no notice for an invitee's cancellation: its policy is the absence of one
      'cancellation_policy', jsonb_build_object('noticeHours', 0, 'policyText', NULL)));
  meta := jsonb_build_object('org_slug', s.organization->>'slug', 'org_name', s.organization->>'name',
    'service_slug', e.slug, 'service_name', e.name, 'seats', e.seats, 'timezone', tz, 'scheduling', e.scheduling,
    'team', (SELECT jsonb_build_object('id', t.id::text, 'name', t.name, 'slug', t.slug::text) FROM teams t
             WHERE t.id = e.team_id),
    'host', (SELECT jsonb_build_object('id', u.id::text, 'displayName', u.name) FROM users u WHERE u.id = e.user_id));
END $$;

-- Self-service by confirmation number and contact: the native look-up (api.booking_id_for_number:
-- an unknown number and a wrong contact are the same 404), plus the booking's organisation and
-- service as Kordless names them.
CREATE FUNCTION api.kordless_number(p_number text, p_contact text, p_change boolean,
  OUT booking_id bigint, OUT meta jsonb)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  booking_id := api.booking_id_for_number(p_number, p_contact, p_change);
  SELECT jsonb_build_object('org_slug', coalesce(o.slug::text, p.slug::text), 'org_name', coalesce(o.name, p.display_name),
                            'service_slug', e.slug, 'minutes', (extract(epoch FROM b.end_at - b.start_at) / 60)::int)
    INTO meta
  FROM bookings b JOIN event_types e ON e.id = b.event_type_id
    LEFT JOIN orgs o ON o.id = e.org_id LEFT JOIN booking_pages p ON p.user_id = e.user_id
  WHERE b.id = booking_id;
END $$;
