/**
 * Yoga's floor: the least a graphql-yoga server costs for Q1 and Q2. graphql-yoga with its defaults and
 * graphql-jit (as the gateway runs it) over the floors' schema (bench/floor-schema.ts), and nothing
 * else: no Pothos, no loaders, no log line, no metrics, limits, cost, persisted operations or cache
 * headers. Beside the SQL floor (the same statements' work with no GraphQL) it says what Yoga's HTTP
 * adapter and envelop cost a request, before any feature of the gateway; beside the envelop floor
 * (bench/envelop-floor-server.ts), what Yoga's own layer costs.
 *
 * `node dist-bench/bench/yoga-floor-server.js` with BENCH_DB_URL (compiled and started by bench/common.ts);
 * listens on a free port of 127.0.0.1, prints `READY <port>`, stops as the other peers
 * (bench/peer-server.ts). No authentication: `me` is the user of the `x-bench-user` header.
 */
import { useGraphQlJit } from '@envelop/graphql-jit';
import { createYoga } from 'graphql-yoga';
import { type FloorContext, floorSchema } from './floor-schema.ts';
import { servePeer } from './peer-server.ts';

const url = process.env.BENCH_DB_URL;
if (!url) {
  console.error('usage: BENCH_DB_URL=… node dist-bench/bench/yoga-floor-server.js');
  process.exit(2);
}
const { schema, close } = floorSchema(url);

const yoga = createYoga<object, FloorContext>({
  schema,
  graphiql: false,
  landingPage: false,
  context: ({ request }) => ({ benchUser: request.headers.get('x-bench-user') }),
  plugins: [useGraphQlJit()],
});

servePeer(yoga, close);
