/**
 * The `sql` tag every query module builds its statements with: slonik's tag package on its own
 * (`@slonik/sql-tag`, the same `createSqlTag()` that `slonik` exports as `sql`). Importing
 * `slonik` itself would load its pool, driver and logging too (~3 MB more heap at start-up),
 * none of which the gateway runs: src/db/pool.ts executes the tokens with `pg` directly.
 */
import { createSqlTag } from '@slonik/sql-tag';

export const sql = createSqlTag();
export type { FragmentSqlToken, ListSqlToken, QuerySqlToken } from '@slonik/sql-tag';
