import type { Db } from '../../db/pool.ts';
import {
  deleteSimulatedOrders,
  insertOrder,
  type NewOrder,
  type OrderRow,
  selectOrderByIdempotencyKey,
  updateOrderRating,
} from '../../db/queries/orders.ts';
import { badUserInput, notFound } from '../../errors.ts';
import { builder } from '../builder.ts';
import { CreateOrderRules, validate } from '../validation.ts';
import { viewerId } from '../viewer.ts';
import { Order } from './order.ts';
import { Restaurant } from './restaurant.ts';

const OrderItemInput = builder.inputType('OrderItemInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: '1–200 characters.' }),
    quantity: t.int({ required: true, description: '1–99.' }),
    price: t.float({ required: true, description: 'Unit price, ≥ 0, at most 2 decimals.' }),
  }),
});

const CreateOrderInput = builder.inputType('CreateOrderInput', {
  fields: (t) => ({
    restaurantId: t.globalID({ for: Restaurant, required: true }),
    items: t.field({ type: [OrderItemInput], required: true, description: '1–50 items.' }),
    totalAmount: t.float({ description: 'Optional: the server computes the total and refuses one that differs.' }),
    rating: t.int({ description: '1–5.' }),
    orderDate: t.field({ type: 'DateTime', description: 'Default now; never in the future.' }),
    simulated: t.boolean({ description: "The order simulator's orders (see clearSimulatedOrders). Default false." }),
    idempotencyKey: t.string({
      description: 'Up to 100 printable ASCII characters. A retry with the same key returns the same order.',
    }),
  }),
});

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

builder.mutationFields((t) => ({
  createOrder: t.field({
    type: Order,
    authScopes: { authenticated: true },
    description: 'Places an order for the signed-in user, in one statement.',
    args: { input: t.arg({ type: CreateOrderInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const valid = validate(CreateOrderRules, input);
      const order: NewOrder = {
        userId: viewerId(ctx),
        restaurantId: input.restaurantId.id,
        orderDate: valid.orderDate ?? null,
        totalAmount: valid.totalAmount,
        items: valid.items,
        rating: valid.rating ?? null,
        simulated: valid.simulated ?? false,
        idempotencyKey: valid.idempotencyKey ?? null,
      };
      const row = (await insertOrder(ctx.db, order)) ?? (await existingOrder(ctx.db, order));
      await ctx.recommender.invalidate(order.userId);
      return row;
    },
  }),
  rateOrder: t.field({
    type: Order,
    authScopes: { authenticated: true },
    description: "Rates one of the signed-in user's orders (1–5).",
    args: {
      id: t.arg.globalID({ for: Order, required: true }),
      rating: t.arg.int({ required: true }),
    },
    resolve: async (_root, args, ctx) => {
      if (!Number.isInteger(args.rating) || args.rating < 1 || args.rating > 5) {
        throw badUserInput('rating: must be between 1 and 5', { field: 'rating' });
      }
      const row = await updateOrderRating(ctx.db, viewerId(ctx), args.id.id, args.rating);
      if (!row) throw notFound('Order');
      await ctx.recommender.invalidate(row.user_id);
      return row;
    },
  }),
  clearSimulatedOrders: t.int({
    authScopes: { authenticated: true },
    description: "Deletes the signed-in user's simulated orders; returns how many.",
    resolve: async (_root, _args, ctx) => {
      const userId = viewerId(ctx);
      const deleted = await deleteSimulatedOrders(ctx.db, userId);
      await ctx.recommender.invalidate(userId);
      return deleted;
    },
  }),
}));
