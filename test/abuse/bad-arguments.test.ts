/**
 * Bad argument values (a NUL byte, a lone UTF-16 surrogate, an absurd length) in every
 * argument and input field that reaches SQL or the model, against a real gateway process:
 * each is BAD_USER_INPUT as a field error (no HTTP status of its own: 200, as the
 * GraphQL-over-HTTP spec has it when `data` is present), nothing logged at error level,
 * no stack in the log or the answer, and the process keeps answering.
 */
import { Writable } from 'node:stream';
import { GraphQLError } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createDb } from '../../src/db/pool.ts';
import { insertOrder } from '../../src/db/queries/orders.ts';
import { insertUser as insertUserRow } from '../../src/db/queries/users.ts';
import { createMaskError } from '../../src/http/errors.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { TEST_JWT_SECRET } from '../helpers/app.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { insertRestaurants } from '../helpers/fixtures.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';

const gid = (type: string, id: string | number) => Buffer.from(`${type}:${id}`).toString('base64');

let db: TestDatabase;
let gateway: GatewayProcess;
let token: string;
let restaurantId: string;

type Body = {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
};

async function gql(query: string, variables: Record<string, unknown> = {}, auth = false) {
  const response = await fetch(`${gateway.base}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(auth ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as Body };
}

beforeAll(async () => {
  db = await freshDatabase();
  restaurantId = gid('Restaurant', (await insertRestaurants(db, 3))[0]!);
  gateway = await startGateway({
    NODE_ENV: 'production',
    JWT_SECRET: TEST_JWT_SECRET,
    DATABASE_URL: db.url,
    SEED_ON_FIRST_START: 'false',
    LOG_LEVEL: 'warn',
  });
  const r = await gql('mutation($input: RegisterInput!) { register(input: $input) { token } }', {
    input: { email: 'bad-args@example.com', name: 'Bad Args', password: 'a good password' },
  });
  token = (r.body.data?.register as { token?: string } | undefined)?.token ?? '';
  expect(token).toBeTruthy();
}, 90_000);

afterAll(async () => {
  await gateway?.stop();
  await db?.drop();
});

const NUL = 'a\u0000b';
const SURROGATE = 'a\ud800b';
const HUGE = 'x'.repeat(60_000);
const BAD = { NUL, 'a lone surrogate': SURROGATE, '60,000 characters': HUGE };

const REGISTER = 'mutation($input: RegisterInput!) { register(input: $input) { token } }';
const LOGIN = 'mutation($input: LoginInput!) { login(input: $input) { token } }';
const ORDER = 'mutation($input: CreateOrderInput!) { createOrder(input: $input) { id } }';
const PREFS = 'mutation($input: TastePreferencesInput!) { setTastePreferences(input: $input) { totalOrders } }';

type Case = { name: string; query: string; variables: (bad: string) => Record<string, unknown>; auth?: boolean };

const order = (patch: Record<string, unknown>) => ({
  input: { restaurantId, items: [{ name: 'Dish', quantity: 1, price: 1 }], ...patch },
});

const CASES: Case[] = [
  { name: 'login email', query: LOGIN, variables: (v) => ({ input: { email: v, password: 'whatever pw' } }) },
  {
    name: 'login password',
    query: LOGIN,
    variables: (v) => ({ input: { email: 'bad-args@example.com', password: v } }),
  },
  {
    name: 'register email',
    query: REGISTER,
    variables: (v) => ({ input: { email: `${v}@example.com`, name: 'N', password: 'a good password' } }),
  },
  {
    name: 'register name',
    query: REGISTER,
    variables: (v) => ({ input: { email: 'n@example.com', name: v, password: 'a good password' } }),
  },
  {
    name: 'register password',
    query: REGISTER,
    variables: (v) => ({ input: { email: 'p@example.com', name: 'N', password: `password ${v}` } }),
  },
  {
    name: 'searchRestaurants text',
    query: 'query($t: String!) { searchRestaurants(text: $t) { score } }',
    variables: (v) => ({ t: v }),
  },
  {
    name: 'restaurants search',
    query: 'query($s: String) { restaurants(search: $s) { edges { node { id } } } }',
    variables: (v) => ({ s: v }),
  },
  {
    name: 'restaurants cuisine',
    query: 'query($c: String) { restaurants(cuisine: $c) { edges { node { id } } } }',
    variables: (v) => ({ c: v }),
  },
  {
    name: 'restaurants after',
    query: 'query($a: String) { restaurants(after: $a) { edges { node { id } } } }',
    variables: (v) => ({ a: v }),
  },
  { name: 'restaurant id', query: 'query($id: ID!) { restaurant(id: $id) { name } }', variables: (v) => ({ id: v }) },
  {
    name: 'restaurant id (a global id around the value)',
    query: 'query($id: ID!) { restaurant(id: $id) { name } }',
    variables: (v) => ({ id: gid('Restaurant', v) }),
  },
  { name: 'node id', query: 'query($id: ID!) { node(id: $id) { id } }', variables: (v) => ({ id: gid('Order', v) }) },
  {
    name: 'createOrder item name',
    query: ORDER,
    auth: true,
    variables: (v) => order({ items: [{ name: v, quantity: 1, price: 1 }] }),
  },
  { name: 'createOrder idempotencyKey', query: ORDER, auth: true, variables: (v) => order({ idempotencyKey: v }) },
  {
    name: 'createOrder restaurantId',
    query: ORDER,
    auth: true,
    variables: (v) => order({ restaurantId: gid('Restaurant', v) }),
  },
  {
    name: 'createOrder orderDate',
    query: ORDER,
    auth: true,
    variables: (v) => order({ orderDate: `2026-01-01T${v}` }),
  },
  {
    name: 'rateOrder id',
    query: 'mutation($id: ID!) { rateOrder(id: $id, rating: 3) { id } }',
    auth: true,
    variables: (v) => ({ id: gid('Order', v) }),
  },
  { name: 'setTastePreferences cuisines', query: PREFS, auth: true, variables: (v) => ({ input: { cuisines: [v] } }) },
];

/** Log lines (JSON, as production writes them) since `from`. */
function logLines(from: number) {
  return gateway
    .output()
    .slice(from)
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg?: string; err?: { stack?: string } });
}

describe('bad argument values are BAD_USER_INPUT field errors, never an internal error', () => {
  for (const c of CASES) {
    for (const [badName, bad] of Object.entries(BAD)) {
      it(`${c.name}: ${badName}`, async () => {
        const from = gateway.output().length;
        const r = await gql(c.query, c.variables(bad), c.auth);
        const text = JSON.stringify(r.body).slice(0, 2_000);
        const codes = (r.body.errors ?? []).map((e) => e.extensions?.code);
        // NOT_FOUND is right for an id that decodes to no row; anything else is a bad argument.
        expect(codes.length, text).toBeGreaterThan(0);
        for (const code of codes) expect(['BAD_USER_INPUT', 'NOT_FOUND'], text).toContain(code);
        expect(text).not.toMatch(/stack|node_modules|at \//i);
        // A field error: the status follows `data`, no status was put on the error. Without
        // `data` (a variable its scalar refuses before execution) a request error, never a 5xx.
        if (r.body.data !== undefined) expect(r.status, text).toBe(200);
        else expect(r.status, text).toBeLessThan(500);
        await new Promise((resolve) => setTimeout(resolve, 20)); // let the log lines arrive
        const lines = logLines(from);
        expect(
          lines.filter((l) => l.level >= 50),
          JSON.stringify(lines),
        ).toEqual([]);
        expect(
          lines.filter((l) => l.err?.stack),
          JSON.stringify(lines),
        ).toEqual([]);
        expect(lines.length).toBeLessThanOrEqual(1);
      });
    }
  }

  it('the process is still up and answering', async () => {
    expect(gateway.child.exitCode).toBeNull();
    const r = await gql('{ restaurants(first: 1) { edges { node { id } } } }');
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
  });
});

describe('the backstop: PostgreSQL refusing a value is BAD_USER_INPUT', () => {
  it('a NUL and a lone surrogate in jsonb, refused by the real database, map to a field error and one warn line', async () => {
    const lines: { level: number; err?: unknown }[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const log = createLogger('info', sink);
    const pool = await createDb({ url: db.url, ...loadConfig({}).db }, log);
    const maskError = createMaskError(log);
    const [{ id: userId }] = (await db.sql<{ id: string }>(`SELECT id::text FROM users LIMIT 1`)) as [{ id: string }];
    const restaurantRowId = Buffer.from(restaurantId, 'base64').toString().split(':')[1]!;
    try {
      const refusals = [
        () => insertUserRow(pool, { email: 'nul\u0000@example.com', name: 'N', passwordHash: 'x' }),
        () =>
          insertOrder(pool, {
            userId,
            restaurantId: restaurantRowId,
            orderDate: null,
            totalAmount: 1,
            items: [{ name: 'a\ud800b', quantity: 1, price: 1 }],
            rating: null,
            simulated: false,
            idempotencyKey: null,
          }),
      ];
      for (const refuse of refusals) {
        const error = await refuse().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(Error);
        const wrapped = new GraphQLError('x', { path: ['register'], originalError: error as Error });
        const masked = maskError(wrapped, 'Unexpected error.') as GraphQLError;
        expect(masked.extensions.code).toBe('BAD_USER_INPUT');
        expect(masked.extensions.http).toBeUndefined();
        expect(masked.path).toEqual(['register']);
      }
      await new Promise((resolve) => setImmediate(resolve));
      expect(lines.filter((l) => l.level >= 50)).toEqual([]);
      expect(
        lines.filter((l) => l.level === 40),
        JSON.stringify(lines),
      ).toHaveLength(2);
      expect(JSON.stringify(lines)).not.toMatch(/stack/);
    } finally {
      await pool.end();
    }
  });
});
