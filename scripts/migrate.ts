/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded database in DATA_DIR). */
import { loadConfig } from '../src/config.ts';
import { startEmbeddedPostgres } from '../src/db/embedded.ts';
import { migrate } from '../src/db/migrate.ts';

const config = loadConfig();
const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir);
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
