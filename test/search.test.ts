/**
 * Search over seeded data on the offline encoder and the in-process index: the relevance
 * targets (cuisine, misspelt cuisine, dish, neighbourhood), both lexical paths (with pg_trgm
 * and the plain fallback), statements per search, bad input, and restaurants(search:) ranked
 * by the lexical score with keyset pagination and totalCount.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUISINES } from '../src/db/seed/vocabulary.ts';
import { seedDatabase } from '../src/db/seed.ts';
import { type SearchMode, searchRestaurants } from '../src/recommend/search.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';

let t: TestApp;
const cuisineOf = new Map<string, string>();
const descriptionOf = new Map<string, string>();
const locationOf = new Map<string, string>();

beforeAll(async () => {
  t = await createTestApp();
  await seedDatabase(t.db.url, { restaurants: 2_000, users: 1, orders: 0, batchSize: 1_000, seed: 7 });
  expect(await t.embedAll()).toBe(2_000);
  const rows = await t.db.sql<{ id: string; cuisine_type: string; description: string; location: string }>(
    'SELECT id::text, cuisine_type, description, location FROM restaurants',
  );
  for (const r of rows) {
    cuisineOf.set(r.id, r.cuisine_type);
    descriptionOf.set(r.id, r.description.toLowerCase());
    locationOf.set(r.id, r.location);
  }
}, 120_000);
afterAll(() => t?.close());

const deps = () => ({ db: t.pool, ml: t.services.ml, cache: t.services.cache });
const search = (text: string, opts: { mode?: SearchMode; trigram?: boolean } = {}) =>
  searchRestaurants(deps(), text, 5, opts);
const cuisineHits = (ids: { id: string }[], cuisine: string) =>
  ids.filter((m) => cuisineOf.get(m.id) === cuisine).length;

/** One-letter misspellings: a letter missing, a letter doubled, a letter replaced (never the first). */
function misspellings(word: string): string[] {
  const mid = Math.floor(word.length / 2);
  const other = word[mid] === 'x' ? 'z' : 'x';
  return [
    word.slice(0, mid) + word.slice(mid + 1),
    word.slice(0, mid) + word[mid] + word.slice(mid),
    word.slice(0, mid) + other + word.slice(mid + 1),
  ];
}

const SEARCH = `query($text: String!, $first: Int) { searchRestaurants(text: $text, first: $first) {
  score restaurant { id name cuisineType } } }`;
type SearchData = { searchRestaurants: { score: number; restaurant: { id: string; cuisineType: string } }[] };

describe('searchRestaurants on 2,000 seeded restaurants', () => {
  it('the seed has 12 cuisines, each with restaurants', () => {
    expect(new Set(cuisineOf.values())).toEqual(new Set(CUISINES));
  });

  it.each(CUISINES)('"%s food": at least 4 of 5 are that cuisine (through the API)', async (cuisine) => {
    const r = await t.gql<SearchData>(SEARCH, { text: `${cuisine} food`, first: 5 });
    expect(r.body.errors).toBeUndefined();
    const matches = r.body.data!.searchRestaurants;
    expect(matches).toHaveLength(5);
    expect(matches.filter((m) => m.restaurant.cuisineType === cuisine).length).toBeGreaterThanOrEqual(4);
  });

  it('the vector ranking alone misses most of those (what the fusion fixes)', async () => {
    let vectorHits = 0;
    let hybridHits = 0;
    for (const cuisine of CUISINES) {
      vectorHits += cuisineHits(await search(`${cuisine} food`, { mode: 'vector' }), cuisine);
      hybridHits += cuisineHits(await search(`${cuisine} food`), cuisine);
    }
    expect(hybridHits).toBeGreaterThanOrEqual(4 * CUISINES.length);
    expect(vectorHits).toBeLessThan(hybridHits);
  });

  for (const trigram of [true, false]) {
    it(`a cuisine misspelt by one letter: at least 3 of 5 (${trigram ? 'pg_trgm' : 'plain fallback'})`, async () => {
      for (const cuisine of CUISINES) {
        for (const typo of misspellings(cuisine)) {
          const hits = cuisineHits(await search(`${typo} food`, { trigram }), cuisine);
          expect(hits, `"${typo} food"`).toBeGreaterThanOrEqual(3);
        }
      }
    });
  }

  it.each(['carbonara', 'feijoada', 'tiramisu', 'gyoza', 'bulgogi', 'guacamole', 'ossobuco'])(
    'the dish word "%s": restaurants whose description names it come first',
    async (dish) => {
      const mentioning = [...descriptionOf].filter(([, d]) => d.includes(dish)).length;
      expect(mentioning).toBeGreaterThan(0);
      const top = await searchRestaurants(deps(), dish, 10);
      const expected = Math.min(10, mentioning);
      expect(top.slice(0, expected).every((m) => descriptionOf.get(m.id)!.includes(dish))).toBe(true);
    },
  );

  it('a neighbourhood: restaurants located there come first', async () => {
    for (const hood of ['Kreuzberg', 'Shoreditch', 'Pinheiros']) {
      const top = await search(`restaurants in ${hood}`);
      expect(
        top.every((m) => locationOf.get(m.id)!.startsWith(hood)),
        hood,
      ).toBe(true);
    }
  });

  it('a misspelt dish word is found by trigram similarity where pg_trgm exists', async () => {
    const top = await search('carbonarra', { trigram: true });
    expect(top.length).toBe(5);
    expect(top.every((m) => descriptionOf.get(m.id)!.includes('carbonara'))).toBe(true);
    // without pg_trgm the word is unknown: an answer (from the vectors), not an error
    expect((await search('carbonarra', { trigram: false })).length).toBe(5);
  });

  it('scores: 0 to 1, best first, the same for the same data', async () => {
    const a = await searchRestaurants(deps(), 'cozy italian trattoria with pasta', 50);
    const b = await searchRestaurants(deps(), 'cozy italian trattoria with pasta', 50);
    expect(a).toEqual(b);
    expect(a).toHaveLength(50);
    for (const m of a) {
      expect(m.score).toBeGreaterThan(0);
      expect(m.score).toBeLessThanOrEqual(1);
    }
    expect(a.map((m) => m.score)).toEqual([...a.map((m) => m.score)].sort((x, y) => y - x));
    expect(new Set(a.map((m) => m.id)).size).toBe(50);
  });
});

describe('statements per search', () => {
  it('the same for first: 5 and 50: one lexical statement, one to read the restaurants', async () => {
    await t.gql(SEARCH, { text: 'warm-up', first: 5 }); // pg_trgm lookup and cuisines, once
    const counts: number[] = [];
    for (const first of [5, 50]) {
      t.wire.reset();
      const r = await t.gql<SearchData>(SEARCH, { text: 'spicy thai curry', first });
      expect(r.body.data!.searchRestaurants).toHaveLength(first);
      counts.push(t.wire.statements.length);
      expect(t.wire.statements.map((s) => s.sql.match(/\/\* (\w+) \*\//)?.[1])).toEqual([
        'lexicalSearch',
        'restaurantsByIds',
      ]);
    }
    expect(counts).toEqual([2, 2]);
  });

  it('score alone reads no restaurant: one statement', async () => {
    t.wire.reset();
    await t.gql(`{ searchRestaurants(text: "sushi", first: 50) { score } }`);
    expect(t.wire.statements).toHaveLength(1);
  });

  it('the plain fallback sends no trigram function', async () => {
    t.wire.reset();
    await search('itlian food', { trigram: false });
    await t.wire.settle();
    expect(t.wire.statements).toHaveLength(1);
    expect(t.wire.statements[0]!.sql).not.toMatch(/similarity|search_words/);
    t.wire.reset();
    await search('itlian food', { trigram: true });
    await t.wire.settle();
    expect(t.wire.statements[0]!.sql).toMatch(/similarity\(word/);
  });
});

describe('bad input', () => {
  const code = (r: { body: { errors?: { extensions?: Record<string, unknown> }[] } }) =>
    r.body.errors?.[0]?.extensions?.code;

  it.each([
    ['empty', ''],
    ['only spaces', '   '],
    ['501 characters', 'x'.repeat(501)],
    ['a NUL', 'sushi\0'],
    ['a lone surrogate', 'sushi \ud800'],
  ])('%s: BAD_USER_INPUT naming the argument', async (_name, text) => {
    const r = await t.gql(SEARCH, { text, first: 5 });
    expect(code(r)).toBe('BAD_USER_INPUT');
    expect(r.body.errors?.[0]?.extensions?.argument).toBe('text');
    expect(r.body.data).toBeNull();
  });

  it('500 characters is allowed', async () => {
    const text = 'pizza pasta '.repeat(42).slice(0, 500);
    const r = await t.gql<SearchData>(SEARCH, { text, first: 5 });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.searchRestaurants).toHaveLength(5);
  });

  it('only punctuation finds nothing, without an error or a statement', async () => {
    t.wire.reset();
    const r = await t.gql<SearchData>(SEARCH, { text: '?!… --- "" ()', first: 5 });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.searchRestaurants).toEqual([]);
    expect(t.wire.statements).toHaveLength(0);
  });

  it.each([
    "'; DROP TABLE restaurants; --",
    "sushi' OR '1'='1",
    'pizza & !pasta | (ramen <-> :*)',
    '"unclosed phrase',
    '-',
    'or or or',
    '100% off_\\',
    '$$ :name ::regclass $$',
  ])('SQL and tsquery metacharacters are only text: %s', async (text) => {
    const r = await t.gql<SearchData>(SEARCH, { text, first: 5 });
    expect(r.body.errors).toBeUndefined();
    expect(Array.isArray(r.body.data!.searchRestaurants)).toBe(true);
    const rs = await t.gql<{ restaurants: { totalCount: number } }>(
      'query($s: String) { restaurants(search: $s) { totalCount edges { node { id } } } }',
      { s: text },
    );
    expect(rs.body.errors).toBeUndefined();
    expect((await t.db.sql<{ n: number }>('SELECT count(*)::int AS n FROM restaurants'))[0]!.n).toBe(2_000);
  });
});

type Page = {
  restaurants: {
    totalCount: number;
    edges: { cursor: string; node: { id: string; cuisineType: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
};
const PAGE = `query($s: String, $first: Int, $after: String, $orderBy: RestaurantOrder) {
  restaurants(search: $s, first: $first, after: $after, orderBy: $orderBy) {
    totalCount edges { cursor node { id cuisineType } } pageInfo { hasNextPage endCursor } } }`;
const dbId = (gid: string) => Buffer.from(gid, 'base64').toString('utf8').split(':')[1]!;

async function walk(s: string, first: number, orderBy?: string) {
  const ids: string[] = [];
  let after: string | null = null;
  let totalCount = -1;
  for (let page = 0; page < 500; page++) {
    const r: { body: { data?: Page | null; errors?: unknown[] } } = await t.gql<Page>(PAGE, {
      s,
      first,
      after,
      orderBy,
    });
    expect(r.body.errors).toBeUndefined();
    const conn = r.body.data!.restaurants;
    totalCount = conn.totalCount;
    ids.push(...conn.edges.map((e) => dbId(e.node.id)));
    if (!conn.pageInfo.hasNextPage) break;
    after = conn.pageInfo.endCursor;
  }
  return { ids, totalCount };
}

describe('restaurants(search:) ranked by the lexical score', () => {
  /** What the filter matches: the text as a substring, or all its words (full-text). */
  async function matching(s: string) {
    const rows = await t.db.sql<{ id: string }>(
      `SELECT id::text FROM restaurants
       WHERE (name || ' ' || cuisine_type || ' ' || coalesce(description, '')) ILIKE '%' || $1 || '%'
          OR search_document @@ websearch_to_tsquery('english', $1)`,
      [s],
    );
    return new Set(rows.map((r) => r.id));
  }

  it.each(['vegetarian', 'korean bbq', 'Kreuzberg'])(
    '"%s": pages of 7 give every match once, totalCount counts them, the order is one big page\'s',
    async (s) => {
      const { ids, totalCount } = await walk(s, 7);
      const expected = await matching(s);
      expect(expected.size).toBeGreaterThan(0);
      expect(new Set(ids)).toEqual(expected);
      expect(ids).toHaveLength(expected.size);
      expect(totalCount).toBe(expected.size);
      if (expected.size <= 100) expect((await walk(s, 100)).ids).toEqual(ids);
    },
  );

  it('name and cuisine rank above description: "vegetarian" lists the vegetarian restaurants first', async () => {
    const vegetarian = [...cuisineOf.values()].filter((c) => c === 'vegetarian').length;
    const { ids } = await walk('vegetarian', 50);
    expect(ids.length).toBeGreaterThan(vegetarian); // others mention "Vegetarian options available"
    expect(ids.slice(0, vegetarian).every((id) => cuisineOf.get(id) === 'vegetarian')).toBe(true);
  });

  it('an explicit orderBy keeps its order over the same matches', async () => {
    const relevance = await walk('italian', 50);
    const byRating = await walk('italian', 50, 'RATING_DESC');
    expect(new Set(byRating.ids)).toEqual(new Set(relevance.ids));
    expect(byRating.ids).not.toEqual(relevance.ids);
  });

  it('one statement per page (two with totalCount), the same for first: 5 and 50', async () => {
    for (const first of [5, 50]) {
      t.wire.reset();
      await t.gql(`query($f: Int) { restaurants(search: "italian", first: $f) { edges { node { name } } } }`, {
        f: first,
      });
      expect(t.wire.statements).toHaveLength(1);
      expect(t.wire.statements[0]!.sql).toContain('restaurantSearchPage');
    }
  });

  it('a cursor of another ordering is refused with BAD_USER_INPUT', async () => {
    const r = await t.gql<Page>(PAGE, { s: 'italian', first: 2, orderBy: 'NAME_ASC' });
    const cursor = r.body.data!.restaurants.pageInfo.endCursor;
    const bad = await t.gql(PAGE, { s: 'italian', first: 2, after: cursor });
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
