-- 0018_calcom_core: Cal.com API v2 (issue 16). Being written.
DO $$ BEGIN END $$;
