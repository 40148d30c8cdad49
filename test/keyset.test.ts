/**
 * Keyset pagination end to end: every ordering walked page by page against the order
 * PostgreSQL itself gives (ties broken by id in the same direction), filters combined
 * with pagination, rows inserted between pages, and a user's orders.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type GraphQLResponse, type TestApp } from './helpers/app.ts';
import { insertUser } from './helpers/fixtures.ts';

let t: TestApp;

const ORDERS = ['RATING_DESC', 'RATING_ASC', 'NAME_ASC', 'NAME_DESC', 'ID_ASC'] as const;
type Order = (typeof ORDERS)[number];

const ORDER_BY: Record<Order, string> = {
  RATING_DESC: 'rating DESC, id DESC',
  RATING_ASC: 'rating ASC, id ASC',
  NAME_ASC: 'name ASC, id ASC',
  NAME_DESC: 'name DESC, id DESC',
  ID_ASC: 'id ASC',
};

/** Names with duplicates, case and accent variants, punctuation and LIKE wildcards. */
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
const CUISINES = ['italian', 'Italian', 'japanese', 'thai', 'thai food', 'mexican'];
const PRICES = ['low', 'medium', 'high'];

type Conn = {
  restaurants: {
    edges: { cursor: string; node: { id: string } }[];
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
  };
};

const PAGE_QUERY = `query Page($first: Int, $after: String, $orderBy: RestaurantOrder, $cuisine: String,
  $minRating: Float, $priceRange: PriceRange, $search: String) {
  restaurants(first: $first, after: $after, orderBy: $orderBy, cuisine: $cuisine, minRating: $minRating,
    priceRange: $priceRange, search: $search) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}`;

/** The database id inside a Relay global id (`base64("Type:id")`). */
function dbId(globalId: string, type = 'Restaurant'): string {
  const decoded = Buffer.from(globalId, 'base64').toString('utf8');
  expect(decoded.startsWith(`${type}:`)).toBe(true);
  return decoded.slice(type.length + 1);
}

/** Inserts `n` restaurants in a shuffled-looking order (ids do not follow names or ratings). */
async function insertMany(n: number, offset = 0): Promise<string[]> {
  const values: unknown[] = [];
  const tuples: string[] = [];
  for (let k = 0; k < n; k++) {
    const i = k + offset;
    const j = (i * 37 + 11) % 997;
    const rating = ((j * 13) % 11) / 2; // 0.0 .. 5.0 in halves: many ties
    const b = values.length;
    values.push(
      NAMES[j % NAMES.length],
      CUISINES[i % CUISINES.length],
      i % 5 === 0 ? null : `Dish number ${i}; ${i % 4 === 0 ? 'spicy' : 'mild'} ${i % 9 === 0 ? 'deal 50% off' : ''}`,
      rating.toFixed(1),
      i % 7 === 0 ? null : PRICES[i % 3],
      `Street ${i}`,
    );
    tuples.push(`($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}::numeric, $${b + 5}, $${b + 6})`);
  }
  const rows = await t.db.sql<{ id: string }>(
    `INSERT INTO restaurants (name, cuisine_type, description, rating, price_range, location)
     VALUES ${tuples.join(', ')} RETURNING id`,
    values,
  );
  return rows.map((r) => String(r.id));
}

type Filter = { cuisine?: string; minRating?: number; priceRange?: 'LOW' | 'MEDIUM' | 'HIGH'; search?: string };

/** The expected ids, in order, computed by PostgreSQL. */
async function expectedIds(order: Order, filter: Filter = {}): Promise<string[]> {
  const conditions: string[] = [];
  const values: unknown[] = [];
  if (filter.cuisine !== undefined) {
    values.push(filter.cuisine);
    conditions.push(`cuisine_type = $${values.length}`);
  }
  if (filter.minRating !== undefined) {
    values.push(filter.minRating);
    conditions.push(`rating >= $${values.length}::numeric`);
  }
  if (filter.priceRange !== undefined) {
    values.push(filter.priceRange.toLowerCase());
    conditions.push(`price_range = $${values.length}`);
  }
  if (filter.search !== undefined) {
    values.push(filter.search);
    // plain substring, no pattern matching at all: % and _ are literal by construction
    conditions.push(
      `strpos(lower(name || ' ' || cuisine_type || ' ' || coalesce(description, '')), lower($${values.length})) > 0`,
    );
  }
  const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
  const rows = await t.db.sql<{ id: string }>(
    `SELECT id FROM restaurants ${where} ORDER BY ${ORDER_BY[order]}`,
    values,
  );
  return rows.map((r) => String(r.id));
}

/**
 * Walks every page following endCursor; asserts one statement per page and the
 * pageInfo flags. `between` runs after each page (before the next request).
 */
async function walk(order: Order, filter: Filter = {}, first = 10, between?: (page: number) => Promise<void>) {
  const ids: string[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    t.wire.reset();
    const r: GraphQLResponse<Conn> = await t.gql<Conn>(PAGE_QUERY, { first, after, orderBy: order, ...filter });
    expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
    expect(t.wire.statements).toHaveLength(1);
    const conn = r.body.data!.restaurants;
    expect(conn.pageInfo.hasPreviousPage).toBe(after !== null);
    expect(conn.edges.length).toBeLessThanOrEqual(first);
    if (conn.pageInfo.hasNextPage) expect(conn.edges).toHaveLength(first);
    for (const edge of conn.edges) ids.push(dbId(edge.node.id));
    if (conn.edges.length) expect(conn.pageInfo.endCursor).toBe(conn.edges.at(-1)!.cursor);
    else expect(conn.pageInfo.endCursor).toBeNull();
    pages++;
    expect(pages).toBeLessThan(500);
    if (!conn.pageInfo.hasNextPage) break;
    after = conn.pageInfo.endCursor;
    expect(after).toBeTruthy();
    await between?.(pages);
  }
  return { ids, pages };
}

beforeAll(async () => {
  t = await createTestApp();
  await insertMany(137);
});
afterAll(() => t?.close());

describe('walking every ordering with first: 10', () => {
  it('the data has rating ties and duplicate names', async () => {
    const [stats] = await t.db.sql<{ n: number; ratings: number; names: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT rating)::int AS ratings, count(DISTINCT name)::int AS names FROM restaurants`,
    );
    expect(stats!.n).toBe(137);
    expect(stats!.ratings).toBeLessThan(15);
    expect(stats!.names).toBeLessThan(40);
  });

  for (const order of ORDERS) {
    it(`${order}: every row exactly once, in the database's order`, async () => {
      const expected = await expectedIds(order);
      const { ids, pages } = await walk(order);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(expected);
      expect(pages).toBe(Math.ceil(expected.length / 10));
    });
  }

  it('an exact multiple of the page size ends with hasNextPage false and no empty extra page', async () => {
    const expected = await expectedIds('NAME_ASC', { cuisine: 'japanese' });
    const first = expected.length; // one full page with nothing after it
    const { ids, pages } = await walk('NAME_ASC', { cuisine: 'japanese' }, first);
    expect(ids).toEqual(expected);
    expect(pages).toBe(1);
  });

  it('first: 1 walks the rating ties one row at a time', async () => {
    const filter: Filter = { minRating: 4.5 };
    const expected = await expectedIds('RATING_DESC', filter);
    expect(expected.length).toBeGreaterThan(3);
    const { ids } = await walk('RATING_DESC', filter, 1);
    expect(ids).toEqual(expected);
  });
});

describe('filters combined with pagination', () => {
  beforeAll(async () => {
    // rows whose only difference from a match is a wildcard character
    await t.db.sql(
      `INSERT INTO restaurants (name, cuisine_type, description, rating, price_range, location) VALUES
        ('50% Burger', 'american', 'half price', 3.5, 'low', 'x'),
        ('500 Burger', 'american', 'full price', 3.5, 'low', 'x'),
        ('50 Burger', 'american', 'x_y combo', 4.0, 'medium', 'x'),
        ('Big_Bite', 'american', NULL, 2.0, 'high', 'x'),
        ('BigXBite', 'american', NULL, 2.0, 'high', 'x'),
        ('Slash\\Grill', 'american', 'a\\b', 1.0, NULL, 'x'),
        ('SlashGrill', 'american', 'ab', 1.0, NULL, 'x')`,
    );
  });

  const cases: { name: string; filter: Filter }[] = [
    { name: 'cuisine exact (case-sensitive, no prefix match)', filter: { cuisine: 'thai' } },
    { name: 'cuisine exact, capitalised', filter: { cuisine: 'Italian' } },
    { name: 'minRating 3.5', filter: { minRating: 3.5 } },
    { name: 'minRating 2.3 (between steps)', filter: { minRating: 2.3 } },
    { name: 'minRating 0', filter: { minRating: 0 } },
    { name: 'minRating 5', filter: { minRating: 5 } },
    { name: 'priceRange HIGH', filter: { priceRange: 'HIGH' } },
    { name: 'search, case-insensitive', filter: { search: 'sushi' } },
    { name: 'search in cuisine', filter: { search: 'THAI' } },
    { name: 'search in description', filter: { search: 'Spicy' } },
    { name: 'search with a literal %', filter: { search: '50%' } },
    { name: 'search with a literal % in the middle', filter: { search: '0% ' } },
    { name: 'search with a literal _', filter: { search: 'r_s' } },
    { name: 'search with a literal _ (name)', filter: { search: 'big_' } },
    { name: 'search with a literal \\', filter: { search: 'h\\g' } },
    { name: 'search that only a wildcard would match', filter: { search: '%' } },
    { name: 'search matching nothing', filter: { search: 'no such restaurant anywhere' } },
    { name: 'all filters', filter: { cuisine: 'japanese', minRating: 1, priceRange: 'MEDIUM', search: 'dish' } },
    { name: 'cuisine + minRating', filter: { cuisine: 'italian', minRating: 2.5 } },
  ];

  for (const { name, filter } of cases) {
    for (const order of ['RATING_DESC', 'NAME_ASC'] as const) {
      it(`${name} / ${order}`, async () => {
        const expected = await expectedIds(order, filter);
        const { ids } = await walk(order, filter, 10);
        expect(ids).toEqual(expected);
      });
    }
  }

  it('wildcards are literal: "50%" finds "50% Burger" but not "500 Burger"; "big_" not "BigXBite"', async () => {
    const names = async (search: string) => {
      const { ids } = await walk('ID_ASC', { search });
      const rows = await t.db.sql<{ name: string }>(`SELECT name FROM restaurants WHERE id = ANY($1::int8[])`, [ids]);
      return rows.map((r) => r.name);
    };
    const fifty = await names('50%');
    expect(fifty).toContain('50% Burger');
    expect(fifty).not.toContain('500 Burger');
    expect(fifty).not.toContain('50 Burger');
    const big = await names('big_');
    expect(big).toEqual(['Big_Bite']);
    const slash = await names('h\\g');
    expect(slash).toEqual(['Slash\\Grill']);
  });

  it('search with % matches only rows that contain %', async () => {
    const ids = (await walk('ID_ASC', { search: '%' })).ids;
    const rows = await t.db.sql<{ id: string }>(
      `SELECT id FROM restaurants WHERE position('%' in name || ' ' || cuisine_type || ' ' || coalesce(description, '')) > 0 ORDER BY id`,
    );
    expect(ids).toEqual(rows.map((r) => String(r.id)));
    expect(ids.length).toBeLessThan(await t.db.sql(`SELECT 1 FROM restaurants`).then((r) => r.length));
  });

  it('totalCount agrees with the walk for a filter', async () => {
    const filter: Filter = { cuisine: 'italian', minRating: 2.5 };
    const r = await t.gql<{ restaurants: { totalCount: number } }>(
      `query($c: String, $m: Float) { restaurants(cuisine: $c, minRating: $m) { totalCount } }`,
      { c: filter.cuisine, m: filter.minRating },
    );
    expect(r.body.data?.restaurants.totalCount).toBe((await expectedIds('ID_ASC', filter)).length);
  });
});

describe('rows inserted between pages', () => {
  for (const order of ORDERS) {
    it(`${order}: rows present at the start appear exactly once`, async () => {
      const before = await expectedIds(order);
      let batch = 0;
      const { ids } = await walk(order, {}, 10, async (page) => {
        if (page % 3 !== 1) return;
        // a mix of names and ratings: some sort before the current position, some after
        await insertMany(6, 5000 + 100 * ++batch + ORDERS.indexOf(order) * 1000);
      });
      expect(batch).toBeGreaterThan(2);
      expect(new Set(ids).size).toBe(ids.length);
      const seen = new Set(ids);
      for (const id of before) expect(seen.has(id), `row ${id} missing`).toBe(true);
      const counts = new Map<string, number>();
      for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
      for (const id of before) expect(counts.get(id)).toBe(1);
      // what was returned is still in the database's order
      const after = await expectedIds(order);
      const position = new Map(after.map((id, i) => [id, i]));
      const positions = ids.map((id) => position.get(id)!);
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
    });
  }
});

describe('User.orders', () => {
  type Me = {
    me: {
      orders: {
        totalCount: number;
        edges: { node: { id: string } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
    } | null;
  };
  const ME_ORDERS = `query Orders($after: String) {
    me { orders(first: 10, after: $after) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }
  }`;

  async function walkOrders(token: string) {
    const ids: string[] = [];
    let after: string | null = null;
    let pages = 0;
    let totalCount = -1;
    for (;;) {
      const r: GraphQLResponse<Me> = await t.gql<Me>(ME_ORDERS, { after }, { token });
      expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
      const conn = r.body.data!.me!.orders;
      totalCount = conn.totalCount;
      for (const e of conn.edges) ids.push(dbId(e.node.id, 'Order'));
      pages++;
      expect(pages).toBeLessThan(100);
      if (!conn.pageInfo.hasNextPage) break;
      expect(conn.edges).toHaveLength(10);
      after = conn.pageInfo.endCursor;
    }
    return { ids, pages, totalCount };
  }

  async function expectedOrders(userId: string) {
    const rows = await t.db.sql<{ id: string }>(
      `SELECT id FROM orders WHERE user_id = $1 ORDER BY order_date DESC, id DESC`,
      [userId],
    );
    return rows.map((r) => String(r.id));
  }

  it('57 orders with order_date ties: each once, newest first, totalCount 57', async () => {
    const [restaurant] = await t.db.sql<{ id: string }>(`SELECT id FROM restaurants ORDER BY id LIMIT 1`);
    const userId = await insertUser(t.db, 'orders@example.com');
    const otherId = await insertUser(t.db, 'other@example.com');
    // groups of up to 5 orders share an order_date; inserted out of date order
    await t.db.sql(
      `INSERT INTO orders (user_id, restaurant_id, order_date, total_amount, items)
       SELECT u, $3::int8, timestamptz '2026-01-01T12:00:00Z' + ((i * 7) % 12) * interval '1 hour', 10 + i, '[]'::jsonb
       FROM generate_series(1, 57) AS i, unnest(ARRAY[$1::int8, $2::int8]) AS u`,
      [userId, otherId, restaurant!.id],
    );
    const expected = await expectedOrders(userId);
    expect(expected).toHaveLength(57);
    const token = await t.tokenFor(userId);
    const { ids, pages, totalCount } = await walkOrders(token);
    expect(ids).toEqual(expected);
    expect(pages).toBe(6);
    expect(totalCount).toBe(57);
  });

  it('each orders page is a bounded number of statements', async () => {
    const [user] = await t.db.sql<{ id: string }>(`SELECT id FROM users WHERE email = 'orders@example.com'`);
    const token = await t.tokenFor(user!.id);
    t.wire.reset();
    const r = await t.gql<Me>(`{ me { orders(first: 10) { edges { node { id } } } } }`, {}, { token });
    expect(r.body.errors).toBeUndefined();
    // the user, then the page
    expect(t.wire.statements).toHaveLength(2);
  });

  it('order dates with sub-millisecond precision (e.g. DEFAULT now()) are not skipped or repeated', async () => {
    const [restaurant] = await t.db.sql<{ id: string }>(`SELECT id FROM restaurants ORDER BY id LIMIT 1`);
    const userId = await insertUser(t.db, 'micro@example.com');
    // 25 orders within the same millisecond, distinct microseconds, plus ties
    await t.db.sql(
      `INSERT INTO orders (user_id, restaurant_id, order_date, total_amount, items)
       SELECT $1::int8, $2::int8, timestamptz '2026-02-01T12:00:00.123Z' + (i % 9) * interval '1 microsecond',
              1, '[]'::jsonb
       FROM generate_series(1, 25) AS i`,
      [userId, restaurant!.id],
    );
    const expected = await expectedOrders(userId);
    const { ids, totalCount } = await walkOrders(await t.tokenFor(userId));
    expect(totalCount).toBe(25);
    expect(ids).toEqual(expected);
  });
});
