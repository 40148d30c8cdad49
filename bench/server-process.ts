/**
 * One benchmarked server in its own process (so its RSS is its own):
 * `node dist-bench/bench/server-process.js gateway|naive` (compiled by bench/run.ts), with BENCH_DB_URL and
 * JWT_SECRET. Listens on 127.0.0.1, prints `READY <port>`, exits on SIGTERM.
 */
import { createServer } from 'node:http';
import { createApp } from '../src/app.ts';
import { createTokenService } from '../src/auth/jwt.ts';
import { createDb } from '../src/db/pool.ts';
import { createReadinessCheck } from '../src/http/readiness.ts';
import { createLogger } from '../src/logger.ts';
import { createNaiveApp } from './naive-app.ts';

const kind = process.argv[2];
const url = process.env.BENCH_DB_URL;
if (!url || (kind !== 'gateway' && kind !== 'naive')) {
  console.error('usage: BENCH_DB_URL=… node dist-bench/bench/server-process.js gateway|naive');
  process.exit(2);
}
const log = createLogger('warn');
const tokens = createTokenService({ secret: process.env.JWT_SECRET, ttl: '1h', production: false });

let handler: Parameters<typeof createServer>[1];
let close: () => Promise<unknown>;
if (kind === 'gateway') {
  const db = await createDb(
    {
      url,
      poolMax: 4,
      poolTimeoutMs: 10_000,
      statementTimeoutMs: 5_000,
      idleTimeoutMs: 60_000,
      maxConnectionAgeMs: 1_800_000,
      maxWaiting: 100,
      slowQueryMs: 1_000,
    },
    log,
  );
  handler = createApp({
    db,
    tokens,
    limits: { maxPageSize: 100, maxBatchKeys: 500 },
    log,
    production: true,
    corsOrigins: [],
    ready: createReadinessCheck(db),
  });
  close = () => db.end();
} else {
  const naive = createNaiveApp(url, tokens);
  handler = naive.yoga;
  close = naive.close;
}

const server = createServer(handler);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`READY ${typeof address === 'object' && address ? address.port : 0}`);
});
process.on('SIGTERM', () => {
  server.close();
  void close().finally(() => process.exit(0));
});
