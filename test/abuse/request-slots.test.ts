/**
 * Request slots (MAX_CONCURRENT_REQUESTS) are taken per operation, once the body is in:
 * - every operation of a JSON batch takes a slot of its own (a batch cannot run ten
 *   operations on one slot), and a batch larger than the free slots neither deadlocks nor
 *   starves: its extra operations queue or are refused one by one;
 * - clients that upload their body slowly hold sockets, not slots: another client's cheap
 *   query is answered every time while 20 of them trickle 100 KB bodies.
 * Slow operations are made slow for real: the test holds an ACCESS EXCLUSIVE lock on
 * `restaurants`, so the gateway's SELECTs wait in PostgreSQL until it lets go.
 */
import { connect, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_JWT_SECRET } from '../helpers/app.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { insertRestaurants } from '../helpers/fixtures.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';

const FEED = { query: '{ restaurants(first: 2) { edges { node { name } } } }' };
const CHEAP = { query: '{ cuisines }' };

type ErrorBody = { message: string; extensions?: Record<string, unknown> };
type Data = { restaurants?: { edges: unknown[] }; cuisines?: string[]; __typename?: string };
type Body = { data?: Data | null; errors?: ErrorBody[] };

async function post<T = Body>(base: string, body: unknown) {
  const r = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, headers: r.headers, body: (await r.json()) as T };
}

/** Locks `restaurants`; resolves once `waiters` of the gateway's statements wait on the lock. */
async function lockRestaurants(db: TestDatabase) {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE restaurants IN ACCESS EXCLUSIVE MODE');
  let released = false;
  return {
    async waiters(n: number) {
      for (let i = 0; i < 400; i++) {
        const [row] = await db.sql<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (Number(row?.n) >= n) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`fewer than ${n} statements ever waited on the lock`);
    },
    async release() {
      if (released) return;
      released = true;
      await client.query('COMMIT');
      await client.end();
    },
  };
}

describe('MAX_CONCURRENT_REQUESTS=2, MAX_QUEUED_REQUESTS=0: a batch takes one slot per operation', () => {
  let db: TestDatabase;
  let gateway: GatewayProcess;
  beforeAll(async () => {
    db = await freshDatabase();
    await insertRestaurants(db, 5);
    gateway = await startGateway(
      {
        NODE_ENV: 'production',
        JWT_SECRET: TEST_JWT_SECRET,
        DATABASE_URL: db.url,
        SEED_ON_FIRST_START: 'false',
        VECTOR_SYNC_MS: '0',
        MAX_CONCURRENT_REQUESTS: '2',
        MAX_QUEUED_REQUESTS: '0',
      },
      { nodeArgs: ['--max-old-space-size=448'] },
    );
  }, 120_000);
  afterAll(async () => {
    await gateway?.stop();
    await db?.drop();
  });

  it('a batch of two slow operations holds both slots: another client is refused meanwhile', async () => {
    const lock = await lockRestaurants(db);
    try {
      const batch = post<Body[]>(gateway.base, [FEED, FEED]);
      await lock.waiters(2);
      const other = await post(gateway.base, { query: '{ __typename }' });
      expect(other.status).toBe(503);
      expect(Number(other.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(other.headers.get('cache-control')).toBe('no-store');
      expect(other.body.errors?.[0]?.extensions).toMatchObject({ code: 'OVERLOADED', reason: 'concurrency' });
      // Health is never gated.
      expect((await fetch(`${gateway.base}/health`)).status).toBe(200);
      await lock.release();
      const done = await batch;
      expect(done.status).toBe(200);
      for (const op of done.body) expect(op.data?.restaurants?.edges).toHaveLength(2);
    } finally {
      await lock.release();
    }
    // Both slots came back.
    const after = await post(gateway.base, { query: '{ __typename }' });
    expect(after.status).toBe(200);
    expect(after.body.data).toEqual({ __typename: 'Query' });
  });

  it('a batch of three on two slots runs two and refuses the third, without waiting for itself', async () => {
    const lock = await lockRestaurants(db);
    try {
      const batch = post<Body[]>(gateway.base, [FEED, FEED, FEED]);
      await lock.waiters(2);
      await lock.release();
      const done = await batch;
      expect(done.body).toHaveLength(3);
      expect(done.body.filter((op) => op.data)).toHaveLength(2);
      const refused = done.body.filter((op) => op.errors);
      expect(refused).toHaveLength(1);
      expect(refused[0]?.errors?.[0]?.extensions).toMatchObject({ code: 'OVERLOADED', reason: 'concurrency' });
    } finally {
      await lock.release();
    }
  });
});

describe('a batch larger than the slots, with a queue (in process)', () => {
  it('runs all ten operations on two slots: the extra ones queue, nothing deadlocks', async () => {
    const t = await createTestApp({
      app: { backpressure: { maxConcurrent: 2, maxQueued: 10, queueTimeoutMs: 20_000, memorySoftLimitMB: 0 } },
    });
    try {
      await insertRestaurants(t.db, 3);
      const r = await t.app.fetch('http://test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(Array.from({ length: 10 }, () => FEED)),
      });
      const body = (await r.json()) as Body[];
      expect(body).toHaveLength(10);
      for (const op of body) expect(op.data?.restaurants?.edges).toHaveLength(2);
      const health = (await (await t.app.fetch('http://test/health')).json()) as {
        load: { requests: { active: number; waiting: number } };
      };
      expect(health.load.requests).toMatchObject({ active: 0, waiting: 0 });
    } finally {
      await t.close();
    }
  });
});

describe('slow uploads hold sockets, not slots (default MAX_CONCURRENT_REQUESTS=15, MAX_QUEUED_REQUESTS=50)', () => {
  const UPLOADS = 20;
  const BODY_BYTES = 100_000;
  const CHEAP_QUERIES = 20;
  let db: TestDatabase;
  let gateway: GatewayProcess;
  beforeAll(async () => {
    db = await freshDatabase();
    await insertRestaurants(db, 5);
    gateway = await startGateway(
      {
        NODE_ENV: 'production',
        JWT_SECRET: TEST_JWT_SECRET,
        DATABASE_URL: db.url,
        SEED_ON_FIRST_START: 'false',
        VECTOR_SYNC_MS: '0',
      },
      { nodeArgs: ['--max-old-space-size=448'] },
    );
  }, 120_000);
  afterAll(async () => {
    await gateway?.stop();
    await db?.drop();
  });

  it(`answers a cheap query ${CHEAP_QUERIES} times of ${CHEAP_QUERIES} while ${UPLOADS} clients send 100 KB at 1 byte / 50 ms`, async () => {
    const { port } = new URL(gateway.base);
    const sockets: Socket[] = [];
    const timers: NodeJS.Timeout[] = [];
    const answered: string[] = [];
    try {
      for (let i = 0; i < UPLOADS; i++) {
        const socket = connect({ host: '127.0.0.1', port: Number(port) });
        socket.on('error', () => {});
        socket.on('data', (d: Buffer) => answered.push(d.toString().split('\r\n')[0] ?? ''));
        sockets.push(socket);
        socket.write(
          `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
            `Accept: application/json\r\nContent-Length: ${BODY_BYTES}\r\n\r\n{`,
        );
        // JSON whitespace, one byte at a time: the body is valid if it ever completes (it never does here).
        timers.push(setInterval(() => socket.write(' '), 50));
      }
      await new Promise((r) => setTimeout(r, 1_000)); // every upload is under way
      const results = await Promise.all(
        Array.from({ length: CHEAP_QUERIES }, async (_, i) => {
          await new Promise((r) => setTimeout(r, i * 300));
          return post(gateway.base, CHEAP).then(
            (r) => r.status,
            () => 0,
          );
        }),
      );
      const ok = results.filter((s) => s === 200).length;
      console.log(`cheap queries answered 200 during ${UPLOADS} slow uploads: ${ok} of ${CHEAP_QUERIES}`);
      expect(results).toEqual(Array.from({ length: CHEAP_QUERIES }, () => 200));
      // The uploads were still going (not cut, not answered): they held their sockets the whole time.
      expect(answered).toEqual([]);
      expect(sockets.every((s) => !s.destroyed)).toBe(true);
    } finally {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
    }
    expect((await post(gateway.base, CHEAP)).status).toBe(200);
  }, 30_000);
});
