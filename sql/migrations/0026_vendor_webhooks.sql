-- 0026_vendor_webhooks: vendor dialects (issue 17). Being written.
DO $$ BEGIN END $$;
