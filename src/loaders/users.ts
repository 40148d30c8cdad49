import type { Db } from '../db/pool.ts';
import { selectUsersByIds, type UserColumn, type UserRow } from '../db/queries/users.ts';
import { ProjectingLoader } from './projecting-loader.ts';

/** Users by id with the columns each caller asks for (the fields declare them: src/schema/types/user.ts). */
export function usersById(db: Db, maxBatchSize: number) {
  return new ProjectingLoader<UserColumn, UserRow>(
    'users',
    (ids, columns) => selectUsersByIds(db, ids, columns),
    maxBatchSize,
  );
}
