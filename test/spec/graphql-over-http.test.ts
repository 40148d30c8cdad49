/**
 * The GraphQL-over-HTTP specification against real gateway processes: graphql-http's official
 * audit suite (development: every audit passes; production: only those that need introspection
 * may fail), status codes and bodies per media type (variable coercion on graphql-js and on
 * graphql-jit, bad request parameters, document limits, a database outage with and without
 * partial data), and `first: 0` as an empty page on every `first`.
 */
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signTestToken, TEST_JWT_SECRET } from '../helpers/app.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { insertOrders, insertRestaurants, insertUser } from '../helpers/fixtures.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';
import { startToggleProxy, type ToggleProxy } from '../helpers/toggle-proxy.ts';

const JSON_TYPE = 'application/json';
const GQL_TYPE = 'application/graphql-response+json';

/**
 * Audits production may fail, with why: each sends a document that selects `__type`, which
 * production refuses (useDisableIntrospection: the document does not validate, so the answer
 * is a validation error instead of the audit's expected data).
 */
const PRODUCTION_MAY_FAIL: Record<string, string> = {
  '2EA1':
    'map {variables}, graphql-response+json: its document is `query Type($name: String!) { __type(name: $name) { name } }`',
  '28B9': 'map {variables}, application/json: the same `__type` document (a MUST, met in development)',
  D6D5: 'URL-encoded {variables} in a GET, graphql-response+json: the same `__type` document',
  '6A70': 'URL-encoded {variables} in a GET, application/json: the same `__type` document',
};

let db: TestDatabase;
let proxy: ToggleProxy;
let dev: GatewayProcess;
let prod: GatewayProcess;
let token: string;
let restaurantIds: string[];

type Answer = {
  status: number;
  contentType: string | null;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };
};

async function post(
  base: string,
  body: unknown,
  accept: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const r = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, ...headers },
    body: JSON.stringify(body),
  });
  return { status: r.status, contentType: r.headers.get('content-type'), body: (await r.json()) as Answer['body'] };
}

async function compilations(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^tastematch_graphql_compilations_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

beforeAll(async () => {
  db = await freshDatabase();
  restaurantIds = await insertRestaurants(db, 30);
  const userId = await insertUser(db, 'spec@example.com');
  await insertOrders(db, userId, restaurantIds, 3);
  token = await signTestToken(userId);
  proxy = await startToggleProxy(db.url);
  const common = { JWT_SECRET: TEST_JWT_SECRET, DB_POOL_TIMEOUT_MS: '1000', LOG_LEVEL: 'error' };
  [dev, prod] = await Promise.all([
    startGateway({ ...common, DATABASE_URL: proxy.url, NODE_ENV: 'development' }),
    startGateway(
      { ...common, DATABASE_URL: db.url, NODE_ENV: 'production' },
      { nodeArgs: ['--max-old-space-size=448'] },
    ),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([dev?.stop(), prod?.stop()]);
  await proxy?.close();
  await db?.drop();
}, 30_000);

async function audit(base: string) {
  const results = [];
  for (const a of serverAudits({ url: `${base}/graphql` })) results.push(await a.fn());
  return results;
}

describe("graphql-http's serverAudits", () => {
  it('development: every audit passes', async () => {
    const results = await audit(dev.base);
    expect(results.length).toBeGreaterThan(40);
    const notOk = results
      .filter((r) => r.status !== 'ok')
      .map((r) => `${r.id} ${r.name}: ${r.status} ${'reason' in r ? r.reason : ''}`);
    expect(notOk).toEqual([]);
  }, 60_000);

  it('production: only the audits that need introspection fail', async () => {
    const results = await audit(prod.base);
    expect(results.length).toBeGreaterThan(40);
    const notOk = results.filter((r) => r.status !== 'ok');
    for (const r of notOk)
      expect(PRODUCTION_MAY_FAIL, `${r.id} ${r.name}: ${'reason' in r ? r.reason : ''}`).toHaveProperty(r.id);
    // The list is exact: an audit that starts passing comes off it.
    expect(notOk.map((r) => r.id).sort()).toEqual(Object.keys(PRODUCTION_MAY_FAIL).sort());
  }, 60_000);
});

describe('variable coercion', () => {
  const cases = [
    ['a wrong type', { f: 'x' }],
    ['a missing required variable', {}],
  ] as const;
  for (const [what, variables] of cases) {
    it(`${what}: 400 without data under ${GQL_TYPE}, 200 under ${JSON_TYPE}, on graphql-js and graphql-jit`, async () => {
      // A document of its own per case: its first run is graphql-js's, its later runs graphql-jit's.
      const query = `query Coerce${Object.keys(variables).length}($f: Int!) { restaurants(first: $f) { totalCount } }`;
      const before = await compilations(dev.base);
      const answers: Answer[] = [];
      for (let run = 0; run < 3; run++) {
        answers.push(await post(dev.base, { query, variables }, GQL_TYPE));
        answers.push(await post(dev.base, { query, variables }, JSON_TYPE));
      }
      // Compiled on its second run: the later answers came from graphql-jit.
      expect(await compilations(dev.base)).toBe(before + 1);
      for (const [i, a] of answers.entries()) {
        expect(a.status, `answer ${i}`).toBe(i % 2 === 0 ? 400 : 200);
        expect(a.body).not.toHaveProperty('data');
        expect(a.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        expect(a.body.errors?.[0]?.message).toMatch(/Variable "\$f"/);
      }
    });
  }
});

describe('request parameters', () => {
  for (const query of [1, { a: 1 }, ['{ __typename }'], true]) {
    it(`{"query": ${JSON.stringify(query)}} is 400 BAD_USER_INPUT under both media types`, async () => {
      for (const accept of [JSON_TYPE, GQL_TYPE]) {
        const a = await post(dev.base, { query }, accept);
        expect(a.status).toBe(400);
        expect(a.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        expect(a.body.errors?.[0]?.message).toMatch(/"query" parameter must be a string/);
      }
    });
  }
});

describe('document limits: 400 under both media types, as the README says', () => {
  const tokens = `{ ${Array.from({ length: 1100 }, (_, i) => `a${i}: __typename`).join(' ')} }`;
  const deep =
    '{ restaurants { edges { node { similar { similar { similar { similar { similar { name } } } } } } } } }';
  for (const [what, query, code] of [
    ['tokens', tokens, 'QUERY_TOO_LARGE'],
    ['depth', deep, 'DEPTH_LIMIT_EXCEEDED'],
  ] as const) {
    it(`${what}: ${code}`, async () => {
      for (const accept of [JSON_TYPE, GQL_TYPE]) {
        const a = await post(prod.base, { query }, accept);
        expect([accept, a.status]).toEqual([accept, 400]);
        expect(a.body.errors?.[0]?.extensions?.code).toBe(code);
        expect(a.body).not.toHaveProperty('data');
      }
    });
  }
});

describe('first: 0 is an empty page; negative is BAD_USER_INPUT', () => {
  const lists = () => [
    ['restaurants', `{ restaurants(first: $n) { totalCount edges { node { id } } pageInfo { hasNextPage } } }`],
    ['me.orders', `{ me { orders(first: $n) { totalCount edges { node { id } } pageInfo { hasNextPage } } } }`],
    ['similar', `{ restaurant(id: "${globalId(restaurantIds[0]!)}") { similar(first: $n) { id } } }`],
    ['searchRestaurants', `{ searchRestaurants(text: "pasta", first: $n) { score } }`],
    ['recommendations', `{ recommendations(first: $n) { score } }`],
  ];
  const globalId = (id: string) => Buffer.from(`Restaurant:${id}`).toString('base64');

  it('every list and connection with `first` answers first: 0 with no items', async () => {
    for (const [name, template] of lists()) {
      const a = await post(dev.base, { query: template!.replace('$n', '0') }, GQL_TYPE, {
        authorization: `Bearer ${token}`,
      });
      expect([name, a.status, a.body.errors]).toEqual([name, 200, undefined]);
      const text = JSON.stringify(a.body.data);
      // No item: empty edges or an empty list.
      expect(text, name).toMatch(/"edges":\[\]|"similar":\[\]|"searchRestaurants":\[\]|"recommendations":\[\]/);
    }
    // Relay: an empty page still says whether there is more, and the count.
    const page = await post(
      dev.base,
      { query: '{ restaurants(first: 0) { totalCount pageInfo { hasNextPage } } }' },
      GQL_TYPE,
    );
    expect(page.body.data).toEqual({ restaurants: { totalCount: 30, pageInfo: { hasNextPage: true } } });
  });

  it('first: -1 is BAD_USER_INPUT on each', async () => {
    for (const [name, template] of lists()) {
      const a = await post(dev.base, { query: template!.replace('$n', '-1') }, JSON_TYPE, {
        authorization: `Bearer ${token}`,
      });
      expect([name, a.body.errors?.[0]?.extensions?.code]).toEqual([name, 'BAD_USER_INPUT']);
      expect(a.body.errors?.[0]?.message, name).toMatch(/"first" must be between 0 and \d+ \(got -1\)/);
    }
  });
});

// Last: the database goes away.
describe('DATABASE_UNAVAILABLE', () => {
  it('on one field with the others answered: 200 with data under both media types; 503 when no data could be produced', async () => {
    await proxy.down();
    try {
      const partial = `{ __typename restaurant(id: "${Buffer.from(`Restaurant:${restaurantIds[5]}`).toString('base64')}") { name } }`;
      for (const accept of [JSON_TYPE, GQL_TYPE]) {
        const a = await post(dev.base, { query: partial }, accept);
        expect([accept, a.status]).toEqual([accept, 200]);
        expect(a.body.data).toEqual({ __typename: 'Query', restaurant: null });
        expect(a.body.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE');
        const none = await post(dev.base, { query: '{ restaurants(first: 1) { totalCount } }' }, accept);
        expect([accept, none.status]).toEqual([accept, 503]);
        expect(none.body.data).toBeNull();
        expect(none.body.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE');
      }
    } finally {
      await proxy.up();
    }
  }, 30_000);
});
