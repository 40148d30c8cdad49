/**
 * The benchmarks' data, built as outside them: a scratch database migrated by the production release
 * command (`NODE_ENV=production DATABASE_URL=… node dist/migrate.js`, so `buildProduction()` first), seeded
 * by src/db/seed.ts, every restaurant embedded with the built-in offline encoder (the one the gateway uses
 * without MODEL_PATH, so its start-up backfill finds nothing to do and takes no CPU from the load runs),
 * then VACUUM (ANALYZE) and CHECKPOINT (else autovacuum and a checkpoint land in the first load runs).
 */
import pg from 'pg';
import { DEMO_EMAIL } from '../src/db/demo-account.ts';
import { createDb } from '../src/db/pool.ts';
import { seedDatabase } from '../src/db/seed.ts';
import { backfillEmbeddings } from '../src/ml/backfill.ts';
import { createMl } from '../src/ml/service.ts';
import { createLogger } from '../src/observability/logger.ts';
import { createScratchDatabase, migrateProduction, type ScratchDatabase } from './common.ts';

export type Sizes = { restaurants: number; users: number; orders: number };

/** A flag's whole number (`fallback` when absent). @throws below `min` or not a whole number */
export function wholeNumberFlag(name: string, value: string | undefined, fallback: number, min: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected a whole number ≥ ${min}, got ${value}`);
  return n;
}

/** The data sizes of --restaurants/--users/--orders: 10,000 / 10,000 / 200,000, or a tenth of each with --quick. */
export function sizesFromFlags(flags: {
  quick?: boolean;
  restaurants?: string;
  users?: string;
  orders?: string;
}): Sizes {
  return {
    restaurants: wholeNumberFlag('restaurants', flags.restaurants, flags.quick ? 1_000 : 10_000, 1),
    users: wholeNumberFlag('users', flags.users, flags.quick ? 1_000 : 10_000, 1),
    orders: wholeNumberFlag('orders', flags.orders, flags.quick ? 20_000 : 200_000, 50),
  };
}
export type PreparedData = {
  scratch: ScratchDatabase;
  pgVersion: string;
  /**
   * The `me` of the authenticated queries: a typical user with a full page, the one with the fewest
   * orders above 50 (ties by id). Not the seed's demo user: it holds ~6 % of all orders (11,909 of
   * 200,000), where PostGraphile's nested-connection SQL costs PostgreSQL ~45 ms per request and its
   * req/s would say nothing about the servers.
   */
  q2UserId: string;
  embedded: number;
  model: string;
  embeddingType: string;
};

const say = (s: string) => process.stderr.write(`${s}\n`);

/** Creates `<prefix>_<ms>` (dropped by cleanup()) and fills it (see the header). */
export async function prepareScratchData(prefix: string, sizes: Sizes): Promise<PreparedData> {
  const scratch = await createScratchDatabase(prefix);
  migrateProduction(scratch.url);
  say(`seeding ${scratch.name}: ${sizes.restaurants} restaurants, ${sizes.users} users, ${sizes.orders} orders…`);
  let lastLine = '';
  await seedDatabase(scratch.url, {
    ...sizes,
    batchSize: 2_000,
    seed: 42,
    onProgress: ({ table, done, total }) => {
      const line = `  ${table} ${Math.floor((done / total) * 10) * 10}%`;
      if (line !== lastLine) say(line);
      lastLine = line;
    },
  });
  say('embedding the restaurants with the offline encoder (no model loaded)…');
  const log = createLogger('warn');
  const db = await createDb(
    {
      url: scratch.url,
      poolMax: 2,
      poolTimeoutMs: 10_000,
      statementTimeoutMs: 120_000,
      idleTimeoutMs: 60_000,
      maxConnectionAgeMs: 1_800_000,
      maxWaiting: 100,
      slowQueryMs: 120_000,
    },
    log,
  );
  let embedded: number;
  let model: string;
  let embeddingType: string;
  try {
    const ml = await createMl(
      db,
      { modelPath: undefined, batchSize: 64, threads: 1, idleMs: 600_000, vectorIndex: 'memory', syncMs: 0 },
      log,
    );
    try {
      embedded = await backfillEmbeddings(db, ml.embedder, ml.embeddingType, { batchSize: 1_000 });
      model = ml.embedder.modelId;
      embeddingType = ml.embeddingType;
    } finally {
      await ml.close();
    }
  } finally {
    await db.end();
  }
  const c = new pg.Client({ connectionString: scratch.url });
  await c.connect();
  try {
    say('VACUUM (ANALYZE), CHECKPOINT…');
    await c.query('VACUUM (ANALYZE)');
    await c.query('CHECKPOINT').catch((e: Error) => say(`  (no CHECKPOINT: ${e.message})`));
    const pgVersion = (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?';
    const typical = (
      await c.query<{ id: string; n: number }>(
        `SELECT user_id::text AS id, count(*)::int AS n FROM orders WHERE user_id <> (SELECT id FROM users WHERE email = $1)
         GROUP BY user_id HAVING count(*) > 50 ORDER BY count(*), user_id LIMIT 1`,
        [DEMO_EMAIL],
      )
    ).rows[0];
    if (!typical) throw new Error('no user has more than 50 orders: seed more orders (--orders)');
    say(`  ${embedded} restaurants embedded (${model}); Q2 asks for user ${typical.id} (${typical.n} orders)`);
    return { scratch, pgVersion, q2UserId: typical.id, embedded, model, embeddingType };
  } finally {
    await c.end();
  }
}
