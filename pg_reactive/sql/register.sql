-- Registration: validation, dependencies, claims, triggers.
\set VERBOSITY terse
CREATE EXTENSION pg_reactive;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgr_user') THEN CREATE ROLE pgr_user NOLOGIN; END IF;
END $$;
CREATE SCHEMA app;
SET search_path = app, public;
CREATE TABLE todos (id int PRIMARY KEY, owner text NOT NULL, title text NOT NULL, done boolean NOT NULL DEFAULT false);
CREATE TABLE members (team int, member text);
CREATE TABLE notes (id int PRIMARY KEY, team int, body text);
CREATE FUNCTION me() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting('request.jwt.claims', true)::jsonb ->> 'sub' $$;
ALTER TABLE todos ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON todos USING (owner = me());
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY team ON notes USING (EXISTS (SELECT 1 FROM members m WHERE m.team = notes.team AND m.member = me()));
GRANT USAGE ON SCHEMA app TO pgr_user;
GRANT SELECT ON todos, members, notes TO pgr_user;

-- Invalid registrations.
SELECT pgr.register('bad name', 'select 1 as id', 'id');
SELECT pgr.register(repeat('x', 58), 'select 1 as id', 'id');
SELECT pgr.register(repeat('x', 57), 'select id from todos', 'id');
SELECT pgr.unregister(repeat('x', 57));
SELECT pgr.register('nokey', 'select id from todos', 'nope');
SELECT pgr.register('broken', 'select id from missing_table', 'id');
SELECT pgr.register('writes', 'with d as (delete from todos returning id) select id from d', 'id');
SELECT pgr.register('notable', 'select 1 as id', 'id');

-- A query over a policy-protected table: the policy's function reads all
-- claims (a user function), so every claim but exp/iat/nbf/jti decides the cohort.
SELECT pgr.register('active_todos', $$select id, title from todos where not done$$, key => 'id');
-- The policy of notes reads members: both tables are captured.
SELECT pgr.register('team_notes', $$select id, body from notes where team = pgr.param('team')::int$$, key => 'id');
SELECT name, key_cols, columns, tables, claim_paths FROM pgr.queries ORDER BY name;
SELECT tgrelid::regclass, tgname FROM pg_trigger WHERE tgname LIKE 'pgr\_capture%' ORDER BY tgrelid::regclass::text, tgname;

-- Re-registering replaces the query.
SELECT pgr.register('active_todos', $$select id, title, done from todos$$, key => 'id');
SELECT name, columns FROM pgr.queries WHERE name = 'active_todos';
SELECT pgr.unregister('team_notes'), pgr.unregister('team_notes');
SELECT tgrelid::regclass, tgname FROM pg_trigger WHERE tgname LIKE 'pgr\_capture%' ORDER BY tgrelid::regclass::text, tgname;
