/**
 * The synthetic-data seed on a real PostgreSQL (the suite's server: embedded unless
 * TEST_DATABASE_URL/DATABASE_URL is set; each database here is a fresh migrated clone).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../src/auth/passwords.ts';
import { DEMO_EMAIL, DEMO_PASSWORD } from '../src/db/demo-account.ts';
import { CUISINES } from '../src/db/seed/vocabulary.ts';
import { type SeedOptions, seedDatabase } from '../src/db/seed.ts';
import { freshDatabase, type TestDatabase } from './helpers/db.ts';

const OPTIONS: SeedOptions = { restaurants: 30, users: 12, orders: 1000, batchSize: 250, seed: 7 };

/** One digest of everything the seed decides, in id order (the other users' hash is drawn per run, unknowable). */
async function fingerprint(db: TestDatabase) {
  const [row] = await db.sql<{ restaurants: string; users: string; orders: string }>(`
    SELECT
      (SELECT md5(string_agg(concat_ws('|', name, cuisine_type, description, rating, price_range, location, created_at), E'\\n' ORDER BY id)) FROM restaurants) AS restaurants,
      (SELECT md5(string_agg(concat_ws('|', email, name, CASE WHEN email = '${DEMO_EMAIL}' THEN password_hash END, created_at), E'\\n' ORDER BY id)) FROM users) AS users,
      (SELECT md5(string_agg(concat_ws('|', user_id, restaurant_id, order_date, total_amount, items::text, rating), E'\\n' ORDER BY id)) FROM orders) AS orders`);
  return row!;
}

const count = async (db: TestDatabase, table: string) =>
  Number((await db.sql<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);

let a: TestDatabase;
let b: TestDatabase;
let c: TestDatabase;
let result: Awaited<ReturnType<typeof seedDatabase>>;
const batches: { table: string; done: number; total: number }[] = [];

beforeAll(async () => {
  [a, b, c] = await Promise.all([freshDatabase(), freshDatabase(), freshDatabase()]);
  result = await seedDatabase(a.url, OPTIONS);
}, 60_000);
afterAll(async () => {
  await Promise.all([a?.drop(), b?.drop(), c?.drop()]);
}, 60_000);

describe('seedDatabase', () => {
  it('writes exactly the requested counts', async () => {
    expect(result).toEqual({ restaurants: 30, users: 12, orders: 1000 });
    expect(await count(a, 'restaurants')).toBe(30);
    expect(await count(a, 'users')).toBe(12);
    expect(await count(a, 'orders')).toBe(1000);
  });

  it('is deterministic: same options, same rows, whatever the batch size', async () => {
    await seedDatabase(b.url, { ...OPTIONS, batchSize: 9 });
    const [fa, fb] = await Promise.all([fingerprint(a), fingerprint(b)]);
    expect(fb).toEqual(fa);
  });

  it('another seed gives other data', async () => {
    const other = await freshDatabase();
    try {
      await seedDatabase(other.url, { ...OPTIONS, seed: 8 });
      const [fa, fo] = await Promise.all([fingerprint(a), fingerprint(other)]);
      expect(fo.restaurants).not.toBe(fa.restaurants);
      expect(fo.orders).not.toBe(fa.orders);
    } finally {
      await other.drop();
    }
  });

  it('has all 12 cuisines, ratings in range, descriptions that mention the cuisine or a dish', async () => {
    const cuisines = await a.sql<{ cuisine_type: string }>(
      'SELECT DISTINCT cuisine_type FROM restaurants ORDER BY cuisine_type',
    );
    expect(cuisines.map((r) => r.cuisine_type)).toEqual([...CUISINES].sort());
    expect(CUISINES).toHaveLength(12);
    const rows = await a.sql<{ cuisine_type: string; description: string; rating: string; price_range: string }>(
      'SELECT cuisine_type, description, rating, price_range FROM restaurants ORDER BY id',
    );
    const dishes = await a.sql<{ name: string }>(
      `SELECT DISTINCT lower(i->>'name') AS name FROM orders, jsonb_array_elements(items) AS i`,
    );
    for (const r of rows) {
      const text = r.description.toLowerCase();
      expect(text.includes(r.cuisine_type) || dishes.some((d) => text.includes(d.name))).toBe(true);
      const sentences = r.description.split(/(?<=\.)\s+/).length;
      expect(sentences).toBeGreaterThanOrEqual(1);
      expect(sentences).toBeLessThanOrEqual(4);
      expect(Number(r.rating)).toBeGreaterThanOrEqual(2.5);
      expect(Number(r.rating)).toBeLessThanOrEqual(5);
      expect(['low', 'medium', 'high']).toContain(r.price_range);
    }
  });

  it('makes user 1 the demo user, with orders', async () => {
    const [first] = await a.sql<{ email: string; name: string; password_hash: string; orders: string }>(
      `SELECT u.email, u.name, u.password_hash, (SELECT count(*) FROM orders o WHERE o.user_id = u.id) AS orders
       FROM users u ORDER BY u.id LIMIT 1`,
    );
    expect(first!.email).toBe(DEMO_EMAIL);
    expect(first!.name).toBe('Demo User');
    expect(first!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(Number(first!.orders)).toBeGreaterThanOrEqual(50);
    const others = await a.sql<{ email: string }>('SELECT email FROM users ORDER BY id OFFSET 1 LIMIT 2');
    expect(others.map((u) => u.email)).toEqual(['user2@example.com', 'user3@example.com']);
  });

  it('gives only the demo user a known password: the others verify neither it nor another seed run', async () => {
    const users = await a.sql<{ email: string; password_hash: string }>('SELECT email, password_hash FROM users');
    const byHash = new Map<string, string[]>();
    for (const u of users) byHash.set(u.password_hash, [...(byHash.get(u.password_hash) ?? []), u.email]);
    // One hash for the demo user, one shared by the others (hashed once per run), both argon2id.
    expect(byHash.size).toBe(2);
    const verified: string[] = [];
    for (const [hash, emails] of byHash) {
      expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      if ((await verifyPassword(hash, DEMO_PASSWORD)).ok) verified.push(...emails);
    }
    expect(verified).toEqual([DEMO_EMAIL]);
    // Another run of the same seed draws another secret: nothing derivable from the options.
    const [other] = await b.sql<{ password_hash: string }>(
      `SELECT password_hash FROM users WHERE email = 'user2@example.com'`,
    );
    const [mine] = users.filter((u) => u.email === 'user2@example.com');
    expect(other!.password_hash).not.toBe(mine!.password_hash);
  });

  it('demoLogin false (production): no seeded user verifies the demo password', async () => {
    const p = await freshDatabase();
    try {
      await seedDatabase(p.url, { restaurants: 3, users: 3, orders: 3, batchSize: 10, seed: 42, demoLogin: false });
      const users = await p.sql<{ email: string; password_hash: string }>('SELECT email, password_hash FROM users');
      expect(users.map((u) => u.email)).toContain(DEMO_EMAIL);
      for (const hash of new Set(users.map((u) => u.password_hash))) {
        expect(hash).toMatch(/^\$argon2id\$/);
        expect((await verifyPassword(hash, DEMO_PASSWORD)).ok).toBe(false);
      }
    } finally {
      await p.drop();
    }
  });

  it('writes orders whose totals equal the sum of their items, in the year before the reference date', async () => {
    const [row] = await a.sql<{ wrong_total: string; bad_items: string; rated: string; outside: string; sim: string }>(`
      SELECT
        count(*) FILTER (WHERE total_amount <> (
          SELECT round(sum((i->>'quantity')::numeric * (i->>'price')::numeric), 2) FROM jsonb_array_elements(items) AS i
        )) AS wrong_total,
        count(*) FILTER (WHERE jsonb_array_length(items) NOT BETWEEN 1 AND 4) AS bad_items,
        count(rating) AS rated,
        count(*) FILTER (WHERE order_date <= timestamptz '2026-11-01T12:00:00Z' - interval '365 days'
                            OR order_date > timestamptz '2026-11-01T12:00:00Z'
                            OR created_at <> order_date) AS outside,
        count(*) FILTER (WHERE is_simulation) AS sim
      FROM orders`);
    expect(Number(row!.wrong_total)).toBe(0);
    expect(Number(row!.bad_items)).toBe(0);
    expect(Number(row!.outside)).toBe(0);
    expect(Number(row!.sim)).toBe(0);
    // ~60 % rated
    expect(Number(row!.rated)).toBeGreaterThan(520);
    expect(Number(row!.rated)).toBeLessThan(680);
  });

  it('writes in batches: 20 restaurants in batches of 7 → 3 progress calls, 20 rows, and the hook sees each batch', async () => {
    const hookBatches: number[] = [];
    await seedDatabase(c.url, {
      restaurants: 20,
      users: 3,
      orders: 10,
      batchSize: 7,
      seed: 1,
      onProgress: (p) => batches.push(p),
      onRestaurantBatch: async (rows) => {
        hookBatches.push(rows.length);
        expect(rows.every((r) => /^\d+$/.test(r.id) && r.name && r.cuisineType && r.description)).toBe(true);
      },
    });
    expect(await count(c, 'restaurants')).toBe(20);
    const restaurantCalls = batches.filter((p) => p.table === 'restaurants');
    expect(restaurantCalls.map((p) => p.done)).toEqual([7, 14, 20]);
    expect(restaurantCalls.every((p) => p.total === 20)).toBe(true);
    expect(hookBatches).toEqual([7, 7, 6]);
    expect(batches.filter((p) => p.table === 'orders').map((p) => p.done)).toEqual([7, 10]);
  });

  it('adds to a seeded database: restaurants and orders again, existing users reused', async () => {
    await seedDatabase(c.url, { restaurants: 5, users: 3, orders: 4, batchSize: 10, seed: 2 });
    expect(await count(c, 'restaurants')).toBe(25);
    expect(await count(c, 'users')).toBe(3);
    expect(await count(c, 'orders')).toBe(14);
  });

  it('refuses invalid options', async () => {
    await expect(seedDatabase(c.url, { ...OPTIONS, batchSize: 0 })).rejects.toThrow(/batchSize/);
    await expect(seedDatabase(c.url, { ...OPTIONS, restaurants: -1 })).rejects.toThrow(/restaurants/);
    await expect(seedDatabase(c.url, { ...OPTIONS, users: 0 })).rejects.toThrow(/orders need/);
  });
});
