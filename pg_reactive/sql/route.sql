-- Policy routing: for a keyed query on a table whose permissive SELECT
-- policies are routable, a tick that changed only that table evaluates only
-- the cohorts whose user may see a changed row, that hold one, or that
-- cannot be routed (no uuid sub, a role that bypasses row-level security).
\set VERBOSITY terse
CREATE EXTENSION pg_reactive;
CREATE SCHEMA route;
SET search_path = route, public;
CREATE SCHEMA IF NOT EXISTS auth;
-- A sub that is not a uuid reads as NULL here (pgStack's auth.uid() raises).
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN s ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN s::uuid END
  FROM (SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub' AS s) c $$;
GRANT USAGE ON SCHEMA auth, route TO pgr_user;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgr_route_owner') THEN CREATE ROLE pgr_route_owner NOLOGIN; END IF;
END $$;
CREATE TABLE members (team int, member uuid, PRIMARY KEY (team, member));
CREATE TABLE notes (id int PRIMARY KEY, team int, title text);
ALTER TABLE notes OWNER TO pgr_route_owner;
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY team ON notes USING (
  EXISTS (SELECT 1 FROM members m WHERE m.team = notes.team AND m.member = (SELECT auth.uid())));
CREATE POLICY lobby ON notes FOR SELECT USING (team = 0);
-- Neither a write policy nor a restrictive one can make a row visible.
CREATE POLICY writers ON notes FOR INSERT WITH CHECK (true);
CREATE POLICY short ON notes AS RESTRICTIVE USING (length(title) < 100);
GRANT SELECT ON members, notes TO pgr_user;
SELECT pgr.register('team_notes', 'select id, title from notes', key => 'id');
SELECT name, keyed, route, claim_paths FROM pgr.queries WHERE name = 'team_notes';
SELECT pgr._route_qual('notes'::regclass);
SELECT pg_get_functiondef('pgr.route_team_notes(uuid, integer[])'::regprocedure);

-- Routable and not. Every function must be auth.uid() or an immutable one
-- of pg_catalog, and nothing may read session state. SQL functions are seen
-- through (route_helpers): my_team() and same() route.
CREATE FUNCTION my_team() RETURNS int LANGUAGE sql STABLE AS $$ SELECT 1 $$;
CREATE FUNCTION same(int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT $1 $$;
CREATE VIEW my_teams AS SELECT team FROM members WHERE member = auth.uid();
CREATE TABLE q_ok (id int PRIMARY KEY, owner uuid, team int, tags text[]);
CREATE POLICY mine ON q_ok USING (owner = auth.uid() OR 'all' = ANY (tags));
CREATE POLICY teams ON q_ok USING (team IN (SELECT m.team FROM members m WHERE m.member = auth.uid()) AND lower('X') = 'x');
CREATE TABLE q_fn (id int PRIMARY KEY, team int);
CREATE POLICY p ON q_fn USING (team = my_team());
CREATE TABLE q_immutable (id int PRIMARY KEY, team int);
CREATE POLICY p ON q_immutable USING (same(team) = 1);
CREATE TABLE q_setting (id int PRIMARY KEY, team int);
CREATE POLICY p ON q_setting USING (team = current_setting('app.team', true)::int);
CREATE TABLE q_user (id int PRIMARY KEY, owner uuid, who name);
CREATE POLICY p ON q_user USING (owner = auth.uid() OR who = current_user);
CREATE TABLE q_view (id int PRIMARY KEY, team int);
CREATE POLICY p ON q_view USING (team IN (SELECT t.team FROM my_teams t));
CREATE TABLE q_now (id int PRIMARY KEY, at timestamptz);
CREATE POLICY p ON q_now USING (at > now());
CREATE TABLE q_write (id int PRIMARY KEY, owner uuid);
CREATE POLICY p ON q_write FOR UPDATE USING (owner = auth.uid());
SELECT t AS "table", pgr._route_qual(t) AS qual
FROM unnest(ARRAY['q_ok', 'q_fn', 'q_immutable', 'q_setting', 'q_user', 'q_view', 'q_now', 'q_write']::regclass[]) t;
-- The router reads sub-queries with row-level security off. Over a table
-- with row-level security it routes only where more rows can only make the
-- policy true (EXISTS or IN under AND and OR); under NOT, in a scalar
-- sub-query or ALL, a row the subscriber cannot see could make the router
-- skip them. Over tables without row-level security it is exact.
CREATE TABLE blocked (team int, member uuid);
CREATE TABLE blocked_rls (team int, member uuid);
ALTER TABLE blocked_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON blocked_rls USING (member = auth.uid());
CREATE TABLE p_not (id int PRIMARY KEY, team int);
CREATE POLICY p ON p_not USING (NOT EXISTS (SELECT 1 FROM blocked b WHERE b.team = p_not.team AND b.member = auth.uid()));
CREATE TABLE p_not_rls (id int PRIMARY KEY, team int);
CREATE POLICY p ON p_not_rls USING (NOT EXISTS (SELECT 1 FROM blocked_rls b WHERE b.team = p_not_rls.team));
CREATE TABLE p_in_rls (id int PRIMARY KEY, team int);
CREATE POLICY p ON p_in_rls USING (team IN (SELECT b.team FROM blocked_rls b WHERE b.member = auth.uid()) OR team = 0);
CREATE TABLE p_join_rls (id int PRIMARY KEY, team int);
CREATE POLICY p ON p_join_rls USING (EXISTS (SELECT 1 FROM blocked_rls b JOIN members m ON m.team = b.team
  WHERE b.team = p_join_rls.team AND m.member = auth.uid()));
CREATE TABLE p_count_rls (id int PRIMARY KEY, team int);
CREATE POLICY p ON p_count_rls USING ((SELECT count(*) FROM blocked_rls b WHERE b.team = p_count_rls.team) < 3);
CREATE TABLE p_all_rls (id int PRIMARY KEY, team int);
CREATE POLICY p ON p_all_rls USING (team <> ALL (SELECT b.team FROM blocked_rls b));
CREATE TABLE p_nested_rls (id int PRIMARY KEY, team int);
CREATE POLICY p ON p_nested_rls USING (EXISTS (SELECT 1 FROM members m WHERE m.team = p_nested_rls.team
  AND m.member = auth.uid() AND NOT EXISTS (SELECT 1 FROM blocked_rls b WHERE b.team = m.team)));
CREATE TABLE p_outer_rls (id int PRIMARY KEY, team int);
CREATE POLICY p ON p_outer_rls USING (EXISTS (SELECT 1 FROM members m LEFT JOIN blocked_rls b ON b.team = m.team
  WHERE m.team = p_outer_rls.team AND m.member = auth.uid() AND b.team IS NULL));
CREATE TABLE p_coalesce_rls (id int PRIMARY KEY, team int);
CREATE POLICY p ON p_coalesce_rls USING (coalesce((SELECT false FROM blocked_rls b WHERE b.team = p_coalesce_rls.team LIMIT 1), true));
SELECT t AS "table", pgr._route_qual(t) IS NOT NULL AS routed
FROM unnest(ARRAY['p_not', 'p_not_rls', 'p_in_rls', 'p_join_rls', 'p_count_rls', 'p_all_rls', 'p_nested_rls',
                  'p_outer_rls', 'p_coalesce_rls']::regclass[]) t;
DROP TABLE blocked, blocked_rls, p_not, p_not_rls, p_in_rls, p_join_rls, p_count_rls, p_all_rls, p_nested_rls,
  p_outer_rls, p_coalesce_rls;
-- Registered, only a query whose cohorts differ by sub alone routes; an
-- owner-only policy routes by partition instead.
ALTER TABLE q_ok ENABLE ROW LEVEL SECURITY;
ALTER TABLE q_user ENABLE ROW LEVEL SECURITY;
ALTER TABLE q_fn ENABLE ROW LEVEL SECURITY;
CREATE TABLE q_owner (id int PRIMARY KEY, owner uuid);
ALTER TABLE q_owner ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON q_owner USING (owner = (SELECT auth.uid()));
CREATE TABLE q_norls (id int PRIMARY KEY, owner uuid);
CREATE POLICY p ON q_norls USING (owner = auth.uid());
SELECT pgr.register('r_ok', 'select id from q_ok', key => 'id'),
       pgr.register('r_user', 'select id from q_user', key => 'id'),
       pgr.register('r_fn', 'select id from q_fn', key => 'id'),
       pgr.register('r_owner', 'select id from q_owner', key => 'id'),
       pgr.register('r_norls', 'select id from q_norls where owner = auth.uid()', key => 'id'),
       pgr.register('r_join', 'select o.id from q_ok o join members m using (team)', key => 'id');
SELECT name, keyed, route, part_col, claim_paths FROM pgr.queries WHERE name LIKE 'r\_%' ORDER BY name;
SELECT proname FROM pg_proc WHERE pronamespace = 'pgr'::regnamespace AND proname LIKE 'route\_%' ORDER BY 1;
SELECT pgr.unregister(name) FROM pgr.query WHERE name LIKE 'r\_%' ORDER BY name;
SELECT proname FROM pg_proc WHERE pronamespace = 'pgr'::regnamespace AND proname LIKE 'route\_%' ORDER BY 1;
DROP TABLE q_ok, q_fn, q_immutable, q_setting, q_user, q_view, q_now, q_write, q_owner, q_norls;
DROP VIEW my_teams;

-- Cohorts: a in team 1, b in team 2, c in both, x in none; n has a sub that
-- is not a uuid, e no sub at all, su is the superuser (bypasses RLS).
INSERT INTO members VALUES (1, '00000000-0000-0000-0000-00000000000a'), (2, '00000000-0000-0000-0000-00000000000b'),
  (1, '00000000-0000-0000-0000-00000000000c'), (2, '00000000-0000-0000-0000-00000000000c');
SELECT stream AS a FROM pgr.attach('team_notes', '{}', 'pgr_user', '{"sub":"00000000-0000-0000-0000-00000000000A"}', 'h') \gset
SELECT stream AS b FROM pgr.attach('team_notes', '{}', 'pgr_user', '{"sub":"00000000-0000-0000-0000-00000000000b"}', 'h') \gset
SELECT stream AS c FROM pgr.attach('team_notes', '{}', 'pgr_user', '{"sub":"00000000-0000-0000-0000-00000000000c"}', 'h') \gset
SELECT stream AS x FROM pgr.attach('team_notes', '{}', 'pgr_user', '{"sub":"00000000-0000-0000-0000-00000000000f"}', 'h') \gset
SELECT stream AS n FROM pgr.attach('team_notes', '{}', 'pgr_user', '{"sub":"not-a-uuid"}', 'h') \gset
SELECT stream AS e FROM pgr.attach('team_notes', '{}', 'pgr_user', '{}', 'h') \gset
SELECT stream AS su FROM pgr.attach('team_notes', '{}', current_user, '{"sub":"00000000-0000-0000-0000-00000000000b"}', 'h') \gset
CREATE TABLE cohort (stream bigint, name text);
INSERT INTO cohort VALUES (:a, 'a'), (:b, 'b'), (:c, 'c'), (:x, 'x'), (:n, 'n'), (:e, 'e'), (:su, 'su');
CREATE FUNCTION who(s bigint) RETURNS text LANGUAGE sql AS $$ SELECT name FROM cohort WHERE stream = s $$;
SELECT who(stream), uid FROM pgr.cohorts WHERE query = 'team_notes' ORDER BY stream;

-- One tick: the deltas it emitted and the cohorts it evaluated (calls of
-- pgr._eval_fn during the tick).
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
CREATE FUNCTION last_deltas() RETURNS TABLE (who text, v bigint, payload jsonb) LANGUAGE sql AS $$
  SELECT who(d.stream), d.v, d.payload FROM pgr.delta_log d
  WHERE d.created_at = (SELECT max(created_at) FROM pgr.delta_log) ORDER BY 1
$$;
-- Every stream's stored state equals a fresh evaluation of its query.
CREATE FUNCTION consistent() RETURNS boolean LANGUAGE sql AS $$
  SELECT bool_and((SELECT coalesce(jsonb_agg(e ORDER BY (e ->> 'id')::int), '[]')
                   FROM jsonb_array_elements(pgr._eval(s.query, 'route, public', s.params, s.role, s.claims_key)) e)
                  = (SELECT rows FROM pgr.snapshot(s.id)))
  FROM pgr.stream s
$$;

-- The members inserted above changed a table the policy reads: that tick
-- evaluates every cohort (and finds nothing new).
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM tick(); COMMIT;
-- A note of team 1 reaches a and c; b and x are not evaluated.
INSERT INTO notes VALUES (1, 1, 'one');
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM tick(); COMMIT;
SELECT * FROM last_deltas();
-- A lobby note (team 0): every cohort may see it.
INSERT INTO notes VALUES (2, 0, 'lobby');
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM tick(); COMMIT;
SELECT who, payload FROM last_deltas();
-- Moving note 1 to team 2: a (which holds it) gets a delete, b an insert;
-- c sees it in both teams and gets nothing; x is not evaluated.
UPDATE notes SET team = 2 WHERE id = 1;
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM tick(); COMMIT;
SELECT who, payload FROM last_deltas();
-- A delete reaches the holders; nobody else can see the row any more.
DELETE FROM notes WHERE id = 1;
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM tick(); COMMIT;
SELECT who, payload FROM last_deltas();
SELECT consistent();
-- A change to members is not keyed: every cohort is evaluated.
INSERT INTO notes VALUES (3, 2, 'three');
INSERT INTO members VALUES (2, '00000000-0000-0000-0000-00000000000f');
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM tick(); COMMIT;
SELECT who, payload FROM last_deltas();
SELECT consistent();
-- A role that comes to bypass row-level security (here: by becoming a
-- member of the table's owner) is evaluated from the next tick on.
GRANT pgr_route_owner TO pgr_user;
INSERT INTO notes VALUES (4, 3, 'four');
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM tick(); COMMIT;
SELECT who, payload FROM last_deltas();
REVOKE pgr_route_owner FROM pgr_user;
UPDATE notes SET title = 'four!' WHERE id = 4;
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM tick(); COMMIT;
SELECT who, payload FROM last_deltas();
SELECT consistent();
-- A router that fails (here: gone) makes the tick evaluate every cohort.
DROP FUNCTION pgr.route_team_notes(uuid, integer[]);
UPDATE notes SET title = 'three!' WHERE id = 3;
BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM tick(); COMMIT;
SELECT who, payload FROM last_deltas();
SELECT consistent();

-- Policy changes register the query again: a policy reading session state
-- turns routing off and drops the router; dropping it brings both back.
CREATE POLICY admins ON notes USING (current_user = 'admin');
SELECT route FROM pgr.queries WHERE name = 'team_notes';
SELECT count(*) AS routers FROM pg_proc WHERE proname = 'route_team_notes';
DROP POLICY admins ON notes;
SELECT route FROM pgr.queries WHERE name = 'team_notes';
SELECT count(*) AS routers FROM pg_proc WHERE proname = 'route_team_notes';
-- The router runs with its caller's privileges: the refresher finds that b
-- may see note 3; pgr_user without claims, who can read only the lobby,
-- learns nothing about it.
SELECT * FROM pgr.route_team_notes('00000000-0000-0000-0000-00000000000b', '{2,3}');
SET ROLE pgr_user;
SELECT * FROM pgr.route_team_notes('00000000-0000-0000-0000-00000000000b', '{2,3}');
RESET ROLE;
SELECT pgr.unregister('team_notes');
SELECT count(*) AS routers FROM pg_proc WHERE proname = 'route_team_notes';
RESET track_functions;
DROP EXTENSION pg_reactive CASCADE;
DROP SCHEMA route CASCADE;
DROP ROLE pgr_route_owner;
