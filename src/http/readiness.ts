import { latestMigrationVersion } from '../db/migrate.ts';
import type { Db } from '../db/pool.ts';
import { selectCurrentMigration } from '../db/queries/migrations.ts';
import type { ReadinessCheck } from './health.ts';

/** Ready when the database answers and its newest migration is the code's newest. One statement per probe. */
export function createReadinessCheck(db: Db): ReadinessCheck {
  const expected = latestMigrationVersion();
  return async (): ReturnType<ReadinessCheck> => {
    let current: string | null;
    try {
      current = await selectCurrentMigration(db);
    } catch {
      return { ok: false, checks: { database: 'unreachable' } };
    }
    const want = await expected;
    const migrated = current === want;
    return {
      ok: migrated,
      checks: { database: 'ok', migrations: migrated ? 'current' : `at ${current ?? 'none'}, expected ${want}` },
    };
  };
}
