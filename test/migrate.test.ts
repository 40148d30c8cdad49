/** Migrations on a real, empty database: in order, recorded, idempotent, safe when run concurrently. */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listMigrations, migrate } from '../src/db/migrate.ts';
import { adminSql } from './helpers/db.ts';
import { withDatabase } from './helpers/urls.ts';

const adminUrl = inject('adminUrl');
const name = `tm_migrate_${randomBytes(5).toString('hex')}`;
const url = withDatabase(adminUrl, name);
let client: pg.Client;

beforeAll(async () => {
  await adminSql(`CREATE DATABASE ${name}`);
  client = new pg.Client({ connectionString: url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await adminSql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

describe('migrate', () => {
  it('applies every migration exactly once when two processes start at once', async () => {
    const migrations = await listMigrations();
    const [a, b] = await Promise.all([migrate(url), migrate(url)]);
    // One run applied everything, the other found nothing left to do.
    expect([...a.applied, ...b.applied].sort()).toEqual(migrations.map((m) => m.version));
    const { rows } = await client.query('SELECT version, checksum FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    expect(rows.map((r) => r.checksum)).toEqual(migrations.map((m) => m.checksum));
  });

  it('is idempotent', async () => {
    const again = await migrate(url);
    expect(again.applied).toEqual([]);
    expect(again.current).toBe((await listMigrations()).at(-1)!.version);
  });

  it('creates the tables and columns outside tools read (docs/database.md), and the keyset indexes', async () => {
    const { rows: columns } = await client.query(
      `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    const has = (table: string, column: string) =>
      columns.some((c) => c.table_name === table && c.column_name === column);
    for (const c of ['id', 'email', 'name', 'password_hash', 'created_at', 'updated_at'])
      expect(has('users', c)).toBe(true);
    for (const c of ['id', 'name', 'cuisine_type', 'description', 'rating', 'price_range', 'location', 'embedding']) {
      expect(has('restaurants', c)).toBe(true);
    }
    for (const c of [
      'user_id',
      'restaurant_id',
      'order_date',
      'total_amount',
      'items',
      'rating',
      'is_simulation',
      'idempotency_key',
    ]) {
      expect(has('orders', c)).toBe(true);
    }
    for (const c of ['user_id', 'favorite_cuisines', 'price_preference', 'preference_embedding', 'updated_at']) {
      expect(has('user_preferences', c)).toBe(true);
    }
    for (const c of ['user_id', 'restaurant_id', 'similarity_score', 'insight_text', 'generated_at']) {
      expect(has('recommendations', c)).toBe(true);
    }
    // No pgvector on this machine or in the embedded server: real[].
    const embedding = columns.find((c) => c.table_name === 'restaurants' && c.column_name === 'embedding');
    expect(['ARRAY', 'USER-DEFINED']).toContain(embedding.data_type);
    const { rows: indexes } = await client.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'`);
    const defs = indexes.map((i) => i.indexdef as string);
    expect(defs).toContainEqual(expect.stringContaining('orders USING btree (user_id, order_date DESC, id DESC)'));
    expect(defs).toContainEqual(
      expect.stringContaining('orders USING btree (restaurant_id, order_date DESC, id DESC)'),
    );
    expect(defs).toContainEqual(
      expect.stringContaining('restaurants USING btree (cuisine_type, rating DESC, id DESC)'),
    );
    expect(defs).toContainEqual(expect.stringContaining('restaurants USING btree (rating DESC, id DESC)'));
    expect(defs).toContainEqual(expect.stringContaining('restaurants USING btree (name, id)'));
  });

  it('refuses to run when an applied migration changed', async () => {
    await client.query(`UPDATE schema_migrations SET checksum = 'tampered' WHERE version = '0001'`);
    await expect(migrate(url)).rejects.toThrow(/0001_init changed after it was applied/);
    const [first] = await listMigrations();
    await client.query(`UPDATE schema_migrations SET checksum = $1 WHERE version = '0001'`, [first!.checksum]);
  });
});

describe('npm run seed on an empty database', () => {
  const seeded = `tm_seed_${randomBytes(5).toString('hex')}`;
  afterAll(() => adminSql(`DROP DATABASE IF EXISTS ${seeded} WITH (FORCE)`));

  it('applies the migrations first, then seeds', async () => {
    await adminSql(`CREATE DATABASE ${seeded}`);
    const seededUrl = withDatabase(adminUrl, seeded);
    const args = ['--import', 'tsx', 'scripts/seed.ts', '--restaurants', '3', '--users', '2', '--orders', '4'];
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, args, {
        env: { ...process.env, DATABASE_URL: seededUrl, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk.toString();
      });
      child.on('close', (exit) => resolve({ code: exit, stderr: err }));
    });
    expect(code, stderr).toBe(0);
    const c = new pg.Client({ connectionString: seededUrl });
    await c.connect();
    try {
      const versions = await c.query('SELECT version FROM schema_migrations ORDER BY version');
      expect(versions.rows.map((r) => r.version)).toEqual((await listMigrations()).map((m) => m.version));
      const restaurants = await c.query('SELECT count(*)::int AS n FROM restaurants');
      expect(restaurants.rows[0].n).toBe(3);
    } finally {
      await c.end();
    }
  }, 60_000);
});
