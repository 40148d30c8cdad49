import type { OrderRow } from '../../db/queries/orders.ts';
import type { RestaurantRow } from '../../db/queries/restaurants.ts';
import type { UserRow } from '../../db/queries/users.ts';
import { builder } from '../builder.ts';
import { columnOf, must } from '../field-needs.ts';
import { connectionFromRows, decodeCursor, encodeCursor, pageSize, selectsPage } from '../pagination.ts';
import { projectedColumns, selectedFieldNames } from '../projection.ts';
import { ORDER_CURSOR_KIND, ORDER_EDGE_NODE, OrderConnection, OrderCursorValues } from './order.ts';

export const User = builder.objectRef<UserRow>('User');

/** From a page of orders to each order's restaurant. */
const ORDER_EDGE_RESTAURANT = [...ORDER_EDGE_NODE, ['Order', 'restaurant']] as const;

const column = columnOf<UserRow>();

builder.node(User, {
  select: ['id'],
  id: { resolve: (u) => u.id },
  // A user is visible only to itself: to anyone else, the same NOT_FOUND as a missing id.
  ownedBy: (u) => u.id,
  loadWithoutCache: (id, ctx, info) =>
    ctx.owners.has(id) ? ctx.loaders.usersById.load(id, projectedColumns<UserRow>(info, 'User')) : null,
  fields: (t) => ({
    email: t.string(column('email')),
    name: t.string(column('name')),
    createdAt: t.field({ type: 'DateTime', ...column('created_at') }),
    orders: t.field({
      type: OrderConnection,
      select: [],
      description: 'Newest first (order date, then id).',
      args: { first: t.arg.int({ defaultValue: 20 }), after: t.arg.string() },
      resolve: async (user, args, ctx, info) => {
        const first = pageSize(args.first, 20, ctx.limits.maxPageSize);
        const afterValues = args.after ? decodeCursor(args.after, ORDER_CURSOR_KIND, OrderCursorValues) : null;
        const count = () => ctx.loaders.orderCountByUserId.load(user.id);
        if (!selectsPage(info, 'OrderConnection')) return connectionFromRows([], 0, false, String, count);
        // order_date: the cursor's key, selected or not. A selected `restaurant` is read in the
        // page's statement (joined by key) with the columns `Order.restaurant` will ask for.
        const columns = projectedColumns<OrderRow>(info, 'Order', ORDER_EDGE_NODE, ['order_date']);
        const restaurantColumns = selectedFieldNames(info, ['Order'], ORDER_EDGE_NODE).has('restaurant')
          ? projectedColumns<RestaurantRow>(info, 'Restaurant', ORDER_EDGE_RESTAURANT)
          : [];
        const rows = await ctx.loaders.orderPagesByUserId.load({
          userId: user.id,
          after: afterValues ? { orderDate: afterValues[0], id: afterValues[1] } : null,
          limit: first + 1,
          columns,
          restaurantColumns,
        });
        const cursorOf = (row: OrderRow) =>
          encodeCursor(ORDER_CURSOR_KIND, [must(row.order_date, 'order_date').toISOString(), row.id]);
        return connectionFromRows(rows, first, afterValues !== null, cursorOf, count);
      },
    }),
  }),
});

builder.queryFields((t) => ({
  me: t.field({
    type: User,
    nullable: true,
    description: 'The signed-in user; null when the request carries no token.',
    resolve: (_root, _args, ctx, info) => {
      if (!ctx.viewer) return null;
      const columns = projectedColumns<UserRow>(info, 'User');
      // Only the id asked of the row (`me { orders … }`): it is the token's, so no statement reads
      // the row (Q2 in one statement: ~10 % of its CPU, ~13 % more req/s). A deleted account's
      // orders and taste profile went with it (ON DELETE CASCADE); asking for its columns still
      // makes `me` null, and its token still cannot write.
      if (columns.length === 1 && columns[0] === 'id') return { id: ctx.viewer.id } as UserRow;
      return ctx.loaders.usersById.load(ctx.viewer.id, columns);
    },
  }),
}));
