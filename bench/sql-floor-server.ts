/**
 * The floor: what answering Q1 and Q2 costs with no GraphQL at all. Plain node:http + pg, one SQL
 * statement per request whose whole JSON response PostgreSQL builds (json_build_object / json_agg), sent
 * back as the text it returns. `node dist-bench/bench/sql-floor-server.js` with BENCH_DB_URL (compiled and
 * started by bench/common.ts); listens on a free port of 127.0.0.1, prints `READY <port>`, stops as the
 * other peers (bench/peer-server.ts).
 *
 * POST /graphql with `{"operationName": "Q1" | "Q2", "variables": {"first": N, "userId": "…"}}`: the query
 * text is ignored (the floor parses no GraphQL); the operation name picks the statement. Pool: 10
 * connections (the figure for the floor; the gateway and PostGraphile have 4). Named statements:
 * pg prepares each once per connection. No authentication (PostGraphile has none either); the answers
 * have the gateway's shape (`restaurants`, `me.orders`, `restaurant`), in the gateway's orders.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import pg from 'pg';
import { servePeer } from './peer-server.ts';

const url = process.env.BENCH_DB_URL;
if (!url) {
  console.error('usage: BENCH_DB_URL=… node dist-bench/bench/sql-floor-server.js');
  process.exit(2);
}
const pool = new pg.Pool({ connectionString: url, max: 10, idleTimeoutMillis: 60_000 });
const MAX_BODY_BYTES = 100 * 1024;

const STATEMENTS = {
  // The gateway's default order (RATING_DESC: rating DESC, id DESC).
  Q1: {
    text: `SELECT json_build_object('data', json_build_object('restaurants', json_build_object('edges',
        COALESCE(json_agg(json_build_object('node', json_build_object(
          'id', r.id::text, 'name', r.name, 'cuisineType', r.cuisine_type, 'rating', r.rating))
        ORDER BY r.rating DESC, r.id DESC), '[]'::json))))::text AS body
      FROM (SELECT id, name, cuisine_type, rating FROM restaurants ORDER BY rating DESC, id DESC LIMIT $1) r`,
    values: (v: Record<string, unknown>) => [Number(v.first)],
  },
  // me.orders: newest first (order_date DESC, id DESC), each with its restaurant.
  Q2: {
    text: `SELECT json_build_object('data', json_build_object('me', json_build_object('orders', json_build_object('edges',
        COALESCE(json_agg(json_build_object('node', json_build_object(
          'id', o.id::text, 'orderDate', o.order_date, 'totalAmount', o.total_amount,
          'restaurant', json_build_object('name', r.name, 'cuisineType', r.cuisine_type)))
        ORDER BY o.order_date DESC, o.id DESC), '[]'::json)))))::text AS body
      FROM (SELECT id, order_date, total_amount, restaurant_id FROM orders WHERE user_id = $1
            ORDER BY order_date DESC, id DESC LIMIT $2) o
      JOIN restaurants r ON r.id = o.restaurant_id`,
    values: (v: Record<string, unknown>) => [String(v.userId), Number(v.first)],
  },
} as const;

function send(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function handle(req: IncomingMessage, res: ServerResponse) {
  if (req.method !== 'POST' || req.url !== '/graphql') return send(res, 404, '{"errors":[{"message":"not found"}]}');
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_BODY_BYTES) req.destroy();
    else chunks.push(c);
  });
  req.on('end', () => {
    let op: keyof typeof STATEMENTS;
    let variables: Record<string, unknown>;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        operationName?: string;
        variables?: Record<string, unknown>;
      };
      if (body.operationName !== 'Q1' && body.operationName !== 'Q2') throw new Error('operationName: Q1 or Q2');
      op = body.operationName;
      variables = body.variables ?? {};
    } catch (error) {
      return send(res, 400, JSON.stringify({ errors: [{ message: (error as Error).message }] }));
    }
    const statement = STATEMENTS[op];
    pool.query<{ body: string }>({ name: op, text: statement.text, values: statement.values(variables) }).then(
      (r) => send(res, 200, r.rows[0]!.body),
      (error: Error) => send(res, 500, JSON.stringify({ errors: [{ message: error.message }] })),
    );
  });
}

servePeer(handle, () => pool.end());
