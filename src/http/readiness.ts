import { latestMigrationVersion } from '../db/migrate.ts';
import type { Db } from '../db/pool.ts';
import { selectCurrentMigration } from '../db/queries/migrations.ts';
import type { ReadinessCheck } from './health.ts';

/**
 * Ready when the database answers and its newest migration is the code's newest (one
 * statement per probe), and, with MODEL_PATH, the model's files are there and its last
 * load did not fail (`model` returns 'ok' or what is wrong; an unloaded model is ready).
 */
export function createReadinessCheck(db: Db, model?: () => string): ReadinessCheck {
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
    const modelState = model?.();
    return {
      ok: migrated && (modelState === undefined || modelState === 'ok'),
      checks: {
        database: 'ok',
        migrations: migrated ? 'current' : `at ${current ?? 'none'}, expected ${want}`,
        ...(modelState === undefined ? {} : { model: modelState }),
      },
    };
  };
}
