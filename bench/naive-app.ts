/**
 * The baseline: the same query shapes answered the way the Python original did —
 * `SELECT *` everywhere and one query per `Order.restaurant` (N+1), no projection,
 * no batching. Same JWT check (the gateway's token service: HS256 verified with jose, issuer and
 * audience checked) and pool size as the gateway, so only data access differs.
 */
import { createSchema, createYoga } from 'graphql-yoga';
import pg from 'pg';
import type { TokenService } from '../src/auth/jwt.ts';

type Row = Record<string, unknown>;

const typeDefs = /* GraphQL */ `
  type Query {
    restaurants(first: Int = 20): RestaurantConnection!
    me: User
  }
  type RestaurantConnection { edges: [RestaurantEdge!]! }
  type RestaurantEdge { node: Restaurant! }
  type Restaurant { id: ID! name: String! cuisineType: String! rating: Float! description: String }
  type User { id: ID! name: String! orders(first: Int = 20): OrderConnection! }
  type OrderConnection { edges: [OrderEdge!]! }
  type OrderEdge { node: Order! }
  type Order { id: ID! orderDate: String! totalAmount: Float! restaurant: Restaurant! }
`;

export function createNaiveApp(databaseUrl: string, tokens: TokenService) {
  // Pool of 4 and a 60 s idle timeout, as the gateway's, so no connection closes between load runs.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4, idleTimeoutMillis: 60_000 });
  const restaurant = (r: Row) => ({ ...r, cuisineType: r.cuisine_type, rating: Number(r.rating) });
  const schema = createSchema<{ userId: string | null }>({
    typeDefs,
    resolvers: {
      Query: {
        restaurants: async (_: unknown, { first }: { first: number }) => {
          const { rows } = await pool.query('SELECT * FROM restaurants ORDER BY rating DESC, id DESC LIMIT $1', [
            first,
          ]);
          return { edges: rows.map((r) => ({ node: restaurant(r) })) };
        },
        me: async (_: unknown, __: unknown, ctx: { userId: string | null }) =>
          ctx.userId ? (await pool.query('SELECT * FROM users WHERE id = $1', [ctx.userId])).rows[0] : null,
      },
      User: {
        orders: async (user: Row, { first }: { first: number }) => {
          const { rows } = await pool.query(
            'SELECT * FROM orders WHERE user_id = $1 ORDER BY order_date DESC LIMIT $2',
            [user.id, first],
          );
          return { edges: rows.map((o) => ({ node: o })) };
        },
      },
      Order: {
        orderDate: (o: Row) => (o.order_date as Date).toISOString(),
        totalAmount: (o: Row) => Number(o.total_amount),
        // The N+1: one statement per order.
        restaurant: async (o: Row) =>
          restaurant((await pool.query('SELECT * FROM restaurants WHERE id = $1', [o.restaurant_id])).rows[0]),
      },
    },
  });
  const yoga = createYoga({
    schema,
    graphiql: false,
    landingPage: false,
    context: async ({ request }) => {
      const header = request.headers.get('authorization');
      return { userId: header ? await tokens.verify(header.replace(/^Bearer /, '')) : null };
    },
  });
  return { yoga, close: () => pool.end() };
}
