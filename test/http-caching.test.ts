/**
 * HTTP caching of GraphQL GETs: Cache-Control by what the operation reads and who asks,
 * ETag and 304 on cacheable responses, never a public header for a signed-in caller.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { insertOrders, insertRestaurants, insertUser } from './helpers/fixtures.ts';

let t: TestApp;
let token: string;
beforeAll(async () => {
  t = await createTestApp();
  const restaurants = await insertRestaurants(t.db, 6);
  const userId = await insertUser(t.db, 'cache@example.com');
  await insertOrders(t.db, userId, restaurants, 4);
  await t.embedAll();
  token = await t.tokenFor(userId);
});
afterAll(() => t?.close());

function get(query: string, headers: Record<string, string> = {}) {
  return t.app.fetch(`http://test/graphql?query=${encodeURIComponent(query)}`, {
    headers: { accept: 'application/json', ...headers },
  });
}
const auth = () => ({ authorization: `Bearer ${token}` });
const FEED = '{ restaurants(first: 3) { edges { node { name similar(first: 2) { name } } } } }';

describe('anonymous GET of public restaurant data', () => {
  it('is public for 300 s, with an ETag and Vary: Authorization', async () => {
    const r = await get(FEED);
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('public, max-age=300');
    expect(r.headers.get('etag')).toMatch(/^"[\w-]{43}"$/);
    expect(r.headers.get('vary')).toMatch(/Authorization/i);
  });

  it('answers a matching If-None-Match with 304 and no body, a stale one with 200', async () => {
    const first = await get(FEED);
    const etag = first.headers.get('etag')!;
    const again = await get(FEED, { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('etag')).toBe(etag);
    expect(again.headers.get('cache-control')).toBe('public, max-age=300');
    const stale = await get(FEED, { 'if-none-match': '"something-else"' });
    expect(stale.status).toBe(200);
    expect(((await stale.json()) as { data: unknown }).data).toBeTruthy();
  });

  it('gives the same ETag to the same answer and another to another', async () => {
    const a = (await get(FEED)).headers.get('etag');
    const b = (await get(FEED)).headers.get('etag');
    const c = (await get('{ restaurants(first: 2) { edges { node { name } } } }')).headers.get('etag');
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it('`me` asked anonymously is not public', async () => {
    const r = await get('{ me { name } }');
    expect(r.headers.get('cache-control')).toBe('private, no-store');
    expect(r.headers.get('etag')).toBeNull();
  });
});

describe('signed-in GETs are never public', () => {
  it('public data with a token: private, max-age=300', async () => {
    const r = await get(FEED, auth());
    expect(r.headers.get('cache-control')).toBe('private, max-age=300');
  });

  it('recommendations: private, max-age=600, with ETag and 304', async () => {
    const q = '{ recommendations(first: 3) { score restaurant { name } } chefChoice { restaurant { name } } }';
    const r = await get(q, auth());
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('private, max-age=600');
    const etag = r.headers.get('etag')!;
    expect(etag).toBeTruthy();
    expect((await get(q, { ...auth(), 'if-none-match': etag })).status).toBe(304);
  });

  it('own orders: private, no-store, no ETag', async () => {
    const r = await get('{ me { orders(first: 2) { edges { node { totalAmount } } } } }', auth());
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('private, no-store');
    expect(r.headers.get('etag')).toBeNull();
  });

  it('a fragment that reaches `me` counts as reading it', async () => {
    const r = await get(
      'query { ...Q } fragment Q on Query { restaurants(first: 1) { edges { node { name } } } me { name } }',
      auth(),
    );
    expect(r.headers.get('cache-control')).toBe('private, no-store');
  });
});

describe('never cached', () => {
  it('errors', async () => {
    const r = await get('{ nope }');
    expect(r.headers.get('cache-control')).toBe('no-store');
    const bad = await get('{ node(id: "T3JkZXI6MQ==") { id } }'); // an order, anonymously: NOT_FOUND
    expect(bad.headers.get('cache-control')).toBe('no-store');
    expect(bad.headers.get('etag')).toBeNull();
  });

  it('POST, even of public data', async () => {
    const r = await t.app.fetch('http://test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: FEED }),
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
  });

  it('a mutation over GET (refused)', async () => {
    const r = await get('mutation { clearSimulatedOrders }', auth());
    expect(r.status).toBe(405);
    expect(r.headers.get('cache-control')).toBe('no-store');
  });
});
