-- +goose Up

-- API roles. Roles are cluster-wide: another database of the same cluster (or a
-- restored Supabase dump) may already have them, so every role is created only
-- when missing, and the security-relevant attributes are corrected when an
-- existing role differs (the ALTER only runs when something is wrong, so a role
-- that is already right needs no CREATEROLE privilege).
--
--   anon           requests without a user JWT (the anon key)
--   authenticated  requests carrying a signed-in user's JWT
--   service_role   the service-role key: bypasses row level security
--   authenticator  the login role of the pgStack server; it has no privileges
--                  of its own (NOINHERIT) and may only SET ROLE to the three
--                  roles above. Its password is set by the server, not here.

-- +goose StatementBegin
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN NOINHERIT;
  ELSIF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'anon'
                AND (rolcanlogin OR rolinherit OR rolbypassrls OR rolsuper)) THEN
    ALTER ROLE anon NOSUPERUSER NOLOGIN NOINHERIT NOBYPASSRLS;
  END IF;

  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN NOINHERIT;
  ELSIF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'authenticated'
                AND (rolcanlogin OR rolinherit OR rolbypassrls OR rolsuper)) THEN
    ALTER ROLE authenticated NOSUPERUSER NOLOGIN NOINHERIT NOBYPASSRLS;
  END IF;

  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
  ELSIF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'service_role'
                AND (rolcanlogin OR rolinherit OR NOT rolbypassrls OR rolsuper)) THEN
    ALTER ROLE service_role NOSUPERUSER NOLOGIN NOINHERIT BYPASSRLS;
  END IF;

  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'authenticator') THEN
    CREATE ROLE authenticator LOGIN NOINHERIT;
  ELSIF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'authenticator'
                AND (NOT rolcanlogin OR rolinherit OR rolsuper OR rolbypassrls)) THEN
    ALTER ROLE authenticator NOSUPERUSER NOBYPASSRLS LOGIN NOINHERIT;
  END IF;
END
$$;
-- +goose StatementEnd

-- authenticator switches to the API roles with SET ROLE. Re-granting an
-- existing membership only raises a notice, so this also repairs an existing
-- authenticator that lacks one of them.
GRANT anon, authenticated, service_role TO authenticator;

-- Schema public: grants are wide open, row level security policies decide
-- which rows each role can see or change (the Supabase model).
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
GRANT ALL ON ALL TABLES IN SCHEMA public TO anon, authenticated, service_role;
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO anon, authenticated, service_role;
GRANT ALL ON ALL FUNCTIONS IN SCHEMA public TO anon, authenticated, service_role;

-- Objects created later in public by the role that runs these migrations get
-- the same grants automatically.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;

-- +goose Down

-- Roles and their memberships are shared by every database of the cluster and
-- are never dropped here. Only this database's default privileges are undone.
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON FUNCTIONS FROM anon, authenticated, service_role;
