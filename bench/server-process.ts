/**
 * One benchmarked server in its own process (so its RSS and CPU time are its own):
 * `node dist-bench/bench/server-process.js gateway|naive` (compiled and started by bench/common.ts), with
 * BENCH_DB_URL and JWT_SECRET. Listens on a free port of 127.0.0.1, prints `READY <port>`, exits on SIGTERM
 * and when its stdin closes (so it never outlives the bench, even when that one is killed).
 *
 * The gateway is src/gateway.ts's `createGateway`, configured from the environment by the real server's
 * `loadConfig()` (src/config.ts): pool, page and batch limits, query limits and cost, backpressure and memory
 * shedding, body size, persisted operations (the manifest by `loadManifest()` unless PERSISTED_OPERATIONS=off),
 * HTTP timeouts, embeddings and cache, NODE_ENV (production when unset). Only the database URL (BENCH_DB_URL),
 * the log level (warn unless LOG_LEVEL is set) and the load figures of /health and /metrics on the main port
 * differ from src/server.ts; bench/common.ts passes the README's defaults.
 * SIGUSR2 prints the event-loop delay since the last one (`LOOP {…}`; bench/common.ts `loopDelay()`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createTokenService } from '../src/auth/jwt.ts';
import { loadConfig } from '../src/config.ts';
import { createDb } from '../src/db/pool.ts';
import { createGateway } from '../src/gateway.ts';
import { createLogger } from '../src/observability/logger.ts';
import { createNaiveApp } from './naive-app.ts';

const kind = process.argv[2];
const url = process.env.BENCH_DB_URL;
if (!url || (kind !== 'gateway' && kind !== 'naive')) {
  console.error('usage: BENCH_DB_URL=… node dist-bench/bench/server-process.js gateway|naive');
  process.exit(2);
}
process.env.NODE_ENV ??= 'production';
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
const log = createLogger(process.env.LOG_LEVEL ? config.logLevel : 'warn');

let handler: Parameters<typeof createServer>[1];
let close: () => Promise<unknown>;
if (kind === 'gateway') {
  const db = await createDb({ url, ...config.db }, log);
  // The flood reads its load figures from /health and /metrics on the one port it knows.
  const gateway = await createGateway(config, { db, log, detailedHealth: true, metricsEndpoint: true });
  handler = gateway.app;
  close = async () => {
    await gateway.close();
    await db.end();
  };
} else {
  const tokens = createTokenService({ secret: process.env.JWT_SECRET, ttl: '1h', production: false });
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
if (kind === 'gateway') {
  // As src/server.ts: the whole request within REQUEST_TIMEOUT_MS, headers within 10 s, idle keep-alive 65 s.
  server.requestTimeout = config.http.requestTimeoutMs;
  server.headersTimeout = Math.min(10_000, config.http.requestTimeoutMs);
  server.keepAliveTimeout = 65_000;
  server.maxHeadersCount = 100;
}
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`READY ${typeof address === 'object' && address ? address.port : 0}`);
});

// For the bench: SIGUSR2 prints `LOOP {"p50","p99","max","count"}` (ms, the event-loop delay since the previous
// SIGUSR2 or the start) and starts afresh. Handled on the event loop, so printed once the loop is free.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
process.on('SIGUSR2', () => {
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const { count } = loopDelay;
  console.log(
    `LOOP ${JSON.stringify({ p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max), count })}`,
  );
  loopDelay.reset();
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
