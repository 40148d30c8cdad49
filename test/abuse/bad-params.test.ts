/**
 * Request parameters of the wrong type or shape (`{"query": 1}` and the like), over POST
 * (JSON, a batch, a form, multipart) and GET: HTTP 400 with BAD_USER_INPUT and a message
 * naming what is wrong, never an internal error, at most one warn line each and never a
 * stack or an error-level line in the log. Against a real gateway process (production,
 * LOG_LEVEL=warn), which keeps answering.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_JWT_SECRET } from '../helpers/app.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { insertRestaurants } from '../helpers/fixtures.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';

type Body = { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };

let db: TestDatabase;
let gateway: GatewayProcess;
/** Output before the first bad request (start-up lines are not these requests'). */
let startOutput = 0;
let requests = 0;

beforeAll(async () => {
  db = await freshDatabase();
  await insertRestaurants(db, 5);
  gateway = await startGateway(
    {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      JWT_SECRET: TEST_JWT_SECRET,
      DATABASE_URL: db.url,
      SEED_ON_FIRST_START: 'false',
      VECTOR_SYNC_MS: '0',
    },
    { nodeArgs: ['--max-old-space-size=448'] },
  );
  await new Promise((r) => setTimeout(r, 500)); // start-up lines (the embedding backfill) are out
  startOutput = gateway.output().length;
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  await db?.drop();
});

async function send(init: RequestInit & { path?: string }) {
  requests++;
  const r = await fetch(`${gateway.base}${init.path ?? '/graphql'}`, {
    ...init,
    headers: { accept: 'application/json', ...(init.headers as Record<string, string>) },
  });
  return { status: r.status, body: (await r.json()) as Body };
}

const postJson = (body: string) => send({ method: 'POST', headers: { 'content-type': 'application/json' }, body });

async function expectBadRequest(r: { status: number; body: Body }, message: RegExp) {
  const text = JSON.stringify(r.body);
  expect(r.status, text).toBe(400);
  expect(r.body.data, text).toBeUndefined();
  expect(r.body.errors?.[0]?.extensions?.code, text).toBe('BAD_USER_INPUT');
  expect(r.body.errors?.[0]?.message, text).toMatch(message);
  expect(text).not.toMatch(/Unexpected error|INTERNAL_SERVER_ERROR|at .*\.(ts|js):\d+/);
}

const POST_CASES: [string, string, RegExp][] = [
  ['a number query', '{"query": 1}', /"query" parameter must be a string \(got number\)/],
  ['an object query', '{"query": {"a": 1}}', /"query" parameter must be a string \(got object\)/],
  ['an array query', '{"query": ["{ cuisines }"]}', /"query" parameter must be a string \(got array\)/],
  ['a boolean query', '{"query": true}', /"query" parameter must be a string \(got boolean\)/],
  [
    'a number operationName',
    '{"query": "{ cuisines }", "operationName": 1}',
    /"operationName" .*string \(got number\)/,
  ],
  ['an object operationName', '{"query": "{ cuisines }", "operationName": {}}', /"operationName" .*\(got object\)/],
  [
    'number variables',
    '{"query": "{ cuisines }", "variables": 1}',
    /"variables" parameter must be an object \(got number\)/,
  ],
  ['array variables', '{"query": "{ cuisines }", "variables": [1]}', /"variables" .*object \(got array\)/],
  ['string variables', '{"query": "{ cuisines }", "variables": "{}"}', /"variables" .*object \(got string\)/],
  ['boolean extensions', '{"query": "{ cuisines }", "extensions": true}', /"extensions" .*object \(got boolean\)/],
  ['array extensions', '{"query": "{ cuisines }", "extensions": []}', /"extensions" .*object \(got array\)/],
  ['a number documentId', '{"documentId": 7}', /"documentId" parameter must be a string \(got number\)/],
  ['an unknown parameter', '{"query": "{ cuisines }", "constructor": 1}', /Unknown request parameter "constructor"/],
  ['a null batch entry', '[null]', /Operation 1 of the batch: .*JSON object.*\(got null\)/],
  [
    'a bad query in a batch',
    '[{"query": "{ cuisines }"}, {"query": 1}]',
    /Operation 2 of the batch: The "query" .*string/,
  ],
  ['an empty batch', '[]', /batch is empty/],
  ['a number body', '42', /expected to be object/],
  ['invalid JSON', '{"query": ', /invalid JSON/i],
];

describe('POST application/json', () => {
  for (const [name, body, message] of POST_CASES) {
    it(`${name}: 400 BAD_USER_INPUT`, async () => {
      await expectBadRequest(await postJson(body), message);
    });
  }
});

describe('GET', () => {
  const cases: [string, string, RegExp][] = [
    ['variables not JSON', 'query={cuisines}&variables=%7Bnope', /parameters are not valid JSON/],
    ['variables a number', 'query={cuisines}&variables=1', /"variables" .*object \(got number\)/],
    ['extensions not JSON', 'query={cuisines}&extensions=nope', /parameters are not valid JSON/],
    ['extensions an array', 'query={cuisines}&extensions=%5B%5D', /"extensions" .*object \(got array\)/],
  ];
  for (const [name, search, message] of cases) {
    it(`${name}: 400 BAD_USER_INPUT`, async () => {
      await expectBadRequest(await send({ path: `/graphql?${search}` }), message);
    });
  }
});

describe('other encodings', () => {
  it('a form whose variables are not JSON: 400 BAD_USER_INPUT', async () => {
    const r = await send({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'query=%7Bcuisines%7D&variables=%7B',
    });
    await expectBadRequest(r, /parameters are not valid JSON/);
  });

  it('multipart with operations that are not JSON, or a number query: 400 BAD_USER_INPUT', async () => {
    const notJson = new FormData();
    notJson.set('operations', '{nope');
    notJson.set('map', '{}');
    await expectBadRequest(await send({ method: 'POST', body: notJson }), /operations.*valid JSON/);
    const numberQuery = new FormData();
    numberQuery.set('operations', '{"query": 1}');
    numberQuery.set('map', '{}');
    await expectBadRequest(await send({ method: 'POST', body: numberQuery }), /"query" parameter must be a string/);
  });
});

describe('afterwards', () => {
  it('still answers, and logged no stack and no error-level line (at most one warn line per request)', async () => {
    const good = await send({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": "{ cuisines }"}',
    });
    expect(good.status).toBe(200);
    expect((good.body.data as { cuisines: string[] }).cuisines.length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 300)); // the child's last lines reach us
    const output = gateway.output().slice(startOutput);
    expect(output).not.toMatch(/\bstack\b|TypeError|\n\s+at /);
    const lines = output
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { level: number; msg?: string });
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(lines.filter((l) => l.level === 40).length).toBeLessThanOrEqual(requests);
    expect(gateway.child.exitCode).toBeNull();
  });
});
