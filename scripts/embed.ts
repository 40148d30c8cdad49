/**
 * `npm run embed [-- --batch-size N]`: embeds every restaurant whose embedding is missing
 * or was made by another model (MODEL_PATH, or the offline encoder when unset), in
 * batches with one commit each, printing progress. Safe to stop and run again.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { startEmbeddedPostgres } from '../src/db/embedded.ts';
import { migrate } from '../src/db/migrate.ts';
import { createDb } from '../src/db/pool.ts';
import { backfillEmbeddings } from '../src/ml/backfill.ts';
import { createMl } from '../src/ml/service.ts';
import { createLogger } from '../src/observability/logger.ts';

let batchSize = 256;
try {
  const { values } = parseArgs({ options: { 'batch-size': { type: 'string' } }, strict: true });
  if (values['batch-size'] !== undefined) batchSize = Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
    throw new Error('--batch-size must be 1–10000');
} catch (error) {
  process.stderr.write(`embed: ${(error as Error).message}\nusage: npm run embed -- [--batch-size N]\n`);
  process.exit(2);
}

const config = loadConfig();
const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir);
const started = performance.now();
try {
  const url = config.databaseUrl ?? embedded!.url;
  await migrate(url, (line) => process.stderr.write(`${line}\n`));
  const db = await createDb({ url, ...config.db, poolMax: 2 }, log);
  const ml = await createMl(db, { ...config.ml, vectorIndex: 'auto', syncMs: 0 }, log);
  try {
    const done = await backfillEmbeddings(db, ml.embedder, ml.embeddingType, {
      batchSize,
      onProgress: ({ done, total }) => {
        const rate = Math.round(done / ((performance.now() - started) / 1000));
        process.stderr.write(`embed: ${done}/${total} (${rate} restaurants/s)\n`);
      },
    });
    process.stdout.write(
      `embed: ${done} restaurants embedded with ${ml.embedder.modelId} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );
  } finally {
    await ml.close();
    await db.end();
  }
} catch (error) {
  process.stderr.write(`embed failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await embedded?.stop();
}
