/**
 * Backpressure: the request limiter (MAX_CONCURRENT_REQUESTS, MAX_QUEUED_REQUESTS,
 * QUEUE_TIMEOUT_MS) and the memory watchdog (MEMORY_SOFT_LIMIT_MB). Slow requests are
 * made slow for real: the test holds an ACCESS EXCLUSIVE lock on `restaurants`, so
 * the gateway's SELECT waits in PostgreSQL until the test lets go.
 */
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryWatchdog } from '../../src/backpressure/memory-watchdog.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { insertRestaurants } from '../helpers/fixtures.ts';

const FEED = '{ restaurants(first: 2) { edges { node { name } } } }';
type Body = {
  data?: { restaurants?: { edges: unknown[] } } | null;
  errors?: { extensions?: Record<string, unknown> }[];
};

const post = (t: TestApp, signal?: AbortSignal) =>
  t.app.fetch('http://test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query: FEED }),
    signal,
  });

type Load = { state: string; requests: { active: number; waiting: number }; shedRequests: number };
async function load(t: TestApp): Promise<Load> {
  const r = await t.app.fetch('http://test/health');
  expect(r.status).toBe(200);
  return ((await r.json()) as { load: Load }).load;
}

/** Polls /health until `predicate` holds (bounded). */
async function until(t: TestApp, predicate: (l: Load) => boolean) {
  for (let i = 0; i < 200; i++) {
    if (predicate(await load(t))) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`load never reached the expected state: ${JSON.stringify(await load(t))}`);
}

/** Locks `restaurants` until the returned function is called. */
async function lockRestaurants(t: TestApp): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: t.db.url });
  await client.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE restaurants IN ACCESS EXCLUSIVE MODE');
  return async () => {
    await client.query('COMMIT');
    await client.end();
  };
}

async function expectOverloaded(response: Response, reason: string) {
  expect(response.status).toBe(503);
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  const body = (await response.json()) as Body;
  expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'OVERLOADED', reason });
}

describe('MAX_CONCURRENT_REQUESTS=2, MAX_QUEUED_REQUESTS=1', () => {
  let t: TestApp;
  let unlock: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    t = await createTestApp({
      app: { backpressure: { maxConcurrent: 2, maxQueued: 1, queueTimeoutMs: 60_000, memorySoftLimitMB: 0 } },
    });
    await insertRestaurants(t.db, 3);
  });
  afterEach(async () => {
    await unlock?.();
    unlock = undefined;
  });
  afterAll(() => t?.close());

  it('runs two, queues the third, refuses the rest with 503 + Retry-After without touching the database', async () => {
    unlock = await lockRestaurants(t);
    const running = [post(t), post(t)];
    await until(t, (l) => l.requests.active === 2);
    const queued = post(t);
    await until(t, (l) => l.requests.waiting === 1);

    const before = t.wire.statements.length;
    const refused = await Promise.all([post(t), post(t), post(t)]);
    for (const r of refused) await expectOverloaded(r, 'concurrency');
    expect(t.wire.statements.length).toBe(before);
    // /health and /ready answer while every slot is taken.
    expect((await t.app.fetch('http://test/ready')).status).toBe(200);

    await unlock();
    unlock = undefined;
    for (const r of await Promise.all([...running, queued])) {
      expect(r.status).toBe(200);
      expect(((await r.json()) as Body).data?.restaurants?.edges).toHaveLength(2);
    }
    await until(t, (l) => l.requests.active === 0 && l.requests.waiting === 0);
  });

  it('takes a client that disconnects out of the queue', async () => {
    unlock = await lockRestaurants(t);
    const running = [post(t), post(t)];
    await until(t, (l) => l.requests.active === 2);
    const abort = new AbortController();
    const gone = Promise.resolve(post(t, abort.signal)).catch((e: Error) => e);
    await until(t, (l) => l.requests.waiting === 1);
    abort.abort();
    await until(t, (l) => l.requests.waiting === 0);
    // Its place is free again: the next request waits instead of being refused.
    const next = post(t);
    await until(t, (l) => l.requests.waiting === 1);
    await unlock();
    unlock = undefined;
    expect((await next).status).toBe(200);
    for (const r of await Promise.all(running)) expect(r.status).toBe(200);
    await gone;
  });
});

describe('QUEUE_TIMEOUT_MS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      app: { backpressure: { maxConcurrent: 1, maxQueued: 5, queueTimeoutMs: 200, memorySoftLimitMB: 0 } },
    });
    await insertRestaurants(t.db, 3);
  });
  afterAll(() => t?.close());

  it('answers a request that waited too long with 503 OVERLOADED; the running one finishes', async () => {
    const unlock = await lockRestaurants(t);
    try {
      const running = post(t);
      await until(t, (l) => l.requests.active === 1);
      await expectOverloaded(await post(t), 'concurrency');
      await unlock();
      expect((await running).status).toBe(200);
    } finally {
      await unlock().catch(() => {});
    }
  });
});

describe('MEMORY_SOFT_LIMIT_MB', () => {
  let t: TestApp;
  beforeAll(async () => {
    // 1 MB: this process is always above it, so the watchdog sheds from the start.
    t = await createTestApp({
      app: { backpressure: { maxConcurrent: 15, maxQueued: 50, queueTimeoutMs: 2000, memorySoftLimitMB: 1 } },
    });
  });
  afterAll(() => t?.close());

  it('sheds GraphQL requests with 503 (no SQL) while /health (200) reports it and /ready answers', async () => {
    t.wire.reset();
    await expectOverloaded(await post(t), 'memory');
    expect(t.wire.statements).toHaveLength(0);
    const l = await load(t);
    expect(l.state).toBe('shedding');
    expect(l.shedRequests).toBeGreaterThanOrEqual(1);
    expect((await t.app.fetch('http://test/ready')).status).toBe(200);
  });
});

describe('MemoryWatchdog', () => {
  const MB = 1024 * 1024;
  it('sheds above the limit and resumes only under 90 % of it', () => {
    let rss = 100 * MB;
    const w = new MemoryWatchdog({ softLimitMB: 200, sample: () => ({ rss, heapUsed: 0, heapTotal: 0, external: 0 }) });
    try {
      expect(w.shedding).toBe(false);
      rss = 201 * MB;
      w.tick();
      expect(w.shedding).toBe(true);
      expect(w.snapshot()).toMatchObject({ state: 'shedding', softLimitMB: 200, memoryMB: { rss: 201 } });
      rss = 185 * MB; // under the limit, above 90 %: still shedding
      w.tick();
      expect(w.shedding).toBe(true);
      rss = 179 * MB;
      w.tick();
      expect(w.shedding).toBe(false);
      expect(w.snapshot().state).toBe('ok');
    } finally {
      w.stop();
    }
  });

  it('never sheds with a limit of 0', () => {
    const w = new MemoryWatchdog({
      softLimitMB: 0,
      sample: () => ({ rss: 1e12, heapUsed: 0, heapTotal: 0, external: 0 }),
    });
    w.tick();
    expect(w.shedding).toBe(false);
    w.stop();
  });
});

describe('SLOW_QUERY_MS', () => {
  const lines: string[] = [];
  let t: TestApp;
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    t = await createTestApp({ slowQueryMs: 100, log: createLogger('warn', sink) });
    await insertRestaurants(t.db, 3);
  });
  afterAll(() => t?.close());

  it('logs a slow statement with the operation name and its SQL, without parameter values', async () => {
    const unlock = await lockRestaurants(t);
    const pending = t.gql(
      'query SlowFeed($c: String) { restaurants(first: 2, cuisine: $c) { edges { node { name } } } }',
      {
        c: 'Secretcuisine',
      },
    );
    await new Promise((r) => setTimeout(r, 300)); // the SELECT waits on the lock meanwhile
    await unlock();
    expect((await pending).status).toBe(200);
    const slow = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'slow query');
    expect(slow).toHaveLength(1);
    expect(slow[0]).toMatchObject({ operation: 'SlowFeed' });
    expect(String(slow[0]?.sql)).toMatch(/FROM restaurants/i);
    expect(slow[0]?.ms).toBeGreaterThanOrEqual(100);
    expect(lines.join('')).not.toContain('Secretcuisine');
  });
});

describe('DB_STATEMENT_TIMEOUT_MS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ statementTimeoutMs: 300 });
    await insertRestaurants(t.db, 3);
  });
  afterAll(() => t?.close());

  it('turns a statement PostgreSQL cancelled into DATABASE_UNAVAILABLE (503), no SQL text, then serves', async () => {
    const unlock = await lockRestaurants(t);
    try {
      const r = await t.gql(FEED);
      expect(r.status).toBe(503);
      expect(r.body.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE');
      expect(JSON.stringify(r.body)).not.toMatch(/SELECT|restaurants WHERE|canceling statement/i);
    } finally {
      await unlock();
    }
    const again = await t.gql<{ restaurants: { edges: unknown[] } }>(FEED);
    expect(again.body.data?.restaurants.edges).toHaveLength(2);
  });
});

describe('heavy operations (HEAVY_COST, MAX_HEAVY_REQUESTS)', () => {
  let t: TestApp;
  const HEAVY = '{ restaurants(first: 50) { edges { node { name cuisineType rating } } } }'; // cost ≥ 150
  beforeAll(async () => {
    t = await createTestApp({
      app: {
        queryLimits: {
          maxDepth: 8,
          maxCost: 5000,
          maxAliases: 30,
          maxDirectives: 50,
          maxTokens: 2000,
          maxQueryBytes: 20000,
          maxPageSize: 100,
          maxBatch: 10,
          heavyCost: 100,
          maxHeavy: 1,
          queueTimeoutMs: 60_000,
        },
        backpressure: { maxConcurrent: 15, maxQueued: 50, queueTimeoutMs: 60_000, memorySoftLimitMB: 0 },
      },
    });
    await insertRestaurants(t.db, 3);
  });
  afterAll(() => t?.close());

  const send = (query: string) =>
    t.app.fetch('http://test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query }),
    });

  it('runs one heavy operation at a time, queues two, refuses the rest; cheap ones pass meanwhile', async () => {
    const unlock = await lockRestaurants(t);
    try {
      const heavy = [send(HEAVY), send(HEAVY), send(HEAVY)];
      await until(t, (l) => l.requests.active === 3);
      const refused = await send(HEAVY);
      expect(refused.status).toBe(503);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const body = (await refused.json()) as Body;
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'OVERLOADED', reason: 'heavy' });
      // A cheap operation is not behind the heavy ones.
      const cheap = await send('{ me { id } __typename }');
      expect(cheap.status).toBe(200);
      await unlock();
      for (const r of await Promise.all(heavy)) {
        expect(r.status).toBe(200);
        expect(((await r.json()) as Body).data?.restaurants?.edges).toHaveLength(3);
      }
    } finally {
      await unlock().catch(() => {});
    }
  });
});
