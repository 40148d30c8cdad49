/**
 * What every peer process of the benchmark shares (bench/naive-server.ts, bench/postgraphile-server.ts,
 * bench/sql-floor-server.ts): a node:http server on a free port of 127.0.0.1 that prints `READY <port>`,
 * and a stop on SIGTERM or when stdin closes that lets in-flight requests finish (autocannon ends a run
 * with up to 10 requests still being answered) before the pool closes, within 3 s.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

type Listener = (req: IncomingMessage, res: ServerResponse) => unknown;

export function servePeer(handler: Listener, close: () => Promise<unknown>) {
  let inFlight = 0;
  let onIdle: (() => void) | undefined;
  const server = createServer((req, res) => {
    inFlight++;
    res.once('close', () => {
      if (--inFlight === 0) onIdle?.();
    });
    handler(req, res);
  });
  server.keepAliveTimeout = 65_000;
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
}
