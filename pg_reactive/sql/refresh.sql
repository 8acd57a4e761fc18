-- Attach, refresh, deltas: per-cohort results under each role and claims.
\set VERBOSITY terse
SET search_path = app, public;
DELETE FROM todos;
SELECT pgr.register('active_todos', $$select id, title from todos where not done$$, key => 'id');
INSERT INTO todos VALUES (1, 'alice', 'a1'), (2, 'bob', 'b1');

-- Two users, two cohorts; the same user twice shares one.
SELECT stream AS alice, v, rows FROM pgr.attach('active_todos', '{}', 'pgr_user', '{"sub":"alice","exp":1}', 'h') \gset
SELECT :alice AS stream, :v AS v, :'rows'::jsonb AS rows;
SELECT stream AS bob, v, rows FROM pgr.attach('active_todos', '{}', 'pgr_user', '{"sub":"bob"}', 'h') \gset
SELECT :'rows'::jsonb AS bob_rows;
SELECT stream = :alice AS alice_shares FROM pgr.attach('active_todos', '{}', 'pgr_user', '{"sub":"alice","exp":2}', 'h');

-- Outside REPEATABLE READ the refresher refuses.
SELECT pgr.refresh();

-- Writes: insert, update, move out of the WHERE, a rolled-back insert.
INSERT INTO todos VALUES (3, 'alice', 'a2');
UPDATE todos SET title = 'b1!' WHERE id = 2;
BEGIN;
INSERT INTO todos VALUES (9, 'alice', 'never');
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pgr.refresh() AS deltas;
COMMIT;
SELECT stream = :alice AS alice, v, payload FROM pgr.delta_log ORDER BY stream, v;

UPDATE todos SET done = true WHERE id = 1;
UPDATE todos SET owner = 'bob' WHERE id = 3;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pgr.refresh() AS deltas;
COMMIT;
SELECT v, payload AS alice FROM pgr.deltas(:alice, 1);
SELECT v, payload AS bob FROM pgr.deltas(:bob, 1);

-- Nothing changed: no delta.
UPDATE todos SET title = title;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pgr.refresh() AS deltas;
COMMIT;

-- Heads and snapshots.
SELECT stream = :alice AS alice, v, error FROM pgr.heads(ARRAY[:alice, :bob]::bigint[]) ORDER BY stream;
SELECT v, rows FROM pgr.snapshot(:bob);

-- TRUNCATE counts as a change.
TRUNCATE todos;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pgr.refresh() AS deltas;
COMMIT;
SELECT v, rows FROM pgr.snapshot(:bob);
