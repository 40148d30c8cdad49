/**
 * One benchmarked server in its own process (so its RSS and CPU time are its own):
 * `node dist-bench/bench/server-process.js gateway|naive` (compiled by bench/run.ts), with BENCH_DB_URL and
 * JWT_SECRET. Listens on a free port of 127.0.0.1, prints `READY <port>`, exits on SIGTERM and when its
 * stdin closes (so it never outlives bench/run.ts, even when that one is killed).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createApp } from '../src/app.ts';
import { createTokenService } from '../src/auth/jwt.ts';
import { createLocalThrottle, LOGIN_THROTTLE } from '../src/auth/throttle.ts';
import { createDb } from '../src/db/pool.ts';
import { createReadinessCheck } from '../src/http/readiness.ts';
import { createLogger } from '../src/logger.ts';
import { createServices } from '../src/services.ts';
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
  const services = await createServices(
    db,
    {
      ml: {
        modelPath: process.env.MODEL_PATH,
        batchSize: 16,
        threads: 1,
        idleMs: 300_000,
        vectorIndex: 'auto',
        syncMs: 30_000,
      },
      cache: { maxBytes: 32 * 2 ** 20, ttlMs: 3_600_000 },
    },
    log,
  );
  handler = createApp({
    ml: services.ml,
    recommender: services.recommender,
    db,
    tokens,
    limits: { maxPageSize: 100, maxBatchKeys: 500 },
    loginThrottle: createLocalThrottle(LOGIN_THROTTLE),
    log,
    production: true,
    corsOrigins: [],
    ready: createReadinessCheck(db),
  });
  close = async () => {
    await services.close();
    await db.end();
  };
} else {
  const naive = createNaiveApp(url, tokens);
  handler = naive.yoga;
  close = naive.close;
}

// In-flight requests are counted so that a stop lets them finish before the pool closes (autocannon
// ends a run with up to 10 requests still being answered).
type Listener = (req: IncomingMessage, res: ServerResponse) => unknown;
let inFlight = 0;
let onIdle: (() => void) | undefined;
const finished = () => {
  if (--inFlight === 0) onIdle?.();
};
const server = createServer((req, res) => {
  inFlight++;
  let result: unknown;
  try {
    result = (handler as Listener)(req, res);
  } catch (error) {
    finished();
    throw error;
  }
  if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
    (result as PromiseLike<unknown>).then(finished, finished);
  } else {
    res.once('close', finished);
  }
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`READY ${typeof address === 'object' && address ? address.port : 0}`);
});

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  server.close();
  server.closeIdleConnections();
  const idle = new Promise<void>((resolve) => {
    onIdle = resolve;
    if (inFlight === 0) resolve();
  });
  await Promise.race([idle, new Promise((resolve) => setTimeout(resolve, 3_000))]);
  server.closeAllConnections();
  await close().catch(() => {});
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.on('error', () => void stop());
process.stdin.resume();
