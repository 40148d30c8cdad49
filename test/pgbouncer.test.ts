/**
 * Behind PgBouncer in transaction mode (Debian's pgbouncer, started here on its own port in
 * front of this file's database): the real gateway process serves queries, nested loaders,
 * mutations and recommendations, and the statement timeout, which PgBouncer will not pass as
 * a startup parameter, still applies because it comes from the role (docs/postgres.md). With
 * DB_PREPARED_STATEMENTS=0, as PgBouncer before 1.21 needs.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/db/embedded.ts';
import { createDb } from '../src/db/pool.ts';
import { createLogger } from '../src/observability/logger.ts';
import { TEST_JWT_SECRET } from './helpers/app.ts';
import { adminSql, freshDatabase, type TestDatabase } from './helpers/db.ts';
import { insertRestaurants } from './helpers/fixtures.ts';
import { type GatewayProcess, startGateway } from './helpers/gateway-process.ts';
import { requireProgram } from './helpers/programs.ts';

const asRoot = process.getuid?.() === 0;
const ROLE = `tm_pgb_${process.pid}`;
const ROLE_PASSWORD = 'pgbouncer-test-password';

/** Resolves once something accepts TCP connections on the port (bounded). */
async function listening(port: number) {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: '127.0.0.1' }, () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

describe.runIf(requireProgram('pgbouncer'))('behind PgBouncer (transaction mode)', () => {
  let db: TestDatabase;
  let dir: string;
  let bouncer: ChildProcess;
  let bouncerLog = '';
  let gateway: GatewayProcess;
  let base: string;
  let bouncerUrl: string;

  beforeAll(async () => {
    db = await freshDatabase();
    await insertRestaurants(db, 20);
    // The gateway's own role, with the timeouts PgBouncer cannot forward.
    await db.sql(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${ROLE_PASSWORD}'`);
    await db.sql(`ALTER ROLE ${ROLE} SET statement_timeout = '1s'`);
    await db.sql(`ALTER ROLE ${ROLE} SET idle_in_transaction_session_timeout = '10s'`);
    await db.sql(`GRANT ALL ON SCHEMA public TO ${ROLE}`);
    await db.sql(`GRANT ALL ON ALL TABLES IN SCHEMA public TO ${ROLE}`);
    await db.sql(`GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ${ROLE}`);

    const target = new URL(db.url);
    const port = await freePort();
    dir = await mkdtemp(join(tmpdir(), 'tm-pgbouncer-'));
    const ini = join(dir, 'pgbouncer.ini');
    writeFileSync(
      ini,
      [
        '[databases]',
        `tm = host=127.0.0.1 port=${target.port} dbname=${target.pathname.slice(1)} user=${ROLE} password=${ROLE_PASSWORD}`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        `unix_socket_dir = ${dir}`,
        'auth_type = any',
        'pool_mode = transaction',
        'default_pool_size = 3',
        'max_client_conn = 100',
        'ignore_startup_parameters = statement_timeout,idle_in_transaction_session_timeout,extra_float_digits',
        `logfile = ${join(dir, 'pgbouncer.log')}`,
        '',
      ].join('\n'),
    );
    if (asRoot) {
      const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      chownSync(dir, uid, gid);
      chownSync(ini, uid, gid);
    }
    // PgBouncer refuses to run as root.
    const [file, args] = asRoot ? ['runuser', ['-u', 'postgres', '--', 'pgbouncer', ini]] : ['pgbouncer', [ini]];
    bouncer = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    bouncer.stdout!.on('data', (d) => (bouncerLog += d));
    bouncer.stderr!.on('data', (d) => (bouncerLog += d));
    await listening(port);
    bouncerUrl = `postgres://${ROLE}@127.0.0.1:${port}/tm`;

    gateway = await startGateway({
      DATABASE_URL: bouncerUrl,
      JWT_SECRET: TEST_JWT_SECRET,
      // Debian 12's PgBouncer is 1.18: no prepared statements in transaction mode (docs/postgres.md).
      DB_PREPARED_STATEMENTS: '0',
    });
    base = gateway.base;
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    for (const child of [bouncer]) {
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    }
    await db?.sql(`DROP OWNED BY ${ROLE}`).catch(() => {});
    await db?.drop();
    // Roles belong to the whole server: drop it too.
    await adminSql(`DROP ROLE IF EXISTS ${ROLE}`);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  const gql = async (query: string, token?: string, variables?: unknown) =>
    (await (
      await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      })
    ).json()) as { data?: Record<string, unknown>; errors?: { message: string }[] };

  it('serves queries, nested loaders and mutations through PgBouncer', async () => {
    const feed = await gql('{ restaurants(first: 5) { totalCount edges { node { id name } } } cuisines }');
    expect(feed.errors).toBeUndefined();
    const restaurants = feed.data!.restaurants as { totalCount: number; edges: { node: { id: string } }[] };
    expect(restaurants.totalCount).toBe(20);

    const reg = await gql(
      'mutation { register(input: { email: "bouncer@example.com", name: "B", password: "through-pgbouncer" }) { token } }',
    );
    expect(reg.errors).toBeUndefined();
    const token = (reg.data!.register as { token: string }).token;
    for (const edge of restaurants.edges.slice(0, 3)) {
      const order = await gql(
        'mutation($input: CreateOrderInput!) { createOrder(input: $input) { id totalAmount } }',
        token,
        {
          input: {
            restaurantId: edge.node.id,
            items: [{ name: 'Dish', quantity: 2, price: 10 }],
            idempotencyKey: edge.node.id,
          },
        },
      );
      expect(order.errors).toBeUndefined();
    }
    const me = await gql(
      '{ me { orders(first: 10) { totalCount edges { node { totalAmount restaurant { name } } } } tasteProfile { totalOrders } } recommendations(first: 3) { restaurant { name } } }',
      token,
    );
    expect(me.errors).toBeUndefined();
    const user = me.data!.me as { orders: { totalCount: number }; tasteProfile: { totalOrders: number } };
    expect(user.orders.totalCount).toBe(3);
    expect(user.tasteProfile.totalOrders).toBe(3);
    expect(gateway.output()).not.toMatch(/unsupported startup parameter|prepared statement/i);
  });

  it("enforces the role's statement timeout (1 s) on the gateway's pool", async () => {
    // Asked for 60 s at startup: PgBouncer drops that parameter, the role's 1 s applies.
    const pool = await createDb(
      {
        url: bouncerUrl,
        poolMax: 2,
        poolTimeoutMs: 5_000,
        statementTimeoutMs: 60_000,
        idleTimeoutMs: 10_000,
        maxConnectionAgeMs: 60_000,
        maxWaiting: 10,
        slowQueryMs: 60_000,
      },
      createLogger('silent'),
    );
    try {
      await expect(pool.any(sql.unsafe`SELECT pg_sleep(3)`)).rejects.toMatchObject({ code: '57014' }); // query_canceled: the statement timeout
      expect(await pool.oneFirst(sql.unsafe`SELECT current_setting('statement_timeout') AS t`)).toBe('1s');
    } finally {
      await pool.end();
    }
  });
});
