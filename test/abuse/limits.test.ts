/**
 * Hostile documents: each is refused with its code, the measured value and the limit,
 * at limit + 1 but not at the limit, with zero SQL statements run; the process then
 * answers a normal query. Limits are the defaults (README, configuration).
 */
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type GraphQLResponse, type TestApp } from '../helpers/app.ts';
import { insertRestaurants } from '../helpers/fixtures.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await insertRestaurants(t.db, 5);
  await t.embedAll();
});
afterAll(() => t?.close());

/** Sends a document, asserting it ran no SQL when refused; returns the response. */
async function send(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse> {
  t.wire.reset();
  const r = await t.gql(query, variables);
  if (r.body.errors?.some((e) => String(e.extensions?.code).match(/LIMIT|TOO_LARGE/))) {
    expect(t.wire.statements).toHaveLength(0);
  }
  return r;
}
const codeOf = (r: GraphQLResponse) => r.body.errors?.[0]?.extensions?.code;

async function stillServes() {
  const r = await t.gql<{ cuisines: string[] }>('{ cuisines }');
  expect(r.body.errors).toBeUndefined();
  expect(r.body.data?.cuisines.length).toBeGreaterThan(0);
}

/** restaurants › edges › node › similar… › name: depth = 4 + similar levels. */
const deep = (similarLevels: number) =>
  `{ restaurants(first: 1) { edges { node { ${'similar(first: 1) { '.repeat(similarLevels)}name${' }'.repeat(similarLevels)} } } } }`;

describe('depth (MAX_DEPTH 8)', () => {
  it('allows depth 8, refuses 9 with DEPTH_LIMIT_EXCEEDED, no SQL', async () => {
    expect(codeOf(await send(deep(4)))).toBeUndefined(); // depth 8
    const r = await send(deep(5));
    expect(r.status).toBe(400);
    expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: 'DEPTH_LIMIT_EXCEEDED', depth: 9, limit: 8 });
    await stillServes();
  });

  it('counts introspection fields when mixed with data fields (no __schema bypass)', async () => {
    const r = await send(
      '{ restaurants(first: 1) { edges { node { name } } } __schema { types { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } } }',
    );
    expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: 'DEPTH_LIMIT_EXCEEDED', depth: 9, limit: 8 });
  });

  it("lets GraphiQL's own introspection query through (introspection-only documents: depth 15, 3 nested lists)", async () => {
    const r = await send(getIntrospectionQuery());
    expect(r.body.errors).toBeUndefined();
    expect((r.body.data as { __schema: { types: unknown[] } }).__schema.types.length).toBeGreaterThan(20);
  });

  it('refuses the introspection blow-up (fields of types of fields…) and over-deep ofType chains', async () => {
    const blowUp = await send('{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }');
    expect(blowUp.status).toBe(400);
    expect(blowUp.body.errors?.[0]?.extensions).toMatchObject({
      code: 'DEPTH_LIMIT_EXCEEDED',
      nestedLists: 4,
      limit: 3,
    });
    const deepType = await send(`{ __type(name: "User") { ${'ofType { '.repeat(15)}name${' }'.repeat(15)} } }`);
    expect(deepType.body.errors?.[0]?.extensions).toMatchObject({ code: 'DEPTH_LIMIT_EXCEEDED', depth: 16, limit: 15 }); // measured up to limit + 1
    // Naming the operation or a fragment __schema changes nothing.
    const named = await send(
      'query __schema { ...__type } fragment __type on Query { __schema { types { fields { type { fields { type { fields { name } } } } } } } }',
    );
    expect(codeOf(named)).toBe('DEPTH_LIMIT_EXCEEDED');
    await stillServes();
  });

  it('counts fragments at their depth', async () => {
    const r = await send(`
      query { restaurants(first: 1) { edges { node { ...Deep } } } }
      fragment Deep on Restaurant { similar(first: 1) { similar(first: 1) { similar(first: 1) { similar(first: 1) { name } } } } }`);
    expect(codeOf(r)).toBe('DEPTH_LIMIT_EXCEEDED');
  });
});

describe('aliases (MAX_ALIASES 30) and directives (MAX_DIRECTIVES 50)', () => {
  const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: cuisines`).join(' ')} }`;
  const directives = (n: number) => `{ __typename ${'@include(if: true) '.repeat(n)}}`;

  it('allows 30 aliases, refuses 31', async () => {
    expect(codeOf(await send(aliases(30)))).toBeUndefined();
    const r = await send(aliases(31));
    expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: 'ALIAS_LIMIT_EXCEEDED', aliases: 31, limit: 30 });
    await stillServes();
  });

  it('refuses 1,000 aliases of an expensive field before running any', async () => {
    const r = await send(
      `{ ${Array.from({ length: 1000 }, (_, i) => `s${i}: searchRestaurants(text: "sushi") { score }`).join(' ')} }`,
    );
    expect(['ALIAS_LIMIT_EXCEEDED', 'QUERY_TOO_LARGE']).toContain(codeOf(r));
    await stillServes();
  });

  it('allows 50 directives, refuses 51', async () => {
    const at = await send(directives(50));
    expect(codeOf(at)).not.toBe('DIRECTIVE_LIMIT_EXCEEDED');
    const r = await send(directives(51));
    expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: 'DIRECTIVE_LIMIT_EXCEEDED', limit: 50 });
  });
});

describe('size (MAX_QUERY_BYTES 20000, MAX_TOKENS 2000)', () => {
  it('refuses a query over 20,000 bytes before parsing it, and a 1 MB one', async () => {
    const padded = (bytes: number) => {
      const body = '{ cuisines }';
      return `#${'x'.repeat(bytes - body.length - 2)}\n${body}`;
    };
    expect(Buffer.byteLength(padded(20000))).toBe(20000);
    expect(codeOf(await send(padded(20000)))).toBeUndefined();
    const r = await send(padded(20001));
    expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_LARGE', bytes: 20001, limit: 20000 });
    expect(codeOf(await send(padded(1_000_000)))).toBe('QUERY_TOO_LARGE');
    await stillServes();
  });

  it('refuses more than 2,000 tokens while parsing', async () => {
    // "{", n × "cuisines", "}": n + 2 tokens (duplicates merge: one statement when it runs)
    const tokens = (n: number) => `{${' cuisines'.repeat(n)} }`;
    // (1,998 repeated fields pass the token limit but make graphql-js abort validation after
    // 100 errors: still refused, as BAD_USER_INPUT, never run; 302 tokens run.)
    expect(codeOf(await send(tokens(300)))).toBeUndefined();
    const r = await send(tokens(1999));
    expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_LARGE', limit: 2000 });
    await stillServes();
  });
});

describe('cost (MAX_COST 5000)', () => {
  it('prices nested lists by their first: 100 restaurants × similar(first: 100) is refused', async () => {
    const r = await send('{ restaurants(first: 100) { edges { node { similar(first: 100) { name } } } } }');
    expect(r.status).toBe(400);
    const ext = r.body.errors?.[0]?.extensions as { code: string; cost: number; limit: number };
    expect(ext).toMatchObject({ code: 'COST_LIMIT_EXCEEDED', limit: 5000 });
    expect(ext.cost).toBeGreaterThan(10_000);
    await stillServes();
  });

  it('prices first from a variable by its value', async () => {
    const q = 'query($n: Int) { restaurants(first: $n) { edges { node { similar(first: $n) { name } } } } }';
    expect(codeOf(await send(q, { n: 2 }))).toBeUndefined();
    expect(codeOf(await send(q, { n: 100 }))).toBe('COST_LIMIT_EXCEEDED');
  });

  it('prices a fragment at every place it is spread', async () => {
    const q = (spreads: number) => `
      query { restaurants(first: 100) { edges { node { ${'...F '.repeat(spreads)} } } } }
      fragment F on Restaurant { similar(first: 20) { name } }`;
    // One spread: 1 + 100 + 100 + 100 × (1 + 20) + 100 × 20 = 4,301. Two: 8,401. Duplicate
    // spreads merge at execution, but each is priced: refusing is the safe side.
    expect(codeOf(await send(q(1)))).toBeUndefined();
    const r = await send(q(2));
    expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: 'COST_LIMIT_EXCEEDED', cost: 8401 });
  });

  it('a page over MAX_PAGE_SIZE stays BAD_USER_INPUT (priced at the largest page that can run)', async () => {
    const r = await send('{ restaurants(first: 1000) { edges { node { name } } } }');
    expect(codeOf(r)).toBe('BAD_USER_INPUT');
  });
});

describe('batching (MAX_BATCH 10) and the request body (100 KB)', () => {
  type Result = { data?: unknown; errors?: { extensions?: Record<string, unknown> }[] };
  async function post(body: BodyInit, headers: Record<string, string> = {}) {
    t.wire.reset();
    const r = await t.app.fetch('http://test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body,
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
    const json = (await r.json()) as Result | Result[];
    await t.wire.settle();
    return { status: r.status, json, statements: t.wire.statements.length };
  }
  const batch = (n: number, query = '{ cuisines }') => JSON.stringify(Array.from({ length: n }, () => ({ query })));

  it('runs a batch of 10, refuses 11 and 100 with BATCH_LIMIT_EXCEEDED and no SQL', async () => {
    const ok = await post(batch(10));
    expect(ok.status).toBe(200);
    expect(ok.json).toHaveLength(10);
    for (const n of [11, 100]) {
      const r = await post(batch(n));
      expect(r.status).toBe(400);
      expect((r.json as Result).errors?.[0]?.extensions).toMatchObject({
        code: 'BATCH_LIMIT_EXCEEDED',
        operations: n,
        limit: 10,
      });
      expect(r.statements).toBe(0);
    }
    await stillServes();
  });

  it('prices and limits each operation of a batch on its own', async () => {
    const r = await post(
      JSON.stringify([
        { query: '{ cuisines }' },
        { query: '{ restaurants(first: 100) { edges { node { similar(first: 100) { name } } } } }' },
      ]),
    );
    const [cheap, costly] = r.json as Result[];
    expect(cheap?.errors).toBeUndefined();
    expect(costly?.errors?.[0]?.extensions?.code).toBe('COST_LIMIT_EXCEEDED');
  });

  it('refuses a body over 100 KB with 413 QUERY_TOO_LARGE, by Content-Length and when chunked', async () => {
    const big = JSON.stringify({ query: '{ cuisines }', variables: { pad: 'x'.repeat(110_000) } });
    const declared = await post(big);
    expect(declared.status).toBe(413);
    expect((declared.json as Result).errors?.[0]?.extensions?.code).toBe('QUERY_TOO_LARGE');
    const bytes = new TextEncoder().encode(big);
    const chunked = await post(
      new ReadableStream({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 16_384) controller.enqueue(bytes.slice(i, i + 16_384));
          controller.close();
        },
      }),
    );
    expect(chunked.status).toBe(413);
    expect((chunked.json as Result).errors?.[0]?.extensions?.code).toBe('QUERY_TOO_LARGE');
    expect(chunked.statements).toBe(0);
    await stillServes();
  });
});
