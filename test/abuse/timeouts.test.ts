/**
 * Slow clients against a real gateway process with REQUEST_TIMEOUT_MS=3000 (so the headers
 * timeout is 3 s too): a socket that sends its headers a byte at a time, and one that sends
 * its body a byte at a time, are answered 408 and closed within the configured timeout plus a
 * small margin (Node checks its connections every tenth of the smallest timeout, not every 30 s).
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_JWT_SECRET } from '../helpers/app.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';

const TIMEOUT_MS = 3_000;
/** the check interval (300 ms here), the event loop, a loaded CI machine */
const MARGIN_MS = 1_500;

let db: TestDatabase;
let gateway: GatewayProcess;

beforeAll(async () => {
  db = await freshDatabase();
  gateway = await startGateway({
    NODE_ENV: 'production',
    JWT_SECRET: TEST_JWT_SECRET,
    DATABASE_URL: db.url,
    REQUEST_TIMEOUT_MS: String(TIMEOUT_MS),
  });
}, 90_000);
afterAll(async () => {
  await gateway?.stop();
  await db?.drop();
}, 30_000);

/**
 * Opens a socket, writes `head` at once, then one byte of `drip` every `everyMs` until the server
 * closes the socket; resolves with how long after the first byte that took and what came back.
 */
function dripFeed(head: string, drip: string, everyMs: number): Promise<{ ms: number; received: string }> {
  const { hostname, port } = new URL(gateway.base);
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(Number(port), hostname);
    let received = '';
    let started = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (d) => (received += d.toString()));
    socket.on('error', () => {}); // a reset after the 408 is a close too
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ ms: performance.now() - started, received });
    });
    socket.once('connect', () => {
      started = performance.now();
      socket.write(head);
      let i = 0;
      timer = setInterval(() => {
        if (socket.destroyed || i >= drip.length) return;
        socket.write(drip[i++]!);
      }, everyMs);
    });
    setTimeout(() => reject(new Error('the server never closed the socket')), 30_000).unref();
  });
}

describe('REQUEST_TIMEOUT_MS and the headers timeout are the real ones', () => {
  it('closes a slowloris socket (headers a byte every 200 ms) within the headers timeout + margin', async () => {
    const header = `X-Slow: ${'a'.repeat(200)}\r\n`;
    const r = await dripFeed(`GET /health HTTP/1.1\r\nHost: ${new URL(gateway.base).host}\r\n`, header, 200);
    expect(r.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(r.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    expect(r.ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
  });

  it('cuts a slow body (a byte every 200 ms of a 1,000-byte body) within REQUEST_TIMEOUT_MS + margin', async () => {
    const body = JSON.stringify({ query: `{ cuisines } #${'x'.repeat(1000)}` }).slice(0, 1000);
    const head =
      `POST /graphql HTTP/1.1\r\nHost: ${new URL(gateway.base).host}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const r = await dripFeed(head, body, 200);
    expect(r.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(r.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    expect(r.ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
  });

  it('still answers a normal request on the same process', async () => {
    const r = await fetch(`${gateway.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ cuisines }' }),
    });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { data?: { cuisines: string[] } }).data?.cuisines).toEqual(expect.any(Array));
  });
});
