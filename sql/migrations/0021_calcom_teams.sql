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
ALTER TABLE event_types ADD COLUMN calcom_assign_all boolean NOT NULL DEFAULT false;

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
CREATE FUNCTION api.calcom_membership_add(p_org bigint, p_user bigint, p_key_org bigint, p jsonb)
RETURNS TABLE (body jsonb, host_ids bigint[], stale boolean) LANGUAGE plpgsql AS $$
DECLARE
  u users;
  m org_members;
BEGIN
  PERFORM api.org_require(p_org, p_user, p_key_org, 'admin');
  SELECT * INTO u FROM users x WHERE x.id = (p->>'userId')::bigint;
  IF u.id IS NULL THEN PERFORM api.fail(400, 'userId does not name a user', 'userId'); END IF;
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
