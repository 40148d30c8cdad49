import { z } from 'zod';
import type { Db } from '../pool.ts';
import { sql } from '../sql.ts';

/** The newest applied migration version, or null on an empty database. */
export function selectCurrentMigration(db: Db) {
  return db.oneFirst(sql.type(z.object({ version: z.string().nullable() }))`/* currentMigration */
    SELECT max(version) AS version FROM schema_migrations`);
}
