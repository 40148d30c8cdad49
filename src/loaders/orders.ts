import DataLoader from 'dataloader';
import type { Db } from '../db/pool.ts';
import {
  countOrdersByUserIds,
  type OrderColumn,
  type OrderRow,
  type OrdersPageKey,
  RESTAURANT_PREFIX,
  selectOrderPagesByUserIds,
  selectOrdersByIdsForOwner,
} from '../db/queries/orders.ts';
import type { RestaurantColumn, RestaurantRow } from '../db/queries/restaurants.ts';
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

/**
 * `restaurantColumns`: the columns of each order's restaurant that the caller will load through
 * `restaurants` (empty: none). Then the page statement joins them and primes that loader with
 * them, so `Order.restaurant` under a page costs no statement of its own.
 */
type OrderPageRequest = OrdersPageKey & {
  columns: readonly OrderColumn[];
  restaurantColumns: readonly RestaurantColumn[];
};

/**
 * Keyset pages of orders per user: every page requested in one tick (any users,
 * cursors and sizes) is one statement, with the restaurants of their orders when asked.
 * Each page holds up to `limit` rows.
 */
export function orderPagesByUserId(
  db: Db,
  maxBatchSize: number,
  restaurants: () => ProjectingLoader<RestaurantColumn, RestaurantRow>,
) {
  return new DataLoader<OrderPageRequest, OrderRow[], string>(
    observedBatch('orderPages', async (keys) => {
      const columns = [...new Set(keys.flatMap((k) => k.columns))].sort();
      const withRestaurant = new Set(keys.flatMap((k) => k.restaurantColumns));
      // The id is the order's restaurant_id (NOT NULL, a foreign key: the row exists), not joined.
      const joinedColumns = [...withRestaurant].filter((c) => c !== 'id').sort();
      const rows = await selectOrderPagesByUserIds(db, keys, columns, joinedColumns);
      const pages = keys.map((): OrderRow[] => []);
      for (const row of rows) {
        const { order, restaurant } = splitRow(row, withRestaurant.size > 0);
        if (restaurant) restaurants().prime(restaurant, withRestaurant);
        pages[row.key_index]?.push(order);
      }
      return pages;
    }),
    {
      maxBatchSize,
      cacheKeyFn: (k) =>
        `${k.userId}|${k.after?.orderDate ?? ''}|${k.after?.id ?? ''}|${k.limit}|${k.columns.join(',')}|${k.restaurantColumns.join(',')}`,
    },
  );
}

/**
 * A page row as an order row (without `key_index` and the joined restaurant columns) and its
 * restaurant when asked for (its id is the order's `restaurant_id`). One pass building two new
 * objects: rest spread and `delete` cost more, and `delete` leaves a slow dictionary-mode object.
 */
function splitRow(row: Record<string, unknown>, withRestaurant: boolean) {
  const order: Record<string, unknown> = {};
  const restaurant: Record<string, unknown> | null = withRestaurant ? { id: row.restaurant_id } : null;
  for (const key in row) {
    if (key === 'key_index') continue;
    if (restaurant && key.startsWith(RESTAURANT_PREFIX)) restaurant[key.slice(RESTAURANT_PREFIX.length)] = row[key];
    else order[key] = row[key];
  }
  return { order: order as OrderRow, restaurant: restaurant?.id == null ? null : (restaurant as RestaurantRow) };
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
