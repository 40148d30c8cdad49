/**
 * Bytes on the wire: answers compressed by Accept-Encoding (brotli, gzip) over
 * COMPRESSION_MIN_BYTES, decoded here to the very bytes of the uncompressed answer; `Vary`,
 * an ETag per encoding and 304 on each; Accept-Encoding parsed with q-values; the GraphiQL
 * page compressed and cached by the browser (revalidated with its ETag), with the demo token
 * in the signed-in tabs.
 */
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { negotiateEncoding } from '../../src/http/compression.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { insertRestaurants } from '../helpers/fixtures.ts';

const DEMO_TOKEN = 'demo.token.for-graphiql';
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ app: { demoToken: DEMO_TOKEN } });
  await insertRestaurants(t.db, 30);
});
afterAll(async () => {
  await t?.close();
});

const FEED = '{ restaurants(first: 20) { edges { node { id name description cuisineType rating } } } }';
const SMALL = '{ restaurants(first: 1) { totalCount } }';
const url = (query: string) => `http://test/graphql?query=${encodeURIComponent(query)}`;

async function get(query: string, headers: Record<string, string> = {}) {
  const r = await t.app.fetch(url(query), { headers: { accept: 'application/json', ...headers } });
  return { r, bytes: new Uint8Array(await r.arrayBuffer()) };
}

const decode = (encoding: string | null, bytes: Uint8Array) =>
  encoding === 'br' ? brotliDecompressSync(bytes) : encoding === 'gzip' ? gunzipSync(bytes) : Buffer.from(bytes);

const varyOf = (r: Response) =>
  (r.headers.get('vary') ?? '')
    .split(',')
    .map((v) => v.trim().toLowerCase())
    .filter(Boolean)
    .sort();

describe('Accept-Encoding negotiation', () => {
  const cases: [string | null, string][] = [
    [null, 'identity'],
    ['', 'identity'],
    ['gzip', 'gzip'],
    ['gzip, deflate, br', 'br'],
    ['br;q=0.5, gzip', 'gzip'],
    ['gzip;q=0.8,br;q=0.9', 'br'],
    [' GZIP ; Q=1.0 ', 'gzip'],
    ['x-gzip', 'gzip'],
    ['br;q=0, gzip;q=0', 'identity'],
    ['gzip;q=0, *', 'br'],
    ['*;q=0.1, gzip;q=0.5', 'gzip'],
    ['*;q=0', 'identity'],
    ['identity;q=0', 'identity'],
    ['identity;q=0, gzip', 'gzip'],
    ['deflate, compress', 'identity'],
    ['br;q=1.5, gzip;q=abc', 'identity'],
    ['br;q=0.001', 'br'],
  ];
  for (const [header, expected] of cases) {
    it(`${JSON.stringify(header)} → ${expected}`, () => {
      expect(negotiateEncoding(header)).toBe(expected);
    });
  }
});

describe('GraphQL answers', () => {
  it('a large answer comes back in the accepted encoding, the same bytes once decoded', async () => {
    const plain = await get(FEED);
    expect(plain.r.status).toBe(200);
    expect(plain.r.headers.get('content-encoding')).toBeNull();
    expect(plain.bytes.byteLength).toBeGreaterThan(4096);
    for (const [accept, encoding] of [
      ['br, gzip', 'br'],
      ['gzip;q=1, br;q=0.2', 'gzip'],
    ] as const) {
      const { r, bytes } = await get(FEED, { 'accept-encoding': accept });
      expect(r.headers.get('content-encoding')).toBe(encoding);
      expect(Number(r.headers.get('content-length'))).toBe(bytes.byteLength);
      expect(bytes.byteLength).toBeLessThan(plain.bytes.byteLength / 3);
      expect(decode(encoding, bytes).equals(Buffer.from(plain.bytes))).toBe(true);
    }
  });

  it('POST answers too (gzip), decoded to the JSON', async () => {
    const r = await t.app.fetch('http://test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'accept-encoding': 'gzip' },
      body: JSON.stringify({ query: FEED }),
    });
    expect(r.headers.get('content-encoding')).toBe('gzip');
    expect(r.headers.get('cache-control')).toBe('no-store');
    const body = JSON.parse(gunzipSync(new Uint8Array(await r.arrayBuffer())).toString('utf8'));
    expect(body.data.restaurants.edges).toHaveLength(20);
  });

  it('a stream (text/event-stream) is never held back to be compressed', async () => {
    const r = await t.app.fetch('http://test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'accept-encoding': 'br, gzip' },
      body: JSON.stringify({ query: FEED }),
    });
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // Yoga marks its streams `Content-Encoding: none`.
    expect([null, 'none']).toContain(r.headers.get('content-encoding'));
    expect(await r.text()).toContain('"edges"');
  });

  it('a small answer (under COMPRESSION_MIN_BYTES) is sent as it is', async () => {
    const { r, bytes } = await get(SMALL, { 'accept-encoding': 'br, gzip' });
    expect(r.headers.get('content-encoding')).toBeNull();
    expect(bytes.byteLength).toBeLessThan(1024);
    expect(JSON.parse(Buffer.from(bytes).toString('utf8'))).toEqual({ data: { restaurants: { totalCount: 30 } } });
  });

  it('Vary: Accept-Encoding with Authorization and Origin; an ETag per encoding; 304 on each', async () => {
    const tags = new Map<string, string>();
    for (const accept of ['identity', 'br', 'gzip']) {
      const { r } = await get(FEED, { 'accept-encoding': accept });
      expect(r.headers.get('cache-control')).toBe('public, max-age=300');
      expect(varyOf(r)).toEqual(['accept-encoding', 'authorization', 'origin']);
      tags.set(accept, r.headers.get('etag')!);
    }
    expect(new Set(tags.values()).size).toBe(3);
    expect(tags.get('br')).toBe(tags.get('identity')!.replace(/"$/, '-br"'));
    for (const [accept, etag] of tags) {
      const { r, bytes } = await get(FEED, { 'accept-encoding': accept, 'if-none-match': etag });
      expect([accept, r.status, bytes.byteLength]).toEqual([accept, 304, 0]);
      expect(r.headers.get('etag')).toBe(etag);
      expect(r.headers.get('content-encoding')).toBeNull();
    }
    // Another encoding's validator does not match: the full answer, in the encoding asked for.
    const other = await get(FEED, { 'accept-encoding': 'br', 'if-none-match': tags.get('gzip')! });
    expect(other.r.status).toBe(200);
    expect(other.r.headers.get('content-encoding')).toBe('br');
  });
});

describe('GraphiQL', () => {
  const page = (headers: Record<string, string> = {}) =>
    t.app.fetch('http://test/graphql', { headers: { accept: 'text/html', ...headers } });

  it('is compressed, cacheable by the browser and revalidated with its ETag', async () => {
    const plain = await page();
    const html = await plain.text();
    expect(plain.status).toBe(200);
    expect(html.length).toBeGreaterThan(1_000_000);
    expect(plain.headers.get('cache-control')).toBe('private, no-cache');
    for (const encoding of ['br', 'gzip']) {
      const r = await page({ 'accept-encoding': encoding });
      expect(r.headers.get('content-encoding')).toBe(encoding);
      expect(r.headers.get('cache-control')).toBe('private, no-cache');
      expect(varyOf(r)).toContain('accept-encoding');
      const bytes = new Uint8Array(await r.arrayBuffer());
      expect(bytes.byteLength).toBeLessThan(html.length / 3);
      expect(decode(encoding, bytes).toString('utf8')).toBe(html);
      const etag = r.headers.get('etag')!;
      expect(etag).toMatch(new RegExp(`-${encoding}"$`));
      const again = await page({ 'accept-encoding': encoding, 'if-none-match': etag });
      expect(again.status).toBe(304);
      expect((await again.arrayBuffer()).byteLength).toBe(0);
    }
  }, 30_000);

  it('starts the tabs that need a token with the demo token in their headers', async () => {
    const html = await (await page()).text();
    // The tabs are in the page's options, JSON-encoded: each signed-in tab carries the header.
    const header = JSON.stringify(JSON.stringify({ Authorization: `Bearer ${DEMO_TOKEN}` }, null, 2)).slice(1, -1);
    expect(html.split(header).length - 1).toBe(3);
  });
});
