import DataLoader from 'dataloader';
import type { Db } from '../db/pool.ts';
import {
  countOrdersByUserIds,
  type OrderColumn,
  type OrderRow,
  type OrdersPageKey,
  selectOrderPagesByUserIds,
  selectOrdersByIdsForOwner,
} from '../db/queries/orders.ts';
import { observedBatch } from '../observability/metrics.ts';
import { ProjectingLoader } from './projecting-loader.ts';

/** Orders by id (columns as the fields declare them: src/schema/types/order.ts), visible only to `viewerId` (null: nobody, and no statement is sent). */
export function ordersById(db: Db, viewerId: string | null, maxBatchSize: number) {
  return new ProjectingLoader<OrderColumn, OrderRow>(
    'orders',
    async (ids, columns) => (viewerId ? selectOrdersByIdsForOwner(db, viewerId, ids, columns) : []),
    maxBatchSize,
  );
}

type OrderPageRequest = OrdersPageKey & { columns: readonly OrderColumn[] };

/**
 * Keyset pages of orders per user: every page requested in one tick (any users,
 * cursors and sizes) is one statement. Each page holds up to `limit` rows.
 */
export function orderPagesByUserId(db: Db, maxBatchSize: number) {
  return new DataLoader<OrderPageRequest, OrderRow[], string>(
    observedBatch('orderPages', async (keys) => {
      const columns = [...new Set(keys.flatMap((k) => k.columns))].sort();
      const rows = await selectOrderPagesByUserIds(db, keys, columns);
      const pages = keys.map((): OrderRow[] => []);
      for (const { key_index, ...row } of rows) pages[key_index]?.push(row);
      return pages;
    }),
    {
      maxBatchSize,
      cacheKeyFn: (k) =>
        `${k.userId}|${k.after?.orderDate ?? ''}|${k.after?.id ?? ''}|${k.limit}|${k.columns.join(',')}`,
    },
  );
}

/** Order counts per user, batched. */
export function orderCountByUserId(db: Db, maxBatchSize: number) {
  return new DataLoader<string, number>(
    observedBatch('orderCounts', async (userIds) => {
      const counts = new Map((await countOrdersByUserIds(db, userIds)).map((r) => [r.user_id, r.count]));
      return userIds.map((id) => counts.get(id) ?? 0);
    }),
    { maxBatchSize },
  );
}
