-- 0025_kordless: vendor dialects (issue 17). Being written.
DO $$ BEGIN END $$;
