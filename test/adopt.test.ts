/**
 * Adopting a database made by the original Python backend: its Alembic schema
 * (test/fixtures/original-backend-schema.sql) with a few hundred rows in its data shapes
 * (JSON-text embeddings and items, bcrypt passwords, duplicate recommendation rows) is
 * migrated in place by `migrate()`; every row is still there, converted, and the real
 * gateway process serves it (an original user signs in with the original password).
 */
import { readFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrate } from '../src/db/migrate.ts';
import { TEST_JWT_SECRET } from './helpers/app.ts';
import { adminSql } from './helpers/db.ts';
import { type GatewayProcess, startGateway } from './helpers/gateway-process.ts';
import { withDatabase } from './helpers/urls.ts';

const adminUrl = inject('adminUrl');
const name = `tm_adopt_${process.pid}_${Date.now()}`;
const url = withDatabase(adminUrl, name);
let db: pg.Client;
const q = async <R extends pg.QueryResultRow>(text: string, values?: unknown[]) =>
  (await db.query<R>(text, values)).rows;
const one = async <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => (await q<R>(text, values))[0]!;

const N = { users: 30, restaurants: 200, orders: 400, preferences: 10, chat: 20 };
const PASSWORD = 'testpassword123';
const before: Record<string, number> = {};

beforeAll(async () => {
  await adminSql(`CREATE DATABASE ${name}`);
  db = new pg.Client({ connectionString: url });
  await db.connect();
  await db.query(readFileSync(new URL('./fixtures/original-backend-schema.sql', import.meta.url), 'utf8'));
  const hash = bcrypt.hashSync(PASSWORD, 4);
  await q(
    `INSERT INTO users (email, name, password_hash, created_at)
     SELECT 'user' || i || '@example.com', CASE WHEN i = 7 THEN NULL ELSE 'User ' || i END, $1,
            now() - i * interval '1 day'
     FROM generate_series(1, $2::int) i`,
    [hash, N.users],
  );
  // JSON-text embeddings of 384 numbers (one restaurant has a malformed 3-number one, one none).
  await q(
    `INSERT INTO restaurants (name, cuisine_type, description, rating, price_range, location, embedding)
     SELECT 'Restaurante ' || i, (ARRAY['Italiana','Japonesa','Brasileira','Mexicana'])[1 + i % 4],
            'Descrição ' || i, round((1 + (i % 40) / 10.0)::numeric, 1),
            (ARRAY['low','medium','high','MEDIUM'])[1 + i % 4], 'Rua ' || i,
            CASE WHEN i = 1 THEN '[0.1, 0.2, 0.3]'
                 WHEN i = 2 THEN NULL
                 ELSE (SELECT json_agg(round(sin(i * 1000 + d)::numeric, 6))::text FROM generate_series(1, 384) d) END
     FROM generate_series(1, $1::int) i`,
    [N.restaurants],
  );
  // Items as JSON text; one order's items are not JSON, one has no total.
  await q(
    `INSERT INTO orders (user_id, restaurant_id, order_date, total_amount, items, rating, is_simulation)
     SELECT 1 + i % $2, 1 + i % $3, now() - i * interval '1 hour' + interval '0.123456 second',
            CASE WHEN i = 5 THEN NULL ELSE 20 + i % 60 END,
            CASE WHEN i = 3 THEN 'Pizza x2 (not json)'
                 ELSE json_build_array(json_build_object('name', 'Pizza Margherita', 'quantity', 1 + i % 3, 'price', 25.5))::text END,
            CASE WHEN i % 3 = 0 THEN NULL ELSE 1 + i % 5 END, i % 10 = 0
     FROM generate_series(1, $1::int) i`,
    [N.orders, N.users, N.restaurants],
  );
  await q(
    `INSERT INTO user_preferences (user_id, preference_embedding, favorite_cuisines)
     SELECT i, (SELECT json_agg(0.05)::text FROM generate_series(1, 384)), '["Italiana", "Japonesa"]'
     FROM generate_series(1, $1::int) i`,
    [N.preferences],
  );
  // The original's bug: a new recommendations row per request, duplicates included.
  await q(
    `INSERT INTO recommendations (user_id, restaurant_id, similarity_score, insight_text, generated_at)
     SELECT 1 + i % 5, 1 + i % 7, 0.5, 'Insight ' || i, now() - i * interval '1 minute'
     FROM generate_series(1, 70) i`,
  );
  await q(
    `INSERT INTO chat_messages (user_id, role, content) SELECT 1, 'user', 'Olá ' || i FROM generate_series(1, $1::int) i`,
    [N.chat],
  );
  for (const table of ['users', 'restaurants', 'orders', 'user_preferences', 'chat_messages']) {
    before[table] = Number((await one<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).n);
  }
  before.pairs = Number(
    (await one<{ n: string }>('SELECT count(DISTINCT (user_id, restaurant_id)) AS n FROM recommendations')).n,
  );
});

afterAll(async () => {
  await db?.end();
  await adminSql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

describe('npm run migrate on the original database', () => {
  let lines: string[];
  it('adopts it, then applies the later migrations', async () => {
    lines = [];
    const result = await migrate(url, (l) => lines.push(l));
    expect(lines.join('\n')).toMatch(/adopting the original TasteMatch database \(Alembic revision 48acbbe5baf4\)/);
    expect(result.applied).toEqual(['0001', '0002', '0003', '0004']);
    const versions = (await q<{ version: string }>('SELECT version FROM schema_migrations ORDER BY 1')).map(
      (r) => r.version,
    );
    expect(versions).toEqual(['0001', '0002', '0003', '0004']);
    // Running it again changes nothing.
    expect((await migrate(url)).applied).toEqual([]);
  });

  it('keeps every row of every table it converts, and leaves the others alone', async () => {
    for (const table of ['users', 'restaurants', 'orders', 'user_preferences', 'chat_messages']) {
      expect(Number((await one<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).n), table).toBe(before[table]);
    }
    // recommendations (the insight cache) keeps one row per pair: the newest.
    expect(Number((await one<{ n: string }>('SELECT count(*) AS n FROM recommendations')).n)).toBe(before.pairs);
    expect(await one('SELECT to_regclass($1)::text AS t', ['llm_metrics'])).toEqual({ t: 'llm_metrics' });
  });

  it('converts the types: bigint identities, jsonb items, real[] embeddings, text[] cuisines', async () => {
    const types = await q<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT table_name, column_name, data_type FROM information_schema.columns
       WHERE (table_name, column_name) IN (('users','id'), ('orders','user_id'), ('orders','items'),
         ('restaurants','embedding'), ('user_preferences','favorite_cuisines'), ('orders','rating'))`,
    );
    const type = (t: string, c: string) => types.find((r) => r.table_name === t && r.column_name === c)?.data_type;
    expect(type('users', 'id')).toBe('bigint');
    expect(type('orders', 'user_id')).toBe('bigint');
    expect(type('orders', 'items')).toBe('jsonb');
    expect(['ARRAY', 'USER-DEFINED']).toContain(type('restaurants', 'embedding'));
    expect(type('user_preferences', 'favorite_cuisines')).toBe('ARRAY');
    expect(type('orders', 'rating')).toBe('smallint');

    const r10 = await one<{ dims: number; first: number }>(
      'SELECT cardinality(embedding::real[]) AS dims, (embedding::real[])[1] AS first FROM restaurants WHERE id = 10',
    );
    expect(r10.dims).toBe(384);
    expect(r10.first).toBeCloseTo(Math.sin(10 * 1000 + 1), 5);
    // Malformed or missing: NULL, re-embedded later by the backfill.
    expect((await q('SELECT id FROM restaurants WHERE embedding IS NULL ORDER BY id')).map((r) => r.id)).toEqual([
      '1',
      '2',
    ]);
    expect((await one<{ p: string }>('SELECT price_range AS p FROM restaurants WHERE id = 3')).p).toBe('medium');

    const o = await one<{ items: unknown; total: string; rating: number | null }>(
      'SELECT items, total_amount AS total, rating FROM orders WHERE id = 4',
    );
    expect(o.items).toEqual([{ name: 'Pizza Margherita', quantity: 2, price: 25.5 }]);
    // The order without a total gets its items' sum (3 × 25.5).
    expect((await one<{ t: string }>('SELECT total_amount AS t FROM orders WHERE id = 5')).t).toBe('76.50');
    // Items that were not JSON: the order keeps `[]`, the text is kept aside.
    expect((await one<{ items: unknown }>('SELECT items FROM orders WHERE id = 3')).items).toEqual([]);
    expect(await q('SELECT order_id, items_text FROM adopted_invalid_items')).toEqual([
      { order_id: '3', items_text: 'Pizza x2 (not json)' },
    ]);
    expect(
      (await one<{ c: string[] }>('SELECT favorite_cuisines AS c FROM user_preferences WHERE user_id = 1')).c,
    ).toEqual(['Italiana', 'Japonesa']);
    expect((await one<{ n: string }>('SELECT name AS n FROM users WHERE id = 7')).n).toBe('user7');
  });

  it('continues ids after the largest one', async () => {
    const { id } = await one<{ id: string }>(
      `INSERT INTO restaurants (name, cuisine_type) VALUES ('New', 'Italiana') RETURNING id`,
    );
    expect(Number(id)).toBe(N.restaurants + 1);
  });
});

describe('the gateway on the adopted database', () => {
  let gateway: GatewayProcess;
  let base: string;
  beforeAll(async () => {
    gateway = await startGateway({ DATABASE_URL: url, JWT_SECRET: TEST_JWT_SECRET });
    base = gateway.base;
  }, 90_000);
  afterAll(() => gateway?.stop());

  type Data = {
    login: { token: string };
    me: { orders: { totalCount: number; edges: { node: { items: { name: string }[] } }[] } };
    recommendations: unknown[];
    restaurants: { totalCount: number };
  };
  const gql = async (query: string, token?: string) =>
    (await (
      await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query }),
      })
    ).json()) as { data?: Data; errors?: unknown[] };

  it('signs in an original user with the original password and serves their orders and recommendations', async () => {
    const login = await gql(
      `mutation { login(input: { email: "user2@example.com", password: "${PASSWORD}" }) { token } }`,
    );
    expect(login.errors).toBeUndefined();
    const token = login.data!.login.token;
    const me = await gql(
      '{ me { name orders(first: 50) { totalCount edges { node { items { name } restaurant { name } } } } } }',
      token,
    );
    expect(me.errors).toBeUndefined();
    expect(me.data!.me.orders.totalCount).toBe(
      Number((await one<{ n: string }>('SELECT count(*) AS n FROM orders WHERE user_id = 2')).n),
    );
    expect(me.data!.me.orders.edges[0]!.node.items[0]!.name).toBe('Pizza Margherita');
    const recs = await gql('{ recommendations(first: 5) { restaurant { name } } }', token);
    expect(recs.errors).toBeUndefined();
    expect(recs.data!.recommendations.length).toBeGreaterThan(0);
    const feed = await gql('{ restaurants(first: 3, cuisine: "Japonesa") { totalCount edges { node { name } } } }');
    expect(feed.data!.restaurants.totalCount).toBe(N.restaurants / 4);
  });
});
