/**
 * Registration limits against a real gateway process (addresses chosen per request with
 * CLIENT_IP_HEADER=X-Forwarded-For): one address gets REGISTER_ADDRESS_LIMIT (5) accounts
 * per 10 minutes, however fast and however concurrently it asks; distinct addresses get
 * at least 60 a minute, a burst of 30 included; the global limit holds across addresses.
 * Accounts are counted in the database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_JWT_SECRET } from '../helpers/app.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';

const REGISTER = 'mutation($input: RegisterInput!) { register(input: $input) { token } }';

let db: TestDatabase;
let gateway: GatewayProcess;
let n = 0;

type Answer = { status: number; code: string; retryAfter?: number };

async function register(g: GatewayProcess, address: string): Promise<Answer> {
  const email = `new${n++}@example.com`;
  const r = await fetch(`${g.base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-forwarded-for': address },
    body: JSON.stringify({
      query: REGISTER,
      variables: { input: { email, name: 'New', password: 'a fine password' } },
    }),
  });
  const body = (await r.json()) as { errors?: { extensions?: { code?: string; retryAfter?: number } }[] };
  const error = body.errors?.[0];
  return { status: r.status, code: error?.extensions?.code ?? 'OK', retryAfter: error?.extensions?.retryAfter };
}

const accounts = async () => Number((await db.sql<{ n: string }>('SELECT count(*) AS n FROM users'))[0]!.n);

/** Runs `tasks` with at most `width` at once (a client's small connection pool). */
async function pooled<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}

const env = (extra: Record<string, string> = {}) => ({
  NODE_ENV: 'production',
  JWT_SECRET: TEST_JWT_SECRET,
  DATABASE_URL: db.url,
  SEED_ON_FIRST_START: 'false',
  CLIENT_IP_HEADER: 'X-Forwarded-For',
  ...extra,
});

beforeAll(async () => {
  db = await freshDatabase();
  gateway = await startGateway(env());
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
  await db?.drop();
});

describe('registration limits', () => {
  it('one address creates 5 accounts, then RATE_LIMITED with retryAfter, even asking 20 at once', async () => {
    const before = await accounts();
    const answers = await Promise.all(Array.from({ length: 20 }, () => register(gateway, '203.0.113.7')));
    const created = (await accounts()) - before;
    console.info(`accounts created by one address (20 concurrent requests): ${created} (limit 5 per 10 min)`);
    expect(created).toBe(answers.filter((a) => a.code === 'OK').length);
    expect(created).toBeLessThanOrEqual(5);
    expect(created).toBeGreaterThan(0);
    const limited = answers.filter((a) => a.code === 'RATE_LIMITED');
    expect(limited.length).toBeGreaterThanOrEqual(15);
    for (const a of limited) {
      expect(a.status).toBe(429);
      expect(a.retryAfter).toBeGreaterThan(0);
      expect(a.retryAfter).toBeLessThanOrEqual(600);
    }
    // Whatever else it got was the hashing gate's OVERLOADED (not counted against it).
    expect(answers.filter((a) => !['OK', 'RATE_LIMITED', 'OVERLOADED'].includes(a.code))).toEqual([]);
    // Sequentially, after the burst: still blocked.
    for (let i = 0; i < 5; i++) expect((await register(gateway, '203.0.113.7')).code).toBe('RATE_LIMITED');
    expect((await accounts()) - before).toBe(created);
  });

  it('60 distinct addresses in a minute all register, 30 of them in one burst', async () => {
    const before = await accounts();
    const started = Date.now();
    const burst = await pooled(
      Array.from({ length: 30 }, (_, i) => () => register(gateway, `198.51.100.${i}`)),
      4,
    );
    const burstMs = Date.now() - started;
    const rest = await pooled(
      Array.from({ length: 30 }, (_, i) => () => register(gateway, `198.51.101.${i}`)),
      2,
    );
    console.info(`distinct addresses: burst of 30 in ${burstMs} ms, 60 within ${Date.now() - started} ms`);
    expect(burst.map((a) => a.code)).toEqual(Array(30).fill('OK'));
    expect(rest.map((a) => a.code)).toEqual(Array(30).fill('OK'));
    expect((await accounts()) - before).toBe(60);
  });

  it('the global limit holds whatever the addresses (REGISTER_GLOBAL_LIMIT=3)', async () => {
    const small = await startGateway(env({ REGISTER_GLOBAL_LIMIT: '3' }));
    try {
      const before = await accounts();
      const answers: Answer[] = [];
      for (let i = 0; i < 6; i++) answers.push(await register(small, `192.0.2.${i}`));
      expect(answers.map((a) => a.code)).toEqual(['OK', 'OK', 'OK', 'RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
      expect(answers[3]!.retryAfter).toBeLessThanOrEqual(60);
      expect((await accounts()) - before).toBe(3);
    } finally {
      await small.stop();
    }
  }, 60_000);
});
