-- Fixture of the REST tests: a film catalogue (every relationship kind) and
-- an owner-only table with RLS, as a Supabase app has them.
CREATE TABLE public.directors (
  id serial PRIMARY KEY,
  first_name text NOT NULL,
  last_name text NOT NULL
);
CREATE TABLE public.films (
  id serial PRIMARY KEY,
  director_id int REFERENCES public.directors(id),
  title text NOT NULL,
  year int NOT NULL,
  rating numeric,
  tags text[] NOT NULL DEFAULT '{}',
  meta jsonb,
  fts tsvector GENERATED ALWAYS AS (to_tsvector('english', title)) STORED,
  created_at timestamptz NOT NULL DEFAULT '2024-01-01T00:00:00Z'
);
CREATE TABLE public.actors (
  id serial PRIMARY KEY,
  first_name text NOT NULL,
  last_name text NOT NULL
);
CREATE TABLE public.roles (
  film_id int REFERENCES public.films(id) ON DELETE CASCADE,
  actor_id int REFERENCES public.actors(id),
  character text NOT NULL,
  PRIMARY KEY (film_id, actor_id)
);
CREATE TABLE public.technical_specs (
  film_id int PRIMARY KEY REFERENCES public.films(id) ON DELETE CASCADE,
  runtime_minutes int NOT NULL,
  camera text
);
CREATE TABLE public.addresses (id int PRIMARY KEY, city text NOT NULL);
CREATE TABLE public.orders (
  id int PRIMARY KEY,
  billing_address_id int REFERENCES public.addresses(id),
  shipping_address_id int REFERENCES public.addresses(id)
);
CREATE TABLE public.employees (
  id int PRIMARY KEY,
  name text NOT NULL,
  manager_id int REFERENCES public.employees(id)
);
CREATE VIEW public.film_titles AS SELECT id, director_id, title, year FROM public.films;

INSERT INTO public.directors (first_name, last_name) VALUES
  ('Christopher', 'Nolan'), ('Greta', 'Gerwig'), ('Denis', 'Villeneuve');
INSERT INTO public.films (director_id, title, year, rating, tags, meta) VALUES
  (1, 'Inception', 2010, 8.8, '{heist,dream}', '{"budget": 160, "studio": {"name": "Warner"}}'),
  (1, 'Interstellar', 2014, 8.7, '{space}', '{"budget": 165, "studio": {"name": "Paramount"}}'),
  (2, 'Lady Bird', 2017, 7.4, '{coming-of-age}', '{"budget": 10}'),
  (2, 'Barbie', 2023, 6.9, '{comedy}', NULL),
  (3, 'Dune', 2021, 8.0, '{space,epic}', '{"budget": 165}'),
  (NULL, 'Untitled', 2030, NULL, '{}', NULL);
INSERT INTO public.actors (first_name, last_name) VALUES
  ('Leonardo', 'DiCaprio'), ('Matthew', 'McConaughey'), ('Saoirse', 'Ronan'),
  ('Margot', 'Robbie'), ('Timothee', 'Chalamet');
INSERT INTO public.roles VALUES
  (1, 1, 'Cobb'), (2, 2, 'Cooper'), (2, 5, 'Tom'), (3, 3, 'Christine'), (3, 5, 'Kyle'),
  (4, 4, 'Barbie'), (5, 5, 'Paul');
INSERT INTO public.technical_specs VALUES (1, 148, 'Panavision'), (2, 169, 'IMAX');
INSERT INTO public.addresses VALUES (1, 'Paris'), (2, 'Berlin');
INSERT INTO public.orders VALUES (1, 1, 2);
INSERT INTO public.employees VALUES (1, 'Ada', NULL), (2, 'Grace', 1), (3, 'Linus', 1);

CREATE TABLE public.todos (
  id serial PRIMARY KEY,
  user_id uuid NOT NULL DEFAULT auth.uid(),
  title text NOT NULL,
  done boolean NOT NULL DEFAULT false
);
ALTER TABLE public.todos ENABLE ROW LEVEL SECURITY;
CREATE POLICY owner_only ON public.todos FOR ALL TO authenticated
  USING ((SELECT auth.uid()) = user_id) WITH CHECK ((SELECT auth.uid()) = user_id);
CREATE TABLE public.todo_notes (
  id serial PRIMARY KEY,
  todo_id int NOT NULL REFERENCES public.todos(id) ON DELETE CASCADE,
  body text NOT NULL
);
ALTER TABLE public.todo_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY through_todo ON public.todo_notes FOR ALL TO authenticated
  USING (EXISTS (SELECT 1 FROM public.todos t WHERE t.id = todo_id))
  WITH CHECK (EXISTS (SELECT 1 FROM public.todos t WHERE t.id = todo_id));
INSERT INTO public.todos (user_id, title) VALUES
  ('5d0f1e9a-7a4b-4c53-9c1e-0d7b3f0c1a11', 'alice 1'),
  ('5d0f1e9a-7a4b-4c53-9c1e-0d7b3f0c1a11', 'alice 2'),
  ('8b2c4d6e-1f3a-4b5c-8d7e-9f0a1b2c3d44', 'bob 1');
INSERT INTO public.todo_notes (todo_id, body) VALUES (1, 'alice note'), (3, 'bob note');

CREATE FUNCTION public.add_them(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
CREATE FUNCTION public.hello(name text DEFAULT 'guest') RETURNS text LANGUAGE sql STABLE AS $$ SELECT 'Hello ' || name || '!' $$;
CREATE FUNCTION public.films_since(min_year int) RETURNS SETOF public.films LANGUAGE sql STABLE
  AS 'SELECT * FROM public.films WHERE year >= min_year';
CREATE FUNCTION public.film_stats() RETURNS TABLE (n bigint, max_year int) LANGUAGE sql STABLE
  AS 'SELECT count(*), max(year) FROM public.films';
CREATE FUNCTION public.years() RETURNS SETOF int LANGUAGE sql STABLE AS 'SELECT DISTINCT year FROM public.films ORDER BY 1';
CREATE FUNCTION public.echo(jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS 'SELECT $1';
CREATE FUNCTION public.touch() RETURNS void LANGUAGE sql VOLATILE AS 'UPDATE public.directors SET first_name = first_name';
CREATE FUNCTION public.add_director(first text, last text) RETURNS public.directors LANGUAGE sql VOLATILE
  AS 'INSERT INTO public.directors (first_name, last_name) VALUES (first, last) RETURNING *';
CREATE FUNCTION public.fail(msg text) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '%', msg; END $$;
CREATE FUNCTION public.teapot() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RAISE SQLSTATE 'PT418' USING message = 'I am a teapot'; END $$;
CREATE FUNCTION public.my_todos() RETURNS SETOF public.todos LANGUAGE sql STABLE AS 'SELECT * FROM public.todos';
CREATE FUNCTION public.whoami() RETURNS json LANGUAGE sql STABLE
  AS $$ SELECT json_build_object('uid', auth.uid(), 'role', auth.role()) $$;
CREATE FUNCTION public.sum_all(VARIADIC nums int[]) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT sum(x)::int FROM unnest(nums) x';
CREATE FUNCTION public.with_header() RETURNS int LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM set_config('response.headers', '[{"Cache-Control": "public, max-age=60"}]', true);
  PERFORM set_config('response.status', '202', true);
  RETURN 1;
END $$;
CREATE TABLE public.bookings (id int PRIMARY KEY, during int4range NOT NULL);
INSERT INTO public.bookings VALUES (1, '[1,3)'), (2, '[3,6)'), (3, '[8,10)');
-- Computed field and computed relationships.
CREATE FUNCTION public.full_name(public.directors) RETURNS text LANGUAGE sql STABLE
  AS $$ SELECT $1.first_name || ' ' || $1.last_name $$;
CREATE FUNCTION public.top_films(public.directors) RETURNS SETOF public.films LANGUAGE sql STABLE
  AS $$ SELECT * FROM public.films WHERE director_id = $1.id AND rating >= 8 ORDER BY id $$;
CREATE FUNCTION public.boss(public.employees) RETURNS public.employees LANGUAGE sql STABLE
  AS $$ SELECT * FROM public.employees WHERE id = $1.manager_id $$;
-- Views that rename key columns, and a view over a view.
CREATE VIEW public.directors_renamed AS SELECT id AS director_key, last_name AS surname FROM public.directors;
CREATE VIEW public.recent_films AS SELECT id, title, director_id AS made_by FROM public.film_titles WHERE year >= 2015;
-- A volatile set-returning function that records its calls.
CREATE TABLE public.calls (id serial PRIMARY KEY);
CREATE FUNCTION public.log_and_list() RETURNS SETOF public.addresses LANGUAGE sql VOLATILE
  AS $$ INSERT INTO public.calls DEFAULT VALUES; SELECT * FROM public.addresses ORDER BY id $$;
