/**
 * Two gateway processes (real `src/server.ts`) on loopback sharing one PostgreSQL and a
 * private redis-server. A's writes reach B's cache through Redis: B held a cached copy
 * (its cache metrics show the hit), A's order invalidates it, B's next answer shows the
 * order. Then Redis goes away mid-run: both keep answering; when it is back, what was
 * missed is made good and invalidation works again. APQ registrations are shared too.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_JWT_SECRET, type TestApp } from './helpers/app.ts';
import { insertRestaurants } from './helpers/fixtures.ts';
import { type GatewayProcess, startGateway } from './helpers/gateway-process.ts';
import { requireProgram } from './helpers/programs.ts';
import { startRedis, type TestRedis } from './helpers/redis.ts';

type Replica = GatewayProcess;

const startReplica = (databaseUrl: string, redisUrl: string) =>
  startGateway({ DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, JWT_SECRET: TEST_JWT_SECRET, VECTOR_SYNC_MS: '0' });

type Body = { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };
async function gql(r: Replica, query: string, variables?: unknown, token?: string, extensions?: unknown) {
  const res = await fetch(`${r.base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables, extensions }),
  });
  return (await res.json()) as Body;
}

/** One counter of a replica's /metrics, e.g. `tastematch_cache_events_total{cache="main",event="hit"}`. */
async function metric(r: Replica, series: string): Promise<number> {
  const text = await (await fetch(`${r.base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const RECS = 'query Recs { recommendations(first: 10) { restaurant { id } } }';
const ORDER = `mutation Order($input: CreateOrderInput!) { createOrder(input: $input) { id } }`;
const recommended = async (r: Replica, token: string) => {
  const body = await gql(r, RECS, undefined, token);
  expect(body.errors).toBeUndefined();
  return (body.data!.recommendations as { restaurant: { id: string } }[]).map((x) => x.restaurant.id);
};
const order = async (r: Replica, token: string, restaurantId: string) => {
  const body = await gql(
    r,
    ORDER,
    { input: { restaurantId, items: [{ name: 'Dish', quantity: 1, price: 12 }] } },
    token,
  );
  expect(body.errors).toBeUndefined();
};
/** Polls until `check` holds (bounded): delivery through Redis is asynchronous. */
async function eventually(check: () => Promise<boolean>, what: string) {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never happened: ${what}`);
}

describe.runIf(requireProgram('redis-server'))('two replicas sharing PostgreSQL and Redis', () => {
  let t: TestApp;
  let redis: TestRedis;
  let a: Replica;
  let b: Replica;
  let token: string;
  let restaurants: string[];

  beforeAll(async () => {
    t = await createTestApp();
    restaurants = (await insertRestaurants(t.db, 40)).map((id) => Buffer.from(`Restaurant:${id}`).toString('base64'));
    await t.embedAll(); // embedded before the replicas start: their indexes load them
    redis = await startRedis();
    [a, b] = await Promise.all([startReplica(t.db.url, redis.url), startReplica(t.db.url, redis.url)]);
    const reg = await gql(
      a,
      'mutation { register(input: { email: "two@example.com", name: "Two", password: "two-replicas-pw" }) { token } }',
    );
    token = (reg.data!.register as { token: string }).token;
    // A history, so recommendations come from it.
    for (const id of restaurants.slice(0, 3)) await order(a, token, id);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
    await t?.close();
  });

  it('B serves its cached copy, then drops it when A writes (invalidation through Redis)', async () => {
    const first = await recommended(b, token);
    expect(first.length).toBeGreaterThan(0);
    const hitsBefore = await metric(b, 'tastematch_cache_events_total{cache="main",event="hit"}');
    expect(await recommended(b, token)).toEqual(first);
    expect(await metric(b, 'tastematch_cache_events_total{cache="main",event="hit"}')).toBeGreaterThan(hitsBefore);

    // A orders B's top pick: a restaurant of the last orders is never recommended.
    const top = first[0]!;
    const received = await metric(b, 'tastematch_cache_events_total{cache="main",event="remote_invalidation"}');
    await order(a, token, top);
    await eventually(
      async () =>
        (await metric(b, 'tastematch_cache_events_total{cache="main",event="remote_invalidation"}')) > received,
      'B received the invalidation',
    );
    const after = await recommended(b, token);
    expect(after).not.toContain(top);
  });

  it('shares APQ registrations: registered on A, served by hash on B', async () => {
    const query = 'query Shared { cuisines }';
    const hash = createHash('sha256').update(query).digest('hex');
    const pq = { persistedQuery: { version: 1, sha256Hash: hash } };
    expect((await gql(b, '', undefined, undefined, pq)).errors?.[0]?.extensions?.code).toBeDefined();
    const registered = await gql(a, query, undefined, undefined, pq);
    expect(registered.errors).toBeUndefined();
    const fromB = await fetch(`${b.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extensions: pq }),
    });
    expect(((await fromB.json()) as Body).data?.cuisines).toEqual(registered.data?.cuisines);
  });

  it('keeps serving while Redis is down, and catches up when it is back', async () => {
    const before = await recommended(b, token); // cached on B
    await redis.pause();
    // Both replicas answer reads and writes without Redis.
    const target = before[0]!;
    await order(a, token, target);
    expect((await recommended(a, token)).length).toBeGreaterThan(0);
    expect((await recommended(b, token)).length).toBeGreaterThan(0);
    expect(a.child.exitCode).toBeNull();
    expect(b.child.exitCode).toBeNull();

    await redis.resume();
    // B resubscribes and forgets what it may have missed; A sends its pending invalidation.
    await eventually(
      async () => !(await recommended(b, token)).includes(target),
      'B reflects the order made during the outage',
    );

    // And invalidation works again, end to end.
    const now = await recommended(b, token);
    const next = now[0]!;
    await order(a, token, next);
    await eventually(
      async () => !(await recommended(b, token)).includes(next),
      'B reflects a new order after the outage',
    );
    expect(a.output()).not.toMatch(/Unhandled|uncaught/i);
    expect(b.output()).not.toMatch(/Unhandled|uncaught/i);
  }, 60_000);
});
