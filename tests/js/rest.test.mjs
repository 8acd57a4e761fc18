// /rest/v1 as application code uses it: the real supabase-js (postgrest-js)
// against pgStack, over the fixture schema of postgrest/testdata/schema.sql
// with row level security on the todos.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from '@supabase/supabase-js';

const url = process.env.PGSTACK_URL;
const anonKey = process.env.PGSTACK_ANON_KEY;
const serviceKey = process.env.PGSTACK_SERVICE_KEY;
const alice = process.env.PGSTACK_ALICE_TOKEN;
const bob = process.env.PGSTACK_BOB_TOKEN;
const aliceID = process.env.PGSTACK_ALICE_ID;

const options = { auth: { persistSession: false, autoRefreshToken: false } };
const client = (token) =>
  createClient(url, anonKey, token ? { ...options, accessToken: async () => token } : options);
const service = createClient(url, serviceKey, options);
const anon = client();
const asAlice = client(alice);
const asBob = client(bob);

const ok = (res) => {
  assert.equal(res.error, null, JSON.stringify(res.error));
  return res;
};

test('select with aliases, casts, JSON paths and every embed kind', async () => {
  const { data } = ok(await anon
    .from('films')
    .select('title, released:year::text, budget:meta->budget, director:directors(last_name), roles(character), actors(first_name)')
    .eq('id', 3)
    .order('character', { referencedTable: 'roles' })
    .order('first_name', { referencedTable: 'actors' }));
  assert.deepEqual(data, [{
    title: 'Lady Bird', released: '2017', budget: 10, director: { last_name: 'Gerwig' },
    roles: [{ character: 'Christine' }, { character: 'Kyle' }],
    actors: [{ first_name: 'Saoirse' }, { first_name: 'Timothee' }],
  }]);
});

test('filters', async () => {
  const ids = async (q) => (ok(await q.order('id')).data).map((r) => r.id);
  const films = () => anon.from('films').select('id');
  assert.deepEqual(await ids(films().gt('year', 2017).lte('year', 2023)), [4, 5]);
  assert.deepEqual(await ids(films().in('title', ['Dune', 'Lady Bird'])), [3, 5]);
  assert.deepEqual(await ids(films().ilike('title', '%IN%')), [1, 2]);
  assert.deepEqual(await ids(films().is('rating', null)), [6]);
  assert.deepEqual(await ids(films().not('rating', 'is', null).lt('year', 2014)), [1]);
  assert.deepEqual(await ids(films().or('year.lt.2012,and(year.gt.2020,rating.gt.7)')), [1, 5]);
  assert.deepEqual(await ids(films().contains('tags', ['space'])), [2, 5]);
  assert.deepEqual(await ids(films().containedBy('tags', ['space', 'epic', 'heist'])), [2, 5, 6]);
  assert.deepEqual(await ids(films().overlaps('tags', ['dream', 'comedy'])), [1, 4]);
  assert.deepEqual(await ids(films().contains('meta', { budget: 165 })), [2, 5]);
  assert.deepEqual(await ids(films().textSearch('fts', 'dune')), [5]);
  assert.deepEqual(await ids(films().textSearch('title', 'lady bird', { type: 'plain', config: 'english' })), [3]);
  assert.deepEqual(await ids(films().textSearch('title', 'interstellar or inception', { type: 'websearch' })), [1, 2]);
  assert.deepEqual(await ids(films().likeAnyOf('title', ['Dun%', 'Bar%'])), [4, 5]);
  assert.deepEqual(await ids(films().match({ director_id: 1, year: 2014 })), [2]);
  assert.deepEqual(await ids(films().filter('title', 'imatch', '^d')), [5]);
  assert.deepEqual(await ids(films().neq('id', 1).lt('id', 4)), [2, 3]);
  assert.deepEqual(await ids(anon.from('bookings').select('id').rangeAdjacent('during', '[6,8)')), [2, 3]);
  assert.deepEqual(await ids(anon.from('bookings').select('id').rangeLt('during', '[7,8)')), [1, 2]);
});

test('filters, order and limit on embedded resources, inner joins and anti-joins', async () => {
  const { data } = ok(await anon
    .from('directors')
    .select('last_name, films(title)')
    .eq('id', 1)
    .order('year', { referencedTable: 'films', ascending: false })
    .limit(1, { referencedTable: 'films' }));
  assert.deepEqual(data, [{ last_name: 'Nolan', films: [{ title: 'Interstellar' }] }]);

  const inner = ok(await anon.from('films').select('title, actors!inner(first_name)')
    .eq('actors.first_name', 'Matthew'));
  assert.deepEqual(inner.data, [{ title: 'Interstellar', actors: [{ first_name: 'Matthew' }] }]);

  const orphan = ok(await anon.from('films').select('title, roles()').is('roles', null));
  assert.deepEqual(orphan.data, [{ title: 'Untitled' }]);

  const spread = ok(await anon.from('films').select('title, ...directors(director:last_name)').eq('id', 5));
  assert.deepEqual(spread.data, [{ title: 'Dune', director: 'Villeneuve' }]);

  const ordered = ok(await anon.from('films').select('id, directors(last_name)')
    .not('director_id', 'is', null)
    .order('directors(last_name)', { ascending: false }).order('id').limit(2));
  assert.deepEqual(ordered.data.map((r) => r.id), [5, 1]);
});

test('range, counts and head', async () => {
  const page = ok(await anon.from('films').select('id', { count: 'exact' }).order('id').range(1, 2));
  assert.equal(page.status, 206);
  assert.equal(page.count, 6);
  assert.deepEqual(page.data, [{ id: 2 }, { id: 3 }]);

  const head = ok(await anon.from('films').select('*', { count: 'exact', head: true }).gt('year', 2015));
  assert.equal(head.count, 4);
  assert.equal(head.data, null);

  const planned = ok(await anon.from('films').select('id', { count: 'planned' }).limit(1));
  assert.equal(typeof planned.count, 'number');

  const past = await anon.from('films').select('id', { count: 'exact' }).range(10, 12);
  assert.equal(past.status, 416);
  assert.equal(past.error.code, 'PGRST103');
});

test('aggregates', async () => {
  const { data } = ok(await anon.from('films').select('director_id, count(), rating.max()')
    .not('director_id', 'is', null).lte('year', 2023).order('director_id'));
  assert.deepEqual(data.map((r) => [r.director_id, r.count]), [[1, 2], [2, 2], [3, 1]]);
  assert.equal(data[0].max, 8.8);
});

test('single, maybeSingle, csv and stripped nulls', async () => {
  const one = ok(await anon.from('films').select('id, title').eq('id', 1).single());
  assert.deepEqual(one.data, { id: 1, title: 'Inception' });

  const many = await anon.from('films').select('id').single();
  assert.equal(many.status, 406);
  assert.equal(many.error.code, 'PGRST116');

  const none = ok(await anon.from('films').select('id').eq('id', 999).maybeSingle());
  assert.equal(none.data, null);

  const csv = ok(await anon.from('films').select('id, title').lte('id', 2).order('id').csv());
  assert.equal(csv.data, 'id,title\n1,Inception\n2,Interstellar');

  const stripped = ok(await anon.from('films').select('id, rating').eq('id', 6).stripNulls());
  assert.deepEqual(stripped.data, [{ id: 6 }]);
});

test('insert, upsert, update, delete with representations and counts', async () => {
  const inserted = ok(await service.from('actors').insert({ first_name: 'Cillian', last_name: 'Murphy' }));
  assert.equal(inserted.status, 201);
  assert.equal(inserted.data, null);

  const rows = ok(await service.from('films')
    .insert([{ title: 'Oppenheimer', year: 2023, director_id: 1 }, { title: 'Dunkirk', year: 2017 }], { defaultToNull: false })
    .select('title, tags, director:directors(last_name)'));
  assert.deepEqual(rows.data, [
    { title: 'Oppenheimer', tags: [], director: { last_name: 'Nolan' } },
    { title: 'Dunkirk', tags: [], director: null },
  ]);

  const up = ok(await service.from('addresses').upsert([{ id: 1, city: 'Lyon' }, { id: 30, city: 'Nice' }]).select());
  assert.deepEqual(up.data, [{ id: 1, city: 'Lyon' }, { id: 30, city: 'Nice' }]);

  const ignored = ok(await service.from('addresses')
    .upsert({ id: 30, city: 'Ignored' }, { onConflict: 'id', ignoreDuplicates: true }).select());
  assert.deepEqual(ignored.data, []);

  const updated = ok(await service.from('addresses').update({ city: 'Cannes' }, { count: 'exact' }).eq('id', 30).select('city').single());
  assert.deepEqual(updated.data, { city: 'Cannes' });
  assert.equal(updated.count, 1);

  const nothing = ok(await service.from('addresses').update({ city: 'x' }).eq('id', 999).select().maybeSingle());
  assert.equal(nothing.data, null);

  const deleted = ok(await service.from('addresses').delete({ count: 'exact' }).eq('id', 30));
  assert.equal(deleted.status, 204);
  assert.equal(deleted.count, 1);

  const conflict = await service.from('addresses').insert({ id: 1, city: 'dup' });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.error.code, '23505');

  const unknown = await service.from('addresses').insert({ id: 31, town: 'x' });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.error.code, 'PGRST204');
});

test('rollback and max-affected leave the data alone', async () => {
  const rolled = ok(await service.from('addresses').insert({ id: 40, city: 'Ghost' }).select().rollback());
  assert.deepEqual(rolled.data, [{ id: 40, city: 'Ghost' }]);
  const gone = ok(await service.from('addresses').select().eq('id', 40));
  assert.deepEqual(gone.data, []);

  const capped = await service.from('films').update({ rating: 1 }).gt('id', 0).maxAffected(1);
  assert.equal(capped.status, 400);
  assert.equal(capped.error.code, 'PGRST124');
  const intact = ok(await anon.from('films').select('rating').eq('id', 1).single());
  assert.equal(intact.data.rating, 8.8);
});

test('rpc: scalar, set with filters, GET and HEAD, errors', async () => {
  assert.equal(ok(await anon.rpc('add_them', { a: 1, b: 2 })).data, 3);
  assert.equal(ok(await anon.rpc('hello', { name: 'Ada' }, { get: true })).data, 'Hello Ada!');

  const films = ok(await anon.rpc('films_since', { min_year: 2014 })
    .select('title').gt('rating', 7).order('year', { ascending: false }).limit(2));
  assert.deepEqual(films.data, [{ title: 'Dune' }, { title: 'Lady Bird' }]);

  const counted = ok(await anon.rpc('films_since', { min_year: 2020 }, { head: true, count: 'exact' }));
  const direct = ok(await anon.from('films').select('*', { count: 'exact', head: true }).gte('year', 2020));
  assert.ok(counted.count >= 3);
  assert.equal(counted.count, direct.count);

  const single = ok(await anon.rpc('films_since', { min_year: 2021 }).select('title').eq('year', 2021).single());
  assert.deepEqual(single.data, { title: 'Dune' });

  assert.deepEqual(ok(await anon.rpc('echo', { any: [1, 'two'] })).data, { any: [1, 'two'] });
  assert.equal(ok(await anon.rpc('sum_all', { nums: [1, 2, 3] })).data, 6);
  assert.equal(ok(await service.rpc('touch')).status, 204);

  const raised = await anon.rpc('fail', { msg: 'no way' });
  assert.equal(raised.status, 400);
  assert.equal(raised.error.message, 'no way');

  const missing = await anon.rpc('add_them', { a: 1 });
  assert.equal(missing.status, 404);
  assert.equal(missing.error.code, 'PGRST202');

  const readOnly = await service.rpc('touch', {}, { get: true });
  assert.equal(readOnly.status, 405);
});

test('row level security: each user sees and changes only their own rows', async () => {
  assert.deepEqual(ok(await asAlice.from('todos').select('title').order('id')).data,
    [{ title: 'alice 1' }, { title: 'alice 2' }]);
  assert.deepEqual(ok(await asBob.from('todos').select('title')).data, [{ title: 'bob 1' }]);
  assert.deepEqual(ok(await anon.from('todos').select()).data, []);

  // Embeds, updates, deletes and RPCs do not reach the other user's rows.
  assert.deepEqual(ok(await asAlice.from('todo_notes').select('body, todos(title)')).data,
    [{ body: 'alice note', todos: { title: 'alice 1' } }]);
  assert.deepEqual(ok(await asAlice.from('todos').update({ title: 'pwned' }).eq('id', 3).select()).data, []);
  assert.deepEqual(ok(await asAlice.from('todos').delete().eq('id', 3).select()).data, []);
  assert.deepEqual(ok(await asAlice.rpc('my_todos').select('title').order('id')).data,
    [{ title: 'alice 1' }, { title: 'alice 2' }]);
  assert.deepEqual(ok(await asBob.from('todos').select('title')).data, [{ title: 'bob 1' }]);

  const forged = await asAlice.from('todos').insert({ title: 'as bob', user_id: process.env.PGSTACK_BOB_ID });
  assert.equal(forged.status, 403);
  assert.equal(forged.error.code, '42501');

  const mine = ok(await asAlice.from('todos').insert({ title: 'alice 3' }).select('title, user_id').single());
  assert.deepEqual(mine.data, { title: 'alice 3', user_id: aliceID });

  const who = ok(await asBob.rpc('whoami'));
  assert.equal(who.data.role, 'authenticated');
});

test('schema errors and profiles', async () => {
  const missing = await anon.from('filmz').select();
  assert.equal(missing.status, 404);
  assert.equal(missing.error.code, 'PGRST205');

  const other = await anon.schema('auth').from('users').select();
  assert.equal(other.status, 406);
  assert.equal(other.error.code, 'PGRST106');

  const rel = await anon.from('films').select('title, studios(*)');
  assert.equal(rel.status, 400);
  assert.equal(rel.error.code, 'PGRST200');

  const expired = await client('not-a-jwt').from('films').select();
  assert.equal(expired.status, 401);
  assert.equal(expired.error.code, 'PGRST301');
});
