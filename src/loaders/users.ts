import type { Db } from '../db/pool.ts';
import { type UserColumn, type UserRow, selectUsersByIds } from '../db/queries/users.ts';
import type { ColumnMap } from './projection.ts';
import { ProjectingLoader } from './projecting-loader.ts';

export const USER_FIELD_COLUMNS: ColumnMap<UserColumn> = {
  email: ['email'],
  name: ['name'],
  createdAt: ['created_at'],
};

export function usersById(db: Db, maxBatchSize: number) {
  return new ProjectingLoader<UserColumn, UserRow>((ids, columns) => selectUsersByIds(db, ids, columns), maxBatchSize);
}
