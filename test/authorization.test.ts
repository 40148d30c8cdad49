/**
 * Authorization, the IDOR matrix between two users A and B: an Order, a User and a TasteProfile are
 * visible only to their owner through every path (node, aliases, fragments, nested fields, me,
 * mutations, login in the same request, concurrent requests). Another user's id behaves exactly
 * like a missing id: the same NOT_FOUND, the same message, the same response, and none of the
 * foreign object's data. Restaurants are public. Anonymous requests may read only public data; a
 * bad credential is HTTP 401, never anonymous.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type GraphQLResponse, TEST_JWT_SECRET, type TestApp } from './helpers/app.ts';
import { insertRestaurants } from './helpers/fixtures.ts';

/** Copied from test/helpers/app.ts (the secret, issuer and audience the test app uses). */
const ISSUER = 'tastematch-gateway';
const AUDIENCE = 'tastematch';

let t: TestApp;
let restaurantIds: string[];

type Account = { id: string; gid: string; email: string; password: string; token: string };
type Item = { name: string; quantity: number; price: number };
type CreatedOrder = { gid: string; id: string; totalAmount: number; items: Item[] };

let A: Account;
let B: Account;
/** A's regular orders: the first is rated 2 and carries the idempotency key SHARED_KEY. */
let aOrders: CreatedOrder[];
let aSimulated: CreatedOrder[];
let bOrders: CreatedOrder[];

const SHARED_KEY = 'idor-shared-key-1';
/** Strings that only A's data contains: none may appear in a response to B or to nobody. */
const A_MARKERS = ['A-secret', '7431.59', '1111.11', '2222.22', '3333.33', 'idor-a@example.com', 'Alice Secret'];

const gid = (type: string, id: string | number) => Buffer.from(`${type}:${id}`).toString('base64');
/** The database id inside a global id ("Order:42" → "42"). */
const rawId = (globalId: string, type = 'Order') => {
  const [kind, id] = Buffer.from(globalId, 'base64').toString().split(':');
  expect(kind).toBe(type);
  return id!;
};
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

const MISSING_ORDER = gid('Order', 999999999);
const MISSING_USER = gid('User', 999999999);

const NODE_ORDER = `query($id: ID!) { node(id: $id) { id __typename ... on Order { totalAmount } } }`;
const NODE_USER = `query($id: ID!) { node(id: $id) { id __typename ... on User { email name } } }`;
const RATE = `mutation R($id: ID!, $rating: Int!) { rateOrder(id: $id, rating: $rating) { id rating } }`;
const CREATE = `mutation C($input: CreateOrderInput!) { createOrder(input: $input) { id totalAmount items { name quantity price } } }`;
const CLEAR = `mutation { clearSimulatedOrders }`;
const SET_PREFS = `mutation S($input: TastePreferencesInput!) { setTastePreferences(input: $input) { favoriteCuisines } }`;
const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { token user { id } } }`;

async function register(email: string, name: string, password: string): Promise<Account> {
  const r = await t.gql<{ register: { token: string; user: { id: string } } }>(REGISTER, {
    input: { email, name, password },
  });
  expect(r.body.errors, JSON.stringify(r.body)).toBeUndefined();
  const { token, user } = r.body.data!.register;
  return { id: rawId(user.id, 'User'), gid: user.id, email, password, token };
}

async function placeOrder(token: string, input: Record<string, unknown>): Promise<CreatedOrder> {
  const r = await t.gql<{ createOrder: { id: string; totalAmount: number; items: Item[] } }>(
    CREATE,
    { input },
    { token },
  );
  expect(r.body.errors, JSON.stringify(r.body)).toBeUndefined();
  const o = r.body.data!.createOrder;
  return { gid: o.id, id: rawId(o.id), totalAmount: o.totalAmount, items: o.items };
}

async function countOrders(userId: string, where = 'true'): Promise<number> {
  const [row] = await t.db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM orders WHERE user_id = $1 AND ${where}`, [
    userId,
  ]);
  return row!.n;
}

async function countAll(table: 'orders' | 'user_preferences'): Promise<number> {
  const [row] = await t.db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return row!.n;
}

async function ratingOf(orderId: string): Promise<number | null> {
  const [row] = await t.db.sql<{ rating: number | null }>(`SELECT rating FROM orders WHERE id = $1`, [orderId]);
  expect(row, `order ${orderId} still exists`).toBeDefined();
  return row!.rating;
}

async function orderIdsOf(userId: string): Promise<string[]> {
  const rows = await t.db.sql<{ id: string }>(`SELECT id::text AS id FROM orders WHERE user_id = $1 ORDER BY id`, [
    userId,
  ]);
  return rows.map((r) => gid('Order', r.id));
}

/** No trace of A's data (names, amounts, email, A's order and user ids) anywhere in the response. */
function expectNothingOfA(r: GraphQLResponse) {
  const text = JSON.stringify(r.body);
  for (const marker of [...A_MARKERS, A.gid, ...aOrders.map((o) => o.gid), ...aSimulated.map((o) => o.gid)]) {
    expect(text, `response leaks ${marker}`).not.toContain(marker);
  }
}

/** The whole response is one NOT_FOUND error with `message` and no data for the field. */
function expectNotFound(r: GraphQLResponse, message: string, field: string) {
  const text = JSON.stringify(r.body);
  expect(r.body.errors, text).toHaveLength(1);
  const [error] = r.body.errors!;
  expect(error!.extensions?.code, text).toBe('NOT_FOUND');
  expect(error!.message, text).toBe(message);
  expect(error!.path, text).toEqual([field]);
  const data = r.body.data as Record<string, unknown> | null | undefined;
  expect(data?.[field] ?? null, text).toBeNull();
}

/** A field that needs a user, asked without a token: UNAUTHENTICATED, HTTP 200 (no credential was wrong). */
function expectSignInRequired(r: GraphQLResponse) {
  const text = JSON.stringify(r.body);
  expect(r.body.errors, text).toHaveLength(1);
  expect(r.body.errors![0]!.extensions?.code, text).toBe('UNAUTHENTICATED');
  expect(r.status, text).toBe(200);
  expect(r.body.data ?? null, text).toBeNull();
}

/** A bad credential: HTTP 401, UNAUTHENTICATED and no data at all (not even public data). */
function expectRefusedCredential(r: GraphQLResponse) {
  const text = JSON.stringify(r.body);
  expect(r.status, text).toBe(401);
  expect(r.body.errors?.[0]?.extensions?.code, text).toBe('UNAUTHENTICATED');
  expect(r.body.data ?? null, text).toBeNull();
}

beforeAll(async () => {
  t = await createTestApp();
  restaurantIds = await insertRestaurants(t.db, 6);
  A = await register('idor-a@example.com', 'Alice Secret', 'alpha password one');
  B = await register('idor-b@example.com', 'Bob', 'bravo password two');
  const restaurant = (i: number) => gid('Restaurant', restaurantIds[i]!);
  aOrders = [
    await placeOrder(A.token, {
      restaurantId: restaurant(0),
      items: [{ name: 'A-secret Saffron Risotto', quantity: 1, price: 7431.59 }],
      rating: 2,
      idempotencyKey: SHARED_KEY,
    }),
    await placeOrder(A.token, {
      restaurantId: restaurant(1),
      items: [{ name: 'A-secret Truffle Gnocchi', quantity: 2, price: 1111.11 }],
    }),
  ];
  aSimulated = [];
  for (let i = 0; i < 3; i++) {
    aSimulated.push(
      await placeOrder(A.token, {
        restaurantId: restaurant(2),
        items: [{ name: `A-secret simulated ${i}`, quantity: 1, price: 3333.33 }],
        simulated: true,
      }),
    );
  }
  bOrders = [
    await placeOrder(B.token, {
      restaurantId: restaurant(0),
      items: [{ name: 'Plain Pizza', quantity: 1, price: 18.25 }],
      rating: 4,
    }),
    await placeOrder(B.token, {
      restaurantId: restaurant(3),
      items: [{ name: 'Sim one', quantity: 1, price: 5 }],
      simulated: true,
    }),
    await placeOrder(B.token, {
      restaurantId: restaurant(4),
      items: [{ name: 'Sim two', quantity: 1, price: 6 }],
      simulated: true,
    }),
  ];
  expect(aOrders[0]!.totalAmount).toBe(7431.59);
  expect(await countOrders(A.id)).toBe(5);
  expect(await countOrders(B.id)).toBe(3);
});
afterAll(() => t?.close());

describe('controls: each user sees their own data, restaurants are public', () => {
  it("A reads A's order and user through node; B reads B's", async () => {
    const order = await t.gql<{ node: { id: string; __typename: string; totalAmount: number } }>(
      NODE_ORDER,
      { id: aOrders[0]!.gid },
      { token: A.token },
    );
    expect(order.body.errors).toBeUndefined();
    expect(order.body.data?.node).toEqual({ id: aOrders[0]!.gid, __typename: 'Order', totalAmount: 7431.59 });

    const user = await t.gql<{ node: { id: string; email: string } }>(NODE_USER, { id: B.gid }, { token: B.token });
    expect(user.body.errors).toBeUndefined();
    expect(user.body.data?.node).toMatchObject({ id: B.gid, __typename: 'User', email: B.email });
  });

  it("the restaurant of A's order is readable by B and without a token", async () => {
    const query = `query($id: ID!) { node(id: $id) { id ... on Restaurant { name } } restaurant(id: $id) { id } }`;
    const id = gid('Restaurant', restaurantIds[0]!);
    for (const token of [B.token, undefined]) {
      const r = await t.gql<{ node: { id: string; name: string }; restaurant: { id: string } }>(
        query,
        { id },
        { token },
      );
      expect(r.body.errors, JSON.stringify(r.body)).toBeUndefined();
      expect(r.body.data?.node.id).toBe(id);
      expect(r.body.data?.node.name).toMatch(/^R\d{4}$/);
      expect(r.body.data?.restaurant.id).toBe(id);
    }
  });
});

describe("1. node(id: A's order) asked by B", () => {
  it('is NOT_FOUND, with no data, exactly like a never-existing order id', async () => {
    const foreign = await t.gql(NODE_ORDER, { id: aOrders[0]!.gid }, { token: B.token });
    const missing = await t.gql(NODE_ORDER, { id: MISSING_ORDER }, { token: B.token });
    expectNotFound(foreign, 'Order not found', 'node');
    expectNotFound(missing, 'Order not found', 'node');
    expect(foreign.body.errors![0]!.message).toBe(missing.body.errors![0]!.message);
    expect(foreign.body.errors![0]!.extensions?.code).toBe(missing.body.errors![0]!.extensions?.code);
    // indistinguishable: same status, same body
    expect(foreign.status).toBe(missing.status);
    expect(foreign.body).toEqual(missing.body);
    expectNothingOfA(foreign);
  });

  it('only __typename: still NOT_FOUND, the type is not revealed', async () => {
    const query = `query($id: ID!) { node(id: $id) { __typename } }`;
    const foreign = await t.gql(query, { id: aOrders[1]!.gid }, { token: B.token });
    const missing = await t.gql(query, { id: MISSING_ORDER }, { token: B.token });
    expectNotFound(foreign, 'Order not found', 'node');
    expect(foreign.body).toEqual(missing.body);
    expect(JSON.stringify(foreign.body)).not.toContain('__typename');
  });

  it("A's row never leaves PostgreSQL: the owner-filtered statement returns no row", async () => {
    t.wire.reset();
    const r = await t.gql(NODE_ORDER, { id: aOrders[0]!.gid }, { token: B.token });
    expectNotFound(r, 'Order not found', 'node');
    const sql = t.wire.statements.map((s) => s.sql).join('\n');
    expect(sql).toContain('ordersByIdsForOwner');
    expect(t.wire.rows).toBe(0);
  });

  it('through GET /graphql too: the same NOT_FOUND as a missing id', async () => {
    const get = async (id: string) => {
      const url = new URL('http://test/graphql');
      url.searchParams.set('query', NODE_ORDER);
      url.searchParams.set('variables', JSON.stringify({ id }));
      const response = await t.app.fetch(url.toString(), {
        headers: { accept: 'application/graphql-response+json', authorization: `Bearer ${B.token}` },
      });
      const body = (await response.json()) as GraphQLResponse['body'];
      await t.wire.settle();
      return { status: response.status, headers: response.headers, body };
    };
    const foreign = await get(aOrders[0]!.gid);
    const missing = await get(MISSING_ORDER);
    expectNotFound(foreign, 'Order not found', 'node');
    expect(foreign.status).toBe(missing.status);
    expect(foreign.body).toEqual(missing.body);
    expectNothingOfA(foreign);
    const own = await get(bOrders[0]!.gid);
    expect(own.body.errors).toBeUndefined();
    expect((own.body.data as { node: { id: string } }).node.id).toBe(bOrders[0]!.gid);
  });
});

describe("2. aliases mixing B's order and A's order", () => {
  const ALIASES = `query($a: ID!, $b: ID!) {
    a: node(id: $a) { id __typename ... on Order { totalAmount items { name } } }
    b: node(id: $b) { id __typename ... on Order { totalAmount items { name } } }
  }`;

  it("B's own resolves, A's is NOT_FOUND, and nothing of A's order is in the response", async () => {
    const r = await t.gql<{ a: { id: string; totalAmount: number } | null; b: unknown }>(
      ALIASES,
      { a: bOrders[0]!.gid, b: aOrders[0]!.gid },
      { token: B.token },
    );
    const text = JSON.stringify(r.body);
    expect(r.body.data?.a, text).toEqual({
      id: bOrders[0]!.gid,
      __typename: 'Order',
      totalAmount: 18.25,
      items: [{ name: 'Plain Pizza' }],
    });
    expectNotFound(r, 'Order not found', 'b');
    expect(text).not.toContain('7431.59');
    expect(text).not.toContain('A-secret Saffron Risotto');
    expectNothingOfA(r);
  });

  it('the same response as with a missing id in place of A’s, in either alias position', async () => {
    for (const [first, second] of [
      ['mine', 'theirs'],
      ['theirs', 'mine'],
    ] as const) {
      const ids = { mine: bOrders[0]!.gid, theirs: aOrders[1]!.gid, missing: MISSING_ORDER };
      const foreign = await t.gql(ALIASES, { a: ids[first], b: ids[second] }, { token: B.token });
      const asMissing = (k: 'mine' | 'theirs') => (k === 'theirs' ? ids.missing : ids.mine);
      const missing = await t.gql(ALIASES, { a: asMissing(first), b: asMissing(second) }, { token: B.token });
      expect(foreign.body).toEqual(missing.body);
      expect(foreign.body.errors).toHaveLength(1);
      expect(foreign.body.errors![0]!.extensions?.code).toBe('NOT_FOUND');
      expect(foreign.body.errors![0]!.path).toEqual([first === 'theirs' ? 'a' : 'b']);
      expectNothingOfA(foreign);
    }
  });
});

describe("3. node(id: A's user) asked by B", () => {
  it('is NOT_FOUND with the same message and response as a missing user id', async () => {
    const foreign = await t.gql(NODE_USER, { id: A.gid }, { token: B.token });
    const missing = await t.gql(NODE_USER, { id: MISSING_USER }, { token: B.token });
    expectNotFound(foreign, 'User not found', 'node');
    expectNotFound(missing, 'User not found', 'node');
    expect(foreign.status).toBe(missing.status);
    expect(foreign.body).toEqual(missing.body);
    expectNothingOfA(foreign);
  });
});

describe('4. fragments and nested fields', () => {
  it("node(A's order) with restaurant and items through fragments is NOT_FOUND, with no data", async () => {
    const query = `query($id: ID!) {
      node(id: $id) { ...OrderDetail ... on Order { restaurant { name } items { name } } }
    }
    fragment OrderDetail on Order { id totalAmount restaurant { id name cuisineType } items { name price } }`;
    const foreign = await t.gql(query, { id: aOrders[0]!.gid }, { token: B.token });
    const missing = await t.gql(query, { id: MISSING_ORDER }, { token: B.token });
    expectNotFound(foreign, 'Order not found', 'node');
    expect(foreign.body).toEqual(missing.body);
    expectNothingOfA(foreign);
    expect(JSON.stringify(foreign.body)).not.toMatch(/R\d{4}/); // not even the (public) restaurant's name
  });

  it("node(A's user) with orders and tasteProfile is NOT_FOUND, with no data", async () => {
    const query = `query($id: ID!) { node(id: $id) { ... on User {
      id email orders(first: 100) { totalCount edges { node { id totalAmount items { name } } } }
      tasteProfile { favoriteCuisines totalOrders averageOrderValue pricePreference }
    } } }`;
    const foreign = await t.gql(query, { id: A.gid }, { token: B.token });
    const missing = await t.gql(query, { id: MISSING_USER }, { token: B.token });
    expectNotFound(foreign, 'User not found', 'node');
    expect(foreign.body).toEqual(missing.body);
    expectNothingOfA(foreign);
  });
});

describe("5. rateOrder(A's order) by B", () => {
  it("is NOT_FOUND and leaves A's rating unchanged", async () => {
    const order = aOrders[0]!;
    expect(await ratingOf(order.id)).toBe(2);
    const r = await t.gql(RATE, { id: order.gid, rating: 5 }, { token: B.token });
    expectNotFound(r, 'Order not found', 'rateOrder');
    expectNothingOfA(r);
    expect(await ratingOf(order.id)).toBe(2);
    const unrated = aOrders[1]!;
    expectNotFound(
      await t.gql(RATE, { id: unrated.gid, rating: 1 }, { token: B.token }),
      'Order not found',
      'rateOrder',
    );
    expect(await ratingOf(unrated.id)).toBeNull();
  });
});

describe('6. rateOrder with a missing order id', () => {
  it("is the same NOT_FOUND (message and response) as for A's order", async () => {
    const foreign = await t.gql(RATE, { id: aOrders[0]!.gid, rating: 5 }, { token: B.token });
    const missing = await t.gql(RATE, { id: MISSING_ORDER, rating: 5 }, { token: B.token });
    expectNotFound(missing, 'Order not found', 'rateOrder');
    expect(foreign.body.errors?.[0]?.message).toBe(missing.body.errors![0]!.message);
    expect(foreign.status).toBe(missing.status);
    expect(foreign.body).toEqual(missing.body);
    expect(await ratingOf(aOrders[0]!.id)).toBe(2);
  });

  it("B can rate B's own order (control)", async () => {
    const r = await t.gql<{ rateOrder: { id: string; rating: number } }>(
      RATE,
      { id: bOrders[0]!.gid, rating: 5 },
      { token: B.token },
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.rateOrder).toEqual({ id: bOrders[0]!.gid, rating: 5 });
    expect(await ratingOf(bOrders[0]!.id)).toBe(5);
  });
});

describe("7. B's me.orders", () => {
  it("contains exactly B's orders and none of A's", async () => {
    const r = await t.gql<{ me: { id: string; orders: { totalCount: number; edges: { node: { id: string } }[] } } }>(
      `{ me { id orders(first: 100) { totalCount edges { node { id } } } } }`,
      {},
      { token: B.token },
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.me.id).toBe(B.gid);
    const ids = r.body.data!.me.orders.edges.map((e) => e.node.id);
    const expected = await orderIdsOf(B.id);
    expect(expected.length).toBeGreaterThanOrEqual(3);
    expect([...ids].sort()).toEqual([...expected].sort());
    expect(r.body.data?.me.orders.totalCount).toBe(expected.length);
    for (const mine of await orderIdsOf(A.id)) expect(ids).not.toContain(mine);
    expectNothingOfA(r);
  });

  it("B's tasteProfile aggregates only B's orders", async () => {
    const r = await t.gql<{ me: { tasteProfile: { totalOrders: number; averageOrderValue: number } } }>(
      `{ me { tasteProfile { totalOrders averageOrderValue } } }`,
      {},
      { token: B.token },
    );
    expect(r.body.errors).toBeUndefined();
    const [row] = await t.db.sql<{ n: number; avg: number }>(
      `SELECT count(*)::int AS n, round(avg(total_amount), 2)::float8 AS avg FROM orders WHERE user_id = $1`,
      [B.id],
    );
    expect(r.body.data?.me.tasteProfile).toEqual({ totalOrders: row!.n, averageOrderValue: row!.avg });
    expect(r.body.data!.me.tasteProfile.averageOrderValue).toBeLessThan(100); // A's orders are in the thousands
  });
});

describe('8. clearSimulatedOrders by B', () => {
  it("returns B's count only and leaves A's simulated orders in the database", async () => {
    const aSimBefore = await countOrders(A.id, 'is_simulation');
    const aAllBefore = await countOrders(A.id);
    const bSimBefore = await countOrders(B.id, 'is_simulation');
    const bRegularBefore = await countOrders(B.id, 'NOT is_simulation');
    expect(aSimBefore).toBe(3);
    expect(bSimBefore).toBeGreaterThan(0);
    expect(bSimBefore).not.toBe(aSimBefore);

    const r = await t.gql<{ clearSimulatedOrders: number }>(CLEAR, {}, { token: B.token });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.clearSimulatedOrders).toBe(bSimBefore);

    expect(await countOrders(A.id, 'is_simulation')).toBe(aSimBefore);
    expect(await countOrders(A.id)).toBe(aAllBefore);
    expect(await countOrders(B.id, 'is_simulation')).toBe(0);
    expect(await countOrders(B.id, 'NOT is_simulation')).toBe(bRegularBefore);

    const again = await t.gql<{ clearSimulatedOrders: number }>(CLEAR, {}, { token: B.token });
    expect(again.body.data?.clearSimulatedOrders).toBe(0);
    expect(await countOrders(A.id, 'is_simulation')).toBe(aSimBefore);
  });
});

describe('9. anonymous (no Authorization header)', () => {
  it('me is null without an error', async () => {
    const r = await t.gql<{ me: unknown }>(`{ me { id email orders { edges { node { id } } } } }`);
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data).toEqual({ me: null });
  });

  it("node(A's order) and node(A's user) are NOT_FOUND, exactly like missing ids", async () => {
    for (const [query, foreignId, missingId, message] of [
      [NODE_ORDER, aOrders[0]!.gid, MISSING_ORDER, 'Order not found'],
      [NODE_USER, A.gid, MISSING_USER, 'User not found'],
    ] as const) {
      const foreign = await t.gql(query, { id: foreignId });
      const missing = await t.gql(query, { id: missingId });
      expectNotFound(foreign, message, 'node');
      expect(foreign.body).toEqual(missing.body);
      expectNothingOfA(foreign);
    }
  });

  it('createOrder is UNAUTHENTICATED and writes nothing', async () => {
    const before = await countAll('orders');
    const r = await t.gql(CREATE, {
      input: { restaurantId: gid('Restaurant', restaurantIds[0]!), items: [{ name: 'Ghost', quantity: 1, price: 1 }] },
    });
    expectSignInRequired(r);
    expect(await countAll('orders')).toBe(before);
  });

  it('createOrder with a broken input is BAD_USER_INPUT even anonymously (input rules run first) and writes nothing', async () => {
    const before = await countAll('orders');
    const r = await t.gql(CREATE, { input: { restaurantId: gid('Restaurant', restaurantIds[0]!), items: [] } });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.body.errors?.[0]?.extensions?.field).toBe('items');
    expect(await countAll('orders')).toBe(before);
  });

  it("rateOrder(A's order) is UNAUTHENTICATED and leaves the rating unchanged", async () => {
    const r = await t.gql(RATE, { id: aOrders[0]!.gid, rating: 5 });
    expectSignInRequired(r);
    expectNothingOfA(r);
    expect(await ratingOf(aOrders[0]!.id)).toBe(2);
  });

  it("clearSimulatedOrders is UNAUTHENTICATED and deletes nothing (A's simulated orders stay)", async () => {
    const before = await countAll('orders');
    const aSim = await countOrders(A.id, 'is_simulation');
    expect(aSim).toBe(3);
    expectSignInRequired(await t.gql(CLEAR));
    expect(await countAll('orders')).toBe(before);
    expect(await countOrders(A.id, 'is_simulation')).toBe(aSim);
  });

  it('setTastePreferences is UNAUTHENTICATED and writes nothing', async () => {
    const before = await countAll('user_preferences');
    expectSignInRequired(await t.gql(SET_PREFS, { input: { cuisines: ['italian'], priceRange: 'LOW' } }));
    expect(await countAll('user_preferences')).toBe(before);
  });
});

describe('10. a bad credential is HTTP 401, never anonymous', () => {
  const key = new TextEncoder().encode(TEST_JWT_SECRET);

  /** A token for A built here with jose; each option breaks one thing. */
  function tokenForA(
    opts: { secret?: string; alg?: string; iss?: string; aud?: string; iat?: number; exp?: number | null } = {},
  ) {
    let jwt = new SignJWT({})
      .setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: 'JWT' })
      .setSubject(A.id)
      .setIssuer(opts.iss ?? ISSUER)
      .setAudience(opts.aud ?? AUDIENCE)
      .setIssuedAt(opts.iat ?? now());
    if (opts.exp !== null) jwt = jwt.setExpirationTime(opts.exp ?? now() + 3600);
    return jwt.sign(opts.secret === undefined ? key : new TextEncoder().encode(opts.secret));
  }

  /** Asks for A's order, A's user and public data, so an accepted (or anonymous) request would show up. */
  const PROBE = `query($order: ID!) {
    me { id email }
    node(id: $order) { id ... on Order { totalAmount items { name } } }
    restaurants(first: 1) { edges { node { id } } }
  }`;

  async function expectRefused(authorization: string) {
    const read = await t.gql(PROBE, { order: aOrders[0]!.gid }, { headers: { authorization } });
    expectRefusedCredential(read);
    expectNothingOfA(read);

    const ordersBefore = await countAll('orders');
    const write = await t.gql(
      CREATE,
      {
        input: {
          restaurantId: gid('Restaurant', restaurantIds[0]!),
          items: [{ name: 'Forged', quantity: 1, price: 1 }],
        },
      },
      { headers: { authorization } },
    );
    expectRefusedCredential(write);
    expect(await countAll('orders')).toBe(ordersBefore);

    const rate = await t.gql(RATE, { id: aOrders[0]!.gid, rating: 5 }, { headers: { authorization } });
    expectRefusedCredential(rate);
    expect(await ratingOf(aOrders[0]!.id)).toBe(2);
  }

  it("control: a token built the same way with the right secret, issuer and audience reads A's order", async () => {
    const r = await t.gql<{ me: { id: string }; node: { id: string; totalAmount: number } }>(
      PROBE,
      { order: aOrders[0]!.gid },
      { token: await tokenForA() },
    );
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.me.id).toBe(A.gid);
    expect(r.body.data?.node.totalAmount).toBe(7431.59);
  });

  it('Authorization: Bearer abc', async () => {
    await expectRefused('Bearer abc');
  });

  it('Authorization: Basic xyz', async () => {
    await expectRefused('Basic xyz');
  });

  it('Authorization: Basic with valid-looking credentials of A', async () => {
    await expectRefused(`Basic ${Buffer.from(`${A.email}:${A.password}`).toString('base64')}`);
  });

  it('an expired token (60 s past exp, beyond the 5 s tolerance)', async () => {
    await expectRefused(`Bearer ${await tokenForA({ iat: now() - 3600, exp: now() - 60 })}`);
  });

  it('a token signed with another secret', async () => {
    await expectRefused(`Bearer ${await tokenForA({ secret: 'another-secret-another-secret-another-secret-99' })}`);
  });

  it('an alg: none token', async () => {
    const payload = { sub: A.id, iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 3600 };
    await expectRefused(`Bearer ${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`);
  });

  it('a token with the wrong issuer', async () => {
    await expectRefused(`Bearer ${await tokenForA({ iss: 'someone-else' })}`);
  });

  it('a token with the wrong audience', async () => {
    await expectRefused(`Bearer ${await tokenForA({ aud: 'someone-else' })}`);
  });

  it('a token without exp', async () => {
    await expectRefused(`Bearer ${await tokenForA({ exp: null })}`);
  });

  it('an HS512 token with the right secret (algorithm pinned)', async () => {
    await expectRefused(`Bearer ${await tokenForA({ alg: 'HS512' })}`);
  });

  it("B's valid token with its payload rewritten to A's subject", async () => {
    const [header, payload, signature] = B.token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims.sub).toBe(B.id);
    const forged = `${header}.${b64url({ ...claims, sub: A.id })}.${signature}`;
    await expectRefused(`Bearer ${forged}`);
  });
});

describe('11. an order created by B', () => {
  it('is NOT_FOUND for A through node, exactly like a missing id; B sees it', async () => {
    const order = await placeOrder(B.token, {
      restaurantId: gid('Restaurant', restaurantIds[5]!),
      items: [{ name: 'B-only Ramen', quantity: 1, price: 12.5 }],
    });
    const mine = await t.gql<{ node: { id: string; totalAmount: number } }>(
      NODE_ORDER,
      { id: order.gid },
      { token: B.token },
    );
    expect(mine.body.errors).toBeUndefined();
    expect(mine.body.data?.node).toEqual({ id: order.gid, __typename: 'Order', totalAmount: 12.5 });

    const foreign = await t.gql(NODE_ORDER, { id: order.gid }, { token: A.token });
    const missing = await t.gql(NODE_ORDER, { id: MISSING_ORDER }, { token: A.token });
    expectNotFound(foreign, 'Order not found', 'node');
    expect(foreign.body).toEqual(missing.body);
    expect(JSON.stringify(foreign.body)).not.toContain('12.5');
    expect(JSON.stringify(foreign.body)).not.toContain(order.gid);
  });

  it("the idempotency key A used gives B a new order of B's own, not A's order nor an error", async () => {
    const r = await t.gql<{ createOrder: { id: string; totalAmount: number } }>(
      CREATE,
      {
        input: {
          restaurantId: gid('Restaurant', restaurantIds[0]!),
          items: [{ name: 'B keyed soup', quantity: 1, price: 9 }],
          idempotencyKey: SHARED_KEY,
        },
      },
      { token: B.token },
    );
    expect(r.body.errors, JSON.stringify(r.body)).toBeUndefined();
    expect(r.body.data?.createOrder.id).not.toBe(aOrders[0]!.gid);
    expect(r.body.data?.createOrder.totalAmount).toBe(9);
    expectNothingOfA(r);
    const [row] = await t.db.sql<{ user_id: string }>(`SELECT user_id::text AS user_id FROM orders WHERE id = $1`, [
      rawId(r.body.data!.createOrder.id),
    ]);
    expect(row?.user_id).toBe(B.id);
    expect(await countOrders(A.id, `idempotency_key = '${SHARED_KEY}'`)).toBe(1);
  });
});

describe("12. login as A in a request carrying B's token", () => {
  const LOGIN = `mutation($input: LoginInput!) {
    login(input: $input) { token user { id email orders(first: 100) { edges { node { id } } } } }
  }`;

  it("shows A's data in the login payload, but B's token still cannot read A's order afterwards", async () => {
    const r = await t.gql<{
      login: { token: string; user: { id: string; email: string; orders: { edges: { node: { id: string } }[] } } };
    }>(LOGIN, { input: { email: A.email, password: A.password } }, { token: B.token });
    expect(r.body.errors, JSON.stringify(r.body)).toBeUndefined();
    const { user, token } = r.body.data!.login;
    expect(user.id).toBe(A.gid);
    expect(user.email).toBe(A.email);
    expect(user.orders.edges.map((e) => e.node.id).sort()).toEqual((await orderIdsOf(A.id)).sort());

    const after = await t.gql(NODE_ORDER, { id: aOrders[0]!.gid }, { token: B.token });
    expectNotFound(after, 'Order not found', 'node');
    expectNothingOfA(after);
    const afterUser = await t.gql(NODE_USER, { id: A.gid }, { token: B.token });
    expectNotFound(afterUser, 'User not found', 'node');
    expectNothingOfA(afterUser);
    const me = await t.gql<{ me: { id: string } }>(`{ me { id } }`, {}, { token: B.token });
    expect(me.body.data?.me.id).toBe(B.gid);

    // the token login returned is A's
    const asA = await t.gql<{ node: { totalAmount: number } }>(NODE_ORDER, { id: aOrders[0]!.gid }, { token });
    expect(asA.body.errors).toBeUndefined();
    expect(asA.body.data?.node.totalAmount).toBe(7431.59);
  });

  it("a login as A earlier in the same mutation does not let B's token rate A's order", async () => {
    const r = await t.gql<{ login: { user: { id: string } }; rateOrder: unknown }>(
      `mutation($input: LoginInput!, $id: ID!) {
        login(input: $input) { user { id } }
        rateOrder(id: $id, rating: 5) { id rating }
      }`,
      { input: { email: A.email, password: A.password }, id: aOrders[0]!.gid },
      { token: B.token },
    );
    const text = JSON.stringify(r.body);
    expect(r.body.errors, text).toHaveLength(1);
    expect(r.body.errors![0]!.extensions?.code, text).toBe('NOT_FOUND');
    expect(r.body.errors![0]!.message, text).toBe('Order not found');
    expect(r.body.errors![0]!.path, text).toEqual(['rateOrder']);
    expect(text).not.toContain('"rating":5');
    expect(await ratingOf(aOrders[0]!.id)).toBe(2);
  });

  it('a failed login as A in a request with B’s token shows nothing of A', async () => {
    const r = await t.gql(LOGIN, { input: { email: A.email, password: 'not the password' } }, { token: B.token });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(r.body.data ?? null).toBeNull();
    expectNothingOfA(r);
  });
});

describe('13. loader caches are per request', () => {
  it("concurrent requests by A and B for A's order: A gets the order, B gets NOT_FOUND", async () => {
    const missing = await t.gql(NODE_ORDER, { id: MISSING_ORDER }, { token: B.token });
    const rounds = 8;
    const requests = Array.from({ length: rounds }, () => [
      t.gql<{ node: { id: string; totalAmount: number } }>(NODE_ORDER, { id: aOrders[0]!.gid }, { token: A.token }),
      t.gql<{ node: { id: string; totalAmount: number } }>(NODE_ORDER, { id: aOrders[0]!.gid }, { token: B.token }),
    ]).flat();
    const results = await Promise.all(requests);
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      if (i % 2 === 0) {
        expect(r.body.errors, JSON.stringify(r.body)).toBeUndefined();
        expect(r.body.data?.node).toEqual({ id: aOrders[0]!.gid, __typename: 'Order', totalAmount: 7431.59 });
      } else {
        expectNotFound(r, 'Order not found', 'node');
        expect(r.body).toEqual(missing.body);
        expectNothingOfA(r);
      }
    }
  });

  it('B first, then A, in one concurrent batch with both ids: each sees only their own', async () => {
    const query = `query($a: ID!, $b: ID!) {
      x: node(id: $a) { id ... on Order { totalAmount } }
      y: node(id: $b) { id ... on Order { totalAmount } }
    }`;
    const vars = { a: aOrders[0]!.gid, b: bOrders[0]!.gid };
    const [asB, asA] = await Promise.all([
      t.gql<{ x: unknown; y: { id: string } | null }>(query, vars, { token: B.token }),
      t.gql<{ x: { id: string } | null; y: unknown }>(query, vars, { token: A.token }),
    ]);
    expect(asB.body.data?.x ?? null).toBeNull();
    expect(asB.body.data?.y?.id).toBe(bOrders[0]!.gid);
    expect(asB.body.errors?.map((e) => e.path)).toEqual([['x']]);
    expectNothingOfA(asB);
    expect(asA.body.data?.x?.id).toBe(aOrders[0]!.gid);
    expect(asA.body.data?.y ?? null).toBeNull();
    expect(asA.body.errors?.map((e) => e.path)).toEqual([['y']]);
    expect(JSON.stringify(asA.body)).not.toContain('18.25');
  });
});
