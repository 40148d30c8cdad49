/**
 * The naive resolver set (bench/naive-app.ts) in a process of its own, so its RSS and CPU time are its own:
 * `node dist-bench/bench/naive-server.js` with BENCH_DB_URL and JWT_SECRET (compiled and started by
 * bench/common.ts). Listens on a free port of 127.0.0.1, prints `READY <port>`, exits on SIGTERM and when
 * its stdin closes (so it never outlives the bench, even when that one is killed). The gateway it is
 * compared with is the production process itself (`node dist/server.js`, bench/common.ts).
 */
import { createTokenService } from '../src/auth/jwt.ts';
import { createNaiveApp } from './naive-app.ts';
import { servePeer } from './peer-server.ts';

const url = process.env.BENCH_DB_URL;
if (!url) {
  console.error('usage: BENCH_DB_URL=… JWT_SECRET=… node dist-bench/bench/naive-server.js');
  process.exit(2);
}
const tokens = createTokenService({ secret: process.env.JWT_SECRET, ttl: '1h', production: false });
const naive = createNaiveApp(url, tokens);
servePeer(naive.yoga, naive.close);
