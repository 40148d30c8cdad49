/**
 * The two vector-index backends agree: on PGlite with pgvector (helpers/pglite-server.ts),
 * restaurants embedded by the gateway's own backfill are searched by the pgvector backend
 * (HNSW) and by the in-process backend streaming the same `vector(384)` column; the HNSW
 * answers must reach recall@10 ≥ 0.9 against the exact in-process ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/db/migrate.ts';
import { createDb, type Db } from '../src/db/pool.ts';
import { backfillEmbeddings } from '../src/ml/backfill.ts';
import { MemoryIndex } from '../src/ml/memory-index.ts';
import { PgvectorIndex } from '../src/ml/pgvector-index.ts';
import { createMl, type Ml } from '../src/ml/service.ts';
import { createLogger } from '../src/observability/logger.ts';
import { TEST_ML_OPTIONS } from './helpers/app.ts';
import { DISHES } from './helpers/catalogue.ts';
import { PGLITE_POOL_OPTIONS, type Pglite, startPglite } from './helpers/pglite-server.ts';

const IN_CI = process.env.CI === 'true';
const log = createLogger('silent');
let pglite: Pglite | undefined;
let db: Db;
let ml: Ml;
let skipReason = '';

/** ~300 restaurants: 6 cuisines × 50, text from the cuisine's dishes in varying combinations. */
async function insertRestaurants(client: Db) {
  const names: string[] = [];
  const cuisines: string[] = [];
  const descriptions: string[] = [];
  for (const [cuisine, dishes] of Object.entries(DISHES)) {
    for (let i = 0; i < 50; i++) {
      names.push(`${cuisine} ${i}`);
      cuisines.push(cuisine);
      descriptions.push(
        `${dishes[i % 8]} and ${dishes[(i * 3 + 1) % 8]}; also ${dishes[(i * 5 + 2) % 8]} (${i % 2 ? 'cosy' : 'busy'} place)`,
      );
    }
  }
  const { sql } = await import('slonik');
  const { z } = await import('zod');
  await client.any(sql.type(z.object({ id: z.string() }))`
    INSERT INTO restaurants (name, cuisine_type, description, rating)
    SELECT n, c, d, 3.5 FROM unnest(${sql.array(names, 'text')}, ${sql.array(cuisines, 'text')},
      ${sql.array(descriptions, 'text')}) AS t(n, c, d) RETURNING id`);
}

beforeAll(async () => {
  try {
    pglite = await startPglite();
  } catch (error) {
    if (IN_CI) throw error;
    skipReason = `PGlite did not start: ${(error as Error).message}`;
    console.warn(`[skip] vector backend tests: ${skipReason}`);
    return;
  }
  await migrate(pglite.url);
  db = await createDb(
    {
      url: pglite.url,
      ...PGLITE_POOL_OPTIONS,
      poolMax: 4,
      poolTimeoutMs: 30_000,
      statementTimeoutMs: 30_000,
      idleTimeoutMs: 60_000,
      maxConnectionAgeMs: 1_800_000,
      maxWaiting: 100,
      slowQueryMs: 60_000,
    },
    log,
  );
  ml = await createMl(db, TEST_ML_OPTIONS, log);
  await insertRestaurants(db);
  await backfillEmbeddings(db, ml.embedder, ml.embeddingType, { batchSize: 100 });
}, 180_000);

afterAll(async () => {
  await ml?.close();
  await db?.end();
  await pglite?.stop();
});

describe.skipIf(!IN_CI && skipReason !== '')('pgvector and in-process backends', () => {
  it('picks pgvector on a vector(384) column', ({ skip }) => {
    if (!pglite) skip(skipReason);
    expect(ml.embeddingType).toBe('vector');
    expect(ml.index.kind).toBe('pgvector');
  });

  it('HNSW reaches recall@10 ≥ 0.9 against the exact in-process search', async ({ skip }) => {
    if (!pglite) skip(skipReason);
    const exact = new MemoryIndex(db, 'vector', ml.embedder.modelId, log, { dims: 384, syncMs: 0 });
    const approx = new PgvectorIndex(db, ml.embedder.modelId, 384);
    await exact.sync();
    expect(exact.stats().size).toBe(300);
    const queries = [
      'sushi and ramen',
      'pizza with mozzarella',
      'tacos and nachos',
      'chicken curry',
      'dim sum',
      'picanha',
    ];
    let found = 0;
    for (const text of queries) {
      const q = await ml.embedder.embedOne(text);
      const truth = new Set((await exact.nearest(q, 10)).map((m) => m.id));
      const got = await approx.nearest(q, 10);
      expect(got).toHaveLength(10);
      found += got.filter((m) => truth.has(m.id)).length;
    }
    const recall = found / (10 * queries.length);
    console.log(`pgvector HNSW recall@10 vs exact: ${recall.toFixed(3)}`);
    expect(recall).toBeGreaterThanOrEqual(0.9);
    exact.close();
  });

  it('similar agrees: each restaurant’s neighbours from one statement match the exact ones', async ({ skip }) => {
    if (!pglite) skip(skipReason);
    const exact = new MemoryIndex(db, 'vector', ml.embedder.modelId, log, { dims: 384, syncMs: 0 });
    const approx = new PgvectorIndex(db, ml.embedder.modelId, 384);
    const ids = (await approx.nearest(await ml.embedder.embedOne('noodles'), 5)).map((m) => m.id);
    const [truth, got] = await Promise.all([exact.similar(ids, 5), approx.similar(ids, 5)]);
    let found = 0;
    for (const id of ids) {
      const t = new Set(truth.get(id)!.map((m) => m.id));
      expect(got.get(id)!.map((m) => m.id)).not.toContain(id);
      found += got.get(id)!.filter((m) => t.has(m.id)).length;
    }
    expect(found / (5 * ids.length)).toBeGreaterThanOrEqual(0.9);
    exact.close();
  });

  it('reads vectors back exactly as written (binary vector_send decoding)', async ({ skip }) => {
    if (!pglite) skip(skipReason);
    const [match] = await ml.index.nearest(await ml.embedder.embedOne('tempura'), 1);
    const v = (await ml.index.vectors([match!.id])).get(match!.id)!;
    expect(v).toHaveLength(384);
    let norm = 0;
    for (const x of v) norm += x * x;
    expect(norm).toBeCloseTo(1, 4);
  });
});
