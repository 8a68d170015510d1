-- 0027_calendesk: the Calendesk dialect (issue 18). Being written.
DO $$ BEGIN END $$;
