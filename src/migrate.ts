/**
 * `npm run migrate` (or `node dist/migrate.js`, the image's release command): applies pending
 * migrations to DATABASE_URL, or to the embedded database in DATA_DIR when it is unset.
 */
import { loadConfig } from './config.ts';
import { migrate } from './db/migrate.ts';

const config = loadConfig();
// In production a missing DATABASE_URL is a mistake, not a request for the embedded database
// (which the image does not even contain).
if (config.production && !config.databaseUrl) {
  console.error('migrate failed: DATABASE_URL is not set');
  process.exit(1);
}
// Imported only when used: the image can leave the embedded PostgreSQL binaries out.
const embedded = config.databaseUrl
  ? undefined
  : await (await import('./db/embedded.ts')).startEmbeddedPostgres(config.dataDir);
try {
  const { applied, current } = await migrate(config.databaseUrl ?? embedded!.url, (line) => console.log(line));
  console.log(
    applied.length ? `migrate: applied ${applied.join(', ')}; now at ${current}` : `migrate: up to date at ${current}`,
  );
} catch (error) {
  console.error(`migrate failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await embedded?.stop();
}
