/**
 * /metrics (Prometheus text) and the request log: what they expose after real requests,
 * that label values stay bounded, and that no secret reaches a log line.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_OPERATION_NAMES, startMetricsServer } from '../src/http/metrics-plugin.ts';
import { createLogger } from '../src/observability/logger.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { insertOrders, insertRestaurants, insertUser } from './helpers/fixtures.ts';

const lines: string[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    lines.push(String(chunk));
    done();
  },
});
const logged = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

let t: TestApp;
let userId: string;
let restaurants: string[];
beforeAll(async () => {
  t = await createTestApp({ log: createLogger('info', sink) });
  restaurants = await insertRestaurants(t.db, 5);
  userId = await insertUser(t.db, 'metrics@example.com');
  await insertOrders(t.db, userId, restaurants, 6);
});
afterAll(() => t?.close());

async function post(query: string, headers: Record<string, string> = {}, variables?: unknown) {
  const r = await t.app.fetch('http://test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  await r.text();
  await t.wire.settle();
  return r;
}
const metrics = async () => (await t.app.fetch('http://test/metrics')).text();
/** The value of one sample line, e.g. `tastematch_db_pool_connections{state="max"}`. */
const sample = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('GET /metrics', () => {
  it('exposes HTTP, GraphQL, SQL, DataLoader, cache, pool and process metrics', async () => {
    const token = await t.tokenFor(userId);
    await post('query Feed { restaurants(first: 3) { edges { node { name } } } }');
    await post('query MyOrders { me { orders(first: 5) { edges { node { restaurant { name } } } } } }', {
      authorization: `Bearer ${token}`,
    });
    const gid = (id: string) => Buffer.from(`Restaurant:${id}`).toString('base64');
    await post(
      `query Pair { a: restaurant(id: "${gid(restaurants[0]!)}") { name } b: restaurant(id: "${gid(restaurants[1]!)}") { name } }`,
    );
    await post('query Recs { recommendations(first: 3) { restaurant { name } } }', {
      authorization: `Bearer ${token}`,
    });
    await post('query Recs { recommendations(first: 3) { restaurant { name } } }', {
      authorization: `Bearer ${token}`,
    });

    const response = await t.app.fetch('http://test/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await response.text();
    // HTTP and execution durations by operation name.
    expect(text).toMatch(/graphql_yoga_http_duration_bucket\{.*operationName="Feed".*statusCode="200"/);
    expect(text).toMatch(/graphql_envelop_phase_execute_count\{operationName="MyOrders"/);
    // Statements per request: 4 GraphQL requests observed so far (at least).
    expect(sample(text, 'tastematch_sql_statements_per_request_count')).toBeGreaterThanOrEqual(4);
    expect(sample(text, 'tastematch_sql_rows_read_total')).toBeGreaterThan(0);
    expect(sample(text, 'tastematch_sql_bytes_read_total')).toBeGreaterThan(0);
    // Pair loads its two restaurants in one batch (MyOrders joins its own into the page's statement).
    expect(text).toMatch(/tastematch_dataloader_batch_size_count\{loader="restaurants"\} [1-9]/);
    expect(text).toMatch(/tastematch_dataloader_batch_size_bucket\{le="5",loader="restaurants"\} [1-9]/);
    // The second Recs was served from the cache.
    expect(sample(text, 'tastematch_cache_events_total{cache="main",event="hit"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'tastematch_cache_events_total{cache="main",event="miss"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'tastematch_cache_bytes{cache="main"}')).toBeGreaterThan(0);
    expect(sample(text, 'tastematch_db_pool_connections{state="max"}')).toBe(4);
    expect(text).toMatch(/^tastematch_graphql_requests\{state="waiting"\} 0$/m);
    expect(sample(text, 'tastematch_memory_shedding')).toBe(0);
    for (const name of [
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(sample(text, name), name).toBeGreaterThan(0);
    }
    expect(text).toContain('nodejs_gc_duration_seconds');
  });

  it('bounds operation names: past the first few hundred they count as "other"', async () => {
    for (let i = 0; i < MAX_OPERATION_NAMES + 20; i++) await post(`query Op${i} { __typename }`);
    const text = await metrics();
    const names = new Set(
      [...text.matchAll(/graphql_yoga_http_duration_count\{operationName="([^"]+)"/g)].map((m) => m[1]),
    );
    expect(names.size).toBeLessThanOrEqual(MAX_OPERATION_NAMES + 2); // + "anonymous" and "other"
    expect(names.has('other')).toBe(true);
    // The URL (which carries GET variables) is not a label.
    expect(text).not.toMatch(/url="/);
  });
});

describe('request log', () => {
  it('logs each GraphQL request with its id, operation, status and statements, and returns the id', async () => {
    lines.length = 0;
    t.wire.reset();
    const r = await post('query Feed { restaurants(first: 2) { edges { node { name } } } }', {
      'x-request-id': 'req-abc.123',
    });
    expect(r.headers.get('x-request-id')).toBe('req-abc.123');
    const line = logged().find((l) => l.msg === 'graphql request');
    expect(line).toMatchObject({ reqId: 'req-abc.123', operation: 'Feed', status: 200, path: '/graphql' });
    expect(line?.statements).toBe(t.wire.statements.length);
    expect(line?.rows).toBe(3); // first: 2 reads one more row, for hasNextPage
  });

  it("counts the statements of a mutation's service and of concurrent requests each for its own request", async () => {
    const token = await t.tokenFor(userId);
    const auth = { authorization: `Bearer ${token}` };
    lines.length = 0;
    t.wire.reset();
    // createOrder: its statements are sent by the orders service, not by a loader.
    await post(
      `mutation Place($r: ID!) { createOrder(input: {restaurantId: $r, items: [{name: "Dish", quantity: 1, price: 9.5}]}) { id } }`,
      auth,
      { r: Buffer.from(`Restaurant:${restaurants[0]}`).toString('base64') },
    );
    await t.wire.settle();
    const placed = logged().find((l) => l.operation === 'Place');
    expect(placed?.statements).toBeGreaterThan(0);
    expect(placed?.statements).toBe(t.wire.statements.length);
    // Ten requests at once: each line holds its own request's statements and rows, no more.
    lines.length = 0;
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        i % 2
          ? post('query A { restaurants(first: 2) { edges { node { name } } } }')
          : post('query B { me { orders(first: 3) { edges { node { restaurant { name } } } } } }', auth),
      ),
    );
    const a = logged().filter((l) => l.operation === 'A');
    const b = logged().filter((l) => l.operation === 'B');
    expect(a).toHaveLength(5);
    expect(b).toHaveLength(5);
    for (const l of a) expect(l).toMatchObject({ statements: 1, rows: 3 });
    // B: 4 order rows (first: 3 reads one more, for hasNextPage) with their restaurants joined; no user row.
    for (const l of b) expect(l).toMatchObject({ statements: 1, rows: 4 });
  });

  it('makes up an id when the caller sends none or a malformed one', async () => {
    const none = await post('{ __typename }');
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const bad = await post('{ __typename }', { 'x-request-id': 'has spaces and "quotes"' });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never logs a password, a token or the Authorization header', async () => {
    lines.length = 0;
    const password = 'Secret-Password-123!';
    const register = `mutation Reg($input: RegisterInput!) { register(input: $input) { token } }`;
    const res = await t.app.fetch('http://test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: register,
        variables: { input: { email: 'log@example.com', name: 'Log', password } },
      }),
    });
    const token = ((await res.json()) as { data: { register: { token: string } } }).data.register.token;
    await post('query Me { me { email } }', { authorization: `Bearer ${token}` });
    await post(
      'mutation Login($input: LoginInput!) { login(input: $input) { token } }',
      {},
      {
        input: { email: 'log@example.com', password: 'wrong-password-1' },
      },
    );
    const all = lines.join('');
    expect(logged().filter((l) => l.msg === 'graphql request').length).toBeGreaterThanOrEqual(3);
    expect(all).not.toContain(password);
    expect(all).not.toContain('wrong-password-1');
    expect(all).not.toContain(token);
    expect(all.toLowerCase()).not.toContain('bearer');
  });
});

describe('METRICS_PORT: /metrics on a port of its own', () => {
  it('serves /metrics there (and nothing else), and not on the app', async () => {
    const server = await startMetricsServer(0, '127.0.0.1');
    try {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const r = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(r.status).toBe(200);
      expect(await r.text()).toContain('tastematch_sql_statements_per_request');
      expect((await fetch(`http://127.0.0.1:${port}/graphql`)).status).toBe(404);
    } finally {
      server.close();
    }
    const other = await createTestApp({ app: { metricsEndpoint: false } });
    try {
      expect((await other.app.fetch('http://test/metrics')).status).toBe(404);
    } finally {
      await other.close();
    }
  });
});
