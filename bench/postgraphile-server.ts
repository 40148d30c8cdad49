/**
 * PostGraphile 5 (the Amber preset) on the benchmark's scratch database, in a process of its own:
 * `GRAPHILE_ENV=production node dist-bench/bench/postgraphile-server.js` with BENCH_DB_URL (compiled and
 * started by bench/common.ts, which sets GRAPHILE_ENV: grafast reads it when its modules load). Production mode: no GraphiQL (Ruru), no schema watch, no explain. Its pool
 * is a pg.Pool of 4 connections, as the gateway's DB_POOL_MAX default. Listens on a free port of 127.0.0.1,
 * prints `READY <port>`, stops as the other peers (bench/peer-server.ts). No authentication: the bench asks
 * it for the Q2 user's orders by row id (the gateway's `me`, without the token check; bench/scratch-data.ts picks the user).
 */
import './promise-with-resolvers.ts';
import pg from 'pg';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { servePeer } from './peer-server.ts';

const url = process.env.BENCH_DB_URL;
if (!url) {
  console.error('usage: BENCH_DB_URL=… node dist-bench/bench/postgraphile-server.js');
  process.exit(2);
}
const pool = new pg.Pool({ connectionString: url, max: 4, idleTimeoutMillis: 60_000 });
const pgl = postgraphile({
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ pool, schemas: ['public'] })],
  grafserv: { graphiql: false, watch: false },
  grafast: { explain: false },
});
const serv = pgl.createServ(grafserv);
// Builds the schema (introspection) before READY, so the first request does not pay for it.
await pgl.getSchema();
servePeer(serv.createHandler(), async () => {
  await pgl.release();
  await pool.end();
});
