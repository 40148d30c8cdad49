/** Loaders on real PostgreSQL: one statement per batch, whatever the number of keys. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderPagesByUserId } from '../src/loaders/orders.ts';
import { restaurantsById } from '../src/loaders/restaurants.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { insertOrders, insertRestaurants, insertUser } from './helpers/fixtures.ts';

let t: TestApp;
let restaurantIds: string[];
const userIds: string[] = [];

beforeAll(async () => {
  t = await createTestApp();
  restaurantIds = await insertRestaurants(t.db, 30);
  for (let i = 0; i < 50; i++) {
    const id = await insertUser(t.db, `loader${i}@example.com`);
    await insertOrders(t.db, id, restaurantIds, 3 + (i % 4));
    userIds.push(id);
  }
});
afterAll(() => t?.close());

describe('orderPagesByUserId', () => {
  it.each([5, 50])('loads %i users’ pages in one statement', async (n) => {
    const loader = orderPagesByUserId(t.pool, 500, () => restaurantsById(t.pool, 500));
    t.wire.reset();
    const pages = await Promise.all(
      userIds.slice(0, n).map((userId) =>
        loader.load({
          userId,
          after: null,
          limit: 3,
          columns: ['id', 'order_date', 'user_id'],
          restaurantColumns: [],
        }),
      ),
    );
    await t.wire.settle();
    expect(t.wire.statements).toHaveLength(1);
    expect(pages).toHaveLength(n);
    pages.forEach((page, i) => {
      expect(page).toHaveLength(3);
      for (const row of page) expect(row.user_id).toBe(userIds[i]);
      // newest first
      expect(page[0]!.order_date!.getTime()).toBeGreaterThan(page[1]!.order_date!.getTime());
    });
  });

  it('honours a different cursor and size per key in the same statement', async () => {
    const loader = orderPagesByUserId(t.pool, 500, () => restaurantsById(t.pool, 500));
    const columns = ['id', 'order_date', 'user_id'] as const;
    const [first] = await Promise.all([
      loader.load({ userId: userIds[3]!, after: null, limit: 2, columns, restaurantColumns: [] }),
    ]);
    const last = first!.at(-1)!;
    t.wire.reset();
    const [rest, other] = await Promise.all([
      loader.load({
        userId: userIds[3]!,
        after: { orderDate: last.order_date!.toISOString(), id: last.id },
        limit: 10,
        columns,
        restaurantColumns: [],
      }),
      loader.load({ userId: userIds[4]!, after: null, limit: 1, columns, restaurantColumns: [] }),
    ]);
    await t.wire.settle();
    expect(t.wire.statements).toHaveLength(1);
    // user 3 has 3 + (3 % 4) = 6 orders: 2 on the first page, 4 after it
    expect(rest).toHaveLength(4);
    expect(rest!.map((r) => r.id)).not.toContain(last.id);
    expect(other).toHaveLength(1);
  });

  it('joins the restaurants a page asks for and primes their loader: no statement of their own', async () => {
    const restaurants = restaurantsById(t.pool, 500);
    const loader = orderPagesByUserId(t.pool, 500, () => restaurants);
    const columns = ['id', 'order_date', 'restaurant_id', 'user_id'] as const;
    t.wire.reset();
    const [withName, withRating, plain] = await Promise.all([
      loader.load({ userId: userIds[5]!, after: null, limit: 5, columns, restaurantColumns: ['id', 'name'] }),
      loader.load({ userId: userIds[6]!, after: null, limit: 5, columns, restaurantColumns: ['id', 'rating'] }),
      loader.load({ userId: userIds[7]!, after: null, limit: 5, columns, restaurantColumns: [] }),
    ]);
    await t.wire.settle();
    expect(t.wire.statements).toHaveLength(1);
    expect(t.wire.statements[0]!.sql).toMatch(/LEFT JOIN restaurants r ON r.id = o.restaurant_id/);
    // The order rows carry no restaurant columns; the restaurants come from the primed loader.
    for (const row of [...withName!, ...withRating!, ...plain!]) {
      expect(Object.keys(row).sort()).toEqual([...columns]);
    }
    const named = await Promise.all(withName!.map((o) => restaurants.load(o.restaurant_id!, ['id', 'name'])));
    const rated = await Promise.all(withRating!.map((o) => restaurants.load(o.restaurant_id!, ['id', 'rating'])));
    await t.wire.settle();
    expect(t.wire.statements).toHaveLength(1);
    expect(named.map((r) => r?.name)).toEqual(
      withName!.map((o) => `R${String(restaurantIds.indexOf(o.restaurant_id!) + 1).padStart(4, '0')}`),
    );
    for (const r of rated) expect(r?.rating).toBeTypeOf('number');
    // A column the page did not join is read from PostgreSQL, never taken as missing.
    const described = await restaurants.load(withName![0]!.restaurant_id!, ['description', 'id']);
    await t.wire.settle();
    expect(t.wire.statements).toHaveLength(2);
    expect(described?.description).toContain('A long description');
  });
});

describe('restaurantsById', () => {
  it('merges column sets of one tick into one statement and returns null for a missing id', async () => {
    const loader = restaurantsById(t.pool, 500);
    t.wire.reset();
    const [a, b, missing] = await Promise.all([
      loader.load(restaurantIds[0]!, ['id', 'name']),
      loader.load(restaurantIds[1]!, ['id', 'rating']),
      loader.load('999999999', ['id', 'name']),
    ]);
    await t.wire.settle();
    expect(t.wire.statements).toHaveLength(1);
    expect(t.wire.statements[0]!.sql).toMatch(/SELECT "id", "name", "rating" FROM restaurants/);
    expect(a?.name).toBe('R0001');
    expect(b?.rating).toBeTypeOf('number');
    expect(missing).toBeNull();
  });

  it('never serves a cached row for a column it did not read', async () => {
    const loader = restaurantsById(t.pool, 500);
    await loader.load(restaurantIds[0]!, ['id', 'name']);
    const row = await loader.load(restaurantIds[0]!, ['id', 'description', 'name']);
    expect(row?.description).toContain('A long description');
  });

  it('splits batches at the maximum batch size', async () => {
    const loader = restaurantsById(t.pool, 10);
    t.wire.reset();
    await Promise.all(restaurantIds.slice(0, 25).map((id) => loader.load(id, ['id'])));
    await t.wire.settle();
    expect(t.wire.statements).toHaveLength(3);
  });
});
