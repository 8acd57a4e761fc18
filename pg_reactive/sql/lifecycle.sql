-- Parameters, leases, collection, errors.
\set VERBOSITY terse
SET search_path = app, public;
INSERT INTO members VALUES (1, 'alice'), (2, 'bob');
INSERT INTO notes VALUES (1, 1, 'team one'), (2, 2, 'team two');
SELECT pgr.register('team_notes', $$select id, body from notes where team = pgr.param('team')::int$$, key => 'id');
SELECT stream AS t1, rows FROM pgr.attach('team_notes', '{"team":1}', 'pgr_user', '{"sub":"alice"}', 'h') \gset
SELECT :'rows'::jsonb AS alice_team1;
SELECT rows AS bob_team1 FROM pgr.attach('team_notes', '{"team":1}', 'pgr_user', '{"sub":"bob"}', 'h');
SELECT pgr.attach('team_notes', '[1]', 'pgr_user', '{}', 'h');
SELECT pgr.attach('nope', '{}', 'pgr_user', '{}', 'h');

-- Bob joins team 1: a change to a table only the policy reads.
INSERT INTO members VALUES (1, 'bob');
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pgr.refresh() AS deltas;
COMMIT;
SELECT s.claims_key, d.v, d.payload FROM pgr.delta_log d JOIN pgr.stream s ON s.id = d.stream
WHERE s.query = 'team_notes' ORDER BY s.claims_key::text, d.v;

-- Leases: subscriber counts, detach, release, collection after the grace period.
SELECT query, claims_key, subscribers FROM pgr.cohorts WHERE query = 'team_notes' ORDER BY claims_key::text;
SELECT pgr.detach(:t1, 'h');
SELECT subscribers FROM pgr.cohorts WHERE stream = :t1;
UPDATE pgr.settings SET value = '0 seconds' WHERE name = 'stream_grace';
SELECT pgr.release('h');
SELECT pgr.gc() > 0 AS collected;
SELECT count(*) AS streams FROM pgr.stream;

-- A query that stops working for a cohort stops that stream with an error.
SELECT stream AS s FROM pgr.attach('team_notes', '{"team":1}', 'pgr_user', '{"sub":"alice"}', 'h') \gset
REVOKE SELECT ON notes FROM pgr_user;
INSERT INTO notes VALUES (3, 1, 'more');
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pgr.refresh() AS deltas;
COMMIT;
SELECT error FROM pgr.heads(ARRAY[:s]::bigint[]);

-- Callers without privileges cannot use the API.
SET ROLE pgr_user;
SELECT pgr.attach('team_notes', '{}', 'pgr_user', '{}', 'x');
SELECT * FROM pgr.delta_log;
RESET ROLE;
DROP EXTENSION pg_reactive CASCADE;
SELECT count(*) AS leftover_triggers FROM pg_trigger WHERE tgname LIKE 'pgr\_capture%';
