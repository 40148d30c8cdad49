/**
 * The app's node:http listener serves the usual JSON POST below Yoga's HTTP hooks
 * (src/http/direct-post.ts). Asked the same requests, it must answer exactly as Yoga's own node
 * adapter does (every request through every hook): the same status, headers and bytes. Two
 * servers over one production app, one with `app.listener`, one with the app itself.
 */
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../src/observability/metrics.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { insertOrders, insertRestaurants, insertUser } from './helpers/fixtures.ts';

type Answer = { status: number; headers: Record<string, string>; body: string };

/** Headers that differ by design between two answers: the time, the socket's, a fresh request id. */
const VARYING = new Set(['date', 'connection', 'keep-alive', 'x-request-id']);

function post(port: number, body: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/graphql',
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const encoding = res.headers['content-encoding'];
          const text =
            encoding === 'gzip'
              ? gunzipSync(raw).toString()
              : encoding === 'br'
                ? brotliDecompressSync(raw).toString()
                : raw.toString();
          const names: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) names[k] = String(v);
          resolve({ status: res.statusCode!, headers: names, body: text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const listen = async (server: Server) => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
};

type Pair = { t: TestApp; directPort: number; adapterPort: number; close(): Promise<void> };

/** A test app, served once by its listener and once by Yoga's adapter alone. */
async function pair(options: Parameters<typeof createTestApp>[0]): Promise<Pair> {
  const t = await createTestApp(options);
  const direct = createServer(t.app.listener);
  const adapter = createServer((req, res) => t.app(req, res));
  const directPort = await listen(direct);
  const adapterPort = await listen(adapter);
  return {
    t,
    directPort,
    adapterPort,
    async close() {
      direct.close();
      adapter.close();
      await t.close();
    },
  };
}

let production: Pair;
let token: string;

beforeAll(async () => {
  production = await pair({ production: true, app: { compressionMinBytes: 400 } });
  const { t } = production;
  const restaurants = await insertRestaurants(t.db, 30);
  const user = await insertUser(t.db, 'direct@example.com');
  await insertOrders(t.db, user, restaurants, 12);
  token = await t.tokenFor(user);
}, 60_000);

afterAll(async () => {
  await production?.close();
});

const directCount = async () =>
  (await registry.getSingleMetric('tastematch_graphql_direct_requests_total')!.get()).values[0]?.value ?? 0;

/**
 * Both servers' answers to the same request, twice, and whether the listener served each
 * directly. Asked twice first: a document runs compiled from its second run (graphql-jit's
 * messages differ from graphql-js's in places), so both compared answers come from the same executor.
 */
async function both(p: Pair, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  for (let warm = 0; warm < 2; warm++) await post(p.adapterPort, text, headers);
  const answers: { listener: Answer; adapter: Answer; direct: boolean }[] = [];
  for (let round = 0; round < 2; round++) {
    const before = await directCount();
    const listener = await post(p.directPort, text, headers);
    const direct = (await directCount()) > before;
    const adapter = await post(p.adapterPort, text, headers);
    answers.push({ listener, adapter, direct });
  }
  return answers;
}

/** Both ways give the same answer, and the listener served it directly exactly when `direct`. */
async function expectSameAnswers(p: Pair, c: Pick<Case, 'body' | 'headers' | 'direct'>) {
  const answers = await both(p, c.body, c.headers);
  for (const { listener, adapter, direct } of answers) {
    expect(comparable(listener)).toEqual(comparable(adapter));
    expect(direct).toBe(c.direct);
  }
  return answers;
}

const comparable = (a: Answer) => ({
  status: a.status,
  headers: Object.fromEntries(Object.entries(a.headers).filter(([k]) => !VARYING.has(k))),
  body: a.body,
});

const Q1 = '{ restaurants(first: 3) { edges { node { id name cuisineType rating } } } }';
const BIG = '{ restaurants(first: 20) { edges { cursor node { id name cuisineType rating priceRange } } } }';
const ORDERS = '{ me { orders(first: 5) { edges { node { id orderDate totalAmount restaurant { name } } } } } }';

type Case = { name: string; body: unknown; headers?: Record<string, string>; direct: boolean };

const CASES: Case[] = [
  { name: 'a page of restaurants, no Accept', body: { query: Q1 }, direct: true },
  { name: 'Accept: */*', body: { query: Q1 }, headers: { accept: '*/*' }, direct: true },
  { name: 'Accept: application/json', body: { query: Q1 }, headers: { accept: 'application/json' }, direct: true },
  {
    name: 'Accept: application/graphql-response+json',
    body: { query: Q1 },
    headers: { accept: 'application/graphql-response+json' },
    direct: true,
  },
  {
    name: "Apollo Client's Accept",
    body: { query: Q1 },
    headers: { accept: 'application/graphql-response+json,application/json;q=0.9' },
    direct: true,
  },
  {
    name: "urql's Accept",
    body: { query: Q1 },
    headers: {
      accept:
        'application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed',
    },
    direct: true,
  },
  {
    name: 'a charset other than UTF-8 only',
    body: { query: Q1 },
    headers: { accept: 'application/json; charset=iso-8859-1' },
    direct: false,
  },
  { name: 'event streams only', body: { query: Q1 }, headers: { accept: 'text/event-stream' }, direct: false },
  { name: 'gzip', body: { query: BIG }, headers: { 'accept-encoding': 'gzip' }, direct: true },
  { name: 'brotli preferred', body: { query: BIG }, headers: { 'accept-encoding': 'gzip;q=0.5, br' }, direct: true },
  { name: 'identity only', body: { query: BIG }, headers: { 'accept-encoding': 'identity' }, direct: true },
  { name: 'under COMPRESSION_MIN_BYTES', body: { query: Q1 }, headers: { 'accept-encoding': 'br' }, direct: true },
  { name: 'with a token', body: { query: ORDERS }, headers: { authorization: 'TOKEN' }, direct: true },
  { name: 'me without a token', body: { query: ORDERS }, direct: true },
  { name: 'an invalid token', body: { query: ORDERS }, headers: { authorization: 'Bearer x.y.z' }, direct: true },
  { name: 'not a Bearer token', body: { query: ORDERS }, headers: { authorization: 'Basic abc' }, direct: true },
  {
    name: 'an Origin, CORS off (same origin only)',
    body: { query: Q1 },
    headers: { origin: 'https://example.com' },
    direct: true,
  },
  {
    name: 'Content-Type with a charset',
    body: { query: Q1 },
    headers: { 'content-type': 'application/json; charset=utf-8' },
    direct: true,
  },
  {
    name: 'Content-Type as a list (Yoga reads the first)',
    body: { query: Q1 },
    headers: { 'content-type': 'application/json, text/plain' },
    direct: true,
  },
  {
    name: 'Content-Type in capitals (Yoga: 415)',
    body: { query: Q1 },
    headers: { 'content-type': 'Application/JSON' },
    direct: false,
  },
  {
    name: 'multibyte text just within MAX_QUERY_BYTES',
    body: { query: `{ cuisines } # ${'é'.repeat(9_900)}` },
    direct: true,
  },
  {
    name: 'multibyte text over MAX_QUERY_BYTES',
    body: { query: `{ cuisines } # ${'é'.repeat(11_000)}` },
    direct: false,
  },
  {
    name: 'too many aliases',
    body: { query: `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: cuisines`).join(' ')} }` },
    direct: true,
  },
  { name: 'too many directives', body: { query: `{ cuisines ${'@include(if: true) '.repeat(60)}}` }, direct: true },
  { name: 'a caller request id', body: { query: Q1 }, headers: { 'x-request-id': 'trace-123' }, direct: true },
  { name: 'a syntax error', body: { query: '{ restaurants(' }, direct: true },
  {
    name: 'a syntax error, GraphQL media type',
    body: { query: '{ restaurants(' },
    headers: { accept: 'application/graphql-response+json' },
    direct: true,
  },
  { name: 'an unknown field', body: { query: '{ nope }' }, direct: true },
  {
    name: 'an unknown field, GraphQL media type',
    body: { query: '{ nope }' },
    headers: { accept: 'application/graphql-response+json' },
    direct: true,
  },
  {
    name: 'variables that do not coerce',
    body: { query: 'query($n: Int) { restaurants(first: $n) { edges { node { id } } } }', variables: { n: 'x' } },
    headers: { accept: 'application/graphql-response+json' },
    direct: true,
  },
  {
    name: 'an operation name the document lacks',
    body: { query: 'query A { cuisines }', operationName: 'B' },
    direct: true,
  },
  {
    name: 'two operations, one named',
    body: { query: 'query A { cuisines } query B { __typename }', operationName: 'B' },
    direct: true,
  },
  { name: 'introspection (production)', body: { query: '{ __schema { queryType { name } } }' }, direct: true },
  { name: 'a field suggestion (production)', body: { query: '{ restaurant { nam } }' }, direct: true },
  {
    name: 'over the depth limit',
    body: {
      query: `{ restaurants { edges { node { similar { edges { node { similar { edges { node { similar { edges { node { id } } } } } } } } } } } } }`,
    },
    direct: true,
  },
  {
    name: 'over the cost limit',
    body: { query: '{ restaurants(first: 100) { edges { node { similar(first: 50) { edges { node { id } } } } } } }' },
    direct: true,
  },
  {
    name: 'a page size out of range',
    body: { query: '{ restaurants(first: -1) { edges { node { id } } } }' },
    direct: true,
  },
  {
    name: 'a node that does not exist',
    body: { query: '{ node(id: "UmVzdGF1cmFudDo5OTk5OQ==") { id } }' },
    direct: true,
  },
  {
    name: 'null parameters',
    body: { query: Q1, variables: null, operationName: null, extensions: null },
    direct: true,
  },
  { name: 'an empty document', body: { query: '' }, direct: false },
  { name: 'a query that is not a string', body: { query: 1 }, direct: false },
  { name: 'an unknown parameter', body: { query: Q1, nope: 1 }, direct: false },
  { name: 'a batch', body: [{ query: Q1 }, { query: '{ cuisines }' }], direct: false },
  { name: 'a persisted-operation id', body: { documentId: 'sha256:nope' }, direct: false },
  { name: 'an APQ hash', body: { extensions: { persistedQuery: { version: 1, sha256Hash: 'ab' } } }, direct: false },
  { name: 'not JSON', body: '{"query": ', direct: false },
  { name: 'JSON that is not an object', body: '"query"', direct: false },
  {
    name: 'a mutation that fails',
    body: { query: 'mutation { login(email: "nobody@example.com", password: "wrong-password") { token } }' },
    direct: true,
  },
];

describe('the direct path answers as Yoga does', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const headers = { ...c.headers };
      if (headers.authorization === 'TOKEN') headers.authorization = `Bearer ${token}`;
      for (const { listener } of await expectSameAnswers(production, { ...c, headers })) {
        if (headers['x-request-id']) expect(listener.headers['x-request-id']).toBe('trace-123');
        else expect(listener.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      }
    });
  }

  it('sends the data it reads (the cases above are not all errors)', async () => {
    const [first] = await both(production, { query: ORDERS }, { authorization: `Bearer ${token}` });
    const { listener, direct } = first!;
    const body = JSON.parse(listener.body) as { data: { me: { orders: { edges: unknown[] } } } };
    expect(body.data.me.orders.edges).toHaveLength(5);
    expect(listener.headers['cache-control']).toBe('no-store');
    expect(direct).toBe(true);
  });
});

describe('with CORS on, in development, and persisted operations only', () => {
  const ORIGIN = 'https://app.example';
  let cors: Pair;
  let only: Pair;
  beforeAll(async () => {
    cors = await pair({ corsOrigins: [ORIGIN] });
    only = await pair({ app: { persisted: { mode: 'only' } } });
  }, 60_000);
  afterAll(async () => {
    await cors?.close();
    await only?.close();
  });

  const cases: (Case & { server: () => Pair })[] = [
    {
      name: "an allowed Origin goes Yoga's way (its CORS headers)",
      server: () => cors,
      body: { query: Q1 },
      headers: { origin: ORIGIN },
      direct: false,
    },
    {
      name: 'another Origin',
      server: () => cors,
      body: { query: Q1 },
      headers: { origin: 'https://evil.example' },
      direct: false,
    },
    { name: 'no Origin', server: () => cors, body: { query: Q1 }, direct: true },
    {
      name: 'introspection (development)',
      server: () => cors,
      body: { query: '{ __schema { queryType { name } } }' },
      direct: true,
    },
    { name: 'PERSISTED_OPERATIONS=only: a document', server: () => only, body: { query: Q1 }, direct: false },
  ];
  for (const c of cases) {
    it(c.name, () => expectSameAnswers(c.server(), c));
  }

  it('answers an allowed Origin with its CORS headers', async () => {
    const [first] = await both(cors, { query: Q1 }, { origin: ORIGIN });
    expect(first!.listener.headers['access-control-allow-origin']).toBe(ORIGIN);
  });
});
