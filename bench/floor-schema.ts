/**
 * The schema of the GraphQL floors (bench/yoga-floor-server.ts, bench/envelop-floor-server.ts): an SDL
 * schema of the gateway's shape (`restaurants`, `me.orders`, `restaurant`) whose lists each come from one
 * SQL statement (Q2's restaurants joined in), over a pool of 4 (the gateway's and PostGraphile's) with
 * named statements (pg prepares each once per connection). No authentication: `me` is the user the
 * server puts in the context as `benchUser` (the `x-bench-user` header).
 */
import { createSchema } from 'graphql-yoga';
import pg from 'pg';

export type FloorContext = { benchUser: string | null };

type RestaurantRow = { id: string; name: string; cuisineType: string; rating: number | null };
type OrderRow = { id: string; orderDate: Date; totalAmount: number; name: string; cuisineType: string };

const page = (value: unknown) => Math.min(100, Math.max(0, Number(value ?? 20)));
const edgesOf = <T>(nodes: T[]) => ({ edges: nodes.map((node) => ({ node })) });

export function floorSchema(url: string) {
  const pool = new pg.Pool({ connectionString: url, max: 4, idleTimeoutMillis: 60_000 });
  const schema = createSchema<FloorContext>({
    typeDefs: /* GraphQL */ `
      type Restaurant { id: ID! name: String! cuisineType: String! rating: Float }
      type RestaurantEdge { node: Restaurant! }
      type RestaurantConnection { edges: [RestaurantEdge!]! }
      type Order { id: ID! orderDate: String! totalAmount: Float! restaurant: Restaurant! }
      type OrderEdge { node: Order! }
      type OrderConnection { edges: [OrderEdge!]! }
      type User { orders(first: Int = 20): OrderConnection! }
      type Query { restaurants(first: Int = 20): RestaurantConnection! me: User }
    `,
    resolvers: {
      Query: {
        // The gateway's default order (RATING_DESC: rating DESC, id DESC).
        restaurants: async (_: unknown, args: { first?: number }) => {
          const { rows } = await pool.query<RestaurantRow>({
            name: 'restaurants',
            // Qualified: the output's `id` and `rating` (text, float8) would not be the index's columns.
            text: `SELECT r.id::text AS id, r.name, r.cuisine_type AS "cuisineType", r.rating::float8 AS rating
                   FROM restaurants r ORDER BY r.rating DESC, r.id DESC LIMIT $1`,
            values: [page(args.first)],
          });
          return edgesOf(rows);
        },
        me: (_: unknown, __: unknown, ctx: FloorContext) => (ctx.benchUser ? { userId: ctx.benchUser } : null),
      },
      User: {
        // Newest first (order_date DESC, id DESC), each with its restaurant.
        orders: async (user: { userId: string }, args: { first?: number }) => {
          const { rows } = await pool.query<OrderRow>({
            name: 'orders',
            text: `SELECT o.id::text AS id, o.order_date AS "orderDate", o.total_amount::float8 AS "totalAmount",
                          r.name, r.cuisine_type AS "cuisineType"
                   FROM (SELECT id, order_date, total_amount, restaurant_id FROM orders WHERE user_id = $1
                         ORDER BY order_date DESC, id DESC LIMIT $2) o
                   JOIN restaurants r ON r.id = o.restaurant_id
                   ORDER BY o.order_date DESC, o.id DESC`,
            values: [user.userId, page(args.first)],
          });
          return edgesOf(
            rows.map((r) => ({
              id: r.id,
              orderDate: r.orderDate.toISOString(),
              totalAmount: r.totalAmount,
              restaurant: { name: r.name, cuisineType: r.cuisineType },
            })),
          );
        },
      },
    },
  });
  return { schema, close: () => pool.end() };
}
