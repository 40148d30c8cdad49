import { z } from 'zod';
import type { OrderRow } from '../../db/queries/orders.ts';
import { ORDER_FIELD_COLUMNS } from '../../loaders/orders.ts';
import { columnsFor, must, selectedFieldNames } from '../../loaders/projection.ts';
import { builder } from '../builder.ts';
import { IdString, IsoTimestamp } from '../pagination.ts';
import { Restaurant, restaurantColumns } from './restaurant.ts';

type OrderItemShape = { name: string; quantity: number; price: number };

export const OrderItem = builder.objectRef<OrderItemShape>('OrderItem').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    quantity: t.exposeInt('quantity'),
    price: t.exposeFloat('price'),
  }),
});

export const Order = builder.objectRef<OrderRow>('Order');

/** Columns an `Order` selection needs; `id` and `user_id` always (keys and the owner check). */
export function orderColumns(...args: Parameters<typeof selectedFieldNames>) {
  return columnsFor(selectedFieldNames(...args), ORDER_FIELD_COLUMNS, ['id', 'user_id']);
}

builder.node(Order, {
  id: { resolve: (o) => o.id },
  // Only the owner sees an order; the loaders also filter by owner in SQL (a foreign row never loads).
  authScopes: (o) => ({ owner: o.user_id }),
  // Scoped to the viewer in SQL: another user's order loads as null, exactly like a missing one.
  loadWithoutCache: (id, ctx, info) => ctx.loaders.ordersById.load(id, orderColumns(info, ['Order', 'Node'])),
  fields: (t) => ({
    orderDate: t.field({ type: 'DateTime', resolve: (o) => must(o.order_date, 'order_date') }),
    totalAmount: t.float({ resolve: (o) => must(o.total_amount, 'total_amount') }),
    items: t.field({ type: [OrderItem], resolve: (o) => must(o.items, 'items') }),
    rating: t.int({ nullable: true, resolve: (o) => must(o.rating, 'rating') }),
    simulated: t.boolean({ resolve: (o) => must(o.is_simulation, 'is_simulation') }),
    createdAt: t.field({ type: 'DateTime', resolve: (o) => must(o.created_at, 'created_at') }),
    restaurant: t.field({
      type: Restaurant,
      resolve: async (o, _args, ctx, info) => {
        const row = await ctx.loaders.restaurantsById.load(
          must(o.restaurant_id, 'restaurant_id'),
          restaurantColumns(info, ['Restaurant']),
        );
        // orders.restaurant_id is a foreign key: a miss is a bug, not user input.
        if (!row) throw new Error(`order ${o.id} references a missing restaurant`);
        return row;
      },
    }),
  }),
});

export type OrderPage = { userId: string };

export const OrderConnection = builder.connectionObject(
  {
    type: Order,
    name: 'OrderConnection',
    fields: (t) => ({
      totalCount: t.int({
        description: "The user's orders (a separate count, run only when selected).",
        resolve: (conn, _args, ctx) => ctx.loaders.orderCountByUserId.load((conn as unknown as OrderPage).userId),
      }),
    }),
  },
  { name: 'OrderEdge' },
);

export const ORDER_EDGE_NODE = [
  ['OrderConnection', 'edges'],
  ['OrderEdge', 'node'],
] as const;

/** Order cursors carry (order_date, id): the keyset of orders(user_id, order_date DESC, id DESC). */
export const ORDER_CURSOR_KIND = 'orders:DATE_DESC';
export const OrderCursorValues = z.tuple([IsoTimestamp, IdString]);
