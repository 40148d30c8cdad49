/** NODE_ENV=production: no introspection, no field suggestions, no SQL run for either refusal. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let prod: TestApp;
let dev: TestApp;
beforeAll(async () => {
  [prod, dev] = await Promise.all([createTestApp({ production: true }), createTestApp()]);
});
afterAll(async () => {
  await prod?.close();
  await dev?.close();
});

describe('production hardening', () => {
  it('refuses introspection in production, allows it in development', async () => {
    prod.wire.reset();
    const r = await prod.gql('{ __schema { queryType { name } } }');
    expect(r.body.data?.__schema).toBeUndefined();
    expect(r.body.errors?.[0]?.message).toMatch(/introspection/i);
    expect(prod.wire.statements).toHaveLength(0);
    const typeProbe = await prod.gql('{ __type(name: "User") { fields { name } } }');
    expect(JSON.stringify(typeProbe.body)).not.toContain('email');
    const d = await dev.gql<{ __schema: { queryType: { name: string } } }>('{ __schema { queryType { name } } }');
    expect(d.body.data?.__schema.queryType.name).toBe('Query');
  });

  it('hides field suggestions in production only', async () => {
    const query = '{ restaurantz(first: 1) { edges { node { name } } } }';
    const p = await prod.gql(query);
    expect(p.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(p.body.errors?.[0]?.message).not.toMatch(/Did you mean/);
    const d = await dev.gql(query);
    expect(d.body.errors?.[0]?.message).toMatch(/Did you mean "restaurant/);
  });

  it('still serves normal queries in production', async () => {
    const r = await prod.gql<{ cuisines: string[] }>('{ cuisines }');
    expect(r.body.errors).toBeUndefined();
    expect(Array.isArray(r.body.data?.cuisines)).toBe(true);
  });
});
