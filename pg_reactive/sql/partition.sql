-- Partition routing: with a `col = auth.uid()` policy, a change only
-- re-evaluates the cohorts of the users it touches.
\set VERBOSITY terse
CREATE EXTENSION pg_reactive;
SET search_path = app, public;
CREATE SCHEMA IF NOT EXISTS auth;
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS
  $$ SELECT (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')::uuid $$;
GRANT USAGE ON SCHEMA auth TO pgr_user;
CREATE TABLE tasks (id int PRIMARY KEY, owner uuid, title text);
ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
CREATE POLICY mine ON tasks USING (owner = (SELECT auth.uid()));
CREATE POLICY insert_any ON tasks FOR INSERT WITH CHECK (true);
GRANT SELECT ON tasks TO pgr_user;
SELECT pgr.register('tasks', 'select id, title from tasks', key => 'id');
SELECT name, part_col, claim_paths FROM pgr.queries WHERE name = 'tasks';
SELECT tgname FROM pg_trigger WHERE tgrelid = 'tasks'::regclass ORDER BY tgname;
INSERT INTO tasks VALUES (1, '00000000-0000-0000-0000-00000000000a', 'a'), (2, '00000000-0000-0000-0000-00000000000b', 'b');
SELECT stream AS a FROM pgr.attach('tasks', '{}', 'pgr_user', '{"sub":"00000000-0000-0000-0000-00000000000A"}', 'h') \gset
SELECT stream AS b FROM pgr.attach('tasks', '{}', 'pgr_user', '{"sub":"00000000-0000-0000-0000-00000000000b"}', 'h') \gset
SELECT stream = :a AS is_a, part FROM pgr.cohorts WHERE query = 'tasks' ORDER BY stream;
-- The superuser bypasses RLS: no partition.
SELECT stream AS su FROM pgr.attach('tasks', '{}', current_user, '{"sub":"00000000-0000-0000-0000-00000000000b"}', 'h') \gset
SELECT part IS NULL AS unpartitioned FROM pgr.cohorts WHERE stream = :su;
DELETE FROM pgr.dirty;
-- A change for a: only a's cohort (and the unpartitioned one) is refreshed.
UPDATE tasks SET title = 'a!' WHERE id = 1;
SELECT relid::regclass, vals FROM pgr.dirty;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pgr.refresh() AS deltas;
COMMIT;
SELECT stream = :a AS a, stream = :su AS su, v FROM pgr.delta_log WHERE stream IN (:a, :b, :su) ORDER BY stream;
-- Moving a row from b to a touches both.
UPDATE tasks SET owner = '00000000-0000-0000-0000-00000000000a' WHERE id = 2;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pgr.refresh() AS deltas;
COMMIT;
SELECT v, payload FROM pgr.deltas(:b, 0);
SELECT v, payload FROM pgr.deltas(:a, 1);
-- A statement that changes no row records nothing.
UPDATE tasks SET title = 'x' WHERE id = 99;
SELECT count(*) AS dirty FROM pgr.dirty;
-- TRUNCATE reaches everyone.
TRUNCATE tasks;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pgr.refresh() AS deltas;
COMMIT;
-- Another policy that is not `col = auth.uid()` turns routing off, at once:
-- the query is registered again (its streams start over).
SELECT count(*) AS streams_before FROM pgr.stream WHERE query = 'tasks';
CREATE POLICY shared ON tasks USING (title = 'shared');
SELECT part_col FROM pgr.queries WHERE name = 'tasks';
SELECT count(*) AS streams_after FROM pgr.stream WHERE query = 'tasks';
SELECT tgname FROM pg_trigger WHERE tgrelid = 'tasks'::regclass ORDER BY tgname;
-- Dropping it turns routing back on.
DROP POLICY shared ON tasks;
SELECT part_col FROM pgr.queries WHERE name = 'tasks';
SELECT tgname FROM pg_trigger WHERE tgrelid = 'tasks'::regclass ORDER BY tgname;
DROP EXTENSION pg_reactive CASCADE;
