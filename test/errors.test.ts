/**
 * Errors: bad input, bad credentials and foreign ids get a clear error with an `extensions.code`
 * of docs/contract.md ("Error codes"), never a stack trace or SQL, and the process keeps
 * answering: after every refused request a good query still works.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type GraphQLResponse, TEST_JWT_SECRET, type TestApp } from './helpers/app.ts';
import { expectErrorShape, expectNoLeaks } from './helpers/errors.ts';
import { insertOrders, insertRestaurants, insertUser } from './helpers/fixtures.ts';

/** The secret test/helpers/app.ts signs with (not exported there). */
const ISSUER = 'tastematch-gateway';
const AUDIENCE = 'tastematch';

const GOOD = `{ restaurants(first: 1) { edges { node { id } } } }`;

let t: TestApp;
let restaurantIds: string[];
let userA: string;
let userB: string;
let tokenA: string;
let ordersOfA: string[];
let ordersOfB: string[];

const gid = (type: string, id: string | number) => Buffer.from(`${type}:${id}`).toString('base64');
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

type ErrorBody = GraphQLResponse['body'];

async function expectGoodQueryWorks() {
  const good = await t.gql<{ restaurants: { edges: { node: { id: string } }[] } }>(GOOD);
  expect(good.status).toBe(200);
  expect(good.body.errors, JSON.stringify(good.body.errors)).toBeUndefined();
  expect(good.body.data?.restaurants.edges).toHaveLength(1);
}

/** The error shape (test/helpers/errors.ts), then a good query still works. Returns the first error. */
async function expectBad(r: GraphQLResponse, code: string, message: RegExp) {
  const first = expectErrorShape(r.body, code, message);
  await expectGoodQueryWorks();
  return first;
}

beforeAll(async () => {
  t = await createTestApp();
  restaurantIds = await insertRestaurants(t.db, 25);
  userA = await insertUser(t.db, 'alice@example.com');
  userB = await insertUser(t.db, 'bob@example.com');
  await insertOrders(t.db, userA, restaurantIds, 4);
  await insertOrders(t.db, userB, restaurantIds, 4);
  const orderIds = async (user: string) =>
    (await t.db.sql<{ id: string }>(`SELECT id FROM orders WHERE user_id = $1 ORDER BY id`, [user])).map((r) =>
      String(r.id),
    );
  ordersOfA = await orderIds(userA);
  ordersOfB = await orderIds(userB);
  tokenA = await t.tokenFor(userA);
});
afterAll(() => t?.close());

describe('restaurant(id:)', () => {
  const Q = `query R($id: ID!) { restaurant(id: $id) { id name } }`;

  it('a real id is found (control)', async () => {
    const id = gid('Restaurant', restaurantIds[0]!);
    const r = await t.gql<{ restaurant: { id: string; name: string } }>(Q, { id });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.restaurant.id).toBe(id);
  });

  const malformed: [string, string][] = [
    ['"nope"', 'nope'],
    ['the empty string', ''],
    ['base64 garbage', Buffer.from([0xff, 0xfe, 0x00, 0x13, 0x37, 0x99]).toString('base64')],
    ['base64 of text without a colon', Buffer.from('Restaurant1').toString('base64')],
    ['a non-numeric key', gid('Restaurant', 'abc')],
    ['an empty key', gid('Restaurant', '')],
    ['a negative key', gid('Restaurant', -1)],
    ['a key with SQL in it', gid('Restaurant', '1 OR 1=1; --')],
    ['an unknown type', gid('Pizza', 1)],
    ['not base64 at all', '%%%%'],
    ['punctuation only', '!!!'],
  ];
  for (const [name, id] of malformed) {
    it(`${name} is BAD_USER_INPUT`, async () => {
      const r = await t.gql(Q, { id });
      const e = await expectBad(r, 'BAD_USER_INPUT', /id/i);
      expect(e.message).not.toMatch(/unexpected/i);
    });
  }

  it('a malformed id as a literal in the document is BAD_USER_INPUT too', async () => {
    await expectBad(await t.gql(`{ restaurant(id: "nope") { id } }`), 'BAD_USER_INPUT', /id/i);
  });

  it('a well-formed Restaurant id that does not exist is NOT_FOUND', async () => {
    const r = await t.gql(Q, { id: gid('Restaurant', 999999) });
    await expectBad(r, 'NOT_FOUND', /^Restaurant not found$/);
    expect(r.body.data?.restaurant ?? null).toBeNull();
  });

  it('the largest bigint id that does not exist is NOT_FOUND', async () => {
    await expectBad(await t.gql(Q, { id: gid('Restaurant', '9223372036854775807') }), 'NOT_FOUND', /not found/);
  });

  it('a 19-digit id beyond the bigint range is not an internal error (BAD_USER_INPUT or NOT_FOUND)', async () => {
    const r = await t.gql(Q, { id: gid('Restaurant', '9999999999999999999') });
    const text = JSON.stringify(r.body);
    expect(['BAD_USER_INPUT', 'NOT_FOUND'], text).toContain(r.body.errors?.[0]?.extensions?.code);
    expectNoLeaks(r.body);
    await expectGoodQueryWorks();
  });

  it("another type's id (User:1) is BAD_USER_INPUT naming the expected type", async () => {
    await expectBad(await t.gql(Q, { id: gid('User', 1) }), 'BAD_USER_INPUT', /Restaurant/);
  });

  it('an Order id is BAD_USER_INPUT for restaurant(id:) as well', async () => {
    await expectBad(await t.gql(Q, { id: gid('Order', ordersOfA[0]!) }), 'BAD_USER_INPUT', /Restaurant/);
  });
});

describe('node(id:)', () => {
  const Q = `query N($id: ID!) { node(id: $id) { id ... on Restaurant { name } } }`;

  it('a real Restaurant id is found (control)', async () => {
    const id = gid('Restaurant', restaurantIds[2]!);
    const r = await t.gql<{ node: { id: string; name: string } }>(Q, { id });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.node.id).toBe(id);
  });

  for (const type of ['Restaurant', 'Order', 'User']) {
    it(`a missing ${type} id is NOT_FOUND ("${type} not found")`, async () => {
      const r = await t.gql(Q, { id: gid(type, 999999) }, { token: tokenA });
      await expectBad(r, 'NOT_FOUND', new RegExp(`^${type} not found$`));
    });
  }

  for (const [name, id] of [
    ['"nope"', 'nope'],
    ['the empty string', ''],
    ['base64 garbage', Buffer.from([0xde, 0xad, 0xbe, 0xef]).toString('base64')],
    ['an unknown type', gid('Pizza', 1)],
    ['a non-numeric Order key', gid('Order', 'x')],
    ['a non-numeric Restaurant key', gid('Restaurant', 'x')],
  ] as const) {
    it(`a malformed id (${name}) is BAD_USER_INPUT`, async () => {
      await expectBad(await t.gql(Q, { id }), 'BAD_USER_INPUT', /id/i);
    });
  }
});

describe('cursors', () => {
  const Q = `query P($after: String, $orderBy: RestaurantOrder) {
    restaurants(first: 3, after: $after, orderBy: $orderBy) { edges { node { id } } pageInfo { endCursor } } }`;

  async function realCursor(orderBy: string): Promise<string> {
    const r = await t.gql<{ restaurants: { pageInfo: { endCursor: string } } }>(Q, { orderBy });
    expect(r.body.errors).toBeUndefined();
    return r.body.data!.restaurants.pageInfo.endCursor;
  }

  it('a real cursor continues (control)', async () => {
    const after = await realCursor('RATING_DESC');
    const r = await t.gql(Q, { orderBy: 'RATING_DESC', after });
    expect(r.body.errors).toBeUndefined();
  });

  const cases: [string, string, () => string | Promise<string>][] = [
    ['"garbage"', 'RATING_DESC', () => 'garbage'],
    ['base64 of a JSON object', 'RATING_DESC', () => b64url({ rating: 4, id: '1' })],
    ['base64 of JSON null', 'RATING_DESC', () => b64url(null)],
    ['base64 of a JSON array with only the kind', 'RATING_DESC', () => b64url(['restaurants:RATING_DESC'])],
    ['base64 of a JSON array with wrong value types', 'RATING_DESC', () => b64url(['restaurants:RATING_DESC', 'x', 1])],
    [
      'base64 of a JSON array with a rating out of range',
      'RATING_DESC',
      () => b64url(['restaurants:RATING_DESC', 6, '1']),
    ],
    [
      'base64 of a JSON array with a nested object',
      'RATING_DESC',
      () => b64url(['restaurants:RATING_DESC', { a: 1 }, '1']),
    ],
    ['base64 of a JSON array of an unknown kind', 'RATING_DESC', () => b64url(['restaurants:SIDEWAYS', 4, '1'])],
    ['base64 of a JSON array of a kind from nowhere', 'RATING_DESC', () => b64url(['nope', 4, '1'])],
    ['base64 of a JSON array without its id', 'RATING_DESC', () => b64url(['restaurants:RATING_DESC', 4])],
    ['base64 of a JSON array with a string rating', 'RATING_DESC', () => b64url(['restaurants:RATING_DESC', '4', '1'])],
    ['base64 of a JSON array with SQL as id', 'RATING_DESC', () => b64url(['restaurants:RATING_DESC', 4, "1'; --"])],
    [
      'base64 of a JSON array with an extra value',
      'RATING_DESC',
      () => b64url(['restaurants:RATING_DESC', 4, '1', 'x']),
    ],
    ['an orders cursor', 'RATING_DESC', () => b64url(['orders:DATE_DESC', '2026-01-01T00:00:00.000Z', '1'])],
    ['standard base64 with padding and +/', 'RATING_DESC', () => Buffer.from('[[[>>>??').toString('base64')],
    ['a NAME_ASC cursor used with RATING_DESC', 'RATING_DESC', () => realCursor('NAME_ASC')],
    ['a RATING_DESC cursor used with RATING_ASC', 'RATING_ASC', () => realCursor('RATING_DESC')],
    ['an ID_ASC cursor used with NAME_DESC', 'NAME_DESC', () => realCursor('ID_ASC')],
    ['an over-long cursor (5000 chars)', 'RATING_DESC', () => 'A'.repeat(5000)],
    [
      'an over-long cursor that is valid base64url JSON',
      'RATING_DESC',
      () => b64url(['restaurants:RATING_DESC', 4, '1', 'x'.repeat(4000)]),
    ],
  ];
  for (const [name, orderBy, make] of cases) {
    it(`${name} is BAD_USER_INPUT`, async () => {
      const after = await make();
      const e = await expectBad(await t.gql(Q, { orderBy, after }), 'BAD_USER_INPUT', /cursor/i);
      expect(e.extensions?.argument).toBe('after');
    });
  }

  it('an over-long cursor as a literal in the document is BAD_USER_INPUT', async () => {
    await expectBad(
      await t.gql(`{ restaurants(first: 2, after: "${'z'.repeat(5000)}") { edges { node { id } } } }`),
      'BAD_USER_INPUT',
      /cursor/i,
    );
  });

  // Forged cursors that pass the shape checks but hold values PostgreSQL refuses: still the
  // user's input, so BAD_USER_INPUT, not an internal error.
  const forged: [string, string, unknown[]][] = [
    ['ID_ASC with an id beyond bigint', 'ID_ASC', ['restaurants:ID_ASC', '9999999999999999999']],
    ['RATING_DESC with an id beyond bigint', 'RATING_DESC', ['restaurants:RATING_DESC', 4, '9999999999999999999']],
    ['NAME_ASC with a NUL character in the name', 'NAME_ASC', ['restaurants:NAME_ASC', 'a\u0000b', '1']],
  ];
  for (const [name, orderBy, json] of forged) {
    it(`a forged cursor: ${name} is BAD_USER_INPUT`, async () => {
      await expectBad(await t.gql(Q, { orderBy, after: b64url(json) }), 'BAD_USER_INPUT', /cursor/i);
    });
  }

  describe('orders cursors', () => {
    const O = `query O($after: String) { me { orders(first: 2, after: $after) { edges { node { id } } } } }`;
    const bad: [string, string][] = [
      ['garbage', 'garbage'],
      ['a restaurants cursor', b64url(['restaurants:RATING_DESC', 4, '1'])],
      ['a date that is not a date', b64url(['orders:DATE_DESC', 'yesterday', '1'])],
      ['a date PostgreSQL refuses (year 0000)', b64url(['orders:DATE_DESC', '0000-01-01T00:00:00Z', '1'])],
      ['an offset PostgreSQL refuses (+99:00)', b64url(['orders:DATE_DESC', '2026-01-01T00:00:00+99:00', '1'])],
      ['an id beyond bigint', b64url(['orders:DATE_DESC', '2026-01-01T00:00:00.000Z', '9999999999999999999'])],
    ];
    for (const [name, after] of bad) {
      it(`${name} is BAD_USER_INPUT`, async () => {
        await expectBad(await t.gql(O, { after }, { token: tokenA }), 'BAD_USER_INPUT', /cursor/i);
      });
    }
  });
});

describe('first', () => {
  const R = `query R($first: Int) { restaurants(first: $first) { edges { node { id } } } }`;
  const O = `query O($first: Int) { me { orders(first: $first) { edges { node { id } } } } }`;

  for (const first of [-1, 101, 1_000_000]) {
    it(`restaurants(first: ${first}) is BAD_USER_INPUT with extensions.limit 100`, async () => {
      const e = await expectBad(await t.gql(R, { first }), 'BAD_USER_INPUT', /"first" must be between 0 and 100/);
      expect(e.extensions?.limit).toBe(100);
      expect(e.extensions?.argument).toBe('first');
    });
    it(`me { orders(first: ${first}) } is BAD_USER_INPUT with extensions.limit 100`, async () => {
      const e = await expectBad(
        await t.gql(O, { first }, { token: tokenA }),
        'BAD_USER_INPUT',
        /"first" must be between 0 and 100/,
      );
      expect(e.extensions?.limit).toBe(100);
    });
  }

  it('restaurants(first: -1) written as a literal is BAD_USER_INPUT', async () => {
    const e = await expectBad(
      await t.gql(`{ restaurants(first: -1) { edges { node { id } } } }`),
      'BAD_USER_INPUT',
      /first/,
    );
    expect(e.extensions?.limit).toBe(100);
  });

  it('me { orders(first: -1) } written as a literal is BAD_USER_INPUT', async () => {
    const e = await expectBad(
      await t.gql(`{ me { orders(first: -1) { edges { node { id } } } } }`, {}, { token: tokenA }),
      'BAD_USER_INPUT',
      /first/,
    );
    expect(e.extensions?.limit).toBe(100);
  });

  it('first: null falls back to the default (20)', async () => {
    const r = await t.gql<{ restaurants: { edges: unknown[] } }>(R, { first: null });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.restaurants.edges).toHaveLength(20);
  });

  it('first: 2.5 and first: 2^31 (not an Int) are BAD_USER_INPUT', async () => {
    await expectBad(await t.gql(R, { first: 2.5 }), 'BAD_USER_INPUT', /Int/);
    await expectBad(await t.gql(R, { first: 2 ** 31 }), 'BAD_USER_INPUT', /Int/);
    await expectBad(await t.gql(R, { first: '10' }), 'BAD_USER_INPUT', /Int/);
  });

  it('first: 100 works for restaurants and for orders', async () => {
    const r = await t.gql<{ restaurants: { edges: unknown[] } }>(R, { first: 100 });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.restaurants.edges).toHaveLength(25);
    const o = await t.gql<{ me: { orders: { edges: unknown[] } } }>(O, { first: 100 }, { token: tokenA });
    expect(o.body.errors).toBeUndefined();
    expect(o.body.data?.me.orders.edges).toHaveLength(4);
  });
});

describe('arguments and documents', () => {
  it('an unknown enum value as a literal is BAD_USER_INPUT', async () => {
    await expectBad(
      await t.gql(`{ restaurants(orderBy: RATING_SIDEWAYS) { edges { node { id } } } }`),
      'BAD_USER_INPUT',
      /RATING_SIDEWAYS/,
    );
  });

  it('an unknown enum value in a variable is BAD_USER_INPUT', async () => {
    await expectBad(
      await t.gql(`query($o: RestaurantOrder) { restaurants(orderBy: $o) { edges { node { id } } } }`, {
        o: 'RATING_SIDEWAYS',
      }),
      'BAD_USER_INPUT',
      /RATING_SIDEWAYS/,
    );
  });

  it('an enum value as a string literal is BAD_USER_INPUT', async () => {
    await expectBad(
      await t.gql(`{ restaurants(orderBy: "NAME_ASC") { edges { node { id } } } }`),
      'BAD_USER_INPUT',
      /RestaurantOrder|NAME_ASC/,
    );
  });

  it('an unknown priceRange is BAD_USER_INPUT', async () => {
    await expectBad(
      await t.gql(`query($p: PriceRange) { restaurants(priceRange: $p) { edges { node { id } } } }`, { p: 'low' }),
      'BAD_USER_INPUT',
      /PriceRange|low/,
    );
  });

  for (const minRating of [7, -0.5, 5.01]) {
    it(`minRating: ${minRating} is BAD_USER_INPUT`, async () => {
      const e = await expectBad(
        await t.gql(`query($m: Float) { restaurants(minRating: $m) { edges { node { id } } } }`, { m: minRating }),
        'BAD_USER_INPUT',
        /minRating/,
      );
      expect(e.message).toMatch(/0 and 5/);
    });
  }

  it('minRating: 7 as a literal is BAD_USER_INPUT', async () => {
    await expectBad(
      await t.gql(`{ restaurants(minRating: 7) { edges { node { id } } } }`),
      'BAD_USER_INPUT',
      /minRating/,
    );
  });

  it('minRating: 5 and 0 are fine', async () => {
    for (const m of [0, 5]) {
      const r = await t.gql(`query($m: Float) { restaurants(minRating: $m) { edges { node { id } } } }`, { m });
      expect(r.body.errors).toBeUndefined();
    }
  });

  it('a search of 201 characters is BAD_USER_INPUT; 200 works', async () => {
    const Q = `query($s: String) { restaurants(search: $s) { edges { node { id } } } }`;
    await expectBad(await t.gql(Q, { s: 'x'.repeat(201) }), 'BAD_USER_INPUT', /search.*200/);
    await expectBad(await t.gql(Q, { s: 'x'.repeat(10_000) }), 'BAD_USER_INPUT', /search/);
    const ok = await t.gql(Q, { s: 'x'.repeat(200) });
    expect(ok.body.errors).toBeUndefined();
  });

  it('a cuisine of 101 characters is BAD_USER_INPUT', async () => {
    await expectBad(
      await t.gql(`query($c: String) { restaurants(cuisine: $c) { edges { node { id } } } }`, { c: 'x'.repeat(101) }),
      'BAD_USER_INPUT',
      /cuisine/,
    );
  });

  it('a search containing a NUL character is not an internal error', async () => {
    // PostgreSQL text cannot hold NUL: the app must answer (no match, or BAD_USER_INPUT), not fail.
    const r = await t.gql<{ restaurants: { edges: unknown[] } }>(
      `query($s: String) { restaurants(search: $s) { edges { node { id } } } }`,
      { s: 'pizza\u0000' },
    );
    const text = JSON.stringify(r.body);
    if (r.body.errors) expect(r.body.errors[0]!.extensions?.code, text).toBe('BAD_USER_INPUT');
    else expect(r.body.data?.restaurants.edges).toEqual([]);
    expectNoLeaks(r.body);
    await expectGoodQueryWorks();
  });

  it('a cuisine containing a NUL character is not an internal error', async () => {
    const r = await t.gql<{ restaurants: { edges: unknown[] } }>(
      `query($c: String) { restaurants(cuisine: $c) { edges { node { id } } } }`,
      { c: 'thai\u0000' },
    );
    const text = JSON.stringify(r.body);
    if (r.body.errors) expect(r.body.errors[0]!.extensions?.code, text).toBe('BAD_USER_INPUT');
    else expect(r.body.data?.restaurants.edges).toEqual([]);
    expectNoLeaks(r.body);
    await expectGoodQueryWorks();
  });

  it('a syntax error in the document is BAD_USER_INPUT', async () => {
    await expectBad(await t.gql(`{ restaurants(first: 1) { edges { node { id } }`), 'BAD_USER_INPUT', /Syntax Error/);
    await expectBad(await t.gql(`query { restaurants(first: ) }`), 'BAD_USER_INPUT', /Syntax Error/);
  });

  it('an unknown field is BAD_USER_INPUT', async () => {
    await expectBad(
      await t.gql(`{ restaurants(first: 1) { edges { node { id secretSauce } } } }`),
      'BAD_USER_INPUT',
      /secretSauce/,
    );
  });

  it('an unknown argument is BAD_USER_INPUT', async () => {
    await expectBad(
      await t.gql(`{ restaurants(first: 1, sortBy: "x") { edges { node { id } } } }`),
      'BAD_USER_INPUT',
      /sortBy/,
    );
  });

  it('a missing required variable is BAD_USER_INPUT', async () => {
    await expectBad(await t.gql(`query($id: ID!) { restaurant(id: $id) { id } }`, {}), 'BAD_USER_INPUT', /\$id/);
  });

  it('a request body that is not JSON is refused with a code, and the app keeps answering', async () => {
    const response = await t.app.fetch('http://test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: '{"query": "{ restaurants { edges',
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    const body = (await response.json()) as ErrorBody;
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expectNoLeaks(body);
    await expectGoodQueryWorks();
  });
});

describe('authentication', () => {
  const ME = `{ me { id name } }`;
  const OTHER_SECRET = 'another-secret-another-secret-another-secret-42';

  /** A token for userA signed with the app's secret, unless a claim or the header says otherwise. */
  function sign(
    opts: {
      secret?: string;
      alg?: string;
      sub?: string | null;
      iss?: string;
      aud?: string;
      exp?: number | string;
      iat?: number;
    } = {},
  ) {
    let jwt = new SignJWT({})
      .setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: 'JWT' })
      .setIssuer(opts.iss ?? ISSUER)
      .setAudience(opts.aud ?? AUDIENCE)
      .setIssuedAt(opts.iat);
    if (opts.sub !== null) jwt = jwt.setSubject(opts.sub ?? userA);
    jwt = jwt.setExpirationTime(opts.exp ?? '1h');
    return jwt.sign(new TextEncoder().encode(opts.secret ?? TEST_JWT_SECRET));
  }

  async function expectUnauthenticated(r: GraphQLResponse) {
    expect(r.status, JSON.stringify(r.body)).toBe(401);
    expect(r.body.data ?? null).toBeNull();
    return expectBad(r, 'UNAUTHENTICATED', /token|Bearer/i);
  }

  it('a token from the app works, and one signed here with the app secret too (control)', async () => {
    for (const token of [tokenA, await sign()]) {
      const r = await t.gql<{ me: { id: string } }>(ME, {}, { token });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data?.me.id).toBe(gid('User', userA));
    }
  });

  it('Authorization: Bearer garbage is UNAUTHENTICATED with HTTP 401', async () => {
    await expectUnauthenticated(await t.gql(ME, {}, { headers: { authorization: 'Bearer garbage' } }));
  });

  it('Authorization: Basic abc is UNAUTHENTICATED with HTTP 401, naming the Bearer scheme', async () => {
    const e = await expectUnauthenticated(await t.gql(ME, {}, { headers: { authorization: 'Basic abc' } }));
    expect(e.message).toMatch(/Bearer/);
  });

  for (const header of ['', 'Bearer', 'Bearer ', 'bearer x.y.z', 'Bearer a b', `Bearer ${'a'.repeat(20_000)}`]) {
    it(`Authorization: ${JSON.stringify(header.slice(0, 20))}${header.length > 20 ? '…' : ''} is UNAUTHENTICATED`, async () => {
      await expectUnauthenticated(await t.gql(ME, {}, { headers: { authorization: header } }));
    });
  }

  it('a token signed with another secret is UNAUTHENTICATED', async () => {
    await expectUnauthenticated(await t.gql(ME, {}, { token: await sign({ secret: OTHER_SECRET }) }));
  });

  it('an expired token is UNAUTHENTICATED', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectUnauthenticated(await t.gql(ME, {}, { token: await sign({ iat: now - 7200, exp: now - 3600 }) }));
  });

  it('a token with another issuer or audience is UNAUTHENTICATED', async () => {
    await expectUnauthenticated(await t.gql(ME, {}, { token: await sign({ iss: 'someone-else' }) }));
    await expectUnauthenticated(await t.gql(ME, {}, { token: await sign({ aud: 'someone-else' }) }));
  });

  it('an HS512 token with the right secret is UNAUTHENTICATED (algorithm pinned)', async () => {
    await expectUnauthenticated(await t.gql(ME, {}, { token: await sign({ alg: 'HS512' }) }));
  });

  it('a token whose subject is not a numeric id, or that has none, is UNAUTHENTICATED', async () => {
    await expectUnauthenticated(await t.gql(ME, {}, { token: await sign({ sub: 'admin' }) }));
    await expectUnauthenticated(await t.gql(ME, {}, { token: await sign({ sub: null }) }));
  });

  it('an alg: none token is UNAUTHENTICATED, with or without its trailing dot', async () => {
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const payload = { sub: userA, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 3600 };
    const token = `${enc({ alg: 'none', typ: 'JWT' })}.${enc(payload)}.`;
    await expectUnauthenticated(await t.gql(ME, {}, { token }));
    await expectUnauthenticated(await t.gql(ME, {}, { token: token.slice(0, -1) }));
  });

  it('an UNAUTHENTICATED response does not say why the token failed in a way that leaks the secret', async () => {
    const r = await t.gql(ME, {}, { token: await sign({ secret: OTHER_SECRET }) });
    expect(JSON.stringify(r.body)).not.toContain(TEST_JWT_SECRET);
    await expectGoodQueryWorks();
  });

  it('no token: me is null and there is no error', async () => {
    const r = await t.gql<{ me: unknown }>(ME);
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data).toEqual({ me: null });
  });

  it('a bad token on a query that does not touch me is still UNAUTHENTICATED (never anonymous)', async () => {
    await expectUnauthenticated(await t.gql(GOOD, {}, { headers: { authorization: 'Bearer garbage' } }));
  });
});

describe('cross-user access', () => {
  const NODE = `query N($id: ID!) { node(id: $id) { id ... on User { email name } ... on Order { totalAmount } } }`;

  async function nodeError(id: string, token?: string) {
    const r = await t.gql(NODE, { id }, token ? { token } : {});
    expect(JSON.stringify(r.body)).not.toContain('bob@example.com');
    return r;
  }

  it("user B's User id with A's token is NOT_FOUND, with the same message as a missing user", async () => {
    const missing = await nodeError(gid('User', 999999), tokenA);
    const other = await nodeError(gid('User', userB), tokenA);
    const e = await expectBad(other, 'NOT_FOUND', /^User not found$/);
    await expectBad(missing, 'NOT_FOUND', /^User not found$/);
    expect(e.message).toBe(missing.body.errors![0]!.message);
    expect(e.extensions).toEqual(missing.body.errors![0]!.extensions);
    expect(other.body.data?.node ?? null).toBeNull();
  });

  it("one of B's Order ids with A's token is NOT_FOUND, with the same message as a missing order", async () => {
    const missing = await nodeError(gid('Order', 999999), tokenA);
    for (const orderId of ordersOfB) {
      const other = await nodeError(gid('Order', orderId), tokenA);
      const e = await expectBad(other, 'NOT_FOUND', /^Order not found$/);
      expect(e.message).toBe(missing.body.errors![0]!.message);
      expect(e.extensions).toEqual(missing.body.errors![0]!.extensions);
      expect(JSON.stringify(other.body)).not.toContain('totalAmount');
    }
    await expectBad(missing, 'NOT_FOUND', /^Order not found$/);
  });

  it("B's User and Order ids without a token are NOT_FOUND too", async () => {
    await expectBad(await nodeError(gid('User', userB)), 'NOT_FOUND', /^User not found$/);
    await expectBad(await nodeError(gid('Order', ordersOfB[0]!)), 'NOT_FOUND', /^Order not found$/);
  });

  it("A's own orders and A's own User are found", async () => {
    for (const orderId of ordersOfA) {
      const r = await t.gql<{ node: { id: string; totalAmount: number } }>(
        NODE,
        { id: gid('Order', orderId) },
        { token: tokenA },
      );
      expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
      expect(r.body.data?.node.id).toBe(gid('Order', orderId));
      expect(typeof r.body.data?.node.totalAmount).toBe('number');
    }
    const me = await t.gql<{ node: { id: string; email: string } }>(
      NODE,
      { id: gid('User', userA) },
      { token: tokenA },
    );
    expect(me.body.errors).toBeUndefined();
    expect(me.body.data?.node.email).toBe('alice@example.com');
  });

  it("B's order inside a query that also asks for A's order: only B's part fails", async () => {
    const r = await t.gql<{ mine: { id: string } | null; theirs: unknown }>(
      `query($mine: ID!, $theirs: ID!) { mine: node(id: $mine) { id } theirs: node(id: $theirs) { id } }`,
      { mine: gid('Order', ordersOfA[0]!), theirs: gid('Order', ordersOfB[0]!) },
      { token: tokenA },
    );
    expect(r.body.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(r.body.errors?.[0]?.path).toEqual(['theirs']);
    expect(r.body.data?.mine?.id).toBe(gid('Order', ordersOfA[0]!));
    expect(r.body.data?.theirs ?? null).toBeNull();
    expectNoLeaks(r.body);
  });
});
