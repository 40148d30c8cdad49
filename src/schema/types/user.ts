import type { OrderRow } from '../../db/queries/orders.ts';
import type { UserRow } from '../../db/queries/users.ts';
import { columnsFor, must, selectedFieldNames } from '../../loaders/projection.ts';
import { USER_FIELD_COLUMNS } from '../../loaders/users.ts';
import { builder } from '../builder.ts';
import { connectionFromRows, decodeCursor, encodeCursor, pageSize, selectsPage } from '../pagination.ts';
import {
  ORDER_CURSOR_KIND,
  ORDER_EDGE_NODE,
  OrderConnection,
  OrderCursorValues,
  type OrderPage,
  orderColumns,
} from './order.ts';

export const User = builder.objectRef<UserRow>('User');

export function userColumns(...args: Parameters<typeof selectedFieldNames>) {
  return columnsFor(selectedFieldNames(...args), USER_FIELD_COLUMNS, ['id']);
}

builder.node(User, {
  id: { resolve: (u) => u.id },
  // A user is visible only to itself: to anyone else, the same NOT_FOUND as a missing id.
  authScopes: (u) => ({ owner: u.id }),
  loadWithoutCache: (id, ctx, info) =>
    ctx.owners.has(id) ? ctx.loaders.usersById.load(id, userColumns(info, ['User', 'Node'])) : null,
  fields: (t) => ({
    email: t.string({ resolve: (u) => must(u.email, 'email') }),
    name: t.string({ resolve: (u) => must(u.name, 'name') }),
    createdAt: t.field({ type: 'DateTime', resolve: (u) => must(u.created_at, 'created_at') }),
    orders: t.field({
      type: OrderConnection,
      description: 'Newest first (order date, then id).',
      args: { first: t.arg.int({ defaultValue: 20 }), after: t.arg.string() },
      resolve: async (user, args, ctx, info) => {
        const first = pageSize(args.first, 20, ctx.limits.maxPageSize);
        const afterValues = args.after ? decodeCursor(args.after, ORDER_CURSOR_KIND, OrderCursorValues) : null;
        const page: OrderPage = { userId: user.id };
        if (!selectsPage(info, 'OrderConnection')) return connectionFromRows([], 0, false, String, page);
        const columns = [
          ...new Set([...orderColumns(info, ['Order', 'Node'], ORDER_EDGE_NODE), 'order_date' as const]),
        ].sort();
        const rows = await ctx.loaders.orderPagesByUserId.load({
          userId: user.id,
          after: afterValues ? { orderDate: afterValues[0], id: afterValues[1] } : null,
          limit: first + 1,
          columns,
        });
        const cursorOf = (row: OrderRow) =>
          encodeCursor(ORDER_CURSOR_KIND, [must(row.order_date, 'order_date').toISOString(), row.id]);
        return connectionFromRows(rows, first, afterValues !== null, cursorOf, page);
      },
    }),
  }),
});

builder.queryFields((t) => ({
  me: t.field({
    type: User,
    nullable: true,
    description: 'The signed-in user; null when the request carries no token.',
    resolve: (_root, _args, ctx, info) =>
      ctx.viewer ? ctx.loaders.usersById.load(ctx.viewer.id, userColumns(info, ['User'])) : null,
  }),
}));
