-- Foundation: extensions later migrations rely on, and the schema that holds slotd's SQL
-- functions (one statement per API call: DESIGN.md "One request, one round trip").
-- btree_gist: EXCLUDE constraints mixing = and && (no double booking).
-- citext: case-insensitive e-mail addresses.
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE EXTENSION IF NOT EXISTS citext;
CREATE SCHEMA IF NOT EXISTS api;

-- Readiness probe: proves a round trip through the pool and that migrations ran.
CREATE OR REPLACE FUNCTION api.ping() RETURNS integer
LANGUAGE sql STABLE AS $$ SELECT coalesce(max(version), 0) FROM schema_migrations $$;
