/**
 * Persisted operations in their three modes, over POST and GET, with Apollo's
 * `extensions.persistedQuery` and with `documentId`. Every refusal runs zero SQL.
 * The manifest here is the test's own (two operations), so the cases do not depend
 * on the clients' files; the real manifest is checked at the end.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApqStore } from '../../src/cache/apq-store.ts';
import { loadManifest, type PersistedMode } from '../../src/http/persisted.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { insertRestaurants } from '../helpers/fixtures.ts';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const FEED =
  'query Feed($first: Int = 2) {\n  restaurants(first: $first) {\n    edges {\n      node {\n        name\n      }\n    }\n  }\n}';
const CUISINES = 'query Cuisines {\n  cuisines\n}';
const MANIFEST = new Map([FEED, CUISINES].map((body) => [sha256(body), body]));

type Body = {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
};
type Reply = { status: number; headers: Headers; body: Body; statements: number };

function client(t: TestApp) {
  const send = async (init: { url?: string; method?: string; body?: unknown }): Promise<Reply> => {
    t.wire.reset();
    const response = await t.app.fetch(init.url ?? 'http://test/graphql', {
      method: init.method ?? 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const body = (await response.json()) as Body;
    await t.wire.settle();
    return { status: response.status, headers: response.headers, body, statements: t.wire.statements.length };
  };
  const apollo = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });
  return {
    send,
    byHash: (hash: string, variables?: Record<string, unknown>) =>
      send({ body: { extensions: apollo(hash), variables } }),
    register: (query: string, hash = sha256(query)) => send({ body: { query, extensions: apollo(hash) } }),
    document: (query: string) => send({ body: { query } }),
    get: (params: Record<string, unknown>) =>
      send({
        method: 'GET',
        url: `http://test/graphql?${new URLSearchParams(
          Object.entries(params).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
        )}`,
      }),
    apollo,
  };
}

const codeOf = (r: Reply) => r.body.errors?.[0]?.extensions?.code;
const edges = (r: Reply) => (r.body.data?.restaurants as { edges: unknown[] } | undefined)?.edges.length;

/** Small enough to fill in a test; one client address registers them all. */
const APQ_MAX_DOCUMENTS = 50;

async function appIn(mode: PersistedMode) {
  const store = new ApqStore({ maxDocuments: APQ_MAX_DOCUMENTS, maxBytes: 1_000_000, ttlMs: 60_000 });
  const t = await createTestApp({
    app: { persisted: { mode, manifest: MANIFEST, store, registrationsPerMinute: 10_000 } },
  });
  await insertRestaurants(t.db, 5);
  return t;
}

describe('PERSISTED_OPERATIONS=allow', () => {
  let t: TestApp;
  let c: ReturnType<typeof client>;
  beforeAll(async () => {
    t = await appIn('allow');
    c = client(t);
  });
  afterAll(() => t?.close());

  it('runs a manifest operation by Apollo hash, by documentId, and with its variables', async () => {
    expect(edges(await c.byHash(sha256(FEED)))).toBe(2);
    expect(edges(await c.byHash(sha256(FEED), { first: 4 }))).toBe(4);
    expect(edges(await c.send({ body: { documentId: sha256(FEED) } }))).toBe(2);
    expect(edges(await c.send({ body: { extensions: { documentId: sha256(FEED) } } }))).toBe(2);
  });

  it('runs a manifest operation over GET (extensions or documentId in the query string)', async () => {
    const viaExtensions = await c.get({ extensions: c.apollo(sha256(FEED)), variables: { first: 3 } });
    expect(viaExtensions.status).toBe(200);
    expect(edges(viaExtensions)).toBe(3);
    expect(edges(await c.get({ documentId: sha256(FEED) }))).toBe(2);
  });

  it('still runs plain documents', async () => {
    const r = await c.document('{ cuisines }');
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.cuisines).toEqual(expect.arrayContaining([expect.any(String)]));
  });

  it('answers an unknown id with PERSISTED_QUERY_NOT_FOUND (HTTP 404) and no SQL', async () => {
    const unknown = sha256('query Nope { cuisines }');
    for (const r of [
      await c.byHash(unknown),
      await c.send({ body: { documentId: unknown } }),
      await c.get({ documentId: unknown }),
    ]) {
      expect(codeOf(r)).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect(r.body.errors?.[0]?.message).toBe('PersistedQueryNotFound'); // what Apollo's link looks for
      expect(r.status).toBe(404);
      expect(r.statements).toBe(0);
    }
  });

  it('registers an automatic persisted query (APQ) after NOT_FOUND, then serves it by hash', async () => {
    const query = 'query TopThree { restaurants(first: 3) { edges { node { id } } } }';
    expect(codeOf(await c.byHash(sha256(query)))).toBe('PERSISTED_QUERY_NOT_FOUND');
    const registered = await c.register(query);
    expect(edges(registered)).toBe(3);
    const again = await c.byHash(sha256(query));
    expect(again.body.errors).toBeUndefined();
    expect(edges(again)).toBe(3);
  });

  it('refuses a document whose hash is wrong, with no SQL, and does not register it', async () => {
    const query = 'query Two { restaurants(first: 2) { edges { node { name } } } }';
    const wrong = sha256('something else');
    const r = await c.register(query, wrong);
    expect(r.status).toBe(400);
    expect(codeOf(r)).toBe('BAD_USER_INPUT');
    expect(r.body.errors?.[0]?.message).toMatch(/sha256/);
    expect(r.statements).toBe(0);
    expect(codeOf(await c.byHash(wrong))).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('checks a registered document against the limits on every use (registration is no bypass)', async () => {
    const deep = `{ restaurants(first: 1) { edges { node { ${'similar(first: 1) { '.repeat(6)}name${' }'.repeat(6)} } } } }`;
    expect(codeOf(await c.register(deep))).toBe('DEPTH_LIMIT_EXCEEDED');
    const r = await c.byHash(sha256(deep));
    // Either it was never kept or it is refused again: never run.
    expect(['DEPTH_LIMIT_EXCEEDED', 'PERSISTED_QUERY_NOT_FOUND']).toContain(codeOf(r));
    expect(r.statements).toBe(0);
  });

  it(`keeps at most ${APQ_MAX_DOCUMENTS} registrations (the oldest goes first)`, async () => {
    const doc = (i: number) => `query Reg${i} { __typename }`;
    for (let i = 0; i <= APQ_MAX_DOCUMENTS; i++) {
      const r = await c.register(doc(i));
      expect(r.body.errors).toBeUndefined();
    }
    expect(codeOf(await c.byHash(sha256(doc(0))))).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await c.byHash(sha256(doc(APQ_MAX_DOCUMENTS)))).body.data).toEqual({ __typename: 'Query' });
    // The manifest is not in that cache: its operations survive any number of registrations.
    expect(edges(await c.byHash(sha256(FEED)))).toBe(2);
  });

  it('refuses a request with neither a document nor an id', async () => {
    const r = await c.send({ body: { variables: {} } });
    expect(codeOf(r)).toBe('BAD_USER_INPUT');
    expect(r.statements).toBe(0);
  });
});

describe('PERSISTED_OPERATIONS=only', () => {
  let t: TestApp;
  let c: ReturnType<typeof client>;
  beforeAll(async () => {
    t = await appIn('only');
    c = client(t);
  });
  afterAll(() => t?.close());

  it('runs manifest operations (POST and GET)', async () => {
    expect(edges(await c.byHash(sha256(FEED)))).toBe(2);
    expect(edges(await c.get({ documentId: sha256(FEED) }))).toBe(2);
    expect((await c.byHash(sha256(CUISINES))).body.errors).toBeUndefined();
  });

  it('refuses a plain document with PERSISTED_QUERY_REQUIRED (HTTP 400) and no SQL', async () => {
    for (const r of [await c.document('{ cuisines }'), await c.get({ query: '{ cuisines }' })]) {
      expect(codeOf(r)).toBe('PERSISTED_QUERY_REQUIRED');
      expect(r.status).toBe(400);
      expect(r.statements).toBe(0);
    }
  });

  it('refuses APQ registration: only the manifest is served', async () => {
    const query = 'query Sneaky { restaurants(first: 1) { edges { node { name } } } }';
    expect(codeOf(await c.register(query))).toBe('PERSISTED_QUERY_REQUIRED');
    const r = await c.byHash(sha256(query));
    expect(codeOf(r)).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(r.statements).toBe(0);
  });
});

describe('PERSISTED_OPERATIONS=off', () => {
  let t: TestApp;
  let c: ReturnType<typeof client>;
  beforeAll(async () => {
    t = await appIn('off');
    c = client(t);
  });
  afterAll(() => t?.close());

  it('runs documents and answers ids with PERSISTED_QUERY_NOT_FOUND (Apollo then sends the document)', async () => {
    expect((await c.document('{ cuisines }')).body.errors).toBeUndefined();
    const r = await c.byHash(sha256(FEED));
    expect(codeOf(r)).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(r.statements).toBe(0);
    // Apollo's retry: document and hash together.
    expect(edges(await c.register(FEED))).toBe(2);
  });
});

describe('the clients’ real manifest, served in PERSISTED_OPERATIONS=only mode', () => {
  const manifest = loadManifest();
  const idOf = (name: string) => {
    for (const [id, body] of manifest) if (new RegExp(`^(query|mutation) ${name}\\b`).test(body)) return id;
    throw new Error(`${name} is not in the manifest`);
  };
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ app: { persisted: { mode: 'only' } } }); // the manifest from clients/
    await insertRestaurants(t.db, 8);
  });
  afterAll(() => t?.close());

  it('runs the feed by id with no variables, by GET, with a public Cache-Control', async () => {
    const r = await t.app.fetch(`http://test/graphql?documentId=${idOf('RestaurantFeed')}`, {
      headers: { accept: 'application/json' },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('public, max-age=300');
    const body = (await r.json()) as { data: { restaurants: { edges: unknown[] } } };
    expect(body.data.restaurants.edges).toHaveLength(8);
  });

  it('runs Register then the web Dashboard by hash (signed in)', async () => {
    const send = async (name: string, variables: Record<string, unknown>, token?: string) => {
      const r = await t.app.fetch('http://test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ variables, extensions: { persistedQuery: { version: 1, sha256Hash: idOf(name) } } }),
      });
      return (await r.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
    };
    const reg = await send('Register', { input: { email: 'm@example.com', name: 'M', password: 'a-long-password' } });
    expect(reg.errors).toBeUndefined();
    const token = (reg.data!.register as { token: string }).token;
    const dash = await send('Dashboard', {}, token);
    expect(dash.errors).toBeUndefined();
    expect(dash.data?.me).toMatchObject({ name: 'M' });
    expect(Array.isArray(dash.data?.recommendations)).toBe(true);
  });
});
