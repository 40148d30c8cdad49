/**
 * The database restarted or unreachable, with the real process (`node --import tsx
 * src/server.ts`) on a private PostgreSQL cluster the test starts, stops, restarts and
 * whose backends it terminates (test/helpers/private-cluster.ts). While the database is
 * down, requests fail within about DB_POOL_TIMEOUT_MS with DATABASE_UNAVAILABLE (503),
 * /health stays 200, /ready is 503 and the process stays up; when the database is back,
 * the same process serves again by itself. A writer places orders through every phase:
 * no acknowledged order is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_JWT_SECRET } from './helpers/app.ts';
import { type GatewayProcess, startGateway } from './helpers/gateway-process.ts';
import { type PrivateCluster, privateClusterAvailable, startPrivateCluster } from './helpers/private-cluster.ts';

const POOL_TIMEOUT_MS = 2_000;
const POOL_MAX = 4;
/** Answers come within about DB_POOL_TIMEOUT_MS (docs/contract.md, "HTTP"); generously: every answer, success or failure, within this. */
const ANSWER_BOUND_MS = POOL_TIMEOUT_MS + 3_000;
const RECOVERY_BOUND_MS = 30_000;

type Phase = 'up' | 'stopping' | 'down' | 'starting' | 'started' | 'terminated' | 'restarting' | 'restarted';
/** Phases during which the database was up for the whole of each request. */
const UP_PHASES: Phase[] = ['up', 'started', 'terminated', 'restarted'];

type GraphQLBody = {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
};
type Attempt = {
  phase: Phase;
  key: string;
  status: number;
  /** the global id of the order when the server acknowledged it */
  id?: string;
  /** errors[0].extensions.code, or TIMEOUT / NETWORK when no answer came */
  code?: string;
  ms: number;
  body: string;
};

let cluster: PrivateCluster;
let gateway: GatewayProcess;
let token: string;
let userId: string;
let restaurantIds: string[];
let phase: Phase = 'up';
const attempts: Attempt[] = [];
let writer: { stop(): Promise<void> } | undefined;

/** The gateway process; ready once /health answers (the outage tests watch /ready themselves). */
const launchGateway = (databaseUrl: string) =>
  startGateway(
    {
      DATABASE_URL: databaseUrl,
      JWT_SECRET: TEST_JWT_SECRET,
      DB_POOL_MAX: String(POOL_MAX),
      DB_POOL_TIMEOUT_MS: String(POOL_TIMEOUT_MS),
      DB_STATEMENT_TIMEOUT_MS: '2000',
      // background work that touches the database during the outage too
      VECTOR_SYNC_MS: '1000',
      SEED_ON_FIRST_START: 'false',
    },
    { readyPath: '/health' },
  );

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function post(query: string, variables: Record<string, unknown> = {}, auth = true) {
  const started = Date.now();
  const res = await fetch(`${gateway.base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as GraphQLBody, ms: Date.now() - started };
}

const READ = '{ restaurants(first: 2) { edges { node { id name } } } }';
const CREATE_ORDER = `mutation ($input: CreateOrderInput!) { createOrder(input: $input) { id totalAmount } }`;

/** Global ids are Pothos relay ids: base64 of "<Type>:<id>". */
const toGlobalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');
const fromGlobalId = (globalId: string) => {
  const [type, id] = Buffer.from(globalId, 'base64').toString('utf8').split(':');
  return { type, id };
};

/** Sequential createOrder calls with unique idempotency keys, each recorded with the phase it started in. */
function startWriter() {
  let running = true;
  let n = 0;
  const loop = (async () => {
    while (running) {
      n++;
      const key = `outage-${n}`;
      const at = phase;
      const input = {
        restaurantId: toGlobalId('Restaurant', restaurantIds[n % restaurantIds.length]!),
        items: [{ name: `Dish ${n}`, quantity: 1 + (n % 3), price: 9.5 }],
        idempotencyKey: key,
      };
      const started = Date.now();
      try {
        const r = await post(CREATE_ORDER, { input });
        const id = (r.body.data?.createOrder as { id?: string } | null | undefined)?.id;
        attempts.push({
          phase: at,
          key,
          status: r.status,
          id,
          code: id ? undefined : (r.body.errors?.[0]?.extensions?.code ?? 'NO_CODE'),
          ms: r.ms,
          body: r.text,
        });
      } catch (error) {
        const name = (error as Error).name;
        attempts.push({
          phase: at,
          key,
          status: 0,
          code: name === 'TimeoutError' ? 'TIMEOUT' : `NETWORK: ${(error as Error).message}`,
          ms: Date.now() - started,
          body: '',
        });
      }
      await sleep(20);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

const inPhase = (p: Phase) => attempts.filter((a) => a.phase === p);
const acknowledged = (p: Phase) => inPhase(p).filter((a) => a.id).length;

/** Resolves once `check` is true, polling; fails with `what` after `ms`. */
async function until(what: string, check: () => Promise<boolean> | boolean, ms = RECOVERY_BOUND_MS) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(
        `${what}: not within ${ms} ms\n--- gateway output ---\n${gateway.output().slice(-4000)}` +
          `\n--- PostgreSQL log ---\n${cluster.log().slice(-2000)}`,
      );
    }
    await sleep(100);
  }
}

const ready = () =>
  fetch(`${gateway.base}/ready`, { signal: AbortSignal.timeout(10_000) }).then(
    (r) => r.status,
    () => 0,
  );
const health = () => fetch(`${gateway.base}/health`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.status);
const readSucceeds = async () => {
  try {
    const r = await post(READ, {}, false);
    return r.status === 200 && !r.body.errors && Array.isArray((r.body.data?.restaurants as { edges: [] })?.edges);
  } catch {
    return false;
  }
};

/** No stack, SQL or driver detail in what a client sees. */
function expectNoInternals(text: string) {
  expect(text).not.toMatch(/ECONNREFUSED|\bat \/|\.ts:\d+|\bSELECT\b|\bINSERT\b|postgres:\/\/|stack/i);
}

const available = privateClusterAvailable();

describe.skipIf(!available)('the database restarted or unreachable (private cluster, real process)', () => {
  beforeAll(async () => {
    cluster = await startPrivateCluster();
    gateway = await launchGateway(cluster.url); // migrates at start
    const rows = await cluster.sql<{ id: string }>(
      `INSERT INTO restaurants (name, cuisine_type, description, rating, price_range, location)
       SELECT 'Outage ' || i, (ARRAY['italian','japanese','mexican'])[1 + i % 3], 'Dish ' || i, 4.0,
              (ARRAY['low','medium','high'])[1 + i % 3], 'Street ' || i
       FROM generate_series(1, 5) AS i RETURNING id::text AS id`,
    );
    restaurantIds = rows.map((r) => r.id);
    const email = `outage-${Date.now()}@example.com`;
    const res = await fetch(`${gateway.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `mutation ($input: RegisterInput!) { register(input: $input) { token user { id } } }`,
        variables: { input: { email, name: 'Outage', password: 'outage-password-1' } },
      }),
    });
    const body = (await res.json()) as GraphQLBody;
    expect(body.errors).toBeUndefined();
    const payload = body.data!.register as { token: string; user: { id: string } };
    token = payload.token;
    userId = fromGlobalId(payload.user.id).id!;
    expect((await ready()) === 200).toBe(true);
    writer = startWriter();
    await until('the writer places orders', () => acknowledged('up') >= 3, 10_000);
  }, 90_000);

  afterAll(async () => {
    await writer?.stop();
    if (gateway && gateway.child.exitCode === null) {
      const exited = new Promise((resolve) => gateway.child.once('exit', resolve));
      gateway.child.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000)]);
      if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
    }
    await cluster?.destroy();
  }, 60_000);

  it('database stopped: DATABASE_UNAVAILABLE within the bound, /health 200, /ready 503, the process stays up', async () => {
    const pid = gateway.child.pid;
    phase = 'stopping';
    await cluster.stop();
    phase = 'down';
    // Long enough for idle connections' errors, the vector index's 1 s sync and several pool timeouts.
    const end = Date.now() + 3 * POOL_TIMEOUT_MS + 1_000;
    while (Date.now() < end) {
      const read = await post(READ, {}, false);
      expect(read.status).toBe(503);
      expect(read.body.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE');
      expect(read.ms).toBeLessThan(ANSWER_BOUND_MS);
      expectNoInternals(read.text);
      expect(await health()).toBe(200);
      const r = await fetch(`${gateway.base}/ready`);
      expect(r.status).toBe(503);
      expect(await r.json()).toMatchObject({ status: 'unavailable', checks: { database: 'unreachable' } });
      await sleep(250);
    }
    const down = inPhase('down');
    expect(down.length).toBeGreaterThan(0);
    for (const a of down) {
      expect({ key: a.key, status: a.status, code: a.code, id: a.id }).toEqual({
        key: a.key,
        status: 503,
        code: 'DATABASE_UNAVAILABLE',
        id: undefined,
      });
      expect(a.ms).toBeLessThan(ANSWER_BOUND_MS);
      expectNoInternals(a.body);
    }
    expect(gateway.child.exitCode).toBeNull();
    expect(gateway.child.pid).toBe(pid);
  }, 30_000);

  it('database started again: the same process serves by itself', async () => {
    const pid = gateway.child.pid;
    phase = 'starting';
    await cluster.start();
    phase = 'started';
    await until('a read succeeds again', readSucceeds);
    await until('/ready is 200 again', async () => (await ready()) === 200);
    await until('the writer places orders again', () => acknowledged('started') >= 3);
    expect(gateway.child.exitCode).toBeNull();
    expect(gateway.child.pid).toBe(pid);
  }, 60_000);

  it("the gateway's backends terminated (pg_terminate_backend): a few failures at most, then served", async () => {
    const before = acknowledged('started');
    expect(before).toBeGreaterThan(0);
    phase = 'terminated';
    const killed = await cluster.sql<{ terminated: boolean }>(
      `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
       WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'`,
    );
    expect(killed.length).toBeGreaterThan(0); // the gateway had connections open
    await until('the writer places orders after the termination', () => acknowledged('terminated') >= 5);
    await until('a read succeeds', readSucceeds);
    expect((await ready()) === 200).toBe(true);
    // Each terminated connection fails at most the one query that finds it dead.
    const failed = inPhase('terminated').filter((a) => !a.id);
    expect(failed.length).toBeLessThanOrEqual(POOL_MAX);
    for (const a of failed) expect([a.status, a.code]).toEqual([503, 'DATABASE_UNAVAILABLE']);
    expect(gateway.child.exitCode).toBeNull();
  }, 60_000);

  it('database restarted (pg_ctl restart -m fast) under writes: recovers by itself', async () => {
    const pid = gateway.child.pid;
    await until('the writer is writing', () => acknowledged('terminated') >= 6, 10_000);
    phase = 'restarting';
    await cluster.restart();
    phase = 'restarted';
    await until('the writer places orders after the restart', () => acknowledged('restarted') >= 5);
    await until('/ready is 200 after the restart', async () => (await ready()) === 200);
    expect(await readSucceeds()).toBe(true);
    expect(gateway.child.exitCode).toBeNull();
    expect(gateway.child.pid).toBe(pid);
  }, 60_000);

  it('every acknowledged order is in the database; every failure was DATABASE_UNAVAILABLE within the bound', async () => {
    await writer!.stop();
    writer = undefined;
    const summary = JSON.stringify(
      [...new Set(attempts.map((a) => a.phase))].map((p) => ({
        phase: p,
        sent: inPhase(p).length,
        acknowledged: acknowledged(p),
        answers: [...new Set(inPhase(p).map((a) => `${a.status} ${a.code ?? 'order'}`))],
        maxMs: Math.max(...inPhase(p).map((a) => a.ms)),
      })),
    );
    for (const p of UP_PHASES) expect(acknowledged(p), `orders acknowledged while ${p}: ${summary}`).toBeGreaterThan(0);

    // Every answer: an order, or DATABASE_UNAVAILABLE (503) without internals, in time; none hung.
    const failures = attempts.filter((a) => !a.id);
    expect(new Set(failures.map((a) => `${a.status} ${a.code}`)), summary).toEqual(
      new Set(failures.length ? ['503 DATABASE_UNAVAILABLE'] : []),
    );
    for (const a of failures) expectNoInternals(a.body);
    const slow = attempts.filter((a) => a.ms >= ANSWER_BOUND_MS);
    expect(slow.map((a) => ({ phase: a.phase, key: a.key, ms: a.ms, code: a.code }))).toEqual([]);

    const stored = await cluster.sql<{ id: string; idempotency_key: string }>(
      'SELECT id::text AS id, idempotency_key FROM orders WHERE user_id = $1::int8',
      [userId],
    );
    const storedByKey = new Map(stored.map((r) => [r.idempotency_key, r.id]));
    const acked = attempts.filter((a) => a.id);
    expect(acked.length).toBeGreaterThan(0);
    const lost = acked.filter((a) => storedByKey.get(a.key) !== fromGlobalId(a.id!).id);
    expect(lost.map((a) => ({ key: a.key, id: a.id, phase: a.phase }))).toEqual([]);
    for (const a of acked) expect(fromGlobalId(a.id!).type).toBe('Order');
    // Stored but never acknowledged: only orders whose request failed mid-flight.
    const byKey = new Map(attempts.map((a) => [a.key, a]));
    const unacked = stored.filter((r) => !byKey.get(r.idempotency_key)?.id);
    for (const r of unacked) expect(byKey.get(r.idempotency_key)?.code).toBe('DATABASE_UNAVAILABLE');
    expect(gateway.child.exitCode).toBeNull();
  }, 30_000);
});
