/**
 * APQ registration floods against a real gateway process (NODE_ENV=production) over a
 * capped private redis-server (64 MB, volatile-lru): junk bodies with matching hashes
 * are refused and stored nowhere; valid documents stop at APQ_MAX_DOCUMENTS /
 * APQ_MAX_BYTES, locally and in Redis; one address registers at most
 * APQ_REGISTRATIONS_PER_MINUTE documents (the others still run); a wrong hash is 400
 * with nothing stored. At start the gateway warns about a Redis that can evict keys.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_JWT_SECRET } from '../helpers/app.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';
import { requireProgram } from '../helpers/programs.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';

const ADDRESS_HEADER = 'X-Test-Client';
const MAX_DOCUMENTS = 20;
const MAX_BYTES = 40_000;
const PER_MINUTE = 5;
const JUNK_REQUESTS = 2_000;
const JUNK_BYTES = 19_000; // under MAX_QUERY_BYTES (20,000): it reaches the parser
const WARNING = /Redis maxmemory-policy is/;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const have = requireProgram('redis-server');

type Body = { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };
type Reply = { status: number; body: Body };

async function post(g: GatewayProcess, payload: unknown, address = '203.0.113.1'): Promise<Reply> {
  const res = await fetch(`${g.base}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      [ADDRESS_HEADER]: address,
    },
    body: JSON.stringify(payload),
  });
  return { status: res.status, body: (await res.json()) as Body };
}
const apq = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });
const register = (g: GatewayProcess, query: string, address?: string, hash = sha256(query)) =>
  post(g, { query, extensions: apq(hash) }, address);
const byHash = (g: GatewayProcess, hash: string) => post(g, { extensions: apq(hash) });
const codeOf = (r: Reply) => r.body.errors?.[0]?.extensions?.code;

/** Every key of Redis matching `pattern` (SCAN, not KEYS). */
async function keys(redis: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  return found;
}
const APQ_KEYS = 'tastematch:apq:*';
const OLD_PQ_KEYS = 'tastematch:cache:pq:*';
/** The APQ documents Redis holds (the index is not one). */
const storedDocuments = async (redis: Redis) => (await keys(redis, 'tastematch:apq:doc:*')).length;

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

/** Runs `task(i)` for i < n with at most `width` in flight. */
async function pool(n: number, width: number, task: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

describe.skipIf(!have)('APQ floods against a gateway over a capped Redis (volatile-lru)', () => {
  let db: TestDatabase;
  let redisServer: TestRedis;
  let redis: Redis;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    [db, redisServer] = await Promise.all([
      freshDatabase(),
      startRedis(['--maxmemory', '64mb', '--maxmemory-policy', 'volatile-lru']),
    ]);
    redis = new Redis(redisServer.url, { lazyConnect: false });
    gateway = await startGateway(
      {
        NODE_ENV: 'production',
        JWT_SECRET: TEST_JWT_SECRET,
        DATABASE_URL: db.url,
        REDIS_URL: redisServer.url,
        CLIENT_IP_HEADER: ADDRESS_HEADER,
        APQ_MAX_DOCUMENTS: String(MAX_DOCUMENTS),
        APQ_MAX_BYTES: String(MAX_BYTES),
        APQ_REGISTRATIONS_PER_MINUTE: String(PER_MINUTE),
        VECTOR_SYNC_MS: '0',
      },
      { nodeArgs: ['--max-old-space-size=448'] },
    );
  }, 90_000);
  afterAll(async () => {
    await gateway?.stop();
    redis?.disconnect();
    await redisServer?.stop();
    await db?.drop();
  });

  it(`refuses ${JUNK_REQUESTS} junk bodies with matching hashes, and Redis does not grow`, async () => {
    const memoryBefore = await usedMemory(redis);
    const sizeBefore = await redis.dbsize();
    const codes = new Map<string, number>();
    const statuses = new Set<number>();
    // One random 19 KB block, varied per request: each body and hash is distinct.
    const block = randomBytes(JUNK_BYTES / 2).toString('hex');
    await pool(JUNK_REQUESTS, 8, async (i) => {
      const junk = `}${i} ${block}`.slice(0, JUNK_BYTES);
      const r = await register(gateway, junk, `198.51.100.${i % 250}`);
      statuses.add(r.status);
      const code = String(codeOf(r));
      codes.set(code, (codes.get(code) ?? 0) + 1);
    });
    expect(Object.fromEntries(codes)).toEqual({ BAD_USER_INPUT: JUNK_REQUESTS });
    expect([...statuses]).toEqual([400]);
    expect(await keys(redis, APQ_KEYS)).toEqual([]);
    expect(await keys(redis, OLD_PQ_KEYS)).toEqual([]);
    expect(await redis.dbsize()).toBe(sizeBefore);
    // 2,000 × 19 KB stored would be 38 MB; a few hundred KB of allocator noise at most.
    expect((await usedMemory(redis)) - memoryBefore).toBeLessThan(1_000_000);
    expect(gateway.child.exitCode).toBeNull();
  }, 60_000);

  it(`keeps at most ${MAX_DOCUMENTS} registrations and ${MAX_BYTES} bytes, locally and in Redis`, async () => {
    const small = (i: number) => `query Small${i} { __typename }`;
    // Each from its own address: the count bound, not the rate, is what stops them.
    for (let i = 0; i < MAX_DOCUMENTS + 10; i++) {
      const r = await register(gateway, small(i), `192.0.2.${i}`);
      expect(r.body.data).toEqual({ __typename: 'Query' });
    }
    expect(await redis.zcard('tastematch:apq:index')).toBe(MAX_DOCUMENTS);
    expect(await storedDocuments(redis)).toBe(MAX_DOCUMENTS);
    expect(codeOf(await byHash(gateway, sha256(small(0))))).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await byHash(gateway, sha256(small(MAX_DOCUMENTS + 9)))).body.data).toEqual({ __typename: 'Query' });

    // 9 KB documents (padded with whitespace): at most 4 fit in MAX_BYTES.
    const big = (i: number) => `query Big${i} { __typename }${' '.repeat(9_000)}`;
    for (let i = 0; i < 8; i++) {
      const r = await register(gateway, big(i), `192.0.2.${100 + i}`);
      expect(r.body.data).toEqual({ __typename: 'Query' });
    }
    const docs = await keys(redis, 'tastematch:apq:doc:*');
    let bytes = 0;
    for (const key of docs) bytes += await redis.strlen(key);
    expect(bytes).toBeLessThanOrEqual(MAX_BYTES);
    expect(docs.length).toBeLessThanOrEqual(MAX_DOCUMENTS);
    expect(await redis.zcard('tastematch:apq:index')).toBe(docs.length);
    expect(codeOf(await byHash(gateway, sha256(big(0))))).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await byHash(gateway, sha256(big(7)))).body.data).toEqual({ __typename: 'Query' });
  }, 30_000);

  it(`registers at most ${PER_MINUTE} documents a minute per address; the others still run`, async () => {
    const address = '203.0.113.77';
    const doc = (i: number) => `query Rate${i} { __typename }`;
    for (let i = 0; i < PER_MINUTE + 3; i++) {
      const r = await register(gateway, doc(i), address);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ data: { __typename: 'Query' } });
    }
    for (let i = 0; i < PER_MINUTE; i++) {
      expect((await byHash(gateway, sha256(doc(i)))).body.data).toEqual({ __typename: 'Query' });
    }
    for (let i = PER_MINUTE; i < PER_MINUTE + 3; i++) {
      const r = await byHash(gateway, sha256(doc(i)));
      expect(codeOf(r)).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect(await redis.exists(`tastematch:apq:doc:${sha256(doc(i))}`)).toBe(0);
    }
    // Another address is not held back by this one.
    const other = 'query RateOther { __typename }';
    await register(gateway, other, '203.0.113.78');
    expect((await byHash(gateway, sha256(other))).body.data).toEqual({ __typename: 'Query' });
  });

  it('refuses a hash that is not the sha256 of the document with 400 BAD_USER_INPUT, storing nothing', async () => {
    const query = 'query Mismatch { __typename }';
    const wrong = sha256('another document');
    const sizeBefore = await redis.dbsize();
    const r = await register(gateway, query, '203.0.113.90', wrong);
    expect(r.status).toBe(400);
    expect(codeOf(r)).toBe('BAD_USER_INPUT');
    expect(r.body.data).toBeUndefined();
    expect(await redis.dbsize()).toBe(sizeBefore);
    expect(codeOf(await byHash(gateway, wrong))).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(codeOf(await byHash(gateway, sha256(query)))).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('keeps no document refused by validation, depth or cost (the cost is checked when execution starts)', async () => {
    const refused = {
      BAD_USER_INPUT: '{ restaurantz(first: 1) { edges { node { name } } } }',
      DEPTH_LIMIT_EXCEEDED: `{ restaurants(first: 1) { edges { node { ${'similar(first: 1) { '.repeat(6)}name${' }'.repeat(6)} } } } }`,
      COST_LIMIT_EXCEEDED:
        '{ restaurants(first: 100) { edges { node { similar(first: 100) { similar(first: 100) { name } } } } } }',
    };
    const sizeBefore = await redis.dbsize();
    for (const [code, query] of Object.entries(refused)) {
      const r = await register(gateway, query, '203.0.113.91');
      expect(codeOf(r)).toBe(code);
      expect(codeOf(await byHash(gateway, sha256(query)))).toBe('PERSISTED_QUERY_NOT_FOUND');
    }
    expect(await redis.dbsize()).toBe(sizeBefore);
  });

  it('warned at start that this Redis can evict keys', () => {
    expect(gateway.output()).toMatch(WARNING);
    expect(gateway.output().match(new RegExp(WARNING, 'g'))).toHaveLength(1);
  });
});

describe.skipIf(!have)('the start-up check of the Redis eviction policy', () => {
  let db: TestDatabase;
  let redisServer: TestRedis;
  let noConfig: TestRedis;
  let admin: Redis;
  beforeAll(async () => {
    [db, redisServer, noConfig] = await Promise.all([
      freshDatabase(),
      startRedis(['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru']),
      // A managed Redis often refuses CONFIG: the check is skipped, the start goes on.
      startRedis(['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru', '--rename-command', 'CONFIG', 'hidden']),
    ]);
    admin = new Redis(redisServer.url);
  }, 30_000);
  afterAll(async () => {
    admin?.disconnect();
    await redisServer?.stop();
    await noConfig?.stop();
    await db?.drop();
  });

  const outputWith = async (url: string) => {
    const g = await startGateway({
      NODE_ENV: 'production',
      JWT_SECRET: TEST_JWT_SECRET,
      DATABASE_URL: db.url,
      REDIS_URL: url,
    });
    const r = await fetch(`${g.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(r.status).toBe(200);
    await g.stop();
    return g.output();
  };

  it('warns for allkeys-lru, not for noeviction, and starts when CONFIG is refused', async () => {
    expect(await outputWith(redisServer.url)).toMatch(WARNING);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    expect(await outputWith(redisServer.url)).not.toMatch(WARNING);
    expect(await outputWith(noConfig.url)).not.toMatch(WARNING);
  }, 60_000);
});
