-- 0024_schedkit: vendor dialects (issue 17). Being written.
DO $$ BEGIN END $$;
