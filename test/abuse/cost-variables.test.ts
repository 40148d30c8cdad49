/**
 * Cost is priced on the values the resolvers will see: variables coerced with the
 * operation's defaults, `null` and omitted `first` as the field's default, a value that
 * does not coerce at MAX_PAGE_SIZE. Against a real gateway process (production, the
 * Dockerfile's 448 MB heap) over a database of a few hundred restaurants, every statement
 * counted at the wire: each refusal runs no SQL and the process answers afterwards.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_JWT_SECRET } from '../helpers/app.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { insertRestaurants } from '../helpers/fixtures.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';
import { startWireCounter, type WireCounter } from '../helpers/wire-counter.ts';

const RESTAURANTS = 300;
/** A document whose defaults size its pages: with no variables it used to be priced as if every page were 1. */
const ISSUE = `query Q($f: Int = 100, $g: Int = 20) {
  restaurants(first: $f) { edges { node { similar(first: $g) { similar(first: $g) { name } } } } }
}`;
/** restaurants (1) + edges (r) + node (r) + similar (r × 21) + similar (r·s × 21) + name (r·s·s). */
const price = (r: number, s: number) => 1 + r + r + r * 21 + r * s * 21 + r * s * s;

type ErrorBody = { message: string; extensions?: Record<string, unknown> };
type Data = { restaurants?: { edges: unknown[] }; cuisines?: string[]; __typename?: string };
type Body = { data?: Data | null; errors?: ErrorBody[] };

let db: TestDatabase;
let wire: WireCounter;
let gateway: GatewayProcess;

beforeAll(async () => {
  db = await freshDatabase();
  await insertRestaurants(db, RESTAURANTS);
  wire = await startWireCounter(db.url);
  gateway = await startGateway(
    {
      NODE_ENV: 'production',
      JWT_SECRET: TEST_JWT_SECRET,
      DATABASE_URL: wire.url,
      SEED_ON_FIRST_START: 'false',
      VECTOR_SYNC_MS: '0',
      // The heavy lane: one at a time, two waiting (MAX_HEAVY_REQUESTS × 2), for as long as the test needs.
      HEAVY_COST: '400',
      MAX_HEAVY_REQUESTS: '1',
      QUEUE_TIMEOUT_MS: '20000',
    },
    { nodeArgs: ['--max-old-space-size=448'] },
  );
  // The start-up backfill embeds every restaurant; the refusals are counted once it is done.
  for (let i = 0; i < 300; i++) {
    const [row] = await db.sql<{ n: string }>('SELECT count(*) AS n FROM restaurants WHERE embedding_model IS NULL');
    if (Number(row?.n) === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await wire.settle(200);
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  await wire?.close();
  await db?.drop();
});

async function post(body: unknown): Promise<{ status: number; body: Body & Body[] }> {
  const r = await fetch(`${gateway.base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Body & Body[] };
}

/** Sends the document and expects COST_LIMIT_EXCEEDED at `cost`, with no statement at the wire. */
async function expectRefused(query: string, variables: Record<string, unknown> | undefined, cost: number) {
  await wire.settle();
  wire.reset();
  const r = await post({ query, variables });
  expect(r.status, JSON.stringify(r.body)).toBe(400);
  expect(r.body.data ?? undefined).toBeUndefined();
  expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: 'COST_LIMIT_EXCEEDED', cost, limit: 5000 });
  await wire.settle();
  expect(wire.statements).toHaveLength(0);
}

async function stillServes() {
  const r = await post({ query: '{ cuisines }' });
  expect(r.status).toBe(200);
  expect(r.body.data?.cuisines?.length).toBeGreaterThan(0);
  expect(gateway.child.exitCode).toBeNull();
}

describe('a document whose page sizes are variable defaults', () => {
  it('is refused with no variables, priced with the defaults (100 restaurants × 20 × 20)', async () => {
    await expectRefused(ISSUE, undefined, price(100, 20));
    await expectRefused(ISSUE, {}, price(100, 20));
    await stillServes();
  });

  it('is refused at the same price with the same values given explicitly', async () => {
    await expectRefused(ISSUE, { f: 100, g: 20 }, price(100, 20));
    await stillServes();
  });

  it('prices {"f": null} as the field default (restaurants: 20), still refused', async () => {
    await expectRefused(ISSUE, { f: null }, price(20, 20));
    await stillServes();
  });

  it('prices a literal `first: null` as the field default, still refused', async () => {
    const literal = ISSUE.replace('restaurants(first: $f)', 'restaurants(first: null)').replace('$f: Int = 100, ', '');
    await expectRefused(literal, undefined, price(20, 20));
    await stillServes();
  });

  it('prices a variable that does not coerce at MAX_PAGE_SIZE', async () => {
    await expectRefused(ISSUE, { f: 'lots', g: 20 }, price(100, 20));
    await stillServes();
  });

  it('one level deeper is refused too; the process did not crash and answers', async () => {
    const deeper = ISSUE.replace('{ name }', '{ similar(first: $g) { name } }');
    await wire.settle();
    wire.reset();
    const r = await post({ query: deeper });
    expect(r.status).toBe(400);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('COST_LIMIT_EXCEEDED');
    expect(wire.statements).toHaveLength(0);
    await stillServes();
  });
});

describe('default-valued variables elsewhere', () => {
  const NESTED = `query N($g: Int = 20) {
    restaurants(first: 10) { edges { node { similar(first: $g) { similar(first: $g) { name } } } } }
  }`;

  it('prices a default used in a nested `first` (10 × 20 × 20 refused; 10 × 2 × 2 runs)', async () => {
    await expectRefused(NESTED, undefined, price(10, 20));
    const small = await post({ query: NESTED, variables: { g: 2 } });
    expect(small.status).toBe(200);
    expect(small.body.errors).toBeUndefined();
    expect(small.body.data?.restaurants?.edges).toHaveLength(10);
    await stillServes();
  });

  it('prices variables used inside fragments', async () => {
    const fragments = `query F($f: Int = 100) { restaurants(first: $f) { edges { ...Edge } } }
      fragment Edge on RestaurantEdge { node { ... on Restaurant { similar(first: $f) { name } } } }`;
    // restaurants 1 + edges 100 + node 100 + similar 100 × 21 + name 100 × 100
    await expectRefused(fragments, undefined, 1 + 100 + 100 + 2100 + 10_000);
    await stillServes();
  });

  it('the resolvers see the same values the price was computed on (graphql-jit included)', async () => {
    const feed = 'query P($f: Int = 37) { restaurants(first: $f) { edges { node { name } } } }';
    const byDefault = await post({ query: feed });
    expect(byDefault.body.data?.restaurants?.edges).toHaveLength(37);
    const byNull = await post({ query: feed, variables: { f: null } });
    expect(byNull.body.data?.restaurants?.edges).toHaveLength(20); // the field default
  });
});

describe('the heavy lane (HEAVY_COST 400, one at a time, two waiting)', () => {
  /** 1 + 100 + 100 + 100 × 3 = 501 with the default; it would be 6 on the raw (absent) variables. */
  const HEAVY = 'query H($f: Int = 100) { restaurants(first: $f) { edges { node { name cuisineType rating } } } }';

  it('prices a default-valued operation the same: the fourth of a batch is refused with that cost', async () => {
    // Holds the first operation in PostgreSQL, so the lane stays full while the batch arrives.
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE restaurants IN ACCESS EXCLUSIVE MODE');
    try {
      const pending = post(Array.from({ length: 4 }, () => ({ query: HEAVY })));
      for (let i = 0; i < 200; i++) {
        const [row] = await db.sql<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (Number(row?.n) >= 1) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      // The other three reach the lane without I/O of their own; a moment of slack on a busy machine.
      await new Promise((r) => setTimeout(r, 200));
      await locker.query('COMMIT');
      const r = await pending;
      expect(r.status).toBe(200);
      const refused = r.body.filter((op) => op.errors);
      expect(refused).toHaveLength(1);
      expect(refused[0]?.errors?.[0]?.extensions).toMatchObject({ code: 'OVERLOADED', reason: 'heavy', cost: 501 });
      const ran = r.body.filter((op) => op.data);
      expect(ran).toHaveLength(3);
      for (const op of ran) expect(op.data?.restaurants?.edges).toHaveLength(100);
    } finally {
      await locker.end();
    }
    await stillServes();
  });
});
