import type { Db } from '../db/pool.ts';
import { selectUsersByIds, type UserColumn, type UserRow } from '../db/queries/users.ts';
import { ProjectingLoader } from './projecting-loader.ts';
import type { ColumnMap } from './projection.ts';

export const USER_FIELD_COLUMNS: ColumnMap<UserColumn> = {
  email: ['email'],
  name: ['name'],
  createdAt: ['created_at'],
};

export function usersById(db: Db, maxBatchSize: number) {
  return new ProjectingLoader<UserColumn, UserRow>(
    'users',
    (ids, columns) => selectUsersByIds(db, ids, columns),
    maxBatchSize,
  );
}
