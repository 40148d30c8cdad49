import { sql } from 'slonik';
import { z } from 'zod';
import { columnList } from '../columns.ts';
import type { Db } from '../pool.ts';

/** Readable user columns. `password_hash` is deliberately absent: no GraphQL path can select it. */
export const UserRow = z
  .object({ id: z.string(), email: z.string(), name: z.string(), created_at: z.date() })
  .partial()
  .required({ id: true });
export type UserRow = z.infer<typeof UserRow>;
export type UserColumn = keyof UserRow;
export const USER_COLUMNS: readonly UserColumn[] = ['id', 'email', 'name', 'created_at'];

export function selectUsersByIds(db: Db, ids: readonly string[], columns: readonly UserColumn[]) {
  return db.any(sql.type(UserRow)`/* usersByIds */
    SELECT ${columnList(USER_COLUMNS, columns)} FROM users WHERE id = ANY(${sql.array(ids, 'int8')})`);
}

/** The id of the user with this (normalised) email, if any. */
export function selectUserIdByEmail(db: Db, email: string) {
  return db.maybeOne(sql.type(z.object({ id: z.string() }))`/* userIdByEmail */
    SELECT id FROM users WHERE email = ${email}`);
}
