-- 0023_calcom_slots: Cal.com API v2 (issue 16). Being written.
DO $$ BEGIN END $$;
