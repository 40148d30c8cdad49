/**
 * The real process, as `npm start` runs it: embedded PostgreSQL in DATA_DIR, first-start
 * seed, the printed credentials, a graceful SIGTERM, and a second start on the same data.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/db/embedded.ts';

let dataDir: string;
const root = new URL('..', import.meta.url).pathname;

type Server = { child: ChildProcess; base: string; stdout: () => string; exited: Promise<number | null> };

async function startServer(): Promise<Server> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  };
  delete env.DATABASE_URL;
  delete env.NODE_ENV;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: root, env });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600 && !/GraphiQL:/.test(out); i++) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!/GraphiQL:/.test(out)) throw new Error(`server did not start:\n${out}`);
  return { child, base, stdout: () => out, exited };
}

async function gql(base: string, query: string, token?: string) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as { data?: Record<string, never>; errors?: unknown[] };
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tastematch-server-'));
});
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('npm start with no DATABASE_URL', () => {
  it('starts the embedded database, seeds demo data, prints credentials and serves', async () => {
    const server = await startServer();
    try {
      const out = server.stdout();
      expect(out).toContain(`GraphiQL:   http://localhost:`);
      expect(out).toMatch(/Demo user: {2}\S+@\S+ \/ \S+/);
      const token = /Demo token: (\S+)/.exec(out)?.[1];
      expect(token).toBeTruthy();
      // The signed-in GraphiQL tabs start with that token in their headers.
      const graphiql = await fetch(`${server.base}/graphql`, { headers: { accept: 'text/html' } });
      expect(await graphiql.text()).toContain(`Bearer ${token}`);

      expect((await fetch(`${server.base}/health`)).status).toBe(200);
      expect((await fetch(`${server.base}/ready`)).status).toBe(200);
      const feed = await gql(server.base, '{ restaurants { totalCount } cuisines }');
      expect(feed.errors).toBeUndefined();
      expect(feed.data).toMatchObject({ restaurants: { totalCount: expect.any(Number) } });
      expect((feed.data as unknown as { restaurants: { totalCount: number } }).restaurants.totalCount).toBeGreaterThan(
        0,
      );
      expect((feed.data as unknown as { cuisines: string[] }).cuisines).toHaveLength(12);
      const me = await gql(
        server.base,
        '{ me { email orders(first: 3) { totalCount edges { node { id } } } } }',
        token,
      );
      expect(me.errors).toBeUndefined();
      expect(me.data).toMatchObject({ me: { orders: { edges: expect.any(Array) } } });
      expect(/Demo user: {2}(\S+)/.exec(out)?.[1]).toBe((me.data as unknown as { me: { email: string } }).me.email);
      // The printed credentials log in (the seeded argon2id hash), over real HTTP.
      const [, email, password] = /Demo user: {2}(\S+) \/ (\S+)/.exec(out)!;
      const login = await gql(
        server.base,
        `mutation { login(input: {email: "${email}", password: "${password}"}) { token user { email } } }`,
      );
      expect(login.errors).toBeUndefined();
      expect(login.data).toMatchObject({ login: { token: expect.any(String), user: { email } } });
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await server.exited).toBe(0);
    // The embedded PostgreSQL was stopped with the gateway.
    expect(existsSync(join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
  });

  it('on SIGTERM finishes the request in flight, then exits 0', async () => {
    const server = await startServer();
    const inFlight = gql(
      server.base,
      '{ restaurants(first: 100, search: "a") { totalCount edges { node { name description } } } }',
    );
    await new Promise((r) => setTimeout(r, 5));
    server.child.kill('SIGTERM');
    const result = await inFlight;
    expect(result.errors).toBeUndefined();
    expect(await server.exited).toBe(0);
    expect(server.stdout()).not.toMatch(/seeding demo data/);
  });
});
