/**
 * Orders and taste preferences through the API: createOrder (server-computed totals, input
 * rules that write nothing, idempotency keys under races), rateOrder, clearSimulatedOrders,
 * setTastePreferences and User.tasteProfile (one aggregate statement).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type GraphQLResponse, type TestApp } from './helpers/app.ts';
import { insertRestaurants, insertUser } from './helpers/fixtures.ts';

let t: TestApp;
/** restaurant ids by cuisine (the fixture gives each cuisine one price range) */
const byCuisine = new Map<string, { id: string; name: string; priceRange: string }>();
let anyRestaurant: string;

const gid = (type: string, id: string | number) => Buffer.from(`${type}:${id}`).toString('base64');
/** The database id inside a global id ("Order:42" → "42"). */
const rawId = (globalId: string) => {
  const [type, id] = Buffer.from(globalId, 'base64').toString().split(':');
  expect(type).toBe('Order');
  return id!;
};
const restaurantOf = (cuisine: string) => gid('Restaurant', byCuisine.get(cuisine)!.id);

let userSeq = 0;
/** A fresh user and their token: every test works on its own user. */
async function newUser(): Promise<{ id: string; token: string }> {
  const id = await insertUser(t.db, `orders-${++userSeq}@example.com`);
  return { id, token: await t.tokenFor(id) };
}

type Item = { name: string; quantity: number; price: number };
type OrderOut = {
  id: string;
  totalAmount: number;
  items: Item[];
  rating: number | null;
  simulated: boolean;
  orderDate: string;
  createdAt: string;
  restaurant: { id: string; name: string; cuisineType: string };
};
type Profile = {
  favoriteCuisines: string[];
  totalOrders: number;
  averageOrderValue: number | null;
  pricePreference: string | null;
  updatedAt: string | null;
};

const ORDER_FIELDS = `id totalAmount items { name quantity price } rating simulated orderDate createdAt
  restaurant { id name cuisineType }`;
const CREATE = `mutation C($input: CreateOrderInput!) { createOrder(input: $input) { ${ORDER_FIELDS} } }`;
const RATE = `mutation R($id: ID!, $rating: Int!) { rateOrder(id: $id, rating: $rating) { id rating } }`;
const CLEAR = `mutation { clearSimulatedOrders }`;
const PROFILE_FIELDS = `favoriteCuisines totalOrders averageOrderValue pricePreference updatedAt`;
const SET_PREFS = `mutation S($input: TastePreferencesInput!) { setTastePreferences(input: $input) { ${PROFILE_FIELDS} } }`;
const ME_PROFILE = `{ me { tasteProfile { ${PROFILE_FIELDS} } } }`;

function createOrder(token: string, input: Record<string, unknown>) {
  return t.gql<{ createOrder: OrderOut }>(CREATE, { input }, { token });
}

/** createOrder that must succeed; returns the order. */
async function placeOrder(token: string, input: Record<string, unknown>): Promise<OrderOut> {
  const r = await createOrder(token, input);
  expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
  return r.body.data!.createOrder;
}

async function profileOf(token: string): Promise<Profile> {
  const r = await t.gql<{ me: { tasteProfile: Profile } }>(ME_PROFILE, {}, { token });
  expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
  return r.body.data!.me.tasteProfile;
}

async function count(table: 'orders' | 'user_preferences', userId?: string): Promise<number> {
  const where = userId === undefined ? '' : ' WHERE user_id = $1';
  const [row] = await t.db.sql<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${table}${where}`,
    userId === undefined ? [] : [userId],
  );
  return row!.n;
}

/** The first error is BAD_USER_INPUT (and there is no data); returns it. */
function expectBadInput(r: GraphQLResponse) {
  const text = JSON.stringify(r.body);
  expect(r.body.errors, text).toBeDefined();
  const [first] = r.body.errors!;
  expect(first!.extensions?.code, text).toBe('BAD_USER_INPUT');
  expect(r.body.data ?? null, text).toBeNull();
  return first!;
}

/** BAD_USER_INPUT whose message and extensions.field name `field`. */
function expectBadField(r: GraphQLResponse, field: string) {
  const e = expectBadInput(r);
  const text = JSON.stringify(r.body);
  expect(e.extensions?.field, text).toBe(field);
  expect(e.message, text).toContain(field);
  return e;
}

const ITEM: Item = { name: 'Pizza', quantity: 2, price: 9.5 };

beforeAll(async () => {
  t = await createTestApp();
  await insertRestaurants(t.db, 12);
  const rows = await t.db.sql<{ id: string; name: string; cuisine_type: string; price_range: string }>(
    `SELECT r.id::text AS id, r.name, r.cuisine_type, r.price_range FROM restaurants r ORDER BY r.id`,
  );
  for (const r of rows) {
    if (!byCuisine.has(r.cuisine_type)) {
      byCuisine.set(r.cuisine_type, { id: r.id, name: r.name, priceRange: r.price_range });
    }
  }
  expect(byCuisine.size).toBe(6);
  anyRestaurant = restaurantOf('italian');
});
afterAll(() => t?.close());

describe('createOrder', () => {
  it('places an order: server-computed total, echoed items, defaults, restaurant, one row for the user', async () => {
    const user = await newUser();
    const italian = byCuisine.get('italian')!;
    const items = [
      { name: 'Grissini', quantity: 3, price: 0.1 },
      { name: 'Lasagne', quantity: 2, price: 19.99 },
      { name: 'Water', quantity: 1, price: 0 },
    ];
    const before = await count('orders');
    const order = await placeOrder(user.token, { restaurantId: gid('Restaurant', italian.id), items });

    expect(order.totalAmount).toBe(40.28); // 3 × 0.10 + 2 × 19.99 + 0
    expect(order.items).toEqual(items);
    expect(order.simulated).toBe(false);
    expect(order.rating).toBeNull();
    expect(order.restaurant).toEqual({ id: gid('Restaurant', italian.id), name: italian.name, cuisineType: 'italian' });

    // orderDate defaults to the insert's now(): not after a later now() of the database
    const [later] = await t.db.sql<{ ok: boolean }>(`SELECT $1::timestamptz <= now()::timestamptz(3) AS ok`, [
      order.orderDate,
    ]);
    expect(later!.ok).toBe(true);

    expect(await count('orders')).toBe(before + 1);
    const rows = await t.db.sql<{
      user_id: string;
      restaurant_id: string;
      total_amount: string;
      items: Item[];
      is_simulation: boolean;
      defaulted: boolean;
    }>(
      `SELECT user_id::text, restaurant_id::text, total_amount::text, items, is_simulation,
              order_date = created_at::timestamptz(3) AS defaulted
       FROM orders WHERE id = $1`,
      [rawId(order.id)],
    );
    expect(rows).toEqual([
      {
        user_id: user.id,
        restaurant_id: italian.id,
        total_amount: '40.28',
        items,
        is_simulation: false,
        defaulted: true,
      },
    ]);
  });

  it('keeps a given orderDate, rating and simulated flag; trims item names', async () => {
    const user = await newUser();
    const order = await placeOrder(user.token, {
      restaurantId: anyRestaurant,
      items: [{ name: '  Tiramisu  ', quantity: 1, price: 6 }],
      orderDate: '2024-02-29T18:30:00.000Z',
      rating: 5,
      simulated: true,
    });
    expect(order.orderDate).toBe('2024-02-29T18:30:00.000Z');
    expect(order.rating).toBe(5);
    expect(order.simulated).toBe(true);
    expect(order.items).toEqual([{ name: 'Tiramisu', quantity: 1, price: 6 }]);
    const [row] = await t.db.sql<{ rating: number; is_simulation: boolean; order_date: Date }>(
      `SELECT rating, is_simulation, order_date FROM orders WHERE id = $1`,
      [rawId(order.id)],
    );
    expect(row).toEqual({ rating: 5, is_simulation: true, order_date: new Date('2024-02-29T18:30:00.000Z') });
  });

  it('accepts the boundaries: 50 items, 200-character names (code points), quantities 1 and 99, price 0, 2000-01-01', async () => {
    const user = await newUser();
    const items = Array.from({ length: 50 }, (_, i) => ({
      name: i === 0 ? '🍕'.repeat(200) : `Dish ${i}`,
      quantity: i % 2 === 0 ? 1 : 99,
      price: i === 1 ? 0 : 0.01,
    }));
    const key = Array.from({ length: 94 }, (_, i) => String.fromCharCode(0x21 + i)).join('') + 'abcdef';
    expect(key).toHaveLength(100);
    const order = await placeOrder(user.token, {
      restaurantId: anyRestaurant,
      items,
      rating: 1,
      orderDate: '2000-01-01T00:00:00.000Z',
      idempotencyKey: key,
    });
    expect(order.items).toEqual(items);
    // 25 × 1 × 0.01 + 24 × 99 × 0.01 (item 1 is free)
    expect(order.totalAmount).toBe(24.01);
    expect(order.orderDate).toBe('2000-01-01T00:00:00.000Z');
    expect(order.rating).toBe(1);
    expect(await count('orders', user.id)).toBe(1);
  });

  it('accepts a totalAmount equal to the computed total', async () => {
    const user = await newUser();
    const order = await placeOrder(user.token, {
      restaurantId: anyRestaurant,
      items: [
        { name: 'A', quantity: 3, price: 0.1 },
        { name: 'B', quantity: 7, price: 1.15 },
      ],
      totalAmount: 8.35,
    });
    expect(order.totalAmount).toBe(8.35);
    expect(await count('orders', user.id)).toBe(1);
  });

  it('refuses a totalAmount that differs from the items (field totalAmount), writing nothing', async () => {
    const user = await newUser();
    const before = await count('orders');
    const r = await createOrder(user.token, { restaurantId: anyRestaurant, items: [ITEM], totalAmount: 19.01 });
    const e = expectBadField(r, 'totalAmount');
    expect(e.message).toContain('19.00');
    expect(await count('orders')).toBe(before);
  });

  it('needs a signed-in user (UNAUTHENTICATED), writing nothing', async () => {
    const before = await count('orders');
    const r = await t.gql(CREATE, { input: { restaurantId: anyRestaurant, items: [ITEM] } });
    expect(r.body.errors?.[0]?.extensions?.code, JSON.stringify(r.body)).toBe('UNAUTHENTICATED');
    expect(await count('orders')).toBe(before);
  });

  const tooMany = Array.from({ length: 51 }, (_, i) => ({ name: `Dish ${i}`, quantity: 1, price: 1 }));
  const badFields: [string, string, () => Record<string, unknown>][] = [
    ['no items', 'items', () => ({ items: [] })],
    ['51 items', 'items', () => ({ items: tooMany })],
    ['an empty item name', 'items[0].name', () => ({ items: [{ ...ITEM, name: '' }] })],
    ['a whitespace item name', 'items[0].name', () => ({ items: [{ ...ITEM, name: ' \t  ' }] })],
    ['an item name of 201 characters', 'items[0].name', () => ({ items: [{ ...ITEM, name: 'é'.repeat(201) }] })],
    ['an item name with a NUL character', 'items[0].name', () => ({ items: [{ ...ITEM, name: 'Piz\0za' }] })],
    ['quantity 0', 'items[0].quantity', () => ({ items: [{ ...ITEM, quantity: 0 }] })],
    ['quantity 100', 'items[0].quantity', () => ({ items: [{ ...ITEM, quantity: 100 }] })],
    ['a negative quantity', 'items[0].quantity', () => ({ items: [{ ...ITEM, quantity: -1 }] })],
    ['quantity 0 on the third item', 'items[2].quantity', () => ({ items: [ITEM, ITEM, { ...ITEM, quantity: 0 }] })],
    ['a negative price', 'items[0].price', () => ({ items: [{ ...ITEM, price: -0.01 }] })],
    ['a price with 3 decimals', 'items[0].price', () => ({ items: [{ ...ITEM, price: 1.234 }] })],
    ['a price of 1.005', 'items[0].price', () => ({ items: [{ ...ITEM, price: 1.005 }] })],
    ['rating 0', 'rating', () => ({ rating: 0 })],
    ['rating 6', 'rating', () => ({ rating: 6 })],
    [
      'an orderDate 1 day in the future',
      'orderDate',
      () => ({ orderDate: new Date(Date.now() + 86_400_000).toISOString() }),
    ],
    ['an orderDate before 2000', 'orderDate', () => ({ orderDate: '1999-12-31T23:59:59.000Z' })],
    ['an empty idempotencyKey', 'idempotencyKey', () => ({ idempotencyKey: '' })],
    ['an idempotencyKey of 101 characters', 'idempotencyKey', () => ({ idempotencyKey: 'k'.repeat(101) })],
    ['an idempotencyKey with a space', 'idempotencyKey', () => ({ idempotencyKey: 'retry 1' })],
    ['an idempotencyKey with non-ASCII', 'idempotencyKey', () => ({ idempotencyKey: 'clé' })],
    ['a restaurant that does not exist', 'restaurantId', () => ({ restaurantId: gid('Restaurant', 999999) })],
    ['a price above numeric(10,2)', 'items[0].price', () => ({ items: [{ ...ITEM, price: 1e300 }] })],
    ['a total above numeric(10,2)', 'items', () => ({ items: [{ ...ITEM, quantity: 99, price: 9_999_999 }] })],
  ];
  it.each(badFields)('refuses %s: BAD_USER_INPUT on %s, writing nothing', async (_label, field, override) => {
    const user = await newUser();
    const before = await count('orders');
    const r = await createOrder(user.token, { restaurantId: anyRestaurant, items: [ITEM], ...override() });
    expectBadField(r, field);
    expect(await count('orders')).toBe(before);
  });

  const badValues: [string, () => Record<string, unknown>][] = [
    ['an Order global id as restaurantId', () => ({ restaurantId: gid('Order', byCuisine.get('italian')!.id) })],
    ['a User global id as restaurantId', () => ({ restaurantId: gid('User', byCuisine.get('italian')!.id) })],
    ['a garbage restaurantId', () => ({ restaurantId: 'garbage' })],
    ['a restaurantId with a non-numeric key', () => ({ restaurantId: gid('Restaurant', 'abc') })],
    ['a restaurantId beyond bigint', () => ({ restaurantId: gid('Restaurant', '99999999999999999999') })],
    ['a non-integer quantity', () => ({ items: [{ ...ITEM, quantity: 1.5 }] })],
    ['a quantity as a string', () => ({ items: [{ ...ITEM, quantity: '2' }] })],
    ['a missing item price', () => ({ items: [{ name: 'Pizza', quantity: 1 }] })],
    ['an orderDate that is not a date', () => ({ orderDate: 'yesterday' })],
  ];
  it.each(badValues)('refuses %s: BAD_USER_INPUT, writing nothing', async (_label, override) => {
    const user = await newUser();
    const before = await count('orders');
    const r = await createOrder(user.token, { restaurantId: anyRestaurant, items: [ITEM], ...override() });
    expectBadInput(r);
    expect(await count('orders')).toBe(before);
  });

  it('refuses a non-integer quantity written in the document (Int literal)', async () => {
    const user = await newUser();
    const before = await count('orders');
    const r = await t.gql(
      `mutation($r: ID!) { createOrder(input: {restaurantId: $r, items: [{name: "x", quantity: 1.5, price: 1}]}) { id } }`,
      { r: anyRestaurant },
      { token: user.token },
    );
    expectBadInput(r);
    expect(await count('orders')).toBe(before);
  });
});

describe('createOrder with an idempotencyKey', () => {
  const keyCount = (userId: string, key: string) =>
    t.db
      .sql<{ n: number }>(`SELECT count(*)::int AS n FROM orders WHERE user_id = $1 AND idempotency_key = $2`, [
        userId,
        key,
      ])
      .then((rows) => rows[0]!.n);

  it('a sequential retry returns the same order and writes one row', async () => {
    const user = await newUser();
    const input = { restaurantId: anyRestaurant, items: [ITEM, { name: 'Salad', quantity: 1, price: 4.2 }] };
    const first = await placeOrder(user.token, { ...input, idempotencyKey: 'checkout-1' });
    const second = await placeOrder(user.token, { ...input, idempotencyKey: 'checkout-1' });
    expect(second).toEqual(first);
    expect(await keyCount(user.id, 'checkout-1')).toBe(1);
    expect(await count('orders', user.id)).toBe(1);
    // the same key with the total sent explicitly is still the same order
    const third = await placeOrder(user.token, { ...input, totalAmount: 23.2, idempotencyKey: 'checkout-1' });
    expect(third.id).toBe(first.id);
    expect(await count('orders', user.id)).toBe(1);
  });

  it('two concurrent calls with the same key both return one order; one row (5 races)', async () => {
    const user = await newUser();
    for (let round = 0; round < 5; round++) {
      const input = {
        restaurantId: anyRestaurant,
        items: [{ name: `Round ${round}`, quantity: 1 + round, price: 3.5 }],
        idempotencyKey: `race-${round}`,
      };
      const [a, b] = await Promise.all([createOrder(user.token, input), createOrder(user.token, input)]);
      expect(a.body.errors, JSON.stringify(a.body.errors)).toBeUndefined();
      expect(b.body.errors, JSON.stringify(b.body.errors)).toBeUndefined();
      expect(a.body.data!.createOrder.id).toBe(b.body.data!.createOrder.id);
      expect(b.body.data!.createOrder).toEqual(a.body.data!.createOrder);
      expect(await keyCount(user.id, `race-${round}`)).toBe(1);
    }
    expect(await count('orders', user.id)).toBe(5);
  });

  it('three concurrent calls with the same key: one row', async () => {
    const user = await newUser();
    const input = { restaurantId: anyRestaurant, items: [ITEM], idempotencyKey: 'triple' };
    const results = await Promise.all([1, 2, 3].map(() => createOrder(user.token, input)));
    for (const r of results) expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
    expect(new Set(results.map((r) => r.body.data!.createOrder.id)).size).toBe(1);
    expect(await count('orders', user.id)).toBe(1);
  });

  // ITEM is 2 × 9.50 = 19.00; most variants keep that total, so only the compared field differs
  const different: [string, () => Record<string, unknown>][] = [
    ['another item name (same total)', () => ({ items: [{ ...ITEM, name: 'Calzone' }] })],
    ['quantity and price swapped (same total)', () => ({ items: [{ ...ITEM, quantity: 1, price: 19 }] })],
    ['one more free item (same total)', () => ({ items: [ITEM, { name: 'Napkin', quantity: 1, price: 0 }] })],
    [
      'the items split differently (same total)',
      () => ({
        items: [
          { ...ITEM, quantity: 1 },
          { ...ITEM, quantity: 1 },
        ],
      }),
    ],
    ['another quantity', () => ({ items: [{ ...ITEM, quantity: 3 }] })],
    ['another price', () => ({ items: [{ ...ITEM, price: 9.49 }] })],
    ['another restaurant', () => ({ restaurantId: restaurantOf('japanese') })],
    ['simulated: true', () => ({ simulated: true })],
  ];
  it.each(different)('the same key with %s is BAD_USER_INPUT (idempotencyKey), writing nothing', async (_l, change) => {
    const user = await newUser();
    const base = { restaurantId: anyRestaurant, items: [ITEM], idempotencyKey: 'same-key' };
    const first = await placeOrder(user.token, base);
    const r = await createOrder(user.token, { ...base, ...change() });
    expectBadField(r, 'idempotencyKey');
    expect(await count('orders', user.id)).toBe(1);
    const [row] = await t.db.sql<{ id: string; items: Item[] }>(
      `SELECT id::text, items FROM orders WHERE user_id = $1`,
      [user.id],
    );
    expect(row).toEqual({ id: rawId(first.id), items: [ITEM] });
  });

  it('two different orders racing for one key: one is placed, the other is BAD_USER_INPUT (idempotencyKey)', async () => {
    const user = await newUser();
    for (let round = 0; round < 3; round++) {
      const key = `contested-${round}`;
      const base = { restaurantId: anyRestaurant, idempotencyKey: key };
      const results = await Promise.all([
        createOrder(user.token, { ...base, items: [ITEM] }),
        createOrder(user.token, { ...base, items: [{ ...ITEM, quantity: 7 }] }),
      ]);
      const ok = results.filter((r) => !r.body.errors);
      const refused = results.filter((r) => r.body.errors);
      expect(ok, JSON.stringify(results.map((r) => r.body))).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expectBadField(refused[0]!, 'idempotencyKey');
      expect(await keyCount(user.id, key)).toBe(1);
      const [row] = await t.db.sql<{ id: string }>(
        `SELECT id::text FROM orders WHERE user_id = $1 AND idempotency_key = $2`,
        [user.id, key],
      );
      expect(row!.id).toBe(rawId(ok[0]!.body.data!.createOrder.id));
    }
  });

  it('the same key used by another user is independent: each gets their own order', async () => {
    const alice = await newUser();
    const bob = await newUser();
    const input = { restaurantId: anyRestaurant, items: [ITEM], idempotencyKey: 'shared-key' };
    const a = await placeOrder(alice.token, input);
    const b = await placeOrder(bob.token, { ...input, items: [{ ...ITEM, quantity: 5 }] });
    expect(b.id).not.toBe(a.id);
    expect(b.totalAmount).toBe(47.5);
    expect(await keyCount(alice.id, 'shared-key')).toBe(1);
    expect(await keyCount(bob.id, 'shared-key')).toBe(1);
    // and alice's retry still returns hers
    expect((await placeOrder(alice.token, input)).id).toBe(a.id);
  });

  it('concurrent calls of two users with the same key each write their own row', async () => {
    const alice = await newUser();
    const bob = await newUser();
    const input = { restaurantId: anyRestaurant, items: [ITEM], idempotencyKey: 'both-at-once' };
    const [a, b] = await Promise.all([createOrder(alice.token, input), createOrder(bob.token, input)]);
    expect(a.body.errors).toBeUndefined();
    expect(b.body.errors).toBeUndefined();
    expect(a.body.data!.createOrder.id).not.toBe(b.body.data!.createOrder.id);
    expect(await count('orders', alice.id)).toBe(1);
    expect(await count('orders', bob.id)).toBe(1);
  });
});

describe('clearSimulatedOrders', () => {
  it("deletes only the caller's simulated orders and returns how many; a second call returns 0", async () => {
    const user = await newUser();
    const other = await newUser();
    const kept = await placeOrder(user.token, { restaurantId: anyRestaurant, items: [ITEM] });
    await placeOrder(user.token, { restaurantId: anyRestaurant, items: [ITEM], simulated: true });
    await placeOrder(user.token, { restaurantId: anyRestaurant, items: [ITEM], simulated: true });
    await placeOrder(user.token, { restaurantId: anyRestaurant, items: [ITEM], simulated: false });
    await placeOrder(other.token, { restaurantId: anyRestaurant, items: [ITEM], simulated: true });

    const first = await t.gql<{ clearSimulatedOrders: number }>(CLEAR, {}, { token: user.token });
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data?.clearSimulatedOrders).toBe(2);
    const left = await t.db.sql<{ id: string; is_simulation: boolean }>(
      `SELECT o.id::text AS id, o.is_simulation FROM orders o WHERE o.user_id = $1 ORDER BY o.id`,
      [user.id],
    );
    expect(left).toHaveLength(2);
    expect(left[0]).toEqual({ id: rawId(kept.id), is_simulation: false });
    expect(left.every((r) => !r.is_simulation)).toBe(true);
    expect(await count('orders', other.id)).toBe(1);

    const second = await t.gql<{ clearSimulatedOrders: number }>(CLEAR, {}, { token: user.token });
    expect(second.body.data?.clearSimulatedOrders).toBe(0);
    expect(await count('orders', user.id)).toBe(2);
  });

  it('needs a signed-in user', async () => {
    const r = await t.gql(CLEAR);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('rateOrder', () => {
  const ratingOf = async (orderId: string) =>
    (await t.db.sql<{ rating: number | null }>(`SELECT rating FROM orders WHERE id = $1`, [rawId(orderId)]))[0]!.rating;

  it.each([1, 2, 3, 4, 5])('rates own order %i: returned and stored', async (rating) => {
    const user = await newUser();
    const order = await placeOrder(user.token, { restaurantId: anyRestaurant, items: [ITEM], rating: 3 });
    const r = await t.gql<{ rateOrder: { id: string; rating: number } }>(
      RATE,
      { id: order.id, rating },
      { token: user.token },
    );
    expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
    expect(r.body.data?.rateOrder).toEqual({ id: order.id, rating });
    expect(await ratingOf(order.id)).toBe(rating);
  });

  it.each([0, 6, -1])('refuses rating %i: BAD_USER_INPUT (rating), row unchanged', async (rating) => {
    const user = await newUser();
    const order = await placeOrder(user.token, { restaurantId: anyRestaurant, items: [ITEM] });
    await t.gql(RATE, { id: order.id, rating: 4 }, { token: user.token });
    const r = await t.gql(RATE, { id: order.id, rating }, { token: user.token });
    expectBadField(r, 'rating');
    expect(await ratingOf(order.id)).toBe(4);
  });

  it("another user's order is NOT_FOUND and stays unrated", async () => {
    const owner = await newUser();
    const intruder = await newUser();
    const order = await placeOrder(owner.token, { restaurantId: anyRestaurant, items: [ITEM] });
    const r = await t.gql(RATE, { id: order.id, rating: 1 }, { token: intruder.token });
    expect(r.body.errors?.[0]?.extensions?.code, JSON.stringify(r.body)).toBe('NOT_FOUND');
    expect(await ratingOf(order.id)).toBeNull();
  });
});

describe('setTastePreferences and User.tasteProfile', () => {
  type PrefRow = { favorite_cuisines: string[]; price_preference: string | null; updated_at: string };
  const prefsOf = (userId: string) =>
    t.db.sql<PrefRow>(
      `SELECT favorite_cuisines, price_preference, updated_at::text FROM user_preferences WHERE user_id = $1`,
      [userId],
    );
  const setPrefs = (token: string, input: Record<string, unknown>) =>
    t.gql<{ setTastePreferences: Profile }>(SET_PREFS, { input }, { token });

  it('a new user without orders or choices has an empty profile', async () => {
    const user = await newUser();
    expect(await profileOf(user.token)).toEqual({
      favoriteCuisines: [],
      totalOrders: 0,
      averageOrderValue: null,
      pricePreference: null,
      updatedAt: null,
    });
  });

  it('stores canonical cuisine names whatever their letter case; a second call replaces; no priceRange clears it', async () => {
    const user = await newUser();
    const r = await setPrefs(user.token, { cuisines: ['ITALIAN', 'Japanese', ' mexican '], priceRange: 'LOW' });
    expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
    const returned = r.body.data!.setTastePreferences;
    expect(returned).toMatchObject({
      favoriteCuisines: ['italian', 'japanese', 'mexican'],
      totalOrders: 0,
      averageOrderValue: null,
      pricePreference: 'LOW',
    });
    expect(returned.updatedAt).not.toBeNull();
    const [row] = await prefsOf(user.id);
    expect(row).toMatchObject({ favorite_cuisines: ['italian', 'japanese', 'mexican'], price_preference: 'low' });
    // updatedAt is the saved choice's time
    const [same] = await t.db.sql<{ ok: boolean }>(
      `SELECT abs(extract(epoch FROM ($1::timestamptz - updated_at))) < 0.001 AS ok FROM user_preferences WHERE user_id = $2`,
      [returned.updatedAt, user.id],
    );
    expect(same!.ok).toBe(true);
    expect(await profileOf(user.token)).toEqual(returned);

    const again = await setPrefs(user.token, { cuisines: ['Chinese'] });
    expect(again.body.errors, JSON.stringify(again.body.errors)).toBeUndefined();
    expect(again.body.data!.setTastePreferences).toMatchObject({
      favoriteCuisines: ['chinese'],
      pricePreference: null,
    });
    expect(await prefsOf(user.id)).toEqual([
      expect.objectContaining({ favorite_cuisines: ['chinese'], price_preference: null }),
    ]);
    expect(await profileOf(user.token)).toMatchObject({ favoriteCuisines: ['chinese'], pricePreference: null });
    expect(await count('user_preferences', user.id)).toBe(1);
  });

  const badPrefs: [string, string[], string | null][] = [
    ['no cuisines', [], 'cuisines'],
    ['6 cuisines', ['italian', 'japanese', 'brazilian', 'mexican', 'chinese', 'indian'], 'cuisines'],
    ['an unknown cuisine at index 1', ['italian', 'klingon'], 'cuisines[1]'],
    ['an empty cuisine at index 2', ['italian', 'japanese', '  '], 'cuisines[2]'],
    ['a cuisine twice in another letter case', ['Italian', 'japanese', 'ITALIAN'], null],
  ];
  it.each(badPrefs)('refuses %s with BAD_USER_INPUT, writing nothing', async (_label, cuisines, field) => {
    const fresh = await newUser();
    const before = await count('user_preferences');
    const r = await setPrefs(fresh.token, { cuisines, priceRange: 'HIGH' });
    if (field) expectBadField(r, field);
    else expectBadInput(r);
    expect(await count('user_preferences')).toBe(before);

    // earlier choices are left as they were
    const chosen = await newUser();
    expect(
      (await setPrefs(chosen.token, { cuisines: ['brazilian'], priceRange: 'MEDIUM' })).body.errors,
    ).toBeUndefined();
    const saved = await prefsOf(chosen.id);
    const again = await setPrefs(chosen.token, { cuisines, priceRange: 'HIGH' });
    if (field) expectBadField(again, field);
    else expectBadInput(again);
    expect(await prefsOf(chosen.id)).toEqual(saved);
  });

  it('with orders: top 3 cuisines by order count (ties alphabetical), totals, most ordered price range', async () => {
    const user = await newUser();
    // choices first: orders then say otherwise
    expect((await setPrefs(user.token, { cuisines: ['italian'], priceRange: 'HIGH' })).body.errors).toBeUndefined();
    // mexican ×3 (low), chinese ×2 (medium), indian ×1 (high), brazilian ×1 (high): low 3, medium 2, high 2
    expect(byCuisine.get('mexican')!.priceRange).toBe('low');
    expect(byCuisine.get('chinese')!.priceRange).toBe('medium');
    expect(byCuisine.get('indian')!.priceRange).toBe('high');
    expect(byCuisine.get('brazilian')!.priceRange).toBe('high');
    const plan: [string, number][] = [
      ['chinese', 10],
      ['indian', 12.5],
      ['mexican', 7.25],
      ['chinese', 20],
      ['mexican', 3.99],
      ['brazilian', 15.1],
      ['mexican', 8],
    ];
    for (const [cuisine, price] of plan) {
      await placeOrder(user.token, {
        restaurantId: restaurantOf(cuisine),
        items: [{ name: cuisine, quantity: 1, price }],
      });
    }
    const profile = await profileOf(user.token);
    expect(profile.favoriteCuisines).toEqual(['mexican', 'chinese', 'brazilian']);
    expect(profile.totalOrders).toBe(7);
    expect(profile.averageOrderValue).toBe(10.98); // 76.84 / 7 = 10.977…
    expect(profile.pricePreference).toBe('LOW');
    // updatedAt: the newest order (later than the choices)
    const [newest] = await t.db.sql<{ ok: boolean }>(
      `SELECT abs(extract(epoch FROM ($1::timestamptz - max(created_at)))) < 0.001 AS ok FROM orders WHERE user_id = $2`,
      [profile.updatedAt, user.id],
    );
    expect(newest!.ok).toBe(true);
  });

  it('with orders the price preference is the most ordered range even when the top cuisine has another', async () => {
    const user = await newUser();
    // mexican ×3 (low) is the top cuisine; chinese ×2 + japanese ×2 make medium (4) the top range
    const plan = ['mexican', 'chinese', 'mexican', 'japanese', 'chinese', 'mexican', 'japanese'];
    for (const cuisine of plan) {
      await placeOrder(user.token, {
        restaurantId: restaurantOf(cuisine),
        items: [{ name: 'x', quantity: 1, price: 1 }],
      });
    }
    const profile = await profileOf(user.token);
    expect(profile.favoriteCuisines).toEqual(['mexican', 'chinese', 'japanese']);
    expect(profile.pricePreference).toBe('MEDIUM');
    expect(profile.averageOrderValue).toBe(1);
  });

  it('simulated orders count, and the profile falls back to the choices once they are cleared', async () => {
    const user = await newUser();
    expect((await setPrefs(user.token, { cuisines: ['Indian'], priceRange: 'HIGH' })).body.errors).toBeUndefined();
    await placeOrder(user.token, { restaurantId: restaurantOf('mexican'), items: [ITEM], simulated: true });
    expect(await profileOf(user.token)).toMatchObject({
      favoriteCuisines: ['mexican'],
      totalOrders: 1,
      averageOrderValue: 19,
      pricePreference: 'LOW',
    });
    expect((await t.gql(CLEAR, {}, { token: user.token })).body.errors).toBeUndefined();
    expect(await profileOf(user.token)).toMatchObject({
      favoriteCuisines: ['indian'],
      totalOrders: 0,
      averageOrderValue: null,
      pricePreference: 'HIGH',
    });
  });

  it('me { tasteProfile } runs exactly 1 statement (one aggregate; no user row), whatever the order count', async () => {
    const user = await newUser();
    for (let i = 0; i < 4; i++) {
      await placeOrder(user.token, { restaurantId: restaurantOf('japanese'), items: [ITEM] });
    }
    t.wire.reset();
    const profile = await profileOf(user.token);
    expect(profile.totalOrders).toBe(4);
    const sqls = t.wire.statements.map((s) => s.sql);
    expect(sqls, sqls.join('\n---\n')).toHaveLength(1);
    expect(sqls[0]).toContain('tasteProfiles');
    expect(sqls.join('\n')).not.toContain('orderPagesByUserIds');
  });

  it('setTastePreferences needs a signed-in user, writing nothing', async () => {
    const before = await count('user_preferences');
    const r = await t.gql(SET_PREFS, { input: { cuisines: ['italian'] } });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await count('user_preferences')).toBe(before);
  });
});
