-- Keyed re-select: a query that filters and projects one table re-selects
-- only the rows whose keys changed; a change to a table only its policy
-- reads re-evaluates the whole query.
\set VERBOSITY terse
CREATE EXTENSION pg_reactive;
CREATE SCHEMA keyed;
SET search_path = keyed, public;
CREATE SCHEMA IF NOT EXISTS auth;
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS
  $$ SELECT (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')::uuid $$;
GRANT USAGE ON SCHEMA auth, keyed TO pgr_user;
CREATE TABLE members (team int, member uuid);
CREATE TABLE notes (id int PRIMARY KEY, team int, title text);
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY team ON notes USING (
  EXISTS (SELECT 1 FROM members m WHERE m.team = notes.team AND m.member = (SELECT auth.uid())));
GRANT SELECT ON members, notes TO pgr_user;
SELECT pgr.register('team_notes', 'select id, title from notes', key => 'id');
SELECT key_rel::regclass, key_att, key_type FROM pgr.query WHERE name = 'team_notes';
SELECT tgrelid::regclass, tgname FROM pg_trigger WHERE tgname LIKE 'pgr\_capture%' ORDER BY 1::text, 2;

-- Queries that are not a filter and projection of one table with the key
-- taken from one of its columns keep the whole re-evaluation.
SELECT pgr.register('k_limit', 'select id, title from notes order by id limit 2', key => 'id'),
       pgr.register('k_join', 'select n.id, m.member from notes n join members m using (team)', key => 'id'),
       pgr.register('k_expr', 'select id + 0 as id, title from notes', key => 'id'),
       pgr.register('k_alias', 'select team as id, title from notes', key => 'id'),
       pgr.register('k_sub', 'select id, title from notes where team in (select team from members)', key => 'id'),
       pgr.register('k_volatile', 'select id, title from notes where random() < 2', key => 'id'),
       pgr.register('k_now', 'select id, title from notes where now() > ''2000-01-01''', key => 'id'),
       pgr.register('k_distinct', 'select distinct id, title from notes', key => 'id'),
       pgr.register('k_two', 'select id, title from notes', key => 'id, title'),
       pgr.register('k_filter', 'select id, upper(title) as title from notes where team = pgr.param(''team'')::int', key => 'id');
-- Nor do keys whose text form depends on the writer's settings, or tables
-- whose policies read the table itself.
CREATE TABLE events (at timestamptz PRIMARY KEY, title text);
CREATE TABLE docs (id int PRIMARY KEY, parent int, owner uuid);
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY via_parent ON docs USING (
  owner = (SELECT auth.uid()) OR EXISTS (SELECT 1 FROM docs p WHERE p.id = docs.parent));
SELECT pgr.register('k_time', 'select at, title from events', key => 'at'),
       pgr.register('k_self', 'select id, parent from docs', key => 'id');
SELECT name, key_att IS NOT NULL AS keyed FROM pgr.query ORDER BY name;
SELECT pgr.unregister(name) FROM pgr.query WHERE name LIKE 'k\_%' ORDER BY name;
DROP TABLE events, docs;

INSERT INTO members VALUES (1, '00000000-0000-0000-0000-00000000000a'), (2, '00000000-0000-0000-0000-00000000000b');
SELECT stream AS a FROM pgr.attach('team_notes', '{}', 'pgr_user', '{"sub":"00000000-0000-0000-0000-00000000000a"}', 'h') \gset
SELECT stream AS b FROM pgr.attach('team_notes', '{}', 'pgr_user', '{"sub":"00000000-0000-0000-0000-00000000000b"}', 'h') \gset
SELECT stream AS su FROM pgr.attach('team_notes', '{}', current_user, '{}', 'h') \gset
CREATE FUNCTION tick() RETURNS integer LANGUAGE sql AS $$ SELECT pgr.refresh() $$;
-- Every stream's stored state equals a fresh evaluation of its query.
CREATE FUNCTION consistent() RETURNS boolean LANGUAGE sql AS $$
  SELECT bool_and((SELECT coalesce(jsonb_agg(e ORDER BY (e ->> 'id')::int), '[]')
                   FROM jsonb_array_elements(pgr._eval(s.query, 'keyed, public', s.params, s.role, s.claims_key)) e)
                  = (SELECT rows FROM pgr.snapshot(s.id)))
  FROM pgr.stream s
$$;

-- Inserts: each stream re-selects the new keys only.
INSERT INTO notes VALUES (1, 1, 'one'), (2, 2, 'two');
SELECT relid::regclass, vals, keys FROM pgr.dirty;
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT tick() AS deltas; COMMIT;
SELECT stream = :a AS a, stream = :b AS b, v, payload FROM pgr.delta_log WHERE stream IN (:a, :b) ORDER BY stream, v;
-- An update within visibility; an update that moves a row out of a's
-- visibility into b's; a key change; a delete.
UPDATE notes SET title = 'one!' WHERE id = 1;
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT tick() AS deltas; COMMIT;
SELECT v, payload FROM pgr.deltas(:a, 1);
UPDATE notes SET team = 2 WHERE id = 1;
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT tick() AS deltas; COMMIT;
SELECT v, payload FROM pgr.deltas(:a, 2);
SELECT v, payload FROM pgr.deltas(:b, 1);
UPDATE notes SET id = 10 WHERE id = 1;
SELECT relid::regclass, keys FROM pgr.dirty;
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT tick() AS deltas; COMMIT;
SELECT v, payload FROM pgr.deltas(:b, 2);
DELETE FROM notes WHERE id = 2;
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT tick() AS deltas; COMMIT;
SELECT v, payload FROM pgr.deltas(:b, 3);
-- Rows of other keys keep their stored state.
SELECT rows FROM pgr.snapshot(:b);
SELECT rows FROM pgr.snapshot(:su);
SELECT consistent();

-- A change to the policy's table: every cohort is evaluated again.
INSERT INTO notes VALUES (3, 1, 'three');
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT tick() AS deltas; COMMIT;
INSERT INTO members VALUES (1, '00000000-0000-0000-0000-00000000000b');
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT tick() AS deltas; COMMIT;
SELECT v, payload FROM pgr.deltas(:b, 4);
DELETE FROM members WHERE team = 1 AND member = '00000000-0000-0000-0000-00000000000a';
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT tick() AS deltas; COMMIT;
SELECT v, payload FROM pgr.deltas(:a, 3);
SELECT consistent();

-- One tick with both: notes and members changed together.
INSERT INTO notes VALUES (4, 2, 'four'), (5, 3, 'five');
DELETE FROM members WHERE team = 2;
INSERT INTO members VALUES (3, '00000000-0000-0000-0000-00000000000a');
UPDATE notes SET title = 'three!' WHERE id = 3;
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT tick() AS deltas; COMMIT;
SELECT v, payload FROM pgr.deltas(:a, 4);
SELECT v, payload FROM pgr.deltas(:b, 5);
SELECT consistent();

-- Unknown keys (TRUNCATE, or more than 1000 in one statement) take the
-- whole re-evaluation.
INSERT INTO notes SELECT i, 3, 'bulk' FROM generate_series(100, 1100) i;
SELECT relid::regclass, keys IS NULL AS unknown FROM pgr.dirty;
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT tick() AS deltas; COMMIT;
SELECT stream = :a AS a, jsonb_array_length(payload -> 'inserted') FROM pgr.delta_log WHERE stream IN (:a, :b) AND v = (SELECT s.v FROM pgr.stream s WHERE s.id = stream) ORDER BY stream;
SELECT consistent();
TRUNCATE notes;
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT tick() AS deltas; COMMIT;
SELECT rows FROM pgr.snapshot(:a);
SELECT consistent();
-- Capture triggers created before keys were captured name partition
-- columns only.
CREATE TABLE legacy (id int, team int);
CREATE TRIGGER legacy_capture AFTER INSERT ON legacy REFERENCING NEW TABLE AS n
  FOR EACH STATEMENT EXECUTE FUNCTION pgr.capture('team');
DELETE FROM pgr.dirty;
INSERT INTO legacy VALUES (1, 7), (2, 8);
SELECT relid::regclass, vals, keys FROM pgr.dirty;
DELETE FROM pgr.dirty;
DROP TABLE legacy;
DROP EXTENSION pg_reactive CASCADE;
DROP SCHEMA keyed CASCADE;
