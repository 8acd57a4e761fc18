// What `pgstack gen types typescript` declares for the fixture schema of
// internal/typegen/testdata/fixture.sql (and testdata/usage.ts checks with
// tsc) is what supabase-js gets back from pgStack at run time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from '@supabase/supabase-js';

const options = { auth: { persistSession: false, autoRefreshToken: false } };
const db = createClient(process.env.PGSTACK_URL, process.env.PGSTACK_SERVICE_KEY, options);

const ok = (res) => {
  assert.equal(res.error, null, JSON.stringify(res.error));
  return res.data;
};

test('rows, embeds and computed fields have the declared shapes', async () => {
  const [ann] = ok(await db.from('authors').insert({ name: 'Ann', mood: 'happy', home: { street: 'Main', city: 'Oslo', zip: 1 } }).select());
  assert.equal(typeof ann.id, 'number');
  assert.deepEqual(ann.tags, []);
  assert.deepEqual(ann.home, { street: 'Main', city: 'Oslo', zip: 1 });
  ok(await db.from('profiles').insert({ author_id: ann.id, bio: 'Writes' }));
  const [dune] = ok(await db.from('books').insert({ author_id: ann.id, title: 'Dune', price: 9.5, published: '1965-08-01' }).select('id, title_upper'));
  assert.equal(dune.title_upper, 'DUNE');
  const [tag] = ok(await db.from('tags').insert({ label: 'sf' }).select());
  ok(await db.from('book_tags').insert({ book_id: dune.id, tag_id: tag.id }));

  const book = ok(await db.from('books').select('id, title, price, author:authors(name, mood), tags(label), label').single());
  assert.deepEqual(book, {
    id: dune.id, title: 'Dune', price: 9.5, author: { name: 'Ann', mood: 'happy' }, tags: [{ label: 'sf' }],
    label: 'Dune (1965-08-01)',
  });
  const star = ok(await db.from('books').select('*').single());
  assert.equal('label' in star, false, 'select=* leaves computed fields out');

  const author = ok(await db.from('authors').select('name, books(title), profiles(bio), latest_book(title)').single());
  assert.deepEqual(author, { name: 'Ann', books: [{ title: 'Dune' }], profiles: { bio: 'Writes' }, latest_book: { title: 'Dune' } });

  const titles = ok(await db.from('book_titles').select('title, double_price, authors(name)'));
  assert.deepEqual(titles, [{ title: 'Dune', double_price: 19, authors: { name: 'Ann' } }]);

  const notes = ok(await db.schema('other').from('notes').insert({ body: 'hi', aal: 'aal2' }).select('id, aal'));
  assert.equal(typeof notes[0].id, 'number');
  assert.equal(notes[0].aal, 'aal2');
});

test('what the types forbid, the server refuses', async () => {
  const identity = await db.from('authors').insert({ id: 1, name: 'Bo' });
  assert.equal(identity.status, 400, JSON.stringify(identity));
  const generated = await db.from('books').insert({ author_id: 1, title: 'x', title_upper: 'X' });
  assert.equal(generated.status, 400, JSON.stringify(generated));
  const mood = await db.from('authors').insert({ name: 'Bo', mood: 'angry' });
  assert.equal(mood.status, 400, JSON.stringify(mood));
  const expression = await db.from('book_titles').update({ double_price: 2 }).eq('id', 1);
  assert.ok(expression.error, 'a view column computed from an expression cannot be written');
});

test('functions return the declared shapes', async () => {
  assert.equal(ok(await db.rpc('add', { a: 1 })), 2);
  assert.equal(ok(await db.rpc('add', { x: 'x', y: 'y' })), 'xy');
  assert.deepEqual(ok(await db.rpc('author_stats', { min_books: 0 })).map(Object.keys), [['author_id', 'books']]);
  assert.deepEqual(ok(await db.rpc('books_by_mood', { m: 'happy' }).select('title')), [{ title: 'Dune' }]);
  assert.equal(ok(await db.rpc('ping')), null);
  assert.deepEqual(ok(await db.rpc('where_is', { person: 'Ann' })), { street: 'Main St 1', city: 'Ann', zip: 12345 });
  assert.deepEqual(ok(await db.rpc('moods')), ['sad', 'ok', 'happy']);
});
