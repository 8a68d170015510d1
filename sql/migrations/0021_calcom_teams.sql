-- 0021_calcom_teams: Cal.com API v2 teams, memberships and team event types (issue 16).
--
-- A Cal.com team is a slotd organisation: teamId = orgs.id, the team slug = the org slug,
-- memberships = org_members (a membership's id is its user id: org_members has no id of its own
-- and (org, user) is its key), roles OWNER|ADMIN|MEMBER = owner|admin|member. Every function
-- here checks access through the native api.org_* functions (api.org_require and the writes
-- that call it), so who may do what is decided in one place: strangers 404, members read,
-- owners/admins (and the org's API keys) change things, only owners delete a team.
--
-- What Cal.com has and slotd does not act on is stored and returned: the team's branding and
-- settings (orgs.calcom), a membership's accepted and disableImpersonation flags (slotd has no
-- invitations: a membership works from the moment it is made), and assignAllTeamMembers on an
-- org event type (which slotd does act on: every member hosts it, and members added later too).

ALTER TABLE orgs ADD COLUMN calcom jsonb NOT NULL DEFAULT '{}';
ALTER TABLE org_members
  ADD COLUMN calcom_accepted boolean NOT NULL DEFAULT true,
  ADD COLUMN calcom_disable_impersonation boolean NOT NULL DEFAULT false;
-- Nullable (NULL = false): the native org_event_type_create inserts a whole event_types record,
-- which carries NULL for a column it does not know.
ALTER TABLE event_types ADD COLUMN calcom_assign_all boolean;

-- ---------------------------------------------------------------- teams

-- TeamOutputDto: the stored Cal.com fields under the org's own; Cal.com's defaults for the
-- flags and weekStart a team was made without.
CREATE FUNCTION api.calcom_team_json(o orgs) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('weekStart', 'Sunday', 'hideBranding', false, 'isPrivate', false,
                            'hideBookATeamMember', false)
         || o.calcom
         || jsonb_build_object('id', o.id, 'name', o.name, 'slug', o.slug::text, 'isOrganization', false,
                               'timeZone', o.timezone)
$$;

-- The caller's teams (an org key: its own org).
CREATE FUNCTION api.calcom_teams_list(p_user bigint, p_key_org bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(jsonb_agg(api.calcom_team_json(o) ORDER BY o.id), '[]')
  FROM orgs o
  WHERE CASE WHEN p_key_org IS NOT NULL THEN o.id = p_key_org
             ELSE EXISTS (SELECT 1 FROM org_members m WHERE m.org_id = o.id AND m.user_id = p_user) END
$$;

-- p: validated name, slug (optional: p_slug_base, made unique with a suffix), timezone, calcom
-- (the stored fields), autoAcceptCreator. The native api.org_create makes the org and its owner.
CREATE FUNCTION api.calcom_team_create(p_user bigint, p jsonb, p_slug_base text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  o jsonb;
  r orgs;
  s text;
  n integer := 1;
  base jsonb := jsonb_build_object('name', p->>'name', 'timezone', coalesce(p->>'timezone', 'Europe/London'));
BEGIN
  IF p ? 'slug' THEN
    o := api.org_create(p_user, base || jsonb_build_object('slug', p->>'slug'));
  ELSE
    LOOP
      s := CASE WHEN n = 1 THEN p_slug_base ELSE p_slug_base || '-' || n END;
      BEGIN
        o := api.org_create(p_user, base || jsonb_build_object('slug', s));
        EXIT;
      EXCEPTION WHEN SQLSTATE 'SL409' THEN  -- taken by an org or a booking page: the next suffix
        n := n + 1;
        IF n > 1000 THEN PERFORM api.fail(409, 'no free slug for this name; give a slug', 'slug'); END IF;
      END;
    END LOOP;
  END IF;
  UPDATE orgs SET calcom = coalesce(p->'calcom', '{}') WHERE id = (o->>'id')::bigint RETURNING * INTO r;
  UPDATE org_members SET calcom_accepted = coalesce((p->>'autoAcceptCreator')::boolean, true)
  WHERE org_id = r.id AND user_id = p_user;
  RETURN api.calcom_team_json(r);
END $$;

CREATE FUNCTION api.calcom_team_get(p_org bigint, p_user bigint, p_key_org bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org);
  RETURN (SELECT api.calcom_team_json(o) FROM orgs o WHERE o.id = p_org);
END $$;

-- p: name, slug, timezone (the native org_update's, which checks the role and tells the hosts
-- when the slug moved) and calcom (merged; metadata replaced whole).
CREATE FUNCTION api.calcom_team_update(p_org bigint, p_user bigint, p_key_org bigint, p jsonb)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  hosts bigint[];
  r orgs;
BEGIN
  SELECT u.host_ids INTO hosts FROM api.org_update(p_org, p_user, p_key_org, p - 'calcom') u;
  UPDATE orgs SET calcom = calcom || coalesce(p->'calcom', '{}') WHERE id = p_org RETURNING * INTO r;
  RETURN QUERY SELECT api.calcom_team_json(r), hosts, false;
END $$;

-- DELETE answers the deleted team: its JSON is made before the native api.org_delete (owners
-- only) removes it, and leaves only when that succeeded.
CREATE FUNCTION api.calcom_team_delete(p_org bigint, p_user bigint, p_key_org bigint)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE before jsonb := (SELECT api.calcom_team_json(o) FROM orgs o WHERE o.id = p_org);
BEGIN
  RETURN QUERY SELECT before, d.host_ids, d.stale FROM api.org_delete(p_org, p_user, p_key_org) d;
END $$;

-- ---------------------------------------------------------------- memberships

-- TeamMembershipOutput; user.username is the booking-page slug (accounts an org made for its
-- members have none, and then no username).
CREATE FUNCTION api.calcom_membership_json(m org_members, u users) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', m.user_id, 'userId', m.user_id, 'teamId', m.org_id, 'accepted', m.calcom_accepted,
                            'role', upper(m.role), 'disableImpersonation', m.calcom_disable_impersonation,
                            'user', jsonb_strip_nulls(jsonb_build_object(
                              'email', u.email::text, 'username', b.slug::text, 'name', u.name,
                              'avatarUrl', u.avatar_url, 'bio', b.bio)))
  FROM (SELECT NULL) one LEFT JOIN booking_pages b ON b.user_id = u.id
$$;

CREATE FUNCTION api.calcom_membership_find(p_org bigint, p_member bigint) RETURNS org_members
LANGUAGE plpgsql STABLE AS $$
DECLARE m org_members;
BEGIN
  SELECT * INTO m FROM org_members x WHERE x.org_id = p_org AND x.user_id = p_member;
  IF m.user_id IS NULL THEN PERFORM api.fail(404, 'membership not found'); END IF;
  RETURN m;
END $$;

-- p_emails: NULL, or a JSON array of the e-mails to keep.
CREATE FUNCTION api.calcom_memberships_list(p_org bigint, p_user bigint, p_key_org bigint, p_take integer,
                                            p_skip integer, p_emails jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org);
  RETURN coalesce((SELECT jsonb_agg(api.calcom_membership_json(m, u) ORDER BY m.user_id)
                   FROM (SELECT x.* FROM org_members x JOIN users y ON y.id = x.user_id
                         WHERE x.org_id = p_org AND (p_emails IS NULL OR y.email IN (SELECT x::citext FROM jsonb_array_elements_text(p_emails) x))
                         ORDER BY x.user_id LIMIT p_take OFFSET p_skip) m
                   JOIN users u ON u.id = m.user_id), '[]');
END $$;

CREATE FUNCTION api.calcom_membership_get(p_org bigint, p_user bigint, p_key_org bigint, p_member bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE m org_members;
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org);
  m := api.calcom_membership_find(p_org, p_member);
  RETURN (SELECT api.calcom_membership_json(m, u) FROM users u WHERE u.id = m.user_id);
END $$;

-- p: validated userId, role (lower case), accepted, disableImpersonation. The native
-- api.org_member_add attaches the account (owners and admins; owners only make owners); the
-- member then hosts every event type of the org that assigns all its members.
--
-- By id, only an account the caller already shares a team with (or the caller): user ids are
-- sequential, and attaching any id would hand out every account's e-mail (the answer carries
-- it) and make anyone a host of a stranger's event types. A new colleague is added by e-mail
-- (POST /api/orgs/:id/members), which needs the address to be known already. An unknown id and
-- a stranger's are the same 400, so neither existence leaks.
CREATE FUNCTION api.calcom_membership_add(p_org bigint, p_user bigint, p_key_org bigint, p jsonb)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  u users;
  m org_members;
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  SELECT * INTO u FROM users x WHERE x.id = (p->>'userId')::bigint
    AND (CASE WHEN p_key_org IS NOT NULL
              THEN EXISTS (SELECT 1 FROM org_members b WHERE b.org_id = p_key_org AND b.user_id = x.id)
              -- someone the caller administers elsewhere: a plain member of a shared org cannot pull
              -- a co-worker into a team of their own (and so see their schedules, make them host)
              ELSE x.id = p_user OR EXISTS (SELECT 1 FROM org_members a JOIN org_members b ON b.org_id = a.org_id
                                            WHERE a.user_id = p_user AND a.role IN ('owner', 'admin')
                                              AND b.user_id = x.id) END);
  IF u.id IS NULL THEN
    PERFORM api.fail(400, 'userId must name yourself or a member of a team you administer; add a new member by e-mail '
                          '(POST /api/orgs/' || p_org || '/members)', 'userId');
  END IF;
  PERFORM api.org_member_add(p_org, p_user, p_key_org,
                             jsonb_strip_nulls(jsonb_build_object('email', u.email::text, 'role', p->>'role')));
  UPDATE org_members x SET calcom_accepted = coalesce((p->>'accepted')::boolean, false),
                           calcom_disable_impersonation = coalesce((p->>'disableImpersonation')::boolean, false)
  WHERE x.org_id = p_org AND x.user_id = u.id RETURNING * INTO m;
  INSERT INTO event_type_hosts (event_type_id, user_id)
  SELECT e.id, u.id FROM event_types e WHERE e.org_id = p_org AND e.is_active AND e.calcom_assign_all
  ON CONFLICT DO NOTHING;
  RETURN QUERY SELECT api.calcom_membership_json(m, u), ARRAY[u.id], false;
END $$;

-- p: role (lower case; the native api.org_member_update's rules), accepted, disableImpersonation.
CREATE FUNCTION api.calcom_membership_update(p_org bigint, p_user bigint, p_key_org bigint, p_member bigint, p jsonb)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  m org_members;
  u users;
BEGIN
  IF p ? 'role' THEN
    PERFORM api.org_member_update(p_org, p_user, p_key_org, p_member, jsonb_build_object('role', p->>'role'));
  ELSE
    PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  END IF;
  m := api.calcom_membership_find(p_org, p_member);
  UPDATE org_members x SET calcom_accepted = coalesce((p->>'accepted')::boolean, x.calcom_accepted),
    calcom_disable_impersonation = coalesce((p->>'disableImpersonation')::boolean, x.calcom_disable_impersonation)
  WHERE x.org_id = p_org AND x.user_id = p_member RETURNING * INTO m;
  SELECT * INTO u FROM users x WHERE x.id = p_member;
  RETURN QUERY SELECT api.calcom_membership_json(m, u), NULL::bigint[], false;
END $$;

-- The deleted membership, after the native api.org_member_remove (owners and admins remove
-- members, only owners remove owners, anyone may leave, the last owner may not); the member
-- stops hosting the org's event types (its trigger).
CREATE FUNCTION api.calcom_membership_delete(p_org bigint, p_user bigint, p_key_org bigint, p_member bigint)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE before jsonb;
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org);
  SELECT api.calcom_membership_json(m, u) INTO before
  FROM org_members m JOIN users u ON u.id = m.user_id WHERE m.org_id = p_org AND m.user_id = p_member;
  IF before IS NULL THEN PERFORM api.fail(404, 'membership not found'); END IF;
  PERFORM api.org_member_remove(p_org, p_user, p_key_org, p_member);
  RETURN QUERY SELECT before, ARRAY[p_member], false;
END $$;

-- ---------------------------------------------------------------- team event types

-- TeamEventTypeOutput_2024_06_14: the event types area's Cal.com JSON of the org event type
-- (api.calcom_event_type_json, 0019) with the team's fields. Priorities: Cal.com's five names
-- are the native 0-4 scale (2, medium, is both defaults); every host of a collective type is
-- mandatory, none of a round-robin one (slotd has no fixed hosts in a round robin). slotd keeps
-- a booking's host when it is rescheduled, so rescheduleWithSameRoundRobinHost is always true.
-- p_hosts_limit: at most that many hosts (NULL: all).
CREATE FUNCTION api.calcom_team_event_type_json(e event_types, p_base text, p_hosts_limit integer DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE o orgs;
BEGIN
  SELECT * INTO o FROM orgs x WHERE x.id = e.org_id;
  RETURN api.calcom_event_type_json(e, p_base) || jsonb_build_object(
    'teamId', e.org_id, 'ownerId', NULL, 'parentEventTypeId', NULL,
    'schedulingType', CASE WHEN e.scheduling = 'collective' THEN 'collective' ELSE 'roundRobin' END,
    'assignAllTeamMembers', coalesce(e.calcom_assign_all, false), 'rescheduleWithSameRoundRobinHost', true,
    'hosts', coalesce((
      SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
               'userId', h.user_id, 'name', u.name, 'username', b.slug::text, 'avatarUrl', u.avatar_url))
               || jsonb_build_object('mandatory', e.scheduling = 'collective',
                                     'priority', (ARRAY['lowest', 'low', 'medium', 'high', 'highest'])[h.priority + 1])
               ORDER BY h.user_id)
      FROM (SELECT * FROM event_type_hosts x WHERE x.event_type_id = e.id ORDER BY x.user_id LIMIT p_hosts_limit) h
      JOIN users u ON u.id = h.user_id LEFT JOIN booking_pages b ON b.user_id = h.user_id), '[]'),
    'team', jsonb_build_object('id', o.id, 'slug', o.slug::text, 'name', o.name,
                               'bannerUrl', o.calcom->'bannerUrl', 'logoUrl', o.calcom->'logoUrl',
                               'weekStart', coalesce(o.calcom->>'weekStart', 'Sunday'),
                               'brandColor', o.calcom->'brandColor', 'darkBrandColor', o.calcom->'darkBrandColor',
                               'theme', o.calcom->'theme'));
END $$;

-- The hosts p_assign_all means: every member of the org, at the default priority.
CREATE FUNCTION api.calcom_all_members_hosts(p_org bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(jsonb_agg(jsonb_build_object('user_id', m.user_id) ORDER BY m.user_id), '[]')
  FROM org_members m WHERE m.org_id = p_org
$$;

-- Create (p_id NULL) or update through the native api.org_event_type_create/update (their
-- access rules, validation and host checks), then the Cal.com part (the event types area's
-- api.calcom_merge into event_types.calcom) and assignAllTeamMembers, in one transaction. p: the
-- native patch (with scheduling and hosts [{user_id, priority}]); p_calcom: the Cal.com part;
-- p_assign_all: true (every member hosts it, members added later too), false, or NULL (create:
-- false; update: unchanged, unless hosts are given, which end it).
CREATE FUNCTION api.calcom_team_event_type_save(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint, p jsonb,
                                                p_calcom jsonb, p_assign_all boolean, p_base text)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  r record;
  e event_types;
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  IF p_assign_all THEN
    PERFORM 1 FROM orgs WHERE id = p_org FOR UPDATE;  -- no member joins or leaves meanwhile
    p := p || jsonb_build_object('hosts', api.calcom_all_members_hosts(p_org));
  END IF;
  IF p_id IS NULL THEN
    SELECT * INTO r FROM api.org_event_type_create(p_org, p_user, p_key_org, p, p->>'slug') c;
  ELSE
    SELECT * INTO r FROM api.org_event_type_update(p_org, p_user, p_key_org, p_id, p) c;
  END IF;
  SELECT * INTO e FROM event_types t WHERE t.id = coalesce(p_id, (r.body->>'id')::bigint);
  UPDATE event_types t SET calcom = api.calcom_merge(t.calcom, p_calcom, e),
    calcom_assign_all = coalesce(p_assign_all, CASE WHEN p ? 'hosts' THEN false END, t.calcom_assign_all)
  WHERE t.id = e.id RETURNING * INTO e;
  RETURN QUERY SELECT api.calcom_team_event_type_json(e, p_base), r.host_ids, r.stale;
END $$;

CREATE FUNCTION api.calcom_team_event_type_get(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint,
                                               p_base text) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org);
  RETURN api.calcom_team_event_type_json(api.org_event_type_find(p_org, p_id), p_base);
END $$;

-- GET /v2/teams/{teamId}/event-types, public: the team's listed event types, and its hidden
-- ones too for its members and keys; one slug; sorted by id or by creation.
CREATE FUNCTION api.calcom_team_event_types_list(p_org bigint, p_user bigint, p_key_org bigint, p_event_slug text,
                                                 p_hosts_limit integer, p_sort text, p_base text)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE insider boolean := api.org_role(p_org, p_user, p_key_org) IS NOT NULL;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM orgs o WHERE o.id = p_org) THEN PERFORM api.fail(404, 'team not found'); END IF;
  RETURN (SELECT coalesce(jsonb_agg(CASE WHEN insider THEN api.calcom_team_event_type_json(e, p_base, p_hosts_limit)
                                         ELSE api.calcom_hide_private(api.calcom_team_event_type_json(e, p_base,
                                                                                                      p_hosts_limit)) END
                                    ORDER BY CASE WHEN p_sort = 'asc' THEN e.created_at END ASC,
                                             CASE WHEN p_sort = 'desc' THEN e.created_at END DESC, e.id), '[]')
          FROM event_types e
          WHERE e.org_id = p_org AND e.is_active AND (insider OR NOT e.is_secret)
            AND (p_event_slug IS NULL OR e.slug = p_event_slug));
END $$;

-- DELETE answers {id, lengthInMinutes, title, slug} of what the native delete removed.
CREATE FUNCTION api.calcom_team_event_type_delete(p_org bigint, p_user bigint, p_key_org bigint, p_id bigint)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  e event_types;
  r record;
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  e := api.org_event_type_find(p_org, p_id);
  SELECT * INTO r FROM api.org_event_type_delete(p_org, p_user, p_key_org, p_id) d;
  RETURN QUERY SELECT jsonb_build_object('id', e.id, 'lengthInMinutes', e.duration_minutes, 'title', e.name,
                                         'slug', e.slug), r.host_ids, r.stale;
END $$;

-- ---------------------------------------------------------------- team schedules

-- GET /v2/teams/{teamId}/schedules: every member's schedules (ScheduleOutput_2024_06_11, the
-- schedules area's api.calcom_schedule_json), for owners, admins and the org's keys -- the
-- native rule (members see only their own schedules: 403, as for another member's).
CREATE FUNCTION api.calcom_team_schedules(p_org bigint, p_user bigint, p_key_org bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  RETURN (SELECT coalesce(jsonb_agg(api.calcom_schedule_json(s) ORDER BY s.user_id, s.id), '[]')
          FROM availability_schedules s JOIN org_members m ON m.user_id = s.user_id AND m.org_id = p_org);
END $$;
