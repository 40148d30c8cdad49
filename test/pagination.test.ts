/**
 * Keyset pagination, walked page by page through the API: every ordering, ties broken by
 * id in the same direction, filters, rows inserted and deleted between pages, names PostgreSQL's
 * collation orders, User.orders. The expected order is computed in JS from the table's rows,
 * never by the same SQL the app runs, except where the collation is what is tested.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { insertUser } from './helpers/fixtures.ts';
import { dbId, expectNoDuplicates, type PageInfo, walkPages } from './helpers/page-walk.ts';

type Order = 'RATING_DESC' | 'RATING_ASC' | 'NAME_ASC' | 'NAME_DESC' | 'ID_ASC';
const ORDERS: Order[] = ['RATING_DESC', 'RATING_ASC', 'NAME_ASC', 'NAME_DESC', 'ID_ASC'];

type Row = {
  id: string;
  name: string;
  cuisine: string;
  description: string | null;
  rating: number;
  price: 'low' | 'medium' | 'high' | null;
};

type Filters = { cuisine?: string; minRating?: number; priceRange?: 'LOW' | 'MEDIUM' | 'HIGH'; search?: string };

type Edge = { cursor: string; node: { id: string; name: string; rating: number } };
type Page = { edges: Edge[]; pageInfo: Required<PageInfo> };

const PAGE_QUERY = `query Page($first: Int, $after: String, $orderBy: RestaurantOrder, $cuisine: String,
    $minRating: Float, $priceRange: PriceRange, $search: String) {
  restaurants(first: $first, after: $after, orderBy: $orderBy, cuisine: $cuisine, minRating: $minRating,
      priceRange: $priceRange, search: $search) {
    edges { cursor node { id name rating } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

let t: TestApp;

const cmpId = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);
/** Code-point order; the fixture names use only [A-Z0-9] so every collation agrees with it. */
const cmpText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const COMPARE: Record<Order, (a: Row, b: Row) => number> = {
  RATING_DESC: (a, b) => b.rating - a.rating || cmpId(b.id, a.id),
  RATING_ASC: (a, b) => a.rating - b.rating || cmpId(a.id, b.id),
  NAME_ASC: (a, b) => cmpText(a.name, b.name) || cmpId(a.id, b.id),
  NAME_DESC: (a, b) => cmpText(b.name, a.name) || cmpId(b.id, a.id),
  ID_ASC: (a, b) => cmpId(a.id, b.id),
};

const PRICE = { LOW: 'low', MEDIUM: 'medium', HIGH: 'high' } as const;

function matches(row: Row, f: Filters): boolean {
  if (f.cuisine != null && row.cuisine !== f.cuisine) return false;
  if (f.minRating != null && !(row.rating >= f.minRating)) return false;
  if (f.priceRange != null && row.price !== PRICE[f.priceRange]) return false;
  if (f.search != null) {
    const s = f.search.toLowerCase();
    if (![row.name, row.cuisine, row.description ?? ''].some((field) => field.toLowerCase().includes(s))) return false;
  }
  return true;
}

async function allRows(): Promise<Row[]> {
  const rows = await t.db.sql<{
    id: string;
    name: string;
    cuisine_type: string;
    description: string | null;
    rating: string;
    price_range: Row['price'];
  }>(`SELECT id, name, cuisine_type, description, rating, price_range FROM restaurants`);
  return rows.map((r) => ({
    id: String(r.id),
    name: r.name,
    cuisine: r.cuisine_type,
    description: r.description,
    rating: Number(r.rating),
    price: r.price_range,
  }));
}

async function expectedIds(order: Order, filters: Filters = {}): Promise<string[]> {
  return (await allRows())
    .filter((r) => matches(r, filters))
    .sort(COMPARE[order])
    .map((r) => r.id);
}

const ORDER_BY: Record<Order, string> = {
  RATING_DESC: 'rating DESC, id DESC',
  RATING_ASC: 'rating ASC, id ASC',
  NAME_ASC: 'name ASC, id ASC',
  NAME_DESC: 'name DESC, id DESC',
  ID_ASC: 'id ASC',
};

/** The ids of one cuisine as PostgreSQL orders them (for names whose order only the collation knows). */
async function databaseOrder(order: Order, cuisine: string): Promise<string[]> {
  const rows = await t.db.sql<{ id: string }>(
    `SELECT id FROM restaurants WHERE cuisine_type = $1 ORDER BY ${ORDER_BY[order]}`,
    [cuisine],
  );
  return rows.map((r) => String(r.id));
}

/** One page; asserts it was exactly one statement at the wire and had no errors. */
async function fetchPage(order: Order, first: number, after: string | null, filters: Filters = {}): Promise<Page> {
  t.wire.reset();
  const r = await t.gql<{ restaurants: Page }>(PAGE_QUERY, { first, after, orderBy: order, ...filters });
  expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
  expect(r.status).toBe(200);
  expect(
    t.wire.statements.map((s) => s.sql),
    'one statement per restaurants page',
  ).toHaveLength(1);
  return r.body.data!.restaurants;
}

/** Walks every page (test/helpers/page-walk.ts checks each one) and returns the database ids in order. */
async function walk(
  order: Order,
  first: number,
  filters: Filters = {},
  between?: (page: Page, index: number) => Promise<void>,
): Promise<{ ids: string[]; pages: Page[] }> {
  const { nodes, pages } = await walkPages((after) => fetchPage(order, first, after, filters), first, { between });
  return { ids: nodes.map((n) => dbId(n.id, 'Restaurant')), pages };
}

// ---------------------------------------------------------------------------------------------
// Fixture: 137 restaurants. Ratings from a small set (many ties, both ends of the range), names
// with duplicates (same name, different ids) and not in id order, filters spread across rows.
// ---------------------------------------------------------------------------------------------

const N = 137;
const RATINGS = [0, 1.5, 3, 3.5, 4, 4.5, 5];
const CUISINES = ['italian', 'japanese', 'thai', 'mexican'];
const PRICES = ['low', 'medium', 'high', null] as const;
const PREFIXES = ['MARIO', 'B', 'ZEN', 'CASA', 'A1', '9'];

function fixtureRow(i: number) {
  // 120 distinct names for 137 rows: i and i + 120 share a name (17 duplicate pairs); a few more
  // explicit duplicates below. Prefixes scatter names so that name order is not id order.
  const k = i % 120;
  const name = `${PREFIXES[(k * 7) % PREFIXES.length]}${String((k * 37) % 120).padStart(3, '0')}`;
  const descriptions = [
    null,
    'Spicy noodles and more',
    'Family style, big portions',
    '100% organic produce',
    'The big_plate special',
    'Quiet place',
  ];
  return {
    name: i % 23 === 0 ? 'SAMENAME' : i % 31 === 0 ? `SPICY${i}` : name,
    // Independent spreads, so that filters combine into non-empty, non-trivial subsets.
    cuisine: CUISINES[i % CUISINES.length]!,
    description: descriptions[Math.floor(i / 3) % descriptions.length] ?? null,
    rating: RATINGS[(i * 3 + Math.floor(i / 7)) % RATINGS.length]!,
    price: PRICES[Math.floor(i / 4) % PRICES.length] ?? null,
  };
}

async function insertRows(rows: ReturnType<typeof fixtureRow>[]): Promise<string[]> {
  const inserted = await t.db.sql<{ id: string }>(
    `INSERT INTO restaurants (name, cuisine_type, description, rating, price_range)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::text[])
     RETURNING id`,
    [
      rows.map((r) => r.name),
      rows.map((r) => r.cuisine),
      rows.map((r) => r.description),
      rows.map((r) => r.rating),
      rows.map((r) => r.price),
    ],
  );
  return inserted.map((r) => String(r.id));
}

beforeAll(async () => {
  t = await createTestApp();
  await insertRows(Array.from({ length: N }, (_, i) => fixtureRow(i + 1)));
});
afterAll(() => t?.close());

describe('the fixture', () => {
  it('has 137 rows, many rating ties and duplicate names', async () => {
    const rows = await allRows();
    expect(rows).toHaveLength(N);
    const byRating = new Map<number, number>();
    for (const r of rows) byRating.set(r.rating, (byRating.get(r.rating) ?? 0) + 1);
    expect([...byRating.keys()].sort()).toEqual([...RATINGS].sort());
    for (const count of byRating.values()) expect(count).toBeGreaterThan(10);
    const byName = new Map<string, number>();
    for (const r of rows) byName.set(r.name, (byName.get(r.name) ?? 0) + 1);
    const duplicated = [...byName.values()].filter((c) => c > 1);
    expect(duplicated.length).toBeGreaterThanOrEqual(10);
    expect(byName.get('SAMENAME')).toBeGreaterThanOrEqual(5);
  });

  it("the JS name order agrees with the database's collation for these names", async () => {
    // Guards the expectation itself: if the collation disagreed, NAME_* failures would mean nothing.
    const db = (await t.db.sql<{ id: string }>(`SELECT id FROM restaurants ORDER BY name, id`)).map((r) =>
      String(r.id),
    );
    expect(db).toEqual(await expectedIds('NAME_ASC'));
  });
});

describe('walking every ordering with first: 10', () => {
  for (const order of ORDERS) {
    it(`${order}: every row exactly once, in order with ties broken by id, 14 pages`, async () => {
      const expected = await expectedIds(order);
      const { ids, pages } = await walk(order, 10);
      expectNoDuplicates(ids);
      expect(ids).toEqual(expected);
      expect(pages).toHaveLength(14);
      expect(pages.at(-1)!.edges).toHaveLength(7);
      expect(pages.slice(0, -1).every((p) => p.pageInfo.hasNextPage)).toBe(true);
    });
  }

  it('the nodes carry the rating and name the order was computed from', async () => {
    const rows = new Map((await allRows()).map((r) => [r.id, r]));
    const { pages } = await walk('RATING_DESC', 10);
    for (const e of pages.flatMap((p) => p.edges)) {
      const row = rows.get(dbId(e.node.id, 'Restaurant'))!;
      expect(e.node.rating).toBe(row.rating);
      expect(e.node.name).toBe(row.name);
    }
  });

  for (const order of ORDERS) {
    it(`${order} with first: 1 walks through ties one row at a time`, async () => {
      const { ids, pages } = await walk(order, 1, { cuisine: 'thai' });
      expect(ids).toEqual(await expectedIds(order, { cuisine: 'thai' }));
      expect(pages.length).toBe(ids.length);
    });
  }

  it('first: 100 then the rest (37) with every ordering', async () => {
    for (const order of ORDERS) {
      const { ids, pages } = await walk(order, 100);
      expect(pages.map((p) => p.edges.length)).toEqual([100, 37]);
      expect(ids).toEqual(await expectedIds(order));
    }
  });

  it('the cursor of any edge (not only endCursor) continues right after that edge', async () => {
    for (const order of ORDERS) {
      const expected = await expectedIds(order);
      const first = await fetchPage(order, 10, null);
      const fourth = first.edges[3]!;
      const next = await fetchPage(order, 10, fourth.cursor);
      expect(next.edges.map((e) => dbId(e.node.id, 'Restaurant'))).toEqual(expected.slice(4, 14));
    }
  });

  it('an exact multiple of the page size ends with hasNextPage false and no empty extra page', async () => {
    const expected = await expectedIds('NAME_ASC', { cuisine: 'japanese' });
    const { ids, pages } = await walk('NAME_ASC', expected.length, { cuisine: 'japanese' });
    expect(ids).toEqual(expected);
    expect(pages).toHaveLength(1);
  });

  it('an endCursor of the last page gives an empty final page', async () => {
    const { pages } = await walk('NAME_DESC', 10);
    const lastCursor = pages.at(-1)!.pageInfo.endCursor!;
    const empty = await fetchPage('NAME_DESC', 10, lastCursor);
    expect(empty.edges).toEqual([]);
    expect(empty.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null });
  });
});

describe('filters combined with pagination', () => {
  const FILTERS: [string, Filters][] = [
    ['cuisine', { cuisine: 'japanese' }],
    ['cuisine is exact: no prefix match', { cuisine: 'ital' }],
    ['cuisine is exact: case-sensitive', { cuisine: 'Japanese' }],
    ['minRating 3.5', { minRating: 3.5 }],
    ['minRating 4.25 (between stored values)', { minRating: 4.25 }],
    ['minRating 0 (everything)', { minRating: 0 }],
    ['minRating 5 (top ties only)', { minRating: 5 }],
    ['priceRange HIGH', { priceRange: 'HIGH' }],
    ['search in description, other case', { search: 'SPICY' }],
    ['search in name, other case', { search: 'mario0' }],
    ['search in cuisine', { search: 'ALIA' }],
    ['search with a literal %', { search: '0%' }],
    ['search with a literal _', { search: 'g_p' }],
    ['cuisine + minRating + priceRange', { cuisine: 'italian', minRating: 3, priceRange: 'LOW' }],
    ['all four', { cuisine: 'thai', minRating: 1.5, priceRange: 'MEDIUM', search: 'a' }],
    ['nothing matches', { cuisine: 'nowhere' }],
  ];

  for (const [name, filters] of FILTERS) {
    for (const order of ORDERS) {
      it(`${name} / ${order}`, async () => {
        const expected = await expectedIds(order, filters);
        if (!/nothing matches|exact/.test(name)) expect(expected.length).toBeGreaterThan(0);
        const { ids } = await walk(order, 10, filters);
        expectNoDuplicates(ids);
        expect(ids).toEqual(expected);
      });
    }
  }

  it('the filters are selective (sanity of the fixture)', async () => {
    const all = await expectedIds('ID_ASC');
    for (const [name, filters] of FILTERS) {
      const n = (await expectedIds('ID_ASC', filters)).length;
      if (name.startsWith('minRating 0')) expect(n).toBe(all.length);
      else expect(n, name).toBeLessThan(all.length);
    }
  });

  it('totalCount agrees with the walk for a filter', async () => {
    const filters: Filters = { cuisine: 'italian', minRating: 3 };
    const r = await t.gql<{ restaurants: { totalCount: number } }>(
      `query($c: String, $m: Float) { restaurants(cuisine: $c, minRating: $m) { totalCount } }`,
      { c: filters.cuisine, m: filters.minRating },
    );
    const { ids } = await walk('ID_ASC', 10, filters);
    expect(ids.length).toBeGreaterThan(0);
    expect(r.body.data?.restaurants.totalCount).toBe(ids.length);
  });

  describe('search wildcards are literal', () => {
    let ids: Record<string, string>;
    beforeAll(async () => {
      const names = ['PCT50% OFF', 'PCT500 OFF', 'US_SCORE', 'USXSCORE', 'BACK\\SLASH', 'BACKXSLASH'];
      const inserted = await insertRows(
        names.map((n) => ({ name: n, cuisine: 'wildcards', description: null, rating: 3, price: null })),
      );
      ids = Object.fromEntries(names.map((n, i) => [n, inserted[i]!]));
    });
    afterAll(async () => {
      await t.db.sql(`DELETE FROM restaurants WHERE cuisine_type = 'wildcards'`);
    });

    const CASES: [string, string[]][] = [
      ['50%', ['PCT50% OFF']],
      ['%', ['PCT50% OFF']],
      ['s_s', ['US_SCORE']],
      ['_', ['US_SCORE']],
      ['k\\s', ['BACK\\SLASH']],
      ['\\', ['BACK\\SLASH']],
      ['pct50', ['PCT50% OFF', 'PCT500 OFF']],
    ];
    for (const [search, names] of CASES) {
      it(`search ${JSON.stringify(search)} finds exactly ${names.join(', ')}`, async () => {
        const { ids: got } = await walk('ID_ASC', 10, { cuisine: 'wildcards', search });
        expect(got).toEqual(names.map((n) => ids[n]!).sort(cmpId));
      });
    }
  });
});

describe('rows inserted and deleted between pages', () => {
  const CUISINE = 'between-pages';

  async function insertOne(name: string, rating: number, id?: string): Promise<Row> {
    const [row] = await t.db.sql<{ id: string }>(
      `INSERT INTO restaurants (id, name, cuisine_type, rating, price_range)
       VALUES (coalesce($1::int8, nextval(pg_get_serial_sequence('restaurants', 'id'))), $2, $3, $4, 'low')
       RETURNING id`,
      [id ?? null, name, CUISINE, rating],
    );
    return { id: String(row!.id), name, cuisine: CUISINE, description: null, rating, price: 'low' };
  }

  for (const order of ORDERS) {
    it(`${order}: rows present at the start each appear once; rows inserted after the cursor appear, before it do not`, async () => {
      await t.db.sql(`DELETE FROM restaurants WHERE cuisine_type = $1`, [CUISINE]);
      // 45 rows of their own cuisine, with rating ties and duplicate names.
      const firstIds = await insertRows(
        Array.from({ length: 45 }, (_, i) => ({
          name: `MID${String(i % 15).padStart(2, '0')}`,
          cuisine: CUISINE,
          description: null,
          rating: [1.5, 3, 3.5, 4][i % 4]!,
          price: 'low' as const,
        })),
      );
      // Free ids below every later cursor: rows inserted between pages may reuse them (an explicit
      // id is allowed: GENERATED BY DEFAULT), so even ID_ASC gets rows that sort before the cursor.
      const gaps = firstIds.sort(cmpId).slice(0, 6);
      await t.db.sql(`DELETE FROM restaurants WHERE id = ANY($1::int8[])`, [gaps]);
      const filter = { cuisine: CUISINE };
      const original = await expectedIds(order, filter);
      const rowsById = new Map((await allRows()).map((r) => [r.id, r]));

      const mustAppear = new Set<string>();
      const mustNotAppear = new Set<string>();
      const { ids: returned } = await walk(order, 10, filter, async (page) => {
        const cursorRow = rowsById.get(dbId(page.edges.at(-1)!.node.id, 'Restaurant'))!;
        // Between pages: rows sorting before, tied with and after the current position.
        const fresh = [
          await insertOne('AAAA', 5),
          await insertOne(cursorRow.name, cursorRow.rating),
          await insertOne('ZZZZ', 0),
          await insertOne('MID07', 3),
          await insertOne('MID07', 3.5, gaps.pop()),
        ];
        for (const row of fresh) {
          rowsById.set(row.id, row);
          (COMPARE[order](row, cursorRow) > 0 ? mustAppear : mustNotAppear).add(row.id);
        }
      });

      expectNoDuplicates(returned);
      const returnedSet = new Set(returned);
      expect(
        original.filter((id) => !returnedSet.has(id)),
        'original rows missing',
      ).toEqual([]);
      expect(
        [...mustNotAppear].filter((id) => returnedSet.has(id)),
        'rows inserted before the cursor',
      ).toEqual([]);
      expect(
        [...mustAppear].filter((id) => !returnedSet.has(id)),
        'rows inserted after the cursor',
      ).toEqual([]);
      expect(returned.every((id) => rowsById.has(id))).toBe(true);
      // Whatever came back is in the ordering's order.
      const sorted = [...returned].sort((a, b) => COMPARE[order](rowsById.get(a)!, rowsById.get(b)!));
      expect(returned).toEqual(sorted);
      expect(mustAppear.size).toBeGreaterThan(0);
      expect(mustNotAppear.size).toBeGreaterThan(0);
    });
  }

  for (const order of ORDERS) {
    it(`${order}: deleting the row a cursor points at does not lose or repeat rows`, async () => {
      await t.db.sql(`DELETE FROM restaurants WHERE cuisine_type = $1`, [CUISINE]);
      await insertRows(
        Array.from({ length: 33 }, (_, i) => ({
          name: `DEL${i % 6}`,
          cuisine: CUISINE,
          description: null,
          rating: [3, 4.5][i % 2]!,
          price: 'low' as const,
        })),
      );
      const filter = { cuisine: CUISINE };
      const original = await expectedIds(order, filter);
      const deleted: string[] = [];
      const { ids: returned } = await walk(order, 10, filter, async (page) => {
        const cursorId = dbId(page.edges.at(-1)!.node.id, 'Restaurant');
        deleted.push(cursorId);
        await t.db.sql(`DELETE FROM restaurants WHERE id = $1`, [cursorId]);
      });
      expect(deleted.length).toBeGreaterThan(1);
      expectNoDuplicates(returned);
      expect(returned).toEqual(original);
    });
  }

  afterAll(async () => {
    await t.db.sql(`DELETE FROM restaurants WHERE cuisine_type = $1`, [CUISINE]);
  });
});

describe('names that are long in UTF-16 but within varchar(255)', () => {
  const CUISINE = 'long-names';
  afterAll(async () => {
    await t.db.sql(`DELETE FROM restaurants WHERE cuisine_type = $1`, [CUISINE]);
  });

  it('NAME_ASC/NAME_DESC pages continue past a 200-emoji name (255 characters, 400+ UTF-16 units)', async () => {
    // varchar(255) counts characters; JS string length counts UTF-16 code units.
    // Two such names, so that in either direction one of them is the end of a page that is not the last.
    const emojiNames = [`${'🍕'.repeat(200)}PIZZA`, `${'🍕'.repeat(200)}QUIZ`];
    const plainLong = 'L'.repeat(255);
    await insertRows(
      ['A SHORT', ...emojiNames, plainLong, 'ZSHORT'].map((name) => ({
        name,
        cuisine: CUISINE,
        description: null,
        rating: 4,
        price: null,
      })),
    );
    for (const order of ['NAME_ASC', 'NAME_DESC'] as const) {
      const { ids } = await walk(order, 1, { cuisine: CUISINE });
      expect(ids).toEqual(await databaseOrder(order, CUISINE));
    }
  });
});

describe("names in the database's collation: case, accents, punctuation, LIKE wildcards", () => {
  const CUISINE = 'collation';
  const NAMES = [
    'Alpha',
    'alpha',
    'ALPHA',
    'Álpha',
    'Bistro 21',
    'Bistro 3',
    'bistro-3',
    'Café Zed',
    'Cafe Zed',
    'cafe zed',
    "O'Brien's",
    'OBriens',
    'ñandú',
    'Nandu',
    '100% Vegan',
    '100 Vegan',
    '1000 Vegan',
    'Under_score',
    'UnderXscore',
    'Back\\slash',
    'Zeta',
    'zeta',
    ' Leading space',
    'Sushi Sakura',
    'Sushi  Sakura',
    'The Grill',
    'the grill',
    'Ω Omega',
    'Dup',
    'Dup',
    'Dup',
  ];
  beforeAll(async () => {
    await insertRows(
      NAMES.map((name, i) => ({ name, cuisine: CUISINE, description: null, rating: (i * 7) % 3, price: null })),
    );
  });
  afterAll(async () => {
    await t.db.sql(`DELETE FROM restaurants WHERE cuisine_type = $1`, [CUISINE]);
  });

  // The JS comparison cannot know the collation: here PostgreSQL's own ORDER BY is the reference.
  for (const order of ORDERS) {
    it(`${order} walks these ${NAMES.length} rows in the database's order`, async () => {
      const { ids } = await walk(order, 4, { cuisine: CUISINE });
      expectNoDuplicates(ids);
      expect(ids).toEqual(await databaseOrder(order, CUISINE));
    });
  }
});

describe('User.orders', () => {
  const ORDERS_QUERY = `query Orders($after: String, $first: Int) {
    me { orders(first: $first, after: $after) {
      edges { cursor node { id orderDate } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    } }
  }`;
  type OrdersPage = {
    edges: { cursor?: string; node: { id: string; orderDate: string } }[];
    pageInfo: PageInfo;
    totalCount?: number;
  };

  /** Every page of a user's orders (test/helpers/page-walk.ts checks each one), each in `statements` statements. */
  async function walkOrders(
    tokenOf: string,
    first: number,
    opts: { query?: string; statements?: number; between?: (page: OrdersPage, index: number) => Promise<void> } = {},
  ) {
    return walkPages<OrdersPage>(
      async (after) => {
        t.wire.reset();
        const r = await t.gql<{ me: { orders: OrdersPage } }>(
          opts.query ?? ORDERS_QUERY,
          { first, after },
          { token: tokenOf },
        );
        expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
        // One page of orders (and their count when totalCount is asked for); `me` reads no row.
        expect(t.wire.statements).toHaveLength(opts.statements ?? 1);
        return r.body.data!.me.orders;
      },
      first,
      { between: opts.between },
    );
  }

  let userId: string;
  let otherUserId: string;
  let token: string;
  /** The user's orders, newest first by order_date then id. */
  let expected: { id: string; date: string }[];

  beforeAll(async () => {
    userId = await insertUser(t.db, 'orders-walker@example.com');
    otherUserId = await insertUser(t.db, 'orders-other@example.com');
    const [restaurant] = await t.db.sql<{ id: string }>(`SELECT id FROM restaurants ORDER BY id LIMIT 1`);
    // 57 orders over 12 distinct order dates: ties of up to 5 orders on the same instant, dates not in id order,
    // some with milliseconds.
    await t.db.sql(
      `INSERT INTO orders (user_id, restaurant_id, order_date, total_amount, items)
       SELECT $1::int8, $2::int8,
              timestamptz '2026-03-01T10:00:00.000Z' + ((i * 5) % 12) * interval '1 day'
                + CASE WHEN i % 4 = 0 THEN interval '123 milliseconds' ELSE interval '0' END * ((i * 5) % 12 % 2),
              10, '[]'::jsonb
       FROM generate_series(1, 57) AS i`,
      [userId, restaurant!.id],
    );
    // Another user's orders on the same dates never show up.
    await t.db.sql(
      `INSERT INTO orders (user_id, restaurant_id, order_date, total_amount, items)
       SELECT $1::int8, $2::int8, timestamptz '2026-03-01T10:00:00.000Z' + (i % 12) * interval '1 day', 5, '[]'::jsonb
       FROM generate_series(1, 20) AS i`,
      [otherUserId, restaurant!.id],
    );
    const rows = await t.db.sql<{ id: string; order_date: Date }>(
      `SELECT id, order_date FROM orders WHERE user_id = $1`,
      [userId],
    );
    expected = rows
      .map((r) => ({ id: String(r.id), date: r.order_date.toISOString(), ms: r.order_date.getTime() }))
      .sort((a, b) => b.ms - a.ms || cmpId(b.id, a.id))
      .map(({ id, date }) => ({ id, date }));
    token = await t.tokenFor(userId);
  });

  it('the fixture has 57 orders with order_date ties', () => {
    expect(expected).toHaveLength(57);
    const dates = new Set(expected.map((o) => o.date));
    expect(dates.size).toBeLessThan(20);
    // Not already in id order, or the tie-breaker would not be tested.
    expect(expected.map((o) => o.id)).not.toEqual([...expected.map((o) => o.id)].sort((a, b) => cmpId(b, a)));
  });

  it('totalCount is 57', async () => {
    const r = await t.gql<{ me: { orders: { totalCount: number } } }>(
      `{ me { orders { totalCount } } }`,
      {},
      { token },
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.me.orders.totalCount).toBe(57);
  });

  for (const first of [10, 1, 7, 57, 100]) {
    it(`first: ${first} walks each order exactly once, order_date desc then id desc`, async () => {
      const { nodes, pages } = await walkOrders(token, first);
      const ids = nodes.map((n) => dbId(n.id, 'Order'));
      expectNoDuplicates(ids);
      expect(ids).toEqual(expected.map((o) => o.id));
      expect(nodes.map((n) => new Date(n.orderDate).toISOString())).toEqual(expected.map((o) => o.date));
      expect(pages).toHaveLength(Math.max(1, Math.ceil(57 / first)));
    });
  }

  it('with totalCount on every page: 57 each time and the same walk', async () => {
    const { nodes, pages } = await walkOrders(token, 10, {
      query: `query($after: String, $first: Int) { me { orders(first: $first, after: $after) {
          totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } } }`,
      statements: 2,
    });
    expect(pages.map((p) => p.totalCount)).toEqual(pages.map(() => 57));
    expect(nodes.map((n) => dbId(n.id, 'Order'))).toEqual(expected.map((o) => o.id));
  });

  it('an order inserted on a tied date between pages: before the cursor it is skipped, after it appears', async () => {
    const [restaurant] = await t.db.sql<{ id: string }>(`SELECT id FROM restaurants ORDER BY id LIMIT 1`);
    const cursorOrder = expected[9]!;
    let inserted: string[] = [];
    try {
      const { pages } = await walkOrders(token, 10, {
        between: async (page, index) => {
          if (index !== 0) return;
          expect(dbId(page.edges.at(-1)!.node.id, 'Order')).toBe(cursorOrder.id);
          // Same order_date as the cursor row and a higher id: sorts before it (id desc) → not seen.
          // An older date: after it → seen.
          const rows = await t.db.sql<{ id: string }>(
            `INSERT INTO orders (user_id, restaurant_id, order_date, total_amount, items)
             VALUES ($1, $2, $3, 1, '[]'::jsonb), ($1, $2, timestamptz '2000-01-01T00:00:00Z', 1, '[]'::jsonb)
             RETURNING id`,
            [userId, restaurant!.id, cursorOrder.date],
          );
          inserted = rows.map((r) => String(r.id));
        },
      });
      const ids = pages.slice(1).flatMap((p) => p.edges.map((e) => dbId(e.node.id, 'Order')));
      const [tied, old] = inserted;
      expect(inserted).toHaveLength(2);
      expect(ids).toEqual([...expected.slice(10).map((o) => o.id), old]);
      expect(ids).not.toContain(tied);
    } finally {
      await t.db.sql(`DELETE FROM orders WHERE id = ANY($1::int8[])`, [inserted]);
    }
  });

  it('order dates with sub-millisecond precision (e.g. DEFAULT now()) are not skipped or repeated', async () => {
    const [restaurant] = await t.db.sql<{ id: string }>(`SELECT id FROM restaurants ORDER BY id LIMIT 1`);
    const microUser = await insertUser(t.db, 'micro@example.com');
    // 25 orders within the same millisecond, distinct microseconds, plus ties
    await t.db.sql(
      `INSERT INTO orders (user_id, restaurant_id, order_date, total_amount, items)
       SELECT $1::int8, $2::int8, timestamptz '2026-02-01T12:00:00.123Z' + (i % 9) * interval '1 microsecond',
              1, '[]'::jsonb
       FROM generate_series(1, 25) AS i`,
      [microUser, restaurant!.id],
    );
    const rows = await t.db.sql<{ id: string }>(
      `SELECT id FROM orders WHERE user_id = $1 ORDER BY order_date DESC, id DESC`,
      [microUser],
    );
    const { nodes } = await walkOrders(await t.tokenFor(microUser), 10);
    expect(rows).toHaveLength(25);
    expect(nodes.map((n) => dbId(n.id, 'Order'))).toEqual(rows.map((r) => String(r.id)));
  });
});
