import DataLoader from 'dataloader';
import type { Db } from '../db/pool.ts';
import { selectTasteProfiles, type TasteProfileRow } from '../db/queries/preferences.ts';
import { observedBatch } from '../observability/metrics.ts';

/** Taste profiles by user id, batched: one aggregate statement for every user asked in a tick. */
export function tasteProfilesByUserId(db: Db, maxBatchSize: number) {
  return new DataLoader<string, TasteProfileRow>(
    observedBatch('tasteProfiles', async (userIds) => {
      const rows = new Map((await selectTasteProfiles(db, userIds)).map((r) => [r.user_id, r]));
      return userIds.map((id) => rows.get(id) ?? new Error(`no taste profile row for user ${id}`));
    }),
    { maxBatchSize },
  );
}
