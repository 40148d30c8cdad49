/**
 * Order writes. Each one changes what the user's recommendations are made of, so each
 * drops the user's cached recommendations here, once, after the write.
 */
import type { Db } from '../db/pool.ts';
import {
  deleteSimulatedOrders,
  insertOrder,
  type NewOrder,
  type OrderRow,
  selectOrderByIdempotencyKey,
  updateOrderRating,
} from '../db/queries/orders.ts';
import { badUserInput, notFound } from '../errors.ts';
import type { Recommender } from '../recommend/engine.ts';

export type Orders = {
  /**
   * Places an order in one statement; a retry with the same idempotency key returns the earlier order.
   * @throws BAD_USER_INPUT for an unknown restaurant or a key already used for a different order.
   */
  create(order: NewOrder): Promise<OrderRow>;
  /**
   * Rates one of the owner's orders (1–5).
   * @throws BAD_USER_INPUT for a rating outside 1–5, NOT_FOUND when the order is not the owner's.
   */
  rate(ownerId: string, orderId: string, rating: number): Promise<OrderRow>;
  /** Deletes the owner's simulated orders. @returns how many. */
  clearSimulated(ownerId: string): Promise<number>;
  /** The same service over another handle (a request's: its statements count for that request). */
  withDb(db: Db): Orders;
};

/** Same order as `order`, for an idempotent retry (the date and rating may differ: now() and later ratings). */
function sameOrder(row: OrderRow, order: NewOrder): boolean {
  const items = row.items ?? [];
  return (
    row.restaurant_id === order.restaurantId &&
    row.total_amount === order.totalAmount &&
    row.is_simulation === order.simulated &&
    items.length === order.items.length &&
    items.every(
      (item, i) =>
        item.name === order.items[i]!.name &&
        item.quantity === order.items[i]!.quantity &&
        item.price === order.items[i]!.price,
    )
  );
}

/** An insert that returned nothing: a retry of an earlier order, or an unknown restaurant. */
async function existingOrder(db: Db, order: NewOrder): Promise<OrderRow> {
  const earlier = order.idempotencyKey
    ? await selectOrderByIdempotencyKey(db, order.userId, order.idempotencyKey)
    : null;
  if (!earlier) throw badUserInput('restaurantId: no such restaurant', { field: 'restaurantId' });
  if (!sameOrder(earlier, order)) {
    throw badUserInput('idempotencyKey: already used for a different order', { field: 'idempotencyKey' });
  }
  return earlier;
}

export function createOrders(deps: { db: Db; recommender: Recommender }): Orders {
  const { db, recommender } = deps;
  return {
    withDb: (other) => createOrders({ ...deps, db: other }),
    async create(order) {
      const row = (await insertOrder(db, order)) ?? (await existingOrder(db, order));
      await recommender.invalidate(order.userId);
      return row;
    },

    async rate(ownerId, orderId, rating) {
      if (!Number.isInteger(rating) || rating < 1 || rating > 5) {
        throw badUserInput('rating: must be between 1 and 5', { field: 'rating' });
      }
      const row = await updateOrderRating(db, ownerId, orderId, rating);
      if (!row) throw notFound('Order');
      await recommender.invalidate(row.user_id);
      return row;
    },

    async clearSimulated(ownerId) {
      const deleted = await deleteSimulatedOrders(db, ownerId);
      await recommender.invalidate(ownerId);
      return deleted;
    },
  };
}
