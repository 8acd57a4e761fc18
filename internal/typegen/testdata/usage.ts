// Type-checked (tsc --strict) against the types `pgstack gen types typescript`
// generates for fixture.sql: what supabase-js infers from them.
import { createClient } from '@supabase/supabase-js'
import {
  Constants,
  type CompositeTypes,
  type Database,
  type Enums,
  type Tables,
  type TablesInsert,
  type TablesUpdate,
} from './database.types.js'

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function assert<T extends true>(): void {}

const supabase = createClient<Database>('http://127.0.0.1:8080', 'key')

type Mood = 'sad' | 'ok' | 'happy'

export async function tables() {
  const { data: books } = await supabase
    .from('books')
    .select('id, title, price, title_upper, author:authors(name, mood)')
    .eq('id', 1)
  assert<
    Equal<
      typeof books,
      | {
          id: number
          title: string
          price: number | null
          title_upper: string | null
          author: { name: string; mood: Mood }
        }[]
      | null
    >
  >()
  // @ts-expect-error books has no column nope
  books?.[0].nope
  // @ts-expect-error id is a number
  await supabase.from('books').select('id').eq('id', 'one')

  // one-to-many, one-to-one, many-to-many
  const { data: authors } = await supabase
    .from('authors')
    .select('name, tags, home, books(title), profiles(bio)')
    .single()
  assert<
    Equal<
      typeof authors,
      {
        name: string
        tags: string[]
        home: Database['public']['CompositeTypes']['address'] | null
        books: { title: string }[]
        profiles: { bio: string | null } | null
      } | null
    >
  >()
  const { data: tagged } = await supabase.from('books').select('title, tags(label)').single()
  assert<Equal<typeof tagged, { title: string; tags: { label: string }[] } | null>>()

  // a view and its foreign key
  const { data: titles } = await supabase.from('book_titles').select('title, double_price, authors(name)')
  assert<
    Equal<
      typeof titles,
      { title: string | null; double_price: number | null; authors: { name: string } | null }[] | null
    >
  >()

  // another schema; an enum outside the generated schemas is inlined
  const { data: notes } = await supabase.schema('other').from('notes').select('id, aal')
  assert<Equal<typeof notes, { id: number; aal: 'aal1' | 'aal2' | 'aal3' | null }[] | null>>()
}

export async function writes() {
  await supabase.from('books').insert({ author_id: 1, title: 'Dune' })
  await supabase.from('books').insert([{ author_id: 1, title: 'Dune', price: 9.5, 'in stock': false }])
  // @ts-expect-error title is a string
  await supabase.from('books').insert({ author_id: 1, title: 42 })
  // @ts-expect-error author_id and title are required
  await supabase.from('books').insert({ price: 3 })
  // @ts-expect-error title_upper is generated
  await supabase.from('books').insert({ author_id: 1, title: 'Dune', title_upper: 'DUNE' })
  // @ts-expect-error authors.id is GENERATED ALWAYS
  await supabase.from('authors').insert({ id: 1, name: 'Ann' })
  await supabase.from('authors').insert({ name: 'Ann', mood: 'happy', home: { street: 'Main', city: 'Oslo', zip: 1 } })
  // @ts-expect-error angry is not a mood
  await supabase.from('authors').insert({ name: 'Ann', mood: 'angry' })
  await supabase.from('books').update({ price: null }).eq('id', 1)
  // @ts-expect-error title is not nullable
  await supabase.from('books').update({ title: null }).eq('id', 1)
  await supabase.from('book_titles').update({ title: 'Dune' }).eq('id', 1)
  // @ts-expect-error double_price is computed by the view
  await supabase.from('book_titles').update({ double_price: 2 }).eq('id', 1)
}

export async function functions() {
  const { data: n } = await supabase.rpc('add', { a: 1, b: 2 })
  assert<Equal<typeof n, number | null>>()
  const { data: n1 } = await supabase.rpc('add', { a: 1 })
  assert<Equal<typeof n1, number | null>>()
  const { data: s } = await supabase.rpc('add', { x: 'x', y: 'y' })
  assert<Equal<typeof s, string | null>>()
  // @ts-expect-error no overload takes a boolean
  await supabase.rpc('add', { a: true })
  const { data: byMood } = await supabase.rpc('books_by_mood', { m: 'happy' }).select('id, title')
  assert<Equal<typeof byMood, { id: number; title: string }[] | null>>()
  // @ts-expect-error m is a mood
  await supabase.rpc('books_by_mood', { m: 'angry' })
  const { data: stats } = await supabase.rpc('author_stats')
  assert<Equal<typeof stats, { author_id: number; books: number }[] | null>>()
  const { data: none } = await supabase.rpc('ping')
  assert<Equal<typeof none, undefined | null>>()
  const { data: where } = await supabase.rpc('where_is', { person: 'Ann' })
  assert<Equal<typeof where, Database['public']['CompositeTypes']['address'] | null>>()
  const { data: moods } = await supabase.rpc('moods')
  assert<Equal<typeof moods, Mood[] | null>>()
  // @ts-expect-error no such function
  await supabase.rpc('nope')
}

export function helpers() {
  assert<Equal<Tables<'books'>['price'], number | null>>()
  assert<Equal<Tables<'book_titles'>['title'], string | null>>()
  assert<Equal<TablesInsert<'books'>['title'], string>>()
  assert<Equal<TablesUpdate<'books'>['title'], string | undefined>>()
  assert<Equal<Tables<{ schema: 'other' }, 'notes'>['body'], string>>()
  assert<Equal<Enums<'mood'>, Mood>>()
  assert<Equal<CompositeTypes<'address'>['zip'], number | null>>()
  const moods: readonly Mood[] = Constants.public.Enums.mood
  assert<Equal<(typeof Constants.public.Enums.mood)[0], 'sad'>>()
  return moods
}

export async function computed() {
  const { data: labelled } = await supabase.from('books').select('title, label').single()
  assert<Equal<typeof labelled, { title: string; label: string | null } | null>>()
  const { data: all } = await supabase.from('books').select('*').single()
  // @ts-expect-error select=* leaves computed fields out
  all?.label
  const { data: latest } = await supabase.from('authors').select('name, latest_book(title)').single()
  assert<Equal<typeof latest, { name: string; latest_book: { title: string } | null } | null>>()

}
