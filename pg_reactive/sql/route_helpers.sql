-- Policy routing through helper functions: a policy that calls a SQL
-- function (is_team_member(team)) routes as if the function's body were
-- written in the policy. The refresher still evaluates each cohort with the
-- function as written; only the router and registration look inside it.
\set VERBOSITY terse
CREATE EXTENSION pg_reactive;
CREATE SCHEMA helpers;
SET search_path = helpers, public;
CREATE SCHEMA IF NOT EXISTS auth;
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN s ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN s::uuid END
  FROM (SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub' AS s) c $$;
GRANT USAGE ON SCHEMA auth, helpers TO pgr_user;
CREATE TABLE members (team int, member uuid, PRIMARY KEY (team, member));
CREATE TABLE notes (id int PRIMARY KEY, team int, title text);
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
-- Supabase's usual shape: a SECURITY DEFINER helper with an empty
-- search_path, so pgr_user needs no privilege on members.
CREATE FUNCTION is_team_member(t int) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT EXISTS (SELECT 1 FROM helpers.members m WHERE m.team = t AND m.member = (SELECT auth.uid())) $$;
CREATE POLICY team ON notes USING (is_team_member(team));
GRANT SELECT ON notes TO pgr_user;
SELECT pgr.register('team_notes', 'select id, title from notes', key => 'id');
-- Routed, cohorts by sub alone, and members (read only by the helper) is
-- watched.
SELECT name, keyed, route, claim_paths, tables FROM pgr.queries WHERE name = 'team_notes';
SELECT pgr._route_qual('notes'::regclass);
SELECT pg_get_functiondef('pgr.route_team_notes(uuid, integer[])'::regprocedure);

-- Cohorts: a in team 1, b in team 2, c in both, x in none.
INSERT INTO members VALUES (1, '00000000-0000-0000-0000-00000000000a'), (2, '00000000-0000-0000-0000-00000000000b'),
  (1, '00000000-0000-0000-0000-00000000000c'), (2, '00000000-0000-0000-0000-00000000000c');
SELECT stream AS a FROM pgr.attach('team_notes', '{}', 'pgr_user', '{"sub":"00000000-0000-0000-0000-00000000000a"}', 'h') \gset
SELECT stream AS b FROM pgr.attach('team_notes', '{}', 'pgr_user', '{"sub":"00000000-0000-0000-0000-00000000000b"}', 'h') \gset
SELECT stream AS c FROM pgr.attach('team_notes', '{}', 'pgr_user', '{"sub":"00000000-0000-0000-0000-00000000000c"}', 'h') \gset
SELECT stream AS x FROM pgr.attach('team_notes', '{}', 'pgr_user', '{"sub":"00000000-0000-0000-0000-00000000000f"}', 'h') \gset
CREATE TABLE cohort (stream bigint, name text);
INSERT INTO cohort VALUES (:a, 'a'), (:b, 'b'), (:c, 'c'), (:x, 'x');
CREATE FUNCTION who(s bigint) RETURNS text LANGUAGE sql AS $$ SELECT name FROM cohort WHERE stream = s $$;
SELECT who(stream), claims_key, uid FROM pgr.cohorts WHERE query = 'team_notes' ORDER BY stream;

SET track_functions = 'pl';
CREATE FUNCTION evals() RETURNS bigint LANGUAGE sql AS $$
  SELECT coalesce(sum(calls), 0) FROM pg_stat_xact_user_functions WHERE schemaname = 'pgr' AND funcname = '_eval_fn'
$$;
CREATE FUNCTION tick(OUT deltas integer, OUT evaluated bigint) LANGUAGE plpgsql AS $$
DECLARE
  n bigint := evals();
BEGIN
  deltas := pgr.refresh();
  evaluated := evals() - n;
END
$$;
CREATE FUNCTION last_deltas() RETURNS TABLE (who text, payload jsonb) LANGUAGE sql AS $$
  SELECT who(d.stream), d.payload FROM pgr.delta_log d
  WHERE d.created_at = (SELECT max(created_at) FROM pgr.delta_log) ORDER BY 1
$$;
CREATE FUNCTION consistent() RETURNS boolean LANGUAGE sql AS $$
  SELECT bool_and((SELECT coalesce(jsonb_agg(e ORDER BY (e ->> 'id')::int), '[]')
                   FROM jsonb_array_elements(pgr._eval(s.query, 'helpers, public', s.params, s.role, s.claims_key)) e)
                  = (SELECT rows FROM pgr.snapshot(s.id)))
  FROM pgr.stream s
$$;
-- The members inserted above: every cohort is evaluated.
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM tick(); COMMIT;
-- A note of team 1 evaluates and reaches a and c only.
INSERT INTO notes VALUES (1, 1, 'one');
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM tick(); COMMIT;
SELECT * FROM last_deltas();
-- Moved to team 2: a (old team) gets a delete, b (new team) an insert, c
-- (both) nothing; x is not evaluated.
UPDATE notes SET team = 2 WHERE id = 1;
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM tick(); COMMIT;
SELECT * FROM last_deltas();
-- x joins team 2: a change to the table the helper reads reaches x.
INSERT INTO members VALUES (2, '00000000-0000-0000-0000-00000000000f');
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM tick(); COMMIT;
SELECT * FROM last_deltas();
SELECT consistent();
RESET track_functions;
SELECT pgr.unregister('team_notes');

-- Which helpers inline. Each table has one policy calling one helper.
CREATE FUNCTION member_pos(int) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM members m WHERE m.team = $1 AND m.member = auth.uid()) $$;
CREATE FUNCTION member_atomic(t int) RETURNS boolean LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT EXISTS (SELECT 1 FROM helpers.members m WHERE m.team = t AND m.member = auth.uid());
END;
CREATE FUNCTION member_return(t int) RETURNS boolean LANGUAGE sql STABLE
  RETURN EXISTS (SELECT 1 FROM helpers.members m WHERE m.team = t AND m.member = auth.uid());
-- A helper calling a helper with an argument that is not a column.
CREATE FUNCTION can_read(t int, title text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT t = 0 OR is_team_member(t + 0) OR title LIKE 'public:%' $$;
-- A default argument, and a body with a FROM clause: it stays a sub-query.
CREATE FUNCTION member_of(t int, u uuid DEFAULT auth.uid()) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT count(*) > 0 FROM members m WHERE m.team = t AND m.member = u $$;
-- The function's own search_path resolves its names, whatever the caller's.
CREATE FUNCTION member_path(t int) RETURNS boolean LANGUAGE sql STABLE SET search_path = helpers AS $$
  SELECT t IN (SELECT team FROM members WHERE member = auth.uid()) $$;
-- Not inlinable or not routable once inlined.
CREATE FUNCTION member_plpgsql(t int) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM helpers.members m WHERE m.team = t AND m.member = auth.uid());
END $$;
CREATE FUNCTION member_setting(t int) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT t = current_setting('app.team', true)::int $$;
CREATE FUNCTION member_volatile(t int) RETURNS boolean LANGUAGE sql AS $$
  SELECT t < random() * 10 $$;
CREATE FUNCTION member_rec(t int) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT t <= 0 OR member_rec(t - 1) $$;
CREATE FUNCTION member_any(t anyelement) RETURNS boolean LANGUAGE sql STABLE AS $$ SELECT t IS NULL $$;
CREATE FUNCTION member_two(t int) RETURNS boolean LANGUAGE sql STABLE AS $$ SELECT true; SELECT t = 1 $$;
CREATE FUNCTION member_two_atomic(t int) RETURNS boolean LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT true;
  SELECT t = 1;
END;
SET check_function_bodies = off;
CREATE FUNCTION member_ping(t int) RETURNS boolean LANGUAGE sql STABLE AS $$ SELECT member_pong(t) $$;
CREATE FUNCTION member_pong(t int) RETURNS boolean LANGUAGE sql STABLE AS $$ SELECT member_ping(t) $$;
-- A body that does not parse where the function runs (members is not on
-- its empty search_path) is not inlined.
CREATE FUNCTION member_nopath(t int) RETURNS boolean LANGUAGE sql STABLE SET search_path = '' AS $$
  SELECT EXISTS (SELECT 1 FROM members m WHERE m.team = t) $$;
RESET check_function_bodies;
CREATE TABLE h_pos (id int PRIMARY KEY, team int, title text);
CREATE POLICY p ON h_pos USING (member_pos(team));
CREATE TABLE h_atomic (id int PRIMARY KEY, team int, title text);
CREATE POLICY p ON h_atomic USING (member_atomic(team));
CREATE TABLE h_return (id int PRIMARY KEY, team int, title text);
CREATE POLICY p ON h_return USING (member_return(team));
CREATE TABLE h_nested (id int PRIMARY KEY, team int, title text);
CREATE POLICY p ON h_nested USING (can_read(team, title));
CREATE TABLE h_named (id int PRIMARY KEY, team int, title text);
CREATE POLICY p ON h_named USING (is_team_member(t => team));
CREATE TABLE h_default (id int PRIMARY KEY, team int, title text);
CREATE POLICY p ON h_default USING (member_of(team));
CREATE TABLE h_path (id int PRIMARY KEY, team int, title text);
CREATE POLICY p ON h_path USING (member_path(team));
-- A helper called inside a sub-query, with that sub-query's columns.
CREATE TABLE h_sub (id int PRIMARY KEY, team int, title text);
CREATE POLICY p ON h_sub USING (EXISTS (SELECT 1 FROM members m WHERE m.team = h_sub.team AND member_of(m.team, m.member)));
CREATE TABLE h_plpgsql (id int PRIMARY KEY, team int, title text);
CREATE POLICY p ON h_plpgsql USING (member_plpgsql(team));
CREATE TABLE h_setting (id int PRIMARY KEY, team int, title text);
CREATE POLICY p ON h_setting USING (member_setting(team));
CREATE TABLE h_volatile (id int PRIMARY KEY, team int, title text);
CREATE POLICY p ON h_volatile USING (member_volatile(team));
CREATE TABLE h_rec (id int PRIMARY KEY, team int, title text);
CREATE POLICY p ON h_rec USING (member_rec(team));
CREATE TABLE h_ping (id int PRIMARY KEY, team int, title text);
CREATE POLICY p ON h_ping USING (member_ping(team));
CREATE TABLE h_any (id int PRIMARY KEY, team int, title text);
CREATE POLICY p ON h_any USING (member_any(team));
CREATE TABLE h_two (id int PRIMARY KEY, team int, title text);
CREATE POLICY p ON h_two USING (member_two(team));
CREATE TABLE h_two_atomic (id int PRIMARY KEY, team int, title text);
CREATE POLICY p ON h_two_atomic USING (member_two_atomic(team));
CREATE TABLE h_nopath (id int PRIMARY KEY, team int, title text);
CREATE POLICY p ON h_nopath USING (member_nopath(team));
SELECT t AS "table", pgr._route_qual(t) AS qual
FROM unnest(ARRAY['h_pos', 'h_atomic', 'h_return', 'h_nested', 'h_named', 'h_default', 'h_path', 'h_sub',
                  'h_plpgsql', 'h_setting', 'h_volatile', 'h_rec', 'h_ping', 'h_any', 'h_two', 'h_two_atomic',
                  'h_nopath']::regclass[]) t;
-- A body without a search_path of its own resolves names on the caller's,
-- as when the policy is evaluated (the query's search_path): member_pos's
-- members is not on this one, member_path's is on its own.
SET search_path = public;
SELECT pgr._route_qual('helpers.h_pos'::regclass) AS h_pos, pgr._route_qual('helpers.h_path'::regclass) AS h_path;
SET search_path = helpers, public;

-- Registered: a helper that inlines to auth.uid() alone makes cohorts by
-- sub and routes; one that cannot be seen through (PL/pgSQL) or reads a
-- setting makes cohorts by every claim, as before, and does not route.
ALTER TABLE h_atomic ENABLE ROW LEVEL SECURITY;
ALTER TABLE h_default ENABLE ROW LEVEL SECURITY;
ALTER TABLE h_plpgsql ENABLE ROW LEVEL SECURITY;
ALTER TABLE h_setting ENABLE ROW LEVEL SECURITY;
ALTER TABLE h_rec ENABLE ROW LEVEL SECURITY;
SELECT pgr.register('r_atomic', 'select id from h_atomic', key => 'id'),
       pgr.register('r_default', 'select id from h_default', key => 'id'),
       pgr.register('r_plpgsql', 'select id from h_plpgsql', key => 'id'),
       pgr.register('r_setting', 'select id from h_setting', key => 'id'),
       pgr.register('r_rec', 'select id from h_rec', key => 'id');
SELECT name, keyed, route, claim_paths, tables FROM pgr.queries WHERE name LIKE 'r\_%' ORDER BY name;
-- The router of a sub-query body, run.
INSERT INTO h_default VALUES (1, 1, 'one'), (2, 2, 'two'), (3, 3, 'three');
SELECT * FROM pgr.route_r_default('00000000-0000-0000-0000-00000000000c', '{1,2,3}') ORDER BY 1;
SELECT pgr.unregister(name) FROM pgr.query WHERE name LIKE 'r\_%' ORDER BY name;

-- A helper that reads the queried table itself: a change to one row can
-- change who sees another, so the query is not keyed (nor routed).
CREATE TABLE docs (id int PRIMARY KEY, parent int, owner uuid);
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
CREATE FUNCTION owns_parent(p int) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER AS $$
  SELECT EXISTS (SELECT 1 FROM helpers.docs d WHERE d.id = p AND d.owner = auth.uid()) $$;
CREATE POLICY p ON docs USING (owner = auth.uid() OR owns_parent(parent));
SELECT pgr.register('r_docs', 'select id from docs', key => 'id');
SELECT name, keyed, route, claim_paths, tables FROM pgr.queries WHERE name = 'r_docs';
SELECT pgr.unregister('r_docs');

DROP EXTENSION pg_reactive CASCADE;
DROP SCHEMA helpers CASCADE;
