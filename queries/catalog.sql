-- The catalog facts GET /api/schema adds to the REST schema cache
-- (postgrest.LoadCache): types, column details, function signatures, enums,
-- composite types, row-level security and policies.

-- name: ListExistingSchemas :many
SELECT n.nspname::text AS name
FROM pg_catalog.pg_namespace AS n
WHERE n.nspname = ANY(@names::text[])
ORDER BY n.nspname;

-- name: ListTypes :many
-- Every type, with what resolving domains and array elements needs.
SELECT t.oid AS oid, n.nspname::text AS schema, t.typname::text AS name, t.typtype::text AS kind,
  t.typbasetype AS base_type, t.typelem AS element_type, t.typcategory::text AS category,
  coalesce(c.relkind::text, '')::text AS relkind,
  pg_catalog.format_type(t.oid, NULL)::text AS formatted
FROM pg_catalog.pg_type AS t
JOIN pg_catalog.pg_namespace AS n ON n.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_class AS c ON c.oid = t.typrelid;

-- name: ListColumnDetails :many
-- The type, identity and updatability of the columns of the schemas' relations.
SELECT n.nspname::text AS schema, c.relname::text AS relation, a.attname::text AS column_name,
  a.atttypid AS type_oid, a.attidentity::text AS identity, a.attgenerated::text AS generated,
  pg_catalog.pg_column_is_updatable(c.oid, a.attnum, false) AS updatable
FROM pg_catalog.pg_attribute AS a
JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(@schemas::text[]) AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped;

-- name: ListRelationSecurity :many
-- Whether row-level security is enabled (and forced) on the schemas' tables.
SELECT n.nspname::text AS schema, c.relname::text AS relation,
  c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(@schemas::text[]) AND c.relkind IN ('r', 'p', 'f');

-- name: ListPolicies :many
SELECT n.nspname::text AS schema, c.relname::text AS relation, p.polname::text AS name,
  p.polcmd::text AS command, p.polpermissive AS permissive,
  array(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(r)::text END
        FROM unnest(p.polroles) AS r ORDER BY 1)::text[] AS roles,
  coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '')::text AS using_expr,
  coalesce(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), '')::text AS check_expr
FROM pg_catalog.pg_policy AS p
JOIN pg_catalog.pg_class AS c ON c.oid = p.polrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(@schemas::text[])
ORDER BY n.nspname, c.relname, p.polname;

-- name: ListFunctionSignatures :many
-- The argument and result types of the schemas' functions, keyed like the
-- REST schema cache: schema, name and the input argument types.
SELECT n.nspname::text AS schema, p.proname::text AS name,
  array(SELECT pg_catalog.format_type(t, NULL) FROM unnest(p.proargtypes) AS t)::text[] AS input_types,
  coalesce(p.proallargtypes, p.proargtypes::oid[])::oid[] AS arg_types,
  coalesce(p.proargmodes::text[], '{}')::text[] AS arg_modes,
  coalesce(p.proargnames, '{}')::text[] AS arg_names,
  p.prorettype AS return_type, p.proretset AS returns_set
FROM pg_catalog.pg_proc AS p
JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname = ANY(@schemas::text[]) AND p.prokind = 'f';

-- name: ListEnums :many
SELECT n.nspname::text AS schema, t.typname::text AS name,
  array(SELECT e.enumlabel::text FROM pg_catalog.pg_enum AS e
        WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)::text[] AS labels
FROM pg_catalog.pg_type AS t
JOIN pg_catalog.pg_namespace AS n ON n.oid = t.typnamespace
WHERE t.typtype = 'e';

-- name: ListCompositeAttributes :many
-- The attributes of the schemas' stand-alone composite types, in order.
SELECT n.nspname::text AS schema, t.typname::text AS type_name, a.attname::text AS name,
  a.atttypid AS type_oid
FROM pg_catalog.pg_type AS t
JOIN pg_catalog.pg_namespace AS n ON n.oid = t.typnamespace
JOIN pg_catalog.pg_class AS c ON c.oid = t.typrelid AND c.relkind = 'c'
JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = ANY(@schemas::text[])
ORDER BY n.nspname, t.typname, a.attnum;
