/**
 * Accounts: register and login, password storage, tokens, login throttling (in process
 * and in Redis), legacy hashes upgraded on login.
 */
import { createHash, scryptSync } from 'node:crypto';
import { Writable } from 'node:stream';
import bcrypt from 'bcryptjs';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOGIN_FAILED } from '../src/auth/accounts.ts';
import { createTokenService } from '../src/auth/jwt.ts';
import { createLocalThrottle, createRedisThrottle } from '../src/auth/throttle.ts';
import { clientAddress } from '../src/client-address.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/observability/logger.ts';
import { createRedis, redisReady } from '../src/redis.ts';
import { createTestApp, type GraphQLResponse, type TestApp } from './helpers/app.ts';
import { requireProgram } from './helpers/programs.ts';
import { startRedis, type TestRedis } from './helpers/redis.ts';

type Auth = { token: string; user: { id: string; email: string; name: string } };

const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { token user { id email name } } }`;
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { token user { id email } } }`;

/** Every log line the app writes (trace level), to check what never appears in them. */
const logLines: string[] = [];
const logSink = new Writable({
  write(chunk, _enc, done) {
    logLines.push(String(chunk));
    done();
  },
});

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ clientIpHeader: 'x-client-ip', log: createLogger('trace', logSink) });
});
afterAll(() => t?.close());

let n = 0;
/** A fresh email and a client address of its own, so throttling in one test never leaks into another. */
function fresh() {
  n += 1;
  return { email: `user${n}@example.com`, ip: `10.0.0.${n}` };
}

function register(input: { email: string; name?: string; password: string }, ip = '10.9.9.9') {
  return t.gql<{ register: Auth }>(
    REGISTER,
    { input: { name: 'Someone', ...input } },
    { headers: { 'x-client-ip': ip } },
  );
}
function login(email: string, password: string, ip: string) {
  return t.gql<{ login: Auth }>(LOGIN, { input: { email, password } }, { headers: { 'x-client-ip': ip } });
}
const code = (r: GraphQLResponse) => r.body.errors?.[0]?.extensions?.code;
const userCount = async () => Number((await t.db.sql<{ n: string }>('SELECT count(*) AS n FROM users'))[0]!.n);

describe('register', () => {
  it('creates the user with a normalised email and an argon2id hash, and signs it in', async () => {
    const r = await register({ email: '  Mixed.Case@Example.COM ', name: ' Ana ', password: 'correct horse' });
    expect(r.body.errors).toBeUndefined();
    const { token, user } = r.body.data!.register;
    expect(user.email).toBe('mixed.case@example.com');
    expect(user.name).toBe('Ana');
    const [row] = await t.db.sql<{ id: string; password_hash: string }>(
      `SELECT id, password_hash FROM users WHERE email = 'mixed.case@example.com'`,
    );
    expect(row!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(row!.password_hash).not.toContain('correct horse');
    expect(user.id).toBe(Buffer.from(`User:${row!.id}`).toString('base64'));
    // The token works at once.
    const me = await t.gql<{ me: { email: string } }>('{ me { email } }', {}, { token });
    expect(me.body.data?.me.email).toBe('mixed.case@example.com');
  });

  it.each([
    ['a malformed email', { email: 'not-an-email', password: 'long enough' }, 'email'],
    ['a password under 8 characters', { email: 'short@example.com', password: '1234567' }, 'password'],
    ['an empty name', { email: 'noname@example.com', name: '   ', password: 'long enough' }, 'name'],
    ['an email over 255 characters', { email: `${'a'.repeat(250)}@example.com`, password: 'long enough' }, 'email'],
  ])('refuses %s with BAD_USER_INPUT naming the field, writing nothing', async (_label, input, field) => {
    const before = await userCount();
    const r = await register(input);
    expect(code(r)).toBe('BAD_USER_INPUT');
    expect(r.body.errors?.[0]?.extensions?.field).toBe(field);
    expect(r.body.errors?.[0]?.message).toMatch(new RegExp(`^${field}: `));
    expect(await userCount()).toBe(before);
  });

  it('refuses a taken email, whatever its case', async () => {
    const { email } = fresh();
    expect((await register({ email, password: 'first password' })).body.errors).toBeUndefined();
    const again = await register({ email: email.toUpperCase(), password: 'second password' });
    expect(code(again)).toBe('BAD_USER_INPUT');
    expect(again.body.errors?.[0]?.extensions?.field).toBe('email');
    const rows = await t.db.sql('SELECT 1 FROM users WHERE lower(email) = $1', [email]);
    expect(rows).toHaveLength(1);
  });

  it('lets exactly one of two concurrent registrations of an email win', async () => {
    const { email } = fresh();
    const results = await Promise.all([
      register({ email, password: 'password one' }),
      register({ email, password: 'password two' }),
    ]);
    const codes = results.map((r) => (r.body.errors ? code(r) : 'OK')).sort();
    expect(codes).toEqual(['BAD_USER_INPUT', 'OK']);
    expect(await t.db.sql('SELECT 1 FROM users WHERE email = $1', [email])).toHaveLength(1);
  });
});

describe('login', () => {
  it('signs in with any case and surrounding spaces in the email; the token carries the user and JWT_TTL', async () => {
    const { email, ip } = fresh();
    const reg = await register({ email, password: 'my password' });
    const r = await login(`  ${email.toUpperCase()} `, 'my password', ip);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.login.user.id).toBe(reg.body.data?.register.user.id);
    const claims = decodeJwt(r.body.data!.login.token);
    expect(claims.iss).toBe('tastematch-gateway');
    expect(claims.aud).toBe('tastematch');
    expect(claims.exp! - claims.iat!).toBe(3600); // the test app's JWT_TTL is 1h
  });

  it('answers an unknown email and a wrong password alike: 401, UNAUTHENTICATED, one message', async () => {
    const { email, ip } = fresh();
    await register({ email, password: 'right password' });
    const wrong = await login(email, 'wrong password', ip);
    const unknown = await login(`nobody-${email}`, 'right password', ip);
    for (const r of [wrong, unknown]) {
      expect(r.status).toBe(401);
      expect(code(r)).toBe('UNAUTHENTICATED');
      expect(r.body.errors?.[0]?.message).toBe(LOGIN_FAILED);
      expect(r.body.data).toBeNull();
    }
  });

  it('never writes a password into the logs', async () => {
    const { email, ip } = fresh();
    const secret = 'Sup3r-Secret-Passphrase';
    await register({ email, password: secret });
    await login(email, secret, ip);
    await login(email, `${secret}-wrong`, ip);
    await t.gql('mutation { register(input: {email: "x", name: "y", password: "Inline-Secret-123"}) { token } }');
    expect(logLines.length).toBeGreaterThan(0);
    const all = logLines.join('\n');
    expect(all).not.toContain(secret);
    expect(all).not.toContain('Inline-Secret-123');
  });
});

describe('login throttling', () => {
  it('blocks an email after 10 failures, even with the right password: 429, Retry-After, RATE_LIMITED', async () => {
    const { email } = fresh();
    await register({ email, password: 'right password' });
    // Failures from ten different addresses: only the email's count reaches the limit.
    for (let i = 0; i < 10; i++) expect(code(await login(email, 'wrong', `10.1.${n}.${i}`))).toBe('UNAUTHENTICATED');
    const blocked = await login(email, 'right password', '10.2.0.1');
    expect(blocked.status).toBe(429);
    expect(code(blocked)).toBe('RATE_LIMITED');
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(blocked.body.errors?.[0]?.extensions?.retryAfter).toBe(retryAfter);
    // Another account from the same address is unaffected.
    const other = fresh();
    await register({ email: other.email, password: 'other password' });
    expect((await login(other.email, 'other password', '10.2.0.1')).body.errors).toBeUndefined();
  });

  it('blocks a client address after 10 failures, whatever the emails', async () => {
    const { email, ip } = fresh();
    await register({ email, password: 'right password' });
    for (let i = 0; i < 10; i++) await login(`nobody${i}-${email}`, 'wrong', ip);
    expect(code(await login(email, 'right password', ip))).toBe('RATE_LIMITED');
    expect((await login(email, 'right password', `${ip}0`)).body.errors).toBeUndefined();
  });

  it("a successful login clears the email's failures", async () => {
    const { email } = fresh();
    await register({ email, password: 'right password' });
    for (let i = 0; i < 9; i++) await login(email, 'wrong', `10.3.${n}.${i}`);
    expect((await login(email, 'right password', '10.3.1.1')).body.errors).toBeUndefined();
    for (let i = 0; i < 9; i++) await login(email, 'wrong', `10.4.${n}.${i}`);
    expect((await login(email, 'right password', '10.4.1.1')).body.errors).toBeUndefined();
  });

  it('counts in a bounded in-process cache and frees a key when its window ends', async () => {
    const throttle = createLocalThrottle(3);
    const limit = (key: string) => ({ key, max: 2, windowMs: 200 });
    expect(await throttle.reserve([limit('a')])).toBe(0);
    expect(await throttle.reserve([limit('a')])).toBe(0);
    expect(await throttle.reserve([limit('a')])).toBeGreaterThan(0);
    // Bounded: three newer keys push the oldest out.
    expect(await throttle.reserve([limit('b'), limit('c'), limit('d')])).toBe(0);
    expect(await throttle.reserve([limit('a')])).toBe(0);
    await throttle.reserve([limit('e')]);
    await throttle.reserve([limit('e')]);
    expect(await throttle.reserve([limit('e')])).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 250));
    expect(await throttle.reserve([limit('e')])).toBe(0);
  });
});

describe('legacy password hashes', () => {
  async function userWithHash(email: string, hash: string) {
    await t.db.sql(`INSERT INTO users (email, name, password_hash) VALUES ($1, 'Legacy', $2)`, [email, hash]);
  }
  const storedHash = async (email: string) =>
    (await t.db.sql<{ password_hash: string }>('SELECT password_hash FROM users WHERE email = $1', [email]))[0]!
      .password_hash;

  it("verifies the original backend's bcrypt hashes and upgrades them to argon2id on login", async () => {
    const { email, ip } = fresh();
    const legacy = bcrypt.hashSync('123456', 4);
    await userWithHash(email, legacy);
    expect(code(await login(email, 'wrong', ip))).toBe('UNAUTHENTICATED');
    expect(await storedHash(email)).toBe(legacy);
    expect((await login(email, '123456', ip)).body.errors).toBeUndefined();
    expect(await storedHash(email)).toMatch(/^\$argon2id\$/);
    expect((await login(email, '123456', ip)).body.errors).toBeUndefined();
  });

  it('verifies scrypt hashes of earlier demo data and upgrades them', async () => {
    const { email, ip } = fresh();
    const salt = createHash('sha256').update('salt').digest().subarray(0, 16);
    const key = scryptSync('tastematch-demo', salt, 32, { N: 16384, r: 8, p: 1 });
    const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
    await userWithHash(email, `scrypt$N=16384,r=8,p=1$${b64(salt)}$${b64(key)}`);
    expect((await login(email, 'tastematch-demo', ip)).body.errors).toBeUndefined();
    expect(await storedHash(email)).toMatch(/^\$argon2id\$/);
  });

  it('never verifies an unknown hash format', async () => {
    const { email, ip } = fresh();
    await userWithHash(email, 'plaintext-password');
    expect(code(await login(email, 'plaintext-password', ip))).toBe('UNAUTHENTICATED');
  });
});

describe('tokens and configuration', () => {
  it('a valid token of a deleted account cannot write: UNAUTHENTICATED (401), nothing written', async () => {
    const { email } = fresh();
    const reg = await register({ email, password: 'soon deleted' });
    const token = reg.body.data!.register.token;
    await t.db.sql('DELETE FROM users WHERE email = $1', [email]);
    const [r] = await t.db.sql<{ id: string }>(
      `INSERT INTO restaurants (name, cuisine_type, rating) VALUES ('Gone', 'italian', 4) RETURNING id`,
    );
    const orders = async () => Number((await t.db.sql<{ n: string }>('SELECT count(*) AS n FROM orders'))[0]!.n);
    const before = await orders();
    const res = await t.gql(
      `mutation($r: ID!) { createOrder(input: {restaurantId: $r, items: [{name: "x", quantity: 1, price: 1}]}) { id } }`,
      { r: Buffer.from(`Restaurant:${r!.id}`).toString('base64') },
      { token },
    );
    expect(res.status).toBe(401);
    expect(code(res)).toBe('UNAUTHENTICATED');
    expect(await orders()).toBe(before);
  });

  it('refuses to start without a JWT_SECRET in production, and with a weak one in any mode', () => {
    expect(() => createTokenService({ ttl: '1h', production: true })).toThrow(/JWT_SECRET/);
    expect(() => createTokenService({ secret: 'short', ttl: '1h', production: true })).toThrow(/32 bytes/);
    expect(() => createTokenService({ secret: 'x'.repeat(32), ttl: '1h', production: true })).toThrow(
      /10 distinct characters/,
    );
    expect(() => createTokenService({ secret: 'ab'.repeat(40), ttl: '1h', production: false })).toThrow(/JWT_SECRET/);
    const strong = 'k7Qw-9zX_2mN4pL8vR1tY6uB3cE5hJ0a';
    expect(createTokenService({ secret: strong, ttl: '1h', production: true }).generated).toBe(false);
    expect(createTokenService({ ttl: '1h', production: false }).generated).toBe(true);
  });

  it('a verified token is remembered only until it expires, and a tampered one is never taken for it', async () => {
    const tokens = createTokenService({ secret: 'k7Qw-9zX_2mN4pL8vR1tY6uB3cE5hJ0a', ttl: '60s', production: true });
    const token = await tokens.sign('42');
    expect(await tokens.verify(token)).toBe('42');
    expect(await tokens.verify(token)).toBe('42'); // from the cache
    await expect(tokens.verify(`${token.slice(0, -2)}xx`)).rejects.toThrow();
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 120_000); // past exp + the 5 s tolerance
      await expect(tokens.verify(token)).rejects.toThrow();
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a JWT_TTL that is not a duration, and accepts the usual ones', () => {
    expect(() => loadConfig({ JWT_TTL: 'forever' })).toThrow(/JWT_TTL/);
    expect(() => loadConfig({ JWT_TTL: '-5m' })).toThrow(/JWT_TTL/);
    for (const ttl of ['15m', '24h', '7d', '3600s', '2 weeks']) expect(loadConfig({ JWT_TTL: ttl }).jwt.ttl).toBe(ttl);
  });

  it('takes the client address from CLIENT_IP_HEADER only when configured; otherwise the TCP peer', () => {
    const req = { socket: { remoteAddress: '192.0.2.7' } } as never;
    const spoofed = new Request('http://x/graphql', { headers: { 'fly-client-ip': '203.0.113.9' } });
    expect(clientAddress(spoofed, req, undefined)).toBe('192.0.2.7');
    expect(clientAddress(spoofed, req, 'Fly-Client-IP')).toBe('203.0.113.9');
    expect(clientAddress(new Request('http://x/graphql'), req, 'Fly-Client-IP')).toBe('192.0.2.7');
    expect(clientAddress(new Request('http://x/graphql'), undefined, undefined)).toBe('unknown');
    // X-Forwarded-For: the entry the trusted proxy appended (rightmost by default), never the client's own.
    const xff = new Request('http://x/graphql', { headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.4, 10.0.0.2' } });
    expect(clientAddress(xff, req, 'X-Forwarded-For')).toBe('10.0.0.2');
    expect(clientAddress(xff, req, 'X-Forwarded-For', 2)).toBe('198.51.100.4');
    expect(clientAddress(xff, req, 'X-Forwarded-For', 5)).toBe('6.6.6.6');
    const single = new Request('http://x/graphql', { headers: { 'fly-client-ip': ' 203.0.113.9 ' } });
    expect(clientAddress(single, req, 'Fly-Client-IP', 3)).toBe('203.0.113.9');
  });

  it('refuses a CLIENT_IP_HEADER that is not a header name', () => {
    expect(() => loadConfig({ CLIENT_IP_HEADER: 'Fly Client IP' })).toThrow(/CLIENT_IP_HEADER/);
    expect(loadConfig({ CLIENT_IP_HEADER: 'Fly-Client-IP' }).clientIpHeader).toBe('Fly-Client-IP');
  });
});

describe.runIf(requireProgram('redis-server'))('login throttling in Redis (REDIS_URL)', () => {
  let redisServer: TestRedis;
  const log = createLogger('silent');
  beforeAll(async () => {
    redisServer = await startRedis();
  });
  afterAll(() => redisServer?.stop());

  it('counts failures across replicas: two processes share one limit', async () => {
    const [r1, r2] = [createRedis(redisServer.url, log), createRedis(redisServer.url, log)];
    try {
      expect(await redisReady(r1)).toBe(true);
      expect(await redisReady(r2)).toBe(true);
      const limit = [{ key: 'email:shared@example.com', max: 10, windowMs: 60_000 }];
      const [replica1, replica2] = [createRedisThrottle(r1, log), createRedisThrottle(r2, log)];
      for (let i = 0; i < 5; i++) expect(await replica1.reserve(limit)).toBe(0);
      for (let i = 0; i < 5; i++) expect(await replica2.reserve(limit)).toBe(0);
      const wait = await replica1.reserve(limit);
      expect(wait).toBeGreaterThan(50_000);
      expect(wait).toBeLessThanOrEqual(60_000);
      // No TTL (eviction by volatile-* policies never drops it): the window's end is in the hash.
      const key = 'tastematch:throttle:email:shared@example.com';
      expect(await r1.pttl(key)).toBe(-1);
      expect(await r1.hgetall(key)).toMatchObject({ count: '10' });
      await replica2.reset('email:shared@example.com');
      expect(await replica1.reserve(limit)).toBe(0);
    } finally {
      r1.disconnect();
      r2.disconnect();
    }
  });

  it('throttles logins through the API with a Redis throttle', async () => {
    const redis = createRedis(redisServer.url, log);
    expect(await redisReady(redis)).toBe(true);
    const app = await createTestApp({
      clientIpHeader: 'x-client-ip',
      loginThrottle: createRedisThrottle(redis, log, `test${Date.now()}:`),
    });
    try {
      await app.gql(REGISTER, { input: { email: 'r@example.com', name: 'R', password: 'right password' } });
      const attempt = (password: string, ip: string) =>
        app.gql(LOGIN, { input: { email: 'r@example.com', password } }, { headers: { 'x-client-ip': ip } });
      for (let i = 0; i < 10; i++) expect(code(await attempt('wrong', `10.5.0.${i}`))).toBe('UNAUTHENTICATED');
      expect(code(await attempt('right password', '10.5.1.1'))).toBe('RATE_LIMITED');
    } finally {
      redis.disconnect();
      await app.close();
    }
  });

  it('falls back to counting in the process when Redis is away, and never fails a login for it', async () => {
    const other = await startRedis();
    const redis = createRedis(other.url, log);
    expect(await redisReady(redis)).toBe(true);
    await other.stop();
    try {
      const throttle = createRedisThrottle(redis, log);
      const limit = [{ key: 'k', max: 2, windowMs: 60_000 }];
      expect(await throttle.reserve(limit)).toBe(0);
      expect(await throttle.reserve(limit)).toBe(0);
      expect(await throttle.reserve(limit)).toBeGreaterThan(0);
      await throttle.reset('k');
      expect(await throttle.reserve(limit)).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
});
