/**
 * The pgvector paths on PGlite (PostgreSQL 18 in WASM, with pgvector), served over the wire
 * protocol by a child process (helpers/pglite-server.ts): the machine's PostgreSQL has no
 * pgvector, so the migration's `vector(384)` branch, the HNSW index and `<=>` are tested here.
 *
 * PGlite is one PostgreSQL session shared by every client connection: advisory locks,
 * `SET` and startup parameters (statement_timeout) do not behave as on a server, so this
 * file tests neither migration concurrency nor timeouts.
 *
 * Under CI=true a PGlite that does not start fails the file; elsewhere its tests skip with
 * the reason printed.
 */
import pg from 'pg';
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { z } from 'zod';
import { listMigrations, migrate } from '../src/db/migrate.ts';
import { createDb, type Db } from '../src/db/pool.ts';
import { createLogger } from '../src/observability/logger.ts';
import { prng } from '../src/random.ts';
import { PGLITE_POOL_OPTIONS, type Pglite, startPglite } from './helpers/pglite-server.ts';

const IN_CI = process.env.CI === 'true';
const DIMS = 384;
const ROWS = 300;
const QUERIES = 10;
const K = 10;

let pglite: Pglite | undefined;
let client: pg.Client | undefined;
let db: Db | undefined;
let skipReason = '';

beforeAll(async () => {
  try {
    pglite = await startPglite();
    client = new pg.Client({ connectionString: pglite.url });
    await client.connect();
  } catch (error) {
    if (IN_CI) throw error;
    skipReason = `PGlite did not start: ${(error as Error).message}`;
    console.warn(`[skip] pgvector tests: ${skipReason}`);
    await pglite?.stop();
    pglite = undefined;
  }
}, 120_000);

afterAll(async () => {
  await db?.end();
  await client?.end().catch(() => {});
  await pglite?.stop();
});

/** The running server and a client on it, or the test is skipped (never outside CI's knowledge: see beforeAll). */
function need(ctx: TestContext): { pglite: Pglite; client: pg.Client } {
  if (!pglite || !client) ctx.skip(skipReason || 'PGlite is not running');
  return { pglite: pglite!, client: client! };
}

async function rows<R extends pg.QueryResultRow>(c: pg.Client, text: string, values?: unknown[]): Promise<R[]> {
  return (await c.query<R>(text, values)).rows;
}

// --- vectors ---

/** A random direction (normal coordinates, normalised), rounded to float4 as pgvector stores it. */
function unitVector(random: () => number): Float32Array {
  const v = new Float64Array(DIMS);
  let norm = 0;
  for (let i = 0; i < DIMS; i++) {
    const g = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    v[i] = g;
    norm += g * g;
  }
  norm = Math.sqrt(norm);
  return Float32Array.from(v, (x) => x / norm);
}

/** pgvector's text form; 9 significant digits give back the same float4. */
const literal = (v: Float32Array) => `[${Array.from(v, (x) => x.toPrecision(9)).join(',')}]`;

function cosineDistance(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return 1 - dot / Math.sqrt(na * nb);
}

/** Ids (1-based, as inserted) of the k rows nearest `q` by cosine distance: the exact answer. */
function exactTopK(data: Float32Array[], q: Float32Array, k: number): string[] {
  return data
    .map((v, i) => ({ id: String(i + 1), d: cosineDistance(v, q) }))
    .sort((x, y) => x.d - y.d)
    .slice(0, k)
    .map((x) => x.id);
}

const overlap = (got: readonly string[], want: readonly string[]) =>
  got.filter((id) => want.includes(id)).length / want.length;

const NearestRow = z.object({ id: z.string() });

/**
 * The gateway's query shape (src/db/queries/embeddings.ts selectNearest), through the gateway's pool.
 * On a few hundred rows the planner rightly prefers an exact Seq Scan + Sort; `enable_seqscan = off`
 * (for this transaction only) makes it use the HNSW index, whose answers are measured here.
 */
async function nearestByIndex(pool: Db, q: Float32Array, k: number, efSearch?: number): Promise<string[]> {
  const found = await pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`SET LOCAL enable_seqscan = off`);
    if (efSearch) await tx.query(sql.unsafe`SELECT set_config('hnsw.ef_search', ${String(efSearch)}, true)`);
    return tx.any(
      sql.type(NearestRow)`SELECT id FROM restaurants ORDER BY embedding <=> ${literal(q)}::vector LIMIT ${k}`,
    );
  });
  return found.map((r) => r.id);
}

/** EXPLAIN of the nearest-rows query; with `indexOnly`, under `enable_seqscan = off` as above. */
async function planOf(c: pg.Client, q: Float32Array, indexOnly: boolean): Promise<string> {
  await c.query('BEGIN');
  try {
    if (indexOnly) await c.query('SET LOCAL enable_seqscan = off');
    const plan = await rows<{ 'QUERY PLAN': string }>(
      c,
      `EXPLAIN SELECT id FROM restaurants ORDER BY embedding <=> $1::vector LIMIT ${K}`,
      [literal(q)],
    );
    return plan.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await c.query('COMMIT');
  }
}

describe('pgvector on PGlite', () => {
  const random = prng(20_240_601);
  const data = Array.from({ length: ROWS }, () => unitVector(random));
  const queries = Array.from({ length: QUERIES }, () => unitVector(random));

  it('runs every migration, taking the pgvector branch (vector(384), HNSW index)', async (ctx) => {
    const { pglite, client } = need(ctx);
    const started = performance.now();
    const result = await migrate(pglite.url);
    const migrateMs = performance.now() - started;
    console.log(
      `pgvector: PGlite startup ${Math.round(pglite.startupMs)} ms, migrations ${Math.round(migrateMs)} ms ` +
        `(${result.applied.join(', ')})`,
    );

    const versions = (await listMigrations()).map((m) => m.version);
    expect(result).toEqual({ applied: versions, current: versions.at(-1) });
    const recorded = await rows<{ version: string }>(client, 'SELECT version FROM schema_migrations ORDER BY version');
    expect(recorded.map((r) => r.version)).toEqual(versions);

    const types = await rows<{ table: string; column: string; type: string }>(
      client,
      `SELECT attrelid::regclass::text AS table, attname AS column, format_type(atttypid, atttypmod) AS type
       FROM pg_attribute
       WHERE (attrelid, attname) IN (('restaurants'::regclass, 'embedding'), ('user_preferences'::regclass, 'preference_embedding'))
       ORDER BY 1`,
    );
    expect(types).toEqual([
      { table: 'restaurants', column: 'embedding', type: 'vector(384)' },
      { table: 'user_preferences', column: 'preference_embedding', type: 'vector(384)' },
    ]);
    const [index] = await rows<{ indexdef: string }>(
      client,
      `SELECT indexdef FROM pg_indexes WHERE indexname = 'restaurants_embedding_hnsw_idx'`,
    );
    expect(index?.indexdef).toMatch(/USING hnsw \(embedding vector_cosine_ops\)$/);

    // Applied once: a second run applies nothing and finds every checksum unchanged.
    expect(await migrate(pglite.url)).toEqual({ applied: [], current: versions.at(-1) });
  });

  it("connects the gateway's pool through the socket; 8 concurrent queries over 4 connections", async (ctx) => {
    const { pglite, client } = need(ctx);
    // The options of test/helpers/app.ts.
    db = await createDb(
      {
        url: pglite.url,
        ...PGLITE_POOL_OPTIONS,
        poolMax: 4,
        poolTimeoutMs: 5_000,
        statementTimeoutMs: 5_000,
        idleTimeoutMs: 60_000,
        maxConnectionAgeMs: 1_800_000,
        maxWaiting: 100,
        slowQueryMs: 10_000,
      },
      createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    );
    expect(await db.oneFirst(sql.type(z.object({ x: z.number() }))`SELECT 1 AS x`)).toBe(1);

    // Each query its own parameters and answer: statements mixed up between connections
    // (PGlite multiplexes them onto one session) would return another query's row.
    const Row = z.object({ n: z.number(), label: z.string(), count: z.number() });
    const pool = db;
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, n) =>
        pool.one(
          sql.type(Row)`SELECT ${n}::int AS n, ${`query ${n}`}::text AS label, count(*)::int AS count
            FROM generate_series(1, ${(n + 1) * 1000}::int)`,
        ),
      ),
    );
    expect(answers).toEqual(Array.from({ length: 8 }, (_, n) => ({ n, label: `query ${n}`, count: (n + 1) * 1000 })));
    expect(db.state()).toMatchObject({ active: 0, waiting: 0 });
    expect(db.state().connections).toBeLessThanOrEqual(4);

    // A transaction while other connections read: PGlite holds their statements until COMMIT.
    // Without the exchange guard of pglite-child.ts, reads that began before the BEGIN run
    // against the transaction's statements (wrong rows, no rows, `portal "" does not exist`).
    const [inserted, ...reads] = await Promise.all([
      pool.transaction(async (tx) => {
        await tx.query(sql.unsafe`INSERT INTO restaurants (id, name, cuisine_type) VALUES (1000001, 'tx one', 'test')`);
        await tx.query(sql.unsafe`INSERT INTO restaurants (id, name, cuisine_type) VALUES (1000002, 'tx two', 'test')`);
        return tx.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM restaurants`);
      }),
      ...Array.from({ length: 5 }, (_, n) =>
        pool.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT ${n}::int AS n`),
      ),
    ]);
    expect(inserted).toBe(2);
    expect(reads).toEqual([0, 1, 2, 3, 4]);
    expect(await pool.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM restaurants`)).toBe(
      2,
    );
    await client.query('DELETE FROM restaurants');
  });

  it('refuses a vector of the wrong dimension', async (ctx) => {
    const { client } = need(ctx);
    await expect(
      client.query(`INSERT INTO restaurants (name, cuisine_type, embedding) VALUES ('short', 'test', '[1,2,3]')`),
    ).rejects.toThrow(/expected 384 dimensions, not 3/);
  });

  it('finds the nearest rows with the HNSW index (recall@10 ≥ 0.9 against the exact answer)', async (ctx) => {
    const { client } = need(ctx);
    if (!db) throw new Error('the pool test did not create the pool');
    const pool = db;

    // Inserted rows go into the migration's (empty) HNSW index one by one.
    for (let start = 0; start < ROWS; start += 50) {
      const batch = data.slice(start, start + 50);
      const values = batch.map((_, i) => `($${i * 3 + 1}::bigint, $${i * 3 + 2}, 'test', $${i * 3 + 3}::vector)`);
      await client.query(
        `INSERT INTO restaurants (id, name, cuisine_type, embedding) VALUES ${values.join(', ')}`,
        batch.flatMap((v, i) => [start + i + 1, `restaurant ${start + i + 1}`, literal(v)]),
      );
    }
    await client.query('ANALYZE restaurants');

    const exact = queries.map((q) => exactTopK(data, q, K));

    // The exact answer from PostgreSQL (no index) agrees with the one computed here: the
    // recall below measures the index, not a difference in arithmetic.
    await client.query('BEGIN');
    await client.query('SET LOCAL enable_indexscan = off');
    const scanned: string[][] = [];
    for (const q of queries) {
      const found = await rows<{ id: string }>(
        client,
        `SELECT id::text FROM restaurants ORDER BY embedding <=> $1::vector LIMIT ${K}`,
        [literal(q)],
      );
      scanned.push(found.map((r) => r.id));
    }
    await client.query('COMMIT');
    const scanAgreement = scanned.reduce((sum, got, i) => sum + overlap(got, exact[i]!), 0) / QUERIES;
    expect(scanAgreement).toBeGreaterThanOrEqual(0.99);

    const measure = async (label: string) => {
      expect(await planOf(client, queries[0]!, true)).toMatch(/Index Scan using restaurants_embedding_hnsw_idx/);
      let sum = 0;
      for (const [i, q] of queries.entries()) {
        const got = await nearestByIndex(pool, q, K);
        expect(got).toHaveLength(K);
        sum += overlap(got, exact[i]!);
      }
      const recall = sum / QUERIES;
      console.log(`pgvector: recall@${K} ${recall.toFixed(3)} (${label}; ${ROWS} rows, ${QUERIES} queries)`);
      expect(recall).toBeGreaterThanOrEqual(0.9);
    };
    await measure('index built by inserts');
    // The answers come from the index: an HNSW scan yields at most hnsw.ef_search rows.
    expect(await nearestByIndex(pool, queries[0]!, K, 1)).toHaveLength(1);

    // The same index built in one pass over existing rows.
    await client.query('DROP INDEX restaurants_embedding_hnsw_idx');
    expect(await planOf(client, queries[0]!, true)).not.toMatch(/hnsw/);
    await client.query(
      'CREATE INDEX restaurants_embedding_hnsw_idx ON restaurants USING hnsw (embedding vector_cosine_ops)',
    );
    await measure('index built over existing rows');
  });
});
