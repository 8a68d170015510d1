-- Performance (issue 11): a trigger's WHEN clause is executed from its stored expression, never
-- planned, so a SQL function in it is not inlined: api.host_bumped ran through the SQL-function
-- executor, which parses and plans its body for every INSERT statement (~40 us of PostgreSQL
-- CPU per booking; the bare-INSERT floor went from 147 to 197 us). The condition is written out
-- with built-in functions only.
DROP TRIGGER bookings_host_inserted ON bookings;
CREATE TRIGGER bookings_host_inserted AFTER INSERT ON bookings
  FOR EACH ROW WHEN (NOT coalesce(NEW.host_id::text = ANY (string_to_array(current_setting('slotd.bumped', true), ',')),
                                  false))
  EXECUTE FUNCTION api.host_changed();
DROP FUNCTION api.host_bumped(bigint);

-- One index for both uses of a booking's event type: the foreign key's lookups and the
-- round-robin counts (a host's bookings of a type by creation) -- a second index cost every
-- booking write ~12 us.
DROP INDEX bookings_type_host_created;
DROP INDEX bookings_event_type;
CREATE INDEX bookings_event_type_host ON bookings (event_type_id, host_id, created_at);

-- api.engine_config's buffers of a host's event types: its own and the org types it hosts, as a
-- UNION of two index reads (0011's `user_id = h OR id IN (...)` could use no index: a scan of
-- every event type, 4 ms of PostgreSQL per configuration read at 100,000 hosts).
CREATE OR REPLACE FUNCTION api.engine_config(p_event_type bigint, p_slug text, p_event_slug text,
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
