import { z } from 'zod';
import type { OrderRow } from '../../db/queries/orders.ts';
import type { RestaurantRow } from '../../db/queries/restaurants.ts';
import { builder } from '../builder.ts';
import { columnOf, must } from '../field-needs.ts';
import { IdString, IsoTimestamp } from '../pagination.ts';
import { projectedColumns } from '../projection.ts';
import { loadRestaurant, Restaurant } from './restaurant.ts';

type OrderItemShape = { name: string; quantity: number; price: number };

export const OrderItem = builder.objectRef<OrderItemShape>('OrderItem').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    quantity: t.exposeInt('quantity'),
    price: t.exposeFloat('price'),
  }),
});

export const Order = builder.objectRef<OrderRow>('Order');

const column = columnOf<OrderRow>();

builder.node(Order, {
  // The key and the owner (the scope below checks it) are always read; each field declares its own.
  select: ['id', 'user_id'],
  id: { resolve: (o) => o.id },
  // Only the owner sees an order (src/schema/ownership.ts); the loaders also filter by owner in SQL
  // (a foreign row never loads).
  ownedBy: (o) => o.user_id,
  // Scoped to the viewer in SQL: another user's order loads as null, exactly like a missing one.
  loadWithoutCache: (id, ctx, info) => ctx.loaders.ordersById.load(id, projectedColumns<OrderRow>(info, 'Order')),
  fields: (t) => ({
    orderDate: t.field({ type: 'DateTime', ...column('order_date') }),
    totalAmount: t.float(column('total_amount')),
    items: t.field({ type: [OrderItem], ...column('items') }),
    rating: t.int({ nullable: true, ...column('rating') }),
    simulated: t.boolean(column('is_simulation')),
    createdAt: t.field({ type: 'DateTime', ...column('created_at') }),
    restaurant: t.field({
      type: Restaurant,
      select: ['restaurant_id'],
      resolve: (o, _args, ctx, info) => {
        const id = must(o.restaurant_id, 'restaurant_id');
        // Under a page of orders the row came with the page (primed): returned as it is, no promise per order.
        const primed = ctx.loaders.restaurantsById.primedRow(id, projectedColumns<RestaurantRow>(info, 'Restaurant'));
        return primed ?? loadRestaurant(ctx, id, info);
      },
    }),
  }),
});

export const OrderConnection = builder.connectionObject(
  {
    type: Order,
    name: 'OrderConnection',
    fields: (t) => ({
      totalCount: t.int({
        cost: 10,
        description: "The user's orders (a separate count, run only when selected).",
        resolve: (conn) => conn.count(),
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
