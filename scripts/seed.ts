/**
 * `npm run seed -- --restaurants N --users N --orders N [--batch-size N] [--seed S]`:
 * migrates, then adds deterministic synthetic data to DATABASE_URL (or the embedded database
 * in DATA_DIR, started and stopped here). A progress bar per table on a terminal, plain lines
 * (at most one per 10 %) otherwise. Exit code 2 for bad arguments, 1 when seeding fails.
 * Only the demo user has a known password (none with NODE_ENV=production).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { DEMO_EMAIL, DEMO_PASSWORD } from '../src/db/demo-account.ts';
import { startEmbeddedPostgres } from '../src/db/embedded.ts';
import { migrate } from '../src/db/migrate.ts';
import { createDb } from '../src/db/pool.ts';
import { seedDatabase } from '../src/db/seed.ts';
import { embedRestaurants } from '../src/ml/backfill.ts';
import { createMl } from '../src/ml/service.ts';
import { createLogger } from '../src/observability/logger.ts';

const USAGE =
  'usage: npm run seed -- [--restaurants N] [--users N] [--orders N] [--batch-size N] [--seed S]\n' +
  '  defaults: 200 restaurants, 50 users, 2000 orders, batch size 1000 (1–10000), seed 42';

const DEFAULTS = { restaurants: 200, users: 50, orders: 2000, 'batch-size': 1000, seed: 42 } as const;
type Flag = keyof typeof DEFAULTS;

function fail(message: string): never {
  process.stderr.write(`seed: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parse(argv: string[]) {
  let values: Partial<Record<Flag | 'help', string | boolean>>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        restaurants: { type: 'string' },
        users: { type: 'string' },
        orders: { type: 'string' },
        'batch-size': { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const int = (flag: Flag): number => {
    const raw = values[flag];
    if (raw === undefined) return DEFAULTS[flag];
    // Digits only: rejects "-1", "1.5", "1e3", "" and "0x10", which Number() would accept.
    if (typeof raw !== 'string' || !/^\d+$/.test(raw.trim()))
      fail(`--${flag} must be a non-negative integer, got "${raw}"`);
    const n = Number(raw);
    if (!Number.isSafeInteger(n)) fail(`--${flag} is too large: ${raw}`);
    return n;
  };
  const opts = {
    restaurants: int('restaurants'),
    users: int('users'),
    orders: int('orders'),
    batchSize: int('batch-size'),
    seed: int('seed'),
  };
  if (opts.batchSize < 1 || opts.batchSize > 10_000)
    fail(`--batch-size must be from 1 to 10000, got ${opts.batchSize}`);
  if (opts.orders > 0 && (opts.restaurants === 0 || opts.users === 0)) {
    fail('--orders needs at least one restaurant and one user');
  }
  return opts;
}

/** Draws progress: a redrawn bar per table on a TTY, otherwise a line per 10 % step. */
function progressReporter(tty: boolean) {
  const out = process.stderr;
  let table = '';
  // Progress arrives after each batch, so a table's clock starts when the previous one ended.
  let lastEvent = performance.now();
  let tableStart = lastEvent;
  let lastStep = -1;
  return (p: { table: string; done: number; total: number }) => {
    if (p.table !== table) {
      table = p.table;
      tableStart = lastEvent;
      lastStep = -1;
    }
    lastEvent = performance.now();
    const fraction = p.total ? p.done / p.total : 1;
    const seconds = (performance.now() - tableStart) / 1000;
    const rate = seconds > 0 ? Math.round(p.done / seconds) : 0;
    const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
    if (tty) {
      const width = 30;
      const filled = Math.round(fraction * width);
      const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
      out.write(`\r${p.table.padEnd(11)} [${bar}] ${p.done}/${p.total} ${pct}  ${rate} rows/s\x1b[K`);
      if (p.done >= p.total) out.write('\n');
      return;
    }
    const step = Math.floor(fraction * 10);
    if (step > lastStep) {
      lastStep = step;
      out.write(`seed: ${p.table} ${p.done}/${p.total} ${pct.trim()} (${rate} rows/s)\n`);
    }
  };
}

const opts = parse(process.argv.slice(2));
const config = loadConfig();
const started = performance.now();
const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir);
try {
  const url = config.databaseUrl ?? embedded!.url;
  await migrate(url, (line) => process.stderr.write(`${line}\n`));
  // Each committed batch of restaurants is embedded and written before the next (memory: one batch).
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const db = await createDb({ url, ...config.db, poolMax: 2 }, log);
  const ml = await createMl(db, { ...config.ml, vectorIndex: 'auto', syncMs: 0 }, log);
  let counts: Awaited<ReturnType<typeof seedDatabase>>;
  try {
    counts = await seedDatabase(url, {
      ...opts,
      // Production: no account with the published demo password.
      demoLogin: !config.production,
      onProgress: progressReporter(Boolean(process.stderr.isTTY)),
      onRestaurantBatch: (rows) =>
        embedRestaurants(
          db,
          ml.embedder,
          ml.embeddingType,
          rows.map((r) => ({ ...r, cuisine_type: r.cuisineType })),
        ),
    });
  } finally {
    await ml.close();
    await db.end();
  }
  const elapsed = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `seed: ${counts.restaurants} restaurants, ${counts.users} users, ${counts.orders} orders ` +
      `(seed ${opts.seed}, batch size ${opts.batchSize}) in ${elapsed} s\n` +
      (counts.users === 0
        ? ''
        : config.production
          ? 'seed: no seeded account has a known password (NODE_ENV=production)\n'
          : `seed: ${DEMO_EMAIL} / ${DEMO_PASSWORD} signs in; the other seeded users have unknowable passwords\n`),
  );
} catch (error) {
  process.stderr.write(`\nseed failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await embedded?.stop();
}
