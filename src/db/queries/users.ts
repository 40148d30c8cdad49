import { z } from 'zod';
import { columnList } from '../columns.ts';
import type { Db } from '../pool.ts';
import { sql } from '../sql.ts';

/** Readable user columns. `password_hash` is deliberately absent: no GraphQL path can select it. */
export const UserRow = z
  .object({ id: z.string(), email: z.string(), name: z.string(), created_at: z.date() })
  .partial()
  .required({ id: true });
export type UserRow = z.infer<typeof UserRow>;
export type UserColumn = keyof UserRow;
export const USER_COLUMNS: readonly UserColumn[] = UserRow.keyof().options;

export function selectUsersByIds(db: Db, ids: readonly string[], columns: readonly UserColumn[]) {
  return db.any(sql.type(UserRow)`/* usersByIds */
    SELECT ${columnList(USER_COLUMNS, columns)} FROM users WHERE id = ANY(${sql.array(ids, 'int8')})`);
}

/** The id of the user with this (normalised) email, if any. */
export function selectUserIdByEmail(db: Db, email: string) {
  return db.maybeOne(sql.type(z.object({ id: z.string() }))`/* userIdByEmail */
    SELECT id FROM users WHERE lower(email) = ${email}`);
}

/** What login needs, and only login: the one query that reads `password_hash`. */
export function selectCredentialsByEmail(db: Db, email: string) {
  return db.maybeOne(sql.type(z.object({ id: z.string(), password_hash: z.string() }))`/* credentialsByEmail */
    SELECT id, password_hash FROM users WHERE lower(email) = ${email}`);
}

/**
 * Creates a user; null when the email is taken. The unique index decides, so two
 * concurrent registrations of one email cannot both succeed (no check-then-insert).
 */
export function insertUser(db: Db, user: { email: string; name: string; passwordHash: string }) {
  return db.maybeOne(sql.type(z.object({ id: z.string() }))`/* insertUser */
    INSERT INTO users (email, name, password_hash) VALUES (${user.email}, ${user.name}, ${user.passwordHash})
    ON CONFLICT DO NOTHING RETURNING id`);
}

/** Upgrades a legacy hash after a successful login (only if it is still the one verified). */
export function updatePasswordHash(db: Db, id: string, from: string, to: string) {
  return db.any(sql.type(z.object({ id: z.string() }))`/* updatePasswordHash */
    UPDATE users SET password_hash = ${to}, updated_at = now()
    WHERE id = ${id}::int8 AND password_hash = ${from} RETURNING id`);
}
