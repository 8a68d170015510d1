-- 0021_calcom_teams: Cal.com API v2 (issue 16). Being written.
DO $$ BEGIN END $$;
