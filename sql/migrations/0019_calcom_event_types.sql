-- 0019_calcom_event_types: Cal.com API v2 event types (2024-06-14) and schedules (2024-06-11),
-- issue 16. Every write goes through the native functions (api.event_type_create/update/delete,
-- api.schedule_save/delete), so their rules stay in one place; this file only adds what Cal.com
-- has and slotd does not: the Cal.com-only settings of an event type, kept in event_types.calcom,
-- and the JSON Cal.com clients read.
--
-- event_types.calcom (NULL: the type was never written through /v2):
--   extras        Cal.com settings slotd stores and returns but does not act on (README), by
--                 their Cal.com names;
--   locations     the Cal.com locations as given (the first one is location_type/value), and
--   locationsNative [location_type, location_value] when they were given: a native change of
--                 the location since makes the output follow the native columns again;
--   customFields  the custom booking fields in Cal.com's output form, and questionsNative the
--                 native questions they were made into (the same rule as for locations);
--   defaultFields labels and placeholders given for Cal.com's default fields (name, email...);
--   windowDisabled no booking window (max_future_days is then its maximum, 3650);
--   seatsMeta     {showAttendeeInfo, showAvailabilityCount} of a seated type.
-- Nullable on purpose: the native create inserts a whole event_types record, which carries NULL
-- for a column it does not know.
ALTER TABLE event_types ADD COLUMN calcom jsonb;

-- Cal.com's location objects for the native location of a type not (or no longer) described by
-- stored Cal.com locations.
CREATE FUNCTION api.calcom_locations(e event_types) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN e.calcom->'locations' IS NOT NULL
         AND e.calcom->'locationsNative' = jsonb_build_array(e.location_type, e.location_value)
      THEN e.calcom->'locations'
    WHEN e.location_type IS NULL THEN '[]'::jsonb
    ELSE jsonb_build_array(CASE
      WHEN e.location_type = 'google_meet' THEN jsonb_build_object('type', 'integration', 'integration', 'google-meet')
      WHEN e.location_type = 'zoom' THEN jsonb_build_object('type', 'integration', 'integration', 'zoom')
      WHEN e.location_type = 'phone' AND e.location_value IS NULL THEN jsonb_build_object('type', 'attendeePhone')
      WHEN e.location_type = 'phone' THEN jsonb_build_object('type', 'phone', 'phone', e.location_value, 'public', true)
      WHEN e.location_type = 'in_person' AND e.location_value IS NULL THEN jsonb_build_object('type', 'attendeeAddress')
      WHEN e.location_type = 'in_person'
        THEN jsonb_build_object('type', 'address', 'address', e.location_value, 'public', true)
      WHEN e.location_value IS NULL THEN jsonb_build_object('type', 'attendeeDefined')
      WHEN e.location_value ~ '^https?://' THEN jsonb_build_object('type', 'link', 'link', e.location_value, 'public', true)
      ELSE jsonb_build_object('type', 'unknown', 'location', e.location_value) END)
  END
$$;

-- Cal.com's booking fields: its default fields (as Cal.com returns them, with the labels and
-- placeholders given), then the custom ones from the native questions.
CREATE FUNCTION api.calcom_booking_fields(e event_types) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_array(
      jsonb_build_object('isDefault', true, 'type', 'name', 'slug', 'name', 'label', 'Your name', 'placeholder', '',
                         'required', true, 'disableOnPrefill', false) || coalesce(d->'name', '{}'),
      jsonb_build_object('isDefault', true, 'type', 'email', 'slug', 'email', 'label', 'Email address',
                         'placeholder', '', 'required', true, 'hidden', false, 'disableOnPrefill', false)
        || coalesce(d->'email', '{}'))
    || CASE WHEN jsonb_array_length(api.calcom_locations(e)) > 1
         THEN jsonb_build_array(jsonb_build_object('isDefault', true, 'type', 'radioInput', 'slug', 'location',
                                                   'label', 'Location', 'required', false, 'hidden', false)
                                || coalesce(d->'location', '{}'))
         ELSE '[]'::jsonb END
    || jsonb_build_array(
      jsonb_build_object('isDefault', true, 'type', 'text', 'slug', 'title', 'label', 'What is this meeting about?',
                         'placeholder', '', 'required', true, 'hidden', true, 'disableOnPrefill', false)
        || coalesce(d->'title', '{}'),
      jsonb_build_object('isDefault', true, 'type', 'textarea', 'slug', 'notes', 'label', 'Additional notes',
                         'placeholder', '', 'required', false, 'hidden', false, 'disableOnPrefill', false)
        || coalesce(d->'notes', '{}'),
      -- slotd's bookings have no guests: the field is always hidden (disableGuests is true)
      jsonb_build_object('isDefault', true, 'type', 'multiemail', 'slug', 'guests', 'label', 'Add guests',
                         'placeholder', '', 'required', false, 'hidden', true, 'disableOnPrefill', false)
        || coalesce(d->'guests', '{}'),
      jsonb_build_object('isDefault', true, 'type', 'textarea', 'slug', 'rescheduleReason',
                         'label', 'Reason for reschedule', 'placeholder', '', 'required', false, 'hidden', false,
                         'disableOnPrefill', false) || coalesce(d->'rescheduleReason', '{}'))
    || CASE
         WHEN e.calcom->'customFields' IS NOT NULL AND e.calcom->'questionsNative' = e.questions
           THEN e.calcom->'customFields'
         ELSE coalesce((
           SELECT jsonb_agg(jsonb_build_object(
               'isDefault', false,
               'type', CASE q->>'type' WHEN 'checkbox' THEN 'boolean' WHEN 'email' THEN 'text' ELSE q->>'type' END,
               'slug', q->>'id', 'label', q->>'label', 'required', coalesce((q->>'required')::boolean, false),
               'placeholder', '', 'hidden', false, 'disableOnPrefill', false)
             || CASE WHEN q ? 'options' THEN jsonb_build_object('options', q->'options') ELSE '{}'::jsonb END
             ORDER BY n)
           FROM jsonb_array_elements(e.questions) WITH ORDINALITY t(q, n)), '[]'::jsonb)
       END
  FROM (SELECT coalesce(e.calcom->'defaultFields', '{}'::jsonb) AS d) x
$$;

-- A user as event-type outputs list them (username: the booking-page slug).
CREATE FUNCTION api.calcom_user_json(p_user bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', u.id, 'name', u.name, 'username', p.slug::text, 'avatarUrl', u.avatar_url,
                            'brandColor', p.brand_color, 'darkBrandColor', NULL, 'weekStart', 'Sunday',
                            'metadata', '{}'::jsonb)
  FROM users u LEFT JOIN booking_pages p ON p.user_id = u.id WHERE u.id = p_user
$$;

-- EventTypeOutput_2024_06_14 of any event type: a user's (ownerId, users = [the owner]) or an
-- organisation's (ownerId null, users = its hosts; the teams area adds its team fields).
-- p_base: the public URL bookingUrl starts with (SLOTD_PUBLIC_URL).
CREATE FUNCTION api.calcom_event_type_json(e event_types, p_base text DEFAULT '') RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT coalesce(e.calcom->'extras', '{}'::jsonb) - 'colorDark'
    || jsonb_build_object(
      'id', e.id, 'lengthInMinutes', e.duration_minutes, 'title', e.name, 'slug', e.slug,
      'description', coalesce(e.description, ''),
      'locations', api.calcom_locations(e), 'bookingFields', api.calcom_booking_fields(e),
      'disableGuests', true, 'slotInterval', e.slot_interval_minutes,
      'minimumBookingNotice', e.min_notice_hours * 60,
      'beforeEventBuffer', e.buffer_before, 'afterEventBuffer', e.buffer_after,
      'recurrence', e.recurrence, 'metadata', coalesce(e.calcom->'extras'->'metadata', '{}'::jsonb),
      -- Cal.com prices are in the currency's minor unit
      'price', coalesce((e.price * 100)::bigint, 0), 'currency', lower(coalesce(e.currency, 'usd')),
      'lockTimeZoneToggleOnBookingPage', coalesce(e.calcom->'extras'->'lockTimeZoneToggleOnBookingPage', 'false'),
      'seatsPerTimeSlot', CASE WHEN e.seats > 1 THEN e.seats END,
      'seatsShowAvailabilityCount',
        CASE WHEN e.seats > 1 THEN coalesce(e.calcom->'seatsMeta'->'showAvailabilityCount', 'true') END,
      'forwardParamsSuccessRedirect', coalesce(e.calcom->'extras'->'forwardParamsSuccessRedirect', 'true'),
      'successRedirectUrl', e.calcom->'extras'->'successRedirectUrl',
      'isInstantEvent', false, 'scheduleId', e.schedule_id, 'hidden', e.is_secret,
      'bookingRequiresAuthentication', false,
      'bookingWindow', CASE
        WHEN coalesce((e.calcom->>'windowDisabled')::boolean, false) AND e.max_future_days = 3650 THEN '[]'::jsonb
        ELSE jsonb_build_array(jsonb_build_object('type', 'calendarDays', 'value', e.max_future_days,
                                                  'rolling', false)) END,
      'color', jsonb_build_object('lightThemeHex', e.color,
                                  'darkThemeHex', coalesce(e.calcom->'extras'->>'colorDark', e.color)),
      'ownerId', e.user_id,
      'users', CASE WHEN e.user_id IS NOT NULL
        THEN (SELECT coalesce(jsonb_agg(api.calcom_user_json(u.id)), '[]'::jsonb) FROM users u WHERE u.id = e.user_id)
        ELSE (SELECT coalesce(jsonb_agg(api.calcom_user_json(h.user_id) ORDER BY h.user_id), '[]'::jsonb)
              FROM event_type_hosts h WHERE h.event_type_id = e.id) END,
      'bookingUrl', coalesce(p_base, '') || '/' ||
        coalesce((SELECT p.slug::text FROM booking_pages p WHERE p.user_id = e.user_id),
                 (SELECT o.slug::text FROM orgs o WHERE o.id = e.org_id), '') || '/' || e.slug)
    || jsonb_strip_nulls(jsonb_build_object(
      'lengthInMinutesOptions', to_jsonb(e.durations),
      'bookingLimitsCount', CASE WHEN e.limit_per_day IS NOT NULL OR e.limit_per_week IS NOT NULL
        THEN jsonb_strip_nulls(jsonb_build_object('day', e.limit_per_day, 'week', e.limit_per_week)) END,
      'confirmationPolicy', CASE WHEN e.requires_confirmation
        THEN jsonb_build_object('type', 'always', 'blockUnconfirmedBookingsInBooker', true) END,
      'seats', CASE WHEN e.seats > 1 THEN jsonb_build_object(
        'seatsPerTimeSlot', e.seats,
        'showAttendeeInfo', coalesce(e.calcom->'seatsMeta'->'showAttendeeInfo', 'false'),
        'showAvailabilityCount', coalesce(e.calcom->'seatsMeta'->'showAvailabilityCount', 'true')) END))
$$;

-- The stored Cal.com part after a write: top-level parts replaced when given, extras merged by
-- key (null removes one), and the native state the locations and fields were made into.
CREATE FUNCTION api.calcom_merge(old jsonb, p jsonb, e event_types) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_strip_nulls(coalesce(old, '{}'::jsonb) || (p - 'extras')
    || jsonb_build_object('extras', nullif(jsonb_strip_nulls(coalesce(old->'extras', '{}'::jsonb)
                                                             || coalesce(p->'extras', '{}'::jsonb)), '{}'::jsonb))
    || CASE WHEN p ? 'locations'
         THEN jsonb_build_object('locationsNative', jsonb_build_array(e.location_type, e.location_value))
         ELSE '{}'::jsonb END
    || CASE WHEN p ? 'customFields' THEN jsonb_build_object('questionsNative', e.questions) ELSE '{}'::jsonb END)
$$;

-- Create (p_id NULL) or update through the native functions, then the Cal.com part, in one
-- transaction; the body is the Cal.com output.
CREATE FUNCTION api.calcom_event_type_save(p_user bigint, p_id bigint, p jsonb, p_calcom jsonb, p_base text)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  r record;
  e event_types;
BEGIN
  IF p_id IS NULL THEN
    SELECT * INTO r FROM api.event_type_create(p_user, p, coalesce(p->>'slug', 'event')) c;
  ELSE
    SELECT * INTO r FROM api.event_type_update(p_user, p_id, p) c;
  END IF;
  SELECT * INTO e FROM event_types t WHERE t.id = coalesce(p_id, (r.body->>'id')::bigint);
  UPDATE event_types t SET calcom = api.calcom_merge(t.calcom, p_calcom, e) WHERE t.id = e.id RETURNING * INTO e;
  RETURN QUERY SELECT api.calcom_event_type_json(e, p_base), r.host_ids, r.stale;
END $$;

CREATE FUNCTION api.calcom_event_type_get(p_user bigint, p_id bigint, p_base text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE e event_types;
BEGIN
  SELECT * INTO e FROM event_types t WHERE t.id = p_id AND t.user_id = p_user AND t.is_active;
  IF e.id IS NULL THEN PERFORM api.fail(404, 'Event type with id=' || p_id || ' not found'); END IF;
  RETURN api.calcom_event_type_json(e, p_base);
END $$;

-- An event type as anyone but its owner sees it: a location marked "public": false keeps its
-- shape with its address, link or phone blanked (Cal.com shows those only after booking).
CREATE FUNCTION api.calcom_hide_private(j jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(j->'locations') <> 'array' THEN j
    ELSE j || jsonb_build_object('locations', (
      SELECT coalesce(jsonb_agg(CASE WHEN l->'public' = 'false'::jsonb
                                     THEN (SELECT jsonb_object_agg(k, CASE WHEN k IN ('address', 'link', 'phone')
                                                                          THEN '""'::jsonb ELSE v END)
                                           FROM jsonb_each(l) y(k, v))
                                     ELSE l END
                                ORDER BY n), '[]')
      FROM jsonb_array_elements(j->'locations') WITH ORDINALITY x(l, n))) END
$$;

-- GET /v2/event-types: a user's by booking-page slug (hidden ones only to that user), or the
-- viewer's own (p_username NULL); optionally one slug; sorted by id or by creation.
CREATE FUNCTION api.calcom_event_types_list(p_viewer bigint, p_username text, p_event_slug text, p_sort text,
                                            p_base text) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE owner bigint;
BEGIN
  IF p_username IS NULL THEN
    owner := p_viewer;
  ELSE
    SELECT p.user_id INTO owner FROM booking_pages p WHERE p.slug = p_username::citext;
    IF owner IS NULL THEN PERFORM api.fail(404, 'User with username=' || p_username || ' not found', 'username'); END IF;
  END IF;
  RETURN (SELECT coalesce(jsonb_agg(CASE WHEN owner = p_viewer THEN api.calcom_event_type_json(e, p_base)
                                         ELSE api.calcom_hide_private(api.calcom_event_type_json(e, p_base)) END
                                    ORDER BY CASE WHEN p_sort = 'asc' THEN e.created_at END ASC,
                                             CASE WHEN p_sort = 'desc' THEN e.created_at END DESC, e.id), '[]'::jsonb)
          FROM event_types e
          WHERE e.user_id = owner AND e.is_active AND (NOT e.is_secret OR owner = p_viewer)
            AND (p_event_slug IS NULL OR e.slug = p_event_slug));
END $$;

-- DELETE answers {id, lengthInMinutes, title, slug} of what it deleted.
CREATE FUNCTION api.calcom_event_type_delete(p_user bigint, p_id bigint)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  e event_types;
  r record;
BEGIN
  SELECT * INTO e FROM event_types t WHERE t.id = p_id AND t.user_id = p_user AND t.is_active;
  IF e.id IS NULL THEN PERFORM api.fail(404, 'Event type with id=' || p_id || ' not found'); END IF;
  SELECT * INTO r FROM api.event_type_delete(p_user, p_id) d;
  RETURN QUERY SELECT jsonb_build_object('id', e.id, 'lengthInMinutes', e.duration_minutes, 'title', e.name,
                                         'slug', e.slug), r.host_ids, r.stale;
END $$;

-- ---------------------------------------------------------------- schedules

-- ScheduleOutput_2024_06_11: the weekly rules grouped by equal times into {days, startTime,
-- endTime} (days Monday first, as Cal.com lists them); an unavailable date is 00:00-00:00.
CREATE FUNCTION api.calcom_schedule_json(s availability_schedules) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', s.id, 'ownerId', s.user_id, 'name', s.name, 'timeZone', s.timezone,
    'availability', coalesce((
      SELECT jsonb_agg(jsonb_build_object('days', g.days, 'startTime', g.st, 'endTime', g.et)
                       ORDER BY g.first, g.st, g.et)
      FROM (SELECT st, et, min(d) AS first,
                   (SELECT jsonb_agg((ARRAY['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday',
                                            'Sunday'])[x + 1] ORDER BY x)
                    FROM unnest(array_agg(DISTINCT d)) x) AS days
            FROM (SELECT r->>'start' AS st, r->>'end' AS et, ((r->>'day')::int + 6) % 7 AS d
                  FROM jsonb_array_elements(s.rules) r) rr
            GROUP BY st, et) g), '[]'::jsonb),
    'isDefault', s.is_default,
    'overrides', coalesce((
      SELECT jsonb_agg(jsonb_build_object('date', o->>'date', 'startTime', coalesce(o->>'start', '00:00'),
                                          'endTime', coalesce(o->>'end', '00:00')) ORDER BY o->>'date', o->>'start')
      FROM jsonb_array_elements(s.overrides) o), '[]'::jsonb))
$$;

CREATE FUNCTION api.calcom_schedules_list(p_user bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(jsonb_agg(api.calcom_schedule_json(s) ORDER BY s.id), '[]'::jsonb)
  FROM availability_schedules s WHERE s.user_id = p_user
$$;

-- One of the user's schedules, or (p_id NULL) the default one; another user's is 404.
CREATE FUNCTION api.calcom_schedule_get(p_user bigint, p_id bigint) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE s availability_schedules;
BEGIN
  SELECT * INTO s FROM availability_schedules a
  WHERE a.user_id = p_user AND (a.id = p_id OR (p_id IS NULL AND a.is_default));
  IF s.id IS NULL THEN
    PERFORM api.fail(404, CASE WHEN p_id IS NULL THEN 'Default schedule not found'
                               ELSE 'Schedule with id=' || p_id || ' not found' END);
  END IF;
  RETURN api.calcom_schedule_json(s);
END $$;

CREATE FUNCTION api.calcom_schedule_save(p_user bigint, p_id bigint, p jsonb)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  r record;
  s availability_schedules;
BEGIN
  SELECT * INTO r FROM api.schedule_save(p_user, p_id, p) x;
  SELECT * INTO s FROM availability_schedules a WHERE a.id = (r.body->>'id')::bigint;
  RETURN QUERY SELECT api.calcom_schedule_json(s), r.host_ids, r.stale;
END $$;
