-- 0028: the hosted booking pages (issue 19). What an event type's public page shows is one
-- function, api.public_event_type_json, used by the page listing (GET /api/public/:slug, which
-- gains the event types' ids, lengths and questions) and by the new single-event read
-- (GET /api/public/:slug/:event_slug, which also answers for secret types: the link is the key).
-- Nothing here is private: it is what an invitee needs to fill the booking form.

CREATE OR REPLACE FUNCTION api.public_event_type_json(e event_types) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', e.id, 'name', e.name, 'slug', e.slug,
      'duration_minutes', e.duration_minutes, 'durations', to_jsonb(e.durations), 'description', e.description,
      'color', e.color, 'location_type', e.location_type, 'requires_confirmation', e.requires_confirmation,
      'price', e.price, 'currency', e.currency, 'seats', e.seats, 'recurrence', e.recurrence,
      'questions', coalesce(e.questions, '[]'::jsonb))
  || CASE WHEN e.org_id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('scheduling', e.scheduling,
      'hosts', coalesce((SELECT jsonb_agg(jsonb_build_object('id', u.id, 'name', u.name) ORDER BY u.id)
                         FROM event_type_hosts h JOIN users u ON u.id = h.user_id WHERE h.event_type_id = e.id),
                        '[]'::jsonb)) END
$$;

-- The page itself without its event types: a person's or an org's.
CREATE OR REPLACE FUNCTION api.public_page_head(p_slug text, OUT head jsonb, OUT user_id bigint, OUT org_id bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  b booking_pages;
  o orgs;
BEGIN
  SELECT * INTO b FROM booking_pages WHERE slug = p_slug::citext;
  IF b.id IS NOT NULL THEN
    head := jsonb_build_object('slug', b.slug::text, 'display_name', b.display_name, 'bio', b.bio,
      'brand_color', b.brand_color, 'welcome_message', b.welcome_message);
    user_id := b.user_id;
    RETURN;
  END IF;
  SELECT * INTO o FROM orgs WHERE slug = p_slug::citext;
  IF o.id IS NULL THEN PERFORM api.fail(404, 'booking page not found'); END IF;
  head := jsonb_build_object('slug', o.slug::text, 'display_name', o.name, 'kind', 'org', 'timezone', o.timezone);
  org_id := o.id;
END $$;

CREATE OR REPLACE FUNCTION api.public_page(p_slug text) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT h.head || jsonb_build_object('event_types', coalesce((
      SELECT jsonb_agg(api.public_event_type_json(e) ORDER BY e.id) FROM event_types e
      WHERE (CASE WHEN h.user_id IS NOT NULL THEN e.user_id = h.user_id ELSE e.org_id = h.org_id END)
        AND e.is_active AND NOT e.is_secret), '[]'::jsonb))
  FROM api.public_page_head(p_slug) h
$$;

CREATE OR REPLACE FUNCTION api.public_event_page(p_slug text, p_event_slug text) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  h record;
  e event_types;
BEGIN
  SELECT * INTO h FROM api.public_page_head(p_slug);
  SELECT * INTO e FROM event_types x
  WHERE (CASE WHEN h.user_id IS NOT NULL THEN x.user_id = h.user_id ELSE x.org_id = h.org_id END)
    AND x.slug = p_event_slug AND x.is_active;
  IF e.id IS NULL THEN PERFORM api.fail(404, 'event type not found'); END IF;
  RETURN jsonb_build_object('page', h.head, 'event_type', api.public_event_type_json(e));
END $$;
