-- 0020_calcom_webhooks: Cal.com API v2 (issue 16). Being written.
DO $$ BEGIN END $$;
