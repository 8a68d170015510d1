-- 0030: the heartbeat by which an instance measures its streaming replica's lag (issue 20;
-- src/db/replica.c). Every instance with SLOTD_DATABASE_REPLICA_URL updates the one row on the
-- primary each second and reads it back on the replica: the age it sees there is the lag (plus
-- at most the second between heartbeats). A logged table: it must reach the replica.
CREATE TABLE replica_heartbeat (
  id integer PRIMARY KEY CHECK (id = 1),
  at timestamptz NOT NULL
);
INSERT INTO replica_heartbeat VALUES (1, now());
