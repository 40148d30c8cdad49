/**
 * SIGTERM under load, against a real gateway process: several keep-alive clients run queries
 * and createOrder mutations; the gateway drains. Every request gets a complete answer or a
 * connection refusal before it is sent (never a reset after it was sent), every order the
 * database stored was acknowledged to its client, the log has no error line, and the process
 * exits 0 well before the drain bound.
 */
import { Agent, type ClientRequest, request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signTestToken, TEST_JWT_SECRET } from '../helpers/app.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { insertRestaurants, insertUser } from '../helpers/fixtures.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';

const SHUTDOWN_TIMEOUT_MS = 10_000;
const CLIENTS = 6;

let db: TestDatabase;
let gateway: GatewayProcess;
let token: string;
let userId: string;

beforeAll(async () => {
  db = await freshDatabase();
  await insertRestaurants(db, 30);
  userId = await insertUser(db, 'drain@example.com');
  token = await signTestToken(userId);
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
  await db?.drop();
}, 30_000);

type Outcome =
  | { kind: 'answer'; status: number; body: string; connection: string | undefined; at: number }
  | { kind: 'refused' }
  | { kind: 'reset'; error: string };

/** One POST /graphql on `agent`: a complete answer, a refusal before sending, or anything else (a reset). */
function post(base: string, agent: Agent, body: unknown): Promise<Outcome> {
  const url = new URL('/graphql', base);
  return new Promise((resolve) => {
    const req: ClientRequest = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () =>
          resolve({
            kind: 'answer',
            status: res.statusCode ?? 0,
            body: text,
            connection: res.headers.connection,
            at: performance.now(),
          }),
        );
        res.on('error', (e) => resolve({ kind: 'reset', error: `response: ${e.message}` }));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve(e.code === 'ECONNREFUSED' ? { kind: 'refused' } : { kind: 'reset', error: `${e.code} ${e.message}` }),
    );
    req.end(JSON.stringify(body));
  });
}

describe('SIGTERM under load', () => {
  it('drains: complete answers or refusals only, every stored order acknowledged, no error logged', async () => {
    gateway = await startGateway({
      NODE_ENV: 'production',
      JWT_SECRET: TEST_JWT_SECRET,
      DATABASE_URL: db.url,
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    });
    const base = gateway.base;
    const ids = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ restaurants(first: 10) { edges { node { id } } } }' }),
    })
      .then((r) => r.json() as Promise<{ data: { restaurants: { edges: { node: { id: string } }[] } } }>)
      .then((j) => j.data.restaurants.edges.map((e) => e.node.id));
    expect(ids).toHaveLength(10);

    const acknowledged = new Set<string>();
    const resets: string[] = [];
    const outcomes: Outcome[] = [];
    let sigtermAt = Number.POSITIVE_INFINITY;
    let answersBeforeSigterm = 0;
    const client = async (c: number) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let i = 0; ; i++) {
          const key = `drain-${c}-${i}`;
          const body =
            i % 2 === 0
              ? {
                  query: 'mutation ($input: CreateOrderInput!) { createOrder(input: $input) { id } }',
                  variables: {
                    input: {
                      restaurantId: ids[(c + i) % ids.length],
                      idempotencyKey: key,
                      items: [{ name: 'Dish', quantity: 1 + (i % 3), price: 9.5 }],
                    },
                  },
                }
              : { query: '{ restaurants(first: 20) { edges { node { id name description rating } } } }' };
          const o = await post(base, agent, body);
          outcomes.push(o);
          if (o.kind === 'refused') return;
          if (o.kind === 'reset') {
            resets.push(o.error);
            return;
          }
          if (o.at < sigtermAt) answersBeforeSigterm++;
          const parsed = JSON.parse(o.body) as { data?: { createOrder?: { id: string } }; errors?: unknown[] };
          if (parsed.data?.createOrder?.id) acknowledged.add(key);
        }
      } finally {
        agent.destroy();
      }
    };

    // An idle keep-alive socket (one answer, then nothing): closed by the drain, not held to its end.
    const { hostname, port } = new URL(base);
    const idle = connect(Number(port), hostname);
    const idleClosed = new Promise<number>((resolve) => idle.on('close', () => resolve(performance.now())));
    idle.on('error', () => {});
    await new Promise<void>((resolve) => {
      idle.once('data', () => resolve());
      idle.write(`GET /health HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
    });

    const running = Array.from({ length: CLIENTS }, (_, c) => client(c));
    // Load first: every client has had answers before the signal.
    while (answersBeforeSigterm < CLIENTS * 20) await new Promise((r) => setTimeout(r, 20));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      gateway.child.once('exit', (code) => resolve({ code, at: performance.now() })),
    );
    sigtermAt = performance.now();
    gateway.child.kill('SIGTERM');
    await Promise.all(running);
    const exit = await exited;

    expect(resets).toEqual([]);
    const answers = outcomes.filter((o) => o.kind === 'answer');
    expect(answers.every((o) => o.status === 200)).toBe(true);
    // Requests in flight at the signal were answered, with Connection: close.
    const during = answers.filter((o) => o.at > sigtermAt);
    expect(during.length).toBeGreaterThan(0);
    expect(during.some((o) => o.connection === 'close')).toBe(true);
    // Every client ended on a refused connection (the listener closed), not on an error.
    expect(outcomes.filter((o) => o.kind === 'refused')).toHaveLength(CLIENTS);

    const stored = await db.sql<{ idempotency_key: string }>(
      'SELECT idempotency_key FROM orders WHERE user_id = $1::int8',
      [userId],
    );
    const storedKeys = new Set(stored.map((r) => r.idempotency_key));
    expect(storedKeys.size).toBeGreaterThan(0);
    expect([...storedKeys].filter((k) => !acknowledged.has(k))).toEqual([]);
    expect([...acknowledged].filter((k) => !storedKeys.has(k))).toEqual([]);

    expect(exit.code).toBe(0);
    // The idle socket did not wait for the bound, nor did the process.
    expect((await idleClosed) - sigtermAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS / 2);
    expect(exit.at - sigtermAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS / 2);
    const lines = gateway
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg?: string });
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(lines.some((l) => l.msg === 'stopped')).toBe(true);
    expect(lines.some((l) => /shutdown timeout/.test(l.msg ?? ''))).toBe(false);
    console.log(
      `SIGTERM under load: ${answers.length} answers (${during.length} after the signal), ` +
        `${acknowledged.size} orders acknowledged = ${storedKeys.size} stored, ` +
        `${lines.filter((l) => l.level >= 50).length} error lines, exit after ${Math.round(exit.at - sigtermAt)} ms`,
    );
  }, 60_000);

  it('answers a request sent on an existing keep-alive socket after SIGTERM, with Connection: close', async () => {
    const g = await startGateway({ NODE_ENV: 'production', JWT_SECRET: TEST_JWT_SECRET, DATABASE_URL: db.url });
    const { hostname, port } = new URL(g.base);
    const socket = connect(Number(port), hostname);
    let received = '';
    socket.on('data', (d) => (received += d.toString()));
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const body = JSON.stringify({ query: '{ cuisines }' });
    const send = () =>
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\n\r\n${body}`,
      );
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    send();
    while (!/\r\n\r\n\{.*\}$/s.test(received)) await new Promise((r) => setTimeout(r, 10));
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(received.toLowerCase()).toContain('connection: keep-alive');
    received = '';
    const exited = new Promise((resolve) => g.child.once('exit', resolve));
    g.child.kill('SIGTERM');
    // The drain has begun, and the socket is within its idle grace: the request is served.
    await new Promise((r) => setTimeout(r, 300));
    send();
    await closed;
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(received.toLowerCase()).toContain('connection: close');
    expect(received).toContain('"cuisines"');
    expect(await exited).toBe(0);
  }, 60_000);
});
