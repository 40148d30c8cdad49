/** HTTP surface: /health, /ready, CORS, and the database going away and coming back. */
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { insertRestaurants } from './helpers/fixtures.ts';
import { startToggleProxy, type ToggleProxy } from './helpers/toggle-proxy.ts';

let t: TestApp;
let proxy: ToggleProxy;

beforeAll(async () => {
  // The pool connects through a proxy the tests switch off and on.
  t = await createTestApp({
    poolMax: 2,
    poolTimeoutMs: 1_000,
    statementTimeoutMs: 2_000,
    maxWaiting: 10,
    corsOrigins: ['https://app.example'],
    through: async (url) => {
      proxy = await startToggleProxy(url);
      return proxy.url;
    },
  });
  await insertRestaurants(t.db, 5);
});
afterAll(async () => {
  await t?.close();
  await proxy?.close();
});

const query = (q = '{ restaurants(first: 2) { edges { node { name } } } }') =>
  t.app.fetch('http://test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: q }),
  });

describe('health and readiness', () => {
  it('/health answers with memory figures', async () => {
    const r = await t.app.fetch('http://test/health');
    expect(r.status).toBe(200);
    const body = (await r.json()) as { status: string; memoryMB: { rss: number } };
    expect(body.status).toBe('ok');
    expect(body.memoryMB.rss).toBeGreaterThan(0);
  });

  it('/ready is 200 when the database answers and migrations are current', async () => {
    const r = await t.app.fetch('http://test/ready');
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: 'ready', checks: { database: 'ok', migrations: 'current' } });
  });

  it('/ready is 503 when migrations are behind', async () => {
    await t.db.sql(`INSERT INTO schema_migrations (version, name, checksum) VALUES ('9999', 'future', 'x')`);
    const r = await t.app.fetch('http://test/ready');
    expect(r.status).toBe(503);
    expect(((await r.json()) as { checks: { migrations: string } }).checks.migrations).toMatch(/at 9999/);
    await t.db.sql(`DELETE FROM schema_migrations WHERE version = '9999'`);
  });
});

describe('CORS', () => {
  it('allows a configured origin and not another', async () => {
    const ok = await t.app.fetch('http://test/graphql', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await t.app.fetch('http://test/graphql', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
  });
});

describe('the database going away', () => {
  it('fails requests with DATABASE_UNAVAILABLE, keeps /health up, and recovers by itself', async () => {
    expect((await query()).status).toBe(200);
    await proxy.down();

    const failed = await query();
    const body = (await failed.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('DATABASE_UNAVAILABLE');
    expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|at \//);
    expect((await t.app.fetch('http://test/health')).status).toBe(200);
    expect((await t.app.fetch('http://test/ready')).status).toBe(503);

    await proxy.up();
    const recovered = await query();
    const data = (await recovered.json()) as { data: { restaurants: { edges: unknown[] } } };
    expect(data.data.restaurants.edges).toHaveLength(2);
    expect((await t.app.fetch('http://test/ready')).status).toBe(200);
  });

  it('replaces a connection the server terminated', async () => {
    expect((await query()).status).toBe(200);
    await t.db.sql(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> 'tastematch-migrate'`,
    );
    // The first query on a dead connection may fail (cleanly); the pool then opens a new one.
    for (let i = 0; i < 3; i++) {
      const body = (await (await query()).json()) as { data?: unknown; errors?: { extensions: { code: string } }[] };
      if (body.errors) expect(['DATABASE_UNAVAILABLE']).toContain(body.errors[0]!.extensions.code);
    }
    const body = (await (await query()).json()) as { data: { restaurants: { edges: unknown[] } } };
    expect(body.data.restaurants.edges).toHaveLength(2);
  });

  it('refuses queries beyond the wait queue and times out waiting ones, then serves again', async () => {
    // Both connections busy for 1.5 s; 10 requests may wait up to 1 s; 5 more are refused at once.
    const busy = [1, 2].map(() => t.pool.any(sql.unsafe`SELECT pg_sleep(1.5)`));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const responses = await Promise.all(Array.from({ length: 15 }, () => query()));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as {
      errors?: { extensions: { code: string } }[];
    }[];
    expect(bodies.map((b) => b.errors?.[0]?.extensions.code)).toEqual(Array(15).fill('DATABASE_UNAVAILABLE'));
    expect(responses.every((r) => r.status === 503)).toBe(true);
    await Promise.all(busy);
    const body = (await (await query()).json()) as { data: { restaurants: { edges: unknown[] } } };
    expect(body.data.restaurants.edges).toHaveLength(2);
  });
});
