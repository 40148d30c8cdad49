/**
 * clients/persisted-operations.json: fresh, every id the sha256 of its body, every body valid,
 * the anonymous feed callable with no variables, append-only, bad files refused by name.
 * The operations themselves run against a real app in `only` mode.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kind, parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildManifest, MANIFEST_FILE, type Manifest, readSources, serialize } from '../scripts/persisted-build.ts';
import { schema } from '../src/schema/index.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { insertRestaurants } from './helpers/fixtures.ts';

const onDisk = readFileSync(MANIFEST_FILE, 'utf8');
const manifest = JSON.parse(onDisk) as Manifest;
const byName = (name: string) => manifest.operations.find((o) => o.name === name);

describe('the manifest file', () => {
  it('is what persisted:build makes from clients/ (not stale)', () => {
    expect(serialize(buildManifest(readSources(), manifest).manifest)).toBe(onDisk);
  });

  it('has the Apollo shape; each id is the sha256 of its body; each body validates', () => {
    expect(manifest).toMatchObject({ format: 'apollo-persisted-query-manifest', version: 1 });
    for (const op of manifest.operations) {
      expect(op.id).toBe(createHash('sha256').update(op.body).digest('hex'));
      expect(validate(schema, parse(op.body)), op.name).toEqual([]);
    }
  });

  it('holds both clients: the mobile feed, detail, orders, recommendations, mutations, and the web dashboard', () => {
    for (const name of [
      'RestaurantFeed',
      'RestaurantDetail',
      'MyOrders',
      'Recommendations',
      'ChefChoice',
      'CreateOrder',
      'RateOrder',
      'Login',
      'Register',
      'SetTastePreferences',
      'Dashboard',
      'SimulateOrder',
      'ClearSimulatedOrders',
      'OrdersList',
      'WebOnboarding',
    ]) {
      expect(byName(name), name).toBeDefined();
    }
  });

  it('the anonymous feed has only optional variables (callable with none, cacheable by GET)', () => {
    const op = parse(byName('RestaurantFeed')!.body).definitions[0]!;
    if (op.kind !== Kind.OPERATION_DEFINITION) throw new Error('not an operation');
    for (const v of op.variableDefinitions ?? [])
      expect(v.type.kind, v.variable.name.value).not.toBe(Kind.NON_NULL_TYPE);
  });
});

describe('buildManifest', () => {
  const file = (name: string, text: string) => ({ path: `clients/mobile/${name}.graphql`, text });

  it('keeps ids shipped before (append-only)', () => {
    const old = { id: 'a'.repeat(64), name: 'OldFeed', type: 'query' as const, body: 'query OldFeed { cuisines }' };
    const previous: Manifest = { format: 'apollo-persisted-query-manifest', version: 1, operations: [old] };
    const { manifest: built, retained } = buildManifest([file('c', 'query C { cuisines }')], previous);
    expect(built.operations.map((o) => o.name)).toEqual(['C', 'OldFeed']);
    expect(retained).toHaveLength(1);
  });

  it('refuses an invalid file, naming it', () => {
    expect(() => buildManifest([file('broken', 'query Broken { nope }')])).toThrow(
      /clients\/mobile\/broken\.graphql.*nope/,
    );
    expect(() => buildManifest([file('two', 'query A { cuisines } query B { cuisines }')])).toThrow(
      /two\.graphql.*exactly one/,
    );
    expect(() => buildManifest([file('anon', '{ cuisines }')])).toThrow(/anon\.graphql.*name/);
    expect(() => buildManifest([file('syntax', 'query {')])).toThrow(/syntax\.graphql/);
  });

  it('refuses two different operations under one name', () => {
    expect(() => buildManifest([file('a', 'query X { cuisines }'), file('b', 'query X { me { id } }')])).toThrow(
      /another file already has an operation named X/,
    );
  });
});

describe('the clients’ operations, served in PERSISTED_OPERATIONS=only mode', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ app: { persisted: { mode: 'only' } } });
    await insertRestaurants(t.db, 8);
  });
  afterAll(() => t?.close());

  it('runs the feed by id with no variables, by GET, with a public Cache-Control', async () => {
    const r = await t.app.fetch(`http://test/graphql?documentId=${byName('RestaurantFeed')!.id}`, {
      headers: { accept: 'application/json' },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('public, max-age=300');
    const body = (await r.json()) as { data: { restaurants: { edges: unknown[] } } };
    expect(body.data.restaurants.edges).toHaveLength(8);
  });

  it('runs register then the dashboard by id (signed in)', async () => {
    const send = async (name: string, variables: Record<string, unknown>, token?: string) => {
      const r = await t.app.fetch('http://test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({
          variables,
          extensions: { persistedQuery: { version: 1, sha256Hash: byName(name)!.id } },
        }),
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
