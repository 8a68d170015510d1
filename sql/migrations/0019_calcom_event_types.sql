-- 0019_calcom_event_types: Cal.com API v2 (issue 16). Being written.
DO $$ BEGIN END $$;
