/**
 * Error contract: every bad request gets `extensions.code` and a helpful message,
 * never a stack or SQL, and the app keeps answering good queries afterwards.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type GraphQLResponse, type TestApp } from './helpers/app.ts';
import { insertOrders, insertRestaurants, insertUser } from './helpers/fixtures.ts';

/** Copied from test/helpers/app.ts (the secret the test app signs with). */
const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';
const ISSUER = 'tastematch-gateway';
const AUDIENCE = 'tastematch';

let t: TestApp;
let restaurantIds: string[];
let userA: string;
let userB: string;
let tokenA: string;
let orderOfA: string;
let orderOfB: string;

const gid = (type: string, id: string | number) => Buffer.from(`${type}:${id}`).toString('base64');
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

const GOOD = `{ restaurants(first: 2) { edges { node { id name } } } }`;

/** Asserts the error shape, no leaks, then that a good query still works. */
async function expectError(r: GraphQLResponse, code: string, message: RegExp) {
  const text = JSON.stringify(r.body);
  expect(r.body.errors, text).toBeDefined();
  expect(r.body.errors![0]!.extensions?.code, text).toBe(code);
  expect(r.body.errors![0]!.message, text).toMatch(message);
  for (const e of r.body.errors!) expect(e.extensions?.code, text).toBeTruthy();
  expect(text).not.toContain('at /');
  expect(text).not.toMatch(/SELECT/i);
  expect(text).not.toContain('stacktrace');
  const good = await t.gql<{ restaurants: { edges: unknown[] } }>(GOOD);
  expect(good.body.errors).toBeUndefined();
  expect(good.body.data?.restaurants.edges).toHaveLength(2);
}

beforeAll(async () => {
  t = await createTestApp();
  restaurantIds = await insertRestaurants(t.db, 30);
  userA = await insertUser(t.db, 'a@example.com');
  userB = await insertUser(t.db, 'b@example.com');
  await insertOrders(t.db, userA, restaurantIds, 3);
  await insertOrders(t.db, userB, restaurantIds, 3);
  const [a] = await t.db.sql<{ id: string }>(`SELECT id FROM orders WHERE user_id = $1 ORDER BY id LIMIT 1`, [userA]);
  const [b] = await t.db.sql<{ id: string }>(`SELECT id FROM orders WHERE user_id = $1 ORDER BY id LIMIT 1`, [userB]);
  orderOfA = String(a!.id);
  orderOfB = String(b!.id);
  tokenA = await t.tokenFor(userA);
});
afterAll(() => t?.close());

describe('restaurant(id:) and node(id:)', () => {
  const RESTAURANT = `query($id: ID!) { restaurant(id: $id) { id name } }`;
  const NODE = `query($id: ID!) { node(id: $id) { id } }`;

  it('a well-formed id finds the restaurant', async () => {
    const r = await t.gql<{ restaurant: { id: string } }>(RESTAURANT, { id: gid('Restaurant', restaurantIds[0]!) });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.restaurant.id).toBe(gid('Restaurant', restaurantIds[0]!));
  });

  for (const id of ['nope', '', '!!!', gid('Restaurant', 'abc'), gid('Restaurant', '')]) {
    it(`restaurant(id: ${JSON.stringify(id)}) is BAD_USER_INPUT`, async () => {
      await expectError(await t.gql(RESTAURANT, { id }), 'BAD_USER_INPUT', /id/i);
    });
  }

  it('restaurant(id:) as a literal "nope" is BAD_USER_INPUT', async () => {
    await expectError(await t.gql(`{ restaurant(id: "nope") { id } }`), 'BAD_USER_INPUT', /id/i);
  });

  it('a well-formed missing restaurant id is NOT_FOUND', async () => {
    const r = await t.gql(RESTAURANT, { id: gid('Restaurant', 999999) });
    await expectError(r, 'NOT_FOUND', /^Restaurant not found$/);
    expect(r.body.data?.restaurant ?? null).toBeNull();
  });

  it("another type's id (User:1) is BAD_USER_INPUT", async () => {
    await expectError(await t.gql(RESTAURANT, { id: gid('User', 1) }), 'BAD_USER_INPUT', /Restaurant|type|id/i);
  });

  it('node(id:) finds a restaurant', async () => {
    const r = await t.gql<{ node: { id: string } }>(NODE, { id: gid('Restaurant', restaurantIds[1]!) });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.node.id).toBe(gid('Restaurant', restaurantIds[1]!));
  });

  it('node(id:) missing is NOT_FOUND', async () => {
    await expectError(await t.gql(NODE, { id: gid('Restaurant', 999999) }), 'NOT_FOUND', /^Restaurant not found$/);
  });

  for (const id of ['nope', '', gid('Nope', 1), gid('Restaurant', 'x')]) {
    it(`node(id: ${JSON.stringify(id)}) is BAD_USER_INPUT`, async () => {
      await expectError(await t.gql(NODE, { id }), 'BAD_USER_INPUT', /id|type/i);
    });
  }
});

describe('cursors', () => {
  const PAGE = `query($after: String, $o: RestaurantOrder) {
    restaurants(first: 5, after: $after, orderBy: $o) { edges { node { id } } pageInfo { endCursor } } }`;

  async function cursorFor(order: string) {
    const r = await t.gql<{ restaurants: { pageInfo: { endCursor: string } } }>(PAGE, { o: order });
    expect(r.body.errors).toBeUndefined();
    return r.body.data!.restaurants.pageInfo.endCursor;
  }

  it('a real cursor works', async () => {
    const r = await t.gql(PAGE, { o: 'RATING_DESC', after: await cursorFor('RATING_DESC') });
    expect(r.body.errors).toBeUndefined();
  });

  const bad: [string, () => Promise<string> | string][] = [
    ['garbage', () => 'garbage'],
    ['standard base64 of garbage', () => Buffer.from('{{{').toString('base64')],
    ['base64 JSON object', () => b64url({ rating: 4, id: 1 })],
    ['base64 JSON array, wrong kind', () => b64url(['nope', 4, '1'])],
    ['base64 JSON array, right kind, missing id', () => b64url(['restaurants:RATING_DESC', 4])],
    ['base64 JSON array, right kind, string rating', () => b64url(['restaurants:RATING_DESC', '4', '1'])],
    ['base64 JSON array, right kind, rating 99', () => b64url(['restaurants:RATING_DESC', 99, '1'])],
    ['base64 JSON array, right kind, id not a number', () => b64url(['restaurants:RATING_DESC', 4, "1'; --"])],
    ['base64 JSON array, right kind, extra value', () => b64url(['restaurants:RATING_DESC', 4, '1', 'x'])],
    ['base64 JSON null', () => b64url(null)],
    ['an orders cursor', () => b64url(['orders:DATE_DESC', '2026-01-01T00:00:00.000Z', '1'])],
    ['a NAME_ASC cursor with RATING_DESC', () => cursorFor('NAME_ASC')],
    ['an ID_ASC cursor with RATING_DESC', () => cursorFor('ID_ASC')],
    ['a 5000-char cursor', () => 'a'.repeat(5000)],
    ['a 5000-char valid-looking cursor', () => b64url(['restaurants:RATING_DESC', 4, '1'.repeat(3000)])],
  ];
  for (const [name, make] of bad) {
    it(`${name} is BAD_USER_INPUT`, async () => {
      const after = await make();
      await expectError(await t.gql(PAGE, { o: 'RATING_DESC', after }), 'BAD_USER_INPUT', /cursor/i);
    });
  }

  it('a RATING_DESC cursor with NAME_ASC is BAD_USER_INPUT', async () => {
    const after = await cursorFor('RATING_DESC');
    await expectError(await t.gql(PAGE, { o: 'NAME_ASC', after }), 'BAD_USER_INPUT', /cursor/i);
  });

  it('a garbage orders cursor is BAD_USER_INPUT', async () => {
    await expectError(
      await t.gql(`{ me { orders(after: "garbage") { edges { node { id } } } } }`, {}, { token: tokenA }),
      'BAD_USER_INPUT',
      /cursor/i,
    );
  });

  it('a restaurants cursor on orders is BAD_USER_INPUT', async () => {
    const after = await cursorFor('RATING_DESC');
    await expectError(
      await t.gql(
        `query($a: String) { me { orders(after: $a) { edges { node { id } } } } }`,
        { a: after },
        {
          token: tokenA,
        },
      ),
      'BAD_USER_INPUT',
      /cursor/i,
    );
  });
});

describe('first', () => {
  const PAGE = `query($first: Int) { restaurants(first: $first) { edges { node { id } } } }`;
  const ORDERS = `query($first: Int) { me { orders(first: $first) { edges { node { id } } } } }`;

  for (const first of [-1, 101, 1_000_000]) {
    it(`restaurants(first: ${first}) is BAD_USER_INPUT with limit 100`, async () => {
      const r = await t.gql(PAGE, { first });
      await expectError(r, 'BAD_USER_INPUT', /first.*100/);
      expect(r.body.errors![0]!.extensions?.limit).toBe(100);
    });
    it(`me.orders(first: ${first}) is BAD_USER_INPUT with limit 100`, async () => {
      const r = await t.gql(ORDERS, { first }, { token: tokenA });
      await expectError(r, 'BAD_USER_INPUT', /first.*100/);
      expect(r.body.errors![0]!.extensions?.limit).toBe(100);
    });
  }

  it('restaurants(first: -1) as a literal', async () => {
    const r = await t.gql(`{ restaurants(first: -1) { edges { node { id } } } }`);
    await expectError(r, 'BAD_USER_INPUT', /first/);
    expect(r.body.errors![0]!.extensions?.limit).toBe(100);
  });

  it('first: null falls back to the default', async () => {
    const r = await t.gql<{ restaurants: { edges: unknown[] } }>(PAGE, { first: null });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.restaurants.edges).toHaveLength(20);
  });

  it('first: 2.5 (not an Int) is BAD_USER_INPUT', async () => {
    await expectError(await t.gql(PAGE, { first: 2.5 }), 'BAD_USER_INPUT', /Int/);
  });

  it('first: 100 works for restaurants and orders', async () => {
    const r = await t.gql<{ restaurants: { edges: unknown[] } }>(PAGE, { first: 100 });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.restaurants.edges).toHaveLength(30);
    const o = await t.gql<{ me: { orders: { edges: unknown[] } } }>(ORDERS, { first: 100 }, { token: tokenA });
    expect(o.body.errors).toBeUndefined();
    expect(o.body.data?.me.orders.edges).toHaveLength(3);
  });
});

describe('arguments and documents', () => {
  it('an unknown enum literal is BAD_USER_INPUT', async () => {
    await expectError(
      await t.gql(`{ restaurants(orderBy: RATING_SIDEWAYS) { edges { node { id } } } }`),
      'BAD_USER_INPUT',
      /RATING_SIDEWAYS/,
    );
  });

  it('an unknown enum value in a variable is BAD_USER_INPUT', async () => {
    await expectError(
      await t.gql(`query($o: RestaurantOrder) { restaurants(orderBy: $o) { edges { node { id } } } }`, {
        o: 'RATING_SIDEWAYS',
      }),
      'BAD_USER_INPUT',
      /RATING_SIDEWAYS|RestaurantOrder/,
    );
  });

  it('an unknown priceRange is BAD_USER_INPUT', async () => {
    await expectError(
      await t.gql(`query($p: PriceRange) { restaurants(priceRange: $p) { edges { node { id } } } }`, { p: 'low' }),
      'BAD_USER_INPUT',
      /PriceRange|low/,
    );
  });

  for (const minRating of [7, -0.5, 5.01]) {
    it(`minRating: ${minRating} is BAD_USER_INPUT`, async () => {
      await expectError(
        await t.gql(`query($m: Float) { restaurants(minRating: $m) { edges { node { id } } } }`, { m: minRating }),
        'BAD_USER_INPUT',
        /minRating.*0.*5/,
      );
    });
  }

  it('minRating: 7 as a literal is BAD_USER_INPUT', async () => {
    await expectError(
      await t.gql(`{ restaurants(minRating: 7) { edges { node { id } } } }`),
      'BAD_USER_INPUT',
      /minRating/,
    );
  });

  it('a search of 201 characters is BAD_USER_INPUT; 200 is fine', async () => {
    const Q = `query($s: String) { restaurants(search: $s) { edges { node { id } } } }`;
    await expectError(await t.gql(Q, { s: 'a'.repeat(201) }), 'BAD_USER_INPUT', /search.*200/);
    const ok = await t.gql(Q, { s: 'a'.repeat(200) });
    expect(ok.body.errors).toBeUndefined();
  });

  it('a cuisine of 101 characters is BAD_USER_INPUT', async () => {
    await expectError(
      await t.gql(`query($c: String) { restaurants(cuisine: $c) { edges { node { id } } } }`, { c: 'x'.repeat(101) }),
      'BAD_USER_INPUT',
      /cuisine/,
    );
  });

  it('a syntax error is BAD_USER_INPUT', async () => {
    await expectError(await t.gql(`{ restaurants(first: 1 { edges }`), 'BAD_USER_INPUT', /Syntax Error/i);
  });

  it('an unknown field is BAD_USER_INPUT', async () => {
    await expectError(
      await t.gql(`{ restaurants { edges { node { id secretSauce } } } }`),
      'BAD_USER_INPUT',
      /secretSauce/,
    );
  });

  it('a missing required variable is BAD_USER_INPUT', async () => {
    await expectError(await t.gql(`query($id: ID!) { restaurant(id: $id) { id } }`, {}), 'BAD_USER_INPUT', /\$id/);
  });
});

describe('authentication', () => {
  const ME = `{ me { id name } }`;
  const key = new TextEncoder().encode(TEST_JWT_SECRET);

  function signed(opts: {
    secret?: Uint8Array;
    alg?: string;
    sub?: string;
    iss?: string;
    aud?: string;
    exp?: number | string;
  }) {
    let jwt = new SignJWT({})
      .setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: 'JWT' })
      .setSubject(opts.sub ?? userA)
      .setIssuer(opts.iss ?? ISSUER)
      .setAudience(opts.aud ?? AUDIENCE)
      .setIssuedAt();
    jwt = jwt.setExpirationTime(opts.exp ?? '1h');
    return jwt.sign(opts.secret ?? key);
  }

  async function expectUnauthenticated(headers: Record<string, string>) {
    const r = await t.gql(ME, {}, { headers });
    await expectError(r, 'UNAUTHENTICATED', /token|Bearer/i);
    expect(r.status).toBe(401);
    expect(r.body.data ?? null).toBeNull();
    return r;
  }

  it('a token from the helper works, and one signed here with the same secret too', async () => {
    const r = await t.gql<{ me: { id: string } }>(ME, {}, { token: tokenA });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.me.id).toBe(gid('User', userA));
    const mine = await t.gql<{ me: { id: string } }>(ME, {}, { token: await signed({}) });
    expect(mine.body.errors).toBeUndefined();
    expect(mine.body.data?.me.id).toBe(gid('User', userA));
  });

  it('Bearer garbage is UNAUTHENTICATED with status 401', async () => {
    await expectUnauthenticated({ authorization: 'Bearer garbage' });
  });

  it('Basic abc is UNAUTHENTICATED', async () => {
    const r = await expectUnauthenticated({ authorization: 'Basic abc' });
    expect(r.body.errors![0]!.message).toMatch(/Bearer/);
  });

  for (const header of ['Bearer', 'Bearer ', '', 'bearer x.y.z', 'Bearer a b']) {
    it(`Authorization: ${JSON.stringify(header)} is UNAUTHENTICATED`, async () => {
      await expectUnauthenticated({ authorization: header });
    });
  }

  it('a token signed with another secret is UNAUTHENTICATED', async () => {
    const token = await signed({ secret: new TextEncoder().encode('another-secret-another-secret-another-secret!') });
    await expectUnauthenticated({ authorization: `Bearer ${token}` });
  });

  it('an expired token is UNAUTHENTICATED', async () => {
    const token = await signed({ exp: Math.floor(Date.now() / 1000) - 60 });
    await expectUnauthenticated({ authorization: `Bearer ${token}` });
  });

  it('a token with another issuer or audience is UNAUTHENTICATED', async () => {
    await expectUnauthenticated({ authorization: `Bearer ${await signed({ iss: 'someone-else' })}` });
    await expectUnauthenticated({ authorization: `Bearer ${await signed({ aud: 'someone-else' })}` });
  });

  it('an HS512 token with the right secret is UNAUTHENTICATED (algorithm pinned)', async () => {
    await expectUnauthenticated({ authorization: `Bearer ${await signed({ alg: 'HS512' })}` });
  });

  it('a token whose subject is not a numeric id is UNAUTHENTICATED', async () => {
    await expectUnauthenticated({ authorization: `Bearer ${await signed({ sub: 'admin' })}` });
  });

  it('an alg: none token is UNAUTHENTICATED', async () => {
    const now = Math.floor(Date.now() / 1000);
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const payload = { sub: userA, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 3600 };
    const token = `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
    await expectUnauthenticated({ authorization: `Bearer ${token}` });
    await expectUnauthenticated({ authorization: `Bearer ${token.slice(0, -1)}` });
  });

  it('no token: me is null without errors', async () => {
    const r = await t.gql<{ me: null }>(ME);
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data).toEqual({ me: null });
  });
});

describe('cross-user access', () => {
  const NODE = `query($id: ID!) { node(id: $id) { id ... on Order { totalAmount } ... on User { email } } }`;

  async function messageFor(id: string) {
    const r = await t.gql(NODE, { id }, { token: tokenA });
    await expectError(r, 'NOT_FOUND', /not found/);
    expect(JSON.stringify(r.body)).not.toContain('b@example.com');
    return r.body.errors![0]!.message;
  }

  it("B's User id is NOT_FOUND with the same message as a missing user", async () => {
    const foreign = await messageFor(gid('User', userB));
    const missing = await messageFor(gid('User', 999999));
    expect(foreign).toBe(missing);
    expect(foreign).toBe('User not found');
  });

  it("B's Order id is NOT_FOUND with the same message as a missing order", async () => {
    const foreign = await messageFor(gid('Order', orderOfB));
    const missing = await messageFor(gid('Order', 999999));
    expect(foreign).toBe(missing);
    expect(foreign).toBe('Order not found');
  });

  it("B's User and Order without a token are NOT_FOUND too", async () => {
    for (const id of [gid('User', userB), gid('Order', orderOfB)]) {
      const r = await t.gql(NODE, { id });
      await expectError(r, 'NOT_FOUND', /not found/);
    }
  });

  it("A's own order and user are found", async () => {
    const r = await t.gql<{ node: { id: string; totalAmount: number } }>(
      NODE,
      { id: gid('Order', orderOfA) },
      { token: tokenA },
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.node.id).toBe(gid('Order', orderOfA));
    expect(typeof r.body.data?.node.totalAmount).toBe('number');
    const me = await t.gql<{ node: { email: string } }>(NODE, { id: gid('User', userA) }, { token: tokenA });
    expect(me.body.errors).toBeUndefined();
    expect(me.body.data?.node.email).toBe('a@example.com');
  });
});
