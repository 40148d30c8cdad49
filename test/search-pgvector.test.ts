/**
 * searchRestaurants with the pgvector backend (PGlite with pgvector and pg_trgm, over the wire
 * protocol): the same targets as test/search.test.ts on a smaller seed, and two statements per
 * search (lexical ranking, nearest vectors), whatever `first`.
 *
 * Under CI=true a PGlite that does not start fails the file; elsewhere its tests skip.
 */
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { z } from 'zod';
import { BytesCache } from '../src/cache/bytes-cache.ts';
import { TieredCache } from '../src/cache/tiered-cache.ts';
import { migrate } from '../src/db/migrate.ts';
import { createDb, type Db } from '../src/db/pool.ts';
import { CUISINES } from '../src/db/seed/vocabulary.ts';
import { seedDatabase } from '../src/db/seed.ts';
import { backfillEmbeddings } from '../src/ml/backfill.ts';
import { createMl, type Ml } from '../src/ml/service.ts';
import { createLogger } from '../src/observability/logger.ts';
import { type SearchDeps, searchRestaurants } from '../src/recommend/search.ts';
import { TEST_ML_OPTIONS } from './helpers/app.ts';
import { PGLITE_POOL_OPTIONS, type Pglite, startPglite } from './helpers/pglite-server.ts';
import { startWireCounter, type WireCounter } from './helpers/wire-counter.ts';

const IN_CI = process.env.CI === 'true';
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

let pglite: Pglite | undefined;
let wire: WireCounter | undefined;
let db: Db | undefined;
let ml: Ml | undefined;
let cache: TieredCache | undefined;
let skipReason = '';
const cuisineOf = new Map<string, string>();

beforeAll(async () => {
  try {
    pglite = await startPglite();
  } catch (error) {
    if (IN_CI) throw error;
    skipReason = `PGlite did not start: ${(error as Error).message}`;
    console.warn(`[skip] search on pgvector: ${skipReason}`);
    return;
  }
  await migrate(pglite.url);
  await seedDatabase(pglite.url, { restaurants: 600, users: 1, orders: 0, batchSize: 600, seed: 11 });
  wire = await startWireCounter(pglite.url);
  db = await createDb(
    {
      url: wire.url,
      ...PGLITE_POOL_OPTIONS,
      poolMax: 4,
      poolTimeoutMs: 10_000,
      statementTimeoutMs: 10_000,
      idleTimeoutMs: 60_000,
      maxConnectionAgeMs: 1_800_000,
      maxWaiting: 100,
      slowQueryMs: 10_000,
    },
    log,
  );
  ml = await createMl(db, { ...TEST_ML_OPTIONS, vectorIndex: 'pgvector' }, log);
  await backfillEmbeddings(db, ml.embedder, ml.embeddingType, { batchSize: 200 });
  cache = new TieredCache(new BytesCache({ maxBytes: 2 ** 20, ttlMs: 3_600_000 }), undefined, 3_600_000, log);
  for (const r of await db.any(sql.type(z.object({ id: z.string(), cuisine_type: z.string() }))`
    SELECT id, cuisine_type FROM restaurants`)) {
    cuisineOf.set(r.id, r.cuisine_type);
  }
}, 180_000);

afterAll(async () => {
  await cache?.close();
  await ml?.close();
  await db?.end();
  await wire?.close();
  await pglite?.stop();
});

function need(ctx: TestContext): SearchDeps {
  if (!db || !ml) ctx.skip(skipReason || 'PGlite is not running');
  return { db: db!, ml: ml!, cache };
}

describe('searchRestaurants on pgvector', () => {
  it('uses the pgvector backend', (ctx) => {
    expect(need(ctx).ml.index.kind).toBe('pgvector');
  });

  it('"<cuisine> food": at least 4 of 5; a misspelt cuisine: at least 3 of 5', async (ctx) => {
    const deps = need(ctx);
    for (const cuisine of CUISINES) {
      const top = await searchRestaurants(deps, `${cuisine} food`, 5);
      expect(top.filter((m) => cuisineOf.get(m.id) === cuisine).length, cuisine).toBeGreaterThanOrEqual(4);
      const typo = cuisine.slice(0, 2) + cuisine.slice(3);
      const fuzzy = await searchRestaurants(deps, `${typo} food`, 5);
      expect(fuzzy.filter((m) => cuisineOf.get(m.id) === cuisine).length, typo).toBeGreaterThanOrEqual(3);
    }
  });

  it('two statements per search, the same for first: 5 and 50', async (ctx) => {
    const deps = need(ctx);
    await searchRestaurants(deps, 'warm-up', 5);
    await wire!.settle();
    for (const first of [5, 50]) {
      wire!.reset();
      const top = await searchRestaurants(deps, 'spicy noodles', first);
      await wire!.settle();
      expect(top.length).toBe(first);
      expect(wire!.statements.map((s) => s.sql.match(/\/\* (\w+) \*\//)?.[1]).sort()).toEqual([
        'lexicalSearch',
        'nearestRestaurants',
      ]);
    }
  });
});
