-- pg_reactive 0.1: live queries over PostgreSQL.
--
-- A live query is a registered SELECT. Subscribers attach to it with their
-- role and JWT claims; subscribers that would see the same result share one
-- stream (a cohort). Writers only mark the tables they touched (a statement
-- trigger, no NOTIFY, no live-query work); a refresher re-evaluates the
-- affected streams after commit in one snapshot, diffs the new result against
-- the stored one by key and row hash, appends the delta with the next version
-- to pgr.delta_log and announces it with NOTIFY pgr '{"s":..,"v":..,"e":..}'.

\echo Use "CREATE EXTENSION pg_reactive" to load this file. \quit

-- The catalog of live queries.
CREATE TABLE pgr.query (
  name text PRIMARY KEY CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_]{0,56}$'),
  sql text NOT NULL,
  key_cols text[] NOT NULL CHECK (cardinality(key_cols) > 0),
  columns text[] NOT NULL,
  -- Every table the query or the RLS policies of those tables read.
  tables oid[] NOT NULL,
  -- The claims the query and the policies read; NULL means all of them
  -- (except the token's own bookkeeping: exp, iat, nbf, jti).
  claim_paths text[],
  -- The search_path the query was registered with; it runs with the same one.
  search_path text NOT NULL,
  -- Partition routing: when the query reads one table whose row-level
  -- security lets a row be seen only by the user in column part_col
  -- (policies of the form col = auth.uid()), a change reaches only the
  -- cohorts whose sub is an old or new value of that column.
  part_col name,
  part_type regtype,
  -- Keyed re-select: when the query is a filter and projection of the one
  -- table key_rel (see pgr._key_source) and its single key column is column
  -- key_att of that table (of type key_type), a tick that changed only
  -- key_rel re-selects only the rows with the changed keys.
  key_rel oid,
  key_att smallint,
  key_type regtype,
  -- Policy routing: when the query is keyed, its cohorts differ only by sub,
  -- and every permissive SELECT policy of key_rel is routable (see
  -- pgr._route_qual), pgr.route_<name>(uid, keys) gives the changed keys a
  -- user may see, and a keyed tick evaluates only the cohorts whose uid may
  -- see a changed row or whose state holds one.
  route boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A stream is one cohort: subscribers of one query with the same parameters,
-- role and relevant claims. Runtime state is UNLOGGED: after a crash the
-- streams are gone, and clients get fresh snapshots under new epochs.
CREATE UNLOGGED TABLE pgr.stream (
  id bigserial PRIMARY KEY,
  query text NOT NULL REFERENCES pgr.query (name) ON DELETE CASCADE,
  params jsonb NOT NULL,
  role name NOT NULL,
  claims_key jsonb NOT NULL,
  epoch text NOT NULL,
  v bigint NOT NULL DEFAULT 0,
  error text,
  -- The cohort's partition value (see pgr.query.part_col); NULL: every change
  -- of the query's tables may affect it.
  part text,
  -- The cohort's sub as a uuid, for policy routing (see pgr.query.route);
  -- NULL: every change of the query's tables may affect it (no sub, a sub
  -- that is not a uuid, or a role that bypasses row-level security).
  uid uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used timestamptz NOT NULL DEFAULT now(),
  UNIQUE (query, params, role, claims_key)
);

-- The stored result of each stream: key, row hash and row.
CREATE UNLOGGED TABLE pgr.state (
  stream bigint NOT NULL REFERENCES pgr.stream (id) ON DELETE CASCADE,
  k jsonb NOT NULL,
  h bigint NOT NULL,
  r jsonb NOT NULL,
  PRIMARY KEY (stream, k)
);
-- Which streams hold a changed key (policy routing).
CREATE INDEX state_k_idx ON pgr.state (k);

-- The bounded delta log: contiguous versions per stream.
CREATE UNLOGGED TABLE pgr.delta_log (
  stream bigint NOT NULL REFERENCES pgr.stream (id) ON DELETE CASCADE,
  v bigint NOT NULL,
  epoch text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream, v)
);

-- Who holds a stream: one row per holder (a bridge process, or a SQL session)
-- with its subscriber count. Holders renew their leases with pgr.touch();
-- expired leases and unheld streams are collected by the refresher.
CREATE UNLOGGED TABLE pgr.lease (
  stream bigint NOT NULL REFERENCES pgr.stream (id) ON DELETE CASCADE,
  holder text NOT NULL,
  subscribers integer NOT NULL CHECK (subscribers >= 0),
  seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream, holder)
);
CREATE INDEX lease_holder_idx ON pgr.lease (holder);

-- Tables written since the last refresh, one row per writing statement. It is
-- transactional: a rolled-back write leaves nothing behind.
CREATE UNLOGGED TABLE pgr.dirty (
  relid oid NOT NULL,
  -- Old and new values of the table's partition columns; NULL: unknown
  -- (TRUNCATE, or no partitioned query reads the table).
  vals text[],
  -- Old and new keys of the changed rows as 'attnum:value', for the key
  -- columns of keyed queries on the table; NULL: unknown.
  keys text[]
);

-- One row every lock holder that changes what a tick must see updates: a
-- tick whose snapshot predates such a change then fails with a
-- serialization error instead of missing it (a stream created after its
-- snapshot would otherwise never see the changes the tick consumes).
CREATE UNLOGGED TABLE pgr.clock (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  n bigint NOT NULL DEFAULT 0
);
INSERT INTO pgr.clock DEFAULT VALUES;

-- Settings of the refresher.
CREATE TABLE pgr.settings (
  name text PRIMARY KEY,
  value text NOT NULL
);
INSERT INTO pgr.settings VALUES
  ('delta_log_retain', '1000'),   -- versions kept per stream for resume
  ('lease_ttl', '60 seconds'),    -- a holder that stops renewing loses its leases
  ('stream_grace', '60 seconds'); -- an unheld stream is kept this long for reconnects

REVOKE ALL ON ALL TABLES IN SCHEMA pgr FROM PUBLIC;
REVOKE ALL ON SCHEMA pgr FROM PUBLIC;

-- The refresher and attach serialise on this transaction-level advisory lock.
CREATE FUNCTION pgr._lock_key() RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT 7461947893826355200::bigint $$;

-- pgr.param(name) reads a subscription parameter inside a registered query:
--   pgr.register('list_items', $$select * from items where list_id = pgr.param('list')::int$$, key => 'id')
-- Parameters reach the query as a bound JSON object, never as SQL text.
CREATE FUNCTION pgr.param(name text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT nullif(current_setting('pgr.params', true), '')::jsonb ->> name
$$;
GRANT USAGE ON SCHEMA pgr TO PUBLIC;
GRANT EXECUTE ON FUNCTION pgr.param(text) TO PUBLIC;

CREATE FUNCTION pgr._key(r jsonb, cols text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT jsonb_object_agg(c, r -> c) FROM unnest(cols) AS c
$$;

CREATE FUNCTION pgr._hash(r jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT hashtextextended(r::text, 0) $$;

-- Wakes pg_reactive's background worker when the current transaction
-- commits (no-op unless the library is preloaded).
CREATE FUNCTION pgr._wake() RETURNS boolean
AS 'MODULE_PATHNAME', 'pgr_wake' LANGUAGE C VOLATILE;

-- The capture trigger (C): appends one row to pgr.dirty per writing
-- statement. With arguments (the number of partition columns, then the
-- partition columns, then key columns) and transition tables, it also records
-- the distinct old and new values of those columns. It
-- inserts without SQL and without a privilege check, so any writer records
-- its changes and nothing else; the row is transactional like the write.
CREATE FUNCTION pgr.capture() RETURNS trigger
AS 'MODULE_PATHNAME', 'pgr_capture' LANGUAGE C;

-- Calls a generated pgr.eval_<query>(keys) function (C: no statement to
-- parse and plan per call). It checks that the caller may execute it, so
-- everyone may call it: _eval calls it as the cohort's role.
CREATE FUNCTION pgr._call_eval(fn regprocedure, keys text[]) RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgr_call_eval' LANGUAGE C VOLATILE;

-- The column of table rel that output column col of view comes from, when
-- the view only filters and projects rel (C; see pgr_key_source).
CREATE FUNCTION pgr._key_source(view oid, rel oid, col text) RETURNS smallint
AS 'MODULE_PATHNAME', 'pgr_key_source' LANGUAGE C STRICT STABLE;

-- The OR of the USING expressions of rel's permissive SELECT policies, with
-- auth.uid() as $1, when each is routable once the SQL functions it calls
-- are inlined: it calls no function but auth.uid() and immutable functions
-- of pg_catalog, and reads no session state (C; see pgr_route_qual). NULL
-- otherwise.
CREATE FUNCTION pgr._route_qual(rel oid) RETURNS text
AS 'MODULE_PATHNAME', 'pgr_route_qual' LANGUAGE C STRICT STABLE;

-- The relations the policies of tables read and the functions they call,
-- seen through the SQL functions they call (C; see pgr_policy_refs).
CREATE FUNCTION pgr._policy_refs(tables oid[], OUT rels oid[], OUT funcs oid[])
AS 'MODULE_PATHNAME', 'pgr_policy_refs' LANGUAGE C STRICT STABLE;

-- (Re)creates the capture triggers of a table for the queries reading it.
CREATE FUNCTION pgr._install_triggers(t oid) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pgr AS $$
DECLARE
  tg name;
  args text;
  parts text[];
  keys text[];
BEGIN
  FOR tg IN SELECT tgname FROM pg_trigger WHERE tgrelid = t AND tgname LIKE 'pgr\_capture%' LOOP
    EXECUTE format('DROP TRIGGER %I ON %s', tg, t::regclass);
  END LOOP;
  IF NOT EXISTS (SELECT 1 FROM pgr.query q WHERE t = ANY (q.tables)) THEN
    RETURN;
  END IF;
  -- Partition columns are only worth capturing when every query reading
  -- the table routes by one; keys when a keyed query selects from it.
  IF EXISTS (SELECT 1 FROM pgr.query q WHERE t = ANY (q.tables) AND q.part_col IS NULL) THEN
    parts := '{}';
  ELSE
    SELECT array_agg(DISTINCT pq.part_col::text ORDER BY pq.part_col::text) INTO parts
    FROM pgr.query pq WHERE t = ANY (pq.tables);
  END IF;
  SELECT coalesce(array_agg(DISTINCT a.attname::text ORDER BY a.attname::text), '{}') INTO keys
  FROM pgr.query pq JOIN pg_attribute a ON a.attrelid = pq.key_rel AND a.attnum = pq.key_att
  WHERE pq.key_rel = t;
  IF cardinality(parts) = 0 AND cardinality(keys) = 0 THEN
    EXECUTE format('CREATE TRIGGER pgr_capture AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION pgr.capture()', t::regclass);
    RETURN;
  END IF;
  SELECT string_agg(quote_literal(a), ', ') INTO args
  FROM unnest(cardinality(parts)::text || parts || keys) a;
  EXECUTE format('CREATE TRIGGER pgr_capture_ins AFTER INSERT ON %s REFERENCING NEW TABLE AS pgr_new '
                 'FOR EACH STATEMENT EXECUTE FUNCTION pgr.capture(%s)', t::regclass, args);
  EXECUTE format('CREATE TRIGGER pgr_capture_upd AFTER UPDATE ON %s REFERENCING OLD TABLE AS pgr_old NEW TABLE AS pgr_new '
                 'FOR EACH STATEMENT EXECUTE FUNCTION pgr.capture(%s)', t::regclass, args);
  EXECUTE format('CREATE TRIGGER pgr_capture_del AFTER DELETE ON %s REFERENCING OLD TABLE AS pgr_old '
                 'FOR EACH STATEMENT EXECUTE FUNCTION pgr.capture(%s)', t::regclass, args);
  EXECUTE format('CREATE TRIGGER pgr_capture_trunc AFTER TRUNCATE ON %s '
                 'FOR EACH STATEMENT EXECUTE FUNCTION pgr.capture()', t::regclass);
END
$$;
REVOKE ALL ON FUNCTION pgr._wake() FROM PUBLIC;

-- The relations a relation depends on through views, expanded to base tables.
CREATE FUNCTION pgr._base_tables(rels oid[]) RETURNS oid[]
LANGUAGE sql STABLE AS $$
  WITH RECURSIVE r(oid) AS (
    SELECT unnest(rels)
    UNION
    SELECT d.refobjid
    FROM r
    JOIN pg_class c ON c.oid = r.oid AND c.relkind IN ('v', 'm')
    JOIN pg_rewrite w ON w.ev_class = c.oid
    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid
      AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> c.oid
  )
  SELECT coalesce(array_agg(DISTINCT r.oid), '{}')
  FROM r JOIN pg_class c ON c.oid = r.oid
  WHERE c.relkind IN ('r', 'p')
$$;

-- pgr.register(name, sql, key): validates the query, finds the tables it and
-- their RLS policies read, the claims they read, and installs the capture
-- triggers. Re-registering a name replaces the query (its streams are reset).
CREATE FUNCTION pgr.register(name text, sql text, key text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  view_oid oid;
  cols text[];
  keys text[];
  rels oid[];
  funcs oid[];
  pol_rels oid[];
  pol_funcs oid[];
  pol_reads oid[];
  paths text[] := '{}';
  all_claims boolean := false;
  f record;
  t oid;
  pcol name;
  ptype regtype;
  old_rels oid[];
  krel oid;
  kat smallint;
  ktype regtype;
  rqual text;
  fn regprocedure;
  saved_path text;
BEGIN
  IF name IS NULL OR name !~ '^[A-Za-z_][A-Za-z0-9_]{0,56}$' THEN
    -- At most 57 characters, so eval_<name> and route_<name> stay within
    -- PostgreSQL's 63-character identifiers and never collide.
    RAISE EXCEPTION 'pgr.register: invalid live query name %', coalesce(quote_literal(name), 'NULL')
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'A name is a letter or _ followed by at most 56 letters, digits or _.';
  END IF;
  SELECT array_agg(btrim(k)) INTO keys FROM unnest(string_to_array(key, ',')) AS k WHERE btrim(k) <> '';
  IF keys IS NULL THEN
    RAISE EXCEPTION 'pgr.register: key must name at least one column' USING ERRCODE = 'invalid_parameter_value';
  END IF;

  -- A temporary view validates the query (a single SELECT, no data-modifying
  -- statements) and records what it depends on.
  IF to_regclass('pg_temp.pgr_register_probe') IS NOT NULL THEN
    DROP VIEW pg_temp.pgr_register_probe;
  END IF;
  BEGIN
    EXECUTE format('CREATE TEMPORARY VIEW pgr_register_probe AS %s', sql);
  EXCEPTION WHEN others THEN
    RAISE EXCEPTION 'pgr.register: % is not a valid query: %', name, SQLERRM USING ERRCODE = 'invalid_parameter_value';
  END;
  view_oid := 'pg_temp.pgr_register_probe'::regclass;
  SELECT q.tables INTO old_rels FROM pgr.query q WHERE q.name = register.name;

  SELECT array_agg(attname::text ORDER BY attnum) INTO cols
  FROM pg_attribute WHERE attrelid = view_oid AND attnum > 0 AND NOT attisdropped;
  IF (SELECT count(DISTINCT c) FROM unnest(cols) c) <> cardinality(cols) THEN
    RAISE EXCEPTION 'pgr.register: the columns of % must have distinct names', name USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NOT keys <@ cols THEN
    RAISE EXCEPTION 'pgr.register: key % is not among the columns of % (%)', key, name, array_to_string(cols, ', ')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  SELECT coalesce(array_agg(DISTINCT d.refobjid) FILTER (WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid <> view_oid), '{}'),
         coalesce(array_agg(DISTINCT d.refobjid) FILTER (WHERE d.refclassid = 'pg_proc'::regclass), '{}')
  INTO rels, funcs
  FROM pg_rewrite w JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid
  WHERE w.ev_class = view_oid;
  -- Keyed re-select: one key column taken as is from the one table the
  -- query filters and projects, of a type whose text form does not depend
  -- on the writer's settings (DateStyle, extra_float_digits, ...): the
  -- capture trigger records keys as text in the writer's session.
  IF cardinality(keys) = 1 AND cardinality(rels) = 1 THEN
    kat := pgr._key_source(view_oid, rels[1], keys[1]);
    IF kat IS NOT NULL THEN
      krel := rels[1];
      SELECT atttypid::regtype INTO ktype FROM pg_attribute WHERE attrelid = krel AND attnum = kat;
      IF ktype NOT IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype, 'numeric'::regtype,
                       'text'::regtype, 'character varying'::regtype, 'uuid'::regtype) THEN
        krel := NULL;
        kat := NULL;
        ktype := NULL;
      END IF;
    END IF;
  END IF;
  DROP VIEW pg_temp.pgr_register_probe;

  rels := pgr._base_tables(rels);
  IF cardinality(rels) = 0 THEN
    RAISE EXCEPTION 'pgr.register: % reads no table', name USING ERRCODE = 'invalid_parameter_value';
  END IF;

  -- Tables and functions the RLS policies of those tables use, transitively,
  -- seen through the SQL functions they call: a policy calling
  -- is_team_member(team) reads the tables and calls the functions of its
  -- body (pgr._policy_refs), so changes to those tables are captured and
  -- only the claims the body reads make cohorts. Functions it cannot see
  -- through stay, and count as reading every claim.
  LOOP
    SELECT coalesce(array_agg(DISTINCT d.refobjid) FILTER (WHERE d.refclassid = 'pg_class'::regclass), '{}')
    INTO pol_rels
    FROM pg_policy p JOIN pg_depend d ON d.classid = 'pg_policy'::regclass AND d.objid = p.oid
    WHERE p.polrelid = ANY (rels);
    SELECT r.rels, r.funcs INTO pol_reads, pol_funcs FROM pgr._policy_refs(rels) r;
    pol_reads := pgr._base_tables(pol_reads);
    funcs := funcs || pol_funcs;
    pol_rels := pgr._base_tables(pol_rels) || pol_reads;
    EXIT WHEN pol_rels <@ rels;
    rels := ARRAY(SELECT DISTINCT unnest(rels || pol_rels));
  END LOOP;

  -- A policy that reads the keyed table itself (say, a row visible when
  -- another row of the same table exists), directly or through a function,
  -- lets a change to one row change the visibility of others: no keyed
  -- re-select then.
  IF krel IS NOT NULL AND (krel = ANY (pol_reads) OR EXISTS (
       SELECT 1 FROM pg_policy p
       WHERE p.polrelid = ANY (rels)
         AND (p.polqual::text ~ (':relid ' || krel::text || '\M')
              OR p.polwithcheck::text ~ (':relid ' || krel::text || '\M')))) THEN
    krel := NULL;
    kat := NULL;
    ktype := NULL;
  END IF;

  -- Which claims can change the result: the role is always part of a cohort;
  -- auth.uid() reads sub, auth.email() email; anything else that can read the
  -- claims (auth.jwt(), current_setting(), user functions) means all claims.
  FOR f IN SELECT DISTINCT p.oid, n.nspname, p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE p.oid = ANY (funcs) LOOP
    IF f.nspname = 'auth' AND f.proname = 'uid' THEN
      paths := paths || 'sub'::text;
    ELSIF f.nspname = 'auth' AND f.proname = 'email' THEN
      paths := paths || 'email'::text;
    ELSIF f.nspname = 'auth' AND f.proname = 'role' THEN
      NULL;
    ELSIF f.nspname = 'pgr' AND f.proname = 'param' THEN
      NULL;
    ELSIF f.nspname = 'pg_catalog' AND f.proname NOT IN ('current_setting', 'set_config') THEN
      NULL;
    ELSE
      all_claims := true;
    END IF;
  END LOOP;

  -- Partition routing: one table, row-level security on, and every
  -- permissive SELECT policy is `col = auth.uid()` on the same column.
  IF cardinality(rels) = 1 AND (SELECT relrowsecurity FROM pg_class WHERE oid = rels[1]) THEN
    SELECT CASE WHEN count(*) > 0 AND count(*) = count(m.col) AND count(DISTINCT m.col) = 1 THEN min(m.col) END
    INTO pcol
    FROM pg_policy p,
         LATERAL (SELECT coalesce(
           substring(pg_get_expr(p.polqual, p.polrelid) FROM
             '^\(*"?([A-Za-z_][A-Za-z0-9_]*)"? = (?:\( SELECT auth\.uid\(\) AS uid\)|auth\.uid\(\))\)*$'),
           substring(pg_get_expr(p.polqual, p.polrelid) FROM
             '^\(*(?:\( SELECT auth\.uid\(\) AS uid\)|auth\.uid\(\)) = "?([A-Za-z_][A-Za-z0-9_]*)"?\)*$')) AS col) m
    WHERE p.polrelid = rels[1] AND p.polpermissive AND p.polcmd IN ('r', '*');
    IF pcol IS NOT NULL THEN
      SELECT atttypid::regtype INTO ptype FROM pg_attribute
      WHERE attrelid = rels[1] AND attname = pcol AND attnum > 0 AND NOT attisdropped;
      IF NOT FOUND THEN
        pcol := NULL;
      END IF;
    END IF;
  END IF;

  -- Policy routing: a keyed query (partition routing not already narrowing
  -- it) whose cohorts differ only by sub, on a table with row-level
  -- security whose permissive SELECT policies are all routable.
  IF krel IS NOT NULL AND pcol IS NULL AND NOT all_claims
     AND ARRAY(SELECT DISTINCT unnest(paths) ORDER BY 1) = '{sub}'::text[]
     AND (SELECT relrowsecurity FROM pg_class WHERE oid = krel) THEN
    BEGIN
      rqual := pgr._route_qual(krel);
    EXCEPTION WHEN others THEN
      RAISE WARNING 'pgr.register: % is not routed by its policies: %', name, SQLERRM;
    END;
  END IF;

  INSERT INTO pgr.query (name, sql, key_cols, columns, tables, claim_paths, search_path, part_col, part_type,
                         key_rel, key_att, key_type, route)
  VALUES (register.name, register.sql, keys, cols, rels,
          CASE WHEN all_claims THEN NULL ELSE ARRAY(SELECT DISTINCT unnest(paths) ORDER BY 1) END,
          current_setting('search_path'), pcol, ptype,
          krel, kat, ktype, rqual IS NOT NULL)
  ON CONFLICT ON CONSTRAINT query_pkey DO UPDATE
    SET sql = excluded.sql, key_cols = excluded.key_cols, columns = excluded.columns,
        tables = excluded.tables, claim_paths = excluded.claim_paths,
        search_path = excluded.search_path, part_col = excluded.part_col,
        part_type = excluded.part_type, key_rel = excluded.key_rel, key_att = excluded.key_att,
        key_type = excluded.key_type, route = excluded.route, created_at = now();
  -- A replaced query invalidates its streams: subscribers resubscribe.
  DELETE FROM pgr.stream s WHERE s.query = register.name;

  -- The query as static SQL in a function of its own (see pgr._eval). Given
  -- keys (text forms of key values), a keyed query returns only the rows
  -- with those keys: one lookup per key, so even the one generic plan the
  -- refresher uses for every cohort reads the table's index on the key.
  EXECUTE format('CREATE OR REPLACE FUNCTION pgr.%I(keys text[] DEFAULT NULL) RETURNS jsonb LANGUAGE plpgsql AS %L',
    'eval_' || register.name,
    CASE WHEN kat IS NULL THEN
      format('BEGIN RETURN (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(q)), ''[]'') FROM (%s) q); END',
             register.sql)
    ELSE
      format('BEGIN IF keys IS NULL THEN '
             'RETURN (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(q)), ''[]'') FROM (%s) q); END IF; '
             'RETURN (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(q)), ''[]'') '
             'FROM pg_catalog.unnest(keys::%s[]) pgr_keys(v), LATERAL (SELECT * FROM (%s) q0 WHERE q0.%I = pgr_keys.v) q); END',
             register.sql, ktype::text, register.sql, keys[1])
    END);
  EXECUTE format('GRANT EXECUTE ON FUNCTION pgr.%I(text[]) TO PUBLIC', 'eval_' || register.name);

  -- The router: pgr.route_<query>(uid, keys) returns the keys among keys
  -- whose rows the user uid may see under some permissive policy. The
  -- refresher runs it with row-level security off (an error, never fewer
  -- rows), so it may find more cohorts than can see a row, never fewer. It
  -- runs with its caller's privileges, so anyone may call it: others learn
  -- nothing they could not read themselves. A plain SQL function without
  -- settings, so the planner inlines it into the refresher's query (which
  -- checks the EXECUTE privilege); its text names every object outside
  -- pg_catalog by schema, and it is created under search_path pg_catalog
  -- like it runs.
  FOR fn IN SELECT p.oid::regprocedure FROM pg_proc p
            WHERE p.pronamespace = 'pgr'::regnamespace AND p.proname = left('route_' || register.name, 63) LOOP
    EXECUTE format('DROP FUNCTION %s', fn);
  END LOOP;
  IF rqual IS NOT NULL THEN
    saved_path := current_setting('search_path');
    BEGIN
      PERFORM set_config('search_path', 'pg_catalog', true);
      SELECT format('SELECT %2$I.%3$I FROM %1$I.%2$I AS %2$I WHERE %2$I.%3$I = ANY ($2) AND (%4$s)',
                    n.nspname, c.relname, keys[1], rqual)
      INTO rqual
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = krel;
      EXECUTE format('CREATE FUNCTION pgr.%I(uid uuid, keys %s[]) RETURNS SETOF %s LANGUAGE sql STABLE AS %L',
                     'route_' || register.name, format_type(ktype, NULL), format_type(ktype, NULL), rqual);
      EXECUTE format('GRANT EXECUTE ON FUNCTION pgr.%I(uuid, %s[]) TO PUBLIC', 'route_' || register.name, format_type(ktype, NULL));
    EXCEPTION WHEN others THEN
      -- Registration (and the policy change that caused it) goes on
      -- without routing.
      RAISE WARNING 'pgr.register: % is not routed by its policies: %', name, SQLERRM;
      UPDATE pgr.query q SET route = false WHERE q.name = register.name;
    END;
    PERFORM set_config('search_path', saved_path, true);
  END IF;

  FOREACH t IN ARRAY ARRAY(SELECT DISTINCT unnest(rels || coalesce(old_rels, '{}'))) LOOP
    PERFORM pgr._install_triggers(t);
  END LOOP;
END
$$;

-- pgr.unregister(name): removes the query, its streams, and the capture
-- triggers no other query needs.
CREATE FUNCTION pgr.unregister(name text) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pgr AS $$
DECLARE
  gone oid[];
  t oid;
  fn regprocedure;
BEGIN
  DELETE FROM pgr.query q WHERE q.name = unregister.name RETURNING q.tables INTO gone;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  EXECUTE format('DROP FUNCTION pgr.%I(text[])', 'eval_' || unregister.name);
  FOR fn IN SELECT p.oid::regprocedure FROM pg_proc p
            WHERE p.pronamespace = 'pgr'::regnamespace AND p.proname = left('route_' || unregister.name, 63) LOOP
    EXECUTE format('DROP FUNCTION %s', fn);
  END LOOP;
  FOREACH t IN ARRAY gone LOOP
    PERFORM pgr._install_triggers(t);
  END LOOP;
  RETURN true;
END
$$;

-- Policy and table changes: a query reading a table whose policies (or
-- row-level security) changed is registered again, so its tables, claims
-- and partition routing follow the new policies. Its streams start over:
-- subscribers are told to subscribe again.
CREATE FUNCTION pgr._reregister(rels oid[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pgr AS $$
DECLARE
  q record;
  saved text := current_setting('search_path');
BEGIN
  FOR q IN SELECT name, sql, key_cols, search_path FROM pgr.query WHERE tables && rels ORDER BY name LOOP
    PERFORM set_config('search_path', q.search_path, true);
    PERFORM pgr.register(q.name, q.sql, array_to_string(q.key_cols, ','));
  END LOOP;
  PERFORM set_config('search_path', saved, true);
END
$$;

CREATE FUNCTION pgr._on_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pgr AS $$
DECLARE
  rels oid[];
BEGIN
  SELECT array_agg(DISTINCT CASE WHEN c.classid = 'pg_policy'::regclass
                                 THEN (SELECT p.polrelid FROM pg_policy p WHERE p.oid = c.objid)
                                 ELSE c.objid END)
  INTO rels
  FROM pg_event_trigger_ddl_commands() c
  WHERE c.classid IN ('pg_policy'::regclass, 'pg_class'::regclass);
  IF rels IS NOT NULL THEN
    PERFORM pgr._reregister(rels);
  END IF;
END
$$;

CREATE FUNCTION pgr._on_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pgr AS $$
DECLARE
  rels oid[];
BEGIN
  SELECT array_agg(DISTINCT to_regclass(format('%I.%I', d.address_names[1], d.address_names[2]))::oid)
  INTO rels
  FROM pg_event_trigger_dropped_objects() d
  WHERE d.object_type = 'policy' AND cardinality(d.address_names) >= 2;
  IF rels IS NOT NULL THEN
    PERFORM pgr._reregister(rels);
  END IF;
END
$$;

CREATE EVENT TRIGGER pgr_policy_changes ON ddl_command_end
  WHEN TAG IN ('CREATE POLICY', 'ALTER POLICY', 'ALTER TABLE')
  EXECUTE FUNCTION pgr._on_ddl();
CREATE EVENT TRIGGER pgr_policy_drops ON sql_drop
  WHEN TAG IN ('DROP POLICY')
  EXECUTE FUNCTION pgr._on_drop();

-- The claims that decide a cohort: only those the query and policies read.
CREATE FUNCTION pgr._claims_key(paths text[], claims jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN paths IS NULL THEN coalesce(claims, '{}') - 'exp' - 'iat' - 'nbf' - 'jti'
    ELSE coalesce((SELECT jsonb_object_agg(p, claims -> p) FROM unnest(paths) p WHERE claims ? p), '{}')
  END
$$;

-- Evaluates a stream's query (through its generated function fn) under its role
-- and claims. The caller must be a
-- member of the role (pgStack's owner role, or a superuser). Role, claims and
-- parameters are local to the current (sub)transaction. With keys, a keyed
-- query returns only the rows with those keys.
CREATE FUNCTION pgr._eval_fn(fn regprocedure, search_path text, params jsonb, role name, claims jsonb,
                             keys text[]) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  rows jsonb;
  c jsonb := claims || jsonb_build_object('role', role);
BEGIN
  PERFORM set_config('search_path', search_path, true),
          set_config('pgr.params', params::text, true),
          set_config('request.jwt.claims', c::text, true),
          set_config('request.jwt.claim.sub', coalesce(c ->> 'sub', ''), true),
          set_config('request.jwt.claim.role', role, true),
          set_config('request.jwt.claim.email', coalesce(c ->> 'email', ''), true),
          set_config('role', role, true);
  -- pgr.eval_<query>() holds the query as static SQL: its plan is cached
  -- per session (and per role, since row-level security depends on it).
  rows := pgr._call_eval(fn, keys);
  PERFORM set_config('role', 'none', true);
  RETURN rows;
END
$$;

-- The same, by the query's name.
CREATE FUNCTION pgr._eval(query text, search_path text, params jsonb, role name, claims jsonb,
                          keys text[] DEFAULT NULL) RETURNS jsonb
LANGUAGE sql AS $$
  SELECT pgr._eval_fn(format('pgr.%I(text[])', 'eval_' || query)::regprocedure, search_path, params, role, claims, keys)
$$;

-- Diffs rows (a fresh result) against the stream's stored state, stores the
-- new state and, when something changed, appends the next version to the
-- delta log and announces it. Returns the new version, or NULL when nothing
-- changed. With scope (an array of keys), rows is the result for those keys
-- only, and only the stored rows with those keys are compared.
CREATE FUNCTION pgr._apply(sid bigint, keys text[], rows jsonb, scope jsonb DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  ins jsonb;
  upd jsonb;
  del jsonb;
  nv bigint;
  ep text;
  retain bigint := (SELECT value::bigint FROM pgr.settings WHERE name = 'delta_log_retain');
BEGIN
  IF scope IS NULL THEN
    WITH n AS (
      SELECT DISTINCT ON (k) k, pgr._hash(e.r) AS h, e.r
      FROM jsonb_array_elements(rows) AS e(r), LATERAL pgr._key(e.r, keys) AS k
      ORDER BY k
    ), s AS (
      SELECT st.k, st.h FROM pgr.state st WHERE st.stream = sid
    )
    SELECT (SELECT coalesce(jsonb_agg(n.r), '[]') FROM n LEFT JOIN s ON s.k = n.k WHERE s.k IS NULL),
           (SELECT coalesce(jsonb_agg(n.r), '[]') FROM n JOIN s ON s.k = n.k WHERE s.h <> n.h),
           (SELECT coalesce(jsonb_agg(s.k), '[]') FROM s LEFT JOIN n ON n.k = s.k WHERE n.k IS NULL)
    INTO ins, upd, del;
  ELSIF rows = '[]' AND NOT EXISTS (
          SELECT 1 FROM pgr.state st
          WHERE st.stream = sid AND st.k IN (SELECT value FROM jsonb_array_elements(scope))) THEN
    -- The changed keys are neither visible to this stream nor held by it.
    RETURN NULL;
  ELSE
    WITH n AS (
      SELECT DISTINCT ON (k) k, pgr._hash(e.r) AS h, e.r
      FROM jsonb_array_elements(rows) AS e(r), LATERAL pgr._key(e.r, keys) AS k
      ORDER BY k
    ), s AS (
      SELECT st.k, st.h FROM pgr.state st
      WHERE st.stream = sid AND st.k IN (SELECT value FROM jsonb_array_elements(scope))
    )
    SELECT (SELECT coalesce(jsonb_agg(n.r), '[]') FROM n LEFT JOIN s ON s.k = n.k WHERE s.k IS NULL),
           (SELECT coalesce(jsonb_agg(n.r), '[]') FROM n JOIN s ON s.k = n.k WHERE s.h <> n.h),
           (SELECT coalesce(jsonb_agg(s.k), '[]') FROM s LEFT JOIN n ON n.k = s.k WHERE n.k IS NULL)
    INTO ins, upd, del;
  END IF;

  IF ins = '[]' AND upd = '[]' AND del = '[]' THEN
    RETURN NULL;
  END IF;

  DELETE FROM pgr.state st WHERE st.stream = sid AND st.k IN (SELECT value FROM jsonb_array_elements(del));
  INSERT INTO pgr.state (stream, k, h, r)
  SELECT sid, pgr._key(e.r, keys), pgr._hash(e.r), e.r FROM jsonb_array_elements(ins || upd) AS e(r)
  ON CONFLICT ON CONSTRAINT state_pkey DO UPDATE SET h = excluded.h, r = excluded.r;

  UPDATE pgr.stream SET v = v + 1 WHERE id = sid RETURNING v, epoch INTO nv, ep;
  INSERT INTO pgr.delta_log (stream, v, epoch, payload)
  VALUES (sid, nv, ep, jsonb_build_object('inserted', ins, 'updated', upd, 'deleted', del));
  DELETE FROM pgr.delta_log WHERE stream = sid AND v <= nv - retain;
  PERFORM pg_notify('pgr', json_build_object('s', sid, 'v', nv, 'e', ep)::text);
  RETURN nv;
END
$$;

-- pgr.refresh(): one tick. Must run in a REPEATABLE READ transaction, so every
-- stream is evaluated against the same snapshot; only one refresher runs at a
-- time (others return -1 at once). Returns the number of deltas emitted.
-- Refreshers that read a snapshot older than a concurrent attach or refresh
-- fail with a serialization error on the rows they share; retry them.
CREATE FUNCTION pgr.refresh() RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pgr AS $$
DECLARE
  rels oid[];
  all_rels oid[];
  hits text[];
  nokey_rels oid[];
  khits text[];
  kmap jsonb := '{}';
  kq record;
  kvals text[];
  kscope jsonb;
  kkeys jsonb[];
  fn regprocedure;
  cur text;
  s record;
  emitted integer := 0;
  rows jsonb;
  routed text[] := '{}';
  route_ids bigint[] := '{}';
  ids bigint[];
  rls text;
BEGIN
  IF current_setting('transaction_isolation') <> 'repeatable read' THEN
    RAISE EXCEPTION 'pgr.refresh() must run in a REPEATABLE READ transaction'
      USING ERRCODE = 'invalid_transaction_state';
  END IF;
  IF NOT pg_try_advisory_xact_lock(pgr._lock_key()) THEN
    RETURN -1;
  END IF;

  -- rels: tables changed; all_rels: those with a change of unknown
  -- partition; hits: 'relid:value' of every partition value changed;
  -- nokey_rels: tables with a change of unknown keys; khits:
  -- 'relid:attnum:value' of every key changed.
  WITH d AS (DELETE FROM pgr.dirty RETURNING relid, vals, keys)
  SELECT array_agg(DISTINCT relid),
         array_agg(DISTINCT relid) FILTER (WHERE vals IS NULL),
         (SELECT array_agg(DISTINCT d2.relid::text || ':' || v) FROM d d2, unnest(d2.vals) v WHERE v IS NOT NULL),
         array_agg(DISTINCT relid) FILTER (WHERE keys IS NULL),
         (SELECT array_agg(DISTINCT d2.relid::text || ':' || k) FROM d d2, unnest(d2.keys) k)
  INTO rels, all_rels, hits, nokey_rels, khits FROM d;
  IF rels IS NULL THEN
    RETURN 0;
  END IF;
  UPDATE pgr.clock SET n = n + 1;
  -- A keyed re-select takes the changed keys as a parameter: without this,
  -- every cohort would plan it anew (custom plans) instead of reusing one.
  PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);

  -- Keyed queries whose only changed table is their own, with known keys:
  -- kmap maps each to the text forms of the changed keys ('v') and the
  -- keys as the state stores them ('k').
  FOR kq IN SELECT q.name, q.key_cols[1] AS col, q.key_type, q.key_rel, q.route,
                   ARRAY(SELECT substr(h, length(q.key_rel::text || ':' || q.key_att::text || ':') + 1)
                         FROM unnest(khits) h
                         WHERE starts_with(h, q.key_rel::text || ':' || q.key_att::text || ':')) AS vals
            FROM pgr.query q
            WHERE q.key_rel IS NOT NULL AND q.key_rel = ANY (rels)
              AND NOT q.key_rel = ANY (coalesce(nokey_rels, '{}'))
              AND NOT EXISTS (SELECT 1 FROM unnest(q.tables) t WHERE t <> q.key_rel AND t = ANY (rels)) LOOP
    EXECUTE format('SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_object($1, to_jsonb(x))), ''[]'') FROM unnest($2::%s[]) x',
                   kq.key_type)
      INTO kscope USING kq.col, kq.vals;
    kmap := kmap || jsonb_build_object(kq.name, jsonb_build_object('v', to_jsonb(kq.vals), 'k', kscope));
    -- Policy routing: only the cohorts whose user may see one of the
    -- changed rows (pgr.route_<query>), whose role bypasses row-level
    -- security (now), that have no uid, or whose state holds one of the
    -- changed keys (deletes, rows leaving their view) are evaluated.
    IF kq.route THEN
      BEGIN
        rls := current_setting('row_security');
        PERFORM set_config('row_security', 'off', true);
        EXECUTE format('SELECT coalesce(array_agg(st.id), ''{}'') FROM pgr.stream st '
                       'WHERE st.query = $1 AND st.error IS NULL AND (st.uid IS NULL OR st.role = ANY ($2) '
                       'OR EXISTS (SELECT FROM pgr.%I(st.uid, $3::%s[])) '
                       'OR st.id IN (SELECT h.stream FROM pgr.state h WHERE h.k = ANY ($4)))',
                       'route_' || kq.name, format_type(kq.key_type, NULL))
          INTO ids
          USING kq.name,
                ARRAY(SELECT r.rolname FROM pg_roles r, pg_class c
                      WHERE c.oid = kq.key_rel
                        AND (r.rolsuper OR r.rolbypassrls OR pg_has_role(r.oid, c.relowner, 'MEMBER'))),
                kq.vals, ARRAY(SELECT jsonb_array_elements(kscope));
        PERFORM set_config('row_security', rls, true);
        routed := routed || kq.name;
        route_ids := route_ids || ids;
      EXCEPTION WHEN serialization_failure OR deadlock_detected OR query_canceled THEN
        RAISE;
      WHEN others THEN
        -- The router failed (a privilege the refresher lacks, a table
        -- under row-level security for it, an error in a policy's
        -- expression): every cohort of the query is evaluated.
        NULL;
      END;
    END IF;
  END LOOP;

  -- Streams grouped by role, so RLS plans stay cached across cohorts.
  FOR s IN SELECT st.id, st.query, st.params, st.role, st.claims_key, q.search_path, q.key_cols
           FROM pgr.stream st JOIN pgr.query q ON q.name = st.query
           WHERE q.tables && rels AND st.error IS NULL
             AND (q.part_col IS NULL OR st.part IS NULL OR q.tables[1] = ANY (coalesce(all_rels, '{}'))
                  OR (q.tables[1]::text || ':' || st.part) = ANY (coalesce(hits, '{}')))
             AND (NOT st.query = ANY (routed) OR st.id IN (SELECT unnest(route_ids)))
           ORDER BY st.role, st.query, st.id LOOP
    IF cur IS DISTINCT FROM s.query THEN
      cur := s.query;
      fn := to_regprocedure(format('pgr.%I(text[])', 'eval_' || cur));
      kscope := kmap -> cur -> 'k';
      kvals := CASE WHEN kscope IS NOT NULL THEN ARRAY(SELECT jsonb_array_elements_text(kmap -> cur -> 'v')) END;
      kkeys := CASE WHEN kscope IS NOT NULL THEN ARRAY(SELECT jsonb_array_elements(kscope)) END;
    END IF;
    BEGIN
      rows := pgr._eval_fn(fn, s.search_path, s.params, s.role, s.claims_key, kvals);
      -- Most cohorts of a keyed query neither see nor hold the changed keys.
      IF kscope IS NOT NULL AND rows = '[]' AND NOT EXISTS (
           SELECT 1 FROM pgr.state st WHERE st.stream = s.id AND st.k = ANY (kkeys)) THEN
        CONTINUE;
      END IF;
      IF pgr._apply(s.id, s.key_cols, rows, kscope) IS NOT NULL THEN
        emitted := emitted + 1;
      END IF;
    EXCEPTION WHEN serialization_failure OR deadlock_detected OR query_canceled THEN
      RAISE;
    WHEN others THEN
      -- The query no longer runs for this cohort (dropped column, revoked
      -- privilege): the stream stops, and its subscribers are told.
      UPDATE pgr.stream SET error = SQLERRM WHERE id = s.id;
      PERFORM pg_notify('pgr', json_build_object('s', s.id, 'error', SQLERRM)::text);
    END;
  END LOOP;
  RETURN emitted;
END
$$;

-- pgr.gc(): drops expired leases and streams nobody has held for the grace
-- period. The refresher's driver calls it now and then.
CREATE FUNCTION pgr.gc() RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pgr AS $$
DECLARE
  n integer;
BEGIN
  PERFORM pg_advisory_xact_lock(pgr._lock_key());
  DELETE FROM pgr.lease WHERE seen_at < now() - (SELECT value::interval FROM pgr.settings WHERE name = 'lease_ttl');
  DELETE FROM pgr.stream s
  WHERE s.last_used < now() - (SELECT value::interval FROM pgr.settings WHERE name = 'stream_grace')
    AND NOT EXISTS (SELECT 1 FROM pgr.lease l WHERE l.stream = s.id AND l.subscribers > 0);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;

-- pgr.attach(query, params, role, claims, holder): joins (or creates) the
-- stream of this cohort and returns its current state and version. The first
-- delta the caller can receive is v + 1. Runs in READ COMMITTED (the default)
-- and serialises with the refresher, so no tick falls between the snapshot
-- and the version.
CREATE FUNCTION pgr.attach(query text, params jsonb DEFAULT '{}', role name DEFAULT current_user,
                           claims jsonb DEFAULT '{}', holder text DEFAULT 'sql')
RETURNS TABLE (stream bigint, epoch text, v bigint, key_cols text[], columns text[], rows jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog, pgr AS $$
DECLARE
  q pgr.query;
  ck jsonb;
  sid bigint;
  res jsonb;
  part text;
  ruid uuid;
  bypass boolean;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'pgr.attach() must run in a READ COMMITTED transaction'
      USING ERRCODE = 'invalid_transaction_state';
  END IF;
  SELECT * INTO q FROM pgr.query WHERE name = attach.query;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'live query % is not registered', attach.query USING ERRCODE = 'undefined_object';
  END IF;
  IF params IS NULL OR jsonb_typeof(params) <> 'object' THEN
    RAISE EXCEPTION 'live query parameters must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  ck := pgr._claims_key(q.claim_paths, claims);

  PERFORM pg_advisory_xact_lock(pgr._lock_key());
  SELECT s.id INTO sid FROM pgr.stream s
  WHERE s.query = q.name AND s.params = attach.params AND s.role = attach.role AND s.claims_key = ck;
  IF sid IS NULL THEN
    -- The partition value or the routing uid, unless the role bypasses
    -- row-level security (then every change may matter).
    IF (q.part_col IS NOT NULL OR q.route) AND ck ? 'sub' THEN
      SELECT EXISTS (
        SELECT 1 FROM pg_roles r, pg_class c
        WHERE r.rolname = attach.role AND c.oid = coalesce(q.key_rel, q.tables[1])
          AND (r.rolsuper OR r.rolbypassrls OR pg_has_role(r.oid, c.relowner, 'MEMBER')))
      INTO bypass;
    END IF;
    IF q.part_col IS NOT NULL AND ck ? 'sub' AND NOT bypass THEN
      BEGIN
        EXECUTE format('SELECT ($1)::%s::text', q.part_type) INTO part USING ck ->> 'sub';
      EXCEPTION WHEN others THEN
        part := NULL;
      END;
    END IF;
    IF q.route AND ck ? 'sub' AND NOT bypass THEN
      BEGIN
        ruid := (ck ->> 'sub')::uuid;
      EXCEPTION WHEN others THEN
        ruid := NULL;
      END;
    END IF;
    res := pgr._eval(q.name, q.search_path, attach.params, attach.role, ck);
    UPDATE pgr.clock SET n = n + 1;
    INSERT INTO pgr.stream (query, params, role, claims_key, epoch, part, uid)
    VALUES (q.name, attach.params, attach.role, ck, substr(md5(random()::text || clock_timestamp()::text), 1, 12), part, ruid)
    RETURNING id INTO sid;
    INSERT INTO pgr.state (stream, k, h, r)
    SELECT DISTINCT ON (k) sid, k, pgr._hash(e.r), e.r
    FROM jsonb_array_elements(res) AS e(r), LATERAL pgr._key(e.r, q.key_cols) AS k
    ORDER BY k;
  END IF;
  UPDATE pgr.stream s SET last_used = now() WHERE s.id = sid;
  INSERT INTO pgr.lease AS l (stream, holder, subscribers) VALUES (sid, attach.holder, 1)
  ON CONFLICT ON CONSTRAINT lease_pkey DO UPDATE SET subscribers = l.subscribers + 1, seen_at = now();

  RETURN QUERY
  SELECT s.id, s.epoch, s.v, q.key_cols, q.columns,
         (SELECT coalesce(jsonb_agg(st.r ORDER BY st.k), '[]') FROM pgr.state st WHERE st.stream = s.id)
  FROM pgr.stream s WHERE s.id = sid;
END
$$;

-- detach and release change leases and streams under the same lock as attach
-- and refresh, so they never wait on each other's rows.

-- pgr.detach(stream, holder, n): n subscribers of holder leave the stream.
CREATE FUNCTION pgr.detach(stream bigint, holder text DEFAULT 'sql', n integer DEFAULT 1) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pgr AS $$
  SELECT pg_advisory_xact_lock(pgr._lock_key());
  UPDATE pgr.lease l SET subscribers = greatest(l.subscribers - detach.n, 0), seen_at = now()
  WHERE l.stream = detach.stream AND l.holder = detach.holder;
  UPDATE pgr.stream s SET last_used = now() WHERE s.id = detach.stream;
$$;

-- pgr.touch(holder): renews the holder's leases. It touches lease rows only
-- (no stream rows, no lock), so it never delays a tick.
CREATE FUNCTION pgr.touch(holder text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pgr AS $$
  UPDATE pgr.lease l SET seen_at = now() WHERE l.holder = touch.holder;
$$;

-- pgr.release(holder): drops all of holder's leases (a bridge shutting down).
CREATE FUNCTION pgr.release(holder text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pgr AS $$
  SELECT pg_advisory_xact_lock(pgr._lock_key());
  DELETE FROM pgr.lease l WHERE l.holder = release.holder;
$$;

-- pgr.deltas(stream, since): the logged deltas after version since, in order.
-- If the first returned v is not since + 1, the log no longer covers since:
-- take a snapshot (pgr.snapshot) instead.
CREATE FUNCTION pgr.deltas(stream bigint, since bigint)
RETURNS TABLE (v bigint, epoch text, payload jsonb)
LANGUAGE sql STABLE SET search_path = pg_catalog, pgr AS $$
  SELECT d.v, d.epoch, d.payload FROM pgr.delta_log d
  WHERE d.stream = deltas.stream AND d.v > deltas.since ORDER BY d.v
$$;

-- pgr.snapshot(stream): the stored state and its version, consistently.
CREATE FUNCTION pgr.snapshot(stream bigint)
RETURNS TABLE (epoch text, v bigint, rows jsonb)
LANGUAGE sql STABLE SET search_path = pg_catalog, pgr AS $$
  SELECT s.epoch, s.v,
         (SELECT coalesce(jsonb_agg(st.r ORDER BY st.k), '[]') FROM pgr.state st WHERE st.stream = s.id)
  FROM pgr.stream s WHERE s.id = snapshot.stream
$$;

-- pgr.heads(streams): each stream's epoch and latest version (and its error,
-- if it stopped). Streams that no longer exist are absent.
CREATE FUNCTION pgr.heads(streams bigint[])
RETURNS TABLE (stream bigint, epoch text, v bigint, error text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pgr AS $$
  SELECT s.id, s.epoch, s.v, s.error FROM pgr.stream s WHERE s.id = ANY (streams)
$$;

-- Administration views.
CREATE VIEW pgr.queries AS
SELECT q.name, q.sql, q.key_cols, q.columns, q.part_col,
       ARRAY(SELECT t::regclass::text FROM unnest(q.tables) t ORDER BY 1) AS tables,
       q.claim_paths, q.created_at,
       (SELECT count(*) FROM pgr.stream s WHERE s.query = q.name) AS cohorts,
       (SELECT coalesce(sum(l.subscribers), 0) FROM pgr.stream s JOIN pgr.lease l ON l.stream = s.id
        WHERE s.query = q.name) AS subscribers,
       q.key_rel IS NOT NULL AS keyed, q.route
FROM pgr.query q;

CREATE VIEW pgr.cohorts AS
SELECT s.id AS stream, s.query, s.params, s.role, s.claims_key, s.part, s.epoch, s.v, s.error,
       s.created_at, s.last_used,
       (SELECT coalesce(sum(l.subscribers), 0) FROM pgr.lease l WHERE l.stream = s.id) AS subscribers,
       (SELECT count(*) FROM pgr.state st WHERE st.stream = s.id) AS rows,
       s.uid
FROM pgr.stream s;

REVOKE ALL ON ALL TABLES IN SCHEMA pgr FROM PUBLIC;
REVOKE ALL ON FUNCTION pgr.register(text, text, text), pgr._install_triggers(oid), pgr.unregister(text), pgr.refresh(), pgr.gc(),
  pgr.attach(text, jsonb, name, jsonb, text), pgr.detach(bigint, text, integer), pgr.touch(text), pgr.release(text),
  pgr.deltas(bigint, bigint), pgr.snapshot(bigint), pgr.heads(bigint[]),
  pgr._eval(text, text, jsonb, name, jsonb, text[]), pgr._eval_fn(regprocedure, text, jsonb, name, jsonb, text[]), pgr._apply(bigint, text[], jsonb, jsonb), pgr._reregister(oid[]),
  pgr._key_source(oid, oid, text), pgr._route_qual(oid), pgr._policy_refs(oid[]) FROM PUBLIC;
