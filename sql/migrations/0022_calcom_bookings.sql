-- 0022_calcom_bookings: Cal.com API v2 (issue 16). Being written.
DO $$ BEGIN END $$;
