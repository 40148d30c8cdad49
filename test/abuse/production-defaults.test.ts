/**
 * What a production process exposes, on real processes and sockets: the public port answers
 * /health with exactly {"status":"ok"} (liveness, also with the database down) and /metrics with
 * 404; memory, load and metrics are served on METRICS_PORT only, and without it no other port
 * is opened (two production processes with different PORTs run side by side). Development keeps
 * /metrics and the detailed /health on the main port. An embedded first start in production
 * seeds the demo catalogue without the demo login and says so.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMAIL, DEMO_PASSWORD } from '../../src/db/demo-account.ts';
import { freePort } from '../../src/db/embedded.ts';
import { TEST_JWT_SECRET } from '../helpers/app.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';
import { startToggleProxy, type ToggleProxy } from '../helpers/toggle-proxy.ts';

/** The TCP ports a process listens on (Linux: its socket fds matched against /proc/net/tcp{,6}). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address (hex ip:port), state 0A = LISTEN, inode in column 10
      if (cols[3] === '0A' && inodes.has(cols[9]!)) ports.push(Number.parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return ports.sort((a, b) => a - b);
}

const port = (g: GatewayProcess) => Number(new URL(g.base).port);

let db: TestDatabase;
let proxy: ToggleProxy;
const gateways: GatewayProcess[] = [];

beforeAll(async () => {
  db = await freshDatabase();
  proxy = await startToggleProxy(db.url);
}, 60_000);
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  await proxy?.close();
  await db?.drop();
}, 30_000);

const start = async (env: NodeJS.ProcessEnv) => {
  const g = await startGateway({ JWT_SECRET: TEST_JWT_SECRET, SEED_ON_FIRST_START: 'false', ...env });
  gateways.push(g);
  return g;
};

describe('production defaults', () => {
  it('without METRICS_PORT: one listener only, /health exactly {"status":"ok"} (database down too), /metrics 404; two side by side', async () => {
    const [a, b] = await Promise.all([
      start({ NODE_ENV: 'production', DATABASE_URL: proxy.url }),
      start({ NODE_ENV: 'production', DATABASE_URL: db.url }),
    ]);
    for (const g of [a!, b!]) {
      expect(listeningPorts(g.child.pid!)).toEqual([port(g)]);
      const health = await fetch(`${g.base}/health`);
      expect(health.status).toBe(200);
      expect(await health.text()).toBe('{"status":"ok"}');
      expect((await fetch(`${g.base}/metrics`)).status).toBe(404);
      // Still a working GraphQL server.
      const r = await fetch(`${g.base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ cuisines }' }),
      });
      expect(r.status).toBe(200);
    }
    // Liveness: the database down changes nothing in /health (readiness says it).
    await proxy.down();
    try {
      const health = await fetch(`${a!.base}/health`);
      expect(health.status).toBe(200);
      expect(await health.text()).toBe('{"status":"ok"}');
      expect((await fetch(`${a!.base}/ready`)).status).toBe(503);
    } finally {
      await proxy.up();
    }
  }, 90_000);

  it('with METRICS_PORT: /metrics and the detailed /health there, neither on the public port', async () => {
    const metricsPort = await freePort();
    const g = await start({ NODE_ENV: 'production', DATABASE_URL: db.url, METRICS_PORT: String(metricsPort) });
    expect(listeningPorts(g.child.pid!)).toEqual([port(g), metricsPort].sort((x, y) => x - y));
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('process_resident_memory_bytes');
    const detailed = await fetch(`http://127.0.0.1:${metricsPort}/health`);
    expect(detailed.status).toBe(200);
    expect(await detailed.json()).toMatchObject({
      status: 'ok',
      memoryMB: { rss: expect.any(Number) },
      load: { state: 'ok' },
    });
    expect((await fetch(`${g.base}/metrics`)).status).toBe(404);
    expect(await (await fetch(`${g.base}/health`)).text()).toBe('{"status":"ok"}');
    // The metrics listener serves nothing else.
    expect((await fetch(`http://127.0.0.1:${metricsPort}/graphql`)).status).toBe(404);
  }, 90_000);

  it('embedded first start in production: the demo catalogue, no account with the published password', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tastematch-prod-embedded-'));
    try {
      const g = await start({ NODE_ENV: 'production', DATA_DIR: dataDir, SEED_ON_FIRST_START: 'true' });
      const out = g.output();
      expect(out).toContain('Demo user:  none');
      expect(out).not.toContain(DEMO_PASSWORD);
      expect(out).not.toContain('Demo token:');
      // No GraphiQL in production: the banner prints no GraphiQL URL.
      expect(out).not.toMatch(/GraphiQL: +http/);
      expect(out).toContain('GraphiQL is off in production');
      const post = (query: string) =>
        fetch(`${g.base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query }),
        }).then(
          (r) => r.json() as Promise<{ data?: Record<string, unknown>; errors?: { extensions?: { code?: string } }[] }>,
        );
      const feed = await post('{ restaurants { totalCount } }');
      expect(feed.data).toMatchObject({ restaurants: { totalCount: expect.any(Number) } });
      expect((feed.data!.restaurants as { totalCount: number }).totalCount).toBeGreaterThan(0);
      const login = await post(
        `mutation { login(input: {email: "${DEMO_EMAIL}", password: "${DEMO_PASSWORD}"}) { token } }`,
      );
      expect(login.data?.login ?? null).toBeNull();
      expect(login.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      await g.stop();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('development keeps /metrics and the detailed /health on the main port', async () => {
    const g = await start({ NODE_ENV: 'development', DATABASE_URL: db.url });
    expect(listeningPorts(g.child.pid!)).toEqual([port(g)]);
    const metrics = await fetch(`${g.base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('process_resident_memory_bytes');
    expect(await (await fetch(`${g.base}/health`)).json()).toMatchObject({
      status: 'ok',
      memoryMB: { rss: expect.any(Number) },
      load: { state: 'ok' },
    });
  }, 90_000);
});
